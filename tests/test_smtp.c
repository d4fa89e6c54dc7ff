/*
 * smtp: backoff bounds, and the reply classification against Postfix's
 * smtp-sink on 127.0.0.1 (a real SMTP server that can be told to refuse
 * chosen commands with 4xx or 5xx).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compose.h"
#include "config.h"
#include "smtp.h"
#include "store.h"
#include "testutil.h"

#define SINK "/usr/sbin/smtp-sink"
#define NOW ((time_t)1769850000)

struct fixture {
    char dir[256];
    struct store *st;
    struct config cfg;
    char url[64];
    pid_t sink;
    int port;
};

/* A port that was free a moment ago. */
static int
free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static int
can_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Start smtp-sink with extra options (e.g. "-f", "RCPT"); NULL-terminated list. */
static void
start_sink(struct fixture *f, const char *opt, const char *arg)
{
    char listen_on[64], dump[300];
    snprintf(listen_on, sizeof(listen_on), "127.0.0.1:%d", f->port);
    snprintf(dump, sizeof(dump), "%s/dump", f->dir);
    const char *argv[16];
    int n = 0;
    argv[n++] = SINK;
    if (geteuid() == 0) { /* smtp-sink insists on dropping root */
        argv[n++] = "-u";
        argv[n++] = "nobody";
    }
    argv[n++] = "-D";
    argv[n++] = dump;
    if (opt != NULL) {
        argv[n++] = opt;
        argv[n++] = arg;
    }
    argv[n++] = listen_on;
    argv[n++] = "10";
    argv[n] = NULL;
    f->sink = fork();
    assert_true(f->sink >= 0);
    if (f->sink == 0) {
        execv(SINK, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 100 && !can_connect(f->port); i++)
        usleep(30000);
    assert_true(can_connect(f->port));
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[300], err[256];
    if (f == NULL || tu_mkdtemp(f->dir, sizeof(f->dir), "smtp") != 0)
        return -1;
    chmod(f->dir, 0777); /* smtp-sink writes its dump as nobody */
    snprintf(path, sizeof(path), "%s/m.db", f->dir);
    if (store_open(path, &f->st, err, sizeof(err)) != 0) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    f->port = free_port();
    snprintf(f->url, sizeof(f->url), "smtp://127.0.0.1:%d", f->port);
    f->cfg.community.address = "mentors@example.org";
    f->cfg.smtp.url = f->url;
    f->cfg.smtp.tls.security = CONFIG_SEC_NONE;
    f->cfg.smtp.helo = "example.org";
    f->cfg.smtp.timeout = 10;
    f->cfg.smtp.batch_size = 10;
    f->cfg.smtp.retry_base = 60;
    f->cfg.smtp.retry_max = 3600;
    f->cfg.smtp.max_lifetime = 5 * 86400;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    if (f->sink > 0) {
        kill(f->sink, SIGTERM);
        waitpid(f->sink, NULL, 0);
    }
    store_close(f->st);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

/* Compose and queue one message to rcpt, created at when. */
static void
queue(struct fixture *f, const char *rcpt, const char *subject, time_t when)
{
    struct compose_msg m = {.from_name = "Example",
                            .from_addr = "mentors@example.org",
                            .to_addr = rcpt,
                            .subject = subject,
                            .body = "Hello,\n.\nA line with only a dot above.\n",
                            .auto_submitted = "auto-replied",
                            .msgid_domain = "example.org",
                            .date = when};
    char *h, *b, *id, err[256];
    assert_int_equal(compose_message(&m, &h, &b, &id, err, sizeof(err)), 0);
    int64_t oid;
    assert_int_equal(store_outbox_add(f->st, rcpt, "mentors@example.org", id, h, b, when, &oid), 0);
    free(h);
    free(b);
    free(id);
}

struct rows {
    struct store_outbox row[8];
    char err[8][512];
    size_t n;
};

static int
collect(const struct store_outbox *o, void *arg)
{
    struct rows *r = arg;
    if (r->n < 8) {
        r->row[r->n] = *o;
        snprintf(r->err[r->n], sizeof(r->err[0]), "%s", o->last_error ? o->last_error : "");
        r->row[r->n].last_error = NULL; /* the row's strings belong to the store */
        r->row[r->n].recipient = r->row[r->n].sender = r->row[r->n].message_id = NULL;
        r->row[r->n].headers = r->row[r->n].body = r->row[r->n].status = NULL;
        r->n++;
    }
    return 0;
}

static void
rows_of(struct fixture *f, const char *status, struct rows *r)
{
    memset(r, 0, sizeof(*r));
    assert_int_equal(store_outbox_each(f->st, status, collect, r), 0);
}

static char *
dump_text(struct fixture *f)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/dump", f->dir);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return strdup("");
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void
test_backoff_bounds(void **state)
{
    (void)state;
    struct config_smtp c = {.retry_base = 60, .retry_max = 3600};
    int seen_first = -1, varied = 0;
    for (int i = 0; i < 200; i++) {
        int d1 = smtp_backoff(&c, 1), d3 = smtp_backoff(&c, 3), d30 = smtp_backoff(&c, 30);
        assert_in_range(d1, 54, 66);
        assert_in_range(d3, 216, 264);
        assert_in_range(d30, 3240, 3960); /* capped at retry_max, then jittered */
        if (seen_first >= 0 && d1 != seen_first)
            varied = 1;
        seen_first = d1;
    }
    assert_true(varied); /* there is jitter */
    assert_in_range(smtp_backoff(&c, 0), 54, 66);
    assert_in_range(smtp_backoff(&c, 1000000), 3240, 3960); /* no overflow */
}

static void
test_sent(void **state)
{
    struct fixture *f = *state;
    start_sink(f, NULL, NULL);
    queue(f, "ana@example.net", "First", NOW);
    queue(f, "bo@example.net", "Second", NOW);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.sent, 2);
    assert_int_equal(res.deferred + res.failed, 0);
    assert_int_equal(store_outbox_count(f->st, "sent"), 2);
    assert_int_equal(store_outbox_count(f->st, "queued"), 0);
    /* The server received both, with our envelope, EHLO name and headers. */
    kill(f->sink, SIGTERM);
    waitpid(f->sink, NULL, 0);
    f->sink = 0;
    char *dump = dump_text(f);
    assert_non_null(strstr(dump, "X-Helo-Args: example.org"));
    assert_non_null(strstr(dump, "X-Rcpt-Args: <ana@example.net>"));
    assert_non_null(strstr(dump, "X-Rcpt-Args: <bo@example.net>"));
    assert_non_null(strstr(dump, "X-Mail-Args: <mentors@example.org>"));
    assert_non_null(strstr(dump, "Subject: Second"));
    assert_non_null(strstr(dump, "\n.\nA line with only a dot above.")); /* dot-stuffing undone */
    free(dump);
    /* Nothing is due any more. */
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW + 10, 0, NULL, &res), 0);
    assert_int_equal(res.sent + res.deferred + res.failed, 0);
}

