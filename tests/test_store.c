/* Unit tests for the SQLite store: schema, migrations and every table's API. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "teststore.h"

#define EVIL "x'); DROP TABLE members;--"

static int
setup(void **state)
{
    return ts_setup(state, "store");
}

static int
teardown(void **state)
{
    return ts_teardown(state);
}

/* Run SQL on a raw connection, outside the store, to prepare or inspect a file. */
static void
raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("raw sql failed: %s", msg);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static int64_t
raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(stmt, 0);
    assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return v;
}

/* A fresh temp dir and the path of a database file inside it. */
static void
temp_db(char *dir, size_t dirlen, char *path, size_t pathlen)
{
    assert_int_equal(tu_mkdtemp(dir, dirlen, "store"), 0);
    snprintf(path, pathlen, "%s/mentord.db", dir);
}

/* ---- schema and migrations ---- */

static void
test_migrations_create_schema(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                      " AND name IN ('members', 'mailboxes', 'messages',"
                                      " 'outbox', 'events')"),
                     5);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                                      " AND name IN ('messages_message_id', 'messages_hash',"
                                      " 'outbox_due')"),
                     3);
}

static void
test_reopen_existing(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(
        store_member_upsert(f->st, "a@example.org", "A", "mentor", "active", NULL, 100, NULL), 0);
    store_close(f->st);
    f->st = NULL;
    char err[512];
    assert_int_equal(store_open(f->path, &f->st, err, sizeof err), 0);
    assert_int_equal(store_schema_version(f->st), STORE_SCHEMA_VERSION);
    assert_int_equal(store_member_count(f->st, "mentor", NULL), 1);
}

static void
test_newer_schema_refused(void **state)
{
    (void)state;
    char dir[256], path[300], err[512];
    temp_db(dir, sizeof dir, path, sizeof path);
    raw_exec(path, "CREATE TABLE future (x); PRAGMA user_version = 99;");
    struct store *st = (struct store *)(uintptr_t)1; /* must be reset to NULL */
    assert_int_equal(store_open(path, &st, err, sizeof err), -1);
    assert_null(st);
    char expect[128];
    snprintf(expect, sizeof expect,
             "database schema version 99 is newer than this mentord (%d); upgrade mentord",
             STORE_SCHEMA_VERSION);
    assert_non_null(strstr(err, expect));
    /* The refused file is left exactly as it was: not switched to WAL, not migrated. */
    assert_int_equal(raw_int(path, "PRAGMA user_version"), 99);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'members'"), 0);
    tu_rmrf(dir);
}

static void
test_version0_with_unrelated_table_upgrades(void **state)
{
    (void)state;
    char dir[256], path[300], err[512];
    temp_db(dir, sizeof dir, path, sizeof path);
    raw_exec(path, "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('keep me');");
    struct store *st = NULL;
    assert_int_equal(store_open(path, &st, err, sizeof err), 0);
    assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
    assert_int_equal(store_member_count(st, NULL, NULL), 0);
    store_close(st);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM notes WHERE x = 'keep me'"), 1);
    tu_rmrf(dir);
}

static void
test_open_bad_path_reports_path(void **state)
{
    (void)state;
    char err[512] = "";
    struct store *st = NULL;
    assert_int_equal(store_open("/nonexistent-mentord-dir/x.db", &st, err, sizeof err), -1);
    assert_null(st);
    assert_non_null(strstr(err, "/nonexistent-mentord-dir/x.db"));
}

static void
test_pragmas_wal_foreign_keys_full_sync(void **state)
{
    struct fixture *f = *state;
    char v[32];
    assert_int_equal(store_pragma(f->st, "journal_mode", v, sizeof v), 0);
    assert_string_equal(v, "wal");
    assert_int_equal(store_pragma(f->st, "foreign_keys", v, sizeof v), 0);
    assert_string_equal(v, "1");
    assert_int_equal(store_pragma(f->st, "synchronous", v, sizeof v), 0);
    assert_string_equal(v, "2"); /* FULL */
    assert_int_equal(store_pragma(f->st, "busy_timeout", v, sizeof v), 0);
    assert_string_equal(v, "5000");
    /* Names are not a way to inject SQL. */
    assert_int_equal(store_pragma(f->st, "user_version; DROP TABLE members", v, sizeof v), -1);
    assert_int_equal(store_member_count(f->st, NULL, NULL), 0);
}

/* ---- members ---- */

static void
test_member_case_insensitive_upsert(void **state)
{
    struct fixture *f = *state;
    int64_t id1 = 0, id2 = 0;
    assert_int_equal(store_member_upsert(f->st, "Ann@Example.org", "Ann", "mentor", "active",
                                         "topics: C", 100, &id1),
                     0);
    assert_int_equal(
        store_member_upsert(f->st, "ann@example.org", NULL, NULL, "paused", NULL, 200, &id2), 0);
    assert_true(id1 > 0);
    assert_int_equal(id1, id2);
    assert_int_equal(store_member_count(f->st, NULL, NULL), 1);

    struct store_member m;
    assert_int_equal(store_member_get(f->st, "ANN@EXAMPLE.ORG", &m), 1);
    assert_int_equal(m.id, id1);
    assert_string_equal(m.address, "Ann@Example.org");
    assert_string_equal(m.name, "Ann");
    assert_string_equal(m.role, "mentor");
    assert_string_equal(m.state, "paused");
    assert_string_equal(m.profile, "topics: C");
    assert_int_equal(m.created, 100);
    assert_int_equal(m.updated, 200);
    store_member_free(&m);
}

static void
test_member_defaults_and_missing(void **state)
{
    struct fixture *f = *state;
    struct store_member m;
    assert_int_equal(store_member_get(f->st, "nobody@example.org", &m), 0);
    assert_int_equal(store_member_upsert(f->st, "new@example.org", NULL, NULL, NULL, NULL, 5, NULL),
                     0);
    assert_int_equal(store_member_get(f->st, "new@example.org", &m), 1);
    assert_string_equal(m.role, "newcomer");
    assert_string_equal(m.state, "pending");
    assert_null(m.name);
    assert_null(m.profile);
    store_member_free(&m);
}

static void
assert_same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

/* Every column of two rows, as member_fill reads them. */
static void
assert_same_member(const struct store_member *a, const struct store_member *b)
{
    assert_int_equal(a->id, b->id);
    assert_same_str(a->address, b->address);
    assert_same_str(a->name, b->name);
    assert_same_str(a->role, b->role);
    assert_same_str(a->state, b->state);
    assert_same_str(a->profile, b->profile);
    assert_same_str(a->language, b->language);
    assert_same_str(a->language_seen, b->language_seen);
    assert_int_equal(a->created, b->created);
    assert_int_equal(a->updated, b->updated);
    assert_true(a->bounce_score == b->bounce_score);
    assert_int_equal(a->last_bounce, b->last_bounce);
    assert_int_equal(a->undeliverable, b->undeliverable);
    assert_int_equal(a->away_until, b->away_until);
    assert_int_equal(a->pause_until, b->pause_until);
    assert_int_equal(a->waiting_since, b->waiting_since);
    assert_int_equal(a->last_break, b->last_break);
    assert_int_equal(a->unanswered, b->unanswered);
    assert_int_equal(a->last_reminder, b->last_reminder);
}

/* The row store_member_upsert_row hands back is the one the store then holds. */
static void
test_member_upsert_row_is_the_stored_row(void **state)
{
    struct fixture *f = *state;
    struct store_member before, row, read;
    struct store_member_values v = {.address = "Ann@Example.org", .profile = "topics: C",
                                    .language_seen = "en"};

    /* Another table's insert just before: its rowid is not taken for the member's. */
    assert_int_equal(store_token_add(f->st, "tok0000000001", "x@example.org", "join", NULL, 1, 9),
                     0);
    assert_int_equal(store_member_upsert_row(f->st, &v, NULL, 100, &row), 1);
    assert_int_equal(store_member_get(f->st, "ann@example.org", &read), 1);
    assert_same_member(&row, &read);
    store_member_free(&row);
    /* An update over the row as it was: the first spelling stays, NULL keeps the value. */
    assert_int_equal(store_member_set_state(f->st, "ann@example.org", "active", 0, 150), 1);
    assert_int_equal(store_member_set_waiting(f->st, "ann@example.org", 160), 1);
    assert_int_equal(store_member_get(f->st, "ann@example.org", &before), 1);
    struct store_member_values w = {.address = "ANN@example.org", .name = "Ann", .role = "mentor",
                                    .language = "es"};
    assert_int_equal(store_member_upsert_row(f->st, &w, &before, 200, &row), 1);
    store_member_free(&read);
    assert_int_equal(store_member_get(f->st, "ann@example.org", &read), 1);
    assert_same_member(&row, &read);
    assert_string_equal(row.state, "active");
    assert_string_equal(row.address, "Ann@Example.org");
    store_member_free(&row);
    store_member_free(&read);
    store_member_free(&before);
    /* An update without the row it updated: nothing handed back. */
    assert_int_equal(store_member_upsert_row(f->st, &w, NULL, 300, &row), 0);
    assert_null(row.address);
}

