/* Resampling against analytic results: a linear ramp stays exactly
 * linear, geometry maps the same patient points, labels keep their values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "resample_kernel.h"

static void oblique_grid(sp_volume *v)
{
    double c = cos(0.3), s = sin(0.3);
    double m[4][4] = {{0.7 * c, -0.7 * s, 0, 10},
                      {0.7 * s, 0.7 * c, 0, -20},
                      {0, 0, 3.0, 30},
                      {0, 0, 0, 1}};
    sp_volume_set_geometry(v, m);
}

static void linear_ramp_is_reproduced_in_patient_space(void **state)
{
    (void)state;
    sp_volume src, dst;
    assert_int_equal(sp_volume_alloc(&src, SP_VOXEL_F32, 30, 20, 10, NULL),
                     SP_OK);
    oblique_grid(&src);
    /* value = linear function of patient position */
    for (size_t k = 0; k < 10; k++)
        for (size_t j = 0; j < 20; j++)
            for (size_t i = 0; i < 30; i++) {
                double ijk[3] = {i, j, k}, p[3];
                sp_volume_voxel_to_patient(&src, ijk, p);
                sp_volume_f32(&src)[sp_volume_index(&src, i, j, k)] =
                    (float)(2 * p[0] - p[1] + 0.5 * p[2]);
            }
    double iso[3] = {1.0, 1.0, 1.0};
    assert_int_equal(resample_alloc_grid(&src, iso, &dst, NULL), SP_OK);
    assert_int_equal(dst.dim[0], 21); /* 29 * 0.7 = 20.3 mm */
    assert_int_equal(dst.dim[1], 14); /* 19 * 0.7 = 13.3 mm */
    assert_int_equal(dst.dim[2], 28); /* 9 * 3 = 27 mm */
    resample_fill(&src, &dst, RESAMPLE_LINEAR, 0, dst.dim[2]);
    for (size_t k = 0; k < dst.dim[2]; k++)
        for (size_t j = 0; j < dst.dim[1]; j++)
            for (size_t i = 0; i < dst.dim[0]; i++) {
                double ijk[3] = {i, j, k}, p[3];
                sp_volume_voxel_to_patient(&dst, ijk, p);
                double want = 2 * p[0] - p[1] + 0.5 * p[2];
                float got = sp_volume_f32(&dst)[sp_volume_index(&dst, i, j, k)];
                assert_true(fabs(got - want) < 1e-3);
            }
    assert_true(fabs(dst.spacing[0] - 1.0) < 1e-12);
    sp_volume_free(&src);
    sp_volume_free(&dst);
}

static void nearest_keeps_label_values(void **state)
{
    (void)state;
    sp_volume src, dst;
    assert_int_equal(sp_volume_alloc(&src, SP_VOXEL_U16, 8, 8, 4, NULL),
                     SP_OK);
    for (size_t n = 0; n < sp_volume_count(&src); n++)
        sp_volume_u16(&src)[n] = (uint16_t)(n % 3 == 0 ? 123 : 201);
    double fine[3] = {0.5, 0.5, 0.25};
    assert_int_equal(resample_alloc_grid(&src, fine, &dst, NULL), SP_OK);
    assert_int_equal(dst.type, SP_VOXEL_U16);
    resample_fill(&src, &dst, RESAMPLE_NEAREST, 0, dst.dim[2]);
    for (size_t n = 0; n < sp_volume_count(&dst); n++) {
        uint16_t v = sp_volume_u16(&dst)[n];
        assert_true(v == 123 || v == 201);
    }
    /* Even output indices land exactly on source voxels. */
    assert_int_equal(sp_volume_u16(&dst)[sp_volume_index(&dst, 4, 2, 8)],
                     sp_volume_u16(&src)[sp_volume_index(&src, 2, 1, 2)]);
    sp_volume_free(&src);
    sp_volume_free(&dst);
}

static void bad_spacing_is_refused(void **state)
{
    (void)state;
    sp_volume src, dst;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&src, SP_VOXEL_F32, 4, 4, 4, NULL),
                     SP_OK);
    double zero[3] = {1, 0, 1};
    assert_int_equal(resample_alloc_grid(&src, zero, &dst, &err), SP_CONFIG);
    double tiny[3] = {1e-6, 1, 1};
    assert_int_equal(resample_alloc_grid(&src, tiny, &dst, &err), SP_LIMIT);
    double nan3[3] = {NAN, 1, 1};
    assert_int_equal(resample_alloc_grid(&src, nan3, &dst, &err), SP_CONFIG);
    sp_volume_free(&src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linear_ramp_is_reproduced_in_patient_space),
        cmocka_unit_test(nearest_keeps_label_values),
        cmocka_unit_test(bad_spacing_is_refused),
    };
    return cmocka_run_group_tests_name("resample kernel", tests, NULL, NULL);
}
