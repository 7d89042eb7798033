/* The spinal canal on sagittal T2: trace the bright CSF column, then grow
 * it plane by plane. */
#include "mrcanal_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

void mrcanal_params_default(mrcanal_params *p)
{
    p->slab_mm = 4.0;
    p->band_mm = 3.0;
    p->air_gap_mm = 25.0;
    p->skin_max_mm = 110.0;
    p->threshold = 0.25;
    /* Axial slices, 3-5 mm thick, cross the lateral recesses and
     * foramina, whose fat (0.65 x CSF in the phantom) the sagittal cut
     * takes in: at 0.25 the phantom's sac read up to twice its area at
     * the discs; at 0.6 the rim and the edge shares of
     * mr_canal_sections give back what the higher cut leaves out. */
    p->axial_threshold = 0.6;
    p->radius_mm = 16.0;
    p->min_contrast = 1.15;
    p->ridge_mm = 10.0;
    p->rim = 0.5;
    p->posterior_weight = 0.9;
}

void mrcanal_info_free(mrcanal_info *info)
{
    free(info->path_j);
    info->path_j = NULL;
}

static double median(double *v, size_t n)
{
    return n ? analysis_select_f64(v, n, n / 2) : 0;
}

/* Mean over the slab around slice ic and the AP band around j: the
 * sagittal picture the column is traced on (dim[1] x dim[2]). */
static void slab_image(const sp_volume *t2, size_t ic, int hs, int hb,
                       double *out)
{
    const float *im = t2->data;
    size_t nx = t2->dim[0], ny = t2->dim[1], nz = t2->dim[2];
    for (size_t k = 0; k < nz; k++)
        for (size_t j = 0; j < ny; j++) {
            double s = 0;
            int c = 0;
            for (int di = -hs; di <= hs; di++)
                for (int dj = -hb; dj <= hb; dj++) {
                    long i = (long)ic + di, jj = (long)j + dj;
                    if (i < 0 || i >= (long)nx || jj < 0 || jj >= (long)ny)
                        continue;
                    s += im[sp_volume_index(t2, (size_t)i, (size_t)jj, k)];
                    c++;
                }
            out[k * ny + j] = c ? s / c : 0;
        }
}

/* Brightest continuous head-feet path through the slab picture, moving at
 * most one voxel AP per plane; positions with background within `gap`
 * voxels behind them, more than `far` in front of the back's skin or at
 * the AP edge are excluded. */
static sp_status trace(const double *img, size_t ny, size_t nz, int gap,
                       int far, int ridge, double bg, double post_w, double *path,
                       sp_error *err)
{
    double *score = malloc(ny * nz * sizeof *score);
    int *from = malloc(ny * nz * sizeof *from);
    if (!score || !from) {
        free(score), free(from);
        return sp_error_set(err, SP_NOMEM, "mr-canal: out of memory");
    }
    for (size_t k = 0; k < nz; k++) {
        const double *row = img + k * ny;
        /* the back's skin: the last run of 4 voxels above background
         * (none when the body fills the field of view) */
        size_t skin = ny + (size_t)gap;
        for (size_t j = ny - 1; j >= 4 && skin == ny + (size_t)gap; j--)
            if (row[j] > bg && row[j - 1] > bg && row[j - 2] > bg &&
                row[j - 3] > bg)
                skin = j + 3 >= ny ? ny + (size_t)gap : j;
        for (size_t j = 0; j < ny; j++) {
            /* the canal is a bright band between darker walls: score the
             * ridge (brighter than the mean of both sides at +-ridge),
             * weighed towards posterior (the canal is the last bright
             * column before the subcutaneous fat) */
            double lo = j >= (size_t)ridge ? row[j - (size_t)ridge] : row[0];
            double hi = j + (size_t)ridge < ny ? row[j + (size_t)ridge]
                                               : row[ny - 1];
            double c = (row[j] - 0.5 * (lo + hi)) *
                       (1.0 - post_w + 2 * post_w * (double)j / (double)ny);
            int edge = j < 2 || j + 2 >= ny || j + (size_t)gap > skin ||
                       (skin < ny && j + (size_t)far < skin);
            if (edge)
                c = -1e6;
            double best = 0;
            int bj = (int)j;
            if (k > 0) {
                best = -1e300;
                for (int d = -1; d <= 1; d++) {
                    long jj = (long)j + d;
                    if (jj < 0 || jj >= (long)ny)
                        continue;
                    double s = score[(k - 1) * ny + (size_t)jj];
                    if (s > best)
                        best = s, bj = (int)jj;
                }
            }
            score[k * ny + j] = c + best;
            from[k * ny + j] = bj;
        }
    }
    size_t bj = 0;
    for (size_t j = 1; j < ny; j++)
        if (score[(nz - 1) * ny + j] > score[(nz - 1) * ny + bj])
            bj = j;
    for (size_t k = nz; k-- > 0;) {
        path[k] = (double)bj;
        bj = (size_t)from[k * ny + bj];
    }
    free(score), free(from);
    return SP_OK;
}

