/*
 * imap: one libetpan IMAP session (see include/imap.h).
 *
 * libetpan does the protocol work (connect, STARTTLS, parsing); this module adds
 * what libetpan leaves out: the server certificate is verified with GnuTLS
 * before LOGIN, and every failure is reported with the operation, libetpan's
 * error code and the server's own status line.
 */
#include "imap.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

/* Exported by libetpan (built with TLS) but declared only under its USE_SSL. */
extern mailstream_low_driver *mailstream_ssl_driver;

#include "log.h"

#define IMAP_ERR_MAX 1024
#define IMAP_LINE_MAX 512
/* Longest IDLE before imap_wait returns so the caller re-selects (see imap_wait). */
#define IMAP_IDLE_RECHECK 20

struct imap {
    mailimap *session;
    char *host; /* our copy, for SNI (libetpan wants a non-const char *) */
    int timeout;
    int has_idle;
    int has_move;
    int has_uidplus;
    int keywords_allowed;
    int broken; /* the stream failed: LOGOUT would only wait for the timeout */
    /* libetpan's stream driver with read() guarded against end-of-file (see guard_eof) */
    mailstream_low_driver guarded;
    /* The line being received and the last tagged (or BYE) status line seen,
     * captured through libetpan's logger because session->imap_response
     * drops the "NO [CODE]" part an admin needs. */
    char line[IMAP_LINE_MAX];
    size_t line_len;
    int skip; /* the current line cannot be a status line: not copied */
    char status[IMAP_LINE_MAX];
    char err[IMAP_ERR_MAX];
};

static const char *const error_names[] = {
    "MAILIMAP_NO_ERROR",
    "MAILIMAP_NO_ERROR_AUTHENTICATED",
    "MAILIMAP_NO_ERROR_NON_AUTHENTICATED",
    "MAILIMAP_ERROR_BAD_STATE",
    "MAILIMAP_ERROR_STREAM",
    "MAILIMAP_ERROR_PARSE",
    "MAILIMAP_ERROR_CONNECTION_REFUSED",
    "MAILIMAP_ERROR_MEMORY",
    "MAILIMAP_ERROR_FATAL",
    "MAILIMAP_ERROR_PROTOCOL",
    "MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION",
    "MAILIMAP_ERROR_APPEND",
    "MAILIMAP_ERROR_NOOP",
    "MAILIMAP_ERROR_LOGOUT",
    "MAILIMAP_ERROR_CAPABILITY",
    "MAILIMAP_ERROR_CHECK",
    "MAILIMAP_ERROR_CLOSE",
    "MAILIMAP_ERROR_EXPUNGE",
    "MAILIMAP_ERROR_COPY",
    "MAILIMAP_ERROR_UID_COPY",
    "MAILIMAP_ERROR_MOVE",
    "MAILIMAP_ERROR_UID_MOVE",
    "MAILIMAP_ERROR_CREATE",
    "MAILIMAP_ERROR_DELETE",
    "MAILIMAP_ERROR_EXAMINE",
    "MAILIMAP_ERROR_FETCH",
    "MAILIMAP_ERROR_UID_FETCH",
    "MAILIMAP_ERROR_LIST",
    "MAILIMAP_ERROR_LOGIN",
    "MAILIMAP_ERROR_LSUB",
    "MAILIMAP_ERROR_RENAME",
    "MAILIMAP_ERROR_SEARCH",
    "MAILIMAP_ERROR_UID_SEARCH",
    "MAILIMAP_ERROR_SELECT",
    "MAILIMAP_ERROR_STATUS",
    "MAILIMAP_ERROR_STORE",
    "MAILIMAP_ERROR_UID_STORE",
    "MAILIMAP_ERROR_SUBSCRIBE",
    "MAILIMAP_ERROR_UNSUBSCRIBE",
    "MAILIMAP_ERROR_STARTTLS",
    "MAILIMAP_ERROR_INVAL",
    "MAILIMAP_ERROR_EXTENSION",
    "MAILIMAP_ERROR_SASL",
    "MAILIMAP_ERROR_SSL",
    "MAILIMAP_ERROR_NEEDS_MORE_DATA",
    "MAILIMAP_ERROR_CUSTOM_COMMAND",
    "MAILIMAP_ERROR_CLIENTID",
};

static const char *
error_name(int r)
{
    if (r >= 0 && (size_t)r < sizeof(error_names) / sizeof(error_names[0]))
        return error_names[r];
    return "unknown libetpan error";
}

static int
is_ok(int r)
{
    return r == MAILIMAP_NO_ERROR || r == MAILIMAP_NO_ERROR_AUTHENTICATED ||
           r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED;
}

