/*
 * store: everything mentord remembers, in one SQLite database.
 *
 * WAL mode, foreign keys on, a busy timeout so mentorctl and the daemon can
 * share the file.  The schema is a list of numbered migrations applied in
 * order and recorded in PRAGMA user_version; a database newer than this
 * build is refused.  Every statement is prepared with bound parameters.
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
#define STORE_SCHEMA_VERSION 8

struct store;

int store_open(const char *path, struct store **out, char *err, size_t errlen);
void store_close(struct store *st);

/*
 * Files (store_file.c).  The database and its -wal/-shm are private: created
 * 0600 whatever the umask, and a database readable by others is made private
 * (store_open does this; store_file_private is the same for one path).
 */
int store_file_private(const char *path, char *err, size_t errlen);
/*
 * The daemon's shared lock on PATH.lock, held until exit: the fd, or -1 with
 * err.  store_restore takes it exclusively, so it never runs under a daemon.
 */
int store_daemon_lock(const char *path, char *err, size_t errlen);
/* A consistent copy of the open database into dest (0600), taken while others write. */
int store_backup(struct store *st, const char *dest, char *err, size_t errlen);
/*
 * Replace the database at path with the backup at from (checked to be a
 * mentord database first); the replaced one is kept as PATH.before-restore.
 * Refused while a daemon holds the lock.  Open path with store_open after,
 * which upgrades an older backup's schema.
 */
int store_restore(const char *path, const char *from, char *err, size_t errlen);
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
 * Durability of the following commits: full (1, the default: synchronous =
 * FULL, one fsync per commit, survives power loss) or not (0: synchronous =
 * NORMAL, which in WAL mode survives a crash of the process but may forget
 * the last commits on power loss).  Only for records whose loss costs a
 * repeat, never a loss (see smtp.c); set it back to full afterwards.
 */
int store_set_durable(struct store *st, int full);
/* Hand back the page cache's unused memory (before the daemon idles). */
int store_release_memory(struct store *st);

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

/* Count processed messages with this outcome ("retry" counts pending retries; NULL for all). */
int store_message_count(struct store *st, const char *outcome);

/* ---- members ---- */

struct store_member {
    int64_t id;
    char *address; /* as first given; compared case-insensitively */
    char *name;
    char *role;    /* "newcomer", "mentor", "manager" */
    char *state;   /* "pending", "active", "paused", "left" */
    char *profile; /* free text (key: value lines) */
    time_t created;
    time_t updated;
    double bounce_score;  /* permanent bounce +1, temporary +0.5, at most once a day */
    time_t last_bounce;   /* when the score last grew; 0 never */
    int undeliverable;    /* the score reached [programme] bounce_threshold */
    time_t away_until;    /* an out-of-office reply holds reminders back until then */
    time_t pause_until;   /* a paused member resumes by itself then; 0 when open-ended */
    time_t waiting_since; /* a newcomer without a mentor has waited since then; 0 when not */
    time_t last_break;    /* a mentor's last pause ended then; 0 never */
    int unanswered;       /* check-ins and proposals left unanswered in a row */
    time_t last_reminder; /* when the last batched reminder went to this mentor */
    char *language;       /* the language they asked for ("es"), NULL when they did not */
    char *language_seen;  /* the language of their own last mail, NULL when unknown */
};

int store_member_get(struct store *st, const char *address, struct store_member *out);
/*
 * Insert or update by address; NULL fields are left as they are on update.  A new
 * member given no role or state starts as "newcomer" / "pending".  id_out may be NULL.
 */
int store_member_upsert(struct store *st, const char *address, const char *name, const char *role,
                        const char *state, const char *profile, time_t now, int64_t *id_out);
void store_member_free(struct store_member *m);

/* Calls fn for each member (ordered by id); stops and returns fn's value when non-zero. */
int store_member_each(struct store *st, int (*fn)(const struct store_member *, void *), void *arg);
/* Count members with role and state (either may be NULL for any). */
int store_member_count(struct store *st, const char *role, const char *state);

/* ---- outbox ---- */

