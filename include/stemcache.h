/*
 * stemcache: the stems of words already stemmed, so that a word met again
 * (in the same mail read by several readers of words, or in the next mail)
 * is not stemmed again.  Snowball's stemmers are not thread-safe, so neither
 * is this: it is used where they are, from one thread at a time.
 */
#ifndef MENTORD_STEMCACHE_H
#define MENTORD_STEMCACHE_H

#include <libstemmer.h>

/* The stem of w by st (not NULL), malloc'd; NULL when memory runs out. */
char *stemcache_stem(struct sb_stemmer *st, const char *w);

#endif
