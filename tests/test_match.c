/*
 * Tests for match: brute-force optimality on random small pools, hard rules as
 * properties, greedy vs solver, determinism, reasons, time zones, tags.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "match.h"
#include "reason.h"
#include "mcf.h"

#define DAY 86400
#define NOW 1770000000

/* ---- random pools ---- */

static const char *const tag_pool[] = {"Rust",          "rust", "Python",  "pythons", "docs",
                                       "Documentation", "C",    "testing", "Tests",   "JS"};
static const char *const lang_pool[] = {"English", "spanish", "Spanish", "German"};
static const char *const goal_pool[] = {"career change", "open source", "Career-Change"};
static const struct match_synonym synonyms[] = {
    {"doc", "documentation"}, {"js", "javascript"}, {"test", "testing"}};

#define MAX_PEOPLE 10
#define MAX_LIST 4

struct pool {
    struct match_person people[MAX_PEOPLE];
    const char *tags[MAX_PEOPLE][MAX_LIST], *langs[MAX_PEOPLE][MAX_LIST],
        *goals[MAX_PEOPLE][MAX_LIST];
    struct match_block blocked[8];
    size_t n_people, n_blocked;
    struct match_weights w;
};

static void
pick(const char **out, uint32_t *n, const char *const *from, size_t n_from, int max)
{
    *n = (uint32_t)(rand() % (max + 1));
    for (size_t i = 0; i < *n; i++)
        out[i] = from[rand() % (int)n_from];
}

static void
random_pool(struct pool *p, int n_new, int n_mentors)
{
    memset(p, 0, sizeof(*p));
    match_weights_default(&p->w);
    p->w.top_k = n_mentors > 0 ? n_mentors : 1; /* every pair is a candidate */
    p->w.require_common_language = rand() % 4 != 0;
    p->w.load_penalty = (rand() % 4) * 2.5;
    p->n_people = (size_t)(n_new + n_mentors);
    for (size_t i = 0; i < p->n_people; i++) {
        struct match_person *q = &p->people[i];
        q->id = 100 + (int64_t)i * 7;
        q->role = (int)i < n_new ? MATCH_NEWCOMER : MATCH_MENTOR;
        pick(p->tags[i], &q->n_tags, tag_pool, sizeof(tag_pool) / sizeof(*tag_pool), 4);
        pick(p->langs[i], &q->n_languages, lang_pool, 4, 2);
        if (q->n_languages == 0) /* mostly people with a language: more real choices */
            p->langs[i][q->n_languages++] = lang_pool[rand() % 4];
        pick(p->goals[i], &q->n_goals, goal_pool, 3, 2);
        q->tags = p->tags[i];
        q->languages = p->langs[i];
        q->goals = p->goals[i];
        q->tz_offset_min = (rand() % 25 - 12) * 60 + (rand() % 5 == 0 ? 30 : 0);
        q->capacity = rand() % 5;
        q->active_mentees = rand() % 2;
        q->unanswered_checkins = rand() % 3;
        q->low_feedback = rand() % 2;
        q->weeks_since_break = rand() % 30;
        q->waiting_since = NOW - (int64_t)(rand() % 90) * DAY;
        q->flags = rand() % 10 == 0 ? (unsigned)(1 << (rand() % 5)) : 0;
    }
    p->n_blocked = (size_t)(rand() % 4);
    for (size_t i = 0; i < p->n_blocked && n_new > 0 && n_mentors > 0; i++) {
        p->blocked[i].a = p->people[rand() % n_new].id;
        p->blocked[i].b = p->people[n_new + rand() % n_mentors].id;
    }
}

static struct match_input
input_of(const struct pool *p)
{
    struct match_input in = {
        .people = p->people,
        .n_people = p->n_people,
        .weights = &p->w,
        .synonyms = synonyms,
        .n_synonyms = sizeof(synonyms) / sizeof(*synonyms),
        .blocked = p->blocked,
        .n_blocked = p->n_blocked,
        .now = NOW,
    };
    return in;
}

/* ---- brute force over every assignment ---- */

struct brute {
    int n_new, n_mentors;
    int64_t score[MAX_PEOPLE][MAX_PEOPLE];
    int free_slots[MAX_PEOPLE];
    int64_t slot[MAX_PEOPLE][8];
    int used[MAX_PEOPLE];
};

static int64_t
brute_best(struct brute *b, int n)
{
    if (n == b->n_new)
        return 0;
    int64_t best = brute_best(b, n + 1); /* unmatched */
    for (int m = 0; m < b->n_mentors; m++) {
        if (b->score[n][m] == MATCH_FORBIDDEN || b->used[m] >= b->free_slots[m])
            continue;
        int64_t gain = b->score[n][m] - b->slot[m][b->used[m]];
        b->used[m]++;
        int64_t v = gain + brute_best(b, n + 1);
        b->used[m]--;
        if (v > best)
            best = v;
    }
    return best;
}

static int64_t
brute_force(const struct pool *p, int n_new, int n_mentors)
{
    struct match_input in = input_of(p);
    struct brute b = {.n_new = n_new, .n_mentors = n_mentors};
    for (int m = 0; m < n_mentors; m++) {
        const struct match_person *q = &p->people[n_new + m];
        b.free_slots[m] = match_free_slots(q, &p->w);
        for (int k = 0; k < b.free_slots[m]; k++)
            b.slot[m][k] = match_slot_cost(q, k + 1, &p->w);
        for (int n = 0; n < n_new; n++)
            b.score[n][m] = match_score(&p->people[n], q, &in);
    }
    return brute_best(&b, 0);
}