struct store_outbox {
    int64_t id;
    char *recipient;  /* envelope recipient */
    char *sender;     /* envelope sender */
    char *message_id; /* without angle brackets */
    char *headers;    /* header block, CRLF line ends, ending with CRLF */
    char *body;       /* body, CRLF line ends */
    char *status;     /* "queued", "sent", "failed" */
    int attempts;
    time_t created;
    time_t next_attempt;
    char *last_error;
    char *reply;    /* the SMTP server's final reply once sent */
    time_t sent_at; /* 0 until sent */
};

int store_outbox_add(struct store *st, const char *recipient, const char *sender,
                     const char *message_id, const char *headers, const char *body, time_t now,
                     int64_t *id_out);
/* Up to limit (<= 0: no limit) queued messages with next_attempt <= now, oldest first. */
int store_outbox_due(struct store *st, time_t now, int limit, struct store_outbox **items,
                     size_t *n);
void store_outbox_free(struct store_outbox *items, size_t n);
/* Sent/defer/fail apply to a queued message only; any other id is an error. */
int store_outbox_sent(struct store *st, int64_t id, time_t now, const char *reply);
int store_outbox_defer(struct store *st, int64_t id, time_t next_attempt, const char *error);
int store_outbox_fail(struct store *st, int64_t id, time_t now, const char *error);
/* Count by status ("queued", "sent", "failed"; NULL for all). */
int store_outbox_count(struct store *st, const char *status);
/* Earliest next_attempt among queued messages; 0 when none, (time_t)-1 on error. */
time_t store_outbox_next_due(struct store *st);
int store_outbox_each(struct store *st, const char *status,
                      int (*fn)(const struct store_outbox *, void *), void *arg);

/*
 * Threading.  Mail that expects an answer carries a conversation reference
 * (a token): store_outbox_tag sets the kind ("reply", "confirm", "scheduled")
 * and ref of a queued mail, and store_outbox_lookup finds the recipient and
 * ref ("" when none) of our mail with a given Message-ID (an In-Reply-To or
 * References entry, or the Message-ID a bounce returns): 1 when found.
 */
int store_outbox_tag(struct store *st, int64_t id, const char *kind, const char *ref);
/* The template a queued mail was made from ("introduction"), kept for what answers it. */
int store_outbox_set_template(struct store *st, int64_t id, const char *name);
/* That template of our mail message_id: 1 with name set ("" when unknown), 0 not ours, -1. */
int store_outbox_template_of(struct store *st, const char *message_id, char *name, size_t len);
/* The template of our newest mail to recipient with that ref ([ref] in a Subject): as above. */
int store_outbox_template_by_ref(struct store *st, const char *recipient, const char *ref,
                                 char *name, size_t len);
/*
 * The thread a new mail to recipient continues: the Message-IDs of the latest
 * mail to them from each of templates (NULL-terminated), oldest template
 * first, space-separated in *ids (malloc'd; NULL when there is none).
 */
int store_outbox_thread(struct store *st, const char *recipient, const char *const *templates,
                        char **ids);
int store_outbox_lookup(struct store *st, const char *message_id, char *recipient, size_t rlen,
                        char *ref, size_t ref_len);
/* Mail of kind queued for recipient since the given time (the reply budget). */
int store_outbox_recent(struct store *st, const char *recipient, const char *kind, time_t since);

/* ---- confirmation tokens (double opt-in) ---- */

struct store_token {
    char *token;
    char *address;
    char *action; /* "join", "mentor" */
    char *name;   /* display name given with the request */
    time_t created;
    time_t expires;
    time_t closed; /* 0 while open */
    char *outcome; /* "confirmed", "expired", "bounced", "superseded" */
};

int store_token_add(struct store *st, const char *token, const char *address, const char *action,
                    const char *name, time_t now, time_t expires);
int store_token_get(struct store *st, const char *token, struct store_token *out);
/* The newest open, unexpired token of an address: 1 when there is one. */
int store_token_open_for(struct store *st, const char *address, time_t now,
                         struct store_token *out);
/* Close a token (single use); returns 1 when it was open, 0 when it was not. */
int store_token_close(struct store *st, const char *token, time_t now, const char *outcome);
/* Close every open token of an address (a bounced confirmation); number closed. */
int store_token_close_address(struct store *st, const char *address, time_t now,
                              const char *outcome);
