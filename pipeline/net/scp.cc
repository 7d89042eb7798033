// The C-STORE SCP: our own accept loop on a socket we bind ourselves (so
// the address can be loopback), one thread per association up to
// max_associations, each running a DCMTK DcmThreadSCP. Each instance is
// received into a temporary file as it arrives (DCMTK's parser, which
// reserves every declared length up front, only reads it after the
// declared lengths have been checked against the file), fsynced and moved
// into the spool before the success response goes out.
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/dul.h"
#include "dcmtk/dcmnet/scpthrd.h"
#include "dcmtk/dcmtls/tlslayer.h"

#include "dicom/dicom_prescan.h"
extern "C" {
#include "engine/log.h"
}
#include "net_internal.h"
#include "spool.h"

namespace {

// DIMSE status codes (PS3.4 Annex B).
const Uint16 kSuccess = 0x0000;
const Uint16 kSopClassNotSupported = 0x0122;
const Uint16 kOutOfResources = 0xA700;
const Uint16 kDataSetMismatch = 0xA900;
const Uint16 kCannotUnderstand = 0xC000;

// What every association thread shares. One listener per process.
struct Shared {
    sp_spool *spool = nullptr;
    std::string aet;
    std::vector<std::string> allowed;
    bool allow_any = false;
    size_t max_dataset = SP_NET_MAX_DATASET;
    std::atomic<unsigned long> next_assoc{1};
    // Milliseconds from a dataset fully received to its response sent.
    std::mutex lock;
    std::vector<double> ack_ms;
};
Shared *g_shared = nullptr;

std::string trimmed(const OFString &s)
{
    std::string t(s.c_str());
    size_t b = t.find_first_not_of(' ');
    size_t e = t.find_last_not_of(' ');
    return b == std::string::npos ? std::string() : t.substr(b, e - b + 1);
}

bool image_sop_class(const char *uid)
{
    for (size_t i = 0; i < spn_n_image_sop_classes; i++)
        if (std::strcmp(uid, spn_image_sop_classes[i]) == 0)
            return true;
    return false;
}

// A UID from the dataset: present, at most 64 characters, digits and dots.
bool get_uid(DcmDataset *ds, const DcmTagKey &tag, OFString &out)
{
    if (ds->findAndGetOFString(tag, out).bad())
        return false;
    if (out.empty() || out.length() > 64)
        return false;
    for (size_t i = 0; i < out.length(); i++)
        if (!(out[i] == '.' || (out[i] >= '0' && out[i] <= '9')))
            return false;
    return true;
}

class StoreSCP : public DcmThreadSCP {
public:
    // The association's socket: shut down to stop an oversized data set.
    explicit StoreSCP(int sock) : sock_(sock) {}

protected:
    OFBool checkCalledAETitleAccepted(const OFString &called) override
    {
        return trimmed(called) == g_shared->aet;
    }

    OFBool checkCallingAETitleAccepted(const OFString &calling) override
    {
        if (g_shared->allow_any)
            return OFTrue;
        std::string t = trimmed(calling);
        for (const std::string &a : g_shared->allowed)
            if (a == t)
                return OFTrue;
        return OFFalse;
    }

    void notifyAssociationAcknowledge() override
    {
        assoc_ = g_shared->next_assoc++;
        sp_spool_assoc_begin(g_shared->spool, assoc_,
                             trimmed(getPeerAETitle()).c_str());
    }

    void notifyAssociationTermination() override
    {
        if (assoc_)
            sp_spool_assoc_end(g_shared->spool, assoc_);
        assoc_ = 0;
    }

    // DCMTK collects a whole data set in memory before handing it over, so
    // the limit is enforced while it arrives: past it the socket is shut
    // down, the receive fails and the association ends.
    void notifyRECEIVEProgress(const unsigned long bytes) override
    {
        if (bytes <= g_shared->max_dataset || oversize_)
            return;
        oversize_ = true;
        spn_report_oversize(getPeerAETitle().c_str(), g_shared->max_dataset);
        shutdown(sock_, SHUT_RDWR);
    }

