/* Reslicing a volume onto a display plane in patient orientation. */
#ifndef SPINEPIPE_RESLICE_H
#define SPINEPIPE_RESLICE_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/stage.h"

typedef enum { PLANE_AXIAL, PLANE_SAGITTAL, PLANE_CORONAL } plane_kind;

/* Radiological display convention, as LPS unit vectors:
 *   axial:    image right = patient left (+x), image down = posterior (+y)
 *   sagittal: image right = posterior (+y) (anterior on the left),
 *             image down = inferior (-z)
 *   coronal:  image right = patient left (+x), image down = inferior (-z)
 * normal = the LPS axis the plane is perpendicular to (+z, +x, +y). */
void plane_axes(plane_kind k, double right[3], double down[3],
                double normal[3]);
const char *plane_name(plane_kind k);
/* "left=R right=L top=A bottom=P" for the plane. */
const char *plane_orientation_label(plane_kind k);

typedef struct plane_grid {
    plane_kind kind;
    double right[3], down[3], normal[3];
    double pixel_mm;
    size_t width, height;
    double origin[3];  /* LPS centre of pixel (0, 0) on the mid plane */
    double n_min, n_max; /* extent of the volume along the normal (mm) */
} plane_grid;

/* Grid covering the volume's extent on plane `kind`, square pixels of
 * pixel_mm (0: the finest voxel spacing), made finer when the longer side
 * would be under min_size pixels (if auto) and coarser when it would
 * exceed max_size. */
void plane_grid_make(const sp_volume *vol, plane_kind kind, double pixel_mm,
                     size_t min_size, size_t max_size, plane_grid *g);

/* Voxel index of the plane's first pixel at offset n_mm along the
 * normal, and the voxel steps per pixel right (di) and down (dj). */
sp_status plane_voxel_steps(sp_stage_context *ctx, const sp_volume *vol,
                            const plane_grid *g, double n_mm, double i0[3],
                            double di[3], double dj[3]);

/* Sample `vol` (U8) at offset `n_mm` along the normal from the grid's
 * origin plane into out (width*height). Pixels outside the volume are 0.
 * `nearest` picks the nearest voxel, otherwise trilinear. */
sp_status plane_sample(sp_stage_context *ctx, const sp_volume *vol,
                       const plane_grid *g, double n_mm, int nearest,
                       uint8_t *out, double origin_out[3]);

#endif
