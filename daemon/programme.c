/*
 * programme: what an incoming mail means for the mentorship programme.
 *
 * Reads a parsed mail, changes the store and queues answers, all inside the
 * caller's transaction; it never talks to a server.  Automatic mail is only
 * recorded: answering a robot is how mail loops start.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "command.h"
#include "compose.h"
#include "log.h"
#include "outbox.h"
#include "programme.h"

struct programme_ctx {
    const struct config *cfg;
    struct store *st;
    const struct mail *m;
    time_t now;
    char *detail;
    size_t detail_len;
};

static int
programme_reply(struct programme_ctx *c, const char *template_name, const struct template_var *vars,
                size_t nvars)
{
    char err[512];
    struct outbox_mail om = {
        .to_addr = c->m->from_addr,
        .to_name = c->m->from_name,
        .template_name = template_name,
        .vars = vars,
        .nvars = nvars,
        .in_reply_to = c->m,
    };

    if (outbox_queue(c->cfg, c->st, &om, c->now, err, sizeof(err)) != 0) {
        /* The detail becomes the failure reason the admin sees for this message. */
        snprintf(c->detail, c->detail_len, "cannot answer: %s", err);
        log_ctx(LOG_LEVEL_ERROR, c->m->message_id, c->m->from_addr, "cannot answer: %s", err);
        return -1;
    }
    return 0;
}

static int
programme_event(struct programme_ctx *c, const char *kind, const char *detail)
{
    if (store_event_add(c->st, c->now, kind, c->m->from_addr, c->m->message_id, detail) != 0) {
        log_ctx(LOG_LEVEL_ERROR, c->m->message_id, c->m->from_addr, "recording event %s: %s", kind,
                store_errmsg(c->st));
        return -1;
    }
    return 0;
}

/*
 * JOIN and MENTOR: record the member in the role asked for.  Someone who
 * already has that role is told so instead of being welcomed twice.  A
 * newcomer who volunteers becomes a mentor: that is the programme working.
 */
static int
programme_enrol(struct programme_ctx *c, const char *role, const char *template_name)
{
    struct store_member old;
    int found = store_member_get(c->st, c->m->from_addr, &old);

    if (found < 0)
        return -1;
    int same = found && strcmp(old.role, role) == 0 && strcmp(old.state, "left") != 0;
    if (found)
        store_member_free(&old);
    if (same) {
        struct template_var v[] = {{"role", role}};
        snprintf(c->detail, c->detail_len, "already a %s", role);
        if (programme_event(c, "already", role) != 0)
            return -1;
        return programme_reply(c, "already", v, 1);
    }
    if (store_member_upsert(c->st, c->m->from_addr, c->m->from_name, role, "active", NULL, c->now,
                            NULL) != 0) {
        log_ctx(LOG_LEVEL_ERROR, c->m->message_id, c->m->from_addr, "recording %s: %s", role,
                store_errmsg(c->st));
        return -1;
    }
    snprintf(c->detail, c->detail_len, "recorded as %s", role);
    if (programme_event(c, role, NULL) != 0)
        return -1;
    return programme_reply(c, template_name, NULL, 0);
}

static int
programme_command(struct programme_ctx *c)
{
    struct command cmd;

    command_parse(c->m->subject, c->m->text, &cmd);
    log_ctx(LOG_LEVEL_INFO, c->m->message_id, c->m->from_addr, "command %s (%s)",
            command_name(cmd.kind), cmd.from_subject ? "subject" : "body");
    switch (cmd.kind) {
    case COMMAND_JOIN:
        return programme_enrol(c, "newcomer", "join");
    case COMMAND_MENTOR:
        return programme_enrol(c, "mentor", "mentor");
    case COMMAND_HELP:
        snprintf(c->detail, c->detail_len, "help");
        return programme_reply(c, "help", NULL, 0);
    default:
        /* Commands of the running programme arrive with the lifecycle work. */
        break;
    }
    struct template_var v[] = {{"not_understood", "yes"}};
    snprintf(c->detail, c->detail_len, "not understood; sent help");
    if (programme_event(c, "not-understood", c->m->subject) != 0)
        return -1;
    return programme_reply(c, "help", v, 1);
}

int
programme_handle_mail(const struct config *cfg, struct store *st, const struct mail *m, time_t now,
                      const char **outcome, char *detail, size_t detail_len)
{
    struct programme_ctx c = {cfg, st, m, now, detail, detail_len};
    const char *reason = NULL;
    enum classify_kind kind = classify_mail(m, cfg->community.address, &reason);

    detail[0] = '\0';
    if (kind != CLASSIFY_PERSON) {
        *outcome = "recorded";
        snprintf(detail, detail_len, "%s: %s", classify_name(kind), reason ? reason : "");
        log_ctx(LOG_LEVEL_INFO, m->message_id, m->from_addr, "not answered, %s", detail);
        return programme_event(&c, classify_name(kind), reason);
    }
    if (m->from_addr == NULL || !compose_address_ok(m->from_addr)) {
        *outcome = "ignored";
        snprintf(detail, detail_len, "no usable sender address");
        log_ctx(LOG_LEVEL_WARN, m->message_id, m->from_addr, "not answered: %s", detail);
        return programme_event(&c, "no-sender", NULL);
    }
    *outcome = "answered";
    return programme_command(&c);
}
