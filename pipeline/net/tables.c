/* What the listener accepts. */
#include "net_internal.h"

const char *const spn_image_sop_classes[] = {
    "1.2.840.10008.5.1.4.1.1.2",     /* CT Image Storage */
    "1.2.840.10008.5.1.4.1.1.2.1",   /* Enhanced CT Image Storage */
    "1.2.840.10008.5.1.4.1.1.2.2",   /* Legacy Converted Enhanced CT */
    "1.2.840.10008.5.1.4.1.1.4",     /* MR Image Storage */
    "1.2.840.10008.5.1.4.1.1.4.1",   /* Enhanced MR Image Storage */
    "1.2.840.10008.5.1.4.1.1.4.4",   /* Legacy Converted Enhanced MR */
};
const size_t spn_n_image_sop_classes =
    sizeof spn_image_sop_classes / sizeof spn_image_sop_classes[0];

/* Preference order when a sender offers several: as sent, compressed
 * first, so nothing is transcoded on the way in. */
const char *const spn_transfer_syntaxes[] = {
    "1.2.840.10008.1.2.4.90",  "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203", "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81",  "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.57",  "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",  "1.2.840.10008.1.2.5",
    "1.2.840.10008.1.2.1.99",  "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",     "1.2.840.10008.1.2",
};
const size_t spn_n_transfer_syntaxes =
    sizeof spn_transfer_syntaxes / sizeof spn_transfer_syntaxes[0];
