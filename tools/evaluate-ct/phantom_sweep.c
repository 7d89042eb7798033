/* Phantom grid against the CT pipeline (see phantom_sweep.h). */
#define _XOPEN_SOURCE 700
#include "phantom_sweep.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>
#include <jansson.h>

#include "engine/engine.h"
#include "phantom/phantom.h"
#include "plane_dump.h"
#include "spinepipe/dicom.h"

#define FOV_MM 192.0      /* the whole phantom torso width across the spine */
#define COVER_MM 290.0    /* head-feet: T12 to S1 is about 230 mm of arc;
                             the phantom's own cover (8 mm beyond) lets the
                             tilted S1 touch the last slice, which reads as
                             a column cut by the field of view */
#define MATCH_MM 12.0     /* a reported disc this near the true one */
#define HERNIATION_LEVEL "L4-L5"

struct sweep_env {
    sp_registry *reg;
    sp_pipeline *pipe;
    double ap_rel, ap_abs, area_rel, area_abs, disp_min, bulge_extent;
    const char *dump_dir; /* measuring planes written here, or NULL */
    int dump_case;
};

/* The output stages are not needed to compare numbers and cost most of
 * the time; the analysis sections are copied as shipped. */
static int output_section(const char *line)
{
    return !strncmp(line, "[png]", 5) || !strncmp(line, "[nifti]", 7) ||
           !strncmp(line, "[tiff]", 6);
}

static sp_status trim_config(const char *src, const char *dst, sp_error *err)
{
    FILE *in = fopen(src, "r");
    if (!in)
        return sp_error_set(err, SP_IO, "evaluate-ct: cannot read %s", src);
    FILE *out = fopen(dst, "w");
    if (!out) {
        fclose(in);
        return sp_error_set(err, SP_IO, "evaluate-ct: cannot write %s", dst);
    }
    char line[1024];
    int skip = 0;
    while (fgets(line, sizeof line, in)) {
        if (line[0] == '[')
            skip = output_section(line);
        if (!skip)
            fputs(line, out);
    }
    fclose(in);
    return fclose(out) == 0
               ? SP_OK
               : sp_error_set(err, SP_IO, "evaluate-ct: cannot write %s", dst);
}

static int threshold_handler(void *user, const char *section,
                             const char *name, const char *value)
{
    sweep_env *e = user;
    if (strcmp(section, "findings"))
        return 1;
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {{"ct_ap_relative", offsetof(sweep_env, ap_rel)},
                {"ct_ap_absolute", offsetof(sweep_env, ap_abs)},
                {"area_relative", offsetof(sweep_env, area_rel)},
                {"area_absolute", offsetof(sweep_env, area_abs)},
                {"displacement_min", offsetof(sweep_env, disp_min)},
                {"bulge_extent", offsetof(sweep_env, bulge_extent)}};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (!strcmp(name, keys[k].key))
            *(double *)((char *)e + keys[k].off) = atof(value);
    return 1;
}

