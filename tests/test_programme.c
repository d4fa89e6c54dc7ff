/*
 * The programme's decisions on real parsed mail: who is recorded in which
 * role, what is queued in the outbox, and that automatic mail is never
 * answered.  Uses the real store, parser, templates and composer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mail.h"
#include "programme.h"
#include "store.h"
#include "testutil.h"

struct fixture {
    char dir[256];
    struct config cfg;
    struct store *st;
    char *managers[1];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[512], err[256];

    assert_non_null(f);
    assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "prog"), 0);
    snprintf(path, sizeof(path), "%s/m.db", f->dir);
    assert_int_equal(store_open(path, &f->st, err, sizeof(err)), 0);
    f->managers[0] = "boss@example.test";
    f->cfg.community.name = "Example Community";
    f->cfg.community.address = "mentors@example.test";
    f->cfg.community.managers = f->managers;
    f->cfg.community.n_managers = 1;
    f->cfg.community.list_id = "<mentors.example.test>";
    f->cfg.smtp.from = "mentors@example.test";
    f->cfg.templates.dir = MENTORD_SRCDIR "/templates";
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->st);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

/* Parse raw mail and hand it to the programme; returns the outcome word. */
static const char *
handle(struct fixture *f, const char *raw, int expect_rc)
{
    struct mail *m = NULL;
    const char *outcome = NULL;
    char err[256], detail[256];

    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof(err)), 0);
    assert_int_equal(store_begin(f->st), 0);
    int rc = programme_handle_mail(&f->cfg, f->st, m, 1767225600, &outcome, detail,
                                   sizeof(detail));
    assert_int_equal(rc, expect_rc);
    if (rc == 0)
        assert_int_equal(store_commit(f->st), 0);
    else
        store_rollback(f->st);
    mail_free(m);
    return outcome;
}

struct collect {
    int n;
    char headers[4][4096];
    char body[4][4096];
    char rcpt[4][128];
};

static int
collect_one(const struct store_outbox *o, void *arg)
{
    struct collect *c = arg;

    if (c->n < 4) {
        snprintf(c->headers[c->n], sizeof(c->headers[0]), "%s", o->headers);
        snprintf(c->body[c->n], sizeof(c->body[0]), "%s", o->body);
        snprintf(c->rcpt[c->n], sizeof(c->rcpt[0]), "%s", o->recipient);
    }
    c->n++;
    return 0;
}

static void
outbox(struct fixture *f, struct collect *c)
{
    memset(c, 0, sizeof(*c));
    assert_int_equal(store_outbox_each(f->st, NULL, collect_one, c), 0);
}

#define MAIL(from, subject, extra, body)                                                          \
    "From: " from "\r\nTo: mentors@example.test\r\nSubject: " subject "\r\n"                      \
    "Message-ID: <m1@client.test>\r\nDate: Thu, 01 Jan 2026 10:00:00 +0000\r\n" extra "\r\n" body

static void
test_join_records_newcomer_and_answers(void **state)
{
    struct fixture *f = *state;
    struct store_member m;
    struct collect c;

    assert_string_equal(handle(f, MAIL("Ann <ann@example.test>", "JOIN", "", "Hi!\r\n"), 0),
                        "answered");
    assert_int_equal(store_member_get(f->st, "ann@example.test", &m), 1);
    assert_string_equal(m.role, "newcomer");
    assert_string_equal(m.state, "active");
    assert_string_equal(m.name, "Ann");
    store_member_free(&m);
    outbox(f, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.rcpt[0], "ann@example.test");
    assert_non_null(strstr(c.headers[0], "In-Reply-To: <m1@client.test>"));
    assert_non_null(strstr(c.headers[0], "Auto-Submitted: auto-replied"));
    assert_non_null(strstr(c.headers[0], "Subject: Welcome to Example Community mentoring"));
    assert_non_null(strstr(c.body[0], "recorded you as a"));
    assert_non_null(strstr(c.body[0], "Hello Ann,"));
}

static void
test_mentor_in_body_first_line(void **state)
{
    struct fixture *f = *state;
    struct store_member m;
    struct collect c;

    handle(f, MAIL("bob@example.test", "hello there", "", "volunteer\r\n\r\nBob\r\n"), 0);
    assert_int_equal(store_member_get(f->st, "BOB@example.test", &m), 1);
    assert_string_equal(m.role, "mentor");
    store_member_free(&m);
    outbox(f, &c);
    assert_int_equal(c.n, 1);
    assert_non_null(strstr(c.body[0], "recorded you as a mentor"));
}

