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
 * the curve's tangent (a x l, the plane's normal), read by `at`. */
static double along(double (*at)(const void *, const double *),
                    const void *img, const canal_plane *pl, double u,
                    double v)
{
    const double *a = pl->a, *l = pl->l;
    double t[3] = {a[1] * l[2] - a[2] * l[1], a[2] * l[0] - a[0] * l[2],
                   a[0] * l[1] - a[1] * l[0]};
    double sum = 0;
    for (int k = -1; k <= 1; k++) {
        double g[3];
        for (int d = 0; d < 3; d++)
            g[d] = pl->p[d] + u * l[d] + v * a[d] + k * ALONG_MM * t[d];
        sum += at(img, g);
    }
    return sum / 3;
}

static double at_linear(const void *vol, const double *g)
{
    return spine_sample(vol, g, 1e9);
}

static double at_spline(const void *spline, const double *g)
{
    return analysis_spline_sample(spline, g, 1e9);
}

/* Trilinear: the fill's own reading. */
static double sample_along(const sp_volume *vol, const canal_plane *pl,
                           double u, double v)
{
    return along(at_linear, vol, pl, u, v);
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

/* The unsmoothed image on the same profiles, where the smoothing hides a
 * thin dark gap: a sliver of fat between the sac and a disc corner is a
 * millimetre or two wide, and 1 mm of blur fills it from both sides
 * (CSF 10, fat -100, disc 90 average out near the CSF level), so the ray
 * runs on to the disc. A fall on this profile deep enough to stand out of
 * its noise (SHARP_SD of it, and at least MIN_FALL_HU) ends the canal
 * where the arch is open, as a fall into fat does. */
typedef struct sharp_image {
    const sp_volume *ct;
    double fall_hu;
} sharp_image;

#define SHARP_SD 4.0

/* The noise of a profile point of the unsmoothed image: the robust spread
 * of its difference from the smoothed one over the canal's pixels. */
static double sharp_noise(const sp_volume *ct, const sp_volume *smooth,
                          const canal_plane *pl, const canal_section *cs)
{
    float d[CANAL_GRID * CANAL_GRID];
    size_t n = 0;
    for (int y = 0; y < CANAL_GRID; y++)
        for (int x = 0; x < CANAL_GRID; x++)
            if (cs->mask[y * CANAL_GRID + x]) {
                double u = (x - CANAL_GRID / 2) * CANAL_PIXEL_MM;
                double v = cs->grid_v0 - y * CANAL_PIXEL_MM;
                d[n++] = (float)(sample_along(ct, pl, u, v) -
                                 sample_along(smooth, pl, u, v));
            }
    if (n < 8)
        return NAN;
    qsort(d, n, sizeof *d, cmp_float);
    float med = d[n / 2];
    for (size_t i = 0; i < n; i++)
        d[i] = fabsf(d[i] - med);
    qsort(d, n, sizeof *d, cmp_float);
    /* (the three points averaged across a ray lie within a voxel of
       each other: their mean is hardly less noisy) */
    return 1.4826 * d[n / 2];
}

/* A ray that runs along a wall instead of into it: seen from a point
 * beside a convex obstacle (the crescent round a central herniation,
 * traced from its lobes) the rays towards the dome graze its flanks,
 * which taper along the canal and read only 30-50 HU there, so the
 * profile rises too slowly for a wall and the ray ran up the flank to
 * the disc (the crescent's horns, 10 mm2 at case 19 L4-L5). Along such a
 * border the image differs across the ray: the two profiles ACROSS_MM
 * either side of it part by MIN_CONTRAST_HU more than they did at the
 * start and stay apart for BORDER_RUN_MM, where inside the canal they
 * agree within noise. The difference starts to rise before the border
 * and peaks on it: the edge is half way between. (The ninth session's
 * tip rule, measured on flat canals' tips and not kept there.) */
#define BORDER_RUN_MM 1.0

/* The edge (in samples) when the ray runs along a border from sample i
 * on; -1 when it does not. */
static double along_border(const double *s0, const double *s1, int i,
                           int n)
{
    enum { RUN = (int)(BORDER_RUN_MM / STEP_MM) };
    double d0 = s0[0] - s1[0];
    int sign = 0;
    for (int k = i; k < i + RUN; k++) {
        if (k >= n)
            return -1;
        double d = s0[k] - s1[k] - d0;
        int s = d >= MIN_CONTRAST_HU ? 1 : d <= -MIN_CONTRAST_HU ? -1 : 0;
        if (s == 0 || (sign && s != sign))
            return -1;
        sign = s;
    }
    int peak = i;
    while (peak + 1 < n && sign * (s0[peak + 1] - s1[peak + 1]) >=
                               sign * (s0[peak] - s1[peak]))
        peak++;
    return 0.5 * (i + peak);
}

/* Distance from the centre to the boundary along direction (du, dv);
 * `border`: the ray also ends where it runs along a border. Which wall
 * ends the ray is decided on the trilinear profile of `smooth`, as the
 * thresholds were measured; where on that wall's rise the edge lies, on
 * the spline's (`fine`): the trilinear profile's slope is constant
 * between voxel centres, so its steepest point snapped to the grid. The
 * spline is sharper as well, and small bright things inside the canal
 * (nerve roots, 35-40 HU) would pass the wall contrast on it. */
static double ray(const sp_volume *smooth, const analysis_spline *spline,
                  const sharp_image *sh,
                  const canal_plane *pl, const canal_section *cs,
                  double level, int open, int border, double cu,
                  double cv, double du, double dv)
{
    enum { N = (int)(MAX_R_MM / STEP_MM) + 1,
           W = (int)(WINDOW_MM / STEP_MM),
           BEFORE = (int)(EDGE_BEFORE_MM / STEP_MM),
           AFTER = (int)(EDGE_AFTER_MM / STEP_MM),
           BUMP_BACK = (int)(BUMP_BACK_MM / STEP_MM) };
    double prof[N + W], fine[N + W], sharp[N + W];
    double side[2][N + W];
    double mask_r = -1;
    for (int i = 0; i < N + W; i++) {
        double r = i * STEP_MM, u = cu + r * du, v = cv + r * dv;
        prof[i] = sharp[i] = 0;
        for (int k = -1; k <= 1; k++) {
            double q = sample_along(smooth, pl, u - k * ACROSS_MM * dv,
                                    v + k * ACROSS_MM * du);
            prof[i] += q / 3;
            if (k)
                side[k > 0][i] = q;
            if (sh)
                sharp[i] += sample_along(sh->ct, pl, u - k * ACROSS_MM * dv,
                                         v + k * ACROSS_MM * du) / 3;
        }
        if (mask_r < 0 && !mask_at(cs, u, v))
            mask_r = r;
    }
    if (mask_r < 0)
        mask_r = MAX_R_MM;
    double low = prof[0];
    for (int i = 1; i < N; i++) {
        double edge = border ? along_border(side[0], side[1], i, N) : -1;
        if (edge >= 0)
            return fmin(edge * STEP_MM, mask_r + MASK_SLACK_MM);
        /* a wall rises this much above the lowest level met on the way
           out (the cord, brighter than CSF, is no wall once left); where
           the arch is open the dural sac ends where fat begins */
        low = fmin(low, prof[i - 1]);
        int sign = prof[i] - fmax(level, low) >= MIN_CONTRAST_HU ? 1
                   : open && prof[i] <= level - MIN_FALL_HU      ? -1
                                                                 : 0;
        int gap = sign == 0 && open && sh && sharp[i] <= level - sh->fall_hu;
        if (gap)
            sign = -1;
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
                sign = 1, k0 = j - BEFORE, k1 = j, gap = 0;
        }
        if (gap) {
            /* a dark gap the smoothing hides: the edge is where the
               unsmoothed profile crosses half way down into it */
            double low_gap = sharp[i];
            for (int k = i + 1; k < N && k <= i + (int)(1.0 / STEP_MM); k++)
                low_gap = fmin(low_gap, sharp[k]);
            double half = 0.5 * (level + low_gap);
            int k = i;
            while (k > 0 && sharp[k - 1] <= half)
                k--;
            double r = k * STEP_MM;
            if (k > 0 && sharp[k - 1] > sharp[k])
                r -= STEP_MM * (half - sharp[k]) / (sharp[k - 1] - sharp[k]);
            return fmin(r, mask_r + MASK_SLACK_MM);
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
        /* the spline's profile, where the steepest point is looked for
           (the same as prof where no axis is cubic: thick slices) */
        int any_cubic = spline->cubic[0] || spline->cubic[1] ||
                        spline->cubic[2];
        for (int k = k0 - 3 < 0 ? 0 : k0 - 3; k <= k1 + 3 && k < N + W;
             k++) {
            double r = k * STEP_MM, u = cu + r * du, v = cv + r * dv;
            fine[k] = any_cubic ? 0 : prof[k];
            for (int m = -1; m <= 1 && any_cubic; m++)
                fine[k] += along(at_spline, spline, pl,
                                 u - m * ACROSS_MM * dv,
                                 v + m * ACROSS_MM * du) / 3;
        }
        double best = -INFINITY;
        for (int k = k0 < 2 ? 2 : k0; k <= k1 && k + 2 < N + W; k++) {
            double g = sign * (fine[k + 2] - fine[k - 2]);
            if (g > best)
                best = g, at = k;
        }
        if (at < 0)
            break;
        double off = 0;
        if (at > 2 && at + 3 < N + W) {
            double gm = sign * (fine[at + 1] - fine[at - 3]);
            double gp = sign * (fine[at + 3] - fine[at - 1]);
            double den = gm - 2 * best + gp;
            off = den < 0 ? fmax(-0.5, fmin(0.5, 0.5 * (gm - gp) / den)) : 0;
        }
        double r = (at + off) * STEP_MM;
        return fmin(r, mask_r + MASK_SLACK_MM);
    }
    return mask_r; /* no wall that way: open to the foramen */
}

/* The radius of the star outline r[] about (cu, cv) towards (u, v),
 * against the distance of (u, v) from that centre. */
static int in_star(const double r[N_RAYS], double cu, double cv, double u,
                   double v)
{
    u -= cu, v -= cv;
    double t = atan2(v, u) / (2 * M_PI) * N_RAYS;
    if (t < 0)
        t += N_RAYS;
    int k = (int)t % N_RAYS;
    double f = t - floor(t);
    return hypot(u, v) <= (1 - f) * r[k] + f * r[(k + 1) % N_RAYS];
}

static void trace_star(const sp_volume *smooth,
                       const analysis_spline *spline, const sharp_image *sh,
                       const canal_plane *pl, const canal_section *cs,
                       double level, int open, double cu, double cv,
                       double r[N_RAYS])
{
    for (int k = 0; k < N_RAYS; k++) {
        double t = 2 * M_PI * k / N_RAYS;
        r[k] = ray(smooth, spline, sh, pl, cs, level, open, 1, cu, cv,
                   cos(t), sin(t));
    }
}

/* A canal that is not star-shaped about its centroid (a crescent round a
 * central herniation: the centroid lies in the disc) is the union of the
 * star outlines seen from several points inside it, each ray stopped at
 * the first wall as usual: from the deepest point of the fill, then from
 * the deepest point the union does not yet cover, until it covers the
 * fill. Area, AP (through the centroid's column) and mask come from that
 * union, rasterised at UNION_PX_MM. */
#define MAX_CENTRES 6
#define UNION_SUB 6        /* fine pixels per mask pixel, a side */
#define UNION_PX_MM (CANAL_PIXEL_MM / UNION_SUB)
#define UNION_N (CANAL_GRID * UNION_SUB)
#define COVERED 0.97       /* of the fill's pixels */

static double union_u(int x)
{
    return (x + 0.5) * UNION_PX_MM - CANAL_GRID / 2 * CANAL_PIXEL_MM -
           CANAL_PIXEL_MM / 2;
}

/* The canal is one piece: of the mask's 4-connected pieces only the
 * largest stays. Sampled at the mask's pixel centres, a sliver of the
 * union (a horn's tip) can leave a pixel on its own, and the outline
 * `measure` follows from the mask's first pixel would be that pixel's. */
static void keep_largest_piece(uint8_t *mask)
{
    enum { G = CANAL_GRID };
    int *stack = malloc((size_t)G * G * sizeof *stack);
    int *piece = calloc((size_t)G * G, sizeof *piece);
    if (!stack || !piece) {
        free(stack), free(piece);
        return; /* the mask stays as it is */
    }
    int pieces = 0, best = 0, best_size = 0;
    for (int s0 = 0; s0 < G * G; s0++) {
        if (!mask[s0] || piece[s0])
            continue;
        int size = 0, top = 0;
        piece[s0] = ++pieces;
        stack[top++] = s0;
        while (top) {
            int i = stack[--top], x = i % G, y = i / G;
            size++;
            int nb[4] = {x > 0 ? i - 1 : -1, x + 1 < G ? i + 1 : -1,
                         y > 0 ? i - G : -1, y + 1 < G ? i + G : -1};
            for (int k = 0; k < 4; k++)
                if (nb[k] >= 0 && mask[nb[k]] && !piece[nb[k]])
                    piece[nb[k]] = pieces, stack[top++] = nb[k];
        }
        if (size > best_size)
            best_size = size, best = pieces;
    }
    for (int i = 0; i < G * G; i++)
        mask[i] = piece[i] == best && best > 0;
    free(stack), free(piece);
}

static void refine_union(const sp_volume *smooth,
                         const analysis_spline *spline,
                         const sharp_image *sh, const canal_plane *pl,
                         double level, int open, canal_section *cs)
{
    enum { G = CANAL_GRID };
    /* city-block distance of each fill pixel to the nearest outside one */
    int depth[G * G];
    for (int i = 0; i < G * G; i++)
        depth[i] = cs->mask[i] ? G * G : 0;
    for (int y = 0; y < G; y++)
        for (int x = 0; x < G; x++) {
            int *d = &depth[y * G + x];
            if (x > 0 && depth[y * G + x - 1] + 1 < *d)
                *d = depth[y * G + x - 1] + 1;
            if (y > 0 && depth[(y - 1) * G + x] + 1 < *d)
                *d = depth[(y - 1) * G + x] + 1;
            if (x == 0 || y == 0 || x == G - 1 || y == G - 1)
                *d = *d ? 1 : 0;
        }
    for (int y = G - 1; y >= 0; y--)
        for (int x = G - 1; x >= 0; x--) {
            int *d = &depth[y * G + x];
            if (x + 1 < G && depth[y * G + x + 1] + 1 < *d)
                *d = depth[y * G + x + 1] + 1;
            if (y + 1 < G && depth[(y + 1) * G + x] + 1 < *d)
                *d = depth[(y + 1) * G + x] + 1;
        }
    uint8_t *fine = calloc((size_t)UNION_N * UNION_N, 1);
    if (!fine)
        return; /* the fill's outline stays */
    uint8_t covered[G * G];
    memset(covered, 0, sizeof covered);
    int fill = 0;
    for (int i = 0; i < G * G; i++)
        fill += cs->mask[i] != 0;
    double v_top = cs->grid_v0 + CANAL_PIXEL_MM / 2; /* v of fine row 0's
                                                        upper edge */
    for (int n = 0; n < MAX_CENTRES;) {
        int best = -1, uncovered = 0;
        for (int i = 0; i < G * G; i++)
            if (cs->mask[i] && !covered[i]) {
                uncovered++;
                if (best < 0 || depth[i] > depth[best])
                    best = i;
            }
        if (best < 0 || uncovered <= (1 - COVERED) * fill ||
            (n > 0 && depth[best] < 2))
            break;
        double cu = (best % G - G / 2) * CANAL_PIXEL_MM;
        double cv = cs->grid_v0 - (best / G) * CANAL_PIXEL_MM;
        if (sample_along(smooth, pl, cu, cv) - level >= MIN_CONTRAST_HU / 2) {
            /* a point on a wall's blurred rise (a crescent only 3 mm
               deep: the dome's blur reaches across it) is no place to
               look from: each ray's contrast would count from the wall's
               own slope, and stop a millimetre inside the dome */
            covered[best] = 1;
            continue;
        }
        double r[N_RAYS];
        trace_star(smooth, spline, sh, pl, cs, level, open, cu, cv, r);
        n++;
        for (int y = 0; y < UNION_N; y++)
            for (int x = 0; x < UNION_N; x++) {
                double v = v_top - (y + 0.5) * UNION_PX_MM;
                if (!fine[y * UNION_N + x] && in_star(r, cu, cv, union_u(x),
                                                      v))
                    fine[y * UNION_N + x] = 1;
            }
        for (int i = 0; i < G * G; i++)
            if (cs->mask[i] && !covered[i])
                covered[i] = (uint8_t)in_star(
                    r, cu, cv, (i % G - G / 2) * CANAL_PIXEL_MM,
                    cs->grid_v0 - (i / G) * CANAL_PIXEL_MM);
        covered[best] = 1; /* a centre whose rays all end at once */
    }
    size_t count = 0;
    for (int i = 0; i < UNION_N * UNION_N; i++)
        count += fine[i];
    cs->area_mm2 = (double)count * UNION_PX_MM * UNION_PX_MM;
    /* AP: the run through the centroid's column nearest to the centroid */
    int col = (int)floor((cs->centre_u + CANAL_GRID / 2 * CANAL_PIXEL_MM +
                          CANAL_PIXEL_MM / 2) / UNION_PX_MM);
    double best_d = INFINITY;
    for (int y = 0; col >= 0 && col < UNION_N && y < UNION_N; y++) {
        if (!fine[y * UNION_N + col] ||
            (y > 0 && fine[(y - 1) * UNION_N + col]))
            continue;
        int e = y;
        while (e + 1 < UNION_N && fine[(e + 1) * UNION_N + col])
            e++;
        double front = v_top - y * UNION_PX_MM;
        double back = v_top - (e + 1) * UNION_PX_MM;
        double d = cs->centre_v > front  ? cs->centre_v - front
                   : cs->centre_v < back ? back - cs->centre_v
                                         : 0;
        if (d < best_d) {
            best_d = d;
            cs->ap_front_v = front, cs->ap_back_v = back;
            cs->ap_mm = front - back;
        }
    }
    int row = (int)floor((v_top - cs->centre_v) / UNION_PX_MM), lo = -1,
        hi = -1;
    for (int x = 0; row >= 0 && row < UNION_N && x < UNION_N; x++)
        if (fine[row * UNION_N + x])
            lo = lo < 0 ? x : lo, hi = x;
    cs->width_mm = lo < 0 ? 0 : (hi - lo + 1) * UNION_PX_MM;
    for (int y = 0; y < G; y++)
        for (int x = 0; x < G; x++) {
            int fx = (int)floor((x + 0.5) * CANAL_PIXEL_MM / UNION_PX_MM);
            int fy = (int)floor((y + 0.5) * CANAL_PIXEL_MM / UNION_PX_MM);
            cs->mask[y * G + x] = fine[fy * UNION_N + fx];
        }
    keep_largest_piece(cs->mask);
    free(fine);
}

/* Point (u, v) inside the closed polygon pu, pv of n points (even-odd). */
static int in_polygon(const double *pu, const double *pv, int n, double u,
                      double v)
{
    int in = 0;
    for (int a = 0, b = n - 1; a < n; b = a++)
        if ((pv[a] > v) != (pv[b] > v) &&
            u < pu[b] + (v - pv[b]) * (pu[a] - pu[b]) / (pv[a] - pv[b]))
            in = !in;
    return in;
}

/* Rays of a wide canal start on its lateral axis, not all at its centre:
 * the ray at angle t from the point SPREAD x cos t along the axis. In a
 * flat canal (22 x 6 mm) the rays from the centre meet the front and back
 * walls at a grazing angle, where a thin wall (the ligamentum flavum over
 * the cord, a sliver of fat between a disc corner and the sac) blurs into
 * the canal and the ray runs on; from the axis they meet those walls
 * more nearly square. The AP rays (90 and 270 degrees) still start at the
 * centre; a round canal (spread 0) is traced from its centre as before.
 * The spread is the fill's half width less its half AP, shortened until
 * every start lies in the fill. */
static double axis_spread(const canal_section *cs)
{
    double half = fmax(0, (cs->width_mm - cs->ap_mm) / 2);
    for (; half > 0.5; half *= 0.75)
        if (mask_at(cs, cs->centre_u - half, cs->centre_v) &&
            mask_at(cs, cs->centre_u + half, cs->centre_v))
            return half;
    return 0;
}

void canal_refine_section(const sp_volume *ct, const sp_volume *smooth,
                          const analysis_spline *spline,
                          const canal_plane *pl, int open, canal_section *cs)
{
    if (!cs->found)
        return;
    double level = canal_level(smooth, pl, cs);
    if (isnan(level))
        return;
    double noise = open ? sharp_noise(ct, smooth, pl, cs) : NAN;
    sharp_image sharp = {ct, fmax(MIN_FALL_HU, SHARP_SD * noise)};
    const sharp_image *sh = isnan(noise) ? NULL : &sharp;
    if (!mask_at(cs, cs->centre_u, cs->centre_v)) {
        refine_union(smooth, spline, sh, pl, level, open, cs);
        return;
    }
    double spread = axis_spread(cs), r[N_RAYS], pu[N_RAYS], pv[N_RAYS];
    for (int k = 0; k < N_RAYS; k++) {
        double t = 2 * M_PI * k / N_RAYS, du = cos(t), dv = sin(t);
        double ou = cs->centre_u + spread * du;
        r[k] = ray(smooth, spline, sh, pl, cs, level, open, 0, ou,
                   cs->centre_v, du, dv);
        pu[k] = ou + r[k] * du, pv[k] = cs->centre_v + r[k] * dv;
    }
    double area = 0;
    for (int k = 0; k < N_RAYS; k++) {
        int j = (k + 1) % N_RAYS;
        area += 0.5 * (pu[k] * pv[j] - pu[j] * pv[k]);
    }
    /* +v (anterior) is the ray at 90 degrees, -v at 270 */
    cs->ap_front_v = cs->centre_v + r[N_RAYS / 4];
    cs->ap_back_v = cs->centre_v - r[3 * N_RAYS / 4];
    cs->ap_mm = r[N_RAYS / 4] + r[3 * N_RAYS / 4];
    cs->width_mm = 2 * spread + r[0] + r[N_RAYS / 2];
    cs->area_mm2 = fabs(area);
    /* the mask follows the outline: pixel centres inside it */
    for (int y = 0; y < CANAL_GRID; y++)
        for (int x = 0; x < CANAL_GRID; x++)
            cs->mask[y * CANAL_GRID + x] = (uint8_t)in_polygon(
                pu, pv, N_RAYS, (x - CANAL_GRID / 2) * CANAL_PIXEL_MM,
                cs->grid_v0 - y * CANAL_PIXEL_MM);
}
