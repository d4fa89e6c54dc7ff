/*
 * The managers' digest: period boundaries in the managers' time zone, every
 * figure against a seeded database with known answers, the lists behind
 * them, the text and HTML renderings, and digest_due's send-once rule.
 * Also the HTML alternative part compose builds for it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "command.h"
#include "compose.h"
#include "digest.h"
#include "lang.h"
#include "mail.h"
#include "store.h"
#include "teststore.h"
#include "testutil.h"

#define DAY 86400
#define HOUR 3600

/* This week's digest moment, last week's, and now (set by setup). */
static time_t week_b0, week_b1, week_now;

static time_t
utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return timegm(&tm);
}

static void
sql(struct fixture *f, const char *fmt, ...)
{
    char *q = NULL, *err = NULL;
    va_list ap;

    va_start(ap, fmt);
    assert_true(vasprintf(&q, fmt, ap) > 0);
    va_end(ap);
    if (sqlite3_exec(f->db, q, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", q, err);
    free(q);
}

static int
setup(void **state)
{
    if (ts_setup(state, "digest") != 0)
        return -1;
    struct fixture *f = *state;

    f->cfg.community.n_managers = 2;
    week_b0 = utc(2026, 11, 30, 9, 0); /* a Monday */
    week_b1 = week_b0 - 7 * DAY;
    week_now = week_b0 + HOUR;
    return 0;
}

static int
teardown(void **state)
{
    return ts_teardown(state);
}

/* ---- periods ---- */

static void
test_weekly_boundaries(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(digest_boundary(&f->cfg, week_now, 0), week_b0);
    assert_int_equal(digest_boundary(&f->cfg, week_now, 1), week_b1);
    /* A minute before Monday 09:00 the latest moment is the Monday before. */
    assert_int_equal(digest_boundary(&f->cfg, week_b0 - 60, 0), week_b1);
    assert_int_equal(digest_boundary(&f->cfg, week_b0, 0), week_b0);
    f->cfg.digest.day = "thursday";
    assert_int_equal(digest_boundary(&f->cfg, week_now, 0), utc(2026, 11, 26, 9, 0));
}

static void
test_daily_monthly_and_time_zone(void **state)
{
    struct fixture *f = *state;

    f->cfg.digest.frequency = "daily";
    assert_int_equal(digest_boundary(&f->cfg, utc(2026, 11, 30, 8, 0), 0), utc(2026, 11, 29, 9, 0));
    assert_int_equal(digest_boundary(&f->cfg, utc(2026, 11, 30, 8, 0), 2), utc(2026, 11, 27, 9, 0));
    f->cfg.digest.frequency = "monthly";
    f->cfg.digest.day = "1";
    assert_int_equal(digest_boundary(&f->cfg, week_now, 0), utc(2026, 11, 1, 9, 0));
    assert_int_equal(digest_boundary(&f->cfg, week_now, 1), utc(2026, 10, 1, 9, 0));
    assert_int_equal(digest_boundary(&f->cfg, utc(2026, 1, 15, 0, 0), 1), utc(2025, 12, 1, 9, 0));
    /* 09:00 in Berlin is 08:00 UTC in winter and 07:00 in summer. */
    f->cfg.digest.frequency = "weekly";
    f->cfg.digest.day = "monday";
    f->cfg.digest.timezone = "Europe/Berlin";
    assert_int_equal(digest_boundary(&f->cfg, week_now, 0), utc(2026, 11, 30, 8, 0));
    assert_int_equal(digest_boundary(&f->cfg, utc(2026, 7, 1, 12, 0), 0), utc(2026, 6, 29, 7, 0));
}

/* ---- a seeded programme with known answers ---- */

static void
seed(struct fixture *f)
{
    time_t b0 = week_b0, b1 = week_b1, in = b1 + DAY; /* a moment in this week's period */

    sql(f,
        "INSERT INTO members (id, address, name, role, state, profile, created, updated,"
        " waiting_since, unanswered, last_break, undeliverable, bounce_score) VALUES"
        " (1, 'wait1@x.test', 'Wanda', 'newcomer', 'active', NULL, %lld, 0, %lld, 0, NULL, 0, 0),"
        " (2, 'wait2@x.test', NULL, 'newcomer', 'active', NULL, %lld, 0, %lld, 0, NULL, 0, 0),"
        " (3, 'paired@x.test', 'Pat', 'newcomer', 'active', NULL, 0, 0, NULL, 0, NULL, 0, 0),"
        " (4, 'pending@x.test', NULL, 'newcomer', 'pending', NULL, 0, 0, %lld, 0, NULL, 0, 0),"
        " (5, 'busy@x.test', 'Bea', 'mentor', 'active', 'capacity: 1', 0, 0, NULL, 3, NULL,"
        "  0, 0),"
        " (6, 'calm@x.test', 'Cal', 'mentor', 'active', 'capacity: 2', 0, 0, NULL, 0, NULL,"
        "  0, 0),"
        " (7, 'old@x.test', NULL, 'newcomer', 'active', NULL, 0, 0, NULL, 0, NULL, 0, 0),"
        " (8, 'gone@x.test', NULL, 'newcomer', 'active', NULL, 0, 0, NULL, 0, NULL, 1, 3.5),"
        " (9, 'ret1@x.test', NULL, 'newcomer', 'active', NULL, 0, 0, NULL, 0, NULL, 0, 0),"
        " (10, 'ret2@x.test', NULL, 'newcomer', 'active', NULL, 0, 0, NULL, 0, NULL, 0, 0),"
        " (11, 'ended@x.test', NULL, 'newcomer', 'active', NULL, 0, 0, NULL, 0, NULL, 0, 0)",
        (long long)(b0 - 40 * DAY), (long long)(b0 - 30 * DAY), (long long)(b0 - 25 * DAY),
        (long long)(b0 - 20 * DAY), (long long)(b0 - 9 * DAY));
    /* Pairs: one started this week, one silent for two months, one ended last week. */
    sql(f,
        "INSERT INTO pairs (id, newcomer, mentor, state, ref, created, started, ends, ended)"
        " VALUES (1, 3, 5, 'active', 'r1', %lld, %lld, NULL, NULL),"
        " (2, 7, 5, 'active', 'r2', %lld, %lld, NULL, NULL),"
        " (3, 11, 6, 'ended', 'r3', %lld, %lld, NULL, %lld),"
        " (4, 1, 6, 'declined', 'r4', %lld, NULL, NULL, NULL)",
        (long long)in, (long long)in, (long long)(b0 - 60 * DAY), (long long)(b0 - 60 * DAY),
        (long long)(b1 - 90 * DAY), (long long)(b1 - 90 * DAY), (long long)(b1 - DAY),
        (long long)(in + HOUR));
    /* Check-ins: four this week, three answered; ratings 5, 4 and 1 (with a comment). */
    for (int i = 0; i < 4; i++)
        sql(f,
            "INSERT INTO schedule (due, kind, pair, created, done, outcome)"
            " VALUES (%lld, 'checkin', 1, 0, %lld, 'sent')",
            (long long)(in + i * HOUR), (long long)(in + i * HOUR));
    sql(f,
        "INSERT INTO schedule (due, kind, pair, created, done) VALUES (%lld, 'checkin', 1, 0,"
        " NULL)",
        (long long)(b0 + DAY));
    sql(f,
        "INSERT INTO feedback (pair, member, role, at, rating, met, comment, checkin) VALUES"
        " (1, 3, 'newcomer', %lld, 5, 1, 'great', 'day 3'),"
        " (1, 5, 'mentor', %lld, 4, 1, NULL, 'day 3'),"
        " (1, 3, 'newcomer', %lld, 1, 0, 'never replied\nat all', 'day 14'),"
        " (1, 3, 'newcomer', %lld, 2, 0, 'last week', NULL)",
        (long long)(in + 2 * HOUR), (long long)(in + 3 * HOUR), (long long)(in + 4 * HOUR),
        (long long)(b1 - DAY));
    /* Events: joins this week and the week before, requests, floods, conversions. */
    sql(f,
        "INSERT INTO events (at, kind, member, detail) VALUES"
        " (%lld, 'newcomer', 'wait2@x.test', 'confirmed'),"
        " (%lld, 'newcomer', NULL, NULL),"
        " (%lld, 'newcomer', 'wait1@x.test', 'confirmed'),"
        " (%lld, 'mentor', 'calm@x.test', 'confirmed'),"
        " (%lld, 'confirm-asked', 'a@x.test', 'join'),"
        " (%lld, 'confirm-asked', 'b@x.test', 'mentor'),"
        " (%lld, 'confirm-asked', 'c@x.test', 'leave'),"
        " (%lld, 'flood', 'f@x.test', NULL),"
        " (%lld, 'flood', 'f@x.test', NULL),"
        " (%lld, 'conversion', 'paired@x.test', 'now mentoring'),"
        " (%lld, 'milestone', 'calm@x.test', '10 mentees'),"
        " (%lld, 'undeliverable', 'gone@x.test', '5.1.1')",
        (long long)(in), (long long)(in + 1), (long long)(b1 - DAY), (long long)(in + 2),
        (long long)(in + 3), (long long)(in + 4), (long long)(in + 5), (long long)(in + 6),
        (long long)(in + 7), (long long)(in + 8), (long long)(in + 9), (long long)(b1 - 2 * DAY));
    /* Retention: two newcomers reach 30 days this week; one wrote at day 20. */
    sql(f,
        "INSERT INTO events (at, kind, member, detail) VALUES"
        " (%lld, 'newcomer', 'ret1@x.test', 'confirmed'),"
        " (%lld, 'newcomer', 'ret2@x.test', 'confirmed')",
        (long long)(in - 30 * DAY), (long long)(in - 30 * DAY + HOUR));
    sql(f,
        "INSERT INTO messages (mailbox, uidvalidity, uid, sender, outcome, processed) VALUES"
        " ('INBOX', 1, 1, 'RET1@x.test', 'answered', %lld),"
        " ('INBOX', 1, 2, 'ret2@x.test', 'answered', %lld)",
        (long long)(in - 10 * DAY), (long long)(in - 29 * DAY));
}

static long
fig(const struct digest *d, const char *key, int k)
{
    const struct digest_figure *g = digest_figure(d, key);
    if (g == NULL)
        fail_msg("no figure %s", key);
    return g->value[k];
}

static void
test_figures_match_the_seed(void **state)
{
    struct fixture *f = *state;
    struct digest d;
    char err[256];

    seed(f);
    assert_int_equal(digest_build(&f->cfg, f->st, week_now, 0, &d, err, sizeof(err)), 0);
    assert_string_equal(d.key, "2026-W48");
    assert_int_equal(d.start, week_b1);
    assert_int_equal(d.end, week_b0);
    assert_int_equal(fig(&d, "requests", 0), 2); /* a leave request is not a join */
    assert_int_equal(fig(&d, "joins_newcomers", 0), 2);
    assert_int_equal(fig(&d, "joins_newcomers", 1), 1);
    assert_int_equal(fig(&d, "joins_mentors", 0), 1);
    /* Waiting: Wanda (30 days) and wait2 (20); pending and paired members are not. */
    assert_int_equal(fig(&d, "waiting", 0), 2);
    assert_int_equal(fig(&d, "longest_wait", 0), 30);
    assert_int_equal(fig(&d, "waiting", 1), 2);
    assert_int_equal(fig(&d, "waiting", 4), 1);   /* 28 days earlier only Wanda waited */
    assert_int_equal(fig(&d, "proposals", 0), 2); /* pair 1 and the declined pair 4 */
    assert_int_equal(fig(&d, "started", 0), 1);
    assert_int_equal(fig(&d, "ended", 0), 0);
    assert_int_equal(fig(&d, "ended", 1), 1);
    assert_int_equal(fig(&d, "active_pairs", 0), 2);
    assert_int_equal(fig(&d, "active_pairs", 1), 1); /* pair 3 ended the day before */
    assert_int_equal(fig(&d, "active_pairs", 2), 2);
    assert_int_equal(fig(&d, "checkins", 0), 4);
    assert_int_equal(fig(&d, "response_rate", 0), 75);
    assert_int_equal(fig(&d, "response_rate", 1), -1);
    assert_int_equal(fig(&d, "avg_rating", 0), 33); /* (5 + 4 + 1) / 3 */
    assert_int_equal(fig(&d, "avg_rating", 1), 20);
    assert_int_equal(fig(&d, "low_ratings", 0), 1);
    assert_int_equal(fig(&d, "burnout", 0), 1);      /* Bea: 3 unanswered, 2 mentees of 1 */
    assert_int_equal(fig(&d, "silent_pairs", 0), 1); /* pair 2 */
    assert_int_equal(fig(&d, "undeliverable", 0), 0);
    assert_int_equal(fig(&d, "undeliverable", 1), 1);
    assert_int_equal(fig(&d, "retention_30", 0), 50);
    assert_int_equal(fig(&d, "retention_90", 0), -1);
    assert_int_equal(fig(&d, "conversions", 0), 1);
    assert_int_equal(fig(&d, "milestones", 0), 1);
    assert_int_equal(fig(&d, "floods", 0), 2);
    assert_int_equal(fig(&d, "spam", 0), 0);
    /* Every label fits the text part's column, so its row stays in line. */
    for (size_t i = 0; i < d.n_figures; i++)
        if (strlen(d.figures[i].label) > DIGEST_LABEL_WIDTH)
            fail_msg("figure label too long for the text column: %s", d.figures[i].label);

    /* The lists behind the figures. */
    assert_int_equal(d.lists[DIGEST_LIST_WAITING].n, 2);
    assert_string_equal(d.lists[DIGEST_LIST_WAITING].lines[0], " 30 days  Wanda <wait1@x.test>");
    assert_string_equal(d.lists[DIGEST_LIST_WAITING].lines[1], " 20 days  wait2@x.test");
    assert_int_equal(d.lists[DIGEST_LIST_LOW_RATINGS].n, 1);
    assert_string_equal(d.lists[DIGEST_LIST_LOW_RATINGS].lines[0],
                        "1/5 from paired@x.test (newcomer) about pair 1 with busy@x.test: "
                        "\"never replied at all\"");
    assert_int_equal(d.lists[DIGEST_LIST_BURNOUT].n, 1);
    assert_string_equal(d.lists[DIGEST_LIST_BURNOUT].lines[0],
                        "Bea <busy@x.test>: 3 check-ins or proposals unanswered; 2 mentees, "
                        "capacity 1");
    assert_int_equal(d.lists[DIGEST_LIST_SILENT].n, 1);
    assert_non_null(strstr(d.lists[DIGEST_LIST_SILENT].lines[0], "pair 2: old@x.test"));
    assert_int_equal(d.lists[DIGEST_LIST_UNDELIVERABLE].n, 1);
    assert_string_equal(d.lists[DIGEST_LIST_UNDELIVERABLE].lines[0],
                        "gone@x.test (newcomer, bounce score 3.5)");
    assert_string_equal(d.lists[DIGEST_LIST_CONVERSIONS].lines[0], "paired@x.test (now mentoring)");
    assert_string_equal(d.lists[DIGEST_LIST_MILESTONES].lines[0], "calm@x.test: 10 mentees");
    digest_free(&d);
}

/* Columns of the longest line of s (a UTF-8 character is one column). */
static size_t
widest_line(const char *s)
{
    size_t widest = 0, cols = 0;

    for (; *s; s++) {
        if (*s == '\n') {
            widest = cols > widest ? cols : widest;
            cols = 0;
        } else if (((unsigned char)*s & 0xC0) != 0x80) {
            cols++;
        }
    }
    return cols > widest ? cols : widest;
}

/*
 * What the 16-week e2e programme found: check-ins dropped (mentor paused,
 * pair rematched, member left) were counted as sent, and a rematched
 * newcomer - who keeps their place in the queue from their first request -
 * was shown as waiting since then, not since their pair ended.  And the
 * text part must fit 78 columns even with a long comment.
 */
static void
test_dropped_checkins_rematch_wait_and_width(void **state)
{
    struct fixture *f = *state;
    struct digest d;
    char err[256];
    time_t in = week_b1 + DAY;

    seed(f);
    sql(f,
        "INSERT INTO schedule (due, kind, pair, created, done, outcome) VALUES"
        " (%lld, 'checkin', 1, 0, %lld, 'paused'), (%lld, 'checkin', 1, 0, %lld, 'rematch'),"
        " (%lld, 'checkin', 1, 0, %lld, 'member left'),"
        " (%lld, 'checkin', 1, 0, %lld, 'sent softened')",
        (long long)in, (long long)in, (long long)in, (long long)in, (long long)in, (long long)in,
        (long long)(in + 9), (long long)(in + 9));
    sql(f,
        "INSERT INTO members (id, address, role, state, created, updated, waiting_since)"
        " VALUES (12, 'rem@x.test', 'newcomer', 'active', %lld, 0, %lld)",
        (long long)(week_b0 - 60 * DAY), (long long)(week_b0 - 60 * DAY));
    sql(f,
        "INSERT INTO pairs (id, newcomer, mentor, state, ref, created, started, ended,"
        " end_reason) VALUES (5, 12, 6, 'ended', 'r5', %lld, %lld, %lld, 'rematch')",
        (long long)(week_b0 - 59 * DAY), (long long)(week_b0 - 59 * DAY),
        (long long)(week_b0 - 3 * DAY - HOUR));
    sql(f,
        "INSERT INTO feedback (pair, member, role, at, rating, met, comment, checkin) VALUES"
        " (1, 3, 'newcomer', %lld, 2, 0, 'we could not find a time that suits us both, and the"
        " tasks he suggested were far beyond what I can do yet; I would like someone else',"
        " 'day 21')",
        (long long)(in + 5 * HOUR));
    assert_int_equal(digest_build(&f->cfg, f->st, week_now, 0, &d, err, sizeof(err)), 0);
    /* Four sent as before, plus one sent softened; three of the five answered, now four. */
    assert_int_equal(fig(&d, "checkins", 0), 5);
    assert_int_equal(fig(&d, "response_rate", 0), 80);
    /* rem waits since their pair ended three days ago, not since day one. */
    assert_int_equal(fig(&d, "waiting", 0), 3);
    assert_int_equal(fig(&d, "longest_wait", 0), 30);
    assert_int_equal(fig(&d, "waiting", 5), 0); /* five weeks ago only rem had asked: paired */
    assert_int_equal(d.lists[DIGEST_LIST_WAITING].n, 3);
    assert_string_equal(d.lists[DIGEST_LIST_WAITING].lines[2], "  3 days  rem@x.test");

    char *text = digest_text(&f->cfg, &d);
    assert_non_null(text);
    assert_true(widest_line(text) <= 78);
    /* The long comment wraps under its item, the waiting list keeps its columns. */
    assert_non_null(strstr(text, "\n      "));
    assert_non_null(strstr(text, "\n   30 days  Wanda <wait1@x.test>\n"));
    assert_non_null(strstr(text, "2/5 from paired@x.test (newcomer) about pair 1 with"));
    free(text);
    digest_free(&d);
}

static void
test_so_far_covers_the_running_period(void **state)
{
    struct fixture *f = *state;
    struct digest d;
    char err[256];

    seed(f);
    /* A join after this week's moment shows in "report" but not in the sent digest. */
    sql(f,
        "INSERT INTO events (at, kind, member, detail) VALUES (%lld, 'newcomer', 'n@x.test',"
        " 'confirmed')",
        (long long)(week_b0 + 60));
    assert_int_equal(digest_build(&f->cfg, f->st, week_now, 1, &d, err, sizeof(err)), 0);
    assert_string_equal(d.key, "2026-W49");
    assert_int_equal(d.end, week_now);
    assert_int_equal(fig(&d, "joins_newcomers", 0), 1);
    assert_int_equal(fig(&d, "joins_newcomers", 1), 2);
    assert_non_null(strstr(d.label, "so far"));
    digest_free(&d);
}

/* With TEST_DIGEST_OUT set, the renderings go there too (tests/test_digest_browser.sh). */
static void
save_sample(const char *name, const char *text, const char *html)
{
    const char *dir = getenv("TEST_DIGEST_OUT");
    char path[1024];

    if (dir == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s.%s", dir, name, i ? "html" : "txt");
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(i ? html : text, f);
        assert_int_equal(fclose(f), 0);
    }
}

static void
test_text_and_html(void **state)
{
    struct fixture *f = *state;
    struct digest d;
    char err[256];

    seed(f);
    assert_int_equal(digest_build(&f->cfg, f->st, week_now, 0, &d, err, sizeof(err)), 0);
    char *text = digest_text(&f->cfg, &d), *html = digest_html(&f->cfg, &d);
    assert_non_null(text);
    assert_non_null(html);
    if (getenv("TEST_DIGEST_PRINT")) /* to look at it: TEST_DIGEST_PRINT=1 test_digest */
        printf("%s\n%s", text, html);
    save_sample("seeded", text, html);
    /* Label, value, change from last week, then a sparkline ending on a full bar. */
    const char *line = strstr(text, "Confirmed newcomers");
    assert_non_null(line);
    char want[128];
    snprintf(want, sizeof(want), "%-32s %10s %7s  ", "Confirmed newcomers", "2", "+1");
    assert_memory_equal(line, want, strlen(want));
    /* Two joins five weeks back (the retention cohort), one last week, two this week. */
    assert_non_null(strstr(line, "▁▁▁▁▁▁█▁▁▁▄█\n"));
    snprintf(want, sizeof(want), "%-32s %10s %7s  ", "Average rating (1-5)", "3.3", "+1.3");
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof(want), "%-32s %10s %7s  ", "Check-in response rate %", "75%", "n/a");
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "Waiting for a mentor, longest first\n   30 days  Wanda"));
    assert_non_null(strstr(text, "Mentors to recognise\n  calm@x.test: 10 mentees\n"));
    /* What needs a manager comes first, each with the word that acts on it. */
    const char *top = strstr(text, "Needs a manager this week\n  1. ");
    assert_non_null(top);
    assert_true(top < strstr(text, "This week  Change"));
    assert_non_null(strstr(text, "Reply MATCH wait1@x.test MENTOR"));
    assert_non_null(strstr(text, "Reply PAUSE busy@x.test"));
    assert_non_null(strstr(text, "Reply UNMATCH 1 "));
    /* The subject starts with the period and fits a mail client's index. */
    assert_true(strlen(d.subject) <= DIGEST_SUBJECT_MAX);
    assert_memory_equal(d.subject, "Week 2026-W48: ", 15);
    /* HTML: the same rows, escaped lists, charts as table cells and nothing external. */
    assert_non_null(strstr(html, "<tr data-key=\"joins_newcomers\">"));
    assert_non_null(strstr(html, ">Confirmed newcomers</td>"));
    assert_non_null(strstr(html, "<b>2</b>"));
    assert_non_null(strstr(html, "<span style=\"white-space:nowrap\">Wanda &lt;wait1@x.test&gt;"
                                 "</span>"));
    assert_non_null(strstr(html, "&quot;never replied at all&quot;"));
    assert_non_null(strstr(html, "id=\"chart\""));
    assert_non_null(strstr(html, "bgcolor=\"#2e7d32\""));
    assert_null(strstr(html, "<svg"));
    assert_null(strstr(html, "<style"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "href="));
    assert_null(strstr(html, "url("));
    free(text);
    free(html);
    digest_free(&d);
}

