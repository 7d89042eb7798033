/* Atomic output files: write to a hidden temporary beside the target, then
 * fsync and rename, so readers see either nothing or the whole file. */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

sp_status sp_atomic_open(sp_atomic_file *f, const char *path, sp_error *err)
{
    memset(f, 0, sizeof *f);
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path) + 1 : 0;
    const char *base = slash ? slash + 1 : path;
    if ((size_t)snprintf(f->path, sizeof f->path, "%s", path) >=
            sizeof f->path ||
        (size_t)snprintf(f->tmp_path, sizeof f->tmp_path, "%.*s.%s.XXXXXX",
                         dir_len, path, base) >= sizeof f->tmp_path)
        return sp_error_set(err, SP_CANTCREATE, "%s: path too long", path);
    int fd = mkstemp(f->tmp_path);
    if (fd < 0)
        return sp_error_set(err, SP_CANTCREATE, "%s: cannot create: %s",
                            f->tmp_path, strerror(errno));
    fchmod(fd, 0644);
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        int e = errno;
        close(fd);
        unlink(f->tmp_path);
        return sp_error_set(err, SP_CANTCREATE, "%s: %s", f->tmp_path,
                            strerror(e));
    }
    return SP_OK;
}

void sp_atomic_abort(sp_atomic_file *f)
{
    if (f->fp) {
        fclose(f->fp);
        f->fp = NULL;
        unlink(f->tmp_path);
    }
}

sp_status sp_atomic_commit(sp_atomic_file *f, sp_error *err)
{
    int failed = fflush(f->fp) != 0 || ferror(f->fp) ||
                 fsync(fileno(f->fp)) != 0;
    int e = errno;
    if (fclose(f->fp) != 0 && !failed) {
        failed = 1;
        e = errno;
    }
    f->fp = NULL;
    if (!failed && rename(f->tmp_path, f->path) != 0) {
        failed = 1;
        e = errno;
    }
    if (failed) {
        unlink(f->tmp_path);
        return sp_error_set(err, SP_IO, "%s: cannot write: %s", f->path,
                            strerror(e));
    }
    return SP_OK;
}

sp_status sp_json_write_file(const json_t *json, const char *path,
                             sp_error *err)
{
    sp_atomic_file f;
    sp_status st = sp_atomic_open(&f, path, err);
    if (st != SP_OK)
        return st;
    if (json_dumpf(json, f.fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
        fputc('\n', f.fp) == EOF) {
        sp_atomic_abort(&f);
        return sp_error_set(err, SP_IO, "%s: cannot write JSON", path);
    }
    return sp_atomic_commit(&f, err);
}

sp_status sp_mkdirs(const char *path, sp_error *err)
{
    char buf[4096];
    if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf)
        return sp_error_set(err, SP_CANTCREATE, "%s: path too long", path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return sp_error_set(err, SP_CANTCREATE,
                                    "%s: cannot create folder: %s", buf,
                                    strerror(errno));
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return sp_error_set(err, SP_CANTCREATE, "%s: not a folder", path);
    return SP_OK;
}
