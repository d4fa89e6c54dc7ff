/*
 * outbox: render, compose and queue one message inside the caller's
 * transaction.  The message exists in the outbox exactly when the decision
 * that caused it is committed; smtp.c sends it later, as often as needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compose.h"
#include "lang.h"
#include "log.h"
#include "outbox.h"
#include "profile.h"
#include "secret.h"

#define HOUR (60 * 60)
#define DAY (24 * HOUR)

/* The mail for the community's managers: written in [templates] managers_language. */
static const char *const manager_templates[] = {"digest", "manager-alert", "manager-confirm",
                                                "manager-done", "undeliverable"};

static int
outbox_for_managers(const char *template_name)
{
    for (size_t i = 0; i < sizeof(manager_templates) / sizeof(manager_templates[0]); i++)
        if (strcmp(manager_templates[i], template_name) == 0)
            return 1;
    return 0;
}

/*
 * The community's language, and the managers' ([templates]).  A language
 * without texts there (one only recognised, or a typing error) would leave
 * mail without a text: English, which ships complete, stands in.
 */
static const char *
outbox_default_language(const struct config *cfg)
{
    const char *l = cfg->templates.language;
    return l != NULL && lang_has_templates(cfg->templates.dir, l) ? l : "en";
}

const char *
outbox_managers_language(const struct config *cfg)
{
    const char *l = cfg->templates.managers_language;
    return l != NULL && lang_has_templates(cfg->templates.dir, l) ? l
                                                                  : outbox_default_language(cfg);
}

/* Take code (a code or a language's name) when it names a language with templates. */
static int
outbox_try(const struct config *cfg, const char *code, char out[LANG_CODE_MAX])
{
    char c[LANG_CODE_MAX];
    if (code == NULL || code[0] == '\0' || lang_from_name(cfg->templates.dir, code, c) != 0 ||
        !lang_has_templates(cfg->templates.dir, c))
        return 0;
    memcpy(out, c, LANG_CODE_MAX);
    return 1;
}

/* The first language of a Content-Language header ("es-ES, en") with templates. */
static int
outbox_try_header(const struct config *cfg, const struct mail *m, char out[LANG_CODE_MAX])
{
    const char *v = m ? mail_header(m, "Content-Language") : NULL;
    char one[LANG_CODE_MAX];
    while (v != NULL && *v) {
        v += strspn(v, " \t,");
        size_t n = strcspn(v, " \t,;");
        if (n > 0 && n < sizeof(one)) {
            memcpy(one, v, n);
            one[n] = '\0';
            if (outbox_try(cfg, one, out))
                return 1;
        }
        v += n;
        v += strcspn(v, ",");
    }
    return 0;
}

/*
 * What the outbox knows of a recipient, looked up once per mail: their member
 * row and the profile in it (the languages they listed, the name they gave).
 * The profile is parsed at its first use (outbox_who_profile): an answer in
 * the language the row names, to an address that confirmed nothing (no
 * greeting), never needs it, and parsing it was about 17k instructions.
 */
struct outbox_who {
    int found;
    const struct store_member *mem; /* own, or the caller's row */
    struct store_member own;
    int parsed;       /* the profile was looked at: */
    int have_profile; /* ... and p holds it */
    struct profile p;
};

/*
 * known: the caller's row for address (NULL: no member row), when
 * known_given; else it is read.  0 (w->found 0 for an address that is no
 * member), or -1 on a store error.
 */
static int
outbox_who_get(struct store *st, const char *address, int known_given,
               const struct store_member *known, struct outbox_who *w)
{
    memset(w, 0, sizeof(*w));
    if (known_given) {
        w->found = known != NULL;
        w->mem = known;
    } else {
        w->found = address ? store_member_get(st, address, &w->own) : 0;
        if (w->found < 0)
            return -1;
        w->mem = w->found ? &w->own : NULL;
    }
    return 0;
}

/* 1 when the recipient's row holds a profile, parsed into w->p; 0 otherwise. */
static int
outbox_who_profile(struct outbox_who *w)
{
    if (!w->parsed) {
        w->parsed = 1;
        w->have_profile =
            w->found && profile_parse(w->mem->profile ? w->mem->profile : "", &w->p) == 0;
    }
    return w->have_profile;
}

static void
outbox_who_free(struct outbox_who *w)
{
    if (w->have_profile)
        profile_free(&w->p);
    if (w->found > 0 && w->mem == &w->own)
        store_member_free(&w->own);
    memset(w, 0, sizeof(*w));
}

/* The address has confirmed, by the row read. */
static int
outbox_who_confirmed(const struct outbox_who *w)
{
    return w->found && store_member_confirmed(w->mem);
}

/* outbox_language for a recipient already looked up. */
static void
outbox_language_of(const struct config *cfg, struct outbox_who *w, const char *seen,
                   const struct mail *in_reply_to, char code[LANG_CODE_MAX])
{
    int done = w->found && outbox_try(cfg, w->mem->language, code);

    for (size_t i = 0; !done && outbox_who_profile(w) && i < w->p.n_languages; i++)
        done = outbox_try(cfg, w->p.languages[i], code);
    if (!done)
        done = outbox_try(cfg, seen, code);
    if (!done && w->found)
        done = outbox_try(cfg, w->mem->language_seen, code);
    if (!done)
        done = outbox_try_header(cfg, in_reply_to, code);
    if (!done)
        snprintf(code, LANG_CODE_MAX, "%s", outbox_default_language(cfg));
}

