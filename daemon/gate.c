/*
 * gate: the proof a mail carries and the proof each command needs.
 *
 * Proof comes from our own mail: every message mentord sends has a random
 * Message-ID and, in a conversation, a [ref] given to that recipient alone
 * (outbox.c), so only the mailbox it went to can answer with it.  A change
 * asked for without proof is stored with a fresh token (tokens, action
 * "do:NAME"; pending, the command and the text) and the address is asked to
 * confirm; the reply, threaded to that mail or carrying the token, hands the
 * stored command back to the dispatcher as proven.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "intent.h"
#include "gate.h"
#include "lang.h"
#include "log.h"
#include "outbox.h"
#include "respond.h"
#include "secret.h"

#define DAY (24 * 60 * 60)
/* A stored text longer than this is cut: profile lines fit many times over. */
#define GATE_TEXT_MAX (64 * 1024)
#define GATE_ACTION_PREFIX "do:"
/*
 * Pending changes that are not commands, kept in the same pending row beside
 * the command kinds (enum command_kind stays far below these).
 */
#define GATE_KIND_RATING 1000   /* a check-in answer: number the rating, text the answer */
#define GATE_KIND_LANGUAGE 1001 /* "please write to me in Spanish": text the language code */

/*
 * The profile of the mail is the reading's (not ours to free) until a
 * confirmed change brings back the profile of the mail that asked for it.
 */
static void
gate_drop_profile(struct respond_ctx *c)
{
    if (c->gate_owns_profile)
        profile_free(&c->profile);
    c->gate_owns_profile = 0;
    memset(&c->profile, 0, sizeof(c->profile));
}

/*
 * The proof each command needs is declared in the command table (command.c),
 * with the words its confirmation mail names.  What a claimed mail may do:
 * start a join or a volunteer request (confirmed by its own reply), ask for
 * STATUS or HELP (answered to that address only, about nobody else), or
 * answer a confirmation with its token.  LEAVE has a confirmation of its own
 * that also warns of the erasure.  A mail with no command (profile lines)
 * changes state: it needs proof.
 */
static const struct command_confirm gate_profile_words = {
    "do_profile", "update your profile with the lines of your mail", NULL, NULL, NULL, NULL};

static enum gate_need
gate_need(enum command_kind kind)
{
    const struct command_def *d = command_def_of(kind);

    if (d == NULL)
        return GATE_PROVEN;
    switch (d->proof) {
    case PROOF_NONE:
        return GATE_ANYONE;
    case PROOF_OWN_CONFIRM:
        return GATE_OWN_CONFIRM;
    case PROOF_REQUIRED:
    case PROOF_MANAGER:
        break;
    }
    return GATE_PROVEN;
}

/* ---- the proof a mail carries ---- */

/* Our mail with Message-ID id, sent to the sender: 1 with its conversation in ref. */
static int
gate_ours(struct respond_ctx *c, const char *id, char *ref, size_t len)
{
    char rcpt[320];
    int rc = store_outbox_lookup(c->st, id, rcpt, sizeof(rcpt), ref, len);

    if (rc <= 0)
        return rc;
    /* Mail to somebody else (a forwarded thread, a partner's copy) proves nothing here. */
    return rcpt[0] != '\0' && strcasecmp(rcpt, c->m->from_addr) == 0;
}

static int
gate_threaded(struct respond_ctx *c)
{
    char ref[64];
    int rc;

    if (c->m->in_reply_to && (rc = gate_ours(c, c->m->in_reply_to, ref, sizeof(ref))) != 0) {
        if (rc < 0)
            return -1;
        c->proof = GATE_REPLY;
        snprintf(c->ref, sizeof(c->ref), "%s", ref);
        snprintf(c->proof_by, sizeof(c->proof_by), "In-Reply-To names our mail %.200s to %.80s",
                 c->m->in_reply_to, c->m->from_addr);
        if (ref[0])
            return 0;
    }
    if (c->m->references == NULL)
        return 0;
    char *refs = strdup(c->m->references), *save = NULL;
    if (refs == NULL)
        return -1;
    rc = 0;
    for (char *id = strtok_r(refs, " ", &save); id && rc >= 0; id = strtok_r(NULL, " ", &save)) {
        rc = gate_ours(c, id, ref, sizeof(ref));
        if (rc == 1) {
            c->proof = GATE_REPLY;
            snprintf(c->proof_by, sizeof(c->proof_by), "References names our mail %.200s to %.80s",
                     id, c->m->from_addr);
            if (ref[0])
                snprintf(c->ref, sizeof(c->ref), "%s", ref); /* the newest one wins */
        }
    }
    free(refs);
    return rc < 0 ? -1 : 0;
}

