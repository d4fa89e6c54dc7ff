/*
 * respond: answering the sender of the mail being handled, and recording
 * events about them.  Every handler answers through here, so none needs the
 * dispatcher (programme.c) that called it.
 */
#include <stdio.h>

#include "log.h"
#include "outbox.h"
#include "respond.h"

int
respond_reply(struct respond_ctx *c, const char *template_name, const struct template_var *vars,
              size_t nvars, const char *kind, const char *ref)
{
    char err[512];
    struct outbox_mail om = {
        .to_addr = c->m->from_addr,
        .to_name = c->m->from_name, /* outbox.c drops it for an address that confirmed nothing */
        .template_name = template_name,
        .vars = vars,
        .nvars = nvars,
        .in_reply_to = c->m,
        .kind = kind,
        .ref = ref,
        .lang_seen = c->lang_seen[0] ? c->lang_seen : NULL,
    };

    if (c->quiet) {
        /* Proven mail over the reply budget acts, and goes unanswered. */
        log_ctx(LOG_LEVEL_INFO, c->m->message_id, c->m->from_addr,
                "reply budget used up: %s not sent", template_name);
        return 0;
    }
    if (outbox_queue(c->cfg, c->st, &om, c->now, err, sizeof(err)) != 0) {
        /* The detail becomes the failure reason the admin sees for this message. */
        snprintf(c->detail, c->detail_len, "cannot answer: %s", err);
        log_ctx(LOG_LEVEL_ERROR, c->m->message_id, c->m->from_addr, "cannot answer: %s", err);
        return -1;
    }
    return 0;
}

int
respond_event(struct respond_ctx *c, const char *kind, const char *detail)
{
    if (store_event_add(c->st, c->now, kind, c->m->from_addr, c->m->message_id, detail) != 0) {
        snprintf(c->detail, c->detail_len, "recording event %s: %s", kind, store_errmsg(c->st));
        log_ctx(LOG_LEVEL_ERROR, c->m->message_id, c->m->from_addr, "%s", c->detail);
        return -1;
    }
    return 0;
}
