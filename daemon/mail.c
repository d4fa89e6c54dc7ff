/*
 * mail: raw RFC 5322 bytes to struct mail.
 *
 * Two passes over the input.  A light pass splits the header block into
 * name/value pairs (unfolded, undecoded) so that mail_header() can answer for
 * any field, even one libetpan does not know or cannot parse.  The typed
 * fields (addresses, ids, date, subject) are then parsed one by one with
 * libetpan's field parsers, so one malformed header never hides the others.
 * The body comes from libetpan's MIME parser, given the Content-* fields and
 * the body when the header block lets it (mime_fields_only), else the whole
 * message: we pick a text part, undo the transfer encoding with
 * mailmime_part_parse and convert the charset with iconv.  Every string
 * handed out is valid UTF-8.
 */
#include "buf.h"
#include "mail.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <libetpan/libetpan.h>

#ifdef MENTORD_HAVE_GUMBO
#include <gumbo.h>
#endif

/* Hostile input bounds: deeper or wider MIME trees are not searched further. */
#define MAIL_MAX_DEPTH 20
#define MAIL_MAX_PARTS 500
#define MAIL_MAX_HEADERS 1000
/* Content-Type lines beyond which the MIME tree is not parsed at all (see mail_mime_too_complex).
 */
#define MAIL_MAX_ENTITIES 1000
/* HTML larger than this is cut before conversion; a command is never that far in. */
#define MAIL_MAX_HTML (2u * 1024 * 1024)
/* Tags of HTML converted at most (see html_cut). */
#define MAIL_MAX_HTML_TAGS 5000

/* ---- growable byte buffer ---------------------------------------------- */

static char *
dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- UTF-8 ------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0 when invalid. */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t want;
    unsigned min;
    if ((s[0] & 0xe0) == 0xc0) {
        want = 2;
        min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        want = 3;
        min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        want = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (want > n)
        return 0;
    unsigned cp = s[0] & (0x7f >> want);
    for (size_t i = 1; i < want; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Overlong forms, surrogates and out-of-range code points are invalid. */
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return want;
}

static int
utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq_len(p + i, n - i);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

#define REPLACEMENT "\xef\xbf\xbd"

/*
 * Copy s as clean UTF-8: invalid bytes and NULs become U+FFFD (a NUL would
 * silently cut the C string short).  When lines is set, CRLF and lone CR become LF.
 */
/* Length of s's longest prefix of valid UTF-8 without a NUL (ASCII tested first, byte by byte). */
static size_t
utf8_clean_prefix(const unsigned char *p, size_t n)
{
    size_t i = 0, k;
    while (i < n) {
        if (p[i] - 1u < 0x7fu)
            i++;
        else if (p[i] != 0 && (k = utf8_seq_len(p + i, n - i)) != 0)
            i += k;
        else
            break;
    }
    return i;
}

/*
 * s clean already (the usual case): one copy, CRLF and lone CR made LF when
 * lines is set.  utf8_clean's run and buf_add per line were 3.7k
 * instructions of a bench join's parse, this 1.0k.
 */
static char *
utf8_copy_lines(const char *s, size_t n, int lines)
{
    char *out = malloc(n + 1), *o = out;
    if (out == NULL)
        return NULL;
    const char *cr, *end = s + n;
    while (lines && (cr = memchr(s, '\r', (size_t)(end - s))) != NULL) {
        memcpy(o, s, (size_t)(cr - s));
        o += cr - s;
        *o++ = '\n';
        s = cr + 1 + (cr + 1 < end && cr[1] == '\n');
    }
    memcpy(o, s, (size_t)(end - s));
    o[end - s] = '\0';
    return out;
}

static char *
utf8_clean(const char *s, size_t n, int lines)
{
    if (utf8_clean_prefix((const unsigned char *)s, n) == n)
        return utf8_copy_lines(s, n, lines);
    struct buf b = {0};
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* A run of clean bytes is copied at once (a buf_add per character was most of this). */
        size_t run = i;
        for (size_t k; run < n && !(lines && p[run] == '\r') && p[run] != 0 &&
                       (k = utf8_seq_len(p + run, n - run)) != 0;)
            run += k;
        if (run > i) {
            buf_add(&b, s + i, run - i);
            i = run;
            continue;
        }
        if (lines && p[i] == '\r') {
            buf_addc(&b, '\n');
            i += (i + 1 < n && p[i + 1] == '\n') ? 2 : 1;
            continue;
        }
        size_t k = p[i] == 0 ? 0 : utf8_seq_len(p + i, n - i);
        if (k == 0) {
            buf_add(&b, REPLACEMENT, 3);
            i++;
        } else {
            buf_add(&b, s + i, k);
            i += k;
        }
    }
    return buf_take(&b);
}

/* ---- charset conversion ------------------------------------------------ */

/* Names seen in real mail that glibc's iconv spells differently. */
static const char *
charset_alias(const char *cs)
{
    static const struct {
        const char *name, *iconv;
    } aliases[] = {
        {"ks_c_5601-1987", "CP949"}, {"ks_c_5601", "CP949"},
        {"euc-kr", "CP949"},         {"gb2312", "GB18030"},
        {"gbk", "GB18030"},          {"x-gbk", "GB18030"},
        {"shift_jis", "CP932"},      {"x-sjis", "CP932"},
        {"sjis", "CP932"},           {"iso-2022-jp-ms", "ISO-2022-JP-3"},
        {"big5", "BIG5-HKSCS"},      {"unicode-1-1-utf-7", "UTF-7"},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(cs, aliases[i].name) == 0)
            return aliases[i].iconv;
    return cs;
}

/* Labels that say little: valid UTF-8 under them is taken as UTF-8. */
static int
charset_is_default(const char *cs)
{
    return cs == NULL || *cs == '\0' || strcasecmp(cs, "us-ascii") == 0 ||
           strcasecmp(cs, "ascii") == 0 || strcasecmp(cs, "iso-8859-1") == 0 ||
           strcasecmp(cs, "latin1") == 0 || strcasecmp(cs, "unknown-8bit") == 0;
}

static int
charset_is_utf8(const char *cs)
{
    return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0;
}

/*
 * iconv s from cs to UTF-8, going on past bad input (each bad byte becomes
 * U+FFFD).  Returns NULL when iconv does not know cs.
 */
