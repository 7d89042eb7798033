/* Resampling of the `resample` stage: a volume onto a new grid with the
 * same orientation and origin, new spacing. */
#ifndef SPINEPIPE_RESAMPLE_KERNEL_H
#define SPINEPIPE_RESAMPLE_KERNEL_H

#include <stddef.h>

#include "spinepipe/volume.h"

typedef enum resample_method {
    RESAMPLE_LINEAR,  /* trilinear; images (F32) */
    RESAMPLE_NEAREST  /* label maps and masks (any type) */
} resample_method;

/* Allocate `dst` on the grid that covers `src`'s extent with `spacing`
 * (mm per axis): same direction cosines, first voxel centre at src's,
 * dim = floor((n - 1) * old / new) + 1. */
sp_status resample_alloc_grid(const sp_volume *src, const double spacing[3],
                              sp_volume *dst, sp_error *err);

/* Fill the slices [k_begin, k_end) of dst from src. Linear works on F32;
 * nearest copies any voxel type. Samples outside src clamp to its border. */
void resample_fill(const sp_volume *src, sp_volume *dst,
                   resample_method method, size_t k_begin, size_t k_end);

#endif
