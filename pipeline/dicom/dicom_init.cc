// DCMTK's global state, kept in one init/cleanup pair: codec registration,
// the data dictionary check, and logging switched off so DCMTK never
// prints. The SR context groups are set up by the on-demand module
// (dicom_cmr.cc), which hands its cleanup to sp_dicom_cleanup.
#include <atomic>
#include <mutex>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/oflog/oflog.h"

#include "dicom_internal.h"

static std::atomic<int> init_count{0};
static std::mutex hook_lock;
static void (*cleanup_hook)(void) = nullptr;

extern "C" void spd_on_cleanup(void (*fn)(void))
{
    std::lock_guard<std::mutex> lock(hook_lock);
    cleanup_hook = fn;
}

extern "C" int spd_initialised(void)
{
    return init_count.load() > 0;
}

extern "C" sp_status sp_dicom_init(sp_error *err)
{
    try {
        if (init_count.load() > 0) {
            init_count++;
            return SP_OK;
        }
        // Root and "dcmtk" loggers off: library code must not print.
        OFLog::configure(OFLogger::OFF_LOG_LEVEL);
        OFLog::getLogger("dcmtk").setLogLevel(OFLogger::OFF_LOG_LEVEL);
        if (!dcmDataDict.isDictionaryLoaded())
            return sp_error_set(err, SP_CONFIG,
                                "the DCMTK data dictionary is not loaded "
                                "(check DCMDICTPATH or the dcmtk "
                                "installation)");
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
        init_count++;
        return SP_OK;
    } catch (...) {
        return sp_error_set(err, SP_INTERNAL,
                            "DCMTK initialisation failed");
    }
}

extern "C" void sp_dicom_cleanup(void)
{
    try {
        if (init_count.load() == 0 || --init_count > 0)
            return;
        {
            std::lock_guard<std::mutex> lock(hook_lock);
            if (cleanup_hook)
                cleanup_hook();
        }
        DcmRLEDecoderRegistration::cleanup();
        DJLSDecoderRegistration::cleanup();
        DJDecoderRegistration::cleanup();
    } catch (...) {
    }
}
