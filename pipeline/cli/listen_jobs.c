/* Job servers for `spinepipe listen` (listen_jobs.h).
 *
 * Protocol: the listener writes SERIES_DIR NUL OUT_DIR NUL to the child's
 * stdin; the child runs the series and answers on file descriptor 3 with
 * one line "CODE USER_S SYSTEM_S MINOR_FAULTS", CODE being the exit code
 * `spinepipe run` would have had. The child exits when stdin closes. */
#include "listen_jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "batch/spawn.h"
#include "engine/batch.h"
#include "engine/engine.h"
#include "engine/log.h"

#define ANSWER_FD 3

/* Closing its request pipe tells a server to exit; it gets
 * LISTEN_JOBS_QUIT_SECONDS (a sanitizer's leak check at exit takes a
 * while) before SIGKILL. */
static void close_server(listen_job_server *s)
{
    close(s->to);
    close(s->from);
    int status = 0;
    int ended = sp_wait_child_until(s->pid, LISTEN_JOBS_QUIT_SECONDS, &status);
    if (ended == 0) {
        kill(s->pid, SIGKILL);
        sp_wait_child(s->pid, &status);
        sp_log(SP_LOG_ERROR, NULL, "job server %d did not exit within %d s "
               "of its request pipe closing: killed", (int)s->pid,
               LISTEN_JOBS_QUIT_SECONDS);
    } else if (ended < 0) {
        sp_log(SP_LOG_ERROR, NULL, "job server %d: waitpid: %s",
               (int)s->pid, strerror(errno));
    } else if (WIFSIGNALED(status)) {
        sp_log(SP_LOG_ERROR, NULL, "job server %d ended by signal %d on "
               "its way out", (int)s->pid, WTERMSIG(status));
    } else if (WEXITSTATUS(status) != 0) {
        sp_log(SP_LOG_ERROR, NULL, "job server %d exited with code %d",
               (int)s->pid, WEXITSTATUS(status));
    } else {
        sp_log(SP_LOG_INFO, NULL, "job server %d exited", (int)s->pid);
    }
}

