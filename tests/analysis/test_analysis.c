/* The shared analysis helpers against hand-countable cases: component
 * counts under 6- and 26-connectivity, ball sizes of dilation in mm on
 * anisotropic grids, hole filling and Dice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "analysis.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(components_count_by_connectivity),
        cmocka_unit_test(dilation_is_a_ball_in_mm),
        cmocka_unit_test(holes_fill_and_dice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
