/* spinepipe listen: a DICOM C-STORE receiver that runs each complete
 * series as `spinepipe run` would (in a child process, so a crash in one
 * job never takes the listener down; listen_jobs.h) and sends DICOM
 * results onwards. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_options.h"
#include "listen_jobs.h"
#include "engine/ondemand.h"
#include "net/net.h"

#define MAX_LIST 64

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: spinepipe listen --port P --spool DIR [--aet AET]\n"
            "                        [--dest AET@HOST:PORT]\n"
            "                        (--allow AET... | --allow-any)\n"
            "                        [--bind ADDR] [--jobs N] [--quiet S]\n"
            "                        [--settle S]\n"
            "                        [--max-associations N] "
            "[--idle-timeout S]\n"
            "                        [--max-dataset-mb N]\n"
            "                        [--tls-key PEM --tls-cert PEM "
            "[--tls-ca PEM]]\n"
            "                        [--send-attempts N] [--retry-delay S]\n"
            "                        [--send-seg]\n"
            "                        [--config FILE] [--set S.P=V]... "
            "[--log-level L]\n\n"
            "Receive CT and MR images with DICOM C-STORE, run each "
            "complete series\nthrough 'spinepipe run' and send DICOM "
            "results (Secondary Capture\nof the images, the measurements as "
            "a TID 1500 SR) to --dest. Every\ninstance is on disk in the spool "
            "before it is acknowledged; queued\nand interrupted jobs resume "
            "when the listener restarts. Stop with\nSIGINT or SIGTERM "
            "(running jobs finish first).\n\n"
            "  -p, --port P              TCP port to listen on\n"
            "  -d, --spool DIR           spool, job queue and results "
            "(created)\n"
            "  -a, --aet AET             our AE title (default SPINEPIPE)\n"
            "      --dest AET@HOST:PORT  where DICOM results are sent "
            "(default: kept)\n"
            "      --allow AET           accepted calling AE title "
            "(repeatable); others\n"
            "                            are refused\n"
            "      --allow-any           accept every calling AE title "
            "(one of the two\n"
            "                            is required)\n"
            "      --bind ADDR           IPv4 address to bind (default "
            "127.0.0.1)\n"
            "  -j, --jobs N              series processed in parallel "
            "(default 2)\n"
            "      --quiet S             a series is complete after S "
            "seconds without\n"
            "                            a new instance, or when its "
            "associations end\n"
            "                            (default 10)\n"
            "      --settle S            or S seconds without one once "
            "every association\n"
            "                            that sent it has ended or sent "
            "another series\n"
            "                            (default 0.5; 0: off)\n"
            "      --max-associations N  concurrent associations "
            "(default 8)\n"
            "      --idle-timeout S      abort an association silent for "
            "S seconds\n"
            "                            (default 60)\n"
            "      --max-dataset-mb N    abort an association sending a "
            "data set over\n"
            "                            N MiB (default 1024; fractions allowed)\n"
            "      --tls-key PEM         private key: TLS only, plaintext "
            "refused\n"
            "      --tls-cert PEM        our certificate (with --tls-key)\n"
            "      --tls-ca PEM          require client certificates "
            "signed by this CA\n"
            "      --send-attempts N     tries per result batch before the "
            "dead-letter\n"
            "                            folder (default 3)\n"
            "      --retry-delay S       seconds between tries (default "
            "10)\n"
            "      --send-seg            also send the segmentation as DICOM "
            "SEG\n"
            "  -c, --config FILE         pipeline file (as for 'spinepipe "
            "run')\n"
            "  -s, --set S.P=V           stage parameter override "
            "(repeatable)\n"
            "      --log-level L         error, warn (default), info, "
            "debug\n"
            "  -h, --help                this help\n\n"
            "Exit codes: 0 stopped by a signal, 64 usage, 69 cannot listen "
            "(port in\nuse), 73 cannot create the spool, 78 configuration.\n");
}

static int parse_number(const char *arg, const char *name, double lo,
                        double hi, double *out)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end || !(v >= lo && v <= hi))
        return cli_usage_error("listen", "--%s '%s': expected %g to %g",
                               name, arg, lo, hi);
    *out = v;
    return 0;
}

enum { O_DEST = CLI_OPT_OWN, O_ALLOW, O_BIND, O_QUIET, O_MAXASSOC, O_IDLE,
       O_ATTEMPTS, O_RETRY, O_ALLOW_ANY, O_MAXDS, O_TLS_KEY, O_TLS_CERT,
       O_TLS_CA, O_SEG, O_SETTLE, O_JOB_SERVER };

/* What listen's own options fill in. */
typedef struct listen_args {
    sp_listen_options o;
    listen_jobs *ctx;
    int job_server, have_dest, have_port;
    sp_net_peer dest;
    const char *allowed[MAX_LIST];
    size_t n_allowed;
} listen_args;

