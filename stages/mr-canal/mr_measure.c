/* Per level measurements on sagittal T2 from the canal mask and the
 * discs. */
#include "mrcanal_kernels.h"
#include "spinepipe/labels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How far into the bodies beyond the disc signal the margins that a
 * displacement is measured against are taken (mm) */
#define EDGE_MM 2.0
/* Narrowest displacement (left-right, mm) that counts: one thin slice
 * alone is noise */
#define MIN_WIDTH_MM 3.0

/* The measuring slice is the widest within this distance (mm) of the
 * canal's centre in the disc plane */
#define MID_MM 2.0
/* Cord or roots behind the mask's ventral CSF join the sac when they span
 * ROOTS_MIN_MM and end within DORSAL_MM (mm) of the mask's back end;
 * signal below DARK x CSF is dura or ligamentum flavum (the phantom's
 * ligament is 0.12 x CSF, real lumbar roots above 0.23) */
#define DORSAL_MM 12.0
#define DARK 0.2
#define ROOTS_MIN_MM 2.5

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

/* The canal's left-right centre in plane k (centroid of its voxels);
 * fallback when the plane holds none. */
static size_t plane_centre(const sp_volume *canal, size_t k, size_t fallback)
{
    const uint8_t *m = canal->data;
    double si = 0;
    size_t n = 0;
    for (size_t j = 0; j < canal->dim[1]; j++)
        for (size_t i = 0; i < canal->dim[0]; i++)
            if (m[sp_volume_index(canal, i, j, k)])
                si += (double)i, n++;
    return n ? (size_t)floor(si / (double)n + 0.5) : fallback;
}

/* The sac's back end in column (i, k) from the canal run's last voxel
 * `end`, when the mask holds only the ventral CSF: behind it lies
 * intermediate signal (below cut, above dark) that belongs to the sac,
 * the cervical cord or, lying supine, the lumbar cauda equina settled
 * against the dorsal dura. When that signal spans ROOTS_MIN voxels and
 * ends within `max` voxels of `end` at a clear boundary, the sac takes it
 * in: up to a dark boundary (dura, ligamentum flavum); up to signal as
 * bright as CSF again, and with it when `dorsal_csf` (cervical: CSF
 * behind the cord, epidural fat is scant there), without it otherwise
 * (lumbar: epidural fat, which a thin dura does not separate at this
 * resolution). Returns the last sac voxel. */
static long dorsal_end(const sp_volume *t2, size_t i, size_t k, long end,
                       double cut, double dark, long max, int dorsal_csf)
{
    long ny = (long)t2->dim[1], j = end + 1;
    while (j < ny && j <= end + max && prof(t2, i, j, k) >= cut)
        j++;
    long first = j;
    for (; j < ny && j <= end + max; j++) {
        double v = prof(t2, i, j, k);
        if (v >= dark && v < cut)
            continue;
        if ((double)(j - first) * t2->spacing[1] < ROOTS_MIN_MM)
            return end;
        if (v < dark || !dorsal_csf)
            return j - 1;
        while (j + 1 < ny && prof(t2, i, j + 1, k) >= cut)
            j++;
        return j;
    }
    return end;
}

/* Forward declaration: sac_ap uses the wall below. */
static double wall(const sp_volume *t2, size_t i, size_t k, long edge,
                   int dir);

/* The dural sac in column (i, k): its front and back (voxels, edges
 * between voxels at .5) from the canal run, with the cord or roots
 * behind it (dorsal_end) and sub-voxel walls when t2 is given (may be
 * NULL: whole mask voxels). 0 without canal there. */
static int sac_ap(const sp_volume *canal, const sp_volume *t2, size_t i,
                  size_t k, double cut, double dark, long max,
                  int dorsal_csf, double *j0, double *j1)
{
    size_t st, run = ap_run(canal, i, k, &st);
    if (run == 0)
        return 0;
    *j0 = (double)st - 0.5;
    *j1 = (double)(st + run) - 0.5;
    if (!t2)
        return 1;
    long end = dorsal_end(t2, i, k, (long)(st + run) - 1, cut, dark, max,
                          dorsal_csf);
    *j0 = wall(t2, i, k, (long)st, -1);
    *j1 = wall(t2, i, k, end, 1);
    return 1;
}

/* What sac_ap needs besides the column. */
typedef struct sac_params {
    const sp_volume *t2; /* NULL: whole mask voxels */
    double cut, dark;
    long max;
    int dorsal_csf;
} sac_params;

