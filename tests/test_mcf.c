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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
