/*
 * store_members: the members table.
 * Part of the store module's public face (store.h includes it; conventions
 * there); defined in daemon/store_members.c.
 */
#ifndef MENTORD_STORE_MEMBERS_H
#define MENTORD_STORE_MEMBERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* ---- members ---- */

struct store_member {
    int64_t id;
    char *address; /* as first given; compared case-insensitively */
    char *name;
    char *role;    /* "newcomer", "mentor", "manager" */
    char *state;   /* "pending", "active", "paused", "left" */
    char *profile; /* free text (key: value lines) */
    time_t created;
    time_t updated;
    double bounce_score;  /* permanent bounce +1, temporary +0.5, at most once a day */
    time_t last_bounce;   /* when the score last grew; 0 never */
    int undeliverable;    /* the score reached [programme] bounce_threshold */
    time_t away_until;    /* an out-of-office reply holds reminders back until then */
    time_t pause_until;   /* a paused member resumes by itself then; 0 when open-ended */
    time_t waiting_since; /* a newcomer without a mentor has waited since then; 0 when not */
    time_t last_break;    /* a mentor's last pause ended then; 0 never */
    int unanswered;       /* check-ins and proposals left unanswered in a row */
    time_t last_reminder; /* when the last batched reminder went to this mentor */
    char *language;       /* the language they asked for ("es"), NULL when they did not */
    char *language_seen;  /* the language of their own last mail, NULL when unknown */
};

int store_member_get(struct store *st, const char *address, struct store_member *out);
/*
 * Insert or update by address; NULL fields are left as they are on update.  A new
 * member given no role or state starts as "newcomer" / "pending".  id_out may be NULL.
 */
int store_member_upsert(struct store *st, const char *address, const char *name, const char *role,
                        const char *state, const char *profile, time_t now, int64_t *id_out);
/*
 * store_member_upsert that also records the language asked for and the one
 * seen (NULL keeps the stored value, as store_member_set_language): one
 * statement where a newcomer's mail took two.
 */
int store_member_upsert_lang(struct store *st, const char *address, const char *name,
                             const char *role, const char *state, const char *profile,
                             const char *language, const char *language_seen, time_t now,
                             int64_t *id_out);
/*
 * store_member_upsert_lang of v's address, name, role, state, profile,
 * language and language_seen (NULL keeps the stored value), and the row it
 * leaves, without reading it back: 1 with *out that row (store_member_free)
 * when the statement inserted it (v's values, the defaults for the rest) or
 * when before is the row it updated, as the store held it just before; 0
 * with *out zeroed when it updated a row and before is NULL; -1 on error.
 */
struct store_member_values {
    const char *address, *name, *role, *state, *profile, *language, *language_seen;
};
int store_member_upsert_row(struct store *st, const struct store_member_values *v,
                            const struct store_member *before, time_t now,
                            struct store_member *out);
void store_member_free(struct store_member *m);
/* 1 when the member has confirmed their address (active or paused), else 0. */
int store_member_confirmed(const struct store_member *m);

/* Calls fn for each member (ordered by id); stops and returns fn's value when non-zero. */
int store_member_each(struct store *st, int (*fn)(const struct store_member *, void *), void *arg);
/* Count members with role and state (either may be NULL for any). */
int store_member_count(struct store *st, const char *role, const char *state);

/* A newcomer starts waiting for a mentor at since (0: not waiting); 1 when found. */
int store_member_set_waiting(struct store *st, const char *address, time_t since);
/*
 * A member's chosen language and the one seen in their mail; NULL keeps the
 * stored value.  1 when the member exists, 0 when not, -1 on error.
 */
int store_member_set_language(struct store *st, const char *address, const char *chosen,
                              const char *seen);

/* Set state ("active", "paused", ...) and pause_until (0: none); 1 when the member exists. */
int store_member_set_state(struct store *st, const char *address, const char *state,
                           time_t pause_until, time_t now);
/* Erase a member's personal data (see store.c); anonymous counts stay. */
int store_member_erase(struct store *st, const char *address);
/* Addresses of pending members with no open confirmation left (malloc'd array). */
int store_member_stale_pending(struct store *st, char ***addresses, size_t *n);

#endif