/* "[ref X]" in the Subject: X is the sender's own ref, or a token sent to the sender. */
static int
gate_tagged(struct respond_ctx *c)
{
    char tag[COMMAND_TOKEN_LEN + 1], addr[320], conv[64];
    struct store_token t;

    if (c->m->subject == NULL || !command_find_ref(c->m->subject, tag))
        return 0;
    int rc = store_ref_get(c->st, tag, addr, sizeof(addr), conv, sizeof(conv));
    if (rc < 0)
        return -1;
    if (rc == 1) {
        if (strcasecmp(addr, c->m->from_addr) == 0) {
            c->proof = GATE_REPLY;
            snprintf(c->ref, sizeof(c->ref), "%s", conv);
            snprintf(c->proof_by, sizeof(c->proof_by),
                     "the Subject's [ref %s], given to %.80s alone", tag, addr);
        }
        return 0;
    }
    if ((rc = store_token_get(c->st, tag, &t)) <= 0)
        return rc;
    if (strcasecmp(t.address, c->m->from_addr) == 0) {
        c->proof = GATE_REPLY;
        snprintf(c->ref, sizeof(c->ref), "%s", tag);
        snprintf(c->proof_by, sizeof(c->proof_by),
                 "the Subject's [ref %s], a token sent to %.80s alone", tag, t.address);
    }
    store_token_free(&t);
    return 0;
}

int
gate_prove(struct respond_ctx *c)
{
    c->proof = GATE_CLAIMED;
    c->ref[0] = '\0';
    c->proof_by[0] = '\0';
    if (gate_threaded(c) != 0 || (c->ref[0] == '\0' && gate_tagged(c) != 0)) {
        snprintf(c->detail, c->detail_len, "threading: %s", store_errmsg(c->st));
        return -1;
    }
    if (c->proof == GATE_CLAIMED &&
        auth_dmarc(c->m, c->cfg->digest.trusted_authserv, c->m->from_addr) == AUTH_PASS) {
        c->proof = GATE_DMARC;
        snprintf(c->proof_by, sizeof(c->proof_by),
                 "an aligned DMARC pass in the topmost Authentication-Results of %.100s",
                 c->cfg->digest.trusted_authserv);
    }
    return 0;
}

/* ---- a change confirmed by its reply ---- */

/*
 * A confirmed check-in answer is acted on as the reading of the mail that
 * gave it: a rating for the sender's pair, with the stored text as the
 * comment.  The reading is gate.c's own (gate_release frees it).
 */
static int
gate_rating_reading(struct respond_ctx *c, int rating)
{
    struct reading *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return -1;
    r->kind = READING_PERSON;
    r->intent = INTENT_RATING;
    r->confidence = 100;
    r->rating = rating;
    r->rating_how = "confirmed";
    r->capacity = -1;
    r->cmd.number = -1;
    c->gate_reading = r;
    c->reading = r;
    return 0;
}

/* Does tok name an open pending change of the sender's?  1, 0, -1 (no side effects). */
static int
gate_pending_open(struct respond_ctx *c, const char *tok)
{
    struct store_token t;
    int found = store_token_get(c->st, tok, &t);

    if (found <= 0)
        return found;
    int mine = strncmp(t.action, GATE_ACTION_PREFIX, strlen(GATE_ACTION_PREFIX)) == 0 &&
               strcasecmp(t.address, c->m->from_addr) == 0 && t.closed == 0 && t.expires > c->now;
    store_token_free(&t);
    return mine;
}

/*
 * tok names a pending change for the sender: take it over (cmd, text,
 * profile) and return 0; 1 when tok is no such thing (the caller goes on).
 */
