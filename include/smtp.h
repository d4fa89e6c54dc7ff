/*
 * smtp: drains the outbox with libcurl.
 *
 * Due messages go out over smtp.sessions parallel SMTP sessions, each over one
 * reused connection (a new one after every smtp.batch_size messages).  A 2xx reply
 * marks the message sent; 4xx, a connection error or a timeout defers it with
 * exponential backoff (retry_base doubling up to retry_max) until
 * max_lifetime; 5xx fails it for good with the server's reply.
 */
#ifndef MENTORD_SMTP_H
#define MENTORD_SMTP_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "store.h"

struct smtp_result {
    int sent;
    int deferred;
    int failed;
};

/*
 * Send what is due at now: all of it, unless the server or the connection
 * fails (the rest waits for the next drain) or the drain has taken 30 s.
 * With dry_run, print the first batch_size due messages to dry_out instead and
 * change nothing.  Returns 0 when the drain ran (some messages may have been
 * deferred), -1 when the store failed.
 */
int smtp_drain(const struct config *cfg, struct store *st, time_t now, int dry_run, FILE *dry_out,
               struct smtp_result *res);

/*
 * smtp_drain for [smtp] auth = xoauth2 / oauthbearer: auth->token is the access
 * token to log in with (kept by the caller for the whole drain).  With
 * hold_refused, a message whose login the server refused is neither deferred
 * nor failed: the drain stops, auth->refused is set, and the caller fetches a
 * new token and drains again (once; the second time without hold_refused, so
 * a token that keeps being refused defers mail with the usual backoff).
 */
struct smtp_auth {
    const char *token;
    int hold_refused;
    int refused; /* out */
};

int smtp_drain_auth(const struct config *cfg, struct store *st, time_t now, int dry_run,
                    FILE *dry_out, struct smtp_auth *auth, struct smtp_result *res);

/* The delay before attempt number attempts+1 (attempts >= 1), with jitter of +-10%. */
int smtp_backoff(const struct config_smtp *smtp, int attempts);

#endif
