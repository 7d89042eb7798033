/* Posterior elements to their own vertebra: the nearest body and pedicles
 * along the bone (a geodesic distance through the column mask).
 *
 * The arch of a vertebra is joined to its body by the pedicles; it touches
 * the arch of the next vertebra only at the facet joints and where a
 * spinous process lies against the lamina below, often bridged in the
 * mask by partial volume. Along the bone, most of an arch is closer to
 * its own pedicles than to the next vertebra's (through the other arch
 * and a joint), wherever along the curve its processes reach; a fixed
 * slope behind the canal cannot follow that (it differs between levels
 * and patients). The fronts are kept to the anatomical reach of an arch
 * (arch_range), so a front that crossed a bridged joint cannot run on
 * through the whole arch of the next level.
 *
 * Tried and not kept: a brightest-path watershed (the laminae of
 * neighbouring arches touch through brighter voxels than the cancellous
 * pedicles of older patients: one front took both neighbours' arches),
 * and steps through dark voxels costing up to 3 times more (no better
 * than plain distance on either series). */
#include "vertebrae_kernels.h"

#include <math.h>
#include <stdlib.h>

#define REACH_DOWN 0.5 /* of a level: inferior articular and spinous
                          processes below the caudal disc */
#define REACH_UP 0.25  /* superior articular processes above the cranial
                          disc */

typedef struct node {
    float d;
    size_t q;
} node;

typedef struct heap {
    node *a;
    size_t n, cap;
} heap;

static int heap_push(heap *h, float d, size_t q)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 1024;
        node *t = realloc(h->a, cap * sizeof *t);
        if (!t)
            return -1;
        h->a = t, h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0 && h->a[(i - 1) / 2].d > d) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = (node){d, q};
    return 0;
}

static node heap_pop(heap *h)
{
    node top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->a[c + 1].d < h->a[c].d)
            c++;
        if (h->a[c].d >= last.d)
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n)
        h->a[i] = last;
    return top;
}

/* Arc range [lo, hi] a vertebra's arch may reach: its processes hang
 * down (caudally) up to REACH_DOWN of a level below its caudal disc, its
 * superior articular processes rise REACH_UP of a level above its
 * cranial disc. */
static void arch_range(const spine_model *m, int v, double *lo, double *hi)
{
    double lv = m->typical_level_mm;
    double down = REACH_DOWN * lv, up = REACH_UP * lv;
    *lo = m->vert[v].s_lo - (m->cranial_sign >= 0 ? down : up);
    *hi = m->vert[v].s_hi + (m->cranial_sign >= 0 ? up : down);
}

int vert_arch_reaches(const spine_model *model, int v, double s)
{
    if (v < 0 || v >= (int)model->n_vert)
        return 0;
    double lo, hi;
    arch_range(model, v, &lo, &hi);
    return s >= lo && s <= hi;
}

sp_status vert_arch_flood(const uint8_t *zone, const float *arc,
                          const spine_model *model, sp_volume *labels,
                          sp_error *err)
{
    double rlo[100], rhi[100]; /* by label value */
    for (int l = 0; l < 100; l++)
        rlo[l] = -INFINITY, rhi[l] = INFINITY;
    for (size_t v = 0; v < model->n_vert; v++) {
        int l = model->vert[v].label ? model->vert[v].label : (int)v + 1;
        if (l > 0 && l < 100)
            arch_range(model, (int)v, &rlo[l], &rhi[l]);
    }
    size_t nx = labels->dim[0], ny = labels->dim[1];
    size_t nz = labels->dim[2];
    size_t n = nx * ny * nz;
    uint16_t *lab = sp_volume_u16(labels);
    float *dist = malloc(n * sizeof *dist);
    uint16_t *fall = malloc(n * sizeof *fall);
    heap hp = {0};
    sp_status st = SP_OK;
    if (!dist || !fall) {
        st = sp_error_set(err, SP_NOMEM, "segment-vertebrae: out of memory");
        goto done;
    }
    /* arch voxels start unlabelled; their rule-based label is the
       fallback where no front reaches them */
    for (size_t q = 0; q < n; q++) {
        dist[q] = INFINITY;
        fall[q] = 0;
        if (zone[q] == 2) {
            fall[q] = lab[q];
            lab[q] = 0;
        } else if (zone[q] == 1 && lab[q]) {
            dist[q] = 0;
            if (heap_push(&hp, 0, q) < 0) {
                st = sp_error_set(err, SP_NOMEM,
                                  "segment-vertebrae: out of memory");
                goto done;
            }
        }
    }
    double step[27];
    for (int t = 0; t < 27; t++) {
        double di = (t % 3 - 1) * labels->spacing[0];
        double dj = ((t / 3) % 3 - 1) * labels->spacing[1];
        double dk = (t / 9 - 1) * labels->spacing[2];
        step[t] = sqrt(di * di + dj * dj + dk * dk);
    }
    while (hp.n) {
        node top = heap_pop(&hp);
        size_t q = top.q;
        if (top.d > dist[q])
            continue;
        long i = (long)(q % nx), j = (long)((q / nx) % ny);
        long k = (long)(q / (nx * ny));
        for (int t = 0; t < 27; t++) {
            long a = i + t % 3 - 1, b = j + (t / 3) % 3 - 1, c = k + t / 9 - 1;
            if (t == 13 || a < 0 || a >= (long)nx || b < 0 ||
                b >= (long)ny || c < 0 || c >= (long)nz)
                continue;
            size_t r = (size_t)a + nx * ((size_t)b + ny * (size_t)c);
            if (zone[r] != 2 || lab[q] >= 100 || arc[r] < rlo[lab[q]] ||
                arc[r] > rhi[lab[q]])
                continue;
            float d = top.d + (float)step[t];
            if (d >= dist[r])
                continue;
            dist[r] = d;
            lab[r] = lab[q];
            if (heap_push(&hp, d, r) < 0) {
                st = sp_error_set(err, SP_NOMEM,
                                  "segment-vertebrae: out of memory");
                goto done;
            }
        }
    }
    for (size_t q = 0; q < n; q++)
        if (zone[q] == 2 && !lab[q])
            lab[q] = fall[q];
done:
    free(hp.a), free(dist), free(fall);
    return st;
}

