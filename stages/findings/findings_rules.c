/* The findings rules (see findings_rules.h and docs/report-json.md). */
#include "findings_rules.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { REGION_NONE, REGION_CERVICAL, REGION_THORACIC, REGION_LUMBAR };

const char *findings_source(findings_threshold t)
{
    static const char *const sources[FT_COUNT] = {
        [FT_CT_AP_RELATIVE] = "Kalichman et al. 2009, Spine J 9:545 "
                              "(CT bony canal AP, relative stenosis)",
        [FT_CT_AP_ABSOLUTE] = "Kalichman et al. 2009, Spine J 9:545 "
                              "(CT bony canal AP, absolute stenosis)",
        [FT_MR_AP] = "Steurer et al. 2011 via Talekar et al. 2017 "
                     "(MR dural sac AP)",
        [FT_AREA_RELATIVE] = "Schönström (dural sac area, relative "
                             "stenosis; CLINICAL.md)",
        [FT_AREA_ABSOLUTE] = "Schönström (dural sac area, absolute "
                             "stenosis; CLINICAL.md)",
        [FT_CERVICAL_AP_RELATIVE] = "Pavlov et al. 1987, Radiology 164:771 "
                                    "(cervical bony canal AP, relative "
                                    "< 13 mm; not judged on the MR dural "
                                    "sac unless set)",
        [FT_CERVICAL_AP_ABSOLUTE] = "Pavlov et al. 1987, Radiology 164:771 "
                                    "(cervical bony canal AP, absolute "
                                    "< 10 mm; not judged on the MR dural "
                                    "sac unless set)",
        [FT_COMPRESSION_MILD] = "compression ratio of Miyanji et al. 2007 "
                                "(as SCT sct_compute_compression); the "
                                "cut-off for mild is spinepipe's default",
        [FT_COMPRESSION_MODERATE] = "compression ratio of Miyanji et al. "
                                    "2007, graded by area lost in thirds "
                                    "(Lee 2011; Schizas 2010)",
        [FT_COMPRESSION_SEVERE] = "compression ratio of Miyanji et al. "
                                  "2007, graded by area lost in thirds "
                                  "(Lee 2011; Schizas 2010)",
        [FT_DHI_REDUCED] = "disc height index (bands vary by source; the "
                           "cut-off is spinepipe's default)",
        [FT_DISPLACEMENT_MIN] = "Fardon et al. 2014, lumbar disc "
                                "nomenclature 2.0 (the minimum distance is "
                                "spinepipe's measurement tolerance)",
        [FT_BULGE_EXTENT] = "Fardon et al. 2014, lumbar disc nomenclature "
                            "2.0 (bulge: more than 25 % of the "
                            "circumference)",
        [FT_OSTEOPHYTE] = "Pfirrmann & Resnick 2001 (large osteophyte "
                          "> 3 mm)",
        [FT_FORAMEN] = "Steurer et al. 2011 via Talekar et al. 2017 "
                       "(foramen < 3 mm: severe narrowing)",
    };
    return t < FT_COUNT ? sources[t] : "";
}

const char *findings_profile_name(findings_profile p)
{
    static const char *const names[] = {"ct-lumbar", "mr-lumbar",
                                        "mr-cervical"};
    return p < FINDINGS_N_PROFILES ? names[p] : "";
}

/* Region of one vertebra name ("L4", "S1", "C5", "T12"). */
static int vertebra_region(const char *s, size_t n)
{
    if (n < 2 || !strchr("0123456789", s[1]))
        return REGION_NONE;
    switch (s[0]) {
    case 'C': return REGION_CERVICAL;
    case 'T': return REGION_THORACIC;
    case 'L':
    case 'S': return REGION_LUMBAR;
    default: return REGION_NONE;
    }
}

/* "T12-L1" is lumbar, "C7-T1" cervical, "T11-T12" thoracic. */
static int level_region(const json_t *level)
{
    const char *name = json_string_value(json_object_get(level, "level"));
    const char *dash = name ? strchr(name, '-') : NULL;
    if (!dash)
        return REGION_NONE;
    int a = vertebra_region(name, (size_t)(dash - name));
    int b = vertebra_region(dash + 1, strlen(dash + 1));
    if (a == REGION_CERVICAL || b == REGION_CERVICAL)
        return REGION_CERVICAL;
    if (a == REGION_LUMBAR || b == REGION_LUMBAR)
        return REGION_LUMBAR;
    if (a == REGION_THORACIC && b == REGION_THORACIC)
        return REGION_THORACIC;
    return REGION_NONE;
}

