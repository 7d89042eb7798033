/* mr-canal on real sagittal T2: the canal overlaps the reference canal
 * (CSF space, label 61) of the C5-C7 crop, holds the manually traced cord
 * of the cervical series, and runs the whole lumbar series with lumbar
 * dural-sac sizes; an image without a bright column is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analysis_tools.h"
#include "bias_kernels.h"
#include "mrcanal_kernels.h"
#include "spinepipe/labels.h"
#include "test_data.h"

/* load, bring to the canonical layout, correct and normalise */
static void prepare(const char *rel, sp_volume *t2, analysis_axes *ax,
                    sp_volume *raw)
{
    sp_error err;
    sp_volume c = {0}, fg = {0};
    char *dir = test_data_path(rel);
    assert_int_equal(analysis_load_series(dir, raw, &err), SP_OK);
    free(dir);
    assert_int_equal(analysis_axes_lps(raw, ax, &err), SP_OK);
    assert_int_equal(analysis_reorient(raw, ax, &c, &err), SP_OK);
    bias_params bp;
    bias_params_default(&bp);
    assert_int_equal(bias_correct(&c, &bp, t2, NULL, &err), SP_OK);
    assert_int_equal(bias_foreground(&c, bp.fg_fraction, &fg, &err), SP_OK);
    assert_int_equal(bias_normalise(t2, &fg, bp.target_median, NULL, &err),
                     SP_OK);
    sp_volume_free(&c), sp_volume_free(&fg);
}

/* prepare, then the canal with the default parameters */
static void prepare_canal(const char *rel, sp_volume *t2, analysis_axes *ax,
                          sp_volume *raw, sp_volume *canal,
                          mrcanal_info *info)
{
    prepare(rel, t2, ax, raw);
    mrcanal_params p;
    mrcanal_params_default(&p);
    sp_error err;
    assert_int_equal(mrcanal_segment(t2, &p, canal, info, &err), SP_OK);
}

static void reference(const char *rel, const analysis_axes *ax,
                      sp_volume *ref)
{
    sp_volume r = {0};
    char *path = test_data_path(rel);
    assert_int_equal(sp_nifti_read(path, 1, &r, NULL), SP_OK);
    free(path);
    assert_int_equal(analysis_reorient(&r, ax, ref, NULL), SP_OK);
    sp_volume_free(&r);
}

/* Dice of labels 1 or 201 or 202 (ours) against 60 + 61 (the reference
 * sac of seg-subreg: cord and canal CSF) */
static double sac_dice(const sp_volume *ours, const sp_volume *ref)
{
    const uint16_t *a = ours->data, *b = ref->data;
    size_t na = 0, nb = 0, both = 0;
    for (size_t t = 0; t < sp_volume_count(ours); t++) {
        int x = a[t] == 1 || a[t] == SP_LABEL_CANAL || a[t] == SP_LABEL_CORD;
        int y = b[t] == 60 || b[t] == 61;
        na += (size_t)x, nb += (size_t)y, both += (size_t)(x && y);
    }
    return na + nb ? 2.0 * (double)both / (double)(na + nb) : 0;
}

