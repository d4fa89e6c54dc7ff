/*
 * inbox: one pass over the IMAP mailbox.
 *
 * New messages are handled in batches of up to [imap] batch_size (at most
 * INBOX_BATCH, and at most INBOX_BATCH_BYTES of fetched mail).  The order of
 * events for each batch is what makes a crash harmless:
 *
 *   1. fetch the batch in one UID FETCH (BODY.PEEK, the mailbox is not changed)
 *   2. mark it in flight (a commit of its own); BEGIN; for each message a
 *      SAVEPOINT: decide, record the outcome and the last UID, RELEASE (or
 *      ROLLBACK TO it when the message fails); COMMIT
 *   3. move the batch to the processed mailbox (or flag it) in one command
 *
 * The IMAP commands run on a thread of their own (inbox_io.h), so the steps
 * of neighbouring batches overlap: while batch k is in step 2, the IMAP
 * thread does step 3 of batch k-1 (asked for only once k-1's COMMIT
 * returned) and then step 1 of batch k+1.  None of this changes what a crash
 * leaves: k+1 is fetched and not yet marked (nothing of it happened), k is
 * marked and uncommitted (decided again, see the marks below), k-1 is
 * committed and still in the inbox (finished by the next pass, below).
 *
 * A crash before 2 commits leaves no trace: nothing of the batch was moved,
 * and nothing it queued was sent (the outbox is drained after the pass), so
 * the whole batch is simply fetched and decided again.  A crash between 2 and
 * 3 leaves messages in the inbox whose UID is at or below the stored last UID:
 * the next pass recognises them and only finishes step 3.  After a UIDVALIDITY
 * change the UIDs mean nothing, so every message is looked at again and
 * recognised by its hash or Message-ID.
 *
 * The batch commit stays synchronous = FULL (store.c): a commit stands for mail
 * that step 3 then takes out of the inbox, so a commit forgotten by a power
 * loss after the move would lose that mail's effects.  One fsync per batch
 * instead of one per message is where the speed comes from.
 *
 * A message that fails is rolled back to its savepoint alone: the messages
 * before it in the batch are committed and moved.  Its attempt is counted in
 * the same commit, the pass stops after it (the stored last UID never passes a
 * message still to be retried) and the daemon tries again after its backoff;
 * after imap.max_attempts it is recorded as failed (with its sender and
 * Message-ID) and set aside, and the managers are told, so one bad message
 * never stalls the inbox for long.  Only a failure that is the message's own
 * counts: when the database is busy, full or unwritable, or when setup_check
 * then finds the installation broken (a template missing, a folder
 * unreadable), no attempt is counted, the message stays in the inbox and the
 * pass ends; the caller backs off, or stops taking mail until the
 * installation is fixed.
 *
 * A message that kills the process never returns an error to count.  So
 * before it is decided the batch is marked in flight in a commit of its own
 * (store_inflight_begin); the batch's commit drops the marks.  Marks found
 * from a process that died mean the batch killed it: it is then decided one
 * message at a time, each marked alone, which pins the deaths on the one
 * message that causes them (a death with the whole batch is blamed on none);
 * after imap.max_attempts deaths with it decided alone, that message is set
 * aside unread (recorded failed, flagged, moved) and the others go on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "filecache.h"
#include "inbox.h"
#include "inbox_io.h"
#include "log.h"
#include "mail.h"
#include "outbox.h"
#include "programme.h"
#include "respond.h"
#include "setup.h"
#include "reader.h"
#include "reading.h"

/* Keyword marking a message done when there is no processed mailbox. */
#define INBOX_DONE_KEYWORD "$MentordDone"
#define INBOX_FAILED_KEYWORD "$MentordFailed"

struct inbox_finish;

struct inbox_run {
    const struct config *cfg;
    struct store *st;
    struct imap *im;             /* the IMAP thread's alone while io runs */
    struct inbox_io *io;         /* runs every IMAP command of the pass after the search */
    struct inbox_finish *finish; /* the step 3 asked for last (inbox_finish_later) */
    int keywords;                /* the mailbox takes keywords ($MentordDone, $MentordFailed) */
    int dry_run;
    FILE *dry_out;
    uint32_t uidvalidity;
    uint32_t last_uid;
    struct inbox_stats *stats;
    int erased; /* a member's data was erased in this batch: checkpoint after the commit */
    volatile sig_atomic_t *stop; /* SIGTERM: stop reading, keep what is committed */
    struct respond_kept kept;    /* senders' rows read for the readings asked for ahead */
};

/* inbox_decide: the reader was stopped by a signal; nothing is counted against the mail. */
#define INBOX_STOPPED (-3)

/*
 * Messages per batch: one UID FETCH, one transaction, one UID MOVE.  It also
 * bounds the work a crash makes us redo.  Dovecot's UID MOVE has a large
 * fixed cost per command: on the bench (bench/mail, breakdown), FETCH and
 * MOVE per 50 took 0.135 ms a mail, per 500 0.065 ms, and mentord's whole
 * ingest went from 2,700 to 4,200 mails/s.  Memory stays bounded by
 * INBOX_BATCH_BYTES, not by the count.  [imap] batch_size may make batches
 * smaller (tests use it to have many batches in flight with few mails).
 */
