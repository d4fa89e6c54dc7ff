/*
 * Manager commands by mail, through the whole programme path: a forged
 * From: changes nothing until the manager's mailbox confirms; a trusted
 * Authentication-Results accepts at once, an untrusted or failing one does
 * not; read-only answers go to the configured address; every action is
 * logged without member addresses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "mail.h"
#include "programme.h"
#include "store.h"
#include "teststore.h"
#include "testutil.h"

#define T0 1767258000 /* 2026-01-01 09:00 UTC */
#define DAY 86400

static int
setup(void **state)
{
    if (ts_setup(state, "mgr") != 0)
        return -1;
    struct fixture *f = *state;

    f->managers[0] = "Boss@example.test"; /* addresses compare without case */
    f->cfg.community.n_managers = 2;
    f->cfg.lifecycle.checkins = "3, 14";
    f->cfg.digest.trusted_authserv = "mx.example.test";
    char *e = NULL;
    int rc = sqlite3_exec(
        f->db,
        "INSERT INTO members (id, address, name, role, state, profile, created, updated,"
        " waiting_since) VALUES"
        " (1, 'nina@x.test', 'Nina', 'newcomer', 'active', 'languages: english', 1, 1, 100),"
        " (2, 'mo@x.test', 'Mo', 'mentor', 'active', 'capacity: 2\nlanguages: english', 1, 1,"
        "  NULL),"
        " (3, 'ned@x.test', NULL, 'newcomer', 'active', NULL, 1, 1, 200)",
        NULL, NULL, &e);
    if (rc != SQLITE_OK)
        fail_msg("seed: %s", e);
    return 0;
}

static int
teardown(void **state)
{
    return ts_teardown(state);
}

static int
count(struct fixture *f, const char *fmt, ...)
{
    sqlite3_stmt *stmt;
    char *q = NULL;
    int n = -1;
    va_list ap;

    va_start(ap, fmt);
    assert_true(vasprintf(&q, fmt, ap) > 0);
    va_end(ap);
    if (sqlite3_prepare_v2(f->db, q, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("%s: %s", q, sqlite3_errmsg(f->db));
    if (sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    free(q);
    return n;
}

/* Deliver a mail; extra holds more header lines ending in \r\n. */
static void
deliver(struct fixture *f, const char *from, const char *subject, const char *extra,
        const char *body)
{
    char *raw = NULL, err[256];
    struct mail *m = NULL;
    struct programme_result res;

    f->seq++;
    assert_true(asprintf(&raw,
                         "%sFrom: %s\r\nTo: mentors@example.test\r\nSubject: %s\r\n"
                         "Message-ID: <mgr%d@client.test>\r\n"
                         "Date: Thu, 01 Jan 2026 10:00:00 +0000\r\n\r\n%s",
                         extra ? extra : "", from, subject, f->seq, body) > 0);
    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof(err)), 0);
    assert_int_equal(store_begin(f->st), 0);
    int rc =
        programme_handle_mail(&f->cfg, f->st, m, raw, strlen(raw), strlen(raw), T0 + f->seq, &res);
    if (rc != 0)
        fail_msg("programme_handle_mail: %s", res.detail);
    assert_int_equal(store_commit(f->st), 0);
    mail_free(m);
    free(raw);
}

/* The newest mail to rcpt: its ref and Message-ID; 0 when there is none. */
static int
newest(struct fixture *f, const char *rcpt, char *ref, char *msgid, char *body, size_t blen)
{
    sqlite3_stmt *stmt;
    int found;

    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT coalesce(ref, ''), message_id, headers || body"
                                        " FROM outbox WHERE recipient = ?1 ORDER BY id DESC",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, rcpt, -1, SQLITE_STATIC);
    found = sqlite3_step(stmt) == SQLITE_ROW;
    if (found) {
        strcpy(ref, (const char *)sqlite3_column_text(stmt, 0));
        strcpy(msgid, (const char *)sqlite3_column_text(stmt, 1));
        snprintf(body, blen, "%s", (const char *)sqlite3_column_text(stmt, 2));
    }
    sqlite3_finalize(stmt);
    return found;
}

