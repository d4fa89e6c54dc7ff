/*
 * mentees_split: a mentor's answer about several mentees, by number, by
 * name, on one line or several, in the shipped languages; answers about all;
 * answers that cannot be told apart; names mentioned in passing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mentees.h"

/* A small reading of ratings, enough for the splitter: a lone digit 1-5, or a word. */
static int
rating(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int before = i == 0 || !(text[i - 1] >= '0' && text[i - 1] <= '9');
        int after = i + 1 >= len || !(text[i + 1] >= '0' && text[i + 1] <= '9');
        if (text[i] >= '1' && text[i] <= '5' && before && after)
            return text[i] - '0';
    }
    if (len >= 4 && strncmp(text, "good", 4) == 0)
        return 4;
    if (len >= 3 && strncmp(text, "bad", 3) == 0)
        return 2;
    return 0;
}

static const struct mentees_who TWO[] = {
    {"Ana", "ana@example.test", 1},
    {"Bob", "bob@example.test", 2},
};

static const struct mentees_who THREE[] = {
    {"Ana", "ana@example.test", 1},
    {"Bob", "bob@example.test", 2},
    {"", "cy@example.test", 3}, /* gave no name */
};

/* parts[i] as a string ("" when not given). */
static char *
part(const struct mentees_part *p, char *buf, size_t len)
{
    snprintf(buf, len, "%.*s", p->given ? (int)p->len : 0, p->given ? p->text : "");
    return buf;
}

static void
expect(const char *text, const struct mentees_who *who, size_t n, enum mentees_kind kind,
       const char *const *want)
{
    struct mentees_part parts[MENTEES_MAX];
    char buf[256];
    enum mentees_kind got = mentees_split(text, who, n, rating, parts);

    if (got != kind)
        fail_msg("\"%s\": kind %d, want %d", text, (int)got, (int)kind);
    for (size_t i = 0; want && i < n; i++)
        if (strcmp(part(&parts[i], buf, sizeof(buf)), want[i] ? want[i] : "") != 0 ||
            parts[i].given != (want[i] != NULL))
            fail_msg("\"%s\": mentee %zu got \"%s\" (given %d), want \"%s\"", text, i, buf,
                     parts[i].given, want[i] ? want[i] : "(nothing)");
}

#define WANT(...) ((const char *const[]){__VA_ARGS__})

/* "1: going well, 4 / 2: hasn't replied, 2", and the other ways of numbering. */
static void
test_by_number(void **state)
{
    (void)state;
    expect("1: going well, 4 / 2: hasn't replied, 2", TWO, 2, MENTEES_SPLIT,
           WANT("going well, 4", "hasn't replied, 2"));
    expect("1: 5\n2: 3 - busy weeks\n", TWO, 2, MENTEES_SPLIT, WANT("5", "3 - busy weeks"));
    expect("#2 - 4, we met twice\n#1 - 3", TWO, 2, MENTEES_SPLIT, WANT("3", "4, we met twice"));
    expect("1) 4\n2) 5", TWO, 2, MENTEES_SPLIT, WANT("4", "5"));
    expect("(1) 4, (2) 5", TWO, 2, MENTEES_SPLIT, WANT("4", "5"));
    expect("1. 4 - fine\n2. 2 - has not answered", TWO, 2, MENTEES_SPLIT,
           WANT("4 - fine", "2 - has not answered"));
    expect("Nr. 1: 5\nNr. 2: 4", TWO, 2, MENTEES_SPLIT, WANT("5", "4"));
    expect("n\xc2\xba 1: 5; n\xc2\xba 2: 4", TWO, 2, MENTEES_SPLIT, WANT("5", "4"));
    /* Only one of them: the other is not answered. */
    expect("2: 1 - we never managed to meet", TWO, 2, MENTEES_SPLIT,
           WANT(NULL, "1 - we never managed to meet"));
    /* A number and a full stop alone is a rating, not a label. */
    expect("2. we met twice", TWO, 2, MENTEES_ALL, NULL);
    /* "1:30" is a time. */
    expect("We met at 1:30 yesterday, 4", TWO, 2, MENTEES_ALL, NULL);
}

