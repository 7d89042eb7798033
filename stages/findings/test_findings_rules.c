/* The findings rules on hand-made measures tables: values just below and
 * just above every cut-off of ../shared/CLINICAL.md, the bulge /
 * herniation / protrusion / extrusion decision, regions and profiles,
 * sources, hostile tables; and the stage refused without `measures`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "findings_rules.h"
#include "stage_harness.h"

static findings_config defaults(findings_profile p)
{
    findings_config c = {.profile = p};
    c.value[FT_CT_AP_RELATIVE] = 12, c.value[FT_CT_AP_ABSOLUTE] = 10;
    c.value[FT_MR_AP] = 10;
    c.value[FT_AREA_RELATIVE] = 100, c.value[FT_AREA_ABSOLUTE] = 75;
    c.value[FT_CERVICAL_AP_RELATIVE] = 0; /* off: not judged */
    c.value[FT_CERVICAL_AP_ABSOLUTE] = 0;
    c.value[FT_COMPRESSION_MILD] = 25;
    c.value[FT_COMPRESSION_MODERATE] = 33.3;
    c.value[FT_COMPRESSION_SEVERE] = 66.7;
    c.value[FT_DHI_REDUCED] = 0.2, c.value[FT_DISPLACEMENT_MIN] = 2;
    c.value[FT_BULGE_EXTENT] = 90, c.value[FT_OSTEOPHYTE] = 3;
    c.value[FT_FORAMEN] = 3;
    return c;
}

/* A table of one level `name` with one number `key` = v. */
static json_t *one(const char *name, const char *key, double v)
{
    return json_pack("{s:[{s:s, s:f}]}", "levels", "level", name, key, v);
}

static const json_t *find(const json_t *table, size_t level,
                          const char *code)
{
    const json_t *lv = json_array_get(json_object_get(table, "levels"),
                                      level);
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(lv, "findings"), i, f)
        if (!strcmp(json_string_value(json_object_get(f, "code")), code))
            return f;
    return NULL;
}

static const char *str(const json_t *f, const char *key)
{
    assert_non_null(f);
    return json_string_value(json_object_get(f, key));
}

/* Severity of `code` for a one-level table, NULL when no such finding;
 * also checks value, threshold and that the source names `cite`. */
static void expect_with(findings_config c, const char *level,
                        const char *key, double v, const char *code,
                        const char *severity, double threshold,
                        const char *cite)
{
    json_t *t = one(level, key, v);
    const char *why = NULL;
    int n = findings_apply(t, &c, &why);
    assert_true(n >= 0);
    const json_t *f = find(t, 0, code);
    if (!severity) {
        assert_null(f);
        json_decref(t);
        return;
    }
    if (!f)
        fail_msg("%s %s=%g: no %s finding", level, key, v, code);
    if (strcmp(str(f, "severity"), severity) != 0)
        fail_msg("%s %s=%g: %s is %s, expected %s", level, key, v, code,
                 str(f, "severity"), severity);
    assert_float_equal(json_number_value(json_object_get(f, "value")), v,
                       1e-9);
    assert_float_equal(json_number_value(json_object_get(f, "threshold")),
                       threshold, 1e-9);
    if (!strstr(str(f, "source"), cite))
        fail_msg("source '%s' does not name %s", str(f, "source"), cite);
    assert_int_equal(n, strcmp(severity, "normal") != 0);
    json_decref(t);
}

static void expect(findings_profile p, const char *level, const char *key,
                   double v, const char *code, const char *severity,
                   double threshold, const char *cite)
{
    expect_with(defaults(p), level, key, v, code, severity, threshold, cite);
}

