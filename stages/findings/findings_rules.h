/* Rules of the `findings` stage: from a measurements table (the `measures`
 * artifact, docs/report-json.md) to findings per disc level, each with its
 * measured value, the threshold it was judged against and that
 * threshold's literature source (../shared/CLINICAL.md). Pure JSON in,
 * JSON out, so the rules are tested on hand-made tables. */
#ifndef SPINEPIPE_FINDINGS_RULES_H
#define SPINEPIPE_FINDINGS_RULES_H

#include <jansson.h>

/* Which cut-offs apply: the modality decides what `canal_ap_mm` is (CT:
 * bony canal; MR: dural sac), the region which levels are judged. */
typedef enum findings_profile {
    FINDINGS_CT_LUMBAR,
    FINDINGS_MR_LUMBAR,
    FINDINGS_MR_CERVICAL,
    FINDINGS_N_PROFILES
} findings_profile;

/* One entry per threshold parameter of the stage. */
typedef enum findings_threshold {
    FT_CT_AP_RELATIVE,
    FT_CT_AP_ABSOLUTE,
    FT_MR_AP,
    FT_AREA_RELATIVE,
    FT_AREA_ABSOLUTE,
    FT_CERVICAL_AP_RELATIVE,
    FT_CERVICAL_AP_ABSOLUTE,
    FT_COMPRESSION_MILD,
    FT_COMPRESSION_MODERATE,
    FT_COMPRESSION_SEVERE,
    FT_DHI_REDUCED,
    FT_DISPLACEMENT_MIN,
    FT_BULGE_EXTENT,
    FT_OSTEOPHYTE,
    FT_FORAMEN,
    FT_COUNT
} findings_threshold;

typedef struct findings_config {
    findings_profile profile;
    double value[FT_COUNT];
    int overridden[FT_COUNT]; /* set in config instead of the default */
} findings_config;

/* The literature source of a threshold's default. */
const char *findings_source(findings_threshold t);
const char *findings_profile_name(findings_profile p);

/* The profile for a series: cervical when most named levels are C-C
 * levels, otherwise lumbar; MR by modality "MR", CT for anything else. */
findings_profile findings_auto_profile(const char *modality,
                                       const json_t *table);

/* Append findings to every level of `table` (a JSON object, changed in
 * place; levels that already have `findings` keep them) and set
 * `findings_profile`. Returns how many abnormal findings were added, or
 * -1 when the table has no usable `levels` array (then `why` says why). */
int findings_apply(json_t *table, const findings_config *cfg,
                   const char **why);

#endif
