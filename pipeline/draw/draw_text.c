/* Text, header strip and legend. The font is DejaVu Sans from a fixed
 * file (SP_FONT_PATH), opened once per process through FreeType and
 * handed to cairo-ft; cairo locks the face around its own use, so one
 * face serves every thread. */
#include "draw_internal.h"

#include <cairo-ft.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

static pthread_once_t font_once = PTHREAD_ONCE_INIT;
static FT_Library ft_library;
static cairo_font_face_t *font_face;
static char font_error[256];

static void font_load(void)
{
    if (FT_Init_FreeType(&ft_library) != 0) {
        snprintf(font_error, sizeof font_error,
                 "FreeType failed to initialise");
        return;
    }
    FT_Face face;
    if (FT_New_Face(ft_library, SP_FONT_PATH, 0, &face) != 0) {
        snprintf(font_error, sizeof font_error,
                 "%s: cannot load the report font (install "
                 "fonts-dejavu-core, or build with -Dfont_path=FILE)",
                 SP_FONT_PATH);
        return;
    }
    cairo_font_face_t *ff = cairo_ft_font_face_create_for_ft_face(face, 0);
    if (cairo_font_face_status(ff) != CAIRO_STATUS_SUCCESS) {
        snprintf(font_error, sizeof font_error,
                 "%s: cairo cannot use this font", SP_FONT_PATH);
        cairo_font_face_destroy(ff);
        FT_Done_Face(face);
        return;
    }
    font_face = ff; /* kept for the life of the process */
}

cairo_font_face_t *draw_font_face(sp_error *err)
{
    pthread_once(&font_once, font_load);
    if (!font_face && err)
        sp_error_set(err, SP_NOINPUT, "%s", font_error);
    return font_face;
}

/* Same glyph rendering on every machine: grayscale antialiasing and no
 * hinting, whatever the system's font settings. */
static void use_font(cairo_t *cr, double size)
{
    cairo_set_font_face(cr, font_face);
    cairo_set_font_size(cr, size);
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
}

/* Text may come from DICOM headers: an invalid UTF-8 string would put the
 * cairo context into an error state and stop all later drawing, so
 * invalid bytes and control characters become '?'. */
static char *clean_text(const char *in)
{
    size_t len = strlen(in);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    while (*s) {
        size_t n = sp_utf8_sequence(s, SIZE_MAX);
        if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f))) {
            out[o++] = '?';
            s++;
            continue;
        }
        memcpy(out + o, s, n);
        o += n;
        s += n;
    }
    out[o] = 0;
    return out;
}

static double width_clean(sp_canvas *c, double size, const char *text)
{
    cairo_save(c->cr);
    use_font(c->cr, size);
    cairo_text_extents_t te;
    cairo_text_extents(c->cr, text, &te);
    cairo_restore(c->cr);
    return te.x_advance;
}

double sp_canvas_text_width(sp_canvas *c, double size, const char *utf8)
{
    if (!c || !utf8)
        return 0;
    char *t = clean_text(utf8);
    double w = t ? width_clean(c, size, t) : 0;
    free(t);
    return w;
}

double sp_canvas_text(sp_canvas *c, double x, double y, double size,
                      int align, uint32_t rgba, int halo, const char *utf8)
{
    if (!c || !utf8)
        return 0;
    char *text = clean_text(utf8);
    if (!text)
        return 0;
    cairo_t *cr = c->cr;
    double w = width_clean(c, size, text);
    if (align == SP_ALIGN_CENTER)
        x -= w / 2;
    else if (align == SP_ALIGN_RIGHT)
        x -= w;
    cairo_save(cr);
    use_font(cr, size);
    cairo_new_path(cr);
    cairo_move_to(cr, x, y);
    cairo_text_path(cr, text);
    if (halo) {
        cairo_set_source_rgba(cr, 0, 0, 0, 0.85);
        cairo_set_line_width(cr, size / 5 > 2 ? size / 5 : 2);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        cairo_stroke_preserve(cr);
    }
    draw_set_rgba(cr, rgba);
    cairo_fill(cr);
    cairo_restore(cr);
    free(text);
    return w;
}

double sp_canvas_header_height(size_t n_lines, double size)
{
    return size * 0.8 + (double)n_lines * size * 1.35;
}

void sp_canvas_header(sp_canvas *c, const char *const *lines,
                      size_t n_lines, double size)
{
    if (!c)
        return;
    double h = sp_canvas_header_height(n_lines, size);
    sp_canvas_rect(c, 0, 0, c->width, h, 0x181818ff, 0);
    sp_canvas_line(c, 0, h - 0.5, c->width, h - 0.5, 1, 0x606060ff);
    for (size_t i = 0; i < n_lines; i++) {
        int last = i + 1 == n_lines;
        sp_canvas_text(c, size * 0.5, size * 0.4 + (double)(i + 1) * size * 1.35 - size * 0.3,
                       size, SP_ALIGN_LEFT, last ? 0xffd84aff : 0xffffffff,
                       0, lines[i] ? lines[i] : "");
    }
}

double sp_canvas_legend(sp_canvas *c, double x, double y, double max_width,
                        double size, const char *title,
                        const sp_legend_item *items, size_t n_items,
                        int measure_only)
{
    if (!c)
        return 0;
    double row = size * 1.6, pad = size * 0.6, sw = size * 0.9;
    double cx = x + pad, baseline = y + pad + size;
    if (title) {
        if (!measure_only)
            sp_canvas_text(c, cx, baseline, size, SP_ALIGN_LEFT, 0xffffffff,
                           0, title);
        cx += sp_canvas_text_width(c, size, title) + pad * 2;
    }
    for (size_t i = 0; i < n_items; i++) {
        double w = sw + size * 0.4 + sp_canvas_text_width(c, size, items[i].text);
        if (cx + w > x + max_width - pad && cx > x + pad * 1.5) {
            cx = x + pad;
            baseline += row;
        }
        if (!measure_only) {
            sp_canvas_rect(c, cx, baseline - sw * 0.85, sw, sw,
                           items[i].rgba | 0xff, 0xffffffff);
            sp_canvas_text(c, cx + sw + size * 0.4, baseline, size,
                           SP_ALIGN_LEFT, 0xffffffff, 0, items[i].text);
        }
        cx += w + pad * 2;
    }
    return baseline - y + pad;
}
