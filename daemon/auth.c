/*
 * auth: the receiving server's Authentication-Results (RFC 8601), read for a
 * DMARC pass aligned with the From: address.
 *
 *   Authentication-Results: mx.example.org 1; (comment)
 *       dkim=pass header.d=example.org; spf=pass smtp.mailfrom=...;
 *       dmarc=pass (p=reject) header.from=example.org
 *
 * Comments may hold anything, even ';', so they are removed first.  The
 * authserv-id may be followed by a version number.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"

#define AUTH_VALUE_MAX 4096

static const char *
auth_domain(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    return at ? at + 1 : NULL;
}

/* The value without (comments); quoted strings are kept as written. */
static void
auth_uncomment(const char *in, char *out, size_t len)
{
    size_t n = 0;
    int depth = 0, quoted = 0;

    for (; *in && n + 1 < len; in++) {
        if (!quoted && *in == '(')
            depth++;
        else if (!quoted && *in == ')' && depth > 0)
            depth--;
        else if (depth == 0) {
            if (*in == '"')
                quoted = !quoted;
            out[n++] = *in;
        }
    }
    out[n] = '\0';
}

/* "name=value" among a resinfo's properties (unquoted) into out; 1 when present. */
static int
auth_prop(const char *resinfo, const char *name, char *out, size_t len)
{
    size_t nl = strlen(name);

    for (const char *p = resinfo; (p = strcasestr(p, name)) != NULL; p += nl) {
        if ((p != resinfo && strchr(" \t", p[-1]) == NULL) || p[nl] != '=')
            continue;
        p += nl + 1;
        p += *p == '"';
        snprintf(out, len, "%.*s", (int)strcspn(p, "\" \t;"), p);
        return 1;
    }
    return 0;
}

/* One "method=result props" clause about DMARC: AUTH_PASS for domain, else AUTH_FAIL. */
static enum auth_verdict
auth_resinfo(const char *r, const char *domain, int *about_dmarc)
{
    char v[320];

    r += strspn(r, " \t\r\n");
    if (strncasecmp(r, "dmarc", 5) != 0 || (r[5] != '=' && r[5] != ' ' && r[5] != '\t'))
        return AUTH_NONE;
    *about_dmarc = 1;
    const char *eq = strchr(r, '=');
    if (eq == NULL)
        return AUTH_FAIL;
    eq++;
    eq += strspn(eq, " \t");
    size_t n = strcspn(eq, " \t\r\n;");
    if (n != 4 || strncasecmp(eq, "pass", 4) != 0)
        return AUTH_FAIL;
    if (!auth_prop(r, "header.from", v, sizeof(v)) || strcasecmp(v, domain) != 0)
        return AUTH_FAIL;
    return AUTH_PASS;
}

/* Exactly one mailbox in From: (a DMARC verdict about several is meaningless). */
static int
auth_single_from(const struct mail *m)
{
    const char *from = mail_header(m, "From");
    int ats = 0, quoted = 0;

    for (const char *p = from ? from : ""; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '@')
            ats++;
        else if (*p == ',' && !quoted)
            return 0;
    }
    return ats == 1;
}

/* The header's verdict when its authserv-id is id; -1 when it carries another id. */
static int
auth_header(const char *value, const char *id, const char *domain)
{
    char v[AUTH_VALUE_MAX], *save = NULL;
    int about = 0;
    enum auth_verdict best = AUTH_NONE;

    auth_uncomment(value, v, sizeof(v));
    char *first = strtok_r(v, ";", &save);
    if (first == NULL)
        return -1;
    first += strspn(first, " \t\r\n");
    first[strcspn(first, " \t\r\n")] = '\0'; /* a version number may follow the id */
    if (strcasecmp(first, id) != 0)
        return -1;
    for (char *r = strtok_r(NULL, ";", &save); r; r = strtok_r(NULL, ";", &save)) {
        enum auth_verdict one = auth_resinfo(r, domain, &about);
        if (one == AUTH_FAIL)
            return AUTH_FAIL; /* any DMARC result other than an aligned pass */
        if (one == AUTH_PASS)
            best = AUTH_PASS;
    }
    return about ? (int)best : AUTH_NONE;
}

enum auth_verdict
auth_dmarc(const struct mail *m, const char *authserv_id, const char *address)
{
    const char *domain = auth_domain(address);

    if (authserv_id == NULL || authserv_id[0] == '\0' || m == NULL || domain == NULL ||
        m->from_addr == NULL)
        return AUTH_NONE;
    for (size_t i = 0; i < m->n_headers; i++) {
        if (strcasecmp(m->headers[i].name, "Authentication-Results") != 0)
            continue;
        int v = auth_header(m->headers[i].value, authserv_id, domain);
        if (v < 0)
            continue; /* another server's (or a sender's) header: not ours to read */
        /* The topmost header with our id decides; anything below it is the sender's. */
        if (v != AUTH_PASS)
            return (enum auth_verdict)v;
        return strcasecmp(m->from_addr, address) == 0 && auth_single_from(m) ? AUTH_PASS
                                                                             : AUTH_FAIL;
    }
    return AUTH_NONE;
}
