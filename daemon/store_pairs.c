/*
 * store_pairs: pairings from proposal to end, do-not-match blocks, and the
 * member queries a matching round needs.  Part of the store module: it uses
 * the statement helpers of store_int.h and follows store.h's conventions
 * (0 or a count on success, -1 with store_errmsg() set, lookups 1/0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "store_int.h"

#define PAIR_WEEK (7 * 24 * 60 * 60)
#define PAIR_DAY (24 * 60 * 60)
/* Low feedback older than this no longer weighs on a mentor's load. */
#define PAIR_FEEDBACK_WINDOW (90 * PAIR_DAY)
/* Same alphabet and length as the confirmation tokens (secret.h). */
#define PAIR_REF_LEN SECRET_TOKEN_LEN

#define PAIR_COLUMNS                                                                               \
    "id, coalesce(newcomer, 0), coalesce(mentor, 0), state, score, reasons, ref, created,"         \
    " coalesce(started, 0), coalesce(ends, 0), coalesce(ended, 0), end_reason, coalesce(circle, "  \
    "0)"

/* ---- pairs ---- */

static int
pair_fill(sqlite3_stmt *stmt, struct store_pair *p)
{
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(stmt, 0);
    p->newcomer = sqlite3_column_int64(stmt, 1);
    p->mentor = sqlite3_column_int64(stmt, 2);
    p->score = sqlite3_column_int64(stmt, 4);
    p->created = (time_t)sqlite3_column_int64(stmt, 7);
    p->started = (time_t)sqlite3_column_int64(stmt, 8);
    p->ends = (time_t)sqlite3_column_int64(stmt, 9);
    p->ended = (time_t)sqlite3_column_int64(stmt, 10);
    p->circle = sqlite3_column_int64(stmt, 12);
    if (store_i_col_str(stmt, 3, &p->state) != 0 || store_i_col_str(stmt, 5, &p->reasons) != 0 ||
        store_i_col_str(stmt, 6, &p->ref) != 0 || store_i_col_str(stmt, 11, &p->end_reason) != 0) {
        store_pair_free(p);
        return -1;
    }
    return 0;
}

void
store_pair_free(struct store_pair *p)
{
    if (p == NULL)
        return;
    free(p->state);
    free(p->reasons);
    free(p->ref);
    free(p->end_reason);
    memset(p, 0, sizeof *p);
}

void
store_pairs_free(struct store_pair *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_pair_free(&v[i]);
    free(v);
}

/* The pair's own ref: internal (each member sees a ref of their own, outbox.c). */
static int
pair_new_ref(char *out, size_t len)
{
    if (len < PAIR_REF_LEN + 1)
        return -1;
    return secret_token(out, PAIR_REF_LEN);
}

int
store_pair_add(struct store *st, int64_t newcomer, int64_t mentor, const char *state, int64_t score,
               const char *reasons, time_t now, time_t ends, int64_t *id_out, char *ref,
               size_t ref_len)
{
    char what[128];
    int active = strcmp(state, "active") == 0;

    snprintf(what, sizeof what, "creating a %s pair of members %lld and %lld", state,
             (long long)newcomer, (long long)mentor);
    if (!active && strcmp(state, "proposed") != 0)
        return store_i_set_err(st, "%s: a new pair is proposed or active", what);
    /* A collision of two random refs is unlikely but would break threading: draw again. */
    for (int attempt = 0; attempt < 5; attempt++) {
        int64_t taken = 0;
        if (pair_new_ref(ref, ref_len) != 0)
            return store_i_set_err(st, "%s: cannot draw a random ref", what);
        int rc = store_i_query_int(st, &taken, what, "SELECT count(*) FROM pairs WHERE ref = ?1",
                                   "s", ref);
        if (rc < 0)
            return -1;
        if (taken == 0) {
            if (store_i_run(st, what,
                            "INSERT INTO pairs (newcomer, mentor, state, score, reasons, ref,"
                            " created, started, ends) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                            " nullif(?8, 0), nullif(?9, 0))",
                            "iisissiii", newcomer, mentor, state, score, reasons, ref, (int64_t)now,
                            (int64_t)(active ? now : 0), (int64_t)(active ? ends : 0)) < 0)
                return -1;
            if (id_out)
                *id_out = sqlite3_last_insert_rowid(st->db);
            return 0;
        }
    }
    return store_i_set_err(st, "%s: no unused ref after 5 draws", what);
}

