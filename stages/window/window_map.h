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

/* The same mapping prepared once for many calls: with_table builds the
 * 64 K table for whole int16 values (same formula; skipped when out of
 * memory), worth it from about 256 K voxels. */
typedef struct sp_window_map {
    double lo, hi, c05, w1;
    float lo_f, hi_f; /* for a float x: x > lo exactly when x > lo_f */
    uint8_t *lut;
} sp_window_map;
void sp_window_map_init(sp_window_map *m, double center, double width,
                        int with_table);
void sp_window_map_apply(const sp_window_map *m, const float *in,
                         uint8_t *out, size_t n);
void sp_window_map_free(sp_window_map *m);

/* Values at the low and high percentiles (nearest rank) of the volume's
 * finite voxels, optionally without exact zeros; volumes above 4M voxels
 * are sampled on an even stride. */
sp_status sp_window_percentiles(sp_stage_context *ctx, const sp_volume *vol,
                                 double low_pct, double high_pct,
                                 int ignore_zero, double *low, double *high);

#endif
