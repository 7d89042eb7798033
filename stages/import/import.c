/* Stage `import`: brings results made outside spinepipe into a pipeline:
 * a label map in NIfTI (CONTRACTS.md label values) as `labels.spine` and
 * a measurements table in JSON (docs/report-json.md) as `measurements`,
 * so the report stage can draw and report them. The tests use it to feed
 * the phantom's ground truth to the report. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "spinepipe/stage.h"

typedef struct import_options {
    const char *labels;
    const char *table;
} import_options;

static const sp_param params[] = {
    {"labels", SP_PARAM_STRING, "", 0, 0, NULL, NULL,
     "NIfTI label map to import as 'labels.spine'",
     offsetof(import_options, labels)},
    {"table", SP_PARAM_STRING, "", 0, 0, NULL, NULL,
     "JSON measurements table to import as 'measurements'",
     offsetof(import_options, table)},
};

static const char *const requires_list[] = {NULL};
static const char *const provides_list[] = {"labels.spine", "measurements",
                                            NULL};

static sp_status import_init(sp_stage_context *ctx, const void *options,
                             void **state)
{
    const import_options *o = options;
    if (!o->labels || !o->labels[0] || !o->table || !o->table[0])
        return ctx->host->fail(ctx, SP_CONFIG,
                               "parameters 'labels' and 'table' must both "
                               "name files");
    *state = (void *)o;
    return SP_OK;
}

static sp_status import_process(sp_stage_context *ctx, void *state)
{
    const import_options *o = state;
    const sp_host_api *H = ctx->host;
    sp_volume v = {0};
    sp_status st = H->nifti_read(ctx, o->labels, 1, &v);
    if (st != SP_OK)
        return st;
    if (v.type != SP_VOXEL_U16) {
        H->volume_free(&v);
        return H->fail(ctx, SP_STAGE,
                       "%s: not a label map (values must be integers "
                       "0..65535)",
                       o->labels);
    }
    st = H->artifact_put_volume(ctx, "labels.spine", SP_ARTIFACT_LABELS, &v);
    if (st != SP_OK)
        return st;
    json_error_t je;
    json_t *t = json_load_file(o->table, 0, &je);
    if (!t)
        return H->fail(ctx, SP_FORMAT, "%s:%d: %s", o->table, je.line,
                       je.text);
    if (!json_is_object(t)) {
        json_decref(t);
        return H->fail(ctx, SP_FORMAT, "%s: the table is not a JSON object",
                       o->table);
    }
    return H->artifact_put_table(ctx, "measurements", t);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "import",
    .version = "1.0.0",
    .description = "a NIfTI label map and a JSON measurements table made "
                   "elsewhere, as labels.spine and measurements",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(import_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = import_init,
    .process = import_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
