/* `spinepipe convert` on the real spine series, checked against dcm2niix
 * (same voxels at the same patient positions, same lattice up to axis
 * order and direction) and against the label volumes, which lie on the
 * DICOM grid. argv[1] is the spinepipe executable, argv[2] dcm2niix. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "convert_support.h"
#include "output/output.h"
#include "spinepipe/volume.h"
#include "test_data.h"

static char *spinepipe_exe;
static char *dcm2niix_exe;

typedef struct series_case {
    const char *name; /* folder under ../shared/data with dicom/ */
    const char *label; /* a label file in labels/, or NULL */
    int is_ct;
    int convert_rc; /* 3 where the folder also holds a DICOMDIR */
} series_case;

static const series_case cases[] = {
    {"spine/ct-abdomen-t11-s1", "totalseg.nii.gz", 1, 0},
    {"spine/ct-lumbar-l2-l4-crop", "sub-ct_seg-vert_label-22_msk.nii.gz", 1, 0},
    {"spine/mr-cervical-c5-c7-sag-crop", "sub-mri_seg-vert_label-6_msk.nii.gz",
     0, 0},
    {"spine/mr-lumbar-t2-sag", NULL, 0, 0},
    {"spine/mr-cervical-t2-sag", "t2_seg-manual.nii.gz", 0, 0},
    {"spine/mr-cervical-t2-axial", "sub-unf01_T2w_seg-manual.nii.gz", 0, 0},
    /* Full-size scanner CT: 140 slices of 512x512. */
    {"conformance/ct-head-phantom-512", NULL, 1, 3},
};
#define N_CASES (sizeof cases / sizeof cases[0])
#define N_SPINE_CASES 6

static char *series_dir(const series_case *c, const char *sub)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/%s", c->name, sub);
    return test_data_path(rel);
}

static int run_convert(const char *input, const char *output,
                       const char *log)
{
    char *argv[] = {spinepipe_exe, "convert", (char *)input, "-o",
                    (char *)output, NULL};
    return run_program(argv, log);
}

static void read_or_fail(const char *path, int labels, sp_volume *v)
{
    sp_error err;
    if (sp_nifti_read(path, labels, v, &err) != SP_OK)
        fail_msg("%s", err.message);
}

/* Convert one series with both tools; returns ours and dcm2niix's. */
static void convert_both(const series_case *c, const char *tmp, sp_volume *ours,
                         sp_volume *ref)
{
    char *dicom = series_dir(c, "dicom");
    char *log = sp_path_joined(tmp, "log.txt");
    char *out = sp_path_joined(tmp, "ours.nii.gz");
    char *refdir = sp_path_joined(tmp, "ref");
    assert_int_equal(mkdir(refdir, 0755), 0);
    int rc = run_convert(dicom, out, log);
    if (rc != c->convert_rc)
        fail_msg("spinepipe convert exited %d on %s (see %s)", rc, c->name,
                 log);
    char *argv[] = {dcm2niix_exe, "-z", "y", "-o", refdir, "-f", "ref", dicom,
                    NULL};
    if (run_program(argv, log) != 0)
        fail_msg("dcm2niix failed on %s", c->name);
    char why[256];
    char *ref_path = find_single_file(refdir, "ref", ".nii.gz", why, sizeof why);
    if (!ref_path)
        fail_msg("%s: %s", c->name, why);
    read_or_fail(out, 0, ours);
    read_or_fail(ref_path, 0, ref);
    free(ref_path);
    free(refdir);
    free(out);
    free(log);
    free(dicom);
}

static void same_as_dcm2niix(void **state)
{
    (void)state;
    for (size_t n = 0; n < N_CASES; n++) {
        const series_case *c = &cases[n];
        char *tmp = test_make_temp_dir();
        sp_volume ours, ref;
        convert_both(c, tmp, &ours, &ref);
        char why[256];
        grid_map gm;
        if (!grid_same_lattice(&ours, &ref, 1e-3, 1, &gm, why, sizeof why))
            fail_msg("%s: grid differs from dcm2niix's: %s", c->name, why);
        size_t bad = grid_compare_values(&ours, &ref, 1e-3, 1e-5, why,
                                         sizeof why);
        if (bad)
            fail_msg("%s: %zu voxels differ from dcm2niix, first: %s", c->name,
                     bad, why);
        print_message("%s: %zux%zux%zu, same voxels as dcm2niix; our axes "
                      "i,j,k are its %c%d,%c%d,%c%d\n",
                      c->name, ours.dim[0], ours.dim[1], ours.dim[2],
                      gm.sign[0] > 0 ? '+' : '-', gm.map[0],
                      gm.sign[1] > 0 ? '+' : '-', gm.map[1],
                      gm.sign[2] > 0 ? '+' : '-', gm.map[2]);
        sp_volume_free(&ours);
        sp_volume_free(&ref);
        test_remove_tree(tmp);
        free(tmp);
    }
}