static void
test_forged_match_changes_nothing_until_confirmed(void **state)
{
    struct fixture *f = *state;
    char ref[32], msgid[256], body[16384], hdr[400];

    deliver(f, "boss@example.test", "match nina@x.test mo@x.test", NULL, "");
    assert_int_equal(count(f, "SELECT count(*) FROM pairs"), 0);
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_int_equal(strlen(ref), COMMAND_TOKEN_LEN);
    assert_non_null(strstr(body, "match nina@x.test with mo@x.test"));
    assert_int_equal(count(f, "SELECT count(*) FROM tokens WHERE action = 'manager:match #1 #2'"
                              " AND address = 'Boss@example.test'"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'manager'"
                              " AND detail = 'asked: match #1 #2'"
                              " AND member = 'Boss@example.test'"),
                     1);
    /* Somebody else cannot use the token, not even another manager. */
    deliver(f, "mallory@evil.test", "confirm", NULL, "confirm ");
    snprintf(hdr, sizeof(hdr), "confirm %s", ref);
    deliver(f, "mallory@evil.test", hdr, NULL, "");
    deliver(f, "chief@example.test", hdr, NULL, "");
    assert_int_equal(count(f, "SELECT count(*) FROM pairs"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM tokens WHERE closed IS NULL"), 1);
    /* The manager's own reply, threaded by In-Reply-To, confirms. */
    snprintf(hdr, sizeof(hdr), "In-Reply-To: <%s>\r\n", msgid);
    deliver(f, "boss@example.test", "Re: Confirm", hdr, "yes please\r\n");
    assert_int_equal(
        count(f, "SELECT count(*) FROM pairs WHERE newcomer = 1 AND mentor = 2 AND state ="
                 " 'active'"),
        1);
    assert_int_equal(count(f, "SELECT count(*) FROM members WHERE id = 1 AND waiting_since IS"
                              " NULL"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'manager' AND detail"
                              " LIKE 'match #1 #2: pair %%'"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'manager' AND detail"
                              " LIKE '%%@%%'"),
                     0);
    /* The same token again does nothing more. */
    deliver(f, "boss@example.test", "Re: Confirm", hdr, "again\r\n");
    assert_int_equal(count(f, "SELECT count(*) FROM pairs"), 1);
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "used already"));
}

/* BLOCK A B by mail: asked to confirm like any change, then the two are never paired. */
static void
test_block_by_mail_confirmed(void **state)
{
    struct fixture *f = *state;
    char ref[32], msgid[256], body[16384], hdr[400];

    deliver(f, "boss@example.test", "block nina@x.test mo@x.test", NULL, "");
    assert_int_equal(count(f, "SELECT count(*) FROM blocks WHERE reason = 'manager'"), 0);
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "block nina@x.test from ever being paired with mo@x.test"));
    snprintf(hdr, sizeof(hdr), "In-Reply-To: <%s>\r\n", msgid);
    deliver(f, "boss@example.test", "Re: Confirm", hdr, "yes\r\n");
    assert_int_equal(count(f, "SELECT count(*) FROM blocks WHERE reason = 'manager' AND a = 1"
                              " AND b = 2"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'manager'"
                              " AND detail = 'block #1 #2'"),
                     1);
    /* One member named is not enough. */
    deliver(f, "boss@example.test", "block nina@x.test", NULL, "");
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "block needs two members."));
}

