/* Faulting in a fresh buffer ahead of the thread that writes it, on the
 * page size that costs less right now.
 *
 * On this VM the price of a fresh page depends on the host, not on the
 * program: the guest reports free 2 MiB blocks back to the host (free page
 * reporting) a second or two after they are freed, and a huge page made of
 * a block the host took back costs a host fault per 4 KiB when it is first
 * written. Measured here (thread CPU per MiB): huge pages of memory freed
 * moments before 130-240 us, huge pages the host took back 880-1,390 us,
 * 4 KiB pages 240-455 us either way (the guest takes them from its
 * fragmented free memory, which is never reported). So back-to-back runs
 * want huge pages, and a run after seconds of other work small ones
 * (bench/README.md, "eleventh session").
 *
 * Each writer measures: its first 2 MiB block on 4 KiB pages, then every
 * block on huge pages until one costs more than twice as much per byte as
 * the small pages did; from then on the rest of its range is on 4 KiB pages. The
 * times are the thread's CPU time (a preempted thread does not look slow);
 * only the page size depends on them, never a voxel. One sp_page_fill per
 * writing thread, each over its own range. */
#ifndef SPINEPIPE_PAGE_FILL_H
#define SPINEPIPE_PAGE_FILL_H

#include <stdint.h>

typedef struct sp_page_fill {
    uintptr_t next;          /* faulted in up to here */
    uintptr_t end;           /* end of the writer's range (page aligned) */
    int probed;              /* small_ns_per_mib measured */
    int small;               /* the rest of the range is on 4 KiB pages */
    double small_ns_per_mib; /* what a MiB of 4 KiB pages cost */
    unsigned huge_blocks;    /* blocks faulted in on huge pages (stats) */
    unsigned small_blocks;   /* and on 4 KiB pages */
} sp_page_fill;

/* The writer's range [begin, end) of a buffer that nothing has touched
 * yet. A buffer already faulted in (a reused pool buffer) costs next to
 * nothing to "fault in" again and stays as it is. */
void sp_page_fill_init(sp_page_fill *f, void *begin, void *end);
/* Faults in the range up to `upto` (rounded up to a 2 MiB boundary, never
 * past the range's end). A hint: on failure the pages fault in later. */
void sp_page_fill_upto(sp_page_fill *f, const void *upto);

#endif
