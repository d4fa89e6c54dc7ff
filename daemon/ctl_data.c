/*
 * ctl_data: the database as a whole and a person's share of it - backup,
 * restore, export of one person's data (an access request), and retry of
 * mail the daemon gave up on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "imap.h"
#include "store.h"

/* The keyword inbox.c puts on mail it gave up on. */
#define CTL_FAILED_KEYWORD "$MentordFailed"
#define CTL_DONE_KEYWORD "$MentordDone"

static int
ctl_data_usage(const struct ctl_ctx *x, const char *what)
{
    fprintf(stderr, "mentorctl %s: %s (try mentorctl %s --help)\n", x->command, what, x->command);
    return CTL_USAGE;
}

static int
ctl_data_open(struct ctl_ctx *x)
{
    char err[512];

    if (x->st != NULL)
        return CTL_OK;
    if (store_open(x->cfg->store.path, &x->st, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl %s: %s\n", x->command, err);
        return CTL_FAIL;
    }
    return CTL_OK;
}

/* One positional argument, and only --help besides. */
static int
ctl_data_one_arg(struct ctl_ctx *x, int argc, char **argv, const char **arg, int optional)
{
    *arg = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return -1;
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return ctl_data_usage(x, "unknown option");
        if (*arg != NULL)
            return ctl_data_usage(x, "one argument only");
        *arg = argv[i];
    }
    if (*arg == NULL && !optional)
        return ctl_data_usage(x, "which file?");
    return CTL_OK;
}

int
ctl_cmd_backup(struct ctl_ctx *x, int argc, char **argv)
{
    const char *dest;
    char err[512];
    struct stat sb;
    int rc = ctl_data_one_arg(x, argc, argv, &dest, 0);

    if (rc != CTL_OK)
        return rc < 0 ? CTL_OK : rc;
    if ((rc = ctl_data_open(x)) != CTL_OK)
        return rc;
    if (store_backup(x->st, dest, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl backup: %s\n", err);
        return CTL_FAIL;
    }
    if (stat(dest, &sb) == 0)
        printf("%s: backup of %s, %lld bytes, mode %03o\n", dest, x->cfg->store.path,
               (long long)sb.st_size, (unsigned)(sb.st_mode & 0777));
    return CTL_OK;
}

int
ctl_cmd_restore(struct ctl_ctx *x, int argc, char **argv)
{
    const char *from;
    char err[512];
    int rc = ctl_data_one_arg(x, argc, argv, &from, 0);

    if (rc != CTL_OK)
        return rc < 0 ? CTL_OK : rc;
    if (store_restore(x->cfg->store.path, from, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl restore: %s\n", err);
        return CTL_FAIL;
    }
    /* Opening upgrades an older backup's schema at once, not at the daemon's start. */
    if ((rc = ctl_data_open(x)) != CTL_OK)
        return rc;
    printf("%s restored from %s (schema version %d); the replaced database is in "
           "%s.before-restore\n",
           x->cfg->store.path, from, store_schema_version(x->st), x->cfg->store.path);
    return CTL_OK;
}

/* ---- export ADDRESS: everything kept about one person, as one JSON object ---- */

struct ctl_export_part {
    const char *name;
    const char *sql; /* ?1: the address, ?2: the member id (0 when not a member) */
};

static const struct ctl_export_part ctl_export_parts[] = {
    {"member", "SELECT id, address, name, role, state, profile, created, updated, bounce_score,"
               " undeliverable, away_until, pause_until, waiting_since FROM members"
               " WHERE id = ?2 AND ?1 IS NOT NULL"},
    {"pairs", "SELECT id, CASE WHEN newcomer = ?2 THEN 'newcomer' ELSE 'mentor' END AS as_role,"
              " state, reasons, created, started, ends, ended, end_reason FROM pairs"
              " WHERE ?2 > 0 AND (newcomer = ?2 OR mentor = ?2) AND ?1 IS NOT NULL ORDER BY id"},
    {"feedback", "SELECT pair, role, at, rating, met, comment, checkin FROM feedback"
                 " WHERE ?2 > 0 AND member = ?2 AND ?1 IS NOT NULL ORDER BY at"},
    {"mail_received", "SELECT message_id, outcome, detail, received, processed FROM messages"
                      " WHERE sender = ?1 COLLATE NOCASE AND ?2 IS NOT NULL ORDER BY id"},
    {"mail_sent", "SELECT message_id, kind, status, created, sent_at, headers, body FROM outbox"
                  " WHERE recipient = ?1 COLLATE NOCASE AND ?2 IS NOT NULL ORDER BY id"},
    {"confirmations", "SELECT action, name, created, expires, closed, outcome FROM tokens"
                      " WHERE address = ?1 AND ?2 IS NOT NULL ORDER BY created"},
    {"bounces", "SELECT at, severity, status, diagnostic, score FROM bounces"
                " WHERE address = ?1 AND ?2 IS NOT NULL ORDER BY at"},
    {"events", "SELECT at, kind, message_id, detail FROM events"
               " WHERE member = ?1 COLLATE NOCASE AND ?2 IS NOT NULL ORDER BY id"},
};

static int
ctl_export_part(struct ctl_ctx *x, const struct ctl_export_part *p, const char *addr, int64_t id,
                int first)
{
    struct ctl_table t;

    if (ctl_table_query(x->st, &t, p->name, p->sql, "si", addr, id) != 0) {
        fprintf(stderr, "mentorctl export: %s\n", store_errmsg(x->st));
        return CTL_FAIL;
    }
    printf("%s\"%s\": ", first ? "" : ",\n", p->name);
    int rc = ctl_table_print(stdout, &t, CTL_FORMAT_JSON) == 0 ? CTL_OK : CTL_FAIL;
    ctl_table_free(&t);
    return rc;
}

int
ctl_export_person(struct ctl_ctx *x, const char *who)
{
    struct store_member m;
    int64_t id = 0;
    int rc;

    if ((rc = ctl_data_open(x)) != CTL_OK)
        return rc;
    int found = admin_member(x->st, who, &m);
    if (found < 0) {
        fprintf(stderr, "mentorctl export: %s\n", store_errmsg(x->st));
        return CTL_FAIL;
    }
    char addr[320];
    snprintf(addr, sizeof(addr), "%s", found ? m.address : who);
    if (found) {
        id = m.id;
        store_member_free(&m);
    }
    /* Not a member (any more) is still an answer: what mail and events name the address. */
    printf("{\"address\": \"");
    for (const char *p = addr; *p; p++)
        if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            putchar(*p);
    printf("\",\n\"is_member\": %s,\n", found ? "true" : "false");
    for (size_t i = 0; i < sizeof(ctl_export_parts) / sizeof(ctl_export_parts[0]); i++)
        if ((rc = ctl_export_part(x, &ctl_export_parts[i], addr, id, i == 0)) != CTL_OK)
            return rc;
    printf("}\n");
    return CTL_OK;
}

/* ---- retry: mail given up on goes back to the inbox ---- */

struct ctl_failed {
    int64_t id;
    char *message_id;
};

struct ctl_failed_list {
    struct ctl_failed *v;
    size_t n;
};

static void
ctl_failed_free(struct ctl_failed_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].message_id);
    free(l->v);
}