static void set_err(struct imap *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_err(struct imap *im, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(im->err, sizeof(im->err), fmt, ap);
    va_end(ap);
}

/*
 * "OP failed: <server status line> (<libetpan code>)".  The status line is the
 * tagged reply to this command, so it is cleared before every command.
 */
static int
fail(struct imap *im, const char *op, int r)
{
    /* Not session->imap_response: it keeps the previous command's text when
     * this one got no tagged reply at all (connection lost). */
    const char *server = im->status;

    if (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_CONNECTION_REFUSED ||
        r == MAILIMAP_ERROR_SSL)
        im->broken = 1;
    if (server[0] != '\0')
        set_err(im, "%s failed: %s (%s)", op, server, error_name(r));
    else if (r == MAILIMAP_ERROR_STREAM)
        set_err(im, "%s failed: connection lost or timed out (%s)", op, error_name(r));
    else
        set_err(im, "%s failed: %s", op, error_name(r));
    return -1;
}

static void
begin(struct imap *im)
{
    im->status[0] = '\0';
    im->line_len = 0;
    im->skip = 0;
}

/*
 * A complete line from the server: keep it when it is the tagged reply to the
 * current command (libetpan's tags are plain numbers) or a BYE.  Checking the
 * tag keeps a message body line like "123 apples" from being taken for it.
 */
static void
take_line(struct imap *im)
{
    const char *p = im->line;
    size_t n = im->line_len, i = 0;
    char *end;
    long tag;

    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    im->line[n] = '\0';
    if (n > 0 && isdigit((unsigned char)p[0])) {
        tag = strtol(p, &end, 10);
        if (*end != ' ' || im->session == NULL || tag != im->session->imap_tag)
            return;
        i = (size_t)(end - p) + 1;
    } else if (n > 6 && strncasecmp(p, "* BYE ", 6) == 0) {
        i = 2;
    } else {
        return;
    }
    memcpy(im->status, p + i, n - i + 1);
}

/*
 * Can the line begun in im->line still be one take_line keeps?  Only a tagged
 * line (a digit first) or "* BYE " can; any other line (every body line of a
 * fetched mail) is not copied further, so the logger does not copy the bodies.
 */
static int
line_wanted(const struct imap *im)
{
    size_t n = im->line_len < 6 ? im->line_len : 6;

    if (n == 0 || isdigit((unsigned char)im->line[0]))
        return 1;
    return strncasecmp(im->line, "* BYE ", n) == 0;
}

/* Add a piece of the current line (up to its end) to im->line, while it may matter. */
static void
keep(struct imap *im, const char *s, size_t n)
{
    size_t room = sizeof(im->line) - 1 - im->line_len;

    if (im->skip)
        return;
    if (im->line_len == 0 && n > 0 && !isdigit((unsigned char)s[0]) && s[0] != '*') {
        im->skip = 1;
        return;
    }
    if (n > room)
        n = room;
    memcpy(im->line + im->line_len, s, n);
    im->line_len += n;
    im->skip = !line_wanted(im);
}

/*
 * libetpan logger: only received data is looked at, so sent credentials never
 * are.  It sees every received byte, bodies included: line ends are found with
 * memchr, and only a line that may be a status line is copied.
 */
static void
logger(mailimap *session, int log_type, const char *str, size_t size, void *context)
{
    struct imap *im = context;
    const char *nl;
    size_t piece;

    (void)session;
    if (log_type != MAILSTREAM_LOG_TYPE_DATA_RECEIVED || str == NULL)
        return;
    while (size > 0) {
        nl = memchr(str, '\n', size);
        piece = nl != NULL ? (size_t)(nl - str) + 1 : size;
        keep(im, str, piece);
        if (nl != NULL) {
            if (!im->skip)
                take_line(im);
            im->line_len = 0;
            im->skip = 0;
        }
        str += piece;
        size -= piece;
    }
}

static void
set_sni(struct mailstream_ssl_context *ctx, void *data)
{
    struct imap *im = data;
    unsigned char addr[sizeof(struct in6_addr)];

    /* SNI carries DNS names only, never IP literals (RFC 6066). */
    if (inet_pton(AF_INET, im->host, addr) == 1 || inet_pton(AF_INET6, im->host, addr) == 1)
        return;
    if (mailstream_ssl_set_server_name(ctx, im->host) < 0)
        log_warn("imap: could not set TLS server name %s", im->host);
}

/* The most useful short reason for a GnuTLS verification status. */
static const char *
verify_reason(unsigned int status)
{
    if (status & GNUTLS_CERT_EXPIRED)
        return "certificate expired";
    if (status & GNUTLS_CERT_NOT_ACTIVATED)
        return "certificate not yet valid";
    if (status & GNUTLS_CERT_REVOKED)
        return "certificate revoked";
    if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
        return "certificate not trusted";
    if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
        return "hostname mismatch";
    if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
        return "certificate not valid for a TLS server";
    return "certificate not trusted";
}

static int
load_trust(struct imap *im, const struct config_imap *cfg, gnutls_x509_trust_list_t tl)
{
    int r;

    if (cfg->tls.ca_file != NULL && cfg->tls.ca_file[0] != '\0') {
        r = gnutls_x509_trust_list_add_trust_file(tl, cfg->tls.ca_file, NULL, GNUTLS_X509_FMT_PEM,
                                                  0, 0);
        if (r <= 0) {
            set_err(im, "TLS: no CA certificate loaded from tls_ca_file %s: %s", cfg->tls.ca_file,
                    r < 0 ? gnutls_strerror(r) : "file holds no PEM certificate");
            return -1;
        }
        return 0;
    }
    r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
    if (r <= 0) {
        set_err(im, "TLS: the system trust store could not be loaded: %s",
                r < 0 ? gnutls_strerror(r) : "no certificates");
        return -1;
    }
    return 0;
}

/* Verify an imported peer chain against tl for cfg->host. */
static int
verify_chain(struct imap *im, const char *host, gnutls_x509_trust_list_t tl,
             gnutls_x509_crt_t *crts, unsigned int n)
{
    gnutls_typed_vdata_st vdata[2];
    unsigned int status = 0;
    gnutls_datum_t text = {NULL, 0};
    int r;

    memset(vdata, 0, sizeof(vdata));
    vdata[0].type = GNUTLS_DT_DNS_HOSTNAME; /* GnuTLS matches IP literals to IP SANs */
    vdata[0].data = (unsigned char *)host;
    vdata[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
    vdata[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
    r = gnutls_x509_trust_list_verify_crt2(tl, crts, n, vdata, 2, 0, &status, NULL);
    if (r < 0) {
        set_err(im, "TLS: verifying the certificate of %s failed: %s", host, gnutls_strerror(r));
        return -1;
    }
    if (status == 0)
        return 0;
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
        size_t len = strlen((char *)text.data);
        while (len > 0 && isspace((unsigned char)text.data[len - 1]))
            text.data[--len] = '\0';
        set_err(im, "TLS: %s for %s: %s", verify_reason(status), host, (char *)text.data);
        gnutls_free(text.data);
    } else {
        set_err(im, "TLS: %s for %s", verify_reason(status), host);
    }
    return -1;
}

/*
 * libetpan (on GnuTLS) completes the handshake without checking anything, so
 * the chain is checked here, before any credential is sent.
 */
static int
verify_peer(struct imap *im, const struct config_imap *cfg)
{
    carray *chain;
    gnutls_x509_crt_t *crts = NULL;
    gnutls_x509_trust_list_t tl = NULL;
    unsigned int n = 0, i;
    int ret = -1;

    chain = mailstream_get_certificate_chain(im->session->imap_stream);
    if (chain == NULL || carray_count(chain) == 0) {
        set_err(im, "TLS: %s presented no certificate", cfg->host);
        goto out;
    }
    crts = calloc(carray_count(chain), sizeof(*crts));
    if (crts == NULL) {
        set_err(im, "TLS: out of memory");
        goto out;
    }
    for (n = 0; n < carray_count(chain); n++) {
        MMAPString *der = carray_get(chain, n);
        gnutls_datum_t d = {(unsigned char *)der->str, (unsigned int)der->len};
        if (gnutls_x509_crt_init(&crts[n]) < 0) {
            set_err(im, "TLS: out of memory");
            goto out;
        }
        if (gnutls_x509_crt_import(crts[n], &d, GNUTLS_X509_FMT_DER) < 0) {
            n++;
            set_err(im, "TLS: certificate %u from %s cannot be parsed", n, cfg->host);
            goto out;
        }
    }
    if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
        set_err(im, "TLS: out of memory");
        goto out;
    }
    if (load_trust(im, cfg, tl) < 0)
        goto out;
    ret = verify_chain(im, cfg->host, tl, crts, n);
out:
    if (tl != NULL)
        gnutls_x509_trust_list_deinit(tl, 1);
    for (i = 0; crts != NULL && i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    free(crts);
    if (chain != NULL)
        mailstream_certificate_chain_free(chain);
    return ret;
}

static int
cap_has(const struct mailimap_capability_data *caps, const char *name)
{
    clistiter *it;

    if (caps == NULL || caps->cap_list == NULL)
        return 0;
    for (it = clist_begin(caps->cap_list); it != NULL; it = clist_next(it)) {
        const struct mailimap_capability *c = clist_content(it);
        if (c->cap_type == MAILIMAP_CAPABILITY_NAME && c->cap_data.cap_name != NULL &&
            strcasecmp(c->cap_data.cap_name, name) == 0)
            return 1;
    }
    return 0;
}

/* Ask for CAPABILITY and check for one name (used before STARTTLS). */
static int
query_caps(struct imap *im, struct mailimap_capability_data **caps)
{
    int r;

    begin(im);
    r = mailimap_capability(im->session, caps);
    if (!is_ok(r))
        return fail(im, "CAPABILITY", r);
    return 0;
}

/* Keep reads from blocking forever once the stream is up (TLS may have replaced it). */
/*
 * libetpan 1.9's parser takes a read of 0 bytes (the server closed the
 * connection) as progress, and a FETCH cut in the middle of a literal then
 * spins forever on recv() = 0: no timeout helps, the socket is never idle.
 * Reads through these wrappers turn end-of-file into the error it is, so
 * the command fails and the daemon reconnects.
 */
static ssize_t
read_socket_guarded(mailstream_low *low, void *buf, size_t len)
{
    ssize_t n = mailstream_socket_driver->mailstream_read(low, buf, len);
    return n == 0 && len > 0 ? -1 : n;
}

static ssize_t
read_ssl_guarded(mailstream_low *low, void *buf, size_t len)
{
    ssize_t n = mailstream_ssl_driver->mailstream_read(low, buf, len);
    return n == 0 && len > 0 ? -1 : n;
}

/* Swap the stream's driver for a copy (kept in im) whose read is guarded. */
static void
guard_eof(struct imap *im, mailstream_low *low)
{
    if (low->driver == mailstream_socket_driver) {
        im->guarded = *mailstream_socket_driver;
        im->guarded.mailstream_read = read_socket_guarded;
    } else if (low->driver == mailstream_ssl_driver) {
        im->guarded = *mailstream_ssl_driver;
        im->guarded.mailstream_read = read_ssl_guarded;
    } else {
        return; /* already guarded, or a driver we do not know */
    }
    low->driver = &im->guarded;
}

/* After connecting and after STARTTLS (which replaces the stream). */
static void
apply_timeout(struct imap *im)
{
    mailstream_low *low = mailstream_get_low(im->session->imap_stream);

    if (low != NULL) {
        mailstream_low_set_timeout(low, im->timeout);
        guard_eof(im, low);
    }
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
        return "none";
    }
    return "?";
}

static const char *
connect_reason(int r, const char *status)
{
    if (status[0] != '\0')
        return status; /* e.g. "BYE Too many connections" */
    switch (r) {
    case MAILIMAP_ERROR_CONNECTION_REFUSED:
        return "no connection (refused, unreachable or unknown host)";
    case MAILIMAP_ERROR_SSL:
        return "TLS handshake failed";
    case MAILIMAP_ERROR_STREAM:
        return "the connection closed or timed out before the greeting";
    default:
        return "unexpected greeting";
    }
}

static int
open_stream(struct imap *im, const struct config_imap *cfg)
{
    struct mailimap_capability_data *caps = NULL;
    uint16_t port = (uint16_t)cfg->port;
    int r, tls;

    begin(im);
    if (cfg->tls.security == CONFIG_SEC_TLS)
        r = mailimap_ssl_connect_with_callback(im->session, cfg->host, port, set_sni, im);
    else
        r = mailimap_socket_connect(im->session, cfg->host, port);
    if (!is_ok(r)) {
        im->broken = 1;
        set_err(im, "connecting to %s:%d (security=%s) failed: %s (%s)", cfg->host, cfg->port,
                security_name(cfg->tls.security), connect_reason(r, im->status), error_name(r));
        return -1;
    }
    apply_timeout(im);
    if (cfg->tls.security == CONFIG_SEC_STARTTLS) {
        if (query_caps(im, &caps) < 0)
            return -1;
        tls = cap_has(caps, "STARTTLS");
        mailimap_capability_data_free(caps);
        if (!tls) {
            set_err(im, "%s:%d does not offer STARTTLS; refusing to log in over plain text",
                    cfg->host, cfg->port);
            return -1;
        }
        begin(im);
        r = mailimap_socket_starttls_with_callback(im->session, set_sni, im);
        if (!is_ok(r))
            return fail(im, "STARTTLS", r);
        apply_timeout(im);
    }
    return 0;
}

/* Write raw protocol text; a token may be in it, so it is sent as private (not logged). */
static int
send_raw(struct imap *im, const char *text)
{
    size_t len = strlen(text);

    if (mailstream_write(im->session->imap_stream, text, len) != (ssize_t)len)
        return MAILIMAP_ERROR_STREAM;
    return MAILIMAP_NO_ERROR;
}

/* The next line from the server; 1 when it is a continuation request ("+ ..."), 0 when not. */
static int
read_continuation(struct imap *im, int *r)
{
    char *line;

    if (mailstream_flush(im->session->imap_stream) == -1) {
        *r = MAILIMAP_ERROR_STREAM;
        return 0;
    }
    line = mailimap_read_line(im->session);
    if (line == NULL) {
        *r = MAILIMAP_ERROR_STREAM;
        return 0;
    }
    *r = MAILIMAP_NO_ERROR;
    return line[0] == '+';
}

/* The tagged answer that ends AUTHENTICATE: OK, or MAILIMAP_ERROR_LOGIN. */
static int
auth_result(struct imap *im)
{
    struct mailimap_response *response = NULL;
    int r = mailimap_parse_response(im->session, &response), ok;

    if (r != MAILIMAP_NO_ERROR)
        return r;
    ok = response->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type ==
         MAILIMAP_RESP_COND_STATE_OK;
    mailimap_response_free(response);
    if (!ok)
        return MAILIMAP_ERROR_LOGIN;
    im->session->imap_state = MAILIMAP_STATE_AUTHENTICATED;
    return MAILIMAP_NO_ERROR;
}

/* base64 of a SASL message; malloc'd (wiped by the caller), NULL when out of memory. */
static char *
sasl_b64(const char *msg)
{
    gnutls_datum_t in = {(unsigned char *)(uintptr_t)msg, (unsigned int)strlen(msg)}, out;
    char *s;

    if (gnutls_base64_encode2(&in, &out) != 0)
        return NULL;
    s = strndup((const char *)out.data, out.size);
    explicit_bzero(out.data, out.size);
    gnutls_free(out.data);
    return s;
}

/*
 * AUTHENTICATE OAUTHBEARER (RFC 7628), which libetpan does not have: the
 * mechanism name first, the client response after the server's "+" (so
 * servers without SASL-IR work too).  A refused token comes back as another
 * "+" with a JSON error, which RFC 7628 3.2.3 has the client answer with
 * a single ^A before the server says NO.
 */
/* RFC 5801 saslname: "," and "=" in the authorization identity become "=2C" and "=3D". */
static char *
saslname(const char *user)
{
    char *out = malloc(strlen(user) * 3 + 1), *o = out;

    if (out == NULL)
        return NULL;
    for (const char *p = user; *p; p++) {
        if (*p == ',' || *p == '=') {
            o += sprintf(o, "=%s", *p == ',' ? "2C" : "3D");
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static int
oauthbearer(struct imap *im, const char *user, const char *token)
{
    char *msg = NULL, *b64 = NULL, *name = saslname(user);
    int r;

    if (name == NULL || asprintf(&msg, "n,a=%s,\001auth=Bearer %s\001\001", name, token) < 0) {
        free(name);
        return MAILIMAP_ERROR_MEMORY;
    }
    free(name);
    b64 = sasl_b64(msg);
    explicit_bzero(msg, strlen(msg));
    free(msg);
    if (b64 == NULL)
        return MAILIMAP_ERROR_MEMORY;
    r = mailimap_send_current_tag(im->session);
    if (r == MAILIMAP_NO_ERROR)
        r = send_raw(im, "AUTHENTICATE OAUTHBEARER\r\n");
    if (r == MAILIMAP_NO_ERROR && read_continuation(im, &r)) {
        mailstream_set_privacy(im->session->imap_stream, 0);
        r = send_raw(im, b64);
        if (r == MAILIMAP_NO_ERROR)
            r = send_raw(im, "\r\n");
        mailstream_set_privacy(im->session->imap_stream, 1);
        if (r == MAILIMAP_NO_ERROR && read_continuation(im, &r) && r == MAILIMAP_NO_ERROR) {
            r = send_raw(im, "AQ==\r\n");
            if (r == MAILIMAP_NO_ERROR && mailstream_flush(im->session->imap_stream) == -1)
                r = MAILIMAP_ERROR_STREAM;
            if (r == MAILIMAP_NO_ERROR && mailimap_read_line(im->session) == NULL)
                r = MAILIMAP_ERROR_STREAM;
        }
    }
    explicit_bzero(b64, strlen(b64));
    free(b64);
    return r == MAILIMAP_NO_ERROR ? auth_result(im) : r;
}

static int
authenticate(struct imap *im, const struct config_imap *cfg, const char *token)
{
    switch (cfg->auth) {
    case CONFIG_AUTH_XOAUTH2:
        return mailimap_oauth2_authenticate(im->session, cfg->user, token);
    case CONFIG_AUTH_OAUTHBEARER:
        return oauthbearer(im, cfg->user, token);
    case CONFIG_AUTH_PASSWORD:
        break;
    }
    return mailimap_login(im->session, cfg->user, cfg->password);
}

/* The server answered the login with NO: the credentials, not the connection or the syntax. */
static int
login_refused(const struct imap *im, int r)
{
    return r == MAILIMAP_ERROR_LOGIN && strncasecmp(im->status, "NO", 2) == 0;
}

static int
login(struct imap *im, const struct config_imap *cfg, const char *token)
{
    struct mailimap_capability_data *caps = NULL;
    int r;

    begin(im);
    r = authenticate(im, cfg, token);
    if (!is_ok(r)) {
        fail(im, cfg->auth == CONFIG_AUTH_PASSWORD ? "LOGIN" : "AUTHENTICATE", r);
        if (login_refused(im, r))
            return IMAP_AUTH_REFUSED;
        if (cfg->auth != CONFIG_AUTH_PASSWORD && strncasecmp(im->status, "BAD", 3) == 0) {
            size_t n = strlen(im->err);
            snprintf(im->err + n, sizeof(im->err) - n, " (does the server offer AUTH=%s?)",
                     cfg->auth == CONFIG_AUTH_XOAUTH2 ? "XOAUTH2" : "OAUTHBEARER");
        }
        return -1;
    }
    /* Capabilities may change after login (RFC 3501 6.2.3), so ask again now. */
    if (query_caps(im, &caps) < 0)
        return -1;
    im->has_idle = cap_has(caps, "IDLE");
    im->has_move = cap_has(caps, "MOVE");
    im->has_uidplus = cap_has(caps, "UIDPLUS");
    mailimap_capability_data_free(caps);
    return 0;
}

static int
check_cfg(const struct config_imap *cfg, const char *token, char *err, size_t errlen)
{
    if (cfg == NULL || cfg->host == NULL || cfg->user == NULL ||
        (cfg->auth == CONFIG_AUTH_PASSWORD ? cfg->password == NULL : token == NULL)) {
        snprintf(err, errlen, "IMAP: host, user and %s are required",
                 cfg != NULL && cfg->auth != CONFIG_AUTH_PASSWORD ? "an access token" : "password");
        return -1;
    }
    if (cfg->port <= 0 || cfg->port > 65535) {
        snprintf(err, errlen, "IMAP: invalid port %d", cfg->port);
        return -1;
    }
    return 0;
}

static struct imap *
imap_new(const struct config_imap *cfg)
{
    struct imap *im = calloc(1, sizeof(*im));

    if (im == NULL)
        return NULL;
    im->host = strdup(cfg->host);
    im->session = mailimap_new(0, NULL);
    if (im->host == NULL || im->session == NULL) {
        imap_close(im);
        return NULL;
    }
    im->timeout = cfg->timeout > 0 ? cfg->timeout : 60;
    mailimap_set_timeout(im->session, im->timeout);
    mailimap_set_logger(im->session, logger, im);
    return im;
}

int
imap_connect(const struct config_imap *cfg, struct imap **out, char *err, size_t errlen)
{
    /* -1 for every failure, as before tokens: a refused password is not retried. */
    return imap_connect_auth(cfg, NULL, out, err, errlen) == 0 ? 0 : -1;
}

int
imap_connect_auth(const struct config_imap *cfg, const char *token, struct imap **out, char *err,
                  size_t errlen)
{
    struct imap *im;
    int rc = -1;

    *out = NULL;
    if (check_cfg(cfg, token, err, errlen) < 0)
        return -1;
    im = imap_new(cfg);
    if (im == NULL) {
        snprintf(err, errlen, "IMAP: out of memory");
        return -1;
    }
    if (open_stream(im, cfg) < 0)
        goto fail;
    if (cfg->tls.security != CONFIG_SEC_NONE) {
        if (!cfg->tls.verify)
            log_warn("imap: tls_verify is off: the certificate of %s is NOT checked", cfg->host);
        else if (verify_peer(im, cfg) < 0)
            goto fail; /* nothing was sent yet beyond CAPABILITY/STARTTLS */
    }
    if ((rc = login(im, cfg, token)) < 0)
        goto fail;
    *out = im;
    return 0;
fail:
    snprintf(err, errlen, "IMAP %s@%s:%d: %s", cfg->user, cfg->host, cfg->port, im->err);
    im->broken = 1; /* no LOGOUT: we may not even be logged in, and we leave anyway */
    imap_close(im);
    return rc == IMAP_AUTH_REFUSED ? IMAP_AUTH_REFUSED : -1;
}

void
imap_close(struct imap *im)
{
    if (im == NULL)
        return;
    if (im->session != NULL) {
        if (!im->broken && im->session->imap_stream != NULL)
            (void)mailimap_logout(im->session); /* best effort: we are leaving anyway */
        mailimap_free(im->session);
    }
    free(im->host);
    free(im);
}

const char *
imap_error(const struct imap *im)
{
    if (im == NULL)
        return "no IMAP session";
    return im->err[0] != '\0' ? im->err : "no error";
}

int
imap_has_idle(const struct imap *im)
{
    return im != NULL && im->has_idle;
}

int
imap_has_move(const struct imap *im)
{
    return im != NULL && im->has_move;
}

int
imap_has_uidplus(const struct imap *im)
{
    return im != NULL && im->has_uidplus;
}

void
imap_disable_caps(struct imap *im, unsigned caps)
{
    if (caps & IMAP_CAP_IDLE)
        im->has_idle = 0;
    if (caps & IMAP_CAP_MOVE)
        im->has_move = 0;
    if (caps & IMAP_CAP_UIDPLUS)
        im->has_uidplus = 0;
}

int
imap_keywords_allowed(const struct imap *im)
{
    return im != NULL && im->keywords_allowed;
}

static int
perm_all(const struct mailimap_selection_info *sel)
{
    clistiter *it;

    if (sel->sel_perm_flags == NULL)
        return 0;
    for (it = clist_begin(sel->sel_perm_flags); it != NULL; it = clist_next(it)) {
        const struct mailimap_flag_perm *fp = clist_content(it);
        if (fp->fl_type == MAILIMAP_FLAG_PERM_ALL)
            return 1;
    }
    return 0;
}

int
imap_select(struct imap *im, const char *mailbox, uint32_t *uidvalidity, uint32_t *uidnext)
{
    const struct mailimap_selection_info *sel;
    char op[300];
    int r;

    snprintf(op, sizeof(op), "SELECT %s", mailbox);
    begin(im);
    r = mailimap_select(im->session, mailbox);
    if (!is_ok(r))
        return fail(im, op, r);
    sel = im->session->imap_selection_info;
    if (sel == NULL) {
        set_err(im, "%s: no selection information from the server", op);
        return -1;
    }
    if (sel->sel_perm == MAILIMAP_MAILBOX_READONLY) {
        set_err(im, "%s: the server opened the mailbox read-only", op);
        return -1;
    }
    if (sel->sel_uidvalidity == 0) {
        set_err(im, "%s: the server sent no UIDVALIDITY", op);
        return -1;
    }
    im->keywords_allowed = perm_all(sel);
    *uidvalidity = sel->sel_uidvalidity;
    *uidnext = sel->sel_uidnext;
    return 0;
}

/* 1 when LIST returned mailbox itself (the pattern could match others via wildcards). */
static int
list_has(clist *list, const char *mailbox)
{
    clistiter *it;

    for (it = clist_begin(list); it != NULL; it = clist_next(it)) {
        const struct mailimap_mailbox_list *mb = clist_content(it);
        if (mb->mb_name == NULL)
            continue;
        if (strcmp(mb->mb_name, mailbox) == 0 ||
            (strcasecmp(mailbox, "INBOX") == 0 && strcasecmp(mb->mb_name, "INBOX") == 0))
            return 1;
    }
    return 0;
}

int
imap_ensure_mailbox(struct imap *im, const char *mailbox)
{
    clist *list = NULL;
    char op[300];
    int r, found;

    snprintf(op, sizeof(op), "LIST %s", mailbox);
    begin(im);
    r = mailimap_list(im->session, "", mailbox, &list);
    if (!is_ok(r))
        return fail(im, op, r);
    found = list != NULL && list_has(list, mailbox);
    if (list != NULL)
        mailimap_list_result_free(list);
    if (found)
        return 0;
    snprintf(op, sizeof(op), "CREATE %s", mailbox);
    begin(im);
    r = mailimap_create(im->session, mailbox);
    if (is_ok(r))
        return 0;
    /* Someone else may have created it between LIST and CREATE. */
    if (strcasestr(im->status, "ALREADYEXISTS") != NULL ||
        strcasestr(im->status, "already exists") != NULL)
        return 0;
    return fail(im, op, r);
}

/* Adds item to keys; frees item when that fails. */
static int
key_add(struct mailimap_search_key *keys, struct mailimap_search_key *item)
{
    if (item == NULL)
        return -1;
    if (mailimap_search_key_multiple_add(keys, item) != MAILIMAP_NO_ERROR) {
        mailimap_search_key_free(item);
        return -1;
    }
    return 0;
}

static struct mailimap_search_key *
undeleted_key(void)
{
    return mailimap_search_key_new(MAILIMAP_SEARCH_KEY_UNDELETED, NULL, NULL, NULL, NULL, NULL,
                                   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL,
                                   NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL);
}

/* UID first:last UNDELETED [UNKEYWORD kw]; last 0 is "*" in libetpan's sets. */
static struct mailimap_search_key *
search_key(uint32_t first, uint32_t last, const char *without_keyword)
{
    struct mailimap_search_key *keys = mailimap_search_key_new_multiple_empty();
    struct mailimap_set *set;
    char *kw;

    if (keys == NULL)
        return NULL;
    set = mailimap_set_new_interval(first, last);
    if (set == NULL || key_add(keys, mailimap_search_key_new_uid(set)) < 0)
        goto fail; /* on failure the set may leak; only happens without memory */
    if (key_add(keys, undeleted_key()) < 0)
        goto fail;
    if (without_keyword != NULL && without_keyword[0] != '\0') {
        kw = strdup(without_keyword);
        if (kw == NULL || key_add(keys, mailimap_search_key_new_unkeyword(kw)) < 0)
            goto fail;
    }
    return keys;
fail:
    mailimap_search_key_free(keys);
    return NULL;
}

static int
cmp_uid(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* Copy the in-range UIDs of a search result into a sorted malloc'd array. */
static int
collect_uids(struct imap *im, clist *result, uint32_t first, uint32_t last, uint32_t **uids,
             size_t *n)
{
    clistiter *it;
    uint32_t *v;
    size_t k = 0;

    v = malloc((clist_count(result) + 1) * sizeof(*v));
    if (v == NULL) {
        set_err(im, "UID SEARCH: out of memory for %d UIDs", clist_count(result));
        return -1;
    }
    for (it = clist_begin(result); it != NULL; it = clist_next(it)) {
        uint32_t uid = *(uint32_t *)clist_content(it);
        /* "UID n:*" also matches the highest UID when that is below n. */
        if (uid >= first && (last == 0 || uid <= last))
            v[k++] = uid;
    }
    qsort(v, k, sizeof(*v), cmp_uid);
    *uids = v;
    *n = k;
    return 0;
}

int
imap_search(struct imap *im, uint32_t first, uint32_t last, const char *without_keyword,
            uint32_t **uids, size_t *n)
{
    struct mailimap_search_key *key;
    clist *result = NULL;
    int r, ret;

    *uids = NULL;
    *n = 0;
    if (first == 0)
        first = 1; /* UIDs start at 1; 0 is not valid in a set */
    if (last != 0 && last < first) {
        *uids = malloc(sizeof(**uids)); /* an empty, freeable array */
        return *uids != NULL ? 0 : -1;
    }
    key = search_key(first, last, without_keyword);
    if (key == NULL) {
        set_err(im, "UID SEARCH: out of memory building the query");
        return -1;
    }
    begin(im);
    r = mailimap_uid_search(im->session, NULL, key, &result);
    mailimap_search_key_free(key);
    if (!is_ok(r))
        return fail(im, "UID SEARCH", r);
    ret = collect_uids(im, result, first, last, uids, n);
    mailimap_search_result_free(result);
    return ret;
}

/* The attribute BODY.PEEK[], or BODY.PEEK[]<0.limit> when limit > 0; NULL out of memory. */
static struct mailimap_fetch_att *
body_peek_att(uint32_t limit)
{
    struct mailimap_section *section = mailimap_section_new(NULL);
    struct mailimap_fetch_att *att;

    if (section == NULL)
        return NULL;
    att = limit > 0 ? mailimap_fetch_att_new_body_peek_section_partial(section, 0, limit)
                    : mailimap_fetch_att_new_body_peek_section(section);
    if (att == NULL)
        mailimap_section_free(section);
    return att;
}

/* BODY.PEEK[], or BODY.PEEK[]<0.limit> when limit > 0. */
static struct mailimap_fetch_type *
body_peek_type(uint32_t limit)
{
    struct mailimap_fetch_att *att = body_peek_att(limit);
    struct mailimap_fetch_type *type;

    if (att == NULL)
        return NULL;
    type = mailimap_fetch_type_new_fetch_att(att);
    if (type == NULL)
        mailimap_fetch_att_free(att);
    return type;
}

static int
copy_body(struct imap *im, uint32_t uid, const struct mailimap_msg_att_body_section *body,
          char **data, size_t *len)
{
    size_t n = body->sec_body_part != NULL ? body->sec_length : 0;
    char *p = malloc(n + 1);

    if (p == NULL) {
        set_err(im, "UID FETCH %u: out of memory for %zu bytes", uid, n);
        return -1;
    }
    if (n > 0)
        memcpy(p, body->sec_body_part, n);
    p[n] = '\0';
    *data = p;
    *len = n;
    return 0;
}

/*
 * The UIDs as a libetpan set, consecutive runs as intervals (uids ascending or
 * not), and a short description of them for error messages.
 */
static struct mailimap_set *
uid_set(const uint32_t *uids, size_t n)
{
    struct mailimap_set *set = mailimap_set_new_empty();
    size_t i = 0;

    while (set != NULL && i < n) {
        size_t j = i;
        while (j + 1 < n && uids[j + 1] == uids[j] + 1)
            j++;
        int r = j == i ? mailimap_set_add_single(set, uids[i])
                       : mailimap_set_add_interval(set, uids[i], uids[j]);
        if (r != MAILIMAP_NO_ERROR) {
            mailimap_set_free(set);
            return NULL;
        }
        i = j + 1;
    }
    return set;
}

static void
describe_uids(const uint32_t *uids, size_t n, char *buf, size_t len)
{
    if (n == 1)
        snprintf(buf, len, "%u", uids[0]);
    else if (n == 0)
        snprintf(buf, len, "(none)");
    else
        snprintf(buf, len, "%u,...,%u (%zu messages)", uids[0], uids[n - 1], n);
}

/* UID STORE set +FLAGS.SILENT (flag), or -FLAGS.SILENT with remove; takes ownership of flag. */
static int
store_flag_op(struct imap *im, const uint32_t *uids, size_t n, struct mailimap_flag *flag,
              const char *name, int remove)
{
    struct mailimap_flag_list *list = mailimap_flag_list_new_empty();
    struct mailimap_store_att_flags *att = NULL;
    struct mailimap_set *set = uid_set(uids, n);
    char op[300], which[80];
    int r;

    describe_uids(uids, n, which, sizeof(which));
    snprintf(op, sizeof(op), "UID STORE %s %cFLAGS.SILENT (%s)", which, remove ? '-' : '+', name);
    if (list == NULL || set == NULL || mailimap_flag_list_add(list, flag) != MAILIMAP_NO_ERROR) {
        mailimap_flag_free(flag);
        goto oom;
    }
    att = remove ? mailimap_store_att_flags_new_remove_flags_silent(list)
                 : mailimap_store_att_flags_new_add_flags_silent(list);
    if (att == NULL)
        goto oom;
    list = NULL; /* owned by att now */
    begin(im);
    r = mailimap_uid_store(im->session, set, att);
    mailimap_store_att_flags_free(att);
    mailimap_set_free(set);
    if (!is_ok(r))
        return fail(im, op, r);
    return 0;
oom:
    if (list != NULL)
        mailimap_flag_list_free(list);
    if (set != NULL)
        mailimap_set_free(set);
    set_err(im, "%s: out of memory", op);
    return -1;
}

static int
store_flag(struct imap *im, const uint32_t *uids, size_t n, struct mailimap_flag *flag,
           const char *name)
{
    return store_flag_op(im, uids, n, flag, name, 0);
}

/* An atom: no specials (RFC 3501 atom-specials) and no control characters. */
static int
is_atom(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
            return 0;
    }
    return 1;
}

/* The libetpan flag for "\\Seen", "\\Deleted", ... or a keyword; NULL when invalid. */
static struct mailimap_flag *
make_flag(const char *name)
{
    char *copy;
    struct mailimap_flag *f;

    if (name[0] == '\\') {
        if (strcasecmp(name, "\\Seen") == 0)
            return mailimap_flag_new_seen();
        if (strcasecmp(name, "\\Answered") == 0)
            return mailimap_flag_new_answered();
        if (strcasecmp(name, "\\Flagged") == 0)
            return mailimap_flag_new_flagged();
        if (strcasecmp(name, "\\Deleted") == 0)
            return mailimap_flag_new_deleted();
        if (strcasecmp(name, "\\Draft") == 0)
            return mailimap_flag_new_draft();
        if (!is_atom(name + 1) || (copy = strdup(name + 1)) == NULL)
            return NULL;
        f = mailimap_flag_new_flag_extension(copy); /* libetpan writes the backslash */
    } else {
        if (!is_atom(name) || (copy = strdup(name)) == NULL)
            return NULL;
        f = mailimap_flag_new_flag_keyword(copy);
    }
    if (f == NULL)
        free(copy);
    return f;
}

int
imap_add_flag_many(struct imap *im, const uint32_t *uids, size_t n, const char *flag)
{
    struct mailimap_flag *f;
    char which[80];

    if (n == 0)
        return 0;
    f = make_flag(flag);
    if (f == NULL) {
        describe_uids(uids, n, which, sizeof(which));
        set_err(im, "UID STORE %s: invalid flag \"%s\" (or out of memory)", which, flag);
        return -1;
    }
    return store_flag(im, uids, n, f, flag);
}

int
imap_add_flag(struct imap *im, uint32_t uid, const char *flag)
{
    return imap_add_flag_many(im, &uid, 1, flag);
}

/* Fallback without MOVE: COPY, mark \Deleted, expunge (only these UIDs with UIDPLUS). */
static int
copy_delete(struct imap *im, const uint32_t *uids, size_t n, const char *dest,
            struct mailimap_set *set)
{
    char op[300], which[80];
    int r;

    describe_uids(uids, n, which, sizeof(which));
    snprintf(op, sizeof(op), "UID COPY %s %s", which, dest);
    begin(im);
    r = mailimap_uid_copy(im->session, set, dest);
    if (!is_ok(r))
        return fail(im, op, r);
    if (imap_add_flag_many(im, uids, n, "\\Deleted") < 0)
        return -1;
    begin(im);
    if (im->has_uidplus) {
        snprintf(op, sizeof(op), "UID EXPUNGE %s", which);
        r = mailimap_uid_expunge(im->session, set);
    } else {
        snprintf(op, sizeof(op), "EXPUNGE (after UID COPY %s)", which);
        r = mailimap_expunge(im->session);
    }
    if (!is_ok(r))
        return fail(im, op, r);
    return 0;
}

int
imap_move_many(struct imap *im, const uint32_t *uids, size_t n, const char *dest)
{
    struct mailimap_set *set;
    char op[300], which[80];
    int r, ret = 0;

    if (n == 0)
        return 0;
    describe_uids(uids, n, which, sizeof(which));
    set = uid_set(uids, n);
    if (set == NULL) {
        set_err(im, "UID MOVE %s %s: out of memory", which, dest);
        return -1;
    }
    if (im->has_move) {
        snprintf(op, sizeof(op), "UID MOVE %s %s", which, dest);
        begin(im);
        r = mailimap_uid_move(im->session, set, dest);
        if (!is_ok(r))
            ret = fail(im, op, r);
    } else {
        ret = copy_delete(im, uids, n, dest, set);
    }
    mailimap_set_free(set);
    return ret;
}

int
imap_move(struct imap *im, uint32_t uid, const char *dest)
{
    return imap_move_many(im, &uid, 1, dest);
}

/* ---- batches: one UID FETCH for many messages ---- */

static struct imap_message *
find_message(struct imap_message *msgs, size_t n, uint32_t uid)
{
    for (size_t i = 0; i < n; i++)
        if (msgs[i].uid == uid)
            return &msgs[i];
    return NULL;
}

/* Store what one FETCH response carries (UID, RFC822.SIZE, BODY[]) into its message. */
static int
take_fetch(struct imap *im, const struct mailimap_msg_att *att, struct imap_message *msgs, size_t n)
{
    const struct mailimap_msg_att_body_section *body = NULL;
    uint32_t uid = 0, size = 0;
    int has_size = 0;

    for (clistiter *ai = clist_begin(att->att_list); ai != NULL; ai = clist_next(ai)) {
        const struct mailimap_msg_att_item *item = clist_content(ai);
        if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
            continue;
        const struct mailimap_msg_att_static *st = item->att_data.att_static;
        if (st->att_type == MAILIMAP_MSG_ATT_UID) {
            uid = st->att_data.att_uid;
        } else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE) {
            size = st->att_data.att_rfc822_size;
            has_size = 1;
        } else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION) {
            body = st->att_data.att_body_section;
        }
    }
    struct imap_message *m = find_message(msgs, n, uid);
    if (m == NULL || (!has_size && body == NULL))
        return 0; /* another message's flags, or a FETCH we did not ask for */
    if (has_size) {
        m->size = size;
        m->found = 1;
    }
    if (body != NULL && m->data == NULL) {
        if (copy_body(im, uid, body, &m->data, &m->len) < 0)
            return -1;
        m->found = 1;
    }
    return 0;
}

/* Which of a batch's messages one FETCH asks for (fetch_many's want). */
enum fetch_want { FETCH_ALL, FETCH_UNDER, FETCH_OVER };

static int
fetch_wanted(const struct imap_message *m, enum fetch_want want, uint32_t limit)
{
    if (m->whole && want != FETCH_ALL)
        return 0; /* its body came with its size */
    if (want == FETCH_ALL || limit == 0)
        return want != FETCH_OVER;
    return (m->size >= limit) == (want == FETCH_OVER);
}

/*
 * UID FETCH <the wanted messages> <type> and distribute the answers; takes
 * ownership of type.  No wanted message: no command.
 */
static int
fetch_many(struct imap *im, struct imap_message *msgs, size_t n, struct mailimap_fetch_type *type,
           const char *what, enum fetch_want want, uint32_t limit)
{
    uint32_t *uids = malloc((n ? n : 1) * sizeof(*uids));
    struct mailimap_set *set = NULL;
    clist *result = NULL;
    char op[200], which[80] = "";
    size_t k = 0;
    int r, ret = 0;

    for (size_t i = 0; uids != NULL && i < n; i++) {
        if (!fetch_wanted(&msgs[i], want, limit))
            continue;
        uids[k++] = msgs[i].uid;
        msgs[i].found = 0;
    }
    if (uids != NULL && k == 0) {
        free(uids);
        if (type != NULL)
            mailimap_fetch_type_free(type);
        return 0;
    }
    if (uids != NULL) {
        describe_uids(uids, k, which, sizeof(which));
        set = uid_set(uids, k);
        free(uids);
    }
    snprintf(op, sizeof(op), "UID FETCH %s %s", which, what);
    if (type == NULL || set == NULL) {
        if (type != NULL)
            mailimap_fetch_type_free(type);
        if (set != NULL)
            mailimap_set_free(set);
        set_err(im, "%s: out of memory", op);
        return -1;
    }
    begin(im);
    r = mailimap_uid_fetch(im->session, set, type, &result);
    mailimap_fetch_type_free(type);
    mailimap_set_free(set);
    if (!is_ok(r))
        return fail(im, op, r);
    for (clistiter *it = clist_begin(result); it != NULL && ret == 0; it = clist_next(it))
        ret = take_fetch(im, clist_content(it), msgs, n);
    mailimap_fetch_list_free(result);
    return ret;
}

int
imap_fetch_sizes(struct imap *im, struct imap_message *msgs, size_t n)
{
    struct mailimap_fetch_att *att = mailimap_fetch_att_new_rfc822_size();
    struct mailimap_fetch_type *type = att ? mailimap_fetch_type_new_fetch_att(att) : NULL;

    if (att != NULL && type == NULL)
        mailimap_fetch_att_free(att);
    if (n == 0) {
        if (type != NULL)
            mailimap_fetch_type_free(type);
        return 0;
    }
    return fetch_many(im, msgs, n, type, "RFC822.SIZE", FETCH_ALL, 0);
}

/* (RFC822.SIZE BODY.PEEK[]<0.head>), or NULL out of memory. */
static struct mailimap_fetch_type *
sizes_heads_type(uint32_t head)
{
    struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
    struct mailimap_fetch_att *size = mailimap_fetch_att_new_rfc822_size();
    struct mailimap_fetch_att *body = body_peek_att(head);
    int sized = 0;

    if (type != NULL && size != NULL &&
        mailimap_fetch_type_new_fetch_att_list_add(type, size) == MAILIMAP_NO_ERROR) {
        size = NULL; /* the type's now */
        sized = 1;
    }
    if (sized && body != NULL &&
        mailimap_fetch_type_new_fetch_att_list_add(type, body) == MAILIMAP_NO_ERROR)
        return type;
    if (size != NULL)
        mailimap_fetch_att_free(size);
    if (body != NULL)
        mailimap_fetch_att_free(body);
    if (type != NULL)
        mailimap_fetch_type_free(type);
    return NULL;
}

/*
 * Why sizes and heads together: most mail is a few kilobytes, and a FETCH of
 * the sizes alone, then one of the bodies, parsed two responses a message
 * (libetpan spent about 18k instructions a message on the sizes' alone) and
 * cost the server a command more a batch.  head bytes of every message of a
 * batch are at most INBOX_BATCH messages * 8 KiB = 4 MiB, the batch's byte
 * budget; a message that fills its head is fetched again, as before.
 */
int
imap_fetch_sizes_heads(struct imap *im, struct imap_message *msgs, size_t n, uint32_t head,
                       uint32_t limit)
{
    char what[64];

    if (limit > 0 && head > limit)
        head = limit; /* a whole message is then under the limit, as imap_fetch_bodies keeps it */
    if (n == 0 || head == 0)
        return imap_fetch_sizes(im, msgs, n);
    struct mailimap_fetch_type *type = sizes_heads_type(head);
    snprintf(what, sizeof(what), "(RFC822.SIZE BODY.PEEK[]<0.%u>)", head);
    for (size_t i = 0; i < n; i++)
        msgs[i].whole = 0;
    if (fetch_many(im, msgs, n, type, what, FETCH_ALL, 0) < 0)
        return -1;
    /* Fewer bytes than asked for: the message ended before head. */
    for (size_t i = 0; i < n; i++) {
        msgs[i].whole = msgs[i].data != NULL && msgs[i].len < head;
        if (!msgs[i].whole)
            imap_messages_clear(&msgs[i], 1);
    }
    return 0;
}

uint32_t
imap_fetch_bytes(uint32_t size, uint32_t limit)
{
    if (limit == 0 || size < limit)
        return size;
    return limit < IMAP_OVER_HEAD ? limit : IMAP_OVER_HEAD;
}

int
imap_fetch_bodies(struct imap *im, struct imap_message *msgs, size_t n, uint32_t limit)
{
    char what[64];

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].whole)
            imap_messages_clear(&msgs[i], 1);
    if (limit > 0)
        snprintf(what, sizeof(what), "BODY.PEEK[]<0.%u>", limit);
    else
        snprintf(what, sizeof(what), "BODY.PEEK[]");
    if (fetch_many(im, msgs, n, body_peek_type(limit), what, FETCH_UNDER, limit) < 0)
        return -1;
    /*
     * A mail the server sizes at the limit or more is answered, not read: only
     * its head is fetched (its header, and the start of what a bounce
     * reports), so a 50 MB attachment costs that much memory, not the limit.
     */
    uint32_t head = imap_fetch_bytes(limit, limit);
    snprintf(what, sizeof(what), "BODY.PEEK[]<0.%u>", head);
    if (limit > 0 && fetch_many(im, msgs, n, body_peek_type(head), what, FETCH_OVER, limit) < 0)
        return -1;
    /* found only counts a body here: a size from an earlier FETCH is no message. */
    for (size_t i = 0; i < n; i++)
        msgs[i].found = msgs[i].data != NULL;
    return 0;
}

