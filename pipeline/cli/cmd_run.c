/* spinepipe run: every image series under the inputs through a pipeline,
 * outputs in OUT/<study>/<series>/. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/batch.h"
#include "engine/log.h"

#define MAX_SETS 64

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

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"config", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"jobs", required_argument, NULL, 'j'},
        {"force", no_argument, NULL, 'f'},
        {"anonymize", no_argument, NULL, 'a'},
        {"log-level", required_argument, NULL, 'l'},
        {"dicom-out", required_argument, NULL, 'D'},
        {"no-dicom-seg", no_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sp_batch_options o = {.jobs = 1, .dicom_seg = 1};
    const char *sets[MAX_SETS];
    size_t n_sets = 0;
    sp_error err;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "o:c:s:j:fh", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'o': o.out_dir = optarg; break;
        case 'c': o.config_path = optarg; break;
        case 's':
            if (n_sets == MAX_SETS)
                return cli_usage_error("run", "more than %d --set options",
                                       MAX_SETS);
            sets[n_sets++] = optarg;
            break;
        case 'j': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (end == optarg || *end || n < 1 || n > 256)
                return cli_usage_error("run",
                                       "--jobs '%s': expected 1 to 256",
                                       optarg);
            o.jobs = (int)n;
            break;
        }
        case 'f': o.force = 1; break;
        case 'a': o.anonymize = 1; break;
        case 'D': o.dicom_out = optarg; break;
        case 'N': o.dicom_seg = 0; break;
        case 'l':
            if (sp_log_set_levels(optarg, &err) != SP_OK)
                return cli_fail(&err);
            break;
        case 'h': print_help(stdout); return SP_EXIT_OK;
        default: return cli_usage_error("run", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("run", "no input folder given");
    if (!o.out_dir)
        return cli_usage_error("run", "no output folder given (-o OUT)");
    /* DICOM results must carry the patient's identity to be filed. */
    if (o.dicom_out && o.anonymize)
        return cli_usage_error("run", "--dicom-out copies patient and study "
                               "identifiers into the DICOM objects; it "
                               "cannot be combined with --anonymize");
    o.inputs = (const char *const *)argv + optind;
    o.n_inputs = (size_t)(argc - optind);
    o.overrides = sets;
    o.n_overrides = n_sets;
    sp_batch_result r;
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
