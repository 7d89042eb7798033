#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "spinepipe/labels.h"

static void vertebra_values_follow_the_contract(void **state)
{
    (void)state;
    assert_int_equal(sp_label_vertebra_from_name("C1"), 1);
    assert_int_equal(sp_label_vertebra_from_name("C7"), 7);
    assert_int_equal(sp_label_vertebra_from_name("T1"), 8);
    assert_int_equal(sp_label_vertebra_from_name("T12"), 19);
    assert_int_equal(sp_label_vertebra_from_name("L1"), 20);
    assert_int_equal(sp_label_vertebra_from_name("L5"), 24);
    assert_int_equal(sp_label_vertebra_from_name("L6"), 25);
    assert_int_equal(sp_label_vertebra_from_name("S1"), 26);
    assert_int_equal(sp_label_vertebra_from_name("sacrum"), 26);
    assert_int_equal(sp_label_vertebra_from_name("L7"), 0);
    assert_int_equal(sp_label_vertebra_from_name(NULL), 0);
    assert_string_equal(sp_label_vertebra_name(23), "L4");
    assert_null(sp_label_vertebra_name(0));
    assert_null(sp_label_vertebra_name(27));
}

static void disc_levels_are_named_upper_first(void **state)
{
    (void)state;
    char buf[16];
    assert_int_equal(sp_label_disc_below(23), 123);
    assert_int_equal(sp_label_disc_below(26), 0);
    assert_string_equal(sp_label_disc_level_name(23, 0, buf, sizeof buf),
                        "L4-L5");
    assert_string_equal(sp_label_disc_level_name(24, 0, buf, sizeof buf),
                        "L5-S1");
    assert_string_equal(sp_label_disc_level_name(24, 1, buf, sizeof buf),
                        "L5-L6");
    assert_string_equal(sp_label_disc_level_name(25, 1, buf, sizeof buf),
                        "L6-S1");
    assert_null(sp_label_disc_level_name(25, 0, buf, sizeof buf));
    assert_string_equal(sp_label_disc_level_name(19, 0, buf, sizeof buf),
                        "T12-L1");
    assert_string_equal(sp_label_disc_level_name(7, 0, buf, sizeof buf),
                        "C7-T1");
    assert_string_equal(sp_label_disc_level_name(5, 0, buf, sizeof buf),
                        "C5-C6");
}

static void describe_covers_every_defined_value(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(sp_label_describe(123, buf, sizeof buf),
                        "L4-L5 disc");
    assert_string_equal(sp_label_describe(124, buf, sizeof buf),
                        "L5-S1 disc");
    assert_string_equal(sp_label_describe(201, buf, sizeof buf),
                        "spinal canal");
    assert_string_equal(sp_label_describe(202, buf, sizeof buf),
                        "spinal cord");
    assert_string_equal(sp_label_describe(26, buf, sizeof buf), "S1");
    assert_null(sp_label_describe(126, buf, sizeof buf));
    assert_null(sp_label_describe(150, buf, sizeof buf));
    assert_null(sp_label_describe(0, buf, sizeof buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vertebra_values_follow_the_contract),
        cmocka_unit_test(disc_levels_are_named_upper_first),
        cmocka_unit_test(describe_covers_every_defined_value),
    };
    return cmocka_run_group_tests_name("labels", tests, NULL, NULL);
}
