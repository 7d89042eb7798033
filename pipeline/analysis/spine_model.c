/* Small helpers around the spine model. */
#include "spine_model.h"

#include <math.h>
#include <stdlib.h>

void spine_curve_free(spine_curve *c)
{
    free(c->p), free(c->t), free(c->a);
    c->p = c->t = c->a = NULL;
    c->n = 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

double spine_inner_median(const spine_model *m,
                          double (*value)(const spine_vertebra *v))
{
    double x[SPINE_MAX_VERTEBRAE];
    size_t n = 0;
    for (size_t v = 0; v < m->n_vert && v < SPINE_MAX_VERTEBRAE; v++)
        if (m->vert[v].lo_is_disc && m->vert[v].hi_is_disc)
            x[n++] = value(&m->vert[v]);
    if (n == 0)
        return 0;
    qsort(x, n, sizeof *x, cmp_double);
    return x[n / 2];
}

void spine_grid_mm_to_lps(const sp_volume *vol, const double g[3],
                          double lps[3])
{
    double ijk[3];
    for (int d = 0; d < 3; d++)
        ijk[d] = g[d] / vol->spacing[d];
    sp_volume_voxel_to_patient(vol, ijk, lps);
}

int spine_mask_at(const sp_volume *mask, const double g[3])
{
    size_t idx[3];
    for (int d = 0; d < 3; d++) {
        long i = lround(g[d] / mask->spacing[d]);
        if (i < 0 || i >= (long)mask->dim[d])
            return 0;
        idx[d] = (size_t)i;
    }
    return sp_volume_u8(mask)[sp_volume_index(mask, idx[0], idx[1],
                                              idx[2])] != 0;
}

size_t spine_curve_at(const spine_curve *c, double s)
{
    if (c->n == 0 || s <= 0)
        return 0;
    size_t i = (size_t)lround(s / c->step_mm);
    return i >= c->n ? c->n - 1 : i;
}

double spine_sample(const sp_volume *ct, const double g[3], double outside)
{
    const float *v = sp_volume_f32(ct);
    double f[3];
    long b[3];
    for (int d = 0; d < 3; d++) {
        f[d] = g[d] / ct->spacing[d];
        if (!(f[d] >= 0) || f[d] > (double)(ct->dim[d] - 1))
            return outside;
        b[d] = (long)f[d];
        if (b[d] == (long)ct->dim[d] - 1 && b[d] > 0)
            b[d]--;
        f[d] -= (double)b[d];
    }
    if (ct->dim[0] < 2 || ct->dim[1] < 2 || ct->dim[2] < 2)
        return outside;
    double acc = 0;
    for (int c = 0; c < 8; c++) {
        long i = b[0] + (c & 1), j = b[1] + ((c >> 1) & 1),
             k = b[2] + ((c >> 2) & 1);
        double w = ((c & 1) ? f[0] : 1 - f[0]) *
                   (((c >> 1) & 1) ? f[1] : 1 - f[1]) *
                   (((c >> 2) & 1) ? f[2] : 1 - f[2]);
        acc += w * v[sp_volume_index(ct, (size_t)i, (size_t)j, (size_t)k)];
    }
    return acc;
}

void spine_window(const spine_curve *c, double z, double reach_mm,
                  size_t *q_lo, size_t *q_hi)
{
    size_t lo = 0;
    while (lo < c->n && c->p[lo][2] < z - reach_mm)
        lo++;
    size_t hi = lo;
    while (hi < c->n && c->p[hi][2] <= z + reach_mm)
        hi++;
    *q_lo = lo, *q_hi = hi;
}

void spine_lateral(const spine_curve *c, size_t q, double l[3])
{
    const double *t = c->t[q], *a = c->a[q];
    l[0] = t[1] * a[2] - t[2] * a[1];
    l[1] = t[2] * a[0] - t[0] * a[2];
    l[2] = t[0] * a[1] - t[1] * a[0];
}

size_t spine_project(const spine_curve *c, size_t q_lo, size_t q_hi,
                     const double g[3], double *u, double *v)
{
    size_t best = q_lo;
    double bd = INFINITY;
    for (size_t q = q_lo; q < q_hi; q++) {
        double dd = 0;
        for (int d = 0; d < 3; d++)
            dd += (g[d] - c->p[q][d]) * (g[d] - c->p[q][d]);
        if (dd < bd)
            bd = dd, best = q;
    }
    const double *a = c->a[best], *p = c->p[best];
    double l[3];
    spine_lateral(c, best, l);
    *u = *v = 0;
    for (int d = 0; d < 3; d++) {
        *u += (g[d] - p[d]) * l[d];
        *v += (g[d] - p[d]) * a[d];
    }
    return best;
}
