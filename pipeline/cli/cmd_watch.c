/* spinepipe watch: run every study folder dropped into DIR once. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/watch.h"
#include "cli.h"
#include "engine/log.h"
#include "output/output.h"

#define MAX_SETS 64

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

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

int cmd_watch(int argc, char **argv)
{
    enum { O_ANON = 256, O_LOG };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"quiet", required_argument, NULL, 'q'},
        {"done-marker", required_argument, NULL, 'm'},
        {"config", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"jobs", required_argument, NULL, 'j'},
        {"anonymize", no_argument, NULL, O_ANON},
        {"log-level", required_argument, NULL, O_LOG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *sets[MAX_SETS];
    sp_study_runner r;
    memset(&r, 0, sizeof r);
    r.once = 1;
    r.sets = sets;
    sp_watch_options o = {.runner = &r, .quiet_seconds = 30, .jobs = 1,
                          .stop = &stop_flag};
    sp_error err;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "o:q:m:c:s:j:h", opts, NULL);
        if (c == -1)
            break;
        char *end;
        switch (c) {
        case 'o': r.out_dir = optarg; break;
        case 'q':
            o.quiet_seconds = strtod(optarg, &end);
            if (end == optarg || *end || !(o.quiet_seconds >= 0.1 &&
                                           o.quiet_seconds <= 86400))
                return cli_usage_error("watch", "--quiet '%s': expected 0.1 "
                                       "to 86400 seconds", optarg);
            break;
        case 'm':
            if (!sp_is_safe_name(optarg))
                return cli_usage_error("watch", "--done-marker '%s': a plain "
                                       "file name ([A-Za-z0-9._-], not "
                                       "starting with '.')", optarg);
            o.done_marker = optarg;
            break;
        case 'c': r.config = optarg; break;
        case 's':
            if (r.n_sets == MAX_SETS)
                return cli_usage_error("watch", "more than %d --set options",
                                       MAX_SETS);
            sets[r.n_sets++] = optarg;
            break;
        case 'j': {
            long n = strtol(optarg, &end, 10);
            if (end == optarg || *end || n < 1 || n > 256)
                return cli_usage_error("watch", "--jobs '%s': expected 1 to "
                                       "256", optarg);
            o.jobs = (int)n;
            break;
        }
        case O_ANON: r.anonymize = 1; break;
        case O_LOG:
            if (sp_log_set_levels(optarg, &err) != SP_OK)
                return cli_fail(&err);
            break;
        case 'h': print_help(stdout); return SP_EXIT_OK;
        default: return cli_usage_error("watch", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("watch", "no folder to watch given");
    if (optind + 1 < argc)
        return cli_usage_error("watch", "one folder only (got '%s' too)",
                               argv[optind + 1]);
    if (!r.out_dir)
        return cli_usage_error("watch", "no output folder given (-o OUT)");
    o.dir = argv[optind];
    if (sp_study_runner_init(&r, &err) != SP_OK)
        return cli_fail(&err);
    sp_study_share_cpus(o.jobs);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (sp_watch(&o, &err) != SP_OK)
        return cli_fail(&err);
    fprintf(stderr, "spinepipe watch: stopped\n");
    return SP_EXIT_OK;
}