/* Close expired tokens; the number closed. */
int store_token_expire(struct store *st, time_t now);
void store_token_free(struct store_token *t);

/* ---- bounces and absences ---- */

int store_bounce_add(struct store *st, time_t now, const char *address, const char *severity,
                     const char *status, const char *diagnostic, double score);
/*
 * Add to a member's bounce score; *now_undeliverable tells whether the score
 * has reached threshold.  Returns 1 when the address is a member, 0 when not.
 */
int store_member_bounce(struct store *st, const char *address, double add, time_t now,
                        int threshold, int *now_undeliverable);
int store_member_set_away(struct store *st, const char *address, time_t until);
/* A newcomer starts waiting for a mentor at since (0: not waiting); 1 when found. */
int store_member_set_waiting(struct store *st, const char *address, time_t since);
/*
 * A member's chosen language and the one seen in their mail; NULL keeps the
 * stored value.  1 when the member exists, 0 when not, -1 on error.
 */
int store_member_set_language(struct store *st, const char *address, const char *chosen,
                              const char *seen);

/* Set state ("active", "paused", ...) and pause_until (0: none); 1 when the member exists. */
int store_member_set_state(struct store *st, const char *address, const char *state,
                           time_t pause_until, time_t now);
/* Erase a member's personal data (see store.c); anonymous counts stay. */
int store_member_erase(struct store *st, const char *address);
/* Addresses of pending members with no open confirmation left (malloc'd array). */
int store_member_stale_pending(struct store *st, char ***addresses, size_t *n);
void store_strings_free(char **v, size_t n);
/* Blank a queued mail's recipient, headers and body once it is sent or failed. */
int store_outbox_erase_after(struct store *st, int64_t id);
/* Move the WAL into the database file and truncate it (outside a transaction). */
int store_checkpoint(struct store *st);

/*
 * ---- pairs and blocks (store_pairs.c) ----
 * Pairings from proposal to end, and do-not-match blocks.  Tables: pairs,
 * blocks; members.waiting_since.  Declarations for store_pairs.c go here.
 */

struct store_pair {
    int64_t id;
    int64_t newcomer; /* member ids; 0 once that member was erased */
    int64_t mentor;
    char *state;   /* "proposed", "active", "declined", "expired", "ended" */
    int64_t score; /* milli-points (match.h) */
    char *reasons; /* newline-separated, best first; may be NULL */
    char *ref;     /* token for replies about this pair ([ref ...], outbox ref) */
    time_t created, started, ends, ended; /* 0 when not (yet) */
    char *end_reason;                     /* "done", "rematch", ...; NULL while open */
    int64_t circle; /* the circle (its first pair's id) this pair belongs to; 0 when none */
};

/*
 * A new pair in state "proposed" or "active" (started = now, ends as given)
 * with a fresh random ref copied into ref (at least 11 bytes).  id_out may be NULL.
 */
int store_pair_add(struct store *st, int64_t newcomer, int64_t mentor, const char *state,
                   int64_t score, const char *reasons, time_t now, time_t ends, int64_t *id_out,
                   char *ref, size_t ref_len);
int store_pair_get(struct store *st, int64_t id, struct store_pair *out);
int store_pair_by_ref(struct store *st, const char *ref, struct store_pair *out);
/* Pairs with member on either side (0: everyone), newest first; state NULL for any. */
int store_pair_list(struct store *st, int64_t member, const char *state, struct store_pair **out,
                    size_t *n);
void store_pair_free(struct store_pair *p);
void store_pairs_free(struct store_pair *v, size_t n);
/*
 * Move a pair from state from (NULL: any) to to: "active" sets started = now
 * and ends; any other state sets ended = now and end_reason.  Returns 1 when
 * it moved, 0 when the pair was not in from (a late or repeated answer).
 */
int store_pair_set_state(struct store *st, int64_t id, const char *from, const char *to, time_t now,
                         time_t ends, const char *end_reason);
/* Pairs of a mentor (0: all) in state (NULL: any), or -1. */
int store_pair_count(struct store *st, int64_t mentor, const char *state);
/* Pairs that started at or after since (the recent match rate), or -1. */
int store_pair_started_since(struct store *st, time_t since);

