/*
 * ctl_oauth: the first OAuth 2.0 authorisation and its status, for mentorctl
 * (see include/ctl_oauth.h).
 *
 * The flows run in the foreground and talk to the person at the terminal;
 * tokens only ever go to the refresh token file, never to the terminal.
 */
#include "ctl_oauth.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "oauth.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
/* How long the code flow waits for the browser to come back. */
#define CODE_WAIT_SECONDS 600
#define REQUEST_MAX 8192

/* The mailbox the token is for: [imap] user, or [smtp] user when only SMTP uses OAuth. */
static const char *
mailbox_of(const struct config *cfg)
{
    if (cfg->imap.auth != CONFIG_AUTH_PASSWORD || cfg->smtp.user == NULL)
        return cfg->imap.user;
    return cfg->smtp.user;
}

/* Keep the refresh token of a token endpoint's answer; 0 or 1. */
static int
store_grant(const struct config *cfg, struct oauth_reply *r)
{
    char err[512];
    char *account;

    if (r->refresh_token == NULL || !oauth_token_ok(r->refresh_token)) {
        fprintf(stderr,
                "mentorctl: the authorization server issued no refresh token: the scope must ask "
                "for one (Microsoft: offline_access; Google: the code flow asks for it)\n");
        return 1;
    }
    if (oauth_save_refresh_token(cfg->oauth2.refresh_token_file, r->refresh_token, err,
                                 sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl: %s\n", err);
        return 1;
    }
    account = oauth_id_token_account(r->id_token);
    printf("Authorised%s%s.\n", account ? " by " : "", account ? account : "");
    printf("Scope granted: %s\n", r->scope ? r->scope : "(not reported)");
    printf("The refresh token is saved in %s (mode 0600).\n", cfg->oauth2.refresh_token_file);
    printf("mentord picks it up by itself within a minute (or at once on SIGHUP).\n");
    free(account);
    return 0;
}

/* The endpoint's error in one line (never a token: error answers carry none). */
static void
print_refusal(const char *what, const struct oauth_reply *r)
{
    fprintf(stderr, "mentorctl: %s: HTTP %ld, %s%s%s\n", what, r->http,
            r->error ? r->error : "no error code", r->error_description ? ": " : "",
            r->error_description ? r->error_description : "");
}

/* ---- device authorization grant (RFC 8628) ---- */

static int
device_poll(const struct config *cfg, const struct oauth_reply *dev, time_t deadline)
{
    long interval = dev->interval > 0 ? dev->interval : 5;
    char err[512];
    char *form =
        oauth_form("grant_type", DEVICE_GRANT, "device_code", dev->device_code, (char *)NULL);
    int rc = 1;

    while (form != NULL && time(NULL) < deadline) {
        struct oauth_reply r;
        sleep((unsigned)interval);
        if (oauth_post(&cfg->oauth2, cfg->oauth2.token_url, form, &r, err, sizeof(err)) != 0) {
            fprintf(stderr, "mentorctl: %s (trying again)\n", err);
            continue;
        }
        const char *e = r.error ? r.error : "";
        if (r.http == 200 && r.error == NULL) {
            rc = store_grant(cfg, &r);
            oauth_reply_free(&r);
            break;
        }
        if (strcmp(e, "authorization_pending") == 0 || strcmp(e, "slow_down") == 0) {
            interval += strcmp(e, "slow_down") == 0 ? 5 : 0; /* RFC 8628 3.5 */
            oauth_reply_free(&r);
            continue;
        }
        /* access_denied is RFC 8628's word; Microsoft says authorization_declined. */
        int declined = strcmp(e, "access_denied") == 0 || strcmp(e, "authorization_declined") == 0;
        print_refusal(declined ? "the authorisation was declined"
                      : strcmp(e, "expired_token") == 0
                          ? "the code expired before it was used; run this again"
                          : "the token endpoint refused",
                      &r);
        oauth_reply_free(&r);
        free(form);
        return 1;
    }
    if (form == NULL)
        fprintf(stderr, "mentorctl: out of memory\n");
    else if (rc != 0 && time(NULL) >= deadline)
        fprintf(stderr, "mentorctl: the code expired before it was used; run this again\n");
    free(form);
    return rc;
}

static int
device_flow(const struct config *cfg)
{
    struct oauth_reply dev;
    char err[512];
    char *form = oauth_form("scope", cfg->oauth2.scope, (char *)NULL);
    int rc;

    if (form == NULL)
        return 1;
    rc = oauth_post(&cfg->oauth2, cfg->oauth2.device_url, form, &dev, err, sizeof(err));
    free(form);
    if (rc != 0) {
        fprintf(stderr, "mentorctl: %s\n", err);
        return 1;
    }
    if (dev.http != 200 || dev.device_code == NULL || dev.user_code == NULL ||
        dev.verification_uri == NULL) {
        print_refusal("the device authorization endpoint refused", &dev);
        oauth_reply_free(&dev);
        return 1;
    }
    printf("To let mentord use the mailbox %s:\n\n", mailbox_of(cfg));
    printf("  1. On any computer or phone, open  %s\n", dev.verification_uri);
    printf("  2. Enter the code                  %s\n", dev.user_code);
    printf("  3. Sign in as the mailbox's account (for a shared mailbox: a delegate of it)\n"
           "     and accept.\n\n");
    printf("Waiting for the authorisation (the code is good for %ld minutes)...\n",
           (dev.expires_in > 0 ? dev.expires_in : 900) / 60);
    fflush(stdout);
    rc = device_poll(cfg, &dev, time(NULL) + (dev.expires_in > 0 ? dev.expires_in : 900));
    oauth_reply_free(&dev);
    return rc;
}

/* ---- authorization code flow with PKCE (RFC 7636) and a loopback redirect (RFC 8252) ---- */

/* base64url without padding of n bytes; malloc'd. */
static char *
b64url(const unsigned char *data, size_t n)
{
    gnutls_datum_t in = {(unsigned char *)(uintptr_t)data, (unsigned int)n}, out;
    char *s;
    size_t len;

    if (gnutls_base64_encode2(&in, &out) != 0)
        return NULL;
    s = strndup((const char *)out.data, out.size);
    gnutls_free(out.data);
    if (s == NULL)
        return NULL;
    for (char *p = s; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    len = strcspn(s, "=");
    s[len] = '\0';
    return s;
}

static char *
random_b64url(size_t bytes)
{
    unsigned char buf[64];

    if (bytes > sizeof(buf) || gnutls_rnd(GNUTLS_RND_KEY, buf, bytes) != 0)
        return NULL;
    return b64url(buf, bytes);
}

/* RFC 7636 4.2: S256 challenge of the verifier. */
static char *
pkce_challenge(const char *verifier)
{
    unsigned char digest[32];

    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, verifier, strlen(verifier), digest) != 0)
        return NULL;
    return b64url(digest, sizeof(digest));
}