static int own_option(int opt, const char *arg, void *user)
{
    listen_args *a = user;
    sp_listen_options *o = &a->o;
    sp_error err;
    double v;
    switch (opt) {
    case 'p':
        if (parse_number(arg, "port", 1, 65535, &v))
            return 64;
        o->port = (int)v;
        a->have_port = v == (int)v;
        return 0;
    case 'd': o->spool = arg; return 0;
    case 'a': o->aet = arg; return 0;
    case O_DEST:
        if (sp_net_parse_peer(arg, &a->dest, &err) != SP_OK)
            return cli_usage_error("listen", "--dest %s", err.message);
        a->have_dest = 1;
        return 0;
    case O_ALLOW:
        if (a->n_allowed == MAX_LIST)
            return cli_usage_error("listen", "more than %d --allow",
                                   MAX_LIST);
        if (!sp_net_valid_aet(arg))
            return cli_usage_error("listen", "--allow '%s': invalid AE "
                                   "title", arg);
        a->allowed[a->n_allowed++] = arg;
        return 0;
    case O_ALLOW_ANY: o->allow_any = 1; return 0;
    case O_MAXDS:
        if (parse_number(arg, "max-dataset-mb", 0.01, 65536, &v))
            return 64;
        o->max_dataset_bytes = (size_t)(v * 1048576.0);
        return 0;
    case O_TLS_KEY: o->tls_key = arg; return 0;
    case O_TLS_CERT: o->tls_cert = arg; return 0;
    case O_TLS_CA: o->tls_ca = arg; return 0;
    case O_BIND: o->bind_addr = arg; return 0;
    case O_QUIET:
        return parse_number(arg, "quiet", 0.1, 86400, &o->quiet_seconds);
    case O_SETTLE:
        return parse_number(arg, "settle", 0, 86400, &o->settle_seconds);
    case O_MAXASSOC:
        if (parse_number(arg, "max-associations", 1, 1000, &v))
            return 64;
        o->max_associations = (int)v;
        return 0;
    case O_IDLE:
        if (parse_number(arg, "idle-timeout", 1, 86400, &v))
            return 64;
        o->idle_timeout = (int)v;
        return 0;
    case O_ATTEMPTS:
        if (parse_number(arg, "send-attempts", 1, 100, &v))
            return 64;
        o->send_attempts = (int)v;
        return 0;
    case O_RETRY:
        return parse_number(arg, "retry-delay", 0, 3600, &o->retry_seconds);
    case O_SEG: a->ctx->send_seg = 1; return 0;
    default: a->job_server = 1; return 0;
    }
}

