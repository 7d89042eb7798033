/* Kernels of the `label-levels` stage: name the vertebrae found by
 * segment-vertebrae (T11, T12, L1..L5, S1) from anatomical cues, with a
 * confidence, and say so when the anatomy does not settle it.
 *
 * Cues: the sacrum (the lowest piece, where the column ends inside the
 * field of view with no disc below it, steeply inclined or widening into
 * the alae) and the ribs (bone lateral to the
 * column on both sides behind the body: thoracic levels). Counting up from
 * the sacrum gives L5..L1 (or L6/L4 with a configured lumbar count); the
 * last rib-bearing vertebra should then be T12. When the two disagree
 * (transitional anatomy: lumbarised S1, sacralised L5, 11 or 13 ribs) the
 * labels follow the configured anchor and are marked uncertain. */
#ifndef SPINEPIPE_LEVELS_KERNELS_H
#define SPINEPIPE_LEVELS_KERNELS_H

#include "spine_model.h"

typedef struct level_cues {
    int sacrum;             /* index of the sacral piece, -1 when none */
    double sacrum_tilt_deg; /* inclination of the lowest piece's centre
                               line from z */
    double sacrum_ala_share; /* share of its body levels with alae */
    int last_rib;           /* lowest index with ribs, -1 when none */
    double rib_score[SPINE_MAX_VERTEBRAE]; /* 0..1 per piece */
} level_cues;

/* Look for the cues. `bone` is the full bone mask of segment-bone before
 * the column was cut out (ribs and pelvis still in it). */
sp_status levels_find_cues(const sp_volume *bone, const spine_model *model,
                           level_cues *cues, sp_error *err);

typedef struct level_params {
    int lumbar_count;   /* 4, 5 or 6; 5 is the common anatomy */
    char lowest[8];     /* override: name of the lowest piece ("S1", "L4");
                           empty for automatic */
    int anchor_ribs;    /* when the cues disagree, count from the last
                           rib-bearing vertebra (T12) instead of the sacrum */
} level_params;

void level_params_default(level_params *p);

/* Set model->vert[].label, model->labels_confident and model->label_note
 * (a sentence for the report: which cues were used, and why the labels are
 * uncertain when they are). SP_CONFIG for a bad override. Pieces that fall
 * outside C1..S1 keep label 0. With no cue and no override nothing is
 * named: the note says why. */
sp_status levels_assign(spine_model *model, const level_cues *cues,
                        const level_params *p, sp_error *err);

#endif
