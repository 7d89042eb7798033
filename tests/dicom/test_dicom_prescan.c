/* The declared-length pre-scan on handcrafted byte buffers: each transfer
 * syntax's encoding (explicit/implicit VR, little/big endian, deflated, no
 * meta group), nested sequences and items of defined and undefined length,
 * encapsulated fragments, truncation, odd lengths and exact fits. Each
 * case is built valid (must pass) and then with one length raised past
 * the end (must be refused naming that element and its length). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "dicom/dicom_prescan.h"

#define UNDEF 0xFFFFFFFFu

typedef struct buf {
    uint8_t b[1 << 16];
    size_t n;
    int be; /* big endian numbers */
} buf;

static void put(buf *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put16(buf *o, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(o->be ? v >> 8 : v), (uint8_t)(o->be ? v : v >> 8)};
    put(o, b, 2);
}

static void put32(buf *o, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[o->be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    put(o, b, 4);
}

static void fill(buf *o, size_t n, uint8_t c)
{
    assert_true(o->n + n <= sizeof o->b);
    memset(o->b + o->n, c, n);
    o->n += n;
}

/* Explicit VR element header; the value follows separately. */
static void ex(buf *o, uint16_t g, uint16_t e, const char *vr, uint32_t len)
{
    put16(o, g);
    put16(o, e);
    put(o, vr, 2);
    static const char *const longs[] = {"OB", "OW", "SQ", "UN", "UT",
                                        "OF", "OD", "OL", "UC", "UR"};
    for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++)
        if (!strcmp(vr, longs[i])) {
            put16(o, 0);
            put32(o, len);
            return;
        }
    put16(o, (uint16_t)len);
}

/* Implicit VR header, and item / delimiter headers (both encodings). */
static void im(buf *o, uint16_t g, uint16_t e, uint32_t len)
{
    put16(o, g);
    put16(o, e);
    put32(o, len);
}

static void item(buf *o, uint32_t len) { im(o, 0xFFFE, 0xE000, len); }
static void item_end(buf *o) { im(o, 0xFFFE, 0xE00D, 0); }
static void seq_end(buf *o) { im(o, 0xFFFE, 0xE0DD, 0); }

/* Preamble, DICM and an explicit VR little endian meta group naming `ts`
 * (always little endian, whatever o->be says for the data set). */
static void preamble(buf *o, const char *ts)
{
    int be = o->be;
    o->be = 0;
    fill(o, 128, 0);
    put(o, "DICM", 4);
    size_t len = strlen(ts) + (strlen(ts) & 1);
    ex(o, 0x0002, 0x0001, "OB", 2);
    put(o, "\0\1", 2);
    ex(o, 0x0002, 0x0010, "UI", (uint32_t)len);
    put(o, ts, strlen(ts));
    if (strlen(ts) & 1)
        put(o, "", 1);
    o->be = be;
}

/* Where a 32-bit length was written, to raise it later. */
static void set32(buf *o, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        o->b[at + (o->be ? 3 - i : i)] = (uint8_t)(v >> (8 * i));
}

static void expect_ok(const buf *o)
{
    sp_error err = {0};
    sp_status st = spd_prescan_buffer(o->b, o->n, "case.dcm", &err);
    if (st != SP_OK)
        fail_msg("refused a valid buffer: %s", err.message);
}

/* Refused, naming the file, the tag, the declared length and what is left
 * at that point. */
static void expect_refused(const buf *o, const char *tag, uint32_t length,
                           size_t remain)
{
    sp_error err = {0};
    assert_int_equal(spd_prescan_buffer(o->b, o->n, "case.dcm", &err),
                     SP_FORMAT);
    assert_int_equal(err.code, SP_FORMAT);
    char want[160];
    snprintf(want, sizeof want, "declares %u bytes but only %zu remain",
             length, remain);
    if (!strstr(err.message, "case.dcm") || !strstr(err.message, tag) ||
        !strstr(err.message, want))
        fail_msg("message \"%s\" lacks %s or \"%s\"", err.message, tag, want);
}

/* A patient ID, then a small OW pixel data of 8 bytes. */
static size_t explicit_body(buf *o)
{
    ex(o, 0x0010, 0x0020, "LO", 4);
    put(o, "ID01", 4);
    ex(o, 0x0028, 0x0010, "US", 2);
    put16(o, 2);
    size_t at = o->n + 8;
    ex(o, 0x7FE0, 0x0010, "OW", 8);
    fill(o, 8, 0x11);
    return at;
}

static void explicit_little_endian(void **state)
{
    (void)state;
    buf o = {0};
    preamble(&o, "1.2.840.10008.1.2.1");
    size_t at = explicit_body(&o);
    expect_ok(&o);
    set32(&o, at, 3u << 30);
    expect_refused(&o, "(7FE0,0010)", 3u << 30, 8);
}

