/* Per level measurements on sagittal T2 from the canal mask and the
 * discs. */
#include "mrcanal_kernels.h"

#include <math.h>
#include <string.h>

/* AP run of canal voxels through the front wall at (i, k), in voxels */
static size_t ap_run(const sp_volume *canal, size_t i, size_t k)
{
    const uint8_t *m = canal->data;
    size_t best = 0, run = 0;
    for (size_t j = 0; j < canal->dim[1]; j++) {
        run = m[sp_volume_index(canal, i, j, k)] ? run + 1 : 0;
        best = run > best ? run : best;
    }
    return best;
}

/* Pfirrmann-like grade from disc/CSF signal: 1 as bright as CSF, 5 black */
static int grade(double r)
{
    return r > 0.80 ? 1 : r > 0.55 ? 2 : r > 0.35 ? 3 : r > 0.20 ? 4 : 5;
}

sp_status mr_measure(const sp_volume *canal, const mrspine *s,
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
        size_t ap = 0;
        for (long di = -1; di <= 1; di++) {
            long i = (long)s->mid_i + di;
            if (i < 0 || i >= (long)nx)
                continue;
            size_t r = ap_run(canal, (size_t)i, k);
            ap = r > ap ? r : ap;
        }
        o->canal_ap_mm = (double)ap * j_spacing;
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
        if (mid_lo >= 0 && mid_hi >= 0) {
            size_t a = (size_t)floor(mid_lo + 0.5);
            size_t b = (size_t)floor(mid_hi + 0.5);
            double wa = s->wall_j[a], wb = s->wall_j[b];
            double t = (d->k - mid_lo) / (mid_hi - mid_lo);
            o->displacement_mm =
                (s->wall_j[k] - (wa + t * (wb - wa))) * j_spacing;
        }
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
            size_t r = ap_run(canal, i, k);
            ap = r > ap ? r : ap;
        }
        for (size_t t = 0; t < nx * ny; t++)
            n += m[k * nx * ny + t];
        area_mm2[k] = (double)n * canal->spacing[0] * canal->spacing[1];
        ap_mm[k] = (double)ap * canal->spacing[1];
    }
    return SP_OK;
}
