/*
 * inspect: what `mentorctl inspect` says about each kind of mail, in text and
 * JSON, and the mbox reader.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "inspect.h"
#include "testutil.h"

static struct config
test_cfg(void)
{
    struct config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.community.address = "mentors@example.org";
    cfg.limits.max_message_size = 10 * 1024 * 1024;
    cfg.programme.bounce_threshold = 3;
    cfg.programme.away_pause = 7 * 24 * 3600;
    return cfg;
}

/* The output of inspect_buffer on msg, malloc'd. */
static char *
run_cfg(const struct config *cfg, const char *msg, int json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    assert_non_null(out);
    assert_int_equal(inspect_buffer(cfg, NULL, msg, strlen(msg), "t.eml", json, out), 0);
    assert_int_equal(fclose(out), 0);
    return buf;
}

static char *
run(const char *msg, int json)
{
    struct config cfg = test_cfg();
    return run_cfg(&cfg, msg, json);
}

/* ---- a minimal JSON validator (RFC 8259 grammar, strings must not hold raw controls) ---- */

static int json_value(const char **p);

static void
json_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

static int
json_string(const char **p)
{
    if (**p != '"')
        return 0;
    for ((*p)++; **p != '"'; (*p)++) {
        unsigned char c = (unsigned char)**p;
        if (c < 0x20)
            return 0; /* unescaped control character, or the end of the text */
        if (c != '\\')
            continue;
        (*p)++;
        if (**p == 'u') {
            for (int i = 1; i <= 4; i++)
                if (strchr("0123456789abcdefABCDEF", (*p)[i]) == NULL || (*p)[i] == '\0')
                    return 0;
            *p += 4;
        } else if (**p == '\0' || strchr("\"\\/bfnrt", **p) == NULL) {
            return 0;
        }
    }
    (*p)++;
    return 1;
}

static int
json_compound(const char **p, char close, int object)
{
    (*p)++;
    json_ws(p);
    if (**p == close) {
        (*p)++;
        return 1;
    }
    for (;;) {
        json_ws(p);
        if (object) {
            if (!json_string(p))
                return 0;
            json_ws(p);
            if (*(*p)++ != ':')
                return 0;
        }
        if (!json_value(p))
            return 0;
        json_ws(p);
        if (**p == close) {
            (*p)++;
            return 1;
        }
        if (*(*p)++ != ',')
            return 0;
    }
}

static int
json_value(const char **p)
{
    json_ws(p);
    if (**p == '{')
        return json_compound(p, '}', 1);
    if (**p == '[')
        return json_compound(p, ']', 0);
    if (**p == '"')
        return json_string(p);
    for (const char *lit = "true\0false\0null\0"; *lit; lit += strlen(lit) + 1)
        if (strncmp(*p, lit, strlen(lit)) == 0) {
            *p += strlen(lit);
            return 1;
        }
    char *end;
    strtod(*p, &end);
    if (end == *p)
        return 0;
    *p = end;
    return 1;
}

/* Every line of out is one valid JSON object; returns the number of lines. */
static int
json_lines_valid(const char *out)
{
    int n = 0;

    for (const char *p = out; *p;) {
        if (*p != '{')
            return -1;
        if (!json_value(&p) || *p != '\n')
            return -1;
        p++;
        n++;
    }
    return n;
}

/* ---- the messages ---- */

static const char JOIN[] = "From: Ada <ada@example.net>\n"
                           "To: mentors@example.org\n"
                           "Subject: Join\n"
                           "Message-ID: <j1@example.net>\n"
                           "\n"
                           "Hello, I would like a mentor.\n";

static const char DSN[] =
    "From: MAILER-DAEMON@mx.example.net\n"
    "To: mentors@example.org\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Message-ID: <dsn1@mx.example.net>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"\n"
    "\n"
    "--BB\n"
    "Content-Type: text/plain\n"
    "\n"
    "I could not deliver your message.\n"
    "--BB\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.net\n"
    "\n"
    "Final-Recipient: rfc822; Bob@Example.NET\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: user unknown\n"
    "\n"
    "--BB--\n";

static const char AUTO_REPLY[] = "From: carol@example.net\n"
                                 "To: mentors@example.org\n"
                                 "Subject: Out of office\n"
                                 "Auto-Submitted: auto-replied\n"
                                 "Message-ID: <oo1@example.net>\n"
                                 "\n"
                                 "I am away until Monday.\n";