static void explicit_big_endian(void **state)
{
    (void)state;
    buf o = {.be = 1};
    preamble(&o, "1.2.840.10008.1.2.2");
    size_t at = explicit_body(&o);
    /* The 8 would read as 0x08000000 in little endian: passing shows the
     * data set is read big endian. */
    expect_ok(&o);
    set32(&o, at, 0x40000000u);
    expect_refused(&o, "(7FE0,0010)", 0x40000000u, 8);
}

static void implicit_little_endian(void **state)
{
    (void)state;
    buf o = {0};
    preamble(&o, "1.2.840.10008.1.2");
    im(&o, 0x0010, 0x0020, 4);
    put(&o, "ID01", 4);
    size_t at = o.n + 4;
    im(&o, 0x0008, 0x103E, 6);
    put(&o, "SERIES", 6);
    im(&o, 0x7FE0, 0x0010, 4);
    fill(&o, 4, 0);
    expect_ok(&o);
    set32(&o, at, 0xFFFFFFF0u);
    expect_refused(&o, "(0008,103E)", 0xFFFFFFF0u, 18);
}

/* An ACR-NEMA style data set: no preamble, no meta group. */
static void no_meta_group(void **state)
{
    (void)state;
    buf o = {0};
    size_t at = o.n + 4;
    im(&o, 0x0008, 0x0060, 2);
    put(&o, "CT", 2);
    im(&o, 0x0010, 0x0020, 4);
    put(&o, "ID01", 4);
    expect_ok(&o);
    set32(&o, at, 1u << 30);
    expect_refused(&o, "(0008,0060)", 1u << 30, 14);
}

/* SQ (undefined) > item (undefined) > SQ (defined) > item (defined) >
 * element, in explicit VR little endian. */
static size_t nested(buf *o, size_t *inner_item)
{
    preamble(o, "1.2.840.10008.1.2.1");
    ex(o, 0x0040, 0x0260, "SQ", UNDEF);
    item(o, UNDEF);
    ex(o, 0x0008, 0x0100, "SH", 2);
    put(o, "T1", 2);
    ex(o, 0x0008, 0x1155, "SQ", 8 + 8 + 4);
    *inner_item = o->n + 4;
    item(o, 8 + 4);
    size_t at = o->n + 6;
    ex(o, 0x0008, 0x0104, "LO", 4);
    put(o, "name", 4);
    item_end(o);
    seq_end(o);
    ex(o, 0x0010, 0x0020, "LO", 4);
    put(o, "ID01", 4);
    return at;
}

static void nested_sequences(void **state)
{
    (void)state;
    buf o = {0};
    size_t item_at;
    size_t at = nested(&o, &item_at);
    expect_ok(&o);
    /* A 16-bit length cannot exceed 64 KiB; past the end is enough. */
    o.b[at] = 0xFF;
    o.b[at + 1] = 0x7F;
    size_t remain = o.n - (at + 2);
    expect_refused(&o, "(0008,0104)", 0x7FFF, remain);
    /* A container claiming more than is left reserves nothing in DCMTK
     * (it tolerates it): walked, not refused, and what it holds is still
     * checked. */
    buf p = {0};
    nested(&p, &item_at);
    set32(&p, item_at, 0x80000000u);
    expect_ok(&p);
    p.b[at] = 0xFF;
    p.b[at + 1] = 0x7F;
    expect_refused(&p, "(0008,0104)", 0x7FFF, remain);
}

/* An undefined-length UN holds an implicit VR little endian sequence. */
static void undefined_length_un(void **state)
{
    (void)state;
    buf o = {0};
    preamble(&o, "1.2.840.10008.1.2.1");
    ex(&o, 0x0009, 0x1010, "UN", UNDEF);
    item(&o, UNDEF);
    size_t at = o.n + 4;
    im(&o, 0x0009, 0x1011, 4);
    put(&o, "abcd", 4);
    item_end(&o);
    seq_end(&o);
    ex(&o, 0x0010, 0x0020, "LO", 4);
    put(&o, "ID01", 4);
    expect_ok(&o);
    set32(&o, at, 0x12345678u);
    expect_refused(&o, "(0009,1011)", 0x12345678u, o.n - (at + 4));
}

/* Implicit VR: a defined-length value that starts with an item is walked
 * as a sequence. */
static void implicit_defined_sequence(void **state)
{
    (void)state;
    buf o = {0};
    preamble(&o, "1.2.840.10008.1.2");
    im(&o, 0x0008, 0x1140, 8 + 8 + 2);
    item(&o, 8 + 2);
    size_t at = o.n + 4;
    im(&o, 0x0008, 0x1150, 2);
    put(&o, "1", 2);
    im(&o, 0x0010, 0x0020, 4);
    put(&o, "ID01", 4);
    expect_ok(&o);
    set32(&o, at, 0x20000000u);
    expect_refused(&o, "(0008,1150)", 0x20000000u, o.n - (at + 4));
}

