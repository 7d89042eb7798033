/* The pure-C grouping and sorting code on synthetic slice records:
 * sorting by position (never by file order), duplicates, gaps, uneven
 * spacing, gantry tilt, and when one SeriesInstanceUID is split. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dicom/dicom_internal.h"

static const double axial[6] = {1, 0, 0, 0, 1, 0};
static const double sagittal[6] = {0, 1, 0, 0, 0, -1};

static void add_numbered(spd_collect *c, const char *name,
                         const double pos[3], const double orient[6],
                         int echo, int acq, int instance)
{
    spd_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.header.study_uid, sizeof r.header.study_uid, "1.2.3");
    snprintf(r.header.series_uid, sizeof r.header.series_uid, "1.2.3.4");
    snprintf(r.header.modality, sizeof r.header.modality, "CT");
    r.header.series_number = 7;
    r.path = (char *)name;
    memcpy(r.position, pos, sizeof r.position);
    memcpy(r.orientation, orient, sizeof r.orientation);
    r.pixel_spacing[0] = r.pixel_spacing[1] = 0.5;
    r.rows = r.columns = 64;
    r.bits_allocated = 16;
    r.samples_per_pixel = 1;
    r.rescale_slope = 1;
    r.echo = echo;
    r.acquisition = acq;
    r.temporal = -1;
    r.instance = instance;
    snprintf(r.transfer_syntax, sizeof r.transfer_syntax,
             "1.2.840.10008.1.2.1");
    assert_int_equal(spd_collect_record(c, &r), SP_OK);
}

static void add(spd_collect *c, const char *name, const double pos[3],
                const double orient[6], int echo, int acq)
{
    add_numbered(c, name, pos, orient, echo, acq, -1);
}

static void add_z(spd_collect *c, double z, int echo, int acq)
{
    char name[32];
    snprintf(name, sizeof name, "z%+08.2f_e%d", z, echo);
    double pos[3] = {-10, -20, z};
    add(c, name, pos, axial, echo, acq);
}

static sp_dicom_scan *group(spd_collect *c)
{
    sp_dicom_scan *scan = NULL;
    sp_error err = {0};
    assert_int_equal(spd_group(c, &scan, &err), SP_OK);
    assert_non_null(scan);
    return scan;
}

static int has_warning(const sp_dicom_series *s, const char *needle)
{
    for (size_t i = 0; i < s->n_warnings; i++)
        if (strstr(s->warnings[i], needle))
            return 1;
    return 0;
}

static void sorts_shuffled_positions(void **state)
{
    (void)state;
    /* File order, and names, disagree with the positions. */
    static const double z[] = {8, 18, 0, 4, 16, 2, 12, 6, 14, 10};
    spd_collect c = {0};
    for (size_t i = 0; i < 10; i++)
        add_z(&c, z[i], -1, (int)i);
    sp_dicom_scan *scan = group(&c);
    assert_int_equal(scan->n_series, 1);
    assert_int_equal(scan->n_skipped, 0);
    const sp_dicom_series *s = &scan->series[0];
    assert_int_equal(s->n_slices, 10);
    for (size_t k = 0; k < 10; k++) {
        assert_true(fabs(s->slices[k].position[2] - 2.0 * (double)k) < 1e-12);
        assert_true(fabs(s->slices[k].along_normal - 2.0 * (double)k) <
                    1e-12);
    }
    assert_true(fabs(s->slice_spacing - 2.0) < 1e-12);
    assert_true(s->gantry_tilt_deg < 1e-6);
    assert_int_equal(s->n_warnings, 0);
    assert_int_equal(s->part, 0);
    assert_int_equal(s->n_transfer_syntaxes, 1);
    sp_dicom_scan_free(scan);
}

static void duplicates_and_gaps(void **state)
{
    (void)state;
    static const double z[] = {14, 4, 0, 2, 4, 6, 12};
    spd_collect c = {0};
    for (size_t i = 0; i < 7; i++)
        add_z(&c, z[i], -1, 1);
    sp_dicom_scan *scan = group(&c);
    assert_int_equal(scan->n_series, 1);
    const sp_dicom_series *s = &scan->series[0];
    assert_int_equal(s->n_slices, 6);
    assert_int_equal(scan->n_skipped, 1);
    assert_non_null(strstr(scan->skipped[0].reason, "duplicate"));
    assert_int_equal(scan->skipped[0].code, SP_FORMAT);
    assert_true(has_warning(s, "repeat the position"));
    assert_true(has_warning(s, "missing slices"));
    assert_true(has_warning(s, "6.00 mm"));
    assert_true(fabs(s->slice_spacing - 2.0) < 1e-12);
    sp_dicom_scan_free(scan);
}

static void uneven_spacing(void **state)
{
    (void)state;
    static const double z[] = {0, 2, 4.5, 6.5, 8.5};
    spd_collect c = {0};
    for (size_t i = 0; i < 5; i++)
        add_z(&c, z[i], -1, 1);
    sp_dicom_scan *scan = group(&c);
    const sp_dicom_series *s = &scan->series[0];
    assert_int_equal(s->n_slices, 5);
    assert_true(has_warning(s, "non-uniform"));
    assert_false(has_warning(s, "missing"));
    sp_dicom_scan_free(scan);
}

