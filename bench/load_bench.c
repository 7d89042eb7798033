/* load_bench: time loading every DICOM series under a folder into float32
 * volumes, the way the pipeline loads them, and report peak memory.
 * Prints one line of key=value pairs for bench/load.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "spinepipe/dicom.h"
#include "spinepipe/volume.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DICOM_FOLDER\n", argv[0]);
        return 64;
    }
    sp_error err;
    sp_error_clear(&err);
    double t0 = now_seconds();
    if (sp_dicom_init(&err) != SP_OK) {
        fprintf(stderr, "load_bench: %s\n", err.message);
        return sp_status_exit_code(err.code);
    }
    sp_dicom_scan *scan = NULL;
    if (sp_dicom_scan_path(argv[1], NULL, &scan, &err) != SP_OK) {
        fprintf(stderr, "load_bench: %s\n", err.message);
        sp_dicom_cleanup();
        return sp_status_exit_code(err.code);
    }
    double t_scan = now_seconds();
    size_t slices = 0, largest = 0;
    int rc = 0;
    for (size_t i = 0; i < scan->n_series; i++) {
        sp_volume vol;
        if (sp_dicom_load_series(&scan->series[i], NULL, &vol, &err) !=
            SP_OK) {
            fprintf(stderr, "load_bench: %s\n", err.message);
            rc = sp_status_exit_code(err.code);
            break;
        }
        slices += vol.dim[2];
        size_t bytes = sp_volume_count(&vol) * sp_voxel_size(vol.type);
        if (bytes > largest)
            largest = bytes;
        sp_volume_free(&vol);
    }
    double t_end = now_seconds();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (rc == 0)
        printf("series=%zu slices=%zu scan_s=%.4f load_s=%.4f total_s=%.4f "
               "slices_per_s=%.1f peak_rss_kb=%ld f32_volume_kb=%zu\n",
               scan->n_series, slices, t_scan - t0, t_end - t_scan,
               t_end - t0, slices / (t_end - t0), ru.ru_maxrss,
               largest / 1024);
    sp_dicom_scan_free(scan);
    sp_dicom_cleanup();
    return rc;
}
