/* Centre line of the vertebral bodies from the column mask. */
#include "vertebrae_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BAND_MM 12.0      /* half-width of the mid-line band */
#define MIN_RUN_MM 12.0   /* a body cross-section is at least this deep */
#define MAX_RUN_MM 70.0
#define MIN_FILL 0.6      /* and filled: a spinous process is not */
#define FIT_SIGMA_MM 15.0 /* local fit window along z */
#define OUTLIER_MM 8.0
#define EXTEND_MM 30.0    /* the fit is extrapolated this far at most */

/* Body centre in slice k (grid mm in c[0], c[1]); 0 when none. */
static int body_centre(const sp_volume *spine, size_t k, double c[2])
{
    const uint8_t *m = sp_volume_u8(spine) +
                       k * spine->dim[0] * spine->dim[1];
    size_t nx = spine->dim[0], ny = spine->dim[1];
    double sx = spine->spacing[0], sy = spine->spacing[1];
    /* mid-line: mean i of the slice's column bone */
    double si = 0, cnt = 0;
    for (size_t q = 0; q < nx * ny; q++)
        if (m[q])
            si += (double)(q % nx), cnt++;
    if (cnt == 0)
        return 0;
    double mid = si / cnt, band = BAND_MM / sx;
    long i0 = (long)ceil(mid - band), i1 = (long)floor(mid + band);
    if (i0 < 0)
        i0 = 0;
    if (i1 >= (long)nx)
        i1 = (long)nx - 1;
    int ant_low_j = spine->vox2lps[1][1] > 0; /* j grows posteriorly */
    /* walk j from anterior; first run deep and filled enough is the body */
    long run_start = -1;
    for (size_t step = 0; step <= ny; step++) {
        long j = step == ny ? -1 : (ant_low_j ? (long)step
                                              : (long)(ny - 1 - step));
        size_t row = 0;
        if (j >= 0)
            for (long i = i0; i <= i1; i++)
                row += m[(size_t)i + nx * (size_t)j];
        if (row > 0 && run_start < 0)
            run_start = (long)step;
        if ((row == 0 || j < 0) && run_start >= 0) {
            double depth = (double)((long)step - run_start) * sy;
            if (depth >= MIN_RUN_MM && depth <= MAX_RUN_MM) {
                double sum_i = 0, sum_j = 0, n = 0;
                for (long t = run_start; t < (long)step; t++) {
                    long jj = ant_low_j ? t : (long)ny - 1 - t;
                    for (long i = i0; i <= i1; i++)
                        if (m[(size_t)i + nx * (size_t)jj])
                            sum_i += (double)i, sum_j += (double)jj, n++;
                }
                double area = (double)(i1 - i0 + 1) *
                              (double)((long)step - run_start);
                if (n / area >= MIN_FILL) {
                    c[0] = sum_i / n * sx;
                    c[1] = sum_j / n * sy;
                    return 1;
                }
            }
            if (depth >= MIN_RUN_MM)
                return 0; /* a deep run that is not a body: give up */
            run_start = -1;
        }
    }
    return 0;
}

/* Weighted local quadratic fit of y(z) at z0; returns 0 when singular. */
static int local_fit(const double *z, const double *y, const double *w,
                     size_t n, double z0, double sigma, double *out)
{
    double s[5] = {0}, r[3] = {0};
    for (size_t q = 0; q < n; q++) {
        if (w[q] <= 0)
            continue;
        double d = z[q] - z0, g = w[q] * exp(-d * d / (2 * sigma * sigma));
        double p = 1;
        for (int e = 0; e < 5; e++, p *= d)
            s[e] += g * p;
        r[0] += g * y[q], r[1] += g * y[q] * d, r[2] += g * y[q] * d * d;
    }
    /* solve [s0 s1 s2; s1 s2 s3; s2 s3 s4] x = r, need x[0] */
    double a[3][4] = {{s[0], s[1], s[2], r[0]},
                      {s[1], s[2], s[3], r[1]},
                      {s[2], s[3], s[4], r[2]}};
    for (int c = 0; c < 3; c++) {
        int piv = c;
        for (int rr = c + 1; rr < 3; rr++)
            if (fabs(a[rr][c]) > fabs(a[piv][c]))
                piv = rr;
        if (fabs(a[piv][c]) < 1e-9)
            return 0;
        for (int e = 0; e < 4; e++) {
            double tmp = a[c][e];
            a[c][e] = a[piv][e];
            a[piv][e] = tmp;
        }
        for (int rr = 0; rr < 3; rr++) {
            if (rr == c)
                continue;
            double f = a[rr][c] / a[c][c];
            for (int e = 0; e < 4; e++)
                a[rr][e] -= f * a[c][e];
        }
    }
    *out = a[0][3] / a[0][0];
    return 1;
}

