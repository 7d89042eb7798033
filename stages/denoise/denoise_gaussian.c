/* Separable Gaussian smoothing: i and j slice by slice through a slice
 * buffer, then k in place row by row, so no second volume is needed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "denoise_kernels.h"

int denoise_gaussian_taps(double sigma_vox, float *taps)
{
    if (!(sigma_vox > 0)) {
        taps[0] = 1.0f;
        return 0;
    }
    int radius = (int)ceil(3.0 * sigma_vox);
    if (radius > DENOISE_GAUSS_MAX_RADIUS)
        radius = DENOISE_GAUSS_MAX_RADIUS;
    double sum = 0;
    double w[2 * DENOISE_GAUSS_MAX_RADIUS + 1];
    for (int t = -radius; t <= radius; t++) {
        w[t + radius] = exp(-0.5 * (t * t) / (sigma_vox * sigma_vox));
        sum += w[t + radius];
    }
    for (int t = 0; t <= 2 * radius; t++)
        taps[t] = (float)(w[t] / sum);
    return radius;
}

/* Along the contiguous axis: out[i] = sum_t taps[t] * in[i + t - r]. */
static void convolve_row(const float *in, float *out, size_t n,
                         const float *taps, int radius)
{
    for (size_t i = 0; i < n; i++) {
        double acc = 0;
        if (i >= (size_t)radius && i + (size_t)radius < n) {
            const float *p = in + i - (size_t)radius;
            for (int t = 0; t <= 2 * radius; t++)
                acc += taps[t] * p[t];
        } else {
            for (int t = -radius; t <= radius; t++)
                acc += taps[t + radius] *
                       in[denoise_clamp_index((ptrdiff_t)i + t, n)];
        }
        out[i] = (float)acc;
    }
}

/* Across rows: out[i] = sum_t taps[t] * rows[t][i], the terms added in the
 * same order as convolve_row's, a whole row at a time so the loop over i
 * vectorises. acc holds n doubles. */
static void convolve_rows(const float *const *rows, float *out, size_t n,
                          const float *taps, int radius, double *acc)
{
    for (size_t i = 0; i < n; i++)
        acc[i] = 0;
    for (int t = 0; t <= 2 * radius; t++) {
        const float *restrict row = rows[t];
        const float w = taps[t];
        for (size_t i = 0; i < n; i++)
            acc[i] += w * row[i];
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (float)acc[i];
}

int denoise_gaussian_plane(const sp_volume *src, sp_volume *dst,
                           const float *taps_i, int radius_i,
                           const float *taps_j, int radius_j, size_t k_begin,
                           size_t k_end)
{
    size_t nx = src->dim[0], ny = src->dim[1];
    float *tmp = malloc(nx * ny * sizeof *tmp);
    double *acc = malloc(nx * sizeof *acc);
    if (!tmp || !acc) {
        free(tmp);
        free(acc);
        return 0;
    }
    const float *rows[2 * DENOISE_GAUSS_MAX_RADIUS + 1];
    for (size_t k = k_begin; k < k_end; k++) {
        const float *in = sp_volume_f32(src) + k * nx * ny;
        float *out = sp_volume_f32(dst) + k * nx * ny;
        for (size_t j = 0; j < ny; j++)
            convolve_row(in + j * nx, tmp + j * nx, nx, taps_i, radius_i);
        for (size_t j = 0; j < ny; j++) {
            for (int t = 0; t <= 2 * radius_j; t++)
                rows[t] =
                    tmp + denoise_clamp_index((ptrdiff_t)j + t - radius_j,
                                              ny) * nx;
            convolve_rows(rows, out + j * nx, nx, taps_j, radius_j, acc);
        }
    }
    free(tmp);
    free(acc);
    return 1;
}

int denoise_gaussian_k(sp_volume *vol, const float *taps, int radius,
                       size_t j_begin, size_t j_end)
{
    size_t nx = vol->dim[0], ny = vol->dim[1], nz = vol->dim[2];
    float *data = sp_volume_f32(vol);
    float *buf = malloc(nz * nx * sizeof *buf);
    double *acc = malloc(nx * sizeof *acc);
    if (!buf || !acc) {
        free(buf);
        free(acc);
        return 0;
    }
    const float *rows[2 * DENOISE_GAUSS_MAX_RADIUS + 1];
    for (size_t j = j_begin; j < j_end; j++) {
        for (size_t k = 0; k < nz; k++)
            memcpy(buf + k * nx, data + (k * ny + j) * nx, nx * sizeof *buf);
        for (size_t k = 0; k < nz; k++) {
            for (int t = 0; t <= 2 * radius; t++)
                rows[t] =
                    buf + denoise_clamp_index((ptrdiff_t)k + t - radius, nz) *
                              nx;
            convolve_rows(rows, data + (k * ny + j) * nx, nx, taps, radius,
                          acc);
        }
    }
    free(buf);
    free(acc);
    return 1;
}
