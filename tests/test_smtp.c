/*
 * smtp: backoff bounds, and the reply classification against Postfix's
 * smtp-sink on 127.0.0.1 (a real SMTP server that can be told to refuse
 * chosen commands with 4xx or 5xx), each with one session and with four.
 * Parallel sessions are also tested against a small forking SMTP server here
 * (fake_mta), which refuses chosen recipients and logs every connection and
 * delivery, so "each mail exactly once" can be counted.
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
#include <fcntl.h>
#include <sys/time.h>
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
    f->cfg.smtp.sessions = 1;
    *state = f;
    return 0;
}

/* The same fixture with four parallel sessions. */
static int
setup4(void **state)
{
    if (setup(state) != 0)
        return -1;
    ((struct fixture *)*state)->cfg.smtp.sessions = 4;
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

/* ---- fake_mta: one forked child per connection, so sessions really run in parallel ---- */

/* Append one line to the fixture's log (O_APPEND: lines of parallel children do not mix). */
static void
mta_log(const char *dir, const char *line)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/mta.log", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        if (write(fd, line, strlen(line)) < 0)
            perror("mta.log");
        close(fd);
    }
}

/*
 * The crash tests: after the mta_kill_at-th delivery the fake MTA SIGKILLs the
 * sender whose pid is in DIR/victim.pid (once: the file is removed), either
 * before its 250 to the final dot (the server has the mail, the sender does not
 * know) or at the sender's next command (it had the 250 and went on).
 */
static int mta_kill_at;
static int mta_kill_before_reply;
/* The fake MTA hangs up after each delivery and refuses RCPT to "reject" addresses with 550. */
static int mta_hang_up;

static int
mta_delivered(const char *dir)
{
    char path[300], line[512];
    snprintf(path, sizeof(path), "%s/mta.log", dir);
    FILE *fp = fopen(path, "r");
    int n = 0;
    while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
        n += strncmp(line, "DELIVERED ", 10) == 0;
    if (fp != NULL)
        fclose(fp);
    return n;
}

static void
mta_kill_victim(const char *dir, int before_reply)
{
    if (mta_kill_at <= 0 || mta_kill_before_reply != before_reply ||
        mta_delivered(dir) < mta_kill_at)
        return;
    char path[300];
    snprintf(path, sizeof(path), "%s/victim.pid", dir);
    FILE *fp = fopen(path, "r");
    long pid = 0;
    if (fp == NULL)
        return;
    if (fscanf(fp, "%ld", &pid) == 1 && pid > 0 && unlink(path) == 0) {
        kill((pid_t)pid, SIGKILL);
        mta_log(dir, "KILLED\n");
    }
    fclose(fp);
}

static void
mta_say(FILE *io, const char *reply)
{
    fprintf(io, "%s\r\n", reply);
    fflush(io);
}

/*
 * One SMTP conversation: greeting (421 when busy), RCPT refused with 451 when
 * the address contains "defer", DATA taking delay_ms before its 250.  Logs
 * "CONN" per connection and "DELIVERED <rcpt>" per accepted message.
 */
static void
mta_conversation(int fd, const char *dir, int busy, int delay_ms)
{
    FILE *io = fdopen(fd, "r+");
    char line[1024], rcpt[300] = "";
    mta_log(dir, "CONN\n");
    if (busy) {
        mta_say(io, "421 4.3.2 busy, try later");
        fclose(io);
        return;
    }
    mta_say(io, "220 fake.example ESMTP");
    while (fgets(line, sizeof(line), io) != NULL) {
        if (strncasecmp(line, "MAIL", 4) == 0 || strncasecmp(line, "QUIT", 4) == 0)
            mta_kill_victim(dir, 0);
        if (strncasecmp(line, "EHLO", 4) == 0) {
            mta_say(io, "250 fake.example");
        } else if (strncasecmp(line, "MAIL", 4) == 0 || strncasecmp(line, "RSET", 4) == 0) {
            mta_say(io, "250 2.1.0 Ok");
        } else if (strncasecmp(line, "RCPT", 4) == 0) {
            snprintf(rcpt, sizeof(rcpt), "%.290s", line + 9); /* after "RCPT TO:<" */
            rcpt[strcspn(rcpt, ">\r\n")] = '\0';
            mta_say(io, strstr(rcpt, "defer") != NULL           ? "451 4.3.0 try this one later"
                        : mta_hang_up && strstr(rcpt, "reject") ? "550 5.1.1 no such user"
                                                                : "250 2.1.5 Ok");
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            mta_say(io, "354 go ahead");
            while (fgets(line, sizeof(line), io) != NULL && strcmp(line, ".\r\n") != 0)
                ;
            usleep((useconds_t)delay_ms * 1000);
            char entry[400];
            snprintf(entry, sizeof(entry), "DELIVERED %s\n", rcpt);
            mta_log(dir, entry);
            mta_kill_victim(dir, 1);
            mta_say(io, "250 2.0.0 Ok: queued as FAKE");
            if (mta_hang_up)
                break;
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            mta_say(io, "221 2.0.0 Bye");
            break;
        } else {
            mta_say(io, "502 5.5.2 unknown");
        }
    }
    fclose(io);
}

