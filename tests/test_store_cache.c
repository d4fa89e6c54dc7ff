/*
 * Unit tests for the store's prepared-statement cache (store.c, store_int.h):
 * statements are reused, lent to one caller at a time, survive errors, and
 * are all finalized by store_close (the sanitizer build's leak check).  These
 * tests look inside the store, so they include its private header.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <unistd.h>

#include "../daemon/store_int.h"
#include "store.h"
#include "teststore.h"

static int
setup(void **state)
{
    return ts_setup(state, "store-cache");
}

static int
teardown(void **state)
{
    return ts_teardown(state);
}

/* One array each, so every use below passes the very same pointer (the cache key). */
static const char SQL_PLUS[] = "SELECT ?1 + 1";
static const char SQL_MEMBER_IDS[] = "SELECT id FROM members ORDER BY id";
static const char SQL_INSERT_MEMBER[] = "INSERT INTO members (address, role, state, created,"
                                        " updated) VALUES (?1, ?2, 'active', 0, 0)";

static void
add_members(struct store *st, int n)
{
    for (int i = 0; i < n; i++) {
        char addr[64];
        snprintf(addr, sizeof addr, "m%d@example.org", i);
        assert_int_equal(store_member_upsert(st, addr, NULL, "mentor", "active", NULL, 1, NULL), 0);
    }
}

/* The same SQL twice: one statement, prepared once, with the new arguments each time. */
static void
test_same_query_twice(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    int64_t v = 0;

    assert_int_equal(store_i_query_int(st, &v, "first", SQL_PLUS, "i", (int64_t)41), 1);
    assert_int_equal(v, 42);
    size_t cached = st->cached;
    assert_int_equal(store_i_query_int(st, &v, "second", SQL_PLUS, "i", (int64_t)99), 1);
    assert_int_equal(v, 100);
    assert_int_equal(st->cached, cached); /* reused, not prepared again */
    assert_int_equal(st->nleases, 0);     /* both given back */

    /* The public functions too: counts follow the data, not a stale first answer. */
    assert_int_equal(store_member_count(st, "mentor", NULL), 0);
    add_members(st, 3);
    assert_int_equal(store_member_count(st, "mentor", NULL), 3);
    assert_int_equal(store_member_count(st, "newcomer", NULL), 0);
    assert_int_equal(st->nleases, 0);
}

/* The bindings of the last use are cleared: an unbound parameter reads as NULL. */
static void
test_bindings_cleared(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    int64_t v = 0;

    assert_int_equal(store_i_query_int(st, &v, "bound", SQL_PLUS, "i", (int64_t)1), 1);
    assert_int_equal(v, 2);
    sqlite3_stmt *stmt = store_i_prepare(st, "unbound", SQL_PLUS, "");
    assert_non_null(stmt);
    assert_int_equal(store_i_step(st, stmt, "unbound"), 1);
    assert_int_equal(sqlite3_column_type(stmt, 0), SQLITE_NULL);
    store_i_finish(st, stmt);
}

struct nest {
    struct store *st;
    int outer, inner_total, errors;
};

/* An _each callback that runs the very query it is called from, and a count. */
static int
nested_member(const struct store_member *m, void *arg)
{
    struct nest *n = arg;
    sqlite3_stmt *stmt = store_i_prepare(n->st, "inner", SQL_MEMBER_IDS, "");
    int rc, rows = 0;

    n->outer++;
    if (!stmt) {
        n->errors++;
        return 0;
    }
    while ((rc = store_i_step(n->st, stmt, "inner")) == 1)
        rows++;
    store_i_finish(n->st, stmt);
    if (rc < 0 || m->id <= 0 || store_member_count(n->st, NULL, NULL) != 4)
        n->errors++;
    n->inner_total += rows;
    return 0;
}

