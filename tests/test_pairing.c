/*
 * Matching inside the daemon: rounds over real members in a real store,
 * proposals (without the newcomer's address), ACCEPT, DECLINE, timeouts,
 * capacity across rounds, the waiting list, dry runs, DONE and REMATCH, and
 * mentorctl match run as a binary.  Uses the real parser, templates and
 * composer, like test_programme.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail.h"
#include "programme.h"
#include "pairing.h"
#include "schedule.h"
#include "store.h"
#include "teststore.h"
#include "testutil.h"

#define T0 1767258000 /* 2026-01-01 09:00 UTC */
#define HOUR 3600
#define DAY 86400

static int
setup(void **state)
{
    if (ts_setup(state, "pair") != 0)
        return -1;
    struct fixture *f = *state;

    f->cfg.digest.trusted_authserv = "mx.example.test";
    f->cfg.matching.synonyms = "js=javascript, docs=documentation";
    return 0;
}

static int
teardown(void **state)
{
    return ts_teardown(state);
}

/* ---- helpers ---- */

static int64_t
add_member(struct fixture *f, const char *addr, const char *name, const char *role,
           const char *profile, time_t since)
{
    int64_t id = 0;

    assert_int_equal(store_member_upsert(f->st, addr, name, role, "active", profile, since, &id),
                     0);
    if (strcmp(role, "newcomer") == 0)
        assert_int_equal(store_member_set_waiting(f->st, addr, since), 1);
    return id;
}

static int
round_at(struct fixture *f, time_t now)
{
    assert_int_equal(store_begin(f->st), 0);
    int n = pairing_match_round(&f->cfg, f->st, now, 0, NULL);
    assert_true(n >= 0);
    assert_int_equal(store_commit(f->st), 0);
    return n;
}

/* What the community's own server adds for a verified sender of each domain (auth.h). */
#define PROVEN_MENTOR                                                                              \
    "Authentication-Results: mx.example.test; dmarc=pass header.from=mentor.test\r\n"
#define PROVEN_NEW "Authentication-Results: mx.example.test; dmarc=pass header.from=new.test\r\n"

static char *
mail(struct fixture *f, const char *from, const char *subject, const char *extra, const char *body)
{
    char *raw = NULL;

    f->seq++;
    assert_true(
        asprintf(&raw,
                 "From: %s\r\nTo: mentors@example.test\r\nSubject: %s\r\n"
                 "Message-ID: <p%d@client.test>\r\nDate: Thu, 01 Jan 2026 10:00:00 +0000\r\n"
                 "%s\r\n%s",
                 from, subject, f->seq, extra ? extra : "", body) > 0);
    return raw;
}

static void
deliver_at(struct fixture *f, char *raw, time_t now)
{
    struct mail *m = NULL;
    struct programme_result res;
    char err[256];

    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof(err)), 0);
    assert_int_equal(store_begin(f->st), 0);
    int rc = programme_handle_mail(&f->cfg, f->st, m, raw, strlen(raw), strlen(raw), now, &res);
    if (rc != 0)
        fail_msg("programme_handle_mail returned %d (%s)", rc, res.detail);
    assert_int_equal(store_commit(f->st), 0);
    mail_free(m);
    free(raw);
}

static int
db_int(struct fixture *f, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    int n = -1;

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

/* A text column of the first row of sql into buf ("" when none). */
static void
db_text(struct fixture *f, const char *sql, char *buf, size_t len)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;

    buf[0] = '\0';
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
        snprintf(buf, len, "%s", sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

/* The newest mail to rcpt: headers + body into buf; its Message-ID into msgid. */
static void
mail_to(struct fixture *f, const char *rcpt, char *buf, size_t len, char *msgid, size_t idlen)
{
    char sql[512];

    snprintf(sql, sizeof(sql),
             "SELECT headers || body FROM outbox WHERE recipient = '%s' ORDER BY id DESC LIMIT 1",
             rcpt);
    db_text(f, sql, buf, len);
    if (msgid) {
        snprintf(sql, sizeof(sql),
                 "SELECT message_id FROM outbox WHERE recipient = '%s' ORDER BY id DESC LIMIT 1",
                 rcpt);
        db_text(f, sql, msgid, idlen);
    }
}

static int
mails_to(struct fixture *f, const char *rcpt)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE recipient = '%s'", rcpt);
    return db_int(f, sql);
}

/* Reply to the newest mail to from (threaded by In-Reply-To) with body. */
static void
reply_to_last(struct fixture *f, const char *from, const char *subject, const char *body,
              time_t now)
{
    char text[8192], msgid[128], extra[256];

    mail_to(f, from, text, sizeof(text), msgid, sizeof(msgid));
    assert_true(msgid[0] != '\0');
    snprintf(extra, sizeof(extra), "In-Reply-To: <%s>\r\n", msgid);
    deliver_at(f, mail(f, from, subject, extra, body), now);
}

/* Pairs lifecycle.c has taken over: their own events are scheduled. */
static int
introduced(struct fixture *f)
{
    return db_int(f, "SELECT count(DISTINCT pair) FROM schedule WHERE kind <> 'proposal-timeout'");
}

static const char *const mentor_profiles[] = {
    "skills: rust, documentation\nlanguages: english\ntime zone: UTC\n",
    "skills: python, testing\nlanguages: english, spanish\ntime zone: UTC+01:00\n",
    "skills: javascript, design\nlanguages: english\ntime zone: UTC-05:00\n",
};

static const char *const newcomer_profiles[] = {
    "skills: rust, docs\nlanguages: english\ntime zone: UTC\n",
    "skills: python\nlanguages: spanish\ntime zone: UTC+01:00\n",
    "skills: js\nlanguages: english\ntime zone: UTC-05:00\n",
    "skills: rust\nlanguages: english\ntime zone: UTC\n",
    "skills: python\nlanguages: english\ntime zone: UTC\n",
};

/* Three mentors m1..m3@mentor.test, five newcomers n1..n5@new.test. */
static void
community(struct fixture *f, int64_t *mentors, int64_t *newcomers)
{
    char addr[64], name[32];

    for (int i = 0; i < 3; i++) {
        snprintf(addr, sizeof(addr), "m%d@mentor.test", i + 1);
        snprintf(name, sizeof(name), "Mentor%d Smith", i + 1);
        int64_t id = add_member(f, addr, name, "mentor", mentor_profiles[i], T0 - 30 * DAY);
        if (mentors)
            mentors[i] = id;
    }
    for (int i = 0; i < 5; i++) {
        snprintf(addr, sizeof(addr), "n%d@new.test", i + 1);
        snprintf(name, sizeof(name), "Newbie%d Jones", i + 1);
        int64_t id =
            add_member(f, addr, name, "newcomer", newcomer_profiles[i], T0 - (15 - i) * DAY);
        if (newcomers)
            newcomers[i] = id;
    }
}

/* ---- rounds ---- */

static void
test_round_proposes_without_addresses(void **state)
{
    struct fixture *f = *state;
    char text[8192], addr[64];

    community(f, NULL, NULL);
    assert_int_equal(round_at(f, T0), 3);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'proposed'"), 3);
    assert_int_equal(db_int(f, "SELECT count(DISTINCT mentor) FROM pairs"), 3);
    assert_int_equal(db_int(f, "SELECT count(*) FROM schedule WHERE kind = 'proposal-timeout'"
                               " AND due = 1767258000 + 3 * 86400"),
                     2);
    /* 09:00 UTC is 04:00 for the mentor at UTC-5: the proposal (and its timeout) waits for
     * 08:00 there, 13:00 UTC. */
    assert_int_equal(db_int(f, "SELECT count(*) FROM schedule WHERE kind = 'proposal-timeout'"
                               " AND due = 1767258000 + 4 * 3600 + 3 * 86400"),
                     1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox WHERE recipient = 'm3@mentor.test'"
                               " AND created = 1767258000 + 4 * 3600 AND next_attempt = created"),
                     1);
    for (int i = 1; i <= 3; i++) {
        snprintf(addr, sizeof(addr), "m%d@mentor.test", i);
        assert_int_equal(mails_to(f, addr), 1);
        mail_to(f, addr, text, sizeof(text), NULL, 0);
        /* no newcomer address, in headers or body */
        assert_null(strstr(text, "new.test"));
        assert_non_null(strstr(text, "[ref "));
        assert_non_null(strstr(text, "ACCEPT"));
        assert_non_null(strstr(text, "Newbie"));
        assert_null(strstr(text, "Jones")); /* first name only */
    }
    /* m1 (rust, documentation) gets n1 (rust, docs = documentation) with the reason spelt out */
    mail_to(f, "m1@mentor.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "Newbie1"));
    assert_non_null(strstr(text, "you both listed"));
    assert_non_null(strstr(text, "Skills:"));
    /* reasons are kept with the pair for the introduction */
    db_text(f,
            "SELECT reasons FROM pairs p JOIN members m ON p.newcomer = m.id"
            " WHERE m.address = 'n1@new.test'",
            text, sizeof(text));
    /* docs = documentation by the synonym table: both tags count, in the newcomer's words */
    assert_non_null(strstr(text, "you both listed rust and docs"));
    /* n2 speaks only Spanish: only m2 can take them */
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs p JOIN members n ON p.newcomer = n.id"
                               " JOIN members m ON p.mentor = m.id WHERE n.address ="
                               " 'n2@new.test' AND m.address = 'm2@mentor.test'"),
                     1);
    /* the two left over hear they are waiting, with their place */
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox WHERE recipient LIKE '%@new.test'"), 2);
    assert_int_equal(
        db_int(f, "SELECT count(*) FROM outbox WHERE recipient LIKE '%@new.test' AND body LIKE"
                  " '%number 1 on%'"),
        1);
    assert_int_equal(
        db_int(f, "SELECT count(*) FROM outbox WHERE recipient LIKE '%@new.test' AND body LIKE"
                  " '%number 2 on%'"),
        1);
}

