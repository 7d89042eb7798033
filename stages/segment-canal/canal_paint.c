/* The traced canal into the label map. */
#include "canal_kernels.h"

#include <math.h>

#include "spinepipe/labels.h"

#define REACH_MM 40.0

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
        for (size_t j = 0; j < labels->dim[1]; j++)
            for (size_t i = 0; i < labels->dim[0]; i++) {
                double g[3] = {(double)i * sp[0], (double)j * sp[1], z};
                if (hypot(g[0] - c->p[qz][0], g[1] - c->p[qz][1]) > REACH_MM)
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
