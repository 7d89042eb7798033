/* Stage `segment_vertebrae`: the spinal centre line through the bodies,
 * the disc spaces along it and the vertebrae between them, as the table
 * `spine.model` (spine_json.h). A series the kernels cannot split gets
 * `not_analysable` in the table instead of a failure. */
#include <stdlib.h>

#include <jansson.h>

#include "spinepipe/stage.h"
#include "spine_json.h"
#include "vertebrae_kernels.h"

typedef struct vert_options {
    double min_extent_mm;
    double radius_mm;
    double min_score;
} vert_options;

static const sp_param params[] = {
    {"min_extent_mm", SP_PARAM_FLOAT, "25", 5, 500, "mm", NULL,
     "body cross-sections must span at least this head to feet",
     offsetof(vert_options, min_extent_mm)},
    {"profile_radius_mm", SP_PARAM_FLOAT, "9", 3, 20, "mm", NULL,
     "radius of the disc across the centre line over which the HU and bone "
     "profiles are averaged", offsetof(vert_options, radius_mm)},
    {"min_disc_score", SP_PARAM_FLOAT, "60", 0, 500, NULL, NULL,
     "a disc space scores its HU below the flanking endplates plus 100 x "
     "(1 - bone fraction); weaker minima are no disc",
     offsetof(vert_options, min_score)},
};

static const char *const requires_list[] = {"volume.work", "mask.spine",
                                            "spine.bone", NULL};
static const char *const provides_list[] = {"spine.model", NULL};

static sp_status vert_init(sp_stage_context *ctx, const void *options,
                           void **state)
{
    (void)ctx;
    *state = (void *)options;
    return SP_OK;
}

static sp_status split(const vert_options *o, const sp_volume *ct,
                       const sp_volume *spine, spine_model *m, sp_error *err)
{
    m->cranial_sign = ct->vox2lps[2][2] >= 0 ? 1 : -1;
    sp_status st = vert_centerline(spine, o->min_extent_mm, &m->curve, err);
    if (st != SP_OK)
        return st;
    double *hu = malloc(m->curve.n * sizeof *hu);
    double *bf = malloc(m->curve.n * sizeof *bf);
    vert_split_params sp;
    vert_split_params_default(&sp);
    sp.min_score = o->min_score;
    st = hu && bf ? vert_profiles(ct, spine, &m->curve, o->radius_mm, hu, bf,
                                  err)
                  : sp_error_set(err, SP_NOMEM, "out of memory");
    if (st == SP_OK)
        st = vert_split(hu, bf, &m->curve, &sp, m, err);
    free(hu), free(bf);
    if (st == SP_OK)
        st = vert_describe(spine, m, err);
    return st;
}

static sp_status vert_process(sp_stage_context *ctx, void *state)
{
    const vert_options *o = state;
    const sp_host_api *H = ctx->host;
    const sp_volume *ct = H->artifact_volume(ctx, "volume.work",
                                             SP_ARTIFACT_VOLUME);
    const sp_volume *spine = H->artifact_volume(ctx, "mask.spine",
                                                SP_ARTIFACT_MASK);
    const json_t *bone = H->artifact_table(ctx, "spine.bone");
    if (!ct || !spine || ct->type != SP_VOXEL_F32 ||
        spine->type != SP_VOXEL_U8)
        return H->fail(ctx, SP_STAGE,
                       "volume.work (float32) and mask.spine (U8) are "
                       "needed");
    const char *why = spine_not_analysable(bone);
    if (why)
        return H->artifact_put_table(
            ctx, "spine.model", json_pack("{s:s}", "not_analysable", why));
    spine_model *m = calloc(1, sizeof *m);
    if (!m)
        return H->fail(ctx, SP_NOMEM, "out of memory");
    sp_error err = {0};
    sp_status st = split(o, ct, spine, m, &err);
    json_t *table = NULL;
    if (st == SP_NOTANALYSABLE) {
        H->log(ctx, SP_LOG_WARN, "not analysable: %s",
               spine_reason(err.message));
        table = json_pack("{s:s}", "not_analysable",
                          spine_reason(err.message));
        st = SP_OK;
    } else if (st == SP_OK) {
        table = spine_model_to_json(m);
        H->log(ctx, SP_LOG_INFO, "%zu vertebrae along %.0f mm of centre line",
               m->n_vert, (double)m->curve.n * m->curve.step_mm);
    }
    spine_curve_free(&m->curve);
    free(m);
    if (st != SP_OK)
        return H->fail(ctx, st, "%s", err.message);
    if (!table)
        return H->fail(ctx, SP_NOMEM, "out of memory");
    return H->artifact_put_table(ctx, "spine.model", table);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "segment_vertebrae",
    .version = "1.0.0",
    .description = "spinal centre line following the curvature, disc "
                   "spaces along it, and the vertebrae between them",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(vert_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = vert_init,
    .process = vert_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
