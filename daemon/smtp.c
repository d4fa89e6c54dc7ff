/*
 * smtp: drain the outbox with libcurl.
 *
 * A drain sends over smtp.sessions SMTP sessions at once.  Each session is a
 * thread with its own easy handle, so its own connection, that only talks
 * SMTP; this thread hands out the messages and alone touches the store.
 * (Not curl's multi interface: libcurl waits for the reply to the final dot
 * in blocking mode even there - curl issue 8555 - so one slow 250 would stall
 * every session.)  A session sends up to smtp.batch_size messages over its
 * connection, then opens a new one.  The drain reads the due list a chunk at
 * a time (batch_size per session; a chunk is read only when no message is in
 * flight) and goes on until nothing is due, the server or the connection is
 * at fault, or SMTP_DRAIN_SECONDS have passed (so the inbox is not starved by
 * a large outbox); then it lets the messages in flight finish and records
 * them.
 *
 * Only one session opens until one message has gone through the greeting and
 * EHLO: a server that refuses us (421 busy, a wrong password) then costs one
 * deferred message and one connection, not one per session.
 *
 * With one session (the default) there is no thread: the drain sends each
 * message itself, so no handoff costs a wake-up per mail.
 *
 * A message the server took is marked sent in the store's sent marks (one
 * write(2), store_sentlog.c) before its session takes its next message, so a
 * crash between the server's 250 and the mark repeats at most one message
 * per session.  The outcomes themselves are group-committed: written to the
 * outbox in one transaction when the chunk is done, a second has passed, or
 * a mark could not be written (then at once, as each outcome was before).
 * A forgotten defer or failure only repeats the attempt.  The commits run
 * with synchronous = NORMAL (store_set_durable): in WAL mode that survives a
 * crash of the process, as the marks do, and a power loss can only forget
 * the last group's "sent" marks, which makes those mails go out a second
 * time - a duplicate, never a loss.  The inbox's commits stay FULL, because
 * there a forgotten commit would lose a mail.
 *
 * The server's reply text is the last line the server sent, because
 * CURLOPT_ERRORBUFFER only holds curl's own summary and CURLINFO_RESPONSE_CODE
 * only the number.  The verb of the last command we sent says whether a 5xx
 * is about this message (MAIL, RCPT, DATA: fail it) or about us (greeting,
 * EHLO, AUTH: a configuration problem, so defer and stop the drain).  On a
 * connection that may be new, both come from curl's debug stream (verbose
 * mode); on one kept from the last message, whose commands are always MAIL,
 * RCPT, DATA, from the header callback, which gets every reply line without
 * the cost of verbose mode (header_cb).
 *
 * Sent mails are logged one line per group commit at info level (each
 * mail's own line is debug); deferrals and failures one line each.
 */
#include "smtp.h"

#include <ctype.h>
#include <curl/curl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "compose.h"
#include "log.h"

#define DEFAULT_BATCH 100
/* How long one drain may keep sending before the daemon goes back to its inbox. */
#define SMTP_DRAIN_SECONDS 30

struct upload {
    const char *part[3];
    size_t len[3];
    int i;
    size_t off;
};

struct drain;

/* One SMTP session: a thread with its own easy handle, so its own connection. */
struct session {
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
    char reply[512];  /* the last line the server sent */
    char command[16]; /* the verb of the last command we sent; "" before any */
    long fail_code;   /* the first 4xx/5xx reply of this transfer, 0 when none */
    int used;         /* messages sent over this handle's connection so far */
    int connections;  /* connections curl opened, for the debug log */
    int verbose;      /* this transfer feeds debug_cb (a connection that may be new) */
    int step;         /* quiet transfer: final replies so far, so the command they answer */
    struct upload up;
    CURLcode rc; /* how the last transfer ended */
    long code;   /* and the server's reply code to it */
    /* Shared with the drain, under its lock. */
    struct drain *drain;
    pthread_t thread;
    pthread_cond_t wake;
    int state;                       /* enum session_state */
    const struct store_outbox *item; /* the message being sent or waiting to be recorded */
};

enum outcome { OUTCOME_SENT, OUTCOME_DEFER, OUTCOME_FAIL };

struct verdict {
    enum outcome outcome;
    int stop_batch; /* the connection or the configuration is at fault, not this message */
    char text[1024];
};

static size_t
read_upload(char *buf, size_t size, size_t nitems, void *arg)
{
    struct upload *u = arg;
    size_t room = size * nitems, done = 0;
    while (done < room && u->i < 3) {
        size_t left = u->len[u->i] - u->off;
        size_t n = left < room - done ? left : room - done;
        memcpy(buf + done, u->part[u->i] + u->off, n);
        done += n;
        u->off += n;
        if (u->off == u->len[u->i]) {
            u->i++;
            u->off = 0;
        }
    }
    return done;
}

/* The reply code at the start of a server line, 0 when there is none. */
static long
reply_code(const char *line)
{
    if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
        !isdigit((unsigned char)line[2]))
        return 0;
    return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* Keep one server line (without CR/LF, control characters blanked) as the reply. */
