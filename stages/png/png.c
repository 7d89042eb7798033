/* Stage `png`: axial, sagittal and coronal slices of the 8-bit view as PNG,
 * resampled to square pixels in radiological orientation (reslice.h), with
 * the key header facts and the pixel-to-patient mapping in text chunks. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "reslice.h"
#include "spinepipe/stage.h"

enum { MODE_MID, MODE_ALL };
enum { INTERP_LINEAR, INTERP_NEAREST };

static const char *const mode_names[] = {"mid", "all", NULL};
static const char *const interp_names[] = {"linear", "nearest", NULL};

typedef struct png_options {
    int planes;
    int axial, sagittal, coronal;
    double pixel_mm;
    int interpolation;
    int min_size;
    int max_size;
    int max_slices;
} png_options;

static const sp_param params[] = {
    {"planes", SP_PARAM_ENUM, "mid", 0, 0, NULL, mode_names,
     "mid: one mid-plane per orientation; all: every slice along each "
     "orientation", offsetof(png_options, planes)},
    {"axial", SP_PARAM_BOOL, "true", 0, 0, NULL, NULL, "write axial images",
     offsetof(png_options, axial)},
    {"sagittal", SP_PARAM_BOOL, "true", 0, 0, NULL, NULL,
     "write sagittal images", offsetof(png_options, sagittal)},
    {"coronal", SP_PARAM_BOOL, "true", 0, 0, NULL, NULL,
     "write coronal images", offsetof(png_options, coronal)},
    {"pixel_mm", SP_PARAM_FLOAT, "0", 0, 20, "mm", NULL,
     "pixel size of the images; 0 = the smallest voxel spacing",
     offsetof(png_options, pixel_mm)},
    {"interpolation", SP_PARAM_ENUM, "linear", 0, 0, NULL, interp_names,
     "resampling: trilinear, or the nearest voxel (exact values)",
     offsetof(png_options, interpolation)},
    {"min_size", SP_PARAM_INT, "256", 0, 8192, "pixels", NULL,
     "with pixel_mm = 0, pixels shrink below the voxel spacing until the "
     "longer image side has this many (0: native spacing)",
     offsetof(png_options, min_size)},
    {"max_size", SP_PARAM_INT, "1024", 16, 8192, "pixels", NULL,
     "largest image side; pixels grow to fit",
     offsetof(png_options, max_size)},
    {"max_slices", SP_PARAM_INT, "400", 1, 10000, NULL, NULL,
     "at most this many images per orientation with planes=all",
     offsetof(png_options, max_slices)},
};

static const char *const requires_list[] = {"view.u8", NULL};
static const char *const provides_list[] = {"images.png", NULL};

typedef struct png_state {
    const png_options *opt;
    json_t *images;
} png_state;

static sp_status png_init(sp_stage_context *ctx, const void *options,
                          void **state)
{
    const png_options *o = options;
    if (!o->axial && !o->sagittal && !o->coronal)
        return ctx->host->fail(ctx, SP_CONFIG,
                               "axial, sagittal and coronal are all false: "
                               "nothing to write");
    png_state *s = ctx->host->scratch_alloc(ctx, sizeof *s);
    if (!s)
        return SP_NOMEM;
    s->opt = o;
    s->images = json_array();
    *state = s;
    return s->images ? SP_OK
                     : ctx->host->fail(ctx, SP_NOMEM, "out of memory");
}

static void png_destroy(void *state)
{
    png_state *s = state;
    if (s)
        json_decref(s->images);
}

/* Step between slices along the normal: the spacing of the volume axis
 * closest to it, so native slices land on voxel centres. */
static double slice_step(const sp_volume *v, const double normal[3])
{
    int best = 0;
    double best_c = -1;
    for (int a = 0; a < 3; a++) {
        double c = fabs(v->vox2lps[0][a] * normal[0] +
                        v->vox2lps[1][a] * normal[1] +
                        v->vox2lps[2][a] * normal[2]) /
                   (v->spacing[a] > 0 ? v->spacing[a] : 1);
        if (c > best_c) {
            best_c = c;
            best = a;
        }
    }
    return v->spacing[best] > 0 ? v->spacing[best] : 1;
}

