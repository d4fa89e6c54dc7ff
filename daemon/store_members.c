/*
 * store_members: the members table.  A member's row, its state and
 * settings, and erasing one (which first asks store_trust.c to erase what the
 * rest of the store holds about them).
 */
#include "store.h"
#include "store_int.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- members ---- */

#define MEMBER_COLUMNS                                                                             \
    "id, address, name, role, state, profile, created, updated, bounce_score, last_bounce,"        \
    " undeliverable, away_until, pause_until, waiting_since, last_break, unanswered,"              \
    " last_reminder, language, language_seen"

static int
member_fill(sqlite3_stmt *stmt, struct store_member *m)
{
    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(stmt, 0);
    m->created = (time_t)sqlite3_column_int64(stmt, 6);
    m->updated = (time_t)sqlite3_column_int64(stmt, 7);
    m->bounce_score = sqlite3_column_double(stmt, 8);
    m->last_bounce = (time_t)sqlite3_column_int64(stmt, 9);
    m->undeliverable = sqlite3_column_int(stmt, 10);
    m->away_until = (time_t)sqlite3_column_int64(stmt, 11);
    m->pause_until = (time_t)sqlite3_column_int64(stmt, 12);
    m->waiting_since = (time_t)sqlite3_column_int64(stmt, 13);
    m->last_break = (time_t)sqlite3_column_int64(stmt, 14);
    m->unanswered = sqlite3_column_int(stmt, 15);
    m->last_reminder = (time_t)sqlite3_column_int64(stmt, 16);
    if (store_i_col_str(stmt, 1, &m->address) != 0 || store_i_col_str(stmt, 2, &m->name) != 0 ||
        store_i_col_str(stmt, 3, &m->role) != 0 || store_i_col_str(stmt, 4, &m->state) != 0 ||
        store_i_col_str(stmt, 5, &m->profile) != 0 ||
        store_i_col_str(stmt, 17, &m->language) != 0 ||
        store_i_col_str(stmt, 18, &m->language_seen) != 0) {
        store_member_free(m);
        return -1;
    }
    return 0;
}

int
store_member_get(struct store *st, const char *address, struct store_member *out)
{
    char what[320];
    store_i_what(what, sizeof what, "looking up member ", address ? address : "(null)", NULL);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = store_i_prepare(
        st, what, "SELECT " MEMBER_COLUMNS " FROM members WHERE address = ?1", "s", address);
    if (!stmt)
        return -1;
    int rc = store_i_step(st, stmt, what);
    if (rc == 1 && member_fill(stmt, out) != 0)
        rc = store_i_set_err(st, "%s: out of memory", what);
    store_i_finish(st, stmt);
    return rc;
}

int
store_member_upsert(struct store *st, const char *address, const char *name, const char *role,
                    const char *state, const char *profile, time_t now, int64_t *id_out)
{
    return store_member_upsert_lang(st, address, name, role, state, profile, NULL, NULL, now,
                                    id_out);
}

int
store_member_upsert_lang(struct store *st, const char *address, const char *name,
                         const char *role, const char *state, const char *profile,
                         const char *language, const char *language_seen, time_t now,
                         int64_t *id_out)
{
    char what[320];
    store_i_what(what, sizeof what, "saving member ", address ? address : "(null)", NULL);
    /*
     * A new member without a role or state starts as a pending newcomer; on
     * update each NULL keeps the stored value.  The address keeps the spelling
     * it was first given, the NOCASE unique index finds it in any case.
     */
    int64_t id = 0;
    /*
     * No RETURNING: SQLite buffers its rows in an ephemeral table, which cost
     * more than the insert itself; the NOCASE index finds the id again.
     */
    /* One address's row, inserted or updated in place: other addresses' stamps stay. */
    if (store_i_run_own(
            st, address, what,
            "INSERT INTO members (address, name, role, state, profile, created, updated,"
            " language, language_seen)"
            " VALUES (?1, ?2, coalesce(?3, 'newcomer'), coalesce(?4, 'pending'), ?5,"
            " ?6, ?6, ?7, ?8)"
            " ON CONFLICT (address) DO UPDATE SET name = coalesce(?2, name),"
            " role = coalesce(?3, role), state = coalesce(?4, state),"
            " profile = coalesce(?5, profile), updated = ?6,"
            " language = coalesce(?7, language), language_seen = coalesce(?8, language_seen)",
            "sssssiss", address, name, role, state, profile, (int64_t)now, language,
            language_seen) < 0)
        return -1;
    if (id_out == NULL)
        return 0; /* the id is read back only for a caller who wants it */
    int rc =
        store_i_query_int(st, &id, what, "SELECT id FROM members WHERE address = ?1", "s", address);
    if (rc == 0)
        rc = store_i_set_err(st, "%s: no row id returned", what);
    if (rc < 0)
        return -1;
    *id_out = id;
    return 0;
}

