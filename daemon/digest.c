/*
 * digest: figures from the store, rendered for managers.
 *
 * The figures are aggregates over several tables that the store computes
 * (store_digest_counts and friends, store_digest.c); this file chooses the
 * periods, judges which mentors are at risk of burnout, and renders.
 *
 * Flow figures (joins, pairs started, ratings...) count what happened in
 * [start, end) of each period; state figures (waiting, active pairs, silent
 * pairs) are read as they stood at the period's end.
 */
#include "digest.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "outbox.h"
#include "profile.h"
#include "store.h"

#define DAY (24 * 60 * 60)
#define WEEK (7 * DAY)
/* A pair with no check-in answer for this long is silent. */
#define SILENT_AFTER (4 * WEEK)
/* A mentor without a break for this long is at risk. */
#define NO_BREAK_RISK (26 * WEEK)
#define UNANSWERED_RISK 2
#define LIST_MAX 20

/* ---- periods ---- */

static int
digest_offset(const struct config *cfg, time_t t)
{
    struct profile p;

    memset(&p, 0, sizeof(p));
    p.timezone = cfg->digest.timezone;
    return profile_utc_offset(&p, (long long)t, NULL) * 60;
}

static int
digest_weekday(const char *day)
{
    static const char *const names[] = {"sunday",   "monday", "tuesday", "wednesday",
                                        "thursday", "friday", "saturday"};
    for (int i = 0; i < 7; i++)
        if (day && strncasecmp(day, names[i], 3) == 0)
            return i;
    return 1;
}

static char
digest_freq(const struct config *cfg)
{
    const char *f = cfg->digest.frequency ? cfg->digest.frequency : "weekly";
    return f[0] == 'd' ? 'd' : f[0] == 'm' ? 'm' : 'w';
}

/* The local calendar fields of the latest sending moment at or before now. */
static void
digest_latest_local(const struct config *cfg, time_t now, struct tm *out)
{
    time_t local = now + digest_offset(cfg, now);
    struct tm tm;
    char f = digest_freq(cfg);

    gmtime_r(&local, &tm);
    tm.tm_hour = cfg->digest.hour;
    tm.tm_min = tm.tm_sec = 0;
    if (f == 'w') {
        tm.tm_mday -= (tm.tm_wday - digest_weekday(cfg->digest.day) + 7) % 7;
    } else if (f == 'm') {
        int day = cfg->digest.day ? atoi(cfg->digest.day) : 1;
        tm.tm_mday = day < 1 ? 1 : day > 28 ? 28 : day; /* every month has a 28th */
    }
    time_t cand = timegm(&tm);
    if (cand > local) {
        if (f == 'd')
            tm.tm_mday -= 1;
        else if (f == 'w')
            tm.tm_mday -= 7;
        else
            tm.tm_mon -= 1;
    }
    *out = tm;
}

time_t
digest_boundary(const struct config *cfg, time_t now, int back)
{
    struct tm tm;
    char f = digest_freq(cfg);

    digest_latest_local(cfg, now, &tm);
    if (f == 'd')
        tm.tm_mday -= back;
    else if (f == 'w')
        tm.tm_mday -= 7 * back;
    else
        tm.tm_mon -= back;
    time_t local = timegm(&tm);
    return local - digest_offset(cfg, local);
}

static void
digest_period_names(const struct config *cfg, struct digest *d, int so_far)
{
    char f = digest_freq(cfg);
    time_t ls = d->start + digest_offset(cfg, d->start);
    time_t le = d->end + digest_offset(cfg, d->end);
    struct tm a, b;
    char from[32], to[32];

    gmtime_r(&ls, &a);
    gmtime_r(&le, &b);
    d->unit_name = f == 'd' ? "day" : f == 'w' ? "week" : "month";
    strftime(d->key, sizeof(d->key), f == 'd' ? "%Y-%m-%d" : f == 'w' ? "%G-W%V" : "%Y-%m", &a);
    strftime(from, sizeof(from), "%a %d %b %Y %H:%M", &a);
    strftime(to, sizeof(to), "%a %d %b %Y %H:%M", &b);
    snprintf(d->label, sizeof(d->label), "%s %s%s (%s - %s)", d->unit_name, d->key,
             so_far ? " so far" : "", from, to);
}

