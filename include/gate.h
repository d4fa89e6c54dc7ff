/*
 * gate: who wrote this mail, and may it do what it asks?  Sits between the
 * reading of a mail and the programme's handlers (programme.c calls it, and
 * nothing else does).
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

/* What the gate does with a mail's command (gate_check carries it out). */
enum gate_plan {
    GATE_PLAN_ERROR = -1,  /* a store error */
    GATE_PLAN_PENDING,     /* it confirms a change the address asked for earlier: that acts */
    GATE_PLAN_ACTS,        /* proven: acts now */
    GATE_PLAN_ANSWERS,     /* harmless (STATUS, HELP, CONFIRM TOKEN): answered to the address */
    GATE_PLAN_NO_CHANGE,   /* claimed, and it would change nothing: help or a short answer */
    GATE_PLAN_OWN_REQUEST, /* JOIN, MENTOR, LEAVE: their own confirmation mail completes them */
    GATE_PLAN_ASK_RATING,  /* a claimed check-in rating: confirmation mail first */
    GATE_PLAN_ASK,         /* a claimed change: confirmation mail first */
    GATE_PLAN_STRANGER,    /* a claimed change from an unknown address: answered, no change */
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
 * for it, and for a confirmed check-in rating c->reading a reading of it);
 * 1: handled here (a confirmation was asked, or a repeated request
 * recorded); 2: a confirmed language choice, c->lang_asked set, to act on;
 * -1 on error.  A check-in rating in claimed mail is asked to be confirmed
 * like a command.
 */
int gate_check(struct respond_ctx *c, struct command *cmd);

/*
 * Is the mail claimed (nothing proves its sender) while its address belongs
 * to someone who confirmed it?  Then nothing of it may change what mentord
 * keeps about them, the language they are written to in included.  1 or 0,
 * -1 on a store error.
 */
int gate_claimed_member(struct respond_ctx *c);

/*
 * "Please write to me in Spanish" (c->lang_asked) in a claimed mail: keep it
 * and ask the address to confirm.  0 when asked, -1 on error.
 */
int gate_ask_language(struct respond_ctx *c);

/*
 * What gate_check would do with cmd, in words, for `mentorctl inspect`;
 * decided by the same plan without changing anything.  NULL on a store error.
 */
const char *gate_describe(struct respond_ctx *c, const struct command *cmd);

/* Free what gate_check took over (the text of a confirmed change). */
void gate_release(struct respond_ctx *c);

#endif
