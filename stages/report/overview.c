/* The overview: the mid-sagittal image (anterior left, head up, square
 * pixels) with the header strip, orientation letters and a scale bar, and
 * when analysis stages ran: vertebrae and discs tinted and outlined,
 * vertebra labels beside each body, the canal outline, and one
 * colour-coded marker per disc level with its values, plus a legend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/finding_text.h"
#include "report.h"

/* Vertebra label of "L4", "T12", "C7", "S1" (CONTRACTS.md values). */
static int vertebra_label(const char *s, size_t len)
{
    if (len < 2 || len > 3)
        return 0;
    char buf[4] = {0};
    memcpy(buf, s, len);
    int n = atoi(buf + 1);
    switch (buf[0]) {
    case 'C': return n >= 1 && n <= 7 ? n : 0;
    case 'T': return n >= 1 && n <= 12 ? 7 + n : 0;
    case 'L': return n >= 1 && n <= 6 ? 19 + n : 0;
    case 'S': return n == 1 ? 26 : 0;
    default: return 0;
    }
}

int disc_label_of_level(const char *level)
{
    const char *dash = level ? strchr(level, '-') : NULL;
    int v = dash ? vertebra_label(level, (size_t)(dash - level)) : 0;
    return v && v < 26 ? 100 + v : 0;
}

static const char *vertebra_name(int v, char *buf, size_t size)
{
    if (v >= 1 && v <= 7)
        snprintf(buf, size, "C%d", v);
    else if (v >= 8 && v <= 19)
        snprintf(buf, size, "T%d", v - 7);
    else if (v >= 20 && v <= 25)
        snprintf(buf, size, "L%d", v - 19);
    else if (v == 26)
        snprintf(buf, size, "S1");
    else
        return NULL;
    return buf;
}

/* Pixel bounding box and mean row of label `v` in a slice; 0 if absent. */
static int label_box(const uint16_t *s, size_t w, size_t h, int v,
                     double *xmin, double *xmax, double *ymean)
{
    size_t n = 0;
    double sy = 0;
    *xmin = INFINITY;
    *xmax = -INFINITY;
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++)
            if (s[y * w + x] == v) {
                n++;
                sy += (double)y;
                *xmin = fmin(*xmin, (double)x);
                *xmax = fmax(*xmax, (double)x + 1);
            }
    if (n < 4)
        return 0;
    *ymean = sy / (double)n + 0.5;
    return 1;
}

static void draw_labels(sp_stage_context *ctx, sp_canvas *c,
                        const sp_volume *labels, const uint16_t *s,
                        const plane_grid *g, double n_mm, double left,
                        double top, double font, occupied *used)
{
    const sp_host_api *H = ctx->host;
    uint8_t *m = H->scratch_alloc(ctx, g->width * g->height);
    if (!m)
        return;
    int w = (int)g->width, h = (int)g->height;
    if (label_mask(ctx, labels, g, n_mm, 1, 26, m) == SP_OK)
        H->canvas_mask(c, m, w, h, left, top, 1, COL_VERTEBRA_FILL,
                       COL_VERTEBRA_LINE, 1.5);
    if (label_mask(ctx, labels, g, n_mm, 101, 126, m) == SP_OK)
        H->canvas_mask(c, m, w, h, left, top, 1, COL_DISC_FILL, COL_DISC_LINE,
                       1.5);
    if (label_mask(ctx, labels, g, n_mm, 201, 202, m) == SP_OK)
        H->canvas_mask(c, m, w, h, left, top, 1, 0, COL_CANAL_LINE, 2);
    for (int v = 1; v <= 26; v++) {
        double x0, x1, y;
        char name[8];
        if (!label_box(s, g->width, g->height, v, &x0, &x1, &y) ||
            !vertebra_name(v, name, sizeof name))
            continue;
        /* Beside the body, on its anterior (left) side; inside the image
         * when the body touches the left edge. */
        int inside = x0 < font * 2.5;
        double tx = left + (inside ? x0 + 4 : x0 - 6), ty = top + y + font * 0.4;
        int align = inside ? SP_ALIGN_LEFT : SP_ALIGN_RIGHT;
        H->canvas_text(c, tx, ty, font * 1.15, align, COL_TEXT, 1, name);
        occupied_add_text(used, ctx, c, tx, ty, font * 1.15, align, name);
    }
}

