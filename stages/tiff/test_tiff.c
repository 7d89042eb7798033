/* Stage `tiff` as a black box: one 16-bit page per slice, signed HU
 * rounded and clamped (or min..max scaled with the mapping in
 * ImageDescription), and the in-plane spacing in the resolution tags as
 * pixels per centimetre. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <tiffio.h>

#include "stage_harness.h"

static const double SP[3] = {0.7, 0.8, 2.5};

static void make_volume(sp_volume *v, sp_volume *copy)
{
    const double o[3] = {-10, 5, 30};
    harness_volume(v, 21, 13, 5, (double[]){1, 0, 0}, (double[]){0, 1, 0},
                   SP, o);
    harness_volume(copy, 21, 13, 5, (double[]){1, 0, 0}, (double[]){0, 1, 0},
                   SP, o);
    float *f = sp_volume_f32(v);
    for (size_t i = 0; i < sp_volume_count(v); i++)
        f[i] = (float)(-1024.0 + 7.3 * (double)i);
    f[3] = 40000.0f;  /* clamped */
    f[4] = -40000.0f; /* clamped */
    memcpy(copy->data, v->data, sp_volume_count(v) * sizeof(float));
}

static TIFF *open_output(harness *h, const char *cfg, sp_volume *copy)
{
    harness_init(h);
    if (harness_load(h, cfg) != SP_OK)
        fail_msg("%s", h->err.message);
    sp_volume v;
    make_volume(&v, copy);
    if (harness_run(h, &v, NULL) != SP_OK)
        fail_msg("%s", h->err.message);
    char path[4200];
    snprintf(path, sizeof path, "%s/volume.tif", h->out);
    TIFF *t = TIFFOpen(path, "r");
    assert_non_null(t);
    return t;
}

static void signed_hu_pages(void **state)
{
    (void)state;
    harness h;
    sp_volume copy;
    TIFF *t = open_output(&h, "[tiff]\n", &copy);
    const float *x = sp_volume_f32(&copy);
    size_t pages = 0;
    do {
        uint32_t w, ht;
        uint16_t bits, fmt, unit;
        float xr, yr;
        TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
        TIFFGetField(t, TIFFTAG_IMAGELENGTH, &ht);
        TIFFGetField(t, TIFFTAG_BITSPERSAMPLE, &bits);
        TIFFGetField(t, TIFFTAG_SAMPLEFORMAT, &fmt);
        TIFFGetField(t, TIFFTAG_RESOLUTIONUNIT, &unit);
        TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr);
        TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr);
        assert_int_equal(w, 21);
        assert_int_equal(ht, 13);
        assert_int_equal(bits, 16);
        assert_int_equal(fmt, SAMPLEFORMAT_INT);
        assert_int_equal(unit, RESUNIT_CENTIMETER);
        assert_true(fabs(xr - 10 / 0.7) < 1e-3);
        assert_true(fabs(yr - 10 / 0.8) < 1e-3);
        int16_t row[21];
        for (uint32_t y = 0; y < ht; y++) {
            assert_int_equal(TIFFReadScanline(t, row, y, 0), 1);
            for (uint32_t i = 0; i < w; i++) {
                double e = fmin(fmax(round(x[sp_volume_index(&copy, i, y,
                                                              pages)]),
                                     -32768),
                                32767);
                assert_int_equal(row[i], (int)e);
            }
        }
        pages++;
    } while (TIFFReadDirectory(t));
    assert_int_equal(pages, 5);
    TIFFClose(t);
    sp_volume_free(&copy);
    harness_free(&h);
}

static void scaled_values_carry_their_mapping(void **state)
{
    (void)state;
    harness h;
    sp_volume copy;
    TIFF *t = open_output(&h, "[tiff]\nvalues = scaled\n", &copy);
    char *desc = NULL;
    assert_int_equal(TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &desc), 1);
    json_error_t je;
    json_t *d = json_loads(desc, 0, &je);
    assert_non_null(d);
    double slope = json_number_value(json_object_get(d, "slope"));
    double inter = json_number_value(json_object_get(d, "intercept"));
    assert_true(fabs(json_number_value(json_array_get(
                         json_object_get(d, "spacing_mm"), 2)) - 2.5) < 1e-12);
    uint16_t row[21];
    const float *x = sp_volume_f32(&copy);
    assert_int_equal(TIFFReadScanline(t, row, 0, 0), 1);
    for (size_t i = 0; i < 21; i++)
        assert_true(fabs(row[i] * slope + inter - x[i]) <= slope / 2 + 1e-6);
    json_decref(d);
    TIFFClose(t);
    sp_volume_free(&copy);
    harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signed_hu_pages),
        cmocka_unit_test(scaled_values_carry_their_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
