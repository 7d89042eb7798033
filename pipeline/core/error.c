/* Error codes and reports: one table (SP_STATUS_MAP) gives names,
 * messages and exit-code bands. */
#include "spinepipe/error.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int exit_code;
    const char *message;
} status_table[] = {
#define SP_STATUS_ROW(name, band, msg) {#name, band, msg},
    SP_STATUS_MAP(SP_STATUS_ROW)
#undef SP_STATUS_ROW
};

static int status_valid(sp_status code)
{
    return (int)code >= 0 && code < SP_STATUS_COUNT;
}

const char *sp_status_name(sp_status code)
{
    return status_valid(code) ? status_table[code].name : "UNKNOWN";
}

const char *sp_status_message(sp_status code)
{
    return status_valid(code) ? status_table[code].message : "unknown error";
}

int sp_status_exit_code(sp_status code)
{
    return status_valid(code) ? status_table[code].exit_code : 70;
}

/* Replace C0 controls and DEL so a hostile file name or tag value cannot
 * move the cursor or clear the user's terminal. Bytes >= 0x80 are kept:
 * they are usually UTF-8. */
static void neutralise_controls(char *text)
{
    for (unsigned char *p = (unsigned char *)text; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}

sp_status sp_error_setv(sp_error *err, sp_status code, const char *fmt,
                        va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        neutralise_controls(err->message);
    }
    return code;
}

sp_status sp_error_set(sp_error *err, sp_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void sp_error_clear(sp_error *err)
{
    if (err) {
        err->code = SP_OK;
        err->message[0] = '\0';
    }
}
