/* A fork-join parallel-for over pthreads: one contiguous chunk per thread,
 * the first chunk on the calling thread. */
#include "spinepipe/parallel.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_THREADS 256

typedef struct chunk {
    sp_range_fn fn;
    void *arg;
    size_t begin, end;
} chunk;

static void *run_chunk(void *p)
{
    chunk *c = p;
    c->fn(c->arg, c->begin, c->end);
    return NULL;
}

int sp_parallel_threads(void)
{
    const char *env = getenv("SPINEPIPE_THREADS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v >= 1 && v <= MAX_THREADS)
            return (int)v;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        return 1;
    return cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
}

void sp_parallel_for(size_t n, int threads, sp_range_fn fn, void *arg)
{
    if (n == 0)
        return;
    if (threads <= 0)
        threads = sp_parallel_threads();
    if ((size_t)threads > n)
        threads = (int)n;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (threads <= 1) {
        fn(arg, 0, n);
        return;
    }
    chunk chunks[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++)
        chunks[t] = (chunk){fn, arg, n * (size_t)t / (size_t)threads,
                            n * (size_t)(t + 1) / (size_t)threads};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&ids[t], NULL, run_chunk, &chunks[t]) == 0;
    run_chunk(&chunks[0]);
    /* A chunk whose thread could not start runs here instead. */
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(ids[t], NULL);
        else
            run_chunk(&chunks[t]);
    }
}
