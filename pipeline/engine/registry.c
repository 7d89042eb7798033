/* The stage registry: dlopen stage modules, check their descriptor and
 * ABI version, and keep them by name. Built-in stages come through here
 * exactly like third-party ones. */
#include "engine.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "output/output.h"
#include "paths.h"

#define SP_NAME_MAX 63

sp_status sp_registry_new(sp_registry **reg, sp_error *err)
{
    *reg = calloc(1, sizeof **reg);
    if (!*reg)
        return sp_error_set(err, SP_NOMEM, "out of memory for the registry");
    return SP_OK;
}

void sp_registry_free(sp_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n_modules; i++) {
        if (reg->modules[i].handle)
            dlclose(reg->modules[i].handle);
        free(reg->modules[i].path);
    }
    for (size_t i = 0; i < reg->n_refused; i++) {
        free(reg->refused[i].path);
        free(reg->refused[i].reason);
    }
    free(reg->modules);
    free(reg->refused);
    free(reg);
}

static int valid_name(const char *s, int allow_dot)
{
    if (!s || !*s || strlen(s) > SP_NAME_MAX)
        return 0;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || (allow_dot && *c == '.')))
            return 0;
    return 1;
}

static size_t field_size(sp_param_type t)
{
    switch (t) {
    case SP_PARAM_FLOAT: return sizeof(double);
    case SP_PARAM_STRING:
    case SP_PARAM_ARTIFACT: return sizeof(char *);
    default: return sizeof(int);
    }
}

static sp_status check_artifacts(const char *const *list, const char *what,
                                 const char *path, sp_error *err)
{
    for (size_t i = 0; list && list[i]; i++)
        if (!valid_name(list[i], 1))
            return sp_error_set(err, SP_PLUGIN,
                                "%s: %s artifact #%zu has an invalid name "
                                "(use lower-case words joined by dots)",
                                path, what, i + 1);
    return SP_OK;
}

sp_status sp_descriptor_check(const sp_stage_descriptor *d, const char *path,
                              sp_error *err)
{
    if (!d)
        return sp_error_set(err, SP_PLUGIN,
                            "%s: " SP_STAGE_SYMBOL "() returned NULL", path);
    if (d->abi_major != SP_STAGE_ABI_MAJOR)
        return sp_error_set(err, SP_PLUGIN,
                            "%s: built for stage ABI %u.%u, but this "
                            "spinepipe supports ABI major %d only (rebuild "
                            "the stage against this spinepipe's headers)",
                            path, (unsigned)d->abi_major,
                            (unsigned)d->abi_minor, SP_STAGE_ABI_MAJOR);
    if (d->abi_minor > SP_STAGE_ABI_MINOR)
        return sp_error_set(err, SP_PLUGIN,
                            "%s: built for stage ABI %u.%u, newer than this "
                            "spinepipe's %d.%d (update spinepipe or rebuild "
                            "the stage)",
                            path, (unsigned)d->abi_major,
                            (unsigned)d->abi_minor, SP_STAGE_ABI_MAJOR,
                            SP_STAGE_ABI_MINOR);
    if (!valid_name(d->name, 0))
        return sp_error_set(err, SP_PLUGIN,
                            "%s: stage name is missing or not [a-z0-9_]+ "
                            "(at most %d characters)",
                            path, SP_NAME_MAX);
    if (!d->version || !d->description || !d->init || !d->process)
        return sp_error_set(err, SP_PLUGIN,
                            "%s: stage '%s' lacks a version, description, "
                            "init or process",
                            path, d->name);
    if (d->n_params && !d->params)
        return sp_error_set(err, SP_PLUGIN,
                            "%s: stage '%s' declares %zu parameters but no "
                            "table",
                            path, d->name, d->n_params);
    for (size_t i = 0; i < d->n_params; i++) {
        const sp_param *p = &d->params[i];
        if (!valid_name(p->name, 0) || !p->default_value ||
            (unsigned)p->type > SP_PARAM_ARTIFACT ||
            p->offset + field_size(p->type) > d->options_size ||
            (p->type == SP_PARAM_ENUM && (!p->choices || !p->choices[0])))
            return sp_error_set(err, SP_PLUGIN,
                                "%s: stage '%s': parameter row %zu is "
                                "malformed (name, default, type, offset or "
                                "choices)",
                                path, d->name, i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->params[j].name, p->name) == 0)
                return sp_error_set(err, SP_PLUGIN,
                                    "%s: stage '%s': parameter '%s' is "
                                    "declared twice",
                                    path, d->name, p->name);
    }
    sp_status st = check_artifacts(d->requires, "required", path, err);
    if (st == SP_OK)
        st = check_artifacts(d->provides, "provided", path, err);
    if (st != SP_OK)
        return st;
    void *defaults;
    st = sp_options_new(d, &defaults, err);
    if (st != SP_OK) {
        char inner[SP_ERROR_MESSAGE_MAX];
        snprintf(inner, sizeof inner, "%s", err ? err->message : "");
        return sp_error_set(err, SP_PLUGIN, "%s: %s", path, inner);
    }
    sp_options_free(d, defaults);
    return SP_OK;
}

