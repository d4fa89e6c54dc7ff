/*
 * membership: what a person asks for about themselves.  Joining and
 * volunteering are confirmed by a reply carrying a single-use token sent to
 * the address (double opt-in: a From: header proves nothing), and so is
 * leaving, which erases the member's personal data.  Status, pauses,
 * capacity and profile lines act when they reach these handlers: gate.c lets
 * them through only from a mail that proves its sender, and asks the address
 * to confirm anything else first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lang.h"
#include "log.h"
#include "gate.h"
#include "outbox.h"
#include "secret.h"
#include "lifecycle.h"
#include "membership.h"
#include "respond.h"

#define DAY (24 * 60 * 60)
#define WEEK (7 * DAY)

/* ---- small helpers ---- */

/*
 * t as "YYYY-MM-DD" in the sender's time zone (their profile's, else UTC):
 * the templates write it in the reader's language ({{until|date}}).
 */
static void
membership_date(struct respond_ctx *c, time_t t, char *buf, size_t len)
{
    struct store_member mem;
    struct tm tm;
    int ok = 0, offset = 0;

    if (store_member_get(c->st, c->m->from_addr, &mem) == 1) {
        struct profile p;
        if (profile_parse(mem.profile ? mem.profile : "", &p) == 0) {
            offset = profile_utc_offset(&p, (long long)t, &ok);
            profile_free(&p);
        }
        store_member_free(&mem);
    }
    time_t local = t + (ok ? (time_t)offset * 60 : 0);
    if (gmtime_r(&local, &tm) == NULL || strftime(buf, len, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, len, "later");
}

/*
 * The name to store for a member: the one they gave first is kept, so the
 * display name of a later From: header never silently replaces it (a
 * "Name:" profile line is how a member changes it).  NULL keeps the stored one.
 */
static const char *
membership_given_name(const struct store_member *mem, const char *from_name)
{
    return mem != NULL && mem->name != NULL && mem->name[0] ? NULL : from_name;
}

static const char *
membership_role(const char *action)
{
    return strcmp(action, "mentor") == 0 ? "mentor" : "newcomer";
}

/* "  Skills: ...\n" lines, and "  line N: text\n    hint\n" for what was not understood. */
struct membership_echo {
    char *profile;
    char *problems;
};

/* Templates place a value on its own line; a trailing newline would add a blank one. */
static void
membership_chomp(char *s)
{
    size_t n = s ? strlen(s) : 0;

    while (n > 0 && s[n - 1] == '\n')
        s[--n] = '\0';
}

static int
membership_echo(struct respond_ctx *c, const struct profile *p, struct membership_echo *e)
{
    char *buf = NULL, code[LANG_CODE_MAX];
    size_t len = 0;
    FILE *f;

    e->profile = p->n_fields > 0 ? profile_describe(p) : NULL;
    e->problems = NULL;
    if (p->n_fields > 0 && e->profile == NULL)
        return -1;
    membership_chomp(e->profile);
    if (p->n_problems == 0)
        return 0;
    /* The hints in the language of the answer they go in. */
    if (outbox_language(c->cfg, c->st, c->m->from_addr, c->lang_seen[0] ? c->lang_seen : NULL, c->m,
                        code) != 0 ||
        (f = open_memstream(&buf, &len)) == NULL)
        return -1;
    const struct lang *l = lang_get(c->cfg->templates.dir, code);
    for (size_t i = 0; i < p->n_problems; i++) {
        char *hint = profile_problem_hint(&p->problems[i], l);
        fprintf(f, "  \"%s\"\n    %s\n", p->problems[i].text, hint ? hint : p->problems[i].hint);
        free(hint);
    }
    if (fclose(f) != 0)
        return -1;
    e->problems = buf;
    membership_chomp(e->problems);
    return 0;
}

static void
membership_echo_free(struct membership_echo *e)
{
    free(e->profile);
    free(e->problems);
}

/* The member's stored profile with the fields from this mail merged in (malloc'd text). */
static char *
membership_merged_profile(struct respond_ctx *c, const char *stored)
{
    struct profile base;
    char *out;

    if (profile_parse(stored ? stored : "", &base) != 0)
        return NULL;
    profile_merge(&base, &c->profile);
    out = profile_serialise(&base);
    profile_free(&base);
    return out;
}

static int
membership_not_member(struct respond_ctx *c, const char *what)
{
    struct template_var v[] = {{"what", what}};

    snprintf(c->detail, c->detail_len, "%s from a non-member", what);
    return respond_reply(c, "not-member", v, 1, "reply", NULL);
}

/* ---- requests that need confirmation ---- */

/*
 * Reuse an open token for the same action (a second JOIN resends the first
 * confirmation, so either mail can be answered); supersede one for another.
 */
static int
membership_token_for(struct respond_ctx *c, const char *action, char token[COMMAND_TOKEN_LEN + 1])
{
    const struct store_token *t;
    int found = respond_open_token(c, &t);

    if (found < 0)
        return -1;
    if (found && strcmp(t->action, action) == 0) {
        snprintf(token, COMMAND_TOKEN_LEN + 1, "%s", t->token);
        return 0;
    }
    long long before = store_changes(c->st);
    if (found && store_token_close(c->st, t->token, c->now, "superseded") < 0)
        return -1;
    if (secret_token(token, COMMAND_TOKEN_LEN) != 0) {
        snprintf(c->detail, c->detail_len, "cannot draw a random token");
        return -1;
    }
    if (store_token_add(c->st, token, c->m->from_addr, action, c->m->from_name, c->now,
                        c->now + c->cfg->programme.confirm_expiry) != 0)
        return -1;
    respond_tokens_written(c, before); /* the answer uses the sender's row as it stands */
    return 0;
}

static int
membership_ask_confirmation(struct respond_ctx *c, const char *action)
{
    char token[COMMAND_TOKEN_LEN + 1], tmpl[32], days[16];

    if (membership_token_for(c, action, token) != 0)
        return -1;
    snprintf(tmpl, sizeof(tmpl), "confirm-%s", action);
    snprintf(days, sizeof(days), "%d",
             c->cfg->programme.confirm_expiry / DAY > 0 ? c->cfg->programme.confirm_expiry / DAY
                                                        : 1);
    /*
     * Nothing the requester wrote goes back in a confirmation: the address may
     * not be theirs (a forged JOIN must not make us mail a stranger their text).
     */
    struct template_var v[] = {{"token", token}, {"days", days}, {"profile", NULL}, {"problems", NULL}};
    snprintf(c->detail, c->detail_len, "asked to confirm %s", action);
    /* The answer before the event, whose INSERT would make it read the sender's row again. */
    int rc = respond_reply(c, tmpl, v, 4, "confirm", token);
    if (rc == 0)
        rc = respond_event(c, "confirm-asked", action);
    return rc;
}

static int
membership_already(struct respond_ctx *c, const struct store_member *mem)
{
    struct template_var v[] = {{"role", mem->role},
                               {"is_mentor", strcmp(mem->role, "mentor") == 0 ? "yes" : NULL}};

    snprintf(c->detail, c->detail_len, "already a %s", mem->role);
    if (c->profile.n_fields > 0) {
        /* Profile lines sent along with the repeated request are still taken. */
        char *merged = membership_merged_profile(c, mem->profile);
        if (merged == NULL ||
            store_member_upsert(c->st, mem->address, NULL, NULL, NULL, merged, c->now, NULL) != 0) {
            free(merged);
            return -1;
        }
        free(merged);
    }
    if (respond_event(c, "already", mem->role) != 0)
        return -1;
    return respond_reply(c, "already", v, 2, "reply", NULL);
}

/*
 * Remember who asked and what they told us; nothing is active until
 * confirmed.  The languages go in the same statement: this sender confirmed
 * nothing, so their mail may record them (gate.h), and the answer is then
 * written in the language chosen now, as it is for a sender whose row
 * existed before (programme.c notes it first).  mem: their row, current
 * (respond_member), or NULL for none.  The row written becomes the
 * context's copy, so the answer does not read it back.
 */
static int
membership_pending(struct respond_ctx *c, const char *action, const struct store_member *mem)
{
    char *merged = membership_merged_profile(c, mem ? mem->profile : NULL);
    struct store_member_values v = {
        .address = c->m->from_addr,
        .name = membership_given_name(mem, c->m->from_name),
        .role = membership_role(action),
        .state = "pending",
        .profile = merged,
        .language = c->lang_asked[0] ? c->lang_asked : NULL,
        .language_seen = c->lang_seen[0] ? c->lang_seen : NULL,
    };
    struct store_member row;
    long long before = store_changes(c->st);

    if (merged == NULL)
        return -1;
    int rc = store_member_upsert_row(c->st, &v, mem, c->now, &row);
    free(merged);
    if (rc < 0)
        return -1;
    if (rc == 1)
        respond_row_is(c, before, &row); /* the token read for the gate is still good */
    else
        respond_row_written(c, before);
    respond_lang_written(c);
    return 0;
}

static int
membership_request(struct respond_ctx *c, const char *action)
{
    /* The context's copy: mem is not used after the first write below (respond.h). */
    const struct store_member *mem;
    int found = respond_member(c, &mem);
    int rc;

    if (found < 0)
        return -1;
    if (strcmp(action, "leave") == 0) {
        rc = found && strcmp(mem->state, "pending") != 0 ? membership_ask_confirmation(c, action)
                                                         : membership_not_member(c, "leave");
    } else if (found && strcmp(mem->state, "pending") != 0 &&
               strcmp(mem->role, membership_role(action)) == 0) {
        rc = membership_already(c, mem);
    } else if (!found || strcmp(mem->state, "pending") == 0) {
        rc = membership_pending(c, action, found ? mem : NULL);
        if (rc == 0)
            rc = membership_ask_confirmation(c, action);
    } else {
        rc = membership_ask_confirmation(c, action); /* a change of role */
    }
    return rc;
}

int
membership_join(struct respond_ctx *c, const struct command *cmd)
{
    (void)cmd;
    return membership_request(c, "join");
}

int
membership_mentor(struct respond_ctx *c, const struct command *cmd)
{
    (void)cmd;
    return membership_request(c, "mentor");
}

int
membership_leave(struct respond_ctx *c, const struct command *cmd)
{
    (void)cmd;
    return membership_request(c, "leave");
}

/*
 * Somebody wants to take part but did not say in which role: ask one easy
 * question.  What they wrote about themselves is kept with the pending
 * request, so the answer ("2") needs nothing more.  The question carries a
 * token like a confirmation ("role"), so the reply is tied to it.
 */
int
membership_ask_role(struct respond_ctx *c)
{
    char token[COMMAND_TOKEN_LEN + 1], days[16];
    struct store_member mem;
    int found = store_member_get(c->st, c->m->from_addr, &mem);
    int rc = -1;

    if (found < 0)
        return -1;
    if (found && strcmp(mem.state, "pending") != 0) {
        rc = membership_already(c, &mem); /* a member already has a role */
        store_member_free(&mem);
        return rc;
    }
    char *merged = membership_merged_profile(c, found ? mem.profile : NULL);
    if (found)
        store_member_free(&mem);
    if (merged == NULL ||
        store_member_upsert(c->st, c->m->from_addr, c->m->from_name, "newcomer", "pending", merged,
                            c->now, NULL) != 0 ||
        membership_token_for(c, "role", token) != 0) {
        free(merged);
        return -1;
    }
    free(merged);
    snprintf(days, sizeof(days), "%d",
             c->cfg->programme.confirm_expiry / DAY > 0 ? c->cfg->programme.confirm_expiry / DAY
                                                        : 1);
    /*
     * The address has confirmed nothing yet: the question carries no text it
     * wrote (no relay for strangers).  The profile is kept with the request and
     * shown once the address is confirmed.
     */
    struct template_var v[] = {{"token", token}, {"days", days}, {"profile", NULL}, {"problems", NULL}};
    snprintf(c->detail, c->detail_len, "role unclear; asked: a mentor, or to be a mentor?");
    rc = respond_event(c, "role-asked", NULL);
    if (rc == 0)
        rc = respond_reply(c, "ask-role", v, 4, "confirm", token);
    return rc;
}

/* ---- confirmation ---- */

static int
membership_welcome(struct respond_ctx *c, const struct store_token *t)
{
    struct store_member mem;
    struct membership_echo e = {NULL, NULL};
    const char *role = membership_role(t->action);
    char *merged = NULL;
    int found = store_member_get(c->st, c->m->from_addr, &mem);
    int rc = -1;

    if (found < 0)
        return -1;
    merged = membership_merged_profile(c, found ? mem.profile : NULL);
    if (merged == NULL ||
        store_member_upsert(
            c->st, c->m->from_addr,
            membership_given_name(found ? &mem : NULL, t->name ? t->name : c->m->from_name), role,
            "active", merged, c->now, NULL) != 0)
        goto out;
    struct profile p;
    if (profile_parse(merged, &p) != 0)
        goto out;
    rc = membership_echo(c, &p, &e);
    profile_free(&p);
    if (rc != 0)
        goto out;
    /* A confirmed newcomer joins the waiting list; the wait counts from now. */
    if (strcmp(role, "newcomer") == 0 &&
        store_member_set_waiting(c->st, c->m->from_addr, c->now) < 0) {
        rc = -1;
        goto out;
    }
    /* A former mentee who now mentors is the programme working: count it. */
    if (strcmp(role, "mentor") == 0 &&
        lifecycle_note_conversion(c->st, c->m->from_addr, c->now) < 0) {
        rc = -1;
        goto out;
    }
    struct template_var v[] = {{"profile", e.profile}, {"problems", NULL}};
    snprintf(c->detail, c->detail_len, "confirmed; recorded as %s", role);
    rc = respond_event(c, role, "confirmed");
    if (rc == 0)
        rc = respond_reply(c, t->action, v, 2, "reply", NULL);
out:
    if (found)
        store_member_free(&mem);
    membership_echo_free(&e);
    free(merged);
    return rc;
}

/* LEAVE confirmed: erase everything personal about them, then say goodbye. */
static int
membership_erase_leaver(struct respond_ctx *c)
{
    char err[512];
    struct outbox_mail om = {
        .to_addr = c->m->from_addr,
        .to_name = c->m->from_name,
        .template_name = "farewell",
        .in_reply_to = c->m,
        .kind = "reply",
        .erase_after = 1,
        .lang_seen = c->lang_seen[0] ? c->lang_seen : NULL,
    };

    struct store_member mem;
    char code[LANG_CODE_MAX];
    /* The goodbye is written in their language, which is erased with them. */
    if (outbox_language(c->cfg, c->st, c->m->from_addr, om.lang_seen, c->m, code) != 0)
        return -1;
    om.lang = code;
    int found = store_member_get(c->st, c->m->from_addr, &mem);
    if (found < 0)
        return -1;
    int64_t id = found ? mem.id : 0;
    if (found)
        store_member_free(&mem);
    if ((id && lifecycle_member_leaving(c, id) != 0) ||
        store_member_erase(c->st, c->m->from_addr) != 0)
        return -1;
    if (outbox_queue(c->cfg, c->st, &om, c->now, err, sizeof(err)) != 0) {
        snprintf(c->detail, c->detail_len, "cannot answer: %s", err);
        return -1;
    }
    /* The anonymous count stays; the address does not. */
    if (store_event_add(c->st, c->now, "left", NULL, NULL, NULL) != 0)
        return -1;
    c->erase_checkpoint = 1;
    snprintf(c->detail, c->detail_len, "left; personal data erased");
    log_ctx(LOG_LEVEL_INFO, NULL, NULL, "a member left; their data was erased");
    return 0;
}

static int
membership_bad_token(struct respond_ctx *c, const char *why)
{
    snprintf(c->detail, c->detail_len, "confirmation refused: %s", why);
    log_ctx(LOG_LEVEL_INFO, c->m->message_id, c->m->from_addr, "%s", c->detail);
    if (respond_event(c, "confirm-refused", why) != 0)
        return -1;
    return respond_reply(c, "confirm-expired", NULL, 0, "reply", NULL);
}

int
membership_confirm(struct respond_ctx *c, const char *token)
{
    struct store_token t;
    int found = token[0] ? store_token_get(c->st, token, &t) : 0;
    int rc;

    if (found < 0)
        return -1;
    if (!found) /* not a confirmation: the caller reads the mail another way */
        return token[0] ? 1 : membership_bad_token(c, "unknown");
    /* The token is bound to the address it was sent to: nobody else can use it. */
    if (strcasecmp(t.address, c->m->from_addr) != 0)
        rc = membership_bad_token(c, "another address");
    else if (t.closed != 0 || t.expires <= c->now)
        rc = membership_bad_token(c, t.closed ? "already used" : "expired");
    else if (strcmp(t.action, "role") == 0)
        rc = membership_ask_role(c); /* an answer to "1 or 2" that was neither */
    else if (strcmp(t.action, "join") != 0 && strcmp(t.action, "mentor") != 0 &&
             strcmp(t.action, "leave") != 0) /* a manager's token, say, once no longer a manager */
        rc = membership_bad_token(c, "not a membership request");
    else if (store_token_close(c->st, t.token, c->now, "confirmed") < 0)
        rc = -1;
    else if (strcmp(t.action, "leave") == 0)
        rc = membership_erase_leaver(c);
    else
        rc = membership_welcome(c, &t);
    store_token_free(&t);
    return rc;
}

/* ---- what acts at once ---- */

/* The first word of a member's name, or "" (a partner is named, never addressed, here). */
static void
membership_first_name(struct store *st, int64_t id, char *buf, size_t len)
{
    struct store_member other;

    buf[0] = '\0';
    if (id <= 0 || store_pair_member(st, id, &other) != 1)
        return;
    if (other.name && other.name[0])
        snprintf(buf, len, "%.*s", (int)strcspn(other.name, " "), other.name);
    store_member_free(&other);
}

/* One phrase of the reader's language ("mentored by {name}") with its value, written to f. */
static void
membership_phrase(FILE *f, const struct lang *l, const char *key, const char *english,
                  const char *value)
{
    char *text = lang_phrase_fill(l, key, english, "name", value, "date", value, NULL);
    if (text != NULL)
        fputs(text, f);
    free(text);
}

/* A date ("YYYY-MM-DD" in the member's zone) in the reader's language. */
static void
membership_long_date(struct respond_ctx *c, const struct lang *l, time_t t, char *out, size_t len)
{
    char iso[32];
    membership_date(c, t, iso, sizeof(iso));
    lang_format_date(l, iso, out, len);
}

/* "  mentored by Ana, since Monday 5 January 2026, until ...\n" per open pairing (malloc'd, or
 * NULL). */
static char *
membership_pairings(struct respond_ctx *c, int64_t me)
{
    struct store_pair *v = NULL;
    size_t n = 0;
    char *buf = NULL, code[LANG_CODE_MAX];
    size_t len = 0;
    FILE *f;

    if (outbox_language(c->cfg, c->st, c->m->from_addr, c->lang_seen, c->m, code) != 0 ||
        store_pair_list(c->st, me, NULL, &v, &n) != 0)
        return NULL;
    const struct lang *l = lang_get(c->cfg->templates.dir, code);
    if ((f = open_memstream(&buf, &len)) == NULL) {
        store_pairs_free(v, n);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const struct store_pair *p = &v[i];
        char name[64], since[128], until[128];
        int proposed = strcmp(p->state, "proposed") == 0;
        if (!proposed && strcmp(p->state, "active") != 0)
            continue;
        membership_first_name(c->st, p->mentor == me ? p->newcomer : p->mentor, name, sizeof(name));
        if (name[0] == '\0')
            snprintf(name, sizeof(name), "%s",
                     lang_phrase(l, "your_partner") ? lang_phrase(l, "your_partner")
                                                    : "your partner");
        membership_long_date(c, l, proposed ? p->created : p->started, since, sizeof(since));
        membership_long_date(c, l, p->ends, until, sizeof(until));
        fputs("  ", f);
        if (p->mentor == me)
            membership_phrase(f, l, "mentoring", "mentoring {name}", name);
        else
            membership_phrase(f, l, "mentored_by", "mentored by {name}", name);
        fputs(", ", f);
        if (proposed)
            membership_phrase(f, l, "proposed_on", "proposed on {date}", since);
        else
            membership_phrase(f, l, "since", "since {date}", since);
        if (p->ends > 0 && !proposed) {
            fputs(", ", f);
            membership_phrase(f, l, "until", "until {date}", until);
        }
        fputc('\n', f);
    }
    store_pairs_free(v, n);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    membership_chomp(buf);
    if (buf && buf[0] == '\0') {
        free(buf);
        buf = NULL;
    }
    return buf;
}

int
membership_status(struct respond_ctx *c, const struct command *cmd)
{
    struct store_member mem;
    struct membership_echo e = {NULL, NULL};
    char until[64] = "";
    int found = store_member_get(c->st, c->m->from_addr, &mem);
    int rc;

    (void)cmd;
    if (found <= 0)
        return found < 0 ? -1 : membership_not_member(c, "status");
    struct profile p;
    if (profile_parse(mem.profile ? mem.profile : "", &p) != 0) {
        store_member_free(&mem);
        return -1;
    }
    rc = membership_echo(c, &p, &e);
    profile_free(&p);
    if (mem.pause_until > 0)
        membership_date(c, mem.pause_until, until, sizeof(until));
    /* A claimed STATUS is answered about the address alone: no partner is named. */
    char *pairings = c->proof != GATE_CLAIMED ? membership_pairings(c, mem.id) : NULL;
    char waiting[64] = "";
    if (mem.waiting_since > 0 && pairings == NULL)
        membership_date(c, mem.waiting_since, waiting, sizeof(waiting));
    struct template_var v[] = {{"role", mem.role},
                               {"is_mentor", strcmp(mem.role, "mentor") == 0 ? "yes" : NULL},
                               {"state", mem.state},
                               {"paused", strcmp(mem.state, "paused") == 0 ? "yes" : NULL},
                               {"pending", strcmp(mem.state, "pending") == 0 ? "yes" : NULL},
                               {"until", until[0] ? until : NULL},
                               {"profile", e.profile},
                               {"pairings", pairings},
                               {"waiting_since", waiting[0] ? waiting : NULL}};
    snprintf(c->detail, c->detail_len, "status sent");
    if (rc == 0)
        rc = respond_reply(c, "status", v, sizeof(v) / sizeof(v[0]), "reply", NULL);
    free(pairings);
    membership_echo_free(&e);
    store_member_free(&mem);
    return rc;
}

/* The member, if active or paused (pending members have nothing to pause). */
static int
membership_active(struct respond_ctx *c, const char *what, struct store_member *mem)
{
    int found = store_member_get(c->st, c->m->from_addr, mem);

    if (found < 0)
        return -1;
    if (found && strcmp(mem->state, "pending") != 0)
        return 1;
    if (found)
        store_member_free(mem);
    return membership_not_member(c, what) == 0 ? 0 : -1;
}

int
membership_pause(struct respond_ctx *c, const struct command *cmd)
{
    int weeks = cmd->number > 0 ? cmd->number : 0; /* 0: open-ended */
    struct store_member mem;
    char until[64] = "", n[16];
    int rc = membership_active(c, "pause", &mem);

    if (rc <= 0)
        return rc;
    store_member_free(&mem);
    time_t end = weeks > 0 ? c->now + (time_t)weeks * WEEK : 0;
    if (end)
        membership_date(c, end, until, sizeof(until));
    snprintf(n, sizeof(n), "%d", weeks);
    if (store_member_set_state(c->st, c->m->from_addr, "paused", end, c->now) < 0 ||
        respond_event(c, "pause", n) != 0)
        return -1;
    struct template_var v[] = {{"until", until[0] ? until : NULL}};
    snprintf(c->detail, c->detail_len, "paused%s%s", end ? " until " : "", until);
    return respond_reply(c, "pause", v, 1, "reply", NULL);
}

int
membership_resume(struct respond_ctx *c, const struct command *cmd)
{
    struct store_member mem;
    int rc = membership_active(c, "resume", &mem);

    (void)cmd;
    if (rc <= 0)
        return rc;
    int was_paused = strcmp(mem.state, "paused") == 0;
    store_member_free(&mem);
    if (was_paused && (store_member_set_state(c->st, c->m->from_addr, "active", 0, c->now) < 0 ||
                       respond_event(c, "resume", NULL) != 0))
        return -1;
    struct template_var v[] = {{"was_paused", was_paused ? "yes" : NULL}};
    snprintf(c->detail, c->detail_len, was_paused ? "resumed" : "resume: was not paused");
    return respond_reply(c, "resume", v, 1, "reply", NULL);
}

int
membership_capacity(struct respond_ctx *c, const struct command *cmd)
{
    int n = cmd->number;
    struct store_member mem;
    char num[16];
    int rc = membership_active(c, "capacity", &mem);

    if (rc <= 0)
        return rc;
    if (strcmp(mem.role, "mentor") != 0 || n < 1 || n > 20) {
        struct template_var v[] = {{"not_mentor", strcmp(mem.role, "mentor") ? "yes" : NULL}};
        store_member_free(&mem);
        snprintf(c->detail, c->detail_len, "capacity refused");
        return respond_reply(c, "capacity-refused", v, 1, "reply", NULL);
    }
    /* Capacity is a profile field: set it as if the mentor had written "Capacity: N". */
    c->profile.capacity = n;
    char *merged = membership_merged_profile(c, mem.profile);
    rc = merged ? store_member_upsert(c->st, mem.address, NULL, NULL, NULL, merged, c->now, NULL)
                : -1;
    free(merged);
    store_member_free(&mem);
    snprintf(num, sizeof(num), "%d", n);
    if (rc != 0 || respond_event(c, "capacity", num) != 0)
        return -1;
    struct template_var v[] = {{"capacity", num}};
    snprintf(c->detail, c->detail_len, "capacity set to %d", n);
    return respond_reply(c, "capacity", v, 1, "reply", NULL);
}

/* Returns 1 (not handled) for a non-member, so the caller answers with help. */
int
membership_profile_update(struct respond_ctx *c)
{
    struct store_member mem;
    struct membership_echo e;
    int found = store_member_get(c->st, c->m->from_addr, &mem);
    int rc = -1;

    if (found <= 0)
        return found < 0 ? -1 : 1;
    char *merged = membership_merged_profile(c, mem.profile);
    if (merged == NULL || membership_echo(c, &c->profile, &e) != 0) {
        free(merged);
        store_member_free(&mem);
        return -1;
    }
    if (c->profile.n_fields == 0 ||
        store_member_upsert(c->st, mem.address, NULL, NULL, NULL, merged, c->now, NULL) == 0) {
        struct template_var v[] = {{"profile", e.profile}, {"problems", e.problems}};
        snprintf(c->detail, c->detail_len, "profile: %zu fields understood, %zu not",
                 c->profile.n_fields, c->profile.n_problems);
        rc = respond_event(c, "profile", NULL);
        if (rc == 0)
            rc = respond_reply(c, "profile", v, 2, "reply", NULL);
    }
    membership_echo_free(&e);
    free(merged);
    store_member_free(&mem);
    return rc;
}

int
membership_no_pairing(struct respond_ctx *c, const char *what)
{
    struct template_var v[] = {{"what", what}};

    snprintf(c->detail, c->detail_len, "%s: no pairing to act on", what);
    return respond_reply(c, "no-pairing", v, 1, "reply", NULL);
}
