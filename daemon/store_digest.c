/*
 * store_digest: the read-only aggregates behind the managers' digest and the
 * listings of mentorctl and manager mail.
 *
 * The digest's figures span several tables (events, pairs, schedule,
 * feedback, messages, members); they are here so that digest.c sees typed
 * results through store.h and not the store's connection.  Flow figures count
 * what happened in [?1, ?2); state figures are read as they stood at ?2.
 * History is rebuilt from the tables, so a state figure's past values are as
 * good as the tables' memory: a newcomer matched since then no longer carries
 * waiting_since, so the waiting list's past counts only those still waiting.
 */
#include "store.h"
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Newcomers reaching N days in the period: who of them wrote or answered since day N-14. */
#define RETENTION_SQL(N)                                                                           \
    "SELECT CASE WHEN count(*) = 0 THEN -1 ELSE (100 * sum(kept) + count(*) / 2) / count(*) END"   \
    " FROM (SELECT e.member IS NOT NULL AND ("                                                     \
    "  EXISTS (SELECT 1 FROM messages g WHERE g.sender = e.member COLLATE NOCASE"                  \
    "   AND coalesce(g.processed, g.received) >= e.at + (" #N " - 14) * 86400"                     \
    "   AND coalesce(g.processed, g.received) < ?2)"                                               \
    "  OR EXISTS (SELECT 1 FROM feedback f JOIN members m ON m.id = f.member"                      \
    "   WHERE m.address = e.member COLLATE NOCASE AND f.at >= e.at + (" #N " - 14) * 86400"        \
    "   AND f.at < ?2)) AS kept"                                                                   \
    " FROM events e WHERE e.kind = 'newcomer' AND (e.detail = 'confirmed' OR e.detail IS NULL)"    \
    " AND e.at + " #N " * 86400 >= ?1 AND e.at + " #N " * 86400 < ?2)"

/* An active pair at ?2: started before it and not ended by then. */
#define ACTIVE_AT(p)                                                                               \
    p ".started IS NOT NULL AND " p ".started < ?2 AND (" p ".ended IS NULL OR " p                 \
      ".ended >= ?2) AND " p ".state IN ('active', 'ended')"

/*
 * When m's current wait began: waiting_since is the matcher's queue position,
 * which a rematched newcomer keeps from their first request (so they are not
 * sent to the back), but their wait only began when their last pair ended.
 */
#define WAIT_FROM                                                                                  \
    "max(m.waiting_since, coalesce((SELECT max(q.ended) FROM pairs q WHERE q.newcomer = m.id"      \
    " AND q.ended < ?2), 0))"

#define WAITING_AT                                                                                 \
    " FROM members m WHERE m.role = 'newcomer' AND m.state = 'active'"                             \
    " AND m.waiting_since IS NOT NULL AND m.waiting_since < ?2 AND ?1 <= ?2"                       \
    " AND NOT EXISTS (SELECT 1 FROM pairs p WHERE p.newcomer = m.id AND " ACTIVE_AT("p") ")"

#define SILENT_AT                                                                                  \
    " FROM pairs p WHERE " ACTIVE_AT(                                                              \
        "p") " AND p.started <= ?2 - 2419200 AND ?1 <= ?2"                                         \
             " AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.pair = p.id"                       \
             "  AND f.at >= ?2 - 2419200 AND f.at < ?2)"

/* Check-ins mailed in the period; those dropped (paused, rematched, member left) were not. */
#define CHECKINS_SENT                                                                              \
    "SELECT count(*) FROM schedule WHERE kind = 'checkin' AND done >= ?1 AND done < ?2"            \
    " AND outcome LIKE 'sent%'"

#define EVENTS_IN(kind)                                                                            \
    "SELECT count(*) FROM events WHERE kind = '" kind "' AND at >= ?1 AND at < ?2"

/* One figure: a query of one integer with ?1 = period start, ?2 = period end. */
struct counts_sql {
    size_t field; /* offset of the long in struct store_digest_counts */
    const char *key;
    const char *sql;
};

