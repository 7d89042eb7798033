/* Cubic B-spline interpolation of a smoothed volume, for edges located
 * to a fraction of a voxel. Trilinear interpolation has a slope that is
 * constant between voxel centres, so the steepest point of a profile
 * read through it sits at the middle between two centres whatever the
 * true edge: the edge snaps to the voxel grid, by up to a quarter voxel
 * (docs/accuracy.md, eleventh session). The cubic spline through the
 * same values has a continuous slope. */
#include "analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


/* The pole of the cubic B-spline's inverse filter (Unser 1999). */
#define POLE (-0.26794919243112270) /* sqrt(3) - 2 */
#define CUBIC_MIN_SIGMA 0.6

/* In place on `w` neighbouring lines of n values each, value k of line
 * i at c[k * stride + i]: interpolation values to B-spline coefficients,
 * mirror-symmetric at both ends. The lines run side by side so that a
 * strided axis is read a row of w values at a time, not one value per
 * cache line. tmp holds n * w doubles. */
static void prefilter_lines(float *c, size_t n, size_t stride, size_t w,
                            double *tmp)
{
    if (n < 2)
        return;
    const double z = POLE, gain = (1 - z) * (1 - 1 / z);
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < w; i++)
            tmp[k * w + i] = c[k * stride + i] * gain;
    /* causal start: the mirrored sum, truncated where z^k is negligible */
    size_t horizon = n < 24 ? n : 24;
    for (size_t i = 0; i < w; i++) {
        double sum = tmp[i], zk = z;
        for (size_t k = 1; k < horizon; k++, zk *= z)
            sum += zk * tmp[k * w + i];
        tmp[i] = sum;
    }
    for (size_t k = 1; k < n; k++)
        for (size_t i = 0; i < w; i++)
            tmp[k * w + i] += z * tmp[(k - 1) * w + i];
    /* anti-causal start (mirror boundary) */
    for (size_t i = 0; i < w; i++)
        tmp[(n - 1) * w + i] = z / (z * z - 1) *
                               (tmp[(n - 1) * w + i] + z * tmp[(n - 2) * w + i]);
    for (size_t k = n - 1; k-- > 0;)
        for (size_t i = 0; i < w; i++)
            tmp[k * w + i] = z * (tmp[(k + 1) * w + i] - tmp[k * w + i]);
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < w; i++)
            c[k * stride + i] = (float)tmp[k * w + i];
}

/* Whether the smoothing (sigma in mm) leaves axis a band-limited enough
 * for the cubic spline: a Gaussian of CUBIC_MIN_SIGMA voxels keeps
 * little above the voxel grid's Nyquist frequency. Thicker slices are
 * hardly smoothed along z, and a cubic through a sharp step rings (the
 * overshoot reads as a wall), so such an axis stays linear. */
static int axis_is_cubic(const sp_volume *v, int a, double sigma_mm)
{
    return v->dim[a] >= 4 && sigma_mm / v->spacing[a] >= CUBIC_MIN_SIGMA;
}

sp_status analysis_spline_new(const sp_volume *src, double sigma_mm,
                              analysis_spline *out, sp_error *err)
{
    memset(out, 0, sizeof *out);
    if (!sp_volume_f32(src))
        return sp_error_set(err, SP_UNSUPPORTED, "cubic spline needs F32");
    sp_status st = sp_volume_alloc_like(&out->coef, src, SP_VOXEL_F32, err);
    if (st != SP_OK)
        return st;
    size_t n = sp_volume_count(src);
    float *c = sp_volume_f32(&out->coef);
    memcpy(c, src->data, n * sizeof *c);
    /* x lines one at a time; y and z lines a whole row of x side by side */
    size_t nx = src->dim[0], ny = src->dim[1], nz = src->dim[2];
    size_t longest = nx > ny ? nx : ny;
    longest = nz > longest ? nz : longest;
    double *tmp = malloc(longest * nx * sizeof *tmp);
    if (!tmp) {
        sp_volume_free(&out->coef);
        return sp_error_set(err, SP_NOMEM, "cubic spline: out of memory");
    }
    for (int a = 0; a < 3; a++)
        out->cubic[a] = axis_is_cubic(src, a, sigma_mm);
    if (out->cubic[0])
        for (size_t k = 0; k < nz; k++)
            for (size_t j = 0; j < ny; j++)
                prefilter_lines(c + (k * ny + j) * nx, nx, 1, 1, tmp);
    if (out->cubic[1])
        for (size_t k = 0; k < nz; k++)
            prefilter_lines(c + k * ny * nx, ny, nx, nx, tmp);
    if (out->cubic[2])
        for (size_t j = 0; j < ny; j++)
            prefilter_lines(c + j * nx, nz, nx * ny, nx, tmp);
    free(tmp);
    return SP_OK;
}

