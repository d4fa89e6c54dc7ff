/*
 * ctl_table: listings for managers and admins, as aligned tables, CSV or
 * JSON.  The listings are read-only joins over several tables that only
 * mentorctl and manager mail ask for, so their SQL lives here and runs
 * through store_select (which refuses anything that would write).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "store.h"

static int
ctl_table_grow(struct ctl_table *t)
{
    size_t n = (t->nrows + 1) * t->ncols;
    char **cells = realloc(t->cells, n * sizeof(*cells));
    if (cells == NULL)
        return -1;
    t->cells = cells;
    char *isnum = realloc(t->isnum, n);
    if (isnum == NULL)
        return -1;
    t->isnum = isnum;
    for (size_t i = t->nrows * t->ncols; i < n; i++) {
        t->cells[i] = NULL;
        t->isnum[i] = 0;
    }
    t->nrows++;
    return 0;
}

int
ctl_table_add(struct ctl_table *t, const char *const *row)
{
    if (ctl_table_grow(t) != 0)
        return -1;
    for (size_t c = 0; c < t->ncols; c++) {
        char **cell = &t->cells[(t->nrows - 1) * t->ncols + c];
        if (row[c] && (*cell = strdup(row[c])) == NULL)
            return -1;
    }
    return 0;
}

/* Column names first (index 0), then each row; every cell is the table's own copy. */
static int
ctl_table_take(const struct store_row *r, void *arg)
{
    struct ctl_table *t = arg;

    if (r->index == 0) {
        t->ncols = r->ncols;
        t->head = calloc(t->ncols ? t->ncols : 1, sizeof(*t->head));
        if (t->head == NULL)
            return -1;
        for (size_t c = 0; c < t->ncols; c++)
            if ((t->head[c] = strdup(r->names[c])) == NULL)
                return -1;
        return 0;
    }
    if (ctl_table_grow(t) != 0)
        return -1;
    for (size_t c = 0; c < t->ncols; c++) {
        size_t i = (t->nrows - 1) * t->ncols + c;
        if (r->text[c] == NULL)
            continue;
        t->isnum[i] = r->is_int[c];
        if ((t->cells[i] = strdup(r->text[c])) == NULL)
            return -1;
    }
    return 0;
}

int
ctl_table_query(struct store *st, struct ctl_table *t, const char *what, const char *sql,
                const char *types, ...)
{
    va_list ap;

    memset(t, 0, sizeof(*t));
    va_start(ap, types);
    int rc = store_select_v(st, what, sql, types, ctl_table_take, t, ap);
    va_end(ap);
    return rc == 0 ? 0 : -1;
}

void
ctl_table_free(struct ctl_table *t)
{
    for (size_t c = 0; t->head && c < t->ncols; c++)
        free(t->head[c]);
    for (size_t i = 0; t->cells && i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->head);
    free(t->cells);
    free(t->isnum);
    memset(t, 0, sizeof(*t));
}

/* Characters, not bytes: names and comments are UTF-8. */
static size_t
ctl_width(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void
ctl_print_table(FILE *out, const struct ctl_table *t)
{
    size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));

    if (w == NULL)
        return;
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = ctl_width(t->head[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t cw = ctl_width(t->cells[r * t->ncols + c]);
            w[c] = cw > w[c] ? cw : w[c];
        }
    }
    for (size_t r = 0; r <= t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = r == 0 ? t->head[c] : t->cells[(r - 1) * t->ncols + c];
            int last = c + 1 == t->ncols;
            fputs(s ? s : "", out);
            for (size_t k = ctl_width(s); !last && k < w[c] + 2; k++)
                fputc(' ', out);
        }
        fputc('\n', out);
    }
    free(w);
}

static void
ctl_print_csv_cell(FILE *out, const char *s)
{
    if (s == NULL)
        return;
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void
ctl_print_csv(FILE *out, const struct ctl_table *t)
{
    for (size_t r = 0; r <= t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                fputc(',', out);
            ctl_print_csv_cell(out, r == 0 ? t->head[c] : t->cells[(r - 1) * t->ncols + c]);
        }
        fputs("\r\n", out); /* RFC 4180, what spreadsheets expect */
    }
}

static void
ctl_print_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", out);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static void
ctl_print_json(FILE *out, const struct ctl_table *t)
{
    fputc('[', out);
    for (size_t r = 0; r < t->nrows; r++) {
        fputs(r ? ",\n {" : "{", out);
        for (size_t c = 0; c < t->ncols; c++) {
            size_t i = r * t->ncols + c;
            if (c)
                fputs(", ", out);
            ctl_print_json_string(out, t->head[c]);
            fputs(": ", out);
            if (t->cells[i] == NULL)
                fputs("null", out);
            else if (t->isnum[i])
                fputs(t->cells[i], out);
            else
                ctl_print_json_string(out, t->cells[i]);
        }
        fputc('}', out);
    }
    fputs("]\n", out);
}

int
ctl_table_print(FILE *out, const struct ctl_table *t, enum ctl_format fmt)
{
    if (fmt == CTL_FORMAT_CSV)
        ctl_print_csv(out, t);
    else if (fmt == CTL_FORMAT_JSON)
        ctl_print_json(out, t);
    else
        ctl_print_table(out, t);
    return ferror(out) ? -1 : 0;
}

/* ---- named listings ---- */

#define DATE(col) "strftime('%Y-%m-%d %H:%M', " col ", 'unixepoch')"

/* The capacity line of a profile ("capacity: 2"); 1 when not given. */
#define CAPACITY(p)                                                                                \
    "coalesce(nullif(CAST(substr(" p ", instr(lower(" p "), 'capacity:') + 9) AS INTEGER)"         \
    " * (instr(lower(" p "), 'capacity:') > 0), 0), 1)"

