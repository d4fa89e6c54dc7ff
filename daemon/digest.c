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

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lang.h"
#include "log.h"
#include "outbox.h"
#include "profile.h"
#include "store.h"
#include "template.h"

#define DAY (24 * 60 * 60)
#define WEEK (7 * DAY)
/* A pair with no check-in answer for this long is silent. */
#define SILENT_AFTER (4 * WEEK)
/* A mentor without a break for this long is at risk. */
#define NO_BREAK_RISK (26 * WEEK)
#define UNANSWERED_RISK 2
#define LIST_MAX 20

/* ---- words ---- */

/*
 * Every word a manager reads is a phrase of the managers' language
 * (language.data "phrase.digest_..."); the English written here stands in
 * where the language has none (a flat folder of texts from before languages).
 */
static const char *
digest_word(const struct digest *d, const char *key, const char *english)
{
    const char *s = lang_phrase(d->lang, key);
    return s ? s : english;
}

/* The phrase key with its named values (name, value pairs ending NULL) into out. */
static void digest_say(const struct digest *d, char *out, size_t len, const char *key,
                       const char *english, ...) __attribute__((sentinel));

static void
digest_say(const struct digest *d, char *out, size_t len, const char *key, const char *english, ...)
{
    va_list ap;

    va_start(ap, english);
    char *s = lang_phrase_vfill(d->lang, key, english, ap);
    va_end(ap);
    snprintf(out, len, "%s", s ? s : english);
    free(s);
}

/* 0, 1, 2 for the period's unit: an index into the English of a KEY_day/_week/_month phrase. */
static int
digest_unit_index(const struct digest *d)
{
    return d->unit_name[0] == 'd' ? 0 : d->unit_name[0] == 'w' ? 1 : 2;
}

/* The phrase KEY_UNIT (KEY_week for a weekly digest): articles and genders differ per unit. */
static const char *
digest_unit_key(const struct digest *d, const char *key, char *out, size_t len)
{
    snprintf(out, len, "%s_%s", key, d->unit_name);
    return out;
}

/* "this week", or "This week" (capital 1): the period in words. */
static const char *
digest_this(const struct digest *d, int capital)
{
    static const char *const english[2][3] = {{"this day", "this week", "this month"},
                                              {"This day", "This week", "This month"}};
    char key[32];

    return digest_word(
        d, digest_unit_key(d, capital ? "digest_column_this" : "digest_this", key, sizeof(key)),
        english[capital != 0][digest_unit_index(d)]);
}

/* A number with the language's decimal sign ("3,5"): tenths as "3.5" with '.' replaced. */
static void
digest_decimal(const struct digest *d, const char *number, char *out, size_t len)
{
    lang_decimal(d->lang, number, out, len);
}

/* A member's address, or the word for one erased since. */
static const char *
digest_addr(const struct digest *d, const char *address)
{
    return address ? address : digest_word(d, "digest_erased", "(erased)");
}

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

/* A moment in the managers' zone, the language's short way ("Mon 23 Nov 2026 08:00"). */
static void
digest_when(const struct digest *d, const struct tm *tm, char *out, size_t len)
{
    char iso[32];

    strftime(iso, sizeof(iso), "%Y-%m-%d %H:%M", tm);
    lang_format_date_as(
        d->lang, iso,
        digest_word(d, "digest_when", "{weekday3} {day2} {month3} {year} {hour2}:{minute}"), out,
        len);
}

/* " so far" after a period's key when it is still running, else "". */
static void
digest_so_far(const struct digest *d, int so_far, char *out, size_t len)
{
    snprintf(out, len, "%s%s", so_far ? " " : "",
             so_far ? digest_word(d, "digest_so_far", "so far") : "");
}

