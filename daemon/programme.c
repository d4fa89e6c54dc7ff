/*
 * programme: what an incoming mail means for the mentorship programme.
 *
 * Reads a parsed mail, changes the store and queues answers, all inside the
 * caller's transaction; it never talks to a server.  Automatic mail is only
 * recorded: answering a robot is how mail loops start.  This file holds the
 * dispatch (a command to the handler its row of command_table.h names; the
 * handlers answer through respond.h and never call back here), threading,
 * the reply budget and automatic mail.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce.h"
#include "classify.h"
#include "compose.h"
#include "filecache.h"
#include "lang.h"
#include "gate.h"
#include "log.h"
#include "outbox.h"
#include "programme.h"
#include "managers.h"
#include "membership.h"
#include "pairing.h"
#include "respond.h"
#include "reading.h"
#include "reply.h"

#define DAY (24 * 60 * 60)

/* ---- automatic mail ---- */

static int
programme_notify_managers(struct respond_ctx *c, const char *template_name,
                          const struct template_var *vars, size_t nvars)
{
    char err[512];

    for (size_t i = 0; i < c->cfg->community.n_managers; i++) {
        struct outbox_mail om = {
            .to_addr = c->cfg->community.managers[i],
            .template_name = template_name,
            .vars = vars,
            .nvars = nvars,
            .kind = "notice",
        };
        if (outbox_queue(c->cfg, c->st, &om, c->now, err, sizeof(err)) != 0) {
            snprintf(c->detail, c->detail_len, "cannot tell the managers: %s", err);
            return -1;
        }
    }
    return 0;
}

static double
programme_bounce_score(enum bounce_severity s)
{
    /* Policy rejections and complaints say nothing about whether the address works. */
    return s == BOUNCE_PERMANENT ? 1.0 : s == BOUNCE_TEMPORARY ? 0.5 : 0.0;
}

/* One failed recipient: record, score at most once a day, maybe mark undeliverable. */
static int
programme_bounced(struct respond_ctx *c, const struct bounce_info *b, const char *addr)
{
    struct store_member mem;
    double score = programme_bounce_score(b->severity);
    int found = store_member_get(c->st, addr, &mem);
    int was_undeliverable = 0, undeliverable = 0;

    if (found < 0)
        return -1;
    if (found) {
        if (mem.last_bounce > c->now - DAY)
            score = 0; /* a burst of bounces on one day counts once */
        was_undeliverable = mem.undeliverable;
        store_member_free(&mem);
    }
    if (store_bounce_add(c->st, c->now, addr, bounce_severity_name(b->severity), b->status,
                         b->diagnostic, score) != 0)
        return -1;
    /*
     * A confirmation that bounced can never be answered: it is discarded.  A
     * delay warning (or a report that nothing failed) is not a bounce: the
     * confirmation may still arrive and be answered.
     */
    if (b->severity != BOUNCE_DELAYED && b->severity != BOUNCE_NONE &&
        store_token_close_address(c->st, addr, c->now, "bounced") < 0)
        return -1;
    if (!found || score == 0)
        return 0;
    if (store_member_bounce(c->st, addr, score, c->now, c->cfg->programme.bounce_threshold,
                            &undeliverable) < 0)
        return -1;
    if (!undeliverable || was_undeliverable)
        return 0;
    log_ctx(LOG_LEVEL_WARN, c->m->message_id, addr, "address marked undeliverable (%s %s)",
            bounce_severity_name(b->severity), b->status);
    struct template_var v[] = {{"member", addr},
                               {"status", b->status[0] ? b->status : NULL},
                               {"diagnostic", b->diagnostic}};
    if (store_event_add(c->st, c->now, "undeliverable", addr, c->m->message_id, b->status) != 0)
        return -1;
    return programme_notify_managers(c, "undeliverable", v, 3);
}

/*
 * Which address of ours a bounce is about, proven: the VERP tag of the
 * envelope sender it was returned to (mentors+b-TAG@..., outbox.c), else the
 * Message-ID of our mail it quotes.  Both are secrets only the bouncing
 * server saw.  1 with rcpt (and *by_verp) set, 0 when nothing proves it.
 */
