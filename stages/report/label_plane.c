/* The label map on a report plane: the labels themselves (nearest voxel),
 * and masks of label ranges with smooth outlines. */
#include <math.h>
#include <string.h>

#include "report.h"

#define SPECK_MM2 4.0 /* regions and holes smaller than this */

static uint16_t label_at(const sp_volume *labels, const long k[3])
{
    for (int a = 0; a < 3; a++)
        if (k[a] < 0 || k[a] >= (long)labels->dim[a])
            return 0;
    const uint16_t *d = labels->data;
    return d[sp_volume_index(labels, (size_t)k[0], (size_t)k[1],
                             (size_t)k[2])];
}

/* Trilinear interpolation of "label in lo..hi" at voxel position v. */
static double inside_fraction(const sp_volume *labels, const double v[3],
                              int lo, int hi)
{
    long base[3];
    double f[3];
    for (int a = 0; a < 3; a++) {
        double fl = floor(v[a]);
        base[a] = (long)fl;
        f[a] = v[a] - fl;
    }
    double sum = 0;
    for (int corner = 0; corner < 8; corner++) {
        long k[3];
        double w = 1;
        for (int a = 0; a < 3; a++) {
            int up = (corner >> a) & 1;
            k[a] = base[a] + up;
            w *= up ? f[a] : 1 - f[a];
        }
        if (w > 0) {
            int l = label_at(labels, k);
            sum += l >= lo && l <= hi ? w : 0;
        }
    }
    return sum;
}

/* Nearest labels into `lab`, or when it is NULL, the lo..hi mask into
 * `mask`: one walk over the plane for both. */
static sp_status sample_plane(sp_stage_context *ctx, const sp_volume *labels,
                              const plane_grid *g, double n_mm, int lo,
                              int hi, uint16_t *lab, uint8_t *mask)
{
    double i0[3], di[3], dj[3];
    sp_status st = plane_voxel_steps(ctx, labels, g, n_mm, i0, di, dj);
    if (st != SP_OK)
        return st;
    for (size_t y = 0; y < g->height; y++)
        for (size_t x = 0; x < g->width; x++) {
            double v[3];
            long k[3];
            for (int a = 0; a < 3; a++) {
                v[a] = i0[a] + (double)x * di[a] + (double)y * dj[a];
                k[a] = lround(v[a]);
            }
            size_t i = y * g->width + x;
            if (lab)
                lab[i] = label_at(labels, k);
            else
                mask[i] = inside_fraction(labels, v, lo, hi) >= 0.5;
        }
    /* specks and pinholes of a few voxels would be outlined as dots */
    return lab ? SP_OK : mask_despeckle(ctx, mask, g, SPECK_MM2);
}

sp_status label_slice(sp_stage_context *ctx, const sp_volume *labels,
                      const plane_grid *g, double n_mm, uint16_t *out)
{
    return sample_plane(ctx, labels, g, n_mm, 0, 0, out, NULL);
}

sp_status label_mask(sp_stage_context *ctx, const sp_volume *labels,
                     const plane_grid *g, double n_mm, int lo, int hi,
                     uint8_t *out)
{
    return sample_plane(ctx, labels, g, n_mm, lo, hi, NULL, out);
}

/* Flip every 4-connected region of `value` smaller than min_px: one
 * flood fill per region, with `seen` and `stack` of w*h entries. */
static void flip_small(uint8_t *m, size_t w, size_t h, uint8_t value,
                       size_t min_px, uint8_t *seen, size_t *stack)
{
    size_t n = w * h;
    for (size_t start = 0; start < n; start++) {
        if (seen[start] || m[start] != value)
            continue;
        size_t top = 0, size = 0;
        stack[top++] = start;
        seen[start] = 1;
        /* the region's pixels stay on the stack below `size`... */
        while (size < top) {
            size_t i = stack[size++], x = i % w;
            size_t next[4] = {x > 0 ? i - 1 : n, x + 1 < w ? i + 1 : n,
                              i >= w ? i - w : n, i + w < n ? i + w : n};
            for (int k = 0; k < 4; k++)
                if (next[k] < n && !seen[next[k]] && m[next[k]] == value) {
                    seen[next[k]] = 1;
                    stack[top++] = next[k];
                }
        }
        /* ...so a small one is flipped from there */
        if (size < min_px)
            for (size_t k = 0; k < size; k++)
                m[stack[k]] = (uint8_t)!value;
    }
}

sp_status mask_despeckle(sp_stage_context *ctx, uint8_t *mask,
                         const plane_grid *g, double min_mm2)
{
    size_t n = g->width * g->height;
    uint8_t *seen = ctx->host->scratch_alloc(ctx, n);
    size_t *stack = ctx->host->scratch_alloc(ctx, n * sizeof *stack);
    if (!seen || !stack)
        return SP_NOMEM;
    size_t min_px = (size_t)ceil(min_mm2 / (g->pixel_mm * g->pixel_mm));
    for (uint8_t value = 0; value <= 1; value++) {
        memset(seen, 0, n);
        flip_small(mask, g->width, g->height, value, min_px, seen, stack);
    }
    return SP_OK;
}
