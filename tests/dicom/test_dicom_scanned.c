/* The header read from the pre-scan's values (no DCMTK parse) against the
 * DCMTK read of the same file (dicom_header.cc, spd_read_header_mode):
 * every file of ../shared/data/conformance and ../shared/data/spine, then
 * hostile variants of a real head CT file (empty, padded, odd, long and
 * malformed values, wrong VRs, repeated elements, a bad meta group,
 * truncation), must give the same records field by field, or the same
 * skip reason. Each variant is also counted by the path that read it, so
 * the fast path is seen to run. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dicom/dicom_internal.h"
#include "dicom/dicom_prescan.h"
#include "test_data.h"

static void compare_header(const char *file, const sp_dicom_header *a,
                           const sp_dicom_header *b)
{
#define SAME_STR(f)                                                          \
    if (strcmp(a->f, b->f) != 0)                                             \
        fail_msg("%s: " #f " \"%s\" (scan) != \"%s\" (DCMTK)", file, a->f,   \
                 b->f);
#define SAME_NUM(f)                                                          \
    if (memcmp(&a->f, &b->f, sizeof a->f) != 0)                              \
        fail_msg("%s: " #f " differs: %.17g (scan) != %.17g (DCMTK)", file,  \
                 (double)a->f, (double)b->f);
    SAME_STR(modality) SAME_STR(sop_class_uid) SAME_STR(patient_id)
    SAME_STR(patient_name) SAME_STR(study_uid) SAME_STR(study_id)
    SAME_STR(study_date) SAME_STR(study_description) SAME_STR(series_uid)
    SAME_STR(series_description) SAME_NUM(series_number)
    SAME_STR(frame_of_reference_uid) SAME_STR(body_part)
    SAME_STR(manufacturer) SAME_STR(manufacturer_model)
    SAME_STR(protocol_name) SAME_STR(sequence_name) SAME_NUM(echo_time_ms)
    SAME_NUM(repetition_time_ms) SAME_NUM(window_center)
    SAME_NUM(window_width) SAME_NUM(has_window)
}

static void compare_record(const char *file, const spd_record *a,
                           const spd_record *b)
{
    compare_header(file, &a->header, &b->header);
    if (strcmp(a->path, b->path) != 0)
        fail_msg("%s: paths differ", file);
    SAME_STR(transfer_syntax) SAME_NUM(frame)
    SAME_NUM(slice_thickness) SAME_NUM(rows) SAME_NUM(columns)
    SAME_NUM(bits_allocated) SAME_NUM(samples_per_pixel)
    SAME_NUM(rescale_slope) SAME_NUM(rescale_intercept)
    SAME_NUM(acquisition) SAME_NUM(echo) SAME_NUM(temporal)
    SAME_NUM(instance) SAME_NUM(pixel_offset) SAME_NUM(pixel_bytes)
    SAME_NUM(file_size) SAME_NUM(file_mtime_ns) SAME_NUM(bits_stored)
    SAME_NUM(high_bit) SAME_NUM(pixel_signed)
    for (int i = 0; i < 3; i++) SAME_NUM(position[i])
    for (int i = 0; i < 6; i++) SAME_NUM(orientation[i])
    for (int i = 0; i < 2; i++) SAME_NUM(pixel_spacing[i])
#undef SAME_STR
#undef SAME_NUM
}

/* What the file under test is (a variant's change), for the messages. */
static char label[300];

/* Both reads of one file; returns 1 when the scan's values made it. */
static int compare_file(const char *path)
{
    const char *file = label[0] ? label : path;
    spd_collect a = {0}, b = {0};
    int scanned = 0;
    assert_int_equal(spd_read_header_mode(path, &a, SPD_HEADER_ANY, &scanned),
                     SP_OK);
    assert_int_equal(spd_read_header_mode(path, &b, SPD_HEADER_DCMTK, NULL),
                     SP_OK);
    if (a.n_records != b.n_records || a.n_skipped != b.n_skipped)
        fail_msg("%s: %zu records, %zu skips (scan) != %zu, %zu (DCMTK)%s%s",
                 file, a.n_records, a.n_skipped, b.n_records, b.n_skipped,
                 b.n_skipped ? ": " : "",
                 b.n_skipped ? b.skipped[0].reason : "");
    for (size_t i = 0; i < a.n_records; i++)
        compare_record(file, &a.records[i], &b.records[i]);
    for (size_t i = 0; i < a.n_skipped; i++) {
        assert_string_equal(a.skipped[i].path, b.skipped[i].path);
        assert_int_equal(a.skipped[i].code, b.skipped[i].code);
        assert_string_equal(a.skipped[i].reason, b.skipped[i].reason);
    }
    if (scanned)
        assert_int_equal(a.n_records + a.n_skipped, 1);
    spd_collect_free(&a);
    spd_collect_free(&b);
    return scanned;
}

