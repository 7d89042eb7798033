/* evaluate-ct: run the CT analysis kernels on the shared real series and
 * print what they get right against the reference segmentations. The
 * accuracy numbers in docs/accuracy.md come from this command:
 *
 *   build/tools/evaluate-ct/evaluate-ct [--data DIR] [--png DIR] [--bench]
 *                                       [--nifti DIR] [--config FILE]
 *   build/tools/evaluate-ct/evaluate-ct --phantom-sweep [--quick]
 *                                       [--case N]
 *                                       [--config FILE] [--dump DIR]
 *
 * --data: the shared data folder (default: ../shared/data beside the
 * source tree, as the tests use); --png: write a mid-sagittal picture of
 * each labelled series there; --nifti: write each series' label map
 * (and the abdomen's body/disc map) there, to compare with the reference
 * slice by slice; --bench: also time the whole chain on the
 * abdomen series resampled to 512x512x400; --config: the pipeline whose
 * report is printed for the abdomen. --phantom-sweep instead runs
 * the CT pipeline (config/ct-lumbar.ini, or --config) on a grid of
 * phantoms and compares every level with the truth (phantom_sweep.h);
 * --dump writes each level's measuring plane against the phantom's truth
 * there (plane_dump.h).
 * Exit status 0 when every series ran (analysable or cleanly refused),
 * 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis_tools.h"
#include "ct_chain.h"
#include "output/output.h"
#include "phantom_sweep.h"
#include "spinepipe/dicom.h"
#include "spinepipe/labels.h"

static int read_labels(const char *data, const char *rel, sp_volume *v)
{
    char *p = sp_path_joined(data, rel);
    sp_error err;
    int ok = p && sp_nifti_read(p, 1, v, &err) == SP_OK;
    if (!ok)
        fprintf(stderr, "evaluate-ct: %s\n", p ? err.message : "no memory");
    free(p);
    return ok;
}

static void print_measures(const ct_chain *ch)
{
    const measure_result *r = &ch->measures;
    printf("  vertebra  complete  height ant/mid/post (mm)   centroid LPS (mm)\n");
    for (size_t v = 0; v < r->n_vert; v++) {
        const measure_vertebra *mv = &r->vert[v];
        const char *name = sp_label_vertebra_name(mv->label);
        printf("  %-8s  %-8s  %5.1f / %5.1f / %5.1f     (%.0f, %.0f, %.0f)\n",
               name ? name : "?", mv->complete ? "yes" : "no",
               mv->height_anterior_mm, mv->height_middle_mm,
               mv->height_posterior_mm, mv->centroid_lps[0],
               mv->centroid_lps[1], mv->centroid_lps[2]);
    }
    /* The kernels' value: the canal mask's front at the mid-line. The
     * stage measures the disc margin in the image and reports the larger
     * focal run (report.json); the phantom sweep checks that one. */
    printf("  level     disc h (mm)  DHI    canal AP (mm)  canal area (mm2)"
           "  mask displ. (mm)\n");
    for (size_t l = 0; l < r->n_levels; l++) {
        const measure_level *ml = &r->level[l];
        printf("  %-8s  %6.1f       ", ml->name[0] ? ml->name : "?",
               ml->disc_height_mm);
        /* no index without both neighbouring bodies complete */
        if (ml->disc_height_index > 0)
            printf("%4.2f   ", ml->disc_height_index);
        else
            printf("   -   ");
        if (ml->canal_found)
            printf("%6.1f         %6.0f            %5.1f\n", ml->canal_ap_mm,
                   ml->canal_area_mm2, ml->posterior_displacement_mm);
        else
            printf("  (no canal found)\n");
    }
}

static void write_png(const char *png_dir, const char *name,
                      const sp_volume *ct, const ct_chain *ch)
{
    if (!png_dir || ch->model.curve.n == 0)
        return;
    char file[512];
    snprintf(file, sizeof file, "%s/%s.png", png_dir, name);
    const double *mid = ch->model.curve.p[ch->model.curve.n / 2];
    size_t i = (size_t)lround(mid[0] / (ct->spacing[0] * ch->factor[0]) *
                              ch->factor[0]);
    if (i >= ct->dim[0])
        i = ct->dim[0] / 2;
    sp_error err;
    if (analysis_debug_png(ct, &ch->labels, i, 400, 1800, file, &err) ==
        SP_OK)
        printf("  picture: %s\n", file);
}

