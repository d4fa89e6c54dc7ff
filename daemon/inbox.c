/*
 * inbox: one pass over the IMAP mailbox.
 *
 * The order of events for each message is what makes a crash harmless:
 *
 *   1. fetch (BODY.PEEK, the mailbox is not changed)
 *   2. BEGIN; decide; record the outcome and last UID; COMMIT
 *   3. move the message to the processed mailbox (or flag it)
 *
 * A crash before 2 commits leaves no trace and the message is fetched again.
 * A crash between 2 and 3 leaves a message in the inbox whose UID is at or
 * below the stored last UID: the next pass recognises it and only finishes
 * step 3.  After a UIDVALIDITY change the UIDs mean nothing, so every message
 * is looked at again and recognised by its hash or Message-ID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "inbox.h"
#include "log.h"
#include "mail.h"
#include "programme.h"

/* Keyword marking a message done when there is no processed mailbox. */
#define INBOX_DONE_KEYWORD "$MentordDone"
#define INBOX_FAILED_KEYWORD "$MentordFailed"

struct inbox_run {
    const struct config *cfg;
    struct store *st;
    struct imap *im;
    int dry_run;
    FILE *dry_out;
    uint32_t uidvalidity;
    uint32_t last_uid;
    struct inbox_stats *stats;
};

static int
inbox_move_mode(const struct config *cfg)
{
    return cfg->imap.processed_mailbox != NULL && cfg->imap.processed_mailbox[0] != '\0';
}

