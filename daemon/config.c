/*
 * config: read the INI file with inih, validate every value as it is read,
 * then fill in defaults and check the rules that involve several keys.
 *
 * inih reports neither line numbers to the handler (Debian builds it without
 * INI_HANDLER_LINENO) nor empty sections, so the file is fed to it through
 * our own line reader: it counts lines, checks section names, and remembers
 * whether a line was indented (inih silently treats an indented line as the
 * continuation of the previous value, which we refuse with a clear message).
 *
 * Errors: the first one wins and parsing stops there.  A key given twice in a
 * section is an error naming both lines, because "last one wins" hides typos
 * in a file that holds credentials and network settings.
 */
#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#ifndef MENTORD_DATADIR
#define MENTORD_DATADIR "/usr/local/share/mentord"
#endif

#define DEFAULT_STORE_PATH "/var/lib/mentord/mentord.db"
#define DEFAULT_TEMPLATES_DIR MENTORD_DATADIR "/templates"
#define PASSWORD_MAX 4096
#define DAY (24 * 60 * 60)

enum key_type {
    K_STR,      /* any text without control characters */
    K_ADDR,     /* an addr-spec */
    K_ADDRLIST, /* comma-separated addr-specs (community.managers) */
    K_HOST,     /* a host name or IP address */
    K_BOOL,
    K_INT,      /* decimal integer in [min, max] */
    K_DURATION, /* seconds, or a number with an s/m/h/d suffix, in [min, max] seconds */
    K_SIZE,     /* bytes, or a number with a k/M/G suffix (powers of 1024), in [min, max] */
    K_REAL,     /* a decimal number in [min, max] */
    K_SECURITY,
    K_LEVEL,
    K_READABLE, /* path of a file that must be readable now (tls_ca_file) */
};

struct keydef {
    const char *section;
    const char *name;
    enum key_type type;
    size_t offset; /* of the field in struct config */
    int min, max;
    int allow_empty;
};

#define OFF(field) offsetof(struct config, field)

