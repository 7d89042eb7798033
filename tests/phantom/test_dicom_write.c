/* sp_dicom_write_series: round trips through our reader (real CT, real
 * oblique MR, an oblique phantom), validity by dcmdump and dcm2niix, and
 * sanitising of hostile header strings in the written bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "phantom/phantom.h"
#include "spinepipe/dicom.h"
#include "test_data.h"

/* Scan `dir`, expect exactly one series, and load it; `slope` gets the
 * first slice's rescale slope when not NULL. */
static void load_series_slope(const char *dir, sp_volume *vol,
                              sp_dicom_header *header, double *slope)
{
    sp_dicom_scan *scan = NULL;
    sp_error err;
    assert_int_equal(sp_dicom_scan_path(dir, NULL, &scan, &err), SP_OK);
    assert_int_equal(scan->n_series, 1);
    assert_int_equal(scan->n_skipped, 0);
    if (header)
        *header = scan->series[0].header;
    if (slope)
        *slope = scan->series[0].slices[0].rescale_slope;
    sp_status st = sp_dicom_load_series(&scan->series[0], NULL, vol, &err);
    if (st != SP_OK)
        fail_msg("%s", err.message);
    sp_dicom_scan_free(scan);
}

static void load_only_series(const char *dir, sp_volume *vol,
                             sp_dicom_header *header)
{
    load_series_slope(dir, vol, header, NULL);
}

static void assert_same_geometry(const sp_volume *a, const sp_volume *b)
{
    for (int d = 0; d < 3; d++)
        assert_int_equal(a->dim[d], b->dim[d]);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            if (fabs(a->vox2lps[r][c] - b->vox2lps[r][c]) > 1e-4)
                fail_msg("vox2lps[%d][%d]: %.8f written, %.8f read", r, c,
                         a->vox2lps[r][c], b->vox2lps[r][c]);
}

/* Largest difference between two F32 volumes on the same grid. */
static double max_abs_diff(const sp_volume *a, const sp_volume *b)
{
    const float *x = sp_volume_f32(a), *y = sp_volume_f32(b);
    double worst = 0;
    for (size_t i = 0; i < sp_volume_count(a); i++)
        worst = fmax(worst, fabs((double)x[i] - (double)y[i]));
    return worst;
}

