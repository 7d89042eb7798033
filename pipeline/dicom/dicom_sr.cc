// The measurement report as a DICOM Enhanced SR following TID 1500
// (DCMTK dcmsr/cmr): one measurement group per disc level with canal AP
// diameter, canal area, disc height and posterior displacement, findings
// as coded qualitative evaluations, the source images in the image
// library. Codes: docs/dicom-output.md.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmsr/cmr/tid1500.h"
#include "dcmtk/dcmsr/codes/dcm.h"
#include "dcmtk/dcmsr/codes/sct.h"
#include "dcmtk/dcmsr/codes/ucum.h"
#include "dcmtk/dcmsr/dsrdoc.h"

#include "dicom_internal.h"
#include "dicom_out.h"
#include "dicom_out_common.h"

namespace {

// Our private coding scheme (docs/dicom-output.md).
const char kScheme[] = "99SPINEPIPE";
// Device Observer UID of spinepipe as the observer (fixed, 2.25 UUID).
const char kDeviceUid[] = "2.25.147808810149230077024874378381963209266";

DSRCodedEntryValue ours(const std::string &value, const std::string &meaning)
{
    // Values over 16 characters become a Long Code Value (DCMTK decides).
    return DSRCodedEntryValue(spd_out::clean_text(value.c_str(), 64).c_str(),
                              kScheme,
                              spd_out::clean_text(meaning.c_str(), 64).c_str());
}

struct Quantity {
    const char *code, *meaning;
    bool area;
};

const Quantity kCanalAp = {"canal_ap", "Spinal canal anteroposterior "
                                       "diameter", false};
const Quantity kCanalArea = {"canal_area", "Spinal canal cross-sectional "
                                           "area", true};
const Quantity kDiscHeight = {"disc_height", "Intervertebral disc height",
                              false};
const Quantity kDisplacement = {"post_displace", "Posterior disc "
                                                 "displacement", false};

// Severity words of report.json: SNOMED CT where it has them (CID 3716),
// ours for the canal cut-off classes.
DSRCodedEntryValue severity_code(const char *s)
{
    std::string v = s ? s : "";
    if (v == "normal")
        return DSRCodedEntryValue("17621005", "SCT", "Normal");
    if (v == "mild")
        return DSRCodedEntryValue("255604002", "SCT", "Mild");
    if (v == "moderate")
        return DSRCodedEntryValue("6736007", "SCT", "Moderate");
    if (v == "severe")
        return DSRCodedEntryValue("24484000", "SCT", "Severe");
    if (v == "relative")
        return ours("relative", "Relative stenosis");
    if (v == "absolute")
        return ours("absolute", "Absolute stenosis");
    return ours("unknown", "Unknown severity");
}

std::string number(double v)
{
    char buf[32];
    for (int prec = 8; prec > 0; prec--) {
        std::snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (std::string(buf).size() <= 16)
            break;
    }
    return buf;
}

typedef TID1500_MeasurementReport::TID1501_Measurements Group;

OFCondition add_measurement(Group &g, const Quantity &q, double v)
{
    if (!std::isfinite(v))
        return EC_Normal;
    DSRCodedEntryValue unit =
        q.area ? DSRCodedEntryValue("mm2", "UCUM", "square millimeter")
               : DSRCodedEntryValue(CODE_UCUM_Millimeter);
    Group::MeasurementValue value(number(v).c_str(), unit);
    value.setFloatingPointRepresentation(v);
    // The concept names are ours; CID 7469 is extensible.
    return g.addMeasurement(
        CID7469_GenericIntensityAndSizeMeasurements(
            ours(q.code, q.meaning)),
        value, OFTrue, OFFalse);
}

std::string finding_text(const sp_sr_finding &f)
{
    std::string s = spd_out::clean_text(f.code, 64) + ": " +
                    spd_out::clean_text(f.severity, 16);
    if (std::isfinite(f.value))
        s += ", value " + number(f.value);
    if (std::isfinite(f.threshold))
        s += ", threshold " + number(f.threshold);
    if (f.source && f.source[0])
        s += " (" + spd_out::clean_text(f.source, 64) + ")";
    return s;
}

// The source slice a caliper lies in, and its ends in image coordinates
// (column, row; (0, 0) is the top left corner of the top left pixel).
struct Caliper {
    size_t slice;
    float col[2], row[2];
};

bool caliper_on_slice(const sp_dicom_series *s, const sp_sr_level &lv,
                      Caliper &out)
{
    if (!lv.has_caliper || s->n_slices == 0)
        return false;
    const double *rd = s->orientation, *cd = s->orientation + 3,
                 *n = s->slice_normal;
    double tol = s->slice_spacing > 0 ? s->slice_spacing / 2 : 0.5;
    double best = INFINITY;
    for (size_t k = 0; k < s->n_slices; k++) {
        double worst = 0;
        for (int e = 0; e < 2; e++) {
            double d = 0;
            for (int a = 0; a < 3; a++)
                d += (lv.caliper_mm[e][a] - s->slices[k].position[a]) * n[a];
            worst = std::fmax(worst, std::fabs(d));
        }
        if (worst < best) {
            best = worst;
            out.slice = k;
        }
    }
    if (!(best <= tol))
        return false;
    const double *o = s->slices[out.slice].position;
    for (int e = 0; e < 2; e++) {
        double u = 0, v = 0;
        for (int a = 0; a < 3; a++) {
            u += (lv.caliper_mm[e][a] - o[a]) * rd[a];
            v += (lv.caliper_mm[e][a] - o[a]) * cd[a];
        }
        // Pixel centres are at half-pixel image coordinates.
        out.col[e] = (float)(u / s->pixel_spacing[1] + 0.5);
        out.row[e] = (float)(v / s->pixel_spacing[0] + 0.5);
    }
    return true;
}

// Whether all points lie in the key image's plane (within half a pixel):
// the image of a table from measure is the plane measured in; another
// table's key image is an axial slice its points need not lie in.
bool on_key_plane(const sp_sr_plane_image *k, const double (*pts)[3],
                  size_t n)
{
    if (!k || n == 0)
        return false;
    const double *r = k->right, *d = k->down;
    double nrm[3] = {r[1] * d[2] - r[2] * d[1], r[2] * d[0] - r[0] * d[2],
                     r[0] * d[1] - r[1] * d[0]};
    for (size_t i = 0; i < n; i++) {
        double dist = 0;
        for (int a = 0; a < 3; a++)
            dist += (pts[i][a] - k->origin[a]) * nrm[a];
        if (!(std::fabs(dist) <= k->pixel_mm / 2))
            return false;
    }
    return true;
}

// Points on the level's key image (the plane they were measured in) as a
// POLYLINE, closed when `closed`, the source of the group's last NUM.
OFCondition add_on_key_image(Group &g, const sp_sr_plane_image &k,
                             const double (*pts)[3], size_t n, bool closed)
{
    DSRSpatialCoordinatesValue line(DSRTypes::GT_Polyline);
    for (size_t i = 0; i <= n; i++) {
        if (i == n && !closed)
            break;
        const double *p = pts[i % n];
        double u = 0, v = 0;
        for (int a = 0; a < 3; a++) {
            u += (p[a] - k.origin[a]) * k.right[a];
            v += (p[a] - k.origin[a]) * k.down[a];
        }
        line.getGraphicDataList().addItem(
            (float)(k.offset[0] + u / k.pixel_mm + 0.5),
            (float)(k.offset[1] + v / k.pixel_mm + 0.5));
    }
    DSRImageReferenceValue image(k.sop_class, k.sop_uid);
    return g.getMeasurement().addSpatialCoordinates(
        CODE_DCM_SourceOfMeasurement, line, image);
}

OFCondition add_caliper(Group &g, const sp_dicom_series *s,
                        const sp_sr_level &lv, bool &on_key)
{
    if (lv.has_caliper && on_key_plane(lv.key_image, lv.caliper_mm, 2)) {
        on_key = true;
        return add_on_key_image(g, *lv.key_image, lv.caliper_mm, 2, false);
    }
    Caliper cal{};
    if (!caliper_on_slice(s, lv, cal))
        return EC_Normal;
    DcmFileFormat ff;
    sp_error err;
    if (spd_out::load_header(s->slices[cal.slice].path, ff, &err) != SP_OK)
        return EC_IllegalCall;
    OFString cls, inst;
    ff.getDataset()->findAndGetOFString(DCM_SOPClassUID, cls);
    ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, inst);
    DSRSpatialCoordinatesValue line(DSRTypes::GT_Polyline);
    line.getGraphicDataList().addItem(cal.col[0], cal.row[0]);
    line.getGraphicDataList().addItem(cal.col[1], cal.row[1]);
    DSRImageReferenceValue image(cls, inst);
    // A multi-frame source: its slices share the file; frames count from 1.
    size_t k = cal.slice;
    const char *path = s->slices[k].path;
    bool multi = (k > 0 && std::strcmp(s->slices[k - 1].path, path) == 0) ||
                 (k + 1 < s->n_slices &&
                  std::strcmp(s->slices[k + 1].path, path) == 0);
    if (multi)
        image.getFrameList().addItem((Sint32)s->slices[k].frame + 1);
    return g.getMeasurement().addSpatialCoordinates(
        CODE_DCM_SourceOfMeasurement, line, image);
}