static char *
iconv_to_utf8(const char *s, size_t n, const char *cs)
{
    iconv_t cd = iconv_open("UTF-8", charset_alias(cs));
    if (cd == (iconv_t)-1)
        cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        return NULL;
    struct buf b = {0};
    char *in = (char *)s;
    size_t inleft = n;
    char out[4096];
    while (inleft > 0 && !b.failed) {
        char *op = out;
        size_t oleft = sizeof out;
        size_t r = iconv(cd, &in, &inleft, &op, &oleft);
        buf_add(&b, out, (size_t)(op - out));
        if (r != (size_t)-1)
            continue;
        if (errno == E2BIG)
            continue;
        /*
         * EILSEQ or a truncated sequence (EINVAL): mark it and skip a byte.  The
         * shift state is kept, so ISO-2022 text goes on in the same character set.
         */
        buf_add(&b, REPLACEMENT, 3);
        in++;
        inleft--;
    }
    char *op = out;
    size_t oleft = sizeof out;
    if (iconv(cd, NULL, NULL, &op, &oleft) != (size_t)-1)
        buf_add(&b, out, (size_t)(op - out));
    iconv_close(cd);
    return buf_take(&b);
}

/*
 * libetpan decodes header words (mailmime_encoded_phrase_parse) with its
 * charconv(), which opened and closed an iconv descriptor for every word,
 * plain ones too: about a twentieth of a join's reading, most of it glibc's
 * iconv_open.  charconv calls its hook, extended_charconv, first; the hook
 * below does the very conversion charconv's own iconv path does (each byte
 * iconv refuses becomes '?'; a truncated or too long input ends it), with a
 * descriptor kept open per charset, reset before each use, and plain ASCII
 * in an ASCII-compatible charset copied as it is.  It takes only charsets
 * whose decoders keep no state between calls (single-byte ones and UTF-8):
 * for any other it answers "unknown charset", and charconv then does what
 * it always did.  Not thread-safe, like the stemmers: the reader, or a
 * program's one thread, parses mail.
 */
#define MAIL_CONV_SLOTS 16

static struct mail_conv {
    char from[32];
    iconv_t cd;
} mail_convs[MAIL_CONV_SLOTS];
static size_t mail_n_convs;

