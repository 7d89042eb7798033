/* Pipeline configs: shipped files validate, every kind of malformed config
 * gives its own error naming file, line, stage and parameter, --set
 * overrides, and the default pipeline follows modality and orientation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stage_harness.h"
#include "test_data.h"

static int setup(void **state)
{
    harness *h = calloc(1, sizeof *h);
    harness_init(h);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    harness_free(*state);
    free(*state);
    return 0;
}

/* Load `config`, expect SP_CONFIG, and every fragment in the message. */
static void expect_error(harness *h, const char *config, ...)
{
    assert_int_equal(harness_load(h, config), SP_CONFIG);
    assert_null(h->pipe);
    assert_non_null(strstr(h->err.message, "pipeline.ini"));
    va_list ap;
    va_start(ap, config);
    for (const char *frag; (frag = va_arg(ap, const char *)) != NULL;)
        if (!strstr(h->err.message, frag))
            fail_msg("error '%s' lacks '%s'", h->err.message, frag);
    va_end(ap);
}

static void unknown_stage(void **state)
{
    expect_error(*state, "[window]\n\n[nosuch]\n", "pipeline.ini:3:",
                 "unknown stage 'nosuch'", NULL);
}

static void unknown_parameter(void **state)
{
    expect_error(*state, "[window]\npreset = bone\nbogus = 1\n[png]\n",
                 "pipeline.ini:3:", "stage 'window'",
                 "unknown parameter 'bogus'", NULL);
}

static void value_out_of_range(void **state)
{
    expect_error(*state, "[window]\npreset = explicit\nwidth = 0.5\n",
                 "pipeline.ini:3:", "stage 'window', parameter 'width'",
                 "0.5 is out of range [1, 200000] HU", NULL);
    expect_error(*state, "[window]\n[png]\nmax_size = 9000\n",
                 "pipeline.ini:3:", "stage 'png', parameter 'max_size'",
                 "out of range [16, 8192]", NULL);
}

static void wrong_types(void **state)
{
    expect_error(*state, "[window]\ncenter = forty\n", "pipeline.ini:2:",
                 "parameter 'center' (float)", "'forty' is not a number",
                 NULL);
    expect_error(*state, "[window]\n[png]\nmax_size = 12.5\n",
                 "pipeline.ini:3:", "parameter 'max_size' (int)",
                 "'12.5' is not an integer", NULL);
    expect_error(*state, "[window]\n[png]\naxial = maybe\n",
                 "pipeline.ini:3:", "parameter 'axial' (bool)",
                 "not a boolean", NULL);
    expect_error(*state, "[window]\npreset = lung\n", "pipeline.ini:2:",
                 "parameter 'preset' (enum)",
                 "'lung' is not one of: auto, bone, spine", NULL);
}

static void artifact_not_provided_earlier(void **state)
{
    expect_error(*state, "[png]\n[window]\n", "pipeline.ini:1:",
                 "stage 'png' requires artifact 'view.u8'",
                 "no earlier stage provides", "available: volume.hu", NULL);
    /* An artifact named by a parameter is checked the same way. */
    expect_error(*state, "[window]\ninput = volume.denoised\n",
                 "pipeline.ini:1:",
                 "stage 'window' parameter 'input' names artifact "
                 "'volume.denoised'",
                 "no earlier stage provides", NULL);
}

static void structural_errors(void **state)
{
    expect_error(*state, "[window]\n[window]\n", "pipeline.ini:2:",
                 "stage 'window' appears twice (first on line 1)", NULL);
    expect_error(*state, "[window]\nthis line is not ini\n",
                 "pipeline.ini:2:", "syntax error", NULL);
    expect_error(*state, "preset = bone\n[window]\n", "pipeline.ini:1:",
                 "before any [section]", NULL);
    expect_error(*state, "[window]\npreset = bone\npreset = soft\n",
                 "pipeline.ini:3:", "parameter 'preset': set twice "
                 "(first on line 2)", NULL);
    expect_error(*state, "; nothing\n[pipeline]\nname = x\n",
                 "the pipeline has no stages", NULL);
    expect_error(*state, "[pipeline]\ncolour = red\n[window]\n",
                 "pipeline.ini:2:", "[pipeline]: unknown key 'colour'", NULL);
    char longline[400];
    memset(longline, 'x', sizeof longline);
    memcpy(longline, "[window]\ncenter = ", 18);
    strcpy(longline + sizeof longline - 3, "\n");
    expect_error(*state, longline, "pipeline.ini:2:", "line is longer",
                 NULL);
}

