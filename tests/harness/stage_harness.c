#include "stage_harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <png.h>

#include "output/output.h"
#include "test_data.h"

void harness_init(harness *h)
{
    memset(h, 0, sizeof *h);
    assert_int_equal(sp_registry_new(&h->reg, &h->err), SP_OK);
    assert_int_equal(sp_registry_load_default(h->reg, &h->err), SP_OK);
    h->dir = test_make_temp_dir();
    snprintf(h->out, sizeof h->out, "%s/out", h->dir);
    assert_int_equal(sp_mkdirs(h->out, &h->err), SP_OK);
}

sp_status harness_load(harness *h, const char *config)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/pipeline.ini", h->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(config, f);
    fclose(f);
    sp_pipeline_free(h->pipe);
    h->pipe = NULL;
    return sp_pipeline_load(path, h->reg, NULL, 0, &h->pipe, &h->err);
}

sp_status harness_run(harness *h, sp_volume *vol,
                      const sp_dicom_header *header)
{
    assert_non_null(h->pipe);
    sp_store_free(h->store);
    json_decref(h->report);
    return sp_pipeline_run(h->pipe, vol, header, h->out, NULL, &h->store,
                           &h->report, &h->err);
}

sp_status harness_run_flags(harness *h, sp_volume *vol,
                            const sp_dicom_header *header, uint32_t flags)
{
    assert_non_null(h->pipe);
    sp_store_free(h->store);
    json_decref(h->report);
    sp_run_hooks hooks = {NULL, NULL, "harness", flags};
    return sp_pipeline_run(h->pipe, vol, header, h->out, &hooks, &h->store,
                           &h->report, &h->err);
}

const char *harness_consumed_by(const harness *h, const char *name)
{
    const json_t *list = json_object_get(h->report, "artifacts");
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *a = json_array_get(list, i);
        if (strcmp(json_string_value(json_object_get(a, "name")), name) == 0)
            return json_string_value(json_object_get(a, "consumed_by"));
    }
    fail_msg("no artifact %s in run.json", name);
    return NULL;
}

void harness_free(harness *h)
{
    sp_store_free(h->store);
    json_decref(h->report);
    sp_pipeline_free(h->pipe);
    sp_registry_free(h->reg);
    if (h->dir) {
        test_remove_tree(h->dir);
        free(h->dir);
    }
    memset(h, 0, sizeof *h);
}

void harness_volume(sp_volume *vol, size_t nx, size_t ny, size_t nz,
                    const double axis_i[3], const double axis_j[3],
                    const double spacing[3], const double origin[3])
{
    sp_error err;
    assert_int_equal(sp_volume_alloc(vol, SP_VOXEL_F32, nx, ny, nz, &err),
                     SP_OK);
    double k[3] = {axis_i[1] * axis_j[2] - axis_i[2] * axis_j[1],
                   axis_i[2] * axis_j[0] - axis_i[0] * axis_j[2],
                   axis_i[0] * axis_j[1] - axis_i[1] * axis_j[0]};
    double m[4][4] = {{0}};
    for (int r = 0; r < 3; r++) {
        m[r][0] = axis_i[r] * spacing[0];
        m[r][1] = axis_j[r] * spacing[1];
        m[r][2] = k[r] * spacing[2];
        m[r][3] = origin[r];
    }
    m[3][3] = 1;
    sp_volume_set_geometry(vol, m);
}

