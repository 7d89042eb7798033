/* Stage `window` as a black box (tests/harness): every view voxel equals
 * the DICOM linear window of the HU voxel for each preset, the HU volume is
 * untouched, MR percentiles match a full sort, and a missing header window
 * is a clear error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spinepipe/dicom.h"
#include "stage_harness.h"
#include "test_data.h"
#include "window_map.h"

/* DICOM PS3.3 C.11.2.1.2.1, written out again here on purpose. */
static uint8_t expected_value(double x, double c, double w)
{
    if (x <= c - 0.5 - (w - 1) / 2)
        return 0;
    if (x > c - 0.5 + (w - 1) / 2)
        return 255;
    return (uint8_t)lrint(((x - (c - 0.5)) / (w - 1) + 0.5) * 255);
}

static const double I[3] = {1, 0, 0}, J[3] = {0, 1, 0};
static const double SP[3] = {0.7, 0.7, 2.0}, O[3] = {-20, -30, 100};

/* A CT-like volume: a ramp from -1200 to 3000 HU plus a few odd values. */
static void ct_volume(sp_volume *v)
{
    harness_volume(v, 32, 24, 6, I, J, SP, O);
    float *f = sp_volume_f32(v);
    size_t n = sp_volume_count(v);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)(-1200.0 + 4200.0 * (double)i / (double)(n - 1));
    f[0] = -3024.0f;
    f[1] = 49.5f;  /* on the lower edge of 400/50 */
    f[2] = 249.5f; /* on the upper edge */
}

static void check_view(harness *h, const sp_volume *hu_copy, double c,
                       double w, const char *source)
{
    const json_t *t = sp_store_table(h->store, "view.window");
    assert_non_null(t);
    assert_true(fabs(json_real_value(json_object_get(t, "center")) - c) <
                1e-9);
    assert_true(fabs(json_real_value(json_object_get(t, "width")) - w) <
                1e-9);
    assert_string_equal(json_string_value(json_object_get(t, "source")),
                        source);
    const sp_volume *view = sp_store_volume(h->store, "view.u8",
                                            SP_ARTIFACT_VOLUME);
    const sp_volume *hu = sp_store_volume(h->store, "volume.hu",
                                          SP_ARTIFACT_VOLUME);
    assert_non_null(view);
    assert_int_equal(view->type, SP_VOXEL_U8);
    assert_memory_equal(view->vox2lps, hu_copy->vox2lps,
                        sizeof view->vox2lps);
    size_t n = sp_volume_count(hu_copy);
    /* The HU volume is untouched, or, when nothing after the window can
     * read it (stage ABI 1.3), consumed: the view is in its buffer. */
    if (hu) {
        assert_memory_equal(hu->data, hu_copy->data, n * sizeof(float));
    } else {
        const json_t *a = json_array_get(json_object_get(h->report,
                                                         "artifacts"), 0);
        assert_string_equal(json_string_value(json_object_get(a, "name")),
                            "volume.hu");
        assert_string_equal(
            json_string_value(json_object_get(a, "consumed_by")), "window");
    }
    const float *x = sp_volume_f32(hu_copy);
    const uint8_t *y = sp_volume_u8(view);
    size_t n0 = 0, n255 = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t e = expected_value(x[i], c, w);
        if (y[i] != e)
            fail_msg("voxel %zu: HU %g -> %u, expected %u (C %g W %g)", i,
                     (double)x[i], y[i], e, c, w);
        n0 += e == 0;
        n255 += e == 255;
    }
    assert_true(n0 > 0 && n255 > 0 && n0 + n255 < n); /* all three ranges */
}

/* Each config alone (the window consumes volume.hu and writes the view
 * into its buffer, on 3 threads) and followed by a stage that reads
 * volume.hu (a new view; volume.hu untouched): every voxel as the
 * formula either way. */
static void run_preset(const char *config, double c, double w,
                       const char *source, const sp_dicom_header *hdr)
{
    for (int keep = 0; keep <= 1; keep++) {
        char cfg[512];
        snprintf(cfg, sizeof cfg, "%s%s", config,
                 keep ? "[denoise]\ninput = volume.hu\n" : "");
        harness h;
        harness_init(&h);
        if (harness_load(&h, cfg) != SP_OK)
            fail_msg("%s", h.err.message);
        sp_volume v, copy;
        ct_volume(&v);
        ct_volume(&copy);
        setenv("SPINEPIPE_THREADS", keep ? "1" : "3", 1);
        sp_status st = harness_run(&h, &v, hdr);
        unsetenv("SPINEPIPE_THREADS");
        if (st != SP_OK)
            fail_msg("%s", h.err.message);
        assert_true((sp_store_volume(h.store, "volume.hu",
                                     SP_ARTIFACT_VOLUME) != NULL) == keep);
        check_view(&h, &copy, c, w, source);
        sp_volume_free(&copy);
        harness_free(&h);
    }
}

