/* segment-vertebrae on real CT against the reference segmentations: every
 * disc of the abdomen series is found where the reference has it, each
 * reference vertebra is matched by one piece with good overlap, bodies and
 * discs overlap the body/disc reference; the L2-L4 crop splits into its
 * three vertebrae; a head phantom is refused as not analysable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analysis_tools.h"
#include "bone_kernels.h"
#include "test_data.h"
#include "vertebrae_kernels.h"

typedef struct run {
    sp_volume ct, spine, labels, body;
    spine_model model;
} run;

static sp_status run_series(const char *rel, run *r, sp_error *err)
{
    memset(r, 0, sizeof *r);
    char *dir = test_data_path(rel);
    sp_status st = analysis_load_series(dir, &r->ct, err);
    free(dir);
    if (st != SP_OK)
        return st;
    bone_params bp;
    bone_params_default(&bp);
    if ((st = bone_mask(&r->ct, &bp, &r->spine, err)) != SP_OK ||
        (st = bone_select_spine(&r->ct, &r->spine, 50, 40, NULL, err)) !=
            SP_OK ||
        (st = vert_centerline(&r->spine, 25, &r->model.curve, err)) != SP_OK)
        return st;
    size_t n = r->model.curve.n;
    double *hu = malloc(n * sizeof *hu), *bone = malloc(n * sizeof *bone);
    vert_split_params sp;
    vert_split_params_default(&sp);
    r->model.cranial_sign = r->ct.vox2lps[2][2] > 0 ? 1 : -1;
    st = vert_profiles(&r->ct, &r->spine, &r->model.curve, 9, hu, bone, err);
    if (st == SP_OK)
        st = vert_split(hu, bone, &r->model.curve, &sp, &r->model, err);
    free(hu), free(bone);
    if (st == SP_OK)
        st = vert_describe(&r->spine, &r->model, err);
    if (st == SP_OK)
        st = vert_label_map(&r->ct, &r->spine, &r->model, &r->labels,
                            &r->body, err);
    return st;
}

static void run_free(run *r)
{
    sp_volume_free(&r->ct), sp_volume_free(&r->spine);
    sp_volume_free(&r->labels), sp_volume_free(&r->body);
    spine_curve_free(&r->model.curve);
}

/* Best Dice of reference label `ref_label` against any piece. */
static double best_piece(const run *r, const sp_volume *ref, int ref_label)
{
    double best = 0;
    for (size_t v = 0; v < r->model.n_vert; v++) {
        double d = analysis_dice_labels(&r->labels, (int)v + 1, ref,
                                        ref_label);
        if (d > best)
            best = d;
    }
    return best;
}

static sp_volume read_ref(const char *rel)
{
    char *path = test_data_path(rel);
    sp_volume v = {0};
    assert_int_equal(sp_nifti_read(path, 1, &v, NULL), SP_OK);
    free(path);
    return v;
}

static void abdomen_vertebrae_and_discs(void **state)
{
    (void)state;
    run r;
    sp_error err;
    assert_int_equal(run_series("spine/ct-abdomen-t11-s1/dicom", &r, &err),
                     SP_OK);
    /* S1 (with the sacrum), L5..L1, T12: 7 pieces, 6 discs */
    assert_int_equal(r.model.n_vert, 7);
    sp_volume ts = read_ref("spine/ct-abdomen-t11-s1/labels/totalseg.nii.gz");
    sp_volume vb = read_ref(
        "spine/ct-abdomen-t11-s1/labels/totalseg_vertebrae_body.nii.gz");
    /* measured: L5 .845 L4 .899 L3 .890 L2 .901 L1 .894 T12 .795 (the
       canal is taken out later, by segment-canal); body .831, disc .768 */
    static const int ref_labels[] = {27, 28, 29, 30, 31, 32};
    for (size_t t = 0; t < 6; t++) {
        double d = best_piece(&r, &ts, ref_labels[t]);
        print_message("# totalseg label %d: best piece Dice %.3f\n",
                      ref_labels[t], d);
        assert_true(d >= 0.79);
    }
    double body = analysis_dice_labels(&r.body, 1, &vb, 1);
    double disc = analysis_dice_labels(&r.body, 2, &vb, 2);
    print_message("# vertebral body Dice %.3f, disc Dice %.3f\n", body,
                  disc);
    assert_true(body >= 0.82);
    assert_true(disc >= 0.76);
    sp_volume_free(&ts), sp_volume_free(&vb);
    run_free(&r);
}

/* The crop's segmentation, run once (group setup) for the tests that
 * read it; the others ignore the group state. */
