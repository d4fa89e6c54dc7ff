/*
 * lifecycle_int.h: what lifecycle.c shares with lifecycle_answers.c, and
 * with nobody else (the store's store_int.h is the model).  A member as the
 * programme over weeks sees them, and the few steps both the scheduled
 * events and the answers to check-ins take.
 */
#ifndef MENTORD_LIFECYCLE_INT_H
#define MENTORD_LIFECYCLE_INT_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "respond.h"
#include "store.h"
#include "template.h"

/* After a worrying answer the mentor gets a week before the mentee is offered a rematch. */
#define REMATCH_DELAY (7 * 24 * 3600)

/* A member with what the scheduler needs to know about them. */
struct lifecycle_member {
    struct store_member m;
    char first[64]; /* first name, or "" */
    int offset;     /* minutes east of UTC at the time asked */
    int capacity;   /* from the profile, 1 when not given */
    char *describe; /* profile summary lines (malloc'd, may be NULL) */
};

/* The member with id at time now into *out: 1 found, 0 gone, -1 on error. */
int lifecycle_i_member_get(struct store *st, int64_t id, time_t now, struct lifecycle_member *out);
/* The sender of the mail being answered, the same way. */
int lifecycle_i_member_get_by_address(struct respond_ctx *c, struct lifecycle_member *out);
void lifecycle_i_member_free(struct lifecycle_member *mb);
/* Their first name, or fallback when they gave none. */
const char *lifecycle_i_name_or(const struct lifecycle_member *mb, const char *fallback);
/* Queue template tmpl to them in their language: 0 or -1. */
int lifecycle_i_send(const struct config *cfg, struct store *st, const struct lifecycle_member *to,
                     const char *tmpl, const struct template_var *vars, size_t nvars,
                     const char *kind, const char *ref, time_t now);
/* One pending reminder per mentor at a time: that is the batching. */
int lifecycle_i_want_reminder(const struct config *cfg, struct store *st,
                              const struct lifecycle_member *mentor, time_t now);
/* Milestones reached and not yet celebrated become "milestone" events. */
int lifecycle_i_milestones(struct store *st, int64_t mentor, time_t now);

#endif