/* ---- figures ---- */

struct digest_figure_def {
    const char *key;
    const char *label;
    enum digest_unit unit;
    size_t field; /* offset of its count in struct store_digest_counts */
};

#define FIGURE_BURNOUT ((size_t)-1)

static const struct digest_figure_def digest_figure_defs[] = {
    {"requests", "Join and mentor requests", DIGEST_COUNT,
     offsetof(struct store_digest_counts, requests)},
    {"joins_newcomers", "Confirmed newcomers", DIGEST_COUNT,
     offsetof(struct store_digest_counts, joins_newcomers)},
    {"joins_mentors", "Confirmed mentors", DIGEST_COUNT,
     offsetof(struct store_digest_counts, joins_mentors)},
    {"waiting", "Waiting for a mentor", DIGEST_COUNT,
     offsetof(struct store_digest_counts, waiting)},
    {"longest_wait", "Longest wait (days)", DIGEST_DAYS,
     offsetof(struct store_digest_counts, longest_wait)},
    {"proposals", "Matches proposed", DIGEST_COUNT,
     offsetof(struct store_digest_counts, proposals)},
    {"started", "Pairs started", DIGEST_COUNT, offsetof(struct store_digest_counts, started)},
    {"ended", "Pairs ended", DIGEST_COUNT, offsetof(struct store_digest_counts, ended)},
    {"active_pairs", "Active pairs", DIGEST_COUNT,
     offsetof(struct store_digest_counts, active_pairs)},
    {"checkins", "Check-ins sent", DIGEST_COUNT, offsetof(struct store_digest_counts, checkins)},
    {"response_rate", "Check-in response rate %", DIGEST_PERCENT,
     offsetof(struct store_digest_counts, response_rate)},
    {"avg_rating", "Average rating (1-5)", DIGEST_TENTHS,
     offsetof(struct store_digest_counts, avg_rating)},
    {"low_ratings", "Low ratings (1-2)", DIGEST_COUNT,
     offsetof(struct store_digest_counts, low_ratings)},
    {"burnout", "Mentors at risk of burnout", DIGEST_COUNT,
     FIGURE_BURNOUT}, /* judged here, not counted */
    {"silent_pairs", "Silent pairs (4 weeks)", DIGEST_COUNT,
     offsetof(struct store_digest_counts, silent_pairs)},
    {"undeliverable", "Newly undeliverable", DIGEST_COUNT,
     offsetof(struct store_digest_counts, undeliverable)},
    {"retention_30", "Newcomers active at 30 days %", DIGEST_PERCENT,
     offsetof(struct store_digest_counts, retention_30)},
    {"retention_90", "Newcomers active at 90 days %", DIGEST_PERCENT,
     offsetof(struct store_digest_counts, retention_90)},
    {"conversions", "Mentees who became mentors", DIGEST_COUNT,
     offsetof(struct store_digest_counts, conversions)},
    {"milestones", "Mentors to recognise", DIGEST_COUNT,
     offsetof(struct store_digest_counts, milestones)},
    {"floods", "Mail over the reply budget", DIGEST_COUNT,
     offsetof(struct store_digest_counts, floods)},
    {"spam", "Mail marked as spam", DIGEST_COUNT, offsetof(struct store_digest_counts, spam)},
    {"stranger_held", "Mail to strangers held back", DIGEST_COUNT,
     offsetof(struct store_digest_counts, stranger_held)},
    {"unverified_bounces", "Unverified bounces", DIGEST_COUNT,
     offsetof(struct store_digest_counts, unverified_bounces)},
};

#define N_FIGURES (sizeof(digest_figure_defs) / sizeof(digest_figure_defs[0]))
_Static_assert(N_FIGURES <= DIGEST_MAX_FIGURES, "raise DIGEST_MAX_FIGURES");

static int
digest_err(char *err, size_t errlen, const char *what, struct store *st)
{
    snprintf(err, errlen, "digest: %s: %s", what, store_errmsg(st));
    return -1;
}

