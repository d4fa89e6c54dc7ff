/* Tests for config: parsing, defaults, derived values, every error message, printing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../daemon/config_int.h" /* the key table, checked below */
#include "config.h"
#include "log.h"
#include "testutil.h"

#define PASSWORD "s3cret-Pa55"

/* Lines 1-3 and 4-7 of most test files; keys added after them start on line 8. */
#define COMMUNITY "[community]\nname = Example Community\naddress = mentors@example.org\n"
#define IMAP_MIN "[imap]\nhost = imap.example.org\nuser = mentors\npassword_file = @PW@\n"
#define BASE COMMUNITY IMAP_MIN

struct fixture {
    char dir[64];
    char pw[128];  /* a private password file */
    char ini[128]; /* where load_text writes the config */
    char err[512];
    char expect[768];
    struct config cfg;
};

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (fx == NULL || tu_mkdtemp(fx->dir, sizeof(fx->dir), "config") != 0)
        return -1;
    snprintf(fx->pw, sizeof(fx->pw), "%s/imap.password", fx->dir);
    snprintf(fx->ini, sizeof(fx->ini), "%s/mentord.ini", fx->dir);
    if (tu_write_file(fx->dir, "imap.password", PASSWORD "\r\n") != 0 || chmod(fx->pw, 0600) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    config_free(&fx->cfg);
    tu_rmrf(fx->dir);
    free(fx);
    return 0;
}

/* Replace every "@PW@" in text with the fixture's password file and "@DIR@" with its dir. */
static char *
expand(const struct fixture *fx, const char *text)
{
    size_t cap = strlen(text) * 4 + 1024;
    char *out = malloc(cap), *o = out;

    assert_non_null(out);
    while (*text) {
        if (strncmp(text, "@PW@", 4) == 0) {
            o += sprintf(o, "%s", fx->pw);
            text += 4;
        } else if (strncmp(text, "@DIR@", 5) == 0) {
            o += sprintf(o, "%s", fx->dir);
            text += 5;
        } else {
            *o++ = *text++;
        }
    }
    *o = '\0';
    return out;
}

static int
load_text(struct fixture *fx, const char *text)
{
    char *full = expand(fx, text);

    assert_int_equal(tu_write_file(fx->dir, "mentord.ini", full), 0);
    free(full);
    config_free(&fx->cfg);
    return config_load(fx->ini, &fx->cfg, fx->err, sizeof(fx->err));
}

/* Loading text must fail with exactly "INI:line: message" (or "INI: message" for line 0). */
static void
expect_error(struct fixture *fx, const char *text, int line, const char *message)
{
    assert_int_equal(load_text(fx, text), -1);
    if (line > 0)
        snprintf(fx->expect, sizeof(fx->expect), "%s:%d: %s", fx->ini, line, message);
    else
        snprintf(fx->expect, sizeof(fx->expect), "%s: %s", fx->ini, message);
    assert_string_equal(fx->err, fx->expect);
    assert_null(fx->cfg.community.name); /* left freed */
}

static void
expect_ok(struct fixture *fx, const char *text)
{
    int rc = load_text(fx, text);

    if (rc != 0)
        fail_msg("config_load failed: %s", fx->err);
}

/* ---- defaults ---- */

static void
test_minimal_defaults(void **state)
{
    struct fixture *fx = *state;
    struct config *c = &fx->cfg;

    expect_ok(fx, BASE);
    assert_string_equal(c->path, fx->ini);
    assert_string_equal(c->community.name, "Example Community");
    assert_string_equal(c->community.list_id, "<mentors.example.org>");
    assert_int_equal(c->community.n_managers, 0);
    assert_int_equal(c->imap.tls.security, CONFIG_SEC_TLS);
    assert_int_equal(c->imap.port, 993);
    assert_int_equal(c->imap.tls.verify, 1);
    assert_null(c->imap.tls.ca_file);
    assert_int_equal(c->imap.tls.allow_plaintext, 0);
    assert_string_equal(c->imap.password, PASSWORD); /* CR/LF stripped */
    assert_string_equal(c->imap.mailbox, "INBOX");
    assert_string_equal(c->imap.processed_mailbox, "Processed");
    assert_int_equal(c->imap.poll_interval, 60);
    assert_int_equal(c->imap.idle, 1);
    assert_int_equal(c->imap.timeout, 60);
    assert_int_equal(c->imap.max_attempts, 3);
    assert_string_equal(c->smtp.host, "localhost");
    assert_int_equal(c->smtp.tls.security, CONFIG_SEC_STARTTLS);
    assert_int_equal(c->smtp.port, 587);
    assert_string_equal(c->smtp.url, "smtp://localhost:587");
    assert_null(c->smtp.user);
    assert_null(c->smtp.password);
    assert_string_equal(c->smtp.from, "mentors@example.org");
    assert_string_equal(c->smtp.helo, "example.org");
    assert_int_equal(c->smtp.timeout, 60);
    assert_int_equal(c->smtp.batch_size, 100);
    assert_int_equal(c->smtp.retry_base, 60);
    assert_int_equal(c->smtp.retry_max, 3600);
    assert_int_equal(c->smtp.max_lifetime, 432000);
    assert_string_equal(c->store.path, "/var/lib/mentord/mentord.db");
    assert_string_equal(c->templates.dir, MENTORD_DATADIR "/templates");
    assert_int_equal(c->log.level, LOG_LEVEL_INFO);
    assert_int_equal(c->log.syslog, 0);
    assert_string_equal(c->log.ident, "mentord");
    assert_string_equal(config_domain(c), "example.org");
}

