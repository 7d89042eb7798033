/* Every spine series in ../shared/data/spine loads on the grid of its
 * label volume (dims, spacing and the full voxel-to-patient matrix from
 * the NIfTI sform), in the plane the data README names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "test_data.h"

typedef struct nifti_grid {
    int16_t dim[8];
    float pixdim[8];
    int16_t sform_code;
    float srow[3][4];
} nifti_grid;

static void read_nifti_grid(const char *relative, nifti_grid *g)
{
    char *path = test_data_path(relative);
    gzFile f = gzopen(path, "rb");
    assert_non_null(f);
    unsigned char h[348];
    assert_int_equal(gzread(f, h, sizeof h), (int)sizeof h);
    gzclose(f);
    int32_t sizeof_hdr;
    memcpy(&sizeof_hdr, h, 4);
    assert_int_equal(sizeof_hdr, 348);
    memcpy(g->dim, h + 40, sizeof g->dim);
    memcpy(g->pixdim, h + 76, sizeof g->pixdim);
    memcpy(&g->sform_code, h + 254, sizeof g->sform_code);
    memcpy(g->srow, h + 280, sizeof g->srow);
    free(path);
}

typedef struct spine_case {
    const char *folder;
    const char *labels;       /* NIfTI on the same grid, or NULL */
    sp_orientation plane;     /* from the data README */
    const char *modality;
    size_t dim[3];            /* only for series without labels */
    double spacing;
} spine_case;

static const spine_case cases[] = {
    {"ct-abdomen-t11-s1", "totalseg.nii.gz", SP_ORIENT_AXIAL, "CT",
     {0, 0, 0}, 0},
    {"ct-lumbar-l2-l4-crop", "sub-ct_seg-vert_label-22_msk.nii.gz",
     SP_ORIENT_AXIAL, "CT", {0, 0, 0}, 0},
    {"mr-cervical-c5-c7-sag-crop", "sub-mri_seg-vert_label-6_msk.nii.gz",
     SP_ORIENT_SAGITTAL, "MR", {0, 0, 0}, 0},
    {"mr-cervical-t2-sag", "t2_seg-manual.nii.gz", SP_ORIENT_SAGITTAL, "MR",
     {0, 0, 0}, 0},
    {"mr-cervical-t2-axial", "sub-unf01_T2w_seg-manual.nii.gz",
     SP_ORIENT_AXIAL, "MR", {0, 0, 0}, 0},
    /* README: 38 sagittal slices of 257x201, 1 mm. */
    {"mr-lumbar-t2-sag", NULL, SP_ORIENT_SAGITTAL, "MR", {257, 201, 38}, 1},
};

static void check_case(const spine_case *c)
{
    char rel[256];
    snprintf(rel, sizeof rel, "spine/%s/dicom", c->folder);
    sp_volume v;
    sp_dicom_scan *scan;
    test_dicom_load_one(rel, &v, &scan);
    const sp_dicom_series *s = &scan->series[0];
    assert_string_equal(s->header.modality, c->modality);
    assert_int_equal(scan->n_skipped, 0);
    assert_int_equal(sp_volume_orientation(&v), c->plane);
    assert_int_equal(
        sp_orientation_from_axes(s->orientation, s->orientation + 3),
        c->plane);
    if (c->labels) {
        snprintf(rel, sizeof rel, "spine/%s/labels/%s", c->folder, c->labels);
        nifti_grid g;
        read_nifti_grid(rel, &g);
        for (int d = 0; d < 3; d++) {
            assert_int_equal(v.dim[d], (size_t)g.dim[d + 1]);
            assert_true(fabs(v.spacing[d] - g.pixdim[d + 1]) < 1e-4);
        }
        assert_true(g.sform_code > 0);
        /* NIfTI is RAS: x and y flip against DICOM's LPS. */
        for (int r = 0; r < 3; r++)
            for (int col = 0; col < 4; col++) {
                double want = (r < 2 ? -1.0 : 1.0) * g.srow[r][col];
                if (fabs(v.vox2lps[r][col] - want) > 2e-3)
                    fail_msg("%s: vox2lps[%d][%d] = %g, labels say %g",
                             c->folder, r, col, v.vox2lps[r][col], want);
            }
    } else {
        for (int d = 0; d < 3; d++) {
            assert_int_equal(v.dim[d], c->dim[d]);
            assert_true(fabs(v.spacing[d] - c->spacing) < 1e-4);
        }
    }
    const float *f = sp_volume_f32(&v);
    float lo = f[0], hi = f[0];
    for (size_t i = 0; i < sp_volume_count(&v); i++) {
        lo = fminf(lo, f[i]);
        hi = fmaxf(hi, f[i]);
    }
    if (!strcmp(c->modality, "CT")) {
        /* Hounsfield units: air/padding near -1000, bone well above 300. */
        assert_true(lo >= -3100 && lo <= -900);
        assert_true(hi > 300);
    } else {
        /* MR signal is scaled by each series' rescale, so only sanity. */
        assert_true(isfinite(lo) && isfinite(hi) && hi > lo);
    }
    sp_volume_free(&v);
    sp_dicom_scan_free(scan);
}

