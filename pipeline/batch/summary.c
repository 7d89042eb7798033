/* summary.json / summary.csv over every study of a manifest. */
#include "summary.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output/output.h"
#include "results.h"
#include "study.h"

static const char *study_status(const sp_manifest *m, size_t i,
                                const char *out_dir, json_t **outcome)
{
    *outcome = sp_outcome_load(out_dir, m->studies[i].key);
    const char *st = json_string_value(json_object_get(*outcome, "status"));
    if (st && strcmp(st, "ok") == 0)
        return "ok";
    if (sp_study_busy(out_dir, m->studies[i].key))
        return "running";
    return st ? "failed" : "pending";
}

static void count(sp_batch_state *s, const char *status)
{
    s->studies++;
    if (!strcmp(status, "ok"))
        s->ok++;
    else if (!strcmp(status, "failed"))
        s->failed++;
    else
        s->pending++;
    if (!strcmp(status, "running"))
        s->running++;
}

void sp_batch_state_read(const sp_manifest *m, const char *out_dir,
                         sp_batch_state *state, FILE *out)
{
    memset(state, 0, sizeof *state);
    for (size_t i = 0; i < m->n; i++) {
        json_t *o;
        const char *st = study_status(m, i, out_dir, &o);
        count(state, st);
        if (out && !strcmp(st, "failed")) {
            const char *why = json_string_value(json_object_get(o, "error"));
            fprintf(out, "failed: %s:%zu: %s: %s\n", m->path,
                    m->studies[i].line, m->studies[i].path,
                    why ? why : "(no reason recorded)");
        }
        json_decref(o);
    }
}

/* One summary entry: the outcome's fields plus the key measurements. */
static json_t *entry(const sp_study *s, const char *status, json_t *o)
{
    json_t *e = json_pack("{s:I, s:s, s:s, s:s}", "line", (json_int_t)s->line,
                          "path", s->path, "key", s->key, "status", status);
    static const char *const copied[] = {"exit_code", "seconds",
                                         "cpu_seconds", "max_rss_mb", "series",
                                         "error", "started", "finished",
                                         "host", "shard", "output", "log"};
    for (size_t i = 0; o && i < sizeof copied / sizeof *copied; i++) {
        json_t *v = json_object_get(o, copied[i]);
        if (v)
            json_object_set(e, copied[i], v);
    }
    const json_t *results = json_object_get(o, "results");
    const char *level, *worst;
    double ap = sp_results_min_canal(results, &level);
    json_object_set_new(e, "min_canal_ap_mm",
                        ap >= 0 ? json_real(ap) : json_null());
    json_object_set_new(e, "min_canal_ap_level",
                        level ? json_string(level) : json_null());
    json_object_set_new(e, "levels_flagged",
                        json_integer(sp_results_findings(results, &worst)));
    json_object_set_new(e, "worst_finding", json_string(worst));
    if (results)
        json_object_set(e, "results", (json_t *)results);
    else
        json_object_set_new(e, "results", json_array());
    return e;
}

/* A CSV text field: quoted, quotes doubled, and a leading = + - @ made
 * inert so a spreadsheet never runs it as a formula. */
static void csv_text(FILE *f, const char *s)
{
    fputc('"', f);
    if (s && (*s == '=' || *s == '+' || *s == '-' || *s == '@'))
        fputc('\'', f);
    for (; s && *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Integers as they are, reals with `decimals` digits. */
static void csv_number(FILE *f, const json_t *v, int decimals)
{
    if (json_is_integer(v))
        fprintf(f, "%lld", (long long)json_integer_value(v));
    else if (json_is_number(v))
        fprintf(f, "%.*f", decimals, json_number_value(v));
}

static void csv_row(FILE *f, const json_t *e)
{
    const json_t *series = json_object_get(e, "series");
    fprintf(f, "%lld,", (long long)json_integer_value(json_object_get(e, "line")));
    csv_text(f, json_string_value(json_object_get(e, "path")));
    fputc(',', f);
    csv_text(f, json_string_value(json_object_get(e, "key")));
    fputc(',', f);
    csv_text(f, json_string_value(json_object_get(e, "status")));
    fputc(',', f);
    csv_number(f, json_object_get(e, "exit_code"), 0);
    static const char *const counts[] = {"total", "ok", "failed"};
    for (size_t i = 0; i < 3; i++) {
        fputc(',', f);
        csv_number(f, json_object_get(series, counts[i]), 0);
    }
    fputc(',', f);
    csv_number(f, json_object_get(e, "seconds"), 3);
    fputc(',', f);
    csv_number(f, json_object_get(e, "cpu_seconds"), 3);
    fputc(',', f);
    csv_number(f, json_object_get(e, "max_rss_mb"), 1);
    fputc(',', f);
    csv_number(f, json_object_get(e, "min_canal_ap_mm"), 2);
    fputc(',', f);
    csv_text(f, json_string_value(json_object_get(e, "min_canal_ap_level")));
    fputc(',', f);
    csv_number(f, json_object_get(e, "levels_flagged"), 0);
    fputc(',', f);
    csv_text(f, json_string_value(json_object_get(e, "worst_finding")));
    fputc(',', f);
    csv_text(f, json_string_value(json_object_get(e, "error")));
    fputc('\n', f);
}

static sp_status write_csv(const json_t *studies, const char *path,
                           sp_error *err)
{
    sp_atomic_file af;
    sp_status st = sp_atomic_open(&af, path, err);
    if (st != SP_OK)
        return st;
    fputs("line,path,key,status,exit_code,series_total,series_ok,"
          "series_failed,seconds,cpu_seconds,max_rss_mb,min_canal_ap_mm,"
          "min_canal_ap_level,levels_flagged,worst_finding,error\n",
          af.fp);
    size_t i;
    const json_t *e;
    json_array_foreach(studies, i, e)
        csv_row(af.fp, e);
    return sp_atomic_commit(&af, err);
}

sp_status sp_batch_summary_write(const sp_manifest *m, const char *out_dir,
                                 sp_batch_state *state, sp_error *err)
{
    memset(state, 0, sizeof *state);
    json_t *studies = json_array();
    for (size_t i = 0; i < m->n; i++) {
        json_t *o;
        const char *st = study_status(m, i, out_dir, &o);
        count(state, st);
        json_array_append_new(studies, entry(&m->studies[i], st, o));
        json_decref(o);
    }
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I}, s:o}", "schema",
        "spinepipe-batch-summary/1", "manifest", m->path, "generated", when,
        "counts", "studies", (json_int_t)state->studies, "ok",
        (json_int_t)state->ok, "failed", (json_int_t)state->failed,
        "pending", (json_int_t)state->pending, "running",
        (json_int_t)state->running, "studies", studies);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/summary.json", out_dir);
    sp_status st = doc ? sp_json_write_file(doc, path, err)
                       : sp_error_set(err, SP_NOMEM, "out of memory");
    if (st == SP_OK) {
        snprintf(path, sizeof path, "%s/summary.csv", out_dir);
        st = write_csv(json_object_get(doc, "studies"), path, err);
    }
    json_decref(doc);
    return st;
}
