/* Resampling along the volume's own axes: output voxel centres map to
 * fractional source indices by a per-axis scale, so the work separates and
 * needs no matrix per voxel. */
#include <math.h>
#include <string.h>

#include "resample_kernel.h"

sp_status resample_alloc_grid(const sp_volume *src, const double spacing[3],
                              sp_volume *dst, sp_error *err)
{
    size_t dim[3];
    for (int a = 0; a < 3; a++) {
        if (!(spacing[a] > 0) || !isfinite(spacing[a]))
            return sp_error_set(err, SP_CONFIG,
                                "resample: spacing %g mm along axis %d is "
                                "not a positive number",
                                spacing[a], a);
        double extent = (double)(src->dim[a] - 1) * src->spacing[a];
        double n = floor(extent / spacing[a] + 1e-6) + 1;
        if (n > 65536)
            return sp_error_set(err, SP_LIMIT,
                                "resample: %.0f voxels along axis %d at "
                                "%g mm is more than 65536",
                                n, a, spacing[a]);
        dim[a] = (size_t)n;
    }
    sp_status st = sp_volume_alloc(dst, src->type, dim[0], dim[1], dim[2],
                                   err);
    if (st != SP_OK)
        return st;
    double m[4][4];
    memcpy(m, src->vox2lps, sizeof m);
    for (int a = 0; a < 3; a++)
        for (int r = 0; r < 3; r++)
            m[r][a] = src->vox2lps[r][a] / src->spacing[a] * spacing[a];
    sp_volume_set_geometry(dst, m);
    return SP_OK;
}

/* Source position of output index x along one axis, clamped to the
 * volume: integer base and fraction. */
typedef struct axis_sample {
    size_t base;
    size_t next;
    float frac;
} axis_sample;

static axis_sample sample_axis(size_t x, double scale, size_t n)
{
    double s = (double)x * scale;
    if (s >= (double)(n - 1))
        return (axis_sample){n - 1, n - 1, 0.0f};
    size_t b = (size_t)s;
    return (axis_sample){b, b + 1, (float)(s - (double)b)};
}

static size_t nearest_axis(size_t x, double scale, size_t n)
{
    double s = floor((double)x * scale + 0.5);
    return s >= (double)(n - 1) ? n - 1 : (size_t)s;
}

void resample_fill(const sp_volume *src, sp_volume *dst,
                   resample_method method, size_t k_begin, size_t k_end)
{
    double scale[3];
    for (int a = 0; a < 3; a++)
        scale[a] = dst->spacing[a] / src->spacing[a];
    size_t snx = src->dim[0], sny = src->dim[1], snz = src->dim[2];
    size_t nx = dst->dim[0], ny = dst->dim[1];
    if (method == RESAMPLE_NEAREST) {
        size_t elem = sp_voxel_size(src->type);
        const unsigned char *in = src->data;
        unsigned char *out = dst->data;
        for (size_t k = k_begin; k < k_end; k++) {
            size_t sk = nearest_axis(k, scale[2], snz);
            for (size_t j = 0; j < ny; j++) {
                size_t sj = nearest_axis(j, scale[1], sny);
                for (size_t i = 0; i < nx; i++) {
                    size_t si = nearest_axis(i, scale[0], snx);
                    memcpy(out + ((k * ny + j) * nx + i) * elem,
                           in + ((sk * sny + sj) * snx + si) * elem, elem);
                }
            }
        }
        return;
    }
    const float *in = sp_volume_f32(src);
    float *out = sp_volume_f32(dst);
    for (size_t k = k_begin; k < k_end; k++) {
        axis_sample sk = sample_axis(k, scale[2], snz);
        for (size_t j = 0; j < ny; j++) {
            axis_sample sj = sample_axis(j, scale[1], sny);
            const float *r00 = in + (sk.base * sny + sj.base) * snx;
            const float *r01 = in + (sk.base * sny + sj.next) * snx;
            const float *r10 = in + (sk.next * sny + sj.base) * snx;
            const float *r11 = in + (sk.next * sny + sj.next) * snx;
            for (size_t i = 0; i < nx; i++) {
                axis_sample si = sample_axis(i, scale[0], snx);
                float fi = si.frac, fj = sj.frac, fk = sk.frac;
                float c00 = r00[si.base] + fi * (r00[si.next] - r00[si.base]);
                float c01 = r01[si.base] + fi * (r01[si.next] - r01[si.base]);
                float c10 = r10[si.base] + fi * (r10[si.next] - r10[si.base]);
                float c11 = r11[si.base] + fi * (r11[si.next] - r11[si.base]);
                float c0 = c00 + fj * (c01 - c00);
                float c1 = c10 + fj * (c11 - c10);
                out[(k * ny + j) * nx + i] = c0 + fk * (c1 - c0);
            }
        }
    }
}
