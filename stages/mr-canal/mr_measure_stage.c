/* Stage `mr_measure`: per disc level measurements on sagittal T2 (canal
 * AP of the dural sac, disc height and height index, disc/CSF signal with
 * an approximate Pfirrmann-like grade, posterior displacement), or canal
 * area and AP per slice on axial T2, from `labels.spine` and `mr.spine`
 * (stage `mr_segment`). Writes the table `measures` in the format of
 * docs/report-json.md without findings (the `findings` stage adds them);
 * a series mr_segment could not analyse gets `not_analysable` with the
 * reason and empty lists. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "spinepipe/labels.h"
#include "spinepipe/stage.h"
#include "stage_input.h"
#include "analysis.h"
#include "mr_model.h"
#include "mrcanal_kernels.h"

#define SOURCE "mr_measure 1.1.0"

typedef struct measure_options {
    const char *input;
    double displacement_tolerance_mm;
} measure_options;

static const sp_param params[] = {
    {"input", SP_PARAM_ARTIFACT, "volume.hu", 0, 0, NULL, NULL,
     "the float32 T2 volume mr_segment read (its signal places the canal "
     "walls between voxels)", offsetof(measure_options, input)},
    {"extent_tolerance_mm", SP_PARAM_FLOAT, "1.5", 0.5, 10, "mm", NULL,
     "a sagittal slice counts as displaced (for the width and position of "
     "a displacement) when its CSF front at the disc lies this much behind "
     "the line joining it at the adjacent bodies",
     offsetof(measure_options, displacement_tolerance_mm)},
};

static const char *const requires_list[] = {"labels.spine", "mr.spine",
                                            NULL};
static const char *const provides_list[] = {"measures", NULL};

static sp_status measure_init(sp_stage_context *ctx, const void *options,
                              void **state)
{
    (void)ctx;
    *state = (void *)options;
    return SP_OK;
}

/* A canonical voxel position as an LPS array. */
static json_t *lps_json(const sp_volume *canon, double i, double j, double k)
{
    double ijk[3] = {i, j, k}, p[3];
    sp_volume_voxel_to_patient(canon, ijk, p);
    return json_pack("[f, f, f]", p[0], p[1], p[2]);
}

/* Centroids of every label value of the canonical map (1..255), voxels. */
typedef struct centroids {
    double sum[256][3];
    size_t n[256];
} centroids;

static void label_centroids(const sp_volume *lab, centroids *c)
{
    memset(c, 0, sizeof *c);
    const uint16_t *l = lab->data;
    for (size_t k = 0; k < lab->dim[2]; k++)
        for (size_t j = 0; j < lab->dim[1]; j++)
            for (size_t i = 0; i < lab->dim[0]; i++) {
                uint16_t v = l[sp_volume_index(lab, i, j, k)];
                if (v == 0 || v > 255)
                    continue;
                c->sum[v][0] += (double)i, c->sum[v][1] += (double)j;
                c->sum[v][2] += (double)k;
                c->n[v]++;
            }
}

static json_t *centroid_json(const sp_volume *canon, const centroids *c,
                             int v)
{
    double n = (double)c->n[v];
    return lps_json(canon, c->sum[v][0] / n, c->sum[v][1] / n,
                    c->sum[v][2] / n);
}

static json_t *vertebrae_json(const sp_volume *canon, const centroids *c)
{
    json_t *a = json_array();
    for (int v = SP_LABEL_VERTEBRA_MAX; v >= 1; v--)
        if (c->n[v])
            json_array_append_new(
                a, json_pack("{s:s, s:o}", "label", sp_label_vertebra_name(v),
                             "centroid_mm", centroid_json(canon, c, v)));
    return a;
}

