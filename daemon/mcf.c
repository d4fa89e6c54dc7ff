/*
 * mcf: minimum-cost flow by successive shortest paths with Johnson potentials.
 *
 * Arcs live in parallel arrays (tail, head, cap, flow, cost).  While solving,
 * a compressed adjacency lists every arc twice, as a forward residual arc
 * "ref = 2 * arc" and a backward one "ref = 2 * arc + 1", grouped by the node
 * they leave; that is the only extra per-arc memory (8 bytes).
 */
#include "mcf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define POS_UNSEEN (-1) /* not reached by the current Dijkstra */
#define POS_DONE (-2)   /* distance final */

struct mcf {
    int32_t n_nodes;
    int32_t n_arcs;
    size_t arc_room;
    int32_t *tail, *head, *cap, *flow;
    int64_t *cost;
    int32_t *supply;
    int64_t *pot;
    int64_t total_cost;
    int solved;
};

/* Scratch space of one solve. */
struct work {
    int32_t *first; /* n_nodes + 1 offsets into adj */
    int32_t *adj;   /* residual arc refs grouped by the node they leave */
    int64_t *excess;
    int64_t *dist;
    int32_t *pred; /* residual arc ref used to reach the node */
    int32_t *pos;  /* heap position, POS_UNSEEN or POS_DONE */
    int32_t *heap;
    int32_t heap_len;
    int32_t *touched; /* nodes whose pos was changed in this Dijkstra */
    int32_t n_touched;
};

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

struct mcf *
mcf_new(int32_t n_nodes, size_t arc_hint)
{
    if (n_nodes <= 0)
        return NULL;
    struct mcf *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->n_nodes = n_nodes;
    g->supply = calloc((size_t)n_nodes, sizeof(*g->supply));
    g->pot = calloc((size_t)n_nodes, sizeof(*g->pot));
    if (g->supply == NULL || g->pot == NULL) {
        mcf_free(g);
        return NULL;
    }
    g->arc_room = arc_hint > 0 ? arc_hint : 16;
    g->tail = malloc(g->arc_room * sizeof(*g->tail));
    g->head = malloc(g->arc_room * sizeof(*g->head));
    g->cap = malloc(g->arc_room * sizeof(*g->cap));
    g->flow = malloc(g->arc_room * sizeof(*g->flow));
    g->cost = malloc(g->arc_room * sizeof(*g->cost));
    if (g->tail == NULL || g->head == NULL || g->cap == NULL || g->flow == NULL ||
        g->cost == NULL) {
        mcf_free(g);
        return NULL;
    }
    return g;
}

void
mcf_free(struct mcf *g)
{
    if (g == NULL)
        return;
    free(g->tail);
    free(g->head);
    free(g->cap);
    free(g->flow);
    free(g->cost);
    free(g->supply);
    free(g->pot);
    free(g);
}

static int
grow(void **p, size_t room, size_t size)
{
    void *q = realloc(*p, room * size);
    if (q == NULL)
        return -1;
    *p = q;
    return 0;
}

static int
grow_arcs(struct mcf *g)
{
    if (g->arc_room >= (size_t)INT32_MAX)
        return -1;
    size_t room = g->arc_room * 2;
    if (room > (size_t)INT32_MAX)
        room = (size_t)INT32_MAX;
    /* Each array is resized on its own; a failure leaves the old ones valid. */
    if (grow((void **)&g->tail, room, sizeof(*g->tail)) != 0 ||
        grow((void **)&g->head, room, sizeof(*g->head)) != 0 ||
        grow((void **)&g->cap, room, sizeof(*g->cap)) != 0 ||
        grow((void **)&g->flow, room, sizeof(*g->flow)) != 0 ||
        grow((void **)&g->cost, room, sizeof(*g->cost)) != 0)
        return -1;
    g->arc_room = room;
    return 0;
}

