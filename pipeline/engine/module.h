/* Loading a module of spinepipe's own on first use: the on-demand module
 * (engine/ondemand.h) and the DCMTK module (dicom/dicom_module.h). Each
 * exports one table that starts with sp_module_head. */
#ifndef SPINEPIPE_MODULE_H
#define SPINEPIPE_MODULE_H

#include <stddef.h>

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

#endif