static json_t *level_json(const sp_volume *canon, const centroids *c,
                          const mrlevel_measure *m, const mrdisc *d)
{
    char name[32];
    sp_label_disc_level_name(m->vert_above, 0, name, sizeof name);
    json_t *o = json_pack(
        "{s:s, s:f, s:f, s:f, s:f, s:i, s:f, s:s}", "level", name,
        "canal_ap_mm", m->canal_ap_mm, "disc_height_mm", m->disc_height_mm,
        "disc_height_index", m->dhi, "disc_csf_signal_ratio",
        m->disc_csf_ratio, "disc_grade_approx", m->grade,
        "posterior_displacement_mm", m->displacement_mm, "source", SOURCE);
    int v = SP_LABEL_DISC_BASE + m->vert_above;
    if (v < 256 && c->n[v])
        json_object_set_new(o, "disc_centroid_mm", centroid_json(canon, c, v));
    else
        json_object_set_new(o, "disc_centroid_mm",
                            lps_json(canon, m->ap_i, m->ap_j0 - 5, d->k));
    if (m->canal_ap_mm > 0)
        json_object_set_new(
            o, "canal_ap_endpoints_mm",
            json_pack("[o, o]", lps_json(canon, m->ap_i, m->ap_j0, m->ap_k),
                      lps_json(canon, m->ap_i, m->ap_j1, m->ap_k)));
    if (m->dhi <= 0)
        json_object_set(o, "disc_height_index", json_null());
    if (m->displacement_position[0]) {
        json_object_set_new(o, "displacement_position",
                            json_string(m->displacement_position));
        json_object_set_new(o, "displacement_base_mm",
                            json_real(m->displacement_base_mm));
    }
    return o;
}

/* Sagittal: one entry per named disc level, head to feet. */
static sp_status sagittal(sp_stage_context *ctx, const sp_volume *canon,
                          const sp_volume *canal, const sp_volume *t2,
                          const mr_model *m, double tol, json_t *table)
{
    mrlevel_measure lv[MRSPINE_MAX_DISCS];
    mrcanal_info ci = {.csf_level = m->csf_level,
                       .tissue_level = m->tissue_level, .mid_i = m->mid_i};
    sp_error err;
    sp_status st = mr_measure(canal, t2, &m->spine, &ci, canal->spacing[2],
                              canal->spacing[1], tol, lv, &err);
    if (st != SP_OK)
        return ctx->host->fail(ctx, st, "%s", err.message);
    centroids *c = ctx->host->scratch_alloc(ctx, sizeof *c);
    if (!c)
        return SP_NOMEM;
    label_centroids(canon, c);
    json_object_set_new(table, "vertebrae", vertebrae_json(canon, c));
    json_t *levels = json_array();
    for (size_t q = m->spine.n_disc; q-- > 0;)
        if (lv[q].vert_above)
            json_array_append_new(levels, level_json(canon, c, &lv[q],
                                                     &m->spine.disc[q]));
    json_object_set_new(table, "levels", levels);
    json_t *warn = json_object_get(table, "warnings");
    if (!m->labelled)
        json_array_append_new(warn, json_pack("s+", "levels not named: ",
                                              m->label_note));
    return SP_OK;
}

/* Axial: canal area and AP per slice. */
static sp_status axial(sp_stage_context *ctx, const sp_volume *canon,
                       const sp_volume *canal, const sp_volume *t2,
                       double csf, json_t *table)
{
    size_t nz = canal->dim[2];
    double *area = ctx->host->scratch_alloc(ctx, 2 * nz * sizeof *area);
    if (!area)
        return SP_NOMEM;
    double *ap = area + nz;
    uint8_t *acq = ctx->host->scratch_alloc(ctx, nz);
    if (!acq)
        return SP_NOMEM;
    sp_error err;
    size_t n_acq;
    sp_status st = mr_canal_sections(canal, t2, csf, area, ap, &err);
    if (st == SP_OK)
        st = mr_acquired_planes(t2, acq, &n_acq, &err);
    if (st != SP_OK)
        return ctx->host->fail(ctx, st, "%s", err.message);
    json_t *sec = json_array();
    /* the slice plane for the study report: its centre and its normal
     * (the canonical head-wards axis) in patient space */
    double o0[3], o1[3], nrm[3];
    double ijk0[3] = {0, 0, 0}, ijk1[3] = {0, 0, 1};
    sp_volume_voxel_to_patient(canon, ijk0, o0);
    sp_volume_voxel_to_patient(canon, ijk1, o1);
    double len = 0;
    for (int c = 0; c < 3; c++)
        nrm[c] = o1[c] - o0[c], len += nrm[c] * nrm[c];
    len = len > 0 ? sqrt(len) : 1;
    for (size_t k = 0; k < nz; k++) {
        double ijk[3] = {0.5 * (double)(canon->dim[0] - 1),
                         0.5 * (double)(canon->dim[1] - 1), (double)k};
        double p[3];
        sp_volume_voxel_to_patient(canon, ijk, p);
        json_t *o = json_pack("{s:f, s:[f,f,f], s:[f,f,f]}", "z_mm", p[2],
                              "centre_mm", p[0], p[1], p[2], "normal",
                              nrm[0] / len, nrm[1] / len, nrm[2] / len);
        json_object_set_new(o, "canal_area_mm2",
                            area[k] > 0 ? json_real(area[k]) : json_null());
        json_object_set_new(o, "canal_ap_mm",
                            ap[k] > 0 ? json_real(ap[k]) : json_null());
        json_object_set_new(o, "acquired", json_boolean(acq[k]));
        json_array_append_new(sec, o);
    }
    json_object_set_new(table, "sections", sec);
    if (n_acq < nz)
        json_array_append_new(
            json_object_get(table, "warnings"),
            json_sprintf("axial series: only %zu of its %zu slices were "
                         "acquired (%.1f mm apart on average); the others "
                         "are linear interpolations between them "
                         "(\"acquired\": false in 'sections'), not "
                         "independent measurements", n_acq, nz,
                         n_acq > 1 ? (double)(nz - 1) * t2->spacing[2] /
                                         (double)(n_acq - 1)
                                   : 0.0));
    json_object_set_new(table, "vertebrae", json_array());
    json_object_set_new(table, "levels", json_array());
    json_array_append_new(json_object_get(table, "warnings"),
                          json_string("axial series: canal area and AP per "
                                      "slice in 'sections'; with a sagittal "
                                      "series of the study, spinepipe run "
                                      "assigns them to its levels in "
                                      "study_report.json"));
    return SP_OK;
}

