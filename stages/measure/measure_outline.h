/* The plane a level was measured in and the canal section measured
 * there, in patient LPS, so the key image shows what the numbers are of
 * (docs/report-json.md: canal_plane, canal_outline_mm). */
#ifndef SPINEPIPE_MEASURE_OUTLINE_H
#define SPINEPIPE_MEASURE_OUTLINE_H

#include <jansson.h>

#include "spine_model.h"

/* Unit LPS direction of a grid-mm direction d. */
void measure_direction_lps(const sp_volume *grid, const double d[3],
                           double out[3]);

/* Grid-mm point (u lateral, v anterior) of the plane at curve sample q,
 * as an LPS [x, y, z] array. */
json_t *measure_plane_point(const sp_volume *grid, const spine_curve *c,
                            size_t q, double u, double v);

/* {"lateral": [..], "anterior": [..]}: the plane at sample q (unit LPS
 * vectors; lateral = tangent x anterior, the canal mask's +u). */
json_t *measure_plane_json(const sp_volume *grid, const spine_curve *c,
                           size_t q);

/* The outline of section cs (in the plane at q) as a closed polygon of
 * LPS points, one per ray from its centroid; NULL when the mask is
 * empty. */
json_t *measure_canal_outline(const sp_volume *grid, const spine_curve *c,
                              size_t q, const canal_section *cs);

#endif
