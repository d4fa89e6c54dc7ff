/*
 * pairing: the matching round (proposals, introductions, waiting-list notes,
 * circles) and the mail about a pairing (ACCEPT, DECLINE, DONE, REMATCH, a
 * reply to a proposal or check-in), all in the caller's transaction.
 */
#ifndef MENTORD_PAIRING_H
#define MENTORD_PAIRING_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "command.h"
#include "config.h"
#include "match.h"
#include "respond.h"
#include "store.h"

/*
 * One matching round over the confirmed, available members: proposals to
 * mentors (or introductions when mentors need not accept) and waiting-list
 * notes, in the caller's transaction.  With dry_run, the pairs the round
 * would make are printed to out with scores and reasons and the caller rolls
 * back.  Returns the number of pairs made, -1 on error.
 */
int pairing_match_round(const struct config *cfg, struct store *st, time_t now, int dry_run,
                        FILE *out);

/*
 * A mail about a pairing: ACCEPT/DECLINE of a proposal, DONE, REMATCH, or a
 * reply (by ref) to a proposal or check-in.  Returns 1 when the mail is not
 * about a pairing, so the caller reads it another way.
 */
int pairing_mail(struct respond_ctx *c, const struct command *cmd);

/* A proposal's time is up (a due event run by schedule.c); 0, or -1 on error. */
int pairing_proposal_timeout(const struct config *cfg, struct store *st, int64_t pair, time_t now);

/* cfg's [matching] weights as the matcher takes them. */
void pairing_weights(const struct config_matching *m, struct match_weights *w);
/*
 * [matching] synonyms text ("a = b, c; ...") as the matcher's synonym list;
 * *storage holds the strings and is freed by the caller with *syn.  0, or -1
 * out of memory.
 */
int pairing_synonyms(const char *text, char **storage, struct match_synonym **syn, size_t *n_syn);
/* The optimality certificate of a solved round, one line to out. */
void pairing_print_certificate(const struct match_result *res, FILE *out);

#endif
