/*
 * schedule: time turned into actions.  The due-event table: each kind of
 * scheduled row (check-in, reminder, end of a pairing, end of a pause,
 * proposal timeout, ...) and the handler that runs it (lifecycle.c,
 * pairing.c).  Sits above the handlers, beside the dispatcher for mail.
 */
#ifndef MENTORD_SCHEDULE_H
#define MENTORD_SCHEDULE_H

#include <time.h>

#include "config.h"
#include "store.h"

/*
 * Run the next due scheduled event in the caller's transaction.  Returns 1
 * when one ran (call again), 0 when nothing is due, -1 on error.
 */
int schedule_run_due(const struct config *cfg, struct store *st, time_t now);

/* When the next scheduled event is due; 0 when none. */
time_t schedule_next_due(const struct config *cfg, struct store *st);

#endif