/* Mean image value inside and outside the labelled voxels. */
static void label_contrast(const sp_volume *img, const sp_volume *lab,
                           const grid_map *gm, double *in, double *out)
{
    double sum[2] = {0, 0};
    size_t cnt[2] = {0, 0};
    const float *f = sp_volume_f32(img);
    const uint16_t *u = sp_volume_u16(lab);
    for (size_t k = 0; k < img->dim[2]; k++)
        for (size_t j = 0; j < img->dim[1]; j++)
            for (size_t i = 0; i < img->dim[0]; i++) {
                size_t idx[3] = {i, j, k}, at[3];
                for (int a = 0; a < 3; a++)
                    at[gm->map[a]] = gm->sign[a] > 0
                                         ? idx[a]
                                         : lab->dim[gm->map[a]] - 1 - idx[a];
                int inside = u[sp_volume_index(lab, at[0], at[1], at[2])] != 0;
                sum[inside] += f[sp_volume_index(img, i, j, k)];
                cnt[inside]++;
            }
    assert_true(cnt[0] > 0 && cnt[1] > 0);
    *out = sum[0] / (double)cnt[0];
    *in = sum[1] / (double)cnt[1];
}

static void on_the_label_grid(void **state)
{
    (void)state;
    for (size_t n = 0; n < N_CASES; n++) {
        const series_case *c = &cases[n];
        if (!c->label)
            continue;
        char *tmp = test_make_temp_dir();
        char *dicom = series_dir(c, "dicom");
        char *labels = series_dir(c, "labels");
        char *label_path = sp_path_joined(labels, c->label);
        char *out = sp_path_joined(tmp, "ours.nii.gz");
        char *log = sp_path_joined(tmp, "log.txt");
        if (run_convert(dicom, out, log) != 0)
            fail_msg("spinepipe convert failed on %s", c->name);
        sp_volume img, lab;
        read_or_fail(out, 0, &img);
        read_or_fail(label_path, 1, &lab);
        char why[256];
        grid_map gm;
        if (!grid_same_lattice(&img, &lab, 1e-3, 0, &gm, why, sizeof why))
            fail_msg("%s: not on the label grid: %s", c->name, why);
        /* The loader keeps the stack in instance order when that runs
         * against the normal (dicom.h), which is how these series were
         * written from their volumes: the grids are identical. */
        for (int a = 0; a < 3; a++)
            assert_int_equal(lab.dim[a], img.dim[a]);
        for (int r = 0; r < 4; r++)
            for (int col = 0; col < 4; col++)
                if (fabs(img.vox2lps[r][col] - lab.vox2lps[r][col]) > 1e-3)
                    fail_msg("%s: affine[%d][%d] %.5f, labels %.5f", c->name,
                             r, col, img.vox2lps[r][col], lab.vox2lps[r][col]);
        double in, outside;
        label_contrast(&img, &lab, &gm, &in, &outside);
        print_message("%s: on the label grid; mean value in labels %.1f, "
                      "outside %.1f\n",
                      c->name, in, outside);
        if (c->is_ct && !(in > outside + 200.0))
            fail_msg("%s: labelled bone averages %.1f HU vs %.1f outside: "
                     "labels do not sit on bone",
                     c->name, in, outside);
        sp_volume_free(&img);
        sp_volume_free(&lab);
        free(log);
        free(out);
        free(label_path);
        free(labels);
        free(dicom);
        test_remove_tree(tmp);
        free(tmp);
    }
}

/* Names in `dir`, each checked to be a safe .nii.gz name. */
static size_t safe_niftis_in(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        size_t len = strlen(e->d_name);
        if (len < 8 || strcmp(e->d_name + len - 7, ".nii.gz") != 0)
            fail_msg("unexpected output %s", e->d_name);
        if (e->d_name[0] == '.' || e->d_name[0] == '-' ||
            strspn(e->d_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
                              "UVWXYZ0123456789._-") != len)
            fail_msg("unsafe output name %s", e->d_name);
        char *p = sp_path_joined(dir, e->d_name);
        sp_volume v;
        read_or_fail(p, 0, &v);
        sp_volume_free(&v);
        free(p);
        n++;
    }
    closedir(d);
    return n;
}

/* The whole spine folder: six series, one file each, named from series
 * number and description. The folder also holds NIfTI labels and notes,
 * which are skipped: a partial run (3). */
