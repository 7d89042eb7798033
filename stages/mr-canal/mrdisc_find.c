/* Discs on sagittal T2: the periodic signal in front of the canal. */
#include "mrcanal_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mrspine_free(mrspine *s)
{
    free(s->wall_j);
    s->wall_j = NULL;
}

/* Gaussian smoothing of a 1D profile, sigma in samples, edges clamped */
static void smooth1d(const double *in, double *out, size_t n, double sigma)
{
    int r = (int)ceil(3 * sigma);
    for (size_t k = 0; k < n; k++) {
        double s = 0, w = 0;
        for (int d = -r; d <= r; d++) {
            long q = (long)k + d;
            q = q < 0 ? 0 : q >= (long)n ? (long)n - 1 : q;
            double g = sigma > 0 ? exp(-0.5 * d * d / (sigma * sigma))
                                 : (d == 0);
            s += g * in[q], w += g;
        }
        out[k] = s / w;
    }
}

static void bandpass(const double *p, double *d, size_t n, double s1,
                     double s2, double *tmp)
{
    smooth1d(p, d, n, s1);
    smooth1d(p, tmp, n, s2);
    for (size_t k = 0; k < n; k++)
        d[k] -= tmp[k];
}

/* The shortest lag in [lo, hi] whose normalised autocorrelation is a local
 * maximum within 0.8 of the best (multiples of the level come second) */
static size_t best_period(const double *d, size_t n, size_t lo, size_t hi)
{
    if (hi + 5 > n)
        hi = n > 5 ? n - 5 : lo;
    if (hi < lo + 2)
        return lo;
    double *ac = calloc(hi + 2, sizeof *ac);
    if (!ac)
        return lo;
    double best = -2;
    for (size_t l = lo - 1; l <= hi + 1; l++) {
        double s = 0, a = 0, b = 0;
        for (size_t k = 0; k + l < n; k++) {
            s += d[k] * d[k + l];
            a += d[k] * d[k];
            b += d[k + l] * d[k + l];
        }
        ac[l] = a > 0 && b > 0 ? s / sqrt(a * b) : -1;
        if (l >= lo && l <= hi && ac[l] > best)
            best = ac[l];
    }
    size_t bl = lo;
    for (size_t l = lo; l <= hi; l++)
        if (ac[l] >= ac[l - 1] && ac[l] >= ac[l + 1] &&
            ac[l] >= 0.8 * best) {
            bl = l;
            break;
        }
    free(ac);
    return bl;
}

/* Greedy peaks of sign*d at least `sep` samples apart and above
 * frac * the strongest; returns their count, positions in pk (sorted). */
static size_t peaks(const double *d, size_t n, int sign, double sep,
                    double frac, size_t margin, size_t *pk, size_t max)
{
    double top = 0;
    for (size_t k = 0; k < n; k++)
        top = sign * d[k] > top ? sign * d[k] : top;
    size_t np = 0;
    uint8_t *used = calloc(n, 1);
    if (!used)
        return 0;
    for (;;) {
        double bv = frac * top;
        size_t bk = SIZE_MAX;
        for (size_t k = margin; k + margin < n; k++)
            if (!used[k] && sign * d[k] > bv && k > 0 && k + 1 < n &&
                sign * d[k] >= sign * d[k - 1] &&
                sign * d[k] >= sign * d[k + 1])
                bv = sign * d[k], bk = k;
        if (bk == SIZE_MAX || np == max || top <= 0)
            break;
        for (size_t k = 0; k < n; k++)
            if (fabs((double)k - (double)bk) < sep)
                used[k] = 1;
        pk[np++] = bk;
    }
    free(used);
    for (size_t a = 1; a < np; a++)
        for (size_t b = a; b > 0 && pk[b - 1] > pk[b]; b--) {
            size_t t = pk[b];
            pk[b] = pk[b - 1], pk[b - 1] = t;
        }
    return np;
}

/* Is the dip at k one endplate of a disc with a bright nucleus: a peak
 * above 1.25 * body within `reach` planes, and past it, within `reach`
 * again, another dip below 0.6 * body? */
static int nucleus_beside(const double *p, size_t nz, size_t k, double reach,
                          double body)
{
    for (int dir = -1; dir <= 1; dir += 2) {
        long best = -1;
        for (long d = 1; d <= (long)reach; d++) {
            long m = (long)k + dir * d;
            if (m < 0 || m >= (long)nz)
                break;
            if (p[m] > 1.25 * body && (best < 0 || p[m] > p[best]))
                best = m;
        }
        if (best < 0)
            continue;
        for (long d = 1; d <= (long)reach; d++) {
            long m = best + dir * d;
            if (m < 0 || m >= (long)nz)
                break;
            if (p[m] < 0.6 * body)
                return 1;
        }
    }
    return 0;
}

