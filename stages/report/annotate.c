/* Pieces every report image shares: severities and colours, the header
 * strip's text, projections, orientation letters and the scale bar, PNG
 * text chunks. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "output/finding_text.h"
#include "report.h"

int level_canal_unjudged(const json_t *level)
{
    return json_is_false(json_object_get(level, "canal_judged"));
}

int level_severity(const json_t *level)
{
    int worst = sp_level_worst_rank(level);
    return worst <= 0 && level_canal_unjudged(level) ? -1 : worst;
}

uint32_t severity_colour(int severity)
{
    switch (severity) {
    case 0: return 0x3cc850ffu;
    case 1: return 0xffd200ffu;
    case 2: return 0xff8c00ffu;
    case 3: return 0xff3030ffu;
    default: return 0xa0a0a0ffu;
    }
}

void level_flags(const json_t *level, char *out, size_t size)
{
    size_t n = 0, i;
    const json_t *f;
    out[0] = 0;
    json_array_foreach(json_object_get(level, "findings"), i, f) {
        char words[160];
        sp_finding_text(f, words, sizeof words);
        if (!words[0] || sp_severity_rank(json_string_value(
                             json_object_get(f, "severity"))) <= 0)
            continue;
        int w = snprintf(out + n, size - n, "%s%s", n ? "; " : "", words);
        if (w < 0 || (size_t)w >= size - n)
            return;
        n += (size_t)w;
    }
    if (level_canal_unjudged(level))
        snprintf(out + n, size - n, "%scanal not judged", n ? "; " : "");
}

/* "20240131" -> "2024-01-31"; anything else is shown as it is. */
static void format_date(const char *d, char *out, size_t size)
{
    if (strlen(d) == 8 && strspn(d, "0123456789") == 8)
        snprintf(out, size, "%.4s-%.2s-%.2s", d, d + 4, d + 6);
    else
        snprintf(out, size, "%s", d[0] ? d : "unknown");
}

size_t header_lines(sp_stage_context *ctx, const report_input *in,
                    const char *what, const char *values, char buf[][200],
                    const char *lines[])
{
    const sp_dicom_header *h = ctx->header;
    size_t n = 0;
    if (in->anonymize || !h) {
        snprintf(buf[n], 200, "Patient ID: (anonymized)   Series: %d %s",
                 h ? h->series_number : 0, h ? h->series_description : "");
    } else {
        char date[32];
        format_date(h->study_date, date, sizeof date);
        snprintf(buf[n], 200, "Patient ID: %s   Study date: %s   Series: %d %s",
                 h->patient_id[0] ? h->patient_id : "unknown", date,
                 h->series_number, h->series_description);
    }
    n++;
    char window[64] = "";
    if (in->window)
        snprintf(window, sizeof window, "   Window W %.0f L %.0f (%s)",
                 json_real_value(json_object_get(in->window, "width")),
                 json_real_value(json_object_get(in->window, "center")),
                 json_string_value(json_object_get(in->window, "source"))
                     ? json_string_value(json_object_get(in->window, "source"))
                     : "");
    snprintf(buf[n++], 200, "%s   %s%s", what, h ? h->modality : "", window);
    if (values && values[0])
        snprintf(buf[n++], 200, "%s", values);
    snprintf(buf[n++], 200, "Research/triage aid. Not for diagnostic use.");
    for (size_t i = 0; i < n; i++)
        lines[i] = buf[i];
    return n;
}

double plane_project(const plane_grid *g, double n_mm, const double p[3],
                     double *x, double *y)
{
    double d[3];
    for (int r = 0; r < 3; r++)
        d[r] = p[r] - (g->origin[r] + n_mm * g->normal[r]);
    double u = d[0] * g->right[0] + d[1] * g->right[1] + d[2] * g->right[2];
    double v = d[0] * g->down[0] + d[1] * g->down[1] + d[2] * g->down[2];
    *x = u / g->pixel_mm + 0.5;
    *y = v / g->pixel_mm + 0.5;
    return d[0] * g->normal[0] + d[1] * g->normal[1] + d[2] * g->normal[2];
}

int json_point(const json_t *a, double p[3])
{
    if (!json_is_array(a) || json_array_size(a) != 3)
        return 0;
    for (size_t i = 0; i < 3; i++) {
        const json_t *v = json_array_get(a, i);
        if (!json_is_number(v))
            return 0;
        p[i] = json_number_value(v);
        if (!isfinite(p[i]))
            return 0;
    }
    return 1;
}

void occupied_add_kind(occupied *o, char kind, double x0, double y0,
                       double x1, double y1)
{
    if (o->n < sizeof o->box / sizeof o->box[0]) {
        o->kind[o->n] = kind;
        double *b = o->box[o->n++];
        b[0] = fmin(x0, x1), b[1] = fmin(y0, y1);
        b[2] = fmax(x0, x1), b[3] = fmax(y0, y1);
    }
}

