// Writing a volume as a single-frame CT or MR series through DCMTK.
//
// Every element is created with an explicit VR so writing does not depend
// on DCMTK's data dictionary being loaded (spd_dcmtk_dictionary_ready loads it
// first all the same).
// Header strings are hostile: they are reduced to printable ASCII, cut to
// the VR's maximum length and stripped of the multi-value separator.
#include "spinepipe/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrda.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dicom_module.h"

namespace {

// Printable ASCII only, no backslash (VM separator), at most max_len bytes,
// trailing spaces dropped (DICOM pads with spaces anyway).
std::string clean_text(const char *s, size_t max_len)
{
    std::string out;
    for (size_t i = 0; s[i] && out.size() < max_len; i++) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        out += (c < 0x20 || c >= 0x7f || c == '\\') ? '?' : static_cast<char>(c);
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

// Code String: upper-case letters, digits, space and underscore.
std::string clean_code(const char *s, size_t max_len)
{
    std::string out;
    for (size_t i = 0; s[i] && out.size() < max_len; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
        bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == ' ' || c == '_';
        out += ok ? c : '_';
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

// A date is kept only when it is exactly eight digits.
std::string clean_date(const char *s)
{
    if (strlen(s) != 8)
        return "";
    for (int i = 0; i < 8; i++)
        if (s[i] < '0' || s[i] > '9')
            return "";
    return s;
}

// A UID is kept when it has the UID syntax; otherwise a new one is made.
bool valid_uid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (s[i + 1] == '.' || (s[i + 1] == '0' && s[i + 2] >= '0' &&
                                    s[i + 2] <= '9'))
                return false;
        } else if (c < '0' || c > '9') {
            return false;
        }
    }
    return !(s[0] == '0' && n > 1 && s[1] != '.');
}

std::string uid_or_new(const char *given, const char *root)
{
    if (valid_uid(given))
        return given;
    char buf[100];
    dcmGenerateUniqueIdentifier(buf, root);
    return buf;
}

std::string format_ds(double v)
{
    char buf[32];
    // DS holds at most 16 characters.
    for (int prec = 10; prec > 0; prec--) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strlen(buf) <= 16)
            break;
    }
    if (strcmp(buf, "-0") == 0)
        return "0";
    return buf;
}

std::string format_ds_list(const double *v, int n)
{
    std::string out;
    for (int i = 0; i < n; i++) {
        if (i)
            out += '\\';
        out += format_ds(v[i]);
    }
    return out;
}

double voxel_value(const sp_volume *vol, size_t idx)
{
    switch (vol->type) {
    case SP_VOXEL_F32: return static_cast<const float *>(vol->data)[idx];
    case SP_VOXEL_U8: return static_cast<const uint8_t *>(vol->data)[idx];
    case SP_VOXEL_U16: return static_cast<const uint16_t *>(vol->data)[idx];
    }
    return 0.0;
}

struct Rescale {
    double slope;
    double intercept;
};

// Slope 1 keeps integers exact (CT in HU with intercept -1024 as scanners
// do) and is kept for wide ranges (rounding costs at most 0.05 % of the
// range; MR readers expect plain integers); narrow non-integer ranges are
// spread over the full signed 16-bit span.
sp_status choose_rescale(const sp_volume *vol, bool is_ct, Rescale *r,
                         sp_error *err)
{
    size_t n = sp_volume_count(vol);
    double lo = INFINITY, hi = -INFINITY;
    bool integral = true;
    for (size_t i = 0; i < n; i++) {
        double v = voxel_value(vol, i);
        if (!std::isfinite(v))
            return sp_error_set(err, SP_FORMAT,
                                "cannot write DICOM: voxel %zu is not a finite "
                                "number",
                                i);
        if (v < lo)
            lo = v;
        if (v > hi)
            hi = v;
        if (integral && v != std::floor(v))
            integral = false;
    }
    if (is_ct && lo + 1024 >= -32768 && hi + 1024 <= 32767) {
        *r = {1.0, -1024.0};
        return SP_OK;
    }
    if (lo >= -32768 && hi <= 32767 && (integral || hi - lo >= 1000)) {
        *r = {1.0, 0.0};
        return SP_OK;
    }
    double slope = (hi - lo) / 65534.0;
    if (!(slope > 0))
        slope = 1.0;
    *r = {slope, lo + 32767.0 * slope};
    return SP_OK;
}

