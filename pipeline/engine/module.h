/* Loading a module of spinepipe's own on first use: the on-demand module
 * (engine/ondemand.h) and the DCMTK module (dicom/dicom_module.h). Each
 * exports one table that starts with sp_module_head. */
#ifndef SPINEPIPE_MODULE_H
#define SPINEPIPE_MODULE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "spinepipe/error.h"

typedef struct sp_module_head {
    size_t size; /* sizeof the table in the module's build */
    int abi;
} sp_module_head;

/* Find the module file (the environment variable `env` when set, else
 * beside the build's pipeline/ when running from the build tree, else in
 * <libdir>/spinepipe/), dlopen it and return its table `symbol` when its
 * ABI and size are the expected ones. On failure NULL, with why[] saying
 * why; path[] is the file tried in both cases. Never closed. */
const void *sp_module_load(const char *env, const char *file,
                           const char *symbol, int abi, size_t size,
                           char *path, size_t path_size, char *why,
                           size_t why_size);

/* One module, loaded at most once by sp_module_get whichever thread asks
 * first. Declare it static with SP_MODULE and its constant fields. */
typedef struct sp_module {
    const char *env;        /* environment variable naming the file */
    const char *file;       /* file name beside the build or installed */
    const char *symbol;     /* its table's symbol */
    int abi;                /* table ABI this program expects */
    size_t size;            /* sizeof the table in this program */
    const char *name;       /* for messages: "the DCMTK module" */
    const char *needed_for; /* for messages: what needs it */
    sp_status failure;      /* the status when it cannot be loaded */
    pthread_mutex_t lock;
    int tried;
    const void *_Atomic table;
    char path[4096];
    char why[512];
} sp_module;

#define SP_MODULE(env_, file_, symbol_, abi_, type_, name_, needed_for_,    \
                  failure_)                                                 \
    {.env = env_, .file = file_, .symbol = symbol_, .abi = abi_,            \
     .size = sizeof(type_), .name = name_, .needed_for = needed_for_,       \
     .failure = failure_, .lock = PTHREAD_MUTEX_INITIALIZER}

/* The module's table, loading it on the first call. NULL when it cannot be
 * loaded, on every call, with err naming the file and why (status
 * m->failure). Thread-safe. */
const void *sp_module_get(sp_module *m, sp_error *err);

/* The table when an earlier sp_module_get loaded it, else NULL; never
 * loads. */
const void *sp_module_loaded(const sp_module *m);

#endif
