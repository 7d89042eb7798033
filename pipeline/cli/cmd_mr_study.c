/* spinepipe mr-study: one report for an MR study that has a sagittal and
 * axial T2 series (docs/report-json.md, "study_report.json"). Reads the
 * report.json of every series folder of a study output folder (written
 * by `spinepipe run`), takes the levels of the sagittal series and
 * assigns every axial slice (`sections`) to a level by its patient z
 * against the sagittal discs' centres; each disc level gains the
 * narrowest axial canal section at it. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

#define MAX_SERIES 64

static void help(void)
{
    printf("usage: spinepipe mr-study STUDYDIR... [-o FILE]\n\n"
           "STUDYDIR is one study's folder of a `spinepipe run` output\n"
           "(OUT/<study>/). Combines its sagittal MR series' levels with its\n"
           "axial MR series' canal sections (each slice assigned to a disc\n"
           "level or a vertebra by its patient z) into\n"
           "STUDYDIR/study_report.json (or FILE, with one STUDYDIR).\n\n"
           "  -o, --output FILE   where to write (one STUDYDIR only)\n"
           "  -h, --help          this help\n\n"
           "Exit codes: 0 written, 65 no sagittal series with named levels\n"
           "and axial series with sections in the folder, 66 folder\n"
           "missing, 73 cannot write.\n");
}

static int has_discs(const json_t *r)
{
    const json_t *lv = json_object_get(r, "levels");
    return json_array_size(lv) > 0 &&
           json_array_size(json_object_get(json_array_get(lv, 0),
                                           "disc_centroid_mm")) == 3;
}

static double disc_z(const json_t *level)
{
    return json_number_value(
        json_array_get(json_object_get(level, "disc_centroid_mm"), 2));
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

/* Assign one section at patient z: the disc level whose centre is within
 * half its height (at least 2 mm), else the vertebra between the two
 * discs around z; null beyond half a level outside the discs. */
static void assign(json_t *sec, const json_t *levels, double z)
{
    size_t n = json_array_size(levels), best = 0;
    double bd = INFINITY;
    for (size_t q = 0; q < n; q++) {
        double d = fabs(z - disc_z(json_array_get(levels, q)));
        if (d < bd)
            bd = d, best = q;
    }
    const json_t *l = json_array_get(levels, best);
    const char *name = json_string_value(json_object_get(l, "level"));
    double h = json_number_value(json_object_get(l, "disc_height_mm"));
    double spacing = 30;
    if (n > 1)
        spacing = fabs(disc_z(json_array_get(levels, 0)) -
                       disc_z(json_array_get(levels, n - 1))) /
                  (double)(n - 1);
    if (!name || bd > 0.5 * spacing + 1e-9) {
        json_object_set_new(sec, "level", json_null());
        return;
    }
    if (bd <= fmax(0.5 * h, 2.0)) {
        json_object_set_new(sec, "level", json_string(name));
        json_object_set_new(sec, "at_disc", json_true());
        return;
    }
    json_object_set_new(sec, "level",
                        vertebra_of(name, z > disc_z(l)));
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
            json_pack("{s:O, s:O, s:O, s:I}", "canal_area_mm2",
                      json_object_get(min, "canal_area_mm2"), "canal_ap_mm",
                      json_object_get(min, "canal_ap_mm"), "z_mm",
                      json_object_get(min, "z_mm"), "slices",
                      (json_int_t)count));
    }
}

/* The study report from the reports of one study folder, or NULL with
 * a reason in `why`. */
static json_t *combine(json_t *const *reports, size_t n, char *why,
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
            assign(c, levels, json_number_value(json_object_get(s, "z_mm")));
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
        char path[4096];
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

int cmd_mr_study(int argc, char **argv)
{
    const char *out = NULL;
    int first = 0, ndirs = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
            help();
            return SP_EXIT_OK;
        }
        if (!strcmp(argv[a], "-o") || !strcmp(argv[a], "--output")) {
            if (++a >= argc)
                return cli_usage_error("mr-study", "%s needs a file",
                                       argv[a - 1]);
            out = argv[a];
        } else if (argv[a][0] == '-') {
            return cli_usage_error("mr-study", "unknown option %s", argv[a]);
        } else {
            first = first ? first : a;
            ndirs++;
        }
    }
    if (ndirs == 0)
        return cli_usage_error("mr-study", "no study folder given");
    if (out && ndirs > 1)
        return cli_usage_error("mr-study", "--output takes one study folder");
    int code = SP_EXIT_OK, failed = 0;
    for (int a = first; a < argc; a++) {
        if (argv[a][0] == '-') {
            a += !strcmp(argv[a], "-o") || !strcmp(argv[a], "--output");
            continue;
        }
        json_t *reports[MAX_SERIES];
        DIR *probe = opendir(argv[a]);
        if (!probe) {
            fprintf(stderr, "spinepipe mr-study: %s: no such folder\n",
                    argv[a]);
            code = 66, failed++;
            continue;
        }
        closedir(probe);
        size_t n = read_reports(argv[a], reports);
        char why[256], path[4096];
        json_t *study = combine(reports, n, why, sizeof why);
        for (size_t q = 0; q < n; q++)
            json_decref(reports[q]);
        if (!study) {
            fprintf(stderr, "spinepipe mr-study: %s: %s\n", argv[a], why);
            code = 65, failed++;
            continue;
        }
        snprintf(path, sizeof path, "%s/study_report.json", argv[a]);
        const char *dst = out ? out : path;
        if (json_dump_file(study, dst, JSON_INDENT(2)) != 0) {
            fprintf(stderr, "spinepipe mr-study: cannot write %s\n", dst);
            code = 73, failed++;
        } else {
            printf("%s: %zu levels, %zu axial sections\n", dst,
                   json_array_size(json_object_get(study, "levels")),
                   json_array_size(json_object_get(study, "sections")));
        }
        json_decref(study);
    }
    return failed && failed < ndirs ? SP_EXIT_PARTIAL : code;
}
