/* bias kernels: a uniform phantom and a real lumbar T2 multiplied by a
 * known smooth field (up to 1.8x across the field of view) get the shading
 * taken out; vendor scaling is removed by the normalisation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <cmocka.h>

#include "analysis_tools.h"
#include "bias_kernels.h"
#include "test_data.h"

/* Smooth shading like a surface coil's: 0.6 at one end of the field of
 * view to 1.4 at the other, plus a broad bump of 0.3 */
static double shading(const sp_volume *v, size_t i, size_t j, size_t k)
{
    double x = (double)i / (double)v->dim[0], y = (double)j / (double)v->dim[1];
    double z = (double)k / (double)v->dim[2];
    return 0.6 + 0.8 * y + 0.3 * exp(-((x - 0.5) * (x - 0.5) +
                                       (z - 0.5) * (z - 0.5)) * 4);
}

static void apply_shading(sp_volume *v, double gain)
{
    float *f = v->data;
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++)
            for (size_t i = 0; i < v->dim[0]; i++)
                f[sp_volume_index(v, i, j, k)] *=
                    (float)(gain * shading(v, i, j, k));
}

/* coefficient of variation of a / b (b may be NULL) over mask voxels */
static double cv(const sp_volume *a, const sp_volume *b, const uint8_t *m)
{
    const float *fa = a->data, *fb = b ? b->data : NULL;
    double s = 0, s2 = 0, n = 0;
    for (size_t t = 0; t < sp_volume_count(a); t++)
        if (m[t]) {
            double r = fb ? fa[t] / fb[t] : fa[t];
            s += r, s2 += r * r, n++;
        }
    double mu = s / n;
    return sqrt(fmax(0, s2 / n - mu * mu)) / mu;
}

static void uniform_phantom_is_flattened(void **state)
{
    (void)state;
    sp_volume v = {0}, out = {0};
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 80, 80, 40, NULL),
                     SP_OK);
    double m[4][4] = {{1.5, 0, 0, 0}, {0, 1.5, 0, 0}, {0, 0, 3, 0},
                      {0, 0, 0, 1}};
    sp_volume_set_geometry(&v, m);
    float *f = v.data;
    uint8_t *inner = calloc(sp_volume_count(&v), 1);
    /* a cylinder of value 100 (radius 35 voxels) in air; the region scored
     * stays 8 voxels inside its wall */
    for (size_t k = 0; k < 40; k++)
        for (size_t j = 0; j < 80; j++)
            for (size_t i = 0; i < 80; i++) {
                double r = hypot((double)i - 39.5, (double)j - 39.5);
                size_t p = sp_volume_index(&v, i, j, k);
                f[p] = r < 35 ? 100.0f : 1.0f;
                inner[p] = r < 27 && k >= 4 && k < 36;
            }
    apply_shading(&v, 1.0);
    double before = cv(&v, NULL, inner);
    bias_params bp;
    bias_params_default(&bp);
    assert_int_equal(bias_correct(&v, &bp, &out, NULL, NULL), SP_OK);
    double after = cv(&out, NULL, inner);
    print_message("# uniform cylinder: CV %.3f -> %.3f\n", before, after);
    assert_true(before > 0.10);
    assert_true(after < 0.15 * before);
    free(inner);
    sp_volume_free(&v), sp_volume_free(&out);
}

static void real_t2_shading_is_removed(void **state)
{
    (void)state;
    sp_error err;
    sp_volume orig = {0}, shaded = {0}, a = {0}, b = {0}, fg = {0};
    char *dir = test_data_path("spine/mr-lumbar-t2-sag/dicom");
    assert_int_equal(analysis_load_series(dir, &orig, &err), SP_OK);
    assert_int_equal(analysis_load_series(dir, &shaded, &err), SP_OK);
    free(dir);
    /* vendor scaling 3.7 on top of the shading */
    apply_shading(&shaded, 3.7);
    bias_params bp;
    bias_params_default(&bp);
    assert_int_equal(bias_correct(&orig, &bp, &a, NULL, &err), SP_OK);
    assert_int_equal(bias_correct(&shaded, &bp, &b, NULL, &err), SP_OK);
    assert_int_equal(bias_foreground(&orig, bp.fg_fraction, &fg, &err),
                     SP_OK);
    /* the correction of the shaded image must agree with that of the
     * original: their ratio is flat where the ratio of the inputs is not */
    double before = cv(&shaded, &orig, fg.data);
    double after = cv(&b, &a, fg.data);
    print_message("# lumbar T2 x field: CV of ratio %.3f -> %.3f\n", before,
                  after);
    assert_true(before > 0.10);
    assert_true(after < 0.30 * before);
    sp_volume fgb = {0};
    assert_int_equal(bias_foreground(&shaded, bp.fg_fraction, &fgb, &err),
                     SP_OK);
    double sa, sb;
    assert_int_equal(bias_normalise(&a, &fg, bp.target_median, &sa, &err),
                     SP_OK);
    assert_int_equal(bias_normalise(&b, &fgb, bp.target_median, &sb, &err),
                     SP_OK);
    /* after normalisation the vendor factor and the mean shading are gone:
     * voxel by voxel the two agree on average */
    const float *fa = a.data, *fb = b.data;
    const uint8_t *m = fg.data;
    double s = 0, n = 0;
    for (size_t t = 0; t < sp_volume_count(&a); t++)
        if (m[t])
            s += fb[t] / fa[t], n++;
    print_message("# normalised: mean ratio %.3f (scales %.3f, %.3f)\n",
                  s / n, sa, sb);
    assert_true(fabs(s / n - 1) < 0.10);
    sp_volume_free(&fgb);
    sp_volume_free(&orig), sp_volume_free(&shaded), sp_volume_free(&a);
    sp_volume_free(&b), sp_volume_free(&fg);
}

static void bad_parameters_are_refused(void **state)
{
    (void)state;
    sp_volume v = {0}, out = {0};
    sp_error err;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 4, 4, 4, NULL), SP_OK);
    bias_params bp;
    bias_params_default(&bp);
    bp.sigma_mm = -1;
    assert_int_equal(bias_correct(&v, &bp, &out, NULL, &err), SP_CONFIG);
    bias_params_default(&bp);
    /* an all-zero image has no foreground */
    assert_int_equal(bias_correct(&v, &bp, &out, NULL, &err),
                     SP_NOTANALYSABLE);
    sp_volume_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uniform_phantom_is_flattened),
        cmocka_unit_test(real_t2_shading_is_removed),
        cmocka_unit_test(bad_parameters_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
