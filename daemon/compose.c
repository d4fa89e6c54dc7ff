/*
 * compose: a complete RFC 5322 message from UTF-8 parts.
 *
 * libetpan can parse headers but has no encoder for RFC 2047 words or for
 * folding, so the header block is built here; the body's quoted-printable is
 * libetpan's own writer.  Every piece of text that reaches a header passes
 * through header_text(): control characters (CR and LF above all) become
 * spaces, so nothing a member wrote can ever start a header of its own.
 */
#include "buf.h"
#include "compose.h"
#include "secret.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <libetpan/libetpan.h>

#define LINE_MAX_LEN 78
/* Bytes of UTF-8 per encoded word: "=?UTF-8?B?" + 56 base64 chars + "?=" is 68
 * characters, so even the first word after "Subject: " stays within 78. */
#define WORD_BYTES 42
/* An ASCII word longer than this cannot be folded under 78; encode it instead. */
#define LONG_WORD 60
#define MAX_REFERENCES 10
#define MAX_ID_LEN 250

static int
is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not valid. */
static size_t
utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = (s[0] & 0xe0) == 0xc0   ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    if (n == 0 || (n == 2 && s[0] < 0xc2) || (n == 4 && s[0] > 0xf4))
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    }
    if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 4 && s[0] == 0xf0 && s[1] < 0x90) ||
        (n == 3 && s[0] == 0xed && s[1] >= 0xa0) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
        return 0; /* overlong, surrogate or beyond U+10FFFF */
    return n;
}

/*
 * Text fit for a header: control characters become spaces, runs of blanks
 * collapse to one (so folding always finds a place), the ends are trimmed and
 * invalid UTF-8 becomes U+FFFD so the declared charset is true.
 */
static char *
header_text(const char *in)
{
    const unsigned char *s = (const unsigned char *)(in != NULL ? in : "");
    size_t n_in = strlen((const char *)s);
    int space = 0;

    /*
     * Written straight into one allocation of the most it can take (an
     * invalid byte becomes three): an append a word, and the growth of the
     * buffer, cost more than the words (its three calls a mail: 2.9k
     * instructions, 1.6k so).
     */
    if (n_in > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(3 * n_in + 1), *p = out;
    if (out == NULL)
        return NULL;
    while (*s) {
        size_t n = utf8_len(s);
        if (n == 1 && (is_ctl(*s) || *s == ' ')) {
            space = 1;
            s++;
            continue;
        }
        if (space && p > out)
            *p++ = ' ';
        space = 0;
        if (n == 0) {
            memcpy(p, "\xef\xbf\xbd", 3);
            p += 3;
            s++;
            continue;
        }
        /*
         * The run of characters kept as they are, in one copy; printable
         * ASCII, most of any header, without a utf8_len each (a subject took
         * about 3.5k instructions).
         */
        const unsigned char *run = s;
        for (;;) {
            while (*s > ' ' && *s < 0x7f)
                s++;
            if (*s < 0x80 || (n = utf8_len(s)) == 0)
                break;
            s += n;
        }
        memcpy(p, run, (size_t)(s - run));
        p += s - run;
    }
    *p = '\0';
    return out;
}

/* Would this (sanitised) text be misread or unfoldable as a plain header? */
static int
needs_encoding(const char *s)
{
    if (strstr(s, "=?") != NULL)
        return 1; /* would be taken for an encoded word */
    size_t word = 0;
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80)
            return 1;
        word = *s == ' ' ? 0 : word + 1;
        if (word > LONG_WORD)
            return 1;
    }
    return 0;
}

/*
 * Base64 of one encoded word's bytes.  gnutls_base64_encode2 is used because
 * libetpan exports no base64 encoder for strings (only its MIME body writer,
 * which inserts line breaks); for 42 bytes gnutls emits one unbroken line.
 */
static int
add_encoded_word(struct buf *b, const char *s, size_t n)
{
    gnutls_datum_t in = {(unsigned char *)s, (unsigned int)n}, out = {NULL, 0};
    if (gnutls_base64_encode2(&in, &out) != 0)
        return -1;
    if (b->len > 0)
        buf_add(b, " ", 1);
    buf_str(b, "=?UTF-8?B?");
    buf_add(b, (const char *)out.data, out.size);
    buf_str(b, "?=");
    gnutls_free(out.data);
    return 0;
}

