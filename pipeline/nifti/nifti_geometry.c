/* qform quaternion <-> matrix, and LPS <-> RAS (NIfTI-1 header notes,
 * "method 2"). */
#include "nifti_internal.h"

#include <math.h>

void nifti_quatern_to_mat(const nifti_quatern *q, double ras[4][4])
{
    double b = q->b, c = q->c, d = q->d;
    double s = b * b + c * c + d * d;
    double a;
    if (s > 1.0) {
        /* Rounding in float headers: renormalise to a 180-degree turn. */
        double n = sqrt(s);
        b /= n;
        c /= n;
        d /= n;
        a = 0.0;
    } else {
        a = sqrt(1.0 - s);
    }
    double r[3][3] = {
        {a * a + b * b - c * c - d * d, 2 * (b * c - a * d),
         2 * (b * d + a * c)},
        {2 * (b * c + a * d), a * a + c * c - b * b - d * d,
         2 * (c * d - a * b)},
        {2 * (b * d - a * c), 2 * (c * d + a * b),
         a * a + d * d - c * c - b * b},
    };
    double scale[3] = {q->pixdim[0], q->pixdim[1],
                       (q->qfac < 0 ? -1.0 : 1.0) * q->pixdim[2]};
    for (int row = 0; row < 3; row++) {
        for (int col = 0; col < 3; col++)
            ras[row][col] = r[row][col] * scale[col];
        ras[row][3] = q->offset[row];
        ras[3][row] = 0.0;
    }
    ras[3][3] = 1.0;
}

static double norm3(const double v[3])
{
    return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

static double dot3(const double u[3], const double v[3])
{
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
}

/* Make v a unit vector; a zero column becomes `fallback` (a unit axis) so
 * a degenerate matrix still yields a valid rotation. */
static void unit_or(double v[3], int fallback)
{
    double n = norm3(v);
    if (n > 0) {
        for (int i = 0; i < 3; i++)
            v[i] /= n;
    } else {
        for (int i = 0; i < 3; i++)
            v[i] = i == fallback ? 1.0 : 0.0;
    }
}

void nifti_mat_to_quatern(const double ras[4][4], nifti_quatern *q)
{
    double col[3][3];
    for (int k = 0; k < 3; k++) {
        for (int row = 0; row < 3; row++)
            col[k][row] = ras[row][k];
        q->pixdim[k] = norm3(col[k]);
        q->offset[k] = ras[k][3];
    }
    /* Gram-Schmidt keeps the first axis exactly and removes shear. */
    double x[3], y[3], z[3];
    for (int i = 0; i < 3; i++)
        x[i] = col[0][i];
    unit_or(x, 0);
    double xy = dot3(x, col[1]);
    for (int i = 0; i < 3; i++)
        y[i] = col[1][i] - xy * x[i];
    unit_or(y, 1);
    double xz = dot3(x, col[2]), yz = dot3(y, col[2]);
    for (int i = 0; i < 3; i++)
        z[i] = col[2][i] - xz * x[i] - yz * y[i];
    unit_or(z, 2);
    double cross[3] = {x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2],
                       x[0] * y[1] - x[1] * y[0]};
    q->qfac = dot3(cross, z) < 0 ? -1.0 : 1.0;
    for (int i = 0; i < 3; i++)
        z[i] = cross[i];
    /* R has columns x, y, z: R[row][col]. */
    double r[3][3];
    for (int row = 0; row < 3; row++) {
        r[row][0] = x[row];
        r[row][1] = y[row];
        r[row][2] = z[row];
    }
    double a, b, c, d;
    double trace = r[0][0] + r[1][1] + r[2][2] + 1.0;
    if (trace > 0.5) {
        a = 0.5 * sqrt(trace);
        b = 0.25 * (r[2][1] - r[1][2]) / a;
        c = 0.25 * (r[0][2] - r[2][0]) / a;
        d = 0.25 * (r[1][0] - r[0][1]) / a;
    } else {
        double xd = 1.0 + r[0][0] - (r[1][1] + r[2][2]);
        double yd = 1.0 + r[1][1] - (r[0][0] + r[2][2]);
        double zd = 1.0 + r[2][2] - (r[0][0] + r[1][1]);
        if (xd > 1.0) {
            b = 0.5 * sqrt(xd);
            c = 0.25 * (r[0][1] + r[1][0]) / b;
            d = 0.25 * (r[0][2] + r[2][0]) / b;
            a = 0.25 * (r[2][1] - r[1][2]) / b;
        } else if (yd > 1.0) {
            c = 0.5 * sqrt(yd);
            b = 0.25 * (r[0][1] + r[1][0]) / c;
            d = 0.25 * (r[1][2] + r[2][1]) / c;
            a = 0.25 * (r[0][2] - r[2][0]) / c;
        } else {
            d = 0.5 * sqrt(zd);
            b = 0.25 * (r[0][2] + r[2][0]) / d;
            c = 0.25 * (r[1][2] + r[2][1]) / d;
            a = 0.25 * (r[1][0] - r[0][1]) / d;
        }
        if (a < 0.0) {
            b = -b;
            c = -c;
            d = -d;
        }
    }
    q->b = b;
    q->c = c;
    q->d = d;
}

void nifti_flip_lps_ras(const double in[4][4], double out[4][4])
{
    for (int row = 0; row < 4; row++)
        for (int col = 0; col < 4; col++)
            out[row][col] = (row < 2 ? -1.0 : 1.0) * in[row][col];
}
