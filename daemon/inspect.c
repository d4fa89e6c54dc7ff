/*
 * inspect: how mentord reads a raw message, without side effects.
 *
 * The reading is the daemon's: reading_read (reading.h) for a sender it
 * knows nothing of; this file only prints it, with the steps that need the
 * store (threading by Message-ID, open tokens, the reply budget) described
 * instead of decided.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bounce.h"
#include "classify.h"
#include "clock.h"
#include "command.h"
#include "inspect.h"
#include "programme.h"
#include "mail.h"
#include "profile.h"
#include "reading.h"

#define INSPECT_MAX_WHY 12
#define DAY (24 * 60 * 60)

/* What the message is, as an identifier (JSON) and in words (text). */
struct inspect_kind {
    const char *id;
    const char *words;
};

static const struct inspect_kind KIND_COMMAND = {"command", "command"};
static const struct inspect_kind KIND_PROFILE = {"profile", "profile update"};
static const struct inspect_kind KIND_CONFIRM = {"confirmation", "confirmation reply"};
static const struct inspect_kind KIND_BOUNCE = {"bounce", "bounce (not answered)"};
static const struct inspect_kind KIND_AUTO_REPLY = {"auto-reply", "auto-reply (not answered)"};
static const struct inspect_kind KIND_LIST = {"list", "list/bulk mail (not answered)"};
static const struct inspect_kind KIND_AUTOMATIC = {"automatic", "automatic mail (not answered)"};
static const struct inspect_kind KIND_SPAM = {"spam", "marked as spam by the server's filter (not "
                                                      "answered)"};
static const struct inspect_kind KIND_LOOP = {"loop", "our own mail looping back (not answered)"};
static const struct inspect_kind KIND_ASK = {"question", "role unclear: one easy question would be "
                                                         "asked"};
static const struct inspect_kind KIND_MANAGER = {"manager", "manager command"};
static const struct inspect_kind KIND_UNKNOWN = {"unknown", "not understood: help would be sent"};
static const struct inspect_kind KIND_UNPARSEABLE = {"unparseable",
                                                     "unparseable (recorded, not answered)"};
static const struct inspect_kind KIND_TOO_LARGE = {"too-large",
                                                   "too large (a polite reply, not read)"};
static const struct inspect_kind KIND_NO_SENDER = {"no-sender",
                                                   "no usable sender (recorded, not answered)"};

struct inspect {
    const struct config *cfg;
    struct store *st; /* the daemon's database, read only; NULL when there is none */
    int have_explain;
    struct programme_explain ex; /* the sender's proof and what the gate would do */
    const char *label;
    size_t size;
    struct mail *m;
    char perr[256];
    enum classify_kind ck;
    const char *reason;
    int have_bounce;
    struct bounce_info b;
    int have_reading;
    struct reading rd;      /* the daemon's own reading (reading.h) */
    const char *text;       /* the person's own text; NULL when not read */
    const char *sent_along; /* with nothing of their own: the quoted/forwarded text; else NULL */
    int have_profile;
    const struct profile *prof;
    int have_command;
    struct command cmd;
    char ref[COMMAND_TOKEN_LEN + 1];
    const struct inspect_kind *kind;
    char why[INSPECT_MAX_WHY][320];
    size_t n_why;
};

