/* Shared between draw.c (shapes) and draw_text.c (font, text). */
#ifndef SPINEPIPE_DRAW_INTERNAL_H
#define SPINEPIPE_DRAW_INTERNAL_H

#include <cairo.h>

#include "draw.h"

struct sp_canvas {
    cairo_surface_t *surface;
    cairo_t *cr;
    int width, height;
};

void draw_set_rgba(cairo_t *cr, uint32_t rgba);
/* The shared font face (created once per process); NULL with a reason
 * in err when the font file cannot be loaded. */
cairo_font_face_t *draw_font_face(sp_error *err);

#endif