/* s as RFC 2047 B-encoded words of at most WORD_BYTES, never splitting a character. */
static char *
encode_words(const char *s)
{
    struct buf b = {0};
    size_t len = strlen(s), start = 0, pos = 0;
    while (pos < len) {
        size_t n = utf8_len((const unsigned char *)s + pos);
        if (n == 0)
            n = 1; /* header_text() has already replaced invalid bytes */
        if (pos + n - start > WORD_BYTES) {
            if (add_encoded_word(&b, s + start, pos - start) != 0)
                b.failed = 1;
            start = pos;
        }
        pos += n;
    }
    if (pos > start && add_encoded_word(&b, s + start, pos - start) != 0)
        b.failed = 1;
    return buf_take(&b);
}

char *
compose_encode_word(const char *utf8)
{
    char *text = header_text(utf8);
    if (text == NULL || !needs_encoding(text))
        return text;
    char *enc = encode_words(text);
    free(text);
    return enc;
}

static int
is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
local_part_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' ? s[i + 1] == '.' : !is_atext((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

static int
domain_ok(const char *s)
{
    size_t label = 0, n = strlen(s);
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   (c == '-' && label > 0)) {
            label++;
        } else {
            return 0;
        }
    }
    return 1;
}

int
compose_address_ok(const char *addr)
{
    if (addr == NULL || strlen(addr) > 254)
        return 0;
    const char *at = strrchr(addr, '@');
    return at != NULL && local_part_ok(addr, (size_t)(at - addr)) && domain_ok(at + 1);
}

/* A message id (without <>) that is safe to put between angle brackets. */
static int
msgid_ok(const char *id, size_t n)
{
    if (n == 0 || n > MAX_ID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (is_ctl(c) || c == ' ' || c == '<' || c == '>' || c >= 0x80)
            return 0;
    }
    return 1;
}

/* The copy of s printed in an error: never any control character. */
static void
printable(const char *s, char *out, size_t outlen)
{
    size_t i = 0;
    for (; s != NULL && s[i] && i + 1 < outlen; i++)
        out[i] = is_ctl((unsigned char)s[i]) ? '?' : s[i];
    out[i] = '\0';
}

/*
 * Append the line [s, end) CRLF, folding before a space whenever a line would
 * pass 78 characters (not within its first min_break, the header's name).  A
 * single token longer than that (a very long address or id) cannot be folded
 * and is left whole, as RFC 5322 allows.
 */
static void
add_folded(struct buf *b, const char *s, const char *end, size_t min_break)
{
    while ((size_t)(end - s) > LINE_MAX_LEN) {
        const char *brk = NULL;
        for (const char *p = s + LINE_MAX_LEN; p > s + min_break; p--) {
            if (*p == ' ' && p[-1] != ' ') {
                brk = p;
                break;
            }
        }
        if (brk == NULL) { /* no room: break at the first space further on */
            brk = s + min_break;
            while (brk < end && !(*brk == ' ' && brk[-1] != ' '))
                brk++;
            if (brk >= end)
                break;
        }
        buf_add(b, s, (size_t)(brk - s));
        buf_str(b, "\r\n");
        s = brk;
        min_break = 1; /* a continuation line starts with its folding space */
    }
    buf_add(b, s, (size_t)(end - s));
    buf_str(b, "\r\n");
}

/*
 * Append "Name: <pre><value><post>" CRLF, folded by add_folded.  The line is
 * put together on the stack and appended in one call when it needs no
 * folding (nearly every one): six appends a header cost more than the
 * header.  A longer one is put together in a buffer of its own and folded.
 */
static void
add_header_parts(struct buf *b, const char *name, const char *pre, const char *value,
                 const char *post)
{
    const char *part[5] = {name, ": ", pre, value, post};
    size_t len[5], n = 0;

    for (size_t i = 0; i < 5; i++)
        n += len[i] = strlen(part[i]);
    char small[LINE_MAX_LEN + 2];
    char *line = n <= LINE_MAX_LEN ? small : malloc(n + 2);
    if (line == NULL) {
        b->failed = 1;
        return;
    }
    for (size_t i = 0, at = 0; i < 5; at += len[i], i++)
        memcpy(line + at, part[i], len[i]);
    if (line == small) {
        memcpy(line + n, "\r\n", 2);
        buf_add(b, line, n + 2);
        return;
    }
    add_folded(b, line, line + n, len[0] + len[1]);
    free(line);
}

