/* spinepipe — the volume model.
 *
 * A volume is a 3D grid of voxels in patient space. Voxel (i, j, k) lives at
 * data[i + dim[0] * (j + dim[1] * k)]: i runs along image rows (columns of
 * the DICOM image, left to right), j down the image, k across slices.
 *
 * Geometry: vox2lps maps voxel indices (i, j, k, 1) to patient coordinates
 * in millimetres in DICOM's LPS frame (x to patient left, y to posterior,
 * z to head). spacing[] repeats the column norms of that matrix for
 * convenience; the matrix is the truth.
 *
 * Ownership: a volume owns its data buffer. sp_volume_free releases it and
 * resets the struct; freeing a zeroed or already-freed volume is a no-op.
 * Volumes are not shared between threads unless the caller synchronises.
 */
#ifndef SPINEPIPE_VOLUME_H
#define SPINEPIPE_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#include "spinepipe/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sp_voxel_type {
    SP_VOXEL_F32 = 0, /* images: HU for CT, scaled signal for MR */
    SP_VOXEL_U8 = 1,  /* masks (0/1) and 8-bit views */
    SP_VOXEL_U16 = 2  /* label maps (see docs: label values) */
} sp_voxel_type;

typedef struct sp_volume {
    sp_voxel_type type;
    void *data;            /* owned; dim[0]*dim[1]*dim[2] voxels of type */
    size_t dim[3];         /* voxels along i, j, k */
    double spacing[3];     /* mm along i, j, k (column norms of vox2lps) */
    double vox2lps[4][4];  /* voxel index -> patient LPS mm */
} sp_volume;

/* Size in bytes of one voxel of the given type. */
size_t sp_voxel_size(sp_voxel_type type);

/* Allocate a zero-filled volume with identity-like geometry (unit spacing,
 * axes along LPS). Refuses zero dimensions and sizes that overflow. */
sp_status sp_volume_alloc(sp_volume *vol, sp_voxel_type type, size_t nx,
                          size_t ny, size_t nz, sp_error *err);
void sp_volume_free(sp_volume *vol);

/* Same grid as src (dims and geometry), new zeroed buffer of `type`. */
sp_status sp_volume_alloc_like(sp_volume *vol, const sp_volume *src,
                               sp_voxel_type type, sp_error *err);

/* Set the geometry from a voxel-to-LPS matrix; recomputes spacing. */
void sp_volume_set_geometry(sp_volume *vol, const double vox2lps[4][4]);

static inline size_t sp_volume_count(const sp_volume *vol)
{
    return vol->dim[0] * vol->dim[1] * vol->dim[2];
}

static inline size_t sp_volume_index(const sp_volume *vol, size_t i, size_t j,
                                     size_t k)
{
    return i + vol->dim[0] * (j + vol->dim[1] * k);
}

static inline float *sp_volume_f32(const sp_volume *vol)
{
    return vol->type == SP_VOXEL_F32 ? (float *)vol->data : NULL;
}
static inline uint8_t *sp_volume_u8(const sp_volume *vol)
{
    return vol->type == SP_VOXEL_U8 ? (uint8_t *)vol->data : NULL;
}
static inline uint16_t *sp_volume_u16(const sp_volume *vol)
{
    return vol->type == SP_VOXEL_U16 ? (uint16_t *)vol->data : NULL;
}

/* Map a (possibly fractional) voxel index to patient LPS mm. */
void sp_volume_voxel_to_patient(const sp_volume *vol, const double ijk[3],
                                double lps[3]);
/* Map patient LPS mm to a fractional voxel index. Returns SP_GEOMETRY when
 * the matrix is singular. */
sp_status sp_volume_patient_to_voxel(const sp_volume *vol, const double lps[3],
                                     double ijk[3]);

/* Unit direction of voxel axis a (0..2) in LPS. */
void sp_volume_axis_direction(const sp_volume *vol, int axis, double dir[3]);

typedef enum sp_orientation {
    SP_ORIENT_AXIAL,
    SP_ORIENT_SAGITTAL,
    SP_ORIENT_CORONAL,
    SP_ORIENT_OBLIQUE
} sp_orientation;

/* Plane of the slices (the i-j plane), judged from the slice normal: the
 * LPS axis it is closest to names the plane (S/I axial, L/R sagittal, A/P
 * coronal) unless that component is below 0.9 (about 25 degrees off), which
 * is oblique. */
sp_orientation sp_volume_orientation(const sp_volume *vol);
/* The same judgement from the unit directions of the image rows (u) and
 * columns (v), e.g. DICOM's ImageOrientationPatient. */
sp_orientation sp_orientation_from_axes(const double u[3], const double v[3]);
const char *sp_orientation_name(sp_orientation o);

/* NIfTI-1 (single file .nii or gzip .nii.gz through zlib).
 * Writing converts the LPS geometry to NIfTI's RAS qform and sform
 * (both set, code 1 = scanner). Files are written atomically: to a
 * temporary name beside the target, then renamed. U8 and U16 keep their
 * type; F32 is stored as int16 when every voxel is a whole number in
 * int16 range (lossless), else as float32. 4D files, NIfTI-2 and
 * .hdr/.img pairs are refused by the reader; byte-swapped files are read. */
sp_status sp_nifti_write(const sp_volume *vol, const char *path,
                         sp_error *err);
/* Reads 8/16/32-bit integer and 32/64-bit float data, applies
 * scl_slope/scl_inter, and converts to F32 (images) — or to U16 when
 * `as_labels` is nonzero and every value is an integer in 0..65535.
 * Geometry comes from the sform if its code is set, else the qform,
 * converted from RAS to LPS. */
sp_status sp_nifti_read(const char *path, int as_labels, sp_volume *vol,
                        sp_error *err);

#ifdef __cplusplus
}
#endif

#endif