static int
gate_pending(struct respond_ctx *c, const char *tok, struct command *cmd)
{
    struct store_pending p;
    int found = gate_pending_open(c, tok);

    if (found <= 0)
        return found < 0 ? -1 : 1; /* membership_confirm answers a used, expired or foreign one */
    if ((found = store_pending_take(c->st, tok, &p)) <= 0)
        return found < 0 ? -1 : 1;
    if (store_token_close(c->st, tok, c->now, "confirmed") < 0) {
        store_pending_free(&p);
        return -1;
    }
    memset(cmd, 0, sizeof(*cmd));
    if (p.kind == GATE_KIND_LANGUAGE) {
        int ok = p.text && lang_has_templates(c->cfg->templates.dir, p.text);
        if (ok) {
            snprintf(c->lang_asked, sizeof(c->lang_asked), "%s", p.text);
            snprintf(c->lang_seen, sizeof(c->lang_seen), "%s", p.text);
        }
        store_pending_free(&p);
        c->proof = GATE_REPLY;
        c->ref[0] = '\0';
        if (!ok)
            return 1; /* no texts in it any more: read the reply as itself */
        log_ctx(LOG_LEVEL_INFO, c->m->message_id, c->m->from_addr,
                "confirmed the language %s asked for earlier", c->lang_asked);
        return respond_event(c, "change-confirmed", "language") != 0 ? -1 : 2;
    }
    int rating = p.kind == GATE_KIND_RATING;
    cmd->kind = rating ? COMMAND_NONE : (enum command_kind)p.kind;
    cmd->number = rating ? -1 : p.number;
    gate_release(c);
    if (rating && gate_rating_reading(c, p.number) != 0) {
        store_pending_free(&p);
        snprintf(c->detail, c->detail_len, "out of memory reading a confirmed rating");
        return -1;
    }
    c->gate_text = p.text ? p.text : strdup("");
    p.text = NULL;
    store_pending_free(&p);
    gate_drop_profile(c);
    c->gate_owns_profile = 1; /* profile_parse fills it, or leaves it empty */
    if (c->gate_text == NULL || profile_parse(c->gate_text, &c->profile) != 0) {
        snprintf(c->detail, c->detail_len, "out of memory reading a confirmed change");
        return -1;
    }
    c->text = c->gate_text;
    c->ref[0] = '\0'; /* the token was the conversation; the change picks its own */
    c->proof = GATE_REPLY;
    if (c->gate_reading != NULL)
        c->gate_reading->text = c->gate_text;
    const char *what = rating ? "rating" : command_name(cmd->kind);
    log_ctx(LOG_LEVEL_INFO, c->m->message_id, c->m->from_addr, "confirmed %s asked for earlier",
            what);
    return respond_event(c, "change-confirmed", what);
}

/* ---- asking a claimed mail's address to confirm ---- */

/* What cmd would change, in the words of the language the confirmation is written in. */
static int
gate_words(struct respond_ctx *c, const struct command *cmd, char *buf, size_t len)
{
    const struct command_def *d = command_def_of(cmd->kind);
    const struct command_confirm *r = d != NULL ? &d->confirm : &gate_profile_words;
    char code[LANG_CODE_MAX], n[16];

    if (outbox_language(c->cfg, c->st, c->m->from_addr, c->lang_seen[0] ? c->lang_seen : NULL, c->m,
                        code) != 0)
        return -1;
    const struct lang *l = lang_get(c->cfg->templates.dir, code);
    int one = cmd->number > 0 && lang_plural(l, cmd->number) == 0;
    const char *key = r->key, *english = r->words;
    if (r->words_n && cmd->number > 0) {
        key = one ? r->key_n1 : r->key_n;
        english = one ? r->words_n1 : r->words_n;
    }
    if (english == NULL) {
        snprintf(buf, len, "%s", command_name(cmd->kind));
        return 0;
    }
    snprintf(n, sizeof(n), "%d", cmd->number);
    return lang_phrase_into(buf, len, l, key, english, "n", n, NULL);
}

