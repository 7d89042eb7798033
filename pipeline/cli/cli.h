/* The spinepipe command-line tool: one executable, one function per
 * subcommand (cmd_<name>.c), dispatched from main.c. */
#ifndef SPINEPIPE_CLI_H
#define SPINEPIPE_CLI_H

#include <signal.h>

#include "spinepipe/error.h"

/* Exit codes (docs/exit-codes.md). Failures use the sysexits band of their
 * sp_status (sp_status_exit_code); these two are ours. */
enum {
    SP_EXIT_OK = 0,
    SP_EXIT_PARTIAL = 3, /* some inputs were skipped or failed, rest ok */
    SP_EXIT_PENDING = 75 /* batch: studies not finished yet (EX_TEMPFAIL) */
};

/* A subcommand gets argv with argv[0] set to "spinepipe <name>" and returns
 * the process exit code. It prints its own --help. */
typedef int (*cli_command_fn)(int argc, char **argv);

typedef struct cli_command {
    const char *name;
    const char *summary; /* one line, for `spinepipe --help` */
    cli_command_fn run;
} cli_command;

/* Print "spinepipe: <message>" on stderr and return the exit code for the
 * error's status. */
int cli_fail(const sp_error *err);

/* Print a usage error ("spinepipe <cmd>: <message>; try --help") and
 * return 64. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The usage error for what getopt_long returned as ':' (a missing value)
 * or '?' (an unknown option), naming the option as typed. Every getopt
 * loop sets opterr = 0 and starts its short options with ':' so that this
 * is the only message. */
int cli_option_error(const char *command, int opt, char **argv);

/* Catch SIGINT and SIGTERM from now on (without SA_RESTART, so blocking
 * calls return); returns the flag they set, for the loop to poll. */
volatile sig_atomic_t *cli_stop_on_signals(void);

int cmd_batch(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_listen(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_phantom(int argc, char **argv);
int cmd_mr_study(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_stages(int argc, char **argv);
int cmd_watch(int argc, char **argv);

#endif
