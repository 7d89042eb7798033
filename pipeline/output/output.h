/* Writing outputs: atomic files (temporary name + rename, so an interrupted
 * run never leaves a half-written file under its final name), PNG with
 * text chunks, JSON, and safe folder names from hostile DICOM strings. */
#ifndef SPINEPIPE_OUTPUT_H
#define SPINEPIPE_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "spinepipe/stage.h"

/* An output file being written. */
typedef struct sp_atomic_file {
    FILE *fp;
    char tmp_path[4096];
    char path[4096];
} sp_atomic_file;

/* Create "<dir>/.<name>.XXXXXX" beside `path`. */
sp_status sp_atomic_open(sp_atomic_file *f, const char *path, sp_error *err);
/* Flush, fsync and rename onto the final path. Closes in every case. */
sp_status sp_atomic_commit(sp_atomic_file *f, sp_error *err);
/* Close and delete the temporary file. */
void sp_atomic_abort(sp_atomic_file *f);

/* Write JSON (indented, keys in insertion order) atomically. */
sp_status sp_json_write_file(const json_t *json, const char *path,
                             sp_error *err);

/* Write an 8-bit gray image (width x height, rows top to bottom)
 * atomically, with tEXt chunks (iTXt for non-ASCII values). */
sp_status sp_png_write_gray8(const char *path, const uint8_t *pixels,
                             uint32_t width, uint32_t height,
                             const sp_png_text *text, size_t n_text,
                             sp_error *err);

/* The same for 8-bit RGB (3 bytes a pixel, rows top to bottom). */
sp_status sp_png_write_rgb8(const char *path, const uint8_t *pixels,
                            uint32_t width, uint32_t height,
                            const sp_png_text *text, size_t n_text,
                            sp_error *err);

/* Copy `in` to out (out_size bytes, >= 2) keeping only [A-Za-z0-9._-]
 * (others become '_', runs collapse), at most out_size - 1 characters,
 * never starting with '.' (so "." and ".." cannot appear), and
 * `fallback` when nothing is left. */
void sp_safe_name(const char *in, const char *fallback, char *out,
                  size_t out_size);
/* Nonzero when `name` is already a safe plain file name. */
int sp_is_safe_name(const char *name);

/* Length (1-4) of the valid UTF-8 sequence at s, of which `avail` bytes
 * may be read, or 0 (overlong forms, surrogates and code points past
 * U+10FFFF are invalid). For a NUL-terminated string pass SIZE_MAX: the
 * NUL ends any sequence. */
size_t sp_utf8_sequence(const unsigned char *s, size_t avail);

/* "<dir>/<name>" into out (size bytes): 0, or -1 with out = "" when it
 * would not fit. Callers report or skip a path that does not fit; they
 * never use a truncated one. */
int sp_path_join(char *out, size_t size, const char *dir, const char *name);
/* The same in a malloc'ed string (NULL when out of memory). */
char *sp_path_joined(const char *dir, const char *name);

/* mkdir -p for a path whose components we built (mode 0755). */
sp_status sp_mkdirs(const char *path, sp_error *err);

#endif
