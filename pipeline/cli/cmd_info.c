/* spinepipe info: list the studies and series found under a path, with
 * geometry, transfer syntaxes, warnings and every skipped file. Human table
 * on stdout, or JSON (docs/info-json.md) with --json. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "spinepipe/dicom.h"
#include "spinepipe/version.h"

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: spinepipe info [options] PATH\n\n"
            "List every DICOM study and image series under PATH (a folder, "
            "scanned\nrecursively, or one file): modality, matrix, slice "
            "count, spacing,\norientation, transfer syntaxes and warnings, "
            "then every file that was\nskipped and why. Reads headers "
            "only.\n\n"
            "options:\n"
            "  --json               machine-readable output "
            "(docs/info-json.md)\n"
            "  --follow-symlinks    follow symbolic links (loops are "
            "detected)\n"
            "  --max-files N        stop after N files (default "
            "1000000)\n"
            "  -h, --help           this help\n\n"
            "Exit codes: 0 ok, %d some files skipped, 65 no usable image "
            "series,\n66 PATH missing or unreadable, 64 usage.\n",
            SP_EXIT_PARTIAL);
}

static sp_orientation series_orientation(const sp_dicom_series *s)
{
    return sp_orientation_from_axes(s->orientation, s->orientation + 3);
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

static void print_table(const sp_dicom_scan *scan)
{
    const char *study = NULL;
    for (size_t i = 0; i < scan->n_series; i++) {
        const sp_dicom_series *s = &scan->series[i];
        if (!study || strcmp(study, s->header.study_uid) != 0) {
            study = s->header.study_uid;
            printf("%sstudy %s  date %s  %s\n", i ? "\n" : "",
                   or_dash(study), or_dash(s->header.study_date),
                   s->header.study_description);
            printf("  %-7s %-4s %-4s %-11s %-6s %-21s %-9s %s\n", "series",
                   "part", "mod", "matrix", "slices", "spacing mm (i j k)",
                   "plane", "description");
        }
        char matrix[32], spacing[64], part[12];
        snprintf(matrix, sizeof matrix, "%ux%u", (unsigned)s->columns,
                 (unsigned)s->rows);
        snprintf(spacing, sizeof spacing, "%.3g x %.3g x %.3g",
                 s->pixel_spacing[1], s->pixel_spacing[0], s->slice_spacing);
        snprintf(part, sizeof part, "%d", s->part);
        printf("  %-7d %-4s %-4s %-11s %-6zu %-21s %-9s %s\n",
               s->header.series_number, s->part ? part : "-",
               or_dash(s->header.modality), matrix, s->n_slices, spacing,
               sp_orientation_name(series_orientation(s)),
               s->header.series_description);
        for (size_t t = 0; t < s->n_transfer_syntaxes; t++)
            printf("          transfer syntax: %s\n",
                   sp_dicom_transfer_syntax_name(s->transfer_syntaxes[t]));
        for (size_t w = 0; w < s->n_warnings; w++)
            printf("          warning: %s\n", s->warnings[w]);
    }
    if (scan->n_skipped) {
        printf("%sskipped %zu file%s:\n", scan->n_series ? "\n" : "",
               scan->n_skipped, scan->n_skipped == 1 ? "" : "s");
        for (size_t i = 0; i < scan->n_skipped; i++)
            printf("  %s: %s\n", scan->skipped[i].path,
                   scan->skipped[i].reason);
    }
}

static json_t *doubles(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

/* Header strings are sanitised but may still be invalid UTF-8; jansson
 * refuses those, so fall back to an ASCII copy. */
