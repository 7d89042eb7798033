/* Stage `measure`: per vertebra body heights and centroid, per disc level
 * disc height and index, canal AP and area perpendicular to the canal,
 * posterior disc displacement and its extent across the canal front;
 * provides `measures` (docs/report-json.md) for the findings stage, with
 * the key-image position (`disc_centroid_mm`) and the AP caliper ends
 * (`canal_ap_endpoints_mm`) in patient LPS. The posterior displacement is
 * the larger of the mid-line value (disc margin behind the line of the
 * adjacent posterior body walls) and the most displaced focal run across
 * the canal front, and 0 when the margin lies in front of that line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "spinepipe/labels.h"
#include "spinepipe/stage.h"
#include "measure_extent.h"
#include "measure_kernels.h"
#include "measure_outline.h"
#include "spine_json.h"

typedef struct measure_options {
    double displacement_tolerance_mm;
} measure_options;

static const sp_param params[] = {
    {"extent_tolerance_mm", SP_PARAM_FLOAT, "1.5", 0.5, 10, "mm", NULL,
     "a column counts as displaced when the disc's posterior margin lies "
     "this much behind its baseline (the line of the adjacent bodies' "
     "posterior walls, or the inner canal front's median margin)",
     offsetof(measure_options, displacement_tolerance_mm)},
};

static const char *const requires_list[] = {"volume.work", "mask.spine",
                                            "spine.canal", "canal.masks",
                                            NULL};
static const char *const provides_list[] = {"measures", NULL};

static sp_status measure_init(sp_stage_context *ctx, const void *options,
                              void **state)
{
    (void)ctx;
    *state = (void *)options;
    return SP_OK;
}

static json_t *lps(const sp_volume *grid, const double g[3])
{
    double p[3];
    spine_grid_mm_to_lps(grid, g, p);
    return json_pack("[f,f,f]", p[0], p[1], p[2]);
}

static json_t *number_or_null(int ok, double v)
{
    return ok && isfinite(v) ? json_real(v) : json_null();
}

static json_t *vertebra(const measure_vertebra *v)
{
    const char *name = sp_label_vertebra_name(v->label);
    return json_pack(
        "{s:s, s:[f,f,f], s:{s:o, s:o, s:o}, s:b}", "label",
        name ? name : "", "centroid_mm", v->centroid_lps[0],
        v->centroid_lps[1], v->centroid_lps[2], "heights", "anterior_mm",
        number_or_null(v->complete, v->height_anterior_mm), "middle_mm",
        number_or_null(v->complete, v->height_middle_mm), "posterior_mm",
        number_or_null(v->complete, v->height_posterior_mm), "complete",
        v->complete);
}

/* The AP caliper through the section's centroid column, between the
 * canal's front and back edges. */
static json_t *caliper(const sp_volume *grid, const spine_curve *c,
                       size_t q, const canal_section *cs)
{
    if (!(cs->ap_front_v > cs->ap_back_v))
        return NULL;
    const double *a = c->a[q];
    double l[3];
    spine_lateral(c, q, l);
    double v[2] = {cs->ap_front_v, cs->ap_back_v};
    json_t *ends = json_array();
    for (int e = 0; e < 2; e++) {
        double g[3];
        for (int d = 0; d < 3; d++)
            g[d] = c->p[q][d] + cs->centre_u * l[d] + v[e] * a[d];
        json_array_append_new(ends, lps(grid, g));
    }
    return ends;
}

