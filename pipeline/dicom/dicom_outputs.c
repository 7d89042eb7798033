/* DICOM result objects from one series' output folder: every PNG as
 * Secondary Capture, report.json as the TID 1500 SR, segmentation.nii.gz
 * as SEG. Behind `spinepipe run --dicom-out` (and so the listener). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <png.h>

#include "dicom_out.h"
#include "output/output.h"

#define MAX_SIDE 16384
#define MAX_SC 999

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

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the PNG files directly in `dir`, sorted; safe names only. */
static sp_status list_pngs(const char *dir, char ***names, size_t *n,
                           sp_error *err)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return sp_error_set(err, SP_IO, "%s: cannot list: %s", dir,
                            strerror(errno));
    size_t cap = 0;
    sp_status st = SP_OK;
    for (struct dirent *e; st == SP_OK && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".png") != 0 ||
            !sp_is_safe_name(e->d_name))
            continue;
        if (*n == MAX_SC)
            break;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **g = realloc(*names, cap * sizeof *g);
            if (!g) {
                st = sp_error_set(err, SP_NOMEM, "out of memory");
                break;
            }
            *names = g;
        }
        if (!((*names)[*n] = strdup(e->d_name)))
            st = sp_error_set(err, SP_NOMEM, "out of memory");
        else
            (*n)++;
    }
    closedir(d);
    if (*n > 1)
        qsort(*names, *n, sizeof **names, by_name);
    return st;
}

/* The key images written, for the SR to place coordinates on. */
typedef struct key_images {
    char level[MAX_SC][24];
    sp_sr_plane_image image[MAX_SC];
    size_t n;
} key_images;

static int parse3(const char *text, double v[3])
{
    return text && sscanf(text, "%lf %lf %lf", &v[0], &v[1], &v[2]) == 3 &&
           isfinite(v[0]) && isfinite(v[1]) && isfinite(v[2]);
}

/* The plane of a report image from its text chunks (the report stage's
 * spinepipe:origin_lps, right_lps, down_lps, pixel_mm, image_offset_px);
 * 0 when it has none or they do not parse. */
static int png_plane(const char *path, sp_sr_plane_image *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL,
                                             NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int found = 0;
    if (png && info && !setjmp(png_jmpbuf(png))) {
        png_init_io(png, f);
        png_read_info(png, info);
        png_textp text = NULL;
        int n = 0, got = 0;
        png_get_text(png, info, &text, &n);
        for (int i = 0; i < n; i++) {
            const char *k = text[i].key, *v = text[i].text;
            if (!strcmp(k, "spinepipe:origin_lps"))
                got |= parse3(v, out->origin) << 0;
            else if (!strcmp(k, "spinepipe:right_lps"))
                got |= parse3(v, out->right) << 1;
            else if (!strcmp(k, "spinepipe:down_lps"))
                got |= parse3(v, out->down) << 2;
            else if (!strcmp(k, "spinepipe:pixel_mm"))
                got |= (sscanf(v, "%lf", &out->pixel_mm) == 1 &&
                        out->pixel_mm > 0 && isfinite(out->pixel_mm)) << 3;
            else if (!strcmp(k, "spinepipe:image_offset_px"))
                got |= (sscanf(v, "%lf %lf", &out->offset[0],
                               &out->offset[1]) == 2 &&
                        isfinite(out->offset[0]) &&
                        isfinite(out->offset[1])) << 4;
        }
        found = got == 0x1f;
    }
    png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
    fclose(f);
    return found;
}

/* "key_L4-L5.png" -> "L4-L5" (the report names key images so). */
static int key_level(const char *name, char *level, size_t size)
{
    size_t len = strlen(name);
    if (len < 9 || strncmp(name, "key_", 4) != 0 || len - 8 >= size)
        return 0;
    memcpy(level, name + 4, len - 8);
    level[len - 8] = 0;
    return 1;
}