/* ---- mentors at risk of burnout ---- */

struct digest_mentor {
    const char *address;
    const char *name;
    int unanswered;
    int active;
    int capacity;
    long rating10; /* average rating from mentees in the 90 days before, x10; -1 none */
    time_t break_since;
};

/* Why this mentor may be burning out ("" when not at risk); at is the moment judged. */
static void
digest_burnout_reasons(const struct digest_mentor *m, time_t at, int current, char *out, size_t len)
{
    size_t n = 0;

    out[0] = '\0';
#define REASON(...)                                                                                \
    do {                                                                                           \
        if (n < len)                                                                               \
            n += (size_t)snprintf(out + n, len - n, "%s", n ? "; " : "");                          \
        if (n < len)                                                                               \
            n += (size_t)snprintf(out + n, len - n, __VA_ARGS__);                                  \
    } while (0)
    /* Unanswered mail is only known as it is now, not as it was. */
    if (current && m->unanswered >= UNANSWERED_RISK)
        REASON("%d check-ins or proposals unanswered", m->unanswered);
    if (m->active > m->capacity)
        REASON("%d mentees, capacity %d", m->active, m->capacity);
    if (m->rating10 >= 0 && m->rating10 <= 25)
        REASON("average rating %ld.%ld", m->rating10 / 10, m->rating10 % 10);
    if (m->active > 0 && m->break_since > 0 && at - m->break_since >= NO_BREAK_RISK)
        REASON("no break for %ld weeks", (long)((at - m->break_since) / WEEK));
#undef REASON
}

static int
digest_mentor_capacity(const char *profile_text)
{
    struct profile p;
    int cap = 1;

    if (profile_text && profile_parse(profile_text, &p) == 0) {
        if (p.capacity > 0)
            cap = p.capacity;
        profile_free(&p);
    }
    return cap;
}

static int
digest_list_add(struct digest_list *l, const char *line)
{
    char **v = realloc(l->lines, (l->n + 1) * sizeof(*v));
    if (v == NULL)
        return -1;
    l->lines = v;
    if ((v[l->n] = strdup(line)) == NULL)
        return -1;
    l->n++;
    return 0;
}

struct digest_burnout_ctx {
    time_t at;
    int current;
    long count;
    struct digest_list *list; /* NULL: count only */
};

/* One mentor: counted, and listed with the reasons, when at risk. */
static int
digest_burnout_one(const struct store_digest_mentor *row, void *arg)
{
    struct digest_burnout_ctx *x = arg;
    struct digest_mentor m = {
        .address = row->address,
        .name = row->name,
        .unanswered = row->unanswered,
        .active = row->active,
        .capacity = digest_mentor_capacity(row->profile),
        .rating10 = row->rating10,
        .break_since = row->break_since,
    };
    char reasons[256], line[512];

    digest_burnout_reasons(&m, x->at, x->current, reasons, sizeof(reasons));
    if (reasons[0] == '\0')
        return 0;
    x->count++;
    if (x->list == NULL || x->list->n >= LIST_MAX)
        return 0;
    snprintf(line, sizeof(line), "%s%s%s%s: %s", m.name ? m.name : "", m.name ? " <" : "",
             m.address ? m.address : "(erased)", m.name ? ">" : "", reasons);
    return digest_list_add(x->list, line) != 0 ? -1 : 0;
}

/* Count the mentors at risk at time at; with list set, add each one with its reasons. */
static int
digest_burnout(struct store *st, time_t at, int current, long *count, struct digest_list *list)
{
    struct digest_burnout_ctx x = {.at = at, .current = current, .list = list};

    if (store_digest_mentors_each(st, at, digest_burnout_one, &x) != 0)
        return -1;
    *count = x.count;
    return 0;
}

/* ---- the lists ---- */

struct digest_list_def {
    enum digest_list_id id;
    const char *key;
    const char *title;
    int store_list; /* enum store_digest_list; -1: judged here (burnout) */
};