static void write_nifti(const char *dir, const char *name,
                        const sp_volume *v)
{
    if (!dir || !v->data)
        return;
    char file[512];
    snprintf(file, sizeof file, "%s/%s.nii.gz", dir, name);
    sp_error err;
    if (sp_nifti_write(v, file, &err) == SP_OK)
        printf("  label map: %s\n", file);
    else
        fprintf(stderr, "evaluate-ct: %s\n", err.message);
}

/* What `spinepipe run` with `config` reports for the series in `rel`:
 * the stages' report.json, level by level (the kernels' table above
 * lacks what the stages add, such as the disc margin found in the image). */
static void print_reported(const char *data, const char *rel,
                           const char *config, int *pass)
{
    sp_error err;
    sweep_env *env = NULL;
    json_t *report = NULL;
    char *dir = sp_path_joined(data, rel);
    sp_status st = dir ? sp_dicom_init(&err) : SP_NOMEM;
    int inited = st == SP_OK;
    if (st == SP_OK)
        st = sweep_env_new(config, &env, &err);
    if (st == SP_OK)
        st = sweep_report(env, dir, &report, &err);
    free(dir);
    if (st != SP_OK) {
        printf("  stages FAILED: %s\n", st == SP_NOMEM ? "no memory"
                                                       : err.message);
        *pass = 0;
    } else {
        printf("  reported by the stages (report.json, %s):\n"
               "  level     canal AP (mm)  area (mm2)  post. displ. (mm)"
               "  flagged\n", config);
        size_t i;
        const json_t *lv;
        json_array_foreach(json_object_get(report, "levels"), i, lv) {
            printf("  %-8s  %8.1f      %6.0f        %5.1f           ",
                   json_string_value(json_object_get(lv, "level")),
                   json_number_value(json_object_get(lv, "canal_ap_mm")),
                   json_number_value(json_object_get(lv, "canal_area_mm2")),
                   json_number_value(
                       json_object_get(lv, "posterior_displacement_mm")));
            size_t k, n = 0;
            const json_t *f;
            json_array_foreach(json_object_get(lv, "findings"), k, f) {
                const char *sev =
                    json_string_value(json_object_get(f, "severity"));
                if (sev && strcmp(sev, "normal") != 0)
                    printf("%s%s (%s)", n++ ? ", " : "",
                           json_string_value(json_object_get(f, "code")),
                           sev);
            }
            printf("%s\n", n ? "" : "none");
        }
    }
    json_decref(report);
    sweep_env_free(env);
    if (inited)
        sp_dicom_cleanup();
}

