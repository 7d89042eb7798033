/* A batch manifest: one study folder per line. Blank lines and lines
 * starting with '#' are ignored, surrounding spaces and a trailing CR are
 * dropped, relative paths are taken from the manifest's own folder, and a
 * folder listed twice counts once. Each study gets a key, the safe file
 * name under which its outputs, log, lock and outcome live. */
#ifndef SPINEPIPE_BATCH_MANIFEST_H
#define SPINEPIPE_BATCH_MANIFEST_H

#include <stddef.h>

#include "spinepipe/error.h"

#define SP_STUDY_KEY_MAX 64

typedef struct sp_study {
    char *path;   /* absolute (lexically joined, not resolved) */
    size_t line;  /* 1-based line in the manifest */
    char key[SP_STUDY_KEY_MAX];
} sp_study;

typedef struct sp_manifest {
    char *path;        /* absolute path of the manifest itself */
    sp_study *studies; /* in manifest order */
    size_t n;
    size_t n_duplicates; /* lines dropped as repeats */
} sp_manifest;

/* Read a manifest. A line with a NUL byte, invalid UTF-8 or a path longer
 * than PATH_MAX fails the whole manifest with SP_FORMAT naming the line, so
 * a bad manifest is caught before anything runs or is submitted. An empty
 * manifest fails with SP_NOINPUT. */
sp_status sp_manifest_load(const char *path, sp_manifest **out,
                           sp_error *err);
void sp_manifest_free(sp_manifest *m);

/* "<safe base name>-<16 hex digits of a 64-bit FNV-1a of the path>". */
void sp_study_key(const char *abs_path, char *key, size_t key_size);

/* A shard "K/N": 0 <= K < N <= 100000. */
typedef struct sp_shard {
    unsigned k, n;
} sp_shard;

sp_status sp_shard_parse(const char *text, sp_shard *out, sp_error *err);
/* Study i (0-based manifest order) belongs to shard i mod N. */
int sp_shard_has(const sp_shard *s, size_t index);

#endif