static const struct digest_list_def digest_list_defs[] = {
    {DIGEST_LIST_WAITING, "waiting", "Waiting for a mentor, longest first", STORE_DIGEST_WAITING},
    {DIGEST_LIST_LOW_RATINGS, "low_ratings", "Low ratings, with the comments",
     STORE_DIGEST_LOW_RATINGS},
    {DIGEST_LIST_BURNOUT, "burnout", "Mentors at risk of burnout, and why", -1},
    {DIGEST_LIST_SILENT, "silent_pairs", "Silent pairs: no check-in answer for 4 weeks",
     STORE_DIGEST_SILENT},
    {DIGEST_LIST_UNDELIVERABLE, "undeliverable", "Undeliverable addresses",
     STORE_DIGEST_UNDELIVERABLE},
    {DIGEST_LIST_CONVERSIONS, "conversions", "Mentees who became mentors",
     STORE_DIGEST_CONVERSIONS},
    {DIGEST_LIST_MILESTONES, "milestones", "Mentors to recognise", STORE_DIGEST_MILESTONES},
};

/* The first LIST_MAX lines are kept; the figure above the list says how many there are. */
static int
digest_take_line(const char *line, void *arg)
{
    struct digest_list *l = arg;

    if (l->n >= LIST_MAX)
        return 0;
    return digest_list_add(l, line) != 0 ? -1 : 0;
}

static int
digest_fill_list(struct store *st, const struct digest_list_def *ls, struct digest *d)
{
    struct digest_list *l = &d->lists[ls->id];

    l->key = ls->key;
    l->title = ls->title;
    if (ls->store_list < 0)
        return 0;
    return store_digest_lines_each(st, (enum store_digest_list)ls->store_list, d->start, d->end,
                                   digest_take_line, l) != 0
               ? -1
               : 0;
}

static int
digest_fill_figures(struct store *st, const time_t *bounds, struct digest *d)
{
    for (size_t i = 0; i < N_FIGURES; i++) {
        struct digest_figure *f = &d->figures[i];
        f->key = digest_figure_defs[i].key;
        f->label = digest_figure_defs[i].label;
        f->unit = digest_figure_defs[i].unit;
    }
    d->n_figures = N_FIGURES;
    for (int k = 0; k < DIGEST_PERIODS; k++) {
        struct store_digest_counts c;
        if (store_digest_counts(st, bounds[k + 1], bounds[k], &c) != 0)
            return -1;
        for (size_t i = 0; i < N_FIGURES; i++) {
            struct digest_figure *f = &d->figures[i];
            if (digest_figure_defs[i].field != FIGURE_BURNOUT) {
                f->value[k] = *(const long *)((const char *)&c + digest_figure_defs[i].field);
                continue;
            }
            if (digest_burnout(st, bounds[k], k == 0, &f->value[k],
                               k == 0 ? &d->lists[DIGEST_LIST_BURNOUT] : NULL) != 0)
                return -1;
        }
    }
    return 0;
}

int
digest_build(const struct config *cfg, struct store *st, time_t now, int so_far, struct digest *d,
             char *err, size_t errlen)
{
    time_t bounds[DIGEST_PERIODS + 1]; /* bounds[k] ends period k, bounds[k + 1] starts it */

    memset(d, 0, sizeof(*d));
    for (int k = 0; k <= DIGEST_PERIODS; k++)
        bounds[k] = so_far ? (k == 0 ? now : digest_boundary(cfg, now, k - 1))
                           : digest_boundary(cfg, now, k);
    d->start = bounds[1];
    d->end = bounds[0];
    digest_period_names(cfg, d, so_far);
    if (digest_fill_figures(st, bounds, d) != 0) {
        digest_free(d);
        return digest_err(err, errlen, "figures", st);
    }
    for (size_t i = 0; i < sizeof(digest_list_defs) / sizeof(digest_list_defs[0]); i++)
        if (digest_fill_list(st, &digest_list_defs[i], d) != 0) {
            digest_free(d);
            return digest_err(err, errlen, "lists", st);
        }
    return 0;
}

void
digest_free(struct digest *d)
{
    for (size_t i = 0; i < DIGEST_N_LISTS; i++) {
        for (size_t j = 0; j < d->lists[i].n; j++)
            free(d->lists[i].lines[j]);
        free(d->lists[i].lines);
        d->lists[i].lines = NULL;
        d->lists[i].n = 0;
    }
}

