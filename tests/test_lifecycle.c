/*
 * The programme over weeks on the real store and templates: introductions,
 * check-ins at the right (daytime) hours exactly once, batched and
 * burnout-aware reminders, silent mentors, pauses, feedback answers in
 * several styles, the end of a pairing, milestones and leaving.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "alerts.h"
#include "lifecycle.h"
#include "quiet.h"
#include "schedule.h"
#include "mail.h"
#include "programme.h"
#include "reply.h"
#include "store.h"
#include "teststore.h"
#include "testutil.h"

#define T0 1767258000 /* 2026-01-01 09:00 UTC */
#define HOUR 3600
#define DAY 86400

static int
setup(void **state)
{
    if (ts_setup(state, "life") != 0)
        return -1;
    return 0;
}

static int
teardown(void **state)
{
    return ts_teardown(state);
}

static int64_t
member(struct fixture *f, const char *addr, const char *name, const char *role, const char *profile)
{
    int64_t id = 0;

    assert_int_equal(store_member_upsert(f->st, addr, name, role, "active", profile, T0 - DAY, &id),
                     0);
    return id;
}

static int64_t
pair_at(struct fixture *f, int64_t newcomer, int64_t mentor, const char *reasons, time_t t)
{
    int64_t id = 0;
    char ref[32];

    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_pair_add(f->st, newcomer, mentor, "active", 100, reasons, t,
                                    t + f->cfg.lifecycle.length, &id, ref, sizeof(ref)),
                     0);
    assert_int_equal(lifecycle_pair_started(&f->cfg, f->st, id, t), 0);
    assert_int_equal(store_commit(f->st), 0);
    return id;
}

/* The end of a daemon run: the alerts it raised go to the managers in one mail. */
static void
flush_alerts(struct fixture *f, time_t t)
{
    assert_int_equal(store_begin(f->st), 0);
    assert_true(alerts_flush(&f->cfg, f->st, t) >= 0);
    assert_int_equal(store_commit(f->st), 0);
}

/* Everything due at t, each in its own transaction like the daemon; the number run. */
static int
run_at(struct fixture *f, time_t t)
{
    int n = 0, rc;

    do {
        assert_int_equal(store_begin(f->st), 0);
        rc = schedule_run_due(&f->cfg, f->st, t);
        assert_true(rc >= 0);
        assert_int_equal(store_commit(f->st), 0);
        n += rc;
        assert_true(n < 10000);
    } while (rc == 1);
    flush_alerts(f, t);
    return n;
}

/* Live through [from, to] hour by hour. */
static void
live(struct fixture *f, time_t from, time_t to)
{
    for (time_t t = from; t <= to; t += HOUR)
        run_at(f, t);
}

static int
sql_int(struct fixture *f, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *stmt;
    int v = -1;

    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &stmt, NULL), SQLITE_OK);
    if (a)
        sqlite3_bind_text(stmt, 1, a, -1, SQLITE_TRANSIENT);
    if (b)
        sqlite3_bind_text(stmt, 2, b, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
}

/* Mail to rcpt whose headers or body contain like (a LIKE pattern part). */
static int
mails(struct fixture *f, const char *rcpt, const char *like)
{
    char pat[256];

    snprintf(pat, sizeof(pat), "%%%s%%", like);
    return sql_int(f,
                   "SELECT count(*) FROM outbox WHERE recipient = ?1"
                   " AND (headers LIKE ?2 OR body LIKE ?2)",
                   rcpt, pat);
}

