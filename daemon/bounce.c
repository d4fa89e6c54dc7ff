/*
 * bounce: what a delivery failure report says.
 *
 * Three readers, from the most to the least reliable:
 *
 *  1. RFC 3464 DSN: the message/delivery-status part is a series of header
 *     blocks (per-message, then one per recipient).  Each recipient record
 *     gives the address, the Action and the Status, so nothing is guessed.
 *  2. ARF (RFC 5965) feedback reports: a complaint, named by
 *     Original-Rcpt-To or the returned message's To.
 *  3. Everything else (qmail, Exim, Exchange, Postfix without DSN, Lotus,
 *     GroupWise, ...): the notification text is scanned line by line, up to
 *     the copy of the returned message.  An address counts when its line
 *     says something failed (a failure phrase, an SMTP or enhanced status
 *     code) or when it follows a line that introduces the failed addresses
 *     ("The following address(es) failed:").  X-Failed-Recipients (Exim)
 *     is taken as it stands.
 *
 * Severity: 5.x.x is permanent, 4.x.x temporary, 5.7.x a policy refusal
 * (spam, reputation, authentication: it says nothing about the address, so
 * it is not scored against the member) unless the diagnostic says the
 * mailbox does not exist, which some servers report as 5.7.1.  A delay
 * warning ("Action: delayed", "will keep trying") is BOUNCE_DELAYED: the
 * server is still trying and the mail may arrive, so it is not a bounce yet
 * and is never scored; the final report, if one comes, is.  A mailing-list
 * manager's refusal of our post (fml's "not member") is a policy bounce.
 */
#include "bounce.h"
#include "mail.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#define BOUNCE_MAX_DEPTH 16    /* nesting we follow; deeper parts are ignored */
#define BOUNCE_MAX_PARTS 512   /* parts we look at, so a hostile tree is cheap */
#define BOUNCE_MAX_RCPTS 64    /* recipients we keep from one report */
#define BOUNCE_MAX_LINES 400   /* notification lines scanned in a non-standard bounce */
#define BOUNCE_ARMED_LINES 12  /* lines after "the following addresses failed" */
#define BOUNCE_DIAG_MAX 300    /* bytes kept of a diagnostic line */
#define BOUNCE_ADDR_MAX 254    /* RFC 5321 path limit */
#define BOUNCE_MAX_TEXT 262144 /* bytes of notification text scanned */

const char *
bounce_severity_name(enum bounce_severity s)
{
    switch (s) {
    case BOUNCE_NONE:
        return "none";
    case BOUNCE_TEMPORARY:
        return "temporary";
    case BOUNCE_PERMANENT:
        return "permanent";
    case BOUNCE_POLICY:
        return "policy";
    case BOUNCE_COMPLAINT:
        return "complaint";
    case BOUNCE_DELAYED:
        return "delayed";
    }
    return "unknown";
}

void
bounce_free(struct bounce_info *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n_recipients; i++)
        free(b->recipients[i]);
    free(b->recipients);
    free(b->diagnostic);
    free(b->orig_message_id);
    memset(b, 0, sizeof *b);
}

/* ---- small string helpers ---------------------------------------------- */

static int
contains_ci(const char *hay, const char *needle)
{
    return hay != NULL && strcasestr(hay, needle) != NULL;
}

static int
contains_any(const char *hay, const char *const *needles, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (contains_ci(hay, needles[i]))
            return 1;
    return 0;
}

#define CONTAINS_ANY(hay, list) contains_any((hay), (list), sizeof(list) / sizeof((list)[0]))

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t want = s[0] < 0x80             ? 1
                  : (s[0] & 0xe0) == 0xc0 ? 2
                  : (s[0] & 0xf0) == 0xe0 ? 3
                  : (s[0] & 0xf8) == 0xf0 ? 4
                                          : 0;
    if (want == 0 || want > n || (want == 2 && s[0] < 0xc2))
        return 0;
    for (size_t i = 1; i < want; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return want;
}

/*
 * One line of at most BOUNCE_DIAG_MAX bytes: whitespace runs collapsed,
 * control characters dropped, invalid UTF-8 replaced by '?' (DSN fields
 * should be ASCII, but servers put whatever they like in them).
 */
static char *
one_line(const char *s, size_t n)
{
    char *out = malloc(BOUNCE_DIAG_MAX + 1);
    size_t o = 0;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n && s[i] != '\0' && o < BOUNCE_DIAG_MAX;) {
        unsigned char c = (unsigned char)s[i];
        if (isspace(c) || c < 0x20 || c == 0x7f) {
            if (o > 0 && out[o - 1] != ' ')
                out[o++] = ' ';
            i++;
            continue;
        }
        size_t k = utf8_len((const unsigned char *)s + i, n - i);
        if (k == 0) {
            out[o++] = '?';
            i++;
        } else if (o + k <= BOUNCE_DIAG_MAX) {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        } else {
            break;
        }
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return out;
}

/* ---- status and reply codes -------------------------------------------- */

/*
 * An enhanced status code (RFC 3463 class.subject.detail) starting at s,
 * with a boundary on both sides so "Exim 4.92" or an IP address is not one.
 * Returns its length, 0 when s does not start one.
 */
