/*
 * outbox: render, compose and queue one message inside the caller's
 * transaction.  The message exists in the outbox exactly when the decision
 * that caused it is committed; smtp.c sends it later, as often as needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "log.h"
#include "outbox.h"
#include "secret.h"

#define HOUR (60 * 60)
#define DAY (24 * HOUR)

/* community_*, to_name and the caller's variables, in one array. */
#define OUTBOX_MAX_VARS 64

/* to_name is NULL for an address that confirmed nothing: its display name is anybody's word. */
static size_t
outbox_vars(const struct config *cfg, const struct outbox_mail *om, const char *to_name,
            const char *ref, struct template_var *vars)
{
    size_t n = 0;

    vars[n++] = (struct template_var){"community_name", cfg->community.name};
    vars[n++] = (struct template_var){"community_address", cfg->community.address};
    vars[n++] = (struct template_var){"to_name", to_name};
    vars[n++] = (struct template_var){"to_address", om->to_addr};
    for (size_t i = 0; i < om->nvars && n < OUTBOX_MAX_VARS; i++)
        vars[n++] = om->vars[i];
    /* The recipient sees a ref of their own, never the conversation's (outbox_trust). */
    for (size_t i = 0; ref && i < n; i++)
        if (strcmp(vars[i].name, "ref") == 0)
            vars[i].value = ref;
    return n;
}

/* ---- trust: who the mail goes to, and what proves a reply or a bounce ---- */

struct outbox_trust {
    int stranger;                    /* the recipient has confirmed nothing */
    char ref[SECRET_TOKEN_LEN + 1];  /* their own [ref] for the conversation, "" when none */
    char verp[SECRET_TOKEN_LEN + 1]; /* the envelope sender's tag, "" without plus-addressing */
    char sender[400];                /* the envelope sender */
    time_t at;                       /* when it may go: now, or later under the cap */
};

static int
outbox_is_stranger(const struct config *cfg, struct store *st, const char *addr)
{
    if (config_is_manager(cfg, addr))
        return 0;
    int confirmed = store_address_confirmed(st, addr);
    return confirmed < 0 ? -1 : !confirmed;
}

/*
 * The hour (and day) in which mail to an address that confirmed nothing may
 * go: the first from `at` whose count of such mail is under [limits]
 * stranger_per_hour (and stranger_per_day).  Mail beyond waits; nothing is lost.
 */
static time_t
outbox_stranger_slot(const struct config *cfg, struct store *st, time_t at)
{
    if (cfg->limits.stranger_per_hour <= 0 || cfg->limits.stranger_per_day <= 0)
        return at; /* no cap configured (a zeroed config, never one loaded from a file) */
    for (int i = 0; i < 24 * 366; i++) {
        time_t hour = at - at % HOUR, day = at - at % DAY;
        int h = store_stranger_planned(st, hour, hour + HOUR);
        int d = store_stranger_planned(st, day, day + DAY);
        if (h < 0 || d < 0)
            return -1;
        if (d >= cfg->limits.stranger_per_day)
            at = day + DAY;
        else if (h >= cfg->limits.stranger_per_hour)
            at = hour + HOUR;
        else
            return at;
    }
    return at;
}

/* local+b-TAG@domain of the envelope sender: a bounce names the very mail it is about. */
static int
outbox_verp(const struct config *cfg, struct outbox_trust *t)
{
    const char *base = cfg->smtp.from ? cfg->smtp.from : cfg->community.address;
    const char *at = base ? strrchr(base, '@') : NULL;

    t->sender[0] = '\0';
    if (!cfg->programme.plus_addressing || at == NULL) {
        t->verp[0] = '\0';
        return 0;
    }
    if (secret_token(t->verp, SECRET_TOKEN_LEN) != 0)
        return -1;
    snprintf(t->sender, sizeof(t->sender), "%.*s+b-%s%s", (int)(at - base), base, t->verp, at);
    return 0;
}

static int
outbox_trust(const struct config *cfg, struct store *st, const struct outbox_mail *om, time_t now,
             struct outbox_trust *t, char *err, size_t errlen)
{
    const char *kind = om->kind ? om->kind : "reply";

