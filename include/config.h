/*
 * config: the INI file (inih), validated, with defaults.
 *
 * Each key's type, range, default and documentation are in one table,
 * daemon/config_keys.c, which also writes etc/mentord.ini and mentord.ini(5);
 * the comments below say what a field holds, not its default.
 *
 * The loaded struct config is the only global-ish state mentord has; every
 * module takes what it needs from it.  Strings are owned by the struct and
 * released by config_free().  Secrets (password files) are read at load time
 * so a bad file is reported before the daemon starts.
 */
#ifndef MENTORD_CONFIG_H
#define MENTORD_CONFIG_H

#include <stddef.h>
#include <stdio.h>

enum config_security { CONFIG_SEC_TLS = 0, CONFIG_SEC_STARTTLS, CONFIG_SEC_NONE };

/* [imap] auth / [smtp] auth: a password, or an OAuth 2.0 access token over SASL. */
enum config_auth { CONFIG_AUTH_PASSWORD = 0, CONFIG_AUTH_XOAUTH2, CONFIG_AUTH_OAUTHBEARER };

struct config_tls {
    enum config_security security;
    int verify;          /* tls_verify */
    char *ca_file;       /* tls_ca_file, NULL: the system's trust store */
    int allow_plaintext; /* allow_plaintext: security=none to a non-loopback host */
};

struct config_community {
    char *name;      /* "Example Community" (required) */
    char *address;   /* mentoring address, mentors@example.org (required) */
    char **managers; /* comma-separated list of addresses */
    size_t n_managers;
    char *list_id; /* List-Id value; derived from address when not set */
};

struct config_imap {
    char *host; /* required */
    int port;   /* derived from security when not set */
    struct config_tls tls;
    enum config_auth auth;   /* default password */
    char *user;              /* required; with OAuth, the mailbox (a shared one: its address) */
    char *password_file;     /* required with auth = password; must not be world-readable */
    char *password;          /* read from password_file; never printed */
    char *mailbox;           /* where new mail is read */
    char *processed_mailbox; /* empty: flag messages instead */
    int poll_interval;       /* seconds between polls without IDLE */
    int idle;                /* use IDLE when offered */
    int timeout;             /* network timeout in seconds */
    int max_attempts;        /* tries before a message is marked failed */
    int batch_size;          /* mails per fetch, transaction and move (inbox.c) */
};

struct config_smtp {
    char *url;  /* smtp://host:port or smtps://host:port; built from host/port if unset */
    char *host; /* from url when url is set */
    int port;   /* derived from security when not set */
    struct config_tls tls;
    enum config_auth auth; /* default password */
    char *user;            /* optional: AUTH only when set (required with OAuth) */
    char *password_file;   /* required when user is set and auth = password */
    char *password;
    char *from;       /* envelope sender */
    char *helo;       /* EHLO name */
    int timeout;      /* seconds */
    int batch_size;   /* messages per connection */
    int sessions;     /* parallel SMTP sessions (connections) while draining; 1-20 */
    int retry_base;   /* first retry delay in seconds */
    int retry_max;    /* largest retry delay in seconds */
    int max_lifetime; /* seconds before a deferred message is given up */
};

/*
 * [oauth2]: the authorization server and the client that logs in for [imap]
 * and [smtp] when their auth is xoauth2 or oauthbearer.  provider fills in
 * the endpoints and the scope of Microsoft 365 or Google; any key given wins.
 * Only the client secret is read at load time; the refresh token file is the
 * oauth module's (it may not exist before `mentorctl oauth authorize`).
 */
struct config_oauth2 {
    int used;                 /* [imap] or [smtp] auth needs it (set by config_load) */
    char *provider;           /* "microsoft", "google" or "custom" (default) */
    char *tenant;             /* Microsoft: tenant id or domain; default "organizations" */
    char *token_url;          /* token endpoint (required unless a provider gives it) */
    char *device_url;         /* device authorization endpoint (RFC 8628), optional */
    char *authorize_url;      /* authorization endpoint (code flow with PKCE), optional */
    char *introspection_url;  /* RFC 7662 endpoint, optional: mentorctl oauth status */
    char *client_id;          /* required */
    char *client_secret_file; /* optional: public clients have none */
    char *client_secret;      /* read from client_secret_file; never printed */
    char *refresh_token_file; /* default /var/lib/mentord/oauth2-refresh-token */
    char *scope;              /* space-separated; default the provider's */
    char *flow;               /* first authorisation: "device" or "code"; default by provider */
    int redirect_port;        /* loopback port of the code flow's redirect; default 8087 */
};

struct config_limits {
    int max_message_size; /* bytes; a larger mail gets a polite reply, unparsed */
    int replies_per_hour; /* answers to one sender per hour */
    int replies_per_day;  /* and per day */
    int stranger_per_hour; /* mail to addresses that confirmed nothing, all of them */
    int stranger_per_day;  /* and per day */
    int reader_timeout;    /* seconds the isolated reader may spend on one mail */
};

