/* Stage `label_levels`: names the vertebrae of `spine.model` (T11, T12,
 * L1-L5, S1) from the sacrum and the ribs, with a confidence; provides
 * the named model as `spine.levels` with `labels_confident`, `label_note`
 * and the cues. Transitional anatomy is set in config (`lumbar_count`,
 * `lowest`, `anchor`); when the cues disagree or are missing the note
 * says so and it is logged as a warning instead of guessing silently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "spinepipe/stage.h"
#include "levels_kernels.h"
#include "spine_json.h"

enum { ANCHOR_SACRUM, ANCHOR_RIBS };
static const char *const anchor_names[] = {"sacrum", "ribs", NULL};

typedef struct levels_options {
    int lumbar_count;
    const char *lowest;
    int anchor;
} levels_options;

static const sp_param params[] = {
    {"lumbar_count", SP_PARAM_INT, "5", 4, 6, NULL, NULL,
     "lumbar vertebrae of this patient: 4 (sacralised L5) or 6 (lumbarised "
     "S1) for transitional anatomy", offsetof(levels_options, lumbar_count)},
    {"lowest", SP_PARAM_STRING, "", 0, 0, NULL, NULL,
     "name of the lowest vertebra in the image (e.g. S1, L4) when it is "
     "known; empty: from the anatomy", offsetof(levels_options, lowest)},
    {"anchor", SP_PARAM_ENUM, "sacrum", 0, 0, NULL, anchor_names,
     "when sacrum and ribs disagree, count from the sacrum or from the last "
     "rib-bearing vertebra (T12)", offsetof(levels_options, anchor)},
};

static const char *const requires_list[] = {"mask.bone", "spine.model",
                                            NULL};
static const char *const provides_list[] = {"spine.levels", NULL};

static sp_status levels_init(sp_stage_context *ctx, const void *options,
                             void **state)
{
    const levels_options *o = options;
    if (o->lowest && strlen(o->lowest) >= sizeof((level_params *)0)->lowest)
        return ctx->host->fail(ctx, SP_CONFIG,
                               "lowest '%s' is not a vertebra name",
                               o->lowest);
    *state = (void *)o;
    return SP_OK;
}

static json_t *cue_table(const level_cues *c)
{
    return json_pack("{s:i, s:f, s:f, s:i}", "sacrum", c->sacrum,
                     "sacrum_tilt_deg", c->sacrum_tilt_deg,
                     "sacrum_ala_share", c->sacrum_ala_share, "last_rib",
                     c->last_rib);
}

static sp_status levels_process(sp_stage_context *ctx, void *state)
{
    const levels_options *o = state;
    const sp_host_api *H = ctx->host;
    const sp_volume *bone = H->artifact_volume(ctx, "mask.bone",
                                               SP_ARTIFACT_MASK);
    const json_t *in = H->artifact_table(ctx, "spine.model");
    const char *why = spine_not_analysable(in);
    if (why)
        return H->artifact_put_table(
            ctx, "spine.levels", json_pack("{s:s}", "not_analysable", why));
    if (!bone || bone->type != SP_VOXEL_U8)
        return H->fail(ctx, SP_STAGE, "mask.bone is not a U8 mask");
    spine_model *m = calloc(1, sizeof *m);
    if (!m)
        return H->fail(ctx, SP_NOMEM, "out of memory");
    sp_error err = {0};
    level_cues cues;
    level_params lp;
    level_params_default(&lp);
    lp.lumbar_count = o->lumbar_count;
    lp.anchor_ribs = o->anchor == ANCHOR_RIBS;
    snprintf(lp.lowest, sizeof lp.lowest, "%s", o->lowest ? o->lowest : "");
    sp_status st = spine_model_from_json(in, m, &err);
    if (st == SP_OK)
        st = levels_find_cues(bone, m, &cues, &err);
    if (st == SP_OK)
        st = levels_assign(m, &cues, &lp, &err);
    json_t *table = st == SP_OK ? spine_model_to_json(m) : NULL;
    if (table) {
        json_object_set_new(table, "cues", cue_table(&cues));
        json_object_set_new(table, "lowest_override",
                            json_string(lp.lowest));
        /* An uncertain note starts with UNCERTAIN and one with no names
         * with "levels not named": the log line does not repeat either. */
        const char *note = m->label_note;
        if (m->labels_confident)
            H->log(ctx, SP_LOG_INFO, "levels confident: %s", note);
        else
            H->log(ctx, SP_LOG_WARN, "%s%s",
                   strncmp(note, "UNCERTAIN", 9) == 0 ? "levels " : "",
                   note);
    }
    spine_curve_free(&m->curve);
    free(m);
    if (st != SP_OK)
        return H->fail(ctx, st, "%s", err.message);
    if (!table)
        return H->fail(ctx, SP_NOMEM, "out of memory");
    return H->artifact_put_table(ctx, "spine.levels", table);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "label_levels",
    .version = "1.0.0",
    .description = "names the vertebrae (T11-S1) from sacrum and ribs, with "
                   "a confidence and overrides for transitional anatomy",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(levels_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = levels_init,
    .process = levels_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
