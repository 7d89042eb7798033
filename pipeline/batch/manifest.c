/* Manifest parsing, study keys and shards. */
#include "manifest.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"
#include "output/output.h"

#define MAX_MANIFEST_BYTES (256u << 20)

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    return h;
}

void sp_study_key(const char *abs_path, char *key, size_t key_size)
{
    size_t len = strlen(abs_path);
    while (len > 1 && abs_path[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && abs_path[start - 1] != '/')
        start--;
    char base[NAME_MAX + 1];
    size_t blen = len - start < NAME_MAX ? len - start : NAME_MAX;
    memcpy(base, abs_path + start, blen);
    base[blen] = '\0';
    char safe[40];
    sp_safe_name(base, "study", safe, sizeof safe);
    snprintf(key, key_size, "%s-%016llx", safe,
             (unsigned long long)fnv1a64(abs_path));
}

static int valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        size_t n = sp_utf8_sequence(p, (size_t)(end - p));
        if (n == 0)
            return 0;
        p += n;
    }
    return 1;
}

static sp_status read_all(const char *path, char **data, size_t *size,
                          sp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sp_error_set(err, SP_NOINPUT, "%s: cannot open manifest: %s",
                            path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    sp_status st = buf ? SP_OK : sp_error_set(err, SP_NOMEM, "out of memory");
    while (st == SP_OK) {
        if (n == cap) {
            char *grown = cap < MAX_MANIFEST_BYTES ? realloc(buf, cap * 2)
                                                   : NULL;
            if (!grown) {
                st = sp_error_set(err, SP_LIMIT, "%s: manifest larger than "
                                  "%u MiB", path, MAX_MANIFEST_BYTES >> 20);
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                st = sp_error_set(err, SP_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st != SP_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = n;
    return SP_OK;
}

static int by_path(const void *a, const void *b)
{
    const sp_study *x = *(const sp_study *const *)a;
    const sp_study *y = *(const sp_study *const *)b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Drop repeated paths, keeping the first occurrence and the order. */
static sp_status drop_duplicates(sp_manifest *m, sp_error *err)
{
    if (m->n < 2)
        return SP_OK;
    sp_study **idx = malloc(m->n * sizeof *idx);
    if (!idx)
        return sp_error_set(err, SP_NOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++)
        idx[i] = &m->studies[i];
    qsort(idx, m->n, sizeof *idx, by_path);
    for (size_t i = 1; i < m->n; i++)
        if (strcmp(idx[i]->path, idx[i - 1]->path) == 0) {
            sp_log(SP_LOG_WARN, NULL, "%s:%zu: %s repeats line %zu; listed "
                   "once", m->path, idx[i]->line, idx[i]->path,
                   idx[i - 1]->line);
            idx[i]->line = 0; /* marks a repeat */
        }
    free(idx);
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (m->studies[i].line == 0) {
            free(m->studies[i].path);
            m->n_duplicates++;
            continue;
        }
        m->studies[k++] = m->studies[i];
    }
    m->n = k;
    return SP_OK;
}

static sp_status add_line(sp_manifest *m, size_t *cap, const char *dir,
                          const char *text, size_t len, size_t line,
                          sp_error *err)
{
    if (memchr(text, '\0', len))
        return sp_error_set(err, SP_FORMAT, "%s:%zu: NUL byte in the line",
                            m->path, line);
    if (!valid_utf8(text, len))
        return sp_error_set(err, SP_FORMAT, "%s:%zu: not valid UTF-8",
                            m->path, line);
    size_t need = len + (text[0] == '/' ? 0 : strlen(dir) + 1);
    if (need >= PATH_MAX)
        return sp_error_set(err, SP_FORMAT, "%s:%zu: path longer than %d "
                            "bytes", m->path, line, PATH_MAX - 1);
    if (m->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        sp_study *grown = realloc(m->studies, nc * sizeof *grown);
        if (!grown)
            return sp_error_set(err, SP_NOMEM, "out of memory");
        m->studies = grown;
        *cap = nc;
    }
    char *path = malloc(need + 1);
    if (!path)
        return sp_error_set(err, SP_NOMEM, "out of memory");
    if (text[0] == '/')
        snprintf(path, need + 1, "%.*s", (int)len, text);
    else
        snprintf(path, need + 1, "%s/%.*s", dir, (int)len, text);
    sp_study *s = &m->studies[m->n++];
    s->path = path;
    s->line = line;
    sp_study_key(path, s->key, sizeof s->key);
    return SP_OK;
}

static sp_status parse(sp_manifest *m, const char *dir, const char *data,
                       size_t size, sp_error *err)
{
    size_t cap = 0, line = 0;
    const char *p = data, *end = data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        line++;
        const char *a = p, *b = eol;
        if (b > a && b[-1] == '\r')
            b--;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a && *a != '#') {
            sp_status st = add_line(m, &cap, dir, a, (size_t)(b - a), line,
                                    err);
            if (st != SP_OK)
                return st;
        }
        p = nl ? nl + 1 : end;
    }
    return SP_OK;
}

sp_status sp_manifest_load(const char *path, sp_manifest **out,
                           sp_error *err)
{
    *out = NULL;
    char abs[PATH_MAX];
    if (!realpath(path, abs))
        return sp_error_set(err, SP_NOINPUT, "%s: cannot open manifest: %s",
                            path, strerror(errno));
    if (!valid_utf8(abs, strlen(abs)))
        return sp_error_set(err, SP_FORMAT, "%s: the manifest's path is "
                            "not valid UTF-8", abs);
    char *data = NULL;
    size_t size = 0;
    sp_status st = read_all(abs, &data, &size, err);
    if (st != SP_OK)
        return st;
    sp_manifest *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(abs))) {
        free(m);
        free(data);
        return sp_error_set(err, SP_NOMEM, "out of memory");
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", abs);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    st = parse(m, strcmp(dir, "/") ? dir : "", data, size, err);
    free(data);
    if (st == SP_OK)
        st = drop_duplicates(m, err);
    if (st == SP_OK && m->n == 0)
        st = sp_error_set(err, SP_NOINPUT, "%s: no study folders listed",
                          abs);
    if (st != SP_OK) {
        sp_manifest_free(m);
        return st;
    }
    *out = m;
    return SP_OK;
}

void sp_manifest_free(sp_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->studies[i].path);
    free(m->studies);
    free(m->path);
    free(m);
}

static int parse_uint(const char *s, const char *end, unsigned *out)
{
    if (s == end || end - s > 6)
        return 0;
    unsigned v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (unsigned)(*s - '0');
    }
    *out = v;
    return 1;
}

sp_status sp_shard_parse(const char *text, sp_shard *out, sp_error *err)
{
    const char *slash = strchr(text, '/');
    unsigned k, n;
    if (!slash || !parse_uint(text, slash, &k) ||
        !parse_uint(slash + 1, slash + strlen(slash), &n) || n < 1 ||
        n > 100000 || k >= n)
        return sp_error_set(err, SP_USAGE, "--shard '%s': expected K/N with "
                            "0 <= K < N <= 100000", text);
    out->k = k;
    out->n = n;
    return SP_OK;
}

int sp_shard_has(const sp_shard *s, size_t index)
{
    return s->n == 0 || index % s->n == s->k;
}
