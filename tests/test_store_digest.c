/*
 * Unit tests for store_digest.c: the digest's counts, lists and mentor rows,
 * and store_select, the read-only query the listings run through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store.h"
#include "teststore.h"

#define DAY (24 * 60 * 60)
#define T0 ((time_t)1800000000)

static int
setup(void **state)
{
    return ts_setup(state, "store-digest");
}

static int
teardown(void **state)
{
    return ts_teardown(state);
}

/* ---- store_select ---- */

struct collected {
    size_t calls, ncols;
    char names[4][32];
    char cells[8][4][32]; /* "(null)" for SQL NULL, "#" prefix when an integer */
    int fail_at;          /* return -1 at this call (1-based), 0: never */
};

static int
collect(const struct store_row *r, void *arg)
{
    struct collected *c = arg;
    c->calls++;
    if (c->fail_at && (int)c->calls == c->fail_at)
        return -1;
    if (r->index == 0) {
        assert_null(r->text);
        c->ncols = r->ncols;
        for (size_t i = 0; i < r->ncols && i < 4; i++)
            snprintf(c->names[i], sizeof c->names[i], "%s", r->names[i]);
        return 0;
    }
    assert_true(r->index <= 8);
    for (size_t i = 0; i < r->ncols && i < 4; i++)
        snprintf(c->cells[r->index - 1][i], 32, "%s%s", r->is_int[i] ? "#" : "",
                 r->text[i] ? r->text[i] : "(null)");
    return 0;
}

static void
test_select_rows_names_types(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    struct collected c = {0};

    assert_int_equal(
        store_member_upsert(st, "a@example.org", "Ann", "mentor", "active", NULL, T0, NULL), 0);
    assert_int_equal(store_member_upsert(st, "b@example.org", NULL, NULL, NULL, NULL, T0, NULL), 0);
    assert_int_equal(store_select(st, "listing",
                                  "SELECT id, address, name FROM members"
                                  " WHERE created = ?1 AND ?2 IS NULL ORDER BY id",
                                  "is", collect, &c, (int64_t)T0, (const char *)NULL),
                     0);
    assert_int_equal(c.calls, 3); /* the names, then two rows */
    assert_int_equal(c.ncols, 3);
    assert_string_equal(c.names[1], "address");
    assert_string_equal(c.cells[0][0], "#1");
    assert_string_equal(c.cells[0][1], "a@example.org");
    assert_string_equal(c.cells[0][2], "Ann");
    assert_string_equal(c.cells[1][1], "b@example.org");
    assert_string_equal(c.cells[1][2], "(null)");
}

static void
test_select_no_rows_still_names(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    struct collected c = {0};

    assert_int_equal(
        store_select(st, "empty", "SELECT id, address AS who FROM members", "", collect, &c), 0);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.ncols, 2);
    assert_string_equal(c.names[1], "who");
}

static void
test_select_refuses_writes(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    struct collected c = {0};

    assert_int_equal(store_member_upsert(st, "a@example.org", NULL, NULL, NULL, NULL, T0, NULL), 0);
    assert_int_equal(
        store_select(st, "sneaky", "DELETE FROM members RETURNING id", "", collect, &c), -1);
    assert_non_null(strstr(store_errmsg(st), "sneaky: refused"));
    assert_int_equal(c.calls, 0);
    assert_int_equal(store_member_count(st, NULL, NULL), 1);
}

static void
test_select_reader_errors(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    struct collected c = {.fail_at = 2};

    assert_int_equal(store_member_upsert(st, "a@example.org", NULL, NULL, NULL, NULL, T0, NULL), 0);
    assert_int_equal(store_select(st, "copying", "SELECT address FROM members", "", collect, &c),
                     -1);
    assert_string_equal(store_errmsg(st), "copying: out of memory");
    /* A broken query reports its context and SQLite's message. */
    assert_int_equal(store_select(st, "bad", "SELECT x FROM nowhere", "", collect, &c), -1);
    assert_non_null(strstr(store_errmsg(st), "bad: no such table: nowhere"));
}

/* ---- the digest's queries ---- */

static void
add_event(struct store *st, time_t at, const char *kind, const char *member, const char *detail)
{
    assert_int_equal(store_event_add(st, at, kind, member, NULL, detail), 0);
}

