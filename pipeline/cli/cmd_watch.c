/* spinepipe watch: run every study folder dropped into DIR once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/watch.h"
#include "cli.h"
#include "cli_options.h"
#include "output/output.h"

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: spinepipe watch DIR -o OUT [--quiet S] [--done-marker "
            "NAME]\n"
            "                       [--config FILE] [--set S.P=V]... "
            "[--jobs N]\n"
            "                       [--anonymize] [--log-level L]\n\n"
            "Watch DIR (inotify) and run each study folder dropped into it "
            "once\nthrough 'spinepipe run', when nothing in it has changed "
            "for --quiet\nseconds or as soon as it holds the --done-marker "
            "file. Outputs, logs\nand one outcome file per study go to OUT "
            "as for 'spinepipe batch', with\nOUT/summary.csv and "
            "summary.json rewritten as studies end. A study\nwith an "
            "outcome is never run again, also after a restart; one cut "
            "short\nby a stop runs again on the next start. Folders named "
            ".* are ignored\n(copy as .name, then rename). Stop with SIGINT "
            "or SIGTERM.\n\n"
            "  -o, --output OUT      output folder (created)\n"
            "  -q, --quiet S         seconds without change before a study "
            "runs\n"
            "                        (default 30)\n"
            "  -m, --done-marker N   a file of this name in a study means "
            "it is\n"
            "                        complete (e.g. DONE)\n"
            "  -c, --config FILE     pipeline file (as for 'spinepipe run')\n"
            "  -s, --set S.P=V       stage parameter override (repeatable)\n"
            "  -j, --jobs N          studies processed at once (default 1)\n"
            "      --anonymize       as for 'spinepipe run'\n"
            "      --log-level L     error, warn (default), info, debug\n"
            "  -h, --help            this help\n\n"
            "Exit codes: 0 stopped by a signal, 64 usage, 66 DIR missing, "
            "73 cannot\ncreate OUT, 74 inotify failed.\n");
}

static int own_option(int opt, const char *arg, void *user)
{
    sp_watch_options *o = user;
    char *end;
    if (opt == 'q') {
        o->quiet_seconds = strtod(arg, &end);
        if (end == arg || *end || !(o->quiet_seconds >= 0.1 &&
                                    o->quiet_seconds <= 86400))
            return cli_usage_error("watch", "--quiet '%s': expected 0.1 to "
                                   "86400 seconds", arg);
        return 0;
    }
    if (!sp_is_safe_name(arg))
        return cli_usage_error("watch", "--done-marker '%s': a plain file "
                               "name ([A-Za-z0-9._-], not starting with "
                               "'.')", arg);
    o->done_marker = arg;
    return 0;
}

int cmd_watch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", required_argument, NULL, 'q'},
        {"done-marker", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    sp_watch_options o = {.quiet_seconds = 30};
    const cli_spec spec = {
        .command = "watch",
        .options = CLI_OPT_OUTPUT | CLI_OPT_CONFIG | CLI_OPT_SET |
                   CLI_OPT_JOBS | CLI_OPT_ANONYMIZE | CLI_OPT_LOG_LEVEL,
        .own_short = "q:m:", .own_long = opts, .own = own_option,
        .user = &o, .help = print_help, .min_operands = 1,
        .max_operands = 1, .missing = "no folder to watch given",
        .operand = "folder"};
    cli_common com = {0};
    int rc = cli_parse(&spec, argc, argv, &com);
    if (rc != CLI_CONTINUE)
        return rc;
    sp_study_runner r;
    memset(&r, 0, sizeof r);
    r.once = 1;
    r.out_dir = com.out;
    r.config = com.config;
    r.sets = com.sets;
    r.n_sets = com.n_sets;
    r.anonymize = com.anonymize;
    o.runner = &r;
    o.jobs = com.jobs ? com.jobs : 1;
    o.dir = argv[optind];
    sp_error err;
    if (sp_study_runner_init(&r, &err) != SP_OK)
        return cli_fail(&err);
    sp_study_share_cpus(o.jobs);
    o.stop = cli_stop_on_signals();
    if (sp_watch(&o, &err) != SP_OK)
        return cli_fail(&err);
    fprintf(stderr, "spinepipe watch: stopped\n");
    return SP_EXIT_OK;
}