/* The failed rows matching which ("all", a row id, a Message-ID or a sender). */
static int
ctl_failed_rows(struct ctl_ctx *x, const char *which, struct ctl_table *t)
{
    int all = strcmp(which, "all") == 0;

    return ctl_table_query(x->st, t, "listing failed mail",
                           "SELECT id, message_id, sender, detail FROM messages"
                           " WHERE outcome = 'failed' AND mailbox = ?1 AND (?2 IS NULL"
                           " OR CAST(id AS TEXT) = ?2 OR message_id = ?2"
                           " OR message_id = trim(?2, '<>') OR sender = ?2 COLLATE NOCASE)"
                           " ORDER BY id",
                           "ss", x->cfg->imap.mailbox, all ? NULL : which);
}

static int
ctl_retry_connect(struct ctl_ctx *x, struct imap **im, int *move)
{
    char err[512];
    uint32_t validity = 0, next = 0;
    const struct config_imap *c = &x->cfg->imap;

    *move = c->processed_mailbox != NULL && c->processed_mailbox[0] != '\0';
    if (imap_connect(c, im, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl retry: IMAP %s: %s\n", c->host, err);
        return CTL_FAIL;
    }
    if (imap_select(*im, *move ? c->processed_mailbox : c->mailbox, &validity, &next) != 0) {
        fprintf(stderr, "mentorctl retry: IMAP: %s\n", imap_error(*im));
        return CTL_FAIL;
    }
    if (!*move && !imap_keywords_allowed(*im)) {
        fprintf(stderr, "mentorctl retry: the server allows no keywords and there is no processed "
                        "mailbox: forward the mail to the community address again instead\n");
        return CTL_FAIL;
    }
    return CTL_OK;
}

/* Put back the messages uids[0..n): unmark, and move to the inbox when they were moved. */
static int
ctl_retry_put_back(struct ctl_ctx *x, struct imap *im, int move, const uint32_t *uids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (imap_keywords_allowed(im) && (imap_remove_flag(im, uids[i], CTL_FAILED_KEYWORD) != 0 ||
                                          imap_remove_flag(im, uids[i], CTL_DONE_KEYWORD) != 0))
            return -1;
        if (move && imap_move(im, uids[i], x->cfg->imap.mailbox) != 0)
            return -1;
    }
    return 0;
}