static void ct_canal_ap_cutoffs(void **state)
{
    (void)state;
    const findings_profile p = FINDINGS_CT_LUMBAR;
    const char *k = "canal_ap_mm", *c = "canal_ap_stenosis", *s = "Kalichman";
    expect(p, "L4-L5", k, 9.95, c, "absolute", 10, s);
    expect(p, "L4-L5", k, 10.05, c, "relative", 12, s);
    expect(p, "L4-L5", k, 11.95, c, "relative", 12, s);
    expect(p, "L4-L5", k, 12.05, c, "normal", 12, s);
    expect(p, "T12-L1", k, 9.5, c, "absolute", 10, s);
    /* no thoracic canal cut-offs in CLINICAL.md */
    expect(p, "T11-T12", k, 5, c, NULL, 0, NULL);
    expect(p, "", k, 5, c, NULL, 0, NULL);
}

static void mr_canal_ap_cutoff(void **state)
{
    (void)state;
    const char *k = "canal_ap_mm", *c = "canal_ap_stenosis", *s = "Steurer";
    expect(FINDINGS_MR_LUMBAR, "L3-L4", k, 9.95, c, "absolute", 10, s);
    expect(FINDINGS_MR_LUMBAR, "L3-L4", k, 10.05, c, "normal", 10, s);
}

static void canal_area_cutoffs(void **state)
{
    (void)state;
    const char *k = "canal_area_mm2", *c = "canal_area_stenosis";
    const char *s = "Schönström";
    for (findings_profile p = FINDINGS_CT_LUMBAR; p <= FINDINGS_MR_LUMBAR;
         p++) {
        expect(p, "L4-L5", k, 74.9, c, "absolute", 75, s);
        expect(p, "L4-L5", k, 75.1, c, "relative", 100, s);
        expect(p, "L4-L5", k, 99.9, c, "relative", 100, s);
        expect(p, "L4-L5", k, 100.1, c, "normal", 100, s);
    }
    /* no cervical area cut-off */
    expect(FINDINGS_MR_CERVICAL, "C5-C6", k, 50, c, NULL, 0, NULL);
}

/* The MR cervical dural sac AP is not judged by default (Pavlov's cut-offs
 * are for the bony canal); set in config they apply as given. */
static void cervical_canal_ap_cutoffs(void **state)
{
    (void)state;
    const findings_profile p = FINDINGS_MR_CERVICAL;
    const char *k = "canal_ap_mm", *c = "canal_ap_stenosis", *s = "Pavlov";
    expect(p, "C2-C3", k, 11.4, c, NULL, 0, NULL);
    expect(p, "C5-C6", k, 5, c, NULL, 0, NULL);
    findings_config pavlov = defaults(p);
    pavlov.value[FT_CERVICAL_AP_RELATIVE] = 13;
    pavlov.value[FT_CERVICAL_AP_ABSOLUTE] = 10;
    expect_with(pavlov, "C5-C6", k, 9.95, c, "absolute", 10, s);
    expect_with(pavlov, "C5-C6", k, 10.05, c, "relative", 13, s);
    expect_with(pavlov, "C5-C6", k, 12.95, c, "relative", 13, s);
    expect_with(pavlov, "C5-C6", k, 13.05, c, "normal", 13, s);
    expect_with(pavlov, "C7-T1", k, 9, c, "absolute", 10, s);
    /* a lumbar level is outside a cervical profile */
    expect_with(pavlov, "L4-L5", k, 5, c, NULL, 0, NULL);
    /* only the absolute cut-off set: judged against it alone */
    findings_config absolute = defaults(p);
    absolute.value[FT_CERVICAL_AP_ABSOLUTE] = 10;
    expect_with(absolute, "C5-C6", k, 9.95, c, "absolute", 10, s);
    expect_with(absolute, "C5-C6", k, 11.4, c, "normal", 10, s);
}

/* The two-level cervical MR crop: the sac AP has no cut-off and neither
 * level has a neighbour on each side, so nothing judges the canal; the
 * table must say so rather than read as normal. A judged level gets no
 * such warning. */