static const char QUOTED_COMMAND[] = "From: dan@example.net\n"
                                     "To: mentors@example.org\n"
                                     "Subject: Re: hello\n"
                                     "\n"
                                     "Thanks, that sounds good!\n"
                                     "\n"
                                     "On Mon, 3 Mar 2025 at 10:00, Mentors <mentors@example.org> "
                                     "wrote:\n"
                                     "> leave\n"
                                     "> unsubscribe\n";

static const char ONLY_QUOTED[] = "From: gus@example.net\n"
                                  "To: mentors@example.org\n"
                                  "Subject: Re: hello\n"
                                  "\n"
                                  "On Mon, 3 Mar 2025 at 10:00, Mentors <mentors@example.org> "
                                  "wrote:\n"
                                  "> Reply JOIN to sign up.\n";

static const char PROFILE[] = "From: erin@example.net\n"
                              "To: mentors@example.org\n"
                              "Subject: my details\n"
                              "\n"
                              "Name: Erin Example\n"
                              "Skills: C, Rust\n"
                              "Time zone: Mars/Olympus_Mons\n";

static const char CONFIRM_REF[] = "From: fay@example.net\n"
                                  "To: mentors@example.org\n"
                                  "Subject: Re: Please confirm your request [ref abc234xyz9]\n"
                                  "In-Reply-To: <c1@example.org>\n"
                                  "\n"
                                  "Yes please, that was me.\n";

static const char MBOX[] = "From ada@example.net Mon Mar  3 10:00:00 2025\n"
                           "From: ada@example.net\n"
                           "Subject: join\n"
                           "\n"
                           "Please.\n"
                           "\n"
                           "From bob@example.net Mon Mar  3 10:01:00 2025\n"
                           "From: bob@example.net\n"
                           "Subject: status\n"
                           "\n"
                           ">From the start I liked it.\n"
                           "\n"
                           "From carol@example.net Mon Mar  3 10:02:00 2025\n"
                           "From: carol@example.net\n"
                           "Subject: Automatic reply: away\n"
                           "Auto-Submitted: auto-replied\n"
                           "\n"
                           "Away.\n";

/* ---- tests ---- */

static void
test_join(void **state)
{
    (void)state;
    char *t = run(JOIN, 0);
    assert_non_null(strstr(t, "Kind:        command\n"));
    assert_non_null(strstr(t, "Command:     join (from the subject)"));
    assert_non_null(strstr(t, "From:        ada@example.net"));
    assert_non_null(strstr(t, "    Hello, I would like a mentor.\n"));
    free(t);
    char *j = run(JOIN, 1);
    assert_int_equal(json_lines_valid(j), 1);
    assert_non_null(strstr(j, "\"kind\":\"command\""));
    assert_non_null(strstr(j, "\"command\":{\"name\":\"join\",\"source\":\"subject\""));
    free(j);
}

static void
test_bounce(void **state)
{
    (void)state;
    char *t = run(DSN, 0);
    assert_non_null(strstr(t, "Kind:        bounce"));
    assert_non_null(strstr(t, "Failed:      bob@example.net\n"));
    assert_non_null(strstr(t, "Status:      5.1.1\n"));
    assert_non_null(strstr(t, "Severity:    permanent\n"));
    assert_null(strstr(t, "Command:")); /* a bounce is never read for commands */
    free(t);
    char *j = run(DSN, 1);
    assert_int_equal(json_lines_valid(j), 1);
    assert_non_null(strstr(j, "\"kind\":\"bounce\""));
    assert_non_null(strstr(j, "\"recipients\":[\"bob@example.net\"]"));
    assert_non_null(strstr(j, "\"status\":\"5.1.1\""));
    assert_non_null(strstr(j, "\"severity\":\"permanent\""));
    free(j);
}

static void
test_auto_reply(void **state)
{
    (void)state;
    char *t = run(AUTO_REPLY, 0);
    assert_non_null(strstr(t, "Kind:        auto-reply"));
    assert_non_null(strstr(t, "Auto-Submitted"));
    assert_non_null(strstr(t, "held back for 7 days"));
    free(t);
    char *j = run(AUTO_REPLY, 1);
    assert_int_equal(json_lines_valid(j), 1);
    assert_non_null(strstr(j, "\"kind\":\"auto-reply\""));
    assert_non_null(strstr(j, "\"classify\":\"auto-reply\""));
    free(j);
}

