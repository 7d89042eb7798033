/* Anatomical cues for naming levels: sacrum and ribs. */
#include "levels_kernels.h"

#include <math.h>
#include <stdlib.h>

#define SACRUM_MIN_TILT_DEG 25.0 /* S1 slopes forward; lumbar bodies less */
/* ... or it widens into the alae: bone running on without a break from the
 * body outwards, on both sides, this far beyond the half-width of the
 * bodies above, over this share of the body levels of its upper part (a lumbar transverse
 * process reaches as far but over a third to a half of its body height;
 * the iliac crest beside L4-L5 is separated from the body by the psoas). */
#define ALA_BEYOND_MM 15.0
#define ALA_MIN_SHARE 0.6
#define ALA_GAP_MM 4.0
#define ALA_SPAN_MM 20.0
/* Window where a rib neck lies beside a rib-bearing vertebra and a lumbar
 * transverse process does not reach: lateral and behind the body centre. */
#define RIB_MIN_MM 45.0
#define RIB_MAX_MM 65.0
#define RIB_BACK_MM 40.0
#define RIB_MIN_SCORE 0.25

/* Fraction of the piece's body levels with bone lateral to the column on
 * both sides (left and right separately), behind the body centre. */
static double rib_score(const sp_volume *bone, const spine_curve *c,
                        const spine_vertebra *v)
{
    double hits = 0, n = 0;
    double step = fmin(bone->spacing[0], bone->spacing[1]);
    for (double s = v->body_lo; s <= v->body_hi; s += 1.0) {
        size_t q = spine_curve_at(c, s);
        const double *a = c->a[q], *p = c->p[q];
        double l[3];
        spine_lateral(c, q, l);
        int side[2] = {0, 0};
        for (int sd = 0; sd < 2; sd++)
            for (double u = RIB_MIN_MM; u <= RIB_MAX_MM && !side[sd];
                 u += step)
                for (double b = 0; b <= RIB_BACK_MM && !side[sd]; b += step) {
                    double g[3];
                    for (int d = 0; d < 3; d++)
                        g[d] = p[d] + (sd ? -u : u) * l[d] - b * a[d];
                    side[sd] = spine_mask_at(bone, g);
                }
        hits += side[0] && side[1];
        n++;
    }
    return n > 0 ? hits / n : 0;
}

/* How far bone runs laterally on side `sd` at arc position s: for AP
 * offsets from 10 mm behind the posterior wall to the body's middle, the
 * farthest bone of a run that starts within `ref` mm of the centre line
 * and has no gap longer than ALA_GAP_MM. */
static double lateral_run(const sp_volume *bone, const spine_curve *c,
                          const spine_vertebra *v, double s, int sd,
                          double ref)
{
    size_t q = spine_curve_at(c, s);
    const double *a = c->a[q], *p = c->p[q];
    double l[3];
    spine_lateral(c, q, l);
    double step = fmin(bone->spacing[0], bone->spacing[1]);
    double best = 0;
    for (double b = -(v->body_back_mm + 10); b <= 0.5 * v->body_depth_mm;
         b += 2.0) {
        double last = -1, u;
        for (u = 0.5 * ref; u <= ref + 80; u += step) {
            double g[3];
            for (int d = 0; d < 3; d++)
                g[d] = p[d] + (sd ? -u : u) * l[d] + b * a[d];
            if (spine_mask_at(bone, g))
                last = u;
            else if (last < 0 ? u > ref : u - last > ALA_GAP_MM)
                break;
        }
        if (last > best)
            best = last;
    }
    return best;
}

/* Share of the body levels of the piece's cranial ALA_SPAN_MM (the
 * alae flank the first sacral segment, not the ones below it) where bone
 * runs on both sides at least ALA_BEYOND_MM beyond `ref`, the half-width
 * of the bodies above. */
static double ala_share(const sp_volume *bone, const spine_curve *c,
                        const spine_vertebra *v, double ref, int cranial)
{
    double lo = v->body_lo, hi = v->body_hi;
    if (hi - lo > ALA_SPAN_MM) {
        if (cranial >= 0)
            lo = hi - ALA_SPAN_MM;
        else
            hi = lo + ALA_SPAN_MM;
    }
    double hits = 0, n = 0;
    for (double s = lo; s <= hi; s += 1.0) {
        hits += lateral_run(bone, c, v, s, 0, ref) >= ref + ALA_BEYOND_MM &&
                lateral_run(bone, c, v, s, 1, ref) >= ref + ALA_BEYOND_MM;
        n++;
    }
    return n > 0 ? hits / n : 0;
}

static double half_width(const spine_vertebra *v)
{
    return v->lateral_mm;
}

sp_status levels_find_cues(const sp_volume *bone, const spine_model *model,
                           level_cues *cues, sp_error *err)
{
    if (!sp_volume_u8(bone))
        return sp_error_set(err, SP_INTERNAL,
                            "label_levels: the bone mask must be U8");
    const spine_curve *c = &model->curve;
    cues->sacrum = -1;
    cues->sacrum_tilt_deg = 0;
    cues->sacrum_ala_share = 0;
    cues->last_rib = -1;
    if (model->n_vert == 0)
        return SP_OK;
    /* the lowest piece is the sacrum when the column ends inside the
       image there (not cut by the field of view) and it slopes like S1 */
    int low = model->cranial_sign >= 0 ? 0 : (int)model->n_vert - 1;
    const spine_vertebra *lv = &model->vert[low];
    int cut = model->cranial_sign >= 0 ? c->cut_lo : c->cut_hi;
    double tz = 0, cnt = 0;
    for (double s = lv->body_lo; s <= lv->body_hi; s += 1.0) {
        tz += fabs(c->t[spine_curve_at(c, s)][2]);
        cnt++;
    }
    if (cnt > 0)
        cues->sacrum_tilt_deg = acos(fmin(1.0, tz / cnt)) * 180.0 / M_PI;
    double ref = spine_inner_median(model, half_width);
    cues->sacrum_ala_share =
        ref > 0 ? ala_share(bone, c, lv, ref, model->cranial_sign) : 0;
    if (!cut && !(low == 0 ? lv->lo_is_disc : lv->hi_is_disc) &&
        (cues->sacrum_tilt_deg >= SACRUM_MIN_TILT_DEG ||
         cues->sacrum_ala_share >= ALA_MIN_SHARE))
        cues->sacrum = low;
    /* ribs: from caudal upwards, the first piece that has them and whose
       upper neighbour has them too (ribs come in a run to the top; the
       iliac crest beside L4-L5 does not). Next to a sacrum the pelvis is
       lateral, so the two pieces above it are not looked at. */
    size_t n = model->n_vert;
    for (size_t v = 0; v < n; v++)
        cues->rib_score[v] = rib_score(bone, c, &model->vert[v]);
    size_t start = cues->sacrum >= 0 ? 3 : 0;
    for (size_t r = start; r < n; r++) {
        size_t v = model->cranial_sign >= 0 ? r : n - 1 - r;
        size_t up = model->cranial_sign >= 0 ? v + 1 : v - 1;
        if (cues->rib_score[v] < RIB_MIN_SCORE)
            continue;
        if (r + 1 < n && cues->rib_score[up] < RIB_MIN_SCORE)
            continue;
        cues->last_rib = (int)v;
        break;
    }
    return SP_OK;
}
