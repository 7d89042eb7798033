/* Helpers shared by the tests: where the real data and the sources are. */
#ifndef SPINEPIPE_TEST_DATA_H
#define SPINEPIPE_TEST_DATA_H

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

#endif
