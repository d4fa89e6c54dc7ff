/*
 * smtp: drain the outbox with libcurl.
 *
 * One easy handle for the whole drain: curl keeps the connection open between
 * transfers to the same URL, so the drain costs one TLS handshake per
 * smtp.batch_size messages (the messages per connection), not one per mail.
 * The drain goes on, reading the due list batch_size at a time, until nothing
 * is due, the server or the connection is at fault, or SMTP_DRAIN_SECONDS have
 * passed (so the inbox is not starved by a large outbox).
 *
 * Every outcome is written in its own small transaction right after the server
 * answered, so a crash between the server's 250 and our commit repeats at most
 * that one message.  Those commits run with synchronous = NORMAL
 * (store_set_durable): in WAL mode that survives a crash of the process, and
 * a power loss can only forget the last few "sent" marks, which makes those
 * mails go out a second time - a duplicate, never a loss (a forgotten defer or
 * failure only repeats the attempt).  That saves one fsync per mail; the inbox's
 * commits stay FULL, because there a forgotten commit would lose a mail.
 *
 * The server's reply text is taken from curl's debug stream (the last line the
 * server sent), because CURLOPT_ERRORBUFFER only holds curl's own summary.
 * The verb of the last command we sent says whether a 5xx is about this
 * message (MAIL, RCPT, DATA: fail it) or about us (greeting, EHLO, AUTH: a
 * configuration problem, so defer and stop the batch).
 */
#include "smtp.h"

#include <ctype.h>
#include <curl/curl.h>
#include <malloc.h>
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

struct session {
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
    char reply[512];  /* the last line the server sent */
    char command[16]; /* the verb of the last command we sent; "" before any */
    long fail_code;   /* the first 4xx/5xx reply of this transfer, 0 when none */
    int used;         /* messages sent over this handle's connection so far */
    int connections;  /* connections curl opened (from its debug text), for the debug log */
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
    return strtol((char[4]){line[0], line[1], line[2], '\0'}, NULL, 10);
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
    /* curl says so when it opens a connection rather than re-using one. */
    if (type == CURLINFO_TEXT && size >= 12 && memcmp(data, "Connected to", 12) == 0)
        s->connections++;
    if (s->fail_code != 0)
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
session_options(struct session *s, const struct config_smtp *c, const char *url)
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
    if (c->tls.ca_file != NULL && c->tls.ca_file[0])
        SETOPT(CURLOPT_CAINFO, c->tls.ca_file);
    if (c->user != NULL && c->user[0]) {
        SETOPT(CURLOPT_USERNAME, c->user);
        SETOPT(CURLOPT_PASSWORD, c->password != NULL ? c->password : "");
    }
    SETOPT(CURLOPT_CONNECTTIMEOUT, timeout);
    SETOPT(CURLOPT_TIMEOUT, timeout);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_UPLOAD, 1L);
    SETOPT(CURLOPT_READFUNCTION, read_upload);
    SETOPT(CURLOPT_ERRORBUFFER, s->errbuf);
    SETOPT(CURLOPT_DEBUGFUNCTION, debug_cb);
    SETOPT(CURLOPT_DEBUGDATA, s);
    SETOPT(CURLOPT_VERBOSE, 1L); /* feeds debug_cb; nothing is printed */
#undef SETOPT
    return rc;
}

static int
session_open(struct session *s, const struct config_smtp *c)
{
    memset(s, 0, sizeof(*s));
    char *url = session_url(c);
    s->curl = url != NULL ? curl_easy_init() : NULL;
    if (s->curl == NULL) {
        log_error("smtp: cannot set up a libcurl handle (out of memory?)");
        free(url);
        return -1;
    }
    CURLcode rc = session_options(s, c, url);
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
    else if (rc == CURLE_LOGIN_DENIED || (code >= 500 && !per_message))
        log_error("smtp: the server refused us at %s (check smtp user/password/url): %s",
                  s->command[0] ? s->command : "the greeting", v->text);
}

static void
send_one(struct session *s, const struct store_outbox *it, const char *sender, struct verdict *v)
{
    char from[300], rcpt[300];
    snprintf(from, sizeof(from), "<%s>", sender);
    snprintf(rcpt, sizeof(rcpt), "<%s>", it->recipient);
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    struct upload up = {.part = {it->headers, "\r\n", it->body},
                        .len = {strlen(it->headers), 2, strlen(it->body)}};
    s->errbuf[0] = s->reply[0] = s->command[0] = '\0';
    s->fail_code = 0;
    CURLcode rc = rcpts == NULL ? CURLE_OUT_OF_MEMORY : CURLE_OK;
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, from);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_READDATA, &up);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(s->curl);
    long code = s->fail_code;
    if (code == 0 && curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
        code = 0;
    classify(s, rc, code, v);
    curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL); /* the list is freed next */
    curl_slist_free_all(rcpts);
}

