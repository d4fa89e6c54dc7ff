/*
 * store: the core of the store module.  The SQLite connection, the schema's
 * numbered migrations, transactions and savepoints, and the statement helpers
 * (store_int.h) every store_*.c file builds on.  The tables' queries live in
 * the files of their family (store_members.c, store_outbox.c, ...).
 *
 * Every public function of the store is a thin shell around one or two
 * prepared statements; the helpers here (prepare+bind, run, query one
 * integer) keep the error handling in one place so each caller only states
 * its SQL and context.
 */
#include "store.h"
#include "store_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/*
 * The schema, as numbered migrations: migrations[i] takes a database from
 * user_version i to i + 1.  Never edit a released entry; append a new one and
 * bump STORE_SCHEMA_VERSION so existing databases upgrade in place.
 */
static const char *const migrations[] = {
    /* 1: the initial schema */
    "CREATE TABLE members ("
    " id INTEGER PRIMARY KEY,"
    " address TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " name TEXT,"
    " role TEXT NOT NULL CHECK (role IN ('newcomer', 'mentor', 'manager')),"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'paused', 'left')),"
    " profile TEXT,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL);"
    "CREATE TABLE mailboxes ("
    " name TEXT PRIMARY KEY,"
    " uidvalidity INTEGER NOT NULL DEFAULT 0,"
    " last_uid INTEGER NOT NULL DEFAULT 0,"
    " updated INTEGER);"
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY,"
    " mailbox TEXT NOT NULL,"
    " uidvalidity INTEGER NOT NULL,"
    " uid INTEGER NOT NULL,"
    " message_id TEXT,"
    " hash TEXT,"
    " sender TEXT,"
    " outcome TEXT NOT NULL,"
    " detail TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " received INTEGER,"
    " processed INTEGER,"
    " UNIQUE (mailbox, uidvalidity, uid));"
    "CREATE INDEX messages_message_id ON messages (message_id);"
    "CREATE INDEX messages_hash ON messages (hash);"
    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY,"
    " recipient TEXT NOT NULL,"
    " sender TEXT,"
    " message_id TEXT UNIQUE,"
    " headers TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL,"
    " next_attempt INTEGER NOT NULL,"
    " last_error TEXT,"
    " reply TEXT,"
    " sent_at INTEGER,"
    " failed_at INTEGER);"
    "CREATE INDEX outbox_due ON outbox (status, next_attempt);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " at INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " member TEXT,"
    " message_id TEXT,"
    " detail TEXT);"
    "CREATE INDEX events_kind ON events (kind);",

    /*
     * 2: confirmations (double opt-in), threading of replies to our own mail,
     * bounce scoring, out-of-office pauses and the per-sender reply budget.
     */
    "CREATE TABLE tokens ("
    " token TEXT PRIMARY KEY,"
    " address TEXT NOT NULL COLLATE NOCASE,"
    " action TEXT NOT NULL,"
    " name TEXT,"
    " created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL,"
    " closed INTEGER,"
    " outcome TEXT);"
    "CREATE INDEX tokens_address ON tokens (address);"
    "ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';"
    "ALTER TABLE outbox ADD COLUMN ref TEXT;"
    "CREATE INDEX outbox_recipient ON outbox (recipient COLLATE NOCASE, kind, created);"
    "ALTER TABLE members ADD COLUMN bounce_score REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE members ADD COLUMN last_bounce INTEGER;"
    "ALTER TABLE members ADD COLUMN undeliverable INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE members ADD COLUMN away_until INTEGER;"
    "ALTER TABLE members ADD COLUMN pause_until INTEGER;"
    "ALTER TABLE outbox ADD COLUMN erase_after INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE bounces ("
    " id INTEGER PRIMARY KEY,"
    " at INTEGER NOT NULL,"
    " address TEXT NOT NULL COLLATE NOCASE,"
    " severity TEXT NOT NULL,"
    " status TEXT,"
    " diagnostic TEXT,"
    " score REAL NOT NULL DEFAULT 0);"
    "CREATE INDEX bounces_address ON bounces (address, at);",

    /*
     * 3: the running programme.  A pair is a newcomer with a mentor, from the
     * proposal to its end; member references become NULL when a member is
     * erased, so the anonymous counts stay.  The schedule holds due events,
     * each done exactly once; feedback holds check-in answers.
     */
    "CREATE TABLE pairs ("
    " id INTEGER PRIMARY KEY,"
    " newcomer INTEGER REFERENCES members (id) ON DELETE SET NULL,"
    " mentor INTEGER REFERENCES members (id) ON DELETE SET NULL,"
    " state TEXT NOT NULL CHECK (state IN ('proposed', 'active', 'declined', 'expired',"
    " 'ended')),"
    " score INTEGER NOT NULL DEFAULT 0,"
    " reasons TEXT,"
    " ref TEXT UNIQUE,"
    " created INTEGER NOT NULL,"
    " started INTEGER,"
    " ends INTEGER,"
    " ended INTEGER,"
    " end_reason TEXT);"
    "CREATE INDEX pairs_newcomer ON pairs (newcomer, state);"
    "CREATE INDEX pairs_mentor ON pairs (mentor, state);"
    "CREATE TABLE blocks ("
    " a INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,"
    " b INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,"
    " reason TEXT,"
    " created INTEGER NOT NULL,"
    " PRIMARY KEY (a, b));"
    "CREATE TABLE schedule ("
    " id INTEGER PRIMARY KEY,"
    " due INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " member INTEGER REFERENCES members (id) ON DELETE CASCADE,"
    " pair INTEGER REFERENCES pairs (id) ON DELETE CASCADE,"
    " arg TEXT,"
    " created INTEGER NOT NULL,"
    " done INTEGER,"
    " outcome TEXT);"
    "CREATE INDEX schedule_due ON schedule (done, due);"
    "CREATE TABLE feedback ("
    " id INTEGER PRIMARY KEY,"
    " pair INTEGER REFERENCES pairs (id) ON DELETE SET NULL,"
    " member INTEGER REFERENCES members (id) ON DELETE SET NULL,"
    " role TEXT,"
    " at INTEGER NOT NULL,"
    " rating INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),"
    " met INTEGER,"
    " comment TEXT,"
    " checkin TEXT);"
    "CREATE INDEX feedback_pair ON feedback (pair);"
    "ALTER TABLE members ADD COLUMN waiting_since INTEGER;"
    "ALTER TABLE members ADD COLUMN last_break INTEGER;"
    "ALTER TABLE members ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE members ADD COLUMN last_reminder INTEGER;",

    /* 4: circles: the pairs of one mentor's cohort (or a peer circle) share a circle id. */
    "ALTER TABLE pairs ADD COLUMN circle INTEGER;"
    "CREATE INDEX pairs_circle ON pairs (circle);",

    /*
     * 5: the inbox messages being decided right now, and by which process
     * (store_inbox.c): a row found from a process that is gone means that
     * process died on it.
     */
    "CREATE TABLE inbox_inflight ("
    " mailbox TEXT NOT NULL,"
    " uidvalidity INTEGER NOT NULL,"
    " uid INTEGER NOT NULL,"
    " session INTEGER NOT NULL,"
    " deaths INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (mailbox, uidvalidity, uid)) WITHOUT ROWID;",

    /*
     * 6: the language a member asked for ("write to me in Spanish", a
     * "Language:" line) and the one their own mails were last written in.
     */
    "ALTER TABLE members ADD COLUMN language TEXT;"
    "ALTER TABLE members ADD COLUMN language_seen TEXT;",
    /*
     * 7: proof of the sender (store_trust.c).  refs: the [ref] each recipient
     * sees for a conversation, unique to that recipient, so a partner's ref
     * proves nothing for the other.  pending: a change asked for by mail that
     * proved nothing, waiting for the reply to its confirmation (its token).
     * outbox.verp: the tag of the per-message envelope sender, so a bounce
     * names the mail it is about; outbox.stranger: mail to an address that
     * has confirmed nothing, which a global cap holds back.
     */
    "CREATE TABLE refs ("
    " ref TEXT PRIMARY KEY,"
    " address TEXT NOT NULL COLLATE NOCASE,"
    " conversation TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " UNIQUE (address, conversation));"
    "CREATE TABLE pending ("
    " token TEXT PRIMARY KEY,"
    " address TEXT NOT NULL COLLATE NOCASE,"
    " kind INTEGER NOT NULL,"
    " number INTEGER NOT NULL DEFAULT -1,"
    " text TEXT,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX pending_address ON pending (address);"
    "ALTER TABLE outbox ADD COLUMN verp TEXT;"
    "CREATE INDEX outbox_verp ON outbox (verp);"
    "ALTER TABLE outbox ADD COLUMN stranger INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX outbox_stranger ON outbox (stranger, next_attempt);",
    /*
     * 8: the digests as they were sent (mentorctl digest --preview last shows
     * one from here, not a new computation), the manager alerts of a run
     * waiting to go out together in one mail (lifecycle.c), and each outgoing
     * mail's template (threading, and telling an answer to an introduction).
     */
    "CREATE TABLE digests ("
    " key TEXT PRIMARY KEY,"
    " sent INTEGER NOT NULL,"
    " subject TEXT NOT NULL,"
    " text TEXT NOT NULL,"
    " html TEXT NOT NULL);"
    "CREATE TABLE manager_alerts ("
    " id INTEGER PRIMARY KEY,"
    " at INTEGER NOT NULL,"
    " body TEXT NOT NULL,"
    " sent INTEGER);"
    "CREATE INDEX manager_alerts_unsent ON manager_alerts (sent);"
    /* The template a mail was made from: what an answer to it answers. */
    "ALTER TABLE outbox ADD COLUMN template TEXT;",
    /*
     * 9: mail to addresses that confirmed nothing, counted per hour of its
     * next_attempt and kept so by triggers in the same transaction as every
     * change to the outbox: the stranger cap (outbox.c) reads at most 24 rows
     * here, where it counted a day of such mail in outbox_stranger twice for
     * every mail it queued (about 200k instructions a join for 500 queued).
     */
    "CREATE TABLE stranger_hours ("
    " hour INTEGER PRIMARY KEY,"
    " n INTEGER NOT NULL);"
    "INSERT INTO stranger_hours (hour, n)"
    " SELECT next_attempt - next_attempt % 3600, count(*) FROM outbox WHERE stranger = 1"
    " GROUP BY 1;"
    "CREATE TRIGGER stranger_hours_insert AFTER INSERT ON outbox WHEN new.stranger = 1 BEGIN"
    " INSERT INTO stranger_hours (hour, n) VALUES (new.next_attempt - new.next_attempt % 3600, 1)"
    " ON CONFLICT (hour) DO UPDATE SET n = n + 1;"
    " END;"
    "CREATE TRIGGER stranger_hours_delete AFTER DELETE ON outbox WHEN old.stranger = 1 BEGIN"
    " UPDATE stranger_hours SET n = n - 1 WHERE hour = old.next_attempt - old.next_attempt % 3600;"
    " END;"
    "CREATE TRIGGER stranger_hours_update AFTER UPDATE OF stranger, next_attempt ON outbox"
    " WHEN old.stranger = 1 OR new.stranger = 1 BEGIN"
    " UPDATE stranger_hours SET n = n - 1"
    "  WHERE old.stranger = 1 AND hour = old.next_attempt - old.next_attempt % 3600;"
    " INSERT INTO stranger_hours (hour, n)"
    "  SELECT new.next_attempt - new.next_attempt % 3600, 1 WHERE new.stranger = 1"
    "  ON CONFLICT (hour) DO UPDATE SET n = n + 1;"
    " END;",
    /*
     * 10: the same CHECK rules without IN lists of more than two values, and
     * no outbox_stranger index.  SQLite tests `x IN ('a', 'b', 'c')` by
     * building an ephemeral B-tree of the list each time a statement runs (a
     * page cache of its own, allocated, zeroed and freed): a newcomer's member
     * upsert built two, every outbox INSERT one, and each cost about 12k
     * instructions and several page faults.  An OR of comparisons is the same
     * rule (NULL passes both, the column's BINARY collation in both).  The
     * tables are not rebuilt: members is the parent of four foreign keys with
     * ON DELETE actions, which a migration's transaction cannot turn off.
     * Only the constraints' text in sqlite_master changes, the procedure
     * SQLite documents for changes that leave the stored rows as they are
     * (lang_altertable.html, "Making Other Kinds Of Table Schema Changes");
     * every row already satisfies the same rule.  RESET reloads this
     * connection's schema, and the DROP INDEX after it moves the schema
     * cookie, so every other connection reloads it too.  outbox_stranger
     * (stranger, next_attempt) has been written by every outbox INSERT and
     * read by no query since migration 9 (the digest's count of held
     * strangers' mail finds them through outbox_due).
     */
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_master SET sql = replace(replace(sql,"
    " 'CHECK (role IN (''newcomer'', ''mentor'', ''manager''))',"
    " 'CHECK (role = ''newcomer'' OR role = ''mentor'' OR role = ''manager'')'),"
    " 'CHECK (state IN (''pending'', ''active'', ''paused'', ''left''))',"
    " 'CHECK (state = ''pending'' OR state = ''active'' OR state = ''paused'''"
    " || ' OR state = ''left'')')"
    " WHERE type = 'table' AND name = 'members';"
    "UPDATE sqlite_master SET sql = replace(sql,"
    " 'CHECK (status IN (''queued'', ''sent'', ''failed''))',"
    " 'CHECK (status = ''queued'' OR status = ''sent'' OR status = ''failed'')')"
    " WHERE type = 'table' AND name = 'outbox';"
    "UPDATE sqlite_master SET sql = replace(sql,"
    " 'CHECK (state IN (''proposed'', ''active'', ''declined'', ''expired'', ''ended''))',"
    " 'CHECK (state = ''proposed'' OR state = ''active'' OR state = ''declined'''"
    " || ' OR state = ''expired'' OR state = ''ended'')')"
    " WHERE type = 'table' AND name = 'pairs';"
    "PRAGMA writable_schema = RESET;"
    "DROP INDEX IF EXISTS outbox_stranger;",
    /*
     * 11: the open confirmation of an address (store_token_open_for, looked
     * up for every mail a stranger sends) is found newest first in an index
     * on (address, created), not sorted: with tokens_address alone SQLite
     * built a temporary B-tree for the ORDER BY created DESC at every lookup
     * (about 10k instructions).  The new index serves every lookup by
     * address as well, so tokens_address goes: one index less to write at
     * each new token.
     */
    "CREATE INDEX IF NOT EXISTS tokens_open ON tokens (address, created);"
    "DROP INDEX IF EXISTS tokens_address;",
    /*
     * 12: outbox_verp as the one query on verp can use it, and only for the
     * rows that have one.  store_outbox_by_verp compares with COLLATE NOCASE
     * (a bounce may come back with its envelope tag's case changed), so the
     * BINARY index of migration 7 was never used: EXPLAIN QUERY PLAN showed
     * "SCAN outbox" for every bounce, while every outbox INSERT wrote an
     * entry, NULL without [programme] plus_addressing (the default): 5.5k
     * instructions a join (callgrind, 403.2k to 397.7k).  Partial: a mail
     * without a tag writes nothing to it; with NOCASE the bounce's lookup is
     * a search.
     */
    "DROP INDEX IF EXISTS outbox_verp;"
    "CREATE INDEX outbox_verp ON outbox (verp COLLATE NOCASE) WHERE verp IS NOT NULL;",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == STORE_SCHEMA_VERSION,
               "STORE_SCHEMA_VERSION must equal the number of migrations");

/* ---- error reporting ---- */

int
store_i_set_err(struct store *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof st->err, fmt, ap);
    va_end(ap);
    return -1;
}

