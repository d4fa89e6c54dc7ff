#pragma once
/* Walking the shared mail corpus: every message file below a folder. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TU_CORPUS_MAX (4 << 20)

/* A whole file, NUL-terminated, cut at 4 MB; NULL when it cannot be read. */
static inline char *
tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(TU_CORPUS_MAX);
    *len = buf ? fread(buf, 1, TU_CORPUS_MAX - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[*len] = '\0';
    return buf;
}

/* each(arg, path, raw, len) for every .eml, .msg and .txt file below dir, depth first. */
static inline void
tu_corpus_walk(const char *dir, void (*each)(void *, const char *, const char *, size_t), void *arg)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[2048];
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue; /* no corpus path is that long */
        if (e->d_type == DT_DIR) {
            tu_corpus_walk(path, each, arg);
            continue;
        }
        const char *dot = strrchr(e->d_name, '.');
        if (dot == NULL ||
            (strcmp(dot, ".eml") != 0 && strcmp(dot, ".msg") != 0 && strcmp(dot, ".txt") != 0))
            continue;
        size_t len;
        char *raw = tu_slurp(path, &len);
        if (raw == NULL)
            continue;
        each(arg, path, raw, len);
        free(raw);
    }
    closedir(d);
}
