/*
 * classify: person or robot?
 *
 * The evidence is checked from the most specific to the most general, and
 * the first hit wins, so the reason names the strongest evidence:
 *
 *  1. LOOP       From (or X-Loop) is our own address.
 *  1b. AUTO_REPLY a challenge-response notice (Boxbe, Bluebottle, TMDA, a
 *                server's "confirm this mail server"): the address works and
 *                waits for the sender to prove itself.  Before bounces, as
 *                some are sent as a DSN ("Status: 4.7.0 Sender not
 *                pre-approved"); only from a robot sender.
 *  2. BOUNCE     a mailing-list manager's refusal of our post (fml's "not
 *                member", "Loop Alert"; see bounce_is_list_refusal),
 *                a delivery status notification (multipart/report;
 *                report-type=delivery-status or a message/delivery-status
 *                part), X-Failed-Recipients, a MAILER-DAEMON/postmaster
 *                sender, or a bounce-like Subject from a null Return-Path.
 *                ARF abuse reports (report-type=feedback-report) count as
 *                BOUNCE too: like a hard bounce they tell us to stop mailing
 *                that member, and neither is ever answered.
 *                This comes before Auto-Submitted because bounces often
 *                carry "Auto-Submitted: auto-replied" as well.
 *                Delay warnings are bounces too (never answered); bounce.c
 *                marks them BOUNCE_DELAYED so they are never scored.
 *  3. AUTO_REPLY / AUTOMATIC  Auto-Submitted other than "no" (RFC 3834);
 *                auto-generated on a "Re:" Subject is an answer, so an
 *                auto-reply.
 *  3b. AUTOMATIC a read receipt (RFC 8098 message disposition notification:
 *                multipart/report; report-type=disposition-notification, or
 *                a message/disposition-notification part).  Many clients
 *                send one without Auto-Submitted; answered, each answer
 *                would bring the next receipt.  Not an out-of-office reply,
 *                so nobody's reminders are paused by it.
 *  4. AUTO_REPLY X-Autoreply, X-Autorespond, X-Auto-Response-Suppress with
 *                OOF or All, Precedence: auto_reply, an out-of-office
 *                Subject, or a bulk marker (Precedence bulk/junk, null
 *                Return-Path) with an acknowledgement Subject or an
 *                out-of-office opening text, in several languages.
 *  5. BULK       Precedence bulk/junk/list, List-Id/List-Unsubscribe,
 *                or a Return-Path that collects bounces (list/VERP sender).
 *  6. AUTOMATIC  no-reply style senders, or an empty Return-Path.
 *  Otherwise PERSON.
 *
 * Subject patterns are deliberately specific phrases ("out of office", not
 * "office"): a person's mail misread as a robot's goes unanswered.
 */
#include "classify.h"

#include "bounce.h"

#include <ctype.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

const char *
classify_name(enum classify_kind kind)
{
    switch (kind) {
    case CLASSIFY_PERSON:
        return "person";
    case CLASSIFY_BOUNCE:
        return "bounce";
    case CLASSIFY_AUTO_REPLY:
        return "auto-reply";
    case CLASSIFY_BULK:
        return "bulk";
    case CLASSIFY_AUTOMATIC:
        return "automatic";
    case CLASSIFY_LOOP:
        return "loop";
    case CLASSIFY_SPAM:
        return "spam";
    }
    return "unknown";
}

/*
 * Does s start with needle[0..n) (case-insensitive)?  The first letter is
 * compared first: a call of strncasecmp at every byte of every header
 * searched was a twentieth of a mail's reading.
 */
static int
starts_ci(const char *s, const char *needle, size_t n)
{
    return n == 0 || (tolower((unsigned char)s[0]) == tolower((unsigned char)needle[0]) &&
                      strncasecmp(s, needle, n) == 0);
}

/* Case-insensitive substring search (ASCII letters only fold). */
static int
contains_ci(const char *hay, const char *needle)
{
    if (hay == NULL)
        return 0;
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (starts_ci(hay, needle, n))
            return 1;
    return 0;
}

static int
contains_any(const char *hay, const char *const *needles, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (contains_ci(hay, needles[i]))
            return 1;
    return 0;
}

/* Length of the local part of addr (up to '@' or the end). */
static size_t
local_len(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? (size_t)(at - addr) : strlen(addr);
}