int cmd_listen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"spool", required_argument, NULL, 'd'},
        {"aet", required_argument, NULL, 'a'},
        {"dest", required_argument, NULL, O_DEST},
        {"allow", required_argument, NULL, O_ALLOW},
        {"allow-any", no_argument, NULL, O_ALLOW_ANY},
        {"max-dataset-mb", required_argument, NULL, O_MAXDS},
        {"tls-key", required_argument, NULL, O_TLS_KEY},
        {"tls-cert", required_argument, NULL, O_TLS_CERT},
        {"tls-ca", required_argument, NULL, O_TLS_CA},
        {"bind", required_argument, NULL, O_BIND},
        {"quiet", required_argument, NULL, O_QUIET},
        {"settle", required_argument, NULL, O_SETTLE},
        {"max-associations", required_argument, NULL, O_MAXASSOC},
        {"idle-timeout", required_argument, NULL, O_IDLE},
        {"send-attempts", required_argument, NULL, O_ATTEMPTS},
        {"retry-delay", required_argument, NULL, O_RETRY},
        {"send-seg", no_argument, NULL, O_SEG},
        {"job-server", no_argument, NULL, O_JOB_SERVER},
        {NULL, 0, NULL, 0},
    };
    static listen_jobs ctx;
    memset(&ctx, 0, sizeof ctx);
    listen_args a = {0};
    a.ctx = &ctx;
    a.o = (sp_listen_options){.aet = "SPINEPIPE", .quiet_seconds = 10,
                              .settle_seconds = 0.5, .max_associations = 8,
                              .idle_timeout = 60, .jobs = 2,
                              .send_attempts = 3, .retry_seconds = 10};
    sp_listen_options *o = &a.o;
    const cli_spec spec = {
        .command = "listen",
        .options = CLI_OPT_CONFIG | CLI_OPT_SET | CLI_OPT_JOBS |
                   CLI_OPT_LOG_LEVEL,
        .own_short = "p:d:a:", .own_long = opts, .own = own_option,
        .user = &a, .help = print_help};
    cli_common com = {0};
    int rc = cli_parse(&spec, argc, argv, &com);
    if (rc != CLI_CONTINUE)
        return rc;
    if (com.jobs)
        o->jobs = com.jobs;
    ctx.config = com.config;
    ctx.sets = com.sets;
    ctx.n_sets = com.n_sets;
    /* Internal: a worker's child process (listen_jobs.h). */
    if (a.job_server)
        return listen_job_server_main(&ctx);
    if (!a.have_port)
        return cli_usage_error("listen", "no port given (--port P)");
    if (!o->spool)
        return cli_usage_error("listen", "no spool folder given (--spool "
                               "DIR)");
    if (!sp_net_valid_aet(o->aet))
        return cli_usage_error("listen", "--aet '%s': 1 to 16 printable "
                               "characters", o->aet);
    if (a.n_allowed == 0 && !o->allow_any)
        return cli_usage_error("listen", "no --allow AET given: name the "
                               "calling AE titles to accept, or --allow-any "
                               "to accept every one");
    if (!o->tls_key != !o->tls_cert || (o->tls_ca && !o->tls_key))
        return cli_usage_error("listen", "TLS needs both --tls-key and "
                               "--tls-cert (--tls-ca only with them)");
    ssize_t len = readlink("/proc/self/exe", ctx.exe, sizeof ctx.exe - 1);
    if (len <= 0)
        return cli_usage_error("listen", "cannot find the spinepipe "
                               "executable (/proc/self/exe)");
    ctx.exe[len] = '\0';
    o->allowed_aets = a.allowed;
    o->n_allowed_aets = a.n_allowed;
    o->dest = a.have_dest ? &a.dest : NULL;
    o->run_job = listen_run_job;
    o->worker_end = listen_jobs_thread_end;
    o->user = &ctx;
    sp_error err;
    const sp_ondemand_api *od = sp_ondemand(&err);
    if (!od)
        return cli_fail(&err);
    o->stop = cli_stop_on_signals();
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "spinepipe listen: %s on %s:%d%s, spool %s\n", o->aet,
            o->bind_addr ? o->bind_addr : "127.0.0.1", o->port,
            o->tls_key ? " (TLS)" : "", o->spool);
    pthread_mutex_init(&ctx.lock, NULL);
    sp_status st = od->listen(o, &err);
    listen_jobs_close(&ctx);
    pthread_mutex_destroy(&ctx.lock);
    if (st != SP_OK)
        return cli_fail(&err);
    return SP_EXIT_OK;
}