/* Abdomen T11-S1: naming, per-vertebra Dice by name, body/disc Dice. */
static int eval_abdomen(const char *data, const char *png,
                        const char *nifti, const char *config, int *pass)
{
    printf("\n== ct-abdomen-t11-s1 (122x101x112, 3 mm) ==\n");
    char *dir = sp_path_joined(data, "spine/ct-abdomen-t11-s1/dicom");
    sp_volume ct = {0}, ts = {0}, vb = {0};
    sp_error err;
    ct_chain ch;
    memset(&ch, 0, sizeof ch);
    level_params_default(&ch.levels);
    ch.want_body = 1;
    int ok = dir && analysis_load_series(dir, &ct, &err) == SP_OK &&
             read_labels(data, "spine/ct-abdomen-t11-s1/labels/totalseg.nii.gz",
                         &ts) &&
             read_labels(data,
                         "spine/ct-abdomen-t11-s1/labels/"
                         "totalseg_vertebrae_body.nii.gz",
                         &vb);
    free(dir);
    if (!ok || ct_chain_run(&ct, &ch, &err) != SP_OK) {
        printf("  FAILED: %s\n", err.message);
        *pass = 0;
        goto out;
    }
    printf("  labelling: %s (%s)\n", ch.model.label_note,
           ch.model.labels_confident ? "confident" : "uncertain");
    /* totalseg value for each of our labels */
    static const struct {
        const char *name;
        int ours, ref;
    } map[] = {{"T11", 18, 33}, {"T12", 19, 32}, {"L1", 20, 31},
               {"L2", 21, 30},  {"L3", 22, 29},  {"L4", 23, 28},
               {"L5", 24, 27},  {"S1", 26, 26}};
    printf("  vertebra  found  Dice vs totalseg\n");
    for (size_t t = 0; t < sizeof map / sizeof map[0]; t++) {
        int found = 0;
        for (size_t v = 0; v < ch.model.n_vert; v++)
            found |= ch.model.vert[v].label == map[t].ours;
        double d = analysis_dice_labels(&ch.labels, map[t].ours, &ts,
                                        map[t].ref);
        printf("  %-8s  %-5s  %.3f\n", map[t].name, found ? "yes" : "NO",
               d < 0 ? 0 : d);
    }
    printf("  vertebral body Dice vs totalseg_vertebrae_body: %.3f, disc "
           "Dice: %.3f\n",
           analysis_dice_labels(&ch.body, 1, &vb, 1),
           analysis_dice_labels(&ch.body, 2, &vb, 2));
    print_measures(&ch);
    printf("  CPU time: %.2f s (working grid factor %dx%dx%d)\n", ch.seconds[5],
           ch.factor[0], ch.factor[1], ch.factor[2]);
    print_reported(data, "spine/ct-abdomen-t11-s1/dicom", config, pass);
    write_png(png, "ct-abdomen-t11-s1", &ct, &ch);
    write_nifti(nifti, "ct-abdomen-t11-s1-labels", &ch.labels);
    write_nifti(nifti, "ct-abdomen-t11-s1-body", &ch.body);
out:
    ct_chain_free(&ch);
    sp_volume_free(&ct), sp_volume_free(&ts), sp_volume_free(&vb);
    return ok;
}

/* L2-L4 crop: no naming cue; Dice of the pieces, then named by override. */
static int eval_crop(const char *data, const char *png, const char *nifti,
                     int *pass)
{
    printf("\n== ct-lumbar-l2-l4-crop (73x73x47, 1.5 mm) ==\n");
    char *dir = sp_path_joined(data, "spine/ct-lumbar-l2-l4-crop/dicom");
    sp_volume ct = {0}, ref = {0};
    sp_error err;
    int ok = dir && analysis_load_series(dir, &ct, &err) == SP_OK &&
             read_labels(data,
                         "spine/ct-lumbar-l2-l4-crop/labels/"
                         "sub-ct_seg-vert_label-22_msk.nii.gz",
                         &ref);
    free(dir);
    for (int pass_no = 0; ok && pass_no < 2; pass_no++) {
        ct_chain ch;
        memset(&ch, 0, sizeof ch);
        level_params_default(&ch.levels);
        if (pass_no == 1)
            strcpy(ch.levels.lowest, "L4");
        if (ct_chain_run(&ct, &ch, &err) != SP_OK) {
            printf("  FAILED: %s\n", err.message);
            *pass = 0;
            ct_chain_free(&ch);
            break;
        }
        printf("  %s labelling: %s (%s)\n",
               pass_no ? "with lowest=L4:" : "automatic:",
               ch.model.label_note,
               ch.model.labels_confident ? "confident" : "uncertain");
        if (pass_no == 0) {
            printf("  pieces found: %zu\n", ch.model.n_vert);
        } else {
            printf("  vertebra  Dice vs seg-vert\n");
            for (int l = 21; l <= 23; l++)
                printf("  %-8s  %.3f\n", sp_label_vertebra_name(l),
                       analysis_dice_labels(&ch.labels, l, &ref, l));
            print_measures(&ch);
            write_png(png, "ct-lumbar-l2-l4-crop", &ct, &ch);
            write_nifti(nifti, "ct-lumbar-l2-l4-crop-labels", &ch.labels);
        }
        ct_chain_free(&ch);
    }
    sp_volume_free(&ct), sp_volume_free(&ref);
    return ok;
}

