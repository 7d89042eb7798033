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

void read_header_fields(DcmDataset *ds, sp_dicom_header *h)
{
    std::memset(h, 0, sizeof *h);
    get_string(ds, DCM_Modality, h->modality, sizeof h->modality);
    get_string(ds, DCM_SOPClassUID, h->sop_class_uid, sizeof h->sop_class_uid);
    get_string(ds, DCM_PatientID, h->patient_id, sizeof h->patient_id);
    get_string(ds, DCM_PatientName, h->patient_name, sizeof h->patient_name);
    get_string(ds, DCM_StudyInstanceUID, h->study_uid, sizeof h->study_uid);
    get_string(ds, DCM_StudyID, h->study_id, sizeof h->study_id);
    get_string(ds, DCM_StudyDate, h->study_date, sizeof h->study_date);
    get_string(ds, DCM_StudyDescription, h->study_description,
               sizeof h->study_description);
    get_string(ds, DCM_SeriesInstanceUID, h->series_uid, sizeof h->series_uid);
    get_string(ds, DCM_SeriesDescription, h->series_description,
               sizeof h->series_description);
    h->series_number = get_int(ds, DCM_SeriesNumber, 0);
    get_string(ds, DCM_FrameOfReferenceUID, h->frame_of_reference_uid,
               sizeof h->frame_of_reference_uid);
    get_string(ds, DCM_BodyPartExamined, h->body_part, sizeof h->body_part);
    get_string(ds, DCM_Manufacturer, h->manufacturer, sizeof h->manufacturer);
    get_string(ds, DCM_ManufacturerModelName, h->manufacturer_model,
               sizeof h->manufacturer_model);
    get_string(ds, DCM_ProtocolName, h->protocol_name,
               sizeof h->protocol_name);
    get_string(ds, DCM_SequenceName, h->sequence_name,
               sizeof h->sequence_name);
    if (!h->sequence_name[0])
        get_string(ds, DCM_ScanningSequence, h->sequence_name,
                   sizeof h->sequence_name);
    double v;
    if (get_doubles(ds, DCM_EchoTime, &v, 1))
        h->echo_time_ms = v;
    if (get_doubles(ds, DCM_RepetitionTime, &v, 1))
        h->repetition_time_ms = v;
    DcmItem *voi = ds;
    if (!ds->tagExists(DCM_WindowWidth)) {
        DcmItem *shared =
            first_item(ds, DCM_SharedFunctionalGroupsSequence);
        voi = first_item(shared, DCM_FrameVOILUTSequence);
    }
    double c, w;
    if (get_doubles(voi, DCM_WindowCenter, &c, 1) &&
        get_doubles(voi, DCM_WindowWidth, &w, 1) && w > 0) {
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
bool check_pixels(DcmDataset *ds, spd_record *rec, Skip *skip)
{
    Uint16 rows = 0, cols = 0, bits = 0, stored = 0, spp = 1;
    ds->findAndGetUint16(DCM_Rows, rows);
    ds->findAndGetUint16(DCM_Columns, cols);
    ds->findAndGetUint16(DCM_BitsAllocated, bits);
    ds->findAndGetUint16(DCM_BitsStored, stored);
    if (ds->findAndGetUint16(DCM_SamplesPerPixel, spp).bad())
        spp = 1; // absent: DCMTK zeroes the value
    OFString photometric;
    ds->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
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

// Where a direct read (dicom_direct.c) finds the samples. Only for what the
// DCMTK decode (dicom_decode.cc, open_pixels) would read as they are, under
// its checks: the walk and DCMTK must agree on the syntax and the element's
// length; anything else leaves pixel_bytes 0 and the file to DCMTK.
void locate_pixels(DcmDataset *ds, const spd_pixel_loc &loc, spd_record *rec)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (!loc.found)
        return;
    DcmXfer xfer(ds->getOriginalXfer());
    if (xfer.isEncapsulated() || xfer.getByteOrder() != EBO_LittleEndian ||
        xfer.getStreamCompression() != ESC_none ||
        xfer.isImplicitVR() != (loc.implicit_vr != 0))
        return;
    DcmElement *elem = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, elem).bad() || !elem ||
        elem->ident() != EVR_PixelData || elem->getLength() != loc.length)
        return;
    Uint16 stored = 0, high = 0, rep = 0;
    unsigned bits = rec->bits_allocated;
    ds->findAndGetUint16(DCM_BitsStored, stored);
    if (ds->findAndGetUint16(DCM_HighBit, high).bad())
        high = stored ? (Uint16)(stored - 1) : 0;
    ds->findAndGetUint16(DCM_PixelRepresentation, rep);
    if (stored == 0 || stored > bits || high >= bits || high + 1 < stored)
        return;
    Sint32 frames = 0;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad())
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

