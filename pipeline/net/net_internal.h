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

/* Log an association aborted because its data set exceeded the limit
 * (listen.c). */
void spn_report_oversize(const char *calling_aet, size_t limit);

/* Log the C-STORE acknowledgement times at the end (listen.c). */
void spn_report_acks(size_t n, double median_ms, double p99_ms,
                     double max_ms);

/* Paths of regular files (symbolic links not followed) below a folder
 * whose names end with a suffix, sorted (files.c). */
typedef struct spn_file_list {
    char **paths;
    size_t n, cap;
} spn_file_list;
int spn_collect_files(const char *dir, const char *suffix, spn_file_list *l);
void spn_file_list_free(spn_file_list *l);

#ifdef __cplusplus
}
#endif

#endif
