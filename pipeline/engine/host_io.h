/* Host functions of ABI 1.1 that write or read files and draw (NIfTI,
 * canvas), kept apart from runner.c's lifecycle code. */
#ifndef SPINEPIPE_HOST_IO_H
#define SPINEPIPE_HOST_IO_H

#include "spinepipe/stage.h"

sp_status sp_host_nifti_write(sp_stage_context *ctx, const char *file,
                              const sp_volume *vol);
sp_status sp_host_nifti_read(sp_stage_context *ctx, const char *path,
                             int as_labels, sp_volume *vol);
sp_canvas *sp_host_canvas_new(sp_stage_context *ctx, int width, int height,
                              uint32_t background);
sp_status sp_host_write_canvas_png(sp_stage_context *ctx, const char *file,
                                   const sp_canvas *c,
                                   const sp_png_text *text, size_t n_text);

sp_status sp_host_write_json(sp_stage_context *ctx, const char *file,
                             const void *json);

#endif