void occupied_add(occupied *o, double x0, double y0, double x1, double y1)
{
    occupied_add_kind(o, 'm', x0, y0, x1, y1);
}

void occupied_add_text(occupied *o, sp_stage_context *ctx, sp_canvas *c,
                       double x, double y, double size, int align,
                       const char *text)
{
    double w = ctx->host->canvas_text_width(c, size, text);
    double left = align == SP_ALIGN_RIGHT    ? x - w
                  : align == SP_ALIGN_CENTER ? x - w / 2
                                             : x;
    occupied_add_kind(o, 't', left, y - size, left + w, y + size * 0.3);
}

/* Distance between box b and the nearest box of `o` (0 when they
 * overlap). */
static double clearance(const occupied *o, const double b[4])
{
    double best = INFINITY;
    for (size_t i = 0; i < o->n; i++) {
        const double *q = o->box[i];
        double dx = fmax(0, fmax(q[0] - b[2], b[0] - q[2]));
        double dy = fmax(0, fmax(q[1] - b[3], b[1] - q[3]));
        best = fmin(best, hypot(dx, dy));
    }
    return best;
}

/* One letter at its edge's middle, or the place along the edge nearest
 * to it that keeps one and a half letter heights clear of `used`, else
 * the clearest one (dx, dy: the edge's direction; the letter stays inside
 * lo..hi of that coordinate). */
static void place_letter(sp_stage_context *ctx, sp_canvas *c, double x,
                         double y, int align, double s, double dx, double dy,
                         double lo, double hi, const char *letter,
                         occupied *used)
{
    double w = ctx->host->canvas_text_width(c, s, letter);
    double step = s * 0.4, px = x, py = y, best = -1, box[4] = {0};
    for (int k = 0; k <= 120; k++) {
        double off = (k % 2 ? 1 : -1) * ((k + 1) / 2) * step;
        double cx = x + dx * off, cy = y + dy * off;
        double left = align == SP_ALIGN_RIGHT    ? cx - w
                      : align == SP_ALIGN_CENTER ? cx - w / 2
                                                 : cx;
        double b[4] = {left, cy - s * 0.75, left + w, cy};
        double along = dx != 0 ? cx : cy - s / 2;
        if (along - s < lo || along + s > hi)
            continue;
        double clear = clearance(used, b);
        if (clear > best + 1e-9) {
            best = clear, px = cx, py = cy;
            memcpy(box, b, sizeof box);
        }
        if (clear >= 1.5 * s)
            break;
    }
    ctx->host->canvas_text(c, px, py, s, align, COL_TEXT, 1, letter);
    occupied_add_kind(used, 'o', box[0], box[1], box[2], box[3]);
}

void draw_orientation(sp_stage_context *ctx, sp_canvas *c, double x0,
                      double y0, double w, double h, const char *letters,
                      double pixel_mm, double font_size, occupied *used)
{
    const sp_host_api *H = ctx->host;
    char l[2] = {letters[0], 0}, r[2] = {letters[1], 0};
    char t[2] = {letters[2], 0}, b[2] = {letters[3], 0};
    double s = font_size * 1.3, m = font_size * 0.5;
    /* Scale bar: the longest of 100, 50, 20, 10 mm that fits in a third
     * of the width; placed first, so the letters keep clear of it. */
    double mm = 10;
    for (double cand = 100; cand > 10; cand /= cand == 100 ? 2 : 2.5)
        if (cand <= w * pixel_mm / 3) {
            mm = cand;
            break;
        }
    double len = mm / pixel_mm, bx = x0 + font_size * 2.5,
           by = y0 + h - m * 2;
    char label[16];
    snprintf(label, sizeof label, "%g mm", mm);
    double lw = H->canvas_text_width(c, font_size, label);
    occupied_add_kind(used, 's', fmin(bx, bx + len / 2 - lw / 2),
                      by - 8 - font_size * 0.75, fmax(bx + len,
                                                      bx + len / 2 + lw / 2),
                      by + 5);
    place_letter(ctx, c, x0 + m, y0 + h / 2 + s / 2, SP_ALIGN_LEFT, s, 0, 1,
                 y0, y0 + h, l, used);
    place_letter(ctx, c, x0 + w - m, y0 + h / 2 + s / 2, SP_ALIGN_RIGHT, s,
                 0, 1, y0, y0 + h, r, used);
    place_letter(ctx, c, x0 + w / 2, y0 + m + s, SP_ALIGN_CENTER, s, 1, 0,
                 x0, x0 + w, t, used);
    place_letter(ctx, c, x0 + w / 2, y0 + h - m, SP_ALIGN_CENTER, s, 1, 0,
                 x0, x0 + w, b, used);
    H->canvas_line(c, bx, by, bx + len, by, 5, 0x000000c0);
    H->canvas_line(c, bx, by, bx + len, by, 3, COL_TEXT);
    H->canvas_line(c, bx, by - 5, bx, by + 5, 2, COL_TEXT);
    H->canvas_line(c, bx + len, by - 5, bx + len, by + 5, 2, COL_TEXT);
    H->canvas_text(c, bx + len / 2, by - 8, font_size, SP_ALIGN_CENTER,
                   COL_TEXT, 1, label);
    H->canvas_rect(c, x0 + 0.5, y0 + 0.5, w - 1, h - 1, 0, 0x505050ffu);
}