/* The body of the newest mail to rcpt matching like (malloc'd). */
static char *
body_of(struct fixture *f, const char *rcpt, const char *like)
{
    sqlite3_stmt *stmt;
    char pat[256], *out = NULL;

    snprintf(pat, sizeof(pat), "%%%s%%", like);
    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT headers || body FROM outbox WHERE recipient = ?1"
                                        " AND (headers LIKE ?2 OR body LIKE ?2) ORDER BY id DESC",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, rcpt, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, pat, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        out = strdup((const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    assert_non_null(out);
    return out;
}

#define MENTOR "maria@example.test"
#define MENTEE "ben@example.test"

static void
test_introduction_together(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria Lopez", "mentor", "Skills: rust\nCapacity: 2\n");
    int64_t n = member(f, MENTEE, "Ben Okafor", "newcomer", "Skills: rust, docs\n");

    pair_at(f, n, m, "you both listed Rust\none hour apart", T0);
    assert_int_equal(run_at(f, T0), 3); /* two introductions and a first-mentee milestone */
    char *b = body_of(f, MENTEE, "Please meet each other");
    assert_non_null(strstr(b, MENTOR));
    assert_non_null(strstr(b, MENTEE));
    assert_non_null(strstr(b, "you both listed Rust"));
    assert_non_null(strstr(b, "one hour apart"));
    assert_non_null(strstr(b, "does not do the work"));
    assert_non_null(strstr(b, "HELP"));
    assert_non_null(strstr(b, "first step"));
    free(b);
    assert_int_equal(mails(f, MENTOR, "Please meet each other"), 1);
    /* Four check-ins to each side and one end. */
    assert_int_equal(sql_int(f, "SELECT count(*) FROM schedule WHERE kind = 'checkin'", NULL, NULL),
                     8);
    assert_int_equal(
        sql_int(f, "SELECT count(*) FROM schedule WHERE kind = 'pair-end'", NULL, NULL), 1);
    /* Later mail to the mentor never carries the mentee's address. */
    live(f, T0 + HOUR, T0 + 15 * DAY);
    assert_int_equal(mails(f, MENTOR, MENTEE), 1);
    assert_int_equal(mails(f, MENTEE, MENTOR), 1);
}

static void
test_introduction_separate(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria Lopez", "mentor", NULL);
    int64_t n = member(f, MENTEE, "Ben Okafor", "newcomer", "Skills: go\n");

    f->cfg.lifecycle.introduction = "separate";
    pair_at(f, n, m, "you both listed Go", T0);
    run_at(f, T0);
    assert_int_equal(mails(f, MENTEE, "We found you a mentor"), 1);
    assert_int_equal(mails(f, MENTOR, "for mentoring Ben"), 1);
    char *b = body_of(f, MENTOR, "for mentoring Ben");
    assert_non_null(strstr(b, "Skills: go"));
    free(b);
}

/* People who gave no name are not called by their address; the address is how to reach them. */
static void
test_introduction_without_names(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, NULL, "mentor", NULL);
    int64_t n = member(f, MENTEE, NULL, "newcomer", NULL);

    pair_at(f, n, m, NULL, T0);
    run_at(f, T0);
    for (int i = 0; i < 2; i++) {
        const char *to = i ? MENTOR : MENTEE, *other = i ? MENTEE : MENTOR;
        assert_int_equal(mails(f, to, "mentoring: an introduction"), 1);
        char *b = body_of(f, to, "mentoring: an introduction");
        char contact[128];
        snprintf(contact, sizeof(contact), "<%s>", other);
        assert_non_null(strstr(b, contact));
        assert_non_null(strstr(b, "Hello to you both,"));
        assert_null(strstr(b, "meet ben@"));
        assert_null(strstr(b, "meet maria@"));
        assert_null(strstr(b, "Hello ben@"));
        free(b);
    }
    /* The same, one mail each. */
    f->cfg.lifecycle.introduction = "separate";
    int64_t n2 = member(f, "cy@example.test", NULL, "newcomer", NULL);
    pair_at(f, n2, m, NULL, T0 + DAY);
    run_at(f, T0 + DAY);
    assert_int_equal(mails(f, "cy@example.test", "mentoring: meet your mentor"), 1);
    assert_int_equal(mails(f, MENTOR, "mentoring: meet your mentee"), 1);
    char *b = body_of(f, "cy@example.test", "meet your mentor");
    assert_non_null(strstr(b, "We found you a mentor: <" MENTOR ">"));
    assert_non_null(strstr(b, "reaches your mentor (not us)"));
    free(b);
}

static void
test_checkins_on_time_exactly_once(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria", "mentor", NULL);
    int64_t n = member(f, MENTEE, "Ben", "newcomer", NULL);

    pair_at(f, n, m, NULL, T0);
    live(f, T0, T0 + 3 * DAY - HOUR);
    assert_int_equal(mails(f, MENTEE, "How is it going"), 0);
    live(f, T0 + 3 * DAY, T0 + 3 * DAY + 2 * HOUR);
    assert_int_equal(mails(f, MENTEE, "How is it going"), 1);
    assert_int_equal(mails(f, MENTEE, "Have you met yet"), 1);
    /* Asked again and again at the same time: nothing more. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(run_at(f, T0 + 3 * DAY + 2 * HOUR), 0);
    live(f, T0 + 3 * DAY + 3 * HOUR, T0 + 20 * DAY);
    assert_int_equal(mails(f, MENTEE, "How is it going"), 2);
    assert_int_equal(mails(f, MENTOR, "How is it going"), 2);
    /* The check-in carries the pair's ref for threading, in the Subject and the outbox. */
    assert_int_equal(sql_int(f,
                             "SELECT count(*) FROM outbox o JOIN pairs p ON o.ref = p.ref"
                             " WHERE o.recipient = ?1 AND o.headers LIKE '%[ref %'",
                             MENTEE, NULL),
                     2);
    assert_int_equal(store_schedule_next_due(f->st), T0 + 30 * DAY);
    assert_int_equal(schedule_next_due(&f->cfg, f->st), T0 + 30 * DAY);
}

/* Mail nobody asked for (proposals, notices, alerts) waits for the recipient's morning. */
static void
test_morning_for_unasked_mail(void **state)
{
    struct fixture *f = *state;
    time_t midnight = T0 - 9 * HOUR; /* 2026-01-01 00:00 UTC */

    /* 15:00 UTC is midnight in Tokyo: 08:00 there is 23:00 UTC. */
    assert_int_equal(quiet_morning(&f->cfg, 9 * 60, midnight + 15 * HOUR), midnight + 23 * HOUR);
    /* 07:00 UTC is 02:00 in New York (UTC-5): 08:00 there is 13:00 UTC. */
    assert_int_equal(quiet_morning(&f->cfg, -5 * 60, midnight + 7 * HOUR), midnight + 13 * HOUR);
    /* Daytime: at once; 20:59 is still day, 21:00 is night until tomorrow's 08:00. */
    assert_int_equal(quiet_morning(&f->cfg, 0, midnight + 13 * HOUR), midnight + 13 * HOUR);
    assert_int_equal(quiet_morning(&f->cfg, 60, midnight + 19 * HOUR + 59 * 60),
                     midnight + 19 * HOUR + 59 * 60);
    assert_int_equal(quiet_morning(&f->cfg, 60, midnight + 20 * HOUR), midnight + DAY + 7 * HOUR);
    assert_int_equal(quiet_morning_in(&f->cfg, "Time zone: Asia/Tokyo\n", midnight + 15 * HOUR),
                     midnight + 23 * HOUR);
    /* No zone in the profile: UTC. */
    assert_int_equal(quiet_morning_in(&f->cfg, "", midnight + 23 * HOUR),
                     midnight + DAY + 8 * HOUR);
}

static void
test_never_at_night_in_tokyo(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria", "mentor", "Time zone: Europe/London\n");
    int64_t n = member(f, MENTEE, "Ben", "newcomer", "Time zone: Asia/Tokyo\n");

    /* 15:00 UTC is midnight in Tokyo (UTC+9): the mentee's mail waits for 08:00 there. */
    time_t start = T0 + 6 * HOUR;
    pair_at(f, n, m, NULL, start);
    live(f, start, start + 40 * DAY);
    assert_true(mails(f, MENTEE, "How is it going") >= 3);
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT created, recipient FROM outbox WHERE kind ="
                                        " 'scheduled'",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    int seen = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        long long t = sqlite3_column_int64(stmt, 0);
        int tokyo = strcmp((const char *)sqlite3_column_text(stmt, 1), MENTEE) == 0;
        int hour = (int)(((t + (tokyo ? 9 * HOUR : 0)) % DAY) / HOUR);
        if (hour >= 21 || hour < 8)
            fail_msg("mail to %s at local hour %d", sqlite3_column_text(stmt, 1), hour);
        seen++;
    }
    sqlite3_finalize(stmt);
    assert_true(seen >= 6);
    /* The mentor in London got the introduction at once; the mentee at 08:00 Tokyo time. */
    assert_int_equal(
        sql_int(f, "SELECT min(created) FROM outbox WHERE recipient = ?1", MENTEE, NULL),
        start + 8 * HOUR);
    assert_int_equal(
        sql_int(f, "SELECT min(created) FROM outbox WHERE recipient = ?1", MENTOR, NULL), start);
}

