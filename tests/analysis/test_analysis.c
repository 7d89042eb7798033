/* The shared analysis helpers against hand-countable cases: component
 * counts under 6- and 26-connectivity, ball sizes of dilation in mm on
 * anisotropic grids, hole filling and Dice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <cmocka.h>

#include "analysis.h"
#include "spine_model.h"

static void make(sp_volume *v, size_t n, double sx, double sy, double sz)
{
    assert_int_equal(sp_volume_alloc(v, SP_VOXEL_U8, n, n, n, NULL), SP_OK);
    double m[4][4] = {{sx, 0, 0, 0}, {0, sy, 0, 0}, {0, 0, sz, 0},
                      {0, 0, 0, 1}};
    sp_volume_set_geometry(v, m);
}

static void components_count_by_connectivity(void **state)
{
    (void)state;
    sp_volume v;
    make(&v, 10, 1, 1, 1);
    uint8_t *m = sp_volume_u8(&v);
    m[sp_volume_index(&v, 1, 1, 1)] = 1;
    m[sp_volume_index(&v, 2, 2, 2)] = 1; /* corner-touching the first */
    for (size_t i = 5; i < 9; i++)     /* a U shape: one component */
        m[sp_volume_index(&v, i, 5, 5)] = 1;
    m[sp_volume_index(&v, 5, 6, 5)] = m[sp_volume_index(&v, 8, 6, 5)] = 1;
    m[sp_volume_index(&v, 5, 7, 5)] = m[sp_volume_index(&v, 8, 7, 5)] = 1;
    uint32_t lab[1000];
    size_t *sizes = NULL;
    assert_int_equal(analysis_components(m, v.dim, 0, lab, &sizes), 3);
    free(sizes);
    assert_int_equal(analysis_components(m, v.dim, 1, lab, &sizes), 2);
    assert_int_equal(sizes[lab[sp_volume_index(&v, 1, 1, 1)]], 2);
    assert_int_equal(sizes[lab[sp_volume_index(&v, 5, 7, 5)]], 8);
    free(sizes);
    sp_volume_free(&v);
}

static void dilation_is_a_ball_in_mm(void **state)
{
    (void)state;
    sp_volume v;
    make(&v, 21, 1, 1, 2);
    sp_volume_u8(&v)[sp_volume_index(&v, 10, 10, 10)] = 1;
    assert_int_equal(analysis_dilate(&v, 4.0, 0, NULL), SP_OK);
    size_t want = 0, got = 0;
    for (int k = -5; k <= 5; k++)
        for (int j = -5; j <= 5; j++)
            for (int i = -5; i <= 5; i++)
                want += i * i + j * j + 4.0 * k * k <= 16.0;
    for (size_t q = 0; q < sp_volume_count(&v); q++)
        got += sp_volume_u8(&v)[q];
    assert_int_equal(got, want);
    assert_int_equal(analysis_erode(&v, 4.0, 0, NULL), SP_OK);
    got = 0;
    for (size_t q = 0; q < sp_volume_count(&v); q++)
        got += sp_volume_u8(&v)[q];
    assert_int_equal(got, 1);
    sp_volume_free(&v);
}

static void holes_fill_and_dice(void **state)
{
    (void)state;
    sp_volume v;
    make(&v, 9, 1, 1, 1);
    for (size_t j = 2; j <= 6; j++)
        for (size_t i = 2; i <= 6; i++)
            if (i == 2 || i == 6 || j == 2 || j == 6)
                sp_volume_u8(&v)[sp_volume_index(&v, i, j, 4)] = 1;
    assert_int_equal(analysis_fill_holes_2d(&v, NULL), SP_OK);
    size_t got = 0;
    for (size_t q = 0; q < sp_volume_count(&v); q++)
        got += sp_volume_u8(&v)[q];
    assert_int_equal(got, 25);
    sp_volume a, b;
    assert_int_equal(sp_volume_alloc(&a, SP_VOXEL_U16, 4, 1, 1, NULL), SP_OK);
    assert_int_equal(sp_volume_alloc(&b, SP_VOXEL_U16, 4, 1, 1, NULL), SP_OK);
    uint16_t *pa = sp_volume_u16(&a), *pb = sp_volume_u16(&b);
    pa[0] = pa[1] = 7;
    pb[1] = pb[2] = 3;
    assert_true(analysis_dice_labels(&a, 7, &b, 3) == 0.5);
    assert_true(analysis_dice_labels(&a, 9, &b, 9) == -1);
    sp_volume_free(&v), sp_volume_free(&a), sp_volume_free(&b);
}