static const char *temp_base(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

sp_status sweep_env_new(const char *config_path, sweep_env **out,
                        sp_error *err)
{
    sweep_env *e = calloc(1, sizeof *e);
    if (!e)
        return sp_error_set(err, SP_NOMEM, "evaluate-ct: out of memory");
    if (ini_parse(config_path, threshold_handler, e) != 0 || e->ap_abs <= 0 ||
        e->ap_rel <= 0 || e->area_abs <= 0 || e->area_rel <= 0 ||
        e->disp_min <= 0) {
        free(e);
        return sp_error_set(err, SP_CONFIG,
                            "evaluate-ct: %s: [findings] needs ct_ap_relative, "
                            "ct_ap_absolute, area_relative, area_absolute and "
                            "displacement_min", config_path);
    }
    char dir[4096], ini[4200];
    snprintf(dir, sizeof dir, "%s/evaluate-ct-XXXXXX", temp_base());
    sp_status st = SP_OK;
    if (!mkdtemp(dir))
        st = sp_error_set(err, SP_IO, "evaluate-ct: cannot make a folder "
                          "in %s", temp_base());
    snprintf(ini, sizeof ini, "%s/ct-analysis.ini", dir);
    if (st == SP_OK)
        st = trim_config(config_path, ini, err);
    if (st == SP_OK)
        st = sp_registry_new(&e->reg, err);
    if (st == SP_OK)
        st = sp_registry_load_default(e->reg, err);
    if (st == SP_OK)
        st = sp_pipeline_load(ini, e->reg, NULL, 0,
                              &e->pipe, err);
    remove_tree(dir);
    if (st != SP_OK) {
        sweep_env_free(e);
        return st;
    }
    *out = e;
    return SP_OK;
}

void sweep_env_set_dump(sweep_env *e, const char *dir, int case_no)
{
    e->dump_dir = dir;
    e->dump_case = case_no;
}

void sweep_env_free(sweep_env *e)
{
    if (!e)
        return;
    sp_pipeline_free(e->pipe);
    sp_registry_free(e->reg);
    free(e);
}

static const char *const sides[] = {"central", "left", "right"};

void sweep_case_describe(const sweep_case *c, char *out, size_t size)
{
    char hern[64] = "no herniation";
    if (c->herniation_mm > 0)
        snprintf(hern, sizeof hern, "%s %.1f mm %s", HERNIATION_LEVEL,
                 c->herniation_mm, sides[c->herniation_side % 3]);
    char tilt[32] = "axial";
    if (c->tilt_deg != 0)
        snprintf(tilt, sizeof tilt, "tilted %+.0f deg", c->tilt_deg);
    snprintf(out, size, "AP %.0f%s%s, %s, slice %.1f, pixel %.2f, noise %.0f, "
             "%s", c->canal_ap_mm, c->stenosis ? " " : "",
             c->stenosis ? c->stenosis : "", hern, c->slice_mm, c->pixel_mm,
             c->noise_sd, tilt);
}

static sp_status phantom_params(const sweep_case *c, sp_phantom_params *p,
                                sp_error *err)
{
    sp_phantom_defaults(p, SP_PHANTOM_CT);
    p->pixel_mm = c->pixel_mm;
    p->matrix = (size_t)lround(FOV_MM / c->pixel_mm);
    p->slice_mm = c->slice_mm;
    p->slices = (size_t)ceil(COVER_MM / c->slice_mm);
    p->noise_sd = c->noise_sd;
    p->canal_ap_default_mm = c->canal_ap_mm;
    if (c->tilt_deg != 0) {
        p->plane = SP_PHANTOM_OBLIQUE;
        p->tilt_deg = c->tilt_deg;
    }
    if (c->stenosis) {
        char name[16];
        double mm;
        if (sscanf(c->stenosis, "%15[^=]=%lf", name, &mm) != 2 ||
            sp_phantom_level_index(name) < 0)
            return sp_error_set(err, SP_USAGE, "evaluate-ct: stenosis '%s': "
                                "expected LEVEL=MM", c->stenosis);
        p->canal_ap_mm[sp_phantom_level_index(name)] = mm;
    }
    if (c->herniation_mm > 0) {
        int l = sp_phantom_level_index(HERNIATION_LEVEL);
        p->herniation_mm[l] = c->herniation_mm;
        p->herniation_side[l] = c->herniation_side == 1   ? SP_PHANTOM_LEFT
                                : c->herniation_side == 2 ? SP_PHANTOM_RIGHT
                                                          : SP_PHANTOM_CENTRAL;
    }
    return sp_phantom_validate(p, err);
}

static double num(const json_t *o, const char *key)
{
    const json_t *j = json_object_get(o, key);
    return json_is_number(j) ? json_number_value(j) : NAN;
}

static double dist(const json_t *a, const json_t *b)
{
    if (json_array_size(a) != 3 || json_array_size(b) != 3)
        return INFINITY;
    double s = 0;
    for (size_t d = 0; d < 3; d++) {
        double x = json_number_value(json_array_get(a, d)) -
                   json_number_value(json_array_get(b, d));
        s += x * x;
    }
    return sqrt(s);
}

static const char *grade(double v, double rel, double abs)
{
    return v < abs ? "absolute" : v < rel ? "relative" : "normal";
}

/* The severity of the finding `code` at a reported level; "missing" when
 * the level carries no such finding. */
static const char *severity(const json_t *lv, const char *code)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(lv, "findings"), i, f)
        if (!strcmp(json_string_value(json_object_get(f, "code")), code)) {
            const char *s = json_string_value(json_object_get(f, "severity"));
            if (!strcmp(s, "absolute"))
                return "absolute";
            if (!strcmp(s, "relative"))
                return "relative";
            if (!strcmp(s, "normal"))
                return "normal";
            return "abnormal";
        }
    return "missing";
}