static void
digest_period_names(const struct config *cfg, struct digest *d, int so_far)
{
    static const char *const english[3] = {"day {key}{so_far} ({from} - {to})",
                                           "week {key}{so_far} ({from} - {to})",
                                           "month {key}{so_far} ({from} - {to})"};
    char f = digest_freq(cfg);
    time_t ls = d->start + digest_offset(cfg, d->start);
    time_t le = d->end + digest_offset(cfg, d->end);
    struct tm a, b;
    char from[96], to[96], later[64], key[32];

    gmtime_r(&ls, &a);
    gmtime_r(&le, &b);
    d->unit_name = f == 'd' ? "day" : f == 'w' ? "week" : "month";
    strftime(d->key, sizeof(d->key), f == 'd' ? "%Y-%m-%d" : f == 'w' ? "%G-W%V" : "%Y-%m", &a);
    digest_when(d, &a, from, sizeof(from));
    digest_when(d, &b, to, sizeof(to));
    digest_so_far(d, so_far, later, sizeof(later));
    digest_say(d, d->label, sizeof(d->label), digest_unit_key(d, "digest_period", key, sizeof(key)),
               english[digest_unit_index(d)], "key", d->key, "so_far", later, "from", from, "to",
               to, NULL);
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

/*
 * What the sentences on top of the digest say, kept from the lists as they
 * are filled: the newcomer who waited longest, the first mentor at risk, the
 * lowest rating listed.
 */
struct digest_facts {
    int wait_days;
    char wait_who[400], wait_addr[320];
    char burn_who[400], burn_addr[320], burn_why[256];
    int low_rating; /* 0: none */
    char low_from[320], low_other[320], low_pair[24];
};

/* Append one reason, after "; " when there are some already. */
static void
digest_reason(char *out, size_t len, const char *reason)
{
    size_t n = strlen(out);

    snprintf(out + n, len - n, "%s%s", n ? "; " : "", reason);
}

/* Why this mentor may be burning out ("" when not at risk); at is the moment judged. */
static void
digest_burnout_reasons(const struct digest *d, const struct digest_mentor *m, time_t at,
                       int current, char *out, size_t len)
{
    char one[128], a[24], b[24];

    out[0] = '\0';
    /* Unanswered mail is only known as it is now, not as it was. */
    if (current && m->unanswered >= UNANSWERED_RISK) {
        snprintf(a, sizeof(a), "%d", m->unanswered);
        digest_say(d, one, sizeof(one), "digest_why_unanswered",
                   "{n} check-ins or proposals unanswered", "n", a, NULL);
        digest_reason(out, len, one);
    }
    if (m->active > m->capacity) {
        snprintf(a, sizeof(a), "%d", m->active);
        snprintf(b, sizeof(b), "%d", m->capacity);
        digest_say(d, one, sizeof(one), "digest_why_capacity", "{n} mentees, capacity {capacity}",
                   "n", a, "capacity", b, NULL);
        digest_reason(out, len, one);
    }
    if (m->rating10 >= 0 && m->rating10 <= 25) {
        snprintf(a, sizeof(a), "%ld.%ld", m->rating10 / 10, m->rating10 % 10);
        digest_decimal(d, a, b, sizeof(b));
        digest_say(d, one, sizeof(one), "digest_why_rating", "average rating {rating}", "rating", b,
                   NULL);
        digest_reason(out, len, one);
    }
    if (m->active > 0 && m->break_since > 0 && at - m->break_since >= NO_BREAK_RISK) {
        snprintf(a, sizeof(a), "%ld", (long)((at - m->break_since) / WEEK));
        digest_say(d, one, sizeof(one), "digest_why_no_break", "no break for {n} weeks", "n", a,
                   NULL);
        digest_reason(out, len, one);
    }
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
    const struct digest *d;
    time_t at;
    int current;
    long count;
    struct digest_list *list; /* NULL: count only */
    struct digest_facts *facts;
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
    char reasons[256], who[400], line[700];

    digest_burnout_reasons(x->d, &m, x->at, x->current, reasons, sizeof(reasons));
    if (reasons[0] == '\0')
        return 0;
    x->count++;
    if (x->list == NULL || x->list->n >= LIST_MAX)
        return 0;
    snprintf(who, sizeof(who), "%s%s%s%s", m.name ? m.name : "", m.name ? " <" : "",
             digest_addr(x->d, m.address), m.name ? ">" : "");
    if (x->list->n == 0 && x->facts != NULL) {
        snprintf(x->facts->burn_who, sizeof(x->facts->burn_who), "%s", who);
        snprintf(x->facts->burn_addr, sizeof(x->facts->burn_addr), "%s",
                 digest_addr(x->d, m.address));
        snprintf(x->facts->burn_why, sizeof(x->facts->burn_why), "%s", reasons);
    }
    digest_say(x->d, line, sizeof(line), "digest_line_burnout", "{who}: {why}", "who", who, "why",
               reasons, NULL);
    return digest_list_add(x->list, line) != 0 ? -1 : 0;
}

/* Count the mentors at risk at time at; with list set, add each one with its reasons. */
static int
digest_burnout(struct store *st, const struct digest *d, time_t at, int current, long *count,
               struct digest_list *list, struct digest_facts *facts)
{
    struct digest_burnout_ctx x = {
        .d = d, .at = at, .current = current, .list = list, .facts = facts};

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
    const char *none_name; /* in the one line that names the empty lists */
    int store_list;        /* enum store_digest_list; -1: judged here (burnout) */
};

static const struct digest_list_def digest_list_defs[] = {
    {DIGEST_LIST_WAITING, "waiting", "Waiting for a mentor, longest first", "newcomers waiting",
     STORE_DIGEST_WAITING},
    {DIGEST_LIST_LOW_RATINGS, "low_ratings", "Low ratings, with the comments", "low ratings",
     STORE_DIGEST_LOW_RATINGS},
    {DIGEST_LIST_BURNOUT, "burnout", "Mentors at risk of burnout, and why", "mentors at risk", -1},
    {DIGEST_LIST_SILENT, "silent_pairs", "Silent pairs: no check-in answer for 4 weeks",
     "silent pairs", STORE_DIGEST_SILENT},
    {DIGEST_LIST_UNDELIVERABLE, "undeliverable", "Undeliverable addresses",
     "undeliverable addresses", STORE_DIGEST_UNDELIVERABLE},
    {DIGEST_LIST_CONVERSIONS, "conversions", "Mentees who became mentors",
     "mentees who became mentors", STORE_DIGEST_CONVERSIONS},
    {DIGEST_LIST_MILESTONES, "milestones", "Mentors to recognise", "mentors to recognise",
     STORE_DIGEST_MILESTONES},
};

/* One list being filled from the store's rows. */
struct digest_fill {
    struct digest *d;
    struct digest_list *l;
    enum digest_list_id id;
    struct digest_facts *facts;
};

/* A role as the managers' language names it. */
static const char *
digest_role(const struct digest *d, const char *role)
{
    if (role && strcmp(role, "newcomer") == 0)
        return digest_word(d, "digest_role_newcomer", "newcomer");
    if (role && strcmp(role, "mentor") == 0)
        return digest_word(d, "digest_role_mentor", "mentor");
    return role ? role : "?";
}

/* Column i of a row, or NULL. */
#define COL(i) (n > (i) ? c[i] : NULL)

/* "  5 days  Name <address>": the days right-aligned, so the names line up. */
static void
digest_line_waiting(struct digest_fill *x, const char *const *c, size_t n, char *out, size_t len)
{
    const struct digest *d = x->d;
    int days = COL(0) ? atoi(c[0]) : 0;
    char num[16], who[400];

    snprintf(num, sizeof(num), "%3d", days);
    if (COL(1) && c[1][0])
        snprintf(who, sizeof(who), "%s <%s>", c[1], digest_addr(d, COL(2)));
    else
        snprintf(who, sizeof(who), "%s", digest_addr(d, COL(2)));
    if (lang_plural(d->lang, days) == 0)
        digest_say(d, out, len, "digest_line_waiting_one", "{days} day   {who}", "days", num, "who",
                   who, NULL);
    else
        digest_say(d, out, len, "digest_line_waiting", "{days} days  {who}", "days", num, "who",
                   who, NULL);
    if (x->l->total == 1) {
        x->facts->wait_days = days;
        snprintf(x->facts->wait_who, sizeof(x->facts->wait_who), "%s", who);
        snprintf(x->facts->wait_addr, sizeof(x->facts->wait_addr), "%s", digest_addr(d, COL(2)));
    }
}

static void
digest_line_low(struct digest_fill *x, const char *const *c, size_t n, char *out, size_t len)
{
    const struct digest *d = x->d;
    const char *rating = COL(0) ? c[0] : "?", *pair = COL(3) ? c[3] : "0";
    const char *from = digest_addr(d, COL(1)), *other = digest_addr(d, COL(4));

    if (COL(5))
        digest_say(d, out, len, "digest_line_low",
                   "{rating}/5 from {from} ({role}) about pair {pair} with {other}: \"{comment}\"",
                   "rating", rating, "from", from, "role", digest_role(d, COL(2)), "pair", pair,
                   "other", other, "comment", c[5], NULL);
    else
        digest_say(d, out, len, "digest_line_low_bare",
                   "{rating}/5 from {from} ({role}) about pair {pair} with {other}, no comment",
                   "rating", rating, "from", from, "role", digest_role(d, COL(2)), "pair", pair,
                   "other", other, NULL);
    /* The lowest of the ratings listed, the first of equals, is the one on top. */
    int r = atoi(rating);
    if (x->l->n < LIST_MAX && r > 0 && (x->facts->low_rating == 0 || r < x->facts->low_rating)) {
        x->facts->low_rating = r;
        snprintf(x->facts->low_from, sizeof(x->facts->low_from), "%s", from);
        snprintf(x->facts->low_other, sizeof(x->facts->low_other), "%s", other);
        snprintf(x->facts->low_pair, sizeof(x->facts->low_pair), "%s", pair);
    }
}

static void
digest_line_silent(struct digest_fill *x, const char *const *c, size_t n, char *out, size_t len)
{
    const struct digest *d = x->d;
    char date[96];

    lang_format_date_as(d->lang, COL(3) ? c[3] : "",
                        digest_word(d, "digest_date", "{year}-{month2}-{day2}"), date,
                        sizeof(date));
    digest_say(d, out, len, "digest_line_silent",
               "pair {pair}: {newcomer} with mentor {mentor}, since {date}", "pair",
               COL(0) ? c[0] : "0", "newcomer", digest_addr(d, COL(1)), "mentor",
               digest_addr(d, COL(2)), "date", date, NULL);
}

static void
digest_line_undeliverable(struct digest_fill *x, const char *const *c, size_t n, char *out,
                          size_t len)
{
    const struct digest *d = x->d;
    char score[32];

    digest_decimal(d, COL(2) ? c[2] : "0", score, sizeof(score));
    digest_say(d, out, len, "digest_line_undeliverable", "{address} ({role}, bounce score {score})",
               "address", digest_addr(d, COL(0)), "role", digest_role(d, COL(1)), "score", score,
               NULL);
}

static void
digest_line_conversion(struct digest_fill *x, const char *const *c, size_t n, char *out, size_t len)
{
    const struct digest *d = x->d;

    if (COL(1))
        snprintf(out, len, "%s (%s)", digest_addr(d, COL(0)), c[1]);
    else
        snprintf(out, len, "%s", digest_addr(d, COL(0)));
}

/* "calm@x.test: a year of mentoring": a milestone's name in words. */
static void
digest_line_milestone(struct digest_fill *x, const char *const *c, size_t n, char *out, size_t len)
{
    static const struct {
        const char *code, *key, *english;
    } names[] = {
        {"first-mentee", "digest_milestone_first_mentee", "first mentee"},
        {"five-mentees", "digest_milestone_five_mentees", "five mentees"},
        {"one-year", "digest_milestone_one_year", "a year of mentoring"},
        {"high-feedback", "digest_milestone_high_feedback", "warm feedback from mentees"},
    };
    const struct digest *d = x->d;
    const char *what = COL(1);

    for (size_t i = 0; what && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(what, names[i].code) == 0)
            what = digest_word(d, names[i].key, names[i].english);
    if (what)
        digest_say(d, out, len, "digest_line_milestone", "{member}: {what}", "member",
                   digest_addr(d, COL(0)), "what", what, NULL);
    else
        snprintf(out, len, "%s", digest_addr(d, COL(0)));
}

#undef COL

/* The first LIST_MAX lines are kept and all are counted: the list ends "and N more". */
static int
digest_take_row(const char *const *c, size_t n, void *arg)
{
    static void (*const write[])(struct digest_fill *, const char *const *, size_t, char *,
                                 size_t) = {
        [DIGEST_LIST_WAITING] = digest_line_waiting,
        [DIGEST_LIST_LOW_RATINGS] = digest_line_low,
        [DIGEST_LIST_SILENT] = digest_line_silent,
        [DIGEST_LIST_UNDELIVERABLE] = digest_line_undeliverable,
        [DIGEST_LIST_CONVERSIONS] = digest_line_conversion,
        [DIGEST_LIST_MILESTONES] = digest_line_milestone,
    };
    struct digest_fill *x = arg;
    char line[1024];

    x->l->total++;
    if (write[x->id] == NULL)
        return 0;
    write[x->id](x, c, n, line, sizeof(line));
    if (x->l->n >= LIST_MAX)
        return 0;
    return digest_list_add(x->l, line) != 0 ? -1 : 0;
}

static int
digest_fill_list(struct store *st, const struct digest_list_def *ls, struct digest *d,
                 struct digest_facts *facts)
{
    struct digest_list *l = &d->lists[ls->id];
    struct digest_fill x = {.d = d, .l = l, .id = ls->id, .facts = facts};
    char key[64];

    l->key = ls->key;
    snprintf(key, sizeof(key), "digest_list_%s", ls->key);
    l->title = digest_word(d, key, ls->title);
    snprintf(key, sizeof(key), "digest_none_%s", ls->key);
    l->none_name = digest_word(d, key, ls->none_name);
    if (ls->store_list < 0)
        return 0;
    return store_digest_rows_each(st, (enum store_digest_list)ls->store_list, d->start, d->end,
                                  digest_take_row, &x) != 0
               ? -1
               : 0;
}

static int
digest_fill_figures(struct store *st, const time_t *bounds, struct digest *d,
                    struct digest_facts *facts)
{
    for (size_t i = 0; i < N_FIGURES; i++) {
        struct digest_figure *f = &d->figures[i];
        char key[64];
        snprintf(key, sizeof(key), "digest_fig_%s", digest_figure_defs[i].key);
        f->key = digest_figure_defs[i].key;
        f->label = digest_word(d, key, digest_figure_defs[i].label);
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
            if (digest_burnout(st, d, bounds[k], k == 0, &f->value[k],
                               k == 0 ? &d->lists[DIGEST_LIST_BURNOUT] : NULL, facts) != 0)
                return -1;
            if (k == 0)
                d->lists[DIGEST_LIST_BURNOUT].total = (size_t)f->value[0];
        }
    }
    return 0;
}

