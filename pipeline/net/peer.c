/* "AET@HOST:PORT" and AE title checks. */
#include <stdlib.h>
#include <string.h>

#include "net.h"

int sp_net_valid_aet(const char *aet)
{
    size_t n = strlen(aet);
    if (n == 0 || n > 16)
        return 0;
    int blank = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)aet[i];
        if (c < 0x20 || c > 0x7e || c == '\\')
            return 0;
        if (c != ' ')
            blank = 0;
    }
    return !blank;
}

sp_status sp_net_parse_peer(const char *spec, sp_net_peer *out,
                            sp_error *err)
{
    memset(out, 0, sizeof *out);
    const char *at = strchr(spec, '@');
    const char *colon = strrchr(spec, ':');
    if (!at || !colon || colon < at)
        return sp_error_set(err, SP_USAGE, "'%s': expected AET@HOST:PORT",
                            spec);
    size_t aet_len = (size_t)(at - spec);
    size_t host_len = (size_t)(colon - at - 1);
    if (aet_len >= sizeof out->aet || host_len == 0 ||
        host_len >= sizeof out->host)
        return sp_error_set(err, SP_USAGE, "'%s': AE title (1-16 "
                            "characters) or host name invalid",
                            spec);
    memcpy(out->aet, spec, aet_len);
    memcpy(out->host, at + 1, host_len);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!sp_net_valid_aet(out->aet))
        return sp_error_set(err, SP_USAGE, "'%s': invalid AE title", spec);
    if (end == colon + 1 || *end || port < 1 || port > 65535)
        return sp_error_set(err, SP_USAGE, "'%s': port must be 1 to 65535",
                            spec);
    out->port = (int)port;
    return SP_OK;
}