/*
 * Keep a change (kind: a command kind or GATE_KIND_*, with its number and the
 * text it needs later) under a fresh token and ask the sender to confirm it:
 * "Reply to this mail to confirm: WORDS".  Returns 1 (handled) or -1.
 */
static int
gate_ask_kind(struct respond_ctx *c, int kind, int number, const char *keep, const char *name,
              const char *words)
{
    char token[SECRET_TOKEN_LEN + 1], action[64], days[16];
    int expiry = c->cfg->programme.confirm_expiry > 0 ? c->cfg->programme.confirm_expiry : 3 * DAY;
    size_t tlen = keep ? strlen(keep) : 0;
    char *text = NULL;

    if (secret_token(token, SECRET_TOKEN_LEN) != 0) {
        snprintf(c->detail, c->detail_len, "cannot draw a random token");
        return -1;
    }
    if (tlen > 0 && (text = strndup(keep, tlen < GATE_TEXT_MAX ? tlen : GATE_TEXT_MAX)) == NULL) {
        snprintf(c->detail, c->detail_len, "out of memory keeping a change to confirm");
        return -1;
    }
    snprintf(action, sizeof(action), GATE_ACTION_PREFIX "%s", name);
    snprintf(days, sizeof(days), "%d", expiry / DAY > 0 ? expiry / DAY : 1);
    int rc = store_token_add(c->st, token, c->m->from_addr, action, NULL, c->now, c->now + expiry);
    if (rc == 0)
        rc = store_pending_add(c->st, token, c->m->from_addr, kind, number, text, c->now);
    free(text);
    if (rc != 0) {
        snprintf(c->detail, c->detail_len, "storing a change to confirm: %s", store_errmsg(c->st));
        return -1;
    }
    snprintf(c->detail, c->detail_len, "%s from a mail that proves nothing; asked to confirm",
             name);
    struct template_var v[] = {{"action", words}, {"token", token}, {"days", days}};
    if (respond_event(c, "confirm-asked", action) != 0 ||
        respond_reply(c, "confirm-action", v, 3, "confirm", token) != 0)
        return -1;
    return 1;
}

static int
gate_ask(struct respond_ctx *c, const struct command *cmd)
{
    char words[256];

    if (gate_words(c, cmd, words, sizeof(words)) != 0) {
        snprintf(c->detail, c->detail_len, "naming a change to confirm: %s", store_errmsg(c->st));
        return -1;
    }
    return gate_ask_kind(c, (int)cmd->kind, cmd->number, cmd->kind == COMMAND_NONE ? c->text : NULL,
                         command_name(cmd->kind), words);
}

/* A phrase of the language the confirmation is written in, into buf; 0 or -1. */
static int
gate_phrase(struct respond_ctx *c, const char *key, const char *english, const char *n,
            const char *name, const char *language, char *buf, size_t len)
{
    char code[LANG_CODE_MAX];

    if (outbox_language(c->cfg, c->st, c->m->from_addr, c->lang_seen[0] ? c->lang_seen : NULL, c->m,
                        code) != 0)
        return -1;
    const struct lang *l = lang_get(c->cfg->templates.dir, code);
    return lang_phrase_into(buf, len, l, key, english, "n", n, "name", name ? name : "", "language",
                            language ? language : "", NULL);
}

/*
 * A check-in answer in a new mail that proves nothing: a forged rating
 * would reach the managers' alerts and the mentor's record, so it waits
 * for the member's reply.  0 when the sender has no pairing to rate (the
 * mail is read on as help), 1 when asked, -1 on error.
 */
