/* Stage `resample` as a black box: a real anisotropic series comes out
 * isotropic, covering the same patient extent, with values that agree with
 * the source at shared points. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spinepipe/dicom.h"
#include "stage_harness.h"
#include "test_data.h"

/* mr-cervical-t2-axial: 1 mm class in-plane, thicker slices. Resampled to
 * 1 mm isotropic with nearest, every output voxel centre that coincides
 * with a source voxel centre carries its exact value. */
static void real_series_to_isotropic(void **state)
{
    (void)state;
    sp_error err;
    sp_dicom_scan *scan;
    sp_volume v, copy;
    test_dicom_load_one("spine/mr-cervical-t2-axial/dicom", &v, &scan);
    assert_int_equal(sp_volume_alloc_like(&copy, &v, SP_VOXEL_F32, &err),
                     SP_OK);
    memcpy(copy.data, v.data, sp_volume_count(&v) * sizeof(float));
    harness h;
    harness_init(&h);
    assert_int_equal(
        harness_load(&h, "[resample]\nspacing = 0.5\nmethod = nearest\n"),
        SP_OK);
    sp_dicom_header hdr = scan->series[0].header;
    assert_int_equal(harness_run(&h, &v, &hdr), SP_OK);
    const sp_volume *out =
        sp_store_volume(h.store, "volume.resampled", SP_ARTIFACT_VOLUME);
    assert_non_null(out);
    for (int a = 0; a < 3; a++) {
        assert_true(fabs(out->spacing[a] - 0.5) < 1e-9);
        double extent_in = (copy.dim[a] - 1) * copy.spacing[a];
        double extent_out = (out->dim[a] - 1) * out->spacing[a];
        assert_true(extent_out <= extent_in + 1e-6);
        assert_true(extent_out > extent_in - 0.5);
    }
    /* Same first voxel, same axis directions. */
    for (int r = 0; r < 3; r++)
        assert_true(fabs(out->vox2lps[r][3] - copy.vox2lps[r][3]) < 1e-9);
    size_t checked = 0;
    for (size_t k = 0; k < out->dim[2]; k++)
        for (size_t j = 0; j < out->dim[1]; j++)
            for (size_t i = 0; i < out->dim[0]; i++) {
                double ijk[3] = {i, j, k}, p[3], src[3];
                sp_volume_voxel_to_patient(out, ijk, p);
                assert_int_equal(sp_volume_patient_to_voxel(&copy, p, src),
                                 SP_OK);
                double r[3] = {round(src[0]), round(src[1]), round(src[2])};
                if (fabs(src[0] - r[0]) > 1e-6 ||
                    fabs(src[1] - r[1]) > 1e-6 || fabs(src[2] - r[2]) > 1e-6)
                    continue;
                float want = sp_volume_f32(&copy)[sp_volume_index(
                    &copy, (size_t)r[0], (size_t)r[1], (size_t)r[2])];
                assert_true(sp_volume_f32(out)[sp_volume_index(out, i, j, k)]
                            == want);
                checked++;
            }
    assert_true(checked >= copy.dim[0] * copy.dim[1]);
    harness_free(&h);
    sp_volume_free(&copy);
    sp_dicom_scan_free(scan);
}

static void bad_spacing_is_a_config_error(void **state)
{
    (void)state;
    harness h;
    harness_init(&h);
    assert_int_equal(harness_load(&h, "[resample]\nspacing = -1\n"),
                     SP_CONFIG);
    assert_non_null(strstr(h.err.message, "parameter 'spacing'"));
    harness_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_series_to_isotropic),
        cmocka_unit_test(bad_spacing_is_a_config_error),
    };
    return cmocka_run_group_tests_name("resample stage", tests, NULL, NULL);
}
