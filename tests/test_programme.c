/*
 * The programme's decisions on real parsed mail: double opt-in, threading,
 * leaving with erasure, members' own settings, automatic mail, budgets.
 * Uses the real store, parser, reply extractor, templates and composer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "mail.h"
#include "programme.h"
#include "reading.h"
#include "respond.h"
#include "store.h"
#include "teststore.h"
#include "testutil.h"

#define T0 1767258000 /* 2026-01-01 09:00 UTC */
#define HOUR 3600
#define DAY 86400
/* What the community's own server adds for a sender it verified (auth.h). */
#define PROVEN "Authentication-Results: mx.example.test; dmarc=pass header.from=example.test\r\n"

static int
setup(void **state)
{
    if (ts_setup(state, "prog") != 0)
        return -1;
    ((struct fixture *)*state)->cfg.digest.trusted_authserv = "mx.example.test";
    return 0;
}

static int
teardown(void **state)
{
    return ts_teardown(state);
}

/* A raw mail; extra is more header lines, each ending in \r\n. */
static char *
mail(struct fixture *f, const char *from, const char *subject, const char *extra, const char *body)
{
    char *raw = NULL;

    f->seq++;
    assert_true(
        asprintf(&raw,
                 "From: %s\r\nTo: mentors@example.test\r\nSubject: %s\r\n"
                 "Message-ID: <m%d@client.test>\r\nDate: Thu, 01 Jan 2026 10:00:00 +0000\r\n"
                 "%s\r\n%s",
                 from, subject, f->seq, extra ? extra : "", body) > 0);
    return raw;
}

/* Hand raw mail to the programme at time now; returns the outcome (static string). */
static const char *
deliver_at(struct fixture *f, char *raw, time_t now, int expect_rc)
{
    struct mail *m = NULL;
    struct programme_result res;
    char err[256];

    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof(err)), 0);
    assert_int_equal(store_begin(f->st), 0);
    int rc = programme_handle_mail(&f->cfg, f->st, m, raw, strlen(raw), strlen(raw), now, &res);
    if (rc != expect_rc)
        fail_msg("programme_handle_mail returned %d (%s)", rc, res.detail);
    if (rc == 0)
        assert_int_equal(store_commit(f->st), 0);
    else
        store_rollback(f->st);
    mail_free(m);
    free(raw);
    return rc == 0 ? res.outcome : NULL;
}

static const char *
deliver(struct fixture *f, char *raw)
{
    return deliver_at(f, raw, T0, 0);
}

/* The newest outbox mail: its fields copied into the caller's buffers. */
struct sent {
    int n; /* outbox rows in total */
    char rcpt[128], msgid[128], kind[16], ref[32];
    char headers[4096], body[8192];
};

static void
last_sent(struct fixture *f, struct sent *s)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;

    memset(s, 0, sizeof(*s));
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT recipient, message_id, kind, coalesce(ref, ''),"
                                        " headers, body, (SELECT count(*) FROM outbox)"
                                        " FROM outbox ORDER BY id DESC LIMIT 1",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        snprintf(s->rcpt, sizeof(s->rcpt), "%s", sqlite3_column_text(stmt, 0));
        snprintf(s->msgid, sizeof(s->msgid), "%s", sqlite3_column_text(stmt, 1));
        snprintf(s->kind, sizeof(s->kind), "%s", sqlite3_column_text(stmt, 2));
        snprintf(s->ref, sizeof(s->ref), "%s", sqlite3_column_text(stmt, 3));
        /* unfolded, as a mail client shows them */
        const char *h = (const char *)sqlite3_column_text(stmt, 4);
        size_t o = 0;
        for (size_t i = 0; h[i] && o + 1 < sizeof(s->headers); i++) {
            if (h[i] == '\r' && h[i + 1] == '\n' && (h[i + 2] == ' ' || h[i + 2] == '\t')) {
                i += 1;
                continue;
            }
            s->headers[o++] = h[i];
        }
        s->headers[o] = '\0';
        snprintf(s->body, sizeof(s->body), "%s", sqlite3_column_text(stmt, 5));
        s->n = sqlite3_column_int(stmt, 6);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static int
