/* NIfTI-1 header bytes <-> struct, in either byte order, and the checks
 * that decide whether a 348-byte block is a header spinepipe can use. */
#include "nifti_internal.h"

#include <string.h>

static uint16_t load_u16(const unsigned char *p, int swapped)
{
    return swapped ? (uint16_t)(p[0] << 8 | p[1])
                   : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t load_u32(const unsigned char *p, int swapped)
{
    if (swapped)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
               (uint32_t)p[2] << 8 | (uint32_t)p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
           (uint32_t)p[1] << 8 | (uint32_t)p[0];
}

static int16_t load_i16(const unsigned char *p, int swapped)
{
    return (int16_t)load_u16(p, swapped);
}

static float load_f32(const unsigned char *p, int swapped)
{
    uint32_t u = load_u32(p, swapped);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void store_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

static void store_u32(unsigned char *p, uint32_t v)
{
    for (int b = 0; b < 4; b++)
        p[b] = (unsigned char)(v >> (8 * b));
}

static void store_f32(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    store_u32(p, u);
}

int nifti_host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

size_t nifti_datatype_size(int datatype)
{
    switch (datatype) {
    case NIFTI_DT_UINT8:
    case NIFTI_DT_INT8: return 1;
    case NIFTI_DT_INT16:
    case NIFTI_DT_UINT16: return 2;
    case NIFTI_DT_INT32:
    case NIFTI_DT_UINT32:
    case NIFTI_DT_FLOAT32: return 4;
    case NIFTI_DT_FLOAT64: return 8;
    }
    return 0;
}

const char *nifti_datatype_name(int datatype)
{
    switch (datatype) {
    case NIFTI_DT_UINT8: return "uint8";
    case NIFTI_DT_INT8: return "int8";
    case NIFTI_DT_INT16: return "int16";
    case NIFTI_DT_UINT16: return "uint16";
    case NIFTI_DT_INT32: return "int32";
    case NIFTI_DT_UINT32: return "uint32";
    case NIFTI_DT_FLOAT32: return "float32";
    case NIFTI_DT_FLOAT64: return "float64";
    case 1: return "binary";
    case 32: return "complex64";
    case 128: return "RGB24";
    case 1024: return "int64";
    case 1280: return "uint64";
    case 1536: return "float128";
    case 1792: return "complex128";
    case 2048: return "complex256";
    case 2304: return "RGBA32";
    }
    return "unknown";
}

sp_status nifti_header_decode(const unsigned char raw[NIFTI1_HEADER_SIZE],
                              const char *path, nifti_header *hdr,
                              int *swapped, sp_error *err)
{
    memset(hdr, 0, sizeof *hdr);
    int swap;
    if (load_u32(raw, 0) == NIFTI1_HEADER_SIZE)
        swap = 0;
    else if (load_u32(raw, 1) == NIFTI1_HEADER_SIZE)
        swap = 1;
    else if (load_u32(raw, 0) == 540 || load_u32(raw, 1) == 540)
        return sp_error_set(err, SP_UNSUPPORTED,
                            "%s: NIfTI-2 files are not supported (only "
                            "NIfTI-1)",
                            path);
    else
        return sp_error_set(err, SP_FORMAT,
                            "%s: not a NIfTI-1 file (header size field is "
                            "%u, expected 348)",
                            path, (unsigned)load_u32(raw, 0));
    *swapped = swap;
    hdr->sizeof_hdr = NIFTI1_HEADER_SIZE;
    memcpy(hdr->magic, raw + 344, 4);
    if (memcmp(hdr->magic, "ni1\0", 4) == 0)
        return sp_error_set(err, SP_UNSUPPORTED,
                            "%s: two-file NIfTI (.hdr/.img pair) is not "
                            "supported; use a single .nii or .nii.gz",
                            path);
    if (memcmp(hdr->magic, "n+1\0", 4) != 0)
        return sp_error_set(err, SP_FORMAT,
                            "%s: header has no NIfTI-1 magic 'n+1' (an "
                            "Analyze 7.5 file or a corrupted header)",
                            path);
    for (int i = 0; i < 8; i++) {
        hdr->dim[i] = load_i16(raw + 40 + 2 * i, swap);
        hdr->pixdim[i] = load_f32(raw + 76 + 4 * i, swap);
    }
    hdr->datatype = load_i16(raw + 70, swap);
    hdr->bitpix = load_i16(raw + 72, swap);
    hdr->vox_offset = load_f32(raw + 108, swap);
    hdr->scl_slope = load_f32(raw + 112, swap);
    hdr->scl_inter = load_f32(raw + 116, swap);
    hdr->xyzt_units = raw[123];
    memcpy(hdr->descrip, raw + 148, sizeof hdr->descrip);
    hdr->descrip[sizeof hdr->descrip - 1] = '\0';
    hdr->qform_code = load_i16(raw + 252, swap);
    hdr->sform_code = load_i16(raw + 254, swap);
    for (int i = 0; i < 3; i++) {
        hdr->quatern[i] = load_f32(raw + 256 + 4 * i, swap);
        hdr->qoffset[i] = load_f32(raw + 268 + 4 * i, swap);
        for (int c = 0; c < 4; c++)
            hdr->srow[i][c] = load_f32(raw + 280 + 16 * i + 4 * c, swap);
    }
    return SP_OK;
}

void nifti_header_encode(const nifti_header *hdr,
                         unsigned char raw[NIFTI1_HEADER_SIZE])
{
    memset(raw, 0, NIFTI1_HEADER_SIZE);
    store_u32(raw, NIFTI1_HEADER_SIZE);
    raw[38] = 'r'; /* "regular", kept for Analyze readers */
    for (int i = 0; i < 8; i++) {
        store_u16(raw + 40 + 2 * i, (uint16_t)hdr->dim[i]);
        store_f32(raw + 76 + 4 * i, hdr->pixdim[i]);
    }
    store_u16(raw + 70, (uint16_t)hdr->datatype);
    store_u16(raw + 72, (uint16_t)hdr->bitpix);
    store_f32(raw + 108, hdr->vox_offset);
    store_f32(raw + 112, hdr->scl_slope);
    store_f32(raw + 116, hdr->scl_inter);
    raw[123] = hdr->xyzt_units;
    memcpy(raw + 148, hdr->descrip, sizeof hdr->descrip);
    raw[148 + sizeof hdr->descrip - 1] = '\0';
    store_u16(raw + 252, (uint16_t)hdr->qform_code);
    store_u16(raw + 254, (uint16_t)hdr->sform_code);
    for (int i = 0; i < 3; i++) {
        store_f32(raw + 256 + 4 * i, hdr->quatern[i]);
        store_f32(raw + 268 + 4 * i, hdr->qoffset[i]);
        for (int c = 0; c < 4; c++)
            store_f32(raw + 280 + 16 * i + 4 * c, hdr->srow[i][c]);
    }
    memcpy(raw + 344, "n+1\0", 4);
}