/* Grow plane k from the column over voxels above thr within r voxels
 * (in mm through the spacing) of the path point, 4-connected. */
static void grow_plane(const sp_volume *t2, size_t k, size_t si, size_t sj,
                       double thr, double r_mm, uint8_t *m, size_t *stack)
{
    const float *im = t2->data;
    size_t nx = t2->dim[0], ny = t2->dim[1], top = 0;
    uint8_t *p = m + k * nx * ny;
    /* seed: the brightest voxel within 3 mm of the path point (the path
     * may sit on the cord) */
    double bv = -1;
    size_t bi = si, bj = sj;
    int rj = (int)ceil(3.0 / t2->spacing[1]);
    for (int d = -rj; d <= rj; d++) {
        long jj = (long)sj + d;
        if (jj < 0 || jj >= (long)ny)
            continue;
        float v = im[sp_volume_index(t2, si, (size_t)jj, k)];
        if (v > bv)
            bv = v, bj = (size_t)jj;
    }
    if (bv <= thr)
        return;
    p[bj * nx + bi] = 1;
    stack[top++] = bj * nx + bi;
    while (top) {
        size_t q = stack[--top], i = q % nx, j = q / nx;
        const long di[4] = {1, -1, 0, 0}, dj[4] = {0, 0, 1, -1};
        for (int t = 0; t < 4; t++) {
            long ii = (long)i + di[t], jj = (long)j + dj[t];
            if (ii < 0 || jj < 0 || ii >= (long)nx || jj >= (long)ny)
                continue;
            size_t w = (size_t)jj * nx + (size_t)ii;
            double du = ((double)ii - (double)si) * t2->spacing[0];
            double dv = ((double)jj - (double)sj) * t2->spacing[1];
            if (p[w] || du * du + dv * dv > r_mm * r_mm ||
                im[sp_volume_index(t2, (size_t)ii, (size_t)jj, k)] <= thr)
                continue;
            p[w] = 1;
            stack[top++] = w;
        }
    }
}

/* Fill one axial plane between its walls: along every row and column the
 * span between the first and last canal voxel (takes in the cord). */
static void fill_plane(uint8_t *p, size_t nx, size_t ny, uint8_t *tmp)
{
    memcpy(tmp, p, nx * ny);
    for (size_t j = 0; j < ny; j++) {
        size_t a = SIZE_MAX, b = 0;
        for (size_t i = 0; i < nx; i++)
            if (tmp[j * nx + i]) {
                if (a == SIZE_MAX)
                    a = i;
                b = i;
            }
        for (size_t i = a; a != SIZE_MAX && i <= b; i++)
            p[j * nx + i] = 1;
    }
    for (size_t i = 0; i < nx; i++) {
        size_t a = SIZE_MAX, b = 0;
        for (size_t j = 0; j < ny; j++)
            if (tmp[j * nx + i]) {
                if (a == SIZE_MAX)
                    a = j;
                b = j;
            }
        for (size_t j = a; a != SIZE_MAX && j <= b; j++)
            p[j * nx + i] = 1;
    }
}

