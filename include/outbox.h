/*
 * outbox: turn "send this template to this person" into a queued message.
 *
 * Renders the template, composes the RFC 5322 message and stores it in the
 * durable outbox, inside the caller's transaction, so the mail exists exactly
 * when the decision that caused it is committed.  Sending is smtp's job.
 */
#ifndef MENTORD_OUTBOX_H
#define MENTORD_OUTBOX_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "mail.h"
#include "store.h"
#include "template.h"

struct outbox_mail {
    const char *to_addr;
    const char *to_name;             /* may be NULL */
    const char *template_name;       /* file in the templates dir, without .txt */
    const struct template_var *vars; /* extra variables; community_* are added */
    size_t nvars;
    const struct mail *in_reply_to; /* the mail answered, or NULL for scheduled mail */
    const char *kind;               /* "reply" (default), "confirm", "scheduled", "notice" */
    const char *ref;  /* conversation token, put in the outbox for threading; may be NULL */
    int erase_after;  /* blank the stored copy once sent (mail to a member who left) */
    const char *html; /* an HTML alternative of the rendered text (UTF-8), or NULL */
};

/*
 * Queue one message.  The common variables community_name, community_address
 * and to_name are always available to the template.  Returns 0, or -1 with
 * err set (template error, bad address, store error).
 */
int outbox_queue(const struct config *cfg, struct store *st, const struct outbox_mail *om,
                 time_t now, char *err, size_t errlen);

/*
 * A plain notice to every manager, built without templates (they may be the
 * very thing missing): subject and body as given, queued in the caller's
 * transaction.  0, or -1 with err set.
 */
int outbox_notice_managers(const struct config *cfg, struct store *st, const char *subject,
                           const char *body, time_t now, char *err, size_t errlen);

#endif
