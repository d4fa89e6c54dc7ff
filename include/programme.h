/*
 * programme: the domain.  Decides what an incoming mail means for the
 * mentorship programme and what to answer.  Knows nothing of IMAP or SMTP:
 * it reads a parsed mail, changes the store and queues mail in the outbox,
 * all inside the caller's transaction.
 *
 * What a person can do by mail: JOIN (a newcomer) and MENTOR (a volunteer),
 * each confirmed by replying to a confirmation mail with a single-use token
 * (double opt-in: nobody can sign up someone else's address); LEAVE, also
 * confirmed, which erases their personal data; STATUS; PAUSE [N weeks];
 * RESUME; CAPACITY N; "Key: value" profile lines; HELP.  A change acts only
 * from a mail that proves its sender (gate.h); others are confirmed by a
 * reply first.  Automatic mail is
 * recorded, never answered: bounces are scored per address, out-of-office
 * replies hold reminders back.
 */
#ifndef MENTORD_PROGRAMME_H
#define MENTORD_PROGRAMME_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "command.h"
#include "config.h"
#include "mail.h"
#include "store.h"

struct programme_result {
    const char *outcome; /* "answered", "recorded", "ignored", "over-budget", "too-large" */
    char detail[512];    /* a short human description for the log and the record */
    char intent[32];     /* a person's mail: the reading's intent (reading_intent_name), else "" */
    int anonymous;       /* the sender was erased: record the message without their address */
    int checkpoint;      /* personal data was erased: checkpoint the WAL after the commit */
};

/*
 * Handle m.  raw/raw_len are the bytes fetched; size is the message's real
 * size, larger than raw_len when it exceeds [limits] max_message_size and
 * only its start was fetched (m then holds the headers only).  Returns 0, or
 * -1 on a system error (store, template), with res->detail saying what
 * failed; the caller then rolls back.
 */
int programme_handle_mail(const struct config *cfg, struct store *st, const struct mail *m,
                          const char *raw, size_t raw_len, size_t size, time_t now,
                          struct programme_result *res);

/*
 * How a mail is read (reading.h) once the sender's context is known: read
 * fills *out from ctx and returns 0, or -1 when it cannot (the mail is then
 * not handled and the caller, who knows why, tries it again later).  The
 * daemon reads in its isolated reader (reader.h).
 */
struct reading;
struct reading_context;
struct respond_kept;
struct programme_reader {
    int (*read)(void *arg, const struct reading_context *ctx, struct reading *out);
    void *arg;
    struct respond_kept *kept; /* the senders' rows programme_read_context kept, or NULL */
};

/* programme_handle_mail with the reading done by reader (NULL: reading_read, here). */
int programme_handle_read(const struct config *cfg, struct store *st, const struct mail *m,
                          const char *raw, size_t raw_len, size_t size, time_t now,
                          const struct programme_reader *reader, struct programme_result *res);

/*
 * The context programme_handle_read would read m with, were it handled now:
 * for a reading asked for ahead (reader_read_next), which is used only if
 * the context is still the same when m's turn comes.  Reads the store,
 * writes nothing.  The sender's member row and open token it read go into
 * keep (unless NULL; respond_keep), for m's turn to use when nothing has
 * written them since (respond_take).  0, or -1 on a store error.
 */
int programme_read_context(const struct config *cfg, struct store *st, const struct mail *m,
                           size_t size, time_t now, struct reading_context *ctx,
                           struct respond_kept *keep);

/* How the daemon would take a mail, for `mentorctl inspect` (programme_explain). */
struct programme_explain {
    const char *proof;  /* "reply", "dmarc" or "claimed" (gate.h) */
    char proof_by[400]; /* what proves it, in words; "" when claimed */
    char ref[64];       /* the conversation it answers, "" when none */
    const char *would;  /* for a person's mail: what its change would do (acts now, a
                           confirmation mail, ...); NULL when not a person's */
};

/*
 * The daemon's own steps on m against the store, carried out in nothing:
 * the sender's proof and context, the reading with that context (*r,
 * reading_free it) and what the gate would do.  0, or -1 on a store error
 * or when memory runs out.
 */
int programme_explain(const struct config *cfg, struct store *st, const struct mail *m, size_t size,
                      time_t now, struct reading *r, struct programme_explain *out);

/*
 * Time-driven upkeep, in the caller's transaction: expire unconfirmed
 * requests (and erase members nobody confirmed), end pauses that are over.
 * Returns the number of changes, -1 on error.
 */
int programme_housekeeping(const struct config *cfg, struct store *st, time_t now);

#endif