static void
test_reminders_batched_and_silent_mentor(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria", "mentor", "Capacity: 6\n");
    const char *who[3] = {"ann@example.test", "bob@example.test", "cy@example.test"};
    const char *names[3] = {"Ann", "Bob", "Cy"};

    for (int i = 0; i < 3; i++)
        pair_at(f, member(f, who[i], names[i], "newcomer", NULL), m, NULL, T0);
    live(f, T0, T0 + 50 * DAY);
    int reminders = mails(f, MENTOR, "A few things waiting");
    assert_true(reminders >= 1);
    /* Never two reminders within a period. */
    assert_int_equal(sql_int(f,
                             "SELECT count(*) FROM outbox a JOIN outbox b ON a.id < b.id"
                             " WHERE a.recipient = ?1 AND b.recipient = ?1"
                             " AND a.headers LIKE '%A few things waiting%'"
                             " AND b.headers LIKE '%A few things waiting%'"
                             " AND b.created - a.created < 7 * 86400",
                             MENTOR, NULL),
                     0);
    assert_true(reminders <= 3);
    /* The first reminder names all three mentees. */
    assert_int_equal(sql_int(f,
                             "SELECT body LIKE '%Ann:%' AND body LIKE '%Bob:%'"
                             " AND body LIKE '%Cy:%' FROM outbox WHERE recipient = ?1"
                             " AND headers LIKE '%A few things waiting%' ORDER BY id",
                             MENTOR, NULL),
                     1);
    /* Silent through two check-ins: each mentee is offered a new mentor, managers told. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(mails(f, who[i], "Would you like another mentor"), 1);
    /* One alert per pair, all raised in the same run: one mail to the manager. */
    assert_int_equal(sql_int(f,
                             "SELECT count(*) FROM manager_alerts WHERE sent IS NOT NULL"
                             " AND body LIKE '%has not answered the last check-ins%'",
                             NULL, NULL),
                     3);
    assert_int_equal(mails(f, "boss@example.test", "has not answered the last check-ins"), 1);
    assert_int_equal(mails(f, "boss@example.test", "3 pairs need attention"), 1);
    /* No Unsubscribe button that would make a manager leave. */
    assert_int_equal(mails(f, "boss@example.test", "List-Unsubscribe"), 0);
    assert_int_equal(store_event_count(f->st, "silent"), 3);
    assert_true(sql_int(f, "SELECT unanswered FROM members WHERE address = ?1", MENTOR, NULL) >= 6);
}

/* One mentee, the mentor silent after day 3; the reminder goes out on day 15. */
static void
overloaded(struct fixture *f, int unanswered_before, int low_ratings)
{
    int64_t m = member(f, MENTOR, "Maria", "mentor", NULL);
    int64_t n = member(f, MENTEE, "Ben", "newcomer", NULL);
    int64_t p = pair_at(f, n, m, NULL, T0);

    live(f, T0, T0 + 4 * DAY);
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE members SET unanswered = %d WHERE id = %lld",
             unanswered_before, (long long)m);
    assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
    for (int i = 0; i < low_ratings; i++) {
        struct store_feedback fb = {
            .pair = p, .member = n, .role = "newcomer", .at = T0 + 4 * DAY, .rating = 1, .met = 1};
        assert_int_equal(store_feedback_add(f->st, &fb, NULL), 0);
    }
    live(f, T0 + 4 * DAY + HOUR, T0 + 20 * DAY);
}

static void
test_reminder_softened_under_load(void **state)
{
    struct fixture *f = *state;

    overloaded(f, 1, 0); /* 1/1 mentees + 2 unanswered = 1.5: softened */
    assert_int_equal(mails(f, MENTOR, "A few things waiting"), 1);
    char *b = body_of(f, MENTOR, "A few things waiting");
    assert_non_null(strstr(b, "gentle"));
    assert_non_null(strstr(b, "PAUSE"));
    assert_non_null(strstr(b, "Ben: the day 14 check-in is still waiting"));
    free(b);
    assert_int_equal(store_event_count(f->st, "burnout"), 1);
}

