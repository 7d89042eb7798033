// Test helper for the series completion rules: C-STORE files on one
// association that stays open in between.
//
//   hold_send PORT CALLING_AET GO_FILE FILE... [-- FILE...]
//
// Sends the files before "--", prints "held", then keeps the association
// open until GO_FILE exists (at most 300 s), sends the files after "--"
// and releases. CT and MR images in explicit little endian only. Exit 0
// when every C-STORE succeeded.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/scu.h"

namespace {

bool store(DcmSCU &scu, const std::vector<std::string> &files)
{
    for (const std::string &f : files) {
        Uint16 status = 0xFFFF;
        // Context 0: DcmSCU picks the one of the file's SOP class.
        OFCondition c = scu.sendSTORERequest(0, f.c_str(), nullptr, status);
        if (c.bad() || status != 0) {
            std::fprintf(stderr, "hold_send: %s: %s (status 0x%04x)\n",
                         f.c_str(), c.text(), status);
            return false;
        }
    }
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 5) {
        std::fprintf(stderr, "usage: hold_send PORT CALLING_AET GO_FILE "
                             "FILE... [-- FILE...]\n");
        return 64;
    }
    std::vector<std::string> first, second;
    bool after = false;
    for (int i = 4; i < argc; i++) {
        if (std::strcmp(argv[i], "--") == 0)
            after = true;
        else
            (after ? second : first).push_back(argv[i]);
    }
    DcmSCU scu;
    scu.setAETitle(argv[2]);
    scu.setPeerAETitle("SPINEPIPE");
    scu.setPeerHostName("127.0.0.1");
    scu.setPeerPort((Uint16)std::atoi(argv[1]));
    OFList<OFString> ts;
    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    scu.addPresentationContext(UID_CTImageStorage, ts);
    scu.addPresentationContext(UID_MRImageStorage, ts);
    if (scu.initNetwork().bad() || scu.negotiateAssociation().bad()) {
        std::fprintf(stderr, "hold_send: association refused\n");
        return 1;
    }
    if (!store(scu, first)) {
        scu.abortAssociation();
        return 1;
    }
    std::printf("held\n");
    std::fflush(stdout);
    for (int i = 0; i < 6000 && access(argv[3], F_OK) != 0; i++)
        usleep(50000);
    if (!store(scu, second)) {
        scu.abortAssociation();
        return 1;
    }
    scu.releaseAssociation();
    return 0;
}
