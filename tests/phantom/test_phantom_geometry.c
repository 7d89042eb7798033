/* The rendered phantom against its analytic truth: canal areas and AP
 * diameters counted in the label map, disc heights, centroids, tissue
 * values at known points, noise, label values and determinism. */
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
#include "test_data.h"

typedef struct rendered {
    sp_phantom_params p;
    sp_volume img, lab;
    json_t *truth;
} rendered;

static void render(rendered *r)
{
    sp_error err;
    sp_status st = sp_phantom_render(&r->p, &r->img, &r->lab, &err);
    if (st != SP_OK)
        fail_msg("%s", err.message);
    assert_int_equal(sp_phantom_truth(&r->p, &r->img, &r->truth, &err), SP_OK);
}

static void release(rendered *r)
{
    sp_volume_free(&r->img);
    sp_volume_free(&r->lab);
    json_decref(r->truth);
}

static json_t *find(json_t *truth, const char *list, const char *key,
                    const char *name)
{
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(truth, list), i, item)
        if (!strcmp(json_string_value(json_object_get(item, key)), name))
            return item;
    fail_msg("%s %s not in truth.json", list, name);
    return NULL;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("truth field %s missing", key);
    return json_number_value(v);
}

static double coord(json_t *o, const char *key, int axis)
{
    return json_number_value(json_array_get(json_object_get(o, key), (size_t)axis));
}

/* A straight spine (no lordosis) so that axial slices are perpendicular
 * to the canal; a fine grid centred on the canal at a disc's mid-height. */
static void canal_slice(rendered *r, const char *level, double pixel)
{
    json_t *probe;
    sp_phantom_params q = r->p;
    q.matrix = 16;
    q.slices = 1;
    sp_volume a, b;
    sp_error err;
    assert_int_equal(sp_phantom_render(&q, &a, &b, &err), SP_OK);
    assert_int_equal(sp_phantom_truth(&q, &a, &probe, &err), SP_OK);
    json_t *lv = find(probe, "levels", "level", level);
    double z = coord(lv, "disc_centre_mm", 2);
    json_decref(probe);
    sp_volume_free(&a);
    sp_volume_free(&b);
    r->p.matrix = 160;
    r->p.pixel_mm = pixel;
    r->p.slices = 1;
    r->p.slice_mm = 0.5;
    r->p.center_lps[0] = 0;
    r->p.center_lps[1] = 24;
    r->p.center_lps[2] = z;
    render(r);
}

static void count_canal(const rendered *r, double *area, double *ap_mid)
{
    const uint16_t *l = sp_volume_u16(&r->lab);
    size_t n = 0;
    for (size_t i = 0; i < sp_volume_count(&r->lab); i++)
        n += l[i] == 201 || l[i] == 202;
    *area = (double)n * r->p.pixel_mm * r->p.pixel_mm;
    /* Midline column: x = 0 falls between the two central columns; take
     * the mean of both. */
    size_t nx = r->lab.dim[0], c0 = nx / 2 - 1, c1 = nx / 2, m = 0;
    for (size_t j = 0; j < r->lab.dim[1]; j++) {
        uint16_t x0 = l[c0 + nx * j], x1 = l[c1 + nx * j];
        m += (x0 == 201 || x0 == 202) + (x1 == 201 || x1 == 202);
    }
    *ap_mid = (double)m / 2 * r->p.pixel_mm;
}

