/* Manifest parsing, study keys and shards (pipeline/batch/manifest.c):
 * hostile lines, relative paths, repeats, rejected lines naming their
 * number, shards covering every study exactly once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batch/manifest.h"
#include "output/output.h"
#include "test_data.h"

static char *write_manifest(const char *dir, const char *bytes, size_t len)
{
    char *path = malloc(strlen(dir) + 16);
    assert_non_null(path);
    sprintf(path, "%s/m.txt", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return path;
}

static void hostile_lines(void **state)
{
    (void)state;
    char *dir = test_make_temp_dir();
    char *rel = test_data_path("spine/ct-lumbar-l2-l4-crop/dicom");
    char *spine = realpath(rel, NULL); /* manifest lines are taken as is */
    assert_non_null(spine);
    free(rel);
    char text[8192];
    int len = snprintf(text, sizeof text,
                       "# comment\r\n"
                       "\r\n"
                       "  \t%s \t\r\n"      /* line 3: spaces, CR */
                       "rel/study one\n"    /* line 4: relative */
                       "   # indented comment\n"
                       "-rf 'x' \"y\",=z\n" /* line 6: hostile name */
                       "%s\n"               /* line 7: repeat of 3 */
                       "/last/no-newline",  /* line 8 */
                       spine, spine);
    char *path = write_manifest(dir, text, (size_t)len);
    sp_manifest *m = NULL;
    sp_error err;
    assert_int_equal(sp_manifest_load(path, &m, &err), SP_OK);
    assert_int_equal(m->n, 4);
    assert_int_equal(m->n_duplicates, 1);
    assert_string_equal(m->studies[0].path, spine);
    assert_int_equal(m->studies[0].line, 3);
    /* Relative to the manifest's folder. */
    char want[4096];
    snprintf(want, sizeof want, "%s", m->path);
    strcpy(strrchr(want, '/'), "/rel/study one");
    assert_string_equal(m->studies[1].path, want);
    assert_int_equal(m->studies[2].line, 6);
    assert_non_null(strstr(m->studies[2].path, "/-rf 'x' \"y\",=z"));
    assert_string_equal(m->studies[3].path, "/last/no-newline");
    for (size_t i = 0; i < m->n; i++) {
        /* Keys are safe file names, distinct, and end in 16 hex digits. */
        assert_true(sp_is_safe_name(m->studies[i].key));
        const char *dash = strrchr(m->studies[i].key, '-');
        assert_non_null(dash);
        assert_int_equal(strspn(dash + 1, "0123456789abcdef"), 16);
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(m->studies[i].key, m->studies[k].key);
    }
    assert_int_equal(strncmp(m->studies[3].key, "no-newline-", 11), 0);
    assert_int_equal(strncmp(m->studies[2].key, "-rf_x_y_z-", 10), 0);
    sp_manifest_free(m);
    free(path);
    free(spine);
    test_remove_tree(dir);
    free(dir);
}

static void key_stable(void **state)
{
    (void)state;
    char a[SP_STUDY_KEY_MAX], b[SP_STUDY_KEY_MAX];
    sp_study_key("/data/study-1", a, sizeof a);
    sp_study_key("/data/study-1/", b, sizeof b);
    assert_int_equal(strncmp(a, "study-1-", 8), 0);
    assert_int_equal(strncmp(b, "study-1-", 8), 0);
    sp_study_key("/data/study-1", b, sizeof b);
    assert_string_equal(a, b);
    sp_study_key("/other/study-1", b, sizeof b);
    assert_string_not_equal(a, b);
    sp_study_key("/data/..", a, sizeof a);
    assert_true(sp_is_safe_name(a));
    sp_study_key("/", a, sizeof a);
    assert_true(sp_is_safe_name(a));
}

static void rejects(void **state)
{
    (void)state;
    char *dir = test_make_temp_dir();
    static const struct {
        const char *bytes;
        size_t len;
        sp_status code;
        const char *message;
    } cases[] = {
        {"/ok\n/bad\xff\n", 10, SP_FORMAT, "m.txt:2: not valid UTF-8"},
        {"/ok\n/a\xc0\xaf\n", 10, SP_FORMAT, "m.txt:2: not valid UTF-8"},
        {"/ok\n/nul\0byte\n", 14, SP_FORMAT, "m.txt:2: NUL byte"},
        {"# nothing\n\n  \n", 14, SP_NOINPUT, "no study folders"},
        {"", 0, SP_NOINPUT, "no study folders"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *path = write_manifest(dir, cases[i].bytes, cases[i].len);
        sp_manifest *m = NULL;
        sp_error err;
        assert_int_equal(sp_manifest_load(path, &m, &err), cases[i].code);
        assert_null(m);
        assert_non_null(strstr(err.message, cases[i].message));
        free(path);
    }
    size_t big = 5000;
    char *line = malloc(big + 2);
    assert_non_null(line);
    line[0] = '/';
    memset(line + 1, 'a', big - 1);
    line[big] = '\n';
    char *path = write_manifest(dir, line, big + 1);
    sp_manifest *m = NULL;
    sp_error err;
    assert_int_equal(sp_manifest_load(path, &m, &err), SP_FORMAT);
    assert_non_null(strstr(err.message, "m.txt:1: path longer than"));
    free(line);
    free(path);
    char missing[4096];
    snprintf(missing, sizeof missing, "%s/none.txt", dir);
    assert_int_equal(sp_manifest_load(missing, &m, &err), SP_NOINPUT);
    test_remove_tree(dir);
    free(dir);
}

static void shards(void **state)
{
    (void)state;
    sp_shard s;
    sp_error err;
    static const char *const bad[] = {"4/4", "1", "a/2", "1/0", "-1/3",
                                      "1/ 2", "1/2x", "0/100001", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(sp_shard_parse(bad[i], &s, &err), SP_USAGE);
    for (unsigned n = 1; n <= 7; n++) {
        /* Every index in exactly one of the n shards. */
        for (size_t i = 0; i < 100; i++) {
            int owners = 0;
            for (unsigned k = 0; k < n; k++) {
                char text[16];
                snprintf(text, sizeof text, "%u/%u", k, n);
                assert_int_equal(sp_shard_parse(text, &s, &err), SP_OK);
                owners += sp_shard_has(&s, i);
            }
            assert_int_equal(owners, 1);
        }
    }
    sp_shard all = {0, 0};
    assert_true(sp_shard_has(&all, 12345));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_lines),
        cmocka_unit_test(key_stable),
        cmocka_unit_test(rejects),
        cmocka_unit_test(shards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