static void inspect_why(struct inspect *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
inspect_why(struct inspect *r, const char *fmt, ...)
{
    va_list ap;

    if (r->n_why >= INSPECT_MAX_WHY)
        return;
    va_start(ap, fmt);
    vsnprintf(r->why[r->n_why++], sizeof(r->why[0]), fmt, ap);
    va_end(ap);
}

/* ---- reading: the daemon's steps ---- */

static const struct inspect_kind *
inspect_automatic_kind(enum classify_kind k)
{
    switch (k) {
    case CLASSIFY_BOUNCE:
        return &KIND_BOUNCE;
    case CLASSIFY_AUTO_REPLY:
        return &KIND_AUTO_REPLY;
    case CLASSIFY_BULK:
        return &KIND_LIST;
    case CLASSIFY_LOOP:
        return &KIND_LOOP;
    case CLASSIFY_SPAM:
        return &KIND_SPAM;
    case CLASSIFY_AUTOMATIC:
    case CLASSIFY_PERSON:
        break;
    }
    return &KIND_AUTOMATIC;
}

static int
inspect_automatic(struct inspect *r, const char *raw, size_t len)
{
    r->kind = inspect_automatic_kind(r->ck);
    inspect_why(r, "classified %s: %s; automatic mail is recorded and never answered",
                classify_name(r->ck), r->reason ? r->reason : "(no reason given)");
    if (r->ck == CLASSIFY_AUTO_REPLY && r->cfg->programme.away_pause > 0)
        inspect_why(r, "if the sender is a member, reminders to them are held back for %d days",
                    r->cfg->programme.away_pause / DAY);
    if (r->ck != CLASSIFY_BOUNCE)
        return 0;
    /* The daemon reads the bounce from the whole raw message, not the capped parse. */
    if (bounce_parse(r->m, raw, len, &r->b) != 0)
        return -1;
    r->have_bounce = 1;
    if (r->b.n_recipients == 0 && r->b.orig_message_id)
        inspect_why(r,
                    "names no failed recipient: the daemon looks up the returned "
                    "Message-ID <%s> in its sent mail",
                    r->b.orig_message_id);
    else if (r->b.n_recipients == 0)
        inspect_why(r, "names no failed recipient and no returned Message-ID: nothing is scored");
    else if (r->b.severity == BOUNCE_PERMANENT || r->b.severity == BOUNCE_TEMPORARY)
        inspect_why(r,
                    "each failed recipient's bounce score grows by %s (once a day at most); "
                    "at %d the address is marked undeliverable",
                    r->b.severity == BOUNCE_PERMANENT ? "1" : "0.5",
                    r->cfg->programme.bounce_threshold);
    else if (r->b.severity == BOUNCE_DELAYED)
        inspect_why(r, "a delay warning is not a bounce yet: not scored, and a pending "
                       "confirmation stays open");
    else
        inspect_why(r, "a %s bounce says nothing about the address: not scored",
                    bounce_severity_name(r->b.severity));
    return 0;
}

/* Which kind a person's mail is, from the reading, its [ref] tag and profile lines. */
static void
inspect_person_kind(struct inspect *r)
{
    const struct command *c = &r->cmd;
    const struct reading *rd = &r->rd;
    const char *where = c->from_address ? "address" : c->from_subject ? "subject" : "body";

    if (rd->intent == INTENT_MANAGER) {
        r->kind = &KIND_MANAGER;
        return;
    }
    if (rd->ask == READING_ASK_ROLE) {
        r->kind = &KIND_ASK;
        return;
    }
    if (c->kind == COMMAND_CONFIRM) {
        const char *tok = c->token[0] ? c->token : r->ref;
        r->kind = &KIND_CONFIRM;
        if (tok[0])
            inspect_why(r,
                        "confirm (in the %s) with token %s: it is accepted when the token is "
                        "open and was sent to this address",
                        where, tok);
        else
            inspect_why(r,
                        "confirm (in the %s) without a token: the daemon looks for the "
                        "sender's one open confirmation",
                        where);
        return;
    }
    if (c->kind != COMMAND_NONE || rd->intent == INTENT_RATING) {
        r->kind = &KIND_COMMAND;
        if (c->kind != COMMAND_NONE)
            inspect_why(r, "command \"%s\" found in the %s", command_name(c->kind), where);
        return;
    }
    if (r->ref[0]) {
        r->kind = &KIND_CONFIRM;
        inspect_why(r,
                    "no command, but the Subject carries [ref %s]: when that is an open "
                    "confirmation, this reply confirms it",
                    r->ref);
    }
    if (r->prof->n_fields > 0 || r->prof->n_problems > 0) {
        if (r->kind == NULL)
            r->kind = &KIND_PROFILE;
        inspect_why(r, "%zu profile field(s) understood, %zu not: %s", r->prof->n_fields,
                    r->prof->n_problems,
                    r->ref[0] ? "used when the [ref] is not a confirmation"
                              : "the reply echoes them and explains the rest");
        return;
    }
    if (r->kind == NULL) {
        r->kind = &KIND_UNKNOWN;
        inspect_why(r, "no command in the Subject or the first lines of the text, no [ref] tag "
                       "and no profile lines: help would be sent");
    }
}

/* The person's mail, read by reading_read as the daemon reads it (nothing known of the sender). */
static int
inspect_person(struct inspect *r, size_t raw_len)
{
    const struct mail *m = r->m;

    if (r->st != NULL) {
        /* The daemon's own steps against its database: proof, context, reading, gate. */
        r->have_reading = 1;
        if (programme_explain(r->cfg, r->st, m, raw_len, clock_now(), &r->rd, &r->ex) != 0)
            return -1;
        r->have_explain = 1;
    } else {
        if (reading_read(r->cfg, m, raw_len, NULL, &r->rd) != 0)
            return -1;
        r->have_reading = 1;
        inspect_why(r, "no database: In-Reply-To, References and [ref] tags were not looked "
                       "up, and the sender is read as one mentord knows nothing of");
    }
    if (r->rd.kind == READING_NO_SENDER) {
        r->kind = &KIND_NO_SENDER;
        inspect_why(r, "%s", r->rd.why[0]);
        return 0;
    }
    if (r->rd.kind == READING_TOO_LARGE) {
        r->kind = &KIND_TOO_LARGE;
        inspect_why(r,
                    "%zu bytes is over [limits] max_message_size (%d): only the headers were "
                    "read; a polite \"too large\" reply would be sent",
                    raw_len, r->cfg->limits.max_message_size);
        return 0;
    }
    r->text = r->rd.text;
    r->sent_along = r->rd.sent_along;
    r->prof = &r->rd.profile;
    r->have_profile = 1;
    r->cmd = r->rd.cmd;
    r->have_command = 1;
    if (r->rd.address_header != NULL)
        inspect_why(r, "%s: %s names the command; the body is not scanned", r->rd.address_header,
                    mail_header(m, r->rd.address_header));
    if (m->in_reply_to && r->st == NULL)
        inspect_why(r,
                    "In-Reply-To <%s>: the daemon ties the reply to its own mail by this "
                    "(not looked up here: the reading assumes a sender it knows nothing of)",
                    m->in_reply_to);
    if (m->subject)
        command_find_ref(m->subject, r->ref);
    if (r->sent_along != NULL)
        inspect_why(r, "the sender wrote nothing of their own: all of the text was quoted or "
                       "forwarded (shown as \"Sent along\"); it is never read for commands, and "
                       "a help answer would say so");
    else if (r->text[0] == '\0')
        inspect_why(r, "the text has nothing the sender wrote (only quotes, a signature or "
                       "nothing); quoted text is never read for commands");
    for (size_t i = 0; i < r->rd.n_why; i++)
        inspect_why(r, "reading: %s", r->rd.why[i]);
    inspect_person_kind(r);
    return 0;
}

static int
inspect_read(struct inspect *r, const char *raw, size_t len)
{
    size_t plen = mail_parse_limit(raw, len, (size_t)r->cfg->limits.max_message_size);

    r->size = len;
    if (mail_parse(raw, plen, &r->m, r->perr, sizeof(r->perr)) != 0) {
        r->m = NULL;
        r->kind = &KIND_UNPARSEABLE;
        inspect_why(r, "cannot parse: %s", r->perr);
        return 0;
    }
    r->ck = classify_mail(r->m, r->cfg->community.address, &r->reason);
    if (r->ck != CLASSIFY_PERSON)
        return inspect_automatic(r, raw, len);
    return inspect_person(r, len);
}

static void
inspect_free(struct inspect *r)
{
    if (r->have_bounce)
        bounce_free(&r->b);
    if (r->have_reading)
        reading_free(&r->rd);
    mail_free(r->m);
}

/* ---- JSON ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static size_t
inspect_utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned int cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A JSON string: quotes, backslashes and control characters escaped, UTF-8 kept. */
static void
inspect_json_str(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;

    if (s == NULL) {
        fputs("null", out);
        return;
    }
    n = strlen(s);
    fputc('"', out);
    while (n > 0) {
        size_t len = inspect_utf8_len(p, n);
        if (len == 0) {
            fputs("\\ufffd", out); /* a stray byte from a broken header */
            len = 1;
        } else if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p == '\n') {
            fputs("\\n", out);
        } else if (*p == '\r') {
            fputs("\\r", out);
        } else if (*p == '\t') {
            fputs("\\t", out);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(out, "\\u%04x", *p);
        } else {
            fwrite(p, 1, len, out);
        }
        p += len;
        n -= len;
    }
    fputc('"', out);
}

