// Reading one file's header (pixel data left on disk) into slice records:
// one per file, or one per frame of an enhanced multi-frame image. Files
// that are not CT/MR-style image slices are skipped with a reason.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/ofstd/ofstd.h"

#include "dicom_header_fields.h"
#include "dicom_module.h"

namespace {

// The values the record readers (dicom_header_fields.h) take from what the
// pre-scan caught. They give the same answers as DCMTK's parse (DcmValues,
// dicom_header_dcmtk.cc); a value ScanValues cannot be sure of sets its
// `unsure`, and the file is then parsed by DCMTK instead.
struct ScanValues {
    const spd_header_values *v;
    bool *unsure; // shared by the copies voi() makes

    const spd_value *find(const DcmTagKey &tag,
                          const char **vr = nullptr) const
    {
        if (!v)
            return nullptr;
        size_t n;
        const spd_wanted_tag *wanted = spd_wanted_tags(&n);
        for (size_t i = 0; i < n; i++)
            if (wanted[i].group == tag.getGroup() &&
                wanted[i].element == tag.getElement()) {
                if (vr)
                    *vr = wanted[i].vr;
                return v->value[i].present ? &v->value[i] : nullptr;
            }
        *unsure = true; // a tag the walk was not asked to catch
        return nullptr;
    }
    // The value without its trailing padding (spaces and NULs), which
    // DCMTK drops when it reads a string.
    static OFString trimmed(const spd_value *val)
    {
        size_t n = val->length;
        while (n > 0 && (val->bytes[n - 1] == ' ' || val->bytes[n - 1] == 0))
            n--;
        return OFString(reinterpret_cast<const char *>(val->bytes), n);
    }
    // DCMTK normalises each value of a string (leading and trailing
    // spaces, per VR) and stops at a NUL; a value where that could matter
    // is left to DCMTK.
    bool plain_string(const OFString &w) const
    {
        bool edge = true; // at the start of a value
        for (size_t i = 0; i < w.size(); i++) {
            unsigned char ch = (unsigned char)w[i];
            bool sep = ch == '\\';
            bool blank = ch <= 0x20 || ch == 0x7f;
            bool next_edge = i + 1 == w.size() || w[i + 1] == '\\';
            if (ch == 0 || (blank && (edge || next_edge))) {
                *unsure = true;
                return false;
            }
            edge = sep;
        }
        return true;
    }
    void string(const DcmTagKey &tag, char *dst, size_t size) const
    {
        dst[0] = '\0';
        const char *vr = "";
        const spd_value *val = find(tag, &vr);
        if (!val)
            return;
        OFString w = trimmed(val);
        // DCMTK drops every space of a UI value; a date or UID with
        // anything but digits and points is left to it.
        if ((!std::strcmp(vr, "UI") || !std::strcmp(vr, "DA")) &&
            w.find_first_not_of("0123456789.") != OFString_npos) {
            *unsure = true;
            return;
        }
        if (plain_string(w))
            spd_copy_clean(dst, size, w.c_str());
    }
    // Value `pos` of a DS or IS value, or false (as DCMTK fails it). Only
    // digits, signs, points, exponents and separators are taken.
    bool number_text(const DcmTagKey &tag, int pos, OFString &out) const
    {
        const spd_value *val = find(tag);
        if (!val)
            return false;
        OFString w = trimmed(val);
        if (w.find_first_not_of("0123456789+-.eE\\") != OFString_npos) {
            *unsure = true;
            return false;
        }
        size_t at = 0;
        for (int i = 0; i < pos; i++) {
            at = w.find('\\', at);
            if (at == OFString_npos)
                return false;
            at++;
        }
        size_t end = w.find('\\', at);
        out = w.substr(at, end == OFString_npos ? OFString_npos : end - at);
        return true;
    }
    bool doubles(const DcmTagKey &tag, double *out, int n) const
    {
        for (int i = 0; i < n; i++) {
            OFString text;
            OFBool ok = OFFalse;
            if (!number_text(tag, i, text))
                return false;
            double d = OFStandard::atof(text.c_str(), &ok);
            if (!ok || !std::isfinite(d))
                return false;
            out[i] = d;
        }
        return true;
    }
    int integer(const DcmTagKey &tag, int absent) const
    {
        OFString text;
        if (!number_text(tag, 0, text) || text.empty())
            return absent;
        size_t digits = text[0] == '+' || text[0] == '-' ? 1 : 0;
        if (text.size() == digits || text.size() - digits > 9 ||
            text.find_first_not_of("0123456789", digits) != OFString_npos) {
            *unsure = true;
            return absent;
        }
        return (int)std::strtol(text.c_str(), nullptr, 10);
    }
    bool u16(const DcmTagKey &tag, Uint16 &out) const
    {
        out = 0;
        const spd_value *val = find(tag);
        if (!val || val->length == 0)
            return false;
        if (val->length != 2) {
            *unsure = true;
            return false;
        }
        out = (Uint16)(val->bytes[0] | val->bytes[1] << 8);
        return true;
    }
    bool exists(const DcmTagKey &tag) const { return find(tag) != nullptr; }
    OFString first(const DcmTagKey &tag) const
    {
        const spd_value *val = find(tag);
        if (!val)
            return OFString();
        OFString w = trimmed(val);
        if (!plain_string(w))
            return OFString();
        return w.substr(0, w.find('\\'));
    }
    // The walk leaves files with functional groups to DCMTK, so the
    // window is in the data set or nowhere.
    ScanValues voi() const
    {
        if (exists(DCM_WindowWidth))
            return *this;
        return ScanValues{nullptr, unsure};
    }
};

// The walk leaves files with NumberOfFrames to DCMTK.
bool frame_count(const ScanValues &ds, Sint32 &frames)
{
    if (ds.exists(DCM_NumberOfFrames))
        *ds.unsure = true;
    frames = 0;
    return false;
}

// A DICOM file has "DICM" after its 128-byte preamble; a bare data set
// (old ACR-NEMA style) starts with group 0002 or 0008 in either byte
// order. Anything else is not handed to DCMTK's parser at all.
bool looks_like_dicom(int fd, Skip *skip)
{
    unsigned char head[132] = {0};
    ssize_t got = pread(fd, head, sizeof head, 0);
    size_t n = got > 0 ? static_cast<size_t>(got) : 0;
    if (n == sizeof head && !std::memcmp(head + 128, "DICM", 4))
        return true;
    bool le_group = (head[0] == 0x08 || head[0] == 0x02) && head[1] == 0;
    bool be_group = head[0] == 0 && (head[1] == 0x08 || head[1] == 0x02);
    if (n >= 8 && (le_group || be_group))
        return true;
    return skip_set(skip, SP_NOTDICOM, "%s",
                    "not a DICOM file (no DICM marker and no data set at "
                    "the start)");
}

// The record of a plain file from the walk's values alone (no DCMTK parse,
// no data dictionary), when they give one with certainty: every value
// read as DCMTK would read it, no reason to skip the file, and its pixels
// directly readable. Else false, with nothing collected: DCMTK reads the
// file, and gives any skip reason.
bool read_scanned(const char *file, const spd_pixel_loc &loc,
                  const spd_header_values &values, spd_collect *c,
                  bool *nomem)
{
    bool unsure = false;
    ScanValues ds{&values, &unsure};
    Skip skip;
    spd_record rec;
    if (!start_record(ds, file, UID_LittleEndianExplicitTransferSyntax, loc,
                      true, &rec, &skip) ||
        rec.pixel_bytes == 0 || !classic_record(ds, &rec, &skip) || unsure)
        return false;
    const char *sop = rec.header.sop_class_uid;
    if (std::strchr(sop, '\\') || !std::strcmp(sop, UID_SegmentationStorage) ||
        !std::strcmp(sop, UID_RTDoseStorage))
        return false;
    if (spd_collect_record(c, &rec) != SP_OK)
        *nomem = true;
    return true;
}

bool read_open_file(int fd, const char *file, spd_collect *c, Skip *skip,
                    bool scan_ok, bool *scanned)
{
    if (!looks_like_dicom(fd, skip))
        return false;
    // The skip entry carries the path; its reason is the rest.
    sp_error pre;
    spd_pixel_loc loc;
    spd_header_values values;
    if (spd_prescan_fd_values(fd, file, &loc, scan_ok ? &values : nullptr,
                              &pre) != SP_OK) {
        size_t n = std::strlen(file);
        const char *why = pre.message;
        if (!std::strncmp(why, file, n) && !std::strncmp(why + n, ": ", 2))
            why += n + 2;
        skip->code = pre.code;
        std::snprintf(skip->text, sizeof skip->text, "%.399s", why);
        return false;
    }
    if (scan_ok && values.dicomdir) {
        *scanned = true;
        return skip_dicomdir(skip);
    }
    if (scan_ok && values.usable) {
        bool nomem = false;
        *scanned = read_scanned(file, loc, values, c, &nomem);
        if (nomem)
            return skip_set(skip, SP_NOMEM, "%s", "out of memory");
        if (*scanned)
            return true;
    }
    sp_error load;
    const spd_dcmtk_api *t = spd_dcmtk(&load);
    if (!t)
        return skip_set(skip, load.code, "%.399s", load.message);
    return t->read_header(file, &loc, c, skip);
}

// One open for the marker check and the walk (a second open per file was
// a sixth of a header scan's system calls).
bool read_file(const char *file, spd_collect *c, Skip *skip, bool scan_ok,
               bool *scanned)
{
    // Non-blocking: a FIFO swapped in for the file must not hang us.
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return skip_set(skip, SP_NOINPUT, "cannot open: %s",
                        std::strerror(errno));
    bool ok = read_open_file(fd, file, c, skip, scan_ok, scanned);
    close(fd);
    return ok;
}

} // namespace

extern "C" sp_status spd_read_header(const char *file, spd_collect *c)
{
    return spd_read_header_mode(file, c, SPD_HEADER_ANY, nullptr);
}

extern "C" sp_status spd_read_header_mode(const char *file, spd_collect *c,
                                          spd_header_mode mode, int *scanned)
{
    Skip skip;
    skip.code = SP_OK;
    skip.text[0] = '\0';
    size_t before = c->n_records;
    bool ok, by_scan = false;
    if (scanned)
        *scanned = 0;
    try {
        ok = read_file(file, c, &skip, mode == SPD_HEADER_ANY, &by_scan);
        if (scanned)
            *scanned = by_scan;
    } catch (...) {
        ok = skip_set(&skip, SP_INTERNAL, "%s",
                      "unexpected error while reading the header");
    }
    if (ok)
        return SP_OK;
    // A multi-frame file that failed half way contributes no frames.
    while (c->n_records > before)
        free(c->records[--c->n_records].path);
    if (skip.code == SP_NOMEM)
        return SP_NOMEM;
    return spd_collect_skip(c, file, skip.code, skip.text);
}
