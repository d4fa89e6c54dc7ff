/*
 * stemcache: a direct-mapped cache of stems (stemcache.h).  Reading a mail
 * stems each of its words once per language and per reader of words (the
 * intent tables three times, the skills once): about 700 calls of a Snowball
 * stemmer a mail on the bench's join, a third of the reader's CPU.  Most
 * words recur, within a mail and from mail to mail, so a slot per hash of
 * (stemmer, word) catches most of them; a slot taken by another word is
 * simply replaced.  Memory is bounded by the slots and the word length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stemcache.h"

#define STEMCACHE_SLOTS 8192 /* a power of two */
#define STEMCACHE_WORD 48    /* longer words are stemmed every time */

struct stemcache_slot {
    const struct sb_stemmer *st; /* NULL: empty */
    char word[STEMCACHE_WORD];
    char stem[STEMCACHE_WORD];
};

static struct stemcache_slot *stemcache_slots;

static size_t
stemcache_hash(const struct sb_stemmer *st, const char *w)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)st;
    for (const unsigned char *p = (const unsigned char *)w; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29)) & (STEMCACHE_SLOTS - 1);
}

/* What the stemmer says, malloc'd (the word itself when it has nothing to say). */
static char *
stemcache_run(struct sb_stemmer *st, const char *w, size_t len)
{
    const sb_symbol *s = sb_stemmer_stem(st, (const sb_symbol *)w, (int)len);
    if (s == NULL)
        return strdup(w);
    return strndup((const char *)s, (size_t)sb_stemmer_length(st));
}

char *
stemcache_stem(struct sb_stemmer *st, const char *w)
{
    size_t len = strlen(w);
    if (len >= STEMCACHE_WORD)
        return stemcache_run(st, w, len);
    if (stemcache_slots == NULL &&
        (stemcache_slots = calloc(STEMCACHE_SLOTS, sizeof(*stemcache_slots))) == NULL)
        return stemcache_run(st, w, len);
    struct stemcache_slot *s = &stemcache_slots[stemcache_hash(st, w)];
    if (s->st == st && strcmp(s->word, w) == 0)
        return strdup(s->stem);
    char *stem = stemcache_run(st, w, len);
    if (stem != NULL && strlen(stem) < STEMCACHE_WORD) {
        s->st = st;
        memcpy(s->word, w, len + 1);
        memcpy(s->stem, stem, strlen(stem) + 1);
    }
    return stem;
}
