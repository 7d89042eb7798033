/* Non-local means (Buades, Coll and Morel 2005): each voxel becomes the
 * weighted mean of the voxels in its search window, weighted by how alike
 * their patches are, w = exp(-d2 / h^2) with d2 the mean squared
 * difference of the two patches. The centre gets the largest weight of
 * the others, so it does not dominate its own average.
 *
 * Work is organised by offset: for one slice and one offset the squared
 * differences are formed once over the padded plane and box-summed into
 * the patch distances of every voxel, so a voxel costs O(1) per offset
 * instead of O(patch size). Sums run in a fixed order per slice, which
 * keeps the output independent of how slices are split over threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "denoise_kernels.h"

/* Weights below exp(-NLM_CUTOFF) are taken as 0 (and exp is skipped). */
#define NLM_CUTOFF 30.0f

typedef struct nlm_buffers {
    float *diff;   /* padded plane: squared differences summed over dz */
    float *rows;   /* padded rows x nx: diff summed along i */
    double *wsum, *vsum;
    float *wmax;
    float *shifted; /* one row of the offset plane */
    float *row_a, *row_q; /* padded rows for add_diff */
} nlm_buffers;

static void buffers_free(nlm_buffers *b)
{
    free(b->diff);
    free(b->rows);
    free(b->wsum);
    free(b->vsum);
    free(b->wmax);
    free(b->shifted);
    free(b->row_a);
    free(b->row_q);
}

static int buffers_alloc(nlm_buffers *b, size_t nx, size_t ny, int p)
{
    size_t px = nx + 2 * (size_t)p, py = ny + 2 * (size_t)p;
    b->diff = malloc(px * py * sizeof *b->diff);
    b->rows = malloc(py * nx * sizeof *b->rows);
    b->wsum = malloc(nx * ny * sizeof *b->wsum);
    b->vsum = malloc(nx * ny * sizeof *b->vsum);
    b->wmax = malloc(nx * ny * sizeof *b->wmax);
    b->shifted = malloc(nx * sizeof *b->shifted);
    b->row_a = malloc(px * sizeof *b->row_a);
    b->row_q = malloc(px * sizeof *b->row_q);
    if (b->diff && b->rows && b->wsum && b->vsum && b->wmax && b->shifted &&
        b->row_a && b->row_q)
        return 1;
    buffers_free(b);
    return 0;
}

/* out[t] = row[clamp(first + t)] for t in [0, n): a row shifted by
 * `first` with its border voxels replicated, as plain copies. */
static void shifted_row(const float *row, size_t nx, ptrdiff_t first,
                        size_t n, float *out)
{
    size_t t = 0;
    for (; t < n && first + (ptrdiff_t)t < 0; t++)
        out[t] = row[0];
    for (; t < n && first + (ptrdiff_t)t < (ptrdiff_t)nx; t++)
        out[t] = row[first + (ptrdiff_t)t];
    for (; t < n; t++)
        out[t] = row[nx - 1];
}

/* Squared differences between plane kk and plane kq shifted by (dx, dy),
 * over the plane padded by p on every side, added into diff (set when
 * `first`). Coordinates are clamped: edges replicate. */
static void add_diff(const float *in, size_t nx, size_t ny, size_t kk,
                     size_t kq, int dx, int dy, int p, int first,
                     const nlm_buffers *b)
{
    size_t px = nx + 2 * (size_t)p;
    const float *a = in + kk * nx * ny, *q = in + kq * nx * ny;
    float *ra = b->row_a, *rq = b->row_q;
    for (ptrdiff_t j = -p; j < (ptrdiff_t)ny + p; j++) {
        shifted_row(a + denoise_clamp_index(j, ny) * nx, nx, -p, px, ra);
        shifted_row(q + denoise_clamp_index(j + dy, ny) * nx, nx, dx - p, px,
                    rq);
        float *d = b->diff + (size_t)(j + p) * px;
        if (first)
            for (size_t i = 0; i < px; i++)
                d[i] = (ra[i] - rq[i]) * (ra[i] - rq[i]);
        else
            for (size_t i = 0; i < px; i++)
                d[i] += (ra[i] - rq[i]) * (ra[i] - rq[i]);
    }
}

/* Patch sums of diff for every voxel of the plane, written to rows' first
 * nx * ny values (box along i into rows, then along j in place). */
static void box_sum(const float *diff, size_t nx, size_t ny, int p,
                    float *rows)
{
    size_t px = nx + 2 * (size_t)p, py = ny + 2 * (size_t)p;
    for (size_t j = 0; j < py; j++) {
        const float *d = diff + j * px;
        float *r = rows + j * nx;
        for (size_t i = 0; i < nx; i++) {
            float s = 0;
            for (int u = 0; u <= 2 * p; u++)
                s += d[i + (size_t)u];
            r[i] = s;
        }
    }
    for (size_t j = 0; j < ny; j++) {
        float *r = rows + j * nx;
        for (size_t i = 0; i < nx; i++) {
            float s = 0;
            for (int u = 0; u <= 2 * p; u++)
                s += r[(size_t)u * nx + i];
            r[i] = s;
        }
    }
}