#define N_TEXT 18

typedef struct text_buf {
    sp_png_text items[N_TEXT];
    char values[N_TEXT][160];
    size_t n;
} text_buf;

static void add_text(text_buf *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_text(text_buf *t, const char *key, const char *fmt, ...)
{
    if (t->n == N_TEXT)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->values[t->n], sizeof t->values[0], fmt, ap);
    va_end(ap);
    t->items[t->n].key = key;
    t->items[t->n].value = t->values[t->n];
    t->n++;
}

static void fill_text(sp_stage_context *ctx, const plane_grid *g,
                      const double origin[3], const char *what,
                      int nearest, text_buf *t)
{
    const sp_dicom_header *h = ctx->header;
    t->n = 0;
    add_text(t, "Title", "spinepipe %s %s", plane_name(g->kind), what);
    add_text(t, "Software", "spinepipe png stage 1.0.0");
    add_text(t, "Disclaimer", "Research/triage aid. Not for diagnostic use.");
    if (h) {
        add_text(t, "Description", "%s", h->series_description);
        add_text(t, "spinepipe:modality", "%s", h->modality);
        if (!(ctx->run_flags & SP_RUN_ANONYMIZE))
            add_text(t, "spinepipe:study_date", "%s", h->study_date);
        add_text(t, "spinepipe:series_number", "%d", h->series_number);
        if (!(ctx->run_flags & SP_RUN_ANONYMIZE))
            add_text(t, "spinepipe:series_uid", "%s", h->series_uid);
        add_text(t, "spinepipe:body_part", "%s", h->body_part);
    }
    add_text(t, "spinepipe:plane", "%s", plane_name(g->kind));
    add_text(t, "spinepipe:orientation", "%s",
             plane_orientation_label(g->kind));
    add_text(t, "spinepipe:pixel_mm", "%.17g", g->pixel_mm);
    add_text(t, "spinepipe:origin_lps", "%.17g %.17g %.17g", origin[0],
             origin[1], origin[2]);
    add_text(t, "spinepipe:right_lps", "%g %g %g", g->right[0], g->right[1],
             g->right[2]);
    add_text(t, "spinepipe:down_lps", "%g %g %g", g->down[0], g->down[1],
             g->down[2]);
    add_text(t, "spinepipe:interpolation", "%s",
             nearest ? "nearest" : "linear");
    const json_t *w = ctx->host->artifact_table(ctx, "view.window");
    if (w)
        add_text(t, "spinepipe:window", "center=%.17g width=%.17g source=%s",
                 json_real_value(json_object_get(w, "center")),
                 json_real_value(json_object_get(w, "width")),
                 json_string_value(json_object_get(w, "source"))
                     ? json_string_value(json_object_get(w, "source"))
                     : "");
}

/* One plane's slices, cut into batches that parallel_for spreads over
 * threads; each slice is sampled into its own image and written on its
 * own, so the files do not depend on the thread count. */
typedef struct plane_job {
    sp_stage_context *ctx;
    const png_options *opt;
    const sp_volume *view;
    const plane_grid *g;
    double first, step;
    size_t base;          /* first slice of the current batch */
    sp_status *status;    /* per slice */
} plane_job;

#define BATCH 32

static void slice_file(const plane_job *j, size_t n, char *file, size_t cap)
{
    if (j->opt->planes == MODE_ALL)
        snprintf(file, cap, "%s_%04zu.png", plane_name(j->g->kind), n + 1);
    else
        snprintf(file, cap, "%s.png", plane_name(j->g->kind));
}