// One measurement group; on_key says whether a coordinate went on the
// level's key image.
OFCondition add_level(TID1500_MeasurementReport &report,
                      const sp_dicom_series *src, const sp_sr_level &lv,
                      bool &on_key)
{
    OFCondition c = report.addIndividualMeasurements(OFFalse);
    if (c.bad())
        return c;
    Group &g = report.getIndividualMeasurements();
    char uid[65];
    sp_dicom_new_uid(uid);
    std::string level = spd_out::clean_text(lv.level, 16);
    if (level.empty())
        level = "unknown";
    c = g.setTrackingIdentifier(level.c_str());
    if (c.good())
        c = g.setTrackingUniqueIdentifier(uid);
    if (c.good())
        c = g.setFinding(ours("level", "Spinal level assessment"));
    if (c.good())
        c = g.addFindingSite(ours(level, level + " intervertebral level"));
    if (c.good())
        c = add_measurement(g, kCanalAp, lv.canal_ap_mm);
    if (c.good() && std::isfinite(lv.canal_ap_mm))
        c = add_caliper(g, src, lv, on_key);
    if (c.good())
        c = add_measurement(g, kCanalArea, lv.canal_area_mm2);
    if (c.good() && std::isfinite(lv.canal_area_mm2) && lv.n_outline >= 3 &&
        on_key_plane(lv.key_image, lv.outline_mm, lv.n_outline)) {
        on_key = true;
        c = add_on_key_image(g, *lv.key_image, lv.outline_mm, lv.n_outline,
                             true);
    }
    if (c.good())
        c = add_measurement(g, kDiscHeight, lv.disc_height_mm);
    if (c.good())
        c = add_measurement(g, kDisplacement, lv.posterior_displacement_mm);
    if (c.good() && std::isfinite(lv.posterior_displacement_mm) &&
        lv.has_displacement &&
        on_key_plane(lv.key_image, lv.displacement_mm, 2)) {
        on_key = true;
        c = add_on_key_image(g, *lv.key_image, lv.displacement_mm, 2, false);
    }
    for (size_t i = 0; c.good() && i < lv.n_findings; i++) {
        const sp_sr_finding &f = lv.findings[i];
        std::string code = spd_out::clean_text(f.code, 64);
        c = g.addQualitativeEvaluation(ours(code, code),
                                       severity_code(f.severity));
        if (c.good())
            c = g.addQualitativeEvaluation(
                ours("finding_basis", "Finding basis"),
                finding_text(f).c_str());
    }
    return c;
}