static const struct match_person *
find(const struct pool *p, int64_t id)
{
    for (size_t i = 0; i < p->n_people; i++)
        if (p->people[i].id == id)
            return &p->people[i];
    return NULL;
}

/* Every hard rule, checked on a result. */
static void
assert_rules(const struct pool *p, const struct match_result *r)
{
    struct match_input in = input_of(p);
    int64_t total = 0;
    for (size_t i = 0; i < r->n_pairs; i++) {
        const struct match_person *n = find(p, r->pairs[i].newcomer);
        const struct match_person *m = find(p, r->pairs[i].mentor);
        assert_non_null(n);
        assert_non_null(m);
        assert_int_equal(n->role, MATCH_NEWCOMER);
        assert_int_equal(m->role, MATCH_MENTOR);
        assert_int_equal(n->flags, 0);
        assert_int_equal(m->flags, 0);
        for (size_t j = 0; j < p->n_blocked; j++)
            assert_false((p->blocked[j].a == n->id && p->blocked[j].b == m->id) ||
                         (p->blocked[j].a == m->id && p->blocked[j].b == n->id));
        int64_t s = match_score(n, m, &in); /* also the language rule */
        assert_true(s != MATCH_FORBIDDEN);
        assert_int_equal(s, r->pairs[i].score);
        assert_true(s > 0);
        total += s;
        int count = 0;
        for (size_t j = 0; j < r->n_pairs; j++) {
            count += r->pairs[j].mentor == m->id;
            if (j != i)
                assert_true(r->pairs[j].newcomer != n->id);
        }
        assert_true(count <= match_free_slots(m, &p->w));
        assert_true(count + m->active_mentees <= m->capacity);
    }
    assert_int_equal(total, r->total_score);
    assert_int_equal(r->objective, r->total_score - r->load_cost);
}

static void
shuffle(struct pool *p)
{
    for (size_t i = p->n_people; i > 1; i--) {
        size_t j = (size_t)rand() % i;
        struct match_person t = p->people[i - 1];
        p->people[i - 1] = p->people[j];
        p->people[j] = t;
    }
}

static void
test_random_against_brute_force(void **state)
{
    (void)state;
    srand(20240601);
    int nontrivial = 0;
    for (int iter = 0; iter < 2000; iter++) {
        int n_new = rand() % 7, n_mentors = rand() % 5;
        struct pool p;
        random_pool(&p, n_new, n_mentors);
        int64_t best = brute_force(&p, n_new, n_mentors);
        struct match_input in = input_of(&p);
        struct match_result r, again, greedy;
        char err[256] = "";
        assert_int_equal(match_solve(&in, &r, err, sizeof(err)), 0);
        assert_int_equal(r.used_greedy, 0);
        if (r.objective != best)
            fail_msg("instance %d: solver %lld, brute force %lld", iter, (long long)r.objective,
                     (long long)best);
        assert_rules(&p, &r);
        nontrivial += r.n_pairs > 1;

        assert_int_equal(match_greedy(&in, &greedy, err, sizeof(err)), 0);
        assert_rules(&p, &greedy);
        assert_true(greedy.objective <= r.objective);

        /* Same input twice: the same pairs.  Shuffled: same objective (and pairs). */
        assert_int_equal(match_solve(&in, &again, err, sizeof(err)), 0);
        assert_int_equal(again.n_pairs, r.n_pairs);
        for (size_t i = 0; i < r.n_pairs; i++) {
            assert_int_equal(again.pairs[i].newcomer, r.pairs[i].newcomer);
            assert_int_equal(again.pairs[i].mentor, r.pairs[i].mentor);
        }
        match_result_free(&again);
        shuffle(&p);
        in = input_of(&p);
        assert_int_equal(match_solve(&in, &again, err, sizeof(err)), 0);
        assert_int_equal(again.objective, r.objective);
        assert_int_equal(again.n_pairs, r.n_pairs);
        for (size_t i = 0; i < r.n_pairs; i++)
            assert_int_equal(again.pairs[i].mentor, r.pairs[i].mentor);
        match_result_free(&again);
        match_result_free(&greedy);
        match_result_free(&r);
    }
    printf("instances with 2+ pairs: %d of 2000\n", nontrivial);
    assert_true(nontrivial > 200); /* the generator makes real choices */
}

/* ---- larger pool through the tag index (more mentors than scan_limit) ---- */