static void
test_reminder_normal_and_held(void **state)
{
    struct fixture *f = *state;

    overloaded(f, 0, 0); /* 1/1 + 1 unanswered = 1.25: an ordinary reminder */
    assert_int_equal(mails(f, MENTOR, "A few things waiting"), 1);
    char *b = body_of(f, MENTOR, "A few things waiting");
    assert_null(strstr(b, "PAUSE"));
    free(b);
    teardown(state);
    setup(state);
    f = *state;
    overloaded(f, 0, 3); /* + three low ratings = 2.75: held back */
    assert_int_equal(sql_int(f,
                             "SELECT count(*) FROM schedule WHERE kind = 'reminder'"
                             " AND outcome = 'held'",
                             NULL, NULL),
                     1);
    assert_int_equal(mails(f, MENTOR, "A few things waiting"), 0);
    assert_int_equal(store_event_count(f->st, "burnout"), 1);
}

static void
test_paused_mentor_gets_only_the_pause_note(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria", "mentor", NULL);
    int64_t n = member(f, MENTEE, "Ben", "newcomer", NULL);

    pair_at(f, n, m, NULL, T0);
    run_at(f, T0);
    int before = sql_int(f, "SELECT count(*) FROM outbox WHERE recipient = ?1", MENTOR, NULL);
    assert_int_equal(store_member_set_state(f->st, MENTOR, "paused", T0 + 10 * DAY, T0), 1);
    assert_true(schedule_next_due(&f->cfg, f->st) <= T0);
    live(f, T0 + HOUR, T0 + 10 * DAY - HOUR);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM outbox WHERE recipient = ?1", MENTOR, NULL),
                     before + 1);
    assert_int_equal(mails(f, MENTOR, "break ends on"), 1);
    assert_int_equal(mails(f, MENTEE, "How is it going"), 1); /* the mentee's day 3 went out */
    /* At the end of the pause: active again, with the break recorded; check-ins resume. */
    live(f, T0 + 10 * DAY, T0 + 15 * DAY);
    struct store_member mem;
    assert_int_equal(store_member_get(f->st, MENTOR, &mem), 1);
    assert_string_equal(mem.state, "active");
    assert_int_equal(mem.last_break, T0 + 10 * DAY);
    store_member_free(&mem);
    assert_int_equal(mails(f, MENTOR, "How is it going"), 1);
    assert_int_equal(mails(f, MENTOR, "break ends on"), 1);
}

/* A reply to a check-in, as a client would send it; irt: the Message-ID answered, or NULL. */
static void
answer_to(struct fixture *f, int64_t pair, const char *from, const char *body, time_t now,
          const char *irt)
{
    char *raw = NULL;
    struct mail *m = NULL;
    char err[256], detail[512];

    assert_true(asprintf(&raw,
                         "From: Someone <%s>\r\nTo: mentors@example.test\r\n"
                         "Subject: Re: How is it going?\r\nMessage-ID: <a%lld@c.test>\r\n"
                         "%s%s%s\r\n%s",
                         from, (long long)now, irt ? "In-Reply-To: <" : "", irt ? irt : "",
                         irt ? ">\r\n" : "", body) > 0);
    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof(err)), 0);
    struct respond_ctx c = {.cfg = &f->cfg,
                            .st = f->st,
                            .m = m,
                            .now = now,
                            .detail = detail,
                            .detail_len = sizeof(detail)};
    char *text = reply_extract(m->text);
    assert_non_null(text);
    c.text = text;
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(lifecycle_checkin_reply(&c, pair), 0);
    assert_int_equal(store_commit(f->st), 0);
    respond_forget(&c); /* what the answer read of the sender (respond.h) */
    flush_alerts(f, now);
    free(text);
    mail_free(m);
    free(raw);
}

static void
answer(struct fixture *f, int64_t pair, const char *from, const char *body, time_t now)
{
    answer_to(f, pair, from, body, now, NULL);
}

static void
last_feedback(struct fixture *f, int *rating, int *met)
{
    *rating = sql_int(f, "SELECT coalesce(rating, 0) FROM feedback ORDER BY id DESC", NULL, NULL);
    *met = sql_int(f, "SELECT coalesce(met, -1) FROM feedback ORDER BY id DESC", NULL, NULL);
}

static void
test_feedback_styles(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria", "mentor", NULL);
    int64_t n = member(f, MENTEE, "Ben", "newcomer", NULL);
    int64_t p = pair_at(f, n, m, NULL, T0);
    int rating, met;
    static const struct {
        const char *body;
        int rating, met;
    } cases[] = {
        {"4\r\n", 4, 1},
        {"4/5 \xe2\x80\x93 great, we had two calls\r\n", 4, 1},
        {"Rating: 5\r\nMaria is lovely.\r\n", 5, 1},
        {"\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x86 going well\r\n", 4, 1},
        {"Great!\r\n", 5, 1},
        {"We met 3 times and it is going well.\r\n", 0, 1},
        {"3 out of 5, busy weeks\r\n", 3, 1},
        {"Gut, 4\r\n\r\nAm 04.01.2026 schrieb Example Community:\r\n> reply with a number from 1"
         " (not well) to 5\r\n> 2\r\n",
         4, 1},
        {"5\r\n\r\nOn Sun, Jan 4, 2026 at 9:00 AM Example Community <mentors@example.test>"
         " wrote:\r\n> Have you met yet? 1\r\n",
         5, 1},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        answer(f, p, MENTEE, cases[i].body, T0 + 4 * DAY + (time_t)i);
        last_feedback(f, &rating, &met);
        if (rating != cases[i].rating || met != cases[i].met)
            fail_msg("case %zu: rating %d met %d, want %d %d", i, rating, met, cases[i].rating,
                     cases[i].met);
    }
    /* Nothing worrying in these: recorded, and no thank-you mail for each ([lifecycle] thanks). */
    assert_int_equal(mails(f, MENTEE, "Thank you for your answer"), 0);
    /* The comment is the person's own words, without the quoted mail. */
    assert_int_equal(
        sql_int(f, "SELECT count(*) FROM feedback WHERE comment LIKE '%wrote:%'", NULL, NULL), 0);
    assert_int_equal(mails(f, "boss@example.test", "needs attention"), 0);
}

