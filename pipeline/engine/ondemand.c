/* See ondemand.h. */
#include "ondemand.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const sp_ondemand_api *table;
static char path[4096];
static char why[512];

static void find_path(void)
{
    const char *env = getenv("SPINEPIPE_ONDEMAND_MODULE");
    if (env && *env)
        snprintf(path, sizeof path, "%s", env);
    else if (sp_running_from_build_tree())
        snprintf(path, sizeof path, "%s/pipeline/%s", SP_BUILD_ROOT,
                 SP_ONDEMAND_FILE);
    else
        snprintf(path, sizeof path, "%s/%s", SP_MODULE_INSTALL_DIR,
                 SP_ONDEMAND_FILE);
}

static void load(void)
{
    find_path();
    /* Never closed: the module's code may run until exit. */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        /* dlerror starts with the path, which the message already names. */
        size_t n = strlen(path);
        if (e && strncmp(e, path, n) == 0 && strncmp(e + n, ": ", 2) == 0)
            e += n + 2;
        snprintf(why, sizeof why, "%s", e ? e : "unknown dlopen error");
        return;
    }
    const sp_ondemand_api *t = dlsym(h, SP_ONDEMAND_SYMBOL);
    if (!t) {
        snprintf(why, sizeof why, "no symbol %s", SP_ONDEMAND_SYMBOL);
        dlclose(h);
        return;
    }
    if (t->abi != SP_ONDEMAND_ABI || t->size != sizeof *t) {
        snprintf(why, sizeof why,
                 "built for a different spinepipe (table ABI %d, %zu bytes; "
                 "this program expects ABI %d, %zu bytes)",
                 t->abi, t->size, SP_ONDEMAND_ABI, sizeof *t);
        dlclose(h);
        return;
    }
    table = t;
}

const sp_ondemand_api *sp_ondemand(sp_error *err)
{
    pthread_once(&once, load);
    if (!table)
        sp_error_set(err, SP_INTERNAL,
                     "%s: cannot load spinepipe's on-demand module (DICOM "
                     "network, DICOM result objects, drawing): %s",
                     path, why);
    return table;
}

const sp_ondemand_api *sp_ondemand_loaded(void)
{
    return table;
}