#define INBOX_BATCH 500
/*
 * Fetched bytes of one batch (a batch of large mails is split).  Two batches
 * are held at once, the one decided and the one fetched meanwhile: 2 x 4 MB,
 * what one batch of 8 MB held before the IMAP thread.
 */
#define INBOX_BATCH_BYTES (4u << 20)

static int
inbox_move_mode(const struct config *cfg)
{
    return cfg->imap.processed_mailbox != NULL && cfg->imap.processed_mailbox[0] != '\0';
}

/*
 * Step 3 for committed messages, as one job of the IMAP thread: the given-up
 * ones flagged failed first, then every one moved to the processed mailbox
 * (or flagged done) in one command.  The job keeps its own copy of the UIDs:
 * the daemon's thread goes on to the next batch while it runs.
 */
struct inbox_finish {
    const struct config *cfg;
    int keywords; /* the mailbox takes keywords (read once, before the thread started) */
    uint32_t uids[INBOX_BATCH];
    size_t n;
    size_t nfailed; /* uids[0..nfailed) were given up on */
    struct inbox_io_job job;
    int pending; /* submitted, not yet waited for */
};

static int
inbox_finish_io(struct imap *im, void *arg)
{
    struct inbox_finish *f = arg;

    if (f->nfailed > 0 && f->keywords &&
        imap_add_flag_many(im, f->uids, f->nfailed, INBOX_FAILED_KEYWORD) != 0)
        return -1;
    if (inbox_move_mode(f->cfg))
        return imap_move_many(im, f->uids, f->n, f->cfg->imap.processed_mailbox);
    if (imap_add_flag_many(im, f->uids, f->n, "\\Seen") != 0)
        return -1;
    if (f->keywords && imap_add_flag_many(im, f->uids, f->n, INBOX_DONE_KEYWORD) != 0)
        return -1;
    return 0;
}

/* Wait for the step 3 asked for last; -1 (logged) when it failed: the pass stops there. */
static int
inbox_finish_settle(struct inbox_run *r)
{
    struct inbox_finish *f = r->finish;

    if (!f->pending)
        return 0;
    f->pending = 0;
    if (inbox_io_wait(r->io, &f->job) == 0)
        return 0;
    /* Committed, so the next pass finds them at or below the last UID and only finishes them. */
    log_error("IMAP: cannot move or flag UID %u%s after processing: %s", f->uids[0],
              f->n > 1 ? " and the rest of its batch" : "", f->job.err);
    return -1;
}

/*
 * Ask the IMAP thread for step 3 of failed[0..nfailed) and done[0..ndone),
 * whose effects are committed, without waiting for it: it runs while the
 * next batch is decided.  The step 3 asked for before is waited for first.
 */
static int
inbox_finish_later(struct inbox_run *r, const uint32_t *failed, size_t nfailed,
                   const uint32_t *done, size_t ndone)
{
    struct inbox_finish *f = r->finish;

    if (inbox_finish_settle(r) != 0)
        return -1;
    if (nfailed + ndone == 0)
        return 0;
    memcpy(f->uids, failed, nfailed * sizeof(*failed));
    memcpy(f->uids + nfailed, done, ndone * sizeof(*done));
    f->nfailed = nfailed;
    f->n = nfailed + ndone;
    f->pending = 1;
    inbox_io_submit(r->io, &f->job, inbox_finish_io, f);
    return 0;
}

static int
inbox_record(struct inbox_run *r, uint32_t uid, const struct mail *m, const char *hash,
             const char *outcome, const char *detail)
{
    struct store_message rec = {
        .mailbox = r->cfg->imap.mailbox,
        .uidvalidity = r->uidvalidity,
        .uid = uid,
        .message_id = m ? m->message_id : NULL,
        .hash = hash,
        .sender = m ? m->from_addr : NULL,
        .outcome = outcome,
        .detail = detail,
    };
    /* The mailbox's last UID is stored once a batch, in its transaction (inbox_batch_held). */
    return store_message_record(r->st, &rec, clock_now()) != 0 ? -1 : 0;
}

static int
inbox_max_id(const struct store_outbox *o, void *arg)
{
    int64_t *max = arg;

    if (o->id > *max)
        *max = o->id;
    return 0;
}

struct inbox_dry {
    FILE *out;
    int64_t after;
};

static int
inbox_print_one(const struct store_outbox *o, void *arg)
{
    struct inbox_dry *d = arg;

    if (o->id <= d->after)
        return 0;
    fprintf(d->out, "----- mentord --dry-run: message to <%s> -----\n%s\r\n%s", o->recipient,
            o->headers, o->body);
    return 0;
}

/* --dry-run: show what this message would send, before the rollback forgets it. */
static void
inbox_print_queued(struct inbox_run *r, int64_t after)
{
    struct inbox_dry d = {r->dry_out, after};

    if (store_outbox_each(r->st, "queued", inbox_print_one, &d) != 0)
        log_error("store: listing the outbox: %s", store_errmsg(r->st));
    fflush(r->dry_out);
}

/*
 * The decision inside the batch's transaction, under a savepoint of its own.
 * Returns 0 with the savepoint released, -1 after rolling back to it (why says
 * what failed), -2 when the whole transaction is gone (SQLite rolled it back
 * by itself, e.g. on a full disk): then nothing of the batch can be committed.
 */
/* Who sent a message that failed: kept with its record, so it can be found and retried. */
struct inbox_who {
    char message_id[512];
    char sender[320];
};