static size_t
status_at(const char *start, const char *s, const char *classes)
{
    if (strchr(classes, *s) == NULL || *s == '\0' || s[1] != '.')
        return 0;
    if (s > start && (isalnum((unsigned char)s[-1]) || s[-1] == '.'))
        return 0;
    const char *p = s + 2;
    size_t d1 = strspn(p, "0123456789");
    if (d1 < 1 || d1 > 3 || p[d1] != '.')
        return 0;
    p += d1 + 1;
    size_t d2 = strspn(p, "0123456789");
    if (d2 < 1 || d2 > 3)
        return 0;
    p += d2;
    if (isalnum((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1])))
        return 0;
    return (size_t)(p - s);
}

/* First enhanced status code of a class in classes ("245") in s, copied to out. */
static int
find_status(const char *s, const char *classes, char out[16])
{
    if (s == NULL)
        return 0;
    for (const char *p = s; *p; p++) {
        size_t n = status_at(s, p, classes);
        if (n > 0 && n < 16) {
            memcpy(out, p, n);
            out[n] = '\0';
            return 1;
        }
    }
    return 0;
}

/* SMTP reply code (4xx/5xx) starting a token in s: "550 ", "550-", "(550)". */
static int
find_reply_code(const char *s)
{
    if (s == NULL)
        return 0;
    for (const char *p = s; *p; p++) {
        /* Replies in use are 4[0-5]x and 5[0-5]x; "(480) 624-2500" is a telephone. */
        if ((*p != '4' && *p != '5') || p[1] < '0' || p[1] > '5' || !isdigit((unsigned char)p[2]))
            continue;
        if (p > s && !strchr(" \t(\"':;#[=", p[-1]))
            continue;
        if (p[3] == '-' && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5]))
            continue; /* "550-5.1.1" continues a reply; "450-624-..." is a number */
        if (p[3] == ' ' || p[3] == '-' || p[3] == '\0' || p[3] == ',')
            return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    }
    return 0;
}

/* The diagnostic says the address itself is bad, whatever its status code. */
static int
says_no_such_user(const char *diag)
{
    static const char *const pats[] = {
        "user unknown",      "unknown user",      "no such user",      "does not exist",
        "doesn't exist",     "no mailbox",        "mailbox not found", "not a known user",
        "recipientnotfound", "invalid recipient", "no such recipient", "mailbox unavailable",
        "address rejected",  "unknown recipient", "not found",
    };
    return CONTAINS_ANY(diag, pats);
}

/* Refused for who sent it, not for where it went. */
static int
says_policy(const char *diag)
{
    static const char *const pats[] = {
        "spam",
        "blocked",
        "blacklist",
        "blocklist",
        "block list",
        "black list",
        "policy",
        "reputation",
        "dmarc",
        "spf ",
        "dkim",
        "rbl",
        "spamhaus",
        "whitelist",
        "requires confirmation",
        "junk mail",
        "not authorized to send",
        "poor reputation",
    };
    return CONTAINS_ANY(diag, pats);
}

/* Severity of a failure with this status (may be "") and diagnostic. */
static enum bounce_severity
severity_of(const char *status, const char *diag)
{
    /* x.7.x is "security or policy status" (RFC 3463), temporary or not: e.g. a
     * challenge-response system's 4.7.0 "sender not pre-approved". */
    if ((status[0] == '4' || status[0] == '5') && strncmp(status + 1, ".7.", 3) == 0)
        return says_no_such_user(diag) ? BOUNCE_PERMANENT : BOUNCE_POLICY;
    if (status[0] == '4')
        return BOUNCE_TEMPORARY;
    if (says_policy(diag) && !says_no_such_user(diag))
        return BOUNCE_POLICY;
    return BOUNCE_PERMANENT;
}

/* ---- recipients ----------------------------------------------------------- */

static int
has_recipient(const struct bounce_info *b, const char *addr)
{
    for (size_t i = 0; i < b->n_recipients; i++)
        if (strcmp(b->recipients[i], addr) == 0)
            return 1;
    return 0;
}

/* Add addr (n bytes), lower-cased, unless present.  -1 only when out of memory. */
static int
add_recipient(struct bounce_info *b, const char *addr, size_t n)
{
    char buf[BOUNCE_ADDR_MAX + 1];
    if (n == 0 || n > BOUNCE_ADDR_MAX || b->n_recipients >= BOUNCE_MAX_RCPTS)
        return 0;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)tolower((unsigned char)addr[i]);
    buf[n] = '\0';
    if (has_recipient(b, buf))
        return 0;
    char **list = realloc(b->recipients, (b->n_recipients + 1) * sizeof *list);
    if (list == NULL)
        return -1;
    b->recipients = list;
    if ((list[b->n_recipients] = strdup(buf)) == NULL)
        return -1;
    b->n_recipients++;
    return 0;
}

/* ---- RFC 3464 delivery-status fields -------------------------------------- */

struct dsn_record {
    char final[BOUNCE_ADDR_MAX + 1];
    char original[BOUNCE_ADDR_MAX + 1];
    char action[16];
    int action_inferred; /* no Action field: taken from the status class */
    char status[16];
    char diag[BOUNCE_DIAG_MAX + 1];
};

/* "rfc822; <User@Example.COM>" -> "User@Example.COM" into out. */
static void
address_value(const char *v, size_t n, char *out, size_t outlen)
{
    const char *semi = memchr(v, ';', n);
    if (semi != NULL) {
        n -= (size_t)(semi + 1 - v);
        v = semi + 1;
    }
    while (n > 0 && (isspace((unsigned char)*v) || *v == '<' || *v == '"')) {
        v++;
        n--;
    }
    while (n > 0 && (isspace((unsigned char)v[n - 1]) || v[n - 1] == '>' || v[n - 1] == '"'))
        n--;
    size_t sp = 0;
    while (sp < n && !isspace((unsigned char)v[sp]) && v[sp] != '>')
        sp++;
    if (sp >= outlen)
        sp = 0; /* too long to be an address */
    memcpy(out, v, sp);
    out[sp] = '\0';
}

