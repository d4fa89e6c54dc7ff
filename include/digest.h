/*
 * digest: the managers' picture of the programme.
 *
 * A digest covers one period (a day, a week or a month as [digest] frequency
 * says, from one sending moment - [digest] day and hour in [digest] timezone -
 * to the next) and shows, for each figure, its value, the change from the
 * previous period and a sparkline of the last DIGEST_PERIODS periods; below
 * the figures come the lists behind them (who waits longest, every low rating
 * with its comment, mentors at risk of burnout and why, silent pairs,
 * undeliverable addresses, conversions, milestones).
 *
 * Above the figures come up to DIGEST_TOP sentences on what needs a manager
 * (who has waited longest, which mentor is at risk and why, the lowest
 * rating), each with the reply word that acts on it.  Lists with nothing in
 * them are named together on one line; a long list ends "and N more".
 *
 * It is built as a snapshot from the store, rendered as plain text (for any
 * client) and as HTML with the same tables and charts drawn as table cells
 * (no SVG, no images, inline styles only), and queued to every manager; the
 * event "digest" with the period's key as detail marks it sent, and the
 * digests table keeps what was sent, in the same transaction as the mail.
 */
#ifndef MENTORD_DIGEST_H
#define MENTORD_DIGEST_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "mail.h"
#include "store.h"

/* Periods in a sparkline: this one and the eleven before it. */
#define DIGEST_PERIODS 12

enum digest_unit {
    DIGEST_COUNT = 0, /* a number of things */
    DIGEST_PERCENT,   /* 0-100; -1 when there was nothing to measure */
    DIGEST_TENTHS,    /* an average times ten (4.2 is 42); -1 when there was none */
    DIGEST_DAYS,      /* a duration in whole days */
};

/* The text part's label column: a longer label would push its row out of line. */
#define DIGEST_LABEL_WIDTH 32

struct digest_figure {
    const char *key;   /* stable name for JSON and tests: "joins_newcomers" */
    const char *label; /* "Confirmed newcomers" (in the managers' language), at most
                          DIGEST_LABEL_WIDTH characters */
    enum digest_unit unit;
    long value[DIGEST_PERIODS]; /* [0] this period, [1] the one before, ... */
};

/* One list under the figures; lines are ready to print (UTF-8, no newline). */
struct digest_list {
    const char *key;
    const char *title;
    const char *none_name; /* "silent pairs": named on the line of empty lists */
    char **lines;          /* the first few */
    size_t n;
    size_t total; /* how many there are: the rest is "and N more" */
};

/*
 * Sentences on what needs a manager, at most.  Every word of the digest is a
 * phrase of the managers' language (language.data "phrase.digest_..."; the
 * English phrases are the reference set), with English standing in.
 */
#define DIGEST_TOP 3
/* A mail client's index shows about this much of a subject. */
#define DIGEST_SUBJECT_MAX 60

enum digest_list_id {
    DIGEST_LIST_WAITING = 0,
    DIGEST_LIST_LOW_RATINGS,
    DIGEST_LIST_BURNOUT,
    DIGEST_LIST_SILENT,
    DIGEST_LIST_UNDELIVERABLE,
    DIGEST_LIST_CONVERSIONS,
    DIGEST_LIST_MILESTONES,
    DIGEST_N_LISTS
};

#define DIGEST_MAX_FIGURES 32

struct lang;

struct digest {
    const struct lang *lang; /* the managers' language ([templates] managers_language) */
    char key[32];    /* the period: "2026-11-30" daily, "2026-W48" weekly, "2026-11" monthly */
    char label[200]; /* "week 2026-W48 (Mon 23 Nov 2026 - Mon 30 Nov 2026)", in lang */
    const char *unit_name;                /* "day", "week", "month" (the key's unit, not a word) */
    time_t start, end;                    /* the period, [start, end) */
    time_t bounds[DIGEST_PERIODS + 1];    /* bounds[k] ends period k, bounds[k + 1] starts it */
    int so_far;                           /* the period in progress, up to now */
    char subject[DIGEST_SUBJECT_MAX + 1]; /* starts with the period: "Week 2026-W48: ..." */
    char *top[DIGEST_TOP];                /* what needs a manager, most pressing first */
    size_t n_top;
    struct digest_figure figures[DIGEST_MAX_FIGURES];
    size_t n_figures;
    struct digest_list lists[DIGEST_N_LISTS];
};

/*
 * The period boundaries: the sending moment at or before now, back periods
 * earlier (0: the latest).  Returns that moment (UTC seconds).  With
 * frequency "never" the periods are weeks.
 */
time_t digest_boundary(const struct config *cfg, time_t now, int back);

/*
 * Build the digest of the last complete period (so_far = 0: the period that
 * ended at the latest sending moment) or of the period in progress up to now
 * (so_far = 1: "report" and previews).  Returns 0, or -1 with err set.
 */
int digest_build(const struct config *cfg, struct store *st, time_t now, int so_far,
                 struct digest *d, char *err, size_t errlen);
void digest_free(struct digest *d);

/* The figure with this key, or NULL. */
const struct digest_figure *digest_figure(const struct digest *d, const char *key);

/* Renderings (malloc'd UTF-8; NULL when memory runs out). */
char *digest_text(const struct config *cfg, const struct digest *d);
char *digest_html(const struct config *cfg, const struct digest *d);

/*
 * Queue d to one address (template "digest": text part, plus the HTML
 * alternative); in_reply_to threads it under a manager's "report" mail.
 */
int digest_queue(const struct config *cfg, struct store *st, const struct digest *d,
                 const char *to_addr, const struct mail *in_reply_to, time_t now, char *err,
                 size_t errlen);

/*
 * For the daemon loop, in the caller's transaction: when the digest of the
 * latest complete period has not been sent (no "digest" event with its key),
 * build it, queue it to every manager and record the event.  A crash before
 * the commit sends it again; it is never lost.  Returns 1 when queued, 0 when
 * not due (already sent, frequency never, no managers), -1 on error (logged).
 */
int digest_due(const struct config *cfg, struct store *st, time_t now);

#endif
