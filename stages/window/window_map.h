/* The window mapping and robust percentiles, apart from the stage glue so
 * the stage's tests can check them directly. */
#ifndef SPINEPIPE_WINDOW_MAP_H
#define SPINEPIPE_WINDOW_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/stage.h"

/* DICOM linear VOI function to 0..255 (see window.c). width >= 1. */
uint8_t sp_window_value(float x, double center, double width);
void sp_window_apply(const float *in, uint8_t *out, size_t n, double center,
                     double width);

/* Values at the low and high percentiles (nearest rank) of the volume's
 * finite voxels, optionally without exact zeros; volumes above 4M voxels
 * are sampled on an even stride. */
sp_status sp_window_percentiles(sp_stage_context *ctx, const sp_volume *vol,
                                 double low_pct, double high_pct,
                                 int ignore_zero, double *low, double *high);

#endif
