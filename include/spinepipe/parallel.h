/* spinepipe — splitting work over threads.
 *
 * sp_parallel_for cuts [0, n) into contiguous chunks, one per thread, and
 * runs fn on each; it returns when all are done. Results must not depend on
 * how the range is cut: fn writes only the outputs of its own chunk and
 * reads shared inputs, so output is identical for any thread count. */
#ifndef SPINEPIPE_PARALLEL_H
#define SPINEPIPE_PARALLEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*sp_range_fn)(void *arg, size_t begin, size_t end);

/* threads <= 0: sp_parallel_threads(). Runs inline when one thread is
 * enough or threads cannot be started. */
void sp_parallel_for(size_t n, int threads, sp_range_fn fn, void *arg);

/* Worker threads to use: SPINEPIPE_THREADS when set to 1..256, else the
 * number of online CPUs. */
int sp_parallel_threads(void);

#ifdef __cplusplus
}
#endif

#endif
