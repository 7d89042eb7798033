/* The real label volumes in ../shared/data/spine/<series>/labels: sizes,
 * spacing and plane from the data README, and the label values it
 * lists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spinepipe/volume.h"
#include "test_data.h"

typedef struct label_case {
    const char *file;
    size_t dim[3];
    double spacing;
    sp_orientation plane;
    int values[12]; /* labels that must be present; 0-terminated */
} label_case;

static const label_case cases[] = {
    {"spine/ct-abdomen-t11-s1/labels/totalseg.nii.gz", {122, 101, 112}, 3.0,
     SP_ORIENT_AXIAL, {26, 27, 28, 29, 30, 31, 32, 33}},
    {"spine/ct-abdomen-t11-s1/labels/totalseg_vertebrae_body.nii.gz",
     {122, 101, 112}, 3.0, SP_ORIENT_AXIAL, {1, 2}},
    {"spine/ct-lumbar-l2-l4-crop/labels/sub-ct_seg-vert_label-22_msk.nii.gz",
     {73, 73, 47}, 1.5, SP_ORIENT_AXIAL, {21, 22, 23}},
    {"spine/ct-lumbar-l2-l4-crop/labels/sub-ct_seg-subreg_label-22_msk.nii.gz",
     {73, 73, 47}, 1.5, SP_ORIENT_AXIAL, {41, 42, 43, 44, 49, 50}},
    {"spine/mr-cervical-c5-c7-sag-crop/labels/sub-mri_seg-vert_label-6_msk.nii.gz",
     {68, 52, 67}, 1.5, SP_ORIENT_SAGITTAL, {5, 6, 7, 105, 106}},
    {"spine/mr-cervical-c5-c7-sag-crop/labels/sub-mri_seg-subreg_label-6_msk.nii.gz",
     {68, 52, 67}, 1.5, SP_ORIENT_SAGITTAL, {41, 49, 60, 61, 100}},
    {"spine/mr-cervical-t2-sag/labels/t2_seg-manual.nii.gz", {60, 55, 52}, 1.0,
     SP_ORIENT_SAGITTAL, {1}},
    {"spine/mr-cervical-t2-sag/labels/t2_seg-manual_labeled.nii.gz",
     {60, 55, 52}, 1.0, SP_ORIENT_SAGITTAL, {2, 3, 4, 5}},
    {"spine/mr-cervical-t2-axial/labels/sub-unf01_T2w_seg-manual.nii.gz",
     {131, 141, 16}, 1.0, SP_ORIENT_AXIAL, {1}},
};

static void read_label_case(const label_case *c)
{
    char *path = test_data_path(c->file);
    sp_volume v;
    sp_error err;
    if (sp_nifti_read(path, 1, &v, &err) != SP_OK)
        fail_msg("%s", err.message);
    assert_int_equal(v.type, SP_VOXEL_U16);
    for (int a = 0; a < 3; a++) {
        if (v.dim[a] != c->dim[a])
            fail_msg("%s: dim %d is %zu, README says %zu", c->file, a,
                     v.dim[a], c->dim[a]);
        if (fabs(v.spacing[a] - c->spacing) > 1e-4)
            fail_msg("%s: spacing %d is %g, README says %g", c->file, a,
                     v.spacing[a], c->spacing);
    }
    assert_int_equal(sp_volume_orientation(&v), c->plane);
    size_t n = sp_volume_count(&v);
    const uint16_t *u = sp_volume_u16(&v);
    for (int k = 0; k < 12 && c->values[k]; k++) {
        size_t hits = 0;
        for (size_t i = 0; i < n; i++)
            hits += u[i] == c->values[k];
        if (hits == 0)
            fail_msg("%s: label %d absent", c->file, c->values[k]);
    }
    sp_volume_free(&v);
    free(path);
}

static void real_label_volumes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        read_label_case(&cases[i]);
}

/* The vertebra map of the abdomen CT holds exactly T11..S1 and
 * background: no other value may appear. */
static void abdomen_labels_are_exactly_t11_to_s1(void **state)
{
    (void)state;
    char *path = test_data_path("spine/ct-abdomen-t11-s1/labels/totalseg.nii.gz");
    sp_volume v;
    sp_error err;
    assert_int_equal(sp_nifti_read(path, 1, &v, &err), SP_OK);
    const uint16_t *u = sp_volume_u16(&v);
    for (size_t i = 0; i < sp_volume_count(&v); i++)
        if (u[i] != 0 && (u[i] < 26 || u[i] > 33))
            fail_msg("unexpected label %u at %zu", u[i], i);
    sp_volume_free(&v);
    free(path);
}

/* RAS -> LPS: the label grid of the abdomen CT starts at the first DICOM
 * slice's ImagePositionPatient (-185.043671, -311.319, 94.301758) with
 * rows along +x (patient left) and columns along +y (posterior), as in its
 * ImageOrientationPatient 1\0\0\0\1\0 and 3 mm slices to the head. */
static void abdomen_grid_is_in_lps(void **state)
{
    (void)state;
    char *path = test_data_path("spine/ct-abdomen-t11-s1/labels/totalseg.nii.gz");
    sp_volume v;
    sp_error err;
    assert_int_equal(sp_nifti_read(path, 1, &v, &err), SP_OK);
    const double want[3][4] = {{3, 0, 0, -185.043671},
                               {0, 3, 0, -311.319},
                               {0, 0, 3, 94.301758}};
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            if (fabs(v.vox2lps[r][c] - want[r][c]) > 1e-4)
                fail_msg("vox2lps[%d][%d] = %g, DICOM says %g", r, c,
                         v.vox2lps[r][c], want[r][c]);
    sp_volume_free(&v);
    free(path);
}

/* A label file read as an image gives the same numbers as floats. */
static void labels_as_image_agree(void **state)
{
    (void)state;
    char *path = test_data_path(
        "spine/mr-cervical-t2-sag/labels/t2_seg-manual_labeled.nii.gz");
    sp_volume lab, img;
    sp_error err;
    assert_int_equal(sp_nifti_read(path, 1, &lab, &err), SP_OK);
    assert_int_equal(sp_nifti_read(path, 0, &img, &err), SP_OK);
    assert_int_equal(img.type, SP_VOXEL_F32);
    for (size_t i = 0; i < sp_volume_count(&lab); i++)
        assert_true(((uint16_t *)lab.data)[i] == ((float *)img.data)[i]);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            assert_true(lab.vox2lps[r][c] == img.vox2lps[r][c]);
    sp_volume_free(&lab);
    sp_volume_free(&img);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_label_volumes),
        cmocka_unit_test(abdomen_labels_are_exactly_t11_to_s1),
        cmocka_unit_test(abdomen_grid_is_in_lps),
        cmocka_unit_test(labels_as_image_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
