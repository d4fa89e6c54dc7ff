/*
 * store: everything mentord remembers, in one SQLite database.
 *
 * Every public function is a thin shell around one or two prepared statements;
 * the static helpers below (prepare+bind, run, query one integer) keep the
 * error handling in one place so each caller only states its SQL and context.
 */
#include "store.h"
#include "store_int.h"

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

/* ---- statement helpers ---- */

/*
 * Bind parameters described by types: 's' is a const char * (NULL binds SQL
 * NULL), 'i' an int64_t.  Callers must cast integers to int64_t because the
 * values travel through varargs.
 */
int
store_i_bind_args(struct store *st, sqlite3_stmt *stmt, const char *what, const char *types,
                  va_list ap)
{
    for (int i = 0; types[i] != '\0'; i++) {
        int rc;
        if (types[i] == 's') {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(stmt, i + 1, s, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(stmt, i + 1);
        } else {
            rc = sqlite3_bind_int64(stmt, i + 1, va_arg(ap, int64_t));
        }
        if (rc != SQLITE_OK)
            return store_i_db_err(st, what);
    }
    return 0;
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

sqlite3_stmt *
store_i_prepare_v(struct store *st, const char *what, const char *sql, const char *types,
                  va_list ap)
{
    sqlite3_stmt *stmt = lend(st, what, sql);
    if (!stmt)
        return NULL;
    if (store_i_bind_args(st, stmt, what, types, ap) != 0) {
        store_i_finish(st, stmt);
        return NULL;
    }
    return stmt;
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
    sqlite3_stmt *stmt = store_i_prepare_v(st, what, sql, types, ap);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    store_i_finish(st, stmt);
    if (rc < 0)
        return -1;
    return sqlite3_changes(st->db);
}

/* First column of the first row: 1 and *out set, 0 when there is no row, -1 on error. */
int
store_i_query_int(struct store *st, int64_t *out, const char *what, const char *sql,
                  const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *stmt = store_i_prepare_v(st, what, sql, types, ap);
    va_end(ap);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1)
        *out = sqlite3_column_int64(stmt, 0);
    store_i_finish(st, stmt);
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

int
store_open(const char *path, struct store **out, char *err, size_t errlen)
{
    *out = NULL;
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
    int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "opening database %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        store_close(st);
        return -1;
    }
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
    sqlite3_stmt *stmt =
        store_i_prepare(st, what,
                        "SELECT outcome FROM messages WHERE outcome NOT IN ('retry', 'retried')"
                        " AND (hash = ?1 OR (?2 <> '' AND message_id = ?2))"
                        " ORDER BY id LIMIT 1",
                        "ss", hash, message_id);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
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
    snprintf(buf, len, "%s message %s uid %u/%u (Message-ID %s)", verb, m->mailbox,
             (unsigned)m->uidvalidity, (unsigned)m->uid, m->message_id ? m->message_id : "none");
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

/* ---- members ---- */

#define MEMBER_COLUMNS                                                                             \
    "id, address, name, role, state, profile, created, updated, bounce_score, last_bounce,"        \
    " undeliverable, away_until, pause_until, waiting_since, last_break, unanswered,"              \
    " last_reminder, language, language_seen"

static int
member_fill(sqlite3_stmt *stmt, struct store_member *m)
{
    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(stmt, 0);
    m->created = (time_t)sqlite3_column_int64(stmt, 6);
    m->updated = (time_t)sqlite3_column_int64(stmt, 7);
    m->bounce_score = sqlite3_column_double(stmt, 8);
    m->last_bounce = (time_t)sqlite3_column_int64(stmt, 9);
    m->undeliverable = sqlite3_column_int(stmt, 10);
    m->away_until = (time_t)sqlite3_column_int64(stmt, 11);
    m->pause_until = (time_t)sqlite3_column_int64(stmt, 12);
    m->waiting_since = (time_t)sqlite3_column_int64(stmt, 13);
    m->last_break = (time_t)sqlite3_column_int64(stmt, 14);
    m->unanswered = sqlite3_column_int(stmt, 15);
    m->last_reminder = (time_t)sqlite3_column_int64(stmt, 16);
    if (store_i_col_str(stmt, 1, &m->address) != 0 || store_i_col_str(stmt, 2, &m->name) != 0 ||
        store_i_col_str(stmt, 3, &m->role) != 0 || store_i_col_str(stmt, 4, &m->state) != 0 ||
        store_i_col_str(stmt, 5, &m->profile) != 0 ||
        store_i_col_str(stmt, 17, &m->language) != 0 ||
        store_i_col_str(stmt, 18, &m->language_seen) != 0) {
        store_member_free(m);
        return -1;
    }
    return 0;
}

int
store_member_get(struct store *st, const char *address, struct store_member *out)
{
    char what[320];
    snprintf(what, sizeof what, "looking up member %s", address);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = store_i_prepare(
        st, what, "SELECT " MEMBER_COLUMNS " FROM members WHERE address = ?1", "s", address);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1 && member_fill(stmt, out) != 0)
        rc = store_i_set_err(st, "%s: out of memory", what);
    store_i_finish(st, stmt);
    return rc;
}

int
store_member_upsert(struct store *st, const char *address, const char *name, const char *role,
                    const char *state, const char *profile, time_t now, int64_t *id_out)
{
    char what[320];
    snprintf(what, sizeof what, "saving member %s", address);
    /*
     * A new member without a role or state starts as a pending newcomer; on
     * update each NULL keeps the stored value.  The address keeps the spelling
     * it was first given, the NOCASE unique index finds it in any case.
     */
    int64_t id = 0;
    /*
     * No RETURNING: SQLite buffers its rows in an ephemeral table, which cost
     * more than the insert itself; the NOCASE index finds the id again.
     */
    if (store_i_run(st, what,
                    "INSERT INTO members (address, name, role, state, profile, created, updated)"
                    " VALUES (?1, ?2, coalesce(?3, 'newcomer'), coalesce(?4, 'pending'), ?5,"
                    " ?6, ?6)"
                    " ON CONFLICT (address) DO UPDATE SET name = coalesce(?2, name),"
                    " role = coalesce(?3, role), state = coalesce(?4, state),"
                    " profile = coalesce(?5, profile), updated = ?6",
                    "sssssi", address, name, role, state, profile, (int64_t)now) < 0)
        return -1;
    int rc =
        store_i_query_int(st, &id, what, "SELECT id FROM members WHERE address = ?1", "s", address);
    if (rc == 0)
        rc = store_i_set_err(st, "%s: no row id returned", what);
    if (rc < 0)
        return -1;
    if (id_out)
        *id_out = id;
    return 0;
}

void
store_member_free(struct store_member *m)
{
    if (!m)
        return;
    free(m->address);
    free(m->name);
    free(m->role);
    free(m->state);
    free(m->profile);
    free(m->language);
    free(m->language_seen);
    memset(m, 0, sizeof *m);
}

int
store_member_each(struct store *st, int (*fn)(const struct store_member *, void *), void *arg)
{
    const char *what = "listing members";
    sqlite3_stmt *stmt =
        store_i_prepare(st, what, "SELECT " MEMBER_COLUMNS " FROM members ORDER BY id", "");
    if (!stmt)
        return -1;
    int rc;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        struct store_member m;
        if (member_fill(stmt, &m) != 0) {
            rc = store_i_set_err(st, "%s: out of memory", what);
            break;
        }
        rc = fn(&m, arg);
        store_member_free(&m);
        if (rc != 0)
            break;
    }
    store_i_finish(st, stmt);
    return rc;
}

