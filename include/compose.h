/*
 * compose: a complete, well-formed RFC 5322 message from UTF-8 parts.
 *
 * Date, Message-ID in the community's domain, From with the community name,
 * To, Subject (RFC 2047 when not ASCII), MIME-Version, text/plain UTF-8 in
 * quoted-printable when needed (7bit otherwise), lines under 78 characters,
 * Auto-Submitted, threading headers, List-Id, a mailto: List-Unsubscribe and
 * X-Loop with the community address.
 * No member-supplied text reaches a header unencoded: CR, LF and other
 * control characters never pass into a header.
 */
#ifndef MENTORD_COMPOSE_H
#define MENTORD_COMPOSE_H

#include <stddef.h>
#include <time.h>

/* A mailbox: a display name (UTF-8, may be NULL) and an address. */
struct compose_mailbox {
    const char *name;
    const char *addr;
};

struct compose_msg {
    const char *from_name; /* community name */
    const char *from_addr; /* community address */
    const char *to_name;   /* may be NULL */
    const char *to_addr;
    const char *subject; /* UTF-8 */
    const char *body;    /* UTF-8, \n or \r\n line ends */
    /*
     * UTF-8 HTML rendering of the same content, or NULL.  When set the body is
     * multipart/alternative: the text/plain part, then a text/html part.
     */
    const char *html;
    /* Reply-To (an introduction: both partners, so a reply reaches the other); may be none. */
    const struct compose_mailbox *reply_to;
    size_t n_reply_to;
    const char *in_reply_to;      /* Message-ID being answered, without <>, may be NULL */
    const char *references;       /* its References, space-separated ids without <>, may be NULL */
    const char *auto_submitted;   /* "auto-replied" or "auto-generated" */
    const char *list_id;          /* e.g. "<mentors.example.org>", may be NULL */
    const char *list_unsubscribe; /* mailto: URI without <>, may be NULL */
    const char *msgid_domain;     /* right-hand side of the new Message-ID */
    const char *content_language; /* RFC 3282 language tag of the text ("es"), may be NULL */
    time_t date;
};

/*
 * Build the message.  *headers (ending with CRLF, no blank line) and *body
 * (CRLF line ends) are malloc'd, as is *message_id (without <>).
 * Returns 0, or -1 with err set (an address with CR/LF, for example).
 */
int compose_message(const struct compose_msg *msg, char **headers, char **body, char **message_id,
                    char *err, size_t errlen);

/* RFC 2047 encode text for a header if it needs it (malloc'd); plain ASCII is returned as is. */
char *compose_encode_word(const char *utf8);

/* 1 when addr is a plausible addr-spec with no whitespace or control characters. */
int compose_address_ok(const char *addr);

#endif
