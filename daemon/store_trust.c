/*
 * store_trust: the tables behind the proof model (auth.h, gate.h): the refs
 * each recipient sees, changes waiting for a confirming reply, the VERP tag
 * and the stranger mark of outgoing mail, and the erasure of a member who
 * leaves from every stored mail and answer.  Part of the store module
 * (store_int.h conventions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "store_int.h"

/* ---- refs ---- */

int
store_ref_for(struct store *st, const char *address, const char *conversation, time_t now,
              char *out, size_t len)
{
    const char *what = "looking up a recipient's ref";
    int rc = store_i_query_text(st, out, len, what,
                                "SELECT ref FROM refs WHERE address = ?1 AND conversation = ?2",
                                "ss", address, conversation);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (len < SECRET_TOKEN_LEN + 1 || secret_token(out, SECRET_TOKEN_LEN) != 0)
        return store_i_set_err(st, "%s: cannot draw a random ref", what);
    /* 69 random bits: a collision is not worth a retry loop; the UNIQUE key catches it. */
    if (store_i_run(
            st, "storing a recipient's ref",
            "INSERT INTO refs (ref, address, conversation, created) VALUES (?1, ?2, ?3, ?4)",
            "sssi", out, address, conversation, (int64_t)now) < 0)
        return -1;
    return 0;
}

int
store_ref_get(struct store *st, const char *ref, char *address, size_t alen, char *conversation,
              size_t clen)
{
    const char *what = "looking up a ref";
    sqlite3_stmt *stmt = store_i_prepare(
        st, what, "SELECT address, conversation FROM refs WHERE ref = ?1 COLLATE NOCASE", "s", ref);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1) {
        snprintf(address, alen, "%s", (const char *)sqlite3_column_text(stmt, 0));
        snprintf(conversation, clen, "%s", (const char *)sqlite3_column_text(stmt, 1));
    }
    store_i_finish(st, stmt);
    return rc;
}

/* ---- pending changes ---- */

int
store_pending_add(struct store *st, const char *token, const char *address, int kind, int number,
                  const char *text, time_t now)
{
    return store_i_run(st, "storing a change to confirm",
                       "INSERT INTO pending (token, address, kind, number, text, created)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                       "ssiisi", token, address, (int64_t)kind, (int64_t)number, text,
                       (int64_t)now) < 0
               ? -1
               : 0;
}

int
store_pending_take(struct store *st, const char *token, struct store_pending *out)
{
    const char *what = "reading a change to confirm";
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *stmt = store_i_prepare(
        st, what, "SELECT address, kind, number, text FROM pending WHERE token = ?1", "s", token);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1) {
        out->kind = sqlite3_column_int(stmt, 1);
        out->number = sqlite3_column_int(stmt, 2);
        if (store_i_col_str(stmt, 0, &out->address) != 0 ||
            store_i_col_str(stmt, 3, &out->text) != 0)
            rc = store_i_set_err(st, "%s: out of memory", what);
    }
    store_i_finish(st, stmt);
    if (rc == 1 && store_i_run(st, what, "DELETE FROM pending WHERE token = ?1", "s", token) < 0)
        rc = -1;
    if (rc != 1)
        store_pending_free(out);
    return rc;
}

void
store_pending_free(struct store_pending *p)
{
    free(p->address);
    free(p->text);
    memset(p, 0, sizeof(*p));
}

int
store_pending_expire(struct store *st, time_t now)
{
    return store_i_run(st, "forgetting changes nobody confirmed",
                       "DELETE FROM pending WHERE token NOT IN (SELECT token FROM tokens WHERE"
                       " closed IS NULL AND expires > ?1)",
                       "i", (int64_t)now);
}

int
store_token_extend(struct store *st, const char *token, time_t at)
{
    return store_i_run(st, "extending a held confirmation",
                       "UPDATE tokens SET expires = ?2 + (expires - created) WHERE token = ?1"
                       " AND closed IS NULL AND ?2 + (expires - created) > expires",
                       "si", token, (int64_t)at) < 0
               ? -1
               : 0;
}

/* ---- outgoing mail ---- */

int
store_outbox_set_trust(struct store *st, int64_t id, const char *verp, int stranger)
{
    return store_i_run(st, "tagging outgoing mail",
                       "UPDATE outbox SET verp = ?2, stranger = ?3 WHERE id = ?1", "isi", id, verp,
                       (int64_t)stranger) < 0
               ? -1
               : 0;
}

int
store_outbox_by_verp(struct store *st, const char *verp, char *recipient, size_t rlen,
                     char *message_id, size_t mlen)
{
    const char *what = "looking up a bounce's envelope tag";
    sqlite3_stmt *stmt = store_i_prepare(
        st, what,
        "SELECT recipient, coalesce(message_id, '') FROM outbox WHERE verp = ?1 COLLATE NOCASE",
        "s", verp);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1) {
        snprintf(recipient, rlen, "%s", (const char *)sqlite3_column_text(stmt, 0));
        snprintf(message_id, mlen, "%s", (const char *)sqlite3_column_text(stmt, 1));
    }
    store_i_finish(st, stmt);
    return rc;
}

int
store_stranger_planned(struct store *st, time_t from, time_t to)
{
    int64_t n = 0;
    /* The per-hour counts the triggers of migration 9 keep (store.c). */
    if (store_i_query_int(st, &n, "counting mail to unconfirmed addresses",
                          "SELECT coalesce(sum(n), 0) FROM stranger_hours WHERE hour >= ?1"
                          " AND hour < ?2",
                          "ii", (int64_t)from, (int64_t)to) < 0)
        return -1;
    return (int)n;
}

