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

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
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
    qsort(c, n, sizeof *c, cmp_float);
    *out = c[(size_t)(q * (double)(n - 1))];
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
    st = analysis_gaussian(&logv, p->sigma_mm, &slog, err);
    if (st == SP_OK)
        st = analysis_gaussian(&wv, p->sigma_mm, &sw, err);
    if (st == SP_OK)
        st = sp_volume_alloc_like(out, img, SP_VOXEL_F32, err);
    if (st == SP_OK && field)
        st = sp_volume_alloc_like(field, img, SP_VOXEL_F32, err);
    if (st != SP_OK)
        goto done;
    const float *sl = slog.data, *s = sw.data;
    float *o = out->data, *f = field ? field->data : NULL;
    for (size_t t = 0; t < n; t++) {
        /* far from any foreground the field is unknown: leave it at 1 */
        double fv = s[t] > 1e-3 ? exp(sl[t] / s[t] - mean_log) : 1.0;
        o[t] = (float)(im[t] / fv);
        if (f)
            f[t] = (float)fv;
    }
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