static int
local_is(const char *addr, const char *name)
{
    return addr != NULL && local_len(addr) == strlen(name) &&
           strncasecmp(addr, name, strlen(name)) == 0;
}

/* MAILER-DAEMON or postmaster: the delivery system itself. */
static int
sender_is_mailer(const char *addr)
{
    return local_is(addr, "mailer-daemon") || local_is(addr, "postmaster") ||
           local_is(addr, "post_master") || local_is(addr, "mail-daemon") ||
           local_is(addr, "mailerdaemon");
}

/* Does the local part of addr contain needle (case-insensitive)? */
static int
local_contains(const char *addr, const char *needle)
{
    size_t len = local_len(addr), n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (starts_ci(addr + i, needle, n))
            return 1;
    return 0;
}

/*
 * Looks like a mail system rather than a person ("E500_SMTP_Mail_Service",
 * "Symantec_AntiVirus_for_SMTP_Gateways", "System Administrator").  Only
 * used together with a bounce-like Subject, never alone.
 */
static int
sender_looks_system(const char *addr)
{
    static const char *const parts[] = {"mailer-daemon", "postmaster", "post_master",
                                        "daemon",        "smtp",       "mail_service",
                                        "mailservice",   "antivirus",  "administrator"};
    if (addr == NULL)
        return 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (local_contains(addr, parts[i]))
            return 1;
    return 0;
}

/* no-reply@, noreply-123@, do-not-reply@, donotreply@ ... */
static int
sender_is_noreply(const char *addr)
{
    static const char *const names[] = {"no-reply",     "noreply",    "no_reply",
                                        "do-not-reply", "donotreply", "do_not_reply"};
    if (addr == NULL)
        return 0;
    size_t len = local_len(addr);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (len >= n && strncasecmp(addr, names[i], n) == 0)
            return 1;
    }
    return 0;
}

/* report-type parameter of a multipart/report Content-Type, via libetpan. */
static int
report_type_is(const struct mail *m, const char *type)
{
    const char *ct = mail_header(m, "Content-Type");
    if (ct == NULL || m->content_type == NULL || strcmp(m->content_type, "multipart/report") != 0)
        return 0;
    size_t idx = 0;
    struct mailmime_content *content = NULL;
    if (mailmime_content_parse(ct, strlen(ct), &idx, &content) != MAILIMF_NO_ERROR)
        return 0;
    char *rt = mailmime_content_param_get(content, "report-type");
    int is = rt != NULL && strcasecmp(rt, type) == 0;
    mailmime_content_free(content);
    return is;
}

