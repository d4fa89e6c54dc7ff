/*
 * respond: answering the sender of the mail being handled, and recording
 * events about them.  Every handler answers through here, so none needs the
 * dispatcher (programme.c) that called it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    /* The sender's row, when nothing was written since it was read: the outbox needs it too. */
    if (respond_member(c, &om.to_row) < 0) {
        snprintf(c->detail, c->detail_len, "cannot answer: %s", store_errmsg(c->st));
        log_ctx(LOG_LEVEL_ERROR, c->m->message_id, c->m->from_addr, "%s", c->detail);
        return -1;
    }
    om.to_row_known = 1;
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

/* ---- the sender, read once a mail ---- */

/* Keep the copies read before until respond_forget (a handler may still point into them). */
static int
respond_retire_row(struct respond_sender *s)
{
    if (s->row == NULL)
        return 0;
    struct store_member **more = realloc(s->old_rows, (s->n_old_rows + 1) * sizeof(*more));
    if (more == NULL)
        return -1;
    more[s->n_old_rows++] = s->row;
    s->old_rows = more;
    s->row = NULL;
    return 0;
}

static int
respond_retire_token(struct respond_sender *s)
{
    if (s->token == NULL)
        return 0;
    struct store_token **more = realloc(s->old_tokens, (s->n_old_tokens + 1) * sizeof(*more));
    if (more == NULL)
        return -1;
    more[s->n_old_tokens++] = s->token;
    s->old_tokens = more;
    s->token = NULL;
    return 0;
}

static int
respond_read_row(struct respond_ctx *c, struct respond_sender *s)
{
    struct store_member *row = calloc(1, sizeof(*row));

    if (row == NULL || respond_retire_row(s) != 0) {
        free(row);
        snprintf(c->detail, c->detail_len, "out of memory reading the sender");
        return -1;
    }
    s->have_row = 0;
    int found = c->m->from_addr != NULL ? store_member_get(c->st, c->m->from_addr, row) : 0;
    if (found <= 0) {
        free(row);
        return found;
    }
    s->row = row;
    return found;
}

int
respond_member(struct respond_ctx *c, const struct store_member **row)
{
    struct respond_sender *s = &c->sender;
    long long at = store_changes(c->st);

    if (!s->have_row || s->row_at != at) {
        if (respond_read_row(c, s) < 0)
            return -1;
        s->have_row = 1;
        s->row_at = at;
    }
    *row = s->row;
    return s->row != NULL;
}

int
respond_member_current(struct respond_ctx *c, const struct store_member **row)
{
    struct respond_sender *s = &c->sender;

    if (!s->have_row || s->row_at != store_changes(c->st))
        return 0;
    *row = s->row;
    return 1;
}

int
respond_confirmed(struct respond_ctx *c)
{
    const struct store_member *row;
    int found = respond_member(c, &row);

    if (found <= 0)
        return found;
    return store_member_confirmed(row);
}

static int
respond_read_token(struct respond_ctx *c, struct respond_sender *s)
{
    struct store_token *t = calloc(1, sizeof(*t));

    if (t == NULL || respond_retire_token(s) != 0) {
        free(t);
        snprintf(c->detail, c->detail_len, "out of memory reading the sender's tokens");
        return -1;
    }
    s->have_token = 0;
    int found =
        c->m->from_addr != NULL ? store_token_open_for(c->st, c->m->from_addr, c->now, t) : 0;
    if (found <= 0) {
        free(t);
        return found;
    }
    s->token = t;
    return found;
}

int
respond_open_token(struct respond_ctx *c, const struct store_token **t)
{
    struct respond_sender *s = &c->sender;
    long long at = store_changes(c->st);

    if (!s->have_token || s->token_at != at) {
        if (respond_read_token(c, s) < 0)
            return -1;
        s->have_token = 1;
        s->token_at = at;
    }
    *t = s->token;
    return s->token != NULL;
}

void
respond_row_written(struct respond_ctx *c, long long before)
{
    struct respond_sender *s = &c->sender;

    if (s->have_token && s->token_at == before)
        s->token_at = store_changes(c->st);
}

