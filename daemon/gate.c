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
        }
        return 0;
    }
    if ((rc = store_token_get(c->st, tag, &t)) <= 0)
        return rc;
    if (strcasecmp(t.address, c->m->from_addr) == 0) {
        c->proof = GATE_REPLY;
        snprintf(c->ref, sizeof(c->ref), "%s", tag);
    }
    store_token_free(&t);
    return 0;
}

int
gate_prove(struct respond_ctx *c)
{
    c->proof = GATE_CLAIMED;
    c->ref[0] = '\0';
    if (gate_threaded(c) != 0 || (c->ref[0] == '\0' && gate_tagged(c) != 0)) {
        snprintf(c->detail, c->detail_len, "threading: %s", store_errmsg(c->st));
        return -1;
    }
    if (c->proof == GATE_CLAIMED &&
        auth_dmarc(c->m, c->cfg->digest.trusted_authserv, c->m->from_addr) == AUTH_PASS)
        c->proof = GATE_DMARC;
    return 0;
}

/* ---- a change confirmed by its reply ---- */

/*
 * tok names a pending change for the sender: take it over (cmd, text,
 * profile) and return 0; 1 when tok is no such thing (the caller goes on).
 */
static int
gate_pending(struct respond_ctx *c, const char *tok, struct command *cmd)
{
    struct store_token t;
    struct store_pending p;
    int found = store_token_get(c->st, tok, &t);

    if (found <= 0)
        return found < 0 ? -1 : 1;
    int mine = strncmp(t.action, GATE_ACTION_PREFIX, strlen(GATE_ACTION_PREFIX)) == 0 &&
               strcasecmp(t.address, c->m->from_addr) == 0 && t.closed == 0 && t.expires > c->now;
    store_token_free(&t);
    if (!mine)
        return 1; /* membership_confirm answers a used, expired or foreign token */
    if ((found = store_pending_take(c->st, tok, &p)) <= 0)
        return found < 0 ? -1 : 1;
    if (store_token_close(c->st, tok, c->now, "confirmed") < 0) {
        store_pending_free(&p);
        return -1;
    }
    memset(cmd, 0, sizeof(*cmd));
    cmd->kind = (enum command_kind)p.kind;
    cmd->number = p.number;
    gate_release(c);
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
    log_ctx(LOG_LEVEL_INFO, c->m->message_id, c->m->from_addr, "confirmed %s asked for earlier",
            command_name(cmd->kind));
    return respond_event(c, "change-confirmed", command_name(cmd->kind));
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
    char *text = lang_phrase_fill(l, key, english, "n", n, NULL);
    if (text == NULL)
        return -1;
    snprintf(buf, len, "%s", text);
    free(text);
    return 0;
}

static int
gate_ask(struct respond_ctx *c, const struct command *cmd)
{
    char token[SECRET_TOKEN_LEN + 1], action[64], words[256], days[16];
    int expiry = c->cfg->programme.confirm_expiry > 0 ? c->cfg->programme.confirm_expiry : 3 * DAY;
    size_t tlen = c->text ? strlen(c->text) : 0;
    char *text = NULL;

    if (secret_token(token, SECRET_TOKEN_LEN) != 0) {
        snprintf(c->detail, c->detail_len, "cannot draw a random token");
        return -1;
    }
    if (cmd->kind == COMMAND_NONE && tlen > 0 &&
        (text = strndup(c->text, tlen < GATE_TEXT_MAX ? tlen : GATE_TEXT_MAX)) == NULL) {
        snprintf(c->detail, c->detail_len, "out of memory keeping a change to confirm");
        return -1;
    }
    snprintf(action, sizeof(action), GATE_ACTION_PREFIX "%s", command_name(cmd->kind));
    snprintf(days, sizeof(days), "%d", expiry / DAY > 0 ? expiry / DAY : 1);
    if (gate_words(c, cmd, words, sizeof(words)) != 0) {
        snprintf(c->detail, c->detail_len, "naming a change to confirm: %s", store_errmsg(c->st));
        return -1;
    }
    int rc = store_token_add(c->st, token, c->m->from_addr, action, NULL, c->now, c->now + expiry);
    if (rc == 0)
        rc = store_pending_add(c->st, token, c->m->from_addr, (int)cmd->kind, cmd->number, text,
                               c->now);
    free(text);
    if (rc != 0) {
        snprintf(c->detail, c->detail_len, "storing a change to confirm: %s", store_errmsg(c->st));
        return -1;
    }
    snprintf(c->detail, c->detail_len, "%s from a mail that proves nothing; asked to confirm",
             command_name(cmd->kind));
    struct template_var v[] = {{"action", words}, {"token", token}, {"days", days}};
    if (respond_event(c, "confirm-asked", action) != 0 ||
        respond_reply(c, "confirm-action", v, 3, "confirm", token) != 0)
        return -1;
    return 1;
}