static int
listen_loopback(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* RFC 8252 8.3: loopback only */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The value of key in a query string ("a=1&b=2"), unescaped and malloc'd, or NULL. */
static char *
query_value(const char *query, const char *key)
{
    size_t klen = strlen(key);

    for (const char *p = query; p && *p;) {
        size_t len = strcspn(p, "&");
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            char *raw = strndup(p + klen + 1, len - klen - 1), *v = NULL;
            if (raw != NULL) {
                for (char *q = raw; *q; q++)
                    if (*q == '+')
                        *q = ' ';
                char *u = curl_easy_unescape(NULL, raw, 0, NULL);
                v = u != NULL ? strdup(u) : NULL;
                curl_free(u);
                free(raw);
            }
            return v;
        }
        p += len + (p[len] == '&');
    }
    return NULL;
}

static void
answer_browser(int fd, const char *status, const char *text)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "Connection: close\r\nCache-Control: no-store\r\n\r\n"
                     "<!doctype html><title>mentord</title><p>%s</p>\n",
                     status, text);
    if (n > 0 && write(fd, buf, (size_t)n) != n)
        fprintf(stderr, "mentorctl: could not answer the browser\n");
}

/* Read one HTTP request's first line from fd; its query string (malloc'd) or NULL. */
static char *
read_redirect(int fd)
{
    char req[REQUEST_MAX];
    size_t len = 0;
    struct pollfd p = {fd, POLLIN, 0};

    while (len < sizeof(req) - 1 && poll(&p, 1, 10000) == 1) {
        ssize_t n = read(fd, req + len, sizeof(req) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n") != NULL)
            break;
    }
    req[len] = '\0';
    if (strncmp(req, "GET ", 4) != 0)
        return NULL;
    char *path = req + 4, *q = strchr(path, '?');
    path[strcspn(path, " \r\n")] = '\0';
    return q != NULL ? strdup(q + 1) : NULL;
}

/*
 * Wait for the browser to come back with ?code=...&state=...; the code
 * (malloc'd) or NULL.  Requests without either (a favicon) get a 404 and the
 * wait goes on.
 */
static char *
wait_for_code(int lfd, const char *state)
{
    time_t deadline = time(NULL) + CODE_WAIT_SECONDS;

    while (time(NULL) < deadline) {
        struct pollfd p = {lfd, POLLIN, 0};
        if (poll(&p, 1, 1000) != 1)
            continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        char *query = read_redirect(fd);
        char *code = query ? query_value(query, "code") : NULL;
        char *got_state = query ? query_value(query, "state") : NULL;
        char *error = query ? query_value(query, "error") : NULL;
        int mine = got_state != NULL && strcmp(got_state, state) == 0;
        if (mine && code != NULL)
            answer_browser(fd, "200 OK", "mentord is authorised. You can close this window.");
        else if (mine && error != NULL)
            answer_browser(fd, "200 OK", "The authorisation was not given; see the terminal.");
        else
            answer_browser(fd, "404 Not Found", "Not the answer mentorctl is waiting for.");
        close(fd);
        free(query);
        free(got_state);
        if (mine && error != NULL) {
            fprintf(stderr, "mentorctl: the authorisation was not given: %s\n", error);
            free(error);
            free(code);
            return NULL;
        }
        free(error);
        if (mine && code != NULL)
            return code;
        free(code);
    }
    fprintf(stderr, "mentorctl: no answer from the browser within %d minutes\n",
            CODE_WAIT_SECONDS / 60);
    return NULL;
}

static char *
authorization_url(const struct config *cfg, const char *redirect, const char *challenge,
                  const char *state)
{
    int google = strcmp(cfg->oauth2.provider, "google") == 0;
    /*
     * Google gives a refresh token only with access_type=offline, and a second time only with
     * prompt=consent.  Not for Microsoft: there prompt=consent asks the user even where an
     * admin has consented for everyone, and fails where users may not consent themselves.
     */
    char *query = oauth_form(
        "response_type", "code", "client_id", cfg->oauth2.client_id, "redirect_uri", redirect,
        "scope", cfg->oauth2.scope, "state", state, "code_challenge", challenge,
        "code_challenge_method", "S256", "access_type", google ? "offline" : NULL, "prompt",
        google ? "consent" : NULL, "login_hint", mailbox_of(cfg), (char *)NULL);
    char *url = NULL;

    if (query != NULL && asprintf(&url, "%s%c%s", cfg->oauth2.authorize_url,
                                  strchr(cfg->oauth2.authorize_url, '?') ? '&' : '?', query) < 0)
        url = NULL;
    free(query);
    return url;
}

static int
exchange_code(const struct config *cfg, const char *code, const char *redirect,
              const char *verifier)
{
    struct oauth_reply r;
    char err[512];
    char *form = oauth_form("grant_type", "authorization_code", "code", code, "redirect_uri",
                            redirect, "code_verifier", verifier, (char *)NULL);
    int rc = 1;

    if (form == NULL)
        return 1;
    if (oauth_post(&cfg->oauth2, cfg->oauth2.token_url, form, &r, err, sizeof(err)) != 0)
        fprintf(stderr, "mentorctl: %s\n", err);
    else if (r.http != 200 || r.error != NULL)
        print_refusal("the token endpoint refused the code", &r);
    else
        rc = store_grant(cfg, &r);
    oauth_reply_free(&r);
    explicit_bzero(form, strlen(form));
    free(form);
    return rc;
}

static int
code_flow(const struct config *cfg, int port)
{
    char redirect[64];
    char *verifier = random_b64url(48), *state = random_b64url(16);
    char *challenge = verifier ? pkce_challenge(verifier) : NULL, *url = NULL, *code = NULL;
    int lfd = -1, rc = 1;

    snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%d/", port);
    if (verifier == NULL || state == NULL || challenge == NULL ||
        (url = authorization_url(cfg, redirect, challenge, state)) == NULL) {
        fprintf(stderr, "mentorctl: cannot prepare the authorisation (out of memory?)\n");
        goto out;
    }
    if ((lfd = listen_loopback(port)) < 0) {
        fprintf(stderr, "mentorctl: cannot listen on 127.0.0.1:%d: %s (use --port)\n", port,
                strerror(errno));
        goto out;
    }
    printf("To let mentord use the mailbox %s, open this address in a browser and sign in\n"
           "as the mailbox's account:\n\n  %s\n\n",
           mailbox_of(cfg), url);
    printf(
        "The browser comes back to %s. When the browser runs on another computer,\n"
        "forward that port first, from that computer:\n\n  ssh -L %d:127.0.0.1:%d THIS-SERVER\n\n",
        redirect, port, port);
    printf("Waiting for the browser...\n");
    fflush(stdout);
    if ((code = wait_for_code(lfd, state)) != NULL)
        rc = exchange_code(cfg, code, redirect, verifier);
out:
    if (lfd >= 0)
        close(lfd);
    if (code != NULL)
        explicit_bzero(code, strlen(code));
    free(code);
    free(url);
    free(challenge);
    free(state);
    if (verifier != NULL)
        explicit_bzero(verifier, strlen(verifier));
    free(verifier);
    return rc;
}

static int
authorize(const struct config *cfg, int argc, char **argv)
{
    const char *flow = cfg->oauth2.flow;
    int port = cfg->oauth2.redirect_port;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0)
            flow = "device";
        else if (strcmp(argv[i], "--code") == 0)
            flow = "code";
        else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0 &&
                 atoi(argv[i + 1]) < 65536)
            port = atoi(argv[++i]);
        else {
            fprintf(stderr, "mentorctl: oauth authorize [--device | --code] [--port N]\n");
            return 2;
        }
    }
    if (flow == NULL) {
        fprintf(stderr, "mentorctl: [oauth2] has neither device_url nor authorize_url: set one "
                        "(or provider = microsoft or google)\n");
        return 1;
    }
    if (strcmp(flow, "device") == 0 && cfg->oauth2.device_url == NULL) {
        fprintf(stderr, "mentorctl: --device needs [oauth2] device_url\n");
        return 1;
    }
    if (strcmp(flow, "code") == 0 && cfg->oauth2.authorize_url == NULL) {
        fprintf(stderr, "mentorctl: --code needs [oauth2] authorize_url\n");
        return 1;
    }
    return strcmp(flow, "device") == 0 ? device_flow(cfg) : code_flow(cfg, port);
}

