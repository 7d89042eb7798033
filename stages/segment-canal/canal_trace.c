/* Canal in planes perpendicular to the centre line. */
#include "canal_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

#define CANAL_MAX_HU 55.0   /* CSF, cord, epidural fat; not disc, bone or
                               ligamentum flavum (60 HU) */
#define SAC_MIN_HU -30.0    /* where the canal leaks out (no bony ring,
                               fat right outside), the dural sac only */
#define WALL_HU 150.0       /* cortex of the posterior body wall */
#define GAP_MIN_MM 3.0      /* a canal gap behind the wall is this deep */
#define SEARCH_BACK_MM 50.0
#define HALF_W_MM 15.0      /* containing ellipse, lateral */
#define HALF_AP_MM 11.0     /* containing ellipse, antero-posterior */
#define MIN_AREA_MM2 40.0
#define SEED_WINDOW 15      /* samples (mm) either side for the median */
#define SEED_JUMP_MM 6.0
#define SEED_SHIFT_MM 8.0   /* a seed in disc material moves back this far
                               at most */
#define SMOOTH_MM 1.0     /* the Gaussian the canal is traced on */
#define BRIDGE_MM 25.0      /* open sections borrow the bounds of closed
                               ones this near (curve samples are 1 mm) */

void canal_result_free(canal_result *r)
{
    free(r->sec);
    r->sec = NULL;
    r->n = 0;
}

typedef canal_plane plane;

/* The plane perpendicular to the curve at sample q; lateral = t x a. */
static plane plane_at(const spine_curve *c, size_t q)
{
    plane pl = {c->p[q], c->a[q], {0}};
    spine_lateral(c, q, pl.l);
    return pl;
}

static void point(const plane *pl, double u, double v, double g[3])
{
    for (int d = 0; d < 3; d++)
        g[d] = pl->p[d] + u * pl->l[d] + v * pl->a[d];
}

/* v of the first soft-tissue gap behind the posterior body wall on the
 * mid-line, or NAN when the plane has no body. The wall is found in HU
 * (cortex is bright) because the bone mask may have filled the canal
 * where the wall has a gap (basivertebral foramen). */
static double seed_behind_body(const sp_volume *smooth,
                               const sp_volume *spine, const plane *pl,
                               double depth)
{
    double g[3];
    int body = 0;
    for (double v = 0; v >= -5; v -= 0.5) {
        point(pl, 0, v, g);
        body |= spine_mask_at(spine, g);
    }
    if (!body)
        return NAN; /* no body here (a disc level) */
    int wall = 0;
    double gap = 0;
    for (double v = -0.4 * depth; v > -SEARCH_BACK_MM; v -= 0.5) {
        point(pl, 0, v, g);
        double h = spine_sample(smooth, g, 1e9);
        if (h >= WALL_HU) {
            wall = 1;
            gap = 0;
        } else if (wall && h <= CANAL_MAX_HU && (gap += 0.5) >= GAP_MIN_MM) {
            return v + GAP_MIN_MM / 2;
        }
    }
    return NAN;
}

/* A narrow canal between bright walls reads above CANAL_MAX_HU over all
 * but a millimetre or two once smoothed, so the search above can run past
 * it to a gap behind the arch. A seed behind the canal the bone mask
 * shows (the vertebra's gap between body and arch) moves to that gap's
 * middle when it reads as canal there. */
static double seed_in_mask_gap(const sp_volume *smooth,
                               const spine_vertebra *vv, const plane *pl,
                               double seed)
{
    if (isnan(seed) || !(vv->canal_gap_mm > 0))
        return seed;
    double back = -(vv->body_back_mm + vv->canal_gap_mm);
    if (seed >= back)
        return seed;
    double mid = -(vv->body_back_mm + 0.5 * vv->canal_gap_mm), g[3];
    point(pl, 0, mid, g);
    return spine_sample(smooth, g, 1e9) <= CANAL_MAX_HU ? mid : seed;
}

/* Flood fill of canal pixels from (sx, sy) inside the ellipse centred at
 * (cu, cv); returns the pixel count. */
