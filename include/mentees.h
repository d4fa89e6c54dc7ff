/*
 * mentees: a mentor's answer to a check-in about several mentees, split into
 * the part about each.
 *
 * The check-in lists the mentees numbered ("1. Ann: ...", "2. Bob: ...").  A
 * mentor answers with a line or a clause per mentee, by number or by name, in
 * any language: "1: going well, 4 / 2: hasn't replied, 2", "Ana: 5, Bob: 3",
 * "#2 - 4", "Nr. 1: 5", "Ann and Bob: 4" (both), "Ann is doing great (5), Bob
 * has not answered yet".  A label counts only where a clause starts (the
 * start of a line, after , ; / or a sentence's end, after "and", "y", "und",
 * "et", "e"), so a name in the middle of a sentence ("we met Bob's friend")
 * starts nothing.
 *
 * An answer that labels nobody is about all of them, unless it holds
 * several different ratings ("4, 2"): which one is whose cannot be told, and
 * the answer is unclear.  So is a number beyond the list ("3: 5" when two
 * were asked about).  Pure: no store, no mail.
 */
#ifndef MENTORD_MENTEES_H
#define MENTORD_MENTEES_H

#include <stddef.h>

/* The most mentees one answer is split over (a mentor's capacity is smaller). */
#define MENTEES_MAX 32

/* How an answer reads. */
enum mentees_kind {
    MENTEES_ALL = 0,     /* labels nobody: the whole answer is about every mentee */
    MENTEES_SPLIT = 1,   /* parts[i] holds what was said about mentee i (given = 1) */
    MENTEES_UNCLEAR = 2, /* cannot be told apart: ask back */
};

/* One mentee as the check-in named them. */
struct mentees_who {
    const char *name;    /* first name, or NULL/"" when the person gave none */
    const char *address; /* their address, also a label; may be NULL */
    int number;          /* their number in the check-in (1..), 0 when not numbered */
};

/* What the answer said about one mentee: text[0..len), when given. */
struct mentees_part {
    const char *text; /* points into the answer */
    size_t len;
    int given;
};

/* The rating (1-5) text[0..len) gives, 0 when none: the caller's reading of an answer. */
typedef int (*mentees_rating_fn)(const char *text, size_t len);

/*
 * Splits text over the n (<= MENTEES_MAX) mentees who[]; parts[] gets n
 * entries (all zero unless MENTEES_SPLIT).  rating tells a rating in a piece
 * of text, for telling "4, 2" (unclear) from "going well, 4" (one answer).
 */
enum mentees_kind mentees_split(const char *text, const struct mentees_who *who, size_t n,
                                mentees_rating_fn rating, struct mentees_part *parts);

#endif
