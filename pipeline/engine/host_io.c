/* See host_io.h. Failures are reported through host->fail, so the stage
 * only returns the status. */
#include "host_io.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ondemand.h"
#include "output/output.h"

static sp_status report(sp_stage_context *ctx, const sp_error *e)
{
    return ctx->host->fail(ctx, e->code, "%s", e->message);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

/* "<output_dir>/<file>" for a plain safe file name. */
static sp_status output_path(sp_stage_context *ctx, const char *file,
                             char *path, size_t size)
{
    if (!file || !sp_is_safe_name(file))
        return ctx->host->fail(ctx, SP_CANTCREATE,
                               "output file name '%s' is not a plain safe "
                               "name",
                               file ? file : "");
    if (sp_path_join(path, size, ctx->output_dir, file) != 0)
        return ctx->host->fail(ctx, SP_CANTCREATE, "%s: path too long",
                               file);
    return SP_OK;
}

sp_status sp_host_nifti_write(sp_stage_context *ctx, const char *file,
                              const sp_volume *vol)
{
    char path[PATH_MAX];
    sp_status st = output_path(ctx, file, path, sizeof path);
    if (st != SP_OK)
        return st;
    if (!ends_with(file, ".nii") && !ends_with(file, ".nii.gz"))
        return ctx->host->fail(ctx, SP_CANTCREATE,
                               "%s: a NIfTI file name ends with .nii or "
                               ".nii.gz",
                               file);
    sp_error e;
    st = sp_nifti_write(vol, path, &e);
    return st == SP_OK ? st : report(ctx, &e);
}

sp_status sp_host_nifti_read(sp_stage_context *ctx, const char *path,
                             int as_labels, sp_volume *vol)
{
    sp_error e;
    sp_status st = sp_nifti_read(path, as_labels, vol, &e);
    return st == SP_OK ? st : report(ctx, &e);
}

sp_canvas *sp_host_canvas_new(sp_stage_context *ctx, int width, int height,
                              uint32_t background)
{
    sp_canvas *c;
    sp_error e;
    const sp_ondemand_api *od = sp_ondemand(&e);
    if (!od || od->canvas_new(width, height, background, &c, &e) != SP_OK) {
        report(ctx, &e);
        return NULL;
    }
    return c;
}

sp_status sp_host_write_canvas_png(sp_stage_context *ctx, const char *file,
                                   const sp_canvas *c,
                                   const sp_png_text *text, size_t n_text)
{
    char path[PATH_MAX];
    sp_status st = output_path(ctx, file, path, sizeof path);
    if (st != SP_OK)
        return st;
    if (!c)
        return ctx->host->fail(ctx, SP_INTERNAL, "%s: no canvas to write",
                               file);
    const sp_ondemand_api *od = sp_ondemand_loaded();
    int w = od->canvas_width(c), h = od->canvas_height(c);
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
    if (!rgb)
        return ctx->host->fail(ctx, SP_NOMEM, "%s: out of memory", file);
    od->canvas_rgb(c, rgb);
    sp_error e;
    st = sp_png_write_rgb8(path, rgb, (uint32_t)w, (uint32_t)h, text, n_text,
                           &e);
    free(rgb);
    return st == SP_OK ? st : report(ctx, &e);
}

sp_status sp_host_write_json(sp_stage_context *ctx, const char *file,
                             const void *json)
{
    char path[PATH_MAX];
    sp_status st = output_path(ctx, file, path, sizeof path);
    if (st != SP_OK)
        return st;
    if (!json)
        return ctx->host->fail(ctx, SP_INTERNAL, "%s: no JSON to write",
                               file);
    sp_error e;
    st = sp_json_write_file(json, path, &e);
    return st == SP_OK ? st : report(ctx, &e);
}

/* The canvas functions of the host table. Text is measured before a canvas
 * exists, so each loads the drawing layer when needed; without it they do
 * nothing and measure 0 (canvas_new reports why it is missing). */
static const sp_ondemand_api *drawing(void)
{
    return sp_ondemand(NULL);
}

void sp_host_canvas_free(sp_canvas *c)
{
    const sp_ondemand_api *od = sp_ondemand_loaded();
    if (c && od)
        od->canvas_free(c);
}

void sp_host_canvas_gray(sp_canvas *c, const uint8_t *gray, int w, int h,
                         double x, double y, double scale, int smooth)
{
    const sp_ondemand_api *od = drawing();
    if (od)
        od->canvas_gray(c, gray, w, h, x, y, scale, smooth);
}

void sp_host_canvas_mask(sp_canvas *c, const uint8_t *mask, int w, int h,
                         double x, double y, double scale, uint32_t fill,
                         uint32_t outline, double line_width)
{
    const sp_ondemand_api *od = drawing();
    if (od)
        od->canvas_mask(c, mask, w, h, x, y, scale, fill, outline,
                        line_width);
}

void sp_host_canvas_line(sp_canvas *c, double x0, double y0, double x1,
                         double y1, double width, uint32_t rgba)
{
    const sp_ondemand_api *od = drawing();
    if (od)
        od->canvas_line(c, x0, y0, x1, y1, width, rgba);
}

void sp_host_canvas_rect(sp_canvas *c, double x, double y, double w,
                         double h, uint32_t fill, uint32_t outline)
{
    const sp_ondemand_api *od = drawing();
    if (od)
        od->canvas_rect(c, x, y, w, h, fill, outline);
}

void sp_host_canvas_circle(sp_canvas *c, double x, double y, double r,
                           uint32_t fill, uint32_t outline)
{
    const sp_ondemand_api *od = drawing();
    if (od)
        od->canvas_circle(c, x, y, r, fill, outline);
}

double sp_host_canvas_text(sp_canvas *c, double x, double y, double size,
                           int align, uint32_t rgba, int halo,
                           const char *utf8)
{
    const sp_ondemand_api *od = drawing();
    return !od ? 0.0
               : od->canvas_text(c, x, y, size, align, rgba, halo, utf8);
}

double sp_host_canvas_text_width(sp_canvas *c, double size, const char *utf8)
{
    const sp_ondemand_api *od = drawing();
    return !od ? 0.0 : od->canvas_text_width(c, size, utf8);
}

double sp_host_canvas_header_height(size_t n_lines, double size)
{
    const sp_ondemand_api *od = drawing();
    return od ? od->canvas_header_height(n_lines, size) : 0.0;
}

void sp_host_canvas_header(sp_canvas *c, const char *const *lines,
                           size_t n_lines, double size)
{
    const sp_ondemand_api *od = drawing();
    if (od)
        od->canvas_header(c, lines, n_lines, size);
}

double sp_host_canvas_legend(sp_canvas *c, double x, double y,
                             double max_width, double size, const char *title,
                             const sp_legend_item *items, size_t n_items,
                             int measure_only)
{
    const sp_ondemand_api *od = drawing();
    return !od ? 0.0
               : od->canvas_legend(c, x, y, max_width, size, title, items,
                                   n_items, measure_only);
}