static size_t n_files, n_scanned;

static int visit(const char *path, const struct stat *st, int type,
                 struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_F) {
        n_files++;
        n_scanned += (size_t)compare_file(path);
    }
    return 0;
}

static void compare_tree(const char *relative, size_t *files,
                         size_t *scanned)
{
    char *root = test_data_path(relative);
    n_files = n_scanned = 0;
    assert_int_equal(nftw(root, visit, 16, FTW_PHYS), 0);
    printf("# %s: %zu files, %zu read from the scan's values\n", relative,
           n_files, n_scanned);
    *files = n_files;
    *scanned = n_scanned;
    free(root);
}

static void test_conformance(void **state)
{
    (void)state;
    size_t files, scanned;
    compare_tree("conformance", &files, &scanned);
    assert_true(files > 400);
    assert_true(scanned >= 140);
    assert_true(scanned < files);
}

static void test_spine(void **state)
{
    (void)state;
    size_t files, scanned;
    compare_tree("spine", &files, &scanned);
    assert_true(files >= 300);
    assert_true(scanned > 0);
}

/* Every file of the head CT takes the fast path, its DICOMDIR too. */
static void test_head_ct_all_scanned(void **state)
{
    (void)state;
    size_t files, scanned;
    compare_tree("conformance/ct-head-phantom-512/dicom", &files, &scanned);
    /* 140 slices and the DICOMDIR, skipped as DCMTK skips it */
    assert_int_equal(files, 141);
    assert_int_equal(scanned, 141);
}

/* ---- hostile variants of one real file ---- */

/* A top-level element of the explicit VR little endian source file. */
typedef struct elem {
    uint16_t group, element;
    char vr[3];
    const uint8_t *value;
    uint32_t length;
} elem;

typedef struct source {
    uint8_t *bytes;
    size_t size;
    elem meta[32], data[256];
    size_t n_meta, n_data;
} source;

static int long_vr(const char *vr)
{
    static const char *const l[] = {"OB", "OD", "OF", "OL", "OV", "OW",
                                    "SQ", "SV", "UC", "UN", "UR", "UT",
                                    "UV"};
    for (size_t i = 0; i < sizeof l / sizeof l[0]; i++)
        if (!strcmp(vr, l[i]))
            return 1;
    return 0;
}

static size_t split(const uint8_t *b, size_t at, size_t end, elem *out,
                    size_t cap, int meta)
{
    size_t n = 0;
    while (at + 8 <= end) {
        elem *e = &out[n];
        e->group = (uint16_t)(b[at] | b[at + 1] << 8);
        if (meta && e->group != 2)
            break;
        e->element = (uint16_t)(b[at + 2] | b[at + 3] << 8);
        e->vr[0] = (char)b[at + 4];
        e->vr[1] = (char)b[at + 5];
        e->vr[2] = '\0';
        if (long_vr(e->vr)) {
            e->length = (uint32_t)b[at + 8] | (uint32_t)b[at + 9] << 8 |
                        (uint32_t)b[at + 10] << 16 |
                        (uint32_t)b[at + 11] << 24;
            at += 12;
        } else {
            e->length = (uint32_t)(b[at + 6] | b[at + 7] << 8);
            at += 8;
        }
        assert_true(e->length != 0xFFFFFFFFu && at + e->length <= end);
        e->value = b + at;
        at += e->length;
        assert_true(++n < cap);
    }
    return n;
}

