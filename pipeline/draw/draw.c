/* Canvas, images, masks and shapes (see draw.h). */
#include "draw_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void draw_set_rgba(cairo_t *cr, uint32_t rgba)
{
    cairo_set_source_rgba(cr, ((rgba >> 24) & 0xff) / 255.0,
                          ((rgba >> 16) & 0xff) / 255.0,
                          ((rgba >> 8) & 0xff) / 255.0, (rgba & 0xff) / 255.0);
}

sp_status sp_canvas_new(int width, int height, uint32_t background,
                        sp_canvas **out, sp_error *err)
{
    *out = NULL;
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384)
        return sp_error_set(err, SP_INTERNAL,
                            "canvas of %d x %d pixels: each side must be "
                            "1 to 16384",
                            width, height);
    if (!draw_font_face(err))
        return err->code;
    sp_canvas *c = calloc(1, sizeof *c);
    if (!c)
        return sp_error_set(err, SP_NOMEM, "out of memory for a canvas");
    c->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    c->cr = cairo_create(c->surface);
    if (cairo_status(c->cr) != CAIRO_STATUS_SUCCESS) {
        sp_canvas_free(c);
        return sp_error_set(err, SP_NOMEM,
                            "cannot create a %d x %d canvas: %s", width,
                            height, cairo_status_to_string(CAIRO_STATUS_NO_MEMORY));
    }
    c->width = width;
    c->height = height;
    draw_set_rgba(c->cr, background | 0xff);
    cairo_paint(c->cr);
    *out = c;
    return SP_OK;
}

void sp_canvas_free(sp_canvas *c)
{
    if (!c)
        return;
    if (c->cr)
        cairo_destroy(c->cr);
    if (c->surface)
        cairo_surface_destroy(c->surface);
    free(c);
}

int sp_canvas_width(const sp_canvas *c)
{
    return c ? c->width : 0;
}

int sp_canvas_height(const sp_canvas *c)
{
    return c ? c->height : 0;
}

void sp_canvas_rgb(const sp_canvas *c, uint8_t *out)
{
    cairo_surface_flush(c->surface);
    const unsigned char *d = cairo_image_surface_get_data(c->surface);
    int stride = cairo_image_surface_get_stride(c->surface);
    for (int y = 0; y < c->height; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(d + (size_t)y * (size_t)stride);
        for (int x = 0; x < c->width; x++) {
            uint32_t p = row[x];
            uint8_t *o = out + ((size_t)y * (size_t)c->width + (size_t)x) * 3;
            o[0] = (uint8_t)(p >> 16);
            o[1] = (uint8_t)(p >> 8);
            o[2] = (uint8_t)p;
        }
    }
}

/* An ARGB32 surface of w x h pixels filled by `pixel` (premultiplied). */
static cairo_surface_t *pixel_surface(int w, int h, const uint8_t *src,
                                      uint32_t (*pixel)(uint8_t, uint32_t),
                                      uint32_t arg)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        return s;
    cairo_surface_flush(s);
    unsigned char *d = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < h; y++) {
        uint32_t *row = (uint32_t *)(void *)(d + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++)
            row[x] = pixel(src[(size_t)y * (size_t)w + (size_t)x], arg);
    }
    cairo_surface_mark_dirty(s);
    return s;
}

static uint32_t gray_pixel(uint8_t v, uint32_t unused)
{
    (void)unused;
    return 0xff000000u | (uint32_t)v << 16 | (uint32_t)v << 8 | v;
}

static uint32_t mask_pixel(uint8_t v, uint32_t rgba)
{
    if (!v)
        return 0;
    uint32_t a = rgba & 0xff;
    uint32_t r = ((rgba >> 24) & 0xff) * a / 255;
    uint32_t g = ((rgba >> 16) & 0xff) * a / 255;
    uint32_t b = ((rgba >> 8) & 0xff) * a / 255;
    return a << 24 | r << 16 | g << 8 | b;
}