static int
programme_bounce_proof(struct respond_ctx *c, const struct bounce_info *b, char *rcpt, size_t len,
                       int *by_verp)
{
    static const char *const headers[] = {"Delivered-To", "X-Original-To", "To"};
    const char *base = c->cfg->smtp.from ? c->cfg->smtp.from : c->cfg->community.address;
    char detail[64], msgid[256];

    *by_verp = 0;
    for (size_t i = 0; base && i < sizeof(headers) / sizeof(headers[0]); i++) {
        const char *v = mail_header(c->m, headers[i]);
        for (const char *p = v ? strchr(v, '+') : NULL; p; p = strchr(p + 1, '+')) {
            if (!reading_plus_detail(base, v, p, detail, sizeof(detail)) ||
                strncasecmp(detail, "b-", 2) != 0)
                continue;
            int rc = store_outbox_by_verp(c->st, detail + 2, rcpt, len, msgid, sizeof(msgid));
            if (rc != 0) {
                *by_verp = rc == 1;
                return rc < 0 ? -1 : rcpt[0] != '\0';
            }
        }
    }
    if (b->orig_message_id == NULL)
        return 0;
    int rc = store_outbox_lookup(c->st, b->orig_message_id, rcpt, len, NULL, 0);
    return rc < 0 ? -1 : rc == 1 && rcpt[0] != '\0';
}

/* A bounce nothing proves is ours: recorded without a score, changing nothing. */
static int
programme_bounce_unverified(struct respond_ctx *c, const struct bounce_info *b)
{
    for (size_t i = 0; i < b->n_recipients; i++)
        if (store_bounce_add(c->st, c->now, b->recipients[i], "unverified", b->status,
                             b->diagnostic, 0) != 0)
            return -1;
    log_ctx(LOG_LEVEL_INFO, c->m->message_id, NULL,
            "bounce names no mail of ours: recorded as unverified, no score");
    return store_event_add(c->st, c->now, "bounce-unverified", NULL, c->m->message_id, NULL);
}

static int
programme_bounce(struct respond_ctx *c, const char *raw, size_t raw_len)
{
    struct bounce_info b;
    char rcpt[320] = "";
    int rc = 0, by_verp = 0;

    if (bounce_parse(c->m, raw, raw_len, &b) != 0) {
        snprintf(c->detail, c->detail_len, "cannot read the bounce: out of memory");
        return -1;
    }
    int proven = programme_bounce_proof(c, &b, rcpt, sizeof(rcpt), &by_verp);
    int listed = b.n_recipients == 0 || by_verp;
    for (size_t i = 0; proven == 1 && !listed && i < b.n_recipients; i++)
        listed = strcasecmp(b.recipients[i], rcpt) == 0;
    if (proven < 0)
        rc = -1;
    else if (proven == 1 && listed)
        rc = programme_bounced(c, &b, rcpt); /* only the recipient of our mail counts */
    else
        rc = programme_bounce_unverified(c, &b);
    snprintf(c->detail, c->detail_len, "bounce: %s %s%s%s%s", bounce_severity_name(b.severity),
             b.status, rcpt[0] || b.n_recipients ? " for " : "",
             proven == 1 && listed ? rcpt
             : b.n_recipients      ? b.recipients[0]
                                   : "",
             proven == 1 && listed ? (by_verp ? " (envelope tag)" : " (our Message-ID)")
                                   : " (unverified)");
    bounce_free(&b);
    return rc;
}

/* An out-of-office reply from a member holds reminders to them back for a while. */
static int
programme_away(struct respond_ctx *c)
{
    if (c->m->from_addr == NULL || c->cfg->programme.away_pause == 0)
        return 0;
    int found =
        store_member_set_away(c->st, c->m->from_addr, c->now + c->cfg->programme.away_pause);
    if (found < 0)
        return -1;
    if (found)
        log_ctx(LOG_LEVEL_INFO, c->m->message_id, c->m->from_addr,
                "away: reminders held back for %d days", c->cfg->programme.away_pause / DAY);
    return 0;
}

