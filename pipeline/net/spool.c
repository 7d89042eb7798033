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
    int senders;   /* associations that sent to it since we started */
    char aet[17];  /* the calling AE title of the first of them */
    int mixed;     /* others had another one, or we lost track: no settle */
} open_series;

/* An association and a series it sent to. */
typedef struct assoc_ref {
    unsigned long assoc;
    char key[17];
} assoc_ref;

/* An open association: its calling AE title and the series of its latest
 * instance ("" before the first). */
typedef struct open_assoc {
    unsigned long assoc;
    char aet[17];
    char key[17];
} open_assoc;

typedef struct ref_list {
    assoc_ref *v;
    size_t n, cap;
} ref_list;

struct sp_spool {
    char root[3072];
    double quiet, settle;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    open_series *open;
    size_t n_open, cap_open;
    ref_list refs;
    open_assoc *assocs;
    size_t n_assocs, cap_assocs;
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

static int has_ref(const ref_list *l, unsigned long assoc, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].assoc == assoc && strcmp(l->v[i].key, key) == 0)
            return 1;
    return 0;
}

/* Lock held. refs holds (assoc, key) at most once. Returns 0 when it
 * already did, 1 when added, -1 without memory. */
static int ref_add(ref_list *l, unsigned long assoc, const char *key)
{
    if (has_ref(l, assoc, key))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        assoc_ref *g = realloc(l->v, cap * sizeof *g);
        if (!g)
            return -1;
        l->v = g;
        l->cap = cap;
    }
    l->v[l->n].assoc = assoc;
    snprintf(l->v[l->n].key, sizeof l->v[l->n].key, "%s", key);
    l->n++;
    return 1;
}

/* Lock held. The settle rule: one association sent the series and has
 * moved on to another one (no open association's latest instance belongs
 * to it), and no other association of the same sender (calling AE title)
 * is open: parallel associations of one sender may split a series between
 * them, and one that has not sent its part yet (or has not even connected)
 * cannot be told from one that never will. */
static int settled(const sp_spool *s, const open_series *o)
{
    if (o->senders != 1 || o->mixed)
        return 0;
    for (size_t i = 0; i < s->n_assocs; i++) {
        const open_assoc *a = &s->assocs[i];
        if (strcmp(a->key, o->key) == 0)
            return 0;
        if (strcmp(a->aet, o->aet) == 0 &&
            !has_ref(&s->refs, a->assoc, o->key))
            return 0;
    }
    return 1;
}

static open_assoc *find_assoc(sp_spool *s, unsigned long assoc)
{
    for (size_t i = 0; i < s->n_assocs; i++)
        if (s->assocs[i].assoc == assoc)
            return &s->assocs[i];
    return NULL;
}

/* Lock held. The newest job of a series (job ids end with "-<key>" and
 * sort in queueing order), "" when it has none. */
static void latest_job(const sp_spool *s, const char *key, char *id,
                       size_t size)
{
    char dir[3400];
    snprintf(dir, sizeof dir, "%s/jobs", s->root);
    id[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t k = strlen(key);
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n > k + 1 && n < size && e->d_name[n - k - 1] == '-' &&
            strcmp(e->d_name + n - k, key) == 0 && strcmp(e->d_name, id) > 0)
            snprintf(id, size, "%s", e->d_name);
    }
    closedir(d);
}

/* Move (merge nonzero) or hard-link every instance of `from` into `to`;
 * a link never replaces an instance that `to` already has (the newer
 * copy). Returns the number of instances handled, -1 on an error. */
static long transfer(const char *from, const char *to, int merge)
{
    DIR *d = opendir(from);
    if (!d)
        return -1;
    long n = 0;
    char a[PATH_MAX], b[PATH_MAX];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (sp_path_join(a, sizeof a, from, e->d_name) != 0 ||
            sp_path_join(b, sizeof b, to, e->d_name) != 0) {
            sp_log(SP_LOG_ERROR, NULL, "queue: %s/%s: path too long", from,
                   e->d_name);
            n = -1;
            break;
        }
        if (merge ? rename(a, b) == 0 : link(a, b) == 0) {
            n++;
        } else if (merge || errno != EEXIST) {
            sp_log(SP_LOG_ERROR, NULL, "queue: cannot %s %s to %s: %s",
                   merge ? "move" : "link", a, b, strerror(errno));
            n = -1;
            break;
        }
    }
    closedir(d);
    fsync_dir(to);
    return n;
}

/* Lock held. Instances of a series that already has a job. Its pending
 * job takes them (the job has not started, so it simply becomes the
 * updated series); returns 1. Otherwise the new job gets links to the
 * earlier job's instances, so it holds the whole updated series; returns
 * 0. */