static int digest_top(struct digest *d, const struct digest_facts *facts);
static void digest_subject(const struct config *cfg, struct digest *d, int so_far);

int
digest_build(const struct config *cfg, struct store *st, time_t now, int so_far, struct digest *d,
             char *err, size_t errlen)
{
    time_t bounds[DIGEST_PERIODS + 1]; /* bounds[k] ends period k, bounds[k + 1] starts it */
    struct digest_facts facts;

    memset(d, 0, sizeof(*d));
    memset(&facts, 0, sizeof(facts));
    d->lang = lang_get(cfg->templates.dir, outbox_managers_language(cfg));
    for (int k = 0; k <= DIGEST_PERIODS; k++)
        bounds[k] = so_far ? (k == 0 ? now : digest_boundary(cfg, now, k - 1))
                           : digest_boundary(cfg, now, k);
    memcpy(d->bounds, bounds, sizeof(bounds));
    d->so_far = so_far;
    d->start = bounds[1];
    d->end = bounds[0];
    digest_period_names(cfg, d, so_far);
    if (digest_fill_figures(st, bounds, d, &facts) != 0) {
        digest_free(d);
        return digest_err(err, errlen, "figures", st);
    }
    for (size_t i = 0; i < sizeof(digest_list_defs) / sizeof(digest_list_defs[0]); i++)
        if (digest_fill_list(st, &digest_list_defs[i], d, &facts) != 0) {
            digest_free(d);
            return digest_err(err, errlen, "lists", st);
        }
    if (digest_top(d, &facts) != 0) {
        digest_free(d);
        snprintf(err, errlen, "digest: out of memory");
        return -1;
    }
    digest_subject(cfg, d, so_far);
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
    for (size_t i = 0; i < d->n_top; i++)
        free(d->top[i]);
    d->n_top = 0;
}

const struct digest_figure *
digest_figure(const struct digest *d, const char *key)
{
    for (size_t i = 0; i < d->n_figures; i++)
        if (strcmp(d->figures[i].key, key) == 0)
            return &d->figures[i];
    return NULL;
}

/* ---- what needs a manager ---- */

/* A newcomer waiting less than this is not yet a manager's matter. */
#define TOP_WAIT_DAYS 7

/* Add the phrase key (named values as for digest_say) as the next sentence on top. */
static int digest_top_add(struct digest *d, const char *key, const char *english, ...)
    __attribute__((sentinel));

static int
digest_top_add(struct digest *d, const char *key, const char *english, ...)
{
    va_list ap;

    if (d->n_top >= DIGEST_TOP)
        return 0;
    va_start(ap, english);
    char *s = lang_phrase_vfill(d->lang, key, english, ap);
    va_end(ap);
    if (s == NULL)
        return -1;
    d->top[d->n_top++] = s;
    return 0;
}

/* The newcomer who has waited longest, when it is long enough to need a person. */
static int
digest_top_waiting(struct digest *d, const struct digest_facts *x)
{
    const struct digest_list *l = &d->lists[DIGEST_LIST_WAITING];
    char days[16], total[24];

    if (l->n == 0 || x->wait_days < TOP_WAIT_DAYS)
        return 0;
    snprintf(days, sizeof(days), "%d", x->wait_days);
    snprintf(total, sizeof(total), "%zu", l->total);
    return digest_top_add(d, "digest_top_waiting",
                          "{who} has waited longest for a mentor: {days} days ({total} waiting in "
                          "all). Reply MATCH {address} MENTOR to pair them by hand.",
                          "who", x->wait_who, "days", days, "total", total, "address", x->wait_addr,
                          NULL);
}

