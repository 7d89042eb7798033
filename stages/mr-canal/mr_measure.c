/* Per level measurements on sagittal T2 from the canal mask and the
 * discs. */
#include "mrcanal_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Longest AP run of canal voxels at (i, k), in voxels; *start (may be
 * NULL) receives its first j */
static size_t ap_run(const sp_volume *canal, size_t i, size_t k,
                     size_t *start)
{
    const uint8_t *m = canal->data;
    size_t best = 0, run = 0, b0 = 0;
    for (size_t j = 0; j < canal->dim[1]; j++) {
        run = m[sp_volume_index(canal, i, j, k)] ? run + 1 : 0;
        if (run > best)
            best = run, b0 = j + 1 - run;
    }
    if (start)
        *start = b0;
    return best;
}

/* Mean signal at (i, j, k) over the planes k-1..k+1 (in-plane noise). */
static double prof(const sp_volume *t2, size_t i, long j, size_t k)
{
    const float *im = t2->data;
    long jj = j < 0 ? 0 : j >= (long)t2->dim[1] ? (long)t2->dim[1] - 1 : j;
    double s = 0;
    int c = 0;
    for (long d = -1; d <= 1; d++) {
        long kk = (long)k + d;
        if (kk < 0 || kk >= (long)t2->dim[2])
            continue;
        s += im[sp_volume_index(t2, i, (size_t)jj, (size_t)kk)];
        c++;
    }
    return s / c;
}

/* Sub-voxel wall by partial volume: across the edge of the run at voxel
 * `edge` (in the run; `dir` -1 for the front wall, +1 for the back), each
 * voxel holds the fraction (v - wall) / (CSF - wall) of CSF, with the wall
 * level the darkest of the 3 voxels outside and the CSF level the
 * brightest of the 3 inside. The wall lies that much CSF outside the
 * first voxel that is nearly all CSF. Returns the position in voxels
 * (boundaries between voxels at .5); the mask's own edge when the
 * profile shows no clear step. */
static double wall(const sp_volume *t2, size_t i, size_t k, long edge,
                   int dir)
{
    double mask_edge = (double)edge + 0.5 * dir;
    double in = -1e30, out = 1e30;
    long top = edge;
    for (long d = 0; d <= 2; d++) {
        double v = prof(t2, i, edge - dir * d, k);
        if (v > in)
            in = v, top = edge - dir * d;
        double o = prof(t2, i, edge + dir * (d + 1), k);
        out = o < out ? o : out;
    }
    if (!(in > 1.3 * out) || !(in > out))
        return mask_edge;
    /* first voxel from the outside that is nearly all CSF */
    long full = top;
    for (long j = edge + 3 * dir; j != top; j -= dir)
        if (prof(t2, i, j, k) >= out + 0.9 * (in - out)) {
            full = j;
            break;
        }
    double csf = 0;
    for (long j = full + dir; labs(j - edge) <= 3; j += dir) {
        double f = (prof(t2, i, j, k) - out) / (in - out);
        csf += f < 0 ? 0 : f > 1 ? 1 : f;
    }
    double pos = (double)full + dir * (0.5 + csf);
    return fabs(pos - mask_edge) <= 2 ? pos : mask_edge;
}

/* First canal voxel (the front wall) in column (i, k), or -1. */
static long front(const sp_volume *canal, size_t i, long k)
{
    if (k < 0 || k >= (long)canal->dim[2])
        return -1;
    const uint8_t *m = canal->data;
    for (size_t j = 0; j < canal->dim[1]; j++)
        if (m[sp_volume_index(canal, i, j, (size_t)k)])
            return (long)j;
    return -1;
}

/* Posterior displacement at a disc (plane kd): how far behind the line
 * joining the front wall at the body middles ka and kb the wall at the
 * disc lies (mm), in the mid-sagittal slice. */
static double displacement(const sp_volume *canal, size_t mid_i, double kd,
                           double ka, double kb, double j_spacing)
{
    long k = (long)floor(kd + 0.5), a = (long)floor(ka + 0.5),
         b = (long)floor(kb + 0.5);
    a = a < 0 ? 0 : a;
    b = b >= (long)canal->dim[2] ? (long)canal->dim[2] - 1 : b;
    if (a >= k || b <= k)
        return 0;
    long wk = front(canal, mid_i, k), wa = front(canal, mid_i, a),
         wb = front(canal, mid_i, b);
    if (wk < 0 || wa < 0 || wb < 0)
        return 0;
    double t = (kd - (double)a) / (double)(b - a);
    return ((double)wk - ((double)wa + t * (double)(wb - wa))) * j_spacing;
}