static void
start_fake_mta(struct fixture *f, int busy, int delay_ms)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)f->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_true(lfd >= 0);
    assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 64), 0);
    f->sink = fork();
    assert_true(f->sink >= 0);
    if (f->sink == 0) {
        signal(SIGCHLD, SIG_IGN); /* no zombies from finished conversations */
        for (;;) {
            int fd = accept(lfd, NULL, NULL);
            if (fd < 0)
                continue;
            if (fork() == 0) {
                close(lfd);
                mta_conversation(fd, f->dir, busy, delay_ms);
                _exit(0);
            }
            close(fd);
        }
    }
    close(lfd);
}

/* How many lines of the fake MTA's log start with prefix. */
static int
mta_count(struct fixture *f, const char *prefix)
{
    char path[300], line[512];
    snprintf(path, sizeof(path), "%s/mta.log", f->dir);
    FILE *fp = fopen(path, "r");
    int n = 0;
    while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
        n += strncmp(line, prefix, strlen(prefix)) == 0;
    if (fp != NULL)
        fclose(fp);
    return n;
}

static void
stop_server(struct fixture *f)
{
    kill(f->sink, SIGTERM);
    waitpid(f->sink, NULL, 0);
    f->sink = 0;
}

static double
seconds_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
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

/* With four sessions, 200 mails over batches of 10: every one delivered exactly once. */
static void
test_parallel_each_mail_exactly_once(void **state)
{
    struct fixture *f = *state;
    f->cfg.smtp.sessions = 4;
    start_fake_mta(f, 0, 0);
    for (int i = 0; i < 200; i++) {
        char rcpt[64];
        snprintf(rcpt, sizeof(rcpt), "r%03d@example.net", i);
        queue(f, rcpt, "Hello", NOW);
    }
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.sent, 200);
    assert_int_equal(res.deferred + res.failed, 0);
    assert_int_equal(store_outbox_count(f->st, "sent"), 200);
    stop_server(f);
    assert_int_equal(mta_count(f, "DELIVERED "), 200);
    for (int i = 0; i < 200; i++) {
        char entry[64];
        snprintf(entry, sizeof(entry), "DELIVERED r%03d@example.net\n", i);
        assert_int_equal(mta_count(f, entry), 1);
    }
    /* batch_size 10: a new connection every 10 mails of a session, so about 20 in all. */
    assert_in_range(mta_count(f, "CONN"), 20, 24);
    /* The stored reply is the 250 to the message, not the 221 to the QUIT after the 10th. */
    struct rows r;
    rows_of(f, "sent", &r);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.row[i].attempts, 0);
    char v[16];
    assert_int_equal(store_pragma(f->st, "synchronous", v, sizeof(v)), 0);
    assert_string_equal(v, "2");
}

/*
 * SIGKILL mid-drain, then a new process drains again (as systemd restarts
 * mentord): 30 mails, killed after the 12th delivery, in one chunk (batch_size
 * 50), so the group commit had not run and the sent marks alone remember the
 * first 12.  Killed at the sender's next command, nothing may be sent twice;
 * killed before the 250, only that mail; with four sessions at most one mail
 * per session.  Every mail arrives, and every row ends sent.
 */
static void
crash_drain(struct fixture *f, int before_reply, int *twice, int *missing)
{
    char db[300], pidfile[300], tmp[300];
    snprintf(db, sizeof(db), "%s/m.db", f->dir);
    snprintf(pidfile, sizeof(pidfile), "%s/victim.pid", f->dir);
    snprintf(tmp, sizeof(tmp), "%s/victim.tmp", f->dir);
    f->cfg.smtp.batch_size = 50;
    mta_kill_at = 12;
    mta_kill_before_reply = before_reply;
    start_fake_mta(f, 0, 0);
    for (int i = 0; i < 30; i++) {
        char rcpt[64];
        snprintf(rcpt, sizeof(rcpt), "k%02d@example.net", i);
        queue(f, rcpt, "Hello", NOW);
    }
    store_close(f->st); /* a SQLite connection must not cross a fork */
    f->st = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *st = NULL;
        char err[256];
        FILE *fp = fopen(tmp, "w");
        if (fp == NULL || fprintf(fp, "%ld\n", (long)getpid()) < 0 || fclose(fp) != 0 ||
            rename(tmp, pidfile) != 0 || store_open(db, &st, err, sizeof(err)) != 0)
            _exit(2);
        struct smtp_result res;
        smtp_drain(&f->cfg, st, NOW, 0, NULL, &res);
        _exit(3); /* not killed: the test fails below */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    char err[256];
    assert_int_equal(store_open(db, &f->st, err, sizeof(err)), 0);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.deferred + res.failed, 0);
    assert_int_equal(store_outbox_count(f->st, "sent"), 30);
    assert_int_equal(store_outbox_count(f->st, "queued"), 0);
    stop_server(f);
    assert_int_equal(mta_count(f, "KILLED"), 1);
    *twice = *missing = 0;
    for (int i = 0; i < 30; i++) {
        char entry[64];
        snprintf(entry, sizeof(entry), "DELIVERED k%02d@example.net\n", i);
        int n = mta_count(f, entry);
        *twice += n == 2;
        *missing += n == 0;
        assert_in_range(n, 0, 2);
    }
    mta_kill_at = 0;
}