static sp_status spawn(listen_jobs *j, listen_job_server *s, sp_error *err)
{
    const char *argv[10 + 2 * CLI_MAX_SETS];
    size_t n = 0;
    argv[n++] = j->exe;
    argv[n++] = "listen";
    argv[n++] = "--job-server";
    if (j->send_seg)
        argv[n++] = "--send-seg";
    if (j->config) {
        argv[n++] = "--config";
        argv[n++] = j->config;
    }
    for (size_t i = 0; i < j->n_sets; i++) {
        argv[n++] = "--set";
        argv[n++] = j->sets[i];
    }
    argv[n] = NULL;
    int req[2], ans[2];
    if (pipe2(req, O_CLOEXEC) != 0)
        return sp_error_set(err, SP_INTERNAL, "job server: pipe: %s",
                            strerror(errno));
    if (pipe2(ans, O_CLOEXEC) != 0) {
        int e = errno;
        close(req[0]);
        close(req[1]);
        return sp_error_set(err, SP_INTERNAL, "job server: pipe: %s",
                            strerror(e));
    }
    /* The child must die with the listener, or a SIGKILLed listener
     * leaves orphaned runs writing the same outputs as the restarted
     * listener's rerun; a terminal's Ctrl-C stops the listener, which lets
     * the running job finish (docs/listen.md). */
    const sp_spawn_fd fds[] = {{req[0], 0}, {ans[1], ANSWER_FD}};
    pid_t pid = sp_spawn(j->exe, argv, fds, 2, 1);
    int e = errno;
    close(req[0]);
    close(ans[1]);
    if (pid < 0) {
        close(req[1]);
        close(ans[0]);
        return sp_error_set(err, SP_INTERNAL, "cannot start %s: %s", j->exe,
                            strerror(e));
    }
    s->pid = pid;
    s->owner = pthread_self();
    s->to = req[1];
    s->from = ans[0];
    return SP_OK;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* One answer line; 0 when the child closed the pipe or wrote nonsense. */
static int read_answer(int fd, int *code, double *user, double *sys,
                       long *faults)
{
    char line[128];
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(fd, line + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    return sscanf(line, "%d %lf %lf %ld", code, user, sys, faults) == 4;
}

static int take_idle(listen_jobs *j, listen_job_server *s)
{
    pthread_mutex_lock(&j->lock);
    int got = 0;
    for (size_t i = 0; i < j->n_idle && !got; i++)
        if (pthread_equal(j->idle[i].owner, pthread_self())) {
            *s = j->idle[i];
            j->idle[i] = j->idle[--j->n_idle];
            got = 1;
        }
    pthread_mutex_unlock(&j->lock);
    return got;
}

static void put_idle(listen_jobs *j, listen_job_server *s)
{
    pthread_mutex_lock(&j->lock);
    if (j->n_idle == j->cap_idle) {
        size_t cap = j->cap_idle ? 2 * j->cap_idle : 4;
        listen_job_server *g = realloc(j->idle, cap * sizeof *g);
        if (g) {
            j->idle = g;
            j->cap_idle = cap;
        }
    }
    int kept = j->n_idle < j->cap_idle;
    if (kept)
        j->idle[j->n_idle++] = *s;
    pthread_mutex_unlock(&j->lock);
    if (!kept)
        close_server(s);
}

sp_status listen_run_job(void *user, const char *id, const char *series_dir,
                         const char *out_dir, sp_error *err)
{
    listen_jobs *j = user;
    listen_job_server s;
    size_t la = strlen(series_dir) + 1, lb = strlen(out_dir) + 1;
    char *req = malloc(la + lb);
    if (!req)
        return sp_error_set(err, SP_NOMEM, "job %s: out of memory", id);
    memcpy(req, series_dir, la);
    memcpy(req + la, out_dir, lb);
    /* An idle server may have died since its last job: then a new one. */
    int sent = 0;
    for (int attempt = 0; attempt < 2 && !sent; attempt++) {
        if (attempt > 0 || !take_idle(j, &s)) {
            sp_status st = spawn(j, &s, err);
            if (st != SP_OK) {
                free(req);
                return st;
            }
        }
        sent = write_all(s.to, req, la + lb) == 0;
        if (!sent)
            close_server(&s);
    }
    free(req);
    if (!sent)
        return sp_error_set(err, SP_INTERNAL, "job %s: the job server "
                            "(%s listen --job-server) does not take jobs",
                            id, j->exe);
    int code;
    double u, sy;
    long faults;
    if (!read_answer(s.from, &code, &u, &sy, &faults)) {
        close(s.to);
        close(s.from);
        int status = 0;
        if (sp_wait_child(s.pid, &status) != 0)
            return sp_error_set(err, SP_INTERNAL, "job %s: waitpid: %s", id,
                                strerror(errno));
        if (WIFSIGNALED(status))
            return sp_error_set(err, SP_STAGE, "job %s: the job server "
                                "running it was killed by signal %d",
                                id, WTERMSIG(status));
        return sp_error_set(err, SP_STAGE, "job %s: the job server running "
                            "it exited with code %d",
                            id, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    put_idle(j, &s);
    sp_log(SP_LOG_INFO, NULL, "job %s: %.2f s CPU (user %.2f s, system "
           "%.2f s), %ld minor page faults",
           id, u + sy, u, sy, faults);
    if (code == 0)
        return SP_OK;
    return sp_error_set(err, SP_STAGE, "job %s: the run exited with code %d "
                        "(see %s/*/*/run.json)",
                        id, code, out_dir);
}

void listen_jobs_thread_end(void *user)
{
    listen_jobs *j = user;
    listen_job_server s;
    while (take_idle(j, &s))
        close_server(&s);
}

void listen_jobs_close(listen_jobs *j)
{
    for (size_t i = 0; i < j->n_idle; i++)
        close_server(&j->idle[i]);
    free(j->idle);
    j->idle = NULL;
    j->n_idle = j->cap_idle = 0;
}

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + tv.tv_usec * 1e-6;
}

/* The exit code `spinepipe run` gives the same outcome (cmd_run.c). */
static int run_code(sp_status st, const sp_error *err,
                    const sp_batch_result *r)
{
    if (st != SP_OK)
        return cli_fail(err);
    if (r->n_failed == 0)
        return SP_EXIT_OK;
    if (r->n_ok + r->n_skipped > 0)
        return SP_EXIT_PARTIAL;
    return sp_status_exit_code(r->first_error);
}

int listen_job_server_main(const listen_jobs *conf)
{
    FILE *answers = fdopen(ANSWER_FD, "w");
    if (!answers) {
        fprintf(stderr, "spinepipe listen --job-server: file descriptor %d "
                        "is not open: only the listener starts job "
                        "servers\n",
                ANSWER_FD);
        return 64;
    }
    /* Every job loads the stage modules; holding them loaded here makes
     * that a reference count instead of a fresh load and relocation. */
    sp_registry *keep = NULL;
    sp_error kerr;
    if (sp_registry_new(&keep, &kerr) == SP_OK &&
        sp_registry_load_default(keep, &kerr) != SP_OK) {
        sp_registry_free(keep);
        keep = NULL;
    }
    char *series = NULL, *out = NULL, *dicom = NULL;
    size_t cap_series = 0, cap_out = 0;
    int rc = 0;
    while (getdelim(&series, &cap_series, '\0', stdin) > 0 &&
           getdelim(&out, &cap_out, '\0', stdin) > 0) {
        free(dicom);
        size_t len = strlen(out) + sizeof "/dicom";
        dicom = malloc(len);
        if (!dicom) {
            rc = 71;
            break;
        }
        snprintf(dicom, len, "%s/dicom", out);
        const char *inputs[1] = {series};
        sp_batch_options o = {.inputs = inputs, .n_inputs = 1,
                              .out_dir = out, .config_path = conf->config,
                              .overrides = conf->sets,
                              .n_overrides = conf->n_sets, .jobs = 1,
                              .force = 1, /* a resumed job reruns */
                              .dicom_out = dicom,
                              .dicom_seg = conf->send_seg};
        struct rusage r0, r1;
        getrusage(RUSAGE_SELF, &r0);
        sp_batch_result res;
        sp_error err;
        sp_error_clear(&err);
        sp_status st = sp_batch_run(&o, &res, &err);
        int code = run_code(st, &err, &res);
        getrusage(RUSAGE_SELF, &r1);
        fflush(stderr);
        if (fprintf(answers, "%d %.3f %.3f %ld\n", code,
                    seconds(r1.ru_utime) - seconds(r0.ru_utime),
                    seconds(r1.ru_stime) - seconds(r0.ru_stime),
                    r1.ru_minflt - r0.ru_minflt) < 0 ||
            fflush(answers) != 0)
            break;
    }
    free(series);
    free(out);
    free(dicom);
    fclose(answers);
    sp_registry_free(keep);
    return rc;
}
