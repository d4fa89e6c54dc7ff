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

/* The delay before attempt number attempts+1 (attempts >= 1), with jitter of +-10%. */
int smtp_backoff(const struct config_smtp *smtp, int attempts);

#endif
