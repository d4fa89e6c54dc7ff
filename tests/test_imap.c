/*
 * Tests of the imap module against the real Dovecot of the test-bed
 * (tests/e2e/testbed.sh).  TESTBED_ENV names its testbed.env; without it the
 * program exits 77 so the unit-test runner can report "needs test-bed".
 *
 * Every test works in mailboxes of its own (named after the test and the pid),
 * so tests do not depend on each other or on what earlier runs left behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "imap.h"
#include "testutil.h"

struct testbed {
    char host[64];
    int imap_port;
    int imaps_port;
    char ca[1024];
    char password[128];
    char domain[128];
    char user[160]; /* ann@DOMAIN */
};

/* ---- test-bed access ---- */

static void
env_value(struct testbed *tb, const char *key, const char *val)
{
    if (strcmp(key, "TB_HOST") == 0)
        snprintf(tb->host, sizeof(tb->host), "%s", val);
    else if (strcmp(key, "TB_IMAP_PORT") == 0)
        tb->imap_port = atoi(val);
    else if (strcmp(key, "TB_IMAPS_PORT") == 0)
        tb->imaps_port = atoi(val);
    else if (strcmp(key, "TB_CA") == 0)
        snprintf(tb->ca, sizeof(tb->ca), "%s", val);
    else if (strcmp(key, "TB_PASSWORD") == 0)
        snprintf(tb->password, sizeof(tb->password), "%s", val);
    else if (strcmp(key, "TB_DOMAIN") == 0)
        snprintf(tb->domain, sizeof(tb->domain), "%s", val);
}

static int
load_testbed(const char *path, struct testbed *tb)
{
    char line[2048];
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return -1;
    memset(tb, 0, sizeof(*tb));
    while (fgets(line, sizeof(line), f) != NULL) {
        char *eq = strchr(line, '='), *val;
        size_t n;
        if (eq == NULL)
            continue;
        *eq = '\0';
        val = eq + 1;
        n = strcspn(val, "\r\n");
        val[n] = '\0';
        if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
            val[n - 1] = '\0';
            val++;
        }
        env_value(tb, line, val);
    }
    fclose(f);
    snprintf(tb->user, sizeof(tb->user), "ann@%s", tb->domain);
    return tb->imap_port > 0 && tb->imaps_port > 0 && tb->ca[0] && tb->password[0] ? 0 : -1;
}

static int
group_setup(void **state)
{
    static struct testbed tb;
    const char *env = getenv("TESTBED_ENV");

    if (env == NULL || load_testbed(env, &tb) < 0) {
        fprintf(stderr, "test_imap: cannot read test-bed settings from %s\n",
                env != NULL ? env : "(unset)");
        return -1;
    }
    *state = &tb;
    return 0;
}

/* A config for the test-bed with the given security; strings live in tb. */
static struct config_imap
tb_cfg(struct testbed *tb, enum config_security sec)
{
    struct config_imap c;

    memset(&c, 0, sizeof(c));
    c.host = tb->host;
    c.port = sec == CONFIG_SEC_TLS ? tb->imaps_port : tb->imap_port;
    c.tls.security = sec;
    c.tls.verify = 1;
    c.tls.ca_file = tb->ca;
    c.user = tb->user;
    c.password = tb->password;
    c.mailbox = "INBOX";
    c.timeout = 10;
    c.idle = 1;
    return c;
}

static struct imap *
tb_connect(struct testbed *tb)
{
    struct config_imap c = tb_cfg(tb, CONFIG_SEC_TLS);
    struct imap *im = NULL;
    char err[1024];

    if (imap_connect(&c, &im, err, sizeof(err)) != 0)
        fail_msg("connect: %s", err);
    return im;
}

/* A mailbox name of this test's own. */
static void
box_name(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "t-%s-%ld", tag, (long)getpid());
}

/* A second, independent session (raw libetpan, so the module under test is not
 * used to set up its own checks): APPEND msg to mailbox, return the new UID. */
static uint32_t
raw_append(struct testbed *tb, const char *mailbox, const char *msg)
{
    mailimap *s = mailimap_new(0, NULL);
    uint32_t uidvalidity = 0, uid = 0;
    int r;

    assert_non_null(s);
    r = mailimap_socket_connect(s, tb->host, (uint16_t)tb->imap_port);
    assert_true(r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED);
    assert_int_equal(mailimap_login(s, tb->user, tb->password), MAILIMAP_NO_ERROR);
    r = mailimap_uidplus_append(s, mailbox, NULL, NULL, msg, strlen(msg), &uidvalidity, &uid);
    assert_int_equal(r, MAILIMAP_NO_ERROR);
    assert_true(uid > 0);
    mailimap_logout(s);
    mailimap_free(s);
    return uid;
}

