/* Separable Gaussian smoothing, one axis at a time. */
#include <math.h>

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

void denoise_convolve_axis(const sp_volume *src, sp_volume *dst, int axis,
                           const float *taps, int radius, size_t k_begin,
                           size_t k_end)
{
    const float *in = sp_volume_f32(src);
    float *out = sp_volume_f32(dst);
    size_t nx = src->dim[0], ny = src->dim[1], nz = src->dim[2];
    size_t n_axis = src->dim[axis];
    size_t stride = axis == 0 ? 1 : axis == 1 ? nx : nx * ny;
    for (size_t k = k_begin; k < k_end; k++)
        for (size_t j = 0; j < ny; j++) {
            size_t row = (k * ny + j) * nx;
            size_t pos_base[3] = {0, j, k};
            for (size_t i = 0; i < nx; i++) {
                pos_base[0] = i;
                size_t at = pos_base[axis];
                /* Start of the line through this voxel along `axis`. */
                const float *line = in + row + i - at * stride;
                double acc = 0;
                if (at >= (size_t)radius && at + (size_t)radius < n_axis) {
                    const float *p = line + (at - (size_t)radius) * stride;
                    for (int t = 0; t <= 2 * radius; t++)
                        acc += taps[t] * p[(size_t)t * stride];
                } else {
                    for (int t = -radius; t <= radius; t++)
                        acc += taps[t + radius] *
                               line[denoise_clamp_index((ptrdiff_t)at + t, n_axis) *
                                    stride];
                }
                out[row + i] = (float)acc;
            }
        }
    (void)nz;
}