static void
inspect_json_key(FILE *out, int *first, const char *key)
{
    fputs(*first ? "" : ",", out);
    *first = 0;
    inspect_json_str(out, key);
    fputc(':', out);
}

static void
inspect_json_list(FILE *out, char *const *v, size_t n)
{
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? "," : "", out);
        inspect_json_str(out, v[i]);
    }
    fputc(']', out);
}

static void
inspect_json_int(FILE *out, int v)
{
    if (v < 0)
        fputs("null", out);
    else
        fprintf(out, "%d", v);
}

static void
inspect_json_command(FILE *out, const struct inspect *r)
{
    const struct command *c = &r->cmd;
    int first = 1;

    fputc('{', out);
    inspect_json_key(out, &first, "name");
    inspect_json_str(out, command_name(c->kind));
    inspect_json_key(out, &first, "source");
    inspect_json_str(out, c->kind == COMMAND_NONE ? NULL
                          : c->from_address       ? "address"
                          : c->from_subject       ? "subject"
                                                  : "body");
    inspect_json_key(out, &first, "number");
    inspect_json_int(out, c->number);
    inspect_json_key(out, &first, "token");
    inspect_json_str(out, c->token[0] ? c->token : NULL);
    fputc('}', out);
}

static void
inspect_json_profile(FILE *out, const struct profile *p)
{
    int first = 1;

    fputc('{', out);
    inspect_json_key(out, &first, "fields");
    fprintf(out, "%zu", p->n_fields);
    inspect_json_key(out, &first, "name");
    inspect_json_str(out, p->name);
    inspect_json_key(out, &first, "skills");
    inspect_json_list(out, p->skills, p->n_skills);
    inspect_json_key(out, &first, "languages");
    inspect_json_list(out, p->languages, p->n_languages);
    inspect_json_key(out, &first, "timezone");
    inspect_json_str(out, p->timezone);
    inspect_json_key(out, &first, "goals");
    inspect_json_list(out, p->goals, p->n_goals);
    inspect_json_key(out, &first, "capacity");
    inspect_json_int(out, p->capacity);
    inspect_json_key(out, &first, "availability");
    inspect_json_int(out, p->availability);
    inspect_json_key(out, &first, "problems");
    fputc('[', out);
    for (size_t i = 0; i < p->n_problems; i++) {
        int f = 1;
        fputs(i ? ",{" : "{", out);
        inspect_json_key(out, &f, "line");
        fprintf(out, "%d", p->problems[i].line);
        inspect_json_key(out, &f, "text");
        inspect_json_str(out, p->problems[i].text);
        inspect_json_key(out, &f, "hint");
        inspect_json_str(out, p->problems[i].hint);
        fputc('}', out);
    }
    fputs("]}", out);
}

