/*
 * The libFuzzer entry point every fuzz target defines.  Declared here so the
 * targets build with the project's -Wmissing-prototypes under gcc too: the
 * same file is linked either with libFuzzer (clang) or with replay.c, the
 * plain driver that `make check` uses to replay the regression corpus.
 */
#ifndef MENTORD_FUZZ_H
#define MENTORD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Scratch directory for targets that must go through a file (config,
 * template): made once per process under /tmp and removed at exit.
 * Returns NULL when it cannot be made.
 */
const char *fuzz_scratch_dir(void);

/* Write data to dir/name; 0 on success. */
int fuzz_write_file(const char *dir, const char *name, const uint8_t *data, size_t size);

#endif
