/*
 * ctl_cmds: the mentorctl commands that work on the database (listings,
 * show, match/unmatch, pause/resume, remove, import, export, stats, digest
 * preview, render, check-config).  mentorctl.c only dispatches.
 *
 * Every command parses its own options (--help, --csv, --json and its own),
 * opens the store only when it needs it and keeps each write transaction
 * short, so running beside the daemon is safe: the busy timeout waits out
 * the daemon's own short transactions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "compose.h"
#include "ctl.h"
#include "digest.h"
#include "lang.h"
#include "profile.h"
#include "setup.h"
#include "template.h"

#define IMPORT_BATCH 500
#define MAX_POS 8

struct ctl_opts {
    int help, csv, json, dry_run, preview, html;
    const char *role, *weeks, *until;
    const char *vars[16]; /* render --var NAME=VALUE */
    size_t nvars;
    const char *unset[16]; /* render --unset NAME */
    size_t nunset;
    char *pos[MAX_POS];
    int npos;
};

static int
ctl_usage_err(struct ctl_ctx *x, const char *fmt, const char *arg)
{
    fprintf(stderr, "mentorctl %s: ", x->command);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try mentorctl %s --help)\n", x->command);
    return CTL_USAGE;
}

/* Options anywhere among the arguments; "--" ends them. */
static int
ctl_parse(struct ctl_ctx *x, int argc, char **argv, struct ctl_opts *o)
{
    int opts = 1;

    memset(o, 0, sizeof(*o));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **val = NULL;
        if (opts && strcmp(a, "--") == 0) {
            opts = 0;
            continue;
        }
        if (!opts || a[0] != '-' || a[1] == '\0') {
            if (o->npos >= MAX_POS)
                return ctl_usage_err(x, "too many arguments at '%s'", a);
            o->pos[o->npos++] = argv[i];
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            o->help = 1;
        else if (strcmp(a, "--csv") == 0)
            o->csv = 1;
        else if (strcmp(a, "--json") == 0)
            o->json = 1;
        else if (strcmp(a, "--dry-run") == 0 || strcmp(a, "-n") == 0)
            o->dry_run = 1;
        else if (strcmp(a, "--preview") == 0)
            o->preview = 1;
        else if (strcmp(a, "--html") == 0)
            o->html = 1;
        else if (strcmp(a, "--role") == 0)
            val = &o->role;
        else if (strcmp(a, "--weeks") == 0)
            val = &o->weeks;
        else if (strcmp(a, "--until") == 0)
            val = &o->until;
        else if (strcmp(a, "--var") == 0 && o->nvars < 16)
            val = &o->vars[o->nvars++];
        else if (strcmp(a, "--unset") == 0 && o->nunset < 16)
            val = &o->unset[o->nunset++];
        else
            return ctl_usage_err(x, "unknown option '%s'", a);
        if (val != NULL) {
            if (i + 1 >= argc)
                return ctl_usage_err(x, "%s needs a value", a);
            *val = argv[++i];
        }
    }
    if (o->csv && o->json)
        return ctl_usage_err(x, "%s", "--csv and --json exclude each other");
    x->fmt = o->csv ? CTL_FORMAT_CSV : o->json ? CTL_FORMAT_JSON : CTL_FORMAT_TABLE;
    return CTL_OK;
}

