/* Extent of the posterior disc displacement across the canal front. */
#include "measure_extent.h"
#include "measure_outline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPAN_FRACTION 0.9 /* a run this share of the canal spans it */
#define WALL_MM 3.0       /* the reference planes lie this far inside the
                             adjacent bodies: their posterior walls bound
                             the disc space (Fardon 2014) */
#define INNER_FRACTION 0.6 /* the canal's inner part; the columns beside
                              it on either side give the undisplaced
                              baseline (a central herniation can fill the
                              whole inner part) */
#define COMPARED_FRACTION 0.8 /* columns compared: beyond them the front
                                 curves away into the lateral recesses,
                                 where a small shift of the outline moves
                                 it by millimetres */
#define FRONT_ROWS 3
#define BONE_HU 150.0     /* cortex, as segment-canal's wall */
#define PLANES_FRACTION 0.45
#define SPINE_MAX_PLANES 64 /* planes either side looked at, at most *//* planes within this share of the disc
                               height either side of its middle */
#define MIN_RUN 4          /* a displaced run is at least this many columns
                              (3 mm: narrower is noise, not a herniation) */

/* v of the canal's front edge in column x: the first of FRONT_ROWS canal
 * pixels in a row (thin horns of partial volume at the corners do not
 * count); NAN when there is none. */
static double front(const canal_section *cs, int x)
{
    int run = 0;
    for (int y = 0; y < CANAL_GRID; y++) {
        run = cs->mask[y * CANAL_GRID + x] ? run + 1 : 0;
        if (run == FRONT_ROWS)
            return cs->grid_v0 - (y - FRONT_ROWS + 0.5) * CANAL_PIXEL_MM;
    }
    return NAN;
}

/* Perimeter of an ellipse (Ramanujan's first approximation). */
static double perimeter(double a, double b)
{
    return M_PI * (3 * (a + b) - sqrt((3 * a + b) * (a + 3 * b)));
}

/* Whether +u (the plane's lateral axis t x a) points to the patient's
 * left (LPS +x). */
