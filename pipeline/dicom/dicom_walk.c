/* Walking a folder tree for DICOM files: sorted, symlink loops detected,
 * a cap on the number of files, and every entry not visited accounted for
 * in the skipped list. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dicom_internal.h"

#define WALK_MAX_DEPTH 128

typedef struct walk_state {
    const sp_dicom_scan_options *opt;
    size_t max_files;
    size_t n_files;
    int stopped;
    spd_collect *c;
    spd_visit_fn visit;
    void *ctx;
    struct stat *dirs; /* every folder entered, by device and inode */
    size_t n_dirs, cap_dirs;
} walk_state;

static int dir_seen(const walk_state *w, const struct stat *st)
{
    for (size_t i = 0; i < w->n_dirs; i++)
        if (w->dirs[i].st_dev == st->st_dev && w->dirs[i].st_ino == st->st_ino)
            return 1;
    return 0;
}

static sp_status dir_add(walk_state *w, const struct stat *st)
{
    if (w->n_dirs == w->cap_dirs) {
        size_t cap = w->cap_dirs ? w->cap_dirs * 2 : 64;
        struct stat *d = realloc(w->dirs, cap * sizeof *d);
        if (!d)
            return SP_NOMEM;
        w->dirs = d;
        w->cap_dirs = cap;
    }
    w->dirs[w->n_dirs++] = *st;
    return SP_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static sp_status skip(walk_state *w, const char *path, sp_status code,
                      const char *fmt, const char *detail)
{
    char reason[512];
    snprintf(reason, sizeof reason, fmt, detail);
    return spd_collect_skip(w->c, path, code, reason);
}

static sp_status walk_dir(walk_state *w, const char *dir, int depth);

static sp_status walk_entry(walk_state *w, const char *path, int depth)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return skip(w, path, SP_NOINPUT, "cannot read: %s", strerror(errno));
    if (S_ISLNK(st.st_mode)) {
        if (!w->opt->follow_symlinks)
            return skip(w, path, SP_NOINPUT, "%s",
                        "symbolic link not followed (see --follow-symlinks)");
        if (stat(path, &st) != 0)
            return skip(w, path, SP_NOINPUT,
                        "broken symbolic link: %s", strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        if (dir_seen(w, &st))
            return skip(w, path, SP_NOINPUT, "%s",
                        "folder already scanned (symbolic link loop or "
                        "second link to it)");
        if (depth >= WALK_MAX_DEPTH)
            return skip(w, path, SP_LIMIT, "%s",
                        "folder nested too deeply; not scanned");
        if (dir_add(w, &st) != SP_OK)
            return SP_NOMEM;
        return walk_dir(w, path, depth + 1);
    }
    if (!S_ISREG(st.st_mode))
        return skip(w, path, SP_NOTDICOM, "%s", "not a regular file");
    if (w->n_files >= w->max_files) {
        char limit[64];
        snprintf(limit, sizeof limit, "%zu", w->max_files);
        w->stopped = 1;
        return skip(w, path, SP_LIMIT,
                    "file limit of %s reached; this and later files were "
                    "not scanned",
                    limit);
    }
    w->n_files++;
    return w->visit(path, w->ctx);
}

static sp_status walk_dir(walk_state *w, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return skip(w, dir, SP_NOINPUT, "cannot open folder: %s",
                    strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    sp_status st = SP_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                st = SP_NOMEM;
                break;
            }
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(e->d_name))) {
            st = SP_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (st == SP_OK && n > 1)
        qsort(names, n, sizeof *names, compare_names);
    size_t dlen = strlen(dir);
    int slash = dlen > 0 && dir[dlen - 1] == '/';
    for (size_t i = 0; i < n && st == SP_OK && !w->stopped; i++) {
        size_t len = dlen + strlen(names[i]) + 2;
        char *path = malloc(len);
        if (!path) {
            st = SP_NOMEM;
            break;
        }
        snprintf(path, len, "%s%s%s", dir, slash ? "" : "/", names[i]);
        st = walk_entry(w, path, depth);
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return st;
}

sp_status spd_walk(const char *path, const sp_dicom_scan_options *options,
                   spd_collect *c, spd_visit_fn visit, void *ctx,
                   sp_error *err)
{
    static const sp_dicom_scan_options defaults = {0, 0};
    walk_state w = {0};
    w.opt = options ? options : &defaults;
    w.max_files = w.opt->max_files ? w.opt->max_files : SPD_DEFAULT_MAX_FILES;
    w.c = c;
    w.visit = visit;
    w.ctx = ctx;
    struct stat st;
    /* The path given by the user is followed even when it is a link. */
    if (stat(path, &st) != 0)
        return sp_error_set(err, SP_NOINPUT, "%s: cannot read: %s", path,
                            strerror(errno));
    sp_status rc;
    if (S_ISDIR(st.st_mode)) {
        DIR *probe = opendir(path);
        if (!probe)
            return sp_error_set(err, SP_NOINPUT,
                                "%s: cannot open folder: %s", path,
                                strerror(errno));
        closedir(probe);
        rc = dir_add(&w, &st);
        if (rc == SP_OK)
            rc = walk_dir(&w, path, 0);
    } else if (S_ISREG(st.st_mode)) {
        w.n_files = 1;
        rc = visit(path, ctx);
    } else {
        return sp_error_set(err, SP_NOINPUT,
                            "%s: not a folder or a regular file", path);
    }
    free(w.dirs);
    if (rc != SP_OK)
        return sp_error_set(err, rc, "%s: scan failed: %s", path,
                            sp_status_message(rc));
    return SP_OK;
}
