/* Bone mask: hysteresis threshold and dense-hole filling. */
#include "bone_kernels.h"

#include <math.h>
#include <stdlib.h>

#include "analysis.h"

void bone_params_default(bone_params *p)
{
    p->seed_hu = 250;
    p->grow_hu = 140;
    p->fill_min_hu = 60;
    p->close_mm = 3.0;
    p->smooth_mm = 0.75;
    p->rim_hu = 200;
    p->rim_max_spacing_mm = 2.0;
    p->fill_area_min_mm2 = 450;
    p->fill_area_max_mm2 = 3000;
}

/* Close cortex gaps in-plane, fill enclosed regions per axial slice, and
 * keep a filled region only when its mean HU says marrow, not canal, or
 * when it is as large as a vertebral body's marrow (fatty marrow of older
 * patients is as dark as the canal, but the canal is never that wide). */
static sp_status fill_dense_holes(const sp_volume *ct, sp_volume *mask,
                                  const bone_params *p, sp_error *err)
{
    const float *hu = sp_volume_f32(ct);
    size_t n = sp_volume_count(ct);
    sp_volume closed = {0};
    sp_status st = sp_volume_alloc_like(&closed, ct, SP_VOXEL_U8, err);
    if (st != SP_OK)
        return st;
    uint8_t *m = sp_volume_u8(mask), *c = sp_volume_u8(&closed);
    for (size_t q = 0; q < n; q++)
        c[q] = m[q];
    if ((st = analysis_dilate(&closed, p->close_mm, 1, err)) != SP_OK ||
        (st = analysis_fill_holes_2d(&closed, err)) != SP_OK ||
        (st = analysis_erode(&closed, p->close_mm, 1, err)) != SP_OK) {
        sp_volume_free(&closed);
        return st;
    }
    /* candidate voxels: filled but not bone; judge each 2D region */
    for (size_t q = 0; q < n; q++)
        c[q] = c[q] && !m[q];
    size_t dim2[3] = {ct->dim[0], ct->dim[1], 1};
    size_t nxy = dim2[0] * dim2[1];
    double px_area = ct->spacing[0] * ct->spacing[1];
    uint32_t *lab = malloc(nxy * sizeof *lab);
    if (!lab) {
        sp_volume_free(&closed);
        return sp_error_set(err, SP_NOMEM, "segment-bone: out of memory");
    }
    for (size_t k = 0; k < ct->dim[2] && st == SP_OK; k++) {
        size_t *sizes = NULL;
        long nc = analysis_components(c + k * nxy, dim2, 0, lab, &sizes);
        double *sum = nc >= 0 ? calloc((size_t)nc + 1, sizeof *sum) : NULL;
        if (!sum) {
            free(sizes);
            st = sp_error_set(err, SP_NOMEM, "segment-bone: out of memory");
            break;
        }
        for (size_t q = 0; q < nxy; q++)
            sum[lab[q]] += hu[k * nxy + q];
        for (size_t q = 0; q < nxy; q++) {
            if (!lab[q])
                continue;
            double area = (double)sizes[lab[q]] * px_area;
            if (sum[lab[q]] / (double)sizes[lab[q]] >= p->fill_min_hu ||
                (area >= p->fill_area_min_mm2 && area <= p->fill_area_max_mm2))
                m[k * nxy + q] = 1;
        }
        free(sum), free(sizes);
    }
    free(lab);
    sp_volume_free(&closed);
    return st;
}

/* One layer of surface voxels darker than hu_min goes: on fine grids the
 * hysteresis keeps a partial-volume rim around every bone. */
static sp_status peel_rim(const sp_volume *ct, sp_volume *mask,
                          double hu_min, sp_error *err)
{
    const float *hu = sp_volume_f32(ct);
    uint8_t *m = sp_volume_u8(mask);
    size_t nx = ct->dim[0], ny = ct->dim[1], nz = ct->dim[2];
    uint8_t *drop = calloc(nx * ny * nz, 1);
    if (!drop)
        return sp_error_set(err, SP_NOMEM, "segment-bone: out of memory");
    for (size_t k = 1; k + 1 < nz; k++)
        for (size_t j = 1; j + 1 < ny; j++)
            for (size_t i = 1; i + 1 < nx; i++) {
                size_t q = i + nx * (j + ny * k);
                if (!m[q] || hu[q] >= hu_min)
                    continue;
                if (!m[q - 1] || !m[q + 1] || !m[q - nx] || !m[q + nx] ||
                    !m[q - nx * ny] || !m[q + nx * ny])
                    drop[q] = 1;
            }
    for (size_t q = 0; q < nx * ny * nz; q++)
        if (drop[q])
            m[q] = 0;
    free(drop);
    return SP_OK;
}

sp_status bone_mask(const sp_volume *ct, const bone_params *p,
                    sp_volume *mask, sp_error *err)
{
    const float *hu = sp_volume_f32(ct);
    if (!hu)
        return sp_error_set(err, SP_UNSUPPORTED,
                            "segment-bone: the image must be float (HU)");
    if (p->grow_hu > p->seed_hu)
        return sp_error_set(err, SP_CONFIG,
                            "segment-bone: grow_hu (%g) above seed_hu (%g)",
                            p->grow_hu, p->seed_hu);
    sp_status st = sp_volume_alloc_like(mask, ct, SP_VOXEL_U8, err);
    if (st != SP_OK)
        return st;
    size_t n = sp_volume_count(ct);
    uint8_t *m = sp_volume_u8(mask);
    /* candidates on a lightly smoothed copy (thin-slice noise would
       otherwise make speckle rings), then keep the seeded components */
    sp_volume sm = {0};
    if ((st = analysis_gaussian(ct, p->smooth_mm, &sm, err)) != SP_OK) {
        sp_volume_free(mask);
        return st;
    }
    hu = sp_volume_f32(&sm);
    for (size_t q = 0; q < n; q++)
        m[q] = hu[q] >= p->grow_hu;
    uint32_t *lab = malloc(n * sizeof *lab);
    size_t *sizes = NULL;
    long nc = lab ? analysis_components(m, ct->dim, 1, lab, &sizes) : -1;
    uint8_t *seeded = nc >= 0 ? calloc((size_t)nc + 1, 1) : NULL;
    if (!seeded) {
        free(lab), free(sizes);
        sp_volume_free(&sm);
        sp_volume_free(mask);
        return sp_error_set(err, SP_NOMEM, "segment-bone: out of memory");
    }
    for (size_t q = 0; q < n; q++)
        if (lab[q] && hu[q] >= p->seed_hu)
            seeded[lab[q]] = 1;
    for (size_t q = 0; q < n; q++)
        m[q] = lab[q] && seeded[lab[q]];
    free(lab), free(sizes), free(seeded);
    sp_volume_free(&sm);
    st = fill_dense_holes(ct, mask, p, err);
    if (st == SP_OK && p->rim_hu > 0 &&
        fmax(ct->spacing[0], fmax(ct->spacing[1], ct->spacing[2])) <=
            p->rim_max_spacing_mm)
        st = peel_rim(ct, mask, p->rim_hu, err);
    if (st != SP_OK)
        sp_volume_free(mask);
    return st;
}
