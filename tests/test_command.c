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
    /* A last line of just "\r" (no newline) ends the scan instead of looping. */
    expect(NULL, "hello\r", COMMAND_NONE, 0);
    expect(NULL, "\r", COMMAND_NONE, 0);
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
    assert_string_equal(command_name(COMMAND_CAPACITY), "capacity");
    assert_string_equal(command_name(COMMAND_DECLINE), "decline");
}

/* Parse and return the whole struct, for argument checks. */
static struct command
parse(const char *subject, const char *body)
{
    struct command c;
    memset(&c, 0x5a, sizeof c); /* garbage: every field must be set by the parser */
    command_parse(subject, body, &c);
    return c;
}

static void
test_new_command_synonyms(void **state)
{
    (void)state;
    expect("status", NULL, COMMAND_STATUS, 1);
    expect("Re: my status?", NULL, COMMAND_STATUS, 1);
    expect("resume", NULL, COMMAND_RESUME, 1);
    expect("Unpause please", NULL, COMMAND_RESUME, 1);
    expect("I'm back!", NULL, COMMAND_RESUME, 1);
    expect("I\xe2\x80\x99m back", NULL, COMMAND_RESUME, 1); /* phone apostrophe */
    expect("leave", NULL, COMMAND_LEAVE, 1);
    expect("STOP", NULL, COMMAND_LEAVE, 1);
    expect("Unsubscribe", NULL, COMMAND_LEAVE, 1);
    expect("remove me from the list", NULL, COMMAND_LEAVE, 1);
    expect("quit", NULL, COMMAND_LEAVE, 1);
    expect("done", NULL, COMMAND_DONE, 1);
    expect("Finished!", NULL, COMMAND_DONE, 1);
    expect("rematch", NULL, COMMAND_REMATCH, 1);
    expect("New mentor please", NULL, COMMAND_REMATCH, 1);
    expect("accept", NULL, COMMAND_ACCEPT, 1);
    expect("Re: decline", NULL, COMMAND_DECLINE, 1);
    expect("subscribe", NULL, COMMAND_JOIN, 1);
    expect("Sign up", NULL, COMMAND_JOIN, 1);
}

static void
test_other_languages(void **state)
{
    (void)state;
    expect("beitreten", NULL, COMMAND_JOIN, 1);
    expect("AW: Rejoindre", NULL, COMMAND_JOIN, 1);
    expect("unirse", NULL, COMMAND_JOIN, 1);
    expect("Ayuda", NULL, COMMAND_HELP, 1);
    expect("Hilfe!", NULL, COMMAND_HELP, 1);
    expect("aide", NULL, COMMAND_HELP, 1);
    expect("abmelden", NULL, COMMAND_LEAVE, 1);
    expect("B\xc3\xa9n\xc3\xa9vole", NULL, COMMAND_MENTOR, 1); /* Bénévole */
    expect("Kapazit\xc3\xa4t 2", NULL, COMMAND_CAPACITY, 1);
    expect("best\xc3\xa4tigen", NULL, COMMAND_CONFIRM, 1);
}

static void
test_yes_no_whole_first_line(void **state)
{
    (void)state;
    expect("Re: yes", NULL, COMMAND_ACCEPT, 1);
    expect(NULL, "Yes!\n", COMMAND_ACCEPT, 0);
    expect(NULL, "\n  yes, please\n", COMMAND_ACCEPT, 0);
    expect(NULL, "No.\n", COMMAND_DECLINE, 0);
    expect(NULL, "no thanks\n", COMMAND_DECLINE, 0);
    expect(NULL, "Ja\n", COMMAND_ACCEPT, 0);
    /* Not the whole line, or not the first line: ordinary words. */
    expect("Yes I have a question", NULL, COMMAND_NONE, 0);
    expect(NULL, "No idea how this works\n", COMMAND_NONE, 0);
    expect(NULL, "Hello,\nyes\n", COMMAND_NONE, 0);
    expect(NULL, "Hi\nNo.\n", COMMAND_NONE, 0);
    expect("Yesterday", NULL, COMMAND_NONE, 0);
    /* "back" only alone. */
    expect("back", NULL, COMMAND_RESUME, 1);
    expect("Back in March you said", NULL, COMMAND_NONE, 0);
}