static void
test_indexed_candidates(void **state)
{
    (void)state;
    enum { N = 600, M = 120 };
    static struct match_person people[N + M];
    static const char *tags[N + M][3];
    static const char *const vocab[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    static const char *const langs[] = {"English"};
    srand(5);
    for (int i = 0; i < N + M; i++) {
        for (int k = 0; k < 3; k++)
            tags[i][k] = vocab[(rand() % 10) * (rand() % 2)]; /* skewed to "a" */
        people[i] = (struct match_person){.id = i + 1,
                                          .role = i < N ? MATCH_NEWCOMER : MATCH_MENTOR,
                                          .tags = tags[i],
                                          .n_tags = 3,
                                          .languages = langs,
                                          .n_languages = 1,
                                          .tz_offset_min = (rand() % 5) * 60,
                                          .capacity = i < N ? 0 : 1 + rand() % 3,
                                          .waiting_since = NOW - (i % 30) * DAY};
    }
    struct match_weights w;
    match_weights_default(&w);
    w.scan_limit = 40;
    w.top_k = 5;
    w.top_r = 3;
    struct match_input in = {.people = people, .n_people = N + M, .weights = &w, .now = NOW};
    struct match_result r, g;
    char err[256];
    assert_int_equal(match_solve(&in, &r, err, sizeof(err)), 0);
    assert_int_equal(match_greedy(&in, &g, err, sizeof(err)), 0);
    /* The candidates proper; pricing may add pairs on top, and certifies the rest. */
    assert_true(r.n_candidates - r.n_priced_in <= (size_t)N * 5 + (size_t)M * 3);
    assert_true(r.n_candidates - r.n_priced_in >= (size_t)N * 4);
    assert_true(r.certified);
    assert_false(g.certified);
    assert_true(g.objective <= r.objective);
    assert_true(r.n_pairs > 0);
    assert_int_equal(r.n_pairs + r.n_waitlist, N);
    for (size_t i = 1; i < r.n_waitlist; i++) /* longest waiting first */
        assert_true(people[r.waitlist[i - 1] - 1].waiting_since <=
                    people[r.waitlist[i] - 1].waiting_since);
    match_result_free(&r);
    match_result_free(&g);
}

/* ---- the certified optimum over every eligible pair ---- */

/*
 * The optimum of the full graph, built here independently of match.c's
 * candidates: every newcomer with every mentor that match_score allows, every
 * free slot at match_slot_cost, "unmatched" at cost 0.  Returns the objective
 * (score minus load cost, milli-points).
 */
static int64_t
full_graph_optimum(const struct match_input *in)
{
    const struct match_weights *w = in->weights;
    int32_t n_new = 0, n_mt = 0;
    int32_t *node = calloc(in->n_people, sizeof(*node));
    assert_non_null(node);
    for (size_t i = 0; i < in->n_people; i++) {
        const struct match_person *p = &in->people[i];
        if (p->role == MATCH_NEWCOMER && p->flags == 0)
            node[i] = n_new++;
        else if (p->role == MATCH_MENTOR && match_free_slots(p, w) > 0)
            node[i] = n_mt++;
        else
            node[i] = -1;
    }
    int32_t sink = n_new + n_mt;
    struct mcf *g = mcf_new(sink + 1, 1024);
    assert_non_null(g);
    for (size_t i = 0; i < in->n_people; i++) {
        const struct match_person *p = &in->people[i];
        if (node[i] < 0)
            continue;
        if (p->role == MATCH_MENTOR) {
            for (int k = 1; k <= match_free_slots(p, w); k++)
                assert_true(mcf_add_arc(g, n_new + node[i], sink, 1, match_slot_cost(p, k, w)) >=
                            0);
            continue;
        }
        assert_int_equal(mcf_set_supply(g, node[i], 1), 0);
        assert_true(mcf_add_arc(g, node[i], sink, 1, 0) >= 0);
        for (size_t j = 0; j < in->n_people; j++) {
            if (node[j] < 0 || in->people[j].role != MATCH_MENTOR)
                continue;
            int64_t sc = match_score(p, &in->people[j], in);
            if (sc != MATCH_FORBIDDEN && sc > 0)
                assert_true(mcf_add_arc(g, node[i], n_new + node[j], 1, -sc) >= 0);
        }
    }
    assert_int_equal(mcf_set_supply(g, sink, -n_new), 0);
    char err[256] = "";
    assert_int_equal(mcf_solve(g, err, sizeof(err)), 0);
    int64_t best = -mcf_total_cost(g);
    mcf_free(g);
    free(node);
    return best;
}

struct uniform_pool {
    struct match_person *people;
    const char **tags; /* 3 per person */
};

/*
 * n_new newcomers and n_mt mentors (capacity cap).  vocab 1: everyone lists
 * the same tags, speaks English, lives in one zone and waited as long, so
 * everyone ranks everyone the same (a one-track community or a buddy
 * programme).  vocab > 1: tags drawn from that many, zones from four, a
 * sixth speak only Spanish, some have a goal.
 */
static void
uniform_pool(struct uniform_pool *u, int n_new, int n_mt, int cap, int vocab, unsigned seed)
{
    static const char *const words[] = {"rust", "python", "docs", "testing", "c", "go", "sql"};
    static const char *const en[] = {"English"}, *const es[] = {"Spanish"};
    static const char *const goals[] = {"career change", "open source"};
    int n = n_new + n_mt;
    u->people = calloc((size_t)n, sizeof(*u->people));
    u->tags = calloc((size_t)n * 3, sizeof(*u->tags));
    assert_non_null(u->people);
    assert_non_null(u->tags);
    srand(seed);
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++)
            u->tags[i * 3 + k] = words[vocab > 1 ? rand() % vocab : k];
        u->people[i] = (struct match_person){
            .id = 1000 + i,
            .role = i < n_new ? MATCH_NEWCOMER : MATCH_MENTOR,
            .tags = u->tags + i * 3,
            .n_tags = 3,
            .languages = vocab > 1 && rand() % 6 == 0 ? es : en,
            .n_languages = 1,
            .goals = goals + (vocab > 1 ? rand() % 2 : 0),
            .n_goals = vocab > 1 ? (size_t)(rand() % 2) : 0,
            .tz_offset_min = vocab > 1 ? (rand() % 4) * 120 : 60,
            .capacity = i < n_new ? 0 : cap,
            .waiting_since = vocab > 1 ? NOW - (rand() % 20) * DAY : NOW - 3 * DAY,
        };
    }
}

static void
uniform_pool_free(struct uniform_pool *u)
{
    free(u->people);
    free(u->tags);
}

