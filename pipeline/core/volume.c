/* The volume model: allocation, geometry and voxel <-> patient mapping. */
#include "spinepipe/volume.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Large volumes are touched first by the stage that fills them; asking for
 * transparent huge pages before that turns 512 page faults into one
 * (bench/README.md: about a third of the CPU time of a median + window +
 * PNG run went to faulting in fresh volumes). calloc hands out untouched
 * mmap'd memory for blocks this size, so the advice is in time. */
#define HUGE_PAGE ((uintptr_t)2 << 20)

static void advise_huge_pages(void *data, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    if (bytes < 4 * HUGE_PAGE)
        return;
    uintptr_t begin = ((uintptr_t)data + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t end = ((uintptr_t)data + bytes) & ~(HUGE_PAGE - 1);
    if (end > begin)
        madvise((void *)begin, end - begin, MADV_HUGEPAGE);
#else
    (void)data;
    (void)bytes;
#endif
}

size_t sp_voxel_size(sp_voxel_type type)
{
    switch (type) {
    case SP_VOXEL_F32: return sizeof(float);
    case SP_VOXEL_U8: return sizeof(uint8_t);
    case SP_VOXEL_U16: return sizeof(uint16_t);
    }
    return 0;
}

sp_status sp_volume_alloc(sp_volume *vol, sp_voxel_type type, size_t nx,
                          size_t ny, size_t nz, sp_error *err)
{
    memset(vol, 0, sizeof *vol);
    size_t elem = sp_voxel_size(type);
    if (elem == 0)
        return sp_error_set(err, SP_INTERNAL, "unknown voxel type %d",
                            (int)type);
    if (nx == 0 || ny == 0 || nz == 0)
        return sp_error_set(err, SP_FORMAT,
                            "volume of %zu x %zu x %zu voxels is empty", nx,
                            ny, nz);
    size_t count;
    size_t bytes;
    if (__builtin_mul_overflow(nx, ny, &count) ||
        __builtin_mul_overflow(count, nz, &count) ||
        __builtin_mul_overflow(count, elem, &bytes))
        return sp_error_set(err, SP_LIMIT,
                            "volume of %zu x %zu x %zu voxels is too large",
                            nx, ny, nz);
    vol->data = calloc(count, elem);
    if (!vol->data)
        return sp_error_set(err, SP_NOMEM,
                            "cannot allocate %zu bytes for a %zu x %zu x %zu "
                            "volume",
                            bytes, nx, ny, nz);
    advise_huge_pages(vol->data, bytes);
    vol->type = type;
    vol->dim[0] = nx;
    vol->dim[1] = ny;
    vol->dim[2] = nz;
    double identity[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0},
                             {0, 0, 0, 1}};
    sp_volume_set_geometry(vol, identity);
    return SP_OK;
}

sp_status sp_volume_alloc_like(sp_volume *vol, const sp_volume *src,
                               sp_voxel_type type, sp_error *err)
{
    sp_status st = sp_volume_alloc(vol, type, src->dim[0], src->dim[1],
                                   src->dim[2], err);
    if (st == SP_OK)
        sp_volume_set_geometry(vol, src->vox2lps);
    return st;
}

void sp_volume_free(sp_volume *vol)
{
    if (!vol)
        return;
    free(vol->data);
    memset(vol, 0, sizeof *vol);
}

void sp_volume_set_geometry(sp_volume *vol, const double vox2lps[4][4])
{
    memcpy(vol->vox2lps, vox2lps, sizeof vol->vox2lps);
    for (int a = 0; a < 3; a++)
        vol->spacing[a] = sqrt(vox2lps[0][a] * vox2lps[0][a] +
                               vox2lps[1][a] * vox2lps[1][a] +
                               vox2lps[2][a] * vox2lps[2][a]);
}

void sp_volume_voxel_to_patient(const sp_volume *vol, const double ijk[3],
                                double lps[3])
{
    for (int r = 0; r < 3; r++)
        lps[r] = vol->vox2lps[r][0] * ijk[0] + vol->vox2lps[r][1] * ijk[1] +
                 vol->vox2lps[r][2] * ijk[2] + vol->vox2lps[r][3];
}

sp_status sp_volume_patient_to_voxel(const sp_volume *vol, const double lps[3],
                                     double ijk[3])
{
    const double(*m)[4] = vol->vox2lps;
    /* Invert the 3x3 part by cofactors; the translation is subtracted. */
    double c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1];
    double c01 = m[1][2] * m[2][0] - m[1][0] * m[2][2];
    double c02 = m[1][0] * m[2][1] - m[1][1] * m[2][0];
    double det = m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02;
    if (!(fabs(det) > 1e-12))
        return SP_GEOMETRY;
    double inv[3][3] = {
        {c00, m[0][2] * m[2][1] - m[0][1] * m[2][2],
         m[0][1] * m[1][2] - m[0][2] * m[1][1]},
        {c01, m[0][0] * m[2][2] - m[0][2] * m[2][0],
         m[0][2] * m[1][0] - m[0][0] * m[1][2]},
        {c02, m[0][1] * m[2][0] - m[0][0] * m[2][1],
         m[0][0] * m[1][1] - m[0][1] * m[1][0]},
    };
    double d[3] = {lps[0] - m[0][3], lps[1] - m[1][3], lps[2] - m[2][3]};
    for (int r = 0; r < 3; r++)
        ijk[r] = (inv[r][0] * d[0] + inv[r][1] * d[1] + inv[r][2] * d[2]) /
                 det;
    return SP_OK;
}

void sp_volume_axis_direction(const sp_volume *vol, int axis, double dir[3])
{
    double n = vol->spacing[axis] > 0 ? vol->spacing[axis] : 1.0;
    for (int r = 0; r < 3; r++)
        dir[r] = vol->vox2lps[r][axis] / n;
}

sp_orientation sp_volume_orientation(const sp_volume *vol)
{
    double u[3], v[3];
    sp_volume_axis_direction(vol, 0, u);
    sp_volume_axis_direction(vol, 1, v);
    return sp_orientation_from_axes(u, v);
}

sp_orientation sp_orientation_from_axes(const double u[3], const double v[3])
{
    double n[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2],
                   u[0] * v[1] - u[1] * v[0]};
    int best = 0;
    for (int r = 1; r < 3; r++)
        if (fabs(n[r]) > fabs(n[best]))
            best = r;
    if (fabs(n[best]) < 0.9)
        return SP_ORIENT_OBLIQUE;
    static const sp_orientation by_axis[3] = {
        SP_ORIENT_SAGITTAL, SP_ORIENT_CORONAL, SP_ORIENT_AXIAL};
    return by_axis[best];
}

const char *sp_orientation_name(sp_orientation o)
{
    switch (o) {
    case SP_ORIENT_AXIAL: return "axial";
    case SP_ORIENT_SAGITTAL: return "sagittal";
    case SP_ORIENT_CORONAL: return "coronal";
    case SP_ORIENT_OBLIQUE: return "oblique";
    }
    return "oblique";
}
