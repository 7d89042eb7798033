/* Kernels of the `segment-bone` stage: a bone mask from CT and the
 * selection of the spinal column among the bone components.
 *
 * All distances are in millimetres and all thresholds in HU, so the kernels
 * behave the same on 0.7 mm and 3 mm grids. */
#ifndef SPINEPIPE_BONE_KERNELS_H
#define SPINEPIPE_BONE_KERNELS_H

#include "spinepipe/error.h"
#include "spinepipe/volume.h"

typedef struct bone_params {
    double seed_hu;     /* hysteresis: voxels >= this start bone */
    double grow_hu;     /* ... and bone grows through voxels >= this */
    double fill_min_hu; /* enclosed holes are filled only where >= this
                           on average over the enclosed region (marrow
                           yes, canal CSF and epidural fat no) */
    double fill_area_min_mm2; /* ... or whose area is in this range */
    double fill_area_max_mm2; /* (a body's marrow: larger than any canal,
                                 smaller than the pelvic ring) */
    double smooth_mm;   /* Gaussian sigma applied before thresholding */
    double rim_hu;      /* surface voxels darker than this are peeled off
                           (one layer; 0: never) ... */
    double rim_max_spacing_mm; /* ... on grids this fine only (on 3 mm
                                  voxels one layer is half a cortex) */
    double close_mm;    /* in-plane closing radius that seals cortex gaps
                           before enclosed regions are looked for */
} bone_params;

/* Defaults: 250 / 140 / 60 HU, 450-3000 mm2, sigma 0.75 mm, rim 200 HU
 * on grids of 2 mm and finer, closing 3 mm (cortex seeds, cancellous bone of older
 * patients at 3 mm partial volume still above 140, discs below). */
void bone_params_default(bone_params *p);

/* Bone mask (U8, allocated into `mask`, same grid as `ct`): hysteresis
 * threshold (26-connected growth from seeds), then per-slice filling of
 * enclosed regions (after an in-plane closing) that are dense enough. */
sp_status bone_mask(const sp_volume *ct, const bone_params *p,
                    sp_volume *mask, sp_error *err);

typedef struct bone_spine_info {
    long n_components;      /* bone components found */
    size_t spine_voxels;    /* voxels kept as spinal column */
    double z_extent_mm;     /* cranio-caudal extent of the kept column */
    double midline_x_mm;    /* patient L-R position of the column (LPS x) */
} bone_spine_info;

/* Keep only the spinal column in `mask` (in place): the bone component
 * with the most bone near the patient's mid-line summed over slices, then
 * cut lateral to the column (ribs, iliac wings) at `half_width_mm` from
 * the per-slice mid-line of the column and reduced again to the piece that
 * holds the column. SP_NOTANALYSABLE (with the reason) when there is no
 * bone column spanning at least `min_extent_mm`. */
sp_status bone_select_spine(const sp_volume *ct, sp_volume *mask,
                            double half_width_mm, double min_extent_mm,
                            bone_spine_info *info, sp_error *err);

#endif
