/* The measured plane and the canal section's outline in patient LPS. */
#include "measure_outline.h"

#include <math.h>

#define RAYS 90          /* one outline point every 4 degrees */
#define RAY_STEP_PX 0.05 /* walk along a ray in twentieths of a pixel */

void measure_direction_lps(const sp_volume *grid, const double d[3],
                           double out[3])
{
    double n = 0;
    for (int r = 0; r < 3; r++) {
        out[r] = 0;
        for (int k = 0; k < 3; k++)
            out[r] += grid->vox2lps[r][k] / grid->spacing[k] * d[k];
        n += out[r] * out[r];
    }
    n = sqrt(n);
    for (int r = 0; r < 3 && n > 0; r++)
        out[r] /= n;
}

json_t *measure_plane_point(const sp_volume *grid, const spine_curve *c,
                            size_t q, double u, double v)
{
    double l[3], g[3], p[3];
    spine_lateral(c, q, l);
    for (int d = 0; d < 3; d++)
        g[d] = c->p[q][d] + u * l[d] + v * c->a[q][d];
    spine_grid_mm_to_lps(grid, g, p);
    return json_pack("[f,f,f]", p[0], p[1], p[2]);
}

json_t *measure_plane_json(const sp_volume *grid, const spine_curve *c,
                           size_t q)
{
    double l[3], lat[3], ant[3];
    spine_lateral(c, q, l);
    measure_direction_lps(grid, l, lat);
    measure_direction_lps(grid, c->a[q], ant);
    return json_pack("{s:[f,f,f], s:[f,f,f]}", "lateral", lat[0], lat[1],
                     lat[2], "anterior", ant[0], ant[1], ant[2]);
}

static int inside(const canal_section *cs, double x, double y)
{
    long i = lround(x), j = lround(y);
    return i >= 0 && j >= 0 && i < CANAL_GRID && j < CANAL_GRID &&
           cs->mask[j * CANAL_GRID + i];
}

static int mask_px(const canal_section *cs, int x, int y)
{
    return x >= 0 && y >= 0 && x < CANAL_GRID && y < CANAL_GRID &&
           cs->mask[y * CANAL_GRID + x];
}

/* The mask's outer boundary, followed along the pixel edges with the
 * canal on the right, as the midpoints of those edges (a canal that is
 * not star-shaped about its centroid: a ray outline from there would
 * take in what it wraps round). Starts at the first pixel of the top row
 * of the mask; NULL when the mask is empty. */
static json_t *boundary_outline(const sp_volume *grid, const spine_curve *c,
                                size_t q, const canal_section *cs)
{
    int sx = -1, sy = -1;
    for (int y = 0; y < CANAL_GRID && sx < 0; y++)
        for (int x = 0; x < CANAL_GRID && sx < 0; x++)
            if (cs->mask[y * CANAL_GRID + x])
                sx = x, sy = y;
    if (sx < 0)
        return NULL;
    /* corners (X, Y): pixel (x, y) spans X = x..x+1, Y = y..y+1 (y down);
       start at the first pixel's top left corner going right (east) */
    int X = sx, Y = sy, dx = 1, dy = 0;
    json_t *poly = json_array();
    for (int steps = 0; steps < 4 * CANAL_GRID * CANAL_GRID; steps++) {
        double mx = X + 0.5 * dx - 0.5, my = Y + 0.5 * dy - 0.5;
        json_array_append_new(
            poly, measure_plane_point(grid, c, q,
                                      (mx - CANAL_GRID / 2) * CANAL_PIXEL_MM,
                                      cs->grid_v0 - my * CANAL_PIXEL_MM));
        X += dx, Y += dy;
        /* the two pixels ahead of corner (X, Y): right (-dy, dx), left
           (dy, -dx) of the way */
        int rx = -dy, ry = dx;
        int ahead_right = mask_px(cs, X + (dx + rx - 1) / 2,
                                  Y + (dy + ry - 1) / 2);
        int ahead_left = mask_px(cs, X + (dx - rx - 1) / 2,
                                 Y + (dy - ry - 1) / 2);
        int t;
        if (!ahead_right) /* turn right */
            t = dx, dx = rx, dy = ry, (void)t;
        else if (ahead_left) /* turn left */
            t = dx, dx = dy, dy = -t;
        if (X == sx && Y == sy && dx == 1 && dy == 0)
            break;
    }
    if (json_array_size(poly) < 3) {
        json_decref(poly);
        return NULL;
    }
    return poly;
}

json_t *measure_canal_outline(const sp_volume *grid, const spine_curve *c,
                              size_t q, const canal_section *cs)
{
    /* the centroid in mask pixels (x = u / px + G/2, y = (v0 - v) / px) */
    double cx = cs->centre_u / CANAL_PIXEL_MM + CANAL_GRID / 2;
    double cy = (cs->grid_v0 - cs->centre_v) / CANAL_PIXEL_MM;
    if (!inside(cs, cx, cy))
        return boundary_outline(grid, c, q, cs);
    json_t *poly = json_array();
    for (int k = 0; k < RAYS; k++) {
        double ang = 2 * M_PI * k / RAYS, dx = cos(ang), dy = sin(ang);
        /* the last way out of the mask along the ray: a centroid outside
           a crescent canal still finds its far edge */
        double r_out = -1;
        int was_in = 0;
        for (double r = 0; r < CANAL_GRID * 1.5; r += RAY_STEP_PX) {
            int in = inside(cs, cx + r * dx, cy + r * dy);
            if (was_in && !in)
                r_out = r;
            was_in = in;
        }
        if (r_out < 0)
            continue;
        double x = cx + r_out * dx, y = cy + r_out * dy;
        json_array_append_new(
            poly, measure_plane_point(grid, c, q,
                                      (x - CANAL_GRID / 2) * CANAL_PIXEL_MM,
                                      cs->grid_v0 - y * CANAL_PIXEL_MM));
    }
    if (json_array_size(poly) < 3) {
        json_decref(poly);
        return NULL;
    }
    return poly;
}