static int
pair_get_one(struct store *st, const char *what, sqlite3_stmt *stmt, struct store_pair *out)
{
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1 && pair_fill(stmt, out) != 0)
        rc = store_i_set_err(st, "%s: out of memory", what);
    store_i_finish(st, stmt);
    return rc;
}

int
store_pair_get(struct store *st, int64_t id, struct store_pair *out)
{
    char what[64];

    memset(out, 0, sizeof *out);
    snprintf(what, sizeof what, "looking up pair %lld", (long long)id);
    return pair_get_one(
        st, what,
        store_i_prepare(st, what, "SELECT " PAIR_COLUMNS " FROM pairs WHERE id = ?1", "i", id),
        out);
}

int
store_pair_by_ref(struct store *st, const char *ref, struct store_pair *out)
{
    char what[96];

    memset(out, 0, sizeof *out);
    snprintf(what, sizeof what, "looking up the pair with ref %.40s", ref);
    return pair_get_one(
        st, what,
        store_i_prepare(
            st, what, "SELECT " PAIR_COLUMNS " FROM pairs WHERE ref = ?1 COLLATE NOCASE", "s", ref),
        out);
}

/* Every row of stmt (finished here) as an array of pairs; on error nothing is kept. */
static int
pairs_collect(struct store *st, sqlite3_stmt *stmt, const char *what, struct store_pair **out,
              size_t *n)
{
    struct store_i_vec vec = {0};
    int rc;

    if (!stmt)
        return -1;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        struct store_pair *p = store_i_push(st, what, &vec, sizeof *p);
        if (p == NULL || pair_fill(stmt, p) != 0) {
            rc = store_i_set_err(st, "%s: out of memory", what);
            break;
        }
    }
    store_i_finish(st, stmt);
    *out = vec.v;
    *n = vec.n;
    if (rc < 0) {
        store_pairs_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int
store_pair_list(struct store *st, int64_t member, const char *state, struct store_pair **out,
                size_t *n)
{
    char what[96];

    *out = NULL;
    *n = 0;
    snprintf(what, sizeof what, "listing the pairs of member %lld", (long long)member);
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT " PAIR_COLUMNS " FROM pairs"
                                         " WHERE (?1 = 0 OR newcomer = ?1 OR mentor = ?1)"
                                         " AND (?2 IS NULL OR state = ?2) ORDER BY id DESC",
                                         "is", member, state);
    return pairs_collect(st, stmt, what, out, n);
}

int
store_pair_set_state(struct store *st, int64_t id, const char *from, const char *to, time_t now,
                     time_t ends, const char *end_reason)
{
    char what[96];
    int active = strcmp(to, "active") == 0;

    snprintf(what, sizeof what, "moving pair %lld to %s", (long long)id, to);
    /* The condition on the old state makes a late or repeated answer a no-op, not a regression. */
    if (active)
        return store_i_run(st, what,
                           "UPDATE pairs SET state = 'active', started = ?3, ends = nullif(?4, 0)"
                           " WHERE id = ?1 AND (?2 IS NULL OR state = ?2)",
                           "isii", id, from, (int64_t)now, (int64_t)ends);
    return store_i_run(st, what,
                       "UPDATE pairs SET state = ?3, ended = ?4, end_reason = ?5"
                       " WHERE id = ?1 AND (?2 IS NULL OR state = ?2)",
                       "issis", id, from, to, (int64_t)now, end_reason);
}

int
store_pair_count(struct store *st, int64_t mentor, const char *state)
{
    int64_t n = 0;
    char what[96];

    snprintf(what, sizeof what, "counting the pairs of mentor %lld", (long long)mentor);
    if (store_i_query_int(st, &n, what,
                          "SELECT count(*) FROM pairs WHERE (?1 = 0 OR mentor = ?1)"
                          " AND (?2 IS NULL OR state = ?2)",
                          "is", mentor, state) < 0)
        return -1;
    return (int)n;
}