static size_t fill(const sp_volume *smooth, const plane *pl, canal_section *cs, int sx, int sy,
                   double cu, double cv, double min_hu, int *stack,
                   int *open)
{
    *open = 0;
    int G = CANAL_GRID;
    memset(cs->mask, 0, sizeof cs->mask);
    uint8_t seen[CANAL_GRID * CANAL_GRID];
    memset(seen, 0, sizeof seen);
    size_t count = 0;
    int top = 0;
    stack[top++] = sy * G + sx;
    seen[sy * G + sx] = 1;
    while (top) {
        int pix = stack[--top], x = pix % G, y = pix / G;
        double u = (x - G / 2) * CANAL_PIXEL_MM;
        double v = cs->grid_v0 - y * CANAL_PIXEL_MM;
        if (pow((u - cu) / HALF_W_MM, 2) + pow((v - cv) / HALF_AP_MM, 2) > 1) {
            *open = 1;
            continue;
        }
        double g[3];
        point(pl, u, v, g);
        double h = spine_sample(smooth, g, 1e9);
        if (h > CANAL_MAX_HU || h < min_hu)
            continue;
        cs->mask[pix] = 1;
        count++;
        static const int dx[4] = {1, -1, 0, 0}, dy[4] = {0, 0, 1, -1};
        for (int t = 0; t < 4; t++) {
            int nx = x + dx[t], ny = y + dy[t];
            if (nx < 0 || ny < 0 || nx >= G || ny >= G || seen[ny * G + nx])
                continue;
            seen[ny * G + nx] = 1;
            stack[top++] = ny * G + nx;
        }
    }
    return count;
}

static void measure(canal_section *cs)
{
    int G = CANAL_GRID;
    double su = 0, sv = 0, n = 0;
    for (int y = 0; y < G; y++)
        for (int x = 0; x < G; x++)
            if (cs->mask[y * G + x]) {
                su += (x - G / 2) * CANAL_PIXEL_MM;
                sv += cs->grid_v0 - y * CANAL_PIXEL_MM;
                n++;
            }
    cs->area_mm2 = n * CANAL_PIXEL_MM * CANAL_PIXEL_MM;
    if (n == 0)
        return;
    cs->centre_u = su / n, cs->centre_v = sv / n;
    int cx = (int)lround(cs->centre_u / CANAL_PIXEL_MM) + G / 2;
    int cy = (int)lround((cs->grid_v0 - cs->centre_v) / CANAL_PIXEL_MM);
    int lo = G, hi = -1;
    for (int y = 0; y < G && cx >= 0 && cx < G; y++)
        if (cs->mask[y * G + cx])
            lo = y < lo ? y : lo, hi = y > hi ? y : hi;
    cs->ap_mm = hi >= lo ? (hi - lo + 1) * CANAL_PIXEL_MM : 0;
    cs->ap_front_v = cs->grid_v0 - (lo - 0.5) * CANAL_PIXEL_MM;
    cs->ap_back_v = cs->grid_v0 - (hi + 0.5) * CANAL_PIXEL_MM;
    lo = G, hi = -1;
    for (int x = 0; x < G && cy >= 0 && cy < G; x++)
        if (cs->mask[cy * G + x])
            lo = x < lo ? x : lo, hi = x > hi ? x : hi;
    cs->width_mm = hi >= lo ? (hi - lo + 1) * CANAL_PIXEL_MM : 0;
}

static sp_status trace_section(const sp_volume *smooth, const spine_curve *c,
                               size_t q, double seed_v, canal_section *cs,
                               int *stack, uint8_t *open)
{
    int leaked = 0;
    plane pl = plane_at(c, q);
    int G = CANAL_GRID;
    cs->grid_v0 = seed_v + G / 2 * CANAL_PIXEL_MM;
    int sx = G / 2, sy = G / 2;
    /* a herniation can cover the seed (interpolated between the bodies):
       the canal is then behind it */
    for (int k = 0; k <= (int)(SEED_SHIFT_MM / CANAL_PIXEL_MM); k++) {
        double g[3];
        point(&pl, 0, seed_v - k * CANAL_PIXEL_MM, g);
        if (spine_sample(smooth, g, 1e9) <= CANAL_MAX_HU) {
            sy = G / 2 + k;
            break;
        }
    }
    /* centre the ellipse half its AP size behind the seed, fill, then
       recentre on what was found and fill again */
    double cv = seed_v - HALF_AP_MM / 2, cu = 0;
    double min_hu[2] = {-1000.0, SAC_MIN_HU};
    for (int pass = 0; pass < 2; pass++) {
        size_t n = fill(smooth, &pl, cs, sx, sy, cu, cv, min_hu[pass], stack,
                        &leaked);
        if (n == 0)
            return SP_OK;
        measure(cs);
        fill(smooth, &pl, cs, sx, sy, cs->centre_u, cs->centre_v,
             min_hu[pass], stack, &leaked);
        measure(cs);
        if (!leaked || cs->area_mm2 < MIN_AREA_MM2)
            break;
    }
    *open = (uint8_t)leaked;
    cs->found = cs->area_mm2 >= MIN_AREA_MM2;
    return SP_OK;
}