sp_status mrdisc_find(const sp_volume *t2, const sp_volume *canal,
                      const mrcanal_info *ci, mrspine *s, sp_error *err)
{
    memset(s, 0, sizeof *s);
    size_t nx = t2->dim[0], ny = t2->dim[1], nz = t2->dim[2];
    const float *im = sp_volume_f32(t2);
    const uint8_t *m = sp_volume_u8(canal);
    if (!im || !m || sp_volume_count(canal) != sp_volume_count(t2))
        return sp_error_set(err, SP_INTERNAL,
                            "mr discs: image and canal do not match");
    double sz = t2->spacing[2], sy = t2->spacing[1];
    s->mid_i = ci->mid_i;
    s->wall_j = malloc(nz * sizeof *s->wall_j);
    double *p = calloc(nz ? nz : 1, sizeof *p);
    double *d = calloc(nz ? nz : 1, sizeof *d);
    double *tmp = calloc(nz ? nz : 1, sizeof *tmp);
    size_t *pk = malloc(nz * sizeof *pk);
    sp_status st = SP_OK;
    if (!s->wall_j || !p || !d || !tmp || !pk) {
        st = sp_error_set(err, SP_NOMEM, "mr discs: out of memory");
        goto done;
    }
    size_t found = 0;
    for (size_t k = 0; k < nz; k++) {
        s->wall_j[k] = -1;
        for (size_t j = 0; j < ny; j++)
            if (m[sp_volume_index(canal, ci->mid_i, j, k)]) {
                s->wall_j[k] = (double)j;
                found++;
                break;
            }
    }
    if (found < nz / 2) {
        st = sp_error_set(err, SP_NOTANALYSABLE,
                          "mr discs: the canal's front wall is seen in only "
                          "%zu of %zu planes", found, nz);
        goto done;
    }
    /* planes without canal take the nearest wall */
    for (size_t k = 0; k < nz; k++)
        if (s->wall_j[k] < 0) {
            for (size_t r = 1; r < nz; r++) {
                if (k >= r && s->wall_j[k - r] >= 0 &&
                    m[sp_volume_index(canal, ci->mid_i,
                                      (size_t)s->wall_j[k - r], k - r)]) {
                    s->wall_j[k] = s->wall_j[k - r];
                    break;
                }
                if (k + r < nz && s->wall_j[k + r] >= 0) {
                    s->wall_j[k] = s->wall_j[k + r];
                    break;
                }
            }
        }
    /* profile: slab +-4 mm, 2..14 mm in front of the wall */
    int hs = (int)floor(4.0 / t2->spacing[0] + 0.5);
    int j0 = (int)ceil(2.0 / sy), j1 = (int)ceil(14.0 / sy);
    for (size_t k = 0; k < nz; k++) {
        double sum = 0;
        int c = 0;
        for (int di = -hs; di <= hs; di++)
            for (int dj = j0; dj <= j1; dj++) {
                long i = (long)ci->mid_i + di,
                     j = (long)s->wall_j[k] - dj;
                if (i < 0 || i >= (long)nx || j < 0)
                    continue;
                sum += im[sp_volume_index(t2, (size_t)i, (size_t)j, k)];
                c++;
            }
        p[k] = c ? sum / c : 0;
    }
    memcpy(tmp, p, nz * sizeof *p);
    /* body level: median of the profile (bodies fill most of it) */
    for (size_t a = 1; a < nz; a++)
        for (size_t b = a; b > 0 && tmp[b - 1] > tmp[b]; b--) {
            double t = tmp[b];
            tmp[b] = tmp[b - 1], tmp[b - 1] = t;
        }
    s->body_signal = tmp[nz / 2];
    bandpass(p, d, nz, 1.5 / sz, 8.0 / sz, tmp);
    size_t lag = best_period(d, nz, (size_t)ceil(12.0 / sz),
                             (size_t)(45.0 / sz));
    s->level_mm = (double)lag * sz;
    /* band-pass matched to the level: discs are about a quarter of it.
     * At that scale a disc and its two endplates (cortical bone, black on
     * T2) read darker than the marrow of the bodies when the nucleus is
     * dark (degenerated) or thin. */
    bandpass(p, d, nz, 0.10 * (double)lag, 0.5 * (double)lag, tmp);
    size_t margin = (size_t)(0.15 * (double)lag);
    size_t nu = peaks(d, nz, -1, 0.6 * (double)lag, 0.25, margin, pk,
                      MRSPINE_MAX_DISCS);
    int sg = -1;
    /* A bright (hydrated) nucleus splits that dip into two endplate dips
     * close around a peak brighter than marrow. When most dips sit in
     * such a dark-bright-dark triplet, the discs are the peaks of
     * |p - body| instead: endplates and nucleus both depart from the
     * body signal. */
    size_t beside = 0;
    for (size_t q = 0; q < nu; q++)
        beside += (size_t)nucleus_beside(p, nz, pk[q], 0.25 * (double)lag,
                                         s->body_signal);
    if (nu > 0 && 2 * beside > nu) {
        double *dev = calloc(nz, sizeof *dev);
        if (!dev) {
            st = sp_error_set(err, SP_NOMEM, "mr discs: out of memory");
            goto done;
        }
        for (size_t k = 0; k < nz; k++)
            dev[k] = fabs(p[k] - s->body_signal);
        bandpass(dev, d, nz, 0.10 * (double)lag, 0.5 * (double)lag, tmp);
        free(dev);
        nu = peaks(d, nz, 1, 0.6 * (double)lag, 0.25, margin, pk,
                   MRSPINE_MAX_DISCS);
        sg = 1;
    }
    size_t *use = pk;
    for (size_t q = 0; q < nu; q++) {
        mrdisc *dc = &s->disc[s->n_disc++];
        size_t k = use[q], a = k, b = k;
        double half = 0.5 * sg * d[k];
        while (a > 0 && sg * d[a - 1] > half)
            a--;
        while (b + 1 < nz && sg * d[b + 1] > half)
            b++;
        dc->k = 0.5 * (double)(a + b);
        dc->height_mm = (double)(b - a + 1) * sz;
        dc->signal = p[k];
        s->discs_bright += p[k] > s->body_signal;
    }
    s->body_depth_mm = fmin(40, fmax(12, s->level_mm));
    /* sacrum: the column goes on below the lowest disc for most of a
     * level without another disc (S1 is often cut by the field of view) */
    if (s->n_disc > 0 && s->disc[0].k * sz > 0.8 * s->level_mm)
        s->sacrum_below = 1;
done:
    free(p), free(d), free(tmp), free(pk);
    if (st != SP_OK)
        mrspine_free(s);
    return st;
}