static const struct keydef keys[] = {
    {"community", "name", K_STR, OFF(community.name), 0, 0, 0},
    {"community", "address", K_ADDR, OFF(community.address), 0, 0, 0},
    {"community", "managers", K_ADDRLIST, 0, 0, 0, 1},
    {"community", "list_id", K_STR, OFF(community.list_id), 0, 0, 0},

    {"imap", "host", K_HOST, OFF(imap.host), 0, 0, 0},
    {"imap", "port", K_INT, OFF(imap.port), 1, 65535, 0},
    {"imap", "security", K_SECURITY, OFF(imap.tls.security), 0, 0, 0},
    {"imap", "tls_verify", K_BOOL, OFF(imap.tls.verify), 0, 0, 0},
    {"imap", "tls_ca_file", K_READABLE, OFF(imap.tls.ca_file), 0, 0, 0},
    {"imap", "allow_plaintext", K_BOOL, OFF(imap.tls.allow_plaintext), 0, 0, 0},
    {"imap", "user", K_STR, OFF(imap.user), 0, 0, 0},
    {"imap", "password_file", K_STR, OFF(imap.password_file), 0, 0, 0},
    {"imap", "mailbox", K_STR, OFF(imap.mailbox), 0, 0, 0},
    {"imap", "processed_mailbox", K_STR, OFF(imap.processed_mailbox), 0, 0, 1},
    {"imap", "poll_interval", K_DURATION, OFF(imap.poll_interval), 1, DAY, 0},
    {"imap", "idle", K_BOOL, OFF(imap.idle), 0, 0, 0},
    {"imap", "timeout", K_DURATION, OFF(imap.timeout), 1, 3600, 0},
    {"imap", "max_attempts", K_INT, OFF(imap.max_attempts), 1, 1000, 0},

    {"smtp", "url", K_STR, OFF(smtp.url), 0, 0, 0},
    {"smtp", "host", K_HOST, OFF(smtp.host), 0, 0, 0},
    {"smtp", "port", K_INT, OFF(smtp.port), 1, 65535, 0},
    {"smtp", "security", K_SECURITY, OFF(smtp.tls.security), 0, 0, 0},
    {"smtp", "tls_verify", K_BOOL, OFF(smtp.tls.verify), 0, 0, 0},
    {"smtp", "tls_ca_file", K_READABLE, OFF(smtp.tls.ca_file), 0, 0, 0},
    {"smtp", "allow_plaintext", K_BOOL, OFF(smtp.tls.allow_plaintext), 0, 0, 0},
    {"smtp", "user", K_STR, OFF(smtp.user), 0, 0, 0},
    {"smtp", "password_file", K_STR, OFF(smtp.password_file), 0, 0, 0},
    {"smtp", "from", K_ADDR, OFF(smtp.from), 0, 0, 0},
    {"smtp", "helo", K_HOST, OFF(smtp.helo), 0, 0, 0},
    {"smtp", "timeout", K_DURATION, OFF(smtp.timeout), 1, 3600, 0},
    {"smtp", "batch_size", K_INT, OFF(smtp.batch_size), 1, 100000, 0},
    /* At most 20: Postfix's own default concurrency to one destination. */
    {"smtp", "sessions", K_INT, OFF(smtp.sessions), 1, 20, 0},
    {"smtp", "retry_base", K_DURATION, OFF(smtp.retry_base), 1, 7 * DAY, 0},
    {"smtp", "retry_max", K_DURATION, OFF(smtp.retry_max), 1, 30 * DAY, 0},
    {"smtp", "max_lifetime", K_DURATION, OFF(smtp.max_lifetime), 1, 365 * DAY, 0},

    {"limits", "max_message_size", K_SIZE, OFF(limits.max_message_size), 1024, 1 << 30, 0},
    {"limits", "replies_per_hour", K_INT, OFF(limits.replies_per_hour), 1, 10000, 0},
    {"limits", "replies_per_day", K_INT, OFF(limits.replies_per_day), 1, 100000, 0},

    {"programme", "plus_addressing", K_BOOL, OFF(programme.plus_addressing), 0, 0, 0},
    {"programme", "confirm_expiry", K_DURATION, OFF(programme.confirm_expiry), 60, 365 * DAY, 0},
    {"programme", "bounce_threshold", K_INT, OFF(programme.bounce_threshold), 1, 100, 0},
    {"programme", "away_pause", K_DURATION, OFF(programme.away_pause), 0, 365 * DAY, 0},

    {"matching", "mode", K_STR, OFF(matching.mode), 0, 0, 0},
    {"matching", "mentor_accepts", K_BOOL, OFF(matching.mentor_accepts), 0, 0, 0},
    {"matching", "proposal_timeout", K_DURATION, OFF(matching.proposal_timeout), 60, 60 * DAY, 0},
    {"matching", "interval", K_DURATION, OFF(matching.interval), 1, 30 * DAY, 0},
    {"matching", "circle_size", K_INT, OFF(matching.circle_size), 2, 50, 0},
    {"matching", "peer_circle_weeks", K_INT, OFF(matching.peer_circle_weeks), 0, 52, 0},
    {"matching", "buddy_weeks", K_INT, OFF(matching.buddy_weeks), 1, 52, 0},
    {"matching", "tag", K_REAL, OFF(matching.tag), 0, 1000, 0},
    {"matching", "language", K_REAL, OFF(matching.language), 0, 1000, 0},
    {"matching", "tz_overlap", K_REAL, OFF(matching.tz_overlap), 0, 1000, 0},
    {"matching", "goal", K_REAL, OFF(matching.goal), 0, 1000, 0},
    {"matching", "wait_bonus_per_day", K_REAL, OFF(matching.wait_bonus_per_day), 0, 1000, 0},
    {"matching", "load_penalty", K_REAL, OFF(matching.load_penalty), 0, 1000, 0},
    {"matching", "require_common_language", K_BOOL, OFF(matching.require_common_language), 0, 0, 0},
    {"matching", "top_k", K_INT, OFF(matching.top_k), 1, 1000, 0},
    {"matching", "top_r", K_INT, OFF(matching.top_r), 0, 1000, 0},
    {"matching", "synonyms", K_STR, OFF(matching.synonyms), 0, 0, 1},

    {"lifecycle", "length", K_DURATION, OFF(lifecycle.length), DAY, 365 * DAY, 0},
    {"lifecycle", "checkins", K_STR, OFF(lifecycle.checkins), 0, 0, 1},
    {"lifecycle", "quiet_start", K_INT, OFF(lifecycle.quiet_start), 0, 23, 0},
    {"lifecycle", "quiet_end", K_INT, OFF(lifecycle.quiet_end), 0, 23, 0},
    {"lifecycle", "reminder_period", K_DURATION, OFF(lifecycle.reminder_period), 3600, 90 * DAY, 0},
    {"lifecycle", "silent_checkins", K_INT, OFF(lifecycle.silent_checkins), 1, 100, 0},
    {"lifecycle", "pause_notice", K_DURATION, OFF(lifecycle.pause_notice), 0, 60 * DAY, 0},
    {"lifecycle", "introduction", K_STR, OFF(lifecycle.introduction), 0, 0, 0},
    {"lifecycle", "thanks", K_STR, OFF(lifecycle.thanks), 0, 0, 0},

    {"digest", "frequency", K_STR, OFF(digest.frequency), 0, 0, 0},
    {"digest", "day", K_STR, OFF(digest.day), 0, 0, 0},
    {"digest", "hour", K_INT, OFF(digest.hour), 0, 23, 0},
    {"digest", "timezone", K_STR, OFF(digest.timezone), 0, 0, 0},
    {"digest", "trusted_authserv", K_STR, OFF(digest.trusted_authserv), 0, 0, 1},

    {"store", "path", K_STR, OFF(store.path), 0, 0, 0},
    {"templates", "dir", K_STR, OFF(templates.dir), 0, 0, 0},
    {"log", "level", K_LEVEL, OFF(log.level), 0, 0, 0},
    {"log", "syslog", K_BOOL, OFF(log.syslog), 0, 0, 0},
    {"log", "ident", K_STR, OFF(log.ident), 0, 0, 0},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const sections[] = {"community", "imap",      "smtp",      "limits",
                                       "programme", "matching",  "lifecycle", "digest",
                                       "store",     "templates", "log"};

/* Everything one config_load() call needs; nothing outlives it. */
struct load_ctx {
    const char *path;
    struct config *cfg;
    FILE *file;
    char *buf; /* getline() buffer of the line reader */
    size_t cap;
    int line;           /* number of the line inih is working on */
    int indented;       /* that line starts with white space */
    int key_in_section; /* a key was seen since the last [section] line */
    int lines[N_KEYS];  /* where each key was set; 0 when not set */
    int failed;
    int err_line;
    char *err;
    size_t errlen;
};

/* ---- errors ---- */

static void __attribute__((format(printf, 3, 4)))
fail(struct load_ctx *ctx, int line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (ctx->failed)
        return; /* the first error is the one worth reading */
    ctx->failed = 1;
    ctx->err_line = line;
    if (ctx->err == NULL || ctx->errlen == 0)
        return;
    if (line > 0)
        n = snprintf(ctx->err, ctx->errlen, "%s:%d: ", ctx->path, line);
    else
        n = snprintf(ctx->err, ctx->errlen, "%s: ", ctx->path);
    if (n < 0 || (size_t)n >= ctx->errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(ctx->err + n, ctx->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- the key table ---- */

static int
key_index(const char *section, const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Line where section.name was set, 0 when it was not. */
static int
key_line(const struct load_ctx *ctx, const char *section, const char *name)
{
    int i = key_index(section, name);

    return i < 0 ? 0 : ctx->lines[i];
}

static int
section_known(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if (strlen(sections[i]) == len && strncmp(sections[i], name, len) == 0)
            return 1;
    return 0;
}

static char **
str_field(struct config *cfg, const struct keydef *k)
{
    return (char **)(void *)((char *)cfg + k->offset);
}

static int *
int_field(struct config *cfg, const struct keydef *k)
{
    return (int *)(void *)((char *)cfg + k->offset);
}

/* ---- value syntax ---- */

static int
has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

static int
parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* A whole decimal number: "12abc", "", " 1" and overflows are refused. */
static int
parse_long(const char *v, long long *out)
{
    char *end;

    if (*v == '\0' || !(*v == '-' || (*v >= '0' && *v <= '9')))
        return -1;
    errno = 0;
    *out = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    return 0;
}

/* A unit suffix and what it multiplies by. */
struct unit {
    char suffix; /* lower case; the upper case letter means the same */
    long long mult;
};

static const struct unit duration_units[] = {{'s', 1},   {'m', 60},      {'h', 3600},
                                             {'d', DAY}, {'w', 7 * DAY}, {0, 0}};
/* Binary multiples, as Postfix's sizes. */
static const struct unit size_units[] = {
    {'k', 1024}, {'m', 1024 * 1024}, {'g', 1024 * 1024 * 1024}, {0, 0}};

/* A non-negative number, optionally followed by one of units' suffixes. */
static int
parse_with_unit(const char *v, const struct unit *units, long long *out)
{
    char num[32];
    size_t len = strlen(v);
    long long mult = 1, n;

    if (len == 0 || len >= sizeof(num))
        return -1;
    memcpy(num, v, len + 1);
    for (const struct unit *u = units; u->suffix; u++) {
        if (tolower((unsigned char)num[len - 1]) == u->suffix) {
            mult = u->mult;
            num[len - 1] = '\0';
            break;
        }
    }
    if (parse_long(num, &n) != 0 || n < 0 || n > LLONG_MAX / mult)
        return -1;
    *out = n * mult;
    return 0;
}

static int
parse_security(const char *v, enum config_security *out)
{
    if (strcasecmp(v, "tls") == 0)
        *out = CONFIG_SEC_TLS;
    else if (strcasecmp(v, "starttls") == 0)
        *out = CONFIG_SEC_STARTTLS;
    else if (strcasecmp(v, "none") == 0)
        *out = CONFIG_SEC_NONE;
    else
        return -1;
    return 0;
}

static const char *
security_name(enum config_security sec)
{
    switch (sec) {
    case CONFIG_SEC_TLS:
        return "tls";
    case CONFIG_SEC_STARTTLS:
        return "starttls";
    case CONFIG_SEC_NONE:
        break;
    }
    return "none";
}

static int
is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Dot-separated runs of allowed characters: no empty run, no leading or trailing dot. */
static int
dot_atom_ok(const char *s, size_t len, int (*ok)(unsigned char))
{
    int run = 0;

    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (run == 0)
                return 0;
            run = 0;
        } else if (ok((unsigned char)s[i])) {
            run++;
        } else {
            return 0;
        }
    }
    return run > 0;
}

static int
is_label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* A host name, or an IPv4/IPv6 address (without brackets). */
static int
host_ok(const char *h)
{
    unsigned char addr[16];
    size_t len = strlen(h);

    if (inet_pton(AF_INET6, h, addr) == 1)
        return 1;
    return len > 0 && len <= 253 && h[0] != '-' && dot_atom_ok(h, len, is_label_char);
}

/* An addr-spec in its common dot-atom form, local@domain (quoted local parts are not needed). */
static int
addr_ok(const char *a)
{
    const char *at = strrchr(a, '@');

    if (at == NULL || strlen(a) > 254)
        return 0;
    return dot_atom_ok(a, (size_t)(at - a), is_atext) && host_ok(at + 1) &&
           strchr(at + 1, ':') == NULL;
}

/* ---- setting one key ---- */

static int
set_string(struct load_ctx *ctx, char **field, const char *value)
{
    char *copy = strdup(value);

    if (copy == NULL) {
        fail(ctx, ctx->line, "out of memory");
        return -1;
    }
    free(*field);
    *field = copy;
    return 0;
}

static int
add_manager(struct load_ctx *ctx, const char *addr)
{
    struct config_community *c = &ctx->cfg->community;
    char **grown = realloc(c->managers, (c->n_managers + 1) * sizeof(*grown));

    if (grown == NULL) {
        fail(ctx, ctx->line, "out of memory");
        return -1;
    }
    c->managers = grown;
    c->managers[c->n_managers] = strdup(addr);
    if (c->managers[c->n_managers] == NULL) {
        fail(ctx, ctx->line, "out of memory");
        return -1;
    }
    c->n_managers++;
    return 0;
}

/* "a@x.org, b@y.org": empty items (a trailing comma) are skipped. */
static int
set_managers(struct load_ctx *ctx, const char *value)
{
    char *copy = strdup(value), *save = NULL, *item;
    int rc = 0;

    if (copy == NULL) {
        fail(ctx, ctx->line, "out of memory");
        return -1;
    }
    for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
         item = strtok_r(NULL, ",", &save)) {
        char *end = item + strlen(item);

        while (*item == ' ' || *item == '\t')
            item++;
        while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*item == '\0')
            continue;
        if (!addr_ok(item)) {
            fail(ctx, ctx->line,
                 "bad address in managers: '%s' (a list like a@example.org, b@example.org)", item);
            rc = -1;
        } else {
            rc = add_manager(ctx, item);
        }
    }
    free(copy);
    return rc;
}

static int
set_ranged(struct load_ctx *ctx, const struct keydef *k, const char *value)
{
    long long n;

    if (k->type == K_INT) {
        if (parse_long(value, &n) != 0 || n < k->min || n > k->max) {
            fail(ctx, ctx->line, "bad value for %s: '%s' (%d-%d)", k->name, value, k->min, k->max);
            return -1;
        }
    } else if (k->type == K_SIZE) {
        if (parse_with_unit(value, size_units, &n) != 0 || n < k->min || n > k->max) {
            fail(ctx, ctx->line, "bad value for %s: '%s' (%d-%d bytes; suffixes k, M, G allowed)",
                 k->name, value, k->min, k->max);
            return -1;
        }
    } else if (parse_with_unit(value, duration_units, &n) != 0 || n < k->min || n > k->max) {
        fail(ctx, ctx->line,
             "bad value for %s: '%s' (a duration of %d-%d seconds; suffixes s, m, h, d, w allowed)",
             k->name, value, k->min, k->max);
        return -1;
    }
    *int_field(ctx->cfg, k) = (int)n;
    return 0;
}

static int
set_real(struct load_ctx *ctx, const struct keydef *k, const char *value)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(value, &end);
    if (errno != 0 || end == value || *end != '\0' || d < k->min || d > k->max) {
        fail(ctx, ctx->line, "bad value for %s: '%s' (a number from %d to %d)", k->name, value,
             k->min, k->max);
        return -1;
    }
    *(double *)(void *)((char *)ctx->cfg + k->offset) = d;
    return 0;
}

