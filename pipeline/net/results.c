/* Pipeline results as DICOM: every PNG a job wrote becomes a Secondary
 * Capture instance of one new series in the source study. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "net_internal.h"
#include "output/output.h"

#define MAX_SIDE 16384

/* 8-bit gray or RGB pixels of a PNG (alpha and 16 bits dropped). */
static sp_status read_png(const char *path, unsigned char **pixels,
                          unsigned *w, unsigned *h, int *samples,
                          sp_error *err)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return sp_error_set(err, SP_FORMAT, "%s: cannot read PNG: %s", path,
                            img.message);
    if (img.width == 0 || img.height == 0 || img.width > MAX_SIDE ||
        img.height > MAX_SIDE) {
        png_image_free(&img);
        return sp_error_set(err, SP_LIMIT, "%s: %ux%u pixels is out of "
                            "range", path, img.width, img.height);
    }
    int color = (img.format & PNG_FORMAT_FLAG_COLOR) != 0;
    img.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    size_t size = PNG_IMAGE_SIZE(img);
    *pixels = malloc(size);
    if (!*pixels) {
        png_image_free(&img);
        return sp_error_set(err, SP_NOMEM, "out of memory");
    }
    if (!png_image_finish_read(&img, NULL, *pixels, 0, NULL)) {
        free(*pixels);
        *pixels = NULL;
        return sp_error_set(err, SP_FORMAT, "%s: cannot decode PNG: %s",
                            path, img.message);
    }
    *w = img.width;
    *h = img.height;
    *samples = color ? 3 : 1;
    return SP_OK;
}

sp_status spn_results_to_dicom(const char *series_dir,
                               const char *results_dir, size_t *n,
                               sp_error *err)
{
    *n = 0;
    spn_file_list src = {0}, pngs = {0};
    sp_status st = SP_OK;
    if (spn_collect_files(series_dir, ".dcm", &src) != 0 || src.n == 0)
        st = sp_error_set(err, SP_NOINPUT, "%s: no source instance",
                          series_dir);
    else if (spn_collect_files(results_dir, ".png", &pngs) != 0)
        st = sp_error_set(err, SP_IO, "%s: cannot list results",
                          results_dir);
    char out_dir[3800], path[PATH_MAX];
    snprintf(out_dir, sizeof out_dir, "%s/dicom", results_dir);
    if (st == SP_OK && pngs.n)
        st = sp_mkdirs(out_dir, err);
    char series_uid[65];
    spn_new_uid(series_uid);
    for (size_t i = 0; st == SP_OK && i < pngs.n; i++) {
        unsigned char *px = NULL;
        unsigned w = 0, h = 0;
        int samples = 1;
        st = read_png(pngs.paths[i], &px, &w, &h, &samples, err);
        if (st != SP_OK)
            break;
        /* "<series folder>/<plane>.png" names the image. */
        const char *base = strrchr(pngs.paths[i], '/');
        char desc[64];
        snprintf(desc, sizeof desc, "%.*s", (int)strcspn(base + 1, "."),
                 base + 1);
        snprintf(path, sizeof path, "%s/sc-%04zu.dcm", out_dir, i + 1);
        st = spn_write_sc(src.paths[0], series_uid, (int)i + 1, px, w, h,
                          samples, desc, path, err);
        free(px);
        if (st == SP_OK)
            (*n)++;
    }
    spn_file_list_free(&src);
    spn_file_list_free(&pngs);
    return st;
}