/*
 * A repeated JOIN or MENTOR for an address that confirmed nothing: its
 * confirmation mail is sent again at most once a day (forged requests must
 * not turn mentord into a mail cannon aimed at one stranger).
 */
static int
gate_repeated_request(struct respond_ctx *c)
{
    struct store_token t;
    int open = store_token_open_for(c->st, c->m->from_addr, c->now, &t);

    if (open <= 0)
        return open;
    int own = strncmp(t.action, GATE_ACTION_PREFIX, strlen(GATE_ACTION_PREFIX)) != 0;
    store_token_free(&t);
    if (!own)
        return 0;
    int sent = store_outbox_recent(c->st, c->m->from_addr, "confirm", c->now - DAY);
    if (sent <= 0)
        return sent;
    snprintf(c->detail, c->detail_len, "confirmation already sent today; recorded, not sent again");
    log_ctx(LOG_LEVEL_INFO, c->m->message_id, c->m->from_addr, "%s", c->detail);
    return respond_event(c, "request-repeated", NULL) != 0 ? -1 : 1;
}

int
gate_check(struct respond_ctx *c, struct command *cmd)
{
    const char *tok = c->proof == GATE_REPLY && c->ref[0]             ? c->ref
                      : cmd->kind == COMMAND_CONFIRM && cmd->token[0] ? cmd->token
                                                                      : NULL;
    int rc;

    if (tok && (rc = gate_pending(c, tok, cmd)) != 1)
        return rc;
    enum gate_need need = gate_need(cmd->kind);
    if (c->proof != GATE_CLAIMED || need == GATE_ANYONE)
        return 0;
    int confirmed = store_address_confirmed(c->st, c->m->from_addr);
    if (confirmed < 0)
        return -1;
    if (!confirmed && cmd->kind == COMMAND_NONE) {
        /* Profile lines from an address that confirmed nothing: never taken, never echoed. */
        gate_drop_profile(c);
        return 0;
    }
    if (need == GATE_OWN_CONFIRM) {
        if (confirmed) {
            /* A member's claimed JOIN changes nothing: profile lines with it wait for proof. */
            gate_drop_profile(c);
            return 0;
        }
        return cmd->kind == COMMAND_LEAVE ? 0 : gate_repeated_request(c);
    }
    if (cmd->kind == COMMAND_NONE && c->profile.n_fields == 0) {
        /* Nothing changes: help.  Lines not understood are not quoted back to claimed mail. */
        gate_drop_profile(c);
        return 0;
    }
    struct store_member mem;
    int found = store_member_get(c->st, c->m->from_addr, &mem);
    if (found <= 0)
        return found; /* a stranger: the handler answers, and changes nothing */
    store_member_free(&mem);
    return gate_ask(c, cmd);
}

void
gate_release(struct respond_ctx *c)
{
    if (c->gate_owns_profile)
        profile_free(&c->profile);
    c->gate_owns_profile = 0;
    free(c->gate_text);
    c->gate_text = NULL;
}
