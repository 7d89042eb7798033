/* Stored samples -> float (spd_convert_samples, vectorised in blocks of
 * 16 with a scalar tail) against the DICOM rule written out again here:
 * every 16-bit pattern, for the BitsStored / HighBit / sign combinations
 * real files use, at lengths and offsets that cut blocks anywhere; and the
 * real head CT (12 bits stored, unsigned, intercept -1024) as loaded,
 * voxel by voxel, against its files' own pixel bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dicom/dicom_internal.h"
#include "spinepipe/dicom.h"
#include "test_data.h"

/* PS3.5 8.1.1: the value is bits [high - stored + 1, high] of the 16-bit
 * little-endian word, two's complement when signed; then the rescale. */
static float reference(const uint8_t *p, unsigned stored, unsigned high,
                       int is_signed, double slope, double intercept)
{
    unsigned word = (unsigned)p[0] | (unsigned)p[1] << 8;
    long v = (long)((word >> (high + 1 - stored)) & ((1ul << stored) - 1));
    if (is_signed && v >= (1l << (stored - 1)))
        v -= 1l << stored;
    return (float)((double)v * slope + intercept);
}

static void every_pattern(void **state)
{
    (void)state;
    enum { N = 65536 };
    uint8_t *src = malloc(2 * N);
    float *out = malloc((N + 1) * sizeof *out);
    assert_non_null(src);
    assert_non_null(out);
    for (unsigned i = 0; i < N; i++) {
        src[2 * i] = (uint8_t)i;
        src[2 * i + 1] = (uint8_t)(i >> 8);
    }
    static const unsigned layouts[][2] = {{16, 15}, {12, 11}, {12, 15},
                                          {10, 9}, {8, 7}, {1, 0}};
    static const double rescale[][2] = {{1, 0}, {1, -1024}, {0.5, -3.25},
                                        {2.7e-3, 1e6}};
    for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++)
        for (int sg = 0; sg <= 1; sg++)
            for (size_t r = 0; r < sizeof rescale / sizeof rescale[0]; r++) {
                unsigned stored = layouts[l][0], high = layouts[l][1];
                double a = rescale[r][0], b = rescale[r][1];
                /* Whole range, then short runs starting anywhere. */
                static const size_t cuts[][2] = {{0, N},   {1, 15},
                                                 {3, 16},  {7, 17},
                                                 {5, 33},  {N - 9, 9},
                                                 {100, 0}, {17, 1000}};
                for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
                    size_t at = cuts[c][0], n = cuts[c][1];
                    out[n] = -7.0f; /* must stay */
                    spd_convert_samples(src + 2 * at, n, 16, stored,
                                        high + 1 - stored, sg, a, b, out);
                    for (size_t i = 0; i < n; i++) {
                        float want = reference(src + 2 * (at + i), stored,
                                               high, sg, a, b);
                        if (memcmp(&out[i], &want, sizeof want) != 0)
                            fail_msg("stored %u high %u signed %d rescale "
                                     "%g %g, word %zu: %.9g, want %.9g",
                                     stored, high, sg, a, b, at + i,
                                     (double)out[i], (double)want);
                    }
                    assert_true(out[n] == -7.0f);
                }
            }
    free(src);
    free(out);
}

static void head_ct_against_its_bytes(void **state)
{
    (void)state;
    sp_dicom_scan *scan;
    sp_volume v;
    test_dicom_load_one("conformance/ct-head-phantom-512/dicom", &v, &scan);
    const sp_dicom_series *s = &scan->series[0];
    size_t plane = (size_t)s->rows * s->columns;
    uint8_t *bytes = malloc(2 * plane);
    assert_non_null(bytes);
    size_t checked = 0;
    for (size_t k = 0; k < s->n_slices; k++) {
        const sp_dicom_slice *sl = &s->slices[k];
        assert_int_equal(sl->bits_stored, 12);
        assert_int_equal(sl->pixel_signed, 0);
        assert_int_equal(sl->pixel_bytes, 2 * plane);
        FILE *f = fopen(sl->path, "rb");
        assert_non_null(f);
        assert_int_equal(fseek(f, (long)sl->pixel_offset, SEEK_SET), 0);
        assert_int_equal(fread(bytes, 1, 2 * plane, f), 2 * plane);
        fclose(f);
        const float *got = sp_volume_f32(&v) + k * plane;
        for (size_t i = 0; i < plane; i++) {
            float want = reference(bytes + 2 * i, sl->bits_stored,
                                   sl->high_bit, 0, sl->rescale_slope,
                                   sl->rescale_intercept);
            if (got[i] != want)
                fail_msg("%s voxel %zu: %g, its bytes give %g", sl->path, i,
                         (double)got[i], (double)want);
            checked++;
        }
    }
    assert_int_equal(checked, sp_volume_count(&v));
    free(bytes);
    sp_volume_free(&v);
    sp_dicom_scan_free(scan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_pattern),
        cmocka_unit_test(head_ct_against_its_bytes),
    };
    return cmocka_run_group_tests_name("dicom convert", tests, NULL, NULL);
}
