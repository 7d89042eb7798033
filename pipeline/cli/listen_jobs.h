/* How `spinepipe listen` runs its jobs: each worker thread keeps a job
 * server, a child process (`spinepipe listen --job-server`) that runs one
 * series after another through the same batch runner as `spinepipe run`.
 * A crash takes down the child, never the listener, and fails only the job
 * it was running; the next job starts a new child. Keeping the child
 * between jobs saves the start-up of one process per series (stage
 * modules, DCMTK's SR context groups; bench/README.md). */
#ifndef SPINEPIPE_CLI_LISTEN_JOBS_H
#define SPINEPIPE_CLI_LISTEN_JOBS_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include "cli_options.h"
#include "spinepipe/error.h"

/* A child dies with the thread that started it (PR_SET_PDEATHSIG), so
 * only that thread uses it. */
typedef struct listen_job_server {
    pid_t pid;
    int to, from; /* pipes: requests to it, answers from it */
    pthread_t owner;
} listen_job_server;

typedef struct listen_jobs {
    char exe[PATH_MAX];
    int send_seg;
    const char *config;
    const char *const *sets; /* at most CLI_MAX_SETS */
    size_t n_sets;
    pthread_mutex_t lock;
    listen_job_server *idle; /* servers between jobs */
    size_t n_idle, cap_idle;
} listen_jobs;

/* An sp_job_fn (net/net.h) with a listen_jobs as user. */
sp_status listen_run_job(void *user, const char *id, const char *series_dir,
                         const char *out_dir, sp_error *err);

/* Stop the idle servers the calling thread started: close their request
 * pipe, which makes them exit normally (so a sanitizer build checks them
 * for leaks), wait for each at most LISTEN_JOBS_QUIT_SECONDS, then
 * SIGKILL. A server that exits with a failure is logged as an error. An
 * sp_listen_options.worker_end with a listen_jobs as user. */
void listen_jobs_thread_end(void *user);

#define LISTEN_JOBS_QUIT_SECONDS 20

/* Stop and reap the idle servers left (after the workers have ended). */
void listen_jobs_close(listen_jobs *j);

/* The child's side: answer requests on stdin until it closes. Returns the
 * process exit code. */
int listen_job_server_main(const listen_jobs *conf);

#endif
