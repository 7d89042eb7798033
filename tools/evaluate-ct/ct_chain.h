/* The CT analysis kernels run in order (bone, vertebrae, levels, canal,
 * measure) on one series: what the stages will do once wrapped, used here
 * to evaluate them. Large series are analysed on a ~1.5 mm working grid
 * and the label map is expanded back onto the input grid. */
#ifndef SPINEPIPE_CT_CHAIN_H
#define SPINEPIPE_CT_CHAIN_H

#include "levels_kernels.h"
#include "measure_kernels.h"
#include "spine_model.h"

typedef struct ct_chain {
    level_params levels;     /* in: naming options */
    int want_body;           /* in: also return the body/disc map */
    sp_volume labels;        /* out: label map on the input grid */
    sp_volume body;          /* out: 1 body, 2 disc, on the input grid */
    spine_model model;       /* out: on the working grid */
    level_cues cues;
    canal_result canal;
    measure_result measures;
    int factor[3];           /* working grid = input / factor */
    double seconds[6];       /* CPU time: bone, vertebrae, levels, canal,
                                measure, total */
} ct_chain;

/* SP_NOTANALYSABLE (with the reason in err) for series without a
 * analysable lumbar spine. */
sp_status ct_chain_run(const sp_volume *ct, ct_chain *chain, sp_error *err);
void ct_chain_free(ct_chain *chain);

#endif
