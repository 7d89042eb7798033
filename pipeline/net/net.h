/* DICOM networking for `spinepipe listen`: a C-STORE SCP that spools each
 * instance to disk before acknowledging it, an on-disk job queue fed by
 * series completion, worker threads, and a C-STORE SCU with retries.
 * Internal to the project; the C++ side lives in scp.cc and scu.cc. */
#ifndef SPINEPIPE_NET_H
#define SPINEPIPE_NET_H

#include <signal.h>
#include <stddef.h>

#include "spinepipe/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A remote application entity: "AET@HOST:PORT". */
typedef struct sp_net_peer {
    char aet[17];
    char host[256];
    int port;
} sp_net_peer;

sp_status sp_net_parse_peer(const char *spec, sp_net_peer *out,
                            sp_error *err);
/* Nonzero when `aet` is a valid AE title (1-16 printable characters, not
 * all spaces, no backslash). */
int sp_net_valid_aet(const char *aet);

/* Runs one queued series: `series_dir` holds its spooled instances,
 * results go to `out_dir`. A failure is reported through err. */
typedef sp_status (*sp_job_fn)(void *user, const char *job_id,
                               const char *series_dir, const char *out_dir,
                               sp_error *err);

/* Default limit of one received data set (1 GiB). */
#define SP_NET_MAX_DATASET ((size_t)1 << 30)

typedef struct sp_listen_options {
    const char *aet;               /* our AE title */
    const char *bind_addr;         /* NULL: 127.0.0.1 */
    int port;
    const char *const *allowed_aets; /* accepted calling AE titles */
    size_t n_allowed_aets;
    int allow_any;                 /* nonzero: every calling AE title; else
                                      only allowed_aets (none: refuse all) */
    const char *spool;             /* spool and queue root (created) */
    double quiet_seconds;          /* series complete after this silence */
    double settle_seconds;         /* or after this one once its senders
                                      have ended or moved on to another
                                      series; 0: off (spool.h) */
    int max_associations;          /* concurrent associations */
    int idle_timeout;              /* seconds without a PDU, then abort */
    size_t max_dataset_bytes;      /* larger C-STORE data sets abort the
                                      association; 0: SP_NET_MAX_DATASET */
    /* TLS (DCMTK dcmtls over OpenSSL): with tls_key and tls_cert (PEM)
     * every association must be TLS; plaintext connections are dropped.
     * tls_ca (PEM file) makes client certificates mandatory and checked
     * against it. All NULL: plain TCP. */
    const char *tls_key;
    const char *tls_cert;
    const char *tls_ca;
    int jobs;                      /* worker threads */
    sp_job_fn run_job;
    void *user;
    /* Called (may be NULL) by each worker thread as it ends, with user:
     * what run_job kept per thread can be let go of there. */
    void (*worker_end)(void *user);
    const sp_net_peer *dest;       /* results sent here; NULL: kept */
    int send_attempts;             /* >= 1 */
    double retry_seconds;          /* pause between attempts */
    volatile sig_atomic_t *stop;   /* set (by a signal handler) to stop */
} sp_listen_options;

/* Listen until *stop is set, then finish running jobs and return. The spool
 * layout is described in docs/listen.md. */
sp_status sp_listen(const sp_listen_options *o, sp_error *err);

/* Send DICOM files with C-STORE on one association. Every file must be
 * acknowledged with success for SP_OK. */
sp_status sp_net_send(const sp_net_peer *dest, const char *our_aet,
                      const char *const *files, size_t n_files,
                      int timeout_seconds, sp_error *err);

/* sp_net_send with `attempts` tries `pause` seconds apart; when all fail
 * the files are moved to dead_letter_dir (created) and the last error is
 * returned. */
sp_status sp_net_send_retry(const sp_net_peer *dest, const char *our_aet,
                            const char *const *files, size_t n_files,
                            int attempts, double pause,
                            const char *dead_letter_dir, sp_error *err);

#ifdef __cplusplus
}
#endif

#endif
