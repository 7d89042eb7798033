/* Spine model and canal sections to and from JSON (spine_json.h). */
#include "spine_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static json_t *vec3(const double v[3])
{
    return json_pack("[f,f,f]", v[0], v[1], v[2]);
}

/* n points as one flat array x0, y0, z0, x1, ... */
static json_t *points(const double (*p)[3], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        for (int d = 0; d < 3; d++)
            json_array_append_new(a, json_real(p[i][d]));
    return a;
}

json_t *spine_model_to_json(const spine_model *m)
{
    const spine_curve *c = &m->curve;
    json_t *verts = json_array();
    for (size_t i = 0; verts && i < m->n_vert; i++) {
        const spine_vertebra *v = &m->vert[i];
        json_array_append_new(
            verts,
            json_pack("{s:f, s:f, s:b, s:b, s:f, s:f, s:i, s:f, s:f, s:f, "
                      "s:b, s:I, s:o, s:f, s:f}",
                      "s_lo", v->s_lo, "s_hi", v->s_hi, "lo_is_disc",
                      v->lo_is_disc, "hi_is_disc", v->hi_is_disc, "body_lo",
                      v->body_lo, "body_hi", v->body_hi, "label", v->label,
                      "body_depth_mm", v->body_depth_mm, "body_back_mm",
                      v->body_back_mm, "canal_gap_mm", v->canal_gap_mm,
                      "plausible", v->plausible, "voxels",
                      (json_int_t)v->voxels, "centroid", vec3(v->centroid),
                      "lateral_mm", v->lateral_mm, "lateral_limit_mm",
                      v->lateral_limit_mm));
    }
    return json_pack("{s:{s:f, s:b, s:b, s:o, s:o, s:o}, s:o, s:f, s:i, "
                     "s:b, s:s}",
                     "curve", "step_mm", c->step_mm, "cut_lo", c->cut_lo,
                     "cut_hi", c->cut_hi, "p", points(c->p, c->n), "t",
                     points(c->t, c->n), "a", points(c->a, c->n),
                     "vertebrae", verts, "typical_level_mm",
                     m->typical_level_mm, "cranial_sign", m->cranial_sign,
                     "labels_confident", m->labels_confident, "label_note",
                     m->label_note);
}

static int num(const json_t *o, const char *key, double *v)
{
    const json_t *j = json_object_get(o, key);
    if (!json_is_number(j))
        return 0;
    *v = json_number_value(j);
    return isfinite(*v);
}

static int item(const json_t *a, size_t i, double *v)
{
    const json_t *j = json_array_get(a, i);
    if (!json_is_number(j))
        return 0;
    *v = json_number_value(j);
    return isfinite(*v);
}

static int flag(const json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

static sp_status read_points(const json_t *a, size_t n, double (*p)[3],
                             const char *key, sp_error *err)
{
    if (!json_is_array(a) || json_array_size(a) != 3 * n)
        return sp_error_set(err, SP_FORMAT,
                            "spine model: curve.%s must hold 3 x %zu numbers",
                            key, n);
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 3; d++) {
            const json_t *x = json_array_get(a, 3 * i + (size_t)d);
            if (!json_is_number(x) || !isfinite(json_number_value(x)))
                return sp_error_set(err, SP_FORMAT,
                                    "spine model: curve.%s[%zu] is not a "
                                    "finite number",
                                    key, 3 * i + (size_t)d);
            p[i][d] = json_number_value(x);
        }
    return SP_OK;
}

static sp_status read_vertebra(const json_t *o, size_t i, spine_vertebra *v,
                               sp_error *err)
{
    static const char *const keys[] = {"s_lo", "s_hi", "body_lo", "body_hi",
                                       "body_depth_mm", "body_back_mm",
                                       "canal_gap_mm", "lateral_mm",
                                       "lateral_limit_mm"};
    double *fields[] = {&v->s_lo, &v->s_hi, &v->body_lo, &v->body_hi,
                        &v->body_depth_mm, &v->body_back_mm,
                        &v->canal_gap_mm, &v->lateral_mm,
                        &v->lateral_limit_mm};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (!num(o, keys[k], fields[k]))
            return sp_error_set(err, SP_FORMAT,
                                "spine model: vertebrae[%zu].%s is not a "
                                "finite number",
                                i, keys[k]);
    double label, voxels;
    const json_t *c = json_object_get(o, "centroid");
    if (!num(o, "label", &label) || label < 0 || label > 255 ||
        !num(o, "voxels", &voxels) || voxels < 0 || json_array_size(c) != 3)
        return sp_error_set(err, SP_FORMAT,
                            "spine model: vertebrae[%zu] has a bad label, "
                            "voxels or centroid",
                            i);
    for (size_t d = 0; d < 3; d++)
        if (!item(c, d, &v->centroid[d]))
            return sp_error_set(err, SP_FORMAT,
                                "spine model: vertebrae[%zu].centroid is not "
                                "3 finite numbers",
                                i);
    v->label = (int)label, v->voxels = (size_t)voxels;
    v->lo_is_disc = flag(o, "lo_is_disc"), v->hi_is_disc = flag(o, "hi_is_disc");
    v->plausible = flag(o, "plausible");
    return SP_OK;
}

