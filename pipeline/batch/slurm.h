/* `spinepipe batch --slurm`: write an sbatch script whose array tasks run
 * `spinepipe batch --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`,
 * submit it with sbatch, and return the job ID. */
#ifndef SPINEPIPE_BATCH_SLURM_H
#define SPINEPIPE_BATCH_SLURM_H

#include <stddef.h>

#include "spinepipe/error.h"

typedef struct sp_slurm_options {
    const char *exe;       /* absolute path of spinepipe */
    const char *manifest;  /* absolute */
    const char *out_dir;   /* absolute */
    const char *config;    /* absolute, or NULL */
    const char *const *sets;
    size_t n_sets;
    int force, anonymize;
    int array_size;        /* tasks */
    int jobs;              /* studies at once in each task */
    const char *partition; /* or NULL */
    int cpus_per_task;     /* 0: Slurm's default */
    const char *mem;       /* e.g. "4G", or NULL */
} sp_slurm_options;

/* Write OUT/slurm/batch-<time>.sh (task logs go to
 * OUT/slurm/logs/<job>_<task>.log) and submit it. The script path is
 * written to script (PATH_MAX bytes), the job ID to job_id. sbatch's own
 * messages go to our stderr; a failed submission is SP_NETWORK (69,
 * service unavailable) with sbatch's exit code. */
sp_status sp_slurm_submit(const sp_slurm_options *o, char *script,
                          size_t script_size, char *job_id,
                          size_t job_id_size, sp_error *err);

#endif