void
imap_messages_clear(struct imap_message *msgs, size_t n)
{
    for (size_t i = 0; msgs != NULL && i < n; i++) {
        free(msgs[i].data);
        msgs[i].data = NULL;
        msgs[i].len = 0;
        msgs[i].whole = 0;
    }
}

/* One message: the batch path with a batch of one, so there is a single FETCH parser. */
int
imap_fetch(struct imap *im, uint32_t uid, char **data, size_t *len)
{
    struct imap_message m = {.uid = uid};

    *data = NULL;
    *len = 0;
    if (imap_fetch_bodies(im, &m, 1, 0) != 0)
        return -1;
    if (!m.found) {
        set_err(im, "UID FETCH %u BODY.PEEK[]: message UID %u is gone from the mailbox", uid, uid);
        return -1;
    }
    *data = m.data;
    *len = m.len;
    return 0;
}

int
imap_noop(struct imap *im)
{
    int r;

    begin(im);
    r = mailimap_noop(im->session);
    if (!is_ok(r))
        return fail(im, "NOOP", r);
    return 0;
}

/* Servers send EXISTS (and RECENT) only when messages arrive; EXPUNGE has its own reply. */
static int
new_mail_seen(const struct imap *im)
{
    const struct mailimap_selection_info *sel = im->session->imap_selection_info;

    return sel != NULL && (sel->sel_has_exists || sel->sel_has_recent);
}