/* Whether section r's canal holds the point (u, v) of another plane, give
 * or take one pixel. */
static int near_canal(const canal_section *r, double u, double v)
{
    int x0 = (int)lround(u / CANAL_PIXEL_MM) + CANAL_GRID / 2;
    int y0 = (int)lround((r->grid_v0 - v) / CANAL_PIXEL_MM);
    for (int y = y0 - 1; y <= y0 + 1; y++)
        for (int x = x0 - 1; x <= x0 + 1; x++)
            if (x >= 0 && y >= 0 && x < CANAL_GRID && y < CANAL_GRID &&
                r->mask[y * CANAL_GRID + x])
                return 1;
    return 0;
}

/* Where the fill ran into its ellipse (open arch: disc levels,
 * interlaminar gaps, the sacral hiatus) the canal is kept within the
 * canal of the nearest closed sections above and below (bony ring all
 * round), give or take a pixel: what narrows it at the disc (disc,
 * ligamentum flavum) stays, what leaked out through the gap goes. */
static void bound_open_sections(canal_result *r, const uint8_t *open)
{
    long n = (long)r->n, reach = (long)lround(BRIDGE_MM);
    for (long q = 0; q < n; q++) {
        canal_section *cs = &r->sec[q];
        if (!cs->found || !open[q])
            continue;
        const canal_section *nb[2] = {NULL, NULL};
        for (long d = 1; d <= reach && (!nb[0] || !nb[1]); d++) {
            if (!nb[0] && q - d >= 0 && r->sec[q - d].found && !open[q - d])
                nb[0] = &r->sec[q - d];
            if (!nb[1] && q + d < n && r->sec[q + d].found && !open[q + d])
                nb[1] = &r->sec[q + d];
        }
        if (!nb[0] && !nb[1])
            continue;
        for (int y = 0; y < CANAL_GRID; y++)
            for (int x = 0; x < CANAL_GRID; x++) {
                uint8_t *px = &cs->mask[y * CANAL_GRID + x];
                double u = (x - CANAL_GRID / 2) * CANAL_PIXEL_MM;
                double v = cs->grid_v0 - y * CANAL_PIXEL_MM;
                if (*px && !(nb[0] && near_canal(nb[0], u, v)) &&
                    !(nb[1] && near_canal(nb[1], u, v)))
                    *px = 0;
            }
        measure(cs);
        cs->found = cs->area_mm2 >= MIN_AREA_MM2;
    }
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Median of the seeds that are set; NAN when none. */
static double global_median(const double *seed, size_t n)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    size_t m = 0;
    if (!v)
        return NAN;
    for (size_t q = 0; q < n; q++)
        if (!isnan(seed[q]))
            v[m++] = seed[q];
    qsort(v, m, sizeof *v, cmp_double);
    double r = m ? v[m / 2] : NAN;
    free(v);
    return r;
}