static void
test_quoted_command_not_read(void **state)
{
    (void)state;
    char *t = run(QUOTED_COMMAND, 0);
    assert_non_null(strstr(t, "Kind:        not understood: help would be sent"));
    assert_non_null(strstr(t, "Command:     (none)"));
    assert_non_null(strstr(t, "    Thanks, that sounds good!\n"));
    assert_null(strstr(t, "> leave"));
    free(t);
    char *j = run(QUOTED_COMMAND, 1);
    assert_int_equal(json_lines_valid(j), 1);
    assert_non_null(strstr(j, "\"kind\":\"unknown\""));
    assert_non_null(strstr(j, "\"text\":\"Thanks, that sounds good!\""));
    free(j);
}

/* Nothing of the sender's own: the quote is shown as sent along, and not read. */
static void
test_only_quoted(void **state)
{
    (void)state;
    char *t = run(ONLY_QUOTED, 0);
    assert_non_null(strstr(t, "Command:     (none)"));
    assert_non_null(strstr(t, "Text:        (empty)\n"));
    assert_non_null(strstr(t, "Sent along:  (quoted or forwarded, not read)\n"
                              "    > Reply JOIN to sign up.\n"));
    assert_non_null(strstr(t, "wrote nothing of their own"));
    free(t);
    char *j = run(ONLY_QUOTED, 1);
    assert_int_equal(json_lines_valid(j), 1);
    assert_non_null(strstr(j, "\"text\":\"\""));
    assert_non_null(strstr(j, "\"sent_along\":\"> Reply JOIN to sign up.\""));
    assert_null(strstr(j, "\"name\":\"join\""));
    free(j);
}

static void
test_profile(void **state)
{
    (void)state;
    char *t = run(PROFILE, 0);
    /* a stranger's profile lines without a request: kept, and the role asked */
    assert_non_null(strstr(t, "Kind:        role unclear: one easy question would be asked"));
    assert_non_null(strstr(t, "Erin Example"));
    assert_non_null(strstr(t, "Not understood:\n  line 3: Time zone: Mars/Olympus_Mons"));
    assert_non_null(strstr(t, "write it as:"));
    free(t);
    char *j = run(PROFILE, 1);
    assert_int_equal(json_lines_valid(j), 1);
    assert_non_null(strstr(j, "\"kind\":\"question\""));
    assert_non_null(strstr(j, "\"ask\":\"role\""));
    assert_non_null(strstr(j, "\"name\":\"Erin Example\""));
    assert_non_null(strstr(j, "\"skills\":[\"c\",\"rust\"]"));
    assert_non_null(strstr(j, "\"problems\":[{\"line\":3,"));
    free(j);
}

static void
test_confirmation_ref(void **state)
{
    (void)state;
    char *t = run(CONFIRM_REF, 0);
    assert_non_null(strstr(t, "Kind:        confirmation reply"));
    assert_non_null(strstr(t, "Ref tag:     abc234xyz9"));
    assert_non_null(strstr(t, "In-Reply-To <c1@example.org>"));
    free(t);
    char *j = run(CONFIRM_REF, 1);
    assert_int_equal(json_lines_valid(j), 1);
    assert_non_null(strstr(j, "\"kind\":\"confirmation\""));
    assert_non_null(strstr(j, "\"ref\":\"abc234xyz9\""));
    free(j);
}

static void
test_confirm_token_in_body(void **state)
{
    (void)state;
    char *j = run("From: gus@example.net\nSubject: Re: confirm\n\nconfirm k7m2p9q3rs\n", 1);
    assert_int_equal(json_lines_valid(j), 1);
    assert_non_null(strstr(j, "\"kind\":\"confirmation\""));
    assert_non_null(strstr(j, "\"token\":\"k7m2p9q3rs\""));
    free(j);
}