static void
test_dry_run_changes_nothing(void **state)
{
    struct fixture *f = *state;
    char *buf = NULL;
    size_t len = 0;

    community(f, NULL, NULL);
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(pairing_match_round(&f->cfg, f->st, T0, 1, out), 3);
    store_rollback(f->st);
    assert_int_equal(fclose(out), 0);
    assert_non_null(strstr(buf, "n1@new.test \xe2\x86\x92 m1@mentor.test"));
    assert_non_null(strstr(buf, "you both listed"));
    assert_non_null(strstr(buf, "waiting: "));
    assert_non_null(strstr(buf, "pairs: 3"));
    free(buf);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs"), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM schedule"), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM events"), 0);
}

static void
test_waitlist_note_at_most_weekly(void **state)
{
    struct fixture *f = *state;
    char text[8192];

    add_member(f, "a@new.test", "Ann", "newcomer", "languages: english\n", T0 - 12 * DAY);
    add_member(f, "b@new.test", "Bob", "newcomer", "languages: english\n", T0 - 9 * DAY);
    assert_int_equal(round_at(f, T0), 0);
    mail_to(f, "a@new.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "number 1 on"));
    assert_non_null(strstr(text, "as soon as a mentor is free")); /* no rate to estimate from */
    mail_to(f, "b@new.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "number 2 on"));
    round_at(f, T0 + HOUR);
    round_at(f, T0 + 6 * DAY);
    assert_int_equal(mails_to(f, "a@new.test"), 1);
    assert_int_equal(mails_to(f, "b@new.test"), 1);
    round_at(f, T0 + 7 * DAY + HOUR);
    assert_int_equal(mails_to(f, "a@new.test"), 2);
    assert_int_equal(mails_to(f, "b@new.test"), 2);
}

static void
test_capacity_respected_across_rounds(void **state)
{
    struct fixture *f = *state;

    add_member(f, "m@mentor.test", "Max", "mentor",
               "skills: rust\nlanguages: english\ncapacity: 2\n", T0 - DAY);
    for (int i = 0; i < 4; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "n%d@new.test", i);
        add_member(f, addr, NULL, "newcomer", "skills: rust\nlanguages: english\n", T0 - DAY);
    }
    assert_int_equal(round_at(f, T0), 2);
    /* open proposals hold the slots: later rounds add nobody */
    assert_int_equal(round_at(f, T0 + HOUR), 0);
    assert_int_equal(round_at(f, T0 + 2 * HOUR), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs"), 2);
    /* accepted pairs still hold them: one by a threaded reply, one by a bare ACCEPT */
    reply_to_last(f, "m@mentor.test", "Re: proposal", "ACCEPT\r\n", T0 + 3 * HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'active'"), 1);
    deliver_at(f, mail(f, "m@mentor.test", "accept", PROVEN_MENTOR, "\r\n"), T0 + 3 * HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'active'"), 2);
    assert_int_equal(round_at(f, T0 + 4 * HOUR), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs"), 2);
}

/* ---- answers to proposals ---- */

static void
test_accept_starts_the_pair(void **state)
{
    struct fixture *f = *state;

    community(f, NULL, NULL);
    round_at(f, T0);
    int before = db_int(f, "SELECT count(*) FROM outbox");
    reply_to_last(f, "m1@mentor.test", "Re: Would you mentor Newbie1?", "Accept!\r\n", T0 + HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs p JOIN members m ON p.mentor = m.id"
                               " WHERE m.address = 'm1@mentor.test' AND p.state = 'active'"
                               " AND p.started = 1767261600 AND p.ends = 1767261600 + 84 * 86400"),
                     1);
    /* the newcomer no longer waits */
    assert_int_equal(
        db_int(f, "SELECT count(*) FROM members WHERE address = 'n1@new.test' AND waiting_since"
                  " IS NULL"),
        1);
    /* No separate thank-you: the introduction (scheduled now) answers the ACCEPT. */
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox WHERE recipient = 'm1@mentor.test'"
                               " AND headers LIKE '%Thank you for accepting%'"),
                     0);
    /* the timeout is cancelled */
    assert_int_equal(db_int(f, "SELECT count(*) FROM schedule s JOIN pairs p ON s.pair = p.id"
                               " WHERE p.state = 'active' AND s.kind = 'proposal-timeout'"
                               " AND s.done IS NULL"),
                     0);
    /* lifecycle schedules their introduction */
    assert_int_equal(introduced(f), 1);
    assert_true(db_int(f, "SELECT count(*) FROM outbox") >=
                before); /* the introduction answers it */
    /* a second ACCEPT of the same proposal does not start it twice */
    int mails = mails_to(f, "n1@new.test");
    deliver_at(f, mail(f, "m1@mentor.test", "accept", PROVEN_MENTOR, "\r\n"), T0 + 2 * HOUR);
    assert_int_equal(introduced(f), 1);
    assert_int_equal(mails_to(f, "n1@new.test"), mails);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'active'"), 1);
}

static void
test_decline_then_another_mentor_never_the_same(void **state)
{
    struct fixture *f = *state;
    int64_t m[3], n[5];
    char sql[256];

    community(f, m, n);
    round_at(f, T0);
    reply_to_last(f, "m1@mentor.test", "Re: proposal", "decline, sorry\r\n", T0 + HOUR);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pairs WHERE newcomer = %lld AND mentor = %lld AND state ="
             " 'declined'",
             (long long)n[0], (long long)m[0]);
    assert_int_equal(db_int(f, sql), 1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM blocks WHERE reason = 'declined'"), 1);
    /* n1 keeps their original place */
    snprintf(sql, sizeof(sql), "SELECT waiting_since FROM members WHERE id = %lld",
             (long long)n[0]);
    assert_int_equal(db_int(f, sql), T0 - 15 * DAY);
    /* m1 is free again: the next rounds never propose n1 to m1 again */
    for (int i = 1; i <= 4; i++)
        round_at(f, T0 + i * HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM (SELECT newcomer, mentor FROM pairs"
                               " GROUP BY newcomer, mentor HAVING count(*) > 1)"),
                     0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pairs WHERE mentor = %lld AND state ="
             " 'proposed'",
             (long long)m[0]);
    assert_int_equal(db_int(f, sql), 1); /* m1 got someone else */
}

static void
test_timeout_expires_and_counts_silence(void **state)
{
    struct fixture *f = *state;
    int64_t m[3], n[5];
    char sql[256];

    community(f, m, n);
    round_at(f, T0);
    snprintf(sql, sizeof(sql), "SELECT id FROM pairs WHERE mentor = %lld", (long long)m[0]);
    int pair = db_int(f, sql);
    assert_true(pair > 0);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(pairing_proposal_timeout(&f->cfg, f->st, pair, T0 + 3 * DAY), 0);
    assert_int_equal(store_commit(f->st), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pairs WHERE id = %d AND state = 'expired'",
             pair);
    assert_int_equal(db_int(f, sql), 1);
    snprintf(sql, sizeof(sql), "SELECT unanswered FROM members WHERE id = %lld", (long long)m[0]);
    assert_int_equal(db_int(f, sql), 1);
    /* a late ACCEPT does nothing but say so */
    reply_to_last(f, "m1@mentor.test", "Re: proposal", "accept\r\n", T0 + 3 * DAY + HOUR);
    snprintf(sql, sizeof(sql), "SELECT state FROM pairs WHERE id = %d", pair);
    char state_text[32];
    db_text(f, sql, state_text, sizeof(state_text));
    assert_string_equal(state_text, "expired");
    char text[8192];
    mail_to(f, "m1@mentor.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "no longer open"));
    /* the second run of a timeout is a no-op */
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(pairing_proposal_timeout(&f->cfg, f->st, pair, T0 + 4 * DAY), 0);
    assert_int_equal(store_commit(f->st), 0);
    db_text(f, sql, state_text, sizeof(state_text));
    assert_string_equal(state_text, "expired");
    snprintf(sql, sizeof(sql), "SELECT unanswered FROM members WHERE id = %lld", (long long)m[0]);
    assert_int_equal(db_int(f, sql), 1);
    /* the next round proposes n1 to another mentor, not m1 */
    round_at(f, T0 + 3 * DAY + 2 * HOUR);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pairs WHERE newcomer = %lld AND mentor = %lld",
             (long long)n[0], (long long)m[0]);
    assert_int_equal(db_int(f, sql), 1);
}

static void
test_reply_without_answer_asks_again(void **state)
{
    struct fixture *f = *state;
    char text[8192];

    community(f, NULL, NULL);
    round_at(f, T0);
    reply_to_last(f, "m2@mentor.test", "Re: proposal", "Tell me more about them?\r\n", T0 + HOUR);
    mail_to(f, "m2@mentor.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "Reply YES to take "));
    assert_non_null(strstr(text, " on, or NO"));
    assert_non_null(strstr(text, "Subject: Would you like to mentor this newcomer? [ref "));
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'proposed'"), 3);
}

static void
test_stranger_accept_does_nothing(void **state)
{
    struct fixture *f = *state;
    char ref[32], subject[96], text[8192];

    community(f, NULL, NULL);
    round_at(f, T0);
    /* the ref m1 was given: each recipient has their own */
    db_text(f,
            "SELECT r.ref FROM pairs p JOIN members m ON p.mentor = m.id JOIN refs r ON"
            " r.conversation = p.ref AND r.address = m.address WHERE m.address ="
            " 'm1@mentor.test'",
            ref, sizeof(ref));
    snprintf(subject, sizeof(subject), "Re: Would you mentor? [ref %s]", ref);
    /* another mentor, a newcomer of another pair, and a non-member */
    deliver_at(f, mail(f, "m3@mentor.test", subject, NULL, "ACCEPT\r\n"), T0 + HOUR);
    deliver_at(f, mail(f, "n4@new.test", subject, NULL, "ACCEPT\r\n"), T0 + HOUR);
    deliver_at(f, mail(f, "evil@example.test", subject, NULL, "ACCEPT\r\n"), T0 + HOUR);
    deliver_at(f, mail(f, "evil@example.test", subject, NULL, "DECLINE\r\n"), T0 + HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'proposed'"), 3);
    assert_int_equal(introduced(f), 0);
    mail_to(f, "evil@example.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "Nothing to"));
    /* the real mentor, by the [ref] tag alone, can */
    deliver_at(f, mail(f, "m1@mentor.test", subject, NULL, "ACCEPT\r\n"), T0 + 2 * HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'active'"), 1);
}

/* ---- running pairs ---- */

/* m1 and n1 as an active pair; returns its id. */
static int
active_pair(struct fixture *f)
{
    community(f, NULL, NULL);
    round_at(f, T0);
    reply_to_last(f, "m1@mentor.test", "Re: proposal", "ACCEPT\r\n", T0 + HOUR);
    int id = db_int(f, "SELECT id FROM pairs WHERE state = 'active'");
    assert_true(id > 0);
    return id;
}

/* A mentor answers in a sentence; a check-in answered later as a new mail reaches the pair. */
static void
test_plain_accept_and_rating_as_a_new_mail(void **state)
{
    struct fixture *f = *state;

    community(f, NULL, NULL);
    round_at(f, T0);
    reply_to_last(f, "m1@mentor.test", "Re: Would you mentor Newbie1?", "Sure, happy to!\r\n",
                  T0 + HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs p JOIN members m ON p.mentor = m.id"
                               " WHERE m.address = 'm1@mentor.test' AND p.state = 'active'"),
                     1);
    /* no ref, no In-Reply-To, From: only: a rating for a pair takes proof, nothing is stored */
    deliver_at(f, mail(f, "n1@new.test", "mentoring", NULL, "It went well, I'd say 4.\r\n"),
               T0 + 5 * DAY);
    assert_int_equal(db_int(f, "SELECT count(*) FROM feedback WHERE rating = 4"), 0);
    /* the same from the community's own server's DMARC pass: the sender's one open pair */
    deliver_at(f,
               mail(f, "n1@new.test", "mentoring",
                    "Authentication-Results: mx.example.test; dmarc=pass header.from=new.test\r\n",
                    "It went well, I'd say 4.\r\n"),
               T0 + 5 * DAY + HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM feedback WHERE rating = 4"), 1);
}

static void
test_done_ends_and_asks_both_for_feedback(void **state)
{
    struct fixture *f = *state;
    char text[8192], sql[256];
    int id = active_pair(f);

    deliver_at(f, mail(f, "n1@new.test", "done", PROVEN_NEW, "We are finished, thanks!\r\n"),
               T0 + 20 * DAY);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pairs WHERE id = %d AND state = 'ended' AND end_reason ="
             " 'done' AND ended = %d",
             id, T0 + 20 * DAY);
    assert_int_equal(db_int(f, sql), 1);
    mail_to(f, "n1@new.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "As you asked"));
    assert_non_null(strstr(text, "rating from 1"));
    assert_non_null(strstr(text, "Mentor1"));
    mail_to(f, "m1@mentor.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "has been marked as done"));
    assert_non_null(strstr(text, "Newbie1"));
    /* done means finished: the newcomer does not wait again */
    assert_int_equal(
        db_int(f, "SELECT count(*) FROM members WHERE address = 'n1@new.test' AND waiting_since"
                  " IS NULL"),
        1);
    /* nothing open is left scheduled for the pair */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM schedule WHERE pair = %d AND done IS NULL",
             id);
    assert_int_equal(db_int(f, sql), 0);
}

static void
test_rematch_blocks_and_keeps_priority(void **state)
{
    struct fixture *f = *state;
    char text[8192], sql[256];
    int id = active_pair(f);

    deliver_at(f, mail(f, "n1@new.test", "rematch please", PROVEN_NEW, "\r\n"), T0 + 10 * DAY);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pairs WHERE id = %d AND state = 'ended' AND end_reason ="
             " 'rematch'",
             id);
    assert_int_equal(db_int(f, sql), 1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM blocks WHERE reason = 'rematch'"), 1);
    /* waiting again, from when the first proposal was made (not from now) */
    assert_int_equal(db_int(f, "SELECT waiting_since FROM members WHERE address = 'n1@new.test'"),
                     T0);
    mail_to(f, "m1@mentor.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "asked to be matched with someone else"));
    mail_to(f, "n1@new.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "keep your place on the waiting list"));
    /* the next round never pairs them again */
    round_at(f, T0 + 10 * DAY + HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs p JOIN members n ON p.newcomer = n.id"
                               " JOIN members m ON p.mentor = m.id WHERE n.address ="
                               " 'n1@new.test' AND m.address = 'm1@mentor.test'"),
                     1);
}

static void
test_mentor_accepts_off_pairs_at_once(void **state)
{
    struct fixture *f = *state;

    f->cfg.matching.mentor_accepts = 0;
    community(f, NULL, NULL);
    assert_int_equal(round_at(f, T0), 3);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'active'"), 3);
    assert_int_equal(db_int(f, "SELECT count(*) FROM schedule WHERE kind = 'proposal-timeout'"), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox WHERE body LIKE '%reply ACCEPT%'"), 0);
    assert_int_equal(introduced(f), 3);
}

/* ---- modes ---- */

/* Run every scheduled event due at now (the lifecycle's own loop, one per transaction). */
static void
run_due_at(struct fixture *f, time_t now)
{
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(store_begin(f->st), 0);
        int rc = schedule_run_due(&f->cfg, f->st, now);
        assert_true(rc >= 0);
        assert_int_equal(store_commit(f->st), 0);
        if (rc == 0)
            return;
    }
    fail_msg("scheduled events never ran out");
}

static const char rust_profile[] = "skills: rust\nlanguages: english\ntime zone: UTC\n";

/* Pairs of newcomer address with mentor address (any state). */
static int
pairs_of(struct fixture *f, const char *newcomer, const char *mentor)
{
    char sql[512];

    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pairs p JOIN members n ON p.newcomer = n.id JOIN members m ON"
             " p.mentor = m.id WHERE n.address = '%s' AND ('%s' = '' OR m.address = '%s')",
             newcomer, mentor, mentor);
    return db_int(f, sql);
}

/*
 * Two mentors, two newcomers, all on Rust: n1 and n2 each get a mentor at T0.
 * n2 says DONE on day 20; n1's pairing runs its full length.
 */
static void
rotation_story(struct fixture *f)
{
    f->cfg.matching.mentor_accepts = 0;
    add_member(f, "m1@mentor.test", "Mentor1 Smith", "mentor", rust_profile, T0 - 30 * DAY);
    add_member(f, "m2@mentor.test", "Mentor2 Smith", "mentor", rust_profile, T0 - 30 * DAY);
    add_member(f, "n1@new.test", "Newbie1 Jones", "newcomer", rust_profile, T0 - 10 * DAY);
    add_member(f, "n2@new.test", "Newbie2 Jones", "newcomer", rust_profile, T0 - 5 * DAY);
    assert_int_equal(round_at(f, T0), 2);
    deliver_at(f, mail(f, "n2@new.test", "done", PROVEN_NEW, "We are finished, thanks!\r\n"),
               T0 + 20 * DAY);
    run_due_at(f, T0 + 12 * 7 * DAY + HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE end_reason = 'completed'"), 1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE end_reason = 'done'"), 1);
}

static void
test_rotation_requeues_after_pair_end(void **state)
{
    struct fixture *f = *state;
    char first[64], second[64];

    f->cfg.matching.mode = "rotation";
    rotation_story(f);
    db_text(f,
            "SELECT m.address FROM pairs p JOIN members m ON p.mentor = m.id JOIN members n ON"
            " p.newcomer = n.id WHERE n.address = 'n1@new.test'",
            first, sizeof(first));
    /* the next round puts n1 back on the list and pairs them with the other mentor */
    assert_int_equal(round_at(f, T0 + 12 * 7 * DAY + 2 * HOUR), 1);
    assert_int_equal(pairs_of(f, "n1@new.test", ""), 2);
    db_text(f,
            "SELECT m.address FROM pairs p JOIN members m ON p.mentor = m.id JOIN members n ON"
            " p.newcomer = n.id WHERE n.address = 'n1@new.test' AND p.state = 'active'",
            second, sizeof(second));
    assert_true(first[0] != '\0' && second[0] != '\0');
    assert_string_not_equal(first, second);
    /* n2 said DONE: finished, not rotated */
    assert_int_equal(pairs_of(f, "n2@new.test", ""), 1);
    assert_int_equal(
        db_int(f, "SELECT count(*) FROM members WHERE address = 'n2@new.test' AND waiting_since"
                  " IS NULL"),
        1);
    /* after the second pairing, nobody new is left: n1 waits, never paired twice with anyone */
    run_due_at(f, T0 + 24 * 7 * DAY + 3 * HOUR);
    assert_int_equal(round_at(f, T0 + 24 * 7 * DAY + 4 * HOUR), 0);
    assert_int_equal(pairs_of(f, "n1@new.test", "m1@mentor.test"), 1);
    assert_int_equal(pairs_of(f, "n1@new.test", "m2@mentor.test"), 1);
    assert_int_equal(db_int(f, "SELECT waiting_since FROM members WHERE address = 'n1@new.test'"),
                     T0 + 24 * 7 * DAY + 4 * HOUR);
}

static void
test_pairs_mode_does_not_rotate(void **state)
{
    struct fixture *f = *state;

    rotation_story(f);
    assert_int_equal(round_at(f, T0 + 12 * 7 * DAY + 2 * HOUR), 0);
    assert_int_equal(pairs_of(f, "n1@new.test", ""), 1);
    assert_int_equal(
        db_int(f, "SELECT count(*) FROM members WHERE role = 'newcomer' AND waiting_since IS NULL"),
        2);
}

/* m1 (one slot), b1 who finished a pairing with m1, and two new newcomers. */
static void
buddies_community(struct fixture *f)
{
    int64_t m1, b1, pair = 0;
    char ref[16];

    f->cfg.matching.mentor_accepts = 0;
    m1 = add_member(f, "m1@mentor.test", "Mentor1 Smith", "mentor", rust_profile, T0 - 200 * DAY);
    b1 = add_member(f, "b1@new.test", "Bea Former", "newcomer", rust_profile, T0 - 150 * DAY);
    assert_int_equal(store_pair_add(f->st, b1, m1, "active", 1000, "rust", T0 - 120 * DAY,
                                    T0 - 36 * DAY, &pair, ref, sizeof(ref)),
                     0);
    assert_int_equal(
        store_pair_set_state(f->st, pair, "active", "ended", T0 - 36 * DAY, 0, "completed"), 1);
    assert_int_equal(store_pair_set_waiting(f->st, b1, 0), 0);
    add_member(f, "n1@new.test", "Newbie1 Jones", "newcomer", rust_profile, T0 - 10 * DAY);
    add_member(f, "n2@new.test", "Newbie2 Jones", "newcomer", rust_profile, T0 - 5 * DAY);
}

static void
test_buddies_any_member_short_period(void **state)
{
    struct fixture *f = *state;

    buddies_community(f);
    /* in pairs mode only the mentor takes someone: former mentees are not mentors */
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(pairing_match_round(&f->cfg, f->st, T0, 1, NULL), 1);
    store_rollback(f->st);
    f->cfg.matching.mode = "buddies";
    assert_int_equal(round_at(f, T0), 2);
    /* b1 is the buddy of the newcomer the mentor did not take; never of themselves */
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs p JOIN members m ON p.mentor = m.id"
                               " WHERE m.address = 'b1@new.test' AND p.state = 'active'"),
                     1);
    assert_int_equal(pairs_of(f, "b1@new.test", ""), 1);
    /* four weeks, not the programme's twelve: check-ins after that are not scheduled */
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'active' AND ends -"
                               " started = 28 * 86400"),
                     2);
    assert_int_equal(
        db_int(f, "SELECT count(*) FROM schedule s JOIN pairs p ON s.pair = p.id WHERE s.kind ="
                  " 'pair-end' AND s.due = p.started + 28 * 86400 AND p.state = 'active'"),
        2);
    assert_int_equal(db_int(f, "SELECT count(*) FROM schedule WHERE kind = 'checkin' AND arg IN"
                               " ('30', '60')"),
                     0);
}

static void
test_buddies_with_acceptance_short_period(void **state)
{
    struct fixture *f = *state;

    buddies_community(f);
    f->cfg.matching.mode = "buddies";
    f->cfg.matching.mentor_accepts = 1;
    assert_int_equal(round_at(f, T0), 2);
    assert_int_equal(mails_to(f, "b1@new.test"), 1);
    reply_to_last(f, "b1@new.test", "Re: proposal", "ACCEPT\r\n", T0 + HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs p JOIN members m ON p.mentor = m.id"
                               " WHERE m.address = 'b1@new.test' AND p.state = 'active' AND"
                               " p.ends = p.started + 28 * 86400"),
                     1);
}

