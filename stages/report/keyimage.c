/* One key image per disc level: the axial slice through the disc centre
 * with the canal contour, the disc contour and its posteriorly displaced
 * part, the AP caliper between the table's endpoints with its value, and
 * the canal area. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/finding_text.h"
#include "report.h"

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* "key_L4-L5.png" from a level name, keeping [A-Za-z0-9-] only. */
static void key_file(const char *level, char *out, size_t size)
{
    char clean[24];
    size_t n = 0;
    for (const char *c = level; *c && n + 1 < sizeof clean; c++)
        clean[n++] = ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                      (*c >= '0' && *c <= '9') || *c == '-')
                         ? *c
                         : '_';
    clean[n] = 0;
    snprintf(out, size, "key_%s.png", n ? clean : "level");
}

static void values_line(const json_t *lv, char *out, size_t size)
{
    double ap = num(lv, "canal_ap_mm"), area = num(lv, "canal_area_mm2"),
           disc = num(lv, "disc_height_mm"),
           disp = num(lv, "posterior_displacement_mm");
    size_t n = 0;
    out[0] = 0;
    if (isfinite(ap))
        n += (size_t)snprintf(out + n, size - n, "Canal AP %.1f mm   ", ap);
    if (isfinite(area) && n < size)
        n += (size_t)snprintf(out + n, size - n, "Area %.0f mm\u00b2   ",
                              area);
    if (isfinite(disc) && n < size)
        n += (size_t)snprintf(out + n, size - n, "Disc height %.1f mm   ",
                              disc);
    if (isfinite(disp) && n < size)
        snprintf(out + n, size - n, "Posterior displacement %.1f mm", disp);
}

/* The displaced part, column by column, is the union of what the
 * measurements look at: disc pixels behind the front of the canal a few
 * millimetres above and below the disc (the posterior walls of the
 * adjacent bodies, Fardon 2014's reference); disc pixels more than
 * MIN_SHOWN_MM behind the disc's own median posterior margin (a focal
 * herniation); and tissue standing MIN_SHOWN_MM or more in front of the
 * canal here where the canal reaches further forward above and below
 * (a herniation the disc label does not hold, as measure finds it). */
#define MIN_SHOWN_MM 2.0