static void
inbox_who_set(struct inbox_who *who, const struct mail *m)
{
    snprintf(who->message_id, sizeof(who->message_id), "%s",
             m && m->message_id ? m->message_id : "");
    snprintf(who->sender, sizeof(who->sender), "%s", m && m->from_addr ? m->from_addr : "");
}

/* A message's real size: the server's RFC822.SIZE when only a head of it was fetched. */
static size_t
inbox_size(const struct imap_message *msg, uint32_t limit)
{
    return msg->len < limit && msg->size < limit ? msg->len
           : msg->size > msg->len                ? msg->size
                                                 : msg->len;
}

/*
 * What of a message is parsed: over [limits] max_message_size (size is the
 * server's, the fetched head may be shorter) only the headers: such a mail
 * is answered, not read.
 */
static size_t
inbox_parse_len(const struct inbox_run *r, const struct imap_message *msg, size_t size)
{
    size_t max = (size_t)r->cfg->limits.max_message_size;
    return mail_parse_limit(msg->data, msg->len, size > max ? 0 : max);
}

/* The reading of the mail the reader parsed last, in the reader (programme_reader). */
struct inbox_reading {
    struct inbox_run *run;
    size_t size;
    enum reader_status status;
    char err[256];
};

/*
 * Name the batch's next messages, whose parses go ahead (reader_parse_next):
 * only at a turn when something may go ahead (inbox_ahead), not at every
 * mail's reading as before, when the names were not used every other mail.
 */
static void
inbox_name_next(const struct inbox_run *r, const struct imap_message *next, size_t nnext,
                uint32_t limit)
{
    for (size_t i = 0; i < nnext && i < READER_AHEAD && next[i].found; i++)
        reader_parse_next(next[i].data, next[i].len,
                          inbox_parse_len(r, &next[i], inbox_size(&next[i], limit)),
                          r->cfg->community.address, r->cfg->limits.reader_timeout);
}

static int
inbox_read(void *arg, const struct reading_context *ctx, struct reading *out)
{
    struct inbox_reading *ir = arg;
    const struct inbox_run *r = ir->run;

    ir->status = reader_read(r->cfg, ir->size, ctx, out, ir->err, sizeof(ir->err), r->stop);
    return ir->status == READER_OK ? 0 : -1;
}

/*
 * The readings of the two mails after the next (READER_READS_SKIP), asked
 * for ahead with their senders' contexts as they stand now, before this
 * mail is acted on (reader_read_next): the reader reads them while this one
 * and the next are stored, and each is used if the mails before it changed
 * nothing of its context.  Only when their parses already came back; not
 * while the reader still has a later mail's reading (reader_reads_ahead),
 * so that what goes ahead goes every other mail and the reader is woken at
 * most once for two.  They go at once, with the next mails' parses
 * (reader_send_next), not with this mail's reading request a moment later.
 */
static void
inbox_ahead(struct inbox_run *r, const struct imap_message *next, size_t nnext, uint32_t limit)
{
    const struct mail *m;
    struct reading_context ctx;

    if (reader_reads_ahead())
        return;
    inbox_name_next(r, next, nnext, limit);
    for (size_t j = READER_READS_SKIP;
         j < nnext && j < READER_READS_SKIP + READER_READS_AHEAD && next[j].found; j++) {
        size_t size = inbox_size(&next[j], limit);
        if (reader_parse_early(next[j].data, next[j].len, inbox_parse_len(r, &next[j], size),
                               r->cfg->community.address, &m) != 1 ||
            programme_read_context(r->cfg, r->st, m, size, clock_now(), &ctx, &r->kept) != 0)
            break;
        reader_read_next(r->cfg, size, &ctx);
    }
    reader_send_next(r->stop);
}

