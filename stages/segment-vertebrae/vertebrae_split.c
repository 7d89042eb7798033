/* Disc spaces along the centre line and the vertebrae between them. */
#include "vertebrae_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ENDPLATE_MIN_MM 4.0 /* endplates looked for this far either side */
#define ENDPLATE_MAX_MM 10.0
#define MIN_PIECE_MM 12.0   /* shorter end pieces are dropped */
#define SMOOTH_MM 2.0

sp_status vert_profiles(const sp_volume *ct, const sp_volume *spine,
                        const spine_curve *curve, double radius_mm,
                        double *hu, double *bone, sp_error *err)
{
    if (!sp_volume_f32(ct) || !sp_volume_u8(spine))
        return sp_error_set(err, SP_UNSUPPORTED,
                            "segment-vertebrae: the image must be float (HU) "
                            "and the column a U8 mask");
    double step = 1.5;
    for (size_t q = 0; q < curve->n; q++) {
        const double *p = curve->p[q], *a = curve->a[q];
        double l[3];
        spine_lateral(curve, q, l);
        double sum = 0, cnt = 0, in = 0;
        for (double u = -radius_mm; u <= radius_mm; u += step)
            for (double v = -radius_mm; v <= radius_mm; v += step) {
                if (u * u + v * v > radius_mm * radius_mm)
                    continue;
                double g[3];
                long idx[3];
                int inside = 1;
                for (int d = 0; d < 3; d++) {
                    g[d] = p[d] + u * l[d] + v * a[d];
                    idx[d] = lround(g[d] / ct->spacing[d]);
                    inside &= idx[d] >= 0 && idx[d] < (long)ct->dim[d];
                }
                double h = spine_sample(ct, g, NAN);
                if (isnan(h) || !inside)
                    continue;
                sum += h, cnt++;
                in += sp_volume_u8(spine)[sp_volume_index(
                          spine, (size_t)idx[0], (size_t)idx[1],
                          (size_t)idx[2])] != 0;
            }
        hu[q] = cnt > 0 ? sum / cnt : 0;
        bone[q] = cnt > 0 ? in / cnt : 0;
    }
    return SP_OK;
}

typedef struct cand {
    double s, depth;
} cand;

static int by_depth(const void *x, const void *y)
{
    double a = ((const cand *)x)->depth, b = ((const cand *)y)->depth;
    return a < b ? 1 : a > b ? -1 : 0;
}