/* Pfirrmann-like grade from disc/CSF signal: 1 as bright as CSF, 5 black */
static int grade(double r)
{
    return r > 0.80 ? 1 : r > 0.55 ? 2 : r > 0.35 ? 3 : r > 0.20 ? 4 : 5;
}

sp_status mr_measure(const sp_volume *canal, const sp_volume *t2,
                     const mrspine *s,
                     const mrcanal_info *ci, double k_spacing,
                     double j_spacing, mrlevel_measure *out, sp_error *err)
{
    if (!sp_volume_u8(canal) || !s->wall_j || !(ci->csf_level > 0))
        return sp_error_set(err, SP_INTERNAL,
                            "mr measure: no canal or discs to measure");
    size_t nz = canal->dim[2], nx = canal->dim[0];
    for (size_t q = 0; q < s->n_disc; q++) {
        const mrdisc *d = &s->disc[q];
        mrlevel_measure *o = &out[q];
        memset(o, 0, sizeof *o);
        o->vert_above = d->vert_above;
        size_t k = (size_t)floor(d->k + 0.5);
        k = k >= nz ? nz - 1 : k;
        /* the widest of the mid-sagittal slice and its neighbours: the
         * mid-line is where the sac is deepest */
        size_t ap = 0, j0 = 0, bi = s->mid_i;
        for (long di = -1; di <= 1; di++) {
            long i = (long)s->mid_i + di;
            if (i < 0 || i >= (long)nx)
                continue;
            size_t st;
            size_t r = ap_run(canal, (size_t)i, k, &st);
            if (r > ap)
                ap = r, j0 = st, bi = (size_t)i;
        }
        o->canal_ap_mm = (double)ap * j_spacing;
        o->ap_i = (double)bi;
        o->ap_k = (double)k;
        o->ap_j0 = (double)j0 - 0.5;
        o->ap_j1 = (double)(j0 + ap) - 0.5;
        if (ap > 0 && sp_volume_f32(t2) &&
            sp_volume_count(t2) == sp_volume_count(canal)) {
            o->ap_j0 = wall(t2, bi, k, (long)j0, -1);
            o->ap_j1 = wall(t2, bi, k, (long)(j0 + ap) - 1, 1);
            o->canal_ap_mm = (o->ap_j1 - o->ap_j0) * j_spacing;
        }
        o->disc_height_mm = d->height_mm;
        double hb = 0;
        int nb = 0;
        double mid_lo = -1, mid_hi = -1;
        if (q > 0) {
            const mrdisc *b = &s->disc[q - 1];
            hb += (d->k - b->k) * k_spacing -
                  0.5 * (d->height_mm + b->height_mm);
            nb++;
            mid_lo = 0.5 * (d->k + b->k);
        }
        if (q + 1 < s->n_disc) {
            const mrdisc *a = &s->disc[q + 1];
            hb += (a->k - d->k) * k_spacing -
                  0.5 * (d->height_mm + a->height_mm);
            nb++;
            mid_hi = 0.5 * (d->k + a->k);
        }
        if (nb && hb > 0)
            o->dhi = d->height_mm / (hb / nb);
        o->disc_csf_ratio = d->signal / ci->csf_level;
        o->grade = grade(o->disc_csf_ratio);
        /* the end discs take the middle of the body beyond them half a
         * level away */
        double half = 0.5 * s->level_mm / k_spacing;
        if (mid_lo < 0)
            mid_lo = d->k - half;
        if (mid_hi < 0)
            mid_hi = d->k + half;
        o->displacement_mm = displacement(canal, s->mid_i, d->k, mid_lo,
                                          mid_hi, j_spacing);
    }
    return SP_OK;
}

sp_status mr_canal_sections(const sp_volume *canal, double *area_mm2,
                            double *ap_mm, sp_error *err)
{
    const uint8_t *m = sp_volume_u8(canal);
    if (!m)
        return sp_error_set(err, SP_INTERNAL,
                            "mr sections: the canal is not a U8 mask");
    size_t nx = canal->dim[0], ny = canal->dim[1];
    for (size_t k = 0; k < canal->dim[2]; k++) {
        size_t n = 0, ap = 0;
        for (size_t i = 0; i < nx; i++) {
            size_t r = ap_run(canal, i, k, NULL);
            ap = r > ap ? r : ap;
        }
        for (size_t t = 0; t < nx * ny; t++)
            n += m[k * nx * ny + t];
        area_mm2[k] = (double)n * canal->spacing[0] * canal->spacing[1];
        ap_mm[k] = (double)ap * canal->spacing[1];
    }
    return SP_OK;
}
