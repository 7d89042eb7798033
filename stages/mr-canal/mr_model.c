/* The `mr.spine` table: to and from JSON (jansson). */
#include "mr_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *mr_model_to_json(const mr_model *m, size_t nz)
{
    json_t *o = json_object();
    if (m->not_analysable[0]) {
        json_object_set_new(o, "not_analysable",
                            json_string(m->not_analysable));
        return o;
    }
    json_object_set_new(o, "plane",
                        json_string(m->axial ? "axial" : "sagittal"));
    json_object_set_new(o, "scale", json_real(m->scale));
    json_object_set_new(o, "csf_level", json_real(m->csf_level));
    json_object_set_new(o, "tissue_level", json_real(m->tissue_level));
    json_object_set_new(o, "mid_i", json_integer((json_int_t)m->mid_i));
    json_object_set_new(o, "labelled", json_boolean(m->labelled));
    json_object_set_new(o, "label_note", json_string(m->label_note));
    const mrspine *s = &m->spine;
    json_object_set_new(o, "level_mm", json_real(s->level_mm));
    json_object_set_new(o, "cervical", json_boolean(s->cervical));
    json_object_set_new(o, "body_depth_mm", json_real(s->body_depth_mm));
    json_object_set_new(o, "body_signal", json_real(s->body_signal));
    json_t *wall = json_array();
    for (size_t k = 0; s->wall_j && k < nz; k++)
        json_array_append_new(wall, json_real(s->wall_j[k]));
    json_object_set_new(o, "wall_j", wall);
    json_t *discs = json_array();
    for (size_t q = 0; q < s->n_disc; q++) {
        const mrdisc *d = &s->disc[q];
        json_array_append_new(
            discs, json_pack("{s:f, s:f, s:f, s:i}", "k", d->k, "height_mm",
                             d->height_mm, "signal", d->signal, "vert_above",
                             d->vert_above));
    }
    json_object_set_new(o, "discs", discs);
    return o;
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

sp_status mr_model_from_json(const json_t *j, size_t nz, mr_model *m,
                             sp_error *err)
{
    memset(m, 0, sizeof *m);
    if (!json_is_object(j))
        return sp_error_set(err, SP_INTERNAL,
                            "table 'mr.spine' is not a JSON object");
    const char *na = json_string_value(json_object_get(j, "not_analysable"));
    if (na) {
        snprintf(m->not_analysable, sizeof m->not_analysable, "%s", na);
        return SP_OK;
    }
    const char *plane = json_string_value(json_object_get(j, "plane"));
    const json_t *wall = json_object_get(j, "wall_j");
    const json_t *discs = json_object_get(j, "discs");
    json_int_t mid = json_integer_value(json_object_get(j, "mid_i"));
    if (!plane || !json_is_array(wall) || !json_is_array(discs) || mid < 0 ||
        (json_array_size(wall) != nz && json_array_size(wall) != 0) ||
        json_array_size(discs) > MRSPINE_MAX_DISCS)
        return sp_error_set(err, SP_INTERNAL,
                            "table 'mr.spine' does not describe this "
                            "series (plane, wall_j of %zu planes, discs)",
                            nz);
    m->axial = strcmp(plane, "axial") == 0;
    m->scale = num(j, "scale");
    m->csf_level = num(j, "csf_level");
    m->tissue_level = num(j, "tissue_level");
    m->mid_i = (size_t)mid;
    m->labelled = json_is_true(json_object_get(j, "labelled"));
    const char *note = json_string_value(json_object_get(j, "label_note"));
    snprintf(m->label_note, sizeof m->label_note, "%s", note ? note : "");
    mrspine *s = &m->spine;
    s->mid_i = m->mid_i;
    s->level_mm = num(j, "level_mm");
    s->cervical = json_is_true(json_object_get(j, "cervical"));
    s->body_depth_mm = num(j, "body_depth_mm");
    s->body_signal = num(j, "body_signal");
    if (json_array_size(wall)) {
        s->wall_j = malloc(nz * sizeof *s->wall_j);
        if (!s->wall_j)
            return sp_error_set(err, SP_NOMEM, "mr.spine: out of memory");
        for (size_t k = 0; k < nz; k++)
            s->wall_j[k] = json_number_value(json_array_get(wall, k));
    }
    for (size_t q = 0; q < json_array_size(discs); q++) {
        const json_t *d = json_array_get(discs, q);
        mrdisc *o = &s->disc[s->n_disc++];
        o->k = num(d, "k");
        o->height_mm = num(d, "height_mm");
        o->signal = num(d, "signal");
        o->vert_above = (int)json_integer_value(json_object_get(d,
                                                                "vert_above"));
    }
    return SP_OK;
}