static double value_range(const sp_volume *v)
{
    const float *x = sp_volume_f32(v);
    double lo = x[0], hi = x[0];
    for (size_t i = 0; i < sp_volume_count(v); i++) {
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    return hi - lo;
}

/* Write a real series, read it back: geometry to 1e-4 mm; values exact
 * when `exact`, else within half the rescale slope that was chosen. */
static void round_trip_real(const char *relative, int exact)
{
    char *src = test_data_path(relative);
    sp_volume orig, back;
    sp_dicom_header h;
    load_only_series(src, &orig, &h);
    char *dir = test_make_temp_dir();
    sp_error err;
    sp_status st = sp_dicom_write_series(&orig, &h, dir, &err);
    if (st != SP_OK)
        fail_msg("%s", err.message);
    sp_dicom_header h2;
    double slope;
    load_series_slope(dir, &back, &h2, &slope);
    assert_same_geometry(&orig, &back);
    double diff = max_abs_diff(&orig, &back);
    double allowed = exact ? 0.0 : slope / 2 + 1e-6 * value_range(&orig);
    print_message("# %s: range %.1f, slope %g, largest difference %g\n",
                  relative, value_range(&orig), slope, diff);
    if (diff > allowed)
        fail_msg("%s: values differ by %g after the round trip (allowed %g)",
                 relative, diff, allowed);
    assert_string_equal(h2.modality, h.modality);
    assert_string_equal(h2.study_uid, h.study_uid);
    assert_string_equal(h2.series_uid, h.series_uid);
    assert_string_equal(h2.patient_id, h.patient_id);
    assert_int_equal(h2.series_number, h.series_number > 0 ? h.series_number : 1);
    sp_volume_free(&orig);
    sp_volume_free(&back);
    test_remove_tree(dir);
    free(dir);
    free(src);
}

/* Real CT in whole HU: slope 1, so values come back exactly. */
static void real_ct_round_trip_is_exact(void **state)
{
    (void)state;
    round_trip_real("spine/ct-abdomen-t11-s1/dicom", 1);
}

/* Real, slightly oblique axial MR with non-integer rescaled values. */
static void real_oblique_mr_round_trip(void **state)
{
    (void)state;
    round_trip_real("spine/mr-cervical-t2-axial/dicom", 0);
}

/* A phantom tilted 31 degrees about L-R, non-integer MR values. */
static void oblique_phantom_round_trip(void **state)
{
    (void)state;
    sp_phantom_params p;
    sp_phantom_defaults(&p, SP_PHANTOM_MR);
    p.plane = SP_PHANTOM_OBLIQUE;
    p.tilt_deg = 31.0;
    p.matrix = 48;
    p.pixel_mm = 2.1;
    p.slices = 9;
    p.slice_mm = 3.3;
    p.center_lps[0] = 1.7;
    sp_volume img, lab;
    sp_error err;
    assert_int_equal(sp_phantom_render(&p, &img, &lab, &err), SP_OK);
    sp_dicom_header h;
    memset(&h, 0, sizeof h);
    strcpy(h.modality, "MR");
    char *dir = test_make_temp_dir();
    assert_int_equal(sp_dicom_write_series(&img, &h, dir, &err), SP_OK);
    sp_volume back;
    sp_dicom_header h2;
    double slope;
    load_series_slope(dir, &back, &h2, &slope);
    assert_same_geometry(&img, &back);
    /* Range about 1000: stored as integers (slope 1), rounding <= 0.5. */
    print_message("# MR phantom range %.1f, rescale slope %g\n",
                  value_range(&img), slope);
    assert_true(slope == 1.0);
    double allowed = 0.5 + 1e-3;
    double diff = max_abs_diff(&img, &back);
    if (diff > allowed)
        fail_msg("values differ by %g (allowed %g)", diff, allowed);
    assert_int_equal(sp_volume_orientation(&back), SP_ORIENT_OBLIQUE);
    /* Empty UIDs were generated and are valid. */
    assert_true(strlen(h2.study_uid) > 4 && strlen(h2.series_uid) > 4);
    assert_string_not_equal(h2.study_uid, h2.series_uid);
    sp_volume_free(&img);
    sp_volume_free(&lab);
    sp_volume_free(&back);
    test_remove_tree(dir);
    free(dir);
}

/* Values in [-0.3, 0.7]: spread over the 16-bit range, not rounded away. */
static void narrow_range_uses_fine_slope(void **state)
{
    (void)state;
    sp_volume v;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 17, 9, 3, &err), SP_OK);
    float *f = sp_volume_f32(&v);
    for (size_t i = 0; i < sp_volume_count(&v); i++)
        f[i] = (float)(sin((double)i) * 0.5 + 0.2);
    sp_dicom_header h;
    memset(&h, 0, sizeof h);
    strcpy(h.modality, "MR");
    char *dir = test_make_temp_dir();
    assert_int_equal(sp_dicom_write_series(&v, &h, dir, &err), SP_OK);
    sp_volume back;
    double slope;
    load_series_slope(dir, &back, NULL, &slope);
    double range = value_range(&v);
    assert_true(fabs(slope - range / 65534) < 1e-9);
    assert_true(max_abs_diff(&v, &back) <= slope / 2 + 1e-7);
    sp_volume_free(&v);
    sp_volume_free(&back);
    test_remove_tree(dir);
    free(dir);
}

static int run(const char *cmd, char *out, size_t cap)
{
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    return pclose(f);
}

