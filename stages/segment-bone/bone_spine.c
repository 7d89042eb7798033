/* Which bone is the spine: the component with most bone close to the
 * patient's mid-line over all slices; then ribs and iliac wings are cut
 * away lateral to the column. Assumes axial slices (checked). */
#include "bone_kernels.h"

#include <math.h>
#include <stdlib.h>

#include "analysis.h"

#define BAND_MM 25.0 /* half-width of the mid-line band that scores bone */
/* Separate pieces of the column (vertebrae not joined by bone, as in the
 * phantom or at wide discs): a piece joins when it has this share of the
 * best piece's mid-line bone and its centre lies this close left-right
 * and front-back to the centre of the nearest (head-feet) joined piece. */
#define JOIN_SHARE 0.15
#define JOIN_AP_MM 30.0

/* Mean i of body tissue (HU > -300): the patient's mid-line. */
static double patient_midline(const sp_volume *ct)
{
    const float *hu = sp_volume_f32(ct);
    double sum = 0, cnt = 0;
    size_t n = sp_volume_count(ct), nx = ct->dim[0];
    for (size_t q = 0; q < n; q++)
        if (hu[q] > -300) {
            sum += (double)(q % nx);
            cnt++;
        }
    return cnt > 0 ? sum / cnt : (double)nx / 2;
}

/* Score each component by its voxels inside the band around mid(k). */
static long best_component(const uint32_t *lab, long nc, const size_t *dim,
                           const double *mid, double band_vox)
{
    double *score = calloc((size_t)nc + 1, sizeof *score);
    if (!score)
        return -1;
    size_t nx = dim[0], nxy = dim[0] * dim[1];
    for (size_t k = 0; k < dim[2]; k++)
        for (size_t q = 0; q < nxy; q++) {
            uint32_t l = lab[k * nxy + q];
            if (l && fabs((double)(q % nx) - mid[k]) <= band_vox)
                score[l] += 1;
        }
    long best = 0;
    for (long c = 1; c <= nc; c++)
        if (score[c] > score[best])
            best = c;
    free(score);
    return best;
}

typedef struct piece {
    double score, n, x, y, z; /* band voxels; voxels; mean i, j, k */
    int keep;
} piece;

/* Mark in keep[] the best component and the pieces stacked with it
 * (JOIN_*): vertebrae one above the other, not the table (far behind),
 * ribs (far lateral) or small calcifications. */
static int column_pieces(const uint32_t *lab, long nc, const sp_volume *m,
                         const double *mid, double band_vox, long best,
                         uint8_t *keep)
{
    piece *p = calloc((size_t)nc + 1, sizeof *p);
    if (!p)
        return -1;
    size_t nx = m->dim[0], nxy = m->dim[0] * m->dim[1];
    for (size_t k = 0; k < m->dim[2]; k++)
        for (size_t q = 0; q < nxy; q++) {
            uint32_t l = lab[k * nxy + q];
            if (!l)
                continue;
            piece *c = &p[l];
            c->n += 1;
            c->x += (double)(q % nx), c->y += (double)(q / nx);
            c->z += (double)k;
            if (fabs((double)(q % nx) - mid[k]) <= band_vox)
                c->score += 1;
        }
    for (long c = 1; c <= nc; c++)
        if (p[c].n > 0)
            p[c].x /= p[c].n, p[c].y /= p[c].n, p[c].z /= p[c].n;
    p[best].keep = 1;
    for (int grown = 1; grown;) {
        grown = 0;
        for (long c = 1; c <= nc; c++) {
            if (p[c].keep || p[c].score < JOIN_SHARE * p[best].score)
                continue;
            long near = best;
            for (long o = 1; o <= nc; o++)
                if (p[o].keep && fabs(p[o].z - p[c].z) < fabs(p[near].z - p[c].z))
                    near = o;
            double dx = (p[c].x - p[near].x) * m->spacing[0];
            double dy = (p[c].y - p[near].y) * m->spacing[1];
            if (fabs(dx) <= BAND_MM && fabs(dy) <= JOIN_AP_MM)
                p[c].keep = 1, grown = 1;
        }
    }
    for (long c = 0; c <= nc; c++)
        keep[c] = c > 0 && p[c].keep;
    free(p);
    return 0;
}