/* Write one outcome in its own transaction and log it; -1 when the store failed. */
static int
record(struct store *st, const struct config_smtp *c, const struct store_outbox *it, time_t now,
       struct verdict *v, struct smtp_result *res)
{
    int attempts = it->attempts + 1, delay = 0;
    if (v->outcome == OUTCOME_DEFER && c->max_lifetime > 0 && it->created + c->max_lifetime < now) {
        char last[sizeof(v->text)];
        snprintf(last, sizeof(last), "%s", v->text);
        snprintf(v->text, sizeof(v->text), "gave up after %d attempts over %lld hours: %.900s",
                 attempts, (long long)(now - it->created) / 3600, last);
        v->outcome = OUTCOME_FAIL;
    }
    if (store_begin(st) != 0)
        goto store_error;
    int rc = 0;
    switch (v->outcome) {
    case OUTCOME_SENT:
        rc = store_outbox_sent(st, it->id, now, v->text);
        break;
    case OUTCOME_DEFER:
        delay = smtp_backoff(c, attempts);
        rc = store_outbox_defer(st, it->id, now + delay, v->text);
        break;
    case OUTCOME_FAIL:
        rc = store_outbox_fail(st, it->id, now, v->text);
        break;
    }
    if (rc != 0 || store_commit(st) != 0) {
        store_rollback(st);
        goto store_error;
    }
    if (v->outcome == OUTCOME_SENT) {
        res->sent++;
        log_ctx(LOG_LEVEL_INFO, it->message_id, it->recipient, "sent: %s", v->text);
    } else if (v->outcome == OUTCOME_DEFER) {
        res->deferred++;
        log_ctx(LOG_LEVEL_WARN, it->message_id, it->recipient,
                "deferred (attempt %d, retry in %d s): %s", attempts, delay, v->text);
    } else {
        res->failed++;
        log_ctx(LOG_LEVEL_ERROR, it->message_id, it->recipient, "failed: %s", v->text);
    }
    return 0;
store_error:
    log_ctx(LOG_LEVEL_ERROR, it->message_id, it->recipient,
            "smtp: cannot record the outcome (%s) in the store: %s", v->text, store_errmsg(st));
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

/* Send one due message over the session (opened or reopened as needed); -1 when the store failed.
 */
static int
send_item(const struct config *cfg, struct store *st, struct session *s, time_t now,
          const struct store_outbox *it, struct smtp_result *res, int *stop)
{
    const struct config_smtp *c = &cfg->smtp;
    const char *sender = it->sender != NULL ? it->sender
                         : c->from != NULL  ? c->from
                                            : cfg->community.address;
    int per_connection = c->batch_size > 0 ? c->batch_size : DEFAULT_BATCH;
    struct verdict v;

    memset(&v, 0, sizeof(v));
    if (!compose_address_ok(it->recipient) || !compose_address_ok(sender)) {
        v.outcome = OUTCOME_FAIL;
        snprintf(v.text, sizeof(v.text), "invalid envelope address");
    } else {
        /* batch_size messages per connection: then a fresh handle, so a fresh connection. */
        if (s->curl != NULL && s->used >= per_connection) {
            curl_easy_cleanup(s->curl);
            s->curl = NULL;
        }
        if (s->curl == NULL) {
            int connections = s->connections;
            if (session_open(s, c) != 0) {
                *stop = 1; /* logged; everything stays queued for the next drain */
                return 0;
            }
            s->connections = connections;
        }
        send_one(s, it, sender, &v);
        s->used++;
    }
    int rc = record(st, c, it, now, &v, res);
    /* The others are not deferred: they never got their chance. */
    if (v.stop_batch)
        *stop = 1;
    return rc;
}

/* Send what is due, batch_size at a time from the store, until none is or we must stop. */
static int
send_due(const struct config *cfg, struct store *st, time_t now, struct smtp_result *res)
{
    int limit = cfg->smtp.batch_size > 0 ? cfg->smtp.batch_size : DEFAULT_BATCH;
    time_t started = time(NULL);
    struct session s;
    int rc = 0, stop = 0;

    memset(&s, 0, sizeof(s));
    while (rc == 0 && !stop) {
        struct store_outbox *items = NULL;
        size_t n = 0;
        if (store_outbox_due(st, now, limit, &items, &n) != 0) {
            log_error("smtp: cannot read the outbox: %s", store_errmsg(st));
            rc = -1;
            break;
        }
        for (size_t i = 0; i < n && rc == 0 && !stop; i++)
            rc = send_item(cfg, st, &s, now, &items[i], res, &stop);
        store_outbox_free(items, n);
        /* Fewer than asked for: nothing else is due.  And the inbox gets its turn. */
        if (n < (size_t)limit || time(NULL) - started >= SMTP_DRAIN_SECONDS)
            break;
    }
    if (s.curl != NULL)
        curl_easy_cleanup(s.curl);
    if (s.connections > 0)
        log_debug("smtp: %d sent, %d deferred, %d failed over %d connection(s)", res->sent,
                  res->deferred, res->failed, s.connections);
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
    memset(res, 0, sizeof(*res));
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
    int rc = send_due(cfg, st, now, res);
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
