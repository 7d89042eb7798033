/* spinepipe — the spine model the analysis stages hand to each other: the
 * spinal centre line through the vertebral bodies, the disc positions
 * along it, and per vertebra its extent and label.
 *
 * Coordinates are "grid millimetres": (i * sx, j * sy, k * sz) on the
 * image grid, an orthonormal frame for axial series; convert with
 * spine_grid_mm_to_lps for reports. The curve runs from caudal to cranial
 * ends of the imaged column with increasing k. */
#ifndef SPINEPIPE_SPINE_MODEL_H
#define SPINEPIPE_SPINE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/error.h"
#include "spinepipe/volume.h"

typedef struct spine_curve {
    size_t n;           /* samples, step_mm apart along the curve */
    double step_mm;
    double (*p)[3];     /* positions (grid mm) */
    double (*t)[3];     /* unit tangents, towards increasing k */
    double (*a)[3];     /* unit anterior direction, perpendicular to t */
    int cut_lo, cut_hi; /* the field of view cuts the column at the
                           lower-k / higher-k end */
} spine_curve;

#define SPINE_MAX_VERTEBRAE 32

typedef struct spine_vertebra {
    double s_lo, s_hi;  /* arc positions (mm) of the discs (or ends) that
                           bound it, s_lo on the lower-k side */
    int lo_is_disc, hi_is_disc; /* 0 when bounded by the end of the image */
    double body_lo, body_hi; /* arc positions of its endplates (the bright
                                rims next to the discs) */
    int label;          /* labels.h value once named, else 0 */
    double body_depth_mm; /* anterior wall to centre line, mm */
    double body_back_mm;  /* posterior wall to centre line, mm */
    double canal_gap_mm;  /* AP gap behind the body before the arch */
    int plausible;        /* body and canal of plausible size */
    size_t voxels;      /* voxels assigned */
    double centroid[3]; /* grid mm */
    double lateral_mm;  /* body half-width, mm */
    double lateral_limit_mm; /* when > 0, bone further than this from the
                                centre line left-right is not this
                                vertebra's (sacrum: the alae and ilium) */
} spine_vertebra;

typedef struct spine_model {
    spine_curve curve;
    size_t n_vert;      /* ordered by increasing k */
    spine_vertebra vert[SPINE_MAX_VERTEBRAE];
    double typical_level_mm; /* body + disc height, from the clear discs */
    int cranial_sign;   /* +1 when k increases towards the head */
    int labels_confident;
    char label_note[256];
} spine_model;

/* The spinal canal in planes perpendicular to the curve, one per curve
 * sample (segment-canal fills it; measure reads it). */
#define CANAL_GRID 64      /* plane sampled on CANAL_GRID^2 pixels */
#define CANAL_PIXEL_MM 0.75

typedef struct canal_section {
    int found;             /* 0: no canal in this plane */
    int seeded_from_body;  /* 1: seed found behind the body in this plane */
    double centre_u, centre_v; /* canal centroid in the plane (mm; v
                                  anterior from the curve, u lateral) */
    double area_mm2;       /* cross-sectional area in the plane */
    double ap_mm;          /* antero-posterior diameter through centroid */
    double ap_front_v, ap_back_v; /* its ends (v at u = centre_u) */
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

void spine_curve_free(spine_curve *c);
void spine_grid_mm_to_lps(const sp_volume *vol, const double g[3],
                          double lps[3]);
/* Whether the U8 mask's voxel nearest grid-mm point g is set; 0 outside
 * the grid. */
int spine_mask_at(const sp_volume *mask, const double g[3]);
/* Index of the curve sample nearest to arc position s (clamped). */
size_t spine_curve_at(const spine_curve *c, double s);
/* Median of value(v) over the vertebrae bounded by discs on both sides
 * (whole pieces, not cut by the image or the sacrum); 0 when there is none. */
double spine_inner_median(const spine_model *m,
                          double (*value)(const spine_vertebra *v));
/* Trilinear HU at grid-mm position g; `outside` beyond the grid. */
double spine_sample(const sp_volume *ct, const double g[3], double outside);

/* The lateral axis t x a of sample q's plane (the plane's third axis,
 * beside the tangent t and the anterior axis a). */
void spine_lateral(const spine_curve *c, size_t q, double l[3]);

/* Curve samples within reach_mm of height z (grid mm): [q_lo, q_hi). The
 * column runs along z, so a voxel's nearest sample is among these. */
void spine_window(const spine_curve *c, double z, double reach_mm,
                  size_t *q_lo, size_t *q_hi);
/* Nearest curve sample to g among [q_lo, q_hi) (non-empty), with g's
 * lateral (u) and anterior (v) offsets in that sample's plane. */
size_t spine_project(const spine_curve *c, size_t q_lo, size_t q_hi,
                     const double g[3], double *u, double *v);

#endif