double header_width(sp_stage_context *ctx, const char *const *lines,
                    size_t n, double font_size)
{
    sp_canvas *probe = ctx->host->canvas_new(ctx, 1, 1, 0x000000ffu);
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double t = ctx->host->canvas_text_width(probe, font_size, lines[i]);
        if (t > w)
            w = t;
    }
    ctx->host->canvas_free(probe);
    return ceil(w + font_size);
}

double legend_height(sp_stage_context *ctx, double width, double size,
                     const sp_legend_item *items, size_t n)
{
    sp_canvas *probe = ctx->host->canvas_new(ctx, 1, 1, 0x000000ffu);
    double h = ctx->host->canvas_legend(probe, 0, 0, width, size, "Legend:",
                                        items, n, 1);
    ctx->host->canvas_free(probe);
    return h;
}

void report_text_add(report_text *t, const char *key, const char *fmt, ...)
{
    if (t->n == sizeof t->items / sizeof t->items[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->values[t->n], sizeof t->values[0], fmt, ap);
    va_end(ap);
    t->items[t->n].key = key;
    t->items[t->n].value = t->values[t->n];
    t->n++;
}

void report_text_common(sp_stage_context *ctx, const report_input *in,
                        report_text *t)
{
    const sp_dicom_header *h = ctx->header;
    t->n = 0;
    report_text_add(t, "Software", "spinepipe report stage 1.0.0");
    report_text_add(t, "Disclaimer",
                    "Research/triage aid. Not for diagnostic use.");
    if (h) {
        report_text_add(t, "Description", "%s", h->series_description);
        report_text_add(t, "spinepipe:modality", "%s", h->modality);
        if (!in->anonymize) {
            report_text_add(t, "spinepipe:patient_id", "%s", h->patient_id);
            report_text_add(t, "spinepipe:study_date", "%s", h->study_date);
            report_text_add(t, "spinepipe:series_uid", "%s", h->series_uid);
        }
    }
    report_text_add(t, "spinepipe:anonymized", "%s",
                    in->anonymize ? "yes" : "no");
}

void report_text_plane(report_text *t, const plane_grid *g, double n_mm,
                       double image_x, double image_y)
{
    double o[3];
    for (int r = 0; r < 3; r++)
        o[r] = g->origin[r] + n_mm * g->normal[r];
    /* a key image in the measured plane is tilted off its kind's axes */
    double r0[3], d0[3], n0[3], off = 0;
    plane_axes(g->kind, r0, d0, n0);
    for (int r = 0; r < 3; r++)
        off += fabs(g->right[r] - r0[r]) + fabs(g->down[r] - d0[r]);
    report_text_add(t, "spinepipe:plane", "%s",
                    off > 1e-9 ? "oblique" : plane_name(g->kind));
    report_text_add(t, "spinepipe:pixel_mm", "%.17g", g->pixel_mm);
    report_text_add(t, "spinepipe:origin_lps", "%.17g %.17g %.17g", o[0], o[1],
                    o[2]);
    report_text_add(t, "spinepipe:right_lps", "%g %g %g", g->right[0],
                    g->right[1], g->right[2]);
    report_text_add(t, "spinepipe:down_lps", "%g %g %g", g->down[0],
                    g->down[1], g->down[2]);
    report_text_add(t, "spinepipe:image_offset_px", "%g %g", image_x,
                    image_y);
    report_text_add(t, "spinepipe:image_size_px", "%zu %zu", g->width,
                    g->height);
}

void report_text_layout(report_text *t, const occupied *used)
{
    if (t->n == sizeof t->items / sizeof t->items[0])
        return;
    size_t len = 0;
    t->layout[0] = 0;
    for (size_t i = 0; i < used->n; i++) {
        const double *b = used->box[i];
        int n = snprintf(t->layout + len, sizeof t->layout - len,
                         "%s%c %.1f %.1f %.1f %.1f", i ? ";" : "",
                         used->kind[i], b[0], b[1], b[2], b[3]);
        if (n < 0 || (size_t)n >= sizeof t->layout - len) {
            t->layout[len] = 0;
            break;
        }
        len += (size_t)n;
    }
    t->items[t->n].key = "spinepipe:layout";
    t->items[t->n].value = t->layout;
    t->n++;
}