static void
keep_line(struct session *s, const char *line, size_t n)
{
    if (n >= sizeof(s->reply))
        n = sizeof(s->reply) - 1;
    for (size_t i = 0; i < n; i++)
        s->reply[i] = iscntrl((unsigned char)line[i]) ? ' ' : line[i];
    s->reply[n] = '\0';
    long code = reply_code(s->reply);
    if (code >= 400)
        s->fail_code = code;
}

/*
 * Record the server's replies and the verbs we send.  The first refusal is
 * frozen: after it curl may still send QUIT, whose "221 Bye" is not the news.
 * Only the verb of an outgoing line is kept: "AUTH PLAIN <base64>" carries the
 * password.
 */
static int
debug_cb(CURL *curl, curl_infotype type, char *data, size_t size, void *arg)
{
    (void)curl;
    struct session *s = arg;
    /* After a refusal, or the 221 to the QUIT that closes a batch's connection, the
     * reply worth keeping is already there. */
    if (s->fail_code != 0 || memcmp(s->command, "QUIT", 5) == 0)
        return 0;
    if (type == CURLINFO_HEADER_IN) {
        const char *end = data + size;
        for (const char *line = data; line < end && s->fail_code == 0;) {
            const char *nl = memchr(line, '\n', (size_t)(end - line));
            const char *e = nl != NULL ? nl : end;
            size_t n = (size_t)(e - line);
            if (n > 0 && line[n - 1] == '\r')
                n--;
            if (n > 0)
                keep_line(s, line, n);
            line = nl != NULL ? nl + 1 : end;
        }
    } else if (type == CURLINFO_HEADER_OUT) {
        size_t n = 0;
        while (n < size && n + 1 < sizeof(s->command) && isalpha((unsigned char)data[n])) {
            s->command[n] = (char)toupper((unsigned char)data[n]);
            n++;
        }
        s->command[n] = '\0';
    }
    return 0;
}

/*
 * A quiet transfer (not verbose: see session_send) on a connection kept from
 * the last message sends MAIL, RCPT (one recipient), DATA and the message, so
 * its final replies answer those in that order.  A greeting (220) first means
 * curl had to open a new connection after all (the server closed the old
 * one): the commands are then unknown, and a refusal is taken as not about
 * the message (deferred, the drain stops), never as a reason to fail it.
 */
static const char *const quiet_steps[] = {"MAIL", "RCPT", "DATA", "DATA"};
#define QUIET_UNKNOWN "RECONNECT"

static size_t
header_cb(char *data, size_t size, size_t nitems, void *arg)
{
    struct session *s = arg;
    size_t n = size * nitems;
    if (s->verbose || s->fail_code != 0)
        return n; /* debug_cb has the line, or the refusal is already kept */
    size_t len = n;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len == 0)
        return n;
    int final = len < 4 || data[3] != '-';
    if (s->step == 0 && len >= 3 && reply_code(data) == 220)
        memcpy(s->command, QUIET_UNKNOWN, sizeof(QUIET_UNKNOWN));
    if (strcmp(s->command, QUIET_UNKNOWN) != 0) {
        if (s->step >= (int)(sizeof(quiet_steps) / sizeof(quiet_steps[0])))
            return n; /* more than a message's replies: nothing this message needs */
        memcpy(s->command, quiet_steps[s->step], 5); /* each is 4 letters */
    }
    keep_line(s, data, len);
    if (final)
        s->step++;
    return n;
}

/* The URL with the EHLO name as its path, which is where libcurl takes it from. */
static char *
session_url(const struct config_smtp *c)
{
    char *url = NULL;
    const char *helo = c->helo != NULL && c->helo[0] ? c->helo : NULL;
    if (c->url != NULL && c->url[0]) {
        const char *host = strstr(c->url, "://");
        int has_path = host != NULL && strchr(host + 3, '/') != NULL;
        if (has_path || helo == NULL)
            return strdup(c->url);
        return asprintf(&url, "%s/%s", c->url, helo) < 0 ? NULL : url;
    }
    const char *scheme = c->tls.security == CONFIG_SEC_TLS ? "smtps" : "smtp";
    if (asprintf(&url, "%s://%s:%d/%s", scheme, c->host != NULL ? c->host : "localhost", c->port,
                 helo != NULL ? helo : "") < 0)
        return NULL;
    return url;
}