static int
programme_automatic(struct respond_ctx *c, enum classify_kind kind, const char *reason,
                    const char *raw, size_t raw_len)
{
    int rc = 0;

    if (kind == CLASSIFY_BOUNCE)
        rc = programme_bounce(c, raw, raw_len);
    else if (kind == CLASSIFY_AUTO_REPLY)
        rc = programme_away(c);
    if (rc != 0)
        return -1;
    if (kind != CLASSIFY_BOUNCE)
        snprintf(c->detail, c->detail_len, "%s: %s", classify_name(kind), reason ? reason : "");
    log_ctx(LOG_LEVEL_INFO, c->m->message_id, c->m->from_addr, "not answered, %s", c->detail);
    return respond_event(c, classify_name(kind), reason);
}

/* ---- people ---- */

/*
 * The reply budget: a person gets at most replies_per_hour and
 * replies_per_day answers.  Beyond it their mail is recorded, not answered,
 * which also ends a loop with an auto-responder that slipped through.
 */
static int
programme_over_budget(struct respond_ctx *c)
{
    int hour = 0, day = 0;

    if (store_outbox_answers(c->st, c->m->from_addr, c->now - DAY, c->now - 3600, &day, &hour) != 0)
        return -1;
    return hour >= c->cfg->limits.replies_per_hour || day >= c->cfg->limits.replies_per_day;
}

static int
programme_help(struct respond_ctx *c, int not_understood)
{
    char code[LANG_CODE_MAX];
    char *commands = NULL;

    /* The command list in the language the help mail is written in. */
    if (outbox_language(c->cfg, c->st, c->m->from_addr, c->lang_seen[0] ? c->lang_seen : NULL, c->m,
                        code) != 0)
        return -1;
    commands = command_help_list(lang_get(c->cfg->templates.dir, code));
    struct template_var v[] = {{"not_understood", not_understood ? "yes" : NULL},
                               {"only_quoted", not_understood && c->only_quoted ? "yes" : NULL},
                               {"commands", commands}};

    snprintf(c->detail, c->detail_len, "%s",
             !not_understood  ? "help"
             : c->only_quoted ? "not understood (only quoted or forwarded text); sent help"
                              : "not understood; sent help");
    if (commands == NULL ||
        (not_understood && respond_event(c, "not-understood", c->m->subject) != 0)) {
        free(commands);
        return -1;
    }
    int rc = respond_reply(c, "help", v, 3, "reply", NULL);
    free(commands);
    return rc;
}

/* Returns -1 on error, 0 when handled, 1 when the token is not a confirmation. */
static int
programme_try_confirm(struct respond_ctx *c, const char *token)
{
    return token && token[0] ? membership_confirm(c, token) : 1;
}

/* CONFIRM [TOKEN]: the token given, else the conversation's; a bad one is told so. */
static int
programme_confirm(struct respond_ctx *c, const struct command *cmd)
{
    int rc = programme_try_confirm(c, cmd->token[0] ? cmd->token : c->ref);
    return rc == 1 ? membership_confirm(c, "") : rc;
}

static int
programme_help_command(struct respond_ctx *c, const struct command *cmd)
{
    (void)cmd;
    return programme_help(c, 0);
}

/* ACCEPT, DECLINE, DONE, REMATCH: about a pairing, or told there is none. */
static int
programme_pair_command(struct respond_ctx *c, const struct command *cmd)
{
    int rc = pairing_mail(c, cmd);
    return rc == 1 ? membership_no_pairing(c, command_name(cmd->kind)) : rc;
}

