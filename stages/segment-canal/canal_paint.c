/* The traced canal into the label map. */
#include "canal_kernels.h"

#include <math.h>

#include "spinepipe/labels.h"

#define REACH_MM 40.0

size_t canal_paint(const canal_result *r, const spine_curve *c,
                   sp_volume *labels)
{
    uint16_t *out = sp_volume_u16(labels);
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
                if (!canal_contains(r, q, u, v))
                    continue;
                out[sp_volume_index(labels, i, j, k)] = SP_LABEL_CANAL;
                count++;
            }
    }
    return count;
}