static CURLcode
session_options(struct session *s, const struct config_smtp *c, const char *url, const char *token)
{
    long timeout = c->timeout > 0 ? c->timeout : 60;
    CURLcode rc = CURLE_OK;
#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(s->curl, opt, val);                                              \
    } while (0)
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    /* TLS is required whenever it is configured: never fall back to plain text. */
    SETOPT(CURLOPT_USE_SSL,
           (long)(c->tls.security == CONFIG_SEC_NONE ? CURLUSESSL_NONE : CURLUSESSL_ALL));
    SETOPT(CURLOPT_SSL_VERIFYPEER, c->tls.verify ? 1L : 0L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, c->tls.verify ? 2L : 0L);
    if (c->tls.ca_file != NULL && c->tls.ca_file[0]) {
        /*
         * Instead of the system's store, as documented: without clearing the
         * CA path libcurl would still load every certificate in it for each
         * handle (memory that four sessions multiply) and trust them all.
         */
        SETOPT(CURLOPT_CAINFO, c->tls.ca_file);
        SETOPT(CURLOPT_CAPATH, (char *)NULL);
    }
    if (c->user != NULL && c->user[0] && c->auth != CONFIG_AUTH_PASSWORD) {
        /* The mechanism named, not negotiated: Gmail refuses curl's OAUTHBEARER form, and a
         * server offering both would otherwise get whichever libcurl prefers. */
        SETOPT(CURLOPT_USERNAME, c->user);
        SETOPT(CURLOPT_XOAUTH2_BEARER, token);
        SETOPT(CURLOPT_LOGIN_OPTIONS,
               c->auth == CONFIG_AUTH_XOAUTH2 ? "AUTH=XOAUTH2" : "AUTH=OAUTHBEARER");
    } else if (c->user != NULL && c->user[0]) {
        SETOPT(CURLOPT_USERNAME, c->user);
        SETOPT(CURLOPT_PASSWORD, c->password != NULL ? c->password : "");
    }
    SETOPT(CURLOPT_CONNECTTIMEOUT, timeout);
    SETOPT(CURLOPT_TIMEOUT, timeout);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_UPLOAD, 1L);
    SETOPT(CURLOPT_READFUNCTION, read_upload);
    SETOPT(CURLOPT_READDATA, &s->up);
    SETOPT(CURLOPT_ERRORBUFFER, s->errbuf);
    SETOPT(CURLOPT_DEBUGFUNCTION, debug_cb);
    SETOPT(CURLOPT_DEBUGDATA, s);
    SETOPT(CURLOPT_HEADERFUNCTION, header_cb); /* every server line, also when not verbose */
    SETOPT(CURLOPT_HEADERDATA, s);
#undef SETOPT
    return rc;
}

/* The session's easy handle, set up once; each message only sets its envelope. */
static int
session_open(struct session *s, const struct config_smtp *c, const char *token)
{
    char *url = session_url(c);
    s->curl = url != NULL ? curl_easy_init() : NULL;
    if (s->curl == NULL) {
        log_error("smtp: cannot set up a libcurl handle (out of memory?)");
        free(url);
        return -1;
    }
    CURLcode rc = session_options(s, c, url, token);
    free(url); /* libcurl copies string options */
    if (rc != CURLE_OK) {
        log_error("smtp: libcurl refused an option: %s", curl_easy_strerror(rc));
        curl_easy_cleanup(s->curl);
        s->curl = NULL;
        return -1;
    }
    return 0;
}

static int
per_message_command(const char *cmd)
{
    return strcmp(cmd, "MAIL") == 0 || strcmp(cmd, "RCPT") == 0 || strcmp(cmd, "DATA") == 0 ||
           strcmp(cmd, "RSET") == 0;
}

static void
classify(const struct session *s, CURLcode rc, long code, struct verdict *v)
{
    int per_message = per_message_command(s->command);
    const char *curl_text = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
    memset(v, 0, sizeof(*v));
    if (rc == CURLE_OK && code / 100 == 2) {
        v->outcome = OUTCOME_SENT;
        snprintf(v->text, sizeof(v->text), "%s", s->reply);
    } else if (code >= 500 && code < 600 && per_message) {
        v->outcome = OUTCOME_FAIL;
        snprintf(v->text, sizeof(v->text), "%s: %s", s->command, s->reply);
    } else if (code >= 400 && code < 600) {
        /* 4xx, or a 5xx to the greeting, EHLO or AUTH (535: wrong credentials),
         * which is our configuration's fault, not the message's. */
        v->outcome = OUTCOME_DEFER;
        v->stop_batch = !per_message || code == 421;
        snprintf(v->text, sizeof(v->text), "%s: %s", s->command[0] ? s->command : "greeting",
                 s->reply);
    } else {
        v->outcome = OUTCOME_DEFER;
        v->stop_batch = 1;
        snprintf(v->text, sizeof(v->text), "%s%s%s", curl_text,
                 s->reply[0] ? "; server said: " : "", s->reply);
    }
    if (rc == CURLE_USE_SSL_FAILED || rc == CURLE_PEER_FAILED_VERIFICATION ||
        rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_CACERT_BADFILE)
        log_error("smtp: TLS with the server failed (check smtp security/tls_ca_file): %s",
                  v->text);
    else if (strcmp(s->command, QUIET_UNKNOWN) == 0 && code >= 400)
        log_warn("smtp: the server closed the connection kept for this mail, then refused it "
                 "on a new one, after a command we did not see; deferred: %s",
                 v->text);
    else if (rc == CURLE_LOGIN_DENIED || (code >= 500 && !per_message))
        log_error("smtp: the server refused us at %s (check smtp user/password/url): %s",
                  s->command[0] ? s->command : "the greeting", v->text);
}

