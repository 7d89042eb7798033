/* The on-disk spool and job queue (layout in spool.h). One mutex guards
 * every rename so series completion and instance arrival never race. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/log.h"
#include "output/output.h"

static const char *const states[] = {"pending", "running", "done", "failed"};

typedef struct open_series {
    char key[17];
    double last;   /* monotonic time of the last instance */
    int active;    /* open associations that sent to it */
} open_series;

typedef struct assoc_ref {
    unsigned long assoc;
    char key[17];
} assoc_ref;

struct sp_spool {
    char root[3072];
    double quiet;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    open_series *open;
    size_t n_open, cap_open;
    assoc_ref *refs;
    size_t n_refs, cap_refs;
    unsigned long counter;
    int lock_fd; /* flock: one listener per spool */
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* UIDs are hostile strings: file names are their hashes. */
static void uid_key(const char *uid, char key[17])
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *c = (const unsigned char *)uid; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    snprintf(key, 17, "%016llx", (unsigned long long)h);
}

static void fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

const char *sp_spool_root(const sp_spool *s)
{
    return s->root;
}

static int has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n > k && strcmp(name + n - k, suffix) == 0;
}

static int job_known(const sp_spool *s, const char *id)
{
    char path[PATH_MAX];
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/queue/%s/%s.json", s->root,
                 states[i], id);
        if (access(path, F_OK) == 0)
            return 1;
    }
    return 0;
}

static size_t count_files(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void write_pending(sp_spool *s, const char *id)
{
    char dir[3400], path[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/jobs/%s", s->root, id);
    snprintf(path, sizeof path, "%s/queue/pending/%s.json", s->root, id);
    json_t *j = json_pack("{s:s, s:I}", "id", id, "instances",
                          (json_int_t)count_files(dir));
    sp_error err;
    if (!j || sp_json_write_file(j, path, &err) != SP_OK)
        sp_log(SP_LOG_ERROR, NULL, "queue: %s",
               j ? err.message : "out of memory");
    json_decref(j);
    snprintf(dir, sizeof dir, "%s/queue/pending", s->root);
    fsync_dir(dir);
}

static open_series *find_open(sp_spool *s, const char *key)
{
    for (size_t i = 0; i < s->n_open; i++)
        if (strcmp(s->open[i].key, key) == 0)
            return &s->open[i];
    return NULL;
}

static open_series *add_open(sp_spool *s, const char *key)
{
    if (s->n_open == s->cap_open) {
        size_t cap = s->cap_open ? 2 * s->cap_open : 16;
        open_series *g = realloc(s->open, cap * sizeof *g);
        if (!g)
            return NULL;
        s->open = g;
        s->cap_open = cap;
    }
    open_series *o = &s->open[s->n_open++];
    memset(o, 0, sizeof *o);
    snprintf(o->key, sizeof o->key, "%s", key);
    o->last = mono_now();
    return o;
}

/* Lock held. The series folder becomes a job and the job is queued;
 * names sort in queueing order. */
static void queue_series(sp_spool *s, open_series *o)
{
    char key[17];
    snprintf(key, sizeof key, "%s", o->key);
    *o = s->open[--s->n_open];
    for (size_t i = 0; i < s->n_refs;)
        if (strcmp(s->refs[i].key, key) == 0)
            s->refs[i] = s->refs[--s->n_refs];
        else
            i++;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char id[96];
    snprintf(id, sizeof id, "%04d%02d%02dT%02d%02d%02d.%09ld-%04lu-%s",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ts.tv_nsec, s->counter++ % 10000, key);
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(from, sizeof from, "%s/incoming/%s", s->root, key);
    snprintf(to, sizeof to, "%s/jobs/%s", s->root, id);
    if (rename(from, to) != 0) {
        sp_log(SP_LOG_ERROR, NULL, "queue: cannot move %s to %s: %s", from,
               to, strerror(errno));
        return;
    }
    snprintf(from, sizeof from, "%s/jobs", s->root);
    fsync_dir(from);
    write_pending(s, id);
    sp_log(SP_LOG_INFO, NULL, "queued series %s as job %s", key, id);
    pthread_cond_broadcast(&s->cond);
}

static void remove_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char path[PATH_MAX];
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static void recover(sp_spool *s)
{
    char dir[3400], from[PATH_MAX], to[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/tmp", s->root);
    remove_tmp(dir);
    /* A job that was running when we died runs again. */
    snprintf(dir, sizeof dir, "%s/queue/running", s->root);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".json"))
            continue;
        snprintf(from, sizeof from, "%s/%s", dir, e->d_name);
        snprintf(to, sizeof to, "%s/queue/pending/%s", s->root, e->d_name);
        if (rename(from, to) == 0)
            sp_log(SP_LOG_INFO, NULL, "resuming interrupted job %s",
                   e->d_name);
    }
    if (d)
        closedir(d);
    /* A series moved to jobs/ but not yet queued when we died. */
    snprintf(dir, sizeof dir, "%s/jobs", s->root);
    d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.' && !job_known(s, e->d_name))
            write_pending(s, e->d_name);
    if (d)
        closedir(d);
    /* Open series: complete after a quiet period from now. */
    snprintf(dir, sizeof dir, "%s/incoming", s->root);
    d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.' && strlen(e->d_name) == 16)
            add_open(s, e->d_name);
    if (d)
        closedir(d);
}