struct ctl_listing {
    const char *name;
    const char *const *filters; /* allowed filter values, NULL-terminated; NULL: none */
    /* ?1: the filter (NULL: all), ?2: now; each names both, or binding ?2 would fail */
    const char *sql;
};

static const char *const member_filters[] = {"newcomer", "mentor", "manager", "pending",
                                             "active",   "paused", "left",    NULL};
static const char *const pair_filters[] = {"proposed", "active", "declined",
                                           "expired",  "ended",  NULL};
static const char *const outbox_filters[] = {"queued", "sent", "failed", NULL};

static const struct ctl_listing ctl_listings[] = {
    {"members", member_filters,
     "SELECT id, address, coalesce(name, '') AS name, role, state, " DATE(
         "created") " AS joined, CASE WHEN undeliverable THEN 'yes' ELSE '' END AS undeliverable"
                    " FROM members WHERE ?1 IS NULL OR role = ?1 OR state = ?1 OR ?2 IS NULL ORDER "
                    "BY id"},
    {"pairs", pair_filters,
     "SELECT p.id, p.ref, p.state, coalesce(n.address, '(erased)') AS newcomer,"
     " coalesce(o.address, '(erased)') AS mentor, " DATE("p.created") " AS created, " DATE(
         "p.started") " AS started, " DATE("p.ends") " AS ends, " DATE("p.ended") " AS ended, "
                                                                                  "p.end_reason "
                                                                                  "FROM pairs p "
                                                                                  "LEFT JOIN "
                                                                                  "members n ON "
                                                                                  "n.id = "
                                                                                  "p.newcomer"
                                                                                  " LEFT JOIN "
                                                                                  "members o ON "
                                                                                  "o.id = p.mentor "
                                                                                  "WHERE (?1 IS "
                                                                                  "NULL OR p.state "
                                                                                  "= ?1 OR ?2 IS "
                                                                                  "NULL)"
                                                                                  " ORDER BY p.id"},
    {"waitlist", NULL,
     "SELECT row_number() OVER (ORDER BY waiting_since, id) AS position, id, address,"
     " coalesce(name, '') AS name, " DATE(
         "waiting_since") " AS since,"
                          " (?2 - waiting_since) / 86400 AS days FROM members m WHERE role = "
                          "'newcomer'"
                          " AND state = 'active' AND waiting_since IS NOT NULL AND (?1 IS NULL OR "
                          "1)"
                          " AND NOT EXISTS (SELECT 1 FROM pairs p WHERE p.newcomer = m.id AND "
                          "p.state = 'active')"
                          " ORDER BY waiting_since, id"},
    {"mentors", NULL,
     "SELECT m.id, m.address, coalesce(m.name, '') AS name, m.state,"
     " (SELECT count(*) FROM pairs p WHERE p.mentor = m.id AND p.state = 'active') AS active,"
     " (SELECT count(*) FROM pairs p WHERE p.mentor = m.id AND p.state = 'proposed')"
     " AS proposed, " CAPACITY(
         "coalesce(m.profile, '')") " AS capacity, m.unanswered,"
                                    " (SELECT CASE WHEN count(f.rating) > 0 THEN printf('%.1f', "
                                    "avg(f.rating)) END FROM feedback f JOIN "
                                    "pairs q ON q.id = f.pair"
                                    "  WHERE q.mentor = m.id AND f.member IS NOT m.id AND f.rating "
                                    "IS NOT NULL"
                                    "  AND f.at >= ?2 - 7776000) AS rating_90d"
                                    " FROM members m WHERE m.role = 'mentor' AND m.state != 'left' "
                                    "AND (?1 IS NULL OR 1)"
                                    " ORDER BY m.id"},
    {"outbox", outbox_filters,
     /* "waiting" says why a queued mail is not sent yet; ctl_outbox_why words "quiet:T". */
     "SELECT id, recipient, status, kind, coalesce(template, '') AS template, attempts, " DATE(
         "next_attempt") " AS next_attempt, CASE WHEN status = 'queued' AND next_attempt > ?2"
                         " THEN CASE WHEN attempts > 0 THEN 'retry after the error'"
                         " ELSE 'quiet:' || next_attempt END ELSE '' END AS waiting,"
                         " coalesce(last_error, '') AS last_error FROM outbox"
                         " WHERE ?1 IS NULL OR status = ?1 OR ?2 IS NULL ORDER BY id"},
};

static int
ctl_filter_ok(const struct ctl_listing *l, const char *filter)
{
    if (filter == NULL)
        return 1;
    for (size_t i = 0; l->filters && l->filters[i]; i++)
        if (strcmp(l->filters[i], filter) == 0)
            return 1;
    return 0;
}

int
ctl_list(struct store *st, const char *name, const char *filter, time_t now, struct ctl_table *t,
         char *msg, size_t len)
{
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < sizeof(ctl_listings) / sizeof(ctl_listings[0]); i++) {
        const struct ctl_listing *l = &ctl_listings[i];
        if (strcmp(l->name, name) != 0)
            continue;
        if (!ctl_filter_ok(l, filter)) {
            snprintf(msg, len, "%s: unknown filter '%s'", name, filter);
            return CTL_USAGE;
        }
        if (ctl_table_query(st, t, name, l->sql, "si", filter, (int64_t)now) != 0) {
            snprintf(msg, len, "%s", store_errmsg(st));
            ctl_table_free(t);
            return CTL_FAIL;
        }
        return CTL_OK;
    }
    snprintf(msg, len, "unknown listing '%s' (members, pairs, waitlist, mentors, outbox)", name);
    return CTL_USAGE;
}