static void
test_member_invalid_role_rejected(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(
        store_member_upsert(f->st, "boss@example.org", "B", "boss", "active", NULL, 1, NULL), -1);
    assert_non_null(strstr(store_errmsg(f->st), "boss@example.org"));
    assert_non_null(strstr(store_errmsg(f->st), "CHECK"));
    assert_int_equal(store_member_count(f->st, NULL, NULL), 0);
}

struct collect {
    char seen[8][64];
    int n;
    int stop_after;
};

static int
collect_member(const struct store_member *m, void *arg)
{
    struct collect *c = arg;
    snprintf(c->seen[c->n++], sizeof c->seen[0], "%s", m->address);
    return c->n == c->stop_after ? 7 : 0;
}

static void
test_member_each_and_count(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_member_upsert(f->st, "c@x.org", NULL, "mentor", "active", NULL, 1, NULL),
                     0);
    assert_int_equal(
        store_member_upsert(f->st, "a@x.org", NULL, "newcomer", "active", NULL, 2, NULL), 0);
    assert_int_equal(store_member_upsert(f->st, "b@x.org", NULL, "newcomer", "left", NULL, 3, NULL),
                     0);

    struct collect c = {.stop_after = 0};
    assert_int_equal(store_member_each(f->st, collect_member, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.seen[0], "c@x.org"); /* by id, i.e. insertion order */
    assert_string_equal(c.seen[2], "b@x.org");

    struct collect stop = {.stop_after = 1};
    assert_int_equal(store_member_each(f->st, collect_member, &stop), 7);
    assert_int_equal(stop.n, 1);

    assert_int_equal(store_member_count(f->st, "newcomer", NULL), 2);
    assert_int_equal(store_member_count(f->st, NULL, "active"), 2);
    assert_int_equal(store_member_count(f->st, "newcomer", "active"), 1);
    assert_int_equal(store_member_count(f->st, "manager", NULL), 0);
}

/* ---- mailboxes ---- */

static void
test_mailbox_get_set(void **state)
{
    struct fixture *f = *state;
    uint32_t v = 7, last = 7;
    assert_int_equal(store_mailbox_get(f->st, "INBOX", &v, &last), 0);
    assert_int_equal(v, 0);
    assert_int_equal(last, 0);
    assert_int_equal(store_mailbox_set(f->st, "INBOX", 1234, 10), 0);
    assert_int_equal(store_mailbox_set(f->st, "INBOX", 4294967295u, 4294967294u), 0);
    assert_int_equal(store_mailbox_set(f->st, "Other", 1, 1), 0);
    assert_int_equal(store_mailbox_get(f->st, "INBOX", &v, &last), 0);
    assert_int_equal(v, 4294967295u);
    assert_int_equal(last, 4294967294u);
    assert_int_equal(store_mailbox_get(f->st, "Other", &v, &last), 0);
    assert_int_equal(v, 1);
}

/* ---- processed messages ---- */

static struct store_message
msg(uint32_t uid, const char *message_id, const char *hash, const char *outcome)
{
    struct store_message m = {
        .mailbox = "INBOX",
        .uidvalidity = 5,
        .uid = uid,
        .message_id = message_id,
        .hash = hash,
        .sender = "a@x.org",
        .outcome = outcome,
        .detail = "d",
    };
    return m;
}

static void
test_message_seen_by_hash(void **state)
{
    struct fixture *f = *state;
    char outcome[32] = "";
    assert_int_equal(store_message_seen(f->st, "id1@x", "hash1", outcome, sizeof outcome), 0);
    struct store_message m = msg(1, "id1@x", "hash1", "answered");
    assert_int_equal(store_message_record(f->st, &m, 100), 0);
    /* Same bytes, delivered again with no (or another) Message-ID. */
    assert_int_equal(store_message_seen(f->st, NULL, "hash1", outcome, sizeof outcome), 1);
    assert_string_equal(outcome, "answered");
    assert_int_equal(store_message_seen(f->st, "other@x", "hash2", outcome, sizeof outcome), 0);
    assert_int_equal(store_message_seen(f->st, NULL, "hash1", NULL, 0), 1);
}

static void
test_message_seen_by_message_id(void **state)
{
    struct fixture *f = *state;
    char outcome[32] = "";
    struct store_message m = msg(1, "id1@x", "hash1", "recorded");
    assert_int_equal(store_message_record(f->st, &m, 100), 0);
    /* Same Message-ID, different bytes (e.g. a copy with extra Received: headers). */
    assert_int_equal(store_message_seen(f->st, "id1@x", "hash9", outcome, sizeof outcome), 1);
    assert_string_equal(outcome, "recorded");

    /* An empty Message-ID never matches another empty one. */
    struct store_message e = msg(2, "", "hash2", "ignored");
    assert_int_equal(store_message_record(f->st, &e, 100), 0);
    assert_int_equal(store_message_seen(f->st, "", "hash3", outcome, sizeof outcome), 0);

    /* One matching by hash, another by Message-ID: the first recorded names the outcome. */
    struct store_message later = msg(3, "id3@x", "hash4", "answered");
    assert_int_equal(store_message_record(f->st, &later, 100), 0);
    assert_int_equal(store_message_seen(f->st, "id1@x", "hash4", outcome, sizeof outcome), 1);
    assert_string_equal(outcome, "recorded");
    struct store_message retry = msg(4, "id5@x", "hash5", "retry");
    assert_int_equal(store_message_record(f->st, &retry, 100), 0);
    assert_int_equal(store_message_seen(f->st, "id5@x", "hash5", outcome, sizeof outcome), 0);
}

static void
test_message_retry_not_seen_until_final(void **state)
{
    struct fixture *f = *state;
    struct store_message m = msg(3, "id3@x", "hash3", "retry");
    m.detail = "template missing";
    assert_int_equal(store_message_attempt(f->st, &m, 100), 1);
    assert_int_equal(store_message_seen(f->st, "id3@x", "hash3", NULL, 0), 0);
    assert_int_equal(store_message_uid_done(f->st, "INBOX", 5, 3), 0);
    assert_int_equal(store_message_count(f->st, "retry"), 1);

    m.outcome = "answered";
    assert_int_equal(store_message_record(f->st, &m, 200), 0);
    assert_int_equal(store_message_seen(f->st, "id3@x", "hash3", NULL, 0), 1);
    assert_int_equal(store_message_uid_done(f->st, "INBOX", 5, 3), 1);
    assert_int_equal(store_message_uid_done(f->st, "INBOX", 6, 3), 0); /* other UIDVALIDITY */
    assert_int_equal(store_message_count(f->st, "retry"), 0);
    assert_int_equal(store_message_count(f->st, NULL), 1); /* the retry row became final */
    /* The attempt count survives the final record. */
    assert_int_equal(raw_int(f->path, "SELECT attempts FROM messages WHERE uid = 3"), 1);
}

static void
test_message_attempt_counting(void **state)
{
    struct fixture *f = *state;
    struct store_message m = msg(4, "id4@x", "hash4", "retry");
    m.detail = "first";
    assert_int_equal(store_message_attempt(f->st, &m, 100), 1);
    m.detail = "second";
    assert_int_equal(store_message_attempt(f->st, &m, 110), 2);
    m.detail = "third";
    assert_int_equal(store_message_attempt(f->st, &m, 120), 3);
    /* Another UID counts separately. */
    struct store_message other = msg(5, NULL, "hash5", "retry");
    assert_int_equal(store_message_attempt(f->st, &other, 120), 1);

    /* The caller gives up: final 'failed'; a late attempt cannot turn it back into a retry. */
    m.outcome = "failed";
    assert_int_equal(store_message_record(f->st, &m, 130), 0);
    assert_int_equal(store_message_attempt(f->st, &m, 140), 3);
    assert_int_equal(store_message_count(f->st, "failed"), 1);
    assert_int_equal(store_message_uid_done(f->st, "INBOX", 5, 4), 1);
}