static const struct counts_sql counts_sqls[] = {
    {offsetof(struct store_digest_counts, requests), "requests",
     EVENTS_IN("confirm-asked") " AND (detail IS NULL OR detail IN ('join', 'mentor'))"},
    {offsetof(struct store_digest_counts, joins_newcomers), "joins_newcomers",
     EVENTS_IN("newcomer") " AND (detail = 'confirmed' OR detail IS NULL)"},
    {offsetof(struct store_digest_counts, joins_mentors), "joins_mentors",
     EVENTS_IN("mentor") " AND (detail = 'confirmed' OR detail IS NULL)"},
    {offsetof(struct store_digest_counts, waiting), "waiting", "SELECT count(*)" WAITING_AT},
    {offsetof(struct store_digest_counts, longest_wait), "longest_wait",
     "SELECT coalesce(max(?2 - " WAIT_FROM "), 0) / 86400" WAITING_AT},
    {offsetof(struct store_digest_counts, proposals), "proposals",
     "SELECT count(*) FROM pairs WHERE created >= ?1 AND created < ?2"},
    {offsetof(struct store_digest_counts, started), "started",
     "SELECT count(*) FROM pairs WHERE started >= ?1 AND started < ?2"},
    {offsetof(struct store_digest_counts, ended), "ended",
     "SELECT count(*) FROM pairs WHERE state = 'ended' AND ended >= ?1 AND ended < ?2"},
    {offsetof(struct store_digest_counts, active_pairs), "active_pairs",
     "SELECT count(*) FROM pairs p WHERE " ACTIVE_AT("p") " AND ?1 <= ?2"},
    {offsetof(struct store_digest_counts, checkins), "checkins", CHECKINS_SENT},
    {offsetof(struct store_digest_counts, response_rate), "response_rate",
     "SELECT CASE WHEN s = 0 THEN -1 ELSE min(100, (100 * a + s / 2) / s) END FROM"
     " (SELECT (" CHECKINS_SENT ") AS s, (SELECT count(*) FROM feedback WHERE checkin IS NOT NULL"
     " AND at >= ?1 AND at < ?2) AS a)"},
    {offsetof(struct store_digest_counts, avg_rating), "avg_rating",
     "SELECT CASE WHEN count(rating) = 0 THEN -1 ELSE CAST(round(avg(rating) * 10) AS INTEGER)"
     " END FROM feedback WHERE rating IS NOT NULL AND at >= ?1 AND at < ?2"},
    {offsetof(struct store_digest_counts, low_ratings), "low_ratings",
     "SELECT count(*) FROM feedback WHERE rating <= 2 AND at >= ?1 AND at < ?2"},
    {offsetof(struct store_digest_counts, silent_pairs), "silent_pairs",
     "SELECT count(*)" SILENT_AT},
    {offsetof(struct store_digest_counts, undeliverable), "undeliverable",
     EVENTS_IN("undeliverable")},
    {offsetof(struct store_digest_counts, retention_30), "retention_30", RETENTION_SQL(30)},
    {offsetof(struct store_digest_counts, retention_90), "retention_90", RETENTION_SQL(90)},
    {offsetof(struct store_digest_counts, conversions), "conversions", EVENTS_IN("conversion")},
    {offsetof(struct store_digest_counts, milestones), "milestones", EVENTS_IN("milestone")},
    {offsetof(struct store_digest_counts, floods), "floods", EVENTS_IN("flood")},
    {offsetof(struct store_digest_counts, spam), "spam", EVENTS_IN("spam")},
    {offsetof(struct store_digest_counts, stranger_held), "stranger_held",
     "SELECT count(*) FROM outbox WHERE stranger = 1 AND status = 'queued' AND next_attempt > ?2"
     " AND ?1 <= ?2"},
    {offsetof(struct store_digest_counts, unverified_bounces), "unverified_bounces",
     EVENTS_IN("bounce-unverified")},
};

_Static_assert(sizeof counts_sqls / sizeof counts_sqls[0] ==
                   sizeof(struct store_digest_counts) / sizeof(long),
               "every field of struct store_digest_counts has its query");

int
store_digest_counts(struct store *st, time_t start, time_t end, struct store_digest_counts *out)
{
    char what[64];

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof counts_sqls / sizeof counts_sqls[0]; i++) {
        int64_t v = 0;
        snprintf(what, sizeof what, "digest figure %s", counts_sqls[i].key);
        if (store_i_query_int(st, &v, what, counts_sqls[i].sql, "ii", (int64_t)start,
                              (int64_t)end) < 0)
            return -1;
        *(long *)((char *)out + counts_sqls[i].field) = (long)v;
    }
    return 0;
}

