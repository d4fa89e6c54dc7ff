/*
 * store_schedule: due events, check-in answers and the counters the
 * scheduler keeps per member.
 *
 * An event is done exactly once: the runner reads the oldest pending row,
 * acts and marks it done inside one transaction, so a crash either keeps
 * both the effect and the mark or neither.  Quiet hours and absences move a
 * pending row's due time instead of adding rows, so nothing is duplicated.
 */
#include "store.h"
#include "store_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the schedule ---- */

int
store_schedule_add(struct store *st, time_t due, const char *kind, int64_t member, int64_t pair,
                   const char *arg, time_t now, int64_t *id_out)
{
    char what[128];

    snprintf(what, sizeof what, "scheduling %s (member %lld, pair %lld)", kind, (long long)member,
             (long long)pair);
    /* 0 ids become NULL: the foreign keys would refuse a member or pair 0. */
    if (store_i_run(st, what,
                    "INSERT INTO schedule (due, kind, member, pair, arg, created)"
                    " VALUES (?1, ?2, nullif(?3, 0), nullif(?4, 0), nullif(?5, ''), ?6)",
                    "isiisi", (int64_t)due, kind, member, pair, arg, (int64_t)now) < 0)
        return -1;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(st->db);
    return 0;
}

int
store_schedule_next(struct store *st, time_t now, struct store_schedule_event *out)
{
    const char *what = "reading the next due event";
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT id, due, kind, coalesce(member, 0),"
                                         " coalesce(pair, 0), coalesce(arg, '') FROM schedule"
                                         " WHERE done IS NULL AND due <= ?1"
                                         " ORDER BY due, id LIMIT 1",
                                         "i", (int64_t)now);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1) {
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(stmt, 0);
        out->due = (time_t)sqlite3_column_int64(stmt, 1);
        snprintf(out->kind, sizeof out->kind, "%s", (const char *)sqlite3_column_text(stmt, 2));
        out->member = sqlite3_column_int64(stmt, 3);
        out->pair = sqlite3_column_int64(stmt, 4);
        snprintf(out->arg, sizeof out->arg, "%s", (const char *)sqlite3_column_text(stmt, 5));
    }
    store_i_finish(st, stmt);
    return rc;
}

int
store_schedule_pending(struct store *st, const char *kind, int64_t member, time_t before,
                       int64_t except, struct store_schedule_event **out, size_t *n)
{
    const char *what = "listing a member's pending events";
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT id, due, kind, coalesce(member, 0),"
                                         " coalesce(pair, 0), coalesce(arg, '') FROM schedule"
                                         " WHERE done IS NULL AND kind = ?1 AND member = ?2"
                                         " AND due <= ?3 AND id <> ?4 ORDER BY due, id",
                                         "siii", kind, member, (int64_t)before, except);
    struct store_i_vec vec = {0};
    int rc;

    *out = NULL;
    *n = 0;
    if (!stmt)
        return -1;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        struct store_schedule_event *e = store_i_push(st, what, &vec, sizeof *e);
        if (e == NULL) {
            rc = -1;
            break;
        }
        e->id = sqlite3_column_int64(stmt, 0);
        e->due = (time_t)sqlite3_column_int64(stmt, 1);
        snprintf(e->kind, sizeof e->kind, "%s", (const char *)sqlite3_column_text(stmt, 2));
        e->member = sqlite3_column_int64(stmt, 3);
        e->pair = sqlite3_column_int64(stmt, 4);
        snprintf(e->arg, sizeof e->arg, "%s", (const char *)sqlite3_column_text(stmt, 5));
    }
    store_i_finish(st, stmt);
    *out = vec.v;
    *n = vec.n;
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int
store_schedule_done(struct store *st, int64_t id, time_t now, const char *outcome)
{
    char what[96];

    snprintf(what, sizeof what, "marking scheduled event %lld done", (long long)id);
    int rc = store_i_run(st, what,
                         "UPDATE schedule SET done = ?2, outcome = ?3"
                         " WHERE id = ?1 AND done IS NULL",
                         "iis", id, (int64_t)now, outcome);
    if (rc == 0)
        return store_i_set_err(st, "%s: not pending", what);
    return rc < 0 ? -1 : 0;
}