int
store_member_count(struct store *st, const char *role, const char *state)
{
    return store_i_query_count(st, "counting members",
                               "SELECT count(*) FROM members WHERE (?1 IS NULL OR role = ?1)"
                               " AND (?2 IS NULL OR state = ?2)",
                               "ss", role, state);
}

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
    /* A negative LIMIT means no limit in SQLite, which is what limit <= 0 asks for. */
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT " OUTBOX_COLUMNS " FROM outbox"
                                         " WHERE status = 'queued' AND next_attempt <= ?1"
                                         " ORDER BY created, id LIMIT ?2",
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

/* ---- event log ---- */

int
store_event_add(struct store *st, time_t now, const char *kind, const char *member,
                const char *message_id, const char *detail)
{
    char what[160];
    snprintf(what, sizeof what, "logging event %s", kind ? kind : "(none)");
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

/* ---- confirmation tokens ---- */

#define TOKEN_COLUMNS "token, address, action, name, created, expires, closed, outcome"

static int
token_fill(sqlite3_stmt *stmt, struct store_token *t)
{
    memset(t, 0, sizeof *t);
    t->created = (time_t)sqlite3_column_int64(stmt, 4);
    t->expires = (time_t)sqlite3_column_int64(stmt, 5);
    t->closed = (time_t)sqlite3_column_int64(stmt, 6);
    if (store_i_col_str(stmt, 0, &t->token) != 0 || store_i_col_str(stmt, 1, &t->address) != 0 ||
        store_i_col_str(stmt, 2, &t->action) != 0 || store_i_col_str(stmt, 3, &t->name) != 0 ||
        store_i_col_str(stmt, 7, &t->outcome) != 0) {
        store_token_free(t);
        return -1;
    }
    return 0;
}

int
store_token_add(struct store *st, const char *token, const char *address, const char *action,
                const char *name, time_t now, time_t expires)
{
    char what[320];
    snprintf(what, sizeof what, "saving the %s confirmation for %s", action, address);
    return store_i_run(st, what,
                       "INSERT INTO tokens (token, address, action, name, created, expires)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                       "ssssii", token, address, action, name, (int64_t)now, (int64_t)expires) < 0
               ? -1
               : 0;
}

int
store_token_get(struct store *st, const char *token, struct store_token *out)
{
    const char *what = "looking up a confirmation token";
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = store_i_prepare(
        st, what, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE token = ?1", "s", token);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1 && token_fill(stmt, out) != 0)
        rc = store_i_set_err(st, "%s: out of memory", what);
    store_i_finish(st, stmt);
    return rc;
}

int
store_token_open_for(struct store *st, const char *address, time_t now, struct store_token *out)
{
    const char *what = "looking up an open confirmation";
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt =
        store_i_prepare(st, what,
                        "SELECT " TOKEN_COLUMNS " FROM tokens WHERE address = ?1"
                        " AND closed IS NULL AND expires > ?2 ORDER BY created DESC",
                        "si", address, (int64_t)now);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1 && token_fill(stmt, out) != 0)
        rc = store_i_set_err(st, "%s: out of memory", what);
    store_i_finish(st, stmt);
    return rc;
}

int
store_token_close(struct store *st, const char *token, time_t now, const char *outcome)
{
    int rc = store_i_run(
        st, "closing a confirmation token",
        "UPDATE tokens SET closed = ?2, outcome = ?3 WHERE token = ?1 AND closed IS NULL", "sis",
        token, (int64_t)now, outcome);
    return rc < 0 ? -1 : rc;
}

int
store_token_close_address(struct store *st, const char *address, time_t now, const char *outcome)
{
    int rc = store_i_run(
        st, "closing the confirmations of an address",
        "UPDATE tokens SET closed = ?2, outcome = ?3 WHERE address = ?1 AND closed IS NULL", "sis",
        address, (int64_t)now, outcome);
    return rc < 0 ? -1 : rc;
}

int
store_token_expire(struct store *st, time_t now)
{
    int rc = store_i_run(st, "expiring confirmations",
                         "UPDATE tokens SET closed = ?1, outcome = 'expired'"
                         " WHERE closed IS NULL AND expires <= ?1",
                         "i", (int64_t)now);
    /* A change nobody confirmed keeps nothing of the mail that asked for it. */
    if (rc >= 0 && store_pending_expire(st, now) < 0)
        return -1;
    return rc < 0 ? -1 : rc;
}

void
store_token_free(struct store_token *t)
{
    if (!t)
        return;
    free(t->token);
    free(t->address);
    free(t->action);
    free(t->name);
    free(t->outcome);
    memset(t, 0, sizeof *t);
}

/* ---- bounces and absences ---- */

int
store_bounce_add(struct store *st, time_t now, const char *address, const char *severity,
                 const char *status, const char *diagnostic, double score)
{
    char what[320];
    snprintf(what, sizeof what, "recording a bounce for %s", address);
    /* store_i_bind_args() knows no doubles: the score is bound by hand as ?6. */
    sqlite3_stmt *stmt =
        store_i_prepare(st, what,
                        "INSERT INTO bounces (at, address, severity, status, diagnostic,"
                        " score) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        "issss", (int64_t)now, address, severity, status, diagnostic);
    if (!stmt)
        return -1;
    int rc = sqlite3_bind_double(stmt, 6, score) == SQLITE_OK ? store_i_step(st, stmt, what)
                                                              : store_i_db_err(st, what);
    store_i_finish(st, stmt);
    return rc < 0 ? -1 : 0;
}

int
store_member_bounce(struct store *st, const char *address, double add, time_t now, int threshold,
                    int *now_undeliverable)
{
    char what[320];
    snprintf(what, sizeof what, "scoring a bounce for member %s", address);
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "UPDATE members SET bounce_score = bounce_score + ?2,"
                                         " last_bounce = ?3, updated = ?3,"
                                         " undeliverable = (bounce_score + ?2 >= ?4)"
                                         " WHERE address = ?1 RETURNING undeliverable",
                                         "s", address);
    if (!stmt)
        return -1;
    int rc = SQLITE_OK;
    rc |= sqlite3_bind_double(stmt, 2, add);
    rc |= sqlite3_bind_int64(stmt, 3, (int64_t)now);
    rc |= sqlite3_bind_int(stmt, 4, threshold);
    if (rc != SQLITE_OK) {
        store_i_db_err(st, what);
        store_i_finish(st, stmt);
        return -1;
    }
    int found = store_i_step(st, stmt, what);
    if (found == 1 && now_undeliverable)
        *now_undeliverable = sqlite3_column_int(stmt, 0);
    store_i_finish(st, stmt);
    return found;
}

int
store_member_set_away(struct store *st, const char *address, time_t until)
{
    int rc = store_i_run(st, "recording an absence",
                         "UPDATE members SET away_until = ?2 WHERE address = ?1", "si", address,
                         (int64_t)until);
    return rc < 0 ? -1 : rc;
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

int
store_member_set_state(struct store *st, const char *address, const char *state, time_t pause_until,
                       time_t now)
{
    char what[320];
    snprintf(what, sizeof what, "setting member %s %s", address, state);
    int rc = store_i_run(st, what,
                         "UPDATE members SET state = ?2, pause_until = nullif(?3, 0), updated = ?4"
                         " WHERE address = ?1",
                         "ssii", address, state, (int64_t)pause_until, (int64_t)now);
    return rc < 0 ? -1 : rc;
}

/*
 * Erasure.  The member's row, tokens and bounce records go; in the message
 * and event logs their address is blanked, so the anonymous counts stay; mail
 * still queued for them is dropped (the caller queues the farewell after
 * this, marked to be blanked once sent); mail already sent is blanked now;
 * the kept copies of digests and manager alerts lose their address.
 */
int
store_member_erase(struct store *st, const char *address)
{
    static const char *const sql[] = {
        "DELETE FROM members WHERE address = ?1",
        "DELETE FROM tokens WHERE address = ?1",
        "DELETE FROM bounces WHERE address = ?1",
        "UPDATE messages SET sender = NULL, detail = NULL WHERE sender = ?1 COLLATE NOCASE",
        /* A detail that is one of mentord's own words (what was asked) keeps the counts
         * right; anything else may hold the person's text and goes. */
        "UPDATE events SET member = NULL, detail = CASE WHEN detail IN ('join', 'mentor',"
        " 'leave', 'confirmed', 'newcomer') THEN detail END WHERE member = ?1 COLLATE NOCASE",
        "DELETE FROM outbox WHERE recipient = ?1 COLLATE NOCASE AND status = 'queued'",
        "UPDATE outbox SET erase_after = 1 WHERE recipient = ?1 COLLATE NOCASE",
        /*
         * The copies of digests and manager alerts kept for managers keep nothing
         * of one who left: a copy naming them may quote their words as well, so it
         * goes whole (the figures stay in the tables they were counted from).
         */
        "DELETE FROM digests WHERE instr(lower(text), lower(?1)) OR instr(lower(html), lower(?1))",
        "DELETE FROM manager_alerts WHERE instr(lower(body), lower(?1))",
        "UPDATE outbox SET recipient = '', headers = '', body = '', reply = NULL,"
        " last_error = NULL WHERE erase_after = 1 AND status <> 'queued'",
    };
    char what[320];
    snprintf(what, sizeof what, "erasing member %s", address);
    if (store_trust_erase(st, address) != 0)
        return -1;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
        if (store_i_run(st, what, sql[i], i + 1 < sizeof sql / sizeof sql[0] ? "s" : "", address) <
            0)
            return -1;
    return 0;
}

/* Pending members whose every confirmation is closed: nobody confirmed them. */
int
store_member_stale_pending(struct store *st, char ***addresses, size_t *n)
{
    const char *what = "listing unconfirmed members";
    *addresses = NULL;
    *n = 0;
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT address FROM members m WHERE state = 'pending'"
                                         " AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.address ="
                                         " m.address AND t.closed IS NULL) ORDER BY id",
                                         "");
    if (!stmt)
        return -1;
    int rc;
    size_t cap = 0;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            char **grown = realloc(*addresses, cap * sizeof *grown);
            if (!grown) {
                rc = store_i_set_err(st, "%s: out of memory", what);
                break;
            }
            *addresses = grown;
        }
        if (store_i_col_str(stmt, 0, &(*addresses)[*n]) != 0) {
            rc = store_i_set_err(st, "%s: out of memory", what);
            break;
        }
        (*n)++;
    }
    store_i_finish(st, stmt);
    if (rc < 0) {
        store_strings_free(*addresses, *n);
        *addresses = NULL;
        *n = 0;
        return -1;
    }
    return 0;
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

int
store_member_set_waiting(struct store *st, const char *address, time_t since)
{
    int rc = store_i_run(st, "recording when a newcomer started waiting",
                         "UPDATE members SET waiting_since = nullif(?2, 0) WHERE address = ?1",
                         "si", address, (int64_t)since);
    return rc < 0 ? -1 : rc;
}

int
store_member_set_language(struct store *st, const char *address, const char *chosen,
                          const char *seen)
{
    int rc = store_i_run(st, "recording a member's language",
                         "UPDATE members SET language = coalesce(?2, language),"
                         " language_seen = coalesce(?3, language_seen) WHERE address = ?1",
                         "sss", address, chosen, seen);
    return rc < 0 ? -1 : rc;
}

/* ---- savepoints and durability (the inbox's batches, the outbox's sent-marks) ---- */

int
store_savepoint(struct store *st)
{
    st->errcode = 0; /* what fails after this is the decision's own */
    return store_i_run_script(st, "setting a savepoint", "SAVEPOINT store_sp");
}

int
store_release(struct store *st)
{
    return store_i_run_script(st, "releasing a savepoint", "RELEASE store_sp");
}

int
store_rollback_to(struct store *st)
{
    /* After SQLITE_FULL or an I/O error SQLite may have rolled back everything itself. */
    if (sqlite3_get_autocommit(st->db))
        return -1;
    char saved[sizeof st->err];
    memcpy(saved, st->err, sizeof saved);
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
