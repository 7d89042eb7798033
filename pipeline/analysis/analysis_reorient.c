/* Axis permutation and flips that bring a volume's voxel axes as close as
 * possible to L, P, S: sagittal MR and axial CT then share one layout
 * (i left-right, j anterior to posterior, k feet to head). */
#include "analysis.h"

#include <math.h>
#include <string.h>

sp_status analysis_axes_lps(const sp_volume *src, analysis_axes *ax,
                            sp_error *err)
{
    int used[3] = {0, 0, 0};
    for (int a = 0; a < 3; a++) {
        int best = -1;
        double bv = 0;
        for (int s = 0; s < 3; s++) {
            double d[3];
            sp_volume_axis_direction(src, s, d);
            if (!used[s] && fabs(d[a]) > bv)
                bv = fabs(d[a]), best = s;
        }
        if (best < 0)
            return sp_error_set(err, SP_GEOMETRY,
                                "reorient: no voxel axis along LPS axis %d", a);
        double d[3];
        sp_volume_axis_direction(src, best, d);
        used[best] = 1;
        ax->src_axis[a] = best;
        ax->flip[a] = d[a] < 0;
    }
    return SP_OK;
}

/* Source index of canonical voxel c[] */
static void src_index(const analysis_axes *ax, const size_t sdim[3],
                      const size_t c[3], size_t s[3])
{
    for (int a = 0; a < 3; a++) {
        int sa = ax->src_axis[a];
        s[sa] = ax->flip[a] ? sdim[sa] - 1 - c[a] : c[a];
    }
}

sp_status analysis_reorient(const sp_volume *src, const analysis_axes *ax,
                            sp_volume *dst, sp_error *err)
{
    size_t d[3];
    for (int a = 0; a < 3; a++)
        d[a] = src->dim[ax->src_axis[a]];
    sp_status st = sp_volume_alloc(dst, src->type, d[0], d[1], d[2], err);
    if (st != SP_OK)
        return st;
    size_t vs = sp_voxel_size(src->type);
    const unsigned char *in = src->data;
    unsigned char *out = dst->data;
    size_t c[3], s[3];
    for (c[2] = 0; c[2] < d[2]; c[2]++)
        for (c[1] = 0; c[1] < d[1]; c[1]++)
            for (c[0] = 0; c[0] < d[0]; c[0]++) {
                src_index(ax, src->dim, c, s);
                memcpy(out + vs * sp_volume_index(dst, c[0], c[1], c[2]),
                       in + vs * sp_volume_index(src, s[0], s[1], s[2]), vs);
            }
    double m[4][4] = {{0}};
    size_t zero[3] = {0, 0, 0}, s0[3];
    src_index(ax, src->dim, zero, s0);
    double ijk[3] = {(double)s0[0], (double)s0[1], (double)s0[2]}, o[3];
    sp_volume_voxel_to_patient(src, ijk, o);
    for (int a = 0; a < 3; a++) {
        double sign = ax->flip[a] ? -1.0 : 1.0;
        for (int r = 0; r < 3; r++)
            m[r][a] = sign * src->vox2lps[r][ax->src_axis[a]];
        m[a][3] = o[a];
    }
    m[3][3] = 1;
    sp_volume_set_geometry(dst, m);
    return SP_OK;
}

sp_status analysis_reorient_back(const sp_volume *canon,
                                 const analysis_axes *ax,
                                 const sp_volume *like, sp_volume *dst,
                                 sp_error *err)
{
    for (int a = 0; a < 3; a++)
        if (canon->dim[a] != like->dim[ax->src_axis[a]])
            return sp_error_set(err, SP_INTERNAL,
                                "reorient back: grids do not match");
    sp_status st = sp_volume_alloc_like(dst, like, canon->type, err);
    if (st != SP_OK)
        return st;
    size_t vs = sp_voxel_size(canon->type);
    const unsigned char *in = canon->data;
    unsigned char *out = dst->data;
    size_t c[3], s[3];
    for (c[2] = 0; c[2] < canon->dim[2]; c[2]++)
        for (c[1] = 0; c[1] < canon->dim[1]; c[1]++)
            for (c[0] = 0; c[0] < canon->dim[0]; c[0]++) {
                src_index(ax, like->dim, c, s);
                memcpy(out + vs * sp_volume_index(dst, s[0], s[1], s[2]),
                       in + vs * sp_volume_index(canon, c[0], c[1], c[2]),
                       vs);
            }
    return SP_OK;
}