int
store_i_db_err(struct store *st, const char *what)
{
    int rc = store_i_set_err(st, "%s: %s", what, sqlite3_errmsg(st->db));
    st->errcode = sqlite3_errcode(st->db) & 0xff;
    return rc;
}

int
store_error_is_environment(const struct store *st)
{
    switch (st != NULL ? st->errcode : 0) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
        return 1;
    default:
        return 0;
    }
}

void
store_i_what(char *out, size_t len, ...)
{
    va_list ap;
    size_t at = 0;
    const char *s;

    if (len == 0)
        return;
    va_start(ap, len);
    while ((s = va_arg(ap, const char *)) != NULL) {
        size_t n = strlen(s);
        if (n > len - 1 - at)
            n = len - 1 - at;
        memcpy(out + at, s, n);
        at += n;
    }
    va_end(ap);
    out[at] = '\0';
}

const char *
store_i_uint(char out[11], unsigned v)
{
    char *p = out + 10;

    *p = '\0';
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return p;
}

/* ---- statement helpers ---- */

/*
 * Bind parameters described by types: 's' is a const char * (NULL binds SQL
 * NULL), 'i' an int64_t.  Callers must cast integers to int64_t because the
 * values travel through varargs.
 */
static int
bind_args(struct store *st, sqlite3_stmt *stmt, const char *what, const char *types, va_list ap,
          sqlite3_destructor_type text)
{
    for (int i = 0; types[i] != '\0'; i++) {
        int rc;
        if (types[i] == 's') {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(stmt, i + 1, s, -1, text) : sqlite3_bind_null(stmt, i + 1);
        } else {
            rc = sqlite3_bind_int64(stmt, i + 1, va_arg(ap, int64_t));
        }
        if (rc != SQLITE_OK)
            return store_i_db_err(st, what);
    }
    return 0;
}

