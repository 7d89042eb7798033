/* spinepipe — error codes and error reports.
 *
 * Every fallible call returns an sp_status and, when given a non-NULL
 * sp_error, fills it with a sentence naming the file, tag or parameter and
 * what is wrong. The codes come from one X-macro table so the enum, the
 * code's name and its generic message can never drift apart.
 *
 * The CLI maps each code to an exit-code band (see sp_status_exit_code and
 * docs/exit-codes.md).
 */
#ifndef SPINEPIPE_ERROR_H
#define SPINEPIPE_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, exit-code band, generic message)
 * Bands follow sysexits.h: 64 usage, 65 data, 66 no input, 69 unavailable,
 * 70 software, 73 cannot create, 74 I/O, 78 config. */
#define SP_STATUS_MAP(X)                                                      \
    X(OK, 0, "success")                                                       \
    X(USAGE, 64, "invalid command-line usage")                                \
    X(NOMEM, 70, "out of memory")                                             \
    X(NOINPUT, 66, "input not found or unreadable")                           \
    X(IO, 74, "input/output error")                                           \
    X(NOTDICOM, 65, "not a DICOM file")                                       \
    X(NOTIMAGE, 65, "DICOM object holds no image")                            \
    X(UNSUPPORTED, 65, "unsupported data")                                    \
    X(DECODE, 65, "pixel data could not be decoded")                          \
    X(FORMAT, 65, "malformed data")                                           \
    X(GEOMETRY, 65, "inconsistent or missing image geometry")                 \
    X(LIMIT, 65, "input exceeds a configured limit")                          \
    X(CANTCREATE, 73, "output could not be created")                          \
    X(CONFIG, 78, "invalid configuration")                                    \
    X(PLUGIN, 78, "stage plugin could not be loaded")                         \
    X(STAGE, 70, "a pipeline stage failed")                                   \
    X(NOTANALYSABLE, 65, "series not analysable")                             \
    X(NETWORK, 69, "network error")                                           \
    X(INTERNAL, 70, "internal error")

typedef enum sp_status {
#define SP_STATUS_ENUM(name, band, msg) SP_##name,
    SP_STATUS_MAP(SP_STATUS_ENUM)
#undef SP_STATUS_ENUM
    SP_STATUS_COUNT
} sp_status;

/* Short upper-case name, e.g. "DECODE". Never NULL. */
const char *sp_status_name(sp_status code);
/* Generic one-line message for the code. Never NULL. */
const char *sp_status_message(sp_status code);
/* Process exit code (sysexits band) for a failure with this code. */
int sp_status_exit_code(sp_status code);

#define SP_ERROR_MESSAGE_MAX 1024

/* A failure report: the code plus a sentence for a person. */
typedef struct sp_error {
    sp_status code;
    char message[SP_ERROR_MESSAGE_MAX];
} sp_error;

/* Fill err (if not NULL) and return code, so callers can write
 *   return sp_error_set(err, SP_IO, "%s: cannot open: %s", path, strerror(e));
 * Control characters in the formatted text are replaced so hostile
 * strings (file names, DICOM tags) cannot rewrite the user's terminal. */
sp_status sp_error_set(sp_error *err, sp_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
sp_status sp_error_setv(sp_error *err, sp_status code, const char *fmt,
                        va_list ap);
/* Reset to SP_OK with an empty message. */
void sp_error_clear(sp_error *err);

#ifdef __cplusplus
}
#endif

#endif
