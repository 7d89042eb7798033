// Shared pieces of the DICOM result writers: source headers, patient and
// study attributes, series identity, atomic saving.
#include "dicom_out_common.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcitem.h"

#include "dicom_internal.h"

namespace spd_out {

const char kDisclaimer[] = "Research/triage aid. Not for diagnostic use.";

namespace {

const DcmTagKey kCopied[] = {
    DCM_SpecificCharacterSet, DCM_PatientName,       DCM_PatientID,
    DCM_PatientBirthDate,     DCM_PatientSex,        DCM_StudyInstanceUID,
    DCM_StudyDate,            DCM_StudyTime,         DCM_AccessionNumber,
    DCM_ReferringPhysicianName, DCM_StudyID,         DCM_StudyDescription,
};

} // namespace

sp_status load_header(const char *path, DcmFileFormat &ff, sp_error *err)
{
    sp_status st = spd_dictionary_ready(err);
    if (st != SP_OK)
        return st;
    // Elements over 4 kB (pixel data) stay on disk.
    if (ff.loadFile(path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect)
            .bad())
        return sp_error_set(err, SP_NOTDICOM, "%s: cannot read the source "
                            "instance", path);
    return SP_OK;
}

bool copy_patient_study(DcmItem &from, DcmItem &to)
{
    for (const DcmTagKey &tag : kCopied) {
        DcmElement *e = nullptr;
        if (from.findAndGetElement(tag, e).bad() || !e) {
            if (tag == DCM_SpecificCharacterSet)
                continue; // type 1C: absent means the default repertoire
            if (to.insertEmptyElement(tag, OFTrue).bad())
                return false;
            continue;
        }
        DcmElement *copy = OFstatic_cast(DcmElement *, e->clone());
        if (!copy || to.insert(copy, OFTrue).bad())
            return false;
    }
    return true;
}

std::string clean_text(const char *s, size_t max_len)
{
    std::string out;
    for (size_t i = 0; s && s[i] && out.size() < max_len; i++) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        out += (c < 0x20 || c >= 0x7f || c == '\\') ? '?'
                                                    : static_cast<char>(c);
    }
    return out;
}

bool set_series(DcmItem &ds, const char *series_uid, const char *sop_uid,
                int series_number, int instance_number,
                const std::string &description)
{
    char num[16], inst[16], date[16], tim[16];
    std::snprintf(num, sizeof num, "%d", series_number);
    std::snprintf(inst, sizeof inst, "%d", instance_number);
    std::time_t t = std::time(nullptr);
    std::tm tm;
    localtime_r(&t, &tm);
    std::strftime(date, sizeof date, "%Y%m%d", &tm);
    std::strftime(tim, sizeof tim, "%H%M%S", &tm);
    std::string desc = clean_text(description.c_str(), 64);
    return ds.putAndInsertString(DCM_SeriesInstanceUID, series_uid).good() &&
           ds.putAndInsertString(DCM_SOPInstanceUID, sop_uid).good() &&
           ds.putAndInsertString(DCM_SeriesNumber, num).good() &&
           ds.putAndInsertString(DCM_InstanceNumber, inst).good() &&
           ds.putAndInsertString(DCM_SeriesDescription, desc.c_str())
               .good() &&
           ds.putAndInsertString(DCM_Manufacturer, "spinepipe").good() &&
           ds.putAndInsertString(DCM_ContentDate, date).good() &&
           ds.putAndInsertString(DCM_ContentTime, tim).good();
}

sp_status save_atomic(DcmFileFormat &ff, const char *out_path, sp_error *err)
{
    std::string path(out_path);
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    std::string base =
        slash == std::string::npos ? path : path.substr(slash + 1);
    std::string tmp = dir + "/." + base + ".XXXXXX";
    int fd = mkstemp(&tmp[0]);
    if (fd < 0)
        return sp_error_set(err, SP_CANTCREATE, "%s: cannot create a "
                            "temporary file: %s", out_path,
                            std::strerror(errno));
    fchmod(fd, 0644);
    close(fd);
    bool ok = ff.saveFile(tmp.c_str(), EXS_LittleEndianExplicit).good();
    if (ok) {
        fd = open(tmp.c_str(), O_RDONLY);
        ok = fd >= 0 && fsync(fd) == 0;
        if (fd >= 0)
            close(fd);
    }
    if (!ok || rename(tmp.c_str(), out_path) != 0) {
        unlink(tmp.c_str());
        return sp_error_set(err, SP_IO, "%s: cannot write", out_path);
    }
    fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return SP_OK;
}

} // namespace spd_out