/* The sac in slice i at plane k replaces o's canal AP when deeper. */
static void try_slice(const sp_volume *canal, const sac_params *p, size_t i,
                      size_t k, double j_spacing, mrlevel_measure *o)
{
    double j0, j1;
    if (!sac_ap(canal, p->t2, i, k, p->cut, p->dark, p->max, p->dorsal_csf,
                &j0, &j1) ||
        (j1 - j0) * j_spacing <= o->canal_ap_mm)
        return;
    o->canal_ap_mm = (j1 - j0) * j_spacing;
    o->ap_i = (double)i, o->ap_j0 = j0, o->ap_j1 = j1;
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
    int inside = 1;
    for (long d = 0; d <= 2; d++) {
        double v = prof(t2, i, edge - dir * d, k);
        /* a voxel inside much darker than the one outside it is cord
         * or roots, not the wall's partial volume: the CSF at the edge is
         * a thin layer of its own (a compressed cervical sac) */
        if (d > 0 && v < 0.5 * prof(t2, i, edge - dir * (d - 1), k))
            inside = 0;
        if (inside && v > in)
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

/* The CSF front wall in column (i, k) from the signal: the first position
 * from j_from on where the profile (planes k-1..k+1) rises above cut,
 * between voxels by linear interpolation (voxels); -1 when it does not
 * before j_to. */
static double csf_front(const sp_volume *t2, size_t i, size_t k, long j_from,
                        long j_to, double cut)
{
    double prev = prof(t2, i, j_from, k);
    if (prev >= cut)
        return -1;
    for (long j = j_from + 1; j <= j_to; j++) {
        double v = prof(t2, i, j, k);
        if (v >= cut)
            return (double)j - 1 + (cut - prev) / (v - prev);
        prev = v;
    }
    return -1;
}

/* Front wall of slice i at plane k, searched from 3 voxels in front of
 * the canal mask's front to its middle; -1 without canal or CSF there. */
static double slice_front(const sp_volume *canal, const sp_volume *t2,
                          size_t i, long k, double cut)
{
    if (k < 0 || k >= (long)canal->dim[2])
        return -1;
    size_t st, run = ap_run(canal, i, (size_t)k, &st);
    if (run == 0)
        return -1;
    return csf_front(t2, i, (size_t)k, (long)st - 3,
                     (long)(st + run / 2), cut);
}

/* The vertebral body's posterior margin in column (i, k) in front of the
 * CSF front `front` (voxels): the first position in front of it, within
 * MARGIN_MM, where the profile falls below `dark` (cortex, posterior
 * longitudinal ligament), between voxels; -1 when none is seen. */
#define MARGIN_MM 6.0
static double body_margin(const sp_volume *t2, size_t i, long k, double front,
                          double dark)
{
    if (front < 0 || k < 0 || k >= (long)t2->dim[2])
        return -1;
    long j = (long)floor(front);
    double prev = prof(t2, i, j, (size_t)k);
    long reach = (long)ceil(MARGIN_MM / t2->spacing[1]);
    for (long q = j - 1; q >= 0 && q >= j - reach; q--) {
        double v = prof(t2, i, q, (size_t)k);
        if (v < dark)
            return (double)q + 1 - (prev - dark) / (prev - v);
        prev = v;
    }
    return -1;
}

/* Displacement in slice i at the disc: for each plane between the disc's
 * edges kd -+ half, how far behind the line joining the CSF front at the
 * margins a and b the front lies (mm); the most two neighbouring planes
 * share (a herniation has height, noise in one plane does not). 0 (and
 * *found 0) when a front is missing. */
static double slice_displacement(const sp_volume *canal, const sp_volume *t2,
                                 size_t i, double cut, double dark,
                                 double tol, long a, long b, double kd,
                                 double half, int *found)
{
    double wa = slice_front(canal, t2, i, a, cut),
           wb = slice_front(canal, t2, i, b, cut);
    *found = 0;
    if (wa < 0 || wb < 0)
        return 0;
    /* the bodies' posterior margins: where the sac front lies behind them
     * (laterally, epidural fat between), a disc that indents the sac
     * reaches that much further beyond the margins */
    double ma = body_margin(t2, i, a, wa, dark),
           mb = body_margin(t2, i, b, wb, dark);
    long k0 = (long)ceil(kd - half), k1 = (long)floor(kd + half);
    k0 = k0 <= a ? a + 1 : k0;
    k1 = k1 >= b ? b - 1 : k1;
    double best = -1e30, prev = 0;
    int have_prev = 0;
    for (long k = k0; k <= k1; k++) {
        double wk = slice_front(canal, t2, i, k, cut);
        if (wk < 0) {
            have_prev = 0;
            continue;
        }
        double f = (double)(k - a) / (double)(b - a);
        double line = wa + (wb - wa) * f;
        double dk = (wk - line) * canal->spacing[1];
        if (dk >= tol && ma >= 0 && mb >= 0) {
            double reach = (wk - (ma + (mb - ma) * f)) * canal->spacing[1];
            dk = reach > dk ? reach : dk;
        }
        if (have_prev) {
            double m = dk < prev ? dk : prev;
            best = m > best ? m : best;
        }
        prev = dk, have_prev = 1;
    }
    if (best <= -1e30)
        return 0;
    *found = 1;
    return best;
}

/* Posterior displacement at a disc (plane kd, signal over kd -+ half), in
 * every sagittal slice across the canal, against the line joining the CSF
 * front at the vertebral margins ka and kb. The front is where the signal
 * crosses half way from tissue to CSF, so disc material with less signal
 * than CSF (a herniation the canal mask took in) counts as displaced. The
 * result is the most that MIN_WIDTH_MM of neighbouring slices share (one
 * thin slice alone is noise), with its width and where it lies. */
static void displacement(const sp_volume *canal, const sp_volume *t2,
                         double cut, double dark, double kd, double half,
                         double ka,
                         double kb, double tol, double *d, int *ok,
                         mrlevel_measure *o)
{
    size_t nx = canal->dim[0];
    long k = (long)floor(kd + 0.5), a = (long)floor(ka + 0.5),
         b = (long)floor(kb + 0.5);
    a = a < 0 ? 0 : a;
    b = b >= (long)canal->dim[2] ? (long)canal->dim[2] - 1 : b;
    if (k < 0 || k >= (long)canal->dim[2] || a >= k || b <= k)
        return;
    /* slices where the canal is at least half its deepest at the disc:
     * the lateral recesses and the canal's edge are left out */
    size_t deepest = 0, lo = SIZE_MAX, hi = 0;
    for (size_t i = 0; i < nx; i++) {
        size_t r0 = ap_run(canal, i, (size_t)k, NULL);
        deepest = r0 > deepest ? r0 : deepest;
    }
    for (size_t i = 0; i < nx; i++) {
        ok[i] = 0;
        if (deepest == 0 || 2 * ap_run(canal, i, (size_t)k, NULL) < deepest)
            continue;
        lo = i < lo ? i : lo, hi = i;
        d[i] = slice_displacement(canal, t2, i, cut, dark, tol, a, b, kd,
                                  half, &ok[i]);
    }
    if (lo == SIZE_MAX)
        return;
    size_t w = (size_t)ceil(MIN_WIDTH_MM / canal->spacing[0] - 1e-9);
    w = w < 1 ? 1 : w;
    double best = 0;
    size_t bi = SIZE_MAX;
    for (size_t i = lo; i + w <= hi + 1; i++) {
        double m = 1e30;
        for (size_t q = i; q < i + w; q++)
            m = !ok[q] ? -1e30 : d[q] < m ? d[q] : m;
        if (m > best)
            best = m, bi = i;
    }
    if (bi == SIZE_MAX)
        return;
    o->displacement_mm = best;
    o->displacement_i = (double)bi + 0.5 * (double)(w - 1);
    if (best < tol)
        return;
    /* the run of slices around it displaced at least tol: its width, and
     * where it lies (the middle third of the canal is central) */
    size_t s0 = bi, s1 = bi + w - 1;
    while (s0 > lo && ok[s0 - 1] && d[s0 - 1] >= tol)
        s0--;
    while (s1 < hi && ok[s1 + 1] && d[s1 + 1] >= tol)
        s1++;
    o->displacement_base_mm = (double)(s1 - s0 + 1) * canal->spacing[0];
    double off = 0.5 * (double)(s0 + s1) - 0.5 * (double)(lo + hi);
    if (fabs(off) <= (double)(hi - lo + 1) / 6.0)
        snprintf(o->displacement_position, sizeof o->displacement_position,
                 "central");
    else
        snprintf(o->displacement_position, sizeof o->displacement_position,
                 "%s paracentral",
                 (off > 0) == (canal->vox2lps[0][0] > 0) ? "left" : "right");
}

/* Pfirrmann-like grade from disc/CSF signal: 1 as bright as CSF, 5 black */
static int grade(double r)
{
    return r > 0.80 ? 1 : r > 0.55 ? 2 : r > 0.35 ? 3 : r > 0.20 ? 4 : 5;
}

sp_status mr_sac_behind(const sp_volume *canal, const sp_volume *t2,
                        const mrcanal_info *ci, int dorsal_csf,
                        sp_volume *labels, sp_error *err)
{
    uint16_t *out = sp_volume_u16(labels);
    if (!sp_volume_u8(canal) || !sp_volume_f32(t2) || !out ||
        sp_volume_count(t2) != sp_volume_count(canal) ||
        sp_volume_count(labels) != sp_volume_count(canal) ||
        !(ci->csf_level > 0))
        return sp_error_set(err, SP_INTERNAL,
                            "mr sac: canal, image and labels do not match");
    double cut = ci->tissue_level + 0.5 * (ci->csf_level - ci->tissue_level);
    long max = (long)ceil(DORSAL_MM / t2->spacing[1]);
    for (size_t k = 0; k < canal->dim[2]; k++)
        for (size_t i = 0; i < canal->dim[0]; i++) {
            size_t st, run = ap_run(canal, i, k, &st);
            if (run == 0)
                continue;
            long last = (long)(st + run) - 1;
            long end = dorsal_end(t2, i, k, last, cut, DARK * ci->csf_level,
                                  max, dorsal_csf);
            for (long j = last + 1; j <= end; j++) {
                size_t t = sp_volume_index(labels, i, (size_t)j, k);
                if (out[t] == 0)
                    out[t] = SP_LABEL_CORD;
            }
        }
    /* a column where the rule did not apply would leave a slit in the
     * sac's axial outline: fill each row of each plane between its
     * outermost sac voxels (as the canal mask is filled) */
    size_t nx = labels->dim[0];
    for (size_t k = 0; k < labels->dim[2]; k++)
        for (size_t j = 0; j < labels->dim[1]; j++) {
            uint16_t *row = out + sp_volume_index(labels, 0, j, k);
            size_t a = SIZE_MAX, b = 0;
            for (size_t i = 0; i < nx; i++)
                if (row[i] == SP_LABEL_CANAL || row[i] == SP_LABEL_CORD) {
                    a = a == SIZE_MAX ? i : a;
                    b = i;
                }
            for (size_t i = a; a != SIZE_MAX && i <= b; i++)
                if (row[i] == 0)
                    row[i] = SP_LABEL_CORD;
        }
    return SP_OK;
}

sp_status mr_measure(const sp_volume *canal, const sp_volume *t2,
                     const mrspine *s,
                     const mrcanal_info *ci, double k_spacing,
                     double j_spacing, double tol_mm, mrlevel_measure *out,
                     sp_error *err)
{
    if (!sp_volume_u8(canal) || !s->wall_j || !(ci->csf_level > 0))
        return sp_error_set(err, SP_INTERNAL,
                            "mr measure: no canal or discs to measure");
    size_t nz = canal->dim[2], nx = canal->dim[0];
    int signal = sp_volume_f32(t2) &&
                 sp_volume_count(t2) == sp_volume_count(canal);
    double *disp = malloc(nx * sizeof *disp);
    int *ok = malloc(nx * sizeof *ok);
    if (!disp || !ok) {
        free(disp), free(ok);
        return sp_error_set(err, SP_NOMEM, "mr measure: out of memory");
    }
    double cut = ci->tissue_level + 0.5 * (ci->csf_level - ci->tissue_level);
    for (size_t q = 0; q < s->n_disc; q++) {
        const mrdisc *d = &s->disc[q];
        mrlevel_measure *o = &out[q];
        memset(o, 0, sizeof *o);
        o->vert_above = d->vert_above;
        size_t k = (size_t)floor(d->k + 0.5);
        k = k >= nz ? nz - 1 : k;
        /* the slice with the deepest canal mask within MID_MM of the
         * canal's left-right centre in this plane: the mid-line is where
         * the sac is deepest (the canal's centre over the whole series is
         * off it in a rotated or scoliotic spine); and, where slices are
         * thinner than MID_MM, any slice within it whose sac with the
         * roots behind the ventral CSF is deeper (the roots lie unevenly;
         * thick lateral slices are not tried: their lateral walls, the
         * phantom's arch, read like roots) */
        size_t centre = plane_centre(canal, k, s->mid_i), bi = centre,
               ap = 0;
        long reach_i = (long)floor(MID_MM / canal->spacing[0] + 0.5);
        reach_i = reach_i < 1 ? 1 : reach_i;
        for (long di = -reach_i; di <= reach_i; di++) {
            long i = (long)centre + di;
            size_t r = i < 0 || i >= (long)nx
                           ? 0
                           : ap_run(canal, (size_t)i, k, NULL);
            if (r > ap)
                ap = r, bi = (size_t)i;
        }
        o->ap_k = (double)k;
        sac_params sp = {signal ? t2 : NULL, cut, DARK * ci->csf_level,
                         (long)ceil(DORSAL_MM / j_spacing), s->cervical};
        try_slice(canal, &sp, bi, k, j_spacing, o);
        long thin = (long)floor(MID_MM / canal->spacing[0]);
        for (long i = (long)centre - thin; thin > 0 && i <= (long)centre + thin;
             i++)
            if (i >= 0 && i < (long)nx)
                try_slice(canal, &sp, (size_t)i, k, j_spacing, o);
        o->disc_height_mm = d->height_mm;
        double hb = 0;
        int nb = 0;
        if (q > 0) {
            const mrdisc *b = &s->disc[q - 1];
            hb += (d->k - b->k) * k_spacing -
                  0.5 * (d->height_mm + b->height_mm);
            nb++;
        }
        if (q + 1 < s->n_disc) {
            const mrdisc *a = &s->disc[q + 1];
            hb += (a->k - d->k) * k_spacing -
                  0.5 * (d->height_mm + a->height_mm);
            nb++;
        }
        if (nb && hb > 0)
            o->dhi = d->height_mm / (hb / nb);
        o->disc_csf_ratio = d->signal / ci->csf_level;
        o->grade = grade(o->disc_csf_ratio);
        /* the vertebral margins: the body planes EDGE_MM beyond the disc's
         * signal (a line between the body middles cuts the curve of a
         * lordotic canal: 2-3 mm at L5-S1 in the phantom) */
        double reach = (0.5 * d->height_mm + EDGE_MM) / k_spacing;
        if (signal)
            displacement(canal, t2, cut, DARK * ci->csf_level, d->k,
                         0.5 * d->height_mm / k_spacing, d->k - reach,
                         d->k + reach, tol_mm, disp, ok, o);
    }
    free(disp), free(ok);
    return SP_OK;
}

/* Share of CSF in voxel (i, j) of plane k at the canal's edge: its
 * signal between the wall's (the darkest voxel outside the mask within 2
 * voxels) and csf, clamped to [0, 1]. */
static double edge_share(const sp_volume *canal, const sp_volume *t2,
                         size_t i, size_t j, size_t k, double csf)
{
    const uint8_t *m = canal->data;
    const float *im = t2->data;
    double w = INFINITY;
    for (long dj = -2; dj <= 2; dj++)
        for (long di = -2; di <= 2; di++) {
            long ii = (long)i + di, jj = (long)j + dj;
            if (ii < 0 || jj < 0 || ii >= (long)canal->dim[0] ||
                jj >= (long)canal->dim[1])
                continue;
            size_t q = sp_volume_index(canal, (size_t)ii, (size_t)jj, k);
            if (!m[q] && im[q] < w)
                w = im[q];
        }
    double v = im[sp_volume_index(t2, i, j, k)];
    if (!isfinite(w) || csf <= w)
        return 1;
    double f = (v - w) / (csf - w);
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

/* Is (i, j) of plane k on the mask's edge: a mask voxel with a 4-neighbour
 * outside, or a voxel outside with a 4-neighbour in the mask? */
static int on_edge(const sp_volume *canal, size_t i, size_t j, size_t k)
{
    const uint8_t *m = canal->data;
    int in = m[sp_volume_index(canal, i, j, k)] != 0;
    static const int d[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    for (int q = 0; q < 4; q++) {
        long ii = (long)i + d[q][0], jj = (long)j + d[q][1];
        if (ii < 0 || jj < 0 || ii >= (long)canal->dim[0] ||
            jj >= (long)canal->dim[1])
            continue;
        if ((m[sp_volume_index(canal, (size_t)ii, (size_t)jj, k)] != 0) !=
            in)
            return 1;
    }
    return 0;
}

/* Centroid (mm, in-plane) of the canal in plane k; 0 when it holds none */
static int plane_centroid(const sp_volume *canal, size_t k, double *x,
                          double *y)
{
    const uint8_t *m = canal->data;
    double si = 0, sj = 0;
    size_t n = 0;
    for (size_t j = 0; j < canal->dim[1]; j++)
        for (size_t i = 0; i < canal->dim[0]; i++)
            if (m[sp_volume_index(canal, i, j, k)])
                si += (double)i, sj += (double)j, n++;
    if (!n)
        return 0;
    *x = si / (double)n * canal->spacing[0];
    *y = sj / (double)n * canal->spacing[1];
    return 1;
}

/* The canal's slope across plane k (mm left-right and AP per mm along
 * the slice normal): a line fitted to the centroids of the planes within
 * TILT_PLANES; 0 with fewer than three. */
#define TILT_PLANES 2
static void canal_slope(const sp_volume *canal, size_t k, double *tx,
                        double *ty)
{
    double sz = 0, sx = 0, sy = 0, szz = 0, szx = 0, szy = 0;
    int n = 0;
    *tx = *ty = 0;
    for (long d = -TILT_PLANES; d <= TILT_PLANES; d++) {
        long kk = (long)k + d;
        double x, y;
        if (kk < 0 || kk >= (long)canal->dim[2] ||
            !plane_centroid(canal, (size_t)kk, &x, &y))
            continue;
        double z = (double)d * canal->spacing[2];
        sz += z, sx += x, sy += y, szz += z * z, szx += z * x, szy += z * y;
        n++;
    }
    double den = (double)n * szz - sz * sz;
    if (n < 3 || !(den > 0))
        return;
    *tx = ((double)n * szx - sz * sx) / den;
    *ty = ((double)n * szy - sz * sy) / den;
}

sp_status mr_canal_sections(const sp_volume *canal, const sp_volume *t2,
                            double csf, double *area_mm2, double *ap_mm,
                            sp_error *err)
{
    const uint8_t *m = sp_volume_u8(canal);
    if (!m)
        return sp_error_set(err, SP_INTERNAL,
                            "mr sections: the canal is not a U8 mask");
    if (t2 && (!sp_volume_f32(t2) ||
               sp_volume_count(t2) != sp_volume_count(canal)))
        return sp_error_set(err, SP_INTERNAL,
                            "mr sections: image and canal do not match");
    size_t nx = canal->dim[0], ny = canal->dim[1];
    for (size_t k = 0; k < canal->dim[2]; k++) {
        double n = 0, ap = 0;
        for (size_t i = 0; i < nx; i++) {
            size_t j0;
            size_t r = ap_run(canal, i, k, &j0);
            double a = (double)r;
            /* each end of the run: the share of CSF in its last voxel
             * inside and first outside */
            if (t2 && r > 0) {
                a -= 2;
                a += edge_share(canal, t2, i, j0, k, csf) +
                     edge_share(canal, t2, i, j0 + r - 1, k, csf);
                if (j0 > 0)
                    a += edge_share(canal, t2, i, j0 - 1, k, csf);
                if (j0 + r < ny)
                    a += edge_share(canal, t2, i, j0 + r, k, csf);
            }
            ap = a > ap ? a : ap;
        }
        for (size_t j = 0; j < ny; j++)
            for (size_t i = 0; i < nx; i++) {
                int in = m[sp_volume_index(canal, i, j, k)] != 0;
                if (t2 && in && on_edge(canal, i, j, k))
                    n += edge_share(canal, t2, i, j, k, csf);
                else
                    n += in;
            }
        /* across the canal, not along the slice: a slice tilted by a
         * against the canal's axis cuts 1 / cos a more area, and its AP
         * by the AP part of the tilt */
        double tx, ty;
        canal_slope(canal, k, &tx, &ty);
        area_mm2[k] = n * canal->spacing[0] * canal->spacing[1] /
                      sqrt(1 + tx * tx + ty * ty);
        ap_mm[k] = ap * canal->spacing[1] / sqrt(1 + ty * ty);
    }
    return SP_OK;
}
