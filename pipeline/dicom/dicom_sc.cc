// One Secondary Capture instance from an 8-bit image: patient and study of
// a source instance, a new series that references the source series.
#include <cstdio>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcuid.h"

#include "dicom_out.h"
#include "dicom_out_common.h"

extern "C" sp_status sp_dicom_write_sc(const char *source_file,
                                       const char *series_uid,
                                       const char *sop_uid, int number,
                                       const unsigned char *pixels,
                                       unsigned width, unsigned height,
                                       int samples, const char *description,
                                       const char *out_path, sp_error *err)
{
    try {
        if (width == 0 || height == 0 || width > 65535 || height > 65535 ||
            (samples != 1 && samples != 3))
            return sp_error_set(err, SP_LIMIT, "%s: %ux%u image with %d "
                                "samples cannot be a Secondary Capture",
                                out_path, width, height, samples);
        DcmFileFormat src;
        sp_status st = spd_out::load_header(source_file, src, err);
        if (st != SP_OK)
            return st;
        DcmDataset *in = src.getDataset();
        OFString source_series;
        if (in->findAndGetOFString(DCM_SeriesInstanceUID, source_series)
                .bad() ||
            source_series.empty())
            return sp_error_set(err, SP_FORMAT, "%s: no SeriesInstanceUID",
                                source_file);
        DcmFileFormat ff;
        DcmDataset *ds = ff.getDataset();
        char sop[65];
        if (sop_uid)
            std::snprintf(sop, sizeof sop, "%s", sop_uid);
        else
            sp_dicom_new_uid(sop);
        bool ok = spd_out::copy_patient_study(*in, *ds) &&
                  spd_out::set_series(*ds, series_uid, sop,
                                      SP_DICOM_SC_SERIES, number,
                                      std::string("spinepipe ") +
                                          description);
        ok = ok &&
             ds->putAndInsertString(DCM_SOPClassUID,
                                    UID_SecondaryCaptureImageStorage)
                 .good() &&
             ds->putAndInsertString(DCM_Modality, "OT").good() &&
             ds->putAndInsertString(DCM_ConversionType, "WSD").good() &&
             ds->putAndInsertString(DCM_ImageType, "DERIVED\\SECONDARY")
                 .good() &&
             ds->putAndInsertString(DCM_ImageComments, spd_out::kDisclaimer)
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
        return spd_out::save_atomic(ff, out_path, err);
    } catch (...) {
        return sp_error_set(err, SP_INTERNAL, "%s: Secondary Capture "
                            "failed", out_path);
    }
}