/* Do-not-match: a and b are never paired (order does not matter; a repeat is ignored). */
struct store_block {
    int64_t a, b; /* a < b */
};
int store_block_add(struct store *st, int64_t a, int64_t b, const char *reason, time_t now);
/* Blocks plus every pair ever proposed or made: people are never paired twice. */
int store_block_list(struct store *st, struct store_block **out, size_t *n);

/* A member who can take part in a matching round. */
struct store_candidate {
    int64_t id;
    char *address, *name, *role, *profile;
    time_t waiting_since;  /* newcomers */
    int load;              /* mentors: proposed + active pairs */
    int unanswered;        /* members.unanswered */
    int low_feedback;      /* ratings <= 2 on the mentor's pairs in the last 90 days */
    int weeks_since_break; /* mentoring without a break (0 with no active pair) */
};
/*
 * Confirmed (state "active"), deliverable members: newcomers waiting
 * (waiting_since set) without a proposed or active pair, and mentors who are
 * not away at now.  Ordered by id.
 */
int store_pair_candidates(struct store *st, time_t now, struct store_candidate **out, size_t *n);
void store_candidates_free(struct store_candidate *v, size_t n);

/* A member by id (store_member_get by the id's address): 1 found, 0 not, -1 error. */
int store_pair_member(struct store *st, int64_t id, struct store_member *out);
/* waiting_since of a member by id (0: not waiting). */
int store_pair_set_waiting(struct store *st, int64_t member, time_t since);
/* members.unanswered += delta (not below 0). */
int store_pair_unanswered(struct store *st, int64_t member, int delta);
/* A due event in the schedule table (member, pair 0: none). */
int store_pair_schedule(struct store *st, int64_t pair, int64_t member, const char *kind,
                        time_t due, const char *arg, time_t now);
/* Close a pair's open scheduled events with outcome; the number closed. */
int store_pair_unschedule(struct store *st, int64_t pair, time_t now, const char *outcome);
/* When the newest event of kind about member happened: 1 and *at, 0 (at = 0) when never. */
int store_pair_last_event(struct store *st, const char *kind, const char *member, time_t *at);

/*
 * Buddies ([matching] mode = buddies): active, deliverable newcomers who
 * finished a pairing of their own and are not waiting or in an open pairing
 * as the newcomer, with their load as buddies; role reads "buddy".  By id.
 */
int store_pair_buddies(struct store *st, time_t now, struct store_candidate **out, size_t *n);
/*
 * Rotation: active newcomers who are not waiting, have no open pair and whose
 * newest pairing ran its full length (end_reason "completed") wait again from
 * now.  The number put back on the list, or -1.
 */
int store_pair_requeue_completed(struct store *st, time_t now);
/*
 * Circles ([matching] mode = circles, and peer circles): the pairs of one
 * mentor's cohort share a circle id, the id of the circle's first pair.
 * store_pair_set_circle sets it (0: none); store_pair_circle lists a
 * circle's pairs in any state, ascending id.  A circle counts as one unit of
 * a mentor's load in store_pair_candidates.
 */
int store_pair_set_circle(struct store *st, int64_t pair, int64_t circle);
int store_pair_circle(struct store *st, int64_t circle, struct store_pair **out, size_t *n);
/* @@ store_pairs.c declarations @@ */

/*
 * ---- the schedule and feedback (store_schedule.c) ----
 * Due events (each done exactly once) and check-in answers.  Tables:
 * schedule, feedback; members.last_break, unanswered, last_reminder.
 * Declarations for store_schedule.c go here.
 */

/* One scheduled event: kind "checkin", "reminder", "pair-end", "pause-end", ... */
struct store_schedule_event {
    int64_t id;
    time_t due;
    char kind[32];
    int64_t member; /* 0 when none */
    int64_t pair;   /* 0 when none */
    char arg[64];   /* "" when none */
};

int store_schedule_add(struct store *st, time_t due, const char *kind, int64_t member, int64_t pair,
                       const char *arg, time_t now, int64_t *id_out);
