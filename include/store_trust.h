/*
 * store_trust: proof of the sender: refs, pending changes, VERP tags, and
 * erasing what the store holds about a member.
 * Part of the store module's public face (store.h includes it; conventions
 * there); defined in daemon/store_trust.c.
 */
#ifndef MENTORD_STORE_TRUST_H
#define MENTORD_STORE_TRUST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* ---- proof of the sender (store_trust.c) ---- */

/*
 * The [ref] address sees for conversation (a pair's ref, a token): created on
 * first use, unique to that address and conversation, drawn by secret.h.
 * 0 with out set, -1 on error.
 */
int store_ref_for(struct store *st, const char *address, const char *conversation, time_t now,
                  char *out, size_t len);
/* Whose ref it is and of which conversation: 1 found, 0 not, -1 on error. */
int store_ref_get(struct store *st, const char *ref, char *address, size_t alen, char *conversation,
                  size_t clen);

/* A change waiting for the reply to its confirmation (token also in tokens). */
struct store_pending {
    char *address;
    int kind;   /* enum command_kind */
    int number; /* its argument, -1 when none */
    char *text; /* what the person wrote (profile lines), may be NULL */
};
int store_pending_add(struct store *st, const char *token, const char *address, int kind,
                      int number, const char *text, time_t now);
/* Take the pending change of token (the row is deleted): 1 found, 0 not, -1 on error. */
int store_pending_take(struct store *st, const char *token, struct store_pending *out);
void store_pending_free(struct store_pending *p);
/* Forget pending changes whose token is closed or expired; the number forgotten, -1. */
int store_pending_expire(struct store *st, time_t now);

/* The VERP tag of a queued mail and whether it goes to an address that confirmed nothing. */
int store_outbox_set_trust(struct store *st, int64_t id, const char *verp, int stranger);
/* The mail a VERP tag belongs to: 1 with recipient and Message-ID, 0 unknown, -1 error. */
int store_outbox_by_verp(struct store *st, const char *verp, char *recipient, size_t rlen,
                         char *message_id, size_t mlen);
/*
 * Mail to unconfirmed addresses planned in [from, to): a count, -1 on error.
 * from and to are whole hours (multiples of 3,600): the store counts by hour.
 */
int store_stranger_planned(struct store *st, time_t from, time_t to);
/*
 * Both counts the cap reads, in one statement: *in_hour in [hour, hour + 1 h)
 * and *in_day in [day, day + 1 day), hour inside that day (whole hours and
 * days, UTC).  0, or -1 on error.
 */
int store_stranger_slot(struct store *st, time_t hour, time_t day, int *in_hour, int *in_day);
/* Push the expiry of an open token so it runs from at (a held confirmation). */
int store_token_extend(struct store *st, const char *token, time_t at);

/*
 * Erasing a member (store_member_erase calls it first): what the rest of the
 * store holds about them besides their own row: their feedback and feedback
 * on their pairs (ratings stay, anonymous), copies of mail naming them, sent
 * to their partners or to non-members (managers) since they joined, their
 * refs and pending changes.  0, or -1 on error.
 */
int store_trust_erase(struct store *st, const char *address);

#endif
