/* NIfTI-1 internals shared by the reader, the writer and their tests:
 * the header fields spinepipe uses, their byte layout, and the qform
 * quaternion <-> matrix conversions. Not part of the public API. */
#ifndef SPINEPIPE_NIFTI_INTERNAL_H
#define SPINEPIPE_NIFTI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/error.h"

#define NIFTI1_HEADER_SIZE 348
#define NIFTI1_DATA_OFFSET 352 /* header + the 4-byte extension flag */

/* NIfTI-1 datatype codes spinepipe reads (and, for three of them, writes). */
enum {
    NIFTI_DT_UINT8 = 2,
    NIFTI_DT_INT16 = 4,
    NIFTI_DT_INT32 = 8,
    NIFTI_DT_FLOAT32 = 16,
    NIFTI_DT_FLOAT64 = 64,
    NIFTI_DT_INT8 = 256,
    NIFTI_DT_UINT16 = 512,
    NIFTI_DT_UINT32 = 768
};

/* The fields of a NIfTI-1 header that matter here, in host order. */
typedef struct nifti_header {
    int32_t sizeof_hdr;
    int16_t dim[8];
    int16_t datatype;
    int16_t bitpix;
    float pixdim[8];
    float vox_offset;
    float scl_slope;
    float scl_inter;
    uint8_t xyzt_units;
    char descrip[80];
    int16_t qform_code;
    int16_t sform_code;
    float quatern[3];  /* b, c, d */
    float qoffset[3];  /* x, y, z */
    float srow[3][4];
    char magic[4];
} nifti_header;

/* The qform: a rotation (quaternion b, c, d; a is implied), voxel sizes,
 * the handedness qfac (+1 or -1) and the offset, all in RAS. */
typedef struct nifti_quatern {
    double b, c, d;
    double offset[3];
    double pixdim[3];
    double qfac;
} nifti_quatern;

/* Decode 348 bytes. Sets *swapped when the file is in the other byte
 * order. Fails (SP_FORMAT / SP_UNSUPPORTED, naming `path`) when the bytes
 * are not a single-file NIfTI-1 header. */
sp_status nifti_header_decode(const unsigned char raw[NIFTI1_HEADER_SIZE],
                              const char *path, nifti_header *hdr,
                              int *swapped, sp_error *err);
/* Encode to 348 little-endian bytes (fields not in the struct are 0). */
void nifti_header_encode(const nifti_header *hdr,
                         unsigned char raw[NIFTI1_HEADER_SIZE]);

/* 1 on a little-endian host (NIfTI files are written little endian). */
int nifti_host_is_little_endian(void);

/* Bytes per voxel of a datatype code, 0 when spinepipe cannot read it. */
size_t nifti_datatype_size(int datatype);
const char *nifti_datatype_name(int datatype);

/* qform quaternion -> voxel-to-RAS matrix (the NIfTI-1 "method 2"). */
void nifti_quatern_to_mat(const nifti_quatern *q, double ras[4][4]);
/* Voxel-to-RAS matrix -> the nearest qform: columns are normalised and
 * orthogonalised, so a sheared matrix (gantry tilt) gets the closest
 * rotation; the sform keeps the exact matrix. */
void nifti_mat_to_quatern(const double ras[4][4], nifti_quatern *q);

/* LPS <-> RAS: negate the first two rows (the same map both ways). */
void nifti_flip_lps_ras(const double in[4][4], double out[4][4]);

#endif