/* 1 when iconv's decoder for cs keeps no state between calls and reads ASCII as ASCII. */
static int
mail_conv_stateless(const char *cs)
{
    static const char *const prefixes[] = {"iso-8859-", "iso8859-", "windows-125", "cp125",
                                           "koi8-"};
    static const char *const names[] = {"utf-8", "utf8", "us-ascii", "ascii", "latin1"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(cs, names[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncasecmp(cs, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* The kept descriptor from cs to UTF-8, opened on first use; (iconv_t)-1 when none. */
static iconv_t
mail_conv_get(const char *cs)
{
    for (size_t i = 0; i < mail_n_convs; i++)
        if (strcmp(mail_convs[i].from, cs) == 0)
            return mail_convs[i].cd;
    if (mail_n_convs == MAIL_CONV_SLOTS || strlen(cs) >= sizeof mail_convs[0].from)
        return (iconv_t)-1;
    iconv_t cd = iconv_open("utf-8", cs);
    if (cd == (iconv_t)-1)
        return cd;
    /* Kept for the process's life, like the reader's warmed converters. */
    snprintf(mail_convs[mail_n_convs].from, sizeof mail_convs[0].from, "%s", cs);
    mail_convs[mail_n_convs++].cd = cd;
    return cd;
}

static int
mail_charconv(const char *tocode, const char *fromcode, const char *str, size_t length,
              char *result, size_t *result_len)
{
    if (strcmp(tocode, "utf-8") != 0 || !mail_conv_stateless(fromcode))
        return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
    size_t i = 0;
    while (i < length && (unsigned char)str[i] < 0x80)
        i++;
    if (i == length && length <= *result_len) {
        memcpy(result, str, length);
        *result_len = length;
        return MAIL_CHARCONV_NO_ERROR;
    }
    iconv_t cd = mail_conv_get(fromcode);
    if (cd == (iconv_t)-1)
        return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
    (void)iconv(cd, NULL, NULL, NULL, NULL); /* the initial state, as a new descriptor's */
    char *ib = (char *)str, *ob = result;
    size_t ibl = length, obl = *result_len;
    for (;;) {
        (void)iconv(cd, &ib, &ibl, &ob, &obl);
        if (ibl == 0 || obl == 0 || errno != EILSEQ)
            break;
        *ob++ = '?'; /* charconv's replacement for a byte iconv refuses */
        obl--;
        ib++;
        ibl--;
    }
    *result_len = (size_t)(ob - result);
    return MAIL_CHARCONV_NO_ERROR;
}

/*
 * Bytes in charset cs (may be NULL) to clean UTF-8.  Undeclared, ASCII and
 * Latin-1 labels are often wrong in practice: valid UTF-8 stays as it is,
 * anything else is read as windows-1252, the usual real-world superset.
 * Unknown charset names get the same treatment.
 */
static char *
to_utf8(const char *s, size_t n, const char *cs, int lines)
{
    char *conv = NULL;
    if (cs != NULL && charset_is_utf8(cs)) {
        /* Declared UTF-8 with a few bad bytes: mark them, do not reinterpret the rest. */
        return utf8_clean(s, n, lines);
    } else if (charset_is_default(cs)) {
        if (!utf8_valid(s, n))
            conv = iconv_to_utf8(s, n, "WINDOWS-1252");
    } else {
        conv = iconv_to_utf8(s, n, cs);
    }
    if (conv == NULL)
        return utf8_clean(s, n, lines);
    char *clean = utf8_clean(conv, strlen(conv), lines);
    free(conv);
    return clean;
}

/* ---- header block ------------------------------------------------------ */

/* Offset of the first byte after the header block's terminating empty line. */
static size_t
header_block_end(const char *raw, size_t len, size_t *hdr_len)
{
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(raw + i, '\n', len - i);
        size_t eol = nl ? (size_t)(nl - raw) : len;
        size_t line_len = eol - i;
        if (line_len > 0 && raw[eol - 1] == '\r')
            line_len--;
        if (line_len == 0) {
            *hdr_len = i;
            return nl ? eol + 1 : len;
        }
        i = nl ? eol + 1 : len;
    }
    *hdr_len = len;
    return len;
}

/* The array grows by doubling (*cap: its room), not by one realloc a field. */
static int
header_add(struct mail *m, size_t *cap, const char *name, size_t nlen, const char *val,
           size_t vlen)
{
    if (m->n_headers >= MAIL_MAX_HEADERS)
        return 0;
    struct mail_header_field *h = m->headers;
    if (m->n_headers == *cap) {
        size_t want = *cap == 0 ? 16 : *cap * 2;
        if ((h = realloc(m->headers, want * sizeof *h)) == NULL)
            return -1;
        m->headers = h;
        *cap = want;
    }
    while (vlen > 0 && isspace((unsigned char)val[vlen - 1]))
        vlen--;
    h[m->n_headers].name = dup_n(name, nlen);
    h[m->n_headers].value = dup_n(val, vlen);
    if (h[m->n_headers].name == NULL || h[m->n_headers].value == NULL) {
        free(h[m->n_headers].name);
        free(h[m->n_headers].value);
        return -1;
    }
    m->n_headers++;
    return 0;
}

/*
 * Unfold one field starting at raw[*pos]: continuation lines (starting with
 * WSP) are joined, dropping only the line break (RFC 5322 2.2.3).
 */
static void
header_unfold(const char *raw, size_t end, size_t *pos, struct buf *val)
{
    size_t i = *pos;
    for (;;) {
        const char *nl = memchr(raw + i, '\n', end - i);
        size_t eol = nl ? (size_t)(nl - raw) : end;
        size_t stop = (eol > i && raw[eol - 1] == '\r') ? eol - 1 : eol;
        buf_add(val, raw + i, stop - i);
        i = nl ? eol + 1 : end;
        if (i >= end || (raw[i] != ' ' && raw[i] != '\t'))
            break;
    }
    *pos = i;
}

/*
 * The field at raw[*pos] as one line: a field of one line is read where it
 * is, a folded one unfolded into val (most fields are one line: a buffer a
 * field was 8 allocations of a bench join's parse).
 */
static const char *
header_field(const char *raw, size_t end, size_t *pos, struct buf *val, size_t *len)
{
    size_t i = *pos;
    const char *nl = memchr(raw + i, '\n', end - i);
    size_t eol = nl ? (size_t)(nl - raw) : end, next = nl ? eol + 1 : end;
    if (next < end && (raw[next] == ' ' || raw[next] == '\t')) {
        header_unfold(raw, end, pos, val);
        *len = val->len;
        return val->data;
    }
    *pos = next;
    *len = (eol > i && raw[eol - 1] == '\r') ? eol - 1 - i : eol - i;
    return raw + i;
}

/* Split the header block into m->headers.  Lines without a field name are skipped. */
static int
headers_split(struct mail *m, const char *raw, size_t hdr_len)
{
    size_t i = 0, cap = 0;
    while (i < hdr_len) {
        struct buf val = {0};
        size_t line_len = 0;
        const char *line = header_field(raw, hdr_len, &i, &val, &line_len);
        if (val.failed)
            return -1;
        const char *colon = line ? memchr(line, ':', line_len) : NULL;
        size_t nlen = colon ? (size_t)(colon - line) : 0;
        while (nlen > 0 && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
            nlen--;
        /* "From " mbox separators and junk lines have no valid field name. */
        int ok = nlen > 0 && memchr(line, ' ', nlen) == NULL;
        if (ok) {
            const char *v = colon + 1;
            size_t vlen = line_len - (size_t)(v - line);
            while (vlen > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                vlen--;
            }
            if (header_add(m, &cap, line, nlen, v, vlen) < 0) {
                free(val.data);
                return -1;
            }
        }
        free(val.data);
    }
    return 0;
}

const char *
mail_header(const struct mail *m, const char *name)
{
    if (m == NULL || name == NULL)
        return NULL;
    /* The first letter first: the readers ask for a dozen headers of every mail. */
    int first = tolower((unsigned char)name[0]);
    for (size_t i = 0; i < m->n_headers; i++)
        if (tolower((unsigned char)m->headers[i].name[0]) == first &&
            strcasecmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}

/* ---- typed header fields ---------------------------------------------- */

/*
 * A header text is one line: encoded words can smuggle in CR, LF or TAB
 * (seen in ISO-2022-JP subjects), which become spaces; ends are trimmed.
 */
static char *
one_line(char *s)
{
    if (s == NULL)
        return NULL;
    for (char *p = s; *p; p++)
        if (*p == '\r' || *p == '\n' || *p == '\t')
            *p = ' ';
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
    size_t lead = strspn(s, " ");
    memmove(s, s + lead, n - lead + 1);
    return s;
}

/*
 * 1 when libetpan's phrase decoding gives value back as it is: printable
 * ASCII, no "=?" (no encoded word), single spaces between words and none at
 * the ends (compared with libetpan on 5 million generated values).  A plain
 * Subject or name then skips its parse, word by word (about 3k instructions
 * each).
 */
static int
words_plain(const char *value)
{
    if (value[0] == ' ')
        return 0;
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p < ' ' || (unsigned char)*p > '~' ||
            (*p == ' ' && (p[1] == ' ' || p[1] == '\0')) || (*p == '=' && p[1] == '?'))
            return 0;
    return 1;
}

/* Decode RFC 2047 encoded words in a raw header value to clean UTF-8. */
static char *
decode_words(const char *value)
{
    size_t len = strlen(value);
    if (words_plain(value))
        return one_line(utf8_clean(value, len, 0));
    /* Undeclared 8-bit text: UTF-8 when it is valid, else Latin-1 (RFC 6532 vs legacy). */
    const char *fallback = utf8_valid(value, len) ? "utf-8" : "windows-1252";
    size_t idx = 0;
    char *decoded = NULL;
    if (mailmime_encoded_phrase_parse(fallback, value, len, &idx, "utf-8", &decoded) !=
            MAILIMF_NO_ERROR ||
        decoded == NULL)
        return one_line(to_utf8(value, len, NULL, 0));
    char *clean = utf8_clean(decoded, strlen(decoded), 0);
    free(decoded);
    return clean ? one_line(clean) : NULL;
}

/* First mailbox of a From:/Reply-To: value: mailbox-list first, then groups. */
static struct mailimf_mailbox *
first_mailbox(const char *value, struct mailimf_mailbox_list **mbl,
              struct mailimf_address_list **adl)
{
    size_t len = strlen(value), idx = 0;
    if (mailimf_mailbox_list_parse(value, len, &idx, mbl) == MAILIMF_NO_ERROR) {
        clistiter *it = clist_begin((*mbl)->mb_list);
        if (it != NULL)
            return clist_content(it);
    }
    idx = 0;
    if (mailimf_address_list_parse(value, len, &idx, adl) != MAILIMF_NO_ERROR)
        return NULL;
    for (clistiter *it = clist_begin((*adl)->ad_list); it; it = clist_next(it)) {
        struct mailimf_address *a = clist_content(it);
        if (a->ad_type == MAILIMF_ADDRESS_MAILBOX)
            return a->ad_data.ad_mailbox;
        struct mailimf_mailbox_list *g = a->ad_data.ad_group->grp_mb_list;
        if (g != NULL && clist_begin(g->mb_list) != NULL)
            return clist_content(clist_begin(g->mb_list));
    }
    return NULL;
}

/* Length of a plain "local@domain" at p (atext and dots, one '@' inside), up to '>'; 0 if none. */
static size_t
plain_addr_len(const char *p)
{
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~.";
    size_t n = 0;
    int at = 0;
    for (; p[n] != '>'; n++) {
        if (p[n] == '@')
            at++;
        else if (p[n] == '\0' || !(isalnum((unsigned char)p[n]) || strchr(atext, p[n]) != NULL))
            return 0;
    }
    return at == 1 && p[0] != '@' && p[n - 1] != '@' ? n : 0;
}

/*
 * The usual From:, "Words Of Letters <local@domain>" (letters and digits,
 * single spaces, blanks around) or "<local@domain>": its address and name as
 * libetpan's mailbox parse gives them (compared on the 1.4 million of 3
 * million generated values taken here), without that character-by-character
 * parse (about 12k instructions, 3% of a join's reading).  1 when the value
 * is anything else: libetpan reads it.  Else parse_mailbox's 0 or -1.
 */
static int
plain_mailbox(const char *value, char **addr, char **name)
{
    const char *p = value + strspn(value, " \t"), *nb = p;
    while (isalnum((unsigned char)*p) || (*p == ' ' && p > nb && isalnum((unsigned char)p[1])))
        p++;
    const char *ne = p;
    p += strspn(p, " ");
    size_t n = *p == '<' ? plain_addr_len(p + 1) : 0;
    if (n == 0 || p[1 + n + 1 + strspn(p + 1 + n + 1, " \t")] != '\0')
        return 1;
    if ((*addr = strndup(p + 1, n)) == NULL)
        return -1;
    if (name == NULL || ne == nb)
        return 0;
    char *display = strndup(nb, (size_t)(ne - nb));
    *name = display != NULL ? decode_words(display) : NULL;
    free(display);
    return *name != NULL ? 0 : -1;
}

/* Parse value's first mailbox into *addr and (when name is given) *name. */
static int
parse_mailbox(const char *value, char **addr, char **name)
{
    int plain = plain_mailbox(value, addr, name);
    if (plain != 1)
        return plain;
    struct mailimf_mailbox_list *mbl = NULL;
    struct mailimf_address_list *adl = NULL;
    struct mailimf_mailbox *mb = first_mailbox(value, &mbl, &adl);
    int rc = 0;
    if (mb != NULL && mb->mb_addr_spec != NULL) {
        *addr = utf8_clean(mb->mb_addr_spec, strlen(mb->mb_addr_spec), 0);
        if (*addr == NULL)
            rc = -1;
        if (name != NULL && mb->mb_display_name != NULL && *mb->mb_display_name != '\0') {
            *name = decode_words(mb->mb_display_name);
            if (*name == NULL)
                rc = -1;
        }
    }
    if (mbl != NULL)
        mailimf_mailbox_list_free(mbl);
    if (adl != NULL)
        mailimf_address_list_free(adl);
    return rc;
}

/* Text between the first '<' and the next '>', else the trimmed value. */
static char *
strip_angles(const char *value)
{
    const char *lt = strchr(value, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    if (lt != NULL && gt != NULL)
        return utf8_clean(lt + 1, (size_t)(gt - lt - 1), 0);
    while (isspace((unsigned char)*value))
        value++;
    size_t n = strlen(value);
    while (n > 0 && isspace((unsigned char)value[n - 1]))
        n--;
    return utf8_clean(value, n, 0);
}

/*
 * The usual value, one plain "<local@domain>" with only atext and dots
 * around one '@' (blanks around it allowed): the id between the brackets,
 * which is what libetpan's parse of it gives (compared on the 60,000 of 3
 * million generated values taken here), without its character-by-character
 * parse and its list (about 12k instructions, 3% of a join's reading).  NULL
 * when the value is anything else, or memory runs out: then libetpan reads it.
 */
static char *
one_plain_id(const char *value)
{
    const char *p = value + strspn(value, " \t");
    size_t n = *p == '<' ? plain_addr_len(p + 1) : 0;
    if (n == 0 || p[1 + n + 1 + strspn(p + 1 + n + 1, " \t")] != '\0')
        return NULL;
    return strndup(p + 1, n);
}

/* Message ids of value, space-separated and without angle brackets. */
static char *
parse_ids(const char *value, int first_only)
{
    size_t idx = 0;
    clist *ids = NULL;
    char *one = one_plain_id(value);
    if (one != NULL)
        return one;
    if (mailimf_msg_id_list_parse(value, strlen(value), &idx, &ids) != MAILIMF_NO_ERROR) {
        /* Not RFC 5322 ids (no '@', spaces, ...): keep what the sender wrote. */
        return strip_angles(value);
    }
    struct buf b = {0};
    for (clistiter *it = clist_begin(ids); it; it = clist_next(it)) {
        const char *id = clist_content(it);
        if (b.len > 0)
            buf_addc(&b, ' ');
        buf_add(&b, id, strlen(id));
        if (first_only)
            break;
    }
    for (clistiter *it = clist_begin(ids); it; it = clist_next(it))
        mailimf_msg_id_free(clist_content(it));
    clist_free(ids);
    char *raw = buf_take(&b);
    if (raw == NULL)
        return NULL;
    char *clean = utf8_clean(raw, strlen(raw), 0);
    free(raw);
    return clean;
}

/* Date header to UTC time_t; 0 when it does not parse. */
static time_t
parse_date(const char *value)
{
    size_t idx = 0;
    struct mailimf_date_time *dt = NULL;
    if (mailimf_date_time_parse(value, strlen(value), &idx, &dt) != MAILIMF_NO_ERROR)
        return 0;
    int year = dt->dt_year;
    if (year < 50)
        year += 2000; /* RFC 5322 4.3 obsolete two-digit years */
    else if (year < 1000)
        year += 1900;
    struct tm tm = {
        .tm_year = year - 1900,
        .tm_mon = dt->dt_month - 1,
        .tm_mday = dt->dt_day,
        .tm_hour = dt->dt_hour,
        .tm_min = dt->dt_min,
        .tm_sec = dt->dt_sec,
    };
    /* dt_zone is the zone as a decimal number: -0530 is -530. */
    int zone = dt->dt_zone;
    int sign = zone < 0 ? -1 : 1;
    long offset = sign * ((long)(abs(zone) / 100) * 3600 + (long)(abs(zone) % 100) * 60);
    int valid = dt->dt_month >= 1 && dt->dt_month <= 12 && dt->dt_day >= 1 && dt->dt_day <= 31;
    mailimf_date_time_free(dt);
    if (!valid)
        return 0;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return 0;
    return t - offset;
}

/* "type/subtype" of a parsed content type, lower case. */
static char *
content_type_name(const struct mailmime_content *ct)
{
    static const char *const discrete[] = {"", "text", "image", "audio", "video", "application"};
    const char *type = "application";
    if (ct == NULL || ct->ct_type == NULL)
        return strdup("text/plain");
    const struct mailmime_type *t = ct->ct_type;
    if (t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
        int dt = t->tp_data.tp_discrete_type->dt_type;
        if (dt == MAILMIME_DISCRETE_TYPE_EXTENSION)
            type = t->tp_data.tp_discrete_type->dt_extension;
        else if (dt > 0 && dt < (int)(sizeof discrete / sizeof discrete[0]))
            type = discrete[dt];
    } else if (t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE) {
        int c = t->tp_data.tp_composite_type->ct_type;
        if (c == MAILMIME_COMPOSITE_TYPE_MESSAGE)
            type = "message";
        else if (c == MAILMIME_COMPOSITE_TYPE_MULTIPART)
            type = "multipart";
        else if (t->tp_data.tp_composite_type->ct_token != NULL)
            type = t->tp_data.tp_composite_type->ct_token;
    }
    const char *sub = ct->ct_subtype ? ct->ct_subtype : "";
    size_t n = strlen(type) + strlen(sub) + 2;
    char *s = malloc(n);
    if (s == NULL)
        return NULL;
    snprintf(s, n, "%s/%s", type, sub);
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

static char *
parse_content_type(const char *value)
{
    if (value == NULL)
        return strdup("text/plain"); /* RFC 2045 5.2 default */
    size_t idx = 0;
    struct mailmime_content *ct = NULL;
    if (mailmime_content_parse(value, strlen(value), &idx, &ct) != MAILIMF_NO_ERROR)
        return strdup("text/plain");
    char *s = content_type_name(ct);
    mailmime_content_free(ct);
    return s;
}

static char *
parse_return_path(const char *value)
{
    return strip_angles(value);
}

/* Fill the typed header fields from m->headers.  -1 only when out of memory. */
static int
fields_fill(struct mail *m)
{
    const char *v;
    int rc = 0;
    if ((v = mail_header(m, "From")) != NULL)
        rc |= parse_mailbox(v, &m->from_addr, &m->from_name);
    if ((v = mail_header(m, "Reply-To")) != NULL)
        rc |= parse_mailbox(v, &m->reply_to, NULL);
    if ((v = mail_header(m, "Subject")) != NULL && (m->subject = decode_words(v)) == NULL)
        rc = -1;
    if ((v = mail_header(m, "Message-ID")) != NULL && (m->message_id = parse_ids(v, 1)) == NULL)
        rc = -1;
    if ((v = mail_header(m, "In-Reply-To")) != NULL && (m->in_reply_to = parse_ids(v, 1)) == NULL)
        rc = -1;
    if ((v = mail_header(m, "References")) != NULL && (m->references = parse_ids(v, 0)) == NULL)
        rc = -1;
    if ((v = mail_header(m, "Return-Path")) != NULL &&
        (m->return_path = parse_return_path(v)) == NULL)
        rc = -1;
    if ((v = mail_header(m, "Date")) != NULL)
        m->date = parse_date(v);
    if ((m->content_type = parse_content_type(mail_header(m, "Content-Type"))) == NULL)
        rc = -1;
    /* Empty ids are as good as absent: callers test for NULL. */
    if (m->message_id != NULL && *m->message_id == '\0') {
        free(m->message_id);
        m->message_id = NULL;
    }
    return rc ? -1 : 0;
}

/* ---- HTML to text ------------------------------------------------------ */

#ifdef MENTORD_HAVE_GUMBO
static int
html_is_block(GumboTag tag)
{
    switch (tag) {
    case GUMBO_TAG_P:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_HR:
        return 1;
    default:
        return 0;
    }
}

/* Append text with HTML whitespace rules: runs of whitespace become one space. */
static void
html_text(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            if (b->len > 0 && b->data[b->len - 1] != ' ' && b->data[b->len - 1] != '\n')
                buf_addc(b, ' ');
        } else {
            buf_addc(b, *s);
        }
    }
}

static void
html_walk(const GumboNode *node, struct buf *b, int depth)
{
    if (depth > 200)
        return; /* pathological nesting: the text this deep is not worth a stack */
    if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA) {
        html_text(b, node->v.text.text);
        return;
    }
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_DOCUMENT)
        return;
    const GumboVector *children;
    int block = 0;
    if (node->type == GUMBO_NODE_ELEMENT) {
        GumboTag tag = node->v.element.tag;
        if (tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_HEAD)
            return;
        block = html_is_block(tag);
        children = &node->v.element.children;
    } else {
        children = &node->v.document.children;
    }
    if (block && b->len > 0 && b->data[b->len - 1] != '\n')
        buf_addc(b, '\n');
    for (unsigned i = 0; i < children->length; i++)
        html_walk(children->data[i], b, depth + 1);
    if (block && b->len > 0 && b->data[b->len - 1] != '\n')
        buf_addc(b, '\n');
}

/* Visible text of an HTML document (UTF-8 in, UTF-8 out), parsed by gumbo. */
static char *
html_to_text(const char *html, size_t len)
{
    GumboOutput *out = gumbo_parse_with_options(&kGumboDefaultOptions, html, len);
    if (out == NULL)
        return NULL;
    struct buf b = {0};
    html_walk(out->document, &b, 0);
    gumbo_destroy_output(&kGumboDefaultOptions, out);
    return buf_take(&b);
}
#else
/*
 * Built without gumbo (the Makefile did not add -lgumbo): HTML-only mail
 * yields no text rather than markup that would be misread as a command.
 */
static char *
html_to_text(const char *html, size_t len)
{
    (void)html;
    (void)len;
    return strdup("");
}
#endif

/* ---- MIME body --------------------------------------------------------- */

static int
part_is_attachment(const struct mailmime *mime)
{
    if (mime->mm_mime_fields == NULL)
        return 0;
    for (clistiter *it = clist_begin(mime->mm_mime_fields->fld_list); it; it = clist_next(it)) {
        const struct mailmime_field *f = clist_content(it);
        if (f->fld_type == MAILMIME_FIELD_DISPOSITION && f->fld_data.fld_disposition != NULL &&
            f->fld_data.fld_disposition->dsp_type != NULL &&
            f->fld_data.fld_disposition->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
            return 1;
    }
    return 0;
}

static int
part_is_text(const struct mailmime *mime, const char *subtype)
{
    const struct mailmime_content *ct = mime->mm_content_type;
    if (ct == NULL)
        return strcmp(subtype, "plain") == 0; /* no Content-Type: text/plain */
    if (ct->ct_type == NULL || ct->ct_type->tp_type != MAILMIME_TYPE_DISCRETE_TYPE ||
        ct->ct_type->tp_data.tp_discrete_type->dt_type != MAILMIME_DISCRETE_TYPE_TEXT)
        return 0;
    return ct->ct_subtype != NULL && strcasecmp(ct->ct_subtype, subtype) == 0;
}

static int
is_uu_begin(const char *line)
{
    /* "begin 644 name": mode is three or four octal digits. */
    if (strncmp(line, "begin ", 6) != 0)
        return 0;
    size_t digits = strspn(line + 6, "01234567");
    return (digits == 3 || digits == 4) && line[6 + digits] == ' ';
}

/*
 * Old clients put attachments inline as uuencode blocks ("begin 644 x" ...
 * "end"), which libetpan leaves in the text.  They are cut out in place so
 * the text is what the person wrote; an unterminated block is left alone.
 */
static void
strip_uuencode(char *text)
{
    char *line = text;
    while (*line) {
        char *next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        if (!is_uu_begin(line)) {
            line = next;
            continue;
        }
        char *end = next;
        while (*end && !(strncmp(end, "end", 3) == 0 && (end[3] == '\n' || end[3] == '\0'))) {
            char *nl = strchr(end, '\n');
            end = nl ? nl + 1 : end + strlen(end);
        }
        if (*end == '\0')
            return;
        end += end[3] == '\n' ? 4 : 3;
        memmove(line, end, strlen(end) + 1);
    }
}

/*
 * libetpan 1.9.4's quoted-printable decoder reads one byte past the end when
 * the data ends in "=" and one more character (found by fuzz_mail): it counts
 * the "=" but restarts its copy after it.  Such a tail is not a valid escape
 * anyway, so the data is decoded without those two bytes, which are then
 * kept as they are.
 */
char *
mail_part_body(const struct mailmime *mime, size_t *len)
{
    const struct mailmime_data *d =
        mime->mm_type == MAILMIME_SINGLE ? mime->mm_data.mm_single : NULL;
    if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
        return NULL;
    const char *data = d->dt_data.dt_text.dt_data;
    size_t n = d->dt_data.dt_text.dt_length, body = n, tail = 0, idx = 0, dlen = 0;
    if (d->dt_encoding == MAILMIME_MECHANISM_QUOTED_PRINTABLE && n >= 2 && data[n - 2] == '=' &&
        data[n - 1] != '\n' && data[n - 1] != '\r') {
        body = n - 2;
        tail = 2;
    }
    char *decoded = NULL;
    if (d->dt_encoded && mailmime_part_parse(data, body, &idx, d->dt_encoding, &decoded, &dlen) ==
                             MAILIMF_NO_ERROR) {
        data = decoded;
    } else {
        decoded = NULL; /* not encoded, or undecodable: the bytes as they are */
        dlen = n;
        tail = 0;
    }
    char *copy = malloc(dlen + tail + 1);
    if (copy != NULL) {
        memcpy(copy, data, dlen);
        memcpy(copy + dlen, d->dt_data.dt_text.dt_data + body, tail);
        copy[dlen + tail] = '\0';
        *len = dlen + tail;
    }
    if (decoded != NULL)
        mmap_string_unref(decoded);
    return copy;
}

/*
 * The body of a single part as mail_part_body gives it, but read where it is
 * when its transfer encoding is none of base64 and quoted-printable (for
 * those mailmime_part_parse only copies the bytes): *copy is then NULL, else
 * what to free.  Two copies of every plain body fewer.
 */
static const char *
part_bytes(const struct mailmime *mime, size_t *len, char **copy)
{
    const struct mailmime_data *d =
        mime->mm_type == MAILMIME_SINGLE ? mime->mm_data.mm_single : NULL;
    *copy = NULL;
    if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
        return NULL;
    if (d->dt_encoding != MAILMIME_MECHANISM_BASE64 &&
        d->dt_encoding != MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
        *len = d->dt_data.dt_text.dt_length;
        return d->dt_data.dt_text.dt_data;
    }
    return *copy = mail_part_body(mime, len);
}

/* Decoded, UTF-8 text of a single part (transfer encoding and charset undone). */
static char *
part_text(const struct mailmime *mime)
{
    size_t len = 0;
    char *copy;
    const char *data = part_bytes(mime, &len, &copy);
    if (data == NULL)
        return strdup("");
    char *cs = mime->mm_content_type ? mailmime_content_charset_get(mime->mm_content_type) : NULL;
    char *text = to_utf8(data, len, cs, 1);
    free(copy);
    if (text != NULL)
        strip_uuencode(text);
    return text;
}

static int
text_is_blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

/*
 * Depth-first search for the first non-blank inline text/<subtype> part.
 * *budget counts parts visited so a hostile tree cannot make us walk forever.
 */
static char *
find_text(const struct mailmime *mime, const char *subtype, int depth, int *budget)
{
    if (mime == NULL || depth > MAIL_MAX_DEPTH || --*budget < 0)
        return NULL;
    if (mime->mm_type == MAILMIME_MESSAGE) {
        /* An attached message (e.g. a bounce's original) is not what the sender wrote. */
        if (depth > 0 && part_is_attachment(mime))
            return NULL;
        return find_text(mime->mm_data.mm_message.mm_msg_mime, subtype, depth + 1, budget);
    }
    if (mime->mm_type == MAILMIME_MULTIPLE) {
        for (clistiter *it = clist_begin(mime->mm_data.mm_multipart.mm_mp_list); it;
             it = clist_next(it)) {
            char *t = find_text(clist_content(it), subtype, depth + 1, budget);
            if (t != NULL)
                return t;
        }
        return NULL;
    }
    if (mime->mm_type != MAILMIME_SINGLE || !part_is_text(mime, subtype) ||
        part_is_attachment(mime))
        return NULL;
    char *t = part_text(mime);
    if (t != NULL && text_is_blank(t)) {
        free(t);
        return NULL;
    }
    return t;
}

/* Collapse the blank lines HTML conversion leaves, trim spaces at line ends. */
static char *
tidy_lines(const char *s)
{
    struct buf b = {0};
    int newlines = 0;
    while (*s == '\n' || *s == ' ')
        s++;
    for (; *s; s++) {
        if (*s == '\n') {
            while (b.len > 0 && b.data[b.len - 1] == ' ')
                b.data[--b.len] = '\0';
            if (++newlines <= 2)
                buf_addc(&b, '\n');
            continue;
        }
        if (*s == ' ' && newlines > 0)
            continue; /* leading space of a line */
        newlines = 0;
        buf_addc(&b, *s);
    }
    while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
        b.data[--b.len] = '\0';
    return buf_take(&b);
}

/*
 * How much of the HTML to convert.  gumbo's tree building is quadratic or worse
 * in the nesting depth: 20,000 nested <div> (100 KB) take 9 s, 5,000 nested
 * runs of <b><i><u><s><font> 13 s, and 2 MB of them hours.  A person's command
 * is never thousands of tags in, so the HTML is cut at MAIL_MAX_HTML bytes and
 * before its MAIL_MAX_HTML_TAGS-th tag (a fifth of a second at worst).
 */
static size_t
html_cut(const char *html, size_t len)
{
    size_t tags = 0;

    if (len > MAIL_MAX_HTML)
        len = MAIL_MAX_HTML;
    for (const char *p = html; (p = memchr(p, '<', len - (size_t)(p - html))) != NULL; p++)
        if (++tags > MAIL_MAX_HTML_TAGS)
            return (size_t)(p - html);
    return len;
}

static char *
html_body(const struct mailmime *root)
{
    int budget = MAIL_MAX_PARTS;
    char *html = find_text(root, "html", 0, &budget);
    if (html == NULL)
        return NULL;
    char *text = html_to_text(html, html_cut(html, strlen(html)));
    free(html);
    if (text == NULL)
        return NULL;
    char *tidy = tidy_lines(text);
    free(text);
    return tidy;
}

/* Append every part's content type to b, depth-first, within the usual caps. */
static void
collect_types(const struct mailmime *mime, struct buf *b, int depth, int *budget)
{
    if (mime == NULL || depth > MAIL_MAX_DEPTH || --*budget < 0)
        return;
    char *name = content_type_name(mime->mm_content_type);
    if (name != NULL) {
        if (b->len > 0)
            buf_addc(b, ' ');
        buf_add(b, name, strlen(name));
        free(name);
    }
    if (mime->mm_type == MAILMIME_MESSAGE) {
        collect_types(mime->mm_data.mm_message.mm_msg_mime, b, depth + 1, budget);
    } else if (mime->mm_type == MAILMIME_MULTIPLE) {
        for (clistiter *it = clist_begin(mime->mm_data.mm_multipart.mm_mp_list); it;
             it = clist_next(it))
            collect_types(clist_content(it), b, depth + 1, budget);
    }
}

/*
 * libetpan's MIME parser recurses once per nested multipart or message/rfc822
 * with no limit, in time quadratic in the depth: 100,000 nested message/rfc822
 * headers (a 4 MB mail) overflow the stack and kill the daemon on every pass.
 * Each nesting level needs a Content-Type line (a digest's default part type
 * at most doubles that), so more lines starting "Content-Type" than
 * MAIL_MAX_ENTITIES mean the tree is not parsed; such a mail is read by its
 * headers only.
 */
int
mail_mime_too_complex(const char *raw, size_t len)
{
    static const char key[] = "content-type";
    const size_t klen = sizeof(key) - 1;
    const char *p = raw, *end = raw + len;
    size_t n = 0;

    while (p < end) {
        /* The first letter first: strncasecmp on every line was 1.6k instructions a join. */
        if ((*p | 0x20) == 'c' && (size_t)(end - p) > klen && strncasecmp(p, key, klen) == 0) {
            const char *q = p + klen;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (q < end && *q == ':' && ++n > MAIL_MAX_ENTITIES)
                return 1;
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return 0;
}

/*
 * mailmime_parse reads a whole message: mailimf parses every header field
 * (From, To, Date, Message-ID ... each typed, which fields_fill has already
 * read), then mailmime_fields_parse keeps only the MIME ones (Content-* and
 * MIME-Version) and the body is parsed from where the fields end.  On the
 * bench's join mail that header parse and its free were 39k of the parse's
 * 97k instructions.  So the message mailmime_parse is given is the MIME
 * fields alone, copied as they are and in their order, then the empty line
 * and the body: the same MIME fields, the same body bytes, hence the same
 * tree below the root (which is all body_fill reads).
 *
 * That holds when mailimf would have read every field of the block, up to
 * its empty line, each to its end: each field is a name of ftext right
 * before its ':', every line ends in LF or CRLF (no other CR, no NUL), no
 * line ends in a backslash (a quoted-pair would take the line break into
 * the field), and only fields mailimf reads as unstructured text may be
 * folded, with more than blanks on each continuation line: a typed field
 * (From, To, Date ...) can end at a fold's line break ("a@b (c)" CRLF WSP
 * "d"), and mailimf then stops reading fields there.  Any other header
 * block, and a body over MAIL_MIME_COPY_MAX (the copy), is given to
 * mailmime_parse whole, as before.
 */
#define MAIL_MIME_COPY_MAX (64u * 1024)

/*
 * 1 when name (n bytes) is one mailimf parses typed (mailimf_envelope_field_parse, less Subject,
 * which it reads as unstructured text like any other field).
 */
static int
typed_field_name(const char *name, size_t n)
{
    static const char *const typed[] = {"date", "from", "sender", "reply-to", "to",
                                        "cc", "bcc", "message-id", "in-reply-to", "references"};
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++)
        if (strlen(typed[i]) == n && strncasecmp(name, typed[i], n) == 0)
            return 1;
    return 0;
}

/* 1 when name (n bytes) is one mailmime_field_parse may take: Content-* or MIME-Version. */
static int
mime_field_name(const char *name, size_t n)
{
    return (n > 8 && strncasecmp(name, "content-", 8) == 0) ||
           (n == 12 && strncasecmp(name, "mime-version", 12) == 0);
}

/* 1 when the line [p, eol] (eol: its LF) keeps to the rules above; *is_cont says whether it
 * continues a field, *name_len is its field name's length. */
static int
mime_line_plain(const char *p, const char *eol, int *is_cont, size_t *name_len)
{
    const char *end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
    if (end > p && end[-1] == '\\')
        return 0;
    if (memchr(p, '\r', (size_t)(end - p)) != NULL || memchr(p, '\0', (size_t)(end - p)) != NULL)
        return 0;
    *is_cont = *p == ' ' || *p == '\t';
    if (*is_cont)
        return p + strspn(p, " \t") < end;
    const char *q = p;
    while (q < end && (unsigned char)*q > ' ' && *q != ':')
        q++;
    *name_len = (size_t)(q - p);
    return q > p && q < end && *q == ':';
}

/*
 * raw's MIME fields, empty line and body into *out (malloc'd, *outlen
 * bytes) when the header block [0, hdr_len) keeps to the rules above and the
 * body starts at body_off: 1; 0 when it does not; -1 out of memory.
 */
static int
mime_fields_only(const char *raw, size_t len, size_t hdr_len, size_t body_off, char **out,
                 size_t *outlen)
{
    size_t sep = body_off - hdr_len;
    if (hdr_len == 0 || len - body_off > MAIL_MIME_COPY_MAX ||
        !(sep == 1 ? raw[hdr_len] == '\n'
                   : sep == 2 && raw[hdr_len] == '\r' && raw[hdr_len + 1] == '\n'))
        return 0;
    char *b = malloc(len + 1);
    if (b == NULL)
        return -1;
    size_t n = 0;
    int keep = 0, typed = 1;
    for (size_t i = 0; i < hdr_len;) {
        const char *eol = memchr(raw + i, '\n', hdr_len - i);
        int cont = 0;
        size_t name_len = 0;
        if (eol == NULL || !mime_line_plain(raw + i, eol, &cont, &name_len) || (cont && typed)) {
            free(b);
            return 0;
        }
        size_t line = (size_t)(eol - (raw + i)) + 1;
        if (!cont) {
            keep = mime_field_name(raw + i, name_len);
            typed = typed_field_name(raw + i, name_len);
        }
        if (keep) {
            memcpy(b + n, raw + i, line);
            n += line;
        }
        i += line;
    }
    memcpy(b + n, raw + hdr_len, len - hdr_len);
    *out = b;
    *outlen = n + len - hdr_len;
    return 1;
}

/* libetpan's MIME tree of raw (see mime_fields_only); *copy is what the tree points into, to be
 * freed after it (NULL when it points into raw).  -1 when it does not parse or memory runs out. */
static int
mime_tree(const char *raw, size_t len, size_t hdr_len, size_t body_off, struct mailmime **mime,
          char **copy)
{
    size_t idx = 0, n = 0;
    *copy = NULL;
    if (mail_mime_too_complex(raw, len))
        return -1;
    int only = mime_fields_only(raw, len, hdr_len, body_off, copy, &n);
    if (only < 0)
        return -1;
    if (mailmime_parse(only ? *copy : raw, only ? n : len, &idx, mime) == MAILIMF_NO_ERROR)
        return 0;
    free(*copy);
    *copy = NULL;
    return -1;
}

/* m->text from the body: text/plain preferred, then HTML, else "". */
static int
body_fill(struct mail *m, const char *raw, size_t len, size_t hdr_len, size_t body_off)
{
    struct mailmime *mime = NULL;
    char *copy = NULL;
    if (mime_tree(raw, len, hdr_len, body_off, &mime, &copy) == 0) {
        int budget = MAIL_MAX_PARTS;
        m->text = find_text(mime, "plain", 0, &budget);
        if (m->text == NULL)
            m->text = html_body(mime);
        /* The root is the message itself; its own type is m->content_type. */
        struct buf types = {0};
        budget = MAIL_MAX_PARTS;
        if (mime->mm_type == MAILMIME_MESSAGE)
            collect_types(mime->mm_data.mm_message.mm_msg_mime, &types, 0, &budget);
        m->part_types = buf_take(&types);
        mailmime_free(mime);
        free(copy);
    }
    if (m->text == NULL)
        m->text = strdup("");
    if (m->part_types == NULL)
        m->part_types = strdup(m->content_type ? m->content_type : "");
    return m->text == NULL || m->part_types == NULL ? -1 : 0;
}

/* ---- public ------------------------------------------------------------ */

int
mail_parse(const char *raw, size_t len, struct mail **out, char *err, size_t errlen)
{
    *out = NULL;
    if (raw == NULL || len == 0) {
        snprintf(err, errlen, "empty message");
        return -1;
    }
    size_t hdr_len;
    size_t body_off = header_block_end(raw, len, &hdr_len);
    struct mail *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory allocating a mail of %zu bytes", len);
        return -1;
    }
    static unsigned long long serial;
    m->size = len;
    m->serial = ++serial;
    extended_charconv = mail_charconv;
    if (headers_split(m, raw, hdr_len) < 0 || fields_fill(m) < 0 || body_fill(m, raw, len, hdr_len, body_off) < 0) {
        snprintf(err, errlen, "out of memory parsing a mail of %zu bytes", len);
        mail_free(m);
        return -1;
    }
    if (m->n_headers == 0) {
        snprintf(err, errlen, "no header fields in %zu bytes: not a mail message", len);
        mail_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

void
mail_free(struct mail *m)
{
    if (m == NULL)
        return;
    free(m->message_id);
    free(m->in_reply_to);
    free(m->references);
    free(m->from_addr);
    free(m->from_name);
    free(m->reply_to);
    free(m->subject);
    free(m->return_path);
    free(m->content_type);
    free(m->text);
    free(m->part_types);
    for (size_t i = 0; i < m->n_headers; i++) {
        free(m->headers[i].name);
        free(m->headers[i].value);
    }
    free(m->headers);
    free(m);
}

void
mail_hash(const char *raw, size_t len, char out[65])
{
    unsigned char digest[32];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, raw, len, digest) < 0) {
        /* Only fails without memory or a usable SHA-256: an impossible id, never a match. */
        memset(out, '0', 64);
        out[64] = '\0';
        return;
    }
    buf_hex(out, digest, sizeof(digest));
}

size_t
mail_parse_limit(const char *raw, size_t len, size_t max)
{
    if (len <= max)
        return len;
    const char *end = memmem(raw, len, "\r\n\r\n", 4);
    if (end != NULL)
        return (size_t)(end - raw) + 4;
    end = memmem(raw, len, "\n\n", 2);
    return end != NULL ? (size_t)(end - raw) + 2 : 0;
}
