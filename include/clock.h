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

#endif
