// Reading a header with DCMTK (the DCMTK module, dicom_module.h): the
// files the pre-scan's values alone cannot make a record of (dicom_header.cc).
#include <cmath>
#include <cstdio>
#include <cstring>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcsequen.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include "dicom_header_fields.h"
#include "dicom_module.h"

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

// The values the record readers (dicom_header_fields.h) take from DCMTK's
// parsed data set.
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

// NumberOfFrames as findAndGetSint32 reads it.
bool frame_count(const DcmValues &ds, Sint32 &frames)
{
    return ds.item->findAndGetSint32(DCM_NumberOfFrames, frames).good();
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

} // namespace

extern "C" int spd_dcmtk_read_header(const char *file,
                                     const spd_pixel_loc *ploc,
                                     spd_collect *c, spd_skip *skip)
{
    const spd_pixel_loc &loc = *ploc;
    sp_error dict;
    if (spd_dcmtk_dictionary_ready(&dict) != SP_OK)
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