int
store_digest_mentors_each(struct store *st, time_t at,
                          int (*fn)(const struct store_digest_mentor *, void *), void *arg)
{
    static const char sql[] =
        "SELECT m.address, m.name, m.profile, m.unanswered,"
        " (SELECT count(*) FROM pairs p WHERE p.mentor = m.id AND " ACTIVE_AT(
            "p") "),"
                 /*
                  * Ratings judge a mentor only when there are at least two,
                  * and only from mentees still in the programme: one bad
                  * rating, or the rating of someone who has since left, is
                  * not a pattern (the low-ratings list shows each anyway).
                  */
                 " (SELECT CASE WHEN count(f.rating) >= 2"
                 "  THEN CAST(round(avg(f.rating) * 10) AS INTEGER) END FROM feedback f"
                 "  JOIN pairs q ON q.id = f.pair JOIN members r ON r.id = f.member"
                 "  WHERE q.mentor = m.id AND f.member IS NOT m.id AND r.state <> 'left'"
                 "  AND f.rating IS NOT NULL AND f.at < ?2 AND f.at >= ?2 - 7776000),"
                 " coalesce(m.last_break, m.created)"
                 " FROM members m WHERE m.role = 'mentor' AND m.state IN ('active', 'paused')"
                 " AND m.created < ?2 AND ?1 <= ?2 ORDER BY m.unanswered DESC, m.address";
    const char *what = "listing mentors at risk";
    sqlite3_stmt *stmt = store_i_prepare(st, what, sql, "ii", (int64_t)at, (int64_t)at);
    int rc;

    if (!stmt)
        return -1;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        struct store_digest_mentor m = {
            .address = (const char *)sqlite3_column_text(stmt, 0),
            .name = (const char *)sqlite3_column_text(stmt, 1),
            .profile = (const char *)sqlite3_column_text(stmt, 2),
            .unanswered = sqlite3_column_int(stmt, 3),
            .active = sqlite3_column_int(stmt, 4),
            .rating10 = sqlite3_column_type(stmt, 5) == SQLITE_NULL
                            ? -1
                            : (long)sqlite3_column_int64(stmt, 5),
            .break_since = (time_t)sqlite3_column_int64(stmt, 6),
        };
        if ((rc = fn(&m, arg)) != 0) {
            if (rc == -1)
                store_i_set_err(st, "%s: out of memory", what);
            break;
        }
    }
    store_i_finish(st, stmt);
    return rc;
}

/* One list: a query of text columns, with ?1, ?2 the period; the words are digest.c's. */
struct list_sql {
    const char *key;
    const char *sql;
};

static const struct list_sql list_sqls[] = {
    [STORE_DIGEST_WAITING] = {"waiting",
                              "SELECT (?2 - " WAIT_FROM ") / 86400, m.name, m.address" WAITING_AT
                              " ORDER BY " WAIT_FROM ", m.id"},
    [STORE_DIGEST_LOW_RATINGS] =
        {"low_ratings",
         "SELECT f.rating, a.address, coalesce(f.role, a.role), coalesce(p.id, 0),"
         " CASE WHEN p.mentor = a.id THEN n.address ELSE o.address END,"
         " CASE WHEN f.comment IS NULL OR f.comment = '' THEN NULL"
         " ELSE replace(replace(f.comment, char(13), ' '), char(10), ' ') END"
         " FROM feedback f LEFT JOIN members a ON a.id = f.member"
         " LEFT JOIN pairs p ON p.id = f.pair LEFT JOIN members n ON n.id = p.newcomer"
         " LEFT JOIN members o ON o.id = p.mentor"
         " WHERE f.rating <= 2 AND f.at >= ?1 AND f.at < ?2 ORDER BY f.at, f.id"},
    [STORE_DIGEST_SILENT] =
        {"silent_pairs",
         "SELECT p.id, n.address, o.address, date(p.started, 'unixepoch')"
         " FROM pairs p LEFT JOIN members n ON n.id = p.newcomer"
         " LEFT JOIN members o ON o.id = p.mentor WHERE p.id IN (SELECT p.id" SILENT_AT ")"
         " ORDER BY p.started, p.id"},
    [STORE_DIGEST_UNDELIVERABLE] =
        {"undeliverable", "SELECT address, role, printf('%.1f', bounce_score)"
                          " FROM members WHERE undeliverable = 1 AND state != 'left' AND ?1 <= ?2"
                          " ORDER BY address"},
    [STORE_DIGEST_CONVERSIONS] = {"conversions",
                                  "SELECT member, nullif(detail, '') FROM events"
                                  " WHERE kind = 'conversion' AND at >= ?1 AND at < ?2"
                                  " ORDER BY at, id"},
    [STORE_DIGEST_MILESTONES] = {"milestones", "SELECT member, nullif(detail, '') FROM events"
                                               " WHERE kind = 'milestone' AND at >= ?1 AND at < ?2"
                                               " ORDER BY at, id"},
};

