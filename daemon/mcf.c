/*
 * mcf: minimum-cost flow by the primal network simplex method.
 *
 * The method and the spanning-tree bookkeeping (parent, thread, reverse
 * thread, subtree sizes, last successors) follow LEMON's NetworkSimplex
 * (Kovacs, Boost Software License), with its block-search pivot rule and its
 * "arc mixing" order, rewritten in C over this module's arrays.  Why a
 * simplex and not successive shortest paths: the matcher's graphs have three
 * times more newcomers than free slots, and a shortest-path search per
 * newcomer explored most of the graph each time (112x slower than LEMON at
 * 100,000 newcomers); a pivot only walks one tree cycle.
 *
 * Memory, per arc: tail and head (int32), cost (int32 while every cost fits,
 * int64 otherwise), a capacity only when capacities differ (the matcher's are
 * all 1), and from the solve on a flow (one byte when every capacity is below
 * 128, else int32) and a state byte: 14 bytes for the matcher.  While
 * solving, one artificial arc per node joins it to an extra root node; arc
 * number m + u is node u's, with its flow in art_flow[u] (its ends and cost
 * follow from the supply's sign).
 *
 * Arc order while solving: real arcs are permuted once into LEMON's mixed
 * order (arc a goes to position pos(a), a stride of about sqrt(m)), so the
 * pivot search reads memory sequentially and still samples the whole graph;
 * every accessor maps arc numbers through pos().
 */
#include "mcf.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define STATE_UPPER (-1) /* flow at capacity */
#define STATE_TREE 0     /* in the spanning tree */
#define STATE_LOWER 1    /* no flow */
#define DIR_DOWN (-1)    /* tree arc points from the parent to the node */
#define DIR_UP 1         /* tree arc points from the node to its parent */
#define CAP_INF INT32_MAX
/* Artificial costs times nodes must stay far from int64 overflow (see start_tree). */
#define ART_LIMIT ((int64_t)1 << 60)

struct tree;

struct mcf {
    int32_t n_nodes;
    int32_t n_arcs;
    size_t arc_room;
    int32_t *tail, *head;
    int8_t *flow8;     /* flows from the solve on: bytes when every capacity fits ... */
    int32_t *flow32;   /* ... else 32 bits */
    int32_t *art_flow; /* flow on each node's artificial arc */
    int32_t *cost32;   /* costs while they all fit in 32 bits ... */
    int64_t *cost64;   /* ... else here (exactly one of the two is set) */
    int32_t *cap;      /* NULL while every capacity equals cap_all */
    int32_t cap_all;
    int32_t *supply;
    int64_t *pot;
    int64_t total_cost;
    int32_t mix;       /* stride of the mixed arc order, 0 before the solve */
    int32_t mixed;     /* arcs in the mixed order; arcs added after a solve keep theirs */
    int64_t art_c;     /* largest |cost| the artificial arcs' cost was chosen for */
    struct tree *tree; /* the last optimal basis, kept for a warm re-solve */
    int solved;
    int descending;    /* some arc goes from a node to one with a lower or equal number */
    int no_self_check; /* mcf_set_self_check(g, 0) */
};