static int
has_part(const struct mail *m, const char *type)
{
    if (m->part_types == NULL)
        return 0;
    size_t n = strlen(type);
    for (const char *p = m->part_types; (p = strstr(p, type)) != NULL; p += n)
        if ((p == m->part_types || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

/* A read receipt (RFC 8098), whatever its client calls it in the Subject. */
static int
is_read_receipt(const struct mail *m, const char **why)
{
    if (report_type_is(m, "disposition-notification"))
        *why = "read receipt (multipart/report; report-type=disposition-notification)";
    else if (has_part(m, "message/disposition-notification"))
        *why = "read receipt (message/disposition-notification part)";
    else
        return 0;
    return 1;
}

static int
subject_is_bounce(const char *subject)
{
    static const char *const pats[] = {
        "undeliverable",
        "undelivered mail",
        "delivery status notification",
        "mail delivery failed",
        "delivery failure",
        "delivery has failed",
        "returned mail",
        "failure notice",
        "mail delivery system",
        "non-delivery",
        "nondeliverable",
        "could not be delivered",
        "delivery problem",
        "undeliverable mail",
        "warning: could not send",
        "mail system error",
        "message not delivered",
        "returned to sender",
        "delivery warning",
        "delivery notification",
        "error during delivery",
        "non remis", /* French Exchange: "Non remis : ..." */
        "unzustellbar",
    };
    return contains_any(subject, pats, sizeof pats / sizeof pats[0]);
}

/* The start of the text reports a failed delivery (for bounces without DSN parts). */
static int
text_is_bounce(const char *text)
{
    static const char *const pats[] = {
        "could not be delivered", "was not delivered",      "delivery has failed",
        "permanent error",        "undeliverable",          "delivery to the following recipient",
        "not be delivered",       "wasn't able to deliver", "unable to deliver",
        "delivery failed",        "permanent fatal",        "not a valid user",
        "no such user",           "user unknown",           "unknown user",
    };
    char head[2048];
    if (text == NULL)
        return 0;
    /* Only the opening of the text: a person quoting a bounce further down stays a person. */
    snprintf(head, sizeof head, "%s", text);
    return contains_any(head, pats, sizeof pats / sizeof pats[0]);
}

static int
subject_is_auto_reply(const char *subject)
{
    static const char *const pats[] = {
        "out of office",
        "out-of-office",
        "automatic reply",
        "automatic response",
        "auto reply",
        "auto-reply",
        "autoreply",
        "auto response",
        "auto-response",
        "autorespons",
        "abwesenheitsnotiz",
        "r\xc3\xa9ponse automatique",
        "respuesta autom\xc3\xa1tica",
        "risposta automatica",
        "automatisch antwoord",
        "automatyczna odpowied",
        "automatisk svar",
        "autosvar",
        "atva\xc4\xbcin\xc4\x81jum", /* Latvian "vacation", as written ... */
        "atvalin\xc4\x81jum",        /* ... and as ISO-8859-13 mail often renders it */
        "automatiska atbilde",
        "autom\xc4\x81tiska atbilde",
        "on vacation",
        "vacation reply",
        "away from the office",
        "away from my office",
    };
    if (subject == NULL)
        return 0;
    /* "Auto:" is Outlook's prefix; only as a prefix, it is a common word start. */
    if (strncasecmp(subject, "auto:", 5) == 0 || strncasecmp(subject, "away until", 10) == 0)
        return 1;
    return contains_any(subject, pats, sizeof pats / sizeof pats[0]);
}

/*
 * The opening of the text (where a robot's notice says what it is), for
 * phrase checks.  Whitespace runs count as one space: MTAs wrap their
 * diagnostics anywhere ("requires\n    confirmation").
 */
static int
opening_contains_any(const char *text, const char *const *pats, size_t count)
{
    char head[1024];
    size_t o = 0;
    if (text == NULL)
        return 0;
    for (const char *p = text; *p && o + 1 < sizeof head; p++) {
        if (isspace((unsigned char)*p)) {
            if (o > 0 && head[o - 1] == ' ')
                continue;
            head[o++] = ' ';
        } else {
            head[o++] = *p;
        }
    }
    head[o] = '\0';
    return contains_any(head, pats, count);
}

/*
 * A challenge-response system (Boxbe, Bluebottle, TMDA, a server's "confirm
 * this mail server" page) holds our mail until the sender proves itself.
 * It is an automatic reply, not a failure: the address works, and answering
 * the challenge would be answering a robot.  Some send it as a DSN with
 * "Status: 4.7.0 Sender not pre-approved", so this is checked before bounces.
 */
static int
is_challenge(const struct mail *m, int robot, const char **why)
{
    static const char *const pats[] = {
        /* Each asks the sender to act; "not on the approved senders list" alone is a
         * policy rejection, and stays a bounce. */
        "not pre-approved",         "guest list",         "requires confirmation",
        "confirm this mail server", "add yourself to",    "have your address added",
        "has been waitlisted",      "challenge/response", "challenge-response",
    };
    const char *agent = mail_header(m, "X-Delivery-Agent");
    if (mail_header(m, "X-Bluebottle-Request") != NULL ||
        (agent != NULL && strncasecmp(agent + strspn(agent, " \t"), "TMDA", 4) == 0))
        *why = "challenge-response header (Bluebottle, TMDA)";
    else if (robot && opening_contains_any(m->text, pats, sizeof pats / sizeof pats[0]))
        *why = "challenge-response notice (sender must confirm or be listed)";
    else
        return 0;
    return 1;
}

static int
is_loop(const struct mail *m, const char *own, const char **why)
{
    if (own == NULL || *own == '\0')
        return 0;
    if (m->from_addr != NULL && strcasecmp(m->from_addr, own) == 0) {
        *why = "From: is our own address";
        return 1;
    }
    if (contains_ci(mail_header(m, "X-Loop"), own)) {
        *why = "X-Loop: names our own address";
        return 1;
    }
    return 0;
}

/*
 * The sender is a program: null Return-Path, an empty From, a no-reply
 * address, or Auto-Submitted.  With a failure report's opening text this
 * is a bounce even under a Subject we do not know ("Mail", Japanese, ...).
 */
static int
sender_is_robot(const struct mail *m, int null_rp)
{
    const char *as = mail_header(m, "Auto-Submitted");
    return null_rp || m->from_addr == NULL || *m->from_addr == '\0' ||
           sender_is_noreply(m->from_addr) || sender_looks_system(m->from_addr) ||
           (as != NULL && strncasecmp(as + strspn(as, " \t"), "no", 2) != 0);
}

static int
is_bounce(const struct mail *m, const char **why)
{
    int null_rp = m->return_path != NULL && *m->return_path == '\0';
    if (bounce_is_list_refusal(m))
        *why = "a mailing-list manager refused our post (not a member, loop alert)";
    else if (report_type_is(m, "delivery-status"))
        *why = "multipart/report; report-type=delivery-status";
    else if (report_type_is(m, "feedback-report") || has_part(m, "message/feedback-report"))
        *why = "ARF feedback report (abuse complaint)";
    else if (has_part(m, "message/delivery-status"))
        *why = "message/delivery-status part";
    else if (mail_header(m, "X-Failed-Recipients") != NULL)
        *why = "X-Failed-Recipients header";
    else if (sender_is_mailer(m->from_addr) || contains_ci(mail_header(m, "From"), "mailer-daemon"))
        *why = "From: MAILER-DAEMON or postmaster";
    else if (subject_is_bounce(m->subject) &&
             (null_rp || sender_looks_system(m->from_addr) || sender_looks_system(m->return_path) ||
              text_is_bounce(m->text)))
        *why = "bounce Subject from a mail system or null Return-Path";
    else if (sender_is_robot(m, null_rp) && text_is_bounce(m->text))
        *why = "failure report text from an automatic sender";
    else
        return 0;
    return 1;
}

/* "Re:" and its common translations (AW: German, SV: Nordic, Antw: Dutch) lead the Subject. */
static int
subject_is_reply(const char *subject)
{
    static const char *const prefixes[] = {"re:", "aw:", "sv:", "antw:", "vs:", "r:"};
    if (subject == NULL)
        return 0;
    subject += strspn(subject, " \t");
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncasecmp(subject, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* Auto-Submitted (RFC 3834): anything but "no" is a robot. */
static enum classify_kind
auto_submitted(const struct mail *m, const char **why)
{
    const char *v = mail_header(m, "Auto-Submitted");
    if (v == NULL)
        return CLASSIFY_PERSON;
    while (isspace((unsigned char)*v))
        v++;
    if (strncasecmp(v, "no", 2) == 0 && !isalnum((unsigned char)v[2]) && v[2] != '-')
        return CLASSIFY_PERSON;
    if (strncasecmp(v, "auto-replied", 12) == 0) {
        *why = "Auto-Submitted: auto-replied";
        return CLASSIFY_AUTO_REPLY;
    }
    /* RFC 3834 asks responders for auto-replied, but some mark their answers auto-generated:
     * a "Re:" Subject says this one answers a mail (ours), so it is an automatic reply. */
    if (subject_is_reply(m->subject)) {
        *why = "Auto-Submitted: auto-generated answer (Re: Subject)";
        return CLASSIFY_AUTO_REPLY;
    }
    *why = "Auto-Submitted: auto-generated or other";
    return CLASSIFY_AUTOMATIC;
}

/* Subjects of acknowledgement auto-replies, in several languages. */
static int
subject_is_acknowledgement(const char *subject)
{
    static const char *const pats[] = {
        "thank you for your e-mail",       "thank you for your email",
        "thank you for your message",      "thanks for your e-mail",
        "thanks for your email",           "thanks for your message",
        "we have received your",           "vielen dank f\xc3\xbcr ihre",
        "danke f\xc3\xbcr ihre nachricht", "merci pour votre message",
        "merci pour votre e-mail",         "gracias por su mensaje",
        "gracias por tu mensaje",          "grazie per il tuo messaggio",
        "bedankt voor uw bericht",         "dzi\xc4\x99kujemy za wiadomo",
    };
    return contains_any(subject, pats, sizeof pats / sizeof pats[0]);
}

/* The opening of an out-of-office or acknowledgement text, in several languages. */
static int
text_is_auto_reply(const char *text)
{
    static const char *const pats[] = {
        "out of the office",
        "out of office",
        "away from the office",
        "i am on vacation",
        "i am on holiday",
        "i am currently away",
        "i'm currently away",
        "will reply as soon as",
        "will respond as soon as",
        "endeavour to reply",
        "endeavor to reply",
        "will get back to you as soon as",
        "limited access to e-mail",
        "limited access to email",
        "this is an automatic reply",
        "this is an automated reply",
        "this is an automatic response",
        "nicht im b\xc3\xbcro",
        "bin ich nicht erreichbar",
        "absent du bureau",
        "absente du bureau",
        "fuera de la oficina",
        "fuori ufficio",
        "niet op kantoor",
    };
    return opening_contains_any(text, pats, sizeof pats / sizeof pats[0]);
}

/*
 * Bulk markers (Precedence bulk/junk, a null Return-Path) with an
 * auto-reply's words: vacation programs that send no RFC 3834 header.  A
 * person's "I'll be on vacation" has neither marker, so it stays a person's.
 */
static int
is_unmarked_auto_reply(const struct mail *m)
{
    const char *prec = mail_header(m, "Precedence");
    int bulk_marked = (prec != NULL && (contains_ci(prec, "bulk") || contains_ci(prec, "junk"))) ||
                      (m->return_path != NULL && *m->return_path == '\0');
    return bulk_marked && (subject_is_acknowledgement(m->subject) || text_is_auto_reply(m->text));
}

static int
is_auto_reply(const struct mail *m, const char **why)
{
    const char *suppress = mail_header(m, "X-Auto-Response-Suppress");
    const char *prec = mail_header(m, "Precedence");
    if (mail_header(m, "X-Autoreply") != NULL || mail_header(m, "X-Autorespond") != NULL)
        *why = "X-Autoreply/X-Autorespond header";
    else if (suppress != NULL && (contains_ci(suppress, "oof") || contains_ci(suppress, "all")))
        *why = "X-Auto-Response-Suppress: OOF/All";
    else if (prec != NULL && contains_ci(prec, "auto_reply"))
        *why = "Precedence: auto_reply";
    else if (mail_header(m, "X-Bluebottle-Request") != NULL)
        *why = "challenge-response header";
    else if (subject_is_auto_reply(m->subject))
        *why = "out-of-office Subject";
    else if (is_unmarked_auto_reply(m))
        *why = "Precedence bulk/junk or null Return-Path with an auto-reply's Subject or text";
    else
        return 0;
    return 1;
}

/* The envelope sender collects bounces: mailing lists and VERP bulk senders. */
static int
return_path_is_list(const char *rp)
{
    if (rp == NULL || *rp == '\0')
        return 0;
    size_t len = local_len(rp);
    if (strncasecmp(rp, "bounce", 6) == 0 || strncasecmp(rp, "owner-", 6) == 0)
        return 1;
    for (size_t i = 0; i + 7 <= len; i++)
        if ((rp[i] == '-' || rp[i] == '+') && strncasecmp(rp + i + 1, "bounce", 6) == 0)
            return 1;
    return 0;
}

static int
is_bulk(const struct mail *m, const char **why)
{
    const char *prec = mail_header(m, "Precedence");
    if (prec != NULL &&
        (contains_ci(prec, "bulk") || contains_ci(prec, "junk") || contains_ci(prec, "list")))
        *why = "Precedence: bulk/junk/list";
    else if (mail_header(m, "List-Id") != NULL || mail_header(m, "List-Unsubscribe") != NULL ||
             mail_header(m, "List-Post") != NULL || mail_header(m, "List-Subscribe") != NULL ||
             mail_header(m, "X-MLServer") != NULL)
        *why = "mailing-list header (List-Id, List-Unsubscribe, ...)";
    else if (return_path_is_list(m->return_path))
        *why = "Return-Path is a list/VERP bounce address";
    else
        return 0;
    return 1;
}

static int
is_automatic(const struct mail *m, const char **why)
{
    if (sender_is_noreply(m->from_addr) || sender_is_noreply(m->return_path))
        *why = "no-reply sender";
    else if (m->return_path != NULL && *m->return_path == '\0')
        *why = "null Return-Path";
    else
        return 0;
    return 1;
}

/* Does header value v start with word (case-insensitive), followed by its end, ',' or space? */
static int
starts_word(const char *v, const char *word)
{
    if (v == NULL)
        return 0;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(word);
    return strncasecmp(v, word, n) == 0 &&
           (v[n] == '\0' || v[n] == ',' || v[n] == ' ' || v[n] == '\t' || v[n] == ';');
}

/*
 * The verdict of the receiving server's spam filter: SpamAssassin's
 * X-Spam-Flag: YES and X-Spam-Status: Yes, ...; Rspamd's X-Spam: Yes.
 * "No" verdicts and bare scores decide nothing.
 */
static int
is_spam(const struct mail *m, const char **why)
{
    if (starts_word(mail_header(m, "X-Spam-Flag"), "yes"))
        *why = "X-Spam-Flag: YES (the server's spam filter)";
    else if (starts_word(mail_header(m, "X-Spam-Status"), "yes"))
        *why = "X-Spam-Status: Yes (the server's spam filter)";
    else if (starts_word(mail_header(m, "X-Spam"), "yes"))
        *why = "X-Spam: Yes (the server's spam filter)";
    else
        return 0;
    return 1;
}

/*
 * The last answers, by the mail's parse (mail.h's serial) and the address
 * asked for: the reader classifies every mail twice, once to decide whether
 * to try its bounce parser and again in its reading, and each was about 13k
 * instructions of a join's 480k.  Its parses run a few mails ahead of its
 * readings (reader.h's READER_AHEAD, 6), so more than that are kept.  A
 * parsed mail is not changed afterwards.
 */
#define CLASSIFY_KEPT 8

static struct classify_kept {
    unsigned long long serial; /* 0: nothing kept */
    int own_set;
    char own[320];
    enum classify_kind kind;
    const char *why;
} classify_kept[CLASSIFY_KEPT];
static size_t classify_next;

static enum classify_kind classify_run(const struct mail *m, const char *own_address,
                                       const char **reason);

static struct classify_kept *
classify_find(const struct mail *m, const char *own_address)
{
    for (size_t i = 0; i < CLASSIFY_KEPT; i++) {
        struct classify_kept *k = &classify_kept[i];
        if (k->serial == m->serial && k->own_set == (own_address != NULL) &&
            (own_address == NULL || strcmp(k->own, own_address) == 0))
            return k;
    }
    return NULL;
}

enum classify_kind
classify_mail(const struct mail *m, const char *own_address, const char **reason)
{
    int keep = m->serial != 0 &&
               (own_address == NULL || strlen(own_address) < sizeof classify_kept[0].own);
    struct classify_kept *k = keep ? classify_find(m, own_address) : NULL;
    if (k != NULL) {
        if (reason != NULL)
            *reason = k->why;
        return k->kind;
    }
    const char *why = NULL;
    enum classify_kind kind = classify_run(m, own_address, &why);
    if (keep) {
        k = &classify_kept[classify_next++ % CLASSIFY_KEPT];
        k->serial = m->serial;
        k->own_set = own_address != NULL;
        snprintf(k->own, sizeof k->own, "%s", own_address ? own_address : "");
        k->kind = kind;
        k->why = why;
    }
    if (reason != NULL)
        *reason = why;
    return kind;
}

static enum classify_kind
classify_run(const struct mail *m, const char *own_address, const char **reason)
{
    const char *why = "no automatic-mail evidence";
    enum classify_kind kind = CLASSIFY_PERSON;
    if (is_loop(m, own_address, &why))
        kind = CLASSIFY_LOOP;
    else if (is_challenge(m, sender_is_robot(m, m->return_path && *m->return_path == '\0'), &why))
        kind = CLASSIFY_AUTO_REPLY;
    else if (is_bounce(m, &why))
        kind = CLASSIFY_BOUNCE;
    else
        kind = auto_submitted(m, &why);
    if (kind == CLASSIFY_PERSON) {
        if (is_read_receipt(m, &why))
            kind = CLASSIFY_AUTOMATIC;
        else if (is_auto_reply(m, &why))
            kind = CLASSIFY_AUTO_REPLY;
        else if (is_bulk(m, &why))
            kind = CLASSIFY_BULK;
        else if (is_automatic(m, &why))
            kind = CLASSIFY_AUTOMATIC;
        else if (is_spam(m, &why))
            kind = CLASSIFY_SPAM;
    }
    if (reason != NULL)
        *reason = why;
    return kind;
}