int
store_pair_started_since(struct store *st, time_t since)
{
    int64_t n = 0;

    if (store_i_query_int(st, &n, "counting recent pairings",
                          "SELECT count(*) FROM pairs WHERE started >= ?1", "i",
                          (int64_t)since) < 0)
        return -1;
    return (int)n;
}

/* ---- blocks ---- */

int
store_block_add(struct store *st, int64_t a, int64_t b, const char *reason, time_t now)
{
    char what[96];

    snprintf(what, sizeof what, "blocking members %lld and %lld", (long long)a, (long long)b);
    /* Stored in ascending order so (a, b) and (b, a) are one row. */
    return store_i_run(st, what,
                       "INSERT OR IGNORE INTO blocks (a, b, reason, created)"
                       " VALUES (min(?1, ?2), max(?1, ?2), ?3, ?4)",
                       "iisi", a, b, reason, (int64_t)now) < 0
               ? -1
               : 0;
}

int
store_block_list(struct store *st, struct store_block **out, size_t *n)
{
    const char *what = "listing do-not-match pairs";
    struct store_i_vec vec = {0};
    int rc;

    *out = NULL;
    *n = 0;
    /* Two people are never paired again: every pair ever proposed counts as a block. */
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT a, b FROM blocks UNION"
                                         " SELECT min(newcomer, mentor), max(newcomer, mentor)"
                                         " FROM pairs WHERE newcomer IS NOT NULL AND mentor"
                                         " IS NOT NULL ORDER BY 1, 2",
                                         "");
    if (!stmt)
        return -1;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        struct store_block *b = store_i_push(st, what, &vec, sizeof *b);
        if (b == NULL) {
            rc = -1;
            break;
        }
        b->a = sqlite3_column_int64(stmt, 0);
        b->b = sqlite3_column_int64(stmt, 1);
    }
    store_i_finish(st, stmt);
    *out = vec.v;
    *n = vec.n;
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int
store_pair_set_circle(struct store *st, int64_t pair, int64_t circle)
{
    char what[96];

    snprintf(what, sizeof what, "putting pair %lld in circle %lld", (long long)pair,
             (long long)circle);
    int rc = store_i_run(st, what, "UPDATE pairs SET circle = nullif(?2, 0) WHERE id = ?1", "ii",
                         pair, circle);
    if (rc < 0)
        return -1;
    return sqlite3_changes(st->db) == 1 ? 0 : store_i_set_err(st, "%s: no such pair", what);
}

int
store_pair_circle(struct store *st, int64_t circle, struct store_pair **out, size_t *n)
{
    char what[96];

    *out = NULL;
    *n = 0;
    snprintf(what, sizeof what, "listing the pairs of circle %lld", (long long)circle);
    sqlite3_stmt *stmt = store_i_prepare(
        st, what, "SELECT " PAIR_COLUMNS " FROM pairs WHERE circle = ?1 ORDER BY id", "i", circle);
    return pairs_collect(st, stmt, what, out, n);
}

/* ---- members in a round ---- */

/* The role as one of the constant names (a round holds 100,000 of them). */
static const char *
candidate_role(const unsigned char *text)
{
    static const char *const roles[] = {"mentor", "newcomer", "buddy", "manager"};
    for (size_t i = 0; text != NULL && i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp((const char *)text, roles[i]) == 0)
            return roles[i];
    return "";
}

/* The row's numbers and role; the strings are left to the caller. */
static void
candidate_numbers(sqlite3_stmt *stmt, struct store_candidate *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(stmt, 0);
    c->waiting_since = (time_t)sqlite3_column_int64(stmt, 5);
    c->load = sqlite3_column_int(stmt, 6);
    c->unanswered = sqlite3_column_int(stmt, 7);
    c->low_feedback = sqlite3_column_int(stmt, 8);
    c->weeks_since_break = sqlite3_column_int(stmt, 9);
    c->role = candidate_role(sqlite3_column_text(stmt, 3));
}

/*
 * c's address and name, copied into one allocation (the name after the
 * address's NUL): the rows kept hold both so; the role is a constant.
 */
static int
candidate_names(struct store_candidate *c, const char *addr, const char *name)
{
    size_t la = addr != NULL ? strlen(addr) : 0, ln = name != NULL ? strlen(name) : 0;
    if ((c->address = malloc(la + 1 + (name != NULL ? ln + 1 : 0))) == NULL)
        return -1;
    memcpy(c->address, addr != NULL ? addr : "", la + 1);
    c->name = name != NULL ? memcpy(c->address + la + 1, name, ln + 1) : NULL;
    return 0;
}