    memset(t, 0, sizeof(*t));
    t->at = now;
    if ((t->stranger = outbox_is_stranger(cfg, st, om->to_addr)) < 0)
        goto fail;
    if (t->stranger && (t->at = outbox_stranger_slot(cfg, st, now)) < 0)
        goto fail;
    /* A confirmation held back by the cap stays open as long as if it had gone now. */
    if (t->at > now && strcmp(kind, "confirm") == 0 && om->ref &&
        store_token_extend(st, om->ref, t->at) != 0)
        goto fail;
    /* A token is its own ref (bound to one address); any other conversation gets one per person. */
    if (om->ref && strcmp(kind, "confirm") != 0 &&
        store_ref_for(st, om->to_addr, om->ref, now, t->ref, sizeof(t->ref)) != 0)
        goto fail;
    if (outbox_verp(cfg, t) != 0) {
        snprintf(err, errlen, "cannot draw a random envelope tag");
        return -1;
    }
    return 0;
fail:
    snprintf(err, errlen, "queueing %s for %s: %s", om->template_name, om->to_addr,
             store_errmsg(st));
    return -1;
}

/*
 * List-Unsubscribe points at the community address with LEAVE in the subject:
 * the same command a person could type, so one code path handles both.
 */
static char *
outbox_unsubscribe_uri(const struct config *cfg)
{
    char *uri = NULL;

    if (asprintf(&uri, "mailto:%s?subject=leave", cfg->community.address) < 0)
        return NULL;
    return uri;
}

int
outbox_queue(const struct config *cfg, struct store *st, const struct outbox_mail *om, time_t now,
             char *err, size_t errlen)
{
    struct template_var vars[OUTBOX_MAX_VARS];
    struct outbox_trust t;
    char *subject = NULL, *body = NULL, *headers = NULL, *text = NULL, *msgid = NULL;
    char *unsub = NULL;
    int rc = -1;

    if (outbox_trust(cfg, st, om, now, &t, err, errlen) != 0)
        return -1;
    const char *to_name = t.stranger ? NULL : om->to_name;
    size_t nvars = outbox_vars(cfg, om, to_name, t.ref[0] ? t.ref : NULL, vars);
    if (template_render(cfg->templates.dir, om->template_name, vars, nvars, &subject, &body, err,
                        errlen) != 0)
        goto out;
    if ((unsub = outbox_unsubscribe_uri(cfg)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }

    struct compose_msg msg = {
        .from_name = cfg->community.name,
        .from_addr = cfg->community.address,
        .to_name = to_name,
        .to_addr = om->to_addr,
        .subject = subject,
        .body = body,
        .html = om->html,
        .in_reply_to = om->in_reply_to ? om->in_reply_to->message_id : NULL,
        .references = om->in_reply_to ? om->in_reply_to->references : NULL,
        .auto_submitted = om->in_reply_to ? "auto-replied" : "auto-generated",
        .list_id = cfg->community.list_id,
        .list_unsubscribe = unsub,
        .msgid_domain = config_domain(cfg),
        .date = t.at,
    };
    if (compose_message(&msg, &headers, &text, &msgid, err, errlen) != 0)
        goto out;
    int64_t id = 0;
    if (store_outbox_add(st, om->to_addr, t.sender[0] ? t.sender : cfg->smtp.from, msgid, headers,
                         text, t.at, &id) != 0 ||
        store_outbox_tag(st, id, om->kind ? om->kind : "reply", om->ref) != 0 ||
        store_outbox_set_trust(st, id, t.verp[0] ? t.verp : NULL, t.stranger) != 0 ||
        (om->erase_after && store_outbox_erase_after(st, id) != 0)) {
        snprintf(err, errlen, "queueing %s for %s: %s", om->template_name, om->to_addr,
                 store_errmsg(st));
        goto out;
    }
    if (t.at > now)
        log_ctx(LOG_LEVEL_INFO, msgid, om->to_addr,
                "%s held back %ld s: the cap on mail to unconfirmed addresses is reached",
                om->template_name, (long)(t.at - now));
    log_ctx(LOG_LEVEL_DEBUG, msgid, om->to_addr, "queued %s", om->template_name);
    rc = 0;
out:
    free(subject);
    free(body);
    free(headers);
    free(text);
    free(msgid);
    free(unsub);
    return rc;
}