static void
test_counts_flow_in_period(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    struct store_digest_counts c;

    add_event(st, T0 - 1, "newcomer", "early@example.org", "confirmed"); /* before */
    add_event(st, T0, "newcomer", "a@example.org", "confirmed");
    add_event(st, T0 + DAY, "newcomer", "b@example.org", NULL);
    add_event(st, T0 + DAY, "newcomer", "c@example.org", "asked"); /* not a confirmation */
    add_event(st, T0 + 2 * DAY, "mentor", "m@example.org", "confirmed");
    add_event(st, T0 + 3 * DAY, "flood", "x@example.org", NULL);
    add_event(st, T0 + 3 * DAY, "spam", "s@example.org", "X-Spam-Flag: YES");
    add_event(st, T0 + 8 * DAY, "spam", "s@example.org", NULL);               /* after */
    add_event(st, T0 + 7 * DAY, "newcomer", "late@example.org", "confirmed"); /* at the end */

    assert_int_equal(store_digest_counts(st, T0, T0 + 7 * DAY, &c), 0);
    assert_int_equal(c.joins_newcomers, 2);
    assert_int_equal(c.joins_mentors, 1);
    assert_int_equal(c.floods, 1);
    assert_int_equal(c.spam, 1);
    assert_int_equal(c.proposals, 0);
    assert_int_equal(c.response_rate, -1); /* no check-ins: nothing to measure */
    assert_int_equal(c.avg_rating, -1);
    assert_int_equal(c.retention_30, -1);
}

static void
test_counts_state_at_end(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    struct store_digest_counts c;
    int64_t n = 0, m = 0, p = 0;
    char ref[16];

    assert_int_equal(
        store_member_upsert(st, "n@example.org", NULL, "newcomer", "active", NULL, T0, &n), 0);
    assert_int_equal(
        store_member_upsert(st, "w@example.org", NULL, "newcomer", "active", NULL, T0, NULL), 0);
    assert_int_equal(store_member_set_waiting(st, "w@example.org", T0 + DAY), 1);
    assert_int_equal(
        store_member_upsert(st, "m@example.org", NULL, "mentor", "active", NULL, T0, &m), 0);
    assert_int_equal(store_pair_add(st, n, m, "active", 1000, NULL, T0 + DAY, T0 + 90 * DAY, &p,
                                    ref, sizeof ref),
                     0);
    /* At T0 + 11 days: one active pair, one newcomer waiting for 10 days. */
    assert_int_equal(store_digest_counts(st, T0 + 4 * DAY, T0 + 11 * DAY, &c), 0);
    assert_int_equal(c.active_pairs, 1);
    assert_int_equal(c.started, 0); /* it started before this period */
    assert_int_equal(c.waiting, 1);
    assert_int_equal(c.longest_wait, 10);
    /* Before the pair started nothing was active. */
    assert_int_equal(store_digest_counts(st, T0 - DAY, T0, &c), 0);
    assert_int_equal(c.active_pairs, 0);
    assert_int_equal(c.waiting, 0);
}

/* Each row as its columns joined by "," (NULL as "-"), rows ended by "|". */
static int
take_rows(const char *const *cols, size_t ncols, void *arg)
{
    char *out = arg;
    for (size_t i = 0; i < ncols; i++) {
        size_t n = strlen(out);
        snprintf(out + n, 512 - n, "%s%s", i ? "," : "", cols[i] ? cols[i] : "-");
    }
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "|");
    return 0;
}

static void
test_lines_conversions_and_waiting(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    char out[512] = "";

    add_event(st, T0 + DAY, "conversion", "c@example.org", "after pair 3");
    add_event(st, T0 + 2 * DAY, "conversion", NULL, NULL);
    add_event(st, T0 + 9 * DAY, "conversion", "later@example.org", NULL);
    assert_int_equal(
        store_digest_rows_each(st, STORE_DIGEST_CONVERSIONS, T0, T0 + 7 * DAY, take_rows, out),
        0);
    assert_string_equal(out, "c@example.org,after pair 3|-,-|");

    out[0] = '\0';
    assert_int_equal(
        store_member_upsert(st, "w@example.org", "Wendy", "newcomer", "active", NULL, T0, NULL), 0);
    assert_int_equal(store_member_set_waiting(st, "w@example.org", T0), 1);
    assert_int_equal(
        store_digest_rows_each(st, STORE_DIGEST_WAITING, T0, T0 + 5 * DAY, take_rows, out), 0);
    assert_string_equal(out, "5,Wendy,w@example.org|");

    assert_int_equal(
        store_digest_rows_each(st, (enum store_digest_list)99, T0, T0, take_rows, out), -1);
    assert_non_null(strstr(store_errmsg(st), "no such list"));
}