static void
add_header(struct buf *b, const char *name, const char *value)
{
    add_header_parts(b, name, "", value, "");
}

static int
has_specials(const char *s)
{
    return strpbrk(s, "()<>[]:;@\\,.\"") != NULL;
}

/* "display name <addr>", or just addr when there is no name. */
static char *
mailbox(const char *name, const char *addr)
{
    struct buf b = {0};
    char *text = header_text(name);
    if (text == NULL)
        return NULL;
    if (text[0] != '\0') {
        if (needs_encoding(text)) {
            char *enc = encode_words(text);
            if (enc == NULL)
                b.failed = 1;
            else
                buf_str(&b, enc);
            free(enc);
        } else if (has_specials(text)) {
            buf_add(&b, "\"", 1);
            for (const char *p = text; *p; p++) {
                if (*p == '"' || *p == '\\')
                    buf_add(&b, "\\", 1);
                buf_add(&b, p, 1);
            }
            buf_add(&b, "\"", 1);
        } else {
            buf_str(&b, text);
        }
        buf_str(&b, " <");
        buf_str(&b, addr);
        buf_str(&b, ">");
    } else {
        buf_str(&b, addr);
    }
    free(text);
    return buf_take(&b);
}

static void
add_mailbox_header(struct buf *b, const char *hname, const char *name, const char *addr)
{
    char *v = mailbox(name, addr);
    if (v == NULL) {
        b->failed = 1;
        return;
    }
    add_header(b, hname, v);
    free(v);
}

/* "Reply-To: A <a@x>, B <b@y>" (folded by add_header like any other). */
static void
add_reply_to(struct buf *b, const struct compose_msg *msg)
{
    struct buf v = {0};

    if (msg->n_reply_to == 0)
        return;
    for (size_t i = 0; i < msg->n_reply_to; i++) {
        char *one = mailbox(msg->reply_to[i].name, msg->reply_to[i].addr);
        if (one == NULL) {
            b->failed = 1;
            free(v.data);
            return;
        }
        if (i > 0)
            buf_str(&v, ", ");
        buf_str(&v, one);
        free(one);
    }
    if (v.failed)
        b->failed = 1;
    else
        add_header(b, "Reply-To", v.data);
    free(v.data);
}