/* match_solve with these weights reaches the full graph's optimum and says it is certified. */
static void
assert_full_optimum(const struct uniform_pool *u, int n, const struct match_weights *w,
                    size_t want_pairs)
{
    struct match_input in = {.people = u->people, .n_people = (size_t)n, .weights = w, .now = NOW};
    struct match_result r;
    char err[256] = "";
    assert_int_equal(match_solve(&in, &r, err, sizeof(err)), 0);
    assert_true(r.certified);
    assert_false(r.used_greedy);
    assert_int_equal(r.objective, full_graph_optimum(&in));
    if (getenv("MATCH_TEST_VERBOSE") != NULL)
        print_message("%zu x %zu: %zu pairs, %d pricing rounds, %zu pairs priced in, %zu scored\n",
                      r.n_newcomers, r.n_mentors, r.n_pairs, r.pricing_rounds, r.n_priced_in,
                      r.n_priced);
    if (want_pairs > 0)
        assert_int_equal(r.n_pairs, want_pairs);
    match_result_free(&r);
}

/*
 * Everyone ranks everyone the same: the candidates (top_k 20 mentors per
 * newcomer, the setting, top_r 5 newcomers per mentor) leave
 * newcomers waiting beside free mentors; pricing brings the missing pairs in.
 */
static void
test_certified_homogeneous(void **state)
{
    (void)state;
    struct match_weights w;
    match_weights_default(&w);
    w.top_k = 20;
    const int sizes[] = {30, 100, 300};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct uniform_pool u;
        uniform_pool(&u, sizes[i], sizes[i], 1, 1, 1);
        /* The candidates alone leave some newcomers waiting beside free mentors. */
        struct match_input in = {
            .people = u.people, .n_people = 2 * (size_t)sizes[i], .weights = &w, .now = NOW};
        struct match_result g;
        char err[256] = "";
        assert_int_equal(match_greedy(&in, &g, err, sizeof(err)), 0);
        assert_true(g.n_pairs < (size_t)sizes[i]);
        match_result_free(&g);
        assert_full_optimum(&u, 2 * sizes[i], &w, (size_t)sizes[i]);
        uniform_pool_free(&u);
    }
}

/* Nearly homogeneous pools, more capacity, tiny candidate lists, the language rule off. */
static void
test_certified_adversarial(void **state)
{
    (void)state;
    struct match_weights w;
    match_weights_default(&w);
    struct uniform_pool u;
    uniform_pool(&u, 100, 100, 1, 3, 2);
    assert_full_optimum(&u, 200, &w, 0);
    uniform_pool_free(&u);

    w.top_k = 1;
    w.top_r = 0;
    uniform_pool(&u, 300, 60, 3, 4, 3);
    assert_full_optimum(&u, 360, &w, 0);
    uniform_pool_free(&u);

    w.require_common_language = 0;
    w.scan_limit = 5; /* the tag index, not every mentor */
    w.load_penalty = 20;
    uniform_pool(&u, 200, 80, 4, 7, 4);
    assert_full_optimum(&u, 280, &w, 0);
    uniform_pool_free(&u);
}

/* Edge cases: nobody to pair with, no shared language, one side empty. */
static void
test_certified_edges(void **state)
{
    (void)state;
    struct match_weights w;
    match_weights_default(&w);
    w.scan_limit = 1; /* the list path even with two mentors */
    struct uniform_pool u;
    uniform_pool(&u, 5, 0, 1, 1, 1); /* newcomers only */
    assert_full_optimum(&u, 5, &w, 0);
    uniform_pool_free(&u);
    uniform_pool(&u, 0, 5, 1, 1, 1); /* mentors only */
    struct match_input in = {.people = u.people, .n_people = 5, .weights = &w, .now = NOW};
    struct match_result r;
    char err[256] = "";
    assert_int_equal(match_solve(&in, &r, err, sizeof(err)), 0);
    assert_true(r.certified);
    assert_int_equal(r.n_pairs, 0);
    match_result_free(&r);
    uniform_pool_free(&u);
    static const char *const de[] = {"German"};
    uniform_pool(&u, 6, 3, 2, 1, 1); /* no shared language: nothing is eligible */
    for (int i = 0; i < 6; i++)
        u.people[i].languages = de;
    assert_full_optimum(&u, 9, &w, 0);
    uniform_pool_free(&u);
}

/*
 * Pools large enough for several pricing passes, few candidates: the passes
 * after the first look from the side of the mentors whose price fell
 * (newcomer lists by tag and zone, bounds per list segment), with goals,
 * waiting bonuses (also a negative one) and zones in the bounds.
 */
static void
test_certified_by_mentors(void **state)
{
    (void)state;
    for (unsigned seed = 80; seed < 86; seed++) {
        struct match_weights w;
        match_weights_default(&w);
        w.top_k = 1;
        w.top_r = 0;
        w.scan_limit = 3;
        w.wait_bonus_per_day = seed == 83 ? -0.5 : 0.5;
        w.require_common_language = seed % 2;
        struct uniform_pool u;
        uniform_pool(&u, 500, 120, 1 + (int)(seed % 3), 7, seed);
        assert_full_optimum(&u, 620, &w, 0);
        uniform_pool_free(&u);
    }
}