static sp_status write_scs(const sp_dicom_series *src, const char *series_dir,
                           const char *dicom_dir, size_t *n_sc,
                           key_images *keys, sp_error *err)
{
    char **names;
    size_t n;
    sp_status st = list_pngs(series_dir, &names, &n, err);
    char series_uid[65], path[PATH_MAX], sop[65];
    sp_dicom_new_uid(series_uid);
    for (size_t i = 0; st == SP_OK && i < n; i++) {
        unsigned char *px = NULL;
        unsigned w = 0, h = 0;
        int samples = 1;
        if (sp_path_join(path, sizeof path, series_dir, names[i]) != 0) {
            st = sp_error_set(err, SP_CANTCREATE, "%s/%s: path too long",
                              series_dir, names[i]);
            break;
        }
        st = read_png(path, &px, &w, &h, &samples, err);
        if (st != SP_OK)
            break;
        char desc[64];
        snprintf(desc, sizeof desc, "%.*s", (int)strcspn(names[i], "."),
                 names[i]);
        sp_sr_plane_image *k = &keys->image[keys->n];
        char level[24];
        int key = key_level(names[i], level, sizeof level);
        if (key)
            key = png_plane(path, k);
        sp_dicom_new_uid(sop);
        snprintf(path, sizeof path, "%s/sc-%04zu.dcm", dicom_dir, i + 1);
        st = sp_dicom_write_sc(src->slices[0].path, series_uid, sop,
                               (int)i + 1, px, w, h, samples, desc, path, err);
        free(px);
        if (st == SP_OK)
            (*n_sc)++;
        if (st == SP_OK && key) {
            snprintf(k->sop_uid, sizeof k->sop_uid, "%s", sop);
            snprintf(k->series_uid, sizeof k->series_uid, "%s", series_uid);
            snprintf(k->sop_class, sizeof k->sop_class, "%s",
                     "1.2.840.10008.5.1.4.1.1.7");
            snprintf(keys->level[keys->n++], sizeof keys->level[0], "%s",
                     level);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return st;
}

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Whether `key` is the key image name the report gives `level` (the
 * report keeps [A-Za-z0-9-] and writes '_' for the rest, 23 at most). */
static int is_key_of(const char *key, const char *level)
{
    size_t n = 0;
    for (; level[n] && n < 23; n++) {
        char c = level[n];
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || c == '-';
        if (key[n] != (keep ? c : '_'))
            return 0;
    }
    return n > 0 && key[n] == 0;
}

/* The LPS points of a JSON array of [x, y, z]; 0 unless every entry is
 * three finite numbers. */
static int points_of(const json_t *a, double (*out)[3], size_t n)
{
    if (json_array_size(a) != n)
        return 0;
    for (size_t e = 0; e < n; e++)
        for (size_t k = 0; k < 3; k++) {
            const json_t *v = json_array_get(json_array_get(a, e), k);
            if (!json_is_number(v) || !isfinite(json_number_value(v)))
                return 0;
            out[e][k] = json_number_value(v);
        }
    return 1;
}

/* report.json's levels, findings and warnings as SR content; strings point
 * into `report`, key images into `keys`. */
static sp_status sr_from_report(const json_t *report, const key_images *keys,
                                sp_sr_content *c, sp_error *err)
{
    memset(c, 0, sizeof *c);
    const json_t *levels = json_object_get(report, "levels");
    const json_t *warnings = json_object_get(report, "warnings");
    size_t nl = json_is_array(levels) ? json_array_size(levels) : 0;
    size_t nw = json_is_array(warnings) ? json_array_size(warnings) : 0;
    sp_sr_level *lv = calloc(nl ? nl : 1, sizeof *lv);
    const char **w = calloc(nw ? nw : 1, sizeof *w);
    if (!lv || !w) {
        free(lv);
        free(w);
        return sp_error_set(err, SP_NOMEM, "out of memory");
    }
    c->levels = lv;
    c->warnings = w;
    for (size_t i = 0; i < nw; i++)
        if (json_is_string(json_array_get(warnings, i)))
            w[c->n_warnings++] = json_string_value(json_array_get(warnings, i));
    for (size_t i = 0; i < nl; i++) {
        const json_t *l = json_array_get(levels, i);
        if (!json_is_object(l) || !str(l, "level"))
            continue;
        sp_sr_level *L = &lv[c->n_levels++];
        L->level = str(l, "level");
        L->canal_ap_mm = num(l, "canal_ap_mm");
        L->canal_area_mm2 = num(l, "canal_area_mm2");
        L->disc_height_mm = num(l, "disc_height_mm");
        L->posterior_displacement_mm = num(l, "posterior_displacement_mm");
        L->has_caliper = points_of(json_object_get(l, "canal_ap_endpoints_mm"),
                                   L->caliper_mm, 2);
        L->has_displacement = points_of(
            json_object_get(l, "displacement_caliper_mm"),
            L->displacement_mm, 2);
        for (size_t k = 0; k < keys->n && !L->key_image; k++)
            if (is_key_of(keys->level[k], L->level))
                L->key_image = &keys->image[k];
        const json_t *outline = json_object_get(l, "canal_outline_mm");
        size_t no = json_array_size(outline);
        if (no >= 3 && no <= 4096) {
            double (*pts)[3] = malloc(no * sizeof *pts);
            if (!pts)
                return sp_error_set(err, SP_NOMEM, "out of memory");
            if (points_of(outline, pts, no))
                L->outline_mm = (const double (*)[3])pts, L->n_outline = no;
            else
                free(pts);
        }
        const json_t *fs = json_object_get(l, "findings");
        size_t nf = json_is_array(fs) ? json_array_size(fs) : 0;
        sp_sr_finding *f = calloc(nf ? nf : 1, sizeof *f);
        if (!f)
            return sp_error_set(err, SP_NOMEM, "out of memory");
        L->findings = f;
        for (size_t k = 0; k < nf; k++) {
            const json_t *j = json_array_get(fs, k);
            if (!json_is_object(j) || !str(j, "code"))
                continue;
            sp_sr_finding *F = &f[L->n_findings++];
            F->code = str(j, "code");
            F->severity = str(j, "severity");
            F->value = num(j, "value");
            F->threshold = num(j, "threshold");
            F->source = str(j, "source");
        }
    }
    c->not_analysable = str(report, "not_analysable");
    return SP_OK;
}

static void sr_content_free(sp_sr_content *c)
{
    for (size_t i = 0; c->levels && i < c->n_levels; i++) {
        free((void *)c->levels[i].findings);
        free((void *)c->levels[i].outline_mm);
    }
    free((void *)c->levels);
    free((void *)c->warnings);
    memset(c, 0, sizeof *c);
}

/* A rerun replaces the objects of the last one; other files stay. */
static void remove_previous(const char *dicom_dir)
{
    DIR *d = opendir(dicom_dir);
    if (!d)
        return;
    char path[PATH_MAX];
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        int ours = strcmp(n, "sr.dcm") == 0 || strcmp(n, "seg.dcm") == 0 ||
                   (len == 11 && strncmp(n, "sc-", 3) == 0 &&
                    strspn(n + 3, "0123456789") == 4 &&
                    strcmp(n + 7, ".dcm") == 0);
        if (ours && sp_path_join(path, sizeof path, dicom_dir, n) == 0)
            unlink(path);
    }
    closedir(d);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

sp_status sp_dicom_outputs_write(const sp_dicom_series *src,
                                 const char *series_dir,
                                 const char *dicom_dir, int with_seg,
                                 sp_dicom_outputs *out, sp_error *err)
{
    memset(out, 0, sizeof *out);
    if (!src || src->n_slices == 0)
        return sp_error_set(err, SP_NOINPUT, "%s: no source instance",
                            series_dir);
    sp_status st = sp_mkdirs(dicom_dir, err);
    if (st == SP_OK)
        remove_previous(dicom_dir);
    key_images *keys = calloc(1, sizeof *keys);
    if (!keys)
        return sp_error_set(err, SP_NOMEM, "out of memory");
    if (st == SP_OK)
        st = write_scs(src, series_dir, dicom_dir, &out->n_sc, keys, err);
    char path[PATH_MAX], target[PATH_MAX], uid[65];
    snprintf(path, sizeof path, "%s/report.json", series_dir);
    if (st == SP_OK && exists(path)) {
        json_error_t je;
        json_t *report = json_load_file(path, 0, &je);
        if (!report) {
            free(keys);
            return sp_error_set(err, SP_FORMAT, "%s:%d: %s", path, je.line,
                                je.text);
        }
        sp_sr_content c;
        st = sr_from_report(report, keys, &c, err);
        snprintf(target, sizeof target, "%s/sr.dcm", dicom_dir);
        sp_dicom_new_uid(uid);
        if (st == SP_OK)
            st = sp_dicom_write_sr(src, &c, uid, target, err);
        out->sr = st == SP_OK;
        sr_content_free(&c);
        json_decref(report);
    }
    free(keys);
    snprintf(path, sizeof path, "%s/segmentation.nii.gz", series_dir);
    if (st == SP_OK && with_seg && exists(path)) {
        sp_volume labels = {0};
        st = sp_nifti_read(path, 1, &labels, err);
        if (st == SP_OK && labels.type != SP_VOXEL_U16)
            st = sp_error_set(err, SP_FORMAT, "%s: not a label map", path);
        snprintf(target, sizeof target, "%s/seg.dcm", dicom_dir);
        sp_dicom_new_uid(uid);
        size_t n_segments = 0;
        if (st == SP_OK) {
            st = sp_dicom_write_seg(src, &labels, uid, target, &n_segments,
                                    &out->n_seg_frames, err);
            /* A label map with nothing in it on these slices is no error. */
            if (st == SP_NOINPUT)
                st = SP_OK;
            else
                out->seg = st == SP_OK;
        }
        sp_volume_free(&labels);
    }
    return st;
}
