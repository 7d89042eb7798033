/* Headers are read and slices decoded on several threads: the scan (series,
 * slice order, skipped files and their reasons, in walk order) and the
 * loaded voxels must be the same for 1, 2 and 3 threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_data.h"

static sp_dicom_scan *scan_with(const char *path, const char *threads)
{
    setenv("SPINEPIPE_THREADS", threads, 1);
    sp_dicom_scan *scan = NULL;
    sp_error err = {0};
    sp_status st = sp_dicom_scan_path(path, NULL, &scan, &err);
    if (st != SP_OK)
        fail_msg("%s: %s", path, err.message);
    return scan;
}

static void assert_same_scan(const sp_dicom_scan *a, const sp_dicom_scan *b)
{
    assert_int_equal(a->n_series, b->n_series);
    for (size_t s = 0; s < a->n_series; s++) {
        const sp_dicom_series *x = &a->series[s], *y = &b->series[s];
        assert_string_equal(x->header.series_uid, y->header.series_uid);
        assert_int_equal(x->n_slices, y->n_slices);
        for (size_t k = 0; k < x->n_slices; k++) {
            assert_string_equal(x->slices[k].path, y->slices[k].path);
            assert_int_equal(x->slices[k].frame, y->slices[k].frame);
        }
    }
    assert_int_equal(a->n_skipped, b->n_skipped);
    for (size_t i = 0; i < a->n_skipped; i++) {
        assert_string_equal(a->skipped[i].path, b->skipped[i].path);
        assert_string_equal(a->skipped[i].reason, b->skipped[i].reason);
        assert_int_equal(a->skipped[i].code, b->skipped[i].code);
    }
}

static void check_folder(const char *relative, size_t min_series,
                         size_t min_skipped)
{
    char *path = test_data_path(relative);
    sp_dicom_scan *one = scan_with(path, "1");
    sp_dicom_scan *two = scan_with(path, "2");
    sp_dicom_scan *three = scan_with(path, "3");
    assert_true(one->n_series >= min_series);
    assert_true(one->n_skipped >= min_skipped);
    assert_same_scan(one, two);
    assert_same_scan(one, three);
    /* The largest series, loaded with 1 and 3 threads. */
    size_t big = 0;
    for (size_t s = 1; s < one->n_series; s++)
        if (one->series[s].n_slices > one->series[big].n_slices)
            big = s;
    sp_volume v1, v3;
    sp_error err = {0};
    setenv("SPINEPIPE_THREADS", "1", 1);
    assert_int_equal(sp_dicom_load_series(&one->series[big], NULL, &v1, &err),
                     SP_OK);
    setenv("SPINEPIPE_THREADS", "3", 1);
    assert_int_equal(sp_dicom_load_series(&one->series[big], NULL, &v3, &err),
                     SP_OK);
    assert_true(v1.dim[2] > 1);
    size_t bytes = v1.dim[0] * v1.dim[1] * v1.dim[2] * sizeof(float);
    assert_memory_equal(v1.data, v3.data, bytes);
    sp_volume_free(&v1);
    sp_volume_free(&v3);
    sp_dicom_scan_free(one);
    sp_dicom_scan_free(two);
    sp_dicom_scan_free(three);
    unsetenv("SPINEPIPE_THREADS");
    free(path);
}

/* Six series in subfolders, and the non-DICOM files of sources/. */
static void test_spine_folder(void **state)
{
    (void)state;
    check_folder("spine", 6, 1);
}

/* Many odd files: skips interleave with records in walk order. */
static void test_pydicom_files(void **state)
{
    (void)state;
    check_folder("conformance/pydicom_test_files", 2, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spine_folder),
        cmocka_unit_test(test_pydicom_files),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
