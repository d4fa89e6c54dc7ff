/*
 * store_outbox: the durable outbox.  Mail queued in the caller's
 * transaction, drained by smtp.c; threading (kind, ref, template) and the
 * reply budget's counts.  Table: outbox.
 */
#include "store.h"
#include "store_int.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- outbox ---- */

#define OUTBOX_COLUMNS                                                                             \
    "id, recipient, sender, message_id, headers, body, status, attempts, created,"                 \
    " next_attempt, last_error, reply, sent_at"

static void
outbox_clear(struct store_outbox *o)
{
    free(o->recipient);
    free(o->sender);
    free(o->message_id);
    free(o->headers);
    free(o->body);
    free(o->status);
    free(o->last_error);
    free(o->reply);
    memset(o, 0, sizeof *o);
}

static int
outbox_fill(sqlite3_stmt *stmt, struct store_outbox *o)
{
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(stmt, 0);
    o->attempts = sqlite3_column_int(stmt, 7);
    o->created = (time_t)sqlite3_column_int64(stmt, 8);
    o->next_attempt = (time_t)sqlite3_column_int64(stmt, 9);
    o->sent_at = (time_t)sqlite3_column_int64(stmt, 12);
    if (store_i_col_str(stmt, 1, &o->recipient) != 0 || store_i_col_str(stmt, 2, &o->sender) != 0 ||
        store_i_col_str(stmt, 3, &o->message_id) != 0 ||
        store_i_col_str(stmt, 4, &o->headers) != 0 || store_i_col_str(stmt, 5, &o->body) != 0 ||
        store_i_col_str(stmt, 6, &o->status) != 0 ||
        store_i_col_str(stmt, 10, &o->last_error) != 0 ||
        store_i_col_str(stmt, 11, &o->reply) != 0) {
        outbox_clear(o);
        return -1;
    }
    return 0;
}

int
store_outbox_add(struct store *st, const char *recipient, const char *sender,
                 const char *message_id, const char *headers, const char *body, time_t now,
                 int64_t *id_out)
{
    char what[320];
    snprintf(what, sizeof what, "queueing mail %s for %s", message_id ? message_id : "(no id)",
             recipient ? recipient : "(nobody)");
    /* A plain INSERT and the connection's last row id: RETURNING costs an ephemeral table. */
    if (store_i_run(st, what,
                    "INSERT INTO outbox (recipient, sender, message_id, headers, body, status,"
                    " attempts, created, next_attempt)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?6)",
                    "sssssi", recipient, sender, message_id, headers, body, (int64_t)now) < 0)
        return -1;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(st->db);
    return 0;
}

int
store_outbox_queue(struct store *st, const struct store_outbox_new *m, int64_t *id_out)
{
    char what[320];
    store_i_what(what, sizeof what, "queueing mail ", m->message_id ? m->message_id : "(no id)",
                 " for ", m->recipient ? m->recipient : "(nobody)", NULL);
    /* One statement where a queued answer took four (an INSERT and three UPDATEs of its row). */
    if (store_i_run(st, what,
                    "INSERT INTO outbox (recipient, sender, message_id, headers, body, status,"
                    " attempts, created, next_attempt, kind, ref, verp, stranger, template)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?6, ?7, ?8, ?9, ?10, ?11)",
                    "sssssisssis", m->recipient, m->sender, m->message_id, m->headers, m->body,
                    (int64_t)m->at, m->kind, m->ref, m->verp, (int64_t)m->stranger,
                    m->template_name) < 0)
        return -1;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(st->db);
    return 0;
}

/* Append the current row to a growing array. */
static int
outbox_push(sqlite3_stmt *stmt, struct store_outbox **items, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct store_outbox *grown = realloc(*items, ncap * sizeof *grown);
        if (!grown)
            return -1;
        *items = grown;
        *cap = ncap;
    }
    if (outbox_fill(stmt, &(*items)[*n]) != 0)
        return -1;
    (*n)++;
    return 0;
}