static void
inspect_json_bounce(FILE *out, const struct bounce_info *b)
{
    int first = 1;

    fputc('{', out);
    inspect_json_key(out, &first, "severity");
    inspect_json_str(out, bounce_severity_name(b->severity));
    inspect_json_key(out, &first, "recipients");
    inspect_json_list(out, b->recipients, b->n_recipients);
    inspect_json_key(out, &first, "status");
    inspect_json_str(out, b->status[0] ? b->status : NULL);
    inspect_json_key(out, &first, "reply_code");
    inspect_json_int(out, b->reply_code > 0 ? b->reply_code : -1);
    inspect_json_key(out, &first, "diagnostic");
    inspect_json_str(out, b->diagnostic);
    inspect_json_key(out, &first, "original_message_id");
    inspect_json_str(out, b->orig_message_id);
    fputc('}', out);
}

static void
inspect_print_json(const struct inspect *r, FILE *out)
{
    const struct mail *m = r->m;
    int first = 1;

    fputc('{', out);
    inspect_json_key(out, &first, "label");
    inspect_json_str(out, r->label);
    inspect_json_key(out, &first, "kind");
    inspect_json_str(out, r->kind->id);
    inspect_json_key(out, &first, "size");
    fprintf(out, "%zu", r->size);
    inspect_json_key(out, &first, "from");
    inspect_json_str(out, m ? m->from_addr : NULL);
    inspect_json_key(out, &first, "subject");
    inspect_json_str(out, m ? m->subject : NULL);
    inspect_json_key(out, &first, "message_id");
    inspect_json_str(out, m ? m->message_id : NULL);
    inspect_json_key(out, &first, "parts");
    inspect_json_str(out, m ? m->part_types : NULL);
    inspect_json_key(out, &first, "classify");
    inspect_json_str(out, m ? classify_name(r->ck) : NULL);
    inspect_json_key(out, &first, "reason");
    inspect_json_str(out, r->reason);
    if (r->have_reading && r->rd.kind == READING_PERSON) {
        inspect_json_key(out, &first, "intent");
        inspect_json_str(out, reading_intent_name(&r->rd));
        inspect_json_key(out, &first, "confidence");
        fprintf(out, "%d", r->rd.confidence);
        inspect_json_key(out, &first, "rating");
        inspect_json_int(out, r->rd.rating > 0 ? r->rd.rating : -1);
        inspect_json_key(out, &first, "ask");
        inspect_json_str(out, r->rd.ask == READING_ASK_ROLE       ? "role"
                              : r->rd.ask == READING_ASK_PROPOSAL ? "proposal"
                                                                  : NULL);
    }
    if (r->have_command) {
        inspect_json_key(out, &first, "command");
        inspect_json_command(out, r);
        inspect_json_key(out, &first, "ref");
        inspect_json_str(out, r->ref[0] ? r->ref : NULL);
    }
    if (r->have_explain) {
        inspect_json_key(out, &first, "proof");
        inspect_json_str(out, r->ex.proof);
        inspect_json_key(out, &first, "proof_by");
        inspect_json_str(out, r->ex.proof_by[0] ? r->ex.proof_by : NULL);
        inspect_json_key(out, &first, "answers");
        inspect_json_str(out, r->ex.ref[0] ? r->ex.ref : NULL);
        inspect_json_key(out, &first, "would");
        inspect_json_str(out, r->ex.would);
    }
    if (r->have_profile) {
        inspect_json_key(out, &first, "profile");
        inspect_json_profile(out, r->prof);
    }
    if (r->text) {
        inspect_json_key(out, &first, "text");
        inspect_json_str(out, r->text);
    }
    if (r->sent_along) {
        inspect_json_key(out, &first, "sent_along");
        inspect_json_str(out, r->sent_along);
    }
    if (r->have_bounce) {
        inspect_json_key(out, &first, "bounce");
        inspect_json_bounce(out, &r->b);
    }
    inspect_json_key(out, &first, "why");
    fputc('[', out);
    for (size_t i = 0; i < r->n_why; i++) {
        fputs(i ? "," : "", out);
        inspect_json_str(out, r->why[i]);
    }
    fputs("]}\n", out);
}