/* The first mentor at risk (most unanswered first), with the reasons. */
static int
digest_top_burnout(struct digest *d, const struct digest_facts *x)
{
    const struct digest_list *l = &d->lists[DIGEST_LIST_BURNOUT];
    char more[24];

    if (l->n == 0)
        return 0;
    snprintf(more, sizeof(more), "%zu", l->total - 1);
    if (l->total == 2)
        return digest_top_add(d, "digest_top_burnout_more_one",
                              "{who} is at risk of burnout ({why}), and 1 more mentor is. Reply "
                              "PAUSE {address} to give them a break.",
                              "who", x->burn_who, "why", x->burn_why, "address", x->burn_addr,
                              NULL);
    if (l->total > 2)
        return digest_top_add(d, "digest_top_burnout_more",
                              "{who} is at risk of burnout ({why}), and {more} more mentors are. "
                              "Reply PAUSE {address} to give them a break.",
                              "who", x->burn_who, "why", x->burn_why, "more", more, "address",
                              x->burn_addr, NULL);
    return digest_top_add(d, "digest_top_burnout",
                          "{who} is at risk of burnout ({why}). Reply PAUSE {address} to give them "
                          "a break.",
                          "who", x->burn_who, "why", x->burn_why, "address", x->burn_addr, NULL);
}

/* The period's lowest rating, and how many low ones there were. */
static int
digest_top_low(struct digest *d, const struct digest_facts *x)
{
    const struct digest_list *l = &d->lists[DIGEST_LIST_LOW_RATINGS];
    char rating[16], total[24];

    if (l->n == 0 || x->low_rating == 0)
        return 0;
    snprintf(rating, sizeof(rating), "%d", x->low_rating);
    snprintf(total, sizeof(total), "%zu", l->total);
    if (l->total == 1)
        return digest_top_add(d, "digest_top_low_one",
                              "A low rating: {rating}/5 from {from} about the pair with {other}. "
                              "Reply UNMATCH {pair} to end that pair.",
                              "rating", rating, "from", x->low_from, "other", x->low_other, "pair",
                              x->low_pair, NULL);
    return digest_top_add(
        d, "digest_top_low",
        "{n} low ratings {this}, the lowest {rating}/5 from {from} about the pair "
        "with {other}. Reply UNMATCH {pair} to end that pair.",
        "n", total, "this", digest_this(d, 0), "rating", rating, "from", x->low_from, "other",
        x->low_other, "pair", x->low_pair, NULL);
}

static int
digest_top(struct digest *d, const struct digest_facts *facts)
{
    return digest_top_waiting(d, facts) != 0 || digest_top_burnout(d, facts) != 0 ||
                   digest_top_low(d, facts) != 0
               ? -1
               : 0;
}

/*
 * The subject: the period first (a mail client's index shows the start),
 * then what needs doing and the two figures a manager looks at, all within
 * DIGEST_SUBJECT_MAX characters; the community's name only when it fits.
 */
static void
digest_subject(const struct config *cfg, struct digest *d, int so_far)
{
    static const char *const english[3] = {"Day {key}{so_far}", "Week {key}{so_far}",
                                           "Month {key}{so_far}"};
    const struct digest_figure *a = digest_figure(d, "active_pairs");
    const struct digest_figure *w = digest_figure(d, "waiting");
    long active = a ? a->value[0] : 0, waiting = w ? w->value[0] : 0;
    char s[512], part[160], later[64], key[32], num[24];
    size_t n;

    digest_so_far(d, so_far, later, sizeof(later));
    digest_say(d, part, sizeof(part), digest_unit_key(d, "digest_subject", key, sizeof(key)),
               english[digest_unit_index(d)], "key", d->key, "so_far", later, NULL);
    n = (size_t)snprintf(s, sizeof(s), "%s: ", part);
    if (d->n_top > 0) {
        snprintf(num, sizeof(num), "%zu", d->n_top);
        digest_say(d, part, sizeof(part), "digest_subject_act", "{n} to act on", "n", num, NULL);
        n += (size_t)snprintf(s + n, sizeof(s) - n, "%s, ", part);
    }
    snprintf(num, sizeof(num), "%ld", active);
    if (lang_plural(d->lang, active) == 0)
        digest_say(d, part, sizeof(part), "digest_subject_active_one", "{n} active pair", "n", num,
                   NULL);
    else
        digest_say(d, part, sizeof(part), "digest_subject_active", "{n} active pairs", "n", num,
                   NULL);
    n += (size_t)snprintf(s + n, sizeof(s) - n, "%s, ", part);
    snprintf(num, sizeof(num), "%ld", waiting);
    digest_say(d, part, sizeof(part), "digest_subject_waiting", "{n} waiting", "n", num, NULL);
    n += (size_t)snprintf(s + n, sizeof(s) - n, "%s", part);
    if (cfg->community.name && n + 3 + strlen(cfg->community.name) <= DIGEST_SUBJECT_MAX)
        snprintf(s + n, sizeof(s) - n, " - %s", cfg->community.name);
    /* Long figures or words could still overflow: cut before the last ", " that fits. */
    size_t keep = strlen(s);
    while (keep > DIGEST_SUBJECT_MAX) {
        char *comma = memrchr(s, ',', keep - 1);
        keep = comma ? (size_t)(comma - s) : DIGEST_SUBJECT_MAX;
    }
    /* Never in the middle of a character. */
    while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(d->subject, s, keep);
    d->subject[keep] = '\0';
}

/* ---- rendering ---- */

static void
digest_value(const struct digest *d, const struct digest_figure *f, long v, char *out, size_t len)
{
    char tenths[32];

    if (v < 0 && f->unit != DIGEST_COUNT) {
        snprintf(out, len, "-");
    } else if (f->unit == DIGEST_TENTHS) {
        snprintf(tenths, sizeof(tenths), "%ld.%ld", v / 10, v % 10);
        digest_decimal(d, tenths, out, len);
    } else if (f->unit == DIGEST_PERCENT) {
        snprintf(out, len, "%ld%%", v);
    } else {
        snprintf(out, len, "%ld", v);
    }
}

static void
digest_change(const struct digest *dg, const struct digest_figure *f, char *out, size_t len)
{
    long a = f->value[0], b = f->value[1], d = a - b;
    char tenths[32];

    if (f->unit != DIGEST_COUNT && (a < 0 || b < 0)) {
        snprintf(out, len, "%s", digest_word(dg, "digest_na", "n/a"));
    } else if (d == 0) {
        snprintf(out, len, "=");
    } else if (f->unit == DIGEST_TENTHS) {
        snprintf(tenths, sizeof(tenths), "%c%ld.%ld", d > 0 ? '+' : '-', labs(d) / 10,
                 labs(d) % 10);
        digest_decimal(dg, tenths, out, len);
    } else {
        snprintf(out, len, "%+ld", d);
    }
}

/*
 * The top of a figure's scale.  Every scale starts at zero, so equal values
 * draw equal bars and a small change draws a small step: percentages run to
 * 100, ratings to 5.0, counts and days to the largest value shown (at least 1).
 */
