/* The quick phantom grid of `evaluate-ct --phantom-sweep --quick` through
 * the CT pipeline: a narrowed level at 3 mm slices with a left herniation,
 * thin slices with high noise and a central herniation, a tilted
 * acquisition with a right herniation. Issue 5's targets: canal AP error
 * <= 0.5 mm median and <= 1 mm worst, area error <= 10 %, every stenosis
 * and herniation flag right. Bounds below that are looser than a target
 * are what is reached, and docs/accuracy.md says the target is not met. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "phantom_sweep.h"
#include "spinepipe/dicom.h"
#include "test_data.h"

/* The targets, reached on these three phantoms (every flag right,
 * the central herniation included; the area worst 6.5 % since the eighth
 * session, 12.7 % before: docs/accuracy.md). */
#define SWEEP_AP_MEDIAN_MM 0.5
#define SWEEP_AP_WORST_MM 1.0
#define SWEEP_AREA_WORST_PCT 10.0
#define SWEEP_DISP_WORST_MM 1.5
#define SWEEP_FLAGS_WRONG 0
/* Each level's measuring plane against the phantom's axis: reached 1.5
 * degrees and 0.8 mm since the ninth session turned the canal's planes to
 * the chords between the bodies' centres (canal_frames.c); before, the
 * fitted curve tilted the L5-S1 plane by 15-18 degrees (cases 1, 14 and
 * 19 of the full sweep). */
#define SWEEP_TILT_WORST_DEG 5.0
#define SWEEP_HEIGHT_WORST_MM 2.0

/* The sweep's environment on the shipped CT pipeline. */
static sweep_env *open_env(void)
{
    sp_error err;
    char *config = test_source_path("config/ct-lumbar.ini");
    sweep_env *env;
    if (sweep_env_new(config, &env, &err) != SP_OK)
        fail_msg("%s: %s", config, err.message);
    free(config);
    return env;
}

static void quick_grid_within_tolerances(void **state)
{
    (void)state;
    sp_error err;
    sweep_env *env = open_env();
    size_t n;
    const sweep_case *cases = sweep_grid(1, &n);
    sweep_result *res = calloc(n, sizeof *res);
    assert_non_null(res);
    for (size_t c = 0; c < n; c++) {
        char what[256];
        sweep_case_describe(&cases[c], what, sizeof what);
        printf("# %s\n", what);
        if (sweep_run(env, &cases[c], &res[c], &err) != SP_OK)
            fail_msg("%s: %s", what, err.message);
        sweep_print(stdout, "# ", &res[c]);
        assert_string_equal(res[c].why, "");
        assert_int_equal(res[c].n, 6);
    }
    sweep_summary s;
    sweep_summarise(res, n, &s);
    sweep_print_summary(stdout, "# ", &s);
    assert_int_equal(s.found, s.levels);
    assert_int_equal(s.named_right, s.levels);
    assert_true(s.ap_median <= SWEEP_AP_MEDIAN_MM);
    assert_true(s.ap_worst <= SWEEP_AP_WORST_MM);
    assert_true(s.area_worst <= SWEEP_AREA_WORST_PCT);
    assert_true(s.disp_worst <= SWEEP_DISP_WORST_MM);
    assert_true(s.flags_right >= s.flags - SWEEP_FLAGS_WRONG);
    assert_true(s.tilt_worst_deg <= SWEEP_TILT_WORST_DEG);
    assert_true(s.height_worst_mm <= SWEEP_HEIGHT_WORST_MM);
    free(res);
    sweep_env_free(env);
}

/* The full sweep's case 19: an 8 mm central herniation in an 11 mm canal
 * leaves a 3 mm crescent round the dome, traced as a union of stars
 * (canal_edges.c). Its L4-L5 area read +18.0 % until the tenth session
 * (vantage points on the dome's blur, rays up its flanks), +3.7 % since. */
#define CRESCENT_AREA_PCT 10.0

static void crescent_round_a_central_herniation(void **state)
{
    (void)state;
    sp_error err;
    sweep_env *env = open_env();
    const sweep_case crescent = {11, NULL, 8, 0, 2, 1, 15, -8};
    sweep_result res;
    if (sweep_run(env, &crescent, &res, &err) != SP_OK)
        fail_msg("%s", err.message);
    sweep_print(stdout, "# ", &res);
    assert_string_equal(res.why, "");
    int seen = 0;
    for (size_t l = 0; l < res.n; l++) {
        const sweep_level *lv = &res.level[l];
        if (strcmp(lv->name, "L4-L5") != 0)
            continue;
        seen = 1;
        assert_true(lv->found);
        assert_true(fabs(lv->area / lv->area_true - 1) * 100 <=
                    CRESCENT_AREA_PCT);
        assert_true(fabs(lv->ap - lv->ap_true) <= SWEEP_AP_WORST_MM);
        assert_string_equal(lv->ap_got, lv->ap_want);
        assert_string_equal(lv->area_got, lv->area_want);
        assert_string_equal(lv->disc_got, lv->disc_want);
    }
    assert_true(seen);
    sweep_env_free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quick_grid_within_tolerances),
        cmocka_unit_test(crescent_round_a_central_herniation),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
