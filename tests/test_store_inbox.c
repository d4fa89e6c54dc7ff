/*
 * Unit tests for the inbox's in-flight marks (store_inbox.c): a mark left by
 * another store session (a process that died) counts a death; marks of the
 * same session, marks outside the new set and marks of an old UIDVALIDITY
 * count nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "store.h"
#include "teststore.h"

static struct store *
open_store(const char *path)
{
    struct store *st = NULL;
    char err[512];

    if (store_open(path, &st, err, sizeof err) != 0)
        fail_msg("store_open: %s", err);
    return st;
}

static int
setup(void **state)
{
    return ts_setup(state, "inflight");
}

static int
teardown(void **state)
{
    return ts_teardown(state);
}

/* The process "dies": its store is dropped without ending its marks, a new one opens. */
static void
restart(struct fixture *f)
{
    store_close(f->st);
    f->st = open_store(f->path);
}

static int
begin(struct fixture *f, const uint32_t *uids, size_t n)
{
    int deaths = -1;

    assert_int_equal(store_inflight_begin(f->st, "INBOX", 7, uids, n, &deaths), 0);
    return deaths;
}

static void
test_death_counted_per_restart(void **state)
{
    struct fixture *f = *state;
    const uint32_t batch[] = {3, 4, 5};

    assert_int_equal(begin(f, batch, 3), 0);
    restart(f);
    assert_int_equal(begin(f, batch, 3), 1);
    restart(f);
    assert_int_equal(begin(f, batch, 3), 2);
}

static void
test_same_session_counts_nothing(void **state)
{
    struct fixture *f = *state;
    const uint32_t batch[] = {3, 4, 5};

    /* A failure the process handled and retried, many times over: no death. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(begin(f, batch, 3), 0);
}

static void
test_end_drops_the_marks(void **state)
{
    struct fixture *f = *state;
    const uint32_t batch[] = {3, 4, 5};

    assert_int_equal(begin(f, batch, 3), 0);
    assert_int_equal(store_inflight_end(f->st, "INBOX", 7, 3, 5), 0);
    restart(f);
    assert_int_equal(begin(f, batch, 3), 0);
}

static void
test_only_the_new_set_keeps_its_history(void **state)
{
    struct fixture *f = *state;
    const uint32_t batch[] = {3, 4, 5}, alone[] = {4}, rest[] = {4, 5};

    assert_int_equal(begin(f, batch, 3), 0);
    restart(f); /* the batch died: every mark counts one */
    assert_int_equal(begin(f, batch, 3), 1);
    /* Decided alone, UID 4 keeps its count; 3 and 5 are dropped from the set. */
    assert_int_equal(begin(f, alone, 1), 1);
    restart(f); /* 4 died alone */
    assert_int_equal(begin(f, rest, 2), 2);
    /* 5 was not in flight when 4 died: its count starts again. */
    const uint32_t five[] = {5};
    assert_int_equal(begin(f, five, 1), 0);
}

static void
test_new_uidvalidity_forgets(void **state)
{
    struct fixture *f = *state;
    const uint32_t batch[] = {3, 4, 5};
    int deaths = -1;

    assert_int_equal(begin(f, batch, 3), 0);
    restart(f);
    /* Same UIDs, new UIDVALIDITY: different messages, no history. */
    assert_int_equal(store_inflight_begin(f->st, "INBOX", 8, batch, 3, &deaths), 0);
    assert_int_equal(deaths, 0);
    /* And other mailboxes are not touched by INBOX's marks. */
    assert_int_equal(store_inflight_begin(f->st, "Other", 7, batch, 3, &deaths), 0);
    assert_int_equal(deaths, 0);
}

static void
test_marks_outlive_the_process_not_the_commit(void **state)
{
    struct fixture *f = *state;
    const uint32_t batch[] = {9};

    /* Marks written inside a transaction that is rolled back are gone... */
    assert_int_equal(begin(f, batch, 1), 0);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_inflight_end(f->st, "INBOX", 7, 9, 9), 0);
    store_rollback(f->st);
    restart(f);
    /* ...so the rolled-back end did not drop the mark: the death is seen. */
    assert_int_equal(begin(f, batch, 1), 1);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_death_counted_per_restart), T(test_same_session_counts_nothing),
        T(test_end_drops_the_marks),       T(test_only_the_new_set_keeps_its_history),
        T(test_new_uidvalidity_forgets),   T(test_marks_outlive_the_process_not_the_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
