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

/* community_*, to_name and the caller's variables, in one array. */
#define OUTBOX_MAX_VARS 64

static size_t
outbox_vars(const struct config *cfg, const struct outbox_mail *om, struct template_var *vars)
{
    size_t n = 0;

    vars[n++] = (struct template_var){"community_name", cfg->community.name};
    vars[n++] = (struct template_var){"community_address", cfg->community.address};
    vars[n++] = (struct template_var){"to_name", om->to_name};
    vars[n++] = (struct template_var){"to_address", om->to_addr};
    for (size_t i = 0; i < om->nvars && n < OUTBOX_MAX_VARS; i++)
        vars[n++] = om->vars[i];
    return n;
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
    size_t nvars = outbox_vars(cfg, om, vars);
    char *subject = NULL, *body = NULL, *headers = NULL, *text = NULL, *msgid = NULL;
    char *unsub = NULL, *thread = NULL;
    int rc = -1;

    if (template_render(cfg->templates.dir, om->template_name, vars, nvars, &subject, &body, err,
                        errlen) != 0)
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
        .to_name = om->to_name,
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
        .date = now,
    };
    if (compose_message(&msg, &headers, &text, &msgid, err, errlen) != 0)
        goto out;
    int64_t id = 0;
    if (store_outbox_add(st, om->to_addr, cfg->smtp.from, msgid, headers, text, now, &id) != 0 ||
        store_outbox_tag(st, id, om->kind ? om->kind : "reply", om->ref) != 0 ||
        store_outbox_set_template(st, id, om->template_name) != 0 ||
        (om->erase_after && store_outbox_erase_after(st, id) != 0)) {
        snprintf(err, errlen, "queueing %s for %s: %s", om->template_name, om->to_addr,
                 store_errmsg(st));
        goto out;
    }
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
