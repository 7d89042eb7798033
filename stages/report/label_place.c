/* Where a key image's labels go: the nearest place to where each would
 * naturally sit that covers none of the measured marks (canal outline,
 * displaced run, calipers) and no other label, and, where it can, not
 * the disc's outline either. A label at a fixed offset from its caliper
 * lay over the canal outline whenever the canal was wide or tilted, and
 * the outline is what a reader checks the numbers against. */
#include <math.h>
#include <string.h>

#include "report.h"

#define MARGIN_PX 3.0     /* kept clear round a label's box */
#define STEP_PX 2.0       /* candidate places this far apart */
#define SOFT_PENALTY 4.0  /* per disc-outline pixel covered, in pixels of
                             distance: a few covered pixels beat a label
                             far from its caliper */

sp_status clear_map_make(sp_stage_context *ctx, size_t w, size_t h,
                         clear_map *m)
{
    m->w = w, m->h = h;
    m->mark[0] = ctx->host->scratch_alloc(ctx, 2 * w * h);
    m->sum[0] = ctx->host->scratch_alloc(ctx, 2 * (w + 1) * (h + 1) *
                                                 sizeof *m->sum[0]);
    if (!m->mark[0] || !m->sum[0])
        return SP_NOMEM;
    m->mark[1] = m->mark[0] + w * h;
    m->sum[1] = m->sum[0] + (w + 1) * (h + 1);
    memset(m->mark[0], 0, 2 * w * h);
    return SP_OK;
}

void clear_map_edges(clear_map *m, const uint8_t *mask, int hard)
{
    size_t w = m->w, h = m->h;
    uint8_t *mk = m->mark[hard ? 0 : 1];
    /* a pixel on either side of a change: the outline is drawn on the
       boundary between them */
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++) {
            uint8_t v = mask[y * w + x];
            int edge = (x + 1 < w && mask[y * w + x + 1] != v) ||
                       (x > 0 && mask[y * w + x - 1] != v) ||
                       (y + 1 < h && mask[(y + 1) * w + x] != v) ||
                       (y > 0 && mask[(y - 1) * w + x] != v);
            mk[y * w + x] |= (uint8_t)edge;
        }
}

void clear_map_line(clear_map *m, double ax, double ay, double bx,
                    double by, double half_width)
{
    double len = hypot(bx - ax, by - ay);
    int n = (int)ceil(len) + 1;
    long r = (long)ceil(half_width);
    for (int i = 0; i <= n; i++) {
        double x = ax + (bx - ax) * i / n, y = ay + (by - ay) * i / n;
        for (long dy = -r; dy <= r; dy++)
            for (long dx = -r; dx <= r; dx++) {
                long px = lrint(floor(x)) + dx, py = lrint(floor(y)) + dy;
                if (px >= 0 && py >= 0 && px < (long)m->w && py < (long)m->h)
                    m->mark[0][(size_t)py * m->w + (size_t)px] = 1;
            }
    }
}

void clear_map_finish(clear_map *m)
{
    size_t w = m->w, h = m->h, W = w + 1;
    for (int k = 0; k < 2; k++) {
        uint32_t *s = m->sum[k];
        memset(s, 0, W * sizeof *s);
        for (size_t y = 0; y < h; y++) {
            uint32_t row = 0;
            s[(y + 1) * W] = 0;
            for (size_t x = 0; x < w; x++) {
                row += m->mark[k][y * w + x];
                s[(y + 1) * W + x + 1] = s[y * W + x + 1] + row;
            }
        }
    }
}

/* Marks of kind k in the image pixels [x0, x1) x [y0, y1), clipped. */
static uint32_t marks_in(const clear_map *m, int k, double x0, double y0,
                         double x1, double y1)
{
    long a = lrint(floor(fmax(x0, 0))), b = lrint(floor(fmax(y0, 0)));
    long c = lrint(ceil(fmin(x1, (double)m->w)));
    long d = lrint(ceil(fmin(y1, (double)m->h)));
    if (c <= a || d <= b)
        return 0;
    size_t W = m->w + 1;
    const uint32_t *s = m->sum[k];
    return s[(size_t)d * W + (size_t)c] - s[(size_t)b * W + (size_t)c] -
           s[(size_t)d * W + (size_t)a] + s[(size_t)b * W + (size_t)a];
}

static int overlaps_used(const occupied *used, const double b[4])
{
    for (size_t i = 0; i < used->n; i++) {
        const double *q = used->box[i];
        if (!strchr("ml", used->kind[i]) && b[0] < q[2] + MARGIN_PX &&
            q[0] < b[2] + MARGIN_PX && b[1] < q[3] + MARGIN_PX &&
            q[1] < b[3] + MARGIN_PX)
            return 1;
    }
    return 0;
}

void clear_map_place(const clear_map *m, const occupied *used, double x0,
                     double top, double bw, double bh, double *left,
                     double *upper)
{
    double want_x = *left, want_y = *upper, best = INFINITY;
    double lo_x = x0 + MARGIN_PX, hi_x = x0 + (double)m->w - bw - MARGIN_PX;
    double lo_y = top + MARGIN_PX, hi_y = top + (double)m->h - bh - MARGIN_PX;
    for (double y = lo_y; y <= hi_y; y += STEP_PX)
        for (double x = lo_x; x <= hi_x; x += STEP_PX) {
            double dist = hypot(x - want_x, y - want_y);
            if (dist >= best)
                continue;
            double ix = x - x0, iy = y - top;
            double b[4] = {x, y, x + bw, y + bh};
            uint32_t hard = marks_in(m, 0, ix - MARGIN_PX, iy - MARGIN_PX,
                                     ix + bw + MARGIN_PX, iy + bh + MARGIN_PX);
            uint32_t soft = marks_in(m, 1, ix - MARGIN_PX, iy - MARGIN_PX,
                                     ix + bw + MARGIN_PX, iy + bh + MARGIN_PX);
            double cost = dist + SOFT_PENALTY * soft +
                          1e6 * (hard + overlaps_used(used, b));
            if (cost < best)
                best = cost, *left = x, *upper = y;
        }
}