int32_t
mcf_add_arc(struct mcf *g, int32_t from, int32_t to, int32_t cap, int64_t cost)
{
    if (g == NULL || g->solved || from < 0 || from >= g->n_nodes || to < 0 || to >= g->n_nodes ||
        cap < 0 || cost > MCF_COST_MAX || cost < -MCF_COST_MAX)
        return -1;
    if ((size_t)g->n_arcs == g->arc_room && grow_arcs(g) != 0)
        return -1;
    int32_t a = g->n_arcs++;
    g->tail[a] = from;
    g->head[a] = to;
    g->cap[a] = cap;
    g->flow[a] = 0;
    g->cost[a] = cost;
    return a;
}

int
mcf_set_supply(struct mcf *g, int32_t node, int32_t supply)
{
    if (g == NULL || node < 0 || node >= g->n_nodes)
        return -1;
    g->supply[node] = supply;
    return 0;
}

int32_t
mcf_n_nodes(const struct mcf *g)
{
    return g->n_nodes;
}

int32_t
mcf_n_arcs(const struct mcf *g)
{
    return g->n_arcs;
}

int32_t
mcf_arc_tail(const struct mcf *g, int32_t arc)
{
    return g->tail[arc];
}

int32_t
mcf_arc_head(const struct mcf *g, int32_t arc)
{
    return g->head[arc];
}

int32_t
mcf_arc_cap(const struct mcf *g, int32_t arc)
{
    return g->cap[arc];
}

int64_t
mcf_arc_cost(const struct mcf *g, int32_t arc)
{
    return g->cost[arc];
}

int32_t
mcf_flow(const struct mcf *g, int32_t arc)
{
    return g->flow[arc];
}

int64_t
mcf_potential(const struct mcf *g, int32_t node)
{
    return g->pot[node];
}

int64_t
mcf_total_cost(const struct mcf *g)
{
    return g->total_cost;
}

size_t
mcf_bytes(const struct mcf *g)
{
    return g->arc_room * (4 * sizeof(int32_t) + sizeof(int64_t)) +
           (size_t)g->n_nodes * (sizeof(int32_t) + sizeof(int64_t));
}

/* ---- residual arcs ---- */

static inline int32_t
ref_from(const struct mcf *g, int32_t ref)
{
    return (ref & 1) ? g->head[ref >> 1] : g->tail[ref >> 1];
}

static inline int32_t
ref_to(const struct mcf *g, int32_t ref)
{
    return (ref & 1) ? g->tail[ref >> 1] : g->head[ref >> 1];
}

static inline int32_t
ref_residual(const struct mcf *g, int32_t ref)
{
    int32_t a = ref >> 1;
    return (ref & 1) ? g->flow[a] : g->cap[a] - g->flow[a];
}

static inline int64_t
ref_cost(const struct mcf *g, int32_t ref)
{
    return (ref & 1) ? -g->cost[ref >> 1] : g->cost[ref >> 1];
}

/* ---- scratch space ---- */

static void
work_free(struct work *w)
{
    free(w->first);
    free(w->adj);
    free(w->excess);
    free(w->dist);
    free(w->pred);
    free(w->pos);
    free(w->heap);
    free(w->touched);
    memset(w, 0, sizeof(*w));
}

/* Counting sort of the residual arc refs by the node they leave; stable, so
 * each node's arcs keep insertion order (forward before backward per arc). */
static int
build_adjacency(const struct mcf *g, struct work *w)
{
    size_t n = (size_t)g->n_nodes;
    w->first = calloc(n + 1, sizeof(*w->first));
    w->adj = malloc(2 * (size_t)g->n_arcs * sizeof(*w->adj) + 1);
    if (w->first == NULL || w->adj == NULL)
        return -1;
    for (int32_t a = 0; a < g->n_arcs; a++) {
        w->first[g->tail[a] + 1]++;
        w->first[g->head[a] + 1]++;
    }
    for (size_t v = 0; v < n; v++)
        w->first[v + 1] += w->first[v];
    /* Fill using heap space as the per-node cursor to avoid another array. */
    int32_t *cursor = w->pos;
    memcpy(cursor, w->first, n * sizeof(*cursor));
    for (int32_t ref = 0; ref < 2 * g->n_arcs; ref++) {
        int32_t u = ref_from(g, ref);
        w->adj[cursor[u]++] = ref;
    }
    return 0;
}