static void write_slices(void *arg, size_t begin, size_t end)
{
    const plane_job *j = arg;
    sp_stage_context *ctx = j->ctx;
    sp_volume img;
    memset(&img, 0, sizeof img);
    sp_status st = ctx->host->volume_alloc(ctx, &img, SP_VOXEL_U8,
                                           j->g->width, j->g->height, 1);
    int nearest = j->opt->interpolation == INTERP_NEAREST;
    for (size_t b = begin; b < end; b++) {
        size_t n = j->base + b;
        if (st == SP_OK) {
            double origin[3];
            st = plane_sample(ctx, j->view, j->g,
                              j->first + (double)n * j->step, nearest,
                              sp_volume_u8(&img), origin);
            if (st == SP_OK) {
                char file[64];
                slice_file(j, n, file, sizeof file);
                text_buf t;
                fill_text(ctx, j->g, origin,
                          j->opt->planes == MODE_ALL ? "slice" : "mid-plane",
                          nearest, &t);
                st = ctx->host->write_png(ctx, file, &img, t.items, t.n);
            }
        }
        j->status[n] = st;
    }
    if (img.data)
        ctx->host->volume_free(&img);
}

static sp_status write_plane(sp_stage_context *ctx, png_state *s,
                             const sp_volume *view, plane_kind kind)
{
    const png_options *o = s->opt;
    plane_grid g;
    plane_grid_make(view, kind, o->pixel_mm, (size_t)o->min_size,
                    (size_t)o->max_size, &g);
    /* Slice positions along the normal, centred on the volume; native
     * slices land on voxel centres. The mid-plane is the middle one, so
     * with an even count it shows a real slice, not a blend of two. */
    double step = slice_step(view, g.normal);
    double extent = g.n_max - g.n_min;
    size_t count = (size_t)fmax(1, floor(extent / step + 0.5));
    if (o->planes == MODE_ALL && count > (size_t)o->max_slices) {
        step = extent / o->max_slices;
        count = (size_t)o->max_slices;
    }
    double first = -(double)(count - 1) * step / 2;
    if (o->planes == MODE_MID) {
        first += (double)((count - 1) / 2) * step;
        count = 1;
    }
    sp_status *status = ctx->host->scratch_alloc(ctx, count * sizeof *status);
    if (!status)
        return SP_NOMEM;
    plane_job job = {.ctx = ctx, .opt = o, .view = view, .g = &g,
                     .first = first, .step = step, .status = status};
    sp_status st = SP_OK;
    for (job.base = 0; job.base < count && st == SP_OK; job.base += BATCH) {
        size_t n = count - job.base < BATCH ? count - job.base : BATCH;
        ctx->host->parallel_for(ctx, n, write_slices, &job);
        for (size_t i = job.base; i < job.base + n && st == SP_OK; i++)
            st = status[i];
        ctx->host->progress(ctx, (double)(job.base + n) / (double)count);
    }
    for (size_t n = 0; n < count && st == SP_OK; n++) {
        char file[64];
        slice_file(&job, n, file, sizeof file);
        json_array_append_new(
            s->images,
            json_pack("{s:s, s:s, s:f, s:I, s:I, s:f}", "file", file,
                      "plane", plane_name(kind), "offset_mm",
                      first + (double)n * step, "width", (json_int_t)g.width,
                      "height", (json_int_t)g.height, "pixel_mm",
                      g.pixel_mm));
    }
    return st;
}

static sp_status png_process(sp_stage_context *ctx, void *state)
{
    png_state *s = state;
    const sp_volume *view =
        ctx->host->artifact_volume(ctx, "view.u8", SP_ARTIFACT_VOLUME);
    if (!view || view->type != SP_VOXEL_U8)
        return ctx->host->fail(ctx, SP_STAGE,
                               "artifact 'view.u8' is missing or not 8-bit");
    const int want[3] = {s->opt->axial, s->opt->sagittal, s->opt->coronal};
    for (int k = 0; k < 3; k++) {
        if (!want[k])
            continue;
        sp_status st = write_plane(ctx, s, view, (plane_kind)k);
        if (st != SP_OK)
            return st;
    }
    json_t *images = s->images;
    s->images = NULL;
    return ctx->host->artifact_put_table(ctx, "images.png", images);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "png",
    .version = "1.0.0",
    .description = "axial, sagittal and coronal PNG images of the 8-bit "
                   "view, square pixels, radiological orientation",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(png_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = png_init,
    .process = png_process,
    .destroy = png_destroy,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
