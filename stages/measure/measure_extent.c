/* Extent of the posterior disc displacement across the canal front. */
#include "measure_extent.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SPAN_FRACTION 0.9 /* a run this share of the canal spans it */
#define WALL_MM 3.0       /* the reference planes lie this far inside the
                             adjacent bodies: their posterior walls bound
                             the disc space (Fardon 2014) */
#define INNER_FRACTION 0.8 /* columns compared: the inner part of the
                              canal, where its front is not curving away */
#define FRONT_ROWS 3
#define MIN_RUN 2          /* a displaced run is at least this many columns */

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

int measure_displacement_extent(const sp_volume *grid,
                                const spine_model *m, const canal_result *r,
                                size_t v, double tol, measure_extent *e)
{
    memset(e, 0, sizeof *e);
    const spine_vertebra *lo = &m->vert[v], *hi = &m->vert[v + 1];
    const spine_curve *c = &m->curve;
    size_t qd = spine_curve_at(c, 0.5 * (lo->s_hi + hi->s_lo));
    size_t ql = spine_curve_at(c, lo->body_hi - WALL_MM);
    size_t qh = spine_curve_at(c, hi->body_lo + WALL_MM);
    if (qd >= r->n || ql >= r->n || qh >= r->n || !r->sec[qd].found ||
        !r->sec[ql].found || !r->sec[qh].found)
        return 0;
    const canal_section *d = &r->sec[qd];
    int lo_x = -1, hi_x = -1;
    for (int x = 0; x < CANAL_GRID; x++)
        if (!isnan(front(d, x)))
            lo_x = lo_x < 0 ? x : lo_x, hi_x = x;
    double trim = 0.5 * (1 - INNER_FRACTION) * (hi_x - lo_x + 1);
    int n_canal = 0, first = -1, last = -1;
    int run = 0, start = 0, best_run = 0, best_start = 0;
    double run_max = 0, best_run_max = -INFINITY;
    for (int x = 0; x <= CANAL_GRID; x++) {
        double disp = NAN;
        if (x < CANAL_GRID && x >= lo_x + trim && x <= hi_x - trim) {
            double fd = front(d, x), fl = front(&r->sec[ql], x);
            double fh = front(&r->sec[qh], x);
            double wall = 0.5 * (fl + fh);
            if (!isnan(fd)) {
                n_canal++;
                first = first < 0 ? x : first, last = x;
                if (!isnan(wall))
                    disp = wall - fd;
            }
        }
        if (!isnan(disp) && disp >= tol) {
            if (run++ == 0)
                start = x, run_max = disp;
            run_max = disp > run_max ? disp : run_max;
            continue;
        }
        /* a run ends: keep the one holding the largest displacement */
        if (run >= MIN_RUN && run_max > best_run_max)
            best_run = run, best_start = start, best_run_max = run_max;
        run = 0;
    }
    if (best_run == 0)
        return 1;
    e->max_mm = best_run_max;
    e->base_mm = best_run * CANAL_PIXEL_MM;
    e->spans_canal = best_run >= SPAN_FRACTION * n_canal;
    double a = 0.5 * (lo->lateral_mm + hi->lateral_mm);
    double b = 0.25 * (lo->body_depth_mm + lo->body_back_mm +
                       hi->body_depth_mm + hi->body_back_mm);
    if (a <= 0)
        a = b;
    double p = perimeter(a, b);
    e->extent_deg = p > 0 ? 360.0 * e->base_mm / p : 0;
    /* where the run sits in the canal: the middle third is central */
    double mid = best_start + 0.5 * (best_run - 1);
    double centre = 0.5 * (first + last), third = (last - first + 1) / 6.0;
    if (e->spans_canal || fabs(mid - centre) <= third) {
        snprintf(e->position, sizeof e->position, "central");
    } else {
        int left = (mid > centre) == u_is_left(grid, c, qd);
        snprintf(e->position, sizeof e->position, "%s paracentral",
                 left ? "left" : "right");
    }
    return 1;
}
