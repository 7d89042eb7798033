/* Helpers for the DICOM tests: scan a path and load its one series. */
#ifndef SPINEPIPE_DICOM_TEST_UTIL_H
#define SPINEPIPE_DICOM_TEST_UTIL_H

#include "spinepipe/dicom.h"

/* cmocka group setup/teardown: sp_dicom_init / sp_dicom_cleanup. */
int dicom_test_setup(void **state);
int dicom_test_teardown(void **state);

/* Scan `relative` (under ../shared/data), assert exactly one series, and
 * load it into `vol`. The scan is returned for header checks when `scan`
 * is not NULL (free with sp_dicom_scan_free), else freed. */
void dicom_test_load_one(const char *relative, sp_volume *vol,
                         sp_dicom_scan **scan);

#endif