static void
forget_new_mail(struct imap *im)
{
    struct mailimap_selection_info *sel = im->session->imap_selection_info;

    if (sel != NULL) {
        sel->sel_has_exists = 0;
        sel->sel_has_recent = 0;
    }
}

/*
 * Poll the IDLE socket in one-second slices so *stop is seen promptly.
 * Returns 1 when the server sent something, 0 on timeout/stop, -1 on error.
 */
static int
poll_idle(struct imap *im, time_t deadline, volatile sig_atomic_t *stop)
{
    struct pollfd pfd;
    int fd = mailimap_idle_get_fd(im->session), r;

    /* The server's answer may already sit in libetpan's buffer, beyond the socket. */
    if (im->session->imap_stream->read_buffer_len > 0)
        return 1;
    while ((stop == NULL || !*stop) && time(NULL) < deadline) {
        pfd.fd = fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        r = poll(&pfd, 1, 1000);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR) {
            set_err(im, "IDLE: poll failed: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int
wait_idle(struct imap *im, int timeout, volatile sig_atomic_t *stop)
{
    time_t deadline = time(NULL) + timeout;
    int r, ready;

    for (;;) {
        begin(im);
        r = mailimap_idle(im->session);
        if (!is_ok(r))
            return fail(im, "IDLE", r);
        ready = poll_idle(im, deadline, stop);
        if (ready < 0) {
            im->broken = 1;
            return -1;
        }
        begin(im);
        r = mailimap_idle_done(im->session); /* parses what arrived (EXISTS, ...) */
        if (!is_ok(r))
            return fail(im, "IDLE DONE", r);
        if (new_mail_seen(im))
            return 1;
        if (!ready || (stop != NULL && *stop) || time(NULL) >= deadline)
            return 0;
        /* Woken by something else (a keepalive, flag changes): keep idling. */
    }
}

static int
wait_poll(struct imap *im, int timeout, volatile sig_atomic_t *stop)
{
    struct timespec one = {1, 0};
    int i;

    for (i = 0; i < timeout && (stop == NULL || !*stop); i++)
        nanosleep(&one, NULL); /* an interrupted sleep only shortens the wait */
    if (stop != NULL && *stop)
        return 0;
    forget_new_mail(im);
    if (imap_noop(im) < 0)
        return -1;
    return new_mail_seen(im);
}

int
imap_wait(struct imap *im, int timeout, int use_idle, volatile sig_atomic_t *stop)
{
    if (timeout < 1)
        timeout = 1;
    /*
     * IDLE watches the mailbox as it was selected: one deleted and re-created
     * under us (restored from a backup, with a new UIDVALIDITY) never
     * announces its new mail to this session.  Returning every
     * IMAP_IDLE_RECHECK seconds makes the caller select and search again.
     */
    if (use_idle && im->has_idle && im->session->imap_selection_info != NULL)
        return wait_idle(im, timeout < IMAP_IDLE_RECHECK ? timeout : IMAP_IDLE_RECHECK, stop);
    return wait_poll(im, timeout, stop);
}

/* A buffer over this is replaced by an empty one when the session goes idle. */
#define IMAP_KEEP_BUFFER (64u * 1024u)

static void
imap_shrink(MMAPString **buf)
{
    if (*buf == NULL || (*buf)->allocated_len <= IMAP_KEEP_BUFFER)
        return;
    MMAPString *fresh = mmap_string_new("");
    if (fresh == NULL)
        return; /* keep the big one: it still works */
    mmap_string_free(*buf);
    *buf = fresh;
}

void
imap_release_memory(struct imap *im)
{
    if (im == NULL || im->session == NULL)
        return;
    /* Both are only used while a command is read; between commands they are empty. */
    imap_shrink(&im->session->imap_stream_buffer);
    imap_shrink(&im->session->imap_response_buffer);
}

int
imap_remove_flag(struct imap *im, uint32_t uid, const char *flag)
{
    struct mailimap_flag *f = make_flag(flag);

    if (f == NULL) {
        set_err(im, "UID STORE %u: invalid flag \"%s\" (or out of memory)", uid, flag);
        return -1;
    }
    return store_flag_op(im, &uid, 1, f, flag, 1);
}

/*
 * UID SEARCH UNDELETED with KEYWORD kw, or HEADER name value (mentorctl
 * retry finds the mail it set aside by its keyword or its Message-ID).
 */
int
imap_search_mark(struct imap *im, const char *keyword, const char *header, const char *value,
                 uint32_t **uids, size_t *n)
{
    struct mailimap_search_key *keys = mailimap_search_key_new_multiple_empty();
    struct mailimap_search_key *item = NULL;
    clist *result = NULL;
    char *a = NULL, *b = NULL;

    *uids = NULL;
    *n = 0;
    if (keys == NULL || key_add(keys, undeleted_key()) < 0)
        goto oom;
    if (keyword != NULL) {
        if ((a = strdup(keyword)) == NULL || (item = mailimap_search_key_new_keyword(a)) == NULL)
            goto oom;
    } else {
        if ((a = strdup(header)) == NULL || (b = strdup(value)) == NULL ||
            (item = mailimap_search_key_new_header(a, b)) == NULL)
            goto oom;
    }
    a = b = NULL; /* owned by item */
    if (key_add(keys, item) < 0) {
        keys = NULL; /* key_add freed item; keys leak only without memory */
        goto oom;
    }
    begin(im);
    int r = mailimap_uid_search(im->session, NULL, keys, &result);
    mailimap_search_key_free(keys);
    if (!is_ok(r))
        return fail(im, "UID SEARCH", r);
    int ret = collect_uids(im, result, 1, 0, uids, n);
    mailimap_search_result_free(result);
    return ret;
oom:
    free(a);
    free(b);
    if (keys != NULL)
        mailimap_search_key_free(keys);
    set_err(im, "UID SEARCH: out of memory building the query");
    return -1;
}
