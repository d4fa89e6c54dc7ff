/*
 * store_messages: what came in and what came of it: mailbox progress, the
 * processed-message record, the event log.
 * Part of the store module's public face (store.h includes it; conventions
 * there); defined in daemon/store_messages.c.
 */
#ifndef MENTORD_STORE_MESSAGES_H
#define MENTORD_STORE_MESSAGES_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/* ---- mailbox progress: UIDVALIDITY and the last UID whose effects are committed ---- */

/* Unknown mailboxes read as uidvalidity 0, last_uid 0. */
int store_mailbox_get(struct store *st, const char *mailbox, uint32_t *uidvalidity,
                      uint32_t *last_uid);
int store_mailbox_set(struct store *st, const char *mailbox, uint32_t uidvalidity,
                      uint32_t last_uid);

/* ---- processed messages ---- */

struct store_message {
    const char *mailbox;
    uint32_t uidvalidity;
    uint32_t uid;
    const char *message_id; /* may be NULL */
    const char *hash;       /* hex SHA-256 of the raw bytes */
    const char *sender;     /* may be NULL */
    const char *outcome;    /* "answered", "recorded", "ignored", "failed", ... */
    const char *detail;     /* free text, may be NULL */
};

/*
 * Has this message been processed already?  Matches the same hash, or the same
 * non-empty Message-ID, with a final outcome (not a pending retry).  Returns 1
 * and copies the outcome into outcome (if given), 0 when new, -1 on error.
 */
int store_message_seen(struct store *st, const char *message_id, const char *hash, char *outcome,
                       size_t outcome_len);

/* 1 when (mailbox, uidvalidity, uid) has a final outcome recorded (not a retry, not put back). */
int store_message_uid_done(struct store *st, const char *mailbox, uint32_t uidvalidity,
                           uint32_t uid);

/* Record the final outcome of a message (inside the caller's transaction). */
int store_message_record(struct store *st, const struct store_message *m, time_t now);

/*
 * A message recorded failed (by row id) that mentorctl retry puts back in the
 * inbox: its outcome becomes "retried", which store_message_seen ignores, so
 * the mail is decided afresh.  Returns the rows changed (0 or 1), -1 on error.
 */
int store_message_retried(struct store *st, int64_t id);

/*
 * Count one failed attempt at (mailbox, uidvalidity, uid) with the reason, in its
 * own statement (call outside the rolled-back transaction).  Returns the number
 * of attempts so far, or -1 on error.  The reason is m->detail (m->outcome is
 * ignored: the row reads "retry"); a row that is already final is left as is.
 */
int store_message_attempt(struct store *st, const struct store_message *m, time_t now);

/* Count processed messages with this outcome ("retry" counts pending retries; NULL for all). */
int store_message_count(struct store *st, const char *outcome);

/* ---- event log ---- */

int store_event_add(struct store *st, time_t now, const char *kind, const char *member,
                    const char *message_id, const char *detail);
int store_event_count(struct store *st, const char *kind);

#endif
