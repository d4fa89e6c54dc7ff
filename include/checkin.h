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
/* Whether text opens by greeting first ("Hi Bob," "Dear Bob"): a note to that person. */
int checkin_greets(const char *text, const char *first);
/*
 * The line of text about the mentee called first ("Ann: 4 - fine", "ann - 3"),
 * after the name, its length in *len; NULL when no line starts with that name.
 */
const char *checkin_line_about(const char *text, const char *first, size_t *len);

#endif
