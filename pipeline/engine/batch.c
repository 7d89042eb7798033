/* The batch runner behind `spinepipe run`. */
#include "batch.h"
#include "mr_study.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "dicom/dicom_out.h"
#include "log.h"
#include "ondemand.h"
#include "run_index.h"
#include "volume_pool.h"
#include "output/output.h"
#include "spinepipe/dicom.h"
#include "spinepipe/version.h"

#define MARKER "run.json"

typedef struct job {
    const sp_dicom_series *series;
    const sp_pipeline *pipe;
    char dir[PATH_MAX];
    char label[160]; /* study/series, for messages */
    char rel[200];   /* "<study>/<series>", relative to the output folder */
    int skip;
} job;

typedef struct batch {
    const sp_batch_options *opt;
    job *jobs;
    size_t n_jobs;
    size_t next;        /* next job to take */
    size_t started;     /* for the status line */
    pthread_mutex_t lock;
    sp_batch_result *result;
    double t0;
    double last_status; /* when the status line was last drawn */
} batch;

static uint32_t fnv1a(const char *s, uint32_t h)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        h = (h ^ *c) * 16777619u;
    return h;
}

void sp_series_dir_names(const sp_dicom_series *s, int anonymize,
                         char *study, size_t study_size, char *series,
                         size_t series_size)
{
    const sp_dicom_header *h = &s->header;
    if (anonymize) {
        char raw[32];
        snprintf(raw, sizeof raw, "study-%08x",
                 (unsigned)fnv1a(h->study_uid, 2166136261u));
        sp_safe_name(raw, "study", study, study_size);
    } else {
        sp_safe_name(h->study_uid, "unknown-study", study, study_size);
    }
    char desc[41];
    sp_safe_name(h->series_description, "series", desc, sizeof desc);
    /* The hash keeps two series with the same number and description (or
     * two parts of one series) apart. */
    char part[16];
    snprintf(part, sizeof part, "#%d", s->part);
    uint32_t hash = fnv1a(part, fnv1a(h->series_uid, 2166136261u));
    char raw[128];
    snprintf(raw, sizeof raw, "%d_%s_%08x", h->series_number, desc,
             (unsigned)hash);
    sp_safe_name(raw, "series", series, series_size);
}

static sp_orientation series_orientation(const sp_dicom_series *s)
{
    return sp_orientation_from_axes(s->orientation, s->orientation + 3);
}

/* A series counts as done when its run.json says "ok". */
static int already_done(const char *dir)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/" MARKER, dir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        return 0;
    const char *st = json_string_value(json_object_get(j, "status"));
    int done = st && strcmp(st, "ok") == 0;
    json_decref(j);
    return done;
}

typedef struct progress {
    batch *b;
    size_t number;
    const char *label;
} progress;

static void on_stage(void *user, size_t index, const char *stage,
                     double fraction)
{
    progress *p = user;
    (void)index;
    double now = sp_now_seconds();
    /* At most ten redraws a second, but always at a stage's start. */
    pthread_mutex_lock(&p->b->lock);
    int draw = fraction == 0 || now - p->b->last_status >= 0.1;
    if (draw)
        p->b->last_status = now;
    pthread_mutex_unlock(&p->b->lock);
    if (!draw)
        return;
    double t = now - p->b->t0;
    char line[256];
    snprintf(line, sizeof line, "[series %zu/%zu] %.60s: %s %3.0f%%  %02d:%02d",
             p->number, p->b->n_jobs, p->label, stage, fraction * 100,
             (int)(t / 60), (int)t % 60);
    sp_log_status(line);
}

static json_t *series_json(const sp_dicom_series *s, int anonymize)
{
    const sp_dicom_header *h = &s->header;
    if (anonymize)
        return json_pack("{s:s, s:s, s:i, s:i, s:s, s:[i,i,i]}",
                         "description", h->series_description, "modality",
                         h->modality, "series_number", h->series_number,
                         "part", s->part, "orientation",
                         sp_orientation_name(series_orientation(s)),
                         "matrix", (int)s->columns, (int)s->rows,
                         (int)s->n_slices);
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:[i,i,i]}",
                     "study_uid", h->study_uid, "series_uid", h->series_uid,
                     "description", h->series_description, "modality",
                     h->modality, "series_number", h->series_number, "part",
                     s->part, "orientation",
                     sp_orientation_name(series_orientation(s)), "matrix",
                     (int)s->columns, (int)s->rows, (int)s->n_slices);
}

/* SC, SR and SEG of a finished series (docs/dicom-output.md), noted in
 * run.json. */
