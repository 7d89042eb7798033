/* Name the vertebrae from the cues (or the configured override). */
#include "levels_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spinepipe/labels.h"

#define S1_HALF_WIDTH_MM 28.0

void level_params_default(level_params *p)
{
    memset(p, 0, sizeof *p);
    p->lumbar_count = 5;
}

static double body_height(const spine_vertebra *v)
{
    return v->body_hi - v->body_lo;
}

/* Label of the vertebra `steps` above (positive) the one labelled `from`
 * in a column with `lumbar` lumbar vertebrae; 0 outside C1..S1. */
static int step_label(int from, int steps, int lumbar)
{
    /* position counted upwards from S1 = 0 */
    int pos;
    if (from == SP_LABEL_SACRUM)
        pos = 0;
    else if (from == SP_LABEL_L6)
        pos = 1;
    else if (from >= SP_LABEL_L1 && from <= SP_LABEL_L1 + 4)
        pos = lumbar - (from - SP_LABEL_L1);
    else if (from >= SP_LABEL_C1 && from < SP_LABEL_L1)
        pos = lumbar + (SP_LABEL_L1 - from);
    else
        return 0;
    pos += steps;
    if (pos == 0)
        return SP_LABEL_SACRUM;
    if (pos < 0)
        return 0;
    if (pos <= lumbar) {
        int lnum = lumbar - pos + 1; /* 1..lumbar */
        return lnum == 6 ? SP_LABEL_L6 : SP_LABEL_L1 + lnum - 1;
    }
    int above = pos - lumbar; /* 1 = T12 */
    int label = SP_LABEL_L1 - above;
    return label >= SP_LABEL_C1 ? label : 0;
}

sp_status levels_assign(spine_model *model, const level_cues *cues,
                        const level_params *p, sp_error *err)
{
    if (p->lumbar_count < 4 || p->lumbar_count > 6)
        return sp_error_set(err, SP_CONFIG,
                            "label_levels: lumbar_count must be 4, 5 or 6, "
                            "not %d", p->lumbar_count);
    size_t n = model->n_vert;
    int dir = model->cranial_sign >= 0 ? 1 : -1;
    /* anchor: piece index and its label */
    int anchor = -1, anchor_label = 0;
    int confident = 0;
    char note[256];
    int lowest = dir > 0 ? 0 : (int)n - 1;
    for (size_t v = 0; v < n; v++)
        model->vert[v].label = 0;
    if (p->lowest[0]) {
        anchor_label = sp_label_vertebra_from_name(p->lowest);
        if (!anchor_label)
            return sp_error_set(err, SP_CONFIG,
                                "label_levels: lowest = \"%.7s\" is not a "
                                "vertebra name (e.g. L4, S1)", p->lowest);
        anchor = lowest;
        confident = 1;
        snprintf(note, sizeof note,
                 "levels named from the configured lowest vertebra %.7s",
                 p->lowest);
    } else {
        int by_sacrum = cues->sacrum, by_ribs = cues->last_rib;
        /* where the sacrum says T12 is */
        int t12_from_sacrum = -1;
        if (by_sacrum >= 0) {
            int idx = by_sacrum + dir * (p->lumbar_count + 1);
            if (idx >= 0 && idx < (int)n)
                t12_from_sacrum = idx;
        }
        if (by_sacrum >= 0 && by_ribs >= 0) {
            confident = t12_from_sacrum == by_ribs;
            if (confident || !p->anchor_ribs)
                anchor = by_sacrum, anchor_label = SP_LABEL_SACRUM;
            else
                anchor = by_ribs, anchor_label = SP_LABEL_L1 - 1;
            if (confident)
                snprintf(note, sizeof note,
                         "sacrum and last rib-bearing vertebra agree "
                         "(%d lumbar vertebrae)", p->lumbar_count);
            else
                snprintf(note, sizeof note,
                         "UNCERTAIN: counting from the sacrum and from the "
                         "last rib-bearing vertebra disagree by %d level(s) "
                         "(transitional anatomy?); named from the %s, check "
                         "and set label_levels lumbar_count or lowest",
                         (by_ribs - (by_sacrum + dir * (p->lumbar_count + 1))) *
                             dir,
                         p->anchor_ribs ? "ribs" : "sacrum");
        } else if (by_sacrum >= 0) {
            anchor = by_sacrum, anchor_label = SP_LABEL_SACRUM;
            /* no rib check possible when T12 is outside the image */
            confident = t12_from_sacrum < 0;
            snprintf(note, sizeof note,
                     confident ? "named from the sacrum; T12 is outside the "
                                 "image so the ribs could not confirm it"
                               : "UNCERTAIN: named from the sacrum, but no "
                                 "ribs were found at the vertebra counted as "
                                 "T12");
        } else if (by_ribs >= 0) {
            anchor = by_ribs, anchor_label = SP_LABEL_L1 - 1;
            confident = 0;
            snprintf(note, sizeof note,
                     "UNCERTAIN: no sacrum in the image; named from the "
                     "last rib-bearing vertebra taken as T12");
        } else {
            model->labels_confident = 0;
            snprintf(model->label_note, sizeof model->label_note,
                     "levels not named: neither the sacrum nor a rib-bearing "
                     "vertebra is in the image; set label_levels lowest "
                     "(e.g. L4) to name them");
            return SP_OK;
        }
    }
    for (int v = 0; v < (int)n; v++) {
        int steps = (v - anchor) * dir;
        model->vert[v].label = step_label(anchor_label, steps,
                                          p->lumbar_count);
    }
    /* the S1 label is the first sacral vertebra: its alae are cut where
       the sacrum widens into the sacroiliac joints, and its body, which
       no disc bounds below, is as tall as the bodies above (the rest of
       the sacrum is not S1) */
    double h = spine_inner_median(model, body_height);
    for (size_t v = 0; v < n; v++) {
        spine_vertebra *vv = &model->vert[v];
        if (vv->label != SP_LABEL_SACRUM)
            continue;
        vv->lateral_limit_mm = S1_HALF_WIDTH_MM;
        if (h <= 0)
            continue;
        if (dir > 0 && !vv->lo_is_disc && vv->body_hi - vv->body_lo > h)
            vv->s_lo = vv->body_lo = vv->body_hi - h;
        if (dir < 0 && !vv->hi_is_disc && vv->body_hi - vv->body_lo > h)
            vv->s_hi = vv->body_hi = vv->body_lo + h;
    }
    model->labels_confident = confident;
    snprintf(model->label_note, sizeof model->label_note, "%s", note);
    return SP_OK;
}