static void gantry_tilt(void **state)
{
    (void)state;
    /* Each step: 2 mm along z and 2 tan(15 deg) mm along y. */
    double t = tan(15.0 * M_PI / 180.0);
    spd_collect c = {0};
    for (int k = 4; k >= 0; k--) {
        char name[16];
        snprintf(name, sizeof name, "t%d", k);
        double pos[3] = {0, 2.0 * t * k, 2.0 * k};
        add(&c, name, pos, axial, -1, 1);
    }
    sp_dicom_scan *scan = group(&c);
    const sp_dicom_series *s = &scan->series[0];
    assert_true(fabs(s->gantry_tilt_deg - 15.0) < 1e-6);
    assert_true(fabs(s->slice_spacing - 2.0) < 1e-9);
    assert_true(has_warning(s, "gantry tilt"));
    sp_dicom_scan_free(scan);
}

static void splits_orientations_into_parts(void **state)
{
    (void)state;
    spd_collect c = {0};
    for (int k = 0; k < 3; k++) {
        char name[16];
        double pa[3] = {0, 0, k}, ps[3] = {k, 0, 0};
        snprintf(name, sizeof name, "a%d", k);
        add(&c, name, pa, axial, -1, 1);
        snprintf(name, sizeof name, "s%d", k);
        add(&c, name, ps, sagittal, -1, 1);
    }
    sp_dicom_scan *scan = group(&c);
    assert_int_equal(scan->n_series, 2);
    assert_int_equal(scan->series[0].part, 1);
    assert_int_equal(scan->series[1].part, 2);
    for (int i = 0; i < 2; i++)
        assert_int_equal(scan->series[i].n_slices, 3);
    /* Sagittal: normal = row x col = -x, so slices run from +x to -x. */
    const sp_dicom_series *sag =
        scan->series[0].orientation[0] == 0 ? &scan->series[0]
                                            : &scan->series[1];
    assert_true(fabs(sag->slice_normal[0] + 1.0) < 1e-12);
    assert_true(sag->slices[0].position[0] > sag->slices[2].position[0]);
    sp_dicom_scan_free(scan);
}

static void splits_echoes_only_when_positions_repeat(void **state)
{
    (void)state;
    /* Two echoes at the same four positions: two volumes. */
    spd_collect c = {0};
    for (int k = 0; k < 4; k++) {
        add_z(&c, 3.0 * k, 1, 1);
        add_z(&c, 3.0 * k, 2, 1);
    }
    sp_dicom_scan *scan = group(&c);
    assert_int_equal(scan->n_series, 2);
    assert_int_equal(scan->n_skipped, 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(scan->series[i].n_slices, 4);
        assert_int_equal(scan->series[i].n_warnings, 0);
    }
    sp_dicom_scan_free(scan);

    /* Sequential CT: an acquisition number per slice and one stray
     * duplicate stays one volume. */
    spd_collect d = {0};
    for (int k = 0; k < 6; k++)
        add_z(&d, 2.0 * k, -1, 100 + k);
    add_z(&d, 4.0, 3, 999);
    scan = group(&d);
    assert_int_equal(scan->n_series, 1);
    assert_int_equal(scan->series[0].n_slices, 6);
    assert_int_equal(scan->n_skipped, 1);
    sp_dicom_scan_free(scan);
}

/* Instance numbers running against the normal reverse the stack (the
 * producer's grid); any disorder in them leaves it along the normal. */
static void instance_numbers_set_stack_direction(void **state)
{
    (void)state;
    static const double x[] = {2, 0, 3, 1};
    spd_collect c = {0};
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "i%d", i);
        double pos[3] = {x[i], 5, 7};
        add_numbered(&c, name, pos, sagittal, -1, 1, (int)x[i] + 10);
    }
    sp_dicom_scan *scan = group(&c);
    const sp_dicom_series *s = &scan->series[0];
    for (size_t k = 0; k < 4; k++)
        assert_true(s->slices[k].position[0] == (double)k);
    assert_true(s->slices[0].along_normal > s->slices[3].along_normal);
    assert_true(fabs(s->slice_spacing - 1.0) < 1e-12);
    sp_dicom_scan_free(scan);

    static const int muddled[] = {1, 2, 0, 3};
    spd_collect d = {0};
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", i);
        double pos[3] = {x[i], 5, 7};
        add_numbered(&d, name, pos, sagittal, -1, 1, muddled[i]);
    }
    scan = group(&d);
    s = &scan->series[0];
    assert_true(s->slices[0].along_normal < s->slices[3].along_normal);
    sp_dicom_scan_free(scan);
}

static void empty_collection(void **state)
{
    (void)state;
    spd_collect c = {0};
    assert_int_equal(spd_collect_skip(&c, "x", SP_NOTDICOM, "bad\x1b[2J"),
                     SP_OK);
    sp_dicom_scan *scan = group(&c);
    assert_int_equal(scan->n_series, 0);
    assert_int_equal(scan->n_skipped, 1);
    assert_null(strchr(scan->skipped[0].reason, '\x1b'));
    sp_dicom_scan_free(scan);
}

static void sanitises_strings(void **state)
{
    (void)state;
    char out[8];
    spd_copy_clean(out, sizeof out, "AB\ncd\x7f" "xyz   ");
    assert_string_equal(out, "AB?cd?x");
    spd_copy_clean(out, sizeof out, "CT  ");
    assert_string_equal(out, "CT");
    spd_copy_clean(out, sizeof out, NULL);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sorts_shuffled_positions),
        cmocka_unit_test(duplicates_and_gaps),
        cmocka_unit_test(uneven_spacing),
        cmocka_unit_test(gantry_tilt),
        cmocka_unit_test(splits_orientations_into_parts),
        cmocka_unit_test(splits_echoes_only_when_positions_repeat),
        cmocka_unit_test(instance_numbers_set_stack_direction),
        cmocka_unit_test(empty_collection),
        cmocka_unit_test(sanitises_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
