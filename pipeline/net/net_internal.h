/* Shared between the C and C++ files of pipeline/net. */
#ifndef SPINEPIPE_NET_INTERNAL_H
#define SPINEPIPE_NET_INTERNAL_H

#include <stddef.h>

#include "net.h"
#include "spool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Storage SOP classes the SCP accepts: CT and MR images. */
extern const char *const spn_image_sop_classes[];
extern const size_t spn_n_image_sop_classes;
/* Transfer syntaxes accepted for them: those the reader decodes. */
extern const char *const spn_transfer_syntaxes[];
extern const size_t spn_n_transfer_syntaxes;

/* Run the SCP until *o->stop (scp.cc). */
sp_status spn_serve(const sp_listen_options *o, sp_spool *spool,
                    sp_error *err);

#ifdef __cplusplus
}
#endif

#endif
