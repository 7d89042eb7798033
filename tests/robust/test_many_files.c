/* 10^6 files in one folder (issue 9): 47 real CT slices among 999,953
 * empty files, on tmpfs. The scan ends, finds the series whole and lists
 * every other file as skipped with a reason; one file fewer allowed
 * (max_files) stops the walk with one SP_LIMIT entry naming the limit.
 * Prints the time and peak RSS. Skipped under ASan (the plain build runs
 * it; instrumented, a million file operations take too long for CI). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "spinepipe/dicom.h"
#include "test_data.h"

#define N_FILES 1000000

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* `dir` filled with the real series plus empty files up to N_FILES. */
static size_t fill(const char *dir)
{
    char *series = test_data_path("spine/ct-lumbar-l2-l4-crop/dicom");
    DIR *d = opendir(series);
    assert_non_null(d);
    struct dirent *e;
    size_t real = 0;
    char src[1024], dst[1024];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(src, sizeof src, "%s/%s", series, e->d_name);
        snprintf(dst, sizeof dst, "%s/%s", dir, e->d_name);
        test_copy_file(src, dst, 0);
        real++;
    }
    closedir(d);
    free(series);
    for (size_t i = real; i < N_FILES; i++) {
        snprintf(dst, sizeof dst, "%s/junk%07zu", dir, i);
        FILE *f = fopen(dst, "wb");
        assert_non_null(f);
        fclose(f);
    }
    return real;
}

static void million_files_in_one_folder(void **state)
{
    (void)state;
    char base[] = "/dev/shm/spinepipe-many-XXXXXX";
    char *tmp = NULL;
    if (access("/dev/shm", W_OK) == 0 && mkdtemp(base))
        tmp = strdup(base);
    else
        tmp = test_make_temp_dir();
    double t0 = now();
    size_t real = fill(tmp);
    double t1 = now();

    sp_dicom_scan *scan = NULL;
    sp_error err = {0};
    assert_int_equal(sp_dicom_scan_path(tmp, NULL, &scan, &err), SP_OK);
    double t2 = now();
    assert_int_equal(scan->n_series, 1);
    assert_int_equal(scan->series[0].n_slices, real);
    assert_int_equal(scan->n_skipped, N_FILES - real);
    for (size_t i = 0; i < scan->n_skipped; i++) {
        assert_int_not_equal(scan->skipped[i].code, SP_OK);
        assert_true(scan->skipped[i].reason[0] != '\0');
        assert_non_null(strstr(scan->skipped[i].path, "/junk"));
    }
    sp_dicom_scan_free(scan);

    /* One file over the limit: the walk stops there, says so once. */
    sp_dicom_scan_options opt = {.max_files = N_FILES - 1};
    assert_int_equal(sp_dicom_scan_path(tmp, &opt, &scan, &err), SP_OK);
    size_t limits = 0, slices = 0;
    for (size_t i = 0; i < scan->n_skipped; i++)
        if (scan->skipped[i].code == SP_LIMIT) {
            limits++;
            assert_non_null(
                strstr(scan->skipped[i].reason, "file limit of 999999"));
        }
    for (size_t i = 0; i < scan->n_series; i++)
        slices += scan->series[i].n_slices;
    assert_int_equal(limits, 1);
    assert_int_equal(slices + scan->n_skipped, N_FILES);
    sp_dicom_scan_free(scan);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("# %d files (%zu slices): created in %.1f s, scanned in %.1f s, "
           "peak RSS %.0f MiB\n",
           N_FILES, real, t1 - t0, t2 - t1, (double)ru.ru_maxrss / 1024.0);
    test_remove_tree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(million_files_in_one_folder),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
