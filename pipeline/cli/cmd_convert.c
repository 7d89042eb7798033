/* spinepipe convert: DICOM series -> NIfTI-1, one file per series, with
 * the RAS affine from the DICOM geometry (like dcm2niix). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "convert_names.h"
#include "spinepipe/dicom.h"
#include "spinepipe/volume.h"

static void print_help(const char *prog)
{
    printf("usage: %s DIR -o OUTPUT\n\n"
           "Convert the DICOM series under DIR (a folder, searched\n"
           "recursively, or one file) to NIfTI-1 volumes in float32, with\n"
           "the voxel-to-RAS affine in both qform and sform.\n\n"
           "  -o, --output PATH  a .nii or .nii.gz file when DIR holds one\n"
           "                     series; otherwise a folder (created if\n"
           "                     missing) that gets one\n"
           "                     <series number>_<description>.nii.gz per\n"
           "                     series (names keep only [A-Za-z0-9._-])\n"
           "  -h, --help         show this help\n\n"
           "Existing files of the same name are replaced.\n"
           "Exit codes: 0 ok, %d partial (a series failed or a file was\n"
           "skipped, each named on stderr; the rest was written), 64 usage,\n"
           "65 bad input data or no image series, 66 input missing,\n"
           "73 cannot create output, 74 I/O error.\n",
           prog, SP_EXIT_PARTIAL);
}

static int is_nifti_name(const char *path)
{
    size_t n = strlen(path);
    return (n > 4 && strcasecmp(path + n - 4, ".nii") == 0) ||
           (n > 7 && strcasecmp(path + n - 7, ".nii.gz") == 0);
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

typedef struct convert_run {
    const char *prog;
    int failed;   /* series that could not be written */
    int written;
    sp_status first_failure;
    char **names; /* file names used so far in the output folder */
    size_t n_names;
} convert_run;

static int name_taken(const convert_run *run, const char *name)
{
    for (size_t i = 0; i < run->n_names; i++)
        if (strcmp(run->names[i], name) == 0)
            return 1;
    return 0;
}

/* OUT/<number>_<description>.nii.gz, with _2, _3, ... on a clash. */
static char *series_path(convert_run *run, const char *dir,
                         const sp_dicom_series *s)
{
    char base[96], name[112];
    convert_series_name(s->header.series_number, s->header.series_description,
                        s->part, base, sizeof base);
    snprintf(name, sizeof name, "%s", base);
    for (int k = 2; name_taken(run, name); k++)
        snprintf(name, sizeof name, "%s_%d", base, k);
    char **grown = realloc(run->names, (run->n_names + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    run->names = grown;
    run->names[run->n_names] = strdup(name);
    if (!run->names[run->n_names])
        return NULL;
    run->n_names++;
    size_t n = strlen(dir) + strlen(name) + sizeof "/.nii.gz";
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/%s.nii.gz", dir, name);
    return path;
}

static void note_failure(convert_run *run, const sp_error *err)
{
    fprintf(stderr, "%s: %s\n", run->prog, err->message);
    if (run->failed++ == 0)
        run->first_failure = err->code;
}

static void convert_one(convert_run *run, const sp_dicom_series *s,
                        const char *out_path)
{
    sp_error err;
    sp_error_clear(&err);
    for (size_t w = 0; w < s->n_warnings; w++)
        fprintf(stderr, "%s: series %d: warning: %s\n", run->prog,
                s->header.series_number, s->warnings[w]);
    sp_volume vol;
    sp_status st = sp_dicom_load_series(s, NULL, &vol, &err);
    if (st == SP_OK)
        st = sp_nifti_write(&vol, out_path, &err);
    if (st != SP_OK) {
        note_failure(run, &err);
    } else {
        run->written++;
        fprintf(stderr,
                "%s: wrote %s (%s, %zux%zux%zu, %.3gx%.3gx%.3g mm)\n",
                run->prog, out_path, s->header.modality, vol.dim[0],
                vol.dim[1], vol.dim[2], vol.spacing[0], vol.spacing[1],
                vol.spacing[2]);
    }
    sp_volume_free(&vol);
}

static int make_folder(const char *dir, sp_error *err)
{
    if (mkdir(dir, 0755) == 0 || (errno == EEXIST && is_directory(dir)))
        return SP_OK;
    return sp_error_set(err, SP_CANTCREATE, "%s: cannot create folder: %s",
                        dir, strerror(errno));
}

static int finish(convert_run *run, const sp_dicom_scan *scan)
{
    /* Like `spinepipe info`: a skipped file makes the run partial, since
     * a truncated slice of a series is reported the same way as a stray
     * non-DICOM file. */
    for (size_t i = 0; i < scan->n_skipped; i++)
        fprintf(stderr, "%s: skipped %s: %s\n", run->prog,
                scan->skipped[i].path, scan->skipped[i].reason);
    for (size_t i = 0; i < run->n_names; i++)
        free(run->names[i]);
    free(run->names);
    if (run->written == 0 && run->failed > 0)
        return sp_status_exit_code(run->first_failure);
    if (run->failed > 0 || scan->n_skipped > 0)
        return SP_EXIT_PARTIAL;
    return SP_EXIT_OK;
}

static int convert_scan(const char *prog, const char *input, const char *out,
                        const sp_dicom_scan *scan)
{
    sp_error err;
    sp_error_clear(&err);
    if (scan->n_series == 0) {
        sp_error_set(&err, SP_NOTIMAGE,
                     "%s: no DICOM image series found (%zu files skipped)",
                     input, scan->n_skipped);
        return cli_fail(&err);
    }
    convert_run run = {.prog = prog};
    int to_file = is_nifti_name(out) && !is_directory(out);
    if (to_file && scan->n_series > 1)
        return cli_usage_error(
            "convert", "%s holds %zu series; -o must name a folder, not a .nii file",
            input, scan->n_series);
    if (to_file) {
        convert_one(&run, &scan->series[0], out);
        return finish(&run, scan);
    }
    if (make_folder(out, &err) != SP_OK)
        return cli_fail(&err);
    for (size_t i = 0; i < scan->n_series; i++) {
        char *path = series_path(&run, out, &scan->series[i]);
        if (!path) {
            sp_error_set(&err, SP_NOMEM, "out of memory naming outputs");
            note_failure(&run, &err);
            break;
        }
        convert_one(&run, &scan->series[i], path);
        free(path);
    }
    return finish(&run, scan);
}

int cmd_convert(int argc, char **argv)
{
    const char *prog = argv[0];
    const char *cmd = "convert";
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'h': print_help(prog); return SP_EXIT_OK;
        default: return cli_option_error(cmd, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(cmd, "no input folder or file given");
    if (argc - optind > 1)
        return cli_usage_error(cmd, "one input only (got %d)", argc - optind);
    if (!out || !*out)
        return cli_usage_error(cmd, "-o OUTPUT is required");
    const char *input = argv[optind];

    sp_error err;
    sp_error_clear(&err);
    if (sp_dicom_init(&err) != SP_OK)
        return cli_fail(&err);
    sp_dicom_scan *scan = NULL;
    int rc;
    if (sp_dicom_scan_path(input, NULL, &scan, &err) != SP_OK)
        rc = cli_fail(&err);
    else
        rc = convert_scan(prog, input, out, scan);
    sp_dicom_scan_free(scan);
    sp_dicom_cleanup();
    return rc;
}