int
store_digest_rows_each(struct store *st, enum store_digest_list list, time_t start, time_t end,
                       int (*fn)(const char *const *cols, size_t ncols, void *), void *arg)
{
    char what[64];

    if ((size_t)list >= sizeof list_sqls / sizeof list_sqls[0])
        return store_i_set_err(st, "digest list %d: no such list", (int)list);
    snprintf(what, sizeof what, "digest list %s", list_sqls[list].key);
    sqlite3_stmt *stmt =
        store_i_prepare(st, what, list_sqls[list].sql, "ii", (int64_t)start, (int64_t)end);
    int rc;

    if (!stmt)
        return -1;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        const char *cols[STORE_DIGEST_MAX_COLS];
        size_t n = (size_t)sqlite3_column_count(stmt);
        if (n > STORE_DIGEST_MAX_COLS)
            n = STORE_DIGEST_MAX_COLS;
        for (size_t c = 0; c < n; c++)
            cols[c] = (const char *)sqlite3_column_text(stmt, (int)c);
        if ((rc = fn(cols, n, arg)) != 0) {
            if (rc == -1)
                store_i_set_err(st, "%s: out of memory", what);
            break;
        }
    }
    store_i_finish(st, stmt);
    return rc;
}

int
store_digest_sent(struct store *st, const char *key)
{
    int64_t n = 0;
    char what[96];

    snprintf(what, sizeof what, "checking whether digest %.40s was sent", key);
    if (store_i_query_int(st, &n, what,
                          "SELECT count(*) FROM events WHERE kind = 'digest' AND detail = ?1", "s",
                          key) < 0)
        return -1;
    return n > 0;
}

int
store_digest_history(struct store *st, time_t before)
{
    int64_t n = 0;

    if (store_i_query_int(st, &n, "digest: anything before the period's end?",
                          "SELECT count(*) FROM events WHERE at < ?1 AND kind <> 'digest'", "i",
                          (int64_t)before) < 0)
        return -1;
    return n > 0 ? 1 : 0;
}

/* ---- listings whose SQL the caller owns ---- */

/* The current row's columns as text; -1 when memory ran out converting one. */
static int
select_row(sqlite3_stmt *stmt, struct store_row *r, const char **text, unsigned char *is_int)
{
    for (size_t c = 0; c < r->ncols; c++) {
        int type = sqlite3_column_type(stmt, (int)c);
        is_int[c] = type == SQLITE_INTEGER;
        text[c] = type == SQLITE_NULL ? NULL : (const char *)sqlite3_column_text(stmt, (int)c);
        if (type != SQLITE_NULL && !text[c])
            return -1;
    }
    r->text = text;
    return 0;
}

/* The reader's -1 means its copy ran out of memory, which is reported like ours. */
static int
select_call(struct store *st, const char *what, int (*fn)(const struct store_row *, void *),
            const struct store_row *r, void *arg)
{
    int rc = fn(r, arg);
    return rc == -1 ? store_i_set_err(st, "%s: out of memory", what) : rc;
}

static int
select_rows(struct store *st, const char *what, sqlite3_stmt *stmt,
            int (*fn)(const struct store_row *, void *), void *arg)
{
    struct store_row r = {.ncols = (size_t)sqlite3_column_count(stmt)};
    size_t n = r.ncols ? r.ncols : 1;
    const char **names = calloc(n, sizeof *names);
    const char **text = calloc(n, sizeof *text);
    unsigned char *is_int = calloc(n, 1);
    int rc = 0;

    if (!names || !text || !is_int)
        rc = store_i_set_err(st, "%s: out of memory", what);
    for (size_t c = 0; rc == 0 && c < r.ncols; c++)
        if (!(names[c] = sqlite3_column_name(stmt, (int)c)))
            rc = store_i_set_err(st, "%s: out of memory", what);
    r.names = names;
    r.is_int = is_int;
    if (rc == 0)
        rc = select_call(st, what, fn, &r, arg);
    while (rc == 0 && (rc = store_i_step(st, stmt, what)) == 1) {
        r.index++;
        if (select_row(stmt, &r, text, is_int) != 0)
            rc = store_i_set_err(st, "%s: out of memory", what);
        else
            rc = select_call(st, what, fn, &r, arg);
    }
    free(names);
    free(text);
    free(is_int);
    return rc;
}