/* Many random pools and weights, tiny candidate lists: always the full graph's optimum. */
static void
test_certified_random(void **state)
{
    (void)state;
    for (unsigned seed = 10; seed < 70; seed++) {
        struct match_weights w;
        match_weights_default(&w);
        srand(seed);
        w.top_k = 1 + rand() % 3;
        w.top_r = rand() % 2;
        w.scan_limit = 1 + rand() % 30;
        w.load_penalty = (rand() % 5) * 3.0;
        w.tz_overlap = rand() % 3;
        w.goal = rand() % 2 ? 0 : 5;
        w.require_common_language = rand() % 2;
        int n_new = 20 + rand() % 60, n_mt = 5 + rand() % 40;
        struct uniform_pool u;
        uniform_pool(&u, n_new, n_mt, 1 + (int)(seed % 3), 2 + (int)(seed % 6), seed);
        assert_full_optimum(&u, n_new + n_mt, &w, 0);
        uniform_pool_free(&u);
    }
}

/* ---- a pool large enough for a non-trivial arc order in the solver ---- */

static void
assert_same_pairs(const struct match_result *a, const struct match_result *b)
{
    assert_int_equal(a->n_pairs, b->n_pairs);
    assert_int_equal(a->objective, b->objective);
    for (size_t i = 0; i < a->n_pairs; i++) {
        assert_int_equal(a->pairs[i].newcomer, b->pairs[i].newcomer);
        assert_int_equal(a->pairs[i].mentor, b->pairs[i].mentor);
    }
}

static void
test_larger_pool(void **state)
{
    (void)state;
    enum { N = 300, M = 40 };
    static struct match_person people[N + M];
    static const char *tags[N + M][4], *langs[N + M][2];
    srand(77);
    for (int i = 0; i < N + M; i++) {
        size_t nt = 1 + (size_t)(rand() % 4), nl = 1 + (size_t)(rand() % 2);
        for (size_t k = 0; k < nt; k++)
            tags[i][k] = tag_pool[rand() % 10];
        for (size_t k = 0; k < nl; k++)
            langs[i][k] = lang_pool[rand() % 4];
        people[i] = (struct match_person){.id = 1000 - i,
                                          .role = i < N ? MATCH_NEWCOMER : MATCH_MENTOR,
                                          .tags = tags[i],
                                          .n_tags = nt,
                                          .languages = langs[i],
                                          .n_languages = nl,
                                          .tz_offset_min = (rand() % 24 - 11) * 60,
                                          .capacity = i < N ? 0 : 1 + rand() % 4,
                                          .unanswered_checkins = rand() % 2,
                                          .waiting_since = NOW - (rand() % 90) * DAY};
    }
    struct match_weights w;
    match_weights_default(&w);
    w.top_k = 6;
    w.top_r = 3;
    struct match_input in = {.people = people, .n_people = N + M, .weights = &w, .now = NOW};
    struct match_result r, g, again;
    char err[256] = "";
    assert_int_equal(match_solve(&in, &r, err, sizeof(err)), 0);
    assert_int_equal(r.used_greedy, 0); /* the certificate held */
    assert_true(r.n_candidates > 1000);
    assert_int_equal(match_greedy(&in, &g, err, sizeof(err)), 0);
    assert_true(g.objective <= r.objective);
    int64_t total = 0;
    int used[M] = {0};
    for (size_t i = 0; i < r.n_pairs; i++) {
        int n = (int)(1000 - r.pairs[i].newcomer), m = (int)(1000 - r.pairs[i].mentor);
        assert_true(n >= 0 && n < N && m >= N && m < N + M);
        assert_int_equal(match_score(&people[n], &people[m], &in), r.pairs[i].score);
        total += r.pairs[i].score;
        used[m - N]++;
        if (i > 0) /* ascending newcomer id: each newcomer once */
            assert_true(r.pairs[i - 1].newcomer < r.pairs[i].newcomer);
    }
    for (int m = 0; m < M; m++)
        assert_true(used[m] <= match_free_slots(&people[N + m], &w));
    assert_int_equal(total, r.total_score);
    assert_int_equal(r.objective, r.total_score - r.load_cost);
    assert_true(r.n_pairs > 40); /* most slots are worth filling */

    /* Reversed input order: the same pairs. */
    for (int i = 0; i < (N + M) / 2; i++) {
        struct match_person t = people[i];
        people[i] = people[N + M - 1 - i];
        people[N + M - 1 - i] = t;
    }
    assert_int_equal(match_solve(&in, &again, err, sizeof(err)), 0);
    assert_same_pairs(&r, &again);
    match_result_free(&again);
    match_result_free(&g);
    match_result_free(&r);
}

/* ---- known cases ---- */

static const char *const n_tags[] = {"Rust", "Documentation", "cooking"};
static const char *const m_tags[] = {"rust", "docs", "gardening"};
static const char *const es[] = {"Spanish"};
static const char *const es_en[] = {"english", "spanish"};
static const char *const en[] = {"English"};