/* The oldest event not done with due <= now: 1 and *out filled, 0 when none. */
int store_schedule_next(struct store *st, time_t now, struct store_schedule_event *out);
/* Events of kind for member not done, due at or before before, other than except (malloc'd). */
int store_schedule_pending(struct store *st, const char *kind, int64_t member, time_t before,
                           int64_t except, struct store_schedule_event **out, size_t *n);
int store_schedule_done(struct store *st, int64_t id, time_t now, const char *outcome);
/* Put a pending event off to a new due time (quiet hours, an absence). */
int store_schedule_move(struct store *st, int64_t id, time_t due);
/*
 * Close the pending events of a pair / of a member with outcome, all but the
 * event except (0: none, e.g. the event now running); the number closed.
 */
int store_schedule_cancel_pair(struct store *st, int64_t pair, int64_t except, time_t now,
                               const char *outcome);
int store_schedule_cancel_member(struct store *st, int64_t member, int64_t except, time_t now,
                                 const char *outcome);
/* Earliest due among pending events; 0 when none, (time_t)-1 on error. */
time_t store_schedule_next_due(struct store *st);
/*
 * Events of kind matching member/pair (0: any) and arg (NULL: any): with
 * pending, only those not done.  Returns the count, -1 on error.
 */
int store_schedule_count(struct store *st, const char *kind, int64_t member, int64_t pair,
                         const char *arg, int pending);
/* Done events of kind for member/pair (0: any) with outcome, done at or after since. */
int store_schedule_count_done(struct store *st, const char *kind, int64_t member, int64_t pair,
                              const char *outcome, time_t since);
/* The latest such done event: 1 with *at (when done) and arg (may be NULL) set, 0 when none. */
int store_schedule_last_done(struct store *st, const char *kind, int64_t member, int64_t pair,
                             const char *outcome, time_t *at, char *arg, size_t arglen);
/*
 * Paused members with an end date that has no "pause-end" event for that
 * date yet (a new or changed pause): malloc'd array of {member, until}.
 */
struct store_schedule_pause {
    int64_t member;
    time_t until;
};
int store_schedule_unscheduled_pauses(struct store *st, struct store_schedule_pause **out,
                                      size_t *n);

/* A check-in answer.  rating 0: none given; met -1: not said. */
struct store_feedback {
    int64_t id, pair, member;
    char *role; /* "newcomer" or "mentor" */
    time_t at;
    int rating;
    int met;
    char *comment;
    char *checkin; /* the check-in day answered ("14", "end"), may be NULL */
};

int store_feedback_add(struct store *st, const struct store_feedback *fb, int64_t *id_out);
/* A pair's feedback, oldest first (malloc'd array; free with store_feedback_free). */
int store_feedback_list(struct store *st, int64_t pair, struct store_feedback **out, size_t *n);
void store_feedback_free(struct store_feedback *v, size_t n);
/* When member last gave feedback on pair: 1 and *at set, 0 never. */
int store_feedback_last(struct store *st, int64_t pair, int64_t member, time_t *at);
/* Ratings mentees gave a mentor since a time: count, low (<= 2), high (>= 4), average. */
struct store_feedback_stats {
    int n, low, high;
    double avg;
};
int store_feedback_about_mentor(struct store *st, int64_t mentor, time_t since,
                                struct store_feedback_stats *out);

/* A member's counters: unanswered check-ins in a row, last reminder, last break. */
int store_member_unanswered_add(struct store *st, int64_t member);
int store_member_unanswered_reset(struct store *st, int64_t member);
int store_member_set_last_reminder(struct store *st, int64_t member, time_t at);
int store_member_set_last_break(struct store *st, int64_t member, time_t at);

/* A mentor's pairs: active now, and ever started (active or ended). */
int store_schedule_mentor_counts(struct store *st, int64_t mentor, int *active, int *ever,
                                 time_t *first_started);
/* Pairs in which member was the newcomer and that started (active or ended). */
int store_schedule_mentee_pairs(struct store *st, int64_t member);

/* @@ store_schedule.c declarations @@ */

/*
 * ---- the managers' figures and listings (store_digest.c) ----
 * Read-only aggregates for the digest (digest.c) and the listings of
 * mentorctl and manager mail (ctl_*.c).  Flow figures count what happened in
 * [start, end); state figures (waiting, active and silent pairs) are read as
 * they stood at end.  Rows handed to a callback are valid during the call.
 */