/* The reference tools accept what we write. */
static void dcmdump_and_dcm2niix_accept_output(void **state)
{
    (void)state;
    sp_phantom_params p;
    sp_phantom_defaults(&p, SP_PHANTOM_CT);
    p.matrix = 40;
    p.pixel_mm = 4;
    p.slices = 5;
    p.slice_mm = 5;
    sp_volume img, lab;
    sp_error err;
    assert_int_equal(sp_phantom_render(&p, &img, &lab, &err), SP_OK);
    sp_dicom_header h;
    memset(&h, 0, sizeof h);
    strcpy(h.modality, "CT");
    strcpy(h.patient_name, "DOE^JANE");
    h.has_window = 1;
    h.window_center = 40;
    h.window_width = 400;
    char *dir = test_make_temp_dir();
    assert_int_equal(sp_dicom_write_series(&img, &h, dir, &err), SP_OK);
    static char out[1 << 16];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "dcmdump -E '%s/IMG00003.dcm' 2>&1", dir);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "=CTImageStorage"));
    assert_non_null(strstr(out, "Little Endian Explicit"));
    assert_non_null(strstr(out, "[DOE^JANE]"));
    assert_non_null(strstr(out, "(0020,0013) IS [3]"));
    assert_non_null(strstr(out, "(0028,1052) DS [-1024]"));
    assert_non_null(strstr(out, "(0028,1050) DS [40]"));
    assert_null(strstr(out, "W: "));
    assert_null(strstr(out, "E: "));
    snprintf(cmd, sizeof cmd,
             "dcm2niix -z n -f conv -o '%s' '%s' 2>&1 && ls '%s/conv.nii'",
             dir, dir, dir);
    int rc = run(cmd, out, sizeof out);
    if (rc != 0)
        fail_msg("dcm2niix failed: %s", out);
    assert_non_null(strstr(out, "Convert 5 DICOM"));
    sp_volume_free(&img);
    sp_volume_free(&lab);
    test_remove_tree(dir);
    free(dir);
}

/* Value bytes of an element in an explicit VR little endian file with a
 * short (2-byte) length; NULL when absent. */
static unsigned char *raw_element(const unsigned char *file, size_t n,
                                  uint16_t group, uint16_t elem,
                                  size_t *len)
{
    unsigned char tag[4] = {(unsigned char)group, (unsigned char)(group >> 8),
                            (unsigned char)elem, (unsigned char)(elem >> 8)};
    for (size_t i = 132; i + 8 <= n; i++) {
        if (memcmp(file + i, tag, 4) != 0)
            continue;
        *len = (size_t)file[i + 6] | (size_t)file[i + 7] << 8;
        if (i + 8 + *len > n)
            return NULL;
        return (unsigned char *)file + i + 8;
    }
    return NULL;
}

static void assert_clean_element(const unsigned char *file, size_t n,
                                 uint16_t group, uint16_t elem,
                                 size_t max_len)
{
    size_t len = 0;
    const unsigned char *v = raw_element(file, n, group, elem, &len);
    if (!v)
        fail_msg("(%04x,%04x) missing", group, elem);
    if (len > max_len + 1)
        fail_msg("(%04x,%04x) is %zu bytes, more than %zu", group, elem, len,
                 max_len);
    for (size_t i = 0; i < len; i++)
        if (v[i] < 0x20 || v[i] >= 0x7f || v[i] == '\\')
            fail_msg("(%04x,%04x) byte %zu is 0x%02x", group, elem, i, v[i]);
}

