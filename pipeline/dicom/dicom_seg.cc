// The label map as a binary DICOM Segmentation (DCMTK dcmseg): one segment
// per label value present, frames on the grid of the source slices (the
// label map is sampled at every source pixel centre, nearest neighbour),
// each frame deriving from its source instance. Codes: docs/dicom-output.md.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmfg/fgderimg.h"
#include "dcmtk/dcmfg/fgfracon.h"
#include "dcmtk/dcmfg/fgpixmsr.h"
#include "dcmtk/dcmfg/fgplanor.h"
#include "dcmtk/dcmfg/fgplanpo.h"
#include "dcmtk/dcmseg/segdoc.h"
#include "dcmtk/dcmseg/segment.h"

#include "dicom_out.h"
#include "dicom_out_common.h"
#include "spinepipe/labels.h"

namespace {

const char kScheme[] = "99SPINEPIPE";

std::string ds(double v)
{
    char buf[32];
    for (int prec = 10; prec > 0; prec--) {
        std::snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (std::strlen(buf) <= 16)
            break;
    }
    return std::strcmp(buf, "-0") == 0 ? "0" : buf;
}

// Label values at the pixel centres of source slice k (rows x columns).
void sample_slice(const sp_dicom_series *s, const sp_volume *lab, size_t k,
                  std::vector<uint16_t> &plane)
{
    const size_t rows = s->rows, cols = s->columns;
    plane.assign(rows * cols, 0);
    const uint16_t *d = static_cast<const uint16_t *>(lab->data);
    const double *rd = s->orientation, *cd = s->orientation + 3;
    // The label voxel index is affine in (r, c): three points give it.
    double p0[3], pc[3], pr[3], v0[3], vc[3], vr[3];
    for (int a = 0; a < 3; a++) {
        p0[a] = s->slices[k].position[a];
        pc[a] = p0[a] + rd[a] * s->pixel_spacing[1];
        pr[a] = p0[a] + cd[a] * s->pixel_spacing[0];
    }
    if (sp_volume_patient_to_voxel(lab, p0, v0) != SP_OK ||
        sp_volume_patient_to_voxel(lab, pc, vc) != SP_OK ||
        sp_volume_patient_to_voxel(lab, pr, vr) != SP_OK)
        return;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            long idx[3];
            bool inside = true;
            for (int a = 0; a < 3 && inside; a++) {
                double v = v0[a] + (vc[a] - v0[a]) * (double)c +
                           (vr[a] - v0[a]) * (double)r;
                idx[a] = std::lround(v);
                inside = idx[a] >= 0 && (size_t)idx[a] < lab->dim[a];
            }
            if (inside)
                plane[r * cols + c] =
                    d[sp_volume_index(lab, (size_t)idx[0], (size_t)idx[1],
                                      (size_t)idx[2])];
        }
}

// Known labels (sp_label_describe) in a sampled slice, ascending.
std::vector<int> labels_in(const std::vector<uint16_t> &plane)
{
    std::vector<bool> seen(65536, false);
    std::vector<int> out;
    char buf[64];
    for (uint16_t v : plane)
        if (v && !seen[v]) {
            seen[v] = true;
            if (sp_label_describe(v, buf, sizeof buf))
                out.push_back(v);
        }
    std::sort(out.begin(), out.end());
    return out;
}

sp_status fail(sp_error *err, const char *path, const char *what,
               const OFCondition &c)
{
    return sp_error_set(err, SP_INTERNAL, "%s: %s: %s", path, what,
                        c.text());
}

OFCondition add_segment(DcmSegmentation &seg, int label, Uint16 &number)
{
    char name[64], value[16];
    sp_label_describe(label, name, sizeof name);
    std::snprintf(value, sizeof value, "%d", label);
    DcmSegment *segment = nullptr;
    OFCondition c = DcmSegment::create(
        segment, name, CodeSequenceMacro("91723000", "SCT",
                                         "Anatomical Structure"),
        CodeSequenceMacro(value, kScheme, name), DcmSegTypes::SAT_AUTOMATIC,
        "spinepipe");
    if (c.bad())
        return c;
    AlgorithmIdentificationMacro &alg =
        segment->getSegmentationAlgorithmIdentification();
    c = alg.setAlgorithmName("spinepipe");
    if (c.good())
        c = alg.setAlgorithmVersion("1");
    if (c.good())
        c = alg.getAlgorithmFamilyCode().set("labels", kScheme,
                                             "spinepipe label map");
    if (c.good())
        c = seg.addSegment(segment, number);
    if (c.bad())
        delete segment;
    return c;
}

