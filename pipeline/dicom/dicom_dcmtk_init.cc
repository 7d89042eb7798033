// DCMTK's global state in the DCMTK module: logging off (library code must
// not print), its decoders registered, and its data dictionary parsed, all
// on the first file DCMTK reads or writes; sp_dicom_cleanup undoes the
// registration (spd_dcmtk_cleanup) and the next use redoes it.
#include <mutex>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/oflog/oflog.h"

#include "dicom_module.h"

namespace {

std::mutex codec_lock;
bool codecs = false;

void setup()
{
    std::lock_guard<std::mutex> lock(codec_lock);
    if (codecs)
        return;
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
    OFLog::getLogger("dcmtk").setLogLevel(OFLogger::OFF_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
    codecs = true;
}

// The module is loaded after main() started, so DCMTK's static objects
// (the codec list's lock among them) are destroyed before an atexit
// handler registered earlier runs sp_dicom_cleanup. This object is
// destroyed before them (the module's initialisers run after DCMTK's) and
// deregisters the codecs while DCMTK is still whole; the later cleanup
// then finds nothing to do.
struct CleanupAtExit {
    ~CleanupAtExit() { spd_dcmtk_cleanup(); }
} cleanup_at_exit;

} // namespace

extern "C" sp_status spd_dcmtk_dictionary_ready(sp_error *err)
{
    static std::once_flag once;
    static bool loaded = false;
    try {
        setup();
        std::call_once(once, [] { loaded = dcmDataDict.isDictionaryLoaded(); });
    } catch (...) {
        loaded = false;
    }
    if (loaded)
        return SP_OK;
    return sp_error_set(err, SP_CONFIG, "%s",
                        "the DCMTK data dictionary is not loaded (check "
                        "DCMDICTPATH or the dcmtk installation)");
}

extern "C" void spd_dcmtk_cleanup(void)
{
    try {
        std::lock_guard<std::mutex> lock(codec_lock);
        if (!codecs)
            return;
        DcmRLEDecoderRegistration::cleanup();
        DJLSDecoderRegistration::cleanup();
        DJDecoderRegistration::cleanup();
        codecs = false;
    } catch (...) {
    }
}
