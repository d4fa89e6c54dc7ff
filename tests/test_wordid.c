/* Tests for wordid: a word's id by where it is compared, found again, kept as the table grows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "wordid.h"

static void
test_ids_from_one_and_found_again(void **state)
{
    (void)state;
    struct wordid_table *t = wordid_new();
    assert_non_null(t);
    assert_int_equal(wordid_count(t), 0);
    uint32_t a = wordid_intern(t, 0, "mentor", 6);
    uint32_t b = wordid_intern(t, 0, "python", 6);
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    assert_int_equal(wordid_intern(t, 0, "mentor", 6), a); /* no second id for a word */
    assert_int_equal(wordid_find(t, 0, "mentor", 6), a);
    assert_int_equal(wordid_find(t, 0, "python", 6), b);
    assert_int_equal(wordid_count(t), 2);
    wordid_free(t);
}

static void
test_where_and_length_tell_words_apart(void **state)
{
    (void)state;
    struct wordid_table *t = wordid_new();
    assert_non_null(t);
    uint32_t en = wordid_intern(t, 0, "mentor", 6);
    uint32_t de = wordid_intern(t, 1, "mentor", 6);
    assert_int_not_equal(en, de); /* the same stem in two languages: two words */
    assert_int_equal(wordid_find(t, 1, "mentor", 6), de);
    /* only len bytes count: "mentors" cut at 6 is "mentor" */
    assert_int_equal(wordid_find(t, 0, "mentors", 6), en);
    assert_int_equal(wordid_find(t, 0, "mentors", 7), 0);
    assert_int_equal(wordid_find(t, 0, "mento", 5), 0);
    assert_int_equal(wordid_find(t, 2, "mentor", 6), 0); /* unknown: 0, which no word has */
    assert_int_equal(wordid_find(NULL, 0, "mentor", 6), 0);
    wordid_free(t);
    wordid_free(NULL);
}

static void
test_ids_kept_as_the_table_grows(void **state)
{
    (void)state;
    struct wordid_table *t = wordid_new();
    assert_non_null(t);
    char w[32];
    for (unsigned i = 0; i < 5000; i++) {
        int n = snprintf(w, sizeof w, "word%u", i);
        assert_int_equal(wordid_intern(t, i % 3, w, (size_t)n), i + 1);
    }
    assert_int_equal(wordid_count(t), 5000);
    for (unsigned i = 0; i < 5000; i++) {
        int n = snprintf(w, sizeof w, "word%u", i);
        assert_int_equal(wordid_find(t, i % 3, w, (size_t)n), i + 1);
        assert_int_equal(wordid_find(t, (i + 1) % 3, w, (size_t)n), 0);
    }
    wordid_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_from_one_and_found_again),
        cmocka_unit_test(test_where_and_length_tell_words_apart),
        cmocka_unit_test(test_ids_kept_as_the_table_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