static int
inbox_decide(struct inbox_run *r, const struct imap_message *msg, size_t size, const char *hash,
             const struct imap_message *next, size_t nnext, uint32_t limit, struct inbox_who *who,
             char *why, size_t whylen)
{
    struct mail *m = NULL;
    char perr[256], detail[512] = "";
    const char *outcome = "ignored";
    char seen_outcome[32];
    struct programme_result res;
    uint32_t uid = msg->uid;

    memset(&res, 0, sizeof(res));
    inbox_who_set(who, NULL); /* a mail the reader cannot read names nobody */
    size_t parse_len = inbox_parse_len(r, msg, size);
    /* Read in the isolated reader (reader.h): a mail that crashes or hangs it is retried. */
    enum reader_status rs =
        reader_parse(msg->data, msg->len, parse_len, r->cfg->community.address,
                     r->cfg->limits.reader_timeout, &m, perr, sizeof(perr), r->stop);
    if (rs == READER_STOPPED) {
        snprintf(why, whylen, "%s", perr);
        return INBOX_STOPPED;
    }
    if (rs != READER_OK && rs != READER_UNPARSEABLE) {
        snprintf(why, whylen, "cannot read it (%s): %s", reader_status_name(rs), perr);
        return -1; /* before the savepoint: nothing to roll back */
    }
    if (rs == READER_UNPARSEABLE) {
        log_warn("UID %u: cannot parse message (%s); recorded, not answered", uid, perr);
        snprintf(detail, sizeof(detail), "unparseable: %s", perr);
        m = NULL;
    }
    inbox_who_set(who, m);
    if (m != NULL)
        inbox_ahead(r, next, nnext, limit);
    if (store_savepoint(r->st) != 0) {
        snprintf(why, whylen, "store: %s", store_errmsg(r->st));
        mail_free(m);
        return store_in_transaction(r->st) ? -1 : -2;
    }
    int64_t outbox_before = 0;
    if (r->dry_run && store_outbox_each(r->st, NULL, inbox_max_id, &outbox_before) != 0)
        goto fail;
    int seen = store_message_seen(r->st, m ? m->message_id : NULL, hash, seen_outcome,
                                  sizeof(seen_outcome));
    if (seen < 0)
        goto fail;
    if (seen) {
        outcome = "duplicate";
        snprintf(detail, sizeof(detail), "already processed (%s)", seen_outcome);
        log_ctx(LOG_LEVEL_INFO, m ? m->message_id : NULL, m ? m->from_addr : NULL,
                "UID %u already processed, not acted on again", uid);
        r->stats->skipped++;
    } else if (m != NULL) {
        struct inbox_reading ir = {r, size, READER_OK, ""};
        struct programme_reader reader = {inbox_read, &ir, &r->kept};
        if (programme_handle_read(r->cfg, r->st, m, msg->data, msg->len, size, clock_now(), &reader,
                                  &res) != 0) {
            if (ir.status == READER_STOPPED) {
                /* SIGTERM while reading: nothing decided, nothing counted against the mail */
                snprintf(why, whylen, "%s", ir.err);
                mail_free(m);
                return store_rollback_to(r->st) == 0 ? INBOX_STOPPED : -2;
            }
            if (ir.status != READER_OK)
                snprintf(why, whylen, "cannot read it (%s): %s", reader_status_name(ir.status),
                         ir.err);
            else
                snprintf(why, whylen, "processing failed: %s",
                         res.detail[0] ? res.detail : store_errmsg(r->st));
            goto fail;
        }
        outcome = res.outcome;
        snprintf(detail, sizeof(detail), "%s", res.detail);
    }
    /* A member who just left is not kept in the record of their own last mail. */
    if (inbox_record(r, uid, res.anonymous ? NULL : m, hash, outcome, detail) != 0)
        goto fail;
    if (r->dry_run)
        inbox_print_queued(r, outbox_before);
    if (store_release(r->st) != 0)
        goto fail;
    if (res.checkpoint)
        r->erased = 1;
    log_ctx(LOG_LEVEL_INFO, m && !res.anonymous ? m->message_id : NULL,
            m && !res.anonymous ? m->from_addr : NULL, "UID %u %s%s%s", uid, outcome,
            detail[0] ? ": " : "", detail);
    mail_free(m);
    return 0;
fail:
    if (why[0] == '\0')
        snprintf(why, whylen, "store: %s", store_errmsg(r->st));
    mail_free(m);
    return store_rollback_to(r->st) == 0 ? -1 : -2;
}

/*
 * The managers hear of every message set aside, with what identifies it, so
 * that someone fixes the cause and puts it back (mentorctl retry).  Queued
 * in the batch's transaction; a notice that cannot be queued is only logged.
 */
static void
inbox_tell_set_aside(struct inbox_run *r, uint32_t uid, const char *sender, const char *message_id,
                     const char *why)
{
    char *body = NULL, err[256];

    if (asprintf(&body,
                 "A mail to %s could not be processed and was set aside:\n"
                 "\n"
                 "    From:       %s\n"
                 "    Message-ID: %s\n"
                 "    UID:        %u in %s\n"
                 "    Reason:     %s\n"
                 "\n"
                 "It is kept in the processed mailbox, flagged $MentordFailed, and was not\n"
                 "answered.  Once the cause is fixed, `mentorctl retry` lists the mail set\n"
                 "aside and `mentorctl retry all` puts it back in the inbox.\n",
                 r->cfg->community.address, sender ? sender : "(unknown)",
                 message_id ? message_id : "(unknown)", uid, r->cfg->imap.mailbox, why) < 0)
        return;
    if (outbox_notice_managers(r->cfg, r->st, "mentord set a mail aside", body, clock_now(), err,
                               sizeof(err)) != 0)
        log_warn("UID %u: cannot tell the managers it was set aside: %s", uid, err);
    free(body);
}

/*
 * A message that cannot be processed is tried imap.max_attempts times (the
 * count is committed with the batch, so it survives restarts), then recorded
 * as failed.  Returns 1 when it was given up (to be set aside with the
 * batch), 0 when it is to be retried, -1 on a store error.
 */
static int
inbox_attempt(struct inbox_run *r, uint32_t uid, const char *hash, const struct inbox_who *who,
              const char *why)
{
    struct store_message rec = {
        .mailbox = r->cfg->imap.mailbox,
        .uidvalidity = r->uidvalidity,
        .uid = uid,
        .message_id = who->message_id[0] ? who->message_id : NULL,
        .hash = hash,
        .sender = who->sender[0] ? who->sender : NULL,
        .outcome = "retry",
        .detail = why,
    };
    int attempts = store_message_attempt(r->st, &rec, clock_now());

    r->stats->failed++;
    if (attempts < 0) {
        log_error("UID %u: %s; cannot count the attempt either: %s", uid, why, store_errmsg(r->st));
        return -1;
    }
    if (attempts < r->cfg->imap.max_attempts) {
        log_error("UID %u: %s (attempt %d of %d)", uid, why, attempts, r->cfg->imap.max_attempts);
        return 0;
    }
    log_ctx(LOG_LEVEL_ERROR, rec.message_id, rec.sender,
            "UID %u: %s; giving up after %d attempts, marked failed (mentorctl retry puts it back)",
            uid, why, attempts);
    rec.outcome = "failed";
    if (store_message_record(r->st, &rec, clock_now()) != 0) {
        log_error("UID %u: recording it as failed: %s", uid, store_errmsg(r->st));
        return -1;
    }
    inbox_tell_set_aside(r, uid, rec.sender, rec.message_id, why);
    return 1;
}

