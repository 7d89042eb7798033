/* The canal's planes turned to the line through the bodies' centres.
 *
 * The centre line is a local quadratic through the bodies' axial-slice
 * centres. Where the column bends most (the lowest disc, above the
 * sacrum) those centres are pulled about by the axial slices' oblique cuts
 * through the endplates and by the pedicles, and the fitted tangent there
 * was off by 15-18 degrees on the phantom: the measuring plane at L5-S1
 * cut the canal obliquely and 4-7 mm above the disc's middle at the canal.
 * A disc's own axis is the line from the body below it to the body above
 * it; each body's centre is taken in its own plane, half way between its
 * anterior and posterior walls (vert_describe's medians over the middle
 * of the body), so the pedicles and endplates do not pull it. */
#include "canal_kernels.h"

#include <math.h>

#define MIN_BODY_MM 10.0  /* a body this tall gives a centre */
#define MIN_WALL_RATIO 0.55 /* posterior against anterior wall distance */
#define MAX_TURN_DEG 30.0 /* a chord turned further from the fitted curve
                             is not trusted (a body centre is wrong) */
#define KEEP_MM 10.0      /* beyond the end bodies the end chord holds
                             this far, then blends back to the curve's own
                             tangent over as much again */

static double dot(const double x[3], const double y[3])
{
    return x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
}

static int normalise(double x[3])
{
    double n = sqrt(dot(x, x));
    if (!(n > 0))
        return 0;
    for (int d = 0; d < 3; d++)
        x[d] /= n;
    return 1;
}

/* Unit (1 - w) x + w y, or x when that is degenerate. */
static void blend(const double x[3], const double y[3], double w,
                  double out[3])
{
    for (int d = 0; d < 3; d++)
        out[d] = (1 - w) * x[d] + w * y[d];
    if (!normalise(out))
        for (int d = 0; d < 3; d++)
            out[d] = x[d];
}

typedef struct centre {
    double s;     /* arc position of the body's middle */
    double g[3];  /* grid mm */
    size_t v;     /* vertebra index */
} centre;

/* Set the tangent of sample q to t and make its anterior direction
 * perpendicular to it again. */
static void set_frame(spine_curve *c, size_t q, const double t[3])
{
    double a[3], k = dot(c->a[q], t);
    for (int d = 0; d < 3; d++)
        a[d] = c->a[q][d] - k * t[d];
    if (!normalise(a))
        return;
    for (int d = 0; d < 3; d++)
        c->t[q][d] = t[d], c->a[q][d] = a[d];
}

void canal_align_frames(spine_model *m)
{
    spine_curve *c = &m->curve;
    centre ce[SPINE_MAX_VERTEBRAE];
    size_t n = 0;
    if (c->n < 2)
        return;
    for (size_t v = 0; v < m->n_vert && n < SPINE_MAX_VERTEBRAE; v++) {
        const spine_vertebra *vv = &m->vert[v];
        /* the sacrum is often not `plausible` (no closed canal behind
           it) but its body is measured all the same; a body the field of
           view cuts has no middle, and walls much nearer the curve on one
           side than the other were not both found (a marrow gap ends the
           posterior reach early, a filled canal carries it into the arch:
           5-7 and 40-46 mm behind for 16-20 mm in front on the abdomen) */
        int cut = (v == 0 && !vv->lo_is_disc && c->cut_lo) ||
                  (v + 1 == m->n_vert && !vv->hi_is_disc && c->cut_hi);
        double ratio = vv->body_depth_mm > 0
                           ? vv->body_back_mm / vv->body_depth_mm
                           : 0;
        if (cut || vv->body_hi - vv->body_lo < MIN_BODY_MM ||
            !(ratio >= MIN_WALL_RATIO && ratio <= 1 / MIN_WALL_RATIO))
            continue;
        double s = 0.5 * (vv->body_lo + vv->body_hi);
        size_t q = spine_curve_at(c, s);
        double off = 0.5 * (vv->body_depth_mm - vv->body_back_mm);
        ce[n].s = (double)q * c->step_mm;
        ce[n].v = v;
        for (int d = 0; d < 3; d++)
            ce[n].g[d] = c->p[q][d] + off * c->a[q][d];
        n++;
    }
    if (n < 2)
        return;
    /* chord k joins centres k and k + 1; ok[k] when it is trusted */
    double chord[SPINE_MAX_VERTEBRAE][3];
    int ok[SPINE_MAX_VERTEBRAE] = {0};
    double cos_max = cos(MAX_TURN_DEG * M_PI / 180);
    for (size_t k = 0; k + 1 < n; k++) {
        for (int d = 0; d < 3; d++)
            chord[k][d] = ce[k + 1].g[d] - ce[k].g[d];
        size_t qm = spine_curve_at(c, 0.5 * (ce[k].s + ce[k + 1].s));
        ok[k] = normalise(chord[k]) && dot(chord[k], c->t[qm]) >= cos_max;
    }
    /* the tangent at each centre: the mean of its trusted chords */
    double at[SPINE_MAX_VERTEBRAE][3];
    int has[SPINE_MAX_VERTEBRAE] = {0};
    for (size_t k = 0; k < n; k++) {
        double sum[3] = {0, 0, 0};
        if (k > 0 && ok[k - 1])
            for (int d = 0; d < 3; d++)
                sum[d] += chord[k - 1][d];
        if (k + 1 < n && ok[k])
            for (int d = 0; d < 3; d++)
                sum[d] += chord[k][d];
        has[k] = normalise(sum);
        for (int d = 0; d < 3; d++)
            at[k][d] = sum[d];
    }
    double (*t0)[3] = c->t;
    for (size_t q = 0; q < c->n; q++) {
        double s = (double)q * c->step_mm, t[3];
        const double *own = t0[q];
        if (s < ce[0].s || s > ce[n - 1].s) {
            /* beyond the end bodies: their tangent, back to the curve's */
            size_t e = s < ce[0].s ? 0 : n - 1;
            if (!has[e])
                continue;
            double beyond = fabs(s - ce[e].s);
            double w = fmin(1, fmax(0, (beyond - KEEP_MM) / KEEP_MM));
            blend(at[e], own, w, t);
            set_frame(c, q, t);
            continue;
        }
        size_t k = 0;
        while (k + 2 < n && s > ce[k + 1].s)
            k++;
        if (!ok[k])
            continue;
        /* the chord over the disc between the two bodies, blending into
           each body's own tangent towards its middle */
        const spine_vertebra *lo = &m->vert[ce[k].v];
        const spine_vertebra *hi = &m->vert[ce[k + 1].v];
        double g0 = fmax(ce[k].s, lo->body_hi), g1 = fmin(ce[k + 1].s,
                                                          hi->body_lo);
        if (g1 < g0)
            g0 = g1 = 0.5 * (ce[k].s + ce[k + 1].s);
        if (s < g0)
            blend(has[k] ? at[k] : chord[k], chord[k],
                  (s - ce[k].s) / (g0 - ce[k].s), t);
        else if (s > g1)
            blend(chord[k], has[k + 1] ? at[k + 1] : chord[k],
                  (s - g1) / (ce[k + 1].s - g1), t);
        else
            for (int d = 0; d < 3; d++)
                t[d] = chord[k][d];
        set_frame(c, q, t);
    }
}