static void
copy_trimmed(const char *v, size_t n, char *out, size_t outlen)
{
    while (n > 0 && isspace((unsigned char)*v)) {
        v++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)v[n - 1]))
        n--;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

/* Store one unfolded "Name: value" field in the record. */
static void
dsn_field(struct dsn_record *r, const char *name, size_t nlen, const char *v, size_t vlen)
{
#define IS(s) (nlen == sizeof(s) - 1 && strncasecmp(name, s, nlen) == 0)
    if (IS("Final-Recipient")) {
        address_value(v, vlen, r->final, sizeof r->final);
    } else if (IS("Original-Recipient")) {
        address_value(v, vlen, r->original, sizeof r->original);
    } else if (IS("Action")) {
        copy_trimmed(v, vlen, r->action, sizeof r->action);
    } else if (IS("Status")) {
        char tmp[64];
        copy_trimmed(v, vlen, tmp, sizeof tmp);
        if (!find_status(tmp, "245", r->status))
            r->status[0] = '\0';
        if (r->status[0] == '\0' && r->diag[0] == '\0' && find_reply_code(tmp))
            snprintf(r->diag, sizeof r->diag, "%s", tmp); /* "Status: 553 Exceeded ..." */
    } else if (IS("Diagnostic-Code")) {
        const char *semi = memchr(v, ';', vlen);
        if (semi != NULL && (size_t)(semi - v) < 16) { /* "smtp; 550 ..." */
            vlen -= (size_t)(semi + 1 - v);
            v = semi + 1;
        }
        char *line = one_line(v, vlen);
        if (line != NULL) {
            snprintf(r->diag, sizeof r->diag, "%s", line);
            free(line);
        }
    }
#undef IS
}

/* A status that only gives the class (5.0.0) yields to the diagnostic's more precise one. */
static void
dsn_refine_status(struct dsn_record *r)
{
    char better[16], cls[2] = {r->status[0], '\0'};
    int vague = r->status[0] == '\0' || strcmp(r->status + 1, ".0.0") == 0;
    if (vague && find_status(r->diag, cls[0] ? cls : "45", better) &&
        strcmp(better + 1, ".0.0") != 0)
        snprintf(r->status, sizeof r->status, "%s", better);
    /* Without an Action, the status class (or the SMTP code) says what happened. */
    int code = find_reply_code(r->diag);
    char c = r->status[0] ? r->status[0] : code ? (char)('0' + code / 100) : '\0';
    if (r->action[0] == '\0' && c != '\0') {
        snprintf(r->action, sizeof r->action, "%s",
                 c == '5'   ? "failed"
                 : c == '4' ? "delayed"
                            : "delivered");
        r->action_inferred = 1;
    }
}

/*
 * Action values seen in the wild besides RFC 3464's "failed": "failure",
 * "expired" (gave up after retrying), "undeliverable".
 */
static int
action_failed(const char *action)
{
    return strncasecmp(action, "fail", 4) == 0 || strncasecmp(action, "expired", 7) == 0 ||
           strncasecmp(action, "undeliver", 9) == 0;
}

struct dsn_result {
    struct bounce_info *out;
    int failed, delayed, other; /* records seen, by action */
    int oom;
};

/*
 * Take the record into the result.  Failures beat delays: a report that
 * gives up on one address and is still trying another is a failure report.
 */
static void
dsn_take(struct dsn_result *res, struct dsn_record *r)
{
    if (r->final[0] == '\0' && r->original[0] == '\0')
        return;
    dsn_refine_status(r);
    int failed = action_failed(r->action);
    int delayed = !failed && strncasecmp(r->action, "delay", 5) == 0;
    if (!failed && !delayed) {
        /* A success notice's status is kept until a failure or delay replaces it. */
        if (res->failed + res->delayed == 0 && res->out->status[0] == '\0')
            snprintf(res->out->status, sizeof res->out->status, "%s", r->status);
        res->other++;
        return;
    }
    struct bounce_info *b = res->out;
    if (res->failed == 0 && (failed || res->delayed == 0)) {
        /* The first failure replaces what delays said, the first delay what successes said. */
        for (size_t i = 0; i < b->n_recipients; i++)
            free(b->recipients[i]);
        b->n_recipients = 0;
        b->status[0] = '\0';
        b->severity = BOUNCE_NONE;
        free(b->diagnostic);
        b->diagnostic = NULL;
    }
    if (delayed && res->failed > 0)
        return;
    res->failed += failed;
    res->delayed += delayed;
    /* Original-Recipient is the address we wrote to; Final-Recipient may be a forward. */
    const char *addr = r->original[0] && strchr(r->original, '@') ? r->original : r->final;
    if (add_recipient(b, addr, strlen(addr)) < 0)
        res->oom = 1;
    /* "Action: delayed" is a warning whatever its status (greylisting says 4.7.x): the server
     * is still trying, and the mail may yet arrive.  Only the final report is a bounce.  A
     * 4.x.x record without an Action may be either; its status decides, as for text. */
    enum bounce_severity sev =
        delayed && !r->action_inferred ? BOUNCE_DELAYED : severity_of(r->status, r->diag);
    if (b->status[0] == '\0' && r->status[0] != '\0') {
        snprintf(b->status, sizeof b->status, "%s", r->status);
        b->severity = sev;
    } else if (b->severity == BOUNCE_NONE) {
        b->severity = sev;
    }
    if (b->diagnostic == NULL && r->diag[0] != '\0' && (b->diagnostic = strdup(r->diag)) == NULL)
        res->oom = 1;
    if (b->reply_code == 0)
        b->reply_code = find_reply_code(r->diag);
}

