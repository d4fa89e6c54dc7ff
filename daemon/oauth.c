/*
 * oauth: OAuth 2.0 tokens for IMAP and SMTP login (see include/oauth.h).
 *
 * HTTP goes through libcurl (POST, form-encoded, as RFC 6749 wants), JSON
 * through jansson.  A token never reaches a log line, an error text or a
 * curl debug stream (no CURLOPT_VERBOSE here); buffers that held one are
 * wiped before they are freed.
 *
 * A refresh, step by step: take the lock file, read the refresh token file
 * again (another process may have rotated it meanwhile), ask the token
 * endpoint, write a rotated refresh token (atomically, 0600) before the new
 * access token is used, drop the lock.  invalid_grant (the refresh token
 * expired, was revoked, or the password changed) and invalid_client are not
 * retried: they need a person, and the error text says what to run.  Until
 * the refresh token file changes nothing is asked again, so a daemon that
 * keeps asking costs a stat() per call, not a request.
 */
#include "oauth.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define OAUTH_REPLY_MAX (64 * 1024)
#define OAUTH_TOKEN_MAX (16 * 1024)
#define OAUTH_HTTP_TIMEOUT 30L
#define OAUTH_MARGIN_MAX 300
/* After a failed request, the first and the longest wait before the next one. */
#define OAUTH_RETRY_FIRST 10
#define OAUTH_RETRY_MAX 300
/* When a token endpoint does not say how long the token lives (RFC 6749 leaves it optional). */
#define OAUTH_DEFAULT_LIFETIME 3600

static void
wipe_free(char *s)
{
    if (s != NULL)
        explicit_bzero(s, strlen(s));
    free(s);
}

void
oauth_reply_free(struct oauth_reply *r)
{
    if (r == NULL)
        return;
    wipe_free(r->access_token);
    wipe_free(r->refresh_token);
    wipe_free(r->id_token);
    wipe_free(r->device_code);
    free(r->token_type);
    free(r->scope);
    free(r->error);
    free(r->error_description);
    free(r->user_code);
    free(r->verification_uri);
    free(r->verification_uri_complete);
    free(r->username);
    memset(r, 0, sizeof(*r));
}

int
oauth_token_ok(const char *s)
{
    /* RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
    if (s == NULL || *s == '\0' || strlen(s) > OAUTH_TOKEN_MAX)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return 0;
    return 1;
}

char *
oauth_form(const char *key, ...)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    va_list ap;
    int first = 1, bad = f == NULL;

    va_start(ap, key);
    for (const char *k = key; k != NULL && !bad; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        if (v == NULL)
            continue;
        char *esc = curl_easy_escape(NULL, v, 0);
        if (esc == NULL) {
            bad = 1;
            break;
        }
        fprintf(f, "%s%s=%s", first ? "" : "&", k, esc);
        explicit_bzero(esc, strlen(esc));
        curl_free(esc);
        first = 0;
    }
    va_end(ap);
    if (f != NULL && fclose(f) != 0)
        bad = 1;
    if (bad) {
        wipe_free(buf);
        return NULL;
    }
    return buf;
}

/* ---- HTTP ---- */

struct body {
    char *data;
    size_t len;
    int too_big;
};

static size_t
take_body(char *ptr, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t add = size * n;

    if (b->len + add > OAUTH_REPLY_MAX) {
        b->too_big = 1;
        return 0;
    }
    char *grown = realloc(b->data, b->len + add + 1);
    if (grown == NULL)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

static char *
json_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s != NULL ? strdup(s) : NULL;
}

static long
json_long(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (json_is_integer(v))
        return (long)json_integer_value(v);
    if (json_is_string(v)) /* some servers send "3599" */
        return strtol(json_string_value(v), NULL, 10);
    return 0;
}

static int
parse_reply(const struct body *b, struct oauth_reply *r)
{
    json_error_t jerr;
    json_t *root = json_loadb(b->data != NULL ? b->data : "", b->len, 0, &jerr);

    if (!json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    r->access_token = json_str(root, "access_token");
    r->refresh_token = json_str(root, "refresh_token");
    r->token_type = json_str(root, "token_type");
    r->scope = json_str(root, "scope");
    r->id_token = json_str(root, "id_token");
    r->expires_in = json_long(root, "expires_in");
    r->error = json_str(root, "error");
    r->error_description = json_str(root, "error_description");
    r->device_code = json_str(root, "device_code");
    r->user_code = json_str(root, "user_code");
    r->verification_uri = json_str(root, "verification_uri");
    if (r->verification_uri == NULL) /* Google's name for it */
        r->verification_uri = json_str(root, "verification_url");
    r->verification_uri_complete = json_str(root, "verification_uri_complete");
    r->interval = json_long(root, "interval");
    r->active = json_is_true(json_object_get(root, "active"));
    r->username = json_str(root, "username");
    if (r->username == NULL)
        r->username = json_str(root, "email");
    r->exp = json_long(root, "exp");
    json_decref(root);
    return 0;
}

static char *
with_client(const struct config_oauth2 *cfg, const char *form)
{
    char *client =
        oauth_form("client_id", cfg->client_id, "client_secret", cfg->client_secret, (char *)NULL);
    char *all = NULL;

    if (client == NULL)
        return NULL;
    if (asprintf(&all, "%s%s%s", form, form[0] ? "&" : "", client) < 0)
        all = NULL;
    wipe_free(client);
    return all;
}

static CURLcode
post_options(CURL *c, const char *url, const char *form, struct curl_slist *hdrs, struct body *b,
             char *errbuf)
{
    CURLcode rc = CURLE_OK;
#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(c, opt, val);                                                    \
    } while (0)
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "https,http");
    SETOPT(CURLOPT_POSTFIELDS, form);
    SETOPT(CURLOPT_HTTPHEADER, hdrs);
    SETOPT(CURLOPT_WRITEFUNCTION, take_body);
    SETOPT(CURLOPT_WRITEDATA, b);
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(CURLOPT_CONNECTTIMEOUT, OAUTH_HTTP_TIMEOUT);
    SETOPT(CURLOPT_TIMEOUT, OAUTH_HTTP_TIMEOUT);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    /* No redirects: a token endpoint that redirects is misconfigured, and the form holds secrets.
     */
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_USERAGENT, "mentord");
#undef SETOPT
    return rc;
}