static void encapsulated_fragments(void **state)
{
    (void)state;
    buf o = {0};
    preamble(&o, "1.2.840.10008.1.2.4.70");
    ex(&o, 0x0028, 0x0010, "US", 2);
    put16(&o, 2);
    ex(&o, 0x7FE0, 0x0010, "OB", UNDEF);
    item(&o, 0); /* empty basic offset table */
    size_t at = o.n + 4;
    item(&o, 6);
    put(&o, "\xFF\xD8\xFF\xD9\0\0", 6);
    item(&o, 3); /* odd fragment length */
    put(&o, "abc", 3);
    seq_end(&o);
    expect_ok(&o);
    set32(&o, at, 0x7FFFFFFFu);
    expect_refused(&o, "(FFFE,E000)", 0x7FFFFFFFu, o.n - (at + 4));
}

static void odd_lengths_and_exact_fit(void **state)
{
    (void)state;
    buf o = {0};
    preamble(&o, "1.2.840.10008.1.2.1");
    ex(&o, 0x0010, 0x0010, "PN", 3);
    put(&o, "Doe", 3);
    ex(&o, 0x0010, 0x0020, "LO", 5);
    put(&o, "ID001", 5);
    /* The last value ends exactly at the end of the bytes. */
    size_t at = o.n + 8;
    ex(&o, 0x7FE0, 0x0010, "OB", 7);
    fill(&o, 7, 1);
    expect_ok(&o);
    set32(&o, at, 8);
    expect_refused(&o, "(7FE0,0010)", 8, 7);
}

static void truncation(void **state)
{
    (void)state;
    buf o = {0};
    preamble(&o, "1.2.840.10008.1.2.1");
    explicit_body(&o);
    buf cut = o;
    cut.n -= 3; /* inside the pixel data's value */
    expect_refused(&cut, "(7FE0,0010)", 8, 5);
    cut.n = o.n - 8 - 5; /* inside its header: no length declared yet */
    expect_ok(&cut);
    /* Inside the meta group's transfer syntax value. */
    cut.n = 132 + 12 + 2 + 8 + 4;
    expect_refused(&cut, "(0002,0010)", 20, 4);
}

static void deflated(void **state)
{
    (void)state;
    buf body = {0};
    ex(&body, 0x0010, 0x0020, "LO", 4);
    put(&body, "ID01", 4);
    size_t at = body.n + 8;
    ex(&body, 0x7FE0, 0x0010, "OW", 4000);
    fill(&body, 4000, 0x22);
    for (int raise = 0; raise < 2; raise++) {
        if (raise)
            set32(&body, at, 0x40000000u);
        buf o = {0};
        preamble(&o, "1.2.840.10008.1.2.1.99");
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8,
                                      Z_DEFAULT_STRATEGY),
                         Z_OK);
        z.next_in = body.b;
        z.avail_in = (uInt)body.n;
        z.next_out = o.b + o.n;
        z.avail_out = (uInt)(sizeof o.b - o.n);
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        o.n += z.total_out;
        deflateEnd(&z);
        /* Compressed, the 4000 bytes take far less room: lengths are
         * checked against the inflated size. */
        assert_true(o.n < 400);
        if (!raise) {
            expect_ok(&o);
        } else {
            expect_refused(&o, "(7FE0,0010)", 0x40000000u, 4000);
            sp_error err = {0};
            spd_prescan_buffer(o.b, o.n, "case.dcm", &err);
            assert_non_null(strstr(err.message, "inflated"));
        }
    }
}

static void deep_nesting_is_refused(void **state)
{
    (void)state;
    buf o = {0};
    preamble(&o, "1.2.840.10008.1.2.1");
    for (int i = 0; i < 200; i++) {
        ex(&o, 0x0040, 0x0260, "SQ", UNDEF);
        item(&o, UNDEF);
    }
    sp_error err = {0};
    assert_int_equal(spd_prescan_buffer(o.b, o.n, "deep.dcm", &err),
                     SP_FORMAT);
    assert_non_null(strstr(err.message, "deep.dcm"));
    assert_non_null(strstr(err.message, "nested"));
}

/* Nothing to walk, or structure the walk does not follow: no refusal,
 * DCMTK decides as before. */
static void unknown_structure_is_left_to_dcmtk(void **state)
{
    (void)state;
    static buf empty;
    expect_ok(&empty);
    buf p = {0};
    preamble(&p, "1.2.840.10008.1.2.1");
    put16(&p, 0x0010);
    put16(&p, 0x0020);
    put(&p, "\x01\x02", 2); /* not a VR */
    put32(&p, UNDEF - 1);
    expect_ok(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(explicit_little_endian),
        cmocka_unit_test(explicit_big_endian),
        cmocka_unit_test(implicit_little_endian),
        cmocka_unit_test(no_meta_group),
        cmocka_unit_test(nested_sequences),
        cmocka_unit_test(undefined_length_un),
        cmocka_unit_test(implicit_defined_sequence),
        cmocka_unit_test(encapsulated_fragments),
        cmocka_unit_test(odd_lengths_and_exact_fit),
        cmocka_unit_test(truncation),
        cmocka_unit_test(deflated),
        cmocka_unit_test(deep_nesting_is_refused),
        cmocka_unit_test(unknown_structure_is_left_to_dcmtk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
