/* Test plugin: records init/process/destroy calls so the engine's promise
 * "destroy always runs once init has run" can be checked. */
#include <stdlib.h>

#include <jansson.h>

#include "spinepipe/stage.h"

typedef struct opts {
    int fail_init;
    int fail_process;
    int skip_provide;
} opts;

static const sp_param params[] = {
    {"fail_init", SP_PARAM_BOOL, "false", 0, 0, NULL, NULL,
     "init allocates its state, then fails", offsetof(opts, fail_init)},
    {"fail_process", SP_PARAM_BOOL, "false", 0, 0, NULL, NULL,
     "process fails", offsetof(opts, fail_process)},
    {"skip_provide", SP_PARAM_BOOL, "false", 0, 0, NULL, NULL,
     "process succeeds without providing its artifact",
     offsetof(opts, skip_provide)},
};

static const char *const requires_list[] = {"volume.hu", NULL};
static const char *const provides_list[] = {"test.lifecycle", NULL};

/* Test-only global counters; the test runs one series at a time. */
static int n_init, n_process, n_destroy, n_destroy_with_state;

SP_STAGE_EXPORT void lifecycle_counts(int counts[4]);
void lifecycle_counts(int counts[4])
{
    counts[0] = n_init;
    counts[1] = n_process;
    counts[2] = n_destroy;
    counts[3] = n_destroy_with_state;
    n_init = n_process = n_destroy = n_destroy_with_state = 0;
}

typedef struct lc_state {
    const opts *o;
} lc_state;

static sp_status lc_init(sp_stage_context *ctx, const void *options,
                         void **state)
{
    n_init++;
    lc_state *s = malloc(sizeof *s); /* destroy frees it, even on failure */
    *state = s;
    if (!s)
        return ctx->host->fail(ctx, SP_NOMEM, "out of memory");
    s->o = options;
    if (s->o->fail_init)
        return ctx->host->fail(ctx, SP_STAGE, "init failed on purpose");
    return SP_OK;
}

static sp_status lc_process(sp_stage_context *ctx, void *state)
{
    const lc_state *s = state;
    n_process++;
    if (!ctx->host->artifact_volume(ctx, "volume.hu", SP_ARTIFACT_VOLUME))
        return ctx->host->fail(ctx, SP_STAGE, "no volume.hu");
    if (s->o->fail_process)
        return ctx->host->fail(ctx, SP_STAGE, "process failed on purpose");
    if (s->o->skip_provide)
        return SP_OK;
    return ctx->host->artifact_put_table(ctx, "test.lifecycle",
                                         json_integer(n_process));
}

static void lc_destroy(void *state)
{
    n_destroy++;
    if (state)
        n_destroy_with_state++;
    free(state);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "lifecycle",
    .version = "0.0.1",
    .description = "test probe for the stage lifecycle",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(opts),
    .requires = requires_list,
    .provides = provides_list,
    .init = lc_init,
    .process = lc_process,
    .destroy = lc_destroy,
};

SP_STAGE_ENTRY(descriptor)
