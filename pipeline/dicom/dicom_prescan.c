/* Pre-scan of a DICOM file's element headers before DCMTK parses it.
 *
 * DCMTK 3.6.7 reserves an element's declared length before reading the
 * value, so a small file declaring a 1-4 GiB element makes it allocate that
 * much (fuzz/known-limits.md). This walks the element headers (preamble and
 * DICM, the explicit VR little endian meta group, then the data set in its
 * transfer syntax: explicit or implicit VR, little or big endian; sequences
 * and items of defined and undefined length, nested; encapsulated pixel
 * fragments) without reading values, and refuses the file when a declared
 * length exceeds the bytes left in it. A deflated data set is inflated
 * twice, streaming, into a small buffer: once to learn its size, once to
 * walk it.
 *
 * It checks lengths only. Structure it does not understand (a VR that is
 * not two letters, a non-item inside a sequence) ends the walk without a
 * refusal: DCMTK then judges the file as before. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dicom_prescan.h"

#define UNDEFINED 0xFFFFFFFFu
#define MAX_DEPTH 64

enum { WALK_OK, WALK_STOP, WALK_REFUSE, WALK_FAIL };

/* The bytes being walked: a buffer; a file read through a window (values
 * are skipped, not read: pread beats mapping the file several times
 * over); or a raw deflate stream inflated on demand (pos and total count
 * inflated bytes). */
typedef struct reader {
    const uint8_t *data;
    size_t total, pos;
    int fd;
    size_t win_at, win_len;
    z_stream *z;
    struct reader *in; /* the compressed bytes */
    /* Buffers last: reader_new zeroes only the fields above them. */
    uint8_t win[16384];
    uint8_t scratch[4096];
} reader;

/* The fields zeroed; the 20 KB of buffers are filled before they are
 * read, and zeroing them was 5 % of a header scan's CPU. */
static void reader_init(reader *r)
{
    memset(r, 0, offsetof(reader, win));
}

/* For the inflated stream's reader; the walk of a file or buffer keeps its
 * reader on the stack, whose pages every file reuses (a fresh heap block
 * per file cost five page faults, a third of a header scan's CPU). */
static reader *reader_new(void)
{
    reader *r = malloc(sizeof *r);
    if (r)
        reader_init(r);
    return r;
}