static void
test_every_key_set(void **state)
{
    struct fixture *fx = *state;
    struct config *c = &fx->cfg;

    expect_ok(fx, COMMUNITY "managers = Alice@Example.org, bob@example.org,\n"
                            "list_id = <custom.list>\n"
                            "[imap]\nhost = 127.0.0.1\nport = 1143\nsecurity = STARTTLS\n"
                            "tls_verify = off\ntls_ca_file = @PW@\nallow_plaintext = TRUE\n"
                            "user = u\npassword_file = @PW@\nmailbox = Mentors\n"
                            "processed_mailbox =\npoll_interval = 2m\nidle = 0\n"
                            "timeout = 30s\nmax_attempts = 5\n"
                            "[smtp]\nhost = smtp.example.org\nport = 2525\nsecurity = tls\n"
                            "tls_verify = no\nuser = s\npassword_file = @PW@\n"
                            "from = bounces@example.org\nhelo = mx.example.org\ntimeout = 1m\n"
                            "batch_size = 7\nretry_base = 30\nretry_max = 2h\nmax_lifetime = 1d\n"
                            "[store]\npath = /tmp/x.db\n[templates]\ndir = /tmp/tpl\n"
                            "[log]\nlevel = debug\nsyslog = yes\nident = mtest\n");
    assert_int_equal(c->community.n_managers, 2);
    assert_string_equal(c->community.managers[0], "Alice@Example.org");
    assert_string_equal(c->community.managers[1], "bob@example.org");
    assert_string_equal(c->community.list_id, "<custom.list>");
    assert_int_equal(c->imap.port, 1143);
    assert_int_equal(c->imap.tls.security, CONFIG_SEC_STARTTLS);
    assert_int_equal(c->imap.tls.verify, 0);
    assert_string_equal(c->imap.tls.ca_file, fx->pw);
    assert_int_equal(c->imap.tls.allow_plaintext, 1);
    assert_string_equal(c->imap.mailbox, "Mentors");
    assert_string_equal(c->imap.processed_mailbox, ""); /* empty: flag instead of move */
    assert_int_equal(c->imap.poll_interval, 120);
    assert_int_equal(c->imap.idle, 0);
    assert_int_equal(c->imap.timeout, 30);
    assert_int_equal(c->imap.max_attempts, 5);
    assert_string_equal(c->smtp.url, "smtps://smtp.example.org:2525");
    assert_int_equal(c->smtp.tls.security, CONFIG_SEC_TLS);
    assert_string_equal(c->smtp.password, PASSWORD);
    assert_string_equal(c->smtp.from, "bounces@example.org");
    assert_string_equal(c->smtp.helo, "mx.example.org");
    assert_int_equal(c->smtp.timeout, 60);
    assert_int_equal(c->smtp.batch_size, 7);
    assert_int_equal(c->smtp.retry_base, 30);
    assert_int_equal(c->smtp.retry_max, 7200);
    assert_int_equal(c->smtp.max_lifetime, 86400);
    assert_string_equal(c->store.path, "/tmp/x.db");
    assert_string_equal(c->templates.dir, "/tmp/tpl");
    assert_int_equal(c->log.level, LOG_LEVEL_DEBUG);
    assert_int_equal(c->log.syslog, 1);
    assert_string_equal(c->log.ident, "mtest");
}

static void
test_port_defaults_follow_security(void **state)
{
    struct fixture *fx = *state;

    expect_ok(fx, BASE "security = starttls\n[smtp]\nsecurity = tls\n");
    assert_int_equal(fx->cfg.imap.port, 143);
    assert_int_equal(fx->cfg.smtp.port, 465);
    assert_string_equal(fx->cfg.smtp.url, "smtps://localhost:465");
    expect_ok(fx, COMMUNITY "[imap]\nhost = localhost\nsecurity = none\nuser = u\n"
                            "password_file = @PW@\n[smtp]\nsecurity = none\n");
    assert_int_equal(fx->cfg.imap.port, 143);
    assert_int_equal(fx->cfg.smtp.port, 25);
    assert_string_equal(fx->cfg.smtp.url, "smtp://localhost:25");
}

static void
test_booleans(void **state)
{
    struct fixture *fx = *state;
    static const char *const yes[] = {"yes", "YES", "true", "On", "1"};
    static const char *const no[] = {"no", "False", "OFF", "0"};
    char text[512];

    for (size_t i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), BASE "idle = %s\n", yes[i]);
        expect_ok(fx, text);
        assert_int_equal(fx->cfg.imap.idle, 1);
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(text, sizeof(text), BASE "idle = %s\n", no[i]);
        expect_ok(fx, text);
        assert_int_equal(fx->cfg.imap.idle, 0);
    }
    expect_error(fx, BASE "idle = maybe\n", 8, "bad value for idle: 'maybe' (yes or no)");
}