static void check_canal(const char *level, double canal_ap, double hern,
                        sp_phantom_side side)
{
    rendered r;
    memset(&r, 0, sizeof r);
    sp_phantom_defaults(&r.p, SP_PHANTOM_CT);
    r.p.lordosis_mm = 0;
    r.p.noise_sd = 0;
    int l = sp_phantom_level_index(level);
    r.p.canal_ap_mm[l] = canal_ap;
    r.p.herniation_mm[l] = hern;
    r.p.herniation_side[l] = side;
    canal_slice(&r, level, 0.2);
    json_t *lv = find(r.truth, "levels", "level", level);
    double area, ap;
    count_canal(&r, &area, &ap);
    double t_area = num(lv, "canal_area_mm2"), t_ap = num(lv, "canal_ap_mm");
    print_message("# %s: canal area %.1f mm2 counted, %.1f true; AP %.2f mm "
                  "counted, %.2f true\n",
                  level, area, t_area, ap, t_ap);
    if (fabs(area - t_area) > 0.02 * t_area)
        fail_msg("%s: canal area %.1f counted vs %.1f true", level, area,
                 t_area);
    if (fabs(ap - t_ap) > r.p.pixel_mm)
        fail_msg("%s: canal AP %.2f counted vs %.2f true", level, ap, t_ap);
    if (hern == 0) {
        assert_true(fabs(t_area - M_PI * 11 * num(lv, "canal_ap_nominal_mm") / 2) < 1e-9);
    } else {
        assert_true(t_area < M_PI * 11 * num(lv, "canal_ap_nominal_mm") / 2);
    }
    assert_true(fabs(num(lv, "canal_ap_nominal_mm") -
                     (canal_ap > 0 ? canal_ap : 15)) < 1e-9);
    assert_true(fabs(num(lv, "posterior_displacement_mm") - hern) < 1e-9);
    release(&r);
}

static void canal_normal_level(void **state)
{
    (void)state;
    check_canal("L2-L3", 0, 0, SP_PHANTOM_CENTRAL);
}

static void canal_stenosis(void **state)
{
    (void)state;
    check_canal("L4-L5", 8, 0, SP_PHANTOM_CENTRAL);
}

static void canal_central_herniation(void **state)
{
    (void)state;
    check_canal("L4-L5", 0, 5, SP_PHANTOM_CENTRAL);
}

static void canal_paracentral_herniation(void **state)
{
    (void)state;
    check_canal("L5-S1", 12, 4, SP_PHANTOM_LEFT);
}

/* The herniation sits on the patient's left (LPS +x) when asked. */
static void herniation_side(void **state)
{
    (void)state;
    rendered r;
    memset(&r, 0, sizeof r);
    sp_phantom_defaults(&r.p, SP_PHANTOM_CT);
    r.p.lordosis_mm = 0;
    r.p.noise_sd = 0;
    r.p.herniation_mm[4] = 5;
    r.p.herniation_side[4] = SP_PHANTOM_LEFT;
    canal_slice(&r, "L4-L5", 0.25);
    /* Disc label behind the disc's posterior margin (y > 16.5), by side. */
    const uint16_t *l = sp_volume_u16(&r.lab);
    size_t left = 0, right = 0;
    for (size_t j = 0; j < r.lab.dim[1]; j++)
        for (size_t i = 0; i < r.lab.dim[0]; i++) {
            double ijk[3] = {(double)i, (double)j, 0}, p[3];
            sp_volume_voxel_to_patient(&r.lab, ijk, p);
            if (p[1] > 17 && l[sp_volume_index(&r.lab, i, j, 0)] == 123)
                *(p[0] > 0 ? &left : &right) += 1;
        }
    print_message("# herniation voxels: %zu left, %zu right\n", left, right);
    assert_true(left > 100);
    assert_true(right < left / 5);
    release(&r);
}

/* Disc height counted along the centre line in a sagittal slice through
 * the midline; centroids from the label map against truth.json. */
