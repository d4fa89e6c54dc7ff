/*
 * skills: what a person can teach or wants to learn, as named in prose.
 *
 * "I'm a nurse in Manila", "Ich möchte Python und Datenanalyse lernen",
 * "tengo experiencia en carpintería": skills are found two ways, both from
 * per-language tables (data/skills/LANG.txt, built into the program), not
 * from code.  A vocabulary of skills (technologies, trades, fields, hobbies)
 * with the ways people write them in each language is matched on word stems
 * (Snowball, libstemmer), longest first, and gives each skill its English
 * name ("enfermera" -> "nursing").  Cue phrases ("experience in", "ich
 * arbeite als", "je travaille en") then name what follows them as skills
 * too, list by list ("python, git and docker"), so a skill the vocabulary
 * does not know is still read, as written.
 *
 * The text given must be the person's own (no quoted text); a signature
 * after "-- " is not read.
 */
#ifndef MENTORD_SKILLS_H
#define MENTORD_SKILLS_H

#include <stddef.h>

/* 1 when item (lower case, as written) is no skill: a language, a place, a filler. */
typedef int (*skills_reject_fn)(const char *item);

/*
 * Skills named in text, in the order written, without repeats, at most max;
 * items longer than max_len bytes are left out.  *items is a malloc'd array
 * of malloc'd strings (NULL when none), *n their number.  reject (may be
 * NULL) vets the items read after a cue that the vocabulary does not know.
 * Returns 0, or -1 when memory runs out (nothing is then returned).
 */
int skills_from_prose(const char *text, skills_reject_fn reject, size_t max, size_t max_len,
                      char ***items, size_t *n);

#endif
