/*
 * mail: raw RFC 5322 bytes to a parsed mail, with libetpan.
 *
 * Headers are parsed by mailimf, the body by mailmime; encoded words
 * (RFC 2047) are decoded and every text is converted to UTF-8.  The parsed
 * form is what the rest of mentord reads: nothing downstream touches raw
 * headers except through mail_header().
 */
#ifndef MENTORD_MAIL_H
#define MENTORD_MAIL_H

#include <stddef.h>
#include <time.h>

struct mail_header_field {
    char *name;  /* as written */
    char *value; /* unfolded, raw (not decoded) */
};

struct mail {
    char *message_id;   /* without angle brackets; NULL when absent */
    char *in_reply_to;  /* first id, without angle brackets */
    char *references;   /* ids separated by single spaces, without angle brackets */
    char *from_addr;    /* addr-spec of the first From: mailbox */
    char *from_name;    /* display name, UTF-8, may be NULL */
    char *reply_to;     /* addr-spec of the first Reply-To: mailbox, may be NULL */
    char *subject;      /* UTF-8, unfolded, may be NULL */
    char *return_path;  /* addr-spec; "" for <>; NULL when the header is absent */
    char *content_type; /* "text/plain", "multipart/report", ... lower case */
    char *text;         /* the body as UTF-8 text (text/plain part preferred) */
    time_t date;        /* 0 when absent or invalid */
    size_t size;        /* raw size in bytes */
    struct mail_header_field *headers;
    size_t n_headers;
    /* Addition: content type of every MIME part, depth-first, lower case, separated
     * by single spaces ("multipart/report text/plain message/delivery-status ...").
     * Lets classify see DSN/ARF parts; capped at the same depth and count as the body walk. */
    char *part_types;
    /* Set by mail_parse: never the same for two parses in one process (0: built otherwise).
     * Lets a pure reader of a parsed mail keep its answer for the next question (classify). */
    unsigned long long serial;
};

/* Parse raw (need not be NUL-terminated).  Returns 0, or -1 with err set. */
int mail_parse(const char *raw, size_t len, struct mail **out, char *err, size_t errlen);
void mail_free(struct mail *m);

/* First header named name (case-insensitive), raw value, NULL when absent. */
const char *mail_header(const struct mail *m, const char *name);

/*
 * How many bytes of raw to parse under a size cap: all of it when len <= max,
 * else only the header block (a mail over the cap is answered, not read).
 * 0 when an oversized mail has no end of headers.
 */
size_t mail_parse_limit(const char *raw, size_t len, size_t max);

/*
 * 1 when raw has more than 1,000 Content-Type lines: libetpan's MIME parser
 * recurses once per nesting level without a limit (100,000 nested parts
 * overflow the stack), so such a mail is read by its headers only.
 */
int mail_mime_too_complex(const char *raw, size_t len);

/* Hex SHA-256 of raw bytes into out (65 bytes). */
void mail_hash(const char *raw, size_t len, char out[65]);

struct mailmime;
/*
 * The body of a single MIME part with its transfer encoding (base64,
 * quoted-printable) undone, malloc'd and NUL-terminated, *len its length; the
 * raw bytes when it cannot be decoded; NULL for a part without a text body or
 * when memory runs out.  Every reader of part bodies goes through this one
 * (it works around a libetpan over-read, see mail.c).
 */
char *mail_part_body(const struct mailmime *mime, size_t *len);

#endif
