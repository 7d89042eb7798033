/* Throughput of scan + load on the full-size CT series (140 x 512 x 512):
 * `meson test -C build --benchmark --suite dicom -v`, or run directly with
 * a folder argument. Compare with `time dcm2niix -z n -o OUT DIR`. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "spinepipe/dicom.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : getenv("SPINEPIPE_BENCH_DIR");
    if (!dir) {
        fprintf(stderr, "usage: bench_dicom_load DIR\n");
        return 64;
    }
    sp_error err = {0};
    if (sp_dicom_init(&err) != SP_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    double t0 = now();
    sp_dicom_scan *scan = NULL;
    if (sp_dicom_scan_path(dir, NULL, &scan, &err) != SP_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    double t1 = now();
    size_t voxels = 0;
    for (size_t i = 0; i < scan->n_series; i++) {
        sp_volume v;
        if (sp_dicom_load_series(&scan->series[i], NULL, &v, &err) != SP_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        voxels += sp_volume_count(&v);
        sp_volume_free(&v);
    }
    double t2 = now();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%zu series, %zu voxels: scan %.3f s, load %.3f s, total %.3f s, "
           "peak RSS %.1f MiB (float volume %.1f MiB)\n",
           scan->n_series, voxels, t1 - t0, t2 - t1, t2 - t0,
           (double)ru.ru_maxrss / 1024.0,
           (double)voxels * sizeof(float) / (1024.0 * 1024.0));
    sp_dicom_scan_free(scan);
    sp_dicom_cleanup();
    return 0;
}
