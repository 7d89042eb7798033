/* spinepipe phantom: write a synthetic lumbar spine series with its
 * ground truth (docs/phantom.md). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine/clock.h"
#include "phantom/phantom.h"

static const char *const cmd = "phantom";

typedef struct phantom_cli {
    sp_phantom_params p;
    const char *out_dir;
    int json;
    int plane_given;
} phantom_cli;

typedef int (*opt_fn)(phantom_cli *c, const char *value);

/* A plain number option is stored by its row; others have a setter. */
typedef enum num_kind {
    NUM_NONE,
    NUM_DOUBLE,
    NUM_SIZE,
    NUM_INT,
    NUM_U64
} num_kind;

typedef struct opt_row {
    const char *name;
    const char *metavar; /* NULL: a flag without a value */
    const char *help;
    opt_fn set;          /* NULL for a plain number */
    num_kind kind;
    size_t offset;       /* of the number in sp_phantom_params */
    unsigned long long max; /* whole numbers: the largest accepted */
} opt_row;

static int parse_double(const char *s, const char *name, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        return cli_usage_error(cmd, "%s: '%s' is not a number", name, s);
    *out = v;
    return 0;
}

static int parse_size(const char *s, const char *name, unsigned long long max,
                      unsigned long long *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '+')
        return cli_usage_error(cmd, "%s: '%s' is not a whole number", name, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno || v > max)
        return cli_usage_error(cmd, "%s: '%s' is not a whole number in 0..%llu",
                               name, s, max);
    *out = v;
    return 0;
}

static int set_number(phantom_cli *c, const opt_row *o, const char *v)
{
    char *field = (char *)&c->p + o->offset;
    if (o->kind == NUM_DOUBLE)
        return parse_double(v, o->name, (double *)(void *)field);
    unsigned long long n = 0;
    int rc = parse_size(v, o->name, o->max, &n);
    if (rc)
        return rc;
    if (o->kind == NUM_SIZE)
        *(size_t *)(void *)field = (size_t)n;
    else if (o->kind == NUM_INT)
        *(int *)(void *)field = (int)n;
    else
        *(uint64_t *)(void *)field = n;
    return 0;
}

static int set_modality(phantom_cli *c, const char *v)
{
    (void)c;
    if (strcmp(v, "CT") && strcmp(v, "MR"))
        return cli_usage_error(cmd, "--modality must be CT or MR, not '%s'", v);
    return 0; /* applied before parsing: it selects the defaults */
}

static int set_orientation(phantom_cli *c, const char *v)
{
    if (!strcmp(v, "axial"))
        c->p.plane = SP_PHANTOM_AXIAL;
    else if (!strcmp(v, "sagittal"))
        c->p.plane = SP_PHANTOM_SAGITTAL;
    else if (!strcmp(v, "oblique"))
        c->p.plane = SP_PHANTOM_OBLIQUE;
    else
        return cli_usage_error(cmd,
                               "--orientation must be axial, sagittal or "
                               "oblique, not '%s'",
                               v);
    c->plane_given = 1;
    return 0;
}

static int set_center(phantom_cli *c, const char *v)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", v);
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    for (int a = 0; a < 3; a++) {
        if (!tok)
            return cli_usage_error(cmd, "--center wants X,Y,Z in mm, not '%s'",
                                   v);
        int rc = parse_double(tok, "--center", &c->p.center_lps[a]);
        if (rc)
            return rc;
        tok = strtok_r(NULL, ",", &save);
    }
    if (tok)
        return cli_usage_error(cmd, "--center wants X,Y,Z in mm, not '%s'", v);
    return 0;
}

static int level_of(const char *name, size_t len, const char *flag)
{
    char buf[16];
    if (len == 0 || len >= sizeof buf) {
        cli_usage_error(cmd, "%s: missing or unknown level", flag);
        return -1;
    }
    memcpy(buf, name, len);
    buf[len] = '\0';
    int l = sp_phantom_level_index(buf);
    if (l < 0)
        cli_usage_error(cmd, "%s: unknown level '%s' (T12-L1 .. L5-S1)", flag,
                        buf);
    return l;
}

/* --canal-ap MM (all levels) or --canal-ap LEVEL=MM. */
static int set_canal_ap(phantom_cli *c, const char *v)
{
    const char *eq = strchr(v, '=');
    if (!eq)
        return parse_double(v, "--canal-ap", &c->p.canal_ap_default_mm);
    int l = level_of(v, (size_t)(eq - v), "--canal-ap");
    if (l < 0)
        return sp_status_exit_code(SP_USAGE);
    return parse_double(eq + 1, "--canal-ap", &c->p.canal_ap_mm[l]);
}

