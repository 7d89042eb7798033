/* Stage `png` as a black box (tests/harness): images are in radiological
 * orientation whatever the storage order of the volume, pixels equal the
 * windowing formula of the HU voxel they show, pixels are square, text
 * chunks carry the header facts and the pixel-to-patient mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stage_harness.h"

/* Patient-space phantom on a 40 x 40 x 20 grid of 1 mm (LPS x, y, z):
 * three markers of distinct HU on the patient's left, anterior and
 * superior side. */
static float phantom_hu(int x, int y, int z)
{
    int cx = x >= 18 && x <= 21, cy = y >= 18 && y <= 21;
    int cz = z >= 8 && z <= 11;
    if (x >= 30 && x <= 37 && cy && cz)
        return 300; /* patient left: large x */
    if (y >= 2 && y <= 7 && cx && cz)
        return 600; /* anterior: small y */
    if (z >= 16 && z <= 18 && cx && cy)
        return 900; /* superior: large z */
    return 0;
}

/* Store the phantom with voxel axis i along `ai`, j along `aj` (LPS unit
 * vectors with one non-zero entry each). */
static void phantom_volume(sp_volume *v, const int ai[3], const int aj[3])
{
    int ak[3] = {ai[1] * aj[2] - ai[2] * aj[1], ai[2] * aj[0] - ai[0] * aj[2],
                 ai[0] * aj[1] - ai[1] * aj[0]};
    const int extent[3] = {40, 40, 20};
    const int *ax[3] = {ai, aj, ak};
    size_t dim[3];
    double origin[3] = {0, 0, 0};
    double di[3], dj[3];
    for (int a = 0; a < 3; a++) {
        for (int r = 0; r < 3; r++)
            if (ax[a][r]) {
                dim[a] = (size_t)extent[r];
                if (ax[a][r] < 0)
                    origin[r] = extent[r] - 1;
            }
    }
    for (int r = 0; r < 3; r++) {
        di[r] = ai[r];
        dj[r] = aj[r];
    }
    const double sp[3] = {1, 1, 1};
    harness_volume(v, dim[0], dim[1], dim[2], di, dj, sp, origin);
    float *f = sp_volume_f32(v);
    for (size_t k = 0; k < dim[2]; k++)
        for (size_t j = 0; j < dim[1]; j++)
            for (size_t i = 0; i < dim[0]; i++) {
                int p[3];
                for (int r = 0; r < 3; r++)
                    p[r] = (int)lrint(origin[r] + ai[r] * (double)i +
                                      aj[r] * (double)j + ak[r] * (double)k);
                f[sp_volume_index(v, i, j, k)] = phantom_hu(p[0], p[1], p[2]);
            }
}

static const char *const config =
    "[window]\npreset = explicit\ncenter = 500\nwidth = 1000\n"
    "[png]\ninterpolation = nearest\nmin_size = 0\n";

/* Mean column and row of the pixels equal to `value`. */
static void centroid(const harness_png *p, uint8_t value, double *cx,
                     double *cy)
{
    double sx = 0, sy = 0;
    size_t n = 0;
    for (uint32_t y = 0; y < p->height; y++)
        for (uint32_t x = 0; x < p->width; x++)
            if (p->pixels[(size_t)y * p->width + x] == value) {
                sx += x;
                sy += y;
                n++;
            }
    if (n == 0)
        fail_msg("no pixel of value %u", value);
    *cx = sx / (double)n / p->width;  /* 0 left .. 1 right */
    *cy = sy / (double)n / p->height; /* 0 top .. 1 bottom */
}

static void read_plane(harness *h, const char *name, harness_png *p)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.png", h->out, name);
    harness_png_read(path, p);
}

static void run_phantom_with(harness *h, const int ai[3], const int aj[3],
                             const char *cfg)
{
    harness_init(h);
    if (harness_load(h, cfg) != SP_OK)
        fail_msg("%s", h->err.message);
    sp_volume v;
    phantom_volume(&v, ai, aj);
    sp_dicom_header hdr = {.modality = "CT", .series_description = "phantom"};
    if (harness_run(h, &v, &hdr) != SP_OK)
        fail_msg("%s", h->err.message);
}

static void run_phantom(harness *h, const int ai[3], const int aj[3])
{
    run_phantom_with(h, ai, aj, config);
}