void
respond_row_is(struct respond_ctx *c, long long before, struct store_member *row)
{
    struct respond_sender *s = &c->sender;
    struct store_member *copy = NULL;

    respond_row_written(c, before);
    /* Only over a copy that was the store's when the caller wrote: else read at next use. */
    if (s->have_row && s->row_at == before && (copy = malloc(sizeof(*copy))) != NULL &&
        respond_retire_row(s) == 0) {
        *copy = *row;
        s->row = copy;
        s->row_at = store_changes(c->st);
        return;
    }
    free(copy);
    store_member_free(row);
    s->have_row = 0;
}

void
respond_tokens_written(struct respond_ctx *c, long long before)
{
    struct respond_sender *s = &c->sender;

    if (s->have_row && s->row_at == before)
        s->row_at = store_changes(c->st);
}

void
respond_lang_written(struct respond_ctx *c)
{
    struct respond_sender *s = &c->sender;

    s->lang_written = 1;
    snprintf(s->written_asked, sizeof(s->written_asked), "%s", c->lang_asked);
    snprintf(s->written_seen, sizeof(s->written_seen), "%s", c->lang_seen);
}

int
respond_lang_noted(const struct respond_ctx *c)
{
    const struct respond_sender *s = &c->sender;

    return s->lang_written && strcmp(s->written_asked, c->lang_asked) == 0 &&
           strcmp(s->written_seen, c->lang_seen) == 0;
}

static void
respond_free_row(struct store_member *row)
{
    if (row != NULL)
        store_member_free(row);
    free(row);
}

static void
respond_free_token(struct store_token *t)
{
    if (t != NULL)
        store_token_free(t);
    free(t);
}

void
respond_forget(struct respond_ctx *c)
{
    struct respond_sender *s = &c->sender;

    respond_free_row(s->row);
    for (size_t i = 0; i < s->n_old_rows; i++)
        respond_free_row(s->old_rows[i]);
    free(s->old_rows);
    respond_free_token(s->token);
    for (size_t i = 0; i < s->n_old_tokens; i++)
        respond_free_token(s->old_tokens[i]);
    free(s->old_tokens);
    memset(s, 0, sizeof(*s));
}

/* ---- the sender's rows read ahead of the mail's turn ---- */

static void
respond_kept_clear(struct respond_kept_one *o)
{
    free(o->address);
    respond_free_row(o->row);
    respond_free_token(o->token);
    memset(o, 0, sizeof(*o));
}

void
respond_keep(struct respond_ctx *c, const struct store_stamp *at, struct respond_kept *k)
{
    struct respond_sender *s = &c->sender;
    const char *addr = c->m->from_addr;

    if (!s->have_row || !s->have_token || !store_stamp_same(c->st, at))
        return;
    struct respond_kept_one *o = &k->slot[k->next];
    respond_kept_clear(o);
    if ((o->address = strdup(addr)) == NULL)
        return;
    k->next = (k->next + 1) % RESPOND_KEPT;
    o->now = c->now;
    o->stamp = *at;
    o->row = s->row;
    o->token = s->token;
    s->row = NULL;
    s->token = NULL;
    s->have_row = s->have_token = 0;
}

void
respond_take(struct respond_ctx *c, struct respond_kept *k)
{
    struct respond_sender *s = &c->sender;
    const char *addr = c->m->from_addr;

    for (size_t i = 0; addr != NULL && i < RESPOND_KEPT; i++) {
        struct respond_kept_one *o = &k->slot[i];
        if (o->address == NULL || strcmp(o->address, addr) != 0)
            continue;
        /* Nothing has written the address's rows since: the same read would find them again. */
        if (o->now == c->now && !s->have_row && !s->have_token &&
            store_stamp_same(c->st, &o->stamp)) {
            long long at = store_changes(c->st);
            s->row = o->row;
            s->token = o->token;
            o->row = NULL;
            o->token = NULL;
            s->have_row = s->have_token = 1;
            s->row_at = s->token_at = at;
        }
        respond_kept_clear(o);
    }
}

void
respond_kept_free(struct respond_kept *k)
{
    for (size_t i = 0; i < RESPOND_KEPT; i++)
        respond_kept_clear(&k->slot[i]);
    k->next = 0;
}