/* One drain sends everything due, batch_size per connection, and leaves the store durable. */
static void
test_drain_sends_all_due_across_batches(void **state)
{
    struct fixture *f = *state;
    start_sink(f, NULL, NULL);
    for (int i = 0; i < 25; i++) {
        char subject[32];
        snprintf(subject, sizeof(subject), "Mail %d", i);
        queue(f, "ana@example.net", subject, NOW);
    }
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.sent, 25); /* batch_size is 10: three connections, one drain */
    assert_int_equal(res.deferred + res.failed, 0);
    assert_int_equal(store_outbox_count(f->st, "queued"), 0);
    assert_int_equal(store_outbox_count(f->st, "sent"), 25);
    /* The sent-marks were written with synchronous = NORMAL; the inbox needs FULL back. */
    char v[16];
    assert_int_equal(store_pragma(f->st, "synchronous", v, sizeof(v)), 0);
    assert_string_equal(v, "2");
}

static void
test_connection_refused_defers_and_stops(void **state)
{
    struct fixture *f = *state; /* nothing listens on f->port */
    queue(f, "ana@example.net", "One", NOW);
    queue(f, "bo@example.net", "Two", NOW);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.deferred, 1); /* the batch stopped at the first */
    assert_int_equal(res.sent + res.failed, 0);
    struct rows r;
    rows_of(f, "queued", &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.row[0].attempts, 1);
    assert_in_range(r.row[0].next_attempt, NOW + 54, NOW + 66);
    assert_true(strlen(r.err[0]) > 0);
    assert_int_equal(r.row[1].attempts, 0); /* not punished for the first one's failure */
    assert_int_equal(r.row[1].next_attempt, NOW);
}

