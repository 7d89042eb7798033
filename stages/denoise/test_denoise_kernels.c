/* The denoise kernels against independent references: the Gaussian of a
 * delta is the kernel, the median equals a brute-force sort (also written
 * over its own input), salt and
 * pepper is removed, diffusion and non-local means flatten noise without
 * moving edges, and non-local means equals its direct sum. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "denoise_kernels.h"

/* Deterministic noise for the tests (splitmix64 + Box-Muller). */
static uint64_t rng_state;
static double rng_uniform(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return ((z >> 11) + 0.5) / 9007199254740992.0;
}
static double rng_normal(void)
{
    return sqrt(-2 * log(rng_uniform())) * cos(2 * M_PI * rng_uniform());
}

static void make(sp_volume *v, size_t nx, size_t ny, size_t nz,
                 double sx, double sy, double sz)
{
    assert_int_equal(sp_volume_alloc(v, SP_VOXEL_F32, nx, ny, nz, NULL),
                     SP_OK);
    double m[4][4] = {{sx, 0, 0, 0}, {0, sy, 0, 0}, {0, 0, sz, 0},
                      {0, 0, 0, 1}};
    sp_volume_set_geometry(v, m);
}

static double sampled_gaussian(int t, double sigma, int radius)
{
    double sum = 0;
    for (int u = -radius; u <= radius; u++)
        sum += exp(-(double)(u * u) / (2 * sigma * sigma));
    return exp(-(double)(t * t) / (2 * sigma * sigma)) / sum;
}

static void gaussian_of_delta_is_the_kernel(void **state)
{
    (void)state;
    sp_volume a, b;
    make(&a, 21, 21, 21, 1.0, 1.0, 2.0);
    make(&b, 21, 21, 21, 1.0, 1.0, 2.0);
    sp_volume_f32(&a)[sp_volume_index(&a, 10, 10, 10)] = 1.0f;
    double sigma_mm = 1.5;
    float taps[3][2 * DENOISE_GAUSS_MAX_RADIUS + 1];
    int radius[3];
    for (int axis = 0; axis < 3; axis++)
        radius[axis] =
            denoise_gaussian_taps(sigma_mm / a.spacing[axis], taps[axis]);
    assert_true(denoise_gaussian_plane(&a, &b, taps[0], radius[0], taps[1],
                                       radius[1], 0, 21));
    assert_true(denoise_gaussian_k(&b, taps[2], radius[2], 0, 21));
    const sp_volume *from = &b;
    assert_int_equal(radius[0], 5);
    assert_int_equal(radius[2], 3); /* sigma 0.75 voxel along k */
    double total = 0;
    for (int dk = -10; dk <= 10; dk++)
        for (int dj = -10; dj <= 10; dj++)
            for (int di = -10; di <= 10; di++) {
                double want = 0;
                if (abs(di) <= 5 && abs(dj) <= 5 && abs(dk) <= 3)
                    want = sampled_gaussian(di, 1.5, 5) *
                           sampled_gaussian(dj, 1.5, 5) *
                           sampled_gaussian(dk, 0.75, 3);
                float got = sp_volume_f32(from)[sp_volume_index(
                    from, 10 + di, 10 + dj, 10 + dk)];
                assert_true(fabs(got - want) < 1e-7);
                total += got;
            }
    assert_true(fabs(total - 1.0) < 1e-5);
    sp_volume_free(&a);
    sp_volume_free(&b);
}

static int compare_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

static size_t clampz(long x, size_t n)
{
    return x < 0 ? 0 : (size_t)x >= n ? n - 1 : (size_t)x;
}