static void radiological_orientation(void **state)
{
    (void)state;
    const uint8_t left = harness_window_value(300, 500, 1000);
    const uint8_t ant = harness_window_value(600, 500, 1000);
    const uint8_t sup = harness_window_value(900, 500, 1000);
    harness h;
    run_phantom(&h, (int[]){1, 0, 0}, (int[]){0, 1, 0});
    harness_png ax, sag, cor;
    double x, y;
    read_plane(&h, "axial", &ax);
    centroid(&ax, left, &x, &y);
    assert_true(x > 0.7); /* patient left on the image right */
    centroid(&ax, ant, &x, &y);
    assert_true(y < 0.3); /* anterior at the top */
    assert_string_equal(harness_png_text(&ax, "spinepipe:orientation"),
                        "left=R right=L top=A bottom=P");
    read_plane(&h, "sagittal", &sag);
    centroid(&sag, ant, &x, &y);
    assert_true(x < 0.3); /* anterior on the image left */
    centroid(&sag, sup, &x, &y);
    assert_true(y < 0.3); /* head up */
    read_plane(&h, "coronal", &cor);
    centroid(&cor, left, &x, &y);
    assert_true(x > 0.7); /* patient left on the image right */
    centroid(&cor, sup, &x, &y);
    assert_true(y < 0.3); /* head up */
    assert_int_equal(ax.width, 40);
    assert_int_equal(ax.height, 40);
    assert_int_equal(sag.width, 40);
    assert_int_equal(sag.height, 20);
    assert_string_equal(harness_png_text(&sag, "spinepipe:modality"), "CT");
    assert_string_equal(harness_png_text(&sag, "Description"), "phantom");
    assert_string_equal(harness_png_text(&sag, "spinepipe:window"),
                        "center=500 width=1000 source=explicit");
    const json_t *images = sp_store_table(h.store, "images.png");
    assert_int_equal(json_array_size(images), 3);

    /* The same patient stored sagittally (i = posterior, j = inferior)
     * and coronally with flipped axes gives the very same images. */
    static const int orders[2][2][3] = {
        {{0, 1, 0}, {0, 0, -1}},
        {{-1, 0, 0}, {0, 0, -1}},
    };
    /* Trilinear sampling at pixel centres that are voxel centres gives
     * the voxel values exactly. */
    harness hl;
    run_phantom_with(&hl, (int[]){1, 0, 0}, (int[]){0, 1, 0},
                     "[window]\npreset = explicit\ncenter = 500\n"
                     "width = 1000\n[png]\nmin_size = 0\n");
    harness_png lin;
    read_plane(&hl, "coronal", &lin);
    assert_int_equal(lin.width, cor.width);
    assert_memory_equal(lin.pixels, cor.pixels,
                        (size_t)lin.width * lin.height);
    harness_png_free(&lin);
    harness_free(&hl);

    for (int o = 0; o < 2; o++) {
        harness h2;
        run_phantom(&h2, orders[o][0], orders[o][1]);
        const char *names[] = {"axial", "sagittal", "coronal"};
        harness_png *ref[] = {&ax, &sag, &cor};
        for (int p = 0; p < 3; p++) {
            harness_png other;
            read_plane(&h2, names[p], &other);
            assert_int_equal(other.width, ref[p]->width);
            assert_int_equal(other.height, ref[p]->height);
            assert_memory_equal(other.pixels, ref[p]->pixels,
                                (size_t)other.width * other.height);
            harness_png_free(&other);
        }
        harness_free(&h2);
    }
    harness_png_free(&ax);
    harness_png_free(&sag);
    harness_png_free(&cor);
    harness_free(&h);
}

static void pixels_follow_the_window_formula(void **state)
{
    (void)state;
    harness h;
    harness_init(&h);
    assert_int_equal(harness_load(&h, "[window]\npreset = explicit\n"
                                      "center = 40\nwidth = 350\n"
                                      "[png]\ninterpolation = nearest\n"
                                      "min_size = 0\n"),
                     SP_OK);
    /* Anisotropic voxels (0.6 x 0.6 x 2.5 mm), axes tilted 30 degrees in
     * the axial plane, and a smooth HU pattern. */
    const double ca = cos(M_PI / 6), sa = sin(M_PI / 6);
    const double ai[3] = {ca, sa, 0}, aj[3] = {-sa, ca, 0};
    const double sp[3] = {0.6, 0.6, 2.5}, o[3] = {-12, 7, -30};
    sp_volume v, copy;
    harness_volume(&v, 48, 40, 12, ai, aj, sp, o);
    float *f = sp_volume_f32(&v);
    for (size_t k = 0; k < 12; k++)
        for (size_t j = 0; j < 40; j++)
            for (size_t i = 0; i < 48; i++)
                f[sp_volume_index(&v, i, j, k)] =
                    (float)(-300.0 + 12.0 * (double)i + 7.0 * (double)j -
                            20.0 * (double)k + 3.0 * (double)((i * j) % 11));
    assert_int_equal(sp_volume_alloc_like(&copy, &v, SP_VOXEL_F32, &h.err),
                     SP_OK);
    memcpy(copy.data, v.data, sp_volume_count(&v) * sizeof(float));
    if (harness_run(&h, &v, NULL) != SP_OK)
        fail_msg("%s", h.err.message);
    const char *names[] = {"axial", "sagittal", "coronal"};
    for (int p = 0; p < 3; p++) {
        harness_png png;
        read_plane(&h, names[p], &png);
        double px = atof(harness_png_text(&png, "spinepipe:pixel_mm"));
        assert_true(fabs(px - 0.6) < 1e-9); /* square, finest spacing */
        size_t checked = harness_png_check_window(&png, &copy, 40, 350);
        printf("# %s: %zu of %u x %u pixels checked\n", names[p], checked,
               png.width, png.height);
        assert_true(checked > (size_t)png.width * png.height / 4);
        harness_png_free(&png);
    }
    sp_volume_free(&copy);
    harness_free(&h);
}

