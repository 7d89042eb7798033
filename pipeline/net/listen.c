/* `spinepipe listen` behind the CLI: the spool, the worker threads that
 * run queued series and send their DICOM results, and the SCP. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "dicom/dicom_internal.h"
#include "engine/log.h"
#include "net_internal.h"
#include "output/output.h"
#include "spinepipe/dicom.h"

typedef struct listener {
    const sp_listen_options *o;
    sp_spool *spool;
} listener;

static void pause_seconds(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (long)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

sp_status sp_net_send_retry(const sp_net_peer *dest, const char *our_aet,
                            const char *const *files, size_t n_files,
                            int attempts, double pause,
                            const char *dead_letter_dir, sp_error *err)
{
    sp_status st = SP_OK;
    for (int a = 0; a < (attempts > 0 ? attempts : 1); a++) {
        if (a > 0)
            pause_seconds(pause);
        st = sp_net_send(dest, our_aet, files, n_files, 30, err);
        if (st == SP_OK)
            return SP_OK;
        sp_log(SP_LOG_WARN, NULL, "send attempt %d of %d: %s", a + 1,
               attempts, err->message);
    }
    sp_error merr;
    if (sp_mkdirs(dead_letter_dir, &merr) != SP_OK) {
        sp_log(SP_LOG_ERROR, NULL, "%s", merr.message);
        return st;
    }
    char to[PATH_MAX];
    for (size_t i = 0; i < n_files; i++) {
        const char *base = strrchr(files[i], '/');
        base = base ? base + 1 : files[i];
        snprintf(to, sizeof to, "%s/%04zu-%s", dead_letter_dir, i, base);
        if (rename(files[i], to) != 0)
            sp_log(SP_LOG_ERROR, NULL, "cannot move %s to %s: %s", files[i],
                   to, strerror(errno));
    }
    return st;
}

void spn_report_oversize(const char *calling_aet, size_t limit)
{
    sp_log(SP_LOG_ERROR, NULL, "association from '%s' aborted: a data set "
           "exceeded the limit of %zu bytes (--max-dataset-mb)",
           calling_aet, limit);
}

void spn_report_acks(size_t n, double median_ms, double p99_ms,
                     double max_ms)
{
    sp_log(SP_LOG_INFO, NULL, "%zu instance(s) acknowledged; from fully "
           "received to response sent: median %.1f ms, 99th percentile "
           "%.1f ms, max %.1f ms",
           n, median_ms, p99_ms, max_ms);
}

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void send_results(listener *l, const char *id, const char *out_dir)
{
    const sp_listen_options *o = l->o;
    spn_file_list files = {0};
    if (spn_collect_files(out_dir, ".dcm", &files) != 0) {
        sp_log(SP_LOG_ERROR, NULL, "job %s: cannot list results in %s", id,
               out_dir);
    } else if (files.n) {
        char dead[PATH_MAX];
        snprintf(dead, sizeof dead, "%s/dead-letter/%s",
                 sp_spool_root(l->spool), id);
        sp_error err;
        if (sp_net_send_retry(o->dest, o->aet,
                              (const char *const *)files.paths, files.n,
                              o->send_attempts, o->retry_seconds, dead,
                              &err) != SP_OK)
            sp_log(SP_LOG_ERROR, NULL, "job %s: results kept in %s: %s", id,
                   dead, err.message);
        else
            sp_log(SP_LOG_INFO, NULL, "job %s: %zu result file(s) sent", id,
                   files.n);
    }
    spn_file_list_free(&files);
}

static void *worker(void *arg)
{
    listener *l = arg;
    const sp_listen_options *o = l->o;
    const char *root = sp_spool_root(l->spool);
    while (!*o->stop) {
        char id[128];
        if (!sp_spool_take(l->spool, 0.2, id, sizeof id))
            continue;
        char series_dir[PATH_MAX], out_dir[PATH_MAX];
        snprintf(series_dir, sizeof series_dir, "%s/jobs/%s", root, id);
        snprintf(out_dir, sizeof out_dir, "%s/results/%s", root, id);
        sp_error err;
        sp_error_clear(&err);
        double t0 = mono_seconds();
        sp_status st = o->run_job(o->user, id, series_dir, out_dir, &err);
        double t1 = mono_seconds();
        if (st == SP_OK && o->dest)
            send_results(l, id, out_dir);
        if (st == SP_OK)
            sp_log(SP_LOG_INFO, NULL, "job %s: done (run %.2f s, send "
                   "%.2f s)", id, t1 - t0, mono_seconds() - t1);
        else
            sp_log(SP_LOG_ERROR, NULL, "job %s: failed: %s", id,
                   err.message);
        sp_spool_finish(l->spool, id, st == SP_OK ? NULL : err.message);
    }
    if (o->worker_end)
        o->worker_end(o->user);
    return NULL;
}

sp_status sp_listen(const sp_listen_options *o, sp_error *err)
{
    if (!o->aet || !sp_net_valid_aet(o->aet))
        return sp_error_set(err, SP_USAGE, "AE title '%s' is invalid (1-16 "
                            "printable characters)",
                            o->aet ? o->aet : "");
    if (o->port < 1 || o->port > 65535 || o->jobs < 1 ||
        o->max_associations < 1 || o->idle_timeout < 1 ||
        o->quiet_seconds <= 0 || o->settle_seconds < 0 || !o->run_job ||
        !o->stop)
        return sp_error_set(err, SP_USAGE, "listener options out of range");
    sp_status st = sp_dicom_init(err);
    if (st != SP_OK)
        return st;
    /* The DCMTK module switches DCMTK's logging off before the network
     * code can print, and its dictionary is needed for every object. */
    st = spd_dictionary_ready(err);
    if (st != SP_OK) {
        sp_dicom_cleanup();
        return st;
    }
    listener l = {o, NULL};
    st = sp_spool_open(o->spool, o->quiet_seconds, o->settle_seconds,
                       &l.spool, err);
    if (st != SP_OK) {
        sp_dicom_cleanup();
        return st;
    }
    pthread_t *threads = calloc((size_t)o->jobs, sizeof *threads);
    size_t started = 0;
    for (int t = 0; threads && t < o->jobs; t++)
        if (pthread_create(&threads[started], NULL, worker, &l) == 0)
            started++;
    if (started == 0) {
        st = sp_error_set(err, SP_INTERNAL, "cannot start worker threads");
    } else {
        st = spn_serve(o, l.spool, err);
        /* The SCP failed to start: stop the workers too. */
        if (st != SP_OK)
            *o->stop = 1;
    }
    sp_spool_wake(l.spool);
    for (size_t t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    free(threads);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        sp_log(SP_LOG_INFO, NULL, "listener process (receiving, spooling, "
               "queueing; jobs not included): user %.2f s, system %.2f s "
               "CPU",
               (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6,
               (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6);
    sp_spool_close(l.spool);
    sp_dicom_cleanup();
    return st;
}
