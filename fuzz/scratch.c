/* The scratch folder of fuzz.h: in /dev/shm when it exists (memory, so a
 * fuzz iteration costs no disk I/O), removed with everything in it at
 * exit. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char scratch[64];

static int remove_entry(const char *path, const struct stat *st, int type,
                        struct FTW *ftw)
{
    remove(path);
    return 0;
}

/* Depth first, links not followed: everything a target left behind. */
static void remove_scratch(void)
{
    nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_scratch_dir(void)
{
    if (scratch[0])
        return scratch;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(scratch, sizeof scratch, "%s/spinepipe-fuzz-XXXXXX", base);
    if (!mkdtemp(scratch)) {
        perror("fuzz: cannot create a scratch folder");
        abort();
    }
    atexit(remove_scratch);
    return scratch;
}

char *fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
    const char *dir = fuzz_scratch_dir();
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    if (!path)
        return NULL;
    snprintf(path, len, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t done = 0;
    while (fd >= 0 && done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (fd >= 0)
        close(fd);
    if (fd < 0 || done != size) {
        free(path);
        return NULL;
    }
    return path;
}
