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

/* Faults in [a, b) and returns what it cost per MiB (thread CPU ns; 0
 * where the kernel cannot populate: the pages then fault in when written,
 * and with no cost measured the page size stays as it is). */
static double populate(uintptr_t a, uintptr_t b)
{
#ifdef MADV_POPULATE_WRITE
    double t0 = thread_ns();
    if (madvise((void *)a, b - a, MADV_POPULATE_WRITE) != 0)
        return 0;
    return (thread_ns() - t0) * (double)((uintptr_t)1 << 20) / (double)(b - a);
#else
    (void)a;
    (void)b;
    return 0;
#endif
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

void sp_page_fill_upto(sp_page_fill *f, const void *upto)
{
    uintptr_t target = ((uintptr_t)upto + BLOCK - 1) & ~(BLOCK - 1);
    if (target > f->end)
        target = f->end;
    while (f->next < target) {
        uintptr_t a = f->next;
        uintptr_t b = (a & ~(BLOCK - 1)) + BLOCK;
        if (b > f->end)
            b = f->end;
        if (!f->probed) {
            /* The reference: this block on 4 KiB pages. */
            small_pages(a, b);
            f->small_ns_per_mib = populate(a, b);
            f->probed = 1;
            f->small_blocks++;
        } else if (f->small) {
            populate(a, b);
            f->small_blocks++;
        } else {
            double huge = populate(a, b);
            f->huge_blocks++;
            if (huge > SWITCH_RATIO * f->small_ns_per_mib) {
                f->small = 1;
                small_pages(b, f->end);
            }
        }
        f->next = b;
    }
}
