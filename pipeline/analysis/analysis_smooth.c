/* Separable Gaussian smoothing with sigma in mm (for thresholding noisy
 * thin-slice CT); borders replicate the edge voxel. */
#include "analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

sp_status analysis_gaussian(const sp_volume *src, double sigma_mm,
                            sp_volume *dst, sp_error *err)
{
    if (!sp_volume_f32(src))
        return sp_error_set(err, SP_UNSUPPORTED, "smoothing needs F32");
    sp_status st = sp_volume_alloc_like(dst, src, SP_VOXEL_F32, err);
    if (st != SP_OK)
        return st;
    size_t n = sp_volume_count(src);
    float *out = sp_volume_f32(dst);
    memcpy(out, src->data, n * sizeof *out);
    size_t longest = src->dim[0] > src->dim[1] ? src->dim[0] : src->dim[1];
    if (src->dim[2] > longest)
        longest = src->dim[2];
    float *line = malloc(longest * sizeof *line);
    if (!line) {
        sp_volume_free(dst);
        return sp_error_set(err, SP_NOMEM, "smoothing: out of memory");
    }
    for (int axis = 0; axis < 3 && sigma_mm > 0; axis++) {
        double sv = sigma_mm / src->spacing[axis];
        int r = (int)ceil(3 * sv);
        if (sv < 0.2 || r < 1)
            continue;
        if (r > 32)
            r = 32;
        float taps[65];
        double sum = 0;
        for (int t = -r; t <= r; t++)
            sum += taps[t + r] = (float)exp(-(double)(t * t) / (2 * sv * sv));
        for (int t = 0; t <= 2 * r; t++)
            taps[t] = (float)(taps[t] / sum);
        size_t len = src->dim[axis];
        size_t stride = axis == 0 ? 1
                        : axis == 1 ? src->dim[0]
                                    : src->dim[0] * src->dim[1];
        for (size_t l = 0; l < n / len; l++) {
            size_t base;
            if (axis == 0)
                base = l * len;
            else if (axis == 1)
                base = (l % src->dim[0]) +
                       (l / src->dim[0]) * src->dim[0] * src->dim[1];
            else
                base = l;
            for (size_t q = 0; q < len; q++)
                line[q] = out[base + q * stride];
            for (size_t q = 0; q < len; q++) {
                double acc = 0;
                for (int t = -r; t <= r; t++) {
                    long x = (long)q + t;
                    x = x < 0 ? 0 : x >= (long)len ? (long)len - 1 : x;
                    acc += taps[t + r] * line[x];
                }
                out[base + q * stride] = (float)acc;
            }
        }
    }
    free(line);
    return SP_OK;
}