/* A whole mail through the daemon's decision path at now; irt: the Message-ID answered. */
static void
deliver_mail(struct fixture *f, const char *from, const char *subject, const char *body, time_t now,
             const char *irt)
{
    char *raw = NULL;
    struct mail *m = NULL;
    struct programme_result res;
    char err[256];

    assert_true(asprintf(&raw,
                         "From: %s\r\nTo: mentors@example.test\r\nSubject: %s\r\n"
                         "Message-ID: <d%lld@c.test>\r\n%s%s%s\r\n%s",
                         from, subject, (long long)now, irt ? "In-Reply-To: <" : "", irt ? irt : "",
                         irt ? ">\r\n" : "", body) > 0);
    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof(err)), 0);
    assert_int_equal(store_begin(f->st), 0);
    if (programme_handle_mail(&f->cfg, f->st, m, raw, strlen(raw), strlen(raw), now, &res) != 0)
        fail_msg("programme_handle_mail: %s", res.detail);
    assert_int_equal(store_commit(f->st), 0);
    flush_alerts(f, now);
    mail_free(m);
    free(raw);
}

/* The Message-ID of the newest mail to rcpt whose headers or body match like. */
static void
msgid_of(struct fixture *f, const char *rcpt, const char *like, char *out, size_t len)
{
    sqlite3_stmt *stmt;
    char pat[256];

    snprintf(pat, sizeof(pat), "%%%s%%", like);
    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT message_id FROM outbox WHERE recipient = ?1 AND"
                                        " (headers LIKE ?2 OR body LIKE ?2) ORDER BY id DESC",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, rcpt, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, pat, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    snprintf(out, len, "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
}

/*
 * A check-in answer sent as a new mail proves nothing (anyone can write the
 * mentee's From:): it is not counted and alerts nobody; the mentee is asked
 * to confirm "rating 1 for your pairing with Maria", and the reply counts it
 * once.  A reply to the check-in itself is proof and counts at once.
 */
static void
test_claimed_rating_waits_for_confirmation(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria", "mentor", NULL);
    int64_t n = member(f, MENTEE, "Ben", "newcomer", NULL);
    char ask[256], checkin[256];

    pair_at(f, n, m, NULL, T0);
    live(f, T0, T0 + 3 * DAY + 3 * HOUR);
    deliver_mail(f, MENTEE, "check-in", "1, she never shows up\r\n", T0 + 4 * DAY, NULL);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback", NULL, NULL), 0);
    assert_int_equal(mails(f, "boss@example.test", "needs attention"), 0);
    assert_int_equal(mails(f, MENTEE,
                           "Reply to this mail to confirm: rating 1 for your pairing"
                           " with Maria"),
                     1);
    char *b = body_of(f, MENTEE, "Reply to this mail to confirm");
    assert_null(strstr(b, "never shows up")); /* nothing of the claimed text is echoed */
    free(b);
    msgid_of(f, MENTEE, "Reply to this mail to confirm", ask, sizeof(ask));
    deliver_mail(f, MENTEE, "Re: Reply to confirm", "yes\r\n", T0 + 4 * DAY + HOUR, ask);
    assert_int_equal(sql_int(f,
                             "SELECT count(*) FROM feedback WHERE rating = 1 AND role ="
                             " 'newcomer'",
                             NULL, NULL),
                     1);
    assert_int_equal(sql_int(f,
                             "SELECT count(*) FROM feedback WHERE comment LIKE '%never shows up%'",
                             NULL, NULL),
                     1);
    /* the same confirmation again counts nothing more */
    deliver_mail(f, MENTEE, "Re: Reply to confirm", "yes\r\n", T0 + 4 * DAY + 2 * HOUR, ask);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback", NULL, NULL), 1);
    /* the mentor's reply to his own check-in is proof: counted at once */
    msgid_of(f, MENTOR, "How is it going", checkin, sizeof(checkin));
    deliver_mail(f, MENTOR, "Re: How is it going?", "4\r\n", T0 + 4 * DAY + 3 * HOUR, checkin);
    assert_int_equal(sql_int(f,
                             "SELECT count(*) FROM feedback WHERE role = 'mentor' AND"
                             " rating = 4",
                             NULL, NULL),
                     1);
}

/* The Message-ID of the newest mail made from template tmpl. */
static void
last_of(struct fixture *f, const char *tmpl, char *out, size_t len)
{
    sqlite3_stmt *stmt;

    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT message_id FROM outbox WHERE template = ?1"
                                        " ORDER BY id DESC LIMIT 1",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, tmpl, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    snprintf(out, len, "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
}

/* The Message-ID of the newest check-in about several mentees. */
static void
last_batch(struct fixture *f, char *out, size_t len)
{
    last_of(f, "checkin-batch", out, len);
}

/* The newest rating given about the mentee at address (0 when none, -1 when no feedback). */
static int
rating_about(struct fixture *f, const char *address)
{
    return sql_int(f,
                   "SELECT coalesce(rating, 0) FROM feedback WHERE pair IN (SELECT id FROM pairs"
                   " WHERE newcomer = (SELECT id FROM members WHERE address = ?1))"
                   " ORDER BY id DESC LIMIT 1",
                   address, NULL);
}

/*
 * Numbered answers ("1: going well, 4 / 2: ..."), names on one line, a mentee
 * without a name, in the mentor's language; an answer that cannot be told
 * apart gets one question back, and the answer to it goes to the right pairs.
 */
static void
test_checkins_numbered_and_unclear(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria", "mentor", "Capacity: 3\nLanguages: Spanish\n");
    int64_t n1 = member(f, MENTEE, "Ben", "newcomer", NULL);
    int64_t n2 = member(f, "cy@example.test", "Cy", "newcomer", NULL);
    int64_t n3 = member(f, "dee@example.test", NULL, "newcomer", NULL);
    int64_t p1 = pair_at(f, n1, m, NULL, T0);
    pair_at(f, n2, m, NULL, T0 + HOUR);
    pair_at(f, n3, m, NULL, T0 + 2 * HOUR);
    char batch[256];

    live(f, T0, T0 + 3 * DAY + 3 * HOUR);
    /* In Spanish, numbered in the order of the pairings, the nameless one by address. */
    char *b = body_of(f, MENTOR, "1. Ben:");
    assert_non_null(strstr(b, "1. Ben: han pasado 3 d"));
    assert_non_null(strstr(b, "2. Cy: han pasado 3 d"));
    assert_non_null(strstr(b, "3. dee=40example.test: han pasado")); /* quoted-printable */
    assert_null(strstr(b, "It has been"));
    free(b);
    last_batch(f, batch, sizeof(batch));
    answer_to(f, p1, MENTOR, "1: going well, 4 / 2: hasn't replied, 2 / 3: 5\r\n",
              T0 + 3 * DAY + 4 * HOUR, batch);
    assert_int_equal(rating_about(f, MENTEE), 4);
    assert_int_equal(rating_about(f, "cy@example.test"), 2);
    assert_int_equal(rating_about(f, "dee@example.test"), 5);
    int before = sql_int(f, "SELECT count(*) FROM feedback", NULL, NULL);

    /* The next one: "4, 2" cannot be told apart; nothing recorded, one easy question. */
    live(f, T0 + 3 * DAY + 5 * HOUR, T0 + 14 * DAY + 3 * HOUR);
    last_batch(f, batch, sizeof(batch));
    answer_to(f, p1, MENTOR, "4, 2, 5\r\n", T0 + 14 * DAY + 4 * HOUR, batch);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback", NULL, NULL), before);
    assert_int_equal(mails(f, MENTOR, "No hemos sabido"), 1);
    b = body_of(f, MENTOR, "No hemos sabido");
    assert_non_null(strstr(b, "1. Ben"));
    assert_non_null(strstr(b, "3. dee=40example.test"));
    assert_null(strstr(b, "HELP")); /* a question, not the help text */
    free(b);
    /* The answer to the question, by name on one line and by number. */
    char question[256];
    last_of(f, "checkin-unclear", question, sizeof(question));
    answer_to(f, p1, MENTOR, "Ben: 5, Cy: 1 - we never managed to meet\r\n3: 3\r\n",
              T0 + 14 * DAY + 5 * HOUR, question);
    assert_int_equal(rating_about(f, MENTEE), 5);
    assert_int_equal(rating_about(f, "cy@example.test"), 1);
    assert_int_equal(rating_about(f, "dee@example.test"), 3);
    assert_int_equal(mails(f, MENTOR, "No hemos sabido"), 1);
    /* Day 30: still unclear after the question, the words are kept, no rating guessed, no loop. */
    live(f, T0 + 14 * DAY + 6 * HOUR, T0 + 30 * DAY + 3 * HOUR);
    last_batch(f, batch, sizeof(batch));
    answer_to(f, p1, MENTOR, "5 y 1, 3\r\n", T0 + 30 * DAY + 4 * HOUR, batch);
    assert_int_equal(mails(f, MENTOR, "No hemos sabido"), 2);
    last_of(f, "checkin-unclear", question, sizeof(question));
    before = sql_int(f, "SELECT count(*) FROM feedback", NULL, NULL);
    answer_to(f, p1, MENTOR, "5 and 1, sorry\r\n", T0 + 30 * DAY + 5 * HOUR, question);
    assert_int_equal(mails(f, MENTOR, "No hemos sabido"), 2);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback", NULL, NULL), before + 3);
    assert_int_equal(sql_int(f,
                             "SELECT count(*) FROM feedback WHERE coalesce(rating, 0) = 0"
                             " AND comment = '5 and 1, sorry'",
                             NULL, NULL),
                     3);
}

/* A mentor with two mentees gets one check-in about both, and answers per mentee. */
static void
test_checkins_batched_per_mentor(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria", "mentor", "Capacity: 2\n");
    int64_t n1 = member(f, MENTEE, "Ben", "newcomer", NULL);
    int64_t n2 = member(f, "cy@example.test", "Cy", "newcomer", NULL);
    int64_t p1 = pair_at(f, n1, m, NULL, T0);
    int64_t p2 = pair_at(f, n2, m, NULL, T0 + 2 * HOUR);

    live(f, T0, T0 + 3 * DAY + 3 * HOUR);
    assert_int_equal(mails(f, MENTOR, "How is it going with Ben and Cy?"), 1);
    assert_int_equal(mails(f, MENTOR, "How is it going with%"), 1);
    assert_int_equal(mails(f, MENTEE, "How is it going with Maria?"), 1);
    char *b = body_of(f, MENTOR, "How is it going with Ben and Cy?");
    assert_non_null(strstr(b, "Ben: It has been 3 days"));
    assert_non_null(strstr(b, "Cy: It has been 3 days"));
    free(b);
    /* One line each, by name. */
    answer(f, p1, MENTOR, "Ben: 4 - we met twice\r\nCy - 2, hard to find a time\r\n",
           T0 + 3 * DAY + 4 * HOUR);
    char batch[256];
    last_batch(f, batch, sizeof(batch));
    assert_int_equal(sql_int(f,
                             "SELECT rating FROM feedback WHERE pair = (SELECT id FROM pairs"
                             " WHERE newcomer = (SELECT id FROM members WHERE address = ?1))",
                             MENTEE, NULL),
                     4);
    assert_int_equal(sql_int(f,
                             "SELECT rating FROM feedback WHERE pair = (SELECT id FROM pairs"
                             " WHERE newcomer = (SELECT id FROM members WHERE address = ?1))",
                             "cy@example.test", NULL),
                     2);
    assert_int_equal(sql_int(f, "SELECT unanswered FROM members WHERE address = ?1", MENTOR, NULL),
                     0);
    /* The low rating about Cy is news: one answer saying help is on its way. */
    assert_int_equal(mails(f, MENTOR, "has been told and will help"), 1);
    /* Next time an answer naming nobody is about both. */
    live(f, T0 + 3 * DAY + 5 * HOUR, T0 + 14 * DAY + 3 * HOUR);
    last_batch(f, batch, sizeof(batch));
    answer_to(f, p2, MENTOR, "5 - all good\r\n", T0 + 14 * DAY + 4 * HOUR, batch);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback WHERE rating = 5", NULL, NULL), 2);
    (void)p2;
}

/* "Hi Maria, ..." to the mentoring address is meant for Maria: a pointer, not feedback. */
static void
test_partner_mail_and_thanks_only_with_news(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria", "mentor", NULL);
    int64_t n = member(f, MENTEE, "Ben", "newcomer", NULL);
    int64_t p = pair_at(f, n, m, NULL, T0);

    live(f, T0, T0 + 3 * DAY + HOUR);
    answer(f, p, MENTEE, "Hi Maria, nice to meet you! Would Thursday at 18:00 suit you?\r\n",
           T0 + 3 * DAY + 2 * HOUR);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback", NULL, NULL), 0);
    assert_int_equal(mails(f, MENTEE, "went to mentord, not to Maria"), 1);
    assert_int_equal(mails(f, MENTEE, "Thank you for your answer"), 0);
    char *b = body_of(f, MENTEE, "went to mentord, not to Maria");
    assert_non_null(strstr(b, MENTOR));
    assert_null(strstr(b, "Thursday")); /* neither kept nor passed on */
    free(b);
    /* A routine answer is recorded; with thanks = news it gets no mail of its own. */
    answer(f, p, MENTEE, "4 - we met, all good\r\n", T0 + 3 * DAY + 3 * HOUR);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback WHERE rating = 4", NULL, NULL), 1);
    assert_int_equal(mails(f, MENTEE, "Thank you for your answer"), 0);
    f->cfg.lifecycle.thanks = "always";
    answer(f, p, MENTOR, "5 - good start\r\n", T0 + 3 * DAY + 4 * HOUR);
    assert_int_equal(mails(f, MENTOR, "Thank you for your answer"), 1);
}

/*
 * Mail meant for the partner is never stored as check-in feedback: greetings
 * in the shipped languages, a reply to the introduction even with a number in
 * it, a mentor greeting another of their mentees in one mentee's thread.
 */
static void
test_partner_mail_never_feedback(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria Lopez", "mentor", "Capacity: 2\n");
    int64_t n = member(f, MENTEE, "Ben", "newcomer", NULL);
    int64_t n2 = member(f, "cy@example.test", "Cy Ode", "newcomer", NULL);
    int64_t p = pair_at(f, n, m, NULL, T0);
    pair_at(f, n2, m, NULL, T0 + HOUR);
    static const char *const notes[] = {
        "Hallo Maria, passt dir Donnerstag um 5?\r\n",
        "Hola, Maria: \xc2\xbfquedamos el jueves a las 5?\r\n",
        "Bonjour Maria ! On se voit jeudi \xc3\xa0 17h ?\r\n",
        "Ol\xc3\xa1 Maria, podemos conversar na quinta \xc3\xa0s 5?\r\n",
        "Oi Maria, 4 dias livres esta semana\r\n",
        "Good morning Maria, 5 pm on Thursday?\r\n",
    };
    time_t t = T0 + 2 * HOUR;

    live(f, T0, t);
    for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
        answer(f, p, MENTEE, notes[i], t + (time_t)i);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback", NULL, NULL), 0);
    assert_int_equal(mails(f, MENTEE, "not to Maria"), 6);
    /* Replies to the introduction, with numbers that are times, not ratings. */
    char intro[256];
    last_of(f, "introduction", intro, sizeof(intro));
    answer_to(f, p, MENTEE, "5 pm on Thursday works, see you then!\r\n", t + 10, intro);
    answer_to(f, p, MENTEE, "Donnerstag um 5 passt, bis dann\r\n", t + 11, intro);
    answer_to(f, p, MENTEE, "17:30 me va bien\r\n", t + 12, intro);
    answer_to(f, p, MENTEE, "Sounds good, I can do Thursday\r\n", t + 13, intro);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback", NULL, NULL), 0);
    assert_int_equal(mails(f, MENTEE, "not to Maria"), 10);
    /* A rating is an answer to us wherever it was sent. */
    answer_to(f, p, MENTEE, "1, she never shows up\r\n", t + 14, intro);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback WHERE rating = 1", NULL, NULL), 1);
    /* The mentor greets Cy in a mail about Ben: meant for Cy. */
    answer(f, p, MENTOR, "Hi Cy, shall we meet on Friday at 3?\r\n", t + 20);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM feedback", NULL, NULL), 1);
    assert_int_equal(mails(f, MENTOR, "not to Cy"), 1);
}

static void
test_not_met_and_low_rating_start_help(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria", "mentor", NULL);
    int64_t n = member(f, MENTEE, "Ben", "newcomer", NULL);
    int64_t p = pair_at(f, n, m, NULL, T0);
    int rating, met;

    live(f, T0, T0 + 3 * DAY + HOUR);
    answer(f, p, MENTEE, "We haven't met yet, no answer to my mail.\r\n", T0 + 3 * DAY + 2 * HOUR);
    last_feedback(f, &rating, &met);
    assert_int_equal(rating, 0);
    assert_int_equal(met, 0);
    assert_int_equal(mails(f, "boss@example.test", "they have not met yet"), 1);
    assert_int_equal(mails(f, MENTEE, "has been told and will help"), 1);
    /* The mentor is nudged in a reminder; a week later the mentee is offered a rematch. */
    live(f, T0 + 3 * DAY + 3 * HOUR, T0 + 11 * DAY);
    char *b = body_of(f, MENTOR, "A few things waiting");
    assert_non_null(strstr(b, "Ben: says you have not met yet"));
    free(b);
    assert_int_equal(mails(f, MENTEE, "Would you like another mentor"), 1);
    assert_int_equal(mails(f, MENTEE, "not going well"), 1);

    answer(f, p, MENTOR, "2 - it is hard to find a time\r\n", T0 + 11 * DAY);
    last_feedback(f, &rating, &met);
    assert_int_equal(rating, 2);
    assert_int_equal(mails(f, "boss@example.test", "rating of 2"), 1);
    assert_int_equal(sql_int(f, "SELECT unanswered FROM members WHERE address = ?1", MENTOR, NULL),
                     0);
}

static void
test_pair_end_closing_invite_conversion(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria", "mentor", NULL);
    int64_t n = member(f, MENTEE, "Ben", "newcomer", NULL);
    int64_t p = pair_at(f, n, m, NULL, T0);

    live(f, T0, T0 + 84 * DAY + 2 * HOUR);
    struct store_pair sp;
    assert_int_equal(store_pair_get(f->st, p, &sp), 1);
    assert_string_equal(sp.state, "ended");
    assert_string_equal(sp.end_reason, "completed");
    store_pair_free(&sp);
    assert_int_equal(mails(f, MENTEE, "is complete"), 1);
    assert_int_equal(mails(f, MENTOR, "with Ben is complete"), 1);
    assert_int_equal(mails(f, MENTOR, "mentor someone new"), 1);
    assert_int_equal(mails(f, MENTEE, "Reply MENTOR"), 1);
    assert_int_equal(mails(f, MENTEE, "Would you like to mentor"), 0);
    live(f, T0 + 84 * DAY + 3 * HOUR, T0 + 92 * DAY);
    assert_int_equal(mails(f, MENTEE, "Would you like to mentor"), 1);
    /* Check-ins stopped at the end; the first mentee was celebrated once. */
    assert_int_equal(mails(f, MENTEE, "How is it going"), 4);
    assert_int_equal(mails(f, MENTOR, "your first mentee"), 1);
    assert_int_equal(store_event_count(f->st, "milestone"), 1);
    /* The former mentee volunteers: a conversion; a stranger is none. */
    assert_int_equal(lifecycle_note_conversion(f->st, MENTEE, T0 + 93 * DAY), 1);
    assert_int_equal(lifecycle_note_conversion(f->st, MENTOR, T0 + 93 * DAY), 0);
    assert_int_equal(store_event_count(f->st, "conversion"), 1);
}

static void
test_leaving_ends_pairs_kindly(void **state)
{
    struct fixture *f = *state;
    int64_t m = member(f, MENTOR, "Maria Lopez", "mentor", NULL);
    int64_t n = member(f, MENTEE, "Ben", "newcomer", NULL);
    int64_t p = pair_at(f, n, m, NULL, T0);
    struct mail fake = {.from_addr = MENTOR, .message_id = "x@c.test"};
    char detail[512];
    struct respond_ctx c = {.cfg = &f->cfg,
                            .st = f->st,
                            .m = &fake,
                            .now = T0 + 5 * DAY,
                            .detail = detail,
                            .detail_len = sizeof(detail),
                            .text = ""};

    run_at(f, T0);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(lifecycle_member_leaving(&c, m), 0);
    assert_int_equal(store_commit(f->st), 0);
    respond_forget(&c);
    struct store_pair sp;
    assert_int_equal(store_pair_get(f->st, p, &sp), 1);
    assert_string_equal(sp.state, "ended");
    assert_string_equal(sp.end_reason, "left");
    store_pair_free(&sp);
    char *b = body_of(f, MENTEE, "has left the mentoring programme");
    assert_non_null(strstr(b, "Maria has left"));
    assert_null(strstr(b, "Lopez"));
    assert_null(strstr(b, MENTOR));
    assert_non_null(strstr(b, "waiting list"));
    free(b);
    assert_int_equal(
        sql_int(f, "SELECT waiting_since FROM members WHERE address = ?1", MENTEE, NULL),
        T0 + 5 * DAY);
    assert_int_equal(sql_int(f, "SELECT count(*) FROM schedule WHERE done IS NULL", NULL, NULL), 0);
    live(f, T0 + 5 * DAY, T0 + 20 * DAY);
    assert_int_equal(mails(f, MENTEE, "How is it going"), 0); /* none after the end */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_introduction_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claimed_rating_waits_for_confirmation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_introduction_separate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_introduction_without_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partner_mail_never_feedback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkins_on_time_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_at_night_in_tokyo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_morning_for_unasked_mail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reminders_batched_and_silent_mentor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reminder_softened_under_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reminder_normal_and_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paused_mentor_gets_only_the_pause_note, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_feedback_styles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_met_and_low_rating_start_help, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partner_mail_and_thanks_only_with_news, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_checkins_batched_per_mentor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkins_numbered_and_unclear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pair_end_closing_invite_conversion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaving_ends_pairs_kindly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