static void canal_matches_reference_c5_c7(void **state)
{
    (void)state;
    sp_volume raw = {0}, t2 = {0}, canal = {0}, ref = {0}, lab = {0};
    analysis_axes ax;
    mrcanal_info info;
    prepare_canal("spine/mr-cervical-c5-c7-sag-crop/dicom", &t2, &ax, &raw,
                  &canal, &info);
    reference("spine/mr-cervical-c5-c7-sag-crop/labels/"
              "sub-mri_seg-subreg_label-6_msk.nii.gz", &ax, &ref);
    assert_int_equal(sp_volume_alloc_like(&lab, &canal, SP_VOXEL_U16, NULL),
                     SP_OK);
    uint16_t *l = lab.data;
    const uint8_t *m = canal.data;
    for (size_t t = 0; t < sp_volume_count(&canal); t++)
        l[t] = m[t];
    double dice = analysis_dice_labels(&lab, 1, &ref, 61);
    print_message("# C5-C7 crop: canal Dice vs label 61 = %.3f\n", dice);
    assert_true(dice >= 0.80);
    /* the dural sac AP takes in the cord and the CSF behind it: against
     * the reference sac (canal CSF 61 and cord 60) in the same slice and
     * plane, C5-C6 within 2 mm (it read 7.1 for 12.0 with the ventral
     * CSF alone); C6-C7 (9.0 in the reference) is narrowed by its disc
     * and compressed cord and still reads short */
    mrspine s;
    sp_error err;
    assert_int_equal(mrdisc_find(&t2, &canal, &info, &s, &err), SP_OK);
    assert_int_equal(mrdisc_label(&s, "C6", &err), SP_OK);
    s.cervical = 1;
    mrlevel_measure lv[MRSPINE_MAX_DISCS];
    assert_int_equal(mr_measure(&canal, &t2, &s, &info, t2.spacing[2],
                                t2.spacing[1], 1.5, lv, &err), SP_OK);
    assert_int_equal(s.n_disc, 2);
    const uint16_t *r = ref.data;
    for (size_t q = 0; q < 2; q++) {
        size_t run = 0, best = 0;
        for (size_t j = 0; j < ref.dim[1]; j++) {
            uint16_t v = r[sp_volume_index(&ref, (size_t)lv[q].ap_i, j,
                                           (size_t)lv[q].ap_k)];
            run = v == 60 || v == 61 ? run + 1 : 0;
            best = run > best ? run : best;
        }
        double want = (double)best * ref.spacing[1];
        print_message("# C5-C7 crop: disc %zu sac AP %.1f mm, reference "
                      "%.1f mm\n", q, lv[q].canal_ap_mm, want);
        if (lv[q].vert_above == SP_LABEL_C1 + 4)
            assert_true(fabs(lv[q].canal_ap_mm - want) <= 2.0);
        else
            assert_true(lv[q].canal_ap_mm > 4 && lv[q].canal_ap_mm < want);
    }
    /* the sac as measured (the canal and the cord or CSF behind it that
     * the AP takes in, label 202) overlaps the reference sac (60 + 61)
     * more than the canal mask alone: 0.794 -> 0.825 */
    double before = sac_dice(&lab, &ref);
    for (size_t t = 0; t < sp_volume_count(&canal); t++)
        l[t] = m[t] ? SP_LABEL_CANAL : 0;
    assert_int_equal(mr_sac_behind(&canal, &t2, &info, 1, &lab, &err),
                     SP_OK);
    size_t behind = 0;
    for (size_t t = 0; t < sp_volume_count(&lab); t++)
        behind += l[t] == SP_LABEL_CORD;
    double after = sac_dice(&lab, &ref);
    print_message("# C5-C7 crop: sac Dice vs labels 60 + 61: canal %.3f, "
                  "with the %zu voxels behind it %.3f\n", before, behind,
                  after);
    assert_true(behind > 0);
    assert_true(after > before);
    assert_true(after >= 0.80);
    /* hostile input: grids that do not match */
    sp_volume small = {0};
    assert_int_equal(sp_volume_alloc(&small, SP_VOXEL_U16, 2, 2, 2, &err),
                     SP_OK);
    assert_int_equal(mr_sac_behind(&canal, &t2, &info, 1, &small, &err),
                     SP_INTERNAL);
    sp_volume_free(&small);
    mrspine_free(&s);
    mrcanal_info_free(&info);
    sp_volume_free(&raw), sp_volume_free(&t2), sp_volume_free(&canal);
    sp_volume_free(&ref), sp_volume_free(&lab);
}

static void cord_lies_inside_canal(void **state)
{
    (void)state;
    sp_volume raw = {0}, t2 = {0}, canal = {0}, ref = {0};
    analysis_axes ax;
    mrcanal_info info;
    sp_error err;
    prepare_canal("spine/mr-cervical-t2-sag/dicom", &t2, &ax, &raw,
                  &canal, &info);
    reference("spine/mr-cervical-t2-sag/labels/t2_seg-manual.nii.gz", &ax,
              &ref);
    const uint16_t *r = ref.data;
    const uint8_t *m = canal.data;
    size_t in = 0, cord = 0, vox = 0;
    for (size_t t = 0; t < sp_volume_count(&canal); t++) {
        vox += m[t];
        if (r[t]) {
            cord++;
            in += m[t];
        }
    }
    double frac = (double)in / (double)cord;
    /* inside, and not by covering everything: the canal is a few times
     * the cord's volume (cord about a quarter of the dural sac) */
    print_message("# cervical sag: %zu of %zu cord voxels inside (%.3f); "
                  "canal/cord volume %.2f\n", in, cord, frac,
                  (double)vox / (double)cord);
    assert_true(cord > 1000);
    assert_true(frac >= 0.99);
    assert_true(vox < 5 * cord);
    /* cervical dural sac: area about 100-300 mm2, AP 9-20 mm */
    size_t nz = canal.dim[2], plausible = 0;
    double *area = malloc(nz * sizeof *area), *ap = malloc(nz * sizeof *ap);
    assert_int_equal(mr_canal_sections(&canal, &t2, info.csf_level, area, ap,
                                       &err), SP_OK);
    for (size_t k = 0; k < nz; k++)
        plausible += area[k] >= 80 && area[k] <= 320 && ap[k] >= 8 &&
                     ap[k] <= 22;
    print_message("# cervical sag: section plausible in %zu of %zu planes "
                  "(mid: %.0f mm2, AP %.0f mm)\n", plausible, nz,
                  area[nz / 2], ap[nz / 2]);
    assert_true(plausible >= nz * 8 / 10);
    free(area), free(ap);
    mrcanal_info_free(&info);
    sp_volume_free(&raw), sp_volume_free(&t2), sp_volume_free(&canal);
    sp_volume_free(&ref);
}

