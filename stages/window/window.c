/* Stage `window`: map the series to an 8-bit display view with a CT
 * preset, an explicit centre/width, the header's VOI window, or (for MR) a
 * robust percentile window. The input stays untouched unless no later
 * stage can read it: then the view is written into its buffer (stage ABI
 * 1.3, artifact_take_volume), the same bytes, no second volume.
 *
 * Mapping: DICOM PS3.3 C.11.2.1.2.1 linear VOI function, output 0..255:
 *   x <= c - 0.5 - (w-1)/2  -> 0
 *   x >  c - 0.5 + (w-1)/2  -> 255
 *   else ((x - (c - 0.5)) / (w - 1) + 0.5) * 255, rounded to nearest. */
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "spinepipe/stage.h"
#include "stage_input.h"
#include "window_map.h"

enum { P_AUTO, P_BONE, P_SPINE, P_SOFT, P_HEADER, P_EXPLICIT, P_PERCENTILE };

static const char *const preset_names[] = {
    "auto", "bone", "spine", "soft", "header", "explicit", "percentile",
    NULL};

/* CT presets, centre/width in HU, from ../shared/CLINICAL.md "CT windows":
 * bone 2000/500 (first of the listed variants), spine canal and soft
 * tissue of the spine 400/50, soft tissue / disc 400/40. */
static const struct {
    int preset;
    double center, width;
} ct_presets[] = {
    {P_BONE, 500.0, 2000.0},
    {P_SPINE, 50.0, 400.0},
    {P_SOFT, 40.0, 400.0},
};

typedef struct window_options {
    const char *input;
    int preset;
    double center;
    double width;
    double low_percentile;
    double high_percentile;
    int ignore_zero;
} window_options;

static const sp_param params[] = {
    {"input", SP_PARAM_ARTIFACT, "volume.hu", 0, 0, NULL, NULL,
     "the float32 volume to window: the series, or e.g. volume.denoised",
     offsetof(window_options, input)},
    {"preset", SP_PARAM_ENUM, "auto", 0, 0, NULL, preset_names,
     "auto (CT: spine, other modalities: percentile), bone 2000/500, spine "
     "400/50, soft 400/40, header (the series' VOI window), explicit "
     "(center/width), percentile (robust MR window)",
     offsetof(window_options, preset)},
    {"center", SP_PARAM_FLOAT, "40", -100000, 100000, "HU",
     NULL, "window centre for preset=explicit",
     offsetof(window_options, center)},
    {"width", SP_PARAM_FLOAT, "400", 1, 200000, "HU", NULL,
     "window width for preset=explicit", offsetof(window_options, width)},
    {"low_percentile", SP_PARAM_FLOAT, "1", 0, 100, "%", NULL,
     "percentile mapped to black for preset=percentile",
     offsetof(window_options, low_percentile)},
    {"high_percentile", SP_PARAM_FLOAT, "99.5", 0, 100, "%", NULL,
     "percentile mapped to white for preset=percentile",
     offsetof(window_options, high_percentile)},
    {"ignore_zero", SP_PARAM_BOOL, "true", 0, 0, NULL, NULL,
     "leave voxels that are exactly 0 (MR background, padding) out of the "
     "percentiles", offsetof(window_options, ignore_zero)},
};

static const char *const requires_list[] = {NULL}; /* see `input` */
static const char *const provides_list[] = {"view.u8", "view.window", NULL};

typedef struct window_state {
    const window_options *opt;
} window_state;

static sp_status window_init(sp_stage_context *ctx, const void *options,
                             void **state)
{
    const window_options *o = options;
    if (o->preset == P_PERCENTILE &&
        !(o->low_percentile < o->high_percentile))
        return ctx->host->fail(ctx, SP_CONFIG,
                               "low_percentile (%g) must be below "
                               "high_percentile (%g)",
                               o->low_percentile, o->high_percentile);
    window_state *s = ctx->host->scratch_alloc(ctx, sizeof *s);
    if (!s)
        return SP_NOMEM;
    s->opt = o;
    *state = s;
    return SP_OK;
}