static sp_status measure_process(sp_stage_context *ctx, void *state)
{
    const measure_options *o = state;
    const sp_host_api *H = ctx->host;
    const sp_volume *in;
    if (stage_input_f32(ctx, o->input, &in) != SP_OK)
        return SP_STAGE;
    const sp_volume *lab = H->artifact_volume(ctx, "labels.spine",
                                              SP_ARTIFACT_LABELS);
    const json_t *spine = H->artifact_table(ctx, "mr.spine");
    if (!lab || lab->type != SP_VOXEL_U16 || !spine)
        return H->fail(ctx, SP_STAGE,
                       "needs the U16 labels.spine and mr.spine (stage "
                       "mr_segment)");
    if (sp_volume_count(lab) != sp_volume_count(in))
        return H->fail(ctx, SP_STAGE,
                       "labels.spine is not on the grid of %s", o->input);
    json_t *table = json_pack("{s:[], s:[], s:[]}", "vertebrae", "levels",
                              "warnings");
    analysis_axes ax;
    sp_volume canon = {0}, t2 = {0}, canal = {0};
    mr_model m;
    memset(&m, 0, sizeof m);
    sp_error err;
    sp_status st = analysis_axes_lps(lab, &ax, &err);
    if (st == SP_OK)
        st = analysis_reorient(lab, &ax, &canon, &err);
    if (st == SP_OK)
        st = mr_model_from_json(spine, canon.dim[2], &m, &err);
    if (st == SP_OK && m.not_analysable[0]) {
        json_object_set_new(table, "not_analysable",
                            json_string(m.not_analysable));
        sp_volume_free(&canon);
        mrspine_free(&m.spine);
        return H->artifact_put_table(ctx, "measures", table);
    }
    if (st == SP_OK)
        st = analysis_reorient(in, &ax, &t2, &err);
    if (st == SP_OK)
        st = sp_volume_alloc_like(&canal, &canon, SP_VOXEL_U8, &err);
    if (st == SP_OK) {
        float *f = t2.data;
        for (size_t t = 0; t < sp_volume_count(&t2); t++)
            f[t] = (float)(f[t] * m.scale);
        const uint16_t *l = canon.data;
        uint8_t *c = canal.data;
        for (size_t t = 0; t < sp_volume_count(&canon); t++)
            c[t] = l[t] == SP_LABEL_CANAL;
        st = m.axial ? axial(ctx, &canon, &canal, &t2, m.csf_level, table)
                     : sagittal(ctx, &canon, &canal, &t2, &m,
                                o->displacement_tolerance_mm, table);
    } else {
        st = H->fail(ctx, st, "%s", err.message);
    }
    sp_volume_free(&canon), sp_volume_free(&t2), sp_volume_free(&canal);
    mrspine_free(&m.spine);
    if (st != SP_OK) {
        json_decref(table);
        return st;
    }
    H->log(ctx, SP_LOG_INFO, "%zu levels measured",
           json_array_size(json_object_get(table, "levels")));
    return H->artifact_put_table(ctx, "measures", table);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "mr_measure",
    .version = "1.1.0",
    .description = "MR T2 per level canal AP, disc height/DHI, disc signal "
                   "grade, displacement (sagittal) or canal area per slice "
                   "(axial): the table 'measures'",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(measure_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = measure_init,
    .process = measure_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