/* ---- mentorctl match ---- */

static void
write_config(struct fixture *f, char *path, size_t len)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "[community]\nname = Example\naddress = mentors@example.test\n"
             "[imap]\nhost = 127.0.0.1\nuser = u\npassword_file = %s/pw\n"
             "[store]\npath = %s\n[templates]\ndir = %s\n",
             f->dir, f->path, MENTORD_SRCDIR "/templates");
    assert_int_equal(tu_write_file(f->dir, "pw", "secret\n"), 0);
    char pw[512];
    snprintf(pw, sizeof(pw), "%s/pw", f->dir);
    assert_int_equal(chmod(pw, 0600), 0);
    assert_int_equal(tu_write_file(f->dir, "m.ini", text), 0);
    snprintf(path, len, "%s/m.ini", f->dir);
}

/* Run a shell command; its stdout into buf, the exit status returned. */
static int
run(const char *cmd, char *buf, size_t len)
{
    FILE *p = popen(cmd, "r");
    size_t n = 0;

    assert_non_null(p);
    while (n + 1 < len && !feof(p)) {
        size_t got = fread(buf + n, 1, len - 1 - n, p);
        if (got == 0)
            break;
        n += got;
    }
    buf[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_mentorctl_match_dry_run(void **state)
{
    struct fixture *f = *state;
    char ini[512], cmd[1200], out[8192];

    community(f, NULL, NULL);
    write_config(f, ini, sizeof(ini));
    snprintf(cmd, sizeof(cmd), "MENTORD_NOW=%d %s/mentorctl -c %s match --dry-run 2>&1", T0,
             MENTORD_BUILDDIR, ini);
    /* The mentorctl of this build (build-san's in the sanitizer run); make builds it first. */
    assert_int_equal(access(MENTORD_BUILDDIR "/mentorctl", X_OK), 0);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "n1@new.test \xe2\x86\x92 m1@mentor.test"));
    assert_non_null(strstr(out, "pairs: 3"));
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs"), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox"), 0);
}