/* The digest's figures for one period; percentages and tenths are -1 when nothing to measure. */
struct store_digest_counts {
    long requests;           /* join and mentor requests (confirmations asked) */
    long joins_newcomers;    /* confirmed newcomers */
    long joins_mentors;      /* confirmed mentors */
    long waiting;            /* newcomers waiting for a mentor at end */
    long longest_wait;       /* days the longest of them has waited */
    long proposals;          /* pairs proposed */
    long started;            /* pairs started */
    long ended;              /* pairs ended */
    long active_pairs;       /* at end */
    long checkins;           /* check-ins mailed */
    long response_rate;      /* % of check-ins answered */
    long avg_rating;         /* average rating x10 */
    long low_ratings;        /* ratings of 1 or 2 */
    long silent_pairs;       /* active pairs without a check-in answer for 4 weeks, at end */
    long undeliverable;      /* members newly undeliverable */
    long retention_30;       /* % of newcomers reaching day 30 who still wrote or answered */
    long retention_90;       /* the same at day 90 */
    long conversions;        /* mentees who became mentors */
    long milestones;         /* mentors to recognise */
    long floods;             /* mail over the reply budget */
    long spam;               /* mail the server's spam filter marked, not answered */
    long stranger_held;      /* mail to unconfirmed addresses held back by the cap, at end */
    long unverified_bounces; /* bounces about no mail of ours: recorded, not scored */
};
int store_digest_counts(struct store *st, time_t start, time_t end,
                        struct store_digest_counts *out);

/* A mentor (active or paused, joined before at) as the burnout check sees them at at. */
struct store_digest_mentor {
    const char *address; /* NULL once erased */
    const char *name;    /* may be NULL */
    const char *profile; /* may be NULL */
    int unanswered;      /* as it is now: the past is not kept */
    int active;          /* active pairs at at */
    long rating10;       /* mentees' average rating in the 90 days before at, x10; -1: none */
    time_t break_since;  /* end of the last break, or when they joined */
};
/*
 * Most unanswered first, then by address; stops and returns fn's value when
 * non-zero (-1 from fn means it ran out of memory, and is reported so).
 */
int store_digest_mentors_each(struct store *st, time_t at,
                              int (*fn)(const struct store_digest_mentor *, void *), void *arg);

/* The digest's lists, one ready-to-print line (UTF-8, no newline) per row; fn as above. */
enum store_digest_list {
    STORE_DIGEST_WAITING = 0,   /* at end, longest wait first: "  5 days  Name <address>" */
    STORE_DIGEST_LOW_RATINGS,   /* every rating of 1 or 2, with its comment */
    STORE_DIGEST_SILENT,        /* silent pairs at end */
    STORE_DIGEST_UNDELIVERABLE, /* undeliverable members now, with their bounce score */
    STORE_DIGEST_CONVERSIONS,   /* in the period */
    STORE_DIGEST_MILESTONES,    /* in the period */
};
int store_digest_lines_each(struct store *st, enum store_digest_list list, time_t start, time_t end,
                            int (*fn)(const char *line, void *), void *arg);

/* Whether the digest of period key went out (an event "digest" with that detail): 1, 0, -1. */
int store_digest_sent(struct store *st, const char *key);
/* Events other than digests before t (anything to report at all?), or -1. */
int store_digest_history(struct store *st, time_t before);

/* A digest as it was sent (replacing an earlier copy of the same period). */
struct store_digest_copy {
    char *key, *subject, *text, *html;
    time_t sent;
};
int store_digest_keep(struct store *st, const char *key, time_t sent, const char *subject,
                      const char *text, const char *html);
/* The digest sent last: 1 with out filled (free with store_digest_copy_free), 0 none, -1. */
int store_digest_last(struct store *st, struct store_digest_copy *out);
void store_digest_copy_free(struct store_digest_copy *c);

/*
 * Manager alerts wait in the store until the end of the run that raised them,
 * then go out together: add one (its paragraph, ready to print), take the
 * unsent ones joined by blank lines (*body malloc'd, NULL and *n 0 when none),
 * and mark those up to last_id sent.
 */