const struct digest_figure *
digest_figure(const struct digest *d, const char *key)
{
    for (size_t i = 0; i < d->n_figures; i++)
        if (strcmp(d->figures[i].key, key) == 0)
            return &d->figures[i];
    return NULL;
}

/* ---- rendering ---- */

static void
digest_value(const struct digest_figure *f, long v, char *out, size_t len)
{
    if (v < 0 && f->unit != DIGEST_COUNT)
        snprintf(out, len, "-");
    else if (f->unit == DIGEST_TENTHS)
        snprintf(out, len, "%ld.%ld", v / 10, v % 10);
    else if (f->unit == DIGEST_PERCENT)
        snprintf(out, len, "%ld%%", v);
    else
        snprintf(out, len, "%ld", v);
}

static void
digest_change(const struct digest_figure *f, char *out, size_t len)
{
    long a = f->value[0], b = f->value[1], d = a - b;

    if (f->unit != DIGEST_COUNT && (a < 0 || b < 0))
        snprintf(out, len, "n/a");
    else if (d == 0)
        snprintf(out, len, "=");
    else if (f->unit == DIGEST_TENTHS)
        snprintf(out, len, "%c%ld.%ld", d > 0 ? '+' : '-', labs(d) / 10, labs(d) % 10);
    else
        snprintf(out, len, "%+ld", d);
}