static int
count(struct fixture *f, const char *q)
{
    sqlite3_stmt *stmt;
    int n = -1;

    assert_int_equal(sqlite3_prepare_v2(f->db, q, -1, &stmt, NULL), SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
}

static void
test_due_sends_once_per_period(void **state)
{
    struct fixture *f = *state;

    seed(f);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(digest_due(&f->cfg, f->st, week_now), 1);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE kind = 'notice'"), 2);
    assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE recipient = 'chief@example.test'"
                              " AND body LIKE '%Content-Type: text/html%'"
                              " AND body LIKE '%Content-Type: text/plain%'"
                              " AND headers LIKE '%multipart/alternative%'"
                              " AND headers LIKE '%Subject: Week 2026-W48: %'"),
                     1);
    assert_int_equal(
        count(f, "SELECT count(*) FROM events WHERE kind = 'digest' AND detail = '2026-W48'"), 1);
    /* Kept as sent: the preview of the last digest is this one, not a new computation. */
    struct store_digest_copy kept;
    assert_int_equal(store_digest_last(f->st, &kept), 1);
    assert_string_equal(kept.key, "2026-W48");
    assert_memory_equal(kept.subject, "Week 2026-W48: ", 15);
    assert_non_null(strstr(kept.text, "Confirmed newcomers"));
    assert_non_null(strstr(kept.text, "This is an automatic message from mentord."));
    assert_non_null(strstr(kept.html, "id=\"chart\""));
    assert_non_null(strstr(kept.text, "wait1@x.test"));
    store_digest_copy_free(&kept);
    /* Someone who leaves takes the kept copies naming them along (they may quote them). */
    assert_int_equal(store_member_erase(f->st, "wait1@x.test"), 0);
    assert_int_equal(store_digest_last(f->st, &kept), 0);
    /* A mail reader (our own parser here) sees the text part, figures and all. */
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT headers || char(13, 10) || body FROM outbox"
                                        " ORDER BY id LIMIT 1",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    const char *raw = (const char *)sqlite3_column_text(stmt, 0);
    struct mail *m = NULL;
    char perr[256];
    assert_int_equal(mail_parse(raw, strlen(raw), &m, perr, sizeof(perr)), 0);
    assert_non_null(strstr(m->part_types, "multipart/alternative text/plain text/html"));
    assert_non_null(strstr(m->text, "Confirmed newcomers"));
    assert_non_null(strstr(m->text, "▁▁▁▁▁▁█▁▁▁▄█"));
    assert_null(strstr(m->text, "<td>"));
    mail_free(m);
    sqlite3_finalize(stmt);
    /* Again in the same week: already sent. */
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(digest_due(&f->cfg, f->st, week_now + 2 * DAY), 0);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM outbox"), 2);
    /* A crash before the commit loses nothing: the rolled-back digest goes out next time. */
    time_t next = week_b0 + 7 * DAY + 60;
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(digest_due(&f->cfg, f->st, next), 1);
    store_rollback(f->st);
    assert_int_equal(count(f, "SELECT count(*) FROM outbox"), 2);
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(digest_due(&f->cfg, f->st, next), 1);
    assert_int_equal(store_commit(f->st), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'digest'"), 2);
    assert_int_equal(count(f, "SELECT count(*) FROM outbox"), 4);
    /* Never, or nobody to send to: nothing. */
    f->cfg.digest.frequency = "never";
    assert_int_equal(digest_due(&f->cfg, f->st, next + 30 * DAY), 0);
    f->cfg.digest.frequency = "weekly";
    f->cfg.community.n_managers = 0;
    assert_int_equal(digest_due(&f->cfg, f->st, next + 30 * DAY), 0);
}