/* Median signal 12-18 mm from (si, sj) in plane k (buf: scratch of
 * dim[0] * dim[1] values) */
static double ring_level(const sp_volume *t2, size_t k, size_t si, size_t sj,
                         double *buf)
{
    const float *im = t2->data;
    size_t c = 0;
    for (size_t j = 0; j < t2->dim[1]; j++)
        for (size_t i = 0; i < t2->dim[0]; i++) {
            double du = ((double)i - (double)si) * t2->spacing[0];
            double dv = ((double)j - (double)sj) * t2->spacing[1];
            double r2 = du * du + dv * dv;
            if (r2 >= 144 && r2 <= 324)
                buf[c++] = im[sp_volume_index(t2, i, j, k)];
        }
    return c ? median(buf, c) : 0;
}

/* The wall voxels the CSF only partly fills: in-plane neighbours of the
 * canal with signal above `level` join it (one voxel, once). */
static void add_rim(const sp_volume *t2, size_t k, double level, uint8_t *m,
                    uint8_t *tmp)
{
    size_t nx = t2->dim[0], ny = t2->dim[1];
    const float *im = (const float *)t2->data + k * nx * ny;
    uint8_t *p = m + k * nx * ny;
    memcpy(tmp, p, nx * ny);
    for (size_t j = 0; j < ny; j++)
        for (size_t i = 0; i < nx; i++) {
            size_t q = j * nx + i;
            if (tmp[q] || im[q] <= level)
                continue;
            if ((i > 0 && tmp[q - 1]) || (i + 1 < nx && tmp[q + 1]) ||
                (j > 0 && tmp[q - nx]) || (j + 1 < ny && tmp[q + nx]))
                p[q] = 1;
        }
}

