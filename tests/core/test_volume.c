#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "spinepipe/volume.h"

static void alloc_zeroes_and_sets_identity(void **state)
{
    (void)state;
    sp_volume v;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 4, 3, 2, &err), SP_OK);
    assert_int_equal(sp_volume_count(&v), 24);
    float *f = sp_volume_f32(&v);
    assert_non_null(f);
    assert_null(sp_volume_u8(&v));
    for (size_t i = 0; i < 24; i++)
        assert_true(f[i] == 0.0f);
    assert_int_equal(sp_volume_index(&v, 1, 2, 1), 1 + 4 * (2 + 3 * 1));
    assert_true(v.spacing[0] == 1.0 && v.spacing[2] == 1.0);
    sp_volume_free(&v);
    assert_null(v.data);
    sp_volume_free(&v); /* second free is a no-op */
}

static void alloc_refuses_empty_and_overflowing_sizes(void **state)
{
    (void)state;
    sp_volume v;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_U8, 0, 3, 2, &err),
                     SP_FORMAT);
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, SIZE_MAX / 2, 3, 2,
                                     &err),
                     SP_LIMIT);
    assert_non_null(strstr(err.message, "too large"));
}

/* A sagittal grid with anisotropic spacing: i runs to posterior (0.5 mm),
 * j to feet (0.7 mm), k to patient left (3 mm). */
static void sagittal_geometry(sp_volume *v)
{
    double m[4][4] = {{0, 0, 3.0, -40},
                      {0.5, 0, 0, -100},
                      {0, -0.7, 0, 200},
                      {0, 0, 0, 1}};
    sp_volume_set_geometry(v, m);
}

static void voxel_patient_round_trip(void **state)
{
    (void)state;
    sp_volume v;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_U16, 10, 20, 5, NULL),
                     SP_OK);
    sagittal_geometry(&v);
    assert_true(fabs(v.spacing[0] - 0.5) < 1e-12);
    assert_true(fabs(v.spacing[1] - 0.7) < 1e-12);
    assert_true(fabs(v.spacing[2] - 3.0) < 1e-12);
    double ijk[3] = {2.5, 7, 3}, lps[3], back[3];
    sp_volume_voxel_to_patient(&v, ijk, lps);
    assert_true(fabs(lps[0] - (-40 + 9)) < 1e-9);
    assert_true(fabs(lps[1] - (-100 + 1.25)) < 1e-9);
    assert_true(fabs(lps[2] - (200 - 4.9)) < 1e-9);
    assert_int_equal(sp_volume_patient_to_voxel(&v, lps, back), SP_OK);
    for (int a = 0; a < 3; a++)
        assert_true(fabs(back[a] - ijk[a]) < 1e-9);
    assert_int_equal(sp_volume_orientation(&v), SP_ORIENT_SAGITTAL);
    sp_volume_free(&v);
}

static void orientation_names(void **state)
{
    (void)state;
    sp_volume v;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_U8, 2, 2, 2, NULL), SP_OK);
    assert_int_equal(sp_volume_orientation(&v), SP_ORIENT_AXIAL);
    double coronal[4][4] = {{1, 0, 0, 0}, {0, 0, 1, 0}, {0, -1, 0, 0},
                            {0, 0, 0, 1}};
    sp_volume_set_geometry(&v, coronal);
    assert_int_equal(sp_volume_orientation(&v), SP_ORIENT_CORONAL);
    double c = cos(0.7), s = sin(0.7); /* 40 degrees about L/R */
    double oblique[4][4] = {{1, 0, 0, 0}, {0, c, -s, 0}, {0, s, c, 0},
                            {0, 0, 0, 1}};
    sp_volume_set_geometry(&v, oblique);
    assert_int_equal(sp_volume_orientation(&v), SP_ORIENT_OBLIQUE);
    assert_string_equal(sp_orientation_name(SP_ORIENT_OBLIQUE), "oblique");
    double singular[4][4] = {{0}};
    sp_volume_set_geometry(&v, singular);
    double lps[3] = {1, 2, 3}, ijk[3];
    assert_int_equal(sp_volume_patient_to_voxel(&v, lps, ijk), SP_GEOMETRY);
    sp_volume_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alloc_zeroes_and_sets_identity),
        cmocka_unit_test(alloc_refuses_empty_and_overflowing_sizes),
        cmocka_unit_test(voxel_patient_round_trip),
        cmocka_unit_test(orientation_names),
    };
    return cmocka_run_group_tests_name("volume", tests, NULL, NULL);
}
