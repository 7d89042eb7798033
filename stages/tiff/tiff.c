/* Stage `tiff`: a volume artifact (by default the series, volume.hu) as a
 * multi-page 16-bit TIFF for researchers: one page per slice (i right, j
 * down, pages along k), the in-plane spacing in the resolution tags
 * (pixels per centimetre), and the slice spacing, the voxel-to-patient
 * matrix and the value mapping in ImageDescription. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "spinepipe/stage.h"

enum { VALUES_SIGNED, VALUES_SCALED };
static const char *const value_names[] = {"signed", "scaled", NULL};

typedef struct tiff_options {
    const char *artifact;
    const char *file;
    int values;
} tiff_options;

static const sp_param params[] = {
    {"artifact", SP_PARAM_ARTIFACT, "volume.hu", 0, 0, NULL, NULL,
     "volume artifact to write (F32, U8 or U16)",
     offsetof(tiff_options, artifact)},
    {"file", SP_PARAM_STRING, "volume.tif", 0, 0, NULL, NULL,
     "output file name in the series folder",
     offsetof(tiff_options, file)},
    {"values", SP_PARAM_ENUM, "signed", 0, 0, NULL, value_names,
     "signed: values rounded to int16 (HU as they are, clamped to "
     "-32768..32767); scaled: min..max mapped to uint16 0..65535, the "
     "mapping in ImageDescription",
     offsetof(tiff_options, values)},
};

static const char *const requires_list[] = {NULL}; /* see `artifact` */
static const char *const provides_list[] = {NULL};

static sp_status tiff_init(sp_stage_context *ctx, const void *options,
                           void **state)
{
    const tiff_options *o = options;
    size_t n = o->file ? strlen(o->file) : 0;
    if (n < 5 || (strcmp(o->file + n - 4, ".tif") != 0 &&
                  (n < 6 || strcmp(o->file + n - 5, ".tiff") != 0)))
        return ctx->host->fail(ctx, SP_CONFIG,
                               "parameter 'file' ('%s') must end with .tif "
                               "or .tiff",
                               o->file ? o->file : "");
    *state = (void *)o;
    return SP_OK;
}

static double voxel(const sp_volume *v, size_t i)
{
    switch (v->type) {
    case SP_VOXEL_U8: return ((const uint8_t *)v->data)[i];
    case SP_VOXEL_U16: return ((const uint16_t *)v->data)[i];
    default: return ((const float *)v->data)[i];
    }
}

/* One page. Returns 0 on a libtiff failure. */
static int write_page(TIFF *t, const sp_volume *v, size_t k, int scaled,
                      double lo, double step, const char *desc,
                      uint16_t *row)
{
    uint32_t w = (uint32_t)v->dim[0], h = (uint32_t)v->dim[1];
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 16);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT,
                 scaled ? SAMPLEFORMAT_UINT : SAMPLEFORMAT_INT);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0));
    TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER);
    TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)(10.0 / v->spacing[0]));
    TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)(10.0 / v->spacing[1]));
    TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)k, (uint16_t)v->dim[2]);
    TIFFSetField(t, TIFFTAG_SOFTWARE, "spinepipe tiff stage 1.0.0");
    if (k == 0)
        TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, desc);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            double val = voxel(v, sp_volume_index(v, x, y, k));
            if (!isfinite(val))
                val = 0;
            if (scaled) {
                double q = step > 0 ? (val - lo) / step : 0;
                row[x] = (uint16_t)lround(fmin(fmax(q, 0), 65535));
            } else {
                int16_t s = (int16_t)lround(fmin(fmax(val, -32768), 32767));
                memcpy(&row[x], &s, sizeof s);
            }
        }
        if (TIFFWriteScanline(t, row, y, 0) < 0)
            return 0;
    }
    return TIFFWriteDirectory(t);
}

