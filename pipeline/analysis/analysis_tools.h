/* spinepipe — helpers for the analysis kernels' tests and evaluation
 * tools only: they need the core (DICOM reader) or libpng, which stage
 * plugins must not link. Static library `spinepipe_analysis_tools`. */
#ifndef SPINEPIPE_ANALYSIS_TOOLS_H
#define SPINEPIPE_ANALYSIS_TOOLS_H

#include "analysis.h"

/* Load the series with the most slices found under `dir` as F32 (HU for
 * CT). Inits and cleans up the DICOM layer itself. */
sp_status analysis_load_series(const char *dir, sp_volume *vol,
                               sp_error *err);

/* Write a debug PNG of the sagittal plane i = `i_slice` of `image`
 * (window in HU) with `labels` (U16, may be NULL) coloured on top; rows are
 * scaled to mm so the picture is not squashed. */
sp_status analysis_debug_png(const sp_volume *image, const sp_volume *labels,
                             size_t i_slice, double wl, double ww,
                             const char *path, sp_error *err);

#endif
