/*
 * store_tokens: single-use confirmation tokens.
 * Part of the store module's public face (store.h includes it; conventions
 * there); defined in daemon/store_tokens.c.
 */
#ifndef MENTORD_STORE_TOKENS_H
#define MENTORD_STORE_TOKENS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* ---- confirmation tokens (double opt-in) ---- */

struct store_token {
    char *token;
    char *address;
    char *action; /* "join", "mentor" */
    char *name;   /* display name given with the request */
    time_t created;
    time_t expires;
    time_t closed; /* 0 while open */
    char *outcome; /* "confirmed", "expired", "bounced", "superseded" */
};

int store_token_add(struct store *st, const char *token, const char *address, const char *action,
                    const char *name, time_t now, time_t expires);
int store_token_get(struct store *st, const char *token, struct store_token *out);
/* The newest open, unexpired token of an address: 1 when there is one. */
int store_token_open_for(struct store *st, const char *address, time_t now,
                         struct store_token *out);
/* Close a token (single use); returns 1 when it was open, 0 when it was not. */
int store_token_close(struct store *st, const char *token, time_t now, const char *outcome);
/* Close every open token of an address (a bounced confirmation); number closed. */
int store_token_close_address(struct store *st, const char *address, time_t now,
                              const char *outcome);
/* Close expired tokens; the number closed. */
int store_token_expire(struct store *st, time_t now);
void store_token_free(struct store_token *t);

#endif
