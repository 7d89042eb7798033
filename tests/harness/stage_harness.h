/* A black-box harness for stages (STYLE.md pattern 5b): write a pipeline
 * config, load the stage modules from the build tree exactly as the CLI
 * does, and run it on one small volume with a fake header. The store, the
 * report and the output folder are kept for the test to inspect. */
#ifndef SPINEPIPE_STAGE_HARNESS_H
#define SPINEPIPE_STAGE_HARNESS_H

#include <stdint.h>

#include "engine/engine.h"

typedef struct harness {
    sp_registry *reg;
    sp_pipeline *pipe;
    sp_store *store;
    json_t *report;
    char *dir;        /* temporary folder: pipeline.ini and the outputs */
    char out[4096];   /* dir/out, the series output folder */
    sp_error err;
} harness;

/* Load the stages (build tree) into a fresh harness; asserts on failure. */
void harness_init(harness *h);
/* Write `config` to dir/pipeline.ini and load it. Returns the status. */
sp_status harness_load(harness *h, const char *config);
/* Run the loaded pipeline on `vol` (moved into the store). */
sp_status harness_run(harness *h, sp_volume *vol,
                      const sp_dicom_header *header);
/* The same with run flags (SP_RUN_*), as `spinepipe run` passes them. */
sp_status harness_run_flags(harness *h, sp_volume *vol,
                            const sp_dicom_header *header, uint32_t flags);
void harness_free(harness *h);
/* What the last run's run.json says consumed the artifact `name` (stage
 * ABI 1.3's take), or NULL; fails the test when run.json lists no such
 * artifact. */
const char *harness_consumed_by(const harness *h, const char *name);

/* A 3D F32 volume whose i, j, k axes point along the LPS unit vectors
 * `axis_i`, `axis_j` (k = i x j), with the given spacing and origin. */
void harness_volume(sp_volume *vol, size_t nx, size_t ny, size_t nz,
                    const double axis_i[3], const double axis_j[3],
                    const double spacing[3], const double origin[3]);

/* A PNG read back: 8-bit gray (channels 1) or RGB (3) pixels and its
 * text chunks. */
typedef struct harness_png {
    uint32_t width, height;
    uint32_t channels;
    uint8_t *pixels;
    size_t n_text;
    char **keys;
    char **values;
} harness_png;

void harness_png_read(const char *path, harness_png *png);
/* Value of a text chunk, or NULL. */
const char *harness_png_text(const harness_png *png, const char *key);
void harness_png_free(harness_png *png);

/* The DICOM linear VOI window (PS3.3 C.11.2.1.2.1) to 0..255, written out
 * independently of the window stage. */
uint8_t harness_window_value(double x, double center, double width);

/* Map every pixel of a png-stage image back into the F32 volume `hu`
 * through its spinepipe:origin_lps/right_lps/down_lps/pixel_mm chunks and
 * check it equals the window of the nearest voxel (images written with
 * interpolation = nearest). Pixels outside the volume or halfway between
 * two voxels are not checked. Returns how many pixels were checked. */
size_t harness_png_check_window(const harness_png *png, const sp_volume *hu,
                                double center, double width);

#endif