static void
test_programme_sections(void **state)
{
    struct fixture *fx = *state;

    expect_ok(fx, BASE "[matching]\nmode = pairs\ntag = 2.5\nsynonyms = js=javascript\n"
                       "[lifecycle]\nlength = 8w\ncheckins = 2, 7\nquiet_start = 22\n"
                       "[digest]\nfrequency = daily\nhour = 7\n");
    assert_string_equal(fx->cfg.matching.mode, "pairs");
    assert_true(fx->cfg.matching.tag > 2.49 && fx->cfg.matching.tag < 2.51);
    assert_int_equal(fx->cfg.lifecycle.length, 8 * 7 * 86400);
    assert_string_equal(fx->cfg.lifecycle.checkins, "2, 7");
    assert_string_equal(fx->cfg.digest.frequency, "daily");
    assert_int_equal(fx->cfg.digest.hour, 7);
    assert_string_equal(fx->cfg.lifecycle.introduction, "together");
    /* every mode that exists is accepted; an unknown one is an error naming them */
    expect_ok(fx, BASE "[matching]\nmode = circles\ncircle_size = 3\npeer_circle_weeks = 0\n");
    assert_string_equal(fx->cfg.matching.mode, "circles");
    assert_int_equal(fx->cfg.matching.circle_size, 3);
    assert_int_equal(fx->cfg.matching.peer_circle_weeks, 0);
    expect_error(fx, BASE "[matching]\ncircle_size = 1\n", 9,
                 "bad value for circle_size: '1' (2-50)");
    expect_error(fx, BASE "[matching]\nmode = trios\n", 9,
                 "unknown mode 'trios' (one of: pairs|circles|buddies|rotation)");
    expect_error(fx, BASE "[matching]\ntag = lots\n", 9,
                 "bad value for tag: 'lots' (a number from 0 to 1000)");
    /* top_r = 0 is kept (no per-mentor candidates); scan_limit is a key of its own */
    expect_ok(fx, BASE "[matching]\nmode = pairs\n");
    assert_int_equal(fx->cfg.matching.top_r, 5);
    assert_int_equal(fx->cfg.matching.scan_limit, 250);
    expect_ok(fx, BASE "[matching]\ntop_r = 0\nscan_limit = 4000\n");
    assert_int_equal(fx->cfg.matching.top_r, 0);
    assert_int_equal(fx->cfg.matching.scan_limit, 4000);
    expect_error(fx, BASE "[matching]\nscan_limit = 0\n", 9,
                 "bad value for scan_limit: '0' (1-1000000)");
    expect_error(fx, BASE "[lifecycle]\nquiet_start = 8\n", 9,
                 "quiet_start and quiet_end are equal: give the night a length");
    expect_error(fx, BASE "[digest]\nfrequency = hourly\n", 9,
                 "unknown frequency 'hourly' (one of: daily|weekly|monthly|never)");
}

static void
test_durations(void **state)
{
    struct fixture *fx = *state;

    expect_ok(fx, BASE "[smtp]\nretry_base = 90s\nretry_max = 10m\nmax_lifetime = 5d\n");
    assert_int_equal(fx->cfg.smtp.retry_base, 90);
    assert_int_equal(fx->cfg.smtp.retry_max, 600);
    assert_int_equal(fx->cfg.smtp.max_lifetime, 432000);
    expect_ok(fx, BASE "poll_interval = 1h\n");
    assert_int_equal(fx->cfg.imap.poll_interval, 3600);
    expect_error(fx, BASE "poll_interval = 5x\n", 8,
                 "bad value for poll_interval: '5x' (a duration of 1-86400 seconds; suffixes s, "
                 "m, h, d, w allowed)");
    expect_error(fx, BASE "poll_interval = 2d\n", 8,
                 "bad value for poll_interval: '2d' (a duration of 1-86400 seconds; suffixes s, "
                 "m, h, d, w allowed)");
    expect_error(fx, BASE "[smtp]\nretry_base = 2h\nretry_max = 1h\n", 10,
                 "retry_max (3600 seconds) is smaller than retry_base (7200 seconds)");
}

/* ---- errors, each naming file and line ---- */

static void
test_unknown_section(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, BASE "[imapx]\nhost = x\n", 8, "unknown section [imapx]");
    /* Even an empty one: inih alone would never tell us about it. */
    expect_error(fx, BASE "\n; comment\n[nothing]\n", 10, "unknown section [nothing]");
}

static void
test_unknown_key(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, BASE "foo = 1\n", 8, "unknown key 'foo' in [imap]");
    expect_error(fx, "[community]\nname = X\nadress = a@b.org\n", 3,
                 "unknown key 'adress' in [community]");
}

static void
test_bad_port(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, BASE "port = 70000\n", 8, "bad value for port: '70000' (1-65535)");
    expect_error(fx, BASE "port = 12abc\n", 8, "bad value for port: '12abc' (1-65535)");
    expect_error(fx, BASE "port = 0\n", 8, "bad value for port: '0' (1-65535)");
    expect_error(fx, BASE "port = -5\n", 8, "bad value for port: '-5' (1-65535)");
    expect_error(fx, BASE "max_attempts = 0\n", 8, "bad value for max_attempts: '0' (1-1000)");
}

static void
test_unknown_security(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, BASE "security = ssl\n", 8,
                 "unknown security mode 'ssl' (tls, starttls, none)");
}

static void
test_missing_required(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, COMMUNITY "[imap]\nuser = u\npassword_file = @PW@\n", 0,
                 "missing required key 'host' in [imap]");
    expect_error(fx, COMMUNITY "[imap]\nhost = h\npassword_file = @PW@\n", 0,
                 "missing required key 'user' in [imap]");
    expect_error(fx, COMMUNITY "[imap]\nhost = h\nuser = u\n", 0,
                 "missing required key 'password_file' in [imap] (or set auth = xoauth2)");
    expect_error(fx, "[community]\naddress = a@example.org\n" IMAP_MIN, 0,
                 "missing required key 'name' in [community]");
    expect_error(fx, "[community]\nname = N\n" IMAP_MIN, 0,
                 "missing required key 'address' in [community]");
}