/* sep, then v (0 <= v < 10^width) in width decimal digits, zero-padded; the end. */
static char *
put_digits(char *p, const char *sep, int v, int width)
{
    size_t n = strlen(sep);
    memcpy(p, sep, n);
    p += n;
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

/* RFC 5322 date in UTC; names spelled out so the locale cannot change them. */
static void
add_date(struct buf *b, time_t t)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    char v[64];
    if (gmtime_r(&t, &tm) == NULL) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    int year = tm.tm_year + 1900;
    if (year < 0 || year > 9999) {
        snprintf(v, sizeof(v), "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                 tm.tm_mday, months[tm.tm_mon], year, tm.tm_hour, tm.tm_min, tm.tm_sec);
    } else {
        /* The same text without a format string parsed for every mail. */
        char *p = v;
        memcpy(p, days[tm.tm_wday], 3);
        p = put_digits(p + 3, ", ", tm.tm_mday, 2);
        *p++ = ' ';
        memcpy(p, months[tm.tm_mon], 3);
        p = put_digits(p + 3, " ", year, 4);
        p = put_digits(p, " ", tm.tm_hour, 2);
        p = put_digits(p, ":", tm.tm_min, 2);
        p = put_digits(p, ":", tm.tm_sec, 2);
        memcpy(p, " +0000", 7);
    }
    add_header(b, "Date", v);
}

/* From secret.c's pool: a getrandom(2) a message was one system call a mail. */
static int
random_bytes(unsigned char *p, size_t n)
{
    return secret_random(p, n);
}

/* "<128 random bits in hex>.<time>@domain" (malloc'd), NULL with err set. */
static char *
new_message_id(const struct compose_msg *msg, char *err, size_t errlen)
{
    unsigned char rnd[16];
    if (random_bytes(rnd, sizeof(rnd)) != 0) {
        snprintf(err, errlen, "getrandom for a Message-ID: %s", strerror(errno));
        return NULL;
    }
    /* Joined without a format (buf_join): asprintf's parsing was about 1.7k instructions a mail. */
    char hex[2 * sizeof(rnd) + 1], when[24], *w = when + sizeof(when);
    unsigned long long t =
        msg->date < 0 ? 0 - (unsigned long long)msg->date : (unsigned long long)msg->date;
    *--w = '\0';
    do
        *--w = (char)('0' + t % 10);
    while ((t /= 10) != 0);
    if (msg->date < 0)
        *--w = '-';
    buf_hex(hex, rnd, sizeof(rnd));
    char *id = buf_join(hex, ".", w, "@", msg->msgid_domain, (char *)NULL);
    if (id == NULL)
        snprintf(err, errlen, "out of memory for a Message-ID");
    return id;
}

struct id_list {
    const char *ids[MAX_REFERENCES];
    size_t lens[MAX_REFERENCES];
    size_t n;
};

/* Append an id, dropping the oldest when full: the newest ids matter most for threading. */
static void
id_push(struct id_list *l, const char *id, size_t len)
{
    if (!msgid_ok(id, len))
        return; /* a malformed id from someone else's mail is left out, not copied */
    if (l->n > 0 && l->lens[l->n - 1] == len && memcmp(l->ids[l->n - 1], id, len) == 0)
        return;
    if (l->n == MAX_REFERENCES) {
        memmove(l->ids, l->ids + 1, sizeof(l->ids[0]) * (l->n - 1));
        memmove(l->lens, l->lens + 1, sizeof(l->lens[0]) * (l->n - 1));
        l->n--;
    }
    l->ids[l->n] = id;
    l->lens[l->n++] = len;
}

/* The answered mail's References plus its Message-ID, the last MAX_REFERENCES kept. */
static char *
references(const struct compose_msg *msg)
{
    struct id_list l = {.n = 0};
    const char *sep = " \t<>,";
    for (const char *s = msg->references; s != NULL && *s;) {
        s += strspn(s, sep);
        size_t len = strcspn(s, sep);
        if (len > 0)
            id_push(&l, s, len);
        s += len;
    }
    if (msg->in_reply_to != NULL)
        id_push(&l, msg->in_reply_to, strlen(msg->in_reply_to));
    if (l.n == 0)
        return NULL;
    struct buf b = {0};
    for (size_t i = 0; i < l.n; i++) {
        buf_str(&b, i > 0 ? " <" : "<");
        buf_add(&b, l.ids[i], l.lens[i]);
        buf_str(&b, ">");
    }
    return buf_take(&b);
}

static void
add_threading(struct buf *b, const struct compose_msg *msg)
{
    if (msg->in_reply_to != NULL && msgid_ok(msg->in_reply_to, strlen(msg->in_reply_to))) {
        buf_str(b, "In-Reply-To: <");
        buf_str(b, msg->in_reply_to);
        buf_str(b, ">\r\n");
    }
    char *refs = references(msg);
    if (refs != NULL)
        add_header(b, "References", refs);
    free(refs);
}

/* A configured header value (List-Id, List-Unsubscribe) must be a single clean token list. */
static int
config_value_ok(const char *s, int allow_space)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (is_ctl(c) || c >= 0x80 || (!allow_space && (c == ' ' || c == '<' || c == '>')))
            return 0;
    }
    return 1;
}