static sp_status write_dicom(const batch *b, const job *jb, json_t *report,
                             sp_error *err)
{
    char dir[PATH_MAX];
    if (sp_path_join(dir, sizeof dir, b->opt->dicom_out, jb->rel) != 0)
        return sp_error_set(err, SP_CANTCREATE, "%s: output path too long",
                            b->opt->dicom_out);
    sp_dicom_outputs d = {0};
    const sp_ondemand_api *od = sp_ondemand(err);
    sp_status st = od ? od->dicom_outputs_write(jb->series, jb->dir, dir,
                                                b->opt->dicom_seg, &d, err)
                      : SP_INTERNAL;
    json_object_set_new(report, "dicom",
                        json_pack("{s:s, s:I, s:b, s:b, s:I}", "folder", dir,
                                  "secondary_captures", (json_int_t)d.n_sc,
                                  "sr", d.sr, "seg", d.seg, "seg_frames",
                                  (json_int_t)d.n_seg_frames));
    return st;
}

/* Load, run, write run.json last. Returns the series' status. */
static sp_status run_job(batch *b, job *jb, size_t number, sp_error *err)
{
    double t0 = sp_now_seconds();
    char marker[PATH_MAX + 16];
    snprintf(marker, sizeof marker, "%s/" MARKER, jb->dir);
    sp_status st = sp_mkdirs(jb->dir, err);
    /* An interrupted rerun must not look done. */
    if (st == SP_OK && unlink(marker) != 0 && errno != ENOENT)
        st = sp_error_set(err, SP_CANTCREATE, "%s: cannot remove: %s",
                          marker, strerror(errno));
    if (st != SP_OK)
        return st;
    progress pr = {b, number, jb->label};
    sp_run_hooks hooks = {on_stage, &pr, jb->label,
                          b->opt->anonymize ? SP_RUN_ANONYMIZE : 0u};
    on_stage(&pr, 0, "loading", 0);
    sp_volume vol = {0};
    json_t *report = NULL;
    st = sp_dicom_load_series(jb->series, NULL, &vol, err);
    if (st == SP_OK)
        st = sp_pipeline_run(jb->pipe, &vol, &jb->series->header, jb->dir,
                             &hooks, NULL, &report, err);
    sp_pool_volume_free(&vol);
    if (!report)
        report = json_object();
    if (st == SP_OK && b->opt->dicom_out)
        st = write_dicom(b, jb, report, err);
    json_object_set_new(report, "spinepipe", json_string(SPINEPIPE_VERSION));
    json_object_set_new(report, "status",
                        json_string(st == SP_OK ? "ok" : "failed"));
    if (st != SP_OK) {
        json_object_set_new(report, "error", json_string(err->message));
        json_object_set_new(report, "error_code",
                            json_string(sp_status_name(st)));
    }
    json_object_set_new(report, "series", series_json(jb->series, b->opt->anonymize));
    json_object_set_new(report, "pipeline_settings",
                        sp_pipeline_json(jb->pipe));
    json_object_set_new(report, "seconds", json_real(sp_now_seconds() - t0));
    sp_error werr;
    sp_status ws = sp_json_write_file(report, marker, &werr);
    json_decref(report);
    if (st == SP_OK && ws != SP_OK) {
        *err = werr;
        st = ws;
    }
    return st;
}

static void *worker(void *arg)
{
    batch *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        size_t i = b->next;
        while (i < b->n_jobs && b->jobs[i].skip)
            i++;
        b->next = i + 1;
        size_t number = i < b->n_jobs ? ++b->started : 0;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->n_jobs)
            return NULL;
        job *jb = &b->jobs[i];
        sp_error err;
        sp_error_clear(&err);
        sp_status st = run_job(b, jb, number, &err);
        pthread_mutex_lock(&b->lock);
        if (st == SP_OK) {
            b->result->n_ok++;
        } else {
            b->result->n_failed++;
            if (b->result->first_error == SP_OK)
                b->result->first_error = st;
        }
        pthread_mutex_unlock(&b->lock);
        if (st == SP_OK)
            sp_log(SP_LOG_INFO, NULL, "%s: done", jb->label);
        else
            sp_log(SP_LOG_ERROR, NULL, "%s: failed: %s", jb->label,
                   err.message);
    }
}

/* Pipelines loaded so far, one per config path. */
typedef struct pipe_cache {
    sp_pipeline **pipes;
    size_t n;
} pipe_cache;

