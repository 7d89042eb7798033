/* Reslicing onto axial, sagittal and coronal display planes with square
 * pixels, in the orientation radiologists read them. */
#include "reslice.h"

#include <math.h>
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

static uint8_t voxel(const uint8_t *d, const sp_volume *v, long i, long j,
                     long k)
{
    return d[(size_t)i + v->dim[0] * ((size_t)j + v->dim[1] * (size_t)k)];
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static uint8_t sample_at(const sp_volume *v, const uint8_t *d,
                         const double ijk[3], int nearest)
{
    double f[3];
    for (int a = 0; a < 3; a++) {
        double n = (double)v->dim[a];
        if (!(ijk[a] >= -0.5 && ijk[a] <= n - 0.5))
            return 0;
        f[a] = clampd(ijk[a], 0, n - 1);
    }
    if (nearest)
        return voxel(d, v, lround(f[0]), lround(f[1]), lround(f[2]));
    long b[3];
    double t[3];
    for (int a = 0; a < 3; a++) {
        b[a] = (long)floor(f[a]);
        if (b[a] >= (long)v->dim[a] - 1)
            b[a] = (long)v->dim[a] - 1 - (v->dim[a] > 1);
        if (b[a] < 0)
            b[a] = 0;
        t[a] = v->dim[a] > 1 ? f[a] - (double)b[a] : 0;
    }
    long n1[3];
    for (int a = 0; a < 3; a++)
        n1[a] = v->dim[a] > 1 ? b[a] + 1 : b[a];
    double acc = 0;
    for (int c = 0; c < 8; c++) {
        double wgt = 1;
        long idx[3];
        for (int a = 0; a < 3; a++) {
            int hi = c >> a & 1;
            idx[a] = hi ? n1[a] : b[a];
            wgt *= hi ? t[a] : 1 - t[a];
        }
        if (wgt > 0)
            acc += wgt * voxel(d, v, idx[0], idx[1], idx[2]);
    }
    return (uint8_t)lrint(clampd(acc, 0, 255));
}

sp_status plane_sample(sp_stage_context *ctx, const sp_volume *vol,
                       const plane_grid *g, double n_mm, int nearest,
                       uint8_t *out, double origin_out[3])
{
    double p0[3], pr[3], pd[3];
    for (int r = 0; r < 3; r++) {
        p0[r] = g->origin[r] + n_mm * g->normal[r];
        pr[r] = p0[r] + g->pixel_mm * g->right[r];
        pd[r] = p0[r] + g->pixel_mm * g->down[r];
    }
    double i0[3], ir[3], id[3];
    if (ctx->host->patient_to_voxel(vol, p0, i0) != SP_OK ||
        ctx->host->patient_to_voxel(vol, pr, ir) != SP_OK ||
        ctx->host->patient_to_voxel(vol, pd, id) != SP_OK)
        return ctx->host->fail(ctx, SP_GEOMETRY,
                               "the volume's voxel-to-patient matrix is "
                               "singular");
    /* The map is affine: step in voxel space per pixel right and down. */
    double du[3], dv[3];
    for (int a = 0; a < 3; a++) {
        du[a] = ir[a] - i0[a];
        dv[a] = id[a] - i0[a];
    }
    const uint8_t *d = sp_volume_u8(vol);
    for (size_t y = 0; y < g->height; y++)
        for (size_t x = 0; x < g->width; x++) {
            double ijk[3];
            for (int a = 0; a < 3; a++)
                ijk[a] = i0[a] + (double)x * du[a] + (double)y * dv[a];
            out[y * g->width + x] = sample_at(vol, d, ijk, nearest);
        }
    memcpy(origin_out, p0, sizeof p0);
    return SP_OK;
}