/* An outcome to record: the message and the verdict on it. */
struct pending {
    struct session *session; /* whose message it was; NULL when none was sent */
    const struct store_outbox *item;
    struct verdict v;
    int delay; /* before the next attempt, when deferred */
};

/* A deferral past max_lifetime becomes a failure. */
static void
give_up_if_too_old(const struct config_smtp *c, time_t now, struct pending *p)
{
    const struct store_outbox *it = p->item;
    struct verdict *v = &p->v;
    if (v->outcome == OUTCOME_DEFER && c->max_lifetime > 0 && it->created + c->max_lifetime < now) {
        char last[sizeof(v->text)];
        snprintf(last, sizeof(last), "%s", v->text);
        snprintf(v->text, sizeof(v->text), "gave up after %d attempts over %lld hours: %.900s",
                 it->attempts + 1, (long long)(now - it->created) / 3600, last);
        v->outcome = OUTCOME_FAIL;
    }
}

/* A deferral or a failure, one row (rare: the sent ones go together, write_sent). */
static int
write_outcome(struct store *st, const struct config_smtp *c, time_t now, struct pending *p)
{
    switch (p->v.outcome) {
    case OUTCOME_SENT:
        return 0;
    case OUTCOME_DEFER:
        p->delay = smtp_backoff(c, p->item->attempts + 1);
        return store_outbox_defer(st, p->item->id, now + p->delay, p->v.text);
    case OUTCOME_FAIL:
        return store_outbox_fail(st, p->item->id, now, p->v.text);
    }
    return -1;
}

/*
 * A sent mail's own line is debug detail: the outbox row keeps its reply and
 * time (mentorctl shows them), and record() logs one line per group.  At
 * info level, a line per mail (formatting, a write(2)) cost more CPU than its
 * sent mark.  Deferrals and failures stay one line each: they need a look.
 */
static void
log_outcome(const struct pending *p, struct smtp_result *res)
{
    const struct store_outbox *it = p->item;
    if (p->v.outcome == OUTCOME_SENT) {
        res->sent++;
        log_ctx(LOG_LEVEL_DEBUG, it->message_id, it->recipient, "sent: %s", p->v.text);
    } else if (p->v.outcome == OUTCOME_DEFER) {
        res->deferred++;
        log_ctx(LOG_LEVEL_WARN, it->message_id, it->recipient,
                "deferred (attempt %d, retry in %d s): %s", it->attempts + 1, p->delay, p->v.text);
    } else {
        res->failed++;
        log_ctx(LOG_LEVEL_ERROR, it->message_id, it->recipient, "failed: %s", p->v.text);
    }
}

/* The group's sent outcomes in a few statements (marks: room for n); 0 or -1. */
static int
write_sent(struct store *st, time_t now, const struct pending *p, int n,
           struct store_outbox_mark *marks)
{
    size_t k = 0;
    for (int i = 0; i < n; i++)
        if (p[i].v.outcome == OUTCOME_SENT)
            marks[k++] = (struct store_outbox_mark){.id = p[i].item->id, .reply = p[i].v.text};
    return store_outbox_sent_all(st, marks, k, now);
}

/*
 * Write the outcomes of messages that finished together in one transaction
 * and log them; -1 when the store failed.  The sent ones among them are
 * marked in the sent marks already (or, without marks, no session sends
 * anything else before this commit), so a crash still repeats at most one
 * message per session.
 */
static int
record(struct store *st, const struct config_smtp *c, time_t now, struct pending *p, int n,
       struct store_outbox_mark *marks, struct smtp_result *res)
{
    int i = 0;
    for (int k = 0; k < n; k++)
        give_up_if_too_old(c, now, &p[k]);
    if (store_begin(st) != 0)
        goto store_error;
    for (; i < n; i++)
        if (write_outcome(st, c, now, &p[i]) != 0)
            break;
    if (i < n || write_sent(st, now, p, n, marks) != 0 || store_commit(st) != 0) {
        store_rollback(st);
        goto store_error;
    }
    int sent = res->sent;
    for (int k = 0; k < n; k++)
        log_outcome(&p[k], res);
    if (res->sent > sent)
        log_info("smtp: %d sent, committed together", res->sent - sent);
    return 0;
store_error:
    if (i >= n)
        i = 0;
    log_ctx(LOG_LEVEL_ERROR, p[i].item->message_id, p[i].item->recipient,
            "smtp: cannot record the outcome (%s) of this and %d other message(s) in the store: %s",
            p[i].v.text, n - 1, store_errmsg(st));
    return -1;
}

/* Print the message with LF line ends, for a person reading a terminal. */
static void
print_lf(FILE *out, const char *text)
{
    for (; *text; text++) {
        if (!(text[0] == '\r' && text[1] == '\n'))
            fputc(*text, out);
    }
}

