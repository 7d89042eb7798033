/* spinepipe run: every image series under the inputs through a pipeline,
 * outputs in OUT/<study>/<series>/. */
#include <stdio.h>

#include "cli.h"
#include "cli_options.h"
#include "engine/batch.h"

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: spinepipe run DIR... -o OUT [--config FILE] [--jobs N]\n"
            "                     [--set STAGE.PARAM=VALUE]... [--force]\n"
            "                     [--anonymize] [--log-level LEVEL]\n"
            "                     [--dicom-out DIR [--no-dicom-seg]]\n\n"
            "Run every DICOM image series found under DIR... through a "
            "pipeline.\nOutputs go to OUT/<study>/<series>/, with run.json "
            "written last; series\nwhose run.json says \"ok\" are skipped "
            "unless --force.\n\n"
            "  -o, --output OUT    output folder (created)\n"
            "  -c, --config FILE   pipeline file (default: chosen per series "
            "from its\n"
            "                      modality and orientation among "
            "config/*.ini)\n"
            "  -s, --set S.P=V     override a stage parameter (repeatable)\n"
            "  -j, --jobs N        series processed in parallel (default 1)\n"
            "  -f, --force         rerun series that are already done\n"
            "      --anonymize     leave patient ID and name, study date and "
            "UIDs out\n"
            "                      of images, reports and folder names\n"
            "      --dicom-out DIR also write DICOM results to "
            "DIR/<study>/<series>/:\n"
            "                      Secondary Capture of every image, the "
            "measurements\n"
            "                      as a TID 1500 SR, the segmentation as "
            "SEG\n"
            "                      (docs/dicom-output.md)\n"
            "      --no-dicom-seg  with --dicom-out: no SEG\n"
            "      --log-level L   error, warn (default), info, debug; or "
            "STAGE=LEVEL,...\n"
            "  -h, --help          this help\n\n"
            "Exit codes: 0 all series ok (or already done), %d some failed, "
            "66 no\nseries found, 78 invalid pipeline, 65/70/73/74 nothing "
            "could run\n(the code of the first failure).\n",
            SP_EXIT_PARTIAL);
}

enum { O_DICOM_OUT = CLI_OPT_OWN, O_NO_DICOM_SEG };

static int own_option(int opt, const char *arg, void *user)
{
    sp_batch_options *o = user;
    if (opt == O_DICOM_OUT)
        o->dicom_out = arg;
    else
        o->dicom_seg = 0;
    return 0;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dicom-out", required_argument, NULL, O_DICOM_OUT},
        {"no-dicom-seg", no_argument, NULL, O_NO_DICOM_SEG},
        {NULL, 0, NULL, 0},
    };
    sp_batch_options o = {.dicom_seg = 1};
    const cli_spec spec = {
        .command = "run",
        .options = CLI_OPT_OUTPUT | CLI_OPT_CONFIG | CLI_OPT_SET |
                   CLI_OPT_JOBS | CLI_OPT_FORCE | CLI_OPT_ANONYMIZE |
                   CLI_OPT_LOG_LEVEL,
        .own_long = opts, .own = own_option, .user = &o,
        .help = print_help, .min_operands = 1, .max_operands = -1,
        .missing = "no input folder given"};
    cli_common com = {0};
    int rc = cli_parse(&spec, argc, argv, &com);
    if (rc != CLI_CONTINUE)
        return rc;
    o.out_dir = com.out;
    o.config_path = com.config;
    o.jobs = com.jobs ? com.jobs : 1;
    o.force = com.force;
    o.anonymize = com.anonymize;
    /* DICOM results must carry the patient's identity to be filed. */
    if (o.dicom_out && o.anonymize)
        return cli_usage_error("run", "--dicom-out copies patient and study "
                               "identifiers into the DICOM objects; it "
                               "cannot be combined with --anonymize");
    o.inputs = (const char *const *)argv + optind;
    o.n_inputs = (size_t)(argc - optind);
    o.overrides = com.sets;
    o.n_overrides = com.n_sets;
    sp_batch_result r;
    sp_error err;
    sp_status st = sp_batch_run(&o, &r, &err);
    if (st != SP_OK)
        return cli_fail(&err);
    fprintf(stderr,
            "spinepipe run: %zu series: %zu ok, %zu failed, %zu already done; "
            "outputs in %s\n",
            r.n_series, r.n_ok, r.n_failed, r.n_skipped, o.out_dir);
    if (r.n_failed == 0)
        return SP_EXIT_OK;
    if (r.n_ok + r.n_skipped > 0)
        return SP_EXIT_PARTIAL;
    return sp_status_exit_code(r.first_error);
}