static void
test_bad_addresses(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, "[community]\nname = N\naddress = mentors.example.org\n", 3,
                 "bad value for address: 'mentors.example.org' (an address like "
                 "mentors@example.org)");
    expect_error(fx, "[community]\nname = N\naddress = a b@example.org\n", 3,
                 "bad value for address: 'a b@example.org' (an address like mentors@example.org)");
    expect_error(fx, "[community]\nname = N\naddress = a@example..org\n", 3,
                 "bad value for address: 'a@example..org' (an address like mentors@example.org)");
    expect_error(fx, COMMUNITY "managers = a@example.org, nobody\n", 4,
                 "bad address in managers: 'nobody' (a list like a@example.org, b@example.org)");
    expect_error(fx, BASE "[smtp]\nfrom = <x@example.org>\n", 9,
                 "bad value for from: '<x@example.org>' (an address like mentors@example.org)");
}

static void
test_managers(void **state)
{
    struct fixture *fx = *state;

    expect_ok(fx, COMMUNITY "managers = Alice@Example.ORG,bob@example.org\n" IMAP_MIN);
    assert_int_equal(config_is_manager(&fx->cfg, "alice@example.org"), 1);
    assert_int_equal(config_is_manager(&fx->cfg, "BOB@EXAMPLE.ORG"), 1);
    assert_int_equal(config_is_manager(&fx->cfg, "carol@example.org"), 0);
    assert_int_equal(config_is_manager(&fx->cfg, "alice@example.org.evil"), 0);
}

static void
test_duplicate_key(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, BASE "port = 143\n; again\nport = 993\n", 10,
                 "duplicate key 'port' in [imap] (already set on line 8)");
    /* Same key in a second [imap] block is still a duplicate. */
    expect_error(fx, BASE "[log]\nlevel = info\n[imap]\nhost = other\n", 11,
                 "duplicate key 'host' in [imap] (already set on line 5)");
}

static void
test_indented_continuation(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, BASE "port = 143\n  timeout = 5\n", 9,
                 "indented line would continue the value of 'port' on the line above; remove the "
                 "indentation");
}

static void
test_syntax_errors(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, BASE "just some words\n", 8,
                 "syntax error: expected [section], key = value or a ; comment");
    expect_error(fx, "port = 1\n" BASE, 1, "key 'port' before any [section]");
    expect_error(fx, BASE "user2\n[imap\n", 8,
                 "syntax error: expected [section], key = value or a ; comment");
}

static void
test_empty_and_control_values(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, BASE "mailbox =\n", 8, "empty value for mailbox");
    expect_error(fx,
                 BASE "mailbox = IN\x01"
                      "BOX\n",
                 8, "control character in the value of mailbox");
}

static void
test_line_too_long(void **state)
{
    struct fixture *fx = *state;
    char text[1024];
    char longname[400];

    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    snprintf(text, sizeof(text), BASE "mailbox = %s\n", longname);
    assert_int_equal(load_text(fx, text), -1);
    snprintf(fx->expect, sizeof(fx->expect), "%s:8: line too long", fx->ini);
    assert_non_null(strstr(fx->err, fx->expect));
}

static void
test_missing_file(void **state)
{
    struct fixture *fx = *state;
    char path[256];

    snprintf(path, sizeof(path), "%s/nope.ini", fx->dir);
    assert_int_equal(config_load(path, &fx->cfg, fx->err, sizeof(fx->err)), -1);
    snprintf(fx->expect, sizeof(fx->expect), "%s: cannot open: No such file or directory", path);
    assert_string_equal(fx->err, fx->expect);
}

static void
test_log_level(void **state)
{
    struct fixture *fx = *state;

    expect_ok(fx, BASE "[log]\nlevel = WARNING\n");
    assert_int_equal(fx->cfg.log.level, LOG_LEVEL_WARN);
    expect_error(fx, BASE "[log]\nlevel = loud\n", 9,
                 "unknown log level 'loud' (error, warn, info, debug)");
}

static void
test_ca_file_must_be_readable(void **state)
{
    struct fixture *fx = *state;

    char msg[512];

    snprintf(msg, sizeof(msg),
             "tls_ca_file '%s/missing.pem' is not readable: No such file or directory", fx->dir);
    expect_error(fx, BASE "tls_ca_file = @DIR@/missing.pem\n", 8, msg);
}

/* ---- OAuth 2.0 ---- */

static char *print_to_string(const struct config *cfg);

#define IMAP_OAUTH "[imap]\nhost = imap.example.org\nuser = mentors@example.org\nauth = xoauth2\n"

