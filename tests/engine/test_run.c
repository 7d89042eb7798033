/* `spinepipe run` end to end on the real series in ../shared/data/spine:
 * every series goes through window + png, every PNG pixel equals the
 * window formula applied to the voxel it shows, run.json is the completion
 * marker (rerun skips, --force reruns, an interrupted series reruns), and
 * the exit code says all ok / some failed / nothing could run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/batch.h"
#include "spinepipe/dicom.h"
#include "stage_harness.h"
#include "test_data.h"

typedef struct fixture {
    char *data;   /* ../shared/data/spine */
    char *tmp;
    char out[4096];
    char log[4096];
    sp_dicom_scan *scan;
} fixture;

static int setup_in(void **state, char *data, size_t n_series)
{
    fixture *f = calloc(1, sizeof *f);
    f->data = data;
    f->tmp = test_make_temp_dir();
    snprintf(f->out, sizeof f->out, "%s/out", f->tmp);
    snprintf(f->log, sizeof f->log, "%s/stderr.txt", f->tmp);
    sp_error err;
    assert_int_equal(sp_dicom_init(&err), SP_OK);
    if (sp_dicom_scan_path(f->data, NULL, &f->scan, &err) != SP_OK)
        fail_msg("%s", err.message);
    assert_int_equal(f->scan->n_series, n_series);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_in(state, test_data_path("spine"), 6);
}

/* The phantom series shipped in sample_dicom/ (CT axial, MR T2 sagittal). */
static int setup_sample(void **state)
{
    return setup_in(state, test_source_path("sample_dicom"), 2);
}

static int teardown(void **state)
{
    fixture *f = *state;
    sp_dicom_scan_free(f->scan);
    sp_dicom_cleanup();
    test_remove_tree(f->tmp);
    free(f->tmp);
    free(f->data);
    free(f);
    return 0;
}

