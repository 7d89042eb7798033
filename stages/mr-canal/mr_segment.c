/* Stage `mr_segment`: the MR spine on T2 — series triage from the header,
 * canal (dural sac), discs, level names and the label map `labels.spine`
 * (canal 201, discs 100 + vertebra above, vertebral bodies by level) on
 * the input's grid, plus the table `mr.spine` for `mr_measure`. A series
 * the analysis cannot use (T1, STIR, localiser, coronal, no bright CSF) is
 * not a failure: it gets an empty label map and `mr.spine` says why, the
 * reason goes to the log (stderr) and the run goes on. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "spinepipe/labels.h"
#include "spinepipe/stage.h"
#include "stage_input.h"
#include "analysis.h"
#include "bias_kernels.h"
#include "mr_model.h"
#include "mr_series.h"
#include "mrcanal_kernels.h"

enum { REGION_AUTO, REGION_LUMBAR, REGION_CERVICAL };
static const char *const region_names[] = {"auto", "lumbar", "cervical",
                                           NULL};

typedef struct seg_options {
    const char *input;
    int region;
    const char *lowest;
    double threshold;
    double axial_threshold;
    double radius_mm;
    int check_header;
} seg_options;

static const sp_param params[] = {
    {"input", SP_PARAM_ARTIFACT, "volume.hu", 0, 0, NULL, NULL,
     "the float32 T2 volume (volume.corrected after the bias stage)",
     offsetof(seg_options, input)},
    {"region", SP_PARAM_ENUM, "auto", 0, 0, NULL, region_names,
     "how levels are counted: lumbar (up from the sacrum), cervical (down "
     "from C2), auto (the sacrum when one is seen)",
     offsetof(seg_options, region)},
    {"lowest", SP_PARAM_STRING, "", 0, 0, NULL, NULL,
     "name of the vertebra just above the lowest disc (e.g. C6 for a crop "
     "that shows neither sacrum nor C2); empty: count from the anatomy",
     offsetof(seg_options, lowest)},
    {"threshold", SP_PARAM_FLOAT, "0.25", 0.05, 0.95, NULL, NULL,
     "canal cut between tissue (0) and CSF (1) signal",
     offsetof(seg_options, threshold)},
    {"axial_threshold", SP_PARAM_FLOAT, "0.6", 0.05, 0.95, NULL, NULL,
     "the same cut for axial series (higher: their thick slices cross the "
     "foraminal fat)",
     offsetof(seg_options, axial_threshold)},
    {"radius", SP_PARAM_FLOAT, "16", 4, 40, "mm", NULL,
     "canal voxels lie at most this far from the traced CSF column",
     offsetof(seg_options, radius_mm)},
    {"check_header", SP_PARAM_BOOL, "true", 0, 0, NULL, NULL,
     "refuse series whose header says T1, STIR/FLAIR, PD or localiser",
     offsetof(seg_options, check_header)},
};

static const char *const requires_list[] = {NULL}; /* see `input` */
static const char *const provides_list[] = {"labels.spine", "mr.spine",
                                            NULL};

static sp_status seg_init(sp_stage_context *ctx, const void *options,
                          void **state)
{
    const seg_options *o = options;
    if (o->lowest[0]) {
        int v = sp_label_vertebra_from_name(o->lowest);
        if (v <= 0 || v >= SP_LABEL_SACRUM)
            return ctx->host->fail(ctx, SP_CONFIG,
                                   "lowest = '%s' is not a vertebra name "
                                   "like C6 or L5", o->lowest);
    }
    *state = (void *)options;
    return SP_OK;
}

/* Not analysable: an empty label map and the reason, run goes on. */
static sp_status give_up(sp_stage_context *ctx, const sp_volume *like,
                         const char *why)
{
    const sp_host_api *H = ctx->host;
    H->log(ctx, SP_LOG_WARN, "not analysable: %s", why);
    sp_volume lab;
    sp_status st = H->volume_alloc_like(ctx, &lab, like, SP_VOXEL_U16);
    if (st == SP_OK)
        st = H->artifact_put_volume(ctx, "labels.spine", SP_ARTIFACT_LABELS,
                                    &lab);
    mr_model m;
    memset(&m, 0, sizeof m);
    snprintf(m.not_analysable, sizeof m.not_analysable, "%s", why);
    return st == SP_OK ? H->artifact_put_table(ctx, "mr.spine",
                                               mr_model_to_json(&m, 0))
                       : st;
}

/* Canonical layout and the normalisation the kernels expect (foreground
 * median 100); *scale receives the factor applied. */
static sp_status prepare(const sp_volume *in, analysis_axes *ax,
                         sp_volume *t2, double *scale, sp_error *err)
{
    sp_volume fg = {0};
    bias_params bp;
    bias_params_default(&bp);
    sp_status st = analysis_axes_lps(in, ax, err);
    if (st == SP_OK)
        st = analysis_reorient(in, ax, t2, err);
    if (st == SP_OK)
        st = bias_foreground(t2, bp.fg_fraction, &fg, err);
    if (st == SP_OK)
        st = bias_normalise(t2, &fg, bp.target_median, scale, err);
    sp_volume_free(&fg);
    return st;
}

/* Name the levels: the configured lowest vertebra, else the sacrum
 * (lumbar, auto) or C2 (cervical). */