static int
set_checked_string(struct load_ctx *ctx, const struct keydef *k, const char *value)
{
    if (k->type == K_ADDR && !addr_ok(value)) {
        fail(ctx, ctx->line, "bad value for %s: '%s' (an address like mentors@example.org)",
             k->name, value);
        return -1;
    }
    if (k->type == K_HOST && !host_ok(value)) {
        fail(ctx, ctx->line, "bad value for %s: '%s' (a host name or IP address)", k->name, value);
        return -1;
    }
    if (k->type == K_READABLE && access(value, R_OK) != 0) {
        fail(ctx, ctx->line, "%s '%s' is not readable: %s", k->name, value, strerror(errno));
        return -1;
    }
    return set_string(ctx, str_field(ctx->cfg, k), value);
}

static int
set_value(struct load_ctx *ctx, const struct keydef *k, const char *value)
{
    int b, level;

    switch (k->type) {
    case K_BOOL:
        if (parse_bool(value, &b) != 0) {
            fail(ctx, ctx->line, "bad value for %s: '%s' (yes or no)", k->name, value);
            return -1;
        }
        *int_field(ctx->cfg, k) = b;
        return 0;
    case K_INT:
    case K_DURATION:
    case K_SIZE:
        return set_ranged(ctx, k, value);
    case K_REAL:
        return set_real(ctx, k, value);
    case K_SECURITY:
        if (parse_security(value, (enum config_security *)(void *)int_field(ctx->cfg, k)) != 0) {
            fail(ctx, ctx->line, "unknown security mode '%s' (tls, starttls, none)", value);
            return -1;
        }
        return 0;
    case K_LEVEL:
        level = log_level_parse(value);
        if (level < 0) {
            fail(ctx, ctx->line, "unknown log level '%s' (error, warn, info, debug)", value);
            return -1;
        }
        *int_field(ctx->cfg, k) = level;
        return 0;
    case K_ADDRLIST:
        return set_managers(ctx, value);
    case K_STR:
    case K_ADDR:
    case K_HOST:
    case K_READABLE:
        break;
    }
    return set_checked_string(ctx, k, value);
}

