/* The sbatch script and its submission. */
#include "slurm.h"
#include "spawn.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "output/output.h"

extern char **environ;

/* A word for sh: single-quoted, each ' as '\''. */
static void sh_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

static sp_status write_script(const sp_slurm_options *o, const char *path,
                              sp_error *err)
{
    sp_atomic_file af;
    sp_status st = sp_atomic_open(&af, path, err);
    if (st != SP_OK)
        return st;
    FILE *f = af.fp;
    fprintf(f,
            "#!/bin/sh\n"
            "# Written by 'spinepipe batch --slurm'. One array task per "
            "shard; a task\n"
            "# skips studies whose outcome is ok, so a requeued or "
            "resubmitted array\n"
            "# redoes only what is unfinished.\n"
            "set -eu\n"
            ": \"${SLURM_ARRAY_TASK_ID:?run this script as a Slurm job "
            "array}\"\n"
            "exec ");
    sh_quote(f, o->exe);
    fputs(" batch ", f);
    sh_quote(f, o->manifest);
    fputs(" -o ", f);
    sh_quote(f, o->out_dir);
    fprintf(f, " --jobs %d", o->jobs);
    if (o->config) {
        fputs(" --config ", f);
        sh_quote(f, o->config);
    }
    for (size_t i = 0; i < o->n_sets; i++) {
        fputs(" --set ", f);
        sh_quote(f, o->sets[i]);
    }
    if (o->force)
        fputs(" --force", f);
    if (o->anonymize)
        fputs(" --anonymize", f);
    fputs(" \\\n    --shard \"$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\""
          "\n", f);
    st = sp_atomic_commit(&af, err);
    if (st == SP_OK && chmod(path, 0755) != 0)
        st = sp_error_set(err, SP_CANTCREATE, "%s: chmod: %s", path,
                          strerror(errno));
    return st;
}

/* Run sbatch with argv, its stdout into buf. */
static sp_status run_sbatch(const char *const *argv, char *buf, size_t size,
                            sp_error *err)
{
    int fds[2];
    if (pipe(fds) != 0)
        return sp_error_set(err, SP_INTERNAL, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return sp_error_set(err, SP_INTERNAL, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        if (dup2(fds[1], 1) < 0)
            _exit(127);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fds[0], buf + n, size - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
        if (n == size - 1)
            break;
    }
    buf[n] = '\0';
    close(fds[0]);
    int status;
    if (sp_wait_child(pid, &status) != 0)
        return sp_error_set(err, SP_INTERNAL, "waitpid: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return sp_error_set(err, SP_NETWORK, "cannot run sbatch (is Slurm's "
                            "client installed and on PATH?)");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return sp_error_set(err, SP_NETWORK, "sbatch failed (exit status "
                            "%d); nothing was submitted",
                            WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return SP_OK;
}

sp_status sp_slurm_submit(const sp_slurm_options *o, char *script,
                          size_t script_size, char *job_id,
                          size_t job_id_size, sp_error *err)
{
    char dir[PATH_MAX];
    if (strpbrk(o->out_dir, "%\\\n"))
        return sp_error_set(err, SP_USAGE, "%s: Slurm log file patterns "
                            "cannot name a folder with '%%', '\\' or a "
                            "newline; choose another output folder",
                            o->out_dir);
    snprintf(dir, sizeof dir, "%s/slurm/logs", o->out_dir);
    sp_status st = sp_mkdirs(dir, err);
    if (st != SP_OK)
        return st;
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    if (snprintf(script, script_size, "%s/slurm/batch-%s-%ld.sh", o->out_dir,
                 stamp, (long)getpid()) >= (int)script_size)
        return sp_error_set(err, SP_CANTCREATE, "%s: path too long",
                            o->out_dir);
    st = write_script(o, script, err);
    if (st != SP_OK)
        return st;
    char array[64], output[PATH_MAX + 32], part[300], cpus[64], mem[300];
    snprintf(array, sizeof array, "--array=0-%d", o->array_size - 1);
    snprintf(output, sizeof output, "--output=%s/%%A_%%a.log", dir);
    const char *argv[16];
    size_t n = 0;
    argv[n++] = "sbatch";
    argv[n++] = "--parsable";
    argv[n++] = "--job-name=spinepipe-batch";
    argv[n++] = array;
    argv[n++] = output;
    if (o->partition) {
        snprintf(part, sizeof part, "--partition=%s", o->partition);
        argv[n++] = part;
    }
    if (o->cpus_per_task > 0) {
        snprintf(cpus, sizeof cpus, "--cpus-per-task=%d", o->cpus_per_task);
        argv[n++] = cpus;
    }
    if (o->mem) {
        snprintf(mem, sizeof mem, "--mem=%s", o->mem);
        argv[n++] = mem;
    }
    argv[n++] = script;
    argv[n] = NULL;
    char out[256];
    st = run_sbatch(argv, out, sizeof out, err);
    if (st != SP_OK)
        return st;
    /* --parsable prints "<id>" or "<id>;<cluster>". */
    size_t len = strspn(out, "0123456789");
    if (len == 0 || len >= job_id_size)
        return sp_error_set(err, SP_NETWORK, "sbatch printed no job ID "
                            "(got '%.80s')", out);
    memcpy(job_id, out, len);
    job_id[len] = '\0';
    return SP_OK;
}
