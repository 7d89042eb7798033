/* Stage `bias`: MR intensity non-uniformity (coil shading) correction and
 * intensity normalisation, from the kernels in bias_homomorphic.c. Reads a
 * float32 volume, writes `volume.corrected` on the same grid: shading
 * divided out and the foreground median brought to `target_median`, so
 * later stages see the same scale whatever the vendor's. Optional in MR
 * pipelines: the MR analysis stages normalise their input themselves. */
#include <string.h>

#include "spinepipe/stage.h"
#include "stage_input.h"
#include "bias_kernels.h"

typedef struct bias_options {
    const char *input;
    double sigma_mm;
    double fg_fraction;
    double target_median;
    int iterations;
} bias_options;

static const sp_param params[] = {
    {"input", SP_PARAM_ARTIFACT, "volume.hu", 0, 0, NULL, NULL,
     "the float32 MR volume to correct", offsetof(bias_options, input)},
    {"sigma", SP_PARAM_FLOAT, "25", 5, 200, "mm", NULL,
     "smoothness of the shading field (Gaussian sigma); smaller follows "
     "faster shading but starts to flatten anatomy",
     offsetof(bias_options, sigma_mm)},
    {"foreground", SP_PARAM_FLOAT, "0.08", 0.01, 0.9, NULL, NULL,
     "voxels above this fraction of the 99th percentile are foreground "
     "(the field is estimated over them only)",
     offsetof(bias_options, fg_fraction)},
    {"target_median", SP_PARAM_FLOAT, "100", 1, 100000, NULL, NULL,
     "foreground median after normalisation (removes vendor scaling)",
     offsetof(bias_options, target_median)},
    {"iterations", SP_PARAM_INT, "3", 1, 10, NULL, NULL,
     "correction passes", offsetof(bias_options, iterations)},
};

static const char *const requires_list[] = {NULL}; /* see `input` */
static const char *const provides_list[] = {"volume.corrected", NULL};

static sp_status bias_init(sp_stage_context *ctx, const void *options,
                           void **state)
{
    (void)ctx;
    *state = (void *)options;
    return SP_OK;
}

static sp_status bias_process(sp_stage_context *ctx, void *state)
{
    const bias_options *o = state;
    const sp_host_api *H = ctx->host;
    const sp_volume *in;
    if (stage_input_f32(ctx, o->input, &in) != SP_OK)
        return SP_STAGE;
    if (ctx->header && strcmp(ctx->header->modality, "MR") != 0)
        H->log(ctx, SP_LOG_WARN,
               "modality %s: shading correction is meant for MR",
               ctx->header->modality);
    bias_params p = {.sigma_mm = o->sigma_mm, .fg_fraction = o->fg_fraction,
                     .target_median = o->target_median,
                     .iterations = o->iterations};
    sp_volume out = {0}, fg = {0};
    sp_error err;
    double scale = 0;
    sp_status st = bias_correct(in, &p, &out, NULL, &err);
    H->progress(ctx, 0.8);
    if (st == SP_OK)
        st = bias_foreground(in, p.fg_fraction, &fg, &err);
    if (st == SP_OK)
        st = bias_normalise(&out, &fg, p.target_median, &scale, &err);
    sp_volume_free(&fg);
    if (st != SP_OK) {
        sp_volume_free(&out);
        return H->fail(ctx, st, "%s: %s", o->input, err.message);
    }
    H->log(ctx, SP_LOG_INFO,
           "shading corrected (sigma %g mm, %d passes), intensities scaled "
           "by %.4g to a foreground median of %g", p.sigma_mm, p.iterations,
           scale, p.target_median);
    return H->artifact_put_volume(ctx, "volume.corrected", SP_ARTIFACT_VOLUME,
                                  &out);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "bias",
    .version = "1.0.0",
    .description = "MR shading (bias field) correction and intensity "
                   "normalisation to a fixed foreground median",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(bias_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = bias_init,
    .process = bias_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
