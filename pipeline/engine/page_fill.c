/* See page_fill.h. */
#include "page_fill.h"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BLOCK ((uintptr_t)2 << 20)
/* Measured here per MiB (thread CPU): 4 KiB pages 250-400 us, huge pages
 * the guest still holds 130-230 us, huge pages the host took back
 * 900-1400 us. One block is one sample: twice the small pages' cost keeps
 * a noisy sample from switching while huge pages are cheap. */
#define SWITCH_RATIO 2.0

static uintptr_t page_mask(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (uintptr_t)page - 1 : 4095;
}

static double thread_ns(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0)
        return 0;
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Faults in [a, b) and returns what it cost per MiB (thread CPU ns). */
static double populate(uintptr_t a, uintptr_t b)
{
    double t0 = thread_ns();
#ifdef MADV_POPULATE_WRITE
    madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
    for (volatile char *p = (volatile char *)a; (uintptr_t)p < b; p += 4096)
        *p = 0;
#endif
    return (thread_ns() - t0) * (double)((uintptr_t)1 << 20) / (double)(b - a);
}

static void small_pages(uintptr_t a, uintptr_t b)
{
#ifdef MADV_NOHUGEPAGE
    if (b > a)
        madvise((void *)a, b - a, MADV_NOHUGEPAGE);
#else
    (void)a;
    (void)b;
#endif
}

void sp_page_fill_init(sp_page_fill *f, void *begin, void *end)
{
    uintptr_t mask = page_mask();
    *f = (sp_page_fill){0};
    f->next = ((uintptr_t)begin + mask) & ~mask;
    f->end = (uintptr_t)end & ~mask;
    if (f->end < f->next)
        f->end = f->next;
}
        }
        f->next = b;
    }
}