int
store_schedule_move(struct store *st, int64_t id, time_t due)
{
    char what[96];

    snprintf(what, sizeof what, "moving scheduled event %lld", (long long)id);
    int rc = store_i_run(st, what, "UPDATE schedule SET due = ?2 WHERE id = ?1 AND done IS NULL",
                         "ii", id, (int64_t)due);
    if (rc == 0)
        return store_i_set_err(st, "%s: not pending", what);
    return rc < 0 ? -1 : 0;
}

int
store_schedule_cancel_pair(struct store *st, int64_t pair, int64_t except, time_t now,
                           const char *outcome)
{
    return store_i_run(st, "cancelling the events of a pair",
                       "UPDATE schedule SET done = ?3, outcome = ?4"
                       " WHERE pair = ?1 AND id <> ?2 AND done IS NULL",
                       "iiis", pair, except, (int64_t)now, outcome);
}

int
store_schedule_cancel_member(struct store *st, int64_t member, int64_t except, time_t now,
                             const char *outcome)
{
    return store_i_run(st, "cancelling the events of a member",
                       "UPDATE schedule SET done = ?3, outcome = ?4"
                       " WHERE member = ?1 AND id <> ?2 AND done IS NULL",
                       "iiis", member, except, (int64_t)now, outcome);
}

time_t
store_schedule_next_due(struct store *st)
{
    int64_t t = 0;

    /* min() over no rows is one NULL row, which reads as 0: nothing scheduled. */
    if (store_i_query_int(st, &t, "finding the next scheduled event",
                          "SELECT min(due) FROM schedule WHERE done IS NULL", "") < 0)
        return (time_t)-1;
    return (time_t)t;
}

int
store_schedule_count(struct store *st, const char *kind, int64_t member, int64_t pair,
                     const char *arg, int pending)
{
    int64_t n = 0;

    if (store_i_query_int(st, &n, "counting scheduled events",
                          "SELECT count(*) FROM schedule WHERE kind = ?1"
                          " AND (?2 = 0 OR member = ?2) AND (?3 = 0 OR pair = ?3)"
                          " AND (?4 IS NULL OR arg = ?4) AND (?5 = 0 OR done IS NULL)",
                          "siisi", kind, member, pair, arg, (int64_t)pending) < 0)
        return -1;
    return (int)n;
}

int
store_schedule_count_done(struct store *st, const char *kind, int64_t member, int64_t pair,
                          const char *outcome, time_t since)
{
    int64_t n = 0;

    if (store_i_query_int(st, &n, "counting done events",
                          "SELECT count(*) FROM schedule WHERE kind = ?1"
                          " AND (?2 = 0 OR member = ?2) AND (?3 = 0 OR pair = ?3)"
                          " AND outcome = ?4 AND done >= ?5",
                          "siisi", kind, member, pair, outcome, (int64_t)since) < 0)
        return -1;
    return (int)n;
}

int
store_schedule_last_done(struct store *st, const char *kind, int64_t member, int64_t pair,
                         const char *outcome, time_t *at, char *arg, size_t arglen)
{
    const char *what = "finding the last done event";
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT done, coalesce(arg, '') FROM schedule"
                                         " WHERE kind = ?1 AND (?2 = 0 OR member = ?2)"
                                         " AND (?3 = 0 OR pair = ?3) AND outcome = ?4"
                                         " ORDER BY done DESC, id DESC LIMIT 1",
                                         "siis", kind, member, pair, outcome);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1) {
        *at = (time_t)sqlite3_column_int64(stmt, 0);
        if (arg)
            snprintf(arg, arglen, "%s", (const char *)sqlite3_column_text(stmt, 1));
    }
    store_i_finish(st, stmt);
    return rc;
}

