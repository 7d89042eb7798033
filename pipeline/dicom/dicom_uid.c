/* UIDs under 2.25 (UUID-derived, ISO/IEC 9834-8 / DICOM PS3.5 B.2): no
 * registered root needed, and 122 random bits make collisions negligible. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "dicom_out.h"

void sp_dicom_new_uid(char out[65])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < sizeof b) {
        /* No entropy source: time and address still make it unique
         * enough for one machine. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long x = (unsigned long long)ts.tv_sec * 1000000007ull ^
                               (unsigned long long)ts.tv_nsec ^
                               (unsigned long long)(size_t)&ts;
        for (size_t i = got; i < sizeof b; i++, x = x * 6364136223846793005ull + 1)
            b[i] = (unsigned char)(x >> 56);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    unsigned __int128 v = 0;
    for (size_t i = 0; i < sizeof b; i++)
        v = (v << 8) | b[i];
    char digits[40];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    memcpy(out, "2.25.", 5);
    for (size_t i = 0; i < n; i++)
        out[5 + i] = digits[n - 1 - i];
    out[5 + n] = '\0';
}