int
outbox_language(const struct config *cfg, struct store *st, const char *address, const char *seen,
                const struct mail *in_reply_to, char code[LANG_CODE_MAX])
{
    struct outbox_who w;

    if (outbox_who_get(st, address, 0, NULL, &w) != 0)
        return -1;
    outbox_language_of(cfg, &w, seen, in_reply_to, code);
    outbox_who_free(&w);
    return 0;
}

static int
outbox_add_code(char (*codes)[LANG_CODE_MAX], int n, int max, const char *code)
{
    for (int i = 0; i < n; i++)
        if (strcmp(codes[i], code) == 0)
            return n;
    if (n < max)
        snprintf(codes[n++], LANG_CODE_MAX, "%s", code);
    return n;
}

int
outbox_languages_read(const struct config *cfg, struct store *st, const char *address,
                      char (*codes)[LANG_CODE_MAX], int max)
{
    char first[LANG_CODE_MAX], c[LANG_CODE_MAX];
    struct outbox_who w;
    int n = 0;

    if (max <= 0 || outbox_who_get(st, address, 0, NULL, &w) != 0)
        return -1;
    outbox_language_of(cfg, &w, NULL, NULL, first);
    n = outbox_add_code(codes, n, max, first);
    for (size_t i = 0; outbox_who_profile(&w) && i < w.p.n_languages; i++)
        if (outbox_try(cfg, w.p.languages[i], c))
            n = outbox_add_code(codes, n, max, c);
    outbox_who_free(&w);
    return n;
}

/*
 * The name to greet a member by: the name they gave in their profile, else
 * the one they gave when they joined, else the display name of the mail;
 * its first part, as people address each other.
 */
static void
outbox_greeting(struct outbox_who *w, const struct outbox_mail *om, char *out, size_t len)
{
    const char *name = om->to_name;

    if (outbox_who_profile(w) && w->p.name != NULL && w->p.name[0])
        name = w->p.name;
    else if (w->found && w->mem->name != NULL && w->mem->name[0])
        name = w->mem->name;
    lang_address_name(name, out, len);
}

/* community_*, to_name and the caller's variables, in one array. */
#define OUTBOX_MAX_VARS 64