/* --herniation LEVEL:MM[:central|left|right]. */
static int set_herniation(phantom_cli *c, const char *v)
{
    const char *colon = strchr(v, ':');
    if (!colon)
        return cli_usage_error(cmd,
                               "--herniation wants LEVEL:MM[:central|left|"
                               "right], not '%s'",
                               v);
    int l = level_of(v, (size_t)(colon - v), "--herniation");
    if (l < 0)
        return sp_status_exit_code(SP_USAGE);
    char buf[64];
    snprintf(buf, sizeof buf, "%s", colon + 1);
    char *side = strchr(buf, ':');
    sp_phantom_side s = SP_PHANTOM_CENTRAL;
    if (side) {
        *side++ = '\0';
        if (!strcmp(side, "left"))
            s = SP_PHANTOM_LEFT;
        else if (!strcmp(side, "right"))
            s = SP_PHANTOM_RIGHT;
        else if (strcmp(side, "central"))
            return cli_usage_error(cmd,
                                   "--herniation: position must be central, "
                                   "left or right, not '%s'",
                                   side);
    }
    c->p.herniation_side[l] = s;
    return parse_double(buf, "--herniation", &c->p.herniation_mm[l]);
}

static int set_no_cord(phantom_cli *c, const char *v)
{
    (void)v;
    c->p.cord = 0;
    return 0;
}

static int set_output(phantom_cli *c, const char *v)
{
    c->out_dir = v;
    return 0;
}

static int set_json(phantom_cli *c, const char *v)
{
    (void)v;
    c->json = 1;
    return 0;
}

/* The last fields of a row: a setter, or where a plain number goes. */
#define SETTER(fn) fn, NUM_NONE, 0, 0
#define NUMBER(kind, field, max)                                              \
    NULL, kind, offsetof(sp_phantom_params, field), max

static const opt_row options[] = {
    {"--output", "DIR",
     "output folder (required): DIR/dicom/, DIR/truth_labels.nii.gz, "
     "DIR/truth.json",
     SETTER(set_output)},
    {"--modality", "CT|MR", "CT in HU (default) or T2-weighted MR",
     SETTER(set_modality)},
    {"--orientation", "PLANE",
     "axial (CT default), sagittal (MR default) or oblique",
     SETTER(set_orientation)},
    {"--tilt", "DEG", "oblique: tilt of the axial plane about L-R, -45..45",
     NUMBER(NUM_DOUBLE, tilt_deg, 0)},
    {"--matrix", "N", "rows = columns, 16..2048 (default 256)",
     NUMBER(NUM_SIZE, matrix, 100000)},
    {"--slices", "N", "number of slices; 0 (default) covers T12..S1",
     NUMBER(NUM_SIZE, slices, 100000)},
    {"--pixel", "MM", "in-plane pixel size, 0.05..5 (CT 0.75, MR 1.0)",
     NUMBER(NUM_DOUBLE, pixel_mm, 0)},
    {"--slice-thickness", "MM",
     "slice thickness = spacing, 0.1..20 (CT 2, MR 4)",
     NUMBER(NUM_DOUBLE, slice_mm, 0)},
    {"--center", "X,Y,Z", "centre of the field of view, LPS mm (0,20,0)",
     SETTER(set_center)},
    {"--noise", "SD", "noise SD, 0..500 (CT 15 HU Gaussian, MR 20 Rician)",
     NUMBER(NUM_DOUBLE, noise_sd, 0)},
    {"--seed", "N", "random seed for noise and UIDs (default 1)",
     NUMBER(NUM_U64, seed, 1ULL << 53)},
    {"--supersample", "N", "samples per axis in edge voxels, 1..8 (3)",
     NUMBER(NUM_INT, supersample, 1000)},
    {"--threads", "N", "worker threads; 0 (default) = one per CPU",
     NUMBER(NUM_INT, threads, 100000)},
    {"--lordosis", "MM", "centre-line offset 100 mm from the apex, 0..40 (12)",
     NUMBER(NUM_DOUBLE, lordosis_mm, 0)},
    {"--canal-ap", "[LEVEL=]MM",
     "canal AP diameter, 4..30, for all levels (15) or one level, e.g. "
     "L4-L5=8; repeatable",
     SETTER(set_canal_ap)},
    {"--canal-width", "MM", "canal width, 10..34 (22)",
     NUMBER(NUM_DOUBLE, canal_width_mm, 0)},
    {"--herniation", "LEVEL:MM[:POS]",
     "posterior disc displacement 0..12 mm at LEVEL, POS central (default), "
     "left or right; repeatable",
     SETTER(set_herniation)},
    {"--no-cord", NULL, "leave out the spinal cord (conus at L1-L2)",
     SETTER(set_no_cord)},
    {"--series-number", "N", "DICOM SeriesNumber (CT 1, MR 2)",
     NUMBER(NUM_INT, series_number, 100000)},
    {"--json", NULL, "print a JSON summary on stdout", SETTER(set_json)},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

/* One option of the help: name and metavar, then the help text wrapped
 * at word breaks to fit 80 columns. */
static void print_option(const char *left, const char *help)
{
    enum { LEFT = 28, TEXT = 80 - 2 - LEFT - 1 };
    printf("  %-*s", LEFT, left);
    while (strlen(help) > TEXT) {
        int cut = TEXT;
        while (cut > 0 && help[cut] != ' ')
            cut--;
        if (cut == 0)
            break;
        printf(" %.*s\n  %-*s", cut, help, LEFT, "");
        help += cut + 1;
    }
    printf(" %s\n", help);
}

static void print_help(void)
{
    printf("usage: spinepipe phantom --output DIR [options]\n\n"
           "Write a synthetic lumbar spine (T12..S1) as a DICOM series with "
           "its ground\ntruth: a label map and truth.json with the true "
           "measurements (docs/phantom.md).\n\noptions:\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", options[i].name,
                 options[i].metavar ? " " : "",
                 options[i].metavar ? options[i].metavar : "");
        print_option(left, options[i].help);
    }
    print_option("--help", "this text");
}