static void
test_oauth2_presets(void **state)
{
    struct fixture *fx = *state;

    expect_ok(fx, COMMUNITY IMAP_OAUTH "[oauth2]\nprovider = microsoft\nclient_id = abc\n");
    assert_int_equal(fx->cfg.imap.auth, CONFIG_AUTH_XOAUTH2);
    assert_true(fx->cfg.oauth2.used);
    assert_null(fx->cfg.imap.password);
    assert_string_equal(fx->cfg.oauth2.token_url,
                        "https://login.microsoftonline.com/organizations/oauth2/v2.0/token");
    assert_string_equal(fx->cfg.oauth2.device_url,
                        "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode");
    assert_non_null(
        strstr(fx->cfg.oauth2.scope, "https://outlook.office.com/IMAP.AccessAsUser.All"));
    assert_non_null(strstr(fx->cfg.oauth2.scope, "offline_access"));
    assert_string_equal(fx->cfg.oauth2.flow, "device");
    assert_string_equal(fx->cfg.oauth2.refresh_token_file, "/var/lib/mentord/oauth2-refresh-token");

    expect_ok(fx, COMMUNITY IMAP_OAUTH
              "[oauth2]\nprovider = microsoft\ntenant = example.onmicrosoft.com\n"
              "client_id = abc\nscope = https://outlook.office.com/IMAP.AccessAsUser.All\n");
    assert_string_equal(
        fx->cfg.oauth2.token_url,
        "https://login.microsoftonline.com/example.onmicrosoft.com/oauth2/v2.0/token");
    assert_string_equal(fx->cfg.oauth2.scope, "https://outlook.office.com/IMAP.AccessAsUser.All");

    expect_ok(fx, COMMUNITY IMAP_OAUTH "[oauth2]\nprovider = google\nclient_id = abc\n"
                                       "[smtp]\nhost = smtp.gmail.com\nuser = mentors@example.org\n"
                                       "auth = oauthbearer\n");
    assert_string_equal(fx->cfg.oauth2.token_url, "https://oauth2.googleapis.com/token");
    assert_null(fx->cfg.oauth2.device_url); /* Google's device flow cannot ask for mail */
    assert_string_equal(fx->cfg.oauth2.flow, "code");
    assert_string_equal(fx->cfg.oauth2.scope, "https://mail.google.com/ openid email");
    assert_int_equal(fx->cfg.smtp.auth, CONFIG_AUTH_OAUTHBEARER);

    /* The secret is read at load time and never printed. */
    assert_int_equal(tu_write_file(fx->dir, "client.secret", "shh-client-secret\n"), 0);
    char secret[160];
    snprintf(secret, sizeof(secret), "%s/client.secret", fx->dir);
    assert_int_equal(chmod(secret, 0600), 0);
    expect_ok(fx, COMMUNITY IMAP_OAUTH "[oauth2]\nprovider = google\nclient_id = abc\n"
                                       "client_secret_file = @DIR@/client.secret\n");
    assert_string_equal(fx->cfg.oauth2.client_secret, "shh-client-secret");
    char *printed = print_to_string(&fx->cfg);
    assert_null(strstr(printed, "shh-client-secret"));
    assert_non_null(strstr(printed, "; client_secret = ********"));
    assert_non_null(strstr(printed, "auth = xoauth2"));
    free(printed);
}

static void
test_oauth2_errors(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, COMMUNITY "[imap]\nhost = h\nuser = u\nauth = kerberos\n", 7,
                 "unknown auth 'kerberos' (password, xoauth2, oauthbearer)");
    expect_error(fx, COMMUNITY IMAP_OAUTH "[oauth2]\nclient_id = abc\n", 0,
                 "missing required key 'token_url' in [oauth2] (or set provider = microsoft or "
                 "google)");
    expect_error(fx, COMMUNITY IMAP_OAUTH "[oauth2]\nprovider = microsoft\n", 0,
                 "missing required key 'client_id' in [oauth2]");
    expect_error(fx, COMMUNITY IMAP_OAUTH "[oauth2]\nprovider = yahoo\nclient_id = a\n", 9,
                 "unknown provider 'yahoo' (one of: microsoft|google|custom)");
    expect_error(fx, COMMUNITY IMAP_OAUTH "password_file = @PW@\n[oauth2]\nprovider = google\n", 8,
                 "password_file is not used with auth = xoauth2 (the access token comes from "
                 "[oauth2]); remove it");
    expect_error(fx,
                 COMMUNITY IMAP_OAUTH "[oauth2]\ntoken_url = http://login.example.org/token\n"
                                      "client_id = a\n",
                 9,
                 "bad value for token_url: 'http://login.example.org/token' (an https:// URL; "
                 "http:// only to this machine)");
    expect_error(fx,
                 COMMUNITY IMAP_OAUTH "[oauth2]\nprovider = google\nclient_id = a\n"
                                      "flow = device\n",
                 11, "flow = device needs device_url");
    expect_error(fx, BASE "[smtp]\nauth = xoauth2\n", 9,
                 "auth = xoauth2 needs user (the mailbox the token is for)");
    /* http:// to this machine is fine (a local test server). */
    expect_ok(fx, COMMUNITY IMAP_OAUTH "[oauth2]\ntoken_url = http://127.0.0.1:8080/token\n"
                                       "client_id = a\n");
    assert_null(fx->cfg.oauth2.flow);
}

/* ---- passwords ---- */

static void
test_password_file_missing(void **state)
{
    struct fixture *fx = *state;
    char msg[512];

    snprintf(msg, sizeof(msg),
             "cannot read password file %s/none.password: No such file or directory", fx->dir);
    expect_error(fx, COMMUNITY "[imap]\nhost = h\nuser = u\npassword_file = @DIR@/none.password\n",
                 7, msg);
}

static void
test_password_file_world_readable(void **state)
{
    struct fixture *fx = *state;
    char msg[512];

    assert_int_equal(chmod(fx->pw, 0644), 0);
    snprintf(msg, sizeof(msg), "password file %s is readable by others (chmod 600 or 640)", fx->pw);
    expect_error(fx, BASE, 7, msg);
    assert_int_equal(chmod(fx->pw, 0640), 0); /* group-readable is the documented alternative */
    expect_ok(fx, BASE);
}

static void
test_password_file_empty_or_multiline(void **state)
{
    struct fixture *fx = *state;
    char msg[512];

    assert_int_equal(tu_write_file(fx->dir, "imap.password", "\n"), 0);
    snprintf(msg, sizeof(msg), "password file %s is empty", fx->pw);
    expect_error(fx, BASE, 7, msg);
    assert_int_equal(tu_write_file(fx->dir, "imap.password", "one\ntwo\n"), 0);
    snprintf(msg, sizeof(msg), "password file %s must hold the password on one line", fx->pw);
    expect_error(fx, BASE, 7, msg);
}

