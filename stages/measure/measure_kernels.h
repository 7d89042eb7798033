/* Kernels of the `measure` stage: per vertebra body heights and centroid,
 * per disc level disc height, disc height index, canal size in the plane
 * perpendicular to the canal, and posterior disc displacement.
 *
 * All from the spine model (centre line, endplates, named vertebrae) and
 * the canal sections, in millimetres; centroids in patient LPS. */
#ifndef SPINEPIPE_MEASURE_KERNELS_H
#define SPINEPIPE_MEASURE_KERNELS_H

#include "spine_model.h"

typedef struct measure_vertebra {
    int label;               /* 0 when the level is not named */
    int complete;            /* both endplates inside the image */
    double centroid_lps[3];
    double height_anterior_mm, height_middle_mm, height_posterior_mm;
} measure_vertebra;

typedef struct measure_level {
    int upper_label, lower_label; /* 0 when not named */
    char name[16];           /* "L4-L5", or "" when not named */
    double disc_height_mm;   /* endplate to endplate on the centre line */
    double disc_height_index; /* disc height / mean middle height of the
                                 two bodies (0 when one is incomplete) */
    int canal_found;
    double canal_ap_mm, canal_area_mm2; /* at the disc plane */
    double posterior_displacement_mm; /* disc margin in front of the line
                                         of the posterior body walls; > 0
                                         bulges into the canal */
    /* where that was measured, for the key image: the canal-mask column
       u (mm, lateral) of the disc plane and the canal front (v, mm,
       anterior) on the walls' line and at the disc */
    double displacement_u_mm, displacement_wall_v, displacement_disc_v;
} measure_level;

typedef struct measure_result {
    size_t n_vert, n_levels;
    measure_vertebra vert[SPINE_MAX_VERTEBRAE];
    measure_level level[SPINE_MAX_VERTEBRAE];
} measure_result;

/* `grid` is the volume whose grid the model is on (for LPS), `spine` the
 * column mask, `canal` may have n = 0 (no canal values then). */
sp_status measure_spine(const sp_volume *grid, const sp_volume *spine,
                        const spine_model *model, const canal_result *canal,
                        measure_result *out, sp_error *err);

#endif
