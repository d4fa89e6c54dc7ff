/*
 * bounce: what a delivery failure report says.
 *
 * RFC 3464 delivery status notifications (multipart/report with a
 * message/delivery-status part) are read field by field; the common
 * non-standard formats (qmail, Exim, Exchange, Postfix without DSN, ...) by
 * their text.  The result names the failed recipients, the status, and
 * whether the failure is permanent, temporary (a delay warning) or a policy
 * rejection (5.7.x, which says nothing about the address).
 */
#ifndef MENTORD_BOUNCE_H
#define MENTORD_BOUNCE_H

#include <stddef.h>

#include "mail.h"

enum bounce_severity {
    BOUNCE_NONE = 0,  /* not a failure report (e.g. a "delivered" DSN) */
    BOUNCE_TEMPORARY, /* 4.x.x, Action: delayed */
    BOUNCE_PERMANENT, /* 5.x.x, Action: failed */
    BOUNCE_POLICY,    /* 5.7.x: refused for policy/spam/auth reasons */
    BOUNCE_COMPLAINT, /* ARF feedback report */
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

#endif