static void
raw_delete(struct testbed *tb, const char *mailbox)
{
    mailimap *s = mailimap_new(0, NULL);

    if (s == NULL)
        return;
    if (mailimap_socket_connect(s, tb->host, (uint16_t)tb->imap_port) ==
            MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
        mailimap_login(s, tb->user, tb->password) == MAILIMAP_NO_ERROR) {
        (void)mailimap_delete(s, mailbox); /* cleanup only; a leftover box is harmless */
        mailimap_logout(s);
    }
    mailimap_free(s);
}

static char *
make_msg(const char *subject)
{
    static const char *fmt = "From: Ann <ann@example.test>\r\n"
                             "To: mentors@example.test\r\n"
                             "Subject: %s\r\n"
                             "Message-ID: <%s.%ld@example.test>\r\n"
                             "\r\n"
                             "Body line one\r\n"
                             "caf\xc3\xa9 and a tab\there\r\n";
    char *p = NULL;

    assert_true(asprintf(&p, fmt, subject, subject, (long)getpid()) > 0);
    return p;
}

/* A mailbox of the test's own holding n fresh messages; selected in im. */
static void
fill_box(struct testbed *tb, struct imap *im, const char *box, uint32_t *uids, size_t n)
{
    uint32_t uv = 0, next = 0;
    size_t i;

    assert_int_equal(imap_ensure_mailbox(im, box), 0);
    for (i = 0; i < n; i++) {
        char subject[64];
        char *msg;
        snprintf(subject, sizeof(subject), "msg-%zu", i);
        msg = make_msg(subject);
        uids[i] = raw_append(tb, box, msg);
        free(msg);
    }
    assert_int_equal(imap_select(im, box, &uv, &next), 0);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- connecting ---- */

static void
connect_ok(struct testbed *tb, enum config_security sec)
{
    struct config_imap c = tb_cfg(tb, sec);
    struct imap *im = NULL;
    char err[1024] = "";

    assert_int_equal(imap_connect(&c, &im, err, sizeof(err)), 0);
    assert_non_null(im);
    /* Dovecot offers all three; these come from CAPABILITY after LOGIN. */
    assert_true(imap_has_idle(im));
    assert_true(imap_has_move(im));
    assert_true(imap_has_uidplus(im));
    assert_int_equal(imap_noop(im), 0);
    imap_close(im);
}

static void
test_connect_tls(void **state)
{
    connect_ok(*state, CONFIG_SEC_TLS);
}

static void
test_connect_starttls(void **state)
{
    connect_ok(*state, CONFIG_SEC_STARTTLS);
}

static void
test_connect_plain(void **state)
{
    connect_ok(*state, CONFIG_SEC_NONE);
}

/* "localhost" is in the certificate as a DNS name (and is sent as SNI). */
static void
test_connect_localhost_name(void **state)
{
    struct testbed *tb = *state;
    struct config_imap c = tb_cfg(tb, CONFIG_SEC_TLS);
    struct imap *im = NULL;
    char err[1024] = "";

    c.host = "localhost";
    if (imap_connect(&c, &im, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    imap_close(im);
}

static void
test_wrong_password(void **state)
{
    struct testbed *tb = *state;
    struct config_imap c = tb_cfg(tb, CONFIG_SEC_TLS);
    struct imap *im = NULL;
    char err[1024] = "";

    c.password = "not-the-password-42";
    assert_int_equal(imap_connect(&c, &im, err, sizeof(err)), -1);
    assert_null(im);
    assert_non_null(strstr(err, "LOGIN failed"));
    assert_non_null(strstr(err, "NO [AUTHENTICATIONFAILED]")); /* the server's own words */
    assert_null(strstr(err, "not-the-password-42"));
}

static void
test_connection_refused(void **state)
{
    struct testbed *tb = *state;
    struct config_imap c = tb_cfg(tb, CONFIG_SEC_NONE);
    struct imap *im = NULL;
    char err[1024] = "";

    c.port = 1; /* nothing listens there */
    assert_int_equal(imap_connect(&c, &im, err, sizeof(err)), -1);
    assert_null(im);
    assert_non_null(strstr(err, "connecting to 127.0.0.1:1"));
}

/* A CA of our own, unrelated to the test-bed's certificate. */
static void
make_other_ca(char *dir, size_t dirlen, char *ca, size_t calen)
{
    char cmd[2048];

    assert_int_equal(tu_mkdtemp(dir, dirlen, "imapca"), 0);
    snprintf(ca, calen, "%s/ca.pem", dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=other-test-ca -keyout '%s/key.pem' -out '%s' >/dev/null 2>&1",
             dir, ca);
    assert_int_equal(system(cmd), 0);
}

static void
untrusted(struct testbed *tb, enum config_security sec)
{
    struct config_imap c = tb_cfg(tb, sec);
    struct imap *im = NULL;
    char err[1024] = "", dir[256], ca[512];

    make_other_ca(dir, sizeof(dir), ca, sizeof(ca));
    c.tls.ca_file = ca;
    assert_int_equal(imap_connect(&c, &im, err, sizeof(err)), -1);
    assert_null(im);
    if (strstr(err, "certificate not trusted") == NULL)
        fail_msg("unexpected error: %s", err);

    /* The system store does not know the test-bed's CA either. */
    c.tls.ca_file = NULL;
    assert_int_equal(imap_connect(&c, &im, err, sizeof(err)), -1);
    if (strstr(err, "certificate not trusted") == NULL)
        fail_msg("unexpected error: %s", err);

    /* tls_verify = no: accepted, with a warning in the log. */
    c.tls.ca_file = ca;
    c.tls.verify = 0;
    if (imap_connect(&c, &im, err, sizeof(err)) != 0)
        fail_msg("tls_verify=0 should connect: %s", err);
    imap_close(im);
    tu_rmrf(dir);
}

static void
test_untrusted_tls(void **state)
{
    untrusted(*state, CONFIG_SEC_TLS);
}

static void
test_untrusted_starttls(void **state)
{
    untrusted(*state, CONFIG_SEC_STARTTLS);
}

/* "127.1" reaches 127.0.0.1 but is not a name the certificate holds. */
static void
test_hostname_mismatch(void **state)
{
    struct testbed *tb = *state;
    struct config_imap c = tb_cfg(tb, CONFIG_SEC_TLS);
    struct imap *im = NULL;
    char err[1024] = "";

    c.host = "127.1";
    assert_int_equal(imap_connect(&c, &im, err, sizeof(err)), -1);
    assert_null(im);
    if (strstr(err, "hostname mismatch") == NULL)
        fail_msg("unexpected error: %s", err);
}

/*
 * A fake IMAP server without STARTTLS, serving one connection: it answers
 * CAPABILITY and LOGOUT and exits 3 if a LOGIN (a credential) ever arrives.
 */
static void
fake_server(int lfd)
{
    char buf[1024];
    size_t len = 0;
    ssize_t n;
    int fd = accept(lfd, NULL, NULL);

    if (fd < 0)
        _exit(2);
    dprintf(fd, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake server ready\r\n");
    while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
        char *nl, tag[32];
        len += (size_t)n;
        buf[len] = '\0';
        while ((nl = strstr(buf, "\r\n")) != NULL) {
            *nl = '\0';
            if (sscanf(buf, "%31s", tag) != 1)
                _exit(2);
            if (strstr(buf, "LOGIN") != NULL || strstr(buf, "AUTHENTICATE") != NULL)
                _exit(3);
            if (strstr(buf, "CAPABILITY") != NULL)
                dprintf(fd, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%s OK done\r\n", tag);
            else if (strstr(buf, "LOGOUT") != NULL)
                dprintf(fd, "* BYE bye\r\n%s OK done\r\n", tag);
            else
                dprintf(fd, "%s BAD unknown\r\n", tag);
            len -= (size_t)(nl + 2 - buf);
            memmove(buf, nl + 2, len + 1);
        }
    }
    _exit(0);
}

static void
test_starttls_not_offered(void **state)
{
    struct testbed *tb = *state;
    struct config_imap c = tb_cfg(tb, CONFIG_SEC_STARTTLS);
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    struct imap *im = NULL;
    char err[1024] = "";
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    pid_t pid;

    assert_true(lfd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        fake_server(lfd);
    close(lfd);
    c.port = ntohs(sa.sin_port);
    assert_int_equal(imap_connect(&c, &im, err, sizeof(err)), -1);
    assert_null(im);
    if (strstr(err, "does not offer STARTTLS") == NULL)
        fail_msg("unexpected error: %s", err);
    {
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0); /* 3 would mean LOGIN was sent */
    }
}

static void
test_bad_ca_file(void **state)
{
    struct testbed *tb = *state;
    struct config_imap c = tb_cfg(tb, CONFIG_SEC_TLS);
    struct imap *im = NULL;
    char err[1024] = "";

    c.tls.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(imap_connect(&c, &im, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/ca.pem"));
}

/* ---- mailboxes ---- */

static void
test_select_reports_uids(void **state)
{
    struct testbed *tb = *state;
    struct imap *im = tb_connect(tb);
    uint32_t uv1 = 0, next1 = 0, uv2 = 0, next2 = 0, uid;
    char box[64], *msg;

    box_name(box, sizeof(box), "select");
    assert_int_equal(imap_ensure_mailbox(im, box), 0);
    assert_int_equal(imap_select(im, box, &uv1, &next1), 0);
    assert_true(uv1 != 0);
    assert_true(next1 >= 1);
    assert_true(imap_keywords_allowed(im)); /* Dovecot: PERMANENTFLAGS (... \*) */
    msg = make_msg("select");
    uid = raw_append(tb, box, msg);
    free(msg);
    assert_int_equal(uid, next1);
    assert_int_equal(imap_select(im, box, &uv2, &next2), 0);
    assert_int_equal(uv2, uv1);
    assert_int_equal(next2, next1 + 1);
    imap_close(im);
    raw_delete(tb, box);
}

static void
test_select_missing_mailbox(void **state)
{
    struct testbed *tb = *state;
    struct imap *im = tb_connect(tb);
    uint32_t uv = 0, next = 0;

    assert_int_equal(imap_select(im, "no-such-box-here", &uv, &next), -1);
    assert_non_null(strstr(imap_error(im), "SELECT no-such-box-here failed"));
    assert_non_null(strstr(imap_error(im), "NO ")); /* the server's status line */
    imap_close(im);
}

static void
test_ensure_mailbox_idempotent(void **state)
{
    struct testbed *tb = *state;
    struct imap *im = tb_connect(tb);
    uint32_t uv = 0, next = 0;
    char box[64];

    box_name(box, sizeof(box), "ensure");
    assert_int_equal(imap_select(im, box, &uv, &next), -1); /* not there yet */
    assert_int_equal(imap_ensure_mailbox(im, box), 0);
    assert_int_equal(imap_ensure_mailbox(im, box), 0);
    assert_int_equal(imap_select(im, box, &uv, &next), 0);
    assert_int_equal(imap_ensure_mailbox(im, "INBOX"), 0);
    imap_close(im);
    raw_delete(tb, box);
}

/* ---- search, fetch ---- */

static void
expect_uids(struct imap *im, uint32_t first, uint32_t last, const char *kw, const uint32_t *want,
            size_t nwant)
{
    uint32_t *got = NULL;
    size_t n = 99, i;

    if (imap_search(im, first, last, kw, &got, &n) != 0)
        fail_msg("search %u:%u: %s", first, last, imap_error(im));
    assert_int_equal(n, nwant);
    for (i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
    free(got);
}

static void
test_search_ranges(void **state)
{
    struct testbed *tb = *state;
    struct imap *im = tb_connect(tb);
    uint32_t u[3];
    char box[64];

    box_name(box, sizeof(box), "search");
    fill_box(tb, im, box, u, 3);
    assert_true(u[0] < u[1] && u[1] < u[2]);
    expect_uids(im, 1, 0, NULL, u, 3);
    expect_uids(im, 0, 0, NULL, u, 3);
    expect_uids(im, u[1], 0, NULL, u + 1, 2);
    expect_uids(im, u[0], u[1], NULL, u, 2);
    expect_uids(im, u[1], u[1], NULL, u + 1, 1);
    /* "UID SEARCH UID n:*" with n past the last UID: the server answers with the
     * last message; the module must not. */
    expect_uids(im, u[2] + 1, 0, NULL, NULL, 0);
    expect_uids(im, u[2] + 1, u[2] + 5, NULL, NULL, 0);
    expect_uids(im, u[2], u[0], NULL, NULL, 0); /* empty range */
    /* \Deleted messages are not reported. */
    assert_int_equal(imap_add_flag(im, u[0], "\\Deleted"), 0);
    expect_uids(im, 1, 0, NULL, u + 1, 2);
    imap_close(im);
    raw_delete(tb, box);
}

static void
test_fetch_exact_bytes(void **state)
{
    struct testbed *tb = *state;
    struct imap *im = tb_connect(tb);
    uint32_t uid, uv = 0, next = 0;
    char box[64], *msg, *data = NULL;
    size_t len = 0;

    box_name(box, sizeof(box), "fetch");
    assert_int_equal(imap_ensure_mailbox(im, box), 0);
    msg = make_msg("fetch");
    uid = raw_append(tb, box, msg);
    assert_int_equal(imap_select(im, box, &uv, &next), 0);
    if (imap_fetch(im, uid, &data, &len) != 0)
        fail_msg("fetch: %s", imap_error(im));
    assert_int_equal(len, strlen(msg));
    assert_memory_equal(data, msg, len);
    assert_int_equal(data[len], '\0');
    free(data);

    /* BODY.PEEK: still unseen, so a search for unseen mail... is not our API;
     * instead check the message can be fetched again unchanged. */
    assert_int_equal(imap_fetch(im, uid, &data, &len), 0);
    assert_int_equal(len, strlen(msg));
    free(data);

    /* A UID that does not exist (e.g. expunged meanwhile). */
    data = (char *)1;
    assert_int_equal(imap_fetch(im, uid + 100, &data, &len), -1);
    assert_null(data);
    {
        char want[64];
        snprintf(want, sizeof(want), "UID %u", uid + 100);
        assert_non_null(strstr(imap_error(im), want));
    }
    free(msg);
    imap_close(im);
    raw_delete(tb, box);
}

/* ---- move, flags ---- */

static void
test_move(void **state)
{
    struct testbed *tb = *state;
    struct imap *im = tb_connect(tb);
    uint32_t u[2], uv = 0, next = 0, *got = NULL;
    char box[64], dest[64], *data = NULL;
    size_t n = 0, len = 0;

    box_name(box, sizeof(box), "move-src");
    box_name(dest, sizeof(dest), "move-dst");
    fill_box(tb, im, box, u, 2);
    assert_int_equal(imap_ensure_mailbox(im, dest), 0);
    if (imap_move(im, u[0], dest) != 0)
        fail_msg("move: %s", imap_error(im));
    expect_uids(im, 1, 0, NULL, u + 1, 1); /* gone from the source */

    assert_int_equal(imap_select(im, dest, &uv, &next), 0);
    assert_int_equal(imap_search(im, 1, 0, NULL, &got, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(imap_fetch(im, got[0], &data, &len), 0);
    assert_non_null(strstr(data, "Subject: msg-0\r\n"));
    free(data);
    free(got);

    /* Moving to a mailbox that does not exist fails with the server's reason. */
    assert_int_equal(imap_select(im, box, &uv, &next), 0);
    assert_int_equal(imap_move(im, u[1], "no-such-dest-box"), -1);
    assert_non_null(strstr(imap_error(im), "no-such-dest-box"));
    imap_close(im);
    raw_delete(tb, box);
    raw_delete(tb, dest);
}

/* Without MOVE: UID COPY + \Deleted + UID EXPUNGE, or plain EXPUNGE without UIDPLUS. */
static void
move_fallback(struct testbed *tb, unsigned caps, const char *tag)
{
    struct imap *im = tb_connect(tb);
    uint32_t u[3], uv = 0, next = 0, *got = NULL;
    char box[64], dest[80], *data = NULL;
    size_t n = 0, len = 0;

    imap_disable_caps(im, caps);
    assert_false(imap_has_move(im));
    box_name(box, sizeof(box), tag);
    snprintf(dest, sizeof(dest), "%s-dst", box);
    fill_box(tb, im, box, u, 3);
    assert_int_equal(imap_ensure_mailbox(im, dest), 0);
    if (imap_move(im, u[1], dest) != 0)
        fail_msg("move: %s", imap_error(im));
    {
        uint32_t rest[2] = {u[0], u[2]};
        expect_uids(im, 1, 0, NULL, rest, 2); /* the others are untouched */
    }
    assert_int_equal(imap_select(im, dest, &uv, &next), 0);
    assert_int_equal(imap_search(im, 1, 0, NULL, &got, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(imap_fetch(im, got[0], &data, &len), 0);
    assert_non_null(strstr(data, "Subject: msg-1\r\n"));
    free(data);
    free(got);
    imap_close(im);
    raw_delete(tb, box);
    raw_delete(tb, dest);
}

static void
test_move_fallback_uidplus(void **state)
{
    move_fallback(*state, IMAP_CAP_MOVE, "copy-uidplus");
}

static void
test_move_fallback_expunge(void **state)
{
    move_fallback(*state, IMAP_CAP_MOVE | IMAP_CAP_UIDPLUS, "copy-expunge");
}

/* ---- batches: one FETCH and one MOVE for many messages ---- */

/*
 * Sizes with heads: a message shorter than the head arrives whole with its
 * size, in one FETCH; a longer one, and one that fills the head exactly,
 * arrive with their size only, and imap_fetch_bodies fetches just those,
 * leaving the whole ones as they came.
 */
static void
test_fetch_sizes_with_heads(void **state)
{
    struct testbed *tb = *state;
    struct imap *im = tb_connect(tb);
    uint32_t u[3];
    struct imap_message m[4];
    char box[64];

    box_name(box, sizeof(box), "heads");
    assert_int_equal(imap_ensure_mailbox(im, box), 0);
    char *small = make_msg("small");
    size_t small_len = strlen(small);
    char *big = NULL;
    assert_true(asprintf(&big, "%sand a longer body: %0900d\r\n", small, 7) > 0);
    u[0] = raw_append(tb, box, small);
    u[1] = raw_append(tb, box, big);
    u[2] = raw_append(tb, box, small);
    uint32_t uv = 0, next = 0;
    assert_int_equal(imap_select(im, box, &uv, &next), 0);
    memset(m, 0, sizeof(m));
    for (size_t i = 0; i < 3; i++)
        m[i].uid = u[i];
    m[3].uid = u[2] + 100; /* not in the mailbox */
    /* A head of 600 bytes: the small ones fit, the big one does not. */
    if (imap_fetch_sizes_heads(im, m, 4, 600, 0) != 0)
        fail_msg("sizes and heads: %s", imap_error(im));
    assert_true(m[0].whole && m[2].whole);
    assert_int_equal(m[0].len, small_len);
    assert_int_equal(m[0].size, small_len);
    assert_memory_equal(m[0].data, small, small_len);
    assert_int_equal(m[0].data[small_len], '\0');
    assert_false(m[1].whole);
    assert_null(m[1].data);
    assert_int_equal(m[1].size, strlen(big));
    assert_false(m[3].found);
    const char *kept = m[0].data;
    if (imap_fetch_bodies(im, m, 4, 0) != 0)
        fail_msg("bodies: %s", imap_error(im));
    assert_ptr_equal(m[0].data, kept); /* not fetched again */
    assert_int_equal(m[1].len, strlen(big));
    assert_memory_equal(m[1].data, big, strlen(big));
    assert_true(m[0].found && m[1].found && m[2].found);
    assert_false(m[3].found);
    imap_messages_clear(m, 4);
    assert_false(m[0].whole);

    /* A head of exactly the small message's length is filled: not whole, fetched again. */
    for (size_t i = 0; i < 3; i++)
        m[i].uid = u[i];
    if (imap_fetch_sizes_heads(im, m, 1, (uint32_t)small_len, 0) != 0)
        fail_msg("sizes and heads: %s", imap_error(im));
    assert_false(m[0].whole);
    assert_null(m[0].data);
    /* The limit caps the head: under a limit of 100 nothing is whole. */
    if (imap_fetch_sizes_heads(im, m, 3, 600, 100) != 0)
        fail_msg("sizes and heads: %s", imap_error(im));
    assert_false(m[0].whole || m[1].whole || m[2].whole);
    assert_int_equal(m[0].size, small_len);
    imap_messages_clear(m, 3);
    free(small);
    free(big);
    imap_close(im);
}

static void
test_fetch_and_move_batch(void **state)
{
    struct testbed *tb = *state;
    struct imap *im = tb_connect(tb);
    uint32_t u[4], uv = 0, next = 0, *got = NULL;
    struct imap_message m[5];
    char box[64], dest[80];
    size_t n = 0;

    box_name(box, sizeof(box), "batch");
    snprintf(dest, sizeof(dest), "%s-dst", box);
    fill_box(tb, im, box, u, 4);
    memset(m, 0, sizeof(m));
    for (size_t i = 0; i < 4; i++)
        m[i].uid = u[i];
    m[4].uid = u[3] + 100; /* not in the mailbox */
    if (imap_fetch_sizes(im, m, 5) != 0)
        fail_msg("sizes: %s", imap_error(im));
    if (imap_fetch_bodies(im, m, 5, 40) != 0)
        fail_msg("bodies: %s", imap_error(im));
    for (size_t i = 0; i < 4; i++) {
        char subject[32];
        assert_true(m[i].found);
        assert_true(m[i].size > 40);
        assert_int_equal(m[i].len, 40); /* BODY.PEEK[]<0.40>: each cut at the limit */
        assert_int_equal(m[i].data[40], '\0');
        assert_memory_equal(m[i].data, "From: Ann <ann@example.test>\r\n", 30);
        /* Every message got its own bytes, not a neighbour's. */
        imap_messages_clear(&m[i], 1);
        assert_int_equal(imap_fetch_bodies(im, &m[i], 1, 0), 0);
        snprintf(subject, sizeof(subject), "Subject: msg-%zu\r\n", i);
        assert_non_null(strstr(m[i].data, subject));
        assert_int_equal(m[i].len, m[i].size);
    }
    assert_false(m[4].found);
    assert_null(m[4].data);
    imap_messages_clear(m, 5);
    assert_null(m[0].data);

    /* One UID MOVE for 0, 1 and 3: only 2 stays. */
    assert_int_equal(imap_ensure_mailbox(im, dest), 0);
    uint32_t moving[3] = {u[0], u[1], u[3]};
    if (imap_move_many(im, moving, 3, dest) != 0)
        fail_msg("move: %s", imap_error(im));
    expect_uids(im, 1, 0, NULL, u + 2, 1);
    assert_int_equal(imap_select(im, dest, &uv, &next), 0);
    assert_int_equal(imap_search(im, 1, 0, NULL, &got, &n), 0);
    assert_int_equal(n, 3);
    free(got);
    /* Flags on many at once. */
    assert_int_equal(imap_select(im, box, &uv, &next), 0);
    assert_int_equal(imap_add_flag_many(im, u + 2, 1, "$MentordDone"), 0);
    expect_uids(im, 1, 0, "$MentordDone", NULL, 0);
    imap_close(im);
    raw_delete(tb, box);
    raw_delete(tb, dest);
}

static void
test_flag_keyword(void **state)
{
    struct testbed *tb = *state;
    struct imap *im = tb_connect(tb);
    uint32_t u[3];
    uint32_t rest[2];
    char box[64];

    box_name(box, sizeof(box), "flag");
    fill_box(tb, im, box, u, 3);
    expect_uids(im, 1, 0, "$MentordDone", u, 3);
    if (imap_add_flag(im, u[1], "$MentordDone") != 0)
        fail_msg("flag: %s", imap_error(im));
    rest[0] = u[0];
    rest[1] = u[2];
    expect_uids(im, 1, 0, "$MentordDone", rest, 2);
    expect_uids(im, 1, 0, NULL, u, 3); /* without the keyword filter all are there */
    assert_int_equal(imap_add_flag(im, u[0], "\\Seen"), 0);
    expect_uids(im, 1, 0, "$MentordDone", rest, 2); /* \Seen is not the keyword */
    /* Not an atom: refused before anything is sent. */
    assert_int_equal(imap_add_flag(im, u[0], "bad flag"), -1);
    assert_non_null(strstr(imap_error(im), "invalid flag"));
    assert_int_equal(imap_noop(im), 0);
    imap_close(im);
    raw_delete(tb, box);
}

/* ---- waiting ---- */

/* A child that appends to box after delay_ms, from its own connection. */
static pid_t
append_later(struct testbed *tb, const char *box, int delay_ms)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
        char *msg = make_msg("later");
        mailimap *s = mailimap_new(0, NULL);
        uint32_t uv, uid;
        int ok;
        nanosleep(&ts, NULL);
        ok = s != NULL &&
             mailimap_socket_connect(s, tb->host, (uint16_t)tb->imap_port) ==
                 MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
             mailimap_login(s, tb->user, tb->password) == MAILIMAP_NO_ERROR &&
             mailimap_uidplus_append(s, box, NULL, NULL, msg, strlen(msg), &uv, &uid) ==
                 MAILIMAP_NO_ERROR;
        _exit(ok ? 0 : 1);
    }
    return pid;
}

static void
reap(pid_t pid)
{
    int status = 0;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
wait_box(struct testbed *tb, struct imap **im, char *box, size_t len, const char *tag)
{
    uint32_t uv, next;

    *im = tb_connect(tb);
    box_name(box, len, tag);
    assert_int_equal(imap_ensure_mailbox(*im, box), 0);
    assert_int_equal(imap_select(*im, box, &uv, &next), 0);
}

static void
test_wait_idle_new_mail(void **state)
{
    struct testbed *tb = *state;
    volatile sig_atomic_t stop = 0;
    struct imap *im;
    char box[64];
    double t0, dt;
    pid_t pid;
    int r;

    wait_box(tb, &im, box, sizeof(box), "idle");
    pid = append_later(tb, box, 700);
    t0 = now_s();
    r = imap_wait(im, 20, 1, &stop);
    dt = now_s() - t0;
    reap(pid);
    if (r != 1)
        fail_msg("imap_wait returned %d after %.1f s: %s", r, dt, imap_error(im));
    assert_true(dt < 5.0);
    /* The session is usable after IDLE and sees the new message. */
    {
        uint32_t *got = NULL;
        size_t n = 0;
        assert_int_equal(imap_search(im, 1, 0, NULL, &got, &n), 0);
        assert_int_equal(n, 1);
        free(got);
    }
    imap_close(im);
    raw_delete(tb, box);
}

static void
test_wait_idle_timeout(void **state)
{
    struct testbed *tb = *state;
    volatile sig_atomic_t stop = 0;
    struct imap *im;
    char box[64];
    double t0, dt;

    wait_box(tb, &im, box, sizeof(box), "idle-to");
    t0 = now_s();
    assert_int_equal(imap_wait(im, 2, 1, &stop), 0);
    dt = now_s() - t0;
    assert_true(dt >= 1.0 && dt < 4.5);
    assert_int_equal(imap_noop(im), 0);
    imap_close(im);
    raw_delete(tb, box);
}

static volatile sig_atomic_t *alarm_stop;

static void
on_alarm(int sig)
{
    (void)sig;
    if (alarm_stop != NULL)
        *alarm_stop = 1;
}

static void
test_wait_stop(void **state)
{
    struct testbed *tb = *state;
    static volatile sig_atomic_t stop;
    struct sigaction sa;
    struct imap *im;
    char box[64];
    double t0, dt;

    wait_box(tb, &im, box, sizeof(box), "idle-stop");
    /* Already stopped: returns at once. */
    stop = 1;
    t0 = now_s();
    assert_int_equal(imap_wait(im, 30, 1, &stop), 0);
    assert_true(now_s() - t0 < 1.5);

    /* Stopped by a signal while idling (as SIGTERM does in the daemon). */
    stop = 0;
    alarm_stop = &stop;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    alarm(1);
    t0 = now_s();
    assert_int_equal(imap_wait(im, 30, 1, &stop), 0);
    dt = now_s() - t0;
    assert_true(dt < 3.5);
    assert_int_equal(imap_noop(im), 0);

    /* The same without IDLE (sleep + NOOP). */
    stop = 0;
    alarm(1);
    t0 = now_s();
    assert_int_equal(imap_wait(im, 30, 0, &stop), 0);
    assert_true(now_s() - t0 < 3.5);
    alarm_stop = NULL;
    imap_close(im);
    raw_delete(tb, box);
}

static void
test_wait_poll_new_mail(void **state)
{
    struct testbed *tb = *state;
    volatile sig_atomic_t stop = 0;
    struct imap *im;
    char box[64];
    pid_t pid;
    int r;

    wait_box(tb, &im, box, sizeof(box), "poll");
    assert_int_equal(imap_wait(im, 1, 0, &stop), 0); /* nothing new */
    pid = append_later(tb, box, 200);
    r = imap_wait(im, 2, 0, &stop);
    reap(pid);
    if (r != 1)
        fail_msg("imap_wait without IDLE returned %d: %s", r, imap_error(im));
    imap_close(im);
    raw_delete(tb, box);
}

static void
test_close_null(void **state)
{
    (void)state;
    imap_close(NULL);
    assert_string_equal(imap_error(NULL), "no IMAP session");
    assert_false(imap_has_idle(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_tls),
        cmocka_unit_test(test_connect_starttls),
        cmocka_unit_test(test_connect_plain),
        cmocka_unit_test(test_connect_localhost_name),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_untrusted_tls),
        cmocka_unit_test(test_untrusted_starttls),
        cmocka_unit_test(test_hostname_mismatch),
        cmocka_unit_test(test_starttls_not_offered),
        cmocka_unit_test(test_bad_ca_file),
        cmocka_unit_test(test_select_reports_uids),
        cmocka_unit_test(test_select_missing_mailbox),
        cmocka_unit_test(test_ensure_mailbox_idempotent),
        cmocka_unit_test(test_search_ranges),
        cmocka_unit_test(test_fetch_exact_bytes),
        cmocka_unit_test(test_move),
        cmocka_unit_test(test_move_fallback_uidplus),
        cmocka_unit_test(test_move_fallback_expunge),
        cmocka_unit_test(test_flag_keyword),
        cmocka_unit_test(test_fetch_sizes_with_heads),
        cmocka_unit_test(test_fetch_and_move_batch),
        cmocka_unit_test(test_wait_idle_new_mail),
        cmocka_unit_test(test_wait_idle_timeout),
        cmocka_unit_test(test_wait_stop),
        cmocka_unit_test(test_wait_poll_new_mail),
        cmocka_unit_test(test_close_null),
    };

    if (getenv("TESTBED_ENV") == NULL) {
        fprintf(stderr, "test_imap: SKIP: needs the mail test-bed (set TESTBED_ENV to "
                        "a testbed.env written by tests/e2e/testbed.sh start DIR)\n");
        return 77;
    }
    signal(SIGPIPE, SIG_IGN); /* a dropped connection must be an error, not death */
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
