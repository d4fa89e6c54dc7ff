/*
 * lifecycle: the programme over weeks.  Introductions, check-ins and
 * feedback, batched burnout-aware reminders, the end of a pairing, pauses
 * that end by themselves, recognition, leaving.  Runs the scheduled rows
 * schedule.c hands it, and the replies to check-ins.
 */
#ifndef MENTORD_LIFECYCLE_H
#define MENTORD_LIFECYCLE_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "respond.h"
#include "store.h"

/* What running a scheduled row did (lifecycle_run_event). */
enum lifecycle_run {
    LIFECYCLE_DONE = 0,    /* mark the row done with *outcome */
    LIFECYCLE_MOVED = 1,   /* its due time changed (night there, away): not done */
    LIFECYCLE_SKIP = 2,    /* done without mail (paused, left, ...): *outcome says why */
    LIFECYCLE_UNKNOWN = 3, /* not a kind lifecycle runs */
};

/*
 * Run the scheduled row ev (introduction, checkin, reminder, rematch-offer,
 * pair-end, closing, invite, pause-notice, pause-end, milestone) in the
 * caller's transaction: an enum lifecycle_run, or -1 on error.  *outcome is
 * what to record when the row is done.
 */
int lifecycle_run_event(const struct config *cfg, struct store *st,
                        const struct store_schedule_event *ev, time_t now, const char **outcome);

/*
 * A match is final (accepted, or no acceptance asked): the introduction
 * mail(s), the check-ins and the end of the pairing are scheduled.  In the
 * caller's transaction; 0, or -1 on error.
 */
int lifecycle_pair_started(const struct config *cfg, struct store *st, int64_t pair, time_t now);

/*
 * A reply (by the pair's ref) to a check-in that is not a command: the
 * rating and comment become feedback; help starts when needed.
 */
int lifecycle_checkin_reply(struct respond_ctx *c, int64_t pair);

/* A member confirmed LEAVE; before their data is erased, end their pairings kindly and tell each
 * partner. */
int lifecycle_member_leaving(struct respond_ctx *c, int64_t member_id);

/*
 * A confirmed MENTOR from someone who had been a mentee counts as a
 * conversion (event "conversion"); 1 when counted, 0 when not a former
 * mentee, -1 on error.  Call it when a volunteer's confirmation succeeds.
 */
int lifecycle_note_conversion(struct store *st, const char *address, time_t now);

#endif
