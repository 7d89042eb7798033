/* Stage `denoise` as a black box (tests/harness): a config picks the
 * method, the output is volume.denoised on the input grid, the result does
 * not depend on the thread count, later stages can window it, and on the
 * real series: the edge-preserving method halves noise in flat CT tissue,
 * the Gaussian equals a direct 3D sum, the median clears impulses from an
 * MR, non-local means more than halves added noise in flat MR tissue. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "spinepipe/dicom.h"
#include "stage_harness.h"
#include "test_data.h"

static const double I[3] = {1, 0, 0}, J[3] = {0, 1, 0};
static const double SP[3] = {0.8, 0.8, 2.5}, O[3] = {0, 0, 0};

/* A disc of 300 on 0 with a 4 % of impulses: a value is "clean" if the
 * voxel is more than 1.5 voxels from the disc's rim. */
static void impulse_volume(sp_volume *v)
{
    harness_volume(v, 48, 40, 5, I, J, SP, O);
    uint64_t seed = 99;
    for (size_t k = 0; k < 5; k++)
        for (size_t j = 0; j < 40; j++)
            for (size_t i = 0; i < 48; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                double u = (double)(seed >> 11) / 9007199254740992.0;
                double r = hypot(i - 23.5, j - 19.5);
                float x = r < 12 ? 300.0f : 0.0f;
                if (u < 0.02)
                    x = -1000.0f;
                else if (u < 0.04)
                    x = 2000.0f;
                sp_volume_f32(v)[sp_volume_index(v, i, j, k)] = x;
            }
}

/* volume.denoised after the run; NULL when a window, the last stage,
 * consumed it (stage ABI 1.3). */
static const sp_volume *run(harness *h, const char *config, sp_volume *vol)
{
    harness_init(h);
    assert_int_equal(harness_load(h, config), SP_OK);
    sp_dicom_header hdr;
    memset(&hdr, 0, sizeof hdr);
    strcpy(hdr.modality, "CT");
    sp_status st = harness_run(h, vol, &hdr);
    if (st != SP_OK)
        fail_msg("run failed: %s", h->err.message);
    const sp_volume *out =
        sp_store_volume(h->store, "volume.denoised", SP_ARTIFACT_VOLUME);
    if (!out) {
        assert_string_equal(harness_consumed_by(h, "volume.denoised"), "window");
        return NULL;
    }
    assert_int_equal(out->type, SP_VOXEL_F32);
    return out;
}

static void median_config_removes_impulses(void **state)
{
    (void)state;
    sp_volume v;
    impulse_volume(&v);
    harness h;
    const sp_volume *out =
        run(&h, "[denoise]\nmethod = median\nin_plane = true\n", &v);
    size_t wrong = 0, n = 0;
    for (size_t k = 0; k < 5; k++)
        for (size_t j = 0; j < 40; j++)
            for (size_t i = 0; i < 48; i++) {
                double r = hypot(i - 23.5, j - 19.5);
                if (fabs(r - 12) < 1.5)
                    continue;
                float want = r < 12 ? 300.0f : 0.0f;
                wrong += sp_volume_f32(out)[sp_volume_index(out, i, j, k)] !=
                         want;
                n++;
            }
    assert_true(wrong * 200 < n); /* under 0.5 % left */
    harness_free(&h);
}

static void output_does_not_depend_on_threads(void **state)
{
    (void)state;
    const char *configs[] = {
        "[denoise]\nmethod = median\nradius = 2\n",
        "[denoise]\nmethod = median\nin_plane = true\n",
        "[denoise]\nmethod = gaussian\nsigma = 1.7\n",
        "[denoise]\nmethod = gaussian\nsigma = 1.1\nin_plane = true\n",
        "[denoise]\nmethod = diffusion\niterations = 7\nconductance = 50\n",
        "[denoise]\nmethod = nlm\nh = 60\nin_plane = true\n",
        "[denoise]\nmethod = nlm\nh = 80\nsearch_radius = 2\n",
    };
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++)
        for (int threads = 2; threads <= 3; threads++) {
            sp_volume a, b;
            impulse_volume(&a);
            impulse_volume(&b);
            harness h1, h2;
            setenv("SPINEPIPE_THREADS", "1", 1);
            const sp_volume *one = run(&h1, configs[c], &a);
            setenv("SPINEPIPE_THREADS", threads == 2 ? "2" : "3", 1);
            const sp_volume *more = run(&h2, configs[c], &b);
            unsetenv("SPINEPIPE_THREADS");
            assert_memory_equal(one->data, more->data,
                                sp_volume_count(one) * sizeof(float));
            assert_memory_equal(one->vox2lps, more->vox2lps,
                                sizeof one->vox2lps);
            harness_free(&h1);
            harness_free(&h2);
        }
}

