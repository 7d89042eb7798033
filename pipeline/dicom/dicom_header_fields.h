// The record readers shared by the two ways a header is read: from the
// values the pre-scan's walk caught (ScanValues, dicom_header.cc, in the
// core) and from DCMTK's parse (DcmValues, dicom_header_dcmtk.cc, in the
// DCMTK module). Templates over the value source, so both give the same
// records. Only DCMTK's headers are used here (tag keys, UIDs, types):
// including this links no DCMTK library.
#ifndef SPINEPIPE_DICOM_HEADER_FIELDS_H
#define SPINEPIPE_DICOM_HEADER_FIELDS_H

#include <cmath>
#include <cstdio>
#include <cstring>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcuid.h"

#include "dicom_internal.h"
#include "dicom_prescan.h"

namespace {

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

// Why a file is not usable (dicom_internal.h).
using Skip = spd_skip;

inline bool skip_set(Skip *s, sp_status code, const char *fmt, const char *arg)
{
    s->code = code;
    std::snprintf(s->text, sizeof s->text, fmt, arg);
    return false;
}

inline bool skip_dicomdir(Skip *s)
{
    return skip_set(s, SP_NOTIMAGE, "%s",
                    "DICOMDIR (a media index, not an image)");
}

inline bool check_orientation(double o[6])
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

// frame_count(ds, frames), NumberOfFrames as each value source reads it,
// is found by argument-dependent lookup when locate_pixels is instantiated.
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

} // namespace

#endif
