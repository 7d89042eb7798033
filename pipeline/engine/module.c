/* See module.h. */
#include "module.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"

static void find_path(const char *env_name, const char *file, char *path,
                      size_t size)
{
    const char *env = getenv(env_name);
    if (env && *env)
        snprintf(path, size, "%s", env);
    else if (sp_running_from_build_tree())
        snprintf(path, size, "%s/pipeline/%s", SP_BUILD_ROOT, file);
    else
        snprintf(path, size, "%s/%s", SP_MODULE_INSTALL_DIR, file);
}

const void *sp_module_load(const char *env, const char *file,
                           const char *symbol, int abi, size_t size,
                           char *path, size_t path_size, char *why,
                           size_t why_size)
{
    find_path(env, file, path, path_size);
    /* Never closed: the module's code may run until exit. */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        /* dlerror starts with the path, which the caller's message names. */
        size_t n = strlen(path);
        if (e && strncmp(e, path, n) == 0 && strncmp(e + n, ": ", 2) == 0)
            e += n + 2;
        snprintf(why, why_size, "%s", e ? e : "unknown dlopen error");
        return NULL;
    }
    const sp_module_head *t = dlsym(h, symbol);
    if (!t) {
        snprintf(why, why_size, "no symbol %s", symbol);
        dlclose(h);
        return NULL;
    }
    if (t->abi != abi || t->size != size) {
        snprintf(why, why_size,
                 "built for a different spinepipe (table ABI %d, %zu bytes; "
                 "this program expects ABI %d, %zu bytes)",
                 t->abi, t->size, abi, size);
        dlclose(h);
        return NULL;
    }
    return t;
}

const void *sp_module_get(sp_module *m, sp_error *err)
{
    const void *t = atomic_load(&m->table);
    if (t)
        return t;
    pthread_mutex_lock(&m->lock);
    if (!m->tried) {
        m->tried = 1;
        atomic_store(&m->table, sp_module_load(m->env, m->file, m->symbol,
                                               m->abi, m->size, m->path,
                                               sizeof m->path, m->why,
                                               sizeof m->why));
    }
    t = atomic_load(&m->table);
    pthread_mutex_unlock(&m->lock);
    if (!t)
        sp_error_set(err, m->failure, "%s: cannot load spinepipe's %s (%s): %s",
                     m->path, m->name, m->needed_for, m->why);
    return t;
}

const void *sp_module_loaded(const sp_module *m)
{
    return atomic_load(&m->table);
}