static void
test_trusted_authentication_results_accept_at_once(void **state)
{
    struct fixture *f = *state;

    deliver(f, "boss@example.test", "pause ned@x.test 2",
            "Authentication-Results: mx.example.test (a comment; with a semicolon);\r\n"
            " dkim=pass header.d=example.test header.s=sel; spf=none;\r\n"
            " dmarc=pass (p=reject) header.from=example.test\r\n",
            "");
    assert_int_equal(count(f,
                           "SELECT count(*) FROM members WHERE id = 3 AND state = 'paused'"
                           " AND pause_until = %lld",
                           (long long)(T0 + 1 + 14 * DAY)),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM tokens"), 0);
    /* A version number after the authserv-id; the other manager. */
    deliver(f, "chief@example.test", "resume ned@x.test",
            "Authentication-Results: mx.example.test 1; spf=pass"
            " smtp.mailfrom=bounces@example.test; dmarc=pass header.from=example.test\r\n",
            "");
    assert_int_equal(count(f, "SELECT count(*) FROM members WHERE id = 3 AND state = 'active'"), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'manager' AND member ="
                              " 'chief@example.test' AND detail = 'resume #3'"),
                     1);
}

static void
test_untrusted_or_failing_results_ask_for_confirmation(void **state)
{
    struct fixture *f = *state;
    static const char *const headers[] = {
        /* another server's word */
        "Authentication-Results: evil.example; dkim=pass header.d=example.test\r\n",
        /* a pass, but for somebody else's domain */
        "Authentication-Results: mx.example.test; dkim=pass header.d=evil.test\r\n",
        /* our server said fail; a forged pass below it does not count */
        "Authentication-Results: mx.example.test; dkim=fail header.d=example.test\r\n"
        "Authentication-Results: mx.example.test; dkim=pass header.d=example.test\r\n",
        /* a method name that merely starts like one */
        "Authentication-Results: mx.example.test; dkim=passed header.d=example.test\r\n",
        /* the domain only as a longer suffix */
        "Authentication-Results: mx.example.test; spf=pass smtp.mailfrom=x@notexample.test\r\n",
        /* SPF pass of another user of the manager's domain is no proof of the manager */
        "Authentication-Results: mx.example.test; spf=pass smtp.mailfrom=eve@example.test\r\n",
        /* DKIM pass for the domain: any user of it has that */
        "Authentication-Results: mx.example.test; dkim=pass header.d=example.test\r\n",
        /* a forged DMARC pass below our server's own header (topmost wins) */
        "Authentication-Results: mx.example.test; dmarc=fail header.from=example.test\r\n"
        "Authentication-Results: mx.example.test; dmarc=pass header.from=example.test\r\n",
        /* a pass for another domain */
        "Authentication-Results: mx.example.test; dmarc=pass header.from=evil.test\r\n",
        /* a pass named by another server */
        "Authentication-Results: evil.example; dmarc=pass header.from=example.test\r\n",
    };

    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
        deliver(f, "boss@example.test", "remove nina@x.test", headers[i], "");
    assert_int_equal(count(f, "SELECT count(*) FROM members WHERE id = 1"), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM tokens WHERE action = 'manager:remove #1'"),
                     10);
    /* With no trusted server configured, even a perfect header is not enough. */
    f->cfg.digest.trusted_authserv = NULL;
    deliver(f, "boss@example.test", "remove nina@x.test",
            "Authentication-Results: mx.example.test; dmarc=pass header.from=example.test\r\n", "");
    assert_int_equal(count(f, "SELECT count(*) FROM members WHERE id = 1"), 1);
}

static void
test_remove_erases_and_logs_no_address(void **state)
{
    struct fixture *f = *state;
    char ref[32], msgid[256], body[16384], subject[64];

    deliver(f, "boss@example.test", "Remove", NULL, "remove <nina@x.test>\r\n");
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    snprintf(subject, sizeof(subject), "confirm %s", ref);
    deliver(f, "BOSS@example.test", "hello", NULL, subject);
    assert_int_equal(count(f, "SELECT count(*) FROM members WHERE address = 'nina@x.test'"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE detail LIKE '%%nina%%'"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM tokens WHERE action LIKE '%%nina%%'"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'manager' AND detail"
                              " LIKE 'remove #1%%'"),
                     1);
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "removed and erased"));
}