/* ---- inih callbacks ---- */

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *ctx = user;
    int i;

    if (ctx->failed)
        return 0;
    if (ctx->indented && ctx->key_in_section) {
        fail(ctx, ctx->line,
             "indented line would continue the value of '%s' on the line above; remove the "
             "indentation",
             name);
        return 0;
    }
    ctx->key_in_section = 1;
    if (*section == '\0') {
        fail(ctx, ctx->line, "key '%s' before any [section]", name);
        return 0;
    }
    i = key_index(section, name);
    if (i < 0) {
        fail(ctx, ctx->line, "unknown key '%s' in [%s]", name, section);
        return 0;
    }
    if (ctx->lines[i] != 0) {
        fail(ctx, ctx->line, "duplicate key '%s' in [%s] (already set on line %d)", name, section,
             ctx->lines[i]);
        return 0;
    }
    ctx->lines[i] = ctx->line;
    if (has_control(value)) {
        fail(ctx, ctx->line, "control character in the value of %s", name);
        return 0;
    }
    if (*value == '\0' && !keys[i].allow_empty) {
        fail(ctx, ctx->line, "empty value for %s", name);
        return 0;
    }
    return set_value(ctx, &keys[i], value) == 0;
}

/* Check a "[name]" line as it passes; inih itself does not report empty sections. */
static int
check_section_line(struct load_ctx *ctx, const char *line)
{
    const char *p = line;
    const char *end;

    if (ctx->line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* a UTF-8 byte order mark, which inih skips as well */
    p += strspn(p, " \t");

    if (*p != '[')
        return 0;
    ctx->key_in_section = 0;
    end = strchr(p, ']');
    if (end == NULL)
        return 0; /* inih reports the syntax error */
    if (!section_known(p + 1, (size_t)(end - p - 1))) {
        fail(ctx, ctx->line, "unknown section [%.*s]", (int)(end - p - 1), p + 1);
        return -1;
    }
    return 0;
}

/* fgets-style reader for ini_parse_stream(): one call per line, so we can count them. */
static char *
read_line(char *str, int num, void *stream)
{
    struct load_ctx *ctx = stream;
    ssize_t n;

    if (ctx->failed)
        return NULL; /* stop at the first error */
    n = getline(&ctx->buf, &ctx->cap, ctx->file);
    if (n < 0)
        return NULL;
    ctx->line++;
    while (n > 0 && (ctx->buf[n - 1] == '\n' || ctx->buf[n - 1] == '\r'))
        ctx->buf[--n] = '\0';
    if (n >= num) {
        fail(ctx, ctx->line, "line too long (at most %d characters)", num - 1);
        return NULL;
    }
    ctx->indented = ctx->buf[0] == ' ' || ctx->buf[0] == '\t';
    if (check_section_line(ctx, ctx->buf) != 0)
        return NULL;
    memcpy(str, ctx->buf, (size_t)n + 1);
    return str;
}

/* ---- secrets ---- */

/* Read the password from path (set on line): private, one line, not empty. */
static int
read_password(struct load_ctx *ctx, const char *path, int line, char **out)
{
    char buf[PASSWORD_MAX + 1];
    struct stat st;
    ssize_t n;
    size_t len;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        fail(ctx, line, "cannot read password file %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fail(ctx, line, "password file %s is not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & S_IROTH) {
        fail(ctx, line, "password file %s is readable by others (chmod 600 or 640)", path);
        close(fd);
        return -1;
    }
    n = read(fd, buf, sizeof(buf));
    if (n < 0) {
        fail(ctx, line, "cannot read password file %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    len = (size_t)n;
    if (len > PASSWORD_MAX) {
        fail(ctx, line, "password file %s is larger than %d bytes", path, PASSWORD_MAX);
        return -1;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    buf[len] = '\0';
    if (len == 0) {
        fail(ctx, line, "password file %s is empty", path);
        return -1;
    }
    /* A second line or a NUL would be cut off or sent verbatim to the server. */
    if (strlen(buf) != len || strpbrk(buf, "\r\n") != NULL) {
        fail(ctx, line, "password file %s must hold the password on one line", path);
        explicit_bzero(buf, sizeof(buf));
        return -1;
    }
    *out = strdup(buf);
    explicit_bzero(buf, sizeof(buf));
    if (*out == NULL) {
        fail(ctx, line, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- defaults and rules involving several keys ---- */

void
config_set_defaults(struct config *cfg)
{
    cfg->imap.tls.security = CONFIG_SEC_TLS;
    cfg->imap.tls.verify = 1;
    cfg->imap.poll_interval = 60;
    cfg->imap.idle = 1;
    cfg->imap.timeout = 60;
    cfg->imap.max_attempts = 3;
    cfg->smtp.tls.security = CONFIG_SEC_STARTTLS;
    cfg->smtp.tls.verify = 1;
    cfg->smtp.timeout = 60;
    cfg->smtp.batch_size = 100;
    cfg->smtp.sessions = 1;
    cfg->smtp.retry_base = 60;
    cfg->smtp.retry_max = 3600;
    cfg->smtp.max_lifetime = 5 * DAY;
    cfg->log.level = LOG_LEVEL_INFO;
    cfg->limits.max_message_size = 10 * 1024 * 1024;
    cfg->limits.replies_per_hour = 5;
    cfg->limits.replies_per_day = 20;
    cfg->programme.confirm_expiry = 3 * DAY;
    cfg->programme.bounce_threshold = 3;
    cfg->programme.away_pause = 7 * DAY;
    cfg->matching.mentor_accepts = 1;
    cfg->matching.proposal_timeout = 3 * DAY;
    cfg->matching.interval = 3600;
    cfg->matching.circle_size = 4;
    cfg->matching.peer_circle_weeks = 0;
    cfg->matching.buddy_weeks = 4;
    cfg->matching.tag = 10;
    cfg->matching.language = 5;
    cfg->matching.tz_overlap = 1;
    cfg->matching.goal = 5;
    cfg->matching.wait_bonus_per_day = 0.5;
    cfg->matching.load_penalty = 1;
    cfg->matching.require_common_language = 1;
    cfg->matching.top_k = 20;
    cfg->matching.top_r = 5;
    cfg->lifecycle.length = 12 * 7 * DAY;
    cfg->lifecycle.quiet_start = 21;
    cfg->lifecycle.quiet_end = 8;
    cfg->lifecycle.reminder_period = 7 * DAY;
    cfg->lifecycle.silent_checkins = 2;
    cfg->lifecycle.pause_notice = 3 * DAY;
    cfg->digest.hour = 9;
}

static int
require(struct load_ctx *ctx, const char *section, const char *name, const char *value)
{
    if (value != NULL)
        return 0;
    fail(ctx, 0, "missing required key '%s' in [%s]", name, section);
    return -1;
}

/* Set *field to a copy of value unless the file set it. */
static int
default_string(struct load_ctx *ctx, char **field, const char *value)
{
    if (*field != NULL)
        return 0;
    *field = strdup(value);
    if (*field == NULL) {
        fail(ctx, 0, "out of memory");
        return -1;
    }
    return 0;
}

static int
finish_community(struct load_ctx *ctx)
{
    struct config_community *c = &ctx->cfg->community;
    const char *at;
    char *id;

    if (require(ctx, "community", "name", c->name) != 0 ||
        require(ctx, "community", "address", c->address) != 0)
        return -1;
    if (c->list_id != NULL)
        return 0;
    /* mentors@example.org -> <mentors.example.org>, as RFC 2919 suggests. */
    at = strrchr(c->address, '@');
    if (asprintf(&id, "<%.*s.%s>", (int)(at - c->address), c->address, at + 1) < 0) {
        fail(ctx, 0, "out of memory");
        return -1;
    }
    c->list_id = id;
    return 0;
}

/*
 * Plain text to a machine other than this one sends the password across the
 * network readable by anyone on the path; only an explicit allow_plaintext
 * says the admin knows and accepts that (a trusted private network).
 */
static int
check_plaintext(struct load_ctx *ctx, const char *section, const char *host,
                const struct config_tls *tls)
{
    if (tls->security != CONFIG_SEC_NONE || tls->allow_plaintext || config_host_is_loopback(host))
        return 0;
    fail(ctx, key_line(ctx, section, "security"),
         "[%s] security = none to host '%s' would send the password across the network in "
         "clear; use tls or starttls, or set allow_plaintext = yes if the network is trusted",
         section, host);
    return -1;
}

static int
finish_imap(struct load_ctx *ctx)
{
    struct config_imap *im = &ctx->cfg->imap;

    if (require(ctx, "imap", "host", im->host) != 0 ||
        require(ctx, "imap", "user", im->user) != 0 ||
        require(ctx, "imap", "password_file", im->password_file) != 0)
        return -1;
    if (im->port == 0)
        im->port = im->tls.security == CONFIG_SEC_TLS ? 993 : 143;
    if (default_string(ctx, &im->mailbox, "INBOX") != 0 ||
        default_string(ctx, &im->processed_mailbox, "Processed") != 0)
        return -1;
    if (check_plaintext(ctx, "imap", im->host, &im->tls) != 0)
        return -1;
    return read_password(ctx, im->password_file, key_line(ctx, "imap", "password_file"),
                         &im->password);
}

/* Take one part of a parsed URL; 1 when present, 0 when absent, -1 on error. */
static int
url_part(CURLU *u, CURLUPart what, char **out)
{
    CURLUcode rc = curl_url_get(u, what, out, 0);

    if (rc == CURLUE_OK)
        return 1;
    *out = NULL;
    if (rc == CURLUE_NO_PORT || rc == CURLUE_NO_USER || rc == CURLUE_NO_PASSWORD ||
        rc == CURLUE_NO_QUERY || rc == CURLUE_NO_FRAGMENT || rc == CURLUE_NO_OPTIONS)
        return 0;
    return -1;
}

/* The scheme decides the security mode; an explicit security may only agree with it. */
static int
url_security(struct load_ctx *ctx, int line, const char *scheme)
{
    struct config_tls *tls = &ctx->cfg->smtp.tls;
    int sec_line = key_line(ctx, "smtp", "security");

    if (strcmp(scheme, "smtps") == 0) {
        if (sec_line != 0 && tls->security != CONFIG_SEC_TLS) {
            fail(ctx, sec_line, "security = %s contradicts url '%s' (smtps:// is implicit TLS)",
                 security_name(tls->security), ctx->cfg->smtp.url);
            return -1;
        }
        tls->security = CONFIG_SEC_TLS;
        return 0;
    }
    if (strcmp(scheme, "smtp") != 0) {
        fail(ctx, line, "bad value for url: '%s' (smtp://host[:port] or smtps://host[:port])",
             ctx->cfg->smtp.url);
        return -1;
    }
    if (sec_line != 0 && tls->security == CONFIG_SEC_TLS) {
        fail(ctx, sec_line, "security = tls contradicts url '%s' (use smtps:// for implicit TLS)",
             ctx->cfg->smtp.url);
        return -1;
    }
    if (sec_line == 0)
        tls->security = CONFIG_SEC_STARTTLS;
    return 0;
}

/* Host, port and security from url = smtp[s]://host[:port]; nothing else may be in it. */
static int
parse_smtp_url(struct load_ctx *ctx, CURLU *u)
{
    struct config_smtp *s = &ctx->cfg->smtp;
    int line = key_line(ctx, "smtp", "url");
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
    int rc = -1, bad;

    bad = curl_url_set(u, CURLUPART_URL, s->url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
          url_part(u, CURLUPART_SCHEME, &scheme) != 1 || url_part(u, CURLUPART_HOST, &host) != 1 ||
          url_part(u, CURLUPART_PORT, &port) < 0 || url_part(u, CURLUPART_PATH, &path) < 0 ||
          (path != NULL && strcmp(path, "") != 0 && strcmp(path, "/") != 0) ||
          url_part(u, CURLUPART_USER, &extra) != 0 || url_part(u, CURLUPART_QUERY, &extra) != 0 ||
          url_part(u, CURLUPART_FRAGMENT, &extra) != 0;
    if (bad) {
        fail(ctx, line, "bad value for url: '%s' (smtp://host[:port] or smtps://host[:port])",
             s->url);
        goto out;
    }
    if (url_security(ctx, line, scheme) != 0)
        goto out;
    /* curl hands IPv6 hosts back in brackets; the host key holds the bare address. */
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    if (set_string(ctx, &s->host, host) != 0)
        goto out;
    if (port != NULL)
        s->port = atoi(port);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(extra);
    return rc;
}

static int
smtp_server(struct load_ctx *ctx)
{
    struct config_smtp *s = &ctx->cfg->smtp;
    int line, rc;
    CURLU *u;
    char *url;

    if (s->url != NULL) {
        line = key_line(ctx, "smtp", "host");
        if (line == 0)
            line = key_line(ctx, "smtp", "port");
        if (line != 0) {
            fail(ctx, line, "host and port cannot be combined with url (the url names the server)");
            return -1;
        }
        u = curl_url();
        if (u == NULL) {
            fail(ctx, 0, "out of memory");
            return -1;
        }
        rc = parse_smtp_url(ctx, u);
        curl_url_cleanup(u);
        if (rc != 0)
            return -1;
    } else if (default_string(ctx, &s->host, "localhost") != 0) {
        return -1;
    }
    if (s->port == 0)
        s->port = s->tls.security == CONFIG_SEC_TLS        ? 465
                  : s->tls.security == CONFIG_SEC_STARTTLS ? 587
                                                           : 25;
    /* Always spell the URL out in full, so smtp and config_print agree on the port. */
    if (asprintf(&url, "%s://%s%s%s:%d", s->tls.security == CONFIG_SEC_TLS ? "smtps" : "smtp",
                 strchr(s->host, ':') ? "[" : "", s->host, strchr(s->host, ':') ? "]" : "",
                 s->port) < 0) {
        fail(ctx, 0, "out of memory");
        return -1;
    }
    free(s->url);
    s->url = url;
    return 0;
}

static int
smtp_auth(struct load_ctx *ctx)
{
    struct config_smtp *s = &ctx->cfg->smtp;

    if (s->user == NULL) {
        if (s->password_file != NULL) {
            fail(ctx, key_line(ctx, "smtp", "password_file"),
                 "password_file is set but user is not (AUTH needs both)");
            return -1;
        }
        return 0;
    }
    if (s->password_file == NULL) {
        fail(ctx, 0, "missing required key 'password_file' in [smtp] (needed because user is set)");
        return -1;
    }
    if (check_plaintext(ctx, "smtp", s->host, &s->tls) != 0)
        return -1;
    return read_password(ctx, s->password_file, key_line(ctx, "smtp", "password_file"),
                         &s->password);
}

static int
finish_smtp(struct load_ctx *ctx)
{
    struct config_smtp *s = &ctx->cfg->smtp;

    if (smtp_server(ctx) != 0 || smtp_auth(ctx) != 0)
        return -1;
    if (default_string(ctx, &s->from, ctx->cfg->community.address) != 0 ||
        default_string(ctx, &s->helo, config_domain(ctx->cfg)) != 0)
        return -1;
    if (s->retry_max < s->retry_base) {
        fail(ctx, key_line(ctx, "smtp", "retry_max"),
             "retry_max (%d seconds) is smaller than retry_base (%d seconds)", s->retry_max,
             s->retry_base);
        return -1;
    }
    return 0;
}

/* A keyword value: one of the words in choices ("a|b|c"), case-sensitive. */
static int
check_choice(struct load_ctx *ctx, const char *section, const char *name, const char *value,
             const char *choices)
{
    size_t n = strlen(value);

    for (const char *p = choices; *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && strncmp(p, value, n) == 0)
            return 0;
        p += len + (p[len] == '|');
    }
    fail(ctx, key_line(ctx, section, name), "unknown %s '%s' (one of: %s)", name, value, choices);
    return -1;
}

static int
finish_programme(struct load_ctx *ctx)
{
    struct config *cfg = ctx->cfg;

    if (default_string(ctx, &cfg->matching.mode, "pairs") != 0 ||
        default_string(ctx, &cfg->lifecycle.checkins, "3, 14, 30, 60") != 0 ||
        default_string(ctx, &cfg->lifecycle.introduction, "together") != 0 ||
        default_string(ctx, &cfg->lifecycle.thanks, "news") != 0 ||
        default_string(ctx, &cfg->digest.frequency, "weekly") != 0 ||
        default_string(ctx, &cfg->digest.day, "monday") != 0 ||
        default_string(ctx, &cfg->digest.timezone, "UTC") != 0)
        return -1;
    if (check_choice(ctx, "matching", "mode", cfg->matching.mode,
                     "pairs|circles|buddies|rotation") != 0)
        return -1;
    if (check_choice(ctx, "lifecycle", "introduction", cfg->lifecycle.introduction,
                     "together|separate") != 0 ||
        check_choice(ctx, "lifecycle", "thanks", cfg->lifecycle.thanks, "news|always") != 0 ||
        check_choice(ctx, "digest", "frequency", cfg->digest.frequency,
                     "daily|weekly|monthly|never") != 0)
        return -1;
    if (cfg->lifecycle.quiet_start == cfg->lifecycle.quiet_end) {
        int line = key_line(ctx, "lifecycle", "quiet_end");
        fail(ctx, line ? line : key_line(ctx, "lifecycle", "quiet_start"),
             "quiet_start and quiet_end are equal: give the night a length");
        return -1;
    }
    return 0;
}

static int
finish(struct load_ctx *ctx)
{
    struct config *cfg = ctx->cfg;

    if (finish_community(ctx) != 0 || finish_imap(ctx) != 0 || finish_smtp(ctx) != 0 ||
        finish_programme(ctx) != 0)
        return -1;
    if (default_string(ctx, &cfg->store.path, DEFAULT_STORE_PATH) != 0 ||
        default_string(ctx, &cfg->templates.dir, DEFAULT_TEMPLATES_DIR) != 0 ||
        default_string(ctx, &cfg->log.ident, "mentord") != 0)
        return -1;
    return 0;
}

/* ---- public ---- */

static int
parse_file(struct load_ctx *ctx)
{
    int rc;

    ctx->file = fopen(ctx->path, "re");
    if (ctx->file == NULL) {
        fail(ctx, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    rc = ini_parse_stream(read_line, ctx, on_key, ctx);
    if (!ctx->failed && ferror(ctx->file))
        fail(ctx, 0, "read error after line %d", ctx->line);
    fclose(ctx->file);
    free(ctx->buf);
    /* inih's own errors (a line that is neither [section] nor key = value) come as line numbers. */
    if (rc > 0 && (!ctx->failed || rc < ctx->err_line)) {
        ctx->failed = 0;
        fail(ctx, rc, "syntax error: expected [section], key = value or a ; comment");
    } else if (rc < 0 && !ctx->failed) {
        fail(ctx, 0, "out of memory while parsing");
    }
    return ctx->failed ? -1 : 0;
}

int
config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
    struct load_ctx ctx;

    memset(cfg, 0, sizeof(*cfg));
    memset(&ctx, 0, sizeof(ctx));
    ctx.path = path != NULL ? path : "(null)";
    ctx.cfg = cfg;
    ctx.err = err;
    ctx.errlen = errlen;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    config_set_defaults(cfg);
    cfg->path = strdup(ctx.path);
    if (cfg->path == NULL)
        fail(&ctx, 0, "out of memory");
    if (ctx.failed || parse_file(&ctx) != 0 || finish(&ctx) != 0) {
        config_free(cfg);
        return -1;
    }
    return 0;
}

static void
free_secret(char **s)
{
    if (*s != NULL)
        explicit_bzero(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

void
config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < N_KEYS; i++) {
        if (keys[i].type == K_STR || keys[i].type == K_ADDR || keys[i].type == K_HOST ||
            keys[i].type == K_READABLE)
            free(*str_field(cfg, &keys[i]));
    }
    for (size_t i = 0; i < cfg->community.n_managers; i++)
        free(cfg->community.managers[i]);
    free(cfg->community.managers);
    free_secret(&cfg->imap.password);
    free_secret(&cfg->smtp.password);
    free(cfg->path);
    memset(cfg, 0, sizeof(*cfg));
}

int
config_host_is_loopback(const char *host)
{
    unsigned char a[16];
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char v6loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    if (host == NULL)
        return 0;
    /* By name only "localhost" counts: resolving names here would trust DNS with the decision. */
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
        return 1;
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) == 1)
        return memcmp(a, v6loop, 16) == 0 || (memcmp(a, v4mapped, 12) == 0 && a[12] == 127);
    return 0;
}

int
config_is_manager(const struct config *cfg, const char *addr)
{
    if (cfg == NULL || addr == NULL)
        return 0;
    for (size_t i = 0; i < cfg->community.n_managers; i++)
        if (strcasecmp(cfg->community.managers[i], addr) == 0)
            return 1;
    return 0;
}

const char *
config_domain(const struct config *cfg)
{
    const char *at;

    if (cfg == NULL || cfg->community.address == NULL)
        return "";
    at = strrchr(cfg->community.address, '@');
    return at != NULL ? at + 1 : cfg->community.address;
}

/* ---- printing ---- */

static void
print_str(FILE *out, const char *name, const char *value)
{
    if (value != NULL)
        fprintf(out, "%s = %s\n", name, value);
    else
        fprintf(out, "; %s =\n", name); /* unset: commented out so the output loads again */
}

static void
print_tls(FILE *out, const struct config_tls *tls)
{
    fprintf(out, "security = %s\n", security_name(tls->security));
    fprintf(out, "tls_verify = %s\n", tls->verify ? "yes" : "no");
    print_str(out, "tls_ca_file", tls->ca_file);
    fprintf(out, "allow_plaintext = %s\n", tls->allow_plaintext ? "yes" : "no");
}

static void
print_password(FILE *out, const char *file, const char *password)
{
    print_str(out, "password_file", file);
    /* Never the password itself: config_print output ends up in bug reports. */
    if (password != NULL)
        fprintf(out, "; password = ********\n");
}

static void
print_community(FILE *out, const struct config_community *c)
{
    fprintf(out, "[community]\n");
    print_str(out, "name", c->name);
    print_str(out, "address", c->address);
    fprintf(out, "managers =");
    for (size_t i = 0; i < c->n_managers; i++)
        fprintf(out, "%s %s", i > 0 ? "," : "", c->managers[i]);
    fprintf(out, "\n");
    print_str(out, "list_id", c->list_id);
}

static void
print_imap(FILE *out, const struct config_imap *im)
{
    fprintf(out, "\n[imap]\n");
    print_str(out, "host", im->host);
    fprintf(out, "port = %d\n", im->port);
    print_tls(out, &im->tls);
    print_str(out, "user", im->user);
    print_password(out, im->password_file, im->password);
    print_str(out, "mailbox", im->mailbox);
    print_str(out, "processed_mailbox", im->processed_mailbox);
    fprintf(out, "poll_interval = %d\n", im->poll_interval);
    fprintf(out, "idle = %s\n", im->idle ? "yes" : "no");
    fprintf(out, "timeout = %d\n", im->timeout);
    fprintf(out, "max_attempts = %d\n", im->max_attempts);
}

static void
print_smtp(FILE *out, const struct config_smtp *s)
{
    fprintf(out, "\n[smtp]\n");
    /* url is derived from host, port and security; printing both would not load again. */
    fprintf(out, "; url = %s\n", s->url != NULL ? s->url : "");
    print_str(out, "host", s->host);
    fprintf(out, "port = %d\n", s->port);
    print_tls(out, &s->tls);
    print_str(out, "user", s->user);
    print_password(out, s->password_file, s->password);
    print_str(out, "from", s->from);
    print_str(out, "helo", s->helo);
    fprintf(out, "timeout = %d\n", s->timeout);
    fprintf(out, "batch_size = %d\n", s->batch_size);
    fprintf(out, "sessions = %d\n", s->sessions);
    fprintf(out, "retry_base = %d\n", s->retry_base);
    fprintf(out, "retry_max = %d\n", s->retry_max);
    fprintf(out, "max_lifetime = %d\n", s->max_lifetime);
}

static void
print_matching(FILE *out, const struct config_matching *m)
{
    fprintf(out, "\n[matching]\n");
    print_str(out, "mode", m->mode);
    fprintf(out, "mentor_accepts = %s\n", m->mentor_accepts ? "yes" : "no");
    fprintf(out, "proposal_timeout = %d\n", m->proposal_timeout);
    fprintf(out, "interval = %d\n", m->interval);
    fprintf(out, "circle_size = %d\n", m->circle_size);
    fprintf(out, "peer_circle_weeks = %d\n", m->peer_circle_weeks);
    fprintf(out, "buddy_weeks = %d\n", m->buddy_weeks);
    fprintf(out, "tag = %g\nlanguage = %g\ntz_overlap = %g\ngoal = %g\n", m->tag, m->language,
            m->tz_overlap, m->goal);
    fprintf(out, "wait_bonus_per_day = %g\nload_penalty = %g\n", m->wait_bonus_per_day,
            m->load_penalty);
    fprintf(out, "require_common_language = %s\n", m->require_common_language ? "yes" : "no");
    fprintf(out, "top_k = %d\ntop_r = %d\n", m->top_k, m->top_r);
    print_str(out, "synonyms", m->synonyms);
}

static void
print_lifecycle(FILE *out, const struct config_lifecycle *l)
{
    fprintf(out, "\n[lifecycle]\n");
    fprintf(out, "length = %d\n", l->length);
    print_str(out, "checkins", l->checkins);
    fprintf(out, "quiet_start = %d\nquiet_end = %d\n", l->quiet_start, l->quiet_end);
    fprintf(out, "reminder_period = %d\n", l->reminder_period);
    fprintf(out, "silent_checkins = %d\n", l->silent_checkins);
    fprintf(out, "pause_notice = %d\n", l->pause_notice);
    print_str(out, "introduction", l->introduction);
    print_str(out, "thanks", l->thanks);
}

static void
print_digest(FILE *out, const struct config_digest *d)
{
    fprintf(out, "\n[digest]\n");
    print_str(out, "frequency", d->frequency);
    print_str(out, "day", d->day);
    fprintf(out, "hour = %d\n", d->hour);
    print_str(out, "timezone", d->timezone);
    print_str(out, "trusted_authserv", d->trusted_authserv);
}

void
config_print(const struct config *cfg, FILE *out)
{
    if (cfg == NULL || out == NULL)
        return;
    fprintf(out, "; mentord configuration loaded from %s\n", cfg->path != NULL ? cfg->path : "?");
    print_community(out, &cfg->community);
    print_imap(out, &cfg->imap);
    print_smtp(out, &cfg->smtp);
    fprintf(out, "\n[limits]\n");
    fprintf(out, "max_message_size = %d\n", cfg->limits.max_message_size);
    fprintf(out, "replies_per_hour = %d\n", cfg->limits.replies_per_hour);
    fprintf(out, "replies_per_day = %d\n", cfg->limits.replies_per_day);
    fprintf(out, "\n[programme]\n");
    fprintf(out, "plus_addressing = %s\n", cfg->programme.plus_addressing ? "yes" : "no");
    fprintf(out, "confirm_expiry = %d\n", cfg->programme.confirm_expiry);
    fprintf(out, "bounce_threshold = %d\n", cfg->programme.bounce_threshold);
    fprintf(out, "away_pause = %d\n", cfg->programme.away_pause);
    print_matching(out, &cfg->matching);
    print_lifecycle(out, &cfg->lifecycle);
    print_digest(out, &cfg->digest);
    fprintf(out, "\n[store]\n");
    print_str(out, "path", cfg->store.path);
    fprintf(out, "\n[templates]\n");
    print_str(out, "dir", cfg->templates.dir);
    fprintf(out, "\n[log]\n");
    fprintf(out, "level = %s\n", log_level_name((enum log_level)cfg->log.level));
    fprintf(out, "syslog = %s\n", cfg->log.syslog ? "yes" : "no");
    print_str(out, "ident", cfg->log.ident);
}
