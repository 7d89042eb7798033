/* The traced canal into the label map. */
#include "canal_kernels.h"

#include <math.h>

#include "spinepipe/labels.h"

#define REACH_MM 40.0
#define BOX_MARGIN_MM 6.0 /* the box is taken in one plane of the window;
                             a voxel's own plane may be tilted against it */

/* Anterior border of the canal on its mid-line in section q (the
 * posterior wall of the body there), NAN when no canal. */
static double canal_front(const canal_result *r, size_t q)
{
    if (q >= r->n || !r->sec[q].found)
        return NAN;
    const canal_section *cs = &r->sec[q];
    int x = (int)lround(cs->centre_u / CANAL_PIXEL_MM) + CANAL_GRID / 2;
    for (int y = 0; y < CANAL_GRID && x >= 0 && x < CANAL_GRID; y++)
        if (cs->mask[y * CANAL_GRID + x])
            return cs->grid_v0 - y * CANAL_PIXEL_MM;
    return NAN;
}

/* Lateral axis of plane q (t x a). */
/* Bounds (u_min, u_max, v_min, v_max) of the canal pixels of the sections
 * in [q_lo, q_hi), their positions taken into the frame of plane qz, with
 * BOX_MARGIN_MM to spare; 0 when none of them has a canal. */
static int canal_box(const canal_result *r, const spine_curve *c,
                     size_t q_lo, size_t q_hi, size_t qz, double box[4])
{
    double lz[3];
    spine_lateral(c, qz, lz);
    box[0] = box[2] = INFINITY;
    box[1] = box[3] = -INFINITY;
    for (size_t q = q_lo; q < q_hi && q < r->n; q++) {
        const canal_section *cs = &r->sec[q];
        if (!cs->found)
            continue;
        double l[3];
        spine_lateral(c, q, l);
        /* the four corners of the section's canal extent */
        double u0 = cs->centre_u - cs->width_mm, u1 = cs->centre_u + cs->width_mm;
        double v0 = cs->centre_v - cs->ap_mm, v1 = cs->centre_v + cs->ap_mm;
        for (int k = 0; k < 4; k++) {
            double u = k & 1 ? u1 : u0, v = k & 2 ? v1 : v0, d[3];
            for (int e = 0; e < 3; e++)
                d[e] = c->p[q][e] + u * l[e] + v * c->a[q][e] - c->p[qz][e];
            double uz = d[0] * lz[0] + d[1] * lz[1] + d[2] * lz[2];
            double vz = d[0] * c->a[qz][0] + d[1] * c->a[qz][1] +
                        d[2] * c->a[qz][2];
            box[0] = fmin(box[0], uz), box[1] = fmax(box[1], uz);
            box[2] = fmin(box[2], vz), box[3] = fmax(box[3], vz);
        }
    }
    if (!(box[0] <= box[1]))
        return 0;
    box[0] -= BOX_MARGIN_MM, box[1] += BOX_MARGIN_MM;
    box[2] -= BOX_MARGIN_MM, box[3] += BOX_MARGIN_MM;
    return 1;
}

static int in_box(const spine_curve *c, size_t qz, const double g[3],
                  const double box[4])
{
    double l[3], d[3];
    spine_lateral(c, qz, l);
    for (int e = 0; e < 3; e++)
        d[e] = g[e] - c->p[qz][e];
    double u = d[0] * l[0] + d[1] * l[1] + d[2] * l[2];
    double v = d[0] * c->a[qz][0] + d[1] * c->a[qz][1] + d[2] * c->a[qz][2];
    return u >= box[0] && u <= box[1] && v >= box[2] && v <= box[3];
}

size_t canal_paint(const canal_result *r, const spine_curve *c,
                   sp_volume *labels, sp_volume *body)
{
    uint16_t *out = sp_volume_u16(labels);
    uint16_t *bo = body ? sp_volume_u16(body) : NULL;
    size_t count = 0;
    if (!out || c->n == 0)
        return 0;
    const double *sp = labels->spacing;
    for (size_t k = 0; k < labels->dim[2]; k++) {
        double z = (double)k * sp[2];
        size_t q_lo, q_hi, qz;
        spine_window(c, z, REACH_MM, &q_lo, &q_hi);
        if (q_hi == q_lo)
            continue;
        qz = q_lo;
        for (size_t q = q_lo; q < q_hi; q++)
            if (fabs(c->p[q][2] - z) < fabs(c->p[qz][2] - z))
                qz = q;
        /* the canal's extent in the planes of this window, in the
           frame of qz: voxels far outside it need no projection */
        double box[4];
        if (!canal_box(r, c, q_lo, q_hi, qz, box))
            continue;
        for (size_t j = 0; j < labels->dim[1]; j++)
            for (size_t i = 0; i < labels->dim[0]; i++) {
                double g[3] = {(double)i * sp[0], (double)j * sp[1], z};
                if (hypot(g[0] - c->p[qz][0], g[1] - c->p[qz][1]) > REACH_MM)
                    continue;
                if (!bo && !in_box(c, qz, g, box))
                    continue;
                double u, v;
                size_t q = spine_project(c, q_lo, q_hi, g, &u, &v);
                size_t idx = sp_volume_index(labels, i, j, k);
                /* body and disc end at the canal's front */
                if (bo && bo[idx] && v < canal_front(r, q))
                    bo[idx] = 0;
                if (!canal_contains(r, q, u, v))
                    continue;
                out[idx] = SP_LABEL_CANAL;
                count++;
            }
    }
    return count;
}
