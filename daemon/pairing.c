/*
 * pairing: from a matching round to a running pair.  Proposals to mentors,
 * ACCEPT and DECLINE, DONE and REMATCH, the waiting list.
 */
#include "programme.h"
#include "programme_int.h"

int
programme_pair_mail(struct programme_ctx *c, const struct command *cmd)
{
    (void)c;
    (void)cmd;
    return 1; /* no pairings exist yet: nothing is about one */
}

int
programme_match_round(const struct config *cfg, struct store *st, time_t now, int dry_run,
                      FILE *out)
{
    (void)cfg;
    (void)st;
    (void)now;
    (void)dry_run;
    (void)out;
    return 0;
}