static void
test_rcpt_5xx_fails(void **state)
{
    struct fixture *f = *state;
    start_sink(f, "-f", "RCPT");
    queue(f, "ana@example.net", "One", NOW);
    queue(f, "bo@example.net", "Two", NOW);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.failed, 2); /* a per-message refusal does not stop the batch */
    struct rows r;
    rows_of(f, "failed", &r);
    assert_int_equal(r.n, 2);
    assert_non_null(strstr(r.err[0], "5.3.0 Error: command failed"));
    assert_non_null(strstr(r.err[0], "RCPT"));
}

static void
test_data_5xx_fails(void **state)
{
    struct fixture *f = *state;
    start_sink(f, "-f", ".");
    queue(f, "ana@example.net", "One", NOW);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.failed, 1);
    struct rows r;
    rows_of(f, "failed", &r);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.err[0], "500 5.3.0"));
}

static void
test_rcpt_4xx_defers(void **state)
{
    struct fixture *f = *state;
    start_sink(f, "-r", "RCPT");
    queue(f, "ana@example.net", "One", NOW);
    queue(f, "bo@example.net", "Two", NOW);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.deferred, 2);
    struct rows r;
    rows_of(f, "queued", &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.row[1].attempts, 1);
    assert_true(r.row[1].next_attempt > NOW);
    assert_non_null(strstr(r.err[1], "450 4.3.0"));
}

/* A refused AUTH (535) or greeting is our configuration's fault: defer, stop, never fail. */
static void
check_config_refusal(struct fixture *f, const char *command)
{
    start_sink(f, "-f", command);
    queue(f, "ana@example.net", "One", NOW);
    queue(f, "bo@example.net", "Two", NOW);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.deferred, 1);
    assert_int_equal(res.failed + res.sent, 0);
    struct rows r;
    rows_of(f, "queued", &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.row[0].attempts, 1);
    assert_non_null(strstr(r.err[0], "5.3.0"));
    assert_int_equal(r.row[1].attempts, 0);
}

static void
test_auth_refused_defers(void **state)
{
    struct fixture *f = *state;
    f->cfg.smtp.user = "mentord";
    f->cfg.smtp.password = "wrong";
    check_config_refusal(f, "AUTH");
}

static void
test_greeting_refused_defers(void **state)
{
    check_config_refusal(*state, "CONNECT");
}

/* STARTTLS required but not offered (smtp-sink has no TLS): never fall back to plain text. */
static void
test_starttls_never_falls_back(void **state)
{
    struct fixture *f = *state;
    f->cfg.smtp.tls.security = CONFIG_SEC_STARTTLS;
    start_sink(f, NULL, NULL);
    queue(f, "ana@example.net", "Secret", NOW);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.deferred, 1);
    assert_int_equal(res.sent, 0);
    kill(f->sink, SIGTERM);
    waitpid(f->sink, NULL, 0);
    f->sink = 0;
    char *dump = dump_text(f);
    assert_null(strstr(dump, "Subject: Secret"));
    free(dump);
}

static void
test_gives_up_after_lifetime(void **state)
{
    struct fixture *f = *state; /* nothing listening */
    queue(f, "ana@example.net", "Old", NOW - 6 * 86400);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.failed, 1);
    struct rows r;
    rows_of(f, "failed", &r);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.err[0], "gave up after 1 attempts"));
}

static void
test_dry_run_prints_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    queue(f, "ana@example.net", "Dry subject", NOW);
    queue(f, "bo@example.net", "Other", NOW);
    char *out = NULL;
    size_t outlen = 0;
    FILE *mem = open_memstream(&out, &outlen);
    assert_non_null(mem);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 1, mem, &res), 0);
    fclose(mem);
    assert_non_null(strstr(out, "----- mentord --dry-run: message 1 to <ana@example.net> -----\n"));
    assert_non_null(strstr(out, "----- mentord --dry-run: message 2 to <bo@example.net> -----\n"));
    assert_non_null(strstr(out, "Subject: Dry subject\n"));
    assert_non_null(strstr(out, "A line with only a dot above."));
    free(out);
    assert_int_equal(res.sent + res.deferred + res.failed, 0);
    struct rows r;
    rows_of(f, "queued", &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.row[0].attempts, 0);
    assert_int_equal(r.row[0].next_attempt, NOW);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test_setup_teardown(test_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused_defers_and_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rcpt_5xx_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_5xx_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rcpt_4xx_defers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_refused_defers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_greeting_refused_defers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_starttls_never_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gives_up_after_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_prints_and_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_sends_all_due_across_batches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