/* Sorted by tag (the walk searches it). */
static const spd_wanted_tag wanted[] = {
    {0x0008, 0x0016, "UI"}, /* SOPClassUID */
    {0x0008, 0x0020, "DA"}, /* StudyDate */
    {0x0008, 0x0060, "CS"}, /* Modality */
    {0x0008, 0x0070, "LO"}, /* Manufacturer */
    {0x0008, 0x1030, "LO"}, /* StudyDescription */
    {0x0008, 0x103E, "LO"}, /* SeriesDescription */
    {0x0008, 0x1090, "LO"}, /* ManufacturerModelName */
    {0x0010, 0x0010, "PN"}, /* PatientName */
    {0x0010, 0x0020, "LO"}, /* PatientID */
    {0x0018, 0x0015, "CS"}, /* BodyPartExamined */
    {0x0018, 0x0020, "CS"}, /* ScanningSequence */
    {0x0018, 0x0024, "SH"}, /* SequenceName */
    {0x0018, 0x0050, "DS"}, /* SliceThickness */
    {0x0018, 0x0080, "DS"}, /* RepetitionTime */
    {0x0018, 0x0081, "DS"}, /* EchoTime */
    {0x0018, 0x0086, "IS"}, /* EchoNumbers */
    {0x0018, 0x1030, "LO"}, /* ProtocolName */
    {0x0020, 0x000D, "UI"}, /* StudyInstanceUID */
    {0x0020, 0x000E, "UI"}, /* SeriesInstanceUID */
    {0x0020, 0x0010, "SH"}, /* StudyID */
    {0x0020, 0x0011, "IS"}, /* SeriesNumber */
    {0x0020, 0x0012, "IS"}, /* AcquisitionNumber */
    {0x0020, 0x0013, "IS"}, /* InstanceNumber */
    {0x0020, 0x0032, "DS"}, /* ImagePositionPatient */
    {0x0020, 0x0037, "DS"}, /* ImageOrientationPatient */
    {0x0020, 0x0052, "UI"}, /* FrameOfReferenceUID */
    {0x0020, 0x0100, "IS"}, /* TemporalPositionIdentifier */
    {0x0028, 0x0002, "US"}, /* SamplesPerPixel */
    {0x0028, 0x0004, "CS"}, /* PhotometricInterpretation */
    {0x0028, 0x0008, "--"}, /* NumberOfFrames */
    {0x0028, 0x0010, "US"}, /* Rows */
    {0x0028, 0x0011, "US"}, /* Columns */
    {0x0028, 0x0030, "DS"}, /* PixelSpacing */
    {0x0028, 0x0100, "US"}, /* BitsAllocated */
    {0x0028, 0x0101, "US"}, /* BitsStored */
    {0x0028, 0x0102, "US"}, /* HighBit */
    {0x0028, 0x0103, "US"}, /* PixelRepresentation */
    {0x0028, 0x1050, "DS"}, /* WindowCenter */
    {0x0028, 0x1051, "DS"}, /* WindowWidth */
    {0x0028, 0x1052, "DS"}, /* RescaleIntercept */
    {0x0028, 0x1053, "DS"}, /* RescaleSlope */
    {0x5200, 0x9229, "--"}, /* SharedFunctionalGroupsSequence */
    {0x5200, 0x9230, "--"}, /* PerFrameFunctionalGroupsSequence */
};
#define N_WANTED (sizeof wanted / sizeof wanted[0])
_Static_assert(N_WANTED <= SPD_MAX_WANTED,
               "spd_header_values holds every wanted tag");

const spd_wanted_tag *spd_wanted_tags(size_t *n)
{
    *n = N_WANTED;
    return wanted;
}

typedef struct walk {
    reader *r;
    int explicit_vr, big_endian;
    const char *name;
    sp_error *err;
    int deflated;
    /* Top-level PixelData elements seen, the last one's value, and
     * whether it can be read directly (defined length, OB/OW or implicit). */
    unsigned n_pixels;
    int pixels_direct;
    uint64_t pixels_at, pixels_len;
    /* Values of the wanted elements (NULL: not asked), and whether
     * something made them unusable. */
    spd_header_values *values;
    int values_bad;
} walk;

/* Give zlib more compressed input from `in`; 0 at its end. */
static int refill(reader *in, z_stream *z)
{
    if (z->avail_in > 0)
        return 1;
    if (in->pos >= in->total)
        return 0;
    size_t n = in->total - in->pos;
    if (in->data) {
        z->next_in = (Bytef *)(in->data + in->pos);
        n = n > UINT32_MAX ? UINT32_MAX : n;
    } else {
        ssize_t got = pread(in->fd, in->win, sizeof in->win, (off_t)in->pos);
        if (got <= 0)
            return 0;
        in->win_len = 0; /* the window no longer holds what peek saw */
        z->next_in = in->win;
        n = (size_t)got;
    }
    z->avail_in = (uInt)n;
    in->pos += n;
    return 1;
}

static int zread(reader *r, uint8_t *out, size_t n)
{
    while (n > 0) {
        size_t chunk = n < sizeof r->scratch ? n : sizeof r->scratch;
        r->z->next_out = out ? out : r->scratch;
        r->z->avail_out = (uInt)chunk;
        refill(r->in, r->z);
        int rc = inflate(r->z, Z_NO_FLUSH);
        size_t got = chunk - r->z->avail_out;
        if (got == 0 && rc != Z_OK)
            return -1;
        if (out)
            out += got;
        n -= got;
        r->pos += got;
    }
    return 0;
}

/* The n bytes at pos (n <= sizeof win), or NULL when they cannot be read.
 * Not for deflate streams. */
