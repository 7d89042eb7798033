/* MR series triage from the header: the four real T2 series are accepted
 * in their plane; the same headers turned into T1, STIR, a localiser, a
 * CT or a coronal series are refused with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mr_series.h"
#include "test_data.h"

static sp_dicom_scan *scan(const char *rel)
{
    sp_error err;
    sp_dicom_scan *sc = NULL;
    char *dir = test_data_path(rel);
    assert_int_equal(sp_dicom_scan_path(dir, NULL, &sc, &err), SP_OK);
    free(dir);
    assert_true(sc->n_series >= 1);
    return sc;
}

/* The classifier on what the reader made of a series: its header, the
 * plane of its ImageOrientationPatient and its slice count. */
static mr_series_kind classify(const sp_dicom_series *s, char *why,
                               size_t size)
{
    sp_orientation o = sp_orientation_from_axes(s->orientation,
                                                 s->orientation + 3);
    return mr_series_classify(&s->header, o, s->n_slices, why, size);
}

static void real_t2_series_are_accepted(void **state)
{
    (void)state;
    static const struct {
        const char *dir;
        mr_series_kind kind;
    } cases[] = {
        {"spine/mr-cervical-c5-c7-sag-crop/dicom", MR_SERIES_T2_SAGITTAL},
        {"spine/mr-cervical-t2-sag/dicom", MR_SERIES_T2_SAGITTAL},
        {"spine/mr-lumbar-t2-sag/dicom", MR_SERIES_T2_SAGITTAL},
        {"spine/mr-cervical-t2-axial/dicom", MR_SERIES_T2_AXIAL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sp_dicom_scan *sc = scan(cases[c].dir);
        char why[256];
        mr_series_kind k = classify(&sc->series[0], why, sizeof why);
        print_message("# %s: %s\n", cases[c].dir, why);
        assert_int_equal(k, cases[c].kind);
        sp_dicom_scan_free(sc);
    }
}

static void other_series_are_refused(void **state)
{
    (void)state;
    sp_dicom_scan *sc = scan("spine/mr-lumbar-t2-sag/dicom");
    sp_dicom_series s = sc->series[0];
    char why[256];
    static const struct {
        const char *desc;
        double te, tr;
        const char *reason;
    } cases[] = {
        {"SAG T1 TSE", 12, 600, "T1-weighted"},
        {"sag_tse", 10, 550, "T1-weighted"},
        {"SAG STIR", 60, 3500, "inversion recovery"},
        {"t2_tirm_sag", 60, 3500, "inversion recovery"},
        {"3-plane loc", 2, 8, "localiser"},
        {"SAG PD", 20, 2500, "proton-density"},
        {"sag_tse", 0, 0, "weighting unknown"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snprintf(s.header.series_description,
                 sizeof s.header.series_description, "%s", cases[c].desc);
        s.header.protocol_name[0] = s.header.sequence_name[0] = '\0';
        s.header.echo_time_ms = cases[c].te;
        s.header.repetition_time_ms = cases[c].tr;
        assert_int_equal(classify(&s, why, sizeof why),
                         MR_SERIES_NOT_ANALYSABLE);
        print_message("# \"%s\": %s\n", cases[c].desc, why);
        assert_non_null(strstr(why, cases[c].reason));
    }
    /* T2 by echo and repetition time alone */
    snprintf(s.header.series_description,
             sizeof s.header.series_description, "sag_tse");
    s.header.echo_time_ms = 100, s.header.repetition_time_ms = 3000;
    assert_int_equal(classify(&s, why, sizeof why),
                     MR_SERIES_T2_SAGITTAL);
    /* coronal plane */
    double cor[6] = {1, 0, 0, 0, 0, -1};
    memcpy(s.orientation, cor, sizeof cor);
    assert_int_equal(classify(&s, why, sizeof why),
                     MR_SERIES_NOT_ANALYSABLE);
    assert_non_null(strstr(why, "coronal"));
    snprintf(s.header.modality, sizeof s.header.modality, "CT");
    assert_int_equal(classify(&s, why, sizeof why),
                     MR_SERIES_NOT_ANALYSABLE);
    assert_non_null(strstr(why, "not MR"));
    sp_dicom_scan_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_t2_series_are_accepted),
        cmocka_unit_test(other_series_are_refused),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