/* denoise_median against sorting each clamped window with qsort. */
static void check_median(size_t nx, size_t ny, size_t nz, int radius,
                         int in_plane, int ties)
{
    sp_volume a, b;
    make(&a, nx, ny, nz, 1, 1, 1);
    make(&b, nx, ny, nz, 1, 1, 1);
    float *in = sp_volume_f32(&a);
    for (size_t n = 0; n < sp_volume_count(&a); n++)
        in[n] = ties ? (float)floor(rng_uniform() * 50)
                     : (float)(rng_uniform() * 2000 - 1000);
    denoise_median(&a, &b, radius, in_plane, 0, nz);
    float window[343];
    int rk = in_plane ? 0 : radius;
    for (long k = 0; k < (long)nz; k++)
        for (long j = 0; j < (long)ny; j++)
            for (long i = 0; i < (long)nx; i++) {
                size_t n = 0;
                for (long dk = -rk; dk <= rk; dk++)
                    for (long dj = -radius; dj <= radius; dj++)
                        for (long di = -radius; di <= radius; di++)
                            window[n++] = in[sp_volume_index(
                                &a, clampz(i + di, nx), clampz(j + dj, ny),
                                clampz(k + dk, nz))];
                qsort(window, n, sizeof *window, compare_float);
                assert_true(sp_volume_f32(&b)[sp_volume_index(&b, i, j, k)] ==
                            window[n / 2]);
            }
    if (radius == 1 && in_plane) {
        /* Over its own input, in two slice ranges: the same bits. */
        sp_volume c;
        make(&c, nx, ny, nz, 1, 1, 1);
        memcpy(c.data, a.data, sp_volume_count(&a) * sizeof(float));
        assert_true(denoise_median3x3_in_place(&c, 0, nz / 2));
        assert_true(denoise_median3x3_in_place(&c, nz / 2, nz));
        assert_memory_equal(c.data, b.data,
                            sp_volume_count(&a) * sizeof(float));
        sp_volume_free(&c);
    }
    sp_volume_free(&a);
    sp_volume_free(&b);
}

static void median_matches_brute_force_sort(void **state)
{
    (void)state;
    rng_state = 7;
    for (int radius = 1; radius <= 3; radius++)
        for (int in_plane = 0; in_plane <= 1; in_plane++)
            check_median(13, 11, 9, radius, in_plane, 1);
    /* The in-plane 3x3 path (sorted columns) on distinct values and on
     * images one or two pixels wide, where the clamped window repeats
     * border columns and rows. */
    static const size_t sizes[][2] = {{1, 1}, {1, 6}, {6, 1}, {2, 2},
                                      {2, 7}, {31, 17}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int ties = 0; ties <= 1; ties++)
            check_median(sizes[s][0], sizes[s][1], 3, 1, 1, ties);
}

/* A disc of 300 on 0, 64x64, 4 slices; 5 % of voxels set to -1000 or
 * +3000. The 3x3 median must restore almost every voxel exactly. */
static void median_removes_salt_and_pepper(void **state)
{
    (void)state;
    rng_state = 11;
    sp_volume clean, noisy, out;
    make(&clean, 64, 64, 4, 1, 1, 1);
    make(&noisy, 64, 64, 4, 1, 1, 1);
    make(&out, 64, 64, 4, 1, 1, 1);
    for (size_t k = 0; k < 4; k++)
        for (size_t j = 0; j < 64; j++)
            for (size_t i = 0; i < 64; i++) {
                double r = hypot(i - 31.5, j - 31.5);
                size_t at = sp_volume_index(&clean, i, j, k);
                float v = r < 20 ? 300.0f : 0.0f;
                sp_volume_f32(&clean)[at] = v;
                double u = rng_uniform();
                sp_volume_f32(&noisy)[at] =
                    u < 0.025 ? -1000.0f : u < 0.05 ? 3000.0f : v;
            }
    denoise_median(&noisy, &out, 1, 1, 0, 4);
    size_t wrong_before = 0, wrong_after = 0;
    for (size_t n = 0; n < sp_volume_count(&clean); n++) {
        wrong_before += sp_volume_f32(&noisy)[n] != sp_volume_f32(&clean)[n];
        wrong_after += sp_volume_f32(&out)[n] != sp_volume_f32(&clean)[n];
    }
    /* About 5 % corrupted before; after, only where two impulses meet or
     * at the disc's rim: under 0.5 % of voxels. */
    assert_true(wrong_before > 600);
    assert_true(wrong_after * 200 < sp_volume_count(&clean));
    sp_volume_free(&clean);
    sp_volume_free(&noisy);
    sp_volume_free(&out);
}

