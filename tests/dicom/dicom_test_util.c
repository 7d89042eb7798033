#include "dicom_test_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "test_data.h"

int dicom_test_setup(void **state)
{
    (void)state;
    sp_error err = {0};
    if (sp_dicom_init(&err) != SP_OK) {
        print_error("sp_dicom_init: %s\n", err.message);
        return -1;
    }
    return 0;
}

int dicom_test_teardown(void **state)
{
    (void)state;
    sp_dicom_cleanup();
    return 0;
}

void dicom_test_load_one(const char *relative, sp_volume *vol,
                         sp_dicom_scan **out)
{
    char *path = test_data_path(relative);
    sp_dicom_scan *scan = NULL;
    sp_error err = {0};
    if (sp_dicom_scan_path(path, NULL, &scan, &err) != SP_OK)
        fail_msg("scan %s: %s", path, err.message);
    if (scan->n_series != 1)
        fail_msg("%s: expected one series, found %zu (%zu skipped%s%s)", path,
                 scan->n_series, scan->n_skipped,
                 scan->n_skipped ? ": " : "",
                 scan->n_skipped ? scan->skipped[0].reason : "");
    if (sp_dicom_load_series(&scan->series[0], NULL, vol, &err) != SP_OK)
        fail_msg("load %s: %s", path, err.message);
    free(path);
    if (out)
        *out = scan;
    else
        sp_dicom_scan_free(scan);
}
