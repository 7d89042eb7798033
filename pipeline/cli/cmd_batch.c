/* spinepipe batch: the study folders of a manifest through `spinepipe
 * run`, resumable, locally (optionally one shard) or as a Slurm job array;
 * --status and --summarize read the per-study outcome files. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/runner.h"
#include "batch/slurm.h"
#include "batch/summary.h"
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
            "usage: spinepipe batch MANIFEST -o OUT [--config FILE] "
            "[--set S.P=V]...\n"
            "                       [--jobs N] [--force] [--anonymize] "
            "[--shard K/N]\n"
            "       spinepipe batch MANIFEST -o OUT --slurm [--array-size N]\n"
            "                       [--partition P] [--cpus-per-task C] "
            "[--mem M]\n"
            "       spinepipe batch MANIFEST -o OUT --status | --summarize\n\n"
            "Run each study folder listed in MANIFEST (one per line; blank "
            "lines and\nlines starting with '#' ignored; relative paths are "
            "taken from the\nmanifest's folder) through 'spinepipe run'. "
            "Each study's outcome is\nwritten to OUT/outcomes/ when it "
            "ends; a study whose outcome is ok is\nskipped, so a rerun "
            "resumes where the last one stopped.\n\n"
            "  -o, --output OUT      output folder (created): studies/, "
            "logs/, outcomes/\n"
            "  -c, --config FILE     pipeline file (as for 'spinepipe run')\n"
            "  -s, --set S.P=V       stage parameter override (repeatable)\n"
            "  -j, --jobs N          studies processed at once (default 1; "
            "with --slurm:\n"
            "                        per task, default --cpus-per-task)\n"
            "  -f, --force           rerun studies and series that are "
            "done\n"
            "      --anonymize       as for 'spinepipe run'\n"
            "      --shard K/N       only studies whose 0-based manifest "
            "index i has\n"
            "                        i mod N == K (0 <= K < N); N such "
            "runs cover all\n"
            "      --slurm           submit a job array (sbatch) whose task "
            "K runs\n"
            "                        --shard K/N; prints the job ID\n"
            "      --array-size N    tasks in the array (default: studies, "
            "at most 100)\n"
            "      --partition P     Slurm partition\n"
            "      --cpus-per-task C CPUs per task\n"
            "      --mem M           memory per task (e.g. 4G)\n"
            "      --status          count done, failed and pending "
            "studies\n"
            "      --summarize       write OUT/summary.json and "
            "OUT/summary.csv\n"
            "      --log-level L     error, warn (default), info, debug\n"
            "  -h, --help            this help\n\n"
            "A run without --shard also writes the summary. Exit codes: 0 "
            "every\nstudy done, %d some failed (the rest done), %d studies "
            "still pending\n(interrupted, running elsewhere, or not run "
            "yet), 64 usage, 65 malformed\nmanifest, 66 manifest missing, "
            "69 sbatch failed, 73 cannot create OUT;\nwhen every study "
            "failed, the exit code of the first failure.\n",
            SP_EXIT_PARTIAL, SP_EXIT_PENDING);
}

typedef struct args {
    const char *out, *config, *shard, *partition, *mem;
    const char *sets[MAX_SETS];
    size_t n_sets;
    int jobs, force, anonymize, slurm, status, summarize;
    int array_size, cpus;
} args;

static int parse_int(const char *arg, const char *name, int lo, int hi,
                     int *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end || errno || v < lo || v > hi)
        return cli_usage_error("batch", "--%s '%s': expected %d to %d",
                               name, arg, lo, hi);
    *out = (int)v;
    return 0;
}

/* Slurm names and sizes: letters, digits and . _ - , only. */
static int slurm_word(const char *s)
{
    if (!*s || strlen(s) > 200)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789._-,") == strlen(s);
}

static int state_exit(const sp_batch_state *s)
{
    if (s->pending)
        return SP_EXIT_PENDING;
    return s->failed ? SP_EXIT_PARTIAL : SP_EXIT_OK;
}

static void print_state(FILE *f, const sp_batch_state *s)
{
    fprintf(f, "%zu studies: %zu done, %zu failed, %zu pending (%zu "
            "running)\n", s->studies, s->ok, s->failed, s->pending,
            s->running);
}