sp_status sp_spool_open(const char *root, double quiet_seconds,
                        sp_spool **out, sp_error *err)
{
    *out = NULL;
    sp_spool *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_NOMEM, "out of memory");
    if ((size_t)snprintf(s->root, sizeof s->root, "%s", root) >=
        sizeof s->root) {
        free(s);
        return sp_error_set(err, SP_CANTCREATE, "%s: spool path too long",
                            root);
    }
    s->quiet = quiet_seconds;
    static const char *const dirs[] = {
        "tmp", "incoming", "jobs", "queue/pending", "queue/running",
        "queue/done", "queue/failed", "results", "dead-letter"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, dirs[i]);
        sp_status st = sp_mkdirs(path, err);
        if (st != SP_OK) {
            free(s);
            return st;
        }
    }
    /* Recovery would take over another listener's running jobs. */
    snprintf(path, sizeof path, "%s/lock", root);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (s->lock_fd >= 0)
            close(s->lock_fd);
        free(s);
        return sp_error_set(err, e == EWOULDBLOCK ? SP_CANTCREATE : SP_IO,
                            "%s: %s", path,
                            e == EWOULDBLOCK ? "the spool is in use by "
                                               "another listener"
                                             : strerror(e));
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    recover(s);
    *out = s;
    return SP_OK;
}

void sp_spool_close(sp_spool *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    close(s->lock_fd);
    free(s->open);
    free(s->refs);
    free(s);
}

void sp_spool_tmp_path(sp_spool *s, char *buf, size_t size)
{
    pthread_mutex_lock(&s->lock);
    unsigned long n = s->counter++;
    pthread_mutex_unlock(&s->lock);
    snprintf(buf, size, "%s/tmp/%ld-%lu.dcm", s->root, (long)getpid(), n);
}

