/* Assign column voxels to vertebrae by their nearest centre-line point,
 * and mark vertebral bodies and discs inside the body cross-section; the
 * arches then go to the vertebra they are joined to along the bone
 * (vert_arch_flood) and the marrow of pedicles and processes is filled
 * (vert_fill_marrow). */
#include "vertebrae_kernels.h"

#include "analysis.h"

#include <math.h>
#include <stdlib.h>

#define SEARCH_MM 60.0  /* curve samples considered per voxel, along z */
#define REACH_MM 45.0   /* disc voxels are looked for this close in-plane */
#define ARCH_START_MM 15.0 /* behind the body: canal, then the arch */
#define ARCH_SLOPE 0.3     /* mm of level shift per mm further back */
#define FILL_MIN_HU -60.0 /* fatty marrow still counts as body; epidural
                             fat (about -100 HU) in the canal does not */
#define CANAL_FILL_HU 0.0 /* column voxels darker than water outside the
                             body are CSF or epidural fat that segment-bone
                             filled where bone encloses the canal in a
                             slice (the lumbosacral canal, over 450 mm2 at
                             3 mm: the body marrow rule), not bone */
#define BONE_SMOOTH_MM 0.75 /* segment-bone's threshold on its smoothing: */
#define BONE_GROW_HU 140.0  /* column voxels below it were filled in, not
                               grown as bone */
#define END_MARGIN_MM 6.0  /* bone this far beyond the curve's ends is not
                              given to the end vertebrae */
#define BODY_MARGIN 1.15 /* ellipse radius (squared) with partial volume */

/* The end pieces take what lies beyond them, unless their extent was
 * set short of the curve's end (the S1 label: the sacrum below it is not
 * S1). */
static int vertebra_at(const spine_model *m, double s)
{
    double len = (double)(m->curve.n - 1) * m->curve.step_mm;
    for (size_t v = 0; v < m->n_vert; v++)
        if (s < m->vert[v].s_hi ||
            (v + 1 == m->n_vert && m->vert[v].s_hi >= len))
            return s >= m->vert[v].s_lo || (v == 0 && m->vert[0].s_lo <= 0)
                       ? (int)v
                       : -1;
    return -1;
}

/* Filled column voxels outside the bodies (`filled`) that do not touch
 * bone in their axial plane leave the map after the arch flood (they
 * still carried the fronts): the canal, the foramina and the space
 * between arches that segment-bone filled where bone enclosed them in a
 * slice, mostly beyond the canal segment-canal traces. The marrow of
 * pedicles and processes that this takes out comes back in
 * vert_fill_marrow when its cortex encloses it. */
static void drop_filled(const uint8_t *filled, const uint8_t *spine,
                        const float *smooth, const size_t dim[3],
                        uint16_t *out)
{
    size_t nx = dim[0], ny = dim[1];
    for (size_t k = 0; k < dim[2]; k++)
        for (size_t j = 1; j + 1 < ny; j++)
            for (size_t i = 1; i + 1 < nx; i++) {
                size_t q = i + nx * (j + ny * k);
                if (!filled[q] || out[q] >= 100)
                    continue;
                int touches = 0;
                for (size_t b = j - 1; b <= j + 1 && !touches; b++)
                    for (size_t a = i - 1; a <= i + 1; a++) {
                        size_t r = a + nx * (b + ny * k);
                        if (spine[r] && smooth[r] >= BONE_GROW_HU) {
                            touches = 1;
                            break;
                        }
                    }
                if (!touches)
                    out[q] = 0;
            }
}

