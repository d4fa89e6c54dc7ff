/*
 * oauth: OAuth 2.0 access tokens for logging in to IMAP and SMTP with SASL
 * XOAUTH2 or OAUTHBEARER (RFC 7628), from the refresh token that
 * `mentorctl oauth authorize` stored.
 *
 * The access token lives in memory only.  It is refreshed before it expires
 * (and when the caller says the server refused it); a refresh token the
 * server rotates is written to its file atomically, mode 0600, before the new
 * access token is handed out.  Refreshes take a lock file beside the refresh
 * token file, so the daemon and mentorctl never spend the same rotating
 * token twice.  Nothing here logs or prints a token; error texts never hold
 * one either.
 *
 * Functions return 0, or an enum oauth_status below zero with err set.
 */
#ifndef MENTORD_OAUTH_H
#define MENTORD_OAUTH_H

#include <stddef.h>
#include <time.h>

#include "config.h"

enum oauth_status {
    OAUTH_OK = 0,
    OAUTH_TRANSIENT = -1, /* the endpoint could not be reached or failed: try again later */
    OAUTH_REFUSED = -2,   /* the refresh token or the client was refused: a person must act */
};

/* What a token, device or introspection endpoint answered; strings malloc'd or NULL. */
struct oauth_reply {
    long http; /* HTTP status */
    char *access_token, *refresh_token, *token_type, *scope, *id_token;
    long expires_in;
    char *error, *error_description;
    /* device authorization (RFC 8628 3.2) */
    char *device_code, *user_code, *verification_uri, *verification_uri_complete;
    long interval;
    /* introspection (RFC 7662) */
    int active;
    char *username;
    long exp;
};

void oauth_reply_free(struct oauth_reply *r);

/*
 * "key=value&..." from NULL-terminated key, value pairs, values
 * percent-encoded; a pair whose value is NULL is left out.  malloc'd.
 */
char *oauth_form(const char *key, ...) __attribute__((sentinel));

/*
 * POST form to url, adding client_id (and client_secret when there is one)
 * from cfg, and read the JSON answer whatever the HTTP status.  0, or
 * OAUTH_TRANSIENT (no JSON answer: network, TLS, a server error page).
 */
int oauth_post(const struct config_oauth2 *cfg, const char *url, const char *form,
               struct oauth_reply *r, char *err, size_t errlen);

/* The account an OpenID Connect id_token names (email, preferred_username, upn), for display only:
 * not verified.  malloc'd, or NULL. */
char *oauth_id_token_account(const char *id_token);

/* Replace path with token, atomically (temp file, fsync, rename, fsync of the folder), mode 0600.
 */
int oauth_save_refresh_token(const char *path, const char *token, char *err, size_t errlen);

/* 1 when s is usable as a bearer token (RFC 6750 b64token characters). */
int oauth_token_ok(const char *s);

/* ---- the daemon's token ---- */

struct oauth;

/* For cfg's [oauth2]; nothing is read or fetched yet.  NULL when out of memory. */
struct oauth *oauth_open(const struct config *cfg);
void oauth_close(struct oauth *o); /* wipes the tokens; NULL is fine */

/*
 * An access token good at now: the one held unless it expires within the
 * margin (a fifth of its lifetime, at most 5 minutes), else a fresh one.
 * *token stays valid until the next call on o.  After OAUTH_REFUSED no
 * request is made again until the refresh token file changes (a new
 * `mentorctl oauth authorize`), so a caller may ask as often as it likes.
 */
int oauth_token(struct oauth *o, time_t now, const char **token, char *err, size_t errlen);

/* The server refused the token just used: the next oauth_token fetches another. */
void oauth_invalidate(struct oauth *o);


/* About the token held (for mentorctl oauth status): expiry, granted scope, account, refreshes
 * made. */
time_t oauth_expiry(const struct oauth *o);
const char *oauth_scope(const struct oauth *o);
const char *oauth_account(const struct oauth *o);
int oauth_refresh_count(const struct oauth *o);

#endif