static void
test_pause_durations(void **state)
{
    (void)state;
    struct command c = parse("pause 3 weeks", NULL);
    assert_int_equal(c.kind, COMMAND_PAUSE);
    assert_int_equal(c.number, 3);
    assert_int_equal(parse("Pause for 2 weeks", NULL).number, 2);
    assert_int_equal(parse("pause 2w", NULL).number, 2);
    assert_int_equal(parse("pause: 4 wks", NULL).number, 4);
    assert_int_equal(parse("pause 1 week please", NULL).number, 1);
    assert_int_equal(parse("pause two weeks", NULL).number, 2);
    assert_int_equal(parse("pause a week", NULL).number, 1);
    assert_int_equal(parse("pause 5", NULL).number, 5);       /* weeks by default */
    assert_int_equal(parse("pause 10 days", NULL).number, 2); /* rounded up */
    assert_int_equal(parse("pause 2 months", NULL).number, 9);
    assert_int_equal(parse("pause 3 years", NULL).number, 52); /* at most a year */
    assert_int_equal(parse("pausieren f\xc3\xbcr 3 Wochen", NULL).number, 3);
    assert_int_equal(parse("pausa 2 semanas", NULL).number, 2);
    assert_int_equal(parse(NULL, "Hi,\npause for 6 weeks\n").number, 6);
    c = parse("pause", NULL);
    assert_int_equal(c.kind, COMMAND_PAUSE);
    assert_int_equal(c.number, 0); /* open-ended */
    c = parse("pause forever", NULL);
    assert_int_equal(c.kind, COMMAND_PAUSE);
    assert_int_equal(c.number, 0); /* not a number: open-ended, documented */
    assert_int_equal(parse("pause until further notice", NULL).number, 0);
    assert_int_equal(parse("pause 0 weeks", NULL).number, 0);
}

static void
test_pause_negatives(void **state)
{
    (void)state;
    expect("I don't want to pause", NULL, COMMAND_NONE, 0);
    expect("paused", NULL, COMMAND_NONE, 0);
    expect("Re: Pauses in the programme", NULL, COMMAND_NONE, 0);
    expect(NULL, "Thanks\n> pause 3 weeks\n", COMMAND_NONE, 0);
    /* Commands without arguments carry number -1 and no token. */
    struct command c = parse("help", NULL);
    assert_int_equal(c.number, -1);
    assert_string_equal(c.token, "");
    assert_int_equal(c.from_address, 0);
}

static void
test_capacity(void **state)
{
    (void)state;
    struct command c = parse("capacity 3", NULL);
    assert_int_equal(c.kind, COMMAND_CAPACITY);
    assert_int_equal(c.number, 3);
    assert_int_equal(parse("Capacity: 2", NULL).number, 2);
    assert_int_equal(parse("capacity = 4 mentees", NULL).number, 4);
    assert_int_equal(parse(NULL, "capacity:1\n").number, 1);
    assert_int_equal(parse("max mentees 5", NULL).number, 5);
    c = parse("capacity", NULL);
    assert_int_equal(c.kind, COMMAND_CAPACITY);
    assert_int_equal(c.number, -1);
    assert_int_equal(parse("capacity lots", NULL).number, -1);
    assert_int_equal(parse("capacity -2", NULL).number, -1);
    assert_int_equal(parse("capacity 123456", NULL).number, -1);
    expect("capacityplanning", NULL, COMMAND_NONE, 0);
}

static void
test_confirm_token(void **state)
{
    (void)state;
    struct command c = parse("confirm k7q2m9xpab", NULL);
    assert_int_equal(c.kind, COMMAND_CONFIRM);
    assert_string_equal(c.token, "k7q2m9xpab");
    assert_string_equal(parse("Re: CONFIRM K7Q2M9XPAB", NULL).token, "k7q2m9xpab");
    assert_string_equal(parse(NULL, "confirm: k7q2m9xpab\n").token, "k7q2m9xpab");
    assert_string_equal(parse("Confirm your address [ref k7q2m9xpab]", NULL).token, "k7q2m9xpab");
    c = parse("confirm", NULL);
    assert_int_equal(c.kind, COMMAND_CONFIRM);
    assert_string_equal(c.token, "");
    /* Wrong length, look-alike characters (0, 1, i, l, o) and punctuation are refused. */
    assert_string_equal(parse("confirm k7q2m9xpa", NULL).token, "");
    assert_string_equal(parse("confirm k7q2m9xpabc", NULL).token, "");
    assert_string_equal(parse("confirm k7q2m9xpa0", NULL).token, "");
    assert_string_equal(parse("confirm k7q2m9xpai", NULL).token, "");
    assert_string_equal(parse("confirm k7q2m9xpa!", NULL).token, "");
    expect("confirmation needed", NULL, COMMAND_NONE, 0);
    expect("Confirmed", NULL, COMMAND_CONFIRM, 1);
}

