/* Morphology in millimetres through an exact Euclidean distance transform
 * (Felzenszwalb and Huttenlocher's lower envelope of parabolas, one axis at
 * a time), so anisotropic voxels give round structuring elements. */
#include "analysis.h"

#include <math.h>
#include <stdlib.h>

#define EDT_INF 1e20f

/* 1D squared distance transform of f (n samples, spacing s) into d. */
static void edt_1d(const float *f, float *d, size_t n, double s, int *v,
                   float *z)
{
    size_t k = 0;
    v[0] = 0;
    z[0] = -EDT_INF;
    z[1] = EDT_INF;
    double s2 = s * s;
    for (size_t q = 1; q < n; q++) {
        if (f[q] >= EDT_INF)
            continue;
        if (f[v[0]] >= EDT_INF) {
            v[0] = (int)q;
            continue;
        }
        double sv;
        for (;;) {
            int p = v[k];
            sv = ((f[q] + s2 * (double)q * q) - (f[p] + s2 * (double)p * p)) /
                 (2 * s2 * ((double)q - p));
            if (sv > z[k])
                break;
            k--; /* z[0] is -inf, so k never passes 0 */
        }
        k++;
        v[k] = (int)q;
        z[k] = (float)sv;
        z[k + 1] = EDT_INF;
    }
    if (f[v[0]] >= EDT_INF) {
        for (size_t q = 0; q < n; q++)
            d[q] = EDT_INF;
        return;
    }
    k = 0;
    for (size_t q = 0; q < n; q++) {
        while (z[k + 1] < (double)q)
            k++;
        double dq = s * ((double)q - v[k]);
        d[q] = (float)(dq * dq + f[v[k]]);
    }
}

/* Squared distance in mm from each voxel to the nearest voxel whose mask
 * value equals `target`. dist has count voxels. */
static sp_status sq_distance(const sp_volume *mask, uint8_t target,
                             int in_plane, float *dist, sp_error *err)
{
    const uint8_t *m = sp_volume_u8(mask);
    size_t n = sp_volume_count(mask);
    size_t longest = mask->dim[0];
    for (int a = 1; a < 3; a++)
        if (mask->dim[a] > longest)
            longest = mask->dim[a];
    float *f = malloc(longest * sizeof *f), *d = malloc(longest * sizeof *d);
    float *z = malloc((longest + 1) * sizeof *z);
    int *v = malloc(longest * sizeof *v);
    if (!f || !d || !z || !v) {
        free(f), free(d), free(z), free(v);
        return sp_error_set(err, SP_NOMEM,
                            "distance transform: out of memory");
    }
    for (size_t p = 0; p < n; p++)
        dist[p] = (m[p] != 0) == (target != 0) ? 0.0f : EDT_INF;
    for (int axis = 0; axis < (in_plane ? 2 : 3); axis++) {
        size_t len = mask->dim[axis];
        size_t stride = axis == 0 ? 1
                        : axis == 1 ? mask->dim[0]
                                    : mask->dim[0] * mask->dim[1];
        size_t lines = n / len;
        for (size_t l = 0; l < lines; l++) {
            size_t base;
            if (axis == 0)
                base = l * len;
            else if (axis == 1)
                base = (l % mask->dim[0]) +
                       (l / mask->dim[0]) * mask->dim[0] * mask->dim[1];
            else
                base = l;
            for (size_t q = 0; q < len; q++)
                f[q] = dist[base + q * stride];
            edt_1d(f, d, len, mask->spacing[axis], v, z);
            for (size_t q = 0; q < len; q++)
                dist[base + q * stride] = d[q];
        }
    }
    free(f), free(d), free(z), free(v);
    return SP_OK;
}

static sp_status grow(sp_volume *mask, double r_mm, uint8_t target,
                      int in_plane, sp_error *err)
{
    if (mask->type != SP_VOXEL_U8)
        return sp_error_set(err, SP_INTERNAL, "morphology needs a U8 mask");
    size_t n = sp_volume_count(mask);
    float *dist = malloc(n * sizeof *dist);
    if (!dist)
        return sp_error_set(err, SP_NOMEM, "morphology: out of memory");
    sp_status st = sq_distance(mask, target, in_plane, dist, err);
    if (st == SP_OK) {
        uint8_t *m = sp_volume_u8(mask);
        float r2 = (float)(r_mm * r_mm);
        for (size_t p = 0; p < n; p++)
            if (dist[p] <= r2)
                m[p] = target;
    }
    free(dist);
    return st;
}

sp_status analysis_dilate(sp_volume *mask, double r_mm, int in_plane,
                          sp_error *err)
{
    return grow(mask, r_mm, 1, in_plane, err);
}

sp_status analysis_erode(sp_volume *mask, double r_mm, int in_plane,
                         sp_error *err)
{
    return grow(mask, r_mm, 0, in_plane, err);
}

sp_status analysis_fill_holes_2d(sp_volume *mask, sp_error *err)
{
    if (mask->type != SP_VOXEL_U8)
        return sp_error_set(err, SP_INTERNAL, "hole filling needs a U8 mask");
    size_t nx = mask->dim[0], ny = mask->dim[1], nxy = nx * ny;
    uint8_t *seen = malloc(nxy);
    size_t *stack = malloc(nxy * sizeof *stack);
    if (!seen || !stack) {
        free(seen), free(stack);
        return sp_error_set(err, SP_NOMEM, "hole filling: out of memory");
    }
    for (size_t k = 0; k < mask->dim[2]; k++) {
        uint8_t *m = sp_volume_u8(mask) + k * nxy;
        size_t top = 0;
        for (size_t p = 0; p < nxy; p++) {
            size_t i = p % nx, j = p / nx;
            seen[p] = 0;
            if (!m[p] && (i == 0 || j == 0 || i == nx - 1 || j == ny - 1)) {
                seen[p] = 1;
                stack[top++] = p;
            }
        }
        while (top) {
            size_t p = stack[--top], i = p % nx, j = p / nx;
            size_t nb[4];
            int c = 0;
            if (i > 0)
                nb[c++] = p - 1;
            if (i + 1 < nx)
                nb[c++] = p + 1;
            if (j > 0)
                nb[c++] = p - nx;
            if (j + 1 < ny)
                nb[c++] = p + nx;
            for (int t = 0; t < c; t++)
                if (!m[nb[t]] && !seen[nb[t]]) {
                    seen[nb[t]] = 1;
                    stack[top++] = nb[t];
                }
        }
        for (size_t p = 0; p < nxy; p++)
            if (!m[p] && !seen[p])
                m[p] = 1;
    }
    free(seen), free(stack);
    return SP_OK;
}

double analysis_dice_labels(const sp_volume *a, int la, const sp_volume *b,
                            int lb)
{
    if (a->type != SP_VOXEL_U16 || b->type != SP_VOXEL_U16)
        return -1;
    for (int d = 0; d < 3; d++)
        if (a->dim[d] != b->dim[d])
            return -1;
    const uint16_t *pa = sp_volume_u16(a), *pb = sp_volume_u16(b);
    size_t na = 0, nb = 0, both = 0, n = sp_volume_count(a);
    for (size_t p = 0; p < n; p++) {
        int ia = la < 0 ? pa[p] != 0 : pa[p] == la;
        int ib = lb < 0 ? pb[p] != 0 : pb[p] == lb;
        na += ia;
        nb += ib;
        both += ia && ib;
    }
    if (na + nb == 0)
        return -1;
    return 2.0 * (double)both / (double)(na + nb);
}
