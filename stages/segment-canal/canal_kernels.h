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

#include "analysis.h"
#include "spine_model.h"

void canal_result_free(canal_result *r);

/* A plane perpendicular to the curve: point p, anterior a, lateral l. */
typedef struct canal_plane {
    const double *p, *a;
    double l[3];
} canal_plane;

/* Replace a found section's threshold outline by the sub-voxel one
 * (canal_edges.c): AP, width, area and the mask from rays stopped at the
 * steepest rise into the first wall, and where the arch is `open` also at
 * the steepest fall into fat (the dural sac, as the fill takes it there).
 * `smooth` is the smoothed HU volume, `spline` the same as a spline
 * (analysis_spline_new: the rays' profiles are read through it, so their
 * steepest point does not snap to the voxel grid), `ct` the unsmoothed
 * volume. */
void canal_refine_section(const sp_volume *ct, const sp_volume *smooth,
                          const analysis_spline *spline,
                          const canal_plane *pl,
                          int open, canal_section *cs);

/* Turn the curve's planes (tangent and anterior direction; not the
 * points) to the chords between consecutive bodies' centres across each
 * disc, blending back to each body's own tangent towards its middle
 * (canal_frames.c). Needs vert_describe's body sizes. The canal is traced
 * and measured in these planes; call it after the vertebrae's label map
 * and before canal_trace. */
void canal_align_frames(spine_model *model);

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
 * them into a vertebra. When `body` (the body/disc map of
 * segment-vertebrae) is given, body and disc end at the canal's front
 * (the posterior body wall). Returns the number of canal voxels. */
size_t canal_paint(const canal_result *r, const spine_curve *c,
                   sp_volume *labels, sp_volume *body);

#endif
