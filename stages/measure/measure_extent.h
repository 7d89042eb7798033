/* How far round the disc the posterior displacement reaches: the disc's
 * posterior margin at the disc planes, column by column across the canal,
 * against the line of the adjacent bodies' posterior walls (Fardon 2014
 * judges a bulge against a herniation by the share of the circumference).
 * Both margins are found in the image (the fall from disc or bone to the
 * canal along each column, sub-pixel), not from the canal outline, whose
 * mask only says which columns face the canal. Only the part of the disc
 * margin that faces the canal is seen this way. */
#ifndef SPINEPIPE_MEASURE_EXTENT_H
#define SPINEPIPE_MEASURE_EXTENT_H

#include <jansson.h>

#include "spine_model.h"

typedef struct measure_extent {
    double max_mm;      /* largest displacement in the displaced run,
                           behind its baseline */
    double base_mm;     /* width of the displaced run holding max_mm */
    double extent_deg;  /* base as a share of the disc's circumference */
    int spans_canal;    /* the run covers (nearly) the whole canal front,
                           so its extent beyond the canal is unknown */
    char position[24];  /* "central", "left paracentral", ... or "" */
    /* where the run was found: plane q, columns start..start+run-1 of
       its canal mask (CANAL_PIXEL_MM wide, centred on u = (x - G/2) px),
       reference planes ql/qh; the run stands baseline_mm behind the
       walls' line (0 unless the whole inner front is displaced) */
    size_t q, ql, qh;
    int start, run;
    double baseline_mm;
    double wall_lo[3], wall_hi[3]; /* the bodies' posterior walls on the
                                      centre column (grid mm) */
    double ref_v;        /* v (mm, anterior) where their line crosses
                            plane q */
    double canal_hu, disc_hu; /* the levels the margin lies half way
                                 between */
    /* the mid-line displacement (the disc's margin behind the walls'
       line at the canal's centre column, median over the planes through
       the disc's middle), drawn in plane mid_q at u = mid_u from the
       walls' line at mid_wall_v; mid_found 0 when not seen */
    int mid_found;
    double mid_mm, mid_u, mid_wall_v;
    size_t mid_q;
} measure_extent;

/* For the disc between model->vert[v] and vert[v + 1], over the planes
 * through the middle of the disc (the most displaced one wins); `ct` is
 * the working grid in HU (a column with bone in front of its margin is an
 * endplate, not disc). Returns 0 when the bodies' walls or the disc
 * sections are not found; otherwise fills *e (base 0 when nothing is
 * displaced by `tolerance_mm`; the mid-line value when it is seen). */
int measure_displacement_extent(const sp_volume *ct,
                                const spine_model *m, const canal_result *r,
                                size_t v, double tolerance_mm,
                                measure_extent *e);

/* The displaced run of *e as a closed LPS polygon: the disc's front
 * across the run's columns and the baseline it stands behind, measured in
 * the run's plane (e->q, within 2 mm of the disc's middle) and written at
 * the same in-plane (u, v) in plane q_draw, the level's key-image plane,
 * so the picture and the SR's image coordinates hold them where they are
 * drawn; NULL when nothing was displaced. */
json_t *measure_extent_outline(const sp_volume *ct, const spine_model *m,
                               const measure_extent *e, size_t q_draw);

/* The run's most displaced column as [baseline point, disc margin point]
 * (LPS, written in plane q_draw as above): the two ends of e->max_mm;
 * NULL when nothing was displaced. */
json_t *measure_extent_caliper(const sp_volume *ct, const spine_model *m,
                               const measure_extent *e, size_t q_draw);

#endif