static void
test_read_only_commands_answer_the_configured_address(void **state)
{
    struct fixture *f = *state;
    char ref[32], msgid[256], body[32768];

    /* Reply-To is ignored: the listing goes to the manager as configured. */
    deliver(f, "BOSS@EXAMPLE.TEST", "list waiting", "Reply-To: thief@evil.test\r\n", "");
    assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE recipient LIKE '%%evil%%'"), 0);
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "nina@x.test"));
    assert_non_null(strstr(body, "ned@x.test"));
    assert_true(strstr(body, "nina@x.test") < strstr(body, "ned@x.test")); /* longest wait first */
    deliver(f, "boss@example.test", "Re: list mentors", NULL, "");
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "mo@x.test"));
    deliver(f, "boss@example.test", "report", NULL, "");
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "multipart/alternative"));
    assert_non_null(strstr(body, "so far"));
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'manager' AND detail IN"
                              " ('list waiting', 'list mentors', 'report')"),
                     3);
    /* The same words from a member are not manager commands. */
    int before = count(f, "SELECT count(*) FROM events WHERE kind = 'manager'");
    deliver(f, "nina@x.test", "list waiting", NULL, "");
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'manager'"), before);
}

static void
test_bad_requests_are_answered_not_asked(void **state)
{
    struct fixture *f = *state;
    char ref[32], msgid[256], body[16384];

    deliver(f, "boss@example.test", "match nobody@x.test mo@x.test", NULL, "");
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "There is no member nobody@x.test."));
    deliver(f, "boss@example.test", "pause", NULL, "");
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "pause needs a member."));
    assert_int_equal(count(f, "SELECT count(*) FROM tokens"), 0);
    /* Two newcomers cannot be matched, even when the server vouches for the manager. */
    deliver(f, "boss@example.test", "match nina@x.test ned@x.test",
            "Authentication-Results: mx.example.test; dmarc=pass header.from=example.test\r\n", "");
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "a match needs a newcomer and a mentor"));
    assert_int_equal(count(f, "SELECT count(*) FROM pairs"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE detail = 'refused: match #1 #3'"),
                     1);
}

/* UNMATCH keeps a pair's id as written and names a member by "#id"; a line no handler reads is
 * refused. */
static void
test_unmatch_lines_and_unreadable_tokens(void **state)
{
    struct fixture *f = *state;
    char ref[32], msgid[256], body[16384];

    deliver(f, "boss@example.test", "unmatch 7", NULL, "");
    assert_int_equal(count(f, "SELECT count(*) FROM tokens WHERE action = 'manager:unmatch 7'"), 1);
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "end pair 7"));
    deliver(f, "boss@example.test", "unmatch nina@x.test", NULL, "");
    assert_int_equal(count(f, "SELECT count(*) FROM tokens WHERE action = 'manager:unmatch #1'"),
                     1);
    deliver(f, "boss@example.test", "unmatch zed@x.test", NULL, "");
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "There is no member zed@x.test."));
    deliver(f, "boss@example.test", "unmatch", NULL, "");
    assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
    assert_non_null(strstr(body, "unmatch needs a member."));
    assert_int_equal(count(f, "SELECT count(*) FROM tokens"), 2);

    /* A confirmed line whose verb or words no handler reads changes nothing. */
    const char *lines[] = {"manager:frobnicate #1", "manager:pause", "manager:report"};
    const char *tokens[] = {"abcdefghjkmnpq", "bcdefghjkmnpqr", "cdefghjkmnpqrs"};
    for (size_t i = 0; i < 3; i++) {
        char subject[64];
        assert_int_equal(store_token_add(f->st, tokens[i], "Boss@example.test", lines[i], NULL, T0,
                                         T0 + 30 * DAY),
                         0);
        snprintf(subject, sizeof(subject), "confirm %s", tokens[i]);
        deliver(f, "boss@example.test", subject, NULL, "");
        assert_true(newest(f, "Boss@example.test", ref, msgid, body, sizeof(body)));
        assert_non_null(strstr(body, "cannot read the request"));
        assert_int_equal(count(f, "SELECT count(*) FROM events WHERE detail = 'refused: %s'",
                               lines[i] + strlen("manager:")),
                         1);
    }
    assert_int_equal(count(f, "SELECT count(*) FROM members WHERE state = 'paused'"), 0);
}

