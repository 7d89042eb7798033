/* floor_bench: the physical floor for bench/compare.sh. Times (a) reading
 * every given file's bytes from the page cache into one reused buffer and
 * (b) memcpy of a float32 volume of VOXELS voxels between two buffers that
 * are already mapped. Each is the best of ROUNDS passes after a warm-up.
 * Also reported, not part of the floor: touch_s, the first write of a
 * fresh float32 volume (page faults and the kernel zeroing the pages, with
 * huge pages asked for as sp_volume_alloc does), the price every new
 * volume in a fresh process pays.
 * Prints one line of key=value pairs. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Read every file once; returns the bytes read or -1 (message printed). */
static long long read_all(char **files, int n, char **buf, size_t *cap)
{
    long long total = 0;
    for (int i = 0; i < n; i++) {
        int fd = open(files[i], O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            fprintf(stderr, "floor_bench: %s: %s\n", files[i],
                    strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        if ((size_t)st.st_size > *cap) {
            char *grown = realloc(*buf, (size_t)st.st_size);
            if (!grown) {
                fprintf(stderr, "floor_bench: out of memory\n");
                close(fd);
                return -1;
            }
            *buf = grown;
            *cap = (size_t)st.st_size;
        }
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        close(fd);
        total += (long long)got;
    }
    return total;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    unsigned long long voxels = argc >= 3 ? strtoull(argv[1], &end, 10) : 0;
    if (argc < 3 || !end || *end || voxels == 0 ||
        voxels > (1ull << 34)) {
        fprintf(stderr, "usage: %s VOXELS FILE...\n", argv[0]);
        return 64;
    }
    char *buf = NULL;
    size_t cap = 0;
    double best_read = 1e30;
    long long bytes = 0;
    for (int r = 0; r <= ROUNDS; r++) {
        double t0 = now_seconds();
        bytes = read_all(argv + 2, argc - 2, &buf, &cap);
        double t = now_seconds() - t0;
        if (bytes < 0)
            return 66;
        if (r > 0 && t < best_read)
            best_read = t;
    }
    free(buf);
    size_t vol_bytes = (size_t)voxels * sizeof(float);
    char *a = malloc(vol_bytes), *b = malloc(vol_bytes);
    if (!a || !b) {
        fprintf(stderr, "floor_bench: cannot allocate 2 x %zu bytes\n",
                vol_bytes);
        return 70;
    }
    /* Map every page first: the floor is bandwidth, not page faults. The
     * first of these writes is timed on its own (touch_s). */
#ifdef MADV_HUGEPAGE
    uintptr_t first = ((uintptr_t)a + 4095) & ~(uintptr_t)4095;
    uintptr_t last = ((uintptr_t)a + vol_bytes) & ~(uintptr_t)4095;
    if (last > first)
        madvise((void *)first, last - first, MADV_HUGEPAGE);
#endif
    double t_touch = now_seconds(), c_touch = cpu_seconds();
    memset(a, 1, vol_bytes);
    t_touch = now_seconds() - t_touch;
    c_touch = cpu_seconds() - c_touch;
    memset(b, 2, vol_bytes);
    double best_copy = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_seconds();
        memcpy(r % 2 ? a : b, r % 2 ? b : a, vol_bytes);
        double t = now_seconds() - t0;
        if (t < best_copy)
            best_copy = t;
    }
    /* Keep the copies observable so they are not optimised away. */
    volatile char sink = a[vol_bytes / 2] ^ b[vol_bytes / 3];
    (void)sink;
    free(a);
    free(b);
    printf("files=%d read_bytes=%lld read_s=%.5f read_gbs=%.2f "
           "f32_bytes=%zu memcpy_s=%.5f memcpy_gbs=%.2f touch_s=%.5f "
           "touch_cpu_s=%.5f\n",
           argc - 2, bytes, best_read, (double)bytes / best_read / 1e9,
           vol_bytes, best_copy, (double)vol_bytes / best_copy / 1e9,
           t_touch, c_touch);
    return 0;
}
