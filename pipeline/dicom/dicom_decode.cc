// Pixel data of one file, decoded to float per frame with the rescale
// applied in double. Uncompressed data is read straight from the PixelData
// element; RLE, JPEG and JPEG-LS go through DCMTK's decoders; JPEG 2000
// fragments go to OpenJPEG (dicom_j2k.c), which DCMTK 3.6.7 lacks.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include "dicom_module.h"
#include "dicom_prescan.h"

struct spd_pixels {
    DcmFileFormat ff;
    std::string path;
    uint32_t rows = 0, columns = 0, frames = 1;
    uint16_t bits = 0, stored = 0, shift = 0;
    bool is_signed = false;
    const uint8_t *raw = nullptr; // uncompressed frames, local byte order
    size_t raw_len = 0;
    bool j2k = false;
    DcmPixelSequence *seq = nullptr;
    std::vector<unsigned long> frame_first; // first fragment of each frame
    std::vector<uint8_t> codestream;
    std::vector<int32_t> samples;
};

namespace {

const Uint32 kEagerLength = 65536;

bool is_j2k(const char *uid)
{
    static const char *const j2k[] = {
        "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
        "1.2.840.10008.1.2.4.203"};
    for (const char *u : j2k)
        if (!std::strcmp(u, uid))
            return true;
    return false;
}

sp_status fail(sp_error *err, sp_status code, const std::string &path,
               const char *what, const char *detail = "")
{
    return sp_error_set(err, code, "%s: %s%s", path.c_str(), what, detail);
}

// Frame k starts at the fragment that begins a codestream (SOC + SIZ, or a
// JP2 signature box); fragment 0 is the basic offset table.
sp_status map_j2k_frames(spd_pixels *px, sp_error *err)
{
    unsigned long n = px->seq->card();
    for (unsigned long i = 1; i < n; i++) {
        DcmPixelItem *item = nullptr;
        Uint8 *data = nullptr;
        if (px->seq->getItem(item, i).bad() ||
            item->getUint8Array(data).bad())
            return fail(err, SP_DECODE, px->path,
                        "cannot read a JPEG 2000 fragment");
        Uint32 len = item->getLength();
        bool starts = len >= 4 && data &&
                      ((data[0] == 0xFF && data[1] == 0x4F &&
                        data[2] == 0xFF && data[3] == 0x51) ||
                       (data[0] == 0 && data[1] == 0 && data[2] == 0 &&
                        data[3] == 0x0C));
        if (starts || px->frame_first.empty())
            px->frame_first.push_back(i);
    }
    if (px->frame_first.size() != px->frames) {
        char detail[96];
        std::snprintf(detail, sizeof detail, " (%zu codestreams for %u frames)",
                      px->frame_first.size(), (unsigned)px->frames);
        return fail(err, SP_DECODE, px->path,
                    "JPEG 2000 fragments do not match NumberOfFrames",
                    detail);
    }
    return SP_OK;
}

sp_status open_pixels(spd_pixels *px, sp_error *err)
{
    // DCMTK allocates an element's declared length before reading it, so
    // a small file can claim gigabytes: every declared length is checked
    // against the file first. Elements over 64 KiB stay on disk until used
    // (most never are).
    struct stat st;
    if (stat(px->path.c_str(), &st) != 0)
        return fail(err, SP_IO, px->path, "cannot read: ",
                    std::strerror(errno));
    sp_status pre = spd_prescan_file(px->path.c_str(), err);
    if (pre == SP_OK)
        pre = spd_dcmtk_dictionary_ready(err);
    if (pre != SP_OK)
        return pre;
    OFCondition cond = px->ff.loadFile(px->path.c_str(), EXS_Unknown,
                                       EGL_noChange, kEagerLength,
                                       ERM_autoDetect);
    if (cond.bad())
        return fail(err, SP_IO, px->path, "cannot read: ", cond.text());
    DcmDataset *ds = px->ff.getDataset();
    Uint16 rows = 0, cols = 0, bits = 0, stored = 0, high = 0, rep = 0;
    Uint16 spp = 1;
    ds->findAndGetUint16(DCM_Rows, rows);
    ds->findAndGetUint16(DCM_Columns, cols);
    ds->findAndGetUint16(DCM_BitsAllocated, bits);
    ds->findAndGetUint16(DCM_BitsStored, stored);
    if (ds->findAndGetUint16(DCM_HighBit, high).bad())
        high = stored ? (Uint16)(stored - 1) : 0;
    ds->findAndGetUint16(DCM_PixelRepresentation, rep);
    if (ds->findAndGetUint16(DCM_SamplesPerPixel, spp).bad())
        spp = 1; // absent: DCMTK zeroes the value
    if (px->rows == 0 && px->columns == 0) {
        px->rows = rows;
        px->columns = cols;
    }
    if (rows == 0 || cols == 0 || rows != px->rows || cols != px->columns)
        return fail(err, SP_FORMAT, px->path,
                    "matrix size missing or changed since the scan");
    if (spp != 1 || (bits != 8 && bits != 16 && bits != 32) || stored == 0 ||
        stored > bits || high >= bits || high + 1 < stored)
        return fail(err, SP_UNSUPPORTED, px->path,
                    "unsupported pixel layout (samples, BitsAllocated, "
                    "BitsStored or HighBit)");
    px->bits = bits;
    px->stored = stored;
    px->shift = (uint16_t)(high + 1 - stored);
    px->is_signed = rep == 1;
    // DCMTK zeroes the value when the tag is absent: one frame then.
    Sint32 frames = 0;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad())
        frames = 1;
    else if (frames < 1)
        return fail(err, SP_FORMAT, px->path, "NumberOfFrames is below 1");
    px->frames = (uint32_t)frames;