static void
dry_print(FILE *out, const struct store_outbox *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "----- mentord --dry-run: message %zu to <%s> -----\n", i + 1,
                items[i].recipient);
        print_lf(out, items[i].headers);
        fputc('\n', out);
        print_lf(out, items[i].body);
    }
    fflush(out);
}

/* How many due rows one read of the outbox takes at most (memory: headers and bodies). */
#define DRAIN_CHUNK_MAX 400
/* Outcomes wait at most this long for their group commit (so mentorctl sees progress). */
#define GROUP_SECONDS 1

enum session_state {
    SESSION_IDLE, /* waiting for a message */
    SESSION_BUSY, /* its thread is sending s->item */
    SESSION_DONE, /* sent or not: the outcome waits for the drain to record it */
    SESSION_QUIT  /* the drain is over: the thread ends */
};

/* One drain: the chunk of due rows being sent, and the sessions sending it. */
struct drain {
    const struct config *cfg;
    struct store *st;
    time_t now;
    struct smtp_result *res;
    pthread_mutex_t lock; /* guards every session's state, item and outcome */
    pthread_cond_t changed;
    struct session *sessions;
    struct pending *pending;        /* outcomes waiting for their group commit, one per chunk row */
    struct store_outbox_mark *sent; /* room for as many, for record() */
    int npending;
    time_t group_started;        /* when the first of them came */
    int must_commit;             /* a mark failed: commit before any session sends again */
    struct store_sentlog *marks; /* NULL: none, so each outcome is committed at once */
    struct smtp_auth *auth;      /* the OAuth 2.0 token, or NULL */
    int n_sessions;
    int started; /* threads running */
    int open;    /* sessions that may send: 1 until a message got past the greeting */
    int stop;    /* start nothing more: the server, the connection or we are at fault */
    int store_failed;
    const struct store_outbox *items; /* the current chunk of due rows */
    size_t n, next;
};

static const char *
envelope_sender(const struct config *cfg, const struct store_outbox *it)
{
    return it->sender != NULL       ? it->sender
           : cfg->smtp.from != NULL ? cfg->smtp.from
                                    : cfg->community.address;
}

/*
 * Send one message over the session's connection (a new one after
 * batch_size messages), blocking; rc and code say how it went.  Runs in the
 * session's thread and touches nothing but the session.
 */
static void
session_send(struct session *s, const struct config *cfg)
{
    const struct config_smtp *c = &cfg->smtp;
    const struct store_outbox *it = s->item;
    int per_connection = c->batch_size > 0 ? c->batch_size : DEFAULT_BATCH;
    char from[300], rcpt[300];

    snprintf(from, sizeof(from), "<%s>", envelope_sender(cfg, it));
    snprintf(rcpt, sizeof(rcpt), "<%s>", it->recipient);
    /*
     * Verbose only where the connection may be new (a new handle, or after a
     * failed message, whose connection curl may have closed): there debug_cb
     * sees the greeting, EHLO and AUTH we send, so a refusal is judged by its
     * command.  On a kept connection, curl's verbose mode formatted a dozen
     * lines of text per message for nothing: header_cb alone reads the replies.
     */
    int fresh = s->curl == NULL || s->used == 0 || s->used >= per_connection || s->rc != CURLE_OK ||
                s->code / 100 != 2;
    /* batch_size messages per connection: then a fresh handle, so a fresh connection. */
    if (s->curl != NULL && s->used >= per_connection) {
        curl_easy_cleanup(s->curl); /* its QUIT's reply may pass our callbacks: reset next */
        s->curl = NULL;
    }
    s->errbuf[0] = s->reply[0] = s->command[0] = '\0';
    s->fail_code = s->code = 0;
    s->step = 0;
    s->verbose = fresh;
    if (s->curl == NULL) {
        s->used = 0;
        if (session_open(s, c, s->drain->auth != NULL ? s->drain->auth->token : NULL) != 0) {
            s->rc = CURLE_FAILED_INIT; /* logged */
            return;
        }
    }
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    s->up = (struct upload){.part = {it->headers, "\r\n", it->body},
                            .len = {strlen(it->headers), 2, strlen(it->body)}};
    CURLcode rc = rcpts == NULL ? CURLE_OUT_OF_MEMORY : CURLE_OK;
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_VERBOSE, (long)s->verbose);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, from);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(s->curl);
    s->code = s->fail_code;
    if (s->code == 0 && curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->code) != CURLE_OK)
        s->code = 0;
    long connects = 0;
    if (curl_easy_getinfo(s->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
        s->connections += (int)connects;
    s->rc = rc;
    s->used++;
    curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL); /* the list is freed next */
    curl_slist_free_all(rcpts);
}

