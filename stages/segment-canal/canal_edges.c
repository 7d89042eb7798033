/* Sub-voxel canal boundary: rays from the canal centre, each stopped at
 * the first wall it meets (bone, disc, ligament: a rise of the HU profile
 * well above the canal's level), at that rise's steepest point, instead
 * of at a fixed HU threshold on whole pixels. A fixed threshold puts the
 * edge where the blurred profile reaches it: well inside the canal against
 * bone (900 HU cortex reaches 55 HU a millimetre early), outside it
 * against the ligamentum flavum (60 HU, barely above 55, so noise lets the
 * fill leak). The steepest point of a blurred step lies on the step
 * whatever its two levels. Area and AP then come from the star-shaped
 * outline. */
#include "canal_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_RAYS 72           /* 5 degrees apart; a multiple of 4 */
#define STEP_MM 0.25
#define MAX_R_MM 16.0
#define WINDOW_MM 4.0       /* profile beyond MAX_R_MM */
#define EDGE_BEFORE_MM 2.5  /* the steepest rise is looked for this far */
#define EDGE_AFTER_MM 3.0   /* before and after the first sample above the
                               contrast (a blurred bone step passes it about
                               two blur widths before its edge) */
#define MIN_CONTRAST_HU 25.0 /* a wall is this much above the lowest
                                level met on the ray (the ligamentum
                                flavum, blurred, about 35) */
#define MIN_FALL_HU 30.0    /* fat this far below the canal level (the
                               fill's own limit where the arch is open) */
#define MIN_BUMP_HU 10.0    /* a faint wall before the fat */
#define BUMP_MAX_DV 0.2     /* looked for on rays behind the centre or
                               beside it (up to 12 degrees in front of
                               lateral): the ligamentum flavum lines the
                               back and sides of the canal; in front the
                               sac meets fat or disc, and a 10 HU bump
                               there is the CSF over a noisy canal level */
#define BUMP_BACK_MM 4.0    /* looked for this far before the fall */
#define ACROSS_MM 0.5       /* profile averaged across the ray */
#define ALONG_MM 1.0        /* and over the planes this far up and down
                               the centre line: a wall runs along the
                               canal, a noise spike does not (0.5 mm left
                               the phantom's AP worst at 0.99 mm; 1 mm
                               0.85 mm, accuracy.md) */
#define MASK_SLACK_MM 1.5   /* an edge this far beyond the traced mask at
                               most (the fill's threshold edge is within a
                               pixel or two of the true one) */
#define LEVEL_QUANTILE 0.25 /* canal level: CSF rather than the cord */

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return a < b ? -1 : a > b;
}

static double sample(const sp_volume *smooth, const canal_plane *pl,
                     double u, double v)
{
    double g[3];
    for (int d = 0; d < 3; d++)
        g[d] = pl->p[d] + u * pl->l[d] + v * pl->a[d];
    return spine_sample(smooth, g, 1e9);
}

/* The mean of (u, v) in the plane and ALONG_MM either side of it along
 * the curve's tangent (a x l, the plane's normal). */
static double sample_along(const sp_volume *smooth, const canal_plane *pl,
                           double u, double v)
{
    const double *a = pl->a, *l = pl->l;
    double t[3] = {a[1] * l[2] - a[2] * l[1], a[2] * l[0] - a[0] * l[2],
                   a[0] * l[1] - a[1] * l[0]};
    double sum = 0;
    for (int k = -1; k <= 1; k++) {
        double g[3];
        for (int d = 0; d < 3; d++)
            g[d] = pl->p[d] + u * l[d] + v * a[d] + k * ALONG_MM * t[d];
        sum += spine_sample(smooth, g, 1e9);
    }
    return sum / 3;
}

static int mask_at(const canal_section *cs, double u, double v)
{
    int x = (int)lround(u / CANAL_PIXEL_MM) + CANAL_GRID / 2;
    int y = (int)lround((cs->grid_v0 - v) / CANAL_PIXEL_MM);
    return x >= 0 && y >= 0 && x < CANAL_GRID && y < CANAL_GRID &&
           cs->mask[y * CANAL_GRID + x];
}

/* The canal's own HU level: a low quantile over its pixels. */
static double canal_level(const sp_volume *smooth, const canal_plane *pl,
                          const canal_section *cs)
{
    float v[CANAL_GRID * CANAL_GRID];
    size_t n = 0;
    for (int y = 0; y < CANAL_GRID; y++)
        for (int x = 0; x < CANAL_GRID; x++)
            if (cs->mask[y * CANAL_GRID + x])
                v[n++] = (float)sample(smooth, pl,
                                       (x - CANAL_GRID / 2) * CANAL_PIXEL_MM,
                                       cs->grid_v0 - y * CANAL_PIXEL_MM);
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_float);
    return v[(size_t)(LEVEL_QUANTILE * (double)(n - 1))];
}