static void
test_smtp_auth_keys(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx, BASE "[smtp]\nuser = s\n", 0,
                 "missing required key 'password_file' in [smtp] (needed because user is set)");
    expect_error(fx, BASE "[smtp]\npassword_file = @PW@\n", 9,
                 "password_file is set but user is not (AUTH needs both)");
}

/* ---- plain text only on loopback ---- */

static void
test_loopback_helper(void **state)
{
    (void)state;
    assert_int_equal(config_host_is_loopback("localhost"), 1);
    assert_int_equal(config_host_is_loopback("LocalHost"), 1);
    assert_int_equal(config_host_is_loopback("127.0.0.1"), 1);
    assert_int_equal(config_host_is_loopback("127.200.3.4"), 1);
    assert_int_equal(config_host_is_loopback("::1"), 1);
    assert_int_equal(config_host_is_loopback("::ffff:127.0.0.1"), 1);
    assert_int_equal(config_host_is_loopback("128.0.0.1"), 0);
    assert_int_equal(config_host_is_loopback("10.0.0.1"), 0);
    assert_int_equal(config_host_is_loopback("::2"), 0);
    assert_int_equal(config_host_is_loopback("localhost.example.org"), 0);
    assert_int_equal(config_host_is_loopback("127.0.0.1.example.org"), 0);
    assert_int_equal(config_host_is_loopback(""), 0);
    assert_int_equal(config_host_is_loopback(NULL), 0);
}

static void
test_imap_plaintext_rule(void **state)
{
    struct fixture *fx = *state;

    expect_error(fx,
                 COMMUNITY "[imap]\nhost = imap.example.org\nsecurity = none\nuser = u\n"
                           "password_file = @PW@\n",
                 6,
                 "[imap] security = none to host 'imap.example.org' would send the password "
                 "across the network in clear; use tls or starttls, or set allow_plaintext = yes "
                 "if the network is trusted");
    expect_ok(fx, BASE "security = none\nallow_plaintext = yes\n");
    assert_int_equal(fx->cfg.imap.tls.security, CONFIG_SEC_NONE);
    expect_ok(fx, COMMUNITY "[imap]\nhost = 127.0.0.1\nsecurity = none\nuser = u\n"
                            "password_file = @PW@\n");
    expect_ok(fx, COMMUNITY "[imap]\nhost = ::1\nsecurity = none\nuser = u\n"
                            "password_file = @PW@\n");
}

static void
test_smtp_plaintext_rule(void **state)
{
    struct fixture *fx = *state;

    /* Without AUTH there is no password to leak: port 25 relaying is fine. */
    expect_ok(fx, BASE "[smtp]\nhost = mx.example.org\nsecurity = none\n");
    expect_error(fx,
                 BASE "[smtp]\nhost = mx.example.org\nsecurity = none\nuser = s\n"
                      "password_file = @PW@\n",
                 10,
                 "[smtp] security = none to host 'mx.example.org' would send the password "
                 "across the network in clear; use tls or starttls, or set allow_plaintext = yes "
                 "if the network is trusted");
    expect_ok(fx, BASE "[smtp]\nurl = smtp://127.0.0.1:2525\nsecurity = none\nuser = s\n"
                       "password_file = @PW@\n");
    assert_string_equal(fx->cfg.smtp.password, PASSWORD);
}

/* ---- smtp url ---- */

static void
test_url_derivation(void **state)
{
    struct fixture *fx = *state;

    expect_ok(fx, BASE "[smtp]\nurl = smtps://mail.example.org\n");
    assert_string_equal(fx->cfg.smtp.host, "mail.example.org");
    assert_int_equal(fx->cfg.smtp.tls.security, CONFIG_SEC_TLS);
    assert_int_equal(fx->cfg.smtp.port, 465);
    assert_string_equal(fx->cfg.smtp.url, "smtps://mail.example.org:465");

    expect_ok(fx, BASE "[smtp]\nurl = smtp://mail.example.org:2525/\n");
    assert_int_equal(fx->cfg.smtp.tls.security, CONFIG_SEC_STARTTLS);
    assert_int_equal(fx->cfg.smtp.port, 2525);
    assert_string_equal(fx->cfg.smtp.url, "smtp://mail.example.org:2525");

    expect_ok(fx, BASE "[smtp]\nsecurity = none\nurl = smtp://127.0.0.1\n");
    assert_int_equal(fx->cfg.smtp.tls.security, CONFIG_SEC_NONE);
    assert_int_equal(fx->cfg.smtp.port, 25);
    assert_string_equal(fx->cfg.smtp.host, "127.0.0.1");

    expect_ok(fx, BASE "[smtp]\nurl = smtp://[::1]:587\n");
    assert_string_equal(fx->cfg.smtp.host, "::1");
    assert_string_equal(fx->cfg.smtp.url, "smtp://[::1]:587");
}

