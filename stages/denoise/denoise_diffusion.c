/* Gradient anisotropic diffusion (Perona and Malik 1990): smooths flat
 * regions, stops at edges where the gradient is large against the
 * conductance K. */
#include <math.h>

#include "denoise_kernels.h"

static inline double conduct(double diff_mm, double inv_k2)
{
    return exp(-diff_mm * diff_mm * inv_k2);
}

void denoise_diffusion_step(const sp_volume *src, sp_volume *dst,
                            double conductance, double time_step,
                            int in_plane, size_t k_begin, size_t k_end)
{
    const float *in = sp_volume_f32(src);
    float *out = sp_volume_f32(dst);
    size_t nx = src->dim[0], ny = src->dim[1], nz = src->dim[2];
    size_t strides[3] = {1, nx, nx * ny};
    size_t pos[3];
    double inv_k2 = 1.0 / (conductance * conductance);
    int axes = in_plane ? 2 : 3;
    for (size_t k = k_begin; k < k_end; k++)
        for (size_t j = 0; j < ny; j++)
            for (size_t i = 0; i < nx; i++) {
                pos[0] = i;
                pos[1] = j;
                pos[2] = k;
                size_t at = (k * ny + j) * nx + i;
                double centre = in[at], flux = 0;
                for (int a = 0; a < axes; a++) {
                    double h = src->spacing[a];
                    size_t n = src->dim[a];
                    /* Differences to both neighbours, as gradients in
                     * value per mm; outside the volume they are zero. */
                    if (pos[a] + 1 < n) {
                        double g = (in[at + strides[a]] - centre) / h;
                        flux += conduct(g, inv_k2) * g / h;
                    }
                    if (pos[a] > 0) {
                        double g = (in[at - strides[a]] - centre) / h;
                        flux += conduct(g, inv_k2) * g / h;
                    }
                }
                out[at] = (float)(centre + time_step * flux);
            }
    (void)nz;
}
