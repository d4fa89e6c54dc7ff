/* Tests for mcf: known optima, errors, the optimality certificate, DIMACS output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcf.h"

/* Two newcomers (0, 1), two mentors (2, 3), sink 4: the unique optimum pairs 0-3 and 1-2. */
static struct mcf *
small_assignment(int32_t arcs[4])
{
    struct mcf *g = mcf_new(5, 2);
    assert_non_null(g);
    arcs[0] = mcf_add_arc(g, 0, 2, 1, -5);
    arcs[1] = mcf_add_arc(g, 0, 3, 1, -4);
    arcs[2] = mcf_add_arc(g, 1, 2, 1, -4);
    arcs[3] = mcf_add_arc(g, 1, 3, 1, -1);
    assert_int_equal(mcf_add_arc(g, 2, 4, 1, 0), 4);
    assert_int_equal(mcf_add_arc(g, 3, 4, 1, 0), 5);
    assert_int_equal(mcf_set_supply(g, 0, 1), 0);
    assert_int_equal(mcf_set_supply(g, 1, 1), 0);
    assert_int_equal(mcf_set_supply(g, 4, -2), 0);
    return g;
}

static void
test_assignment_optimum(void **state)
{
    (void)state;
    int32_t a[4];
    struct mcf *g = small_assignment(a);
    char err[256] = "";
    assert_int_equal(mcf_solve(g, err, sizeof(err)), 0);
    assert_int_equal(mcf_total_cost(g), -8);
    assert_int_equal(mcf_flow(g, a[0]), 0);
    assert_int_equal(mcf_flow(g, a[1]), 1);
    assert_int_equal(mcf_flow(g, a[2]), 1);
    assert_int_equal(mcf_flow(g, a[3]), 0);
    mcf_free(g);
}

static void
test_capacities_and_paths(void **state)
{
    (void)state;
    /* 4 units from 0 to 3: 2 via 0-2-3 (cost 3 each), 2 via 0-1-2-3 (4 each) = 14. */
    struct mcf *g = mcf_new(4, 0);
    assert_non_null(g);
    assert_true(mcf_add_arc(g, 0, 1, 4, 2) >= 0);
    assert_true(mcf_add_arc(g, 0, 2, 2, 2) >= 0);
    assert_true(mcf_add_arc(g, 1, 2, 2, 1) >= 0);
    assert_true(mcf_add_arc(g, 1, 3, 3, 3) >= 0);
    assert_true(mcf_add_arc(g, 2, 3, 5, 1) >= 0);
    mcf_set_supply(g, 0, 4);
    mcf_set_supply(g, 3, -4);
    char err[256] = "";
    assert_int_equal(mcf_solve(g, err, sizeof(err)), 0);
    assert_int_equal(mcf_total_cost(g), 14);
    assert_int_equal(mcf_flow(g, 4), 4); /* 2->3 carries everything but 1->3 */
    assert_int_equal(mcf_flow(g, 3), 0);
    mcf_free(g);
}

/* An unmatched arc of cost 0 makes the solver stop when matching adds nothing. */
static void
test_prefers_value_over_cardinality(void **state)
{
    (void)state;
    struct mcf *g = mcf_new(3, 0);
    int32_t pair = mcf_add_arc(g, 0, 1, 1, -3);
    int32_t skip = mcf_add_arc(g, 0, 2, 1, 0);
    int32_t slot = mcf_add_arc(g, 1, 2, 1, 5); /* load cost above the score */
    mcf_set_supply(g, 0, 1);
    mcf_set_supply(g, 2, -1);
    char err[256];
    assert_int_equal(mcf_solve(g, err, sizeof(err)), 0);
    assert_int_equal(mcf_flow(g, pair), 0);
    assert_int_equal(mcf_flow(g, skip), 1);
    assert_int_equal(mcf_flow(g, slot), 0);
    assert_int_equal(mcf_total_cost(g), 0);
    mcf_free(g);
}

