/* The state of a whole manifest from its per-study outcome files:
 * `--status` counts, and `--summarize`'s summary.json and summary.csv. */
#ifndef SPINEPIPE_BATCH_SUMMARY_H
#define SPINEPIPE_BATCH_SUMMARY_H

#include <stdio.h>

#include "manifest.h"

typedef struct sp_batch_state {
    size_t studies, ok, failed, pending, running; /* running is in pending */
} sp_batch_state;

/* Count done (ok), failed and pending studies; print each failed study
 * with its reason on `out` when not NULL. */
void sp_batch_state_read(const sp_manifest *m, const char *out_dir,
                         sp_batch_state *state, FILE *out);

/* Write OUT/summary.json and OUT/summary.csv (both atomically): one
 * entry per manifest study, pending ones included. */
sp_status sp_batch_summary_write(const sp_manifest *m, const char *out_dir,
                                 sp_batch_state *state, sp_error *err);

#endif
