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

#include "config_int.h"
#include "log.h"
#include "paths.h"
#define PASSWORD_MAX 4096
#define DAY (24 * 60 * 60)

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
    int *lines;         /* where each key was set (config_keys_count of them); 0 when not set */
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
    for (size_t i = 0; i < config_keys_count; i++)
        if (strcmp(config_keys[i].section, section) == 0 && strcmp(config_keys[i].name, name) == 0)
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
    for (size_t i = 0; i < config_keys_sections_count; i++)
        if (strlen(config_keys_sections[i].name) == len &&
            strncmp(config_keys_sections[i].name, name, len) == 0)
            return 1;
    return 0;
}

static char **
str_field(struct config *cfg, const struct config_key *k)
{
    return (char **)(void *)((char *)cfg + k->offset);
}

static int *
int_field(struct config *cfg, const struct config_key *k)
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

static const char *const auth_names[] = {"password", "xoauth2", "oauthbearer"};

static int
parse_auth(const char *v, enum config_auth *out)
{
    for (size_t i = 0; i < sizeof(auth_names) / sizeof(auth_names[0]); i++) {
        if (strcasecmp(v, auth_names[i]) == 0) {
            *out = (enum config_auth)i;
            return 0;
        }
    }
    return -1;
}

const char *
config_auth_name(enum config_auth auth)
{
    return (size_t)auth < sizeof(auth_names) / sizeof(auth_names[0]) ? auth_names[auth] : "?";
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
set_ranged(struct load_ctx *ctx, const struct config_key *k, const char *value)
{
    long long n;

    if (k->type == CK_INT) {
        if (parse_long(value, &n) != 0 || n < k->min || n > k->max) {
            fail(ctx, ctx->line, "bad value for %s: '%s' (%d-%d)", k->name, value, k->min, k->max);
            return -1;
        }
    } else if (k->type == CK_SIZE) {
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
set_real(struct load_ctx *ctx, const struct config_key *k, const char *value)
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

/* value is one of the words in choices ("a|b|c"), case-sensitive. */
static int
choice_ok(const char *choices, const char *value)
{
    size_t n = strlen(value);

    for (const char *p = choices; *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && strncmp(p, value, n) == 0)
            return 1;
        p += len + (p[len] == '|');
    }
    return 0;
}

static int
set_checked_string(struct load_ctx *ctx, const struct config_key *k, const char *value)
{
    if (k->type == CK_ADDR && !addr_ok(value)) {
        fail(ctx, ctx->line, "bad value for %s: '%s' (an address like mentors@example.org)",
             k->name, value);
        return -1;
    }
    if (k->type == CK_HOST && !host_ok(value)) {
        fail(ctx, ctx->line, "bad value for %s: '%s' (a host name or IP address)", k->name, value);
        return -1;
    }
    if (k->type == CK_CHOICE && !choice_ok(k->choices, value)) {
        fail(ctx, ctx->line, "unknown %s '%s' (one of: %s)", k->name, value, k->choices);
        return -1;
    }
    if (k->type == CK_READABLE && access(value, R_OK) != 0) {
        fail(ctx, ctx->line, "%s '%s' is not readable: %s", k->name, value, strerror(errno));
        return -1;
    }
    return set_string(ctx, str_field(ctx->cfg, k), value);
}

static int
set_value(struct load_ctx *ctx, const struct config_key *k, const char *value)
{
    int b, level;

    switch (k->type) {
    case CK_BOOL:
        if (parse_bool(value, &b) != 0) {
            fail(ctx, ctx->line, "bad value for %s: '%s' (yes or no)", k->name, value);
            return -1;
        }
        *int_field(ctx->cfg, k) = b;
        return 0;
    case CK_INT:
    case CK_DURATION:
    case CK_SIZE:
        return set_ranged(ctx, k, value);
    case CK_REAL:
        return set_real(ctx, k, value);
    case CK_SECURITY:
        if (parse_security(value, (enum config_security *)(void *)int_field(ctx->cfg, k)) != 0) {
            fail(ctx, ctx->line, "unknown security mode '%s' (tls, starttls, none)", value);
            return -1;
        }
        return 0;
    case CK_AUTH:
        if (parse_auth(value, (enum config_auth *)(void *)int_field(ctx->cfg, k)) != 0) {
            fail(ctx, ctx->line, "unknown auth '%s' (password, xoauth2, oauthbearer)", value);
            return -1;
        }
        return 0;
    case CK_LEVEL:
        level = log_level_parse(value);
        if (level < 0) {
            fail(ctx, ctx->line, "unknown log level '%s' (error, warn, info, debug)", value);
            return -1;
        }
        *int_field(ctx->cfg, k) = level;
        return 0;
    case CK_ADDRLIST:
        return set_managers(ctx, value);
    case CK_STR:
    case CK_ADDR:
    case CK_HOST:
    case CK_CHOICE:
    case CK_READABLE:
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
    if (*value == '\0' && !(config_keys[i].flags & CKF_EMPTY)) {
        fail(ctx, ctx->line, "empty value for %s", name);
        return 0;
    }
    return set_value(ctx, &config_keys[i], value) == 0;
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

/* Read a secret (what: "password") from path (set on line): private, one line, not empty. */
static int
read_secret(struct load_ctx *ctx, const char *what, const char *path, int line, char **out)
{
    char buf[PASSWORD_MAX + 1];
    struct stat st;
    ssize_t n;
    size_t len;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        fail(ctx, line, "cannot read %s file %s: %s", what, path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fail(ctx, line, "%s file %s is not a regular file", what, path);
        close(fd);
        return -1;
    }
    if (st.st_mode & S_IROTH) {
        fail(ctx, line, "%s file %s is readable by others (chmod 600 or 640)", what, path);
        close(fd);
        return -1;
    }
    n = read(fd, buf, sizeof(buf));
    if (n < 0) {
        fail(ctx, line, "cannot read %s file %s: %s", what, path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    len = (size_t)n;
    if (len > PASSWORD_MAX) {
        fail(ctx, line, "%s file %s is larger than %d bytes", what, path, PASSWORD_MAX);
        return -1;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    buf[len] = '\0';
    if (len == 0) {
        fail(ctx, line, "%s file %s is empty", what, path);
        return -1;
    }
    /* A second line or a NUL would be cut off or sent verbatim to the server. */
    if (strlen(buf) != len || strpbrk(buf, "\r\n") != NULL) {
        fail(ctx, line, "%s file %s must hold the %s on one line", what, path, what);
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

static int
read_password(struct load_ctx *ctx, const char *path, int line, char **out)
{
    return read_secret(ctx, "password", path, line, out);
}

/* ---- defaults and rules involving several keys ---- */

static int
is_string(const struct config_key *k)
{
    return k->type == CK_STR || k->type == CK_ADDR || k->type == CK_HOST || k->type == CK_CHOICE ||
           k->type == CK_READABLE;
}

/*
 * The table's defaults of the keys that are not strings, through the same
 * parser as the file's values.  String defaults are set in finish(), after
 * the file, so a string the file sets is never allocated twice.
 */
static int
set_defaults(struct load_ctx *ctx)
{
    for (size_t i = 0; i < config_keys_count; i++) {
        const struct config_key *k = &config_keys[i];

        if (k->def == NULL || is_string(k))
            continue;
        if (set_value(ctx, k, k->def) != 0) {
            ctx->failed = 0;
            fail(ctx, 0, "internal error: the default of [%s] %s ('%s') is not valid", k->section,
                 k->name, k->def);
            return -1;
        }
    }
    return 0;
}

void
config_set_defaults(struct config *cfg)
{
    struct load_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.path = "(defaults)";
    ctx.cfg = cfg;
    (void)set_defaults(&ctx); /* a bad default fails every config_load, and so the tests */
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

/*
 * auth = password needs password_file; with OAuth a password_file would be
 * ignored, and saying so beats a stored password nobody knows is unused.
 */
static int
check_auth_keys(struct load_ctx *ctx, const char *section, enum config_auth auth,
                const char *password_file)
{
    if (auth == CONFIG_AUTH_PASSWORD) {
        if (password_file != NULL)
            return 0;
        fail(ctx, 0, "missing required key 'password_file' in [%s] (or set auth = xoauth2)",
             section);
        return -1;
    }
    ctx->cfg->oauth2.used = 1;
    if (password_file == NULL)
        return 0;
    fail(ctx, key_line(ctx, section, "password_file"),
         "password_file is not used with auth = %s (the access token comes from [oauth2]); "
         "remove it",
         config_auth_name(auth));
    return -1;
}

static int
finish_imap(struct load_ctx *ctx)
{
    struct config_imap *im = &ctx->cfg->imap;

    if (check_auth_keys(ctx, "imap", im->auth, im->password_file) != 0)
        return -1;
    if (im->port == 0)
        im->port = im->tls.security == CONFIG_SEC_TLS ? 993 : 143;
    if (check_plaintext(ctx, "imap", im->host, &im->tls) != 0)
        return -1;
    if (im->auth != CONFIG_AUTH_PASSWORD)
        return 0; /* the token comes from [oauth2] */
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
        if (s->auth != CONFIG_AUTH_PASSWORD) {
            fail(ctx, key_line(ctx, "smtp", "auth"),
                 "auth = %s needs user (the mailbox the token is for)", config_auth_name(s->auth));
            return -1;
        }
        if (s->password_file != NULL) {
            fail(ctx, key_line(ctx, "smtp", "password_file"),
                 "password_file is set but user is not (AUTH needs both)");
            return -1;
        }
        return 0;
    }
    if (s->auth == CONFIG_AUTH_PASSWORD && s->password_file == NULL) {
        fail(ctx, 0, "missing required key 'password_file' in [smtp] (needed because user is set)");
        return -1;
    }
    if (check_auth_keys(ctx, "smtp", s->auth, s->password_file) != 0)
        return -1;
    if (check_plaintext(ctx, "smtp", s->host, &s->tls) != 0)
        return -1;
    if (s->auth != CONFIG_AUTH_PASSWORD)
        return 0;
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
    if (choice_ok(choices, value))
        return 0;
    fail(ctx, key_line(ctx, section, name), "unknown %s '%s' (one of: %s)", name, value, choices);
    return -1;
}

/* ---- [oauth2] ---- */

#define DEFAULT_REFRESH_TOKEN_FILE "/var/lib/mentord/oauth2-refresh-token"

/*
 * What a provider needs, so a community only names it and its client id.
 * Microsoft's endpoints carry the tenant ("%s"); its device flow works for
 * the mail scopes, Google's does not (its device flow allows a short list of
 * scopes without https://mail.google.com/), so Google starts with the code
 * flow.  offline_access (Microsoft) and access_type=offline (Google, added by
 * the code flow) ask for the refresh token; openid and email let the token
 * response name the account that authorised, for mentorctl oauth status
 * (Microsoft puts preferred_username in it only with profile).
 */
struct oauth_preset {
    const char *name;
    const char *token_url, *device_url, *authorize_url;
    const char *scope;
    const char *flow;
};

static const struct oauth_preset oauth_presets[] = {
    {"microsoft", "https://login.microsoftonline.com/%s/oauth2/v2.0/token",
     "https://login.microsoftonline.com/%s/oauth2/v2.0/devicecode",
     "https://login.microsoftonline.com/%s/oauth2/v2.0/authorize",
     "offline_access openid profile email https://outlook.office.com/IMAP.AccessAsUser.All "
     "https://outlook.office.com/SMTP.Send",
     "device"},
    {"google", "https://oauth2.googleapis.com/token", NULL,
     "https://accounts.google.com/o/oauth2/v2/auth", "https://mail.google.com/ openid email",
     "code"},
    {"custom", NULL, NULL, NULL, NULL, NULL},
};

/* A preset URL with the tenant put in (Microsoft), unless the file gave the key. */
static int
default_url(struct load_ctx *ctx, char **field, const char *pattern, const char *tenant)
{
    char *url;

    if (*field != NULL || pattern == NULL)
        return 0;
    if (asprintf(&url, pattern, tenant) < 0) {
        fail(ctx, 0, "out of memory");
        return -1;
    }
    *field = url;
    return 0;
}

/*
 * An endpoint gets the refresh token and the client secret: https only, or
 * http to this machine (a local test server).
 */
static int
check_endpoint(struct load_ctx *ctx, const char *name, const char *url)
{
    CURLU *u;
    char *scheme = NULL, *host = NULL;
    int ok;

    if (url == NULL)
        return 0;
    u = curl_url();
    if (u == NULL) {
        fail(ctx, 0, "out of memory");
        return -1;
    }
    ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
         url_part(u, CURLUPART_SCHEME, &scheme) == 1 && url_part(u, CURLUPART_HOST, &host) == 1 &&
         (strcmp(scheme, "https") == 0 ||
          (strcmp(scheme, "http") == 0 && config_host_is_loopback(host)));
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    if (ok)
        return 0;
    fail(ctx, key_line(ctx, "oauth2", name),
         "bad value for %s: '%s' (an https:// URL; http:// only to this machine)", name, url);
    return -1;
}

static int
oauth2_presets(struct load_ctx *ctx, struct config_oauth2 *o)
{
    const struct oauth_preset *p = NULL;

    if (default_string(ctx, &o->provider, "custom") != 0)
        return -1;
    for (size_t i = 0; i < sizeof(oauth_presets) / sizeof(oauth_presets[0]); i++)
        if (strcmp(o->provider, oauth_presets[i].name) == 0)
            p = &oauth_presets[i];
    if (p == NULL) {
        fail(ctx, key_line(ctx, "oauth2", "provider"),
             "unknown provider '%s' (one of: microsoft|google|custom)", o->provider);
        return -1;
    }
    if (strcmp(p->name, "microsoft") == 0 && default_string(ctx, &o->tenant, "organizations") != 0)
        return -1;
    if (default_url(ctx, &o->token_url, p->token_url, o->tenant) != 0 ||
        default_url(ctx, &o->device_url, p->device_url, o->tenant) != 0 ||
        default_url(ctx, &o->authorize_url, p->authorize_url, o->tenant) != 0)
        return -1;
    if (p->scope != NULL && default_string(ctx, &o->scope, p->scope) != 0)
        return -1;
    if (o->flow == NULL && (p->flow != NULL || o->device_url != NULL || o->authorize_url != NULL))
        return default_string(ctx, &o->flow,
                              p->flow != NULL ? p->flow
                              : o->device_url ? "device"
                                              : "code");
    return 0;
}

static int
finish_oauth2(struct load_ctx *ctx)
{
    struct config_oauth2 *o = &ctx->cfg->oauth2;

    if (!o->used)
        return 0; /* a section kept for later does no harm */
    if (oauth2_presets(ctx, o) != 0)
        return -1;
    if (o->token_url == NULL) {
        fail(ctx, 0,
             "missing required key 'token_url' in [oauth2] (or set provider = "
             "microsoft or google)");
        return -1;
    }
    if (require(ctx, "oauth2", "client_id", o->client_id) != 0 ||
        default_string(ctx, &o->refresh_token_file, DEFAULT_REFRESH_TOKEN_FILE) != 0)
        return -1;
    if (check_endpoint(ctx, "token_url", o->token_url) != 0 ||
        check_endpoint(ctx, "device_url", o->device_url) != 0 ||
        check_endpoint(ctx, "authorize_url", o->authorize_url) != 0 ||
        check_endpoint(ctx, "introspection_url", o->introspection_url) != 0)
        return -1;
    if (o->flow != NULL && check_choice(ctx, "oauth2", "flow", o->flow, "device|code") != 0)
        return -1;
    if (o->flow != NULL && strcmp(o->flow, "device") == 0 && o->device_url == NULL) {
        fail(ctx, key_line(ctx, "oauth2", "flow"), "flow = device needs device_url");
        return -1;
    }
    if (o->flow != NULL && strcmp(o->flow, "code") == 0 && o->authorize_url == NULL) {
        fail(ctx, key_line(ctx, "oauth2", "flow"), "flow = code needs authorize_url");
        return -1;
    }
    if (o->client_secret_file == NULL)
        return 0;
    return read_secret(ctx, "client secret", o->client_secret_file,
                       key_line(ctx, "oauth2", "client_secret_file"), &o->client_secret);
}

static int
finish_programme(struct load_ctx *ctx)
{
    struct config *cfg = ctx->cfg;

    if (cfg->lifecycle.quiet_start == cfg->lifecycle.quiet_end) {
        int line = key_line(ctx, "lifecycle", "quiet_end");
        fail(ctx, line ? line : key_line(ctx, "lifecycle", "quiet_start"),
             "quiet_start and quiet_end are equal: give the night a length");
        return -1;
    }
    return 0;
}

/* The installed templates, found beside the running binary, so any PREFIX works (paths.h). */
static int
finish_templates(struct load_ctx *ctx)
{
    char templates[4096];

    if (ctx->cfg->templates.dir != NULL)
        return 0;
    if (paths_templates_dir(templates, sizeof(templates)) != 0) {
        fail(ctx, 0, "the installed templates folder's path is too long");
        return -1;
    }
    return default_string(ctx, &ctx->cfg->templates.dir, templates);
}

/* Required keys first (in the table's order), then the string defaults the file left unset. */
static int
finish_table(struct load_ctx *ctx)
{
    for (size_t i = 0; i < config_keys_count; i++) {
        const struct config_key *k = &config_keys[i];

        if ((k->flags & CKF_REQUIRED) && is_string(k) &&
            require(ctx, k->section, k->name, *str_field(ctx->cfg, k)) != 0)
            return -1;
    }
    for (size_t i = 0; i < config_keys_count; i++) {
        const struct config_key *k = &config_keys[i];

        if (k->def != NULL && is_string(k) &&
            default_string(ctx, str_field(ctx->cfg, k), k->def) != 0)
            return -1;
    }
    return 0;
}

/* A language code as the template folders are named: "en", "pt", "pt-br". */
static int
language_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 15)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] >= 'a' && s[i] <= 'z') && !(i > 0 && s[i] == '-'))
            return 0;
    return 1;
}

/* The community's language (default English) and the managers' (default the same). */
static int
finish_languages(struct load_ctx *ctx)
{
    struct config_templates *t = &ctx->cfg->templates;

    if (default_string(ctx, &t->language, "en") != 0 ||
        default_string(ctx, &t->managers_language, t->language) != 0)
        return -1;
    if (!language_code_ok(t->language) || !language_code_ok(t->managers_language)) {
        fail(ctx, 0,
             "[templates] language and managers_language are language codes such as "
             "en, es or pt (lower case)");
        return -1;
    }
    return 0;
}

static int
finish(struct load_ctx *ctx)
{
    return finish_table(ctx) != 0 || finish_templates(ctx) != 0 || finish_languages(ctx) != 0 ||
                   finish_community(ctx) != 0 || finish_imap(ctx) != 0 || finish_smtp(ctx) != 0 ||
                   finish_oauth2(ctx) != 0 || finish_programme(ctx) != 0
               ? -1
               : 0;
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
    ctx.lines = calloc(config_keys_count, sizeof(*ctx.lines));
    cfg->path = strdup(ctx.path);
    if (cfg->path == NULL || ctx.lines == NULL)
        fail(&ctx, 0, "out of memory");
    if (ctx.failed || set_defaults(&ctx) != 0 || parse_file(&ctx) != 0 || finish(&ctx) != 0) {
        free(ctx.lines);
        config_free(cfg);
        return -1;
    }
    free(ctx.lines);
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
    for (size_t i = 0; i < config_keys_count; i++) {
        if (is_string(&config_keys[i]))
            free(*str_field(cfg, &config_keys[i]));
    }
    for (size_t i = 0; i < cfg->community.n_managers; i++)
        free(cfg->community.managers[i]);
    free(cfg->community.managers);
    free_secret(&cfg->imap.password);
    free_secret(&cfg->smtp.password);
    free_secret(&cfg->oauth2.client_secret);
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
print_key(FILE *out, const struct config *cfg, const struct config_key *k)
{
    const char *str =
        is_string(k) ? *(char *const *)(const void *)((const char *)cfg + k->offset) : NULL;
    const int *num = (const int *)(const void *)((const char *)cfg + k->offset);

    switch (k->type) {
    case CK_ADDRLIST:
        fprintf(out, "%s =", k->name);
        for (size_t i = 0; i < cfg->community.n_managers; i++)
            fprintf(out, "%s %s", i > 0 ? "," : "", cfg->community.managers[i]);
        fprintf(out, "\n");
        return;
    case CK_BOOL:
        fprintf(out, "%s = %s\n", k->name, *num ? "yes" : "no");
        return;
    case CK_INT:
    case CK_DURATION:
    case CK_SIZE:
        fprintf(out, "%s = %d\n", k->name, *num);
        return;
    case CK_REAL:
        fprintf(out, "%s = %g\n", k->name,
                *(const double *)(const void *)((const char *)cfg + k->offset));
        return;
    case CK_SECURITY:
        fprintf(out, "%s = %s\n", k->name, security_name((enum config_security) * num));
        return;
    case CK_LEVEL:
        fprintf(out, "%s = %s\n", k->name, log_level_name((enum log_level) * num));
        return;
    case CK_AUTH:
        fprintf(out, "%s = %s\n", k->name, config_auth_name((enum config_auth) * num));
        return;
    case CK_STR:
    case CK_ADDR:
    case CK_HOST:
    case CK_CHOICE:
    case CK_READABLE:
        break;
    }
    if (k->flags & CKF_DERIVED)
        /* Derived from other keys (url from host, port, security): both would not load again. */
        fprintf(out, "; %s = %s\n", k->name, str != NULL ? str : "");
    else if (str != NULL)
        fprintf(out, "%s = %s\n", k->name, str);
    else
        fprintf(out, "; %s =\n", k->name); /* unset: commented out so the output loads again */
    /* Never the password itself: config_print output ends up in bug reports. */
    if ((k->flags & CKF_SECRET) && str != NULL) {
        /* "password_file" holds the password, "client_secret_file" the client secret. */
        size_t n = strlen(k->name);
        int stem = n > 5 && strcmp(k->name + n - 5, "_file") == 0 ? (int)(n - 5) : (int)n;
        fprintf(out, "; %.*s = ********\n", stem, k->name);
    }
}

void
config_print(const struct config *cfg, FILE *out)
{
    const char *section = NULL;

    if (cfg == NULL || out == NULL)
        return;
    fprintf(out, "; mentord configuration loaded from %s\n", cfg->path != NULL ? cfg->path : "?");
    for (size_t i = 0; i < config_keys_count; i++) {
        const struct config_key *k = &config_keys[i];

        if (section == NULL || strcmp(section, k->section) != 0) {
            fprintf(out, "%s[%s]\n", section != NULL ? "\n" : "", k->section);
            section = k->section;
        }
        print_key(out, cfg, k);
    }
}
