/* 3D connected components by union-find over a raster scan: each voxel is
 * joined with its already-visited neighbours, then roots are renumbered. */
#include "analysis.h"

#include <stdlib.h>

static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

long analysis_components(const uint8_t *mask, const size_t dim[3],
                         int conn26, uint32_t *labels, size_t **sizes)
{
    size_t nx = dim[0], ny = dim[1], nz = dim[2], n = nx * ny * nz;
    /* provisional labels: one per voxel at worst, index 0 unused */
    uint32_t cap = 1024, next = 1;
    uint32_t *parent = malloc(cap * sizeof *parent);
    if (!parent)
        return -1;
    parent[0] = 0;
    for (size_t k = 0; k < nz; k++)
        for (size_t j = 0; j < ny; j++)
            for (size_t i = 0; i < nx; i++) {
                size_t p = i + nx * (j + ny * k);
                labels[p] = 0;
                if (!mask[p])
                    continue;
                uint32_t cur = 0;
                /* previously visited neighbours: dk in {-1, 0} */
                for (int dk = -1; dk <= 0; dk++)
                    for (int dj = -1; dj <= 1; dj++)
                        for (int di = -1; di <= 1; di++) {
                            if (dk == 0 && (dj > 0 || (dj == 0 && di >= 0)))
                                continue;
                            if (!conn26 && abs(di) + abs(dj) + abs(dk) != 1)
                                continue;
                            long ii = (long)i + di, jj = (long)j + dj,
                                 kk = (long)k + dk;
                            if (ii < 0 || jj < 0 || kk < 0 ||
                                ii >= (long)nx || jj >= (long)ny)
                                continue;
                            uint32_t l = labels[(size_t)ii +
                                                nx * ((size_t)jj +
                                                      ny * (size_t)kk)];
                            if (!l)
                                continue;
                            if (!cur)
                                cur = l;
                            else if (l != cur)
                                uf_union(parent, cur, l);
                        }
                if (!cur) {
                    if (next == cap) {
                        uint32_t *np = realloc(parent,
                                               2 * (size_t)cap * sizeof *np);
                        if (!np) {
                            free(parent);
                            return -1;
                        }
                        parent = np;
                        cap *= 2;
                    }
                    parent[next] = next;
                    cur = next++;
                }
                labels[p] = cur;
            }
    /* renumber roots 1..m in order of first appearance */
    uint32_t *final = calloc(next, sizeof *final);
    if (!final) {
        free(parent);
        return -1;
    }
    uint32_t m = 0;
    for (uint32_t l = 1; l < next; l++) {
        uint32_t r = uf_find(parent, l);
        if (!final[r])
            final[r] = ++m;
        final[l] = final[r];
    }
    size_t *sz = calloc((size_t)m + 1, sizeof *sz);
    if (!sz) {
        free(parent);
        free(final);
        return -1;
    }
    for (size_t p = 0; p < n; p++)
        if (labels[p]) {
            labels[p] = final[labels[p]];
            sz[labels[p]]++;
        }
    free(parent);
    free(final);
    *sizes = sz;
    return (long)m;
}
