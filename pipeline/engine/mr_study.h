/* One report for an MR study with a sagittal and axial T2 series
 * (docs/report-json.md, "study_report.json"): the sagittal series' levels,
 * every axial slice (`sections`) assigned to a disc level or vertebra by
 * the distance of its plane to the sagittal discs' centres in patient
 * space, and per disc level the narrowest axial canal section at it.
 * `spinepipe run` writes it after all series of a study; `spinepipe
 * mr-study` writes it again from a finished output folder. */
#ifndef SPINEPIPE_MR_STUDY_H
#define SPINEPIPE_MR_STUDY_H

#include <jansson.h>

#include "spinepipe/error.h"

/* The study report from the series reports `reports` (report.json
 * objects of one study), or NULL with the reason in `why` when they hold
 * no sagittal series with named disc levels or no axial series with
 * sections. */
json_t *sp_mr_study_combine(json_t *const *reports, size_t n, char *why,
                            size_t why_size);

/* Read every <study_dir>/<series>/report.json and write the study report
 * to `dst` (NULL: <study_dir>/study_report.json), atomically. *written is
 * 0 (and SP_OK returned) when the study has nothing to combine; `why`
 * then says why. Errors: SP_NOINPUT (no such folder), SP_CANTCREATE. */
sp_status sp_mr_study_write(const char *study_dir, const char *dst,
                            int *written, char *why, size_t why_size,
                            sp_error *err);

#endif