struct mentors {
    int n;
    char first[64];
    int active;
    long rating10;
};

static int
take_mentor(const struct store_digest_mentor *m, void *arg)
{
    struct mentors *x = arg;
    if (x->n++ == 0) {
        snprintf(x->first, sizeof x->first, "%s", m->address ? m->address : "");
        x->active = m->active;
        x->rating10 = m->rating10;
    }
    return 0;
}

static void
test_mentors_rows(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;
    struct mentors x = {0};
    int64_t a = 0, b = 0, n = 0, p = 0;
    char ref[16];

    assert_int_equal(
        store_member_upsert(st, "a@example.org", NULL, "mentor", "active", NULL, T0, &a), 0);
    assert_int_equal(
        store_member_upsert(st, "b@example.org", NULL, "mentor", "active", NULL, T0, &b), 0);
    assert_int_equal(
        store_member_upsert(st, "n@example.org", NULL, "newcomer", "active", NULL, T0, &n), 0);
    assert_int_equal(store_pair_unanswered(st, b, 3), 0);
    assert_int_equal(
        store_pair_add(st, n, b, "active", 0, NULL, T0, T0 + 90 * DAY, &p, ref, sizeof ref), 0);
    struct store_feedback fb = {
        .pair = p, .member = n, .role = "newcomer", .at = T0 + DAY, .rating = 2, .met = 1};
    assert_int_equal(store_feedback_add(st, &fb, NULL), 0);
    assert_int_equal(store_digest_mentors_each(st, T0 + 2 * DAY, take_mentor, &x), 0);
    assert_int_equal(x.n, 2);
    assert_string_equal(x.first, "b@example.org"); /* most unanswered first */
    assert_int_equal(x.active, 1);
    assert_int_equal(x.rating10, -1); /* one rating is not a pattern */
    fb.at = T0 + DAY + 60;
    fb.rating = 3;
    assert_int_equal(store_feedback_add(st, &fb, NULL), 0);
    memset(&x, 0, sizeof x);
    assert_int_equal(store_digest_mentors_each(st, T0 + 2 * DAY, take_mentor, &x), 0);
    assert_int_equal(x.rating10, 25);
    /* The mentee leaves: their ratings no longer judge the mentor. */
    assert_int_equal(store_member_set_state(st, "n@example.org", "left", 0, T0 + DAY + 120), 1);
    memset(&x, 0, sizeof x);
    assert_int_equal(store_digest_mentors_each(st, T0 + 2 * DAY, take_mentor, &x), 0);
    assert_int_equal(x.rating10, -1);
    /* Nobody had joined yet. */
    memset(&x, 0, sizeof x);
    assert_int_equal(store_digest_mentors_each(st, T0, take_mentor, &x), 0);
    assert_int_equal(x.n, 0);
    (void)a;
}

static void
test_sent_and_history(void **state)
{
    struct store *st = ((struct fixture *)*state)->st;

    assert_int_equal(store_digest_history(st, T0), 0);
    assert_int_equal(store_digest_sent(st, "2027-W03"), 0);
    add_event(st, T0 - 10, "digest", NULL, "2027-W03");
    assert_int_equal(store_digest_sent(st, "2027-W03"), 1);
    assert_int_equal(store_digest_sent(st, "2027-W04"), 0);
    assert_int_equal(store_digest_history(st, T0), 0); /* digests alone are no history */
    add_event(st, T0, "newcomer", "a@example.org", "confirmed");
    assert_int_equal(store_digest_history(st, T0), 0); /* not before T0 */
    assert_int_equal(store_digest_history(st, T0 + 1), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_select_rows_names_types),
        T(test_select_no_rows_still_names),
        T(test_select_refuses_writes),
        T(test_select_reader_errors),
        T(test_counts_flow_in_period),
        T(test_counts_state_at_end),
        T(test_lines_conversions_and_waiting),
        T(test_mentors_rows),
        T(test_sent_and_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