static const uint8_t *peek(reader *r, size_t n)
{
    if (n > r->total || r->pos > r->total - n)
        return NULL;
    if (r->data)
        return r->data + r->pos;
    if (r->pos >= r->win_at && r->pos + n <= r->win_at + r->win_len)
        return r->win + (r->pos - r->win_at);
    ssize_t got = pread(r->fd, r->win, sizeof r->win, (off_t)r->pos);
    if (got < 0 || (size_t)got < n)
        return NULL;
    r->win_at = r->pos;
    r->win_len = (size_t)got;
    return r->win;
}

/* Read n bytes (out NULL: skip them). The caller checked they exist. */
static int take(reader *r, uint8_t *out, size_t n)
{
    if (r->z)
        return zread(r, out, n) == 0 ? WALK_OK : WALK_STOP;
    if (out) {
        const uint8_t *p = peek(r, n);
        if (!p)
            return WALK_STOP;
        memcpy(out, p, n);
    }
    r->pos += n;
    return WALK_OK;
}

static size_t left(const reader *r) { return r->total - r->pos; }

static uint16_t u16(const walk *w, const uint8_t *b)
{
    return w->big_endian ? (uint16_t)(b[0] << 8 | b[1])
                         : (uint16_t)(b[1] << 8 | b[0]);
}

static uint32_t u32(const walk *w, const uint8_t *b)
{
    return w->big_endian
               ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                     (uint32_t)b[2] << 8 | b[3]
               : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[1] << 8 | b[0];
}

static int is_upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }

/* The VRs of the standard; the values reader trusts no file with another. */
static int standard_vr(const uint8_t vr[2])
{
    static const char all[] = "AEASATCSDADSDTFLFDISLOLTOBODOFOLOVOWPNSHSLSQ"
                              "SSSTSVTMUCUIULUNURUSUTUV";
    for (size_t i = 0; i + 1 < sizeof all; i += 2)
        if (vr[0] == all[i] && vr[1] == all[i + 1])
            return 1;
    return 0;
}

/* VRs whose explicit encoding has two reserved bytes and a 32-bit length.
 * DCMTK treats a VR it does not know the same way. */
static int long_vr(const uint8_t vr[2])
{
    static const char *const short_vrs[] = {
        "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS",
        "LO", "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"};
    for (size_t i = 0; i < sizeof short_vrs / sizeof short_vrs[0]; i++)
        if (vr[0] == short_vrs[i][0] && vr[1] == short_vrs[i][1])
            return 0;
    return 1;
}

static int refuse(walk *w, uint16_t group, uint16_t element, uint32_t length,
                  size_t at)
{
    sp_error_set(w->err, SP_FORMAT,
                 "%s: element (%04X,%04X) at byte %zu%s declares %u bytes "
                 "but only %zu remain; refused before DCMTK reserves them",
                 w->name, group, element, at,
                 w->deflated ? " of the inflated data set" : "", length,
                 left(w->r));
    return WALK_REFUSE;
}

/* One element header: tag, VR (explicit only, else NULL), length. Item and
 * delimiter tags never carry a VR. WALK_STOP on a partial header or a VR
 * that is not two letters. */
typedef struct header {
    uint16_t group, element;
    uint8_t vr[2];
    int has_vr;
    uint32_t length;
    size_t at;
} header;

static int read_header(walk *w, header *h)
{
    uint8_t b[8];
    h->at = w->r->pos;
    if (left(w->r) < 8 || take(w->r, b, 8) != 0)
        return WALK_STOP;
    h->group = u16(w, b);
    h->element = u16(w, b + 2);
    h->has_vr = 0;
    if (h->group == 0xFFFE || !w->explicit_vr) {
        h->length = u32(w, b + 4);
        return WALK_OK;
    }
    h->vr[0] = b[4];
    h->vr[1] = b[5];
    h->has_vr = 1;
    if (!is_upper(b[4]) || !is_upper(b[5]))
        return WALK_STOP;
    if (!standard_vr(h->vr))
        w->values_bad = 1;
    if (!long_vr(h->vr)) {
        h->length = u16(w, b + 6);
        return WALK_OK;
    }
    if (left(w->r) < 4 || take(w->r, b, 4) != 0)
        return WALK_STOP;
    h->length = u32(w, b);
    return WALK_OK;
}

