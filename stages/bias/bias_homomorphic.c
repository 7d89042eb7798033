/* Homomorphic (log-domain) shading correction within a foreground mask. */
#include "bias_kernels.h"

#include <math.h>
#include <stdlib.h>

#include "analysis.h"

void bias_params_default(bias_params *p)
{
    p->sigma_mm = 25.0;
    p->fg_fraction = 0.08;
    p->target_median = 100.0;
    p->iterations = 3;
}

/* q-quantile of the n values (copied, the input stays as is) */
static sp_status quantile(const float *v, size_t n, double q, double *out,
                          sp_error *err)
{
    float *c = malloc(n * sizeof *c);
    if (!c)
        return sp_error_set(err, SP_NOMEM, "bias: out of memory");
    for (size_t t = 0; t < n; t++)
        c[t] = v[t];
    *out = analysis_select_f32(c, n, (size_t)(q * (double)(n - 1)));
    free(c);
    return SP_OK;
}

sp_status bias_foreground(const sp_volume *img, double fraction,
                          sp_volume *mask, sp_error *err)
{
    const float *im = sp_volume_f32(img);
    if (!im)
        return sp_error_set(err, SP_INTERNAL, "bias: image is not F32");
    size_t n = sp_volume_count(img);
    double p99;
    sp_status st = quantile(im, n, 0.99, &p99, err);
    if (st != SP_OK)
        return st;
    if (!(p99 > 0))
        return sp_error_set(err, SP_NOTANALYSABLE,
                            "bias: image has no positive signal");
    st = sp_volume_alloc_like(mask, img, SP_VOXEL_U8, err);
    if (st != SP_OK)
        return st;
    uint8_t *m = mask->data;
    for (size_t t = 0; t < n; t++)
        m[t] = im[t] > fraction * p99;
    return SP_OK;
}

/* Block means of src over factor-sized blocks (the last block of an axis
 * may be partial), on a grid with that much coarser spacing. */
