/*
 * match: scoring, candidate pairs, the assignment as a min-cost flow, reasons.
 *
 * Flow network: node n (0..N-1) per eligible newcomer with supply 1, node
 * N + m per mentor with free slots, and a sink with demand N.  Arcs:
 * newcomer -> sink (cost 0: stays unmatched), newcomer -> mentor (cost
 * -score) for candidate pairs, and per mentor one unit arc to the sink per
 * free slot with the rising load cost.  A minimum-cost flow is then a
 * maximum of score minus load over all assignments of the candidates.
 */
#include "clock.h"
#include "match.h"

#include "log.h"
#include "mcf.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_LEN 128 /* longest normalised tag, language or keyword */
#define WAKE_START (8 * 60)
#define WAKE_END (21 * 60)

/* ------------------------------------------------------------------ */
/* helpers                                                            */
/* ------------------------------------------------------------------ */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* CPU time: the benchmark compares it with LEMON's on a shared machine. */
static double
now_seconds(void)
{
    return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

void
match_weights_default(struct match_weights *w)
{
    w->tag = 10;
    w->language = 5;
    w->tz_overlap = 1;
    w->goal = 5;
    w->wait_bonus_per_day = 0.5;
    w->wait_max_days = 60;
    w->load_penalty = 1;
    w->strain_unanswered = 0.5;
    w->strain_low_feedback = 1;
    w->break_after_weeks = 12;
    w->strain_per_week = 0.1;
    w->require_common_language = 1;
    w->top_k = 10;
    w->top_r = 5;
    w->scan_limit = 250;
}

/* ------------------------------------------------------------------ */
/* normalisation                                                      */
/* ------------------------------------------------------------------ */

static int
is_sep(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-' || c == '_';
}

static int
ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* Strip a simple English plural from the last word; returns the new length. */
static size_t
strip_plural(char *s, size_t len)
{
    size_t start = len;
    while (start > 0 && s[start - 1] != ' ')
        start--;
    size_t wlen = len - start;
    const char *w = s + start;
    if (wlen > 4 && ends_with(w, wlen, "ies"))
        return s[len - 3] = 'y', s[len - 2] = '\0', len - 2;
    if (wlen > 4 && (ends_with(w, wlen, "sses") || ends_with(w, wlen, "ches") ||
                     ends_with(w, wlen, "shes") || ends_with(w, wlen, "xes")))
        return s[len - 2] = '\0', len - 2;
    if (wlen > 3 && w[wlen - 1] == 's' && !ends_with(w, wlen, "ss") && !ends_with(w, wlen, "us") &&
        !ends_with(w, wlen, "is"))
        return s[len - 1] = '\0', len - 1;
    return len;
}

/* Case, separators and plural, without synonyms. */
static int
normalise_plain(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    int pending_space = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
        if (is_sep(*p)) {
            pending_space = n > 0;
            continue;
        }
        if (n + pending_space + 1 >= outlen)
            return -1;
        if (pending_space)
            out[n++] = ' ';
        pending_space = 0;
        out[n++] = (char)(*p < 0x80 ? tolower(*p) : *p);
    }
    if (n == 0)
        return -1;
    out[n] = '\0';
    return (int)strip_plural(out, n);
}

int
match_normalise(const char *in, const struct match_synonym *syn, size_t n_syn, char *out,
                size_t outlen)
{
    if (in == NULL || out == NULL || outlen == 0)
        return -1;
    int len = normalise_plain(in, out, outlen);
    if (len < 0)
        return -1;
    char from[NAME_MAX_LEN];
    for (size_t i = 0; i < n_syn; i++) {
        if (syn[i].from == NULL || syn[i].to == NULL ||
            normalise_plain(syn[i].from, from, sizeof(from)) < 0 || strcmp(from, out) != 0)
            continue;
        /* First matching entry wins; the target is not looked up again. */
        return normalise_plain(syn[i].to, out, outlen);
    }
    return len;
}

/* ------------------------------------------------------------------ */
/* scoring arithmetic shared by match_score and the solver            */
/* ------------------------------------------------------------------ */

int
match_tz_overlap_minutes(int offset_a_min, int offset_b_min)
{
    /* Waking window in UTC minutes: [8:00 - offset, 21:00 - offset). */
    int a0 = WAKE_START - offset_a_min, b0 = WAKE_START - offset_b_min;
    int len = WAKE_END - WAKE_START, total = 0;
    for (int shift = -2 * 1440; shift <= 2 * 1440; shift += 1440) {
        int lo = a0 > b0 + shift ? a0 : b0 + shift;
        int hi = a0 + len < b0 + shift + len ? a0 + len : b0 + shift + len;
        if (hi > lo)
            total += hi - lo;
    }
    return total > len ? len : total;
}

static int64_t
wait_days(const struct match_person *p, int64_t now, const struct match_weights *w)
{
    if (p->waiting_since <= 0 || now <= p->waiting_since)
        return 0;
    int64_t days = (now - p->waiting_since) / 86400;
    return days > w->wait_max_days ? w->wait_max_days : days;
}

static int64_t
to_milli(double points)
{
    double m = points * 1000.0;
    if (!(m < (double)MCF_COST_MAX))
        m = (double)MCF_COST_MAX;
    if (!(m > -(double)MCF_COST_MAX))
        m = -(double)MCF_COST_MAX;
    return llround(m);
}

static int64_t
compose_score(const struct match_weights *w, int tags, int langs, int overlap_min, int goals,
              int64_t days)
{
    double points = w->tag * tags + (langs > 0 ? w->language : 0.0) +
                    w->tz_overlap * (overlap_min / 60.0) + w->goal * goals +
                    w->wait_bonus_per_day * (double)days;
    return to_milli(points);
}

static double
strain_of(const struct match_person *m, const struct match_weights *w)
{
    int weeks = m->weeks_since_break - w->break_after_weeks;
    return m->active_mentees + w->strain_unanswered * m->unanswered_checkins +
           w->strain_low_feedback * m->low_feedback + (weeks > 0 ? w->strain_per_week * weeks : 0);
}

int
match_free_slots(const struct match_person *mentor, const struct match_weights *w)
{
    if (mentor->role != MATCH_MENTOR || mentor->flags != 0)
        return 0;
    double extra = strain_of(mentor, w) - mentor->active_mentees;
    int free_slots = mentor->capacity - mentor->active_mentees - (int)floor(extra);
    return free_slots > 0 ? free_slots : 0;
}

int64_t
match_slot_cost(const struct match_person *mentor, int k, const struct match_weights *w)
{
    double load = strain_of(mentor, w) + k;
    return to_milli(w->load_penalty * (2.0 * load - 1.0));
}

static int
blocked_in_list(const struct match_input *in, int64_t a, int64_t b)
{
    for (size_t i = 0; i < in->n_blocked; i++)
        if ((in->blocked[i].a == a && in->blocked[i].b == b) ||
            (in->blocked[i].a == b && in->blocked[i].b == a))
            return 1;
    return 0;
}

/* Distinct normalised names of a list, into names[max][NAME_MAX_LEN]. */
static int
normalised_set(const char *const *list, size_t n, const struct match_synonym *syn, size_t n_syn,
               char (*names)[NAME_MAX_LEN], int max)
{
    int count = 0;
    for (size_t i = 0; i < n && count < max; i++) {
        if (list[i] == NULL || match_normalise(list[i], syn, n_syn, names[count], NAME_MAX_LEN) < 0)
            continue;
        int dup = 0;
        for (int j = 0; j < count && !dup; j++)
            dup = strcmp(names[j], names[count]) == 0;
        if (!dup)
            count++;
    }
    return count;
}

static int
shared_names(const char *const *a, size_t na, const char *const *b, size_t nb,
             const struct match_synonym *syn, size_t n_syn)
{
    static const int max = 64;
    char(*sa)[NAME_MAX_LEN] = malloc(2 * (size_t)max * NAME_MAX_LEN);
    if (sa == NULL)
        return 0;
    char(*sb)[NAME_MAX_LEN] = sa + max;
    int ca = normalised_set(a, na, syn, n_syn, sa, max);
    int cb = normalised_set(b, nb, syn, n_syn, sb, max);
    int shared = 0;
    for (int i = 0; i < ca; i++)
        for (int j = 0; j < cb; j++)
            shared += strcmp(sa[i], sb[j]) == 0;
    free(sa);
    return shared;
}

int64_t
match_score(const struct match_person *n, const struct match_person *m,
            const struct match_input *in)
{
    struct match_weights def;
    const struct match_weights *w = in->weights;
    if (w == NULL) {
        match_weights_default(&def);
        w = &def;
    }
    if (n->role != MATCH_NEWCOMER || n->flags != 0 || match_free_slots(m, w) == 0 ||
        blocked_in_list(in, n->id, m->id))
        return MATCH_FORBIDDEN;
    int langs = shared_names(n->languages, n->n_languages, m->languages, m->n_languages, NULL, 0);
    if (langs == 0 && w->require_common_language)
        return MATCH_FORBIDDEN;
    int tags = shared_names(n->tags, n->n_tags, m->tags, m->n_tags, in->synonyms, in->n_synonyms);
    int goals =
        shared_names(n->goals, n->n_goals, m->goals, m->n_goals, in->synonyms, in->n_synonyms);
    int overlap = match_tz_overlap_minutes(n->tz_offset_min, m->tz_offset_min);
    return compose_score(w, tags, langs, overlap, goals, wait_days(n, in->now, w));
}

/* ------------------------------------------------------------------ */
/* string interning                                                   */
/* ------------------------------------------------------------------ */

struct strtab {
    char **keys;
    int32_t *vals;
    size_t room, len;
};

static uint64_t
hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void
strtab_free(struct strtab *t)
{
    for (size_t i = 0; i < t->room; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof(*t));
}

static size_t
strtab_slot(const struct strtab *t, const char *key)
{
    size_t i = hash_str(key) & (t->room - 1);
    while (t->keys[i] != NULL && strcmp(t->keys[i], key) != 0)
        i = (i + 1) & (t->room - 1);
    return i;
}

static int
strtab_grow(struct strtab *t)
{
    struct strtab bigger = {0};
    bigger.room = t->room == 0 ? 64 : t->room * 2;
    bigger.keys = calloc(bigger.room, sizeof(*bigger.keys));
    bigger.vals = calloc(bigger.room, sizeof(*bigger.vals));
    if (bigger.keys == NULL || bigger.vals == NULL) {
        free(bigger.keys);
        free(bigger.vals);
        return -1;
    }
    for (size_t i = 0; i < t->room; i++) {
        if (t->keys[i] == NULL)
            continue;
        size_t j = strtab_slot(&bigger, t->keys[i]);
        bigger.keys[j] = t->keys[i];
        bigger.vals[j] = t->vals[i];
    }
    bigger.len = t->len;
    free(t->keys);
    free(t->vals);
    *t = bigger;
    return 0;
}

static int32_t
strtab_get(const struct strtab *t, const char *key)
{
    if (t->room == 0)
        return -1;
    size_t i = strtab_slot(t, key);
    return t->keys[i] != NULL ? t->vals[i] : -1;
}

static int
strtab_put(struct strtab *t, const char *key, int32_t val)
{
    if ((t->len + 1) * 2 > t->room && strtab_grow(t) != 0)
        return -1;
    size_t i = strtab_slot(t, key);
    if (t->keys[i] == NULL) {
        t->keys[i] = strdup(key);
        if (t->keys[i] == NULL)
            return -1;
        t->len++;
    }
    t->vals[i] = val;
    return 0;
}

/* A vocabulary: raw spelling -> id of its normalised form (-2: unusable). */
struct vocab {
    struct strtab raw, norm;
    const struct match_synonym *syn;
    size_t n_syn;
};

static int
vocab_id(struct vocab *v, const char *raw, int32_t *id)
{
    if (raw == NULL) {
        *id = -2;
        return 0;
    }
    *id = strtab_get(&v->raw, raw);
    if (*id != -1)
        return 0;
    char norm[NAME_MAX_LEN];
    if (match_normalise(raw, v->syn, v->n_syn, norm, sizeof(norm)) < 0) {
        *id = -2;
    } else {
        *id = strtab_get(&v->norm, norm);
        if (*id == -1) {
            *id = (int32_t)v->norm.len;
            if (strtab_put(&v->norm, norm, *id) != 0)
                return -1;
        }
    }
    return strtab_put(&v->raw, raw, *id);
}

static void
vocab_free(struct vocab *v)
{
    strtab_free(&v->raw);
    strtab_free(&v->norm);
}

/* ------------------------------------------------------------------ */
/* the round's context                                                */
/* ------------------------------------------------------------------ */

/* Sorted distinct ids per person: person i owns ids[off[i] .. off[i + 1]). */
struct feature {
    int32_t *off;
    int32_t *ids;
};

struct side {
    int32_t n;
    const struct match_person **who; /* ascending id */
    struct feature tags, goals, langs;
};

/*
 * Time zones: a round has few distinct UTC offsets, so the shared waking
 * time of any two people is a table lookup (TZ_MAX: offset not in the table).
 */
