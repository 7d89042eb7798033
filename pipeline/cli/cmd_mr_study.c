/* spinepipe mr-study: the study report of an MR study with a sagittal and
 * axial T2 series (docs/report-json.md, "study_report.json") written
 * again from a `spinepipe run` output folder; the work is
 * sp_mr_study_write (engine/mr_study.c), which `run` calls itself. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine/mr_study.h"

static void help(void)
{
    printf("usage: spinepipe mr-study STUDYDIR... [-o FILE]\n\n"
           "STUDYDIR is one study's folder of a `spinepipe run` output\n"
           "(OUT/<study>/). Combines its sagittal MR series' levels with its\n"
           "axial MR series' canal sections (each slice assigned to a disc\n"
           "level or a vertebra by the distance of its plane to the disc\n"
           "centres) into STUDYDIR/study_report.json (or FILE, with one\n"
           "STUDYDIR). `spinepipe run` already does this for every study with\n"
           "both; this command writes it again, e.g. after a rerun.\n\n"
           "  -o, --output FILE   where to write (one STUDYDIR only)\n"
           "  -h, --help          this help\n\n"
           "Exit codes: 0 written, 65 no sagittal series with named levels\n"
           "and axial series with sections in the folder, 66 folder\n"
           "missing, 73 cannot write.\n");
}

int cmd_mr_study(int argc, char **argv)
{
    const char *out = NULL;
    int first = 0, ndirs = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
            help();
            return SP_EXIT_OK;
        }
        if (!strcmp(argv[a], "-o") || !strcmp(argv[a], "--output")) {
            if (++a >= argc)
                return cli_usage_error("mr-study", "%s needs a file",
                                       argv[a - 1]);
            out = argv[a];
        } else if (argv[a][0] == '-') {
            return cli_usage_error("mr-study", "unknown option %s", argv[a]);
        } else {
            first = first ? first : a;
            ndirs++;
        }
    }
    if (ndirs == 0)
        return cli_usage_error("mr-study", "no study folder given");
    if (out && ndirs > 1)
        return cli_usage_error("mr-study", "--output takes one study folder");
    int code = SP_EXIT_OK, failed = 0;
    for (int a = first; a < argc; a++) {
        if (argv[a][0] == '-') {
            a += !strcmp(argv[a], "-o") || !strcmp(argv[a], "--output");
            continue;
        }
        char why[256] = "";
        int written = 0;
        sp_error err;
        sp_status st = sp_mr_study_write(argv[a], out, &written, why,
                                         sizeof why, &err);
        if (st != SP_OK) {
            fprintf(stderr, "spinepipe mr-study: %s\n", err.message);
            code = st == SP_NOINPUT ? 66 : 73, failed++;
        } else if (!written) {
            fprintf(stderr, "spinepipe mr-study: %s: %s\n", argv[a], why);
            code = 65, failed++;
        } else {
            if (out)
                printf("%s written\n", out);
            else
                printf("%s/study_report.json written\n", argv[a]);
        }
    }
    return failed && failed < ndirs ? SP_EXIT_PARTIAL : code;
}