/* A session's thread: send what the drain hands over, one message at a time. */
static void *
session_thread(void *arg)
{
    struct session *s = arg;
    struct drain *d = s->drain;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        while (s->state == SESSION_IDLE || s->state == SESSION_DONE)
            pthread_cond_wait(&s->wake, &d->lock);
        if (s->state == SESSION_QUIT)
            break;
        pthread_mutex_unlock(&d->lock);
        session_send(s, d->cfg);
        pthread_mutex_lock(&d->lock);
        s->state = SESSION_DONE;
        pthread_cond_signal(&d->changed);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

/* Give session i the next message; 0, or -1 when its thread cannot start (logged). */
static int
hand_over(struct drain *d, int i)
{
    struct session *s = &d->sessions[i];
    if (i >= d->started) {
        s->drain = d;
        /* The thread starts with every signal blocked: SIGTERM and SIGHUP are the daemon's. */
        sigset_t all, old;
        sigfillset(&all);
        int rc = pthread_cond_init(&s->wake, NULL);
        if (rc != 0) {
            log_error("smtp: cannot set up SMTP session %d: %s", i + 1, strerror(rc));
            return -1;
        }
        if ((rc = pthread_sigmask(SIG_SETMASK, &all, &old)) == 0) {
            rc = pthread_create(&s->thread, NULL, session_thread, s);
            pthread_sigmask(SIG_SETMASK, &old, NULL);
        }
        if (rc != 0) {
            log_error("smtp: cannot start the thread of SMTP session %d: %s", i + 1, strerror(rc));
            pthread_cond_destroy(&s->wake);
            return -1;
        }
        d->started++;
    }
    s->item = &d->items[d->next++];
    s->state = SESSION_BUSY;
    pthread_cond_signal(&s->wake);
    return 0;
}

/* A message that cannot be sent to anyone fails without a connection. */
static int
envelope_ok(struct drain *d, const struct store_outbox *it, struct pending *p)
{
    if (compose_address_ok(it->recipient) && compose_address_ok(envelope_sender(d->cfg, it)))
        return 1;
    memset(p, 0, sizeof(*p));
    p->item = it;
    p->v.outcome = OUTCOME_FAIL;
    snprintf(p->v.text, sizeof(p->v.text), "invalid envelope address");
    return 0;
}

/*
 * Commit the outcomes waiting for their group with the lock released: the
 * sessions go on sending meanwhile (the marks of those sent are already
 * written), then empty the marks, which are all in the outbox now.
 */
static void
commit_group(struct drain *d)
{
    if (d->npending == 0)
        return;
    int n = d->npending;
    d->npending = 0;
    d->must_commit = 0;
    pthread_mutex_unlock(&d->lock);
    int rc = record(d->st, &d->cfg->smtp, d->now, d->pending, n, d->sent, d->res);
    if (rc == 0 && d->marks != NULL && store_sentlog_settled(d->marks) != 0)
        log_warn("smtp: %s (the marks are applied again, harmlessly, by the next drain)",
                 store_errmsg(d->st));
    pthread_mutex_lock(&d->lock);
    if (rc != 0) {
        d->store_failed = 1;
        d->stop = 1;
    }
}

/* One more outcome for the group; a sent message is marked first. */
static void
add_outcome(struct drain *d, const struct pending *p)
{
    if (d->npending == 0)
        d->group_started = time(NULL);
    d->pending[d->npending++] = *p;
    if (p->v.outcome != OUTCOME_SENT)
        return; /* a forgotten defer or failure only repeats the attempt */
    if (d->marks == NULL || store_sentlog_mark(d->marks, p->item, d->now, p->v.text) != 0) {
        if (d->marks != NULL)
            log_warn("smtp: %s; committing each outcome instead", store_errmsg(d->st));
        d->must_commit = 1;
    }
}

/* Commit now when a session would otherwise send on with an unrecorded sent message. */
static void
commit_if_due(struct drain *d)
{
    if (d->must_commit || d->npending >= (int)d->n ||
        time(NULL) - d->group_started >= GROUP_SECONDS)
        commit_group(d);
}

/* Hand the chunk's next messages to the idle sessions that may send. */
static void
dispatch(struct drain *d)
{
    for (int i = 0; i < d->open && !d->stop && d->next < d->n; i++) {
        if (d->sessions[i].state != SESSION_IDLE)
            continue;
        struct pending p;
        if (!envelope_ok(d, &d->items[d->next], &p)) {
            d->next++;
            add_outcome(d, &p);
            i--; /* this session is still idle */
        } else if (hand_over(d, i) != 0) {
            d->stop = 1; /* everything left stays queued for the next drain */
        }
    }
}

/*
 * The server refused our OAuth token (a 5xx to AUTH, or libcurl's LOGIN_DENIED
 * after the XOAUTH2 error challenge).  When the caller will refresh the token
 * and drain again, the message is not deferred: nothing was wrong with it, and
 * it is sent a moment later with the new token.
 */
static int
held_for_token(struct drain *d, struct session *s)
{
    if (d->auth == NULL || !d->auth->hold_refused ||
        !(s->rc == CURLE_LOGIN_DENIED || (strcmp(s->command, "AUTH") == 0 && s->code >= 500)))
        return 0;
    d->auth->refused = 1;
    d->stop = 1;
    s->item = NULL;
    s->state = SESSION_IDLE;
    /* A refused login leaves the connection closed or unusable: a fresh one next time. */
    curl_easy_cleanup(s->curl);
    s->curl = NULL;
    return 1;
}

/*
 * Judge the finished messages and add them to the group.  A session may take
 * its next message once its sent message is marked (or, without marks,
 * committed).
 */
static void
collect(struct drain *d)
{
    for (int i = 0; i < d->n_sessions; i++) {
        struct session *s = &d->sessions[i];
        if (s->state != SESSION_DONE || held_for_token(d, s))
            continue;
        struct pending p = {.session = s, .item = s->item};
        classify(s, s->rc, s->code, &p.v);
        if (p.v.stop_batch)
            d->stop = 1; /* the others are not deferred: they never got their chance */
        else
            d->open = d->n_sessions; /* the server takes our messages: use every session */
        add_outcome(d, &p);
        s->item = NULL;
        s->state = SESSION_IDLE;
    }
    commit_if_due(d);
}

/* Send the current chunk over the session threads. */
static void
run_chunk_threads(struct drain *d)
{
    for (;;) {
        dispatch(d);
        collect(d);
        dispatch(d);
        int busy = 0, done = 0;
        for (int i = 0; i < d->started; i++) {
            busy |= d->sessions[i].state == SESSION_BUSY;
            done |= d->sessions[i].state == SESSION_DONE;
        }
        if (done)
            continue; /* finished while we were recording: its signal is already gone */
        if (!busy)
            break; /* every message handed out is judged, and no more can be handed out */
        pthread_cond_wait(&d->changed, &d->lock);
    }
}

/* Send the current chunk over one session, from this thread: no handoff per message. */
static void
run_chunk_inline(struct drain *d)
{
    struct session *s = &d->sessions[0];
    s->drain = d;
    while (!d->stop && d->next < d->n) {
        const struct store_outbox *it = &d->items[d->next++];
        struct pending p;
        if (!envelope_ok(d, it, &p)) {
            add_outcome(d, &p);
            commit_if_due(d);
            continue;
        }
        s->item = it;
        s->state = SESSION_BUSY;
        session_send(s, d->cfg);
        s->state = SESSION_DONE;
        collect(d);
    }
}

/* Send the current chunk, then commit what waits: the chunk's rows are freed next. */
static void
run_chunk(struct drain *d)
{
    pthread_mutex_lock(&d->lock);
    if (d->n_sessions == 1)
        run_chunk_inline(d);
    else
        run_chunk_threads(d);
    commit_group(d);
    pthread_mutex_unlock(&d->lock);
}

static void
drain_free(struct drain *d)
{
    free(d->sessions);
    free(d->pending);
    free(d->sent);
}

static int
drain_open(struct drain *d, size_t chunk)
{
    d->n_sessions = d->cfg->smtp.sessions > 0 ? d->cfg->smtp.sessions : 1;
    d->open = 1;
    d->sessions = calloc((size_t)d->n_sessions, sizeof(*d->sessions));
    d->pending = calloc(chunk, sizeof(*d->pending));
    d->sent = calloc(chunk, sizeof(*d->sent));
    if (d->sessions == NULL || d->pending == NULL || d->sent == NULL) {
        log_error("smtp: out of memory for %d SMTP sessions", d->n_sessions);
        drain_free(d);
        return -1;
    }
    if (pthread_mutex_init(&d->lock, NULL) != 0 || pthread_cond_init(&d->changed, NULL) != 0) {
        log_error("smtp: cannot set up the sessions' lock");
        drain_free(d);
        return -1;
    }
    /* Before the due list is read: marks a crashed drain left make their mails sent. */
    if (store_sentlog_open(d->st, &d->marks) != 0) {
        log_warn("smtp: %s; each outcome is committed before the next mail goes out",
                 store_errmsg(d->st));
        d->marks = NULL;
    }
    return 0;
}

static void
drain_close(struct drain *d)
{
    int connections = 0;
    pthread_mutex_lock(&d->lock);
    for (int i = 0; i < d->started; i++) {
        d->sessions[i].state = SESSION_QUIT;
        pthread_cond_signal(&d->sessions[i].wake);
    }
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; i < d->n_sessions; i++) {
        struct session *s = &d->sessions[i];
        if (i < d->started) {
            pthread_join(s->thread, NULL);
            pthread_cond_destroy(&s->wake);
        }
        connections += s->connections;
        if (s->curl != NULL)
            curl_easy_cleanup(s->curl); /* closes its connection with QUIT */
    }
    store_sentlog_close(d->marks);
    pthread_cond_destroy(&d->changed);
    pthread_mutex_destroy(&d->lock);
    drain_free(d);
    if (connections > 0)
        log_debug("smtp: %d sent, %d deferred, %d failed over %d connection(s), %d session(s)",
                  d->res->sent, d->res->deferred, d->res->failed, connections,
                  d->started > 0 ? d->started : 1);
}

