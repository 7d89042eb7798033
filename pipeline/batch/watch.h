/* `spinepipe watch DIR`: every folder dropped into DIR is a study, run
 * once through `spinepipe run` when it has been quiet (no file created,
 * written, moved or deleted anywhere in it, seen with inotify) for the
 * quiet period, or as soon as it holds the done-marker file. The state is
 * the batch layout under OUT (study.h): a study with an outcome file is
 * never run again, also after a restart; one interrupted (killed watcher,
 * SIGTERM) has none and runs again on the next start. Folders whose names
 * start with '.' are ignored, so a copy can land as ".name" and be renamed
 * when complete. */
#ifndef SPINEPIPE_BATCH_WATCH_H
#define SPINEPIPE_BATCH_WATCH_H

#include <signal.h>

#include "study.h"

typedef struct sp_watch_options {
    const char *dir;
    const sp_study_runner *runner; /* runner->once is set by the caller */
    double quiet_seconds;
    const char *done_marker;       /* file name, or NULL */
    int jobs;
    volatile sig_atomic_t *stop;
} sp_watch_options;

/* Watch until *stop is set; running studies are then ended unrecorded.
 * Fails with SP_NOINPUT when DIR is missing, SP_IO when inotify fails. */
sp_status sp_watch(const sp_watch_options *o, sp_error *err);

#endif