static void
test_mentorctl_match_now(void **state)
{
    struct fixture *f = *state;
    char ini[512], cmd[1200], out[8192];

    community(f, NULL, NULL);
    write_config(f, ini, sizeof(ini));
    snprintf(cmd, sizeof(cmd), "MENTORD_NOW=%d %s/mentorctl -c %s match --now 2>&1", T0,
             MENTORD_BUILDDIR, ini);
    /* The mentorctl of this build (build-san's in the sanitizer run); make builds it first. */
    assert_int_equal(access(MENTORD_BUILDDIR "/mentorctl", X_OK), 0);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "3 new pairing(s)"));
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'proposed'"), 3);
    assert_true(db_int(f, "SELECT count(*) FROM outbox") >= 3); /* the proposals, queued */
    /* a second round at once makes nothing new: the mentors' slots are held */
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs"), 3);
}

static void
test_mentorctl_match_instance(void **state)
{
    struct fixture *f = *state;
    char ini[512], cmd[1200], out[8192], csv[512];

    write_config(f, ini, sizeof(ini));
    assert_int_equal(tu_write_file(f->dir, "pool.csv",
                                   "# role,id,tags,languages,tz,capacity,load,waiting_days\n"
                                   "role,id,tags,languages,tz,capacity,load,waiting_days\n"
                                   "mentor,1,rust;docs,english,UTC,2,0,\n"
                                   "mentor,2,python,spanish;english,Europe/Madrid,2,1,\n"
                                   "newcomer,10,rust,english,UTC,,,3\n"
                                   "newcomer,11,python,spanish,UTC+01:00,,,1\n"
                                   "newcomer,12,haskell,french,UTC,,,9\n"),
                     0);
    snprintf(csv, sizeof(csv), "%s/pool.csv", f->dir);
    /* The mentorctl of this build (build-san's in the sanitizer run); make builds it first. */
    assert_int_equal(access(MENTORD_BUILDDIR "/mentorctl", X_OK), 0);
    snprintf(cmd, sizeof(cmd), "%s/mentorctl -c %s match --instance %s 2>&1", MENTORD_BUILDDIR, ini,
             csv);
    assert_int_equal(run(cmd, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "10 \xe2\x86\x92 1"));
    assert_non_null(strstr(out, "11 \xe2\x86\x92 2"));
    assert_non_null(strstr(out, "waiting: 12"));
    assert_non_null(strstr(out, "pairs: 2"));
    assert_non_null(strstr(out, "total: "));
    /* a bad row is an error naming its line */
    assert_int_equal(tu_write_file(f->dir, "bad.csv", "mentor,1,rust,english,UTC,x,0\n"), 0);
    snprintf(cmd, sizeof(cmd), "%s/mentorctl -c %s match --instance %s/bad.csv 2>&1",
             MENTORD_BUILDDIR, ini, f->dir);
    assert_int_equal(run(cmd, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "bad.csv:1"));
}