/* Eight block heights, oldest period first; a period with nothing to measure is a space. */
static void
digest_sparkline(const struct digest_figure *f, char *out, size_t len)
{
    static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    long lo = -1, hi = -1;
    size_t n = 0;

    for (int k = 0; k < DIGEST_PERIODS; k++) {
        long v = f->value[k];
        if (v < 0)
            continue;
        lo = lo < 0 || v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    out[0] = '\0';
    for (int k = DIGEST_PERIODS - 1; k >= 0 && n + 4 < len; k--) {
        long v = f->value[k];
        const char *s = v < 0      ? " "
                        : hi == lo ? bars[hi > 0 ? 3 : 0]
                                   : bars[(v - lo) * 7 / (hi - lo)];
        n += (size_t)snprintf(out + n, len - n, "%s", s);
    }
}

/* Longest line of the text part: what a terminal mail reader shows without wrapping. */
#define TEXT_WIDTH 78

/*
 * Print s after indent, broken at spaces so no line exceeds TEXT_WIDTH
 * columns (a UTF-8 character is one column); continuation lines get the
 * deeper indent more.  A word longer than a line stays whole; a line that is
 * broken loses runs of spaces.
 */
static size_t
digest_columns(const char *s)
{
    size_t cols = 0;

    for (; *s; s++)
        cols += ((unsigned char)*s & 0xC0) != 0x80;
    return cols;
}

static void
digest_wrap(FILE *f, const char *indent, const char *more, const char *s)
{
    size_t col = (size_t)fprintf(f, "%s", indent);
    size_t start = col;

    /* A line that fits keeps its own spacing (the waiting list's columns). */
    if (col + digest_columns(s) <= TEXT_WIDTH) {
        fprintf(f, "%s\n", s);
        return;
    }
    while (*s) {
        size_t bytes = strcspn(s, " "), cols = 0;
        for (size_t i = 0; i < bytes; i++)
            cols += ((unsigned char)s[i] & 0xC0) != 0x80;
        if (col > start && col + 1 + cols > TEXT_WIDTH) {
            col = start = (size_t)fprintf(f, "\n%s", more) - 1;
        } else if (col > start) {
            fputc(' ', f);
            col++;
        }
        fwrite(s, 1, bytes, f);
        col += cols;
        s += bytes;
        while (*s == ' ')
            s++;
    }
    fputc('\n', f);
}

char *
digest_text(const struct config *cfg, const struct digest *d)
{
    char *buf = NULL, val[32], chg[32], spark[64], head[32], title[320], row[160];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    snprintf(title, sizeof(title), "%s mentoring: the %s %s", cfg->community.name, d->unit_name,
             d->label + strlen(d->unit_name) + 1);
    digest_wrap(f, "", "", title);
    fputc('\n', f);
    snprintf(head, sizeof(head), "This %s", d->unit_name);
    fprintf(f, "%-*s %10s %7s  Last %d %ss\n", DIGEST_LABEL_WIDTH, "", head, "Change",
            DIGEST_PERIODS, d->unit_name);
    for (size_t i = 0; i < d->n_figures; i++) {
        const struct digest_figure *fg = &d->figures[i];
        digest_value(fg, fg->value[0], val, sizeof(val));
        digest_change(fg, chg, sizeof(chg));
        digest_sparkline(fg, spark, sizeof(spark));
        /*
         * No trailing blanks (a sparkline of periods with nothing to measure):
         * they are invisible, and the quoted-printable encoder adds one more.
         */
        int n = snprintf(row, sizeof(row), "%-*s %10s %7s  %s", DIGEST_LABEL_WIDTH, fg->label, val,
                         chg, spark);
        while (n > 0 && row[n - 1] == ' ')
            row[--n] = '\0';
        fprintf(f, "%s\n", row);
    }
    for (size_t i = 0; i < DIGEST_N_LISTS; i++) {
        const struct digest_list *l = &d->lists[i];
        fprintf(f, "\n%s\n", l->title);
        if (l->n == 0)
            fprintf(f, "  none\n");
        for (size_t j = 0; j < l->n; j++)
            digest_wrap(f, "  ", "      ", l->lines[j]);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void
digest_html_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* Bars of active pairs and the waiting list over the periods, oldest on the left. */
static void
digest_html_chart(FILE *f, const struct digest *d)
{
    const struct digest_figure *a = digest_figure(d, "active_pairs");
    const struct digest_figure *w = digest_figure(d, "waiting");
    long hi = 1;
    const int height = 80, slot = 24;

    if (a == NULL || w == NULL)
        return;
    for (int k = 0; k < DIGEST_PERIODS; k++) {
        hi = a->value[k] > hi ? a->value[k] : hi;
        hi = w->value[k] > hi ? w->value[k] : hi;
    }
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\""
            " aria-label=\"Active pairs and waiting newcomers, last %d %ss\">\n",
            slot * DIGEST_PERIODS + 10, height + 20, DIGEST_PERIODS, d->unit_name);
    for (int k = DIGEST_PERIODS - 1; k >= 0; k--) {
        int x = 5 + slot * (DIGEST_PERIODS - 1 - k);
        int ha = (int)(a->value[k] * height / hi), hw = (int)(w->value[k] * height / hi);
        fprintf(f,
                "<rect x=\"%d\" y=\"%d\" width=\"9\" height=\"%d\" fill=\"#2e7d32\">"
                "<title>active %ld</title></rect>"
                "<rect x=\"%d\" y=\"%d\" width=\"9\" height=\"%d\" fill=\"#ef6c00\">"
                "<title>waiting %ld</title></rect>\n",
                x, 5 + height - ha, ha, a->value[k], x + 10, 5 + height - hw, hw, w->value[k]);
    }
    fprintf(f, "</svg>\n<p style=\"font-size:small\"><span style=\"color:#2e7d32\">&#9632;</span>"
               " active pairs <span style=\"color:#ef6c00\">&#9632;</span> waiting</p>\n");
}

char *
digest_html(const struct config *cfg, const struct digest *d)
{
    char *buf = NULL, val[32], chg[32], spark[64];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
    digest_html_escape(f, cfg->community.name);
    fputs(" digest</title></head>\n<body style=\"font-family:sans-serif\">\n<h1>", f);
    digest_html_escape(f, cfg->community.name);
    fprintf(f, " mentoring</h1>\n<p>The %s ", d->unit_name);
    digest_html_escape(f, d->label + strlen(d->unit_name) + 1);
    fputs("</p>\n", f);
    digest_html_chart(f, d);
    fprintf(f,
            "<table style=\"border-collapse:collapse\">\n<tr><th align=\"left\">Figure</th>"
            "<th align=\"right\">This %s</th><th align=\"right\">Change</th>"
            "<th align=\"left\">Last %d %ss</th></tr>\n",
            d->unit_name, DIGEST_PERIODS, d->unit_name);
    for (size_t i = 0; i < d->n_figures; i++) {
        const struct digest_figure *fg = &d->figures[i];
        digest_value(fg, fg->value[0], val, sizeof(val));
        digest_change(fg, chg, sizeof(chg));
        digest_sparkline(fg, spark, sizeof(spark));
        fprintf(f,
                "<tr><td>%s</td><td align=\"right\">%s</td><td align=\"right\">%s</td>"
                "<td style=\"font-family:monospace\">%s</td></tr>\n",
                fg->label, val, chg, spark);
    }
    fputs("</table>\n", f);
    for (size_t i = 0; i < DIGEST_N_LISTS; i++) {
        const struct digest_list *l = &d->lists[i];
        fprintf(f, "<h2>%s</h2>\n<ul>\n", l->title);
        if (l->n == 0)
            fputs("<li>none</li>\n", f);
        for (size_t j = 0; j < l->n; j++) {
            fputs("<li>", f);
            digest_html_escape(f, l->lines[j]);
            fputs("</li>\n", f);
        }
        fputs("</ul>\n", f);
    }
    fputs("<p style=\"font-size:small\">An automatic message from mentord.</p>\n</body></html>\n",
          f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- sending ---- */

int
digest_queue(const struct config *cfg, struct store *st, const struct digest *d,
             const char *to_addr, const struct mail *in_reply_to, time_t now, char *err,
             size_t errlen)
{
    char *text = digest_text(cfg, d), *html = digest_html(cfg, d);
    int rc = -1;

    if (text == NULL || html == NULL) {
        snprintf(err, errlen, "digest: out of memory rendering %s", d->key);
    } else {
        struct template_var v[] = {{"period", d->label}, {"digest", text}};
        struct outbox_mail om = {
            .to_addr = to_addr,
            .template_name = "digest",
            .vars = v,
            .nvars = 2,
            .in_reply_to = in_reply_to,
            .kind = "notice",
            .html = html,
        };
        rc = outbox_queue(cfg, st, &om, now, err, errlen);
    }
    free(text);
    free(html);
    return rc;
}

int
digest_due(const struct config *cfg, struct store *st, time_t now)
{
    struct digest d;
    char err[512];
    int sent;

    if (cfg->community.n_managers == 0 ||
        (cfg->digest.frequency && strcmp(cfg->digest.frequency, "never") == 0))
        return 0;
    /* The period's name alone says whether it went out: most calls stop here. */
    memset(&d, 0, sizeof(d));
    d.start = digest_boundary(cfg, now, 1);
    d.end = digest_boundary(cfg, now, 0);
    digest_period_names(cfg, &d, 0);
    sent = store_digest_sent(st, d.key);
    if (sent != 0)
        return sent < 0 ? -1 : 0;
    /*
     * A period that ended before mentord recorded anything has nothing to
     * report: a fresh install does not greet its managers with an empty
     * digest.  It is marked as done so the question is not asked again.
     */
    int before = store_digest_history(st, d.end);
    if (before < 0)
        return -1;
    if (before == 0)
        return store_event_add(st, now, "digest", NULL, NULL, d.key) != 0 ? -1 : 0;
    if (digest_build(cfg, st, now, 0, &d, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return -1;
    }
    for (size_t i = 0; sent == 0 && i < cfg->community.n_managers; i++)
        if (digest_queue(cfg, st, &d, cfg->community.managers[i], NULL, now, err, sizeof(err)) !=
            0) {
            log_ctx(LOG_LEVEL_ERROR, NULL, cfg->community.managers[i], "%s", err);
            sent = -1;
        }
    if (sent == 0 && store_event_add(st, now, "digest", NULL, NULL, d.key) != 0) {
        log_error("digest %s: recording it as sent: %s", d.key, store_errmsg(st));
        sent = -1;
    }
    if (sent == 0)
        log_info("digest %s queued to %zu managers", d.key, cfg->community.n_managers);
    digest_free(&d);
    return sent < 0 ? -1 : sent ? 0 : 1;
}