/* Run the CLI with `args`; stderr goes to f->log. Returns the exit code. */
static int run_cli(fixture *f, const char *args)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' run %s 2>'%s'", SPINEPIPE_EXE, args,
             f->log);
    int rc = system(cmd);
    assert_true(WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

static char *read_log(fixture *f)
{
    FILE *fp = fopen(f->log, "r");
    assert_non_null(fp);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void expect_log(fixture *f, const char *fragment)
{
    const char *log = read_log(f);
    if (!strstr(log, fragment))
        fail_msg("stderr lacks '%s':\n%s", fragment, log);
}

static void series_dir(fixture *f, const sp_dicom_series *s, char *dir,
                       size_t size)
{
    char study[80], series[96];
    sp_series_dir_names(s, 0, study, sizeof study, series, sizeof series);
    int n = snprintf(dir, size, "%s/%s/%s", f->out, study, series);
    assert_true(n > 0 && (size_t)n < size);
}

static json_t *load_run_json(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        fail_msg("%s: %s", path, je.text);
    return j;
}

static void no_temporaries_left(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") &&
            strcmp(e->d_name, ".."))
            fail_msg("temporary file left behind: %s/%s", dir, e->d_name);
    closedir(d);
}

static void every_series_through_window_and_png(void **state)
{
    fixture *f = *state;
    char args[8192];
    snprintf(args, sizeof args,
             "'%s' -o '%s' --jobs 3 --set png.interpolation=nearest",
             f->data, f->out);
    assert_int_equal(run_cli(f, args), 0);
    char summary[128];
    snprintf(summary, sizeof summary, "%zu series: %zu ok, 0 failed, 0 "
             "already done", f->scan->n_series, f->scan->n_series);
    expect_log(f, summary);
    size_t total_checked = 0;
    for (size_t i = 0; i < f->scan->n_series; i++) {
        const sp_dicom_series *s = &f->scan->series[i];
        char dir[4096];
        series_dir(f, s, dir, sizeof dir);
        json_t *run = load_run_json(dir);
        assert_string_equal(json_string_value(json_object_get(run, "status")),
                            "ok");
        const char *pipe = json_string_value(json_object_get(run,
                                                             "pipeline"));
        sp_orientation o = sp_orientation_from_axes(s->orientation,
                                                    s->orientation + 3);
        const char *want = strcmp(s->header.modality, "CT") == 0
                               ? "/ct-lumbar.ini"
                           : o == SP_ORIENT_SAGITTAL ? "/mr-lumbar-t2.ini"
                                                     : "/mr-spine.ini";
        assert_non_null(strstr(pipe, want));
        json_decref(run);
        no_temporaries_left(dir);

        sp_volume hu;
        sp_error err;
        assert_int_equal(sp_dicom_load_series(s, NULL, &hu, &err), SP_OK);
        const char *planes[] = {"axial", "sagittal", "coronal"};
        for (int p = 0; p < 3; p++) {
            char path[4200];
            snprintf(path, sizeof path, "%s/%s.png", dir, planes[p]);
            harness_png png;
            harness_png_read(path, &png);
            double c, w;
            const char *win = harness_png_text(&png, "spinepipe:window");
            assert_non_null(win);
            assert_int_equal(sscanf(win, "center=%lf width=%lf", &c, &w), 2);
            if (strcmp(s->header.modality, "CT") == 0)
                assert_true(c == 50 && w == 400); /* spine preset */
            assert_string_equal(harness_png_text(&png, "spinepipe:modality"),
                                s->header.modality);
            assert_string_equal(harness_png_text(&png, "spinepipe:plane"),
                                planes[p]);
            /* the default min_size makes the longer side >= 256 pixels */
            assert_true((png.width > png.height ? png.width : png.height) >=
                        256);
            size_t checked = harness_png_check_window(&png, &hu, c, w);
            assert_true(checked > (size_t)png.width * png.height / 4);
            total_checked += checked;
            harness_png_free(&png);
        }
        sp_volume_free(&hu);
    }
    print_message("# %zu PNG pixels checked against the window formula\n",
                  total_checked);
}

static void rerun_skips_force_reruns_interrupted_reruns(void **state)
{
    fixture *f = *state;
    char args[8192];
    snprintf(args, sizeof args, "'%s' -o '%s'", f->data, f->out);
    assert_int_equal(run_cli(f, args), 0);
    assert_int_equal(run_cli(f, args), 0);
    expect_log(f, "6 series: 0 ok, 0 failed, 6 already done");
    /* An interrupted series has no run.json: only it runs again. */
    char dir[4096], marker[4200];
    series_dir(f, &f->scan->series[2], dir, sizeof dir);
    snprintf(marker, sizeof marker, "%s/run.json", dir);
    assert_int_equal(unlink(marker), 0);
    assert_int_equal(run_cli(f, args), 0);
    expect_log(f, "6 series: 1 ok, 0 failed, 5 already done");
    snprintf(args, sizeof args, "'%s' -o '%s' --force -j 2", f->data,
             f->out);
    assert_int_equal(run_cli(f, args), 0);
    expect_log(f, "6 series: 6 ok, 0 failed, 0 already done");
}

static void exit_codes_all_some_nothing(void **state)
{
    fixture *f = *state;
    char args[8192];
    /* The MR series have no VOI window in their headers: they fail, the
     * CT series still run. */
    snprintf(args, sizeof args, "'%s' -o '%s' --set window.preset=header",
             f->data, f->out);
    assert_int_equal(run_cli(f, args), 3);
    expect_log(f, "6 series: 2 ok, 4 failed");
    expect_log(f, "no usable VOI window");
    for (size_t i = 0; i < f->scan->n_series; i++) {
        const sp_dicom_series *s = &f->scan->series[i];
        char dir[4096];
        series_dir(f, s, dir, sizeof dir);
        json_t *run = load_run_json(dir);
        int ct = strcmp(s->header.modality, "CT") == 0;
        assert_string_equal(json_string_value(json_object_get(run, "status")),
                            ct ? "ok" : "failed");
        json_decref(run);
    }
    /* a missing input beside a good one: some failed */
    snprintf(args, sizeof args, "'%s/ct-lumbar-l2-l4-crop' '%s/nope' -o '%s'"
             " --force", f->data, f->tmp, f->out);
    assert_int_equal(run_cli(f, args), 3);
    expect_log(f, "1 series: 1 ok, 1 failed");
    /* nothing could run */
    snprintf(args, sizeof args, "'%s/nope' -o '%s'", f->tmp, f->out);
    assert_int_equal(run_cli(f, args), 66);
    /* an invalid pipeline stops everything before it starts */
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%s/bad.ini", f->tmp);
    FILE *fp = fopen(cfg, "w");
    fputs("[window]\npreset = bone\n[png]\nplanes = some\n", fp);
    fclose(fp);
    snprintf(args, sizeof args, "'%s' -o '%s/other' --config '%s'", f->data,
             f->tmp, cfg);
    assert_int_equal(run_cli(f, args), 78);
    expect_log(f, "bad.ini:4: stage 'png', parameter 'planes' (enum): "
                  "'some' is not one of: mid, all");
    struct stat st;
    char other[4200];
    snprintf(other, sizeof other, "%s/other", f->tmp);
    assert_int_not_equal(stat(other, &st), 0);
    snprintf(args, sizeof args, "'%s' -o '%s' --set window.level=3", f->data,
             f->out);
    assert_int_equal(run_cli(f, args), 78);
    expect_log(f, "unknown parameter 'level'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_series_through_window_and_png,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(every_series_through_window_and_png,
                                        setup_sample, teardown),
        cmocka_unit_test_setup_teardown(
            rerun_skips_force_reruns_interrupted_reruns, setup, teardown),
        cmocka_unit_test_setup_teardown(exit_codes_all_some_nothing, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
