/*
 * wordid: an open-addressing hash table of (where, word) to an id
 * (wordid.h).  The word readers (intent, skills) compared their tables'
 * words with a text's by string in their inner loops, a fifth of a mail's
 * reading; with ids the strings are compared once per word of the text.
 */
#include <stdlib.h>
#include <string.h>

#include "wordid.h"

struct wordid_slot {
    uint64_t key; /* wordid_key; 0: an empty slot */
    char *s;
    size_t len;
    unsigned where;
    uint32_t id;
};

struct wordid_table {
    struct wordid_slot *slot;
    size_t mask; /* slots - 1 */
    uint32_t n;  /* ids given */
};

uint64_t
wordid_key(unsigned where, const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)where;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ? h : 1;
}

struct wordid_table *
wordid_new(void)
{
    struct wordid_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->slot = calloc(1024, sizeof(*t->slot));
    if (t->slot == NULL) {
        free(t);
        return NULL;
    }
    t->mask = 1023;
    return t;
}

uint32_t
wordid_find(const struct wordid_table *t, unsigned where, const char *s, size_t len)
{
    if (t == NULL)
        return 0;
    uint64_t key = wordid_key(where, s, len);
    for (size_t i = (size_t)key & t->mask; t->slot[i].key != 0; i = (i + 1) & t->mask) {
        const struct wordid_slot *y = &t->slot[i];
        if (y->key == key && y->where == where && y->len == len && memcmp(y->s, s, len) == 0)
            return y->id;
    }
    return 0;
}

/* Twice the slots (kept at most half full, so that a miss ends soon). */
static int
wordid_grow(struct wordid_table *t)
{
    size_t slots = 2 * (t->mask + 1);
    struct wordid_slot *g = calloc(slots, sizeof(*g));
    if (g == NULL)
        return -1;
    for (size_t k = 0; k <= t->mask; k++) {
        if (t->slot[k].key == 0)
            continue;
        size_t i = (size_t)t->slot[k].key & (slots - 1);
        while (g[i].key != 0)
            i = (i + 1) & (slots - 1);
        g[i] = t->slot[k];
    }
    free(t->slot);
    t->slot = g;
    t->mask = slots - 1;
    return 0;
}

uint32_t
wordid_intern(struct wordid_table *t, unsigned where, const char *s, size_t len)
{
    uint32_t id = wordid_find(t, where, s, len);
    if (id != 0)
        return id;
    if (2 * ((size_t)t->n + 1) > t->mask + 1 && wordid_grow(t) != 0)
        return 0;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, s, len);
    copy[len] = '\0';
    uint64_t key = wordid_key(where, s, len);
    size_t i = (size_t)key & t->mask;
    while (t->slot[i].key != 0)
        i = (i + 1) & t->mask;
    t->slot[i] = (struct wordid_slot){key, copy, len, where, ++t->n};
    return t->n;
}

uint32_t
wordid_count(const struct wordid_table *t)
{
    return t ? t->n : 0;
}

void
wordid_free(struct wordid_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i <= t->mask; i++)
        free(t->slot[i].s);
    free(t->slot);
    free(t);
}