#define TZ_MAX 96
struct tz_table {
    int32_t n;
    int offsets[TZ_MAX];
    uint8_t *nc, *mt; /* zone index per newcomer / mentor */
    int16_t *overlap; /* TZ_MAX x TZ_MAX minutes */
};

/*
 * The newcomer being scored: its tag, goal and language ids marked, so a
 * mentor's shared counts are lookups of the mentor's ids (scoring is the
 * inner loop of both the candidates and the pricing).
 */
struct marks {
    uint8_t *word; /* per word id: 1 a tag of the newcomer, 2 a goal */
    uint8_t *lang;
    int32_t who; /* the marked newcomer, -1: none */
    /* The marked person's tags as bits (struct tag_bits), and its tags beyond one per bit. */
    uint64_t tag_mask;
    int tag_extra;
};

/*
 * A cheap upper bound on the tags two people share, tested before the exact
 * count: every tag id has one of 64 bits (the 64 tags most mentors have each
 * their own, the rest round-robin by that rank), a mentor's mask holds the
 * bits of its tags, and a newcomer sharing r tags with a mentor has r <=
 * popcount(its mask & the mentor's) + its own tags beyond one per bit.  Most
 * pairs the lists let through are ruled out by it (their bound with the
 * shared tags counted falls below the prices), without reading the mentor's
 * tag ids.
 */
struct tag_bits {
    uint8_t *bit;     /* per word id */
    uint64_t *mentor; /* per mentor: the bits of its tags */
};

struct pricing;
static void pricing_free(struct pricing *p);

struct ctx {
    const struct match_input *in;
    struct tz_table tz;
    struct tag_bits tb;
    struct marks *mk;
    struct marks *mm;   /* the same for one mentor (the pricing from the mentors' side) */
    struct pricing *pr; /* mentor lists by tag and zone (pricing), also for candidates */
    struct match_weights w;
    struct vocab words, languages;
    struct side nc, mt; /* eligible newcomers; mentors with free slots */
    int32_t *free_slots;
    int64_t *days;               /* per newcomer */
    struct match_block *blocked; /* (min, max), sorted */
    size_t n_blocked;
    struct mcf *graph;
    int64_t *score;  /* per newcomer: score of the assigned pair */
    int32_t *assign; /* per newcomer: mentor index or -1 */
    size_t n_candidates;
};

static int
cmp_person(const void *a, const void *b)
{
    const struct match_person *x = *(const struct match_person *const *)a;
    const struct match_person *y = *(const struct match_person *const *)b;
    return (x->id > y->id) - (x->id < y->id);
}

static int
cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int
cmp_block(const void *a, const void *b)
{
    const struct match_block *x = a, *y = b;
    if (x->a != y->a)
        return (x->a > y->a) - (x->a < y->a);
    return (x->b > y->b) - (x->b < y->b);
}

static int
build_feature(struct vocab *v, const struct side *s, size_t which, struct feature *f)
{
    size_t total = 0;
    for (int32_t i = 0; i < s->n; i++) {
        const struct match_person *p = s->who[i];
        total += which == 0 ? p->n_tags : which == 1 ? p->n_goals : p->n_languages;
    }
    f->off = malloc(((size_t)s->n + 1) * sizeof(*f->off));
    f->ids = malloc((total + 1) * sizeof(*f->ids));
    if (f->off == NULL || f->ids == NULL)
        return -1;
    int32_t k = 0;
    for (int32_t i = 0; i < s->n; i++) {
        const struct match_person *p = s->who[i];
        const char *const *list = which == 0 ? p->tags : which == 1 ? p->goals : p->languages;
        size_t n = which == 0 ? p->n_tags : which == 1 ? p->n_goals : p->n_languages;
        int32_t start = k;
        f->off[i] = start;
        for (size_t j = 0; j < n; j++) {
            int32_t id;
            if (vocab_id(v, list[j], &id) != 0)
                return -1;
            if (id >= 0)
                f->ids[k++] = id;
        }
        qsort(f->ids + start, (size_t)(k - start), sizeof(int32_t), cmp_i32);
        int32_t u = start; /* drop duplicates */
        for (int32_t j = start; j < k; j++)
            if (u == start || f->ids[u - 1] != f->ids[j])
                f->ids[u++] = f->ids[j];
        k = u;
    }
    f->off[s->n] = k;
    return 0;
}

static void
feature_free(struct feature *f)
{
    free(f->off);
    free(f->ids);
}

static int
build_side(struct ctx *c, struct side *s)
{
    if (build_feature(&c->words, s, 0, &s->tags) != 0 ||
        build_feature(&c->words, s, 1, &s->goals) != 0 ||
        build_feature(&c->languages, s, 2, &s->langs) != 0)
        return -1;
    return 0;
}

static int
check_weights(const struct match_weights *w, char *err, size_t errlen)
{
    if (w->top_k < 1 || w->top_r < 0 || w->scan_limit < 1 || w->wait_max_days < 0 ||
        !(w->load_penalty >= 0)) {
        set_err(err, errlen,
                "match: bad weights (top_k >= 1, top_r >= 0, scan_limit >= 1, "
                "wait_max_days >= 0 and load_penalty >= 0 are required)");
        return -1;
    }
    return 0;
}

/* Sort people by id, reject duplicates and bad numbers, pick the eligible ones. */
static int
select_people(struct ctx *c, char *err, size_t errlen)
{
    const struct match_input *in = c->in;
    const struct match_person **all = malloc((in->n_people + 1) * sizeof(*all));
    if (all == NULL)
        return set_err(err, errlen, "match: out of memory"), -1;
    for (size_t i = 0; i < in->n_people; i++)
        all[i] = &in->people[i];
    qsort(all, in->n_people, sizeof(*all), cmp_person);
    c->nc.who = malloc((in->n_people + 1) * sizeof(*all));
    c->mt.who = malloc((in->n_people + 1) * sizeof(*all));
    c->free_slots = malloc((in->n_people + 1) * sizeof(*c->free_slots));
    int rc = c->nc.who != NULL && c->mt.who != NULL && c->free_slots != NULL ? 0 : -1;
    if (rc != 0)
        set_err(err, errlen, "match: out of memory");
    for (size_t i = 0; rc == 0 && i < in->n_people; i++) {
        const struct match_person *p = all[i];
        if (i > 0 && all[i - 1]->id == p->id) {
            set_err(err, errlen, "match: member id %" PRId64 " given twice", p->id);
            rc = -1;
        } else if (p->capacity < 0 || p->active_mentees < 0 || p->unanswered_checkins < 0 ||
                   p->low_feedback < 0) {
            set_err(err, errlen, "match: member %" PRId64 " has a negative capacity or load",
                    p->id);
            rc = -1;
        } else if (p->flags == 0 && p->role == MATCH_NEWCOMER) {
            c->nc.who[c->nc.n++] = p;
        } else if (p->role == MATCH_MENTOR && match_free_slots(p, &c->w) > 0) {
            c->free_slots[c->mt.n] = match_free_slots(p, &c->w);
            c->mt.who[c->mt.n++] = p;
        }
    }
    free(all);
    return rc;
}

static int
build_blocked(struct ctx *c)
{
    const struct match_input *in = c->in;
    c->blocked = malloc((in->n_blocked + 1) * sizeof(*c->blocked));
    if (c->blocked == NULL)
        return -1;
    for (size_t i = 0; i < in->n_blocked; i++) {
        int64_t a = in->blocked[i].a, b = in->blocked[i].b;
        c->blocked[i].a = a < b ? a : b;
        c->blocked[i].b = a < b ? b : a;
    }
    c->n_blocked = in->n_blocked;
    qsort(c->blocked, c->n_blocked, sizeof(*c->blocked), cmp_block);
    return 0;
}

static int
is_blocked(const struct ctx *c, int64_t x, int64_t y)
{
    struct match_block key = {x < y ? x : y, x < y ? y : x};
    return c->n_blocked > 0 &&
           bsearch(&key, c->blocked, c->n_blocked, sizeof(key), cmp_block) != NULL;
}

static void
ctx_free(struct ctx *c)
{
    struct side *sides[2] = {&c->nc, &c->mt};
    for (int i = 0; i < 2; i++) {
        free(sides[i]->who);
        feature_free(&sides[i]->tags);
        feature_free(&sides[i]->goals);
        feature_free(&sides[i]->langs);
    }
    vocab_free(&c->words);
    vocab_free(&c->languages);
    free(c->free_slots);
    free(c->days);
    free(c->blocked);
    free(c->score);
    free(c->assign);
    free(c->tz.nc);
    free(c->tz.mt);
    free(c->tz.overlap);
    free(c->tb.bit);
    free(c->tb.mentor);
    struct marks *marks[2] = {c->mk, c->mm};
    for (int i = 0; i < 2; i++) {
        if (marks[i] != NULL) {
            free(marks[i]->word);
            free(marks[i]->lang);
        }
        free(marks[i]);
    }
    if (c->pr != NULL)
        pricing_free(c->pr);
    free(c->pr);
    mcf_free(c->graph);
}

/* Zone index of an offset, adding it while there is room; TZ_MAX when full. */
static uint8_t
tz_index(struct tz_table *t, int offset)
{
    for (int32_t i = 0; i < t->n; i++)
        if (t->offsets[i] == offset)
            return (uint8_t)i;
    if (t->n == TZ_MAX)
        return TZ_MAX;
    t->offsets[t->n] = offset;
    return (uint8_t)t->n++;
}

static int
tz_build(struct ctx *c)
{
    struct tz_table *t = &c->tz;
    t->nc = malloc((size_t)c->nc.n + 1);
    t->mt = malloc((size_t)c->mt.n + 1);
    t->overlap = malloc(sizeof(*t->overlap) * TZ_MAX * TZ_MAX);
    if (t->nc == NULL || t->mt == NULL || t->overlap == NULL)
        return -1;
    for (int32_t n = 0; n < c->nc.n; n++)
        t->nc[n] = tz_index(t, c->nc.who[n]->tz_offset_min);
    for (int32_t m = 0; m < c->mt.n; m++)
        t->mt[m] = tz_index(t, c->mt.who[m]->tz_offset_min);
    for (int32_t a = 0; a < t->n; a++)
        for (int32_t b = 0; b < t->n; b++)
            t->overlap[a * TZ_MAX + b] =
                (int16_t)match_tz_overlap_minutes(t->offsets[a], t->offsets[b]);
    return 0;
}

/* Shared waking minutes of newcomer n and mentor m (indexes). */
static int
tz_overlap(const struct ctx *c, int32_t n, int32_t m)
{
    uint8_t a = c->tz.nc[n], b = c->tz.mt[m];
    if (a == TZ_MAX || b == TZ_MAX)
        return match_tz_overlap_minutes(c->nc.who[n]->tz_offset_min, c->mt.who[m]->tz_offset_min);
    return c->tz.overlap[a * TZ_MAX + b];
}

static int
cmp_by_count(const void *a, const void *b, void *counts)
{
    const int32_t *count = counts;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (count[x] != count[y])
        return (count[x] < count[y]) - (count[x] > count[y]);
    return (x > y) - (x < y);
}

/* The bits of struct tag_bits: words by how many mentors have them, most first. */
static int
tag_bits_build(struct ctx *c)
{
    size_t n_words = c->words.norm.len;
    const struct feature *t = &c->mt.tags;
    int32_t *count = calloc(n_words + 1, sizeof(*count));
    int32_t *rank = malloc((n_words + 1) * sizeof(*rank));
    c->tb.bit = calloc(n_words + 1, 1);
    c->tb.mentor = malloc(((size_t)c->mt.n + 1) * sizeof(*c->tb.mentor));
    int rc = count != NULL && rank != NULL && c->tb.bit != NULL && c->tb.mentor != NULL ? 0 : -1;
    if (rc == 0) {
        for (int32_t k = 0; k < t->off[c->mt.n]; k++)
            count[t->ids[k]]++;
        for (size_t w = 0; w < n_words; w++)
            rank[w] = (int32_t)w;
        qsort_r(rank, n_words, sizeof(*rank), cmp_by_count, count);
        for (size_t r = 0; r < n_words; r++)
            c->tb.bit[rank[r]] = (uint8_t)(r % 64);
        for (int32_t m = 0; m < c->mt.n; m++) {
            uint64_t mask = 0;
            for (int32_t k = t->off[m]; k < t->off[m + 1]; k++)
                mask |= UINT64_C(1) << c->tb.bit[t->ids[k]];
            c->tb.mentor[m] = mask;
        }
    }
    free(count);
    free(rank);
    return rc;
}

static struct marks *
marks_new(const struct ctx *c)
{
    struct marks *mk = calloc(1, sizeof(*mk));
    if (mk == NULL)
        return NULL;
    mk->word = calloc(c->words.norm.len + 1, 1);
    mk->lang = calloc(c->languages.norm.len + 1, 1);
    mk->who = -1;
    return mk;
}

static int
marks_build(struct ctx *c)
{
    c->mk = marks_new(c);
    c->mm = marks_new(c);
    return c->mk != NULL && c->mk->word != NULL && c->mk->lang != NULL && c->mm != NULL &&
                   c->mm->word != NULL && c->mm->lang != NULL
               ? 0
               : -1;
}

