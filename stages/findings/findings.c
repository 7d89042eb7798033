/* Stage `findings`: flags per disc level from the `measures` table
 * (docs/report-json.md) by the thresholds of ../shared/CLINICAL.md, each
 * a parameter with its default and its source; provides `measurements`
 * (the same table plus `findings[]` per level) for the report. */
#include <stdlib.h>

#include <jansson.h>

#include "spinepipe/stage.h"
#include "findings_rules.h"

enum { P_AUTO, P_CT_LUMBAR, P_MR_LUMBAR, P_MR_CERVICAL };
static const char *const profile_names[] = {"auto", "ct-lumbar",
                                            "mr-lumbar", "mr-cervical",
                                            NULL};

typedef struct findings_options {
    int profile;
    double value[FT_COUNT];
} findings_options;

#define T(id) offsetof(findings_options, value[id])

static const sp_param params[] = {
    {"profile", SP_PARAM_ENUM, "auto", 0, 0, NULL, profile_names,
     "which cut-offs apply: auto takes MR from the series modality (else "
     "CT) and cervical when most levels are C-C levels (else lumbar)",
     offsetof(findings_options, profile)},
    {"ct_ap_relative", SP_PARAM_FLOAT, "12", 0, 50, "mm", NULL,
     "CT lumbar bony canal AP below this: relative stenosis (Kalichman et "
     "al. 2009, Spine J 9:545)", T(FT_CT_AP_RELATIVE)},
    {"ct_ap_absolute", SP_PARAM_FLOAT, "10", 0, 50, "mm", NULL,
     "CT lumbar bony canal AP below this: absolute stenosis (Kalichman et "
     "al. 2009)", T(FT_CT_AP_ABSOLUTE)},
    {"mr_ap", SP_PARAM_FLOAT, "10", 0, 50, "mm", NULL,
     "MR lumbar dural sac AP below this: stenosis, reported as absolute "
     "(Steurer et al. 2011 via Talekar et al. 2017)", T(FT_MR_AP)},
    {"area_relative", SP_PARAM_FLOAT, "100", 0, 1000, "mm^2", NULL,
     "lumbar canal cross-sectional area below this: relative stenosis "
     "(Schönström, dural sac; on CT applied to the bony canal, which is "
     "larger, so it flags less)", T(FT_AREA_RELATIVE)},
    {"area_absolute", SP_PARAM_FLOAT, "75", 0, 1000, "mm^2", NULL,
     "lumbar canal area below this: absolute stenosis (Schönström)",
     T(FT_AREA_ABSOLUTE)},
    {"cervical_ap_relative", SP_PARAM_FLOAT, "0", 0, 50, "mm", NULL,
     "MR cervical dural sac AP below this: relative stenosis; 0: not "
     "judged (the default: CLINICAL.md's only cervical AP cut-offs, "
     "Pavlov et al. 1987, relative < 13 mm, are for the bony canal, "
     "which the dural sac is smaller than; the compression ratio judges "
     "the cervical canal instead)", T(FT_CERVICAL_AP_RELATIVE)},
    {"cervical_ap_absolute", SP_PARAM_FLOAT, "0", 0, 50, "mm", NULL,
     "MR cervical dural sac AP below this: absolute stenosis; 0: not "
     "judged (the default; Pavlov's bony canal: < 10 mm)",
     T(FT_CERVICAL_AP_ABSOLUTE)},
    {"compression_mild", SP_PARAM_FLOAT, "25", 0, 100, "%", NULL,
     "compression ratio (1 - m / mean(m above, m below)) x 100 with m the "
     "canal area (else AP), Miyanji et al. 2007, at or above this: mild "
     "(spinepipe's default)", T(FT_COMPRESSION_MILD)},
    {"compression_moderate", SP_PARAM_FLOAT, "33.3", 0, 100, "%", NULL,
     "compression ratio at or above this: moderate (area lost in thirds, "
     "Lee 2011; Schizas 2010)", T(FT_COMPRESSION_MODERATE)},
    {"compression_severe", SP_PARAM_FLOAT, "66.7", 0, 100, "%", NULL,
     "compression ratio at or above this: severe (area lost in thirds)",
     T(FT_COMPRESSION_SEVERE)},
    {"dhi_reduced", SP_PARAM_FLOAT, "0.2", 0, 2, NULL, NULL,
     "disc height index (disc height / mean adjacent body height) below "
     "this: reduced disc height (bands vary by source; spinepipe's "
     "default)", T(FT_DHI_REDUCED)},
    {"displacement_min", SP_PARAM_FLOAT, "2", 0, 20, "mm", NULL,
     "posterior disc displacement at or above this counts as disc beyond "
     "the disc space (Fardon et al. 2014; the tolerance is spinepipe's)",
     T(FT_DISPLACEMENT_MIN)},
    {"bulge_extent", SP_PARAM_FLOAT, "90", 0, 360, "deg", NULL,
     "displacement over more than this much of the circumference is a "
     "bulge, less a herniation (Fardon et al. 2014: 25 %)",
     T(FT_BULGE_EXTENT)},
    {"osteophyte", SP_PARAM_FLOAT, "3", 0, 30, "mm", NULL,
     "osteophyte larger than this: large (Pfirrmann & Resnick 2001)",
     T(FT_OSTEOPHYTE)},
    {"foramen", SP_PARAM_FLOAT, "3", 0, 30, "mm", NULL,
     "foramen AP below this: severe foraminal narrowing (Steurer et al. "
     "2011 via Talekar et al. 2017)", T(FT_FORAMEN)},
};

