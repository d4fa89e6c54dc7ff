/*
 * profile: what a member tells about themselves, from "Key: value" lines.
 *
 * Keys have synonyms and come in several languages ("Skills", "Interests",
 * "Topics", "Compétences", "Fähigkeiten", "Idiomas", ...).  Values are
 * normalised: lists split on commas/semicolons/"and", tags lower-cased,
 * languages mapped to English names, time zones validated against the
 * system's tz database (IANA names, UTC+hh:mm, or a known city).  What was
 * not understood is kept, line by line, with a hint on how to write it, so
 * the reply can say so.
 */
#ifndef MENTORD_PROFILE_H
#define MENTORD_PROFILE_H

#include <stddef.h>

#define PROFILE_HINT_ARGS 3

struct profile_problem {
    int line;   /* 1-based line in the text given to profile_parse */
    char *text; /* the line as written (UTF-8, trimmed) */
    char *hint; /* how to write it, e.g. "Time zone: Europe/Berlin or UTC+01:00" (English) */
    /* The same hint as a phrase of language.data ("problem_..."), its values {1} {2} {3}. */
    const char *key;
    char *args[PROFILE_HINT_ARGS];
};

struct profile {
    char *name;    /* NULL when not given */
    char **skills; /* normalised tags */
    size_t n_skills;
    char **languages; /* English names, lower case: "english", "spanish" */
    size_t n_languages;
    char *timezone; /* IANA name ("Europe/Berlin") or "UTC+02:00"; NULL when not given */
    char **goals;   /* keywords */
    size_t n_goals;
    int capacity;     /* mentees at once; -1 when not given */
    int availability; /* hours per week; -1 when not given */
    size_t n_fields;  /* fields understood */
    struct profile_problem *problems;
    size_t n_problems;
};

/*
 * Read every "Key: value" line of text (the text the person wrote).  Lines
 * that are not "Key: value" are ignored unless the key looks like a profile
 * key with an unusable value, which becomes a problem.  Returns 0 (even when
 * nothing was found), -1 on allocation failure.
 */
int profile_parse(const char *text, struct profile *out);
void profile_free(struct profile *p);

/*
 * What prose says about the person ("I'm Kayla from Denver", "I speak
 * English and Tagalog", a name under "Thanks,", "UTC-3"): name, languages and
 * a time zone (from a place whose zone is known, an offset or a zone's
 * abbreviation).  Only fields out does not have yet are set, so "Key: value"
 * lines win.  *place (when place is given) gets the place as written,
 * malloc'd, or NULL.  Returns 0, -1 on allocation failure.
 */
int profile_from_sentences(const char *text, struct profile *out, char **place);

/*
 * Read the names of the tz database now, so that time zones are still
 * recognised once the process may no longer open files (the reader's
 * sandbox, reader.h).  0, or -1 when memory runs out.
 */
int profile_zones_preload(void);

/* Fields set in update replace those in base (lists are replaced, not merged). */
void profile_merge(struct profile *base, const struct profile *update);

/* Canonical "key: value" lines for storage; profile_parse reads them back identically. */
char *profile_serialise(const struct profile *p);

/* Human summary of the understood fields, one "  Key: value" line each (for replies). */
char *profile_describe(const struct profile *p);

struct lang;
/* A problem's hint in language l (its phrase; the English hint without one).  malloc'd. */
char *profile_problem_hint(const struct profile_problem *t, const struct lang *l);

/* UTC offset in minutes of the profile's time zone at time t; 0 with ok=0 when unknown. */
int profile_utc_offset(const struct profile *p, long long t, int *ok);

#endif