/* A copy of v, else of stored (NULL stays NULL): -1 out of memory. */
static int
member_field(const char *v, const char *stored, char **out)
{
    const char *s = v != NULL ? v : stored;

    *out = s != NULL ? strdup(s) : NULL;
    return s != NULL && *out == NULL ? -1 : 0;
}

/*
 * The row the upsert left: before with v's fields over it (the address keeps
 * its first spelling), or, inserted as id, v's fields over the defaults the
 * schema gives every other column (0 or NULL, as member_fill reads NULL).
 */
static int
member_written(const struct store_member_values *v, const struct store_member *before, int64_t id,
               time_t now, struct store_member *out)
{
    const struct store_member *old = id != 0 ? NULL : before;

    if (old != NULL) {
        *out = *old;
    } else {
        memset(out, 0, sizeof *out);
        out->id = id;
        out->created = now;
    }
    out->updated = now;
    out->address = out->name = out->role = out->state = out->profile = NULL;
    out->language = out->language_seen = NULL;
    if (member_field(old ? NULL : v->address, old ? old->address : NULL, &out->address) != 0 ||
        member_field(v->name, old ? old->name : NULL, &out->name) != 0 ||
        member_field(v->role, old ? old->role : "newcomer", &out->role) != 0 ||
        member_field(v->state, old ? old->state : "pending", &out->state) != 0 ||
        member_field(v->profile, old ? old->profile : NULL, &out->profile) != 0 ||
        member_field(v->language, old ? old->language : NULL, &out->language) != 0 ||
        member_field(v->language_seen, old ? old->language_seen : NULL, &out->language_seen) != 0) {
        store_member_free(out);
        return -1;
    }
    return 0;
}

int
store_member_upsert_row(struct store *st, const struct store_member_values *v,
                        const struct store_member *before, time_t now, struct store_member *out)
{
    memset(out, 0, sizeof *out);
    /*
     * The upsert's DO UPDATE leaves the last insert rowid as it was: 0 before
     * it tells an insert (a new rowid, never 0 here) from an update.
     */
    sqlite3_set_last_insert_rowid(st->db, 0);
    if (store_member_upsert_lang(st, v->address, v->name, v->role, v->state, v->profile,
                                 v->language, v->language_seen, now, NULL) != 0)
        return -1;
    int64_t id = sqlite3_last_insert_rowid(st->db);
    if (id == 0 && before == NULL)
        return 0;
    if (member_written(v, before, id, now, out) != 0)
        return store_i_set_err(st, "saving member %s: out of memory", v->address);
    return 1;
}

int
store_member_confirmed(const struct store_member *m)
{
    return m->state != NULL && (strcmp(m->state, "active") == 0 || strcmp(m->state, "paused") == 0);
}

void
store_member_free(struct store_member *m)
{
    if (!m)
        return;
    free(m->address);
    free(m->name);
    free(m->role);
    free(m->state);
    free(m->profile);
    free(m->language);
    free(m->language_seen);
    memset(m, 0, sizeof *m);
}

int
store_member_each(struct store *st, int (*fn)(const struct store_member *, void *), void *arg)
{
    const char *what = "listing members";
    sqlite3_stmt *stmt =
        store_i_prepare(st, what, "SELECT " MEMBER_COLUMNS " FROM members ORDER BY id", "");
    if (!stmt)
        return -1;
    int rc;
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        struct store_member m;
        if (member_fill(stmt, &m) != 0) {
            rc = store_i_set_err(st, "%s: out of memory", what);
            break;
        }
        rc = fn(&m, arg);
        store_member_free(&m);
        if (rc != 0)
            break;
    }
    store_i_finish(st, stmt);
    return rc;
}

int
store_member_count(struct store *st, const char *role, const char *state)
{
    return store_i_query_count(st, "counting members",
                               "SELECT count(*) FROM members WHERE (?1 IS NULL OR role = ?1)"
                               " AND (?2 IS NULL OR state = ?2)",
                               "ss", role, state);
}

