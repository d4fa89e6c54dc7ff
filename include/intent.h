/*
 * intent: what a person means, read from the sentences they wrote.
 *
 * The phrases live in per-language tables (data/intents/LANG.txt, built into
 * the program), not in code.  Text and phrases go through the same steps:
 * UTF-8 aware lower-casing, the language's Snowball stemmer (libstemmer) for
 * word forms, accents removed; then every language's phrases are matched
 * against the text stemmed for that language.  Each phrase adds its weight
 * to one intent; a longer, heavier phrase takes its words first, so "be a
 * mentor" is not also read as "like ... a mentor", and "don't pause me"
 * (a phrase of the "none" intent) keeps "pause" from counting.
 *
 * The text given is only what the person wrote: quoted and forwarded text
 * never reaches these functions (reply.h).
 */
#ifndef MENTORD_INTENT_H
#define MENTORD_INTENT_H

#include <stddef.h>
#include <time.h>

enum intent_kind {
    INTENT_NONE = 0,     /* nothing recognised */
    INTENT_JOIN,         /* wants a mentor */
    INTENT_MENTOR,       /* volunteers as a mentor */
    INTENT_TAKE_PART,    /* wants to take part, role not said */
    INTENT_EITHER,       /* says they could be either, or cannot decide */
    INTENT_LEAVE,        /* stops for good, asks to be removed */
    INTENT_PAUSE,        /* a temporary break */
    INTENT_RESUME,       /* back from a break */
    INTENT_STATUS,       /* where does my request / membership stand */
    INTENT_ACCEPT,       /* yes to a proposal */
    INTENT_DECLINE,      /* no to a proposal */
    INTENT_QUESTION,     /* a question or a message for a person */
    INTENT_HELP,         /* asks how this works */
    INTENT_DONE,         /* the pairing is over */
    INTENT_REMATCH,      /* wants another partner */
    INTENT_CONFIRM,      /* confirms a request (CONFIRM TOKEN, or a reply to the confirmation) */
    INTENT_CAPACITY,     /* how many mentees at once */
    INTENT_RATING,       /* answers a check-in */
    INTENT_UNCLEAR_ROLE, /* wants to take part, role still to ask */
    INTENT_MANAGER,      /* a manager's command (REPORT, LIST, MATCH, ...) */
    INTENT_COUNT
};

/* Scores of one text, per intent (sum of the weights of the phrases found). */
struct intent_scores {
    int score[INTENT_COUNT];
    char evidence[INTENT_COUNT]
                 [64]; /* the first phrase found for each intent, as written in the table */
    int question;      /* the text asks something ('?' or a question phrase) */
};

/* Score text (UTF-8, the person's own words). */
void intent_score(const char *text, struct intent_scores *out);

/*
 * Score the text "subject\ntext" as intent_score would, reading text's words
 * once for it and for intent_rating and intent_capacity of text (a mail's
 * phrases are read in its Subject and its text, the rest in its text).
 */
void intent_score_parts(const char *subject, const char *text, struct intent_scores *out);

const char *intent_name(enum intent_kind k);

/*
 * A check-in rating on the scale 1-5 from text: digits ("4", "4.", "4/5",
 * "Rating: 3"), other scales converted ("8 op 10", "a solid eight out of
 * ten" -> 4), number words in the tables' languages, stars (★, ⭐), rating
 * words ("excellent").  0 when there is none.  *how (if given) names the
 * evidence (static text).
 */
int intent_rating(const char *text, const char **how);

/*
 * A pause's length in weeks from text: "two weeks", "for a month", "4
 * semanas", "a couple of months", "until January" (counted from now).  0 when
 * none is said (open-ended).  At most 52.
 */
int intent_pause_weeks(const char *text, time_t now);

/*
 * A number of people a mentor can take, from a sentence ("two mentees at a
 * time", "3 people max", "one or two" -> 2).  -1 when none.
 */
int intent_capacity(const char *text);

/*
 * Fold text for matching: lower case (UTF-8 aware), accents removed, other
 * digits (Arabic-Indic) as ASCII, curly apostrophes straight.  malloc'd;
 * NULL when memory runs out.  (skills.c reads skills on the same folding.)
 */
char *intent_fold(const char *text);

/*
 * intent_fold of text[0..n) (a word as cut by a reader of words) into out,
 * which has room for 3n + 1 bytes (a byte that is no UTF-8 folds to
 * U+FFFD's three); returns the folded length.  Nothing is allocated.
 */
size_t intent_fold_into(const char *text, size_t n, char *out);

#endif