    DcmElement *elem = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, elem).bad() || !elem)
        return fail(err, SP_NOTIMAGE, px->path, "no pixel data");
    // A hostile file can give (7FE0,0010) another VR; DCMTK then makes a
    // plain element, not a DcmPixelData (found by fuzzing).
    if (elem->ident() != EVR_PixelData)
        return fail(err, SP_FORMAT, px->path,
                    "PixelData has an unexpected value representation");
    DcmPixelData *pd = static_cast<DcmPixelData *>(elem);
    DcmXfer xfer(ds->getOriginalXfer());
    if (xfer.isEncapsulated() && is_j2k(xfer.getXferID())) {
        px->j2k = true;
        if (pd->getEncapsulatedRepresentation(xfer.getXfer(), nullptr,
                                              px->seq)
                .bad() ||
            !px->seq)
            return fail(err, SP_DECODE, px->path,
                        "JPEG 2000 pixel data has no fragments");
        return map_j2k_frames(px, err);
    }
    if (xfer.isEncapsulated()) {
        cond = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (cond.bad() || !ds->hasRepresentation(EXS_LittleEndianExplicit,
                                                 nullptr)) {
            char detail[160];
            std::snprintf(detail, sizeof detail, "%s: %s",
                          xfer.getXferName(), cond.text());
            return fail(err, SP_DECODE, px->path, "cannot decompress ",
                        detail);
        }
        ds->removeAllButCurrentRepresentations();
    } else if (bits == 32 && xfer.getByteOrder() != EBO_LittleEndian) {
        return fail(err, SP_UNSUPPORTED, px->path,
                    "32-bit pixel data in big endian is not supported");
    }
    if (!xfer.isEncapsulated() && xfer.getStreamCompression() == ESC_none &&
        elem->getLength() > (Uint32)st.st_size) {
        char detail[96];
        std::snprintf(detail, sizeof detail, " (%lu bytes in a file of %lld)",
                      (unsigned long)elem->getLength(),
                      (long long)st.st_size);
        return fail(err, SP_FORMAT, px->path,
                    "PixelData is longer than the file", detail);
    }
    Uint8 *raw = nullptr;
    if (elem->getUint8Array(raw).bad() || !raw)
        return fail(err, SP_DECODE, px->path, "cannot read the pixel data");
    px->raw = raw;
    px->raw_len = elem->getLength();
    size_t need;
    if (__builtin_mul_overflow((size_t)rows * cols * (bits / 8),
                               (size_t)px->frames, &need) ||
        px->raw_len < need) {
        char detail[128];
        std::snprintf(detail, sizeof detail, " (%zu bytes for %u frames)",
                      px->raw_len, (unsigned)px->frames);
        return fail(err, SP_DECODE, px->path,
                    "pixel data is shorter than declared", detail);
    }
    // Trailing padding (up to one frame, as in pydicom's MR_small_padded)
    // is ignored; a whole frame or more beyond the declared size means the
    // header's matrix, bit depth or frame count does not describe the data.
    if (px->raw_len - need >= need / px->frames) {
        char detail[160];
        std::snprintf(detail, sizeof detail,
                      " (%zu bytes; %u x %u x %u bits x %u frames need %zu)",
                      px->raw_len, (unsigned)cols, (unsigned)rows,
                      (unsigned)bits, (unsigned)px->frames, need);
        return fail(err, SP_DECODE, px->path,
                    "pixel data is longer than declared", detail);
    }
    return SP_OK;
}