static void
test_message_record_upsert_and_count(void **state)
{
    struct fixture *f = *state;
    struct store_message a = msg(1, "a@x", "ha", "answered");
    struct store_message b = msg(2, "b@x", "hb", "ignored");
    struct store_message c = msg(3, "c@x", "hc", "ignored");
    assert_int_equal(store_message_record(f->st, &a, 1), 0);
    assert_int_equal(store_message_record(f->st, &b, 1), 0);
    assert_int_equal(store_message_record(f->st, &c, 1), 0);
    a.outcome = "recorded";
    assert_int_equal(store_message_record(f->st, &a, 2), 0);
    assert_int_equal(store_message_count(f->st, NULL), 3);
    assert_int_equal(store_message_count(f->st, "ignored"), 2);
    assert_int_equal(store_message_count(f->st, "answered"), 0);
    assert_int_equal(store_message_count(f->st, "recorded"), 1);
    a.outcome = NULL;
    assert_int_equal(store_message_record(f->st, &a, 3), -1);
    assert_non_null(strstr(store_errmsg(f->st), "a@x"));
}

/* ---- outbox ---- */

static int64_t
add_mail(struct store *st, const char *to, const char *msgid, time_t now)
{
    int64_t id = 0;
    assert_int_equal(
        store_outbox_add(st, to, "bot@x.org", msgid, "Subject: hi\r\n", "hello\r\n", now, &id), 0);
    assert_true(id > 0);
    return id;
}

