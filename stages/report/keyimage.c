/* One key image per disc level: the axial slice through the disc centre
 * with the canal contour, the disc contour and its posteriorly displaced
 * part, the AP caliper between the table's endpoints with its value, and
 * the canal area. */
#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* Disc pixels, and among them those more posterior than the disc's
 * posterior margin minus the displacement: the displaced part. */
static void disc_masks(const uint16_t *s, const plane_grid *g, int disc,
                       double displacement_mm, uint8_t *disc_m,
                       uint8_t *displaced)
{
    size_t n = g->width * g->height;
    double ymax = -1;
    for (size_t i = 0; i < n; i++) {
        disc_m[i] = s[i] == disc;
        displaced[i] = 0;
        if (disc_m[i])
            ymax = fmax(ymax, (double)(i / g->width));
    }
    if (!(displacement_mm > 0.5) || ymax < 0)
        return;
    double from = ymax + 1 - displacement_mm / g->pixel_mm;
    for (size_t i = 0; i < n; i++)
        displaced[i] = disc_m[i] && (double)(i / g->width) >= from;
}

static void draw_caliper(sp_stage_context *ctx, sp_canvas *c,
                         const json_t *lv, const plane_grid *g, double n_mm,
                         double x0, double top, double font)
{
    const sp_host_api *H = ctx->host;
    const json_t *ends = json_object_get(lv, "canal_ap_endpoints_mm");
    double a[3], b[3], ax, ay, bx, by;
    if (!json_point(json_array_get(ends, 0), a) ||
        !json_point(json_array_get(ends, 1), b))
        return;
    plane_project(g, n_mm, a, &ax, &ay);
    plane_project(g, n_mm, b, &bx, &by);
    ax += x0;
    bx += x0;
    ay += top;
    by += top;
    double dx = bx - ax, dy = by - ay, len = hypot(dx, dy);
    if (len < 1e-6)
        return;
    double px = -dy / len * 5, py = dx / len * 5; /* end ticks */
    H->canvas_line(c, ax, ay, bx, by, 2, COL_CALIPER);
    H->canvas_line(c, ax - px, ay - py, ax + px, ay + py, 2, COL_CALIPER);
    H->canvas_line(c, bx - px, by - py, bx + px, by + py, 2, COL_CALIPER);
    char text[64];
    double ap = num(lv, "canal_ap_mm");
    if (!isfinite(ap))
        ap = len * g->pixel_mm;
    snprintf(text, sizeof text, "AP %.1f mm", ap);
    double tx = fmax(ax, bx) + font * 2.5, ty = (ay + by) / 2;
    H->canvas_text(c, tx, ty, font * 1.1, SP_ALIGN_LEFT, COL_CALIPER, 1,
                   text);
    double area = num(lv, "canal_area_mm2");
    if (isfinite(area)) {
        snprintf(text, sizeof text, "area %.0f mm\u00b2", area);
        H->canvas_text(c, tx, ty + font * 1.4, font, SP_ALIGN_LEFT,
                       COL_CANAL_LINE, 1, text);
    }
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
    snprintf(what, sizeof what, "Key image %.16s: axial through the disc "
             "(%s%s%.150s)", level, severity_word(sev), flags[0] ? ": " : "",
             flags);
    size_t n_lines = header_lines(ctx, in, what, values, buf, lines);
    double top = ceil(H->canvas_header_height(n_lines, font));
    int width = (int)fmax((double)g.width,
                          header_width(ctx, lines, n_lines, font));
    double x0 = floor(((double)width - (double)g.width) / 2);
    /* The legend is a band under the image, never over the anatomy. */
    static const sp_legend_item items[] = {
        {COL_CANAL_LINE, "canal outline"},
        {COL_DISC_LINE, "disc"},
        {0xff7a00ffu, "posterior displacement"},
        {COL_CALIPER, "AP caliper"},
    };
    double lsize = font * 0.9;
    double footer = ceil(legend_height(ctx, width, lsize, items, 4));
    sp_canvas *c = H->canvas_new(ctx, width,
                                 (int)(top + (double)g.height + footer),
                                 0x000000ff);
    if (!c)
        return SP_STAGE;
    H->canvas_gray(c, gray, (int)g.width, (int)g.height, x0, top, 1, 0);
    if (in->labels) {
        uint16_t *lab = H->scratch_alloc(ctx, npx * 2);
        uint8_t *m = H->scratch_alloc(ctx, npx);
        uint8_t *d = H->scratch_alloc(ctx, npx);
        if (!lab || !m || !d) {
            H->canvas_free(c);
            return SP_NOMEM;
        }
        st = label_slice(ctx, in->labels, &g, n_mm, lab);
        if (st == SP_OK) {
            disc_masks(lab, &g, disc_label_of_level(level),
                       num(lv, "posterior_displacement_mm"), m, d);
            H->canvas_mask(c, m, (int)g.width, (int)g.height, x0, top, 1,
                           COL_DISC_FILL, COL_DISC_LINE, 1.5);
            H->canvas_mask(c, d, (int)g.width, (int)g.height, x0, top, 1,
                           COL_DISPLACED, 0xff7a00ffu, 1.5);
            for (size_t i = 0; i < npx; i++)
                m[i] = lab[i] == 201 || lab[i] == 202;
            H->canvas_mask(c, m, (int)g.width, (int)g.height, x0, top, 1, 0,
                           COL_CANAL_LINE, 1.5);
        }
    }
    if (st == SP_OK) {
        draw_caliper(ctx, c, lv, &g, n_mm, x0, top, font);
        draw_orientation(ctx, c, x0, top, (double)g.width, (double)g.height,
                         "RLAP", g.pixel_mm, font);
        H->canvas_legend(c, 0, top + (double)g.height, width, lsize,
                         "Legend:", items, 4, 0);
        H->canvas_header(c, lines, n_lines, font);
        char file[48];
        key_file(level, file, sizeof file);
        report_text t;
        report_text_common(ctx, in, &t);
        report_text_add(&t, "Title", "spinepipe key image %.16s", level);
        report_text_add(&t, "spinepipe:level", "%.16s", level);
        report_text_plane(&t, &g, n_mm, x0, top);
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
