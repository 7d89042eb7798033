/* Logging: a level filter (default plus per-stage), a replaceable sink, and
 * a status line that only appears on a terminal. */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_STAGE_LEVELS 32

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static sp_log_fn sink;
static void *sink_user;
static sp_log_level default_level = SP_LOG_WARN;
static struct {
    char stage[64];
    sp_log_level level;
} stage_levels[MAX_STAGE_LEVELS];
static size_t n_stage_levels;
static int status_shown;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

const char *sp_log_level_name(sp_log_level level)
{
    return (unsigned)level <= SP_LOG_DEBUG ? level_names[level] : "debug";
}

static int parse_level(const char *text, size_t len, sp_log_level *out)
{
    for (int l = 0; l <= SP_LOG_DEBUG; l++)
        if (strlen(level_names[l]) == len &&
            strncmp(level_names[l], text, len) == 0) {
            *out = (sp_log_level)l;
            return 1;
        }
    if (len == 7 && strncmp(text, "warning", 7) == 0) {
        *out = SP_LOG_WARN;
        return 1;
    }
    return 0;
}

sp_status sp_log_set_levels(const char *spec, sp_error *err)
{
    sp_log_level def = default_level;
    size_t n = 0;
    __typeof__(stage_levels) parsed;
    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        sp_log_level level;
        if (!eq) {
            if (!parse_level(p, len, &level))
                return sp_error_set(err, SP_USAGE,
                                    "--log-level: unknown level '%.*s' "
                                    "(use error, warn, info or debug)",
                                    (int)len, p);
            def = level;
        } else {
            size_t name_len = (size_t)(eq - p);
            if (name_len == 0 || name_len >= sizeof parsed[0].stage ||
                n == MAX_STAGE_LEVELS ||
                !parse_level(eq + 1, len - name_len - 1, &level))
                return sp_error_set(err, SP_USAGE,
                                    "--log-level: cannot read '%.*s' (use "
                                    "LEVEL or STAGE=LEVEL, levels error, "
                                    "warn, info, debug)",
                                    (int)len, p);
            memcpy(parsed[n].stage, p, name_len);
            parsed[n].stage[name_len] = '\0';
            parsed[n].level = level;
            n++;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    pthread_mutex_lock(&log_lock);
    default_level = def;
    memcpy(stage_levels, parsed, sizeof parsed[0] * n);
    n_stage_levels = n;
    pthread_mutex_unlock(&log_lock);
    return SP_OK;
}

static sp_log_level level_for(const char *stage)
{
    if (stage)
        for (size_t i = 0; i < n_stage_levels; i++)
            if (strcmp(stage_levels[i].stage, stage) == 0)
                return stage_levels[i].level;
    return default_level;
}

int sp_log_enabled(sp_log_level level, const char *stage)
{
    pthread_mutex_lock(&log_lock);
    int on = level <= level_for(stage);
    pthread_mutex_unlock(&log_lock);
    return on;
}

void sp_log_set_callback(sp_log_fn fn, void *user)
{
    pthread_mutex_lock(&log_lock);
    sink = fn;
    sink_user = user;
    pthread_mutex_unlock(&log_lock);
}

static void clear_status_locked(void)
{
    if (status_shown) {
        fputs("\r\033[K", stderr);
        status_shown = 0;
    }
}

void sp_logv(sp_log_level level, const char *stage, const char *fmt,
             va_list ap)
{
    char message[2048];
    vsnprintf(message, sizeof message, fmt, ap);
    /* Stage names and messages may carry hostile text from DICOM tags. */
    for (unsigned char *c = (unsigned char *)message; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            *c = '?';
    pthread_mutex_lock(&log_lock);
    if (level <= level_for(stage)) {
        if (sink) {
            sink(sink_user, level, stage, message);
        } else {
            clear_status_locked();
            if (stage)
                fprintf(stderr, "spinepipe: %s: %s: %s\n",
                        sp_log_level_name(level), stage, message);
            else
                fprintf(stderr, "spinepipe: %s: %s\n",
                        sp_log_level_name(level), message);
        }
    }
    pthread_mutex_unlock(&log_lock);
}

void sp_log(sp_log_level level, const char *stage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_logv(level, stage, fmt, ap);
    va_end(ap);
}

void sp_log_status(const char *text)
{
    static int tty = -1;
    pthread_mutex_lock(&log_lock);
    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    if (tty) {
        clear_status_locked();
        if (text) {
            fprintf(stderr, "%s", text);
            status_shown = 1;
        }
        fflush(stderr);
    }
    pthread_mutex_unlock(&log_lock);
}