static void window_can_take_the_denoised_volume(void **state)
{
    (void)state;
    sp_volume v;
    impulse_volume(&v);
    harness h;
    run(&h,
        "[denoise]\nmethod = median\nin_plane = true\n"
        "[window]\ninput = volume.denoised\npreset = explicit\n"
        "center = 150\nwidth = 301\n",
        &v);
    const sp_volume *view =
        sp_store_volume(h.store, "view.u8", SP_ARTIFACT_VOLUME);
    assert_non_null(view);
    /* Far inside the disc the median is 300: white; far outside 0: black. */
    assert_int_equal(sp_volume_u8(view)[sp_volume_index(view, 23, 19, 2)],
                     255);
    assert_int_equal(sp_volume_u8(view)[sp_volume_index(view, 2, 2, 2)], 0);
    harness_free(&h);
}

/* SD of HU in a box, over voxels within [lo, hi] HU in the original. */
static double box_sd(const sp_volume *v, const sp_volume *ref, size_t i0,
                     size_t j0, size_t k0, size_t w, double lo, double hi)
{
    double s = 0, s2 = 0;
    size_t n = 0;
    for (size_t k = k0; k < k0 + w && k < v->dim[2]; k++)
        for (size_t j = j0; j < j0 + w && j < v->dim[1]; j++)
            for (size_t i = i0; i < i0 + w && i < v->dim[0]; i++) {
                size_t at = sp_volume_index(v, i, j, k);
                double r = sp_volume_f32(ref)[at];
                if (r < lo || r > hi)
                    continue;
                double x = sp_volume_f32(v)[at];
                s += x;
                s2 += x * x;
                n++;
            }
    assert_true(n > 50);
    double m = s / n;
    return sqrt(s2 / n - m * m);
}

static void copy_volume(const sp_volume *v, sp_volume *copy)
{
    sp_error err;
    assert_int_equal(sp_volume_alloc_like(copy, v, SP_VOXEL_F32, &err),
                     SP_OK);
    memcpy(copy->data, v->data, sp_volume_count(v) * sizeof(float));
}

/* The real abdominal CT: diffusion lowers the noise SD in flat soft
 * tissue (liver, muscle: -20..100 HU; a 6x6x6 voxel = 18 mm block) by
 * at least half. (Cancellous bone is not flat: its trabecular texture has
 * gradients above the conductance and is kept, as it should be.) */
static void diffusion_on_real_ct(void **state)
{
    (void)state;
    sp_volume v, copy;
    test_dicom_load_one("spine/ct-abdomen-t11-s1/dicom", &v, NULL);
    copy_volume(&v, &copy);
    harness h;
    const sp_volume *out = run(&h,
                               "[denoise]\nmethod = diffusion\n"
                               "conductance = 40\niterations = 15\n",
                               &v);
    /* Find the 6x6x6 block with most soft-tissue voxels; compare the SD
     * before and after over the same voxels. */
    size_t best[3] = {0, 0, 0}, best_n = 0;
    for (size_t k = 6; k + 6 < copy.dim[2]; k += 2)
        for (size_t j = 6; j + 6 < copy.dim[1]; j += 2)
            for (size_t i = 6; i + 6 < copy.dim[0]; i += 2) {
                size_t n = 0;
                for (size_t dk = 0; dk < 6; dk++)
                    for (size_t dj = 0; dj < 6; dj++)
                        for (size_t di = 0; di < 6; di++) {
                            float x = sp_volume_f32(&copy)[sp_volume_index(
                                &copy, i + di, j + dj, k + dk)];
                            n += x > -20 && x < 100;
                        }
                if (n > best_n) {
                    best_n = n;
                    best[0] = i;
                    best[1] = j;
                    best[2] = k;
                }
            }
    assert_true(best_n > 180);
    double before = box_sd(&copy, &copy, best[0], best[1], best[2], 6, -20,
                           100);
    double after = box_sd(out, &copy, best[0], best[1], best[2], 6, -20, 100);
    print_message("# soft tissue SD: %.1f HU before, %.1f after\n",
                  before, after);
    assert_true(after < 0.5 * before);
    harness_free(&h);
    sp_volume_free(&copy);
}