static void
test_crash_after_250_repeats_nothing(void **state)
{
    struct fixture *f = *state;
    int twice, missing;
    crash_drain(f, 0, &twice, &missing);
    assert_int_equal(missing, 0);
    assert_int_equal(twice, 0);
    assert_int_equal(mta_count(f, "DELIVERED "), 30);
}

static void
test_crash_before_250_repeats_that_one(void **state)
{
    struct fixture *f = *state;
    int twice, missing;
    crash_drain(f, 1, &twice, &missing);
    assert_int_equal(missing, 0);
    assert_int_equal(twice, 1);
    assert_int_equal(mta_count(f, "DELIVERED k11@example.net\n"), 2);
}

static void
test_crash_four_sessions_at_most_one_each(void **state)
{
    struct fixture *f = *state;
    int twice, missing;
    f->cfg.smtp.sessions = 4;
    crash_drain(f, 1, &twice, &missing);
    assert_int_equal(missing, 0);
    assert_in_range(twice, 1, 4);
}

static int
reply_is_queued_as(const struct store_outbox *o, void *arg)
{
    int *bad = arg;
    if (o->reply == NULL || strstr(o->reply, "queued as FAKE") == NULL)
        (*bad)++;
    return 0;
}

/* The server takes 300 ms per message: four sessions send 12 in about a quarter of the time. */
static void
test_sessions_run_in_parallel(void **state)
{
    struct fixture *f = *state;
    f->cfg.smtp.sessions = 4;
    start_fake_mta(f, 0, 300);
    for (int i = 0; i < 12; i++)
        queue(f, "ana@example.net", "Slow", NOW);
    struct smtp_result res;
    double t0 = seconds_now();
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    double took = seconds_now() - t0;
    assert_int_equal(res.sent, 12);
    /* One session alone needs 12 x 0.3 = 3.6 s; four need 1 + 11/4 rounds, about 1.2 s. */
    if (took >= 2.5)
        fail_msg("12 mails took %.2f s", took);
    stop_server(f);
    assert_int_equal(mta_count(f, "DELIVERED "), 12);
    assert_in_range(mta_count(f, "CONN"), 2, 4);
    int bad = 0;
    assert_int_equal(store_outbox_each(f->st, "sent", reply_is_queued_as, &bad), 0);
    assert_int_equal(bad, 0);
}

static int
check_deferred_row(const struct store_outbox *o, void *arg)
{
    int *n = arg;
    (*n)++;
    assert_non_null(strstr(o->recipient, "defer"));
    assert_int_equal(o->attempts, 1);
    assert_true(o->next_attempt > NOW);
    /* Most of them on a kept connection, whose replies are read without curl's verbose text. */
    assert_non_null(strstr(o->last_error, "RCPT: 451 4.3.0 try this one later"));
    return 0;
}

/* A 451 to some recipients defers exactly those; the others go out, over four sessions. */
static void
test_parallel_451_defers_exactly_those(void **state)
{
    struct fixture *f = *state;
    f->cfg.smtp.sessions = 4;
    start_fake_mta(f, 0, 0);
    for (int i = 0; i < 40; i++) {
        char rcpt[64];
        snprintf(rcpt, sizeof(rcpt), i % 7 == 3 ? "defer%02d@example.net" : "ok%02d@example.net",
                 i);
        queue(f, rcpt, "Mixed", NOW);
    }
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.deferred, 6); /* i = 3, 10, 17, 24, 31, 38 */
    assert_int_equal(res.sent, 34);
    assert_int_equal(res.failed, 0);
    int n = 0;
    assert_int_equal(store_outbox_each(f->st, "queued", check_deferred_row, &n), 0);
    assert_int_equal(n, 6);
    stop_server(f);
    assert_int_equal(mta_count(f, "DELIVERED ok"), 34);
    assert_int_equal(mta_count(f, "DELIVERED defer"), 0);
}

