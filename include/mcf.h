/*
 * mcf: minimum-cost flow on a sparse directed graph.
 *
 * Built for the matcher (a weighted b-matching as a flow problem), but general:
 * nodes 0..n-1 with integer supplies (> 0 produces flow, < 0 consumes it, the
 * sum must be 0), arcs with an integer capacity and an int64 cost per unit.
 * mcf_solve() finds a feasible flow of minimum total cost with the primal
 * network simplex method (LEMON's NetworkSimplex design: block-search pivots,
 * an artificial root, thread/subtree tree updates), after a Bellman-Ford pass
 * that rejects negative-cost cycles (skipped when every arc goes to a node
 * with a higher number: no cycle can exist).  The largest |cost| times the number of
 * nodes must stay below 2^60 (the artificial arcs' cost), else -1.
 *
 * Storage is arrays, not a node per arc: 14 bytes per arc while solving when
 * costs fit in 32 bits and every capacity is the same and below 128 (the
 * matcher's graphs), up to 25 otherwise.
 *
 * Determinism: the result depends only on the order nodes and arcs were
 * given.  Pivots scan the arcs in a fixed interleaved order (stride about
 * sqrt(arcs)), take the most negative reduced cost of the first block that
 * has one (the first scanned on ties), and on ties for the leaving arc follow
 * LEMON's rule.
 *
 * After every solve an O(V + E) check proves optimality from the dual
 * potentials (see mcf_check); mcf_solve() fails if it does not hold.  A
 * caller that checks the flow itself with potentials of its own (the
 * matcher's prices) can leave that out (mcf_set_self_check).
 */
#ifndef MENTORD_MCF_H
#define MENTORD_MCF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Costs are limited so that no path length can overflow int64. */
#define MCF_COST_MAX ((int64_t)1 << 40)

struct mcf;

/* A graph with n_nodes nodes and room for arc_hint arcs (it grows).  NULL on ENOMEM. */
struct mcf *mcf_new(int32_t n_nodes, size_t arc_hint);
void mcf_free(struct mcf *g);

/*
 * Add an arc from -> to with capacity cap >= 0 and cost per unit, |cost| <=
 * MCF_COST_MAX.  Returns the arc number (0, 1, 2, ... in call order), or -1
 * for a bad node, capacity or cost, or when out of memory.  Arcs may be added
 * after a solve (column generation): they start without flow and the next
 * mcf_solve continues from the last optimal basis; a capacity above 127 is
 * then refused when every earlier capacity was below 128.
 */
int32_t mcf_add_arc(struct mcf *g, int32_t from, int32_t to, int32_t cap, int64_t cost);

/* Set a node's supply (> 0 source, < 0 sink).  -1 for a bad node or after a solve. */
int mcf_set_supply(struct mcf *g, int32_t node, int32_t supply);

/*
 * Solve.  0 on success; -1 with err set ("mcf: ...") when supplies do not sum
 * to 0, demand cannot be met, a negative-cost cycle exists, memory runs out or
 * the optimality check fails.  Solving again after mcf_add_arc is a warm
 * start: the last optimal spanning tree stays feasible (the new arcs carry no
 * flow), so only the pivots the new arcs make worthwhile are done (a new cost
 * larger than every earlier one restarts cold).  After a failed solve the
 * graph cannot be solved again.
 */
int mcf_solve(struct mcf *g, char *err, size_t errlen);

/*
 * on 0: mcf_solve leaves out its own optimality check; the caller proves the
 * flow optimal itself (mcf_check with its potentials) before relying on it.
 * On by default.
 */
void mcf_set_self_check(struct mcf *g, int on);

int32_t mcf_n_nodes(const struct mcf *g);
int32_t mcf_n_arcs(const struct mcf *g);
int32_t mcf_arc_tail(const struct mcf *g, int32_t arc);
int32_t mcf_arc_head(const struct mcf *g, int32_t arc);
int32_t mcf_arc_cap(const struct mcf *g, int32_t arc);
int64_t mcf_arc_cost(const struct mcf *g, int32_t arc);

/* After a successful solve: the flow on an arc, a node's potential, the total cost. */
int32_t mcf_flow(const struct mcf *g, int32_t arc);
int64_t mcf_potential(const struct mcf *g, int32_t node);
int64_t mcf_total_cost(const struct mcf *g);

/* Bytes held by the graph's arrays (for the benchmark's memory report). */
size_t mcf_bytes(const struct mcf *g);

/*
 * The optimality certificate, O(V + E): flow (one entry per arc) respects the
 * capacities and the supplies, and with potentials pot (one per node) every
 * arc with residual capacity has reduced cost cost + pot[tail] - pot[head] >= 0
 * and every arc carrying flow has reduced cost <= 0 (complementary slackness).
 * Returns 0 when the flow is provably optimal, else -1 naming the first arc
 * or node that breaks the rule.  mcf_solve() runs it on its own result;
 * flow NULL checks the graph's own (solved) flow.
 */
int mcf_check(const struct mcf *g, const int32_t *flow, const int64_t *pot, char *err,
              size_t errlen);

/*
 * fn(arg, tail, head, flow, cost) for every arc with flow after a solve, in
 * memory order (not by arc number): cheaper than the accessors arc by arc.
 */
void mcf_each_flow(const struct mcf *g, void (*fn)(void *, int32_t, int32_t, int32_t, int64_t),
                   void *arg);

/*
 * Write the graph as a DIMACS minimum-cost-flow problem ("p min", "n", "a"
 * lines, nodes numbered from 1), which LEMON and other solvers read.
 * 0, or -1 on a write error.
 */
int mcf_write_dimacs(const struct mcf *g, FILE *out);

#endif
