/* spinepipe batch: the study folders of a manifest through `spinepipe
 * run`, resumable, locally (optionally one shard) or as a Slurm job array;
 * --status and --summarize read the per-study outcome files. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/runner.h"
#include "batch/slurm.h"
#include "batch/summary.h"
#include "cli.h"
#include "cli_options.h"
#include "output/output.h"

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
    cli_common c;
    const char *shard, *partition, *mem;
    int slurm, status, summarize;
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
    sp_batch_state_read(m, a->c.out, &s, stdout);
    print_state(stdout, &s);
    return state_exit(&s);
}

static int do_summarize(const sp_manifest *m, const args *a)
{
    sp_batch_state s;
    sp_error err;
    if (sp_mkdirs(a->c.out, &err) != SP_OK ||
        sp_batch_summary_write(m, a->c.out, &s, &err) != SP_OK)
        return cli_fail(&err);
    print_state(stderr, &s);
    fprintf(stderr, "spinepipe batch: wrote %s/summary.json and "
            "%s/summary.csv\n", a->c.out, a->c.out);
    return state_exit(&s);
}

static int do_slurm(const sp_manifest *m, const args *a)
{
    sp_error err;
    sp_study_runner r = {0};
    if (sp_study_runner_init(&r, &err) != SP_OK)
        return cli_fail(&err);
    char out[PATH_MAX], config[PATH_MAX];
    if (sp_mkdirs(a->c.out, &err) != SP_OK)
        return cli_fail(&err);
    if (!realpath(a->c.out, out)) {
        sp_error_set(&err, SP_CANTCREATE, "%s: %s", a->c.out, strerror(errno));
        return cli_fail(&err);
    }
    if (a->c.config && !realpath(a->c.config, config)) {
        sp_error_set(&err, SP_CONFIG, "%s: %s", a->c.config, strerror(errno));
        return cli_fail(&err);
    }
    int size = a->array_size ? a->array_size : 100;
    if ((size_t)size > m->n)
        size = (int)m->n;
    sp_slurm_options o = {
        .exe = r.exe, .manifest = m->path, .out_dir = out,
        .config = a->c.config ? config : NULL, .sets = a->c.sets,
        .n_sets = a->c.n_sets, .force = a->c.force, .anonymize = a->c.anonymize,
        .array_size = size,
        .jobs = a->c.jobs ? a->c.jobs : (a->cpus ? a->cpus : 1),
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
    sp_study_runner r = {.out_dir = a->c.out, .config = a->c.config,
                         .sets = a->c.sets, .n_sets = a->c.n_sets,
                         .force = a->c.force, .anonymize = a->c.anonymize,
                         .shard = a->shard};
    sp_shard shard = {0, 0};
    if (a->shard && sp_shard_parse(a->shard, &shard, &err) != SP_OK)
        return cli_usage_error("batch", "%s", err.message);
    if (sp_study_runner_init(&r, &err) != SP_OK)
        return cli_fail(&err);
    sp_study_share_cpus(a->c.jobs ? a->c.jobs : 1);
    volatile sig_atomic_t *stop = cli_stop_on_signals();
    sp_batch_counts c;
    if (sp_batch_manifest_run(m, &r, &shard, a->c.jobs ? a->c.jobs : 1,
                              stop, &c, &err) != SP_OK)
        return cli_fail(&err);
    fprintf(stderr, "spinepipe batch: %zu studies%s: %zu ok, %zu failed, "
            "%zu already done, %zu interrupted, %zu taken by another "
            "process\n", c.assigned, a->shard ? " in this shard" : "", c.ok,
            c.failed, c.done_before, c.interrupted, c.busy);
    if (!a->shard) {
        sp_batch_state s;
        if (sp_batch_summary_write(m, a->c.out, &s, &err) != SP_OK)
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

enum { O_SHARD = CLI_OPT_OWN, O_SLURM, O_ARRAY, O_PART, O_CPUS, O_MEM,
       O_STATUS, O_SUMMARIZE };

static int own_option(int opt, const char *arg, void *user)
{
    args *a = user;
    switch (opt) {
    case O_SHARD: a->shard = arg; return 0;
    case O_SLURM: a->slurm = 1; return 0;
    case O_ARRAY: return parse_int(arg, "array-size", 1, 100000,
                                   &a->array_size);
    case O_PART:
        if (!slurm_word(arg))
            return cli_usage_error("batch", "--partition '%s': letters, "
                                   "digits and . _ - , only", arg);
        a->partition = arg;
        return 0;
    case O_CPUS: return parse_int(arg, "cpus-per-task", 1, 4096, &a->cpus);
    case O_MEM:
        if (!slurm_word(arg))
            return cli_usage_error("batch", "--mem '%s': a Slurm size such "
                                   "as 4G or 4000M", arg);
        a->mem = arg;
        return 0;
    case O_STATUS: a->status = 1; return 0;
    default: a->summarize = 1; return 0;
    }
}

static int parse_args(int argc, char **argv, args *a)
{
    static const struct option opts[] = {
        {"shard", required_argument, NULL, O_SHARD},
        {"slurm", no_argument, NULL, O_SLURM},
        {"array-size", required_argument, NULL, O_ARRAY},
        {"partition", required_argument, NULL, O_PART},
        {"cpus-per-task", required_argument, NULL, O_CPUS},
        {"mem", required_argument, NULL, O_MEM},
        {"status", no_argument, NULL, O_STATUS},
        {"summarize", no_argument, NULL, O_SUMMARIZE},
        {NULL, 0, NULL, 0},
    };
    const cli_spec spec = {
        .command = "batch",
        .options = CLI_OPT_OUTPUT | CLI_OPT_CONFIG | CLI_OPT_SET |
                   CLI_OPT_JOBS | CLI_OPT_FORCE | CLI_OPT_ANONYMIZE |
                   CLI_OPT_LOG_LEVEL,
        .own_long = opts, .own = own_option, .user = a, .help = print_help,
        .min_operands = 1, .max_operands = 1,
        .missing = "no manifest given", .operand = "manifest"};
    int rc = cli_parse(&spec, argc, argv, &a->c);
    if (rc != CLI_CONTINUE)
        return rc;
    if (a->status + a->summarize + a->slurm + (a->shard != NULL) > 1)
        return cli_usage_error("batch", "--status, --summarize, --slurm "
                               "and --shard exclude each other");
    if (!a->slurm && (a->array_size || a->partition || a->cpus || a->mem))
        return cli_usage_error("batch", "--array-size, --partition, "
                               "--cpus-per-task and --mem need --slurm");
    if (a->shard) {
        sp_shard s;
        sp_error err;
        if (sp_shard_parse(a->shard, &s, &err) != SP_OK)
            return cli_usage_error("batch", "%s", err.message);
    }
    return CLI_CONTINUE;
}

int cmd_batch(int argc, char **argv)
{
    static args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_CONTINUE)
        return rc;
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