static void load_source(source *s, const char *relative)
{
    char *path = test_data_path(relative);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    s->size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    s->bytes = malloc(s->size);
    assert_non_null(s->bytes);
    assert_int_equal(fread(s->bytes, 1, s->size, f), s->size);
    fclose(f);
    free(path);
    s->n_meta = split(s->bytes, 132, s->size, s->meta, 32, 1);
    size_t at = (size_t)(s->meta[s->n_meta - 1].value - s->bytes) +
                s->meta[s->n_meta - 1].length;
    s->n_data = split(s->bytes, at, s->size, s->data, 256, 0);
}

/* A growing output buffer. */
typedef struct out {
    uint8_t *b;
    size_t n, cap;
} out;

static void put(out *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2;
        o->b = realloc(o->b, o->cap);
        assert_non_null(o->b);
    }
    if (n)
        memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put16(out *o, uint32_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(o, b, 2);
}

static void put32(out *o, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    put(o, b, 4);
}

static void put_elem(out *o, uint16_t g, uint16_t e, const char *vr,
                     const void *value, uint32_t declared, uint32_t written)
{
    put16(o, g);
    put16(o, e);
    put(o, vr, 2);
    if (long_vr(vr)) {
        put16(o, 0);
        put32(o, declared);
    } else {
        put16(o, declared);
    }
    put(o, value, written);
}

/* One change to the source: the element (group, element) gets `vr` (NULL:
 * its own) and `value` of `length` bytes (NULL: its own); `twice` writes
 * it twice; `insert` adds it when the file lacks it. */
typedef struct change {
    uint16_t group, element;
    const char *vr;
    const char *value;
    int length; /* -1: strlen(value) */
    int twice;
    uint32_t declared; /* 0: the length written */
} change;

/* The source with change `c` (may be NULL), its meta group length off by
 * `meta_delta`, meta element (0002,`meta_el`) replaced by `meta_len` bytes
 * of `meta_value` (NULL: kept), cut after `cut` bytes (0: whole). */
static void write_variant(const source *s, const change *c,
                          uint32_t meta_delta, uint16_t meta_el,
                          const char *meta_value, int meta_len, long cut,
                          const char *file)
{
    if (c)
        snprintf(label, sizeof label,
                 "(%04X,%04X) VR %s value \"%s\" length %d%s declared %u",
                 c->group, c->element, c->vr ? c->vr : "own",
                 c->value && c->length < 0 ? c->value : "(binary or own)",
                 c->length, c->twice ? " twice" : "", c->declared);
    else
        snprintf(label, sizeof label, "meta %+d (0002,%04X) \"%s\" cut %ld",
                 (int)meta_delta, meta_el, meta_value ? meta_value : "own",
                 cut);
    out d = {0}, m = {0};
    int done = 0;
    for (size_t i = 0; i < s->n_data; i++) {
        const elem *e = &s->data[i];
        uint32_t key = (uint32_t)e->group << 16 | e->element;
        uint32_t want = c ? (uint32_t)c->group << 16 | c->element : 0;
        if (c && !done && key > want && c->value) {
            /* absent in the source: inserted in tag order */
            const char *vr = c->vr ? c->vr : "LO";
            uint32_t n = (uint32_t)(c->length < 0 ? (int)strlen(c->value)
                                                  : c->length);
            for (int k = 0; k <= c->twice; k++)
                put_elem(&d, c->group, c->element, vr, c->value,
                         c->declared ? c->declared : n, n);
        }
        if (c && key > want)
            done = 1;
        if (c && key == want) {
            const char *vr = c->vr ? c->vr : e->vr;
            const void *v = c->value ? (const void *)c->value : e->value;
            uint32_t n = c->value ? (uint32_t)(c->length < 0
                                                   ? (int)strlen(c->value)
                                                   : c->length)
                                  : e->length;
            for (int k = 0; k <= c->twice; k++)
                put_elem(&d, e->group, e->element, vr, v,
                         c->declared ? c->declared : n, n);
            done = 1;
            continue;
        }
        /* A 16 x 16 image keeps the variants small. */
        if (e->group == 0x0028 && (e->element == 0x10 || e->element == 0x11))
            put_elem(&d, e->group, e->element, e->vr, "\x10\0", 2, 2);
        else if (e->group == 0x7FE0 && e->element == 0x0010)
            put_elem(&d, e->group, e->element, e->vr, e->value, 512, 512);
        else
            put_elem(&d, e->group, e->element, e->vr, e->value, e->length,
                     e->length);
    }
    for (size_t i = 1; i < s->n_meta; i++) {
        const elem *e = &s->meta[i];
        if (e->element == meta_el && meta_value)
            put_elem(&m, 2, meta_el, "UI", meta_value, (uint32_t)meta_len,
                     (uint32_t)meta_len);
        else
            put_elem(&m, e->group, e->element, e->vr, e->value, e->length,
                     e->length);
    }
    out f = {0};
    uint8_t pre[128] = {0};
    put(&f, pre, 128);
    put(&f, "DICM", 4);
    uint32_t gl = (uint32_t)m.n + meta_delta;
    put_elem(&f, 2, 0, "UL", &gl, 4, 4);
    put(&f, m.b, m.n);
    put(&f, d.b, d.n);
    size_t n = cut > 0 && (size_t)cut < f.n ? (size_t)cut : f.n;
    FILE *fp = fopen(file, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(f.b, 1, n, fp), n);
    fclose(fp);
    free(d.b);
    free(m.b);
    free(f.b);
}