static double json_num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* "AP 8.0 mm  98 mm²" for a level. */
static void level_values(const json_t *lv, char *out, size_t size)
{
    double ap = json_num(lv, "canal_ap_mm"),
           area = json_num(lv, "canal_area_mm2");
    size_t n = 0;
    out[0] = 0;
    if (isfinite(ap))
        n += (size_t)snprintf(out + n, size - n, "AP %.1f mm", ap);
    if (isfinite(area) && n < size)
        snprintf(out + n, size - n, "%s%.0f mm\u00b2", n ? "  " : "", area);
}

/* The two text lines beside a level's marker: its values, and what is
 * flagged in words (without findings, a displacement). */
static void level_texts(const json_t *lv, char *values, char *flags,
                        size_t size)
{
    level_values(lv, values, size);
    level_flags(lv, flags, size);
    double disp = json_num(lv, "posterior_displacement_mm");
    if (!flags[0] && !json_object_get(lv, "findings") && isfinite(disp) &&
        disp > 0)
        snprintf(flags, size, "disc displaced %.1f mm", disp);
}

/* Width of the level column right of the image: the widest marker text
 * decides it, so long findings are never cut off at the canvas edge. */
static double level_column_width(sp_stage_context *ctx, const json_t *table,
                                 double font)
{
    sp_canvas *probe = ctx->host->canvas_new(ctx, 1, 1, 0x000000ffu);
    double w = font * 15;
    if (!probe)
        return w;
    size_t i;
    const json_t *lv;
    json_array_foreach(json_object_get(table, "levels"), i, lv) {
        const char *name = json_string_value(json_object_get(lv, "level"));
        char values[96], flags[96];
        level_texts(lv, values, flags, sizeof values);
        double t = fmax(name ? ctx->host->canvas_text_width(probe, font * 1.1,
                                                            name)
                             : 0,
                        fmax(ctx->host->canvas_text_width(probe, font * 0.9,
                                                          values),
                             ctx->host->canvas_text_width(probe, font * 0.9,
                                                          flags)));
        /* marker at 16 px, text one font size right of it, then a pad */
        w = fmax(w, 16 + 2 * font + t);
    }
    ctx->host->canvas_free(probe);
    return ceil(w);
}

/* Where a level's disc is in the slice: its labelled pixels, else the
 * table's disc_centroid_mm. */
static int level_position(const json_t *lv, const uint16_t *s,
                          const plane_grid *g, double n_mm, double *x,
                          double *y)
{
    int disc = disc_label_of_level(json_string_value(json_object_get(lv, "level")));
    double x0, x1;
    if (s && disc && label_box(s, g->width, g->height, disc, &x0, &x1, y)) {
        *x = x1;
        return 1;
    }
    double p[3];
    if (!json_point(json_object_get(lv, "disc_centroid_mm"), p))
        return 0;
    plane_project(g, n_mm, p, x, y);
    *x += 20 / g->pixel_mm; /* about the disc's posterior edge */
    return 1;
}

static void draw_levels(sp_stage_context *ctx, sp_canvas *c,
                        const report_input *in, const uint16_t *s,
                        const plane_grid *g, double n_mm, double top,
                        double margin_x, double font, occupied *used)
{
    const sp_host_api *H = ctx->host;
    size_t i;
    const json_t *lv;
    json_array_foreach(json_object_get(in->table, "levels"), i, lv) {
        const char *name = json_string_value(json_object_get(lv, "level"));
        double x, y;
        if (!name || !level_position(lv, s, g, n_mm, &x, &y))
            continue;
        y += top;
        int sev = level_severity(lv);
        uint32_t col = severity_colour(sev);
        H->canvas_line(c, x, y, margin_x + 8, y, 1.5, (col & 0xffffff00u) | 0x90);
        occupied_add(used, x, y - 1, margin_x + 8, y + 1);
        H->canvas_circle(c, margin_x + 16, y, font * 0.5, col, 0x000000ffu);
        double tx = margin_x + 16 + font;
        H->canvas_text(c, tx, y - 2, font * 1.1, SP_ALIGN_LEFT, COL_TEXT, 1,
                       name);
        char values[96], flags[96];
        level_texts(lv, values, flags, sizeof values);
        H->canvas_text(c, tx, y + font * 1.1, font * 0.9, SP_ALIGN_LEFT,
                       col, 1, values);
        if (flags[0])
            H->canvas_text(c, tx, y + font * 2.2, font * 0.9, SP_ALIGN_LEFT,
                           col, 1, flags);
    }
}