static double region_sd(const sp_volume *v, size_t i0, size_t i1)
{
    double s = 0, s2 = 0;
    size_t n = 0;
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++)
            for (size_t i = i0; i < i1; i++) {
                double x = sp_volume_f32(v)[sp_volume_index(v, i, j, k)];
                s += x;
                s2 += x * x;
                n++;
            }
    double mean = s / n;
    return sqrt(s2 / n - mean * mean);
}

/* Mean over rows of the sub-voxel position where a row crosses 50. */
static double mean_crossing(const sp_volume *v)
{
    double sum = 0;
    size_t rows = 0;
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++) {
            const float *row =
                sp_volume_f32(v) + sp_volume_index(v, 0, j, k);
            for (size_t i = 24; i < 40; i++)
                if (row[i] < 50 && row[i + 1] >= 50) {
                    sum += i + (50 - row[i]) / (row[i + 1] - row[i]);
                    rows++;
                    break;
                }
        }
    assert_true(rows > 0);
    return sum / rows;
}

/* A step of 100 at i = 32 with Gaussian noise of SD 10 (the same noise
 * every call) in a, on 0.8 x 0.8 x 2 mm voxels, and b of its size. */
static void noisy_step(sp_volume *a, sp_volume *b)
{
    rng_state = 3;
    make(a, 64, 32, 6, 0.8, 0.8, 2.0);
    make(b, 64, 32, 6, 0.8, 0.8, 2.0);
    for (size_t k = 0; k < 6; k++)
        for (size_t j = 0; j < 32; j++)
            for (size_t i = 0; i < 64; i++)
                sp_volume_f32(a)[sp_volume_index(a, i, j, k)] =
                    (float)((i >= 32 ? 100.0 : 0.0) + 10 * rng_normal());
}

static void diffusion_flattens_noise_and_keeps_edges(void **state)
{
    (void)state;
    sp_volume a, b;
    noisy_step(&a, &b);
    double sd_before = region_sd(&a, 2, 24);
    double step = 0.8 * 0.8 / 16.0; /* stable for 3D: h^2 / 2^(3+1) */
    sp_volume *from = &a, *to = &b;
    for (int it = 0; it < 30; it++) {
        denoise_diffusion_step(from, to, 25.0, step, 0, 0, 6);
        sp_volume *t = from;
        from = to;
        to = t;
    }
    double sd_after = region_sd(from, 2, 24);
    double sd_after_right = region_sd(from, 40, 62);
    assert_true(sd_after < 0.5 * sd_before);
    assert_true(sd_after_right < 0.5 * sd_before);
    /* True edge crossing: halfway between voxel 31 and 32. */
    assert_true(fabs(mean_crossing(from) - 31.5) < 0.5);
    sp_volume_free(&a);
    sp_volume_free(&b);
}

/* Non-local means written the direct way: for every voxel and every
 * candidate in the clamped search window, the mean squared difference of
 * the two clamped patches in double, weight exp(-d2 / h^2) (0 beyond
 * exp(-30)), and the centre weighted like its best neighbour (1 when no
 * neighbour counts). */
static double nlm_direct(const sp_volume *v, long i, long j, long k,
                         int p, int s, double h, int in_plane)
{
    const float *in = sp_volume_f32(v);
    size_t nx = v->dim[0], ny = v->dim[1], nz = v->dim[2];
    int pk = in_plane ? 0 : p, sk = in_plane ? 0 : s;
    double wsum = 0, vsum = 0, wmax = 0;
    for (long dk = -sk; dk <= sk; dk++)
        for (long dj = -s; dj <= s; dj++)
            for (long di = -s; di <= s; di++) {
                if (!di && !dj && !dk)
                    continue;
                double d2 = 0;
                int count = 0;
                for (long uk = -pk; uk <= pk; uk++)
                    for (long uj = -p; uj <= p; uj++)
                        for (long ui = -p; ui <= p; ui++) {
                            double a = in[sp_volume_index(
                                v, clampz(i + ui, nx), clampz(j + uj, ny),
                                clampz(k + uk, nz))];
                            double b = in[sp_volume_index(
                                v, clampz(i + ui + di, nx),
                                clampz(j + uj + dj, ny),
                                clampz(k + uk + dk, nz))];
                            d2 += (a - b) * (a - b);
                            count++;
                        }
                double e = d2 / count / (h * h);
                if (e >= 30)
                    continue;
                double w = exp(-e);
                wsum += w;
                vsum += w * in[sp_volume_index(v, clampz(i + di, nx),
                                               clampz(j + dj, ny),
                                               clampz(k + dk, nz))];
                if (w > wmax)
                    wmax = w;
            }
    double wc = wmax > 0 ? wmax : 1;
    return (vsum + wc * in[sp_volume_index(v, (size_t)i, (size_t)j,
                                           (size_t)k)]) /
           (wsum + wc);
}