static const char *const hostile_values[] = {
    "", " ", "  ", "1", " 1", "1 ", "1  ", "1\\", "\\1", "1\\\\2", "abc",
    "1.5abc", "1e400", "-1e-400", "nan", "inf", "1.0", "+5", "-0", ".",
    "0x1F", "1 2", "99999999999", "-2147483649", "1.5.3", "--1", "1e",
    "\t1", "1\t", "A\\ B", "A \\B", "CT", "MONOCHROME2", "PALETTE COLOR",
    "1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.481.2",
    "0\\1\\0\\0\\0\\-1", "1\\0\\0\\0\\1\\0", "0.5\\0.5", "-10\\20\\30",
    "0\\0\\0\\0\\0\\0", "1\\0\\0\\1\\0\\0",
};

static const char *const vrs[] = {NULL, "UN", "LO", "SH", "DS", "IS",
                                  "US", "SS", "UT", "OB", "XX"};

static void test_hostile_variants(void **state)
{
    (void)state;
    source s;
    load_source(&s, "conformance/ct-head-phantom-512/dicom/I1010");
    char *dir = test_make_temp_dir();
    char file[512];
    snprintf(file, sizeof file, "%s/v.dcm", dir);
    size_t variants = 0, scanned = 0;
    static const uint8_t us_bytes[4] = {0x00, 0x02, 0x10, 0x00};
    size_t n_wanted;
    const spd_wanted_tag *wanted = spd_wanted_tags(&n_wanted);
    for (size_t t = 0; t < n_wanted; t++) {
        const spd_wanted_tag *w = &wanted[t];
        for (size_t v = 0; v < sizeof vrs / sizeof vrs[0]; v++) {
            /* every value with the element's own VR, three with others */
            size_t n_values =
                v == 0 ? sizeof hostile_values / sizeof hostile_values[0] : 3;
            for (size_t h = 0; h < n_values; h++) {
                change c = {w->group, w->element, vrs[v],
                            hostile_values[v == 0 ? h : h * 10], -1, 0, 0};
                if (!c.vr && w->vr[0] == '-')
                    c.vr = "IS";
                write_variant(&s, &c, 0, 0, NULL, 0, 0, file);
                scanned += (size_t)compare_file(file);
                variants++;
            }
            if (v != 0 && strcmp(vrs[v], "US") && strcmp(vrs[v], "SS"))
                continue;
            /* binary lengths 0-4, the element's own value twice */
            for (int len = 0; len <= 4; len++) {
                change c = {w->group, w->element, vrs[v],
                            (const char *)us_bytes, len, 0, 0};
                if (!c.vr)
                    c.vr = w->vr[0] == '-' ? "US" : w->vr;
                write_variant(&s, &c, 0, 0, NULL, 0, 0, file);
                scanned += (size_t)compare_file(file);
                variants++;
            }
            change twice = {w->group, w->element, vrs[v], NULL, -1, 1, 0};
            write_variant(&s, &twice, 0, 0, NULL, 0, 0, file);
            scanned += (size_t)compare_file(file);
            variants++;
            if (v > 0)
                continue;
            /* values longer than the walk catches, and just under */
            static char longer[301];
            memset(longer, 'A', 300);
            for (int n = 250; n <= 300; n += 50) {
                change c = {w->group, w->element, NULL, longer, n, 0, 0};
                write_variant(&s, &c, 0, 0, NULL, 0, 0, file);
                scanned += (size_t)compare_file(file);
                variants++;
            }
            /* a length beyond the file, and the undefined length */
            static const uint32_t huge[] = {0xFFFFFFF0u, 0xFFFFFFFFu,
                                            0xFFFFu};
            for (size_t k = 0; k < 3; k++) {
                change c = {w->group, w->element, k == 2 ? NULL : "UN",
                            "1", -1, 0, huge[k]};
                write_variant(&s, &c, 0, 0, NULL, 0, 0, file);
                scanned += (size_t)compare_file(file);
                variants++;
            }
        }
    }
    /* The meta group: a wrong group length, other transfer syntaxes. */
    static const char *const syntaxes[] = {
        "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1 ",
        " 1.2.840.10008.1.2.1", "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.2", "1.2.3"};
    for (int delta = -4; delta <= 4; delta += 2)
        for (size_t i = 0; i < sizeof syntaxes / sizeof syntaxes[0]; i++) {
            write_variant(&s, NULL, (uint32_t)delta, 0x10, syntaxes[i],
                          (int)strlen(syntaxes[i]), 0, file);
            scanned += (size_t)compare_file(file);
            variants++;
        }
    /* The media storage class: the DICOMDIR's, exactly or nearly. */
    static const struct {
        const char *v;
        int n;
    } media[] = {{"1.2.840.10008.1.3.10", 21}, {"1.2.840.10008.1.3.10 ", 21},
                 {"1.2.840.10008.1.3.10", 20}, {" 1.2.840.10008.1.3.10", 21},
                 {"1.2.840.10008.1.3.10.1", 22}, {"1.2.840.10008.1.3.1", 20},
                 {"1.2.840.10008.1.3.10\1.2", 24}};
    size_t dirs = 0;
    for (size_t i = 0; i < sizeof media / sizeof media[0]; i++) {
        write_variant(&s, NULL, 0, 0x02, media[i].v, media[i].n, 0, file);
        int by_scan = compare_file(file);
        dirs += (size_t)by_scan;
        scanned += (size_t)by_scan;
        variants++;
    }
    /* the exact class, with and without its NUL (skipped as a DICOMDIR),
     * and "1.2.840.10008.1.3.1", another class (read as the image) */
    assert_int_equal(dirs, 3);
    /* Cut at every 97th byte of the header and inside the pixels. */
    for (long cut = 1; cut < 3000; cut += 97) {
        write_variant(&s, NULL, 0, 0, NULL, 0, cut, file);
        scanned += (size_t)compare_file(file);
        variants++;
    }
    write_variant(&s, NULL, 0, 0, NULL, 0, (long)s.size - 1, file);
    scanned += (size_t)compare_file(file);
    /* The file as it was: read from the scan. */
    write_variant(&s, NULL, 0, 0, NULL, 0, 0, file);
    assert_int_equal(compare_file(file), 1);
    printf("# %zu hostile variants, %zu read from the scan's values\n",
           variants + 2, scanned + 1);
    /* The fast path saw some of them, and refused many. */
    assert_true(scanned > variants / 20);
    assert_true(scanned < variants / 2);
    unlink(file);
    test_remove_tree(dir);
    free(dir);
    free(s.bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance),
        cmocka_unit_test(test_spine),
        cmocka_unit_test(test_head_ct_all_scanned),
        cmocka_unit_test(test_hostile_variants),
    };
    return cmocka_run_group_tests(tests, test_dicom_setup,
                                  test_dicom_teardown);
}