/* ---- circles ---- */

static const char python_profile[] = "skills: python\nlanguages: english\ntime zone: UTC\n";
static const char js_profile[] = "skills: javascript\nlanguages: english\ntime zone: UTC\n";

/*
 * Mode circles, circles of at most 3: m1 (rust, one slot) and m2 (python,
 * one slot); newcomers r1..r4 (rust, r1 waiting longest), p1, p2 (python), j1 (js).
 */
static void
circles_community(struct fixture *f, int accepts)
{
    char addr[64], name[32];

    f->cfg.matching.mode = "circles";
    f->cfg.matching.circle_size = 3;
    f->cfg.matching.mentor_accepts = accepts;
    add_member(f, "m1@mentor.test", "Mentor1 Smith", "mentor",
               "skills: rust, documentation\nlanguages: english\ntime zone: UTC\ncapacity: 1\n",
               T0 - 60 * DAY);
    add_member(f, "m2@mentor.test", "Mentor2 Smith", "mentor",
               "skills: python\nlanguages: english\ntime zone: UTC\ncapacity: 1\n", T0 - 60 * DAY);
    for (int i = 0; i < 4; i++) {
        snprintf(addr, sizeof(addr), "r%d@new.test", i + 1);
        snprintf(name, sizeof(name), "Rusty%d Jones", i + 1);
        add_member(f, addr, name, "newcomer", rust_profile, T0 - (20 - i) * DAY);
    }
    add_member(f, "p1@new.test", "Pyla One", "newcomer", python_profile, T0 - 10 * DAY);
    add_member(f, "p2@new.test", "Pyla Two", "newcomer", python_profile, T0 - 9 * DAY);
    add_member(f, "j1@new.test", "Jay Script", "newcomer", js_profile, T0 - 30 * DAY);
}