int
store_i_bind_args(struct store *st, sqlite3_stmt *stmt, const char *what, const char *types,
                  va_list ap)
{
    return bind_args(st, stmt, what, types, ap, SQLITE_TRANSIENT);
}

/* Callers pass literals, so the pointer is the key; its low bits are alignment. */
static size_t
cache_slot(const char *sql)
{
    uintptr_t h = (uintptr_t)sql;
    h ^= h >> 17;
    h *= (uintptr_t)0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 7) & (STORE_CACHE_SLOTS - 1);
}

/*
 * The slot holding sql's statement, or the free slot where it belongs; NULL
 * when it is not cached and the cache is full (it is then used once).
 */
static struct store_cached *
cache_find(struct store *st, const char *sql)
{
    size_t i = cache_slot(sql);
    for (;;) {
        struct store_cached *e = &st->cache[i];
        if (!e->stmt)
            return st->cached < STORE_CACHE_MAX ? e : NULL;
        /* The same pointer with other text: a buffer reused for another query. */
        if (e->sql == sql && strcmp(sqlite3_sql(e->stmt), sql) == 0)
            return e;
        i = (i + 1) & (STORE_CACHE_SLOTS - 1);
    }
}

/* A statement for sql, cached when it can be; NULL with the error set. */
static sqlite3_stmt *
lend(struct store *st, const char *what, const char *sql)
{
    if (st->nleases == STORE_LEASES_MAX) {
        store_i_set_err(st, "%s: %d statements already in use", what, STORE_LEASES_MAX);
        return NULL;
    }
    struct store_cached *e = cache_find(st, sql);
    sqlite3_stmt *stmt = e && !e->in_use ? e->stmt : NULL;
    if (!stmt) {
        int keep = e && !e->stmt;
        if (sqlite3_prepare_v3(st->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &stmt,
                               NULL) != SQLITE_OK) {
            store_i_db_err(st, what);
            sqlite3_finalize(stmt);
            return NULL;
        }
        if (!stmt) {
            store_i_set_err(st, "%s: empty statement", what);
            return NULL;
        }
        /* SQLite keeps the text up to the statement's end: with more after it, the
         * key would never match again and each use would take a new slot. */
        keep = keep && strcmp(sqlite3_sql(stmt), sql) == 0;
        if (keep) {
            e->sql = sql;
            e->stmt = stmt;
            st->cached++;
        } else {
            e = NULL; /* busy (nested use) or the cache is full: this one is used once */
        }
    }
    if (e)
        e->in_use = 1;
    st->leases[st->nleases++] = (struct store_lease){stmt, e};
    return stmt;
}