/* ---- text ---- */

static void
inspect_print_field(FILE *out, const char *name, const char *value)
{
    if (value != NULL && value[0] != '\0')
        fprintf(out, "%-12s %s\n", name, value);
}

/* Each line of s, indented, so where the person's text starts and ends is plain. */
static void
inspect_print_indented(FILE *out, const char *s, const char *indent)
{
    while (*s) {
        size_t n = strcspn(s, "\n");
        fprintf(out, "%s%.*s\n", indent, (int)n, s);
        s += n;
        if (*s == '\n')
            s++;
    }
}

static void
inspect_print_list(FILE *out, const char *name, char *const *v, size_t n)
{
    fprintf(out, "%-12s ", name);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? ", " : "", v[i]);
    fputc('\n', out);
}

static void
inspect_print_bounce(FILE *out, const struct bounce_info *b)
{
    inspect_print_field(out, "Severity:", bounce_severity_name(b->severity));
    if (b->n_recipients > 0)
        inspect_print_list(out, "Failed:", b->recipients, b->n_recipients);
    else
        inspect_print_field(out, "Failed:", "(no recipient named)");
    inspect_print_field(out, "Status:", b->status);
    if (b->reply_code > 0)
        fprintf(out, "%-12s %d\n", "SMTP reply:", b->reply_code);
    inspect_print_field(out, "Diagnostic:", b->diagnostic);
    inspect_print_field(out, "Returned:", b->orig_message_id);
}

