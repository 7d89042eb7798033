// One Secondary Capture instance from an 8-bit image: patient and study of
// a source instance, a new series that references the source series.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcuid.h"

#include "net_internal.h"

namespace {

// Patient and study attributes that identify where the results belong.
const DcmTagKey kCopied[] = {
    DCM_PatientName,      DCM_PatientID,         DCM_PatientBirthDate,
    DCM_PatientSex,       DCM_StudyInstanceUID,  DCM_StudyDate,
    DCM_StudyTime,        DCM_AccessionNumber,   DCM_ReferringPhysicianName,
    DCM_StudyID,          DCM_StudyDescription,
};

bool copy_element(DcmDataset *from, DcmDataset *to, const DcmTagKey &tag)
{
    DcmElement *e = nullptr;
    if (from->findAndGetElement(tag, e).bad() || !e)
        return to->insertEmptyElement(tag).good();
    DcmElement *copy = OFstatic_cast(DcmElement *, e->clone());
    return copy && to->insert(copy, OFTrue).good();
}

} // namespace

extern "C" void spn_new_uid(char out[65])
{
    dcmGenerateUniqueIdentifier(out, SITE_INSTANCE_UID_ROOT);
}

extern "C" sp_status spn_write_sc(const char *source_file,
                                  const char *series_uid, int number,
                                  const unsigned char *pixels, unsigned width,
                                  unsigned height, int samples,
                                  const char *description,
                                  const char *out_path, sp_error *err)
{
    try {
        DcmFileFormat src;
        if (src.loadFile(source_file, EXS_Unknown, EGL_noChange, 4096,
                         ERM_autoDetect)
                .bad())
            return sp_error_set(err, SP_NOTDICOM, "%s: cannot read the "
                                "source instance", source_file);
        DcmDataset *in = src.getDataset();
        OFString source_series;
        if (in->findAndGetOFString(DCM_SeriesInstanceUID, source_series)
                .bad() ||
            source_series.empty())
            return sp_error_set(err, SP_FORMAT, "%s: no SeriesInstanceUID",
                                source_file);
        DcmFileFormat ff;
        DcmDataset *ds = ff.getDataset();
        bool ok = true;
        for (const DcmTagKey &tag : kCopied)
            ok = ok && copy_element(in, ds, tag);
        char sop[65];
        spn_new_uid(sop);
        char num[16];
        std::snprintf(num, sizeof num, "%d", number);
        std::string desc = std::string("spinepipe ") + description;
        if (desc.size() > 64)
            desc.resize(64);
        ok = ok &&
             ds->putAndInsertString(DCM_SOPClassUID,
                                    UID_SecondaryCaptureImageStorage)
                 .good() &&
             ds->putAndInsertString(DCM_SOPInstanceUID, sop).good() &&
             ds->putAndInsertString(DCM_SeriesInstanceUID, series_uid)
                 .good() &&
             ds->putAndInsertString(DCM_Modality, "OT").good() &&
             ds->putAndInsertString(DCM_ConversionType, "WSD").good() &&
             ds->putAndInsertString(DCM_SeriesNumber, "990").good() &&
             ds->putAndInsertString(DCM_InstanceNumber, num).good() &&
             ds->putAndInsertString(DCM_SeriesDescription, desc.c_str())
                 .good() &&
             ds->putAndInsertString(DCM_ImageType, "DERIVED\\SECONDARY")
                 .good() &&
             ds->putAndInsertString(DCM_Manufacturer, "spinepipe").good() &&
             ds->putAndInsertString(DCM_ImageComments,
                                    "Research/triage aid. Not for "
                                    "diagnostic use.")
                 .good() &&
             ds->putAndInsertString(DCM_PatientOrientation, "").good();
        DcmItem *ref = nullptr;
        ok = ok &&
             ds->findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, ref, 0)
                 .good() &&
             ref->putAndInsertString(DCM_SeriesInstanceUID,
                                     source_series.c_str())
                 .good();
        ok = ok &&
             ds->putAndInsertUint16(DCM_SamplesPerPixel, (Uint16)samples)
                 .good() &&
             ds->putAndInsertString(DCM_PhotometricInterpretation,
                                    samples == 3 ? "RGB" : "MONOCHROME2")
                 .good() &&
             ds->putAndInsertUint16(DCM_Rows, (Uint16)height).good() &&
             ds->putAndInsertUint16(DCM_Columns, (Uint16)width).good() &&
             ds->putAndInsertUint16(DCM_BitsAllocated, 8).good() &&
             ds->putAndInsertUint16(DCM_BitsStored, 8).good() &&
             ds->putAndInsertUint16(DCM_HighBit, 7).good() &&
             ds->putAndInsertUint16(DCM_PixelRepresentation, 0).good() &&
             (samples != 3 ||
              ds->putAndInsertUint16(DCM_PlanarConfiguration, 0).good()) &&
             ds->putAndInsertUint8Array(
                   DCM_PixelData, pixels,
                   (unsigned long)width * height * (unsigned long)samples)
                 .good();
        if (!ok)
            return sp_error_set(err, SP_INTERNAL, "%s: cannot build the "
                                "Secondary Capture dataset", out_path);
        std::string tmp = std::string(out_path) + ".tmp";
        if (ff.saveFile(tmp.c_str(), EXS_LittleEndianExplicit).bad() ||
            rename(tmp.c_str(), out_path) != 0) {
            unlink(tmp.c_str());
            return sp_error_set(err, SP_IO, "%s: cannot write", out_path);
        }
        return SP_OK;
    } catch (...) {
        return sp_error_set(err, SP_INTERNAL, "%s: Secondary Capture "
                            "failed", out_path);
    }
}
