/* The synthetic lumbar spine phantom: T12..S1 with discs, canal, cord and
 * paraspinal tissue on a gently lordotic centre line, rendered as CT (HU)
 * or T2-weighted MR on a chosen grid, with a label map and the analytic
 * truth of every measurement the pipeline reports (docs/phantom.md).
 *
 * Output is a pure function of the parameters: the same parameters and
 * seed give the same voxels, labels, UIDs and files on any thread count. */
#ifndef SPINEPIPE_PHANTOM_H
#define SPINEPIPE_PHANTOM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "spinepipe/error.h"
#include "spinepipe/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SP_PHANTOM_VERTEBRAE = 7, SP_PHANTOM_LEVELS = 6 };

typedef enum sp_phantom_modality {
    SP_PHANTOM_CT,
    SP_PHANTOM_MR
} sp_phantom_modality;

typedef enum sp_phantom_plane {
    SP_PHANTOM_AXIAL,
    SP_PHANTOM_SAGITTAL,
    SP_PHANTOM_OBLIQUE /* axial plane tilted about the L-R axis */
} sp_phantom_plane;

typedef enum sp_phantom_side {
    SP_PHANTOM_CENTRAL,
    SP_PHANTOM_LEFT,
    SP_PHANTOM_RIGHT
} sp_phantom_side;

typedef struct sp_phantom_params {
    sp_phantom_modality modality;
    sp_phantom_plane plane;
    double tilt_deg;           /* oblique only: rotation about L-R */
    size_t matrix;             /* rows = columns */
    size_t slices;             /* 0: enough to cover the phantom */
    double pixel_mm;           /* in-plane spacing */
    double slice_mm;           /* slice thickness = spacing */
    double center_lps[3];      /* centre of the field of view */
    double noise_sd;           /* Gaussian (CT) / Rician (MR) noise SD */
    uint64_t seed;
    int supersample;           /* samples per axis in edge voxels */
    int threads;               /* 0: one per online CPU */
    double lordosis_mm;        /* centre-line offset 100 mm from apex */
    double canal_ap_default_mm;
    double canal_ap_mm[SP_PHANTOM_LEVELS];   /* 0: the default */
    double canal_width_mm;
    double herniation_mm[SP_PHANTOM_LEVELS]; /* 0: none */
    sp_phantom_side herniation_side[SP_PHANTOM_LEVELS];
    int cord;                  /* cord down to the conus at L1-L2 */
    int series_number;         /* 0: 1 for CT, 2 for MR */
} sp_phantom_params;

/* Names: vertebra v (0 = T12 .. 6 = S1), level l (0 = T12-L1 .. 5 = L5-S1)
 * and their contract label values, from spinepipe/labels.h. */
const char *sp_phantom_vertebra_name(int v);
int sp_phantom_vertebra_label(int v);
const char *sp_phantom_level_name(int l);
int sp_phantom_level_label(int l);
/* Index of a level name like "L4-L5", or -1. */
int sp_phantom_level_index(const char *name);

/* Defaults for a modality (CT: axial, MR: sagittal). */
void sp_phantom_defaults(sp_phantom_params *p, sp_phantom_modality modality);

/* Range checks; the message names the parameter and its allowed range. */
sp_status sp_phantom_validate(const sp_phantom_params *p, sp_error *err);

/* Render the image (F32: HU or T2 signal) and the label map (U16) on the
 * grid the parameters describe. Both are allocated here; the caller frees
 * them, also on failure (freeing zeroed volumes is a no-op). */
sp_status sp_phantom_render(const sp_phantom_params *p, sp_volume *image,
                            sp_volume *labels, sp_error *err);

/* The true measurements and the parameters as a JSON object (new
 * reference). `grid` is the rendered image, for its geometry. */
sp_status sp_phantom_truth(const sp_phantom_params *p, const sp_volume *grid,
                           json_t **truth, sp_error *err);

/* Render and write OUT/dicom/IMG*.dcm, OUT/truth_labels.nii.gz and
 * OUT/truth.json. */
sp_status sp_phantom_write(const sp_phantom_params *p, const char *out_dir,
                           sp_error *err);

#ifdef __cplusplus
}
#endif

#endif
