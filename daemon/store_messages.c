/*
 * store_messages: what came in and what came of it.  The mailboxes' progress
 * (UIDVALIDITY, last UID), the processed-message record that makes every
 * mail count once, and the event log.  Tables: mailboxes, messages, events.
 */
#include "store.h"
#include "store_int.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- mailboxes ---- */

int
store_mailbox_get(struct store *st, const char *mailbox, uint32_t *uidvalidity, uint32_t *last_uid)
{
    char what[160];
    snprintf(what, sizeof what, "reading progress of mailbox %s", mailbox);
    sqlite3_stmt *stmt = store_i_prepare(
        st, what, "SELECT uidvalidity, last_uid FROM mailboxes WHERE name = ?1", "s", mailbox);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    *uidvalidity = rc == 1 ? (uint32_t)sqlite3_column_int64(stmt, 0) : 0;
    *last_uid = rc == 1 ? (uint32_t)sqlite3_column_int64(stmt, 1) : 0;
    store_i_finish(st, stmt);
    return rc < 0 ? -1 : 0;
}

int
store_mailbox_set(struct store *st, const char *mailbox, uint32_t uidvalidity, uint32_t last_uid)
{
    char what[160];
    snprintf(what, sizeof what, "saving progress of mailbox %s", mailbox);
    return store_i_run(st, what,
                       "INSERT INTO mailboxes (name, uidvalidity, last_uid, updated)"
                       " VALUES (?1, ?2, ?3, strftime('%s', 'now'))"
                       " ON CONFLICT (name) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
                       " last_uid = excluded.last_uid, updated = excluded.updated",
                       "sii", mailbox, (int64_t)uidvalidity, (int64_t)last_uid) < 0
               ? -1
               : 0;
}

/* ---- processed messages ---- */

int
store_message_seen(struct store *st, const char *message_id, const char *hash, char *outcome,
                   size_t outcome_len)
{
    const char *what = "checking for an already processed message";
    /*
     * The first such row by id, from two index probes: written as one OR,
     * SQLite ran both probes into a row set and sorted in a temporary
     * B-tree, for every mail (35k instructions, mostly zeroing those).  The
     * aggregate always gives one row; min(id) is NULL when none matched.
     */
    sqlite3_stmt *stmt = store_i_prepare(
        st, what,
        "SELECT outcome, min(id) FROM ("
        "SELECT id, outcome FROM messages WHERE hash = ?1 AND outcome NOT IN ('retry', 'retried')"
        " UNION ALL SELECT id, outcome FROM messages WHERE message_id = ?2 AND ?2 <> ''"
        " AND outcome NOT IN ('retry', 'retried'))",
        "ss", hash, message_id);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1 && sqlite3_column_type(stmt, 1) == SQLITE_NULL)
        rc = 0;
    if (rc == 1 && outcome && outcome_len > 0) {
        const unsigned char *text = sqlite3_column_text(stmt, 0);
        snprintf(outcome, outcome_len, "%s", text ? (const char *)text : "");
    }
    store_i_finish(st, stmt);
    return rc;
}

int
store_message_uid_done(struct store *st, const char *mailbox, uint32_t uidvalidity, uint32_t uid)
{
    int64_t one = 0;
    char what[160];
    snprintf(what, sizeof what, "checking %s uid %u/%u", mailbox, (unsigned)uidvalidity,
             (unsigned)uid);
    return store_i_query_int(st, &one, what,
                             "SELECT 1 FROM messages WHERE mailbox = ?1 AND uidvalidity = ?2"
                             " AND uid = ?3 AND outcome NOT IN ('retry', 'retried')",
                             "sii", mailbox, (int64_t)uidvalidity, (int64_t)uid);
}