static void
test_find_ref(void **state)
{
    (void)state;
    char tok[COMMAND_TOKEN_LEN + 1];
    assert_int_equal(command_find_ref("Re: Please confirm [ref k7q2m9xpab]", tok), 1);
    assert_string_equal(tok, "k7q2m9xpab");
    assert_int_equal(command_find_ref("[REF: K7Q2M9XPAB] hello", tok), 1);
    assert_string_equal(tok, "k7q2m9xpab");
    assert_int_equal(command_find_ref("x [ ref   abcdefghjk ] y", tok), 1);
    assert_string_equal(tok, "abcdefghjk");
    assert_int_equal(command_find_ref("body\n[ref #23456789ab]\n", tok), 1);
    assert_string_equal(tok, "23456789ab");
    /* The first valid tag wins; invalid ones are skipped. */
    assert_int_equal(command_find_ref("[ref nope] [ref k7q2m9xpab]", tok), 1);
    assert_string_equal(tok, "k7q2m9xpab");
    assert_int_equal(command_find_ref("[ref k7q2m9xpa]", tok), 0);
    assert_int_equal(command_find_ref("[ref k7q2m9xpab", tok), 0);
    assert_int_equal(command_find_ref("[refund k7q2m9xpab]", tok), 0);
    assert_int_equal(command_find_ref("[ref o1lio1lio1]", tok), 0);
    assert_int_equal(command_find_ref("ref k7q2m9xpab", tok), 0);
    assert_int_equal(command_find_ref("", tok), 0);
    assert_int_equal(command_find_ref(NULL, tok), 0);
}

static void
detail_is(const char *detail, enum command_kind kind)
{
    struct command c;
    memset(&c, 0x5a, sizeof c);
    int r = command_from_detail(detail, &c);
    if (c.kind != kind)
        print_error("detail \"%s\": got %s want %s\n", detail, command_name(c.kind),
                    command_name(kind));
    assert_int_equal(r, kind != COMMAND_NONE);
    assert_int_equal(c.kind, kind);
    assert_int_equal(c.from_address, kind != COMMAND_NONE);
    assert_int_equal(c.from_subject, 0);
}

static void
test_from_detail(void **state)
{
    (void)state;
    detail_is("join", COMMAND_JOIN);
    detail_is("JOIN", COMMAND_JOIN);
    detail_is("mentor", COMMAND_MENTOR);
    detail_is("help", COMMAND_HELP);
    detail_is("leave", COMMAND_LEAVE);
    detail_is("unsubscribe", COMMAND_LEAVE);
    detail_is("status", COMMAND_STATUS);
    detail_is("sign-me-up", COMMAND_JOIN);
    detail_is("pause", COMMAND_PAUSE);
    detail_is("resume", COMMAND_RESUME);
    detail_is("volunteer", COMMAND_MENTOR);
    detail_is("", COMMAND_NONE);
    detail_is(NULL, COMMAND_NONE);
    detail_is("news", COMMAND_NONE);
    detail_is("joiner", COMMAND_NONE);
    detail_is("join-now", COMMAND_NONE);
    detail_is("yes", COMMAND_NONE); /* answers belong in the body, not the address */
    detail_is("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
              COMMAND_NONE);
    struct command c;
    assert_int_equal(command_from_detail("pause-3-weeks", &c), 1);
    assert_int_equal(c.number, 3);
    assert_int_equal(command_from_detail("confirm-k7q2m9xpab", &c), 1);
    assert_string_equal(c.token, "k7q2m9xpab");
    assert_int_equal(command_from_detail("capacity_2", &c), 1);
    assert_int_equal(c.number, 2);
    assert_int_equal(command_from_detail("pause", &c), 1);
    assert_int_equal(c.number, 0);
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
        cmocka_unit_test(test_new_command_synonyms),
        cmocka_unit_test(test_other_languages),
        cmocka_unit_test(test_yes_no_whole_first_line),
        cmocka_unit_test(test_pause_durations),
        cmocka_unit_test(test_pause_negatives),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_confirm_token),
        cmocka_unit_test(test_find_ref),
        cmocka_unit_test(test_from_detail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