static int cmp_s(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static int by_s(const void *x, const void *y)
{
    double a = ((const cand *)x)->s, b = ((const cand *)y)->s;
    return a < b ? -1 : a > b;
}

/* Arc position of the brightest sample within ENDPLATE_MAX_MM of the disc
 * at s on side `dir`: the endplate. */
static double endplate(const double *f, size_t n, double step, double s,
                       int dir)
{
    long q0 = lround(s / step), best = q0;
    for (long d = 1; d <= (long)(ENDPLATE_MAX_MM / step); d++) {
        long q = q0 + dir * d;
        if (q < 0 || q >= (long)n)
            break;
        if (f[q] > f[best])
            best = q;
    }
    /* the disc ends half-way to the endplate's brightest rim */
    return s + 0.75 * ((double)best * step - s);
}

static void smooth(const double *in, double *out, size_t n, double step)
{
    int r = (int)ceil(3 * SMOOTH_MM / step);
    for (size_t q = 0; q < n; q++) {
        double s = 0, w = 0;
        for (int d = -r; d <= r; d++) {
            long t = (long)q + d;
            if (t < 0 || t >= (long)n)
                continue;
            double x = d * step, g = exp(-x * x / (2 * SMOOTH_MM * SMOOTH_MM));
            s += g * in[t], w += g;
        }
        out[q] = s / w;
    }
}

sp_status vert_split(const double *hu, const double *bone,
                     const spine_curve *curve, const vert_split_params *par,
                     spine_model *model, sp_error *err)
{
    size_t n = curve->n;
    double *f = malloc(n * sizeof *f), *b = malloc(n * sizeof *b);
    cand *c = malloc(n * sizeof *c);
    if (!f || !b || !c) {
        free(f), free(b), free(c);
        return sp_error_set(err, SP_NOMEM, "segment-vertebrae: out of memory");
    }
    smooth(hu, f, n, curve->step_mm);
    smooth(bone, b, n, curve->step_mm);
    /* a disc: darker than the endplates a disc height away on both sides,
       and not (filled) bone */
    size_t nc = 0;
    long d_lo = (long)ceil(ENDPLATE_MIN_MM / curve->step_mm);
    long d_hi = (long)floor(ENDPLATE_MAX_MM / curve->step_mm);
    for (size_t q = 1; q + 1 < n; q++) {
        if (!(f[q] <= f[q - 1] && f[q] < f[q + 1]))
            continue;
        double flank = -1e9;
        for (long d = d_lo; d <= d_hi; d++) {
            long lo = (long)q - d, hi = (long)q + d;
            if (lo < 0 || hi >= (long)n)
                break;
            double m = fmin(f[lo], f[hi]);
            if (m > flank)
                flank = m;
        }
        if (flank < -1e8)
            continue;
        double score = (flank - f[q]) + 100.0 * (1.0 - b[q]);
        if (score >= par->min_score) {
            c[nc].s = (double)q * curve->step_mm;
            c[nc].depth = score;
            nc++;
        }
    }
    /* typical level height from the unambiguous discs */
    qsort(c, nc, sizeof *c, by_depth);
    double gap = par->min_gap_mm;
    {
        double strong[SPINE_MAX_VERTEBRAE];
        size_t ns = 0;
        for (size_t q = 0; q < nc && ns < SPINE_MAX_VERTEBRAE; q++) {
            int ok = c[q].depth >= par->strong_score;
            for (size_t t = 0; t < ns && ok; t++)
                ok = fabs(strong[t] - c[q].s) >= par->min_gap_mm;
            if (ok)
                strong[ns++] = c[q].s;
        }
        qsort(strong, ns, sizeof *strong, cmp_s);
        double steps[SPINE_MAX_VERTEBRAE];
        for (size_t t = 1; t < ns; t++)
            steps[t - 1] = strong[t] - strong[t - 1];
        if (ns >= 2) {
            qsort(steps, ns - 1, sizeof *steps, cmp_s);
            double typical = steps[(ns - 1) / 2];
            if (par->gap_fraction * typical > gap)
                gap = par->gap_fraction * typical;
        }
    }
    qsort(c, nc, sizeof *c, by_depth);
    size_t na = 0;
    for (size_t q = 0; q < nc; q++) {
        int ok = 1;
        for (size_t t = 0; t < na; t++)
            if (fabs(c[t].s - c[q].s) < gap)
                ok = 0;
        if (ok)
            c[na++] = c[q];
    }
    qsort(c, na, sizeof *c, by_s);
    double len = (double)(n - 1) * curve->step_mm;
    model->typical_level_mm = gap / par->gap_fraction;
    model->n_vert = 0;
    for (size_t q = 0; q <= na; q++) {
        double lo = q == 0 ? 0 : c[q - 1].s, hi = q == na ? len : c[q].s;
        if ((q == 0 || q == na) && hi - lo < MIN_PIECE_MM)
            continue;
        if (model->n_vert == SPINE_MAX_VERTEBRAE)
            break;
        spine_vertebra *v = &model->vert[model->n_vert++];
        memset(v, 0, sizeof *v);
        v->s_lo = lo, v->s_hi = hi;
        v->lo_is_disc = q > 0, v->hi_is_disc = q < na;
        v->body_lo = q > 0 ? endplate(f, n, curve->step_mm, lo, +1) : lo;
        v->body_hi = q < na ? endplate(f, n, curve->step_mm, hi, -1) : hi;
    }
    free(f), free(b), free(c);
    if (na == 0 || model->n_vert < 2)
        return sp_error_set(err, SP_NOTANALYSABLE,
                            "not analysable: %zu disc space(s) and %zu "
                            "vertebra(e) along the column; at least two "
                            "vertebrae with a disc between them are needed",
                            na, model->n_vert);
    return SP_OK;
}

void vert_split_params_default(vert_split_params *p)
{
    p->min_score = 60;
    p->strong_score = 120;
    p->min_gap_mm = 18;
    p->gap_fraction = 0.7;
}