/* "Ana: 5, Bob: 3", a line per name, names in sentences, the address of one without a name. */
static void
test_by_name(void **state)
{
    (void)state;
    expect("Ana: 5, Bob: 3", TWO, 2, MENTEES_SPLIT, WANT("5", "3"));
    expect("ana 5\nbob - 3, hard to find a time", TWO, 2, MENTEES_SPLIT,
           WANT("5", "3, hard to find a time"));
    expect("Ana is doing great (5), Bob has not answered yet", TWO, 2, MENTEES_SPLIT,
           WANT("is doing great (5)", "has not answered yet"));
    expect("- Bob: 4\n- Ana: 2", TWO, 2, MENTEES_SPLIT, WANT("2", "4"));
    expect("Ana: 5 und Bob: 3", TWO, 2, MENTEES_SPLIT, WANT("5", "3"));
    expect("Ana: 5 y Bob: 3", TWO, 2, MENTEES_SPLIT, WANT("5", "3"));
    expect("Ana : 5 et Bob : 3", TWO, 2, MENTEES_SPLIT, WANT("5", "3"));
    /* Both at once. */
    expect("Ana and Bob: 4, all good", TWO, 2, MENTEES_SPLIT, WANT("4, all good", "4, all good"));
    /* A name in passing starts nothing. */
    expect("Ana: 5, she met Bob's friend at the meetup", TWO, 2, MENTEES_SPLIT,
           WANT("5, she met Bob's friend at the meetup", NULL));
    expect("Anabel came along too, 4", TWO, 2, MENTEES_ALL, NULL); /* "Ana" is not "Anabel" */
    /* The one without a name, by address or by number. */
    expect("cy@example.test: 2\nAna: 4", THREE, 3, MENTEES_SPLIT, WANT("4", NULL, "2"));
    expect("3: 2\n1: 4", THREE, 3, MENTEES_SPLIT, WANT("4", NULL, "2"));
}

/* No label: about all of them, unless several ratings make it unclear. */
static void
test_all_or_unclear(void **state)
{
    (void)state;
    expect("5 - all good", TWO, 2, MENTEES_ALL, NULL);
    expect("going well, 4", TWO, 2, MENTEES_ALL, NULL);
    expect("4 - we met twice, good", TWO, 2, MENTEES_ALL, NULL);
    expect("We haven't met yet.", TWO, 2, MENTEES_ALL, NULL);
    expect("", TWO, 2, MENTEES_ALL, NULL);
    expect("4, 2", TWO, 2, MENTEES_UNCLEAR, NULL);
    expect("4 and 2", TWO, 2, MENTEES_UNCLEAR, NULL);
    expect("4\n2\n", TWO, 2, MENTEES_UNCLEAR, NULL);
    expect("good / bad", TWO, 2, MENTEES_UNCLEAR, NULL);
    expect("5 y 3", TWO, 2, MENTEES_UNCLEAR, NULL);
    /* A number beyond the list. */
    expect("1: 4\n3: 5", TWO, 2, MENTEES_UNCLEAR, NULL);
    /* Labels with nothing said. */
    expect("1:\n2:", TWO, 2, MENTEES_UNCLEAR, NULL);
}

/* Two mentees of the same name: only their numbers tell them apart. */
static void
test_same_names(void **state)
{
    static const struct mentees_who same[] = {{"Sam", NULL, 1}, {"Sam", NULL, 2}};

    (void)state;
    expect("Sam: 4", same, 2, MENTEES_ALL, NULL);
    expect("1: 4\n2: 2", same, 2, MENTEES_SPLIT, WANT("4", "2"));
}

/* Whatever the bytes, no crash and parts inside the text. */
static void
test_hostile_input(void **state)
{
    struct mentees_part parts[MENTEES_MAX];
    char buf[4096];

    (void)state;
    srand(16);
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)rand() % (sizeof(buf) - 1);
        static const char alphabet[] = "12345 :;,./-#()\n\tAnaBob&und y e \xc2\xba";
        for (size_t i = 0; i < n; i++)
            buf[i] = round % 2 ? alphabet[rand() % (int)(sizeof(alphabet) - 1)]
                               : (char)(1 + rand() % 255);
        buf[n] = '\0';
        enum mentees_kind k = mentees_split(buf, THREE, 3, rating, parts);
        assert_true(k == MENTEES_ALL || k == MENTEES_SPLIT || k == MENTEES_UNCLEAR);
        for (size_t i = 0; i < 3; i++)
            if (parts[i].given)
                assert_true(parts[i].text >= buf && parts[i].text + parts[i].len <= buf + n);
    }
    assert_int_equal(mentees_split(NULL, TWO, 2, rating, parts), MENTEES_ALL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_number),      cmocka_unit_test(test_by_name),
        cmocka_unit_test(test_all_or_unclear), cmocka_unit_test(test_same_names),
        cmocka_unit_test(test_hostile_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