static sqlite3_stmt *
prepare_bound(struct store *st, const char *what, const char *sql, const char *types, va_list ap,
              sqlite3_destructor_type text)
{
    sqlite3_stmt *stmt = lend(st, what, sql);
    if (!stmt)
        return NULL;
    if (bind_args(st, stmt, what, types, ap, text) != 0) {
        store_i_finish(st, stmt);
        return NULL;
    }
    return stmt;
}

sqlite3_stmt *
store_i_prepare_v(struct store *st, const char *what, const char *sql, const char *types,
                  va_list ap)
{
    return prepare_bound(st, what, sql, types, ap, SQLITE_TRANSIENT);
}

/*
 * For a statement stepped and given back (store_i_finish: reset, bindings
 * cleared) before its caller returns, while the caller's strings live:
 * SQLite reads them in place instead of copying each (SQLITE_TRANSIENT
 * copied an outgoing mail's headers and body, and every address, once more).
 */
static sqlite3_stmt *
prepare_now(struct store *st, const char *what, const char *sql, const char *types, va_list ap)
{
    return prepare_bound(st, what, sql, types, ap, SQLITE_STATIC);
}

sqlite3_stmt *
store_i_prepare(struct store *st, const char *what, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *stmt = store_i_prepare_v(st, what, sql, types, ap);
    va_end(ap);
    return stmt;
}

/* One step: 1 for a row, 0 when done, -1 on error (message set). */
int
store_i_step(struct store *st, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return store_i_db_err(st, what);
}

/*
 * The newest lease is the usual one to come back, so the search starts there.
 * sqlite3_reset() and sqlite3_finalize() only repeat the error of the last
 * sqlite3_step(), which store_i_step() has already reported, so their results
 * carry no new information; the reset also ends the statement's read
 * transaction, as finalizing did.
 */
void
store_i_finish(struct store *st, sqlite3_stmt *stmt)
{
    if (!stmt)
        return;
    size_t i = st->nleases;
    while (i > 0 && st->leases[i - 1].stmt != stmt)
        i--;
    if (i == 0) { /* not out on loan: a second finish must not free a cached one */
        for (size_t k = 0; k < STORE_CACHE_SLOTS; k++)
            if (st->cache[k].stmt == stmt)
                return;
        (void)sqlite3_finalize(stmt);
        return;
    }
    struct store_cached *e = st->leases[i - 1].entry;
    memmove(&st->leases[i - 1], &st->leases[i], (st->nleases - i) * sizeof st->leases[0]);
    st->nleases--;
    if (!e) {
        (void)sqlite3_finalize(stmt);
        return;
    }
    (void)sqlite3_reset(stmt);
    (void)sqlite3_clear_bindings(stmt);
    e->in_use = 0;
}