/* End of the line starting at p (at most end). */
static const char *
line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

/* Length of the line at p without its CR; *next is where the following line starts. */
static size_t
line_at(const char *p, const char *end, const char **next)
{
    const char *e = line_end(p, end);
    *next = e < end ? e + 1 : end;
    size_t n = (size_t)(e - p);
    while (n > 0 && p[n - 1] == '\r')
        n--;
    return n;
}

static int
is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return 0;
    return 1;
}

static void
append(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
    /* Full: the rest of an overlong field is dropped (a full buffer must not grow past cap). */
    if (*len + 2 > cap)
        return;
    if (*len + n + 2 > cap)
        n = cap - *len - 2;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[(*len)++] = ' ';
    buf[*len] = '\0';
}

/* A second Final-Recipient (or an Original-Recipient after one) in a block begins a record. */
static int
starts_record(const struct dsn_record *r, const char *name, size_t nlen)
{
    if (nlen == 15 && strncasecmp(name, "Final-Recipient", 15) == 0)
        return r->final[0] != '\0';
    if (nlen == 18 && strncasecmp(name, "Original-Recipient", 18) == 0)
        return r->original[0] != '\0';
    return 0;
}

/*
 * Read the delivery-status body: header blocks, one field per (unfolded)
 * line.  Blank lines end a record; so does a second Final-Recipient in the
 * same block, because some servers leave out the blank lines.
 */
static int
dsn_parse(const char *text, size_t len, struct dsn_result *res)
{
    struct dsn_record rec = {0};
    const char *p = text, *end = text + len, *next;
    while (p < end) {
        size_t n = line_at(p, end, &next);
        const char *colon = memchr(p, ':', n);
        if (is_blank(p, n)) {
            dsn_take(res, &rec);
            memset(&rec, 0, sizeof rec);
        }
        if (is_blank(p, n) || colon == NULL || isspace((unsigned char)*p)) {
            p = next;
            continue;
        }
        const char *name = p;
        size_t nlen = (size_t)(colon - p);
        while (nlen > 0 && isspace((unsigned char)name[nlen - 1]))
            nlen--;
        char value[1024];
        size_t vlen = 0;
        append(value, sizeof value, &vlen, colon + 1, n - (size_t)(colon + 1 - p));
        for (p = next; p < end; p = next) {
            n = line_at(p, end, &next);
            if (n == 0 || (*p != ' ' && *p != '\t') || is_blank(p, n))
                break;
            append(value, sizeof value, &vlen, p, n);
        }
        if (starts_record(&rec, name, nlen)) {
            dsn_take(res, &rec);
            memset(&rec, 0, sizeof rec);
        }
        dsn_field(&rec, name, nlen, value, vlen);
    }
    dsn_take(res, &rec);
    return res->oom ? -1 : 0;
}

/* Value of the first "name:" field in a header-like text, trimmed, into out. */
static int
field_value(const char *text, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, name, nlen) != 0 || p[nlen] != ':')
            continue;
        const char *v = p + nlen + 1;
        size_t vn = strcspn(v, "\r\n");
        copy_trimmed(v, vn, out, outlen);
        return out[0] != '\0';
    }
    return 0;
}

/* ---- MIME walk ----------------------------------------------------------- */

struct found {
    const struct mailmime *dsn;      /* message/delivery-status */
    const struct mailmime *arf;      /* message/feedback-report */
    const struct mailmime *headers;  /* text/rfc822-headers: the returned message's header */
    const struct mailmime *original; /* message/rfc822: the returned message */
    int budget;
};

static int
type_is(const struct mailmime *mime, int composite, int discrete, const char *subtype)
{
    const struct mailmime_content *ct = mime->mm_content_type;
    if (ct == NULL || ct->ct_type == NULL || ct->ct_subtype == NULL ||
        strcasecmp(ct->ct_subtype, subtype) != 0)
        return 0;
    const struct mailmime_type *t = ct->ct_type;
    if (t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE)
        return t->tp_data.tp_composite_type->ct_type == composite;
    return t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
           t->tp_data.tp_discrete_type->dt_type == discrete;
}

#define IS_MESSAGE(mime, sub) type_is((mime), MAILMIME_COMPOSITE_TYPE_MESSAGE, -1, (sub))
#define IS_TEXT(mime, sub) type_is((mime), -1, MAILMIME_DISCRETE_TYPE_TEXT, (sub))