static void lumbar_canal_along_the_series(void **state)
{
    (void)state;
    sp_volume raw = {0}, t2 = {0}, canal = {0};
    analysis_axes ax;
    mrcanal_info info;
    prepare_canal("spine/mr-lumbar-t2-sag/dicom", &t2, &ax, &raw,
                  &canal, &info);
    /* per axial plane: area of the canal; the lumbar / lower thoracic
     * dural sac is roughly 80-400 mm2 */
    size_t nx = canal.dim[0], ny = canal.dim[1], nz = canal.dim[2], ok = 0;
    const uint8_t *m = canal.data;
    double px = canal.spacing[0] * canal.spacing[1];
    for (size_t k = 0; k < nz; k++) {
        size_t c = 0;
        for (size_t t = 0; t < nx * ny; t++)
            c += m[k * nx * ny + t];
        double a = (double)c * px;
        ok += a >= 80 && a <= 400;
    }
    print_message("# lumbar: canal area plausible in %zu of %zu planes, "
                  "mid-sagittal slice %zu, CSF %.0f / tissue %.0f\n", ok,
                  nz, info.mid_i, info.csf_level, info.tissue_level);
    assert_true(ok >= nz * 7 / 10);
    mrcanal_info_free(&info);
    sp_volume_free(&raw), sp_volume_free(&t2), sp_volume_free(&canal);
}

static void discs_and_levels_c5_c7(void **state)
{
    (void)state;
    sp_volume raw = {0}, t2 = {0}, canal = {0}, ref = {0}, lab = {0};
    analysis_axes ax;
    mrcanal_info info;
    sp_error err;
    prepare_canal("spine/mr-cervical-c5-c7-sag-crop/dicom", &t2, &ax, &raw,
                  &canal, &info);
    mrspine s;
    assert_int_equal(mrdisc_find(&t2, &canal, &info, &s, &err), SP_OK);
    /* a crop shows no sacrum and no C2: the lowest vertebra is given */
    assert_int_equal(mrdisc_label(&s, NULL, &err), SP_NOTANALYSABLE);
    assert_int_equal(mrdisc_label(&s, "C6", &err), SP_OK);
    assert_int_equal(mrdisc_label_map(&t2, &canal, &s, &lab, &err), SP_OK);
    reference("spine/mr-cervical-c5-c7-sag-crop/labels/"
              "sub-mri_seg-vert_label-6_msk.nii.gz", &ax, &ref);
    assert_int_equal(s.n_disc, 2);
    double d56 = analysis_dice_labels(&lab, 105, &ref, 105);
    double d67 = analysis_dice_labels(&lab, 106, &ref, 106);
    double v5 = analysis_dice_labels(&lab, 5, &ref, 5);
    double v6 = analysis_dice_labels(&lab, 6, &ref, 6);
    double v7 = analysis_dice_labels(&lab, 7, &ref, 7);
    print_message("# C5-C7 crop: disc Dice C5-C6 %.3f C6-C7 %.3f; vertebra "
                  "(body only vs whole vertebra) C5 %.3f C6 %.3f C7 %.3f\n",
                  d56, d67, v5, v6, v7);
    assert_true(d56 >= 0.70);
    assert_true(d67 >= 0.70);
    assert_true(v5 > 0.5 && v6 > 0.5 && v7 > 0.5);
    mrspine_free(&s);
    mrcanal_info_free(&info);
    sp_volume_free(&raw), sp_volume_free(&t2), sp_volume_free(&canal);
    sp_volume_free(&ref), sp_volume_free(&lab);
}