static void
test_reasons(void **state)
{
    (void)state;
    struct match_person people[2] = {
        {.id = 1,
         .role = MATCH_NEWCOMER,
         .tags = n_tags,
         .n_tags = 3,
         .languages = es,
         .n_languages = 1,
         .tz_offset_min = 0,
         .waiting_since = NOW},
        {.id = 2,
         .role = MATCH_MENTOR,
         .tags = m_tags,
         .n_tags = 3,
         .languages = es_en,
         .n_languages = 2,
         .tz_offset_min = 60,
         .capacity = 2},
    };
    struct match_synonym syn[] = {{"doc", "documentation"}};
    struct match_input in = {
        .people = people, .n_people = 2, .synonyms = syn, .n_synonyms = 1, .now = NOW};
    struct match_result r;
    char err[256];
    assert_int_equal(match_solve(&in, &r, err, sizeof(err)), 0);
    assert_int_equal(r.n_pairs, 1);
    /* 2 tags * 10 + language 5 + 12 hours overlap * 1 = 37 points */
    assert_int_equal(r.pairs[0].score, 37000);
    assert_int_equal(r.pairs[0].n_reasons, 3);
    assert_string_equal(r.pairs[0].reasons[0], "you both listed Rust and Documentation");
    assert_string_equal(r.pairs[0].reasons[1], "one hour apart");
    assert_string_equal(r.pairs[0].reasons[2], "both speak Spanish");
    /* daemon/reason.c reads each form the matcher writes, for the member's language. */
    char stored[512];
    snprintf(stored, sizeof(stored), "%s\n%s\n%s", r.pairs[0].reasons[0], r.pairs[0].reasons[1],
             r.pairs[0].reasons[2]);
    char *es_lines = reason_lines(lang_get(MENTORD_SRCDIR "/templates", "es"), stored);
    assert_non_null(es_lines);
    assert_string_equal(es_lines, "  - intereses en común: Rust y Documentation\n"
                                  "  - una hora de diferencia\n"
                                  "  - idiomas en común: Spanish");
    free(es_lines);
    assert_int_equal(r.n_waitlist, 0);
    match_result_free(&r);
}

static void
test_language_rule(void **state)
{
    (void)state;
    struct match_person people[2] = {
        {.id = 1,
         .role = MATCH_NEWCOMER,
         .tags = n_tags,
         .n_tags = 1,
         .languages = es,
         .n_languages = 1},
        {.id = 2,
         .role = MATCH_MENTOR,
         .tags = m_tags,
         .n_tags = 1,
         .languages = en,
         .n_languages = 1,
         .capacity = 1},
    };
    struct match_input in = {.people = people, .n_people = 2, .now = NOW};
    struct match_result r;
    char err[256];
    assert_int_equal(match_score(&people[0], &people[1], &in), MATCH_FORBIDDEN);
    assert_int_equal(match_solve(&in, &r, err, sizeof(err)), 0);
    assert_int_equal(r.n_pairs, 0);
    assert_int_equal(r.n_waitlist, 1);
    assert_int_equal(r.waitlist[0], 1);
    match_result_free(&r);

    struct match_weights w;
    match_weights_default(&w);
    w.require_common_language = 0;
    in.weights = &w;
    assert_int_equal(match_score(&people[0], &people[1], &in), 10000 + 13000);
    assert_int_equal(match_solve(&in, &r, err, sizeof(err)), 0);
    assert_int_equal(r.n_pairs, 1);
    match_result_free(&r);
}

/* Two equal mentors and two newcomers: the convex load cost gives one each. */
static void
test_load_spreads(void **state)
{
    (void)state;
    struct match_person people[4];
    for (int i = 0; i < 4; i++)
        people[i] = (struct match_person){.id = i + 1,
                                          .role = i < 2 ? MATCH_NEWCOMER : MATCH_MENTOR,
                                          .tags = n_tags,
                                          .n_tags = 1,
                                          .languages = en,
                                          .n_languages = 1,
                                          .capacity = 3};
    struct match_input in = {.people = people, .n_people = 4, .now = NOW};
    struct match_result r;
    char err[256];
    assert_int_equal(match_solve(&in, &r, err, sizeof(err)), 0);
    assert_int_equal(r.n_pairs, 2);
    assert_true(r.pairs[0].mentor != r.pairs[1].mentor);
    assert_int_equal(r.load_cost, 2 * 1000); /* first slot each: 1 point */
    match_result_free(&r);

    /* A strained mentor (4 unanswered check-ins = 2 mentee equivalents) loses slots. */
    people[2].unanswered_checkins = 4;
    struct match_weights w;
    match_weights_default(&w);
    assert_int_equal(match_free_slots(&people[2], &w), 1);
    assert_int_equal(match_slot_cost(&people[2], 1, &w), 1000 * (2 * 3 - 1));
    assert_int_equal(match_slot_cost(&people[3], 1, &w), 1000);
    assert_int_equal(match_slot_cost(&people[3], 2, &w), 3000);
    people[3].flags = MATCH_PAUSED;
    assert_int_equal(match_free_slots(&people[3], &w), 0);
}

static void
test_bad_input(void **state)
{
    (void)state;
    struct match_person people[2] = {{.id = 5, .role = MATCH_NEWCOMER},
                                     {.id = 5, .role = MATCH_MENTOR, .capacity = 1}};
    struct match_input in = {.people = people, .n_people = 2};
    struct match_result r;
    char err[256] = "";
    assert_int_equal(match_solve(&in, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "id 5 given twice"));
    people[1].id = 6;
    people[1].capacity = -1;
    assert_int_equal(match_solve(&in, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "negative capacity"));
    people[1].capacity = 1;
    struct match_weights w;
    match_weights_default(&w);
    w.top_k = 0;
    in.weights = &w;
    assert_int_equal(match_solve(&in, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "top_k"));
}

static void
test_tz_overlap(void **state)
{
    (void)state;
    assert_int_equal(match_tz_overlap_minutes(0, 0), 13 * 60);
    assert_int_equal(match_tz_overlap_minutes(60, 0), 12 * 60);
    assert_int_equal(match_tz_overlap_minutes(0, -300), 8 * 60);      /* London - New York */
    assert_int_equal(match_tz_overlap_minutes(330, 60), 8 * 60 + 30); /* India - Berlin: 4.5 h */
    /* Twelve hours apart: 08-09 and 20-21 are shared. */
    assert_int_equal(match_tz_overlap_minutes(0, 720), 2 * 60);
    assert_int_equal(match_tz_overlap_minutes(-600, 540), 8 * 60);  /* Hawaii - Tokyo: 19 h = 5 h */
    assert_int_equal(match_tz_overlap_minutes(-720, 840), 11 * 60); /* 26 h = 2 h on the clock */
    assert_int_equal(match_tz_overlap_minutes(0, 600), 3 * 60);
}