int
store_schedule_unscheduled_pauses(struct store *st, struct store_schedule_pause **out, size_t *n)
{
    const char *what = "finding pauses to schedule";
    struct store_i_vec vec = {0};
    int rc;

    *out = NULL;
    *n = 0;
    /* The end date, as text, is the event's arg: a changed pause gets new events. */
    sqlite3_stmt *stmt =
        store_i_prepare(st, what,
                        "SELECT id, pause_until FROM members m WHERE state = 'paused'"
                        " AND pause_until IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schedule s"
                        " WHERE s.kind = 'pause-end' AND s.member = m.id"
                        " AND s.arg = CAST(m.pause_until AS TEXT)) ORDER BY id",
                        "");
    if (!stmt)
        return -1;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        struct store_schedule_pause *p = store_i_push(st, what, &vec, sizeof *p);
        if (p == NULL) {
            rc = -1;
            break;
        }
        p->member = sqlite3_column_int64(stmt, 0);
        p->until = (time_t)sqlite3_column_int64(stmt, 1);
    }
    store_i_finish(st, stmt);
    *out = vec.v;
    *n = vec.n;
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

/* ---- feedback ---- */

int
store_feedback_add(struct store *st, const struct store_feedback *fb, int64_t *id_out)
{
    char what[96];

    snprintf(what, sizeof what, "saving feedback on pair %lld", (long long)fb->pair);
    if (store_i_run(st, what,
                    "INSERT INTO feedback (pair, member, role, at, rating, met, comment, checkin)"
                    " VALUES (nullif(?1, 0), nullif(?2, 0), ?3, ?4, nullif(?5, 0),"
                    " nullif(?6, -1), ?7, ?8)",
                    "iisiiiss", fb->pair, fb->member, fb->role, (int64_t)fb->at,
                    (int64_t)fb->rating, (int64_t)fb->met, fb->comment, fb->checkin) < 0)
        return -1;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(st->db);
    return 0;
}

/* One entry's strings; store_feedback_free() also frees the array. */
static void
feedback_clear(struct store_feedback *fb)
{
    free(fb->role);
    free(fb->comment);
    free(fb->checkin);
    memset(fb, 0, sizeof *fb);
}

static int
feedback_fill(sqlite3_stmt *stmt, struct store_feedback *fb)
{
    memset(fb, 0, sizeof *fb);
    fb->id = sqlite3_column_int64(stmt, 0);
    fb->pair = sqlite3_column_int64(stmt, 1);
    fb->member = sqlite3_column_int64(stmt, 2);
    fb->at = (time_t)sqlite3_column_int64(stmt, 4);
    fb->rating = sqlite3_column_int(stmt, 5);
    fb->met = sqlite3_column_int(stmt, 6);
    if (store_i_col_str(stmt, 3, &fb->role) != 0 || store_i_col_str(stmt, 7, &fb->comment) != 0 ||
        store_i_col_str(stmt, 8, &fb->checkin) != 0) {
        feedback_clear(fb);
        return -1;
    }
    return 0;
}

