/*
 * reader_wire: what crosses the pipes between the daemon and its isolated
 * reader (reader_int.h): the raw mail's parse, the request to read it with
 * what the daemon knows of the sender, and the reading that comes back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader_int.h"

/* A count read from the reader is believed only up to this (a mail has fewer of anything). */
#define READER_MAX_ITEMS 100000u

void
reader_put(struct reader_buf *b, const void *p, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (grown == NULL) {
            b->failed = 1;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void
reader_put_str(struct reader_buf *b, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : READER_NULL;
    reader_put(b, &n, sizeof(n));
    if (s)
        reader_put(b, s, n);
}

static void
reader_put_int(struct reader_buf *b, long long v)
{
    int64_t x = (int64_t)v;
    reader_put(b, &x, sizeof(x));
}

void
reader_get(struct reader_in *in, void *out, size_t n)
{
    if (in->failed || in->len - in->off < n) {
        in->failed = 1;
        memset(out, 0, n);
        return;
    }
    memcpy(out, in->p + in->off, n);
    in->off += n;
}

char *
reader_get_str(struct reader_in *in)
{
    uint32_t n;
    reader_get(in, &n, sizeof(n));
    if (in->failed || n == READER_NULL)
        return NULL;
    if (in->len - in->off < n) {
        in->failed = 1;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (s == NULL) {
        in->failed = 1;
        return NULL;
    }
    memcpy(s, in->p + in->off, n);
    s[n] = '\0';
    in->off += n;
    return s;
}

static long long
reader_get_int(struct reader_in *in, long long lo, long long hi)
{
    int64_t x;
    reader_get(in, &x, sizeof(x));
    if (x < lo || x > hi) {
        in->failed = 1;
        return lo;
    }
    return (long long)x;
}

/* A string that must be there. */
static char *
reader_get_str_set(struct reader_in *in)
{
    char *s = reader_get_str(in);
    if (s == NULL)
        in->failed = 1;
    return s;
}

/* ---- the parsed mail ---- */

void
reader_put_mail(struct reader_buf *b, const struct mail *m)
{
    const char *const strs[] = {m->message_id,   m->in_reply_to, m->references, m->from_addr,
                                m->from_name,    m->reply_to,    m->subject,    m->return_path,
                                m->content_type, m->text,        m->part_types};
    int64_t date = (int64_t)m->date;
    uint64_t size = m->size, nh = m->n_headers;

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        reader_put_str(b, strs[i]);
    reader_put(b, &date, sizeof(date));
    reader_put(b, &size, sizeof(size));
    reader_put(b, &nh, sizeof(nh));
    for (size_t i = 0; i < m->n_headers; i++) {
        reader_put_str(b, m->headers[i].name);
        reader_put_str(b, m->headers[i].value);
    }
}

struct mail *
reader_get_mail(struct reader_in *in)
{
    struct mail *m = calloc(1, sizeof(*m));
    int64_t date;
    uint64_t size, nh;

    if (m == NULL)
        return NULL;
    char **strs[] = {&m->message_id,   &m->in_reply_to, &m->references, &m->from_addr,
                     &m->from_name,    &m->reply_to,    &m->subject,    &m->return_path,
                     &m->content_type, &m->text,        &m->part_types};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        *strs[i] = reader_get_str(in);
    reader_get(in, &date, sizeof(date));
    reader_get(in, &size, sizeof(size));
    reader_get(in, &nh, sizeof(nh));
    m->date = (time_t)date;
    m->size = (size_t)size;
    if (!in->failed && nh > 0 && nh < in->len) {
        m->headers = calloc((size_t)nh, sizeof(*m->headers));
        if (m->headers == NULL)
            in->failed = 1;
        for (size_t i = 0; m->headers && i < nh && !in->failed; i++) {
            m->headers[i].name = reader_get_str(in);
            m->headers[i].value = reader_get_str(in);
            m->n_headers = i + 1;
            if (m->headers[i].name == NULL || m->headers[i].value == NULL)
                in->failed = 1;
        }
    } else if (nh > 0) {
        in->failed = 1;
    }
    if (in->failed) {
        mail_free(m);
        return NULL;
    }
    return m;
}

/* ---- the request: context and settings ---- */

void
reader_put_request(struct reader_buf *b, const struct config *cfg, size_t size,
                   const struct reading_context *ctx)
{
    const int v[] = {
        ctx->known,          ctx->member,          ctx->paused,           ctx->pending_confirm,
        ctx->pending_role,   ctx->answers_confirm, ctx->answers_proposal, ctx->answers_checkin,
        ctx->open_proposals, ctx->open_pairs,      ctx->manager};

    reader_put_int(b, (long long)size);
    reader_put_int(b, (long long)ctx->now);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        reader_put_int(b, v[i]);
    reader_put_int(b, cfg->limits.max_message_size);
    reader_put_int(b, cfg->programme.plus_addressing);
    reader_put_str(b, cfg->community.address);
    reader_put_int(b, (long long)cfg->community.n_managers);
    for (size_t i = 0; i < cfg->community.n_managers; i++)
        reader_put_str(b, cfg->community.managers[i]);
}

int
reader_get_request(struct reader_in *in, struct config *cfg, size_t *size,
                   struct reading_context *ctx)
{
    int *const v[] = {
        &ctx->known,          &ctx->member,          &ctx->paused,           &ctx->pending_confirm,
        &ctx->pending_role,   &ctx->answers_confirm, &ctx->answers_proposal, &ctx->answers_checkin,
        &ctx->open_proposals, &ctx->open_pairs,      &ctx->manager};

    memset(cfg, 0, sizeof(*cfg));
    memset(ctx, 0, sizeof(*ctx));
    *size = (size_t)reader_get_int(in, 0, INT64_MAX);
    ctx->now = (time_t)reader_get_int(in, INT64_MIN, INT64_MAX);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        *v[i] = (int)reader_get_int(in, INT32_MIN, INT32_MAX);
    cfg->limits.max_message_size = (int)reader_get_int(in, 0, INT32_MAX);
    cfg->programme.plus_addressing = (int)reader_get_int(in, 0, 1);
    cfg->community.address = reader_get_str(in);
    size_t n = (size_t)reader_get_int(in, 0, 1000);
    if (!in->failed && n > 0 && (cfg->community.managers = calloc(n, sizeof(char *))) == NULL)
        in->failed = 1;
    for (size_t i = 0; cfg->community.managers && i < n && !in->failed; i++) {
        cfg->community.managers[i] = reader_get_str_set(in);
        cfg->community.n_managers = i + 1;
    }
    if (in->failed) {
        reader_config_free(cfg);
        return -1;
    }
    return 0;
}

void
reader_config_free(struct config *cfg)
{
    free(cfg->community.address);
    for (size_t i = 0; i < cfg->community.n_managers; i++)
        free(cfg->community.managers[i]);
    free(cfg->community.managers);
    memset(cfg, 0, sizeof(*cfg));
}

/* ---- the reading ---- */

static void
reader_put_list(struct reader_buf *b, char *const *v, size_t n)
{
    reader_put_int(b, (long long)n);
    for (size_t i = 0; i < n; i++)
        reader_put_str(b, v[i]);
}

static void
reader_put_profile(struct reader_buf *b, const struct profile *p)
{
    reader_put_str(b, p->name);
    reader_put_list(b, p->skills, p->n_skills);
    reader_put_list(b, p->languages, p->n_languages);
    reader_put_str(b, p->timezone);
    reader_put_list(b, p->goals, p->n_goals);
    reader_put_int(b, p->capacity);
    reader_put_int(b, p->availability);
    reader_put_int(b, (long long)p->n_fields);
    reader_put_int(b, (long long)p->n_problems);
    for (size_t i = 0; i < p->n_problems; i++) {
        reader_put_int(b, p->problems[i].line);
        reader_put_str(b, p->problems[i].text);
        reader_put_str(b, p->problems[i].hint);
    }
}

static char **
reader_get_list(struct reader_in *in, size_t *n)
{
    *n = 0;
    size_t want = (size_t)reader_get_int(in, 0, READER_MAX_ITEMS);
    char **v = in->failed ? NULL : calloc(want ? want : 1, sizeof(char *));
    if (v == NULL) {
        in->failed = 1;
        return NULL;
    }
    for (size_t i = 0; i < want && !in->failed; i++) {
        v[i] = reader_get_str_set(in);
        *n = i + 1;
    }
    return v;
}

/* Into p (profile_init'd by the caller, so a failure frees cleanly). */
static void
reader_get_profile(struct reader_in *in, struct profile *p)
{
    p->name = reader_get_str(in);
    p->skills = reader_get_list(in, &p->n_skills);
    p->languages = reader_get_list(in, &p->n_languages);
    p->timezone = reader_get_str(in);
    p->goals = reader_get_list(in, &p->n_goals);
    p->capacity = (int)reader_get_int(in, -1, INT32_MAX);
    p->availability = (int)reader_get_int(in, -1, INT32_MAX);
    p->n_fields = (size_t)reader_get_int(in, 0, 64);
    size_t n = (size_t)reader_get_int(in, 0, READER_MAX_ITEMS);
    if (in->failed || n == 0)
        return;
    if ((p->problems = calloc(n, sizeof(*p->problems))) == NULL) {
        in->failed = 1;
        return;
    }
    for (size_t i = 0; i < n && !in->failed; i++) {
        p->problems[i].line = (int)reader_get_int(in, 0, INT32_MAX);
        p->problems[i].text = reader_get_str_set(in);
        p->problems[i].hint = reader_get_str_set(in);
        p->n_problems = i + 1;
    }
}

void
reader_put_reading(struct reader_buf *b, const struct reading *r)
{
    reader_put_int(b, r->kind);
    reader_put_int(b, r->classified);
    reader_put_str(b, r->class_reason);
    reader_put_int(b, r->intent);
    reader_put_int(b, r->confidence);
    reader_put_int(b, r->ask);
    reader_put(b, &r->cmd, sizeof(r->cmd)); /* plain data: numbers and a token */
    reader_put_int(b, r->rating);
    reader_put_str(b, r->rating_how);
    reader_put_int(b, r->pause_weeks);
    reader_put_int(b, r->capacity);
    reader_put(b, r->manager.buf, sizeof(r->manager.buf));
    reader_put_int(b, (long long)r->manager.n);
    for (size_t i = 0; i < r->manager.n; i++)
        reader_put_int(b, (long long)(r->manager.w[i] - r->manager.buf));
    reader_put_int(b, r->refuses_confirm);
    reader_put_int(b, (unsigned char)r->role_answer);
    reader_put_profile(b, &r->profile);
    reader_put_profile(b, &r->told);
    reader_put_str(b, r->place);
    reader_put_str(b, r->text);
    reader_put_str(b, r->prose);
    reader_put_str(b, r->sent_along);
    reader_put_str(b, r->address_header);
    reader_put_int(b, (long long)r->n_why);
    for (size_t i = 0; i < r->n_why; i++)
        reader_put_str(b, r->why[i]);
}

/*
 * The three names a reading points at without owning (static strings in the
 * reader) come over as text: kept in one block r->strings owns.
 */
static void
reader_get_names(struct reader_in *in, struct reading *r, char *reason, char *how, char *header)
{
    size_t a = reason ? strlen(reason) + 1 : 0, b = how ? strlen(how) + 1 : 0,
           c = header ? strlen(header) + 1 : 0;
    if (in->failed || a + b + c == 0)
        return;
    if ((r->strings = malloc(a + b + c)) == NULL) {
        in->failed = 1;
        return;
    }
    char *p = r->strings;
    if (reason)
        r->class_reason = memcpy(p, reason, a), p += a;
    if (how)
        r->rating_how = memcpy(p, how, b), p += b;
    if (header)
        r->address_header = memcpy(p, header, c);
}

static void
reader_get_manager(struct reader_in *in, struct command_manager *m)
{
    reader_get(in, m->buf, sizeof(m->buf));
    m->buf[sizeof(m->buf) - 1] = '\0';
    m->n = (size_t)reader_get_int(in, 0, COMMAND_MANAGER_WORDS);
    for (size_t i = 0; i < m->n && !in->failed; i++)
        m->w[i] = m->buf + reader_get_int(in, 0, (long long)sizeof(m->buf) - 1);
    if (in->failed)
        m->n = 0;
}

int
reader_get_reading(struct reader_in *in, struct reading *r)
{
    char *reason = NULL, *how = NULL, *header = NULL;

    memset(r, 0, sizeof(*r));
    if (profile_parse("", &r->profile) != 0 || profile_parse("", &r->told) != 0) {
        reading_free(r);
        return -1;
    }
    r->kind = (enum reading_kind)reader_get_int(in, READING_PERSON, READING_TOO_LARGE);
    r->classified = (enum classify_kind)reader_get_int(in, 0, CLASSIFY_SPAM);
    reason = reader_get_str(in);
    r->intent = (enum intent_kind)reader_get_int(in, 0, INTENT_COUNT - 1);
    r->confidence = (int)reader_get_int(in, 0, 100);
    r->ask = (enum reading_ask)reader_get_int(in, READING_ASK_NONE, READING_ASK_PROPOSAL);
    reader_get(in, &r->cmd, sizeof(r->cmd));
    r->cmd.token[sizeof(r->cmd.token) - 1] = '\0';
    if ((unsigned)r->cmd.kind > COMMAND_DECLINE)
        in->failed = 1;
    r->rating = (int)reader_get_int(in, 0, 100);
    how = reader_get_str(in);
    r->pause_weeks = (int)reader_get_int(in, 0, INT32_MAX);
    r->capacity = (int)reader_get_int(in, -1, INT32_MAX);
    reader_get_manager(in, &r->manager);
    r->refuses_confirm = (int)reader_get_int(in, 0, 1);
    r->role_answer = (char)reader_get_int(in, 0, 255);
    reader_get_profile(in, &r->profile);
    reader_get_profile(in, &r->told);
    r->place = reader_get_str(in);
    r->text = reader_get_str(in);
    r->prose = reader_get_str(in);
    r->sent_along = reader_get_str(in);
    header = reader_get_str(in);
    r->n_why = (size_t)reader_get_int(in, 0, READING_MAX_WHY);
    for (size_t i = 0; i < r->n_why && !in->failed; i++) {
        char *why = reader_get_str_set(in);
        snprintf(r->why[i], sizeof(r->why[i]), "%s", why ? why : "");
        free(why);
    }
    reader_get_names(in, r, reason, how, header);
    free(reason);
    free(how);
    free(header);
    if (in->failed || (r->kind == READING_PERSON && r->text == NULL)) {
        reading_free(r);
        return -1;
    }
    return 0;
}