/* The real lumbar CT crop (1.5 mm voxels), 3D Gaussian of sigma 2 mm:
 * every 97th voxel equals a direct triple sum over the clamped
 * neighbourhood with the normalised sampled Gaussian, written here
 * independently of the separable passes. */
static void gaussian_on_real_ct_equals_direct_sum(void **state)
{
    (void)state;
    sp_volume v, copy;
    test_dicom_load_one("spine/ct-lumbar-l2-l4-crop/dicom", &v, NULL);
    copy_volume(&v, &copy);
    harness h;
    const sp_volume *out =
        run(&h, "[denoise]\nmethod = gaussian\nsigma = 2\n", &v);
    double w[3][2 * 20 + 1];
    int r[3];
    for (int a = 0; a < 3; a++) {
        double s = 2.0 / copy.spacing[a], sum = 0;
        r[a] = (int)ceil(3 * s);
        assert_true(r[a] <= 20);
        for (int t = -r[a]; t <= r[a]; t++)
            sum += w[a][t + r[a]] = exp(-0.5 * t * t / (s * s));
        for (int t = 0; t <= 2 * r[a]; t++)
            w[a][t] /= sum;
    }
    const float *in = sp_volume_f32(&copy);
    double worst = 0;
    size_t checked = 0;
    for (size_t n = 0; n < sp_volume_count(&copy); n += 97, checked++) {
        long i = (long)(n % copy.dim[0]);
        long j = (long)(n / copy.dim[0] % copy.dim[1]);
        long k = (long)(n / (copy.dim[0] * copy.dim[1]));
        double want = 0;
        for (int dk = -r[2]; dk <= r[2]; dk++)
            for (int dj = -r[1]; dj <= r[1]; dj++)
                for (int di = -r[0]; di <= r[0]; di++) {
                    long x = i + di, y = j + dj, z = k + dk;
                    x = x < 0 ? 0 : x >= (long)copy.dim[0] ? (long)copy.dim[0] - 1 : x;
                    y = y < 0 ? 0 : y >= (long)copy.dim[1] ? (long)copy.dim[1] - 1 : y;
                    z = z < 0 ? 0 : z >= (long)copy.dim[2] ? (long)copy.dim[2] - 1 : z;
                    want += w[0][di + r[0]] * w[1][dj + r[1]] *
                            w[2][dk + r[2]] *
                            in[sp_volume_index(&copy, (size_t)x, (size_t)y,
                                               (size_t)z)];
                }
        double got = sp_volume_f32(out)[n];
        if (fabs(got - want) > worst)
            worst = fabs(got - want);
    }
    print_message("# %zu voxels, largest difference %.2g HU\n", checked,
                  worst);
    assert_true(checked > 1000);
    /* Float taps and float rounding between passes: well under 0.01 HU. */
    assert_true(worst < 0.01);
    harness_free(&h);
    sp_volume_free(&copy);
}

static size_t clampz(long x, size_t n)
{
    return x < 0 ? 0 : (size_t)x >= n ? n - 1 : (size_t)x;
}

/* Median of nine by insertion sort: the reference, written apart from the
 * kernel's sorted-column method. */
static float median9_sorted(float *w)
{
    for (int a = 1; a < 9; a++)
        for (int b = a; b > 0 && w[b - 1] > w[b]; b--) {
            float t = w[b];
            w[b] = w[b - 1];
            w[b - 1] = t;
        }
    return w[4];
}

/* The in-plane 3x3 median on the real head CT (its row loops are built
 * for AVX2 and for SSE2, the CPU's best taken at load time): every voxel
 * of the first, a middle and the last slice is the middle of its nine
 * edge-clamped neighbours sorted here, at 1 and 2 threads. */
