/* Level names and the label map of discs, bodies and canal on sagittal
 * T2. */
#include "mrcanal_kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "spinepipe/labels.h"

sp_status mrdisc_label(mrspine *s, const char *lowest, sp_error *err)
{
    int v;
    if (lowest) {
        v = sp_label_vertebra_from_name(lowest);
        if (v <= 0 || v >= SP_LABEL_SACRUM)
            return sp_error_set(err, SP_CONFIG,
                                "mr levels: lowest vertebra \"%s\" is not a "
                                "vertebra name like L5 or C6", lowest);
    } else if (s->sacrum_below) {
        v = SP_LABEL_L1 + 4;
    } else {
        return sp_error_set(err, SP_NOTANALYSABLE,
                            "mr levels: no sacrum below the lowest disc and "
                            "no lowest vertebra given: levels cannot be "
                            "counted");
    }
    for (size_t q = 0; q < s->n_disc; q++) {
        int a = v - (int)q;
        s->disc[q].vert_above = a >= SP_LABEL_C1 ? a : 0;
    }
    return SP_OK;
}

/* The dens: the column above the top dip reaches less than this fraction
 * of the depth ratio of the body below it. Tuned on two series: 0.53 on
 * the shared cervical series (0.60 against 1.14), 1.04 above the C5-C7
 * crop's top disc (0.85 against 0.82), which shows no C2. */
#define DENS_NARROWING 0.7

/* Mean signal in the mid-sagittal slab (+-2 mm) from a to b mm in front
 * of the canal's front wall, over planes [k0, k1]. */
static double band(const sp_volume *t2, const mrspine *s, long k0, long k1,
                   double a, double b)
{
    const float *im = t2->data;
    int hs = (int)floor(2.0 / t2->spacing[0] + 0.5);
    double sum = 0;
    size_t c = 0;
    for (long k = k0 < 0 ? 0 : k0; k <= k1 && k < (long)t2->dim[2]; k++) {
        long j0 = (long)s->wall_j[k] - (long)ceil(b / t2->spacing[1]);
        long j1 = (long)s->wall_j[k] - (long)ceil(a / t2->spacing[1]);
        for (int di = -hs; di <= hs; di++)
            for (long j = j0; j <= j1; j++) {
                long i = (long)s->mid_i + di;
                if (i < 0 || i >= (long)t2->dim[0] || j < 0 ||
                    j >= (long)t2->dim[1])
                    continue;
                sum += im[sp_volume_index(t2, (size_t)i, (size_t)j,
                                          (size_t)k)];
                c++;
            }
    }
    return c ? sum / (double)c : 0;
}

/* How deep the bony column reaches over planes [k0, k1]: the signal 14-20
 * mm in front of the canal against that 2-10 mm in front (about 1 across
 * a vertebral body, which is 15-20 mm deep). */
static double depth_ratio(const sp_volume *t2, const mrspine *s, long k0,
                          long k1)
{
    double back = band(t2, s, k0, k1, 2, 10);
    return back > 0 ? band(t2, s, k0, k1, 14, 20) / back : 0;
}

/* Is the top dip the base of the dens, not a disc? Above a disc lies
 * another body as deep as the one below it; above the base of C2's dens
 * (the subdental line, dark like an endplate, often mistaken for a C1-C2
 * disc, which does not exist) the column narrows to the dens, about 10 mm
 * deep, with soft tissue in front of it where a body would be. Needs 2 mm
 * of planes above the dip and a body (between two discs) to compare. */
static int dens_above_top(const sp_volume *t2, const mrspine *s,
                          double *ratio_above, double *ratio_body)
{
    size_t n = s->n_disc;
    *ratio_above = *ratio_body = 0;
    if (!s->wall_j || n < 2)
        return 0;
    double sz = t2->spacing[2];
    const mrdisc *top = &s->disc[n - 1], *below = &s->disc[n - 2];
    long a0 = (long)ceil(top->k + 0.5 * top->height_mm / sz);
    long a1 = (long)t2->dim[2] - 1;
    long b0 = (long)ceil(below->k + 0.5 * below->height_mm / sz);
    long b1 = (long)floor(top->k - 0.5 * top->height_mm / sz);
    if ((double)(a1 - a0 + 1) * sz < 2 || (double)(b1 - b0 + 1) * sz < 4)
        return 0;
    *ratio_above = depth_ratio(t2, s, a0, a1);
    *ratio_body = depth_ratio(t2, s, b0, b1);
    return *ratio_above < DENS_NARROWING * *ratio_body;
}