sp_status spine_model_from_json(const json_t *j, spine_model *m,
                                sp_error *err)
{
    memset(m, 0, sizeof *m);
    const json_t *c = json_object_get(j, "curve");
    const json_t *verts = json_object_get(j, "vertebrae");
    double step, typical, sign;
    if (!json_is_object(c) || !num(c, "step_mm", &step) || step <= 0 ||
        !json_is_array(verts) ||
        json_array_size(verts) > SPINE_MAX_VERTEBRAE ||
        !num(j, "typical_level_mm", &typical) ||
        !num(j, "cranial_sign", &sign))
        return sp_error_set(err, SP_FORMAT,
                            "spine model: missing or bad curve, vertebrae "
                            "(at most %d), typical_level_mm or cranial_sign",
                            SPINE_MAX_VERTEBRAE);
    size_t n = json_array_size(json_object_get(c, "p")) / 3;
    if (n == 0 || n > 100000)
        return sp_error_set(err, SP_FORMAT,
                            "spine model: the curve has %zu points", n);
    m->curve.n = n, m->curve.step_mm = step;
    m->curve.cut_lo = flag(c, "cut_lo"), m->curve.cut_hi = flag(c, "cut_hi");
    m->curve.p = malloc(n * sizeof *m->curve.p);
    m->curve.t = malloc(n * sizeof *m->curve.t);
    m->curve.a = malloc(n * sizeof *m->curve.a);
    sp_status st = SP_OK;
    if (!m->curve.p || !m->curve.t || !m->curve.a)
        st = sp_error_set(err, SP_NOMEM, "out of memory");
    if (st == SP_OK)
        st = read_points(json_object_get(c, "p"), n, m->curve.p, "p", err);
    if (st == SP_OK)
        st = read_points(json_object_get(c, "t"), n, m->curve.t, "t", err);
    if (st == SP_OK)
        st = read_points(json_object_get(c, "a"), n, m->curve.a, "a", err);
    m->n_vert = json_array_size(verts);
    for (size_t i = 0; st == SP_OK && i < m->n_vert; i++)
        st = read_vertebra(json_array_get(verts, i), i, &m->vert[i], err);
    if (st != SP_OK) {
        spine_curve_free(&m->curve);
        return st;
    }
    m->typical_level_mm = typical;
    m->cranial_sign = sign < 0 ? -1 : 1;
    m->labels_confident = flag(j, "labels_confident");
    const char *note = json_string_value(json_object_get(j, "label_note"));
    snprintf(m->label_note, sizeof m->label_note, "%s", note ? note : "");
    return SP_OK;
}

json_t *canal_sections_to_json(const canal_result *r)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->n; i++) {
        const canal_section *s = &r->sec[i];
        json_array_append_new(
            a, json_pack("[b,b,f,f,f,f,f,f,f,f]", s->found,
                         s->seeded_from_body, s->centre_u, s->centre_v,
                         s->area_mm2, s->ap_mm, s->width_mm, s->grid_v0,
                         s->ap_front_v, s->ap_back_v));
    }
    return a;
}

sp_status canal_sections_from_json(const json_t *j, const sp_volume *masks,
                                   canal_result *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    size_t n = json_array_size(j);
    if (!json_is_array(j) || !masks || masks->type != SP_VOXEL_U8 ||
        masks->dim[0] != CANAL_GRID || masks->dim[1] != CANAL_GRID ||
        (n > 0 && masks->dim[2] != n))
        return sp_error_set(err, SP_FORMAT,
                            "canal sections: the table (%zu) and the masks "
                            "(%d x %d x n) do not match",
                            n, CANAL_GRID, CANAL_GRID);
    r->sec = calloc(n ? n : 1, sizeof *r->sec);
    if (!r->sec)
        return sp_error_set(err, SP_NOMEM, "out of memory");
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(j, i);
        canal_section *s = &r->sec[i];
        double *f[] = {&s->centre_u, &s->centre_v, &s->area_mm2, &s->ap_mm,
                       &s->width_mm, &s->grid_v0, &s->ap_front_v,
                       &s->ap_back_v};
        int ok = json_array_size(e) == 10;
        for (size_t k = 0; ok && k < 8; k++)
            ok = item(e, k + 2, f[k]);
        if (!ok) {
            free(r->sec);
            r->sec = NULL, r->n = 0;
            return sp_error_set(err, SP_FORMAT,
                                "canal sections: entry %zu is not "
                                "[found, seeded, u, v, area, ap, width, v0, "
                                "ap front v, ap back v]",
                                i);
        }
        s->found = json_is_true(json_array_get(e, 0));
        s->seeded_from_body = json_is_true(json_array_get(e, 1));
        memcpy(s->mask,
               sp_volume_u8(masks) + i * (size_t)CANAL_GRID * CANAL_GRID,
               (size_t)CANAL_GRID * CANAL_GRID);
    }
    return SP_OK;
}

const char *spine_not_analysable(const json_t *table)
{
    return json_string_value(json_object_get(table, "not_analysable"));
}