static int is_ct(const sp_stage_context *ctx)
{
    return ctx->header && strcmp(ctx->header->modality, "CT") == 0;
}

/* Choose centre and width; `source` names where they came from. */
static sp_status choose_window(sp_stage_context *ctx, const window_options *o,
                               const sp_volume *in, double *c, double *w,
                               const char **source)
{
    int preset = o->preset;
    if (preset == P_AUTO)
        preset = is_ct(ctx) ? P_SPINE : P_PERCENTILE;
    *source = preset_names[preset];
    for (size_t i = 0; i < sizeof ct_presets / sizeof ct_presets[0]; i++)
        if (ct_presets[i].preset == preset) {
            if (!is_ct(ctx))
                ctx->host->log(ctx, SP_LOG_WARN,
                               "CT preset '%s' on a %s series",
                               preset_names[preset],
                               ctx->header && ctx->header->modality[0]
                                   ? ctx->header->modality
                                   : "non-CT");
            *c = ct_presets[i].center;
            *w = ct_presets[i].width;
            return SP_OK;
        }
    if (preset == P_EXPLICIT) {
        *c = o->center;
        *w = o->width;
        return SP_OK;
    }
    if (preset == P_HEADER) {
        if (!ctx->header || !ctx->header->has_window ||
            !(ctx->header->window_width >= 1))
            return ctx->host->fail(ctx, SP_CONFIG,
                                   "preset=header, but the series has no "
                                   "usable VOI window in its header (choose "
                                   "another preset)");
        *c = ctx->header->window_center;
        *w = ctx->header->window_width;
        return SP_OK;
    }
    double lo, hi;
    sp_status st = sp_window_percentiles(ctx, in, o->low_percentile,
                                         o->high_percentile, o->ignore_zero,
                                         &lo, &hi);
    if (st != SP_OK)
        return st;
    *w = hi - lo >= 1 ? hi - lo : 1;
    *c = lo + *w / 2 + 0.5;
    return SP_OK;
}

typedef struct window_job {
    const sp_window_map *map;
    const float *in;
    uint8_t *out;
    size_t slice;   /* voxels per slice */
} window_job;

static void window_slices(void *arg, size_t k0, size_t k1)
{
    const window_job *j = arg;
    sp_window_map_apply(j->map, j->in + k0 * j->slice,
                        j->out + k0 * j->slice, (k1 - k0) * j->slice);
}

/* In the input's own buffer, each slice's bytes straight to their place
 * in the U8 volume: slice k's bytes [k s, (k + 1) s) lie inside the
 * float32 span of slice k / 4, [4 (k / 4) s, 4 (k / 4 + 1) s), and only
 * slices 4k..4k+3 write into slice k's span. So slice k may be written
 * once slice k / 4 has been read. The threads take slices in ascending
 * order from a shared counter and each marks a slice done after reading
 * it; slice k waits for slice k / 4's mark, which is always taken earlier
 * and so is being worked on or done (no deadlock, whatever the threads;
 * one parallel_for, the chunks it hands out are not used). Each slice's
 * bytes depend on its floats alone: the same bytes on any threads. Slice
 * 0 overlaps itself and goes through a small buffer a block at a time, so
 * a write never reaches a float not yet read (block b writes bytes
 * [b, b + n), its floats were at [4b, 4b + 4n)). */
typedef struct in_place_job {
    const window_job *job;
    size_t nz;
    atomic_size_t next;   /* the next slice to take */
    atomic_uchar *done;   /* per slice: its floats have been read */
} in_place_job;

static void window_slice_in_place(const window_job *j, size_t k)
{
    enum { BLOCK = 16384 };
    const float *in = j->in + k * j->slice;
    uint8_t *to = (uint8_t *)(void *)j->in + k * j->slice;
    if (k > 0) {
        sp_window_map_apply(j->map, in, to, j->slice);
        return;
    }
    uint8_t tmp[BLOCK];
    for (size_t b = 0; b < j->slice; b += BLOCK) {
        size_t n = j->slice - b < BLOCK ? j->slice - b : BLOCK;
        sp_window_map_apply(j->map, in + b, tmp, n);
        memcpy(to + b, tmp, n);
    }
}

