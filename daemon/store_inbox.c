/*
 * store_inbox: in-flight marks for the inbox.
 *
 * A message whose decision returns an error is counted and set aside after
 * imap.max_attempts (store_message_attempt).  A message that kills the
 * process - a crash in a parser, the OOM killer, an abort in a library - never
 * returns, so nothing would be counted and every restart would die on it
 * again, stalling the inbox for good.  Before the inbox decides a set of
 * messages it marks them with this process's session id (random per
 * store_open) in a commit of their own.  The batch's commit drops the marks.
 * A mark still there when a *different* session begins the same message
 * means the process that set it died while the message was in flight; the
 * count of such deaths is what inbox.c uses to narrow down and set aside the
 * message.  A failure handled by the same process leaves the count alone, so
 * a full disk retried a hundred times counts nothing.
 *
 * These commits use synchronous = NORMAL: in WAL mode a commit survives the
 * death of the process without an fsync, and a mark lost to a power loss only
 * costs one more attempt.
 */
#include "store.h"
#include "store_int.h"

#include <stdio.h>

static int
inflight_mark(struct store *st, const char *mailbox, uint32_t uidvalidity, const uint32_t *uids,
              size_t n, int *deaths)
{
    char what[128];

    snprintf(what, sizeof what, "marking UID %u%s of %s in flight", uids[0],
             n > 1 ? " and the rest of its batch" : "", mailbox);
    /* Marks outside this set belong to messages that are done or gone. */
    if (store_i_run(st, what,
                    "DELETE FROM inbox_inflight WHERE mailbox = ?1"
                    " AND (uidvalidity <> ?2 OR uid < ?3 OR uid > ?4)",
                    "siii", mailbox, (int64_t)uidvalidity, (int64_t)uids[0],
                    (int64_t)uids[n - 1]) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (store_i_run(st, what,
                        "INSERT INTO inbox_inflight (mailbox, uidvalidity, uid, session)"
                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (mailbox, uidvalidity, uid)"
                        " DO UPDATE SET deaths = deaths + (session <> excluded.session),"
                        " session = excluded.session",
                        "siii", mailbox, (int64_t)uidvalidity, (int64_t)uids[i], st->session) < 0)
            return -1;
    int64_t most = 0;
    if (store_i_query_int(st, &most, what,
                          "SELECT coalesce(max(deaths), 0) FROM inbox_inflight"
                          " WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid BETWEEN ?3 AND ?4",
                          "siii", mailbox, (int64_t)uidvalidity, (int64_t)uids[0],
                          (int64_t)uids[n - 1]) < 0)
        return -1;
    *deaths = (int)most;
    return 0;
}

int
store_inflight_begin(struct store *st, const char *mailbox, uint32_t uidvalidity,
                     const uint32_t *uids, size_t n, int *deaths)
{
    *deaths = 0;
    if (n == 0)
        return 0;
    if (store_set_durable(st, 0) != 0)
        return -1;
    int rc = store_begin(st);
    if (rc == 0) {
        rc = inflight_mark(st, mailbox, uidvalidity, uids, n, deaths);
        if (rc == 0)
            rc = store_commit(st);
        if (rc != 0)
            store_rollback(st);
    }
    /* Back to FULL for the batch that follows, even after an error. */
    if (store_set_durable(st, 1) != 0)
        return -1;
    return rc;
}

int
store_inflight_end(struct store *st, const char *mailbox, uint32_t uidvalidity, uint32_t first,
                   uint32_t last)
{
    return store_i_run(st, "dropping in-flight marks",
                       "DELETE FROM inbox_inflight"
                       " WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid BETWEEN ?3 AND ?4",
                       "siii", mailbox, (int64_t)uidvalidity, (int64_t)first, (int64_t)last) < 0
               ? -1
               : 0;
}

/*
 * The operator-error state: an event "setup-fault" opens it, "setup-ok"
 * closes it.  Kept in the event log so it survives restarts, and so the
 * managers are told once per fault, not once per process or per pass.
 */
static int
setup_fault_open(struct store *st, const char *what)
{
    int64_t open = 0;
    int rc = store_i_query_int(st, &open, what,
                               "SELECT kind = 'setup-fault' FROM events"
                               " WHERE kind IN ('setup-fault', 'setup-ok') ORDER BY id DESC LIMIT 1",
                               "");
    return rc < 0 ? -1 : rc == 1 && open;
}

int
store_setup_fault(struct store *st, const char *detail, time_t now)
{
    int open = setup_fault_open(st, "reading the operator-error state");

    if (open != 0)
        return open < 0 ? -1 : 0;
    return store_event_add(st, now, "setup-fault", NULL, NULL, detail) != 0 ? -1 : 1;
}

int
store_setup_ok(struct store *st, time_t now)
{
    int open = setup_fault_open(st, "reading the operator-error state");

    if (open <= 0)
        return open;
    return store_event_add(st, now, "setup-ok", NULL, NULL, NULL) != 0 ? -1 : 1;
}
