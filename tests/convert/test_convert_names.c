/* Output names for `spinepipe convert`: hostile SeriesDescription values
 * must never make a path, a hidden file or an option-like name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cli/convert_names.h"

static void assert_safe(const char *name)
{
    assert_true(name[0] != '\0');
    assert_true(name[0] != '.' && name[0] != '-');
    for (const char *p = name; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789._-",
                    *p))
            fail_msg("unsafe byte 0x%02x in '%s'", (unsigned char)*p, name);
}

static void plain_descriptions(void **state)
{
    (void)state;
    char out[96];
    convert_series_name(3, "T2 SAG  (FSE)", 0, out, sizeof out);
    assert_string_equal(out, "3_T2_SAG_FSE");
    convert_series_name(12, "Ax T1.v2-fat_sat", 0, out, sizeof out);
    assert_string_equal(out, "12_Ax_T1.v2-fat_sat");
    convert_series_name(0, "", 0, out, sizeof out);
    assert_string_equal(out, "0_series");
    convert_series_name(5, "Sag T2", 2, out, sizeof out);
    assert_string_equal(out, "5_Sag_T2_part2");
}

static void hostile_descriptions(void **state)
{
    (void)state;
    static const char *hostile[] = {
        "../../etc/passwd",
        "/abs/path",
        "..",
        ".hidden",
        "-rf",
        "a/../../b",
        "\x1b[2J\x1b[Hclear",
        "tab\there\nnewline",
        "\xc3\xa9t\xc3\xa9 (UTF-8)",
        "~user/$HOME;rm -rf *",
        "",
    };
    char out[96];
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        convert_series_name(7, hostile[i], 0, out, sizeof out);
        assert_safe(out);
        assert_null(strstr(out, "/"));
        assert_null(strstr(out, ".."));
        assert_true(strncmp(out, "7_", 2) == 0);
    }
    convert_series_name(7, "../../etc/passwd", 0, out, sizeof out);
    assert_string_equal(out, "7_etc_passwd");
    convert_series_name(-4, "x", 0, out, sizeof out);
    assert_string_equal(out, "0_x");
}

static void long_descriptions_are_capped(void **state)
{
    (void)state;
    char desc[300], out[96];
    memset(desc, 'A', sizeof desc - 1);
    desc[sizeof desc - 1] = '\0';
    convert_series_name(2147483647, desc, 0, out, sizeof out);
    assert_safe(out);
    assert_int_equal(strlen(out),
                     strlen("2147483647_") + CONVERT_NAME_MAX_DESCRIPTION);
    char small[8];
    convert_sanitise("abc/def/ghi", small, sizeof small);
    assert_string_equal(small, "abc_def");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_descriptions),
        cmocka_unit_test(hostile_descriptions),
        cmocka_unit_test(long_descriptions_are_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