static void
walk(const struct mailmime *mime, struct found *f, int depth)
{
    if (mime == NULL || depth > BOUNCE_MAX_DEPTH || --f->budget < 0)
        return;
    if (mime->mm_type == MAILMIME_MESSAGE) {
        /* After the report part, an attached message is the returned original. */
        if (depth > 0 && (f->dsn != NULL || f->arf != NULL)) {
            if (f->original == NULL)
                f->original = mime;
            return;
        }
        walk(mime->mm_data.mm_message.mm_msg_mime, f, depth + 1);
    } else if (mime->mm_type == MAILMIME_MULTIPLE) {
        for (clistiter *it = clist_begin(mime->mm_data.mm_multipart.mm_mp_list); it;
             it = clist_next(it))
            walk(clist_content(it), f, depth + 1);
    } else if (IS_MESSAGE(mime, "delivery-status") || IS_MESSAGE(mime, "global-delivery-status")) {
        if (f->dsn == NULL)
            f->dsn = mime;
    } else if (IS_MESSAGE(mime, "feedback-report")) {
        if (f->arf == NULL)
            f->arf = mime;
    } else if (IS_TEXT(mime, "rfc822-headers") || IS_MESSAGE(mime, "rfc822-headers") ||
               IS_MESSAGE(mime, "global-headers")) {
        if (f->headers == NULL)
            f->headers = mime;
    }
}

/* ---- the returned message ------------------------------------------------ */

static char *
fields_message_id(const struct mailimf_fields *fields)
{
    if (fields == NULL)
        return NULL;
    for (clistiter *it = clist_begin(fields->fld_list); it; it = clist_next(it)) {
        const struct mailimf_field *f = clist_content(it);
        if (f->fld_type == MAILIMF_FIELD_MESSAGE_ID && f->fld_data.fld_message_id != NULL &&
            f->fld_data.fld_message_id->mid_value != NULL)
            return strdup(f->fld_data.fld_message_id->mid_value);
    }
    return NULL;
}

/* First To: address of the returned message (whom an ARF complaint is about). */
static int
fields_first_to(const struct mailimf_fields *fields, struct bounce_info *out)
{
    if (fields == NULL)
        return 0;
    for (clistiter *it = clist_begin(fields->fld_list); it; it = clist_next(it)) {
        const struct mailimf_field *f = clist_content(it);
        if (f->fld_type != MAILIMF_FIELD_TO || f->fld_data.fld_to == NULL ||
            f->fld_data.fld_to->to_addr_list == NULL)
            continue;
        clistiter *a = clist_begin(f->fld_data.fld_to->to_addr_list->ad_list);
        const struct mailimf_address *addr = a ? clist_content(a) : NULL;
        if (addr != NULL && addr->ad_type == MAILIMF_ADDRESS_MAILBOX &&
            addr->ad_data.ad_mailbox->mb_addr_spec != NULL) {
            const char *spec = addr->ad_data.ad_mailbox->mb_addr_spec;
            return add_recipient(out, spec, strlen(spec));
        }
    }
    return 0;
}

/* "Message-ID: <x@y>" as a line of a text (qmail and other inline copies). */
static char *
text_message_id(const char *text)
{
    char v[512];
    if (text == NULL || !field_value(text, "Message-ID", v, sizeof v))
        return NULL;
    char *lt = strchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    if (lt == NULL || gt == NULL || gt == lt + 1)
        return NULL;
    return strndup(lt + 1, (size_t)(gt - lt - 1));
}

/*
 * The returned message's header from a text/rfc822-headers part, parsed by
 * mailimf into *parsed (NULL when there is none or it does not parse); the
 * caller frees it.
 */
static void
returned_headers(const struct found *f, struct mailimf_fields **parsed)
{
    size_t len = 0, idx = 0;
    *parsed = NULL;
    char *body = f->headers != NULL ? mail_part_body(f->headers, &len) : NULL;
    if (body == NULL)
        return;
    if (mailimf_fields_parse(body, len, &idx, parsed) != MAILIMF_NO_ERROR)
        *parsed = NULL;
    free(body);
}

static const struct mailimf_fields *
original_fields(const struct found *f, const struct mailimf_fields *parsed)
{
    if (parsed != NULL)
        return parsed;
    if (f->original != NULL)
        return f->original->mm_data.mm_message.mm_fields;
    return NULL;
}

/* ---- non-standard bounces: the notification text --------------------------- */

/* A line that says a delivery failed or an address is bad. */
static const char *const failure_phrases[] = {
    "could not be delivered",
    "couldn't be delivered",
    "not be delivered",
    "was not delivered",
    "wasn't able to deliver",
    "not able to deliver",
    "unable to deliver",
    "undeliverable",
    "delivery failed",
    "delivery has failed",
    "failed",
    "failure",
    "permanent error",
    "fatal error",
    "user unknown",
    "unknown user",
    "no such user",
    "does not exist",
    "doesn't exist",
    "not exist",
    "mailbox unavailable",
    "mailbox not found",
    "invalid recipient",
    "invalid address",
    "recipient rejected",
    "address rejected",
    "not found",
    "not known",
    "unknown",
    "rejected",
    "could not be reached",
    "quota",
    "mailbox full",
    "mailbox is full",
    "disabled",
    "deactivated",
    "inactive",
    "not a valid",
    "no mailbox",
    "host unknown",
    "not deliverable",
    "unrouteable",
    "delayed",
    "not yet been delivered",
    "not been delivered",
    "no longer",
    "refused",
    "denied",
    "error",
    "bad address",
    "did not reach",
    "non remis",
    "unzustellbar",
    "nicht zugestellt",
    "no es posible entregar",
    "nie istnieje",
    "expired",
    "too many",
    "blocked",
    "not accepting",
    "not allowed",
    "closed",
    "unavailable",
    "rcpt to",
    "intended recipient",
    "was addressed",
};

