/* The libFuzzer entry points every target in fuzz/ defines. The same
 * source builds two ways: linked with -fsanitize=fuzzer (clang, the
 * `fuzzing` meson option) it is a libFuzzer binary; linked with
 * replay_main.c (any compiler) it is a plain program that runs each file
 * named on its command line (folders recursively) once, which is how the
 * corpus is replayed in every test run. */
#ifndef SPINEPIPE_FUZZ_H
#define SPINEPIPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private scratch folder for this process (created once, removed at
 * exit): targets whose code under test reads files write the input there. */
const char *fuzz_scratch_dir(void);
/* Write `size` bytes to fuzz_scratch_dir()/name; returns the malloc'd
 * path, or NULL (the input is then ignored). */
char *fuzz_write_file(const char *name, const uint8_t *data, size_t size);

#ifdef __cplusplus
}
#endif

#endif