static const char *disc_class(const json_t *lv)
{
    if (strcmp(severity(lv, "disc_herniation"), "missing") != 0)
        return "herniation";
    const char *b = severity(lv, "disc_bulge");
    if (strcmp(b, "missing") && strcmp(b, "normal"))
        return "bulge";
    const char *d = severity(lv, "disc_displacement");
    if (strcmp(d, "missing") && strcmp(d, "normal"))
        return "undetermined";
    return "none";
}

static void compare(const sweep_env *e, const sp_phantom_params *p,
                    const json_t *truth, const json_t *report,
                    sweep_result *res)
{
    const json_t *tl = json_object_get(truth, "levels");
    const json_t *rl = json_object_get(report, "levels");
    for (size_t i = 0; i < json_array_size(tl) && res->n < 6; i++) {
        const json_t *t = json_array_get(tl, i);
        sweep_level *l = &res->level[res->n++];
        memset(l, 0, sizeof *l);
        snprintf(l->name, sizeof l->name, "%s",
                 json_string_value(json_object_get(t, "level")));
        l->ap_true = num(t, "canal_ap_mm");
        l->area_true = num(t, "canal_area_mm2");
        l->disp_true = num(t, "posterior_displacement_mm");
        l->ap = l->area = l->disp = NAN;
        l->plane_tilt_deg = l->plane_height_mm = NAN;
        l->ap_want = grade(l->ap_true, e->ap_rel, e->ap_abs);
        l->area_want = grade(l->area_true, e->area_rel, e->area_abs);
        l->disc_want = l->disp_true >= e->disp_min ? "herniation" : "none";
        l->ap_got = l->area_got = l->disc_got = "missing";
        const json_t *best = NULL;
        double best_d = MATCH_MM;
        size_t k;
        const json_t *lv;
        json_array_foreach(rl, k, lv) {
            double d = dist(json_object_get(t, "disc_centre_mm"),
                            json_object_get(lv, "disc_centroid_mm"));
            if (d < best_d)
                best_d = d, best = lv;
        }
        if (!best)
            continue;
        l->found = 1;
        l->named_right = !strcmp(
            json_string_value(json_object_get(best, "level")), l->name);
        l->ap = num(best, "canal_ap_mm");
        l->area = num(best, "canal_area_mm2");
        l->disp = num(best, "posterior_displacement_mm");
        l->ap_got = severity(best, "canal_ap_stenosis");
        l->area_got = severity(best, "canal_area_stenosis");
        l->disc_got = disc_class(best);
        plane_axis pa;
        if (plane_on_axis(p, best, &pa)) {
            l->plane_tilt_deg =
                atan(hypot(pa.ds_lat, pa.ds_ant)) * 180 / M_PI;
            l->plane_height_mm = pa.s - 0.5 * (pa.disc_lo + pa.disc_hi);
        }
    }
}

/* Scan `dicom` (one series), run the pipeline with its outputs in `out`
 * (made here) and load out/report.json. */
