/* Tests for clock: parsing epoch and ISO times, and MENTORD_NOW as a running start point. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static void
test_parse_epoch(void **state)
{
    (void)state;
    assert_int_equal(clock_parse("0"), 0);
    assert_int_equal(clock_parse("1769850000"), 1769850000);
    assert_int_equal(clock_parse("12abc"), -1);
    assert_int_equal(clock_parse(" 12"), -1);
    assert_int_equal(clock_parse("+12"), -1);
    assert_int_equal(clock_parse("99999999999999999999999"), -1);
}

static void
test_parse_iso_forms(void **state)
{
    (void)state;
    /* 2026-01-31 00:00:00 UTC */
    assert_int_equal(clock_parse("2026-01-31"), 1769817600);
    assert_int_equal(clock_parse("2026-01-31Z"), 1769817600);
    assert_int_equal(clock_parse("2026-01-31T09:00"), 1769817600 + 9 * 3600);
    assert_int_equal(clock_parse("2026-01-31T09:00:00Z"), 1769817600 + 9 * 3600);
    assert_int_equal(clock_parse("2026-01-31T09:30:15"), 1769817600 + 9 * 3600 + 30 * 60 + 15);
    assert_int_equal(clock_parse("1970-01-01T00:00:00Z"), 0);
}

static void
test_parse_leap_years(void **state)
{
    (void)state;
    assert_int_equal(clock_parse("2024-02-29"), 1709164800);
    assert_int_equal(clock_parse("2000-02-29"), 951782400);
    assert_int_equal(clock_parse("2026-02-29"), -1);
    assert_int_equal(clock_parse("1900-02-29"), -1);
    assert_int_equal(clock_parse("2100-02-29"), -1);
}

static void
test_parse_rejects_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2026-1-31",
        "2026-13-01",
        "2026-00-10",
        "2026-04-31",
        "2026-01-31T24:00",
        "2026-01-31T09:60",
        "2026-01-31T09:00:61",
        "2026-01-31T9:00",
        "2026-01-31T09:00:00+02:00",
        "2026-01-31 junk",
        "yesterday",
        "2026-01-31TZ",
        "1969-12-31",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (clock_parse(bad[i]) != -1)
            fail_msg("clock_parse accepted '%s'", bad[i]);
    assert_int_equal(clock_parse(NULL), -1);
}

static void
test_now_without_env_is_real_time(void **state)
{
    (void)state;
    time_t before, now, after;

    assert_int_equal(unsetenv("MENTORD_NOW"), 0);
    before = time(NULL);
    now = clock_now();
    after = time(NULL);
    assert_true(now >= before && now <= after);
}

static void
test_now_honours_env_and_runs_on(void **state)
{
    (void)state;
    time_t start = clock_parse("2026-01-31T09:00:00Z");
    time_t t1, t2;

    assert_int_equal(setenv("MENTORD_NOW", "2026-01-31T09:00:00Z", 1), 0);
    t1 = clock_now();
    assert_true(t1 >= start && t1 <= start + 1);
    sleep(1);
    t2 = clock_now();
    /* Time runs on from the injected start instead of standing still. */
    assert_true(t2 >= t1 + 1 && t2 <= start + 3);
    assert_int_equal(unsetenv("MENTORD_NOW"), 0);
}

static void
test_now_env_epoch_and_change(void **state)
{
    (void)state;
    time_t t;

    assert_int_equal(setenv("MENTORD_NOW", "1000000000", 1), 0);
    t = clock_now();
    assert_true(t >= 1000000000 && t <= 1000000001);
    /* A new value re-anchors the clock (mentord --now, or a test jumping ahead). */
    assert_int_equal(setenv("MENTORD_NOW", "2026-03-01", 1), 0);
    t = clock_now();
    assert_true(t >= 1772323200 && t <= 1772323201);
    assert_int_equal(unsetenv("MENTORD_NOW"), 0);
}

static void
test_now_ignores_invalid_env(void **state)
{
    (void)state;
    time_t before = time(NULL), now;

    assert_int_equal(setenv("MENTORD_NOW", "next tuesday", 1), 0);
    now = clock_now();
    assert_true(now >= before && now <= time(NULL));
    assert_int_equal(unsetenv("MENTORD_NOW"), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_epoch),
        cmocka_unit_test(test_parse_iso_forms),
        cmocka_unit_test(test_parse_leap_years),
        cmocka_unit_test(test_parse_rejects_garbage),
        cmocka_unit_test(test_now_without_env_is_real_time),
        cmocka_unit_test(test_now_honours_env_and_runs_on),
        cmocka_unit_test(test_now_env_epoch_and_change),
        cmocka_unit_test(test_now_ignores_invalid_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
