// Reading one file's header (pixel data left on disk) into slice records:
// one per file, or one per frame of an enhanced multi-frame image. Files
// that are not CT/MR-style image slices are skipped with a reason.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcsequen.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcxfer.h"
#include "dcmtk/ofstd/ofstd.h"

#include "dicom_internal.h"
#include "dicom_prescan.h"

namespace {

// Values longer than this stay on disk while the header is parsed.
const Uint32 kMaxReadLength = 4096;

const char *const kSupportedSyntaxes[] = {
    "1.2.840.10008.1.2",        "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.1.99",   "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.5",      "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",   "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",   "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81",   "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",   "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",  "1.2.840.10008.1.2.4.203",
};

bool syntax_supported(const char *uid)
{
    for (const char *s : kSupportedSyntaxes)
        if (!std::strcmp(s, uid))
            return true;
    return false;
}

void get_string(DcmItem *item, const DcmTagKey &tag, char *dst, size_t size)
{
    OFString v;
    if (item && item->findAndGetOFStringArray(tag, v).good())
        spd_copy_clean(dst, size, v.c_str());
    else
        dst[0] = '\0';
}

bool get_doubles(DcmItem *item, const DcmTagKey &tag, double *out, int n)
{
    if (!item)
        return false;
    for (int i = 0; i < n; i++) {
        Float64 v;
        if (item->findAndGetFloat64(tag, v, i).bad() || !std::isfinite(v))
            return false;
        out[i] = v;
    }
    return true;
}

int get_int(DcmItem *item, const DcmTagKey &tag, int absent)
{
    Sint32 v;
    if (item && item->findAndGetSint32(tag, v).good())
        return (int)v;
    return absent;
}

// First item of sequence `seq` inside `item`, or NULL.
DcmItem *first_item(DcmItem *item, const DcmTagKey &seq)
{
    DcmItem *out = NULL;
    if (item && item->findAndGetSequenceItem(seq, out, 0).good())
        return out;
    return NULL;
}

// A functional group macro from the frame's item, else the shared one.
DcmItem *macro(DcmItem *frame, DcmItem *shared, const DcmTagKey &seq)
{
    DcmItem *m = first_item(frame, seq);
    return m ? m : first_item(shared, seq);
}

// The values the record readers below take, from DCMTK's parsed data set
// (DcmValues) or from what the pre-scan caught (ScanValues). The two give
// the same answers; a value ScanValues cannot be sure of sets its
// `unsure`, and the file is then parsed by DCMTK instead.
struct DcmValues {
    DcmItem *item;
    void string(const DcmTagKey &tag, char *dst, size_t size) const
    {
        get_string(item, tag, dst, size);
    }
    bool doubles(const DcmTagKey &tag, double *out, int n) const
    {
        return get_doubles(item, tag, out, n);
    }
    int integer(const DcmTagKey &tag, int absent) const
    {
        return get_int(item, tag, absent);
    }
    // DCMTK's findAndGetUint16: 0 when absent or unreadable.
    bool u16(const DcmTagKey &tag, Uint16 &v) const
    {
        return item && item->findAndGetUint16(tag, v).good();
    }
    bool exists(const DcmTagKey &tag) const
    {
        return item && item->tagExists(tag);
    }
    // The first value, as findAndGetOFString gives it.
    OFString first(const DcmTagKey &tag) const
    {
        OFString v;
        if (item)
            item->findAndGetOFString(tag, v);
        return v;
    }
    // Where the first VOI window is: the data set, else the shared
    // functional groups' Frame VOI LUT macro.
    DcmValues voi() const
    {
        if (!item || item->tagExists(DCM_WindowWidth))
            return *this;
        DcmItem *shared = first_item(item, DCM_SharedFunctionalGroupsSequence);
        return DcmValues{first_item(shared, DCM_FrameVOILUTSequence)};
    }
};

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

template <typename V> void read_header_fields(const V &ds, sp_dicom_header *h)
{
    std::memset(h, 0, sizeof *h);
    ds.string(DCM_Modality, h->modality, sizeof h->modality);
    ds.string(DCM_SOPClassUID, h->sop_class_uid, sizeof h->sop_class_uid);
    ds.string(DCM_PatientID, h->patient_id, sizeof h->patient_id);
    ds.string(DCM_PatientName, h->patient_name, sizeof h->patient_name);
    ds.string(DCM_StudyInstanceUID, h->study_uid, sizeof h->study_uid);
    ds.string(DCM_StudyID, h->study_id, sizeof h->study_id);
    ds.string(DCM_StudyDate, h->study_date, sizeof h->study_date);
    ds.string(DCM_StudyDescription, h->study_description,
               sizeof h->study_description);
    ds.string(DCM_SeriesInstanceUID, h->series_uid, sizeof h->series_uid);
    ds.string(DCM_SeriesDescription, h->series_description,
               sizeof h->series_description);
    h->series_number = ds.integer(DCM_SeriesNumber, 0);
    ds.string(DCM_FrameOfReferenceUID, h->frame_of_reference_uid,
               sizeof h->frame_of_reference_uid);
    ds.string(DCM_BodyPartExamined, h->body_part, sizeof h->body_part);
    ds.string(DCM_Manufacturer, h->manufacturer, sizeof h->manufacturer);
    ds.string(DCM_ManufacturerModelName, h->manufacturer_model,
               sizeof h->manufacturer_model);
    ds.string(DCM_ProtocolName, h->protocol_name,
               sizeof h->protocol_name);
    ds.string(DCM_SequenceName, h->sequence_name,
               sizeof h->sequence_name);
    if (!h->sequence_name[0])
        ds.string(DCM_ScanningSequence, h->sequence_name,
                   sizeof h->sequence_name);
    double v;
    if (ds.doubles(DCM_EchoTime, &v, 1))
        h->echo_time_ms = v;
    if (ds.doubles(DCM_RepetitionTime, &v, 1))
        h->repetition_time_ms = v;
    V voi = ds.voi();
    double c, w;
    if (voi.doubles(DCM_WindowCenter, &c, 1) &&
        voi.doubles(DCM_WindowWidth, &w, 1) && w > 0) {
        h->window_center = c;
        h->window_width = w;
        h->has_window = 1;
    }
}

// Why a file is not usable, or NULL; `code` gets the status.
struct Skip {
    sp_status code;
    char text[400];
};

bool skip_set(Skip *s, sp_status code, const char *fmt, const char *arg)
{
    s->code = code;
    std::snprintf(s->text, sizeof s->text, fmt, arg);
    return false;
}

bool skip_dicomdir(Skip *s)
{
    return skip_set(s, SP_NOTIMAGE, "%s",
                    "DICOMDIR (a media index, not an image)");
}

bool check_orientation(double o[6])
{
    double r = std::sqrt(o[0] * o[0] + o[1] * o[1] + o[2] * o[2]);
    double c = std::sqrt(o[3] * o[3] + o[4] * o[4] + o[5] * o[5]);
    if (!(r > 0.5 && r < 1.5 && c > 0.5 && c < 1.5))
        return false;
    for (int i = 0; i < 3; i++) {
        o[i] /= r;
        o[i + 3] /= c;
    }
    return std::fabs(o[0] * o[3] + o[1] * o[4] + o[2] * o[5]) < 0.01;
}

// Image pixel module checks shared by classic and enhanced images.
template <typename V>
bool check_pixels(const V &ds, spd_record *rec, Skip *skip)
{
    Uint16 rows = 0, cols = 0, bits = 0, stored = 0, spp = 1;
    ds.u16(DCM_Rows, rows);
    ds.u16(DCM_Columns, cols);
    ds.u16(DCM_BitsAllocated, bits);
    ds.u16(DCM_BitsStored, stored);
    if (!ds.u16(DCM_SamplesPerPixel, spp))
        spp = 1; // absent: DCMTK zeroes the value
    OFString photometric = ds.first(DCM_PhotometricInterpretation);
    char num[32];
    if (spp != 1 || photometric == "PALETTE COLOR") {
        std::snprintf(num, sizeof num, "%s", photometric.c_str());
        return skip_set(skip, SP_UNSUPPORTED,
                        "colour image (%s) is not a CT/MR volume; only "
                        "greyscale images are loaded",
                        num);
    }
    if (rows == 0 || cols == 0)
        return skip_set(skip, SP_FORMAT, "%s",
                        "Rows or Columns is missing or zero");
    if (bits != 8 && bits != 16 && bits != 32) {
        std::snprintf(num, sizeof num, "%u", (unsigned)bits);
        return skip_set(skip, SP_UNSUPPORTED,
                        "BitsAllocated %s is not supported (8, 16 or 32)",
                        num);
    }
    if (stored == 0 || stored > bits) {
        std::snprintf(num, sizeof num, "%u", (unsigned)stored);
        return skip_set(skip, SP_FORMAT,
                        "BitsStored %s does not fit BitsAllocated", num);
    }
    rec->rows = rows;
    rec->columns = cols;
    rec->bits_allocated = bits;
    rec->samples_per_pixel = spp;
    return true;
}

// Whether DCMTK agrees with the walk on the syntax and the pixel element's
// length (a file read by ScanValues: the walk alone found them).
bool dcmtk_agrees(DcmDataset *ds, const spd_pixel_loc &loc)
{
    DcmXfer xfer(ds->getOriginalXfer());
    if (xfer.isEncapsulated() || xfer.getByteOrder() != EBO_LittleEndian ||
        xfer.getStreamCompression() != ESC_none ||
        xfer.isImplicitVR() != (loc.implicit_vr != 0))
        return false;
    DcmElement *elem = nullptr;
    return ds->findAndGetElement(DCM_PixelData, elem).good() && elem &&
           elem->ident() == EVR_PixelData && elem->getLength() == loc.length;
}

// NumberOfFrames as findAndGetSint32 reads it.
bool frame_count(const DcmValues &ds, Sint32 &frames)
{
    return ds.item->findAndGetSint32(DCM_NumberOfFrames, frames).good();
}

// The walk leaves files with NumberOfFrames to DCMTK.
bool frame_count(const ScanValues &ds, Sint32 &frames)
{
    if (ds.exists(DCM_NumberOfFrames))
        *ds.unsure = true;
    frames = 0;
    return false;
}

// Where a direct read (dicom_direct.c) finds the samples. Only for what the
// DCMTK decode (dicom_decode.cc, open_pixels) would read as they are, under
// its checks: the walk and DCMTK must agree on the syntax and the element's
// length (dcmtk_agrees); anything else leaves pixel_bytes 0 and the file
// to DCMTK.
template <typename V>
void locate_pixels(const V &ds, const spd_pixel_loc &loc, spd_record *rec)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    Uint16 stored = 0, high = 0, rep = 0;
    unsigned bits = rec->bits_allocated;
    ds.u16(DCM_BitsStored, stored);
    if (!ds.u16(DCM_HighBit, high))
        high = stored ? (Uint16)(stored - 1) : 0;
    ds.u16(DCM_PixelRepresentation, rep);
    if (stored == 0 || stored > bits || high >= bits || high + 1 < stored)
        return;
    Sint32 frames = 0;
    if (!frame_count(ds, frames))
        frames = 1;
    else if (frames < 1)
        return;
    uint64_t frame = (uint64_t)rec->rows * rec->columns * (bits / 8), need;
    if (__builtin_mul_overflow(frame, (uint64_t)frames, &need) ||
        loc.length < need || loc.length - need >= frame)
        return;
    rec->pixel_offset = loc.offset;
    rec->pixel_bytes = frame;
    rec->file_size = loc.file_size;
    rec->file_mtime_ns = loc.mtime_ns;
    rec->bits_stored = stored;
    rec->high_bit = high;
    rec->pixel_signed = rep == 1;
#else
    (void)ds;
    (void)loc;
    (void)rec;
#endif
}

