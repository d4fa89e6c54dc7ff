/*
 * store: everything mentord remembers, in one SQLite database.
 *
 * WAL mode, foreign keys on, a busy timeout so mentorctl and the daemon can
 * share the file.  The schema is a list of numbered migrations applied in
 * order and recorded in PRAGMA user_version; a database newer than this
 * build is refused.  Every statement is prepared with bound parameters.
 *
 * A store is used by one thread at a time (its connection is opened without
 * SQLite's own mutex); the daemon's IMAP thread never touches it.
 *
 * Functions return 0 on success and -1 on error (store_errmsg() says why),
 * lookups return 1 when found and 0 when not.  Strings handed out are
 * malloc'd copies owned by the caller (free with the matching *_free).
 */
#ifndef MENTORD_STORE_H
#define MENTORD_STORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The schema version this build writes; see the migrations in store.c. */
#define STORE_SCHEMA_VERSION 12

struct store;

int store_open(const char *path, struct store **out, char *err, size_t errlen);
void store_close(struct store *st);

const char *store_errmsg(const struct store *st);
/*
 * 1 when the last database error came from the environment, not from what
 * was asked (busy or locked by another process, disk full, I/O error, read
 * only, out of memory): a message whose decision met it is not at fault.
 * store_savepoint clears it.
 */
int store_error_is_environment(const struct store *st);
int store_schema_version(struct store *st); /* PRAGMA user_version, -1 on error */
/*
 * Read a PRAGMA (name: letters and '_' only, e.g. "journal_mode") as text, for
 * health checks and tests.  0 on success, -1 on error or an invalid name.
 */
int store_pragma(struct store *st, const char *name, char *out, size_t outlen);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  Transactions do not nest. */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/*
 * Savepoints inside a store_begin() transaction (they nest): store_rollback_to
 * undoes what was done since the matching store_savepoint and ends it; it
 * returns -1 when the whole transaction is gone (SQLite rolls back by itself
 * after e.g. a full disk), in which case nothing of it will be committed.
 */
int store_savepoint(struct store *st);
int store_release(struct store *st);
int store_rollback_to(struct store *st);
/* 1 inside a transaction, 0 outside. */
int store_in_transaction(struct store *st);
/*
 * Rows this connection has inserted, changed or deleted since it opened
 * (triggers included): a copy read when it was n is the store's while it
 * is still n and no savepoint was rolled back (respond.h's sender).
 */
long long store_changes(struct store *st);
/*
 * What could have changed one address's member row and tokens, so that rows
 * read for a mail ahead of its turn serve that turn when nothing could have
 * (programme_read_context, respond_keep).  Taken inside a transaction; it
 * stays the same while the transaction goes on and this connection writes
 * no members or tokens row but those of other addresses through the store's
 * own member upsert and token insert.  Any other write of either table, a
 * savepoint rolled back, a commit or rollback changes it, and so, in one
 * case in 256, does a write to another address (the addresses are hashed).
 */
struct store_stamp {
    unsigned long long any; /* writes of members or tokens not known to be of one address */
    unsigned long long own; /* writes of the addresses that hash as this one does */
    unsigned bucket;        /* the address's hash */
};
/* Take address's stamp: 0, or -1 outside a transaction or for NULL (none can be taken). */
int store_stamp_take(struct store *st, const char *address, struct store_stamp *s);
/* 1 when the stamp's address's stamp, inside a transaction, is still s; else 0. */
int store_stamp_same(struct store *st, const struct store_stamp *s);
/*
 * Durability of the following commits: full (1, the default: synchronous =
 * FULL, one fsync per commit, survives power loss) or not (0: synchronous =
 * NORMAL, which in WAL mode survives a crash of the process but may forget
 * the last commits on power loss).  Only for records whose loss costs a
 * repeat, never a loss (see smtp.c); set it back to full afterwards.
 */
int store_set_durable(struct store *st, int full);
/* Hand back the page cache's unused memory (before the daemon idles). */
int store_release_memory(struct store *st);

/* Free an array of malloc'd strings (store_member_stale_pending, ...). */
void store_strings_free(char **v, size_t n);
/* Move the WAL into the database file and truncate it (outside a transaction). */
int store_checkpoint(struct store *st);

/* The tables, by family: each file of the store module has its header. */
#include "store_file.h"
#include "store_messages.h"
#include "store_inbox.h"
#include "store_members.h"
#include "store_outbox.h"
#include "store_tokens.h"
#include "store_bounces.h"
#include "store_pairs.h"
#include "store_schedule.h"
#include "store_digest.h"
#include "store_trust.h"
#include "store_sentlog.h"

#endif
