#pragma once
/* Small helpers shared by the unit tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh directory under /tmp (static buffer per call site is the caller's). */
static inline int
tu_mkdtemp(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "/tmp/mentord-%s-XXXXXX", tag);
    return mkdtemp(buf) != NULL ? 0 : -1;
}

/* Write text to dir/name; 0 on success. */
static inline int
tu_write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Remove a test directory and everything in it. */
static inline void
tu_rmrf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}