/* The spanning tree and the pivot state of one solve. */
struct tree {
    int32_t n, m, root; /* nodes, real arcs, root = n */
    int32_t *parent, *pred, *thread, *rev_thread, *succ_num, *last_succ, *dirty;
    int8_t *pred_dir, *state;
    int64_t *pi;
    int32_t in_arc, join, u_in, v_in, u_out, v_out;
    int64_t delta;
    int32_t block, next_pos; /* block search */
    int32_t first_new;       /* the first arc added since the last solve */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void tree_free(struct tree *t);

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

/* ---- storage ---- */

struct mcf *
mcf_new(int32_t n_nodes, size_t arc_hint)
{
    if (n_nodes <= 0)
        return NULL;
    struct mcf *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->n_nodes = n_nodes;
    g->cap_all = -1; /* no arc yet */
    g->supply = calloc((size_t)n_nodes, sizeof(*g->supply));
    g->pot = calloc((size_t)n_nodes + 1, sizeof(*g->pot));
    g->arc_room = arc_hint > 0 ? arc_hint : 16;
    g->tail = malloc(g->arc_room * sizeof(*g->tail));
    g->head = malloc(g->arc_room * sizeof(*g->head));
    g->cost32 = malloc(g->arc_room * sizeof(*g->cost32));
    if (g->supply == NULL || g->pot == NULL || g->tail == NULL || g->head == NULL ||
        g->cost32 == NULL) {
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
    free(g->flow8);
    free(g->flow32);
    free(g->art_flow);
    free(g->cost32);
    free(g->cost64);
    free(g->cap);
    free(g->supply);
    free(g->pot);
    if (g->tree != NULL)
        tree_free(g->tree);
    free(g->tree);
    free(g);
}

static int
grow(void **p, size_t room, size_t size)
{
    if (*p == NULL)
        return 0;
    void *q = realloc(*p, room * size);
    if (q == NULL)
        return -1;
    *p = q;
    return 0;
}

/* Resize every per-arc array to room entries; a failure leaves the old ones valid. */
static int
resize_arcs(struct mcf *g, size_t room)
{
    if (grow((void **)&g->tail, room, sizeof(*g->tail)) != 0 ||
        grow((void **)&g->head, room, sizeof(*g->head)) != 0 ||
        grow((void **)&g->cost32, room, sizeof(*g->cost32)) != 0 ||
        grow((void **)&g->cost64, room, sizeof(*g->cost64)) != 0 ||
        grow((void **)&g->cap, room, sizeof(*g->cap)) != 0 ||
        grow((void **)&g->flow8, room + 1, sizeof(*g->flow8)) != 0 ||
        grow((void **)&g->flow32, room + 1, sizeof(*g->flow32)) != 0)
        return -1;
    g->arc_room = room;
    return 0;
}

static int
grow_arcs(struct mcf *g)
{
    if (g->arc_room >= (size_t)INT32_MAX)
        return -1;
    /* Doubling while the graph is built; arcs priced in after a solve come in smaller waves. */
    size_t room = g->solved ? g->arc_room + g->arc_room / 4 : g->arc_room * 2;
    return resize_arcs(g, room > (size_t)INT32_MAX ? (size_t)INT32_MAX : room);
}

/* The first cost beyond 32 bits moves every cost to 64 bits. */
static int
widen_costs(struct mcf *g)
{
    g->cost64 = malloc(g->arc_room * sizeof(*g->cost64));
    if (g->cost64 == NULL)
        return -1;
    for (int32_t a = 0; a < g->n_arcs; a++)
        g->cost64[a] = g->cost32[a];
    free(g->cost32);
    g->cost32 = NULL;
    return 0;
}

/* The first capacity unlike the others gives every arc its own. */
static int
separate_caps(struct mcf *g)
{
    g->cap = malloc(g->arc_room * sizeof(*g->cap));
    if (g->cap == NULL)
        return -1;
    for (int32_t a = 0; a < g->n_arcs; a++)
        g->cap[a] = g->cap_all;
    return 0;
}

/*
 * Position of arc a in the mixed order: identity before the first solve, and
 * for arcs added after it (they follow the mixed block in their own order).
 */
static inline int32_t
pos(const struct mcf *g, int32_t a)
{
    if (g->mix == 0 || a >= g->mixed)
        return a;
    int32_t k = g->mix, q = g->mixed / k, r = g->mixed % k, j = a % k;
    return j * q + (j < r ? j : r) + a / k;
}

/* By position: cost, capacity (artificial arcs, past the real ones, are unbounded). */
static inline int64_t
cost_at(const struct mcf *g, int32_t e)
{
    return g->cost32 != NULL ? g->cost32[e] : g->cost64[e];
}

static inline int32_t
cap_at(const struct mcf *g, int32_t e)
{
    if (e >= g->n_arcs)
        return CAP_INF;
    return g->cap != NULL ? g->cap[e] : g->cap_all;
}

int32_t
mcf_add_arc(struct mcf *g, int32_t from, int32_t to, int32_t cap, int64_t cost)
{
    if (g == NULL || from < 0 || from >= g->n_nodes || to < 0 || to >= g->n_nodes || cap < 0 ||
        cost > MCF_COST_MAX || cost < -MCF_COST_MAX)
        return -1;
    /* After a solve the flows are bytes when every capacity was below 128: keep it so. */
    if (g->solved && g->flow8 != NULL && cap > INT8_MAX)
        return -1;
    if ((size_t)g->n_arcs == g->arc_room && grow_arcs(g) != 0)
        return -1;
    if (g->cost32 != NULL && (cost > INT32_MAX || cost < INT32_MIN) && widen_costs(g) != 0)
        return -1;
    if (g->n_arcs == 0)
        g->cap_all = cap;
    if (g->cap == NULL && cap != g->cap_all && separate_caps(g) != 0)
        return -1;
    int32_t a = g->n_arcs++;
    g->descending |= from >= to;
    g->tail[a] = from;
    g->head[a] = to;
    if (g->cost32 != NULL)
        g->cost32[a] = (int32_t)cost;
    else
        g->cost64[a] = cost;
    if (g->cap != NULL)
        g->cap[a] = cap;
    if (g->flow8 != NULL)
        g->flow8[a] = 0;
    if (g->flow32 != NULL)
        g->flow32[a] = 0;
    return a;
}

int
mcf_set_supply(struct mcf *g, int32_t node, int32_t supply)
{
    if (g == NULL || node < 0 || node >= g->n_nodes || g->solved)
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
    return g->tail[pos(g, arc)];
}

int32_t
mcf_arc_head(const struct mcf *g, int32_t arc)
{
    return g->head[pos(g, arc)];
}

int32_t
mcf_arc_cap(const struct mcf *g, int32_t arc)
{
    return cap_at(g, pos(g, arc));
}

int64_t
mcf_arc_cost(const struct mcf *g, int32_t arc)
{
    return cost_at(g, pos(g, arc));
}

/* Flow by position; artificial arcs come after the real ones. */
static inline int32_t
flow_at(const struct mcf *g, int32_t e)
{
    if (e >= g->n_arcs)
        return g->art_flow[e - g->n_arcs];
    return g->flow8 != NULL ? g->flow8[e] : g->flow32[e];
}

static inline void
flow_add(struct mcf *g, int32_t e, int32_t delta)
{
    if (e >= g->n_arcs)
        g->art_flow[e - g->n_arcs] += delta;
    else if (g->flow8 != NULL)
        g->flow8[e] = (int8_t)(g->flow8[e] + delta);
    else
        g->flow32[e] += delta;
}

int32_t
mcf_flow(const struct mcf *g, int32_t arc)
{
    if (g->flow8 == NULL && g->flow32 == NULL)
        return 0; /* not solved */
    return flow_at(g, pos(g, arc));
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
    size_t per_room = 2 * sizeof(int32_t) + (g->cost32 != NULL ? 4 : 8) + (g->cap != NULL ? 4 : 0);
    per_room += g->flow8 != NULL ? 1 : g->flow32 != NULL ? 4 : 0;
    size_t per_arc = g->tree != NULL && g->tree->state != NULL ? 1 : 0; /* state */
    size_t per_node = sizeof(int32_t) + sizeof(int64_t) + (per_arc ? 7 * 4 + 2 + 4 : 0);
    return g->arc_room * per_room + (size_t)g->n_arcs * per_arc + (size_t)g->n_nodes * per_node;
}

/* ---- checks before the simplex ---- */

static int
check_supplies(const struct mcf *g, char *err, size_t errlen)
{
    int64_t sum = 0, out = 0;
    for (int32_t v = 0; v < g->n_nodes; v++) {
        sum += g->supply[v];
        out += g->supply[v] > 0 ? g->supply[v] : 0;
    }
    if (sum != 0) {
        set_err(err, errlen, "mcf: supplies sum to %" PRId64 ", not 0", sum);
        return -1;
    }
    if (out >= CAP_INF) { /* artificial arcs carry it in int32 */
        set_err(err, errlen, "mcf: total supply %" PRId64 " does not fit in 31 bits", out);
        return -1;
    }
    return 0;
}

/*
 * Bellman-Ford from a virtual root joined to every node by a 0-cost arc:
 * proves there is no negative-cost cycle of arcs with capacity (the simplex
 * would saturate such a cycle silently).  The matcher's three-layer graph
 * settles in two passes.
 */
static int
check_cycles(const struct mcf *g, int64_t *dist, char *err, size_t errlen)
{
    memset(dist, 0, (size_t)g->n_nodes * sizeof(*dist));
    for (int32_t pass = 0; pass <= g->n_nodes; pass++) {
        int changed = 0;
        for (int32_t a = 0; a < g->n_arcs; a++) {
            if (cap_at(g, a) == 0)
                continue;
            int64_t d = dist[g->tail[a]] + cost_at(g, a);
            if (d < dist[g->head[a]]) {
                dist[g->head[a]] = d;
                changed = 1;
            }
        }
        if (!changed)
            return 0;
    }
    set_err(err, errlen, "mcf: the graph has a negative-cost cycle");
    return -1;
}

/* The same check after a solve, without touching the potentials of the basis. */
static int
check_cycles_again(const struct mcf *g, char *err, size_t errlen)
{
    int64_t *dist = malloc(((size_t)g->n_nodes + 1) * sizeof(*dist));
    if (dist == NULL) {
        set_err(err, errlen, "mcf: out of memory for the cycle check");
        return -1;
    }
    int rc = check_cycles(g, dist, err, errlen);
    free(dist);
    return rc;
}

/* ---- mixed arc order ---- */

/* Move arc a's fields to position pos(a), following the permutation's cycles. */
static int
mix_arcs(struct mcf *g)
{
    int32_t m = g->n_arcs;
    uint8_t *done = calloc((size_t)m / 8 + 1, 1);
    if (done == NULL)
        return -1;
    g->mixed = m;
    g->mix = (int32_t)sqrt((double)m);
    if (g->mix < 10)
        g->mix = 10;
    for (int32_t s = 0; s < m; s++) {
        if (done[s >> 3] & (1u << (s & 7)))
            continue;
        int32_t t = g->tail[s], h = g->head[s], c = g->cap != NULL ? g->cap[s] : 0;
        int64_t w = cost_at(g, s);
        int32_t cur = s;
        do {
            int32_t p = pos(g, cur);
            int32_t t2 = g->tail[p], h2 = g->head[p], c2 = g->cap != NULL ? g->cap[p] : 0;
            int64_t w2 = cost_at(g, p);
            g->tail[p] = t, g->head[p] = h;
            if (g->cap != NULL)
                g->cap[p] = c;
            if (g->cost32 != NULL)
                g->cost32[p] = (int32_t)w;
            else
                g->cost64[p] = w;
            t = t2, h = h2, c = c2, w = w2;
            done[p >> 3] |= (uint8_t)(1u << (p & 7));
            cur = p;
        } while (cur != s);
    }
    free(done);
    return 0;
}

/* ---- the spanning tree ---- */

static void
tree_free(struct tree *t)
{
    free(t->parent);
    free(t->pred);
    free(t->thread);
    free(t->rev_thread);
    free(t->succ_num);
    free(t->last_succ);
    free(t->dirty);
    free(t->pred_dir);
    free(t->state);
    memset(t, 0, sizeof(*t));
}

static int
tree_alloc(struct mcf *g, struct tree *t)
{
    size_t n = (size_t)g->n_nodes + 1;
    memset(t, 0, sizeof(*t));
    t->n = g->n_nodes;
    t->m = g->n_arcs;
    t->root = g->n_nodes;
    t->parent = malloc(n * sizeof(int32_t));
    t->pred = malloc(n * sizeof(int32_t));
    t->thread = malloc(n * sizeof(int32_t));
    t->rev_thread = malloc(n * sizeof(int32_t));
    t->succ_num = malloc(n * sizeof(int32_t));
    t->last_succ = malloc(n * sizeof(int32_t));
    t->dirty = malloc(n * sizeof(int32_t));
    t->pred_dir = malloc(n);
    t->state = malloc((size_t)g->n_arcs + n);
    t->pi = g->pot; /* n + 1 entries: the root's too */
    if (t->parent == NULL || t->pred == NULL || t->thread == NULL || t->rev_thread == NULL ||
        t->succ_num == NULL || t->last_succ == NULL || t->dirty == NULL || t->pred_dir == NULL ||
        t->state == NULL) {
        tree_free(t);
        return -1;
    }
    return 0;
}

static int64_t
max_abs_cost(const struct mcf *g)
{
    int64_t c = 0;
    for (int32_t e = 0; e < g->n_arcs; e++) {
        int64_t x = cost_at(g, e);
        if (x > c)
            c = x;
        else if (-x > c)
            c = -x;
    }
    return c;
}

/*
 * Start from the tree of artificial arcs: node u is joined to the root by
 * arc m + u, upwards carrying its supply at cost 0, or downwards carrying its
 * demand at cost ART, larger than any simple path (C + 1) * (n + 1).  Every
 * potential is then ART or less plus at most n real costs, so reduced costs
 * stay within int64 when ART < 2^60.
 */
static void
start_tree(struct mcf *g, struct tree *t, int64_t art)
{
    int32_t n = t->n, m = t->m;
    memset(t->state, STATE_LOWER, (size_t)m);
    t->parent[t->root] = -1;
    t->pred[t->root] = -1;
    t->thread[t->root] = 0;
    t->rev_thread[0] = t->root;
    t->succ_num[t->root] = n + 1;
    t->last_succ[t->root] = t->root - 1;
    t->pi[t->root] = 0;
    for (int32_t u = 0, e = m; u < n; u++, e++) {
        t->parent[u] = t->root;
        t->pred[u] = e;
        t->thread[u] = u + 1;
        t->rev_thread[u + 1] = u;
        t->succ_num[u] = 1;
        t->last_succ[u] = u;
        t->state[e] = STATE_TREE;
        int up = g->supply[u] >= 0;
        t->pred_dir[u] = up ? DIR_UP : DIR_DOWN;
        t->pi[u] = up ? 0 : art;
        g->art_flow[u] = up ? g->supply[u] : -g->supply[u];
    }
}

/* The artificial arcs' cost (see start_tree), or -1 when it would be too large. */
static int64_t
artificial_cost(const struct mcf *g, char *err, size_t errlen)
{
    int64_t c = max_abs_cost(g);
    if (c + 1 > ART_LIMIT / ((int64_t)g->n_nodes + 1)) {
        set_err(err, errlen,
                "mcf: costs up to %" PRId64 " on %" PRId32 " nodes could overflow the potentials",
                c, g->n_nodes);
        return -1;
    }
    return (c + 1) * ((int64_t)g->n_nodes + 1);
}

static inline int64_t
reduced(const struct mcf *g, const struct tree *t, int32_t e)
{
    return cost_at(g, e) + t->pi[g->tail[e]] - t->pi[g->head[e]];
}

static void
find_join(const struct mcf *g, struct tree *t)
{
    int32_t u = g->tail[t->in_arc], v = g->head[t->in_arc];
    while (u != v) {
        if (t->succ_num[u] < t->succ_num[v])
            u = t->parent[u];
        else
            v = t->parent[v];
    }
    t->join = u;
}

/* Room left on tree arc pred[u] in the direction of the cycle. */
static inline int64_t
room_on(const struct mcf *g, const struct tree *t, int32_t u, int dir)
{
    int32_t e = t->pred[u];
    if (t->pred_dir[u] != dir)
        return flow_at(g, e);
    int32_t c = cap_at(g, e);
    return c >= CAP_INF ? (int64_t)CAP_INF : (int64_t)c - flow_at(g, e);
}

/* The blocking arc of the cycle; 0 when the entering arc itself blocks. */
static int
find_leaving(const struct mcf *g, struct tree *t)
{
    int lower = t->state[t->in_arc] == STATE_LOWER;
    int32_t first = lower ? g->tail[t->in_arc] : g->head[t->in_arc];
    int32_t second = lower ? g->head[t->in_arc] : g->tail[t->in_arc];
    int32_t c = cap_at(g, t->in_arc);
    t->delta = c >= CAP_INF ? (int64_t)CAP_INF : c;
    int result = 0;
    for (int32_t u = first; u != t->join; u = t->parent[u]) {
        int64_t d = room_on(g, t, u, DIR_DOWN);
        if (d < t->delta)
            t->delta = d, t->u_out = u, result = 1;
    }
    for (int32_t u = second; u != t->join; u = t->parent[u]) {
        int64_t d = room_on(g, t, u, DIR_UP);
        if (d <= t->delta) /* ties leave from the second side, as in LEMON */
            t->delta = d, t->u_out = u, result = 2;
    }
    t->u_in = result == 1 ? first : second;
    t->v_in = result == 1 ? second : first;
    return result != 0;
}

static void
change_flow(struct mcf *g, struct tree *t, int change)
{
    if (t->delta > 0) {
        int32_t val = (int32_t)(t->state[t->in_arc] * t->delta);
        flow_add(g, t->in_arc, val);
        for (int32_t u = g->tail[t->in_arc]; u != t->join; u = t->parent[u])
            flow_add(g, t->pred[u], -t->pred_dir[u] * val);
        for (int32_t u = g->head[t->in_arc]; u != t->join; u = t->parent[u])
            flow_add(g, t->pred[u], t->pred_dir[u] * val);
    }
    if (change) {
        t->state[t->in_arc] = STATE_TREE;
        int32_t out = t->pred[t->u_out];
        t->state[out] = flow_at(g, out) == 0 ? STATE_LOWER : STATE_UPPER;
    } else {
        t->state[t->in_arc] = (int8_t)-t->state[t->in_arc];
    }
}

/* u_in and u_out coincide: the subtree of u_out hangs from v_in now. */
static void
reattach_leaf(const struct mcf *g, struct tree *t, int32_t old_rev, int32_t old_last)
{
    int32_t u_in = t->u_in, v_in = t->v_in;
    t->parent[u_in] = v_in;
    t->pred[u_in] = t->in_arc;
    t->pred_dir[u_in] = u_in == g->tail[t->in_arc] ? DIR_UP : DIR_DOWN;
    if (t->thread[v_in] != t->u_out) {
        int32_t after = t->thread[old_last];
        t->thread[old_rev] = after;
        t->rev_thread[after] = old_rev;
        after = t->thread[v_in];
        t->thread[v_in] = t->u_out;
        t->rev_thread[t->u_out] = v_in;
        t->thread[old_last] = after;
        t->rev_thread[after] = old_last;
    }
}

/* Re-root the stem u_in .. u_out under v_in: thread and parent along the stem. */
static void
move_stem(struct tree *t, int32_t old_rev)
{
    int32_t u_in = t->u_in, v_in = t->v_in, u_out = t->u_out;
    int32_t thread_continue = old_rev == v_in ? t->thread[t->last_succ[u_out]] : t->thread[v_in];
    int32_t stem = u_in, par_stem = v_in, last = t->last_succ[u_in];
    int32_t after = t->thread[last], n_dirty = 0;
    t->thread[v_in] = u_in;
    t->dirty[n_dirty++] = v_in;
    while (stem != u_out) {
        int32_t next_stem = t->parent[stem];
        t->thread[last] = next_stem;
        t->dirty[n_dirty++] = last;
        int32_t before = t->rev_thread[stem];
        t->thread[before] = after;
        t->rev_thread[after] = before;
        t->parent[stem] = par_stem;
        par_stem = stem;
        stem = next_stem;
        last = t->last_succ[stem] == t->last_succ[par_stem] ? t->rev_thread[par_stem]
                                                            : t->last_succ[stem];
        after = t->thread[last];
    }
    t->parent[u_out] = par_stem;
    t->thread[last] = thread_continue;
    t->rev_thread[thread_continue] = last;
    t->last_succ[u_out] = last;
    if (old_rev != v_in) {
        t->thread[old_rev] = after;
        t->rev_thread[after] = old_rev;
    }
    for (int32_t i = 0; i < n_dirty; i++)
        t->rev_thread[t->thread[t->dirty[i]]] = t->dirty[i];
}

/* pred, direction, last successor and size along the reversed stem. */
static void
fix_stem(const struct mcf *g, struct tree *t, int32_t old_succ)
{
    int32_t tmp_sc = 0, tmp_ls = t->last_succ[t->u_out];
    for (int32_t u = t->u_out, p = t->parent[u]; u != t->u_in; u = p, p = t->parent[u]) {
        t->pred[u] = t->pred[p];
        t->pred_dir[u] = (int8_t)-t->pred_dir[p];
        tmp_sc += t->succ_num[u] - t->succ_num[p];
        t->succ_num[u] = tmp_sc;
        t->last_succ[p] = tmp_ls;
    }
    t->pred[t->u_in] = t->in_arc;
    t->pred_dir[t->u_in] = t->u_in == g->tail[t->in_arc] ? DIR_UP : DIR_DOWN;
    t->succ_num[t->u_in] = old_succ;
}

/* last_succ and succ_num on the paths from v_in and v_out up to the join. */
static void
fix_ancestors(struct tree *t, int32_t old_rev, int32_t old_succ, int32_t old_last)
{
    int32_t up_limit_out = t->last_succ[t->join] == t->v_in ? t->join : -1;
    int32_t last_succ_out = t->last_succ[t->u_out];
    for (int32_t u = t->v_in; u != -1 && t->last_succ[u] == t->v_in; u = t->parent[u])
        t->last_succ[u] = last_succ_out;
    if (t->join != old_rev && t->v_in != old_rev) {
        for (int32_t u = t->v_out; u != up_limit_out && t->last_succ[u] == old_last;
             u = t->parent[u])
            t->last_succ[u] = old_rev;
    } else if (last_succ_out != old_last) {
        for (int32_t u = t->v_out; u != up_limit_out && t->last_succ[u] == old_last;
             u = t->parent[u])
            t->last_succ[u] = last_succ_out;
    }
    for (int32_t u = t->v_in; u != t->join; u = t->parent[u])
        t->succ_num[u] += old_succ;
    for (int32_t u = t->v_out; u != t->join; u = t->parent[u])
        t->succ_num[u] -= old_succ;
}

static void
update_tree(const struct mcf *g, struct tree *t)
{
    int32_t old_rev = t->rev_thread[t->u_out];
    int32_t old_succ = t->succ_num[t->u_out];
    int32_t old_last = t->last_succ[t->u_out];
    t->v_out = t->parent[t->u_out];
    if (t->u_in == t->u_out) {
        reattach_leaf(g, t, old_rev, old_last);
    } else {
        move_stem(t, old_rev);
        fix_stem(g, t, old_succ);
    }
    fix_ancestors(t, old_rev, old_succ, old_last);
}

/* The moved subtree's potentials shift so the entering arc has reduced cost 0. */
static void
update_potentials(const struct mcf *g, struct tree *t)
{
    int64_t sigma = t->pi[t->v_in] - t->pi[t->u_in] - t->pred_dir[t->u_in] * cost_at(g, t->in_arc);
    int32_t end = t->thread[t->last_succ[t->u_in]];
    for (int32_t u = t->u_in; u != end; u = t->thread[u])
        t->pi[u] += sigma;
}

static int
pivot(struct mcf *g, struct tree *t, char *err, size_t errlen)
{
    find_join(g, t);
    int change = find_leaving(g, t);
    if (t->delta >= CAP_INF) {
        set_err(err, errlen, "mcf: unbounded (a negative cycle of unbounded arcs)");
        return -1;
    }
    change_flow(g, t, change);
    if (change) {
        update_tree(g, t);
        update_potentials(g, t);
    }
    return 0;
}

/*
 * Block search (LEMON's default): scan arcs in blocks of about sqrt(m) from
 * where the last search stopped and take the most negative reduced cost of
 * the first block that has one (the first such arc on equal values).
 */
/*
 * The scan, with the cost width fixed (wide is a constant where it is
 * inlined) and the arrays in locals: the hottest loop of a solve, it read
 * both through the graph and tested which costs are set at every arc.
 */
static inline __attribute__((always_inline)) int
scan_blocks(const struct mcf *g, struct tree *t, int wide)
{
    const int8_t *state = t->state;
    const int32_t *tail = g->tail, *head = g->head, *c32 = g->cost32;
    const int64_t *c64 = g->cost64, *pi = t->pi;
    int64_t min = 0;
    int32_t cnt = t->block, m = t->m, e = t->next_pos, in = t->in_arc;
    for (int32_t seen = 0; seen < m; seen++) {
        int64_t c = state[e] * ((wide ? c64[e] : c32[e]) + pi[tail[e]] - pi[head[e]]);
        if (c < min) {
            min = c;
            in = e;
        }
        if (++e == m)
            e = 0;
        if (--cnt == 0) {
            if (min < 0)
                break;
            cnt = t->block;
        }
    }
    t->in_arc = in;
    t->next_pos = e;
    return min < 0;
}

static int
find_entering(const struct mcf *g, struct tree *t)
{
    return g->cost32 != NULL ? scan_blocks(g, t, 0) : scan_blocks(g, t, 1);
}

/*
 * Block search among arcs [from, to) only, from *at on: after a warm start
 * the arcs just added are where the pivots are, and searching them alone is
 * far cheaper than searching the whole graph.
 */
static int
find_entering_in(const struct mcf *g, struct tree *t, int32_t from, int32_t to, int32_t *at)
{
    int32_t n = to - from, block = (int32_t)(0.2 * sqrt((double)n)), e = *at;
    if (block < 10)
        block = 10;
    int64_t min = 0;
    int32_t cnt = block;
    for (int32_t seen = 0; seen < n; seen++) {
        int64_t c = t->state[e] * reduced(g, t, e);
        if (c < min) {
            min = c;
            t->in_arc = e;
        }
        if (++e == to)
            e = from;
        if (--cnt == 0) {
            if (min < 0)
                break;
            cnt = block;
        }
    }
    *at = e;
    return min < 0;
}

/*
 * Start heuristic: LEMON's (for each demand node, pivot in its cheapest
 * incoming arc), then for each supply node its cheapest arc straight to a
 * demand node, so supplies leave the artificial arcs without a search (in the
 * matcher: every newcomer starts "unmatched", a feasible start).  One pass
 * over the arcs finds them (dirty[] is free now).
 */
static int
initial_pivots(struct mcf *g, struct tree *t, char *err, size_t errlen)
{
    int32_t *best = t->dirty;
    for (int32_t v = 0; v < t->n; v++)
        best[v] = -1;
    for (int32_t e = 0; e < t->m; e++) {
        int32_t v = g->head[e], u = g->tail[e];
        if (g->supply[v] < 0 && (best[v] < 0 || cost_at(g, e) < cost_at(g, best[v])))
            best[v] = e;
        if (g->supply[u] > 0 && g->supply[v] < 0 &&
            (best[u] < 0 || cost_at(g, e) < cost_at(g, best[u])))
            best[u] = e;
    }
    int32_t count = 0;
    for (int32_t v = 0; v < t->n; v++)
        if (best[v] >= 0)
            best[count++] = best[v];
    /* Pivots overwrite dirty[], so the arcs move to the state-free end: copy them. */
    int32_t *arcs = malloc(((size_t)count + 1) * sizeof(*arcs));
    if (arcs == NULL) {
        set_err(err, errlen, "mcf: out of memory for the start pivots");
        return -1;
    }
    memcpy(arcs, best, (size_t)count * sizeof(*arcs));
    int rc = 0;
    for (int32_t i = 0; rc == 0 && i < count; i++) {
        t->in_arc = arcs[i];
        if (t->state[t->in_arc] * reduced(g, t, t->in_arc) < 0)
            rc = pivot(g, t, err, errlen);
    }
    free(arcs);
    return rc;
}

/* Flow left on an artificial arc means the supplies cannot all be routed. */
static int
check_feasible(const struct mcf *g, const struct tree *t, char *err, size_t errlen)
{
    for (int32_t u = 0; u < t->n; u++) {
        int32_t f = g->art_flow[u];
        if (f == 0)
            continue;
        if (g->supply[u] >= 0)
            set_err(err, errlen,
                    "mcf: node %" PRId32 " has %" PRId32
                    " units of supply that cannot reach a demand",
                    u, f);
        else
            set_err(err, errlen, "mcf: node %" PRId32 " has %" PRId32 " units of unmet demand", u,
                    f);
        return -1;
    }
    return 0;
}

/*
 * Arcs added since the last solve join the basis at their lower bound (no
 * flow), which keeps it a feasible spanning tree: their state entries go in
 * before the artificial arcs' (which are numbered after the real ones) and
 * tree arcs that are artificial are renumbered.
 */
static int
tree_extend(struct mcf *g, struct tree *t)
{
    int32_t old_m = t->m, new_m = g->n_arcs, d = new_m - old_m;
    int8_t *state = realloc(t->state, (size_t)new_m + (size_t)t->n + 1);
    if (state == NULL)
        return -1;
    t->state = state;
    memmove(state + new_m, state + old_m, (size_t)t->n);
    memset(state + old_m, STATE_LOWER, (size_t)d);
    for (int32_t u = 0; u < t->n; u++)
        if (t->pred[u] >= old_m)
            t->pred[u] += d;
    t->m = new_m;
    if (d > 0)
        t->next_pos = old_m; /* the new arcs are the likeliest to enter */
    t->first_new = old_m;
    return 0;
}

/*
 * Cold: from the artificial tree and the start pivots.  Warm: from the kept
 * optimal basis with the arcs added since (tree_extend).
 */
static int
run_simplex(struct mcf *g, int cold, char *err, size_t errlen)
{
    struct tree *t = g->tree;
    int rc = 0;
    if (cold) {
        int64_t art = artificial_cost(g, err, errlen);
        if (art < 0)
            return -1;
        g->art_c = art / ((int64_t)g->n_nodes + 1) - 1;
        if (t == NULL && (t = calloc(1, sizeof(*t))) == NULL)
            goto nomem;
        g->tree = t;
        if (t->parent == NULL && tree_alloc(g, t) != 0)
            goto nomem;
        start_tree(g, t, art);
    } else if (tree_extend(g, t) != 0) {
        goto nomem;
    }
    int32_t new_from = cold ? t->m : t->first_new;
    t->block = (int32_t)(0.2 * sqrt((double)t->m)); /* LEMON: 1.0; 0.2 was fastest here */
    if (t->block < 10)
        t->block = 10;
    if (cold && t->m > 0)
        rc = initial_pivots(g, t, err, errlen);
    /* Warm: the new arcs first, then block search over everything proves the optimum. */
    int32_t at = new_from;
    while (rc == 0 && new_from < t->m && find_entering_in(g, t, new_from, t->m, &at))
        rc = pivot(g, t, err, errlen);
    while (rc == 0 && t->m > 0 && find_entering(g, t))
        rc = pivot(g, t, err, errlen);
    if (rc == 0)
        rc = check_feasible(g, t, err, errlen);
    return rc;
nomem:
    set_err(err, errlen, "mcf: out of memory for %" PRId32 " nodes", g->n_nodes);
    return -1;
}

/* Flows start at 0; a byte each when no capacity can exceed it. */
static int
alloc_flows(struct mcf *g)
{
    int32_t max = g->cap_all;
    for (int32_t a = 0; g->cap != NULL && a < g->n_arcs; a++)
        max = g->cap[a] > max ? g->cap[a] : max;
    /* Sized like the other per-arc arrays: arcs may be added after the solve. */
    if (max <= INT8_MAX)
        g->flow8 = calloc(g->arc_room + 1, sizeof(*g->flow8));
    else
        g->flow32 = calloc(g->arc_room + 1, sizeof(*g->flow32));
    g->art_flow = calloc((size_t)g->n_nodes, sizeof(*g->art_flow));
    return (g->flow8 != NULL || g->flow32 != NULL) && g->art_flow != NULL ? 0 : -1;
}

/* A first solve: checks, flows and the mixed arc order. */
static int
solve_first(struct mcf *g, char *err, size_t errlen)
{
    /* (the distances are not kept: start_tree sets the potentials) */
    if (check_supplies(g, err, errlen) != 0 ||
        (g->descending && check_cycles(g, g->pot, err, errlen) != 0))
        return -1;
    if (alloc_flows(g) != 0 || mix_arcs(g) != 0) {
        set_err(err, errlen, "mcf: out of memory for %" PRId32 " nodes and %" PRId32 " arcs",
                g->n_nodes, g->n_arcs);
        return -1;
    }
    return run_simplex(g, 1, err, errlen);
}

/*
 * A re-solve after arcs were added.  Warm from the kept basis, unless a new
 * cost is beyond what the artificial arcs' cost was chosen for: then cold
 * again from zero flows (the arcs keep their positions).
 */
static int
solve_again(struct mcf *g, char *err, size_t errlen)
{
    if (g->tree == NULL || g->tree->parent == NULL) {
        set_err(err, errlen, "mcf: the last solve failed; the graph cannot be solved again");
        return -1;
    }
    /*
     * Arcs that all go to a higher node number cannot close a cycle (the
     * matcher's newcomers -> mentors -> sink): the check is then a proof
     * without a pass over the arcs.
     */
    if (g->descending && check_cycles_again(g, err, errlen) != 0)
        return -1;
    int cold = max_abs_cost(g) > g->art_c;
    if (cold) {
        for (int32_t e = 0; e < g->n_arcs; e++)
            flow_add(g, e, -flow_at(g, e));
        tree_free(g->tree);
    }
    return run_simplex(g, cold, err, errlen);
}

int
mcf_solve(struct mcf *g, char *err, size_t errlen)
{
    if (g == NULL) {
        set_err(err, errlen, "mcf: no graph");
        return -1;
    }
    int again = g->solved;
    g->solved = 1;
    if ((again ? solve_again(g, err, errlen) : solve_first(g, err, errlen)) != 0) {
        if (g->tree != NULL) /* no basis to continue from */
            tree_free(g->tree);
        return -1;
    }
    g->total_cost = 0;
    for (int32_t e = 0; e < g->n_arcs; e++)
        g->total_cost += (int64_t)flow_at(g, e) * cost_at(g, e);
    if (g->no_self_check)
        return 0;
    return mcf_check(g, NULL, g->pot, err, errlen) == 0 ? 0 : -1;
}

void
mcf_set_self_check(struct mcf *g, int on)
{
    if (g != NULL)
        g->no_self_check = !on;
}

/* ---- the certificate ---- */

/* The arc number at position e (errors only: a search). */
static int32_t
arc_at(const struct mcf *g, int32_t e)
{
    for (int32_t a = 0; a < g->n_arcs; a++)
        if (pos(g, a) == e)
            return a;
    return e;
}

/*
 * The graph's own flow is read by position, in memory order (pos() costs two
 * divisions per arc, and the check runs after every solve); a caller's flow
 * by arc number.
 */
static int
check_arcs(const struct mcf *g, const int32_t *flow, const int64_t *pot, char *err, size_t errlen)
{
    for (int32_t i = 0; i < g->n_arcs; i++) {
        int32_t e = flow != NULL ? pos(g, i) : i, a = flow != NULL ? i : -1;
        int32_t u = g->tail[e], v = g->head[e], f = flow != NULL ? flow[i] : flow_at(g, e);
        int32_t cap = cap_at(g, e);
        if ((f < 0 || f > cap) && a < 0)
            a = arc_at(g, e);
        if (f < 0 || f > cap) {
            set_err(err, errlen,
                    "mcf: arc %" PRId32 " (%" PRId32 "->%" PRId32 ") has flow %" PRId32
                    " outside [0, %" PRId32 "]",
                    a, u, v, f, cap);
            return -1;
        }
        int64_t red = cost_at(g, e) + pot[u] - pot[v];
        if (((f < cap && red < 0) || (f > 0 && red > 0)) && a < 0)
            a = arc_at(g, e);
        if ((f < cap && red < 0) || (f > 0 && red > 0)) {
            set_err(err, errlen,
                    "mcf: arc %" PRId32 " (%" PRId32 "->%" PRId32 ") with flow %" PRId32 "/%" PRId32
                    " has reduced cost %" PRId64 ": not optimal",
                    a, u, v, f, cap, red);
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
    for (int32_t i = 0; i < g->n_arcs; i++) { /* by position for the own flow, as above */
        int32_t e = flow != NULL ? pos(g, i) : i, f = flow != NULL ? flow[i] : flow_at(g, e);
        bal[g->tail[e]] += f;
        bal[g->head[e]] -= f;
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

void
mcf_each_flow(const struct mcf *g, void (*fn)(void *, int32_t, int32_t, int32_t, int64_t),
              void *arg)
{
    if (g->flow8 == NULL && g->flow32 == NULL)
        return; /* not solved */
    for (int32_t e = 0; e < g->n_arcs; e++) {
        int32_t f = flow_at(g, e);
        if (f > 0)
            fn(arg, g->tail[e], g->head[e], f, cost_at(g, e));
    }
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
    for (int32_t a = 0; a < g->n_arcs; a++) {
        int32_t e = pos(g, a);
        if (fprintf(out, "a %" PRId32 " %" PRId32 " 0 %" PRId32 " %" PRId64 "\n", g->tail[e] + 1,
                    g->head[e] + 1, cap_at(g, e), cost_at(g, e)) < 0)
            return -1;
    }
    return fflush(out) == 0 ? 0 : -1;
}
