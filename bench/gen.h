/* gen: synthetic mentorship communities for the matcher benchmark. */
#ifndef MENTORD_BENCH_GEN_H
#define MENTORD_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "match.h"

struct community {
    struct match_person *people; /* newcomers first, then mentors */
    size_t n_newcomers, n_mentors;
    const char **strings;        /* the tag/goal/language pointers the people use */
    struct match_block *history; /* earlier pairs: must not be repeated */
    size_t n_history;
    int64_t now;
};

/*
 * Tags follow a Zipf law (s = 1) over 600 names, so a few topics
 * ("python", "linux") are everywhere and most are rare; languages, time zones
 * and goals are skewed the same way; mentors have 2-6 places with 0-1 already
 * taken (about 3 free slots each).  Deterministic for a seed.  0 or -1 (ENOMEM).
 */
int gen_community(struct community *c, size_t n_newcomers, size_t n_mentors, unsigned seed);
/*
 * Everyone alike: the same three tags, English, one time zone, three days
 * waited, mentors with one place and no history (a buddy programme or a
 * one-track community).  Every newcomer ranks every mentor the same, so any
 * fixed candidate list (the top_k lowest ids) leaves newcomers waiting beside
 * free mentors unless the pricing brings the missing pairs in.
 */
int gen_uniform(struct community *c, size_t n_newcomers, size_t n_mentors);
void gen_free(struct community *c);

#endif