sp_status vert_centerline(const sp_volume *spine, double min_extent_mm,
                          spine_curve *curve, sp_error *err)
{
    memset(curve, 0, sizeof *curve);
    size_t nz = spine->dim[2];
    double sz = spine->spacing[2];
    double *z = malloc(nz * sizeof *z), *x = malloc(nz * sizeof *x);
    double *y = malloc(nz * sizeof *y), *w = malloc(nz * sizeof *w);
    double (*fit)[3] = malloc(nz * sizeof *fit);
    sp_status st = SP_OK;
    if (!z || !x || !y || !w || !fit) {
        st = sp_error_set(err, SP_NOMEM, "segment-vertebrae: out of memory");
        goto done;
    }
    size_t n = 0, first = nz, last = 0;
    size_t k_first_bone = nz, k_last_bone = 0;
    for (size_t k = 0; k < nz; k++) {
        const uint8_t *mk = sp_volume_u8(spine) + k * spine->dim[0] *
                                                      spine->dim[1];
        for (size_t q = 0; q < spine->dim[0] * spine->dim[1]; q++)
            if (mk[q]) {
                if (k < k_first_bone)
                    k_first_bone = k;
                k_last_bone = k;
                break;
            }
    }
    for (size_t k = 0; k < nz; k++) {
        double c[2];
        if (!body_centre(spine, k, c))
            continue;
        z[n] = (double)k * sz, x[n] = c[0], y[n] = c[1], w[n] = 1;
        n++;
        if (k < first)
            first = k;
        last = k;
    }
    if ((double)n * sz < min_extent_mm) {
        st = sp_error_set(err, SP_NOTANALYSABLE,
                          "not analysable: vertebral body cross-sections "
                          "found over %.0f mm only (%.0f mm needed): no "
                          "spinal column in this series",
                          (double)n * sz, min_extent_mm);
        goto done;
    }
    /* robust: fit, drop far points, refit */
    for (int pass = 0; pass < 3; pass++) {
        for (size_t q = 0; q < n; q++) {
            double fx, fy;
            if (!local_fit(z, x, w, n, z[q], FIT_SIGMA_MM, &fx) ||
                !local_fit(z, y, w, n, z[q], FIT_SIGMA_MM, &fy))
                continue;
            if (pass < 2 && hypot(fx - x[q], fy - y[q]) > OUTLIER_MM)
                w[q] = 0;
        }
    }
    size_t m = 0;
    for (size_t k = first; k <= last; k++) {
        double zz = (double)k * sz;
        if (!local_fit(z, x, w, n, zz, FIT_SIGMA_MM, &fit[m][0]) ||
            !local_fit(z, y, w, n, zz, FIT_SIGMA_MM, &fit[m][1]))
            continue;
        fit[m][2] = zz;
        m++;
    }
    /* extend straight along the end direction to the image border when
       column bone reaches it (an end vertebra cut by the field of view) */
    size_t ext_lo = 0, ext_hi = 0;
    if (m >= 2) {
        size_t lim = (size_t)(EXTEND_MM / sz);
        ext_lo = first - k_first_bone < lim ? first - k_first_bone : lim;
        ext_hi = k_last_bone - last < lim ? k_last_bone - last : lim;
        /* only where the field of view cuts the column: elsewhere the
           column ends for real (coccyx) or is no longer body-like */
        if (k_first_bone > 0)
            ext_lo = 0;
        if (k_last_bone + 1 < nz)
            ext_hi = 0;
        curve->cut_lo = k_first_bone == 0;
        curve->cut_hi = k_last_bone + 1 == nz;
        size_t back = m > 4 ? 4 : m - 1;
        double d_hi[3], d_lo[3];
        for (int d = 0; d < 3; d++) {
            d_hi[d] = (fit[m - 1][d] - fit[m - 1 - back][d]) / (double)back;
            d_lo[d] = (fit[back][d] - fit[0][d]) / (double)back;
        }
        for (size_t e = 1; e <= ext_hi; e++)
            for (int d = 0; d < 3; d++)
                fit[m - 1 + e][d] = fit[m - 1][d] + (double)e * d_hi[d];
        m += ext_hi;
        memmove(fit + ext_lo, fit, m * sizeof *fit);
        for (size_t e = 1; e <= ext_lo; e++)
            for (int d = 0; d < 3; d++)
                fit[ext_lo - e][d] = fit[ext_lo][d] - (double)e * d_lo[d];
        m += ext_lo;
    }
    if (m < 2) {
        st = sp_error_set(err, SP_NOTANALYSABLE,
                          "not analysable: the centre line could not be "
                          "fitted");
        goto done;
    }
    /* resample every 1 mm of arc length */
    double len = 0;
    for (size_t q = 1; q < m; q++)
        len += sqrt(pow(fit[q][0] - fit[q - 1][0], 2) +
                    pow(fit[q][1] - fit[q - 1][1], 2) +
                    pow(fit[q][2] - fit[q - 1][2], 2));
    int cut_lo = curve->cut_lo, cut_hi = curve->cut_hi;
    curve->step_mm = 1.0;
    curve->cut_lo = cut_lo, curve->cut_hi = cut_hi;
    curve->n = (size_t)floor(len) + 1;
    curve->p = malloc(curve->n * sizeof *curve->p);
    curve->t = malloc(curve->n * sizeof *curve->t);
    curve->a = malloc(curve->n * sizeof *curve->a);
    if (!curve->p || !curve->t || !curve->a) {
        spine_curve_free(curve);
        st = sp_error_set(err, SP_NOMEM, "segment-vertebrae: out of memory");
        goto done;
    }
    size_t seg = 1;
    double seg_start = 0;
    for (size_t q = 0; q < curve->n; q++) {
        double s = (double)q;
        for (;;) {
            double l = sqrt(pow(fit[seg][0] - fit[seg - 1][0], 2) +
                            pow(fit[seg][1] - fit[seg - 1][1], 2) +
                            pow(fit[seg][2] - fit[seg - 1][2], 2));
            if (s <= seg_start + l || seg + 1 >= m) {
                double f = l > 0 ? (s - seg_start) / l : 0;
                if (f > 1)
                    f = 1;
                for (int d = 0; d < 3; d++)
                    curve->p[q][d] =
                        fit[seg - 1][d] + f * (fit[seg][d] - fit[seg - 1][d]);
                break;
            }
            seg_start += l;
            seg++;
        }
    }
    double ant_y = spine->vox2lps[1][1] > 0 ? -1 : 1;
    for (size_t q = 0; q < curve->n; q++) {
        size_t lo = q >= 3 ? q - 3 : 0, hi = q + 3 < curve->n ? q + 3
                                                              : curve->n - 1;
        double t[3], norm = 0;
        for (int d = 0; d < 3; d++)
            t[d] = curve->p[hi][d] - curve->p[lo][d], norm += t[d] * t[d];
        norm = sqrt(norm);
        for (int d = 0; d < 3; d++)
            curve->t[q][d] = norm > 0 ? t[d] / norm : (d == 2);
        /* anterior: grid y direction made perpendicular to t */
        double a[3] = {0, ant_y, 0}, dot = ant_y * curve->t[q][1];
        double an = 0;
        for (int d = 0; d < 3; d++)
            a[d] -= dot * curve->t[q][d], an += a[d] * a[d];
        an = sqrt(an);
        for (int d = 0; d < 3; d++)
            curve->a[q][d] = an > 0 ? a[d] / an : 0;
    }
done:
    free(z), free(x), free(y), free(w), free(fit);
    return st;
}