int
store_select_v(struct store *st, const char *what, const char *sql, const char *types,
               int (*fn)(const struct store_row *, void *), void *arg, va_list ap)
{
    sqlite3_stmt *stmt = store_i_prepare_v(st, what, sql, types, ap);
    if (!stmt)
        return -1;
    /* Listings only look: whatever writes goes through the store's own functions. */
    int rc = sqlite3_stmt_readonly(stmt)
                 ? select_rows(st, what, stmt, fn, arg)
                 : store_i_set_err(st, "%s: refused, the statement would write", what);
    store_i_finish(st, stmt);
    return rc;
}

int
store_select(struct store *st, const char *what, const char *sql, const char *types,
             int (*fn)(const struct store_row *, void *), void *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = store_select_v(st, what, sql, types, fn, arg, ap);
    va_end(ap);
    return rc;
}

/* ---- digests as sent ---- */

int
store_digest_keep(struct store *st, const char *key, time_t sent, const char *subject,
                  const char *text, const char *html)
{
    return store_i_run(st, "keeping the digest as sent",
                       "INSERT OR REPLACE INTO digests (key, sent, subject, text, html)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
                       "sisss", key, (int64_t)sent, subject, text, html) < 0
               ? -1
               : 0;
}

int
store_digest_last(struct store *st, struct store_digest_copy *out)
{
    const char *what = "reading the digest sent last";
    sqlite3_stmt *stmt = store_i_prepare(
        st, what,
        "SELECT key, sent, subject, text, html FROM digests ORDER BY sent DESC, key DESC"
        " LIMIT 1",
        "");
    int rc;

    memset(out, 0, sizeof(*out));
    if (!stmt)
        return -1;
    rc = store_i_step(st, stmt, what);
    if (rc == 1) {
        out->sent = (time_t)sqlite3_column_int64(stmt, 1);
        if (store_i_col_str(stmt, 0, &out->key) != 0 ||
            store_i_col_str(stmt, 2, &out->subject) != 0 ||
            store_i_col_str(stmt, 3, &out->text) != 0 ||
            store_i_col_str(stmt, 4, &out->html) != 0) {
            store_digest_copy_free(out);
            store_i_set_err(st, "%s: out of memory", what);
            rc = -1;
        }
    }
    store_i_finish(st, stmt);
    return rc;
}

void
store_digest_copy_free(struct store_digest_copy *c)
{
    free(c->key);
    free(c->subject);
    free(c->text);
    free(c->html);
    memset(c, 0, sizeof(*c));
}

/* ---- manager alerts, gathered per run ---- */

int
store_alert_add(struct store *st, time_t at, const char *body)
{
    return store_i_run(st, "keeping a manager alert",
                       "INSERT INTO manager_alerts (at, body)"
                       " VALUES (?1, ?2)",
                       "is", (int64_t)at, body) < 0
               ? -1
               : 0;
}

int
store_alert_pending(struct store *st, char **body, size_t *n, int64_t *last_id)
{
    const char *what = "reading the manager alerts not sent";
    sqlite3_stmt *stmt = store_i_prepare(
        st, what, "SELECT id, body FROM manager_alerts WHERE sent IS NULL ORDER BY id", "");
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    int rc;

    *body = NULL;
    *n = 0;
    *last_id = 0;
    if (!stmt)
        return -1;
    if ((f = open_memstream(&buf, &len)) == NULL) {
        store_i_finish(st, stmt);
        return store_i_set_err(st, "%s: out of memory", what);
    }
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        const char *text = (const char *)sqlite3_column_text(stmt, 1);
        fprintf(f, "%s%s", *n ? "\n\n" : "", text ? text : "");
        *last_id = sqlite3_column_int64(stmt, 0);
        (*n)++;
    }
    store_i_finish(st, stmt);
    if (fclose(f) != 0 || rc < 0) {
        free(buf);
        *n = 0;
        return rc < 0 ? -1 : store_i_set_err(st, "%s: out of memory", what);
    }
    if (*n == 0)
        free(buf);
    else
        *body = buf;
    return 0;
}

int
store_alert_mark_sent(struct store *st, int64_t last_id, time_t now)
{
    return store_i_run(st, "marking manager alerts sent",
                       "UPDATE manager_alerts SET sent = ?1 WHERE sent IS NULL AND id <= ?2", "ii",
                       (int64_t)now, last_id) < 0
               ? -1
               : 0;
}