static void lumbar_discs_counted_from_sacrum(void **state)
{
    (void)state;
    sp_volume raw = {0}, t2 = {0}, canal = {0};
    analysis_axes ax;
    mrcanal_info info;
    sp_error err;
    prepare_canal("spine/mr-lumbar-t2-sag/dicom", &t2, &ax, &raw,
                  &canal, &info);
    mrspine s;
    assert_int_equal(mrdisc_find(&t2, &canal, &info, &s, &err), SP_OK);
    assert_int_equal(mrdisc_label(&s, NULL, &err), SP_OK);
    /* by eye (docs/accuracy.md): six discs T12-L1 .. L5-S1, 26-36 mm
     * apart */
    print_message("# lumbar: %zu discs, level %.0f mm\n", s.n_disc,
                  s.level_mm);
    assert_int_equal(s.n_disc, 6);
    assert_int_equal(s.disc[0].vert_above, SP_LABEL_L1 + 4);
    assert_int_equal(s.disc[5].vert_above, SP_LABEL_T1 + 11);
    for (size_t q = 1; q < s.n_disc; q++) {
        double gap = (s.disc[q].k - s.disc[q - 1].k) * t2.spacing[2];
        assert_true(gap > 20 && gap < 45);
    }
    /* measurements: lumbar dural sac 10-20 mm AP at the discs (with the
     * roots at the back of the sac; by eye no level is stenosed), discs
     * 4-16 mm high and lower than the bodies, no displacement of 2 mm
     * (none is seen in the picture) */
    mrlevel_measure lv[MRSPINE_MAX_DISCS];
    assert_int_equal(mr_measure(&canal, &t2, &s, &info, t2.spacing[2],
                                t2.spacing[1], 1.5, lv, &err), SP_OK);
    for (size_t q = 0; q < s.n_disc; q++) {
        print_message("# level %zu: AP %.1f mm, height %.1f mm, DHI %.2f, "
                      "disc/CSF %.2f, displacement %.1f mm\n", q,
                      lv[q].canal_ap_mm, lv[q].disc_height_mm, lv[q].dhi,
                      lv[q].disc_csf_ratio, lv[q].displacement_mm);
        assert_true(lv[q].canal_ap_mm >= 10 && lv[q].canal_ap_mm <= 20);
        assert_true(lv[q].disc_height_mm >= 4 &&
                    lv[q].disc_height_mm <= 16);
        assert_true(lv[q].dhi > 0.1 && lv[q].dhi < 1);
        assert_true(lv[q].grade >= 1 && lv[q].grade <= 5);
        assert_true(lv[q].displacement_mm < 2);
    }
    mrspine_free(&s);
    mrcanal_info_free(&info);
    sp_volume_free(&raw), sp_volume_free(&t2), sp_volume_free(&canal);
}

/* Counting down from C2: a column with three discs 18 mm apart and 40 mm
 * (C2 with its dens) above the top one is C2-C3, C3-C4, C4-C5; the same
 * discs with only 15 mm above the top one (a crop through any vertebra)
 * are not named. */
static void cervical_levels_from_c2(void **state)
{
    (void)state;
    sp_volume img;
    sp_error err;
    assert_int_equal(sp_volume_alloc(&img, SP_VOXEL_F32, 4, 4, 80, &err),
                     SP_OK);
    mrspine s;
    memset(&s, 0, sizeof s);
    s.level_mm = 18;
    s.n_disc = 3;
    for (size_t q = 0; q < 3; q++)
        s.disc[q].k = 3.0 + 18.0 * (double)q;
    char note[SP_ERROR_MESSAGE_MAX];
    assert_int_equal(mrdisc_label_cervical(&img, &s, note, sizeof note,
                                           &err), SP_OK);
    assert_int_equal(s.disc[2].vert_above, SP_LABEL_C1 + 1);
    assert_int_equal(s.disc[0].vert_above, SP_LABEL_C1 + 3);
    for (size_t q = 0; q < 3; q++)
        s.disc[q].k = 28.0 + 18.0 * (double)q, s.disc[q].vert_above = 0;
    assert_int_equal(mrdisc_label_cervical(&img, &s, note, sizeof note,
                                           &err), SP_NOTANALYSABLE);
    print_message("# %s\n", err.message);
    assert_int_equal(s.disc[2].vert_above, 0);
    sp_volume_free(&img);
}