/* Run a statement that returns no rows; the number of changed rows, or -1. */
int
store_i_run(struct store *st, const char *what, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = store_i_run_v(st, what, sql, types, ap);
    va_end(ap);
    return rc;
}

int
store_i_run_v(struct store *st, const char *what, const char *sql, const char *types, va_list ap)
{
    sqlite3_stmt *stmt = prepare_now(st, what, sql, types, ap);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    store_i_finish(st, stmt);
    if (rc < 0)
        return -1;
    return sqlite3_changes(st->db);
}

/* The first n columns of the first row as integers: 1 and out[] set, 0 when there is no row. */
static int
query_ints_v(struct store *st, int64_t *out, int n, const char *what, const char *sql,
             const char *types, va_list ap)
{
    sqlite3_stmt *stmt = prepare_now(st, what, sql, types, ap);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    for (int i = 0; rc == 1 && i < n; i++)
        out[i] = sqlite3_column_int64(stmt, i);
    store_i_finish(st, stmt);
    return rc;
}

/* First column of the first row: 1 and *out set, 0 when there is no row, -1 on error. */
int
store_i_query_int(struct store *st, int64_t *out, const char *what, const char *sql,
                  const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = query_ints_v(st, out, 1, what, sql, types, ap);
    va_end(ap);
    return rc;
}

int
store_i_query_int2(struct store *st, int64_t *a, int64_t *b, const char *what, const char *sql,
                   const char *types, ...)
{
    int64_t v[2];
    va_list ap;
    va_start(ap, types);
    int rc = query_ints_v(st, v, 2, what, sql, types, ap);
    va_end(ap);
    if (rc == 1) {
        *a = v[0];
        *b = v[1];
    }
    return rc;
}

int
store_i_query_text(struct store *st, char *out, size_t len, const char *what, const char *sql,
                   const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *stmt = store_i_prepare_v(st, what, sql, types, ap);
    va_end(ap);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1) {
        const unsigned char *t = sqlite3_column_text(stmt, 0);
        snprintf(out, len, "%s", t ? (const char *)t : "");
    }
    store_i_finish(st, stmt);
    return rc;
}

/* A count(*) style query as an int, -1 on error. */
int
store_i_query_count(struct store *st, const char *what, const char *sql, const char *types,
                    const char *a, const char *b)
{
    int64_t n = 0;
    if (store_i_query_int(st, &n, what, sql, types, a, b) < 0)
        return -1;
    return (int)n;
}

/* Copy a text column; NULL stays NULL.  -1 only when memory runs out. */
void *
store_i_push(struct store *st, const char *what, struct store_i_vec *vec, size_t esize)
{
    if (vec->n == vec->cap) {
        size_t cap = vec->cap ? 2 * vec->cap : 8;
        void *grown = realloc(vec->v, cap * esize);
        if (grown == NULL) {
            store_i_set_err(st, "%s: out of memory", what);
            return NULL;
        }
        vec->v = grown;
        vec->cap = cap;
    }
    void *slot = (char *)vec->v + vec->n++ * esize;
    memset(slot, 0, esize);
    return slot;
}

int
store_i_col_str(sqlite3_stmt *stmt, int col, char **out)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    *out = NULL;
    if (!text)
        return sqlite3_errcode(sqlite3_db_handle(stmt)) == SQLITE_NOMEM ? -1 : 0;
    *out = strdup((const char *)text);
    return *out ? 0 : -1;
}

/* Run a fixed, parameterless script (several statements), as used by migrations. */
int
store_i_run_script(struct store *st, const char *what, const char *sql)
{
    const char *p = sql;
    while (*p != '\0') {
        sqlite3_stmt *stmt = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(st->db, p, -1, &stmt, &tail) != SQLITE_OK)
            return store_i_db_err(st, what);
        if (!stmt) /* only whitespace or comments left */
            break;
        int rc;
        while ((rc = store_i_step(st, stmt, what)) == 1)
            ;
        /* Scripts run once (migrations, pragmas), so they are not kept. */
        (void)sqlite3_finalize(stmt);
        if (rc < 0)
            return -1;
        p = tail;
    }
    return 0;
}

/* ---- opening, pragmas and migrations ---- */

int
store_schema_version(struct store *st)
{
    int64_t v = 0;
    if (store_i_query_int(st, &v, "reading schema version", "PRAGMA user_version", "") != 1)
        return -1;
    return (int)v;
}

int
store_pragma(struct store *st, const char *name, char *out, size_t outlen)
{
    /* PRAGMA names cannot be bound, so only plain identifiers are let through. */
    if (!name || name[0] == '\0' || strspn(name, "abcdefghijklmnopqrstuvwxyz_") != strlen(name))
        return store_i_set_err(st, "reading pragma: invalid name %s", name ? name : "(null)");
    char what[96];
    char sql[96];
    snprintf(what, sizeof what, "reading pragma %s", name);
    snprintf(sql, sizeof sql, "PRAGMA %s", name);
    /* Not through the cache: sql is a stack buffer, and pragmas are read rarely. */
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK || !stmt) {
        store_i_db_err(st, what);
        sqlite3_finalize(stmt);
        return -1;
    }
    int rc = store_i_step(st, stmt, what);
    if (rc == 1) {
        const unsigned char *text = sqlite3_column_text(stmt, 0);
        snprintf(out, outlen, "%s", text ? (const char *)text : "");
    } else if (rc == 0) {
        rc = store_i_set_err(st, "%s: no value", what);
    }
    (void)sqlite3_finalize(stmt);
    return rc < 0 ? -1 : 0;
}

