/* The kernels in pipeline order. */
#include "ct_chain.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "bone_kernels.h"
#include "canal_kernels.h"
#include "vertebrae_kernels.h"

#define WORK_MM 1.5

/* CPU time of this process: the machines this runs on are shared, and
 * the chain is single-threaded, so CPU time is what the chain costs. */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static sp_status expand(const sp_volume *small, const int f[3],
                        const sp_volume *like, sp_volume *out, sp_error *err)
{
    if (f[0] == 1 && f[1] == 1 && f[2] == 1) {
        *out = *small; /* take ownership */
        return SP_OK;
    }
    sp_status st = analysis_expand_labels(small, f, like, out, err);
    sp_volume tmp = *small;
    sp_volume_free(&tmp);
    return st;
}

sp_status ct_chain_run(const sp_volume *ct_in, ct_chain *ch, sp_error *err)
{
    double t0 = now(), t = t0;
    sp_volume work = {0}, bone = {0}, spine = {0}, labels = {0}, body = {0};
    const sp_volume *ct = ct_in;
    sp_status st = analysis_reduce(ct_in, WORK_MM, &work, ch->factor, err);
    if (st != SP_OK)
        return st;
    if (ch->factor[0] > 1 || ch->factor[1] > 1 || ch->factor[2] > 1)
        ct = &work;
    bone_params bp;
    bone_params_default(&bp);
    /* block means have already folded the partial-volume rim into the
       surface voxels; peeling it again breaks bodies apart (seen on the
       512x512x400 bench: 10 "vertebrae" instead of 7) */
    if (ct == &work)
        bp.rim_hu = 0;
    if ((st = bone_mask(ct, &bp, &bone, err)) != SP_OK)
        goto done;
    if ((st = sp_volume_alloc_like(&spine, ct, SP_VOXEL_U8, err)) != SP_OK)
        goto done;
    memcpy(spine.data, bone.data, sp_volume_count(ct));
    if ((st = bone_select_spine(ct, &spine, 50, 40, NULL, err)) != SP_OK)
        goto done;
    ch->seconds[0] = now() - t, t = now();

    spine_model *m = &ch->model;
    memset(m, 0, sizeof *m);
    m->cranial_sign = ct->vox2lps[2][2] >= 0 ? 1 : -1;
    if ((st = vert_centerline(&spine, 25, &m->curve, err)) != SP_OK)
        goto done;
    double *hu = malloc(m->curve.n * sizeof *hu);
    double *bf = malloc(m->curve.n * sizeof *bf);
    vert_split_params sp;
    vert_split_params_default(&sp);
    st = hu && bf ? vert_profiles(ct, &spine, &m->curve, 9, hu, bf, err)
                  : sp_error_set(err, SP_NOMEM, "out of memory");
    if (st == SP_OK)
        st = vert_split(hu, bf, &m->curve, &sp, m, err);
    free(hu), free(bf);
    if (st == SP_OK)
        st = vert_describe(&spine, m, err);
    if (st != SP_OK)
        goto done;
    ch->seconds[1] = now() - t, t = now();

    if ((st = levels_find_cues(&bone, m, &ch->cues, err)) != SP_OK ||
        (st = levels_assign(m, &ch->cues, &ch->levels, err)) != SP_OK)
        goto done;
    ch->seconds[2] = now() - t, t = now();

    if ((st = vert_label_map(ct, &spine, m, &labels, &body, err)) != SP_OK)
        goto done;
    canal_align_frames(m);
    if ((st = canal_trace(ct, &spine, m, &ch->canal, err)) != SP_OK)
        goto done;
    canal_paint(&ch->canal, &m->curve, &labels, &body);
    ch->seconds[3] = now() - t, t = now();

    if ((st = measure_spine(ct, &spine, m, &ch->canal, &ch->measures, err)) !=
        SP_OK)
        goto done;
    if ((st = expand(&labels, ch->factor, ct_in, &ch->labels, err)) != SP_OK)
        goto done;
    labels.data = NULL;
    if (ch->want_body) {
        if ((st = expand(&body, ch->factor, ct_in, &ch->body, err)) != SP_OK)
            goto done;
        body.data = NULL;
    }
    ch->seconds[4] = now() - t;
    ch->seconds[5] = now() - t0;
done:
    if (labels.data)
        sp_volume_free(&labels);
    if (body.data)
        sp_volume_free(&body);
    sp_volume_free(&work), sp_volume_free(&bone), sp_volume_free(&spine);
    return st;
}

void ct_chain_free(ct_chain *ch)
{
    sp_volume_free(&ch->labels), sp_volume_free(&ch->body);
    spine_curve_free(&ch->model.curve);
    canal_result_free(&ch->canal);
}