static long
digest_scale_top(const struct digest_figure *f)
{
    long hi = 1;

    if (f->unit == DIGEST_PERCENT)
        return 100;
    if (f->unit == DIGEST_TENTHS)
        return 50;
    for (int k = 0; k < DIGEST_PERIODS; k++)
        hi = f->value[k] > hi ? f->value[k] : hi;
    return hi;
}

/* A value's share of steps (0..steps) on the zero-based scale; a value above zero shows. */
static long
digest_scaled(long v, long top, long steps)
{
    long s = v * steps / top;

    if (v > 0 && s == 0)
        s = 1;
    return s > steps ? steps : s;
}

/* Eight block heights, oldest period first; a period with nothing to measure is a space. */
static void
digest_sparkline(const struct digest_figure *f, char *out, size_t len)
{
    static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    long top = digest_scale_top(f);
    size_t n = 0;

    out[0] = '\0';
    for (int k = DIGEST_PERIODS - 1; k >= 0 && n + 4 < len; k--) {
        long v = f->value[k];
        n += (size_t)snprintf(out + n, len - n, "%s", v < 0 ? " " : bars[digest_scaled(v, top, 7)]);
    }
}

/* Longest line of the text part: what a terminal mail reader shows without wrapping. */
#define TEXT_WIDTH 78

static size_t
digest_cols(const char *s, size_t bytes)
{
    size_t cols = 0;

    for (size_t i = 0; i < bytes; i++)
        cols += ((unsigned char)s[i] & 0xC0) != 0x80;
    return cols;
}

static int
digest_is_day_or_abbrev(const char *w, size_t n)
{
    if (n >= 1 && n <= 2 && w[0] >= '0' && w[0] <= '9')
        return 1;
    return n == 3 && w[0] >= 'A' && w[0] <= 'Z' && w[1] >= 'a' && w[1] <= 'z';
}

/*
 * Whether the space between word a (alen bytes) and the word at b may end a
 * line.  It may not inside a date ("Mon 14 Dec 2026 08:00": a line never
 * starts with a number nor follows a day or a month's short name), before an
 * address in angle brackets (it stays with its name), nor inside a name
 * ("Wanda Smith": two capitalised words before an address).
 */
static int
digest_may_break(const char *a, size_t alen, const char *b)
{
    if ((b[0] >= '0' && b[0] <= '9') || b[0] == '<' || digest_is_day_or_abbrev(a, alen))
        return 0;
    if (a[0] >= 'A' && a[0] <= 'Z' && b[0] >= 'A' && b[0] <= 'Z') {
        /* Name words: capitalised, and the phrase goes on to an address. */
        const char *lt = strchr(b, '<'), *sp = b;
        int words = 0;
        while (lt && sp < lt && words < 4) {
            sp += strcspn(sp, " ");
            sp += strspn(sp, " ");
            words++;
        }
        return !(lt && sp == lt);
    }
    return 1;
}

/*
 * Print s after indent, broken at spaces so no line exceeds TEXT_WIDTH
 * columns (a UTF-8 character is one column) where digest_may_break allows;
 * continuation lines get the deeper indent more.  A line that fits keeps its
 * own spacing (the waiting list's columns); one that is broken loses runs of
 * spaces.
 */
static void
digest_wrap(FILE *f, const char *indent, const char *more, const char *s)
{
    size_t col = (size_t)fprintf(f, "%s", indent);
    size_t start = col;

    if (col + digest_cols(s, strlen(s)) <= TEXT_WIDTH) {
        fprintf(f, "%s\n", s);
        return;
    }
    while (*s) {
        /* A chunk: words joined by spaces where no line may end. */
        const char *e = s;
        for (;;) {
            const char *w = e;
            e += strcspn(e, " ");
            const char *next = e + strspn(e, " ");
            if (*next == '\0' || digest_may_break(w, (size_t)(e - w), next))
                break;
            e = next;
        }
        size_t bytes = (size_t)(e - s), cols = digest_cols(s, bytes);
        if (col > start && col + 1 + cols > TEXT_WIDTH) {
            col = start = (size_t)fprintf(f, "\n%s", more) - 1;
        } else if (col > start) {
            fputc(' ', f);
            col++;
        }
        for (size_t i = 0; i < bytes; i++) { /* runs of spaces inside a chunk become one */
            if (s[i] != ' ' || i == 0 || s[i - 1] != ' ')
                fputc(s[i], f);
        }
        col += cols;
        s = e + strspn(e, " ");
    }
    fputc('\n', f);
}

/* "and 5 more" under a list that was cut at LIST_MAX lines. */
static size_t
digest_more(const struct digest_list *l)
{
    return l->total > l->n ? l->total - l->n : 0;
}

/* The names of the lists with nothing in them, for the one line that stands for them all. */
static void
digest_empty_names(const struct digest *d, char *out, size_t len)
{
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < DIGEST_N_LISTS; i++) {
        if (d->lists[i].total > 0 || n >= len)
            continue;
        n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", d->lists[i].none_name);
    }
}

/* "and 5 more" under a list cut at LIST_MAX lines. */
static void
digest_more_words(const struct digest *d, const struct digest_list *l, char *out, size_t len)
{
    char n[24];

    snprintf(n, sizeof(n), "%zu", digest_more(l));
    digest_say(d, out, len, "digest_more", "and {n} more", "n", n, NULL);
}

/* "None this week: silent pairs, ..." for the lists with nothing in them. */
static void
digest_none_words(const struct digest *d, const char *empty, char *out, size_t len)
{
    digest_say(d, out, len, "digest_none", "None {this}: {lists}.", "this", digest_this(d, 0),
               "lists", empty, NULL);
}

static const char *
digest_top_title(const struct digest *d)
{
    return digest_word(d, "digest_top_title", "Needs a manager this week");
}

static const char *
digest_top_nothing(const struct digest *d)
{
    return digest_word(d, "digest_top_nothing",
                       "Nothing this time: no long wait, nobody at risk, no low rating.");
}

static const char *
digest_scale_note(const struct digest *d)
{
    return digest_word(d, "digest_scale_note",
                       "Bars start at zero: percentages on 0-100, ratings on 0-5, counts on 0 to "
                       "the largest value in the row.");
}

/* "Last 12 weeks": the sparklines' heading. */
static void
digest_last_words(const struct digest *d, char *out, size_t len)
{
    static const char *const english[3] = {"Last {n} days", "Last {n} weeks", "Last {n} months"};
    char key[32], n[16];

    snprintf(n, sizeof(n), "%d", DIGEST_PERIODS);
    digest_say(d, out, len, digest_unit_key(d, "digest_last", key, sizeof(key)),
               english[digest_unit_index(d)], "n", n, NULL);
}

static void
digest_text_top(FILE *f, const struct digest *d)
{
    char line[64];

    fprintf(f, "%s\n", digest_top_title(d));
    if (d->n_top == 0)
        digest_wrap(f, "  ", "  ", digest_top_nothing(d));
    for (size_t i = 0; i < d->n_top; i++) {
        snprintf(line, sizeof(line), "  %zu. ", i + 1);
        digest_wrap(f, line, "     ", d->top[i]);
    }
    fputc('\n', f);
}

/* s in width columns (a UTF-8 character is one), padded on the left (right 1) or the right. */
static void
digest_cell(FILE *f, const char *s, size_t width, int right)
{
    size_t cols = digest_cols(s, strlen(s));

    if (!right)
        fputs(s, f);
    for (; cols < width; cols++)
        fputc(' ', f);
    if (right)
        fputs(s, f);
}