/* Inputs that must be refused with a reason. */
static void eval_refusals(const char *data, int *pass)
{
    printf("\n== inputs that are not analysable ==\n");
    sp_error err;
    sp_volume ct = {0};
    char *dir = sp_path_joined(data, "conformance/ct-head-phantom-512/dicom");
    if (dir && analysis_load_series(dir, &ct, &err) == SP_OK) {
        ct_chain ch;
        memset(&ch, 0, sizeof ch);
        level_params_default(&ch.levels);
        sp_status st = ct_chain_run(&ct, &ch, &err);
        printf("  head phantom: %s\n",
               st == SP_NOTANALYSABLE ? err.message : "ANALYSED (wrong)");
        *pass &= st == SP_NOTANALYSABLE;
        ct_chain_free(&ch);
        sp_volume_free(&ct);
    }
    free(dir);
    /* the abdomen cut to 8 slices (24 mm), and the crop cut to the middle
       of L3 only (one vertebra, no disc) */
    static const struct {
        const char *what, *rel;
        size_t k0, nk;
    } cuts[] = {
        {"abdomen, 8 slices", "spine/ct-abdomen-t11-s1/dicom", 60, 8},
        {"crop, L3 body only", "spine/ct-lumbar-l2-l4-crop/dicom", 12, 14}};
    for (size_t c = 0; c < 2; c++) {
        dir = sp_path_joined(data, cuts[c].rel);
        if (dir && analysis_load_series(dir, &ct, &err) == SP_OK) {
            sp_volume cut = {0};
            sp_volume_alloc(&cut, SP_VOXEL_F32, ct.dim[0], ct.dim[1],
                            cuts[c].nk, &err);
            size_t plane = ct.dim[0] * ct.dim[1];
            memcpy(cut.data,
                   sp_volume_f32(&ct) + cuts[c].k0 * plane,
                   cuts[c].nk * plane * sizeof(float));
            sp_volume_set_geometry(&cut, ct.vox2lps);
            ct_chain ch;
            memset(&ch, 0, sizeof ch);
            level_params_default(&ch.levels);
            sp_status st = ct_chain_run(&cut, &ch, &err);
            printf("  %s: %s\n", cuts[c].what,
                   st == SP_NOTANALYSABLE ? err.message : "ANALYSED (wrong)");
            *pass &= st == SP_NOTANALYSABLE;
            ct_chain_free(&ch);
            sp_volume_free(&cut);
            sp_volume_free(&ct);
        }
        free(dir);
    }
}

/* The abdomen resampled (trilinear) onto 512x512x400 over the same field
 * of view: a full-size real spine series for the time budget. */
static void bench(const char *data)
{
    printf("\n== time on a 512x512x400 series ==\n");
    char *dir = sp_path_joined(data, "spine/ct-abdomen-t11-s1/dicom");
    sp_volume ct = {0}, big = {0};
    sp_error err;
    if (!dir || analysis_load_series(dir, &ct, &err) != SP_OK) {
        free(dir);
        return;
    }
    free(dir);
    size_t nd[3] = {512, 512, 400};
    if (sp_volume_alloc(&big, SP_VOXEL_F32, nd[0], nd[1], nd[2], &err) !=
        SP_OK) {
        sp_volume_free(&ct);
        return;
    }
    double m[4][4];
    memcpy(m, ct.vox2lps, sizeof m);
    double f[3];
    for (int a = 0; a < 3; a++) {
        f[a] = (double)(ct.dim[a] - 1) / (double)(nd[a] - 1);
        for (int r = 0; r < 3; r++)
            m[r][a] = ct.vox2lps[r][a] * f[a];
    }
    sp_volume_set_geometry(&big, m);
    float *out = sp_volume_f32(&big);
    for (size_t k = 0; k < nd[2]; k++)
        for (size_t j = 0; j < nd[1]; j++)
            for (size_t i = 0; i < nd[0]; i++) {
                double g[3] = {(double)i * f[0] * ct.spacing[0],
                               (double)j * f[1] * ct.spacing[1],
                               (double)k * f[2] * ct.spacing[2]};
                out[sp_volume_index(&big, i, j, k)] =
                    (float)spine_sample(&ct, g, -1000);
            }
    ct_chain ch;
    memset(&ch, 0, sizeof ch);
    level_params_default(&ch.levels);
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    sp_status st = ct_chain_run(&big, &ch, &err);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    double wall = (double)(w1.tv_sec - w0.tv_sec) +
                  1e-9 * (double)(w1.tv_nsec - w0.tv_nsec);
    printf("  %s; %zu vertebrae; CPU %.2f s (reduce+bone %.2f, vertebrae "
           "%.2f, levels %.2f, labels+canal %.2f, measure+expand %.2f); "
           "wall %.2f s on this (shared) machine\n",
           st == SP_OK ? "analysed" : err.message, ch.model.n_vert,
           ch.seconds[5], ch.seconds[0], ch.seconds[1], ch.seconds[2],
           ch.seconds[3], ch.seconds[4], wall);
    ct_chain_free(&ch);
    sp_volume_free(&big), sp_volume_free(&ct);
}