static int
work_init(const struct mcf *g, struct work *w)
{
    size_t n = (size_t)g->n_nodes;
    memset(w, 0, sizeof(*w));
    w->excess = malloc(n * sizeof(*w->excess));
    w->dist = malloc(n * sizeof(*w->dist));
    w->pred = malloc(n * sizeof(*w->pred));
    w->pos = malloc(n * sizeof(*w->pos));
    w->heap = malloc(n * sizeof(*w->heap));
    w->touched = malloc(n * sizeof(*w->touched));
    if (w->excess == NULL || w->dist == NULL || w->pred == NULL || w->pos == NULL ||
        w->heap == NULL || w->touched == NULL || build_adjacency(g, w) != 0) {
        work_free(w);
        return -1;
    }
    for (size_t v = 0; v < n; v++) {
        w->excess[v] = g->supply[v];
        w->pos[v] = POS_UNSEEN;
    }
    return 0;
}

/* ---- initial potentials ---- */

/*
 * Shortest distances from a virtual root joined to every node by a 0-cost
 * arc, so every arc with capacity gets a non-negative reduced cost.  Passes of
 * Bellman-Ford; the matcher's three-layer graph settles in two or three.
 */
static int
init_potentials(struct mcf *g, char *err, size_t errlen)
{
    memset(g->pot, 0, (size_t)g->n_nodes * sizeof(*g->pot));
    for (int32_t pass = 0; pass <= g->n_nodes; pass++) {
        int changed = 0;
        for (int32_t a = 0; a < g->n_arcs; a++) {
            if (g->cap[a] == 0)
                continue;
            int64_t d = g->pot[g->tail[a]] + g->cost[a];
            if (d < g->pot[g->head[a]]) {
                g->pot[g->head[a]] = d;
                changed = 1;
            }
        }
        if (!changed)
            return 0;
    }
    set_err(err, errlen, "mcf: the graph has a negative-cost cycle");
    return -1;
}

/* ---- binary heap of nodes keyed by (dist, node) ---- */

static inline int
heap_less(const struct work *w, int32_t a, int32_t b)
{
    return w->dist[a] < w->dist[b] || (w->dist[a] == w->dist[b] && a < b);
}

static void
heap_up(struct work *w, int32_t i)
{
    int32_t v = w->heap[i];
    while (i > 0) {
        int32_t parent = (i - 1) / 2;
        if (!heap_less(w, v, w->heap[parent]))
            break;
        w->heap[i] = w->heap[parent];
        w->pos[w->heap[i]] = i;
        i = parent;
    }
    w->heap[i] = v;
    w->pos[v] = i;
}

static void
heap_down(struct work *w, int32_t i)
{
    int32_t v = w->heap[i];
    for (;;) {
        int32_t c = 2 * i + 1;
        if (c >= w->heap_len)
            break;
        if (c + 1 < w->heap_len && heap_less(w, w->heap[c + 1], w->heap[c]))
            c++;
        if (!heap_less(w, w->heap[c], v))
            break;
        w->heap[i] = w->heap[c];
        w->pos[w->heap[i]] = i;
        i = c;
    }
    w->heap[i] = v;
    w->pos[v] = i;
}

static int32_t
heap_pop(struct work *w)
{
    int32_t top = w->heap[0];
    w->heap_len--;
    if (w->heap_len > 0) {
        w->heap[0] = w->heap[w->heap_len];
        heap_down(w, 0);
    }
    w->pos[top] = POS_DONE;
    return top;
}

