/* Cost of the declared-length pre-scan (dicom_prescan.c) per file, on the
 * full-size CT series (140 x 512 x 512), warm page cache: every file of
 * the folder pre-scanned `rounds` times; prints the median round in ms per
 * file. `meson test -C build --benchmark --suite dicom -v`, or run directly
 * with a folder argument. The scan and the load each pre-scan a file once;
 * compare with bench_dicom_load's time per slice. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dicom/dicom_prescan.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_dicom_prescan DIR [ROUNDS]\n");
        return 64;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 21;
    if (rounds < 1 || rounds > 1000)
        rounds = 21;
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 66;
    }
    char **files = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char **grown = realloc(files, (n + 1) * sizeof *files);
        size_t len = strlen(argv[1]) + strlen(e->d_name) + 2;
        if (!grown || !(grown[n] = malloc(len)))
            return 70;
        files = grown;
        snprintf(files[n++], len, "%s/%s", argv[1], e->d_name);
    }
    closedir(d);
    double *ms = calloc((size_t)rounds, sizeof *ms);
    if (!ms || n == 0)
        return 70;
    size_t refused = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            sp_error err = {0};
            if (spd_prescan_file(files[i], &err) != SP_OK && r == 0)
                refused++;
        }
        ms[r] = (now() - t0) * 1e3 / (double)n;
    }
    qsort(ms, (size_t)rounds, sizeof *ms, cmp);
    printf("%zu files, %zu refused: pre-scan median %.4f ms per file "
           "(min %.4f, max %.4f, %d rounds)\n",
           n, refused, ms[rounds / 2], ms[0], ms[rounds - 1], rounds);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    free(ms);
    return 0;
}