/* Each vertebra's voxels and centroid from the finished map. */
static void count_voxels(const sp_volume *labels, spine_model *model)
{
    int of[100]; /* vertebra index of each label value (vertebrae < 100) */
    for (int l = 0; l < 100; l++)
        of[l] = -1;
    for (size_t v = 0; v < model->n_vert; v++) {
        spine_vertebra *vv = &model->vert[v];
        int l = vv->label ? vv->label : (int)v + 1;
        if (l > 0 && l < 100)
            of[l] = (int)v;
        vv->voxels = 0;
        for (int d = 0; d < 3; d++)
            vv->centroid[d] = 0;
    }
    const uint16_t *out = sp_volume_u16(labels);
    for (size_t k = 0; k < labels->dim[2]; k++)
        for (size_t j = 0; j < labels->dim[1]; j++)
            for (size_t i = 0; i < labels->dim[0]; i++) {
                uint16_t l = out[sp_volume_index(labels, i, j, k)];
                if (l == 0 || l >= 100 || of[l] < 0)
                    continue;
                spine_vertebra *vv = &model->vert[of[l]];
                vv->voxels++;
                vv->centroid[0] += (double)i * labels->spacing[0];
                vv->centroid[1] += (double)j * labels->spacing[1];
                vv->centroid[2] += (double)k * labels->spacing[2];
            }
    for (size_t v = 0; v < model->n_vert; v++)
        if (model->vert[v].voxels)
            for (int d = 0; d < 3; d++)
                model->vert[v].centroid[d] /= (double)model->vert[v].voxels;
}