template <typename V>
bool read_rescale(const V &item, spd_record *rec, Skip *skip)
{
    rec->rescale_slope = 1.0;
    rec->rescale_intercept = 0.0;
    double v;
    if (item.doubles(DCM_RescaleSlope, &v, 1))
        rec->rescale_slope = v;
    if (item.doubles(DCM_RescaleIntercept, &v, 1))
        rec->rescale_intercept = v;
    if (rec->rescale_slope == 0.0)
        return skip_set(skip, SP_FORMAT, "%s", "RescaleSlope is zero");
    return true;
}

template <typename V>
bool read_plane(const V &pos_item, const V &orient_item, const V &measures,
                spd_record *rec, Skip *skip)
{
    if (!pos_item.doubles(DCM_ImagePositionPatient, rec->position, 3))
        return skip_set(skip, SP_GEOMETRY, "%s",
                        "no valid ImagePositionPatient; not a slice of a "
                        "volume in patient space");
    if (!orient_item.doubles(DCM_ImageOrientationPatient, rec->orientation,
                             6))
        return skip_set(skip, SP_GEOMETRY, "%s",
                        "no valid ImageOrientationPatient; not a slice of "
                        "a volume in patient space");
    if (!check_orientation(rec->orientation))
        return skip_set(skip, SP_GEOMETRY, "%s",
                        "ImageOrientationPatient is not two orthogonal "
                        "unit vectors");
    if (!measures.doubles(DCM_PixelSpacing, rec->pixel_spacing, 2) ||
        !(rec->pixel_spacing[0] > 0) || !(rec->pixel_spacing[1] > 0))
        return skip_set(skip, SP_GEOMETRY, "%s",
                        "no valid PixelSpacing (two positive values)");
    double t;
    rec->slice_thickness = 0;
    if (measures.doubles(DCM_SliceThickness, &t, 1) && t > 0)
        rec->slice_thickness = t;
    return true;
}