static void paint_scaled(sp_canvas *c, cairo_surface_t *s, double x,
                         double y, double scale, int smooth)
{
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, s, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr),
                             smooth ? CAIRO_FILTER_BILINEAR
                                    : CAIRO_FILTER_NEAREST);
    cairo_paint(cr);
    cairo_restore(cr);
}

void sp_canvas_gray(sp_canvas *c, const uint8_t *gray, int w, int h,
                    double x, double y, double scale, int smooth)
{
    if (!c || !gray || w <= 0 || h <= 0)
        return;
    cairo_surface_t *s = pixel_surface(w, h, gray, gray_pixel, 0);
    if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS)
        paint_scaled(c, s, x, y, scale, smooth);
    cairo_surface_destroy(s);
}

void sp_canvas_mask(sp_canvas *c, const uint8_t *mask, int w, int h,
                    double x, double y, double scale, uint32_t fill,
                    uint32_t outline, double line_width)
{
    if (!c || !mask || w <= 0 || h <= 0)
        return;
    if (fill & 0xff) {
        cairo_surface_t *s = pixel_surface(w, h, mask, mask_pixel, fill);
        if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS)
            paint_scaled(c, s, x, y, scale, 0);
        cairo_surface_destroy(s);
    }
    if (!(outline & 0xff))
        return;
    /* Every pixel edge between inside and outside, as one path. */
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_new_path(cr);
    for (int j = 0; j <= h; j++)
        for (int i = 0; i <= w; i++) {
            int in = i < w && j < h && mask[(size_t)j * (size_t)w + (size_t)i];
            int left = i > 0 && j < h && mask[(size_t)j * (size_t)w + (size_t)i - 1];
            int up = j > 0 && i < w && mask[(size_t)(j - 1) * (size_t)w + (size_t)i];
            double px = x + i * scale, py = y + j * scale;
            if (j < h && in != left) {
                cairo_move_to(cr, px, py);
                cairo_line_to(cr, px, py + scale);
            }
            if (i < w && in != up) {
                cairo_move_to(cr, px, py);
                cairo_line_to(cr, px + scale, py);
            }
        }
    draw_set_rgba(cr, outline);
    cairo_set_line_width(cr, line_width > 0 ? line_width : 1);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_SQUARE);
    cairo_stroke(cr);
    cairo_restore(cr);
}

void sp_canvas_line(sp_canvas *c, double x0, double y0, double x1,
                    double y1, double width, uint32_t rgba)
{
    if (!c)
        return;
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_set_line_width(cr, width > 0 ? width : 1);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    draw_set_rgba(cr, rgba);
    cairo_stroke(cr);
    cairo_restore(cr);
}

static void fill_and_stroke(cairo_t *cr, uint32_t fill, uint32_t outline)
{
    if (fill & 0xff) {
        draw_set_rgba(cr, fill);
        cairo_fill_preserve(cr);
    }
    if (outline & 0xff) {
        draw_set_rgba(cr, outline);
        cairo_set_line_width(cr, 1.5);
        cairo_stroke_preserve(cr);
    }
    cairo_new_path(cr);
}

void sp_canvas_rect(sp_canvas *c, double x, double y, double w, double h,
                    uint32_t fill, uint32_t outline)
{
    if (!c)
        return;
    cairo_save(c->cr);
    cairo_rectangle(c->cr, x, y, w, h);
    fill_and_stroke(c->cr, fill, outline);
    cairo_restore(c->cr);
}

void sp_canvas_circle(sp_canvas *c, double x, double y, double r,
                      uint32_t fill, uint32_t outline)
{
    if (!c)
        return;
    cairo_save(c->cr);
    cairo_new_path(c->cr);
    cairo_arc(c->cr, x, y, r, 0, 2 * M_PI);
    fill_and_stroke(c->cr, fill, outline);
    cairo_restore(c->cr);
}
