/* The stage loader: built-in stages load from the build tree like plugins,
 * modules for another ABI major or a newer minor are refused with a
 * message saying which, and the engine calls destroy whenever init ran. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stage_harness.h"

static void builtin_stages_load_like_plugins(void **state)
{
    (void)state;
    harness h;
    harness_init(&h);
    const sp_stage_module *w = sp_registry_find(h.reg, "window");
    const sp_stage_module *p = sp_registry_find(h.reg, "png");
    assert_non_null(w);
    assert_non_null(p);
    assert_non_null(w->handle); /* came through dlopen */
    assert_non_null(strstr(w->path, "/stages/window/window.so"));
    assert_int_equal(w->desc->abi_major, SP_STAGE_ABI_MAJOR);
    json_t *j = sp_stage_json(w);
    json_t *params = json_object_get(j, "parameters");
    assert_int_equal(json_array_size(params), w->desc->n_params);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(params, 0), "name")),
        w->desc->params[0].name);
    json_decref(j);
    harness_free(&h);
}

static void expect_refused(const char *file, const char *fragment)
{
    sp_registry *reg;
    sp_error err;
    assert_int_equal(sp_registry_new(&reg, &err), SP_OK);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", TEST_PLUGIN_DIR, file);
    assert_int_equal(sp_registry_load_module(reg, path, &err), SP_PLUGIN);
    if (!strstr(err.message, fragment))
        fail_msg("%s: '%s' lacks '%s'", file, err.message, fragment);
    assert_non_null(strstr(err.message, file));
    assert_int_equal(reg->n_modules, 0);
    sp_registry_free(reg);
}

static void abi_mismatch_is_refused_with_reason(void **state)
{
    (void)state;
    char msg[128];
    snprintf(msg, sizeof msg,
             "built for stage ABI %d.%d, but this spinepipe supports ABI "
             "major %d only",
             SP_STAGE_ABI_MAJOR + 1, SP_STAGE_ABI_MINOR, SP_STAGE_ABI_MAJOR);
    expect_refused("abi_major.so", msg);
    snprintf(msg, sizeof msg,
             "built for stage ABI %d.%d, newer than this spinepipe's %d.%d",
             SP_STAGE_ABI_MAJOR, SP_STAGE_ABI_MINOR + 1, SP_STAGE_ABI_MAJOR,
             SP_STAGE_ABI_MINOR);
    expect_refused("abi_minor.so", msg);
    expect_refused("not_a_stage.so", "not a spinepipe stage");
    expect_refused("no_such_file.so", "cannot load");
}

static void refused_modules_are_named_in_config_errors(void **state)
{
    (void)state;
    harness h;
    harness_init(&h);
    assert_int_equal(sp_registry_load_dir(h.reg, TEST_PLUGIN_DIR, 0, &h.err),
                     SP_OK);
    assert_non_null(sp_registry_find(h.reg, "abi_variant")); /* abi_ok.so */
    assert_non_null(sp_registry_find(h.reg, "lifecycle"));
    assert_int_equal(h.reg->n_refused, 3);
    assert_int_equal(harness_load(&h, "[abi_major]\n"), SP_CONFIG);
    assert_non_null(strstr(h.err.message, "pipeline.ini:1: stage "
                                          "'abi_major' could not be loaded"));
    assert_non_null(strstr(h.err.message, "built for stage ABI"));
    harness_free(&h);
}

typedef void (*counts_fn)(int counts[4]);

static void run_lifecycle(harness *h, const char *config, sp_status expect,
                          const char *fragment, const int want[4])
{
    assert_int_equal(harness_load(h, config), SP_OK);
    sp_volume v;
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 4, 4, 4, &h->err),
                     SP_OK);
    sp_status st = harness_run(h, &v, NULL);
    assert_null(v.data); /* moved into the store */
    assert_int_equal(st, expect);
    if (fragment && !strstr(h->err.message, fragment))
        fail_msg("'%s' lacks '%s'", h->err.message, fragment);
    const sp_stage_module *m = sp_registry_find(h->reg, "lifecycle");
    counts_fn counts;
    void *sym = dlsym(m->handle, "lifecycle_counts");
    assert_non_null(sym);
    memcpy(&counts, &sym, sizeof counts);
    int got[4];
    counts(got);
    assert_memory_equal(got, want, sizeof got);
    json_t *row = json_array_get(json_object_get(h->report, "stages"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "status")),
                        expect == SP_OK ? "ok" : "failed");
}

static void destroy_runs_even_when_init_fails(void **state)
{
    (void)state;
    harness h;
    harness_init(&h);
    char path[4096];
    snprintf(path, sizeof path, "%s/lifecycle.so", TEST_PLUGIN_DIR);
    assert_int_equal(sp_registry_load_module(h.reg, path, &h.err), SP_OK);

    /* init, process, destroy (with the state init made) */
    run_lifecycle(&h, "[lifecycle]\n", SP_OK, NULL, (int[]){1, 1, 1, 1});
    assert_non_null(sp_store_table(h.store, "test.lifecycle"));
    /* init fails after allocating: no process, destroy frees the state */
    run_lifecycle(&h, "[lifecycle]\nfail_init = true\n", SP_STAGE,
                  "stage 'lifecycle': init failed on purpose",
                  (int[]){1, 0, 1, 1});
    /* process fails: destroy still runs */
    run_lifecycle(&h, "[lifecycle]\nfail_process = yes\n", SP_STAGE,
                  "process failed on purpose", (int[]){1, 1, 1, 1});
    /* a stage that does not deliver what it declares fails */
    run_lifecycle(&h, "[lifecycle]\nskip_provide = 1\n", SP_STAGE,
                  "without providing artifact 'test.lifecycle'",
                  (int[]){1, 1, 1, 1});
    harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_stages_load_like_plugins),
        cmocka_unit_test(abi_mismatch_is_refused_with_reason),
        cmocka_unit_test(refused_modules_are_named_in_config_errors),
        cmocka_unit_test(destroy_runs_even_when_init_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
