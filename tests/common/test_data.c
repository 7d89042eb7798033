#include "test_data.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "spinepipe/dicom.h"
#include <ftw.h>
#include <unistd.h>

static char *join_env(const char *var, const char *fallback,
                      const char *relative)
{
    const char *root = getenv(var);
    if (!root || !*root)
        root = fallback;
    size_t n = strlen(root) + strlen(relative) + 2;
    char *path = malloc(n);
    assert_non_null(path);
    snprintf(path, n, "%s/%s", root, relative);
    return path;
}

char *test_data_path(const char *relative)
{
    char *path = join_env("SPINEPIPE_DATA", "../shared/data", relative);
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("test data missing: %s (set SPINEPIPE_DATA to ../shared/data)",
                 path);
    return path;
}

char *test_source_path(const char *relative)
{
    return join_env("SPINEPIPE_SOURCE_ROOT", ".", relative);
}

char *test_make_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    size_t n = strlen(base) + 32;
    char *path = malloc(n);
    assert_non_null(path);
    snprintf(path, n, "%s/spinepipe-test-XXXXXX", base);
    assert_non_null(mkdtemp(path));
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int test_dicom_setup(void **state)
{
    (void)state;
    sp_error err;
    if (sp_dicom_init(&err) != SP_OK) {
        fprintf(stderr, "sp_dicom_init: %s\n", err.message);
        return -1;
    }
    return 0;
}

int test_dicom_teardown(void **state)
{
    (void)state;
    sp_dicom_cleanup();
    return 0;
}

/* Scan `path`, assert one series and load it; the scan is returned.
 * Its own init/cleanup pair (counted) lets tests outside a DICOM group
 * call it. */
static sp_dicom_scan *load_only_series(const char *path, sp_volume *vol)
{
    sp_dicom_scan *scan = NULL;
    sp_error err = {0};
    if (sp_dicom_init(&err) != SP_OK)
        fail_msg("sp_dicom_init: %s", err.message);
    if (sp_dicom_scan_path(path, NULL, &scan, &err) != SP_OK)
        fail_msg("scan %s: %s", path, err.message);
    if (scan->n_series != 1)
        fail_msg("%s: expected one series, found %zu (%zu skipped%s%s)", path,
                 scan->n_series, scan->n_skipped,
                 scan->n_skipped ? ": " : "",
                 scan->n_skipped ? scan->skipped[0].reason : "");
    if (sp_dicom_load_series(&scan->series[0], NULL, vol, &err) != SP_OK)
        fail_msg("load %s: %s", path, err.message);
    sp_dicom_cleanup();
    return scan;
}

void test_dicom_load_one(const char *relative, sp_volume *vol,
                         sp_dicom_scan **out)
{
    char *path = test_data_path(relative);
    sp_dicom_scan *scan = load_only_series(path, vol);
    free(path);
    if (out)
        *out = scan;
    else
        sp_dicom_scan_free(scan);
}

void test_dicom_load_dir(const char *path, sp_volume *vol,
                         sp_dicom_header *hdr)
{
    sp_dicom_scan *scan = load_only_series(path, vol);
    if (hdr)
        *hdr = scan->series[0].header;
    sp_dicom_scan_free(scan);
}

void test_copy_file(const char *from, const char *to, long drop_tail)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    assert_int_equal(fseek(in, 0, SEEK_END), 0);
    long size = ftell(in) - drop_tail;
    assert_int_equal(fseek(in, 0, SEEK_SET), 0);
    char buf[65536];
    while (size > 0) {
        size_t want = size < (long)sizeof buf ? (size_t)size : sizeof buf;
        size_t n = fread(buf, 1, want, in);
        assert_true(n > 0);
        assert_int_equal(fwrite(buf, 1, n, out), n);
        size -= (long)n;
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
}