db_count(struct fixture *f, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    int n = -1;

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

static void
db_text(struct fixture *f, const char *sql, char *out, size_t len)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;

    out[0] = '\0';
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
        snprintf(out, len, "%s", sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void
member(struct fixture *f, const char *addr, const char *role, const char *state)
{
    struct store_member m;

    assert_int_equal(store_member_get(f->st, addr, &m), 1);
    assert_string_equal(m.role, role);
    assert_string_equal(m.state, state);
    store_member_free(&m);
}

/* JOIN, then the confirmation reply threaded by In-Reply-To. */
static void
join_confirmed(struct fixture *f, const char *from, const char *cmd)
{
    struct sent s;
    char extra[256];

    assert_string_equal(deliver(f, mail(f, from, cmd, NULL, "Hi!\r\n")), "answered");
    last_sent(f, &s);
    assert_string_equal(s.kind, "confirm");
    snprintf(extra, sizeof(extra), "In-Reply-To: <%s>\r\n", s.msgid);
    assert_string_equal(deliver(f, mail(f, from, "Re: Please confirm", extra, "\r\n")), "answered");
}

/* ---- double opt-in ---- */

static void
test_join_asks_for_confirmation_first(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    assert_string_equal(deliver(f, mail(f, "Ann <ann@example.test>", "JOIN", NULL,
                                        "Hi!\r\nSkills: rust, docs\r\nTime zone: UTC+1\r\n")),
                        "answered");
    member(f, "ann@example.test", "newcomer", "pending");
    last_sent(f, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.rcpt, "ann@example.test");
    assert_string_equal(s.kind, "confirm");
    assert_int_equal(strlen(s.ref), COMMAND_TOKEN_LEN);
    char tag[64];
    snprintf(tag, sizeof(tag), "[ref %s]", s.ref);
    assert_non_null(strstr(s.headers, tag));
    assert_non_null(strstr(s.headers, "In-Reply-To: <m1@client.test>"));
    assert_non_null(strstr(s.body, "simply reply to this message"));
    /* nothing the requester wrote goes back to an address that confirmed nothing */
    assert_null(strstr(s.body, "rust"));
    assert_null(strstr(s.headers, "Ann"));
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens WHERE closed IS NULL"), 1);
}

static void
test_reply_confirms_and_welcomes(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    join_confirmed(f, "Ann <ann@example.test>", "join");
    member(f, "ann@example.test", "newcomer", "active");
    last_sent(f, &s);
    assert_int_equal(s.n, 2);
    assert_non_null(strstr(s.headers, "Subject: Welcome to Example Community mentoring"));
    assert_non_null(strstr(s.body, "recorded you as a"));
    assert_non_null(strstr(s.body, "Hello Ann,"));
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens WHERE outcome = 'confirmed'"), 1);
}

/* "No, I never signed up" in reply to the confirmation confirms nothing; "Yes, that's me" does. */
static void
test_no_to_the_confirmation_confirms_nothing(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    char extra[256];

    assert_string_equal(deliver(f, mail(f, "Ann <ann@example.test>", "Hello", NULL,
                                        "I'd like to join the mentoring programme.\r\n")),
                        "answered");
    last_sent(f, &s);
    assert_string_equal(s.kind, "confirm");
    snprintf(extra, sizeof(extra), "In-Reply-To: <%s>\r\n", s.msgid);
    assert_string_equal(deliver(f, mail(f, "ann@example.test", "Re: Please confirm", extra,
                                        "No, I never signed up for this.\r\n")),
                        "answered");
    member(f, "ann@example.test", "newcomer", "pending");
    assert_string_equal(deliver(f, mail(f, "ann@example.test", "Re: Please confirm", extra,
                                        "Yes, that's me, I would like a mentor.\r\n")),
                        "answered");
    member(f, "ann@example.test", "newcomer", "active");
}

static void
test_confirm_by_token_in_body_and_by_subject_tag(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    char body[64], subject[96];

    deliver(f, mail(f, "ann@example.test", "join", NULL, "x\r\n"));
    last_sent(f, &s);
    snprintf(body, sizeof(body), "confirm %s\r\n", s.ref);
    deliver(f, mail(f, "ann@example.test", "hello", NULL, body)); /* no threading headers */
    member(f, "ann@example.test", "newcomer", "active");

    deliver(f, mail(f, "bob@example.test", "volunteer", NULL, "x\r\n"));
    last_sent(f, &s);
    snprintf(subject, sizeof(subject), "Re: Please confirm [ref %s]", s.ref);
    deliver(f, mail(f, "bob@example.test", subject, NULL, "ok\r\n"));
    member(f, "bob@example.test", "mentor", "active");
}

static void
test_forged_confirmation_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    char body[64];

    /* eve signs up ann, then tries to confirm with a guessed or stolen token */
    deliver(f, mail(f, "ann@example.test", "join", NULL, "x\r\n"));
    last_sent(f, &s);
    snprintf(body, sizeof(body), "confirm %s\r\n", s.ref);
    assert_string_equal(deliver(f, mail(f, "eve@example.test", "confirm", NULL, body)), "answered");
    member(f, "ann@example.test", "newcomer", "pending");
    last_sent(f, &s);
    assert_string_equal(s.rcpt, "eve@example.test");
    assert_non_null(strstr(s.body, "could not use the confirmation"));
    assert_int_equal(store_member_get(f->st, "eve@example.test", &(struct store_member){0}), 0);
}

static void
test_token_is_single_use(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    char body[64];

    deliver(f, mail(f, "ann@example.test", "join", NULL, "x\r\n"));
    last_sent(f, &s);
    snprintf(body, sizeof(body), "CONFIRM %s\r\n", s.ref);
    deliver(f, mail(f, "ann@example.test", "confirm", NULL, body));
    deliver(f, mail(f, "ann@example.test", "confirm", NULL, body));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "could not use the confirmation"));
    assert_int_equal(db_count(f, "SELECT count(*) FROM events WHERE kind = 'newcomer'"), 1);
}

static void
test_expired_request_is_refused_and_forgotten(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    char body[64];

    deliver(f, mail(f, "ann@example.test", "join", NULL, "Skills: rust\r\n"));
    last_sent(f, &s);
    snprintf(body, sizeof(body), "confirm %s\r\n", s.ref);
    deliver_at(f, mail(f, "ann@example.test", "confirm", NULL, body), T0 + 4 * DAY, 0);
    member(f, "ann@example.test", "newcomer", "pending");
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "could not use the confirmation"));
    /* housekeeping closes the token and erases the unconfirmed member */
    assert_int_equal(store_begin(f->st), 0);
    assert_true(programme_housekeeping(&f->cfg, f->st, T0 + 4 * DAY) >= 2);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM members"), 0);
}

static void
test_second_join_resends_the_same_token(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    char first[32];

    deliver(f, mail(f, "ann@example.test", "join", NULL, "x\r\n"));
    last_sent(f, &s);
    snprintf(first, sizeof(first), "%s", s.ref);
    deliver(f, mail(f, "ann@example.test", "join", NULL, "again\r\n"));
    last_sent(f, &s);
    assert_string_equal(s.ref, first);
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens"), 1);
}

