/* The front edge of a thin wall with a deep fall behind it (the
 * ligamentum flavum, 3 mm of 60 HU with fat at -100 behind, lining the
 * back of the canal at the disc): the steepest rise of such a blurred
 * slab lies inside the canal, by more the wider the blur (a 1D model:
 * 0.08 mm at a 1.0 mm blur, 0.26 at 1.2, 0.51 at 1.4), because the fall's
 * own blur tilts the rise. The profile is fitted instead with the blurred
 * slab itself: a level L up to edge a, a wall W from a to b, a level F
 * beyond, all blurred by one Gaussian of width s,
 *     m(x) = L + (W - L) Phi((x - a) / s) + (F - W) Phi((x - b) / s),
 * least squares over the profile; L, W, F are linear given a, b, s. */
#include "canal_kernels.h"

#include <math.h>

#define FIT_STEP_MM 0.05   /* the fit's final resolution */
#define SIGMA_MIN_MM 0.5
#define SIGMA_MAX_MM 2.5
#define SIGMA_STEP_MM 0.25
#define WALL_MIN_MM 0.5
#define WALL_MAX_MM 6.0

#define MAX_FIT 128        /* samples fitted, at most */
#define TABLE 512          /* Phi on whole-sample offsets, +- this */

static double phi(double z)
{
    return 0.5 * erfc(-z / M_SQRT2);
}

static double det3(double m[3][3])
{
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

/* The residual of the best L, W, F over prof[i0..i1] for the blurred
 * edges pa[], pb[] (Phi at sample i0 + k in pa[k]); inf when the fit is
 * not a wall with a fall behind (W above L, F below W). */
static double residual(const double *prof, int i0, int i1, const double *pa,
                       const double *pb)
{
    /* basis 1, pa, pb: normal equations, solved by Cramer's rule */
    double m[3][3] = {{0}}, y[3] = {0};
    for (int i = i0; i <= i1; i++) {
        double f[3] = {1, pa[i - i0], pb[i - i0]};
        for (int r = 0; r < 3; r++) {
            y[r] += f[r] * prof[i];
            for (int c = 0; c < 3; c++)
                m[r][c] += f[r] * f[c];
        }
    }
    double det = det3(m);
    if (fabs(det) < 1e-9)
        return INFINITY;
    double c[3];
    for (int k = 0; k < 3; k++) {
        double t[3][3];
        for (int r = 0; r < 3; r++)
            for (int q = 0; q < 3; q++)
                t[r][q] = q == k ? y[r] : m[r][q];
        c[k] = det3(t) / det;
    }
    if (c[1] <= 0 || c[2] >= 0)
        return INFINITY;
    double ss = 0;
    for (int i = i0; i <= i1; i++) {
        double d = prof[i] - c[0] - c[1] * pa[i - i0] - c[2] * pb[i - i0];
        ss += d * d;
    }
    return ss;
}

/* The residual for edges a, b and blur s in samples, off the grid. */
static double residual_at(const double *prof, int i0, int i1, double a,
                          double b, double s)
{
    double pa[MAX_FIT], pb[MAX_FIT];
    for (int i = i0; i <= i1; i++)
        pa[i - i0] = phi((i - a) / s), pb[i - i0] = phi((i - b) / s);
    return residual(prof, i0, i1, pa, pb);
}

double canal_slab_edge(const double *prof, int i0, int i1, double guess,
                       double step_mm)
{
    double best = INFINITY, ba = guess, bb = -1, bs = -1;
    double q = 1.0 / step_mm; /* samples per mm */
    if (i0 < 0 || i1 - i0 + 1 > MAX_FIT || i1 - i0 < 8)
        return -1;
    /* coarse: a within 1.5 mm of the guess, a and b on the samples, so
       Phi comes from a table of whole-sample offsets */
    double table[2 * TABLE + 1];
    for (double s = SIGMA_MIN_MM; s <= SIGMA_MAX_MM + 1e-9;
         s += SIGMA_STEP_MM) {
        for (int d = -TABLE; d <= TABLE; d++)
            table[d + TABLE] = phi(d / (s * q));
        for (int a = (int)floor(guess - 1.5 * q);
             a <= (int)ceil(guess + 1.5 * q); a++)
            for (int w = (int)ceil(WALL_MIN_MM * q);
                 w <= (int)(WALL_MAX_MM * q) && a + w < i1; w++) {
                if (a < i0 - TABLE + 1 || a + w > i1 + TABLE - 1 || a > i1)
                    continue;
                double e = residual(prof, i0, i1, table + TABLE + i0 - a,
                                    table + TABLE + i0 - a - w);
                if (e < best)
                    best = e, ba = a, bb = a + w, bs = s * q;
            }
    }
    if (bb < 0)
        return -1;
    /* fine: each parameter in turn, FIT_STEP_MM apart */
    double h = FIT_STEP_MM * q;
    for (int round = 0; round < 3; round++) {
        double p[3] = {ba, bb, bs};
        for (int k = 0; k < 3; k++) {
            double c0 = p[k];
            for (int j = -5; j <= 5; j++) {
                p[k] = c0 + j * h;
                if (p[2] <= 0 || p[1] <= p[0])
                    continue;
                double e = residual_at(prof, i0, i1, p[0], p[1], p[2]);
                if (e < best)
                    best = e, ba = p[0], bb = p[1], bs = p[2];
            }
            p[0] = ba, p[1] = bb, p[2] = bs;
        }
    }
    return ba;
}