sp_status canal_trace(const sp_volume *ct, const sp_volume *spine,
                      const spine_model *model, canal_result *out,
                      sp_error *err)
{
    const spine_curve *c = &model->curve;
    out->n = c->n;
    out->sec = calloc(c->n ? c->n : 1, sizeof *out->sec);
    int *stack = malloc(CANAL_GRID * CANAL_GRID * 4 * sizeof *stack);
    double *seed = malloc((c->n ? c->n : 1) * sizeof *seed);
    double *med = malloc((c->n ? c->n : 1) * sizeof *med);
    uint8_t *open = calloc(c->n ? c->n : 1, 1);
    sp_volume smooth = {0};
    analysis_spline spline = {0};
    sp_status st = SP_OK;
    if (!out->sec || !stack || !seed || !med || !open) {
        st = sp_error_set(err, SP_NOMEM, "segment-canal: out of memory");
        goto done;
    }
    if ((st = analysis_gaussian(ct, SMOOTH_MM, &smooth, err)) != SP_OK)
        goto done;
    /* seeds behind the body where there is one, interpolated between */
    for (size_t q = 0; q < c->n; q++) {
        plane pl = plane_at(c, q);
        int v = -1;
        for (size_t w = 0; w < model->n_vert; w++)
            if ((double)q * c->step_mm >= model->vert[w].s_lo &&
                (double)q * c->step_mm <= model->vert[w].s_hi)
                v = (int)w;
        double depth = v >= 0 ? model->vert[v].body_depth_mm : 15.0;
        seed[q] = seed_behind_body(&smooth, spine, &pl, depth);
        if (v >= 0)
            seed[q] = seed_in_mask_gap(&smooth, &model->vert[v], &pl,
                                       seed[q]);
        out->sec[q].seeded_from_body = !isnan(seed[q]);
    }
    /* a seed far from its neighbours' median found a gap behind the arch,
       not the canal: drop it */
    for (size_t q = 0; q < c->n; q++) {
        if (isnan(seed[q]))
            continue;
        double win[2 * SEED_WINDOW + 1];
        int nw = 0;
        for (long t = (long)q - SEED_WINDOW; t <= (long)q + SEED_WINDOW; t++)
            if (t >= 0 && t < (long)c->n && !isnan(seed[t]))
                win[nw++] = seed[t];
        for (int x = 1; x < nw; x++)
            for (int y = x; y > 0 && win[y - 1] > win[y]; y--) {
                double tmp = win[y];
                win[y] = win[y - 1];
                win[y - 1] = tmp;
            }
        med[q] = win[nw / 2];
    }
    /* and far from all seeds' median: where the body seeds are few and
       wrong together, the local median cannot tell */
    double global = global_median(seed, c->n);
    for (size_t q = 0; q < c->n; q++)
        if (!isnan(seed[q]) && (fabs(seed[q] - med[q]) > SEED_JUMP_MM ||
                                fabs(seed[q] - global) > 2 * SEED_JUMP_MM)) {
            seed[q] = NAN;
            out->sec[q].seeded_from_body = 0;
        }
    for (size_t q = 0; q < c->n; q++) {
        if (!isnan(seed[q]))
            continue;
        long lo = (long)q - 1, hi = (long)q + 1;
        while (lo >= 0 && !out->sec[lo].seeded_from_body)
            lo--;
        while (hi < (long)c->n && !out->sec[hi].seeded_from_body)
            hi++;
        if (lo < 0 && hi >= (long)c->n)
            continue;
        if (lo < 0)
            seed[q] = seed[hi];
        else if (hi >= (long)c->n)
            seed[q] = seed[lo];
        else
            seed[q] = seed[lo] + (seed[hi] - seed[lo]) *
                                     (double)((long)q - lo) / (double)(hi - lo);
    }
    for (size_t q = 0; q < c->n; q++)
        if (!isnan(seed[q]))
            trace_section(&smooth, c, q, seed[q], &out->sec[q], stack,
                          &open[q]);
    bound_open_sections(out, open);
    if ((st = analysis_spline_new(&smooth, SMOOTH_MM, &spline, err)) !=
        SP_OK)
        goto done;
    for (size_t q = 0; q < c->n; q++) {
        plane pl = plane_at(c, q);
        canal_refine_section(ct, &smooth, &spline, &pl, open[q],
                             &out->sec[q]);
    }
done:
    sp_volume_free(&smooth);
    analysis_spline_free(&spline);
    free(stack), free(seed), free(med), free(open);
    if (st != SP_OK)
        canal_result_free(out);
    return st;
}

int canal_contains(const canal_result *r, size_t q, double u, double v)
{
    if (q >= r->n || !r->sec[q].found)
        return 0;
    const canal_section *cs = &r->sec[q];
    int x = (int)lround(u / CANAL_PIXEL_MM) + CANAL_GRID / 2;
    int y = (int)lround((cs->grid_v0 - v) / CANAL_PIXEL_MM);
    if (x < 0 || y < 0 || x >= CANAL_GRID || y >= CANAL_GRID)
        return 0;
    return cs->mask[y * CANAL_GRID + x];
}
