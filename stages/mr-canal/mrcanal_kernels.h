/* Kernels of the MR spine analysis on sagittal T2 (stage `mr-canal` and
 * the MR levels/measure steps that follow it).
 *
 * Every kernel works on the canonical layout of analysis_reorient (i left
 * to right, j anterior to posterior, k feet to head), on an image that went
 * through the bias kernels (shading removed, foreground median 100). */
#ifndef SPINEPIPE_MRCANAL_KERNELS_H
#define SPINEPIPE_MRCANAL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/error.h"
#include "spinepipe/volume.h"

typedef struct mrcanal_params {
    double slab_mm;       /* half-thickness of the mid-sagittal slab */
    double band_mm;       /* AP width averaged when tracing the column */
    double air_gap_mm;    /* the back's skin is at least this far behind */
    double skin_max_mm;   /* and at most this far (when in the picture) */
    double threshold;     /* CSF cut: tissue + threshold * (CSF - tissue) */
    double radius_mm;     /* canal voxels lie this close to the path */
    double min_contrast;  /* CSF at least this many times the tissue */
    double ridge_mm;      /* walls sampled this far in front and behind */
    double posterior_weight; /* brightness weighed by 1 - w + 2w * j/ny */
} mrcanal_params;

/* See mrcanal_segment.c for the values. */
void mrcanal_params_default(mrcanal_params *p);

typedef struct mrcanal_info {
    double csf_level;   /* median signal along the traced CSF column */
    double tissue_level;/* foreground median */
    size_t mid_i;       /* mid-sagittal slice (canal centre) */
    double *path_j;     /* per plane k: AP position (voxels) of the
                           column centre at mid_i; malloc'd, dim[2] */
    size_t voxels;
} mrcanal_info;

void mrcanal_info_free(mrcanal_info *info);

/* The spinal canal (dural sac: CSF and what it surrounds, cord and
 * roots) as a U8 mask. The CSF column is traced head to feet in the
 * mid-sagittal slab as the brightest continuous vertical band (dynamic
 * programming) that has no air close behind it (the subcutaneous fat
 * does); each axial plane then grows from the column over CSF-bright
 * signal within radius_mm and is filled between its walls. Allocates
 * canal. SP_NOTANALYSABLE when the column is not brighter than tissue. */
sp_status mrcanal_segment(const sp_volume *t2, const mrcanal_params *p,
                          sp_volume *canal, mrcanal_info *info,
                          sp_error *err);

#endif