static const char *const requires_list[] = {"measures", NULL};
static const char *const provides_list[] = {"measurements", NULL};

static sp_status findings_init(sp_stage_context *ctx, const void *options,
                               void **state)
{
    const findings_options *o = options;
    if (o->value[FT_CT_AP_ABSOLUTE] > o->value[FT_CT_AP_RELATIVE] ||
        o->value[FT_AREA_ABSOLUTE] > o->value[FT_AREA_RELATIVE] ||
        (o->value[FT_CERVICAL_AP_RELATIVE] > 0 &&
         o->value[FT_CERVICAL_AP_ABSOLUTE] > o->value[FT_CERVICAL_AP_RELATIVE]))
        return ctx->host->fail(ctx, SP_CONFIG,
                               "an absolute cut-off (ct_ap_absolute, "
                               "area_absolute, cervical_ap_absolute) is "
                               "above its relative one");
    if (o->value[FT_COMPRESSION_MILD] > o->value[FT_COMPRESSION_MODERATE] ||
        o->value[FT_COMPRESSION_MODERATE] > o->value[FT_COMPRESSION_SEVERE])
        return ctx->host->fail(ctx, SP_CONFIG,
                               "compression_mild, compression_moderate and "
                               "compression_severe must not decrease");
    *state = (void *)o;
    return SP_OK;
}

/* Which thresholds differ from their default (the param table's text). */
static void fill_config(const findings_options *o, findings_config *c)
{
    for (size_t i = 1; i < SP_PARAM_COUNT(params); i++) {
        size_t t = (params[i].offset - T(0)) / sizeof(double);
        c->value[t] = o->value[t];
        c->overridden[t] = o->value[t] != strtod(params[i].default_value,
                                                 NULL);
    }
}

static sp_status findings_process(sp_stage_context *ctx, void *state)
{
    const findings_options *o = state;
    const sp_host_api *H = ctx->host;
    const json_t *in = H->artifact_table(ctx, "measures");
    if (!json_is_object(in))
        return H->fail(ctx, SP_STAGE, "'measures' is not a JSON object");
    json_t *table = json_deep_copy(in);
    if (!table)
        return H->fail(ctx, SP_NOMEM, "out of memory copying 'measures'");
    findings_config c = {0};
    fill_config(o, &c);
    c.profile = o->profile == P_AUTO
                    ? findings_auto_profile(
                          ctx->header ? ctx->header->modality : NULL, table)
                    : (findings_profile)(o->profile - 1);
    const char *why = NULL;
    const json_t *na = json_object_get(table, "not_analysable");
    if (json_is_string(na)) {
        H->log(ctx, SP_LOG_INFO, "no findings: not analysable: %s",
               json_string_value(na));
    } else {
        int n = findings_apply(table, &c, &why);
        if (n < 0) {
            json_decref(table);
            return H->fail(ctx, SP_STAGE, "'measures': %s", why);
        }
        H->log(ctx, SP_LOG_INFO, "%d abnormal finding(s) in %zu level(s), "
               "profile %s", n,
               json_array_size(json_object_get(table, "levels")),
               findings_profile_name(c.profile));
    }
    return H->artifact_put_table(ctx, "measurements", table);
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "findings",
    .version = "1.1.0",
    .description = "flags per disc level (stenosis, bulge/herniation, disc "
                   "height, osteophytes, foramina) from the measures table, "
                   "each with its value, threshold and source",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(findings_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = findings_init,
    .process = findings_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