static void
test_empty_database(void **state)
{
    struct fixture *f = *state;
    struct digest d;
    char err[256];

    assert_int_equal(digest_build(&f->cfg, f->st, week_now, 0, &d, err, sizeof(err)), 0);
    assert_int_equal(fig(&d, "waiting", 0), 0);
    assert_int_equal(fig(&d, "avg_rating", 0), -1);
    char *text = digest_text(&f->cfg, &d), *html = digest_html(&f->cfg, &d);
    assert_non_null(text);
    assert_non_null(html);
    save_sample("empty", text, html);
    free(html);
    char want[128];
    /* Nothing to measure in any period: a blank sparkline, and no trailing blanks. */
    snprintf(want, sizeof(want), "%-32s %10s %7s\n", "Average rating (1-5)", "-", "n/a");
    assert_non_null(strstr(text, want));
    assert_null(strstr(text, " \n"));
    /* Empty lists are named on one line, not listed one by one with "none". */
    assert_null(strstr(text, "  none"));
    assert_non_null(strstr(text, "\nNone this week: newcomers waiting, low ratings, mentors at "
                                 "risk, silent pairs,"));
    assert_non_null(strstr(text, "Nothing this time"));
    free(text);
    digest_free(&d);
    /* a fresh install does not mail its managers a digest of the time before it existed */
    int64_t outbox_before = 0;
    assert_int_equal(store_outbox_count(f->st, NULL) >= 0, 1);
    outbox_before = store_outbox_count(f->st, NULL);
    assert_int_equal(digest_due(&f->cfg, f->st, week_now), 0);
    assert_int_equal(store_outbox_count(f->st, NULL), outbox_before);
    assert_int_equal(store_event_count(f->st, "digest"), 1);
    assert_int_equal(digest_due(&f->cfg, f->st, week_now), 0);
    assert_int_equal(store_event_count(f->st, "digest"), 1);
}