static void all_planes_writes_every_slice(void **state)
{
    (void)state;
    harness h;
    harness_init(&h);
    assert_int_equal(harness_load(&h, "[window]\n[png]\nplanes = all\n"
                                      "min_size = 0\nsagittal = false\n"
                                      "coronal = false\n"),
                     SP_OK);
    sp_volume v;
    const double sp[3] = {0.8, 0.8, 3.0}, o[3] = {0, 0, 0};
    harness_volume(&v, 20, 16, 7, (double[]){1, 0, 0}, (double[]){0, 1, 0},
                   sp, o);
    sp_dicom_header hdr = {.modality = "CT"};
    assert_int_equal(harness_run(&h, &v, &hdr), SP_OK);
    const json_t *images = sp_store_table(h.store, "images.png");
    assert_int_equal(json_array_size(images), 7);
    for (size_t n = 0; n < 7; n++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/axial_%04zu.png", h.out, n + 1);
        harness_png png;
        harness_png_read(path, &png);
        assert_int_equal(png.width, 20);
        assert_int_equal(png.height, 16);
        harness_png_free(&png);
    }
    harness_free(&h);
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    unsigned char *data = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            data = realloc(data, cap);
            assert_non_null(data);
        }
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *size = n;
    return data;
}

/* Every image file and the image table are the same bytes whether one
 * thread or two write the slices (more slices than one batch of the
 * stage, every plane, linear and nearest sampling). */
static void files_do_not_depend_on_threads(void **state)
{
    (void)state;
    static const char *const configs[] = {
        "[window]\n[png]\nplanes = all\nmin_size = 0\n",
        "[window]\n[png]\nplanes = all\nmin_size = 0\n"
        "interpolation = nearest\n",
    };
    for (size_t c = 0; c < 2; c++) {
        harness h[2];
        for (int t = 0; t < 2; t++) {
            setenv("SPINEPIPE_THREADS", t == 0 ? "1" : "2", 1);
            harness_init(&h[t]);
            assert_int_equal(harness_load(&h[t], configs[c]), SP_OK);
            sp_volume v;
            const double sp[3] = {0.8, 0.8, 1.5}, o[3] = {-10, 20, 5};
            harness_volume(&v, 37, 33, 45, (double[]){1, 0, 0},
                           (double[]){0, 1, 0}, sp, o);
            float *f = sp_volume_f32(&v);
            for (size_t n = 0; n < sp_volume_count(&v); n++)
                f[n] = (float)((n * 7919) % 1400) - 300.0f;
            sp_dicom_header hdr = {.modality = "CT"};
            assert_int_equal(harness_run(&h[t], &v, &hdr), SP_OK);
        }
        unsetenv("SPINEPIPE_THREADS");
        const json_t *one = sp_store_table(h[0].store, "images.png");
        const json_t *two = sp_store_table(h[1].store, "images.png");
        assert_true(json_equal(one, two));
        /* 45 axial (over one batch), 37 sagittal, 33 coronal. */
        assert_int_equal(json_array_size(one), 45 + 37 + 33);
        for (size_t i = 0; i < json_array_size(one); i++) {
            const char *file = json_string_value(
                json_object_get(json_array_get(one, i), "file"));
            assert_non_null(file);
            char path[2][4200];
            size_t size[2];
            unsigned char *data[2];
            for (int t = 0; t < 2; t++) {
                snprintf(path[t], sizeof path[t], "%s/%s", h[t].out, file);
                data[t] = read_file(path[t], &size[t]);
            }
            assert_int_equal(size[0], size[1]);
            assert_memory_equal(data[0], data[1], size[0]);
            free(data[0]);
            free(data[1]);
        }
        harness_free(&h[0]);
        harness_free(&h[1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(radiological_orientation),
        cmocka_unit_test(pixels_follow_the_window_formula),
        cmocka_unit_test(all_planes_writes_every_slice),
        cmocka_unit_test(files_do_not_depend_on_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