    OFCondition handleIncomingCommand(T_DIMSE_Message *msg,
                                      const DcmPresentationContextInfo &pc)
        override
    {
        if (msg->CommandField != DIMSE_C_STORE_RQ)
            return DcmThreadSCP::handleIncomingCommand(msg, pc);
        T_DIMSE_C_StoreRQ &req = msg->msg.CStoreRQ;
        T_ASC_PresentationContextID id = pc.presentationContextID;
        char tmp[4096];
        sp_spool_tmp_path(g_shared->spool, tmp, sizeof tmp);
        OFCondition cond = receiveSTORERequest(req, id, OFString(tmp));
        if (cond.bad()) {
            unlink(tmp);
            return cond;
        }
        auto t0 = std::chrono::steady_clock::now();
        Uint16 status = store(req, tmp);
        if (status != kSuccess)
            unlink(tmp);
        cond = sendSTOREResponse(id, req, status);
        std::chrono::duration<double, std::milli> dt =
            std::chrono::steady_clock::now() - t0;
        std::lock_guard<std::mutex> g(g_shared->lock);
        g_shared->ack_ms.push_back(dt.count());
        return cond;
    }

private:
    // Checks the received file `tmp` and moves it into the spool.
    Uint16 store(const T_DIMSE_C_StoreRQ &req, const char *tmp)
    {
        if (!image_sop_class(req.AffectedSOPClassUID))
            return kSopClassNotSupported;
        sp_error err;
        if (spd_prescan_file(tmp, &err) != SP_OK) {
            sp_log(SP_LOG_ERROR, NULL, "association from '%s': data set "
                   "refused: %s", trimmed(getPeerAETitle()).c_str(),
                   err.message);
            return kCannotUnderstand;
        }
        DcmFileFormat file;
        if (file.loadFile(tmp, EXS_Unknown, EGL_noChange, 4096,
                          ERM_fileOnly)
                .bad())
            return kCannotUnderstand;
        DcmDataset *ds = file.getDataset();
        OFString sop_class, sop, series;
        if (!get_uid(ds, DCM_SOPClassUID, sop_class) ||
            !get_uid(ds, DCM_SOPInstanceUID, sop) ||
            !get_uid(ds, DCM_SeriesInstanceUID, series))
            return kCannotUnderstand;
        if (sop_class != req.AffectedSOPClassUID ||
            sop != req.AffectedSOPInstanceUID)
            return kDataSetMismatch;
        int fd = open(tmp, O_RDONLY);
        bool synced = fd >= 0 && fsync(fd) == 0;
        if (fd >= 0)
            close(fd);
        if (!synced || sp_spool_commit(g_shared->spool, tmp, series.c_str(),
                                       sop.c_str(), assoc_, &err) != SP_OK)
            return kOutOfResources;
        return kSuccess;
    }

    unsigned long assoc_ = 0;
    int sock_;
    bool oversize_ = false;
};

// One association's thread.
struct Session {
    std::thread thread;
    std::atomic<bool> finished{false};
};

int bind_socket(const char *addr, int port, sp_error *err)
{
    struct sockaddr_in sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        sp_error_set(err, SP_USAGE, "bind address '%s': expected an IPv4 "
                     "address such as 127.0.0.1", addr);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        ::listen(fd, 64) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        sp_error_set(err, SP_NETWORK, "cannot listen on %s:%d: %s", addr,
                     port, std::strerror(e));
        return -1;
    }
    return fd;
}

// The TLS layer for --tls-key/--tls-cert: a modern profile (BCP 195),
// client certificates required and checked only when a CA is given.
sp_status make_tls(const sp_listen_options *o, T_ASC_Network *net,
                   std::unique_ptr<DcmTLSTransportLayer> &tls, sp_error *err)
{
    DcmTLSTransportLayer::initializeOpenSSL();
    tls.reset(new DcmTLSTransportLayer(NET_ACCEPTOR, nullptr, OFFalse));
    if (!*tls)
        return sp_error_set(err, SP_NETWORK, "cannot start TLS (OpenSSL)");
    if (tls->setPrivateKeyFile(o->tls_key, DCF_Filetype_PEM).bad())
        return sp_error_set(err, SP_CONFIG, "--tls-key %s: cannot read a PEM "
                            "private key", o->tls_key);
    if (tls->setCertificateFile(o->tls_cert, DCF_Filetype_PEM).bad())
        return sp_error_set(err, SP_CONFIG, "--tls-cert %s: cannot read a "
                            "PEM certificate", o->tls_cert);
    if (!tls->checkPrivateKeyMatchesCertificate())
        return sp_error_set(err, SP_CONFIG, "--tls-key %s does not match "
                            "--tls-cert %s", o->tls_key, o->tls_cert);
    if (o->tls_ca) {
        if (tls->addTrustedCertificateFile(o->tls_ca, DCF_Filetype_PEM).bad())
            return sp_error_set(err, SP_CONFIG, "--tls-ca %s: cannot read a "
                                "PEM certificate", o->tls_ca);
        tls->setCertificateVerification(DCV_requireCertificate);
    } else {
        tls->setCertificateVerification(DCV_ignoreCertificate);
    }
    OFCondition cond = tls->setTLSProfile(TSP_Profile_BCP195);
    if (cond.good())
        cond = tls->activateCipherSuites();
    if (cond.good())
        cond = ASC_setTransportLayer(net, tls.get(), 0);
    if (cond.bad())
        return sp_error_set(err, SP_NETWORK, "cannot configure TLS: %s",
                            cond.text());
    return SP_OK;
}

void drop(T_ASC_Association *assoc)
{
    ASC_dropAssociation(assoc);
    ASC_destroyAssociation(&assoc);
}

void refuse_busy(T_ASC_Association *assoc)
{
    T_ASC_RejectParameters rej;
    rej.result = ASC_RESULT_REJECTEDTRANSIENT;
    rej.source = ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED;
    rej.reason = ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED;
    ASC_rejectAssociation(assoc, &rej);
    drop(assoc);
}