static int
inspect_print_profile(FILE *out, const struct profile *p)
{
    if (p->n_fields > 0) {
        char *d = profile_describe(p);
        if (d == NULL)
            return -1;
        fprintf(out, "Profile:     %zu field(s) understood\n", p->n_fields);
        inspect_print_indented(out, d, "  ");
        free(d);
    }
    if (p->n_problems > 0)
        fprintf(out, "Not understood:\n");
    for (size_t i = 0; i < p->n_problems; i++)
        fprintf(out, "  line %d: %s\n    write it as: %s\n", p->problems[i].line,
                p->problems[i].text, p->problems[i].hint);
    return 0;
}

static void
inspect_print_command(FILE *out, const struct inspect *r)
{
    const struct command *c = &r->cmd;

    if (c->kind == COMMAND_NONE) {
        inspect_print_field(out, "Command:", "(none)");
    } else {
        fprintf(out, "%-12s %s (from the %s)", "Command:", command_name(c->kind),
                c->from_address   ? "address"
                : c->from_subject ? "subject"
                                  : "body");
        if (c->number >= 0)
            fprintf(out, ", number %d", c->number);
        if (c->token[0])
            fprintf(out, ", token %s", c->token);
        fputc('\n', out);
    }
    inspect_print_field(out, "Ref tag:", r->ref);
}

/* The sender's proof and what the daemon would do with the change (gate.h). */
static void
inspect_print_proof(FILE *out, const struct inspect *r)
{
    if (r->have_explain) {
        fprintf(out, "%-12s %s%s%s\n", "Proof:", r->ex.proof, r->ex.proof_by[0] ? ": " : "",
                r->ex.proof_by[0] ? r->ex.proof_by : "(a From: header proves nothing)");
        inspect_print_field(out, "Answers:", r->ex.ref);
        inspect_print_field(out, "Would:", r->ex.would);
    } else if (r->m != NULL && r->have_reading && r->rd.kind == READING_PERSON) {
        inspect_print_field(out, "Proof:", "not looked up (no database)");
    }
}

static int
inspect_print_text(const struct inspect *r, FILE *out)
{
    const struct mail *m = r->m;

    fprintf(out, "== %s (%zu bytes)\n", r->label, r->size);
    fprintf(out, "%-12s %s\n", "Kind:", r->kind->words);
    if (m != NULL) {
        inspect_print_field(out, "From:", m->from_addr);
        inspect_print_field(out, "Subject:", m->subject);
        inspect_print_field(out, "Message-ID:", m->message_id);
        inspect_print_field(out, "Parts:", m->part_types);
        fprintf(out, "%-12s %s%s%s\n", "Classified:", classify_name(r->ck), r->reason ? ": " : "",
                r->reason ? r->reason : "");
    }
    if (r->have_bounce)
        inspect_print_bounce(out, &r->b);
    if (r->have_reading && r->rd.kind == READING_PERSON) {
        fprintf(out, "%-12s %s (confidence %d%%)", "Intent:", reading_intent_name(&r->rd),
                r->rd.confidence);
        if (r->rd.rating > 0)
            fprintf(out, ", rating %d", r->rd.rating);
        if (r->rd.pause_weeks > 0)
            fprintf(out, ", %d week(s)", r->rd.pause_weeks);
        fputc('\n', out);
    }
    if (r->have_command)
        inspect_print_command(out, r);
    inspect_print_proof(out, r);
    if (r->have_profile && inspect_print_profile(out, r->prof) != 0)
        return -1;
    if (r->text != NULL) {
        fprintf(out, "Text:%s\n", r->text[0] ? "" : "        (empty)");
        inspect_print_indented(out, r->text, "    ");
    }
    if (r->sent_along != NULL) {
        fprintf(out, "Sent along:  (quoted or forwarded, not read)\n");
        inspect_print_indented(out, r->sent_along, "    ");
    }
    fprintf(out, "Why:\n");
    for (size_t i = 0; i < r->n_why; i++)
        fprintf(out, "  - %s\n", r->why[i]);
    fputc('\n', out);
    return 0;
}

