/* Window mapping and percentile selection for the window stage. */
#include "window_map.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

#define SAMPLE_MAX ((size_t)1 << 22)

/* Round to nearest, ties to even, like lrint in the default rounding
 * mode, without the libm call: adding and removing 1.5 * 2^52 leaves no
 * fraction bits for 0 <= y < 2^51. */
static inline double round_even(double y)
{
    const double magic = 6755399441055744.0;
    return (y + magic) - magic;
}

static inline uint8_t map_one(float x, double lo, double hi, double c05,
                              double w1)
{
    if (!(x > lo))
        return 0; /* also NaN */
    if (x > hi)
        return 255;
    double y = ((x - c05) / w1 + 0.5) * 255.0;
    if (y < 0)
        y = 0;
    if (y > 255)
        y = 255;
    return (uint8_t)round_even(y);
}

uint8_t sp_window_value(float x, double center, double width)
{
    return map_one(x, center - 0.5 - (width - 1) / 2,
                   center - 0.5 + (width - 1) / 2, center - 0.5, width - 1);
}

/* CT values are usually whole numbers in the int16 range (stored
 * integers, slope 1): those take a table made with the same formula. */
#define LUT_MIN (-32768)
#define LUT_SIZE 65536

/* The table has LUT_PAD spare bytes: the AVX2 path reads 4 bytes per
 * entry. */
#define LUT_PAD 4

/* The largest float not above v: a float x is above v exactly when it is
 * above this float (if x > F and x <= v, x would be a larger float not
 * above v), so 8 floats are compared with the double edges at once. */
static float float_at_or_below(double v)
{
    float f = (float)v;
    if ((double)f > v)
        f = nextafterf(f, -INFINITY);
    return f;
}

void sp_window_map_init(sp_window_map *m, double center, double width,
                        int with_table)
{
    m->lo = center - 0.5 - (width - 1) / 2;
    m->hi = center - 0.5 + (width - 1) / 2;
    m->lo_f = float_at_or_below(m->lo);
    m->hi_f = float_at_or_below(m->hi);
    m->c05 = center - 0.5;
    m->w1 = width - 1;
    m->lut = with_table ? calloc(1, LUT_SIZE + LUT_PAD) : NULL;
    if (m->lut)
        for (int v = 0; v < LUT_SIZE; v++)
            m->lut[v] = map_one((float)(v + LUT_MIN), m->lo, m->hi, m->c05,
                                m->w1);
}

static void apply_scalar(const sp_window_map *m, const float *in,
                         uint8_t *out, size_t n)
{
    const uint8_t *lut = m->lut;
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        if (lut && x >= (float)LUT_MIN && x < (float)(LUT_MIN + LUT_SIZE)) {
            int v = (int)x;
            if ((float)v == x) {
                out[i] = lut[v - LUT_MIN];
                continue;
            }
        }
        out[i] = map_one(x, m->lo, m->hi, m->c05, m->w1);
    }
}

#ifdef HAVE_AVX2_PATH
/* The table for 8 voxels a step (about 2.6x the scalar loop): when all 8
 * are whole numbers in the table's range, one gather of their entries;
 * any other group (fractions, NaN, out of range) goes to the scalar loop,
 * so the bytes are the same. A group wholly at or below the window (air
 * in CT: 0, NaN too) or wholly above it (bone: 255) needs no gather:
 * map_one's first two tests, compared in float through lo_f and hi_f. */
