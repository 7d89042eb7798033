/* Decoding a slice without a second DCMTK parse: the scan recorded where
 * the uncompressed samples lie (dicom_header.cc, locate_pixels); they are
 * read with pread and converted. The file is hostile input that may have
 * changed since the scan: anything unexpected hands the slice back to the
 * DCMTK decode, which checks and reports it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dicom_internal.h"

/* Read exactly n bytes at `at`; 0 on a short file or an error. */
static int read_at(int fd, uint8_t *buf, size_t n, uint64_t at)
{
    while (n > 0) {
        ssize_t got = pread(fd, buf, n, (off_t)at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return 0;
        buf += got;
        n -= (size_t)got;
        at += (uint64_t)got;
    }
    return 1;
}

int spd_direct_frame(const sp_dicom_series *series, const sp_dicom_slice *sl,
                     uint8_t *buf, float *out)
{
    unsigned bits = series->bits_allocated;
    size_t bytes = bits / 8;
    if (!sl->pixel_bytes || (bits != 8 && bits != 16 && bits != 32) ||
        sl->pixel_bytes != (uint64_t)series->rows * series->columns * bytes ||
        sl->bits_stored == 0 || sl->bits_stored > bits ||
        sl->high_bit >= bits || sl->high_bit + 1 < sl->bits_stored)
        return 0;
    /* Non-blocking: a FIFO swapped in for the file must not hang us. */
    int fd = open(sl->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return 0;
    }
    int64_t mtime_ns =
        (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != sl->file_size ||
        mtime_ns != sl->file_mtime_ns || sl->pixel_offset > sl->file_size ||
        sl->pixel_bytes > sl->file_size - sl->pixel_offset) {
        close(fd);
        return 0;
    }
    unsigned shift = sl->high_bit + 1u - sl->bits_stored;
    size_t n = sl->pixel_bytes / bytes, per = SPD_DIRECT_BUF / bytes;
    int ok = 1;
    /* Through a small buffer that stays in cache, chunk by chunk. */
    for (size_t i = 0; i < n && ok; i += per) {
        size_t m = n - i < per ? n - i : per;
        ok = read_at(fd, buf, m * bytes, sl->pixel_offset + i * bytes);
        if (ok)
            spd_convert_samples(buf, m, bits, sl->bits_stored, shift,
                                sl->pixel_signed, sl->rescale_slope,
                                sl->rescale_intercept, out + i);
    }
    close(fd);
    return ok;
}
