// DICOM result objects read back with DCMTK: the TID 1500 SR against the
// phantom's truth (values, findings, image library, evidence, study,
// validity), the SEG against the truth label map and against real series'
// published vertebra labels (segments, labels, every frame's pixels and
// position), the Secondary Capture, and hostile
// patient names and level strings passed through byte for byte or cleaned.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <jansson.h>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmfg/fgplanpo.h"
#include "dcmtk/dcmfg/fgseg.h"
#include "dcmtk/dcmseg/segdoc.h"
#include "dcmtk/dcmseg/segment.h"
#include "dcmtk/dcmseg/segutils.h"
#include "dcmtk/dcmsr/dsrdoc.h"

#include "dicom/dicom_out.h"
#include "spinepipe/labels.h"

// C headers without C++ guards; cmocka last: its macros (skip, fail)
// clash with DCMTK and iostreams.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
extern "C" {
#include "test_data.h"
#include <cmocka.h>
}

namespace {

struct Fixture {
    std::string dir;            // temporary
    sp_dicom_scan *scan = nullptr;
    json_t *truth = nullptr;
    sp_volume labels = {};
};

std::string src_path(const char *rel)
{
    char *p = test_source_path(rel);
    std::string s(p);
    free(p);
    return s;
}

const sp_dicom_series *series_of(Fixture *f)
{
    assert_non_null(f->scan);
    assert_int_equal(f->scan->n_series, 1);
    return &f->scan->series[0];
}

// Scan `dicom`, read the label map `labels`, and `truth` when not empty.
void load_fixture(Fixture *f, const std::string &dicom,
                  const std::string &labels, const std::string &truth)
{
    sp_error err;
    char *tmp = test_make_temp_dir();
    f->dir = tmp;
    free(tmp);
    assert_int_equal(sp_dicom_scan_path(dicom.c_str(), nullptr, &f->scan, &err),
                     SP_OK);
    if (!truth.empty()) {
        json_error_t je;
        f->truth = json_load_file(truth.c_str(), 0, &je);
        assert_non_null(f->truth);
    }
    if (sp_nifti_read(labels.c_str(), 1, &f->labels, &err) != SP_OK)
        fail_msg("%s", err.message);
}

// The phantom sample and its truth.
int setup_sample(void **state, const std::string &sample)
{
    sp_error err;
    if (sp_dicom_init(&err) != SP_OK)
        return -1;
    Fixture *f = new Fixture;
    load_fixture(f, src_path(("sample_dicom/" + sample).c_str()),
                 src_path(("sample_truth/" + sample + "/truth_labels.nii.gz")
                              .c_str()),
                 src_path(("sample_truth/" + sample + "/truth.json").c_str()));
    *state = f;
    return 0;
}

int setup_ct(void **state) { return setup_sample(state, "ct-axial"); }
int setup_mr(void **state) { return setup_sample(state, "mr-t2-sagittal"); }

// A real series and its published vertebra labels (same values as ours).
int setup_real(void **state, const char *folder, const char *labels)
{
    sp_error err;
    if (sp_dicom_init(&err) != SP_OK)
        return -1;
    Fixture *f = new Fixture;
    std::string base = std::string("spine/") + folder;
    char *dicom = test_data_path((base + "/dicom").c_str());
    char *lab = test_data_path((base + "/labels/" + labels).c_str());
    load_fixture(f, dicom, lab, "");
    free(dicom);
    free(lab);
    *state = f;
    return 0;
}

int setup_real_ct(void **state)
{
    return setup_real(state, "ct-lumbar-l2-l4-crop",
                      "sub-ct_seg-vert_label-22_msk.nii.gz");
}

int setup_real_mr(void **state)
{
    return setup_real(state, "mr-cervical-c5-c7-sag-crop",
                      "sub-mri_seg-vert_label-6_msk.nii.gz");
}

int teardown(void **state)
{
    Fixture *f = static_cast<Fixture *>(*state);
    test_remove_tree(f->dir.c_str());
    sp_dicom_scan_free(f->scan);
    json_decref(f->truth);
    sp_volume_free(&f->labels);
    delete f;
    sp_dicom_cleanup();
    return 0;
}

// SR content from truth.json, findings by CLINICAL.md's canal AP cut-offs
// (as an analysis stage would hand them to the report).
struct Content {
    std::vector<sp_sr_level> levels;
    std::vector<std::vector<sp_sr_finding>> findings;
    std::vector<std::string> severities;
    sp_sr_content c = {};
};

void content_from_truth(const json_t *truth, Content &out)
{
    const json_t *levels = json_object_get(truth, "levels");
    size_t n = json_array_size(levels);
    out.levels.resize(n);
    out.findings.resize(n);
    for (size_t i = 0; i < n; i++) {
        const json_t *l = json_array_get(levels, i);
        double ap = json_number_value(json_object_get(l, "canal_ap_mm"));
        const char *sev = ap < 10 ? "absolute" : ap < 12 ? "relative"
                                                         : "normal";
        out.findings[i].push_back(
            {"canal_ap_stenosis", sev, ap, ap < 10 ? 10.0 : 12.0, "truth"});
        sp_sr_level &L = out.levels[i];
        L.level = json_string_value(json_object_get(l, "level"));
        L.canal_ap_mm = ap;
        L.canal_area_mm2 =
            json_number_value(json_object_get(l, "canal_area_mm2"));
        L.disc_height_mm =
            json_number_value(json_object_get(l, "disc_height_mm"));
        L.posterior_displacement_mm = json_number_value(
            json_object_get(l, "posterior_displacement_mm"));
        L.findings = out.findings[i].data();
        L.n_findings = 1;
    }
    out.c.levels = out.levels.data();
    out.c.n_levels = n;
}

// What an SR says, read with DCMTK's own tree walk.
struct ReadSr {
    std::map<std::string, std::map<std::string, double>> values;
    std::map<std::string, std::map<std::string, std::string>> findings;
    std::map<std::string, std::string> units;
    std::vector<std::string> texts;
    size_t n_images = 0;           // image library entries
    std::string template_id;
    struct Line {
        std::string level, image_uid, measurement;
        float col[2], row[2];
    };
    std::vector<Line> lines;       // SCOORD polylines and their images
};

void read_sr(const std::string &path, DSRDocument &doc, DcmFileFormat &ff,
             ReadSr &out)
{
    assert_true(ff.loadFile(path.c_str()).good());
    // A strict read: relationship constraints of the IOD enforced.
    assert_true(doc.read(*ff.getDataset()).good());
    assert_true(doc.isValid());
    assert_int_equal(doc.getDocumentType(), DSRTypes::DT_EnhancedSR);
    DSRDocumentTree &tree = doc.getTree();
    assert_true(tree.isValid());
    assert_true(tree.gotoRoot() > 0);
    OFString tid, mapping;
    tree.getCurrentContentItem().getTemplateIdentification(tid, mapping);
    out.template_id = std::string(mapping.c_str()) + " " + tid.c_str();
    std::string level;
    bool scoord_image = false;
    std::string last_num; // a SCOORD follows the NUM it is the source of
    do {
        DSRContentItem &item = tree.getCurrentContentItem();
        const DSRCodedEntryValue &concept = item.getConceptName();
        std::string code = concept.getCodeValue().c_str();
        std::string scheme = concept.getCodingSchemeDesignator().c_str();
        switch (item.getValueType()) {
        case DSRTypes::VT_Text:
            if (code == "112039" && scheme == "DCM")
                level = item.getStringValue().c_str();
            else
                out.texts.push_back(item.getStringValue().c_str());
            break;
        case DSRTypes::VT_Num: {
            // The decimal string, and the binary value beside it.
            const DSRNumericMeasurementValue &num = item.getNumericValue();
            double v = std::strtod(num.getNumericValue().c_str(), nullptr);
            Float64 fp = NAN;
            assert_true(num.getFloatingPointRepresentation(fp).good());
            assert_true(std::fabs(fp - v) <= 1e-7 * (1 + std::fabs(v)));
            out.values[level][scheme + ":" + code] = fp;
            last_num = code;
            out.units[code] = item.getNumericValue()
                                  .getMeasurementUnit()
                                  .getCodeValue()
                                  .c_str();
            break;
        }
        case DSRTypes::VT_Code:
            if (scheme == "99SPINEPIPE" && code != "level")
                out.findings[level][code] =
                    std::string(item.getCodeValue()
                                    .getCodingSchemeDesignator()
                                    .c_str()) +
                    ":" + item.getCodeValue().getCodeValue().c_str();
            break;
        case DSRTypes::VT_SCoord: {
            DSRSpatialCoordinatesValue sc(DSRTypes::GT_invalid);
            assert_true(item.getSpatialCoordinates(sc).good());
            const DSRGraphicDataList &pts = sc.getGraphicDataList();
            assert_int_equal(sc.getGraphicType(), DSRTypes::GT_Polyline);
            assert_int_equal(pts.getNumberOfItems(), 2);
            ReadSr::Line line;
            line.level = level;
            line.measurement = last_num;
            for (size_t e = 0; e < 2; e++) {
                line.col[e] = pts.getItem(e + 1).Column;
                line.row[e] = pts.getItem(e + 1).Row;
            }
            out.lines.push_back(line);
            scoord_image = true;
            break;
        }
        case DSRTypes::VT_Image:
            // The image a SCOORD is selected from is its child.
            if (scoord_image)
                out.lines.back().image_uid =
                    item.getImageReference().getSOPInstanceUID().c_str();
            else
                out.n_images++;
            scoord_image = false;
            break;
        default:
            break;
        }
    } while (tree.iterate());
}

std::string tag(DcmItem *ds, const DcmTagKey &key)
{
    OFString v;
    ds->findAndGetOFStringArray(key, v);
    return v.c_str();
}

void sr_matches_truth(void **state)
{
    Fixture *f = static_cast<Fixture *>(*state);
    const sp_dicom_series *s = series_of(f);
    Content content;
    content_from_truth(f->truth, content);
    // A caliper of the level's length through its disc centroid (the
    // mapping into the image is checked, not the anatomy).
    const json_t *lv45 = nullptr;
    size_t i45 = 0;
    json_array_foreach(json_object_get(f->truth, "levels"), i45, lv45)
        if (std::string(json_string_value(json_object_get(lv45, "level"))) ==
            "L4-L5")
            break;
    assert_non_null(lv45);
    sp_sr_level &L45 = content.levels[i45];
    double ends[2][3];
    for (int e = 0; e < 2; e++)
        for (int a = 0; a < 3; a++) {
            double c = json_number_value(json_array_get(
                json_object_get(lv45, "disc_centroid_mm"), a));
            ends[e][a] = c + (a == 1 ? (e ? 0.5 : -0.5) * L45.canal_ap_mm : 0);
            L45.caliper_mm[e][a] = ends[e][a];
        }
    L45.has_caliper = 1;
    const char *warnings[] = {"L5-S1: partly outside the field of view"};
    content.c.warnings = warnings;
    content.c.n_warnings = 1;
    char series_uid[65];
    sp_dicom_new_uid(series_uid);
    std::string path = f->dir + "/sr.dcm";
    sp_error err;
    if (sp_dicom_write_sr(s, &content.c, series_uid, path.c_str(), &err) !=
        SP_OK)
        fail_msg("%s", err.message);
    DSRDocument doc;
    DcmFileFormat ff;
    ReadSr sr;
    read_sr(path, doc, ff, sr);
    assert_string_equal(sr.template_id.c_str(), "DCMR 1500");
    DcmDataset *ds = ff.getDataset();
    assert_string_equal(tag(ds, DCM_SOPClassUID).c_str(),
                        UID_EnhancedSRStorage);
    assert_string_equal(tag(ds, DCM_StudyInstanceUID).c_str(),
                        s->header.study_uid);
    assert_string_equal(tag(ds, DCM_SeriesInstanceUID).c_str(), series_uid);
    assert_string_not_equal(tag(ds, DCM_SeriesInstanceUID).c_str(),
                            s->header.series_uid);
    assert_string_equal(tag(ds, DCM_PatientID).c_str(), s->header.patient_id);
    assert_string_equal(tag(ds, DCM_Modality).c_str(), "SR");
    assert_string_equal(tag(ds, DCM_CompletionFlag).c_str(), "COMPLETE");
    // The image library and the evidence name every source instance.
    assert_int_equal(sr.n_images, s->n_slices);
    std::set<std::string> sources;
    for (size_t i = 0; i < s->n_slices; i++) {
        DcmFileFormat src;
        assert_true(src.loadFile(s->slices[i].path).good());
        sources.insert(tag(src.getDataset(), DCM_SOPInstanceUID));
    }
    DSRSOPInstanceReferenceList &ev = doc.getCurrentRequestedProcedureEvidence();
    assert_int_equal(ev.getNumberOfInstances(), sources.size());
    assert_true(ev.gotoFirstItem().good());
    size_t found = 0;
    do {
        OFString uid;
        ev.getSOPInstanceUID(uid);
        found += sources.count(uid.c_str());
    } while (ev.gotoNextItem().good());
    assert_int_equal(found, sources.size());
    // Every level's values, within the 8 significant digits written.
    const json_t *levels = json_object_get(f->truth, "levels");
    assert_int_equal(sr.values.size(), json_array_size(levels));
    for (size_t i = 0; i < json_array_size(levels); i++) {
        const json_t *l = json_array_get(levels, i);
        std::string name = json_string_value(json_object_get(l, "level"));
        assert_int_equal(sr.values.count(name), 1);
        auto &v = sr.values[name];
        const char *keys[][2] = {
            {"99SPINEPIPE:canal_ap", "canal_ap_mm"},
            {"99SPINEPIPE:canal_area", "canal_area_mm2"},
            {"99SPINEPIPE:disc_height", "disc_height_mm"},
            {"99SPINEPIPE:post_displace", "posterior_displacement_mm"}};
        for (auto &k : keys) {
            double want = json_number_value(json_object_get(l, k[1]));
            assert_int_equal(v.count(k[0]), 1);
            if (std::fabs(v[k[0]] - want) > 1e-6 * (1 + std::fabs(want)))
                fail_msg("%s %s: SR %.9g, truth %.9g", name.c_str(), k[0],
                         v[k[0]], want);
        }
        double ap = json_number_value(json_object_get(l, "canal_ap_mm"));
        std::string want = ap < 10 ? "99SPINEPIPE:absolute"
                           : ap < 12 ? "99SPINEPIPE:relative"
                                     : "SCT:17621005";
        assert_string_equal(sr.findings[name]["canal_ap_stenosis"].c_str(),
                            want.c_str());
    }
    // The caliper: on the source slice nearest to it, in image coordinates
    // from that slice's own header.
    assert_int_equal(sr.lines.size(), 1);
    const ReadSr::Line &line = sr.lines[0];
    assert_string_equal(line.level.c_str(), "L4-L5");
    assert_string_equal(line.measurement.c_str(), "canal_ap");
    double best = INFINITY;
    std::string want_uid;
    double want_col[2], want_row[2];
    for (size_t k = 0; k < s->n_slices; k++) {
        DcmFileFormat src;
        assert_true(src.loadFile(s->slices[k].path).good());
        DcmDataset *d = src.getDataset();
        double ipp[3], iop[6], ps[2];
        for (int a = 0; a < 3; a++)
            d->findAndGetFloat64(DCM_ImagePositionPatient, ipp[a], a);
        for (int a = 0; a < 6; a++)
            d->findAndGetFloat64(DCM_ImageOrientationPatient, iop[a], a);
        d->findAndGetFloat64(DCM_PixelSpacing, ps[0], 0);
        d->findAndGetFloat64(DCM_PixelSpacing, ps[1], 1);
        double nrm[3] = {iop[1] * iop[5] - iop[2] * iop[4],
                         iop[2] * iop[3] - iop[0] * iop[5],
                         iop[0] * iop[4] - iop[1] * iop[3]};
        double dist = 0;
        for (int a = 0; a < 3; a++)
            dist += (ends[0][a] - ipp[a]) * nrm[a];
        if (std::fabs(dist) < best) {
            best = std::fabs(dist);
            want_uid = tag(d, DCM_SOPInstanceUID);
            for (int e = 0; e < 2; e++) {
                double u = 0, v = 0;
                for (int a = 0; a < 3; a++) {
                    u += (ends[e][a] - ipp[a]) * iop[a];
                    v += (ends[e][a] - ipp[a]) * iop[3 + a];
                }
                want_col[e] = u / ps[1] + 0.5;
                want_row[e] = v / ps[0] + 0.5;
            }
        }
    }
    assert_string_equal(line.image_uid.c_str(), want_uid.c_str());
    for (int e = 0; e < 2; e++) {
        assert_true(std::fabs(line.col[e] - want_col[e]) < 1e-3);
        assert_true(std::fabs(line.row[e] - want_row[e]) < 1e-3);
    }
    // Its length in pixels times the pixel size is the AP diameter.
    double len = std::hypot((line.col[1] - line.col[0]) * s->pixel_spacing[1],
                            (line.row[1] - line.row[0]) * s->pixel_spacing[0]);
    assert_true(std::fabs(len - L45.canal_ap_mm) < 1e-3);
    assert_string_equal(sr.units["canal_ap"].c_str(), "mm");
    assert_string_equal(sr.units["canal_area"].c_str(), "mm2");
    // The disclaimer and the warning are there as text.
    bool disclaimer = false, warning = false;
    for (const std::string &t : sr.texts) {
        disclaimer |= t == "Research/triage aid. Not for diagnostic use.";
        warning |= t == warnings[0];
    }
    assert_true(disclaimer);
    assert_true(warning);
}

// The phantom has a stenosis at L4-L5: the SR must say absolute there.
void sr_flags_the_stenosis(void **state)
{
    Fixture *f = static_cast<Fixture *>(*state);
    Content content;
    content_from_truth(f->truth, content);
    std::string path = f->dir + "/sr2.dcm";
    char uid[65];
    sp_dicom_new_uid(uid);
    sp_error err;
    assert_int_equal(sp_dicom_write_sr(series_of(f), &content.c, uid,
                                       path.c_str(), &err),
                     SP_OK);
    DSRDocument doc;
    DcmFileFormat ff;
    ReadSr sr;
    read_sr(path, doc, ff, sr);
    const json_t *params = json_object_get(f->truth, "parameters");
    double nominal = json_number_value(
        json_object_get(json_object_get(params, "canal_ap_mm"), "L4-L5"));
    assert_true(nominal < 10);
    assert_true(std::fabs(sr.values["L4-L5"]["99SPINEPIPE:canal_ap"] -
                          nominal) < 1e-6);
    assert_string_equal(sr.findings["L4-L5"]["canal_ap_stenosis"].c_str(),
                        "99SPINEPIPE:absolute");
}

// Nothing measured: still a valid TID 1500 document with the reason.
void sr_without_levels(void **state)
{
    Fixture *f = static_cast<Fixture *>(*state);
    sp_sr_content c = {};
    c.not_analysable = "no analysis in this pipeline";
    std::string path = f->dir + "/empty.dcm";
    char uid[65];
    sp_dicom_new_uid(uid);
    sp_error err;
    assert_int_equal(
        sp_dicom_write_sr(series_of(f), &c, uid, path.c_str(), &err), SP_OK);
    DSRDocument doc;
    DcmFileFormat ff;
    ReadSr sr;
    read_sr(path, doc, ff, sr);
    assert_int_equal(sr.values.size(), 0);
    bool reason = false;
    for (const std::string &t : sr.texts)
        reason |= t == "no analysis in this pipeline";
    assert_true(reason);
}

// Every frame of the SEG equals the label map at its position.
void seg_matches_labels(void **state)
{
    Fixture *f = static_cast<Fixture *>(*state);
    const sp_dicom_series *s = series_of(f);
    std::string path = f->dir + "/seg.dcm";
    char uid[65];
    sp_dicom_new_uid(uid);
    size_t n_segments = 0, n_frames = 0;
    sp_error err;
    if (sp_dicom_write_seg(s, &f->labels, uid, path.c_str(), &n_segments,
                           &n_frames, &err) != SP_OK)
        fail_msg("%s", err.message);
    // Expected: the labels present, and per label the slices holding it,
    // counted on the truth volume through the source geometry.
    const uint16_t *lab = static_cast<const uint16_t *>(f->labels.data);
    std::map<int, size_t> slices_with;
    std::vector<std::vector<double>> pix_pos;
    for (size_t k = 0; k < s->n_slices; k++) {
        std::set<int> here;
        for (size_t r = 0; r < s->rows; r++)
            for (size_t c = 0; c < s->columns; c++) {
                double p[3], ijk[3];
                for (int a = 0; a < 3; a++)
                    p[a] = s->slices[k].position[a] +
                           s->orientation[a] * s->pixel_spacing[1] * c +
                           s->orientation[3 + a] * s->pixel_spacing[0] * r;
                assert_int_equal(sp_volume_patient_to_voxel(&f->labels, p, ijk),
                                 SP_OK);
                long i = lrint(ijk[0]), j = lrint(ijk[1]), kk = lrint(ijk[2]);
                if (i < 0 || j < 0 || kk < 0 || i >= (long)f->labels.dim[0] ||
                    j >= (long)f->labels.dim[1] || kk >= (long)f->labels.dim[2])
                    continue;
                int v = lab[sp_volume_index(&f->labels, i, j, kk)];
                char buf[64];
                if (v && sp_label_describe(v, buf, sizeof buf))
                    here.insert(v);
            }
        for (int v : here)
            slices_with[v]++;
    }
    size_t want_frames = 0;
    for (auto &e : slices_with)
        want_frames += e.second;
    assert_int_equal(n_segments, slices_with.size());
    assert_int_equal(n_frames, want_frames);
    // Read back with dcmseg.
    DcmSegmentation *seg = nullptr;
    assert_true(DcmSegmentation::loadFile(path.c_str(), seg).good());
    assert_int_equal(seg->getNumberOfSegments(), slices_with.size());
    assert_int_equal(seg->getNumberOfFrames(), want_frames);
    std::map<Uint16, int> label_of;
    size_t n = 1;
    for (auto &e : slices_with) {
        DcmSegment *sg = seg->getSegment(n);
        assert_non_null(sg);
        OFString name, code;
        sg->getSegmentLabel(name);
        sg->getSegmentedPropertyTypeCode().getCodeValue(code);
        char buf[64];
        assert_string_equal(name.c_str(),
                            sp_label_describe(e.first, buf, sizeof buf));
        assert_int_equal(atoi(code.c_str()), e.first);
        label_of[(Uint16)n] = e.first;
        n++;
    }
    FGInterface &fg = seg->getFunctionalGroups();
    size_t mismatches = 0;
    for (size_t fr = 0; fr < seg->getNumberOfFrames(); fr++) {
        FGSegmentation *fs = OFstatic_cast(
            FGSegmentation *, fg.get((Uint32)fr, DcmFGTypes::EFG_SEGMENTATION));
        FGPlanePosPatient *pp = OFstatic_cast(
            FGPlanePosPatient *,
            fg.get((Uint32)fr, DcmFGTypes::EFG_PLANEPOSPATIENT));
        assert_non_null(fs);
        assert_non_null(pp);
        Uint16 number = 0;
        assert_true(fs->getReferencedSegmentNumber(number).good());
        Float64 x, y, z;
        assert_true(pp->getImagePositionPatient(x, y, z).good());
        DcmIODTypes::Frame *bits = DcmSegUtils::unpackBinaryFrame(
            seg->getFrame(fr), (Uint16)s->rows, (Uint16)s->columns);
        assert_non_null(bits);
        for (size_t r = 0; r < s->rows; r++)
            for (size_t c = 0; c < s->columns; c++) {
                double p[3] = {x, y, z}, ijk[3];
                for (int a = 0; a < 3; a++)
                    p[a] += s->orientation[a] * s->pixel_spacing[1] * c +
                            s->orientation[3 + a] * s->pixel_spacing[0] * r;
                sp_volume_patient_to_voxel(&f->labels, p, ijk);
                long i = lrint(ijk[0]), j = lrint(ijk[1]), kk = lrint(ijk[2]);
                int v = 0;
                if (i >= 0 && j >= 0 && kk >= 0 &&
                    i < (long)f->labels.dim[0] && j < (long)f->labels.dim[1] &&
                    kk < (long)f->labels.dim[2])
                    v = lab[sp_volume_index(&f->labels, i, j, kk)];
                bool want = v == label_of[number];
                bool got = bits->pixData[r * s->columns + c] != 0;
                mismatches += want != got;
            }
        delete bits;
    }
    assert_int_equal(mismatches, 0);
    delete seg;
}

// A label map with no known label: SP_NOINPUT, no file.
void seg_refuses_empty(void **state)
{
    Fixture *f = static_cast<Fixture *>(*state);
    sp_volume empty = {};
    sp_error err;
    assert_int_equal(sp_volume_alloc_like(&empty, &f->labels, SP_VOXEL_U16,
                                          &err),
                     SP_OK);
    std::string path = f->dir + "/none.dcm";
    char uid[65];
    sp_dicom_new_uid(uid);
    size_t ns, nf;
    assert_int_equal(sp_dicom_write_seg(series_of(f), &empty, uid,
                                        path.c_str(), &ns, &nf, &err),
                     SP_NOINPUT);
    FILE *fp = fopen(path.c_str(), "rb");
    assert_null(fp);
    sp_volume_free(&empty);
}

// UIDs: 2.25 form, valid syntax, distinct.
void uids(void **state)
{
    (void)state;
    std::set<std::string> seen;
    for (int i = 0; i < 1000; i++) {
        char u[65];
        sp_dicom_new_uid(u);
        size_t n = strlen(u);
        assert_true(n > 5 && n <= 64);
        assert_memory_equal(u, "2.25.", 5);
        assert_true(u[5] != '0');
        assert_int_equal(strspn(u + 5, "0123456789"), n - 5);
        seen.insert(u);
    }
    assert_int_equal(seen.size(), 1000);
}

// Hostile patient name (bytes outside any character set, a backslash,
// control characters, a format string) and a hostile level name.
void hostile_strings(void **state)
{
    Fixture *f = static_cast<Fixture *>(*state);
    const sp_dicom_series *s0 = series_of(f);
    std::string copy = f->dir + "/hostile";
    assert_int_equal(system(("mkdir -p '" + copy + "'").c_str()), 0);
    const char evil[] = "\xff\xfe%n%s\\^\x01\x1b$B../../etc";
    for (size_t i = 0; i < s0->n_slices; i++) {
        DcmFileFormat ff;
        assert_true(ff.loadFile(s0->slices[i].path).good());
        DcmDataset *ds = ff.getDataset();
        assert_true(ds->putAndInsertString(DCM_PatientName, evil).good());
        assert_true(
            ds->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 100")
                .good());
        char name[64];
        std::snprintf(name, sizeof name, "/%04zu.dcm", i);
        assert_true(ff.saveFile((copy + name).c_str(),
                                EXS_LittleEndianExplicit)
                        .good());
    }
    sp_dicom_scan *scan = nullptr;
    sp_error err;
    assert_int_equal(sp_dicom_scan_path(copy.c_str(), nullptr, &scan, &err),
                     SP_OK);
    assert_int_equal(scan->n_series, 1);
    const sp_dicom_series *s = &scan->series[0];
    sp_sr_finding finding = {"x\\y%n\x01\xff", "severe", 1, 2,
                             "%s%s\x7f"};
    sp_sr_level level = {};
    level.level = "L4-L5/../\x01\xffXYZ%n";
    level.canal_ap_mm = 1;
    level.canal_area_mm2 = 2;
    level.disc_height_mm = 3;
    level.posterior_displacement_mm = NAN;
    level.findings = &finding;
    level.n_findings = 1;
    sp_sr_content c = {&level, 1, nullptr, 0, nullptr};
    char uid[65];
    sp_dicom_new_uid(uid);
    std::string sr = f->dir + "/h-sr.dcm", seg = f->dir + "/h-seg.dcm",
                sc = f->dir + "/h-sc.dcm";
    assert_int_equal(sp_dicom_write_sr(s, &c, uid, sr.c_str(), &err), SP_OK);
    size_t ns, nf;
    if (sp_dicom_write_seg(s, &f->labels, uid, seg.c_str(), &ns, &nf, &err) !=
        SP_OK)
        fail_msg("%s", err.message);
    unsigned char px[16 * 8] = {0};
    assert_int_equal(sp_dicom_write_sc(s->slices[0].path, uid, nullptr, 1,
                                       px, 16, 8,
                                       1, "a\\b\x01\xff%n", sc.c_str(), &err),
                     SP_OK);
    for (const std::string &p : {sr, seg, sc}) {
        DcmFileFormat ff;
        assert_true(ff.loadFile(p.c_str()).good());
        DcmDataset *ds = ff.getDataset();
        const char *got = nullptr;
        assert_true(ds->findAndGetString(DCM_PatientName, got).good());
        // Byte for byte: the PACS files results under the same name.
        assert_non_null(got);
        assert_string_equal(got, evil);
        assert_string_equal(tag(ds, DCM_SpecificCharacterSet).c_str(),
                            "ISO_IR 100");
        const char *desc = nullptr;
        ds->findAndGetString(DCM_SeriesDescription, desc);
        for (const char *d = desc; d && *d; d++)
            assert_true(*d >= 0x20 && *d < 0x7f && *d != '\\');
    }
    DSRDocument doc;
    DcmFileFormat ff;
    ReadSr r;
    read_sr(sr, doc, ff, r);
    assert_int_equal(r.values.size(), 1);
    const std::string &name = r.values.begin()->first;
    for (char ch : name)
        assert_true(ch >= 0x20 && ch < 0x7f && ch != '\\');
    assert_int_equal(name.size(), 16);
    sp_dicom_scan_free(scan);
}

} // namespace

int main(void)
{
#define CT(t) cmocka_unit_test_setup_teardown(t, setup_ct, teardown)
#define MR(t) cmocka_unit_test_setup_teardown(t, setup_mr, teardown)
#define REAL(t, s) cmocka_unit_test_setup_teardown(t, s, teardown)
    const struct CMUnitTest tests[] = {
        CT(sr_matches_truth),   CT(sr_flags_the_stenosis),
        CT(sr_without_levels),  CT(seg_matches_labels),
        CT(seg_refuses_empty),  CT(uids),
        CT(hostile_strings),    MR(sr_matches_truth),
        MR(seg_matches_labels),
        REAL(seg_matches_labels, setup_real_ct),
        REAL(seg_matches_labels, setup_real_mr),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
