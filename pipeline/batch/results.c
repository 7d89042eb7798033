/* Reading run.json and report.json of a finished study. */
#include "results.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

static int visible(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static int severity_rank(const char *s)
{
    static const char *const names[] = {"normal", "mild", "relative",
                                        "moderate", "absolute", "severe"};
    static const int ranks[] = {0, 1, 1, 2, 3, 3};
    for (size_t i = 0; s && i < sizeof ranks / sizeof *ranks; i++)
        if (strcmp(s, names[i]) == 0)
            return ranks[i];
    return -1;
}

static json_t *number_or_null(const json_t *v)
{
    return json_is_number(v) ? json_real(json_number_value(v)) : json_null();
}

static json_t *level_summary(const json_t *lv)
{
    const char *worst = NULL;
    int rank = -1;
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(lv, "findings"), i, f) {
        const char *sev = json_string_value(json_object_get(f, "severity"));
        if (severity_rank(sev) > rank) {
            rank = severity_rank(sev);
            worst = sev;
        }
    }
    const char *name = json_string_value(json_object_get(lv, "level"));
    return json_pack("{s:s, s:o, s:o, s:o, s:s?}", "level", name ? name : "",
                     "canal_ap_mm",
                     number_or_null(json_object_get(lv, "canal_ap_mm")),
                     "canal_area_mm2",
                     number_or_null(json_object_get(lv, "canal_area_mm2")),
                     "disc_height_mm",
                     number_or_null(json_object_get(lv, "disc_height_mm")),
                     "worst_finding", worst);
}

static json_t *series_entry(const char *dir, const char *rel, json_t *run)
{
    const json_t *series = json_object_get(run, "series");
    const char *st = json_string_value(json_object_get(run, "status"));
    const char *mod = json_string_value(json_object_get(series, "modality"));
    const char *desc =
        json_string_value(json_object_get(series, "description"));
    json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "folder", rel, "status",
                          st ? st : "unknown", "modality", mod ? mod : "",
                          "description", desc ? desc : "");
    if (!e)
        return NULL;
    char path[PATH_MAX + 600];
    snprintf(path, sizeof path, "%s/report.json", dir);
    json_t *report = json_load_file(path, 0, NULL);
    if (!report)
        return e;
    json_t *levels = json_array();
    size_t i;
    const json_t *lv;
    json_array_foreach(json_object_get(report, "levels"), i, lv)
        json_array_append_new(levels, level_summary(lv));
    json_object_set_new(e, "levels", levels);
    const char *na =
        json_string_value(json_object_get(report, "not_analysable"));
    if (na)
        json_object_set_new(e, "not_analysable", json_string(na));
    json_decref(report);
    return e;
}

json_t *sp_study_results(const char *study_dir)
{
    json_t *list = json_array();
    size_t n_ok = 0, n_failed = 0;
    struct dirent **studies = NULL;
    int ns = scandir(study_dir, &studies, visible, alphasort);
    for (int i = 0; i < ns; i++) {
        char sdir[PATH_MAX];
        struct dirent **series = NULL;
        int nr = sp_path_join(sdir, sizeof sdir, study_dir,
                              studies[i]->d_name) == 0
                     ? scandir(sdir, &series, visible, alphasort)
                     : 0;
        for (int k = 0; k < nr; k++) {
            char dir[PATH_MAX], path[PATH_MAX];
            json_t *run =
                sp_path_join(dir, sizeof dir, sdir, series[k]->d_name) == 0 &&
                        sp_path_join(path, sizeof path, dir, "run.json") == 0
                    ? json_load_file(path, 0, NULL)
                    : NULL;
            if (run) {
                char rel[600];
                snprintf(rel, sizeof rel, "%s/%s", studies[i]->d_name,
                         series[k]->d_name);
                json_t *e = series_entry(dir, rel, run);
                const char *st =
                    json_string_value(json_object_get(run, "status"));
                if (st && strcmp(st, "ok") == 0)
                    n_ok++;
                else
                    n_failed++;
                if (e)
                    json_array_append_new(list, e);
                json_decref(run);
            }
            free(series[k]);
        }
        free(series);
        free(studies[i]);
    }
    free(studies);
    return json_pack("{s:{s:I, s:I, s:I}, s:o}", "series", "total",
                     (json_int_t)(n_ok + n_failed), "ok", (json_int_t)n_ok,
                     "failed", (json_int_t)n_failed, "results", list);
}

double sp_results_min_canal(const json_t *results, const char **level)
{
    double best = -1;
    *level = NULL;
    size_t i, k;
    const json_t *s, *lv;
    json_array_foreach(results, i, s)
        json_array_foreach(json_object_get(s, "levels"), k, lv) {
            const json_t *ap = json_object_get(lv, "canal_ap_mm");
            if (!json_is_number(ap))
                continue;
            double v = json_number_value(ap);
            if (best < 0 || v < best) {
                best = v;
                *level = json_string_value(json_object_get(lv, "level"));
            }
        }
    return best;
}

int sp_results_findings(const json_t *results, const char **worst)
{
    int n = 0, rank = 0;
    *worst = "";
    size_t i, k;
    const json_t *s, *lv;
    json_array_foreach(results, i, s)
        json_array_foreach(json_object_get(s, "levels"), k, lv) {
            const char *sev =
                json_string_value(json_object_get(lv, "worst_finding"));
            int r = severity_rank(sev);
            if (r > 0) {
                n++;
                if (r > rank) {
                    rank = r;
                    *worst = sev;
                }
            }
        }
    return n;
}
