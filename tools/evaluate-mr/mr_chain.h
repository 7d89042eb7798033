/* The MR sagittal T2 kernel chain as one call, for the evaluation tool
 * (the stages will run the same kernels one by one): canonical layout,
 * bias correction and normalisation, canal, discs, levels, label map and
 * measurements. */
#ifndef SPINEPIPE_MR_CHAIN_H
#define SPINEPIPE_MR_CHAIN_H

#include "analysis.h"
#include "mrcanal_kernels.h"

typedef struct mr_chain {
    analysis_axes axes;
    sp_volume t2;       /* canonical layout, corrected, normalised */
    sp_volume canal;    /* U8, canonical */
    sp_volume labels;   /* U16, canonical */
    mrcanal_info info;
    mrspine spine;
    int labelled;       /* levels named */
    char label_note[SP_ERROR_MESSAGE_MAX];
    mrlevel_measure level[MRSPINE_MAX_DISCS];
} mr_chain;

/* Run on a loaded series. `lowest` as for mrdisc_label (NULL: from the
 * sacrum, or from C2 when `cervical`). When levels cannot be named the chain still returns SP_OK with
 * labelled = 0 and the reason in label_note. */
sp_status mr_chain_run(const sp_volume *raw, const char *lowest,
                       int cervical, mr_chain *c, sp_error *err);
void mr_chain_free(mr_chain *c);

#endif