/* The widest figure label, in columns: a language's longer labels widen the column. */
static size_t
digest_label_width(const struct digest *d)
{
    size_t w = DIGEST_LABEL_WIDTH;

    for (size_t i = 0; i < d->n_figures; i++) {
        size_t c = digest_cols(d->figures[i].label, strlen(d->figures[i].label));
        w = c > w ? c : w;
    }
    return w;
}

/*
 * The figure table: label, this period's value, the change, the sparkline;
 * each column as wide as its heading or its widest value, so that the rows
 * line up under the heading in every language.
 */
static void
digest_text_table(FILE *f, const struct digest *d)
{
    char val[32], chg[32], spark[64], last[64];
    const char *this = digest_this(d, 1), *change = digest_word(d, "digest_change", "Change");
    size_t lw = digest_label_width(d), vw = digest_cols(this, strlen(this)),
           cw = digest_cols(change, strlen(change));

    vw = vw < 10 ? 10 : vw;
    cw = cw < 7 ? 7 : cw;
    digest_last_words(d, last, sizeof(last));
    digest_cell(f, "", lw, 0);
    fputc(' ', f);
    digest_cell(f, this, vw, 1);
    fputc(' ', f);
    digest_cell(f, change, cw, 1);
    fprintf(f, "  %s\n", last);
    for (size_t i = 0; i < d->n_figures; i++) {
        const struct digest_figure *fg = &d->figures[i];
        digest_value(d, fg, fg->value[0], val, sizeof(val));
        digest_change(d, fg, chg, sizeof(chg));
        digest_sparkline(fg, spark, sizeof(spark));
        digest_cell(f, fg->label, lw, 0);
        fputc(' ', f);
        digest_cell(f, val, vw, 1);
        fputc(' ', f);
        digest_cell(f, chg, cw, 1);
        /*
         * No trailing blanks (a sparkline of periods with nothing to measure):
         * they are invisible, and the quoted-printable encoder adds one more.
         */
        size_t n = strlen(spark);
        while (n > 0 && spark[n - 1] == ' ')
            spark[--n] = '\0';
        fprintf(f, "%s%s\n", n ? "  " : "", spark);
    }
}

