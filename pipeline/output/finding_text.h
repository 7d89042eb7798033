/* The words for a finding of report.json, one source for the report
 * images (stage `report`) and a run's index.html, so both say the same. */
#ifndef SPINEPIPE_FINDING_TEXT_H
#define SPINEPIPE_FINDING_TEXT_H

#include <stddef.h>

#include <jansson.h>

/* A finding's severity as a rank: 0 normal, 1 relative / mild,
 * 2 moderate, 3 absolute / severe; -1 for NULL or an unknown word. */
int sp_severity_rank(const char *severity);

/* The highest rank among a report.json level's "findings"; -1 when it has
 * none with a known severity. */
int sp_level_worst_rank(const json_t *level);

/* The rank in words ("relative / mild"); "not assessed" outside 0..3. */
const char *sp_severity_words(int rank);

/* A finding object ({"code", "type", "position", "side", ...}) in words:
 * "canal AP stenosis", "disc herniation left paracentral". Truncated to
 * size; "" when it has no code. */
void sp_finding_text(const json_t *finding, char *out, size_t size);

#endif
