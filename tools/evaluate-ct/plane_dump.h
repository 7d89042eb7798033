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

/* `lv` is a report.json level (canal_outline_mm, canal_plane); `vol` the
 * series as read (HU). Nothing is written for a level without them. */
sp_status plane_dump(const sp_phantom_params *p, const sp_volume *vol,
                     const json_t *lv, const char *path, sp_error *err);

#endif