/* Label v with distance d via residual arc ref (or improve its label). */
static void
relax(struct work *w, int32_t v, int64_t d, int32_t ref)
{
    if (w->pos[v] == POS_UNSEEN) {
        w->touched[w->n_touched++] = v;
        w->dist[v] = d;
        w->pred[v] = ref;
        w->heap[w->heap_len] = v;
        heap_up(w, w->heap_len++);
    } else if (d < w->dist[v]) {
        w->dist[v] = d;
        w->pred[v] = ref;
        heap_up(w, w->pos[v]);
    }
}

/*
 * Dijkstra on reduced costs from s until a node with a deficit is final.
 * Returns that node, or -1 when none can be reached.
 */
static int32_t
shortest_path(const struct mcf *g, struct work *w, int32_t s)
{
    for (int32_t i = 0; i < w->n_touched; i++)
        w->pos[w->touched[i]] = POS_UNSEEN;
    w->n_touched = 0;
    w->heap_len = 0;
    relax(w, s, 0, -1);
    while (w->heap_len > 0) {
        int32_t u = heap_pop(w);
        if (w->excess[u] < 0)
            return u;
        int64_t du = w->dist[u] + g->pot[u];
        for (int32_t i = w->first[u]; i < w->first[u + 1]; i++) {
            int32_t ref = w->adj[i];
            if (ref_residual(g, ref) == 0)
                continue;
            int32_t v = ref_to(g, ref);
            if (w->pos[v] == POS_DONE)
                continue;
            relax(w, v, du + ref_cost(g, ref) - g->pot[v], ref);
        }
    }
    return -1;
}

/*
 * Final nodes move their potential by dist - D (D = the distance of the
 * deficit node reached); the rest keep theirs.  Every residual arc keeps a
 * non-negative reduced cost and the path's arcs get reduced cost 0.
 */
static void
update_potentials(struct mcf *g, struct work *w, int64_t dmax)
{
    for (int32_t i = 0; i < w->n_touched; i++) {
        int32_t v = w->touched[i];
        if (w->pos[v] == POS_DONE)
            g->pot[v] += w->dist[v] - dmax;
    }
}

static void
augment(struct mcf *g, struct work *w, int32_t s, int32_t t)
{
    int64_t amount = w->excess[s] < -w->excess[t] ? w->excess[s] : -w->excess[t];
    for (int32_t v = t; v != s; v = ref_from(g, w->pred[v])) {
        int32_t r = ref_residual(g, w->pred[v]);
        if (r < amount)
            amount = r;
    }
    for (int32_t v = t; v != s; v = ref_from(g, w->pred[v])) {
        int32_t ref = w->pred[v];
        if (ref & 1)
            g->flow[ref >> 1] -= (int32_t)amount;
        else
            g->flow[ref >> 1] += (int32_t)amount;
    }
    w->excess[s] -= amount;
    w->excess[t] += amount;
}

static int
check_supplies(const struct mcf *g, char *err, size_t errlen)
{
    int64_t sum = 0;
    for (int32_t v = 0; v < g->n_nodes; v++)
        sum += g->supply[v];
    if (sum != 0) {
        set_err(err, errlen, "mcf: supplies sum to %" PRId64 ", not 0", sum);
        return -1;
    }
    return 0;
}

static int
run_paths(struct mcf *g, struct work *w, char *err, size_t errlen)
{
    for (int32_t s = 0; s < g->n_nodes; s++) {
        while (w->excess[s] > 0) {
            int32_t t = shortest_path(g, w, s);
            if (t < 0) {
                set_err(err, errlen,
                        "mcf: node %" PRId32 " has %" PRId64
                        " units of supply that cannot reach a demand",
                        s, w->excess[s]);
                return -1;
            }
            update_potentials(g, w, w->dist[t]);
            augment(g, w, s, t);
        }
    }
    return 0;
}

