#pragma once
/* Hits per label (intent, language) for the reading tests' printed figures. */
#include <stdio.h>
#include <string.h>

struct tally {
    char key[32];
    int n, ok;
};

/* Count one case under key in t (nt in use; the caller sizes t for every key). */
static inline void
tally_count(struct tally *t, size_t *nt, const char *key, int ok)
{
    size_t i;
    for (i = 0; i < *nt; i++)
        if (strcmp(t[i].key, key) == 0)
            break;
    if (i == *nt) {
        snprintf(t[i].key, sizeof t[i].key, "%s", key);
        t[i].n = t[i].ok = 0;
        (*nt)++;
    }
    t[i].n++;
    t[i].ok += ok;
}

/* " key ok/n," for each, then a line break; the caller prints the title. */
static inline void
tally_print(const struct tally *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf(" %s %d/%d%s", t[i].key, t[i].ok, t[i].n, i + 1 < n ? "," : "\n");
}
