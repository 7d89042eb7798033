/* spinepipe: dispatch to subcommands; --help and --version. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "spinepipe/version.h"

/* Add a row here when a subcommand lands; the help text follows. */
static const cli_command commands[] = {
    {"info", "list DICOM studies and series under a path", cmd_info},
    {"convert", "DICOM series to NIfTI-1 (.nii.gz)", cmd_convert},
    {"run", "run series through a pipeline of stages", cmd_run},
    {"stages", "list stage plugins and their parameters", cmd_stages},
    {"listen", "receive DICOM over the network and process each series", cmd_listen},
    {"batch", "run the study folders of a manifest (resumable; Slurm arrays)", cmd_batch},
    {"watch", "run each study folder dropped into a folder, once", cmd_watch},
    {"phantom", "write a synthetic lumbar spine series with its ground truth", cmd_phantom},
    {"mr-study", "combine a study's sagittal and axial MR reports into one", cmd_mr_study},
    {NULL, NULL, NULL},
};

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: spinepipe <command> [options]\n"
            "       spinepipe --help | --version\n\n"
            "Preprocessing and analysis of spine CT and MRI from DICOM.\n"
            "Research/triage aid. Not for diagnostic use.\n\ncommands:\n");
    for (const cli_command *c = commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out,
            "\nRun 'spinepipe <command> --help' for the options of one "
            "command.\n"
            "Exit codes: 0 ok, %d partial (some inputs skipped or failed),\n"
            "64 usage, 65 bad input data, 66 input missing, 70 internal,\n"
            "73 cannot create output, 74 I/O error, 78 configuration "
            "(docs/exit-codes.md).\n",
            SP_EXIT_PARTIAL);
}

int cli_fail(const sp_error *err)
{
    fprintf(stderr, "spinepipe: %s\n",
            err->message[0] ? err->message : sp_status_message(err->code));
    return sp_status_exit_code(err->code);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "spinepipe %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'spinepipe %s --help'.\n", command);
    return sp_status_exit_code(SP_USAGE);
}

int cli_option_error(const char *command, int opt, char **argv)
{
    /* A long option is the word before optind (up to any '='); a short
     * one is only in optopt (it may sit inside a cluster like -fx). */
    const char *word = argv[optind - 1];
    char name[3] = {'-', (char)optopt, '\0'};
    int len = (int)strcspn(word, "=");
    if (strncmp(word, "--", 2) != 0) {
        word = name;
        len = 2;
    }
    if (opt == ':')
        return cli_usage_error(command, "option %.*s needs a value", len,
                               word);
    return cli_usage_error(command, "unknown option %.*s", len, word);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return sp_status_exit_code(SP_USAGE);
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") ||
        !strcmp(name, "help")) {
        print_help(stdout);
        return SP_EXIT_OK;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
        printf("spinepipe %s\n", SPINEPIPE_VERSION);
        return SP_EXIT_OK;
    }
    for (const cli_command *c = commands; c->name; c++) {
        if (strcmp(c->name, name) == 0) {
            char label[64];
            snprintf(label, sizeof label, "spinepipe %s", c->name);
            argv[1] = label;
            return c->run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "spinepipe: unknown command '%s'\n", name);
    fprintf(stderr, "Try 'spinepipe --help'.\n");
    return sp_status_exit_code(SP_USAGE);
}