int
store_outbox_due(struct store *st, time_t now, int limit, struct store_outbox **items, size_t *n)
{
    const char *what = "reading due outbox mail";
    *items = NULL;
    *n = 0;
    /*
     * A negative LIMIT means no limit in SQLite, which is what limit <= 0 asks for.
     * In the order of the outbox_due index (status, next_attempt, id): the query
     * stops after limit rows.  ORDER BY created read and sorted every queued row,
     * headers and bodies included, for each chunk of a drain.
     */
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT " OUTBOX_COLUMNS " FROM outbox"
                                         " WHERE status = 'queued' AND next_attempt <= ?1"
                                         " ORDER BY next_attempt, id LIMIT ?2",
                                         "ii", (int64_t)now, (int64_t)(limit > 0 ? limit : -1));
    if (!stmt)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        if (outbox_push(stmt, items, n, &cap) != 0) {
            rc = store_i_set_err(st, "%s: out of memory", what);
            break;
        }
    }
    store_i_finish(st, stmt);
    if (rc < 0) {
        store_outbox_free(*items, *n);
        *items = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

void
store_outbox_free(struct store_outbox *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        outbox_clear(&items[i]);
    free(items);
}

/* An update of one outbox row by id; a missing or already finished row is an error. */
static int
outbox_update(struct store *st, const char *verb, int64_t id, const char *sql, int64_t t,
              const char *text)
{
    char what[96];
    snprintf(what, sizeof what, "marking outbox mail %lld %s", (long long)id, verb);
    int changed = store_i_run(st, what, sql, "iis", id, t, text);
    if (changed < 0)
        return -1;
    if (changed == 0)
        return store_i_set_err(st, "%s: no queued mail with that id", what);
    return 0;
}

/*
 * The farewell to a member who left is the last trace of their address: once
 * it is sent (or given up), its recipient, headers and body are blanked.
 */
static int
outbox_erase_if_asked(struct store *st, int64_t id)
{
    return store_i_run(st, "erasing a farewell mail",
                       "UPDATE outbox SET recipient = '', headers = '', body = '', reply = NULL,"
                       " last_error = NULL WHERE id = ?1 AND erase_after = 1",
                       "i", (int64_t)id) < 0
               ? -1
               : 0;
}

int
store_outbox_sent(struct store *st, int64_t id, time_t now, const char *reply)
{
    /* The server's reply is kept apart from last_error, which keeps the last deferral. */
    if (outbox_update(st, "sent", id,
                      "UPDATE outbox SET status = 'sent', sent_at = ?2, reply = ?3"
                      " WHERE id = ?1 AND status = 'queued'",
                      (int64_t)now, reply) != 0)
        return -1;
    return outbox_erase_if_asked(st, id);
}

/*
 * A group of sent outcomes, SENT_PER_STMT per statement: the mails' ids are
 * bound as ?2, ?4, ... and each one's reply after it (?3, ?5, ...), which
 * the CASE picks by id.  A shorter group leaves the rest NULL (store_i_finish
 * clears the bindings), which matches no row, so one cached statement serves
 * every size.  The "+" keeps the planner on the rowids: without statistics
 * it took the outbox_due index for status = 'queued' and read every queued
 * row.  (Plain SQL, no UPDATE ... FROM, which needs SQLite 3.33.)
 */
#define SENT_PER_STMT 32
static const char SENT_SQL[] =
    "UPDATE outbox SET status = 'sent', sent_at = ?1, reply = CASE id WHEN ?2 "
    "THEN ?3 WHEN ?4 THEN ?5 WHEN ?6 THEN ?7 WHEN ?8 THEN ?9 WHEN ?10 THEN ?11 "
    "WHEN ?12 THEN ?13 WHEN ?14 THEN ?15 WHEN ?16 THEN ?17 WHEN ?18 THEN ?19 WHEN "
    "?20 THEN ?21 WHEN ?22 THEN ?23 WHEN ?24 THEN ?25 WHEN ?26 THEN ?27 WHEN ?28 "
    "THEN ?29 WHEN ?30 THEN ?31 WHEN ?32 THEN ?33 WHEN ?34 THEN ?35 WHEN ?36 THEN "
    "?37 WHEN ?38 THEN ?39 WHEN ?40 THEN ?41 WHEN ?42 THEN ?43 WHEN ?44 THEN ?45 "
    "WHEN ?46 THEN ?47 WHEN ?48 THEN ?49 WHEN ?50 THEN ?51 WHEN ?52 THEN ?53 WHEN "
    "?54 THEN ?55 WHEN ?56 THEN ?57 WHEN ?58 THEN ?59 WHEN ?60 THEN ?61 WHEN ?62 "
    "THEN ?63 WHEN ?64 THEN ?65 END WHERE id IN (?2, ?4, ?6, ?8, ?10, ?12, ?14, "
    "?16, ?18, ?20, ?22, ?24, ?26, ?28, ?30, ?32, ?34, ?36, ?38, ?40, ?42, ?44, "
    "?46, ?48, ?50, ?52, ?54, ?56, ?58, ?60, ?62, ?64) AND +status = 'queued'";
/* As outbox_erase_if_asked, for the whole group: usually no farewell among them. */
static const char SENT_ERASE_SQL[] =
    "UPDATE outbox SET recipient = '', headers = '', body = '', reply = NULL, "
    "last_error = NULL WHERE erase_after = 1 AND id IN (?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/* Bind the k (<= SENT_PER_STMT) marks from parameter first on, ids only or ids and replies. */
static int
bind_marks(struct store *st, sqlite3_stmt *stmt, const char *what, int first,
           const struct store_outbox_mark *m, size_t k, int with_reply)
{
    for (size_t j = 0; j < k; j++) {
        int p = first + (int)j * (with_reply ? 2 : 1);
        int rc = sqlite3_bind_int64(stmt, p, m[j].id);
        if (rc == SQLITE_OK && with_reply)
            rc = sqlite3_bind_text(stmt, p + 1, m[j].reply, -1, SQLITE_STATIC);
        if (rc != SQLITE_OK)
            return store_i_db_err(st, what);
    }
    return 0;
}

/* Run a bound statement of the group: the rows it changed, or -1. */
static int
run_marks(struct store *st, sqlite3_stmt *stmt, const char *what)
{
    int rc = store_i_step(st, stmt, what);
    int changed = rc < 0 ? -1 : sqlite3_changes(st->db);
    store_i_finish(st, stmt);
    return changed;
}

static int
sent_group(struct store *st, const struct store_outbox_mark *m, size_t k, time_t now)
{
    char what[128];
    snprintf(what, sizeof what, "marking %zu outbox mails sent (ids %lld to %lld)", k,
             (long long)m[0].id, (long long)m[k - 1].id);
    sqlite3_stmt *stmt = store_i_prepare(st, what, SENT_SQL, "i", (int64_t)now);
    if (stmt == NULL || bind_marks(st, stmt, what, 2, m, k, 1) != 0) {
        store_i_finish(st, stmt);
        return -1;
    }
    int changed = run_marks(st, stmt, what);
    if (changed < 0)
        return -1;
    if ((size_t)changed != k)
        return store_i_set_err(st, "%s: %zu of them are no longer queued", what,
                               k - (size_t)changed);
    stmt = store_i_prepare(st, what, SENT_ERASE_SQL, "");
    if (stmt == NULL || bind_marks(st, stmt, what, 1, m, k, 0) != 0) {
        store_i_finish(st, stmt);
        return -1;
    }
    return run_marks(st, stmt, what) < 0 ? -1 : 0;
}

int
store_outbox_sent_all(struct store *st, const struct store_outbox_mark *marks, size_t n, time_t now)
{
    for (size_t i = 0; i < n; i += SENT_PER_STMT) {
        size_t k = n - i < SENT_PER_STMT ? n - i : SENT_PER_STMT;
        if (sent_group(st, marks + i, k, now) != 0)
            return -1;
    }
    return 0;
}

int
store_outbox_defer(struct store *st, int64_t id, time_t next_attempt, const char *error)
{
    return outbox_update(st, "deferred", id,
                         "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?2,"
                         " last_error = ?3 WHERE id = ?1 AND status = 'queued'",
                         (int64_t)next_attempt, error);
}

int
store_outbox_fail(struct store *st, int64_t id, time_t now, const char *error)
{
    if (outbox_update(st, "failed", id,
                      "UPDATE outbox SET status = 'failed', attempts = attempts + 1,"
                      " failed_at = ?2, last_error = ?3 WHERE id = ?1 AND status = 'queued'",
                      (int64_t)now, error) != 0)
        return -1;
    return outbox_erase_if_asked(st, id);
}

int
store_outbox_count(struct store *st, const char *status)
{
    return store_i_query_count(st, "counting outbox mail",
                               "SELECT count(*) FROM outbox WHERE ?1 IS NULL OR status = ?1", "s",
                               status, NULL);
}

time_t
store_outbox_next_due(struct store *st)
{
    int64_t t = 0;
    /* min() over no rows is one NULL row, which reads as 0: "nothing queued". */
    if (store_i_query_int(st, &t, "finding the next outbox attempt",
                          "SELECT min(next_attempt) FROM outbox WHERE status = 'queued'", "") < 0)
        return (time_t)-1;
    return (time_t)t;
}

int
store_outbox_each(struct store *st, const char *status,
                  int (*fn)(const struct store_outbox *, void *), void *arg)
{
    const char *what = "listing outbox mail";
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT " OUTBOX_COLUMNS " FROM outbox"
                                         " WHERE ?1 IS NULL OR status = ?1 ORDER BY id",
                                         "s", status);
    if (!stmt)
        return -1;
    int rc;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        struct store_outbox o;
        if (outbox_fill(stmt, &o) != 0) {
            rc = store_i_set_err(st, "%s: out of memory", what);
            break;
        }
        rc = fn(&o, arg);
        outbox_clear(&o);
        if (rc != 0)
            break;
    }
    store_i_finish(st, stmt);
    return rc;
}