static void
test_mbox(void **state)
{
    (void)state;
    char *t = run(MBOX, 0);
    assert_non_null(strstr(t, "== t.eml#1 "));
    assert_non_null(strstr(t, "== t.eml#2 "));
    assert_non_null(strstr(t, "== t.eml#3 "));
    assert_null(strstr(t, "== t.eml#4"));
    /* mboxrd: ">From" is unescaped to "From", and the person wrote it. */
    assert_non_null(strstr(t, "\n    From the start I liked it.\n"));
    assert_non_null(strstr(t, "Command:     status (from the subject)"));
    assert_non_null(strstr(t, "Kind:        auto-reply"));
    free(t);
    char *j = run(MBOX, 1);
    assert_int_equal(json_lines_valid(j), 3);
    assert_non_null(strstr(j, "\"label\":\"t.eml#1\",\"kind\":\"command\""));
    assert_non_null(strstr(j, "\"label\":\"t.eml#3\",\"kind\":\"auto-reply\""));
    free(j);
}

static void
test_json_escapes(void **state)
{
    (void)state;
    /* A control character and a tab in the text, UTF-8 from an encoded word, a quote. */
    char *j = run("From: hal@example.net\n"
                  "Subject: =?UTF-8?B?R3LDvMOfZQ==?= \"hi\"\n"
                  "\n"
                  "help\n"
                  "bell\x01here\ttab \\ back\n",
                  1);
    assert_int_equal(json_lines_valid(j), 1);
    assert_non_null(strstr(j, "\"subject\":\"Grüße \\\"hi\\\"\""));
    assert_non_null(strstr(j, "bell\\u0001here\\ttab \\\\ back"));
    assert_non_null(strstr(j, "\"name\":\"help\""));
    free(j);
}

static void
test_loop_and_too_large(void **state)
{
    (void)state;
    struct config cfg = test_cfg();
    char *t = run("From: mentors@example.org\nSubject: join\n\nhi\n", 0);
    assert_non_null(strstr(t, "Kind:        our own mail looping back"));
    free(t);
    cfg.limits.max_message_size = 40;
    t = run_cfg(&cfg, JOIN, 1);
    assert_int_equal(json_lines_valid(t), 1);
    assert_non_null(strstr(t, "\"kind\":\"too-large\""));
    assert_null(strstr(t, "\"command\"")); /* not read further */
    free(t);
}

static void
test_plus_address(void **state)
{
    (void)state;
    struct config cfg = test_cfg();
    cfg.programme.plus_addressing = 1;
    char *t = run_cfg(&cfg,
                      "From: ivy@example.net\nTo: mentors+leave@example.org\n"
                      "Subject: bye\n\njoin\n",
                      0);
    assert_non_null(strstr(t, "Command:     leave (from the address)"));
    free(t);
}

static void
test_no_sender(void **state)
{
    (void)state;
    char *j = run("Subject: join\n\nno sender here\n", 1);
    assert_int_equal(json_lines_valid(j), 1);
    assert_non_null(strstr(j, "\"kind\":\"no-sender\""));
    assert_null(strstr(j, "\"command\"")); /* nobody to answer: not read for commands */
    free(j);
}

static void
test_files(void **state)
{
    (void)state;
    struct config cfg = test_cfg();
    char dir[64], path[128];
    FILE *devnull = fopen("/dev/null", "w");

    assert_non_null(devnull);
    assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "inspect"), 0);
    assert_int_equal(tu_write_file(dir, "a.eml", JOIN), 0);
    snprintf(path, sizeof(path), "%s/a.eml", dir);
    assert_int_equal(inspect_file(&cfg, NULL, path, 0, devnull), 0);
    snprintf(path, sizeof(path), "%s/missing.eml", dir);
    assert_int_equal(inspect_file(&cfg, NULL, path, 0, devnull), 1);
    assert_int_equal(inspect_file(&cfg, NULL, dir, 0, devnull), 1); /* a directory is no message */
    fclose(devnull);
    tu_rmrf(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_bounce),
        cmocka_unit_test(test_auto_reply),
        cmocka_unit_test(test_quoted_command_not_read),
        cmocka_unit_test(test_only_quoted),
        cmocka_unit_test(test_profile),
        cmocka_unit_test(test_confirmation_ref),
        cmocka_unit_test(test_confirm_token_in_body),
        cmocka_unit_test(test_mbox),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_loop_and_too_large),
        cmocka_unit_test(test_plus_address),
        cmocka_unit_test(test_no_sender),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
