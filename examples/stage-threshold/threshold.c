/* An example spinepipe stage: a bone mask by HU thresholds.
 * Build out of tree:
 *   cc -shared -fPIC $(pkg-config --cflags spinepipe-stage) threshold.c \
 *      -o threshold.so
 * See docs/writing-a-stage.md. */
#include <stddef.h>

#include "spinepipe/stage.h"

typedef struct options {
    double low, high;
} options;

static const sp_param params[] = {
    {"low", SP_PARAM_FLOAT, "200", -2000, 4000, "HU", NULL,
     "lowest HU counted as bone", offsetof(options, low)},
    {"high", SP_PARAM_FLOAT, "3000", -2000, 4000, "HU", NULL,
     "highest HU counted as bone", offsetof(options, high)},
};

static const char *const requires_list[] = {"volume.hu", NULL};
static const char *const provides_list[] = {"mask.bone", NULL};

static sp_status th_init(sp_stage_context *ctx, const void *opt, void **state)
{
    const options *o = opt;
    if (o->low > o->high)
        return ctx->host->fail(ctx, SP_CONFIG, "low (%g) is above high (%g)",
                               o->low, o->high);
    *state = (void *)o; /* no state of our own: keep the options */
    return SP_OK;
}

static sp_status th_process(sp_stage_context *ctx, void *state)
{
    const options *o = state;
    const sp_volume *hu = ctx->volume;
    sp_volume mask;
    sp_status st = ctx->host->volume_alloc_like(ctx, &mask, hu, SP_VOXEL_U8);
    if (st != SP_OK)
        return st;
    const float *in = sp_volume_f32(hu);
    uint8_t *out = sp_volume_u8(&mask);
    size_t n = sp_volume_count(hu), count = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = in[i] >= o->low && in[i] <= o->high;
        count += out[i];
    }
    ctx->host->log(ctx, SP_LOG_INFO, "%zu of %zu voxels in [%g, %g] HU",
                   count, n, o->low, o->high);
    return ctx->host->artifact_put_volume(ctx, "mask.bone", SP_ARTIFACT_MASK,
                                          &mask);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "threshold",
    .version = "1.0.0",
    .description = "bone mask from HU thresholds (SDK example)",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(options),
    .requires = requires_list,
    .provides = provides_list,
    .init = th_init,
    .process = th_process,
};

SP_STAGE_ENTRY(descriptor)