/* A line that introduces a list of failed addresses on the following lines. */
static const char *const intro_phrases[] = {
    "following address",      "following recipient",
    "following destination",  "to the following",
    "delivered to:",          "address(es) failed",
    "permanent fatal error",  "could not be reached",
    "undeliverable to",       "recipients:",
    "addresses failed",       "not delivered to",
    "wasn't able to deliver", "unable to deliver",
    "could not deliver",      "failed recipient",
    "failed address",         "recipient(s)",
    "was not delivered",      "could not be delivered",
    "did not reach",          "not yet been delivered",
    "delivery has failed",    "errors:",
};

/* Something says the server is still trying: a warning, not a final bounce. */
static const char *const temporary_phrases[] = {
    "delayed",
    "not yet been delivered",
    "will keep trying",
    "still trying",
    "will continue trying",
    "will be retried",
    "will retry",
    "will try again",
    "retry later",
    "warning message only",
    "has not been delivered yet",
    "still in the queue",
    "delivery delay",
    "is being delayed",
    "temporarily deferred",
    "not yet delivered",
    "will continue to attempt",
    "still be retried",
};

/* Where the notification stops and the copy of the returned message begins. */
static int
is_copy_marker(const char *line)
{
    static const char *const marks[] = {
        "original message follows", "is a copy of",
        "copy of the original",     "original message header",
        "headers of the original",  "header of the original",
        "returned message",         "unsent message",
        "message follows",          "below this line",
        "original message --",      "-- original message",
        "included is the original", "original message is attached",
        "text of your message",     "original mail as follows",
    };
    if (strncasecmp(line, "Received: ", 10) == 0 || strncasecmp(line, "Return-Path: ", 13) == 0)
        return 1;
    /* Postfix: "delete your own text from the attached returned message" is a sentence
     * about the copy, not where it starts (which matters when the MIME is broken). */
    if (contains_ci(line, "attached returned message"))
        return 0;
    return CONTAINS_ANY(line, marks);
}