/* The outcome of deciding a batch inside its transaction. */
struct inbox_batch_state {
    uint32_t done[INBOX_BATCH]; /* committed: move or flag */
    size_t ndone;
    uint32_t failed[INBOX_BATCH]; /* given up: flag failed, then move */
    size_t nfailed;
    uint32_t last_uid; /* the stored last UID once committed */
    int processed;
    int stop; /* a message to retry or to refetch: commit what came before, end the pass */
};

/* Decide one fetched message of the batch; -1 means the transaction cannot be committed. */
static int
inbox_batch_one(struct inbox_run *r, const struct imap_message *msg,
                const struct imap_message *next, size_t nnext, uint32_t limit,
                struct inbox_batch_state *b)
{
    char hash[65], why[1024] = "";
    struct inbox_who who;

    if (!msg->found) {
        /* Expunged by someone else meanwhile, or a short answer: never step over it. */
        log_error("IMAP: fetching UID %u: the server returned no message for it", msg->uid);
        b->stop = 1;
        return 0;
    }
    size_t size = inbox_size(msg, limit);
    mail_hash(msg->data, msg->len, hash);
    int rc = inbox_decide(r, msg, size, hash, next, nnext, limit, &who, why, sizeof(why));
    if (rc == INBOX_STOPPED) {
        log_info("UID %u: %s; left for the next start", msg->uid, why);
        b->stop = 1;
        return 0;
    }
    if (rc == -2) {
        log_error("UID %u: %s; the batch's transaction is gone, the batch will be redone", msg->uid,
                  why);
        return -1;
    }
    if (rc == 0) {
        b->done[b->ndone++] = msg->uid;
        b->processed++;
    } else if (r->dry_run) {
        log_error("UID %u: %s", msg->uid, why);
        return -1;
    } else if (store_error_is_environment(r->st)) {
        /* Busy, full, unwritable: the database's trouble, not the message's; no attempt counted. */
        log_ctx(LOG_LEVEL_ERROR, who.message_id, who.sender,
                "UID %u: %s; left in the inbox, tried again after a pause", msg->uid, why);
        b->stop = 1;
        return 0;
    } else if (setup_check(r->cfg, NULL, r->stats->problem, sizeof(r->stats->problem)) != 0) {
        /* The installation's fault, not the mail's: no attempt counted, it stays in the inbox. */
        log_ctx(LOG_LEVEL_ERROR, who.message_id, who.sender,
                "UID %u: %s; installation problem (%s): left in the inbox", msg->uid, why,
                r->stats->problem);
        r->stats->setup = 1;
        b->stop = 1;
        return 0;
    } else {
        int given_up = inbox_attempt(r, msg->uid, hash, &who, why);
        if (given_up < 0)
            return -1;
        if (given_up == 0) {
            b->stop = 1;
            return 0;
        }
        b->failed[b->nfailed++] = msg->uid;
    }
    b->last_uid = msg->uid > b->last_uid ? msg->uid : b->last_uid;
    return 0;
}

/* Step 3 for the committed batch, asked of the IMAP thread (inbox_finish_later). */
static int
inbox_batch_finish(struct inbox_run *r, const struct inbox_batch_state *b)
{
    return inbox_finish_later(r, b->failed, b->nfailed, b->done, b->ndone);
}

/*
 * A failure we handled is not a death: drop the batch's marks (best effort:
 * when the store itself is failing this fails too, and the marks stay with
 * this process's session, which counts nothing).
 */
static void
inbox_unmark(struct inbox_run *r, const struct imap_message *msgs, size_t n)
{
    if (r->dry_run)
        return;
    if (store_inflight_end(r->st, r->cfg->imap.mailbox, r->uidvalidity, msgs[0].uid,
                           msgs[n - 1].uid) != 0)
        log_debug("store: dropping the in-flight marks of UID %u: %s", msgs[0].uid,
                  store_errmsg(r->st));
}

/*
 * Steps 2 and 3 for fetched messages msgs[0..n).  Returns 0 when all were
 * handled, -1 when the pass should stop (an error, or a message to retry;
 * what came before it is committed and moved).
 */
