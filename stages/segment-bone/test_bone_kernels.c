/* segment-bone on real CT: the kept spinal column against the union of the
 * reference vertebra labels (totalseg, T11-S1; the sacrum below S1 is
 * bone but not labelled there, hence precision below sensitivity). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analysis_tools.h"
#include "bone_kernels.h"
#include "test_data.h"

static void spine_matches_reference_vertebrae(void **state)
{
    (void)state;
    char *dir = test_data_path("spine/ct-abdomen-t11-s1/dicom");
    char *ref = test_data_path("spine/ct-abdomen-t11-s1/labels/totalseg.nii.gz");
    sp_volume ct = {0}, lab = {0}, mask = {0};
    sp_error err;
    assert_int_equal(analysis_load_series(dir, &ct, &err), SP_OK);
    assert_int_equal(sp_nifti_read(ref, 1, &lab, &err), SP_OK);
    bone_params p;
    bone_params_default(&p);
    assert_int_equal(bone_mask(&ct, &p, &mask, &err), SP_OK);
    bone_spine_info info;
    assert_int_equal(bone_select_spine(&ct, &mask, 50, 40, &info, &err),
                     SP_OK);
    size_t tp = 0, fp = 0, fn = 0, n = sp_volume_count(&ct);
    for (size_t q = 0; q < n; q++) {
        int x = sp_volume_u8(&mask)[q] != 0;
        int y = sp_volume_u16(&lab)[q] != 0;
        tp += x && y;
        fp += x && !y;
        fn += !x && y;
    }
    double dice = 2.0 * (double)tp / (double)(2 * tp + fp + fn);
    double sens = (double)tp / (double)(tp + fn);
    print_message("# spine vs totalseg union: dice %.3f sensitivity %.3f "
                  "(%ld components, %.0f mm)\n",
                  dice, sens, info.n_components, info.z_extent_mm);
    /* measured 0.796 / 0.885 */
    assert_true(dice >= 0.78);
    assert_true(sens >= 0.87);
    assert_true(info.z_extent_mm >= 250);
    /* the column is at the patient's mid-line (x within 2 cm of 0 here) */
    assert_true(info.midline_x_mm > -20 && info.midline_x_mm < 20);
    sp_volume_free(&ct), sp_volume_free(&lab), sp_volume_free(&mask);
    free(dir), free(ref);
}

static void too_short_a_column_is_not_analysable(void **state)
{
    (void)state;
    char *dir = test_data_path("spine/ct-abdomen-t11-s1/dicom");
    sp_volume ct = {0}, mask = {0};
    sp_error err;
    assert_int_equal(analysis_load_series(dir, &ct, &err), SP_OK);
    /* keep 8 slices (24 mm) of the real scan */
    ct.dim[2] = 8;
    bone_params p;
    bone_params_default(&p);
    assert_int_equal(bone_mask(&ct, &p, &mask, &err), SP_OK);
    assert_int_equal(bone_select_spine(&ct, &mask, 50, 40, NULL, &err),
                     SP_NOTANALYSABLE);
    assert_non_null(strstr(err.message, "not analysable"));
    ct.dim[2] = 112;
    sp_volume_free(&ct), sp_volume_free(&mask);
    free(dir);
}

static void bad_thresholds_are_refused(void **state)
{
    (void)state;
    sp_volume ct = {0}, mask = {0};
    sp_error err;
    assert_int_equal(sp_volume_alloc(&ct, SP_VOXEL_F32, 4, 4, 4, &err), SP_OK);
    bone_params p;
    bone_params_default(&p);
    p.grow_hu = p.seed_hu + 1;
    assert_int_equal(bone_mask(&ct, &p, &mask, &err), SP_CONFIG);
    assert_non_null(strstr(err.message, "grow_hu"));
    sp_volume_free(&ct);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spine_matches_reference_vertebrae),
        cmocka_unit_test(too_short_a_column_is_not_analysable),
        cmocka_unit_test(bad_thresholds_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