const sp_stage_module *sp_registry_find(const sp_registry *reg,
                                        const char *name)
{
    for (size_t i = 0; i < reg->n_modules; i++)
        if (strcmp(reg->modules[i].desc->name, name) == 0)
            return &reg->modules[i];
    return NULL;
}

const sp_stage_refusal *sp_registry_refusal(const sp_registry *reg,
                                            const char *name)
{
    for (size_t i = 0; i < reg->n_refused; i++) {
        const char *base = strrchr(reg->refused[i].path, '/');
        base = base ? base + 1 : reg->refused[i].path;
        size_t n = strlen(name);
        if (strncmp(base, name, n) == 0 && strcmp(base + n, ".so") == 0)
            return &reg->refused[i];
    }
    return NULL;
}

sp_status sp_registry_load_module(sp_registry *reg, const char *path,
                                  sp_error *err)
{
    /* RTLD_LOCAL keeps two stages' private symbols apart. */
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        return sp_error_set(err, SP_PLUGIN, "%s: cannot load: %s", path,
                            why ? why : "unknown dlopen error");
    }
    sp_stage_entry_fn entry;
    void *sym = dlsym(handle, SP_STAGE_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    if (!sym) {
        dlclose(handle);
        return sp_error_set(err, SP_PLUGIN,
                            "%s: not a spinepipe stage (no exported "
                            SP_STAGE_SYMBOL "())",
                            path);
    }
    const sp_stage_descriptor *d = entry();
    sp_status st = sp_descriptor_check(d, path, err);
    if (st == SP_OK) {
        const sp_stage_module *other = sp_registry_find(reg, d->name);
        if (other)
            st = sp_error_set(err, SP_PLUGIN,
                              "%s: stage '%s' is already loaded from %s",
                              path, d->name, other->path);
    }
    sp_stage_module *grown = NULL;
    char *copy = NULL;
    if (st == SP_OK) {
        grown = realloc(reg->modules,
                        (reg->n_modules + 1) * sizeof *reg->modules);
        copy = strdup(path);
        if (grown)
            reg->modules = grown;
        if (!grown || !copy)
            st = sp_error_set(err, SP_NOMEM, "out of memory loading %s",
                              path);
    }
    if (st != SP_OK) {
        free(copy);
        dlclose(handle);
        return st;
    }
    reg->modules[reg->n_modules++] =
        (sp_stage_module){.desc = d, .handle = handle, .path = copy};
    return SP_OK;
}

static void record_refusal(sp_registry *reg, const char *path,
                           const sp_error *why)
{
    sp_log(SP_LOG_WARN, NULL, "%s", why->message);
    sp_stage_refusal *grown =
        realloc(reg->refused, (reg->n_refused + 1) * sizeof *reg->refused);
    if (!grown)
        return;
    reg->refused = grown;
    char *p = strdup(path);
    char *r = strdup(why->message);
    if (!p || !r) {
        free(p);
        free(r);
        return;
    }
    reg->refused[reg->n_refused++] = (sp_stage_refusal){p, r};
}

static int has_so_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

sp_status sp_registry_load_dir(sp_registry *reg, const char *dir, int depth,
                               sp_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return SP_OK; /* a search path that does not exist is not an error */
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    sp_status st = SP_OK;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (!grown || !(grown[n] = strdup(e->d_name))) {
            names = grown ? grown : names;
            st = sp_error_set(err, SP_NOMEM, "out of memory reading %s", dir);
            break;
        }
        names = grown;
        n++;
    }
    closedir(d);
    /* Sorted, so which of two same-named stages wins does not depend on
     * the file system's order. */
    if (n)
        qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n && st == SP_OK; i++) {
        char path[PATH_MAX];
        if (sp_path_join(path, sizeof path, dir, names[i]) != 0)
            continue;
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            if (depth > 0)
                st = sp_registry_load_dir(reg, path, depth - 1, err);
            continue;
        }
        if (!S_ISREG(sb.st_mode) || !has_so_suffix(names[i]))
            continue;
        sp_error why;
        sp_status ls = sp_registry_load_module(reg, path, &why);
        if (ls == SP_NOMEM)
            st = sp_error_set(err, SP_NOMEM, "%s", why.message);
        else if (ls != SP_OK)
            record_refusal(reg, path, &why);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return st;
}

sp_status sp_registry_load_default(sp_registry *reg, sp_error *err)
{
    const char *env = getenv("SPINEPIPE_STAGE_PATH");
    if (env && *env) {
        char *copy = strdup(env);
        if (!copy)
            return sp_error_set(err, SP_NOMEM, "out of memory");
        sp_status st = SP_OK;
        char *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir && st == SP_OK;
             dir = strtok_r(NULL, ":", &save))
            st = sp_registry_load_dir(reg, dir, 0, err);
        free(copy);
        if (st != SP_OK)
            return st;
    }
    if (sp_running_from_build_tree())
        return sp_registry_load_dir(reg, sp_build_stage_dir(), 1, err);
    return sp_registry_load_dir(reg, sp_install_stage_dir(), 0, err);
}
