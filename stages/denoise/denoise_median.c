/* Median filter. 3x3 in-plane (the common case) uses sorted columns shared
 * between neighbouring windows; larger windows gather and select. */
#include <stdlib.h>
#include <string.h>

#include "denoise_kernels.h"

#define SORT2(a, b)                                                          \
    do {                                                                      \
        float lo_ = (a) < (b) ? (a) : (b);                                    \
        float hi_ = (a) < (b) ? (b) : (a);                                    \
        (a) = lo_;                                                            \
        (b) = hi_;                                                            \
    } while (0)

/* Median of 9 with the classic 19-exchange network (Paeth / Devillard). */
static float median9(float p[9])
{
    SORT2(p[1], p[2]); SORT2(p[4], p[5]); SORT2(p[7], p[8]);
    SORT2(p[0], p[1]); SORT2(p[3], p[4]); SORT2(p[6], p[7]);
    SORT2(p[1], p[2]); SORT2(p[4], p[5]); SORT2(p[7], p[8]);
    SORT2(p[0], p[3]); SORT2(p[5], p[8]); SORT2(p[4], p[7]);
    SORT2(p[3], p[6]); SORT2(p[1], p[4]); SORT2(p[2], p[5]);
    SORT2(p[4], p[7]); SORT2(p[4], p[2]); SORT2(p[6], p[4]);
    SORT2(p[4], p[2]);
    return p[4];
}

/* Hoare selection of the n/2-th smallest; n is small (<= 343). */
static float select_median(float *v, size_t n)
{
    size_t lo = 0, hi = n - 1, want = n / 2;
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (want <= j)
            hi = j;
        else if (want >= i)
            lo = i;
        else
            break;
    }
    return v[want];
}

static inline float min2(float a, float b)
{
    return a < b ? a : b;
}

static inline float max2(float a, float b)
{
    return a < b ? b : a;
}

static inline float med3(float a, float b, float c)
{
    return max2(min2(a, b), min2(max2(a, b), c));
}

/* The two row loops below are nearly all of the in-plane median's time.
 * Built three times, the CPU's best picked at load time: with AVX2 they
 * take 8 floats a step instead of SSE2's 4 (about 2.4x faster on the head
 * CT), with AVX-512 (x86-64-v4) 16 (about 30 % less time again). min and
 * max are exact, so every version gives the same bits. */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define ROW_CLONES                                                            \
    __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
#endif
#ifndef ROW_CLONES
#define ROW_CLONES
#endif

/* 3x3 median from sorted columns (Smith 1996, "Implementing median
 * filters in XC4000E FPGAs"): sort each column of three once, then the
 * median of the window is med3(max of the lows, median of the middles,
 * min of the highs). A column is shared by three windows, so this costs
 * about half the exchanges of a 9-value network per pixel. `col` holds 3
 * rows of nx floats. */
ROW_CLONES
static void sort_columns(const float *restrict a, const float *restrict b,
                         const float *restrict c, float *restrict lo,
                         float *restrict mid, float *restrict hi, size_t nx)
{
    for (size_t i = 0; i < nx; i++) {
        float l = min2(a[i], b[i]), h = max2(a[i], b[i]);
        float m = max2(l, c[i]);
        lo[i] = min2(l, c[i]);
        mid[i] = min2(h, m);
        hi[i] = max2(h, m);
    }
}

/* Output pixel i from columns i-1, i, i+1 (the caller clamps the ends). */
static inline float median_of_columns(const float *lo, const float *mid,
                                      const float *hi, size_t l, size_t i,
                                      size_t r)
{
    float x = max2(max2(lo[l], lo[i]), lo[r]);
    float y = med3(mid[l], mid[i], mid[r]);
    float z = min2(min2(hi[l], hi[i]), hi[r]);
    return med3(x, y, z);
}

ROW_CLONES
static void median_row(const float *restrict lo, const float *restrict mid,
                       const float *restrict hi, float *restrict o, size_t nx)
{
    o[0] = median_of_columns(lo, mid, hi, 0, 0, nx > 1 ? 1 : 0);
    for (size_t i = 1; i + 1 < nx; i++)
        o[i] = median_of_columns(lo, mid, hi, i - 1, i, i + 1);
    if (nx > 1)
        o[nx - 1] = median_of_columns(lo, mid, hi, nx - 2, nx - 1, nx - 1);
}

