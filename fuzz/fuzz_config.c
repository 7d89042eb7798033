/* Fuzz target: the pipeline config parser and --set overrides
 * (sp_pipeline_load) against the real stage registry (the build tree's
 * stages/). Input: the INI text, then optionally a line "--set" followed by
 * one override per line (STAGE.PARAM=VALUE). The text is written to a file
 * in memory (scratch.c) because the parser reads a path; the resulting
 * pipeline is also turned into JSON, as `spinepipe run` records it. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "fuzz.h"

#define MAX_OVERRIDES 16

static sp_registry *reg;

static void free_registry(void) { sp_registry_free(reg); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sp_error err;
    if (sp_registry_new(&reg, &err) != SP_OK ||
        sp_registry_load_default(reg, &err) != SP_OK)
        abort();
    atexit(free_registry);
    return 0;
}

static const uint8_t *find(const uint8_t *h, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(h + i, needle, m) == 0)
            return h + i;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = find(data, size, "\n--set\n");
    size_t ini_size = sep ? (size_t)(sep - data) : size;
    char *path = fuzz_write_file("pipeline.ini", data, ini_size);
    if (!path)
        return 0;
    /* Overrides: NUL-terminated copies of the lines after the separator. */
    char *tail = NULL;
    const char *overrides[MAX_OVERRIDES];
    size_t n = 0;
    if (sep) {
        size_t len = size - ini_size - 7;
        tail = malloc(len + 1);
        if (tail) {
            memcpy(tail, sep + 7, len);
            tail[len] = '\0';
            for (char *line = tail; line && n < MAX_OVERRIDES;) {
                char *nl = memchr(line, '\n', strlen(line));
                if (nl)
                    *nl = '\0';
                overrides[n++] = line;
                line = nl ? nl + 1 : NULL;
            }
        }
    }
    sp_error err;
    sp_pipeline *p = NULL;
    if (sp_pipeline_load(path, reg, overrides, n, &p, &err) == SP_OK) {
        json_decref(sp_pipeline_json(p));
        sp_pipeline_free(p);
    }
    free(tail);
    free(path);
    return 0;
}
