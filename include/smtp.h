/*
 * smtp: drains the outbox with libcurl.
 *
 * Due messages go out over one reused connection per batch.  A 2xx reply
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
 * Send what is due at now.  With dry_run, print each message to dry_out instead
 * and change nothing.  Returns 0 when the batch ran (some messages may have been
 * deferred), -1 when the store failed.
 */
int smtp_drain(const struct config *cfg, struct store *st, time_t now, int dry_run, FILE *dry_out,
               struct smtp_result *res);

/* The delay before attempt number attempts+1 (attempts >= 1), with jitter of +-10%. */
int smtp_backoff(const struct config_smtp *smtp, int attempts);

#endif