/*
 * The server hung up after the first mail.  When curl notices, it opens a new
 * connection for the second in a transfer that was meant to reuse the old one
 * (not verbose: the commands we send are not seen), and a refusal there cannot
 * be pinned on the message; when it does not notice in time, it writes to the
 * closed connection.  Either way: deferred, the drain stops, never failed.
 */
static void
test_refusal_after_unseen_reconnect_defers(void **state)
{
    struct fixture *f = *state;
    mta_hang_up = 1;
    start_fake_mta(f, 0, 0);
    queue(f, "ok@example.net", "First", NOW);
    queue(f, "reject@example.net", "Second", NOW);
    queue(f, "ok2@example.net", "Third", NOW);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    mta_hang_up = 0;
    assert_int_equal(res.sent, 1);
    assert_int_equal(res.deferred, 1);
    assert_int_equal(res.failed, 0);
    struct rows r;
    rows_of(f, "queued", &r);
    assert_int_equal(r.n, 2);
    assert_true(strstr(r.err[0], "RECONNECT: 550 5.1.1 no such user") != NULL ||
                strstr(r.err[0], "Connection reset") != NULL ||
                strstr(r.err[0], "Recv failure") != NULL || strstr(r.err[0], "Send failure"));
    assert_int_equal(r.row[1].attempts, 0); /* the drain stopped before the third */
    stop_server(f);
    assert_in_range(mta_count(f, "CONN"), 1, 2);
}

/* A busy server (421 to the greeting) sees one connection, not one per session. */
static void
test_busy_server_one_connection_not_four(void **state)
{
    struct fixture *f = *state;
    f->cfg.smtp.sessions = 4;
    start_fake_mta(f, 1, 0);
    for (int i = 0; i < 20; i++)
        queue(f, "ana@example.net", "Busy", NOW);
    struct smtp_result res;
    assert_int_equal(smtp_drain(&f->cfg, f->st, NOW, 0, NULL, &res), 0);
    assert_int_equal(res.deferred, 1);
    assert_int_equal(res.sent + res.failed, 0);
    stop_server(f);
    assert_int_equal(mta_count(f, "CONN"), 1);
    struct rows r;
    rows_of(f, "queued", &r);
    assert_int_equal(r.row[0].attempts, 1);
    assert_non_null(strstr(r.err[0], "421"));
    assert_int_equal(r.row[1].attempts, 0);
}

/* [smtp] sessions: default 1, accepted from 1 to 20. */
static void
test_sessions_option(void **state)
{
    struct fixture *f = *state;
    struct config c;
    memset(&c, 0, sizeof(c));
    config_set_defaults(&c);
    assert_int_equal(c.smtp.sessions, 1);
    assert_int_equal(tu_write_file(f->dir, "pw", "secret\n"), 0);
    char pw[300], err[512];
    snprintf(pw, sizeof(pw), "%s/pw", f->dir);
    assert_int_equal(chmod(pw, 0600), 0);
    static const struct {
        const char *value;
        int ok, want;
    } cases[] = {{NULL, 1, 1}, {"1", 1, 1},  {"4", 1, 4}, {"20", 1, 20},
                 {"0", 0, 0},  {"21", 0, 0}, {"x", 0, 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024], line[64] = "";
        if (cases[i].value != NULL)
            snprintf(line, sizeof(line), "sessions = %s\n", cases[i].value);
        snprintf(text, sizeof(text),
                 "[community]\nname = C\naddress = mentors@example.org\n"
                 "[imap]\nhost = imap.example.org\nuser = m\npassword_file = %s\n"
                 "[smtp]\nhost = localhost\nsecurity = none\n%s",
                 pw, line);
        assert_int_equal(tu_write_file(f->dir, "m.ini", text), 0);
        char ini[300];
        snprintf(ini, sizeof(ini), "%s/m.ini", f->dir);
        struct config cfg;
        int rc = config_load(ini, &cfg, err, sizeof(err));
        if (cases[i].ok) {
            assert_int_equal(rc, 0);
            assert_int_equal(cfg.smtp.sessions, cases[i].want);
            config_free(&cfg);
        } else {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err, "sessions"));
        }
    }
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
        /* The same against four sessions. */
        cmocka_unit_test_setup_teardown(test_sent, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused_defers_and_stops, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_rcpt_5xx_fails, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_data_5xx_fails, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_rcpt_4xx_defers, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_auth_refused_defers, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_greeting_refused_defers, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_starttls_never_falls_back, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_gives_up_after_lifetime, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_prints_and_changes_nothing, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_drain_sends_all_due_across_batches, setup4, teardown),
        cmocka_unit_test_setup_teardown(test_parallel_each_mail_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions_run_in_parallel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parallel_451_defers_exactly_those, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusal_after_unseen_reconnect_defers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_busy_server_one_connection_not_four, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_after_250_repeats_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_before_250_repeats_that_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_four_sessions_at_most_one_each, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