static void disc_heights_and_centroids(void **state)
{
    (void)state;
    rendered r;
    memset(&r, 0, sizeof r);
    sp_phantom_defaults(&r.p, SP_PHANTOM_CT);
    r.p.plane = SP_PHANTOM_SAGITTAL;
    r.p.lordosis_mm = 0;
    r.p.noise_sd = 0;
    r.p.matrix = 400;
    r.p.pixel_mm = 0.6;
    r.p.slices = 1;
    r.p.slice_mm = 0.5;
    r.p.center_lps[1] = 0;
    render(&r);
    const uint16_t *l = sp_volume_u16(&r.lab);
    /* Row i runs posterior; the column through y = 0 (the body centres). */
    double ijk[3], lps[3] = {0, 0, 0};
    assert_int_equal(sp_volume_patient_to_voxel(&r.lab, lps, ijk), SP_OK);
    size_t i0 = (size_t)floor(ijk[0]);
    for (int lv = 0; lv < SP_PHANTOM_LEVELS; lv++) {
        int label = sp_phantom_level_label(lv);
        size_t n = 0;
        for (size_t j = 0; j < r.lab.dim[1]; j++)
            n += l[sp_volume_index(&r.lab, i0, j, 0)] == label;
        json_t *t = find(r.truth, "levels", "level", sp_phantom_level_name(lv));
        double h = (double)n * r.p.pixel_mm, th = num(t, "disc_height_mm");
        print_message("# %s disc height %.2f counted, %.2f true\n",
                      sp_phantom_level_name(lv), h, th);
        assert_true(fabs(h - th) <= r.p.pixel_mm);
    }
    for (int v = 0; v < SP_PHANTOM_VERTEBRAE; v++) {
        int label = sp_phantom_vertebra_label(v);
        size_t n = 0;
        for (size_t j = 0; j < r.lab.dim[1]; j++)
            n += l[sp_volume_index(&r.lab, i0, j, 0)] == label;
        json_t *t = find(r.truth, "vertebrae", "label",
                         sp_phantom_vertebra_name(v));
        double h = (double)n * r.p.pixel_mm;
        assert_true(fabs(h - num(t, "body_height_middle_mm")) <= r.p.pixel_mm);
        /* No lordosis: anterior, middle and posterior heights agree. */
        assert_true(fabs(num(t, "body_height_anterior_mm") -
                         num(t, "body_height_posterior_mm")) < 1e-6);
    }
    release(&r);

    /* Centroids of whole vertebrae from a 1.5 mm axial grid. */
    memset(&r, 0, sizeof r);
    sp_phantom_defaults(&r.p, SP_PHANTOM_CT);
    r.p.noise_sd = 0;
    r.p.matrix = 128;
    r.p.pixel_mm = 1.5;
    r.p.slice_mm = 1.5;
    r.p.supersample = 2;
    render(&r);
    l = sp_volume_u16(&r.lab);
    for (int v = 0; v < SP_PHANTOM_VERTEBRAE; v++) {
        int label = sp_phantom_vertebra_label(v);
        double sum[3] = {0, 0, 0}, n = 0;
        for (size_t k = 0; k < r.lab.dim[2]; k++)
            for (size_t j = 0; j < r.lab.dim[1]; j++)
                for (size_t i = 0; i < r.lab.dim[0]; i++) {
                    if (l[sp_volume_index(&r.lab, i, j, k)] != label)
                        continue;
                    double q[3] = {(double)i, (double)j, (double)k}, p[3];
                    sp_volume_voxel_to_patient(&r.lab, q, p);
                    for (int a = 0; a < 3; a++)
                        sum[a] += p[a];
                    n++;
                }
        json_t *t = find(r.truth, "vertebrae", "label",
                         sp_phantom_vertebra_name(v));
        for (int a = 0; a < 3; a++) {
            double got = sum[a] / n, want = coord(t, "centroid_mm", a);
            if (fabs(got - want) > 1.0)
                fail_msg("%s centroid axis %d: %.2f counted, %.2f true",
                         sp_phantom_vertebra_name(v), a, got, want);
        }
    }
    release(&r);
}

static float value_at(const rendered *r, const double lps[3])
{
    double ijk[3];
    assert_int_equal(sp_volume_patient_to_voxel(&r->img, lps, ijk), SP_OK);
    size_t i = (size_t)lround(ijk[0]), j = (size_t)lround(ijk[1]),
           k = (size_t)lround(ijk[2]);
    assert_true(i < r->img.dim[0] && j < r->img.dim[1] && k < r->img.dim[2]);
    return sp_volume_f32(&r->img)[sp_volume_index(&r->img, i, j, k)];
}

