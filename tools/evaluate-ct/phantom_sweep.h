/* The CT pipeline against a grid of phantoms (issue 5: canal AP 6-20 mm,
 * herniations 0-8 mm, slice thickness 1-3 mm, noise, tilted acquisition).
 * Each case is written as DICOM by the phantom generator, read back,
 * run through the analysis stages of config/ct-lumbar.ini (the output
 * stages png, nifti and tiff left out) and its report compared level by
 * level with the phantom's analytic truth. The expected flags come from
 * the true values and the [findings] thresholds of the same config. */
#ifndef SPINEPIPE_PHANTOM_SWEEP_H
#define SPINEPIPE_PHANTOM_SWEEP_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "spinepipe/error.h"

typedef struct sweep_case {
    double canal_ap_mm;    /* every level */
    const char *stenosis;  /* "L2-L3=7": one level narrower, or NULL */
    double herniation_mm;  /* at L4-L5; 0: none */
    int herniation_side;   /* 0 central, 1 left, 2 right */
    double slice_mm;
    double pixel_mm;
    double noise_sd;
    double tilt_deg;       /* 0: axial; otherwise oblique */
} sweep_case;

/* One truth level against what the pipeline reported there. */
typedef struct sweep_level {
    char name[16];          /* truth name */
    int found;              /* a reported level within reach of the disc */
    int named_right;        /* reported under the truth name */
    double ap_true, ap;     /* canal AP, mm */
    double area_true, area; /* canal area, mm2 */
    double disp_true, disp; /* posterior displacement, mm */
    const char *ap_want, *ap_got;     /* "normal", "relative", "absolute" */
    const char *area_want, *area_got;
    const char *disc_want, *disc_got; /* "none", "herniation", "bulge",
                                         "undetermined" */
    /* the measuring plane against the phantom's axis (NAN without one):
       its tilt in degrees and the traced canal centre's height above the
       disc's middle along the axis (mm) */
    double plane_tilt_deg, plane_height_mm;
} sweep_level;

typedef struct sweep_result {
    char why[256];          /* not analysable / failure reason, or "" */
    size_t n;
    sweep_level level[6];
} sweep_result;

typedef struct sweep_env sweep_env;

/* Load the stages and the config (path to ct-lumbar.ini). The levels are
 * named by label_levels from the anatomy, as on a patient (the phantom's
 * sacrum is found by its alae; it has no ribs, so the naming is marked
 * uncertain). */
sp_status sweep_env_new(const char *config_path, sweep_env **env,
                        sp_error *err);
void sweep_env_free(sweep_env *env);

/* Have sweep_run write each level's measuring plane into `dir` as
 * case<case_no>_<level>.png (plane_dump.h); NULL: none. */
void sweep_env_set_dump(sweep_env *env, const char *dir, int case_no);

/* Run one case in a temporary folder (removed afterwards). Returns SP_OK
 * when the case ran (also when the pipeline found it not analysable:
 * res->why says so). */
sp_status sweep_run(sweep_env *env, const sweep_case *c, sweep_result *res,
                    sp_error *err);

/* The same pipeline on the one series in the folder `dicom`: its
 * report.json (the caller frees it), so real series are judged on what
 * the stages report. */
sp_status sweep_report(sweep_env *env, const char *dicom, json_t **report,
                       sp_error *err);

/* A one-line description of the case ("AP 8, L4-L5 5 mm left, ..."). */
void sweep_case_describe(const sweep_case *c, char *out, size_t size);

/* The cases of the evaluation (quick: the few the test runs). */
const sweep_case *sweep_grid(int quick, size_t *n);

/* Summary over many results. */
typedef struct sweep_summary {
    size_t levels, found, named_right, failed_cases;
    double ap_median, ap_worst, area_median, area_worst; /* abs; area in % */
    double disp_median, disp_worst; /* over levels with a herniation */
    size_t flags, flags_right;      /* ap, area and disc flags */
    double tilt_worst_deg, height_worst_mm; /* measuring planes (abs) */
} sweep_summary;

void sweep_summarise(const sweep_result *r, size_t n, sweep_summary *s);

/* The table of one case (flags as want/got! where they differ) and the
 * summary, each line starting with `prefix` ("# " for TAP). */
void sweep_print(FILE *f, const char *prefix, const sweep_result *r);
void sweep_print_summary(FILE *f, const char *prefix, const sweep_summary *s);

#endif