static void
test_nested_same_sql(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    add_members(st, 4);

    /* Outer loop by hand over SQL_MEMBER_IDS, inner loops on the same SQL. */
    sqlite3_stmt *outer = store_i_prepare(st, "outer", SQL_MEMBER_IDS, "");
    assert_non_null(outer);
    struct nest n = {.st = st};
    int rc, ids = 0;
    int64_t last = 0;
    while ((rc = store_i_step(st, outer, "outer")) == 1) {
        int64_t id = sqlite3_column_int64(outer, 0);
        assert_true(id > last); /* the inner loops did not disturb the outer one */
        last = id;
        ids++;
        struct store_member m = {.id = id};
        nested_member(&m, &n);
        assert_int_equal(st->nleases, 1); /* the inner statement went back */
    }
    assert_int_equal(rc, 0);
    store_i_finish(st, outer);
    assert_int_equal(ids, 4);
    assert_int_equal(n.inner_total, 16);
    assert_int_equal(n.errors, 0);
    assert_int_equal(st->nleases, 0);

    /* Through the public iteration: store_member_each inside store_member_each. */
    memset(&n, 0, sizeof n);
    n.st = st;
    assert_int_equal(store_member_each(st, nested_member, &n), 0);
    assert_int_equal(n.outer, 4);
    assert_int_equal(n.inner_total, 16);
    assert_int_equal(n.errors, 0);
    assert_int_equal(st->nleases, 0);

    /* The cached statement is still good afterwards. */
    assert_int_equal(store_member_count(st, NULL, NULL), 4);
}

/* Two statements of the same SQL out at once, stepped in turn, given back in any order. */
static void
test_two_leases_same_sql(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    sqlite3_stmt *a = store_i_prepare(st, "a", SQL_PLUS, "i", (int64_t)1);
    sqlite3_stmt *b = store_i_prepare(st, "b", SQL_PLUS, "i", (int64_t)10);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_int_equal(store_i_step(st, b, "b"), 1);
    assert_int_equal(store_i_step(st, a, "a"), 1);
    assert_int_equal(sqlite3_column_int(a, 0), 2);
    assert_int_equal(sqlite3_column_int(b, 0), 11);
    store_i_finish(st, a); /* the cached one first, out of order */
    store_i_finish(st, b); /* the extra one is finalized (ASan would see a leak) */
    assert_int_equal(st->nleases, 0);
    int64_t v = 0;
    assert_int_equal(store_i_query_int(st, &v, "again", SQL_PLUS, "i", (int64_t)5), 1);
    assert_int_equal(v, 6);
}

/* A failed step resets the statement: the next use of the same SQL works. */
static void
test_step_error_leaves_statement_usable(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;

    assert_int_equal(
        store_i_run(st, "adding a", SQL_INSERT_MEMBER, "ss", "a@example.org", "mentor"), 1);
    size_t cached = st->cached;
    /* The role's CHECK constraint fails in the step. */
    assert_int_equal(store_i_run(st, "adding b", SQL_INSERT_MEMBER, "ss", "b@example.org", "chef"),
                     -1);
    assert_non_null(strstr(store_errmsg(st), "adding b: CHECK constraint failed"));
    /* A duplicate address (UNIQUE) also fails in the step. */
    assert_int_equal(
        store_i_run(st, "adding A", SQL_INSERT_MEMBER, "ss", "A@example.org", "mentor"), -1);
    assert_non_null(strstr(store_errmsg(st), "adding A: UNIQUE constraint failed"));
    assert_int_equal(
        store_i_run(st, "adding c", SQL_INSERT_MEMBER, "ss", "c@example.org", "newcomer"), 1);
    assert_int_equal(st->cached, cached);
    assert_int_equal(st->nleases, 0);
    assert_int_equal(store_member_count(st, NULL, NULL), 2);

    /* The same through a public function and inside a transaction. */
    assert_int_equal(store_begin(st), 0);
    assert_int_equal(store_member_upsert(st, "d@example.org", NULL, "bogus", NULL, NULL, 1, NULL),
                     -1);
    store_rollback(st);
    assert_non_null(strstr(store_errmsg(st), "saving member d@example.org"));
    assert_int_equal(store_member_upsert(st, "d@example.org", NULL, "mentor", NULL, NULL, 1, NULL),
                     0);
    assert_int_equal(store_member_count(st, NULL, NULL), 3);
}