/* A blob and a step under noise, small enough for the direct sum. */
static void nlm_phantom(sp_volume *v, size_t nx, size_t ny, size_t nz)
{
    make(v, nx, ny, nz, 0.9, 0.9, 3.0);
    for (size_t k = 0; k < nz; k++)
        for (size_t j = 0; j < ny; j++)
            for (size_t i = 0; i < nx; i++) {
                double r = hypot((double)i - 5.0, (double)j - 6.0);
                double x = (r < 3.5 ? 400.0 : 100.0) + (i > 10 ? 150.0 : 0.0);
                sp_volume_f32(v)[sp_volume_index(v, i, j, k)] =
                    (float)(x + 20 * rng_normal());
            }
}

static void nlm_matches_direct_sum(void **state)
{
    (void)state;
    static const struct {
        int p, s, in_plane;
        double h;
    } cases[] = {{1, 2, 1, 25}, {1, 3, 1, 40}, {2, 1, 1, 25},
                 {1, 2, 0, 30}, {1, 1, 0, 10}};
    rng_state = 11;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sp_volume a, b;
        nlm_phantom(&a, 15, 13, 5);
        make(&b, 15, 13, 5, 0.9, 0.9, 3.0);
        assert_true(denoise_nlm(&a, &b, cases[c].p, cases[c].s, cases[c].h,
                                cases[c].in_plane, 0, 5));
        double worst = 0, moved = 0;
        for (long k = 0; k < 5; k++)
            for (long j = 0; j < 13; j++)
                for (long i = 0; i < 15; i++) {
                    double want = nlm_direct(&a, i, j, k, cases[c].p,
                                             cases[c].s, cases[c].h,
                                             cases[c].in_plane);
                    size_t at = sp_volume_index(&a, (size_t)i, (size_t)j,
                                                (size_t)k);
                    double got = sp_volume_f32(&b)[at];
                    if (fabs(got - want) > worst)
                        worst = fabs(got - want);
                    moved += fabs(got - sp_volume_f32(&a)[at]);
                }
        /* Float patch sums against double: well under 0.01 of the 20
         * units of noise; and the filter did change the image. */
        assert_true(worst < 0.01);
        assert_true(moved / (15 * 13 * 5) > 1.0);
        sp_volume_free(&a);
        sp_volume_free(&b);
    }
}

static void nlm_flattens_noise_and_keeps_edges(void **state)
{
    (void)state;
    for (int in_plane = 1; in_plane >= 0; in_plane--) {
        sp_volume a, b;
        noisy_step(&a, &b);
        double sd_before = region_sd(&a, 2, 24);
        double h = denoise_noise_sd(&a);
        /* The estimate from neighbour differences finds the noise of 10
         * despite the step. */
        assert_true(fabs(h - 10) < 1.0);
        assert_true(denoise_nlm(&a, &b, 1, 3, h, in_plane, 0, 6));
        double sd_left = region_sd(&b, 2, 24), sd_right = region_sd(&b, 40, 62);
        print_message("# nlm %s: SD %.2f -> %.2f / %.2f, crossing %.3f\n",
                      in_plane ? "in-plane" : "3D", sd_before, sd_left,
                      sd_right, mean_crossing(&b));
        assert_true(sd_left < 0.5 * sd_before);
        assert_true(sd_right < 0.5 * sd_before);
        assert_true(fabs(mean_crossing(&b) - 31.5) < 0.5);
        sp_volume_free(&a);
        sp_volume_free(&b);
    }
}

