// The C-STORE SCU: result files to the destination on one association,
// each offered in its own transfer syntax and in plain little endian.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/scu.h"

#include "net.h"

namespace {

struct FileInfo {
    std::string path, sop_class, xfer;
};

bool read_meta(const char *path, FileInfo &info)
{
    DcmFileFormat ff;
    if (ff.loadFile(path, EXS_Unknown, EGL_noChange, 0,
                    ERM_metaOnly).bad())
        return false;
    OFString cls, ts;
    DcmMetaInfo *meta = ff.getMetaInfo();
    if (meta->findAndGetOFString(DCM_MediaStorageSOPClassUID, cls).bad() ||
        meta->findAndGetOFString(DCM_TransferSyntaxUID, ts).bad() ||
        cls.empty() || ts.empty())
        return false;
    info.path = path;
    info.sop_class = cls.c_str();
    info.xfer = ts.c_str();
    return true;
}

} // namespace

extern "C" sp_status sp_net_send(const sp_net_peer *dest, const char *our_aet,
                                 const char *const *files, size_t n_files,
                                 int timeout_seconds, sp_error *err)
{
    try {
        std::vector<FileInfo> infos;
        std::set<std::pair<std::string, std::string>> contexts;
        for (size_t i = 0; i < n_files; i++) {
            FileInfo info;
            if (!read_meta(files[i], info))
                return sp_error_set(err, SP_NOTDICOM,
                                    "%s: not a DICOM file with a meta "
                                    "header",
                                    files[i]);
            contexts.insert({info.sop_class, info.xfer});
            infos.push_back(info);
        }
        if (infos.empty())
            return SP_OK;
        DcmSCU scu;
        scu.setAETitle(our_aet);
        scu.setPeerAETitle(dest->aet);
        scu.setPeerHostName(dest->host);
        scu.setPeerPort((Uint16)dest->port);
        scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        scu.setDIMSETimeout((Uint32)timeout_seconds);
        scu.setACSETimeout((Uint32)timeout_seconds);
        scu.setConnectionTimeout(timeout_seconds);
        std::set<std::string> classes;
        for (const auto &c : contexts) {
            OFList<OFString> ts;
            ts.push_back(c.second.c_str());
            scu.addPresentationContext(c.first.c_str(), ts);
            classes.insert(c.first);
        }
        OFList<OFString> plain;
        plain.push_back(UID_LittleEndianExplicitTransferSyntax);
        plain.push_back(UID_LittleEndianImplicitTransferSyntax);
        for (const std::string &c : classes)
            scu.addPresentationContext(c.c_str(), plain);
        OFCondition cond = scu.initNetwork();
        if (cond.good())
            cond = scu.negotiateAssociation();
        if (cond.bad())
            return sp_error_set(err, SP_NETWORK, "%s@%s:%d: association "
                                "failed: %s", dest->aet, dest->host,
                                dest->port, cond.text());
        sp_status st = SP_OK;
        for (const FileInfo &f : infos) {
            T_ASC_PresentationContextID id =
                scu.findPresentationContextID(f.sop_class.c_str(),
                                              f.xfer.c_str());
            if (id == 0)
                id = scu.findAnyPresentationContextID(f.sop_class.c_str(),
                                                      f.xfer.c_str());
            if (id == 0) {
                st = sp_error_set(err, SP_NETWORK, "%s: %s@%s:%d accepts "
                                  "no transfer syntax for SOP class %s",
                                  f.path.c_str(), dest->aet, dest->host,
                                  dest->port, f.sop_class.c_str());
                break;
            }
            Uint16 status = 0xFFFF;
            cond = scu.sendSTORERequest(id, f.path.c_str(), nullptr, status);
            // 0xB000-0xBFFF are warnings: stored.
            if (cond.bad() || (status != 0 && (status & 0xF000) != 0xB000)) {
                st = sp_error_set(err, SP_NETWORK, "%s: C-STORE to %s@%s:%d "
                                  "failed: %s (status 0x%04x)",
                                  f.path.c_str(), dest->aet, dest->host,
                                  dest->port,
                                  cond.bad() ? cond.text() : "refused",
                                  status);
                break;
            }
        }
        if (st == SP_OK)
            scu.releaseAssociation();
        else
            scu.abortAssociation();
        return st;
    } catch (...) {
        return sp_error_set(err, SP_INTERNAL, "C-STORE to %s@%s:%d failed",
                            dest->aet, dest->host, dest->port);
    }
}