/* Send what is due, a chunk at a time from the store, until none is or we must stop. */
static int
send_due(const struct config *cfg, struct store *st, time_t now, struct smtp_auth *auth,
         struct smtp_result *res)
{
    struct drain d = {.cfg = cfg, .st = st, .now = now, .res = res, .auth = auth};
    time_t started = time(NULL);
    int rc = 0;
    /* Before any thread: libcurl's global set-up is not thread-safe (a no-op when done). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("smtp: libcurl's global set-up failed; nothing sent");
        return 0;
    }
    /* batch_size per session, so each session has a batch to send before the next read. */
    int sessions = cfg->smtp.sessions > 0 ? cfg->smtp.sessions : 1;
    long limit = (long)(cfg->smtp.batch_size > 0 ? cfg->smtp.batch_size : DEFAULT_BATCH) * sessions;
    if (limit > DRAIN_CHUNK_MAX)
        limit = DRAIN_CHUNK_MAX;
    if (drain_open(&d, (size_t)limit) != 0) {
        curl_global_cleanup();
        return 0; /* logged; everything stays queued for the next drain */
    }
    /* The next chunk is read only when no session is busy, so no row is read while in flight. */
    while (!d.stop) {
        struct store_outbox *items = NULL;
        size_t n = 0;
        if (store_outbox_due(st, now, (int)limit, &items, &n) != 0) {
            log_error("smtp: cannot read the outbox: %s", store_errmsg(st));
            rc = -1;
            break;
        }
        d.items = items;
        d.n = n;
        d.next = 0;
        run_chunk(&d);
        store_outbox_free(items, n);
        if (d.store_failed)
            rc = -1;
        /* Fewer than asked for: nothing else is due.  And the inbox gets its turn. */
        if (n < (size_t)limit || time(NULL) - started >= SMTP_DRAIN_SECONDS)
            break;
    }
    drain_close(&d);
    curl_global_cleanup();
    return rc;
}