/* ---- outbox threading and the reply budget ---- */

int
store_outbox_tag(struct store *st, int64_t id, const char *kind, const char *ref)
{
    char what[96];
    snprintf(what, sizeof what, "tagging outbox mail %lld", (long long)id);
    int rc = store_i_run(st, what, "UPDATE outbox SET kind = ?1, ref = ?2 WHERE id = ?3", "ssi",
                         kind, ref, (int64_t)id);
    if (rc == 0)
        return store_i_set_err(st, "%s: no such mail", what);
    return rc < 0 ? -1 : 0;
}

int
store_outbox_set_template(struct store *st, int64_t id, const char *name)
{
    return store_i_run(st, "noting an outbox mail's template",
                       "UPDATE outbox SET template = ?1 WHERE id = ?2", "si", name, (int64_t)id) < 0
               ? -1
               : 0;
}

int
store_outbox_withdraw(struct store *st, const char *recipient, const char *name)
{
    return store_i_run(st, "withdrawing a queued mail",
                       "DELETE FROM outbox WHERE recipient = ?1 COLLATE NOCASE AND template = ?2"
                       " AND status = 'queued' AND attempts = 0",
                       "ss", recipient, name);
}

int
store_outbox_template_of(struct store *st, const char *message_id, char *name, size_t len)
{
    return store_i_query_text(st, name, len, "looking up the template of our mail",
                              "SELECT coalesce(template, '') FROM outbox WHERE message_id = ?1",
                              "s", message_id);
}