static void good_config_and_overrides(void **state)
{
    harness *h = *state;
    assert_int_equal(harness_load(h, "[pipeline]\nname = t\n"
                                     "[window]\npreset = explicit\n"
                                     "center = -200\nwidth = 1500\n"
                                     "[png]\naxial = no\n"),
                     SP_OK);
    json_t *j = sp_pipeline_json(h->pipe);
    json_t *w = json_object_get(json_array_get(json_object_get(j, "stages"),
                                               0),
                                "parameters");
    assert_string_equal(json_string_value(json_object_get(w, "preset")),
                        "explicit");
    assert_true(json_real_value(json_object_get(w, "center")) == -200.0);
    assert_true(json_real_value(json_object_get(w, "width")) == 1500.0);
    json_t *p = json_object_get(json_array_get(json_object_get(j, "stages"),
                                               1),
                                "parameters");
    assert_false(json_boolean_value(json_object_get(p, "axial")));
    assert_true(json_boolean_value(json_object_get(p, "sagittal")));
    json_decref(j);

    char path[4200];
    snprintf(path, sizeof path, "%s/pipeline.ini", h->dir);
    sp_pipeline *pl;
    const char *ok[] = {"window.width=99", "png.planes=all"};
    assert_int_equal(sp_pipeline_load(path, h->reg, ok, 2, &pl, &h->err),
                     SP_OK);
    j = sp_pipeline_json(pl);
    w = json_object_get(json_array_get(json_object_get(j, "stages"), 0),
                        "parameters");
    assert_true(json_real_value(json_object_get(w, "width")) == 99.0);
    json_decref(j);
    sp_pipeline_free(pl);

    static const struct {
        const char *set, *frag;
    } bad[] = {
        {"window.width=0", "--set window.width=0: stage 'window', parameter "
                           "'width' (float): 0 is out of range"},
        {"window.nope=1", "unknown parameter 'nope'"},
        {"lung.level=1", "stage 'lung' is not in pipeline"},
        {"window=3", "expected STAGE.PARAM=VALUE"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sp_pipeline_load(path, h->reg, &bad[i].set, 1, &pl,
                                          &h->err),
                         SP_CONFIG);
        if (!strstr(h->err.message, bad[i].frag))
            fail_msg("'%s' gave '%s'", bad[i].set, h->err.message);
    }
}

static void shipped_pipelines_validate(void **state)
{
    harness *h = *state;
    const char *files[] = {"config/ct-lumbar.ini", "config/mr-lumbar-t2.ini",
                           "config/mr-spine.ini"};
    for (size_t i = 0; i < 3; i++) {
        char *path = test_source_path(files[i]);
        sp_pipeline *p;
        if (sp_pipeline_load(path, h->reg, NULL, 0, &p, &h->err) != SP_OK)
            fail_msg("%s", h->err.message);
        assert_true(p->n_stages >= 2);
        sp_pipeline_free(p);
        free(path);
    }
}

static void default_pipeline_by_modality_and_orientation(void **state)
{
    (void)state;
    static const struct {
        const char *modality, *orientation, *file;
    } cases[] = {
        {"CT", "axial", "/ct-lumbar.ini"},
        {"CT", "sagittal", "/ct-lumbar.ini"},
        {"MR", "sagittal", "/mr-lumbar-t2.ini"},
        {"MR", "axial", "/mr-spine.ini"},
    };
    char path[4096];
    sp_error err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(sp_pipeline_choose_default(cases[i].modality,
                                                    cases[i].orientation,
                                                    path, sizeof path, &err),
                         SP_OK);
        size_t n = strlen(path), m = strlen(cases[i].file);
        assert_true(n > m);
        assert_string_equal(path + n - m, cases[i].file);
    }
    assert_int_equal(sp_pipeline_choose_default("US", "axial", path,
                                                sizeof path, &err),
                     SP_CONFIG);
    assert_non_null(strstr(err.message, "modality 'US'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(unknown_stage, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_parameter, setup, teardown),
        cmocka_unit_test_setup_teardown(value_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(artifact_not_provided_earlier, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(structural_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(good_config_and_overrides, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(shipped_pipelines_validate, setup,
                                        teardown),
        cmocka_unit_test(default_pipeline_by_modality_and_orientation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
