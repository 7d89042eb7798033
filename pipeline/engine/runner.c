/* Running one series through a pipeline: the host side of the stage ABI
 * (context, host function table, scratch memory) and the init / process /
 * destroy sequence, with destroy always called once init has run. */
#include "engine.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "host_io.h"
#include "log.h"
#include "output/output.h"
#include "volume_pool.h"

typedef struct scratch_block {
    struct scratch_block *next;
    max_align_t data[];
} scratch_block;

/* The host's view of a context; `pub` is what the stage sees. */
typedef struct run_ctx {
    sp_stage_context pub;
    sp_store *store;
    const sp_run_hooks *hooks;
    const sp_pipeline *pipe;
    size_t index;
    scratch_block *scratch;
    sp_error error;    /* the stage's reason, from host->fail */
    int failed;
} run_ctx;

static run_ctx *host_of(sp_stage_context *ctx)
{
    return (run_ctx *)ctx;
}

static void host_log(sp_stage_context *ctx, sp_log_level level,
                     const char *fmt, ...)
{
    if (!sp_log_enabled(level, ctx->stage_name))
        return;
    char msg[SP_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const sp_run_hooks *hooks = host_of(ctx)->hooks;
    if (hooks && hooks->label)
        sp_log(level, ctx->stage_name, "%s: %s", hooks->label, msg);
    else
        sp_log(level, ctx->stage_name, "%s", msg);
}

static void host_progress(sp_stage_context *ctx, double fraction)
{
    run_ctx *rc = host_of(ctx);
    if (rc->hooks && rc->hooks->on_stage)
        rc->hooks->on_stage(rc->hooks->user, rc->index, ctx->stage_name,
                            fraction < 0 ? 0 : fraction > 1 ? 1 : fraction);
}

static sp_status host_fail(sp_stage_context *ctx, sp_status code,
                           const char *fmt, ...)
{
    /* Stages may fail from parallel_for workers (stage.h): the first
     * reason wins. */
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    run_ctx *rc = host_of(ctx);
    if (code == SP_OK)
        code = SP_STAGE;
    pthread_mutex_lock(&lock);
    if (!rc->failed) {
        char msg[SP_ERROR_MESSAGE_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        sp_error_set(&rc->error, code, "stage '%s': %s", ctx->stage_name,
                     msg);
        rc->failed = 1;
    }
    pthread_mutex_unlock(&lock);
    return code;
}

static sp_status fail_with(run_ctx *rc, const sp_error *e)
{
    return host_fail(&rc->pub, e->code, "%s", e->message);
}

static void *host_scratch_alloc(sp_stage_context *ctx, size_t bytes)
{
    run_ctx *rc = host_of(ctx);
    scratch_block *b = NULL;
    if (bytes <= SIZE_MAX - sizeof *b)
        b = calloc(1, sizeof *b + bytes);
    if (!b) {
        host_fail(ctx, SP_NOMEM, "cannot allocate %zu bytes of scratch",
                  bytes);
        return NULL;
    }
    b->next = rc->scratch;
    rc->scratch = b;
    return b->data;
}

static sp_status host_volume_alloc(sp_stage_context *ctx, sp_volume *vol,
                                   sp_voxel_type type, size_t nx, size_t ny,
                                   size_t nz)
{
    sp_error e;
    sp_status st = sp_pool_volume_alloc(vol, type, nx, ny, nz, 1, &e);
    return st == SP_OK ? st : fail_with(host_of(ctx), &e);
}

static sp_status host_volume_alloc_like(sp_stage_context *ctx,
                                        sp_volume *vol, const sp_volume *like,
                                        sp_voxel_type type)
{
    sp_error e;
    sp_status st = sp_pool_volume_alloc_like(vol, like, type, &e);
    return st == SP_OK ? st : fail_with(host_of(ctx), &e);
}

static const sp_volume *host_artifact_volume(sp_stage_context *ctx,
                                             const char *name,
                                             sp_artifact_kind kind)
{
    return sp_store_volume(host_of(ctx)->store, name, kind);
}

static sp_status host_put_volume(sp_stage_context *ctx, const char *name,
                                 sp_artifact_kind kind, sp_volume *vol)
{
    sp_error e;
    sp_status st = sp_store_put_volume(host_of(ctx)->store, name, kind, vol,
                                       &e);
    return st == SP_OK ? st : fail_with(host_of(ctx), &e);
}

/* In-place work (1.3): only an input this stage names, and only when no
 * later stage may read it (reads.c). */
static int host_take_volume(sp_stage_context *ctx, const char *name,
                            sp_artifact_kind kind, sp_volume *vol)
{
    run_ctx *rc = host_of(ctx);
    memset(vol, 0, sizeof *vol);
    if (!name || !sp_stage_names_artifact(&rc->pipe->stages[rc->index], name) ||
        sp_pipeline_read_after(rc->pipe, rc->index, name))
        return 0;
    return sp_store_take_volume(rc->store, name, kind, ctx->stage_name, vol);
}

static const void *host_artifact_table(sp_stage_context *ctx,
                                       const char *name)
{
    return sp_store_table(host_of(ctx)->store, name);
}

static sp_status host_put_table(sp_stage_context *ctx, const char *name,
                                void *json)
{
    sp_error e;
    sp_status st = sp_store_put_table(host_of(ctx)->store, name, json, &e);
    return st == SP_OK ? st : fail_with(host_of(ctx), &e);
}

static sp_status host_write_png(sp_stage_context *ctx, const char *file,
                                const sp_volume *image,
                                const sp_png_text *text, size_t n_text)
{
    run_ctx *rc = host_of(ctx);
    if (!sp_is_safe_name(file))
        return host_fail(ctx, SP_CANTCREATE,
                         "output file name '%s' is not a plain safe name",
                         file ? file : "");
    if (!image || image->type != SP_VOXEL_U8 || image->dim[2] != 1 ||
        image->dim[0] > UINT32_MAX || image->dim[1] > UINT32_MAX)
        return host_fail(ctx, SP_INTERNAL,
                         "%s: the image must be U8 with one slice", file);
    char path[PATH_MAX];
    if (sp_path_join(path, sizeof path, ctx->output_dir, file) != 0)
        return host_fail(ctx, SP_CANTCREATE, "%s: path too long", file);
    sp_error e;
    sp_status st = sp_png_write_gray8(path, image->data,
                                      (uint32_t)image->dim[0],
                                      (uint32_t)image->dim[1], text, n_text,
                                      &e);
    return st == SP_OK ? st : fail_with(rc, &e);
}

static void host_parallel_for(sp_stage_context *ctx, size_t n,
                              sp_range_fn fn, void *arg)
{
    (void)ctx;
    sp_parallel_for(n, 0, fn, arg);
}

static const sp_host_api host_api = {
    .size = sizeof(sp_host_api),
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .log = host_log,
    .progress = host_progress,
    .fail = host_fail,
    .scratch_alloc = host_scratch_alloc,
    .volume_alloc = host_volume_alloc,
    .volume_alloc_like = host_volume_alloc_like,
    .volume_free = sp_pool_volume_free,
    .patient_to_voxel = sp_volume_patient_to_voxel,
    .artifact_volume = host_artifact_volume,
    .artifact_put_volume = host_put_volume,
    .artifact_table = host_artifact_table,
    .artifact_put_table = host_put_table,
    .write_png = host_write_png,
    .parallel_for = host_parallel_for,
    .nifti_write = sp_host_nifti_write,
    .nifti_read = sp_host_nifti_read,
    .canvas_new = sp_host_canvas_new,
    .canvas_free = sp_host_canvas_free,
    .canvas_gray = sp_host_canvas_gray,
    .canvas_mask = sp_host_canvas_mask,
    .canvas_line = sp_host_canvas_line,
    .canvas_rect = sp_host_canvas_rect,
    .canvas_circle = sp_host_canvas_circle,
    .canvas_text = sp_host_canvas_text,
    .canvas_text_width = sp_host_canvas_text_width,
    .canvas_header_height = sp_host_canvas_header_height,
    .canvas_header = sp_host_canvas_header,
    .canvas_legend = sp_host_canvas_legend,
    .write_canvas_png = sp_host_write_canvas_png,
    .write_json = sp_host_write_json,
    .artifact_take_volume = host_take_volume,
};

const sp_host_api *sp_host_api_get(void)
{
    return &host_api;
}

static void free_scratch(run_ctx *rc)
{
    while (rc->scratch) {
        scratch_block *next = rc->scratch->next;
        free(rc->scratch);
        rc->scratch = next;
    }
}

/* init, process, destroy for one stage; destroy runs whenever init ran. */
static sp_status run_stage(run_ctx *rc, const sp_stage_instance *inst)
{
    const sp_stage_descriptor *d = inst->module->desc;
    void *state = NULL;
    sp_status st = d->init(&rc->pub, inst->options, &state);
    if (st == SP_OK && !rc->failed)
        st = d->process(&rc->pub, state);
    if (d->destroy)
        d->destroy(state);
    free_scratch(rc);
    if (st != SP_OK && !rc->failed)
        host_fail(&rc->pub, st, "failed without giving a reason (%s)",
                  sp_status_message(st));
    if (st == SP_OK && rc->failed)
        st = rc->error.code;
    if (st == SP_OK)
        for (size_t q = 0; d->provides && d->provides[q]; q++)
            if (!sp_store_has(rc->store, d->provides[q]))
                st = host_fail(&rc->pub, SP_STAGE,
                               "finished without providing artifact '%s' "
                               "that it declares",
                               d->provides[q]);
    return st;
}

sp_status sp_pipeline_run(const sp_pipeline *p, sp_volume *volume,
                          const sp_dicom_header *header,
                          const char *output_dir, const sp_run_hooks *hooks,
                          sp_store **store_out, json_t **report,
                          sp_error *err)
{
    json_t *stages = json_array();
    *report = json_pack("{s:s, s:o}", "pipeline", p->path, "stages", stages);
    if (store_out)
        *store_out = NULL;
    sp_store *store;
    sp_status st = sp_store_new(&store, err);
    if (st != SP_OK) {
        sp_pool_volume_free(volume);
        return st;
    }
    st = sp_store_put_volume(store, "volume.hu", SP_ARTIFACT_VOLUME, volume,
                             err);
    for (size_t i = 0; st == SP_OK && i < p->n_stages; i++) {
        const sp_stage_descriptor *d = p->stages[i].module->desc;
        run_ctx rc = {
            .pub = {.host = &host_api,
                    /* NULL once an earlier stage consumed it. */
                    .volume = sp_store_volume(store, "volume.hu",
                                              SP_ARTIFACT_VOLUME),
                    .header = header,
                    .output_dir = output_dir,
                    .stage_name = d->name,
                    .run_flags = hooks ? hooks->flags : 0},
            .store = store,
            .hooks = hooks,
            .pipe = p,
            .index = i,
        };
        rc.pub.host_private = &rc;
        if (hooks && hooks->on_stage)
            hooks->on_stage(hooks->user, i, d->name, 0.0);
        sp_log(SP_LOG_DEBUG, d->name, "start");
        double t0 = sp_now_seconds();
        st = run_stage(&rc, &p->stages[i]);
        double seconds = sp_now_seconds() - t0;
        json_t *row = json_pack("{s:s, s:s, s:s, s:f}", "name", d->name,
                                "version", d->version, "status",
                                st == SP_OK ? "ok" : "failed", "seconds",
                                seconds);
        if (st != SP_OK) {
            json_object_set_new(row, "error",
                                json_string(rc.error.message));
            sp_error_set(err, st, "%s", rc.error.message);
        }
        json_array_append_new(stages, row);
        sp_log(SP_LOG_DEBUG, d->name, "%s in %.3f s",
               st == SP_OK ? "done" : "failed", seconds);
    }
    json_object_set_new(*report, "artifacts", sp_store_json(store));
    if (store_out)
        *store_out = store;
    else
        sp_store_free(store);
    return st;
}