static int
apply_migration(struct store *st, int n)
{
    char what[64];
    snprintf(what, sizeof what, "applying schema migration %d", n);
    if (store_begin(st) != 0)
        return -1;
    /* Re-read inside the write lock: a second process may have migrated meanwhile. */
    int v = store_schema_version(st);
    if (v < 0) {
        store_rollback(st);
        return -1;
    }
    if (v >= n)
        return store_commit(st);
    /* PRAGMA takes no bound parameters; n is our own integer, not input. */
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", n);
    if (store_i_run_script(st, what, migrations[n - 1]) != 0 ||
        store_i_run_script(st, what, pragma) != 0) {
        store_rollback(st);
        return -1;
    }
    return store_commit(st);
}

static int
migrate(struct store *st)
{
    int v = store_schema_version(st);
    if (v < 0)
        return -1;
    if (v > STORE_SCHEMA_VERSION)
        return store_i_set_err(st,
                               "database schema version %d is newer than this mentord (%d); "
                               "upgrade mentord",
                               v, STORE_SCHEMA_VERSION);
    for (int n = v + 1; n <= STORE_SCHEMA_VERSION; n++)
        if (apply_migration(st, n) != 0)
            return -1;
    return 0;
}

static int
set_wal(struct store *st)
{
    const char *what = "switching to WAL journal mode";
    sqlite3_stmt *stmt = store_i_prepare(st, what, "PRAGMA journal_mode = WAL", "");
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    const char *mode = rc == 1 ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
    /* An in-memory database (used by some tests) cannot be WAL and needs no sharing. */
    if (rc == 1 && (!mode || (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)))
        rc = store_i_set_err(st, "%s: journal mode is still %s", what, mode ? mode : "unknown");
    else if (rc == 0)
        rc = store_i_set_err(st, "%s: no answer", what);
    store_i_finish(st, stmt);
    return rc < 0 ? -1 : 0;
}

static int
configure(struct store *st)
{
    /* The daemon and mentorctl share the file: wait for each other's locks. */
    if (sqlite3_busy_timeout(st->db, 5000) != SQLITE_OK)
        return store_i_db_err(st, "setting busy timeout");
    /* Check the version before WAL so a newer database is not modified at all. */
    int v = store_schema_version(st);
    if (v < 0)
        return -1;
    if (v > STORE_SCHEMA_VERSION)
        return migrate(st);
    if (set_wal(st) != 0)
        return -1;
    if (store_i_run_script(st, "enabling foreign keys", "PRAGMA foreign_keys = ON") != 0)
        return -1;
    /*
     * FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power
     * loss, and a commit here stands for mail already handled (a mentor
     * registered, a reply queued) that the inbox then treats as done.  The
     * cost, one fsync per commit, is nothing at mail volumes.
     */
    if (store_i_run_script(st, "setting synchronous mode", "PRAGMA synchronous = FULL") != 0)
        return -1;
    /* A member who leaves is erased: deleted rows are overwritten, not left in free pages. */
    if (store_i_run_script(st, "enabling secure delete", "PRAGMA secure_delete = ON") != 0)
        return -1;
    /*
     * 1 MB of page cache instead of SQLite's 2 MB: the idle daemon's resident
     * memory after 10,000 mails with 100,000 members fell from 16.0 to 15.2 MB
     * (its pages are scattered through the heap, so releasing them at idle
     * does not give all of them back), with no change in ingest speed: the
     * file's pages are in the kernel's cache anyway.
     */
    if (store_i_run_script(st, "sizing the page cache", "PRAGMA cache_size = -1024") != 0)
        return -1;
    return migrate(st);
}

/*
 * Every mail is decided inside its own savepoint, so each one writes the
 * original of every page it changes to the statement journal.  SQLite keeps
 * that journal in memory only up to 64 KiB and then moves it to a deleted
 * file in /var/tmp, which stays a file until the batch commits: measured at
 * 885905b, a newcomer's first mail took 10 to 32 pages, and the batches
 * cost 20 to 48 pwrite calls a mail (members' pages on disk outside the
 * database, where secure_delete cannot reach them).  -1 keeps the journal in
 * memory; RELEASE and the end of each statement empty it, so it holds what
 * one mail, or one statement, changes: a few pages, or for a migration or
 * an import over every member, about what that statement rewrites.  Not a
 * threshold above 128 KiB: SQLite 3.40 turns the spill of such a journal into
 * "database or disk is full" (tests/test_store.c,
 * test_statement_journal_spills).
 */
#define STORE_STMT_JOURNAL_SPILL (-1)

/*
 * The statement journal's blocks, kept for the next mail.  SQLite writes a
 * savepoint's journal in memory in blocks of 1 KiB (about 80 a join: four
 * for each of the about 19 pages a join changes that existed when its
 * savepoint began; the one statement of a join with a statement savepoint of
 * its own, the outbox INSERT whose trigger upserts, copies no page that the
 * mail's savepoint does not copy anyway), and RELEASE frees them all at
 * once; glibc keeps 7 freed blocks of a size per thread, so the others went
 * back through its bins and came out again for the next mail: their mallocs
 * alone cost about 34k instructions a join.
 * Up to STORE_BLOCKS_KEPT freed blocks of that size are kept by the thread
 * that freed them (128 KiB at most) and handed out again; every other
 * allocation is SQLite's own allocator's, which also does all the work.
 */
#define STORE_BLOCK_SIZE 1024
#define STORE_BLOCKS_KEPT 128

static sqlite3_mem_methods store_mem_sqlite; /* SQLite's allocator, wrapped */
static int store_block_usable;         /* its xSize of a STORE_BLOCK_SIZE block; 0: none kept */
static pthread_key_t store_blocks_key; /* frees a thread's kept blocks when it ends */

static _Thread_local struct {
    int n, registered;
    void *kept[STORE_BLOCKS_KEPT];
} store_blocks;