static void name_levels(const seg_options *o, const sp_volume *t2,
                        mr_model *m)
{
    sp_error e;
    mrspine *s = &m->spine;
    s->cervical = o->region == REGION_CERVICAL;
    if (o->lowest[0]) {
        m->labelled = mrdisc_label(s, o->lowest, &e) == SP_OK;
        snprintf(m->label_note, sizeof m->label_note,
                 "counted up from %s (configured lowest vertebra)",
                 o->lowest);
    } else if (o->region == REGION_CERVICAL) {
        m->labelled = mrdisc_label_cervical(t2, s, m->label_note,
                                            sizeof m->label_note,
                                            &e) == SP_OK;
        if (!m->labelled)
            snprintf(m->label_note, sizeof m->label_note, "%s", e.message);
    } else {
        m->labelled = mrdisc_label(s, NULL, &e) == SP_OK;
        snprintf(m->label_note, sizeof m->label_note, "%s",
                 m->labelled ? "counted up from the sacrum" : e.message);
    }
    if (!m->labelled)
        for (size_t q = 0; q < s->n_disc; q++)
            s->disc[q].vert_above = 0;
}

/* Canal, then (sagittal) discs, levels and the label map, canonical. */
static sp_status analyse(const seg_options *o, const sp_volume *t2, int axial,
                         mr_model *m, sp_volume *labels, sp_error *err)
{
    mrcanal_params cp;
    mrcanal_params_default(&cp);
    cp.threshold = axial ? o->axial_threshold : o->threshold;
    cp.radius_mm = o->radius_mm;
    sp_volume canal = {0};
    mrcanal_info info;
    sp_status st = mrcanal_segment(t2, &cp, &canal, &info, err);
    if (st != SP_OK)
        return st;
    m->csf_level = info.csf_level;
    m->tissue_level = info.tissue_level;
    m->mid_i = info.mid_i;
    m->axial = axial;
    if (!axial) {
        st = mrdisc_find(t2, &canal, &info, &m->spine, err);
        if (st == SP_OK)
            name_levels(o, t2, m);
    } else {
        snprintf(m->label_note, sizeof m->label_note,
                 "axial series: canal area and AP per slice");
    }
    if (st == SP_OK)
        st = mrdisc_label_map(t2, &canal, &m->spine, labels, err);
    if (st == SP_OK && !axial)
        st = mr_sac_behind(&canal, t2, &info, m->spine.cervical, labels,
                           err);
    sp_volume_free(&canal);
    mrcanal_info_free(&info);
    return st;
}

static sp_status seg_process(sp_stage_context *ctx, void *state)
{
    const seg_options *o = state;
    const sp_host_api *H = ctx->host;
    const sp_volume *in;
    if (stage_input_f32(ctx, o->input, &in) != SP_OK)
        return SP_STAGE;
    char why[512] = "no DICOM header";
    mr_series_kind kind = MR_SERIES_NOT_ANALYSABLE;
    if (ctx->header)
        kind = mr_series_classify(ctx->header, sp_volume_orientation(in),
                                  in->dim[2], why, sizeof why);
    if (kind == MR_SERIES_NOT_ANALYSABLE && !o->check_header && ctx->header &&
        strcmp(ctx->header->modality, "MR") == 0) {
        sp_orientation pl = sp_volume_orientation(in);
        if (pl == SP_ORIENT_SAGITTAL || pl == SP_ORIENT_AXIAL)
            kind = pl == SP_ORIENT_SAGITTAL ? MR_SERIES_T2_SAGITTAL
                                            : MR_SERIES_T2_AXIAL;
    }
    if (kind == MR_SERIES_NOT_ANALYSABLE)
        return give_up(ctx, in, why);
    H->log(ctx, SP_LOG_INFO, "%s", why);
    mr_model m;
    memset(&m, 0, sizeof m);
    analysis_axes ax;
    sp_volume t2 = {0}, canon = {0}, labels = {0};
    sp_error err;
    sp_status st = prepare(in, &ax, &t2, &m.scale, &err);
    H->progress(ctx, 0.2);
    if (st == SP_OK)
        st = analyse(o, &t2, kind == MR_SERIES_T2_AXIAL, &m, &canon, &err);
    H->progress(ctx, 0.8);
    size_t nz = t2.dim[2];
    sp_volume_free(&t2);
    if (st == SP_NOTANALYSABLE) {
        mrspine_free(&m.spine);
        return give_up(ctx, in, err.message);
    }
    if (st == SP_OK)
        st = analysis_reorient_back(&canon, &ax, in, &labels, &err);
    sp_volume_free(&canon);
    if (st != SP_OK) {
        mrspine_free(&m.spine);
        return H->fail(ctx, st, "%s: %s", o->input, err.message);
    }
    H->log(ctx, SP_LOG_INFO, "%zu discs; %s", m.spine.n_disc,
           m.label_note);
    if (!m.labelled && !m.axial)
        H->log(ctx, SP_LOG_WARN, "levels not named: %s", m.label_note);
    json_t *table = mr_model_to_json(&m, nz);
    mrspine_free(&m.spine);
    st = H->artifact_put_volume(ctx, "labels.spine", SP_ARTIFACT_LABELS,
                                &labels);
    if (st != SP_OK) {
        json_decref(table);
        return st;
    }
    return H->artifact_put_table(ctx, "mr.spine", table);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "mr_segment",
    .version = "1.1.0",
    .description = "MR T2 spine: canal, discs, levels and the label map "
                   "labels.spine; non-T2 series reported as not analysable",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(seg_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = seg_init,
    .process = seg_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