static void
test_url_errors(void **state)
{
    struct fixture *fx = *state;
    const char *form = "(smtp://host[:port] or smtps://host[:port])";
    char msg[256];

    snprintf(msg, sizeof(msg), "bad value for url: 'http://mail.example.org' %s", form);
    expect_error(fx, BASE "[smtp]\nurl = http://mail.example.org\n", 9, msg);
    snprintf(msg, sizeof(msg), "bad value for url: 'smtp://u@mail.example.org' %s", form);
    expect_error(fx, BASE "[smtp]\nurl = smtp://u@mail.example.org\n", 9, msg);
    snprintf(msg, sizeof(msg), "bad value for url: 'mail.example.org' %s", form);
    expect_error(fx, BASE "[smtp]\nurl = mail.example.org\n", 9, msg);
    expect_error(
        fx, BASE "[smtp]\nurl = smtps://m.example.org\nsecurity = starttls\n", 10,
        "security = starttls contradicts url 'smtps://m.example.org' (smtps:// is implicit "
        "TLS)");
    expect_error(fx, BASE "[smtp]\nsecurity = tls\nurl = smtp://m.example.org\n", 9,
                 "security = tls contradicts url 'smtp://m.example.org' (use smtps:// for implicit "
                 "TLS)");
    expect_error(fx, BASE "[smtp]\nurl = smtp://m.example.org\nhost = other\n", 10,
                 "host and port cannot be combined with url (the url names the server)");
}

/* ---- printing ---- */

static char *
print_to_string(const struct config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    config_print(cfg, out);
    assert_int_equal(fclose(out), 0);
    return text;
}

static void
test_print_masks_passwords(void **state)
{
    struct fixture *fx = *state;
    char *text;

    expect_ok(fx, BASE "[smtp]\nuser = s\npassword_file = @PW@\n");
    text = print_to_string(&fx->cfg);
    assert_null(strstr(text, PASSWORD));
    assert_non_null(strstr(text, "; password = ********"));
    snprintf(fx->expect, sizeof(fx->expect), "password_file = %s\n", fx->pw);
    assert_non_null(strstr(text, fx->expect));
    assert_non_null(strstr(text, "[imap]\nhost = imap.example.org\nport = 993\nsecurity = tls\n"));
    assert_non_null(strstr(text, "max_lifetime = 432000\n"));
    assert_non_null(strstr(text, "list_id = <mentors.example.org>\n"));
    assert_non_null(strstr(text, "level = info\n"));
    free(text);
}

/* What config_print writes loads again to the same configuration. */
static void
test_print_round_trip(void **state)
{
    struct fixture *fx = *state;
    char *first, *second, *p;

    expect_ok(fx, COMMUNITY "managers = a@example.org, b@example.org\n" IMAP_MIN
                            "processed_mailbox =\n[smtp]\nurl = smtps://m.example.org:2465\n"
                            "[log]\nlevel = debug\n");
    first = print_to_string(&fx->cfg);
    assert_int_equal(load_text(fx, first), 0);
    second = print_to_string(&fx->cfg);
    /* Only the first comment line (naming the file) may differ; here it names the same file. */
    p = strchr(first, '\n');
    assert_non_null(p);
    assert_string_equal(strchr(second, '\n'), p);
    assert_string_equal(fx->cfg.imap.processed_mailbox, "");
    assert_int_equal(fx->cfg.community.n_managers, 2);
    assert_string_equal(fx->cfg.smtp.url, "smtps://m.example.org:2465");
    free(first);
    free(second);
}

/* ---- the shipped example ---- */