int store_alert_add(struct store *st, time_t at, const char *body);
int store_alert_pending(struct store *st, char **body, size_t *n, int64_t *last_id);
int store_alert_mark_sent(struct store *st, int64_t last_id, time_t now);

/*
 * A read-only query whose SQL its caller owns (the listings of ctl_*.c):
 * arguments as types says ('s' const char *, NULL binds NULL; 'i' int64_t),
 * fn is called first with the column names alone (text NULL, index 0), then
 * once per row (index 1, 2, ...) with each column as text, NULL for SQL NULL.
 * fn returns 0 to go on, -1 when it ran out of memory (reported as such) or
 * another value to stop.  SQL that would write is refused.  Returns 0, -1 on
 * error, or fn's value.
 */
struct store_row {
    size_t index; /* 0 for the column names */
    size_t ncols;
    const char *const *names;    /* ncols column names */
    const char *const *text;     /* ncols values, NULL for SQL NULL; NULL itself at index 0 */
    const unsigned char *is_int; /* ncols flags: the value is an INTEGER */
};
int store_select(struct store *st, const char *what, const char *sql, const char *types,
                 int (*fn)(const struct store_row *, void *), void *arg, ...);
int store_select_v(struct store *st, const char *what, const char *sql, const char *types,
                   int (*fn)(const struct store_row *, void *), void *arg, va_list ap);

/* ---- proof of the sender (store_trust.c) ---- */

/*
 * The [ref] address sees for conversation (a pair's ref, a token): created on
 * first use, unique to that address and conversation, drawn by secret.h.
 * 0 with out set, -1 on error.
 */
int store_ref_for(struct store *st, const char *address, const char *conversation, time_t now,
                  char *out, size_t len);
/* Whose ref it is and of which conversation: 1 found, 0 not, -1 on error. */
int store_ref_get(struct store *st, const char *ref, char *address, size_t alen, char *conversation,
                  size_t clen);

/* A change waiting for the reply to its confirmation (token also in tokens). */
struct store_pending {
    char *address;
    int kind;   /* enum command_kind */
    int number; /* its argument, -1 when none */
    char *text; /* what the person wrote (profile lines), may be NULL */
};
int store_pending_add(struct store *st, const char *token, const char *address, int kind,
                      int number, const char *text, time_t now);
/* Take the pending change of token (the row is deleted): 1 found, 0 not, -1 on error. */
int store_pending_take(struct store *st, const char *token, struct store_pending *out);
void store_pending_free(struct store_pending *p);
/* Forget pending changes whose token is closed or expired; the number forgotten, -1. */
int store_pending_expire(struct store *st, time_t now);

/* The VERP tag of a queued mail and whether it goes to an address that confirmed nothing. */
int store_outbox_set_trust(struct store *st, int64_t id, const char *verp, int stranger);
/* The mail a VERP tag belongs to: 1 with recipient and Message-ID, 0 unknown, -1 error. */
int store_outbox_by_verp(struct store *st, const char *verp, char *recipient, size_t rlen,
                         char *message_id, size_t mlen);
/* Mail to unconfirmed addresses planned in [from, to): a count, -1 on error. */
int store_stranger_planned(struct store *st, time_t from, time_t to);
/* Push the expiry of an open token so it runs from at (a held confirmation). */
int store_token_extend(struct store *st, const char *token, time_t at);
/* 1 when address belongs to a member who confirmed (active or paused), 0 not, -1 error. */
int store_address_confirmed(struct store *st, const char *address);

/*
 * Erasing a member (store_member_erase calls it first): what the rest of the
 * store holds about them besides their own row: their feedback and feedback
 * on their pairs (ratings stay, anonymous), copies of mail naming them, sent
 * to their partners or to non-members (managers) since they joined, their
 * refs and pending changes.  0, or -1 on error.
 */
int store_trust_erase(struct store *st, const char *address);

/* ---- event log ---- */

int store_event_add(struct store *st, time_t now, const char *kind, const char *member,
                    const char *message_id, const char *detail);
int store_event_count(struct store *st, const char *kind);

#endif