static sp_status cached_pipeline(pipe_cache *c, const char *path,
                                 const sp_registry *reg,
                                 const sp_batch_options *o,
                                 const sp_pipeline **out, sp_error *err)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->pipes[i]->path, path) == 0) {
            *out = c->pipes[i];
            return SP_OK;
        }
    sp_pipeline *p;
    sp_status st = sp_pipeline_load(path, reg, o->overrides, o->n_overrides,
                                    &p, err);
    if (st != SP_OK)
        return st;
    sp_pipeline **grown = realloc(c->pipes, (c->n + 1) * sizeof *grown);
    if (!grown) {
        sp_pipeline_free(p);
        return sp_error_set(err, SP_NOMEM, "out of memory");
    }
    c->pipes = grown;
    c->pipes[c->n++] = p;
    *out = p;
    return SP_OK;
}

static sp_status scan_inputs(const sp_batch_options *o, sp_dicom_scan ***scans,
                             size_t *n_series, sp_batch_result *result,
                             sp_error *err)
{
    *scans = calloc(o->n_inputs, sizeof **scans);
    if (!*scans)
        return sp_error_set(err, SP_NOMEM, "out of memory");
    *n_series = 0;
    for (size_t i = 0; i < o->n_inputs; i++) {
        sp_dicom_scan_options so = {0};
        sp_error e;
        sp_status st = sp_dicom_scan_path(o->inputs[i], &so, &(*scans)[i],
                                          &e);
        if (st != SP_OK) {
            /* An unreadable input counts as a failure; the rest runs. */
            sp_log(SP_LOG_ERROR, NULL, "%s", e.message);
            result->n_failed++;
            if (result->first_error == SP_OK)
                result->first_error = st;
            (*scans)[i] = NULL;
            continue;
        }
        sp_dicom_scan *s = (*scans)[i];
        if (s->n_skipped)
            sp_log(SP_LOG_INFO, NULL, "%s: %zu file(s) skipped (see "
                   "'spinepipe info')", o->inputs[i], s->n_skipped);
        *n_series += s->n_series;
    }
    if (*n_series == 0)
        return sp_error_set(err, SP_NOINPUT,
                            "no DICOM image series found in the %zu "
                            "input path(s)",
                            o->n_inputs);
    return SP_OK;
}

static sp_status plan_jobs(batch *b, sp_dicom_scan **scans,
                           const sp_registry *reg, pipe_cache *cache,
                           sp_error *err)
{
    const sp_batch_options *o = b->opt;
    size_t n = 0;
    for (size_t i = 0; i < o->n_inputs; i++)
        for (size_t k = 0; scans[i] && k < scans[i]->n_series; k++) {
            const sp_dicom_series *s = &scans[i]->series[k];
            job *jb = &b->jobs[n++];
            jb->series = s;
            char path[PATH_MAX];
            const char *cfg = o->config_path;
            if (!cfg) {
                sp_status st = sp_pipeline_choose_default(
                    s->header.modality,
                    sp_orientation_name(series_orientation(s)), path,
                    sizeof path, err);
                if (st != SP_OK)
                    return st;
                cfg = path;
            }
            sp_status st = cached_pipeline(cache, cfg, reg, o, &jb->pipe,
                                           err);
            if (st != SP_OK)
                return st;
            char study[80], series[96];
            sp_series_dir_names(s, o->anonymize, study, sizeof study,
                                series, sizeof series);
            snprintf(jb->label, sizeof jb->label, "%s", series);
            snprintf(jb->rel, sizeof jb->rel, "%s/%s", study, series);
            if (snprintf(jb->dir, sizeof jb->dir, "%s/%s/%s", o->out_dir,
                         study, series) >= (int)sizeof jb->dir)
                return sp_error_set(err, SP_CANTCREATE,
                                    "%s: output path too long", o->out_dir);
            for (size_t d = 0; d + 1 < n; d++)
                if (strcmp(b->jobs[d].dir, jb->dir) == 0)
                    return sp_error_set(err, SP_INTERNAL,
                                        "two series map to %s (the same "
                                        "series given twice?)",
                                        jb->dir);
            if (!o->force && already_done(jb->dir)) {
                jb->skip = 1;
                b->result->n_skipped++;
                sp_log(SP_LOG_INFO, NULL, "%s: already done (use --force "
                       "to rerun)", jb->label);
            }
        }
    b->n_jobs = n;
    return SP_OK;
}

/* After all series: each study folder of this run that holds a sagittal
 * MR series with named levels and an axial one with sections gets its
 * study_report.json (engine/mr_study.c). A study that cannot be combined
 * is not a failure; a write error is logged and the run goes on. */