static void
test_shipped_example_loads(void **state)
{
    struct fixture *fx = *state;
    FILE *in = fopen(MENTORD_SRCDIR "/etc/mentord.ini", "r");
    char line[512];
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(in);
    assert_non_null(out);
    while (fgets(line, sizeof(line), in) != NULL) {
        /* Point every password_file at our private temp file, commented or not. */
        if (strncmp(line, "password_file", 13) == 0)
            fprintf(out, "password_file = @PW@\n");
        else
            fputs(line, out);
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
    expect_ok(fx, text);
    free(text);
    assert_string_equal(fx->cfg.community.name, "Example Community");
    assert_string_equal(fx->cfg.community.address, "mentors@example.org");
    assert_string_equal(fx->cfg.imap.password, PASSWORD);
    assert_int_equal(fx->cfg.imap.port, 993);
    assert_string_equal(fx->cfg.smtp.url, "smtp://localhost:587");
}

/* Every commented-out default in the example is the real default. */
static void
test_shipped_example_defaults_are_true(void **state)
{
    struct fixture *fx = *state;
    FILE *in = fopen(MENTORD_SRCDIR "/etc/mentord.ini", "r");
    char line[512];
    char *text = NULL, *defaults = NULL, *printed;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    int n = 0;

    assert_non_null(in);
    assert_non_null(out);
    while (fgets(line, sizeof(line), in) != NULL) {
        if (strncmp(line, "password_file", 13) == 0)
            fprintf(out, "password_file = @PW@\n");
        else
            fputs(line, out);
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
    expect_ok(fx, text);
    printed = print_to_string(&fx->cfg);
    /*
     * Uncommenting any one ";key = value" line (other than examples of optional
     * values) must load and give exactly the same effective configuration.
     */
    defaults = strdup(text);
    assert_non_null(defaults);
    for (char *l = defaults; (l = strstr(l, "\n;")) != NULL; l++) {
        char *eol = strchr(l + 1, '\n');
        size_t at = (size_t)(l - defaults) + 1;

        if (l[2] == ' ' || l[2] == '\n' || eol == NULL ||
            memmem(l, (size_t)(eol - l), " = ", 3) == NULL)
            continue;
        if (!strncmp(l + 2, "url =", 5) || !strncmp(l + 2, "tls_ca_file", 11) ||
            !strncmp(l + 2, "user =", 6) || !strncmp(l + 2, "password_file", 13) ||
            !strncmp(l + 2, "dir =", 5) || !strncmp(l + 2, "synonyms", 8) ||
            !strncmp(l + 2, "trusted_authserv", 16) || !strncmp(l + 2, "tenant", 6) ||
            !strncmp(l + 2, "token_url", 9) || !strncmp(l + 2, "device_url", 10) ||
            !strncmp(l + 2, "authorize_url", 13) || !strncmp(l + 2, "introspection_url", 17) ||
            !strncmp(l + 2, "client_id", 9) || !strncmp(l + 2, "client_secret_file", 18) ||
            !strncmp(l + 2, "refresh_token_file", 18) || !strncmp(l + 2, "scope", 5) ||
            !strncmp(l + 2, "flow", 4))
            continue; /* examples of optional values, not defaults */
        char *variant = strdup(text);
        assert_non_null(variant);
        variant[at] = ' '; /* ";key = v" becomes " key = v"... */
        memmove(variant + at, variant + at + 1, strlen(variant + at)); /* ...then "key = v" */
        if (load_text(fx, variant) != 0)
            fail_msg("uncommenting '%.*s' fails: %s", (int)(eol - l - 2), l + 2, fx->err);
        char *again = print_to_string(&fx->cfg);
        if (strcmp(again, printed) != 0)
            fail_msg("example default '%.*s' is not the effective default", (int)(eol - l - 2),
                     l + 2);
        free(again);
        free(variant);
        n++;
    }
    assert_true(n >= 50);
    free(defaults);
    free(printed);
    free(text);
}

/* ---- the generated documentation ---- */

static char *
slurp(const char *path)
{
    FILE *in = fopen(path, "r");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    int c;

    assert_non_null(in);
    assert_non_null(out);
    while ((c = fgetc(in)) != EOF)
        fputc(c, out);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    return text;
}

/* The committed file is what the key table writes; `make config-docs` rewrites it. */
static void
expect_generated(const char *path, void (*write)(FILE *))
{
    char *want = NULL, *have = slurp(path), *a, *b;
    size_t len = 0;
    FILE *out = open_memstream(&want, &len);
    int line = 1;

    assert_non_null(out);
    write(out);
    assert_int_equal(fclose(out), 0);
    for (a = want, b = have; *a != '\0' && *a == *b; a++, b++)
        line += *a == '\n';
    if (*a != '\0' || *b != '\0')
        fail_msg("%s differs from the key table from line %d on; run `make config-docs`", path,
                 line);
    free(want);
    free(have);
}

static void
test_sample_file_is_generated(void **state)
{
    (void)state;
    expect_generated(MENTORD_SRCDIR "/etc/mentord.ini", config_doc_ini);
}

static void
test_manual_page_is_generated(void **state)
{
    (void)state;
    expect_generated(MENTORD_SRCDIR "/man/mentord.ini.5", config_doc_man);
}

/* Every key says what it is for, where it lives and what it defaults to. */
static void
test_key_table_is_complete(void **state)
{
    (void)state;
    for (size_t i = 0; i < config_keys_count; i++) {
        const struct config_key *k = &config_keys[i];
        int section = 0;

        for (size_t j = 0; j < config_keys_sections_count; j++)
            section |= strcmp(config_keys_sections[j].name, k->section) == 0;
        if (!section)
            fail_msg("[%s] %s: section not in config_keys_sections", k->section, k->name);
        if (k->doc == NULL || k->doc[0] == '\0')
            fail_msg("[%s] %s: no doc", k->section, k->name);
        if (!(k->flags & CKF_REQUIRED) && k->def == NULL && k->defdoc == NULL)
            fail_msg("[%s] %s: neither required nor a default", k->section, k->name);
        if ((k->flags & (CKF_REQUIRED | CKF_SHOWN)) && k->example == NULL)
            fail_msg("[%s] %s: the sample file needs an example", k->section, k->name);
        if (k->type == CK_CHOICE &&
            (k->choices == NULL || k->def == NULL || strstr(k->choices, k->def) == NULL))
            fail_msg("[%s] %s: a choice needs its words and a default among them", k->section,
                     k->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(config_keys[j].section, k->section) == 0 &&
                strcmp(config_keys[j].name, k->name) == 0)
                fail_msg("[%s] %s: described twice", k->section, k->name);
    }
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_minimal_defaults),
        T(test_every_key_set),
        T(test_port_defaults_follow_security),
        T(test_booleans),
        T(test_durations),
        T(test_programme_sections),
        T(test_unknown_section),
        T(test_unknown_key),
        T(test_bad_port),
        T(test_unknown_security),
        T(test_missing_required),
        T(test_bad_addresses),
        T(test_managers),
        T(test_duplicate_key),
        T(test_indented_continuation),
        T(test_syntax_errors),
        T(test_empty_and_control_values),
        T(test_line_too_long),
        T(test_missing_file),
        T(test_log_level),
        T(test_ca_file_must_be_readable),
        T(test_oauth2_presets),
        T(test_oauth2_errors),
        T(test_password_file_missing),
        T(test_password_file_world_readable),
        T(test_password_file_empty_or_multiline),
        T(test_smtp_auth_keys),
        T(test_loopback_helper),
        T(test_imap_plaintext_rule),
        T(test_smtp_plaintext_rule),
        T(test_url_derivation),
        T(test_url_errors),
        T(test_print_masks_passwords),
        T(test_print_round_trip),
        T(test_shipped_example_loads),
        T(test_shipped_example_defaults_are_true),
        cmocka_unit_test(test_key_table_is_complete),
        cmocka_unit_test(test_sample_file_is_generated),
        cmocka_unit_test(test_manual_page_is_generated),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
