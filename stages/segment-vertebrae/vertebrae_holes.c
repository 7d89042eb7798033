/* Marrow holes of a vertebra's label: the dark cancellous bone of the
 * pedicles and processes of older patients (fatty marrow, -50 to 60 HU),
 * inside a cortex the bone threshold keeps, is left out of the bone mask
 * unless a slice encloses it and it is bright or large (segment-bone's
 * rules are for the canal's sake). A small region enclosed by one
 * vertebra's own label in a plane is marrow: the spinal canal (the one
 * larger region a vertebra encloses) is painted over afterwards by
 * segment-canal, and the mask the canal is traced in is not changed. */
#include "vertebrae_kernels.h"

#include <stdlib.h>

#define HOLE_MAX_MM2 80.0 /* the marrow of a pedicle or process, not the
                             canal (over 100 mm2 at the bony ring) */

typedef struct plane {
    int a0, a1, a2; /* in-plane axes, normal axis */
    size_t w, h;    /* the label's bounding box in the plane ... */
    size_t x0, y0;  /* ... from here */
    size_t stride[3];
} plane;

static size_t at(const plane *p, size_t c, size_t x, size_t y)
{
    return c * p->stride[p->a2] + (p->x0 + x) * p->stride[p->a0] +
           (p->y0 + y) * p->stride[p->a1];
}

/* In plane c: unlabelled 4-connected regions enclosed by label l alone
 * (not touching the border of l's bounding box or another label), at
 * most max_px pixels, become l. */
static void fill_plane(uint16_t *lab, const plane *p, size_t c, uint16_t l,
                       size_t max_px, uint8_t *seen, size_t *queue)
{
    size_t w = p->w, h = p->h;
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++)
            seen[x + w * y] = lab[at(p, c, x, y)] == l;
    for (size_t y0 = 0; y0 < h; y0++)
        for (size_t x0 = 0; x0 < w; x0++) {
            if (seen[x0 + w * y0])
                continue;
            size_t head = 0, tail = 0;
            int open = 0;
            queue[tail++] = x0 + w * y0;
            seen[x0 + w * y0] = 1;
            while (head < tail) {
                size_t q = queue[head++], x = q % w, y = q / w;
                open |= x == 0 || y == 0 || x + 1 == w || y + 1 == h ||
                        lab[at(p, c, x, y)] != 0;
                size_t nb[4] = {x > 0 ? q - 1 : q, x + 1 < w ? q + 1 : q,
                                y > 0 ? q - w : q, y + 1 < h ? q + w : q};
                for (int t = 0; t < 4; t++)
                    if (!seen[nb[t]]) {
                        seen[nb[t]] = 1;
                        queue[tail++] = nb[t];
                    }
            }
            if (!open && tail <= max_px)
                for (size_t t = 0; t < tail; t++)
                    lab[at(p, c, queue[t] % w, queue[t] / w)] = l;
        }
}

/* Bounding box of label l: lo[d], hi[d] (inclusive); 0 when absent. */
static int label_box(const sp_volume *labels, uint16_t l, size_t lo[3],
                     size_t hi[3])
{
    const uint16_t *lab = sp_volume_u16(labels);
    int found = 0;
    for (size_t k = 0; k < labels->dim[2]; k++)
        for (size_t j = 0; j < labels->dim[1]; j++)
            for (size_t i = 0; i < labels->dim[0]; i++) {
                if (lab[sp_volume_index(labels, i, j, k)] != l)
                    continue;
                size_t c[3] = {i, j, k};
                for (int d = 0; d < 3; d++) {
                    if (!found || c[d] < lo[d])
                        lo[d] = c[d];
                    if (!found || c[d] > hi[d])
                        hi[d] = c[d];
                }
                found = 1;
            }
    return found;
}

sp_status vert_fill_marrow(sp_volume *labels, const spine_model *model,
                           sp_error *err)
{
    const size_t *dim = labels->dim;
    uint16_t *lab = sp_volume_u16(labels);
    size_t big = dim[0] * dim[1];
    if (dim[1] * dim[2] > big)
        big = dim[1] * dim[2];
    if (dim[0] * dim[2] > big)
        big = dim[0] * dim[2];
    uint8_t *seen = malloc(big);
    size_t *queue = malloc(big * sizeof *queue);
    if (!seen || !queue) {
        free(seen), free(queue);
        return sp_error_set(err, SP_NOMEM, "segment-vertebrae: out of memory");
    }
    /* the three orthogonal planes: processes run obliquely, a hole open
       in one plane is closed in another */
    static const int axes[3][3] = {{0, 1, 2}, {1, 2, 0}, {0, 2, 1}};
    for (size_t v = 0; v < model->n_vert; v++) {
        int l = model->vert[v].label ? model->vert[v].label : (int)v + 1;
        size_t lo[3], hi[3];
        if (!label_box(labels, (uint16_t)l, lo, hi))
            continue;
        for (int a = 0; a < 3; a++) {
            int a0 = axes[a][0], a1 = axes[a][1], a2 = axes[a][2];
            plane p = {a0, a1, a2, hi[a0] - lo[a0] + 1, hi[a1] - lo[a1] + 1,
                       lo[a0], lo[a1], {1, dim[0], dim[0] * dim[1]}};
            double px_mm2 = labels->spacing[a0] * labels->spacing[a1];
            size_t max_px = (size_t)(HOLE_MAX_MM2 / px_mm2);
            for (size_t c = lo[a2]; c <= hi[a2]; c++)
                fill_plane(lab, &p, c, (uint16_t)l, max_px, seen, queue);
        }
    }
    free(seen), free(queue);
    return SP_OK;
}