char *
digest_text(const struct config *cfg, const struct digest *d)
{
    char *buf = NULL, title[400], empty[512], line[640];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    digest_say(d, title, sizeof(title), "digest_title", "{community} mentoring: the {period}",
               "community", cfg->community.name, "period", d->label, NULL);
    digest_wrap(f, "", "", title);
    fputc('\n', f);
    digest_text_top(f, d);
    digest_text_table(f, d);
    fputc('\n', f);
    digest_wrap(f, "", "", digest_scale_note(d));
    for (size_t i = 0; i < DIGEST_N_LISTS; i++) {
        const struct digest_list *l = &d->lists[i];
        if (l->total == 0)
            continue;
        fprintf(f, "\n%s\n", l->title);
        for (size_t j = 0; j < l->n; j++)
            digest_wrap(f, "  ", "      ", l->lines[j]);
        if (digest_more(l)) {
            digest_more_words(d, l, line, sizeof(line));
            fprintf(f, "  %s\n", line);
        }
    }
    digest_empty_names(d, empty, sizeof(empty));
    if (empty[0]) {
        digest_none_words(d, empty, line, sizeof(line));
        fputc('\n', f);
        digest_wrap(f, "", "  ", line);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- the HTML part ---- */

/*
 * Mail clients differ most in HTML: Gmail drops <style> blocks and SVG,
 * Outlook on Windows draws with Word's engine (tables, bgcolor and width
 * attributes, no CSS sizing of divs), and images are often blocked.  So the
 * charts are table cells whose width or height is the value, coloured with
 * both bgcolor and an inline background-color, each with its number beside
 * it; styles are inline only; the page is 600 px wide.  The colours are mid
 * tones that stay readable when a client darkens the background, and the
 * text and background colours are set together so that a client that
 * inverts them keeps the contrast.
 */
#define HTML_WIDTH 600
#define HTML_FG "#1f2328"
#define HTML_BG "#ffffff"
#define HTML_MUTED "#57606a"
#define HTML_ACTIVE "#2e7d32"
#define HTML_WAITING "#e8710a"
#define HTML_SPARK "#3b6fd8"
#define HTML_ZERO "#9aa3ad"
#define HTML_FONT "font-family:Arial,Helvetica,sans-serif;"
#define CHART_BAR_MAX 340 /* px: the longest bar of the chart */
#define SPARK_HEIGHT 20   /* px: a sparkline's full height */

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

/*
 * Escaped, with each "Name <address>" kept on one line: a span that does
 * not wrap from the capitalised words before an address to its end.
 */
static void
digest_html_line(FILE *f, const char *s)
{
    const char *lt;

    while ((lt = strchr(s, '<')) != NULL && strchr(lt, '>') != NULL) {
        const char *from = lt;
        /* back over up to three capitalised words before the address */
        for (int w = 0; w < 3; w++) {
            const char *p = from;
            while (p > s && p[-1] == ' ')
                p--;
            const char *q = p;
            while (q > s && q[-1] != ' ')
                q--;
            if (q == p || !(*q >= 'A' && *q <= 'Z') || memchr(q, ':', (size_t)(p - q)))
                break;
            from = q;
        }
        const char *gt = strchr(lt, '>');
        char *pre = strndup(s, (size_t)(from - s)), *mid = strndup(from, (size_t)(gt + 1 - from));
        if (pre == NULL || mid == NULL) {
            free(pre);
            free(mid);
            break;
        }
        digest_html_escape(f, pre);
        fputs("<span style=\"white-space:nowrap\">", f);
        digest_html_escape(f, mid);
        fputs("</span>", f);
        free(pre);
        free(mid);
        s = gt + 1;
    }
    digest_html_escape(f, s);
}

/* A period's short name for the chart: "W48", "30 Nov", "Nov 2026". */
static void
digest_period_short(const struct config *cfg, const struct digest *d, int k, char *out, size_t len)
{
    time_t t = d->bounds[k + 1] + digest_offset(cfg, d->bounds[k + 1]);
    char f = digest_freq(cfg), iso[32], week[8];
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(iso, sizeof(iso), "%Y-%m-%d", &tm);
    if (f == 'w') {
        strftime(week, sizeof(week), "%V", &tm);
        digest_say(d, out, len, "digest_short_week", "W{week}", "week", week, NULL);
    } else {
        lang_format_date_as(d->lang, iso,
                            f == 'd' ? digest_word(d, "digest_short_day", "{day2} {month3}")
                                     : digest_word(d, "digest_short_month", "{month3} {year}"),
                            out, len);
    }
}

/* A horizontal bar of px pixels (none for zero) and the value after it. */
static void
digest_html_hbar(FILE *f, const char *color, long v, long top, const char *what)
{
    long px = digest_scaled(v, top, CHART_BAR_MAX);
    char *word = NULL;
    size_t wlen = 0;
    FILE *w = open_memstream(&word, &wlen);

    if (w != NULL) { /* the word escaped, as every word of a language's data */
        digest_html_escape(w, what);
        if (fclose(w) != 0) {
            free(word);
            word = NULL;
        }
    }

    fputs("<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr>", f);
    if (px > 0)
        fprintf(f,
                "<td class=\"bar\" width=\"%ld\" height=\"12\" bgcolor=\"%s\" data-value=\"%ld\" "
                "style=\"width:%ldpx;height:12px;background-color:%s;font-size:1px;"
                "line-height:1px\">&nbsp;</td>",
                px, color, v, px, color);
    fprintf(f,
            "<td style=\"padding-left:6px;font-size:12px;line-height:14px;color:" HTML_FG "\">"
            "%ld %s</td></tr></table>",
            v, word ? word : "");
    free(word);
}

/* Active pairs and waiting newcomers, a pair of bars per period, oldest at the top. */
static void
digest_html_chart(FILE *f, const struct config *cfg, const struct digest *d)
{
    static const char *const english[3] = {"Active pairs and waiting newcomers, last {n} days",
                                           "Active pairs and waiting newcomers, last {n} weeks",
                                           "Active pairs and waiting newcomers, last {n} months"};
    const struct digest_figure *a = digest_figure(d, "active_pairs");
    const struct digest_figure *w = digest_figure(d, "waiting");
    const char *active = digest_word(d, "digest_bar_active", "active");
    const char *waiting = digest_word(d, "digest_bar_waiting", "waiting");
    long top = 1;
    char name[64], title[160], key[32], n[24], scale[64], later[64];

    if (a == NULL || w == NULL)
        return;
    for (int k = 0; k < DIGEST_PERIODS; k++) {
        top = a->value[k] > top ? a->value[k] : top;
        top = w->value[k] > top ? w->value[k] : top;
    }
    snprintf(n, sizeof(n), "%d", DIGEST_PERIODS);
    digest_say(d, title, sizeof(title), digest_unit_key(d, "digest_chart", key, sizeof(key)),
               english[digest_unit_index(d)], "n", n, NULL);
    snprintf(n, sizeof(n), "%ld", top);
    digest_say(d, scale, sizeof(scale), "digest_scale", "scale 0 to {top}", "top", n, NULL);
    fputs("<h2 style=\"font-size:16px;margin:20px 0 4px 0;color:" HTML_FG "\">", f);
    digest_html_escape(f, title);
    fputs("</h2>\n<p style=\"margin:0 0 8px 0;font-size:12px;color:" HTML_MUTED "\">"
          "<span style=\"color:" HTML_ACTIVE "\">&#9632;</span> ",
          f);
    digest_html_escape(f, digest_word(d, "digest_legend_active", "active pairs"));
    fputs(" &nbsp; <span style=\"color:" HTML_WAITING "\">&#9632;</span> ", f);
    digest_html_escape(f, digest_word(d, "digest_legend_waiting", "waiting"));
    fputs(" &nbsp; ", f);
    digest_html_escape(f, scale);
    fputs("</p>\n<table id=\"chart\" aria-label=\"", f);
    digest_html_escape(f, title);
    fprintf(f,
            "\" width=\"%d\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
            "style=\"width:%dpx\">\n",
            HTML_WIDTH - 32, HTML_WIDTH - 32);
    digest_so_far(d, 1, later, sizeof(later));
    for (int k = DIGEST_PERIODS - 1; k >= 0; k--) {
        digest_period_short(cfg, d, k, name, sizeof(name));
        fputs("<tr><td width=\"80\" valign=\"middle\" style=\"width:80px;font-size:12px;"
              "color:" HTML_MUTED ";padding:3px 0;border-top:1px solid #d0d7de\">",
              f);
        digest_html_escape(f, name);
        digest_html_escape(f, k == 0 && d->so_far ? later : "");
        fputs("</td><td style=\"padding:3px 0;border-top:1px solid #d0d7de\">", f);
        digest_html_hbar(f, HTML_ACTIVE, a->value[k], top, active);
        digest_html_hbar(f, HTML_WAITING, w->value[k], top, waiting);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* Twelve vertical bars, oldest on the left, on the figure's zero-based scale. */
static void
digest_html_spark(FILE *f, const struct digest *d, const struct digest_figure *fg)
{
    long top = digest_scale_top(fg);
    char val[32];

    fputs("<table role=\"presentation\" class=\"spark\" cellpadding=\"0\" cellspacing=\"0\" "
          "border=\"0\"><tr>",
          f);
    for (int k = DIGEST_PERIODS - 1; k >= 0; k--) {
        long v = fg->value[k];
        long h = v < 0 ? 0 : digest_scaled(v, top, SPARK_HEIGHT);
        const char *color = v > 0 ? HTML_SPARK : HTML_ZERO;
        digest_value(d, fg, v, val, sizeof(val));
        /* A measured zero is a thin grey line; nothing to measure, an empty slot. */
        if (v == 0 || (v > 0 && h == 0))
            h = 1;
        fprintf(f,
                "<td width=\"7\" height=\"%d\" valign=\"bottom\" style=\"width:7px;height:%dpx;"
                "padding:0 1px 0 0;vertical-align:bottom\" title=\"%s\">",
                SPARK_HEIGHT, SPARK_HEIGHT, val);
        if (v >= 0)
            fprintf(f,
                    "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" "
                    "border=\"0\"><tr><td class=\"sbar\" width=\"6\" height=\"%ld\" bgcolor=\"%s\""
                    " data-value=\"%ld\" style=\"width:6px;height:%ldpx;background-color:%s;"
                    "font-size:1px;line-height:1px\">&nbsp;</td></tr></table>",
                    h, color, v, h, color);
        fputs("</td>", f);
    }
    fputs("</tr></table>", f);
}

static void
digest_html_figures(FILE *f, const struct digest *d)
{
    char val[32], chg[32], last[64];

    digest_last_words(d, last, sizeof(last));
    fputs("<h2 style=\"font-size:16px;margin:20px 0 4px 0;color:" HTML_FG "\">", f);
    digest_html_escape(f, digest_word(d, "digest_figures", "Figures"));
    fprintf(f,
            "</h2>\n<table id=\"figures\" width=\"%d\" cellpadding=\"0\" cellspacing=\"0\" "
            "border=\"0\" style=\"width:%dpx;font-size:13px;color:" HTML_FG "\">\n"
            "<tr><th align=\"left\" style=\"padding:3px 0\">",
            HTML_WIDTH - 32, HTML_WIDTH - 32);
    digest_html_escape(f, digest_word(d, "digest_figure", "Figure"));
    fputs("</th><th align=\"right\" style=\"padding:3px 8px\">", f);
    digest_html_escape(f, digest_this(d, 1));
    fputs("</th><th align=\"right\" style=\"padding:3px 8px\">", f);
    digest_html_escape(f, digest_word(d, "digest_change", "Change"));
    fputs("</th><th align=\"left\" style=\"padding:3px 0\">", f);
    digest_html_escape(f, last);
    fputs("</th></tr>\n", f);
    for (size_t i = 0; i < d->n_figures; i++) {
        const struct digest_figure *fg = &d->figures[i];
        digest_value(d, fg, fg->value[0], val, sizeof(val));
        digest_change(d, fg, chg, sizeof(chg));
        fprintf(f, "<tr data-key=\"%s\"><td style=\"padding:3px 0;border-top:1px solid #d0d7de\">",
                fg->key);
        digest_html_escape(f, fg->label);
        fprintf(f,
                "</td><td align=\"right\" style=\"padding:3px 8px;border-top:1px solid "
                "#d0d7de;white-space:nowrap\"><b>%s</b></td><td align=\"right\" "
                "style=\"padding:3px 8px;border-top:1px solid #d0d7de;white-space:nowrap\">",
                val);
        digest_html_escape(f, chg);
        fputs("</td><td style=\"padding:3px 0;border-top:1px solid #d0d7de\">", f);
        digest_html_spark(f, d, fg);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n<p style=\"margin:4px 0 0 0;font-size:12px;color:" HTML_MUTED "\">", f);
    digest_html_escape(f, digest_scale_note(d));
    fputs("</p>\n", f);
}

static void
digest_html_top(FILE *f, const struct digest *d)
{
    fputs("<table role=\"presentation\" id=\"top\" width=\"100%\" cellpadding=\"0\" "
          "cellspacing=\"0\" border=\"0\"><tr><td bgcolor=\"#fff4e0\" style=\"background-color:"
          "#fff4e0;border-left:4px solid " HTML_WAITING ";padding:10px 12px;color:" HTML_FG "\">"
          "<h2 style=\"font-size:16px;margin:0 0 6px 0;color:" HTML_FG "\">",
          f);
    digest_html_escape(f, digest_top_title(d));
    fputs("</h2>\n", f);
    if (d->n_top == 0) {
        fputs("<p style=\"margin:0\">", f);
        digest_html_escape(f, digest_top_nothing(d));
        fputs("</p>\n", f);
    } else {
        fputs("<ol style=\"margin:0;padding-left:20px\">\n", f);
    }
    for (size_t i = 0; i < d->n_top; i++) {
        fputs("<li style=\"margin:0 0 4px 0\">", f);
        digest_html_line(f, d->top[i]);
        fputs("</li>\n", f);
    }
    if (d->n_top > 0)
        fputs("</ol>\n", f);
    fputs("</td></tr></table>\n", f);
}

static void
digest_html_lists(FILE *f, const struct digest *d)
{
    char empty[512], line[640];

    for (size_t i = 0; i < DIGEST_N_LISTS; i++) {
        const struct digest_list *l = &d->lists[i];
        if (l->total == 0)
            continue;
        fputs("<h2 style=\"font-size:16px;margin:20px 0 4px 0;color:" HTML_FG "\">", f);
        digest_html_escape(f, l->title);
        fputs("</h2>\n<ul style=\"margin:0;padding-left:20px\">\n", f);
        for (size_t j = 0; j < l->n; j++) {
            fputs("<li>", f);
            digest_html_line(f, l->lines[j]);
            fputs("</li>\n", f);
        }
        if (digest_more(l)) {
            digest_more_words(d, l, line, sizeof(line));
            fputs("<li>", f);
            digest_html_escape(f, line);
            fputs("</li>\n", f);
        }
        fputs("</ul>\n", f);
    }
    digest_empty_names(d, empty, sizeof(empty));
    if (empty[0]) {
        digest_none_words(d, empty, line, sizeof(line));
        fputs("<p id=\"none\" style=\"margin:20px 0 0 0\">", f);
        digest_html_escape(f, line);
        fputs("</p>\n", f);
    }
}

char *
digest_html(const struct config *cfg, const struct digest *d)
{
    char *buf = NULL, head[400];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width\">"
          "<meta name=\"color-scheme\" content=\"light dark\">"
          "<meta name=\"supported-color-schemes\" content=\"light dark\"><title>",
          f);
    digest_html_escape(f, d->subject);
    fputs("</title></head>\n<body bgcolor=\"" HTML_BG "\" style=\"margin:0;padding:0;"
          "background-color:" HTML_BG ";color:" HTML_FG "\">\n",
          f);
    fprintf(f,
            "<table role=\"presentation\" width=\"%d\" cellpadding=\"0\" cellspacing=\"0\" "
            "border=\"0\" bgcolor=\"" HTML_BG "\" style=\"width:%dpx;max-width:100%%;"
            "background-color:" HTML_BG ";color:" HTML_FG ";" HTML_FONT "font-size:14px;"
            "line-height:20px\"><tr><td style=\"padding:16px\">\n<h1 style=\"font-size:20px;"
            "margin:0 0 4px 0;color:" HTML_FG "\">",
            HTML_WIDTH, HTML_WIDTH);
    digest_say(d, head, sizeof(head), "digest_heading", "{community} mentoring", "community",
               cfg->community.name, NULL);
    digest_html_escape(f, head);
    digest_say(d, head, sizeof(head), "digest_html_period", "The {period}", "period", d->label,
               NULL);
    fputs("</h1>\n<p style=\"margin:0 0 12px 0;color:" HTML_MUTED "\">", f);
    digest_html_escape(f, head);
    fputs("</p>\n", f);
    digest_html_top(f, d);
    digest_html_chart(f, cfg, d);
    digest_html_figures(f, d);
    digest_html_lists(f, d);
    fputs("<p style=\"margin:20px 0 0 0;font-size:12px;color:" HTML_MUTED "\">", f);
    digest_html_escape(f, digest_word(d, "digest_footer",
                                      "An automatic message from mentord. Reply REPORT for the "
                                      "figures so far, or HELP for the manager commands."));
    fputs("</p>\n</td></tr></table>\n</body></html>\n", f);
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
        struct template_var v[] = {{"period", d->label}, {"digest", text}, {"subject", d->subject}};
        struct outbox_mail om = {
            .to_addr = to_addr,
            .template_name = "digest",
            .vars = v,
            .nvars = 3,
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

/* The digest as it went out, for mentorctl digest --preview last. */
static int
digest_keep(const struct config *cfg, struct store *st, const struct digest *d, time_t now)
{
    char *text = digest_text(cfg, d), *html = digest_html(cfg, d), *subject = NULL, *body = NULL;
    char err[512];
    int rc = -1;

    if (text == NULL || html == NULL) {
        log_error("digest %s: out of memory keeping it as sent", d->key);
        goto out;
    }
    /* The text part as the managers read it: the template around the figures. */
    struct template_var v[] = {{"community_name", cfg->community.name},
                               {"community_address", cfg->community.address},
                               {"to_name", NULL},
                               {"to_address", cfg->community.managers[0]},
                               {"period", d->label},
                               {"digest", text},
                               {"subject", d->subject}};
    if (outbox_render_for_managers(cfg, "digest", v, sizeof(v) / sizeof(v[0]), &subject, &body, err,
                                   sizeof(err)) != 0)
        log_error("digest %s: keeping it as sent: %s", d->key, err);
    else if ((rc = store_digest_keep(st, d->key, now, subject, body, html)) != 0)
        log_error("digest %s: keeping it as sent: %s", d->key, store_errmsg(st));
out:
    free(subject);
    free(body);
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
     * A period that began before mentord recorded anything has nothing to
     * report: a fresh install, or a programme started on a Monday morning,
     * does not greet its managers with a digest of a week in which nothing
     * happened.  The first digest covers the first whole period (what
     * happened in the hours before it shows in its state figures: waiting,
     * active pairs).  It is marked as done so the question is not asked again.
     */
    int before = store_digest_history(st, d.start);
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
    if (sent == 0 && digest_keep(cfg, st, &d, now) != 0)
        sent = -1;
    if (sent == 0 && store_event_add(st, now, "digest", NULL, NULL, d.key) != 0) {
        log_error("digest %s: recording it as sent: %s", d.key, store_errmsg(st));
        sent = -1;
    }
    if (sent == 0)
        log_info("digest %s queued to %zu managers", d.key, cfg->community.n_managers);
    digest_free(&d);
    return sent < 0 ? -1 : sent ? 0 : 1;
}
