/* Listing result files below a folder. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net_internal.h"
#include "output/output.h"

void spn_file_list_free(spn_file_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add(spn_file_list *l, const char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **g = realloc(l->paths, cap * sizeof *g);
        if (!g)
            return -1;
        l->paths = g;
        l->cap = cap;
    }
    if (!(l->paths[l->n] = strdup(path)))
        return -1;
    l->n++;
    return 0;
}

static int collect(const char *dir, const char *suffix, spn_file_list *l,
                   int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    int rc = 0;
    size_t k = strlen(suffix);
    char path[PATH_MAX];
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (sp_path_join(path, sizeof path, dir, e->d_name) != 0)
            continue;
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        size_t len = strlen(e->d_name);
        if (S_ISDIR(st.st_mode) && depth < 8)
            rc = collect(path, suffix, l, depth + 1);
        else if (S_ISREG(st.st_mode) && len > k &&
                 strcmp(e->d_name + len - k, suffix) == 0)
            rc = add(l, path);
    }
    closedir(d);
    return rc;
}

int spn_collect_files(const char *dir, const char *suffix, spn_file_list *l)
{
    int rc = collect(dir, suffix, l, 0);
    if (rc == 0 && l->n > 1)
        qsort(l->paths, l->n, sizeof *l->paths, by_name);
    return rc;
}
