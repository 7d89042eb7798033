/* evaluate-ct --phantom-sweep --dump DIR: each level's measuring plane as
 * a PNG (40 x 40 mm at 0.1 mm round the traced canal's centre): the
 * series' HU (window -60..120), the phantom's tissue edges in that plane
 * (blue), its true canal (CSF and cord, green), the traced outline (red)
 * and its points (yellow); and on stdout the true and traced areas in the
 * plane and the two radii every 15 degrees. */
#ifndef SPINEPIPE_PLANE_DUMP_H
#define SPINEPIPE_PLANE_DUMP_H

#include <jansson.h>

#include "phantom/phantom.h"
#include "spinepipe/volume.h"

/* Where a level's measuring plane lies on the phantom's own axis: the
 * traced canal's centre (the mean of its outline points) in axis
 * coordinates (u lateral, v from the centre line, s along it), how far s
 * changes per mm along the plane's lateral and anterior directions (0 in
 * a plane perpendicular to the axis) and the nearest disc's extent. */
typedef struct plane_axis {
    double s, u, v;
    double ds_lat, ds_ant;
    double disc_lo, disc_hi;
} plane_axis;

/* 1 when `lv` (a report.json level) has a canal outline and plane, else 0
 * (also when out of memory). */
int plane_on_axis(const sp_phantom_params *p, const json_t *lv,
                  plane_axis *pa);

/* `lv` is a report.json level (canal_outline_mm, canal_plane); `vol` the
 * series as read (HU). Nothing is written for a level without them. */
sp_status plane_dump(const sp_phantom_params *p, const sp_volume *vol,
                     const json_t *lv, const char *path, sp_error *err);

#endif
