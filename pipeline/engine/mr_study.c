/* The MR study report: a sagittal series' levels with the axial series'
 * canal sections assigned to them in patient space. */
#include "mr_study.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "output/output.h"

#define MAX_SERIES 64

static int has_discs(const json_t *r)
{
    const json_t *lv = json_object_get(r, "levels");
    return json_array_size(lv) > 0 &&
           json_array_size(json_object_get(json_array_get(lv, 0),
                                           "disc_centroid_mm")) == 3;
}

/* Three numbers of `key` in o, or `fallback` when it holds none. */
static void vec3(const json_t *o, const char *key, const double *fallback,
                 double *v)
{
    const json_t *a = json_object_get(o, key);
    for (int c = 0; c < 3; c++) {
        const json_t *x = json_array_get(a, (size_t)c);
        v[c] = json_is_number(x) && json_array_size(a) == 3
                   ? json_number_value(x) : fallback[c];
    }
}

static double dot(const double *a, const double *b)
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void disc_centre(const json_t *level, double *c)
{
    static const double zero[3] = {0, 0, 0};
    vec3(level, "disc_centroid_mm", zero, c);
}

/* The vertebra above (upper != 0) or below a level "L4-L5" */
static json_t *vertebra_of(const char *level, int upper)
{
    const char *dash = strchr(level, '-');
    if (!dash)
        return json_null();
    return upper ? json_stringn(level, (size_t)(dash - level))
                 : json_string(dash + 1);
}

/* Assign one section: its plane (a point and the normal; reports without
 * them give the slice's patient z and a head-feet normal) against every
 * disc centre. The disc level whose centre lies within half its height
 * (at least 2 mm) of the plane, else the vertebra between the two discs
 * around the plane; null beyond half a level outside the discs. */
static void assign(json_t *sec, const json_t *levels)
{
    size_t n = json_array_size(levels), best = 0;
    const double z[3] = {0, 0, json_number_value(json_object_get(sec,
                                                                 "z_mm"))};
    const double up[3] = {0, 0, 1};
    double p[3], nrm[3];
    vec3(sec, "centre_mm", z, p);
    vec3(sec, "normal", up, nrm);
    double len = sqrt(dot(nrm, nrm));
    if (!(len > 0))
        memcpy(nrm, up, sizeof nrm), len = 1;
    for (int c = 0; c < 3; c++)
        nrm[c] /= len;
    double bd = INFINITY, bs = 0, spacing = 30;
    for (size_t q = 0; q < n; q++) {
        double c[3], r[3];
        disc_centre(json_array_get(levels, q), c);
        for (int a = 0; a < 3; a++)
            r[a] = p[a] - c[a];
        double s = dot(nrm, r);
        if (fabs(s) < bd)
            bd = fabs(s), bs = s, best = q;
    }
    /* head-wards along the spine: from the lowest disc to the highest
     * (levels are listed head first) */
    double head[3] = {0, 0, 1};
    if (n > 1) {
        double top[3], bottom[3];
        disc_centre(json_array_get(levels, 0), top);
        disc_centre(json_array_get(levels, n - 1), bottom);
        for (int a = 0; a < 3; a++)
            head[a] = top[a] - bottom[a];
        spacing = sqrt(dot(head, head)) / (double)(n - 1);
    }
    const json_t *l = json_array_get(levels, best);
    const char *name = json_string_value(json_object_get(l, "level"));
    double h = json_number_value(json_object_get(l, "disc_height_mm"));
    json_object_set_new(sec, "plane_distance_mm", json_real(bd));
    if (!name || bd > 0.5 * spacing + 1e-9) {
        json_object_set_new(sec, "level", json_null());
        return;
    }
    if (bd <= fmax(0.5 * h, 2.0)) {
        json_object_set_new(sec, "level", json_string(name));
        json_object_set_new(sec, "at_disc", json_true());
        return;
    }
    int above = (bs > 0) == (dot(nrm, head) > 0);
    json_object_set_new(sec, "level", vertebra_of(name, above));
    json_object_set_new(sec, "at_disc", json_false());
}