/* Distance from the centre to the boundary along direction (du, dv). */
static double ray(const sp_volume *smooth, const canal_plane *pl,
                  const canal_section *cs, double level, int open,
                  double du, double dv)
{
    enum { N = (int)(MAX_R_MM / STEP_MM) + 1,
           W = (int)(WINDOW_MM / STEP_MM),
           BEFORE = (int)(EDGE_BEFORE_MM / STEP_MM),
           AFTER = (int)(EDGE_AFTER_MM / STEP_MM),
           BUMP_BACK = (int)(BUMP_BACK_MM / STEP_MM) };
    double prof[N + W];
    double cu = cs->centre_u, cv = cs->centre_v, mask_r = -1;
    for (int i = 0; i < N + W; i++) {
        double r = i * STEP_MM, u = cu + r * du, v = cv + r * dv;
        prof[i] = 0;
        for (int k = -1; k <= 1; k++)
            prof[i] += sample_along(smooth, pl, u - k * ACROSS_MM * dv,
                                    v + k * ACROSS_MM * du) / 3;
        if (mask_r < 0 && !mask_at(cs, u, v))
            mask_r = r;
    }
    if (mask_r < 0)
        mask_r = MAX_R_MM;
    double low = prof[0];
    for (int i = 1; i < N; i++) {
        /* a wall rises this much above the lowest level met on the way
           out (the cord, brighter than CSF, is no wall once left); where
           the arch is open the dural sac ends where fat begins */
        low = fmin(low, prof[i - 1]);
        int sign = prof[i] - fmax(level, low) >= MIN_CONTRAST_HU ? 1
                   : open && prof[i] <= level - MIN_FALL_HU      ? -1
                                                                 : 0;
        if (sign == 0)
            continue;
        int k0 = i - BEFORE, k1 = i + AFTER, at = -1;
        if (sign < 0 && dv < BUMP_MAX_DV) {
            /* a faint wall (the ligamentum flavum, thin and partial
               volumed) just before the fat: the edge is its rise */
            int j = i;
            for (int k = i - 1; k >= 1 && k >= i - BUMP_BACK; k--)
                j = prof[k] > prof[j] ? k : j;
            double below = prof[0];
            for (int k = 1; k < j; k++)
                below = fmin(below, prof[k]);
            if (prof[j] - fmax(level, below) >= MIN_BUMP_HU)
                sign = 1, k0 = j - BEFORE, k1 = j;
        }
        /* the edge is the steepest rise (fall) near here: the first wall,
           not a brighter one (lamina) just behind a thin one (ligament),
           so not past the first wall's own peak (a fall of MIN_BUMP_HU
           after it) */
        double peak = sign * prof[i];
        int at_peak = i;
        for (int k = i + 1; k <= k1 && k < N + W; k++) {
            if (sign * prof[k] > peak)
                peak = sign * prof[k], at_peak = k;
            else if (sign * prof[k] < peak - MIN_BUMP_HU) {
                k1 = at_peak;
                break;
            }
        }
        double best = -INFINITY;
        for (int k = k0 < 2 ? 2 : k0; k <= k1 && k + 2 < N + W; k++) {
            double g = sign * (prof[k + 2] - prof[k - 2]);
            if (g > best)
                best = g, at = k;
        }
        if (at < 0)
            break;
        double off = 0;
        if (at > 2 && at + 3 < N + W) {
            double gm = sign * (prof[at + 1] - prof[at - 3]);
            double gp = sign * (prof[at + 3] - prof[at - 1]);
            double den = gm - 2 * best + gp;
            off = den < 0 ? fmax(-0.5, fmin(0.5, 0.5 * (gm - gp) / den)) : 0;
        }
        double r = (at + off) * STEP_MM;
        return fmin(r, mask_r + MASK_SLACK_MM);
    }
    return mask_r; /* no wall that way: open to the foramen */
}

void canal_refine_section(const sp_volume *smooth, const canal_plane *pl,
                          int open, canal_section *cs)
{
    if (!cs->found)
        return;
    /* the rays need a canal star-shaped about its centre; a crescent
       round a central herniation has its centre in the disc, and keeps
       the fill's outline */
    if (!mask_at(cs, cs->centre_u, cs->centre_v))
        return;
    double level = canal_level(smooth, pl, cs);
    if (isnan(level))
        return;
    double r[N_RAYS];
    for (int k = 0; k < N_RAYS; k++) {
        double t = 2 * M_PI * k / N_RAYS;
        r[k] = ray(smooth, pl, cs, level, open, cos(t), sin(t));
    }
    double area = 0;
    for (int k = 0; k < N_RAYS; k++)
        area += 0.5 * r[k] * r[(k + 1) % N_RAYS] * sin(2 * M_PI / N_RAYS);
    /* +v (anterior) is the ray at 90 degrees, -v at 270 */
    cs->ap_front_v = cs->centre_v + r[N_RAYS / 4];
    cs->ap_back_v = cs->centre_v - r[3 * N_RAYS / 4];
    cs->ap_mm = r[N_RAYS / 4] + r[3 * N_RAYS / 4];
    cs->width_mm = r[0] + r[N_RAYS / 2];
    cs->area_mm2 = area;
    /* the mask follows the outline: pixel centres inside it */
    for (int y = 0; y < CANAL_GRID; y++)
        for (int x = 0; x < CANAL_GRID; x++) {
            double u = (x - CANAL_GRID / 2) * CANAL_PIXEL_MM - cs->centre_u;
            double v = cs->grid_v0 - y * CANAL_PIXEL_MM - cs->centre_v;
            double rho = hypot(u, v);
            double t = atan2(v, u) / (2 * M_PI) * N_RAYS;
            if (t < 0)
                t += N_RAYS;
            int k = (int)t % N_RAYS;
            double f = t - floor(t);
            double edge = (1 - f) * r[k] + f * r[(k + 1) % N_RAYS];
            cs->mask[y * CANAL_GRID + x] = rho <= edge;
        }
}