static void
test_normalise(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(match_normalise("  Rust ", NULL, 0, out, sizeof(out)), 4);
    assert_string_equal(out, "rust");
    match_normalise("Libraries", NULL, 0, out, sizeof(out));
    assert_string_equal(out, "library");
    match_normalise("Open-Source_Projects", NULL, 0, out, sizeof(out));
    assert_string_equal(out, "open source project");
    match_normalise("classes", NULL, 0, out, sizeof(out));
    assert_string_equal(out, "class");
    match_normalise("matches", NULL, 0, out, sizeof(out));
    assert_string_equal(out, "match");
    match_normalise("boxes", NULL, 0, out, sizeof(out));
    assert_string_equal(out, "box");
    match_normalise("css", NULL, 0, out, sizeof(out)); /* not a plural */
    assert_string_equal(out, "css");
    match_normalise("Linux", NULL, 0, out, sizeof(out));
    assert_string_equal(out, "linux");
    match_normalise("analysis", NULL, 0, out, sizeof(out));
    assert_string_equal(out, "analysis");
    match_normalise("Express", NULL, 0, out, sizeof(out));
    assert_string_equal(out, "express");
    assert_int_equal(match_normalise("   ", NULL, 0, out, sizeof(out)), -1);
    assert_int_equal(match_normalise("abcdefgh", NULL, 0, out, 4), -1);

    struct match_synonym syn[] = {{"Docs", "Documentation"}, {"JS", "JavaScript"}};
    match_normalise("doc", syn, 2, out, sizeof(out));
    assert_string_equal(out, "documentation");
    match_normalise("DOCS", syn, 2, out, sizeof(out));
    assert_string_equal(out, "documentation");
    match_normalise("js", syn, 2, out, sizeof(out));
    assert_string_equal(out, "javascript");
    match_normalise("Java", syn, 2, out, sizeof(out));
    assert_string_equal(out, "java");
}

/* ---- circles ---- */

static struct match_person
person(int64_t id, enum match_role role, const char *const *tags, size_t ntags, int capacity)
{
    struct match_person q = {.id = id,
                             .role = role,
                             .tags = tags,
                             .n_tags = ntags,
                             .languages = en,
                             .n_languages = 1,
                             .capacity = capacity,
                             .waiting_since = NOW - id * DAY};
    return q;
}

static int
circle_has(const struct match_circle *c, int64_t id)
{
    for (size_t i = 0; i < c->n_newcomers; i++)
        if (c->newcomers[i] == id)
            return 1;
    return 0;
}

static void
test_circles_group_by_topic(void **state)
{
    static const char *const rust_python[] = {"Rust", "python"};
    static const char *const python[] = {"Python"};
    static const char *const rust[] = {"rust"};
    static const char *const go[] = {"go"};
    struct match_person people[] = {
        person(1, MATCH_MENTOR, rust_python, 2, 1), person(2, MATCH_MENTOR, python, 1, 1),
        person(10, MATCH_NEWCOMER, rust, 1, 0),     person(11, MATCH_NEWCOMER, rust, 1, 0),
        person(12, MATCH_NEWCOMER, rust, 1, 0),     person(13, MATCH_NEWCOMER, python, 1, 0),
        person(14, MATCH_NEWCOMER, python, 1, 0),   person(15, MATCH_NEWCOMER, go, 1, 0),
    };
    struct match_input in = {.people = people, .n_people = 8, .now = NOW};
    struct match_circles out;
    char err[128];

    (void)state;
    assert_int_equal(match_circles(&in, 3, &out, err, sizeof(err)), 0);
    assert_int_equal(out.n_circles, 2);
    /* mentor 1 could lead either topic: rust gathers three, so rust it is */
    assert_int_equal(out.circles[0].mentor, 1);
    assert_string_equal(out.circles[0].topic, "rust");
    assert_int_equal(out.circles[0].n_newcomers, 3);
    for (int64_t id = 10; id <= 12; id++)
        assert_true(circle_has(&out.circles[0], id));
    assert_int_equal(out.circles[1].mentor, 2);
    assert_string_equal(out.circles[1].topic, "python");
    assert_int_equal(out.circles[1].n_newcomers, 2);
    assert_true(circle_has(&out.circles[1], 13) && circle_has(&out.circles[1], 14));
    assert_int_equal(out.n_waitlist, 1);
    assert_int_equal(out.waitlist[0], 15);
    match_circles_free(&out);
}