static void
test_errors(void **state)
{
    (void)state;
    char err[256];
    struct mcf *g = mcf_new(3, 0);
    assert_int_equal(mcf_add_arc(g, 0, 3, 1, 0), -1);
    assert_int_equal(mcf_add_arc(g, -1, 0, 1, 0), -1);
    assert_int_equal(mcf_add_arc(g, 0, 1, -1, 0), -1);
    assert_int_equal(mcf_add_arc(g, 0, 1, 1, MCF_COST_MAX + 1), -1);
    assert_int_equal(mcf_set_supply(g, 3, 1), -1);
    /* Supplies that do not balance. */
    mcf_set_supply(g, 0, 2);
    mcf_set_supply(g, 2, -1);
    assert_int_equal(mcf_solve(g, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "sum to 1"));
    assert_int_equal(mcf_solve(g, err, sizeof(err)), -1); /* solved once only */
    mcf_free(g);

    /* Demand out of reach. */
    g = mcf_new(3, 0);
    mcf_add_arc(g, 0, 1, 1, 1);
    mcf_set_supply(g, 0, 1);
    mcf_set_supply(g, 2, -1);
    assert_int_equal(mcf_solve(g, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot reach"));
    mcf_free(g);

    /* A negative cycle. */
    g = mcf_new(3, 0);
    mcf_add_arc(g, 0, 1, 1, -2);
    mcf_add_arc(g, 1, 2, 1, -2);
    mcf_add_arc(g, 2, 0, 1, -2);
    assert_int_equal(mcf_solve(g, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "negative-cost cycle"));
    mcf_free(g);
}

static void
copy_solution(const struct mcf *g, int32_t *flow, int64_t *pot)
{
    for (int32_t a = 0; a < mcf_n_arcs(g); a++)
        flow[a] = mcf_flow(g, a);
    for (int32_t v = 0; v < mcf_n_nodes(g); v++)
        pot[v] = mcf_potential(g, v);
}

static void
test_check_detects_corruption(void **state)
{
    (void)state;
    int32_t a[4], flow[6];
    int64_t pot[5];
    struct mcf *g = small_assignment(a);
    char err[256] = "";
    assert_int_equal(mcf_solve(g, err, sizeof(err)), 0);
    copy_solution(g, flow, pot);
    assert_int_equal(mcf_check(g, flow, pot, err, sizeof(err)), 0);

    /* The other perfect matching: feasible, but cost -6 instead of -8. */
    flow[a[0]] = 1, flow[a[1]] = 0, flow[a[2]] = 0, flow[a[3]] = 1;
    assert_int_equal(mcf_check(g, flow, pot, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not optimal"));

    /* A flow that breaks conservation. */
    copy_solution(g, flow, pot);
    flow[a[2]] = 0;
    assert_int_equal(mcf_check(g, flow, pot, err, sizeof(err)), -1);

    /* Over capacity. */
    copy_solution(g, flow, pot);
    flow[a[1]] = 2;
    assert_int_equal(mcf_check(g, flow, pot, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "outside"));

    /* Potentials that do not certify the (optimal) flow. */
    copy_solution(g, flow, pot);
    pot[3] += 100;
    assert_int_equal(mcf_check(g, flow, pot, err, sizeof(err)), -1);
    mcf_free(g);
}

/* Random assignment problems (n x n, every pair) against all permutations. */
static int64_t
best_permutation(int n, int64_t cost[6][6], int row, unsigned used)
{
    if (row == n)
        return 0;
    int64_t best = INT64_MAX;
    for (int j = 0; j < n; j++) {
        if (used & (1u << j))
            continue;
        int64_t c = cost[row][j] + best_permutation(n, cost, row + 1, used | (1u << j));
        if (c < best)
            best = c;
    }
    return best;
}

static void
test_random_assignments(void **state)
{
    (void)state;
    srand(7);
    for (int iter = 0; iter < 500; iter++) {
        int n = 1 + rand() % 6;
        int64_t cost[6][6];
        struct mcf *g = mcf_new(2 * n + 1, 0);
        for (int i = 0; i < n; i++) {
            mcf_set_supply(g, i, 1);
            for (int j = 0; j < n; j++) {
                cost[i][j] = rand() % 41 - 20;
                assert_true(mcf_add_arc(g, i, n + j, 1, cost[i][j]) >= 0);
            }
        }
        for (int j = 0; j < n; j++)
            assert_true(mcf_add_arc(g, n + j, 2 * n, 1, 0) >= 0);
        mcf_set_supply(g, 2 * n, -n);
        char err[256] = "";
        assert_int_equal(mcf_solve(g, err, sizeof(err)), 0);
        assert_int_equal(mcf_total_cost(g), best_permutation(n, cost, 0, 0));
        mcf_free(g);
    }
}

static void
test_dimacs(void **state)
{
    (void)state;
    int32_t a[4];
    struct mcf *g = small_assignment(a);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(mcf_write_dimacs(g, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "p min 5 6\n"));
    assert_non_null(strstr(buf, "n 1 1\n"));
    assert_non_null(strstr(buf, "n 5 -2\n"));
    assert_non_null(strstr(buf, "a 1 3 0 1 -5\n"));
    assert_non_null(strstr(buf, "a 4 5 0 1 0\n"));
    free(buf);
    mcf_free(g);
}

/* ---- general graphs against a plain reference solver ---- */

#define REF_MAX_NODES 40
#define REF_MAX_ARCS 400

struct ref_graph {
    int n, m;
    int tail[REF_MAX_ARCS], head[REF_MAX_ARCS], cap[REF_MAX_ARCS];
    int64_t cost[REF_MAX_ARCS];
    int supply[REF_MAX_NODES];
};

/*
 * Successive shortest paths with Bellman-Ford from a super source to a super
 * sink: slow and obviously correct.  Returns 0 and the optimum in *total, or
 * -1 when the supplies cannot all be routed.
 */
static int
ref_solve(const struct ref_graph *r, int64_t *total)
{
    int n = r->n + 2, src = r->n, snk = r->n + 1, m = 0;
    static int tl[2 * (REF_MAX_ARCS + REF_MAX_NODES)], hd[2 * (REF_MAX_ARCS + REF_MAX_NODES)],
        res[2 * (REF_MAX_ARCS + REF_MAX_NODES)];
    static int64_t cs[2 * (REF_MAX_ARCS + REF_MAX_NODES)];
    int need = 0;
#define REF_ARC(u, v, c, w)                                                                        \
    do {                                                                                           \
        tl[m] = (u), hd[m] = (v), res[m] = (c), cs[m] = (w), m++;                                  \
        tl[m] = (v), hd[m] = (u), res[m] = 0, cs[m] = -(w), m++;                                   \
    } while (0)
    for (int a = 0; a < r->m; a++)
        REF_ARC(r->tail[a], r->head[a], r->cap[a], r->cost[a]);
    for (int v = 0; v < r->n; v++) {
        if (r->supply[v] > 0) {
            REF_ARC(src, v, r->supply[v], 0);
            need += r->supply[v];
        } else if (r->supply[v] < 0) {
            REF_ARC(v, snk, -r->supply[v], 0);
        }
    }
#undef REF_ARC
    *total = 0;
    while (need > 0) {
        int64_t dist[REF_MAX_NODES + 2];
        int pred[REF_MAX_NODES + 2];
        for (int v = 0; v < n; v++)
            dist[v] = INT64_MAX, pred[v] = -1;
        dist[src] = 0;
        for (int pass = 0; pass < n; pass++)
            for (int e = 0; e < m; e++)
                if (res[e] > 0 && dist[tl[e]] != INT64_MAX && dist[tl[e]] + cs[e] < dist[hd[e]])
                    dist[hd[e]] = dist[tl[e]] + cs[e], pred[hd[e]] = e;
        if (dist[snk] == INT64_MAX)
            return -1;
        int amount = need;
        for (int v = snk; v != src; v = tl[pred[v]])
            amount = res[pred[v]] < amount ? res[pred[v]] : amount;
        for (int v = snk; v != src; v = tl[pred[v]]) {
            res[pred[v]] -= amount;
            res[pred[v] ^ 1] += amount;
        }
        *total += amount * dist[snk];
        need -= amount;
    }
    return 0;
}

/*
 * A random graph without negative cycles: cost = scale * (r + p[v] - p[u])
 * with r >= 0, so every cycle costs scale * sum(r) >= 0 while single arcs are
 * often negative.  Capacities up to 300 (flows wider than a byte) or all 1.
 */
static void
random_graph(struct ref_graph *r, int unit, int64_t scale)
{
    memset(r, 0, sizeof(*r));
    r->n = 5 + rand() % (REF_MAX_NODES - 5);
    r->m = r->n + rand() % (REF_MAX_ARCS - r->n);
    int p[REF_MAX_NODES];
    for (int v = 0; v < r->n; v++)
        p[v] = rand() % 50;
    for (int a = 0; a < r->m; a++) {
        r->tail[a] = rand() % r->n;
        r->head[a] = (r->tail[a] + 1 + rand() % (r->n - 1)) % r->n;
        r->cap[a] = unit ? 1 : rand() % 301;
        r->cost[a] = scale * (rand() % 20 + p[r->head[a]] - p[r->tail[a]]);
    }
    int units = 1 + rand() % (unit ? 10 : 400);
    for (int i = 0; i < units; i++) {
        r->supply[rand() % r->n]++;
        r->supply[rand() % r->n]--;
    }
}

static struct mcf *
build_ref(const struct ref_graph *r)
{
    struct mcf *g = mcf_new(r->n, 1);
    assert_non_null(g);
    for (int a = 0; a < r->m; a++)
        assert_int_equal(mcf_add_arc(g, r->tail[a], r->head[a], r->cap[a], r->cost[a]), a);
    for (int v = 0; v < r->n; v++)
        assert_int_equal(mcf_set_supply(g, v, r->supply[v]), 0);
    return g;
}

/* The flow read back arc by arc respects capacities and supplies and has the total cost. */
static void
assert_flow_consistent(const struct mcf *g, const struct ref_graph *r)
{
    int64_t bal[REF_MAX_NODES] = {0}, total = 0;
    for (int a = 0; a < r->m; a++) {
        int32_t f = mcf_flow(g, a);
        assert_true(f >= 0 && f <= r->cap[a]);
        assert_int_equal(mcf_arc_tail(g, a), r->tail[a]);
        assert_int_equal(mcf_arc_head(g, a), r->head[a]);
        assert_int_equal(mcf_arc_cap(g, a), r->cap[a]);
        assert_int_equal(mcf_arc_cost(g, a), r->cost[a]);
        bal[r->tail[a]] += f;
        bal[r->head[a]] -= f;
        total += f * r->cost[a];
    }
    for (int v = 0; v < r->n; v++)
        assert_int_equal(bal[v], r->supply[v]);
    assert_int_equal(total, mcf_total_cost(g));
}

static void
run_random_graphs(int unit, int64_t scale, int iterations)
{
    int solved = 0, infeasible = 0;
    for (int iter = 0; iter < iterations; iter++) {
        struct ref_graph r;
        random_graph(&r, unit, scale);
        int64_t want = 0;
        int ref_rc = ref_solve(&r, &want);
        struct mcf *g = build_ref(&r);
        char err[256] = "";
        int rc = mcf_solve(g, err, sizeof(err));
        assert_int_equal(rc, ref_rc);
        if (rc == 0) {
            assert_int_equal(mcf_total_cost(g), want);
            assert_flow_consistent(g, &r);
            solved++;
        } else {
            assert_true(strstr(err, "cannot reach") != NULL || strstr(err, "unmet") != NULL);
            infeasible++;
        }
        mcf_free(g);
    }
    /* Both outcomes were exercised. */
    assert_true(solved > iterations / 4);
    assert_true(infeasible > 0);
}

static void
test_random_graphs(void **state)
{
    (void)state;
    srand(11);
    run_random_graphs(0, 1, 400); /* mixed capacities: 32-bit flows */
    run_random_graphs(1, 1, 400); /* unit capacities: byte flows */
}

/*
 * Warm start: solve on the first arcs, add the rest in two batches and solve
 * again each time; the end result is the optimum of the whole graph.  Wide
 * costs exercise the cold restart (a new cost beyond the artificial arcs'
 * bound) and the switch to 64-bit costs after a solve.
 */
static void
run_warm_graphs(int unit, int64_t scale, int iterations)
{
    int warm = 0;
    for (int iter = 0; iter < iterations; iter++) {
        struct ref_graph r;
        random_graph(&r, unit, scale);
        int64_t want = 0;
        if (ref_solve(&r, &want) != 0)
            continue;
        struct mcf *g = mcf_new(r.n, 1);
        assert_non_null(g);
        int first = r.m / 3, second = 2 * r.m / 3, max_cap = 0;
        for (int v = 0; v < r.n; v++)
            assert_int_equal(mcf_set_supply(g, v, r.supply[v]), 0);
        for (int a = 0; a < first; a++) {
            assert_int_equal(mcf_add_arc(g, r.tail[a], r.head[a], r.cap[a], r.cost[a]), a);
            max_cap = r.cap[a] > max_cap ? r.cap[a] : max_cap;
        }
        char err[256] = "";
        if (mcf_solve(g, err, sizeof(err)) != 0) { /* the first third alone may not route */
            mcf_free(g);
            continue;
        }
        assert_int_equal(mcf_set_supply(g, 0, 1), -1); /* supplies are fixed now */
        int ok = 1;
        for (int a = first; a < r.m && ok; a++) {
            int32_t got = mcf_add_arc(g, r.tail[a], r.head[a], r.cap[a], r.cost[a]);
            if (max_cap <= 127 && r.cap[a] > 127) { /* byte flows cannot take it */
                assert_int_equal(got, -1);
                ok = 0;
                break;
            }
            assert_int_equal(got, a);
            if (a == second)
                assert_int_equal(mcf_solve(g, err, sizeof(err)), 0);
        }
        if (ok) {
            assert_int_equal(mcf_solve(g, err, sizeof(err)), 0);
            assert_int_equal(mcf_total_cost(g), want);
            assert_flow_consistent(g, &r);
            assert_int_equal(mcf_solve(g, err, sizeof(err)), 0); /* nothing new: still optimal */
            assert_int_equal(mcf_total_cost(g), want);
            warm++;
        }
        mcf_free(g);
    }
    assert_true(warm > iterations / 10);
}

static void
test_warm_start(void **state)
{
    (void)state;
    srand(13);
    run_warm_graphs(1, 1, 400);
    run_warm_graphs(0, 1, 400);
    run_warm_graphs(1, (int64_t)1 << 33, 200);
}

/* Costs beyond 32 bits switch the storage to 64 bits without changing the answer. */
static void
test_wide_costs(void **state)
{
    (void)state;
    srand(12);
    run_random_graphs(0, (int64_t)1 << 33, 200);
}

/* The certificate holds on the graph's own flow (NULL) and its potentials. */
static void
test_check_own_flow(void **state)
{
    (void)state;
    srand(13);
    for (int iter = 0; iter < 50; iter++) {
        struct ref_graph r;
        random_graph(&r, 0, 1);
        struct mcf *g = build_ref(&r);
        char err[256] = "";
        if (mcf_solve(g, err, sizeof(err)) == 0) {
            int64_t pot[REF_MAX_NODES];
            for (int v = 0; v < r.n; v++)
                pot[v] = mcf_potential(g, v);
            assert_int_equal(mcf_check(g, NULL, pot, err, sizeof(err)), 0);
            pot[0] += 1000000; /* moving one potential breaks complementary slackness */
            int breaks = 0;    /* an arc out of 0 with flow, or into 0 with room */
            for (int a = 0; a < r.m; a++)
                breaks |= (r.tail[a] == 0 && mcf_flow(g, a) > 0) ||
                          (r.head[a] == 0 && mcf_flow(g, a) < r.cap[a]);
            assert_int_equal(mcf_check(g, NULL, pot, err, sizeof(err)), breaks ? -1 : 0);
        }
        mcf_free(g);
    }
}

/* Same graph, same flow: ties (many equal costs) are broken the same way. */
static void
test_deterministic(void **state)
{
    (void)state;
    for (int iter = 0; iter < 50; iter++) {
        struct ref_graph r;
        srand(100 + iter);
        random_graph(&r, 1, 1);
        for (int a = 0; a < r.m; a++)
            r.cost[a] = -(rand() % 2); /* only 0 and -1: many optima */
        for (int a = 0; a < r.m; a++)  /* no negative cycle: arcs only go upwards */
            if (r.tail[a] > r.head[a]) {
                int x = r.tail[a];
                r.tail[a] = r.head[a];
                r.head[a] = x;
            }
        struct mcf *g1 = build_ref(&r), *g2 = build_ref(&r);
        char err[256];
        int rc = mcf_solve(g1, err, sizeof(err));
        assert_int_equal(mcf_solve(g2, err, sizeof(err)), rc);
        for (int a = 0; rc == 0 && a < r.m; a++)
            assert_int_equal(mcf_flow(g1, a), mcf_flow(g2, a));
        mcf_free(g1);
        mcf_free(g2);
    }
}

/* Costs so large that the artificial arcs' cost could overflow are refused, not mis-solved. */
static void
test_cost_range(void **state)
{
    (void)state;
    struct mcf *g = mcf_new(1 << 21, 0);
    assert_non_null(g);
    assert_true(mcf_add_arc(g, 0, 1, 1, MCF_COST_MAX) >= 0);
    mcf_set_supply(g, 0, 1);
    mcf_set_supply(g, 1, -1);
    char err[256] = "";
    assert_int_equal(mcf_solve(g, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "overflow"));
    mcf_free(g);

    /* The same arc on a small graph is fine. */
    g = mcf_new(2, 0);
    assert_true(mcf_add_arc(g, 0, 1, 1, MCF_COST_MAX) >= 0);
    mcf_set_supply(g, 0, 1);
    mcf_set_supply(g, 1, -1);
    assert_int_equal(mcf_solve(g, err, sizeof(err)), 0);
    assert_int_equal(mcf_total_cost(g), MCF_COST_MAX);
    mcf_free(g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assignment_optimum),
        cmocka_unit_test(test_capacities_and_paths),
        cmocka_unit_test(test_prefers_value_over_cardinality),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_random_assignments),
        cmocka_unit_test(test_dimacs),
        cmocka_unit_test(test_random_graphs),
        cmocka_unit_test(test_wide_costs),
        cmocka_unit_test(test_warm_start),
        cmocka_unit_test(test_check_own_flow),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_cost_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