static int
check_inputs(const struct compose_msg *msg, char *err, size_t errlen)
{
    char shown[128];
    if (!compose_address_ok(msg->to_addr)) {
        printable(msg->to_addr, shown, sizeof(shown));
        snprintf(err, errlen, "recipient address '%s' is not a plausible address", shown);
        return -1;
    }
    for (size_t i = 0; i < msg->n_reply_to; i++)
        if (msg->reply_to[i].addr == NULL || !compose_address_ok(msg->reply_to[i].addr)) {
            printable(msg->reply_to[i].addr, shown, sizeof(shown));
            snprintf(err, errlen, "Reply-To address '%s' is not a plausible address", shown);
            return -1;
        }
    if (!compose_address_ok(msg->from_addr)) {
        printable(msg->from_addr, shown, sizeof(shown));
        snprintf(err, errlen, "sender address '%s' is not a plausible address", shown);
        return -1;
    }
    if (msg->msgid_domain == NULL || !domain_ok(msg->msgid_domain)) {
        printable(msg->msgid_domain, shown, sizeof(shown));
        snprintf(err, errlen, "Message-ID domain '%s' is not a domain name", shown);
        return -1;
    }
    const char *as = msg->auto_submitted;
    if (as != NULL && (as[0] == '\0' || strspn(as, "abcdefghijklmnopqrstuvwxyz-") != strlen(as))) {
        printable(as, shown, sizeof(shown));
        snprintf(err, errlen, "Auto-Submitted value '%s' is not a keyword", shown);
        return -1;
    }
    if ((msg->list_id != NULL && !config_value_ok(msg->list_id, 1)) ||
        (msg->list_unsubscribe != NULL && !config_value_ok(msg->list_unsubscribe, 0))) {
        snprintf(err, errlen, "List-Id or List-Unsubscribe holds control or non-ASCII characters");
        return -1;
    }
    const char *cl = msg->content_language;
    if (cl != NULL &&
        (cl[0] == '\0' || strspn(cl, "abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(cl))) {
        printable(cl, shown, sizeof(shown));
        snprintf(err, errlen, "Content-Language value '%s' is not a language tag", shown);
        return -1;
    }
    return 0;
}

/* ---- body ---- */

/*
 * Text with every line ending (\n, \r\n or a lone \r) as CRLF, ending with
 * one, and no blanks at the end of a line: they are invisible, and libetpan's
 * quoted-printable writer turns a trailing blank into a second one.  *len
 * gets its length and *longest that of its longest line (CRLF not counted),
 * when asked for.
 *
 * Written straight into one allocation of the most it can take (each byte
 * at most two, and a CRLF at the end): an append a line and one a line end
 * cost about 3.5k instructions for a confirmation's body, 1.6k so.
 */
static char *
normalise_crlf(const char *in, size_t *len, size_t *longest)
{
    const char *s = in != NULL ? in : "";
    size_t n_in = strlen(s), most = 0;

    if (n_in > (SIZE_MAX - 3) / 2)
        return NULL;
    char *out = malloc(2 * n_in + 3), *p = out;
    if (out == NULL)
        return NULL;
    while (*s) {
        size_t n = strcspn(s, "\r\n"), keep = n;
        while (keep > 0 && (s[keep - 1] == ' ' || s[keep - 1] == '\t'))
            keep--;
        memcpy(p, s, keep);
        p += keep;
        *p++ = '\r';
        *p++ = '\n';
        if (keep > most)
            most = keep;
        s += n;
        if (*s == '\0')
            break;
        s += (s[0] == '\r' && s[1] == '\n') ? 2 : 1;
    }
    *p = '\0';
    if (len != NULL)
        *len = (size_t)(p - out);
    if (longest != NULL)
        *longest = most;
    return out;
}

static int
is_7bit_bytes(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || (is_ctl(c) && c != '\t' && c != '\r' && c != '\n'))
            return 0;
    }
    return 1;
}

/* v in each of a word's eight bytes. */
#define EACH_BYTE(v) (UINT64_C(0x0101010101010101) * (v))

/*
 * Whether the n bytes at s are 7bit text: ASCII, no control character but
 * tab, CR and LF.  Eight bytes a step (a byte a step cost about 4.6k
 * instructions for a confirmation's body): a word of ASCII with a byte below
 * 0x20 or a DEL (exact tests, with no high bit set: each byte's borrow) is
 * looked at byte by byte, as the CR LF of each line makes about one in nine.
 */
static int
is_7bit_text(const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w, del;
        memcpy(&w, s + i, sizeof(w));
        if ((w & EACH_BYTE(0x80)) != 0)
            return 0;
        del = w ^ EACH_BYTE(0x7f); /* a zero byte where w holds a DEL */
        uint64_t odd = (((w - EACH_BYTE(0x20)) & ~w) | ((del - EACH_BYTE(0x01)) & ~del));
        if ((odd & EACH_BYTE(0x80)) != 0 && !is_7bit_bytes(s + i, 8))
            return 0;
    }
    return is_7bit_bytes(s + i, n - i);
}

/*
 * Whether a line may break at the space s[sp]: not inside a date ("Mon 14
 * Dec 2026 08:00": no line starts with a number, nor follows a day of the
 * month or a short day or month name), not before an address in angle
 * brackets (it stays with its name), and not between two capitalised words
 * (a name: "Ana Lopez").
 */