static int
ctl_open(struct ctl_ctx *x)
{
    char err[512];

    if (x->st != NULL)
        return CTL_OK;
    if (store_open(x->cfg->store.path, &x->st, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl %s: %s: %s\n", x->command, x->cfg->store.path, err);
        return CTL_FAIL;
    }
    return CTL_OK;
}

static int
ctl_store_err(struct ctl_ctx *x)
{
    fprintf(stderr, "mentorctl %s: %s\n", x->command, store_errmsg(x->st));
    return CTL_FAIL;
}

/* Print a table; an empty listing still prints its header (or [] in JSON). */
static int
ctl_print(struct ctl_ctx *x, const struct ctl_table *t)
{
    if (ctl_table_print(stdout, t, x->fmt) != 0) {
        fprintf(stderr, "mentorctl %s: writing the output: %s\n", x->command, strerror(errno));
        return CTL_FAIL;
    }
    return CTL_OK;
}

/* ---- listings ---- */

int
ctl_cmd_list(struct ctl_ctx *x, int argc, char **argv)
{
    struct ctl_opts o;
    struct ctl_table t;
    char msg[256];
    int rc = ctl_parse(x, argc, argv, &o);

    if (rc != CTL_OK || o.help)
        return rc;
    if (o.npos > 1)
        return ctl_usage_err(x, "takes at most one filter, not '%s'", o.pos[1]);
    if ((rc = ctl_open(x)) != CTL_OK)
        return rc;
    rc = ctl_list(x->st, x->command, o.npos ? o.pos[0] : NULL, x->now, &t, msg, sizeof(msg));
    if (rc == CTL_USAGE)
        return ctl_usage_err(x, "%s", msg);
    if (rc != CTL_OK) {
        fprintf(stderr, "mentorctl %s: %s\n", x->command, msg);
        return rc;
    }
    if (strcmp(x->command, "outbox") == 0 && ctl_outbox_why(x->cfg, x->st, &t) != 0) {
        ctl_table_free(&t);
        fprintf(stderr, "mentorctl outbox: out of memory\n");
        return CTL_FAIL;
    }
    rc = ctl_print(x, &t);
    ctl_table_free(&t);
    return rc;
}

/* ---- why mail waits ---- */

/*
 * The zone mail to addr is timed by: a manager's is [digest] timezone, a
 * member's the "Time zone:" of their profile, anyone else's UTC.  Copies its
 * name to zone and returns the offset from UTC at t, in minutes.
 */
static int
ctl_zone_of(const struct config *cfg, struct store *st, const char *addr, time_t t, char *zone,
            size_t len)
{
    struct store_member m;
    struct profile p;
    int ok = 0, offset = 0;
    char *text = NULL;

    if (config_is_manager(cfg, addr)) {
        if (asprintf(&text, "Time zone: %s\n",
                     cfg->digest.timezone ? cfg->digest.timezone : "UTC") < 0)
            text = NULL;
    } else if (admin_member(st, addr, &m) == 1) {
        text = m.profile ? strdup(m.profile) : NULL;
        store_member_free(&m);
    }
    snprintf(zone, len, "UTC");
    if (text && profile_parse(text, &p) == 0) {
        offset = profile_utc_offset(&p, (long long)t, &ok);
        if (ok && p.timezone)
            snprintf(zone, len, "%s", p.timezone);
        profile_free(&p);
    }
    free(text);
    return ok ? offset : 0;
}

/* "quiet hours: until 07:00 Europe/Berlin": when a mail timed for the morning goes out. */
static void
ctl_quiet_words(const struct config *cfg, struct store *st, const char *addr, time_t at, char *out,
                size_t len)
{
    char zone[64];
    int offset = ctl_zone_of(cfg, st, addr, at, zone, sizeof(zone));
    time_t local = at + (time_t)offset * 60;
    struct tm tm;

    gmtime_r(&local, &tm);
    snprintf(out, len, "quiet hours: until %02d:%02d %s", tm.tm_hour, tm.tm_min, zone);
}

int
ctl_outbox_why(const struct config *cfg, struct store *st, struct ctl_table *t)
{
    size_t wc = t->ncols, rc = t->ncols;
    char why[160];

    for (size_t c = 0; c < t->ncols; c++) {
        if (strcmp(t->head[c], "waiting") == 0)
            wc = c;
        else if (strcmp(t->head[c], "recipient") == 0)
            rc = c;
    }
    if (wc == t->ncols || rc == t->ncols)
        return 0;
    for (size_t r = 0; r < t->nrows; r++) {
        char **cell = &t->cells[r * t->ncols + wc];
        const char *to = t->cells[r * t->ncols + rc];
        if (*cell == NULL || strncmp(*cell, "quiet:", 6) != 0 || to == NULL)
            continue;
        ctl_quiet_words(cfg, st, to, (time_t)atoll(*cell + 6), why, sizeof(why));
        char *w = strdup(why);
        if (w == NULL)
            return -1;
        free(*cell);
        *cell = w;
    }
    return 0;
}

int
ctl_outbox_waiting(const struct config *cfg, struct store *st, time_t since, time_t now, FILE *out)
{
    struct ctl_table t;
    char why[160];

    if (ctl_table_query(st, &t, "mail waiting",
                        "SELECT recipient, coalesce(template, kind), next_attempt FROM outbox"
                        " WHERE status = 'queued' AND created >= ?1 AND next_attempt > ?2"
                        " ORDER BY id",
                        "ii", (int64_t)since, (int64_t)now) != 0)
        return -1;
    for (size_t r = 0; r < t.nrows; r++) {
        char **row = &t.cells[r * t.ncols];
        ctl_quiet_words(cfg, st, row[0], (time_t)atoll(row[2]), why, sizeof(why));
        fprintf(out, "%s to %s waits for the %s (the recipient's night)\n", row[1], row[0], why);
    }
    ctl_table_free(&t);
    return 0;
}

/* ---- show ---- */

struct ctl_section {
    const char *title;
    const char *sql; /* ?1: member id, ?2: now */
};

static const struct ctl_section ctl_show_sections[] = {
    {"member", "SELECT id, address, coalesce(name, '') AS name, role, state,"
               " strftime('%Y-%m-%d %H:%M', created, 'unixepoch') AS joined,"
               " strftime('%Y-%m-%d', waiting_since, 'unixepoch') AS waiting_since,"
               " strftime('%Y-%m-%d', pause_until, 'unixepoch') AS paused_until,"
               " strftime('%Y-%m-%d', away_until, 'unixepoch') AS away_until,"
               " undeliverable, bounce_score, unanswered,"
               " strftime('%Y-%m-%d', last_break, 'unixepoch') AS last_break"
               " FROM members WHERE id = ?1 AND ?2 IS NOT NULL"},
    {"load", "SELECT (SELECT count(*) FROM pairs WHERE mentor = ?1 AND state = 'active') AS "
             "active_as_mentor,"
             " (SELECT count(*) FROM pairs WHERE mentor = ?1 AND state = 'proposed') AS proposed,"
             " (SELECT count(*) FROM pairs WHERE (mentor = ?1 OR newcomer = ?1)"
             "  AND state IN ('active', 'ended')) AS pairs_ever,"
             " (SELECT CASE WHEN count(f.rating) > 0 THEN printf('%.1f', avg(f.rating)) END FROM "
             "feedback f JOIN pairs p ON p.id = f.pair"
             "  WHERE p.mentor = ?1 AND f.member IS NOT ?1 AND f.at >= ?2 - 7776000) AS rating_90d,"
             " (SELECT count(*) FROM feedback f JOIN pairs p ON p.id = f.pair WHERE p.mentor = ?1"
             "  AND f.member IS NOT ?1 AND f.rating <= 2 AND f.at >= ?2 - 7776000) AS low_90d,"
             " (?2 - coalesce(m.last_break, m.created)) / 604800 AS weeks_without_break"
             " FROM members m WHERE m.id = ?1"},
    {"profile", "SELECT trim(substr(line, 1, instr(line, ':') - 1)) AS field,"
                " trim(substr(line, instr(line, ':') + 1)) AS value FROM (WITH RECURSIVE"
                " split(line, rest) AS (SELECT '', coalesce(profile, '') || char(10) FROM members"
                " WHERE id = ?1 AND ?2 IS NOT NULL UNION ALL SELECT substr(rest, 1, instr(rest, "
                "char(10)) - 1),"
                " substr(rest, instr(rest, char(10)) + 1) FROM split WHERE rest != '')"
                " SELECT line FROM split WHERE instr(line, ':') > 0)"},
    {"pairs",
     "SELECT p.id, p.state, CASE WHEN p.mentor = ?1 THEN 'mentor' ELSE 'newcomer' END AS side,"
     " coalesce(CASE WHEN p.mentor = ?1 THEN n.address ELSE o.address END, '(erased)')"
     " AS partner, strftime('%Y-%m-%d', p.started, 'unixepoch') AS started,"
     " strftime('%Y-%m-%d', coalesce(p.ended, p.ends), 'unixepoch') AS ends, p.end_reason"
     " FROM pairs p LEFT JOIN members n ON n.id = p.newcomer LEFT JOIN members o"
     " ON o.id = p.mentor WHERE (p.mentor = ?1 OR p.newcomer = ?1) AND ?2 IS NOT NULL"
     " ORDER BY p.id"},
    {"feedback",
     "SELECT f.pair, strftime('%Y-%m-%d', f.at, 'unixepoch') AS date, f.role, f.rating,"
     " f.met, coalesce(f.comment, '') AS comment FROM feedback f JOIN pairs p ON p.id = f.pair"
     " WHERE (p.mentor = ?1 OR p.newcomer = ?1) AND ?2 IS NOT NULL ORDER BY f.at, f.id"},
    {"history", "SELECT strftime('%Y-%m-%d %H:%M', e.at, 'unixepoch') AS at, e.kind,"
                " coalesce(e.detail, '') AS detail FROM events e, members m WHERE m.id = ?1"
                " AND e.member = m.address COLLATE NOCASE AND ?2 IS NOT NULL ORDER BY e.at, e.id"},
};

#define N_SECTIONS (sizeof(ctl_show_sections) / sizeof(ctl_show_sections[0]))

static int
ctl_show_section(struct ctl_ctx *x, size_t i, int64_t id)
{
    struct ctl_table t;
    const struct ctl_section *s = &ctl_show_sections[i];

    if (ctl_table_query(x->st, &t, s->title, s->sql, "ii", id, (int64_t)x->now) != 0)
        return ctl_store_err(x);
    if (x->fmt == CTL_FORMAT_JSON) {
        printf("%s\"%s\": ", i ? ",\n " : "{", s->title);
        ctl_table_print(stdout, &t, x->fmt);
    } else if (x->fmt == CTL_FORMAT_CSV) {
        printf("%s# %s\r\n", i ? "\r\n" : "", s->title);
        ctl_table_print(stdout, &t, x->fmt);
    } else {
        printf("%s== %s\n", i ? "\n" : "", s->title);
        if (t.nrows == 0)
            printf("(none)\n");
        else
            ctl_table_print(stdout, &t, x->fmt);
    }
    ctl_table_free(&t);
    return CTL_OK;
}

int
ctl_cmd_show(struct ctl_ctx *x, int argc, char **argv)
{
    struct ctl_opts o;
    struct store_member m;
    int rc = ctl_parse(x, argc, argv, &o);

    if (rc != CTL_OK || o.help)
        return rc;
    if (o.npos != 1)
        return ctl_usage_err(x, "%s", "needs exactly one MEMBER (address or #id)");
    if ((rc = ctl_open(x)) != CTL_OK)
        return rc;
    int found = admin_member(x->st, o.pos[0], &m);
    if (found < 0)
        return ctl_store_err(x);
    if (found == 0) {
        fprintf(stderr, "mentorctl show: no member %s\n", o.pos[0]);
        return CTL_NOT_FOUND;
    }
    int64_t id = m.id;
    store_member_free(&m);
    for (size_t i = 0; i < N_SECTIONS && rc == CTL_OK; i++)
        rc = ctl_show_section(x, i, id);
    if (x->fmt == CTL_FORMAT_JSON)
        printf("}\n");
    return rc;
}

/* ---- actions ---- */

static int
ctl_act_done(struct ctl_ctx *x, int rc, const struct admin_msg *msg)
{
    if (rc == CTL_OK) {
        if (store_commit(x->st) != 0)
            return ctl_store_err(x);
        printf("%s\n", msg->text);
        return CTL_OK;
    }
    store_rollback(x->st);
    fprintf(stderr, "mentorctl %s: %s\n", x->command, msg->text);
    return rc;
}

static int
ctl_act_begin(struct ctl_ctx *x)
{
    int rc = ctl_open(x);

    if (rc != CTL_OK)
        return rc;
    return store_begin(x->st) == 0 ? CTL_OK : ctl_store_err(x);
}

typedef int ctl_two_fn(const struct config *cfg, struct store *st, const char *a, const char *b,
                       const char *by, time_t now, struct admin_msg *msg);

/* Parse, check for exactly two arguments, act in a transaction (MATCH, BLOCK). */
static int
ctl_cmd_two(struct ctl_ctx *x, int argc, char **argv, const char *usage, ctl_two_fn *act)
{
    struct ctl_opts o;
    struct admin_msg msg;
    int rc = ctl_parse(x, argc, argv, &o);

    if (rc != CTL_OK || o.help)
        return rc;
    if (o.npos != 2)
        return ctl_usage_err(x, "%s", usage);
    if ((rc = ctl_act_begin(x)) != CTL_OK)
        return rc;
    rc = act(x->cfg, x->st, o.pos[0], o.pos[1], x->by, x->now, &msg);
    return ctl_act_done(x, rc, &msg);
}

int
ctl_cmd_match(struct ctl_ctx *x, int argc, char **argv)
{
    return ctl_cmd_two(x, argc, argv, "match needs a NEWCOMER and a MENTOR", admin_match);
}

int
ctl_cmd_block(struct ctl_ctx *x, int argc, char **argv)
{
    return ctl_cmd_two(x, argc, argv, "block needs two MEMBERs", admin_block);
}

/* The actions on one MEMBER (or pair) that take nothing else. */
typedef int ctl_one_fn(const struct config *cfg, struct store *st, const char *who, const char *by,
                       time_t now, struct admin_msg *msg);

/* Parse, check for exactly one argument, act in a transaction; *acted when it ran. */
static int
ctl_cmd_one(struct ctl_ctx *x, int argc, char **argv, const char *usage, ctl_one_fn *act,
            int *acted)
{
    struct ctl_opts o;
    struct admin_msg msg;
    int rc = ctl_parse(x, argc, argv, &o);

    *acted = 0;
    if (rc != CTL_OK || o.help)
        return rc;
    if (o.npos != 1)
        return ctl_usage_err(x, "%s", usage);
    if ((rc = ctl_act_begin(x)) != CTL_OK)
        return rc;
    *acted = 1;
    rc = act(x->cfg, x->st, o.pos[0], x->by, x->now, &msg);
    return ctl_act_done(x, rc, &msg);
}

int
ctl_cmd_unmatch(struct ctl_ctx *x, int argc, char **argv)
{
    int acted;
    return ctl_cmd_one(x, argc, argv, "needs one PAIR (id or ref) or MEMBER", admin_unmatch,
                       &acted);
}

/* --weeks N or --until DATE: the end of a pause; 0 for open-ended, -1 when invalid. */
static time_t
ctl_until(struct ctl_ctx *x, const struct ctl_opts *o)
{
    if (o->weeks) {
        char *end = NULL;
        long w = strtol(o->weeks, &end, 10);
        return *end == '\0' && w > 0 && w <= 520 ? x->now + w * 7 * 86400 : -1;
    }
    if (o->until) {
        time_t t = clock_parse(o->until);
        return t > x->now ? t : -1;
    }
    return 0;
}

int
ctl_cmd_pause(struct ctl_ctx *x, int argc, char **argv)
{
    struct ctl_opts o;
    struct admin_msg msg;
    int rc = ctl_parse(x, argc, argv, &o);
    time_t until;

    if (rc != CTL_OK || o.help)
        return rc;
    if (o.npos != 1)
        return ctl_usage_err(x, "%s", "needs one MEMBER");
    if ((until = ctl_until(x, &o)) < 0)
        return ctl_usage_err(x, "%s", "--weeks takes 1-520, --until a future date (YYYY-MM-DD)");
    if ((rc = ctl_act_begin(x)) != CTL_OK)
        return rc;
    rc = admin_pause(x->cfg, x->st, o.pos[0], until, x->by, x->now, &msg);
    return ctl_act_done(x, rc, &msg);
}

int
ctl_cmd_resume(struct ctl_ctx *x, int argc, char **argv)
{
    int acted;
    return ctl_cmd_one(x, argc, argv, "needs one MEMBER", admin_resume, &acted);
}

int
ctl_cmd_remove(struct ctl_ctx *x, int argc, char **argv)
{
    int acted;
    int rc = ctl_cmd_one(x, argc, argv, "needs one MEMBER", admin_remove, &acted);

    /* The erased rows must leave the WAL too, not only the database. */
    if (acted && rc == CTL_OK && store_checkpoint(x->st) != 0)
        fprintf(stderr, "mentorctl remove: checkpoint: %s (the daemon will do it)\n",
                store_errmsg(x->st));
    return rc;
}

/* ---- stats ---- */

int
ctl_cmd_stats(struct ctl_ctx *x, int argc, char **argv)
{
    static const char sql[] =
        "SELECT 'members ' || role || ' ' || state AS figure, count(*) AS value FROM members"
        " WHERE ?1 IS NOT NULL GROUP BY role, state"
        " UNION ALL SELECT 'pairs ' || state, count(*) FROM pairs GROUP BY state"
        " UNION ALL SELECT 'waiting', count(*) FROM members m WHERE role = 'newcomer'"
        "  AND state = 'active' AND waiting_since IS NOT NULL AND NOT EXISTS"
        "  (SELECT 1 FROM pairs p WHERE p.newcomer = m.id AND p.state = 'active')"
        " UNION ALL SELECT 'longest wait (days)', coalesce(max(?1 - waiting_since), 0) / 86400"
        "  FROM members WHERE role = 'newcomer' AND state = 'active'"
        " UNION ALL SELECT 'outbox ' || status, count(*) FROM outbox GROUP BY status"
        " UNION ALL SELECT 'messages ' || outcome, count(*) FROM messages GROUP BY outcome"
        " UNION ALL SELECT 'feedback', count(*) FROM feedback"
        " UNION ALL SELECT 'average rating', CASE WHEN count(rating) > 0 THEN printf('%.1f',"
        " avg(rating)) ELSE '-' END FROM feedback"
        " UNION ALL SELECT 'scheduled (pending)', count(*) FROM schedule WHERE done IS NULL"
        " UNION ALL SELECT 'undeliverable', count(*) FROM members WHERE undeliverable = 1";
    struct ctl_opts o;
    struct ctl_table t;
    int rc = ctl_parse(x, argc, argv, &o);

    if (rc != CTL_OK || o.help)
        return rc;
    if (o.npos != 0)
        return ctl_usage_err(x, "takes no arguments, not '%s'", o.pos[0]);
    if ((rc = ctl_open(x)) != CTL_OK)
        return rc;
    if (ctl_table_query(x->st, &t, "stats", sql, "i", (int64_t)x->now) != 0)
        return ctl_store_err(x);
    rc = ctl_print(x, &t);
    ctl_table_free(&t);
    return rc;
}

/* ---- digest --preview ---- */

/* "last": the digest sent last, exactly as it went out (kept in the store when sent). */
static int
ctl_digest_last(struct ctl_ctx *x, int html)
{
    struct store_digest_copy c;
    int found = store_digest_last(x->st, &c);

    if (found < 0) {
        fprintf(stderr, "mentorctl digest: %s\n", store_errmsg(x->st));
        return CTL_FAIL;
    }
    if (found == 0) {
        fprintf(stderr, "mentorctl digest: no digest has been sent yet\n");
        return CTL_FAIL;
    }
    if (!html)
        printf("Subject: %s\n\n", c.subject);
    fputs(html ? c.html : c.text, stdout);
    store_digest_copy_free(&c);
    return CTL_OK;
}

int
ctl_cmd_digest(struct ctl_ctx *x, int argc, char **argv)
{
    struct ctl_opts o;
    struct digest d;
    char err[512];
    int rc = ctl_parse(x, argc, argv, &o);

    if (rc != CTL_OK || o.help)
        return rc;
    if (!o.preview || o.npos > 1 || (o.npos == 1 && strcmp(o.pos[0], "last") != 0))
        return ctl_usage_err(x, "%s", "usage: digest --preview [--html] [last]");
    if ((rc = ctl_open(x)) != CTL_OK)
        return rc;
    if (o.npos == 1)
        return ctl_digest_last(x, o.html);
    /* The period so far, computed now. */
    if (digest_build(x->cfg, x->st, x->now, 1, &d, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl digest: %s\n", err);
        return CTL_FAIL;
    }
    char *out = o.html ? digest_html(x->cfg, &d) : digest_text(x->cfg, &d);
    digest_free(&d);
    if (out == NULL) {
        fprintf(stderr, "mentorctl digest: out of memory\n");
        return CTL_FAIL;
    }
    fputs(out, stdout);
    free(out);
    return CTL_OK;
}

/* ---- render TEMPLATE ---- */

/* Variable names documented on the template's "## Variables:" lines, (notes) left out. */
static size_t
ctl_documented_vars(const char *path, char names[][48], size_t max)
{
    FILE *f = fopen(path, "r");
    char line[1024], doc[8192] = "";
    size_t n = 0, dl = 0;
    int in_vars = 0, depth = 0;

    if (f == NULL)
        return (size_t)-1;
    while (fgets(line, sizeof(line), f) && strncmp(line, "##", 2) == 0) {
        char *v = strstr(line, "Variables:");
        if (v)
            in_vars = 1;
        if (in_vars)
            dl += (size_t)snprintf(doc + dl, sizeof(doc) - dl, " %s",
                                   v ? v + strlen("Variables:") : line + 2);
        if (dl >= sizeof(doc))
            break;
    }
    fclose(f);
    for (char *p = doc; *p && n < max; p++) {
        if (*p == '(' || *p == ')') {
            depth += *p == '(' ? 1 : depth > 0 ? -1 : 0;
            continue;
        }
        if (depth || !((*p >= 'a' && *p <= 'z') || *p == '_') ||
            (p > doc && p[-1] != ' ' && p[-1] != ',' && p[-1] != '\n'))
            continue;
        size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
        if (len < sizeof(names[0])) {
            memcpy(names[n], p, len);
            names[n++][len] = '\0';
        }
        p += len - 1;
    }
    return n;
}

static const char *
ctl_sample(const char *name, char *buf, size_t len)
{
    if (strstr(name, "address") || strcmp(name, "member") == 0)
        return "someone@example.org";
    if (strcmp(name, "token") == 0 || strcmp(name, "ref") == 0)
        return "abc234defg";
    static const char *const counts[] = {"days",     "weeks",    "day",  "count",
                                         "capacity", "position", "wait", "checkins"};
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        if (strcmp(name, counts[i]) == 0)
            return "3"; /* a count: the template writes its plural form */
    if (strcmp(name, "ends") == 0 || strcmp(name, "until") == 0 ||
        strcmp(name, "waiting_since") == 0)
        return "2026-03-02"; /* a date: the template writes it in its language */
    snprintf(buf, len, "[%.40s]", name);
    return buf;
}

/* The file a search path gives for name (the last candidate when none exists, for the error). */
static void
ctl_template_file(const char *dirs, const char *name, char *path, size_t len)
{
    for (const char *p = dirs;;) {
        size_t n = strcspn(p, ":");
        snprintf(path, len, "%.*s/%s.txt", (int)n, p, name);
        if (p[n] == '\0' || access(path, R_OK) == 0)
            return;
        p += n + 1;
    }
}

int
ctl_cmd_render(struct ctl_ctx *x, int argc, char **argv)
{
    struct ctl_opts o;
    char names[64][48], samples[64][64], path[4096], err[512], *subject = NULL, *body = NULL;
    struct template_var vars[96];
    size_t nv = 0;
    int rc = ctl_parse(x, argc, argv, &o);

    if (rc != CTL_OK || o.help)
        return rc;
    /* "es/join": the Spanish text; "join": the community's language. */
    char lang[LANG_CODE_MAX], dirs[8192];
    const char *name = o.pos[0], *slash = o.npos == 1 ? strchr(name, '/') : NULL;
    const char *deflt = x->cfg->templates.language ? x->cfg->templates.language : "en";
    snprintf(lang, sizeof(lang), "%.*s", slash ? (int)(slash - name) : (int)strlen(deflt),
             slash ? name : deflt);
    if (slash)
        name = slash + 1;
    if (o.npos != 1 || strchr(name, '/') != NULL || name[0] == '\0' ||
        lang_template_path(x->cfg->templates.dir, lang, deflt, dirs, sizeof(dirs)) != 0)
        return ctl_usage_err(x, "%s", "needs one TEMPLATE name (e.g. digest, join, es/join)");
    ctl_template_file(dirs, name, path, sizeof(path));
    size_t n = ctl_documented_vars(path, names, 64);
    if (n == (size_t)-1) {
        fprintf(stderr, "mentorctl render: no template %s (%s)\n", o.pos[0], path);
        return CTL_NOT_FOUND;
    }
    /* --var first: the first value given for a name wins. */
    for (size_t i = 0; i < o.nvars; i++) {
        char *eq = strchr(o.vars[i], '=');
        if (eq == NULL)
            return ctl_usage_err(x, "--var takes NAME=VALUE, not '%s'", o.vars[i]);
        *eq = '\0';
        vars[nv++] = (struct template_var){o.vars[i], eq + 1};
    }
    for (size_t i = 0; i < o.nunset; i++)
        vars[nv++] = (struct template_var){o.unset[i], NULL};
    vars[nv++] = (struct template_var){"community_name", x->cfg->community.name};
    vars[nv++] = (struct template_var){"community_address", x->cfg->community.address};
    for (size_t i = 0; i < n && nv < 96; i++)
        vars[nv++] = (struct template_var){names[i], ctl_sample(names[i], samples[i], 64)};
    if (template_render_lang(dirs, name, lang_get(x->cfg->templates.dir, lang), vars, nv, &subject,
                             &body, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl render: %s (is every variable documented on its ## lines?)\n",
                err);
        return CTL_FAIL;
    }
    printf("Subject: %s\n\n%s", subject, body);
    free(subject);
    free(body);
    return CTL_OK;
}

/* ---- check-config ---- */

int
ctl_cmd_check_config(struct ctl_ctx *x, int argc, char **argv)
{
    struct ctl_opts o;
    char err[512];
    int rc = ctl_parse(x, argc, argv, &o);

    if (rc != CTL_OK || o.help)
        return rc;
    config_print(x->cfg, stdout);
    /* The file parsed; now every path it names, and every template rendered once. */
    printf("\n");
    if (setup_check(x->cfg, stdout, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl check-config: %s\n", err);
        return CTL_FAIL;
    }
    /* As the outbox does: the managers' language falls back to the community's, that to English. */
    const char *dir = x->cfg->templates.dir, *community = x->cfg->templates.language;
    const char *langs[] = {community, x->cfg->templates.managers_language};
    const char *instead = community && lang_has_templates(dir, community) ? community : "en";
    for (size_t i = 0; i < 2; i++)
        if (langs[i] != NULL && !lang_has_templates(dir, langs[i]))
            fprintf(stderr,
                    "mentorctl check-config: warning: no texts for language '%s' in %s; "
                    "mail is written in '%s' instead\n",
                    langs[i], dir, i == 0 ? "en" : instead);
    if ((rc = ctl_open(x)) != CTL_OK)
        return rc;
    fprintf(stderr, "mentorctl check-config: %s is valid; database schema version %d\n",
            x->cfg->path ? x->cfg->path : "the configuration", store_schema_version(x->st));
    return CTL_OK;
}

/* ---- import ---- */

enum {
    COL_ADDRESS,
    COL_NAME,
    COL_ROLE,
    COL_SKILLS,
    COL_LANGUAGES,
    COL_TIMEZONE,
    COL_CAPACITY,
    N_COLS
};
static const char *const ctl_columns[N_COLS] = {"address",   "name",     "role",    "skills",
                                                "languages", "timezone", "capacity"};

struct ctl_csv {
    FILE *f;
    char *buf;
    size_t cap, len;
    char *fields[32];
    size_t n;
    long line; /* where the record started */
    long next_line;
    off_t bytes;
};

static int
ctl_csv_put(struct ctl_csv *c, int ch)
{
    if (c->len + 1 >= c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        char *b = realloc(c->buf, cap);
        if (b == NULL)
            return -1;
        c->buf = b;
        c->cap = cap;
    }
    c->buf[c->len++] = (char)ch;
    return 0;
}

/* One RFC 4180 record (quoted fields may hold commas and line breaks): 1, 0 at EOF, -1 OOM. */
static int
ctl_csv_record(struct ctl_csv *c)
{
    size_t starts[32];
    int ch, quoted = 0, any = 0;

    c->len = c->n = 0;
    c->line = c->next_line;
    starts[c->n++] = 0;
    while ((ch = getc(c->f)) != EOF) {
        any = 1;
        c->bytes++;
        if (ch == '\n')
            c->next_line++;
        if (quoted) {
            if (ch == '"') {
                int nx = getc(c->f);
                if (nx == '"') {
                    c->bytes++;
                    if (ctl_csv_put(c, '"') != 0)
                        return -1;
                    continue;
                }
                if (nx != EOF)
                    ungetc(nx, c->f);
                quoted = 0;
            } else if (ctl_csv_put(c, ch) != 0) {
                return -1;
            }
            continue;
        }
        if (ch == '"') {
            quoted = 1;
        } else if (ch == ',') {
            if (ctl_csv_put(c, '\0') != 0)
                return -1;
            if (c->n < 32)
                starts[c->n++] = c->len;
        } else if (ch == '\n') {
            break;
        } else if (ch != '\r' && ctl_csv_put(c, ch) != 0) {
            return -1;
        }
    }
    if (!any)
        return 0;
    if (ctl_csv_put(c, '\0') != 0)
        return -1;
    for (size_t i = 0; i < c->n; i++)
        c->fields[i] = c->buf + starts[i];
    return 1;
}

static char *
ctl_trim(char *s)
{
    size_t n;

    s += strspn(s, " \t");
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

struct ctl_import {
    struct ctl_ctx *x;
    const char *file;
    const char *role; /* --role */
    int dry_run;
    int col[N_COLS]; /* index in the record, -1 when absent */
    long added, updated, rejected;
    off_t size;
    int progress, shown;
};

static int
ctl_import_header(struct ctl_import *im, struct ctl_csv *c)
{
    for (int k = 0; k < N_COLS; k++)
        im->col[k] = -1;
    for (size_t i = 0; i < c->n; i++) {
        char *name = ctl_trim(c->fields[i]);
        int known = 0;
        for (int k = 0; k < N_COLS; k++)
            if (strcasecmp(name, ctl_columns[k]) == 0) {
                im->col[k] = (int)i;
                known = 1;
            }
        if (!known)
            fprintf(stderr, "mentorctl import: %s: column '%s' ignored\n", im->file, name);
    }
    if (im->col[COL_ADDRESS] < 0) {
        fprintf(stderr, "mentorctl import: %s:1: the header row needs an 'address' column (%s)\n",
                im->file, "address,name,role,skills,languages,timezone,capacity");
        return CTL_USAGE;
    }
    return CTL_OK;
}

static const char *
ctl_field(const struct ctl_import *im, struct ctl_csv *c, int k)
{
    int i = im->col[k];
    if (i < 0 || (size_t)i >= c->n)
        return NULL;
    char *v = ctl_trim(c->fields[i]);
    return v[0] ? v : NULL;
}

static void
ctl_reject(struct ctl_import *im, long line, const char *why, const char *what)
{
    fprintf(stderr, "%smentorctl import: %s:%ld: %s%s%s\n", im->shown ? "\n" : "", im->file, line,
            why, what ? ": " : "", what ? what : "");
    im->shown = 0;
    im->rejected++;
}

/* The profile fields of a row, parsed; 1 ok, 0 with hint set when not usable, -1 OOM. */
static int
ctl_import_profile(struct ctl_import *im, struct ctl_csv *c, struct profile *p, char *hint,
                   size_t hlen)
{
    static const char *const keys[] = {"skills", "languages", "time zone", "capacity"};
    static const int cols[] = {COL_SKILLS, COL_LANGUAGES, COL_TIMEZONE, COL_CAPACITY};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (f == NULL)
        return -1;
    for (size_t k = 0; k < 4; k++) {
        const char *v = ctl_field(im, c, cols[k]);
        if (v)
            fprintf(f, "%s: %s\n", keys[k], v);
    }
    if (fclose(f) != 0 || profile_parse(text, p) != 0) {
        free(text);
        return -1;
    }
    free(text);
    if (p->n_problems == 0)
        return 1;
    snprintf(hint, hlen, "\"%s\" - %s", p->problems[0].text, p->problems[0].hint);
    profile_free(p);
    return 0;
}

/* The stored profile with the row's fields put over it (an import updates, never blanks). */
static char *
ctl_import_merge(const struct store_member *m, const struct profile *row)
{
    struct profile base;
    char *out;

    if (profile_parse(m && m->profile ? m->profile : "", &base) != 0)
        return NULL;
    profile_merge(&base, row);
    out = profile_serialise(&base);
    profile_free(&base);
    return out;
}

static int
ctl_import_row(struct ctl_import *im, struct ctl_csv *c)
{
    const char *addr = ctl_field(im, c, COL_ADDRESS), *name = ctl_field(im, c, COL_NAME);
    const char *role = ctl_field(im, c, COL_ROLE);
    char hint[512] = "";
    struct store_member m;
    struct profile row;

    if (addr == NULL || !compose_address_ok(addr)) {
        ctl_reject(im, c->line, "not an address", addr ? addr : "(empty)");
        return CTL_OK;
    }
    int found = store_member_get(im->x->st, addr, &m);
    if (found < 0)
        return ctl_store_err(im->x);
    /* --role is the default for new members; only the row itself changes a member's role. */
    char role_buf[16];
    snprintf(role_buf, sizeof(role_buf), "%s",
             role       ? role
             : found    ? m.role
             : im->role ? im->role
                        : "");
    const char *new_role = role_buf[0] ? role_buf : NULL; /* m is freed before the upsert */
    if (new_role == NULL ||
        (strcmp(new_role, "newcomer") != 0 && strcmp(new_role, "mentor") != 0)) {
        ctl_reject(im, c->line, "role must be newcomer or mentor (or give --role)", new_role);
        if (found)
            store_member_free(&m);
        return CTL_OK;
    }
    int ok = ctl_import_profile(im, c, &row, hint, sizeof(hint));
    char *profile = ok == 1 ? ctl_import_merge(found ? &m : NULL, &row) : NULL;
    if (ok == 1)
        profile_free(&row);
    if (found)
        store_member_free(&m);
    if (ok == 0)
        ctl_reject(im, c->line, "profile not understood", hint);
    if (ok <= 0 || profile == NULL)
        return ok == 0 ? CTL_OK : CTL_FAIL;
    /* An imported member is confirmed by the admin: active at once; newcomers start waiting. */
    int rc = store_member_upsert(im->x->st, addr, name, new_role, found ? NULL : "active", profile,
                                 im->x->now, NULL);
    if (rc == 0 && !found && strcmp(new_role, "newcomer") == 0)
        rc = store_member_set_waiting(im->x->st, addr, im->x->now) < 0 ? -1 : 0;
    free(profile);
    if (rc != 0)
        return ctl_store_err(im->x);
    if (found)
        im->updated++;
    else
        im->added++;
    return CTL_OK;
}

static void
ctl_progress(struct ctl_import *im, off_t done)
{
    if (!im->progress || im->size <= 0)
        return;
    int pct = (int)(done * 100 / im->size), bar = pct * 40 / 100;
    if (pct == im->shown - 1)
        return;
    fprintf(stderr, "\r[%.*s%*s] %3d%%", bar, "########################################", 40 - bar,
            "", pct);
    im->shown = pct + 1;
}

/* End a batch: commit, or roll back on a dry run; then the next batch begins. */
static int
ctl_import_batch(struct ctl_import *im, int again)
{
    if (im->dry_run)
        store_rollback(im->x->st);
    else if (store_commit(im->x->st) != 0)
        return ctl_store_err(im->x);
    if (again && store_begin(im->x->st) != 0)
        return ctl_store_err(im->x);
    return CTL_OK;
}

static int
ctl_import_run(struct ctl_import *im, struct ctl_csv *c)
{
    int rc, got;
    long rows = 0;

    if ((got = ctl_csv_record(c)) <= 0) {
        fprintf(stderr, "mentorctl import: %s: %s\n", im->file, got ? "out of memory" : "empty");
        return got ? CTL_FAIL : CTL_USAGE;
    }
    if ((rc = ctl_import_header(im, c)) != CTL_OK)
        return rc;
    if (store_begin(im->x->st) != 0)
        return ctl_store_err(im->x);
    while ((got = ctl_csv_record(c)) == 1) {
        if (c->n == 1 && c->fields[0][0] == '\0')
            continue; /* a blank line */
        if ((rc = ctl_import_row(im, c)) != CTL_OK)
            break;
        ctl_progress(im, c->bytes);
        /* Short transactions: the daemon waits at most one batch for the lock. */
        if (++rows % IMPORT_BATCH == 0 && (rc = ctl_import_batch(im, 1)) != CTL_OK)
            return rc;
    }
    if (got < 0)
        rc = CTL_FAIL;
    if (rc != CTL_OK) {
        store_rollback(im->x->st);
        return rc;
    }
    if (!im->dry_run) {
        char detail[128];
        snprintf(detail, sizeof(detail), "import: %ld added, %ld updated, %ld rejected", im->added,
                 im->updated, im->rejected);
        if (store_event_add(im->x->st, im->x->now, "manager", im->x->by, NULL, detail) != 0) {
            store_rollback(im->x->st);
            return ctl_store_err(im->x);
        }
    }
    return ctl_import_batch(im, 0);
}

int
ctl_cmd_import(struct ctl_ctx *x, int argc, char **argv)
{
    struct ctl_opts o;
    struct ctl_import im;
    struct ctl_csv c;
    struct stat sb;
    int rc = ctl_parse(x, argc, argv, &o);

    if (rc != CTL_OK || o.help)
        return rc;
    if (o.npos != 1)
        return ctl_usage_err(x, "%s", "needs one FILE.csv ('-' for standard input)");
    if (o.role && strcmp(o.role, "newcomer") != 0 && strcmp(o.role, "mentor") != 0)
        return ctl_usage_err(x, "--role is newcomer or mentor, not '%s'", o.role);
    memset(&im, 0, sizeof(im));
    memset(&c, 0, sizeof(c));
    im.x = x;
    im.file = o.pos[0];
    im.role = o.role;
    im.dry_run = o.dry_run;
    c.next_line = 1;
    c.f = strcmp(im.file, "-") == 0 ? stdin : fopen(im.file, "r");
    if (c.f == NULL) {
        fprintf(stderr, "mentorctl import: %s: %s\n", im.file, strerror(errno));
        return CTL_NOT_FOUND;
    }
    /* A progress bar only for a person watching a big file. */
    im.size = fstat(fileno(c.f), &sb) == 0 && S_ISREG(sb.st_mode) ? sb.st_size : 0;
    im.progress = isatty(STDERR_FILENO) && im.size >= 64 * 1024;
    rc = ctl_open(x);
    if (rc == CTL_OK)
        rc = ctl_import_run(&im, &c);
    if (im.shown)
        fputc('\n', stderr);
    if (c.f != stdin)
        fclose(c.f);
    free(c.buf);
    if (rc == CTL_OK || rc == CTL_FAIL)
        printf("%s: %ld added, %ld updated, %ld rejected%s\n", im.file, im.added, im.updated,
               im.rejected, im.dry_run ? " (dry run: nothing was changed)" : "");
    return rc != CTL_OK ? rc : im.rejected ? CTL_FAIL : CTL_OK;
}

/* ---- export ---- */

static char *
ctl_join(char **v, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    char *s = calloc(1, len);
    for (size_t i = 0; s && i < n; i++) {
        if (i)
            strcat(s, ";");
        strcat(s, v[i]);
    }
    return s;
}

/* One member as an import row plus state and date: the export reads back in. */
static int
ctl_export_member(const struct store_member *m, void *arg)
{
    struct ctl_table *t = arg;
    struct profile p;
    char cap[16] = "", joined[32] = "";
    struct tm tm;

    if (strcmp(m->state, "left") == 0 || profile_parse(m->profile ? m->profile : "", &p) != 0)
        return strcmp(m->state, "left") == 0 ? 0 : -1;
    char *skills = ctl_join(p.skills, p.n_skills), *langs = ctl_join(p.languages, p.n_languages);
    if (p.capacity > 0)
        snprintf(cap, sizeof(cap), "%d", p.capacity);
    if (gmtime_r(&m->created, &tm))
        strftime(joined, sizeof(joined), "%Y-%m-%d", &tm);
    const char *row[] = {m->address,          m->name,  m->role, skills, langs, p.timezone,
                         cap[0] ? cap : NULL, m->state, joined};
    int rc = skills && langs ? ctl_table_add(t, row) : -1;
    free(skills);
    free(langs);
    profile_free(&p);
    return rc;
}

int
ctl_cmd_export(struct ctl_ctx *x, int argc, char **argv)
{
    static const char *head[] = {"address",  "name",     "role",  "skills", "languages",
                                 "timezone", "capacity", "state", "joined"};
    struct ctl_opts o;
    struct ctl_table t;
    char msg[256];
    int rc = ctl_parse(x, argc, argv, &o);

    if (rc != CTL_OK || o.help)
        return rc;
    if (o.npos > 1)
        return ctl_usage_err(x, "exports one listing, not '%s'", o.pos[1]);
    /* An address or #ID: one person's data, for an access request. */
    if (o.npos == 1 && (strchr(o.pos[0], '@') != NULL || o.pos[0][0] == '#'))
        return ctl_export_person(x, o.pos[0]);
    if (!o.json)
        x->fmt = CTL_FORMAT_CSV; /* export is for spreadsheets */
    if ((rc = ctl_open(x)) != CTL_OK)
        return rc;
    if (o.npos == 1 && strcmp(o.pos[0], "members") != 0) {
        rc = ctl_list(x->st, o.pos[0], NULL, x->now, &t, msg, sizeof(msg));
        if (rc != CTL_OK) {
            fprintf(stderr, "mentorctl export: %s\n", msg);
            return rc;
        }
    } else {
        memset(&t, 0, sizeof(t));
        t.ncols = sizeof(head) / sizeof(head[0]);
        t.head = calloc(t.ncols, sizeof(*t.head));
        for (size_t i = 0; t.head && i < t.ncols; i++)
            t.head[i] = strdup(head[i]);
        if (t.head == NULL || store_member_each(x->st, ctl_export_member, &t) != 0) {
            ctl_table_free(&t);
            return ctl_store_err(x);
        }
    }
    rc = ctl_print(x, &t);
    ctl_table_free(&t);
    return rc;
}