static int
inbox_batch_held(struct inbox_run *r, const struct imap_message *msgs, size_t n, uint32_t limit)
{
    struct inbox_batch_state b;

    memset(&b, 0, sizeof(b));
    b.last_uid = r->last_uid;
    r->erased = 0;
    if (store_begin(r->st) != 0) {
        log_error("store: starting the transaction for UID %u: %s", msgs[0].uid,
                  store_errmsg(r->st));
        inbox_unmark(r, msgs, n);
        return -1;
    }
    for (size_t i = 0; i < n && !b.stop; i++) {
        if (inbox_batch_one(r, &msgs[i], &msgs[i + 1], n - i - 1, limit, &b) != 0) {
            store_rollback(r->st);
            inbox_unmark(r, msgs, n);
            return -1;
        }
    }
    if (r->dry_run) {
        store_rollback(r->st);
        r->stats->processed += b.processed;
        return b.stop ? -1 : 0;
    }
    /* r->last_uid is the stored one until the commit: it moves with it, or not at all. */
    if ((b.last_uid != r->last_uid &&
         store_mailbox_set(r->st, r->cfg->imap.mailbox, r->uidvalidity, b.last_uid) != 0) ||
        store_inflight_end(r->st, r->cfg->imap.mailbox, r->uidvalidity, msgs[0].uid,
                           msgs[n - 1].uid) != 0 ||
        store_commit(r->st) != 0) {
        log_error("store: committing UID %u and the rest of its batch: %s", msgs[0].uid,
                  store_errmsg(r->st));
        store_rollback(r->st);
        inbox_unmark(r, msgs, n);
        return -1;
    }
    r->last_uid = b.last_uid;
    r->stats->processed += b.processed;
    /* Erased data must not linger in the WAL either. */
    if (r->erased && store_checkpoint(r->st) != 0)
        log_warn("store: checkpoint after an erasure: %s", store_errmsg(r->st));
    if (inbox_batch_finish(r, &b) != 0)
        return -1;
    return b.stop ? -1 : 0;
}

/*
 * The batch's info lines are written in blocks (log_hold): each write wakes
 * the log's reader, and a mail has two such lines.  The mail texts are
 * looked at once a batch (filecache_hold), not once a mail: two stat(2) a
 * mail for files that change once a year; an edited text is seen from the
 * next batch on.
 */
static int
inbox_batch(struct inbox_run *r, const struct imap_message *msgs, size_t n, uint32_t limit)
{
    log_hold(1);
    filecache_hold(1);
    int rc = inbox_batch_held(r, msgs, n, limit);
    filecache_hold(0);
    log_hold(0);
    return rc;
}