static int
break_ok(const char *s, size_t sp)
{
    size_t w = sp;
    while (w > 0 && s[w - 1] != ' ')
        w--;
    const char *prev = s + w, *next = s + sp + 1;
    size_t plen = sp - w;
    int upper_prev = *prev >= 'A' && *prev <= 'Z', upper_next = *next >= 'A' && *next <= 'Z';

    if ((*next >= '0' && *next <= '9') || *next == '<')
        return 0;
    if (plen >= 1 && plen <= 2 && *prev >= '0' && *prev <= '9')
        return 0;
    if (plen == 3 && upper_prev && prev[1] >= 'a' && prev[1] <= 'z' && prev[2] >= 'a' &&
        prev[2] <= 'z')
        return 0;
    return !(upper_prev && upper_next && plen > 1 && prev[plen - 1] != '.' &&
             prev[plen - 1] != ',' && prev[plen - 1] != ':');
}

/*
 * Wrap the CRLF text's lines longer than 78 at spaces, where break_ok allows
 * (else at any space).  Returns NULL when a word is too long to wrap (the
 * body then goes quoted-printable) or on OOM.
 */
static char *
wrap_7bit(const char *s, int *too_long)
{
    struct buf b = {0};
    *too_long = 0;
    while (*s) {
        size_t n = (size_t)(strstr(s, "\r\n") - s);
        while (n > LINE_MAX_LEN) {
            size_t sp = LINE_MAX_LEN;
            while (sp > 0 && (s[sp] != ' ' || !break_ok(s, sp)))
                sp--;
            if (sp == 0) /* nowhere good: any space */
                for (sp = LINE_MAX_LEN; sp > 0 && s[sp] != ' ';)
                    sp--;
            if (sp == 0) {
                *too_long = 1;
                free(b.data);
                return NULL;
            }
            buf_add(&b, s, sp);
            buf_str(&b, "\r\n");
            s += sp + 1;
            n -= sp + 1;
        }
        buf_add(&b, s, n + 2);
        s += n + 2;
    }
    return buf_take(&b);
}

static char *
quoted_printable(const char *text)
{
    MMAPString *out = mmap_string_new("");
    if (out == NULL)
        return NULL;
    int col = 0;
    char *res = NULL;
    if (mailmime_quoted_printable_write_mem(out, &col, 1, text, strlen(text)) == MAILIMF_NO_ERROR)
        res = strdup(out->str);
    mmap_string_free(out);
    return res;
}

/* The encoded body, and the Content-Transfer-Encoding it needs. */
static char *
encode_body(const char *in, const char **cte)
{
    size_t len = 0, longest = 0;
    char *text = normalise_crlf(in, &len, &longest);
    if (text == NULL)
        return NULL;
    if (is_7bit_text(text, len)) {
        int too_long = 0;
        /* No line to wrap: wrap_7bit would copy the text as it is (a confirmation's case). */
        if (longest <= LINE_MAX_LEN) {
            *cte = "7bit";
            return text;
        }
        char *wrapped = wrap_7bit(text, &too_long);
        if (wrapped != NULL || !too_long) {
            free(text);
            *cte = "7bit";
            return wrapped;
        }
    }
    char *qp = quoted_printable(text);
    free(text);
    *cte = "quoted-printable";
    return qp;
}

/* ---- the message ---- */

static void
add_optional(struct buf *b, const char *name, const char *pre, const char *value, const char *post)
{
    if (value == NULL || value[0] == '\0')
        return;
    add_header_parts(b, name, pre, value, post);
}

/* cte is the single part's encoding, or NULL with boundary set for multipart/alternative. */
static char *
build_headers(const struct compose_msg *msg, const char *msgid, const char *cte,
              const char *boundary)
{
    struct buf b = {0};
    buf_reserve(&b, 1024); /* the usual header block: one allocation, not four */
    add_date(&b, msg->date);
    add_mailbox_header(&b, "From", msg->from_name, msg->from_addr);
    add_mailbox_header(&b, "To", msg->to_name, msg->to_addr);
    add_reply_to(&b, msg);
    char *subject = compose_encode_word(msg->subject);
    if (subject == NULL)
        b.failed = 1;
    else
        add_header(&b, "Subject", subject);
    free(subject);
    buf_str(&b, "Message-ID: <");
    buf_str(&b, msgid);
    buf_str(&b, ">\r\n");
    add_threading(&b, msg);
    buf_str(&b, "MIME-Version: 1.0\r\n");
    if (boundary != NULL) {
        buf_str(&b, "Content-Type: multipart/alternative;\r\n boundary=\"");
        buf_str(&b, boundary);
        buf_str(&b, "\"\r\n");
    } else {
        buf_str(&b, "Content-Type: text/plain; charset=UTF-8\r\n");
        add_optional(&b, "Content-Transfer-Encoding", "", cte, "");
    }
    add_optional(&b, "Content-Language", "", msg->content_language, "");
    add_optional(&b, "Auto-Submitted", "",
                 msg->auto_submitted != NULL ? msg->auto_submitted : "auto-generated", "");
    add_optional(&b, "List-Id", "", msg->list_id, "");
    add_optional(&b, "List-Unsubscribe", "<", msg->list_unsubscribe, ">");
    /* Our address in X-Loop lets us, and other robots, see a mail loop for what it is. */
    add_optional(&b, "X-Loop", "", msg->from_addr, "");
    return buf_take(&b);
}