/* ---- every language ---- */

/* The English phrases of manager answers ("phrase.admin_", "phrase.manager_" lines), or a
 * language's. */
static size_t
manager_phrases(const char *lang, char **out, size_t max)
{
    char path[512], line[2048];
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/templates/%s/language.data", MENTORD_SRCDIR, lang);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp) && n < max) {
        char *colon = strchr(line, ':');
        if ((strncmp(line, "phrase.admin_", 13) != 0 &&
             strncmp(line, "phrase.manager_", 15) != 0) ||
            colon == NULL)
            continue;
        colon += 1 + strspn(colon + 1, " ");
        colon[strcspn(colon, "\n")] = '\0';
        assert_non_null(out[n++] = strdup(colon));
    }
    fclose(fp);
    return n;
}

/* The text and subject of the newest answer to the manager, decoded, on one line. */
static char *
newest_answer(struct fixture *f)
{
    char ref[32], msgid[256], raw[16384], err[256];
    struct mail *m = NULL;
    char *out = NULL;

    assert_true(newest(f, "Boss@example.test", ref, msgid, raw, sizeof(raw)));
    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof(err)), 0);
    assert_true(asprintf(&out, "%s %s", m->subject ? m->subject : "", m->text ? m->text : "") > 0);
    mail_free(m);
    /* lines wrapped by the composer join again, so a sentence is found whole */
    char *o = out;
    for (const char *p = out; *p; p++) {
        char c = *p == '\r' || *p == '\n' ? ' ' : *p;
        if (c != ' ' || (o > out && o[-1] != ' '))
            *o++ = c;
    }
    *o = '\0';
    return out;
}

/*
 * Fail when text holds a run of an English phrase (the words between its
 * {values}, four letters or more) that the language's own phrases do not
 * use as well ("mentor" is Spanish too).
 */