/* Offset along the plane normal of the mid-sagittal plane: the median x
 * of the vertebra centroids when analysis found them, else the middle. */
static double sagittal_offset(const report_input *in, const plane_grid *g)
{
    double xs[64];
    size_t n = 0, i;
    const json_t *v;
    json_array_foreach(json_object_get(in->table, "vertebrae"), i, v) {
        double p[3];
        if (n < 64 && json_point(json_object_get(v, "centroid_mm"), p))
            xs[n++] = p[0];
    }
    if (n == 0)
        return 0;
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && xs[b - 1] > xs[b]; b--) {
            double t = xs[b];
            xs[b] = xs[b - 1];
            xs[b - 1] = t;
        }
    double x = n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
    return (x - g->origin[0]) * g->normal[0];
}

static int any_canal_unjudged(const json_t *table)
{
    size_t i;
    const json_t *lv;
    json_array_foreach(json_object_get(table, "levels"), i, lv)
        if (level_canal_unjudged(lv))
            return 1;
    return 0;
}

static void summary(const report_input *in, char *out, size_t size)
{
    const json_t *levels = json_object_get(in->table, "levels");
    if (!in->table) {
        snprintf(out, size, "No analysis in this pipeline: image only");
        return;
    }
    /* "0 level(s) measured, none flagged" would read as a normal spine;
     * the reasons are sentences too long for the header: report.json */
    if (json_is_string(json_object_get(in->table, "not_analysable"))) {
        snprintf(out, size, "Not analysable (the reason is in report.json)");
        return;
    }
    if (json_array_size(levels) == 0) {
        snprintf(out, size, "No levels measured (see the warnings in "
                            "report.json)");
        return;
    }
    size_t n = 0, i, flagged = 0;
    const json_t *lv;
    out[0] = 0;
    json_array_foreach(levels, i, lv) {
        int s = level_severity(lv);
        const char *name = json_string_value(json_object_get(lv, "level"));
        if (s > 0 && name && n < size) {
            n += (size_t)snprintf(out + n, size - n, "%s%s %s",
                                  flagged ? ", " : "Flagged: ", name,
                                  sp_severity_words(s));
            flagged++;
        }
    }
    size_t unjudged = 0;
    json_array_foreach(levels, i, lv)
        unjudged += (size_t)level_canal_unjudged(lv);
    if (!flagged)
        n = (size_t)snprintf(out, size, "%zu level(s) measured, none flagged",
                             json_array_size(levels));
    if (unjudged && n < size)
        snprintf(out + n, size - n, "; canal not judged at %zu (see "
                 "report.json)", unjudged);
}