static int
ctx_init(struct ctx *c, const struct match_input *in, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->in = in;
    if (in->weights != NULL)
        c->w = *in->weights;
    else
        match_weights_default(&c->w);
    c->words.syn = in->synonyms;
    c->words.n_syn = in->n_synonyms;
    if (check_weights(&c->w, err, errlen) != 0 || select_people(c, err, errlen) != 0)
        return -1;
    c->days = malloc(((size_t)c->nc.n + 1) * sizeof(*c->days));
    c->score = malloc(((size_t)c->nc.n + 1) * sizeof(*c->score));
    c->assign = malloc(((size_t)c->nc.n + 1) * sizeof(*c->assign));
    if (c->days == NULL || c->score == NULL || c->assign == NULL || build_blocked(c) != 0 ||
        build_side(c, &c->nc) != 0 || build_side(c, &c->mt) != 0 || tz_build(c) != 0 ||
        marks_build(c) != 0 || tag_bits_build(c) != 0) {
        set_err(err, errlen, "match: out of memory for %zu members", in->n_people);
        return -1;
    }
    for (int32_t i = 0; i < c->nc.n; i++) {
        c->days[i] = wait_days(c->nc.who[i], in->now, &c->w);
        c->assign[i] = -1;
        c->score[i] = 0;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* candidates                                                         */
/* ------------------------------------------------------------------ */

static int
count_shared(const struct feature *a, int32_t i, const struct feature *b, int32_t j)
{
    const int32_t *x = a->ids + a->off[i], *xe = a->ids + a->off[i + 1];
    const int32_t *y = b->ids + b->off[j], *ye = b->ids + b->off[j + 1];
    int n = 0;
    while (x < xe && y < ye) {
        if (*x < *y)
            x++;
        else if (*y < *x)
            y++;
        else
            n++, x++, y++;
    }
    return n;
}

static void
mark_ids(uint8_t *mark, const struct feature *f, int32_t i, uint8_t bit, int on)
{
    for (int32_t k = f->off[i]; k < f->off[i + 1]; k++)
        mark[f->ids[k]] = (uint8_t)(on ? mark[f->ids[k]] | bit : 0);
}

/* Mark person i of side s in mk (see struct marks); the previous one's are cleared. */
static void
mark_person(struct marks *mk, const struct side *s, int32_t i)
{
    if (mk->who == i)
        return;
    if (mk->who >= 0) {
        mark_ids(mk->word, &s->tags, mk->who, 1, 0);
        mark_ids(mk->word, &s->goals, mk->who, 2, 0);
        mark_ids(mk->lang, &s->langs, mk->who, 1, 0);
    }
    mark_ids(mk->word, &s->tags, i, 1, 1);
    mark_ids(mk->word, &s->goals, i, 2, 1);
    mark_ids(mk->lang, &s->langs, i, 1, 1);
    mk->who = i;
}

/* Bits set in x, without a library call (the build targets no particular CPU). */
static inline int
popcount64(uint64_t x)
{
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (int)((x * UINT64_C(0x0101010101010101)) >> 56);
}

static void
mark_newcomer_anew(const struct ctx *c, int32_t n)
{
    mark_person(c->mk, &c->nc, n);
    const struct feature *t = &c->nc.tags;
    uint64_t mask = 0;
    for (int32_t k = t->off[n]; k < t->off[n + 1]; k++)
        mask |= UINT64_C(1) << c->tb.bit[t->ids[k]];
    c->mk->tag_mask = mask;
    c->mk->tag_extra = (t->off[n + 1] - t->off[n]) - popcount64(mask);
}

/* Called for every pair looked at, mostly with the newcomer already marked. */
static inline void
mark_newcomer(const struct ctx *c, int32_t n)
{
    if (c->mk->who != n)
        mark_newcomer_anew(c, n);
}

/* At least the tags the marked newcomer shares with mentor m (struct tag_bits). */
static inline int
tags_at_most(const struct ctx *c, int32_t m)
{
    return popcount64(c->mk->tag_mask & c->tb.mentor[m]) + c->mk->tag_extra;
}

/* How many of mentor m's ids (distinct) carry the bit: the count shared with the marked newcomer.
 */
static int
count_marked(const uint8_t *mark, uint8_t bit, const struct feature *f, int32_t m)
{
    int n = 0;
    for (int32_t k = f->off[m]; k < f->off[m + 1]; k++)
        n += (mark[f->ids[k]] & bit) != 0;
    return n;
}

/* Tags newcomer n shares with mentor m. */
static int
shared_tags(const struct ctx *c, int32_t n, int32_t m)
{
    mark_newcomer(c, n);
    return count_marked(c->mk->word, 1, &c->mt.tags, m);
}

/* Score of newcomer n (marked) with mentor m sharing `tags` tags, or MATCH_FORBIDDEN. */
static int64_t
pair_score_tags(const struct ctx *c, int32_t n, int32_t m, int tags)
{
    int langs = count_marked(c->mk->lang, 1, &c->mt.langs, m);
    if (langs == 0 && c->w.require_common_language)
        return MATCH_FORBIDDEN;
    int goals = count_marked(c->mk->word, 2, &c->mt.goals, m);
    return compose_score(&c->w, tags, langs, tz_overlap(c, n, m), goals, c->days[n]);
}

struct cand {
    int64_t score;
    uint32_t tie; /* among equal scores, lower first (then lower who) */
    int32_t who;
};

static int
cand_better(const struct cand *a, const struct cand *b)
{
    if (a->score != b->score)
        return a->score > b->score;
    if (a->tie != b->tie)
        return a->tie < b->tie;
    return a->who < b->who;
}

/*
 * Tie-break of pair (n, m) among equal scores: a hash of both indexes (the
 * id order), so newcomers who rank many mentors equally do not all list the
 * same lowest-id ones (in a pool where everyone is alike that left most
 * mentors out of every candidate list).  Deterministic for the same people.
 */
static uint32_t
cand_tie(int32_t n, int32_t m)
{
    uint64_t x = ((uint64_t)(uint32_t)n << 32 | (uint32_t)m) * 0x9e3779b97f4a7c15ULL;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    return (uint32_t)(x >> 32);
}

/* Insert into a best-first list of at most room entries. */
static void
cand_insert(struct cand *list, int32_t *len, int32_t room, struct cand x)
{
    if (room == 0 || (*len == room && !cand_better(&x, &list[room - 1])))
        return;
    int32_t i = *len < room ? (*len)++ : room - 1;
    while (i > 0 && cand_better(&x, &list[i - 1])) {
        list[i] = list[i - 1];
        i--;
    }
    list[i] = x;
}

/*
 * What the candidates' hopeless test reads of mentor m, in one place: it
 * runs for about 190 mentors per newcomer in a large pool, and from separate
 * arrays each was a cache miss of its own.
 */
struct cand_hot {
    uint64_t mask;   /* tb.mentor[m] */
    int64_t r_floor; /* the top_r-th score once m's top_r is full, else INT64_MIN */
    int32_t goals;   /* m's goal count */
    int32_t stamp;   /* candidates_bounded: last newcomer + 1 that scored m */
    uint8_t zone;    /* tz.mt[m] */
};

/* Candidate search state: inverted index tag -> mentors for large pools. */
struct search {
    int32_t *post_off, *post; /* mentors per tag id */
    int32_t n_words;
    struct cand_hot *hot; /* per mentor */
    int32_t *stamp;       /* per mentor: last newcomer + 1 that touched it */
    int32_t *touched;
    struct cand *topk;
    struct cand *topr; /* mt.n * top_r */
    int32_t *topr_len;
    int64_t base;          /* the newcomer's base_of, in large pools */
    struct seg_entry *ent; /* candidates_bounded: segments by bound */
};

struct seg_entry {
    int64_t bound;
    int32_t seg;
};

static int32_t candidates_bounded(const struct ctx *c, struct search *s, int32_t n);
static int pricing_new(struct ctx *c);

static void
search_free(struct search *s)
{
    free(s->post_off);
    free(s->post);
    free(s->stamp);
    free(s->hot);
    free(s->touched);
    free(s->topk);
    free(s->topr);
    free(s->topr_len);
    free(s->ent);
}

static int
build_index(const struct ctx *c, struct search *s)
{
    s->n_words = (int32_t)c->words.norm.len;
    s->post_off = calloc((size_t)s->n_words + 2, sizeof(*s->post_off));
    s->post = malloc(((size_t)c->mt.tags.off[c->mt.n] + 1) * sizeof(*s->post));
    if (s->post_off == NULL || s->post == NULL)
        return -1;
    const struct feature *t = &c->mt.tags;
    for (int32_t k = 0; k < t->off[c->mt.n]; k++)
        s->post_off[t->ids[k] + 2]++;
    for (int32_t w = 0; w < s->n_words; w++)
        s->post_off[w + 2] += s->post_off[w + 1];
    for (int32_t m = 0; m < c->mt.n; m++) /* ascending mentor order per tag */
        for (int32_t k = t->off[m]; k < t->off[m + 1]; k++)
            s->post[s->post_off[t->ids[k] + 1]++] = m;
    return 0;
}

static int
search_init(const struct ctx *c, struct search *s)
{
    memset(s, 0, sizeof(*s));
    size_t m = (size_t)c->mt.n + 1, r = (size_t)c->w.top_r;
    s->stamp = calloc(m, sizeof(*s->stamp));
    s->touched = malloc(m * sizeof(*s->touched));
    s->topk = malloc((size_t)c->w.top_k * sizeof(*s->topk));
    s->topr = malloc((m * r + 1) * sizeof(*s->topr));
    s->topr_len = calloc(m, sizeof(*s->topr_len));
    s->hot = malloc(m * sizeof(*s->hot));
    if (s->stamp == NULL || s->touched == NULL || s->topk == NULL || s->topr == NULL ||
        s->topr_len == NULL || s->hot == NULL)
        return -1;
    for (int32_t j = 0; j < c->mt.n; j++)
        s->hot[j] = (struct cand_hot){.mask = c->tb.mentor[j],
                                      .r_floor = INT64_MIN,
                                      .goals = c->mt.goals.off[j + 1] - c->mt.goals.off[j],
                                      .stamp = 0,
                                      .zone = c->tz.mt[j]};
    if (c->pr != NULL) /* the pricing's lists order the search */
        return (s->ent = malloc(sizeof(*s->ent) * 65 * (TZ_MAX + 1))) != NULL ? 0 : -1;
    return c->mt.n > c->w.scan_limit ? build_index(c, s) : 0;
}

/* Mentors to score for newcomer n: all, or those sharing a tag, rarest tag first. */
static int32_t
gather(const struct ctx *c, struct search *s, int32_t n)
{
    if (c->mt.n <= c->w.scan_limit) {
        for (int32_t m = 0; m < c->mt.n; m++)
            s->touched[m] = m;
        return c->mt.n;
    }
    const struct feature *t = &c->nc.tags;
    int32_t nt = t->off[n + 1] - t->off[n], order[64], count = 0;
    for (int32_t i = 0; i < nt && i < 64; i++) { /* insertion sort by posting length */
        int32_t w = t->ids[t->off[n] + i], len = s->post_off[w + 1] - s->post_off[w], j = i;
        while (j > 0 && s->post_off[order[j - 1] + 1] - s->post_off[order[j - 1]] > len) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = w;
    }
    for (int32_t i = 0; i < nt && i < 64 && count < c->w.scan_limit; i++) {
        for (int32_t k = s->post_off[order[i]];
             k < s->post_off[order[i] + 1] && count < c->w.scan_limit; k++) {
            int32_t m = s->post[k];
            if (s->stamp[m] != n + 1) {
                s->stamp[m] = n + 1;
                s->touched[count++] = m;
            }
        }
    }
    return count;
}

static int64_t bound_in_zone(const struct ctx *c, const struct pricing *p, int64_t base, int32_t n,
                             int tags, int goals, uint8_t zm);

/*
 * Can pair (n, m) (n marked) not enter n's full top_k nor m's full top_r?
 * In a large pool its bound with the shared tags counted (no language, goals
 * or floating point) says so for most pairs the segments let through; the
 * tags' upper bound (tags_at_most) is tried before the count.  *tags is the
 * count when it was made, else left as it was.
 */
static int
cand_hopeless(const struct ctx *c, const struct search *s, int32_t n, int32_t m, int32_t k_len,
              int *tags)
{
    const struct cand_hot *h = &s->hot[m];
    if (c->pr == NULL || k_len < c->w.top_k || (c->w.top_r > 0 && h->r_floor == INT64_MIN))
        return 0;
    int ng = c->nc.goals.off[n + 1] - c->nc.goals.off[n];
    int64_t ub0 = bound_in_zone(c, c->pr, s->base, n, 0, ng < h->goals ? ng : h->goals, h->zone);
    int64_t lim = s->topk[k_len - 1].score;
    if (c->w.top_r > 0 && h->r_floor < lim)
        lim = h->r_floor; /* hopeless only below both */
    int64_t per_tag =
        bound_in_zone(c, c->pr, 0, n, 1, 0, h->zone) - bound_in_zone(c, c->pr, 0, n, 0, 0, h->zone);
    int at_most = popcount64(c->mk->tag_mask & h->mask) + c->mk->tag_extra; /* tags_at_most */
    if (ub0 + per_tag * at_most < lim)
        return 1; /* the bound grows with the tags: the count would say so too */
    *tags = count_marked(c->mk->word, 1, &c->mt.tags, m);
    return ub0 + per_tag * *tags < lim;
}

/* Score pair (n, m) into n's top_k and m's top_r. */
static void
cand_score(const struct ctx *c, struct search *s, int32_t n, int32_t m, int32_t *k_len)
{
    mark_newcomer(c, n);
    int tags = -1;
    if (cand_hopeless(c, s, n, m, *k_len, &tags))
        return;
    if (tags < 0)
        tags = count_marked(c->mk->word, 1, &c->mt.tags, m);
    int64_t sc = pair_score_tags(c, n, m, tags);
    if (sc == MATCH_FORBIDDEN || sc <= 0)
        return;
    uint32_t tie = cand_tie(n, m);
    struct cand x = {sc, tie, m}, y = {sc, tie, n};
    struct cand *r = s->topr + (size_t)m * (size_t)c->w.top_r;
    int k_in = *k_len < c->w.top_k || cand_better(&x, &s->topk[*k_len - 1]);
    int r_in =
        s->topr_len[m] < c->w.top_r || (c->w.top_r > 0 && cand_better(&y, &r[c->w.top_r - 1]));
    if ((!k_in && !r_in) || is_blocked(c, c->nc.who[n]->id, c->mt.who[m]->id))
        return;
    cand_insert(s->topk, k_len, c->w.top_k, x);
    cand_insert(r, &s->topr_len[m], c->w.top_r, y);
    if (c->w.top_r > 0 && s->topr_len[m] == c->w.top_r)
        s->hot[m].r_floor = r[c->w.top_r - 1].score;
}

/* Score newcomer n against its gathered mentors; fill topk and the mentors' top-r. */
static int32_t
score_newcomer(const struct ctx *c, struct search *s, int32_t n)
{
    if (c->pr != NULL)
        return candidates_bounded(c, s, n);
    int32_t count = gather(c, s, n), k_len = 0;
    for (int32_t i = 0; i < count; i++)
        cand_score(c, s, n, s->touched[i], &k_len);
    return k_len;
}

static int
has_arc(const struct ctx *c, int32_t first, int32_t last, int32_t node)
{
    for (int32_t a = first; a < last; a++)
        if (mcf_arc_head(c->graph, a) == node)
            return 1;
    return 0;
}

static int
add_mentor_arcs(struct ctx *c, const struct search *s, const int32_t *first_arc)
{
    int32_t N = c->nc.n, sink = N + c->mt.n;
    for (int32_t m = 0; m < c->mt.n; m++) {
        const struct cand *r = s->topr + (size_t)m * (size_t)c->w.top_r;
        for (int32_t i = 0; i < s->topr_len[m]; i++) {
            int32_t n = r[i].who;
            if (has_arc(c, first_arc[n], first_arc[n + 1], N + m))
                continue;
            if (mcf_add_arc(c->graph, n, N + m, 1, -r[i].score) < 0)
                return -1;
            c->n_candidates++;
        }
    }
    for (int32_t m = 0; m < c->mt.n; m++)
        for (int k = 1; k <= c->free_slots[m]; k++)
            if (mcf_add_arc(c->graph, N + m, sink, 1, match_slot_cost(c->mt.who[m], k, &c->w)) < 0)
                return -1;
    return 0;
}

static int
build_graph_arcs(struct ctx *c, struct search *s, int32_t *first_arc)
{
    int32_t N = c->nc.n, sink = N + c->mt.n;
    for (int32_t n = 0; n < N; n++) {
        first_arc[n] = mcf_n_arcs(c->graph);
        if (mcf_set_supply(c->graph, n, 1) != 0 || mcf_add_arc(c->graph, n, sink, 1, 0) < 0)
            return -1;
        int32_t k_len = score_newcomer(c, s, n);
        for (int32_t i = 0; i < k_len; i++)
            if (mcf_add_arc(c->graph, n, N + s->topk[i].who, 1, -s->topk[i].score) < 0)
                return -1;
        c->n_candidates += (size_t)k_len;
    }
    first_arc[N] = mcf_n_arcs(c->graph);
    if (mcf_set_supply(c->graph, sink, -N) != 0)
        return -1;
    return add_mentor_arcs(c, s, first_arc);
}

static int
build_graph(struct ctx *c, char *err, size_t errlen)
{
    size_t hint = (size_t)c->nc.n * ((size_t)c->w.top_k + 2) + (size_t)c->mt.n * 8 + 16;
    c->graph = mcf_new(c->nc.n + c->mt.n + 1, hint);
    struct search s;
    memset(&s, 0, sizeof(s));
    int32_t *first_arc = malloc(((size_t)c->nc.n + 1) * sizeof(*first_arc));
    int rc = -1;
    /* Large pools: candidates come from the pricing's lists, best bound first. */
    if (c->mt.n > c->w.scan_limit && pricing_new(c) != 0)
        first_arc = (free(first_arc), NULL);
    if (c->graph != NULL && first_arc != NULL && search_init(c, &s) == 0)
        rc = build_graph_arcs(c, &s, first_arc);
    search_free(&s);
    free(first_arc);
    if (rc != 0)
        set_err(err, errlen,
                "match: out of memory building the candidate graph (%" PRId32 " newcomers, %" PRId32
                " mentors)",
                c->nc.n, c->mt.n);
    return rc;
}

/* ------------------------------------------------------------------ */
/* assignment: flow or greedy                                         */
/* ------------------------------------------------------------------ */

static int
is_pair_arc(const struct ctx *c, int32_t a)
{
    int32_t t = mcf_arc_tail(c->graph, a), h = mcf_arc_head(c->graph, a);
    return t < c->nc.n && h >= c->nc.n && h < c->nc.n + c->mt.n;
}

/* mcf_each_flow's visitor: a pair arc with flow is an assignment. */
static void
assign_arc(void *arg, int32_t t, int32_t h, int32_t flow, int64_t cost)
{
    struct ctx *c = arg;
    (void)flow;
    if (t < c->nc.n && h >= c->nc.n && h < c->nc.n + c->mt.n) {
        c->assign[t] = h - c->nc.n;
        c->score[t] = -cost;
    }
}

static void
assign_from_flow(struct ctx *c)
{
    for (int32_t n = 0; n < c->nc.n; n++)
        c->assign[n] = -1;
    mcf_each_flow(c->graph, assign_arc, c);
}

static int
cmp_arc(const void *x, const void *y, void *graph)
{
    const struct mcf *sort_graph = graph;
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    int64_t ca = mcf_arc_cost(sort_graph, a), cb = mcf_arc_cost(sort_graph, b);
    if (ca != cb)
        return (ca > cb) - (ca < cb);
    int32_t ta = mcf_arc_tail(sort_graph, a), tb = mcf_arc_tail(sort_graph, b);
    if (ta != tb)
        return (ta > tb) - (ta < tb);
    return (mcf_arc_head(sort_graph, a) > mcf_arc_head(sort_graph, b)) -
           (mcf_arc_head(sort_graph, a) < mcf_arc_head(sort_graph, b));
}

static int
assign_greedy(struct ctx *c)
{
    int32_t n_arcs = mcf_n_arcs(c->graph), k = 0;
    int32_t *arcs = malloc(((size_t)n_arcs + 1) * sizeof(*arcs));
    int32_t *used = calloc((size_t)c->mt.n + 1, sizeof(*used));
    if (arcs == NULL || used == NULL) {
        free(arcs);
        free(used);
        return -1;
    }
    for (int32_t a = 0; a < n_arcs; a++)
        if (is_pair_arc(c, a))
            arcs[k++] = a;
    qsort_r(arcs, (size_t)k, sizeof(*arcs), cmp_arc, c->graph);
    for (int32_t i = 0; i < k; i++) {
        int32_t n = mcf_arc_tail(c->graph, arcs[i]), m = mcf_arc_head(c->graph, arcs[i]) - c->nc.n;
        int64_t gain = -mcf_arc_cost(c->graph, arcs[i]);
        if (c->assign[n] >= 0 || used[m] >= c->free_slots[m] ||
            gain - match_slot_cost(c->mt.who[m], used[m] + 1, &c->w) <= 0)
            continue;
        used[m]++;
        c->assign[n] = m;
        c->score[n] = gain;
    }
    free(arcs);
    free(used);
    return 0;
}

/* ------------------------------------------------------------------ */
/* pricing: the optimum over every eligible pair                      */
/* ------------------------------------------------------------------ */

/* A violating pair found from the mentor's side, and by how much (milli-points). */
struct found {
    int32_t n, m;
    int64_t viol;
};

/*
 * Lists of people by tag: one per tag id (the people who have it) and, last,
 * one of everyone.  Each list is cut into segments of one time zone (the
 * zone's overlap then bounds the whole segment).
 */
struct zlists {
    int32_t *post_off, *post; /* list l: post[post_off[l] .. post_off[l + 1]) */
    int32_t *seg_off;         /* list l: segments seg_off[l] .. seg_off[l + 1] - 1 */
    int32_t *seg_begin;       /* segment s: post[seg_begin[s] .. seg_begin[s + 1]) */
    uint8_t *seg_zone;
    int32_t n_segs;
};
static void zlists_free(struct zlists *zl);

/*
 * The candidate graph leaves most pairs out.  LP duality decides whether
 * that lost anything: with the solve's dual prices, y_n for newcomer n (its
 * share of the score) and z_m for a place with mentor m, a left-out pair can
 * improve the assignment only if score(n, m) > y_n + z_m (a negative reduced
 * cost).  Such pairs join the graph, the flow is solved again from the last
 * basis (mcf's warm start), and the round repeats until no pair is left:
 * then the prices prove the assignment optimal over every eligible pair (the
 * flow polytope is integral, so the LP optimum is the assignment optimum).
 *
 * The prices are the potentials, made as high as the current flow allows
 * (higher prices exclude more pairs): an unmatched newcomer gets y = 0 (its
 * "unmatched" arc carries flow, so y <= 0 is all the basis says) and a
 * mentor without new mentees gets z = the cost of their first new mentee.
 * Both keep every arc's optimality condition (checked: mcf_check with them).
 *
 * Bounds keep the pricing from scoring all N x M pairs: a pair sharing no
 * tag scores at most B0(n) (the language weight, 13 hours of shared time,
 * every goal of n shared, n's waiting bonus), one sharing tags at most B(n)
 * (B0 plus the tag weight times n's tags).  With the mentors sorted by z,
 * only mentors with z_m < B(n) - y_n on the lists of n's tags and those with
 * z_m < B0(n) - y_n on the whole list can violate: only they are scored.
 */
struct pricing {
    int64_t *y, *z; /* prices */
    /*
     * Lists of mentors: one per tag id (the mentors who have it) and, last,
     * one of every mentor.  Each list is cut into segments of one time zone
     * (the zone's overlap with the newcomer then bounds the whole segment),
     * and each segment is sorted by z ascending.
     */
    struct zlists ml;
    /*
     * Beside ml.post, in its order since the last sort: each mentor's z and
     * tag mask (struct tag_bits), so that the first pass's scan reads them
     * in sequence and rules out most pairs without touching the mentor.
     */
    int64_t *ml_z;
    uint64_t *ml_mask;
    int32_t n_words;
    int32_t *stamp;    /* per mentor: newcomer + 1 that last scored it */
    uint8_t *shared;   /* per mentor: tags shared with the newcomer (capped at 255) */
    int32_t *touched;  /* mentors with shared[] set */
    struct cand *best; /* one newcomer's most violated pairs, top_k at most */
    /*
     * Passes after the first (see pricing_pass): last pass's prices, the
     * newcomers to price in full, the mentors whose price went down.
     */
    int64_t *old_z; /* (a fallen y marks its newcomer full as it is set: no copy of y) */
    uint8_t *full;
    int32_t *down, n_down;
    int passes;
    /*
     * Those passes look from the side of the mentors whose price went down
     * (pricing_by_mentor): newcomers in lists by tag and zone (nl, built on
     * the first such pass), each segment's bound terms for all its
     * newcomers (the waiting days that score most, the most goals) and its
     * smallest y; the violators found, by newcomer; per newcomer the mentor
     * + 1 that last looked at it.
     */
    struct zlists nl;
    int64_t *nseg_days, *nseg_min_y;
    int32_t *nseg_goals, *nstamp;
    struct found *found;
    size_t n_found, found_room;
    /*
     * The per-pair bound in integer milli-points: each term rounded up
     * (ceil of its milli-points, 0 for a negative weight), + 2 for the
     * rounding of the score's own sum, so it is never below the score.
     */
    int64_t tag_m, goal_m, *tz_m; /* tz_m: per zone pair (TZ_MAX x TZ_MAX), then the widest */
    int64_t *base_days;           /* base_of by days waited (0..wait_max_days), or NULL */
    int64_t base;                 /* the current newcomer's language and waiting terms */
};

static int64_t
milli_up(double points)
{
    return points > 0 ? (int64_t)ceil(points * 1000.0) : 0;
}

static int64_t base_compute(const struct ctx *c, int64_t days);

static int
pricing_bound_terms(const struct ctx *c, struct pricing *p)
{
    const struct match_weights *w = &c->w;
    p->tz_m = malloc(sizeof(*p->tz_m) * (TZ_MAX * TZ_MAX + 1));
    if (p->tz_m == NULL)
        return -1;
    p->tag_m = milli_up(w->tag);
    p->goal_m = milli_up(w->goal);
    for (int32_t a = 0; a < c->tz.n; a++)
        for (int32_t b = 0; b < c->tz.n; b++)
            p->tz_m[a * TZ_MAX + b] =
                milli_up(w->tz_overlap * (c->tz.overlap[a * TZ_MAX + b] / 60.0));
    p->tz_m[TZ_MAX * TZ_MAX] = milli_up(w->tz_overlap * ((WAKE_END - WAKE_START) / 60.0));
    /* Days waited are capped at wait_max_days: a table unless that is very large. */
    if (w->wait_max_days <= 4096 &&
        (p->base_days = malloc(((size_t)w->wait_max_days + 1) * sizeof(*p->base_days))) != NULL)
        for (int d = 0; d <= w->wait_max_days; d++)
            p->base_days[d] = base_compute(c, d);
    return 0;
}

/* The terms that do not depend on the mentor of a newcomer who waited `days` (struct pricing). */
static int64_t
base_compute(const struct ctx *c, int64_t days)
{
    double wait = c->w.wait_bonus_per_day * (double)days;
    return milli_up(c->w.language) + (int64_t)ceil(wait * 1000.0) + 2;
}

/* base_compute for newcomer n, from the table when there is one (it runs for every pair found). */
static int64_t
base_of(const struct ctx *c, int32_t n)
{
    const struct pricing *p = c->pr;
    int64_t d = c->days[n];
    if (p != NULL && p->base_days != NULL && d >= 0 && d <= c->w.wait_max_days)
        return p->base_days[d];
    return base_compute(c, d);
}

static void
pricing_base(const struct ctx *c, struct pricing *p, int32_t n)
{
    p->base = base_of(c, n);
}

/*
 * The most newcomer n (base: base_of(n)) can score with a mentor in zone zm
 * sharing `tags` tags and `goals` goals: the per-pair bound's integer terms,
 * with no floating point in the lists' inner loops.
 */
static int64_t
bound_in_zone(const struct ctx *c, const struct pricing *p, int64_t base, int32_t n, int tags,
              int goals, uint8_t zm)
{
    uint8_t zn = c->tz.nc[n];
    int64_t tz =
        zn == TZ_MAX || zm == TZ_MAX ? p->tz_m[TZ_MAX * TZ_MAX] : p->tz_m[zn * TZ_MAX + zm];
    return base + p->tag_m * tags + p->goal_m * goals + tz;
}

/* The bound for pair (n, m) sharing `tags` tags, with pricing_base(n) set. */
static int64_t
pricing_pair_bound(const struct ctx *c, const struct pricing *p, int32_t n, int32_t m, int tags)
{
    int goals = c->nc.goals.off[n + 1] - c->nc.goals.off[n];
    int mg = c->mt.goals.off[m + 1] - c->mt.goals.off[m];
    uint8_t a = c->tz.nc[n], b = c->tz.mt[m];
    int64_t tz = a == TZ_MAX || b == TZ_MAX ? p->tz_m[TZ_MAX * TZ_MAX] : p->tz_m[a * TZ_MAX + b];
    return p->base + p->tag_m * tags + p->goal_m * (mg < goals ? mg : goals) + tz;
}

static void
pricing_free(struct pricing *p)
{
    free(p->y);
    free(p->z);
    zlists_free(&p->ml);
    zlists_free(&p->nl);
    free(p->ml_z);
    free(p->ml_mask);
    free(p->nseg_days);
    free(p->nseg_min_y);
    free(p->nseg_goals);
    free(p->nstamp);
    free(p->found);
    free(p->stamp);
    free(p->shared);
    free(p->touched);
    free(p->best);
    free(p->tz_m);
    free(p->base_days);
    free(p->old_z);
    free(p->full);
    free(p->down);
}

static int
cmp_by_zone(const void *a, const void *b, void *zones)
{
    const uint8_t *zone = zones;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (zone[x] != zone[y])
        return (zone[x] > zone[y]) - (zone[x] < zone[y]);
    return (x > y) - (x < y);
}

static void
zlists_free(struct zlists *zl)
{
    free(zl->post_off);
    free(zl->post);
    free(zl->seg_off);
    free(zl->seg_begin);
    free(zl->seg_zone);
}

/* The lists of n people with tags t (ids below n_words) in zones zone[] (see struct zlists). */
static int
zlists_build(struct zlists *zl, const struct feature *t, int32_t n, const uint8_t *zone,
             int32_t n_words)
{
    int32_t L = n_words + 1, total = t->off[n] + n;
    zl->post_off = calloc((size_t)L + 2, sizeof(*zl->post_off));
    zl->post = malloc(((size_t)total + 1) * sizeof(*zl->post));
    zl->seg_off = malloc(((size_t)L + 1) * sizeof(*zl->seg_off));
    if (zl->post_off == NULL || zl->post == NULL || zl->seg_off == NULL)
        return -1;
    for (int32_t k = 0; k < t->off[n]; k++)
        zl->post_off[t->ids[k] + 2]++;
    zl->post_off[n_words + 2] = n;
    for (int32_t l = 0; l < L; l++)
        zl->post_off[l + 2] += zl->post_off[l + 1];
    for (int32_t j = 0; j < n; j++) {
        for (int32_t k = t->off[j]; k < t->off[j + 1]; k++)
            zl->post[zl->post_off[t->ids[k] + 1]++] = j;
        zl->post[zl->post_off[n_words + 1]++] = j;
    }
    size_t segs = 0;
    for (int32_t l = 0; l < L; l++) {
        int32_t from = zl->post_off[l], to = zl->post_off[l + 1];
        qsort_r(zl->post + from, (size_t)(to - from), sizeof(*zl->post), cmp_by_zone, (void *)zone);
        for (int32_t k = from; k < to; k++)
            segs += k == from || zone[zl->post[k]] != zone[zl->post[k - 1]];
    }
    /* Sized to the segments, not the entries: the newcomers' lists are long. */
    zl->seg_begin = malloc((segs + 1) * sizeof(*zl->seg_begin));
    zl->seg_zone = malloc(segs + 1);
    if (zl->seg_begin == NULL || zl->seg_zone == NULL)
        return -1;
    zl->n_segs = 0;
    for (int32_t l = 0; l < L; l++) {
        int32_t from = zl->post_off[l], to = zl->post_off[l + 1];
        zl->seg_off[l] = zl->n_segs;
        for (int32_t k = from; k < to; k++) {
            if (k > from && zone[zl->post[k]] == zone[zl->post[k - 1]])
                continue;
            zl->seg_begin[zl->n_segs] = k;
            zl->seg_zone[zl->n_segs++] = zone[zl->post[k]];
        }
    }
    zl->seg_off[L] = zl->n_segs;
    zl->seg_begin[zl->n_segs] = total;
    return 0;
}

static int
pricing_init(const struct ctx *c, struct pricing *p)
{
    size_t n = (size_t)c->nc.n + 1, m = (size_t)c->mt.n + 1;
    memset(p, 0, sizeof(*p));
    p->n_words = (int32_t)c->words.norm.len;
    p->y = malloc(n * sizeof(*p->y));
    p->z = malloc(m * sizeof(*p->z));
    p->stamp = calloc(m, sizeof(*p->stamp));
    p->best = malloc((size_t)c->w.top_k * sizeof(*p->best));
    p->old_z = malloc(m * sizeof(*p->old_z));
    p->full = calloc(n, 1);
    p->down = malloc(m * sizeof(*p->down));
    if (p->y == NULL || p->z == NULL || p->stamp == NULL || p->best == NULL || p->old_z == NULL ||
        p->full == NULL || p->down == NULL ||
        zlists_build(&p->ml, &c->mt.tags, c->mt.n, c->tz.mt, p->n_words) != 0 ||
        pricing_bound_terms(c, p) != 0)
        return -1;
    size_t entries = (size_t)p->ml.seg_begin[p->ml.n_segs] + 1;
    p->ml_z = malloc(entries * sizeof(*p->ml_z));
    p->ml_mask = malloc(entries * sizeof(*p->ml_mask));
    return p->ml_z != NULL && p->ml_mask != NULL ? 0 : -1;
}

static int
cmp_by_z(const void *a, const void *b, void *zs)
{
    const int64_t *z = zs;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (z[x] != z[y])
        return (z[x] > z[y]) - (z[x] < z[y]);
    return (x > y) - (x < y);
}

/* Prices y, z from the flow's potentials, raised as far as the flow allows (see above). */
static void
pricing_raise(struct ctx *c, struct pricing *p)
{
    int32_t N = c->nc.n, M = c->mt.n;
    int64_t base = mcf_potential(c->graph, N + M);
    for (int32_t j = 0; j < M; j++)
        p->z[j] = base - mcf_potential(c->graph, N + j);
    for (int32_t n = 0; n < N; n++) {
        int64_t y = c->assign[n] < 0 ? 0 : mcf_potential(c->graph, n) - base;
        if (c->assign[n] >= 0)
            p->stamp[c->assign[n]] = -1;            /* has a new mentee */
        p->full[n] |= p->passes > 0 && y < p->y[n]; /* see pricing_pass */
        p->y[n] = y;
    }
    for (int32_t j = 0; j < M; j++) {
        if (p->stamp[j] != -1)
            p->z[j] = match_slot_cost(c->mt.who[j], 1, &c->w);
        p->stamp[j] = 0;
    }
}

/* Prices from the potentials as they are: the fallback when raised ones fail the check. */
static void
pricing_plain(struct ctx *c, struct pricing *p)
{
    int32_t N = c->nc.n, M = c->mt.n;
    int64_t base = mcf_potential(c->graph, N + M);
    for (int32_t n = 0; n < N; n++)
        p->y[n] = mcf_potential(c->graph, n) - base;
    for (int32_t j = 0; j < M; j++)
        p->z[j] = base - mcf_potential(c->graph, N + j);
    p->passes = 0; /* new prices, not lower ones: the next pass prices everyone */
}

/* Do the prices prove the candidate graph's flow optimal (mcf_check)?  0, or -1 with why. */
static int
pricing_check(const struct ctx *c, const struct pricing *p, char *why, size_t whylen)
{
    int32_t N = c->nc.n, M = c->mt.n;
    int64_t *pot = malloc(((size_t)N + (size_t)M + 1) * sizeof(*pot));
    if (pot == NULL) {
        snprintf(why, whylen, "out of memory for the certificate");
        return -1;
    }
    for (int32_t n = 0; n < N; n++)
        pot[n] = p->y[n];
    for (int32_t j = 0; j < M; j++)
        pot[N + j] = -p->z[j];
    pot[N + M] = 0;
    int rc = mcf_check(c->graph, NULL, pot, why, whylen);
    free(pot);
    return rc;
}

/* With new prices: the mentor lists in z order, and which prices fell since the last pass. */
static void
pricing_order(struct ctx *c, struct pricing *p)
{
    int32_t M = c->mt.n;
    for (int32_t g = 0; g < p->ml.n_segs; g++)
        qsort_r(p->ml.post + p->ml.seg_begin[g],
                (size_t)(p->ml.seg_begin[g + 1] - p->ml.seg_begin[g]), sizeof(*p->ml.post),
                cmp_by_z, p->z);
    for (int32_t k = 0; k < p->ml.seg_begin[p->ml.n_segs]; k++) {
        p->ml_z[k] = p->z[p->ml.post[k]];
        p->ml_mask[k] = c->tb.mentor[p->ml.post[k]];
    }
    p->n_down = 0;
    for (int32_t j = 0; p->passes > 0 && j < M; j++)
        if (p->z[j] < p->old_z[j])
            p->down[p->n_down++] = j;
    memcpy(p->old_z, p->z, (size_t)M * sizeof(*p->z));
}

/* By how much pair (n, m) violates its prices (0: not), with pricing_base(n) set. */
static int64_t
pricing_violation(const struct ctx *c, const struct pricing *p, int32_t n, int32_t m,
                  size_t *scored)
{
    /*
     * The bound with the pair's own tag count, zone and goal count, then
     * forbidden without a shared language: both cheaper than a score, and
     * the bound rules out most pairs the lists let through.
     */
    mark_newcomer(c, n);
    if (pricing_pair_bound(c, p, n, m, tags_at_most(c, m)) - p->y[n] <= p->z[m])
        return 0; /* (the bound grows with the tags: the exact count would rule it out too) */
    int tags = shared_tags(c, n, m);
    if (pricing_pair_bound(c, p, n, m, tags) - p->y[n] <= p->z[m])
        return 0;
    if (c->w.require_common_language && count_marked(c->mk->lang, 1, &c->mt.langs, m) == 0)
        return 0;
    (*scored)++;
    int64_t sc = pair_score_tags(c, n, m, tags);
    if (sc == MATCH_FORBIDDEN || sc <= 0 || sc - p->y[n] - p->z[m] <= 0 ||
        is_blocked(c, c->nc.who[n]->id, c->mt.who[m]->id))
        return 0;
    return sc - p->y[n] - p->z[m];
}

/* Score pair (n, m) once per newcomer; keep it when it violates. */
static void
pricing_consider(const struct ctx *c, struct pricing *p, int32_t n, int32_t m, int32_t *len,
                 size_t *scored)
{
    if (p->stamp[m] == n + 1)
        return;
    p->stamp[m] = n + 1;
    int64_t v = pricing_violation(c, p, n, m, scored);
    if (v > 0) {
        struct cand x = {v, 0, m};
        cand_insert(p->best, len, c->w.top_k, x);
    }
}

/*
 * Read one list's segments, each while z < its bound minus y_n.  A mentor
 * whose bound with the tags' upper bound (tags_at_most, n's own goal count)
 * is not above y_n + z is passed over at once: pricing_violation would rule
 * it out by that bound wherever it is met, so leaving it unstamped changes
 * nothing.
 */
static void
pricing_list(const struct ctx *c, struct pricing *p, int32_t n, int32_t l, int tags, int32_t *len,
             size_t *scored)
{
    int goals = c->nc.goals.off[n + 1] - c->nc.goals.off[n];
    mark_newcomer(c, n);
    uint64_t mask = c->mk->tag_mask;
    int extra = c->mk->tag_extra;
    for (int32_t g = p->ml.seg_off[l]; g < p->ml.seg_off[l + 1]; g++) {
        int64_t lim = bound_in_zone(c, p, p->base, n, tags, goals, p->ml.seg_zone[g]) - p->y[n];
        int64_t lim0 = bound_in_zone(c, p, p->base, n, 0, goals, p->ml.seg_zone[g]) - p->y[n];
        for (int32_t k = p->ml.seg_begin[g]; k < p->ml.seg_begin[g + 1] && p->ml_z[k] < lim; k++)
            if (lim0 + p->tag_m * (popcount64(mask & p->ml_mask[k]) + extra) > p->ml_z[k])
                pricing_consider(c, p, n, p->ml.post[k], len, scored);
    }
}

/* Person i's tag ids in t (64 at most), most common in zl first; returns how many. */
static int32_t
order_tags(const struct feature *t, int32_t i, const struct zlists *zl, int32_t *order)
{
    int32_t n_tags = t->off[i + 1] - t->off[i];
    if (n_tags > 64)
        n_tags = 64; /* the others count in the list of everyone's bound */
    for (int32_t k = 0; k < n_tags; k++) {
        int32_t w = t->ids[t->off[i] + k], size = zl->post_off[w + 1] - zl->post_off[w], j = k;
        while (j > 0 && zl->post_off[order[j - 1] + 1] - zl->post_off[order[j - 1]] < size) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = w;
    }
    return n_tags;
}

/* Newcomer n's tag ids (64 at most), most common among the mentors first. */
static int32_t
tag_order(const struct ctx *c, const struct pricing *p, int32_t n, int32_t *order)
{
    return order_tags(&c->nc.tags, n, &p->ml, order);
}

/*
 * Pairs of newcomer n that violate, most violated first (top_k at most).
 *
 * A mentor sharing r of n's tags can only violate if z_m < B_r - y_n (B_r:
 * the bound with r shared tags, and the zone's overlap).  Of those r tags,
 * the rarest is at place r or later when n's tags are ordered most common
 * first; so the list of the i-th most common tag is read only while z <
 * B_i - y_n, and every mentor that can violate is still met (prefix
 * filtering: the long lists of common tags are read least).  Mentors
 * sharing no tag are on the list of all mentors, read while z < B_0 - y_n.
 */
static int32_t
pricing_newcomer(const struct ctx *c, struct pricing *p, int32_t n, size_t *scored)
{
    const struct feature *t = &c->nc.tags;
    int32_t len = 0, order[64], n_tags = tag_order(c, p, n, order);
    int all_tags = t->off[n + 1] - t->off[n];
    for (int32_t i = 0; i < n_tags; i++)
        pricing_list(c, p, n, order[i], i + 1, &len, scored);
    pricing_list(c, p, n, p->n_words, all_tags > 64 ? all_tags : 0, &len, scored);
    return len;
}

/*
 * pricing_violation with mentor m marked instead of newcomer n (one mentor
 * meets many newcomers here); the counts are the same intersections.
 */
static int64_t
pricing_violation_of_mentor(const struct ctx *c, const struct pricing *p, int32_t n, int32_t m,
                            size_t *scored)
{
    mark_person(c->mm, &c->mt, m);
    int tags = count_marked(c->mm->word, 1, &c->nc.tags, n);
    if (pricing_pair_bound(c, p, n, m, tags) - p->y[n] <= p->z[m])
        return 0;
    int langs = count_marked(c->mm->lang, 1, &c->nc.langs, n);
    if (langs == 0 && c->w.require_common_language)
        return 0;
    (*scored)++;
    int goals = count_marked(c->mm->word, 2, &c->nc.goals, n);
    int64_t sc = compose_score(&c->w, tags, langs, tz_overlap(c, n, m), goals, c->days[n]);
    if (sc <= 0 || sc - p->y[n] - p->z[m] <= 0 || is_blocked(c, c->nc.who[n]->id, c->mt.who[m]->id))
        return 0;
    return sc - p->y[n] - p->z[m];
}

/* Keep pair (n, m) in found when it violates; once per mentor and newcomer. 0 or -1. */
static int
pricing_found(const struct ctx *c, struct pricing *p, int32_t n, int32_t m, size_t *scored)
{
    if (p->nstamp[n] == m + 1 || p->full[n]) /* a full newcomer is priced in full */
        return 0;
    p->nstamp[n] = m + 1;
    pricing_base(c, p, n);
    int64_t v = pricing_violation_of_mentor(c, p, n, m, scored);
    if (v <= 0)
        return 0;
    if (p->n_found == p->found_room) {
        size_t room = p->found_room ? 2 * p->found_room : 1024;
        struct found *grown = realloc(p->found, room * sizeof(*grown));
        if (grown == NULL)
            return -1;
        p->found = grown;
        p->found_room = room;
    }
    p->found[p->n_found++] = (struct found){n, m, v};
    return 0;
}

/*
 * The newcomers' lists (see struct pricing) and each segment's bound terms:
 * the waiting days whose term is largest and the most goals of its members.
 */
static int
pricing_newcomer_lists(const struct ctx *c, struct pricing *p)
{
    size_t n = (size_t)c->nc.n + 1;
    if (zlists_build(&p->nl, &c->nc.tags, c->nc.n, c->tz.nc, p->n_words) != 0)
        return -1;
    size_t segs = (size_t)p->nl.n_segs + 1;
    p->nseg_days = malloc(segs * sizeof(*p->nseg_days));
    p->nseg_min_y = malloc(segs * sizeof(*p->nseg_min_y));
    p->nseg_goals = malloc(segs * sizeof(*p->nseg_goals));
    p->nstamp = calloc(n, sizeof(*p->nstamp));
    if (p->nseg_days == NULL || p->nseg_min_y == NULL || p->nseg_goals == NULL || p->nstamp == NULL)
        return -1;
    int most = c->w.wait_bonus_per_day >= 0; /* a negative bonus scores most at the least wait */
    for (int32_t g = 0; g < p->nl.n_segs; g++) {
        int64_t days = -1;
        int32_t goals = 0;
        for (int32_t k = p->nl.seg_begin[g]; k < p->nl.seg_begin[g + 1]; k++) {
            int32_t i = p->nl.post[k], gi = c->nc.goals.off[i + 1] - c->nc.goals.off[i];
            if (days < 0 || (most ? c->days[i] > days : c->days[i] < days))
                days = c->days[i];
            goals = gi > goals ? gi : goals;
        }
        p->nseg_days[g] = days < 0 ? 0 : days;
        p->nseg_goals[g] = goals;
    }
    return 0;
}

/* Read newcomer list l's segments for mentor m, each while y < its bound with `tags` minus z_m. */
static int
pricing_mentor_list(const struct ctx *c, struct pricing *p, int32_t m, int32_t l, int tags,
                    size_t *scored)
{
    const struct zlists *nl = &p->nl;
    const struct match_weights *w = &c->w;
    int mg = c->mt.goals.off[m + 1] - c->mt.goals.off[m];
    uint8_t zm = c->tz.mt[m];
    for (int32_t g = nl->seg_off[l]; g < nl->seg_off[l + 1]; g++) {
        uint8_t zn = nl->seg_zone[g];
        int overlap =
            zn == TZ_MAX || zm == TZ_MAX ? WAKE_END - WAKE_START : c->tz.overlap[zn * TZ_MAX + zm];
        int goals = p->nseg_goals[g] < mg ? p->nseg_goals[g] : mg;
        int64_t lim = compose_score(w, w->tag > 0 ? tags : 0, w->language > 0,
                                    w->tz_overlap > 0 ? overlap : 0, w->goal > 0 ? goals : 0,
                                    p->nseg_days[g]) +
                      1 - p->z[m];
        if (lim <= p->nseg_min_y[g])
            continue;
        for (int32_t k = nl->seg_begin[g]; k < nl->seg_begin[g + 1]; k++)
            if (p->y[nl->post[k]] < lim && pricing_found(c, p, nl->post[k], m, scored) != 0)
                return -1;
    }
    return 0;
}

/*
 * Mentor m against every newcomer that is not priced in full, from m's side:
 * the same prefix filtering as pricing_newcomer with the roles swapped (a
 * newcomer sharing r of m's tags is met in the list of its rarest shared
 * tag, read while y_n < B_r - z_m).  Newcomers sharing no tag with m are
 * read from everyone only when the widest such bound leaves room.
 */
static int
pricing_by_mentor(const struct ctx *c, struct pricing *p, int32_t m, size_t *scored)
{
    const struct match_weights *w = &c->w;
    int32_t order[64], n_tags = order_tags(&c->mt.tags, m, &p->nl, order);
    int32_t all_tags = c->mt.tags.off[m + 1] - c->mt.tags.off[m];
    for (int32_t i = 0; i < n_tags; i++)
        if (pricing_mentor_list(c, p, m, order[i], i + 1, scored) != 0)
            return -1;
    /* No shared tag (or more than 64): everyone, at the widest bound of all newcomers. */
    int64_t days = -1, min_y = INT64_MAX;
    int goals = 0, mg = c->mt.goals.off[m + 1] - c->mt.goals.off[m];
    for (int32_t g = 0; g < p->nl.n_segs; g++) {
        if (days < 0 ||
            (w->wait_bonus_per_day >= 0 ? p->nseg_days[g] > days : p->nseg_days[g] < days))
            days = p->nseg_days[g];
        goals = p->nseg_goals[g] > goals ? p->nseg_goals[g] : goals;
        min_y = p->nseg_min_y[g] < min_y ? p->nseg_min_y[g] : min_y;
    }
    int tags = all_tags > 64 ? all_tags : 0;
    int64_t lim = compose_score(w, w->tag > 0 ? tags : 0, w->language > 0,
                                w->tz_overlap > 0 ? WAKE_END - WAKE_START : 0,
                                w->goal > 0 ? (goals < mg ? goals : mg) : 0, days < 0 ? 0 : days) +
                  1 - p->z[m];
    for (int32_t n = 0; lim > min_y && n < c->nc.n; n++)
        if (p->y[n] < lim && pricing_found(c, p, n, m, scored) != 0)
            return -1;
    return 0;
}

static int
cmp_found(const void *a, const void *b)
{
    const struct found *x = a, *y = b;
    if (x->n != y->n)
        return (x->n > y->n) - (x->n < y->n);
    return (x->m > y->m) - (x->m < y->m);
}

/* The pairs of the mentors whose price went down that violate, by newcomer, in found. */
static int
pricing_by_mentors(const struct ctx *c, struct pricing *p, size_t *scored)
{
    p->n_found = 0;
    if (p->n_down == 0) /* only the full newcomers are priced this pass */
        return 0;
    if (p->nl.post == NULL && pricing_newcomer_lists(c, p) != 0)
        return -1;
    for (int32_t g = 0; g < p->nl.n_segs; g++) {
        int64_t min_y = INT64_MAX;
        for (int32_t k = p->nl.seg_begin[g]; k < p->nl.seg_begin[g + 1]; k++)
            if (p->y[p->nl.post[k]] < min_y)
                min_y = p->y[p->nl.post[k]];
        p->nseg_min_y[g] = min_y;
    }
    memset(p->nstamp, 0, ((size_t)c->nc.n + 1) * sizeof(*p->nstamp));
    for (int32_t i = 0; i < p->n_down; i++)
        if (pricing_by_mentor(c, p, p->down[i], scored) != 0)
            return -1;
    if (p->n_found > 0) /* found is NULL until the first */
        qsort(p->found, p->n_found, sizeof(*p->found), cmp_found);
    return 0;
}

/*
 * One pricing pass: violating pairs join the graph.  Returns how many, or -1.
 *
 * The first pass prices every newcomer.  Later passes use what the last one
 * proved: a pair found not to violate (or bounded out) still does not while
 * neither its newcomer's nor its mentor's price went down.  So a newcomer
 * is priced in full only when its price went down or its last pass hit the
 * top_k cap (more violators may be left); every other newcomer is priced
 * only against the mentors whose price went down (few: a warm re-solve moves
 * few prices down).  By induction over the passes, a last pass that finds
 * nothing proves that no eligible pair violates.
 */
static int64_t
pricing_pass(struct ctx *c, struct pricing *p, size_t *scored)
{
    int64_t added = 0;
    int all = p->passes == 0 || p->n_down > c->mt.n / 4;
    size_t f = 0;
    if (!all && pricing_by_mentors(c, p, scored) != 0)
        return -1;
    for (int32_t n = 0; n < c->nc.n; n++) {
        int32_t len = 0;
        pricing_base(c, p, n);
        if (all || p->full[n]) {
            len = pricing_newcomer(c, p, n, scored);
        } else {
            for (; f < p->n_found && p->found[f].n == n; f++) {
                struct cand x = {p->found[f].viol, 0, p->found[f].m};
                cand_insert(p->best, &len, c->w.top_k, x);
            }
        }
        p->full[n] = len == c->w.top_k;
        for (int32_t i = 0; i < len; i++) {
            int32_t m = p->best[i].who;
            int64_t sc = p->best[i].score + p->y[n] + p->z[m]; /* the violation back to a score */
            if (mcf_add_arc(c->graph, n, c->nc.n + m, 1, -sc) < 0)
                return -1;
        }
        added += len;
    }
    p->passes++;
    return added;
}

/* The pricing state in c->pr (the lists are built once per round). */
static int
pricing_new(struct ctx *c)
{
    c->pr = calloc(1, sizeof(*c->pr));
    if (c->pr == NULL)
        return -1;
    return pricing_init(c, c->pr);
}

/* Segment entries come highest bound first, then lower segment number. */
static int
ent_before(const struct seg_entry *x, const struct seg_entry *y)
{
    return x->bound != y->bound ? x->bound > y->bound : x->seg < y->seg;
}

/*
 * The entries as a heap: a newcomer's candidates usually come from its first
 * few segments, so sorting all of them (qsort, about 75 each) cost more than
 * popping the few that are read.
 */
static void
ent_sift(struct seg_entry *h, int32_t n, int32_t i)
{
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, top = i;
        if (l < n && ent_before(&h[l], &h[top]))
            top = l;
        if (r < n && ent_before(&h[r], &h[top]))
            top = r;
        if (top == i)
            return;
        struct seg_entry t = h[i];
        h[i] = h[top];
        h[top] = t;
        i = top;
    }
}

static struct seg_entry
ent_pop(struct seg_entry *h, int32_t *n)
{
    struct seg_entry top = h[0];
    h[0] = h[--*n];
    ent_sift(h, *n, 0);
    return top;
}

/* n's lists' segments into s->ent with their bounds, as a heap (ent_pop); returns how many. */
static int32_t
candidate_segments(const struct ctx *c, struct search *s, int32_t n)
{
    const struct pricing *p = c->pr;
    int32_t order[64], n_tags = tag_order(c, p, n, order), count = 0;
    int32_t all_tags = c->nc.tags.off[n + 1] - c->nc.tags.off[n];
    int goals = c->nc.goals.off[n + 1] - c->nc.goals.off[n];
    int64_t base = base_of(c, n);
    for (int32_t i = 0; i <= n_tags; i++) {
        int32_t l = i < n_tags ? order[i] : p->n_words;
        int tags = i < n_tags ? i + 1 : all_tags > 64 ? all_tags : 0;
        for (int32_t g = p->ml.seg_off[l]; g < p->ml.seg_off[l + 1]; g++) {
            s->ent[count].bound = bound_in_zone(c, p, base, n, tags, goals, p->ml.seg_zone[g]);
            s->ent[count++].seg = g;
        }
    }
    for (int32_t i = count / 2 - 1; i >= 0; i--)
        ent_sift(s->ent, count, i);
    return count;
}

/*
 * Candidates of newcomer n in a large pool: the mentor lists of its tags and
 * the list of all mentors, cut by time zone (the pricing's, see there), read
 * segment by segment from the highest score bound down.  The bounds are the
 * pricing's (prefix filtering: a mentor is met in the list of its rarest
 * shared tag, whose bound holds for it), so once the next segment's bound is
 * below n's top_k-th score no unread mentor can enter: the top_k are exact,
 * unless scan_limit mentors were scored first.  Either way the pricing then
 * covers every pair left out.
 */
static int32_t
candidates_bounded(const struct ctx *c, struct search *s, int32_t n)
{
    const struct pricing *p = c->pr;
    int32_t count = candidate_segments(c, s, n), k_len = 0, scored = 0;
    s->base = base_of(c, n);
    while (count > 0 && scored < c->w.scan_limit) {
        struct seg_entry e = ent_pop(s->ent, &count);
        if (k_len == c->w.top_k && e.bound < s->topk[k_len - 1].score)
            break;
        int32_t g = e.seg, from = p->ml.seg_begin[g], len = p->ml.seg_begin[g + 1] - from;
        /*
         * Within a segment every mentor has the same bound: start at a place
         * of the newcomer's own, so that where scan_limit cuts, newcomers who
         * rank mentors alike still look at different ones.
         */
        int32_t start = (int32_t)(cand_tie(n, g) % (uint32_t)len);
        for (int32_t i = 0, k = start; i < len && scored < c->w.scan_limit; i++, k++) {
            if (k == len)
                k = 0; /* (start + i) % len without a division per mentor */
            int32_t m = p->ml.post[from + k];
            if (s->hot[m].stamp == n + 1)
                continue;
            s->hot[m].stamp = n + 1;
            scored++;
            cand_score(c, s, n, m, &k_len);
        }
    }
    return k_len;
}

/* ------------------------------------------------------------------ */
/* reasons                                                            */
/* ------------------------------------------------------------------ */

struct text {
    char *buf;
    size_t len, room;
};

static int
text_add(struct text *t, const char *s)
{
    size_t n = strlen(s) + 1;
    if (t->len + n > t->room) {
        size_t room = t->room == 0 ? 4096 : t->room;
        while (t->len + n > room)
            room *= 2;
        char *p = realloc(t->buf, room);
        if (p == NULL)
            return -1;
        t->buf = p;
        t->room = room;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    return 0;
}

/* The newcomer's own spellings of names both share, up to max, in their order. */
static int
shared_spellings(struct vocab *v, const char *const *list, size_t n, const struct feature *f,
                 int32_t who, const char **out, int max)
{
    int count = 0;
    int32_t seen[8];
    for (size_t i = 0; i < n && count < max; i++) {
        int32_t id;
        if (vocab_id(v, list[i], &id) != 0 || id < 0)
            continue;
        int dup = 0;
        for (int j = 0; j < count; j++)
            dup |= seen[j] == id;
        if (!dup && bsearch(&id, f->ids + f->off[who], (size_t)(f->off[who + 1] - f->off[who]),
                            sizeof(int32_t), cmp_i32) != NULL) {
            seen[count] = id;
            out[count++] = list[i];
        }
    }
    return count;
}

/* "A", "A and B", "A, B and C" */
static void
join_names(char *out, size_t len, const char **names, int n)
{
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : i == n - 1 ? " and " : ", ";
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", sep, names[i]);
    }
}

static void
tz_phrase(char *out, size_t len, int a, int b)
{
    static const char *const words[] = {"zero",  "one",   "two",  "three", "four",   "five",  "six",
                                        "seven", "eight", "nine", "ten",   "eleven", "twelve"};
    int d = abs(a - b) % 1440;
    if (d > 720)
        d = 1440 - d;
    if (d == 0)
        snprintf(out, len, "same time zone");
    else if (d == 60)
        snprintf(out, len, "one hour apart");
    else if (d % 60 == 0)
        snprintf(out, len, "%s hours apart", words[d / 60]);
    else if (d < 60)
        snprintf(out, len, "%d minutes apart", d);
    else
        snprintf(out, len, "%d h %02d min apart", d / 60, d % 60);
}

struct reason {
    double weight;
    char text[400];
};

static int
collect_reasons(struct ctx *c, int32_t n, int32_t m, struct reason *r)
{
    const struct match_person *p = c->nc.who[n], *q = c->mt.who[m];
    const char *names[3];
    char list[360];
    int count = 0, k;
    int tags = count_shared(&c->nc.tags, n, &c->mt.tags, m);
    if (tags > 0 &&
        (k = shared_spellings(&c->words, p->tags, p->n_tags, &c->mt.tags, m, names, 3)) > 0) {
        join_names(list, sizeof(list), names, k);
        r[count].weight = c->w.tag * tags;
        snprintf(r[count++].text, sizeof(r->text), "you both listed %s", list);
    }
    if ((k = shared_spellings(&c->languages, p->languages, p->n_languages, &c->mt.langs, m, names,
                              2)) > 0) {
        join_names(list, sizeof(list), names, k);
        r[count].weight = c->w.language;
        snprintf(r[count++].text, sizeof(r->text), "both speak %s", list);
    }
    int overlap = match_tz_overlap_minutes(p->tz_offset_min, q->tz_offset_min);
    if (overlap > 0) {
        r[count].weight = c->w.tz_overlap * overlap / 60.0;
        tz_phrase(r[count++].text, sizeof(r->text), p->tz_offset_min, q->tz_offset_min);
    }
    int goals = count_shared(&c->nc.goals, n, &c->mt.goals, m);
    if (goals > 0 &&
        (k = shared_spellings(&c->words, p->goals, p->n_goals, &c->mt.goals, m, names, 3)) > 0) {
        join_names(list, sizeof(list), names, k);
        r[count].weight = c->w.goal * goals;
        snprintf(r[count++].text, sizeof(r->text), "you share the goal%s %s", k > 1 ? "s" : "",
                 list);
    }
    return count;
}

/* Best reasons first (stable: tags, language, time zone, goals on equal weight). */
static int
pick_reasons(struct ctx *c, int32_t n, int32_t m, struct text *t, size_t *offs)
{
    struct reason r[4];
    int count = collect_reasons(c, n, m, r), order[4] = {0, 1, 2, 3}, out = 0;
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && r[order[j]].weight > r[order[j - 1]].weight; j--) {
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    for (int i = 0; i < count && out < MATCH_MAX_REASONS; i++) {
        if (!(r[order[i]].weight > 0))
            continue;
        offs[out++] = t->len;
        if (text_add(t, r[order[i]].text) != 0)
            return -1;
    }
    return out;
}

/* ------------------------------------------------------------------ */
/* result                                                             */
/* ------------------------------------------------------------------ */

static int
cmp_wait(const void *x, const void *y, void *people)
{
    const struct match_person *const *wait_who = people;
    const struct match_person *a = wait_who[*(const int32_t *)x],
                              *b = wait_who[*(const int32_t *)y];
    if (a->waiting_since != b->waiting_since)
        return (a->waiting_since > b->waiting_since) - (a->waiting_since < b->waiting_since);
    return (a->id > b->id) - (a->id < b->id);
}

static int
fill_waitlist(const struct ctx *c, struct match_result *out)
{
    int32_t *idx = malloc(((size_t)c->nc.n + 1) * sizeof(*idx));
    out->waitlist = malloc(((size_t)c->nc.n + 1) * sizeof(*out->waitlist));
    if (idx == NULL || out->waitlist == NULL) {
        free(idx);
        return -1;
    }
    int32_t k = 0;
    for (int32_t n = 0; n < c->nc.n; n++)
        if (c->assign[n] < 0)
            idx[k++] = n;
    qsort_r(idx, (size_t)k, sizeof(*idx), cmp_wait, (void *)c->nc.who);
    for (int32_t i = 0; i < k; i++)
        out->waitlist[i] = c->nc.who[idx[i]]->id;
    out->n_waitlist = (size_t)k;
    free(idx);
    return 0;
}

static int
fill_pairs(struct ctx *c, struct match_result *out)
{
    int32_t *used = calloc((size_t)c->mt.n + 1, sizeof(*used));
    size_t *offs = malloc(((size_t)c->nc.n + 1) * MATCH_MAX_REASONS * sizeof(*offs));
    out->pairs = calloc((size_t)c->nc.n + 1, sizeof(*out->pairs));
    struct text t = {0};
    int rc = used != NULL && offs != NULL && out->pairs != NULL ? 0 : -1;
    for (int32_t n = 0; rc == 0 && n < c->nc.n; n++) {
        int32_t m = c->assign[n];
        if (m < 0)
            continue;
        struct match_pair *p = &out->pairs[out->n_pairs];
        p->newcomer = c->nc.who[n]->id;
        p->mentor = c->mt.who[m]->id;
        p->score = c->score[n];
        out->total_score += p->score;
        out->load_cost += match_slot_cost(c->mt.who[m], ++used[m], &c->w);
        p->n_reasons = pick_reasons(c, n, m, &t, offs + out->n_pairs * MATCH_MAX_REASONS);
        rc = p->n_reasons < 0 ? -1 : 0;
        out->n_pairs++;
    }
    /* The text buffer moved while growing; pointers are set once it is final. */
    for (size_t i = 0; rc == 0 && i < out->n_pairs; i++)
        for (int j = 0; j < out->pairs[i].n_reasons; j++)
            out->pairs[i].reasons[j] = t.buf + offs[i * MATCH_MAX_REASONS + j];
    out->text = t.buf;
    out->objective = out->total_score - out->load_cost;
    free(used);
    free(offs);
    return rc;
}

void
match_result_free(struct match_result *r)
{
    if (r == NULL)
        return;
    free(r->pairs);
    free(r->waitlist);
    free(r->text);
    memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ */
/* entry points                                                       */
/* ------------------------------------------------------------------ */

/*
 * Solve the candidate graph, then price every left-out pair and solve again
 * while any violates (see "pricing").  0 with the flow's assignment in
 * c->assign and out->certified set; -1 with why when a solve fails.
 */
static int
solve_and_price(struct ctx *c, struct match_result *out, char *why, size_t whylen)
{
    int rc = c->pr == NULL ? pricing_new(c) : 0;
    struct pricing *pp = c->pr;
    /* The last pass's prices prove the final flow optimal (pricing_check): mcf need not. */
    mcf_set_self_check(c->graph, 0);
    if (rc != 0)
        snprintf(why, whylen, "out of memory for pricing");
    for (int round = 0; rc == 0; round++) {
        if (mcf_solve(c->graph, why, whylen) != 0) {
            rc = -1;
            break;
        }
        double t_priced = now_seconds();
        assign_from_flow(c);
        pricing_raise(c, pp);
        pricing_order(c, pp);
        int64_t added = pricing_pass(c, pp, &out->n_priced);
        /*
         * Only the prices of the pass that adds nothing must prove the flow
         * optimal (the passes before only choose which pairs join), so they
         * are checked then.  Not expected to fail: the solver's own
         * potentials passed mcf_solve's check, and they start a new chain of
         * passes that prices everyone.
         */
        if (added == 0 && pricing_check(c, pp, why, whylen) != 0) {
            log_warn("match: raised prices rejected (%s); pricing with the potentials", why);
            pricing_plain(c, pp);
            pricing_order(c, pp);
            if (pricing_check(c, pp, why, whylen) != 0)
                rc = -1;
            else
                added = pricing_pass(c, pp, &out->n_priced);
        }
        out->seconds_pricing += now_seconds() - t_priced;
        if (rc != 0)
            break;
        if (added < 0) {
            snprintf(why, whylen, "out of memory adding priced pairs");
            rc = -1;
            break;
        }
        if (added == 0) {
            out->certified = 1;
            break;
        }
        out->n_priced_in += (size_t)added;
        c->n_candidates += (size_t)added;
        out->pricing_rounds = round + 1;
    }
    return rc;
}

static int
run(const struct match_input *in, struct match_result *out, int greedy, char *err, size_t errlen)
{
    struct ctx c;
    memset(out, 0, sizeof(*out));
    double t0 = now_seconds();
    int rc = ctx_init(&c, in, err, errlen);
    if (rc == 0 && c.nc.n > 0) {
        rc = build_graph(&c, err, errlen);
    }
    if (rc == 0 && c.nc.n == 0)
        out->certified = !greedy; /* nobody waits: nothing to improve */
    double t1 = now_seconds();
    char why[256];
    if (rc == 0 && c.nc.n > 0 && !greedy) {
        if (solve_and_price(&c, out, why, sizeof(why)) != 0) {
            log_error("match: %s; using the greedy assignment for %" PRId32
                      " newcomers and %" PRId32 " mentors",
                      why, c.nc.n, c.mt.n);
            out->used_greedy = 1;
            out->certified = 0;
            greedy = 1;
            for (int32_t n = 0; n < c.nc.n; n++)
                c.assign[n] = -1;
        }
    }
    if (rc == 0 && c.nc.n > 0 && greedy && assign_greedy(&c) != 0)
        rc = -1, set_err(err, errlen, "match: out of memory in the greedy assignment");
    if (rc == 0 && c.graph != NULL && in->dimacs != NULL &&
        mcf_write_dimacs(c.graph, in->dimacs) != 0)
        log_warn("match: could not write the candidate graph");
    out->seconds_candidates = t1 - t0;
    out->seconds_solve = now_seconds() - t1 - out->seconds_pricing;
    out->n_newcomers = (size_t)c.nc.n;
    out->n_mentors = (size_t)c.mt.n;
    out->n_candidates = c.n_candidates;
    out->graph_bytes = c.graph != NULL ? mcf_bytes(c.graph) : 0;
    mcf_free(c.graph); /* the flow graph is the big part; free it before the text */
    c.graph = NULL;
    if (rc == 0 && (fill_pairs(&c, out) != 0 || fill_waitlist(&c, out) != 0))
        rc = -1, set_err(err, errlen, "match: out of memory for the result");
    ctx_free(&c);
    if (rc != 0)
        match_result_free(out);
    return rc;
}

int
match_solve(const struct match_input *in, struct match_result *out, char *err, size_t errlen)
{
    return run(in, out, 0, err, errlen);
}

int
match_greedy(const struct match_input *in, struct match_result *out, char *err, size_t errlen)
{
    return run(in, out, 1, err, errlen);
}

/* ------------------------------------------------------------------ */
/* circles                                                            */
/* ------------------------------------------------------------------ */

static int
has_topic(const struct match_person *p, const char *topic, const struct match_input *in)
{
    char t[MATCH_TOPIC_LEN];

    for (size_t i = 0; i < p->n_tags; i++)
        if (match_normalise(p->tags[i], in->synonyms, in->n_synonyms, t, sizeof t) > 0 &&
            strcmp(t, topic) == 0)
            return 1;
    return 0;
}

struct circle_draft {
    size_t *members; /* indexes into in->people, best first */
    int64_t *scores;
    size_t n;
    int64_t value;
};

/*
 * The best circle mentor m could lead on topic: up to size newcomers not yet
 * taken who have the topic and may be matched with m, by score (then lower
 * id: the people are visited in id order and only a better score moves one
 * ahead).
 */
static void
circle_draft(const struct match_input *in, const size_t *order, const unsigned char *taken,
             const struct match_person *m, const char *topic, size_t size, struct circle_draft *d)
{
    d->n = 0;
    d->value = 0;
    for (size_t k = 0; k < in->n_people; k++) {
        size_t i = order[k];
        const struct match_person *n = &in->people[i];
        if (taken[i] || n->role != MATCH_NEWCOMER || !has_topic(n, topic, in))
            continue;
        int64_t s = match_score(n, m, in);
        if (s == MATCH_FORBIDDEN || s <= 0)
            continue;
        size_t at = d->n < size ? d->n : size;
        while (at > 0 && d->scores[at - 1] < s)
            at--;
        if (at >= size)
            continue;
        size_t last = d->n < size ? d->n : size - 1;
        memmove(d->members + at + 1, d->members + at, (last - at) * sizeof *d->members);
        memmove(d->scores + at + 1, d->scores + at, (last - at) * sizeof *d->scores);
        d->members[at] = i;
        d->scores[at] = s;
        if (d->n < size)
            d->n++;
    }
    for (size_t j = 0; j < d->n; j++)
        d->value += d->scores[j];
}

static int
order_by_id(const void *a, const void *b, void *arg)
{
    const struct match_person *p = arg;
    int64_t x = p[*(const size_t *)a].id, y = p[*(const size_t *)b].id;

    return x < y ? -1 : x > y;
}

static int
waitlist_order(const void *a, const void *b, void *arg)
{
    const struct match_person *p = arg;
    const struct match_person *x = &p[*(const size_t *)a], *y = &p[*(const size_t *)b];

    if (x->waiting_since != y->waiting_since)
        return x->waiting_since < y->waiting_since ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Record draft d (mentor index mi, topic) as the next circle in out. */
static int
circle_keep(const struct match_input *in, size_t mi, const char *topic,
            const struct circle_draft *d, unsigned char *taken, struct match_circles *out,
            size_t *cap)
{
    if (out->n_circles == *cap) {
        size_t c2 = *cap ? 2 * *cap : 8;
        struct match_circle *g = realloc(out->circles, c2 * sizeof *g);
        if (g == NULL)
            return -1;
        out->circles = g;
        *cap = c2;
    }
    struct match_circle *c = &out->circles[out->n_circles];
    memset(c, 0, sizeof *c);
    c->newcomers = malloc(d->n * sizeof *c->newcomers);
    if (c->newcomers == NULL)
        return -1;
    out->n_circles++;
    c->mentor = in->people[mi].id;
    snprintf(c->topic, sizeof c->topic, "%s", topic);
    for (size_t j = 0; j < d->n; j++) {
        c->newcomers[j] = in->people[d->members[j]].id;
        c->score += d->scores[j];
        taken[d->members[j]] = 1;
    }
    c->n_newcomers = d->n;
    return 0;
}

/* The best (mentor, topic) circle left; 0 when none has two newcomers. */
static int
circle_best(const struct match_input *in, const size_t *order, const unsigned char *taken,
            const int *slots, size_t size, struct circle_draft *try, struct circle_draft *best,
            size_t *best_mi, char *best_topic)
{
    char topic[MATCH_TOPIC_LEN];
    int found = 0;

    for (size_t k = 0; k < in->n_people; k++) {
        size_t mi = order[k];
        const struct match_person *m = &in->people[mi];
        if (m->role != MATCH_MENTOR || slots[mi] <= 0)
            continue;
        for (size_t t = 0; t < m->n_tags; t++) {
            if (match_normalise(m->tags[t], in->synonyms, in->n_synonyms, topic, sizeof topic) <= 0)
                continue;
            circle_draft(in, order, taken, m, topic, size, try);
            /* Mentors are visited in id order: on a tie the lower id keeps it. */
            int better =
                try->n >= 2 &&
                (!found || try->value > best->value ||
                 (try->value == best->value && *best_mi == mi && strcmp(topic, best_topic) < 0));
            if (!better)
                continue;
            struct circle_draft swap = *best;
            *best = *try;
            *try = swap;
            *best_mi = mi;
            snprintf(best_topic, MATCH_TOPIC_LEN, "%s", topic);
            found = 1;
        }
    }
    return found;
}

static int
circles_waitlist(const struct match_input *in, const unsigned char *taken, size_t *order,
                 struct match_circles *out)
{
    size_t n = 0;

    for (size_t i = 0; i < in->n_people; i++)
        if (!taken[i] && in->people[i].role == MATCH_NEWCOMER && in->people[i].flags == 0)
            order[n++] = i;
    qsort_r(order, n, sizeof *order, waitlist_order, (void *)in->people);
    out->waitlist = malloc((n ? n : 1) * sizeof *out->waitlist);
    if (out->waitlist == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        out->waitlist[i] = in->people[order[i]].id;
    out->n_waitlist = n;
    return 0;
}

int
match_circles(const struct match_input *in, int circle_size, struct match_circles *out, char *err,
              size_t errlen)
{
    size_t n = in->n_people, size = circle_size > 0 ? (size_t)circle_size : 1, cap = 0;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    unsigned char *taken = calloc(n ? n : 1, 1);
    int *slots = calloc(n ? n : 1, sizeof *slots);
    struct circle_draft a = {0}, b = {0};
    struct match_weights def;
    const struct match_weights *w = in->weights;
    int rc = -1;

    memset(out, 0, sizeof *out);
    a.members = malloc(size * sizeof *a.members);
    a.scores = malloc(size * sizeof *a.scores);
    b.members = malloc(size * sizeof *b.members);
    b.scores = malloc(size * sizeof *b.scores);
    if (!order || !taken || !slots || !a.members || !a.scores || !b.members || !b.scores) {
        set_err(err, errlen, "match: out of memory forming circles of %zu people", n);
        goto out;
    }
    if (circle_size < 2) {
        set_err(err, errlen, "match: a circle needs at least 2 newcomers, not %d", circle_size);
        goto out;
    }
    if (w == NULL) {
        match_weights_default(&def);
        w = &def;
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        slots[i] = in->people[i].role == MATCH_MENTOR ? match_free_slots(&in->people[i], w) : 0;
    }
    qsort_r(order, n, sizeof *order, order_by_id, (void *)in->people);
    for (size_t i = 1; i < n; i++)
        if (in->people[order[i]].id == in->people[order[i - 1]].id) {
            set_err(err, errlen, "match: person id %" PRId64 " appears twice",
                    in->people[order[i]].id);
            goto out;
        }
    size_t mi = 0;
    char topic[MATCH_TOPIC_LEN];
    while (circle_best(in, order, taken, slots, size, &a, &b, &mi, topic)) {
        if (circle_keep(in, mi, topic, &b, taken, out, &cap) != 0) {
            set_err(err, errlen, "match: out of memory keeping a circle");
            goto out;
        }
        slots[mi]--;
    }
    if (circles_waitlist(in, taken, order, out) != 0) {
        set_err(err, errlen, "match: out of memory for the waiting list");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        match_circles_free(out);
    free(order);
    free(taken);
    free(slots);
    free(a.members);
    free(a.scores);
    free(b.members);
    free(b.scores);
    return rc;
}

void
match_circles_free(struct match_circles *c)
{
    for (size_t i = 0; c->circles && i < c->n_circles; i++)
        free(c->circles[i].newcomers);
    free(c->circles);
    free(c->waitlist);
    memset(c, 0, sizeof *c);
}