int
store_feedback_list(struct store *st, int64_t pair, struct store_feedback **out, size_t *n)
{
    const char *what = "listing feedback";
    struct store_i_vec vec = {0};
    int rc;

    *out = NULL;
    *n = 0;
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT id, coalesce(pair, 0), coalesce(member, 0), role,"
                                         " at, coalesce(rating, 0), coalesce(met, -1), comment,"
                                         " checkin FROM feedback WHERE pair = ?1 ORDER BY at, id",
                                         "i", pair);
    if (!stmt)
        return -1;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        struct store_feedback *f = store_i_push(st, what, &vec, sizeof *f);
        if (f == NULL || feedback_fill(stmt, f) != 0) {
            rc = store_i_set_err(st, "%s: out of memory", what);
            break;
        }
    }
    store_i_finish(st, stmt);
    *out = vec.v;
    *n = vec.n;
    if (rc < 0) {
        store_feedback_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

void
store_feedback_free(struct store_feedback *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        feedback_clear(&v[i]);
    free(v);
}

int
store_feedback_last(struct store *st, int64_t pair, int64_t member, time_t *at)
{
    int64_t t = 0;
    int rc = store_i_query_int(st, &t, "finding a member's last feedback",
                               "SELECT max(at) FROM feedback WHERE pair = ?1 AND member = ?2"
                               " HAVING max(at) IS NOT NULL",
                               "ii", pair, member);
    if (rc == 1)
        *at = (time_t)t;
    return rc;
}

int
store_feedback_about_mentor(struct store *st, int64_t mentor, time_t since,
                            struct store_feedback_stats *out)
{
    const char *what = "reading a mentor's feedback";
    sqlite3_stmt *stmt = store_i_prepare(
        st, what,
        "SELECT count(f.rating), coalesce(sum(f.rating <= 2), 0), coalesce(sum(f.rating >= 4), 0),"
        " coalesce(avg(f.rating), 0) FROM feedback f JOIN pairs p ON p.id = f.pair"
        " WHERE p.mentor = ?1 AND f.member = p.newcomer AND f.rating IS NOT NULL AND f.at >= ?2",
        "ii", mentor, (int64_t)since);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    memset(out, 0, sizeof *out);
    if (rc == 1) {
        out->n = sqlite3_column_int(stmt, 0);
        out->low = sqlite3_column_int(stmt, 1);
        out->high = sqlite3_column_int(stmt, 2);
        out->avg = sqlite3_column_double(stmt, 3);
    }
    store_i_finish(st, stmt);
    return rc < 0 ? -1 : 0;
}

/* ---- a member's counters ---- */

static int
member_update(struct store *st, const char *what, const char *sql, int64_t member, int64_t value)
{
    char buf[128];

    snprintf(buf, sizeof buf, "%s of member %lld", what, (long long)member);
    int rc = store_i_run(st, buf, sql, "ii", member, value);
    return rc < 0 ? -1 : rc;
}

int
store_member_unanswered_add(struct store *st, int64_t member)
{
    return member_update(st, "counting an unanswered check-in",
                         "UPDATE members SET unanswered = unanswered + ?2 WHERE id = ?1", member,
                         1);
}

int
store_member_unanswered_reset(struct store *st, int64_t member)
{
    return member_update(st, "resetting unanswered check-ins",
                         "UPDATE members SET unanswered = ?2 WHERE id = ?1", member, 0);
}

int
store_member_set_last_reminder(struct store *st, int64_t member, time_t at)
{
    return member_update(st, "recording a reminder",
                         "UPDATE members SET last_reminder = ?2 WHERE id = ?1", member,
                         (int64_t)at);
}

int
store_member_set_last_break(struct store *st, int64_t member, time_t at)
{
    return member_update(st, "recording a break",
                         "UPDATE members SET last_break = ?2 WHERE id = ?1", member, (int64_t)at);
}

/* ---- pairs as the scheduler counts them (store_pairs.c owns the pairing flow) ---- */

int
store_schedule_mentor_counts(struct store *st, int64_t mentor, int *active, int *ever,
                             time_t *first_started)
{
    const char *what = "counting a mentor's pairs";
    sqlite3_stmt *stmt =
        store_i_prepare(st, what,
                        "SELECT coalesce(sum(state = 'active'), 0), count(started),"
                        " coalesce(min(started), 0) FROM pairs WHERE mentor = ?1"
                        " AND state IN ('active', 'ended')",
                        "i", mentor);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1) {
        *active = sqlite3_column_int(stmt, 0);
        *ever = sqlite3_column_int(stmt, 1);
        if (first_started)
            *first_started = (time_t)sqlite3_column_int64(stmt, 2);
    }
    store_i_finish(st, stmt);
    return rc < 0 ? -1 : 0;
}

int
store_schedule_mentee_pairs(struct store *st, int64_t member)
{
    int64_t n = 0;

    if (store_i_query_int(st, &n, "counting a member's pairs as a newcomer",
                          "SELECT count(*) FROM pairs WHERE newcomer = ?1"
                          " AND state IN ('active', 'ended') AND started IS NOT NULL",
                          "i", member) < 0)
        return -1;
    return (int)n;
}
