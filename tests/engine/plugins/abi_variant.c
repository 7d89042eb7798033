/* Test plugin: a minimal stage whose ABI version can be shifted at build
 * time (VARIANT_MAJOR / VARIANT_MINOR) to check that the host refuses it. */
#include "spinepipe/stage.h"

#ifndef VARIANT_MAJOR
#define VARIANT_MAJOR 0
#endif
#ifndef VARIANT_MINOR
#define VARIANT_MINOR 0
#endif

static sp_status v_init(sp_stage_context *ctx, const void *o, void **s)
{
    (void)ctx;
    (void)o;
    (void)s;
    return SP_OK;
}

static sp_status v_process(sp_stage_context *ctx, void *s)
{
    (void)ctx;
    (void)s;
    return SP_OK;
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR + VARIANT_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR + VARIANT_MINOR,
    .name = "abi_variant",
    .version = "0.0.1",
    .description = "test stage with a shifted ABI version",
    .init = v_init,
    .process = v_process,
};

SP_STAGE_ENTRY(descriptor)