int
oauth_post(const struct config_oauth2 *cfg, const char *url, const char *form,
           struct oauth_reply *r, char *err, size_t errlen)
{
    struct body b = {NULL, 0, 0};
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    char *all = with_client(cfg, form);
    CURL *c = curl_easy_init();
    CURLcode rc = c == NULL || hdrs == NULL || all == NULL ? CURLE_OUT_OF_MEMORY : CURLE_OK;
    int status = OAUTH_OK;

    memset(r, 0, sizeof(*r));
    if (rc == CURLE_OK)
        rc = post_options(c, url, all, hdrs, &b, errbuf);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->http);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", url,
                 b.too_big   ? "answer too large"
                 : errbuf[0] ? errbuf
                             : curl_easy_strerror(rc));
        status = OAUTH_TRANSIENT;
    } else if (parse_reply(&b, r) != 0) {
        snprintf(err, errlen, "%s: HTTP %ld without a JSON answer", url, r->http);
        status = OAUTH_TRANSIENT;
    }
    if (b.data != NULL)
        explicit_bzero(b.data, b.len);
    free(b.data);
    wipe_free(all);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return status;
}

/* ---- id_token (display only) ---- */

char *
oauth_id_token_account(const char *id_token)
{
    const char *dot1, *dot2;
    char *b64 = NULL, *account = NULL;
    gnutls_datum_t in, out = {NULL, 0};
    json_error_t jerr;
    size_t n;

    if (id_token == NULL || (dot1 = strchr(id_token, '.')) == NULL ||
        (dot2 = strchr(dot1 + 1, '.')) == NULL)
        return NULL;
    /* The payload is base64url without padding: make it plain base64 for GnuTLS. */
    n = (size_t)(dot2 - dot1 - 1);
    if ((b64 = malloc(n + 4)) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        b64[i] = dot1[1 + i] == '-' ? '+' : dot1[1 + i] == '_' ? '/' : dot1[1 + i];
    while (n % 4 != 0)
        b64[n++] = '=';
    in.data = (unsigned char *)b64;
    in.size = (unsigned int)n;
    if (gnutls_base64_decode2(&in, &out) == 0) {
        json_t *root = json_loadb((const char *)out.data, out.size, 0, &jerr);
        const char *keys[] = {"email", "preferred_username", "upn"};
        for (size_t i = 0; i < 3 && account == NULL; i++)
            account = json_str(root, keys[i]);
        json_decref(root);
        gnutls_free(out.data);
    }
    free(b64);
    return account;
}

/* ---- the refresh token file ---- */

static int
fsync_dir_of(const char *path)
{
    char *copy = strdup(path);
    int fd, rc = -1;

    if (copy == NULL)
        return -1;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    free(copy);
    return rc;
}

/*
 * Files made by root (mentorctl run with sudo) in a folder that belongs to the
 * daemon's user go to that user, or the daemon could not read them.
 */
static void
give_to_folder_owner(int fd, const char *path)
{
    char *copy;
    struct stat st;

    if (geteuid() != 0 || (copy = strdup(path)) == NULL)
        return;
    if (stat(dirname(copy), &st) == 0 && st.st_uid != 0 && fchown(fd, st.st_uid, st.st_gid) != 0)
        log_warn("oauth: cannot give %s to uid %d: %s", path, (int)st.st_uid, strerror(errno));
    free(copy);
}

int
oauth_save_refresh_token(const char *path, const char *token, char *err, size_t errlen)
{
    char *tmp = NULL;
    int fd = -1, rc = -1;
    size_t len = strlen(token);

    if (asprintf(&tmp, "%s.new", path) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    (void)unlink(tmp); /* a leftover of a crash; O_EXCL below refuses a planted one */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
        give_to_folder_owner(fd, path);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, token, len) != (ssize_t)len ||
        write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
        goto out;
    }
    if (fsync_dir_of(path) != 0)
        log_warn("oauth: cannot sync the folder of %s: %s", path, strerror(errno));
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        (void)unlink(tmp);
    free(tmp);
    return rc;
}