/* ---- status ---- */

static void
print_file(const char *path)
{
    struct stat st;
    char when[64];

    if (stat(path, &st) != 0) {
        printf("refresh token file: %s (%s)\n", path, strerror(errno));
        return;
    }
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&st.st_mtime));
    printf("refresh token file: %s (mode %04o, saved %s)\n", path, (unsigned)(st.st_mode & 07777),
           when);
}

/* The account by RFC 7662 introspection, when an endpoint is configured; malloc'd or NULL. */
static char *
introspect_account(const struct config *cfg, const char *token)
{
    struct oauth_reply r;
    char err[512];
    char *form = oauth_form("token", token, (char *)NULL), *account = NULL;

    if (form == NULL || cfg->oauth2.introspection_url == NULL) {
        free(form);
        return NULL;
    }
    if (oauth_post(&cfg->oauth2, cfg->oauth2.introspection_url, form, &r, err, sizeof(err)) == 0 &&
        r.active && r.username != NULL)
        account = strdup(r.username);
    oauth_reply_free(&r);
    explicit_bzero(form, strlen(form));
    free(form);
    return account;
}

static int
status(const struct config *cfg)
{
    struct oauth *o = oauth_open(cfg);
    const char *token = NULL;
    char err[1024], when[64];
    int rc;

    if (o == NULL)
        return 1;
    printf("provider: %s\nclient_id: %s\nmailbox: %s\n", cfg->oauth2.provider,
           cfg->oauth2.client_id, mailbox_of(cfg));
    printf("imap: auth = %s\nsmtp: auth = %s\n", config_auth_name(cfg->imap.auth),
           cfg->smtp.user != NULL ? config_auth_name(cfg->smtp.auth) : "none");
    print_file(cfg->oauth2.refresh_token_file);
    rc = oauth_token(o, time(NULL), &token, err, sizeof(err));
    if (rc != OAUTH_OK) {
        printf("authorisation: %s\n", access(cfg->oauth2.refresh_token_file, F_OK) != 0 ? "none yet"
                                      : rc == OAUTH_REFUSED                             ? "REFUSED"
                                                            : "could not be checked");
        fprintf(stderr, "mentorctl: %s\n", err);
        oauth_close(o);
        return 1;
    }
    char *account = oauth_account(o) ? strdup(oauth_account(o)) : introspect_account(cfg, token);
    time_t exp = oauth_expiry(o);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&exp));
    printf("authorisation: valid (a new access token was issued just now)\n");
    printf("account: %s\n", account ? account : "(not reported by the provider)");
    printf("scope: %s\n", oauth_scope(o) ? oauth_scope(o) : "(not reported by the provider)");
    printf("access token expires: %s (in %ld minutes)\n", when, (long)(exp - time(NULL)) / 60);
    free(account);
    oauth_close(o);
    return 0;
}

int
ctl_oauth(const char *config_path, int argc, char **argv)
{
    struct config cfg;
    char err[512];
    int rc;

    if (argc < 1 || (strcmp(argv[0], "authorize") != 0 && strcmp(argv[0], "status") != 0)) {
        fprintf(stderr, "usage: mentorctl oauth authorize [--device | --code] [--port N]\n"
                        "       mentorctl oauth status\n");
        return 2;
    }
    if (config_load(config_path, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl: %s\n", err);
        return 1;
    }
    if (!cfg.oauth2.used) {
        fprintf(stderr, "mentorctl: OAuth 2.0 is not used: set [imap] auth or [smtp] auth to "
                        "xoauth2 or oauthbearer first\n");
        config_free(&cfg);
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "mentorctl: cannot initialise libcurl\n");
        config_free(&cfg);
        return 1;
    }
    rc = strcmp(argv[0], "status") == 0 ? status(&cfg) : authorize(&cfg, argc - 1, argv + 1);
    curl_global_cleanup();
    config_free(&cfg);
    return rc;
}