/* The circle id of a newcomer's newest pair (0: none). */
static int
circle_of(struct fixture *f, const char *newcomer)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "SELECT coalesce((SELECT p.circle FROM pairs p JOIN members n ON p.newcomer = n.id"
             " WHERE n.address = '%s' ORDER BY p.id DESC LIMIT 1), 0)",
             newcomer);
    return db_int(f, sql);
}

/* Circle introductions queued to rcpt. */
static int
circle_intros_to(struct fixture *f, const char *rcpt)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM outbox WHERE recipient = '%s' AND headers LIKE"
             " '%%your circle on%%'",
             rcpt);
    return db_int(f, sql);
}

/* The newest circle introduction to rcpt, headers and body. */
static void
circle_intro_text(struct fixture *f, const char *rcpt, char *buf, size_t len)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "SELECT headers || body FROM outbox WHERE recipient = '%s' AND headers LIKE"
             " '%%your circle on%%' ORDER BY id DESC LIMIT 1",
             rcpt);
    db_text(f, sql, buf, len);
}

static void
test_circles_group_by_topic_size_and_slots(void **state)
{
    struct fixture *f = *state;

    circles_community(f, 0);
    assert_int_equal(round_at(f, T0), 5);
    /* two circles: the three longest-waiting rust newcomers with m1, both python ones with m2 */
    assert_int_equal(db_int(f, "SELECT count(DISTINCT circle) FROM pairs"), 2);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE circle IS NULL"), 0);
    int rust = circle_of(f, "r1@new.test"), py = circle_of(f, "p1@new.test");
    assert_true(rust > 0 && py > 0 && rust != py);
    assert_int_equal(circle_of(f, "r2@new.test"), rust);
    assert_int_equal(circle_of(f, "r3@new.test"), rust);
    assert_int_equal(circle_of(f, "p2@new.test"), py);
    /* size capped at 3: r4 waits; j1 shares no topic with any mentor */
    assert_int_equal(circle_of(f, "r4@new.test"), 0);
    assert_int_equal(circle_of(f, "j1@new.test"), 0);
    assert_int_equal(db_int(f, "SELECT count(DISTINCT mentor) FROM pairs p WHERE circle ="
                               " (SELECT circle FROM pairs WHERE id = 1)"),
                     1);
    assert_int_equal(pairs_of(f, "r1@new.test", "m1@mentor.test"), 1);
    assert_int_equal(pairs_of(f, "p1@new.test", "m2@mentor.test"), 1);
    /* the circle id is its first pair's id */
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE circle NOT IN (SELECT min(id)"
                               " FROM pairs GROUP BY circle)"),
                     0);
    /* a circle fills the mentor's one slot: the next round makes nothing */
    assert_int_equal(round_at(f, T0 + 2 * HOUR), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs"), 5);
    /* with two slots, m1 takes a second circle - but one newcomer alone is not a circle */
    assert_int_equal(store_member_upsert(f->st, "m1@mentor.test", NULL, NULL, NULL,
                                         "skills: rust\nlanguages: english\ntime zone: UTC\n"
                                         "capacity: 2\n",
                                         T0, NULL),
                     0);
    assert_int_equal(round_at(f, T0 + 3 * HOUR), 0);
    add_member(f, "r5@new.test", "Rusty5 Jones", "newcomer", rust_profile, T0);
    assert_int_equal(round_at(f, T0 + 4 * HOUR), 2);
    assert_int_equal(circle_of(f, "r4@new.test"), circle_of(f, "r5@new.test"));
    assert_true(circle_of(f, "r4@new.test") != rust);
}

static void
test_circles_dry_run_prints_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    circles_community(f, 1);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(pairing_match_round(&f->cfg, f->st, T0, 1, out), 5);
    store_rollback(f->st);
    assert_int_equal(fclose(out), 0);
    assert_non_null(strstr(text, "circle on rust with m1@mentor.test"));
    assert_non_null(strstr(text, "r1@new.test r2@new.test r3@new.test"));
    assert_non_null(strstr(text, "circle on python with m2@mentor.test"));
    assert_non_null(strstr(text, "waiting: j1@new.test"));
    assert_non_null(strstr(text, "circles: 2  newcomers: 5"));
    free(text);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs"), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox"), 0);
}

