/*
 * store_digest: the managers' figures and listings (read-only).
 * Part of the store module's public face (store.h includes it; conventions
 * there); defined in daemon/store_digest.c.
 */
#ifndef MENTORD_STORE_DIGEST_H
#define MENTORD_STORE_DIGEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/*
 * ---- the managers' figures and listings (store_digest.c) ----
 * Read-only aggregates for the digest (digest.c) and the listings of
 * mentorctl and manager mail (ctl_*.c).  Flow figures count what happened in
 * [start, end); state figures (waiting, active and silent pairs) are read as
 * they stood at end.  Rows handed to a callback are valid during the call.
 */

/* The digest's figures for one period; percentages and tenths are -1 when nothing to measure. */
struct store_digest_counts {
    long requests;           /* join and mentor requests (confirmations asked) */
    long joins_newcomers;    /* confirmed newcomers */
    long joins_mentors;      /* confirmed mentors */
    long waiting;            /* newcomers waiting for a mentor at end */
    long longest_wait;       /* days the longest of them has waited */
    long proposals;          /* pairs proposed */
    long started;            /* pairs started */
    long ended;              /* pairs ended */
    long active_pairs;       /* at end */
    long checkins;           /* check-ins mailed */
    long response_rate;      /* % of check-ins answered */
    long avg_rating;         /* average rating x10 */
    long low_ratings;        /* ratings of 1 or 2 */
    long silent_pairs;       /* active pairs without a check-in answer for 4 weeks, at end */
    long undeliverable;      /* members newly undeliverable */
    long retention_30;       /* % of newcomers reaching day 30 who still wrote or answered */
    long retention_90;       /* the same at day 90 */
    long conversions;        /* mentees who became mentors */
    long milestones;         /* mentors to recognise */
    long floods;             /* mail over the reply budget */
    long spam;               /* mail the server's spam filter marked, not answered */
    long stranger_held;      /* mail to unconfirmed addresses held back by the cap, at end */
    long unverified_bounces; /* bounces about no mail of ours: recorded, not scored */
};
int store_digest_counts(struct store *st, time_t start, time_t end,
                        struct store_digest_counts *out);

/* A mentor (active or paused, joined before at) as the burnout check sees them at at. */
struct store_digest_mentor {
    const char *address; /* NULL once erased */
    const char *name;    /* may be NULL */
    const char *profile; /* may be NULL */
    int unanswered;      /* as it is now: the past is not kept */
    int active;          /* active pairs at at */
    long rating10;       /* mentees' average rating in the 90 days before at, x10; -1: none */
    time_t break_since;  /* end of the last break, or when they joined */
};
/*
 * Most unanswered first, then by address; stops and returns fn's value when
 * non-zero (-1 from fn means it ran out of memory, and is reported so).
 */
int store_digest_mentors_each(struct store *st, time_t at,
                              int (*fn)(const struct store_digest_mentor *, void *), void *arg);

/*
 * The digest's lists, one row of text columns per item (NULL for an erased
 * member or an absent value); digest.c writes each row as a line of the
 * managers' language.  fn as above.
 */
enum store_digest_list {
    STORE_DIGEST_WAITING = 0,   /* at end, longest wait first: days, name, address */
    STORE_DIGEST_LOW_RATINGS,   /* ratings of 1 or 2: rating, from, role, pair, other, comment */
    STORE_DIGEST_SILENT,        /* silent pairs at end: pair, newcomer, mentor, started (date) */
    STORE_DIGEST_UNDELIVERABLE, /* undeliverable members now: address, role, bounce score */
    STORE_DIGEST_CONVERSIONS,   /* in the period: member, detail */
    STORE_DIGEST_MILESTONES,    /* in the period: member, detail (the milestone's name) */
};
#define STORE_DIGEST_MAX_COLS 6
int store_digest_rows_each(struct store *st, enum store_digest_list list, time_t start, time_t end,
                           int (*fn)(const char *const *cols, size_t ncols, void *), void *arg);

/* Whether the digest of period key went out (an event "digest" with that detail): 1, 0, -1. */
int store_digest_sent(struct store *st, const char *key);
/* Events other than digests before t (anything to report at all?), or -1. */
int store_digest_history(struct store *st, time_t before);

/* A digest as it was sent (replacing an earlier copy of the same period). */
struct store_digest_copy {
    char *key, *subject, *text, *html;
    time_t sent;
};
int store_digest_keep(struct store *st, const char *key, time_t sent, const char *subject,
                      const char *text, const char *html);
/* The digest sent last: 1 with out filled (free with store_digest_copy_free), 0 none, -1. */
int store_digest_last(struct store *st, struct store_digest_copy *out);
void store_digest_copy_free(struct store_digest_copy *c);

/*
 * Manager alerts wait in the store until the end of the run that raised them,
 * then go out together: add one (its paragraph, ready to print), take the
 * unsent ones joined by blank lines (*body malloc'd, NULL and *n 0 when none),
 * and mark those up to last_id sent.
 */
int store_alert_add(struct store *st, time_t at, const char *body);
int store_alert_pending(struct store *st, char **body, size_t *n, int64_t *last_id);
int store_alert_mark_sent(struct store *st, int64_t last_id, time_t now);

/*
 * A read-only query whose SQL its caller owns (the listings of ctl_*.c):
 * arguments as types says ('s' const char *, NULL binds NULL; 'i' int64_t),
 * fn is called first with the column names alone (text NULL, index 0), then
 * once per row (index 1, 2, ...) with each column as text, NULL for SQL NULL.
 * fn returns 0 to go on, -1 when it ran out of memory (reported as such) or
 * another value to stop.  SQL that would write is refused.  Returns 0, -1 on
 * error, or fn's value.
 */
struct store_row {
    size_t index; /* 0 for the column names */
    size_t ncols;
    const char *const *names;    /* ncols column names */
    const char *const *text;     /* ncols values, NULL for SQL NULL; NULL itself at index 0 */
    const unsigned char *is_int; /* ncols flags: the value is an INTEGER */
};
int store_select(struct store *st, const char *what, const char *sql, const char *types,
                 int (*fn)(const struct store_row *, void *), void *arg, ...);
int store_select_v(struct store *st, const char *what, const char *sql, const char *types,
                   int (*fn)(const struct store_row *, void *), void *arg, va_list ap);

#endif