static void spine_series_load_on_their_grids(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
}

/* Header fields as dcmdump shows them; the full-size CT of the data
 * README (140 axial slices of 512x512, 1 mm apart). */
static void header_fields_of_real_series(void **state)
{
    (void)state;
    sp_volume v;
    sp_dicom_scan *scan;
    char *path = test_data_path("conformance/ct-head-phantom-512/dicom");
    sp_error err = {0};
    assert_int_equal(sp_dicom_scan_path(path, NULL, &scan, &err), SP_OK);
    assert_int_equal(scan->n_series, 1);
    assert_int_equal(scan->n_skipped, 1); /* the DICOMDIR */
    assert_int_equal(scan->skipped[0].code, SP_NOTIMAGE);
    const sp_dicom_header *h = &scan->series[0].header;
    assert_string_equal(h->modality, "CT");
    assert_string_equal(h->manufacturer, "Philips");
    assert_string_equal(h->manufacturer_model, "Ingenuity CT");
    assert_string_equal(h->body_part, "BRAIN");
    assert_string_equal(h->series_description, "STD BRAIN 1MM, iDose");
    assert_string_equal(h->protocol_name, "1A TRAUMA/PLAIN HEAD DM /Head");
    assert_string_equal(h->study_date, "20150206");
    assert_string_equal(h->study_id, "2157");
    assert_int_equal(h->series_number, 202);
    assert_true(h->has_window);
    assert_true(h->window_center == 40 && h->window_width == 80);
    assert_int_equal(sp_dicom_load_series(&scan->series[0], NULL, &v, &err),
                     SP_OK);
    assert_true(v.dim[0] == 512 && v.dim[1] == 512 && v.dim[2] == 140);
    assert_true(fabs(v.spacing[2] - 1.0) < 1e-3);
    assert_true(fabs(v.spacing[0] - 0.45) < 0.01);
    assert_int_equal(sp_volume_orientation(&v), SP_ORIENT_AXIAL);
    sp_volume_free(&v);
    sp_dicom_scan_free(scan);
    free(path);

    test_dicom_load_one("conformance/dcm_qa_ts/In/1.dcm", &v, &scan);
    h = &scan->series[0].header;
    assert_string_equal(h->modality, "MR");
    assert_true(h->echo_time_ms == 30 && h->repetition_time_ms == 3000);
    assert_string_equal(h->sequence_name, "*epfid2d1_64");
    assert_string_equal(h->patient_name, "stc_test");
    assert_string_equal(h->patient_id, "crlab");
    sp_volume_free(&v);
    sp_dicom_scan_free(scan);
}

/* The memory budget is checked before allocating. */
static void refuses_volumes_over_budget(void **state)
{
    (void)state;
    char *path = test_data_path("spine/mr-lumbar-t2-sag/dicom");
    sp_dicom_scan *scan;
    sp_error err = {0};
    assert_int_equal(sp_dicom_scan_path(path, NULL, &scan, &err), SP_OK);
    sp_dicom_load_options opt = {.max_bytes = 1 << 20};
    sp_volume v;
    assert_int_equal(sp_dicom_load_series(&scan->series[0], &opt, &v, &err),
                     SP_LIMIT);
    assert_null(v.data);
    assert_non_null(strstr(err.message, "memory budget"));
    sp_dicom_scan_free(scan);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spine_series_load_on_their_grids),
        cmocka_unit_test(header_fields_of_real_series),
        cmocka_unit_test(refuses_volumes_over_budget),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