static int
gate_ask_rating(struct respond_ctx *c)
{
    struct store_member other;
    struct store_pair *v = NULL;
    size_t n = 0;
    char rating[16], first[64] = "", words[256];

    const struct store_member *me;
    int found = respond_member(c, &me);
    if (found <= 0)
        return found;
    int64_t id = me->id;
    if (store_pair_list(c->st, id, "active", &v, &n) != 0)
        return -1;
    if (n == 1) {
        int64_t partner = v[0].mentor == id ? v[0].newcomer : v[0].mentor;
        if (partner > 0 && store_pair_member(c->st, partner, &other) == 1) {
            if (other.name && other.name[0])
                snprintf(first, sizeof(first), "%.*s", (int)strcspn(other.name, " "), other.name);
            store_member_free(&other);
        }
    }
    store_pairs_free(v, n);
    if (n == 0)
        return 0;
    snprintf(rating, sizeof(rating), "%d", c->reading->rating);
    int rc = first[0] ? gate_phrase(c, "do_rating_for", "rating {n} for your pairing with {name}",
                                    rating, first, NULL, words, sizeof(words))
                      : gate_phrase(c, "do_rating", "rating {n} for your check-in answer", rating,
                                    NULL, NULL, words, sizeof(words));
    if (rc != 0) {
        snprintf(c->detail, c->detail_len, "naming a rating to confirm");
        return -1;
    }
    return gate_ask_kind(c, GATE_KIND_RATING, c->reading->rating, c->text, "rating", words);
}

int
gate_claimed_member(struct respond_ctx *c)
{
    if (c->proof != GATE_CLAIMED)
        return 0;
    return respond_confirmed(c);
}

int
gate_ask_language(struct respond_ctx *c)
{
    char words[256];
    const struct lang *l = lang_get(c->cfg->templates.dir, c->lang_asked);

    if (gate_phrase(c, "do_language", "write to you in {language} from now on", "", NULL,
                    l ? lang_native_name(l) : c->lang_asked, words, sizeof(words)) != 0) {
        snprintf(c->detail, c->detail_len, "naming a language change to confirm");
        return -1;
    }
    return gate_ask_kind(c, GATE_KIND_LANGUAGE, -1, c->lang_asked, "language", words) == 1 ? 0 : -1;
}

/*
 * A repeated JOIN or MENTOR for an address that confirmed nothing: its
 * confirmation mail is sent again at most once a day (forged requests must
 * not turn mentord into a mail cannon aimed at one stranger).
 */
static int
gate_repeated_request(struct respond_ctx *c)
{
    const struct store_token *t;
    int open = respond_open_token(c, &t);

    if (open <= 0)
        return open;
    int own = strncmp(t->action, GATE_ACTION_PREFIX, strlen(GATE_ACTION_PREFIX)) != 0;
    if (!own)
        return 0;
    int sent = store_outbox_recent(c->st, c->m->from_addr, "confirm", c->now - DAY);
    if (sent <= 0)
        return sent;
    snprintf(c->detail, c->detail_len, "confirmation already sent today; recorded, not sent again");
    log_ctx(LOG_LEVEL_INFO, c->m->message_id, c->m->from_addr, "%s", c->detail);
    return respond_event(c, "request-repeated", NULL) != 0 ? -1 : 1;
}

/* The sender's active pairs (a rating is for one of them): their number, or -1. */
static int
gate_active_pairs(struct respond_ctx *c)
{
    const struct store_member *me;
    struct store_pair *v = NULL;
    size_t n = 0;
    int found = respond_member(c, &me);

    if (found <= 0)
        return found;
    if (store_pair_list(c->st, me->id, "active", &v, &n) != 0)
        return -1;
    store_pairs_free(v, n);
    return (int)n;
}

static const char *
gate_confirm_token(const struct respond_ctx *c, const struct command *cmd)
{
    return c->proof == GATE_REPLY && c->ref[0]             ? c->ref
           : cmd->kind == COMMAND_CONFIRM && cmd->token[0] ? cmd->token
                                                           : NULL;
}

/*
 * What the gate does with cmd, decided from the store without changing it:
 * gate_check carries the plan out, and `mentorctl inspect` names it
 * (gate_describe), so the two never disagree.
 */
