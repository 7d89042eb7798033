// DCMTK's SR context groups (see spd_cmr_init in dicom_internal.h).
#include <mutex>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmsr/cmr/init.h"

#include "dicom_internal.h"

static std::mutex cmr_lock;
static bool cmr_ready = false;

static void cmr_cleanup(void)
{
    std::lock_guard<std::mutex> lock(cmr_lock);
    if (cmr_ready)
        CMR_ContentMappingResource::cleanupAllContextGroups();
    cmr_ready = false;
}

// DCMTK builds the groups lazily on first use, which races when several
// threads write reports; the SR writer calls this first. Not in
// sp_dicom_init: it costs about 0.1 s that only SR writing needs.
extern "C" void spd_cmr_init(void)
{
    {
        std::lock_guard<std::mutex> lock(cmr_lock);
        if (cmr_ready)
            return;
        CMR_ContentMappingResource::initializeAllContextGroups();
        cmr_ready = true;
    }
    spd_on_cleanup(cmr_cleanup);
}