sp_status bone_select_spine(const sp_volume *ct, sp_volume *mask,
                            double half_width_mm, double min_extent_mm,
                            bone_spine_info *info, sp_error *err)
{
    if (sp_volume_orientation(ct) != SP_ORIENT_AXIAL)
        return sp_error_set(err, SP_NOTANALYSABLE,
                            "not analysable: the spine analysis needs axial "
                            "CT slices (this series is %s)",
                            sp_orientation_name(sp_volume_orientation(ct)));
    size_t n = sp_volume_count(mask), nx = mask->dim[0], nz = mask->dim[2];
    size_t nxy = nx * mask->dim[1];
    uint8_t *m = sp_volume_u8(mask);
    uint32_t *lab = malloc(n * sizeof *lab);
    double *mid = malloc(nz * sizeof *mid);
    double *sum = calloc(nz, sizeof *sum), *cnt = calloc(nz, sizeof *cnt);
    size_t *sizes = NULL;
    sp_status st = SP_OK;
    if (!lab || !mid || !sum || !cnt) {
        st = sp_error_set(err, SP_NOMEM, "segment-bone: out of memory");
        goto done;
    }
    double sx = mask->spacing[0], band = BAND_MM / sx;
    double pm = patient_midline(ct);
    for (size_t k = 0; k < nz; k++)
        mid[k] = pm;
    for (int pass = 0; pass < 2; pass++) {
        free(sizes);
        sizes = NULL;
        long nc = analysis_components(m, mask->dim, 1, lab, &sizes);
        long best = nc > 0 ? best_component(lab, nc, mask->dim, mid, band)
                           : nc;
        if (best < 0) {
            st = sp_error_set(err, SP_NOMEM, "segment-bone: out of memory");
            goto done;
        }
        if (pass == 0 && info)
            info->n_components = nc;
        uint8_t *keep = calloc((size_t)(nc > 0 ? nc : 0) + 1, 1);
        if (!keep || (best > 0 && column_pieces(lab, nc, mask, mid, band,
                                                best, keep) < 0)) {
            free(keep);
            st = sp_error_set(err, SP_NOMEM, "segment-bone: out of memory");
            goto done;
        }
        for (size_t q = 0; q < n; q++)
            m[q] = keep[lab[q]];
        free(keep);
        if (pass == 1)
            break;
        /* the column's own mid-line per slice, smoothed over 3 slices */
        for (size_t k = 0; k < nz; k++)
            for (size_t q = 0; q < nxy; q++)
                if (m[k * nxy + q] &&
                    fabs((double)(q % nx) - mid[k]) <= band) {
                    sum[k] += (double)(q % nx);
                    cnt[k] += 1;
                }
        for (size_t k = 0; k < nz; k++) {
            double s = 0, c = 0;
            for (size_t t = k > 0 ? k - 1 : 0; t <= k + 1 && t < nz; t++)
                s += sum[t], c += cnt[t];
            if (c > 0)
                mid[k] = s / c;
        }
        double hw = half_width_mm / sx;
        for (size_t k = 0; k < nz; k++)
            for (size_t q = 0; q < nxy; q++)
                if (fabs((double)(q % nx) - mid[k]) > hw)
                    m[k * nxy + q] = 0;
    }
    /* extent: slices holding column bone in the band */
    size_t slices = 0, kept = 0;
    double xs = 0;
    for (size_t k = 0; k < nz; k++) {
        size_t c = 0;
        for (size_t q = 0; q < nxy; q++)
            c += m[k * nxy + q] && fabs((double)(q % nx) - mid[k]) <= band;
        slices += c > 0;
        kept += c;
        xs += mid[k];
    }
    double extent = (double)slices * mask->spacing[2];
    if (info) {
        info->spine_voxels = 0;
        for (size_t q = 0; q < n; q++)
            info->spine_voxels += m[q];
        info->z_extent_mm = extent;
        double ijk[3] = {xs / (double)nz, 0, 0}, lps[3];
        sp_volume_voxel_to_patient(mask, ijk, lps);
        info->midline_x_mm = lps[0];
    }
    if (kept == 0)
        st = sp_error_set(err, SP_NOTANALYSABLE,
                          "not analysable: no bone near the mid-line");
    else if (extent < min_extent_mm)
        st = sp_error_set(err, SP_NOTANALYSABLE,
                          "not analysable: the bone column spans %.0f mm "
                          "cranio-caudally, less than the %.0f mm needed",
                          extent, min_extent_mm);
done:
    free(lab), free(mid), free(sum), free(cnt), free(sizes);
    return st;
}
