/* The spool: received instances and the job queue on disk.
 *
 *   SPOOL/tmp/                 instances being written (deleted on start)
 *   SPOOL/incoming/<series>/   acknowledged instances of open series
 *   SPOOL/jobs/<id>/           instances of a complete series
 *   SPOOL/queue/{pending,running,done,failed}/<id>.json
 *   SPOOL/results/<id>/        pipeline outputs
 *   SPOOL/dead-letter/<id>/    results the destination never accepted
 *
 * Every state change is a rename, so a crash leaves each job in exactly
 * one state. <series> and the instance file names are hashes of the UIDs,
 * so a resent instance replaces itself instead of counting twice. */
#ifndef SPINEPIPE_NET_SPOOL_H
#define SPINEPIPE_NET_SPOOL_H

#include <stddef.h>

#include "spinepipe/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_spool sp_spool;

/* Create the layout and recover from a previous run: temporaries deleted,
 * running jobs back to pending, series folders without a queue entry
 * queued, open series tracked again (complete after the quiet period).
 * A series is complete when every association that sent to it has ended,
 * or after quiet_seconds without a new instance, or after settle_seconds
 * (<= 0: never) without one when a single association sent it, that
 * association has sent an instance of another series since, and no other
 * association with the same calling AE title is open. Instances of a
 * series that arrive after its job was queued join that job while it is
 * pending; after it has started they make a new job that holds the whole
 * updated series (the earlier instances hard-linked). */
sp_status sp_spool_open(const char *root, double quiet_seconds,
                        double settle_seconds, sp_spool **out, sp_error *err);
void sp_spool_close(sp_spool *s);
const char *sp_spool_root(const sp_spool *s);

/* A fresh temporary path for one incoming instance. */
void sp_spool_tmp_path(sp_spool *s, char *buf, size_t size);
/* Move a written, fsynced temporary into its series; the instance is safe
 * on disk when this returns SP_OK. */
sp_status sp_spool_commit(sp_spool *s, const char *tmp_path,
                          const char *series_uid, const char *sop_uid,
                          unsigned long assoc, sp_error *err);
/* An association was accepted; calling_aet: its calling AE title. */
void sp_spool_assoc_begin(sp_spool *s, unsigned long assoc,
                          const char *calling_aet);
/* An association ended: its series are complete unless another open
 * association is still sending to them. */
void sp_spool_assoc_end(sp_spool *s, unsigned long assoc);
/* Queue series that have become complete by the quiet or settle
 * period. */
void sp_spool_poll(sp_spool *s);

/* Take the oldest pending job (moved to running); waits up to `wait`
 * seconds. Returns 0 when none. */
int sp_spool_take(sp_spool *s, double wait, char *id, size_t id_size);
/* Finish a running job: done, or failed with the reason. */
void sp_spool_finish(sp_spool *s, const char *id, const char *error);
/* Wake every waiting worker (shutdown). */
void sp_spool_wake(sp_spool *s);

#ifdef __cplusplus
}
#endif

#endif
