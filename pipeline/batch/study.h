/* One study of a batch: its folders under OUT, the `spinepipe run` child
 * that processes it, its lock and its outcome file.
 *
 *   OUT/studies/<key>/      what `spinepipe run` wrote for the study
 *   OUT/logs/<key>.log      the child's stderr, one header line per attempt
 *   OUT/locks/<key>.lock    flock'ed while a process works on the study
 *   OUT/outcomes/<key>.json written last, atomically: the study is finished
 *
 * A study is done when its outcome says "ok"; anything else is run again,
 * and `spinepipe run` itself then skips the series that are done. A child
 * stopped by SIGTERM, SIGINT or SIGKILL (Ctrl-C, scancel, preemption)
 * leaves no outcome, so the study stays pending. */
#ifndef SPINEPIPE_BATCH_STUDY_H
#define SPINEPIPE_BATCH_STUDY_H

#include <limits.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <jansson.h>

#include "manifest.h"

typedef struct sp_study_runner {
    char exe[PATH_MAX];           /* the spinepipe executable */
    const char *out_dir;
    const char *config;           /* NULL: run chooses */
    const char *const *sets;      /* --set for run */
    size_t n_sets;
    int force;
    int anonymize;
    const char *shard;            /* "K/N" for the outcome, or NULL */
    int once;                     /* any outcome, also "failed", is final
                                     (watch); otherwise only "ok" (batch) */
} sp_study_runner;

typedef struct sp_study_job {
    const sp_study *study;
    pid_t pid;
    int lock_fd;
    double t0;       /* monotonic */
    char started[32];
    int exit_code;   /* set by sp_study_finish */
} sp_study_job;

/* Create OUT/{studies,logs,locks,outcomes}. */
sp_status sp_study_dirs(const char *out_dir, sp_error *err);
/* Unless SPINEPIPE_THREADS is set, set it so that `jobs` children share
 * the CPUs this process may run on (sched_getaffinity: a Slurm or cgroup
 * allocation, not the whole node), at least one thread each. Call before
 * any child starts. */
void sp_study_share_cpus(int jobs);
/* Fill runner->exe from /proc/self/exe. */
sp_status sp_study_runner_init(sp_study_runner *r, sp_error *err);

/* The outcome of a study, or NULL when it has none (pending). */
json_t *sp_outcome_load(const char *out_dir, const char *key);
/* Nonzero when the outcome says "ok". */
int sp_outcome_ok(const char *out_dir, const char *key);
/* Nonzero when the study needs no run: its outcome is "ok", or with
 * r->once any outcome exists; never with r->force. */
int sp_study_finished(const sp_study_runner *r, const char *key);
/* Nonzero when some process holds the study's lock now. */
int sp_study_busy(const char *out_dir, const char *key);

/* Lock the study and start its child. *started is 0 (and nothing runs)
 * when another process holds the lock or finished the study meanwhile. */
sp_status sp_study_start(const sp_study_runner *r, const sp_study *s,
                         sp_study_job *job, int *started, sp_error *err);
/* The child ended with `wait_status` and used `usage` (from wait4): write
 * the outcome (unless the child was stopped from outside) and unlock. *ok
 * tells whether it succeeded; *recorded whether an outcome was written. */
sp_status sp_study_finish(const sp_study_runner *r, sp_study_job *job,
                          int wait_status, const struct rusage *usage,
                          int *ok, int *recorded, sp_error *err);
/* Kill a running child (SIGTERM) without recording it. */
void sp_study_abandon(sp_study_job *job);

#endif
