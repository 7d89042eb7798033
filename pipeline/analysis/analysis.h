/* spinepipe — shared helpers of the analysis stages (segment-bone,
 * segment-vertebrae, label-levels, segment-canal, measure): loading a CT
 * 3D connected components, morphology in millimetres, overlap scores,
 * reorientation. Static library `spinepipe_analysis`; it needs only
 * libspinepipe-base, so stage plugins link it (analysis_tools.h has the
 * helpers that need the core, for tests and tools).
 *
 * Masks are U8 volumes (0/1), label maps U16. All helpers take and return
 * volumes on the caller's grid; nothing here keeps global state. */
#ifndef SPINEPIPE_ANALYSIS_H
#define SPINEPIPE_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/error.h"
#include "spinepipe/volume.h"

/* 3D connected components of a nonzero mask (26-connectivity when `conn26`
 * is nonzero, else 6) by union-find. `labels` (U32 array of count voxels,
 * caller-allocated) receives 1..n per component, 0 for background;
 * `sizes` (malloc'd, n+1 entries, sizes[0] = 0) the voxel counts. Returns
 * the number of components, or -1 when out of memory. */
long analysis_components(const uint8_t *mask, const size_t dim[3],
                         int conn26, uint32_t *labels, size_t **sizes);

/* Binary dilation / erosion of a mask by a ball of radius `r_mm` (exact
 * Euclidean distance in mm, so anisotropic voxels are handled); a disc in
 * the i-j plane when `in_plane` is nonzero. In place. */
sp_status analysis_dilate(sp_volume *mask, double r_mm, int in_plane,
                          sp_error *err);
sp_status analysis_erode(sp_volume *mask, double r_mm, int in_plane,
                         sp_error *err);

/* Gaussian smoothing of an F32 volume, sigma in mm (per-axis voxels from
 * the spacing; axes where sigma is under 0.2 voxel are left alone).
 * Allocates dst. */
sp_status analysis_gaussian(const sp_volume *src, double sigma_mm,
                            sp_volume *dst, sp_error *err);

/* A smoothed F32 volume for sub-voxel edges: cubic B-spline coefficients
 * (mirror boundaries) along the axes the smoothing (sigma_mm) left
 * band-limited, linear along the others (thick slices). Trilinear
 * interpolation's slope is constant between voxel centres, so an edge
 * put at a profile's steepest point snaps to the voxel grid; the spline's
 * slope is continuous. */
typedef struct analysis_spline {
    sp_volume coef;
    int cubic[3]; /* per axis: 1 cubic, 0 linear */
} analysis_spline;
sp_status analysis_spline_new(const sp_volume *src, double sigma_mm,
                              analysis_spline *out, sp_error *err);
void analysis_spline_free(analysis_spline *s);
/* The interpolated value at grid-mm position g; `outside` beyond the
 * grid. */
double analysis_spline_sample(const analysis_spline *s, const double g[3],
                              double outside);

/* Working grid for large series: block means over integer factors chosen
 * per axis so voxels come close to `target_mm` (factor 1 where the input
 * is already coarser). Allocates dst; factor[] receives the factors. */
sp_status analysis_reduce(const sp_volume *src, double target_mm,
                          sp_volume *dst, int factor[3], sp_error *err);
/* Nearest-neighbour expansion of a label map computed on the reduced grid
 * back onto the grid of `like` (the input). Allocates dst. */
sp_status analysis_expand_labels(const sp_volume *small, const int factor[3],
                                 const sp_volume *like, sp_volume *dst,
                                 sp_error *err);

/* Fill holes in each axial (i-j) slice: background not connected to the
 * slice border (4-connectivity) becomes foreground. In place. */
sp_status analysis_fill_holes_2d(sp_volume *mask, sp_error *err);

/* Dice of (a == la) against (b == lb) over two label maps of the same
 * dims; la or lb < 0 means "any nonzero". Returns -1 when both are empty
 * or the dims differ. */
double analysis_dice_labels(const sp_volume *a, int la, const sp_volume *b,
                            int lb);

/* The k-th smallest of v[0..n-1] (k < n, n > 0, no NaN) in linear
 * expected time; v is reordered. */
float analysis_select_f32(float *v, size_t n, size_t k);
double analysis_select_f64(double *v, size_t n, size_t k);

/* Voxel-axis permutation and flips bringing a grid closest to L, P, S
 * (i left-right, j anterior-posterior, k feet-head): canonical axis a is
 * source axis src_axis[a], reversed when flip[a]. */
typedef struct analysis_axes {
    int src_axis[3];
    int flip[3];
} analysis_axes;
sp_status analysis_axes_lps(const sp_volume *src, analysis_axes *ax,
                            sp_error *err);
/* Copy of src in the canonical layout (same patient geometry). Allocates
 * dst. */
sp_status analysis_reorient(const sp_volume *src, const analysis_axes *ax,
                            sp_volume *dst, sp_error *err);
/* The inverse: a canonical-layout volume back onto the grid of `like`.
 * Allocates dst. */
sp_status analysis_reorient_back(const sp_volume *canon,
                                 const analysis_axes *ax,
                                 const sp_volume *like, sp_volume *dst,
                                 sp_error *err);

#endif
