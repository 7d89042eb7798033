/* What `mr_segment` hands to `mr_measure` besides the label map: the
 * series kind, the normalisation, the canal's CSF and tissue levels and
 * the disc model, as the table `mr.spine` (JSON, so it shows in run.json's
 * artifact list and any stage can read it). Coordinates are voxels of the
 * canonical layout (analysis_reorient) of the input volume. */
#ifndef SPINEPIPE_MR_MODEL_H
#define SPINEPIPE_MR_MODEL_H

#include <jansson.h>

#include "mrcanal_kernels.h"

typedef struct mr_model {
    char not_analysable[SP_ERROR_MESSAGE_MAX]; /* empty when analysed */
    int axial;                /* 1: axial series, no discs */
    double scale;             /* normalised image = input * scale */
    double csf_level, tissue_level;
    size_t mid_i;
    int labelled;             /* levels named */
    char label_note[SP_ERROR_MESSAGE_MAX];    /* why not, or how they were counted */
    mrspine spine;            /* wall_j has `nz` entries (malloc'd) */
} mr_model;

/* The table (a new reference). */
json_t *mr_model_to_json(const mr_model *m, size_t nz);
/* Read it back; nz is the canonical plane count (the wall array must
 * have it). Allocates m->spine.wall_j: free with mrspine_free. */
sp_status mr_model_from_json(const json_t *j, size_t nz, mr_model *m,
                             sp_error *err);

#endif