sp_status draw_overview(sp_stage_context *ctx, const report_options *o,
                        const report_input *in, json_t *images)
{
    const sp_host_api *H = ctx->host;
    plane_grid g;
    plane_grid_make(in->view, PLANE_SAGITTAL, 0, (size_t)o->min_size, 1400,
                    &g);
    double n_mm = sagittal_offset(in, &g);
    /* A thin axial slab makes a sagittal sliver no one can read: show the
     * middle axial slice instead, and say so. */
    int axial = g.height * 3 < g.width;
    if (axial) {
        plane_grid_make(in->view, PLANE_AXIAL, 0, (size_t)o->min_size, 1400,
                        &g);
        n_mm = 0;
    }
    size_t npx = g.width * g.height;
    uint8_t *gray = H->scratch_alloc(ctx, npx);
    uint16_t *lab = in->labels ? H->scratch_alloc(ctx, npx * 2) : NULL;
    if (!gray || (in->labels && !lab))
        return SP_NOMEM;
    double origin[3];
    sp_status st = plane_sample(ctx, in->view, &g, n_mm, 0, gray, origin);
    if (st == SP_OK && lab)
        st = label_slice(ctx, in->labels, &g, n_mm, lab);
    if (st != SP_OK)
        return st;

    double font = o->font_size;
    char buf[4][200], values[200];
    const char *lines[4];
    summary(in, values, sizeof values);
    size_t n_lines = header_lines(
        ctx, in,
        axial ? "Overview: mid-axial (too little height for a sagittal view)"
              : "Overview: mid-sagittal",
        values, buf, lines);
    double top = ceil(H->canvas_header_height(n_lines, font));
    /* The level column only when there are levels to list in it. */
    double margin =
        json_array_size(json_object_get(in->table, "levels")) > 0
            ? level_column_width(ctx, in->table, font)
            : 0;
    int width = (int)fmax((double)g.width + margin,
                          header_width(ctx, lines, n_lines, font));
    sp_legend_item items[8];
    size_t n = 0;
    /* Only what the image shows: a legend entry for structures that are
     * not there would send the reader looking for them. */
    if (margin > 0)
        for (int s = 0; s <= 3; s++)
            items[n++] = (sp_legend_item){severity_colour(s),
                                          sp_severity_words(s)};
    if (margin > 0 && any_canal_unjudged(in->table))
        items[n++] = (sp_legend_item){severity_colour(-1), "not judged"};
    int shown[3] = {0, 0, 0}; /* vertebra, disc, canal */
    for (size_t i = 0; lab && i < npx; i++) {
        shown[0] |= lab[i] >= 1 && lab[i] <= 26;
        shown[1] |= lab[i] > 100 && lab[i] <= 126;
        shown[2] |= lab[i] == 201 || lab[i] == 202;
    }
    if (shown[0])
        items[n++] = (sp_legend_item){COL_VERTEBRA_LINE, "vertebra"};
    if (shown[1])
        items[n++] = (sp_legend_item){COL_DISC_LINE, "disc"};
    if (shown[2])
        items[n++] = (sp_legend_item){COL_CANAL_LINE, "canal outline"};
    /* The legend is a band under the image, never over the anatomy. */
    double lsize = font * 0.9;
    double footer = n ? ceil(legend_height(ctx, width, lsize, items, n)) : 0;
    int height = (int)(top + (double)g.height + footer);
    sp_canvas *c = H->canvas_new(ctx, width, height, 0x000000ff);
    if (!c)
        return SP_STAGE;
    /* Without annotations beside it, the image is centred under the
     * (wider) header instead of leaving a blank area on one side. */
    double x0 = margin > 0 ? 0 : floor(((double)width - (double)g.width) / 2);
    H->canvas_gray(c, gray, (int)g.width, (int)g.height, x0, top, 1, 0);
    occupied used = {.n = 0};
    if (lab)
        draw_labels(ctx, c, in->labels, lab, &g, n_mm, x0, top, font,
                    &used);
    if (in->table)
        draw_levels(ctx, c, in, lab, &g, n_mm, top, (double)g.width, font,
                    &used);
    draw_orientation(ctx, c, x0, top, (double)g.width, (double)g.height,
                     axial ? "RLAP" : "APSI", g.pixel_mm, font, &used);
    if (n)
        H->canvas_legend(c, 0, top + (double)g.height, width, lsize,
                         "Legend:", items, n, 0);
    H->canvas_header(c, lines, n_lines, font);
    report_text t;
    report_text_common(ctx, in, &t);
    report_text_add(&t, "Title", "spinepipe overview (mid-%s)",
                    axial ? "axial" : "sagittal");
    report_text_plane(&t, &g, n_mm, x0, top);
    report_text_layout(&t, &used);
    st = H->write_canvas_png(ctx, "overview.png", c, t.items, t.n);
    H->canvas_free(c);
    if (st == SP_OK)
        json_array_append_new(images, json_string("overview.png"));
    return st;
}