static void unjudged_canal_is_warned(void **state)
{
    (void)state;
    json_t *t = json_pack("{s:[{s:s, s:f}, {s:s, s:f}], s:[s]}", "levels",
                          "level", "C5-C6", "canal_ap_mm", 13.3, "level",
                          "C6-C7", "canal_ap_mm", 8.4, "warnings",
                          "kept");
    findings_config c = defaults(FINDINGS_MR_CERVICAL);
    const char *why;
    assert_int_equal(findings_apply(t, &c, &why), 0);
    const json_t *w = json_object_get(t, "warnings");
    assert_int_equal(json_array_size(w), 3);
    assert_string_equal(json_string_value(json_array_get(w, 0)), "kept");
    const char *w2 = json_string_value(json_array_get(w, 2));
    assert_non_null(strstr(w2, "C6-C7: canal AP 8.4 mm not judged"));
    assert_true(json_is_false(json_object_get(
        json_array_get(json_object_get(t, "levels"), 1), "canal_judged")));
    json_decref(t);
    t = one("L4-L5", "canal_ap_mm", 8);
    c = defaults(FINDINGS_CT_LUMBAR);
    assert_int_equal(findings_apply(t, &c, &why), 1);
    assert_null(json_object_get(t, "warnings"));
    assert_true(json_is_true(json_object_get(
        json_array_get(json_object_get(t, "levels"), 0), "canal_judged")));
    json_decref(t);
}

/* Three levels with canal area (and AP) around a middle value. */
static const json_t *compression_of(json_t **t, double above, double mid,
                                    double below, const char *key)
{
    *t = json_pack("{s:[{s:s, s:f}, {s:s, s:f}, {s:s, s:f}]}", "levels",
                   "level", "L3-L4", key, above, "level", "L4-L5", key, mid,
                   "level", "L5-S1", key, below);
    findings_config c = defaults(FINDINGS_CT_LUMBAR);
    const char *why;
    assert_true(findings_apply(*t, &c, &why) >= 0);
    return find(*t, 1, "canal_compression");
}

static void compression_ratio_thirds(void **state)
{
    (void)state;
    static const struct { double mid; const char *sev; double thr; } cases[] = {
        {150.2, "normal", 25}, {149.8, "mild", 25}, {133.6, "mild", 25},
        {133.2, "moderate", 33.3}, {66.8, "moderate", 33.3},
        {66.4, "severe", 66.7},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *t;
        const json_t *f = compression_of(&t, 220, cases[i].mid, 180,
                                         "canal_area_mm2");
        assert_string_equal(str(f, "severity"), cases[i].sev);
        assert_string_equal(str(f, "measure"), "area");
        assert_float_equal(json_number_value(json_object_get(f, "value")),
                           (1 - cases[i].mid / 200) * 100, 1e-9);
        assert_float_equal(
            json_number_value(json_object_get(f, "threshold")),
            cases[i].thr, 1e-9);
        assert_non_null(strstr(str(f, "source"), "Miyanji"));
        json_decref(t);
    }
    /* AP when there is no area; the end levels have one neighbour and
     * are not judged by the ratio */
    json_t *t;
    const json_t *f = compression_of(&t, 15, 8, 14, "canal_ap_mm");
    assert_string_equal(str(f, "measure"), "ap");
    assert_string_equal(str(f, "severity"), "moderate");
    assert_float_equal(json_number_value(json_object_get(f, "value")),
                       (1 - 8.0 / 14.5) * 100, 1e-9);
    assert_null(find(t, 0, "canal_compression"));
    assert_null(find(t, 2, "canal_compression"));
    json_decref(t);
}

/* The abdomen CT's pattern: the lowest level (the canal narrowing into
 * the sacrum) below a wide one. Miyanji's reference is the mean of the
 * levels above and below; the lowest level has no level below, so the
 * ratio leaves it alone (its area, 155 mm^2, is judged by Schönström's
 * cut-off), and a middle level beside the wide one is judged against
 * the mean of both neighbours. */
