/* A sagittal debug picture: grey CT with labels blended on top, sampled at
 * 1 mm per pixel, head up, anterior left. */
#include "analysis_tools.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>

static void label_colour(unsigned l, unsigned char rgb[3])
{
    static const unsigned char pal[][3] = {
        {230, 25, 75},  {60, 180, 75},  {255, 225, 25}, {0, 130, 200},
        {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230},
        {210, 245, 60}, {250, 190, 190}, {0, 128, 128}, {170, 110, 40}};
    static const unsigned char canal[3] = {0, 60, 255}, disc[3] = {255, 255,
                                                                   255};
    /* canal and discs (labels.h: 201, 100 + v) stand out from vertebrae */
    const unsigned char *c = l >= 200   ? canal
                             : l >= 100 ? disc
                                        : pal[l % (sizeof pal / sizeof pal[0])];
    rgb[0] = c[0], rgb[1] = c[1], rgb[2] = c[2];
}

sp_status analysis_debug_png(const sp_volume *image, const sp_volume *labels,
                             size_t i_slice, double wl, double ww,
                             const char *path, sp_error *err)
{
    const float *im = sp_volume_f32(image);
    const uint16_t *lab = labels ? sp_volume_u16(labels) : NULL;
    if (!im || i_slice >= image->dim[0])
        return sp_error_set(err, SP_INTERNAL, "debug png: bad image or slice");
    /* 1 mm per pixel, finer for small crops so they stay visible */
    double ext_y = (double)image->dim[1] * image->spacing[1];
    double ext_z = (double)image->dim[2] * image->spacing[2];
    double px = fmin(1.0, fmin(ext_y, ext_z) / 300.0);
    if (!(px > 0))
        px = 1.0;
    size_t w = (size_t)(ext_y / px), h = (size_t)(ext_z / px);
    if (w == 0 || h == 0 || w > 4096 || h > 4096)
        return sp_error_set(err, SP_LIMIT, "debug png: %zux%zu pixels", w, h);
    unsigned char *rgb = malloc(w * h * 3);
    png_bytep *rows = malloc(h * sizeof *rows);
    FILE *f = fopen(path, "wb");
    if (!rgb || !rows || !f) {
        free(rgb), free(rows);
        if (f)
            fclose(f);
        return sp_error_set(err, SP_CANTCREATE, "%s: cannot write", path);
    }
    for (size_t y = 0; y < h; y++) {
        size_t k = image->dim[2] - 1 -
                   (size_t)((double)y * px / image->spacing[2]);
        for (size_t x = 0; x < w; x++) {
            size_t j = (size_t)((double)x * px / image->spacing[1]);
            size_t p = sp_volume_index(image, i_slice, j, k);
            double g = (im[p] - (wl - ww / 2)) / ww * 255;
            g = g < 0 ? 0 : g > 255 ? 255 : g;
            unsigned char *o = rgb + 3 * (y * w + x);
            o[0] = o[1] = o[2] = (unsigned char)g;
            if (lab && lab[p]) {
                unsigned char c[3];
                label_colour(lab[p], c);
                for (int t = 0; t < 3; t++)
                    o[t] = (unsigned char)((o[t] + 2 * c[t]) / 3);
            }
        }
        rows[y] = rgb + 3 * y * w;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
                                              NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    sp_status st = SP_OK;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        st = sp_error_set(err, SP_CANTCREATE, "%s: PNG encoding failed",
                          path);
    } else {
        png_init_io(png, f);
        png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
                     PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        png_write_image(png, rows);
        png_write_end(png, NULL);
    }
    png_destroy_write_struct(&png, &info);
    fclose(f);
    free(rgb), free(rows);
    return st;
}