static sp_status run_series(sweep_env *env, const char *dicom,
                            const char *out, json_t **report,
                            sp_volume *keep, sp_error *err)
{
    sp_dicom_scan *scan = NULL;
    sp_volume vol = {0};
    sp_store *store = NULL;
    json_t *run = NULL;
    char path[4200];
    sp_status st = sp_dicom_scan_path(dicom, NULL, &scan, err);
    if (st == SP_OK && scan->n_series != 1)
        st = sp_error_set(err, SP_FORMAT, "evaluate-ct: %s: %zu series, "
                          "expected 1", dicom, scan->n_series);
    if (st == SP_OK)
        st = sp_dicom_load_series(&scan->series[0], NULL, &vol, err);
    if (st == SP_OK && mkdir(out, 0700) != 0)
        st = sp_error_set(err, SP_IO, "evaluate-ct: cannot make %s", out);
    /* the run takes the volume over: a copy to look at afterwards */
    if (st == SP_OK && keep &&
        (st = sp_volume_alloc_like(keep, &vol, vol.type, err)) == SP_OK)
        memcpy(keep->data, vol.data,
               sp_volume_count(&vol) * sp_voxel_size(vol.type));
    if (st == SP_OK)
        st = sp_pipeline_run(env->pipe, &vol, &scan->series[0].header, out,
                             NULL, &store, &run, err);
    if (st == SP_OK) {
        json_error_t je;
        snprintf(path, sizeof path, "%s/report.json", out);
        *report = json_load_file(path, 0, &je);
        if (!*report)
            st = sp_error_set(err, SP_FORMAT, "evaluate-ct: %s: %s", path,
                              je.text);
    }
    json_decref(run);
    sp_store_free(store);
    sp_volume_free(&vol);
    sp_dicom_scan_free(scan);
    return st;
}

/* A temporary folder of our own under temp_base(), or an error. */
static sp_status temp_folder(char *dir, size_t size, sp_error *err)
{
    snprintf(dir, size, "%s/evaluate-ct-XXXXXX", temp_base());
    if (!mkdtemp(dir))
        return sp_error_set(err, SP_IO, "evaluate-ct: cannot make a folder "
                            "in %s", temp_base());
    return SP_OK;
}

sp_status sweep_report(sweep_env *env, const char *dicom, json_t **report,
                       sp_error *err)
{
    char dir[4096], out[4200];
    *report = NULL;
    sp_status st = temp_folder(dir, sizeof dir, err);
    if (st != SP_OK)
        return st;
    snprintf(out, sizeof out, "%s/out", dir);
    st = run_series(env, dicom, out, report, NULL, err);
    remove_tree(dir);
    return st;
}

