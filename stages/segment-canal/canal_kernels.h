/* Kernels of the `segment-canal` stage: the spinal canal traced in planes
 * perpendicular to the centre line, one every curve sample.
 *
 * In each plane the canal is the soft-tissue space behind the vertebral
 * body, flood-filled from a seed just behind the posterior body wall and
 * kept inside an ellipse around its own centre, so it cannot leak out
 * where the arch is open (disc levels, interlaminar gaps, the sacral
 * hiatus). Where no body is in the plane (discs) the seed comes from the
 * neighbouring planes. */
#ifndef SPINEPIPE_CANAL_KERNELS_H
#define SPINEPIPE_CANAL_KERNELS_H

#include <stdint.h>

#include "spine_model.h"

#define CANAL_GRID 64      /* plane sampled on CANAL_GRID^2 pixels */
#define CANAL_PIXEL_MM 0.75

typedef struct canal_section {
    int found;             /* 0: no canal in this plane */
    int seeded_from_body;  /* 1: seed found behind the body in this plane */
    double centre_u, centre_v; /* canal centroid in the plane (mm; v
                                  anterior from the curve, u lateral) */
    double area_mm2;       /* cross-sectional area in the plane */
    double ap_mm;          /* antero-posterior diameter through centroid */
    double width_mm;       /* left-right width through centroid */
    uint8_t mask[CANAL_GRID * CANAL_GRID]; /* pixel (x, y): u = (x - G/2)
                                  * px, v = v0 - y * px, v0 = centre_v of the
                                  grid (see canal_grid_v0) */
    double grid_v0;        /* v of pixel row 0 */
} canal_section;

typedef struct canal_result {
    size_t n;              /* = curve.n */
    canal_section *sec;
} canal_result;

void canal_result_free(canal_result *r);

/* Trace the canal along the curve. `ct` in HU, `spine` the column mask.
 * Needs vert_describe's body sizes (model->vert). */
sp_status canal_trace(const sp_volume *ct, const sp_volume *spine,
                      const spine_model *model, canal_result *out,
                      sp_error *err);

/* Whether grid-mm point g lies in the canal: projected onto the curve
 * sample `q` (as found by the caller) with in-plane offsets u, v. */
int canal_contains(const canal_result *r, size_t q, double u, double v);

/* Paint the canal into a label map (U16, the grid of the trace): voxels
 * in the canal become SP_LABEL_CANAL, also where the bone mask had filled
 * them into a vertebra. Returns the number of canal voxels. */
size_t canal_paint(const canal_result *r, const spine_curve *c,
                   sp_volume *labels);

#endif