static void
test_circle_introduction_once_per_member(void **state)
{
    struct fixture *f = *state;
    char text[16384];

    circles_community(f, 0);
    assert_int_equal(round_at(f, T0), 5);
    run_due_at(f, T0 + HOUR);
    run_due_at(f, T0 + 2 * HOUR); /* nothing runs twice */
    const char *circle[] = {"m1@mentor.test", "r1@new.test", "r2@new.test", "r3@new.test"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(circle_intros_to(f, circle[i]), 1);
        circle_intro_text(f, circle[i], text, sizeof(text));
        assert_non_null(strstr(text, "your circle on rust"));
        /* everyone in the circle by first name and address, and the mentor */
        assert_non_null(strstr(text, "Mentor1 <m1@mentor.test>"));
        assert_non_null(strstr(text, "Rusty1 <r1@new.test>"));
        assert_non_null(strstr(text, "Rusty2 <r2@new.test>"));
        assert_non_null(strstr(text, "Rusty3 <r3@new.test>"));
        /* exactly this circle: nobody from the waiting list or the other circle */
        assert_null(strstr(text, "r4@new.test"));
        assert_null(strstr(text, "p1@new.test"));
        assert_null(strstr(text, "m2@mentor.test"));
        assert_non_null(strstr(text, "first step"));
    }
    /* m2's python circle of two: two newcomers and the mentor, one mail each */
    assert_int_equal(circle_intros_to(f, "m2@mentor.test"), 1);
    assert_int_equal(circle_intros_to(f, "p1@new.test"), 1);
    assert_int_equal(circle_intros_to(f, "p2@new.test"), 1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox WHERE headers LIKE '%your circle%'"),
                     7);
    /* no one-to-one introductions; check-ins stay per pair (3 pairs x 2 sides on day 3) */
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox WHERE headers LIKE '%meet%and%'"), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM schedule s JOIN pairs p ON s.pair = p.id"
                               " WHERE s.kind = 'checkin' AND s.arg = '3' AND p.circle = "
                               "(SELECT circle FROM pairs WHERE id = 1)"),
                     6);
}

static void
test_circle_proposal_accept_starts_all(void **state)
{
    struct fixture *f = *state;
    char text[16384];

    circles_community(f, 1);
    assert_int_equal(round_at(f, T0), 5);
    /* one proposal for the whole circle, with first names and no addresses */
    assert_int_equal(mails_to(f, "m1@mentor.test"), 1);
    mail_to(f, "m1@mentor.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "circle of 3 newcomers on rust"));
    assert_non_null(strstr(text, "Rusty1"));
    assert_non_null(strstr(text, "Rusty3"));
    assert_null(strstr(text, "@new.test"));
    assert_null(strstr(text, "Jones"));
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'proposed'"), 5);
    assert_int_equal(db_int(f, "SELECT count(*) FROM schedule WHERE kind = 'proposal-timeout'"), 2);
    reply_to_last(f, "m1@mentor.test", "Re: circle", "ACCEPT\r\n", T0 + HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs p JOIN members m ON p.mentor = m.id"
                               " WHERE m.address = 'm1@mentor.test' AND p.state = 'active'"),
                     3);
    assert_int_equal(db_int(f, "SELECT count(*) FROM members WHERE address IN ('r1@new.test',"
                               " 'r2@new.test', 'r3@new.test') AND waiting_since IS NULL"),
                     3);
    /* the thanks speaks of a circle, not of one mentee */
    mail_to(f, "m1@mentor.test", text, sizeof(text), NULL, 0);
    assert_non_null(strstr(text, "your new circle"));
    /* m2's circle is untouched by m1's answer */
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'proposed'"), 2);
    /* mentor once, each newcomer once */
    assert_int_equal(
        db_int(f, "SELECT count(*) FROM schedule WHERE kind = 'introduction' AND arg = 'circle'"),
        4);
    run_due_at(f, T0 + 2 * HOUR);
    assert_int_equal(circle_intros_to(f, "m1@mentor.test"), 1);
    assert_int_equal(circle_intros_to(f, "r2@new.test"), 1);
    /* the timeout of the accepted circle does nothing any more */
    run_due_at(f, T0 + 4 * DAY);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'active'"), 3);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'expired'"), 2);
}

static void
test_circle_decline_returns_everyone_to_the_list(void **state)
{
    struct fixture *f = *state;

    circles_community(f, 1);
    assert_int_equal(round_at(f, T0), 5);
    reply_to_last(f, "m1@mentor.test", "Re: circle", "DECLINE\r\n", T0 + HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs p JOIN members m ON p.mentor = m.id"
                               " WHERE m.address = 'm1@mentor.test' AND p.state = 'declined'"),
                     3);
    assert_int_equal(db_int(f, "SELECT count(*) FROM members WHERE address IN ('r1@new.test',"
                               " 'r2@new.test', 'r3@new.test') AND waiting_since IS NOT NULL"),
                     3);
    /* a later DECLINE or ACCEPT of the same circle changes nothing */
    reply_to_last(f, "m1@mentor.test", "Re: circle", "ACCEPT\r\n", T0 + 2 * HOUR);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'active'"), 0);
    /* m1 is never asked about them again; a new rust mentor gets all four waiting rust newcomers */
    assert_int_equal(round_at(f, T0 + 3 * HOUR), 0);
    add_member(f, "m3@mentor.test", "Mentor3 Smith", "mentor", rust_profile, T0);
    f->cfg.matching.circle_size = 4;
    assert_int_equal(round_at(f, T0 + 4 * HOUR), 4);
    for (int i = 1; i <= 4; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "r%d@new.test", i);
        assert_int_equal(pairs_of(f, addr, "m3@mentor.test"), 1);
        assert_int_equal(pairs_of(f, addr, "m1@mentor.test"), i <= 3 ? 1 : 0);
    }
}

static void
test_circle_timeout_expires_the_whole_circle(void **state)
{
    struct fixture *f = *state;

    circles_community(f, 1);
    assert_int_equal(round_at(f, T0), 5);
    run_due_at(f, T0 + 4 * DAY);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE state = 'expired'"), 5);
    /* silence counts once per circle proposal, not once per newcomer */
    assert_int_equal(db_int(f, "SELECT unanswered FROM members WHERE address = 'm1@mentor.test'"),
                     1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM members WHERE role = 'newcomer' AND"
                               " waiting_since IS NOT NULL"),
                     7);
}

/* Pairs mode: m1 (rust, one slot); r1..r3 waited 5-6 weeks, r4 two days. */
static void
peer_community(struct fixture *f)
{
    f->cfg.matching.mentor_accepts = 0;
    f->cfg.matching.circle_size = 4;
    f->cfg.matching.peer_circle_weeks = 4;
    add_member(f, "m1@mentor.test", "Mentor1 Smith", "mentor", rust_profile, T0 - 90 * DAY);
    add_member(f, "r1@new.test", "Rusty1 Jones", "newcomer", rust_profile, T0 - 42 * DAY);
    add_member(f, "r2@new.test", "Rusty2 Jones", "newcomer", rust_profile, T0 - 40 * DAY);
    add_member(f, "r3@new.test", "Rusty3 Jones", "newcomer", rust_profile, T0 - 35 * DAY);
    add_member(f, "r4@new.test", "Rusty4 Jones", "newcomer", rust_profile, T0 - 2 * DAY);
}