static void median_on_head_ct_matches_sorting(void **state)
{
    (void)state;
    sp_volume original;
    test_dicom_load_one("conformance/ct-head-phantom-512/dicom", &original,
                        NULL);
    size_t nx = original.dim[0], ny = original.dim[1], nz = original.dim[2];
    assert_true(nx >= 64 && ny >= 64 && nz >= 3);
    const float *in = sp_volume_f32(&original);
    const size_t slices[3] = {0, nz / 2, nz - 1};
    for (int threads = 1; threads <= 2; threads++) {
        sp_volume v;
        copy_volume(&original, &v);
        harness h;
        setenv("SPINEPIPE_THREADS", threads == 1 ? "1" : "2", 1);
        const sp_volume *out =
            run(&h, "[denoise]\nmethod = median\nin_plane = true\n", &v);
        unsetenv("SPINEPIPE_THREADS");
        assert_non_null(out);
        size_t changed = 0;
        for (int s = 0; s < 3; s++) {
            size_t k = slices[s];
            for (size_t j = 0; j < ny; j++)
                for (size_t i = 0; i < nx; i++) {
                    float w[9];
                    int n = 0;
                    for (int dj = -1; dj <= 1; dj++)
                        for (int di = -1; di <= 1; di++) {
                            size_t jj = clampz((long)j + dj, ny);
                            size_t ii = clampz((long)i + di, nx);
                            w[n++] = in[(k * ny + jj) * nx + ii];
                        }
                    float want = median9_sorted(w);
                    size_t at = (k * ny + j) * nx + i;
                    if (sp_volume_f32(out)[at] != want)
                        fail_msg("voxel (%zu, %zu, %zu): %g, sorted %g", i,
                                 j, k, sp_volume_f32(out)[at], want);
                    changed += want != in[at];
                }
        }
        /* A real image: the filter moved many voxels. */
        assert_true(changed > nx * ny / 10);
        harness_free(&h);
    }
    sp_volume_free(&original);
}

/* Stage ABI 1.3 on the real lumbar CT crop: the in-plane median and the
 * Gaussian consume volume.hu and work in its buffer when no later stage
 * reads it (alone, or before a window of volume.denoised, which then
 * consumes volume.denoised in turn); a later stage that names it (window
 * of volume.hu, which then takes it itself, or nifti listing it in its
 * `artifacts`, ABI 1.4) keeps it from denoise, and nifti writes it
 * unchanged; nifti listing only volume.denoised lets denoise take it.
 * The denoised voxels are the same bits every way they can be seen, at 1
 * and 3 threads. */
static void in_place_only_when_nothing_reads_the_input_later(void **state)
{
    (void)state;
    static const char *const methods[] = {
        "[denoise]\nmethod = median\nin_plane = true\n",
        "[denoise]\nmethod = gaussian\nsigma = 2\n",
        "[denoise]\nmethod = gaussian\nsigma = 1\nin_plane = true\n",
    };
    static const struct {
        const char *after;
        const char *hu_taken_by; /* NULL: still in the store */
    } tails[] = {
        {"", "denoise"},
        {"[window]\ninput = volume.denoised\npreset = bone\n", "denoise"},
        /* denoise leaves it; the window, last, may and does take it */
        {"[window]\ninput = volume.hu\npreset = bone\n", "window"},
        {"[nifti]\nartifacts = volume.hu:input.nii\nmissing = fail\n",
         NULL},
        {"[nifti]\nartifacts = labels.x volume.denoised:input.nii\n",
         "denoise"},
    };
    sp_volume original;
    test_dicom_load_one("spine/ct-lumbar-l2-l4-crop/dicom", &original, NULL);
    size_t bytes = sp_volume_count(&original) * sizeof(float);
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        float *first = NULL;
        for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
            char cfg[512];
            snprintf(cfg, sizeof cfg, "%s%s", methods[m], tails[t].after);
            sp_volume v;
            copy_volume(&original, &v);
            harness h;
            setenv("SPINEPIPE_THREADS", t % 2 ? "3" : "1", 1);
            const sp_volume *out = run(&h, cfg, &v);
            unsetenv("SPINEPIPE_THREADS");
            const sp_volume *hu =
                sp_store_volume(h.store, "volume.hu", SP_ARTIFACT_VOLUME);
            if (tails[t].hu_taken_by) {
                assert_null(hu);
                assert_string_equal(harness_consumed_by(&h, "volume.hu"),
                                    tails[t].hu_taken_by);
            } else {
                assert_non_null(hu);
                assert_null(harness_consumed_by(&h, "volume.hu"));
                assert_memory_equal(hu->data, original.data, bytes);
            }
            if (strstr(tails[t].after, "nifti")) {
                char path[4200];
                snprintf(path, sizeof path, "%s/input.nii", h.out);
                assert_int_equal(access(path, R_OK), 0);
            }
            if (!out) {
                assert_non_null(sp_store_volume(h.store, "view.u8",
                                                SP_ARTIFACT_VOLUME));
            } else if (!first) {
                first = malloc(bytes);
                assert_non_null(first);
                memcpy(first, out->data, bytes);
            } else {
                assert_memory_equal(out->data, first, bytes);
            }
            harness_free(&h);
        }
        free(first);
    }
    sp_volume_free(&original);
}

