/* The spine model and the canal sections as JSON tables, so the CT
 * analysis stages can hand them to each other through the artifact store
 * (docs/report-json.md, "CT analysis artifacts"). Built into each of
 * those stage modules. Every reader treats the table as hostile: sizes,
 * types and ranges are checked and a bad table is an SP_FORMAT error
 * naming the key. */
#ifndef SPINEPIPE_SPINE_JSON_H
#define SPINEPIPE_SPINE_JSON_H

#include <string.h>

#include <jansson.h>

#include "spine_model.h"

/* {"curve": {...}, "vertebrae": [...], ...}; NULL when out of memory. */
json_t *spine_model_to_json(const spine_model *m);
/* Fills *m (the curve arrays malloc'd: free with spine_curve_free). */
sp_status spine_model_from_json(const json_t *j, spine_model *m,
                                sp_error *err);

/* Section metadata as a JSON array (one object per section); the masks
 * travel as a MASK volume CANAL_GRID x CANAL_GRID x n. */
json_t *canal_sections_to_json(const canal_result *r);
/* Rebuilds r (r->sec malloc'd: free with free()) from the array and the
 * mask volume. */
sp_status canal_sections_from_json(const json_t *j, const sp_volume *masks,
                                   canal_result *r, sp_error *err);

/* A kernel's SP_NOTANALYSABLE message without its "not analysable: "
 * prefix (the table key and the log line say it already). */
static inline const char *spine_reason(const char *message)
{
    static const char prefix[] = "not analysable: ";
    return strncmp(message, prefix, sizeof prefix - 1) == 0
               ? message + sizeof prefix - 1
               : message;
}

/* The reason a table says the series is not analysable, or NULL. */
const char *spine_not_analysable(const json_t *table);

#endif
