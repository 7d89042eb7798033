/* What `spinepipe run` left for a study: series counts from each run.json
 * and the key measurements of each report.json. */
#ifndef SPINEPIPE_BATCH_RESULTS_H
#define SPINEPIPE_BATCH_RESULTS_H

#include <jansson.h>

/* {"total", "ok", "failed"} and "results": one object per series
 * (folder, modality, description, status, levels with canal AP, canal
 * area, disc height and the worst finding, not_analysable) read from
 * study_dir/<study>/<series>/. Never NULL. */
json_t *sp_study_results(const char *study_dir);

/* The narrowest canal over all levels of all series of an outcome's
 * results: sets *level (owned by the json) and returns the AP in mm, or
 * a negative value when no level was measured. */
double sp_results_min_canal(const json_t *results, const char **level);
/* Number of levels whose worst finding is worse than "normal", and the
 * worst severity name over all ("" when none). */
int sp_results_findings(const json_t *results, const char **worst);

#endif
