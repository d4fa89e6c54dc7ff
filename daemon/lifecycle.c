/*
 * lifecycle: the programme over weeks.  Introductions, check-ins and
 * feedback, batched burnout-aware reminders, the end of a pairing.
 */
#include "programme.h"
#include "programme_int.h"

int
programme_member_leaving(struct programme_ctx *c, int64_t member_id)
{
    (void)c;
    (void)member_id;
    return 0; /* no pairings exist yet: nobody to tell */
}

int
programme_run_due(const struct config *cfg, struct store *st, time_t now)
{
    (void)cfg;
    (void)st;
    (void)now;
    return 0;
}

time_t
programme_next_due(const struct config *cfg, struct store *st)
{
    (void)cfg;
    (void)st;
    return 0;
}
