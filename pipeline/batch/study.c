/* Running one study as a `spinepipe run` child and recording its outcome. */
#include "study.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "output/output.h"
#include "spawn.h"
#include "results.h"
#include "spinepipe/version.h"

#define MAX_ARGS 16
#define MAX_SETS 64

static void iso_now(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

sp_status sp_study_dirs(const char *out_dir, sp_error *err)
{
    static const char *const subs[] = {"studies", "logs", "locks",
                                       "outcomes"};
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        char path[PATH_MAX];
        if (sp_path_join(path, sizeof path, out_dir, subs[i]) != 0)
            return sp_error_set(err, SP_CANTCREATE, "%s: path too long",
                                out_dir);
        sp_status st = sp_mkdirs(path, err);
        if (st != SP_OK)
            return st;
    }
    return SP_OK;
}

void sp_study_share_cpus(int jobs)
{
    const char *env = getenv("SPINEPIPE_THREADS");
    if (env && *env)
        return;
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                           : 1;
    int each = cpus / (jobs > 0 ? jobs : 1);
    char text[16];
    snprintf(text, sizeof text, "%d", each > 0 ? each : 1);
    setenv("SPINEPIPE_THREADS", text, 1);
}

sp_status sp_study_runner_init(sp_study_runner *r, sp_error *err)
{
    ssize_t len = readlink("/proc/self/exe", r->exe, sizeof r->exe - 1);
    if (len <= 0)
        return sp_error_set(err, SP_INTERNAL, "cannot find the spinepipe "
                            "executable (/proc/self/exe): %s",
                            strerror(errno));
    r->exe[len] = '\0';
    return SP_OK;
}

static void study_path(char *buf, size_t size, const char *out_dir,
                       const char *sub, const char *key, const char *ext)
{
    snprintf(buf, size, "%s/%s/%s%s", out_dir, sub, key, ext);
}