/* Find one failed row's mail by its Message-ID (or, for "all", by the failed keyword). */
static int
ctl_retry_find(struct imap *im, const char *message_id, uint32_t **uids, size_t *n)
{
    if (message_id != NULL && message_id[0] != '\0')
        return imap_search_mark(im, NULL, "Message-ID", message_id, uids, n);
    if (!imap_keywords_allowed(im)) {
        *uids = NULL;
        *n = 0;
        return 0;
    }
    return imap_search_mark(im, CTL_FAILED_KEYWORD, NULL, NULL, uids, n);
}

/* One row: marked "retried" and its mail put back, in one transaction (the daemon waits). */
static int
ctl_retry_one(struct ctl_ctx *x, struct imap *im, int move, int64_t id, const char *message_id,
              int *moved)
{
    uint32_t *uids = NULL;
    size_t n = 0;
    char detail[64];

    if (store_begin(x->st) != 0)
        return -1;
    snprintf(detail, sizeof(detail), "message #%lld put back by %s", (long long)id, x->by);
    if (store_message_retried(x->st, id) < 0 ||
        store_event_add(x->st, x->now, "retry", NULL, message_id, detail) != 0)
        goto store_fail;
    if (ctl_retry_find(im, message_id, &uids, &n) != 0 ||
        ctl_retry_put_back(x, im, move, uids, n) != 0) {
        fprintf(stderr, "mentorctl retry: #%lld: IMAP: %s\n", (long long)id, imap_error(im));
        free(uids);
        store_rollback(x->st);
        return -1;
    }
    free(uids);
    if (n == 0) {
        fprintf(stderr, "mentorctl retry: #%lld (%s): not found in the mailbox; left as failed\n",
                (long long)id, message_id ? message_id : "no Message-ID");
        store_rollback(x->st);
        return 0;
    }
    if (store_commit(x->st) != 0)
        goto store_fail;
    *moved += (int)n;
    printf("#%lld %s: back in %s\n", (long long)id, message_id ? message_id : "(no Message-ID)",
           x->cfg->imap.mailbox);
    return 0;
store_fail:
    fprintf(stderr, "mentorctl retry: %s\n", store_errmsg(x->st));
    store_rollback(x->st);
    return -1;
}

static int
ctl_retry_collect(struct ctl_table *t, struct ctl_failed_list *l)
{
    l->v = calloc(t->nrows ? t->nrows : 1, sizeof(*l->v));
    l->n = 0;
    if (l->v == NULL)
        return -1;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *mid = t->cells[r * t->ncols + 1];
        l->v[l->n].id = strtoll(t->cells[r * t->ncols], NULL, 10);
        l->v[l->n].message_id = mid ? strdup(mid) : NULL;
        if (mid && !l->v[l->n].message_id)
            return -1;
        l->n++;
    }
    return 0;
}

int
ctl_cmd_retry(struct ctl_ctx *x, int argc, char **argv)
{
    const char *which;
    struct ctl_table t;
    struct ctl_failed_list l = {NULL, 0};
    struct imap *im = NULL;
    int move = 0, moved = 0, rc = ctl_data_one_arg(x, argc, argv, &which, 1);

    if (rc != CTL_OK)
        return rc < 0 ? CTL_OK : rc;
    if ((rc = ctl_data_open(x)) != CTL_OK)
        return rc;
    if (ctl_failed_rows(x, which ? which : "all", &t) != 0) {
        fprintf(stderr, "mentorctl retry: %s\n", store_errmsg(x->st));
        return CTL_FAIL;
    }
    if (which == NULL || t.nrows == 0) {
        /* Without an argument: the list, so the admin sees what "all" would put back. */
        if (which != NULL)
            fprintf(stderr, "mentorctl retry: no failed mail matches '%s'\n", which);
        else
            ctl_table_print(stdout, &t, CTL_FORMAT_TABLE);
        ctl_table_free(&t);
        return which != NULL ? CTL_NOT_FOUND : CTL_OK;
    }
    rc = ctl_retry_collect(&t, &l) != 0 ? CTL_FAIL : ctl_retry_connect(x, &im, &move);
    ctl_table_free(&t);
    for (size_t i = 0; rc == CTL_OK && i < l.n; i++)
        if (ctl_retry_one(x, im, move, l.v[i].id, l.v[i].message_id, &moved) != 0)
            rc = CTL_FAIL;
    imap_close(im);
    ctl_failed_free(&l);
    if (rc == CTL_OK)
        printf("%d message(s) back in the inbox; the daemon answers them on its next pass\n",
               moved);
    return rc;
}