int
store_outbox_template_by_ref(struct store *st, const char *recipient, const char *ref, char *name,
                             size_t len)
{
    return store_i_query_text(st, name, len, "looking up the template of our mail by its ref",
                              "SELECT coalesce(template, '') FROM outbox WHERE recipient = ?1"
                              " COLLATE NOCASE AND ref = ?2 ORDER BY id DESC LIMIT 1",
                              "ss", recipient, ref);
}

int
store_outbox_thread(struct store *st, const char *recipient, const char *const *templates,
                    char **ids)
{
    const char *what = "finding the thread of a mail";
    char *buf = NULL;
    size_t len = 0;
    int rc = 0;
    FILE *f = open_memstream(&buf, &len);

    *ids = NULL;
    if (f == NULL)
        return store_i_set_err(st, "%s: out of memory", what);
    for (size_t t = 0; rc >= 0 && templates[t]; t++) {
        sqlite3_stmt *stmt = store_i_prepare(
            st, what,
            "SELECT message_id FROM outbox WHERE recipient = ?1 COLLATE NOCASE"
            " AND template = ?2 AND message_id IS NOT NULL ORDER BY id DESC LIMIT 1",
            "ss", recipient, templates[t]);
        if (!stmt) {
            rc = -1;
            break;
        }
        if ((rc = store_i_step(st, stmt, what)) == 1)
            fprintf(f, "%s%s", ftell(f) > 0 ? " " : "", (const char *)sqlite3_column_text(stmt, 0));
        store_i_finish(st, stmt);
    }
    if (fclose(f) != 0 || rc < 0) {
        free(buf);
        return rc < 0 ? -1 : store_i_set_err(st, "%s: out of memory", what);
    }
    if (buf[0] == '\0')
        free(buf);
    else
        *ids = buf;
    return 0;
}