static void
assert_no_english(const char *lang, const char *what, const char *text, char **english, size_t ne,
                  char **own, size_t no)
{
    for (size_t i = 0; i < ne; i++) {
        for (const char *p = english[i]; *p;) {
            char run[512];
            size_t len = strcspn(p, "{");
            snprintf(run, sizeof(run), "%.*s", (int)len, p);
            p += len;
            if (*p == '{')
                p += strcspn(p, "}") + (p[strcspn(p, "}")] ? 1 : 0);
            char *r = run + strspn(run, " ,.:;()'");
            size_t rl = strlen(r);
            while (rl > 0 && strchr(" ,.:;()'", r[rl - 1]))
                r[--rl] = '\0';
            int letters = 0, shared = 0;
            for (const char *c = r; *c; c++)
                letters += (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z');
            for (size_t k = 0; k < no && !shared; k++)
                shared = strstr(own[k], r) != NULL;
            if (letters >= 4 && !shared && strstr(text, r) != NULL)
                fail_msg("%s: the answer to %s still says \"%s\" in English: %s", lang, what, r,
                         text);
        }
    }
}

/*
 * In the managers' language, the answers to MATCH, UNMATCH, PAUSE, RESUME,
 * REMOVE and their refusals hold no English sentence: only the addresses,
 * numbers and the command words the manager typed.
 */
static void
test_every_language_answers(void **state)
{
    static const char *const langs[] = {"es", "de", "fr", "pt"};
    static const char *const trusted =
        "Authentication-Results: mx.example.test; dmarc=pass header.from=example.test\r\n";
    static const struct {
        const char *command, *expect; /* expect: a word of the answer in every language */
    } steps[] = {
        {"match nina@x.test mo@x.test", "nina@x.test"},
        {"match nina@x.test mo@x.test", "UNMATCH"},
        {"match nina@x.test ned@x.test", "ned@x.test"},
        {"unmatch nina@x.test", "1"},
        {"unmatch nina@x.test", "nina@x.test"},
        {"pause ned@x.test 2", "2026"},
        {"pause ned@x.test", "RESUME"},
        {"resume ned@x.test", "ned@x.test"},
        {"resume ned@x.test", "ned@x.test"},
        {"remove ned@x.test", "ned@x.test"},
        {"match nobody@x.test mo@x.test", "nobody@x.test"},
        {"pause", "pause"},
        {"unmatch 99", "99"},
        {"block mo@x.test mo@x.test", "mo@x.test"},
        {"list nonsense", "LIST WAITING"},
    };
    char *english[128], *own[128];
    size_t ne = manager_phrases("en", english, 128);

    (void)state;
    assert_true(ne >= 40);
    for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
        void *st = NULL;
        assert_int_equal(setup(&st), 0);
        struct fixture *f = st;
        size_t no = manager_phrases(langs[i], own, 128);
        assert_int_equal(no, ne); /* every phrase translated */
        f->cfg.templates.managers_language = (char *)langs[i];
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
            deliver(f, "boss@example.test", steps[k].command, trusted, "");
            char *text = newest_answer(f);
            if (strstr(text, steps[k].expect) == NULL)
                fail_msg("%s: the answer to %s lacks %s: %s", langs[i], steps[k].command,
                         steps[k].expect, text);
            assert_null(strchr(text, '{'));
            assert_no_english(langs[i], steps[k].command, text, english, ne, own, no);
            free(text);
        }
        /* A listing's column names are the language's. */
        deliver(f, "boss@example.test", "list waiting", NULL, "");
        char *listing = newest_answer(f);
        assert_non_null(strstr(listing, "nina@x.test"));
        assert_null(strstr(listing, "position"));
        assert_null(strstr(listing, "address"));
        free(listing);
        /* ... and so are the roles and states in its cells. */
        deliver(f, "boss@example.test", "list pairs", NULL, "");
        listing = newest_answer(f);
        assert_null(strstr(listing, "ended"));
        assert_null(strstr(listing, "newcomer"));
        free(listing);
        deliver(f, "boss@example.test", "list mentors", NULL, "");
        listing = newest_answer(f);
        assert_non_null(strstr(listing, "mo@x.test"));
        assert_null(strstr(listing, "active"));
        free(listing);
        /* A confirmation meant for the other manager is refused in the language too. */
        assert_int_equal(store_token_add(f->st, "dfghjkmnpqrstv", "chief@example.test",
                                         "manager:resume #2", NULL, T0, T0 + 30 * DAY),
                         0);
        deliver(f, "boss@example.test", "confirm dfghjkmnpqrstv", NULL, "");
        char *text = newest_answer(f);
        assert_no_english(langs[i], "a confirmation", text, english, ne, own, no);
        free(text);
        /* A change asked for: the confirmation's words are the language's too. */
        deliver(f, "boss@example.test", "block nina@x.test mo@x.test", NULL, "");
        text = newest_answer(f);
        assert_non_null(strstr(text, "nina@x.test"));
        assert_no_english(langs[i], "block", text, english, ne, own, no);
        free(text);
        /* the pause's end is written the language's way, not as 2026-01-15 */
        assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE body LIKE '%%2026-01-15%%'"),
                         0);
        for (size_t k = 0; k < no; k++)
            free(own[k]);
        teardown(&st);
    }
    for (size_t k = 0; k < ne; k++)
        free(english[k]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forged_match_changes_nothing_until_confirmed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_block_by_mail_confirmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trusted_authentication_results_accept_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_untrusted_or_failing_results_ask_for_confirmation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_erases_and_logs_no_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_commands_answer_the_configured_address,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests_are_answered_not_asked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmatch_lines_and_unreadable_tokens, setup, teardown),
        cmocka_unit_test(test_every_language_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
