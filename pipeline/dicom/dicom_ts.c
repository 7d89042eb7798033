/* Human names of transfer syntaxes, for `spinepipe info` and messages. */
#include <string.h>

#include "spinepipe/dicom.h"

static const struct {
    const char *uid;
    const char *name;
} syntaxes[] = {
    {"1.2.840.10008.1.2", "implicit VR little endian"},
    {"1.2.840.10008.1.2.1", "explicit VR little endian"},
    {"1.2.840.10008.1.2.1.99", "deflated explicit VR little endian"},
    {"1.2.840.10008.1.2.2", "explicit VR big endian"},
    {"1.2.840.10008.1.2.5", "RLE lossless"},
    {"1.2.840.10008.1.2.4.50", "JPEG baseline (lossy)"},
    {"1.2.840.10008.1.2.4.51", "JPEG extended (lossy)"},
    {"1.2.840.10008.1.2.4.57", "JPEG lossless"},
    {"1.2.840.10008.1.2.4.70", "JPEG lossless, first-order prediction"},
    {"1.2.840.10008.1.2.4.80", "JPEG-LS lossless"},
    {"1.2.840.10008.1.2.4.81", "JPEG-LS near-lossless"},
    {"1.2.840.10008.1.2.4.90", "JPEG 2000 lossless"},
    {"1.2.840.10008.1.2.4.91", "JPEG 2000"},
    {"1.2.840.10008.1.2.4.201", "HTJ2K lossless"},
    {"1.2.840.10008.1.2.4.202", "HTJ2K lossless RPCL"},
    {"1.2.840.10008.1.2.4.203", "HTJ2K"},
    {"1.2.840.10008.1.2.4.100", "MPEG-2 video"},
    {"1.2.840.10008.1.2.4.102", "MPEG-4 video"},
    {"1.2.840.10008.1.2.4.110", "JPEG XL lossless"},
    {"1.2.840.10008.1.2.4.112", "JPEG XL"},
};

const char *sp_dicom_transfer_syntax_name(const char *uid)
{
    if (!uid || !*uid)
        return "unknown transfer syntax";
    for (size_t i = 0; i < sizeof syntaxes / sizeof syntaxes[0]; i++)
        if (strcmp(syntaxes[i].uid, uid) == 0)
            return syntaxes[i].name;
    return "unknown transfer syntax";
}