bool read_rescale(DcmItem *item, spd_record *rec, Skip *skip)
{
    rec->rescale_slope = 1.0;
    rec->rescale_intercept = 0.0;
    double v;
    if (get_doubles(item, DCM_RescaleSlope, &v, 1))
        rec->rescale_slope = v;
    if (get_doubles(item, DCM_RescaleIntercept, &v, 1))
        rec->rescale_intercept = v;
    if (rec->rescale_slope == 0.0)
        return skip_set(skip, SP_FORMAT, "%s", "RescaleSlope is zero");
    return true;
}

bool read_plane(DcmItem *pos_item, DcmItem *orient_item, DcmItem *measures,
                spd_record *rec, Skip *skip)
{
    if (!get_doubles(pos_item, DCM_ImagePositionPatient, rec->position, 3))
        return skip_set(skip, SP_GEOMETRY, "%s",
                        "no valid ImagePositionPatient; not a slice of a "
                        "volume in patient space");
    if (!get_doubles(orient_item, DCM_ImageOrientationPatient,
                     rec->orientation, 6))
        return skip_set(skip, SP_GEOMETRY, "%s",
                        "no valid ImageOrientationPatient; not a slice of "
                        "a volume in patient space");
    if (!check_orientation(rec->orientation))
        return skip_set(skip, SP_GEOMETRY, "%s",
                        "ImageOrientationPatient is not two orthogonal "
                        "unit vectors");
    if (!get_doubles(measures, DCM_PixelSpacing, rec->pixel_spacing, 2) ||
        !(rec->pixel_spacing[0] > 0) || !(rec->pixel_spacing[1] > 0))
        return skip_set(skip, SP_GEOMETRY, "%s",
                        "no valid PixelSpacing (two positive values)");
    double t;
    rec->slice_thickness = 0;
    if (get_doubles(measures, DCM_SliceThickness, &t, 1) && t > 0)
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
        if (!read_plane(macro(fr, shared, DCM_PlanePositionSequence),
                        macro(fr, shared, DCM_PlaneOrientationSequence),
                        macro(fr, shared, DCM_PixelMeasuresSequence), &rec,
                        skip))
            return false;
        DcmItem *pvt = macro(fr, shared, DCM_PixelValueTransformationSequence);
        if (!read_rescale(pvt ? pvt : ds, &rec, skip))
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

bool read_file(const char *file, spd_collect *c, Skip *skip)
{
    if (!looks_like_dicom(file, skip))
        return false;
    // The skip entry carries the path; its reason is the rest.
    sp_error pre;
    spd_pixel_loc loc;
    if (spd_prescan_file_loc(file, &loc, &pre) != SP_OK) {
        size_t n = std::strlen(file);
        const char *why = pre.message;
        if (!std::strncmp(why, file, n) && !std::strncmp(why + n, ": ", 2))
            why += n + 2;
        skip->code = pre.code;
        std::snprintf(skip->text, sizeof skip->text, "%.399s", why);
        return false;
    }
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
        return skip_set(skip, SP_NOTIMAGE, "%s",
                        "DICOMDIR (a media index, not an image)");
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
    std::memset(&rec, 0, sizeof rec);
    rec.path = const_cast<char *>(file);
    rec.acquisition = rec.echo = rec.temporal = rec.instance = -1;
    spd_copy_clean(rec.transfer_syntax, sizeof rec.transfer_syntax, ts);
    read_header_fields(ds, &rec.header);
    if (!check_pixels(ds, &rec, skip))
        return false;
    locate_pixels(ds, loc, &rec);
    if (ds->tagExists(DCM_PerFrameFunctionalGroupsSequence))
        return read_enhanced(ds, file, &rec, c, skip);
    Sint32 frames = 0;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1)
        return skip_set(skip, SP_UNSUPPORTED, "%s",
                        "multi-frame image without per-frame positions "
                        "(not an enhanced CT/MR volume)");
    if (!read_plane(ds, ds, ds, &rec, skip) || !read_rescale(ds, &rec, skip))
        return false;
    rec.acquisition = get_int(ds, DCM_AcquisitionNumber, -1);
    rec.echo = get_int(ds, DCM_EchoNumbers, -1);
    rec.temporal = get_int(ds, DCM_TemporalPositionIdentifier, -1);
    rec.instance = get_int(ds, DCM_InstanceNumber, -1);
    if (spd_collect_record(c, &rec) != SP_OK)
        return skip_set(skip, SP_NOMEM, "%s", "out of memory");
    return true;
}

} // namespace

extern "C" sp_status spd_read_header(const char *file, spd_collect *c)
{
    Skip skip;
    skip.code = SP_OK;
    skip.text[0] = '\0';
    size_t before = c->n_records;
    bool ok;
    try {
        ok = read_file(file, c, &skip);
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