static void
store_blocks_drop(void *unused)
{
    (void)unused;
    while (store_blocks.n > 0)
        store_mem_sqlite.xFree(store_blocks.kept[--store_blocks.n]);
}

static void *
store_mem_malloc(int n)
{
    if (n == STORE_BLOCK_SIZE && store_blocks.n > 0)
        return store_blocks.kept[--store_blocks.n];
    return store_mem_sqlite.xMalloc(n);
}

static void
store_mem_free(void *p)
{
    if (p != NULL && store_block_usable != 0 && store_blocks.n < STORE_BLOCKS_KEPT &&
        store_mem_sqlite.xSize(p) == store_block_usable) {
        /* A non-NULL value, so the thread's end calls store_blocks_drop. */
        if (!store_blocks.registered && pthread_setspecific(store_blocks_key, &store_blocks) == 0)
            store_blocks.registered = 1;
        if (store_blocks.registered) {
            store_blocks.kept[store_blocks.n++] = p;
            return;
        }
    }
    store_mem_sqlite.xFree(p);
}

static void *
store_mem_realloc(void *p, int n)
{
    return store_mem_sqlite.xRealloc(p, n);
}

static int
store_mem_size(void *p)
{
    return store_mem_sqlite.xSize(p);
}

static int
store_mem_roundup(int n)
{
    return store_mem_sqlite.xRoundup(n);
}

static int
store_mem_init(void *unused)
{
    (void)unused;
    int rc = store_mem_sqlite.xInit(store_mem_sqlite.pAppData);
    if (rc != SQLITE_OK)
        return rc;
    /* The size SQLite's allocator reports for such a block: the one a freed block must have. */
    void *probe = store_mem_sqlite.xMalloc(STORE_BLOCK_SIZE);
    if (probe != NULL && pthread_key_create(&store_blocks_key, store_blocks_drop) == 0)
        store_block_usable = store_mem_sqlite.xSize(probe);
    store_mem_sqlite.xFree(probe);
    return SQLITE_OK;
}

static void
store_mem_shutdown(void *unused)
{
    (void)unused;
    store_blocks_drop(NULL);
    store_mem_sqlite.xShutdown(store_mem_sqlite.pAppData);
}

static void
store_mem_setup(void)
{
    static const sqlite3_mem_methods kept = {
        store_mem_malloc,  store_mem_free, store_mem_realloc,  store_mem_size,
        store_mem_roundup, store_mem_init, store_mem_shutdown, NULL,
    };
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &store_mem_sqlite) == SQLITE_OK)
        (void)sqlite3_config(SQLITE_CONFIG_MALLOC, &kept);
}

static void
store_sqlite_setup(void)
{
    /*
     * A process-wide setting, valid only before SQLite is initialised: if a
     * caller used SQLite first it is SQLITE_MISUSE and the default stays,
     * which is slower, not wrong.
     */
    (void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STORE_STMT_JOURNAL_SPILL);
    /*
     * No allocation statistics: nothing reads them, and keeping them takes a
     * process-wide mutex around every allocation SQLite makes.
     */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    store_mem_setup();
}

/*
 * ---- stamps of one address's rows (store_stamp) ----
 *
 * SQLite tells of every row written (the update hook, triggers' rows and
 * foreign key actions included) and of every end of a transaction (the
 * commit and rollback hooks, an implicit rollback after an error included);
 * store_rollback_to says when a savepoint's writes are undone.  What it does
 * not tell of: the truncate optimization (a DELETE of every row without a
 * WHERE; the store has none on members or tokens) and the rows an OR
 * REPLACE deletes (the row it inserts is told of, so only store_i_run_own
 * must not use one).  Another connection writes only between our
 * transactions, which a stamp never spans.
 */

/* NOCASE's equality (ASCII letters folded), hashed: equal addresses, one bucket. */
static unsigned
stamp_bucket(const char *address)
{
    uint32_t h = 2166136261u;

    for (const unsigned char *p = (const unsigned char *)address; *p; p++)
        h = (h ^ (*p >= 'A' && *p <= 'Z' ? *p + 32u : *p)) * 16777619u;
    return h % STORE_STAMP_BUCKETS;
}

static void
stamp_row_written(void *arg, int op, const char *db, const char *table, sqlite3_int64 rowid)
{
    struct store *st = arg;

    (void)op, (void)db, (void)rowid;
    if (strcmp(table, "members") != 0 && strcmp(table, "tokens") != 0)
        return;
    if (st->rows_scope > 0)
        st->rows_own[st->rows_scope - 1]++;
    else
        st->rows_any++;
}

static int
stamp_commit(void *arg)
{
    ((struct store *)arg)->rows_any++;
    return 0; /* the commit goes on */
}

static void
stamp_rollback(void *arg)
{
    ((struct store *)arg)->rows_any++;
}

static void
stamp_hooks(struct store *st)
{
    (void)sqlite3_update_hook(st->db, stamp_row_written, st);
    (void)sqlite3_commit_hook(st->db, stamp_commit, st);
    (void)sqlite3_rollback_hook(st->db, stamp_rollback, st);
}

int
store_i_run_own(struct store *st, const char *address, const char *what, const char *sql,
                const char *types, ...)
{
    va_list ap;

    va_start(ap, types);
    st->rows_scope = address != NULL ? (int)stamp_bucket(address) + 1 : 0;
    int rc = store_i_run_v(st, what, sql, types, ap);
    st->rows_scope = 0;
    va_end(ap);
    return rc;
}

int
store_stamp_take(struct store *st, const char *address, struct store_stamp *s)
{
    memset(s, 0, sizeof(*s));
    if (address == NULL || !store_in_transaction(st))
        return -1;
    s->bucket = stamp_bucket(address);
    s->any = st->rows_any;
    s->own = st->rows_own[s->bucket];
    return 0;
}

