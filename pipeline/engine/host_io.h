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
void sp_host_canvas_free(sp_canvas *c);
void sp_host_canvas_gray(sp_canvas *c, const uint8_t *gray, int w, int h,
                         double x, double y, double scale, int smooth);
void sp_host_canvas_mask(sp_canvas *c, const uint8_t *mask, int w, int h,
                         double x, double y, double scale, uint32_t fill,
                         uint32_t outline, double line_width);
void sp_host_canvas_line(sp_canvas *c, double x0, double y0, double x1,
                         double y1, double width, uint32_t rgba);
void sp_host_canvas_rect(sp_canvas *c, double x, double y, double w,
                         double h, uint32_t fill, uint32_t outline);
void sp_host_canvas_circle(sp_canvas *c, double x, double y, double r,
                           uint32_t fill, uint32_t outline);
double sp_host_canvas_text(sp_canvas *c, double x, double y, double size,
                           int align, uint32_t rgba, int halo,
                           const char *utf8);
double sp_host_canvas_text_width(sp_canvas *c, double size,
                                 const char *utf8);
double sp_host_canvas_header_height(size_t n_lines, double size);
void sp_host_canvas_header(sp_canvas *c, const char *const *lines,
                           size_t n_lines, double size);
double sp_host_canvas_legend(sp_canvas *c, double x, double y,
                             double max_width, double size, const char *title,
                             const sp_legend_item *items, size_t n_items,
                             int measure_only);

sp_status sp_host_write_json(sp_stage_context *ctx, const char *file,
                             const void *json);

#endif
