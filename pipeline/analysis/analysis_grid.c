/* A coarser working grid for large series: block means by integer factors
 * (the analysis needs ~1.5 mm, not 0.5 mm), and label maps expanded back
 * onto the input grid. */
#include "analysis.h"

#include <math.h>
#include <stdlib.h>

sp_status analysis_reduce(const sp_volume *src, double target_mm,
                          sp_volume *dst, int factor[3], sp_error *err)
{
    const float *in = sp_volume_f32(src);
    if (!in)
        return sp_error_set(err, SP_UNSUPPORTED, "reduce needs F32");
    size_t nd[3];
    for (int a = 0; a < 3; a++) {
        double f = floor(target_mm / src->spacing[a] + 0.25);
        factor[a] = f < 1 ? 1 : f > 8 ? 8 : (int)f;
        nd[a] = src->dim[a] / (size_t)factor[a];
        if (nd[a] == 0)
            nd[a] = 1, factor[a] = 1;
    }
    sp_status st = sp_volume_alloc(dst, SP_VOXEL_F32, nd[0], nd[1], nd[2], err);
    if (st != SP_OK)
        return st;
    double m[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            m[r][c] = src->vox2lps[r][c];
    for (int r = 0; r < 3; r++) {
        for (int a = 0; a < 3; a++) {
            m[r][3] += (factor[a] - 1) / 2.0 * src->vox2lps[r][a];
            m[r][a] = src->vox2lps[r][a] * factor[a];
        }
    }
    sp_volume_set_geometry(dst, m);
    float *out = sp_volume_f32(dst);
    double norm = 1.0 / (factor[0] * factor[1] * factor[2]);
    for (size_t k = 0; k < nd[2]; k++)
        for (size_t j = 0; j < nd[1]; j++)
            for (size_t i = 0; i < nd[0]; i++) {
                double acc = 0;
                for (int c = 0; c < factor[2]; c++)
                    for (int b = 0; b < factor[1]; b++) {
                        const float *row = in + sp_volume_index(
                            src, i * (size_t)factor[0],
                            j * (size_t)factor[1] + (size_t)b,
                            k * (size_t)factor[2] + (size_t)c);
                        for (int a = 0; a < factor[0]; a++)
                            acc += row[a];
                    }
                out[sp_volume_index(dst, i, j, k)] = (float)(acc * norm);
            }
    return SP_OK;
}

sp_status analysis_expand_labels(const sp_volume *small, const int factor[3],
                                 const sp_volume *like, sp_volume *dst,
                                 sp_error *err)
{
    const uint16_t *in = sp_volume_u16(small);
    if (!in)
        return sp_error_set(err, SP_UNSUPPORTED, "expand needs U16 labels");
    sp_status st = sp_volume_alloc_like(dst, like, SP_VOXEL_U16, err);
    if (st != SP_OK)
        return st;
    uint16_t *out = sp_volume_u16(dst);
    size_t *si = malloc(like->dim[0] * sizeof *si);
    if (!si) {
        sp_volume_free(dst);
        return sp_error_set(err, SP_NOMEM, "expand: out of memory");
    }
    for (size_t i = 0; i < like->dim[0]; i++) {
        si[i] = i / (size_t)factor[0];
        if (si[i] >= small->dim[0])
            si[i] = small->dim[0] - 1;
    }
    for (size_t k = 0; k < like->dim[2]; k++) {
        size_t sk = k / (size_t)factor[2];
        if (sk >= small->dim[2])
            sk = small->dim[2] - 1;
        for (size_t j = 0; j < like->dim[1]; j++) {
            size_t sj = j / (size_t)factor[1];
            if (sj >= small->dim[1])
                sj = small->dim[1] - 1;
            const uint16_t *row = in + sp_volume_index(small, 0, sj, sk);
            uint16_t *o = out + sp_volume_index(like, 0, j, k);
            for (size_t i = 0; i < like->dim[0]; i++)
                o[i] = row[si[i]];
        }
    }
    free(si);
    return SP_OK;
}