/* ---- the daemon's token ---- */

struct oauth {
    const struct config_oauth2 *cfg;
    const char *config_path;
    char *refresh;      /* the refresh token, as last read or rotated */
    char *access;       /* the access token, NULL when none is held */
    time_t expires;     /* when the access token expires */
    int lifetime;       /* its lifetime in seconds, as the endpoint said */
    char *scope;        /* granted scope, as the endpoint said */
    char *account;      /* from the id_token, when the endpoint sent one */
    int refreshes;      /* access tokens fetched */
    int refused;        /* OAUTH_REFUSED seen: wait for a new refresh token file */
    int unsaved;        /* a rotated refresh token could not be saved: use the one in memory */
    time_t retry_at;    /* after a transient failure: no request before this */
    int retry_wait;     /* the wait that set it, doubled on each failure */
    struct stat seen;   /* the refresh token file when it was refused */
    char last_err[512]; /* the refusal, repeated while waiting */
};

struct oauth *
oauth_open(const struct config *cfg)
{
    struct oauth *o = calloc(1, sizeof(*o));

    if (o == NULL)
        return NULL;
    o->cfg = &cfg->oauth2;
    o->config_path = cfg->path != NULL ? cfg->path : "/etc/mentord/mentord.ini";
    return o;
}

void
oauth_close(struct oauth *o)
{
    if (o == NULL)
        return;
    wipe_free(o->refresh);
    wipe_free(o->access);
    free(o->scope);
    free(o->account);
    free(o);
}

static int refused(struct oauth *o, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Remember a refusal (and the file it was about) and say it. */
static int
refused(struct oauth *o, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(o->last_err, sizeof(o->last_err), fmt, ap);
    va_end(ap);
    o->refused = 1;
    if (stat(o->cfg->refresh_token_file, &o->seen) != 0)
        memset(&o->seen, 0, sizeof(o->seen));
    snprintf(err, errlen, "%s", o->last_err);
    return OAUTH_REFUSED;
}

/* Read the refresh token file into o->refresh; 0, or OAUTH_REFUSED when there is none. */
static int
read_refresh(struct oauth *o, char *err, size_t errlen)
{
    const char *path = o->cfg->refresh_token_file;
    char buf[OAUTH_TOKEN_MAX + 2];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    ssize_t n;

    if (fd < 0)
        return refused(o, err, errlen,
                       "no refresh token in %s (%s): authorise the mailbox with "
                       "'mentorctl -c %s oauth authorize'",
                       path, strerror(errno), o->config_path);
    if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
        log_warn("oauth: %s is readable by others than its owner (chmod 600)", path);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return refused(o, err, errlen, "cannot read %s: %s", path, strerror(errno));
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!oauth_token_ok(buf)) {
        explicit_bzero(buf, sizeof(buf));
        return refused(o, err, errlen,
                       "%s does not hold a refresh token: authorise the mailbox with "
                       "'mentorctl -c %s oauth authorize'",
                       path, o->config_path);
    }
    wipe_free(o->refresh);
    o->refresh = strdup(buf);
    explicit_bzero(buf, sizeof(buf));
    if (o->refresh == NULL) {
        snprintf(err, errlen, "out of memory");
        return OAUTH_TRANSIENT;
    }
    return OAUTH_OK;
}