/* A binding that fails (parameter out of range) gives the statement back too. */
static void
test_bind_error_gives_statement_back(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    int64_t v = 0;

    assert_int_equal(store_i_query_int(st, &v, "too many", SQL_PLUS, "ii", (int64_t)1, (int64_t)2),
                     -1);
    assert_non_null(strstr(store_errmsg(st), "too many: "));
    assert_int_equal(st->nleases, 0);
    assert_int_equal(store_i_query_int(st, &v, "right", SQL_PLUS, "i", (int64_t)7), 1);
    assert_int_equal(v, 8);
}

/* A buffer reused for other SQL at the same address gets its own statement. */
static void
test_reused_buffer(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    char sql[64];
    int64_t v = 0;

    snprintf(sql, sizeof sql, "SELECT %d", 1);
    assert_int_equal(store_i_query_int(st, &v, "one", sql, ""), 1);
    assert_int_equal(v, 1);
    snprintf(sql, sizeof sql, "SELECT %d", 2);
    assert_int_equal(store_i_query_int(st, &v, "two", sql, ""), 1);
    assert_int_equal(v, 2);
    snprintf(sql, sizeof sql, "SELECT %d", 1);
    assert_int_equal(store_i_query_int(st, &v, "one again", sql, ""), 1);
    assert_int_equal(v, 1);
}

/* SQL with text after the statement is used once, not cached again on every use. */
static void
test_trailing_text_not_cached(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    static const char sql[] = "SELECT 7; ";
    size_t cached = st->cached;

    for (int i = 0; i < 10; i++) {
        int64_t v = 0;
        assert_int_equal(store_i_query_int(st, &v, "trailing", sql, ""), 1);
        assert_int_equal(v, 7);
    }
    assert_int_equal(st->cached, cached);
    assert_int_equal(st->nleases, 0);
}

/* More distinct SQL than the cache holds: the rest runs uncached, still right. */
static void
test_cache_full(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    enum { N = STORE_CACHE_MAX + 40 };
    char **sql = calloc(N, sizeof *sql);
    assert_non_null(sql);
    for (int i = 0; i < N; i++) {
        assert_true(asprintf(&sql[i], "SELECT %d + ?1", i) > 0);
        int64_t v = 0;
        assert_int_equal(store_i_query_int(st, &v, "many", sql[i], "i", (int64_t)1000), 1);
        assert_int_equal(v, 1000 + i);
    }
    assert_int_equal(st->cached, STORE_CACHE_MAX);
    assert_int_equal(st->nleases, 0);
    /* Both kinds again, and the store's own queries still work with the cache full. */
    for (int i = 0; i < N; i += 37) {
        int64_t v = 0;
        assert_int_equal(store_i_query_int(st, &v, "many again", sql[i], "i", (int64_t)1), 1);
        assert_int_equal(v, 1 + i);
    }
    add_members(st, 2);
    assert_int_equal(store_member_count(st, NULL, NULL), 2);
    for (int i = 0; i < N; i++)
        free(sql[i]);
    free(sql);
}

/* A schema change after a statement was cached: SQLite prepares it again by itself. */
static void
test_schema_change_after_caching(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    static const char sql[] = "SELECT * FROM members ORDER BY id";

    add_members(st, 1);
    sqlite3_stmt *stmt = store_i_prepare(st, "before", sql, "");
    assert_non_null(stmt);
    int cols = sqlite3_column_count(stmt);
    store_i_finish(st, stmt);
    assert_int_equal(store_i_run_script(st, "altering", "ALTER TABLE members ADD COLUMN extra"), 0);
    stmt = store_i_prepare(st, "after", sql, "");
    assert_non_null(stmt);
    assert_int_equal(store_i_step(st, stmt, "after"), 1);
    assert_int_equal(sqlite3_column_count(stmt), cols + 1);
    store_i_finish(st, stmt);
}