/* Add one offset's weights and weighted values for the row starting at
 * voxel v0 of the plane. */
static void accumulate(const nlm_buffers *b, size_t v0, size_t nx,
                       float scale)
{
    const float *dist = b->rows + v0;
    double *wsum = b->wsum + v0, *vsum = b->vsum + v0;
    float *wmax = b->wmax + v0;
    for (size_t i = 0; i < nx; i++) {
        float e = dist[i] * scale;
        if (!(e < NLM_CUTOFF))
            continue;
        float wt = expf(-e);
        wsum[i] += wt;
        vsum[i] += (double)wt * b->shifted[i];
        if (wt > wmax[i])
            wmax[i] = wt;
    }
}

static void nlm_slice(const sp_volume *src, sp_volume *dst,
                      const nlm_buffers *b, int patch, int search, double h,
                      int in_plane, size_t k)
{
    const float *in = sp_volume_f32(src);
    size_t nx = src->dim[0], ny = src->dim[1], nz = src->dim[2];
    int pz = in_plane ? 0 : patch, sz = in_plane ? 0 : search;
    float patch_voxels = (float)((2 * patch + 1) * (2 * patch + 1) *
                                 (2 * pz + 1));
    float scale = 1.0f / (patch_voxels * (float)(h * h));
    size_t plane = nx * ny;
    for (size_t v = 0; v < plane; v++) {
        b->wsum[v] = 0;
        b->vsum[v] = 0;
        b->wmax[v] = 0;
    }
    for (int dz = -sz; dz <= sz; dz++)
        for (int dy = -search; dy <= search; dy++)
            for (int dx = -search; dx <= search; dx++) {
                if (dx == 0 && dy == 0 && dz == 0)
                    continue;
                for (int w = -pz; w <= pz; w++) {
                    ptrdiff_t kk = (ptrdiff_t)k + w;
                    add_diff(in, nx, ny, denoise_clamp_index(kk, nz),
                             denoise_clamp_index(kk + dz, nz), dx, dy, patch,
                             w == -pz, b);
                }
                box_sum(b->diff, nx, ny, patch, b->rows);
                const float *q =
                    in + denoise_clamp_index((ptrdiff_t)k + dz, nz) * plane;
                for (size_t j = 0; j < ny; j++) {
                    const float *rq =
                        q + denoise_clamp_index((ptrdiff_t)j + dy, ny) * nx;
                    shifted_row(rq, nx, dx, nx, b->shifted);
                    accumulate(b, j * nx, nx, scale);
                }
            }
    const float *c = in + k * plane;
    float *out = sp_volume_f32(dst) + k * plane;
    for (size_t v = 0; v < plane; v++) {
        double wc = b->wmax[v] > 0 ? b->wmax[v] : 1.0;
        out[v] = (float)((b->vsum[v] + wc * c[v]) / (b->wsum[v] + wc));
    }
}

int denoise_nlm(const sp_volume *src, sp_volume *dst, int patch_radius,
                int search_radius, double h, int in_plane, size_t k_begin,
                size_t k_end)
{
    if (k_begin >= k_end)
        return 1;
    nlm_buffers b;
    if (!buffers_alloc(&b, src->dim[0], src->dim[1], patch_radius))
        return 0;
    for (size_t k = k_begin; k < k_end; k++)
        nlm_slice(src, dst, &b, patch_radius, search_radius, h, in_plane, k);
    buffers_free(&b);
    return 1;
}

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float median_of(float *v, size_t n)
{
    qsort(v, n, sizeof *v, compare_floats);
    return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}

double denoise_noise_sd(const sp_volume *vol)
{
    const float *in = sp_volume_f32(vol);
    size_t nx = vol->dim[0], n = sp_volume_count(vol);
    size_t pairs = n - n / nx; /* one per voxel but the last of each row */
    size_t stride = pairs / DENOISE_NOISE_SAMPLES + 1;
    size_t cap = n / stride + 1, m = 0;
    float *d = malloc(cap * sizeof *d);
    if (!d)
        return -1;
    if (nx < 2) {
        free(d);
        return 0;
    }
    for (size_t t = 0; t < n && m < cap; t += stride) {
        if (t % nx == nx - 1 || in[t] == 0.0f || in[t + 1] == 0.0f)
            continue;
        d[m++] = in[t + 1] - in[t];
    }
    double sd = 0;
    if (m >= 16) {
        float med = median_of(d, m);
        for (size_t i = 0; i < m; i++)
            d[i] = fabsf(d[i] - med);
        /* MAD of a difference of two noisy voxels: sqrt(2) sigma. */
        sd = 1.4826 * median_of(d, m) / sqrt(2.0);
    }
    free(d);
    return sd;
}