static void ct_presets_and_explicit_window(void **state)
{
    (void)state;
    sp_dicom_header ct = {.modality = "CT", .has_window = 1,
                          .window_center = 300, .window_width = 1500};
    run_preset("[window]\npreset = bone\n", 500, 2000, "bone", &ct);
    run_preset("[window]\npreset = spine\n", 50, 400, "spine", &ct);
    run_preset("[window]\npreset = soft\n", 40, 400, "soft", &ct);
    run_preset("[window]\n", 50, 400, "spine", &ct); /* auto on CT */
    run_preset("[window]\npreset = header\n", 300, 1500, "header", &ct);
    run_preset("[window]\npreset = explicit\ncenter = -600\nwidth = 1600\n",
               -600, 1600, "explicit", &ct);
}

/* In the input's buffer, slice k is written once slice k / 4 has been
 * read (window.c): every slice count around the edges where that
 * dependency changes shape (1, 4, 16, 64), on 1, 2 and 3 threads, gives
 * every voxel as the formula. */
static void in_place_across_dependency_edges(void **state)
{
    (void)state;
    static const size_t depths[] = {1, 2, 3, 4, 5, 15, 16, 17, 63, 64, 65, 70};
    sp_dicom_header ct = {.modality = "CT"};
    for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++)
        for (int threads = 1; threads <= 3; threads++) {
            harness h;
            harness_init(&h);
            assert_int_equal(harness_load(&h, "[window]\npreset = soft\n"),
                             SP_OK);
            sp_volume v, copy;
            harness_volume(&v, 7, 5, depths[d], I, J, SP, O);
            float *f = sp_volume_f32(&v);
            size_t n = sp_volume_count(&v);
            for (size_t i = 0; i < n; i++)
                f[i] = (float)(-300.0 + 600.0 * (double)i / (double)(n - 1));
            assert_int_equal(sp_volume_alloc_like(&copy, &v, SP_VOXEL_F32,
                                                  &h.err),
                             SP_OK);
            memcpy(copy.data, v.data, n * sizeof(float));
            char env[2] = {(char)('0' + threads), 0};
            setenv("SPINEPIPE_THREADS", env, 1);
            sp_status st = harness_run(&h, &v, &ct);
            unsetenv("SPINEPIPE_THREADS");
            if (st != SP_OK)
                fail_msg("%s", h.err.message);
            assert_null(sp_store_volume(h.store, "volume.hu",
                                        SP_ARTIFACT_VOLUME));
            check_view(&h, &copy, 40, 400, "soft");
            sp_volume_free(&copy);
            harness_free(&h);
        }
}

/* The whole-volume mapping (a table for whole HU values on volumes big
 * enough to pay for it) equals the formula on every value: every whole
 * number of the int16 range, halves (ties), fractions, out-of-range and
 * non-finite values, for a wide, a narrow and a width-1 window, and two
 * whose edges are no float; at the end, groups of 8 equal values at and
 * beside each edge (a group wholly below or above the window skips the
 * table). */
static void apply_equals_formula(void **state)
{
    (void)state;
    enum { EDGE = 8 * 6 };
    size_t n = 65536 * 5 + EDGE;
    float *in = malloc(n * sizeof *in);
    uint8_t *out = malloc(n);
    assert_non_null(in);
    assert_non_null(out);
    for (size_t i = 0; i < 65536; i++) {
        in[i] = (float)((double)i - 32768);
        in[65536 + i] = (float)((double)i - 32768) + 0.5f;
        in[2 * 65536 + i] = (float)(((double)i - 32768) / 7.0);
        in[3 * 65536 + i] = (float)((double)i * 3.1 - 100000.0);
        in[4 * 65536 + i] = (float)((double)i - 32768) * 1e-3f;
    }
    in[4 * 65536] = NAN;
    in[4 * 65536 + 1] = INFINITY;
    in[4 * 65536 + 2] = -INFINITY;
    in[4 * 65536 + 3] = -0.0f;
    in[4 * 65536 + 4] = 32767.5f;
    in[4 * 65536 + 5] = -32768.5f;
    static const double windows[][2] = {{40, 400}, {-600.25, 1500.5},
                                        {0, 1}, {3.5, 2}, {0.1, 1.3},
                                        {40.3, 400.7}};
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        double c = windows[w][0], wd = windows[w][1];
        float edges[2] = {(float)(c - 0.5 - (wd - 1) / 2),
                          (float)(c - 0.5 + (wd - 1) / 2)};
        float *e = in + 65536 * 5;
        for (int k = 0; k < 2; k++)
            for (int q = 0; q < 8; q++) {
                e[24 * k + q] = nextafterf(edges[k], -INFINITY);
                e[24 * k + 8 + q] = edges[k];
                e[24 * k + 16 + q] = nextafterf(edges[k], INFINITY);
            }
        sp_window_apply(in, out, n, c, wd);
        for (size_t i = 0; i < n; i++) {
            uint8_t want = isnan(in[i]) ? 0 : expected_value(in[i], c, wd);
            if (out[i] != want || sp_window_value(in[i], c, wd) != want)
                fail_msg("window %g/%g, value %.9g: %u, want %u", c, wd,
                         (double)in[i], out[i], want);
        }
    }
    free(in);
    free(out);
}