/*
 * The drain is the daemon's last step before it waits for mail, so this is
 * where the memory of the whole round goes back to the kernel: a matching
 * round reads every candidate (with 100,000 members about 10 MB of small
 * strings), and glibc keeps freed heap pages mapped unless asked; SQLite keeps
 * its page cache.  Both refill on demand.
 */
static void
smtp_idle_memory(struct store *st)
{
    if (store_release_memory(st) != 0)
        log_debug("smtp: SQLite kept its page cache");
    malloc_trim(0);
}

int
smtp_drain(const struct config *cfg, struct store *st, time_t now, int dry_run, FILE *dry_out,
           struct smtp_result *res)
{
    return smtp_drain_auth(cfg, st, now, dry_run, dry_out, NULL, res);
}

int
smtp_drain_auth(const struct config *cfg, struct store *st, time_t now, int dry_run, FILE *dry_out,
                struct smtp_auth *auth, struct smtp_result *res)
{
    memset(res, 0, sizeof(*res));
    if (auth != NULL)
        auth->refused = 0;
    if (dry_run) {
        int limit = cfg->smtp.batch_size > 0 ? cfg->smtp.batch_size : DEFAULT_BATCH;
        struct store_outbox *items = NULL;
        size_t n = 0;
        if (store_outbox_due(st, now, limit, &items, &n) != 0) {
            log_error("smtp: cannot read the outbox: %s", store_errmsg(st));
            return -1;
        }
        dry_print(dry_out != NULL ? dry_out : stdout, items, n);
        store_outbox_free(items, n);
        return 0;
    }
    /* See the top of the file: a forgotten sent-mark costs a duplicate, not a loss. */
    if (store_set_durable(st, 0) != 0)
        log_warn("smtp: cannot relax synchronous mode, sending with full durability: %s",
                 store_errmsg(st));
    if (cfg->smtp.user != NULL && cfg->smtp.auth != CONFIG_AUTH_PASSWORD &&
        (auth == NULL || auth->token == NULL)) {
        /* The caller has said why (refused, endpoint down); the outbox waits untouched. */
        log_debug("smtp: no OAuth 2.0 access token to log in with; the outbox waits");
        smtp_idle_memory(st);
        return 0;
    }
    int rc = send_due(cfg, st, now, auth, res);
    if (store_set_durable(st, 1) != 0) {
        /* The inbox's commits must not run without it: report it as a store failure. */
        log_error("smtp: cannot restore synchronous = FULL: %s", store_errmsg(st));
        rc = -1;
    }
    smtp_idle_memory(st);
    return rc;
}

int
smtp_backoff(const struct config_smtp *smtp, int attempts)
{
    double base = smtp->retry_base > 0 ? smtp->retry_base : 60;
    double max = smtp->retry_max > base ? smtp->retry_max : base;
    double d = base;
    for (int i = 1; i < attempts && d < max; i++)
        d *= 2;
    if (d > max)
        d = max;
    /* Jitter spreads the retries of many messages deferred at once. */
    uint32_t r;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
        d *= 0.9 + 0.2 * ((double)r / UINT32_MAX);
    int delay = (int)(d + 0.5);
    return delay > 0 ? delay : 1;
}
