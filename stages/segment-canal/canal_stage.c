/* Stage `segment_canal`: the label map of the vertebrae (named by
 * `spine.levels`) with their discs, and the spinal canal traced in planes
 * perpendicular to the centre line, painted in as 201. Provides
 * `labels.spine` on the input grid (CONTRACTS.md values), the canal
 * sections (`canal.masks`, MASK CANAL_GRID x CANAL_GRID x n, one slice per
 * centre-line sample) and `spine.canal` (the model with each vertebra's
 * centroid, and `sections` metadata) for the measure stage. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "spinepipe/labels.h"
#include "spinepipe/stage.h"
#include "analysis.h"
#include "canal_kernels.h"
#include "spine_json.h"
#include "vertebrae_kernels.h"

static const char *const requires_list[] = {"volume.work", "mask.spine",
                                            "spine.levels", "volume.hu",
                                            NULL};
static const char *const provides_list[] = {"labels.spine", "canal.masks",
                                            "spine.canal", NULL};

static sp_status canal_init(sp_stage_context *ctx, const void *options,
                            void **state)
{
    (void)ctx;
    *state = (void *)options;
    return SP_OK;
}

/* Vertebrae label_levels could not name carry their index (1..n) in the
 * label map, values that mean C1, C2, ... in labels.spine: leave them out
 * (the level table calls them unnamed-N) rather than mislabel them. */
static void drop_unnamed(sp_volume *labels, const spine_model *m)
{
    uint8_t drop[SP_LABEL_VERTEBRA_MAX + 1] = {0};
    for (size_t v = 0; v < m->n_vert; v++)
        if (!m->vert[v].label && v + 1 <= SP_LABEL_VERTEBRA_MAX)
            drop[v + 1] = 1;
    for (size_t v = 0; v < m->n_vert; v++)
        if (m->vert[v].label > 0 && m->vert[v].label <= SP_LABEL_VERTEBRA_MAX)
            drop[m->vert[v].label] = 0;
    uint16_t *d = labels->data;
    for (size_t i = 0, n = sp_volume_count(labels); i < n; i++)
        if (d[i] <= SP_LABEL_VERTEBRA_MAX && drop[d[i]])
            d[i] = 0;
}

/* The working grid's integer reduction factors against the input. */
static void factors(const sp_volume *in, const sp_volume *work, int f[3])
{
    for (int a = 0; a < 3; a++) {
        long r = lround(work->spacing[a] / in->spacing[a]);
        f[a] = r < 1 ? 1 : (int)r;
    }
}

/* Not analysable: an empty label map on the input grid, no sections. */
static sp_status pass_reason(sp_stage_context *ctx, const char *why)
{
    const sp_host_api *H = ctx->host;
    sp_volume labels, masks;
    sp_status st = H->volume_alloc_like(ctx, &labels, ctx->volume,
                                        SP_VOXEL_U16);
    if (st != SP_OK)
        return st;
    if ((st = H->artifact_put_volume(ctx, "labels.spine", SP_ARTIFACT_LABELS,
                                     &labels)) != SP_OK)
        return st;
    if ((st = H->volume_alloc(ctx, &masks, SP_VOXEL_U8, CANAL_GRID,
                              CANAL_GRID, 1)) != SP_OK)
        return st;
    if ((st = H->artifact_put_volume(ctx, "canal.masks", SP_ARTIFACT_MASK,
                                     &masks)) != SP_OK)
        return st;
    return H->artifact_put_table(
        ctx, "spine.canal", json_pack("{s:s}", "not_analysable", why));
}

static sp_status put_sections(sp_stage_context *ctx, const canal_result *r,
                              const spine_model *m)
{
    const sp_host_api *H = ctx->host;
    sp_volume masks;
    sp_status st = H->volume_alloc(ctx, &masks, SP_VOXEL_U8, CANAL_GRID,
                                   CANAL_GRID, r->n ? r->n : 1);
    if (st != SP_OK)
        return st;
    for (size_t i = 0; i < r->n; i++)
        memcpy(sp_volume_u8(&masks) + i * (size_t)CANAL_GRID * CANAL_GRID,
               r->sec[i].mask, (size_t)CANAL_GRID * CANAL_GRID);
    if ((st = H->artifact_put_volume(ctx, "canal.masks", SP_ARTIFACT_MASK,
                                     &masks)) != SP_OK)
        return st;
    json_t *t = spine_model_to_json(m);
    if (!t)
        return H->fail(ctx, SP_NOMEM, "out of memory");
    json_object_set_new(t, "sections", canal_sections_to_json(r));
    return H->artifact_put_table(ctx, "spine.canal", t);
}

static sp_status canal_process(sp_stage_context *ctx, void *state)
{
    (void)state;
    const sp_host_api *H = ctx->host;
    const sp_volume *ct = H->artifact_volume(ctx, "volume.work",
                                             SP_ARTIFACT_VOLUME);
    const sp_volume *spine = H->artifact_volume(ctx, "mask.spine",
                                                SP_ARTIFACT_MASK);
    const json_t *in = H->artifact_table(ctx, "spine.levels");
    const char *why = spine_not_analysable(in);
    if (why)
        return pass_reason(ctx, why);
    if (!ct || !spine || ct->type != SP_VOXEL_F32 ||
        spine->type != SP_VOXEL_U8)
        return H->fail(ctx, SP_STAGE,
                       "volume.work (float32) and mask.spine (U8) are "
                       "needed");
    spine_model *m = calloc(1, sizeof *m);
    if (!m)
        return H->fail(ctx, SP_NOMEM, "out of memory");
    sp_error err = {0};
    sp_volume labels = {0}, full = {0};
    canal_result canal = {0};
    sp_status st = spine_model_from_json(in, m, &err);
    if (st == SP_OK)
        st = vert_label_map(ct, spine, m, &labels, NULL, &err);
    if (st == SP_OK)
        drop_unnamed(&labels, m);
    H->progress(ctx, 0.3);
    if (st == SP_OK) {
        canal_align_frames(m);
        st = canal_trace(ct, spine, m, &canal, &err);
    }
    H->progress(ctx, 0.7);
    if (st == SP_OK) {
        size_t n = canal_paint(&canal, &m->curve, &labels, NULL);
        H->log(ctx, SP_LOG_INFO, "canal: %zu voxels in %zu sections", n,
               canal.n);
        int f[3];
        factors(ctx->volume, ct, f);
        if (f[0] == 1 && f[1] == 1 && f[2] == 1 &&
            sp_volume_count(ct) == sp_volume_count(ctx->volume)) {
            full = labels;
            labels.data = NULL;
        } else {
            st = analysis_expand_labels(&labels, f, ctx->volume, &full,
                                        &err);
        }
    }
    if (st == SP_OK)
        st = H->artifact_put_volume(ctx, "labels.spine", SP_ARTIFACT_LABELS,
                                    &full);
    else
        H->fail(ctx, st, "%s", err.message);
    if (st == SP_OK)
        st = put_sections(ctx, &canal, m);
    sp_volume_free(&labels);
    canal_result_free(&canal);
    spine_curve_free(&m->curve);
    free(m);
    return st;
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "segment_canal",
    .version = "1.0.0",
    .description = "label map of vertebrae and discs, and the spinal canal "
                   "traced perpendicular to the centre line",
    .params = NULL,
    .n_params = 0,
    .options_size = 0, /* no parameters */
    .requires = requires_list,
    .provides = provides_list,
    .init = canal_init,
    .process = canal_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