static int crop_setup(void **state)
{
    static run r;
    sp_error err;
    if (run_series("spine/ct-lumbar-l2-l4-crop/dicom", &r, &err) != SP_OK) {
        print_error("crop: %s\n", err.message);
        run_free(&r);
        return -1;
    }
    *state = &r;
    return 0;
}

static int crop_teardown(void **state)
{
    run_free(*state);
    return 0;
}

static void crop_splits_into_three(void **state)
{
    const run *r = *state;
    assert_int_equal(r->model.n_vert, 3);
    sp_volume ref = read_ref(
        "spine/ct-lumbar-l2-l4-crop/labels/sub-ct_seg-vert_label-22_msk.nii.gz");
    /* best piece before segment-canal paints the canal: at least .83 each
       (.789/.798/.763 before the arch flood and marrow fill); the whole
       chain's figures (target .85) are test_ct_chain's and
       docs/accuracy.md's */
    for (int l = 21; l <= 23; l++) {
        double d = best_piece(r, &ref, l);
        print_message("# seg-vert label %d: best piece Dice %.3f\n", l, d);
        assert_true(d >= 0.83);
    }
    sp_volume_free(&ref);
}

/* Fraction of the voxels of reference sub-region `sub` of reference
 * vertebra `ref_label` that carry our label `ours`. */
static double subregion_share(const sp_volume *labels, int ours,
                              const sp_volume *vert, int ref_label,
                              const sp_volume *subreg, int sub)
{
    size_t in = 0, hit = 0;
    for (size_t q = 0; q < sp_volume_count(labels); q++) {
        if (sp_volume_u16(vert)[q] != ref_label ||
            sp_volume_u16(subreg)[q] != sub)
            continue;
        in++;
        hit += sp_volume_u16(labels)[q] == ours;
    }
    return in ? (double)hit / (double)in : 0;
}

/* The arch of the crop's L3 (the middle piece) against seg-subreg: its
 * laminae and spinous process reach down beside L4's arch and are given
 * to L3 along the bone (vert_arch_flood), not to L4 by a slope rule
 * (before: 80 % of the laminae, 52 % of the spinous process); the marrow
 * of L3's pedicles, transverse processes and bodies is filled
 * (vert_fill_marrow: the reference's L3 body 99.9 % ours). */
static void crop_arch_goes_to_its_own_vertebra(void **state)
{
    const run *r = *state;
    assert_int_equal(r->model.n_vert, 3);
    sp_volume vert = read_ref(
        "spine/ct-lumbar-l2-l4-crop/labels/sub-ct_seg-vert_label-22_msk.nii.gz");
    sp_volume sub = read_ref(
        "spine/ct-lumbar-l2-l4-crop/labels/sub-ct_seg-subreg_label-22_msk.nii.gz");
    /* seg-subreg: 41 arch, 42 spinous process, 50 vertebral body */
    double lamina = subregion_share(&r->labels, 2, &vert, 22, &sub, 41);
    double spinous = subregion_share(&r->labels, 2, &vert, 22, &sub, 42);
    double body = subregion_share(&r->labels, 2, &vert, 22, &sub, 50);
    print_message("# L3 arch %.3f, spinous process %.3f, body %.3f ours\n",
                  lamina, spinous, body);
    /* measured .955 / .948 / .999 */
    assert_true(lamina >= 0.93);
    assert_true(spinous >= 0.92);
    assert_true(body >= 0.99);
    /* and little of L3's arch is given to L4 (piece 1) */
    double to_l4 = subregion_share(&r->labels, 1, &vert, 22, &sub, 42);
    print_message("# L3 spinous process given to L4: %.3f\n", to_l4);
    assert_true(to_l4 <= 0.05);
    sp_volume_free(&vert), sp_volume_free(&sub);
}

static void head_phantom_is_not_analysable(void **state)
{
    (void)state;
    run r;
    sp_error err;
    sp_status st = run_series("conformance/ct-head-phantom-512/dicom", &r,
                              &err);
    assert_int_equal(st, SP_NOTANALYSABLE);
    assert_non_null(strstr(err.message, "not analysable"));
    print_message("# %s\n", err.message);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(abdomen_vertebrae_and_discs),
        cmocka_unit_test(crop_splits_into_three),
        cmocka_unit_test(crop_arch_goes_to_its_own_vertebra),
        cmocka_unit_test(head_phantom_is_not_analysable),
    };
    return cmocka_run_group_tests(tests, crop_setup, crop_teardown);
}