static int do_status(const sp_manifest *m, const args *a)
{
    sp_batch_state s;
    sp_batch_state_read(m, a->out, &s, stdout);
    print_state(stdout, &s);
    return state_exit(&s);
}

static int do_summarize(const sp_manifest *m, const args *a)
{
    sp_batch_state s;
    sp_error err;
    if (sp_mkdirs(a->out, &err) != SP_OK ||
        sp_batch_summary_write(m, a->out, &s, &err) != SP_OK)
        return cli_fail(&err);
    print_state(stderr, &s);
    fprintf(stderr, "spinepipe batch: wrote %s/summary.json and "
            "%s/summary.csv\n", a->out, a->out);
    return state_exit(&s);
}

static int do_slurm(const sp_manifest *m, const args *a)
{
    sp_error err;
    sp_study_runner r = {0};
    if (sp_study_runner_init(&r, &err) != SP_OK)
        return cli_fail(&err);
    char out[PATH_MAX], config[PATH_MAX];
    if (sp_mkdirs(a->out, &err) != SP_OK)
        return cli_fail(&err);
    if (!realpath(a->out, out)) {
        sp_error_set(&err, SP_CANTCREATE, "%s: %s", a->out, strerror(errno));
        return cli_fail(&err);
    }
    if (a->config && !realpath(a->config, config)) {
        sp_error_set(&err, SP_CONFIG, "%s: %s", a->config, strerror(errno));
        return cli_fail(&err);
    }
    int size = a->array_size ? a->array_size : 100;
    if ((size_t)size > m->n)
        size = (int)m->n;
    sp_slurm_options o = {
        .exe = r.exe, .manifest = m->path, .out_dir = out,
        .config = a->config ? config : NULL, .sets = a->sets,
        .n_sets = a->n_sets, .force = a->force, .anonymize = a->anonymize,
        .array_size = size,
        .jobs = a->jobs ? a->jobs : (a->cpus ? a->cpus : 1),
        .partition = a->partition, .cpus_per_task = a->cpus, .mem = a->mem};
    char script[PATH_MAX], job[64];
    if (sp_slurm_submit(&o, script, sizeof script, job, sizeof job, &err) !=
        SP_OK)
        return cli_fail(&err);
    printf("%s\n", job);
    fprintf(stderr,
            "spinepipe batch: submitted job array %s: %d tasks over %zu "
            "studies\n  script %s\n  task logs %s/slurm/logs/%s_<task>.log\n"
            "  progress: spinepipe batch %s -o %s --status\n",
            job, size, m->n, script, out, job, m->path, out);
    return SP_EXIT_OK;
}

