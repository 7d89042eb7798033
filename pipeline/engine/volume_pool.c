/* See volume_pool.h. */
#include "volume_pool.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "spinepipe/parallel.h"

/* Slack of a size class: glibc rounds a large (mmap'd) block up to pages;
 * one huge page more than asked still counts as the same shape. */
#define CLASS_SLACK ((size_t)2 << 20)
/* Buffers from here up are unmapped on all threads (release_pages). */
#define ZAP_MIN_BYTES ((size_t)32 << 20)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t at_exit_once = PTHREAD_ONCE_INIT;
static void *kept[SP_POOL_MAX_KEPT];
static size_t kept_cap[SP_POOL_MAX_KEPT];
static size_t n_kept, hits, misses;

/* Fresh memory for a caller that writes every voxel itself: aligned to a
 * huge page, so transparent huge pages cover all of it. calloc's blocks
 * start just past a page boundary, which leaves up to 2 MiB at each end on
 * 4 KiB pages: about 500 page faults, all on the thread that decodes the
 * last slices. Not zeroed (posix_memalign may reuse freed memory). The
 * loader may still put parts on 4 KiB pages when huge ones cost more
 * (engine/page_fill.h). */
static void *fresh_unzeroed(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, CLASS_SLACK, bytes) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    size_t whole = bytes & ~(CLASS_SLACK - 1);
    if (whole)
        madvise(p, whole, MADV_HUGEPAGE);
#endif
    return p;
}

static void register_drain(void)
{
    atexit(sp_volume_pool_drain);
}

/* A kept buffer for `bytes`, or NULL after releasing every kept buffer
 * (into `release`, freed by the caller outside the lock). */
static void *take(size_t bytes, void **release, size_t *n_release)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < n_kept; i++)
        if (kept_cap[i] >= bytes && kept_cap[i] - bytes <= CLASS_SLACK &&
            (best == SIZE_MAX || kept_cap[i] < kept_cap[best]))
            best = i;
    *n_release = 0;
    if (best == SIZE_MAX) {
        misses++;
        for (size_t i = 0; i < n_kept; i++)
            release[(*n_release)++] = kept[i];
        n_kept = 0;
        return NULL;
    }
    hits++;
    void *p = kept[best];
    n_kept--;
    kept[best] = kept[n_kept];
    kept_cap[best] = kept_cap[n_kept];
    return p;
}

sp_status sp_pool_volume_alloc(sp_volume *vol, sp_voxel_type type,
                               size_t nx, size_t ny, size_t nz, int zero,
                               sp_error *err)
{
    size_t elem = sp_voxel_size(type), bytes;
    if (elem == 0 || nx == 0 || ny == 0 || nz == 0 ||
        __builtin_mul_overflow(nx, ny, &bytes) ||
        __builtin_mul_overflow(bytes, nz, &bytes) ||
        __builtin_mul_overflow(bytes, elem, &bytes) ||
        bytes < SP_POOL_MIN_BYTES)
        /* sp_volume_alloc reports the bad ones and serves the small. */
        return sp_volume_alloc(vol, type, nx, ny, nz, err);
    void *release[SP_POOL_MAX_KEPT];
    size_t n_release;
    pthread_mutex_lock(&lock);
    void *p = take(bytes, release, &n_release);
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; i < n_release; i++)
        free(release[i]);
    if (!p && (zero || !(p = fresh_unzeroed(bytes))))
        return sp_volume_alloc(vol, type, nx, ny, nz, err);
    if (zero)
        memset(p, 0, bytes);
    /* The geometry and fields sp_volume_alloc sets, on the kept buffer. */
    sp_status st = sp_volume_alloc(vol, type, 1, 1, 1, err);
    if (st != SP_OK) {
        free(p);
        return st;
    }
    free(vol->data);
    vol->data = p;
    vol->dim[0] = nx;
    vol->dim[1] = ny;
    vol->dim[2] = nz;
    return SP_OK;
}

sp_status sp_pool_volume_alloc_like(sp_volume *vol, const sp_volume *src,
                                    sp_voxel_type type, sp_error *err)
{
    sp_status st = sp_pool_volume_alloc(vol, type, src->dim[0], src->dim[1],
                                        src->dim[2], 1, err);
    if (st == SP_OK)
        sp_volume_set_geometry(vol, src->vox2lps);
    return st;
}

void sp_pool_volume_free(sp_volume *vol)
{
    if (!vol)
        return;
    void *p = vol->data;
    size_t cap = p ? malloc_usable_size(p) : 0;
    int keep = 0;
    if (cap >= SP_POOL_MIN_BYTES) {
        pthread_mutex_lock(&lock);
        if (n_kept < SP_POOL_MAX_KEPT) {
            kept[n_kept] = p;
            kept_cap[n_kept] = cap;
            n_kept++;
            keep = 1;
        }
        pthread_mutex_unlock(&lock);
    }
    if (keep) {
        pthread_once(&at_exit_once, register_drain);
        vol->data = NULL;
    }
    sp_volume_free(vol);
}

void sp_volume_pool_stats_get(sp_volume_pool_stats *s)
{
    pthread_mutex_lock(&lock);
    s->hits = hits;
    s->misses = misses;
    s->kept = n_kept;
    s->kept_bytes = 0;
    for (size_t i = 0; i < n_kept; i++)
        s->kept_bytes += kept_cap[i];
    pthread_mutex_unlock(&lock);
}

/* Unmapping a buffer on 4 KiB pages costs the kernel about 50 us per MiB
 * (7.5 ms for the head CT's volume), all on the freeing thread and, at
 * exit, after everything else. MADV_DONTNEED on disjoint pieces runs on
 * all threads at once; the free that follows finds nothing mapped. */
typedef struct zap_job {
    uintptr_t begin, end;
    size_t stride; /* pieces: piece t takes blocks t, t + stride, ... */
} zap_job;

/* Blocks dealt round-robin: the loader's halves may be on different page
 * sizes (page_fill.h), so contiguous halves would not cost the same. */
static void zap_range(void *arg, size_t begin, size_t end)
{
    const zap_job *z = arg;
    for (size_t t = begin; t < end; t++)
        for (uintptr_t a = z->begin + t * CLASS_SLACK; a < z->end;
             a += z->stride * CLASS_SLACK)
            madvise((void *)a, CLASS_SLACK, MADV_DONTNEED);
}

static void release_pages(void *p, size_t cap)
{
    if (cap < ZAP_MIN_BYTES)
        return;
    /* Whole 2 MiB blocks inside the buffer: its allocator's header stays. */
    zap_job z = {((uintptr_t)p + CLASS_SLACK - 1) & ~(CLASS_SLACK - 1),
                 ((uintptr_t)p + cap) & ~(CLASS_SLACK - 1), 0};
    if (z.end <= z.begin)
        return;
    int threads = sp_parallel_threads();
    z.stride = threads > 0 ? (size_t)threads : 1;
    sp_parallel_for(z.stride, threads, zap_range, &z);
}

void sp_volume_pool_drain(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_kept; i++) {
        release_pages(kept[i], kept_cap[i]);
        free(kept[i]);
    }
    n_kept = 0;
    pthread_mutex_unlock(&lock);
}
