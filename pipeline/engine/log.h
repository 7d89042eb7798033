/* Logging and the terminal status line: one replaceable callback, levels
 * per stage ("warn,window=debug"), messages on stderr by default. Human
 * output only; results go to files or JSON on stdout. Thread-safe. */
#ifndef SPINEPIPE_LOG_H
#define SPINEPIPE_LOG_H

#include <stdarg.h>

#include "spinepipe/stage.h"

typedef void (*sp_log_fn)(void *user, sp_log_level level, const char *stage,
                          const char *message);

/* Replace the sink (NULL restores the stderr sink). */
void sp_log_set_callback(sp_log_fn fn, void *user);
/* "info", or "warn,window=debug,png=error": a default level and per-stage
 * levels. Returns SP_USAGE with a reason on an unknown level name. */
sp_status sp_log_set_levels(const char *spec, sp_error *err);
int sp_log_enabled(sp_log_level level, const char *stage);
void sp_log(sp_log_level level, const char *stage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sp_logv(sp_log_level level, const char *stage, const char *fmt,
             va_list ap);
/* Show `text` as the one-line status on stderr when stderr is a terminal
 * (redrawn in place; log messages clear it first). NULL clears it. */
void sp_log_status(const char *text);
const char *sp_log_level_name(sp_log_level level);

#endif
