/*
 * auth: what the community's own mail server says about a mail's sender, in
 * its Authentication-Results header (RFC 8601).  Pure: reads a parsed mail.
 *
 * Only one header counts: the topmost one carrying the configured
 * authserv-id.  The receiving server adds its header above everything the
 * sender wrote (and should strip forged ones carrying its id, README,
 * "Security"); any header further down, with whatever id, is the sender's
 * word and is ignored.  The sender is proven only by a DMARC pass whose
 * header.from is the domain of the mail's single From: address, and only
 * for that exact address (a server that lets its users send only as
 * themselves makes that the person).  SPF and DKIM alone are not enough:
 * SPF vouches for the envelope, DKIM for some domain, neither for From:.
 */
#ifndef MENTORD_AUTH_H
#define MENTORD_AUTH_H

#include "mail.h"

enum auth_verdict {
    AUTH_NONE = 0, /* no header from our server, or nothing about DMARC */
    AUTH_PASS,     /* dmarc=pass aligned with the From: address */
    AUTH_FAIL,     /* our server's header says anything else */
};

/*
 * The verdict of the topmost Authentication-Results header whose authserv-id
 * is authserv_id (NULL or "": AUTH_NONE) about address: AUTH_PASS only when
 * address is m's one From: address and dmarc=pass names its domain.
 */
enum auth_verdict auth_dmarc(const struct mail *m, const char *authserv_id, const char *address);

#endif
