/*
 * Scratch files for the config and template targets.  Both modules read
 * from a path, so the input has to go through the file system; one
 * directory per process keeps parallel fuzzers (and replays) apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* Set once per process; the only state of the harness. */
static char scratch_dir[64];
static const char *scratch_files[] = {"input.ini", "t.txt", "pw"};

static void
fuzz_scratch_cleanup(void)
{
    char path[128];

    for (size_t i = 0; i < sizeof(scratch_files) / sizeof(scratch_files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", scratch_dir, scratch_files[i]);
        unlink(path);
    }
    rmdir(scratch_dir);
}

const char *
fuzz_scratch_dir(void)
{
    if (scratch_dir[0] != '\0')
        return scratch_dir;
    snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/mentord-fuzz-XXXXXX");
    if (mkdtemp(scratch_dir) == NULL) {
        perror("fuzz: mkdtemp");
        scratch_dir[0] = '\0';
        return NULL;
    }
    atexit(fuzz_scratch_cleanup);
    return scratch_dir;
}

int
fuzz_write_file(const char *dir, const char *name, const uint8_t *data, size_t size)
{
    char path[256];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    ok = fwrite(data, 1, size, f) == size;
    if (fclose(f) != 0 || !ok) {
        perror(path);
        return -1;
    }
    return 0;
}