sp_status sp_spool_commit(sp_spool *s, const char *tmp_path,
                          const char *series_uid, const char *sop_uid,
                          unsigned long assoc, sp_error *err)
{
    char key[17], sop[17];
    uid_key(series_uid, key);
    uid_key(sop_uid, sop);
    char dir[3400], path[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/incoming/%s", s->root, key);
    snprintf(path, sizeof path, "%s/%s.dcm", dir, sop);
    sp_status st = SP_OK;
    pthread_mutex_lock(&s->lock);
    open_series *o = find_open(s, key);
    if (!o)
        o = add_open(s, key);
    if (!o) {
        st = sp_error_set(err, SP_NOMEM, "out of memory");
    } else if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        st = sp_error_set(err, SP_CANTCREATE, "%s: cannot create: %s", dir,
                          strerror(errno));
    } else if (rename(tmp_path, path) != 0) {
        st = sp_error_set(err, SP_IO, "%s: cannot move to %s: %s", tmp_path,
                          path, strerror(errno));
    } else {
        fsync_dir(dir);
        o->last = mono_now();
        int seen = 0;
        for (size_t i = 0; i < s->n_refs && !seen; i++)
            seen = s->refs[i].assoc == assoc &&
                   strcmp(s->refs[i].key, key) == 0;
        if (!seen) {
            if (s->n_refs == s->cap_refs) {
                size_t cap = s->cap_refs ? 2 * s->cap_refs : 16;
                assoc_ref *g = realloc(s->refs, cap * sizeof *g);
                if (g) {
                    s->refs = g;
                    s->cap_refs = cap;
                }
            }
            /* Without room the series still completes by quiet period. */
            if (s->n_refs < s->cap_refs) {
                s->refs[s->n_refs].assoc = assoc;
                snprintf(s->refs[s->n_refs].key, 17, "%s", key);
                s->n_refs++;
                o->active++;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (st != SP_OK)
        unlink(tmp_path);
    return st;
}

void sp_spool_assoc_end(sp_spool *s, unsigned long assoc)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_refs;) {
        if (s->refs[i].assoc != assoc) {
            i++;
            continue;
        }
        char key[17];
        snprintf(key, sizeof key, "%s", s->refs[i].key);
        s->refs[i] = s->refs[--s->n_refs];
        open_series *o = find_open(s, key);
        if (o && --o->active <= 0)
            queue_series(s, o);
        i = 0; /* queue_series reorders refs */
    }
    pthread_mutex_unlock(&s->lock);
}

void sp_spool_poll(sp_spool *s)
{
    pthread_mutex_lock(&s->lock);
    double now = mono_now();
    for (size_t i = 0; i < s->n_open;) {
        if (now - s->open[i].last >= s->quiet)
            queue_series(s, &s->open[i]);
        else
            i++;
    }
    pthread_mutex_unlock(&s->lock);
}

/* Lock held. The smallest pending name, moved to running. */
static int take_locked(sp_spool *s, char *id, size_t id_size)
{
    char dir[3400];
    snprintf(dir, sizeof dir, "%s/queue/pending", s->root);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char best[128] = "";
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.' && has_suffix(e->d_name, ".json") &&
            strlen(e->d_name) < sizeof best &&
            (!best[0] || strcmp(e->d_name, best) < 0))
            snprintf(best, sizeof best, "%s", e->d_name);
    closedir(d);
    if (!best[0])
        return 0;
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(from, sizeof from, "%s/%s", dir, best);
    snprintf(to, sizeof to, "%s/queue/running/%s", s->root, best);
    if (rename(from, to) != 0)
        return 0;
    best[strlen(best) - 5] = '\0';
    snprintf(id, id_size, "%s", best);
    return 1;
}

int sp_spool_take(sp_spool *s, double wait, char *id, size_t id_size)
{
    pthread_mutex_lock(&s->lock);
    int got = take_locked(s, id, id_size);
    if (!got && wait > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long ns = ts.tv_nsec + (long)((wait - (long)wait) * 1e9);
        ts.tv_sec += (time_t)wait + ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        got = take_locked(s, id, id_size);
    }
    pthread_mutex_unlock(&s->lock);
    return got;
}

void sp_spool_finish(sp_spool *s, const char *id, const char *error)
{
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(from, sizeof from, "%s/queue/running/%s.json", s->root, id);
    snprintf(to, sizeof to, "%s/queue/%s/%s.json", s->root,
             error ? "failed" : "done", id);
    pthread_mutex_lock(&s->lock);
    if (!error) {
        if (rename(from, to) != 0)
            sp_log(SP_LOG_ERROR, NULL, "queue: cannot move %s: %s", from,
                   strerror(errno));
    } else {
        json_error_t je;
        json_t *j = json_load_file(from, 0, &je);
        if (!j)
            j = json_pack("{s:s}", "id", id);
        sp_error err;
        if (j) {
            json_object_set_new(j, "error", json_string(error));
            if (sp_json_write_file(j, to, &err) == SP_OK)
                unlink(from);
            else
                sp_log(SP_LOG_ERROR, NULL, "queue: %s", err.message);
        }
        json_decref(j);
    }
    snprintf(from, sizeof from, "%s/queue/running", s->root);
    fsync_dir(from);
    pthread_mutex_unlock(&s->lock);
}

void sp_spool_wake(sp_spool *s)
{
    pthread_mutex_lock(&s->lock);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}