findings_profile findings_auto_profile(const char *modality,
                                       const json_t *table)
{
    size_t cervical = 0, other = 0, i;
    const json_t *lv;
    json_array_foreach(json_object_get(table, "levels"), i, lv) {
        int r = level_region(lv);
        cervical += r == REGION_CERVICAL;
        other += r == REGION_LUMBAR || r == REGION_THORACIC;
    }
    int mr = modality && strcmp(modality, "MR") == 0;
    if (mr && cervical > other)
        return FINDINGS_MR_CERVICAL;
    return mr ? FINDINGS_MR_LUMBAR : FINDINGS_CT_LUMBAR;
}

/* A measured number: present, numeric and finite. */
static int number(const json_t *o, const char *key, double *v)
{
    const json_t *j = json_object_get(o, key);
    if (!json_is_number(j))
        return 0;
    *v = json_number_value(j);
    return isfinite(*v);
}

static const char *source_of(const findings_config *c, findings_threshold t,
                             char *buf, size_t size)
{
    if (!c->overridden[t])
        return findings_source(t);
    snprintf(buf, size, "config value; default from %s", findings_source(t));
    return buf;
}

static json_t *finding(const findings_config *c, const char *code,
                       const char *severity, double value,
                       findings_threshold t)
{
    char buf[256];
    return json_pack("{s:s, s:s, s:f, s:f, s:s}", "code", code, "severity",
                     severity, "value", value, "threshold", c->value[t],
                     "source", source_of(c, t, buf, sizeof buf));
}

/* Which levels a rule judges. Canal cut-offs exist only for the
 * profile's region (none for the thoracic canal in CLINICAL.md); the AP
 * cut-offs also depend on the modality. */
typedef enum rule_scope {
    SCOPE_ALL,
    SCOPE_CANAL,         /* any canal in the profile's region */
    SCOPE_CANAL_LUMBAR,  /* the lumbar canal (area: Schönström) */
    SCOPE_CT_LUMBAR_AP,
    SCOPE_MR_LUMBAR_AP,
    SCOPE_CERVICAL_AP
} rule_scope;

typedef enum rule_kind { RULE_THRESHOLD, RULE_COMPRESSION, RULE_DISPLACEMENT }
    rule_kind;

/* One flag from one measured number: the first tier whose cut-off the
 * value passes (below it, or above it for `above` rules) gives the
 * severity; otherwise "normal" against `normal_t`. */
typedef struct rule {
    rule_kind kind;
    rule_scope scope;
    const char *code, *key;
    const char *side;     /* set as "side" when not NULL */
    int above;            /* abnormal above the cut-off, not below */
    int positive_only;    /* a value <= 0 means not measured */
    int n_tiers;
    struct {
        findings_threshold t;
        const char *severity;
    } tier[2];
    findings_threshold normal_t;
} rule;

/* In the order the findings appear in a level's `findings[]`. */
static const rule rules[] = {
    {RULE_THRESHOLD, SCOPE_CERVICAL_AP, "canal_ap_stenosis", "canal_ap_mm",
     NULL, 0, 0, 2,
     {{FT_CERVICAL_AP_ABSOLUTE, "absolute"},
      {FT_CERVICAL_AP_RELATIVE, "relative"}},
     FT_CERVICAL_AP_RELATIVE},
    {RULE_THRESHOLD, SCOPE_MR_LUMBAR_AP, "canal_ap_stenosis", "canal_ap_mm",
     NULL, 0, 0, 1, {{FT_MR_AP, "absolute"}}, FT_MR_AP},
    {RULE_THRESHOLD, SCOPE_CT_LUMBAR_AP, "canal_ap_stenosis", "canal_ap_mm",
     NULL, 0, 0, 2,
     {{FT_CT_AP_ABSOLUTE, "absolute"}, {FT_CT_AP_RELATIVE, "relative"}},
     FT_CT_AP_RELATIVE},
    {RULE_THRESHOLD, SCOPE_CANAL_LUMBAR, "canal_area_stenosis",
     "canal_area_mm2", NULL, 0, 0, 2,
     {{FT_AREA_ABSOLUTE, "absolute"}, {FT_AREA_RELATIVE, "relative"}},
     FT_AREA_RELATIVE},
    {RULE_COMPRESSION, SCOPE_CANAL, "canal_compression", NULL, NULL, 0, 0, 0,
     {{0}}, FT_COMPRESSION_MILD},
    {RULE_THRESHOLD, SCOPE_ALL, "disc_height_reduced", "disc_height_index",
     NULL, 0, 1, 1, {{FT_DHI_REDUCED, "mild"}}, FT_DHI_REDUCED},
    {RULE_DISPLACEMENT, SCOPE_ALL, "disc_displacement",
     "posterior_displacement_mm", NULL, 0, 0, 0, {{0}}, FT_DISPLACEMENT_MIN},
    {RULE_THRESHOLD, SCOPE_ALL, "osteophyte", "osteophyte_mm", NULL, 1, 0, 1,
     {{FT_OSTEOPHYTE, "mild"}}, FT_OSTEOPHYTE},
    {RULE_THRESHOLD, SCOPE_ALL, "foraminal_narrowing", "foramen_left_mm",
     "left", 0, 0, 1, {{FT_FORAMEN, "severe"}}, FT_FORAMEN},
    {RULE_THRESHOLD, SCOPE_ALL, "foraminal_narrowing", "foramen_right_mm",
     "right", 0, 0, 1, {{FT_FORAMEN, "severe"}}, FT_FORAMEN},
};