// Common Instance Reference module: every source instance, by series.
bool add_references(DcmItem &out, const std::vector<DcmItem *> &sources)
{
    DcmItem *series = nullptr;
    OFString series_uid;
    if (sources.empty() ||
        sources[0]->findAndGetOFString(DCM_SeriesInstanceUID, series_uid)
            .bad() ||
        out.findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, series, 0)
            .bad() ||
        series->putAndInsertString(DCM_SeriesInstanceUID, series_uid.c_str())
            .bad())
        return false;
    for (size_t i = 0; i < sources.size(); i++) {
        OFString cls, inst;
        DcmItem *ref = nullptr;
        if (sources[i]->findAndGetOFString(DCM_SOPClassUID, cls).bad() ||
            sources[i]->findAndGetOFString(DCM_SOPInstanceUID, inst).bad() ||
            series->findOrCreateSequenceItem(DCM_ReferencedInstanceSequence,
                                             ref, -2)
                .bad() ||
            ref->putAndInsertString(DCM_ReferencedSOPClassUID, cls.c_str())
                .bad() ||
            ref->putAndInsertString(DCM_ReferencedSOPInstanceUID,
                                    inst.c_str())
                .bad())
            return false;
    }
    return true;
}

} // namespace

extern "C" sp_status sp_dicom_write_seg(const sp_dicom_series *src,
                                        const sp_volume *labels,
                                        const char *series_uid,
                                        const char *out_path,
                                        size_t *n_segments, size_t *n_frames,
                                        sp_error *err)
{
    *n_segments = 0;
    *n_frames = 0;
    try {
        if (!src || src->n_slices == 0 || src->rows == 0 ||
            src->columns == 0 || src->rows > 65535 || src->columns > 65535)
            return sp_error_set(err, SP_NOINPUT, "%s: no usable source "
                                "slices", out_path);
        if (!labels || labels->type != SP_VOXEL_U16)
            return sp_error_set(err, SP_FORMAT, "%s: the label map is not "
                                "16-bit labels", out_path);
        // Which known labels are present. Slices are sampled again when
        // their frames are added: one slice in memory, not the series.
        std::vector<uint16_t> plane;
        std::map<int, Uint16> present;
        for (size_t k = 0; k < src->n_slices; k++) {
            sample_slice(src, labels, k, plane);
            for (int v : labels_in(plane))
                present[v] = 0;
        }
        if (present.empty())
            return sp_error_set(err, SP_NOINPUT, "%s: the label map holds no "
                                "known label on the source slices",
                                out_path);
        // Source headers, one per file.
        std::vector<std::unique_ptr<DcmFileFormat>> heads(src->n_slices);
        std::map<std::string, size_t> by_path;
        for (size_t k = 0; k < src->n_slices; k++) {
            auto it = by_path.find(src->slices[k].path);
            if (it != by_path.end())
                continue;
            heads[k].reset(new DcmFileFormat);
            sp_status st = spd_out::load_header(src->slices[k].path,
                                                *heads[k], err);
            if (st != SP_OK)
                return st;
            by_path[src->slices[k].path] = k;
        }
        DcmSegmentation *raw = nullptr;
        IODGeneralEquipmentModule::EquipmentInfo eq("spinepipe", "spinepipe",
                                                    "1", "1");
        ContentIdentificationMacro ci("1", "SPINE_LABELS",
                                      "spinepipe label map", "spinepipe");
        OFCondition c = DcmSegmentation::createBinarySegmentation(
            raw, (Uint16)src->rows, (Uint16)src->columns, eq, ci);
        if (c.bad() || !raw)
            return fail(err, out_path, "cannot create the segmentation", c);
        std::unique_ptr<DcmSegmentation> seg(raw);
        size_t first = by_path.begin()->second;
        // dcmseg checks every value it writes, and a source's patient name
        // may be anything: patient and study attributes are copied after
        // encoding, byte for byte; only the UIDs go through dcmseg.
        DcmDataset *head = heads[first]->getDataset();
        OFString study, frame_of_ref;
        head->findAndGetOFString(DCM_StudyInstanceUID, study);
        head->findAndGetOFString(DCM_FrameOfReferenceUID, frame_of_ref);
        char new_for[65];
        if (frame_of_ref.empty()) {
            sp_dicom_new_uid(new_for);
            frame_of_ref = new_for;
        }
        c = seg->getStudy().setStudyInstanceUID(study);
        if (c.good())
            c = seg->getFrameOfReference().setFrameOfReferenceUID(
                frame_of_ref);
        if (c.bad())
            return fail(err, out_path, "the source's study or frame of "
                        "reference UID is invalid", c);
        // Shared: orientation and pixel measures.
        const double *o = src->orientation;
        std::unique_ptr<FGPlaneOrientationPatient> ori(
            FGPlaneOrientationPatient::createMinimal(
                ds(o[0]).c_str(), ds(o[1]).c_str(), ds(o[2]).c_str(),
                ds(o[3]).c_str(), ds(o[4]).c_str(), ds(o[5]).c_str()));
        FGPixelMeasures pm;
        std::string spacing = ds(src->pixel_spacing[0]) + "\\" +
                              ds(src->pixel_spacing[1]);
        double thick = src->slice_spacing > 0 ? src->slice_spacing : 1.0;
        c = pm.setPixelSpacing(spacing.c_str());
        if (c.good())
            c = pm.setSliceThickness(ds(thick).c_str());
        if (c.good())
            c = pm.setSpacingBetweenSlices(ds(thick).c_str());
        if (c.good() && ori)
            c = seg->addForAllFrames(*ori);
        if (c.good())
            c = seg->addForAllFrames(pm);
        char dim_uid[65];
        sp_dicom_new_uid(dim_uid);
        if (c.good())
            c = seg->getDimensions().addDimensionIndex(
                DCM_ReferencedSegmentNumber, dim_uid,
                DCM_SegmentIdentificationSequence, "ReferencedSegmentNumber");
        if (c.good())
            c = seg->getDimensions().addDimensionIndex(
                DCM_ImagePositionPatient, dim_uid, DCM_PlanePositionSequence,
                "ImagePositionPatient");
        if (c.bad() || !ori)
            return fail(err, out_path, "cannot set the frame geometry", c);
        for (auto &entry : present) {
            c = add_segment(*seg, entry.first, entry.second);
            if (c.bad())
                return fail(err, out_path, "cannot add a segment", c);
            (*n_segments)++;
        }
        std::vector<Uint8> frame;
        for (size_t k = 0; k < src->n_slices; k++) {
            sample_slice(src, labels, k, plane);
            frame.resize(plane.size());
            for (int label : labels_in(plane)) {
                Uint16 number = present[label];
                for (size_t i = 0; i < plane.size(); i++)
                    frame[i] = plane[i] == label ? 1 : 0;
                const double *pos = src->slices[k].position;
                FGPlanePosPatient *pp = FGPlanePosPatient::createMinimal(
                    ds(pos[0]).c_str(), ds(pos[1]).c_str(),
                    ds(pos[2]).c_str());
                FGFrameContent *fc = new FGFrameContent();
                FGDerivationImage *der = new FGDerivationImage();
                std::unique_ptr<FGBase> own_pp(pp), own_fc(fc), own_der(der);
                DerivationImageItem *item = nullptr;
                SourceImageItem *srci = nullptr;
                c = pp ? EC_Normal : EC_MemoryExhausted;
                if (c.good())
                    c = fc->setDimensionIndexValues(number, 0);
                if (c.good())
                    c = fc->setDimensionIndexValues((Uint32)k + 1, 1);
                if (c.good())
                    c = der->addDerivationImageItem(
                        CodeSequenceMacro("113076", "DCM", "Segmentation"),
                        "", item);
                if (c.good())
                    c = item->addSourceImageItem(
                        heads[by_path[src->slices[k].path]]->getDataset(),
                        CodeSequenceMacro("121322", "DCM",
                                          "Source image for image "
                                          "processing operation"),
                        srci);
                OFVector<FGBase *> per_frame;
                per_frame.push_back(pp);
                per_frame.push_back(fc);
                per_frame.push_back(der);
                if (c.good())
                    c = seg->addFrame(frame.data(), number, per_frame);
                if (c.bad())
                    return fail(err, out_path, "cannot add a frame", c);
                (*n_frames)++;
            }
        }
        DcmFileFormat ff;
        DcmDataset *out = ff.getDataset();
        char sop[65], number[8];
        sp_dicom_new_uid(sop);
        std::snprintf(number, sizeof number, "%d", SP_DICOM_SEG_SERIES);
        c = seg->getSeries().setSeriesInstanceUID(series_uid);
        if (c.good())
            c = seg->getSeries().setSeriesNumber(number);
        if (c.good())
            c = seg->getSOPCommon().setSOPInstanceUID(sop);
        if (c.good())
            c = seg->writeDataset(*out);
        if (c.bad())
            return fail(err, out_path, "cannot encode the segmentation", c);
        std::vector<DcmItem *> sources;
        for (const auto &h : heads)
            if (h)
                sources.push_back(h->getDataset());
        if (!add_references(*out, sources) ||
            !spd_out::copy_patient_study(*head, *out) ||
            !spd_out::set_series(*out, series_uid, sop, SP_DICOM_SEG_SERIES,
                                 1, "spinepipe segmentation (research)"))
            return sp_error_set(err, SP_INTERNAL, "%s: cannot set the "
                                "patient, study and series", out_path);
        return spd_out::save_atomic(ff, out_path, err);
    } catch (...) {
        return sp_error_set(err, SP_INTERNAL, "%s: segmentation failed",
                            out_path);
    }
}
