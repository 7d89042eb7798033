/* The host's volume allocator: sp_volume_alloc / sp_volume_free with a
 * small bounded pool of large buffers, so that a process that handles many
 * series (`spinepipe run` or `batch` over several series, the listener's
 * job server) gives the second and later series the previous series'
 * buffers, already faulted in, instead of fresh memory (on this machine the
 * kernel's first touch of a fresh volume costs more than reading it from
 * the page cache: bench/README.md).
 *
 * Only buffers of at least SP_POOL_MIN_BYTES are kept, at most
 * SP_POOL_MAX_KEPT of them. A buffer's capacity is what the allocator says
 * it holds (malloc_usable_size), so a volume whose voxels were rewritten
 * smaller in place (the window's U8 view in its float input) returns its
 * whole buffer, and a volume a stage allocated itself with sp_volume_alloc
 * (calloc) may come back too. A request is served by a kept buffer of the
 * same size class (capacity from the request's size up to one huge page
 * more); a request no kept buffer fits releases every kept buffer first
 * (the series' shape changed), so a run's peak memory is not raised by
 * buffers of another shape. Kept buffers are freed at exit. Thread-safe. */
#ifndef SPINEPIPE_VOLUME_POOL_H
#define SPINEPIPE_VOLUME_POOL_H

#include <stddef.h>

#include "spinepipe/volume.h"

#define SP_POOL_MIN_BYTES ((size_t)8 << 20)
#define SP_POOL_MAX_KEPT 4

/* As sp_volume_alloc. `zero`: the voxels are zero, as sp_volume_alloc
 * promises; without it a reused buffer keeps its old bytes and a fresh one
 * is not zeroed either but starts on a huge page (for a caller that writes
 * every voxel before anyone reads one: the DICOM loader). */
sp_status sp_pool_volume_alloc(sp_volume *vol, sp_voxel_type type,
                               size_t nx, size_t ny, size_t nz, int zero,
                               sp_error *err);
/* As sp_volume_alloc_like (zeroed). */
sp_status sp_pool_volume_alloc_like(sp_volume *vol, const sp_volume *src,
                                    sp_voxel_type type, sp_error *err);
/* As sp_volume_free; a large buffer may be kept for the next request. */
void sp_pool_volume_free(sp_volume *vol);

typedef struct sp_volume_pool_stats {
    size_t hits;       /* requests served by a kept buffer */
    size_t misses;     /* large requests that took fresh memory */
    size_t kept;       /* buffers kept now */
    size_t kept_bytes; /* their capacity */
} sp_volume_pool_stats;

void sp_volume_pool_stats_get(sp_volume_pool_stats *s);
/* Frees every kept buffer (also run at exit). */
void sp_volume_pool_drain(void);

#endif
