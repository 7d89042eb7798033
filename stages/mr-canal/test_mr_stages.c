/* The MR stages as a black box (tests/harness), through the shipped
 * pipelines config/mr-lumbar-t2.ini and config/mr-cervical-t2.ini (bias,
 * mr_segment, mr_measure, findings, report): on the MR phantom against
 * its truth.json, on the real lumbar and cervical T2 series, and on a
 * series whose header says T1 (not analysable, the run goes on). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "spinepipe/dicom.h"
#include "spinepipe/labels.h"
#include "stage_harness.h"
#include "test_data.h"

/* The one series under `dir` (malloc'd path, freed here) and its
 * header. */
static void load(char *dir, sp_volume *vol, sp_dicom_header *hdr)
{
    test_dicom_load_dir(dir, vol, hdr);
    free(dir);
}

static char *read_text(const char *rel)
{
    char *path = test_source_path(rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    free(path);
    buf[n] = '\0';
    return buf;
}

/* Run the shipped config `cfg` on vol, with `extra` lines added to its
 * [mr_segment] section. */
static const json_t *run(harness *h, const char *cfg, const char *extra,
                         sp_volume *vol, const sp_dicom_header *hdr)
{
    char text[20000];
    const char *base = read_text(cfg);
    const char *at = strstr(base, "[mr_segment]\n");
    assert_non_null(at);
    at += strlen("[mr_segment]\n");
    snprintf(text, sizeof text, "%.*s%s\n%s", (int)(at - base), base, extra,
             at);
    harness_init(h);
    sp_status st = harness_load(h, text);
    if (st != SP_OK)
        fail_msg("config: %s", h->err.message);
    st = harness_run(h, vol, hdr);
    if (st != SP_OK)
        fail_msg("run failed: %s", h->err.message);
    const json_t *r = sp_store_table(h->store, "report");
    assert_non_null(r);
    return r;
}

static const json_t *level_named(const json_t *report, const char *name)
{
    const json_t *levels = json_object_get(report, "levels");
    for (size_t q = 0; q < json_array_size(levels); q++) {
        const json_t *l = json_array_get(levels, q);
        if (strcmp(json_string_value(json_object_get(l, "level")), name) == 0)
            return l;
    }
    return NULL;
}

/* The finding `code` at a level, or NULL. */
static const json_t *finding(const json_t *level, const char *code)
{
    const json_t *f = json_object_get(level, "findings");
    for (size_t q = 0; q < json_array_size(f); q++) {
        const json_t *x = json_array_get(f, q);
        if (strcmp(json_string_value(json_object_get(x, "code")), code) == 0)
            return x;
    }
    return NULL;
}

/* Severity of the finding `code` at a level, or NULL. */
static const char *severity(const json_t *level, const char *code)
{
    return json_string_value(json_object_get(finding(level, code),
                                             "severity"));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The phantom (L4-L5 stenosis of 8 mm, 5 mm left paracentral herniation
 * at L5-S1): every truth level found and named, canal AP median error <=
 * 0.5 mm (each within 1 mm), only L4-L5 flagged for canal AP, and that
 * one absolute; only L5-S1 flagged for disc displacement, on the left. */
static void phantom_report_matches_truth(void **state)
{
    (void)state;
    sp_volume v;
    sp_dicom_header hdr;
    load(test_source_path("sample_dicom/mr-t2-sagittal"), &v, &hdr);
    harness h;
    const json_t *r = run(&h, "config/mr-lumbar-t2.ini", "", &v, &hdr);
    char *tp = test_source_path("sample_truth/mr-t2-sagittal/truth.json");
    json_error_t jerr;
    json_t *truth = json_load_file(tp, 0, &jerr);
    free(tp);
    assert_non_null(truth);
    const json_t *tl = json_object_get(truth, "levels");
    size_t n = json_array_size(tl);
    assert_true(n == 6);
    assert_int_equal(json_array_size(json_object_get(r, "levels")), n);
    double err[6];
    for (size_t q = 0; q < n; q++) {
        const json_t *t = json_array_get(tl, q);
        const char *name = json_string_value(json_object_get(t, "level"));
        const json_t *l = level_named(r, name);
        assert_non_null(l);
        double want = json_number_value(json_object_get(t, "canal_ap_mm"));
        double got = json_number_value(json_object_get(l, "canal_ap_mm"));
        print_message("# %s: canal AP %.2f mm (truth %.2f), %s\n", name, got,
                      want, severity(l, "canal_ap_stenosis"));
        err[q] = fabs(got - want);
        assert_true(err[q] <= 1.0);
        const char *sev = severity(l, "canal_ap_stenosis");
        assert_non_null(sev);
        assert_string_equal(sev, want < 10 ? "absolute" : "normal");
        double dwant = json_number_value(
            json_object_get(t, "posterior_displacement_mm"));
        const json_t *disp = finding(l, "disc_displacement");
        assert_non_null(disp);
        const char *dsev = severity(l, "disc_displacement");
        double dgot = json_number_value(json_object_get(disp, "value"));
        const char *where =
            json_string_value(json_object_get(disp, "position"));
        print_message("# %s: displacement %.1f mm (truth %.1f), %s %s\n",
                      name, dgot, dwant, dsev, where ? where : "");
        if (dwant > 0) {
            /* the reach beyond the vertebral margins, not only the sac's
             * indentation (2.9 mm for 5.0 before) */
            assert_true(fabs(dgot - dwant) <= 1.0);
            assert_string_not_equal(dsev, "normal");
            assert_non_null(where);
            assert_string_equal(where, json_string_value(json_object_get(
                                           t, "herniation_position")));
        } else {
            assert_string_equal(dsev, "normal");
        }
    }
    qsort(err, n, sizeof *err, cmp_double);
    double med = 0.5 * (err[n / 2 - 1] + err[n / 2]);
    print_message("# canal AP median |error| %.2f mm\n", med);
    assert_true(med <= 0.5);
    /* the label map: canal and every disc of the truth */
    const sp_volume *lab = sp_store_volume(h.store, "labels.spine",
                                           SP_ARTIFACT_LABELS);
    assert_non_null(lab);
    size_t count[256] = {0};
    for (size_t t = 0; t < sp_volume_count(lab); t++)
        if (sp_volume_u16(lab)[t] < 256)
            count[sp_volume_u16(lab)[t]]++;
    assert_true(count[SP_LABEL_CANAL] > 1000);
    for (int d = 119; d <= 124; d++)
        assert_true(count[d] > 50);
    assert_true(count[SP_LABEL_SACRUM] > 0);
    assert_int_equal(count[SP_LABEL_SACRUM - 1], 0); /* no L6 */
    json_decref(truth);
    harness_free(&h);
}

/* The same images with a T1 header: not analysable, with the reason in
 * report.json; the pipeline still finishes (overview written). */
static void t1_header_is_not_analysable(void **state)
{
    (void)state;
    sp_volume v;
    sp_dicom_header hdr;
    load(test_source_path("sample_dicom/mr-t2-sagittal"), &v, &hdr);
    snprintf(hdr.series_description, sizeof hdr.series_description,
             "SAG T1 TSE");
    hdr.echo_time_ms = 12, hdr.repetition_time_ms = 600;
    harness h;
    const json_t *r = run(&h, "config/mr-lumbar-t2.ini", "", &v, &hdr);
    const char *why = json_string_value(json_object_get(r, "not_analysable"));
    assert_non_null(why);
    print_message("# not_analysable: %s\n", why);
    assert_non_null(strstr(why, "T1-weighted"));
    assert_int_equal(json_array_size(json_object_get(r, "levels")), 0);
    const json_t *images = json_object_get(r, "images");
    assert_string_equal(json_string_value(json_array_get(images, 0)),
                        "overview.png");
    harness_free(&h);
}

/* Fraction of 0.1 mm steps along the caliper `ends` (two patient points)
 * whose label in `lab` lies in [lo, hi]. */
static double caliper_in_labels(const sp_volume *lab, const json_t *ends,
                                int lo, int hi)
{
    double a[3], b[3];
    for (int c = 0; c < 3; c++) {
        a[c] = json_number_value(json_array_get(json_array_get(ends, 0), c));
        b[c] = json_number_value(json_array_get(json_array_get(ends, 1), c));
    }
    double len = sqrt((b[0] - a[0]) * (b[0] - a[0]) +
                      (b[1] - a[1]) * (b[1] - a[1]) +
                      (b[2] - a[2]) * (b[2] - a[2]));
    size_t in = 0, n = 0;
    for (double t = 0.05; t < len; t += 0.1, n++) {
        double p[3], ijk[3];
        for (int c = 0; c < 3; c++)
            p[c] = a[c] + (b[c] - a[c]) * t / len;
        if (sp_volume_patient_to_voxel(lab, p, ijk) != SP_OK)
            continue;
        long ii[3];
        int inside = 1;
        for (int c = 0; c < 3; c++) {
            ii[c] = (long)floor(ijk[c] + 0.5);
            inside &= ii[c] >= 0 && ii[c] < (long)lab->dim[c];
        }
        if (!inside)
            continue;
        int v = ((const uint16_t *)lab->data)[sp_volume_index(
            lab, (size_t)ii[0], (size_t)ii[1], (size_t)ii[2])];
        in += v >= lo && v <= hi;
    }
    return n ? (double)in / (double)n : 0;
}

/* The real lumbar T2: six discs T12-L1 .. L5-S1 named in order, dural sac
 * AP 5-20 mm at each, a disc position and caliper for every key image;
 * the label map's sac (canal, and the roots behind the ventral CSF the AP
 * takes in, labelled cord) covers the caliper, so the overview's canal
 * outline shows what was measured. */
static void lumbar_levels_named(void **state)
{
    (void)state;
    sp_volume v;
    sp_dicom_header hdr;
    load(test_data_path("spine/mr-lumbar-t2-sag/dicom"), &v, &hdr);
    harness h;
    const json_t *r = run(&h, "config/mr-lumbar-t2.ini", "", &v, &hdr);
    static const char *const names[] = {"T12-L1", "L1-L2", "L2-L3",
                                        "L3-L4",  "L4-L5", "L5-S1"};
    const json_t *levels = json_object_get(r, "levels");
    assert_int_equal(json_array_size(levels), 6);
    const sp_volume *lab = sp_store_volume(h.store, "labels.spine",
                                           SP_ARTIFACT_LABELS);
    assert_non_null(lab);
    double min_canal = 1;
    for (size_t q = 0; q < 6; q++) {
        const json_t *l = json_array_get(levels, q);
        assert_string_equal(json_string_value(json_object_get(l, "level")),
                            names[q]);
        double ap = json_number_value(json_object_get(l, "canal_ap_mm"));
        print_message("# %s: AP %.1f mm\n", names[q], ap);
        assert_true(ap >= 5 && ap <= 20);
        assert_int_equal(json_array_size(json_object_get(
                             l, "canal_ap_endpoints_mm")), 2);
        assert_int_equal(json_array_size(json_object_get(
                             l, "disc_centroid_mm")), 3);
        const json_t *ends = json_object_get(l, "canal_ap_endpoints_mm");
        double canal = caliper_in_labels(lab, ends, SP_LABEL_CANAL,
                                         SP_LABEL_CANAL);
        double sac = caliper_in_labels(lab, ends, SP_LABEL_CANAL,
                                       SP_LABEL_CORD);
        double ap_mm = json_number_value(json_object_get(l, "canal_ap_mm"));
        print_message("# %s: caliper in the canal label %.2f, in canal or "
                      "the roots behind it %.2f (%.1f mm outside)\n",
                      names[q], canal, sac, (1 - sac) * ap_mm);
        /* the sub-voxel walls may lie up to two voxels past the label */
        assert_true((1 - sac) * ap_mm <= 2.5);
        min_canal = canal < min_canal ? canal : min_canal;
    }
    /* the roots lying dorsally: at some level the canal mask alone holds
     * well under the caliper */
    assert_true(min_canal < 0.7);
    /* vertebrae T12 .. L5 and the sacrum, head to feet */
    const json_t *vert = json_object_get(r, "vertebrae");
    assert_true(json_array_size(vert) >= 6);
    assert_null(json_object_get(r, "not_analysable"));
    harness_free(&h);
}

/* Cervical: the C5-C7 crop with its lowest vertebra named gets C5-C6 and
 * C6-C7, each canal AP within 2 mm of the reference sac's on the same
 * line; the axial series gets canal area and AP on every slice. */
static void cervical_crop_and_axial(void **state)
{
    (void)state;
    sp_volume v;
    sp_dicom_header hdr;
    sp_error err;
    load(test_data_path("spine/mr-cervical-c5-c7-sag-crop/dicom"), &v, &hdr);
    harness h;
    /* no C2 and no sacrum in a crop: levels are not named, and said so */
    const json_t *r = run(&h, "config/mr-cervical-t2.ini", "", &v, &hdr);
    assert_int_equal(json_array_size(json_object_get(r, "levels")), 0);
    const char *w = json_string_value(
        json_array_get(json_object_get(r, "warnings"), 0));
    assert_non_null(w);
    assert_non_null(strstr(w, "levels not named"));
    harness_free(&h);
    /* with the lowest vertebra named in the config */
    load(test_data_path("spine/mr-cervical-c5-c7-sag-crop/dicom"), &v, &hdr);
    r = run(&h, "config/mr-cervical-t2.ini", "lowest = C6", &v, &hdr);
    assert_non_null(level_named(r, "C5-C6"));
    assert_non_null(level_named(r, "C6-C7"));
    /* the canal AP against the reference sac (seg-subreg: cord 60, CSF
     * 61) along the same line, 0.1 mm steps from 6 mm before our front
     * to 6 mm past our back: its longest run inside the reference */
    sp_volume sub;
    char *path = test_data_path("spine/mr-cervical-c5-c7-sag-crop/labels/"
                                "sub-mri_seg-subreg_label-6_msk.nii.gz");
    assert_int_equal(sp_nifti_read(path, 1, &sub, &err), SP_OK);
    free(path);
    for (int q = 0; q < 2; q++) {
        const json_t *l = level_named(r, q ? "C6-C7" : "C5-C6");
        const json_t *e = json_object_get(l, "canal_ap_endpoints_mm");
        double a[3], b[3], u[3], len = 0;
        for (int c = 0; c < 3; c++) {
            a[c] = json_number_value(json_array_get(json_array_get(e, 0), c));
            b[c] = json_number_value(json_array_get(json_array_get(e, 1), c));
            u[c] = b[c] - a[c], len += u[c] * u[c];
        }
        len = sqrt(len);
        double run = 0, best = 0;
        for (double t = -6; t <= len + 6; t += 0.1) {
            double p[3], ijk[3];
            for (int c = 0; c < 3; c++)
                p[c] = a[c] + u[c] / len * t;
            int in = 0;
            if (sp_volume_patient_to_voxel(&sub, p, ijk) == SP_OK) {
                long ii[3];
                for (int c = 0; c < 3; c++)
                    ii[c] = (long)floor(ijk[c] + 0.5);
                if (ii[0] >= 0 && ii[1] >= 0 && ii[2] >= 0 &&
                    ii[0] < (long)sub.dim[0] && ii[1] < (long)sub.dim[1] &&
                    ii[2] < (long)sub.dim[2]) {
                    uint16_t lv = ((const uint16_t *)sub.data)[
                        sp_volume_index(&sub, (size_t)ii[0], (size_t)ii[1],
                                        (size_t)ii[2])];
                    in = lv == 60 || lv == 61;
                }
            }
            run = in ? run + 0.1 : 0;
            best = run > best ? run : best;
        }
        print_message("# %s: canal AP %.1f mm, reference sac %.1f mm\n",
                      q ? "C6-C7" : "C5-C6", len, best);
        assert_true(fabs(len - best) <= 2.0);
        /* the cervical dural sac is not judged by Pavlov's bony canal
         * cut-offs, and the compression ratio (Miyanji: the mean of the
         * levels above and below as reference) needs a level on each
         * side, which neither of the crop's two levels has */
        assert_null(finding(l, "canal_ap_stenosis"));
        assert_null(finding(l, "canal_compression"));
        /* ... and report.json says so instead of reading as normal */
        char said[64];
        snprintf(said, sizeof said, "%s: canal AP %.1f mm not judged",
                 q ? "C6-C7" : "C5-C6",
                 json_number_value(json_object_get(l, "canal_ap_mm")));
        size_t iw;
        const json_t *wj;
        int found = 0;
        json_array_foreach(json_object_get(r, "warnings"), iw, wj)
            found |= strstr(json_string_value(wj), said) != NULL;
        assert_true(found);
    }
    sp_volume_free(&sub);
    harness_free(&h);

    load(test_data_path("spine/mr-cervical-t2-axial/dicom"), &v, &hdr);
    size_t nz = v.dim[2];
    r = run(&h, "config/mr-cervical-t2.ini", "", &v, &hdr);
    const json_t *m = sp_store_table(h.store, "measurements");
    const json_t *sec = json_object_get(m, "sections");
    assert_int_equal(json_array_size(sec), nz);
    assert_true(json_equal(json_object_get(r, "sections"), sec));
    for (size_t k = 0; k < nz; k++) {
        const json_t *s = json_array_get(sec, k);
        double area = json_number_value(json_object_get(s, "canal_area_mm2"));
        double ap = json_number_value(json_object_get(s, "canal_ap_mm"));
        assert_true(area > 100 && area < 400);
        assert_true(ap > 8 && ap < 20);
        /* 4 acquired slices 5 mm apart, resampled to 1 mm */
        assert_true(json_is_boolean(json_object_get(s, "acquired")));
        assert_int_equal(json_is_true(json_object_get(s, "acquired")),
                         k % 5 == 0);
    }
    size_t iw;
    const json_t *wj;
    int said = 0;
    json_array_foreach(json_object_get(r, "warnings"), iw, wj)
        said |= strstr(json_string_value(wj), "only 4 of its 16 slices "
                                              "were acquired (5.0 mm") != NULL;
    assert_true(said);
    harness_free(&h);
}

/* Patient z (mm) of the boundary between cord levels v and v + 1 of a
 * cord labelled by vertebral level: half way between the lowest voxel of
 * v and the highest of v + 1. */
static double cord_boundary_z(const sp_volume *cord, int v)
{
    double lo = INFINITY, hi = -INFINITY;
    const uint16_t *l = cord->data;
    for (size_t t = 0; t < sp_volume_count(cord); t++) {
        if (l[t] != v && l[t] != v + 1)
            continue;
        double ijk[3] = {(double)(t % cord->dim[0]),
                         (double)(t / cord->dim[0] % cord->dim[1]),
                         (double)(t / (cord->dim[0] * cord->dim[1]))};
        double p[3];
        sp_volume_voxel_to_patient(cord, ijk, p);
        if (l[t] == v)
            lo = p[2] < lo ? p[2] : lo;
        else
            hi = p[2] > hi ? p[2] : hi;
    }
    assert_true(isfinite(lo) && isfinite(hi));
    return 0.5 * (lo + hi);
}

/* The shared cervical sagittal series shows only the lower part of C2:
 * the C2 cue (the column narrowing to the dens above the top dip) names
 * its discs C2-C3 and C3-C4, each within 5 mm of the boundary between
 * those levels of the manually level-labelled cord (the labels are only
 * read here, never by the stages). */
static void cervical_counted_from_c2(void **state)
{
    (void)state;
    sp_volume v, cord;
    sp_dicom_header hdr;
    sp_error err;
    load(test_data_path("spine/mr-cervical-t2-sag/dicom"), &v, &hdr);
    harness h;
    const json_t *r = run(&h, "config/mr-cervical-t2.ini", "", &v, &hdr);
    const json_t *levels = json_object_get(r, "levels");
    assert_int_equal(json_array_size(levels), 2);
    char *path = test_data_path(
        "spine/mr-cervical-t2-sag/labels/t2_seg-manual_labeled.nii.gz");
    assert_int_equal(sp_nifti_read(path, 1, &cord, &err), SP_OK);
    free(path);
    static const char *const names[] = {"C2-C3", "C3-C4"};
    for (int q = 0; q < 2; q++) {
        const json_t *l = level_named(r, names[q]);
        assert_non_null(l);
        double z = json_number_value(
            json_array_get(json_object_get(l, "disc_centroid_mm"), 2));
        double b = cord_boundary_z(&cord, 2 + q);
        print_message("# %s: disc at z %.1f mm, labelled cord's level "
                      "boundary %.1f mm\n", names[q], z, b);
        assert_true(fabs(z - b) <= 5);
        /* a volunteer's dural sac (11.4, 11.5 mm): not judged against
         * Pavlov's bony canal cut-offs (relative < 13 mm), nor by the
         * compression ratio, which needs a level on each side */
        assert_null(finding(l, "canal_ap_stenosis"));
        assert_null(finding(l, "canal_compression"));
    }
    sp_volume_free(&cord);
    harness_free(&h);
}

/* mr-cervical-t2.ini says `default = false`: sagittal MR still gets
 * mr-lumbar-t2 by default, axial MR mr-spine. */
static void cervical_config_only_on_request(void **state)
{
    (void)state;
    char path[4096];
    sp_error err;
    assert_int_equal(sp_pipeline_choose_default("MR", "sagittal", path,
                                                sizeof path, &err), SP_OK);
    assert_non_null(strstr(path, "mr-lumbar-t2.ini"));
    assert_int_equal(sp_pipeline_choose_default("MR", "axial", path,
                                                sizeof path, &err), SP_OK);
    assert_non_null(strstr(path, "mr-spine.ini"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(phantom_report_matches_truth),
        cmocka_unit_test(t1_header_is_not_analysable),
        cmocka_unit_test(lumbar_levels_named),
        cmocka_unit_test(cervical_crop_and_axial),
        cmocka_unit_test(cervical_counted_from_c2),
        cmocka_unit_test(cervical_config_only_on_request),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