/* Slice ranges written separately give the same bits as one pass: the
 * property that makes threaded output independent of thread count. */
static void split_ranges_give_identical_output(void **state)
{
    (void)state;
    rng_state = 5;
    sp_volume a, whole, parts;
    make(&a, 17, 15, 12, 0.7, 0.7, 1.5);
    make(&whole, 17, 15, 12, 0.7, 0.7, 1.5);
    make(&parts, 17, 15, 12, 0.7, 0.7, 1.5);
    for (size_t n = 0; n < sp_volume_count(&a); n++)
        sp_volume_f32(&a)[n] = (float)(100 * rng_normal());
    float taps[2 * DENOISE_GAUSS_MAX_RADIUS + 1];
    int r = denoise_gaussian_taps(1.3, taps);
    for (int kernel = 0; kernel < 5; kernel++) {
        size_t cuts[] = {0, 1, 5, 6, 12};
        if (kernel == 0)
            denoise_median(&a, &whole, 2, 0, 0, 12);
        else if (kernel == 1) {
            assert_true(
                denoise_gaussian_plane(&a, &whole, taps, r, taps, r, 0, 12));
            assert_true(denoise_gaussian_k(&whole, taps, r, 0, 15));
        }
        else if (kernel == 2)
            denoise_diffusion_step(&a, &whole, 30, 0.03, 0, 0, 12);
        else
            assert_true(denoise_nlm(&a, &whole, 1, 2, 90, kernel == 3, 0, 12));
        for (int c = 0; c < 4; c++) {
            if (kernel == 0)
                denoise_median(&a, &parts, 2, 0, cuts[c], cuts[c + 1]);
            else if (kernel == 1)
                assert_true(denoise_gaussian_plane(&a, &parts, taps, r, taps,
                                                   r, cuts[c], cuts[c + 1]));
            else if (kernel == 2)
                denoise_diffusion_step(&a, &parts, 30, 0.03, 0, cuts[c],
                                       cuts[c + 1]);
            else
                assert_true(denoise_nlm(&a, &parts, 1, 2, 90, kernel == 3,
                                        cuts[c], cuts[c + 1]));
        }
        /* The Gaussian's k pass runs in place, split by rows j. */
        static const size_t row_cuts[] = {0, 1, 7, 8, 15};
        for (int c = 0; kernel == 1 && c < 4; c++)
            assert_true(denoise_gaussian_k(&parts, taps, r, row_cuts[c],
                                           row_cuts[c + 1]));
        assert_memory_equal(whole.data, parts.data,
                            sp_volume_count(&a) * sizeof(float));
        if (kernel != 1)
            continue;
        /* The whole Gaussian over its own input (the stage does this when
         * it may consume it), split by slices, then by rows. */
        memcpy(parts.data, a.data, sp_volume_count(&a) * sizeof(float));
        for (int c = 0; c < 4; c++)
            assert_true(denoise_gaussian_plane(&parts, &parts, taps, r, taps,
                                               r, cuts[c], cuts[c + 1]));
        for (int c = 0; c < 4; c++)
            assert_true(denoise_gaussian_k(&parts, taps, r, row_cuts[c],
                                           row_cuts[c + 1]));
        assert_memory_equal(whole.data, parts.data,
                            sp_volume_count(&a) * sizeof(float));
    }
    sp_volume_free(&a);
    sp_volume_free(&whole);
    sp_volume_free(&parts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gaussian_of_delta_is_the_kernel),
        cmocka_unit_test(median_matches_brute_force_sort),
        cmocka_unit_test(median_removes_salt_and_pepper),
        cmocka_unit_test(diffusion_flattens_noise_and_keeps_edges),
        cmocka_unit_test(nlm_matches_direct_sum),
        cmocka_unit_test(nlm_flattens_noise_and_keeps_edges),
        cmocka_unit_test(split_ranges_give_identical_output),
    };
    return cmocka_run_group_tests_name("denoise kernels", tests, NULL, NULL);
}