static int do_run(const sp_manifest *m, const args *a)
{
    sp_error err;
    sp_study_runner r = {.out_dir = a->out, .config = a->config,
                         .sets = a->sets, .n_sets = a->n_sets,
                         .force = a->force, .anonymize = a->anonymize,
                         .shard = a->shard};
    sp_shard shard = {0, 0};
    if (a->shard && sp_shard_parse(a->shard, &shard, &err) != SP_OK)
        return cli_usage_error("batch", "%s", err.message);
    if (sp_study_runner_init(&r, &err) != SP_OK)
        return cli_fail(&err);
    sp_study_share_cpus(a->jobs ? a->jobs : 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waitpid must return */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sp_batch_counts c;
    if (sp_batch_manifest_run(m, &r, &shard, a->jobs ? a->jobs : 1,
                              &stop_flag, &c, &err) != SP_OK)
        return cli_fail(&err);
    fprintf(stderr, "spinepipe batch: %zu studies%s: %zu ok, %zu failed, "
            "%zu already done, %zu interrupted, %zu taken by another "
            "process\n", c.assigned, a->shard ? " in this shard" : "", c.ok,
            c.failed, c.done_before, c.interrupted, c.busy);
    if (!a->shard) {
        sp_batch_state s;
        if (sp_batch_summary_write(m, a->out, &s, &err) != SP_OK)
            return cli_fail(&err);
    }
    if (c.interrupted || c.busy)
        return SP_EXIT_PENDING;
    if (c.failed == 0)
        return SP_EXIT_OK;
    if (c.ok + c.done_before > 0)
        return SP_EXIT_PARTIAL;
    return c.first_exit ? c.first_exit : SP_EXIT_PARTIAL;
}

static int parse_args(int argc, char **argv, args *a)
{
    enum { O_ANON = 256, O_SHARD, O_SLURM, O_ARRAY, O_PART, O_CPUS, O_MEM,
           O_STATUS, O_SUMMARIZE, O_LOG };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"config", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"jobs", required_argument, NULL, 'j'},
        {"force", no_argument, NULL, 'f'},
        {"anonymize", no_argument, NULL, O_ANON},
        {"shard", required_argument, NULL, O_SHARD},
        {"slurm", no_argument, NULL, O_SLURM},
        {"array-size", required_argument, NULL, O_ARRAY},
        {"partition", required_argument, NULL, O_PART},
        {"cpus-per-task", required_argument, NULL, O_CPUS},
        {"mem", required_argument, NULL, O_MEM},
        {"status", no_argument, NULL, O_STATUS},
        {"summarize", no_argument, NULL, O_SUMMARIZE},
        {"log-level", required_argument, NULL, O_LOG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sp_error err;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "o:c:s:j:fh", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'o': a->out = optarg; break;
        case 'c': a->config = optarg; break;
        case 's':
            if (a->n_sets == MAX_SETS)
                return cli_usage_error("batch", "more than %d --set options",
                                       MAX_SETS);
            a->sets[a->n_sets++] = optarg;
            break;
        case 'j':
            if (parse_int(optarg, "jobs", 1, 256, &a->jobs))
                return 64;
            break;
        case 'f': a->force = 1; break;
        case O_ANON: a->anonymize = 1; break;
        case O_SHARD:
            a->shard = optarg;
            break;
        case O_SLURM: a->slurm = 1; break;
        case O_ARRAY:
            if (parse_int(optarg, "array-size", 1, 100000, &a->array_size))
                return 64;
            break;
        case O_PART:
            if (!slurm_word(optarg))
                return cli_usage_error("batch", "--partition '%s': letters, "
                                       "digits and . _ - , only", optarg);
            a->partition = optarg;
            break;
        case O_CPUS:
            if (parse_int(optarg, "cpus-per-task", 1, 4096, &a->cpus))
                return 64;
            break;
        case O_MEM:
            if (!slurm_word(optarg))
                return cli_usage_error("batch", "--mem '%s': a Slurm size "
                                       "such as 4G or 4000M", optarg);
            a->mem = optarg;
            break;
        case O_STATUS: a->status = 1; break;
        case O_SUMMARIZE: a->summarize = 1; break;
        case O_LOG:
            if (sp_log_set_levels(optarg, &err) != SP_OK)
                return cli_fail(&err);
            break;
        case 'h': print_help(stdout); return -1;
        default: return cli_usage_error("batch", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("batch", "no manifest given");
    if (optind + 1 < argc)
        return cli_usage_error("batch", "one manifest only (got '%s' too)",
                               argv[optind + 1]);
    if (!a->out)
        return cli_usage_error("batch", "no output folder given (-o OUT)");
    if (a->status + a->summarize + a->slurm + (a->shard != NULL) > 1)
        return cli_usage_error("batch", "--status, --summarize, --slurm "
                               "and --shard exclude each other");
    if (!a->slurm && (a->array_size || a->partition || a->cpus || a->mem))
        return cli_usage_error("batch", "--array-size, --partition, "
                               "--cpus-per-task and --mem need --slurm");
    if (a->shard) {
        sp_shard s;
        if (sp_shard_parse(a->shard, &s, &err) != SP_OK)
            return cli_usage_error("batch", "%s", err.message);
    }
    return 0;
}

int cmd_batch(int argc, char **argv)
{
    static args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? SP_EXIT_OK : rc;
    sp_manifest *m;
    sp_error err;
    if (sp_manifest_load(argv[optind], &m, &err) != SP_OK)
        return cli_fail(&err);
    if (a.status)
        rc = do_status(m, &a);
    else if (a.summarize)
        rc = do_summarize(m, &a);
    else if (a.slurm)
        rc = do_slurm(m, &a);
    else
        rc = do_run(m, &a);
    sp_manifest_free(m);
    return rc;
}
