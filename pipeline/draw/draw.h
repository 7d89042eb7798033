/* The drawing layer behind the canvas functions of the host table
 * (stage.h, ABI 1.1): cairo on an RGB24 surface, text in DejaVu Sans
 * loaded from a fixed file path through FreeType (never a fontconfig name
 * lookup), so every machine draws the same pixels. */
#ifndef SPINEPIPE_DRAW_H
#define SPINEPIPE_DRAW_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/stage.h"

/* The font file; the build may override it (-DSP_FONT_PATH). */
#ifndef SP_FONT_PATH
#define SP_FONT_PATH "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#endif

sp_status sp_canvas_new(int width, int height, uint32_t background,
                        sp_canvas **out, sp_error *err);
void sp_canvas_free(sp_canvas *c);
int sp_canvas_width(const sp_canvas *c);
int sp_canvas_height(const sp_canvas *c);
/* Row-major RGB, 3 bytes a pixel, into out (width * height * 3 bytes). */
void sp_canvas_rgb(const sp_canvas *c, uint8_t *out);

void sp_canvas_gray(sp_canvas *c, const uint8_t *gray, int w, int h,
                    double x, double y, double scale, int smooth);
void sp_canvas_mask(sp_canvas *c, const uint8_t *mask, int w, int h,
                    double x, double y, double scale, uint32_t fill,
                    uint32_t outline, double line_width);
void sp_canvas_line(sp_canvas *c, double x0, double y0, double x1,
                    double y1, double width, uint32_t rgba);
void sp_canvas_rect(sp_canvas *c, double x, double y, double w, double h,
                    uint32_t fill, uint32_t outline);
void sp_canvas_circle(sp_canvas *c, double x, double y, double r,
                      uint32_t fill, uint32_t outline);
double sp_canvas_text(sp_canvas *c, double x, double y, double size,
                      int align, uint32_t rgba, int halo, const char *utf8);
double sp_canvas_text_width(sp_canvas *c, double size, const char *utf8);
double sp_canvas_header_height(size_t n_lines, double size);
void sp_canvas_header(sp_canvas *c, const char *const *lines,
                      size_t n_lines, double size);
double sp_canvas_legend(sp_canvas *c, double x, double y, double max_width,
                        double size, const char *title,
                        const sp_legend_item *items, size_t n_items,
                        int measure_only);

#endif
