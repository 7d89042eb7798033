/* The options that `spinepipe run`, `batch`, `watch` and `listen` share
 * (--output, --config, --set, --jobs, --force, --anonymize, --log-level,
 * --help) and their operand count, parsed and checked in one place so the
 * commands give the same messages and exit codes. */
#ifndef SPINEPIPE_CLI_OPTIONS_H
#define SPINEPIPE_CLI_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_MAX_SETS 64

/* Which of the shared options a command takes. */
enum {
    CLI_OPT_OUTPUT = 1 << 0,    /* -o, --output OUT; then required */
    CLI_OPT_CONFIG = 1 << 1,    /* -c, --config FILE */
    CLI_OPT_SET = 1 << 2,       /* -s, --set S.P=V (repeatable) */
    CLI_OPT_JOBS = 1 << 3,      /* -j, --jobs N (1 to 256) */
    CLI_OPT_FORCE = 1 << 4,     /* -f, --force */
    CLI_OPT_ANONYMIZE = 1 << 5, /* --anonymize */
    CLI_OPT_LOG_LEVEL = 1 << 6  /* --log-level L (applied at once) */
};

/* First getopt value free for a command's own long-only options. */
#define CLI_OPT_OWN 512

/* What the shared options said; zero where not given. */
typedef struct cli_common {
    const char *out, *config;
    const char *sets[CLI_MAX_SETS];
    size_t n_sets;
    int jobs, force, anonymize;
} cli_common;

typedef struct cli_spec {
    const char *command; /* "batch": names the command in messages */
    unsigned options;    /* CLI_OPT_* bits */
    /* The command's own options: short letters ("q:m:"), long ones
     * (NULL-terminated, may be NULL) and the function that takes one of
     * them; it returns 0, or the exit code after printing why. */
    const char *own_short;
    const struct option *own_long;
    int (*own)(int opt, const char *arg, void *user);
    void *user;
    void (*help)(FILE *out);
    /* Operands: at least min (else the message `missing`), at most max
     * (-1: no limit; 0: none); `operand` names one in "one manifest
     * only". */
    int min_operands, max_operands;
    const char *missing, *operand;
} cli_spec;

/* What cli_parse returns when the command should go on. */
#define CLI_CONTINUE (-1)

/* Parse argv (getopt_long, from argv[1]) into *common and the command's
 * own options, then check the operand count and that -o was given where
 * the command takes it. Returns CLI_CONTINUE with the operands at
 * argv[optind..argc), or the exit code to return: 0 after --help, 64 (or
 * the --log-level error's code) after printing the reason. */
int cli_parse(const cli_spec *spec, int argc, char **argv,
              cli_common *common);

#endif