static void
test_second_join_says_already(void **state)
{
    struct fixture *f = *state;
    struct collect c;

    handle(f, MAIL("ann@example.test", "join", "", "x\r\n"), 0);
    handle(f, MAIL("ann@example.test", "Re: JOIN", "", "again\r\n"), 0);
    outbox(f, &c);
    assert_int_equal(c.n, 2);
    assert_non_null(strstr(c.body[1], "already registered as a newcomer"));
    assert_int_equal(store_member_count(f->st, NULL, NULL), 1);
}

static void
test_newcomer_who_volunteers_becomes_mentor(void **state)
{
    struct fixture *f = *state;
    struct store_member m;

    handle(f, MAIL("ann@example.test", "join", "", "x\r\n"), 0);
    handle(f, MAIL("ann@example.test", "mentor", "", "I can help now\r\n"), 0);
    assert_int_equal(store_member_get(f->st, "ann@example.test", &m), 1);
    assert_string_equal(m.role, "mentor");
    store_member_free(&m);
}

static void
test_unknown_request_gets_help(void **state)
{
    struct fixture *f = *state;
    struct collect c;

    assert_string_equal(handle(f, MAIL("cat@example.test", "what is this?", "", "hm\r\n"), 0),
                        "answered");
    outbox(f, &c);
    assert_int_equal(c.n, 1);
    assert_non_null(strstr(c.body[0], "could not tell what you would like"));
    assert_non_null(strstr(c.body[0], "JOIN"));
    assert_int_equal(store_member_count(f->st, NULL, NULL), 0);
}

static void
test_help_is_not_a_complaint(void **state)
{
    struct fixture *f = *state;
    struct collect c;

    handle(f, MAIL("cat@example.test", "HELP", "", "\r\n"), 0);
    outbox(f, &c);
    assert_int_equal(c.n, 1);
    assert_null(strstr(c.body[0], "could not tell"));
    assert_non_null(strstr(c.body[0], "MENTOR"));
}

static void
test_auto_submitted_is_recorded_not_answered(void **state)
{
    struct fixture *f = *state;
    struct collect c;

    assert_string_equal(handle(f,
                               MAIL("ann@example.test", "Out of office: JOIN",
                                    "Auto-Submitted: auto-replied\r\n", "I am away\r\n"),
                               0),
                        "recorded");
    outbox(f, &c);
    assert_int_equal(c.n, 0);
    assert_int_equal(store_member_count(f->st, NULL, NULL), 0);
}

static void
test_own_address_is_a_loop(void **state)
{
    struct fixture *f = *state;
    struct collect c;

    assert_string_equal(handle(f, MAIL("mentors@example.test", "JOIN", "", "x\r\n"), 0),
                        "recorded");
    outbox(f, &c);
    assert_int_equal(c.n, 0);
}

static void
test_precedence_bulk_is_not_answered(void **state)
{
    struct fixture *f = *state;
    struct collect c;

    handle(f, MAIL("list@example.test", "join", "Precedence: bulk\r\n", "x\r\n"), 0);
    outbox(f, &c);
    assert_int_equal(c.n, 0);
}

static void
test_missing_template_is_a_system_error(void **state)
{
    struct fixture *f = *state;
    struct collect c;

    f->cfg.templates.dir = "/nonexistent/templates";
    handle(f, MAIL("ann@example.test", "join", "", "x\r\n"), -1);
    f->cfg.templates.dir = MENTORD_SRCDIR "/templates";
    outbox(f, &c);
    assert_int_equal(c.n, 0);
    /* the rollback undid the member too */
    assert_int_equal(store_member_count(f->st, NULL, NULL), 0);
}

static void
test_injection_in_name_stays_out_of_headers(void **state)
{
    struct fixture *f = *state;
    struct collect c;

    handle(f,
           MAIL("=?UTF-8?Q?Ann=0D=0ABcc:_eve@example.test?= <ann@example.test>",
                "=?UTF-8?Q?join=0D=0ABcc:_eve@example.test?=", "", "x\r\n"),
           0);
    outbox(f, &c);
    assert_int_equal(c.n, 1);
    assert_null(strstr(c.headers[0], "\r\nBcc:"));
    assert_null(strstr(c.headers[0], "\nBcc:"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_join_records_newcomer_and_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mentor_in_body_first_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_join_says_already, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newcomer_who_volunteers_becomes_mentor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_request_gets_help, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_is_not_a_complaint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_submitted_is_recorded_not_answered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_own_address_is_a_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence_bulk_is_not_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_template_is_a_system_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injection_in_name_stays_out_of_headers, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("programme", tests, NULL, NULL);
}
