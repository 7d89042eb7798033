/* engine/page_fill.h: every page of a writer's range is faulted in (mincore
 * sees it resident) whichever page size the cost measurements pick, up to
 * the asked point rounded to a 2 MiB block and never past the range's end;
 * two writers over the halves of one buffer, split off a block boundary;
 * the first block is the 4 KiB reference; a buffer already written keeps
 * its bytes; an empty range does nothing. Skipped where the kernel has no
 * MADV_POPULATE_WRITE (then the pages fault in when written). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/page_fill.h"

#define MIB ((size_t)1 << 20)
#define BUF (24 * MIB)

static unsigned char *base, *buf; /* buf: base rounded up to 2 MiB */

static int map_buffer(void **state)
{
    (void)state;
    base = mmap(NULL, BUF + 2 * MIB, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return -1;
    buf = (unsigned char *)(((uintptr_t)base + 2 * MIB - 1) &
                            ~(uintptr_t)(2 * MIB - 1));
    return 0;
}

static int unmap_buffer(void **state)
{
    (void)state;
    munmap(base, BUF + 2 * MIB);
    return 0;
}

static int populate_supported(void)
{
#ifdef MADV_POPULATE_WRITE
    return madvise(buf, (size_t)sysconf(_SC_PAGESIZE),
                   MADV_POPULATE_WRITE) == 0;
#else
    return 0;
#endif
}

/* Resident pages of [a, a + n), counted by mincore. */
static size_t resident(const unsigned char *a, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), count = 0;
    unsigned char vec[256];
    for (size_t off = 0; off < n; off += page * sizeof vec) {
        size_t len = n - off < page * sizeof vec ? n - off : page * sizeof vec;
        assert_int_equal(mincore((void *)(a + off), len, vec), 0);
        for (size_t i = 0; i < (len + page - 1) / page; i++)
            count += vec[i] & 1;
    }
    return count;
}

static void two_writers_fault_in_their_halves(void **state)
{
    (void)state;
    if (!populate_supported())
        skip();
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    /* The split is 12 pages past a block boundary, as a slice plane of
     * another size would put it. */
    size_t split = 11 * MIB + 12 * page;
    sp_page_fill f[2];
    sp_page_fill_init(&f[0], buf, buf + split);
    sp_page_fill_init(&f[1], buf + split, buf + BUF);
    /* Slices of 1 MiB, as the head CT's 512 x 512 floats. */
    for (size_t at = MIB; at <= BUF; at += MIB) {
        sp_page_fill_upto(&f[0], buf + (at < split ? at : split));
        sp_page_fill_upto(&f[1], buf + (at > split ? at : split));
    }
    assert_true(f[0].next == (uintptr_t)(buf + split));
    assert_true(f[1].next == (uintptr_t)(buf + BUF));
    assert_int_equal(resident(buf, BUF), BUF / page);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f[i].probed, 1);
        assert_true(f[i].small_ns_per_mib > 0);
        assert_true(f[i].small_blocks >= 1);
    }
    /* Blocks of 2 MiB from each range's start to the next boundary on. */
    assert_int_equal(f[0].huge_blocks + f[0].small_blocks, 6);
    assert_int_equal(f[1].huge_blocks + f[1].small_blocks, 7);
    memset(buf, 0x5a, BUF);
    for (size_t i = 0; i < BUF; i += 4093)
        assert_int_equal(buf[i], 0x5a);
}

static void stops_at_the_block_of_upto(void **state)
{
    (void)state;
    if (!populate_supported())
        skip();
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    sp_page_fill f;
    sp_page_fill_init(&f, buf, buf + 16 * MIB);
    sp_page_fill_upto(&f, buf + 5 * MIB);
    assert_true(f.next == (uintptr_t)(buf + 6 * MIB));
    assert_int_equal(resident(buf, 6 * MIB), 6 * MIB / page);
    assert_int_equal(resident(buf + 6 * MIB, 10 * MIB), 0);
    /* Asking for less than is done, or past the end, is fine. */
    sp_page_fill_upto(&f, buf + 1 * MIB);
    assert_true(f.next == (uintptr_t)(buf + 6 * MIB));
    sp_page_fill_upto(&f, buf + BUF);
    assert_true(f.next == (uintptr_t)(buf + 16 * MIB));
    assert_int_equal(resident(buf + 16 * MIB, BUF - 16 * MIB), 0);
}

static void written_buffer_keeps_its_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < BUF; i++)
        buf[i] = (unsigned char)(i * 7 + i / 4096);
    sp_page_fill f;
    sp_page_fill_init(&f, buf + 100, buf + BUF - 100);
    sp_page_fill_upto(&f, buf + BUF);
    for (size_t i = 0; i < BUF; i++)
        if (buf[i] != (unsigned char)(i * 7 + i / 4096))
            fail_msg("byte %zu changed", i);
}

static void empty_range_does_nothing(void **state)
{
    (void)state;
    sp_page_fill f;
    sp_page_fill_init(&f, buf + 10, buf + 20); /* inside one page */
    sp_page_fill_upto(&f, buf + BUF);
    assert_true(f.next == f.end);
    assert_int_equal(f.huge_blocks + f.small_blocks, 0);
    assert_int_equal(resident(buf, BUF), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(two_writers_fault_in_their_halves,
                                        map_buffer, unmap_buffer),
        cmocka_unit_test_setup_teardown(stops_at_the_block_of_upto,
                                        map_buffer, unmap_buffer),
        cmocka_unit_test_setup_teardown(written_buffer_keeps_its_bytes,
                                        map_buffer, unmap_buffer),
        cmocka_unit_test_setup_teardown(empty_range_does_nothing, map_buffer,
                                        unmap_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