/* Mark msgs[0..n) in flight; *deaths: how many processes died while they were. */
static int
inbox_mark(struct inbox_run *r, const struct imap_message *msgs, size_t n, int *deaths)
{
    uint32_t uids[INBOX_BATCH];

    *deaths = 0;
    if (r->dry_run || n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        uids[i] = msgs[i].uid;
    if (store_inflight_begin(r->st, r->cfg->imap.mailbox, r->uidvalidity, uids, n, deaths) != 0) {
        log_error("store: UID %u%s: %s", uids[0], n > 1 ? " and the rest of its batch" : "",
                  store_errmsg(r->st));
        return -1;
    }
    return 0;
}

/*
 * The process died deciding this message imap.max_attempts times: record it
 * as failed without fetching it again, then flag and move it like any other
 * message given up on.
 */
static int
inbox_set_aside(struct inbox_run *r, uint32_t uid, int deaths)
{
    char why[128];

    snprintf(why, sizeof why, "mentord stopped %d times while deciding it; set aside unread",
             deaths);
    log_error("UID %u: %s", uid, why);
    if (store_begin(r->st) != 0)
        goto fail;
    uint32_t before = r->last_uid;
    int recorded = inbox_record(r, uid, NULL, NULL, "failed", why);
    if (recorded == 0)
        inbox_tell_set_aside(r, uid, NULL, NULL, why);
    if (recorded != 0 ||
        store_inflight_end(r->st, r->cfg->imap.mailbox, r->uidvalidity, uid, uid) != 0 ||
        store_commit(r->st) != 0) {
        store_rollback(r->st);
        r->last_uid = before;
        goto fail;
    }
    r->last_uid = uid > r->last_uid ? uid : r->last_uid;
    r->stats->failed++;
    return inbox_finish_later(r, &uid, 1, NULL, 0);
fail:
    log_error("store: recording UID %u as failed: %s", uid, store_errmsg(r->st));
    return -1;
}

/*
 * A batch that was in flight when a process died: decide it one message at a
 * time, each marked alone, so the next death is pinned on one message.
 */
static int
inbox_one_by_one(struct inbox_run *r, struct imap_message *msgs, size_t n, uint32_t limit,
                 int deaths)
{
    log_warn("UID %u%s: mentord stopped %d time%s while deciding %s; deciding one at a time",
             msgs[0].uid, n > 1 ? " and the rest of its batch" : "", deaths, deaths == 1 ? "" : "s",
             n > 1 ? "them" : "it");
    for (size_t k = 0; k < n; k++) {
        int mine = 0;
        if (inbox_mark(r, &msgs[k], 1, &mine) != 0)
            return -1;
        int rc = mine >= r->cfg->imap.max_attempts ? inbox_set_aside(r, msgs[k].uid, mine)
                                                   : inbox_batch(r, &msgs[k], 1, limit);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/*
 * Step 1 for the next batch, as one job of the IMAP thread: the sizes of up
 * to INBOX_BATCH new UIDs, with the whole of each one under IMAP_SMALL_HEAD
 * in the same FETCH, then the bodies of the others of as many of them as fit
 * in INBOX_BATCH_BYTES (at least one).  One byte more than the limit is
 * fetched (a mail that fills it is too large, if its size was reported
 * short), and of a mail the server sizes over the limit only its head
 * (IMAP_OVER_HEAD): a 50 MB attachment costs that much memory, not the
 * limit (imap_fetch_bytes).  BODY.PEEK changes nothing in the
 * mailbox, so a batch fetched and then dropped (the pass stopped, the
 * process died) leaves no trace.
 */
struct inbox_fetch {
    struct imap_message msgs[INBOX_BATCH];
    size_t n;   /* UIDs asked for */
    size_t got; /* msgs[0..got) fetched: the batch */
    uint32_t limit;
    struct inbox_io_job job;
};

static int
inbox_fetch_io(struct imap *im, void *arg)
{
    struct inbox_fetch *f = arg;
    size_t j = 0, bytes = 0;

    f->got = 0;
    if (imap_fetch_sizes_heads(im, f->msgs, f->n, IMAP_SMALL_HEAD, f->limit) != 0)
        return -1;
    while (j < f->n) {
        size_t size = imap_fetch_bytes(f->msgs[j].size, f->limit);
        if (j > 0 && bytes + size > INBOX_BATCH_BYTES)
            break;
        bytes += size;
        j++;
    }
    f->got = j;
    /* The rest is the next batch's, fetched again then. */
    imap_messages_clear(f->msgs + j, f->n - j);
    return imap_fetch_bodies(im, f->msgs, j, f->limit);
}

/* Ask the IMAP thread for the batch that starts at uids[0] (n left). */
static void
inbox_fetch_later(struct inbox_run *r, struct inbox_fetch *f, const uint32_t *uids, size_t n)
{
    memset(f->msgs, 0, sizeof(f->msgs));
    size_t most = r->cfg->imap.batch_size > 0 && r->cfg->imap.batch_size < INBOX_BATCH
                      ? (size_t)r->cfg->imap.batch_size
                      : INBOX_BATCH;
    f->n = n < most ? n : most;
    for (size_t i = 0; i < f->n; i++)
        f->msgs[i].uid = uids[i];
    f->limit = (uint32_t)r->cfg->limits.max_message_size + 1;
    inbox_io_submit(r->io, &f->job, inbox_fetch_io, f);
}

/* Wait for a batch asked for; -1 (logged, bodies freed) when the fetch failed. */
static int
inbox_fetch_wait(struct inbox_run *r, struct inbox_fetch *f)
{
    if (inbox_io_wait(r->io, &f->job) == 0)
        return 0;
    log_error("IMAP: fetching UID %u%s: %s", f->msgs[0].uid,
              f->n > 1 ? " and the rest of its batch" : "", f->job.err);
    imap_messages_clear(f->msgs, f->n);
    return -1;
}

/* Steps 2 and 3 for a fetched batch: marked in flight, decided, committed, its move asked for. */
static int
inbox_handle(struct inbox_run *r, struct inbox_fetch *f)
{
    int deaths = 0;

    if (inbox_mark(r, f->msgs, f->got, &deaths) != 0)
        return -1;
    return deaths > 0 ? inbox_one_by_one(r, f->msgs, f->got, f->limit, deaths)
                      : inbox_batch(r, f->msgs, f->got, f->limit);
}

/*
 * The new UIDs, batch after batch, overlapped: while the daemon's thread
 * decides batch k, the IMAP thread moves batch k-1 (asked for once k-1's
 * commit returned, inbox_batch_finish) and then fetches batch k+1.  A crash
 * anywhere in this is one of the cases at the top of this file: k+1 is not
 * marked yet and nothing of it was decided; k is marked and uncommitted;
 * k-1 is committed and left in the inbox at or below the last UID.
 */
static int
inbox_new(struct inbox_run *r, const uint32_t *uids, size_t n)
{
    struct inbox_fetch *slot = calloc(2, sizeof(*slot));
    struct inbox_fetch *cur = slot, *next = slot + 1;
    size_t pos = 0;
    int rc = 0;

    if (slot == NULL) {
        log_error("inbox: out of memory for a batch of UID %u", uids[0]);
        return -1;
    }
    inbox_fetch_later(r, cur, uids, n);
    while (cur != NULL) {
        if (inbox_fetch_wait(r, cur) != 0) {
            rc = -1;
            break;
        }
        pos += cur->got;
        int more = pos < n && !(r->stop && *r->stop);
        if (more)
            inbox_fetch_later(r, next, uids + pos, n - pos);
        rc = inbox_handle(r, cur);
        imap_messages_clear(cur->msgs, cur->got);
        if (rc != 0 || (r->stop && *r->stop)) {
            /* Fetched and never marked: nothing to undo but the memory (also of a failed fetch). */
            if (more) {
                (void)inbox_io_wait(r->io, &next->job);
                imap_messages_clear(next->msgs, next->n);
            }
            break;
        }
        struct inbox_fetch *t = cur;
        cur = more ? next : NULL;
        next = t;
    }
    free(slot);
    return rc;
}

/*
 * Leftovers: UIDs at or below the last UID that are committed already (a
 * crash or a failed move between commit and step 3; not those mentorctl
 * retry put back).  Split out of uids[0..n) into left[], the rest into
 * fresh[]; both sized n by the caller.
 */
static int
inbox_split(struct inbox_run *r, const uint32_t *uids, size_t n, uint32_t *left, size_t *nleft,
            uint32_t *fresh, size_t *nfresh)
{
    *nleft = *nfresh = 0;
    for (size_t i = 0; i < n; i++) {
        int done = uids[i] <= r->last_uid ? store_message_uid_done(r->st, r->cfg->imap.mailbox,
                                                                   r->uidvalidity, uids[i])
                                          : 0;
        if (done < 0) {
            log_error("store: UID %u: %s", uids[i], store_errmsg(r->st));
            return -1;
        }
        if (done)
            left[(*nleft)++] = uids[i];
        else
            fresh[(*nfresh)++] = uids[i];
    }
    return 0;
}

/* The searched UIDs with the IMAP thread running: leftovers finished, then the new ones. */
static int
inbox_run_uids(struct inbox_run *r, const uint32_t *uids, size_t n)
{
    uint32_t *left = malloc(n * sizeof(*left)), *fresh = malloc(n * sizeof(*fresh));
    size_t nleft = 0, nfresh = 0;
    int rc = -1;

    if (left == NULL || fresh == NULL) {
        log_error("inbox: out of memory for %zu UIDs", n);
        goto out;
    }
    if (inbox_split(r, uids, n, left, &nleft, fresh, &nfresh) != 0)
        goto out;
    rc = 0;
    for (size_t i = 0; i < nleft && rc == 0 && !r->dry_run; i += INBOX_BATCH)
        rc = inbox_finish_later(r, NULL, 0, left + i,
                                nleft - i < INBOX_BATCH ? nleft - i : INBOX_BATCH);
    if (rc == 0 && nfresh > 0)
        rc = inbox_new(r, fresh, nfresh);
out:
    free(left);
    free(fresh);
    return rc;
}

static int
inbox_check_uidvalidity(struct inbox_run *r)
{
    uint32_t stored_validity = 0;

    if (store_mailbox_get(r->st, r->cfg->imap.mailbox, &stored_validity, &r->last_uid) != 0) {
        log_error("store: reading mailbox progress: %s", store_errmsg(r->st));
        return -1;
    }
    if (stored_validity != 0 && stored_validity != r->uidvalidity) {
        log_warn("IMAP: UIDVALIDITY of %s changed from %u to %u; rescanning, processed mail is "
                 "recognised by hash and Message-ID",
                 r->cfg->imap.mailbox, stored_validity, r->uidvalidity);
        r->last_uid = 0;
    }
    return 0;
}

/*
 * Which UIDs to look at.  Normally every undeleted message still in the inbox
 * (processed ones have been moved or flagged away), so leftovers from a crash
 * between commit and move are seen.  Without a processed mailbox and without
 * keyword support there is no mark to search on, and only UIDs above the
 * last processed one are new.
 */
static int
inbox_search(struct inbox_run *r, uint32_t **uids, size_t *n)
{
    const char *without = NULL;
    uint32_t first = 1;

    if (!inbox_move_mode(r->cfg)) {
        if (r->keywords)
            without = INBOX_DONE_KEYWORD;
        else
            first = r->last_uid + 1;
    }
    if (imap_search(r->im, first, 0, without, uids, n) != 0) {
        log_error("IMAP: searching %s: %s", r->cfg->imap.mailbox, imap_error(r->im));
        return -1;
    }
    return 0;
}

/* Start the IMAP thread, run the UIDs through it, and wait for every step 3 asked for. */
static int
inbox_overlapped(struct inbox_run *r, const uint32_t *uids, size_t n)
{
    struct inbox_finish *finish = calloc(1, sizeof(*finish));
    char err[256];
    int rc;

    if (finish == NULL) {
        log_error("inbox: out of memory");
        return -1;
    }
    finish->cfg = r->cfg;
    finish->keywords = r->keywords;
    r->finish = finish;
    if (inbox_io_start(&r->io, r->im, err, sizeof(err)) != 0) {
        log_error("inbox: %s", err);
        free(finish);
        return -1;
    }
    rc = inbox_run_uids(r, uids, n);
    /* The last batch's move, so the mailbox is as committed when the pass returns. */
    if (inbox_finish_settle(r) != 0)
        rc = -1;
    inbox_io_stop(r->io);
    r->io = NULL;
    r->finish = NULL;
    free(finish);
    return rc;
}

int
inbox_pass(const struct config *cfg, struct store *st, struct imap *im, int dry_run, FILE *dry_out,
           volatile sig_atomic_t *stop, struct inbox_stats *stats)
{
    struct inbox_run r;
    uint32_t uidnext = 0, *uids = NULL;
    size_t n = 0;
    int rc = 0;

    memset(&r, 0, sizeof(r));
    r.cfg = cfg;
    r.st = st;
    r.im = im;
    r.dry_run = dry_run;
    r.dry_out = dry_out;
    r.stats = stats;
    r.stop = stop;
    memset(stats, 0, sizeof(*stats));
    if (imap_select(im, cfg->imap.mailbox, &r.uidvalidity, &uidnext) != 0) {
        log_error("IMAP: selecting %s: %s", cfg->imap.mailbox, imap_error(im));
        return -1;
    }
    r.keywords = imap_keywords_allowed(im);
    if (inbox_check_uidvalidity(&r) != 0 || inbox_search(&r, &uids, &n) != 0)
        return -1;
    if (n > 0 && !(stop && *stop))
        rc = inbox_overlapped(&r, uids, n);
    respond_kept_free(&r.kept);
    free(uids);
    /* The batch's FETCH answer sized libetpan's buffers; an idle daemon gives them back. */
    if (n > 0)
        imap_release_memory(im);
    return rc;
}