static void flat_image_is_refused(void **state)
{
    (void)state;
    sp_volume v = {0}, canal = {0};
    assert_int_equal(sp_volume_alloc(&v, SP_VOXEL_F32, 20, 30, 40, NULL),
                     SP_OK);
    float *f = v.data;
    for (size_t t = 0; t < sp_volume_count(&v); t++)
        f[t] = 100.0f;
    mrcanal_params p;
    mrcanal_params_default(&p);
    mrcanal_info info;
    sp_error err;
    assert_int_equal(mrcanal_segment(&v, &p, &canal, &info, &err),
                     SP_NOTANALYSABLE);
    assert_non_null(strstr(err.message, "T2"));
    p.threshold = 2;
    assert_int_equal(mrcanal_segment(&v, &p, &canal, &info, &err),
                     SP_CONFIG);
    sp_volume_free(&v);
}

/* The shared axial cervical series is 4 acquired slices 5 mm apart
 * resampled to 16 slices of 1 mm; the sagittal series are acquired
 * slice by slice; the lumbar series with its slices between every third
 * one replaced by linear interpolation is found out. */
static void acquired_planes_of_real_series(void **state)
{
    (void)state;
    static const char *const sag[] = {
        "spine/mr-cervical-c5-c7-sag-crop/dicom",
        "spine/mr-cervical-t2-sag/dicom", "spine/mr-lumbar-t2-sag/dicom"};
    sp_error err;
    size_t n;
    for (size_t q = 0; q < 3; q++) {
        sp_volume raw = {0};
        char *dir = test_data_path(sag[q]);
        assert_int_equal(analysis_load_series(dir, &raw, &err), SP_OK);
        free(dir);
        uint8_t *acq = malloc(raw.dim[2]);
        assert_non_null(acq);
        assert_int_equal(mr_acquired_planes(&raw, acq, &n, &err), SP_OK);
        print_message("# %s: %zu of %zu slices acquired\n", sag[q], n,
                      raw.dim[2]);
        assert_int_equal(n, raw.dim[2]);
        if (q == 2) {
            /* every third slice kept, the two between interpolated */
            size_t nxy = raw.dim[0] * raw.dim[1], nz = raw.dim[2];
            float *f = raw.data;
            uint8_t *kept = malloc(nz);
            assert_non_null(kept);
            memset(kept, 1, nz);
            for (size_t k = 0; k + 3 < nz; k += 3)
                for (size_t d = 1; d < 3; d++) {
                    kept[k + d] = 0;
                    for (size_t t = 0; t < nxy; t++)
                        f[(k + d) * nxy + t] =
                            (float)((3.0 - (double)d) / 3.0 *
                                        f[k * nxy + t] +
                                    (double)d / 3.0 * f[(k + 3) * nxy + t]);
                }
            assert_int_equal(mr_acquired_planes(&raw, acq, &n, &err), SP_OK);
            size_t want = 0;
            for (size_t k = 0; k < nz; k++) {
                want += kept[k];
                assert_int_equal(acq[k], kept[k]);
            }
            assert_int_equal(n, want);
            assert_int_equal(want, 14);
            free(kept);
        }
        free(acq);
        sp_volume_free(&raw);
    }
    sp_volume raw = {0};
    char *dir = test_data_path("spine/mr-cervical-t2-axial/dicom");
    assert_int_equal(analysis_load_series(dir, &raw, &err), SP_OK);
    free(dir);
    assert_int_equal(raw.dim[2], 16);
    uint8_t acq[16];
    assert_int_equal(mr_acquired_planes(&raw, acq, &n, &err), SP_OK);
    assert_int_equal(n, 4);
    for (size_t k = 0; k < 16; k++)
        assert_int_equal(acq[k], k % 5 == 0);
    /* not a float image: refused with a reason */
    sp_volume u8 = {0};
    assert_int_equal(sp_volume_alloc_like(&u8, &raw, SP_VOXEL_U8, &err),
                     SP_OK);
    assert_int_equal(mr_acquired_planes(&u8, acq, &n, &err), SP_INTERNAL);
    assert_non_null(strstr(err.message, "float32"));
    sp_volume_free(&u8), sp_volume_free(&raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canal_matches_reference_c5_c7),
        cmocka_unit_test(cord_lies_inside_canal),
        cmocka_unit_test(lumbar_canal_along_the_series),
        cmocka_unit_test(discs_and_levels_c5_c7),
        cmocka_unit_test(lumbar_discs_counted_from_sacrum),
        cmocka_unit_test(cervical_levels_from_c2),
        cmocka_unit_test(flat_image_is_refused),
        cmocka_unit_test(acquired_planes_of_real_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