/* Address and name of the row in columns col, col + 1. */
static int
candidate_address(sqlite3_stmt *stmt, int col, struct store_candidate *c)
{
    return candidate_names(c, (const char *)sqlite3_column_text(stmt, col),
                           (const char *)sqlite3_column_text(stmt, col + 1));
}

void
store_candidates_free(struct store_candidate *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].address); /* and the name with it */
        free(v[i].profile);
    }
    free(v);
}

/*
 * Confirmed, reachable members: waiting newcomers without an open pair, and
 * mentors who are not away, with their load.  A proposal holds a slot until
 * it is answered, so it counts as load like an active pair.  Weeks without a
 * break count from the later of the last break and the oldest running pair:
 * a mentor with no mentee is resting, however long ago they joined.  A
 * circle (pairs sharing a circle id) is one unit of load, whatever its size:
 * capacity counts circles in mode circles, and a peer circle takes one slot.
 * A waiting newcomer mentors nobody: the mentoring columns' subqueries (one
 * set per row, most of a round's rows) are skipped for them.
 */
#define CANDIDATE_MENTORING                                                                        \
    "CASE WHEN m.role = 'newcomer' AND m.waiting_since IS NOT NULL THEN 0 ELSE "
#define CANDIDATE_COLUMNS                                                                          \
    "SELECT m.id, m.address, m.name, m.role, m.profile, coalesce(m.waiting_since, 0),"             \
    " " CANDIDATE_MENTORING "(SELECT count(DISTINCT coalesce(p.circle, -p.id)) FROM pairs p"       \
    "  WHERE p.mentor = m.id AND p.state IN ('proposed', 'active')) END,"                          \
    " m.unanswered,"                                                                               \
    " " CANDIDATE_MENTORING "(SELECT count(*) FROM feedback f JOIN pairs p ON f.pair = p.id"       \
    "  WHERE p.mentor = m.id AND f.rating <= 2 AND f.at >= ?2"                                     \
    "  AND (f.member IS NULL OR f.member <> m.id)) END,"                                           \
    " " CANDIDATE_MENTORING "coalesce((?1 - max(coalesce(m.last_break, 0), (SELECT min(p.started)" \
    "  FROM pairs p WHERE p.mentor = m.id AND p.state = 'active'))) / ?3, 0) END"                  \
    " FROM members m WHERE m.state = 'active' AND m.undeliverable = 0 AND "

static const char candidates_sql[] = CANDIDATE_COLUMNS
    "("
    "  (m.role = 'newcomer' AND m.waiting_since IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pairs p"
    "   WHERE p.newcomer = m.id AND p.state IN ('proposed', 'active')))"
    "  OR (m.role = 'mentor' AND coalesce(m.away_until, 0) <= ?1))"
    " ORDER BY m.id";

/*
 * Buddies: newcomers who finished a pairing of their own (it started and has
 * ended) and are neither waiting nor in an open pairing as the newcomer.  The
 * role column reads "buddy" so the caller tells them from mentors.
 */
static const char buddies_sql[] = CANDIDATE_COLUMNS
    " m.role = 'newcomer' AND m.waiting_since IS NULL AND coalesce(m.away_until, 0) <= ?1"
    " AND EXISTS (SELECT 1 FROM pairs p WHERE p.newcomer = m.id AND p.state = 'ended'"
    "  AND p.started IS NOT NULL)"
    " AND NOT EXISTS (SELECT 1 FROM pairs p WHERE p.newcomer = m.id"
    "  AND p.state IN ('proposed', 'active'))"
    " ORDER BY m.id";