static int walk_dataset(walk *w, size_t end, int depth);

/* The slot of a top-level wanted element, or NULL (also when the values
 * are already unusable). Marks them unusable for an element that cannot be
 * taken as it stands: repeated, another VR, a "--" entry, too long. */
static spd_value *wanted_slot(walk *w, const header *h)
{
    if (!w->values || w->values_bad)
        return NULL;
    size_t lo = 0, hi = N_WANTED;
    uint32_t key = (uint32_t)h->group << 16 | h->element;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const spd_wanted_tag *t = &wanted[mid];
        uint32_t k = (uint32_t)t->group << 16 | t->element;
        if (k == key) {
            spd_value *v = &w->values->value[mid];
            if (v->present || !h->has_vr || h->vr[0] != t->vr[0] ||
                h->vr[1] != t->vr[1] || h->length > SPD_VALUE_CAP) {
                w->values_bad = 1;
                return NULL;
            }
            return v;
        }
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Whether the value at pos starts with an item tag (not asked of deflate
 * streams, which are explicit VR). */
static int starts_item(walk *w)
{
    const uint8_t *b = w->r->z ? NULL : peek(w->r, 4);
    return b && u16(w, b) == 0xFFFE && u16(w, b + 2) == 0xE000;
}

/* Where a sequence or item of this length ends. DCMTK reserves nothing for
 * a container (only for the values inside), and tolerates one that claims
 * more than is left (pydicom's DICOMDIR-nooffset): not refused, walked to
 * the end of the bytes. */
static size_t container_end(const walk *w, uint32_t length)
{
    if (length == UNDEFINED)
        return SIZE_MAX;
    return length > left(w->r) ? w->r->total : w->r->pos + length;
}

/* Items of a sequence (or pixel fragments) up to `end` (SIZE_MAX: up to
 * the sequence delimiter). */
static int walk_items(walk *w, size_t end, int depth, int fragments)
{
    if (depth > MAX_DEPTH) {
        sp_error_set(w->err, SP_FORMAT,
                     "%s: sequences nested more than %d deep", w->name,
                     MAX_DEPTH);
        return WALK_REFUSE;
    }
    while (w->r->pos < end) {
        header h;
        int rc = read_header(w, &h);
        if (rc != WALK_OK)
            return rc;
        if (h.group == 0xFFFE && h.element == 0xE0DD)
            return WALK_OK;
        if (h.group != 0xFFFE || h.element != 0xE000)
            return WALK_STOP;
        if (fragments) {
            if (h.length > left(w->r))
                return refuse(w, h.group, h.element, h.length, h.at);
            rc = take(w->r, NULL, h.length);
        } else {
            rc = walk_dataset(w, container_end(w, h.length), depth + 1);
        }
        if (rc != WALK_OK)
            return rc;
    }
    return WALK_OK;
}

/* Elements up to `end` (SIZE_MAX: up to an item delimiter or the end of
 * the bytes). */
static int walk_dataset(walk *w, size_t end, int depth)
{
    while (w->r->pos < end && left(w->r) > 0) {
        header h;
        int rc = read_header(w, &h);
        if (rc != WALK_OK)
            return rc;
        if (h.group == 0xFFFE && h.element == 0xE00D)
            return WALK_OK;
        /* A sequence delimiter here means an item lost its delimiter;
         * DCMTK copes, the nesting here would be off: stop. */
        if (h.group == 0xFFFE && h.element == 0xE0DD)
            return WALK_STOP;
        int sq = h.has_vr && h.vr[0] == 'S' && h.vr[1] == 'Q';
        int un = h.has_vr && h.vr[0] == 'U' && h.vr[1] == 'N';
        spd_value *slot = depth == 0 ? wanted_slot(w, &h) : NULL;
        if (depth == 0 && h.group == 0x7FE0 && h.element == 0x0010) {
            w->n_pixels++;
            w->pixels_direct =
                h.length != UNDEFINED &&
                (!h.has_vr || (h.vr[0] == 'O' &&
                               (h.vr[1] == 'B' || h.vr[1] == 'W')));
            w->pixels_at = w->r->pos;
            w->pixels_len = h.length;
        }
        if (h.length == UNDEFINED) {
            int pixels = h.group == 0x7FE0 && h.element == 0x0010;
            /* An undefined-length UN holds implicit VR little endian. */
            int saved_vr = w->explicit_vr, saved_be = w->big_endian;
            if (un && !pixels)
                w->explicit_vr = w->big_endian = 0;
            rc = walk_items(w, SIZE_MAX, depth + 1, pixels);
            w->explicit_vr = saved_vr;
            w->big_endian = saved_be;
        } else if (sq || (!h.has_vr && h.group != 0xFFFE && h.length >= 8 &&
                          left(w->r) >= 8 && starts_item(w))) {
            /* Explicit SQ; in implicit VR a value that starts with an
             * item is taken for a sequence, as DCMTK's dictionary would. */
            rc = walk_items(w, container_end(w, h.length), depth + 1, 0);
        } else if (h.length > left(w->r)) {
            return refuse(w, h.group, h.element, h.length, h.at);
        } else if (slot) {
            rc = take(w->r, slot->bytes, h.length);
            slot->present = rc == WALK_OK;
            slot->length = h.length;
        } else {
            rc = take(w->r, NULL, h.length);
        }
        if (rc != WALK_OK)
            return rc;
    }
    return WALK_OK;
}

/* Transfer syntax UID of the meta group, from (0002,0010). */
typedef struct meta {
    char ts[65];
    size_t end; /* offset just past the meta group */
    /* Every element explicit VR, a group length (0002,0000) that names
     * exactly the elements after it, one transfer syntax, and a media
     * storage class that is the DICOMDIR's exactly (`dicomdir`) or bears
     * no resemblance to it (`odd` otherwise). */
    int plain;
    int dicomdir, odd;
} meta;

static int meta_done(meta *m, int explicit_all, int has_length,
                     uint64_t group_length, size_t after_length)
{
    m->plain = explicit_all && has_length && !m->odd &&
               group_length == m->end - after_length;
    return WALK_OK;
}

static int walk_meta(walk *w, meta *m)
{
    m->ts[0] = '\0';
    m->plain = 0;
    m->dicomdir = m->odd = 0;
    int explicit_all = 1, has_length = 0;
    size_t start = w->r->pos;
    uint64_t group_length = 0;
    size_t after_length = 0;
    for (;;) {
        m->end = w->r->pos;
        if (left(w->r) < 8)
            return meta_done(m, explicit_all, has_length, group_length,
                             after_length);
        const uint8_t *b = peek(w->r, 8);
        if (!b || b[0] != 0x02 || b[1] != 0x00)
            return meta_done(m, explicit_all, has_length, group_length,
                             after_length);
        /* A meta group written in implicit VR: DCMTK reads it so too. */
        w->explicit_vr = is_upper(b[4]) && is_upper(b[5]);
        explicit_all &= w->explicit_vr;
        header h;
        int rc = read_header(w, &h);
        if (rc != WALK_OK)
            return rc;
        if (h.length == UNDEFINED)
            return WALK_STOP;
        if (h.length > left(w->r))
            return refuse(w, h.group, h.element, h.length, h.at);
        int first = h.at == start;
        if (first && h.element == 0x0000 && h.length == 4 && h.has_vr &&
            h.vr[0] == 'U' && h.vr[1] == 'L') {
            uint8_t v[4];
            if (take(w->r, v, 4) != WALK_OK)
                return WALK_STOP;
            has_length = 1;
            group_length = u32(w, v);
            after_length = w->r->pos;
        } else if (h.element == 0x0002) {
            /* MediaStorageSOPClassUID: the DICOMDIR class, exactly (with
             * or without its NUL of padding); any other hint of it, or a
             * value too long to look at, leaves the file to DCMTK. */
            static const char dir[] = "1.2.840.10008.1.3.10";
            char v[65];
            if (h.length >= sizeof v) {
                m->odd = 1;
                take(w->r, NULL, h.length);
            } else if (take(w->r, (uint8_t *)v, h.length) != WALK_OK) {
                return WALK_STOP;
            } else if ((h.length == sizeof dir || h.length == sizeof dir - 1) &&
                       !memcmp(v, dir, h.length)) {
                m->dicomdir = 1;
            } else {
                for (size_t i = 0; i + sizeof dir - 1 <= h.length; i++)
                    if (!memcmp(v + i, dir, sizeof dir - 1))
                        m->odd = 1;
            }
        } else if (h.element == 0x0010 && h.length < sizeof m->ts) {
            if (m->ts[0])
                m->odd = 1; /* a second syntax: DCMTK's to judge */
            if (take(w->r, (uint8_t *)m->ts, h.length) != WALK_OK)
                return WALK_STOP;
            size_t n = h.length;
            while (n > 0 && (m->ts[n - 1] == '\0' || m->ts[n - 1] == ' '))
                n--;
            m->ts[n] = '\0';
        } else {
            take(w->r, NULL, h.length);
        }
    }
}

/* Byte order and VR encoding of a data set without a (known) transfer
 * syntax, from its first tag, as DCMTK guesses them. */
static void guess_encoding(walk *w, reader *r)
{
    const uint8_t *b = peek(r, 6);
    w->big_endian = b && b[0] == 0 && b[1] != 0;
    w->explicit_vr = b && is_upper(b[4]) && is_upper(b[5]);
}

/* Size of the raw deflate stream in `in` from its position once
 * inflated, or SIZE_MAX when it is corrupt; `in` is left where it was. */
static size_t inflated_size(reader *in)
{
    size_t start = in->pos;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return SIZE_MAX;
    uint8_t buf[16384];
    size_t total = 0;
    int rc;
    do {
        int more = refill(in, &z);
        z.next_out = buf;
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        total += sizeof buf - z.avail_out;
        if (!more && z.avail_out > 0)
            break;
    } while (rc == Z_OK);
    inflateEnd(&z);
    in->pos = start;
    /* A stream cut short counts as far as it inflates. */
    return rc == Z_STREAM_END || rc == Z_OK || rc == Z_BUF_ERROR ? total
                                                                  : SIZE_MAX;
}

static int walk_deflated(walk *w)
{
    reader *in = w->r;
    size_t total = inflated_size(in);
    if (total == SIZE_MAX)
        return WALK_STOP;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return WALK_STOP;
    reader *r = reader_new();
    if (!r) {
        inflateEnd(&z);
        return WALK_STOP;
    }
    r->total = total;
    r->z = &z;
    r->in = in;
    w->r = r;
    w->explicit_vr = 1;
    w->big_endian = 0;
    w->deflated = 1;
    int rc = walk_dataset(w, SIZE_MAX, 0);
    w->r = in;
    inflateEnd(&z);
    free(r);
    return rc;
}

/* The walk from the start of the bytes in `r`; `loc` (may be NULL) learns
 * where the pixel data lies. */
static sp_status prescan(reader *r, const char *name, spd_pixel_loc *loc,
                         spd_header_values *values, sp_error *err)
{
    walk w = {.r = r, .name = name, .err = err, .values = values};
    int plain_le = 0, values_ok = 0, dicomdir = 0;
    int rc;
    const uint8_t *head = peek(r, 132);
    int preamble = head && !memcmp(head + 128, "DICM", 4);
    head = peek(r, 8);
    /* DCMTK also reads a meta group that starts the file without one. */
    if (preamble || (head && head[0] == 0x02 && head[1] == 0x00)) {
        r->pos = preamble ? 132 : 0;
        meta m;
        rc = walk_meta(&w, &m);
        if (rc != WALK_OK)
            return rc == WALK_REFUSE ? SP_FORMAT : SP_OK;
        r->pos = m.end;
        if (!strcmp(m.ts, "1.2.840.10008.1.2.1.99"))
            return walk_deflated(&w) == WALK_REFUSE ? SP_FORMAT : SP_OK;
        if (!strcmp(m.ts, "1.2.840.10008.1.2")) {
            w.explicit_vr = 0;
            w.big_endian = 0;
            plain_le = 1;
        } else if (!strcmp(m.ts, "1.2.840.10008.1.2.2")) {
            w.explicit_vr = 1;
            w.big_endian = 1;
        } else if (m.ts[0]) {
            w.explicit_vr = 1;
            w.big_endian = 0;
            plain_le = !strcmp(m.ts, "1.2.840.10008.1.2.1");
            values_ok = plain_le && preamble && m.plain && !m.dicomdir;
            dicomdir = plain_le && preamble && m.plain && m.dicomdir;
        } else {
            guess_encoding(&w, r);
        }
    } else {
        guess_encoding(&w, r);
    }
    rc = walk_dataset(&w, SIZE_MAX, 0);
    if (loc && rc == WALK_OK && r->pos == r->total && plain_le &&
        w.n_pixels == 1 && w.pixels_direct) {
        loc->found = 1;
        loc->implicit_vr = !w.explicit_vr;
        loc->offset = w.pixels_at;
        loc->length = w.pixels_len;
        if (values)
            values->usable = values_ok && !w.values_bad;
    }
    if (values && rc == WALK_OK && r->pos == r->total && !w.values_bad)
        values->dicomdir = dicomdir;
    return rc == WALK_REFUSE ? SP_FORMAT : SP_OK;
}

sp_status spd_prescan_buffer(const uint8_t *data, size_t size,
                             const char *name, sp_error *err)
{
    static const uint8_t none[1];
    reader r;
    reader_init(&r);
    r.data = data ? data : none;
    r.total = data ? size : 0;
    return prescan(&r, name, NULL, NULL, err);
}

sp_status spd_prescan_file(const char *path, sp_error *err)
{
    return spd_prescan_file_loc(path, NULL, err);
}

sp_status spd_prescan_file_loc(const char *path, spd_pixel_loc *loc,
                               sp_error *err)
{
    return spd_prescan_file_values(path, loc, NULL, err);
}

/* Both cleared; the values to fill, NULL when not asked for. */
static spd_header_values *reset_results(spd_pixel_loc *loc,
                                        spd_header_values *values)
{
    if (loc)
        memset(loc, 0, sizeof *loc);
    if (!values)
        return NULL;
    values->usable = values->dicomdir = 0;
    for (size_t i = 0; i < N_WANTED; i++)
        values->value[i].present = 0;
    /* The values are read only where the walk found the pixels. */
    return loc ? values : NULL;
}

sp_status spd_prescan_file_values(const char *path, spd_pixel_loc *loc,
                                  spd_header_values *values, sp_error *err)
{
    /* Non-blocking: a FIFO swapped in for the file must not hang us. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        reset_results(loc, values);
        return sp_error_set(err, SP_NOINPUT, "%s: cannot open: %s", path,
                            strerror(errno));
    }
    sp_status s = spd_prescan_fd_values(fd, path, loc, values, err);
    close(fd);
    return s;
}

sp_status spd_prescan_fd_values(int fd, const char *path, spd_pixel_loc *loc,
                                spd_header_values *values, sp_error *err)
{
    values = reset_results(loc, values);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return sp_error_set(err, SP_NOINPUT, "%s: not a regular file", path);
    reader r;
    reader_init(&r);
    r.fd = fd;
    r.total = (size_t)st.st_size;
    sp_status s = prescan(&r, path, loc, values, err);
    if (loc && loc->found) {
        loc->file_size = (uint64_t)st.st_size;
        loc->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
                        st.st_mtim.tv_nsec;
    }
    return s;
}
