/*
 * quiet: quiet hours in each person's own time zone.  Mail nobody asked for
 * (a proposal, a notice about one's pairing, an alert) waits for the
 * recipient's morning; a pure computation over [lifecycle] quiet_start and
 * quiet_end.
 */
#ifndef MENTORD_QUIET_H
#define MENTORD_QUIET_H

#include <time.h>

#include "config.h"

/*
 * When such mail may go to someone offset_min minutes from UTC: now, or the
 * next [lifecycle] quiet_end hour there when it is night.  Queued with that
 * time, the mail waits in the outbox and carries it as its Date.
 */
time_t quiet_morning(const struct config *cfg, int offset_min, time_t now);
/* The same, the offset read from a profile text ("Time zone:" line; UTC when none). */
time_t quiet_morning_in(const struct config *cfg, const char *profile_text, time_t now);

#endif