/* A lock beside the refresh token file, held across read, refresh and write; -1 when none. */
static int
take_lock(const struct oauth *o)
{
    char *path = NULL;
    int fd;

    if (asprintf(&path, "%s.lock", o->cfg->refresh_token_file) < 0)
        return -1;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        log_warn("oauth: cannot open the lock file %s: %s (refreshing without it)", path,
                 strerror(errno));
    else
        give_to_folder_owner(fd, path);
    if (fd >= 0 && flock(fd, LOCK_EX) != 0)
        log_warn("oauth: cannot lock %s: %s", path, strerror(errno));
    free(path);
    return fd;
}

/* The endpoint's error, as an admin can act on it. */
static int
endpoint_refused(struct oauth *o, const struct oauth_reply *r, char *err, size_t errlen)
{
    const char *e = r->error != NULL ? r->error : "no error code";
    const char *d = r->error_description != NULL ? r->error_description : "";
    char desc[200];

    /* Providers' descriptions run long (trace ids, timestamps): the start says it.  The text
     * goes to the log and to the managers: no control characters, and never the token, should
     * a server echo it. */
    snprintf(desc, sizeof(desc), "%s%s", d[0] ? ": " : "", d);
    desc[strcspn(desc, "\r\n")] = '\0';
    for (char *p = desc; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    if (o->refresh != NULL && strstr(desc, o->refresh) != NULL)
        snprintf(desc, sizeof(desc), ": (a description naming the token, not shown)");
    if (r->http >= 500 || r->http == 429 || strcmp(e, "temporarily_unavailable") == 0) {
        snprintf(err, errlen, "the token endpoint %s is unavailable (HTTP %ld, %s%s)",
                 o->cfg->token_url, r->http, e, desc);
        return OAUTH_TRANSIENT;
    }
    if (strcmp(e, "invalid_grant") == 0)
        return refused(o, err, errlen,
                       "the authorization server refused the refresh token in %s (%s%s): it "
                       "expired or was revoked; authorise the mailbox again with "
                       "'mentorctl -c %s oauth authorize' (mentord picks the new token up by "
                       "itself); mail waits meanwhile",
                       o->cfg->refresh_token_file, e, desc, o->config_path);
    if (strcmp(e, "invalid_client") == 0 || strcmp(e, "unauthorized_client") == 0)
        return refused(o, err, errlen,
                       "the authorization server refused the client (%s%s): check [oauth2] "
                       "client_id and client_secret_file in %s (client secrets expire), then "
                       "reload mentord",
                       e, desc, o->config_path);
    return refused(o, err, errlen, "the token endpoint %s refused the refresh (HTTP %ld, %s%s)",
                   o->cfg->token_url, r->http, e, desc);
}

/* Take the endpoint's access token (and a rotated refresh token, saved first). */
static int
accept_reply(struct oauth *o, struct oauth_reply *r, time_t now, char *err, size_t errlen)
{
    if (!oauth_token_ok(r->access_token) ||
        (r->token_type != NULL && strcasecmp(r->token_type, "bearer") != 0)) {
        snprintf(err, errlen, "the token endpoint %s sent no usable bearer token",
                 o->cfg->token_url);
        return OAUTH_TRANSIENT;
    }
    if (r->refresh_token != NULL && strcmp(r->refresh_token, o->refresh) != 0) {
        if (!oauth_token_ok(r->refresh_token)) {
            snprintf(err, errlen, "the token endpoint sent an unusable refresh token");
            return OAUTH_TRANSIENT;
        }
        /* Before the new access token is used: a crash must not leave only the old one. */
        o->unsaved = oauth_save_refresh_token(o->cfg->refresh_token_file, r->refresh_token, err,
                                              errlen) != 0;
        if (o->unsaved)
            log_error("oauth: the rotated refresh token could not be saved (%s); it is kept in "
                      "memory, and without it a restart needs 'mentorctl oauth authorize'",
                      err);
        wipe_free(o->refresh);
        o->refresh = r->refresh_token;
        r->refresh_token = NULL;
        if (!o->unsaved)
            log_info("oauth: the refresh token was rotated and saved to %s",
                     o->cfg->refresh_token_file);
    }
    wipe_free(o->access);
    o->access = r->access_token;
    r->access_token = NULL;
    o->lifetime = r->expires_in > 0 ? (int)r->expires_in : OAUTH_DEFAULT_LIFETIME;
    o->expires = now + o->lifetime;
    if (r->scope != NULL) {
        free(o->scope);
        o->scope = r->scope;
        r->scope = NULL;
    }
    char *account = oauth_id_token_account(r->id_token);
    if (account != NULL) {
        free(o->account);
        o->account = account;
    }
    o->refreshes++;
    o->refused = 0;
    return OAUTH_OK;
}

static int
refresh_locked(struct oauth *o, time_t now, char *err, size_t errlen)
{
    struct oauth_reply r;
    char *form;
    /* The file again: mentorctl or another process may have put a newer token there.  Not
     * when it holds an old one that the provider has already replaced (see accept_reply). */
    int rc = o->unsaved && o->refresh != NULL ? OAUTH_OK : read_refresh(o, err, errlen);

    if (rc != OAUTH_OK)
        return rc;
    form = oauth_form("grant_type", "refresh_token", "refresh_token", o->refresh, "scope",
                      o->cfg->scope, (char *)NULL);
    if (form == NULL) {
        snprintf(err, errlen, "out of memory");
        return OAUTH_TRANSIENT;
    }
    rc = oauth_post(o->cfg, o->cfg->token_url, form, &r, err, errlen);
    wipe_free(form);
    if (rc == OAUTH_OK)
        rc = r.http == 200 && r.error == NULL ? accept_reply(o, &r, now, err, errlen)
                                              : endpoint_refused(o, &r, err, errlen);
    oauth_reply_free(&r);
    return rc;
}

/* Fetch a new access token now (oauth_token does this when needed). */
static int
oauth_refresh(struct oauth *o, time_t now, char *err, size_t errlen)
{
    int lock = take_lock(o);
    int rc = refresh_locked(o, now, err, errlen);

    if (lock >= 0)
        close(lock); /* releases the flock */
    if (rc == OAUTH_OK)
        log_debug("oauth: new access token, valid for %d s", o->lifetime);
    return rc;
}

/* 1 when the refresh token file is the one that was refused (no new authorisation yet). */
static int
still_refused(const struct oauth *o)
{
    struct stat st;

    if (stat(o->cfg->refresh_token_file, &st) != 0)
        return o->seen.st_ino == 0;
    return st.st_ino == o->seen.st_ino && st.st_dev == o->seen.st_dev &&
           st.st_size == o->seen.st_size && st.st_mtim.tv_sec == o->seen.st_mtim.tv_sec &&
           st.st_mtim.tv_nsec == o->seen.st_mtim.tv_nsec;
}

/* A transient failure: the endpoint is not asked again for a while (10 s doubling to 5 min). */
static int
transient(struct oauth *o, time_t now, const char *err)
{
    o->retry_wait = o->retry_wait == 0 ? OAUTH_RETRY_FIRST : o->retry_wait * 2;
    if (o->retry_wait > OAUTH_RETRY_MAX)
        o->retry_wait = OAUTH_RETRY_MAX;
    o->retry_at = now + o->retry_wait;
    snprintf(o->last_err, sizeof(o->last_err), "%s", err);
    return OAUTH_TRANSIENT;
}

int
oauth_token(struct oauth *o, time_t now, const char **token, char *err, size_t errlen)
{
    int margin, rc, expired;

    *token = NULL;
    if (o->refused && still_refused(o)) {
        snprintf(err, errlen, "%s", o->last_err);
        return OAUTH_REFUSED;
    }
    margin = o->lifetime / 5 < OAUTH_MARGIN_MAX ? o->lifetime / 5 : OAUTH_MARGIN_MAX;
    expired = o->access == NULL || now >= o->expires;
    if (expired || now >= o->expires - margin) {
        if (now < o->retry_at && !o->refused) {
            if (!expired)
                goto have; /* still good for a while: keep it until the endpoint is back */
            snprintf(err, errlen, "%s (next try in %lld s)", o->last_err,
                     (long long)(o->retry_at - now));
            return OAUTH_TRANSIENT;
        }
        rc = oauth_refresh(o, now, err, errlen);
        if (rc == OAUTH_TRANSIENT && !expired) {
            transient(o, now, err);
            goto have; /* refreshing early failed; the token held still works */
        }
        if (rc == OAUTH_TRANSIENT)
            return transient(o, now, err);
        if (rc != OAUTH_OK)
            return rc;
        o->retry_wait = 0;
        o->retry_at = 0;
    }
have:
    *token = o->access;
    return OAUTH_OK;
}

void
oauth_invalidate(struct oauth *o)
{
    wipe_free(o->access);
    o->access = NULL;
}

time_t
oauth_expiry(const struct oauth *o)
{
    return o->access != NULL ? o->expires : 0;
}

const char *
oauth_scope(const struct oauth *o)
{
    return o->scope;
}

const char *
oauth_account(const struct oauth *o)
{
    return o->account;
}

int
oauth_refresh_count(const struct oauth *o)
{
    return o->refreshes;
}
