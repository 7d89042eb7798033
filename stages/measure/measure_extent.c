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
#define COMPARED_FRACTION 0.8 /* columns compared, of the canal's width */
#define BONE_HU 150.0     /* cortex, as segment-canal's wall */
#define PLANES_FRACTION 0.45 /* planes within this share of the disc
                                height either side of its middle */
#define SPINE_MAX_PLANES 64 /* planes either side looked at, at most */
#define MIN_RUN 4          /* a displaced run is at least this many columns
                              (3 mm: narrower is noise, not a herniation) */
/* The margins are found on HU profiles along v, one per column, each the
 * mean of the plane and its two neighbours and of five samples across
 * 2 mm of the column, smoothed along v: a margin is continuous over a
 * few millimetres, noise is not (at 40 HU of noise one plane's column
 * scatters its margin by a millimetre or more). */
#define STEP_MM 0.25
#define ACROSS_MM 0.5     /* samples across the column, this far apart */
#define ACROSS_N 2        /* either side */
#define PLANES_N 1        /* planes either side */
#define SIGMA_MM 0.75
#define INSIDE_MM 5.0     /* a disc profile starts this far inside the
                             walls' line */
#define REACH_MM 16.0     /* and ends this far behind it (a wall profile
                             starts this far in front of the canal's
                             centre) */
#define PROFILE_N ((int)((INSIDE_MM + REACH_MM) / STEP_MM) + 1)
#define FALL_MM 2.0       /* a margin: the profile stays below half way
                             for this long behind it */
#define WALL_FRACTION 0.75 /* where a thin cortex's edge lies between the
                              canal's level and the cortex's blurred peak
                              (0.70-0.82 for a 0.5-1.5 mm cortex over
                              marrow blurred by 0.6-1.4 mm) */
#define BASE_HALF_MM 3.0  /* the bodies' wall: its columns this near the
                             centre line (the posterior wall, not the
                             pedicles beside the canal) */