sp_status make_dirs(const char *dir, sp_error *err)
{
    std::string path(dir);
    if (path.empty())
        return sp_error_set(err, SP_CANTCREATE,
                            "cannot write DICOM series: empty output folder");
    for (size_t pos = 1; pos <= path.size(); pos++) {
        if (pos != path.size() && path[pos] != '/')
            continue;
        std::string part = path.substr(0, pos);
        if (mkdir(part.c_str(), 0777) != 0 && errno != EEXIST)
            return sp_error_set(err, SP_CANTCREATE, "%s: cannot create folder: %s",
                                part.c_str(), strerror(errno));
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return sp_error_set(err, SP_CANTCREATE, "%s: not a folder", dir);
    return SP_OK;
}

// Everything one slice's dataset shares with the others.
struct SeriesInfo {
    const sp_volume *vol;
    const sp_dicom_header *h;
    bool is_ct;
    std::string study_uid, series_uid, frame_uid;
    Rescale rescale;
    double row_dir[3], col_dir[3], normal[3];
    double spacing_between;
    double thickness;
};

#define PUT(item, key, vr, value)                                              \
    do {                                                                       \
        OFCondition c_ = (item)->putAndInsertString(DcmTag(key, vr),           \
                                                    std::string(value).c_str()); \
        if (c_.bad())                                                          \
            return c_;                                                         \
    } while (0)

OFCondition fill_slice(const SeriesInfo &s, size_t k, DcmDataset *ds,
                       std::vector<Sint16> &pixels)
{
    const sp_volume *vol = s.vol;
    const sp_dicom_header *h = s.h;
    size_t nx = vol->dim[0], ny = vol->dim[1];
    char num[32];

    const char *sop_class = s.is_ct ? UID_CTImageStorage : UID_MRImageStorage;
    std::string sop_uid;
    snprintf(num, sizeof num, ".%zu", k + 1);
    if (s.series_uid.size() + strlen(num) <= 64)
        sop_uid = s.series_uid + num;
    else
        sop_uid = uid_or_new("", SITE_INSTANCE_UID_ROOT);

    PUT(ds, DCM_ImageType, EVR_CS,
        s.is_ct ? "ORIGINAL\\PRIMARY\\AXIAL" : "ORIGINAL\\PRIMARY\\OTHER");
    PUT(ds, DCM_SOPClassUID, EVR_UI, sop_class);
    PUT(ds, DCM_SOPInstanceUID, EVR_UI, sop_uid);
    std::string date = clean_date(h->study_date);
    PUT(ds, DCM_StudyDate, EVR_DA, date);
    PUT(ds, DCM_SeriesDate, EVR_DA, date);
    PUT(ds, DCM_StudyTime, EVR_TM, "");
    PUT(ds, DCM_AccessionNumber, EVR_SH, "");
    PUT(ds, DCM_Modality, EVR_CS, s.is_ct ? "CT" : "MR");
    PUT(ds, DCM_Manufacturer, EVR_LO, clean_text(h->manufacturer, 64));
    PUT(ds, DCM_ReferringPhysicianName, EVR_PN, "");
    PUT(ds, DCM_StudyDescription, EVR_LO, clean_text(h->study_description, 64));
    PUT(ds, DCM_SeriesDescription, EVR_LO, clean_text(h->series_description, 64));
    PUT(ds, DCM_ManufacturerModelName, EVR_LO,
        clean_text(h->manufacturer_model, 64));
    PUT(ds, DCM_PatientName, EVR_PN, clean_text(h->patient_name, 64));
    PUT(ds, DCM_PatientID, EVR_LO, clean_text(h->patient_id, 64));
    PUT(ds, DCM_PatientBirthDate, EVR_DA, "");
    PUT(ds, DCM_PatientSex, EVR_CS, "");
    PUT(ds, DCM_BodyPartExamined, EVR_CS, clean_code(h->body_part, 16));
    if (s.is_ct) {
        PUT(ds, DCM_KVP, EVR_DS, "");
    } else {
        std::string seq = clean_code(h->sequence_name, 16);
        PUT(ds, DCM_ScanningSequence, EVR_CS, seq.empty() ? "SE" : seq);
        PUT(ds, DCM_SequenceVariant, EVR_CS, "NONE");
        PUT(ds, DCM_ScanOptions, EVR_CS, "");
        PUT(ds, DCM_MRAcquisitionType, EVR_CS, "2D");
        PUT(ds, DCM_RepetitionTime, EVR_DS,
            h->repetition_time_ms > 0 ? format_ds(h->repetition_time_ms) : "");
        PUT(ds, DCM_EchoTime, EVR_DS,
            h->echo_time_ms > 0 ? format_ds(h->echo_time_ms) : "");
        PUT(ds, DCM_EchoTrainLength, EVR_IS, "");
        PUT(ds, DCM_SequenceName, EVR_SH, clean_text(h->sequence_name, 16));
    }
    PUT(ds, DCM_SliceThickness, EVR_DS, format_ds(s.thickness));
    PUT(ds, DCM_SpacingBetweenSlices, EVR_DS, format_ds(s.spacing_between));
    PUT(ds, DCM_ProtocolName, EVR_LO, clean_text(h->protocol_name, 64));
    PUT(ds, DCM_PatientPosition, EVR_CS, "HFS");
    PUT(ds, DCM_StudyInstanceUID, EVR_UI, s.study_uid);
    PUT(ds, DCM_SeriesInstanceUID, EVR_UI, s.series_uid);
    PUT(ds, DCM_StudyID, EVR_SH, clean_text(h->study_id, 16));
    snprintf(num, sizeof num, "%d", h->series_number > 0 ? h->series_number : 1);
    PUT(ds, DCM_SeriesNumber, EVR_IS, num);
    PUT(ds, DCM_AcquisitionNumber, EVR_IS, "1");
    snprintf(num, sizeof num, "%zu", k + 1);
    PUT(ds, DCM_InstanceNumber, EVR_IS, num);

    double ijk[3] = {0, 0, static_cast<double>(k)}, pos[3];
    sp_volume_voxel_to_patient(vol, ijk, pos);
    PUT(ds, DCM_ImagePositionPatient, EVR_DS, format_ds_list(pos, 3));
    double iop[6] = {s.row_dir[0], s.row_dir[1], s.row_dir[2],
                     s.col_dir[0], s.col_dir[1], s.col_dir[2]};
    PUT(ds, DCM_ImageOrientationPatient, EVR_DS, format_ds_list(iop, 6));
    PUT(ds, DCM_FrameOfReferenceUID, EVR_UI, s.frame_uid);
    PUT(ds, DCM_PositionReferenceIndicator, EVR_LO, "");
    double loc = pos[0] * s.normal[0] + pos[1] * s.normal[1] + pos[2] * s.normal[2];
    PUT(ds, DCM_SliceLocation, EVR_DS, format_ds(loc));

    PUT(ds, DCM_PhotometricInterpretation, EVR_CS, "MONOCHROME2");
    OFCondition c = ds->putAndInsertUint16(DcmTag(DCM_SamplesPerPixel, EVR_US), 1);
    if (c.good())
        c = ds->putAndInsertUint16(DcmTag(DCM_Rows, EVR_US),
                                   static_cast<Uint16>(ny));
    if (c.good())
        c = ds->putAndInsertUint16(DcmTag(DCM_Columns, EVR_US),
                                   static_cast<Uint16>(nx));
    double ps[2] = {vol->spacing[1], vol->spacing[0]};
    if (c.good())
        c = ds->putAndInsertString(DcmTag(DCM_PixelSpacing, EVR_DS),
                                   format_ds_list(ps, 2).c_str());
    if (c.good())
        c = ds->putAndInsertUint16(DcmTag(DCM_BitsAllocated, EVR_US), 16);
    if (c.good())
        c = ds->putAndInsertUint16(DcmTag(DCM_BitsStored, EVR_US), 16);
    if (c.good())
        c = ds->putAndInsertUint16(DcmTag(DCM_HighBit, EVR_US), 15);
    if (c.good())
        c = ds->putAndInsertUint16(DcmTag(DCM_PixelRepresentation, EVR_US), 1);
    if (c.bad())
        return c;
    if (h->has_window && h->window_width > 0) {
        PUT(ds, DCM_WindowCenter, EVR_DS, format_ds(h->window_center));
        PUT(ds, DCM_WindowWidth, EVR_DS, format_ds(h->window_width));
    }
    PUT(ds, DCM_RescaleIntercept, EVR_DS, format_ds(s.rescale.intercept));
    PUT(ds, DCM_RescaleSlope, EVR_DS, format_ds(s.rescale.slope));
    if (s.is_ct)
        PUT(ds, DCM_RescaleType, EVR_LO, "HU");

    size_t base = nx * ny * k;
    for (size_t i = 0; i < nx * ny; i++) {
        double q = std::nearbyint((voxel_value(vol, base + i) - s.rescale.intercept) /
                                  s.rescale.slope);
        if (q < -32768)
            q = -32768;
        if (q > 32767)
            q = 32767;
        pixels[i] = static_cast<Sint16>(q);
    }
    return ds->putAndInsertUint16Array(DcmTag(DCM_PixelData, EVR_OW),
                                       reinterpret_cast<Uint16 *>(pixels.data()),
                                       static_cast<unsigned long>(nx * ny));
}

#undef PUT

// Save beside the target under a unique temporary name, then rename, so a
// reader never sees half a file.
sp_status save_atomically(DcmFileFormat &ff, const std::string &path,
                          sp_error *err)
{
    std::string tmp = path + ".tmp-XXXXXX";
    std::vector<char> name(tmp.begin(), tmp.end());
    name.push_back('\0');
    int fd = mkstemp(name.data());
    if (fd < 0)
        return sp_error_set(err, SP_CANTCREATE, "%s: cannot create: %s",
                            path.c_str(), strerror(errno));
    close(fd);
    OFCondition c = ff.saveFile(name.data(), EXS_LittleEndianExplicit,
                                EET_ExplicitLength, EGL_recalcGL, EPD_noChange,
                                0, 0, EWM_fileformat);
    if (c.bad()) {
        unlink(name.data());
        return sp_error_set(err, SP_IO, "%s: cannot write DICOM: %s",
                            path.c_str(), c.text());
    }
    if (rename(name.data(), path.c_str()) != 0) {
        int e = errno;
        unlink(name.data());
        return sp_error_set(err, SP_IO, "%s: cannot rename into place: %s",
                            path.c_str(), strerror(e));
    }
    return SP_OK;
}

void unit(const double in[3], double out[3])
{
    double n = std::sqrt(in[0] * in[0] + in[1] * in[1] + in[2] * in[2]);
    for (int r = 0; r < 3; r++)
        out[r] = n > 0 ? in[r] / n : 0.0;
}

sp_status write_series(const sp_volume *vol, const sp_dicom_header *h,
                       const char *dir, sp_error *err)
{
    if (!vol || !vol->data || !h || !dir)
        return sp_error_set(err, SP_INTERNAL,
                            "sp_dicom_write_series: missing volume, header or "
                            "folder");
    if (vol->dim[0] > 65535 || vol->dim[1] > 65535 || vol->dim[2] > 99999)
        return sp_error_set(err, SP_LIMIT,
                            "cannot write DICOM: %zu x %zu x %zu voxels exceed "
                            "the 65535 x 65535 x 99999 limit",
                            vol->dim[0], vol->dim[1], vol->dim[2]);
    SeriesInfo s;
    s.vol = vol;
    s.h = h;
    s.is_ct = strcmp(h->modality, "MR") != 0;
    if (strcmp(h->modality, "CT") != 0 && strcmp(h->modality, "MR") != 0)
        return sp_error_set(err, SP_UNSUPPORTED,
                            "cannot write DICOM: modality '%.16s' is neither CT "
                            "nor MR",
                            h->modality);
    double col0[3], col1[3], col2[3];
    for (int r = 0; r < 3; r++) {
        col0[r] = vol->vox2lps[r][0];
        col1[r] = vol->vox2lps[r][1];
        col2[r] = vol->vox2lps[r][2];
    }
    unit(col0, s.row_dir);
    unit(col1, s.col_dir);
    double dot = s.row_dir[0] * s.col_dir[0] + s.row_dir[1] * s.col_dir[1] +
                 s.row_dir[2] * s.col_dir[2];
    if (vol->spacing[0] <= 0 || vol->spacing[1] <= 0 || vol->spacing[2] <= 0 ||
        std::fabs(dot) > 1e-4)
        return sp_error_set(err, SP_GEOMETRY,
                            "cannot write DICOM: the volume's row and column "
                            "axes are degenerate or not orthogonal");
    double n[3] = {s.row_dir[1] * s.col_dir[2] - s.row_dir[2] * s.col_dir[1],
                   s.row_dir[2] * s.col_dir[0] - s.row_dir[0] * s.col_dir[2],
                   s.row_dir[0] * s.col_dir[1] - s.row_dir[1] * s.col_dir[0]};
    unit(n, s.normal);
    double along = col2[0] * s.normal[0] + col2[1] * s.normal[1] +
                   col2[2] * s.normal[2];
    if (std::fabs(along) < 1e-6)
        return sp_error_set(err, SP_GEOMETRY,
                            "cannot write DICOM: the slice axis lies in the "
                            "image plane");
    s.spacing_between = std::fabs(along);
    s.thickness = s.spacing_between;
    sp_status st = choose_rescale(vol, s.is_ct, &s.rescale, err);
    if (st != SP_OK)
        return st;
    s.study_uid = uid_or_new(h->study_uid, SITE_STUDY_UID_ROOT);
    s.series_uid = uid_or_new(h->series_uid, SITE_SERIES_UID_ROOT);
    s.frame_uid = uid_or_new(h->frame_of_reference_uid, SITE_INSTANCE_UID_ROOT);
    st = make_dirs(dir, err);
    if (st != SP_OK)
        return st;

    std::vector<Sint16> pixels(vol->dim[0] * vol->dim[1]);
    for (size_t k = 0; k < vol->dim[2]; k++) {
        DcmFileFormat ff;
        OFCondition c = fill_slice(s, k, ff.getDataset(), pixels);
        if (c.bad())
            return sp_error_set(err, SP_INTERNAL,
                                "%s: cannot build DICOM slice %zu: %s", dir,
                                k + 1, c.text());
        char name[32];
        snprintf(name, sizeof name, "/IMG%05zu.dcm", k + 1);
        st = save_atomically(ff, std::string(dir) + name, err);
        if (st != SP_OK)
            return st;
    }
    return SP_OK;
}

} // namespace

extern "C" sp_status spd_dcmtk_write_series(const sp_volume *vol,
                                            const sp_dicom_header *header,
                                            const char *dir, sp_error *err)
{
    try {
        sp_status st = spd_dcmtk_dictionary_ready(err);
        return st != SP_OK ? st : write_series(vol, header, dir, err);
    } catch (const std::bad_alloc &) {
        return sp_error_set(err, SP_NOMEM,
                            "%s: out of memory while writing DICOM", dir);
    } catch (...) {
        return sp_error_set(err, SP_INTERNAL,
                            "%s: unexpected failure while writing DICOM", dir);
    }
}