sp_status mrcanal_segment(const sp_volume *t2, const mrcanal_params *p,
                          sp_volume *canal, mrcanal_info *info,
                          sp_error *err)
{
    memset(info, 0, sizeof *info);
    if (!sp_volume_f32(t2))
        return sp_error_set(err, SP_INTERNAL, "mr-canal: image is not F32");
    if (!(p->threshold > 0 && p->threshold < 1) || !(p->radius_mm > 0) ||
        !(p->slab_mm >= 0) || !(p->band_mm >= 0) || !(p->air_gap_mm >= 0))
        return sp_error_set(err, SP_CONFIG,
                            "mr-canal: threshold %g (0..1), radius_mm %g, "
                            "slab_mm %g, band_mm %g or air_gap_mm %g out of "
                            "range", p->threshold, p->radius_mm, p->slab_mm,
                            p->band_mm, p->air_gap_mm);
    size_t nx = t2->dim[0], ny = t2->dim[1], nz = t2->dim[2];
    size_t n = sp_volume_count(t2);
    const float *im = t2->data;
    /* tissue level: median of the foreground (above 10 % of the max) */
    double mx = 0;
    for (size_t t = 0; t < n; t++)
        mx = im[t] > mx ? im[t] : mx;
    size_t nb = n > (1u << 21) ? (1u << 21) : n;
    nb = nb > nx * ny ? nb : nx * ny; /* ring_level's scratch */
    double *buf = malloc((nb > ny * nz ? nb : ny * nz) * sizeof *buf);
    double *path = malloc(nz * sizeof *path);
    size_t *stack = malloc(nx * ny * sizeof *stack);
    uint8_t *tmp = malloc(nx * ny);
    sp_status st = SP_OK;
    if (!buf || !path || !stack || !tmp) {
        st = sp_error_set(err, SP_NOMEM, "mr-canal: out of memory");
        goto done;
    }
    /* on an evenly strided sample of about 2^20 voxels */
    size_t c = 0, step = n > (1u << 20) ? n / (1u << 20) : 1;
    for (size_t t = 0; t < n; t += step)
        if (im[t] > 0.1 * mx)
            buf[c++] = im[t];
    if (c == 0) {
        st = sp_error_set(err, SP_NOTANALYSABLE,
                          "mr-canal: image has no signal");
        goto done;
    }
    info->tissue_level = median(buf, c);
    int hs = (int)floor(p->slab_mm / t2->spacing[0] + 0.5);
    int hb = (int)floor(0.5 * p->band_mm / t2->spacing[1] + 0.5);
    int gap = (int)ceil(p->air_gap_mm / t2->spacing[1]);
    int far = (int)ceil(p->skin_max_mm / t2->spacing[1]);
    int ridge = (int)ceil(p->ridge_mm / t2->spacing[1]);
    double bg = 0.2 * info->tissue_level;
    /* trace in the middle of the field of view, then re-centre on the
     * left-right position where the traced column is brightest */
    size_t ic = nx / 2;
    for (int pass = 0; pass < 2; pass++) {
        slab_image(t2, ic, hs, hb, buf);
        st = trace(buf, ny, nz, gap, far, ridge, bg, p->posterior_weight, path,
                   err);
        if (st != SP_OK)
            goto done;
        if (pass == 1)
            break;
        double best = -1;
        size_t bi = ic;
        for (size_t i = 0; i < nx; i++) {
            double off = ((double)i - (double)(nx - 1) / 2) * t2->spacing[0];
            if (fabs(off) > 15)
                continue;
            double s = 0;
            for (size_t k = 0; k < nz; k++)
                s += im[sp_volume_index(t2, i, (size_t)path[k], k)];
            if (s > best)
                best = s, bi = i;
        }
        ic = bi;
    }
    slab_image(t2, ic, hs, hb, buf);
    double *lv = malloc(nz * sizeof *lv);
    if (!lv) {
        st = sp_error_set(err, SP_NOMEM, "mr-canal: out of memory");
        goto done;
    }
    for (size_t k = 0; k < nz; k++)
        lv[k] = buf[k * ny + (size_t)path[k]];
    info->csf_level = median(lv, nz);
    free(lv);
    if (info->csf_level < p->min_contrast * info->tissue_level) {
        st = sp_error_set(err, SP_NOTANALYSABLE,
                          "mr-canal: the brightest head-feet column is only "
                          "%.2f times the tissue signal (need %.2f): no "
                          "bright CSF, not a T2-weighted image?",
                          info->csf_level / info->tissue_level,
                          p->min_contrast);
        goto done;
    }
    st = sp_volume_alloc_like(canal, t2, SP_VOXEL_U8, err);
    if (st != SP_OK)
        goto done;
    double thr = info->tissue_level +
                 p->threshold * (info->csf_level - info->tissue_level);
    uint8_t *m = canal->data;
    for (size_t k = 0; k < nz; k++) {
        /* where the canal sits in bright surroundings (fat) the cut rises
         * with them: the ring 12-18 mm around the column sets it */
        double ring = ring_level(t2, k, ic, (size_t)path[k], buf);
        double tk = ring + p->threshold * (info->csf_level - ring);
        grow_plane(t2, k, ic, (size_t)path[k], tk > thr ? tk : thr,
                   p->radius_mm, m, stack);
        fill_plane(m + k * nx * ny, nx, ny, tmp);
    }
    for (size_t k = 0; k < nz; k++)
        add_rim(t2, k, p->rim * info->tissue_level, m, tmp);
    /* the mid-sagittal slice: the canal's left-right centre */
    double si = 0;
    for (size_t t = 0; t < n; t++)
        if (m[t]) {
            info->voxels++;
            si += (double)(t % nx);
        }
    info->mid_i = info->voxels ? (size_t)(si / (double)info->voxels + 0.5)
                               : ic;
    info->path_j = path;
    path = NULL;
done:
    free(buf), free(path), free(stack), free(tmp);
    return st;
}