/* Each member command's handler, bound by its row of command_table.h. */
static int (*const programme_handlers[])(struct respond_ctx *, const struct command *) = {
#define COMMAND_MEMBER(KIND, NUMBER, NAME, USAGE, ARGS, PROOF, HANDLER, HELP, CONFIRMS)            \
    [COMMAND_##KIND] = HANDLER,
#define COMMAND_MANAGER(...)
#include "command_table.h"
#undef COMMAND_MEMBER
#undef COMMAND_MANAGER
};

static int
programme_command(struct respond_ctx *c, const struct command *cmd)
{
    int rc;

    /* Detail: at info the reading's line names the command and the inbox's line the outcome. */
    log_ctx(LOG_LEVEL_DEBUG, c->m->message_id, c->m->from_addr, "command %s (%s)%s%s",
            command_name(cmd->kind),
            cmd->from_address   ? "address"
            : cmd->from_subject ? "subject"
                                : "body",
            c->ref[0] ? ", answers ref " : "", c->ref);
    if (cmd->kind > COMMAND_NONE &&
        (size_t)cmd->kind < sizeof programme_handlers / sizeof programme_handlers[0] &&
        programme_handlers[cmd->kind] != NULL)
        return programme_handlers[cmd->kind](c, cmd);
    /*
     * No command: a reply to a confirmation confirms; a reply to a proposal or
     * check-in is about the pairing; profile lines update the profile.
     */
    rc = c->reading != NULL && c->reading->refuses_confirm ? 1 : programme_try_confirm(c, c->ref);
    if (rc == 1)
        rc = pairing_mail(c, cmd);
    if (rc != 1)
        return rc;
    if (c->profile.n_fields > 0 || c->profile.n_problems > 0) {
        rc = membership_profile_update(c);
        if (rc != 1)
            return rc;
    }
    return programme_help(c, 1);
}

static int
programme_too_large(struct respond_ctx *c, size_t raw_len)
{
    char size[64], limit[64], code[LANG_CODE_MAX];
    struct template_var v[] = {{"size", size}, {"limit", limit}};

    /* the sizes in the words and decimal sign of the answer's language */
    if (outbox_language(c->cfg, c->st, c->m->from_addr, c->lang_seen[0] ? c->lang_seen : NULL, c->m,
                        code) != 0) {
        snprintf(c->detail, c->detail_len, "the language of %s: %s", c->m->from_addr,
                 store_errmsg(c->st));
        return -1;
    }
    const struct lang *l = lang_get(c->cfg->templates.dir, code);
    lang_format_size(l, raw_len, size, sizeof(size));
    lang_format_size(l, (size_t)c->cfg->limits.max_message_size, limit, sizeof(limit));
    /* the log and the event in English, as every other */
    char log_size[64], log_limit[64];
    lang_format_size(NULL, raw_len, log_size, sizeof(log_size));
    lang_format_size(NULL, (size_t)c->cfg->limits.max_message_size, log_limit, sizeof(log_limit));
    snprintf(c->detail, c->detail_len, "too large (%s, limit %s); not read", log_size, log_limit);
    if (respond_event(c, "too-large", log_size) != 0)
        return -1;
    return respond_reply(c, "too-large", v, 2, "reply", NULL);
}

/* A "Language:" line chooses too: the first language listed that has texts. */
static void
programme_language_line(struct respond_ctx *c)
{
    const char *dirs = c->cfg->templates.dir;

    for (size_t i = 0; !c->lang_asked[0] && i < c->profile.n_languages; i++)
        if (lang_from_name(dirs, c->profile.languages[i], c->lang_asked) != 0 ||
            !lang_has_templates(dirs, c->lang_asked))
            c->lang_asked[0] = '\0';
}

/*
 * The language of what the person wrote (their own words first, then with
 * the subject, which in a reply may be ours), and any language they asked
 * to be written to in.
 */
static void
programme_read_language(struct respond_ctx *c)
{
    const char *dirs = c->cfg->templates.dir;
    char *both = NULL;

    if (asprintf(&both, "%s\n%s", c->m->subject ? c->m->subject : "", c->text) < 0)
        both = NULL;
    if (lang_requested(dirs, both ? both : c->text, c->lang_asked) != 0)
        c->lang_asked[0] = '\0';
    programme_language_line(c);
    if (c->lang_asked[0])
        snprintf(c->lang_seen, sizeof(c->lang_seen), "%s", c->lang_asked);
    else if (lang_detect(dirs, c->text, c->lang_seen) != 0 &&
             (both == NULL || lang_detect(dirs, both, c->lang_seen) != 0))
        c->lang_seen[0] = '\0';
    free(both);
}

/* "Please write to me in Spanish" and nothing else: say so, in Spanish. */
static int
programme_language(struct respond_ctx *c)
{
    const struct lang *l = lang_get(c->cfg->templates.dir, c->lang_asked);
    int member = store_member_set_language(c->st, c->m->from_addr, c->lang_asked, NULL);
    struct template_var v[] = {
        {"language", l ? lang_native_name(l) : c->lang_asked},
        {"is_member", member > 0 ? "yes" : NULL},
        {"no_texts", lang_has_templates(c->cfg->templates.dir, c->lang_asked) ? NULL : "yes"}};

    if (member < 0)
        return -1;
    snprintf(c->detail, c->detail_len, "asked to be written to in %s", c->lang_asked);
    if (respond_event(c, "language", c->lang_asked) != 0)
        return -1;
    return respond_reply(c, "language", v, 3, "reply", NULL);
}

/* The stored value stays as it is when v is NULL (the UPDATE's coalesce) or equal. */
static int
programme_same_language(const char *stored, const char *v)
{
    return v == NULL || (stored != NULL && strcmp(stored, v) == 0);
}

/* Remember the language the member asked for, and the one they wrote in. */
static int
programme_note_language(struct respond_ctx *c)
{
    const char *asked = c->lang_asked[0] ? c->lang_asked : NULL;
    const char *seen = c->lang_seen[0] ? c->lang_seen : NULL;
    const struct store_member *row;

    if (asked == NULL && seen == NULL)
        return 0;
    if (respond_lang_noted(c))
        return 0; /* written with the member upsert (membership.c) */
    /* The row read for this mail, still the store's, already says so (or there is none): no UPDATE.
     */
    if (respond_member_current(c, &row) &&
        (row == NULL || (programme_same_language(row->language, asked) &&
                         programme_same_language(row->language_seen, seen))))
        return 0;
    if (store_member_set_language(c->st, c->m->from_addr, asked, seen) < 0) {
        snprintf(c->detail, c->detail_len, "recording the language: %s", store_errmsg(c->st));
        return -1;
    }
    return 0;
}

/* Act on the reading: ask when unsure, else the command it settled on. */
static int
programme_act(struct respond_ctx *c, const struct reading *r)
{
    struct command cmd = r->cmd;
    int rc;

    if (r->ask == READING_ASK_ROLE)
        return membership_ask_role(c); /* a question to the address, which changes nothing */
    /* ---- trust: may this mail do what it asks? (gate.h) ---- */
    rc = gate_check(c, &cmd);
    if (rc == 2)
        return programme_language(c); /* a language asked for earlier, now confirmed */
    if (rc != 0)
        return rc == 1 ? 0 : rc; /* 1: a confirmation was asked, or a repeat recorded */
    if (c->gate_text != NULL && c->profile.n_languages > 0) {
        /* A confirmed profile change: a "Language:" line in it chooses the language too. */
        c->lang_asked[0] = '\0';
        programme_language_line(c);
        if (c->lang_asked[0])
            snprintf(c->lang_seen, sizeof(c->lang_seen), "%s", c->lang_asked);
        if (programme_note_language(c) != 0)
            return -1;
    }
    /* c->reading: for a confirmed rating, the reading of the mail that gave it (gate.c) */
    r = c->reading;
    if (r->intent == INTENT_RATING && (cmd.kind == r->cmd.kind || c->gate_reading != NULL)) {
        rc = pairing_mail(c, &cmd);
        return rc == 1 ? programme_command(c, &cmd) : rc;
    }
    return programme_command(c, &cmd);
}

static int
programme_person(struct respond_ctx *c, const struct reading *r, struct programme_result *res)
{

    /* The sender's proof (gate_prove, before reading): the budget counts claimed mail only. */
    int over = programme_over_budget(c);
    if (over < 0)
        return -1;
    c->quiet = over && c->proof != GATE_CLAIMED;
    if (over && !c->quiet) {
        res->outcome = "over-budget";
        snprintf(c->detail, c->detail_len, "reply budget used up; recorded, not answered");
        log_ctx(LOG_LEVEL_WARN, c->m->message_id, c->m->from_addr, "%s", c->detail);
        return respond_event(c, "flood", NULL);
    }
    res->outcome = "answered";
    if (c->quiet) {
        /* Proven mail over the budget still acts (a genuine CONFIRM is never lost), unanswered. */
        res->outcome = "over-budget";
        log_ctx(LOG_LEVEL_WARN, c->m->message_id, c->m->from_addr,
                "reply budget used up; a proven mail acts, unanswered");
        if (respond_event(c, "flood", "proven") != 0)
            return -1;
    }
    if (r->kind == READING_TOO_LARGE) {
        res->outcome = "too-large";
        return programme_too_large(c, c->size);
    }
    if (config_is_manager(c->cfg, c->m->from_addr)) {
        int mrc = managers_mail(c); /* managers.c: 1 when not a manager command */
        if (mrc != 1) {
            res->checkpoint = c->erase_checkpoint; /* REMOVE erased a member, not the sender */
            return mrc;
        }
    }
    log_ctx(LOG_LEVEL_INFO, c->m->message_id, c->m->from_addr, "reading: %s (%d%%): %s",
            reading_intent_name(r), r->confidence, r->n_why ? r->why[r->n_why - 1] : "");
    programme_read_language(c);
    /* A member's claimed mail changes nothing of theirs, the language included (gate.h). */
    int held = gate_claimed_member(c);
    if (held < 0) {
        snprintf(c->detail, c->detail_len, "looking up the sender: %s", store_errmsg(c->st));
        return -1;
    }
    /*
     * Before the answer, so it is already written in the language chosen now.
     * Not for a sender who had no member row when the mail was read: nothing
     * since (the reading, the budget, the gate) has written one, so the
     * UPDATE would change nothing; the one after the answer records it.  A
     * manager's mail went through managers.c first, so it is not skipped.
     */
    int fresh = c->sender_row == 0 && !config_is_manager(c->cfg, c->m->from_addr);
    int rc = held || fresh ? 0 : programme_note_language(c);
    int language_only =
        c->lang_asked[0] && c->profile.n_fields == 0 &&
        (r->intent == INTENT_NONE || r->intent == INTENT_HELP || r->intent == INTENT_QUESTION);
    if (rc == 0)
        rc = !language_only ? programme_act(c, r)
             : held         ? gate_ask_language(c)
                            : programme_language(c);
    if (rc == 0 && !held)
        rc = programme_note_language(c);
    res->checkpoint = c->erase_checkpoint;
    res->anonymous = c->erase_checkpoint;
    return rc;
}

/* Count the sender's pairs in state where they are the mentor (mentor_only) or either side. */
static int
programme_count_pairs(struct respond_ctx *c, int64_t me, const char *state, int mentor_only)
{
    struct store_pair *v = NULL;
    size_t n = 0;
    int count = 0;

    if (store_pair_list(c->st, me, state, &v, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        count += v[i].mentor == me || (!mentor_only && v[i].newcomer == me);
    store_pairs_free(v, n);
    return count;
}

/*
 * What the reading needs to know of the sender's open conversations, from
 * the store.  The sender's row and open token are kept in c (respond_member):
 * the gate, the handler and the answer use them again until something writes.
 */
static int
programme_context(struct respond_ctx *c, struct reading_context *ctx)
{
    const struct store_member *me;
    const struct store_token *t;
    struct store_pair p;

    memset(ctx, 0, sizeof(*ctx));
    ctx->known = 1;
    ctx->now = c->now;
    if (c->m->from_addr == NULL || !compose_address_ok(c->m->from_addr))
        return 0;
    ctx->manager = config_is_manager(c->cfg, c->m->from_addr);
    int found = respond_member(c, &me);
    c->sender_row = found;
    int tok = found < 0 ? -1 : respond_open_token(c, &t);
    if (found < 0 || tok < 0)
        return -1;
    if (tok == 1) {
        ctx->pending_confirm = 1;
        ctx->pending_role = strcmp(t->action, "role") == 0;
        ctx->answers_confirm = c->ref[0] && strcmp(c->ref, t->token) == 0;
    }
    if (found == 0)
        return 0;
    int64_t id = me->id;
    ctx->member = strcmp(me->state, "pending") != 0;
    ctx->paused = strcmp(me->state, "paused") == 0;
    if (c->ref[0]) {
        int pf = store_pair_by_ref(c->st, c->ref, &p);
        if (pf < 0)
            return -1;
        if (pf == 1) {
            ctx->answers_proposal = strcmp(p.state, "proposed") == 0 && p.mentor == id;
            ctx->answers_checkin =
                (strcmp(p.state, "active") == 0 || strcmp(p.state, "ended") == 0) &&
                (p.mentor == id || p.newcomer == id);
            store_pair_free(&p);
        }
    }
    ctx->open_proposals = programme_count_pairs(c, id, "proposed", 1);
    ctx->open_pairs = programme_count_pairs(c, id, "active", 0);
    return ctx->open_proposals < 0 || ctx->open_pairs < 0 ? -1 : 0;
}

int
programme_handle_mail(const struct config *cfg, struct store *st, const struct mail *m,
                      const char *raw, size_t raw_len, size_t size, time_t now,
                      struct programme_result *res)
{
    return programme_handle_read(cfg, st, m, raw, raw_len, size, now, NULL, res);
}

/* One mail, c set up: prove, read, act (programme_handle_read). */
static int
programme_handle(struct respond_ctx *c, const char *raw, size_t raw_len,
                 const struct programme_reader *reader, struct programme_result *res)
{
    struct reading_context ctx;
    struct reading r;
    int rc;

    if (gate_prove(c) != 0 || programme_context(c, &ctx) != 0) {
        snprintf(res->detail, sizeof(res->detail), "reading the sender's conversations: %s",
                 store_errmsg(c->st));
        return -1;
    }
    /* The reading itself is pure: here, or in the isolated reader (reader.h). */
    if (reader != NULL ? reader->read(reader->arg, &ctx, &r) != 0
                       : reading_read(c->cfg, c->m, c->size, &ctx, &r) != 0) {
        snprintf(res->detail, sizeof(res->detail), "%s",
                 reader != NULL ? "the reader could not read the mail"
                                : "out of memory reading the mail");
        return -1;
    }
    snprintf(res->intent, sizeof(res->intent), "%s",
             r.kind == READING_PERSON ? reading_intent_name(&r) : "");
    if (r.kind == READING_AUTOMATIC) {
        res->outcome = "recorded";
        rc = programme_automatic(c, r.classified, r.class_reason, raw, raw_len);
    } else if (r.kind == READING_NO_SENDER) {
        res->outcome = "ignored";
        snprintf(res->detail, sizeof(res->detail), "no usable sender address");
        log_ctx(LOG_LEVEL_WARN, c->m->message_id, c->m->from_addr, "not answered: %s", res->detail);
        rc = respond_event(c, "no-sender", NULL);
    } else {
        /* Text sent along (quoted or forwarded) is someone else's: never read, only named. */
        c->only_quoted = r.sent_along != NULL;
        c->text = r.text ? r.text : "";
        c->profile = r.profile;
        c->reading = &r;
        rc = programme_person(c, &r, res);
    }
    gate_release(c);
    reading_free(&r);
    return rc;
}

/* programme_handle with the sender's kept rows freed, whatever it returned. */
static int
programme_handle_once(struct respond_ctx *c, const char *raw, size_t raw_len,
                      const struct programme_reader *reader, struct programme_result *res)
{
    int rc = programme_handle(c, raw, raw_len, reader, res);

    respond_forget(c);
    return rc;
}

/* One mail's context, as the daemon's steps and programme_explain both begin it. */
static void
programme_ctx_init(struct respond_ctx *c, const struct config *cfg, struct store *st,
                   const struct mail *m, time_t now, size_t size, char *detail, size_t detail_len)
{
    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    c->st = st;
    c->m = m;
    c->now = now;
    c->size = size;
    c->detail = detail;
    c->detail_len = detail_len;
    c->sender_row = -1; /* unknown until programme_context reads it */
}

int
programme_handle_read(const struct config *cfg, struct store *st, const struct mail *m,
                      const char *raw, size_t raw_len, size_t size, time_t now,
                      const struct programme_reader *reader, struct programme_result *res)
{
    struct respond_ctx c;

    memset(res, 0, sizeof(*res));
    programme_ctx_init(&c, cfg, st, m, now, size, res->detail, sizeof(res->detail));
    /* The sender's rows as read ahead, when nothing wrote them since (respond.h). */
    if (reader != NULL && reader->kept != NULL)
        respond_take(&c, reader->kept);
    /* Each mail text looked at once per mail: an answer names its own and help.txt more. */
    filecache_hold(1);
    int rc = programme_handle_once(&c, raw, raw_len, reader, res);
    filecache_hold(0);
    return rc;
}

int
programme_read_context(const struct config *cfg, struct store *st, const struct mail *m,
                       size_t size, time_t now, struct reading_context *ctx,
                       struct respond_kept *keep)
{
    struct respond_ctx c;
    struct store_stamp at;
    char detail[512] = "";

    programme_ctx_init(&c, cfg, st, m, now, size, detail, sizeof(detail));
    /*
     * The stamp before the reads: the mail's turn reads the sender's row and
     * open token again only when something may have written them since
     * (respond_take).  A join read them twice, 13k instructions of 404k.
     */
    int stamped = keep != NULL && store_stamp_take(st, m->from_addr, &at) == 0;
    int rc = gate_prove(&c) != 0 || programme_context(&c, ctx) != 0 ? -1 : 0;
    if (rc == 0 && stamped)
        respond_keep(&c, &at, keep);
    gate_release(&c);
    respond_forget(&c);
    return rc;
}

/* programme_explain with c set up. */
static int
programme_explain_steps(struct respond_ctx *c, struct reading *r, struct programme_explain *out)
{
    struct reading_context ctx;

    /* The daemon's steps (programme_handle_read), with nothing carried out. */
    if (gate_prove(c) != 0 || programme_context(c, &ctx) != 0 ||
        reading_read(c->cfg, c->m, c->size, &ctx, r) != 0)
        return -1;
    out->proof = c->proof == GATE_REPLY ? "reply" : c->proof == GATE_DMARC ? "dmarc" : "claimed";
    snprintf(out->proof_by, sizeof(out->proof_by), "%s", c->proof_by);
    snprintf(out->ref, sizeof(out->ref), "%s", c->ref);
    if (r->kind != READING_PERSON || r->intent == INTENT_MANAGER || r->ask == READING_ASK_ROLE)
        return 0; /* recorded only, a manager's (managers.c checks), or a question back */
    struct command cmd = r->cmd;
    c->text = r->text ? r->text : "";
    c->profile = r->profile;
    c->reading = r;
    out->would = gate_describe(c, &cmd);
    return out->would != NULL ? 0 : -1;
}

int
programme_explain(const struct config *cfg, struct store *st, const struct mail *m, size_t size,
                  time_t now, struct reading *r, struct programme_explain *out)
{
    struct respond_ctx c;
    char detail[512] = "";

    memset(out, 0, sizeof(*out));
    memset(r, 0, sizeof(*r)); /* reading_free is safe whatever fails */
    programme_ctx_init(&c, cfg, st, m, now, size, detail, sizeof(detail));
    int rc = programme_explain_steps(&c, r, out);
    respond_forget(&c);
    return rc;
}

int
programme_housekeeping(const struct config *cfg, struct store *st, time_t now)
{
    char **stale = NULL;
    size_t n = 0;
    int changes = store_token_expire(st, now);

    (void)cfg;
    if (changes < 0 || store_member_stale_pending(st, &stale, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        /* Nobody confirmed this address: keep nothing of it. */
        if (store_member_erase(st, stale[i]) != 0) {
            store_strings_free(stale, n);
            return -1;
        }
        log_ctx(LOG_LEVEL_INFO, NULL, stale[i], "unconfirmed request expired; erased");
    }
    store_strings_free(stale, n);
    return changes + (int)n;
}