static void
test_outbox_due_order_filter_limit(void **state)
{
    struct fixture *f = *state;
    add_mail(f->st, "c@x.org", "m3@x", 300);
    add_mail(f->st, "a@x.org", "m1@x", 100);
    add_mail(f->st, "b@x.org", "m2@x", 200);

    struct store_outbox *items = NULL;
    size_t n = 99;
    assert_int_equal(store_outbox_due(f->st, 1000, 10, &items, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(items[0].recipient, "a@x.org");
    assert_string_equal(items[1].recipient, "b@x.org");
    assert_string_equal(items[2].recipient, "c@x.org");
    assert_string_equal(items[0].message_id, "m1@x");
    assert_string_equal(items[0].sender, "bot@x.org");
    assert_string_equal(items[0].headers, "Subject: hi\r\n");
    assert_string_equal(items[0].body, "hello\r\n");
    assert_string_equal(items[0].status, "queued");
    assert_int_equal(items[0].attempts, 0);
    assert_int_equal(items[0].created, 100);
    assert_int_equal(items[0].next_attempt, 100);
    store_outbox_free(items, n);

    assert_int_equal(store_outbox_due(f->st, 1000, 2, &items, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(items[1].recipient, "b@x.org");
    store_outbox_free(items, n);

    assert_int_equal(store_outbox_due(f->st, 150, 10, &items, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].recipient, "a@x.org");
    store_outbox_free(items, n);

    assert_int_equal(store_outbox_due(f->st, 99, 10, &items, &n), 0);
    assert_int_equal(n, 0);
    store_outbox_free(items, n);
}

static void
test_outbox_defer(void **state)
{
    struct fixture *f = *state;
    int64_t id = add_mail(f->st, "a@x.org", "m1@x", 100);
    assert_int_equal(store_outbox_next_due(f->st), 100);
    assert_int_equal(store_outbox_defer(f->st, id, 700, "451 try later"), 0);
    assert_int_equal(store_outbox_defer(f->st, id, 900, "421 busy"), 0);
    assert_int_equal(store_outbox_next_due(f->st), 900);

    struct store_outbox *items = NULL;
    size_t n = 0;
    assert_int_equal(store_outbox_due(f->st, 899, 0, &items, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_outbox_due(f->st, 900, 0, &items, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].attempts, 2);
    assert_string_equal(items[0].last_error, "421 busy");
    assert_int_equal(items[0].next_attempt, 900);
    store_outbox_free(items, n);
}

static int
grab_outbox(const struct store_outbox *o, void *arg)
{
    struct store_outbox *copy = arg;
    copy->id = o->id;
    copy->attempts = o->attempts;
    copy->sent_at = o->sent_at;
    copy->status = strdup(o->status);
    copy->reply = o->reply ? strdup(o->reply) : NULL;
    copy->last_error = o->last_error ? strdup(o->last_error) : NULL;
    return 0;
}

static void
free_grab(struct store_outbox *o)
{
    free(o->status);
    free(o->reply);
    free(o->last_error);
    memset(o, 0, sizeof *o);
}

static void
test_outbox_sent(void **state)
{
    struct fixture *f = *state;
    int64_t id = add_mail(f->st, "a@x.org", "m1@x", 100);
    assert_int_equal(store_outbox_sent(f->st, id, 150, "250 2.0.0 Ok: queued as ABC"), 0);
    assert_int_equal(store_outbox_count(f->st, "queued"), 0);
    assert_int_equal(store_outbox_count(f->st, "sent"), 1);
    assert_int_equal(store_outbox_next_due(f->st), 0);

    struct store_outbox o = {0};
    assert_int_equal(store_outbox_each(f->st, "sent", grab_outbox, &o), 0);
    assert_int_equal(o.id, id);
    assert_string_equal(o.status, "sent");
    assert_string_equal(o.reply, "250 2.0.0 Ok: queued as ABC");
    assert_int_equal(o.sent_at, 150);
    free_grab(&o);

    /* Sending twice is a bug in the caller and is reported, not ignored. */
    assert_int_equal(store_outbox_sent(f->st, id, 160, "250 again"), -1);
    assert_non_null(strstr(store_errmsg(f->st), "no queued mail"));
}

struct replies {
    int64_t farewell;
    int n, wrong, blanked;
};

/* Each sent row carries its own reply ("250 <id>") and time; the farewell is blanked. */
static int
check_own_reply(const struct store_outbox *o, void *arg)
{
    struct replies *r = arg;
    char want[32];
    snprintf(want, sizeof want, "250 %lld", (long long)o->id);
    r->n++;
    if (o->id == r->farewell)
        r->blanked = o->reply == NULL && strcmp(o->recipient, "") == 0 &&
                     strcmp(o->body, "") == 0 && strcmp(o->headers, "") == 0;
    else
        r->wrong += o->reply == NULL || strcmp(o->reply, want) != 0 || o->sent_at != 150;
    return 0;
}

/* A group of more than one statement's worth (32) lands on the right rows. */
static void
test_outbox_sent_all(void **state)
{
    struct fixture *f = *state;
    enum { N = 70 };
    struct store_outbox_mark marks[N];
    char replies[N][32];
    for (int i = 0; i < N; i++) {
        char msgid[32];
        snprintf(msgid, sizeof msgid, "m%d@x", i);
        marks[i].id = add_mail(f->st, "a@x.org", msgid, 100);
        snprintf(replies[i], sizeof replies[i], "250 %lld", (long long)marks[i].id);
        marks[i].reply = replies[i];
    }
    int64_t farewell = marks[40].id, left = add_mail(f->st, "b@x.org", "left@x", 100);
    assert_int_equal(store_outbox_erase_after(f->st, farewell), 0);
    assert_int_equal(store_outbox_sent_all(f->st, marks, N, 150), 0);
    assert_int_equal(store_outbox_count(f->st, "sent"), N);
    assert_int_equal(store_outbox_count(f->st, "queued"), 1); /* not in the group */
    struct replies r = {.farewell = farewell};
    assert_int_equal(store_outbox_each(f->st, "sent", check_own_reply, &r), 0);
    assert_int_equal(r.n, N);
    assert_int_equal(r.wrong, 0);
    assert_true(r.blanked); /* the farewell: blanked, reply and all */
    struct store_outbox o = {0};
    assert_int_equal(store_outbox_each(f->st, "queued", grab_outbox, &o), 0);
    assert_int_equal(o.id, left);
    free_grab(&o);

    /* A mail no longer queued in the group is reported, as store_outbox_sent does. */
    struct store_outbox_mark again[2] = {{left, "250 ok"}, {marks[0].id, "250 again"}};
    assert_int_equal(store_outbox_sent_all(f->st, again, 2, 160), -1);
    assert_non_null(strstr(store_errmsg(f->st), "no longer queued"));
    assert_int_equal(store_outbox_sent_all(f->st, marks, 0, 160), 0); /* nothing to do */
}

static void
test_outbox_fail(void **state)
{
    struct fixture *f = *state;
    int64_t id = add_mail(f->st, "a@x.org", "m1@x", 100);
    add_mail(f->st, "b@x.org", "m2@x", 100);
    assert_int_equal(store_outbox_defer(f->st, id, 200, "451 later"), 0);
    assert_int_equal(store_outbox_fail(f->st, id, 300, "550 no such user"), 0);
    assert_int_equal(store_outbox_count(f->st, "failed"), 1);
    assert_int_equal(store_outbox_count(f->st, "queued"), 1);
    assert_int_equal(store_outbox_count(f->st, NULL), 2);

    struct store_outbox o = {0};
    assert_int_equal(store_outbox_each(f->st, "failed", grab_outbox, &o), 0);
    assert_int_equal(o.id, id);
    assert_int_equal(o.attempts, 2);
    assert_string_equal(o.last_error, "550 no such user");
    free_grab(&o);

    /* A failed mail is never due again. */
    struct store_outbox *items = NULL;
    size_t n = 0;
    assert_int_equal(store_outbox_due(f->st, 10000, 0, &items, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].recipient, "b@x.org");
    store_outbox_free(items, n);
}

static void
test_outbox_empty_and_errors(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_outbox_count(f->st, NULL), 0);
    assert_int_equal(store_outbox_next_due(f->st), 0);
    assert_int_equal(store_outbox_defer(f->st, 42, 10, "x"), -1);
    assert_non_null(strstr(store_errmsg(f->st), "42"));
    assert_int_equal(store_outbox_fail(f->st, 42, 10, "x"), -1);

    add_mail(f->st, "a@x.org", "dup@x", 1);
    int64_t id = 0;
    assert_int_equal(
        store_outbox_add(f->st, "b@x.org", "bot@x.org", "dup@x", "H\r\n", "B\r\n", 2, &id), -1);
    assert_non_null(strstr(store_errmsg(f->st), "dup@x"));
    assert_non_null(strstr(store_errmsg(f->st), "UNIQUE"));
    assert_int_equal(store_outbox_count(f->st, NULL), 1);
}

/* ---- transactions ---- */

static void
test_rollback_discards(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_member_upsert(f->st, "a@x.org", "A", "mentor", "active", NULL, 1, NULL),
                     0);
    add_mail(f->st, "a@x.org", "m1@x", 1);
    struct store_message m = msg(1, "id@x", "h", "answered");
    assert_int_equal(store_message_record(f->st, &m, 1), 0);
    assert_int_equal(store_mailbox_set(f->st, "INBOX", 5, 1), 0);
    assert_int_equal(store_member_count(f->st, NULL, NULL), 1); /* visible inside */
    store_rollback(f->st);

    assert_int_equal(store_member_count(f->st, NULL, NULL), 0);
    assert_int_equal(store_outbox_count(f->st, NULL), 0);
    assert_int_equal(store_message_seen(f->st, "id@x", "h", NULL, 0), 0);
    uint32_t v = 9, last = 9;
    assert_int_equal(store_mailbox_get(f->st, "INBOX", &v, &last), 0);
    assert_int_equal(last, 0);
    /* Also after a reopen, i.e. nothing reached the file. */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM members"), 0);

    /* A rollback outside a transaction is harmless. */
    store_rollback(f->st);
}

static void
test_commit_keeps_and_no_nesting(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_begin(f->st), -1);
    assert_non_null(strstr(store_errmsg(f->st), "beginning transaction"));
    assert_int_equal(store_event_add(f->st, 1, "joined", "a@x.org", "m@x", NULL), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM events"), 1);
    assert_int_equal(store_commit(f->st), -1); /* nothing to commit */
}

static void
test_rollback_keeps_the_causing_error(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_member_upsert(f->st, "z@x.org", NULL, "wizard", NULL, NULL, 1, NULL),
                     -1);
    store_rollback(f->st);
    assert_non_null(strstr(store_errmsg(f->st), "z@x.org"));
}

/* ---- values ---- */

static void
test_sql_metacharacters_verbatim(void **state)
{
    struct fixture *f = *state;
    const char *addr = "o'brien\"--@x.org";
    assert_int_equal(store_member_upsert(f->st, addr, EVIL, "mentor", "active", EVIL, 1, NULL), 0);
    struct store_member m;
    assert_int_equal(store_member_get(f->st, addr, &m), 1);
    assert_string_equal(m.address, addr);
    assert_string_equal(m.name, EVIL);
    assert_string_equal(m.profile, EVIL);
    store_member_free(&m);

    add_mail(f->st, addr, EVIL, 1);
    struct store_outbox *items = NULL;
    size_t n = 0;
    assert_int_equal(store_outbox_due(f->st, 1, 0, &items, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].message_id, EVIL);
    store_outbox_free(items, n);

    assert_int_equal(store_event_add(f->st, 1, "note", addr, EVIL, EVIL), 0);
    struct store_message msg1 = msg(1, EVIL, EVIL, "answered");
    assert_int_equal(store_message_record(f->st, &msg1, 1), 0);
    assert_int_equal(store_message_seen(f->st, EVIL, NULL, NULL, 0), 1);
    assert_int_equal(store_member_count(f->st, NULL, NULL), 1); /* table still there */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM members"), 1);
}

/* ---- event log ---- */

static void
test_events(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_event_count(f->st, NULL), 0);
    assert_int_equal(store_event_add(f->st, 10, "joined", "a@x.org", "m1@x", "as mentor"), 0);
    assert_int_equal(store_event_add(f->st, 11, "joined", "b@x.org", NULL, NULL), 0);
    assert_int_equal(store_event_add(f->st, 12, "paired", "a@x.org", NULL, "with b@x.org"), 0);
    assert_int_equal(store_event_count(f->st, "joined"), 2);
    assert_int_equal(store_event_count(f->st, "paired"), 1);
    assert_int_equal(store_event_count(f->st, "left"), 0);
    assert_int_equal(store_event_count(f->st, NULL), 3);
    assert_int_equal(raw_int(f->path, "SELECT at FROM events WHERE kind = 'paired'"), 12);
    assert_int_equal(store_event_add(f->st, 13, NULL, NULL, NULL, NULL), -1);
}

/* ---- two processes sharing the file ---- */

static void
test_two_connections_read_while_writing(void **state)
{
    struct fixture *f = *state;
    struct store *ctl = NULL;
    char err[512];
    assert_int_equal(store_open(f->path, &ctl, err, sizeof err), 0);

    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_member_upsert(f->st, "a@x.org", "A", "mentor", "active", NULL, 1, NULL),
                     0);
    /* WAL: the reader is not blocked and sees the last committed state. */
    assert_int_equal(store_member_count(ctl, NULL, NULL), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(store_member_count(ctl, NULL, NULL), 1);

    /* And the other way round, mentorctl writing while the daemon reads. */
    assert_int_equal(store_begin(ctl), 0);
    assert_int_equal(store_member_upsert(ctl, "a@x.org", NULL, NULL, "paused", NULL, 2, NULL), 0);
    assert_int_equal(store_member_count(f->st, NULL, "active"), 1);
    assert_int_equal(store_commit(ctl), 0);
    assert_int_equal(store_member_count(f->st, NULL, "paused"), 1);
    store_close(ctl);
}

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_busy_timeout_waits_for_writer(void **state)
{
    struct fixture *f = *state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The "other process": hold the write lock for a while, then commit. */
        struct store *other = NULL;
        char err[512];
        int ok = store_open(f->path, &other, err, sizeof err) == 0 && store_begin(other) == 0 &&
                 store_event_add(other, 1, "child", NULL, NULL, NULL) == 0;
        if (write(ready[1], ok ? "1" : "0", 1) != 1)
            _exit(2);
        usleep(400 * 1000);
        ok = ok && store_commit(other) == 0;
        store_close(other);
        _exit(ok ? 0 : 1);
    }
    close(ready[1]);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    assert_int_equal(c, '1');

    double t0 = now_seconds();
    assert_int_equal(store_begin(f->st), 0); /* waits instead of failing with SQLITE_BUSY */
    double waited = now_seconds() - t0;
    assert_int_equal(store_event_add(f->st, 2, "parent", NULL, NULL, NULL), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_true(waited > 0.2);

    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(store_event_count(f->st, NULL), 2);
}

/* ---- schema 2: upgrade in place, tokens, threading, bounces ---- */

static void
test_version1_database_upgrades_in_place(void **state)
{
    (void)state;
    char dir[256], path[300], err[512], cmd[800];
    temp_db(dir, sizeof dir, path, sizeof path);
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' < '%s/tests/data/schema-v1.sql'", path, MENTORD_SRCDIR);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(raw_int(path, "PRAGMA user_version"), 1);
    struct store *st = NULL;
    assert_int_equal(store_open(path, &st, err, sizeof err), 0);
    assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
    struct store_member m;
    assert_int_equal(store_member_get(st, "ann@example.org", &m), 1);
    assert_string_equal(m.profile, "skills: rust");
    assert_int_equal(m.undeliverable, 0);
    assert_true(m.bounce_score == 0.0);
    store_member_free(&m);
    char seen[32];
    assert_int_equal(store_message_seen(st, "m7@client.test", "zzz", seen, sizeof seen), 1);
    assert_string_equal(seen, "answered");
    /* the old queued mail is still due, now of kind "reply" */
    assert_int_equal(store_outbox_recent(st, "ANN@example.org", "reply", 0), 1);
    store_close(st);
    tu_rmrf(dir);
}

static void
test_tokens_single_use_and_expiry(void **state)
{
    struct fixture *f = *state;
    struct store_token t;

    assert_int_equal(store_token_add(f->st, "abcdefghjk", "Ann@x.org", "join", "Ann", 100, 200), 0);
    assert_int_equal(store_token_add(f->st, "mnpqrstuvw", "bob@x.org", "mentor", NULL, 100, 150),
                     0);
    assert_int_equal(store_token_open_for(f->st, "ann@X.org", 120, &t), 1);
    assert_string_equal(t.token, "abcdefghjk");
    assert_string_equal(t.action, "join");
    assert_int_equal(t.closed, 0);
    store_token_free(&t);
    assert_int_equal(store_token_close(f->st, "abcdefghjk", 130, "confirmed"), 1);
    assert_int_equal(store_token_close(f->st, "abcdefghjk", 131, "confirmed"), 0);
    assert_int_equal(store_token_get(f->st, "abcdefghjk", &t), 1);
    assert_string_equal(t.outcome, "confirmed");
    assert_int_equal(t.closed, 130);
    store_token_free(&t);
    assert_int_equal(store_token_open_for(f->st, "ann@x.org", 120, &t), 0);
    /* expiry: bob's token ran out at 150 */
    assert_int_equal(store_token_open_for(f->st, "bob@x.org", 160, &t), 0);
    assert_int_equal(store_token_expire(f->st, 160), 1);
    assert_int_equal(store_token_get(f->st, "mnpqrstuvw", &t), 1);
    assert_string_equal(t.outcome, "expired");
    store_token_free(&t);
    assert_int_equal(store_token_get(f->st, "nosuchtokn", &t), 0);
}

static void
test_token_close_address(void **state)
{
    struct fixture *f = *state;
    struct store_token t;

    assert_int_equal(store_token_add(f->st, "aaaaaaaaaa", "c@x.org", "join", NULL, 1, 999), 0);
    assert_int_equal(store_token_add(f->st, "bbbbbbbbbb", "c@x.org", "mentor", NULL, 2, 999), 0);
    assert_int_equal(store_token_close_address(f->st, "C@x.org", 5, "bounced"), 2);
    assert_int_equal(store_token_get(f->st, "bbbbbbbbbb", &t), 1);
    assert_string_equal(t.outcome, "bounced");
    store_token_free(&t);
}

static void
test_outbox_tag_ref_and_recent(void **state)
{
    struct fixture *f = *state;
    int64_t id1, id2;
    char ref[32];

    assert_int_equal(
        store_outbox_add(f->st, "a@x.org", "m@x.org", "c1@x.org", "H\r\n", "B\r\n", 100, &id1), 0);
    assert_int_equal(
        store_outbox_add(f->st, "A@X.org", "m@x.org", "c2@x.org", "H\r\n", "B\r\n", 200, &id2), 0);
    assert_int_equal(store_outbox_tag(f->st, id1, "confirm", "abcdefghjk"), 0);
    char rcpt[64];
    assert_int_equal(store_outbox_lookup(f->st, "c1@x.org", rcpt, sizeof rcpt, ref, sizeof ref), 1);
    assert_string_equal(ref, "abcdefghjk");
    assert_string_equal(rcpt, "a@x.org");
    assert_int_equal(store_outbox_lookup(f->st, "c2@x.org", rcpt, sizeof rcpt, ref, sizeof ref), 1);
    assert_string_equal(ref, "");
    assert_string_equal(rcpt, "A@X.org");
    assert_int_equal(store_outbox_lookup(f->st, "nope@x.org", NULL, 0, ref, sizeof ref), 0);
    assert_int_equal(store_outbox_recent(f->st, "a@x.org", "reply", 0), 1);
    assert_int_equal(store_outbox_recent(f->st, "a@x.org", "confirm", 0), 1);
    assert_int_equal(store_outbox_recent(f->st, "a@x.org", "reply", 201), 0);
    /* The budget's two windows in one statement: a day from 0 holds both, an hour from 150 one. */
    int day = -1, hour = -1;
    assert_int_equal(store_outbox_answers(f->st, "A@x.org", 0, 150, &day, &hour), 0);
    assert_int_equal(day, 2);
    assert_int_equal(hour, 1);
    assert_int_equal(store_outbox_answers(f->st, "a@x.org", 201, 201, &day, &hour), 0);
    assert_int_equal(day, 0);
    assert_int_equal(hour, 0);
    assert_int_equal(store_outbox_tag(f->st, 9999, "reply", NULL), -1);
}

/*
 * The stranger cap's counts (migration 9's triggers): they follow every
 * change to a stranger's mail, whichever statement makes it.
 */
static void
test_stranger_counts_follow_the_outbox(void **state)
{
    struct fixture *f = *state;
    const time_t h = 1000 * 3600; /* a whole hour, a whole day too */
    int64_t a, b, c;

    assert_int_equal(
        store_outbox_add(f->st, "a@x.org", "m@x.org", "s1@x.org", "H\r\n", "B\r\n", h + 5, &a), 0);
    assert_int_equal(store_stranger_planned(f->st, h, h + 3600), 0); /* not a stranger yet */
    assert_int_equal(store_outbox_set_trust(f->st, a, "abcdefghjk", 1), 0);
    struct store_outbox_new m = {.recipient = "b@x.org",
                                 .sender = "m@x.org",
                                 .message_id = "s2@x.org",
                                 .headers = "H\r\n",
                                 .body = "B\r\n",
                                 .at = h + 3599,
                                 .kind = "confirm",
                                 .stranger = 1};
    assert_int_equal(store_outbox_queue(f->st, &m, &b), 0);
    m.message_id = "s3@x.org";
    m.at = h + 3600;
    m.template_name = "welcome";
    assert_int_equal(store_outbox_queue(f->st, &m, &c), 0);
    assert_int_equal(store_stranger_planned(f->st, h, h + 3600), 2);
    assert_int_equal(store_stranger_planned(f->st, h + 3600, h + 7200), 1);
    assert_int_equal(store_stranger_planned(f->st, h, h + 86400), 3);
    int in_hour = -1, in_day = -1; /* both in one statement, as the cap reads them */
    assert_int_equal(store_stranger_slot(f->st, h + 3600, h, &in_hour, &in_day), 0);
    assert_int_equal(in_hour, 1);
    assert_int_equal(in_day, 3);
    assert_int_equal(store_stranger_slot(f->st, h, h, &in_hour, &in_day), 0);
    assert_int_equal(in_hour, 2);
    /* a retry moves it to its new hour; being sent moves nothing */
    assert_int_equal(store_outbox_defer(f->st, b, h + 7300, "busy"), 0);
    assert_int_equal(store_outbox_sent(f->st, a, h + 10, "250 ok"), 0);
    assert_int_equal(store_stranger_planned(f->st, h, h + 3600), 1);
    assert_int_equal(store_stranger_planned(f->st, h + 7200, h + 10800), 1);
    /* a confirmed address: no longer counted; withdrawn mail: gone */
    assert_int_equal(store_outbox_set_trust(f->st, a, "abcdefghjk", 0), 0);
    assert_int_equal(store_stranger_planned(f->st, h, h + 3600), 0);
    assert_int_equal(store_outbox_withdraw(f->st, "b@x.org", "welcome"), 1);
    assert_int_equal(store_stranger_planned(f->st, h + 3600, h + 7200), 0);
    assert_int_equal(store_stranger_planned(f->st, h, h + 86400), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM outbox WHERE stranger = 1"), 1);
}

/* A database from before migration 9 upgrades with its strangers' mail already counted. */
static void
test_stranger_counts_backfilled(void **state)
{
    (void)state;
    char dir[256], path[300], err[512];
    struct store *st = NULL;
    const time_t h = 1000 * 3600;
    int64_t id;

    temp_db(dir, sizeof dir, path, sizeof path);
    assert_int_equal(store_open(path, &st, err, sizeof err), 0);
    struct store_outbox_new m = {.recipient = "b@x.org",
                                 .sender = "m@x.org",
                                 .message_id = "s1@x.org",
                                 .headers = "H\r\n",
                                 .body = "B\r\n",
                                 .at = h + 10,
                                 .kind = "confirm",
                                 .stranger = 1};
    assert_int_equal(store_outbox_queue(st, &m, &id), 0);
    m.message_id = "s2@x.org";
    m.at = h + 3700;
    assert_int_equal(store_outbox_queue(st, &m, &id), 0);
    store_close(st);
    raw_exec(path, "DROP TRIGGER stranger_hours_insert; DROP TRIGGER stranger_hours_delete;"
                   " DROP TRIGGER stranger_hours_update; DROP TABLE stranger_hours;"
                   " PRAGMA user_version = 8;");
    assert_int_equal(store_open(path, &st, err, sizeof err), 0);
    assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
    assert_int_equal(store_stranger_planned(st, h, h + 3600), 1);
    assert_int_equal(store_stranger_planned(st, h, h + 86400), 2);
    store_close(st);
    tu_rmrf(dir);
}

/* SQL run on a raw connection that must fail: its result code. */
static int
raw_exec_rc(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return rc;
}

/*
 * Migration 10 rewrites the CHECK rules of an old database as ORs (no IN list
 * for SQLite to build a B-tree of at every INSERT) and drops outbox_stranger:
 * the rows stay, the file is sound, and the rules still refuse what they did.
 */
static void
test_checks_without_in_lists(void **state)
{
    (void)state;
    char dir[256], path[300], err[512], cmd[800];
    temp_db(dir, sizeof dir, path, sizeof path);
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' < '%s/tests/data/schema-v1.sql'", path, MENTORD_SRCDIR);
    assert_int_equal(system(cmd), 0);
    struct store *st = NULL;
    assert_int_equal(store_open(path, &st, err, sizeof err), 0);
    assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
    store_close(st);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN"
                                   " ('members', 'outbox', 'pairs') AND sql LIKE '%CHECK (%=%'"
                                   " AND sql NOT LIKE '% IN (''%'"),
                     3);
    assert_int_equal(
        raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'outbox_stranger'"), 0);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM pragma_integrity_check WHERE"
                                   " integrity_check = 'ok'"),
                     1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM members WHERE address = 'ann@example.org'"
                                   " AND profile = 'skills: rust'"),
                     1);
    assert_int_equal(raw_exec_rc(path,
                                 "INSERT INTO members (address, role, state, created, updated)"
                                 " VALUES ('x@example.org', 'boss', 'active', 1, 1)"),
                     SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec_rc(path, "UPDATE members SET state = 'gone'"), SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec_rc(path, "UPDATE outbox SET status = 'lost'"), SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec_rc(path, "INSERT INTO pairs (state, created) VALUES ('lost', 1)"),
                     SQLITE_CONSTRAINT);
    assert_int_equal(raw_exec_rc(path,
                                 "INSERT INTO members (address, role, state, created, updated)"
                                 " VALUES ('y@example.org', 'manager', 'left', 1, 1);"
                                 "INSERT INTO pairs (state, created) VALUES ('ended', 1);"
                                 "UPDATE outbox SET status = 'failed'"),
                     SQLITE_OK);
    tu_rmrf(dir);
}

