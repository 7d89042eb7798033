/* See ondemand.h. */
#include "ondemand.h"

#include "module.h"

static sp_module module = SP_MODULE(
    "SPINEPIPE_ONDEMAND_MODULE", SP_ONDEMAND_FILE, SP_ONDEMAND_SYMBOL,
    SP_ONDEMAND_ABI, sp_ondemand_api, "on-demand module",
    "DICOM network, DICOM result objects, drawing", SP_INTERNAL);

const sp_ondemand_api *sp_ondemand(sp_error *err)
{
    return sp_module_get(&module, err);
}

const sp_ondemand_api *sp_ondemand_loaded(void)
{
    return sp_module_loaded(&module);
}