void analysis_spline_free(analysis_spline *s)
{
    sp_volume_free(&s->coef);
}

/* The four weights for fraction t in [0, 1) on the points -1..2: the
 * cubic B-spline's, or linear interpolation's. */
static void weights(int cubic, double t, double w[4])
{
    if (!cubic) {
        w[0] = w[3] = 0, w[1] = 1 - t, w[2] = t;
        return;
    }
    double s = 1 - t;
    w[0] = s * s * s / 6;
    w[1] = (4 - 6 * t * t + 3 * t * t * t) / 6;
    w[2] = (4 - 6 * s * s + 3 * s * s * s) / 6;
    w[3] = t * t * t / 6;
}

/* Index i clamped by mirroring into [0, n). */
static size_t mirror(long i, size_t n)
{
    long m = (long)n - 1;
    if (m <= 0)
        return 0;
    while (i < 0 || i > m)
        i = i < 0 ? -i : 2 * m - i;
    return (size_t)i;
}

double analysis_spline_sample(const analysis_spline *s, const double g[3],
                              double outside)
{
    const sp_volume *coef = &s->coef;
    const float *c = sp_volume_f32(coef);
    double w[3][4];
    long b[3];
    for (int d = 0; d < 3; d++) {
        double f = g[d] / coef->spacing[d];
        if (!(f >= 0) || f > (double)(coef->dim[d] - 1))
            return outside;
        b[d] = (long)floor(f);
        weights(s->cubic[d], f - (double)b[d], w[d]);
    }
    size_t ix[4], iy[4], iz[4];
    int inside = 1; /* all 4 x 4 x 4 points in the grid: no mirroring */
    for (int d = 0; d < 3; d++)
        inside &= b[d] >= 1 && b[d] + 2 < (long)coef->dim[d];
    for (int k = 0; k < 4; k++) {
        ix[k] = inside ? (size_t)(b[0] + k - 1) : mirror(b[0] + k - 1, coef->dim[0]);
        iy[k] = inside ? (size_t)(b[1] + k - 1) : mirror(b[1] + k - 1, coef->dim[1]);
        iz[k] = inside ? (size_t)(b[2] + k - 1) : mirror(b[2] + k - 1, coef->dim[2]);
    }
    size_t nx = coef->dim[0], nxy = nx * coef->dim[1];
    /* a linear axis has weight only on its middle two points */
    int y0 = s->cubic[1] ? 0 : 1, y1 = s->cubic[1] ? 4 : 3;
    int z0 = s->cubic[2] ? 0 : 1, z1 = s->cubic[2] ? 4 : 3;
    double acc = 0;
    for (int z = z0; z < z1; z++) {
        double sz = 0;
        for (int y = y0; y < y1; y++) {
            const float *row = c + iz[z] * nxy + iy[y] * nx;
            double sx = w[0][0] * row[ix[0]] + w[0][1] * row[ix[1]] +
                        w[0][2] * row[ix[2]] + w[0][3] * row[ix[3]];
            sz += w[1][y] * sx;
        }
        acc += w[2][z] * sz;
    }
    return acc;
}
