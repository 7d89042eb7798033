#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "spinepipe/error.h"

static void every_code_has_name_message_and_band(void **state)
{
    (void)state;
    for (int c = 0; c < SP_STATUS_COUNT; c++) {
        assert_true(strlen(sp_status_name((sp_status)c)) > 0);
        assert_true(strlen(sp_status_message((sp_status)c)) > 0);
        int band = sp_status_exit_code((sp_status)c);
        if (c == SP_OK)
            assert_int_equal(band, 0);
        else
            assert_true(band >= 64 && band <= 78);
    }
    assert_string_equal(sp_status_name(SP_DECODE), "DECODE");
    assert_int_equal(sp_status_exit_code(SP_USAGE), 64);
    assert_int_equal(sp_status_exit_code(SP_CANTCREATE), 73);
}

static void set_formats_and_returns_code(void **state)
{
    (void)state;
    sp_error err;
    sp_status st = sp_error_set(&err, SP_IO, "%s: cannot read: %d", "a.dcm", 5);
    assert_int_equal(st, SP_IO);
    assert_int_equal(err.code, SP_IO);
    assert_string_equal(err.message, "a.dcm: cannot read: 5");
    assert_int_equal(sp_error_set(NULL, SP_FORMAT, "x"), SP_FORMAT);
}

static void control_characters_are_neutralised(void **state)
{
    (void)state;
    sp_error err;
    sp_error_set(&err, SP_FORMAT, "%s", "evil\x1b[2Jname\nline");
    assert_null(strchr(err.message, '\x1b'));
    assert_null(strchr(err.message, '\n'));
    assert_string_equal(err.message, "evil?[2Jname?line");
}

static void long_messages_are_truncated_not_overflowed(void **state)
{
    (void)state;
    char big[4096];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sp_error err;
    sp_error_set(&err, SP_FORMAT, "%s", big);
    assert_int_equal(strlen(err.message), SP_ERROR_MESSAGE_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_name_message_and_band),
        cmocka_unit_test(set_formats_and_returns_code),
        cmocka_unit_test(control_characters_are_neutralised),
        cmocka_unit_test(long_messages_are_truncated_not_overflowed),
    };
    return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
