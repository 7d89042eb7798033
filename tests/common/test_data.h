/* Helpers shared by the tests: where the real data and the sources are,
 * and reading a DICOM folder's one series. */
#ifndef SPINEPIPE_TEST_DATA_H
#define SPINEPIPE_TEST_DATA_H

#include "spinepipe/dicom.h"

/* Path of `relative` under ../shared/data (SPINEPIPE_DATA). The result is
 * malloc'd; the caller frees it. Fails the test if the file is missing. */
char *test_data_path(const char *relative);

/* Path of `relative` under the project source root. Malloc'd. */
char *test_source_path(const char *relative);

/* A fresh empty temporary directory (malloc'd path) and its removal. */
char *test_make_temp_dir(void);
void test_remove_tree(const char *path);

/* Copy file `from` to `to` without its last `drop_tail` bytes (0: whole);
 * fails the test on any error. */
void test_copy_file(const char *from, const char *to, long drop_tail);

/* cmocka group setup and teardown for tests that read or write DICOM:
 * sp_dicom_init and sp_dicom_cleanup. */
int test_dicom_setup(void **state);
int test_dicom_teardown(void **state);

/* Scan `relative` (under ../shared/data), assert exactly one series, and
 * load it into `vol`; the test fails naming the folder and the reason
 * otherwise. The scan is returned for header checks when `scan` is not
 * NULL (free with sp_dicom_scan_free), else freed. */
void test_dicom_load_one(const char *relative, sp_volume *vol,
                         sp_dicom_scan **scan);

/* The same for a folder given by its path (one a test wrote); the
 * series' header is copied to `hdr` when it is not NULL. */
void test_dicom_load_dir(const char *path, sp_volume *vol,
                         sp_dicom_header *hdr);

#endif
