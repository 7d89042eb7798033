/* `spinepipe run`: scan inputs, choose and validate pipelines, and run
 * every series through its pipeline on a pool of threads, writing to
 * OUT/<study>/<series>/ with run.json as the completion marker. */
#ifndef SPINEPIPE_BATCH_H
#define SPINEPIPE_BATCH_H

#include <stddef.h>

#include "engine.h"

typedef struct sp_batch_options {
    const char *const *inputs;
    size_t n_inputs;
    const char *out_dir;
    const char *config_path;        /* NULL: chosen per series */
    const char *const *overrides;   /* --set STAGE.PARAM=VALUE */
    size_t n_overrides;
    int jobs;                       /* >= 1 */
    int force;                      /* rerun series already done */
    int anonymize;                  /* SP_RUN_ANONYMIZE for every stage */
    const char *dicom_out;          /* NULL, or DICOM results go to
                                       DICOM_OUT/<study>/<series>/ */
    int dicom_seg;                  /* with dicom_out: also the SEG */
} sp_batch_options;

typedef struct sp_batch_result {
    size_t n_series;
    size_t n_ok;
    size_t n_failed;
    size_t n_skipped;       /* done in an earlier run */
    sp_status first_error;  /* of the first failed series */
} sp_batch_result;

/* Returns SP_OK when the batch ran (look at result for failures), or the
 * error that stopped anything from running (bad config, no input). */
sp_status sp_batch_run(const sp_batch_options *o, sp_batch_result *result,
                       sp_error *err);

/* Folder names for a series: "<study>" and "<number>_<description>_<hash>"
 * built with sp_safe_name (never raw DICOM strings). With `anonymize` the
 * study folder is "study-<hash of the study UID>" instead of the UID. */
void sp_series_dir_names(const sp_dicom_series *s, int anonymize,
                         char *study, size_t study_size, char *series,
                         size_t series_size);

#endif