/* See store_pair_candidates_read: each row to read, nothing kept. */
static int
candidates_each(struct store *st, const char *what, const char *sql, time_t now,
                int (*read)(const struct store_candidate *, size_t, void *), void *arg, size_t *n)
{
    int rc;

    *n = 0;
    sqlite3_stmt *stmt = store_i_prepare(st, what, sql, "iii", (int64_t)now,
                                         (int64_t)(now - PAIR_FEEDBACK_WINDOW), (int64_t)PAIR_WEEK);
    if (!stmt)
        return -1;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        struct store_candidate c;
        candidate_numbers(stmt, &c);
        /* SQLite's own copies, valid until the next step: no allocation per row. */
        c.address = (char *)sqlite3_column_text(stmt, 1);
        c.name = (char *)sqlite3_column_text(stmt, 2);
        c.profile = (char *)sqlite3_column_text(stmt, 4);
        if (read(&c, *n, arg) != 0) {
            rc = store_i_set_err(st, "%s: the reader of row %zu failed", what, *n);
            break;
        }
        (*n)++;
    }
    store_i_finish(st, stmt);
    return rc < 0 ? -1 : 0;
}

/* candidates_query's reader: a copy of each row, kept. */
struct candidates_kept {
    struct store_candidate *v;
    size_t n, cap;
    const char *role; /* NULL: each row's own */
    int oom;
};

static int
candidate_keep(const struct store_candidate *row, size_t i, void *arg)
{
    struct candidates_kept *k = arg;
    (void)i;
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 16;
        struct store_candidate *grown = realloc(k->v, cap * sizeof *grown);
        if (grown == NULL)
            return k->oom = -1;
        k->v = grown;
        k->cap = cap;
    }
    struct store_candidate *c = &k->v[k->n];
    *c = *row;
    if (candidate_names(c, row->address, row->name) != 0)
        return k->oom = -1;
    c->profile = NULL;
    if (row->profile != NULL && (c->profile = strdup(row->profile)) == NULL) {
        free(c->address);
        return k->oom = -1;
    }
    if (k->role)
        c->role = k->role;
    k->n++;
    return 0;
}

/* Every row of sql, copied: the callers that hold the list while they work. */
static int
candidates_query(struct store *st, const char *what, const char *sql, const char *role, time_t now,
                 struct store_candidate **out, size_t *n)
{
    struct candidates_kept k = {NULL, 0, 0, role, 0};
    size_t rows;