static void compression_needs_a_level_on_each_side(void **state)
{
    (void)state;
    json_t *t = json_pack(
        "{s:[{s:s, s:f}, {s:s, s:f}, {s:s, s:f}, {s:s, s:f}, {s:s, s:f}]}",
        "levels", "level", "L5-S1", "canal_area_mm2", 155.0, "level",
        "L4-L5", "canal_area_mm2", 254.0, "level", "L3-L4",
        "canal_area_mm2", 150.0, "level", "L2-L3", "canal_area_mm2", 206.0,
        "level", "L1-L2", "canal_area_mm2", 208.0);
    findings_config c = defaults(FINDINGS_CT_LUMBAR);
    const char *why;
    assert_true(findings_apply(t, &c, &why) >= 0);
    assert_null(find(t, 0, "canal_compression"));
    assert_null(find(t, 4, "canal_compression"));
    assert_string_equal(str(find(t, 0, "canal_area_stenosis"), "severity"),
                        "normal");
    /* L4-L5: 1 - 254 / ((155 + 150) / 2) = -66.6 %: wider, normal */
    const json_t *f = find(t, 1, "canal_compression");
    assert_string_equal(str(f, "severity"), "normal");
    assert_float_equal(json_number_value(json_object_get(f, "value")),
                       (1 - 254.0 / 152.5) * 100, 1e-9);
    /* L3-L4 beside the wide L4-L5: 1 - 150 / 230 = 34.8 %, moderate */
    f = find(t, 2, "canal_compression");
    assert_string_equal(str(f, "severity"), "moderate");
    assert_float_equal(json_number_value(json_object_get(f, "value")),
                       (1 - 150.0 / 230.0) * 100, 1e-9);
    /* L2-L3: 1 - 206 / 179 = -15.1 %, normal */
    f = find(t, 3, "canal_compression");
    assert_string_equal(str(f, "severity"), "normal");
    assert_float_equal(json_number_value(json_object_get(f, "value")),
                       (1 - 206.0 / 179.0) * 100, 1e-9);
    json_decref(t);
    /* a neighbour without the measure: not judged on it (here AP) */
    t = json_pack("{s:[{s:s, s:f}, {s:s, s:f, s:f}, {s:s, s:f, s:f}]}",
                  "levels", "level", "L3-L4", "canal_ap_mm", 15.0, "level",
                  "L4-L5", "canal_ap_mm", 10.0, "canal_area_mm2", 100.0,
                  "level", "L5-S1", "canal_ap_mm", 13.0, "canal_area_mm2",
                  160.0);
    assert_true(findings_apply(t, &c, &why) >= 0);
    f = find(t, 1, "canal_compression");
    assert_string_equal(str(f, "measure"), "ap");
    assert_float_equal(json_number_value(json_object_get(f, "value")),
                       (1 - 10.0 / 14.0) * 100, 1e-9);
    assert_string_equal(str(f, "severity"), "mild");
    json_decref(t);
}

static void disc_height_index_cutoff(void **state)
{
    (void)state;
    const char *k = "disc_height_index", *c = "disc_height_reduced";
    expect(FINDINGS_CT_LUMBAR, "L4-L5", k, 0.19, c, "mild", 0.2, "index");
    expect(FINDINGS_CT_LUMBAR, "L4-L5", k, 0.21, c, "normal", 0.2, "index");
    /* 0: not measured (an incomplete body) */
    expect(FINDINGS_CT_LUMBAR, "L4-L5", k, 0, c, NULL, 0, NULL);
    /* disc rules hold in every region */
    expect(FINDINGS_CT_LUMBAR, "T11-T12", k, 0.1, c, "mild", 0.2, "index");
}