static void several_series_to_a_folder(void **state)
{
    (void)state;
    char *tmp = test_make_temp_dir();
    char *spine = test_data_path("spine");
    char *outdir = sp_path_joined(tmp, "all");
    char *log = sp_path_joined(tmp, "log.txt");
    int rc = run_convert(spine, outdir, log);
    if (rc != 3)
        fail_msg("convert of the spine folder exited %d (see %s)", rc, log);
    assert_int_equal(safe_niftis_in(outdir), N_SPINE_CASES);
    /* SeriesNumber is empty and the description is
     * "TotalSegmentator example_ct (3mm) via plastimatch". */
    char *expected =
        sp_path_joined(outdir, "0_TotalSegmentator_example_ct_3mm_via_plastimatch.nii.gz");
    struct stat st;
    assert_int_equal(stat(expected, &st), 0);
    /* A single-file output cannot hold several series. */
    char *one = sp_path_joined(tmp, "one.nii.gz");
    assert_int_equal(run_convert(spine, one, log), 64);
    assert_int_not_equal(stat(one, &st), 0);
    free(one);
    free(expected);
    free(log);
    free(outdir);
    free(spine);
    test_remove_tree(tmp);
    free(tmp);
}

static int log_contains(const char *log, const char *needle)
{
    FILE *fp = fopen(log, "r");
    assert_non_null(fp);
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, fp))
        found = strstr(line, needle) != NULL;
    fclose(fp);
    return found;
}

/* A series whose fifth slice file lost its last 2000 bytes: the file is
 * skipped and named, the rest is still written, the exit code is 3. */
static void truncated_slice_is_partial(void **state)
{
    (void)state;
    char *tmp = test_make_temp_dir();
    char *in = sp_path_joined(tmp, "in");
    assert_int_equal(mkdir(in, 0755), 0);
    char *dicom = test_data_path("spine/mr-cervical-t2-axial/dicom");
    DIR *d = opendir(dicom);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    char broken[512] = "";
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *from = sp_path_joined(dicom, e->d_name), *to = sp_path_joined(in, e->d_name);
        int cut = strncmp(e->d_name, "image0004_", 10) == 0;
        if (cut)
            snprintf(broken, sizeof broken, "%s", to);
        test_copy_file(from, to, cut ? 2000 : 0);
        free(from);
        free(to);
        n++;
    }
    closedir(d);
    assert_int_equal(n, 16);
    assert_true(broken[0]);
    char *out = sp_path_joined(tmp, "out.nii.gz");
    char *log = sp_path_joined(tmp, "log.txt");
    assert_int_equal(run_convert(in, out, log), 3);
    assert_true(log_contains(log, broken));
    sp_volume v;
    read_or_fail(out, 0, &v);
    assert_int_equal(v.dim[2], 15);
    sp_volume_free(&v);
    free(log);
    free(out);
    free(dicom);
    free(in);
    test_remove_tree(tmp);
    free(tmp);
}

static void exit_codes(void **state)
{
    (void)state;
    char *tmp = test_make_temp_dir();
    char *log = sp_path_joined(tmp, "log.txt");
    char *help[] = {spinepipe_exe, "convert", "--help", NULL};
    assert_int_equal(run_program(help, log), 0);
    char *bare[] = {spinepipe_exe, "convert", NULL};
    assert_int_equal(run_program(bare, log), 64);
    char *noout[] = {spinepipe_exe, "convert", tmp, NULL};
    assert_int_equal(run_program(noout, log), 64);
    char *bogus[] = {spinepipe_exe, "convert", "--bogus", tmp, NULL};
    assert_int_equal(run_program(bogus, log), 64);
    char *missing = sp_path_joined(tmp, "no-such-folder");
    char *out = sp_path_joined(tmp, "x.nii.gz");
    assert_int_equal(run_convert(missing, out, log), 66);
    /* A folder without DICOM images (only NIfTI labels). */
    char *labels = test_data_path("spine/ct-abdomen-t11-s1/labels");
    assert_int_equal(run_convert(labels, out, log), 65);
    char *dicom = test_data_path("spine/ct-lumbar-l2-l4-crop/dicom");
    char *unwritable = sp_path_joined(tmp, "no/such/dir/x.nii.gz");
    assert_int_equal(run_convert(dicom, unwritable, log), 73);
    free(unwritable);
    free(dicom);
    free(labels);
    free(out);
    free(missing);
    free(log);
    test_remove_tree(tmp);
    free(tmp);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SPINEPIPE DCM2NIIX\n", argv[0]);
        return 1;
    }
    spinepipe_exe = argv[1];
    dcm2niix_exe = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_dcm2niix),
        cmocka_unit_test(on_the_label_grid),
        cmocka_unit_test(several_series_to_a_folder),
        cmocka_unit_test(truncated_slice_is_partial),
        cmocka_unit_test(exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