sp_status fail(sp_error *err, const char *path, const char *what,
               const OFCondition &c)
{
    return sp_error_set(err, SP_INTERNAL, "%s: %s: %s", path, what,
                        c.text());
}

} // namespace

extern "C" sp_status sp_dicom_write_sr(const sp_dicom_series *src,
                                       const sp_sr_content *content,
                                       const char *series_uid,
                                       const char *out_path, sp_error *err)
{
    try {
        if (!src || src->n_slices == 0)
            return sp_error_set(err, SP_NOINPUT, "%s: no source instance",
                                out_path);
        spd_cmr_init();
        bool ct = std::string(src->header.modality) == "CT";
        TID1500_MeasurementReport report(
            CID7021_MeasurementReportDocumentTitles::ImagingMeasurementReport);
        OFCondition c = report.setLanguage(
            CID5000_Languages(CID5000_Languages::English));
        if (c.good())
            c = report.addProcedureReported(
                ct ? CID100_QuantitativeDiagnosticImagingProcedures::
                         CTUnspecifiedBodyRegion
                   : CID100_QuantitativeDiagnosticImagingProcedures::
                         MRIUnspecifiedBodyRegion);
        if (c.good())
            c = report.getObservationContext().addDeviceObserver(
                kDeviceUid, "spinepipe", "spinepipe", "spinepipe");
        if (c.good() && !report.getImageLibrary().hasImageLibrary())
            c = report.getImageLibrary().createNewImageLibrary();
        if (c.good())
            c = report.getImageLibrary().addImageGroup();
        if (c.bad())
            return fail(err, out_path, "cannot start the report", c);
        DSRDocument doc(DSRTypes::DT_EnhancedSR);
        DcmFileFormat first;
        const char *prev = nullptr;
        for (size_t i = 0; i < src->n_slices; i++) {
            const char *path = src->slices[i].path;
            // Frames of one multi-frame file share one entry.
            if (prev && std::string(prev) == path)
                continue;
            prev = path;
            DcmFileFormat ff;
            sp_status st = spd_out::load_header(path, ff, err);
            if (st != SP_OK)
                return st;
            DcmDataset *ds = ff.getDataset();
            c = report.getImageLibrary().addImageEntry(
                *ds, TID1600_ImageLibrary::withoutDescriptors);
            if (c.bad() && c != CMR_EC_NoImageLibraryEntryDescriptorsToBeAdded)
                return fail(err, path, "cannot add to the image library", c);
            c = doc.getCurrentRequestedProcedureEvidence().addItem(*ds);
            if (c.bad())
                return fail(err, path, "cannot reference the instance", c);
            if (i == 0)
                first = ff;
        }
        for (size_t i = 0; c.good() && i < content->n_levels; i++) {
            const sp_sr_level &lv = content->levels[i];
            bool on_key = false;
            c = add_level(report, src, lv, on_key);
            // The key images coordinates are placed on are evidence too.
            if (c.good() && on_key)
                c = doc.getPertinentOtherEvidence().addItem(
                    src->header.study_uid, lv.key_image->series_uid,
                    lv.key_image->sop_class, lv.key_image->sop_uid);
        }
        if (c.good())
            c = report.addQualitativeEvaluation(
                ours("disclaimer", "Disclaimer"), spd_out::kDisclaimer);
        for (size_t i = 0; c.good() && i < content->n_warnings; i++)
            c = report.addQualitativeEvaluation(
                ours("warning", "Warning"),
                spd_out::clean_text(content->warnings[i], 1024).c_str());
        if (c.good() && content->not_analysable)
            c = report.addQualitativeEvaluation(
                ours("not_analysable", "Not analysable"),
                spd_out::clean_text(content->not_analysable, 1024).c_str());
        if (c.bad())
            return fail(err, out_path, "cannot build the measurements", c);
        if (!report.isValid())
            return sp_error_set(err, SP_INTERNAL, "%s: the TID 1500 report "
                                "is incomplete", out_path);
        c = doc.setTreeFromRootTemplate(report, OFTrue);
        if (c.bad())
            return fail(err, out_path, "cannot build the SR tree", c);
        doc.setManufacturer("spinepipe");
        doc.completeDocument();
        DcmFileFormat ff;
        DcmDataset *ds = ff.getDataset();
        c = doc.write(*ds);
        if (c.bad())
            return fail(err, out_path, "cannot encode the SR", c);
        char sop[65];
        sp_dicom_new_uid(sop);
        if (!spd_out::copy_patient_study(*first.getDataset(), *ds) ||
            !spd_out::set_series(*ds, series_uid, sop, SP_DICOM_SR_SERIES, 1,
                                 "spinepipe measurements (research)"))
            return sp_error_set(err, SP_INTERNAL, "%s: cannot set the "
                                "patient, study and series", out_path);
        return spd_out::save_atomic(ff, out_path, err);
    } catch (...) {
        return sp_error_set(err, SP_INTERNAL, "%s: structured report "
                            "failed", out_path);
    }
}