int
store_member_set_state(struct store *st, const char *address, const char *state, time_t pause_until,
                       time_t now)
{
    char what[320];
    snprintf(what, sizeof what, "setting member %s %s", address, state);
    int rc = store_i_run(st, what,
                         "UPDATE members SET state = ?2, pause_until = nullif(?3, 0), updated = ?4"
                         " WHERE address = ?1",
                         "ssii", address, state, (int64_t)pause_until, (int64_t)now);
    return rc < 0 ? -1 : rc;
}

/*
 * Erasure.  The member's row, tokens and bounce records go; in the message
 * and event logs their address is blanked, so the anonymous counts stay; mail
 * still queued for them is dropped (the caller queues the farewell after
 * this, marked to be blanked once sent); mail already sent is blanked now;
 * the kept copies of digests and manager alerts lose their address.
 */
int
store_member_erase(struct store *st, const char *address)
{
    static const char *const sql[] = {
        "DELETE FROM members WHERE address = ?1",
        "DELETE FROM tokens WHERE address = ?1",
        "DELETE FROM bounces WHERE address = ?1",
        "UPDATE messages SET sender = NULL, detail = NULL WHERE sender = ?1 COLLATE NOCASE",
        /* A detail that is one of mentord's own words (what was asked) keeps the counts
         * right; anything else may hold the person's text and goes. */
        "UPDATE events SET member = NULL, detail = CASE WHEN detail IN ('join', 'mentor',"
        " 'leave', 'confirmed', 'newcomer') THEN detail END WHERE member = ?1 COLLATE NOCASE",
        "DELETE FROM outbox WHERE recipient = ?1 COLLATE NOCASE AND status = 'queued'",
        "UPDATE outbox SET erase_after = 1 WHERE recipient = ?1 COLLATE NOCASE",
        /*
         * The copies of digests and manager alerts kept for managers keep nothing
         * of one who left: a copy naming them may quote their words as well, so it
         * goes whole (the figures stay in the tables they were counted from).
         */
        "DELETE FROM digests WHERE instr(lower(text), lower(?1)) OR instr(lower(html), lower(?1))",
        "DELETE FROM manager_alerts WHERE instr(lower(body), lower(?1))",
        "UPDATE outbox SET recipient = '', headers = '', body = '', reply = NULL,"
        " last_error = NULL WHERE erase_after = 1 AND status <> 'queued'",
    };
    char what[320];
    snprintf(what, sizeof what, "erasing member %s", address);
    if (store_trust_erase(st, address) != 0)
        return -1;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
        if (store_i_run(st, what, sql[i], i + 1 < sizeof sql / sizeof sql[0] ? "s" : "", address) <
            0)
            return -1;
    return 0;
}

/* Pending members whose every confirmation is closed: nobody confirmed them. */
int
store_member_stale_pending(struct store *st, char ***addresses, size_t *n)
{
    const char *what = "listing unconfirmed members";
    *addresses = NULL;
    *n = 0;
    sqlite3_stmt *stmt = store_i_prepare(st, what,
                                         "SELECT address FROM members m WHERE state = 'pending'"
                                         " AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.address ="
                                         " m.address AND t.closed IS NULL) ORDER BY id",
                                         "");
    if (!stmt)
        return -1;
    int rc;
    struct store_i_vec vec = {0};
    while ((rc = store_i_step(st, stmt, what)) == 1) {
        char **slot = store_i_push(st, what, &vec, sizeof *slot);
        if (slot == NULL || store_i_col_str(stmt, 0, slot) != 0) {
            rc = store_i_set_err(st, "%s: out of memory", what);
            break;
        }
    }
    store_i_finish(st, stmt);
    *addresses = vec.v;
    *n = vec.n;
    if (rc < 0) {
        store_strings_free(*addresses, *n);
        *addresses = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int
store_member_set_waiting(struct store *st, const char *address, time_t since)
{
    int rc = store_i_run(st, "recording when a newcomer started waiting",
                         "UPDATE members SET waiting_since = nullif(?2, 0) WHERE address = ?1",
                         "si", address, (int64_t)since);
    return rc < 0 ? -1 : rc;
}

int
store_member_set_language(struct store *st, const char *address, const char *chosen,
                          const char *seen)
{
    int rc = store_i_run(st, "recording a member's language",
                         "UPDATE members SET language = coalesce(?2, language),"
                         " language_seen = coalesce(?3, language_seen) WHERE address = ?1",
                         "sss", address, chosen, seen);
    return rc < 0 ? -1 : rc;
}