static void write_study_reports(const batch *b)
{
    for (size_t i = 0; i < b->n_jobs; i++) {
        const char *slash = strrchr(b->jobs[i].dir, '/');
        size_t len = slash ? (size_t)(slash - b->jobs[i].dir) : 0;
        int seen = 0;
        for (size_t d = 0; d < i && !seen; d++)
            seen = strncmp(b->jobs[d].dir, b->jobs[i].dir, len) == 0 &&
                   b->jobs[d].dir[len] == '/' &&
                   !strchr(b->jobs[d].dir + len + 1, '/');
        if (seen || !len)
            continue;
        char study[PATH_MAX], why[256];
        snprintf(study, sizeof study, "%.*s", (int)len, b->jobs[i].dir);
        int written = 0;
        sp_error e;
        if (sp_mr_study_write(study, NULL, &written, why, sizeof why, &e) !=
            SP_OK)
            sp_log(SP_LOG_ERROR, NULL, "study report: %s", e.message);
        else if (written)
            sp_log(SP_LOG_INFO, NULL, "%s/study_report.json: sagittal and "
                   "axial MR series combined", study);
    }
}

/* index.html over every series of this run, done or skipped. */
static sp_status write_index(const batch *b, sp_error *err)
{
    const char **rels = calloc(b->n_jobs ? b->n_jobs : 1, sizeof *rels);
    if (!rels)
        return sp_error_set(err, SP_NOMEM, "out of memory");
    for (size_t i = 0; i < b->n_jobs; i++)
        rels[i] = b->jobs[i].rel;
    sp_status st = sp_run_index_write(b->opt->out_dir, rels, b->n_jobs, err);
    free(rels);
    return st;
}

sp_status sp_batch_run(const sp_batch_options *o, sp_batch_result *result,
                       sp_error *err)
{
    memset(result, 0, sizeof *result);
    sp_registry *reg = NULL;
    sp_dicom_scan **scans = NULL;
    pipe_cache cache = {NULL, 0};
    batch b = {.opt = o, .result = result, .t0 = sp_now_seconds()};
    size_t n_series = 0;
    sp_status st = sp_dicom_init(err);
    if (st != SP_OK)
        return st;
    st = sp_registry_new(&reg, err);
    if (st == SP_OK)
        st = sp_registry_load_default(reg, err);
    /* An explicit config is validated before any input is touched. */
    const sp_pipeline *unused;
    if (st == SP_OK && o->config_path)
        st = cached_pipeline(&cache, o->config_path, reg, o, &unused, err);
    if (st == SP_OK)
        st = scan_inputs(o, &scans, &n_series, result, err);
    if (st == SP_OK) {
        b.jobs = calloc(n_series, sizeof *b.jobs);
        if (!b.jobs)
            st = sp_error_set(err, SP_NOMEM, "out of memory");
    }
    if (st == SP_OK)
        st = plan_jobs(&b, scans, reg, &cache, err);
    if (st == SP_OK)
        st = sp_mkdirs(o->out_dir, err);
    if (st == SP_OK) {
        result->n_series = b.n_jobs;
        pthread_mutex_init(&b.lock, NULL);
        size_t n_threads = (size_t)(o->jobs > 0 ? o->jobs : 1);
        if (n_threads > b.n_jobs)
            n_threads = b.n_jobs ? b.n_jobs : 1;
        pthread_t *threads = calloc(n_threads, sizeof *threads);
        size_t started = 0;
        for (size_t t = 0; threads && t < n_threads; t++)
            if (pthread_create(&threads[t], NULL, worker, &b) == 0)
                started++;
        if (started == 0)
            worker(&b); /* no threads: run here */
        for (size_t t = 0; t < started; t++)
            pthread_join(threads[t], NULL);
        free(threads);
        pthread_mutex_destroy(&b.lock);
        sp_volume_pool_stats ps;
        sp_volume_pool_stats_get(&ps);
        sp_log(SP_LOG_INFO, NULL,
               "volume pool: %zu large allocations reused, %zu fresh",
               ps.hits, ps.misses);
        sp_log_status(NULL);
        write_study_reports(&b);
        st = write_index(&b, err);
    }
    free(b.jobs);
    for (size_t i = 0; scans && i < o->n_inputs; i++)
        sp_dicom_scan_free(scans[i]);
    free(scans);
    for (size_t i = 0; i < cache.n; i++)
        sp_pipeline_free(cache.pipes[i]);
    free(cache.pipes);
    sp_registry_free(reg);
    sp_dicom_cleanup();
    return st;
}
