/*
 * bounce: what a delivery failure report says.
 *
 * RFC 3464 delivery status notifications (multipart/report with a
 * message/delivery-status part) are read field by field; the common
 * non-standard formats (qmail, Exim, Exchange, Postfix without DSN, ...) by
 * their text.  The result names the failed recipients, the status, and
 * whether the failure is permanent, temporary (a 4.x.x failure the server
 * gave up on), a policy rejection (5.7.x, which says nothing about the
 * address), or only a delay warning (the server is still trying: not a
 * bounce yet, so it is never scored).
 */
#ifndef MENTORD_BOUNCE_H
#define MENTORD_BOUNCE_H

#include <stddef.h>

#include "mail.h"

enum bounce_severity {
    BOUNCE_NONE = 0,  /* not a failure report (e.g. a "delivered" DSN) */
    BOUNCE_TEMPORARY, /* soft bounce: 4.x.x failure (mailbox full, gave up retrying) */
    BOUNCE_PERMANENT, /* 5.x.x, Action: failed */
    BOUNCE_POLICY,    /* 5.7.x: refused for policy/spam/auth reasons, or a list manager's refusal */
    BOUNCE_COMPLAINT, /* ARF feedback report */
    BOUNCE_DELAYED,   /* delay warning (Action: delayed, "will keep trying"): not a bounce yet */
};

struct bounce_info {
    enum bounce_severity severity;
    char **recipients; /* failed recipient addresses, lower case */
    size_t n_recipients;
    char status[16];       /* enhanced status code, "" when unknown */
    int reply_code;        /* SMTP reply code, 0 when unknown */
    char *diagnostic;      /* one line, UTF-8, may be NULL */
    char *orig_message_id; /* Message-ID of the returned message, without <>, may be NULL */
};

/* Read the report.  raw is the whole message (parts the parsed mail does not keep). */
int bounce_parse(const struct mail *m, const char *raw, size_t len, struct bounce_info *out);
void bounce_free(struct bounce_info *b);
const char *bounce_severity_name(enum bounce_severity s);

/*
 * 1 when m is a mailing-list manager's refusal of our post ("You are not a
 * member", "Loop Alert"; fml and the like): a bounce about the sender, never
 * about the address.
 */
int bounce_is_list_refusal(const struct mail *m);

#endif
