/*
 * gate: who wrote this mail, and may it do what it asks?  Sits between the
 * reading of a mail and the programme's handlers (programme.c calls it, in
 * two places, and nothing else does).
 *
 * A mail proves its sender (README, "Security") only when
 *   - it answers a mail mentord sent to that very address: its In-Reply-To
 *     or References names one of our Message-IDs sent there, or its Subject
 *     carries the [ref] that address was given (each recipient gets a ref of
 *     their own, outbox.c) or a token sent there (GATE_REPLY); or
 *   - the community's own server vouches for the exact From: address with an
 *     aligned DMARC pass (auth.h, GATE_DMARC).
 * Anything else is only claimed.  Each command states the proof it needs in
 * one table (gate.c); a change asked for by claimed mail is kept, and a
 * short mail asks the address to confirm it by replying; the reply acts.
 */
#ifndef MENTORD_GATE_H
#define MENTORD_GATE_H

#include "command.h"

enum gate_proof {
    GATE_CLAIMED = 0, /* a From: header only */
    GATE_REPLY,       /* answers our mail to that address */
    GATE_DMARC,       /* our server's aligned DMARC pass */
};

enum gate_need {
    GATE_ANYONE,      /* harmless: answered to the address, about nobody else */
    GATE_OWN_CONFIRM, /* starts a request that its own confirmation mail completes */
    GATE_PROVEN,      /* changes state: proof, or a confirming reply first */
};

struct respond_ctx;

/*
 * Find the conversation m answers (c->ref) and how its sender is proven
 * (c->proof).  References to our mail sent to another address count for
 * nothing.  0, or -1 on a store error.
 */
int gate_prove(struct respond_ctx *c);

/*
 * May cmd act?  0: go on and dispatch cmd (which may now be a confirmed
 * pending change, with c->text and c->profile those of the mail that asked
 * for it); 1: handled here (a confirmation was asked, or a repeated request
 * recorded); -1 on error.
 */
int gate_check(struct respond_ctx *c, struct command *cmd);

/* Free what gate_check took over (the text of a confirmed change). */
void gate_release(struct respond_ctx *c);

#endif