static json_t *displaced(double d, double extent, double base, double width)
{
    json_t *lv = json_pack("{s:s, s:f, s:s}", "level", "L5-S1",
                           "posterior_displacement_mm", d,
                           "displacement_position", "left paracentral");
    if (extent >= 0)
        json_object_set_new(lv, "displacement_extent_deg", json_real(extent));
    if (base >= 0) {
        json_object_set_new(lv, "displacement_base_mm", json_real(base));
        json_object_set_new(lv, "displacement_width_mm", json_real(width));
    }
    json_t *t = json_pack("{s:[o]}", "levels", lv);
    findings_config c = defaults(FINDINGS_CT_LUMBAR);
    const char *why;
    assert_true(findings_apply(t, &c, &why) >= 0);
    return t;
}

static void bulge_or_herniation(void **state)
{
    (void)state;
    json_t *t = displaced(1.95, 30, 10, 8);
    assert_string_equal(str(find(t, 0, "disc_displacement"), "severity"),
                        "normal");
    assert_null(find(t, 0, "disc_herniation"));
    json_decref(t);

    t = displaced(2.05, -1, -1, 0);
    const json_t *f = find(t, 0, "disc_displacement");
    assert_string_equal(str(f, "severity"), "mild");
    assert_string_equal(str(f, "type"), "undetermined");
    assert_non_null(str(f, "note"));
    json_decref(t);

    t = displaced(3, 90.5, 10, 8);
    f = find(t, 0, "disc_bulge");
    assert_string_equal(str(f, "severity"), "mild");
    assert_non_null(strstr(str(f, "source"), "Fardon"));
    assert_null(find(t, 0, "disc_herniation"));
    json_decref(t);

    t = displaced(5, 89.5, -1, 0);
    f = find(t, 0, "disc_herniation");
    assert_string_equal(str(f, "type"), "unclassified");
    assert_string_equal(str(f, "severity"), "moderate");
    assert_string_equal(str(f, "position"), "left paracentral");
    json_decref(t);

    t = displaced(5, 40, 10, 9.9);
    f = find(t, 0, "disc_herniation");
    assert_string_equal(str(f, "type"), "protrusion");
    assert_string_equal(str(f, "severity"), "moderate");
    assert_float_equal(json_number_value(json_object_get(f, "value")), 5,
                       1e-9);
    json_decref(t);

    t = displaced(5, 40, 10, 10.1);
    f = find(t, 0, "disc_herniation");
    assert_string_equal(str(f, "type"), "extrusion");
    assert_string_equal(str(f, "severity"), "severe");
    json_decref(t);
}

static void osteophyte_and_foramen(void **state)
{
    (void)state;
    const findings_profile p = FINDINGS_CT_LUMBAR;
    expect(p, "L2-L3", "osteophyte_mm", 3.05, "osteophyte", "mild", 3,
           "Pfirrmann");
    expect(p, "L2-L3", "osteophyte_mm", 2.95, "osteophyte", "normal", 3,
           "Pfirrmann");
    expect(p, "L2-L3", "foramen_left_mm", 2.95, "foraminal_narrowing",
           "severe", 3, "Steurer");
    expect(p, "L2-L3", "foramen_right_mm", 3.05, "foraminal_narrowing",
           "normal", 3, "Steurer");
    json_t *t = one("L2-L3", "foramen_right_mm", 2);
    findings_config c = defaults(p);
    const char *why;
    assert_int_equal(findings_apply(t, &c, &why), 1);
    assert_string_equal(str(find(t, 0, "foraminal_narrowing"), "side"),
                        "right");
    json_decref(t);
}

static void overridden_threshold_says_so(void **state)
{
    (void)state;
    findings_config c = defaults(FINDINGS_CT_LUMBAR);
    c.value[FT_CT_AP_ABSOLUTE] = 9, c.overridden[FT_CT_AP_ABSOLUTE] = 1;
    json_t *t = one("L4-L5", "canal_ap_mm", 8.5);
    const char *why;
    assert_int_equal(findings_apply(t, &c, &why), 1);
    const json_t *f = find(t, 0, "canal_ap_stenosis");
    assert_string_equal(str(f, "severity"), "absolute");
    assert_float_equal(json_number_value(json_object_get(f, "threshold")), 9,
                       1e-9);
    assert_non_null(strstr(str(f, "source"), "config value"));
    assert_non_null(strstr(str(f, "source"), "Kalichman"));
    assert_string_equal(json_string_value(json_object_get(t,
                        "findings_profile")), "ct-lumbar");
    json_decref(t);
}