/* Row of the first (from the top, anterior) set pixel of column x, or h. */
static size_t first_row(const uint8_t *m, size_t w, size_t h, size_t x)
{
    size_t y = 0;
    while (y < h && !m[y * w + x])
        y++;
    return y;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Median over the disc's columns of their last (posterior) disc row. */
static double median_back(const uint8_t *disc, size_t w, size_t h,
                          size_t *rows)
{
    size_t n = 0;
    for (size_t x = 0; x < w; x++)
        for (size_t y = h; y-- > 0;)
            if (disc[y * w + x]) {
                rows[n++] = y;
                break;
            }
    if (n == 0)
        return (double)h;
    qsort(rows, n, sizeof *rows, cmp_size);
    return (double)rows[n / 2];
}

static sp_status displaced_part(sp_stage_context *ctx,
                                const sp_volume *labels, const plane_grid *g,
                                double disc_height_mm, const uint8_t *disc,
                                const uint8_t *canal, uint8_t *out)
{
    const sp_host_api *H = ctx->host;
    size_t w = g->width, h = g->height;
    uint8_t *beside = H->scratch_alloc(ctx, w * h);
    double *ref = H->scratch_alloc(ctx, w * sizeof *ref);
    int *sides = H->scratch_alloc(ctx, w * sizeof *sides);
    size_t *rows = H->scratch_alloc(ctx, w * sizeof *rows);
    if (!beside || !ref || !sides || !rows)
        return SP_NOMEM;
    double reach = (isfinite(disc_height_mm) ? disc_height_mm / 2 : 5) + 3;
    double min_px = MIN_SHOWN_MM / g->pixel_mm;
    for (size_t x = 0; x < w; x++)
        ref[x] = 0, sides[x] = 0;
    for (int side = -1; side <= 1; side += 2) {
        sp_status st = label_mask(ctx, labels, g, side * reach, 201, 202,
                                  beside);
        if (st != SP_OK)
            return st;
        for (size_t x = 0; x < w; x++) {
            size_t y = first_row(beside, w, h, x);
            if (y < h)
                ref[x] += (double)y / 2, sides[x]++;
        }
    }
    double back = median_back(disc, w, h, rows) + min_px;
    for (size_t x = 0; x < w; x++) {
        size_t front = first_row(canal, w, h, x);
        int walls = sides[x] == 2;
        for (size_t y = 0; y < h; y++) {
            size_t i = y * w + x;
            out[i] = (disc[i] && walls && (double)y >= ref[x]) ||
                     (disc[i] && (double)y > back) ||
                     (walls && front < h && (double)front - ref[x] >= min_px &&
                      (double)y >= ref[x] && y < front);
        }
    }
    return SP_OK;
}

/* A line with end ticks between the two LPS points of `ends` projected
 * onto the image; its canvas ends into a, b, and the line and ticks into
 * `clear` (no label covers them). 0 when `ends` is not two points or they
 * fall together. */
static int draw_ends(sp_stage_context *ctx, sp_canvas *c, const json_t *ends,
                     const plane_grid *g, double n_mm, double x0, double top,
                     uint32_t colour, double width, clear_map *clear,
                     double a[2], double b[2])
{
    const sp_host_api *H = ctx->host;
    double pa[3], pb[3];
    if (!json_point(json_array_get(ends, 0), pa) ||
        !json_point(json_array_get(ends, 1), pb))
        return 0;
    plane_project(g, n_mm, pa, &a[0], &a[1]);
    plane_project(g, n_mm, pb, &b[0], &b[1]);
    double dx = b[0] - a[0], dy = b[1] - a[1], len = hypot(dx, dy);
    if (len < 1e-6)
        return 0;
    double px = -dy / len * 5, py = dx / len * 5; /* end ticks */
    clear_map_line(clear, a[0], a[1], b[0], b[1], width);
    clear_map_line(clear, a[0] - px, a[1] - py, a[0] + px, a[1] + py, width);
    clear_map_line(clear, b[0] - px, b[1] - py, b[0] + px, b[1] + py, width);
    a[0] += x0, b[0] += x0, a[1] += top, b[1] += top;
    H->canvas_line(c, a[0], a[1], b[0], b[1], width, colour);
    H->canvas_line(c, a[0] - px, a[1] - py, a[0] + px, a[1] + py, width,
                   colour);
    H->canvas_line(c, b[0] - px, b[1] - py, b[0] + px, b[1] + py, width,
                   colour);
    return 1;
}

/* A thin line from a label (box x, y, w, h) to the nearest point of its
 * caliper (ends a, b) when placing it clear left it more than `reach`
 * from the caliper: a value far from a small caliper reads as belonging
 * to whatever it is next to. Kept in the layout as kind 'l' (its end
 * points' box). */
static void label_leader(sp_stage_context *ctx, sp_canvas *c, double x,
                         double y, double w, double h, double reach,
                         const double a[2], const double b[2],
                         uint32_t colour, occupied *used)
{
    double cx = x + w / 2, cy = y + h / 2;
    double dx = b[0] - a[0], dy = b[1] - a[1], len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((cx - a[0]) * dx + (cy - a[1]) * dy) / len2 : 0;
    t = fmin(fmax(t, 0), 1);
    double tx = a[0] + t * dx, ty = a[1] + t * dy;
    double sx = fmin(fmax(tx, x - 2), x + w + 2);
    double sy = fmin(fmax(ty, y - 2), y + h + 2);
    double gap = hypot(tx - sx, ty - sy);
    if (gap <= reach)
        return;
    /* stop short of the caliper so its end ticks stay readable */
    double ex = tx + (sx - tx) * 3 / gap, ey = ty + (sy - ty) * 3 / gap;
    ctx->host->canvas_line(c, sx, sy, ex, ey, 3, 0x000000c0u);
    ctx->host->canvas_line(c, sx, sy, ex, ey, 1.2, colour);
    occupied_add_kind(used, 'l', sx, sy, ex, ey);
}

/* The reported posterior displacement beside its caliper (ends a, b),
 * left of it where that is clear. */
static void label_displacement(sp_stage_context *ctx, sp_canvas *c,
                               const json_t *lv, const clear_map *clear,
                               double x0, double top, double font,
                               const double a[2], const double b[2],
                               occupied *used)
{
    char text[32];
    snprintf(text, sizeof text, "%.1f mm",
             num(lv, "posterior_displacement_mm"));
    double w = ctx->host->canvas_text_width(c, font, text);
    double left = fmin(a[0], b[0]) - font * 0.8 - w,
           upper = (a[1] + b[1]) / 2 - font * 0.65;
    clear_map_place(clear, used, x0, top, w, font * 1.3, &left, &upper);
    /* where it would sit it is 0.8 of a line away */
    label_leader(ctx, c, left, upper, w, font * 1.3, font, a, b,
                 COL_DISP_CALIPER, used);
    ctx->host->canvas_text(c, left, upper + font, font, SP_ALIGN_LEFT,
                           COL_DISP_CALIPER, 1, text);
    occupied_add_text(used, ctx, c, left, upper + font, font, SP_ALIGN_LEFT,
                      text);
}

/* The AP value and the area under it, right of the AP caliper (ends a,
 * b) where that is clear. */
static void label_caliper(sp_stage_context *ctx, sp_canvas *c,
                          const json_t *lv, const plane_grid *g,
                          const clear_map *clear, double x0, double top,
                          double font, const double a[2], const double b[2],
                          occupied *used)
{
    const sp_host_api *H = ctx->host;
    char text[64], area_text[64] = "";
    double ap = num(lv, "canal_ap_mm"), area = num(lv, "canal_area_mm2");
    if (!isfinite(ap))
        ap = hypot(b[0] - a[0], b[1] - a[1]) * g->pixel_mm;
    snprintf(text, sizeof text, "AP %.1f mm", ap);
    if (isfinite(area))
        snprintf(area_text, sizeof area_text, "area %.0f mm\u00b2", area);
    double big = font * 1.1;
    double w = fmax(H->canvas_text_width(c, big, text),
                    area_text[0] ? H->canvas_text_width(c, font, area_text)
                                 : 0);
    double h = big + (area_text[0] ? font * 1.7 : big * 0.3);
    double left = fmax(a[0], b[0]) + font * 2.5,
           upper = (a[1] + b[1]) / 2 - big;
    clear_map_place(clear, used, x0, top, w, h, &left, &upper);
    /* where it would sit it is 2.5 lines away, and the caliper spans the
       canal: a line only when pushed well past that */
    label_leader(ctx, c, left, upper, w, h, font * 5, a, b, COL_CALIPER,
                 used);
    double ty = upper + big;
    H->canvas_text(c, left, ty, big, SP_ALIGN_LEFT, COL_CALIPER, 1, text);
    occupied_add_text(used, ctx, c, left, ty, big, SP_ALIGN_LEFT, text);
    if (area_text[0]) {
        H->canvas_text(c, left, ty + font * 1.4, font, SP_ALIGN_LEFT,
                       COL_CANAL_LINE, 1, area_text);
        occupied_add_text(used, ctx, c, left, ty + font * 1.4, font,
                          SP_ALIGN_LEFT, area_text);
    }
}

/* The canal, the disc (none for an unnamed level) and the displaced part
 * on the key image's plane. A table from measure carries the outlines it
 * measured (canal_outline_mm, displacement_outline_mm): those are drawn,
 * so the picture is of the numbers. Other tables (imported, MR) get the
 * canal of the label map and the displaced part estimated from it. */
static sp_status key_masks(sp_stage_context *ctx, const report_input *in,
                           const json_t *lv, const char *level,
                           const plane_grid *g, int measured,
                           uint8_t *disc_m, uint8_t *displaced,
                           uint8_t *canal)
{
    size_t npx = g->width * g->height;
    int disc = disc_label_of_level(level), drawn;
    memset(disc_m, 0, npx);
    memset(displaced, 0, npx);
    const json_t *outline = json_object_get(lv, "canal_outline_mm");
    sp_status st =
        measured && outline
            ? polygon_mask(ctx, g, 0, outline, canal, &drawn)
            : label_mask(ctx, in->labels, g, 0, 201, 202, canal);
    if (st == SP_OK && disc)
        st = label_mask(ctx, in->labels, g, 0, disc, disc, disc_m);
    if (st != SP_OK || !(num(lv, "posterior_displacement_mm") > 0.5))
        return st;
    if (measured)
        return polygon_mask(ctx, g, 0,
                            json_object_get(lv, "displacement_outline_mm"),
                            displaced, &drawn);
    if (disc)
        st = displaced_part(ctx, in->labels, g, num(lv, "disc_height_mm"),
                            disc_m, canal, displaced);
    return st;
}

/* The plane measure measured the level in (canal_plane: lateral and
 * anterior unit vectors), in radiological display: image right towards
 * the patient's left, anterior up. 0 when the table has none. */
static int measured_plane(const json_t *lv, plane_grid *g)
{
    const json_t *pl = json_object_get(lv, "canal_plane");
    double lat[3], ant[3];
    if (!json_point(json_object_get(pl, "lateral"), lat) ||
        !json_point(json_object_get(pl, "anterior"), ant))
        return 0;
    double s = lat[0] < 0 ? -1 : 1, dot = 0, n = 0, m = 0;
    for (int r = 0; r < 3; r++)
        g->right[r] = s * lat[r], n += lat[r] * lat[r];
    n = sqrt(n);
    if (!(n > 1e-6))
        return 0;
    for (int r = 0; r < 3; r++)
        g->right[r] /= n, dot -= ant[r] * g->right[r];
    for (int r = 0; r < 3; r++)
        g->down[r] = -ant[r] - dot * g->right[r], m += g->down[r] * g->down[r];
    m = sqrt(m);
    if (!(m > 1e-6))
        return 0;
    for (int r = 0; r < 3; r++)
        g->down[r] /= m;
    g->normal[0] = g->right[1] * g->down[2] - g->right[2] * g->down[1];
    g->normal[1] = g->right[2] * g->down[0] - g->right[0] * g->down[2];
    g->normal[2] = g->right[0] * g->down[1] - g->right[1] * g->down[0];
    return 1;
}

static sp_status key_image(sp_stage_context *ctx, const report_options *o,
                           const report_input *in, const json_t *lv,
                           json_t *images)
{
    const sp_host_api *H = ctx->host;
    const char *level = json_string_value(json_object_get(lv, "level"));
    double centre[3];
    if (!level || !json_point(json_object_get(lv, "disc_centroid_mm"), centre))
        return SP_OK;
    /* A square field of key_fov_mm centred on the disc, min_size pixels
     * a side, in the plane through the disc centre. */
    plane_grid g;
    plane_grid_make(in->view, PLANE_AXIAL, 0, (size_t)o->min_size, 1400, &g);
    g.width = g.height = (size_t)o->min_size;
    g.pixel_mm = o->key_fov_mm / (double)o->min_size;
    int measured = measured_plane(lv, &g);
    double half = ((double)g.width - 1) / 2 * g.pixel_mm;
    for (int r = 0; r < 3; r++)
        g.origin[r] = centre[r] - half * g.right[r] - half * g.down[r];
    const double n_mm = 0;
    size_t npx = g.width * g.height;
    uint8_t *gray = H->scratch_alloc(ctx, npx);
    if (!gray)
        return SP_NOMEM;
    double origin[3];
    sp_status st = plane_sample(ctx, in->view, &g, n_mm, 0, gray, origin);
    if (st != SP_OK)
        return st;
    double font = o->font_size;
    char buf[4][200], values[200], what[256];
    const char *lines[4];
    values_line(lv, values, sizeof values);
    int sev = level_severity(lv);
    char flags[160];
    level_flags(lv, flags, sizeof flags);
    snprintf(what, sizeof what, "Key image %.16s: %s (%s%s%.150s)", level,
             measured ? "through the disc, perpendicular to the canal"
                      : "axial through the disc",
             sp_severity_words(sev), flags[0] ? ": " : "", flags);
    size_t n_lines = header_lines(ctx, in, what, values, buf, lines);
    double top = ceil(H->canvas_header_height(n_lines, font));
    int width = (int)fmax((double)g.width,
                          header_width(ctx, lines, n_lines, font));
    double x0 = floor(((double)width - (double)g.width) / 2);
    uint8_t *disc_m = NULL, *displaced = NULL, *canal = NULL;
    int shown = 0;
    if (in->labels) {
        disc_m = H->scratch_alloc(ctx, npx);
        displaced = H->scratch_alloc(ctx, npx);
        canal = H->scratch_alloc(ctx, npx);
        if (!disc_m || !displaced || !canal)
            return SP_NOMEM;
        st = key_masks(ctx, in, lv, level, &g, measured, disc_m, displaced,
                       canal);
        if (st != SP_OK)
            return st;
        for (size_t i = 0; i < npx && !shown; i++)
            shown = displaced[i];
    }
    /* The legend is a band under the image, never over the anatomy. It
     * says what each orange mark is: the reported displacement as a
     * caliper where measure measured it, the displaced run (the focal
     * part that decided herniation or bulge and its position) with its
     * own height when that is not the reported value; a displacement
     * drawn nowhere is said so (a label map's displaced part may lie
     * outside this plane). */
    sp_legend_item items[5] = {{COL_CANAL_LINE, "canal outline"},
                               {COL_DISC_LINE, "disc"}};
    size_t n_items = 2;
    char run_text[96], disp_text[96];
    double disp = num(lv, "posterior_displacement_mm"),
           run = num(lv, "displacement_run_mm");
    const char *how = json_string_value(
        json_object_get(lv, "displacement_measured"));
    const json_t *dc = json_object_get(lv, "displacement_caliper_mm");
    double p[3];
    int caliper = disp > 0.5 && json_point(json_array_get(dc, 0), p) &&
                  json_point(json_array_get(dc, 1), p);
    if (shown && isfinite(run) && fabs(run - disp) >= 0.05)
        snprintf(run_text, sizeof run_text,
                 "displaced run (%.1f mm beyond the disc's median margin)",
                 run);
    else if (shown && caliper)
        snprintf(run_text, sizeof run_text, "displaced run");
    else
        snprintf(run_text, sizeof run_text, "%s",
                 shown || caliper ? "posterior displacement"
                 : measured ? "posterior displacement (mid-line value, not "
                              "outlined)"
                            : "posterior displacement (not in this plane)");
    /* No displacement (under half a millimetre, nothing outlined): no
     * orange entry for a mark that is not on the image. */
    if (shown || (!caliper && disp > 0.5))
        items[n_items++] = (sp_legend_item){0xff7a00ffu, run_text};
    if (caliper) {
        snprintf(disp_text, sizeof disp_text,
                 "posterior displacement %.1f mm%s%s%s", disp,
                 how ? " (" : "", how ? how : "", how ? ")" : "");
        items[n_items++] = (sp_legend_item){COL_DISP_CALIPER, disp_text};
    }
    items[n_items++] = (sp_legend_item){COL_CALIPER, "AP caliper"};
    double lsize = font * 0.9;
    double footer = ceil(legend_height(ctx, width, lsize, items, n_items));
    clear_map clear;
    if (clear_map_make(ctx, g.width, g.height, &clear) != SP_OK)
        return SP_NOMEM;
    sp_canvas *c = H->canvas_new(ctx, width,
                                 (int)(top + (double)g.height + footer),
                                 0x000000ff);
    if (!c)
        return SP_STAGE;
    H->canvas_gray(c, gray, (int)g.width, (int)g.height, x0, top, 1, 0);
    /* over the fills, so its colour stays its own inside the displaced
       run, and under the outlines, so it leaves them whole */
    occupied used = {.n = 0};
    double da[2], db[2], aa[2], ab[2];
    int w = (int)g.width, h = (int)g.height;
    if (in->labels) {
        H->canvas_mask(c, disc_m, w, h, x0, top, 1, COL_DISC_FILL, 0, 0);
        H->canvas_mask(c, displaced, w, h, x0, top, 1, COL_DISPLACED, 0, 0);
    }
    caliper = caliper &&
              draw_ends(ctx, c, dc, &g, n_mm, x0, top, COL_DISP_CALIPER, 1.5,
                        &clear, da, db);
    if (in->labels) {
        H->canvas_mask(c, disc_m, w, h, x0, top, 1, 0, COL_DISC_LINE, 1.5);
        H->canvas_mask(c, displaced, w, h, x0, top, 1, 0, 0xff7a00ffu, 1.5);
        H->canvas_mask(c, canal, w, h, x0, top, 1, 0, COL_CANAL_LINE, 1.5);
        clear_map_edges(&clear, canal, 1);
        clear_map_edges(&clear, displaced, 1);
        clear_map_edges(&clear, disc_m, 0);
    }
    int ap = draw_ends(ctx, c, json_object_get(lv, "canal_ap_endpoints_mm"),
                       &g, n_mm, x0, top, COL_CALIPER, 2, &clear, aa, ab);
    clear_map_finish(&clear);
    if (ap)
        occupied_add(&used, aa[0] - 6, aa[1] - 6, ab[0] + 6, ab[1] + 6);
    if (caliper)
        occupied_add(&used, fmin(da[0], db[0]) - 6, fmin(da[1], db[1]) - 6,
                     fmax(da[0], db[0]) + 6, fmax(da[1], db[1]) + 6);
    if (st == SP_OK) {
        if (ap)
            label_caliper(ctx, c, lv, &g, &clear, x0, top, font, aa, ab,
                          &used);
        if (caliper)
            label_displacement(ctx, c, lv, &clear, x0, top, font, da, db,
                               &used);
        draw_orientation(ctx, c, x0, top, (double)g.width, (double)g.height,
                         "RLAP", g.pixel_mm, font, &used);
        H->canvas_legend(c, 0, top + (double)g.height, width, lsize,
                         "Legend:", items, n_items, 0);
        H->canvas_header(c, lines, n_lines, font);
        char file[48];
        key_file(level, file, sizeof file);
        report_text t;
        report_text_common(ctx, in, &t);
        report_text_add(&t, "Title", "spinepipe key image %.16s", level);
        report_text_add(&t, "spinepipe:level", "%.16s", level);
        /* The header's findings in words, as index.html shows them. */
        report_text_add(&t, "spinepipe:findings", "%s", flags);
        report_text_plane(&t, &g, n_mm, x0, top);
        report_text_layout(&t, &used);
        st = H->write_canvas_png(ctx, file, c, t.items, t.n);
        if (st == SP_OK)
            json_array_append_new(images, json_string(file));
    }
    H->canvas_free(c);
    return st;
}

sp_status draw_key_images(sp_stage_context *ctx, const report_options *o,
                          const report_input *in, json_t *images)
{
    size_t i;
    const json_t *lv;
    json_array_foreach(json_object_get(in->table, "levels"), i, lv) {
        sp_status st = key_image(ctx, o, in, lv, images);
        if (st != SP_OK)
            return st;
    }
    return SP_OK;
}