static void median3x3_slice(const float *in, float *out, size_t nx,
                            size_t ny, float *col)
{
    float *lo = col, *mid = col + nx, *hi = col + 2 * nx;
    for (size_t j = 0; j < ny; j++) {
        sort_columns(in + denoise_clamp_index((ptrdiff_t)j - 1, ny) * nx,
                     in + j * nx,
                     in + denoise_clamp_index((ptrdiff_t)j + 1, ny) * nx, lo,
                     mid, hi, nx);
        median_row(lo, mid, hi, out + j * nx, nx);
    }
}

/* In place: row j is computed from the saved original of row j-1 and the
 * still unwritten rows j and j+1, then saved before it is overwritten. */
static void median3x3_slice_in_place(float *s, size_t nx, size_t ny,
                                     float *buf)
{
    float *lo = buf, *mid = buf + nx, *hi = buf + 2 * nx, *above = buf + 3 * nx;
    for (size_t j = 0; j < ny; j++) {
        float *row = s + j * nx;
        sort_columns(j > 0 ? above : row, row, j + 1 < ny ? row + nx : row,
                     lo, mid, hi, nx);
        memcpy(above, row, nx * sizeof *row);
        median_row(lo, mid, hi, row, nx);
    }
}

int denoise_median3x3_in_place(sp_volume *vol, size_t k_begin, size_t k_end)
{
    size_t nx = vol->dim[0], ny = vol->dim[1];
    float *buf = malloc(4 * nx * sizeof *buf);
    if (!buf)
        return 0;
    for (size_t k = k_begin; k < k_end; k++)
        median3x3_slice_in_place(sp_volume_f32(vol) + k * nx * ny, nx, ny,
                                 buf);
    free(buf);
    return 1;
}

/* The same with a 9-value network, when no row buffer can be had. */
static void median3x3_slice_network(const float *in, float *out, size_t nx,
                                    size_t ny)
{
    for (size_t j = 0; j < ny; j++) {
        const float *rows[3] = {in + denoise_clamp_index((ptrdiff_t)j - 1, ny) * nx,
                                in + j * nx,
                                in + denoise_clamp_index((ptrdiff_t)j + 1, ny) * nx};
        for (size_t i = 0; i < nx; i++) {
            size_t l = i > 0 ? i - 1 : 0, r = i + 1 < nx ? i + 1 : nx - 1;
            float p[9] = {rows[0][l], rows[0][i], rows[0][r],
                          rows[1][l], rows[1][i], rows[1][r],
                          rows[2][l], rows[2][i], rows[2][r]};
            out[j * nx + i] = median9(p);
        }
    }
}

void denoise_median(const sp_volume *src, sp_volume *dst, int radius,
                    int in_plane, size_t k_begin, size_t k_end)
{
    const float *in = sp_volume_f32(src);
    float *out = sp_volume_f32(dst);
    size_t nx = src->dim[0], ny = src->dim[1], nz = src->dim[2];
    if (radius == 1 && in_plane) {
        float *col = malloc(3 * nx * sizeof *col);
        for (size_t k = k_begin; k < k_end; k++) {
            if (col)
                median3x3_slice(in + k * nx * ny, out + k * nx * ny, nx, ny,
                                col);
            else
                median3x3_slice_network(in + k * nx * ny, out + k * nx * ny,
                                        nx, ny);
        }
        free(col);
        return;
    }
    int rk = in_plane ? 0 : radius;
    float window[7 * 7 * 7]; /* radius <= 3 */
    for (size_t k = k_begin; k < k_end; k++)
        for (size_t j = 0; j < ny; j++)
            for (size_t i = 0; i < nx; i++) {
                size_t n = 0;
                for (int dk = -rk; dk <= rk; dk++) {
                    size_t kk = denoise_clamp_index((ptrdiff_t)k + dk, nz);
                    for (int dj = -radius; dj <= radius; dj++) {
                        size_t jj = denoise_clamp_index((ptrdiff_t)j + dj, ny);
                        const float *row = in + (kk * ny + jj) * nx;
                        for (int di = -radius; di <= radius; di++)
                            window[n++] =
                                row[denoise_clamp_index((ptrdiff_t)i + di, nx)];
                    }
                }
                out[(k * ny + j) * nx + i] = select_median(window, n);
            }
}
