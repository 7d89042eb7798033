/* Reslicing onto axial, sagittal and coronal display planes with square
 * pixels, in the orientation radiologists read them. */
#include "reslice.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void plane_axes(plane_kind k, double right[3], double down[3],
                double normal[3])
{
    static const double axes[3][3][3] = {
        [PLANE_AXIAL] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
        [PLANE_SAGITTAL] = {{0, 1, 0}, {0, 0, -1}, {1, 0, 0}},
        [PLANE_CORONAL] = {{1, 0, 0}, {0, 0, -1}, {0, 1, 0}},
    };
    memcpy(right, axes[k][0], sizeof axes[k][0]);
    memcpy(down, axes[k][1], sizeof axes[k][1]);
    memcpy(normal, axes[k][2], sizeof axes[k][2]);
}

const char *plane_name(plane_kind k)
{
    static const char *const names[] = {"axial", "sagittal", "coronal"};
    return names[k];
}

const char *plane_orientation_label(plane_kind k)
{
    static const char *const labels[] = {
        "left=R right=L top=A bottom=P", /* axial */
        "left=A right=P top=S bottom=I", /* sagittal */
        "left=R right=L top=S bottom=I", /* coronal */
    };
    return labels[k];
}

static double dot(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

void plane_grid_make(const sp_volume *vol, plane_kind kind, double pixel_mm,
                     size_t min_size, size_t max_size, plane_grid *g)
{
    memset(g, 0, sizeof *g);
    g->kind = kind;
    plane_axes(kind, g->right, g->down, g->normal);
    double lo[3] = {INFINITY, INFINITY, INFINITY};
    double hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    /* Corners of the voxel boxes (centres +- half a voxel). */
    for (int c = 0; c < 8; c++) {
        double ijk[3];
        for (int a = 0; a < 3; a++)
            ijk[a] = (c >> a & 1) ? (double)vol->dim[a] - 0.5 : -0.5;
        double p[3];
        for (int r = 0; r < 3; r++)
            p[r] = vol->vox2lps[r][0] * ijk[0] + vol->vox2lps[r][1] * ijk[1] +
                   vol->vox2lps[r][2] * ijk[2] + vol->vox2lps[r][3];
        const double *ax[3] = {g->right, g->down, g->normal};
        for (int a = 0; a < 3; a++) {
            double t = dot(p, ax[a]);
            lo[a] = fmin(lo[a], t);
            hi[a] = fmax(hi[a], t);
        }
    }
    double w_mm = hi[0] - lo[0], h_mm = hi[1] - lo[1];
    double longest = fmax(w_mm, h_mm);
    if (!(pixel_mm > 0)) {
        pixel_mm = vol->spacing[0];
        for (int a = 1; a < 3; a++)
            if (vol->spacing[a] > 0 && vol->spacing[a] < pixel_mm)
                pixel_mm = vol->spacing[a];
        if (min_size > 0 && longest / pixel_mm < (double)min_size)
            pixel_mm = longest / (double)min_size;
    }
    if (longest / pixel_mm > (double)max_size)
        pixel_mm = longest / (double)max_size;
    g->pixel_mm = pixel_mm;
    g->width = (size_t)fmax(1.0, floor(w_mm / pixel_mm + 0.5));
    g->height = (size_t)fmax(1.0, floor(h_mm / pixel_mm + 0.5));
    if (g->width > max_size)
        g->width = max_size;
    if (g->height > max_size)
        g->height = max_size;
    /* Centre the pixel grid on the extent. */
    double u0 = (lo[0] + hi[0]) / 2 - (double)g->width * pixel_mm / 2 +
                pixel_mm / 2;
    double v0 = (lo[1] + hi[1]) / 2 - (double)g->height * pixel_mm / 2 +
                pixel_mm / 2;
    double n_mid = (lo[2] + hi[2]) / 2;
    for (int r = 0; r < 3; r++)
        g->origin[r] = u0 * g->right[r] + v0 * g->down[r] +
                       n_mid * g->normal[r];
    g->n_min = lo[2] - n_mid;
    g->n_max = hi[2] - n_mid;
}

/* Trilinear or nearest sample of a U8 volume at fractional index (x, y,
 * z); 0 outside the voxel boxes. Written out per axis because it runs for
 * every pixel of every image. */
static uint8_t sample_at(const uint8_t *d, const size_t dim[3], double x,
                         double y, double z, int nearest)
{
    const double nx = (double)dim[0], ny = (double)dim[1],
                 nz = (double)dim[2];
    if (!(x >= -0.5 && x <= nx - 0.5 && y >= -0.5 && y <= ny - 0.5 &&
          z >= -0.5 && z <= nz - 0.5))
        return 0;
    x = x < 0 ? 0 : x > nx - 1 ? nx - 1 : x;
    y = y < 0 ? 0 : y > ny - 1 ? ny - 1 : y;
    z = z < 0 ? 0 : z > nz - 1 ? nz - 1 : z;
    const size_t sy = dim[0], sz = dim[0] * dim[1];
    if (nearest)
        return d[(size_t)lround(x) + sy * (size_t)lround(y) +
                 sz * (size_t)lround(z)];
    /* Lower corner, kept one below the last voxel so corner + 1 exists
     * (axes of one voxel use the same voxel twice). */
    size_t i = (size_t)x, j = (size_t)y, k = (size_t)z;
    if (i + 1 >= dim[0] && i > 0)
        i = dim[0] - 2;
    if (j + 1 >= dim[1] && j > 0)
        j = dim[1] - 2;
    if (k + 1 >= dim[2] && k > 0)
        k = dim[2] - 2;
    const double tx = x - (double)i, ty = y - (double)j, tz = z - (double)k;
    const size_t dx = dim[0] > 1, dy = dim[1] > 1 ? sy : 0,
                 dz = dim[2] > 1 ? sz : 0;
    const uint8_t *p = d + i + sy * j + sz * k;
    double c00 = p[0] + tx * (p[dx] - p[0]);
    double c10 = p[dy] + tx * (p[dy + dx] - p[dy]);
    double c01 = p[dz] + tx * (p[dz + dx] - p[dz]);
    double c11 = p[dz + dy] + tx * (p[dz + dy + dx] - p[dz + dy]);
    double c0 = c00 + ty * (c10 - c00), c1 = c01 + ty * (c11 - c01);
    double v = c0 + tz * (c1 - c0);
    return (uint8_t)lrint(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Nearest voxel index along one axis of n voxels for coordinate c, as
 * sample_at rounds it; SIZE_MAX outside [-0.5, n - 0.5]. */
static size_t nearest_index(double c, size_t n)
{
    const double hi = (double)n - 0.5;
    if (!(c >= -0.5 && c <= hi))
        return SIZE_MAX;
    c = c < 0 ? 0 : c > (double)n - 1 ? (double)n - 1 : c;
    return (size_t)lround(c);
}

/* Nearest sampling when every voxel axis moves with the image's x only,
 * its y only, or neither (planes along the volume's axes, the usual
 * case): the rounding of each axis is done once per column or row, not
 * per pixel, and the result is the same as sample_at's. Returns 0 when
 * the plane is oblique to the voxel axes. */
static int sample_separable(const uint8_t *d, const size_t dim[3],
                            const double i0[3], const double du[3],
                            const double dv[3], size_t width, size_t height,
                            uint8_t *out, size_t *col, size_t *row)
{
    for (int a = 0; a < 3; a++)
        if (du[a] != 0 && dv[a] != 0)
            return 0;
    const size_t stride[3] = {1, dim[0], dim[0] * dim[1]};
    for (size_t x = 0; x < width; x++) {
        col[x] = 0;
        for (int a = 0; a < 3 && col[x] != SIZE_MAX; a++) {
            if (du[a] == 0)
                continue;
            size_t i = nearest_index(i0[a] + (double)x * du[a], dim[a]);
            col[x] = i == SIZE_MAX ? SIZE_MAX : col[x] + i * stride[a];
        }
    }
    for (size_t y = 0; y < height; y++) {
        row[y] = 0;
        for (int a = 0; a < 3 && row[y] != SIZE_MAX; a++) {
            if (du[a] != 0)
                continue;
            size_t i = nearest_index(i0[a] + (double)y * dv[a], dim[a]);
            row[y] = i == SIZE_MAX ? SIZE_MAX : row[y] + i * stride[a];
        }
    }
    for (size_t y = 0; y < height; y++) {
        uint8_t *o = out + y * width;
        if (row[y] == SIZE_MAX) {
            memset(o, 0, width);
            continue;
        }
        const uint8_t *r = d + row[y];
        for (size_t x = 0; x < width; x++)
            o[x] = col[x] == SIZE_MAX ? 0 : r[col[x]];
    }
    return 1;
}

sp_status plane_voxel_steps(sp_stage_context *ctx, const sp_volume *vol,
                            const plane_grid *g, double n_mm, double i0[3],
                            double di[3], double dj[3])
{
    double p0[3], pr[3], pd[3], ir[3], id[3];
    for (int r = 0; r < 3; r++) {
        p0[r] = g->origin[r] + n_mm * g->normal[r];
        pr[r] = p0[r] + g->pixel_mm * g->right[r];
        pd[r] = p0[r] + g->pixel_mm * g->down[r];
    }
    if (ctx->host->patient_to_voxel(vol, p0, i0) != SP_OK ||
        ctx->host->patient_to_voxel(vol, pr, ir) != SP_OK ||
        ctx->host->patient_to_voxel(vol, pd, id) != SP_OK)
        return ctx->host->fail(ctx, SP_GEOMETRY,
                               "the volume's voxel-to-patient matrix is "
                               "singular");
    /* The map is affine: a fixed step in voxel space per pixel. */
    for (int a = 0; a < 3; a++) {
        di[a] = ir[a] - i0[a];
        dj[a] = id[a] - i0[a];
    }
    return SP_OK;
}

sp_status plane_sample(sp_stage_context *ctx, const sp_volume *vol,
                       const plane_grid *g, double n_mm, int nearest,
                       uint8_t *out, double origin_out[3])
{
    double i0[3], du[3], dv[3];
    sp_status st = plane_voxel_steps(ctx, vol, g, n_mm, i0, du, dv);
    if (st != SP_OK)
        return st;
    double p0[3];
    for (int r = 0; r < 3; r++)
        p0[r] = g->origin[r] + n_mm * g->normal[r];
    const uint8_t *d = sp_volume_u8(vol);
    memcpy(origin_out, p0, sizeof p0);
    if (nearest) {
        size_t *col = malloc((g->width + g->height) * sizeof *col);
        int done = col && sample_separable(d, vol->dim, i0, du, dv, g->width,
                                           g->height, out, col,
                                           col + g->width);
        free(col);
        if (done)
            return SP_OK;
    }
    for (size_t y = 0; y < g->height; y++) {
        const double ry = (double)y;
        for (size_t x = 0; x < g->width; x++) {
            const double rx = (double)x;
            out[y * g->width + x] = sample_at(
                d, vol->dim, i0[0] + rx * du[0] + ry * dv[0],
                i0[1] + rx * du[1] + ry * dv[1],
                i0[2] + rx * du[2] + ry * dv[2], nearest);
        }
    }
    return SP_OK;
}
