/* A polygon of patient points (a measured outline) as a mask on a report
 * plane, so the key image fills exactly what a stage measured. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

sp_status polygon_mask(sp_stage_context *ctx, const plane_grid *g,
                       double n_mm, const json_t *points, uint8_t *out,
                       int *drawn)
{
    size_t n = json_array_size(points), w = g->width, h = g->height;
    memset(out, 0, w * h);
    *drawn = 0;
    if (n < 3)
        return SP_OK;
    double *px = ctx->host->scratch_alloc(ctx, 3 * n * sizeof *px);
    if (!px)
        return SP_NOMEM;
    double *py = px + n, *cross = px + 2 * n;
    for (size_t i = 0; i < n; i++) {
        double p[3];
        if (!json_point(json_array_get(points, i), p))
            return SP_OK;
        plane_project(g, n_mm, p, &px[i], &py[i]);
    }
    /* even-odd rule on each row through the pixel centres */
    for (size_t y = 0; y < h; y++) {
        double cy = (double)y + 0.5;
        size_t k = 0;
        for (size_t i = 0, j = n - 1; i < n; j = i++)
            if ((py[i] > cy) != (py[j] > cy))
                cross[k++] = px[j] + (cy - py[j]) * (px[i] - px[j]) /
                                         (py[i] - py[j]);
        qsort(cross, k, sizeof *cross, cmp_double);
        for (size_t e = 0; e + 1 < k; e += 2) {
            double x0 = ceil(cross[e] - 0.5), x1 = floor(cross[e + 1] - 0.5);
            for (double x = fmax(x0, 0); x <= x1 && x < (double)w; x++) {
                out[y * w + (size_t)x] = 1;
                *drawn = 1;
            }
        }
    }
    return SP_OK;
}
