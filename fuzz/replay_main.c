/* The plain-program driver of every fuzz target (see fuzz.h): runs each
 * file given (folders recursively, in name order) through
 * LLVMFuzzerTestOneInput once. An input taking longer than HANG_SECONDS
 * counts as a hang and fails the run; crashes and leaks end it through the
 * sanitizers or valgrind. Reports one TAP case with the number of inputs
 * replayed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fuzz.h"

/* The hang limit is 10 s per input on a plain build. ASan makes
 * DCMTK's allocation of a huge declared element length (virtual memory
 * only: 10 MB RSS, 0.3 s plain) take seconds, so sanitizer builds get 3x. */
#if defined(__SANITIZE_ADDRESS__)
#define HANG_SECONDS 30.0
#else
#define HANG_SECONDS 10.0
#endif
/* Inputs larger than this are not replayed (libFuzzer's -max_len is far
 * smaller); the big conformance series stay within it. */
#define REPLAY_MAX_INPUT ((size_t)64 << 20)

static size_t n_inputs, n_hangs, n_skipped;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void replay_file(const char *path, size_t size)
{
    if (size > REPLAY_MAX_INPUT) {
        n_skipped++;
        return;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        n_skipped++;
        return;
    }
    uint8_t *buf = malloc(size ? size : 1);
    size_t got = buf ? fread(buf, 1, size, f) : 0;
    fclose(f);
    if (!buf || got != size) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        n_skipped++;
        return;
    }
    double t0 = now();
    LLVMFuzzerTestOneInput(buf, size);
    double dt = now() - t0;
    free(buf);
    n_inputs++;
    if (dt > HANG_SECONDS) {
        fprintf(stderr, "replay: %s took %.1f s (over %.0f s: a hang)\n",
                path, dt, HANG_SECONDS);
        n_hangs++;
    }
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void replay_path(const char *path, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s does not exist\n", path);
        n_skipped++;
        return;
    }
    if (S_ISREG(st.st_mode)) {
        replay_file(path, (size_t)st.st_size);
        return;
    }
    if (!S_ISDIR(st.st_mode) || depth > 16)
        return;
    struct dirent **names = NULL;
    int n = scandir(path, &names, NULL, by_name);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] != '.') {
            size_t len = strlen(path) + strlen(name) + 2;
            char *child = malloc(len);
            if (child) {
                snprintf(child, len, "%s/%s", path, name);
                replay_path(child, depth + 1);
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++)
        replay_path(argv[i], 0);
    int ok = n_inputs > 0 && n_hangs == 0;
    printf("1..1\n%s 1 - replayed %zu inputs (%zu not readable or too "
           "large), %zu hangs\n",
           ok ? "ok" : "not ok", n_inputs, n_skipped, n_hangs);
    return ok ? 0 : 1;
}
