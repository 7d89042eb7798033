/* Kernels of the `segment-vertebrae` stage: the spinal centre line through
 * the vertebral bodies, the disc spaces along it, and the split of the
 * column into vertebrae (bodies, posterior elements) and discs.
 *
 * Everything is measured in millimetres along and across the curve, so a
 * 3 mm abdomen series and a 0.7 mm spine series are treated alike. */
#ifndef SPINEPIPE_VERTEBRAE_KERNELS_H
#define SPINEPIPE_VERTEBRAE_KERNELS_H

#include "spine_model.h"

/* Centre line of the vertebral bodies: per axial slice the anterior-most
 * filled run of column bone near the mid-line (a body cross-section),
 * then a robust local quadratic fit along z (follows lordosis), resampled
 * every 1 mm of arc length. `spine` is the U8 column mask of
 * segment-bone. SP_NOTANALYSABLE when fewer than `min_extent_mm` of body
 * cross-sections are found (no spine, or a skull: rings have no bodies). */
sp_status vert_centerline(const sp_volume *spine, double min_extent_mm,
                          spine_curve *curve, sp_error *err);

/* Profiles along the curve over a disc of radius `radius_mm`
 * perpendicular to it at every sample (curve->n values each): mean HU
 * (`hu`: bodies bright, discs dark, endplates brightest) and the fraction
 * of column-mask voxels (`bone`: filled bodies 1, discs 0). */
sp_status vert_profiles(const sp_volume *ct, const sp_volume *spine,
                        const spine_curve *curve, double radius_mm,
                        double *hu, double *bone, sp_error *err);

typedef struct vert_split_params {
    double min_score;    /* disc score: HU below the flanking endplates
                            plus 100 x (1 - bone fraction) */
    double strong_score; /* discs this clear set the typical level height */
    double min_gap_mm;   /* discs at least this far apart ... */
    double gap_fraction; /* ... and this fraction of the typical height */
} vert_split_params;

/* Defaults: 60, 120, 18 mm, 0.7. */
void vert_split_params_default(vert_split_params *p);

/* Disc spaces: minima of the HU profile flanked by brighter endplates
 * 4-10 mm away on both sides and with little filled bone, chosen by score
 * with a minimum distance learnt from the clearest discs (a dark body
 * interior, e.g. osteoporotic T12, is not a disc half a level away from
 * one). Vertebrae are the pieces between. Fills model->vert (s_lo, s_hi,
 * bounded flags), model->n_vert and model->typical_level_mm.
 * SP_NOTANALYSABLE when fewer than 2 vertebrae with a disc between them
 * are seen. */
sp_status vert_split(const double *hu, const double *bone,
                     const spine_curve *curve, const vert_split_params *par,
                     spine_model *model, sp_error *err);

/* Measure each vertebra across the curve (body depth to the anterior
 * wall, half-width, and the spinal canal behind the body) and check that
 * what was split looks like vertebrae: SP_NOTANALYSABLE unless at least
 * two of them have a body of plausible size with a canal behind it (a
 * skull or a phantom has rings, not bodies and canals). */
sp_status vert_describe(const sp_volume *spine, spine_model *model,
                        sp_error *err);

/* Label map (U16, allocated into `labels`): every column voxel gets the
 * index of its vertebra (1..n_vert, caudal first, or the vertebra's
 * `label` when it is set) by the disc planes perpendicular to the curve.
 * When `body` is not NULL it receives (U16) 1 for vertebral body and 2 for
 * disc voxels. Needs vert_describe first. Also fills each vertebra's
 * voxels and centroid. */
sp_status vert_label_map(const sp_volume *ct, const sp_volume *spine,
                         spine_model *model, sp_volume *labels,
                         sp_volume *body, sp_error *err);

/* Re-assign the arch voxels (zone 2) of a label map to the vertebra
 * whose body or pedicles (zone 1 voxels: they keep their labels and seed
 * the fronts) are nearest along the column mask (zones 1-2, 26-connected,
 * in mm), each front kept within its vertebra's arc range along the curve
 * (`arc`: the arc position of every zone 1-2 voxel). Zone 0 voxels keep
 * their labels and block the fronts; arch voxels no front reaches keep
 * theirs. */
sp_status vert_arch_flood(const uint8_t *zone, const float *arc,
                          const spine_model *model, sp_volume *labels,
                          sp_error *err);

/* Whether the arch of vertebra v (index) may reach arc position s. */
int vert_arch_reaches(const spine_model *model, int v, double s);

/* Fill the small regions (marrow of pedicles and processes) that one
 * vertebra's label encloses in an axial, coronal or sagittal plane. */
sp_status vert_fill_marrow(sp_volume *labels, const spine_model *model,
                           sp_error *err);

#endif