/* The real head CT (140 x 512 x 512, whole HU values: the table path, 8
 * voxels a step where the CPU has AVX2) with the soft-tissue preset, on 1
 * and 2 threads, the view written into the HU buffer: every voxel as the
 * formula. */
static void head_ct_view_equals_formula(void **state)
{
    (void)state;
    sp_error err;
    sp_dicom_scan *scan;
    sp_volume copy;
    test_dicom_load_one("conformance/ct-head-phantom-512/dicom", &copy,
                        &scan);
    sp_dicom_header hdr = scan->series[0].header;
    sp_dicom_scan_free(scan);
    for (int threads = 1; threads <= 2; threads++) {
        harness h;
        harness_init(&h);
        assert_int_equal(harness_load(&h, "[window]\npreset = soft\n"),
                         SP_OK);
        sp_volume v;
        assert_int_equal(sp_volume_alloc_like(&v, &copy, SP_VOXEL_F32, &err),
                         SP_OK);
        memcpy(v.data, copy.data, sp_volume_count(&copy) * sizeof(float));
        setenv("SPINEPIPE_THREADS", threads == 1 ? "1" : "2", 1);
        sp_status st = harness_run(&h, &v, &hdr);
        unsetenv("SPINEPIPE_THREADS");
        if (st != SP_OK)
            fail_msg("%s", h.err.message);
        check_view(&h, &copy, 40, 400, "soft");
        harness_free(&h);
    }
    sp_volume_free(&copy);
}

static void header_window_missing_is_an_error(void **state)
{
    (void)state;
    harness h;
    harness_init(&h);
    assert_int_equal(harness_load(&h, "[window]\npreset = header\n"), SP_OK);
    sp_volume v;
    ct_volume(&v);
    sp_dicom_header ct = {.modality = "CT"};
    assert_int_equal(harness_run(&h, &v, &ct), SP_CONFIG);
    assert_non_null(strstr(h.err.message, "stage 'window': preset=header, "
                                          "but the series has no usable VOI "
                                          "window"));
    harness_free(&h);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void mr_percentile_window(void **state)
{
    (void)state;
    harness h;
    harness_init(&h);
    assert_int_equal(harness_load(&h, "[window]\nlow_percentile = 2\n"
                                      "high_percentile = 98\n"),
                     SP_OK);
    sp_volume v, copy;
    harness_volume(&v, 40, 30, 8, I, J, SP, O);
    float *f = sp_volume_f32(&v);
    size_t n = sp_volume_count(&v);
    /* half background zeros, the rest a skewed signal with outliers */
    unsigned seed = 12345;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        double u = (double)(seed >> 8 & 0xffff) / 65536.0;
        f[i] = (i % 2) ? (float)(100.0 + 900.0 * u * u) : 0.0f;
    }
    f[1] = 50000.0f;
    assert_int_equal(sp_volume_alloc_like(&copy, &v, SP_VOXEL_F32, &h.err),
                     SP_OK);
    memcpy(copy.data, v.data, n * sizeof(float));
    sp_dicom_header mr = {.modality = "MR"};
    if (harness_run(&h, &v, &mr) != SP_OK)
        fail_msg("%s", h.err.message);
    /* reference: nearest-rank percentiles of the sorted non-zero voxels */
    float *sorted = malloc(n * sizeof *sorted);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (sp_volume_f32(&copy)[i] != 0.0f)
            sorted[m++] = sp_volume_f32(&copy)[i];
    qsort(sorted, m, sizeof *sorted, cmp_float);
    double lo = sorted[(size_t)llround(0.02 * (double)(m - 1))];
    double hi = sorted[(size_t)llround(0.98 * (double)(m - 1))];
    free(sorted);
    double w = hi - lo;
    check_view(&h, &copy, lo + w / 2 + 0.5, w, "percentile");
    sp_volume_free(&copy);
    harness_free(&h);
}

static void percentile_bounds_must_be_ordered(void **state)
{
    (void)state;
    harness h;
    harness_init(&h);
    assert_int_equal(harness_load(&h, "[window]\npreset = percentile\n"
                                      "low_percentile = 90\n"
                                      "high_percentile = 10\n"),
                     SP_OK);
    sp_volume v;
    ct_volume(&v);
    assert_int_equal(harness_run(&h, &v, NULL), SP_CONFIG);
    assert_non_null(strstr(h.err.message, "low_percentile (90) must be "
                                          "below high_percentile (10)"));
    harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ct_presets_and_explicit_window),
        cmocka_unit_test(apply_equals_formula),
        cmocka_unit_test(head_ct_view_equals_formula),
        cmocka_unit_test(in_place_across_dependency_edges),
        cmocka_unit_test(header_window_missing_is_an_error),
        cmocka_unit_test(mr_percentile_window),
        cmocka_unit_test(percentile_bounds_must_be_ordered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
