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
    int sessions;     /* parallel SMTP sessions (connections) while draining; 1-20, default 4 */
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

/* [matching]: how newcomers are paired with mentors (see match.h for the terms). */
struct config_matching {
    char *mode;            /* "pairs" (default), "circles", "buddies", "rotation" */
    int mentor_accepts;    /* a proposal goes to the mentor first; default yes */
    int proposal_timeout;  /* seconds a mentor has to answer a proposal; default 3 days */
    int interval;          /* seconds between matching rounds; default 1 hour */
    int circle_size;       /* newcomers per circle; default 4 */
    int peer_circle_weeks; /* waiting this long, newcomers sharing a topic form a peer circle; 0 =
                              off */
    int buddy_weeks;       /* length of an onboarding buddy pairing; default 4 */
    double tag, language, tz_overlap, goal, wait_bonus_per_day, load_penalty; /* weights */
    int require_common_language;                                              /* default yes */
    int top_k, top_r; /* candidates per newcomer / per mentor; 20 / 5 */
    char *synonyms;   /* "js=javascript, k8s=kubernetes"; default none */
};

/* [lifecycle]: the programme over weeks. */
struct config_lifecycle {
    int length;          /* seconds a pairing lasts; default 12 weeks */
    char *checkins;      /* days after the start: "3, 14, 30, 60"; default that */
    int quiet_start;     /* hour (0-23, recipient's local time) from which nothing is sent; 21 */
    int quiet_end;       /* hour until which nothing is sent; 8 */
    int reminder_period; /* at most one reminder mail per mentor per period; default 7 days */
    int silent_checkins; /* unanswered check-ins before the mentee is offered a new mentor; 2 */
    int pause_notice;    /* seconds before a pause ends that the member is told; 3 days */
    char *introduction;  /* "together" (one mail to both, default) or "separate" */
    char *thanks;        /* answer a check-in reply: "news" (only when it tells something, default),
                            "always" */
};

/* [digest]: the managers' digest and manager commands by mail. */
struct config_digest {
    char *frequency;        /* "daily", "weekly" (default), "monthly", "never" */
    char *day;              /* weekday for weekly ("monday"), day of month for monthly ("1") */
    int hour;               /* hour of the day in timezone; default 9 */
    char *timezone;         /* managers' time zone; default UTC */
    char *trusted_authserv; /* authserv-id whose Authentication-Results are trusted; none */
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

/* 1 when host names this machine's loopback (localhost, 127.0.0.0/8, ::1). */
int config_host_is_loopback(const char *host);

/* 1 when addr is one of the configured managers (case-insensitive). */
int config_is_manager(const struct config *cfg, const char *addr);

/* The domain part of the community address ("example.org"). */
const char *config_domain(const struct config *cfg);

#endif