/* CT values at known points of a noise-free straight phantom, and the
 * measured noise of a noisy one. */
static void ct_values_at_known_points(void **state)
{
    (void)state;
    rendered r;
    memset(&r, 0, sizeof r);
    sp_phantom_defaults(&r.p, SP_PHANTOM_CT);
    r.p.lordosis_mm = 0;
    r.p.noise_sd = 0;
    r.p.matrix = 200;
    r.p.pixel_mm = 2.0;
    r.p.slice_mm = 2.0;
    render(&r);
    json_t *l3 = find(r.truth, "vertebrae", "label", "L3");
    json_t *l45 = find(r.truth, "levels", "level", "L4-L5");
    double zb = coord(l3, "body_centroid_mm", 2);
    double zd = coord(l45, "disc_centre_mm", 2);
    double body[3] = {0, 0, zb}, disc_centre[3] = {0, 1, zd};
    double cortex[3] = {0, -15.5 + 0.5, zb};   /* L3 body: b = 15.5 */
    double canal[3] = {0, 16 + 7.5, zd};       /* behind L4-L5 disc */
    double air[3] = {-190, -170, zb};
    double muscle[3] = {38, 52, zb};
    assert_true(fabs(value_at(&r, body) - 250) < 1);
    assert_true(fabs(value_at(&r, disc_centre) - 95) < 1);
    assert_true(fabs(value_at(&r, canal) - 10) < 1);
    assert_true(fabs(value_at(&r, air) + 1000) < 1);
    assert_true(fabs(value_at(&r, muscle) - 45) < 1);
    float c = value_at(&r, cortex);
    print_message("# cortex voxel (2 mm, partial volume) %.0f HU\n", c);
    assert_true(c > 300 && c < 900);
    release(&r);

    memset(&r, 0, sizeof r);
    sp_phantom_defaults(&r.p, SP_PHANTOM_CT);
    r.p.noise_sd = 20;
    r.p.matrix = 64;
    r.p.pixel_mm = 0.5;
    r.p.slices = 4;
    r.p.center_lps[0] = 38;
    r.p.center_lps[1] = 52; /* inside the erector spinae */
    render(&r);
    const float *f = sp_volume_f32(&r.img);
    double s = 0, ss = 0;
    size_t n = sp_volume_count(&r.img);
    for (size_t i = 0; i < n; i++) {
        s += f[i];
        ss += (double)f[i] * f[i];
    }
    double mean = s / (double)n, sd = sqrt(ss / (double)n - mean * mean);
    print_message("# muscle: mean %.2f HU, SD %.2f HU (noise 20)\n", mean, sd);
    assert_true(fabs(mean - 45) < 1.0);
    assert_true(fabs(sd - 20) < 1.0);
    release(&r);
}

/* Exactly the contract's labels appear, and the MR contrast is T2-like. */
static void labels_and_mr_contrast(void **state)
{
    (void)state;
    rendered r;
    memset(&r, 0, sizeof r);
    sp_phantom_defaults(&r.p, SP_PHANTOM_MR);
    r.p.noise_sd = 0;
    r.p.matrix = 128;
    r.p.pixel_mm = 2;
    r.p.slice_mm = 2;
    r.p.slices = 48;
    render(&r);
    static const int expect[] = {0,   19,  20,  21,  22,  23,  24, 26,
                                 119, 120, 121, 122, 123, 124, 201, 202};
    static size_t seen[65536];
    memset(seen, 0, sizeof seen);
    const uint16_t *l = sp_volume_u16(&r.lab);
    for (size_t i = 0; i < sp_volume_count(&r.lab); i++)
        seen[l[i]]++;
    size_t n_expect = sizeof expect / sizeof expect[0], n_seen = 0;
    for (size_t i = 0; i < n_expect; i++) {
        if (!seen[expect[i]])
            fail_msg("label %d missing", expect[i]);
    }
    for (size_t v = 0; v < 65536; v++)
        n_seen += seen[v] > 0;
    assert_int_equal(n_seen, n_expect);
    json_t *l45 = find(r.truth, "levels", "level", "L4-L5");
    double zd = coord(l45, "disc_centre_mm", 2), yd = coord(l45, "disc_centre_mm", 1);
    double nucleus[3] = {0, yd + 2, zd}, csf[3] = {0, yd + 16 + 7.5, zd};
    double zb = coord(find(r.truth, "vertebrae", "label", "L4"), "body_centroid_mm", 2);
    double yb = coord(find(r.truth, "vertebrae", "label", "L4"), "body_centroid_mm", 1);
    double marrow[3] = {0, yb, zb};
    assert_true(value_at(&r, csf) > value_at(&r, nucleus));
    assert_true(value_at(&r, nucleus) > value_at(&r, marrow));
    release(&r);
}