int
store_stranger_slot(struct store *st, time_t hour, time_t day, int *in_hour, int *in_day)
{
    int64_t h = 0, d = 0;
    /* The day's (at most 24) rows once, both sums: one statement where two were run per answer. */
    if (store_i_query_int2(st, &h, &d, "counting mail to unconfirmed addresses",
                           "SELECT coalesce(sum(CASE WHEN hour >= ?3 AND hour < ?4 THEN n END), 0),"
                           " coalesce(sum(n), 0) FROM stranger_hours WHERE hour >= ?1 AND hour < ?2",
                           "iiii", (int64_t)day, (int64_t)(day + 86400), (int64_t)hour,
                           (int64_t)(hour + 3600)) < 0)
        return -1;
    *in_hour = (int)h;
    *in_day = (int)d;
    return 0;
}

/* ---- leaving ---- */

/* Blank the stored copies of sent mail matching where (?1 address, ?2 since, ?3 name). */
static int
trust_blank_mail(struct store *st, const char *what, const char *sent, const char *queued,
                 const char *types, ...)
{
    va_list ap;
    int rc;

    /* Queued mail to others that names them still goes out, then is blanked (smtp). */
    va_start(ap, types);
    rc = store_i_run_v(st, what, queued, types, ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    va_start(ap, types);
    rc = store_i_run_v(st, what, sent, types, ap);
    va_end(ap);
    return rc < 0 ? -1 : 0;
}

#define TRUST_BLANK                                                                                \
    "UPDATE outbox SET headers = '', body = '', reply = NULL, last_error = NULL,"                  \
    " erase_after = 1 WHERE status <> 'queued' AND "
#define TRUST_LATER "UPDATE outbox SET erase_after = 1 WHERE status = 'queued' AND "

int
store_trust_erase(struct store *st, const char *address)
{
    char what[384], *name = NULL;
    int64_t id = 0, since = 0;

    snprintf(what, sizeof what, "erasing what others' mail held of %s", address);
    sqlite3_stmt *stmt = store_i_prepare(
        st, what, "SELECT id, created, coalesce(name, '') FROM members WHERE address = ?1", "s",
        address);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1) {
        id = sqlite3_column_int64(stmt, 0);
        since = sqlite3_column_int64(stmt, 1);
        if (store_i_col_str(stmt, 2, &name) != 0)
            rc = store_i_set_err(st, "%s: out of memory", what);
    }
    store_i_finish(st, stmt);
    if (rc < 0)
        return -1;
    rc = -1;
    /* Mail naming them in plain text (address, or a name of three letters or more). */
    if (trust_blank_mail(st, what,
                         TRUST_BLANK "(instr(lower(headers || body), lower(?1)) > 0"
                                     " OR (length(?2) >= 3 AND instr(headers || body, ?2) > 0))",
                         TRUST_LATER "(instr(lower(headers || body), lower(?1)) > 0"
                                     " OR (length(?2) >= 3 AND instr(headers || body, ?2) > 0))",
                         "ss", address, name ? name : "") != 0)
        goto out;
    /*
     * Mail to their partners (an introduction names them, perhaps encoded) and
     * to anyone who is not a member (the managers' alerts and digests quoting
     * them) since they joined: a search could miss an encoded name, so every
     * such copy goes.  The rows stay, blank, for counts and threading.
     */
    if (id > 0 &&
        trust_blank_mail(st, what,
                         TRUST_BLANK "created >= ?2 AND (recipient COLLATE NOCASE IN (SELECT"
                                     " m.address FROM pairs p JOIN members m ON m.id = (CASE WHEN"
                                     " p.newcomer = ?1 THEN p.mentor ELSE p.newcomer END) WHERE ?1"
                                     " IN (p.newcomer, p.mentor)) OR recipient COLLATE NOCASE NOT"
                                     " IN (SELECT address FROM members))",
                         TRUST_LATER "created >= ?2 AND (recipient COLLATE NOCASE IN (SELECT"
                                     " m.address FROM pairs p JOIN members m ON m.id = (CASE WHEN"
                                     " p.newcomer = ?1 THEN p.mentor ELSE p.newcomer END) WHERE ?1"
                                     " IN (p.newcomer, p.mentor)) OR recipient COLLATE NOCASE NOT"
                                     " IN (SELECT address FROM members))",
                         "ii", id, since) != 0)
        goto out;
    /* Their answers and their partners' answers about them: only the counts stay. */
    if (id > 0 && store_i_run(st, what,
                              "UPDATE feedback SET comment = NULL, member = NULL WHERE member = ?1"
                              " OR pair IN (SELECT id FROM pairs WHERE ?1 IN (newcomer, mentor))",
                              "i", id) < 0)
        goto out;
    /* Records of other mail that name them (a bounce about their address, say). */
    if (store_i_run(st, what,
                    "UPDATE messages SET detail = NULL WHERE instr(lower(detail), lower(?1)) > 0",
                    "s", address) < 0 ||
        store_i_run(st, what,
                    "UPDATE events SET detail = NULL WHERE instr(lower(detail), lower(?1)) > 0",
                    "s", address) < 0)
        goto out;
    if (store_i_run(st, what, "DELETE FROM refs WHERE address = ?1", "s", address) < 0 ||
        store_i_run(st, what, "DELETE FROM pending WHERE address = ?1", "s", address) < 0)
        goto out;
    rc = 0;
out:
    free(name);
    return rc;
}
