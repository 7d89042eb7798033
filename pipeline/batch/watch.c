/* The drop-folder watcher: inotify on DIR and on every folder inside each
 * study, a quiet timer per study, a pool of `spinepipe run` children. */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "output/output.h"
#include "summary.h"

#define STUDY_EVENTS                                                        \
    (IN_CREATE | IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | \
     IN_DELETE | IN_ATTRIB | IN_ONLYDIR)
#define ROOT_EVENTS (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | \
                     IN_ONLYDIR)

enum { WAITING, RUNNING, FINISHED, GONE };

typedef struct wstudy {
    sp_study s;         /* path and key; line is the order of discovery */
    char *name;
    int state;
    double last;        /* monotonic time of the last activity */
    sp_study_job job;
} wstudy;

typedef struct wmap {
    int wd;
    size_t study;
} wmap;

typedef struct watcher {
    const sp_watch_options *o;
    char root[PATH_MAX];
    int fd, root_wd;
    wstudy *st;
    size_t n, cap;
    wmap *wds;
    size_t n_wds, cap_wds;
    int running;
    int summary_due;     /* a study finished since the last summary */
    double last_summary; /* monotonic */
} watcher;

static int valid_name(const char *name)
{
    if (name[0] == '.')
        return 0;
    /* Names end up in JSON (jansson wants UTF-8): check by building one. */
    json_t *j = json_string(name);
    json_decref(j);
    return j != NULL;
}

static void map_wd(watcher *w, int wd, size_t study)
{
    for (size_t i = 0; i < w->n_wds; i++)
        if (w->wds[i].wd == wd) {
            w->wds[i].study = study;
            return;
        }
    if (w->n_wds == w->cap_wds) {
        size_t nc = w->cap_wds ? w->cap_wds * 2 : 64;
        wmap *g = realloc(w->wds, nc * sizeof *g);
        if (!g)
            return;
        w->wds = g;
        w->cap_wds = nc;
    }
    w->wds[w->n_wds++] = (wmap){wd, study};
}

static long study_of(const watcher *w, int wd)
{
    for (size_t i = 0; i < w->n_wds; i++)
        if (w->wds[i].wd == wd)
            return (long)w->wds[i].study;
    return -1;
}

/* Watch `path` and every folder below it; returns the newest mtime seen. */
static time_t watch_tree(watcher *w, const char *path, size_t study,
                         int depth)
{
    int wd = inotify_add_watch(w->fd, path, STUDY_EVENTS);
    if (wd < 0) {
        sp_log(SP_LOG_WARN, NULL, "%s: cannot watch (%s); its study is "
               "judged by the quiet period of the folders that are watched",
               path, strerror(errno));
    } else {
        map_wd(w, wd, study);
    }
    time_t newest = 0;
    DIR *d = opendir(path);
    if (!d)
        return newest;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[PATH_MAX];
        if (sp_path_join(sub, sizeof sub, path, e->d_name) != 0)
            continue;
        struct stat sb;
        if (lstat(sub, &sb) != 0)
            continue;
        if (sb.st_mtime > newest)
            newest = sb.st_mtime;
        if (S_ISDIR(sb.st_mode) && depth < 16) {
            time_t t = watch_tree(w, sub, study, depth + 1);
            if (t > newest)
                newest = t;
        }
    }
    closedir(d);
    return newest;
}

static long find_study(const watcher *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->st[i].state != GONE && !strcmp(w->st[i].name, name))
            return (long)i;
    return -1;
}

