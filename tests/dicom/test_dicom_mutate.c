/* Hostile bytes: real files (uncompressed, RLE, JPEG lossless, JPEG-LS,
 * JPEG 2000, enhanced CT) with bytes overwritten at deterministic pseudo-
 * random places are scanned and loaded. Nothing may crash or leak (ASan and
 * valgrind runs check that); every failure must carry a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_data.h"

#define ROUNDS 40

static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void try_file(const char *path)
{
    sp_dicom_scan *scan = NULL;
    sp_error err = {0};
    assert_int_equal(sp_dicom_scan_path(path, NULL, &scan, &err), SP_OK);
    for (size_t i = 0; i < scan->n_skipped; i++)
        assert_true(scan->skipped[i].reason[0] != '\0');
    for (size_t i = 0; i < scan->n_series; i++) {
        sp_volume v;
        sp_dicom_load_options opt = {.max_bytes = (size_t)256 << 20};
        if (sp_dicom_load_series(&scan->series[i], &opt, &v, &err) == SP_OK)
            sp_volume_free(&v);
        else
            assert_true(err.message[0] != '\0');
    }
    sp_dicom_scan_free(scan);
}

static void mutated_files_never_crash(void **state)
{
    (void)state;
    static const char *const sources[] = {
        "conformance/pydicom_test_files/MR_small.dcm",
        "conformance/pydicom_test_files/MR_small_RLE.dcm",
        "conformance/pydicom_test_files/MR_small_jp2klossless.dcm",
        "conformance/pydicom_test_files/MR_small_jpeg_ls_lossless.dcm",
        "conformance/pydicom_test_files/MR_small_bigendian.dcm",
        "conformance/dcm_qa_ts/In/5.dcm",
        "conformance/pydicom_data_repo/eCT_Supplemental.dcm",
    };
    char *tmp = test_make_temp_dir();
    char out[600];
    snprintf(out, sizeof out, "%s/m.dcm", tmp);
    uint32_t seed = 0x5eed1234u;
    for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
        char *path = test_data_path(sources[s]);
        size_t size;
        unsigned char *orig = slurp(path, &size);
        unsigned char *buf = malloc(size);
        assert_non_null(buf);
        for (int round = 0; round < ROUNDS; round++) {
            memcpy(buf, orig, size);
            size_t len = size;
            int edits = 1 + (int)(next(&seed) % 8);
            for (int e = 0; e < edits; e++) {
                size_t at = next(&seed) % size;
                /* Mostly in the header, where lengths and tags live. */
                if (next(&seed) % 4 != 0)
                    at %= size < 2048 ? size : 2048;
                buf[at] = (unsigned char)next(&seed);
            }
            if (round % 5 == 4)
                len = 132 + next(&seed) % (size - 132);
            FILE *f = fopen(out, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(buf, 1, len, f), len);
            fclose(f);
            try_file(out);
        }
        free(buf);
        free(orig);
        free(path);
    }
    test_remove_tree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mutated_files_never_crash),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