/* The narrowest section at each disc level joins that level. */
static void add_axial(json_t *levels, const json_t *sections)
{
    size_t i;
    json_t *lv;
    json_array_foreach(levels, i, lv) {
        const char *name = json_string_value(json_object_get(lv, "level"));
        const json_t *min = NULL;
        size_t k, count = 0;
        json_t *s;
        json_array_foreach(sections, k, s) {
            const char *at = json_string_value(json_object_get(s, "level"));
            double a = json_number_value(json_object_get(s, "canal_area_mm2"));
            if (!at || !name || strcmp(at, name) != 0 || !(a > 0))
                continue;
            count++;
            if (!min || a < json_number_value(json_object_get(
                                min, "canal_area_mm2")))
                min = s;
        }
        if (!min)
            continue;
        json_object_set_new(
            lv, "axial",
            json_pack("{s:O, s:O, s:O, s:O, s:I}", "canal_area_mm2",
                      json_object_get(min, "canal_area_mm2"), "canal_ap_mm",
                      json_object_get(min, "canal_ap_mm"), "z_mm",
                      json_object_get(min, "z_mm"), "plane_distance_mm",
                      json_object_get(min, "plane_distance_mm"), "slices",
                      (json_int_t)count));
    }
}

json_t *sp_mr_study_combine(json_t *const *reports, size_t n, char *why,
                            size_t why_size)
{
    const json_t *sag = NULL;
    for (size_t q = 0; q < n && !sag; q++)
        if (has_discs(reports[q]))
            sag = reports[q];
    if (!sag) {
        snprintf(why, why_size, "no sagittal series with named disc levels");
        return NULL;
    }
    const char *study = json_string_value(
        json_object_get(json_object_get(sag, "series"), "study_uid"));
    json_t *out = json_deep_copy(sag);
    json_t *sections = json_array(), *axial = json_array();
    json_t *levels = json_object_get(out, "levels");
    for (size_t q = 0; q < n; q++) {
        const json_t *sec = json_object_get(reports[q], "sections");
        const json_t *ser = json_object_get(reports[q], "series");
        const char *st = json_string_value(json_object_get(ser, "study_uid"));
        if (!json_is_array(sec) || (study && st && strcmp(study, st) != 0))
            continue;
        json_array_append_new(axial, json_deep_copy(ser));
        size_t k;
        json_t *s;
        json_array_foreach(sec, k, s) {
            json_t *c = json_deep_copy(s);
            assign(c, levels);
            json_object_set(c, "series_uid",
                            json_object_get(ser, "series_uid"));
            json_array_append_new(sections, c);
        }
    }
    if (json_array_size(axial) == 0) {
        json_decref(out), json_decref(sections), json_decref(axial);
        snprintf(why, why_size, "no axial series with canal sections "
                                "(run them with an MR T2 config)");
        return NULL;
    }
    add_axial(levels, sections);
    json_object_set_new(out, "schema", json_string("spinepipe-study/1"));
    json_object_set_new(out, "axial_series", axial);
    json_object_set_new(out, "sections", sections);
    json_object_del(out, "images");
    return out;
}

/* Read every <dir>/<series>/report.json; returns how many. */
static size_t read_reports(const char *dir, json_t **reports)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_SERIES) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s/report.json", dir,
                     e->d_name) >= (int)sizeof path)
            continue;
        json_t *r = json_load_file(path, 0, NULL);
        if (json_is_object(r))
            reports[n++] = r;
        else
            json_decref(r);
    }
    closedir(d);
    return n;
}

sp_status sp_mr_study_write(const char *study_dir, const char *dst,
                            int *written, char *why, size_t why_size,
                            sp_error *err)
{
    *written = 0;
    DIR *probe = opendir(study_dir);
    if (!probe)
        return sp_error_set(err, SP_NOINPUT, "%s: no such folder",
                            study_dir);
    closedir(probe);
    json_t *reports[MAX_SERIES];
    size_t n = read_reports(study_dir, reports);
    json_t *study = sp_mr_study_combine(reports, n, why, why_size);
    for (size_t q = 0; q < n; q++)
        json_decref(reports[q]);
    if (!study)
        return SP_OK;
    char path[PATH_MAX];
    if (!dst) {
        if (snprintf(path, sizeof path, "%s/study_report.json",
                     study_dir) >= (int)sizeof path) {
            json_decref(study);
            return sp_error_set(err, SP_CANTCREATE, "%s: path too long",
                                study_dir);
        }
        dst = path;
    }
    sp_status st = sp_json_write_file(study, dst, err);
    json_decref(study);
    *written = st == SP_OK;
    return st;
}