sp_status mrdisc_label_cervical(const sp_volume *t2, mrspine *s,
                                char *note, size_t note_size, sp_error *err)
{
    if (s->n_disc == 0)
        return sp_error_set(err, SP_NOTANALYSABLE,
                            "mr levels: no discs to count down from C2");
    size_t n = s->n_disc;
    /* C2 (body and dens) is the tallest vertebra of the neck, about
     * twice a lower cervical level: the column goes on above the top
     * disc for well over a level without another disc. (A crop cut
     * through any vertebra shows up to a level: a shorter top vertebra
     * could be any, and naming it C2 would shift every level.) Or the
     * top dip is the dens's base: C2 is the vertebra below it, and the
     * dip is no disc. */
    const mrdisc *top = &s->disc[n - 1];
    double above = ((double)(t2->dim[2] - 1) - top->k) * t2->spacing[2];
    double ra, rb;
    if (above < 1.3 * s->level_mm) {
        if (!dens_above_top(t2, s, &ra, &rb))
            return sp_error_set(
                err, SP_NOTANALYSABLE,
                "mr levels: C2 is uncertain (not seen): the column above "
                "the top disc shows %.0f mm, not the %.0f mm (1.3 levels) "
                "of a whole C2 with its dens, and does not narrow to a "
                "dens above it (depth ratio %.2f against %.2f in the body "
                "below); the top vertebra may be any (give the lowest "
                "vertebra)", above, 1.3 * s->level_mm, ra, rb);
        n--;
        snprintf(note, note_size, "counted down from C2: the top dip "
                 "(%.0f mm from the top edge) is the base of its dens, the "
                 "column above it narrowing (depth ratio %.2f against %.2f "
                 "in the body below)", above, ra, rb);
    } else {
        snprintf(note, note_size, "counted down from C2: %.0f mm of column "
                 "without a disc above the top disc (C2 with its dens)",
                 above);
    }
    if (n > 6)
        return sp_error_set(err, SP_NOTANALYSABLE,
                            "mr levels: %zu discs below a C2-like top "
                            "vertebra: more than the neck has (C2-C3 .. "
                            "C7-T1); not a cervical series?", n);
    s->n_disc = n;
    for (size_t q = 0; q < n; q++)
        s->disc[q].vert_above = SP_LABEL_C1 + 1 + (int)(n - 1 - q);
    return SP_OK;
}

/* Paint the largest 6-connected part of cand (count voxels) as `label`
 * where nothing is painted yet. */
static sp_status paint_largest(const uint8_t *cand, const sp_volume *like,
                               uint16_t label, uint16_t *out, uint32_t *cc,
                               sp_error *err)
{
    size_t *sizes = NULL;
    long nc = analysis_components(cand, like->dim, 0, cc, &sizes);
    if (nc < 0)
        return sp_error_set(err, SP_NOMEM, "mr label map: out of memory");
    long best = 0;
    for (long c = 1; c <= nc; c++)
        if (sizes[c] > sizes[best])
            best = c;
    for (size_t t = 0; best && t < sp_volume_count(like); t++)
        if (cc[t] == (uint32_t)best && !out[t])
            out[t] = label;
    free(sizes);
    return SP_OK;
}

/* Candidates in the box in front of the canal between planes [ka, kb]:
 * signal above thr (bright) or below it (dark) */