static json_t *text(const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (j)
        return j;
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (!copy)
        return json_null();
    for (size_t i = 0; i <= n; i++)
        copy[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
    j = json_string(copy);
    free(copy);
    return j ? j : json_null();
}

static json_t *series_json(const sp_dicom_series *s)
{
    const sp_dicom_header *h = &s->header;
    json_t *o = json_object();
    json_object_set_new(o, "study_uid", text(h->study_uid));
    json_object_set_new(o, "study_date", text(h->study_date));
    json_object_set_new(o, "study_description", text(h->study_description));
    json_object_set_new(o, "series_uid", text(h->series_uid));
    json_object_set_new(o, "series_number", json_integer(h->series_number));
    json_object_set_new(o, "series_description",
                        text(h->series_description));
    json_object_set_new(o, "part", json_integer(s->part));
    json_object_set_new(o, "modality", text(h->modality));
    json_object_set_new(o, "body_part", text(h->body_part));
    json_object_set_new(o, "manufacturer", text(h->manufacturer));
    json_object_set_new(o, "columns", json_integer(s->columns));
    json_object_set_new(o, "rows", json_integer(s->rows));
    json_object_set_new(o, "slices", json_integer((json_int_t)s->n_slices));
    json_object_set_new(o, "pixel_spacing_mm", doubles(s->pixel_spacing, 2));
    json_object_set_new(o, "slice_spacing_mm", json_real(s->slice_spacing));
    json_object_set_new(o, "orientation",
                        json_string(sp_orientation_name(
                            series_orientation(s))));
    json_object_set_new(o, "image_orientation_patient",
                        doubles(s->orientation, 6));
    json_object_set_new(o, "gantry_tilt_deg", json_real(s->gantry_tilt_deg));
    json_t *ts = json_array();
    for (size_t t = 0; t < s->n_transfer_syntaxes; t++) {
        json_t *e = json_object();
        json_object_set_new(e, "uid", text(s->transfer_syntaxes[t]));
        json_object_set_new(e, "name",
                            json_string(sp_dicom_transfer_syntax_name(
                                s->transfer_syntaxes[t])));
        json_array_append_new(ts, e);
    }
    json_object_set_new(o, "transfer_syntaxes", ts);
    json_t *w = json_array();
    for (size_t i = 0; i < s->n_warnings; i++)
        json_array_append_new(w, text(s->warnings[i]));
    json_object_set_new(o, "warnings", w);
    json_object_set_new(o, "first_file", text(s->slices[0].path));
    return o;
}

static int print_json(const sp_dicom_scan *scan)
{
    json_t *root = json_object();
    json_object_set_new(root, "spinepipe_version",
                        json_string(SPINEPIPE_VERSION));
    json_t *series = json_array();
    for (size_t i = 0; i < scan->n_series; i++)
        json_array_append_new(series, series_json(&scan->series[i]));
    json_object_set_new(root, "series", series);
    json_t *skipped = json_array();
    for (size_t i = 0; i < scan->n_skipped; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "path", text(scan->skipped[i].path));
        json_object_set_new(e, "code",
                            json_string(sp_status_name(scan->skipped[i].code)));
        json_object_set_new(e, "reason", text(scan->skipped[i].reason));
        json_array_append_new(skipped, e);
    }
    json_object_set_new(root, "skipped", skipped);
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    fputc('\n', stdout);
    json_decref(root);
    return rc;
}

int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"follow-symlinks", no_argument, NULL, 'L'},
        {"max-files", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0;
    sp_dicom_scan_options opt = {0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'L': opt.follow_symlinks = 1; break;
        case 'm': {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (!*optarg || *end || v == 0 || optarg[0] == '-')
                return cli_usage_error("info",
                                       "--max-files needs a positive "
                                       "number, not '%s'",
                                       optarg);
            opt.max_files = (size_t)v;
            break;
        }
        case 'h': print_usage(stdout); return SP_EXIT_OK;
        default: return cli_option_error("info", c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("info", "expected one PATH");
    const char *path = argv[optind];
    sp_error err = {0};
    if (sp_dicom_init(&err) != SP_OK)
        return cli_fail(&err);
    sp_dicom_scan *scan = NULL;
    if (sp_dicom_scan_path(path, &opt, &scan, &err) != SP_OK) {
        sp_dicom_cleanup();
        return cli_fail(&err);
    }
    int out_fail = 0;
    if (json)
        out_fail = print_json(scan) != 0;
    else
        print_table(scan);
    if (fflush(stdout) != 0)
        out_fail = 1;
    int rc = SP_EXIT_OK;
    if (out_fail) {
        sp_error_set(&err, SP_IO, "cannot write the listing to stdout");
        rc = cli_fail(&err);
    } else if (scan->n_series == 0) {
        sp_error_set(&err, SP_NOTIMAGE,
                     "%s: no usable image series found (%zu files skipped)",
                     path, scan->n_skipped);
        rc = cli_fail(&err);
    } else if (scan->n_skipped > 0) {
        rc = SP_EXIT_PARTIAL;
    }
    sp_dicom_scan_free(scan);
    sp_dicom_cleanup();
    return rc;
}
