/* The direct read of uncompressed pixel data (the scan's recorded offsets,
 * dicom_direct.c) against the DCMTK decode of the same files: every series
 * of ../shared/data/conformance and ../shared/data/spine is loaded both
 * ways (a copy of the series with pixel_bytes 0 on every slice takes the
 * DCMTK path) and must give the same voxels, or fail with the same status.
 * Files changed after the scan go to the DCMTK decode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_data.h"

static sp_dicom_scan *scan_of(const char *path)
{
    sp_dicom_scan *scan = NULL;
    sp_error err = {0};
    if (sp_dicom_scan_path(path, NULL, &scan, &err) != SP_OK)
        fail_msg("%s: %s", path, err.message);
    return scan;
}

/* Load through DCMTK only: the same series with no recorded offsets. */
static sp_status load_dcmtk(const sp_dicom_series *s, sp_volume *vol,
                            sp_error *err)
{
    sp_dicom_series copy = *s;
    copy.slices = malloc(s->n_slices * sizeof *copy.slices);
    assert_non_null(copy.slices);
    memcpy(copy.slices, s->slices, s->n_slices * sizeof *copy.slices);
    for (size_t k = 0; k < s->n_slices; k++)
        copy.slices[k].pixel_bytes = 0;
    sp_status st = sp_dicom_load_series(&copy, NULL, vol, err);
    free(copy.slices);
    return st;
}

static size_t direct_slices(const sp_dicom_series *s)
{
    size_t n = 0;
    for (size_t k = 0; k < s->n_slices; k++)
        n += s->slices[k].pixel_bytes != 0;
    return n;
}

/* Both paths on one series; returns its directly readable slices. */
static size_t compare_series(const sp_dicom_series *s)
{
    sp_volume a, b;
    sp_error ea = {0}, eb = {0};
    sp_status sa = sp_dicom_load_series(s, NULL, &a, &ea);
    sp_status sb = load_dcmtk(s, &b, &eb);
    if (sa != sb)
        fail_msg("%s: direct %s (%s), DCMTK %s (%s)", s->slices[0].path,
                 sp_status_name(sa), ea.message, sp_status_name(sb),
                 eb.message);
    if (sa != SP_OK)
        return 0;
    assert_int_equal(a.type, b.type);
    for (int d = 0; d < 3; d++)
        assert_int_equal(a.dim[d], b.dim[d]);
    size_t bytes = a.dim[0] * a.dim[1] * a.dim[2] * sizeof(float);
    if (memcmp(a.data, b.data, bytes) != 0)
        fail_msg("%s: direct and DCMTK voxels differ", s->slices[0].path);
    assert_memory_equal(a.vox2lps, b.vox2lps, sizeof a.vox2lps);
    sp_volume_free(&a);
    sp_volume_free(&b);
    return direct_slices(s);
}

/* Every series of a folder; returns (series, direct slices, all slices). */
static void compare_folder(const char *relative, size_t *series,
                           size_t *direct, size_t *slices)
{
    char *path = test_data_path(relative);
    sp_dicom_scan *scan = scan_of(path);
    *series = scan->n_series;
    *direct = *slices = 0;
    for (size_t i = 0; i < scan->n_series; i++) {
        *direct += compare_series(&scan->series[i]);
        *slices += scan->series[i].n_slices;
    }
    printf("# %s: %zu series, %zu of %zu slices read directly\n", relative,
           *series, *direct, *slices);
    sp_dicom_scan_free(scan);
    free(path);
}

static void test_conformance(void **state)
{
    (void)state;
    size_t series, direct, slices;
    compare_folder("conformance", &series, &direct, &slices);
    assert_true(series >= 20);
    /* The 140 uncompressed slices of the head CT at least. */
    assert_true(direct >= 140);
    assert_true(direct < slices); /* compressed series take DCMTK's path */
}

static void test_spine(void **state)
{
    (void)state;
    size_t series, direct, slices;
    compare_folder("spine", &series, &direct, &slices);
    assert_true(series >= 6);
    assert_true(direct > 0);
}

/* Every slice of the head CT is located, at the end of its file. */
static void test_head_ct_offsets(void **state)
{
    (void)state;
    char *path = test_data_path("conformance/ct-head-phantom-512/dicom");
    sp_dicom_scan *scan = scan_of(path);
    assert_int_equal(scan->n_series, 1);
    const sp_dicom_series *s = &scan->series[0];
    assert_int_equal(direct_slices(s), s->n_slices);
    for (size_t k = 0; k < s->n_slices; k++) {
        const sp_dicom_slice *sl = &s->slices[k];
        struct stat st;
        assert_int_equal(stat(sl->path, &st), 0);
        assert_int_equal(sl->pixel_bytes, 512u * 512u * 2u);
        assert_int_equal(sl->file_size, (uint64_t)st.st_size);
        assert_true(sl->pixel_offset + sl->pixel_bytes <= sl->file_size);
        assert_true(sl->pixel_offset > 132);
    }
    sp_dicom_scan_free(scan);
    free(path);
}

/* Three head CT slices in a temporary folder, scanned; then one file is
 * replaced by another slice (new contents and mtime) or cut short. The
 * load must give what DCMTK reads from the files as they are now. */
static void test_changed_after_scan(void **state)
{
    (void)state;
    char dir[] = "/tmp/spinepipe-direct-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *src = test_data_path("conformance/ct-head-phantom-512/dicom");
    sp_dicom_scan *all = scan_of(src);
    char names[3][300];
    for (int i = 0; i < 3; i++) {
        snprintf(names[i], sizeof names[i], "%s/%d.dcm", dir, i);
        test_copy_file(all->series[0].slices[60 + i].path, names[i], 0);
    }
    sp_dicom_scan *scan = scan_of(dir);
    assert_int_equal(scan->n_series, 1);
    const sp_dicom_series *s = &scan->series[0];
    assert_int_equal(direct_slices(s), 3);
    sp_volume before, now, ref;
    sp_error err = {0};
    assert_int_equal(sp_dicom_load_series(s, NULL, &before, &err), SP_OK);

    /* Slice 1 replaced by slice 100's file: other samples, later mtime. */
    size_t mid = 0;
    while (strcmp(s->slices[mid].path, names[1]) != 0)
        mid++;
    sleep(1);
    test_copy_file(all->series[0].slices[100].path, names[1], 0);
    assert_int_equal(sp_dicom_load_series(s, NULL, &now, &err), SP_OK);
    assert_int_equal(load_dcmtk(s, &ref, &err), SP_OK);
    size_t plane = 512 * 512 * sizeof(float);
    assert_memory_equal(now.data, ref.data, 3 * plane);
    assert_memory_not_equal((char *)now.data + mid * plane,
                            (char *)before.data + mid * plane, plane);
    sp_volume_free(&now);
    sp_volume_free(&ref);

    /* Cut short: both paths refuse it the same way. */
    assert_int_equal(truncate(names[1], 4000), 0);
    sp_error e1 = {0}, e2 = {0};
    sp_status s1 = sp_dicom_load_series(s, NULL, &now, &e1);
    sp_status s2 = load_dcmtk(s, &ref, &e2);
    assert_int_not_equal(s1, SP_OK);
    assert_int_equal(s1, s2);
    assert_string_equal(e1.message, e2.message);

    sp_volume_free(&before);
    sp_dicom_scan_free(scan);
    sp_dicom_scan_free(all);
    for (int i = 0; i < 3; i++)
        unlink(names[i]);
    rmdir(dir);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance),
        cmocka_unit_test(test_spine),
        cmocka_unit_test(test_head_ct_offsets),
        cmocka_unit_test(test_changed_after_scan),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