static int phantom_sweep(const char *config, int quick, long only,
                         const char *dump)
{
    sp_error err;
    sweep_env *env = NULL;
    if (sp_dicom_init(&err) != SP_OK ||
        sweep_env_new(config, &env, &err) != SP_OK) {
        fprintf(stderr, "evaluate-ct: %s\n", err.message);
        return 1;
    }
    size_t n;
    const sweep_case *cases = sweep_grid(quick, &n);
    sweep_result *res = calloc(n, sizeof *res);
    int ok = res != NULL;
    if (only > 0 && (size_t)only <= n) {
        cases += only - 1;
        n = 1;
    }
    for (size_t c = 0; ok && c < n; c++) {
        char what[256];
        sweep_case_describe(&cases[c], what, sizeof what);
        printf("\n== phantom %zu of %zu: %s ==\n", c + 1, n, what);
        fflush(stdout);
        sweep_env_set_dump(env, dump, only > 0 ? (int)only : (int)c + 1);
        if (sweep_run(env, &cases[c], &res[c], &err) != SP_OK) {
            printf("  FAILED: %s\n", err.message);
            snprintf(res[c].why, sizeof res[c].why, "failed");
            ok = 0;
            continue;
        }
        sweep_print(stdout, "  ", &res[c]);
    }
    if (res) {
        sweep_summary s;
        sweep_summarise(res, n, &s);
        printf("\n== summary over %zu phantoms ==\n", n);
        sweep_print_summary(stdout, "  ", &s);
    }
    free(res);
    sweep_env_free(env);
    sp_dicom_cleanup();
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *data = NULL, *png = NULL, *nifti = NULL, *dump = NULL;
    const char *config = SPINEPIPE_SOURCE_ROOT "/config/ct-lumbar.ini";
    int do_bench = 0, sweep = 0, quick = 0;
    long only = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--data") && a + 1 < argc)
            data = argv[++a];
        else if (!strcmp(argv[a], "--png") && a + 1 < argc)
            png = argv[++a];
        else if (!strcmp(argv[a], "--nifti") && a + 1 < argc)
            nifti = argv[++a];
        else if (!strcmp(argv[a], "--bench"))
            do_bench = 1;
        else if (!strcmp(argv[a], "--phantom-sweep"))
            sweep = 1;
        else if (!strcmp(argv[a], "--quick"))
            quick = 1;
        else if (!strcmp(argv[a], "--case") && a + 1 < argc)
            only = strtol(argv[++a], NULL, 10);
        else if (!strcmp(argv[a], "--config") && a + 1 < argc)
            config = argv[++a];
        else if (!strcmp(argv[a], "--dump") && a + 1 < argc)
            dump = argv[++a];
        else if (!strcmp(argv[a], "--help")) {
            printf("usage: evaluate-ct [--data DIR] [--png DIR] [--bench] "
                   "[--nifti DIR] [--config FILE]\n"
                   "       evaluate-ct --phantom-sweep [--quick] "
                   "[--case N] [--config FILE] [--dump DIR]\n");
            return 0;
        } else {
            fprintf(stderr, "evaluate-ct: unknown argument (see --help)\n");
            return 64;
        }
    }
    if (sweep)
        return phantom_sweep(config, quick, only, dump);
    if (!data)
        data = SPINEPIPE_DEFAULT_DATA;
    int pass = 1;
    eval_abdomen(data, png, nifti, config, &pass);
    eval_crop(data, png, nifti, &pass);
    eval_refusals(data, &pass);
    if (do_bench)
        bench(data);
    return pass ? 0 : 1;
}