bool read_enhanced(DcmDataset *ds, const char *file, spd_record *base,
                   spd_collect *c, Skip *skip)
{
    DcmSequenceOfItems *frames = NULL;
    ds->findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, frames);
    DcmItem *shared = first_item(ds, DCM_SharedFunctionalGroupsSequence);
    Sint32 n = 0;
    ds->findAndGetSint32(DCM_NumberOfFrames, n);
    if (!frames || n <= 0 || frames->card() != (unsigned long)n)
        return skip_set(skip, SP_FORMAT, "%s",
                        "PerFrameFunctionalGroupsSequence does not have one "
                        "item per frame (NumberOfFrames)");
    for (Sint32 f = 0; f < n; f++) {
        DcmItem *fr = frames->getItem((unsigned long)f);
        spd_record rec = *base;
        rec.frame = (uint32_t)f;
        rec.instance = (int)f;
        if (!read_plane(
                DcmValues{macro(fr, shared, DCM_PlanePositionSequence)},
                DcmValues{macro(fr, shared, DCM_PlaneOrientationSequence)},
                DcmValues{macro(fr, shared, DCM_PixelMeasuresSequence)}, &rec,
                skip))
            return false;
        DcmItem *pvt = macro(fr, shared, DCM_PixelValueTransformationSequence);
        if (!read_rescale(DcmValues{pvt ? pvt : ds}, &rec, skip))
            return false;
        DcmItem *content = first_item(fr, DCM_FrameContentSequence);
        rec.temporal = get_int(content, DCM_TemporalPositionIndex, -1);
        double te;
        DcmItem *echo = macro(fr, shared, DCM_MREchoSequence);
        if (get_doubles(echo, DCM_EffectiveEchoTime, &te, 1) && te >= 0 &&
            te < 1e6)
            rec.echo = (int)std::lround(te * 100.0);
        if (spd_collect_record(c, &rec) != SP_OK)
            return skip_set(skip, SP_NOMEM, "%s", "out of memory");
    }
    (void)file;
    return true;
}

