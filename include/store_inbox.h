/*
 * store_inbox: the inbox's crash protocol (in-flight marks) and the
 * operator-error state.
 * Part of the store module's public face (store.h includes it; conventions
 * there); defined in daemon/store_inbox.c.
 */
#ifndef MENTORD_STORE_INBOX_H
#define MENTORD_STORE_INBOX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/*
 * In-flight marks (store_inbox.c): which inbox messages this process is
 * deciding right now, so that a message that kills the process (a crash, the
 * OOM killer) is recognised after the restart and set aside instead of being
 * retried forever.  The marks are committed before the decision starts, with
 * synchronous = NORMAL (they must survive the process, not a power loss).
 *
 * store_inflight_begin makes uids[0..n) the mailbox's in-flight set: marks of
 * other messages are dropped, and a mark left by another process (one that
 * died on it) counts one death.  *deaths is the highest count in the set.
 * Call it outside a transaction.  store_inflight_end drops the marks of
 * first..last: inside the batch's transaction (the marks go with its commit)
 * or after a failure that was handled (nothing died).
 */
int store_inflight_begin(struct store *st, const char *mailbox, uint32_t uidvalidity,
                         const uint32_t *uids, size_t n, int *deaths);
int store_inflight_end(struct store *st, const char *mailbox, uint32_t uidvalidity, uint32_t first,
                       uint32_t last);

/*
 * The operator-error state (store_inbox.c), inside the caller's transaction.
 * store_setup_fault opens it: 1 when it was closed (the caller tells the
 * managers), 0 when it was open already.  store_setup_ok closes it: 1 when it
 * was open, 0 when not.  -1 on error.
 */
int store_setup_fault(struct store *st, const char *detail, time_t now);
int store_setup_ok(struct store *st, time_t now);

#endif