static void threshold_rule(json_t *out, const json_t *lv,
                           const findings_config *c, const rule *r)
{
    double v;
    if (!number(lv, r->key, &v) || (r->positive_only && v <= 0))
        return;
    const char *severity = "normal";
    findings_threshold t = r->normal_t;
    int judged = r->above;
    for (int i = 0; i < r->n_tiers; i++) {
        double cut = c->value[r->tier[i].t];
        if (!r->above && cut > 0 && c->value[t] <= 0)
            t = r->tier[i].t;
        judged |= cut > 0;
        if (r->above ? v > cut : v < cut) {
            severity = r->tier[i].severity, t = r->tier[i].t;
            break;
        }
    }
    /* a "below" cut-off of 0 is off (never passed); all off: not judged */
    if (!judged)
        return;
    json_t *f = finding(c, r->code, severity, v, t);
    if (r->side)
        json_object_set_new(f, "side", json_string(r->side));
    json_array_append_new(out, f);
}

/* Compression ratio (1 - m / mean(m above, m below)) x 100 % (Miyanji
 * et al. 2007) with m the canal area when this level and both neighbours
 * have one, else the AP. The reference is defined by a level on each
 * side: their mean cancels the canal's steady change along the spine
 * (it narrows into the sacrum), which one neighbour alone cannot, so the
 * end entries of the table are not judged by the ratio (their absolute
 * AP and area cut-offs still apply). */
static void compression(json_t *out, const json_t *levels, size_t i,
                        const findings_config *c)
{
    if (i == 0 || i + 1 >= json_array_size(levels))
        return;
    const json_t *lv = json_array_get(levels, i);
    const json_t *nb[2] = {json_array_get(levels, i - 1),
                           json_array_get(levels, i + 1)};
    static const char *const keys[] = {"canal_area_mm2", "canal_ap_mm"};
    for (int k = 0; k < 2; k++) {
        double m, sum = 0, v;
        int n = 0;
        if (!number(lv, keys[k], &m))
            continue;
        for (int s = 0; s < 2; s++)
            if (number(nb[s], keys[k], &v) && v > 0)
                sum += v, n++;
        if (n < 2)
            continue;
        double ratio = (1.0 - m / (sum / 2)) * 100.0;
        findings_threshold t = FT_COMPRESSION_MILD;
        const char *sev = "normal";
        if (ratio >= c->value[FT_COMPRESSION_SEVERE])
            t = FT_COMPRESSION_SEVERE, sev = "severe";
        else if (ratio >= c->value[FT_COMPRESSION_MODERATE])
            t = FT_COMPRESSION_MODERATE, sev = "moderate";
        else if (ratio >= c->value[FT_COMPRESSION_MILD])
            sev = "mild";
        json_t *f = finding(c, "canal_compression", sev, ratio, t);
        json_object_set_new(f, "measure",
                            json_string(k == 0 ? "area" : "ap"));
        json_array_append_new(out, f);
        return;
    }
}

/* Fardon 2014: beyond the disc space over more than 25 % of the
 * circumference is a bulge, less is a herniation; a herniation whose
 * displaced part is wider than its base is an extrusion, otherwise a
 * protrusion. What the measures do not give stays undecided and says
 * so. */
static void displacement(json_t *out, const json_t *lv,
                         const findings_config *c)
{
    double d, extent, base, width;
    if (!number(lv, "posterior_displacement_mm", &d))
        return;
    if (d < c->value[FT_DISPLACEMENT_MIN]) {
        json_array_append_new(out, finding(c, "disc_displacement", "normal",
                                           d, FT_DISPLACEMENT_MIN));
        return;
    }
    json_t *f;
    if (!number(lv, "displacement_extent_deg", &extent)) {
        f = finding(c, "disc_displacement", "mild", d, FT_DISPLACEMENT_MIN);
        json_object_set_new(f, "type", json_string("undetermined"));
        json_object_set_new(f, "note",
                            json_string("circumferential extent not "
                                        "measured: bulge or herniation "
                                        "not decided"));
    } else if (extent > c->value[FT_BULGE_EXTENT]) {
        f = finding(c, "disc_bulge", "mild", d, FT_DISPLACEMENT_MIN);
        json_object_set_new(f, "extent_deg", json_real(extent));
    } else {
        const char *type = "unclassified", *sev = "moderate";
        if (number(lv, "displacement_base_mm", &base) &&
            number(lv, "displacement_width_mm", &width) && base > 0) {
            int extruded = width > base;
            type = extruded ? "extrusion" : "protrusion";
            sev = extruded ? "severe" : "moderate";
        }
        f = finding(c, "disc_herniation", sev, d, FT_DISPLACEMENT_MIN);
        json_object_set_new(f, "type", json_string(type));
        json_object_set_new(f, "extent_deg", json_real(extent));
        if (!strcmp(type, "unclassified"))
            json_object_set_new(f, "note",
                                json_string("shape not measured: "
                                            "protrusion or extrusion not "
                                            "decided"));
    }
    const json_t *pos = json_object_get(lv, "displacement_position");
    if (json_is_string(pos))
        json_object_set(f, "position", (json_t *)pos);
    json_array_append_new(out, f);
}