/* A steady series draws steady bars, on a scale that starts at zero. */
static void
test_steady_series_and_long_lists(void **state)
{
    struct fixture *f = *state;
    struct digest d;
    char err[256];

    assert_int_equal(digest_build(&f->cfg, f->st, week_now, 0, &d, err, sizeof(err)), 0);
    struct digest_figure *rate = (struct digest_figure *)digest_figure(&d, "response_rate");
    struct digest_figure *active = (struct digest_figure *)digest_figure(&d, "active_pairs");
    for (int k = 0; k < DIGEST_PERIODS; k++) {
        rate->value[k] = k == DIGEST_PERIODS - 1 ? 100 : 75; /* 100% once, then 75% */
        active->value[k] = 3;
    }
    for (int i = 0; i < 25; i++) {
        char line[64];
        snprintf(line, sizeof(line), "%3d days  waiter%d@x.test", 40 - i, i);
        struct digest_list *l = &d.lists[DIGEST_LIST_WAITING];
        char **v = realloc(l->lines, (l->n + 1) * sizeof(*v));
        assert_non_null(v);
        l->lines = v;
        v[l->n++] = strdup(line);
    }
    d.lists[DIGEST_LIST_WAITING].total = 31;
    char *text = digest_text(&f->cfg, &d), *html = digest_html(&f->cfg, &d);
    assert_non_null(text);
    assert_non_null(html);
    save_sample("steady", text, html);
    char want[160];
    snprintf(want, sizeof(want), "%-32s %10s %7s  %s\n", "Check-in response rate %", "75%", "=",
             "█▆▆▆▆▆▆▆▆▆▆▆");
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof(want), "%-32s %10s %7s  %s\n", "Active pairs", "3", "=", "████████████");
    assert_non_null(strstr(text, want));
    /* In HTML, 75% is three quarters of the full height, every time. */
    assert_non_null(strstr(html, "height=\"15\" bgcolor=\"#3b6fd8\" data-value=\"75\""));
    assert_null(strstr(html, "height=\"0\" bgcolor"));
    assert_non_null(strstr(text, "  and 6 more\n"));
    assert_non_null(strstr(html, "<li>and 6 more</li>"));
    free(text);
    free(html);
    digest_free(&d);
}

