/* Unit tests for command: subject and body commands, synonyms, prefixes, negatives. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "command.h"

static void
expect(const char *subject, const char *body, enum command_kind kind, int from_subject)
{
    struct command c = {.kind = COMMAND_HELP, .from_subject = 7};
    command_parse(subject, body, &c);
    if (c.kind != kind || c.from_subject != from_subject)
        print_error("subject=\"%s\" body=\"%s\": got %s/%d, want %s/%d\n",
                    subject ? subject : "(null)", body ? body : "(null)", command_name(c.kind),
                    c.from_subject, command_name(kind), from_subject);
    assert_int_equal(c.kind, kind);
    assert_int_equal(c.from_subject, from_subject);
}

static void
test_join_synonyms(void **state)
{
    (void)state;
    expect("join", NULL, COMMAND_JOIN, 1);
    expect("JOIN!", NULL, COMMAND_JOIN, 1);
    expect("Join please", NULL, COMMAND_JOIN, 1);
    expect("join: Ann", NULL, COMMAND_JOIN, 1);
    expect("Sign me up", NULL, COMMAND_JOIN, 1);
    expect("sign   me\tup, thanks", NULL, COMMAND_JOIN, 1);
    expect("Newcomer here", NULL, COMMAND_JOIN, 1);
    expect("I want a mentor", NULL, COMMAND_JOIN, 1);
    expect("find me a mentor please", NULL, COMMAND_JOIN, 1);
}

static void
test_mentor_synonyms(void **state)
{
    (void)state;
    expect("mentor", NULL, COMMAND_MENTOR, 1);
    expect("Volunteer", NULL, COMMAND_MENTOR, 1);
    expect("I want to mentor", NULL, COMMAND_MENTOR, 1);
    expect("Become a mentor?", NULL, COMMAND_MENTOR, 1);
    expect("MENTOR - count me in", NULL, COMMAND_MENTOR, 1);
}

static void
test_help_synonyms(void **state)
{
    (void)state;
    expect("help", NULL, COMMAND_HELP, 1);
    expect("?", NULL, COMMAND_HELP, 1);
    expect("Info", NULL, COMMAND_HELP, 1);
    expect("HELP!!", NULL, COMMAND_HELP, 1);
}

static void
test_reply_prefixes(void **state)
{
    (void)state;
    expect("Re: join", NULL, COMMAND_JOIN, 1);
    expect("RE: Fwd: FW: join", NULL, COMMAND_JOIN, 1);
    expect("AW: WG: mentor", NULL, COMMAND_MENTOR, 1);
    expect("SV: VS: Antw: help", NULL, COMMAND_HELP, 1);
    expect("Odp: TR: R\xc3\xa9"
           "f: RIF: join",
           NULL, COMMAND_JOIN, 1);
    expect("Re[2]: Re(3): join", NULL, COMMAND_JOIN, 1);
    expect("Re : [mentors] join", NULL, COMMAND_JOIN, 1);
}

static void
test_strip_prefixes(void **state)
{
    (void)state;
    char *s = command_strip_prefixes("  Re: AW: Fwd:  [list] Hello there  ");
    assert_string_equal(s, "Hello there");
    free(s);
    /* Words that merely start like a prefix are kept. */
    s = command_strip_prefixes("Research: results");
    assert_string_equal(s, "Research: results");
    free(s);
    s = command_strip_prefixes(NULL);
    assert_string_equal(s, "");
    free(s);
}

static void
test_first_word_rule(void **state)
{
    (void)state;
    expect("I don't want to join", NULL, COMMAND_NONE, 0);
    expect("Joined yesterday", NULL, COMMAND_NONE, 0);
    expect("mentorship question", NULL, COMMAND_NONE, 0);
    expect("helpful tips", NULL, COMMAND_NONE, 0);
    expect("Re: your mentor", NULL, COMMAND_NONE, 0);
    expect("Please help", "Can you help me?\nI don't want to join.", COMMAND_NONE, 0);
}

static void
test_body_commands(void **state)
{
    (void)state;
    expect("Hello", "join\n", COMMAND_JOIN, 0);
    expect(NULL, "\n\n  Hi all,\nI want to mentor people.\n", COMMAND_MENTOR, 0);
    expect("", "Hi,\r\nthanks.\r\nhelp\r\n", COMMAND_HELP, 0);
    expect(NULL, "Join\xc2\xa0please", COMMAND_JOIN, 0); /* NBSP from HTML mail */
}

static void
test_body_only_first_three_lines(void **state)
{
    (void)state;
    expect(NULL, "one\ntwo\nthree\njoin\n", COMMAND_NONE, 0);
    /* Blank lines do not count. */
    expect(NULL, "one\n\n\ntwo\n\n   \njoin\n", COMMAND_JOIN, 0);
}

static void
test_quotes_never_read(void **state)
{
    (void)state;
    expect(NULL, "> join\n", COMMAND_NONE, 0);
    expect(NULL, "Thanks!\n\nOn Mon, 1 Jan 2024, Ann <a@b.example> wrote:\njoin\n", COMMAND_NONE,
           0);
    expect(NULL, "Thanks!\nOn Mon, 1 Jan 2024 at 10:00, Ann Example\n<a@b.example> wrote:\nhelp\n",
           COMMAND_NONE, 0);
    expect(NULL, "ok\n-- \nhelp desk\n", COMMAND_NONE, 0);
    expect(NULL, "-----Original Message-----\nmentor\n", COMMAND_NONE, 0);
    /* "On ..." that is not a quote header is an ordinary line. */
    expect(NULL, "On second thought\nmentor\n", COMMAND_MENTOR, 0);
}

static void
test_subject_wins_over_body(void **state)
{
    (void)state;
    expect("Re: help", "join\n", COMMAND_HELP, 1);
    expect("Re: Welcome to the programme", "mentor\n> join\n", COMMAND_MENTOR, 0);
}

static void
test_nothing(void **state)
{
    (void)state;
    expect(NULL, NULL, COMMAND_NONE, 0);
    expect("", "", COMMAND_NONE, 0);
    expect("Hello", "How are you?\n", COMMAND_NONE, 0);
    assert_string_equal(command_name(COMMAND_NONE), "none");
    assert_string_equal(command_name(COMMAND_JOIN), "join");
    assert_string_equal(command_name(COMMAND_MENTOR), "mentor");
    assert_string_equal(command_name(COMMAND_HELP), "help");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_synonyms),
        cmocka_unit_test(test_mentor_synonyms),
        cmocka_unit_test(test_help_synonyms),
        cmocka_unit_test(test_reply_prefixes),
        cmocka_unit_test(test_strip_prefixes),
        cmocka_unit_test(test_first_word_rule),
        cmocka_unit_test(test_body_commands),
        cmocka_unit_test(test_body_only_first_three_lines),
        cmocka_unit_test(test_quotes_never_read),
        cmocka_unit_test(test_subject_wins_over_body),
        cmocka_unit_test(test_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
