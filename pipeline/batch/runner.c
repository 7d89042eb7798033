/* The batch loop: a fixed pool of `spinepipe run` children. */
#include "runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

typedef struct pool {
    const sp_study_runner *r;
    sp_study_job *jobs;
    int size, running;
    sp_batch_counts *counts;
    size_t finished;
} pool;

static void report(pool *p, const sp_study_job *job, int ok, int recorded)
{
    p->finished++;
    const sp_study *s = job->study;
    if (!recorded)
        p->counts->interrupted++;
    else if (ok)
        p->counts->ok++;
    else if (p->counts->failed++ == 0)
        p->counts->first_exit = job->exit_code;
    fprintf(stderr, "spinepipe batch: [%zu/%zu] %s %s (logs/%s.log)\n",
            p->finished, p->counts->assigned - p->counts->done_before,
            !recorded ? "interrupted" : ok ? "ok" : "FAILED", s->path,
            s->key);
}

/* Wait for one child to end and record it. Returns 0 when interrupted by
 * a signal before any child ended. */
static int reap_one(pool *p, sp_error *err, sp_status *st)
{
    int status;
    struct rusage ru;
    pid_t pid = wait4(-1, &status, 0, &ru);
    if (pid < 0 && errno == ECHILD) {
        /* Our children are gone without a status (cannot happen unless
         * SIGCHLD is ignored): leave their studies pending. */
        for (int i = 0; i < p->size; i++)
            if (p->jobs[i].pid > 0) {
                p->jobs[i].pid = 0;
                sp_study_abandon(&p->jobs[i]);
                p->counts->interrupted++;
                p->running--;
            }
        return 0;
    }
    if (pid < 0)
        return 0;
    for (int i = 0; i < p->size; i++) {
        sp_study_job *job = &p->jobs[i];
        if (job->pid != pid)
            continue;
        int ok, recorded;
        sp_error e;
        sp_status fs = sp_study_finish(p->r, job, status, &ru, &ok, &recorded,
                                       &e);
        if (fs != SP_OK && *st == SP_OK) {
            *err = e;
            *st = fs;
        }
        report(p, job, ok, recorded);
        p->running--;
        return 1;
    }
    return 1; /* not ours: nothing to record */
}

static sp_study_job *free_slot(pool *p)
{
    for (int i = 0; i < p->size; i++)
        if (p->jobs[i].pid == 0)
            return &p->jobs[i];
    return NULL;
}

sp_status sp_batch_manifest_run(const sp_manifest *m,
                                const sp_study_runner *r,
                                const sp_shard *shard, int jobs,
                                volatile sig_atomic_t *stop,
                                sp_batch_counts *counts, sp_error *err)
{
    memset(counts, 0, sizeof *counts);
    sp_status st = sp_study_dirs(r->out_dir, err);
    if (st != SP_OK)
        return st;
    for (size_t i = 0; i < m->n; i++)
        if (sp_shard_has(shard, i)) {
            counts->assigned++;
            if (sp_study_finished(r, m->studies[i].key))
                counts->done_before++;
        }
    pool p = {r, calloc((size_t)(jobs > 0 ? jobs : 1), sizeof *p.jobs),
              jobs > 0 ? jobs : 1, 0, counts, 0};
    if (!p.jobs)
        return sp_error_set(err, SP_NOMEM, "out of memory");
    for (size_t i = 0; i < m->n && !*stop && st == SP_OK; i++) {
        const sp_study *s = &m->studies[i];
        if (!sp_shard_has(shard, i) || sp_study_finished(r, s->key))
            continue;
        while (p.running == p.size && !*stop)
            reap_one(&p, err, &st);
        if (*stop || st != SP_OK)
            break;
        sp_study_job *slot = free_slot(&p);
        int started;
        st = sp_study_start(r, s, slot, &started, err);
        if (st == SP_OK && started) {
            p.running++;
        } else if (st == SP_OK && sp_study_finished(r, s->key)) {
            counts->done_before++; /* finished by another process */
        } else if (st == SP_OK) {
            counts->busy++;
            fprintf(stderr, "spinepipe batch: %s: being run by another "
                    "process\n", s->path);
        }
    }
    while (p.running > 0 && !*stop)
        reap_one(&p, err, &st);
    for (int i = 0; i < p.size; i++)
        if (p.jobs[i].pid > 0) {
            sp_study_abandon(&p.jobs[i]);
            counts->interrupted++;
        }
    free(p.jobs);
    return st;
}