struct config_programme {
    int plus_addressing;  /* mentors+join@...: the address names the command */
    int confirm_expiry;   /* seconds an unconfirmed join/volunteer stays open */
    int bounce_threshold; /* bounce score making an address undeliverable */
    int away_pause;       /* seconds an out-of-office reply holds nudges back */
};

/* [matching]: how newcomers are paired with mentors (see match.h for the terms). */
struct config_matching {
    char *mode;            /* "pairs", "circles", "buddies", "rotation" */
    int mentor_accepts;    /* a proposal goes to the mentor first */
    int proposal_timeout;  /* seconds a mentor has to answer a proposal */
    int interval;          /* seconds between matching rounds */
    int circle_size;       /* newcomers per circle */
    int peer_circle_weeks; /* waiting this long, newcomers sharing a topic form a peer circle; 0 =
                              off */
    int buddy_weeks;       /* length of an onboarding buddy pairing */
    double tag, language, tz_overlap, goal, wait_bonus_per_day, load_penalty; /* weights */
    int require_common_language;
    int top_k, top_r; /* candidates per newcomer / per mentor (top_r 0: none) */
    int scan_limit;   /* mentors scored per newcomer for its candidates */
    char *synonyms;   /* "js=javascript, k8s=kubernetes" */
};

/* [lifecycle]: the programme over weeks. */
struct config_lifecycle {
    int length;          /* seconds a pairing lasts */
    char *checkins;      /* days after the start: "3, 14, 30, 60" */
    int quiet_start;     /* hour (0-23, recipient's local time) from which nothing is sent; 21 */
    int quiet_end;       /* hour until which nothing is sent; 8 */
    int reminder_period; /* at most one reminder mail per mentor per period */
    int silent_checkins; /* unanswered check-ins before the mentee is offered a new mentor; 2 */
    int pause_notice;    /* seconds before a pause ends that the member is told; 3 days */
    char *introduction;  /* "together" (one mail to both) or "separate" */
    char *thanks;        /* answer a check-in reply: "news" (only when it tells something), "always" */
};

/* [digest]: the managers' digest and manager commands by mail. */
struct config_digest {
    char *frequency;        /* "daily", "weekly", "monthly", "never" */
    char *day;              /* weekday for weekly ("monday"), day of month for monthly ("1") */
    int hour;               /* hour of the day in timezone */
    char *timezone;         /* managers' time zone */
    char *trusted_authserv; /* authserv-id whose Authentication-Results are trusted; none */
};

struct config_store {
    char *path; /* the SQLite database */
};

struct config_templates {
    char *dir; /* template search path "A:B"; default: the installed templates (paths.h) */
    char *language;          /* the community's language ("en", "es", ...) */
    char *managers_language; /* manager mail and the digest; default: language */
};

struct config_log {
    int level; /* enum log_level; default info */
    int syslog;
    char *ident; /* syslog ident */
};

struct config {
    char *path; /* the file it was loaded from */
    struct config_community community;
    struct config_imap imap;
    struct config_smtp smtp;
    struct config_oauth2 oauth2;
    struct config_limits limits;
    struct config_programme programme;
    struct config_matching matching;
    struct config_lifecycle lifecycle;
    struct config_digest digest;
    struct config_store store;
    struct config_templates templates;
    struct config_log log;
};

/*
 * Load and validate path into *cfg (zeroed first).  Returns 0, or -1 with err
 * holding "FILE:LINE: what is wrong", or "FILE: what is wrong" when no line is
 * to blame (a missing key).  A rule involving several keys (security = none to
 * a remote host, url vs. security) names the line of the key to change.
 * Parsing stops at the first error.  A key given twice in a section is an
 * error naming both lines.  On error *cfg is left freed.
 */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);
void config_free(struct config *cfg);

/*
 * The numeric and boolean defaults config_load starts from (strings stay as
 * they are).  For code that builds a configuration without a file: tests.
 */
void config_set_defaults(struct config *cfg);

/* Print the effective configuration as INI, with passwords masked as "********". */
void config_print(const struct config *cfg, FILE *out);

/*
 * The sample file (etc/mentord.ini) and the manual page mentord.ini(5), written
 * from the key table (daemon/config_keys.c); `make config-docs` runs them.
 */
void config_doc_ini(FILE *out);
void config_doc_man(FILE *out);

/* "password", "xoauth2" or "oauthbearer". */
const char *config_auth_name(enum config_auth auth);

/* 1 when host names this machine's loopback (localhost, 127.0.0.0/8, ::1). */
int config_host_is_loopback(const char *host);

/* 1 when addr is one of the configured managers (case-insensitive). */
int config_is_manager(const struct config *cfg, const char *addr);

/* The domain part of the community address ("example.org"). */
const char *config_domain(const struct config *cfg);

#endif