json_t *sp_outcome_load(const char *out_dir, const char *key)
{
    char path[PATH_MAX];
    study_path(path, sizeof path, out_dir, "outcomes", key, ".json");
    json_t *j = json_load_file(path, 0, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int sp_outcome_ok(const char *out_dir, const char *key)
{
    json_t *j = sp_outcome_load(out_dir, key);
    const char *st = json_string_value(json_object_get(j, "status"));
    int ok = st && strcmp(st, "ok") == 0;
    json_decref(j);
    return ok;
}

int sp_study_finished(const sp_study_runner *r, const char *key)
{
    if (r->force)
        return 0;
    if (!r->once)
        return sp_outcome_ok(r->out_dir, key);
    json_t *j = sp_outcome_load(r->out_dir, key);
    json_decref(j);
    return j != NULL;
}

static int open_lock(const char *out_dir, const char *key)
{
    char path[PATH_MAX];
    study_path(path, sizeof path, out_dir, "locks", key, ".lock");
    return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
}

int sp_study_busy(const char *out_dir, const char *key)
{
    /* Read-only and never creating: --status must work on a read-only
     * copy and leave no lock files behind. */
    char path[PATH_MAX];
    study_path(path, sizeof path, out_dir, "locks", key, ".lock");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}

/* The child's argument list; `storage` holds the output folder. */
static size_t child_args(const sp_study_runner *r, const sp_study *s,
                         char *out, size_t out_size, const char **argv)
{
    size_t n = 0;
    study_path(out, out_size, r->out_dir, "studies", s->key, "");
    argv[n++] = r->exe;
    argv[n++] = "run";
    argv[n++] = s->path; /* absolute, so never taken for an option */
    argv[n++] = "-o";
    argv[n++] = out;
    if (r->force)
        argv[n++] = "--force";
    if (r->anonymize)
        argv[n++] = "--anonymize";
    if (r->config) {
        argv[n++] = "-c";
        argv[n++] = r->config;
    }
    return n;
}

static sp_status spawn(const sp_study_runner *r, const sp_study *s,
                       int log_fd, pid_t *pid, sp_error *err)
{
    if (r->n_sets > MAX_SETS)
        return sp_error_set(err, SP_USAGE, "more than %d --set options",
                            MAX_SETS);
    const char *argv[MAX_ARGS + 2 * MAX_SETS + 1];
    char out[PATH_MAX];
    size_t n = child_args(r, s, out, sizeof out, argv);
    for (size_t i = 0; i < r->n_sets; i++) {
        argv[n++] = "-s";
        argv[n++] = r->sets[i];
    }
    argv[n] = NULL;
    /* the child dies with us, so a killed batch leaves no run writing
     * outputs behind a resumed one */
    const sp_spawn_fd fds[] = {{-1, 0}, {log_fd, 1}, {log_fd, 2}};
    pid_t p = sp_spawn(r->exe, argv, fds, 3, 0);
    if (p < 0)
        return sp_error_set(err, SP_INTERNAL, "%s: cannot start %s: %s",
                            s->path, r->exe, strerror(errno));
    *pid = p;
    return SP_OK;
}

sp_status sp_study_start(const sp_study_runner *r, const sp_study *s,
                         sp_study_job *job, int *started, sp_error *err)
{
    memset(job, 0, sizeof *job);
    job->study = s;
    job->lock_fd = -1;
    *started = 0;
    int fd = open_lock(r->out_dir, s->key);
    if (fd < 0)
        return sp_error_set(err, SP_CANTCREATE, "%s/locks/%s.lock: cannot "
                            "open: %s", r->out_dir, s->key, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return SP_OK; /* another process works on it */
        return sp_error_set(err, SP_CANTCREATE, "%s/locks/%s.lock: cannot "
                            "lock: %s", r->out_dir, s->key, strerror(e));
    }
    /* It may have been finished between our look and the lock. */
    if (sp_study_finished(r, s->key)) {
        close(fd);
        return SP_OK;
    }
    char log_path[PATH_MAX];
    study_path(log_path, sizeof log_path, r->out_dir, "logs", s->key, ".log");
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                      0644);
    if (log_fd < 0) {
        close(fd);
        return sp_error_set(err, SP_CANTCREATE, "%s: cannot open: %s",
                            log_path, strerror(errno));
    }
    iso_now(job->started, sizeof job->started);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    dprintf(log_fd, "== spinepipe batch: start %s host %s pid %ld shard %s\n",
            job->started, host, (long)getpid(), r->shard ? r->shard : "-");
    job->t0 = sp_now_seconds();
    sp_status st = spawn(r, s, log_fd, &job->pid, err);
    close(log_fd);
    if (st != SP_OK) {
        close(fd);
        return st;
    }
    job->lock_fd = fd;
    *started = 1;
    return SP_OK;
}

/* The last line the child wrote, as printable ASCII (for the outcome). */
static void last_log_line(const char *out_dir, const char *key, char *buf,
                          size_t size)
{
    char path[PATH_MAX];
    study_path(path, sizeof path, out_dir, "logs", key, ".log");
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    char tail[4096];
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : 0;
    long from = len > (long)sizeof tail - 1 ? len - (long)sizeof tail + 1 : 0;
    size_t n = fseek(f, from, SEEK_SET) == 0
                   ? fread(tail, 1, sizeof tail - 1, f) : 0;
    fclose(f);
    tail[n] = '\0';
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
        tail[--n] = '\0';
    char *line = strrchr(tail, '\n');
    line = line ? line + 1 : tail;
    if (strncmp(line, "== spinepipe batch:", 19) == 0)
        return;
    size_t k = 0;
    for (const unsigned char *c = (const unsigned char *)line;
         *c && k + 1 < size; c++)
        buf[k++] = (*c >= 32 && *c < 127) ? (char)*c : '?';
    buf[k] = '\0';
}

static int stopped_from_outside(int sig)
{
    return sig == SIGTERM || sig == SIGINT || sig == SIGKILL ||
           sig == SIGHUP;
}

sp_status sp_study_finish(const sp_study_runner *r, sp_study_job *job,
                          int wait_status, const struct rusage *usage,
                          int *ok, int *recorded, sp_error *err)
{
    const sp_study *s = job->study;
    *ok = WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
    *recorded = 0;
    sp_status st = SP_OK;
    if (WIFSIGNALED(wait_status) &&
        stopped_from_outside(WTERMSIG(wait_status)))
        goto unlock;
    int code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status)
                                      : 128 + WTERMSIG(wait_status);
    job->exit_code = code;
    char finished[32], host[256] = "", out[PATH_MAX];
    iso_now(finished, sizeof finished);
    gethostname(host, sizeof host - 1);
    study_path(out, sizeof out, r->out_dir, "studies", s->key, "");
    json_t *o = sp_study_results(out);
    char rel[SP_STUDY_KEY_MAX + 16];
    json_object_set_new(o, "schema", json_string("spinepipe-batch-outcome/1"));
    json_object_set_new(o, "spinepipe", json_string(SPINEPIPE_VERSION));
    json_object_set_new(o, "path", json_string(s->path));
    json_object_set_new(o, "line", json_integer((json_int_t)s->line));
    json_object_set_new(o, "key", json_string(s->key));
    json_object_set_new(o, "status", json_string(*ok ? "ok" : "failed"));
    json_object_set_new(o, "exit_code", json_integer(code));
    if (!*ok) {
        char why[512];
        if (WIFSIGNALED(wait_status))
            snprintf(why, sizeof why, "'spinepipe run' was killed by "
                     "signal %d", WTERMSIG(wait_status));
        else
            last_log_line(r->out_dir, s->key, why, sizeof why);
        json_object_set_new(o, "error", json_string(why));
    }
    json_object_set_new(o, "seconds", json_real(sp_now_seconds() - job->t0));
    /* CPU time and peak memory: what capacity planning and --mem need. */
    double cpu = (double)usage->ru_utime.tv_sec +
                 (double)usage->ru_stime.tv_sec +
                 (usage->ru_utime.tv_usec + usage->ru_stime.tv_usec) * 1e-6;
    json_object_set_new(o, "cpu_seconds", json_real(cpu));
    json_object_set_new(o, "max_rss_mb",
                        json_real((double)usage->ru_maxrss / 1024.0));
    json_object_set_new(o, "started", json_string(job->started));
    json_object_set_new(o, "finished", json_string(finished));
    json_object_set_new(o, "host", json_string(host));
    if (r->shard)
        json_object_set_new(o, "shard", json_string(r->shard));
    snprintf(rel, sizeof rel, "studies/%s", s->key);
    json_object_set_new(o, "output", json_string(rel));
    snprintf(rel, sizeof rel, "logs/%s.log", s->key);
    json_object_set_new(o, "log", json_string(rel));
    char path[PATH_MAX];
    study_path(path, sizeof path, r->out_dir, "outcomes", s->key, ".json");
    st = sp_json_write_file(o, path, err);
    json_decref(o);
    *recorded = st == SP_OK;
unlock:
    if (job->lock_fd >= 0)
        close(job->lock_fd);
    job->lock_fd = -1;
    job->pid = 0;
    return st;
}

void sp_study_abandon(sp_study_job *job)
{
    if (job->pid > 0) {
        kill(job->pid, SIGTERM);
        sp_wait_child(job->pid, NULL);
    }
    if (job->lock_fd >= 0)
        close(job->lock_fd);
    job->lock_fd = -1;
    job->pid = 0;
}