static json_t *level(const sp_volume *grid, const spine_model *m,
                     const canal_result *canal, const measure_level *mask_ml,
                     size_t v, double tolerance)
{
    const spine_vertebra *lo = &m->vert[v], *hi = &m->vert[v + 1];
    const spine_curve *c = &m->curve;
    double s_disc = 0.5 * (lo->s_hi + hi->s_lo);
    size_t q = spine_curve_at(c, s_disc);
    /* the mid-line value from the image (the disc's margin against the
       bodies' walls) where both are seen; the canal mask's front only
       where they are not */
    measure_extent e;
    int extent = mask_ml->canal_found &&
                 measure_displacement_extent(grid, m, canal, v, tolerance, &e);
    measure_level image_ml = *mask_ml;
    if (extent && e.mid_found && e.mid_q == q) {
        image_ml.posterior_displacement_mm = e.mid_mm;
        image_ml.displacement_u_mm = e.mid_u;
        image_ml.displacement_wall_v = e.mid_wall_v;
        image_ml.displacement_disc_v = e.mid_wall_v - e.mid_mm;
    }
    const measure_level *ml = &image_ml;
    /* unnamed levels (no sacrum or ribs seen, no override) are numbered
       from the lowest, never given a vertebra name */
    char unnamed[32];
    snprintf(unnamed, sizeof unnamed, "unnamed-%zu", v + 1);
    json_t *o = json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "level",
        ml->name[0] ? ml->name : unnamed,
        "canal_ap_mm", number_or_null(ml->canal_found, ml->canal_ap_mm),
        "canal_area_mm2", number_or_null(ml->canal_found, ml->canal_area_mm2),
        "disc_height_mm", json_real(ml->disc_height_mm), "disc_height_index",
        number_or_null(ml->disc_height_index > 0, ml->disc_height_index),
        "posterior_displacement_mm",
        number_or_null(ml->canal_found,
                       fmax(0.0, ml->posterior_displacement_mm)),
        "disc_centroid_mm", lps(grid, c->p[q]));
    if (!ml->canal_found)
        return o;
    json_t *ends = caliper(grid, c, q, &canal->sec[q]);
    if (ends)
        json_object_set_new(o, "canal_ap_endpoints_mm", ends);
    /* the plane and section measured, for the key image */
    json_object_set_new(o, "canal_plane", measure_plane_json(grid, c, q));
    json_t *outline = measure_canal_outline(grid, c, q, &canal->sec[q]);
    if (outline)
        json_object_set_new(o, "canal_outline_mm", outline);
    int focal = 0;
    if (extent && e.base_mm > 0) {
        /* the largest displacement across the canal front, so a
           paracentral herniation is not missed on the mid-line column */
        focal = e.max_mm > ml->posterior_displacement_mm;
        if (focal)
            json_object_set_new(o, "posterior_displacement_mm",
                                json_real(e.max_mm));
        json_object_set_new(o, "displacement_run_mm", json_real(e.max_mm));
        json_object_set_new(o, "displacement_extent_deg",
                            e.spans_canal ? json_null()
                                          : json_real(e.extent_deg));
        json_object_set_new(o, "displacement_base_mm",
                            json_real(e.base_mm));
        if (e.position[0])
            json_object_set_new(o, "displacement_position",
                                json_string(e.position));
        json_t *run = measure_extent_outline(grid, m, &e, q);
        if (run)
            json_object_set_new(o, "displacement_outline_mm", run);
        if (e.spans_canal)
            json_object_set_new(o, "displacement_note",
                                json_string("displaced across the whole "
                                            "canal front: its extent beyond "
                                            "the canal is not measured"));
    }
    /* the two ends of posterior_displacement_mm, so the key image can
       draw the value it reports */
    json_t *disp_ends = NULL;
    if (focal)
        disp_ends = measure_extent_caliper(grid, m, &e, q);
    else if (ml->posterior_displacement_mm > 0)
        disp_ends = json_pack(
            "[o, o]",
            measure_plane_point(grid, c, q, ml->displacement_u_mm,
                                ml->displacement_wall_v),
            measure_plane_point(grid, c, q, ml->displacement_u_mm,
                                ml->displacement_disc_v));
    if (disp_ends) {
        json_object_set_new(o, "displacement_caliper_mm", disp_ends);
        json_object_set_new(o, "displacement_measured",
                            json_string(focal ? "focal run" : "mid-line"));
    }
    return o;
}

