/*
 * clock: the daemon's idea of "now".
 *
 * Tests and the demo live through weeks in seconds, so time is injectable:
 * MENTORD_NOW (seconds since the epoch, or an ISO date "2026-01-31T09:00:00Z")
 * fixes the start, and time then runs on from there at normal speed.
 * mentord --now sets MENTORD_NOW for its own process.
 */
#ifndef MENTORD_CLOCK_H
#define MENTORD_CLOCK_H

#include <time.h>

/* Seconds since the epoch, honouring MENTORD_NOW. */
time_t clock_now(void);

/* Parse an epoch number or "YYYY-MM-DD[THH:MM[:SS]][Z]" (UTC); -1 when invalid. */
time_t clock_parse(const char *text);

/*
 * Seconds on one of the system's clocks, as a double: CLOCK_MONOTONIC for the
 * length of a step, CLOCK_PROCESS_CPUTIME_ID for the CPU it took (every thread).
 * Not "now" (that is clock_now): these measure, they never stand in a record.
 */
double clock_seconds(clockid_t which);

#endif