static void hostile_header_strings_are_sanitised(void **state)
{
    (void)state;
    sp_volume v;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 8, 6, 2, &err), SP_OK);
    float *f = sp_volume_f32(&v);
    for (size_t i = 0; i < sp_volume_count(&v); i++)
        f[i] = (float)i * 3.0f - 20.0f;
    sp_dicom_header h;
    memset(&h, 0, sizeof h);
    strcpy(h.modality, "MR");
    memset(h.patient_name, 'N', sizeof h.patient_name - 1);
    memcpy(h.patient_name, "\x1b[31mEvil\\Name\n\t", 16);
    strcpy(h.patient_id, "id\r\n\x7f\xff");
    strcpy(h.study_description, "desc\\with\\backslashes\x01");
    memset(h.series_description, 'S', sizeof h.series_description - 1);
    strcpy(h.body_part, "l-spine;\x1b");
    strcpy(h.study_date, "2024-01-01");
    strcpy(h.study_uid, "1.2.3.not a uid");
    strcpy(h.series_uid, "01.2");
    strcpy(h.sequence_name, "SE\nIR");
    char *dir = test_make_temp_dir();
    assert_int_equal(sp_dicom_write_series(&v, &h, dir, &err), SP_OK);

    char path[4096];
    snprintf(path, sizeof path, "%s/IMG00001.dcm", dir);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static unsigned char file[1 << 16];
    size_t n = fread(file, 1, sizeof file, fp);
    fclose(fp);
    assert_clean_element(file, n, 0x0010, 0x0010, 64);  /* PatientName */
    assert_clean_element(file, n, 0x0010, 0x0020, 64);  /* PatientID */
    assert_clean_element(file, n, 0x0008, 0x1030, 64);  /* StudyDescription */
    assert_clean_element(file, n, 0x0008, 0x103e, 64);  /* SeriesDescription */
    assert_clean_element(file, n, 0x0018, 0x0015, 16);  /* BodyPartExamined */
    assert_clean_element(file, n, 0x0018, 0x0024, 16);  /* SequenceName */
    size_t len;
    unsigned char *date = raw_element(file, n, 0x0008, 0x0020, &len);
    assert_non_null(date);
    assert_int_equal(len, 0); /* not a DA value: left empty */
    unsigned char *bp = raw_element(file, n, 0x0018, 0x0015, &len);
    assert_memory_equal(bp, "L_SPINE__", 9);

    sp_volume back;
    sp_dicom_header h2;
    load_only_series(dir, &back, &h2);
    /* Invalid UIDs were replaced by generated ones. */
    assert_string_not_equal(h2.study_uid, h.study_uid);
    assert_string_not_equal(h2.series_uid, h.series_uid);
    assert_true(strspn(h2.study_uid, "0123456789.") == strlen(h2.study_uid));
    assert_non_null(strstr(h2.patient_name, "?[31mEvil?Name??"));
    assert_true(max_abs_diff(&v, &back) < 1e-3);
    sp_volume_free(&v);
    sp_volume_free(&back);
    test_remove_tree(dir);
    free(dir);
}

static void refuses_bad_input(void **state)
{
    (void)state;
    sp_volume v;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 4, 4, 2, &err), SP_OK);
    sp_dicom_header h;
    memset(&h, 0, sizeof h);
    strcpy(h.modality, "US");
    char *dir = test_make_temp_dir();
    assert_int_equal(sp_dicom_write_series(&v, &h, dir, &err), SP_UNSUPPORTED);
    assert_non_null(strstr(err.message, "US"));
    strcpy(h.modality, "CT");
    sp_volume_f32(&v)[5] = NAN;
    assert_int_equal(sp_dicom_write_series(&v, &h, dir, &err), SP_FORMAT);
    assert_non_null(strstr(err.message, "voxel 5"));
    sp_volume_f32(&v)[5] = 0;
    double skew[4][4] = {{1, 0.5, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
    sp_volume_set_geometry(&v, skew);
    assert_int_equal(sp_dicom_write_series(&v, &h, dir, &err), SP_GEOMETRY);
    char file_dir[4200];
    snprintf(file_dir, sizeof file_dir, "%s/file", dir);
    FILE *fp = fopen(file_dir, "w");
    assert_non_null(fp);
    fclose(fp);
    strcat(file_dir, "/sub");
    double id[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
    sp_volume_set_geometry(&v, id);
    assert_int_equal(sp_dicom_write_series(&v, &h, file_dir, &err),
                     SP_CANTCREATE);
    sp_volume_free(&v);
    test_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_ct_round_trip_is_exact),
        cmocka_unit_test(real_oblique_mr_round_trip),
        cmocka_unit_test(oblique_phantom_round_trip),
        cmocka_unit_test(narrow_range_uses_fine_slope),
        cmocka_unit_test(dcmdump_and_dcm2niix_accept_output),
        cmocka_unit_test(hostile_header_strings_are_sanitised),
        cmocka_unit_test(refuses_bad_input),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