int
inspect_message(const struct config *cfg, struct store *st, const char *raw, size_t len,
                const char *label, int json, FILE *out)
{
    struct inspect *r = calloc(1, sizeof(*r));
    int rc;

    if (r == NULL)
        return -1;
    r->cfg = cfg;
    r->st = st;
    r->label = label;
    rc = inspect_read(r, raw, len);
    if (rc == 0 && json)
        inspect_print_json(r, out);
    else if (rc == 0)
        rc = inspect_print_text(r, out);
    inspect_free(r);
    free(r);
    return rc;
}

/* ---- files and mboxes ---- */

/* Does the line at p (of n bytes) match mboxrd's ">*From " quoting? */
static int
inspect_is_quoted_from(const char *p, size_t n)
{
    size_t i = 0;

    while (i < n && p[i] == '>')
        i++;
    return i > 0 && n - i >= 5 && memcmp(p + i, "From ", 5) == 0;
}

/* One mbox message (its "From " line excluded), with one '>' taken off quoted From lines. */
static int
inspect_mbox_message(const struct config *cfg, struct store *st, const char *p, size_t n,
                     const char *label, int json, FILE *out)
{
    char *msg = malloc(n + 1);
    size_t len = 0;
    int rc;

    if (msg == NULL)
        return -1;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(p + i, '\n', n - i);
        size_t ll = nl ? (size_t)(nl - (p + i)) + 1 : n - i;
        size_t skip = inspect_is_quoted_from(p + i, ll) ? 1 : 0;
        memcpy(msg + len, p + i + skip, ll - skip);
        len += ll - skip;
        i += ll;
    }
    /* The blank line that separates messages belongs to the mbox, not the message. */
    if (len >= 2 && msg[len - 1] == '\n' && msg[len - 2] == '\n')
        len--;
    rc = inspect_message(cfg, st, msg, len, label, json, out);
    free(msg);
    return rc;
}

int
inspect_buffer(const struct config *cfg, struct store *st, const char *buf, size_t len,
               const char *label, int json, FILE *out)
{
    char name[4096];
    size_t start, i, count = 0;

    if (len < 5 || memcmp(buf, "From ", 5) != 0)
        return inspect_message(cfg, st, buf, len, label, json, out);
    for (start = 0; start < len;) {
        /* Skip the "From " separator line, then find the next one. */
        const char *nl = memchr(buf + start, '\n', len - start);
        size_t body = nl ? (size_t)(nl - buf) + 1 : len;
        for (i = body; i < len; i++)
            if (buf[i - 1] == '\n' && len - i >= 5 && memcmp(buf + i, "From ", 5) == 0)
                break;
        snprintf(name, sizeof(name), "%s#%zu", label, ++count);
        if (inspect_mbox_message(cfg, st, buf + body, i - body, name, json, out) != 0)
            return -1;
        start = i;
    }
    return 0;
}

int
inspect_file(const struct config *cfg, struct store *st, const char *path, int json, FILE *out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    int rc;

    if (f == NULL) {
        fprintf(stderr, "mentorctl: inspect: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    do {
        if (cap - len < 65536) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                fprintf(stderr, "mentorctl: inspect: %s: out of memory\n", path);
                free(buf);
                fclose(f);
                return 1;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    if (ferror(f)) {
        fprintf(stderr, "mentorctl: inspect: cannot read %s: %s\n", path, strerror(errno));
        free(buf);
        fclose(f);
        return 1;
    }
    fclose(f);
    rc = inspect_buffer(cfg, st, buf, len, path, json, out);
    free(buf);
    if (rc != 0)
        fprintf(stderr, "mentorctl: inspect: %s: out of memory\n", path);
    return rc == 0 ? 0 : 1;
}
