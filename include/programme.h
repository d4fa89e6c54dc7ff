/*
 * programme: the domain.  Decides what an incoming mail means for the
 * mentorship programme and what to answer.  Knows nothing of IMAP or SMTP:
 * it reads a parsed mail, changes the store and queues mail in the outbox,
 * all inside the caller's transaction.
 */
#ifndef MENTORD_PROGRAMME_H
#define MENTORD_PROGRAMME_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "mail.h"
#include "store.h"

/*
 * Handle m.  *outcome is set to a static word for the processed-message record:
 * "answered" (a reply was queued) or "recorded" (automatic mail, not answered).
 * detail receives a short human description for the log.  Returns 0, or -1 on
 * a system error (store, template), in which case the caller rolls back.
 */
int programme_handle_mail(const struct config *cfg, struct store *st, const struct mail *m,
                          time_t now, const char **outcome, char *detail, size_t detail_len);

#endif