static void box(const sp_volume *t2, const mrspine *s, double ka, double kb,
                double thr, int bright, uint8_t *cand)
{
    const float *im = t2->data;
    size_t nx = t2->dim[0], nz = t2->dim[2];
    memset(cand, 0, sp_volume_count(t2));
    double hw = 0.65 * s->body_depth_mm;
    int dj = (int)ceil(s->body_depth_mm / t2->spacing[1]);
    long k0 = (long)ceil(ka), k1 = (long)floor(kb);
    for (long k = k0 < 0 ? 0 : k0; k <= k1 && k < (long)nz; k++) {
        long w = (long)s->wall_j[k];
        for (long j = w - dj; j < w; j++) {
            if (j < 0)
                continue;
            for (size_t i = 0; i < nx; i++) {
                double du = ((double)i - (double)s->mid_i) * t2->spacing[0];
                if (fabs(du) > hw)
                    continue;
                size_t q = sp_volume_index(t2, i, (size_t)j, (size_t)k);
                cand[q] = bright ? im[q] > thr : im[q] < thr;
            }
        }
    }
}

/* Endplate thickness left out of a dark disc's band (mm): tuned on the
 * C5-C7 crop, whose reference labels endplates apart (docs/accuracy.md) */
#define ENDPLATE_MM 1.5

sp_status mrdisc_label_map(const sp_volume *t2, const sp_volume *canal,
                           const mrspine *s, sp_volume *labels,
                           sp_error *err)
{
    sp_status st = sp_volume_alloc_like(labels, t2, SP_VOXEL_U16, err);
    if (st != SP_OK)
        return st;
    size_t n = sp_volume_count(t2);
    uint16_t *out = labels->data;
    const uint8_t *m = canal->data;
    for (size_t t = 0; t < n; t++)
        out[t] = m[t] ? SP_LABEL_CANAL : 0;
    uint8_t *cand = malloc(n);
    uint32_t *cc = malloc(n * sizeof *cc);
    if (!cand || !cc) {
        free(cand), free(cc);
        sp_volume_free(labels);
        return sp_error_set(err, SP_NOMEM, "mr label map: out of memory");
    }
    double sz = t2->spacing[2];
    for (size_t q = 0; st == SP_OK && q < s->n_disc; q++) {
        const mrdisc *d = &s->disc[q];
        if (!d->vert_above)
            continue;
        /* a dark disc's dip holds its two black endplates, which are not
         * disc */
        double h = (0.5 * d->height_mm -
                    (s->discs_bright ? 0 : ENDPLATE_MM)) / sz;
        h = h < 1 ? 1 : h;
        box(t2, s, d->k - h, d->k + h, -1, 1, cand);
        st = paint_largest(cand, t2,
                           (uint16_t)(SP_LABEL_DISC_BASE + d->vert_above),
                           out, cc, err);
    }
    /* bodies between the discs, and one level beyond each end */
    for (size_t q = 0; st == SP_OK && q <= s->n_disc && s->n_disc; q++) {
        const mrdisc *lo = q > 0 ? &s->disc[q - 1] : NULL;
        const mrdisc *hi = q < s->n_disc ? &s->disc[q] : NULL;
        int v = hi ? hi->vert_above + 1 : lo->vert_above;
        /* below L5-S1 lies the sacrum (label 25, L6, only on request) */
        if (hi && hi->vert_above == SP_LABEL_L1 + 4)
            v = SP_LABEL_SACRUM;
        if ((hi && !hi->vert_above) || (lo && !lo->vert_above))
            continue;
        if (v <= 0 || v > SP_LABEL_SACRUM)
            continue;
        double lv = s->level_mm / sz;
        double ka = lo ? lo->k + 0.5 * lo->height_mm / sz
                       : hi->k - lv + 0.5 * hi->height_mm / sz;
        double kb = hi ? hi->k - 0.5 * hi->height_mm / sz
                       : lo->k + lv - 0.5 * lo->height_mm / sz;
        /* bodies: marrow, leaving out the black cortex and ligaments */
        box(t2, s, ka, kb, 0.4 * s->body_signal, 1, cand);
        st = paint_largest(cand, t2, (uint16_t)v, out, cc, err);
    }
    free(cand), free(cc);
    if (st != SP_OK)
        sp_volume_free(labels);
    return st;
}
