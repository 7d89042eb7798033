/* sp_phantom_write end to end: the DICOM series loads back as the rendered
 * image, the label map as the rendered labels, truth.json is complete,
 * and regenerating gives byte-identical files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "phantom/phantom.h"
#include "spinepipe/dicom.h"
#include "test_data.h"

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s/%s", dir, name);
    return s;
}

static void write_phantom(const sp_phantom_params *p, const char *dir)
{
    sp_error err;
    sp_status st = sp_phantom_write(p, dir, &err);
    if (st != SP_OK)
        fail_msg("%s", err.message);
}

static void check_outputs(const sp_phantom_params *p, const char *modality,
                          sp_orientation orient)
{
    char *dir = test_make_temp_dir();
    write_phantom(p, dir);
    sp_volume img, lab;
    sp_error err;
    assert_int_equal(sp_phantom_render(p, &img, &lab, &err), SP_OK);

    char *dicom = path_in(dir, "dicom");
    sp_dicom_scan *scan = NULL;
    assert_int_equal(sp_dicom_scan_path(dicom, NULL, &scan, &err), SP_OK);
    assert_int_equal(scan->n_series, 1);
    const sp_dicom_series *s = &scan->series[0];
    assert_string_equal(s->header.modality, modality);
    assert_string_equal(s->header.manufacturer, "spinepipe phantom");
    assert_string_equal(s->header.body_part, "LSPINE");
    assert_true(s->header.has_window);
    assert_int_equal(s->n_slices, img.dim[2]);
    assert_int_equal(s->n_warnings, 0);
    sp_volume back;
    assert_int_equal(sp_dicom_load_series(s, NULL, &back, &err), SP_OK);
    assert_int_equal(sp_volume_orientation(&back), orient);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            assert_true(fabs(back.vox2lps[r][c] - img.vox2lps[r][c]) < 1e-4);
    const float *a = sp_volume_f32(&img), *b = sp_volume_f32(&back);
    double worst = 0;
    for (size_t i = 0; i < sp_volume_count(&img); i++)
        worst = fmax(worst, fabs((double)a[i] - (double)b[i]));
    print_message("# %s: largest DICOM quantisation error %.4f\n", modality,
                  worst);
    assert_true(worst <= 0.5 + 1e-3);
    sp_dicom_scan_free(scan);

    char *nii = path_in(dir, "truth_labels.nii.gz");
    sp_volume labels;
    assert_int_equal(sp_nifti_read(nii, 1, &labels, &err), SP_OK);
    assert_int_equal(labels.type, SP_VOXEL_U16);
    assert_memory_equal(labels.data, lab.data,
                        sp_volume_count(&lab) * sizeof(uint16_t));
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            assert_true(fabs(labels.vox2lps[r][c] - img.vox2lps[r][c]) < 1e-4);

    char *json = path_in(dir, "truth.json");
    json_error_t jerr;
    json_t *t = json_load_file(json, 0, &jerr);
    assert_non_null(t);
    assert_int_equal(json_array_size(json_object_get(t, "vertebrae")), 7);
    assert_int_equal(json_array_size(json_object_get(t, "levels")), 6);
    json_t *l45 = json_array_get(json_object_get(t, "levels"), 4);
    assert_string_equal(json_string_value(json_object_get(l45, "level")),
                        "L4-L5");
    double ap = p->canal_ap_mm[4] > 0 ? p->canal_ap_mm[4] : 15;
    assert_true(fabs(json_number_value(json_object_get(l45, "canal_ap_nominal_mm")) -
                     ap) < 1e-9);
    json_t *grid = json_object_get(t, "grid");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(grid, "dim"), 2)),
                     (json_int_t)img.dim[2]);
    json_decref(t);

    sp_volume_free(&img);
    sp_volume_free(&lab);
    sp_volume_free(&back);
    sp_volume_free(&labels);
    test_remove_tree(dir);
    free(dir);
    free(dicom);
    free(nii);
    free(json);
}

static void ct_axial_outputs(void **state)
{
    (void)state;
    sp_phantom_params p;
    sp_phantom_defaults(&p, SP_PHANTOM_CT);
    p.matrix = 48;
    p.pixel_mm = 3.5;
    p.slice_mm = 6;
    p.canal_ap_mm[4] = 8;
    p.herniation_mm[3] = 4;
    check_outputs(&p, "CT", SP_ORIENT_AXIAL);
}

static void mr_sagittal_outputs(void **state)
{
    (void)state;
    sp_phantom_params p;
    sp_phantom_defaults(&p, SP_PHANTOM_MR);
    p.matrix = 64;
    p.pixel_mm = 4;
    p.slices = 6;
    check_outputs(&p, "MR", SP_ORIENT_SAGITTAL);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

static void assert_same_file(const char *d1, const char *d2, const char *name)
{
    char *a = path_in(d1, name), *b = path_in(d2, name);
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(x, y, na);
    free(x);
    free(y);
    free(a);
    free(b);
}

/* Same parameters and seed: the same bytes, UIDs included. */
static void regeneration_is_byte_identical(void **state)
{
    (void)state;
    sp_phantom_params p;
    sp_phantom_defaults(&p, SP_PHANTOM_CT);
    p.matrix = 32;
    p.pixel_mm = 5;
    p.slices = 3;
    p.slice_mm = 4;
    p.seed = 77;
    char *d1 = test_make_temp_dir(), *d2 = test_make_temp_dir();
    write_phantom(&p, d1);
    p.threads = 2;
    write_phantom(&p, d2);
    assert_same_file(d1, d2, "dicom/IMG00001.dcm");
    assert_same_file(d1, d2, "dicom/IMG00003.dcm");
    assert_same_file(d1, d2, "truth.json");
    assert_same_file(d1, d2, "truth_labels.nii.gz");
    test_remove_tree(d1);
    test_remove_tree(d2);
    free(d1);
    free(d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ct_axial_outputs),
        cmocka_unit_test(mr_sagittal_outputs),
        cmocka_unit_test(regeneration_is_byte_identical),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