static void
test_already_member(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    join_confirmed(f, "ann@example.test", "join");
    deliver(f, mail(f, "ann@example.test", "Re: JOIN", NULL, "again\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "already registered as a newcomer"));
}

static void
test_newcomer_who_volunteers_confirms_the_change(void **state)
{
    struct fixture *f = *state;

    join_confirmed(f, "ann@example.test", "join");
    deliver(f, mail(f, "ann@example.test", "mentor", NULL, "I can help now\r\n"));
    member(f, "ann@example.test", "newcomer", "active"); /* not yet */
    join_confirmed(f, "ann@example.test", "mentor");
    member(f, "ann@example.test", "mentor", "active");
}

/* ---- leaving ---- */

static void
test_leave_erases_personal_data(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    join_confirmed(f, "Ann <ann@example.test>", "join");
    join_confirmed(f, "Ann <ann@example.test>", "leave");
    assert_int_equal(db_count(f, "SELECT count(*) FROM members"), 0);
    last_sent(f, &s);
    assert_string_equal(s.rcpt, "ann@example.test"); /* the farewell still has to go out */
    assert_non_null(strstr(s.body, "removed your"));
    assert_int_equal(db_count(f, "SELECT erase_after FROM outbox ORDER BY id DESC LIMIT 1"), 1);
    /* everything already sent to her is blanked; logs keep counts, not her address */
    assert_int_equal(db_count(f, "SELECT count(*) FROM outbox WHERE status <> 'queued'"
                                 " AND recipient LIKE '%ann%'"),
                     0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM events WHERE member LIKE '%ann%'"
                                 " OR detail LIKE '%ann%'"),
                     0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM events WHERE kind = 'left'"), 1);
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens"), 0);
    /* once sent, the farewell is blanked too */
    int64_t id = db_count(f, "SELECT max(id) FROM outbox");
    assert_int_equal(store_outbox_sent(f->st, id, T0, "250 ok"), 0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM outbox WHERE recipient LIKE '%ann%'"
                                 " OR body LIKE '%Ann%' OR headers LIKE '%ann%'"),
                     0);
}

static void
test_leave_from_stranger(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    deliver(f, mail(f, "zed@example.test", "unsubscribe", NULL, "\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "not part of"));
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens"), 0);
}

/* ---- a member's own settings ---- */

static void
test_status_pause_resume_capacity(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    struct store_member m;

    join_confirmed(f, "bob@example.test", "mentor");
    deliver(f, mail(f, "bob@example.test", "status", NULL, "\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "registered as a mentor"));

    deliver(f, mail(f, "bob@example.test", "pause 3 weeks", PROVEN, "\r\n"));
    assert_int_equal(store_member_get(f->st, "bob@example.test", &m), 1);
    assert_string_equal(m.state, "paused");
    assert_int_equal(m.pause_until, T0 + 21 * DAY);
    store_member_free(&m);
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "break until Thursday 22 January 2026"));

    deliver(f, mail(f, "bob@example.test", "resume", PROVEN, "\r\n"));
    member(f, "bob@example.test", "mentor", "active");

    deliver(f, mail(f, "bob@example.test", "capacity 3", PROVEN, "\r\n"));
    assert_int_equal(store_member_get(f->st, "bob@example.test", &m), 1);
    assert_non_null(strstr(m.profile, "capacity: 3"));
    store_member_free(&m);
    deliver(f, mail(f, "bob@example.test", "capacity 99", PROVEN, "\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "number from 1 to 20"));
}

/* A fresh mail proves nothing: the change waits for the reply to a short confirmation. */
static void
test_claimed_change_waits_for_confirmation(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    struct store_member m;
    char hdr[256];

    join_confirmed(f, "bob@example.test", "mentor");
    deliver(f, mail(f, "bob@example.test", "pause 2 weeks", NULL, "\r\n"));
    member(f, "bob@example.test", "mentor", "active");
    last_sent(f, &s);
    assert_string_equal(s.kind, "confirm");
    assert_non_null(strstr(s.headers, "Reply to confirm: pause for 2 weeks"));
    assert_non_null(strstr(s.body, "Reply to this mail to confirm: pause for 2 weeks."));
    /* Somebody else cannot confirm it, even with the token. */
    snprintf(hdr, sizeof(hdr), "confirm %s", s.ref);
    deliver(f, mail(f, "eve@example.test", hdr, NULL, "\r\n"));
    member(f, "bob@example.test", "mentor", "active");
    /* The reply, threaded to our mail, acts. */
    snprintf(hdr, sizeof(hdr), "In-Reply-To: <%s>\r\n", s.msgid);
    deliver(f, mail(f, "bob@example.test", "Re: Reply to confirm", hdr, "yes\r\n"));
    assert_int_equal(store_member_get(f->st, "bob@example.test", &m), 1);
    assert_string_equal(m.state, "paused");
    assert_int_equal(m.pause_until, T0 + 14 * DAY);
    store_member_free(&m);
    /* Profile lines in a fresh mail wait too, then the reply takes them. */
    deliver(f, mail(f, "bob@example.test", "about me", NULL, "Skills: haskell\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.headers, "update your profile"));
    assert_null(strstr(s.body, "haskell"));
    assert_int_equal(store_member_get(f->st, "bob@example.test", &m), 1);
    assert_null(strstr(m.profile ? m.profile : "", "haskell"));
    store_member_free(&m);
    snprintf(hdr, sizeof(hdr), "confirm %s", s.ref);
    deliver(f, mail(f, "bob@example.test", hdr, NULL, "\r\n"));
    assert_int_equal(store_member_get(f->st, "bob@example.test", &m), 1);
    assert_non_null(strstr(m.profile, "haskell"));
    store_member_free(&m);
}

/* The change to confirm is named in the member's language, with its plural form. */
static void
test_claimed_change_in_members_language(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    join_confirmed(f, "ann@example.test", "join");
    deliver(f, mail(f, "ann@example.test", "about me", PROVEN, "Languages: Deutsch\r\n"));
    deliver(f, mail(f, "ann@example.test", "pause 1 week", NULL, "\r\n"));
    last_sent(f, &s);
    assert_string_equal(s.kind, "confirm");
    assert_non_null(strstr(s.headers, "Content-Language: de"));
    /* The body is quoted-printable: "F" and umlauts are encoded. */
    assert_non_null(strstr(s.body, "antworte auf diese Mail"));
    assert_non_null(strstr(s.body, "1 Woche Pause"));
    deliver(f, mail(f, "ann@example.test", "pause 3 weeks", NULL, "\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "3 Wochen"));
}

static void
test_status_names_the_pairing(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    int64_t ann, bob;
    char ref[16];

    assert_int_equal(store_member_upsert(f->st, "ann@example.test", "Ann Lee", "newcomer", "active",
                                         NULL, T0, &ann),
                     0);
    assert_int_equal(store_member_upsert(f->st, "bob@example.test", "Bob Stone", "mentor", "active",
                                         NULL, T0, &bob),
                     0);
    assert_int_equal(store_pair_add(f->st, ann, bob, "active", 1000, "both speak Spanish", T0,
                                    T0 + 84 * DAY, NULL, ref, sizeof(ref)),
                     0);
    deliver(f, mail(f, "ann@example.test", "status", PROVEN, "\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "mentored by Bob, since Thursday 1 January 2026, until"));
    assert_null(strstr(s.body, "bob@example.test")); /* named, never addressed */
    /* A claimed STATUS says nothing about anyone else. */
    deliver(f, mail(f, "ann@example.test", "status", NULL, "\r\n"));
    last_sent(f, &s);
    assert_null(strstr(s.body, "Bob"));
    deliver(f, mail(f, "bob@example.test", "status", PROVEN, "\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "mentoring Ann, since"));
}

static void
test_status_from_stranger(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    deliver(f, mail(f, "zed@example.test", "status", NULL, "\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "not part of"));
}

static void
test_profile_lines_update_and_echo(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    struct store_member m;

    join_confirmed(f, "ann@example.test", "join");
    deliver(f, mail(f, "ann@example.test", "about me", PROVEN,
                    "Languages: Deutsch, English\r\nTime zone: Mars/Olympus\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "german"));
    assert_non_null(strstr(s.body, "Mars/Olympus"));
    /* German is listed first: the answer is already in German. */
    assert_non_null(strstr(s.headers, "Content-Language: de"));
    assert_non_null(strstr(s.body, "konnten wir nicht verwenden"));
    assert_int_equal(store_member_get(f->st, "ann@example.test", &m), 1);
    assert_non_null(strstr(m.profile, "german"));
    store_member_free(&m);
}

static void
test_unknown_request_gets_help(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    assert_string_equal(deliver(f, mail(f, "cat@example.test", "what is this?", NULL, "hm\r\n")),
                        "answered");
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "could not tell what you would like"));
    assert_int_equal(db_count(f, "SELECT count(*) FROM members"), 0);
}

static void
test_quoted_command_is_not_acted_on(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    deliver(f, mail(f, "cat@example.test", "Re: hello", NULL,
                    "Thanks!\r\n\r\nOn Mon, 5 Jan 2026, Dan <dan@example.test> wrote:\r\n"
                    "> JOIN\r\n> LEAVE\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "could not tell"));
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens"), 0);
}

/* A mail that only quotes or forwards gets told so, and nothing in it is acted on. */
static void
test_only_quoted_mail_is_told_so(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    deliver(f, mail(f, "cat@example.test", "Fwd: hello", NULL,
                    "---------- Forwarded message ---------\r\nFrom: Dan <dan@example.test>\r\n"
                    "Date: Mon, 5 Jan 2026\r\nSubject: hello\r\nTo: cat@example.test\r\n\r\n"
                    "JOIN\r\nSkills: C\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "could not tell"));
    assert_non_null(strstr(s.body, "quoted or forwarded from another message"));
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens"), 0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM members"), 0);
    /* A mail with the person's own words is not told it only quotes. */
    deliver(f, mail(f, "cat@example.test", "hello", NULL, "hm\r\n\r\n> JOIN\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "could not tell"));
    assert_null(strstr(s.body, "quoted or forwarded"));
}

static void
test_plus_address_names_the_command(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    f->cfg.programme.plus_addressing = 1;
    deliver(f, mail(f, "ann@example.test", "hello", "Delivered-To: mentors+join@example.test\r\n",
                    "leave\r\n"));
    last_sent(f, &s);
    assert_string_equal(s.kind, "confirm");
    assert_non_null(strstr(s.headers, "Please confirm your Example Community mentoring request"));
    /* without the setting the address means nothing */
    f->cfg.programme.plus_addressing = 0;
    deliver(f, mail(f, "bob@example.test", "hello", "Delivered-To: mentors+join@example.test\r\n",
                    "hm\r\n"));
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "could not tell"));
}

/* ---- automatic mail and limits ---- */

static void
test_auto_reply_is_recorded_and_sets_away(void **state)
{
    struct fixture *f = *state;
    struct store_member m;
    struct sent s;

    join_confirmed(f, "ann@example.test", "join");
    last_sent(f, &s);
    assert_string_equal(deliver(f, mail(f, "ann@example.test", "Out of office: JOIN",
                                        "Auto-Submitted: auto-replied\r\n", "I am away\r\n")),
                        "recorded");
    last_sent(f, &s);
    assert_int_equal(s.n, 2); /* nothing new */
    assert_int_equal(store_member_get(f->st, "ann@example.test", &m), 1);
    assert_int_equal(m.away_until, T0 + 7 * DAY);
    store_member_free(&m);
}

static void
test_own_address_and_bulk_are_not_answered(void **state)
{
    struct fixture *f = *state;

    assert_string_equal(deliver(f, mail(f, "mentors@example.test", "JOIN", NULL, "x\r\n")),
                        "recorded");
    assert_string_equal(
        deliver(f, mail(f, "list@example.test", "join", "Precedence: bulk\r\n", "x\r\n")),
        "recorded");
    assert_int_equal(db_count(f, "SELECT count(*) FROM outbox"), 0);
}

/* Mail the server's spam filter marked is recorded, not answered, and counted for the digest. */
static void
test_spam_is_recorded_not_answered(void **state)
{
    struct fixture *f = *state;

    assert_string_equal(deliver(f, mail(f, "ann@example.test", "JOIN",
                                        "X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=8.2\r\n",
                                        "Win a prize\r\n")),
                        "recorded");
    assert_int_equal(db_count(f, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM members"), 0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM events WHERE kind = 'spam'"), 1);
    /* A "No" verdict is a person's mail, answered as always. */
    assert_string_equal(
        deliver(f, mail(f, "bob@example.test", "JOIN",
                        "X-Spam-Flag: NO\r\nX-Spam-Status: No, score=0.1\r\n", "Hello\r\n")),
        "answered");
    assert_int_equal(db_count(f, "SELECT count(*) FROM outbox"), 1);
}

/* A DSN about rcpt; msgid: the Message-ID of the returned mail (NULL: none quoted). */
static char *
dsn_about(struct fixture *f, const char *rcpt, const char *status, const char *action,
          const char *msgid)
{
    char *raw = NULL, returned[300] = "";

    if (msgid)
        snprintf(returned, sizeof(returned),
                 "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                 "From: mentors@example.test\r\nTo: %s\r\nMessage-ID: <%s>\r\n\r\n",
                 rcpt, msgid);
    f->seq++;
    assert_true(
        asprintf(&raw,
                 "From: MAILER-DAEMON@mx.example.test\r\nTo: mentors@example.test\r\n"
                 "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b%d@mx>\r\n"
                 "MIME-Version: 1.0\r\n"
                 "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
                 "\r\n--B\r\nContent-Type: text/plain\r\n\r\nI could not deliver it.\r\n"
                 "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
                 "Reporting-MTA: dns; mx.example.test\r\n\r\n"
                 "Final-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n"
                 "Diagnostic-Code: smtp; 550 %s %s\r\n\r\n%s--B--\r\n",
                 f->seq, rcpt, action, status, status,
                 status[2] == '7' ? "message refused by local policy" : "no such user",
                 returned) > 0);
    return raw;
}

/* A DSN about the newest mail we sent to rcpt (it quotes that mail's Message-ID). */
static char *
dsn_action(struct fixture *f, const char *rcpt, const char *status, const char *action)
{
    char msgid[256] = "";
    char sql[512];

    snprintf(sql, sizeof(sql),
             "SELECT message_id FROM outbox WHERE recipient = '%s' ORDER BY id DESC LIMIT 1", rcpt);
    db_text(f, sql, msgid, sizeof(msgid));
    return dsn_about(f, rcpt, status, action, msgid[0] ? msgid : NULL);
}

static char *
dsn(struct fixture *f, const char *rcpt, const char *status)
{
    return dsn_action(f, rcpt, status, "failed");
}

/*
 * Mail to addresses that confirmed nothing is capped for all of them together:
 * beyond stranger_per_hour it waits for the next hour, beyond stranger_per_day
 * for the next day; nothing is dropped, and a held confirmation stays open.
 */
static void
test_stranger_cap_holds_mail(void **state)
{
    struct fixture *f = *state;
    char from[64], sql[256];

    f->cfg.limits.stranger_per_hour = 2;
    f->cfg.limits.stranger_per_day = 3;
    for (int i = 0; i < 5; i++) {
        snprintf(from, sizeof(from), "s%d@example.test", i);
        deliver(f, mail(f, from, "join", NULL, "x\r\n"));
    }
    assert_int_equal(db_count(f, "SELECT count(*) FROM outbox WHERE stranger = 1"), 5);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE next_attempt = %d", T0);
    assert_int_equal(db_count(f, sql), 2);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE next_attempt = %d",
             T0 - T0 % HOUR + HOUR);
    assert_int_equal(db_count(f, sql), 1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE next_attempt = %d",
             T0 - T0 % DAY + DAY);
    assert_int_equal(db_count(f, sql), 2);
    /* the held confirmations stay open as long as if they had gone at once */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens WHERE expires = %d",
             T0 - T0 % DAY + DAY + f->cfg.programme.confirm_expiry);
    assert_int_equal(db_count(f, sql), 2);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens WHERE expires = %d",
             T0 - T0 % HOUR + HOUR + f->cfg.programme.confirm_expiry);
    assert_int_equal(db_count(f, sql), 1);
    /* a member (confirmed) is not a stranger: greeted by name, never held */
    join_confirmed(f, "ann@example.test", "join");
    assert_int_equal(db_count(f, "SELECT count(*) FROM outbox WHERE recipient ="
                                 " 'ann@example.test' AND stranger = 0"),
                     1);
}

/* Each recipient of a pair's mail sees a ref of their own; neither works for the other. */
static void
test_refs_are_per_recipient(void **state)
{
    struct fixture *f = *state;
    char a[64], b[64];

    deliver(f, mail(f, "zed@example.test", "join", NULL, "x\r\n"));
    assert_int_equal(db_count(f, "SELECT count(*) FROM refs"), 0); /* a token is its own ref */
    join_confirmed(f, "ann@example.test", "join");
    join_confirmed(f, "bob@example.test", "mentor");
    struct store_member m;
    assert_int_equal(store_member_get(f->st, "bob@example.test", &m), 1);
    store_member_free(&m);
    int64_t ann = 0, bob = 0;
    char ref[32];
    ann = db_count(f, "SELECT id FROM members WHERE address = 'ann@example.test'");
    bob = db_count(f, "SELECT id FROM members WHERE address = 'bob@example.test'");
    assert_int_equal(store_pair_add(f->st, ann, bob, "active", 1, NULL, T0, T0 + 84 * DAY, NULL,
                                    ref, sizeof(ref)),
                     0);
    assert_int_equal(store_ref_for(f->st, "ann@example.test", ref, T0, a, sizeof(a)), 0);
    assert_int_equal(store_ref_for(f->st, "bob@example.test", ref, T0, b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, ref);
    /* asked again, the same ref comes back */
    char again[64];
    assert_int_equal(store_ref_for(f->st, "ann@example.test", ref, T0, again, sizeof(again)), 0);
    assert_string_equal(again, a);
}

/* Forged DSNs (about no mail of ours) are recorded, change no score and no token. */
static void
test_forged_bounces_change_nothing(void **state)
{
    struct fixture *f = *state;
    struct store_member m;

    join_confirmed(f, "dan@example.test", "mentor");
    deliver(f, mail(f, "typo@example.test", "join", NULL, "x\r\n"));
    for (int day = 0; day < 4; day++) {
        deliver_at(f, dsn_about(f, "dan@example.test", "5.1.1", "failed", NULL), T0 + day * DAY, 0);
        deliver_at(f, dsn_about(f, "dan@example.test", "5.1.1", "failed", "forged@example.test"),
                   T0 + day * DAY + 1, 0);
        deliver_at(f, dsn_about(f, "typo@example.test", "5.1.1", "failed", NULL),
                   T0 + day * DAY + 2, 0);
    }
    assert_int_equal(store_member_get(f->st, "dan@example.test", &m), 1);
    assert_int_equal(m.undeliverable, 0);
    assert_true(m.bounce_score == 0.0);
    store_member_free(&m);
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens WHERE outcome = 'bounced'"), 0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM bounces WHERE severity = 'unverified'"), 12);
    /* Our Message-ID sent to someone else does not make dan's address fail either. */
    char msgid[256];
    db_text(f, "SELECT message_id FROM outbox WHERE recipient = 'typo@example.test'", msgid,
            sizeof(msgid));
    deliver_at(f, dsn_about(f, "dan@example.test", "5.1.1", "failed", msgid), T0 + 5 * DAY, 0);
    assert_int_equal(store_member_get(f->st, "dan@example.test", &m), 1);
    assert_true(m.bounce_score == 0.0);
    store_member_free(&m);
}

static void
test_bounces_score_and_mark_undeliverable(void **state)
{
    struct fixture *f = *state;
    struct store_member m;
    struct sent s;

    join_confirmed(f, "dan@example.test", "mentor");
    for (int day = 0; day < 3; day++) {
        assert_string_equal(
            deliver_at(f, dsn(f, "dan@example.test", "5.1.1"), T0 + day * DAY + 1, 0), "recorded");
        /* a second bounce the same day is recorded but not scored */
        deliver_at(f, dsn(f, "dan@example.test", "5.1.1"), T0 + day * DAY + 2, 0);
    }
    assert_int_equal(store_member_get(f->st, "dan@example.test", &m), 1);
    assert_int_equal(m.undeliverable, 1);
    assert_true(m.bounce_score > 2.99 && m.bounce_score < 3.01);
    store_member_free(&m);
    assert_int_equal(db_count(f, "SELECT count(*) FROM bounces"), 6);
    last_sent(f, &s);
    assert_string_equal(s.rcpt, "boss@example.test");
    assert_non_null(strstr(s.headers, "dan@example.test keeps failing"));
}

static void
test_policy_bounce_is_not_scored(void **state)
{
    struct fixture *f = *state;
    struct store_member m;

    join_confirmed(f, "dan@example.test", "mentor");
    deliver_at(f, dsn(f, "dan@example.test", "5.7.1"), T0 + DAY, 0);
    assert_int_equal(store_member_get(f->st, "dan@example.test", &m), 1);
    assert_true(m.bounce_score == 0.0);
    store_member_free(&m);
}

static void
test_bounced_confirmation_is_discarded(void **state)
{
    struct fixture *f = *state;

    deliver(f, mail(f, "typo@example.test", "join", NULL, "x\r\n"));
    deliver_at(f, dsn(f, "typo@example.test", "5.1.1"), T0 + 60, 0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens WHERE outcome = 'bounced'"), 1);
}

/* A delay warning is not a bounce yet: the confirmation may still arrive and be answered. */
static void
test_delayed_confirmation_is_kept(void **state)
{
    struct fixture *f = *state;

    deliver(f, mail(f, "slow@example.test", "join", NULL, "x\r\n"));
    deliver_at(f, dsn_action(f, "slow@example.test", "4.4.7", "delayed"), T0 + 60, 0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens WHERE outcome = 'bounced'"), 0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens WHERE outcome IS NULL"), 1);
}

static void
test_reply_budget_stops_a_flood(void **state)
{
    struct fixture *f = *state;

    f->cfg.limits.replies_per_hour = 5;
    f->cfg.limits.replies_per_day = 20;
    for (int i = 0; i < 5; i++)
        assert_string_equal(
            deliver_at(f, mail(f, "cat@example.test", "help", NULL, "\r\n"), T0 + i * 60, 0),
            "answered");
    assert_string_equal(
        deliver_at(f, mail(f, "cat@example.test", "help", NULL, "\r\n"), T0 + 300, 0),
        "over-budget");
    assert_int_equal(db_count(f, "SELECT count(*) FROM outbox"), 5);
    assert_int_equal(db_count(f, "SELECT count(*) FROM events WHERE kind = 'flood'"), 1);
    /* the next hour she is answered again */
    assert_string_equal(
        deliver_at(f, mail(f, "cat@example.test", "help", NULL, "\r\n"), T0 + HOUR + 60, 0),
        "answered");
    /* another sender is never affected */
    assert_string_equal(
        deliver_at(f, mail(f, "dan@example.test", "help", NULL, "\r\n"), T0 + 301, 0), "answered");
}

static void
test_too_large_gets_a_polite_answer(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    struct mail *m = NULL;
    struct programme_result res;
    char err[256];
    char *raw = mail(f, "ann@example.test", "join", NULL, "x\r\n");
    size_t claimed = 2 * 1024 * 1024;

    /* the inbox parses only the headers of an oversized mail and passes its real size */
    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof(err)), 0);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(programme_handle_mail(&f->cfg, f->st, m, raw, strlen(raw), claimed, T0, &res),
                     0);
    assert_int_equal(store_commit(f->st), 0);
    assert_string_equal(res.outcome, "too-large");
    mail_free(m);
    free(raw);
    last_sent(f, &s);
    assert_non_null(strstr(s.body, "2.0 MB")); /* the size and the limit, 2 MB */
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens"), 0);
}

static void
test_missing_template_is_a_system_error(void **state)
{
    struct fixture *f = *state;

    f->cfg.templates.dir = "/nonexistent/templates";
    assert_null(deliver_at(f, mail(f, "ann@example.test", "join", NULL, "x\r\n"), T0, -1));
    f->cfg.templates.dir = MENTORD_SRCDIR "/templates";
    assert_int_equal(db_count(f, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM members"), 0); /* rolled back */
}

static void
test_injection_in_name_stays_out_of_headers(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    deliver(f, mail(f, "=?UTF-8?Q?Ann=0D=0ABcc:_eve@example.test?= <ann@example.test>",
                    "=?UTF-8?Q?join=0D=0ABcc:_eve@example.test?=", NULL, "x\r\n"));
    last_sent(f, &s);
    assert_int_equal(s.n, 1);
    assert_null(strstr(s.headers, "\nBcc:"));
}

/*
 * respond.h's copy of the sender: read once, used again while nothing is
 * written, read again after any write (its own or another table's), and a
 * pointer handed out stays valid until respond_forget.
 */
static void
test_sender_copy_is_read_again_after_a_write(void **state)
{
    struct fixture *f = *state;
    struct mail m = {.from_addr = "ana@example.org", .message_id = "x@client.test"};
    char detail[256] = "";
    struct respond_ctx c = {
        .cfg = &f->cfg, .st = f->st, .m = &m, .now = 1000000, .detail = detail,
        .detail_len = sizeof(detail)};
    const struct store_member *row, *first;
    const struct store_token *t;

    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(respond_member(&c, &row), 0);
    assert_int_equal(respond_open_token(&c, &t), 0);
    long long before = store_changes(f->st);
    assert_int_equal(store_member_upsert(f->st, "ana@example.org", "Ana", "newcomer", "pending",
                                         "", c.now, NULL),
                     0);
    respond_row_written(&c, before); /* only the row: the token copy stands */
    assert_int_equal(respond_member(&c, &first), 1);
    assert_string_equal(first->state, "pending");
    assert_int_equal(respond_confirmed(&c), 0);
    assert_int_equal(store_member_set_state(f->st, "ana@example.org", "active", 0, c.now), 1);
    assert_int_equal(respond_confirmed(&c), 1); /* read again: the state changed */
    assert_string_equal(first->state, "pending"); /* the old copy is still there to read */
    assert_int_equal(store_token_add(f->st, "tok0000000001", "ana@example.org", "join", NULL,
                                     c.now, c.now + 3600),
                     0);
    assert_int_equal(respond_open_token(&c, &t), 1);
    assert_string_equal(t->token, "tok0000000001");
    before = store_changes(f->st);
    assert_int_equal(store_event_add(f->st, c.now, "x", "ana@example.org", NULL, NULL), 0);
    respond_row_written(&c, before - 1); /* a write the caller did not make: no shortcut */
    assert_int_equal(store_token_close(f->st, "tok0000000001", c.now, "superseded"), 1);
    assert_int_equal(respond_open_token(&c, &t), 0);
    store_rollback(f->st);
    respond_forget(&c);
}

/*
 * A row the caller wrote and hands over (respond_row_is) is the copy, kept
 * over a token INSERT (respond_tokens_written), and only when the copy it
 * wrote over was the store's: a write the caller did not make reads again.
 */
static void
test_sender_copy_handed_over_after_its_write(void **state)
{
    struct fixture *f = *state;
    struct mail m = {.from_addr = "ana@example.org", .message_id = "x@client.test"};
    char detail[256] = "";
    struct respond_ctx c = {
        .cfg = &f->cfg, .st = f->st, .m = &m, .now = 1000000, .detail = detail,
        .detail_len = sizeof(detail)};
    struct store_member_values v = {
        .address = "ana@example.org", .name = "Ana", .state = "pending"};
    struct store_member row;
    const struct store_member *got;

    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(respond_member(&c, &got), 0);
    long long before = store_changes(f->st);
    assert_int_equal(store_member_upsert_row(f->st, &v, NULL, c.now, &row), 1);
    respond_row_is(&c, before, &row);
    assert_int_equal(respond_member_current(&c, &got), 1);
    assert_non_null(got);
    assert_string_equal(got->name, "Ana");
    before = store_changes(f->st);
    assert_int_equal(store_token_add(f->st, "tok0000000001", "ana@example.org", "join", NULL,
                                     c.now, c.now + 3600),
                     0);
    respond_tokens_written(&c, before);
    assert_int_equal(respond_member_current(&c, &got), 1); /* a token changes no member row */
    /* Over a copy that was not the store's: given up, read at the next use. */
    assert_int_equal(store_member_set_state(f->st, "ana@example.org", "active", 0, c.now), 1);
    before = store_changes(f->st);
    v.state = "paused";
    assert_int_equal(store_member_upsert_row(f->st, &v, got, c.now, &row), 1);
    respond_row_is(&c, before, &row);
    assert_int_equal(respond_member_current(&c, &got), 0);
    assert_int_equal(respond_member(&c, &got), 1);
    assert_string_equal(got->state, "paused");
    store_rollback(f->st);
    respond_forget(&c);
}

/* ---- the sender's rows read ahead of a mail's turn (programme_read_context) ---- */

/* The reading in this process, as the daemon's reader does it (programme_reader). */
struct ahead_reading {
    const struct config *cfg;
    const struct mail *m;
    size_t size;
};

static int
ahead_read(void *arg, const struct reading_context *ctx, struct reading *out)
{
    const struct ahead_reading *a = arg;

    return reading_read(a->cfg, a->m, a->size, ctx, out);
}

static struct mail *
ahead_parse(const char *raw)
{
    struct mail *m = NULL;
    char err[256];

    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof(err)), 0);
    return m;
}

/* Its turn, in the caller's transaction, with the rows kept ahead. */
static void
ahead_turn(struct fixture *f, const char *raw, struct respond_kept *kept)
{
    struct mail *m = ahead_parse(raw);
    struct ahead_reading a = {&f->cfg, m, strlen(raw)};
    struct programme_reader reader = {ahead_read, &a, kept};
    struct programme_result res;

    assert_int_equal(
        programme_handle_read(&f->cfg, f->st, m, raw, strlen(raw), strlen(raw), T0, &reader, &res),
        0);
    assert_string_equal(res.outcome, "answered");
    mail_free(m);
}

static void
ahead_context(struct fixture *f, const char *raw, time_t now, struct respond_kept *kept)
{
    struct mail *m = ahead_parse(raw);
    struct reading_context ctx;

    assert_int_equal(programme_read_context(&f->cfg, f->st, m, strlen(raw), now, &ctx, kept), 0);
    mail_free(m);
}

/*
 * Ann's second JOIN is looked up ahead, before her first is handled: its
 * turn must not take the rows read then (no row, no token), or it would ask
 * her to confirm a second token instead of sending the first again (the
 * turn of the first empties every slot of her address).
 */
static void
test_rows_read_ahead_are_not_used_once_written(void **state)
{
    struct fixture *f = *state;
    struct respond_kept kept;
    char *first = mail(f, "ann@example.test", "join", NULL, "x\r\n");
    char *again = mail(f, "ann@example.test", "join", NULL, "again\r\n");

    memset(&kept, 0, sizeof(kept));
    /* As the inbox does: both looked up ahead, both turns in the batch's transaction. */
    assert_int_equal(store_begin(f->st), 0);
    ahead_context(f, first, T0, &kept);
    ahead_context(f, again, T0, &kept);
    ahead_turn(f, first, &kept);
    ahead_turn(f, again, &kept);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(db_count(f, "SELECT count(*) FROM tokens"), 1);
    assert_int_equal(db_count(f, "SELECT count(DISTINCT ref) FROM outbox"), 1);
    respond_kept_free(&kept);
    free(first);
    free(again);
}

/* The copy respond_take gave c: 1 when it stands without a read, NULL row and token. */
static int
ahead_taken(struct fixture *f, const char *from, time_t now, struct respond_kept *kept)
{
    struct mail m = {.from_addr = (char *)from, .message_id = "x@client.test"};
    char detail[256] = "";
    struct respond_ctx c = {.cfg = &f->cfg,
                            .st = f->st,
                            .m = &m,
                            .now = now,
                            .detail = detail,
                            .detail_len = sizeof(detail)};
    const struct store_member *row = NULL;

    respond_take(&c, kept);
    int taken = respond_member_current(&c, &row);
    if (taken)
        assert_null(row);
    respond_forget(&c);
    return taken;
}

/*
 * Rows read ahead serve the turn when nothing wrote them since (another
 * sender's JOIN wrote other rows), in the same transaction, for the same
 * second; not after a write of the sender's rows, a commit, or at another
 * time (the open token is looked up for a time).
 */
static void
test_rows_read_ahead_serve_while_unwritten(void **state)
{
    struct fixture *f = *state;
    struct respond_kept kept;
    char *bob = mail(f, "bob@example.test", "join", NULL, "x\r\n");
    char *cy = mail(f, "cy@example.test", "join", NULL, "x\r\n");
    char *ann = mail(f, "ann@example.test", "join", NULL, "x\r\n");

    memset(&kept, 0, sizeof(kept));
    assert_int_equal(store_begin(f->st), 0);
    ahead_context(f, bob, T0, &kept);
    ahead_context(f, cy, T0, &kept);
    ahead_turn(f, ann, &kept);
    assert_int_equal(ahead_taken(f, "bob@example.test", T0, &kept), 1);
    assert_int_equal(ahead_taken(f, "bob@example.test", T0, &kept), 0); /* taken once */
    assert_int_equal(ahead_taken(f, "cy@example.test", T0 + 1, &kept), 0);
    ahead_context(f, bob, T0, &kept);
    assert_int_equal(
        store_member_upsert(f->st, "BOB@example.test", NULL, NULL, NULL, NULL, T0, NULL), 0);
    assert_int_equal(ahead_taken(f, "bob@example.test", T0, &kept), 0);
    ahead_context(f, cy, T0, &kept);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(ahead_taken(f, "cy@example.test", T0, &kept), 0);
    store_rollback(f->st);
    respond_kept_free(&kept);
    free(bob);
    free(cy);
    free(ann);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_join_asks_for_confirmation_first),
        T(test_sender_copy_is_read_again_after_a_write),
        T(test_sender_copy_handed_over_after_its_write),
        T(test_reply_confirms_and_welcomes),
        T(test_no_to_the_confirmation_confirms_nothing),
        T(test_confirm_by_token_in_body_and_by_subject_tag),
        T(test_forged_confirmation_changes_nothing),
        T(test_token_is_single_use),
        T(test_expired_request_is_refused_and_forgotten),
        T(test_second_join_resends_the_same_token),
        T(test_rows_read_ahead_are_not_used_once_written),
        T(test_rows_read_ahead_serve_while_unwritten),
        T(test_already_member),
        T(test_newcomer_who_volunteers_confirms_the_change),
        T(test_leave_erases_personal_data),
        T(test_leave_from_stranger),
        T(test_status_pause_resume_capacity),
        T(test_claimed_change_waits_for_confirmation),
        T(test_claimed_change_in_members_language),
        T(test_forged_bounces_change_nothing),
        T(test_stranger_cap_holds_mail),
        T(test_refs_are_per_recipient),
        T(test_status_names_the_pairing),
        T(test_status_from_stranger),
        T(test_profile_lines_update_and_echo),
        T(test_unknown_request_gets_help),
        T(test_quoted_command_is_not_acted_on),
        T(test_only_quoted_mail_is_told_so),
        T(test_plus_address_names_the_command),
        T(test_auto_reply_is_recorded_and_sets_away),
        T(test_own_address_and_bulk_are_not_answered),
        T(test_spam_is_recorded_not_answered),
        T(test_bounces_score_and_mark_undeliverable),
        T(test_policy_bounce_is_not_scored),
        T(test_bounced_confirmation_is_discarded),
        T(test_delayed_confirmation_is_kept),
        T(test_reply_budget_stops_a_flood),
        T(test_too_large_gets_a_polite_answer),
        T(test_missing_template_is_a_system_error),
        T(test_injection_in_name_stays_out_of_headers),
    };
    return cmocka_run_group_tests_name("programme", tests, NULL, NULL);
}
