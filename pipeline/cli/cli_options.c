/* The shared options of run, batch, watch and listen (cli_options.h). */
#include "cli_options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/log.h"

enum { O_ANONYMIZE = 256, O_LOG_LEVEL };

static const struct {
    unsigned bit;
    struct option opt;
    const char *short_opt;
} shared[] = {
    {CLI_OPT_OUTPUT, {"output", required_argument, NULL, 'o'}, "o:"},
    {CLI_OPT_CONFIG, {"config", required_argument, NULL, 'c'}, "c:"},
    {CLI_OPT_SET, {"set", required_argument, NULL, 's'}, "s:"},
    {CLI_OPT_JOBS, {"jobs", required_argument, NULL, 'j'}, "j:"},
    {CLI_OPT_FORCE, {"force", no_argument, NULL, 'f'}, "f"},
    {CLI_OPT_ANONYMIZE, {"anonymize", no_argument, NULL, O_ANONYMIZE}, ""},
    {CLI_OPT_LOG_LEVEL, {"log-level", required_argument, NULL, O_LOG_LEVEL},
     ""},
};
#define N_SHARED (sizeof shared / sizeof shared[0])

/* The option table and short-option string of one command: the shared
 * options it takes, its own, --help. */
typedef struct table {
    struct option *opts;
    char short_opts[64];
} table;

static sp_status table_make(const cli_spec *spec, table *t, sp_error *err)
{
    size_t n_own = 0;
    while (spec->own_long && spec->own_long[n_own].name)
        n_own++;
    t->opts = calloc(N_SHARED + n_own + 2, sizeof *t->opts);
    if (!t->opts)
        return sp_error_set(err, SP_NOMEM, "spinepipe %s: no memory for "
                            "the option table", spec->command);
    size_t n = 0;
    strcpy(t->short_opts, ":"); /* ':' for a missing value: cli_option_error */
    for (size_t i = 0; i < N_SHARED; i++) {
        if (!(spec->options & shared[i].bit))
            continue;
        t->opts[n++] = shared[i].opt;
        strcat(t->short_opts, shared[i].short_opt);
    }
    for (size_t i = 0; i < n_own; i++)
        t->opts[n++] = spec->own_long[i];
    t->opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    if (spec->own_short && strlen(t->short_opts) + strlen(spec->own_short) +
                               2 > sizeof t->short_opts) {
        free(t->opts);
        return sp_error_set(err, SP_INTERNAL, "spinepipe %s: too many "
                            "short options", spec->command);
    }
    if (spec->own_short)
        strcat(t->short_opts, spec->own_short);
    strcat(t->short_opts, "h");
    return SP_OK;
}

/* One shared option; 0, or the exit code after printing why. */
static int take_shared(const char *command, int opt, const char *arg,
                       cli_common *c)
{
    switch (opt) {
    case 'o': c->out = arg; return 0;
    case 'c': c->config = arg; return 0;
    case 's':
        if (c->n_sets == CLI_MAX_SETS)
            return cli_usage_error(command, "more than %d --set options",
                                   CLI_MAX_SETS);
        c->sets[c->n_sets++] = arg;
        return 0;
    case 'j': {
        char *end;
        errno = 0;
        long n = strtol(arg, &end, 10);
        if (end == arg || *end || errno || n < 1 || n > 256)
            return cli_usage_error(command, "--jobs '%s': expected 1 to 256",
                                   arg);
        c->jobs = (int)n;
        return 0;
    }
    case 'f': c->force = 1; return 0;
    case O_ANONYMIZE: c->anonymize = 1; return 0;
    case O_LOG_LEVEL: {
        sp_error err;
        if (sp_log_set_levels(arg, &err) != SP_OK)
            return cli_fail(&err);
        return 0;
    }
    default: return cli_usage_error(command, "unknown option");
    }
}

static int is_shared(const cli_spec *spec, int opt)
{
    for (size_t i = 0; i < N_SHARED; i++)
        if ((spec->options & shared[i].bit) && shared[i].opt.val == opt)
            return 1;
    return 0;
}

static int parse_options(const cli_spec *spec, const table *t, int argc,
                         char **argv, cli_common *common)
{
    optind = 1;
    opterr = 0;
    for (;;) {
        int opt = getopt_long(argc, argv, t->short_opts, t->opts, NULL);
        if (opt == -1)
            return CLI_CONTINUE;
        if (opt == '?' || opt == ':')
            return cli_option_error(spec->command, opt, argv);
        int rc;
        if (opt == 'h') {
            spec->help(stdout);
            return 0;
        }
        if (!is_shared(spec, opt) && spec->own)
            rc = spec->own(opt, optarg, spec->user);
        else
            rc = take_shared(spec->command, opt, optarg, common);
        if (rc)
            return rc;
    }
}

static int check_operands(const cli_spec *spec, int argc, char **argv)
{
    int n = argc - optind;
    if (n < spec->min_operands)
        return cli_usage_error(spec->command, "%s", spec->missing);
    if (spec->max_operands == 0 && n > 0)
        return cli_usage_error(spec->command, "unexpected argument '%s'",
                               argv[optind]);
    if (spec->max_operands > 0 && n > spec->max_operands)
        return cli_usage_error(spec->command, "one %s only (got '%s' too)",
                               spec->operand,
                               argv[optind + spec->max_operands]);
    return CLI_CONTINUE;
}

int cli_parse(const cli_spec *spec, int argc, char **argv,
              cli_common *common)
{
    table t;
    sp_error err;
    if (table_make(spec, &t, &err) != SP_OK)
        return cli_fail(&err);
    int rc = parse_options(spec, &t, argc, argv, common);
    free(t.opts);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = check_operands(spec, argc, argv);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((spec->options & CLI_OPT_OUTPUT) && !common->out)
        return cli_usage_error(spec->command,
                               "no output folder given (-o OUT)");
    return CLI_CONTINUE;
}