// Stored bit pattern -> value: shift down, keep BitsStored bits, extend
// the sign for signed data.
inline int64_t stored_value(uint32_t raw, uint16_t shift, uint16_t stored,
                            bool is_signed)
{
    uint32_t v = raw >> shift;
    if (stored < 32)
        v &= (1u << stored) - 1u;
    if (is_signed && stored <= 32 && (v >> (stored - 1)) & 1u)
        return (int64_t)v - ((int64_t)1 << stored);
    return (int64_t)v;
}

sp_status j2k_frame(spd_pixels *px, uint32_t frame, double slope,
                    double intercept, float *out, sp_error *err)
{
    unsigned long first = px->frame_first[frame];
    unsigned long end = frame + 1 < px->frame_first.size()
                            ? px->frame_first[frame + 1]
                            : px->seq->card();
    px->codestream.clear();
    for (unsigned long i = first; i < end; i++) {
        DcmPixelItem *item = nullptr;
        Uint8 *data = nullptr;
        if (px->seq->getItem(item, i).bad() ||
            item->getUint8Array(data).bad())
            return fail(err, SP_DECODE, px->path,
                        "cannot read a JPEG 2000 fragment");
        if (data)
            px->codestream.insert(px->codestream.end(), data,
                                  data + item->getLength());
    }
    size_t n = (size_t)px->rows * px->columns;
    px->samples.resize(n);
    int j2k_signed = 0, precision = 0;
    sp_error local;
    sp_status st = spd_j2k_decode(px->codestream.data(),
                                  px->codestream.size(), px->rows,
                                  px->columns, px->samples.data(),
                                  &j2k_signed, &precision, &local);
    if (st != SP_OK)
        return fail(err, st, px->path, local.message);
    // An unsigned codestream of signed DICOM data holds the two's
    // complement bit pattern: extend the sign from BitsStored.
    bool extend = px->is_signed && !j2k_signed;
    for (size_t i = 0; i < n; i++) {
        int64_t v = px->samples[i];
        if (extend)
            v = stored_value((uint32_t)v, 0, px->stored, true);
        out[i] = (float)((double)v * slope + intercept);
    }
    return SP_OK;
}

} // namespace

extern "C" sp_status spd_dcmtk_pixels_open(const char *path, uint32_t rows,
                                           uint32_t columns, spd_pixels **out,
                                           sp_error *err)
{
    *out = nullptr;
    spd_pixels *px = nullptr;
    try {
        px = new spd_pixels;
        px->path = path;
        px->rows = rows;
        px->columns = columns;
        sp_status st = open_pixels(px, err);
        if (st != SP_OK) {
            delete px;
            return st;
        }
        *out = px;
        return SP_OK;
    } catch (const std::bad_alloc &) {
        delete px;
        return sp_error_set(err, SP_NOMEM, "%s: out of memory while reading "
                                           "pixel data",
                            path);
    } catch (...) {
        delete px;
        return sp_error_set(err, SP_INTERNAL,
                            "%s: unexpected error while reading pixel data",
                            path);
    }
}

extern "C" sp_status spd_dcmtk_pixels_frame(spd_pixels *px, uint32_t frame,
                                            double slope, double intercept,
                                            float *out, sp_error *err)
{
    if (frame >= px->frames)
        return sp_error_set(err, SP_FORMAT, "%s: frame %u does not exist "
                                            "(%u frames)",
                            px->path.c_str(), (unsigned)frame,
                            (unsigned)px->frames);
    try {
        if (px->j2k)
            return j2k_frame(px, frame, slope, intercept, out, err);
        size_t n = (size_t)px->rows * px->columns;
        size_t bytes = px->bits / 8;
        const uint8_t *src = px->raw + (size_t)frame * n * bytes;
        spd_convert_samples(src, n, px->bits, px->stored, px->shift,
                            px->is_signed, slope, intercept, out);
        return SP_OK;
    } catch (...) {
        return sp_error_set(err, SP_INTERNAL,
                            "%s: unexpected error while decoding frame %u",
                            px->path.c_str(), (unsigned)frame);
    }
}

extern "C" void spd_dcmtk_pixels_size(const spd_pixels *px, uint32_t *rows,
                                      uint32_t *columns, uint32_t *frames)
{
    *rows = px->rows;
    *columns = px->columns;
    *frames = px->frames;
}

extern "C" void spd_dcmtk_pixels_close(spd_pixels *px)
{
    try {
        delete px;
    } catch (...) {
    }
}