static int
is_local_char(char c)
{
    return isalnum((unsigned char)c) || (c != '\0' && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static int
is_domain_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-';
}

/* The mail system's own addresses and the bounce's addressee (us) are never the failed ones. */
static int
excluded(const struct mail *m, const char *addr)
{
    static const char *const robots[] = {"mailer-daemon@", "postmaster@", "mail-daemon@",
                                         "noreply@", "no-reply@"};
    if (m == NULL)
        return 0;
    for (size_t i = 0; i < sizeof robots / sizeof robots[0]; i++)
        if (strncasecmp(addr, robots[i], strlen(robots[i])) == 0)
            return 1;
    if ((m->from_addr && strcasecmp(addr, m->from_addr) == 0) ||
        (m->return_path && strcasecmp(addr, m->return_path) == 0) ||
        (m->reply_to && strcasecmp(addr, m->reply_to) == 0))
        return 1;
    const char *to = mail_header(m, "To");
    return to != NULL && strcasestr(to, addr) != NULL;
}

struct scan {
    const struct mail *m;
    struct bounce_info *out;
    int armed;     /* lines left in which any address counts */
    int failure;   /* a failure phrase or code was seen */
    int temporary; /* a phrase says the server is still trying */
    int hard;      /* a line says the address does not exist: never only a delay */
    char status[16];
    int reply_code;
    char *diag;
    int oom;
};

/* Every address in line (an '@' with a local part and a dotted domain) is offered to keep. */
static void
scan_addresses(struct scan *s, const char *line, int counts)
{
    for (const char *at = strchr(line, '@'); at != NULL; at = strchr(at + 1, '@')) {
        const char *a = at, *z = at + 1;
        while (a > line && is_local_char(a[-1]))
            a--;
        while (is_domain_char(*z))
            z++;
        while (z > at + 1 && (z[-1] == '.' || z[-1] == '-'))
            z--;
        /* Quotes and Exchange's "smtp=" are not part of the address. */
        while (a < at && (*a == '.' || *a == '\'' || *a == '`'))
            a++;
        if (at - a > 5 && strncasecmp(a, "smtp=", 5) == 0)
            a += 5;
        size_t n = (size_t)(z - a);
        if (a == at || z == at + 1 || memchr(at, '.', (size_t)(z - at)) == NULL ||
            n > BOUNCE_ADDR_MAX)
            continue;
        /* "<addr>:" or "addr" leading the line is how qmail, Postfix and Exim list them. */
        const char *lead = line + strspn(line, " \t<'\"");
        int qmail = a > line && a[-1] == '<' && *z == '>' && z[1] == ':'; /* "<addr>:" */
        if (!counts && !(lead == a && (s->failure || qmail)))
            continue;
        char addr[BOUNCE_ADDR_MAX + 1];
        memcpy(addr, a, n);
        addr[n] = '\0';
        /* A Message-ID looks like an address; its line says so. */
        if (excluded(s->m, addr) || contains_ci(line, "message-id") || contains_ci(line, "msgid"))
            continue;
        if (add_recipient(s->out, addr, n) < 0)
            s->oom = 1;
    }
}

static void
scan_line(struct scan *s, const char *line)
{
    char st[16];
    int fail = CONTAINS_ANY(line, failure_phrases);
    int has_status = find_status(line, "45", st);
    int code = find_reply_code(line);
    int intro = CONTAINS_ANY(line, intro_phrases);
    s->temporary |= CONTAINS_ANY(line, temporary_phrases);
    s->hard |= says_no_such_user(line);
    s->failure |= fail || has_status;
    scan_addresses(s, line, fail || has_status || code || s->armed > 0);
    if (has_status && s->status[0] == '\0')
        memcpy(s->status, st, sizeof st);
    if (code && s->reply_code == 0)
        s->reply_code = code;
    if ((has_status || code) && s->diag == NULL && (s->diag = one_line(line, strlen(line))) == NULL)
        s->oom = 1;
    if (intro)
        s->armed = BOUNCE_ARMED_LINES;
    else if (s->armed > 0)
        s->armed--;
}

/* X-Failed-Recipients (Exim): a comma-separated list, taken as it stands. */
static int
failed_recipients_header(const struct mail *m, struct bounce_info *out)
{
    const char *v = mail_header(m, "X-Failed-Recipients");
    while (v != NULL && *v) {
        v += strspn(v, " \t,<");
        size_t n = strcspn(v, " \t,>");
        if (n > 0 && memchr(v, '@', n) != NULL && add_recipient(out, v, n) < 0)
            return -1;
        v += n;
        v += *v == '>';
    }
    return 0;
}

/* Subjects that say the mail came back, though no failure word is in them (Sendmail's
 * "Returned mail: see transcript for details"). */
static int
subject_says_returned(const char *subject)
{
    static const char *const pats[] = {"returned mail", "returned to sender", "undelivered"};
    return CONTAINS_ANY(subject, pats);
}

/*
 * Severity of a non-standard report.  A retry phrase ("will keep trying",
 * "Warning: ... delayed") makes it a delay warning unless the address is
 * said not to exist (MDaemon titles its user-unknown bounces "Warning:").
 */
static enum bounce_severity
text_severity(const struct scan *s, const struct bounce_info *out)
{
    if (!s->failure && s->status[0] == '\0' && s->reply_code == 0 && out->n_recipients == 0)
        return BOUNCE_NONE;
    if (s->status[0] == '5')
        return severity_of(s->status, s->diag);
    if (s->temporary && !s->hard)
        return BOUNCE_DELAYED;
    if (s->status[0] == '4' || (s->status[0] == '\0' && s->reply_code / 100 == 4))
        return BOUNCE_TEMPORARY;
    return severity_of("", s->diag);
}

static int
read_text(const struct mail *m, const char *text, struct bounce_info *out)
{
    struct scan s = {.m = m, .out = out};
    s.failure = out->n_recipients > 0 || CONTAINS_ANY(m->subject, failure_phrases) ||
                subject_says_returned(m->subject);
    s.temporary = CONTAINS_ANY(m->subject, temporary_phrases) ||
                  contains_ci(m->subject, "warning") || contains_ci(m->subject, "delay");
    const char *p = text;
    for (int lines = 0; *p && lines < BOUNCE_MAX_LINES && !s.oom; lines++) {
        size_t n = strcspn(p, "\n");
        char *line = strndup(p, n);
        if (line == NULL)
            return -1;
        int stop = is_copy_marker(line);
        if (!stop)
            scan_line(&s, line);
        free(line);
        if (stop)
            break;
        p += n + (p[n] == '\n');
    }
    if (s.oom) {
        free(s.diag);
        return -1;
    }
    snprintf(out->status, sizeof out->status, "%s", s.status);
    out->reply_code = s.reply_code;
    out->diagnostic = s.diag;
    out->severity = text_severity(&s, out);
    return 0;
}

/* ---- where the notification text is ---------------------------------------- */

struct text {
    char *data;
    size_t len, cap;
    int oom;
};

static void
text_add(struct text *t, const char *s, size_t n)
{
    if (t->oom || t->len + n + 2 > BOUNCE_MAX_TEXT)
        return;
    if (t->len + n + 2 > t->cap) {
        size_t cap = (t->len + n + 2) * 2;
        char *d = realloc(t->data, cap);
        if (d == NULL) {
            t->oom = 1;
            return;
        }
        t->data = d;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len++] = '\n';
    t->data[t->len] = '\0';
}

/*
 * The notification: the text parts in order, leaving out the returned
 * message (an attached message once some text was found), whose headers
 * name us and whose body names anyone.
 */
static void
collect_text(const struct mailmime *mime, struct text *t, int depth, int *budget)
{
    if (mime == NULL || depth > BOUNCE_MAX_DEPTH || --*budget < 0)
        return;
    if (mime->mm_type == MAILMIME_MESSAGE) {
        if (depth == 0 || t->len == 0)
            collect_text(mime->mm_data.mm_message.mm_msg_mime, t, depth + 1, budget);
    } else if (mime->mm_type == MAILMIME_MULTIPLE) {
        for (clistiter *it = clist_begin(mime->mm_data.mm_multipart.mm_mp_list); it;
             it = clist_next(it))
            collect_text(clist_content(it), t, depth + 1, budget);
    } else if (mime->mm_content_type == NULL || IS_TEXT(mime, "plain") ||
               IS_MESSAGE(mime, "delivery-status")) {
        size_t n = 0;
        char *body = mail_part_body(mime, &n);
        if (body != NULL)
            text_add(t, body, n);
        free(body);
    }
}

/* The body as it stands, after the header block: for MIME too broken to walk. */
static char *
raw_body(const char *raw, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (raw[i] != '\n')
            continue;
        size_t j = i + 1 + (raw[i + 1] == '\r');
        if (j < len && raw[j] == '\n') {
            size_t n = len - j - 1;
            return strndup(raw + j + 1, n > BOUNCE_MAX_TEXT ? BOUNCE_MAX_TEXT : n);
        }
    }
    return NULL;
}

/*
 * Scan the notification text; when it names nobody, the raw body, which
 * still has the addresses when the MIME structure is broken.
 */