void harness_png_read(const char *path, harness_png *png)
{
    memset(png, 0, sizeof *png);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL,
                                           NULL);
    png_infop info = png_create_info_struct(p);
    if (setjmp(png_jmpbuf(p)))
        fail_msg("libpng cannot read %s", path);
    png_init_io(p, f);
    png_read_info(p, info);
    assert_int_equal(png_get_bit_depth(p, info), 8);
    int type = png_get_color_type(p, info);
    assert_true(type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_RGB);
    png->channels = type == PNG_COLOR_TYPE_RGB ? 3 : 1;
    png->width = png_get_image_width(p, info);
    png->height = png_get_image_height(p, info);
    size_t row = (size_t)png->width * png->channels;
    png->pixels = malloc(row * png->height);
    assert_non_null(png->pixels);
    for (uint32_t y = 0; y < png->height; y++)
        png_read_row(p, png->pixels + (size_t)y * row, NULL);
    png_read_end(p, info);
    png_textp text;
    int n = 0;
    png_get_text(p, info, &text, &n);
    png->n_text = (size_t)n;
    png->keys = calloc((size_t)n + 1, sizeof *png->keys);
    png->values = calloc((size_t)n + 1, sizeof *png->values);
    for (int i = 0; i < n; i++) {
        png->keys[i] = strdup(text[i].key);
        png->values[i] = strdup(text[i].text ? text[i].text : "");
    }
    png_destroy_read_struct(&p, &info, NULL);
    fclose(f);
}

const char *harness_png_text(const harness_png *png, const char *key)
{
    for (size_t i = 0; i < png->n_text; i++)
        if (strcmp(png->keys[i], key) == 0)
            return png->values[i];
    return NULL;
}

void harness_png_free(harness_png *png)
{
    for (size_t i = 0; i < png->n_text; i++) {
        free(png->keys[i]);
        free(png->values[i]);
    }
    free(png->keys);
    free(png->values);
    free(png->pixels);
    memset(png, 0, sizeof *png);
}

uint8_t harness_window_value(double x, double c, double w)
{
    if (x <= c - 0.5 - (w - 1) / 2)
        return 0;
    if (x > c - 0.5 + (w - 1) / 2)
        return 255;
    return (uint8_t)lrint(((x - (c - 0.5)) / (w - 1) + 0.5) * 255);
}

static void parse3(const char *s, double v[3])
{
    assert_non_null(s);
    assert_int_equal(sscanf(s, "%lf %lf %lf", &v[0], &v[1], &v[2]), 3);
}

size_t harness_png_check_window(const harness_png *p, const sp_volume *hu,
                                double c, double w)
{
    double origin[3], right[3], down[3];
    parse3(harness_png_text(p, "spinepipe:origin_lps"), origin);
    parse3(harness_png_text(p, "spinepipe:right_lps"), right);
    parse3(harness_png_text(p, "spinepipe:down_lps"), down);
    const char *px_text = harness_png_text(p, "spinepipe:pixel_mm");
    assert_non_null(px_text);
    double px = atof(px_text);
    assert_true(px > 0);
    size_t checked = 0;
    for (uint32_t y = 0; y < p->height; y++)
        for (uint32_t x = 0; x < p->width; x++) {
            double lps[3], ijk[3];
            for (int r = 0; r < 3; r++)
                lps[r] = origin[r] + px * (x * right[r] + y * down[r]);
            assert_int_equal(sp_volume_patient_to_voxel(hu, lps, ijk), SP_OK);
            int inside = 1, tie = 0;
            size_t idx[3];
            for (int a = 0; a < 3; a++) {
                double n = (double)hu->dim[a];
                inside &= ijk[a] >= -0.5 + 1e-6 && ijk[a] <= n - 0.5 - 1e-6;
                tie |= fabs(ijk[a] - floor(ijk[a]) - 0.5) < 1e-6;
                idx[a] = inside ? (size_t)lround(ijk[a]) : 0;
            }
            if (!inside || tie)
                continue;
            float v = sp_volume_f32(hu)[sp_volume_index(hu, idx[0], idx[1],
                                                        idx[2])];
            uint8_t e = harness_window_value(v, c, w);
            uint8_t got = p->pixels[(size_t)y * p->width + x];
            if (got != e)
                fail_msg("pixel (%u, %u): %u, expected %u (HU %g, C %g W %g)",
                         x, y, got, e, (double)v, c, w);
            checked++;
        }
    return checked;
}
