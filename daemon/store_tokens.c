/*
 * store_tokens: single-use confirmation tokens (double opt-in).  Table:
 * tokens.
 */
#include "store.h"
#include "store_int.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- confirmation tokens ---- */

#define TOKEN_COLUMNS "token, address, action, name, created, expires, closed, outcome"

static int
token_fill(sqlite3_stmt *stmt, struct store_token *t)
{
    memset(t, 0, sizeof *t);
    t->created = (time_t)sqlite3_column_int64(stmt, 4);
    t->expires = (time_t)sqlite3_column_int64(stmt, 5);
    t->closed = (time_t)sqlite3_column_int64(stmt, 6);
    if (store_i_col_str(stmt, 0, &t->token) != 0 || store_i_col_str(stmt, 1, &t->address) != 0 ||
        store_i_col_str(stmt, 2, &t->action) != 0 || store_i_col_str(stmt, 3, &t->name) != 0 ||
        store_i_col_str(stmt, 7, &t->outcome) != 0) {
        store_token_free(t);
        return -1;
    }
    return 0;
}

int
store_token_add(struct store *st, const char *token, const char *address, const char *action,
                const char *name, time_t now, time_t expires)
{
    char what[320];
    store_i_what(what, sizeof what, "saving the ", action ? action : "(null)", " confirmation for ",
                 address ? address : "(null)", NULL);
    /* A row of address alone (a token taken already fails, it replaces nothing). */
    return store_i_run_own(st, address, what,
                           "INSERT INTO tokens (token, address, action, name, created, expires)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           "ssssii", token, address, action, name, (int64_t)now,
                           (int64_t)expires) < 0
               ? -1
               : 0;
}

/* The first row of a token query into *out: 1 found, 0 none, -1 on error. */
static int
token_one(struct store *st, const char *what, sqlite3_stmt *stmt, struct store_token *out)
{
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1 && token_fill(stmt, out) != 0)
        rc = store_i_set_err(st, "%s: out of memory", what);
    store_i_finish(st, stmt);
    return rc;
}

int
store_token_get(struct store *st, const char *token, struct store_token *out)
{
    const char *what = "looking up a confirmation token";
    memset(out, 0, sizeof *out);
    return token_one(st, what,
                     store_i_prepare(st, what,
                                     "SELECT " TOKEN_COLUMNS " FROM tokens WHERE token = ?1", "s",
                                     token),
                     out);
}

int
store_token_open_for(struct store *st, const char *address, time_t now, struct store_token *out)
{
    const char *what = "looking up an open confirmation";
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt =
        store_i_prepare(st, what,
                        "SELECT " TOKEN_COLUMNS " FROM tokens WHERE address = ?1"
                        " AND closed IS NULL AND expires > ?2 ORDER BY created DESC LIMIT 1",
                        "si", address, (int64_t)now);
    return token_one(st, what, stmt, out);
}

int
store_token_close(struct store *st, const char *token, time_t now, const char *outcome)
{
    int rc = store_i_run(
        st, "closing a confirmation token",
        "UPDATE tokens SET closed = ?2, outcome = ?3 WHERE token = ?1 AND closed IS NULL", "sis",
        token, (int64_t)now, outcome);
    return rc < 0 ? -1 : rc;
}

int
store_token_close_address(struct store *st, const char *address, time_t now, const char *outcome)
{
    int rc = store_i_run(
        st, "closing the confirmations of an address",
        "UPDATE tokens SET closed = ?2, outcome = ?3 WHERE address = ?1 AND closed IS NULL", "sis",
        address, (int64_t)now, outcome);
    return rc < 0 ? -1 : rc;
}

int
store_token_expire(struct store *st, time_t now)
{
    int rc = store_i_run(st, "expiring confirmations",
                         "UPDATE tokens SET closed = ?1, outcome = 'expired'"
                         " WHERE closed IS NULL AND expires <= ?1",
                         "i", (int64_t)now);
    /* A change nobody confirmed keeps nothing of the mail that asked for it. */
    if (rc >= 0 && store_pending_expire(st, now) < 0)
        return -1;
    return rc < 0 ? -1 : rc;
}

void
store_token_free(struct store_token *t)
{
    if (!t)
        return;
    free(t->token);
    free(t->address);
    free(t->action);
    free(t->name);
    free(t->outcome);
    memset(t, 0, sizeof *t);
}