static void
message_what(char *buf, size_t len, const char *verb, const struct store_message *m)
{
    char v[11], u[11];
    store_i_what(buf, len, verb, " message ", m->mailbox ? m->mailbox : "(null)", " uid ",
                 store_i_uint(v, (unsigned)m->uidvalidity), "/", store_i_uint(u, (unsigned)m->uid),
                 " (Message-ID ", m->message_id ? m->message_id : "none", ")", NULL);
}

int
store_message_record(struct store *st, const struct store_message *m, time_t now)
{
    char what[320];
    message_what(what, sizeof what, "recording", m);
    if (!m->outcome)
        return store_i_set_err(st, "%s: no outcome given", what);
    /* A row left by store_message_attempt() becomes final; its attempt count stays. */
    return store_i_run(st, what,
                       "INSERT INTO messages (mailbox, uidvalidity, uid, message_id, hash, sender,"
                       " outcome, detail, received, processed)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
                       " ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET"
                       " message_id = excluded.message_id, hash = excluded.hash,"
                       " sender = excluded.sender, outcome = excluded.outcome,"
                       " detail = excluded.detail, processed = excluded.processed",
                       "siisssssi", m->mailbox, (int64_t)m->uidvalidity, (int64_t)m->uid,
                       m->message_id, m->hash, m->sender, m->outcome, m->detail, (int64_t)now) < 0
               ? -1
               : 0;
}

int
store_message_attempt(struct store *st, const struct store_message *m, time_t now)
{
    char what[320];
    message_what(what, sizeof what, "counting a failed attempt at", m);
    /* A final outcome is never turned back into a retry; its count is left alone. */
    if (store_i_run(
            st, what,
            "INSERT INTO messages (mailbox, uidvalidity, uid, message_id, hash, sender,"
            " outcome, detail, attempts, received)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'retry', ?7, 1, ?8)"
            " ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET"
            " attempts = attempts + 1, detail = excluded.detail,"
            " message_id = coalesce(excluded.message_id, message_id),"
            " hash = coalesce(excluded.hash, hash), sender = coalesce(excluded.sender, sender)"
            " WHERE outcome = 'retry'",
            "siissssi", m->mailbox, (int64_t)m->uidvalidity, (int64_t)m->uid, m->message_id,
            m->hash, m->sender, m->detail, (int64_t)now) < 0)
        return -1;
    int64_t attempts = 0;
    int rc =
        store_i_query_int(st, &attempts, what,
                          "SELECT attempts FROM messages WHERE mailbox = ?1 AND uidvalidity = ?2"
                          " AND uid = ?3",
                          "sii", m->mailbox, (int64_t)m->uidvalidity, (int64_t)m->uid);
    if (rc == 0)
        return store_i_set_err(st, "%s: row vanished", what);
    return rc < 0 ? -1 : (int)attempts;
}

int
store_message_retried(struct store *st, int64_t id)
{
    return store_i_run(
        st, "putting a failed message back",
        "UPDATE messages SET outcome = 'retried' WHERE id = ?1 AND outcome = 'failed'", "i", id);
}

int
store_message_count(struct store *st, const char *outcome)
{
    return store_i_query_count(st, "counting messages",
                               "SELECT count(*) FROM messages WHERE ?1 IS NULL OR outcome = ?1",
                               "s", outcome, NULL);
}

/* ---- event log ---- */

int
store_event_add(struct store *st, time_t now, const char *kind, const char *member,
                const char *message_id, const char *detail)
{
    char what[160];
    store_i_what(what, sizeof what, "logging event ", kind ? kind : "(none)", NULL);
    return store_i_run(st, what,
                       "INSERT INTO events (at, kind, member, message_id, detail)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
                       "issss", (int64_t)now, kind, member, message_id, detail) < 0
               ? -1
               : 0;
}

int
store_event_count(struct store *st, const char *kind)
{
    return store_i_query_count(st, "counting events",
                               "SELECT count(*) FROM events WHERE ?1 IS NULL OR kind = ?1", "s",
                               kind, NULL);
}
