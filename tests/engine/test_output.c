/* Output helpers: safe names from hostile strings, the UTF-8 check,
 * atomic files, PNG with text chunks read back through libpng. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "output/output.h"
#include "stage_harness.h"
#include "test_data.h"

static void safe_names(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"1.2.840.113619.2.55", "1.2.840.113619.2.55"},
        {"Ax T2 FSE", "Ax_T2_FSE"},
        {"../../etc/passwd", "etc_passwd"},
        {"..", "unnamed"},
        {".", "unnamed"},
        {"", "unnamed"},
        {"\x1b[31mred", "31mred"},
        {"a/b\\c:d*e", "a_b_c_d_e"},
        {"T2 / Sag...", "T2_Sag..."},
        {"Müller", "M_ller"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_safe_name(cases[i].in, "unnamed", out, sizeof out);
        assert_string_equal(out, cases[i].out);
        assert_true(sp_is_safe_name(out));
    }
    char longer[300];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    sp_safe_name(longer, "x", out, 17);
    assert_int_equal(strlen(out), 16);
    assert_false(sp_is_safe_name(".."));
    assert_false(sp_is_safe_name("a/b"));
    assert_false(sp_is_safe_name(".hidden"));
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* A join that fits is "<dir>/<name>"; one that would be cut is refused
 * and leaves an empty string, so no caller can use a shortened path. */
static void path_joins(void **state)
{
    (void)state;
    char out[12];
    assert_int_equal(sp_path_join(out, sizeof out, "/tmp", "a.png"), 0);
    assert_string_equal(out, "/tmp/a.png");
    /* 11 characters and the NUL: exactly fits. */
    assert_int_equal(sp_path_join(out, sizeof out, "/tmp", "abcdef"), 0);
    assert_string_equal(out, "/tmp/abcdef");
    assert_int_equal(sp_path_join(out, sizeof out, "/tmp", "abcdefg"), -1);
    assert_string_equal(out, "");
    assert_int_equal(sp_path_join(out, 0, "/tmp", "a"), -1);
    char *joined = sp_path_joined("dir", "file.json");
    assert_non_null(joined);
    assert_string_equal(joined, "dir/file.json");
    free(joined);
}

/* Each case: bytes, how many may be read, the expected sequence length
 * (the boundaries of RFC 3629's table of well-formed sequences). */
static void utf8_sequences(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t avail;
        size_t want;
    } cases[] = {
        {"A", 1, 1},
        {"\x7f", 1, 1},
        {"\xc2\x80", 2, 2},             /* U+0080, the first of two bytes */
        {"\xc3\xa9", 2, 2},             /* e acute */
        {"\xc3\xa9", 1, 0},             /* cut by avail */
        {"\xc3", SIZE_MAX, 0},           /* cut by the NUL */
        {"\xc0\xaf", 2, 0},             /* overlong '/' */
        {"\xc1\xbf", 2, 0},             /* overlong */
        {"\xe0\x9f\xbf", 3, 0},         /* overlong three-byte form */
        {"\xe0\xa0\x80", 3, 3},         /* U+0800 */
        {"\xed\x9f\xbf", 3, 3},         /* U+D7FF */
        {"\xed\xa0\x80", 3, 0},         /* U+D800, a surrogate */
        {"\xef\xbf\xbd", 3, 3},         /* U+FFFD */
        {"\xf0\x8f\xbf\xbf", 4, 0},     /* overlong four-byte form */
        {"\xf0\x90\x80\x80", 4, 4},     /* U+10000 */
        {"\xf4\x8f\xbf\xbf", 4, 4},     /* U+10FFFF */
        {"\xf4\x90\x80\x80", 4, 0},     /* past U+10FFFF */
        {"\xf5\x80\x80\x80", 4, 0},
        {"\x80", 1, 0},                 /* a lone continuation byte */
        {"\xff", 1, 0},
        {"\xe2\x82", SIZE_MAX, 0},      /* cut three-byte form */
        {"\xe2(\xac", 3, 0},            /* bad continuation */
        {"", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t got = sp_utf8_sequence(
            (const unsigned char *)cases[i].bytes, cases[i].avail);
        if (got != cases[i].want)
            fail_msg("case %zu: length %zu, want %zu", i, got,
                     cases[i].want);
    }
}

static void atomic_files_leave_no_temporaries(void **state)
{
    (void)state;
    char *dir = test_make_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    sp_error err;
    json_t *j = json_pack("{s:s}", "status", "ok");
    assert_int_equal(sp_json_write_file(j, path, &err), SP_OK);
    json_decref(j);
    j = json_pack("{s:s}", "status", "second");
    assert_int_equal(sp_json_write_file(j, path, &err), SP_OK);
    json_decref(j);
    assert_int_equal(count_entries(dir), 1);
    json_error_t je;
    json_t *back = json_load_file(path, 0, &je);
    assert_non_null(back);
    assert_string_equal(json_string_value(json_object_get(back, "status")),
                        "second");
    json_decref(back);

    sp_atomic_file f;
    snprintf(path, sizeof path, "%s/half.png", dir);
    assert_int_equal(sp_atomic_open(&f, path, &err), SP_OK);
    fputs("half written", f.fp);
    sp_atomic_abort(&f); /* an interrupted writer */
    assert_int_equal(count_entries(dir), 1);

    snprintf(path, sizeof path, "%s/no/such/dir/x.json", dir);
    j = json_object();
    assert_int_equal(sp_json_write_file(j, path, &err), SP_CANTCREATE);
    json_decref(j);
    assert_non_null(strstr(err.message, "cannot create"));
    test_remove_tree(dir);
    free(dir);
}

static void png_round_trip_with_text(void **state)
{
    (void)state;
    char *dir = test_make_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/t.png", dir);
    const uint8_t px[6] = {0, 50, 100, 150, 200, 255};
    const sp_png_text text[] = {
        {"Title", "test image"},
        {"Description", "Müller\nline"},
    };
    sp_error err;
    assert_int_equal(sp_png_write_gray8(path, px, 3, 2, text, 2, &err),
                     SP_OK);
    harness_png png;
    harness_png_read(path, &png);
    assert_int_equal(png.width, 3);
    assert_int_equal(png.height, 2);
    assert_memory_equal(png.pixels, px, 6);
    assert_string_equal(harness_png_text(&png, "Title"), "test image");
    assert_string_equal(harness_png_text(&png, "Description"),
                        "Müller line");
    harness_png_free(&png);
    assert_int_equal(sp_png_write_gray8(path, px, 0, 2, NULL, 0, &err),
                     SP_CANTCREATE);
    assert_int_equal(count_entries(dir), 1);
    test_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(safe_names),
        cmocka_unit_test(path_joins),
        cmocka_unit_test(utf8_sequences),
        cmocka_unit_test(atomic_files_leave_no_temporaries),
        cmocka_unit_test(png_round_trip_with_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