/* Step 3: take a committed message out of the way of the next search. */
static int
inbox_finish(struct inbox_run *r, uint32_t uid, int failed)
{
    if (failed && imap_keywords_allowed(r->im) &&
        imap_add_flag(r->im, uid, INBOX_FAILED_KEYWORD) != 0)
        goto fail;
    if (inbox_move_mode(r->cfg)) {
        if (imap_move(r->im, uid, r->cfg->imap.processed_mailbox) != 0)
            goto fail;
        return 0;
    }
    if (imap_add_flag(r->im, uid, "\\Seen") != 0)
        goto fail;
    if (imap_keywords_allowed(r->im) && imap_add_flag(r->im, uid, INBOX_DONE_KEYWORD) != 0)
        goto fail;
    return 0;
fail:
    log_error("IMAP: cannot move or flag UID %u after processing: %s", uid, imap_error(r->im));
    return -1;
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
    uint32_t last = uid > r->last_uid ? uid : r->last_uid;

    if (store_message_record(r->st, &rec, clock_now()) != 0 ||
        store_mailbox_set(r->st, r->cfg->imap.mailbox, r->uidvalidity, last) != 0)
        return -1;
    return 0;
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
 * Step 2: decide inside a transaction.  Returns 0 with the transaction
 * committed (or rolled back in a dry run), -1 after a rollback.
 */
static int
inbox_decide(struct inbox_run *r, uint32_t uid, const char *raw, size_t len, size_t size,
             const char *hash, char *why, size_t whylen)
{
    struct mail *m = NULL;
    char perr[256], detail[512] = "";
    const char *outcome = "ignored";
    char seen_outcome[32];
    struct programme_result res;

    memset(&res, 0, sizeof(res));
    /* Over [limits] max_message_size only the headers are read: the mail is answered, not read. */
    size_t parse_len = mail_parse_limit(raw, len, (size_t)r->cfg->limits.max_message_size);
    if (mail_parse(raw, parse_len, &m, perr, sizeof(perr)) != 0) {
        log_warn("UID %u: cannot parse message (%s); recorded, not answered", uid, perr);
        snprintf(detail, sizeof(detail), "unparseable: %s", perr);
        m = NULL;
    }
    if (store_begin(r->st) != 0)
        goto fail;
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
        if (programme_handle_mail(r->cfg, r->st, m, raw, len, size, clock_now(), &res) != 0) {
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
    if (r->dry_run) {
        inbox_print_queued(r, outbox_before);
        store_rollback(r->st);
    } else if (store_commit(r->st) != 0) {
        goto fail;
    } else if (res.checkpoint && store_checkpoint(r->st) != 0) {
        log_warn("store: checkpoint after an erasure: %s", store_errmsg(r->st));
    }
    log_ctx(LOG_LEVEL_INFO, m && !res.anonymous ? m->message_id : NULL,
            m && !res.anonymous ? m->from_addr : NULL, "UID %u %s%s%s", uid, outcome,
            detail[0] ? ": " : "", detail);
    mail_free(m);
    return 0;
fail:
    if (why[0] == '\0')
        snprintf(why, whylen, "store: %s", store_errmsg(r->st));
    store_rollback(r->st);
    mail_free(m);
    return -1;
}

/*
 * A message that cannot be processed is tried imap.max_attempts times (the
 * count survives restarts), then recorded as failed and set aside so that one
 * bad message never stalls the inbox.
 */
static int
inbox_failed(struct inbox_run *r, uint32_t uid, const char *hash, const char *why)
{
    struct store_message rec = {
        .mailbox = r->cfg->imap.mailbox,
        .uidvalidity = r->uidvalidity,
        .uid = uid,
        .hash = hash,
        .outcome = "retry",
        .detail = why,
    };
    int attempts = store_message_attempt(r->st, &rec, clock_now());

    r->stats->failed++;
    if (attempts < 0) {
        log_error("UID %u: %s; cannot count the attempt either: %s", uid, why,
                  store_errmsg(r->st));
        return -1;
    }
    if (attempts < r->cfg->imap.max_attempts) {
        log_error("UID %u: %s (attempt %d of %d)", uid, why, attempts, r->cfg->imap.max_attempts);
        return -1;
    }
    log_error("UID %u: %s; giving up after %d attempts, marked failed", uid, why, attempts);
    if (store_begin(r->st) != 0 || inbox_record(r, uid, NULL, hash, "failed", why) != 0 ||
        store_commit(r->st) != 0) {
        store_rollback(r->st);
        return -1;
    }
    r->last_uid = uid > r->last_uid ? uid : r->last_uid;
    return inbox_finish(r, uid, 1);
}

/* Fetch, decide and finish one new message.  -1 means: stop this pass. */
static int
inbox_message(struct inbox_run *r, uint32_t uid)
{
    char *raw = NULL, hash[65], why[1024] = "";
    size_t len = 0;

    /*
     * One byte more than the limit is fetched: a mail that fills it is too
     * large, and a 50 MB attachment never costs more memory than the limit.
     */
    uint32_t limit = (uint32_t)r->cfg->limits.max_message_size + 1;
    uint32_t size = 0;
    if (imap_fetch_partial(r->im, uid, limit, &raw, &len) != 0 ||
        (len >= limit && imap_fetch_size(r->im, uid, &size) != 0)) {
        log_error("IMAP: fetching UID %u: %s", uid, imap_error(r->im));
        free(raw);
        return -1;
    }
    if (len < limit)
        size = (uint32_t)len;
    mail_hash(raw, len, hash);
    int rc = inbox_decide(r, uid, raw, len, size, hash, why, sizeof(why));
    free(raw);
    if (rc != 0)
        return r->dry_run ? -1 : inbox_failed(r, uid, hash, why);
    r->stats->processed++;
    if (r->dry_run)
        return 0;
    r->last_uid = uid > r->last_uid ? uid : r->last_uid;
    return inbox_finish(r, uid, 0);
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
        if (imap_keywords_allowed(r->im))
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

int
inbox_pass(const struct config *cfg, struct store *st, struct imap *im, int dry_run, FILE *dry_out,
           volatile sig_atomic_t *stop, struct inbox_stats *stats)
{
    struct inbox_run r = {cfg, st, im, dry_run, dry_out, 0, 0, stats};
    uint32_t uidnext = 0, *uids = NULL;
    size_t n = 0;
    int rc = 0;

    memset(stats, 0, sizeof(*stats));
    if (imap_select(im, cfg->imap.mailbox, &r.uidvalidity, &uidnext) != 0) {
        log_error("IMAP: selecting %s: %s", cfg->imap.mailbox, imap_error(im));
        return -1;
    }
    if (inbox_check_uidvalidity(&r) != 0 || inbox_search(&r, &uids, &n) != 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0 && !(stop && *stop); i++) {
        if (uids[i] <= r.last_uid) {
            /* committed before a crash or a failed move: only finish it */
            if (!dry_run)
                rc = inbox_finish(&r, uids[i], 0);
            continue;
        }
        rc = inbox_message(&r, uids[i]);
    }
    free(uids);
    return rc;
}