static int u_is_left(const sp_volume *grid, const spine_curve *c, size_t q)
{
    const double *t = c->t[q], *a = c->a[q];
    double l[3] = {t[1] * a[2] - t[2] * a[1], t[2] * a[0] - t[0] * a[2],
                   t[0] * a[1] - t[1] * a[0]};
    double x = 0;
    for (int d = 0; d < 3; d++)
        x += grid->vox2lps[0][d] / grid->spacing[d] * l[d];
    return x > 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The most displaced run of canal-front columns in plane qd. */
typedef struct plane_run {
    int n_canal, first, last, run, start;
    double max_mm, offset;
} plane_run;

/* Tissue just in front of the canal front at column x of plane q: bone
 * there means the plane cuts an endplate, not the disc margin. */
static int front_is_bone(const sp_volume *ct, const spine_curve *c, size_t q,
                         int x, double v)
{
    const double *t = c->t[q], *a = c->a[q];
    double l[3] = {t[1] * a[2] - t[2] * a[1], t[2] * a[0] - t[0] * a[2],
                   t[0] * a[1] - t[1] * a[0]};
    double u = (x - CANAL_GRID / 2) * CANAL_PIXEL_MM, g[3];
    for (int d = 0; d < 3; d++)
        g[d] = c->p[q][d] + u * l[d] + (v + CANAL_PIXEL_MM) * a[d];
    return spine_sample(ct, g, 0) >= BONE_HU;
}

/* The longest-displaced run of columns in [x0, x1] standing `tol` above
 * `offset`, into best (the one holding the largest displacement). */
static void find_run(const double *disp, int x0, int x1, double offset,
                     double tol, plane_run *best)
{
    int run = 0, start = 0;
    double run_max = 0;
    for (int x = x0; x <= x1 + 1; x++) {
        double dx = x <= x1 ? disp[x] - offset : NAN;
        if (!isnan(dx) && dx >= tol) {
            if (run++ == 0)
                start = x, run_max = dx;
            run_max = dx > run_max ? dx : run_max;
            continue;
        }
        /* a run ends: keep the one holding the largest displacement */
        if (run >= MIN_RUN && run_max > best->max_mm)
            best->run = run, best->start = start, best->max_mm = run_max,
        best->offset = offset;
        run = 0;
    }
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void scan_plane(const sp_volume *ct, const spine_curve *c,
                       const canal_result *r, size_t qd, size_t ql, size_t qh,
                       double tol, plane_run *best)
{
    const canal_section *d = &r->sec[qd];
    memset(best, 0, sizeof *best);
    best->first = best->last = -1;
    best->max_mm = -INFINITY;
    int lo_x = -1, hi_x = -1;
    for (int x = 0; x < CANAL_GRID; x++)
        if (!isnan(front(d, x)))
            lo_x = lo_x < 0 ? x : lo_x, hi_x = x;
    if (lo_x < 0)
        return;
    double trim = 0.5 * (1 - INNER_FRACTION) * (hi_x - lo_x + 1);
    double outer = 0.5 * (1 - COMPARED_FRACTION) * (hi_x - lo_x + 1);
    /* the disc front against the adjacent walls, column by column */
    double disp[CANAL_GRID], inner[CANAL_GRID], side[2][CANAL_GRID];
    int n_side[2] = {0, 0}, n = 0, n_compared = 0;
    for (int x = 0; x < CANAL_GRID; x++) {
        disp[x] = NAN;
        if (x < lo_x + outer || x > hi_x - outer)
            continue;
        double fd = front(d, x), fl = front(&r->sec[ql], x);
        double fh = front(&r->sec[qh], x);
        if (isnan(fd))
            continue;
        int part = x < lo_x + trim ? 0 : x > hi_x - trim ? 1 : -1;
        n_compared++;
        if (part < 0) {
            best->n_canal++;
            best->first = best->first < 0 ? x : best->first;
            best->last = x;
        }
        if (isnan(fl) || isnan(fh) || front_is_bone(ct, c, qd, x, fd))
            continue;
        disp[x] = 0.5 * (fl + fh) - fd;
        if (part < 0)
            inner[n++] = disp[x];
        else
            side[part][n_side[part]++] = disp[x];
    }
    if (n == 0)
        return;
    /* in the inner part, less its median: what stands out is focal
       (herniation); an even shift of the whole front is the mid-line
       displacement */
    double offset = median_of(inner, n);
    int x0 = (int)ceil(lo_x + trim), x1 = (int)floor(hi_x - trim);
    find_run(disp, x0, x1, offset, tol, best);
    if (best->run > 0 || offset < tol || n_side[0] < 2 || n_side[1] < 2)
        return;
    /* the whole inner part is displaced: a central herniation as wide as
       it, or a bulge. Against the less displaced of the parts beside it
       (a paracentral herniation reaches into one), a herniation stands
       out and falls off within the canal; a bulge does not */
    double base = fmin(median_of(side[0], n_side[0]),
                       median_of(side[1], n_side[1]));
    if (offset - base < tol)
        return;
    find_run(disp, (int)ceil(lo_x + outer), (int)floor(hi_x - outer), base,
             tol, best);
    if (best->run > 0)
        best->n_canal = n_compared;
}

int measure_displacement_extent(const sp_volume *ct, const spine_model *m,
                                const canal_result *r, size_t v,
                                double tol, measure_extent *e)
{
    memset(e, 0, sizeof *e);
    const spine_vertebra *lo = &m->vert[v], *hi = &m->vert[v + 1];
    const spine_curve *c = &m->curve;
    size_t ql = spine_curve_at(c, lo->body_hi - WALL_MM);
    size_t qh = spine_curve_at(c, hi->body_lo + WALL_MM);
    if (ql >= r->n || qh >= r->n || !r->sec[ql].found || !r->sec[qh].found)
        return 0;
    /* planes through the middle of the disc: the centre line is not
       perpendicular to every disc (L5-S1), so one plane may cut an
       endplate where another passes through the disc margin */
    double mid = 0.5 * (lo->s_hi + hi->s_lo);
    double reach = PLANES_FRACTION * (hi->body_lo - lo->body_hi);
    size_t q0 = spine_curve_at(c, mid - reach);
    size_t q1 = spine_curve_at(c, mid + reach);
    if (q1 >= r->n)
        q1 = r->n - 1;
    plane_run runs[2 * SPINE_MAX_PLANES + 1];
    if (q1 < q0 || q1 - q0 >= sizeof runs / sizeof runs[0])
        return 0;
    int any = 0;
    for (size_t q = q0; q <= q1; q++) {
        memset(&runs[q - q0], 0, sizeof runs[0]);
        if (!r->sec[q].found)
            continue;
        any = 1;
        scan_plane(ct, c, r, q, ql, qh, tol, &runs[q - q0]);
    }
    /* a run counts when the next plane up or down has one over the same
       columns: a herniation has height, noise in one plane does not */
    plane_run best = {.max_mm = -INFINITY};
    size_t q_best = spine_curve_at(c, mid);
    for (size_t q = q0; q <= q1; q++) {
        const plane_run *pr = &runs[q - q0];
        int held = 0;
        for (size_t o = q > q0 ? q - 1 : q; o <= q + 1 && o <= q1; o++) {
            const plane_run *nb = &runs[o - q0];
            held |= o != q && nb->run > 0 && nb->start < pr->start + pr->run &&
                    pr->start < nb->start + nb->run;
        }
        if (pr->run > 0 && held && pr->max_mm > best.max_mm)
            best = *pr, q_best = q;
    }
    if (!any)
        return 0;
    if (best.run == 0)
        return 1;
    e->max_mm = best.max_mm;
    e->q = q_best, e->ql = ql, e->qh = qh;
    e->start = best.start, e->run = best.run, e->baseline_mm = best.offset;
    e->base_mm = best.run * CANAL_PIXEL_MM;
    e->spans_canal = best.run >= SPAN_FRACTION * best.n_canal;
    double a = 0.5 * (lo->lateral_mm + hi->lateral_mm);
    double b = 0.25 * (lo->body_depth_mm + lo->body_back_mm +
                       hi->body_depth_mm + hi->body_back_mm);
    if (a <= 0)
        a = b;
    double p = perimeter(a, b);
    e->extent_deg = p > 0 ? 360.0 * e->base_mm / p : 0;
    /* where the run sits in the canal: the middle third is central */
    double at = best.start + 0.5 * (best.run - 1);
    double centre = 0.5 * (best.first + best.last);
    double third = (best.last - best.first + 1) / 6.0;
    if (e->spans_canal || fabs(at - centre) <= third) {
        snprintf(e->position, sizeof e->position, "central");
    } else {
        int left = (at > centre) == u_is_left(ct, c, q_best);
        snprintf(e->position, sizeof e->position, "%s paracentral",
                 left ? "left" : "right");
    }
    return 1;
}

json_t *measure_extent_outline(const sp_volume *ct, const spine_model *m,
                               const canal_result *r,
                               const measure_extent *e)
{
    if (e->run <= 0 || e->q >= r->n)
        return NULL;
    const spine_curve *c = &m->curve;
    json_t *front_side = json_array(), *base_side = json_array();
    for (int x = e->start; x < e->start + e->run; x++) {
        double fd = front(&r->sec[e->q], x);
        double ref = 0.5 * (front(&r->sec[e->ql], x) +
                            front(&r->sec[e->qh], x));
        if (isnan(fd) || isnan(ref))
            continue;
        /* the column's two edges, at the front and at the baseline */
        for (int k = 0; k < 2; k++) {
            double u = (x - CANAL_GRID / 2 + (k ? 0.5 : -0.5)) *
                       CANAL_PIXEL_MM;
            json_array_append_new(front_side,
                                  measure_plane_point(ct, c, e->q, u, fd));
            json_array_insert_new(base_side, 0,
                                  measure_plane_point(ct, c, e->q, u,
                                                      ref - e->baseline_mm));
        }
    }
    json_array_extend(front_side, base_side);
    json_decref(base_side);
    if (json_array_size(front_side) < 4) {
        json_decref(front_side);
        return NULL;
    }
    return front_side;
}

json_t *measure_extent_caliper(const sp_volume *ct, const spine_model *m,
                               const canal_result *r,
                               const measure_extent *e)
{
    if (e->run <= 0 || e->q >= r->n)
        return NULL;
    double best = -INFINITY, u = 0, v_front = 0, v_base = 0;
    for (int x = e->start; x < e->start + e->run; x++) {
        double fd = front(&r->sec[e->q], x);
        double base = 0.5 * (front(&r->sec[e->ql], x) +
                             front(&r->sec[e->qh], x)) - e->baseline_mm;
        if (!isnan(fd) && !isnan(base) && base - fd > best)
            best = base - fd, u = (x - CANAL_GRID / 2) * CANAL_PIXEL_MM,
            v_front = fd, v_base = base;
    }
    if (!isfinite(best))
        return NULL;
    return json_pack("[o, o]",
                     measure_plane_point(ct, &m->curve, e->q, u, v_base),
                     measure_plane_point(ct, &m->curve, e->q, u, v_front));
}