// A DICOM file has "DICM" after its 128-byte preamble; a bare data set
// (old ACR-NEMA style) starts with group 0002 or 0008 in either byte
// order. Anything else is not handed to DCMTK's parser at all.
bool looks_like_dicom(const char *file, Skip *skip)
{
    unsigned char head[132];
    std::FILE *f = std::fopen(file, "rb");
    if (!f)
        return skip_set(skip, SP_NOINPUT, "cannot open: %s",
                        std::strerror(errno));
    size_t n = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
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

// The start of a slice record, the same for classic and enhanced images:
// header fields, pixel module checks, and where a direct read finds the
// samples (when `direct`: the walk found them and DCMTK, if it parsed the
// file, agrees).
template <typename V>
bool start_record(const V &ds, const char *file, const char *ts,
                  const spd_pixel_loc &loc, bool direct, spd_record *rec,
                  Skip *skip)
{
    std::memset(rec, 0, sizeof *rec);
    rec->path = const_cast<char *>(file);
    rec->acquisition = rec->echo = rec->temporal = rec->instance = -1;
    spd_copy_clean(rec->transfer_syntax, sizeof rec->transfer_syntax, ts);
    read_header_fields(ds, &rec->header);
    if (!check_pixels(ds, rec, skip))
        return false;
    if (direct)
        locate_pixels(ds, loc, rec);
    return true;
}

// The rest of a classic (one frame per file) image's record.
template <typename V>
bool classic_record(const V &ds, spd_record *rec, Skip *skip)
{
    if (!read_plane(ds, ds, ds, rec, skip) || !read_rescale(ds, rec, skip))
        return false;
    rec->acquisition = ds.integer(DCM_AcquisitionNumber, -1);
    rec->echo = ds.integer(DCM_EchoNumbers, -1);
    rec->temporal = ds.integer(DCM_TemporalPositionIdentifier, -1);
    rec->instance = ds.integer(DCM_InstanceNumber, -1);
    return true;
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

bool read_file(const char *file, spd_collect *c, Skip *skip, bool scan_ok,
               bool *scanned)
{
    if (!looks_like_dicom(file, skip))
        return false;
    // The skip entry carries the path; its reason is the rest.
    sp_error pre;
    spd_pixel_loc loc;
    spd_header_values values;
    if (spd_prescan_file_values(file, &loc, scan_ok ? &values : nullptr,
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
    sp_error dict;
    if (spd_dictionary_ready(&dict) != SP_OK)
        return skip_set(skip, dict.code, "%.399s", dict.message);
    DcmFileFormat ff;
    OFCondition cond = ff.loadFile(file, EXS_Unknown, EGL_noChange,
                                   kMaxReadLength, ERM_autoDetect);
    if (cond.bad())
        return skip_set(skip, SP_NOTDICOM, "not a readable DICOM file (%s)",
                        cond.text());
    DcmDataset *ds = ff.getDataset();
    OFString media;
    if (ff.getMetaInfo())
        ff.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID,
                                             media);
    if (media == UID_MediaStorageDirectoryStorage)
        return skip_dicomdir(skip);
    OFString sop;
    ds->findAndGetOFString(DCM_SOPClassUID, sop);
    if (sop.empty() && !ds->tagExists(DCM_PixelData))
        return skip_set(skip, SP_NOTDICOM, "%s",
                        "no SOP Class UID and no pixel data: not a DICOM "
                        "image");
    char sop_name[128];
    std::snprintf(sop_name, sizeof sop_name, "%s",
                  dcmFindNameOfUID(sop.c_str(),
                                   sop.empty() ? "no SOP class" : sop.c_str()));
    if (sop == UID_SegmentationStorage)
        return skip_set(skip, SP_NOTIMAGE, "%s",
                        "segmentation (SEG) object is not a CT/MR image "
                        "volume");
    if (sop == UID_RTDoseStorage)
        return skip_set(skip, SP_NOTIMAGE, "%s",
                        "RT Dose grid is not a CT/MR image volume");
    if (!ds->tagExists(DCM_PixelData)) {
        if (ds->tagExists(DCM_FloatPixelData) ||
            ds->tagExists(DCM_DoubleFloatPixelData))
            return skip_set(skip, SP_UNSUPPORTED,
                            "float pixel data (%s) is not supported",
                            sop_name);
        return skip_set(skip, SP_NOTIMAGE, "no pixel data (%s)", sop_name);
    }
    DcmXfer xfer(ds->getOriginalXfer());
    const char *ts = xfer.getXferID();
    if (!ts || !*ts || !syntax_supported(ts)) {
        char what[200];
        std::snprintf(what, sizeof what, "%s (%s)", ts && *ts ? ts : "?",
                      xfer.getXferName());
        return skip_set(skip, SP_UNSUPPORTED,
                        "transfer syntax %s is not supported", what);
    }
    spd_record rec;
    if (!start_record(DcmValues{ds}, file, ts, loc,
                      loc.found && dcmtk_agrees(ds, loc), &rec, skip))
        return false;
    if (ds->tagExists(DCM_PerFrameFunctionalGroupsSequence))
        return read_enhanced(ds, file, &rec, c, skip);
    Sint32 frames = 0;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1)
        return skip_set(skip, SP_UNSUPPORTED, "%s",
                        "multi-frame image without per-frame positions "
                        "(not an enhanced CT/MR volume)");
    if (!classic_record(DcmValues{ds}, &rec, skip))
        return false;
    if (spd_collect_record(c, &rec) != SP_OK)
        return skip_set(skip, SP_NOMEM, "%s", "out of memory");
    return true;
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