sp_status vert_label_map(const sp_volume *ct, const sp_volume *spine,
                         spine_model *model, sp_volume *labels,
                         sp_volume *body, sp_error *err)
{
    const spine_curve *c = &model->curve;
    sp_status st = sp_volume_alloc_like(labels, spine, SP_VOXEL_U16, err);
    if (st != SP_OK)
        return st;
    if (body && (st = sp_volume_alloc_like(body, spine, SP_VOXEL_U16, err)) !=
                    SP_OK) {
        sp_volume_free(labels);
        return st;
    }
    uint8_t *zone = calloc(sp_volume_count(spine), 1);
    uint8_t *filled = calloc(sp_volume_count(spine), 1);
    float *arc = malloc(sp_volume_count(spine) * sizeof *arc);
    sp_volume smooth = {0};
    st = zone && filled && arc
             ? analysis_gaussian(ct, BONE_SMOOTH_MM, &smooth, err)
             : sp_error_set(err, SP_NOMEM, "segment-vertebrae: out of memory");
    if (st != SP_OK) {
        free(zone), free(filled), free(arc);
        sp_volume_free(labels);
        if (body)
            sp_volume_free(body);
        return st;
    }
    const uint8_t *m = sp_volume_u8(spine);
    const float *hu = sp_volume_f32(ct), *shu = sp_volume_f32(&smooth);
    double len_end = (double)(c->n - 1) * c->step_mm;
    uint16_t *out = sp_volume_u16(labels), *bo = body ? sp_volume_u16(body)
                                                      : NULL;
    double sp[3] = {spine->spacing[0], spine->spacing[1], spine->spacing[2]};
    size_t q_lo = 0;
    for (size_t k = 0; k < spine->dim[2]; k++) {
        double z = (double)k * sp[2];
        /* curve samples within SEARCH_MM of this slice (z is monotonic
           enough along the column for a moving window) */
        while (q_lo < c->n && c->p[q_lo][2] < z - SEARCH_MM)
            q_lo++;
        size_t q_hi = q_lo;
        while (q_hi < c->n && c->p[q_hi][2] <= z + SEARCH_MM)
            q_hi++;
        if (q_hi == q_lo)
            continue;
        /* in-plane position of the curve at this z, for the disc reach */
        size_t qz = q_lo;
        for (size_t q = q_lo; q < q_hi; q++)
            if (fabs(c->p[q][2] - z) < fabs(c->p[qz][2] - z))
                qz = q;
        for (size_t j = 0; j < spine->dim[1]; j++)
            for (size_t i = 0; i < spine->dim[0]; i++) {
                size_t idx = sp_volume_index(spine, i, j, k);
                double g[3] = {(double)i * sp[0], (double)j * sp[1], z};
                if (!m[idx] && hypot(g[0] - c->p[qz][0],
                                     g[1] - c->p[qz][1]) > REACH_MM)
                    continue;
                double du, dv;
                size_t best = spine_project(c, q_lo, q_hi, g, &du, &dv);
                double s = (double)best * c->step_mm;
                /* beyond an end: distance along the end tangent */
                if (best == 0 || best + 1 == c->n) {
                    double ds = 0;
                    for (int d = 0; d < 3; d++)
                        ds += (g[d] - c->p[best][d]) * c->t[best][d];
                    s += ds;
                }
                /* the arch slopes caudally behind its body (spinous and
                   inferior articular processes reach the level below):
                   behind the canal, look for the owner further up (the
                   first guess; vert_arch_flood decides, and keeps it
                   where no front reaches) */
                int v0 = vertebra_at(model, s < 0 ? 0 : s);
                double behind = v0 >= 0 ? -dv - model->vert[v0].body_depth_mm -
                                              ARCH_START_MM
                                        : 0;
                double s_own = behind > 0
                                   ? s + model->cranial_sign * ARCH_SLOPE * behind
                                   : s;
                int v = vertebra_at(model, s_own < 0 ? 0 : s_own);
                if (v < 0)
                    continue;
                spine_vertebra *vv = &model->vert[v];
                double e = pow(du / vv->lateral_mm, 2) +
                           pow(dv / vv->body_depth_mm, 2);
                int in_body = s >= vv->body_lo && s <= vv->body_hi;
                /* the body cross-section between its endplates is body
                   even where marrow is too dark for the bone mask */
                int is_body = e <= 1.0 && in_body && hu[idx] > FILL_MIN_HU;
                /* an end body that the field of view cuts runs on to the
                   image border (its bone; soft tissue there is not
                   bounded by an endplate) */
                if ((v == 0 && !vv->lo_is_disc && c->cut_lo &&
                     s < vv->body_lo) ||
                    (v + 1 == (int)model->n_vert && !vv->hi_is_disc &&
                     c->cut_hi && s > vv->body_hi))
                    in_body = m[idx] != 0;
                if (vv->lateral_limit_mm > 0 &&
                    fabs(du) > vv->lateral_limit_mm)
                    continue;
                if ((s >= len_end + END_MARGIN_MM && !c->cut_hi) ||
                    (s <= -END_MARGIN_MM && !c->cut_lo))
                    continue;
                if (m[idx] && hu[idx] < CANAL_FILL_HU &&
                    !(e <= BODY_MARGIN && in_body))
                    continue;
                if (m[idx] || is_body) {
                    out[idx] = vv->label ? (uint16_t)vv->label
                                         : (uint16_t)(v + 1);
                    /* body and pedicles (in front of the canal's back
                       wall, between the endplates) seed the arch flood.
                       A vertebra whose cranial end (pedicles) the image
                       cuts off has its arch seeded where the arch below
                       cannot reach */
                    int cut_top = model->cranial_sign >= 0 ? !vv->hi_is_disc
                                                           : !vv->lo_is_disc;
                    int below = v - (model->cranial_sign >= 0 ? 1 : -1);
                    int pedicle = in_body && -dv <= vv->body_back_mm +
                                                         vv->canal_gap_mm;
                    arc[idx] = (float)s;
                    filled[idx] = shu[idx] < BONE_GROW_HU &&
                                  !(e <= BODY_MARGIN && in_body);
                    zone[idx] = is_body || (e <= BODY_MARGIN && in_body) ||
                                        pedicle ||
                                        (cut_top && !vert_arch_reaches(
                                                        model, below, s))
                                    ? 1
                                    : 2;
                    if (bo && (is_body || (e <= BODY_MARGIN && in_body)))
                        bo[idx] = 1;
                    continue;
                }
                if (e > BODY_MARGIN || in_body)
                    continue;
                /* a disc: soft tissue in the body cross-section between
                   two endplates */
                int disc = s < vv->body_lo ? v - 1 : v;
                if (disc < 0 || disc + 1 >= (int)model->n_vert)
                    continue;
                if (bo)
                    bo[idx] = 2;
                /* disc below the upper vertebra, once levels are named */
                int upper = model->cranial_sign >= 0 ? disc + 1 : disc;
                if (model->vert[upper].label)
                    out[idx] = (uint16_t)(100 + model->vert[upper].label);
            }
    }
    st = vert_arch_flood(zone, arc, model, labels, err);
    if (st == SP_OK)
        drop_filled(filled, m, shu, spine->dim, out);
    if (st == SP_OK)
        st = vert_fill_marrow(labels, model, err);
    free(zone), free(filled), free(arc);
    sp_volume_free(&smooth);
    if (st != SP_OK) {
        sp_volume_free(labels);
        if (body)
            sp_volume_free(body);
        return st;
    }
    count_voxels(labels, model);
    return SP_OK;
}
