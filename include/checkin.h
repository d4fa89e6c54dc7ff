/*
 * checkin: reading the text of an answer to a check-in (lifecycle.c acts on
 * what it finds).  Pure functions of the text.
 */
#ifndef MENTORD_CHECKIN_H
#define MENTORD_CHECKIN_H

#include <stddef.h>

/* What a check-in answer says: a rating 1-5 (0: none) and whether they met (-1: not said). */
struct checkin_answer {
    int rating;
    int met;
};

/* Read a rating and whether they met from text (NULL reads as ""). */
void checkin_parse_answer(const char *text, struct checkin_answer *a);
/* The comment as stored: the person's own words, trimmed and capped (malloc'd; NULL when empty). */
char *checkin_comment(const char *text);
/*
 * An answer's part about one of several mentees: as checkin_parse_answer,
 * then a rating at the end of a line ("hat sich noch nicht gemeldet, 2").
 */
void checkin_parse_part(const char *text, struct checkin_answer *a);
/* Whether text opens by greeting first ("Hi Bob," "Hallo, Bob"): a note to that person. */
int checkin_greets(const char *text, const char *first);
/*
 * Whether text speaks of a time of day ("5 pm", "17:30", "um 5", "à 17h"):
 * its numbers are no rating.
 */
int checkin_mentions_time(const char *text);

#endif