int
store_outbox_lookup(struct store *st, const char *message_id, char *recipient, size_t rlen,
                    char *ref, size_t ref_len)
{
    char what[320];
    snprintf(what, sizeof what, "looking up our mail %s", message_id);
    sqlite3_stmt *stmt = store_i_prepare(
        st, what, "SELECT recipient, coalesce(ref, '') FROM outbox WHERE message_id = ?1", "s",
        message_id);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1) {
        if (recipient)
            snprintf(recipient, rlen, "%s", (const char *)sqlite3_column_text(stmt, 0));
        if (ref)
            snprintf(ref, ref_len, "%s", (const char *)sqlite3_column_text(stmt, 1));
    }
    store_i_finish(st, stmt);
    return rc;
}

int
store_outbox_recent(struct store *st, const char *recipient, const char *kind, time_t since)
{
    int64_t n = 0;
    if (store_i_query_int(st, &n, "counting recent mail to one address",
                          "SELECT count(*) FROM outbox WHERE recipient = ?1 COLLATE NOCASE"
                          " AND kind = ?2 AND created >= ?3",
                          "ssi", recipient, kind, (int64_t)since) < 0)
        return -1;
    return (int)n;
}

int
store_outbox_answers(struct store *st, const char *recipient, time_t day_since, time_t hour_since,
                     int *in_day, int *in_hour)
{
    int64_t d = 0, h = 0;
    /*
     * Both windows in one pass over the recipient's rows of outbox_recipient
     * (a few: the budget caps them).  "+kind" keeps the kinds out of the index
     * search: as an index term the IN list costs an ephemeral table per run,
     * more than the four counts this statement replaces.
     */
    if (store_i_query_int2(st, &d, &h, "counting recent answers to one address",
                           "SELECT count(*), coalesce(sum(created >= ?3), 0) FROM outbox"
                           " WHERE recipient = ?1 COLLATE NOCASE AND +kind IN ('reply', 'confirm')"
                           " AND created >= ?2",
                           "sii", recipient, (int64_t)day_since, (int64_t)hour_since) < 0)
        return -1;
    *in_day = (int)d;
    *in_hour = (int)h;
    return 0;
}

int
store_outbox_erase_after(struct store *st, int64_t id)
{
    int rc = store_i_run(st, "marking a farewell mail for erasure",
                         "UPDATE outbox SET erase_after = 1 WHERE id = ?1", "i", (int64_t)id);
    if (rc == 0)
        return store_i_set_err(st, "marking outbox mail %lld for erasure: no such mail",
                               (long long)id);
    return rc < 0 ? -1 : 0;
}
