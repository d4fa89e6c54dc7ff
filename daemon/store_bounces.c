/*
 * store_bounces: bounces and absences.  Each bounce is recorded and
 * scored against the member's address; out-of-office replies hold mail back.
 * Tables: bounces; members.bounce_score, undeliverable, away_until.
 */
#include "store.h"
#include "store_int.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- bounces and absences ---- */

int
store_bounce_add(struct store *st, time_t now, const char *address, const char *severity,
                 const char *status, const char *diagnostic, double score)
{
    char what[320];
    snprintf(what, sizeof what, "recording a bounce for %s", address);
    /* store_i_bind_args() knows no doubles: the score is bound by hand as ?6. */
    sqlite3_stmt *stmt =
        store_i_prepare(st, what,
                        "INSERT INTO bounces (at, address, severity, status, diagnostic,"
                        " score) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        "issss", (int64_t)now, address, severity, status, diagnostic);
    if (!stmt)
        return -1;
    int rc = sqlite3_bind_double(stmt, 6, score) == SQLITE_OK ? store_i_step(st, stmt, what)
                                                              : store_i_db_err(st, what);
    store_i_finish(st, stmt);
    return rc < 0 ? -1 : 0;
}

int
store_member_bounce(struct store *st, const char *address, double add, time_t now, int threshold,
                    int *now_undeliverable)
{
    char what[320];
    snprintf(what, sizeof what, "scoring a bounce for member %s", address);
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "UPDATE members SET bounce_score = bounce_score + ?2,"
                                         " last_bounce = ?3, updated = ?3,"
                                         " undeliverable = (bounce_score + ?2 >= ?4)"
                                         " WHERE address = ?1 RETURNING undeliverable",
                                         "s", address);
    if (!stmt)
        return -1;
    int rc = SQLITE_OK;
    rc |= sqlite3_bind_double(stmt, 2, add);
    rc |= sqlite3_bind_int64(stmt, 3, (int64_t)now);
    rc |= sqlite3_bind_int(stmt, 4, threshold);
    if (rc != SQLITE_OK) {
        store_i_db_err(st, what);
        store_i_finish(st, stmt);
        return -1;
    }
    int found = store_i_step(st, stmt, what);
    if (found == 1 && now_undeliverable)
        *now_undeliverable = sqlite3_column_int(stmt, 0);
    store_i_finish(st, stmt);
    return found;
}

int
store_member_set_away(struct store *st, const char *address, time_t until)
{
    int rc = store_i_run(st, "recording an absence",
                         "UPDATE members SET away_until = ?2 WHERE address = ?1", "si", address,
                         (int64_t)until);
    return rc < 0 ? -1 : rc;
}
