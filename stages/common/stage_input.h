/* Stage-side helper shared by the built-in stages (header only: a stage
 * never links against the core, so this uses the host table alone). */
#ifndef SPINEPIPE_STAGE_INPUT_H
#define SPINEPIPE_STAGE_INPUT_H

#include "spinepipe/stage.h"

/* The float32 volume artifact `name` (a stage's `input` parameter) in
 * *out, or the stage's failure naming the artifact and what is wrong. */
static inline sp_status stage_input_f32(sp_stage_context *ctx,
                                        const char *name,
                                        const sp_volume **out)
{
    const sp_volume *v =
        ctx->host->artifact_volume(ctx, name, SP_ARTIFACT_VOLUME);
    *out = NULL;
    if (!v)
        return ctx->host->fail(ctx, SP_STAGE,
                               "no volume artifact '%s' (no earlier stage "
                               "provides it)", name);
    if (v->type != SP_VOXEL_F32)
        return ctx->host->fail(ctx, SP_STAGE,
                               "%s is not a float32 volume (voxel type %d)",
                               name, (int)v->type);
    *out = v;
    return SP_OK;
}

#endif