static void add_study(watcher *w, const char *name)
{
    if (!valid_name(name) || find_study(w, name) >= 0)
        return;
    char path[PATH_MAX];
    struct stat sb;
    if (sp_path_join(path, sizeof path, w->root, name) != 0 ||
        lstat(path, &sb) != 0)
        return;
    /* A link could lead anywhere (outside DIR, or into another study):
     * only real folders are studies; say so instead of ignoring it. */
    if (S_ISLNK(sb.st_mode)) {
        sp_log(SP_LOG_WARN, NULL, "%s: a symbolic link, not a study folder; "
               "skipped (drop the folder itself, or list it in a batch "
               "manifest)", path);
        return;
    }
    if (!S_ISDIR(sb.st_mode))
        return;
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 32;
        wstudy *g = realloc(w->st, nc * sizeof *g);
        if (!g)
            return;
        w->st = g;
        w->cap = nc;
    }
    wstudy *s = &w->st[w->n];
    memset(s, 0, sizeof *s);
    s->name = strdup(name);
    s->s.path = strdup(path);
    if (!s->name || !s->s.path) {
        free(s->name);
        free(s->s.path);
        return;
    }
    s->s.line = w->n + 1;
    sp_study_key(path, s->s.key, sizeof s->s.key);
    w->n++;
    if (sp_study_finished(w->o->runner, s->s.key)) {
        s->state = FINISHED;
        return;
    }
    s->state = WAITING;
    time_t newest = watch_tree(w, path, w->n - 1, 0);
    if (sb.st_mtime > newest)
        newest = sb.st_mtime;
    /* Quiet since its newest file: a study left from before a restart
     * need not wait the whole period again. */
    double age = difftime(time(NULL), newest);
    s->last = sp_now_seconds() - (age > 0 ? age : 0);
    sp_log(SP_LOG_INFO, NULL, "%s: new study", path);
}

static void scan_root(watcher *w)
{
    DIR *d = opendir(w->root);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        add_study(w, e->d_name);
    closedir(d);
}

static int has_marker(const watcher *w, const wstudy *s)
{
    if (!w->o->done_marker)
        return 0;
    char path[PATH_MAX];
    return sp_path_join(path, sizeof path, s->s.path, w->o->done_marker) ==
               0 &&
           access(path, F_OK) == 0;
}

/* Rebuild the summary over every study seen (a failure is only logged:
 * the outcome files are what counts). */
static void write_summary(watcher *w)
{
    sp_study *list = calloc(w->n ? w->n : 1, sizeof *list);
    if (!list)
        return;
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++)
        if (w->st[i].state != GONE)
            list[k++] = w->st[i].s;
    sp_manifest m = {w->root, list, k, 0};
    sp_batch_state state;
    sp_error err;
    if (sp_batch_summary_write(&m, w->o->runner->out_dir, &state, &err) !=
        SP_OK)
        sp_log(SP_LOG_WARN, NULL, "%s", err.message);
    free(list);
}

static void reap(watcher *w)
{
    int status;
    struct rusage ru;
    pid_t pid;
    while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0)
        for (size_t i = 0; i < w->n; i++) {
            wstudy *s = &w->st[i];
            if (s->state != RUNNING || s->job.pid != pid)
                continue;
            int ok, recorded;
            sp_error err;
            s->job.study = &s->s; /* the array may have moved */
            if (sp_study_finish(w->o->runner, &s->job, status, &ru, &ok,
                                &recorded, &err) != SP_OK)
                sp_log(SP_LOG_ERROR, NULL, "%s", err.message);
            w->running--;
            s->state = recorded ? FINISHED : WAITING;
            s->last = sp_now_seconds();
            fprintf(stderr, "spinepipe watch: %s %s (logs/%s.log)\n",
                    !recorded ? "interrupted" : ok ? "ok" : "FAILED",
                    s->s.path, s->s.key);
            if (recorded)
                w->summary_due = 1;
        }
}

static void start_ready(watcher *w)
{
    double now = sp_now_seconds();
    for (size_t i = 0; i < w->n && w->running < w->o->jobs; i++) {
        wstudy *s = &w->st[i];
        if (s->state != WAITING ||
            (now - s->last < w->o->quiet_seconds && !has_marker(w, s)))
            continue;
        int started;
        sp_error err;
        if (sp_study_start(w->o->runner, &s->s, &s->job, &started, &err) !=
            SP_OK) {
            sp_log(SP_LOG_ERROR, NULL, "%s", err.message);
            s->last = now; /* try again after another quiet period */
            continue;
        }
        if (started) {
            s->state = RUNNING;
            w->running++;
            fprintf(stderr, "spinepipe watch: started %s\n", s->s.path);
        } else if (sp_study_finished(w->o->runner, s->s.key)) {
            s->state = FINISHED;
        } else {
            s->last = now; /* another process holds it: look again later */
        }
    }
}