    int rc = candidates_each(st, what, sql, now, candidate_keep, &k, &rows);
    if (rc != 0) {
        if (k.oom)
            store_i_set_err(st, "%s: out of memory", what);
        store_candidates_free(k.v, k.n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    *out = k.v;
    *n = k.n;
    return 0;
}

int
store_pair_candidates(struct store *st, time_t now, struct store_candidate **out, size_t *n)
{
    return candidates_query(st, "listing members for a matching round", candidates_sql, NULL, now,
                            out, n);
}

int
store_pair_candidates_read(struct store *st, time_t now,
                           int (*read)(const struct store_candidate *, size_t, void *), void *arg,
                           size_t *n)
{
    return candidates_each(st, "listing members for a matching round", candidates_sql, now, read,
                           arg, n);
}

/* A member of a round no longer in the store: address "" (nothing is sent to it). */
static int
candidate_gone(struct store_candidate *c)
{
    if (c->address != NULL)
        return 0;
    c->name = NULL;
    return (c->address = strdup("")) == NULL ? -1 : 0;
}

int
store_pair_addresses(struct store *st, struct store_candidate *v, size_t n)
{
    const char *what = "reading the addresses of a matching round's members";
    size_t i = 0;
    int rc, oom = 0;

    if (n == 0)
        return 0;
    /* One walk of the members in id order beside v: cheaper than n lookups. */
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT id, address, name FROM members"
                                         " WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
                                         "ii", v[0].id, v[n - 1].id);
    if (!stmt)
        return -1;
    while (!oom && (rc = store_i_step(st, stmt, what)) == 1) {
        int64_t id = sqlite3_column_int64(stmt, 0);
        while (!oom && i < n && v[i].id < id)
            oom = candidate_gone(&v[i++]) != 0;
        if (!oom && i < n && v[i].id == id) {
            oom = v[i].address == NULL && candidate_address(stmt, 1, &v[i]) != 0;
            i++;
        }
    }
    store_i_finish(st, stmt);
    while (!oom && rc >= 0 && i < n)
        oom = candidate_gone(&v[i++]) != 0;
    if (oom)
        return store_i_set_err(st, "%s: out of memory", what), -1;
    return rc < 0 ? -1 : 0;
}

int
store_pair_buddies(struct store *st, time_t now, struct store_candidate **out, size_t *n)
{
    return candidates_query(st, "listing former mentees who may be buddies", buddies_sql, "buddy",
                            now, out, n);
}

int
store_pair_requeue_completed(struct store *st, time_t now)
{
    /*
     * Only a pairing that ran its course ("completed") brings the newcomer
     * back: DONE means they are finished, and REMATCH or a partner leaving
     * already put them back on the list.
     */
    return store_i_run(st, "putting newcomers whose pairing ended back on the waiting list",
                       "UPDATE members SET waiting_since = ?1 WHERE role = 'newcomer'"
                       " AND state = 'active' AND waiting_since IS NULL"
                       " AND NOT EXISTS (SELECT 1 FROM pairs p WHERE p.newcomer = members.id"
                       "  AND p.state IN ('proposed', 'active'))"
                       " AND (SELECT p.end_reason FROM pairs p WHERE p.newcomer = members.id"
                       "  ORDER BY p.id DESC LIMIT 1) = 'completed'",
                       "i", (int64_t)now);
}

/* ---- members by id ---- */

int
store_pair_member(struct store *st, int64_t id, struct store_member *out)
{
    char what[64];
    char *address = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    snprintf(what, sizeof what, "looking up member %lld", (long long)id);
    sqlite3_stmt *stmt =
        store_i_prepare(st, what, "SELECT address FROM members WHERE id = ?1", "i", id);
    if (!stmt)
        return -1;
    rc = store_i_step(st, stmt, what);
    if (rc == 1 && store_i_col_str(stmt, 0, &address) != 0)
        rc = store_i_set_err(st, "%s: out of memory", what);
    store_i_finish(st, stmt);
    if (rc == 1)
        rc = store_member_get(st, address, out);
    free(address);
    return rc;
}

int
store_pair_set_waiting(struct store *st, int64_t member, time_t since)
{
    char what[96];

    snprintf(what, sizeof what, "putting member %lld on the waiting list", (long long)member);
    return store_i_run(st, what, "UPDATE members SET waiting_since = nullif(?2, 0) WHERE id = ?1",
                       "ii", member, (int64_t)since) < 0
               ? -1
               : 0;
}

int
store_pair_unanswered(struct store *st, int64_t member, int delta)
{
    char what[96];

    snprintf(what, sizeof what, "counting an unanswered mail of member %lld", (long long)member);
    return store_i_run(st, what,
                       "UPDATE members SET unanswered = max(0, unanswered + ?2) WHERE id = ?1",
                       "ii", member, (int64_t)delta) < 0
               ? -1
               : 0;
}

/* ---- the schedule and the event log, as pairing uses them ---- */

int
store_pair_schedule(struct store *st, int64_t pair, int64_t member, const char *kind, time_t due,
                    const char *arg, time_t now)
{
    char what[96];

    snprintf(what, sizeof what, "scheduling %s for pair %lld", kind, (long long)pair);
    return store_i_run(st, what,
                       "INSERT INTO schedule (due, kind, member, pair, arg, created)"
                       " VALUES (?1, ?2, nullif(?3, 0), nullif(?4, 0), ?5, ?6)",
                       "isiisi", (int64_t)due, kind, member, pair, arg, (int64_t)now) < 0
               ? -1
               : 0;
}

int
store_pair_unschedule(struct store *st, int64_t pair, time_t now, const char *outcome)
{
    char what[96];

    snprintf(what, sizeof what, "cancelling the scheduled events of pair %lld", (long long)pair);
    return store_i_run(
        st, what, "UPDATE schedule SET done = ?2, outcome = ?3 WHERE pair = ?1 AND done IS NULL",
        "iis", pair, (int64_t)now, outcome);
}

int
store_pair_last_event(struct store *st, const char *kind, const char *member, time_t *at)
{
    char what[96];
    int64_t t = 0;

    snprintf(what, sizeof what, "looking up the last %s event", kind);
    int rc =
        store_i_query_int(st, &t, what,
                          "SELECT at FROM events WHERE kind = ?1 AND member = ?2 COLLATE NOCASE"
                          " ORDER BY at DESC LIMIT 1",
                          "ss", kind, member);
    *at = rc == 1 ? (time_t)t : 0;
    return rc;
}
