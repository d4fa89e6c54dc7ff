/*
 * store_pairs: pairings and do-not-match blocks.
 * Part of the store module's public face (store.h includes it; conventions
 * there); defined in daemon/store_pairs.c.
 */
#ifndef MENTORD_STORE_PAIRS_H
#define MENTORD_STORE_PAIRS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store_members.h"

struct store;

/*
 * ---- pairs and blocks (store_pairs.c) ----
 * Pairings from proposal to end, and do-not-match blocks.  Tables: pairs,
 * blocks; members.waiting_since.  Declarations for store_pairs.c go here.
 */

struct store_pair {
    int64_t id;
    int64_t newcomer; /* member ids; 0 once that member was erased */
    int64_t mentor;
    char *state;   /* "proposed", "active", "declined", "expired", "ended" */
    int64_t score; /* milli-points (match.h) */
    char *reasons; /* newline-separated, best first; may be NULL */
    char *ref;     /* token for replies about this pair ([ref ...], outbox ref) */
    time_t created, started, ends, ended; /* 0 when not (yet) */
    char *end_reason;                     /* "done", "rematch", ...; NULL while open */
    int64_t circle; /* the circle (its first pair's id) this pair belongs to; 0 when none */
};

/*
 * A new pair in state "proposed" or "active" (started = now, ends as given)
 * with a fresh random ref copied into ref (at least 11 bytes).  id_out may be NULL.
 */
int store_pair_add(struct store *st, int64_t newcomer, int64_t mentor, const char *state,
                   int64_t score, const char *reasons, time_t now, time_t ends, int64_t *id_out,
                   char *ref, size_t ref_len);
int store_pair_get(struct store *st, int64_t id, struct store_pair *out);
int store_pair_by_ref(struct store *st, const char *ref, struct store_pair *out);
/* Pairs with member on either side (0: everyone), newest first; state NULL for any. */
int store_pair_list(struct store *st, int64_t member, const char *state, struct store_pair **out,
                    size_t *n);
void store_pair_free(struct store_pair *p);
void store_pairs_free(struct store_pair *v, size_t n);
/*
 * Move a pair from state from (NULL: any) to to: "active" sets started = now
 * and ends; any other state sets ended = now and end_reason.  Returns 1 when
 * it moved, 0 when the pair was not in from (a late or repeated answer).
 */
int store_pair_set_state(struct store *st, int64_t id, const char *from, const char *to, time_t now,
                         time_t ends, const char *end_reason);
/* Pairs of a mentor (0: all) in state (NULL: any), or -1. */
int store_pair_count(struct store *st, int64_t mentor, const char *state);
/* Pairs that started at or after since (the recent match rate), or -1. */
int store_pair_started_since(struct store *st, time_t since);

/* Do-not-match: a and b are never paired (order does not matter; a repeat is ignored). */
struct store_block {
    int64_t a, b; /* a < b */
};
int store_block_add(struct store *st, int64_t a, int64_t b, const char *reason, time_t now);
/* Blocks plus every pair ever proposed or made: people are never paired twice. */
int store_block_list(struct store *st, struct store_block **out, size_t *n);

/* A member who can take part in a matching round. */
struct store_candidate {
    int64_t id;
    char *address, *name; /* one allocation: name (NULL when none) follows the address */
    const char *role;     /* "newcomer", "mentor" or "buddy", a constant */
    char *profile;
    time_t waiting_since;  /* newcomers */
    int load;              /* mentors: proposed + active pairs */
    int unanswered;        /* members.unanswered */
    int low_feedback;      /* ratings <= 2 on the mentor's pairs in the last 90 days */
    int weeks_since_break; /* mentoring without a break (0 with no active pair) */
};
/*
 * Confirmed (state "active"), deliverable members: newcomers waiting
 * (waiting_since set) without a proposed or active pair, and mentors who are
 * not away at now.  Ordered by id.
 */
int store_pair_candidates(struct store *st, time_t now, struct store_candidate **out, size_t *n);
/*
 * The same members, but nothing is kept: read sees each row (number i, its
 * strings valid only during the call) as it comes from the database, and *n
 * is how many there were.  A round of 100,000 members then never holds their
 * profiles' text, addresses and names while it solves (store_pair_addresses
 * reads the addresses afterwards).  A non-zero return from read ends the
 * listing with an error.
 */
int store_pair_candidates_read(struct store *st, time_t now,
                               int (*read)(const struct store_candidate *, size_t, void *),
                               void *arg, size_t *n);
/*
 * Address and name of each of v[0..n) (ascending id; id set), allocated as
 * store_pair_candidates does; a member no longer in the store gets the
 * address "".
 */
int store_pair_addresses(struct store *st, struct store_candidate *v, size_t n);
void store_candidates_free(struct store_candidate *v, size_t n);

/* A member by id (store_member_get by the id's address): 1 found, 0 not, -1 error. */
int store_pair_member(struct store *st, int64_t id, struct store_member *out);
/* waiting_since of a member by id (0: not waiting). */
int store_pair_set_waiting(struct store *st, int64_t member, time_t since);
/* members.unanswered += delta (not below 0). */
int store_pair_unanswered(struct store *st, int64_t member, int delta);
/* A due event in the schedule table (member, pair 0: none). */
int store_pair_schedule(struct store *st, int64_t pair, int64_t member, const char *kind,
                        time_t due, const char *arg, time_t now);
/* Close a pair's open scheduled events with outcome; the number closed. */
int store_pair_unschedule(struct store *st, int64_t pair, time_t now, const char *outcome);
/* When the newest event of kind about member happened: 1 and *at, 0 (at = 0) when never. */
int store_pair_last_event(struct store *st, const char *kind, const char *member, time_t *at);

/*
 * Buddies ([matching] mode = buddies): active, deliverable newcomers who
 * finished a pairing of their own and are not waiting or in an open pairing
 * as the newcomer, with their load as buddies; role reads "buddy".  By id.
 */
int store_pair_buddies(struct store *st, time_t now, struct store_candidate **out, size_t *n);
/*
 * Rotation: active newcomers who are not waiting, have no open pair and whose
 * newest pairing ran its full length (end_reason "completed") wait again from
 * now.  The number put back on the list, or -1.
 */
int store_pair_requeue_completed(struct store *st, time_t now);
/*
 * Circles ([matching] mode = circles, and peer circles): the pairs of one
 * mentor's cohort share a circle id, the id of the circle's first pair.
 * store_pair_set_circle sets it (0: none); store_pair_circle lists a
 * circle's pairs in any state, ascending id.  A circle counts as one unit of
 * a mentor's load in store_pair_candidates.
 */
int store_pair_set_circle(struct store *st, int64_t pair, int64_t circle);
int store_pair_circle(struct store *st, int64_t circle, struct store_pair **out, size_t *n);
/* @@ store_pairs.c declarations @@ */

#endif