#define CANAL_NEAR_MM 2.0 /* the canal's level: the lower quartile 2-8 mm
                             behind the wall (CSF between the cord or
                             roots; past a narrow canal's back wall) */
#define CANAL_FAR_MM 8.0
#define DISC_DEPTH_MM 4.0 /* the disc's level: 1-4 mm inside the wall */
#define DISC_HALF_MM 6.0  /* over the columns this near the centre line */
#define BONE_NEAR_MM 1.5  /* bone this near in front of a disc margin: the
                             plane cuts an endplate there */
#define MIN_CONTRAST 30.0
#define MID_PLANES 2      /* mid-line: planes either side of the middle */ /* disc over canal, HU, for a margin to be seen */

static double column_u(int x)
{
    return (x - CANAL_GRID / 2) * CANAL_PIXEL_MM;
}

/* HU along column u of plane q from v_start backwards (decreasing v,
 * towards the canal) in STEP_MM steps, averaged over the planes within
 * PLANES_N of q and across the column, then smoothed along v (Gaussian,
 * SIGMA_MM). */
static void profile(const sp_volume *ct, const spine_curve *c, size_t q,
                    double u, double v_start, double *out)
{
    double raw[PROFILE_N];
    size_t q0 = q > PLANES_N ? q - PLANES_N : 0;
    size_t q1 = q + PLANES_N < c->n ? q + PLANES_N : c->n - 1;
    for (int i = 0; i < PROFILE_N; i++) {
        double v = v_start - i * STEP_MM, sum = 0;
        int n = 0;
        for (size_t p = q0; p <= q1; p++) {
            double l[3];
            spine_lateral(c, p, l);
            for (int k = -ACROSS_N; k <= ACROSS_N; k++) {
                double g[3], w = u + k * ACROSS_MM;
                for (int d = 0; d < 3; d++)
                    g[d] = c->p[p][d] + w * l[d] + v * c->a[p][d];
                sum += spine_sample(ct, g, 0), n++;
            }
        }
        raw[i] = sum / n;
    }
    /* the taps once per profile, not once per sample (exp was a seventh
       of the CT analysis' CPU time) */
    int half = (int)ceil(3 * SIGMA_MM / STEP_MM);
    if (half > PROFILE_N)
        half = PROFILE_N; /* wider taps would not touch the profile */
    double taps[2 * PROFILE_N + 1], s2 = 2 * (SIGMA_MM / STEP_MM) * (SIGMA_MM / STEP_MM);
    for (int k = -half; k <= half; k++)
        taps[k + half] = exp(-(k * k) / s2);
    for (int i = 0; i < PROFILE_N; i++) {
        double sum = 0, wsum = 0;
        for (int k = -half; k <= half; k++) {
            if (i + k < 0 || i + k >= PROFILE_N)
                continue;
            double w = taps[k + half];
            sum += w * raw[i + k], wsum += w;
        }
        out[i] = sum / wsum;
    }
}

/* Index (fractional) where p falls through `level`, walking from index
 * `from`: the first fall after which p stays below it for FALL_MM (a
 * noise dip does not); NAN when there is none. */
static double fall(const double *p, int from, double level)
{
    int stay = (int)(FALL_MM / STEP_MM);
    for (int i = from + 1; i + stay < PROFILE_N; i++) {
        if (p[i] >= level || p[i - 1] < level)
            continue;
        int k = i;
        while (k <= i + stay && p[k] < level)
            k++;
        if (k > i + stay)
            return i - 1 + (p[i - 1] - level) / (p[i - 1] - p[i]);
    }
    return NAN;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile_of(double *v, int n, double f)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[(int)(f * (n - 1) + 0.5)];
}

static double median_of(double *v, int n)
{
    return quantile_of(v, n, 0.5);
}

/* The bodies' posterior wall in reference plane q: v of the rise from
 * the canal into bone in the columns within BASE_HALF_MM of the centre
 * line (median), walking forwards from the canal's centre v_canal; NAN
 * when not seen. canal_hu is the canal's level for the wall's level;
 * *canal_out gets the canal's level 2-5 mm behind the wall. */
static double wall_v(const sp_volume *ct, const spine_curve *c, size_t q,
                     double v_canal, double canal_hu, double *canal_out)
{
    double edge[CANAL_GRID], behind[CANAL_GRID * 16];
    int n = 0, nb = 0;
    double v_start = v_canal + REACH_MM;
    int centre = (int)(REACH_MM / STEP_MM), near = (int)(2.0 / STEP_MM);
    for (int x = 0; x < CANAL_GRID; x++) {
        double u = column_u(x), p[PROFILE_N];
        if (fabs(u) > BASE_HALF_MM)
            continue;
        profile(ct, c, q, u, v_start, p);
        int b = centre;
        while (b >= 0 && p[b] < BONE_HU)
            b--;
        if (b < 0)
            continue;
        int i = b;
        for (int k = b; k >= 0 && k >= b - near; k--)
            i = p[k] > p[i] ? k : i;
        /* a cortex thinner than the blur peaks low, and its outer edge
           lies where the profile is at about 3/4 of that peak, not half */
        double level = canal_hu + WALL_FRACTION * (p[i] - canal_hu);
        while (i + 1 < PROFILE_N && p[i + 1] >= level)
            i++;
        if (i + 1 >= PROFILE_N)
            continue;
        double w = i + (p[i] - level) / (p[i] - p[i + 1]);
        edge[n++] = v_start - w * STEP_MM;
        for (double d = CANAL_NEAR_MM; d <= CANAL_FAR_MM; d += 0.5) {
            int k = (int)lround(w + d / STEP_MM);
            if (k < PROFILE_N && nb < (int)(sizeof behind / sizeof *behind))
                behind[nb++] = p[k];
        }
    }
    if (n < 3)
        return NAN;
    if (canal_out)
        *canal_out = nb > 0 ? quantile_of(behind, nb, 0.25) : canal_hu;
    return median_of(edge, n);
}

/* The point of the wall at v in plane q's centre column (grid mm). */
static void wall_point(const spine_curve *c, size_t q, double v, double p[3])
{
    for (int d = 0; d < 3; d++)
        p[d] = c->p[q][d] + v * c->a[q][d];
}

/* v in plane q where the line through the two walls' points crosses it:
 * the line of the posterior walls as a straight line in the image, so a
 * centre line that is not straight between the bodies does not move it
 * (the phantom's fitted line runs 1 mm closer to one wall than to the
 * other at some levels). */
static double line_v(const spine_curve *c, size_t q, const measure_extent *e)
{
    double d[3], r[3], along = 0, off = 0;
    for (int k = 0; k < 3; k++) {
        d[k] = e->wall_hi[k] - e->wall_lo[k];
        along += d[k] * c->t[q][k];
        off += (c->p[q][k] - e->wall_lo[k]) * c->t[q][k];
    }
    double f = fabs(along) > 1e-9 ? off / along : 0.5;
    double v = 0;
    for (int k = 0; k < 3; k++) {
        r[k] = e->wall_lo[k] + f * d[k];
        v += (r[k] - c->p[q][k]) * c->a[q][k];
    }
    return v;
}

/* The displaced run of columns of one disc plane. */
typedef struct plane_run {
    int n_canal, first, last, run, start;
    double max_mm, offset;
} plane_run;

/* The disc's posterior margin (v) in column x of disc plane q, against
 * the wall at ref_v; NAN when the column shows no disc-to-canal fall or
 * the plane cuts bone there (an endplate, not the disc margin). */
static double disc_v(const sp_volume *ct, const spine_curve *c, size_t q,
                     int x, const measure_extent *e)
{
    double p[PROFILE_N];
    double v_start = e->ref_v + INSIDE_MM;
    profile(ct, c, q, column_u(x), v_start, p);
    int from = (int)(1.0 / STEP_MM);
    double level = 0.5 * (e->disc_hu + e->canal_hu);
    if (p[from] < level)
        return NAN;
    double f = fall(p, from, level);
    if (isnan(f))
        return NAN;
    for (int i = (int)(f - BONE_NEAR_MM / STEP_MM); i <= f; i++)
        if (i >= 0 && p[i] >= BONE_HU)
            return NAN;
    return v_start - f * STEP_MM;
}

/* The disc's level in plane q: median HU 1-4 mm inside the wall over
 * the central columns. */
static double disc_level(const sp_volume *ct, const spine_curve *c,
                         size_t q, double ref_v)
{
    double v[CANAL_GRID * 16];
    int n = 0;
    for (int x = 0; x < CANAL_GRID; x++) {
        double u = column_u(x), p[PROFILE_N];
        if (fabs(u) > DISC_HALF_MM)
            continue;
        profile(ct, c, q, u, ref_v + INSIDE_MM, p);
        for (double d = 1.0; d <= DISC_DEPTH_MM; d += 1.0)
            if (n < (int)(sizeof v / sizeof *v))
                v[n++] = p[(int)lround((INSIDE_MM - d) / STEP_MM)];
    }
    return n > 0 ? median_of(v, n) : NAN;
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
    double l[3], x = 0;
    spine_lateral(c, q, l);
    for (int d = 0; d < 3; d++)
        x += grid->vox2lps[0][d] / grid->spacing[d] * l[d];
    return x > 0;
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

/* Columns of the canal in section cs: the first and last holding any of
 * its pixels; 0 when it is empty. */
static int canal_columns(const canal_section *cs, int *lo, int *hi)
{
    *lo = *hi = -1;
    for (int x = 0; x < CANAL_GRID; x++)
        for (int y = 0; y < CANAL_GRID; y++)
            if (cs->mask[y * CANAL_GRID + x]) {
                *lo = *lo < 0 ? x : *lo, *hi = x;
                break;
            }
    return *lo >= 0;
}

static void scan_plane(const sp_volume *ct, const spine_curve *c,
                       const canal_result *r, size_t qd,
                       const measure_extent *e, double tol, plane_run *best)
{
    memset(best, 0, sizeof *best);
    best->first = best->last = -1;
    best->max_mm = -INFINITY;
    /* the canal's width: the disc plane's, or the bodies' planes' where
       a herniation narrows it; the outer tenth on either side is the
       lateral recess, where the bodies' walls curve back from their line */
    int lo_x, hi_x, lo_w, hi_w;
    if (!canal_columns(&r->sec[qd], &lo_x, &hi_x))
        return;
    for (int k = 0; k < 2; k++)
        if (canal_columns(&r->sec[k ? e->qh : e->ql], &lo_w, &hi_w))
            lo_x = lo_w < lo_x ? lo_w : lo_x, hi_x = hi_w > hi_x ? hi_w : hi_x;
    int outer = (int)lround(0.5 * (1 - COMPARED_FRACTION) * (hi_x - lo_x + 1));
    lo_x += outer, hi_x -= outer;
    measure_extent pe = *e;
    pe.ref_v = line_v(c, qd, e);
    pe.disc_hu = disc_level(ct, c, qd, pe.ref_v);
    if (!(pe.disc_hu - pe.canal_hu >= MIN_CONTRAST) || pe.disc_hu >= BONE_HU)
        return;
    double trim = 0.5 * (1 - INNER_FRACTION) * (hi_x - lo_x + 1);
    /* the disc's margin behind the line of the bodies' walls, column by
       column (positive: behind it, into the canal) */
    double disp[CANAL_GRID], inner[CANAL_GRID], side[2][CANAL_GRID];
    int n_side[2] = {0, 0}, n = 0;
    for (int x = 0; x < CANAL_GRID; x++) {
        disp[x] = NAN;
        if (x < lo_x || x > hi_x)
            continue;
        int part = x < lo_x + trim ? 0 : x > hi_x - trim ? 1 : -1;
        best->n_canal++;
        if (part < 0) {
            best->first = best->first < 0 ? x : best->first;
            best->last = x;
        }
        double v = disc_v(ct, c, qd, x, &pe);
        if (isnan(v))
            continue;
        disp[x] = pe.ref_v - v;
        if (part < 0)
            inner[n++] = disp[x];
        else
            side[part][n_side[part]++] = disp[x];
    }
    if (n == 0)
        return;
    /* in the inner part, less its median: what stands out is focal
       (herniation); an even shift of the whole front is the mid-line
       displacement. Never against a line in front of the walls: the
       margin curving away from the canal is no baseline */
    double offset = fmax(0.0, median_of(inner, n));
    find_run(disp, lo_x, hi_x, offset, tol, best);
    if (best->run > 0) {
        /* the baseline is what the run leaves of the inner part */
        int m = 0;
        for (int x = (int)ceil(lo_x + trim); x <= hi_x - trim; x++)
            if (!isnan(disp[x]) &&
                (x < best->start || x >= best->start + best->run))
                inner[m++] = disp[x];
        if (m >= MIN_RUN) {
            double rest = fmax(0.0, median_of(inner, m));
            best->max_mm += best->offset - rest;
            best->offset = rest;
        }
        return;
    }
    if (offset < tol || n_side[0] < 2 || n_side[1] < 2)
        return;
    /* the whole inner part is displaced: a central herniation as wide as
       it, or a bulge. Against the less displaced of the parts beside it
       (a paracentral herniation reaches into one), a herniation stands
       out and falls off within the canal; a bulge does not */
    double base = fmax(0.0, fmin(median_of(side[0], n_side[0]),
                                 median_of(side[1], n_side[1])));
    if (offset - base < tol)
        return;
    find_run(disp, lo_x, hi_x, base, tol, best);
}

/* The mid-line displacement: the disc's margin behind the walls' line at
 * the canal's centre column (and one column either side) of the planes
 * within MID_PLANES of the disc's middle, their median. */
static void midline(const sp_volume *ct, const spine_curve *c,
                    const canal_result *r, size_t qm, size_t q0, size_t q1,
                    measure_extent *e)
{
    if (qm >= r->n || !r->sec[qm].found)
        return;
    int x = (int)lround(r->sec[qm].centre_u / CANAL_PIXEL_MM) + CANAL_GRID / 2;
    if (x < 1 || x + 1 >= CANAL_GRID)
        return;
    double d[2 * MID_PLANES + 1];
    int n = 0;
    for (size_t q = qm > q0 + MID_PLANES ? qm - MID_PLANES : q0;
         q <= qm + MID_PLANES && q <= q1; q++) {
        measure_extent pe = *e;
        pe.ref_v = line_v(c, q, e);
        pe.disc_hu = disc_level(ct, c, q, pe.ref_v);
        if (!(pe.disc_hu - pe.canal_hu >= MIN_CONTRAST) ||
            pe.disc_hu >= BONE_HU)
            continue;
        double sum = 0;
        int k = 0;
        for (int dx = -1; dx <= 1; dx++) {
            double v = disc_v(ct, c, q, x + dx, &pe);
            if (!isnan(v))
                sum += pe.ref_v - v, k++;
        }
        if (k > 0)
            d[n++] = sum / k;
    }
    if (n == 0)
        return;
    e->mid_found = 1;
    e->mid_mm = median_of(d, n);
    e->mid_q = qm;
    e->mid_u = column_u(x);
    e->mid_wall_v = line_v(c, qm, e);
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
    /* the line of the two bodies' posterior walls, and the canal's level
       behind them (the canal's centre only says where to start looking) */
    double vl = r->sec[ql].centre_v, vh = r->sec[qh].centre_v;
    double canal_l = 0, canal_h = 0;
    double wl = wall_v(ct, c, ql, vl, 0, &canal_l);
    double wh = wall_v(ct, c, qh, vh, 0, &canal_h);
    if (isnan(wl) || isnan(wh))
        return 0;
    wl = wall_v(ct, c, ql, vl, canal_l, &canal_l);
    wh = wall_v(ct, c, qh, vh, canal_h, &canal_h);
    if (isnan(wl) || isnan(wh))
        return 0;
    wall_point(c, ql, wl, e->wall_lo);
    wall_point(c, qh, wh, e->wall_hi);
    e->canal_hu = 0.5 * (canal_l + canal_h);
    e->ql = ql, e->qh = qh;
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
    midline(ct, c, r, spine_curve_at(c, mid), q0, q1, e);
    int any = 0;
    for (size_t q = q0; q <= q1; q++) {
        memset(&runs[q - q0], 0, sizeof runs[0]);
        if (!r->sec[q].found)
            continue;
        any = 1;
        scan_plane(ct, c, r, q, e, tol, &runs[q - q0]);
    }
    /* a run counts when the next plane up has one over the same columns
       (a herniation has height, noise in one plane does not), and the
       pair counts with the less displaced of the two: the largest of many
       noisy columns and planes would read high */
    plane_run best = {.max_mm = -INFINITY};
    size_t q_best = spine_curve_at(c, mid);
    for (size_t q = q0; q < q1; q++) {
        const plane_run *pr = &runs[q - q0], *nb = &runs[q + 1 - q0];
        if (pr->run == 0 || nb->run == 0 || nb->start >= pr->start + pr->run ||
            pr->start >= nb->start + nb->run)
            continue;
        const plane_run *low = nb->max_mm < pr->max_mm ? nb : pr;
        if (low->max_mm > best.max_mm)
            best = *low, q_best = low == pr ? q : q + 1;
    }
    if (!any)
        return 0;
    if (best.run == 0)
        return 1;
    e->max_mm = best.max_mm;
    e->q = q_best, e->ql = ql, e->qh = qh;
    e->ref_v = line_v(c, q_best, e);
    e->disc_hu = disc_level(ct, c, q_best, e->ref_v);
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
                               const measure_extent *e, size_t q_draw)
{
    if (e->run <= 0 || e->q >= m->curve.n || q_draw >= m->curve.n)
        return NULL;
    const spine_curve *c = &m->curve;
    json_t *front_side = json_array(), *base_side = json_array();
    double base = e->ref_v - e->baseline_mm;
    for (int x = e->start; x < e->start + e->run; x++) {
        double fd = disc_v(ct, c, e->q, x, e);
        if (isnan(fd))
            continue;
        /* the column's two edges, at the disc's margin and at the
           baseline */
        for (int k = 0; k < 2; k++) {
            double u = column_u(x) + (k ? 0.5 : -0.5) * CANAL_PIXEL_MM;
            json_array_append_new(front_side,
                                  measure_plane_point(ct, c, q_draw, u, fd));
            json_array_insert_new(base_side, 0,
                                  measure_plane_point(ct, c, q_draw, u, base));
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
                               const measure_extent *e, size_t q_draw)
{
    if (e->run <= 0 || e->q >= m->curve.n || q_draw >= m->curve.n)
        return NULL;
    double best = -INFINITY, u = 0, v_front = 0;
    double base = e->ref_v - e->baseline_mm;
    for (int x = e->start; x < e->start + e->run; x++) {
        double fd = disc_v(ct, &m->curve, e->q, x, e);
        if (!isnan(fd) && base - fd > best)
            best = base - fd, u = column_u(x), v_front = fd;
    }
    if (!isfinite(best))
        return NULL;
    return json_pack("[o, o]",
                     measure_plane_point(ct, &m->curve, q_draw, u, base),
                     measure_plane_point(ct, &m->curve, q_draw, u, v_front));
}
