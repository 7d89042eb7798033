/* Homomorphic (log-domain) shading correction within a foreground mask. */
#include "bias_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

void bias_params_default(bias_params *p)
{
    p->sigma_mm = 25.0;
    p->fg_fraction = 0.08;
    p->target_median = 100.0;
    p->iterations = 3;
}

/* q-quantile of the n values (the input stays as is). Above 2^20 values
 * an evenly strided sample of about that many stands in for them: the
 * quantiles set thresholds and scales, where that is far below the
 * noise, and a 512x512x30 series no longer spends its time selecting. */
static sp_status quantile(const float *v, size_t n, double q, double *out,
                          sp_error *err)
{
    size_t step = n > (1u << 20) ? n / (1u << 20) : 1, m = (n + step - 1) / step;
    float *c = malloc(m * sizeof *c);
    if (!c)
        return sp_error_set(err, SP_NOMEM, "bias: out of memory");
    for (size_t t = 0; t < m; t++)
        c[t] = v[t * step];
    *out = analysis_select_f32(c, m, (size_t)(q * (double)(m - 1)));
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

/* The coarse grid the field lives on: blocks of about sigma / 5 (the
 * field is smooth at that scale), with per fine index along each axis the
 * two neighbouring block centres and the weight of the upper one. */
typedef struct coarse_grid {
    int f[3];
    size_t nd[3];
    size_t *lo[3], *hi[3];
    double *w[3];
} coarse_grid;

static void coarse_free(coarse_grid *g)
{
    for (int a = 0; a < 3; a++)
        free(g->lo[a]), free(g->hi[a]), free(g->w[a]);
}

static int coarse_make(const sp_volume *img, double sigma_mm, coarse_grid *g)
{
    memset(g, 0, sizeof *g);
    for (int a = 0; a < 3; a++) {
        double v = floor(0.2 * sigma_mm / img->spacing[a]);
        g->f[a] = v < 1 ? 1 : v > 16 ? 16 : (int)v;
        size_t n = img->dim[a];
        g->nd[a] = (n + (size_t)g->f[a] - 1) / (size_t)g->f[a];
        g->lo[a] = malloc(n * sizeof *g->lo[a]);
        g->hi[a] = malloc(n * sizeof *g->hi[a]);
        g->w[a] = malloc(n * sizeof *g->w[a]);
        if (!g->lo[a] || !g->hi[a] || !g->w[a])
            return 0;
        double top = (double)(g->nd[a] - 1);
        for (size_t i = 0; i < n; i++) {
            double x = ((double)i + 0.5) / g->f[a] - 0.5;
            x = x < 0 ? 0 : x > top ? top : x;
            g->lo[a][i] = (size_t)floor(x);
            g->hi[a][i] = g->lo[a][i] + 1 < g->nd[a] ? g->lo[a][i] + 1
                                                      : g->lo[a][i];
            g->w[a][i] = x - (double)g->lo[a][i];
        }
    }
    return 1;
}

/* Trilinear value of the coarse field c at fine voxel (i, j, k). */
static double coarse_at(const coarse_grid *g, const float *c, size_t i,
                        size_t j, size_t k)
{
    size_t nx = g->nd[0], nxy = nx * g->nd[1];
    size_t j0 = g->lo[1][j] * nx, j1 = g->hi[1][j] * nx;
    size_t k0 = g->lo[2][k] * nxy, k1 = g->hi[2][k] * nxy;
    size_t i0 = g->lo[0][i], i1 = g->hi[0][i];
    double wi = g->w[0][i], wj = g->w[1][j], wk = g->w[2][k];
    double a = (1 - wi) * c[i0 + j0 + k0] + wi * c[i1 + j0 + k0];
    double b = (1 - wi) * c[i0 + j1 + k0] + wi * c[i1 + j1 + k0];
    double e = (1 - wi) * c[i0 + j0 + k1] + wi * c[i1 + j0 + k1];
    double h = (1 - wi) * c[i0 + j1 + k1] + wi * c[i1 + j1 + k1];
    return (1 - wk) * ((1 - wj) * a + wj * b) + wk * ((1 - wj) * e + wj * h);
}

/* One pass: the local mean of log(signal / current field) over the
 * foreground (corrected signal above exp(log_thr)) (normalised convolution: block means of the log and of the
 * foreground indicator, Gaussian-smoothed, divided), minus its global
 * mean, added to the coarse log field `acc`. */
static sp_status one_pass(const sp_volume *img, double log_thr,
                          const coarse_grid *g, const double vox2lps[4][4],
                          double sigma_mm, float *acc, sp_error *err)
{
    size_t nc = g->nd[0] * g->nd[1] * g->nd[2];
    sp_volume cl = {0}, cw = {0}, sl = {0}, sw = {0};
    sp_status st = sp_volume_alloc(&cl, SP_VOXEL_F32, g->nd[0], g->nd[1],
                                   g->nd[2], err);
    if (st == SP_OK)
        st = sp_volume_alloc(&cw, SP_VOXEL_F32, g->nd[0], g->nd[1], g->nd[2],
                             err);
    float *cnt = calloc(nc, sizeof *cnt);
    if (st == SP_OK && !cnt)
        st = sp_error_set(err, SP_NOMEM, "bias: out of memory");
    if (st != SP_OK)
        goto done;
    double m[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            m[r][c] = vox2lps[r][c] * (c < 3 ? g->f[c] : 1);
    sp_volume_set_geometry(&cl, m);
    sp_volume_set_geometry(&cw, m);
    const float *im = img->data;
    float *lsum = cl.data, *wsum = cw.data;
    double mean_log = 0;
    size_t nfg = 0;
    for (size_t k = 0; k < img->dim[2]; k++)
        for (size_t j = 0; j < img->dim[1]; j++) {
            size_t base = sp_volume_index(img, 0, j, k);
            size_t cj = j / (size_t)g->f[1], ck = k / (size_t)g->f[2];
            for (size_t i = 0; i < img->dim[0]; i++) {
                size_t q = i / (size_t)g->f[0] +
                           g->nd[0] * (cj + g->nd[1] * ck);
                cnt[q] += 1;
                float v = im[base + i];
                if (!(v > 0))
                    continue;
                double lv = log(v) - coarse_at(g, acc, i, j, k);
                if (!(lv > log_thr))
                    continue;
                lsum[q] += (float)lv;
                wsum[q] += 1;
                mean_log += lv;
                nfg++;
            }
        }
    if (nfg == 0) {
        st = sp_error_set(err, SP_NOTANALYSABLE, "bias: empty foreground");
        goto done;
    }
    mean_log /= (double)nfg;
    for (size_t q = 0; q < nc; q++)
        lsum[q] /= cnt[q], wsum[q] /= cnt[q];
    st = analysis_gaussian(&cl, sigma_mm, &sl, err);
    if (st == SP_OK)
        st = analysis_gaussian(&cw, sigma_mm, &sw, err);
    if (st != SP_OK)
        goto done;
    /* far from any foreground the field is unknown: left as it is */
    const float *a = sl.data, *b = sw.data;
    for (size_t q = 0; q < nc; q++)
        if (b[q] > 1e-3)
            acc[q] += (float)(a[q] / b[q] - mean_log);
done:
    free(cnt);
    sp_volume_free(&cl), sp_volume_free(&cw);
    sp_volume_free(&sl), sp_volume_free(&sw);
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
    /* an evenly strided sample of about 2^20 voxels, as in quantile() */
    size_t step = n > (1u << 20) ? n / (1u << 20) : 1;
    float *v = malloc((n / step + 1) * sizeof *v);
    if (!v)
        return sp_error_set(err, SP_NOMEM, "bias normalise: out of memory");
    for (size_t t = 0; t < n; t += step)
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

/* The 99th percentile of the image divided by the current field, on an
 * evenly strided sample of about 2^20 voxels. */
static sp_status corrected_p99(const sp_volume *img, const coarse_grid *g,
                               const float *acc, double *p99, sp_error *err)
{
    size_t n = sp_volume_count(img);
    size_t step = n > (1u << 20) ? n / (1u << 20) : 1, m = (n + step - 1) / step;
    float *c = malloc(m * sizeof *c);
    if (!c)
        return sp_error_set(err, SP_NOMEM, "bias: out of memory");
    const float *im = img->data;
    size_t nx = img->dim[0], ny = img->dim[1];
    for (size_t s = 0; s < m; s++) {
        size_t t = s * step;
        c[s] = (float)(im[t] / exp(coarse_at(g, acc, t % nx, (t / nx) % ny,
                                             t / (nx * ny))));
    }
    *p99 = analysis_select_f32(c, m, (size_t)(0.99 * (double)(m - 1)));
    free(c);
    return SP_OK;
}

sp_status bias_correct(const sp_volume *img, const bias_params *p,
                       sp_volume *out, sp_volume *field, sp_error *err)
{
    if (p->iterations < 1 || p->iterations > 10)
        return sp_error_set(err, SP_CONFIG,
                            "bias: iterations %d out of range 1..10",
                            p->iterations);
    if (!(p->sigma_mm > 0) || !(p->fg_fraction > 0 && p->fg_fraction < 1))
        return sp_error_set(err, SP_CONFIG,
                            "bias: sigma_mm %g or fg_fraction %g out of range",
                            p->sigma_mm, p->fg_fraction);
    const float *im = sp_volume_f32(img);
    if (!im)
        return sp_error_set(err, SP_INTERNAL, "bias: image is not F32");
    double p99;
    sp_status st = quantile(im, sp_volume_count(img), 0.99, &p99, err);
    if (st != SP_OK)
        return st;
    if (!(p99 > 0))
        return sp_error_set(err, SP_NOTANALYSABLE,
                            "bias: image has no positive signal");
    coarse_grid g;
    float *acc = NULL;
    if (!coarse_make(img, p->sigma_mm, &g) ||
        !(acc = calloc(g.nd[0] * g.nd[1] * g.nd[2], sizeof *acc))) {
        coarse_free(&g);
        return sp_error_set(err, SP_NOMEM, "bias: out of memory");
    }
    /* each pass removes part of what the smoothing left near the edges of
     * the foreground; the log fields add up on the coarse grid, and the
     * image is divided once at the end. The foreground of each pass is
     * judged on the image corrected so far. */
    for (int it = 0; st == SP_OK && it < p->iterations; it++) {
        if (it > 0)
            st = corrected_p99(img, &g, acc, &p99, err);
        if (st == SP_OK)
            st = one_pass(img, log(p->fg_fraction * p99), &g, img->vox2lps,
                          p->sigma_mm, acc, err);
    }
    if (st == SP_OK)
        st = sp_volume_alloc_like(out, img, SP_VOXEL_F32, err);
    if (st == SP_OK && field) {
        st = sp_volume_alloc_like(field, img, SP_VOXEL_F32, err);
        if (st != SP_OK)
            sp_volume_free(out);
    }
    if (st == SP_OK) {
        float *o = out->data, *fo = field ? field->data : NULL;
        for (size_t k = 0; k < img->dim[2]; k++)
            for (size_t j = 0; j < img->dim[1]; j++)
                for (size_t i = 0; i < img->dim[0]; i++) {
                    size_t t = sp_volume_index(img, i, j, k);
                    double fv = exp(coarse_at(&g, acc, i, j, k));
                    o[t] = (float)(im[t] / fv);
                    if (fo)
                        fo[t] = (float)fv;
                }
    }
    free(acc);
    coarse_free(&g);
    return st;
}