static int late_instances(sp_spool *s, const char *key, const char *prev)
{
    char incoming[3400], job[3400], path[PATH_MAX];
    snprintf(incoming, sizeof incoming, "%s/incoming/%s", s->root, key);
    snprintf(job, sizeof job, "%s/jobs/%s", s->root, prev);
    snprintf(path, sizeof path, "%s/queue/pending/%s.json", s->root, prev);
    if (access(path, F_OK) == 0) {
        long n = transfer(incoming, job, 1);
        if (n >= 0) {
            rmdir(incoming);
            write_pending(s, prev);
            sp_log(SP_LOG_INFO, NULL, "series %s: %ld more instance(s) "
                   "added to its pending job %s", key, n, prev);
            return 1;
        }
    }
    long n = transfer(job, incoming, 0);
    sp_log(n >= 0 ? SP_LOG_INFO : SP_LOG_ERROR, NULL, "series %s: new "
           "instance(s) after job %s started; the next job holds the "
           "whole updated series (%ld earlier instance(s) linked)",
           key, prev, n);
    return 0;
}

/* Lock held. The series folder becomes a job and the job is queued;
 * names sort in queueing order. */
static void queue_series(sp_spool *s, open_series *o)
{
    char key[17];
    snprintf(key, sizeof key, "%s", o->key);
    *o = s->open[--s->n_open];
    for (size_t i = 0; i < s->refs.n;)
        if (strcmp(s->refs.v[i].key, key) == 0)
            s->refs.v[i] = s->refs.v[--s->refs.n];
        else
            i++;
    char prev[128];
    latest_job(s, key, prev, sizeof prev);
    if (prev[0] && late_instances(s, key, prev)) {
        pthread_cond_broadcast(&s->cond);
        return;
    }
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
        if (sp_path_join(path, sizeof path, dir, e->d_name) == 0)
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
        if (sp_path_join(from, sizeof from, dir, e->d_name) != 0)
            continue;
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
                        double settle_seconds, sp_spool **out, sp_error *err)
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
    s->settle = settle_seconds < quiet_seconds ? settle_seconds
                                               : quiet_seconds;
    if (s->settle <= 0)
        s->settle = -1; /* off */
    static const char *const dirs[] = {
        "tmp", "incoming", "jobs", "queue/pending", "queue/running",
        "queue/done", "queue/failed", "results", "dead-letter"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        sp_status st =
            sp_path_join(path, sizeof path, root, dirs[i]) == 0
                ? sp_mkdirs(path, err)
                : sp_error_set(err, SP_CANTCREATE, "%s: path too long", root);
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
    free(s->refs.v);
    free(s->assocs);
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
        open_assoc *a = find_assoc(s, assoc);
        /* Without room the series still completes by quiet period. */
        int added = ref_add(&s->refs, assoc, key);
        if (added > 0) {
            o->active++;
            if (a && o->senders == 0)
                snprintf(o->aet, sizeof o->aet, "%s", a->aet);
            else if (!a || strcmp(o->aet, a->aet) != 0)
                o->mixed = 1;
            o->senders++;
        }
        if (a)
            snprintf(a->key, sizeof a->key, "%s", key);
        if (!a || added < 0)
            o->mixed = 1; /* cannot tell: no settle rule */
    }
    pthread_mutex_unlock(&s->lock);
    if (st != SP_OK)
        unlink(tmp_path);
    return st;
}

void sp_spool_assoc_begin(sp_spool *s, unsigned long assoc,
                          const char *calling_aet)
{
    pthread_mutex_lock(&s->lock);
    if (s->n_assocs == s->cap_assocs) {
        size_t cap = s->cap_assocs ? 2 * s->cap_assocs : 16;
        open_assoc *g = realloc(s->assocs, cap * sizeof *g);
        if (g) {
            s->assocs = g;
            s->cap_assocs = cap;
        }
    }
    /* Without room its series get no settle rule (sp_spool_commit). */
    if (s->n_assocs < s->cap_assocs) {
        open_assoc *a = &s->assocs[s->n_assocs++];
        a->assoc = assoc;
        snprintf(a->aet, sizeof a->aet, "%s", calling_aet);
        a->key[0] = '\0';
    }
    pthread_mutex_unlock(&s->lock);
}

void sp_spool_assoc_end(sp_spool *s, unsigned long assoc)
{
    pthread_mutex_lock(&s->lock);
    open_assoc *a = find_assoc(s, assoc);
    if (a)
        *a = s->assocs[--s->n_assocs];
    for (size_t i = 0; i < s->refs.n;) {
        if (s->refs.v[i].assoc != assoc) {
            i++;
            continue;
        }
        char key[17];
        snprintf(key, sizeof key, "%s", s->refs.v[i].key);
        s->refs.v[i] = s->refs.v[--s->refs.n];
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
        open_series *o = &s->open[i];
        double idle = now - o->last;
        /* Series recovered from an earlier run wait for the quiet
         * period: their senders may come back. */
        if (idle >= s->quiet ||
            (s->settle > 0 && idle >= s->settle && settled(s, o)))
            queue_series(s, o);
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
    if (sp_path_join(from, sizeof from, dir, best) != 0)
        return 0;
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