/*
 * 1 when a line of SQLite's plan for sql has what in it (at its start when
 * at_start): "TEMP B-TREE" (it sorts), "SCAN" (it reads a whole table).
 */
static int
raw_plan_has(const char *path, const char *sql, const char *what, int at_start)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    char explain[512];
    int found = 0;

    snprintf(explain, sizeof explain, "EXPLAIN QUERY PLAN %s", sql);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, explain, -1, &stmt, NULL), SQLITE_OK);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(stmt, 3);
        if (at_start ? strncmp(line, what, strlen(what)) == 0 : strstr(line, what) != NULL)
            found = 1;
    }
    assert_int_equal(sqlite3_finalize(stmt), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return found;
}

/* 1 when SQLite's plan for sql sorts in a temporary B-tree, else 0. */
static int
raw_plan_sorts(const char *path, const char *sql)
{
    return raw_plan_has(path, sql, "TEMP B-TREE", 0);
}

/*
 * Migration 11: a version-10 database (tokens_address only) upgrades in place
 * to tokens_open (address, created), the lookup of the open confirmation is
 * answered from it without sorting, and finds the newest open one.
 */
static void
test_open_token_index_upgrade(void **state)
{
    (void)state;
    char dir[256], path[300], err[512];
    struct store *st = NULL;
    struct store_token t;

    temp_db(dir, sizeof dir, path, sizeof path);
    assert_int_equal(store_open(path, &st, err, sizeof err), 0);
    assert_int_equal(store_token_add(st, "aaaaaaaaaa", "ann@x.org", "join", NULL, 100, 900), 0);
    assert_int_equal(store_token_add(st, "bbbbbbbbbb", "Ann@x.org", "join", NULL, 300, 900), 0);
    assert_int_equal(store_token_add(st, "cccccccccc", "ann@x.org", "join", NULL, 200, 900), 0);
    assert_int_equal(store_token_add(st, "dddddddddd", "ann@x.org", "join", NULL, 400, 900), 0);
    assert_int_equal(store_token_close(st, "dddddddddd", 410, "confirmed"), 1);
    store_close(st);
    raw_exec(path, "DROP INDEX tokens_open; CREATE INDEX tokens_address ON tokens (address);"
                   " PRAGMA user_version = 10;");
    assert_int_equal(store_open(path, &st, err, sizeof err), 0);
    assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
    assert_int_equal(store_token_open_for(st, "ANN@x.org", 500, &t), 1);
    assert_string_equal(t.token, "bbbbbbbbbb");
    store_token_free(&t);
    store_close(st);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'tokens_open'"),
                     1);
    assert_int_equal(
        raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'tokens_address'"), 0);
    assert_int_equal(raw_plan_sorts(path, "SELECT token FROM tokens WHERE address = 'a@x.org'"
                                          " AND closed IS NULL AND expires > 5"
                                          " ORDER BY created DESC LIMIT 1"),
                     0);
    tu_rmrf(dir);
}