static void window_take_slices(void *arg, size_t k0, size_t k1)
{
    (void)k0;
    (void)k1;
    in_place_job *p = arg;
    for (;;) {
        size_t k = atomic_fetch_add(&p->next, 1);
        if (k >= p->nz)
            return;
        while (k > 0 && !atomic_load_explicit(&p->done[k / 4],
                                              memory_order_acquire))
            sched_yield();
        window_slice_in_place(p->job, k);
        atomic_store_explicit(&p->done[k], 1, memory_order_release);
    }
}

static void window_in_place(sp_stage_context *ctx, const window_job *job,
                            size_t nz)
{
    in_place_job p = {.job = job, .nz = nz};
    atomic_init(&p.next, 0);
    p.done = calloc(nz, sizeof *p.done);
    if (!p.done) {
        /* Ascending order alone is enough on one thread. */
        for (size_t k = 0; k < nz; k++)
            window_slice_in_place(job, k);
        return;
    }
    for (size_t k = 0; k < nz; k++)
        atomic_init(&p.done[k], 0);
    ctx->host->parallel_for(ctx, nz, window_take_slices, &p);
    free(p.done);
}

/* The view in the input's buffer when no later stage can read the input
 * (stage ABI 1.3), else in a new volume; the same bytes either way. */
static sp_status make_view(sp_stage_context *ctx, const char *input,
                           const sp_volume *in, const sp_window_map *map,
                           sp_volume *view)
{
    const sp_host_api *H = ctx->host;
    window_job job = {map, sp_volume_f32(in), NULL, in->dim[0] * in->dim[1]};
    if (H->size > offsetof(sp_host_api, artifact_take_volume) &&
        H->artifact_take_volume(ctx, input, SP_ARTIFACT_VOLUME, view)) {
        job.in = sp_volume_f32(view);
        window_in_place(ctx, &job, view->dim[2]);
        view->type = SP_VOXEL_U8;
        return SP_OK;
    }
    sp_status st = H->volume_alloc_like(ctx, view, in, SP_VOXEL_U8);
    if (st != SP_OK)
        return st;
    job.out = sp_volume_u8(view);
    H->parallel_for(ctx, in->dim[2], window_slices, &job);
    return SP_OK;
}

static sp_status window_process(sp_stage_context *ctx, void *state)
{
    const window_options *o = ((window_state *)state)->opt;
    const sp_volume *in;
    if (stage_input_f32(ctx, o->input, &in) != SP_OK)
        return SP_STAGE;
    double c = 0, w = 1;
    const char *source;
    sp_status st = choose_window(ctx, o, in, &c, &w, &source);
    if (st != SP_OK)
        return st;
    sp_window_map map;
    sp_window_map_init(&map, c, w, 1);
    sp_volume view;
    st = make_view(ctx, o->input, in, &map, &view);
    sp_window_map_free(&map);
    if (st != SP_OK)
        return st;
    ctx->host->log(ctx, SP_LOG_INFO, "window %s: centre %g, width %g",
                   source, c, w);
    st = ctx->host->artifact_put_volume(ctx, "view.u8", SP_ARTIFACT_VOLUME,
                                        &view);
    if (st != SP_OK)
        return st;
    json_t *table = json_pack("{s:f, s:f, s:s}", "center", c, "width", w,
                              "source", source);
    if (!table)
        return ctx->host->fail(ctx, SP_NOMEM, "cannot build the window table");
    return ctx->host->artifact_put_table(ctx, "view.window", table);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "window",
    .version = "1.1.0",
    .description = "8-bit display view of the series: CT presets, explicit "
                   "centre/width, header VOI window, or MR percentiles",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(window_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = window_init,
    .process = window_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