static const opt_row *find_option(const char *arg, size_t len)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strlen(options[i].name) == len &&
            strncmp(options[i].name, arg, len) == 0)
            return &options[i];
    return NULL;
}

int cmd_phantom(int argc, char **argv)
{
    phantom_cli c;
    memset(&c, 0, sizeof c);
    sp_phantom_modality modality = SP_PHANTOM_CT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_help();
            return SP_EXIT_OK;
        }
        const char *v = NULL;
        if (!strncmp(argv[i], "--modality=", 11))
            v = argv[i] + 11;
        else if (!strcmp(argv[i], "--modality") && i + 1 < argc)
            v = argv[i + 1];
        if (v && !strcmp(v, "MR"))
            modality = SP_PHANTOM_MR;
        else if (v && !strcmp(v, "CT"))
            modality = SP_PHANTOM_CT;
    }
    sp_phantom_defaults(&c.p, modality);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        size_t len = eq && !strncmp(arg, "--", 2) ? (size_t)(eq - arg)
                                                  : strlen(arg);
        const opt_row *o = find_option(arg, len);
        if (!o)
            return cli_usage_error(cmd, "unknown option %s", arg);
        const char *value = NULL;
        if (o->metavar) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return cli_usage_error(cmd, "%s needs a value (%s)", o->name,
                                       o->metavar);
        } else if (eq) {
            return cli_usage_error(cmd, "%s takes no value", o->name);
        }
        int rc = o->set ? o->set(&c, value) : set_number(&c, o, value);
        if (rc)
            return rc;
    }
    if (!c.out_dir)
        return cli_usage_error(cmd, "--output DIR is required");
    if (c.p.tilt_deg != 0 && !c.plane_given)
        c.p.plane = SP_PHANTOM_OBLIQUE;
    sp_error err;
    sp_error_clear(&err);
    sp_status st = sp_phantom_validate(&c.p, &err);
    if (st != SP_OK)
        return cli_usage_error(cmd, "%s", err.message);

    double t0 = sp_now_seconds();
    st = sp_phantom_write(&c.p, c.out_dir, &err);
    if (st != SP_OK)
        return cli_fail(&err);
    double secs = sp_now_seconds() - t0;
    if (c.json) {
        json_t *o = json_object();
        json_object_set_new(o, "output", json_string(c.out_dir));
        json_object_set_new(o, "seconds", json_real(secs));
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    }
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "spinepipe phantom: wrote %s in %.1f s\n", c.out_dir,
                secs);
    return SP_EXIT_OK;
}
