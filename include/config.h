/*
 * config: the INI file (inih), validated, with defaults.
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

struct config_tls {
    enum config_security security;
    int verify;          /* tls_verify, default yes */
    char *ca_file;       /* tls_ca_file, NULL: the system's trust store */
    int allow_plaintext; /* allow_plaintext: security=none to a non-loopback host */
};

struct config_community {
    char *name;      /* "Example Community" (required) */
    char *address;   /* mentoring address, mentors@example.org (required) */
    char **managers; /* comma-separated list of addresses */
    size_t n_managers;
    char *list_id; /* List-Id value; default "<mentors.example.org>" derived from address */
};

struct config_imap {
    char *host; /* required */
    int port;   /* default 993 (tls) / 143 (starttls, none) */
    struct config_tls tls;
    char *user;              /* required */
    char *password_file;     /* required; must not be world-readable */
    char *password;          /* read from password_file; never printed */
    char *mailbox;           /* default INBOX */
    char *processed_mailbox; /* default "Processed"; empty: flag messages instead */
    int poll_interval;       /* seconds between polls without IDLE; default 60 */
    int idle;                /* use IDLE when offered; default yes */
    int timeout;             /* network timeout in seconds; default 60 */
    int max_attempts;        /* tries before a message is marked failed; default 3 */
};

struct config_smtp {
    char *url;  /* smtp://host:port or smtps://host:port; built from host/port if unset */
    char *host; /* default localhost */
    int port;   /* default 465 (tls), 587 (starttls), 25 (none) */
    struct config_tls tls;
    char *user;          /* optional: AUTH only when set */
    char *password_file; /* required when user is set */
    char *password;
    char *from;       /* envelope sender; default community.address */
    char *helo;       /* EHLO name; default the domain of community.address */
    int timeout;      /* seconds; default 60 */
    int batch_size;   /* messages per connection; default 100 */
    int retry_base;   /* first retry delay in seconds; default 60 */
    int retry_max;    /* largest retry delay in seconds; default 3600 */
    int max_lifetime; /* seconds before a deferred message is given up; default 5 days */
};

struct config_limits {
    int max_message_size; /* bytes; a larger mail gets a polite reply, unparsed; default 10M */
    int replies_per_hour; /* answers to one sender per hour; default 5 */
    int replies_per_day;  /* and per day; default 20 */
};

struct config_programme {
    int plus_addressing;  /* mentors+join@...: the address names the command; default no */
    int confirm_expiry;   /* seconds an unconfirmed join/volunteer stays open; default 3 days */
    int bounce_threshold; /* bounce score making an address undeliverable; default 3 */
    int away_pause;       /* seconds an out-of-office reply holds nudges back; default 7 days */
};

struct config_store {
    char *path; /* default /var/lib/mentord/mentord.db */
};

struct config_templates {
    char *dir; /* default MENTORD_DATADIR "/templates" */
};

struct config_log {
    int level; /* enum log_level; default info */
    int syslog;
    char *ident; /* default "mentord" */
};

struct config {
    char *path; /* the file it was loaded from */
    struct config_community community;
    struct config_imap imap;
    struct config_smtp smtp;
    struct config_limits limits;
    struct config_programme programme;
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

/* Print the effective configuration as INI, with passwords masked as "********". */
void config_print(const struct config *cfg, FILE *out);

/* 1 when host names this machine's loopback (localhost, 127.0.0.0/8, ::1). */
int config_host_is_loopback(const char *host);

/* 1 when addr is one of the configured managers (case-insensitive). */
int config_is_manager(const struct config *cfg, const char *addr);

/* The domain part of the community address ("example.org"). */
const char *config_domain(const struct config *cfg);

#endif