static void auto_profile(void **state)
{
    (void)state;
    json_t *c = json_pack("{s:[{s:s}, {s:s}, {s:s}]}", "levels", "level",
                          "C4-C5", "level", "C5-C6", "level", "C7-T1");
    json_t *l = json_pack("{s:[{s:s}, {s:s}]}", "levels", "level", "L4-L5",
                          "level", "L5-S1");
    assert_int_equal(findings_auto_profile("MR", c), FINDINGS_MR_CERVICAL);
    assert_int_equal(findings_auto_profile("MR", l), FINDINGS_MR_LUMBAR);
    assert_int_equal(findings_auto_profile("CT", l), FINDINGS_CT_LUMBAR);
    assert_int_equal(findings_auto_profile(NULL, l), FINDINGS_CT_LUMBAR);
    json_decref(c), json_decref(l);
}

static void hostile_tables(void **state)
{
    (void)state;
    findings_config c = defaults(FINDINGS_CT_LUMBAR);
    const char *why = NULL;
    json_t *t = json_pack("{s:s}", "levels", "L4-L5");
    assert_int_equal(findings_apply(t, &c, &why), -1);
    assert_non_null(strstr(why, "levels"));
    json_decref(t);
    t = json_pack("{s:[i]}", "levels", 3);
    assert_int_equal(findings_apply(t, &c, &why), -1);
    json_decref(t);
    /* strings, nulls and a level name that is no string: nothing judged */
    t = json_pack("{s:[{s:s, s:n, s:s}, {s:i, s:f}]}", "levels", "level",
                  "L4-L5", "canal_ap_mm", "canal_area_mm2", "8", "level", 7,
                  "canal_ap_mm", 3.0);
    assert_int_equal(findings_apply(t, &c, &why), 0);
    assert_null(find(t, 0, "canal_ap_stenosis"));
    assert_null(find(t, 1, "canal_ap_stenosis"));
    json_decref(t);
    /* findings already in the table are kept */
    t = json_pack("{s:[{s:s, s:f, s:[{s:s, s:s}]}]}", "levels", "level",
                  "L4-L5", "canal_ap_mm", 8.0, "findings", "code",
                  "pfirrmann", "severity", "moderate");
    assert_int_equal(findings_apply(t, &c, &why), 1);
    assert_non_null(find(t, 0, "pfirrmann"));
    assert_non_null(find(t, 0, "canal_ap_stenosis"));
    json_decref(t);
}

/* The stage as the CLI loads it: refused when nothing provides
 * `measures`, with the name in the message. */
static void stage_requires_measures(void **state)
{
    (void)state;
    harness h;
    harness_init(&h);
    assert_int_not_equal(harness_load(&h, "[findings]\nprofile = ct-lumbar\n"),
                         SP_OK);
    assert_non_null(strstr(h.err.message, "measures"));
    harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ct_canal_ap_cutoffs),
        cmocka_unit_test(mr_canal_ap_cutoff),
        cmocka_unit_test(canal_area_cutoffs),
        cmocka_unit_test(cervical_canal_ap_cutoffs),
        cmocka_unit_test(compression_ratio_thirds),
        cmocka_unit_test(compression_needs_a_level_on_each_side),
        cmocka_unit_test(disc_height_index_cutoff),
        cmocka_unit_test(bulge_or_herniation),
        cmocka_unit_test(osteophyte_and_foramen),
        cmocka_unit_test(overridden_threshold_says_so),
        cmocka_unit_test(auto_profile),
        cmocka_unit_test(hostile_tables),
        cmocka_unit_test(unjudged_canal_is_warned),
        cmocka_unit_test(stage_requires_measures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