/* 1 when SQLite's plan for sql reads the whole of a table (SCAN), else 0. */
static int
raw_plan_scans(const char *path, const char *sql)
{
    return raw_plan_has(path, sql, "SCAN", 1);
}

/*
 * Migration 12: a version-11 database (outbox_verp on every row, BINARY,
 * which the NOCASE lookup never used) upgrades in place to the partial
 * NOCASE index: a bounce's tag is found in any case through the index, and a
 * mail without a tag writes no entry.
 */
static void
test_verp_index_upgrade(void **state)
{
    (void)state;
    char dir[256], path[300], err[512], rcpt[128], msgid[128];
    struct store *st = NULL;
    int64_t id;

    temp_db(dir, sizeof dir, path, sizeof path);
    assert_int_equal(store_open(path, &st, err, sizeof err), 0);
    struct store_outbox_new m = {.recipient = "ann@x.org",
                                 .sender = "m+b-abcdefghjk@x.org",
                                 .message_id = "v1@x.org",
                                 .headers = "H\r\n",
                                 .body = "B\r\n",
                                 .at = 100,
                                 .kind = "reply",
                                 .verp = "abcdefghjk"};
    assert_int_equal(store_outbox_queue(st, &m, &id), 0);
    m.recipient = "bob@x.org";
    m.message_id = "v2@x.org";
    m.verp = NULL;
    assert_int_equal(store_outbox_queue(st, &m, &id), 0);
    store_close(st);
    raw_exec(path, "DROP INDEX outbox_verp; CREATE INDEX outbox_verp ON outbox (verp);"
                   " PRAGMA user_version = 11;");
    assert_int_equal(raw_plan_scans(path, "SELECT recipient FROM outbox WHERE verp = 'x'"
                                          " COLLATE NOCASE"),
                     1);
    assert_int_equal(store_open(path, &st, err, sizeof err), 0);
    assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
    assert_int_equal(store_outbox_by_verp(st, "ABCDEFGHJK", rcpt, sizeof rcpt, msgid, sizeof msgid),
                     1);
    assert_string_equal(rcpt, "ann@x.org");
    assert_string_equal(msgid, "v1@x.org");
    assert_int_equal(store_outbox_by_verp(st, "kjhgfedcba", rcpt, sizeof rcpt, msgid, sizeof msgid),
                     0);
    store_close(st);
    assert_int_equal(raw_plan_scans(path, "SELECT recipient, coalesce(message_id, '') FROM outbox"
                                          " WHERE verp = 'x' COLLATE NOCASE"),
                     0);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM outbox INDEXED BY outbox_verp"
                                   " WHERE verp IS NOT NULL"),
                     1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM pragma_integrity_check WHERE"
                                   " integrity_check = 'ok'"),
                     1);
    tu_rmrf(dir);
}

/*
 * The statement journal's blocks kept for reuse (store.c) belong to the
 * thread that freed them: a thread that used a store and ended gives them
 * back (the sanitizer build sees any leak), and the data written through
 * them, in one thread and then another, is the data read back.
 */
static void *
journal_in_thread(void *arg)
{
    const char *path = arg;
    char err[512], addr[64];
    struct store *st = NULL;

    if (store_open(path, &st, err, sizeof err) != 0 || store_begin(st) != 0)
        return (void *)1;
    for (int i = 0; i < 50; i++) {
        snprintf(addr, sizeof addr, "t%d@example.org", i);
        if (store_savepoint(st) != 0 ||
            store_member_upsert(st, addr, "T", "newcomer", "pending", "skills: rust", 10, NULL) !=
                0 ||
            store_release(st) != 0)
            return (void *)1;
    }
    void *rc = store_commit(st) == 0 ? NULL : (void *)1;
    store_close(st);
    return rc;
}