static void
test_peer_circle_after_waiting_weeks(void **state)
{
    struct fixture *f = *state;
    char text[16384];

    peer_community(f);
    /* without peer circles the one slot serves one newcomer */
    f->cfg.matching.peer_circle_weeks = 0;
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(pairing_match_round(&f->cfg, f->st, T0, 1, NULL), 1);
    store_rollback(f->st);
    /* with them, the three who waited four weeks or more share it as a peer circle */
    f->cfg.matching.peer_circle_weeks = 4;
    assert_int_equal(round_at(f, T0), 3);
    int c = circle_of(f, "r1@new.test");
    assert_true(c > 0);
    assert_int_equal(circle_of(f, "r2@new.test"), c);
    assert_int_equal(circle_of(f, "r3@new.test"), c);
    assert_int_equal(circle_of(f, "r4@new.test"), 0); /* two days is not long enough */
    assert_int_equal(pairs_of(f, "r1@new.test", "m1@mentor.test"), 1);
    run_due_at(f, T0 + HOUR);
    assert_int_equal(circle_intros_to(f, "m1@mentor.test"), 1);
    assert_int_equal(circle_intros_to(f, "r3@new.test"), 1);
    circle_intro_text(f, "r3@new.test", text, sizeof(text));
    assert_non_null(strstr(text, "Rusty1 <r1@new.test>"));
    assert_null(strstr(text, "r4@new.test"));
    /* the circle is one mentee's worth: the slot is full, r4 keeps waiting */
    assert_int_equal(round_at(f, T0 + 2 * HOUR), 0);
    assert_int_equal(circle_of(f, "r4@new.test"), 0);
}

static void
test_peer_circle_needs_a_free_mentor(void **state)
{
    struct fixture *f = *state;
    int64_t m1 = 0, x = 0, pair = 0;
    char ref[16];

    peer_community(f);
    /* m1's only slot is taken by someone else: long waiters keep waiting, no circle forms */
    m1 = db_int(f, "SELECT id FROM members WHERE address = 'm1@mentor.test'");
    x = add_member(f, "x@new.test", "Xa Other", "newcomer", rust_profile, T0 - 100 * DAY);
    assert_int_equal(store_member_set_waiting(f->st, "x@new.test", 0), 1);
    assert_int_equal(store_pair_add(f->st, x, m1, "active", 1000, "rust", T0 - DAY, T0 + 80 * DAY,
                                    &pair, ref, sizeof(ref)),
                     0);
    assert_int_equal(round_at(f, T0), 0);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE circle IS NOT NULL"), 0);
    /* a mentor without the topic oversees no circle: they take one newcomer one-to-one */
    add_member(f, "m2@mentor.test", "Mentor2 Smith", "mentor", python_profile, T0);
    assert_int_equal(round_at(f, T0 + HOUR), 1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE circle IS NOT NULL"), 0);
    /* below peer_circle_weeks of waiting, a free rust slot goes one-to-one */
    f->cfg.matching.peer_circle_weeks = 52;
    add_member(f, "m3@mentor.test", "Mentor3 Smith", "mentor", rust_profile, T0);
    assert_int_equal(round_at(f, T0 + 2 * HOUR), 1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM pairs WHERE circle IS NOT NULL"), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/*
 * A mentor who confirms and is proposed a newcomer in the same run gets one
 * mail on their first day: the proposal carries the welcome and their profile.
 * At night the welcome goes at once and the proposal waits for the morning.
 */
static void
test_welcome_rides_with_the_first_proposal(void **state)
{
    struct fixture *f = *state;
    char ref[32], buf[8192], subject[128];
    time_t now = T0 + HOUR; /* 10:00 UTC: daytime for a mentor without a time zone */

    add_member(f, "new@new.test", "Nia Newman", "newcomer",
               "skills: python\nlanguages: english\ntime zone: UTC\n", T0 - DAY);
    deliver_at(f,
               mail(f, "Mo Mentor <mo@mentor.test>", "volunteer", NULL,
                    "I'd like to mentor.\r\nSkills: python, packaging\r\nLanguages: English\r\n"
                    "Time zone: UTC\r\n"),
               now);
    db_text(f, "SELECT token FROM tokens WHERE closed IS NULL", ref, sizeof(ref));
    assert_true(ref[0] != '\0');
    snprintf(subject, sizeof(subject), "Re: Please confirm [ref %s]", ref);
    deliver_at(f, mail(f, "Mo Mentor <mo@mentor.test>", subject, NULL, "ok\r\n"), now + 60);
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox WHERE template = 'mentor'"), 1);
    assert_int_equal(round_at(f, now + 60), 1);
    /* The welcome is withdrawn; the proposal says it, with what Mo told us. */
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox WHERE template = 'mentor'"), 0);
    db_text(f, "SELECT body FROM outbox WHERE template = 'proposal'", buf, sizeof(buf));
    assert_non_null(strstr(buf, "Thank you for confirming"));
    assert_non_null(strstr(buf, "packaging"));
    assert_non_null(strstr(buf, "would be a good mentor for Nia"));

    /* At night (02:00 UTC) the welcome stays on its own. */
    add_member(f, "new2@new.test", "Ola Newman", "newcomer",
               "skills: rust\nlanguages: english\ntime zone: UTC\n", T0 - DAY);
    time_t night = T0 + DAY - 7 * HOUR;
    deliver_at(f,
               mail(f, "Ru Mentor <ru@mentor.test>", "volunteer", NULL,
                    "I'd like to mentor.\r\nSkills: rust\r\nLanguages: English\r\n"
                    "Time zone: UTC\r\n"),
               night);
    db_text(f, "SELECT token FROM tokens WHERE closed IS NULL", ref, sizeof(ref));
    snprintf(subject, sizeof(subject), "Re: Please confirm [ref %s]", ref);
    deliver_at(f, mail(f, "Ru Mentor <ru@mentor.test>", subject, NULL, "ok\r\n"), night + 60);
    assert_int_equal(round_at(f, night + 60), 1);
    assert_int_equal(db_int(f, "SELECT count(*) FROM outbox WHERE template = 'mentor' AND "
                               "recipient = 'ru@mentor.test'"),
                     1);
    db_text(f,
            "SELECT body FROM outbox WHERE template = 'proposal' AND recipient = 'ru@mentor.test'",
            buf, sizeof(buf));
    assert_null(strstr(buf, "Thank you for confirming"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_round_proposes_without_addresses),
        T(test_welcome_rides_with_the_first_proposal),
        T(test_dry_run_changes_nothing),
        T(test_waitlist_note_at_most_weekly),
        T(test_capacity_respected_across_rounds),
        T(test_accept_starts_the_pair),
        T(test_decline_then_another_mentor_never_the_same),
        T(test_timeout_expires_and_counts_silence),
        T(test_reply_without_answer_asks_again),
        T(test_plain_accept_and_rating_as_a_new_mail),
        T(test_stranger_accept_does_nothing),
        T(test_done_ends_and_asks_both_for_feedback),
        T(test_rematch_blocks_and_keeps_priority),
        T(test_mentor_accepts_off_pairs_at_once),
        T(test_rotation_requeues_after_pair_end),
        T(test_pairs_mode_does_not_rotate),
        T(test_buddies_any_member_short_period),
        T(test_buddies_with_acceptance_short_period),
        T(test_circles_group_by_topic_size_and_slots),
        T(test_circles_dry_run_prints_and_changes_nothing),
        T(test_circle_introduction_once_per_member),
        T(test_circle_proposal_accept_starts_all),
        T(test_circle_decline_returns_everyone_to_the_list),
        T(test_circle_timeout_expires_the_whole_circle),
        T(test_peer_circle_after_waiting_weeks),
        T(test_peer_circle_needs_a_free_mentor),
        T(test_mentorctl_match_dry_run),
        T(test_mentorctl_match_now),
        T(test_mentorctl_match_instance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