sp_status sweep_run(sweep_env *env, const sweep_case *c, sweep_result *res,
                    sp_error *err)
{
    memset(res, 0, sizeof *res);
    sp_phantom_params p;
    sp_status st = phantom_params(c, &p, err);
    if (st != SP_OK)
        return st;
    char dir[4096], path[4200], out[4200];
    st = temp_folder(dir, sizeof dir, err);
    if (st != SP_OK)
        return st;
    json_t *truth = NULL, *report = NULL;
    json_error_t je;
    st = sp_phantom_write(&p, dir, err);
    snprintf(path, sizeof path, "%s/dicom", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    sp_volume vol = {0};
    if (st == SP_OK)
        st = run_series(env, path, out, &report,
                        env->dump_dir ? &vol : NULL, err);
    if (st == SP_OK) {
        snprintf(path, sizeof path, "%s/truth.json", dir);
        truth = json_load_file(path, 0, &je);
        if (!truth)
            st = sp_error_set(err, SP_FORMAT, "evaluate-ct: %s: %s", path,
                              je.text);
    }
    if (st == SP_OK) {
        const json_t *why = json_object_get(report, "not_analysable");
        if (json_is_string(why))
            snprintf(res->why, sizeof res->why, "not analysable: %s",
                     json_string_value(why));
        compare(env, &p, truth, report, res);
    }
    size_t i;
    const json_t *lv;
    if (env->dump_dir)
        json_array_foreach(json_object_get(report, "levels"), i, lv) {
            if (st != SP_OK)
                break;
            snprintf(path, sizeof path, "%s/case%d_%s.png", env->dump_dir,
                     env->dump_case,
                     json_string_value(json_object_get(lv, "level")));
            st = plane_dump(&p, &vol, lv, path, err);
        }
    sp_volume_free(&vol);
    json_decref(truth), json_decref(report);
    remove_tree(dir);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void median_worst(double *v, size_t n, double *median, double *worst)
{
    if (n == 0) {
        *median = *worst = NAN;
        return;
    }
    qsort(v, n, sizeof *v, cmp_double);
    *median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    *worst = v[n - 1];
}

void sweep_summarise(const sweep_result *r, size_t n, sweep_summary *s)
{
    memset(s, 0, sizeof *s);
    size_t cap = 6 * (n ? n : 1), na = 0, nr = 0, nd = 0;
    double *ap = malloc(cap * sizeof *ap), *ar = malloc(cap * sizeof *ar);
    double *dp = malloc(cap * sizeof *dp);
    if (!ap || !ar || !dp) {
        free(ap), free(ar), free(dp);
        return;
    }
    for (size_t c = 0; c < n; c++) {
        if (r[c].why[0] || r[c].n == 0)
            s->failed_cases++;
        for (size_t i = 0; i < r[c].n; i++) {
            const sweep_level *l = &r[c].level[i];
            s->levels++;
            s->found += l->found;
            s->named_right += l->named_right;
            s->flags += 3;
            s->flags_right += !strcmp(l->ap_want, l->ap_got) +
                              !strcmp(l->area_want, l->area_got) +
                              !strcmp(l->disc_want, l->disc_got);
            if (!l->found)
                continue;
            ap[na++] = isnan(l->ap) ? INFINITY : fabs(l->ap - l->ap_true);
            ar[nr++] = isnan(l->area)
                           ? INFINITY
                           : 100 * fabs(l->area / l->area_true - 1);
            if (l->disp_true > 0)
                dp[nd++] = isnan(l->disp) ? INFINITY
                                          : fabs(l->disp - l->disp_true);
            if (!isnan(l->plane_tilt_deg)) {
                s->tilt_worst_deg = fmax(s->tilt_worst_deg, l->plane_tilt_deg);
                s->height_worst_mm =
                    fmax(s->height_worst_mm, fabs(l->plane_height_mm));
            }
        }
    }
    median_worst(ap, na, &s->ap_median, &s->ap_worst);
    median_worst(ar, nr, &s->area_median, &s->area_worst);
    median_worst(dp, nd, &s->disp_median, &s->disp_worst);
    free(ap), free(ar), free(dp);
}

/* The grid: the canal AP range at 2 mm slices, a narrowed level at 1 and
 * 3 mm slices, herniations of 1 (under the flag threshold) to 8 mm on
 * each side, low and high noise, finer pixels, and tilted acquisitions.
 * The quick grid (the test) takes one case of each kind that matters. */
static const sweep_case full_grid[] = {
    {6, NULL, 0, 0, 2, 1, 15, 0},
    {8, NULL, 0, 0, 2, 1, 15, 0},
    {9, NULL, 0, 0, 2, 1, 15, 0},
    {11, NULL, 0, 0, 2, 1, 15, 0},
    {13, NULL, 0, 0, 2, 1, 15, 0},
    {16, NULL, 0, 0, 2, 1, 15, 0},
    {20, NULL, 0, 0, 2, 1, 15, 0},
    {15, "L2-L3=9", 0, 0, 1, 1, 15, 0},
    {15, "L2-L3=9", 0, 0, 3, 1, 15, 0},
    {15, NULL, 1, 0, 2, 1, 15, 0},
    {15, NULL, 3, 0, 2, 1, 15, 0},
    {15, NULL, 5, 1, 2, 1, 15, 0},
    {15, NULL, 8, 2, 2, 1, 15, 0},
    {15, "L5-S1=11", 5, 0, 3, 1.5, 15, 0},
    {13, NULL, 3, 1, 2, 1, 5, 0},
    {13, NULL, 3, 2, 2, 1, 40, 0},
    {14, "L2-L3=8", 5, 1, 2, 0.75, 15, 0},
    {15, "L2-L3=9", 5, 1, 2, 1, 15, 5},
    {11, NULL, 8, 0, 2, 1, 15, -8},
    {18, "L3-L4=7", 3, 2, 3, 1, 25, 10},
};

static const sweep_case quick_grid[] = {
    {15, "L2-L3=8", 5, 1, 3, 1.5, 15, 0},
    {11, NULL, 3, 0, 1, 1, 30, 0},
    {15, "L3-L4=9", 8, 2, 2, 1, 15, 6},
};

const sweep_case *sweep_grid(int quick, size_t *n)
{
    *n = quick ? sizeof quick_grid / sizeof quick_grid[0]
               : sizeof full_grid / sizeof full_grid[0];
    return quick ? quick_grid : full_grid;
}

static const char *flag_cell(const char *want, const char *got, char *buf,
                             size_t size)
{
    if (!strcmp(want, got))
        snprintf(buf, size, "%s", want);
    else
        snprintf(buf, size, "%s/%s!", want, got);
    return buf;
}

void sweep_print(FILE *f, const char *prefix, const sweep_result *r)
{
    if (r->why[0])
        fprintf(f, "%s%s\n", prefix, r->why);
    fprintf(f, "%slevel   name AP true/meas (err)   area true/meas (err %%)  "
            "displ. true/meas  flags AP | area | disc (want/got!)\n", prefix);
    for (size_t i = 0; i < r->n; i++) {
        const sweep_level *l = &r->level[i];
        if (!l->found) {
            fprintf(f, "%s%-7s NOT FOUND\n", prefix, l->name);
            continue;
        }
        char a[48], b[48], d[48];
        fprintf(f, "%s%-7s %-4s %5.2f/%5.2f (%+5.2f)  %5.0f/%5.0f (%+5.1f)     "
                "%4.1f/%4.1f       %s | %s | %s\n", prefix, l->name,
                l->named_right ? "ok" : "NO", l->ap_true, l->ap,
                l->ap - l->ap_true, l->area_true, l->area,
                100 * (l->area / l->area_true - 1), l->disp_true, l->disp,
                flag_cell(l->ap_want, l->ap_got, a, sizeof a),
                flag_cell(l->area_want, l->area_got, b, sizeof b),
                flag_cell(l->disc_want, l->disc_got, d, sizeof d));
    }
}

void sweep_print_summary(FILE *f, const char *prefix, const sweep_summary *s)
{
    fprintf(f, "%s%zu levels: %zu found, %zu named right; %zu case(s) not "
            "analysed\n", prefix, s->levels, s->found, s->named_right,
            s->failed_cases);
    fprintf(f, "%scanal AP error: median %.2f mm, worst %.2f mm (target "
            "0.5 / 1)\n", prefix, s->ap_median, s->ap_worst);
    fprintf(f, "%scanal area error: median %.1f %%, worst %.1f %% (target "
            "10)\n", prefix, s->area_median, s->area_worst);
    fprintf(f, "%sherniation displacement error: median %.2f mm, worst "
            "%.2f mm\n", prefix, s->disp_median, s->disp_worst);
    fprintf(f, "%sflags right: %zu of %zu (AP, area and disc per level; "
            "target all)\n", prefix, s->flags_right, s->flags);
    fprintf(f, "%smeasuring planes on the phantom's axis: tilt worst %.1f "
            "deg, canal centre worst %.1f mm from the disc's middle\n",
            prefix, s->tilt_worst_deg, s->height_worst_mm);
}