static void
test_journal_blocks_per_thread(void **state)
{
    struct fixture *f = *state;
    pthread_t t;
    void *rc = (void *)1;

    for (int round = 0; round < 2; round++) {
        assert_int_equal(pthread_create(&t, NULL, journal_in_thread, f->path), 0);
        assert_int_equal(pthread_join(t, &rc), 0);
        assert_null(rc);
    }
    assert_int_equal(store_begin(f->st), 0);
    for (int i = 0; i < 50; i++) {
        char addr[64];
        snprintf(addr, sizeof addr, "m%d@example.org", i);
        assert_int_equal(store_savepoint(f->st), 0);
        assert_int_equal(
            store_member_upsert(f->st, addr, "M", "mentor", "active", "skills: go", 20, NULL), 0);
        assert_int_equal(store_release(f->st), 0);
    }
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(store_member_count(f->st, "newcomer", NULL), 50);
    assert_int_equal(store_member_count(f->st, "mentor", NULL), 50);
    struct store_member m;
    assert_int_equal(store_member_get(f->st, "t49@example.org", &m), 1);
    assert_string_equal(m.profile, "skills: rust");
    store_member_free(&m);
}

static void
test_member_bounce_score_and_away(void **state)
{
    struct fixture *f = *state;
    struct store_member m;
    int undeliverable = -1;

    assert_int_equal(store_member_upsert(f->st, "d@x.org", NULL, "mentor", "active", NULL, 1, NULL),
                     0);
    assert_int_equal(store_member_bounce(f->st, "D@x.org", 1.0, 100, 2, &undeliverable), 1);
    assert_int_equal(undeliverable, 0);
    assert_int_equal(store_member_bounce(f->st, "d@x.org", 0.5, 200, 2, &undeliverable), 1);
    assert_int_equal(undeliverable, 0);
    assert_int_equal(store_member_bounce(f->st, "d@x.org", 0.5, 300, 2, &undeliverable), 1);
    assert_int_equal(undeliverable, 1);
    assert_int_equal(store_member_bounce(f->st, "stranger@x.org", 1.0, 300, 2, &undeliverable), 0);
    assert_int_equal(store_member_set_away(f->st, "d@x.org", 5000), 1);
    assert_int_equal(store_member_get(f->st, "d@x.org", &m), 1);
    assert_true(m.bounce_score > 1.99 && m.bounce_score < 2.01);
    assert_int_equal(m.last_bounce, 300);
    assert_int_equal(m.undeliverable, 1);
    assert_int_equal(m.away_until, 5000);
    store_member_free(&m);
    assert_int_equal(store_bounce_add(f->st, 300, "d@x.org", "permanent", "5.1.1", "550 no", 1.0),
                     0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM bounces WHERE score = 1.0"), 1);
}

static void
test_member_state_and_pause(void **state)
{
    struct fixture *f = *state;
    struct store_member m;

    assert_int_equal(store_member_upsert(f->st, "e@x.org", NULL, "mentor", "active", NULL, 1, NULL),
                     0);
    assert_int_equal(store_member_set_state(f->st, "E@x.org", "paused", 500, 10), 1);
    assert_int_equal(store_member_get(f->st, "e@x.org", &m), 1);
    assert_string_equal(m.state, "paused");
    assert_int_equal(m.pause_until, 500);
    store_member_free(&m);
    assert_int_equal(store_member_set_state(f->st, "e@x.org", "active", 0, 20), 1);
    assert_int_equal(store_member_get(f->st, "e@x.org", &m), 1);
    assert_int_equal(m.pause_until, 0);
    store_member_free(&m);
    assert_int_equal(store_member_set_state(f->st, "nobody@x.org", "active", 0, 20), 0);
    assert_int_equal(store_member_set_state(f->st, "e@x.org", "sleeping", 0, 20), -1);
}

static void
test_member_erase_keeps_counts_not_addresses(void **state)
{
    struct fixture *f = *state;
    int64_t sent, queued;
    struct store_message msg = {.mailbox = "INBOX",
                                .uidvalidity = 1,
                                .uid = 1,
                                .message_id = "a@b",
                                .hash = "h",
                                .sender = "gone@x.org",
                                .outcome = "answered",
                                .detail = "recorded gone@x.org"};

    assert_int_equal(store_member_upsert(f->st, "Gone@x.org", "G", "newcomer", "active",
                                         "skills: secret", 1, NULL),
                     0);
    assert_int_equal(store_message_record(f->st, &msg, 2), 0);
    assert_int_equal(store_event_add(f->st, 2, "newcomer", "gone@x.org", "a@b", "x"), 0);
    assert_int_equal(store_event_add(f->st, 2, "confirm-asked", "gone@x.org", NULL, "leave"), 0);
    assert_int_equal(store_token_add(f->st, "cccccccccc", "gone@x.org", "leave", "G", 2, 99), 0);
    assert_int_equal(store_bounce_add(f->st, 3, "gone@x.org", "temporary", "4.2.2", "full", 0.5),
                     0);
    assert_int_equal(store_outbox_add(f->st, "gone@x.org", "m@x.org", "s1@x", "To: gone\r\n",
                                      "Hi G\r\n", 2, &sent),
                     0);
    assert_int_equal(store_outbox_sent(f->st, sent, 3, "250"), 0);
    assert_int_equal(store_outbox_add(f->st, "gone@x.org", "m@x.org", "q1@x", "To: gone\r\n",
                                      "Hi G\r\n", 4, &queued),
                     0);
    assert_int_equal(store_member_erase(f->st, "GONE@x.org"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM members"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM tokens"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM bounces"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages WHERE sender IS NULL"
                                      " AND detail IS NULL"),
                     1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM events WHERE member IS NULL"), 2);
    /* what was asked (mentord's own word) stays for the counts; the person's text does not */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM events WHERE detail = 'leave'"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM events WHERE detail = 'x'"), 0);
    /* queued mail to them is dropped; sent mail is blanked */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM outbox"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM outbox WHERE recipient = ''"
                                      " AND body = '' AND headers = ''"),
                     1);
    assert_int_equal(store_checkpoint(f->st), 0);
}

