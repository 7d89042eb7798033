/* See ondemand.h. */
#include "ondemand.h"

#include <pthread.h>

#include "module.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const sp_ondemand_api *table;
static char path[4096];
static char why[512];

static void load(void)
{
    table = sp_module_load("SPINEPIPE_ONDEMAND_MODULE", SP_ONDEMAND_FILE,
                           SP_ONDEMAND_SYMBOL, SP_ONDEMAND_ABI,
                           sizeof(sp_ondemand_api), path, sizeof path, why,
                           sizeof why);
}

const sp_ondemand_api *sp_ondemand(sp_error *err)
{
    pthread_once(&once, load);
    if (!table)
        sp_error_set(err, SP_INTERNAL,
                     "%s: cannot load spinepipe's on-demand module (DICOM "
                     "network, DICOM result objects, drawing): %s",
                     path, why);
    return table;
}

const sp_ondemand_api *sp_ondemand_loaded(void)
{
    return table;
}
