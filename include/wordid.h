/*
 * wordid: numbers for the words a table of phrases or terms compares, so that
 * a text's words are looked up once and compared as integers after.
 *
 * A word is known by where it is compared (a language's stems, the words as
 * written, ...: a small number the caller chooses) and its bytes.  Ids run
 * from 1; 0 is "no such word", which equals no word's id.  A table is filled
 * while its owner loads (wordid_intern) and only read after (wordid_find).
 * Not thread-safe while it is filled.
 */
#ifndef MENTORD_WORDID_H
#define MENTORD_WORDID_H

#include <stddef.h>
#include <stdint.h>

struct wordid_table;

/* An empty table; NULL when memory runs out. */
struct wordid_table *wordid_new(void);

/* The id of s[0..len) where it is compared, given when new (s is copied); 0 on memory. */
uint32_t wordid_intern(struct wordid_table *t, unsigned where, const char *s, size_t len);

/* The id of s[0..len) where it is compared; 0 when the table (may be NULL) has no such word. */
uint32_t wordid_find(const struct wordid_table *t, unsigned where, const char *s, size_t len);

/* The ids given so far: every id is at most this. */
uint32_t wordid_count(const struct wordid_table *t);

/* FNV-1a of s[0..len), seeded by where it is compared; never 0.  The tables' key, and
 * a word's slot in a caller's own cache. */
uint64_t wordid_key(unsigned where, const char *s, size_t len);

/* Free t and its words (t may be NULL). */
void wordid_free(struct wordid_table *t);

#endif
