/*
 * agree: `mentorctl inspect` and the daemon read every corpus mail the same
 * way, manager mail included.
 *
 * Every message under ../shared/corpus that parses is given to inspect
 * (JSON) and to programme_handle_mail on a store that knows nobody (as
 * inspect assumes), twice: once from its own sender, once with that sender
 * configured as a manager.  Asserted for each: the same kind (automatic mail
 * recorded, a person's mail answered, ...), the same intent, and that what
 * the daemon did matches what inspect says it would do (the role question,
 * the help text for mail not understood, a manager's command).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "inspect.h"
#include "log.h"
#include "mail.h"
#include "programme.h"
#include "store.h"
#include "corpus.h"
#include "testutil.h"

#define CORPUS MENTORD_SRCDIR "/../shared/corpus"
#define T0 1767225600 /* 2026-01-01 */

struct fixture {
    char dir[256];
    char path[300];
    struct config cfg;
    struct store *st;
    char *managers[2];
    int checked, person, managers_read;
};

/* The JSON string value of key in one line of inspect's output ("" when null or absent). */
static void
json_value(const char *json, const char *key, char *out, size_t len)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    out[0] = '\0';
    if (p == NULL)
        return;
    p += strlen(pat);
    snprintf(out, len, "%.*s", (int)strcspn(p, "\""), p);
}

static char *
inspect_json(const struct config *cfg, const char *raw, size_t len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&buf, &n);
    assert_non_null(out);
    assert_int_equal(inspect_message(cfg, NULL, raw, len, "corpus", 1, out), 0);
    assert_int_equal(fclose(out), 0);
    return buf;
}

/* What the daemon does with raw; 0 when it could be read, -1 when it does not parse. */
static int
daemon_reads(struct fixture *f, const char *raw, size_t len, struct programme_result *res)
{
    struct mail *m = NULL;
    char err[256];
    size_t plen = mail_parse_limit(raw, len, (size_t)f->cfg.limits.max_message_size);

    if (mail_parse(raw, plen, &m, err, sizeof err) != 0)
        return -1;
    assert_int_equal(store_begin(f->st), 0);
    int rc = programme_handle_mail(&f->cfg, f->st, m, raw, len, len, T0, res);
    if (rc != 0)
        fail_msg("programme_handle_mail: %s", res->detail);
    store_rollback(f->st); /* every mail meets a store that knows nobody */
    mail_free(m);
    return 0;
}

static void
check_one(struct fixture *f, const char *name, const char *raw, size_t len)
{
    struct programme_result res;
    char kind[64], intent[64], ask[32];

    if (daemon_reads(f, raw, len, &res) != 0)
        return;
    char *json = inspect_json(&f->cfg, raw, len);
    json_value(json, "kind", kind, sizeof kind);
    json_value(json, "intent", intent, sizeof intent);
    json_value(json, "ask", ask, sizeof ask);
    f->checked++;
    if (strcmp(intent, res.intent) != 0)
        fail_msg("%s: inspect reads intent \"%s\", the daemon \"%s\" (%s)", name, intent,
                 res.intent, res.detail);
    int automatic = strcmp(res.outcome, "recorded") == 0;
    int inspect_automatic =
        strstr("bounce auto-reply list automatic spam loop", kind) != NULL && kind[0] != '\0';
    if (automatic != inspect_automatic)
        fail_msg("%s: inspect says %s, the daemon %s (%s)", name, kind, res.outcome, res.detail);
    if (strcmp(kind, "no-sender") == 0 && strcmp(res.outcome, "ignored") != 0)
        fail_msg("%s: inspect says no-sender, the daemon %s", name, res.outcome);
    if (strcmp(kind, "too-large") == 0 && strcmp(res.outcome, "too-large") != 0)
        fail_msg("%s: inspect says too-large, the daemon %s", name, res.outcome);
    if (strcmp(ask, "role") == 0 && strstr(res.detail, "role unclear") == NULL)
        fail_msg("%s: inspect would ask the role, the daemon did: %s", name, res.detail);
    if (strcmp(kind, "unknown") == 0 && strstr(res.detail, "not understood") == NULL)
        fail_msg("%s: inspect would send help, the daemon did: %s", name, res.detail);
    if (strcmp(kind, "manager") == 0) {
        f->managers_read++;
        if (strstr(res.detail, "not understood") != NULL)
            fail_msg("%s: inspect reads a manager command, the daemon: %s", name, res.detail);
    }
    f->person += strcmp(res.outcome, "answered") == 0;
    free(json);
}

/* The same mail with its sender configured as a manager. */
static void
check_as_manager(struct fixture *f, const char *name, const char *raw, size_t len)
{
    struct mail *m = NULL;
    char err[256];

    if (mail_parse(raw, len, &m, err, sizeof err) != 0)
        return;
    char *from = m->from_addr ? strdup(m->from_addr) : NULL;
    mail_free(m);
    if (from == NULL)
        return;
    f->managers[1] = from;
    f->cfg.community.n_managers = 2;
    check_one(f, name, raw, len);
    f->cfg.community.n_managers = 1;
    free(from);
}

static void
agree_each(void *arg, const char *path, const char *raw, size_t len)
{
    check_one(arg, path, raw, len);
    check_as_manager(arg, path, raw, len);
}

static void
test_agree_corpus(void **state)
{
    struct fixture *f = *state;

    tu_corpus_walk(CORPUS, agree_each, f);
    printf("# inspect and the daemon agree on %d readings (%d of a person's mail)\n", f->checked,
           f->person);
    assert_true(f->checked > 1000);
}

/* Managers' commands, which the corpus does not hold. */
static void
test_agree_manager_commands(void **state)
{
    struct fixture *f = *state;
    static const char *const mails[] = {
        "Subject: REPORT\r\n\r\n",
        "Subject: Re: things\r\n\r\nlist waiting\r\n",
        "Subject: match\r\n\r\nmatch ann@example.test bob@example.test\r\n",
        "Subject: Remove\r\n\r\nremove nina@example.test\r\n",
        "Subject: hello\r\n\r\nHow are things going?\r\n",
    };

    for (size_t i = 0; i < sizeof mails / sizeof mails[0]; i++) {
        char *raw = NULL;
        assert_true(asprintf(&raw,
                             "From: Boss <boss@example.test>\r\nTo: mentors@example.test\r\n"
                             "Message-ID: <mgr%zu@example.test>\r\n%s",
                             i, mails[i]) > 0);
        int before = f->managers_read;
        check_one(f, mails[i], raw, strlen(raw));
        if (i < 4)
            assert_int_equal(f->managers_read, before + 1);
        free(raw);
    }
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char err[256];

    assert_non_null(f);
    assert_int_equal(tu_mkdtemp(f->dir, sizeof f->dir, "agree"), 0);
    snprintf(f->path, sizeof f->path, "%s/m.db", f->dir);
    assert_int_equal(store_open(f->path, &f->st, err, sizeof err), 0);
    tu_test_config(&f->cfg, f->managers);
    log_init(LOG_LEVEL_ERROR, 0, "test_agree"); /* two thousand mails: only errors are news */
    f->cfg.limits.replies_per_hour = 1000000;
    f->cfg.limits.replies_per_day = 1000000;
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_agree_corpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agree_manager_commands, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