/* The real lumbar T2 MR with 3 % of voxels set to salt (4x the maximum)
 * or pepper (0): the in-plane 3x3 median leaves no impulse behind in
 * 99.9 % of the voxels, and its mean error against the clean image is
 * within 1.5x of the median's own smoothing error on the clean image. */
static void median_on_real_mr_removes_impulses(void **state)
{
    (void)state;
    sp_volume clean, noisy;
    test_dicom_load_one("spine/mr-lumbar-t2-sag/dicom", &clean, NULL);
    copy_volume(&clean, &noisy);
    size_t n = sp_volume_count(&clean);
    float top = 0;
    for (size_t i = 0; i < n; i++)
        if (sp_volume_f32(&clean)[i] > top)
            top = sp_volume_f32(&clean)[i];
    float salt = 4 * top;
    uint64_t seed = 2024;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(seed >> 11) / 9007199254740992.0;
        if (u < 0.015)
            sp_volume_f32(&noisy)[i] = salt;
        else if (u < 0.03)
            sp_volume_f32(&noisy)[i] = 0;
    }
    sp_volume clean_in;
    copy_volume(&clean, &clean_in);
    const char *cfg = "[denoise]\nmethod = median\nin_plane = true\n";
    harness h1, h2;
    const sp_volume *fixed = run(&h1, cfg, &noisy);
    const sp_volume *smoothed = run(&h2, cfg, &clean_in);
    const float *c = sp_volume_f32(&clean), *f = sp_volume_f32(fixed),
                *sm = sp_volume_f32(smoothed);
    double err_fixed = 0, err_smooth = 0;
    size_t salt_left = 0;
    for (size_t i = 0; i < n; i++) {
        err_fixed += fabs(f[i] - c[i]);
        err_smooth += fabs(sm[i] - c[i]);
        salt_left += f[i] == salt;
    }
    print_message("# mean error %.2f (median of clean: %.2f), %zu of %zu "
                  "voxels still salt\n",
                  err_fixed / n, err_smooth / n, salt_left, n);
    assert_true(salt_left * 1000 < n);
    assert_true(err_fixed < 1.5 * err_smooth);
    harness_free(&h1);
    harness_free(&h2);
    sp_volume_free(&clean);
}

/* Whether the 5x5 in-plane neighbourhood of voxel `at` varies by less
 * than FLAT_SD (an SD, in the image's units). */
#define FLAT_SD 10.0
static int locally_flat(const sp_volume *v, size_t at)
{
    size_t nx = v->dim[0], ny = v->dim[1];
    size_t i = at % nx, j = at / nx % ny;
    if (i < 2 || j < 2 || i + 2 >= nx || j + 2 >= ny)
        return 0;
    double s = 0, s2 = 0;
    for (int dj = -2; dj <= 2; dj++)
        for (int di = -2; di <= 2; di++) {
            double x = sp_volume_f32(v)[at + (ptrdiff_t)dj * (ptrdiff_t)nx + di];
            s += x;
            s2 += x * x;
        }
    double var = s2 / 25 - (s / 25) * (s / 25);
    return var < FLAT_SD * FLAT_SD;
}

