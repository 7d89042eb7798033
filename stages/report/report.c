/* Stage `report`: the overview image, one key image per disc level and
 * report.json, from whatever the pipeline produced. The view (`view.u8`)
 * is always there; `labels.spine` and the `measurements` table are drawn
 * and reported when analysis stages left them (docs/report-json.md). */
#include <stdio.h>
#include <string.h>

#include "report.h"

static const sp_param params[] = {
    {"min_size", SP_PARAM_INT, "512", 64, 2048, "pixels", NULL,
     "longer side of the image area at least this many pixels (pixels "
     "shrink below the voxel spacing to get there)",
     offsetof(report_options, min_size)},
    {"font_size", SP_PARAM_FLOAT, "15", 8, 48, "pixels", NULL,
     "size of the annotation text", offsetof(report_options, font_size)},
    {"key_images", SP_PARAM_BOOL, "true", 0, 0, NULL, NULL,
     "one key image per disc level that has a disc position",
     offsetof(report_options, key_images)},
    {"key_fov_mm", SP_PARAM_FLOAT, "100", 20, 500, "mm", NULL,
     "field of view of the key images, centred on the disc",
     offsetof(report_options, key_fov_mm)},
};

static const char *const requires_list[] = {"view.u8", NULL};
static const char *const provides_list[] = {"report", NULL};

static sp_status report_init(sp_stage_context *ctx, const void *options,
                             void **state)
{
    (void)ctx;
    *state = (void *)options;
    return SP_OK;
}

/* A copy of `key` from the table, or an empty array. */
static json_t *table_array(const json_t *table, const char *key)
{
    const json_t *a = json_object_get(table, key);
    return json_is_array(a) ? json_deep_copy(a) : json_array();
}

static json_t *series_json(sp_stage_context *ctx, const report_input *in)
{
    const sp_dicom_header *h = ctx->header;
    json_t *s = json_object();
    if (!h)
        return s;
    json_object_set_new(s, "modality", json_string(h->modality));
    json_object_set_new(s, "series_number", json_integer(h->series_number));
    json_object_set_new(s, "description", json_string(h->series_description));
    if (!in->anonymize) {
        json_object_set_new(s, "patient_id", json_string(h->patient_id));
        json_object_set_new(s, "study_date", json_string(h->study_date));
        json_object_set_new(s, "study_uid", json_string(h->study_uid));
        json_object_set_new(s, "series_uid", json_string(h->series_uid));
    }
    return s;
}

static json_t *build_report(sp_stage_context *ctx, const report_input *in,
                            json_t *images)
{
    json_t *r = json_object();
    json_object_set_new(r, "schema", json_string("spinepipe-report/1"));
    json_object_set_new(r, "disclaimer",
                        json_string("Research/triage aid. Not for "
                                    "diagnostic use."));
    json_object_set_new(r, "anonymized", json_boolean(in->anonymize));
    json_object_set_new(r, "series", series_json(ctx, in));
    json_object_set_new(r, "vertebrae", table_array(in->table, "vertebrae"));
    json_object_set_new(r, "levels", table_array(in->table, "levels"));
    json_t *warnings = table_array(in->table, "warnings");
    if (!in->table) {
        json_object_set_new(r, "not_analysable",
                            json_string("no analysis stage ran in this "
                                        "pipeline: no 'measurements' "
                                        "artifact, so only the image is "
                                        "reported"));
    } else {
        const json_t *sec = json_object_get(in->table, "sections");
        if (json_is_array(sec)) /* axial MR: canal per slice */
            json_object_set_new(r, "sections", json_deep_copy(sec));
        const json_t *na = json_object_get(in->table, "not_analysable");
        if (json_is_string(na))
            json_object_set_new(r, "not_analysable", json_deep_copy(na));
        if (!in->labels)
            json_array_append_new(warnings,
                                  json_string("no label map "
                                              "('labels.spine'): contours "
                                              "are not drawn"));
    }
    json_object_set_new(r, "warnings", warnings);
    if (in->window)
        json_object_set_new(r, "window", json_deep_copy(in->window));
    json_object_set(r, "images", images);
    return r;
}

/* Besides `view.u8` (required) the stage reads the label map when the
 * pipeline made one (stage ABI 1.4). */
static int report_reads_volume(const void *options, const char *name)
{
    (void)options;
    return strcmp(name, "labels.spine") == 0;
}

static sp_status report_process(sp_stage_context *ctx, void *state)
{
    const report_options *o = state;
    const sp_host_api *H = ctx->host;
    report_input in = {
        .view = H->artifact_volume(ctx, "view.u8", SP_ARTIFACT_VOLUME),
        .labels = H->artifact_volume(ctx, "labels.spine", SP_ARTIFACT_LABELS),
        .table = H->artifact_table(ctx, "measurements"),
        .window = H->artifact_table(ctx, "view.window"),
        .anonymize = (ctx->run_flags & SP_RUN_ANONYMIZE) != 0,
    };
    if (!in.view || in.view->type != SP_VOXEL_U8)
        return H->fail(ctx, SP_STAGE,
                       "artifact 'view.u8' is missing or not 8-bit");
    if (in.labels && in.labels->type != SP_VOXEL_U16)
        return H->fail(ctx, SP_STAGE, "artifact 'labels.spine' is not U16");
    if (in.table && !json_is_object(in.table))
        return H->fail(ctx, SP_STAGE,
                       "artifact 'measurements' is not a JSON object "
                       "(docs/report-json.md)");
    json_t *images = json_array();
    sp_status st = draw_overview(ctx, o, &in, images);
    H->progress(ctx, 0.3);
    if (st == SP_OK && o->key_images && in.table)
        st = draw_key_images(ctx, o, &in, images);
    json_t *r = st == SP_OK ? build_report(ctx, &in, images) : NULL;
    json_decref(images);
    if (st == SP_OK)
        st = H->write_json(ctx, "report.json", r);
    if (st == SP_OK)
        return H->artifact_put_table(ctx, "report", r);
    json_decref(r);
    return st;
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "report",
    .version = "1.1.0",
    .description = "annotated overview and key-image PNGs and report.json "
                   "from whatever the pipeline produced",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(report_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = report_init,
    .process = report_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
    .reads_volume = report_reads_volume,
};

SP_STAGE_ENTRY(descriptor)