static int profile_region(findings_profile p)
{
    return p == FINDINGS_MR_CERVICAL ? REGION_CERVICAL : REGION_LUMBAR;
}

static int in_scope(rule_scope scope, int region, findings_profile p)
{
    int canal = region == profile_region(p);
    switch (scope) {
    case SCOPE_ALL: return 1;
    case SCOPE_CANAL: return canal;
    case SCOPE_CANAL_LUMBAR: return canal && region == REGION_LUMBAR;
    case SCOPE_CERVICAL_AP: return canal && region == REGION_CERVICAL;
    case SCOPE_MR_LUMBAR_AP:
        return canal && region != REGION_CERVICAL && p == FINDINGS_MR_LUMBAR;
    case SCOPE_CT_LUMBAR_AP:
        return canal && region != REGION_CERVICAL && p != FINDINGS_MR_LUMBAR;
    }
    return 0;
}

static int count_abnormal(const json_t *findings, size_t from)
{
    int n = 0;
    for (size_t i = from; i < json_array_size(findings); i++) {
        const char *s = json_string_value(
            json_object_get(json_array_get(findings, i), "severity"));
        n += s && strcmp(s, "normal") != 0;
    }
    return n;
}

static int has_canal_finding(const json_t *findings)
{
    size_t i;
    const json_t *f;
    json_array_foreach(findings, i, f) {
        const char *code = json_string_value(json_object_get(f, "code"));
        if (code && !strncmp(code, "canal_", 6))
            return 1;
    }
    return 0;
}

/* A measured canal that no rule judged (no cut-off in this profile and
 * no level on each side for the ratio) must not read as normal: say so,
 * in the level (`canal_judged`, for the images) and in the warnings. */
static void warn_canal_not_judged(json_t *table, json_t *lv,
                                  const json_t *findings)
{
    double v;
    const char *name = json_string_value(json_object_get(lv, "level"));
    if (!number(lv, "canal_ap_mm", &v))
        return;
    int judged = has_canal_finding(findings);
    json_object_set_new(lv, "canal_judged", json_boolean(judged));
    if (judged)
        return;
    json_t *warnings = json_object_get(table, "warnings");
    if (!json_is_array(warnings)) {
        warnings = json_array();
        json_object_set_new(table, "warnings", warnings);
    }
    json_array_append_new(
        warnings,
        json_sprintf("%s: canal AP %.1f mm not judged: no cut-off of this "
                     "profile applies, and the compression ratio needs a "
                     "measured level above and below",
                     name ? name : "a level", v));
}

int findings_apply(json_t *table, const findings_config *c, const char **why)
{
    json_t *levels = json_object_get(table, "levels");
    if (!json_is_object(table) || !json_is_array(levels)) {
        *why = "the table has no 'levels' array";
        return -1;
    }
    int abnormal = 0;
    size_t i;
    json_t *lv;
    json_array_foreach(levels, i, lv) {
        if (!json_is_object(lv)) {
            *why = "an entry of 'levels' is not an object";
            return -1;
        }
        json_t *out = json_object_get(lv, "findings");
        if (!json_is_array(out)) {
            out = json_array();
            json_object_set_new(lv, "findings", out);
        }
        size_t before = json_array_size(out);
        int region = level_region(lv);
        for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
            const rule *r = &rules[k];
            if (!in_scope(r->scope, region, c->profile))
                continue;
            if (r->kind == RULE_COMPRESSION)
                compression(out, levels, i, c);
            else if (r->kind == RULE_DISPLACEMENT)
                displacement(out, lv, c);
            else
                threshold_rule(out, lv, c, r);
        }
        abnormal += count_abnormal(out, before);
        warn_canal_not_judged(table, lv, out);
    }
    json_object_set_new(table, "findings_profile",
                        json_string(findings_profile_name(c->profile)));
    return abnormal;
}