static void
test_stale_pending_members(void **state)
{
    struct fixture *f = *state;
    char **v = NULL;
    size_t n = 0;

    assert_int_equal(store_member_upsert(f->st, "p1@x.org", NULL, NULL, "pending", NULL, 1, NULL),
                     0);
    assert_int_equal(store_member_upsert(f->st, "p2@x.org", NULL, NULL, "pending", NULL, 1, NULL),
                     0);
    assert_int_equal(store_member_upsert(f->st, "a@x.org", NULL, NULL, "active", NULL, 1, NULL), 0);
    assert_int_equal(store_token_add(f->st, "dddddddddd", "p1@x.org", "join", NULL, 1, 100), 0);
    assert_int_equal(store_token_add(f->st, "eeeeeeeeee", "p2@x.org", "join", NULL, 1, 100), 0);
    assert_int_equal(store_member_stale_pending(f->st, &v, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_token_close(f->st, "eeeeeeeeee", 50, "expired"), 1);
    assert_int_equal(store_member_stale_pending(f->st, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], "p2@x.org");
    store_strings_free(v, n);
}

static void
test_secure_delete_is_on(void **state)
{
    struct fixture *f = *state;
    char v[32];

    assert_int_equal(store_pragma(f->st, "secure_delete", v, sizeof v), 0);
    assert_string_equal(v, "1");
}

/*
 * Erasing a member inside a mail's savepoint rewrites every stored mail that
 * names them: a statement journal of over 1 MB.  SQLite 3.40 turned the
 * spill of one past 128 KiB into "database or disk is full"; the store keeps
 * it in memory (store.c, STORE_STMT_JOURNAL_SPILL).
 */
static void
test_statement_journal_spills(void **state)
{
    struct fixture *f = *state;
    char body[2048];
    int64_t id;

    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    memcpy(body, "Dear gone@x.org,", 16);
    assert_int_equal(
        store_member_upsert(f->st, "gone@x.org", "Gone", "newcomer", "active", NULL, 1, NULL), 0);
    for (int i = 0; i < 600; i++) {
        char mid[32];
        snprintf(mid, sizeof mid, "m%d@x", i);
        assert_int_equal(
            store_outbox_add(f->st, "other@x.org", "m@x.org", mid, "H\r\n", body, 2, &id), 0);
        assert_int_equal(store_outbox_sent(f->st, id, 3, "250"), 0);
    }
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_savepoint(f->st), 0);
    assert_int_equal(store_member_erase(f->st, "gone@x.org"), 0);
    assert_int_equal(store_release(f->st), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM outbox WHERE body = ''"), 600);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* ---- savepoints and durability (the inbox's batches, the outbox's sent-marks) ---- */

static void
test_savepoint_rolls_back_one_message_only(void **state)
{
    struct fixture *f = *state;
    struct store_message a = msg(1, "a@x", "ha", "answered");
    struct store_message b = msg(2, "b@x", "hb", "answered");
    struct store_message c = msg(3, "c@x", "hc", "answered");
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_savepoint(f->st), 0);
    assert_int_equal(store_message_record(f->st, &a, 100), 0);
    assert_int_equal(store_release(f->st), 0);
    assert_int_equal(store_savepoint(f->st), 0);
    assert_int_equal(store_message_record(f->st, &b, 100), 0);
    assert_int_equal(store_rollback_to(f->st), 0); /* b fails: only b goes */
    assert_int_equal(store_in_transaction(f->st), 1);
    assert_int_equal(store_savepoint(f->st), 0);
    assert_int_equal(store_message_record(f->st, &c, 100), 0);
    assert_int_equal(store_release(f->st), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(store_in_transaction(f->st), 0);
    assert_int_equal(store_message_seen(f->st, NULL, "ha", NULL, 0), 1);
    assert_int_equal(store_message_seen(f->st, NULL, "hb", NULL, 0), 0);
    assert_int_equal(store_message_seen(f->st, NULL, "hc", NULL, 0), 1);
    assert_int_equal(store_message_count(f->st, NULL), 2);
}

static void
test_rollback_to_without_transaction_fails(void **state)
{
    struct fixture *f = *state;
    /* What the inbox sees when SQLite has already rolled the whole batch back. */
    assert_int_equal(store_in_transaction(f->st), 0);
    assert_int_equal(store_rollback_to(f->st), -1);
    /* A rolled-back batch leaves nothing behind. */
    struct store_message a = msg(1, "a@x", "ha", "answered");
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_savepoint(f->st), 0);
    assert_int_equal(store_message_record(f->st, &a, 100), 0);
    assert_int_equal(store_release(f->st), 0);
    store_rollback(f->st);
    assert_int_equal(store_message_count(f->st, NULL), 0);
}

static void
test_durability_toggle(void **state)
{
    struct fixture *f = *state;
    char v[32];
    assert_int_equal(store_set_durable(f->st, 0), 0);
    assert_int_equal(store_pragma(f->st, "synchronous", v, sizeof v), 0);
    assert_string_equal(v, "1"); /* NORMAL */
    assert_int_equal(store_set_durable(f->st, 1), 0);
    assert_int_equal(store_pragma(f->st, "synchronous", v, sizeof v), 0);
    assert_string_equal(v, "2"); /* FULL */
    assert_int_equal(store_release_memory(f->st), 0);
}

/*
 * An address's stamp (store_stamp): the same while only other addresses'
 * rows are written through the member upsert and the token insert, or other
 * tables; changed by a write of its own rows (in any case of the address),
 * by any other write of members or tokens, by a savepoint rolled back, and
 * by the end of the transaction.  None is taken outside a transaction.
 */
static int
stamp_still(struct fixture *f, const struct store_stamp *s)
{
    return store_stamp_same(f->st, s);
}

static void
test_stamp_tells_writes_of_an_address(void **state)
{
    struct fixture *f = *state;
    struct store_stamp ann, bob;

    assert_int_equal(store_stamp_take(f->st, "ann@x.test", &ann), -1);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_stamp_take(f->st, NULL, &ann), -1);
    assert_int_equal(store_stamp_take(f->st, "ann@x.test", &ann), 0);
    assert_int_equal(store_stamp_take(f->st, "bob@x.test", &bob), 0);
    assert_int_not_equal(ann.bucket, bob.bucket); /* else the test says nothing */
    assert_int_equal(store_member_upsert(f->st, "bob@x.test", "Bob", NULL, NULL, NULL, 10, NULL),
                     0);
    assert_false(stamp_still(f, &bob));
    assert_true(stamp_still(f, &ann));
    assert_int_equal(store_stamp_take(f->st, "bob@x.test", &bob), 0);
    assert_int_equal(store_token_add(f->st, "tok0000000001", "BOB@x.test", "join", NULL, 10, 99),
                     0);
    assert_false(stamp_still(f, &bob)); /* NOCASE: the same address */
    assert_int_equal(store_event_add(f->st, 10, "x", "ann@x.test", NULL, NULL), 0);
    assert_true(stamp_still(f, &ann)); /* not a members or tokens row */
    assert_int_equal(store_member_upsert(f->st, "Ann@X.test", NULL, NULL, NULL, NULL, 10, NULL), 0);
    assert_false(stamp_still(f, &ann));
    /* Any other write of the two tables: whose rows it wrote is not known. */
    assert_int_equal(store_stamp_take(f->st, "ann@x.test", &ann), 0);
    assert_int_equal(store_token_close(f->st, "tok0000000001", 11, "superseded"), 1);
    assert_false(stamp_still(f, &ann));
    assert_int_equal(store_stamp_take(f->st, "ann@x.test", &ann), 0);
    assert_int_equal(store_member_set_state(f->st, "bob@x.test", "active", 0, 11), 1);
    assert_false(stamp_still(f, &ann));
    assert_int_equal(store_stamp_take(f->st, "ann@x.test", &ann), 0);
    assert_int_equal(store_member_erase(f->st, "bob@x.test"), 0);
    assert_false(stamp_still(f, &ann));
    /* A savepoint: released, it changes nothing; rolled back, everything. */
    assert_int_equal(store_stamp_take(f->st, "ann@x.test", &ann), 0);
    assert_int_equal(store_savepoint(f->st), 0);
    assert_int_equal(store_release(f->st), 0);
    assert_true(stamp_still(f, &ann));
    assert_int_equal(store_savepoint(f->st), 0);
    assert_int_equal(store_rollback_to(f->st), 0);
    assert_false(stamp_still(f, &ann));
    /* The end of the transaction: another connection may write before the next. */
    assert_int_equal(store_stamp_take(f->st, "ann@x.test", &ann), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_false(stamp_still(f, &ann));
    assert_int_equal(store_begin(f->st), 0);
    assert_false(stamp_still(f, &ann));
    assert_int_equal(store_stamp_take(f->st, "ann@x.test", &ann), 0);
    store_rollback(f->st);
    assert_int_equal(store_begin(f->st), 0);
    assert_false(stamp_still(f, &ann));
    store_rollback(f->st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_migrations_create_schema),
        T(test_stamp_tells_writes_of_an_address),
        T(test_reopen_existing),
        T(test_newer_schema_refused),
        T(test_version0_with_unrelated_table_upgrades),
        T(test_open_bad_path_reports_path),
        T(test_pragmas_wal_foreign_keys_full_sync),
        T(test_member_case_insensitive_upsert),
        T(test_member_defaults_and_missing),
        T(test_member_upsert_row_is_the_stored_row),
        T(test_member_invalid_role_rejected),
        T(test_member_each_and_count),
        T(test_mailbox_get_set),
        T(test_message_seen_by_hash),
        T(test_message_seen_by_message_id),
        T(test_message_retry_not_seen_until_final),
        T(test_message_attempt_counting),
        T(test_message_record_upsert_and_count),
        T(test_outbox_due_order_filter_limit),
        T(test_outbox_defer),
        T(test_outbox_sent),
        T(test_outbox_sent_all),
        T(test_outbox_fail),
        T(test_outbox_empty_and_errors),
        T(test_rollback_discards),
        T(test_commit_keeps_and_no_nesting),
        T(test_rollback_keeps_the_causing_error),
        T(test_sql_metacharacters_verbatim),
        T(test_events),
        T(test_two_connections_read_while_writing),
        T(test_busy_timeout_waits_for_writer),
        T(test_version1_database_upgrades_in_place),
        T(test_tokens_single_use_and_expiry),
        T(test_token_close_address),
        T(test_outbox_tag_ref_and_recent),
        T(test_stranger_counts_follow_the_outbox),
        cmocka_unit_test(test_stranger_counts_backfilled),
        cmocka_unit_test(test_checks_without_in_lists),
        cmocka_unit_test(test_open_token_index_upgrade),
        cmocka_unit_test(test_verp_index_upgrade),
        T(test_journal_blocks_per_thread),
        T(test_member_bounce_score_and_away),
        T(test_member_state_and_pause),
        T(test_member_erase_keeps_counts_not_addresses),
        T(test_stale_pending_members),
        T(test_secure_delete_is_on),
        T(test_statement_journal_spills),
        T(test_savepoint_rolls_back_one_message_only),
        T(test_rollback_to_without_transaction_fails),
        T(test_durability_toggle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
