/*
 * reason: why two people were paired, in the reader's language.
 *
 * The matcher (match.c) writes its reasons in plain English, one a line
 * ("you both listed Rust and Documentation", "one hour apart", "both speak
 * Spanish", "you share the goal open source"), and the store keeps them so:
 * an administrator reads them as they are.  A mail to a member writes each
 * one again in the member's language from language.data phrases (reason_*),
 * keeping the words people listed (their tags, goals and languages) as they
 * spelt them.  A reason of another form (written by hand, or by an older
 * version) is shown as it is.
 */
#ifndef MENTORD_REASON_H
#define MENTORD_REASON_H

struct lang;

/*
 * The reasons (newline-separated, as stored) as "  - reason" lines joined by
 * newlines, in language l (English for NULL or a phrase it lacks).
 * malloc'd; NULL when there are none or memory runs out.
 */
char *reason_lines(const struct lang *l, const char *reasons);

#endif
