/* See host_io.h. Failures are reported through host->fail, so the stage
 * only returns the status. */
#include "host_io.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw/draw.h"
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
    if (snprintf(path, size, "%s/%s", ctx->output_dir, file) >= (int)size)
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
    if (sp_canvas_new(width, height, background, &c, &e) != SP_OK) {
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
    int w = sp_canvas_width(c), h = sp_canvas_height(c);
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
    if (!rgb)
        return ctx->host->fail(ctx, SP_NOMEM, "%s: out of memory", file);
    sp_canvas_rgb(c, rgb);
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
