/* Stage `resample`: a float32 volume onto isotropic or given spacing
 * (linear, or nearest), same orientation and first voxel, so later stages
 * can work in millimetres. Output volume.resampled. */
#include <math.h>

#include "spinepipe/stage.h"
#include "stage_input.h"
#include "resample_kernel.h"

static const char *const method_names[] = {"linear", "nearest", NULL};

typedef struct resample_options {
    const char *input;
    double spacing;
    double spacing_i, spacing_j, spacing_k;
    int method;
} resample_options;

static const sp_param params[] = {
    {"input", SP_PARAM_ARTIFACT, "volume.hu", 0, 0, NULL, NULL,
     "the float32 volume to resample", offsetof(resample_options, input)},
    {"spacing", SP_PARAM_FLOAT, "0", 0, 50, "mm", NULL,
     "isotropic spacing; 0 takes the finest spacing of the input",
     offsetof(resample_options, spacing)},
    {"spacing_i", SP_PARAM_FLOAT, "0", 0, 50, "mm", NULL,
     "spacing along i (image columns); overrides `spacing` when > 0",
     offsetof(resample_options, spacing_i)},
    {"spacing_j", SP_PARAM_FLOAT, "0", 0, 50, "mm", NULL,
     "spacing along j (image rows); overrides `spacing` when > 0",
     offsetof(resample_options, spacing_j)},
    {"spacing_k", SP_PARAM_FLOAT, "0", 0, 50, "mm", NULL,
     "spacing along k (across slices); overrides `spacing` when > 0",
     offsetof(resample_options, spacing_k)},
    {"method", SP_PARAM_ENUM, "linear", 0, 0, NULL, method_names,
     "linear for images; nearest keeps exact values",
     offsetof(resample_options, method)},
};

static const char *const requires_list[] = {NULL}; /* see `input` */
static const char *const provides_list[] = {"volume.resampled", NULL};

typedef struct fill_job {
    const sp_volume *src;
    sp_volume *dst;
    resample_method method;
} fill_job;

static void run_fill(void *arg, size_t k0, size_t k1)
{
    const fill_job *j = arg;
    resample_fill(j->src, j->dst, j->method, k0, k1);
}

static sp_status resample_init(sp_stage_context *ctx, const void *options,
                               void **state)
{
    *state = (void *)options;
    return SP_OK;
}

static sp_status resample_process(sp_stage_context *ctx, void *state)
{
    const resample_options *o = state;
    const sp_volume *in;
    if (stage_input_f32(ctx, o->input, &in) != SP_OK)
        return SP_STAGE;
    double iso = o->spacing;
    if (!(iso > 0))
        iso = fmin(in->spacing[0], fmin(in->spacing[1], in->spacing[2]));
    const double per_axis[3] = {o->spacing_i, o->spacing_j, o->spacing_k};
    double spacing[3];
    for (int a = 0; a < 3; a++)
        spacing[a] = per_axis[a] > 0 ? per_axis[a] : iso;
    sp_volume out;
    sp_error err;
    sp_status st = resample_alloc_grid(in, spacing, &out, &err);
    if (st != SP_OK)
        return ctx->host->fail(ctx, st, "%s", err.message);
    fill_job job = {in, &out,
                    o->method == 0 ? RESAMPLE_LINEAR : RESAMPLE_NEAREST};
    ctx->host->parallel_for(ctx, out.dim[2], run_fill, &job);
    ctx->host->log(ctx, SP_LOG_INFO,
                   "%s: %zu x %zu x %zu at %.3g x %.3g x %.3g mm", o->input,
                   out.dim[0], out.dim[1], out.dim[2], spacing[0], spacing[1],
                   spacing[2]);
    return ctx->host->artifact_put_volume(ctx, "volume.resampled",
                                         SP_ARTIFACT_VOLUME, &out);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "resample",
    .version = "1.0.0",
    .description = "resample to isotropic or given spacing (linear or "
                   "nearest)",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(resample_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = resample_init,
    .process = resample_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