int
store_stamp_same(struct store *st, const struct store_stamp *s)
{
    return store_in_transaction(st) && s->any == st->rows_any && s->bucket < STORE_STAMP_BUCKETS &&
           s->own == st->rows_own[s->bucket];
}

int
store_open(const char *path, struct store **out, char *err, size_t errlen)
{
    static pthread_once_t setup = PTHREAD_ONCE_INIT;

    *out = NULL;
    (void)pthread_once(&setup, store_sqlite_setup);
    struct store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    /* Members' data: 0600 whatever the umask (store_file.c). */
    if (store_file_private(path, err, errlen) != 0) {
        free(st);
        return -1;
    }
    /*
     * NOMUTEX: a store is used by one thread at a time (store.h), so the
     * connection's own mutex, taken by every call SQLite makes, guards nothing.
     */
    int rc = sqlite3_open_v2(
        path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "opening database %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        store_close(st);
        return -1;
    }
    stamp_hooks(st);
    if (configure(st) != 0) {
        snprintf(err, errlen, "%s: %s", path, st->err);
        store_close(st);
        return -1;
    }
    /* Tells this process's in-flight marks from those of a process that died (store_inbox.c). */
    if (getrandom(&st->session, sizeof st->session, 0) != (ssize_t)sizeof st->session) {
        snprintf(err, errlen, "%s: no random bytes for the session id", path);
        store_close(st);
        return -1;
    }
    st->session &= INT64_MAX;
    *out = st;
    return 0;
}

void
store_close(struct store *st)
{
    if (!st)
        return;
    /* Statements still out would be a caller's bug; they are finalized all the same. */
    for (size_t i = 0; i < st->nleases; i++)
        if (!st->leases[i].entry)
            (void)sqlite3_finalize(st->leases[i].stmt);
    for (size_t i = 0; i < STORE_CACHE_SLOTS; i++)
        (void)sqlite3_finalize(st->cache[i].stmt); /* NULL for a free slot: a no-op */
    /* sqlite3_close_v2 defers the close if a statement leaked; all of ours are finalized. */
    (void)sqlite3_close_v2(st->db);
    free(st);
}

const char *
store_errmsg(const struct store *st)
{
    return st ? st->err : "no database";
}

/* ---- transactions ---- */

int
store_begin(struct store *st)
{
    /* IMMEDIATE takes the write lock now, so a busy peer surfaces here, not mid-way. */
    return store_i_run(st, "beginning transaction", "BEGIN IMMEDIATE", "") < 0 ? -1 : 0;
}

int
store_commit(struct store *st)
{
    return store_i_run(st, "committing transaction", "COMMIT", "") < 0 ? -1 : 0;
}

void
store_rollback(struct store *st)
{
    /* SQLite may already have rolled back on its own (e.g. after SQLITE_FULL). */
    if (sqlite3_get_autocommit(st->db))
        return;
    /* Keep the error that caused the rollback: it is the one worth reporting. */
    char saved[sizeof st->err];
    memcpy(saved, st->err, sizeof saved);
    if (store_i_run(st, "rolling back transaction", "ROLLBACK", "") < 0) {
        char failed[sizeof st->err];
        memcpy(failed, st->err, sizeof failed);
        store_i_set_err(st, "%.200s (after: %.200s)", failed, saved);
        return;
    }
    memcpy(st->err, saved, sizeof saved);
}

void
store_strings_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int
store_checkpoint(struct store *st)
{
    /* Copies the WAL into the database and empties it, so erased data leaves the WAL too. */
    return store_i_run_script(st, "checkpointing", "PRAGMA wal_checkpoint(TRUNCATE)");
}

/* ---- savepoints and durability (the inbox's batches, the outbox's sent-marks) ---- */

/*
 * Prepared once and kept, like BEGIN and COMMIT: each mail sets and releases
 * a savepoint, and compiling the two statements again for every mail (as a
 * script) cost about 5k instructions a join.
 */
int
store_savepoint(struct store *st)
{
    st->errcode = 0; /* what fails after this is the decision's own */
    return store_i_run(st, "setting a savepoint", "SAVEPOINT store_sp", "") < 0 ? -1 : 0;
}

int
store_release(struct store *st)
{
    return store_i_run(st, "releasing a savepoint", "RELEASE store_sp", "") < 0 ? -1 : 0;
}

int
store_rollback_to(struct store *st)
{
    /* After SQLITE_FULL or an I/O error SQLite may have rolled back everything itself. */
    if (sqlite3_get_autocommit(st->db))
        return -1;
    char saved[sizeof st->err];
    memcpy(saved, st->err, sizeof saved);
    st->rows_any++; /* the rows read since the savepoint may be undone (store_stamp) */
    if (store_i_run_script(st, "rolling back to a savepoint", "ROLLBACK TO store_sp") != 0 ||
        store_i_run_script(st, "releasing a savepoint", "RELEASE store_sp") != 0)
        return -1;
    memcpy(st->err, saved, sizeof saved); /* the error that caused it is the one to report */
    return 0;
}

int
store_in_transaction(struct store *st)
{
    return !sqlite3_get_autocommit(st->db);
}

long long
store_changes(struct store *st)
{
    return (long long)sqlite3_total_changes64(st->db);
}

int
store_set_durable(struct store *st, int full)
{
    /* A fixed string each: PRAGMA takes no bound parameters. */
    return store_i_run_script(st, "setting synchronous mode",
                              full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
}

int
store_release_memory(struct store *st)
{
    /* Unpinned pages of the connection's cache; it fills again as it is used. */
    return sqlite3_db_release_memory(st->db) == SQLITE_OK ? 0 : -1;
}