static void
test_circles_sizes_and_capacity(void **state)
{
    static const char *const rust[] = {"rust"};
    struct match_person people[9];
    struct match_input in = {.people = people, .n_people = 9, .now = NOW};
    struct match_circles out;
    char err[128];

    (void)state;
    people[0] = person(1, MATCH_MENTOR, rust, 1, 2); /* two circles at once */
    for (int i = 1; i < 9; i++)
        people[i] = person(10 + i, MATCH_NEWCOMER, rust, 1, 0);
    assert_int_equal(match_circles(&in, 3, &out, err, sizeof(err)), 0);
    assert_int_equal(out.n_circles, 2);
    assert_int_equal(out.circles[0].n_newcomers, 3);
    assert_int_equal(out.circles[1].n_newcomers, 3);
    /* the longest waiting (higher ids here) go first; two are left, longest waiting first */
    assert_int_equal(out.n_waitlist, 2);
    assert_int_equal(out.waitlist[0], 12);
    assert_int_equal(out.waitlist[1], 11);
    match_circles_free(&out);

    /* one circle already running: one slot left */
    people[0].active_mentees = 1;
    assert_int_equal(match_circles(&in, 4, &out, err, sizeof(err)), 0);
    assert_int_equal(out.n_circles, 1);
    assert_int_equal(out.circles[0].n_newcomers, 4);
    assert_int_equal(out.n_waitlist, 4);
    match_circles_free(&out);

    /* a lone newcomer on a topic makes no circle; a blocked one is left out */
    struct match_block block = {1, 18};
    in.n_people = 3;
    people[2].id = 18;
    in.blocked = &block;
    in.n_blocked = 1;
    assert_int_equal(match_circles(&in, 3, &out, err, sizeof(err)), 0);
    assert_int_equal(out.n_circles, 0);
    assert_int_equal(out.n_waitlist, 2);
    match_circles_free(&out);

    assert_int_equal(match_circles(&in, 1, &out, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "at least 2"));
}

/* Properties on random pools: sizes, shared topic, allowed pairs, slots, everyone once. */
static void
check_circles(const struct pool *p, const struct match_input *in, int size,
              const struct match_circles *out)
{
    char t[MATCH_TOPIC_LEN];
    int seen[MAX_PEOPLE] = {0}, circles_of[MAX_PEOPLE] = {0};

    for (size_t c = 0; c < out->n_circles; c++) {
        const struct match_circle *k = &out->circles[c];
        size_t mi = 0;
        while (mi < p->n_people && p->people[mi].id != k->mentor)
            mi++;
        assert_true(mi < p->n_people);
        circles_of[mi]++;
        assert_true(k->n_newcomers >= 2 && k->n_newcomers <= (size_t)size);
        const struct match_person *all[MAX_PEOPLE + 1];
        size_t n_all = 0;
        all[n_all++] = &p->people[mi];
        for (size_t j = 0; j < k->n_newcomers; j++) {
            size_t ni = 0;
            while (ni < p->n_people && p->people[ni].id != k->newcomers[j])
                ni++;
            assert_true(ni < p->n_people);
            assert_int_equal(seen[ni]++, 0);
            assert_int_equal(p->people[ni].role, MATCH_NEWCOMER);
            assert_true(match_score(&p->people[ni], &p->people[mi], in) > 0);
            all[n_all++] = &p->people[ni];
        }
        for (size_t j = 0; j < n_all; j++) {
            int has = 0;
            for (size_t x = 0; x < all[j]->n_tags; x++)
                has |= match_normalise(all[j]->tags[x], synonyms, 3, t, sizeof(t)) > 0 &&
                       strcmp(t, k->topic) == 0;
            assert_true(has);
        }
    }
    size_t eligible = 0;
    for (size_t i = 0; i < p->n_people; i++) {
        if (p->people[i].role == MATCH_MENTOR)
            assert_true(circles_of[i] <= match_free_slots(&p->people[i], &p->w));
        else if (p->people[i].flags == 0)
            eligible++;
    }
    size_t circled = 0;
    for (size_t c = 0; c < out->n_circles; c++)
        circled += out->circles[c].n_newcomers;
    assert_int_equal(circled + out->n_waitlist, eligible);
}

static void
test_circles_random_properties(void **state)
{
    struct pool p, rev;
    char err[128];

    (void)state;
    srand(4242);
    for (int round = 0; round < 2000; round++) {
        random_pool(&p, 1 + rand() % 7, 1 + rand() % 3);
        int size = 2 + rand() % 3;
        struct match_input in = input_of(&p);
        struct match_circles out, out2;
        assert_int_equal(match_circles(&in, size, &out, err, sizeof(err)), 0);
        check_circles(&p, &in, size, &out);
        /* the same people in reverse order form the same circles */
        rev = p;
        for (size_t i = 0; i < p.n_people; i++)
            rev.people[i] = p.people[p.n_people - 1 - i];
        struct match_input in2 = input_of(&rev);
        assert_int_equal(match_circles(&in2, size, &out2, err, sizeof(err)), 0);
        assert_int_equal(out2.n_circles, out.n_circles);
        for (size_t c = 0; c < out.n_circles; c++) {
            assert_int_equal(out2.circles[c].mentor, out.circles[c].mentor);
            assert_string_equal(out2.circles[c].topic, out.circles[c].topic);
            assert_int_equal(out2.circles[c].n_newcomers, out.circles[c].n_newcomers);
            assert_memory_equal(out2.circles[c].newcomers, out.circles[c].newcomers,
                                out.circles[c].n_newcomers * sizeof(int64_t));
        }
        match_circles_free(&out);
        match_circles_free(&out2);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_brute_force),
        cmocka_unit_test(test_indexed_candidates),
        cmocka_unit_test(test_larger_pool),
        cmocka_unit_test(test_certified_homogeneous),
        cmocka_unit_test(test_certified_adversarial),
        cmocka_unit_test(test_certified_random),
        cmocka_unit_test(test_certified_by_mentors),
        cmocka_unit_test(test_certified_edges),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_language_rule),
        cmocka_unit_test(test_load_spreads),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_tz_overlap),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_circles_group_by_topic),
        cmocka_unit_test(test_circles_sizes_and_capacity),
        cmocka_unit_test(test_circles_random_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