static void
test_compose_html_alternative(void **state)
{
    (void)state;
    struct compose_msg m = {
        .from_name = "Example Community",
        .from_addr = "mentors@example.test",
        .to_addr = "boss@example.test",
        .subject = "Digest",
        .body = "Plain ▁▂ text\n",
        .html = "<p>Rich <b>text</b> with a very long line that goes on and on and on and on and "
                "on and on and on</p>\n",
        .msgid_domain = "example.test",
        .date = 1767258000,
    };
    char *headers, *body, *msgid, err[256];

    assert_int_equal(compose_message(&m, &headers, &body, &msgid, err, sizeof(err)), 0);
    const char *b = strstr(headers, "boundary=\"");
    assert_non_null(b);
    char boundary[64];
    size_t n = strcspn(b + 10, "\"");
    assert_true(n < sizeof(boundary));
    memcpy(boundary, b + 10, n);
    boundary[n] = '\0';
    assert_null(strstr(headers, "Content-Transfer-Encoding"));
    char *text_part = strstr(body, "Content-Type: text/plain; charset=UTF-8\r\n"
                                   "Content-Transfer-Encoding: quoted-printable\r\n\r\nPlain");
    char *html_part = strstr(body, "Content-Type: text/html; charset=UTF-8\r\n"
                                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>Rich");
    assert_non_null(text_part);
    assert_non_null(html_part);
    assert_true(text_part < html_part);
    char close[80];
    snprintf(close, sizeof(close), "\r\n--%s--\r\n", boundary);
    assert_non_null(strstr(body, close));
    for (const char *p = body; *p;) {
        size_t len = strcspn(p, "\r");
        assert_true(len <= 78);
        p += len;
        p += *p ? 2 : 0;
    }
    free(headers);
    free(body);
    free(msgid);
    /* Without html the message is text/plain as before. */
    m.html = NULL;
    assert_int_equal(compose_message(&m, &headers, &body, &msgid, err, sizeof(err)), 0);
    assert_non_null(strstr(headers, "Content-Type: text/plain; charset=UTF-8\r\n"));
    assert_null(strstr(headers, "multipart"));
    free(headers);
    free(body);
    free(msgid);
}

/* ---- every language ---- */

#define PHRASES_MAX 512

/* The values of language.data's "phrase.PREFIX..." lines of lang (malloc'd strings). */
static size_t
phrases_of(const char *lang, const char *const *prefixes, char **out, size_t max)
{
    char path[512], line[2048];
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/templates/%s/language.data", MENTORD_SRCDIR, lang);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) && n < max) {
        int want = 0;
        for (size_t i = 0; prefixes[i]; i++)
            want |= strncmp(line, prefixes[i], strlen(prefixes[i])) == 0;
        char *colon = strchr(line, ':');
        if (!want || colon == NULL)
            continue;
        colon += 1 + strspn(colon + 1, " ");
        colon[strcspn(colon, "\n")] = '\0';
        out[n] = strdup(colon);
        assert_non_null(out[n++]);
    }
    fclose(f);
    return n;
}