static int
read_texts(const struct mail *m, const struct mailmime *mime, const char *raw, size_t len,
           struct bounce_info *out)
{
    struct text t = {0};
    int budget = BOUNCE_MAX_PARTS;
    collect_text(mime, &t, 0, &budget);
    int rc = t.oom ? -1 : read_text(m, t.len > 0 ? t.data : m->text ? m->text : "", out);
    free(t.data);
    if (rc != 0 || out->n_recipients > 0 || raw == NULL)
        return rc;
    char *body = raw_body(raw, len);
    struct bounce_info second = {0};
    if (body != NULL && (rc = read_text(m, body, &second)) == 0 && second.n_recipients > 0) {
        bounce_free(out);
        *out = second;
    } else {
        bounce_free(&second);
    }
    free(body);
    return rc;
}

/* ---- the two report formats ------------------------------------------------ */

/* RFC 3464.  *records says whether the part had any recipient record at all. */
static int
read_dsn(const struct found *f, struct bounce_info *out, int *records)
{
    size_t len = 0;
    char *body = mail_part_body(f->dsn, &len);
    *records = 0;
    if (body == NULL)
        return 0;
    struct dsn_result res = {.out = out};
    int rc = dsn_parse(body, len, &res);
    free(body);
    *records = res.failed + res.delayed + res.other;
    return rc;
}

/* RFC 5965 abuse report: the complaint is about the address we mailed. */
static int
read_arf(const struct found *f, const struct mailimf_fields *orig, struct bounce_info *out)
{
    size_t len = 0;
    char *body = mail_part_body(f->arf, &len);
    char v[BOUNCE_ADDR_MAX + 1];
    int rc = 0;
    out->severity = BOUNCE_COMPLAINT;
    if (body != NULL) {
        if (field_value(body, "Original-Rcpt-To", v, sizeof v) ||
            field_value(body, "Removal-Recipient", v, sizeof v)) {
            char addr[BOUNCE_ADDR_MAX + 1];
            address_value(v, strlen(v), addr, sizeof addr);
            rc = add_recipient(out, addr, strlen(addr));
        }
        if (rc == 0 && field_value(body, "Feedback-Type", v, sizeof v)) {
            char line[BOUNCE_DIAG_MAX];
            snprintf(line, sizeof line, "feedback-type: %s", v);
            if ((out->diagnostic = strdup(line)) == NULL)
                rc = -1;
        }
        free(body);
    }
    if (rc == 0 && out->n_recipients == 0)
        rc = fields_first_to(orig, out);
    return rc;
}

/* ---- public ---------------------------------------------------------------- */

/* A mailing-list manager wrote it: fml's X-MLServer, ezmlm's Mailing-List, RFC 2369 headers. */
static int
from_list_manager(const struct mail *m)
{
    static const char *const names[] = {"X-MLServer",     "Mailing-List",     "List-Id",
                                        "List-Subscribe", "List-Unsubscribe", "List-Post",
                                        "List-Help",      "X-ML-Name"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (mail_header(m, names[i]) != NULL)
            return 1;
    return 0;
}

int
bounce_is_list_refusal(const struct mail *m)
{
    /* The titles list managers give their refusals (fml: "You x@y are not member",
     * "NOT MEMBER article from", "Loop Alert:"; Mailman: "... message rejected").  A
     * list's ordinary post about rejection would need the phrase in its own Subject. */
    static const char *const titles[] = {
        "are not member", "not member article", "not a member",     "reject mail ",
        "is rejected",    "message rejected",   "posting rejected", "post rejected",
        "loop alert:",    "loop back warning:", "unix from loop",   "system error message",
    };
    return m != NULL && m->subject != NULL && from_list_manager(m) &&
           CONTAINS_ANY(m->subject, titles);
}

int
bounce_parse(const struct mail *m, const char *raw, size_t len, struct bounce_info *out)
{
    struct found f = {.budget = BOUNCE_MAX_PARTS};
    struct mailmime *mime = NULL;
    struct mailimf_fields *hdrs = NULL;
    size_t idx = 0;
    int rc = 0, records = 0;
    memset(out, 0, sizeof *out);
    if (raw != NULL && len > 0 && !mail_mime_too_complex(raw, len) &&
        mailmime_parse(raw, len, &idx, &mime) == MAILIMF_NO_ERROR)
        walk(mime, &f, 0);
    returned_headers(&f, &hdrs);
    const struct mailimf_fields *orig = original_fields(&f, hdrs);
    int refusal = f.arf == NULL && f.dsn == NULL && bounce_is_list_refusal(m);
    if (f.arf != NULL)
        rc = read_arf(&f, orig, out);
    else if (f.dsn != NULL)
        rc = read_dsn(&f, out, &records);
    /* A list's refusal is about us; its text names the list, the post's copy anyone. */
    if (refusal)
        out->severity = BOUNCE_POLICY;
    /* A DSN without recipient records is read like any other bounce. */
    else if (rc == 0 && f.arf == NULL && records == 0 && m != NULL &&
             (rc = failed_recipients_header(m, out)) == 0)
        rc = read_texts(m, mime, raw, len, out);
    if (rc == 0 && (out->orig_message_id = fields_message_id(orig)) == NULL && m != NULL)
        out->orig_message_id = text_message_id(m->text);
    if (hdrs != NULL)
        mailimf_fields_free(hdrs);
    if (mime != NULL)
        mailmime_free(mime);
    if (rc != 0)
        bounce_free(out);
    return rc;
}