static json_t *table_of(const sp_volume *grid, const spine_model *m,
                        const canal_result *canal, const measure_result *r,
                        double tolerance)
{
    json_t *verts = json_array(), *levels = json_array();
    json_t *warnings = json_array();
    for (size_t v = 0; v < r->n_vert; v++)
        json_array_append_new(verts, vertebra(&r->vert[v]));
    for (size_t v = 0; v < r->n_levels; v++)
        json_array_append_new(
            levels, level(grid, m, canal, &r->level[v], v, tolerance));
    if (!m->labels_confident && m->label_note[0])
        json_array_append_new(warnings, json_string(m->label_note));
    for (size_t v = 0; v < r->n_levels; v++)
        if (!r->level[v].canal_found)
            json_array_append_new(
                warnings,
                json_sprintf("%s: no canal traced at the disc plane",
                             r->level[v].name[0] ? r->level[v].name
                                                 : "an unnamed level"));
    if (m->curve.cut_lo || m->curve.cut_hi)
        json_array_append_new(warnings,
                              json_string("the field of view cuts the "
                                          "spinal column: end vertebrae "
                                          "are incomplete"));
    return json_pack("{s:o, s:o, s:o, s:b, s:s}", "vertebrae", verts,
                     "levels", levels, "warnings", warnings,
                     "labels_confident", m->labels_confident, "label_note",
                     m->label_note);
}

static sp_status measure_process(sp_stage_context *ctx, void *state)
{
    const measure_options *o = state;
    const sp_host_api *H = ctx->host;
    const sp_volume *ct = H->artifact_volume(ctx, "volume.work",
                                             SP_ARTIFACT_VOLUME);
    const sp_volume *spine = H->artifact_volume(ctx, "mask.spine",
                                                SP_ARTIFACT_MASK);
    const sp_volume *masks = H->artifact_volume(ctx, "canal.masks",
                                                SP_ARTIFACT_MASK);
    const json_t *in = H->artifact_table(ctx, "spine.canal");
    const char *why = spine_not_analysable(in);
    if (why) {
        H->log(ctx, SP_LOG_WARN, "not analysable: %s", why);
        return H->artifact_put_table(
            ctx, "measures",
            json_pack("{s:[], s:[], s:[], s:s}", "vertebrae", "levels",
                      "warnings", "not_analysable", why));
    }
    if (!ct || !spine)
        return H->fail(ctx, SP_STAGE, "volume.work and mask.spine are needed");
    spine_model *m = calloc(1, sizeof *m);
    measure_result *r = calloc(1, sizeof *r);
    if (!m || !r) {
        free(m), free(r);
        return H->fail(ctx, SP_NOMEM, "out of memory");
    }
    sp_error err = {0};
    canal_result canal = {0};
    sp_status st = spine_model_from_json(in, m, &err);
    if (st == SP_OK)
        st = canal_sections_from_json(json_object_get(in, "sections"), masks,
                                      &canal, &err);
    if (st == SP_OK && canal.n != m->curve.n)
        st = sp_error_set(&err, SP_FORMAT,
                          "spine.canal: %zu sections for %zu centre-line "
                          "samples", canal.n, m->curve.n);
    if (st == SP_OK)
        st = measure_spine(ct, spine, m, &canal, r, &err);
    json_t *table = st == SP_OK
                        ? table_of(ct, m, &canal, r,
                                   o->displacement_tolerance_mm)
                        : NULL;
    if (table)
        H->log(ctx, SP_LOG_INFO, "%zu vertebrae, %zu levels", r->n_vert,
               r->n_levels);
    free(canal.sec);
    spine_curve_free(&m->curve);
    free(m), free(r);
    if (st != SP_OK)
        return H->fail(ctx, st, "%s", err.message);
    if (!table)
        return H->fail(ctx, SP_NOMEM, "out of memory");
    return H->artifact_put_table(ctx, "measures", table);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "measure",
    .version = "1.0.0",
    .description = "body heights, disc height and index, canal AP and area, "
                   "posterior disc displacement and its extent per level",
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