/* to_name is NULL for an address that confirmed nothing: its display name is anybody's word. */
static size_t
outbox_vars(const struct config *cfg, const struct outbox_mail *om, const char *greeting,
            const char *ref, struct template_var *vars)
{
    size_t n = 0;

    vars[n++] = (struct template_var){"community_name", cfg->community.name};
    vars[n++] = (struct template_var){"community_address", cfg->community.address};
    vars[n++] = (struct template_var){"to_name", greeting && greeting[0] ? greeting : NULL};
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
        int h, d;
        if (store_stranger_slot(st, hour, day, &h, &d) != 0)
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

/* confirmed: the recipient's address has confirmed (outbox_who_confirmed). */
static int
outbox_trust(const struct config *cfg, struct store *st, const struct outbox_mail *om, time_t now,
             int confirmed, struct outbox_trust *t, char *err, size_t errlen)
{
    const char *kind = om->kind ? om->kind : "reply";

    memset(t, 0, sizeof(*t));
    t->at = now;
    t->stranger = !config_is_manager(cfg, om->to_addr) && !confirmed;
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
    /* None only in a zeroed config: compose_message then refuses the From address. */
    const char *addr = cfg->community.address ? cfg->community.address : "";

    /* Joined without a format: asprintf's parsing was about 1k instructions a mail. */
    return buf_join("mailto:", addr, "?subject=leave", (char *)NULL);
}

int
outbox_queue(const struct config *cfg, struct store *st, const struct outbox_mail *om, time_t now,
             char *err, size_t errlen)
{
    struct template_var vars[OUTBOX_MAX_VARS];
    struct outbox_trust t;
    char *subject = NULL, *body = NULL, *headers = NULL, *text = NULL, *msgid = NULL;
    char *unsub = NULL, *thread = NULL, greeting[128], code[LANG_CODE_MAX], path[8192];
    int rc = -1;

    struct outbox_who w;

    /* The row first: whether the address confirmed is read from it (no query of its own). */
    if (outbox_who_get(st, om->to_addr, om->to_row_known, om->to_row, &w) != 0) {
        snprintf(err, errlen, "looking up %s: %s", om->to_addr, store_errmsg(st));
        return -1;
    }
    if (outbox_trust(cfg, st, om, now, outbox_who_confirmed(&w), &t, err, errlen) != 0) {
        outbox_who_free(&w);
        return -1;
    }
    if (om->lang != NULL && om->lang[0])
        snprintf(code, sizeof(code), "%s", om->lang);
    else if (outbox_for_managers(om->template_name))
        snprintf(code, sizeof(code), "%s", outbox_managers_language(cfg));
    else
        outbox_language_of(cfg, &w, om->lang_seen, om->in_reply_to, code);
    /* Mail to an address that confirmed nothing carries no name a stranger wrote. */
    if (t.stranger)
        greeting[0] = '\0';
    else
        outbox_greeting(&w, om, greeting, sizeof(greeting));
    outbox_who_free(&w);
    /*
     * A language that lacks this one text: it comes in the community's
     * language.  Decided first, so the community's language is looked up
     * (its help.txt) only when it is needed: the path then holds one
     * language, whose folders are searched before the top folders.
     */
    if (!lang_has_template(cfg->templates.dir, code, om->template_name))
        snprintf(code, sizeof(code), "%s", outbox_default_language(cfg));
    if (lang_template_path(cfg->templates.dir, code, code, path, sizeof(path)) != 0) {
        snprintf(err, errlen, "template path too long");
        return -1;
    }
    size_t nvars = outbox_vars(cfg, om, greeting, t.ref[0] ? t.ref : NULL, vars);
    if (template_render_lang(path, om->template_name, lang_get(cfg->templates.dir, code), vars,
                             nvars, &subject, &body, err, errlen) != 0)
        goto out;
    /*
     * Not to a manager: a mail client's Unsubscribe button would send LEAVE,
     * and a manager who never joined would be asked to leave the programme.
     */
    if (!config_is_manager(cfg, om->to_addr) && (unsub = outbox_unsubscribe_uri(cfg)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }

    /* A thread of our own earlier mail: the last one is answered, the others referenced. */
    thread = om->thread && !om->in_reply_to ? strdup(om->thread) : NULL;
    char *last = thread ? strrchr(thread, ' ') : NULL;
    const char *irt = om->in_reply_to ? om->in_reply_to->message_id : thread;
    const char *refs = om->in_reply_to ? om->in_reply_to->references : NULL;
    if (last) {
        *last = '\0';
        irt = last + 1;
        refs = thread;
    }
    struct compose_msg msg = {
        .from_name = cfg->community.name,
        .from_addr = cfg->community.address,
        .to_name = t.stranger ? NULL : om->to_name, /* no name a stranger wrote */
        .to_addr = om->to_addr,
        .subject = subject,
        .body = body,
        .html = om->html,
        .reply_to = om->reply_to,
        .n_reply_to = om->n_reply_to,
        .in_reply_to = irt,
        .references = refs,
        .auto_submitted = om->in_reply_to ? "auto-replied" : "auto-generated",
        .list_id = cfg->community.list_id,
        .list_unsubscribe = unsub,
        .msgid_domain = config_domain(cfg),
        .content_language = code,
        .date = t.at,
    };
    if (compose_message(&msg, &headers, &text, &msgid, err, errlen) != 0)
        goto out;
    int64_t id = 0;
    struct store_outbox_new row = {
        .recipient = om->to_addr,
        .sender = t.sender[0] ? t.sender : cfg->smtp.from,
        .message_id = msgid,
        .headers = headers,
        .body = text,
        .at = t.at,
        .kind = om->kind ? om->kind : "reply",
        .ref = om->ref,
        .verp = t.verp[0] ? t.verp : NULL,
        .stranger = t.stranger,
        .template_name = om->template_name,
    };
    if (store_outbox_queue(st, &row, &id) != 0 ||
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
    free(thread);
    return rc;
}

int
outbox_notice_managers(const struct config *cfg, struct store *st, const char *subject,
                       const char *body, time_t now, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->community.n_managers; i++) {
        char *headers = NULL, *text = NULL, *msgid = NULL;
        struct compose_msg msg = {
            .from_name = cfg->community.name,
            .from_addr = cfg->community.address,
            .to_addr = cfg->community.managers[i],
            .subject = subject,
            .body = body,
            .auto_submitted = "auto-generated",
            .msgid_domain = config_domain(cfg),
            .date = now,
        };
        int64_t id = 0;
        int rc = compose_message(&msg, &headers, &text, &msgid, err, errlen);
        if (rc == 0 && (store_outbox_add(st, msg.to_addr, cfg->smtp.from, msgid, headers, text, now,
                                         &id) != 0 ||
                        store_outbox_tag(st, id, "notice", NULL) != 0)) {
            snprintf(err, errlen, "queueing a notice for %s: %s", msg.to_addr, store_errmsg(st));
            rc = -1;
        }
        free(headers);
        free(text);
        free(msgid);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int
outbox_render_for_managers(const struct config *cfg, const char *name,
                           const struct template_var *vars, size_t nvars, char **subject,
                           char **body, char *err, size_t errlen)
{
    char path[8192];
    const char *code = outbox_managers_language(cfg);

    if (lang_template_path(cfg->templates.dir, code, outbox_default_language(cfg), path,
                           sizeof(path)) != 0) {
        snprintf(err, errlen, "template path too long");
        return -1;
    }
    return template_render_lang(path, name, lang_get(cfg->templates.dir, code), vars, nvars,
                                subject, body, err, errlen);
}