/* ---- multipart/alternative: the text and an HTML rendering of the same content ---- */

/* A boundary no encoded part can contain: QP and 7bit lines never hold "=_" runs like it. */
static int
new_boundary(char *out, size_t len)
{
    unsigned char rnd[12];
    if (random_bytes(rnd, sizeof(rnd)) != 0)
        return -1;
    size_t n = (size_t)snprintf(out, len, "=_mentord_");
    for (size_t i = 0; i < sizeof(rnd) && n + 3 <= len; i++)
        n += (size_t)snprintf(out + n, len - n, "%02x", rnd[i]);
    return 0;
}

static void
add_part(struct buf *b, const char *boundary, const char *type, const char *cte, const char *data)
{
    buf_str(b, "--");
    buf_str(b, boundary);
    buf_str(b, "\r\nContent-Type: ");
    buf_str(b, type);
    buf_str(b, "; charset=UTF-8\r\nContent-Transfer-Encoding: ");
    buf_str(b, cte);
    buf_str(b, "\r\n\r\n");
    buf_str(b, data);
    if (b->len < 2 || strcmp(b->data + b->len - 2, "\r\n") != 0)
        buf_str(b, "\r\n");
}

/*
 * The body of a multipart/alternative message: text first (clients show the
 * last part they understand, so HTML readers get HTML and mutt gets text).
 * HTML always goes quoted-printable: its lines are long and wrapping at
 * spaces could fall inside a <pre> block.
 */
static char *
alternative_body(const char *text, const char *text_cte, const char *html, const char *boundary)
{
    char *crlf = normalise_crlf(html, NULL, NULL);
    char *qp = crlf != NULL ? quoted_printable(crlf) : NULL;
    free(crlf);
    if (qp == NULL)
        return NULL;
    struct buf b = {0};
    buf_str(&b, "This is a multi-part message in MIME format.\r\n\r\n");
    add_part(&b, boundary, "text/plain", text_cte, text);
    add_part(&b, boundary, "text/html", "quoted-printable", qp);
    buf_str(&b, "--");
    buf_str(&b, boundary);
    buf_str(&b, "--\r\n");
    free(qp);
    return buf_take(&b);
}

int
compose_message(const struct compose_msg *msg, char **headers, char **body, char **message_id,
                char *err, size_t errlen)
{
    *headers = *body = *message_id = NULL;
    if (check_inputs(msg, err, errlen) != 0)
        return -1;
    char *msgid = new_message_id(msg, err, errlen);
    if (msgid == NULL)
        return -1;
    const char *cte = "7bit";
    char *text = encode_body(msg->body, &cte);
    char boundary[48];
    int alt = msg->html != NULL && text != NULL;
    if (alt && new_boundary(boundary, sizeof(boundary)) != 0) {
        snprintf(err, errlen, "getrandom for a MIME boundary: %s", strerror(errno));
        free(msgid);
        free(text);
        return -1;
    }
    if (alt) {
        char *multi = alternative_body(text, cte, msg->html, boundary);
        free(text);
        text = multi;
    }
    char *hdrs = text != NULL ? build_headers(msg, msgid, cte, alt ? boundary : NULL) : NULL;
    if (text == NULL || hdrs == NULL) {
        snprintf(err, errlen, "out of memory composing the message to %s", msg->to_addr);
        free(msgid);
        free(text);
        free(hdrs);
        return -1;
    }
    *headers = hdrs;
    *body = text;
    *message_id = msgid;
    return 0;
}