/* A wall between 10 and 60 HU across x at x0 (grid mm), rendered as
 * partial volume on 1 mm voxels (z 3 mm), smoothed 1 mm. */
static void wall_volume(sp_volume *smooth, double x0)
{
    sp_volume v;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 40, 12, 12, NULL),
                     SP_OK);
    double m[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 3, 0},
                      {0, 0, 0, 1}};
    sp_volume_set_geometry(&v, m);
    float *f = sp_volume_f32(&v);
    for (size_t k = 0; k < 12; k++)
        for (size_t j = 0; j < 12; j++)
            for (size_t i = 0; i < 40; i++) {
                double wall = fmin(1, fmax(0, (double)i + 0.5 - x0));
                f[sp_volume_index(&v, i, j, k)] = (float)(10 + 50 * wall);
            }
    assert_int_equal(analysis_gaussian(&v, 1.0, smooth, NULL), SP_OK);
    sp_volume_free(&v);
}

/* The steepest point of a profile along x (0.25 mm steps, the canal rays'
 * central difference over 1 mm and parabola), in grid mm. */
static double steepest(double (*at)(const void *, const double *),
                       const void *img)
{
    enum { N = 48 };
    double p[N], x0 = 14.13;
    for (int i = 0; i < N; i++) {
        double g[3] = {x0 + 0.25 * i, 6, 18};
        p[i] = at(img, g);
    }
    int best_k = 2;
    for (int k = 2; k + 2 < N; k++)
        if (p[k + 2] - p[k - 2] > p[best_k + 2] - p[best_k - 2])
            best_k = k;
    double g0 = p[best_k + 2] - p[best_k - 2];
    double gm = p[best_k + 1] - p[best_k - 3];
    double gp = p[best_k + 3] - p[best_k - 1];
    double den = gm - 2 * g0 + gp;
    double off = den < 0 ? fmax(-0.5, fmin(0.5, 0.5 * (gm - gp) / den)) : 0;
    return x0 + 0.25 * (best_k + off);
}

static double at_linear(const void *v, const double *g)
{
    return spine_sample(v, g, NAN);
}

static double at_spline(const void *s, const double *g)
{
    return analysis_spline_sample(s, g, NAN);
}

/* Trilinear interpolation's slope is constant between voxel centres, so
 * the steepest point of a smoothed wall read through it sits half way
 * between two centres: the edge snaps to the grid by up to a quarter
 * voxel whatever the wall's phase. Through the spline it does not; the
 * 3 mm axis, hardly smoothed, stays linear (no ringing); the spline goes
 * through the voxel values. */
static void spline_edge_does_not_snap_to_the_grid(void **state)
{
    (void)state;
    double worst_linear = 0, worst_spline = 0;
    for (int q = 0; q < 20; q++) {
        double x0 = 20.0 + 0.05 * q;
        sp_volume smooth;
        analysis_spline sp;
        wall_volume(&smooth, x0);
        assert_int_equal(analysis_spline_new(&smooth, 1.0, &sp, NULL),
                         SP_OK);
        assert_true(sp.cubic[0] && sp.cubic[1] && !sp.cubic[2]);
        double g[3] = {21, 6, 18};
        assert_true(fabs(analysis_spline_sample(&sp, g, NAN) -
                         spine_sample(&smooth, g, NAN)) < 1e-3);
        worst_linear = fmax(worst_linear,
                            fabs(steepest(at_linear, &smooth) - x0));
        worst_spline = fmax(worst_spline, fabs(steepest(at_spline, &sp) - x0));
        analysis_spline_free(&sp);
        sp_volume_free(&smooth);
    }
    print_message("# steepest point off the wall, worst over 20 phases: "
                  "trilinear %.3f mm, spline %.3f mm\n", worst_linear,
                  worst_spline);
    assert_true(worst_linear > 0.2); /* the grid snapping this fixes */
    assert_true(worst_spline < 0.1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(components_count_by_connectivity),
        cmocka_unit_test(dilation_is_a_ball_in_mm),
        cmocka_unit_test(holes_fill_and_dice),
        cmocka_unit_test(spline_edge_does_not_snap_to_the_grid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