/* The real lumbar T2 MR with Gaussian noise of SD 20 added (fixed seed),
 * in-plane non-local means with h estimated from the image. Where the
 * original is locally flat (5x5 SD under 10, inside the body: original
 * above 40) the RMS error against the original drops below half of the
 * noisy image's; over the whole body it drops by at least 20 % and stays
 * below the in-plane Gaussian's of sigma 1 mm (which blurs the structure
 * more than it removes noise). */
static void nlm_on_real_mr_removes_noise(void **state)
{
    (void)state;
    sp_volume clean, noisy, noisy2;
    test_dicom_load_one("spine/mr-lumbar-t2-sag/dicom", &clean, NULL);
    copy_volume(&clean, &noisy);
    size_t n = sp_volume_count(&clean);
    uint64_t seed = 77;
    for (size_t i = 0; i < n; i++) {
        double u[2];
        for (int t = 0; t < 2; t++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            u[t] = ((double)(seed >> 11) + 0.5) / 9007199254740992.0;
        }
        sp_volume_f32(&noisy)[i] +=
            (float)(20 * sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]));
    }
    copy_volume(&noisy, &noisy2);
    const float *c = sp_volume_f32(&clean), *z = sp_volume_f32(&noisy);
    double e_noisy = 0;
    size_t body = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i] > 40) {
            e_noisy += (z[i] - c[i]) * (z[i] - c[i]);
            body++;
        }
    harness h1, h2;
    const sp_volume *nlm =
        run(&h1, "[denoise]\nmethod = nlm\nin_plane = true\n", &noisy);
    const sp_volume *gauss = run(
        &h2, "[denoise]\nmethod = gaussian\nsigma = 1\nin_plane = true\n",
        &noisy2);
    double e_nlm = 0, e_gauss = 0, f_noisy = 0, f_nlm = 0;
    size_t flat = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i] > 40 && locally_flat(&clean, i)) {
            double a = sp_volume_f32(nlm)[i] - c[i];
            f_nlm += a * a;
            f_noisy += (double)(z[i] - c[i]) * (z[i] - c[i]);
            flat++;
        }
    for (size_t i = 0; i < n; i++)
        if (c[i] > 40) {
            double a = sp_volume_f32(nlm)[i] - c[i];
            double g = sp_volume_f32(gauss)[i] - c[i];
            e_nlm += a * a;
            e_gauss += g * g;
        }
    e_noisy = sqrt(e_noisy / body);
    e_nlm = sqrt(e_nlm / body);
    e_gauss = sqrt(e_gauss / body);
    print_message("# %zu body voxels: RMS error noisy %.2f, nlm %.2f, "
                  "gaussian %.2f\n",
                  body, e_noisy, e_nlm, e_gauss);
    print_message("# %zu flat voxels: RMS error noisy %.2f, nlm %.2f\n",
                  flat, sqrt(f_noisy / flat), sqrt(f_nlm / flat));
    assert_true(body > 100000 && flat > 5000);
    assert_true(sqrt(f_nlm / flat) < 0.5 * sqrt(f_noisy / flat));
    assert_true(e_nlm < 0.8 * e_noisy);
    assert_true(e_nlm < e_gauss);
    harness_free(&h1);
    harness_free(&h2);
    sp_volume_free(&clean);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(median_config_removes_impulses),
        cmocka_unit_test(output_does_not_depend_on_threads),
        cmocka_unit_test(window_can_take_the_denoised_volume),
        cmocka_unit_test(diffusion_on_real_ct),
        cmocka_unit_test(gaussian_on_real_ct_equals_direct_sum),
        cmocka_unit_test(in_place_only_when_nothing_reads_the_input_later),
        cmocka_unit_test(median_on_real_mr_removes_impulses),
        cmocka_unit_test(median_on_head_ct_matches_sorting),
        cmocka_unit_test(nlm_on_real_mr_removes_noise),
    };
    return cmocka_run_group_tests_name("denoise stage", tests, NULL, NULL);
}