static sp_status block_mean(const sp_volume *src, const int f[3],
                            sp_volume *dst, sp_error *err)
{
    size_t nd[3];
    for (int a = 0; a < 3; a++)
        nd[a] = (src->dim[a] + (size_t)f[a] - 1) / (size_t)f[a];
    sp_status st = sp_volume_alloc(dst, SP_VOXEL_F32, nd[0], nd[1], nd[2],
                                   err);
    if (st != SP_OK)
        return st;
    double m[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            m[r][c] = src->vox2lps[r][c] * (c < 3 ? f[c] : 1);
    sp_volume_set_geometry(dst, m);
    float *out = dst->data;
    const float *in = src->data;
    float *cnt = calloc(sp_volume_count(dst), sizeof *cnt);
    if (!cnt) {
        sp_volume_free(dst);
        return sp_error_set(err, SP_NOMEM, "bias: out of memory");
    }
    for (size_t k = 0; k < src->dim[2]; k++)
        for (size_t j = 0; j < src->dim[1]; j++)
            for (size_t i = 0; i < src->dim[0]; i++) {
                size_t q = sp_volume_index(dst, i / (size_t)f[0],
                                           j / (size_t)f[1],
                                           k / (size_t)f[2]);
                out[q] += in[sp_volume_index(src, i, j, k)];
                cnt[q] += 1;
            }
    for (size_t q = 0; q < sp_volume_count(dst); q++)
        out[q] /= cnt[q];
    free(cnt);
    return SP_OK;
}

/* Per fine index along one axis: the two coarse neighbours and the
 * weight of the upper one (linear interpolation between block centres). */
typedef struct interp_axis {
    size_t *lo, *hi;
    double *w;
} interp_axis;

static int interp_axis_make(size_t fine, size_t coarse, int f,
                            interp_axis *ax)
{
    ax->lo = malloc(fine * sizeof *ax->lo);
    ax->hi = malloc(fine * sizeof *ax->hi);
    ax->w = malloc(fine * sizeof *ax->w);
    if (!ax->lo || !ax->hi || !ax->w)
        return 0;
    double top = (double)(coarse - 1);
    for (size_t i = 0; i < fine; i++) {
        double v = ((double)i + 0.5) / f - 0.5;
        v = v < 0 ? 0 : v > top ? top : v;
        ax->lo[i] = (size_t)floor(v);
        ax->hi[i] = ax->lo[i] + 1 < coarse ? ax->lo[i] + 1 : ax->lo[i];
        ax->w[i] = v - (double)ax->lo[i];
    }
    return 1;
}

static void interp_axis_free(interp_axis *ax)
{
    free(ax->lo), free(ax->hi), free(ax->w);
}

/* Trilinear value of the coarse grid at fine voxel (i, j, k). */
static double coarse_at(const sp_volume *c, const interp_axis ax[3],
                        size_t i, size_t j, size_t k)
{
    const float *d = c->data;
    size_t nx = c->dim[0], nxy = nx * c->dim[1];
    size_t j0 = ax[1].lo[j] * nx, j1 = ax[1].hi[j] * nx;
    size_t k0 = ax[2].lo[k] * nxy, k1 = ax[2].hi[k] * nxy;
    size_t i0 = ax[0].lo[i], i1 = ax[0].hi[i];
    double wi = ax[0].w[i], wj = ax[1].w[j], wk = ax[2].w[k];
    double a = (1 - wi) * d[i0 + j0 + k0] + wi * d[i1 + j0 + k0];
    double b = (1 - wi) * d[i0 + j1 + k0] + wi * d[i1 + j1 + k0];
    double e = (1 - wi) * d[i0 + j0 + k1] + wi * d[i1 + j0 + k1];
    double g = (1 - wi) * d[i0 + j1 + k1] + wi * d[i1 + j1 + k1];
    return (1 - wk) * ((1 - wj) * a + wj * b) + wk * ((1 - wj) * e + wj * g);
}

static sp_status correct_once(const sp_volume *img, const bias_params *p,
                       sp_volume *out, sp_volume *field, sp_error *err)
{
    if (!(p->sigma_mm > 0) || !(p->fg_fraction > 0 && p->fg_fraction < 1))
        return sp_error_set(err, SP_CONFIG,
                            "bias: sigma_mm %g or fg_fraction %g out of range",
                            p->sigma_mm, p->fg_fraction);
    sp_volume mask = {0}, logv = {0}, wv = {0}, slog = {0}, sw = {0};
    sp_status st = bias_foreground(img, p->fg_fraction, &mask, err);
    if (st == SP_OK)
        st = sp_volume_alloc_like(&logv, img, SP_VOXEL_F32, err);
    if (st == SP_OK)
        st = sp_volume_alloc_like(&wv, img, SP_VOXEL_F32, err);
    if (st != SP_OK)
        goto done;
    const float *im = img->data;
    const uint8_t *m = mask.data;
    float *lg = logv.data, *w = wv.data;
    size_t n = sp_volume_count(img), nfg = 0;
    double mean_log = 0;
    for (size_t t = 0; t < n; t++)
        if (m[t]) {
            lg[t] = (float)log(im[t]);
            w[t] = 1.0f;
            mean_log += lg[t];
            nfg++;
        }
    if (nfg == 0) {
        st = sp_error_set(err, SP_NOTANALYSABLE, "bias: empty foreground");
        goto done;
    }
    mean_log /= (double)nfg;
    /* the field is smooth: smooth on blocks of about sigma / 5 and
     * interpolate back (the cost no longer grows with the matrix) */
    int f[3];
    for (int a = 0; a < 3; a++) {
        double v = floor(0.2 * p->sigma_mm / img->spacing[a]);
        f[a] = v < 1 ? 1 : v > 16 ? 16 : (int)v;
    }
    sp_volume cl = {0}, cw = {0};
    st = block_mean(&logv, f, &cl, err);
    if (st == SP_OK)
        st = block_mean(&wv, f, &cw, err);
    if (st == SP_OK)
        st = analysis_gaussian(&cl, p->sigma_mm, &slog, err);
    if (st == SP_OK)
        st = analysis_gaussian(&cw, p->sigma_mm, &sw, err);
    sp_volume_free(&cl), sp_volume_free(&cw);
    if (st == SP_OK)
        st = sp_volume_alloc_like(out, img, SP_VOXEL_F32, err);
    if (st == SP_OK && field)
        st = sp_volume_alloc_like(field, img, SP_VOXEL_F32, err);
    if (st != SP_OK)
        goto done;
    /* the log field on the coarse grid; far from any foreground it is
     * unknown: left at 0 (field 1) */
    float *lf = slog.data;
    const float *wsum = sw.data;
    for (size_t q = 0; q < sp_volume_count(&slog); q++)
        lf[q] = wsum[q] > 1e-3 ? (float)(lf[q] / wsum[q] - mean_log) : 0.0f;
    interp_axis ax[3] = {{0}, {0}, {0}};
    int ok = 1;
    for (int a = 0; a < 3; a++)
        ok &= interp_axis_make(img->dim[a], slog.dim[a], f[a], &ax[a]);
    if (!ok) {
        st = sp_error_set(err, SP_NOMEM, "bias: out of memory");
    } else {
        float *o = out->data, *fo = field ? field->data : NULL;
        for (size_t k = 0; k < img->dim[2]; k++)
            for (size_t j = 0; j < img->dim[1]; j++)
                for (size_t i = 0; i < img->dim[0]; i++) {
                    size_t t = sp_volume_index(img, i, j, k);
                    double fv = exp(coarse_at(&slog, ax, i, j, k));
                    o[t] = (float)(im[t] / fv);
                    if (fo)
                        fo[t] = (float)fv;
                }
    }
    for (int a = 0; a < 3; a++)
        interp_axis_free(&ax[a]);
done:
    sp_volume_free(&mask), sp_volume_free(&logv), sp_volume_free(&wv);
    sp_volume_free(&slog), sp_volume_free(&sw);
    return st;
}

sp_status bias_normalise(sp_volume *img, const sp_volume *mask, double target,
                         double *scale, sp_error *err)
{
    float *im = sp_volume_f32(img);
    const uint8_t *m = sp_volume_u8(mask);
    size_t n = sp_volume_count(img), c = 0;
    if (!im || !m || sp_volume_count(mask) != n)
        return sp_error_set(err, SP_INTERNAL,
                            "bias normalise: image or mask of wrong type/size");
    float *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return sp_error_set(err, SP_NOMEM, "bias normalise: out of memory");
    for (size_t t = 0; t < n; t++)
        if (m[t])
            v[c++] = im[t];
    double med = 0;
    sp_status st = c ? quantile(v, c, 0.5, &med, err)
                     : sp_error_set(err, SP_NOTANALYSABLE,
                                    "bias normalise: empty mask");
    free(v);
    if (st != SP_OK)
        return st;
    if (!(med > 0))
        return sp_error_set(err, SP_NOTANALYSABLE,
                            "bias normalise: foreground median %g is not "
                            "positive", med);
    double k = target / med;
    for (size_t t = 0; t < n; t++)
        im[t] = (float)(im[t] * k);
    if (scale)
        *scale = k;
    return SP_OK;
}

sp_status bias_correct(const sp_volume *img, const bias_params *p,
                       sp_volume *out, sp_volume *field, sp_error *err)
{
    if (p->iterations < 1 || p->iterations > 10)
        return sp_error_set(err, SP_CONFIG,
                            "bias: iterations %d out of range 1..10",
                            p->iterations);
    /* each pass removes part of what the smoothing left near the edges of
     * the foreground; the fields multiply */
    sp_volume cur = {0}, f = {0};
    sp_status st = correct_once(img, p, &cur, field ? &f : NULL, err);
    for (int it = 1; st == SP_OK && it < p->iterations; it++) {
        sp_volume next = {0}, f2 = {0};
        st = correct_once(&cur, p, &next, field ? &f2 : NULL, err);
        if (st == SP_OK) {
            sp_volume_free(&cur);
            cur = next;
            if (field) {
                float *a = f.data;
                const float *b = f2.data;
                for (size_t t = 0; t < sp_volume_count(&f); t++)
                    a[t] *= b[t];
            }
        }
        sp_volume_free(&f2);
    }
    if (st != SP_OK) {
        sp_volume_free(&cur), sp_volume_free(&f);
        return st;
    }
    *out = cur;
    if (field)
        *field = f;
    return SP_OK;
}
