/* Stage `segment_bone`: the CT on a ~1.5 mm working grid (`volume.work`),
 * its bone mask with ribs and pelvis (`mask.bone`) and the spinal column
 * alone (`mask.spine`), plus a table `spine.bone` with what was found or
 * why the series is not analysable (docs/report-json.md, "CT analysis
 * artifacts"). Not analysable is no failure: the masks are delivered
 * (the column empty) and later stages pass the reason on. */
#include <string.h>

#include <jansson.h>

#include "spinepipe/stage.h"
#include "analysis.h"
#include "bone_kernels.h"
#include "spine_json.h"

typedef struct bone_options {
    double work_mm;
    double seed_hu, grow_hu;
    double half_width_mm, min_extent_mm;
} bone_options;

static const sp_param params[] = {
    {"work_mm", SP_PARAM_FLOAT, "1.5", 0.5, 4, "mm", NULL,
     "working grid: finer series are reduced by block means to about this "
     "voxel size (the analysis needs no more; 2 mm lost a vertebra on the "
     "bench volume)", offsetof(bone_options, work_mm)},
    {"seed_hu", SP_PARAM_FLOAT, "250", 0, 3000, "HU", NULL,
     "hysteresis: voxels at or above this start bone (cortex)",
     offsetof(bone_options, seed_hu)},
    {"grow_hu", SP_PARAM_FLOAT, "140", 0, 3000, "HU", NULL,
     "hysteresis: bone grows through voxels at or above this (cancellous "
     "bone, discs stay below)", offsetof(bone_options, grow_hu)},
    {"half_width_mm", SP_PARAM_FLOAT, "50", 20, 150, "mm", NULL,
     "bone further than this left or right of the column's mid-line is not "
     "spine (ribs, iliac wings)", offsetof(bone_options, half_width_mm)},
    {"min_extent_mm", SP_PARAM_FLOAT, "40", 10, 500, "mm", NULL,
     "a column shorter than this head to feet is not analysable (too few "
     "slices, one vertebra)", offsetof(bone_options, min_extent_mm)},
};

static const char *const requires_list[] = {"volume.hu", NULL};
static const char *const provides_list[] = {"volume.work", "mask.bone",
                                            "mask.spine", "spine.bone",
                                            NULL};

static sp_status bone_init(sp_stage_context *ctx, const void *options,
                           void **state)
{
    const bone_options *o = options;
    if (o->grow_hu > o->seed_hu)
        return ctx->host->fail(ctx, SP_CONFIG,
                               "grow_hu (%g) is above seed_hu (%g)",
                               o->grow_hu, o->seed_hu);
    *state = (void *)o;
    return SP_OK;
}

static sp_status put_all(sp_stage_context *ctx, sp_volume *work,
                         sp_volume *bone, sp_volume *spine, json_t *table)
{
    const sp_host_api *H = ctx->host;
    sp_status st = H->artifact_put_volume(ctx, "volume.work",
                                          SP_ARTIFACT_VOLUME, work);
    sp_status s2 = H->artifact_put_volume(ctx, "mask.bone", SP_ARTIFACT_MASK,
                                          bone);
    sp_status s3 = H->artifact_put_volume(ctx, "mask.spine",
                                          SP_ARTIFACT_MASK, spine);
    sp_status s4 = H->artifact_put_table(ctx, "spine.bone", table);
    return st != SP_OK ? st : s2 != SP_OK ? s2 : s3 != SP_OK ? s3 : s4;
}

static sp_status bone_process(sp_stage_context *ctx, void *state)
{
    const bone_options *o = state;
    const sp_host_api *H = ctx->host;
    const sp_volume *ct = ctx->volume;
    if (!ct || ct->type != SP_VOXEL_F32)
        return H->fail(ctx, SP_STAGE, "volume.hu is not a float32 volume");
    sp_error err = {0};
    sp_volume work = {0}, bone = {0}, spine = {0};
    int f[3];
    sp_status st = analysis_reduce(ct, o->work_mm, &work, f, &err);
    bone_params bp;
    bone_params_default(&bp);
    bp.seed_hu = o->seed_hu, bp.grow_hu = o->grow_hu;
    /* block means have already folded the partial-volume rim into the
       surface voxels; peeling it again breaks bodies apart */
    if (f[0] > 1 || f[1] > 1 || f[2] > 1)
        bp.rim_hu = 0;
    H->progress(ctx, 0.3);
    if (st == SP_OK)
        st = bone_mask(&work, &bp, &bone, &err);
    if (st == SP_OK)
        st = sp_volume_alloc_like(&spine, &work, SP_VOXEL_U8, &err);
    if (st != SP_OK) {
        sp_volume_free(&work), sp_volume_free(&bone);
        return H->fail(ctx, st, "%s", err.message);
    }
    memcpy(spine.data, bone.data, sp_volume_count(&work));
    bone_spine_info info = {0};
    st = bone_select_spine(&work, &spine, o->half_width_mm, o->min_extent_mm,
                           &info, &err);
    json_t *table = json_pack("{s:[i,i,i], s:I, s:I, s:f, s:f}", "factor",
                              f[0], f[1], f[2], "components",
                              (json_int_t)info.n_components, "spine_voxels",
                              (json_int_t)info.spine_voxels, "z_extent_mm",
                              info.z_extent_mm, "midline_x_mm",
                              info.midline_x_mm);
    if (st == SP_NOTANALYSABLE) {
        memset(spine.data, 0, sp_volume_count(&work));
        json_object_set_new(table, "not_analysable",
                            json_string(spine_reason(err.message)));
        H->log(ctx, SP_LOG_WARN, "not analysable: %s",
               spine_reason(err.message));
    } else if (st != SP_OK) {
        json_decref(table);
        sp_volume_free(&work), sp_volume_free(&bone), sp_volume_free(&spine);
        return H->fail(ctx, st, "%s", err.message);
    } else {
        H->log(ctx, SP_LOG_INFO,
               "column: %zu voxels over %.0f mm (working grid %zu x %zu x "
               "%zu)", info.spine_voxels, info.z_extent_mm, work.dim[0],
               work.dim[1], work.dim[2]);
    }
    return put_all(ctx, &work, &bone, &spine, table);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "segment_bone",
    .version = "1.0.0",
    .description = "CT bone mask (hysteresis, hole filling, 3D components) "
                   "and the spinal column apart from ribs, pelvis and table",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(bone_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = bone_init,
    .process = bone_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