DcmSCPConfig make_config(const sp_listen_options *o)
{
    DcmSCPConfig cfg;
    cfg.setAETitle(o->aet);
    cfg.setPort((Uint16)o->port);
    cfg.setHostLookupEnabled(OFFalse);
    cfg.setMaxReceivePDULength(ASC_MAXIMUMPDUSIZE);
    cfg.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    cfg.setDIMSETimeout((Uint32)o->idle_timeout);
    cfg.setACSETimeout((Uint32)o->idle_timeout);
    OFList<OFString> xfers;
    for (size_t i = 0; i < spn_n_transfer_syntaxes; i++)
        xfers.push_back(spn_transfer_syntaxes[i]);
    for (size_t i = 0; i < spn_n_image_sop_classes; i++)
        cfg.addPresentationContext(spn_image_sop_classes[i], xfers);
    OFList<OFString> plain;
    plain.push_back(UID_LittleEndianExplicitTransferSyntax);
    plain.push_back(UID_LittleEndianImplicitTransferSyntax);
    cfg.addPresentationContext(UID_VerificationSOPClass, plain);
    return cfg;
}

// Join the threads whose association has ended.
void reap(std::list<std::unique_ptr<Session>> &sessions)
{
    for (auto it = sessions.begin(); it != sessions.end();) {
        if ((*it)->finished.load()) {
            (*it)->thread.join();
            it = sessions.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace

extern "C" sp_status spn_serve(const sp_listen_options *o, sp_spool *spool,
                               sp_error *err)
{
    const char *addr = o->bind_addr ? o->bind_addr : "127.0.0.1";
    int fd = bind_socket(addr, o->port, err);
    if (fd < 0)
        return err->code;
    Shared shared;
    shared.spool = spool;
    shared.aet = o->aet;
    shared.allow_any = o->allow_any != 0;
    if (o->max_dataset_bytes)
        shared.max_dataset = o->max_dataset_bytes;
    for (size_t i = 0; i < o->n_allowed_aets; i++)
        shared.allowed.push_back(o->allowed_aets[i]);
    g_shared = &shared;
    // The A-ASSOCIATE-RQ is read in this loop: a silent client holds it
    // for at most this long.
    int acse = o->idle_timeout < 10 ? o->idle_timeout : 10;
    // With an external socket set DCMTK binds nothing itself (its inetd
    // mode); each accepted connection is then handed over the same way.
    T_ASC_Network *net = nullptr;
    dcmExternalSocketHandle.set(fd);
    OFCondition cond = ASC_initializeNetwork(NET_ACCEPTOR, o->port, acse,
                                             &net);
    dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
    if (cond.bad()) {
        close(fd);
        g_shared = nullptr;
        return sp_error_set(err, SP_NETWORK, "cannot start the DICOM "
                            "network layer: %s", cond.text());
    }
    std::unique_ptr<DcmTLSTransportLayer> tls;
    sp_status st = SP_OK;
    if (o->tls_key && make_tls(o, net, tls, err) != SP_OK) {
        ASC_dropNetwork(&net);
        close(fd);
        g_shared = nullptr;
        return err->code;
    }
    std::list<std::unique_ptr<Session>> sessions;
    try {
        DcmSharedSCPConfig config(make_config(o));
        while (!*o->stop) {
            reap(sessions);
            // Series completion by the settle and quiet periods is checked
            // here, whether or not a worker is free.
            sp_spool_poll(spool);
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0)
                continue;
            int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            // DCMTK skips its socket options for a handed-over socket;
            // without this every response waits for a delayed ACK.
            int one = 1;
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            T_ASC_Association *assoc = nullptr;
            dcmExternalSocketHandle.set(c);
            cond = ASC_receiveAssociation(net, &assoc, ASC_MAXIMUMPDUSIZE,
                                          nullptr, nullptr,
                                          tls ? OFTrue : OFFalse,
                                          DUL_NOBLOCK, acse);
            dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
            if (cond.bad()) {
                // Malformed, silent, or plaintext when TLS is required: the
            // connection is dropped.
                if (assoc)
                    drop(assoc);
                else
                    close(c);
                continue;
            }
            if (sessions.size() >= (size_t)o->max_associations) {
                refuse_busy(assoc);
                continue;
            }
            std::unique_ptr<Session> s(new Session);
            Session *sp = s.get();
            s->thread = std::thread([sp, assoc, c, &config] {
                StoreSCP scp(c);
                scp.setSharedConfig(config);
                scp.run(assoc);
                sp->finished = true;
            });
            sessions.push_back(std::move(s));
        }
    } catch (...) {
        st = sp_error_set(err, SP_INTERNAL, "the DICOM listener failed");
    }
    // Open associations finish (or time out) before we return.
    for (auto &s : sessions)
        s->thread.join();
    sessions.clear();
    ASC_dropNetwork(&net);
    close(fd);
    std::vector<double> &ms = shared.ack_ms;
    if (!ms.empty()) {
        std::sort(ms.begin(), ms.end());
        spn_report_acks(ms.size(), ms[ms.size() / 2],
                        ms[(ms.size() * 99) / 100], ms.back());
    }
    g_shared = nullptr;
    return st;
}