static enum gate_plan
gate_plan(struct respond_ctx *c, const struct command *cmd, int use_token)
{
    const char *tok = use_token ? gate_confirm_token(c, cmd) : NULL;
    int rc;

    if (tok && (rc = gate_pending_open(c, tok)) != 0)
        return rc < 0 ? GATE_PLAN_ERROR : GATE_PLAN_PENDING;
    enum gate_need need = gate_need(cmd->kind);
    if (c->proof != GATE_CLAIMED)
        return GATE_PLAN_ACTS;
    if (need == GATE_ANYONE)
        return GATE_PLAN_ANSWERS;
    int confirmed = respond_confirmed(c);
    if (confirmed < 0)
        return GATE_PLAN_ERROR;
    if (!confirmed && cmd->kind == COMMAND_NONE)
        return GATE_PLAN_NO_CHANGE; /* profile lines from a stranger: never taken, never echoed */
    if (need == GATE_OWN_CONFIRM)
        return confirmed ? GATE_PLAN_NO_CHANGE : GATE_PLAN_OWN_REQUEST;
    /* A check-in answer; profile lines with numbers in them are a profile change. */
    if (cmd->kind == COMMAND_NONE && c->profile.n_fields == 0 && c->reading != NULL &&
        c->reading->intent == INTENT_RATING && c->reading->rating > 0) {
        if ((rc = gate_active_pairs(c)) != 0)
            return rc < 0 ? GATE_PLAN_ERROR : GATE_PLAN_ASK_RATING;
    }
    if (cmd->kind == COMMAND_NONE && c->profile.n_fields == 0)
        return GATE_PLAN_NO_CHANGE; /* help; lines not understood are not quoted back */
    const struct store_member *mem;
    int found = respond_member(c, &mem);
    if (found < 0)
        return GATE_PLAN_ERROR;
    if (found == 0)
        return GATE_PLAN_STRANGER; /* the handler answers, and changes nothing */
    return GATE_PLAN_ASK;
}

int
gate_check(struct respond_ctx *c, struct command *cmd)
{
    const char *tok = gate_confirm_token(c, cmd);
    enum gate_plan plan = gate_plan(c, cmd, 1);
    int rc;

    if (plan == GATE_PLAN_PENDING) {
        rc = gate_pending(c, tok, cmd);
        if (rc != 1)
            return rc; /* 0 a confirmed change to dispatch, 2 a confirmed language, -1 */
        plan = gate_plan(c, cmd, 0); /* taken meanwhile: the mail is read as itself */
    }
    switch (plan) {
    case GATE_PLAN_ERROR:
        return -1;
    case GATE_PLAN_PENDING:
        return -1; /* not without a token */
    case GATE_PLAN_ACTS:
    case GATE_PLAN_ANSWERS:
    case GATE_PLAN_STRANGER:
        return 0;
    case GATE_PLAN_NO_CHANGE:
        /* Claimed profile lines are never taken: from a member they wait for proof. */
        gate_drop_profile(c);
        return 0;
    case GATE_PLAN_OWN_REQUEST:
        return cmd->kind == COMMAND_LEAVE ? 0 : gate_repeated_request(c);
    case GATE_PLAN_ASK_RATING:
        rc = gate_ask_rating(c);
        return rc == 0 ? (gate_drop_profile(c), 0) : rc;
    case GATE_PLAN_ASK:
        return gate_ask(c, cmd);
    }
    return -1;
}

const char *
gate_describe(struct respond_ctx *c, const struct command *cmd)
{
    switch (gate_plan(c, cmd, 1)) {
    case GATE_PLAN_ERROR:
        return NULL;
    case GATE_PLAN_PENDING:
        return "confirms a change this address asked for earlier: that change acts now";
    case GATE_PLAN_ACTS:
        return "acts now (the sender is proven)";
    case GATE_PLAN_ANSWERS:
        return "answered to this address only; changes nothing";
    case GATE_PLAN_NO_CHANGE:
        return "changes nothing (the sender is only claimed): help or a short answer";
    case GATE_PLAN_OWN_REQUEST:
        return "starts a request that its own confirmation mail to this address completes";
    case GATE_PLAN_ASK_RATING:
    case GATE_PLAN_ASK:
        return "changes nothing yet: a \"Reply to this mail to confirm\" mail goes to this "
               "address, and the reply to it acts";
    case GATE_PLAN_STRANGER:
        return "from an address mentord does not know: answered, changes nothing";
    }
    return NULL;
}

void
gate_release(struct respond_ctx *c)
{
    if (c->gate_owns_profile)
        profile_free(&c->profile);
    c->gate_owns_profile = 0;
    free(c->gate_text);
    c->gate_text = NULL;
    free(c->gate_reading); /* its text was gate_text */
    c->gate_reading = NULL;
}
