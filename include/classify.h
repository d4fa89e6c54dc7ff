/*
 * classify: is this mail from a person, or automatic?
 *
 * Automatic mail (bounces, out-of-office, RFC 3834 Auto-Submitted, list
 * traffic, our own mail looping back) is recorded and never answered: an
 * answer to a robot starts a mail loop.  Neither is mail the receiving
 * server's spam filter marked as spam: spam comes from forged senders, and
 * answering it sends mail to people who never wrote (backscatter).  The
 * header need not be trusted: a forged one only keeps its own sender from
 * being answered.
 */
#ifndef MENTORD_CLASSIFY_H
#define MENTORD_CLASSIFY_H

#include "mail.h"

enum classify_kind {
    CLASSIFY_PERSON = 0, /* answer it */
    CLASSIFY_BOUNCE,     /* delivery status notification or non-standard bounce */
    CLASSIFY_AUTO_REPLY, /* vacation, out-of-office, challenge-response */
    CLASSIFY_BULK,       /* Precedence bulk/junk/list, mailing-list traffic */
    CLASSIFY_AUTOMATIC,  /* Auto-Submitted, no-reply/MAILER-DAEMON senders, empty Return-Path */
    CLASSIFY_LOOP,       /* from our own address */
    CLASSIFY_SPAM,       /* the receiving server's spam filter said so (X-Spam-Flag: YES, ...) */
};

/*
 * Classify m.  own_address is the community's address (mail from it is a loop).
 * *reason (if given) is set to a static phrase naming the evidence,
 * e.g. "Auto-Submitted: auto-replied".
 */
enum classify_kind classify_mail(const struct mail *m, const char *own_address,
                                 const char **reason);
const char *classify_name(enum classify_kind kind);

#endif
