/* `spinepipe batch` without --slurm: the studies of one shard through
 * `spinepipe run` children, --jobs at a time, skipping finished ones. */
#ifndef SPINEPIPE_BATCH_RUNNER_H
#define SPINEPIPE_BATCH_RUNNER_H

#include <signal.h>

#include "manifest.h"
#include "study.h"

typedef struct sp_batch_counts {
    size_t assigned;    /* studies in this shard */
    size_t done_before; /* skipped: outcome already "ok" */
    size_t ok, failed;  /* run now */
    size_t busy;        /* skipped: another process holds the lock */
    size_t interrupted; /* stopped by a signal, left pending */
    int first_exit;     /* exit code of the first failed study */
} sp_batch_counts;

/* Run every study of `shard` (n == 0: all). Returns SP_OK when the loop
 * ran (see counts), or the error that stopped it (cannot create the output
 * folders). Stops starting studies, and ends running ones unrecorded, once
 * *stop is set. */
sp_status sp_batch_manifest_run(const sp_manifest *m,
                                const sp_study_runner *r,
                                const sp_shard *shard, int jobs,
                                volatile sig_atomic_t *stop,
                                sp_batch_counts *counts, sp_error *err);

#endif