/*
 * The English words a reader of another language must not meet: each run of
 * text between the "{name}" values of the English phrases, when it holds four
 * letters or more and the language's own phrases do not use it too ("mentor"
 * is Spanish as well).  fail_msg names the first one found in text.
 */
static void
no_english(const char *lang, const char *what, const char *text, char **english, size_t ne,
           char **own, size_t no)
{
    for (size_t i = 0; i < ne; i++) {
        char run[512];
        for (const char *p = english[i]; *p;) {
            size_t len = strcspn(p, "{");
            snprintf(run, sizeof(run), "%.*s", (int)len, p);
            p += len;
            if (*p == '{')
                p += strcspn(p, "}") + (p[strcspn(p, "}")] ? 1 : 0);
            /* trimmed of blanks and punctuation at both ends */
            char *r = run + strspn(run, " ,.:;()\"-%");
            size_t rl = strlen(r);
            while (rl > 0 && strchr(" ,.:;()\"-%", r[rl - 1]))
                r[--rl] = '\0';
            int letters = 0;
            for (const char *c = r; *c; c++)
                letters += (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z');
            int shared = 0;
            for (size_t k = 0; k < no && !shared; k++)
                shared = strstr(own[k], r) != NULL;
            if (letters >= 4 && !shared && strstr(text, r) != NULL)
                fail_msg("%s digest (%s) still says \"%s\" in English", lang, what, r);
        }
    }
}

/* The text of an HTML page as a reader sees it: tags (and their attributes) left out. */
static char *
visible_text(const char *html)
{
    char *out = malloc(strlen(html) + 1), *o = out;
    int in_tag = 0;

    assert_non_null(out);
    for (const char *p = html; *p; p++) {
        if (*p == '<')
            in_tag = 1;
        else if (*p == '>')
            in_tag = 0;
        else if (!in_tag)
            *o++ = *p;
    }
    *o = '\0';
    return out;
}

/*
 * The digest and the help mail's command list in each shipped language: no
 * English label, title, sentence or list line remains; no "{name}" is left
 * unfilled; every figure's label fits its column and the text part 78
 * columns.
 */
static void
test_every_language(void **state)
{
    static const char *const digest_keys[] = {"phrase.digest_", NULL};
    static const char *const help_keys[] = {"phrase.help_", "phrase.usage_", NULL};
    static const char *const langs[] = {"es", "de", "fr", "pt"};
    struct fixture *f = *state;
    char *english[PHRASES_MAX], *own[PHRASES_MAX], err[256];

    seed(f);
    for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
        struct digest d;
        f->cfg.templates.managers_language = (char *)langs[i];
        assert_int_equal(digest_build(&f->cfg, f->st, week_now, 0, &d, err, sizeof(err)), 0);
        char *text = digest_text(&f->cfg, &d), *html = digest_html(&f->cfg, &d);
        assert_non_null(text);
        assert_non_null(html);
        save_sample(langs[i], text, html);
        size_t ne = phrases_of("en", digest_keys, english, PHRASES_MAX);
        size_t no = phrases_of(langs[i], digest_keys, own, PHRASES_MAX);
        assert_true(ne >= 100);
        assert_int_equal(no, ne); /* every phrase translated */
        /* What members wrote and the seed's free-form details are theirs, not ours. */
        own[no++] = strdup("now mentoring; never replied at all; 10 mentees");
        no_english(langs[i], "text", text, english, ne, own, no);
        char *seen = visible_text(html);
        no_english(langs[i], "HTML", seen, english, ne, own, no);
        free(seen);
        no_english(langs[i], "subject", d.subject, english, ne, own, no);
        assert_null(strchr(text, '{'));
        assert_null(strchr(html, '{'));
        assert_true(strlen(d.subject) <= DIGEST_SUBJECT_MAX);
        for (size_t k = 0; k < d.n_figures; k++) {
            size_t cols = 0;
            for (const char *c = d.figures[k].label; *c; c++)
                cols += ((unsigned char)*c & 0xC0) != 0x80;
            if (cols > DIGEST_LABEL_WIDTH)
                fail_msg("%s: figure label too long for the column: %s", langs[i],
                         d.figures[k].label);
        }
        assert_true(widest_line(text) <= 78);
        for (size_t k = 0; k < ne; k++)
            free(english[k]);
        for (size_t k = 0; k < no; k++)
            free(own[k]);
        free(text);
        free(html);
        digest_free(&d);

        /* The help mail's list of commands: the words to type stay, the rest is theirs. */
        char *help = command_help_list(lang_get(f->cfg.templates.dir, langs[i]));
        assert_non_null(help);
        ne = phrases_of("en", help_keys, english, PHRASES_MAX);
        no = phrases_of(langs[i], help_keys, own, PHRASES_MAX);
        assert_int_equal(no, ne);
        no_english(langs[i], "help", help, english, ne, own, no);
        assert_non_null(strstr(help, "  PAUSE "));
        assert_true(widest_line(help) <= 78);
        for (size_t k = 0; k < ne; k++)
            free(english[k]);
        for (size_t k = 0; k < no; k++)
            free(own[k]);
        free(help);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_weekly_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daily_monthly_and_time_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_figures_match_the_seed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropped_checkins_rematch_wait_and_width, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_so_far_covers_the_running_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_and_html, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_sends_once_per_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_steady_series_and_long_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_language, setup, teardown),
        cmocka_unit_test(test_compose_html_alternative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
