/* Headers are read and slices decoded on several threads: the scan (every
 * field of the series, their slices, transfer syntaxes and warnings, the
 * skipped files and their reasons, in walk order) and the loaded voxels
 * must be the same for 1, 2 and 3 threads. */
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

/* Strings by content, numbers bit for bit. */
#define SAME_STR(a, b, f) assert_string_equal((a)->f, (b)->f)
#define SAME_NUM(a, b, f) assert_memory_equal(&(a)->f, &(b)->f, sizeof (a)->f)

static void assert_same_header(const sp_dicom_header *a,
                               const sp_dicom_header *b)
{
    SAME_STR(a, b, modality);
    SAME_STR(a, b, sop_class_uid);
    SAME_STR(a, b, patient_id);
    SAME_STR(a, b, patient_name);
    SAME_STR(a, b, study_uid);
    SAME_STR(a, b, study_id);
    SAME_STR(a, b, study_date);
    SAME_STR(a, b, study_description);
    SAME_STR(a, b, series_uid);
    SAME_STR(a, b, series_description);
    SAME_NUM(a, b, series_number);
    SAME_STR(a, b, frame_of_reference_uid);
    SAME_STR(a, b, body_part);
    SAME_STR(a, b, manufacturer);
    SAME_STR(a, b, manufacturer_model);
    SAME_STR(a, b, protocol_name);
    SAME_STR(a, b, sequence_name);
    SAME_NUM(a, b, echo_time_ms);
    SAME_NUM(a, b, repetition_time_ms);
    SAME_NUM(a, b, window_center);
    SAME_NUM(a, b, window_width);
    SAME_NUM(a, b, has_window);
}

static void assert_same_slice(const sp_dicom_slice *a, const sp_dicom_slice *b)
{
    SAME_STR(a, b, path);
    SAME_NUM(a, b, frame);
    SAME_NUM(a, b, position);
    SAME_NUM(a, b, along_normal);
    SAME_NUM(a, b, rescale_slope);
    SAME_NUM(a, b, rescale_intercept);
    SAME_NUM(a, b, pixel_offset);
    SAME_NUM(a, b, pixel_bytes);
    SAME_NUM(a, b, file_size);
    SAME_NUM(a, b, file_mtime_ns);
    SAME_NUM(a, b, bits_stored);
    SAME_NUM(a, b, high_bit);
    SAME_NUM(a, b, pixel_signed);
}

/* Every field of every series, slice, warning and skipped file. */
static void assert_same_scan(const sp_dicom_scan *a, const sp_dicom_scan *b)
{
    assert_int_equal(a->n_series, b->n_series);
    for (size_t s = 0; s < a->n_series; s++) {
        const sp_dicom_series *x = &a->series[s], *y = &b->series[s];
        assert_same_header(&x->header, &y->header);
        SAME_NUM(x, y, part);
        SAME_NUM(x, y, rows);
        SAME_NUM(x, y, columns);
        SAME_NUM(x, y, bits_allocated);
        SAME_NUM(x, y, samples_per_pixel);
        SAME_NUM(x, y, pixel_spacing);
        SAME_NUM(x, y, orientation);
        SAME_NUM(x, y, slice_normal);
        SAME_NUM(x, y, slice_spacing);
        SAME_NUM(x, y, gantry_tilt_deg);
        assert_int_equal(x->n_slices, y->n_slices);
        for (size_t k = 0; k < x->n_slices; k++)
            assert_same_slice(&x->slices[k], &y->slices[k]);
        assert_int_equal(x->n_transfer_syntaxes, y->n_transfer_syntaxes);
        for (size_t t = 0; t < x->n_transfer_syntaxes; t++)
            assert_string_equal(x->transfer_syntaxes[t],
                                y->transfer_syntaxes[t]);
        assert_int_equal(x->n_warnings, y->n_warnings);
        for (size_t w = 0; w < x->n_warnings; w++)
            assert_string_equal(x->warnings[w], y->warnings[w]);
    }
    assert_int_equal(a->n_skipped, b->n_skipped);
    for (size_t i = 0; i < a->n_skipped; i++) {
        assert_string_equal(a->skipped[i].path, b->skipped[i].path);
        assert_string_equal(a->skipped[i].reason, b->skipped[i].reason);
        assert_int_equal(a->skipped[i].code, b->skipped[i].code);
    }
}

/* The largest series of `scan`, loaded with 1 and 3 threads: the same
 * voxels. */
static void assert_same_load(const sp_dicom_scan *scan)
{
    size_t big = 0;
    for (size_t s = 1; s < scan->n_series; s++)
        if (scan->series[s].n_slices > scan->series[big].n_slices)
            big = s;
    sp_volume v1, v3;
    sp_error err = {0};
    setenv("SPINEPIPE_THREADS", "1", 1);
    assert_int_equal(sp_dicom_load_series(&scan->series[big], NULL, &v1, &err),
                     SP_OK);
    setenv("SPINEPIPE_THREADS", "3", 1);
    assert_int_equal(sp_dicom_load_series(&scan->series[big], NULL, &v3, &err),
                     SP_OK);
    assert_true(v1.dim[2] > 1);
    size_t bytes = v1.dim[0] * v1.dim[1] * v1.dim[2] * sizeof(float);
    assert_memory_equal(v1.data, v3.data, bytes);
    sp_volume_free(&v1);
    sp_volume_free(&v3);
}

/* `load`: also assert_same_load. */
static void check_folder(const char *relative, size_t min_series,
                         size_t min_skipped, int load)
{
    char *path = test_data_path(relative);
    sp_dicom_scan *one = scan_with(path, "1");
    sp_dicom_scan *two = scan_with(path, "2");
    sp_dicom_scan *three = scan_with(path, "3");
    assert_true(one->n_series >= min_series);
    assert_true(one->n_skipped >= min_skipped);
    assert_same_scan(one, two);
    assert_same_scan(one, three);
    if (load)
        assert_same_load(one);
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
    check_folder("spine", 6, 1, 1);
}

/* The 140-slice head CT and its DICOMDIR (skipped): every header from
 * the pre-scan's walk. */
static void test_head_ct_folder(void **state)
{
    (void)state;
    check_folder("conformance/ct-head-phantom-512/dicom", 1, 1, 1);
}

/* Nine one-slice series in seven transfer syntaxes: headers parsed by the
 * DCMTK module (nothing to split over threads when loading). */
static void test_transfer_syntaxes(void **state)
{
    (void)state;
    check_folder("conformance/dcm_qa_ts/In", 9, 0, 0);
}

/* Many odd files: skips interleave with records in walk order. */
static void test_pydicom_files(void **state)
{
    (void)state;
    check_folder("conformance/pydicom_test_files", 2, 10, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spine_folder),
        cmocka_unit_test(test_pydicom_files),
        cmocka_unit_test(test_head_ct_folder),
        cmocka_unit_test(test_transfer_syntaxes),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