__attribute__((target("avx2"))) static void
apply_avx2(const sp_window_map *m, const float *in, uint8_t *out, size_t n)
{
    const __m256 low = _mm256_set1_ps((float)LUT_MIN);
    const __m256 high = _mm256_set1_ps((float)(LUT_MIN + LUT_SIZE));
    const __m256i offset = _mm256_set1_epi32(-LUT_MIN);
    /* The low byte of each 32-bit lane to the lane's first 4 bytes. */
    const __m256i pick = _mm256_setr_epi8(
        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8,
        12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256 lo_f = _mm256_set1_ps(m->lo_f);
    const __m256 hi_f = _mm256_set1_ps(m->hi_f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(in + i);
        int above_lo = _mm256_movemask_ps(_mm256_cmp_ps(x, lo_f, _CMP_GT_OQ));
        if (above_lo == 0) {
            memset(out + i, 0, 8);
            continue;
        }
        if (above_lo == 0xff &&
            _mm256_movemask_ps(_mm256_cmp_ps(x, hi_f, _CMP_GT_OQ)) == 0xff) {
            memset(out + i, 255, 8);
            continue;
        }
        __m256i v = _mm256_cvttps_epi32(x);
        __m256 whole = _mm256_cmp_ps(_mm256_cvtepi32_ps(v), x, _CMP_EQ_OQ);
        __m256 inside = _mm256_and_ps(_mm256_cmp_ps(x, low, _CMP_GE_OQ),
                                      _mm256_cmp_ps(x, high, _CMP_LT_OQ));
        if (_mm256_movemask_ps(_mm256_and_ps(whole, inside)) != 0xff) {
            apply_scalar(m, in + i, out + i, 8);
            continue;
        }
        __m256i g = _mm256_i32gather_epi32(
            (const int *)(const void *)m->lut, _mm256_add_epi32(v, offset),
            1);
        g = _mm256_shuffle_epi8(g, pick);
        uint32_t a = (uint32_t)_mm_cvtsi128_si32(_mm256_castsi256_si128(g));
        uint32_t b =
            (uint32_t)_mm_cvtsi128_si32(_mm256_extracti128_si256(g, 1));
        memcpy(out + i, &a, 4);
        memcpy(out + i + 4, &b, 4);
    }
    apply_scalar(m, in + i, out + i, n - i);
}
#endif

void sp_window_map_apply(const sp_window_map *m, const float *in,
                         uint8_t *out, size_t n)
{
#ifdef HAVE_AVX2_PATH
    if (m->lut && __builtin_cpu_supports("avx2")) {
        apply_avx2(m, in, out, n);
        return;
    }
#endif
    apply_scalar(m, in, out, n);
}

void sp_window_map_free(sp_window_map *m)
{
    free(m->lut);
    m->lut = NULL;
}

void sp_window_apply(const float *in, uint8_t *out, size_t n, double center,
                     double width)
{
    sp_window_map m;
    sp_window_map_init(&m, center, width, n >= 4 * (size_t)LUT_SIZE);
    sp_window_map_apply(&m, in, out, n);
    sp_window_map_free(&m);
}

static void swap(float *a, float *b)
{
    float t = *a;
    *a = *b;
    *b = t;
}

/* k-th smallest of v[0..n-1] (Hoare quickselect, median-of-three). */
static float select_kth(float *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo]) swap(&v[mid], &v[lo]);
        if (v[hi] < v[lo]) swap(&v[hi], &v[lo]);
        if (v[hi] < v[mid]) swap(&v[hi], &v[mid]);
        float pivot = v[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                swap(&v[i], &v[j]);
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

sp_status sp_window_percentiles(sp_stage_context *ctx, const sp_volume *vol,
                                double low_pct, double high_pct,
                                int ignore_zero, double *low, double *high)
{
    const float *in = sp_volume_f32(vol);
    size_t n = sp_volume_count(vol);
    size_t stride = n > SAMPLE_MAX ? (n + SAMPLE_MAX - 1) / SAMPLE_MAX : 1;
    float *sample = ctx->host->scratch_alloc(ctx, (n / stride + 1) *
                                                      sizeof *sample);
    if (!sample)
        return SP_NOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i += stride)
        if (isfinite(in[i]) && !(ignore_zero && in[i] == 0.0f))
            sample[m++] = in[i];
    if (m == 0)
        return ctx->host->fail(ctx, SP_NOTANALYSABLE,
                               "no voxels to compute a percentile window "
                               "from (all zero or not finite)");
    size_t klo = (size_t)llround(low_pct / 100.0 * (double)(m - 1));
    size_t khi = (size_t)llround(high_pct / 100.0 * (double)(m - 1));
    *low = select_kth(sample, m, klo);
    *high = select_kth(sample, m, khi);
    return SP_OK;
}