/*
 * Close with cached statements, one of them still out and one uncached one
 * out (a caller's bug): everything is finalized, so the sanitizer build's leak
 * check stays quiet and the database file is closed (no -wal left behind
 * after the last connection closes cleanly).
 */
static void
test_close_finalizes_everything(void **state)
{
    (void)state;
    char dir[256], path[300], err[512];
    struct store *st = NULL;

    assert_int_equal(tu_mkdtemp(dir, sizeof dir, "store-close"), 0);
    snprintf(path, sizeof path, "%s/m.db", dir);
    assert_int_equal(store_open(path, &st, err, sizeof err), 0);
    add_members(st, 3);
    assert_true(st->cached > 3);
    sqlite3_stmt *a = store_i_prepare(st, "left out", SQL_PLUS, "i", (int64_t)1);
    sqlite3_stmt *b = store_i_prepare(st, "left out too", SQL_PLUS, "i", (int64_t)2);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(store_i_step(st, a, "left out"), 1);
    store_close(st);
    char wal[320];
    snprintf(wal, sizeof wal, "%s-wal", path);
    assert_int_equal(access(wal, F_OK), -1); /* the last close checkpoints and removes it */

    /* The file is fine for the next opener. */
    assert_int_equal(store_open(path, &st, err, sizeof err), 0);
    assert_int_equal(store_member_count(st, NULL, NULL), 3);
    store_close(st);
    tu_rmrf(dir);
}

/* More statements out at once than the lease list holds: an error, not an overflow. */
static void
test_too_many_leases(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    sqlite3_stmt *out[STORE_LEASES_MAX];

    for (int i = 0; i < STORE_LEASES_MAX; i++) {
        out[i] = store_i_prepare(st, "deep", SQL_PLUS, "i", (int64_t)i);
        assert_non_null(out[i]);
    }
    assert_null(store_i_prepare(st, "one too deep", SQL_PLUS, "i", (int64_t)0));
    assert_non_null(strstr(store_errmsg(st), "one too deep: 64 statements already in use"));
    for (int i = STORE_LEASES_MAX - 1; i >= 0; i--) {
        assert_int_equal(store_i_step(st, out[i], "deep"), 1);
        assert_int_equal(sqlite3_column_int(out[i], 0), i + 1);
        store_i_finish(st, out[i]);
    }
    assert_int_equal(st->nleases, 0);
    int64_t v = 0;
    assert_int_equal(store_i_query_int(st, &v, "after", SQL_PLUS, "i", (int64_t)3), 1);
    assert_int_equal(v, 4);
}

/* store_i_what writes what snprintf wrote, cut short the same way. */
static void
test_what_as_snprintf(void **state)
{
    (void)state;
    char a[64], b[64], v[11], u[11];

    store_i_what(a, sizeof a, "recording", " message ", "INBOX", " uid ", store_i_uint(v, 0), "/",
                 store_i_uint(u, 4294967295u), " (Message-ID ", "x@y", ")", NULL);
    snprintf(b, sizeof b, "%s message %s uid %u/%u (Message-ID %s)", "recording", "INBOX", 0u,
             4294967295u, "x@y");
    assert_string_equal(a, b);
    for (size_t len = 1; len < 40; len++) {
        store_i_what(a, len, "saving member ", "someone@example.org", NULL);
        snprintf(b, len, "saving member %s", "someone@example.org");
        assert_string_equal(a, b);
    }
    store_i_what(a, sizeof a, NULL);
    assert_string_equal(a, "");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_same_query_twice),
        T(test_bindings_cleared),
        T(test_nested_same_sql),
        T(test_two_leases_same_sql),
        T(test_step_error_leaves_statement_usable),
        T(test_bind_error_gives_statement_back),
        T(test_reused_buffer),
        T(test_trailing_text_not_cached),
        T(test_cache_full),
        T(test_schema_change_after_caching),
        cmocka_unit_test(test_close_finalizes_everything),
        cmocka_unit_test(test_what_as_snprintf),
        T(test_too_many_leases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