static void deterministic_across_threads(void **state)
{
    (void)state;
    rendered a, b;
    memset(&a, 0, sizeof a);
    sp_phantom_defaults(&a.p, SP_PHANTOM_CT);
    a.p.matrix = 64;
    a.p.pixel_mm = 3;
    a.p.slice_mm = 5;
    a.p.threads = 1;
    b = a;
    b.p.threads = 3;
    render(&a);
    render(&b);
    size_t n = sp_volume_count(&a.img);
    assert_memory_equal(a.img.data, b.img.data, n * sizeof(float));
    assert_memory_equal(a.lab.data, b.lab.data, n * sizeof(uint16_t));
    release(&b);
    memset(&b, 0, sizeof b);
    b.p = a.p;
    b.p.seed = 2;
    render(&b);
    assert_memory_not_equal(a.img.data, b.img.data, n * sizeof(float));
    assert_memory_equal(a.lab.data, b.lab.data, n * sizeof(uint16_t));
    release(&a);
    release(&b);
}

static void validation_names_the_parameter(void **state)
{
    (void)state;
    sp_phantom_params p;
    sp_error err;
    sp_phantom_defaults(&p, SP_PHANTOM_CT);
    assert_int_equal(sp_phantom_validate(&p, &err), SP_OK);
    p.canal_ap_mm[4] = 2;
    assert_int_equal(sp_phantom_validate(&p, &err), SP_USAGE);
    assert_non_null(strstr(err.message, "canal AP at L4-L5"));
    sp_phantom_defaults(&p, SP_PHANTOM_CT);
    p.herniation_mm[5] = 13;
    assert_int_equal(sp_phantom_validate(&p, &err), SP_USAGE);
    assert_non_null(strstr(err.message, "herniation at L5-S1"));
    sp_phantom_defaults(&p, SP_PHANTOM_CT);
    p.pixel_mm = NAN;
    assert_int_equal(sp_phantom_validate(&p, &err), SP_USAGE);
    assert_non_null(strstr(err.message, "pixel size"));
    sp_phantom_defaults(&p, SP_PHANTOM_CT);
    p.matrix = 2048;
    p.slices = 4000;
    assert_int_equal(sp_phantom_validate(&p, &err), SP_LIMIT);
    assert_int_equal(sp_phantom_level_index("L4-L5"), 4);
    assert_int_equal(sp_phantom_level_index("L4-L6"), -1);
    assert_int_equal(sp_phantom_level_label(4), 123);
    assert_int_equal(sp_phantom_vertebra_label(6), 26);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canal_normal_level),
        cmocka_unit_test(canal_stenosis),
        cmocka_unit_test(canal_central_herniation),
        cmocka_unit_test(canal_paracentral_herniation),
        cmocka_unit_test(herniation_side),
        cmocka_unit_test(disc_heights_and_centroids),
        cmocka_unit_test(ct_values_at_known_points),
        cmocka_unit_test(labels_and_mr_contrast),
        cmocka_unit_test(deterministic_across_threads),
        cmocka_unit_test(validation_names_the_parameter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