static void on_event(watcher *w, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        /* Events were lost: every waiting study starts its quiet period
         * again, and new folders are picked up by a rescan. */
        for (size_t i = 0; i < w->n; i++)
            w->st[i].last = sp_now_seconds();
        scan_root(w);
        return;
    }
    if (ev->wd == w->root_wd) {
        if (!ev->len)
            return;
        /* add_study looks at what arrived: folders become studies,
         * symbolic links are reported, plain files are ignored */
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
            add_study(w, ev->name);
        } else if (ev->mask & IN_ISDIR) {
            long i = find_study(w, ev->name);
            if (i >= 0 && w->st[i].state == WAITING)
                w->st[i].state = GONE;
        }
        return;
    }
    long i = study_of(w, ev->wd);
    if (i < 0)
        return;
    wstudy *s = &w->st[i];
    s->last = sp_now_seconds();
    if (s->state == FINISHED && ev->len && (ev->mask & IN_CREATE))
        sp_log(SP_LOG_WARN, NULL, "%s: %s arrived after the study was "
               "processed; not processed again", s->s.path, ev->name);
    if (s->state == WAITING && ev->len && (ev->mask & IN_ISDIR) &&
        (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
        /* Find the new folder's path through a watched ancestor: rescan
         * the study (already watched folders keep their descriptors). */
        watch_tree(w, s->s.path, (size_t)i, 0);
    }
}

static void drain(watcher *w)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t len = read(w->fd, buf, sizeof buf);
        if (len <= 0)
            return;
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            on_event(w, ev);
            p += sizeof *ev + ev->len;
        }
    }
}

static void watcher_free(watcher *w)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->st[i].state == RUNNING)
            sp_study_abandon(&w->st[i].job);
        free(w->st[i].name);
        free(w->st[i].s.path);
    }
    free(w->st);
    free(w->wds);
    if (w->fd >= 0)
        close(w->fd);
}

sp_status sp_watch(const sp_watch_options *o, sp_error *err)
{
    watcher w = {.o = o, .fd = -1};
    if (!realpath(o->dir, w.root))
        return sp_error_set(err, SP_NOINPUT, "%s: %s", o->dir,
                            strerror(errno));
    sp_status st = sp_study_dirs(o->runner->out_dir, err);
    if (st != SP_OK)
        return st;
    w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w.fd < 0)
        return sp_error_set(err, SP_IO, "inotify: %s", strerror(errno));
    w.root_wd = inotify_add_watch(w.fd, w.root, ROOT_EVENTS);
    if (w.root_wd < 0) {
        st = sp_error_set(err, SP_IO, "%s: cannot watch: %s", w.root,
                          strerror(errno));
        watcher_free(&w);
        return st;
    }
    scan_root(&w);
    fprintf(stderr, "spinepipe watch: watching %s (%zu studies already "
            "there)\n", w.root, w.n);
    while (!*o->stop) {
        struct pollfd pfd = {w.fd, POLLIN, 0};
        int r = poll(&pfd, 1, 200);
        if (r > 0)
            drain(&w);
        reap(&w);
        /* The summary reads every outcome: at most every 10 s while
         * studies run, at once when the watcher falls idle. */
        double now = sp_now_seconds();
        if (w.summary_due && (w.running == 0 || now - w.last_summary >= 10)) {
            write_summary(&w);
            w.summary_due = 0;
            w.last_summary = now;
        }
        if (!*o->stop)
            start_ready(&w);
    }
    if (w.summary_due)
        write_summary(&w);
    watcher_free(&w);
    return SP_OK;
}
