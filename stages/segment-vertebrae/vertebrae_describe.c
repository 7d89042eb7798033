/* Per-vertebra shape across the curve, and the check that the pieces are
 * vertebrae at all. */
#include "vertebrae_kernels.h"

#include <math.h>
#include <stdlib.h>

#define MIN_DEPTH_MM 10.0 /* smallest plausible body radius (C-spine ~8) */
#define MIN_WIDTH_MM 12.0
#define MIN_CANAL_MM 6.0  /* canal gap behind the body, AP */
#define MAX_CANAL_MM 35.0
/* The anterior and lateral walls are where the mask ends for WALL_GAP_MM:
 * dark (fatty) marrow the hole filling missed leaves gaps of a voxel or
 * two inside the body (3 mm slices of the abdomen: L1 read 10.5 mm deep
 * instead of 20 with a 3 mm gap). Behind the body the canal starts after
 * CANAL_EDGE_MM of background. */
#define WALL_GAP_MM 7.0
#define CANAL_EDGE_MM 3.0

/* Distance from p along dir until the mask ends (`gap_mm` of
 * background). */
static double reach(const sp_volume *m, const double p[3],
                    const double dir[3], double sign, double gap_mm)
{
    double last = 0, out = 0;
    for (double r = 0; r < 80; r += 0.5) {
        double g[3];
        for (int d = 0; d < 3; d++)
            g[d] = p[d] + sign * r * dir[d];
        if (spine_mask_at(m, g)) {
            last = r;
            out = 0;
        } else if ((out += 0.5) >= gap_mm) {
            break;
        }
    }
    return last;
}

/* Behind the posterior wall at `back` mm: the length of the gap without
 * bone before bone comes again (the canal), 0 when none within reach. */
static double canal_gap(const sp_volume *m, const double p[3],
                        const double a[3], double back)
{
    double start = -1;
    for (double r = back + 0.5; r < back + MAX_CANAL_MM + 10; r += 0.5) {
        double g[3];
        for (int d = 0; d < 3; d++)
            g[d] = p[d] - r * a[d];
        int in = spine_mask_at(m, g);
        if (!in && start < 0)
            start = r;
        if (in && start >= 0)
            return r - start;
    }
    return 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Body depth (anterior wall) and half-width from the middle of the body. */
static void body_size(const sp_volume *spine, const spine_curve *c,
                      spine_vertebra *v)
{
    double d[64], w[64], b[64], g[64];
    int n = 0;
    double lo = v->s_lo + 0.3 * (v->s_hi - v->s_lo);
    double hi = v->s_hi - 0.3 * (v->s_hi - v->s_lo);
    for (double s = lo; s <= hi && n < 64; s += 1.0) {
        size_t q = spine_curve_at(c, s);
        double l[3];
        spine_lateral(c, q, l);
        d[n] = reach(spine, c->p[q], c->a[q], 1, WALL_GAP_MM);
        b[n] = reach(spine, c->p[q], c->a[q], -1, CANAL_EDGE_MM);
        g[n] = canal_gap(spine, c->p[q], c->a[q], b[n]);
        w[n] = 0.5 * (reach(spine, c->p[q], l, 1, WALL_GAP_MM) +
                      reach(spine, c->p[q], l, -1, WALL_GAP_MM));
        n++;
    }
    if (n == 0) {
        v->body_depth_mm = v->body_back_mm = v->lateral_mm = 0;
        v->canal_gap_mm = 0;
        return;
    }
    qsort(d, (size_t)n, sizeof *d, cmp_double);
    qsort(w, (size_t)n, sizeof *w, cmp_double);
    qsort(b, (size_t)n, sizeof *b, cmp_double);
    qsort(g, (size_t)n, sizeof *g, cmp_double);
    v->canal_gap_mm = g[n / 2];
    v->body_back_mm = b[n / 2];
    v->body_depth_mm = d[n / 2];
    v->lateral_mm = w[n / 2];
}

sp_status vert_describe(const sp_volume *spine, spine_model *model,
                        sp_error *err)
{
    size_t plausible = 0;
    for (size_t v = 0; v < model->n_vert; v++) {
        spine_vertebra *vv = &model->vert[v];
        body_size(spine, &model->curve, vv);
        vv->plausible = vv->body_depth_mm >= MIN_DEPTH_MM &&
                        vv->lateral_mm >= MIN_WIDTH_MM &&
                        vv->canal_gap_mm >= MIN_CANAL_MM &&
                        vv->canal_gap_mm <= MAX_CANAL_MM;
        plausible += (size_t)vv->plausible;
        /* keep the ellipse usable for ends cut short */
        if (vv->body_depth_mm < MIN_DEPTH_MM)
            vv->body_depth_mm = MIN_DEPTH_MM;
        if (vv->lateral_mm < MIN_WIDTH_MM)
            vv->lateral_mm = MIN_WIDTH_MM;
    }
    if (plausible < 2)
        return sp_error_set(err, SP_NOTANALYSABLE,
                            "not analysable: %zu of %zu pieces of the bone "
                            "column look like a vertebra (a body with a "
                            "spinal canal behind it); at least 2 are needed",
                            plausible, model->n_vert);
    return SP_OK;
}