int
mcf_solve(struct mcf *g, char *err, size_t errlen)
{
    if (g == NULL || g->solved) {
        set_err(err, errlen, "mcf: graph missing or already solved");
        return -1;
    }
    g->solved = 1;
    if (check_supplies(g, err, errlen) != 0 || init_potentials(g, err, errlen) != 0)
        return -1;
    struct work w;
    if (work_init(g, &w) != 0) {
        set_err(err, errlen, "mcf: out of memory for %" PRId32 " nodes and %" PRId32 " arcs",
                g->n_nodes, g->n_arcs);
        return -1;
    }
    int rc = run_paths(g, &w, err, errlen);
    work_free(&w);
    if (rc != 0)
        return -1;
    g->total_cost = 0;
    for (int32_t a = 0; a < g->n_arcs; a++)
        g->total_cost += (int64_t)g->flow[a] * g->cost[a];
    return mcf_check(g, g->flow, g->pot, err, errlen);
}

/* ---- the certificate ---- */

static int
check_arcs(const struct mcf *g, const int32_t *flow, const int64_t *pot, char *err, size_t errlen)
{
    for (int32_t a = 0; a < g->n_arcs; a++) {
        int32_t u = g->tail[a], v = g->head[a];
        if (flow[a] < 0 || flow[a] > g->cap[a]) {
            set_err(err, errlen,
                    "mcf: arc %" PRId32 " (%" PRId32 "->%" PRId32 ") has flow %" PRId32
                    " outside [0, %" PRId32 "]",
                    a, u, v, flow[a], g->cap[a]);
            return -1;
        }
        int64_t red = g->cost[a] + pot[u] - pot[v];
        if ((flow[a] < g->cap[a] && red < 0) || (flow[a] > 0 && red > 0)) {
            set_err(err, errlen,
                    "mcf: arc %" PRId32 " (%" PRId32 "->%" PRId32 ") with flow %" PRId32 "/%" PRId32
                    " has reduced cost %" PRId64 ": not optimal",
                    a, u, v, flow[a], g->cap[a], red);
            return -1;
        }
    }
    return 0;
}

static int
check_balance(const struct mcf *g, const int32_t *flow, char *err, size_t errlen)
{
    int64_t *bal = calloc((size_t)g->n_nodes, sizeof(*bal));
    if (bal == NULL) {
        set_err(err, errlen, "mcf: out of memory for the optimality check");
        return -1;
    }
    for (int32_t a = 0; a < g->n_arcs; a++) {
        bal[g->tail[a]] += flow[a];
        bal[g->head[a]] -= flow[a];
    }
    int rc = 0;
    for (int32_t v = 0; v < g->n_nodes; v++) {
        if (bal[v] != g->supply[v]) {
            set_err(err, errlen,
                    "mcf: node %" PRId32 " sends %" PRId64 " net units, supply is %" PRId32, v,
                    bal[v], g->supply[v]);
            rc = -1;
            break;
        }
    }
    free(bal);
    return rc;
}

int
mcf_check(const struct mcf *g, const int32_t *flow, const int64_t *pot, char *err, size_t errlen)
{
    if (check_arcs(g, flow, pot, err, errlen) != 0)
        return -1;
    return check_balance(g, flow, err, errlen);
}

int
mcf_write_dimacs(const struct mcf *g, FILE *out)
{
    if (fprintf(out, "c mentord candidate graph\np min %" PRId32 " %" PRId32 "\n", g->n_nodes,
                g->n_arcs) < 0)
        return -1;
    for (int32_t v = 0; v < g->n_nodes; v++)
        if (g->supply[v] != 0 &&
            fprintf(out, "n %" PRId32 " %" PRId32 "\n", v + 1, g->supply[v]) < 0)
            return -1;
    for (int32_t a = 0; a < g->n_arcs; a++)
        if (fprintf(out, "a %" PRId32 " %" PRId32 " 0 %" PRId32 " %" PRId64 "\n", g->tail[a] + 1,
                    g->head[a] + 1, g->cap[a], g->cost[a]) < 0)
            return -1;
    return fflush(out) == 0 ? 0 : -1;
}