static sp_status tiff_process(sp_stage_context *ctx, void *state)
{
    const tiff_options *o = state;
    const sp_host_api *H = ctx->host;
    const sp_volume *v = H->artifact_volume(ctx, o->artifact,
                                            SP_ARTIFACT_VOLUME);
    if (!v)
        return H->fail(ctx, SP_STAGE, "no volume artifact '%s' to write",
                       o->artifact);
    if (v->dim[0] > 65535 || v->dim[1] > 65535 || v->dim[2] > 65535)
        return H->fail(ctx, SP_STAGE, "'%s' is too large for one TIFF",
                       o->artifact);
    size_t n = sp_volume_count(v);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = voxel(v, i);
        if (isfinite(x)) {
            lo = fmin(lo, x);
            hi = fmax(hi, x);
        }
    }
    if (!(lo <= hi))
        lo = hi = 0;
    int scaled = o->values == VALUES_SCALED;
    double step = hi > lo ? (hi - lo) / 65535.0 : 0;
    char desc[1024];
    snprintf(desc, sizeof desc,
             "{\"spinepipe\": \"tiff\", \"artifact\": \"%s\", "
             "\"spacing_mm\": [%.17g, %.17g, %.17g], "
             "\"vox2lps\": [[%.17g, %.17g, %.17g, %.17g], "
             "[%.17g, %.17g, %.17g, %.17g], [%.17g, %.17g, %.17g, %.17g]], "
             "\"value\": \"%s\", \"slope\": %.17g, \"intercept\": %.17g}",
             o->artifact, v->spacing[0], v->spacing[1], v->spacing[2],
             v->vox2lps[0][0], v->vox2lps[0][1], v->vox2lps[0][2],
             v->vox2lps[0][3], v->vox2lps[1][0], v->vox2lps[1][1],
             v->vox2lps[1][2], v->vox2lps[1][3], v->vox2lps[2][0],
             v->vox2lps[2][1], v->vox2lps[2][2], v->vox2lps[2][3],
             scaled ? "stored * slope + intercept" : "stored",
             scaled ? step : 1.0, scaled ? lo : 0.0);
    char path[4096], tmp[4200];
    if (snprintf(path, sizeof path, "%s/%s", ctx->output_dir, o->file) >=
        (int)sizeof path)
        return H->fail(ctx, SP_CANTCREATE, "%s: path too long", o->file);
    if (strchr(o->file, '/') || o->file[0] == '.')
        return H->fail(ctx, SP_CANTCREATE,
                       "parameter 'file' ('%s') must be a plain file name",
                       o->file);
    /* Written beside the target and renamed, so no half file remains. */
    snprintf(tmp, sizeof tmp, "%s/.%s.partial", ctx->output_dir, o->file);
    TIFF *t = TIFFOpen(tmp, v->dim[0] * v->dim[1] * v->dim[2] * 2 > 0xF0000000u
                                ? "w8" : "w");
    if (!t)
        return H->fail(ctx, SP_CANTCREATE, "%s: libtiff cannot create it",
                       tmp);
    uint16_t *row = H->scratch_alloc(ctx, v->dim[0] * sizeof *row);
    int ok = row != NULL;
    for (size_t k = 0; ok && k < v->dim[2]; k++) {
        ok = write_page(t, v, k, scaled, lo, step, desc, row);
        H->progress(ctx, (double)(k + 1) / (double)v->dim[2]);
    }
    TIFFClose(t);
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return H->fail(ctx, SP_IO, "%s: writing the TIFF failed", path);
    }
    return SP_OK;
}

static const sp_stage_descriptor descriptor = {
    .abi_major = SP_STAGE_ABI_MAJOR,
    .abi_minor = SP_STAGE_ABI_MINOR,
    .name = "tiff",
    .version = "1.1.0",
    .description = "a volume as a multi-page 16-bit TIFF with the spacing "
                   "in the resolution tags",
    .params = params,
    .n_params = SP_PARAM_COUNT(params),
    .options_size = sizeof(tiff_options),
    .requires = requires_list,
    .provides = provides_list,
    .init = tiff_init,
    .process = tiff_process,
    .destroy = NULL,
    .flags = SP_STAGE_VOLUME_READS_DECLARED,
};

SP_STAGE_ENTRY(descriptor)
