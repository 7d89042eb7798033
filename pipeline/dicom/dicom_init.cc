// The reader's init/cleanup pair: the data dictionary check, and the
// cleanup of what the modules set up. DCMTK itself lives in the DCMTK
// module (dicom_module.h), which registers its codecs, switches its logging
// off and parses the dictionary (8,000 lines, about 20 ms CPU) only when
// DCMTK first reads or writes a file (spd_dictionary_ready): a scan whose
// headers all come from the pre-scan's walk never loads it. The SR context
// groups are set up by the on-demand module (dicom_cmr.cc), which hands its
// cleanup to sp_dicom_cleanup.
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

#include <unistd.h>

// Header only: DCM_DICT_DEFAULT_PATH and ENVIRONMENT_PATH_SEPARATOR.
#include "dcmtk/config/osconfig.h"

#include "dicom_module.h"

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

static const char kNoDictionary[] =
    "the DCMTK data dictionary is not loaded (check DCMDICTPATH or the "
    "dcmtk installation)";

// The files DCMTK will load its dictionary from (DCMDICTPATH, else its
// built-in default), all readable: the check init can make without
// parsing them.
static bool dictionary_files_readable()
{
    const char *env = std::getenv("DCMDICTPATH");
    std::string list = env && *env ? env : DCM_DICT_DEFAULT_PATH;
    size_t at = 0;
    bool any = false;
    while (at <= list.size()) {
        size_t end = list.find(ENVIRONMENT_PATH_SEPARATOR, at);
        if (end == std::string::npos)
            end = list.size();
        std::string file = list.substr(at, end - at);
        if (!file.empty()) {
            if (access(file.c_str(), R_OK) != 0)
                return false;
            any = true;
        }
        at = end + 1;
    }
    return any;
}

extern "C" sp_status sp_dicom_init(sp_error *err)
{
    try {
        if (init_count.load() > 0) {
            init_count++;
            return SP_OK;
        }
        if (!dictionary_files_readable())
            return sp_error_set(err, SP_CONFIG, "%s", kNoDictionary);
        init_count++;
        return SP_OK;
    } catch (...) {
        return sp_error_set(err, SP_INTERNAL,
                            "DICOM reader initialisation failed");
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
        if (const spd_dcmtk_api *t = spd_dcmtk_loaded())
            t->cleanup();
    } catch (...) {
    }
}
