/* dicom.h promises that, after sp_dicom_init, different series may be
 * scanned and loaded on different threads: decode the nine transfer
 * syntaxes of dcm_qa_ts at the same time and compare with one decode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_data.h"

typedef struct job {
    char *path;
    sp_status status;
    sp_error err;
    sp_volume vol;
} job;

static void *run(void *arg)
{
    job *j = arg;
    sp_dicom_scan *scan = NULL;
    j->status = sp_dicom_scan_path(j->path, NULL, &scan, &j->err);
    if (j->status == SP_OK) {
        if (scan->n_series != 1)
            j->status = sp_error_set(&j->err, SP_FORMAT, "%zu series",
                                     scan->n_series);
        else
            j->status = sp_dicom_load_series(&scan->series[0], NULL, &j->vol,
                                             &j->err);
    }
    sp_dicom_scan_free(scan);
    return NULL;
}

static void parallel_loads_agree(void **state)
{
    (void)state;
    enum { N = 9 };
    job jobs[N];
    pthread_t threads[N];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < N; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "conformance/dcm_qa_ts/In/%d.dcm", i + 1);
        jobs[i].path = test_data_path(rel);
        assert_int_equal(pthread_create(&threads[i], NULL, run, &jobs[i]), 0);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    sp_volume ref;
    test_dicom_load_one("conformance/dcm_qa_ts/In/1.dcm", &ref, NULL);
    size_t n = sp_volume_count(&ref);
    for (int i = 0; i < N; i++) {
        if (jobs[i].status != SP_OK)
            fail_msg("%s: %s", jobs[i].path, jobs[i].err.message);
        assert_int_equal(sp_volume_count(&jobs[i].vol), n);
        assert_memory_equal(sp_volume_f32(&jobs[i].vol), sp_volume_f32(&ref),
                            n * sizeof(float));
        sp_volume_free(&jobs[i].vol);
        free(jobs[i].path);
    }
    sp_volume_free(&ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parallel_loads_agree),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
