/*
 * inbox: one pass over the IMAP mailbox.
 *
 * New UIDs are handled in batches of up to [imap] batch_size (500): one
 * fetch for the batch; for each message dedupe (UID, hash, Message-ID),
 * parse, let the programme decide, record the outcome and the mailbox
 * progress under its own savepoint; one commit for the batch; only after the
 * commit are the messages moved to the processed mailbox (or flagged).  The
 * IMAP commands run on a thread of their own, so the next batch is fetched
 * and the last one moved while a batch is decided.  A message whose
 * processing fails is rolled back alone; it is retried and marked failed
 * after imap.max_attempts tries and skipped (see inbox.c).  A failure that
 * setup_check() blames on the installation (a missing template, an
 * unreadable folder) counts no attempt: the message stays in the inbox, the
 * pass stops, and setup_fault is the caller's to report.
 */
#ifndef MENTORD_INBOX_H
#define MENTORD_INBOX_H

#include <signal.h>
#include <stdio.h>

#include "config.h"
#include "imap.h"
#include "store.h"

struct inbox_stats {
    int processed; /* committed this pass */
    int skipped;   /* duplicates */
    int failed;    /* attempts that failed */
    int setup;     /* 1 when the pass stopped on an installation problem (see problem) */
    char problem[512];
};

/*
 * Process every new message in the selected mailbox.  Returns 0 when the pass
 * completed, -1 on an IMAP error (reconnect and call again) or a store error.
 * With dry_run, decisions are made and the mail that would be sent is printed
 * to dry_out, but the transaction is rolled back and nothing is moved.
 */
int inbox_pass(const struct config *cfg, struct store *st, struct imap *im, int dry_run,
               FILE *dry_out, volatile sig_atomic_t *stop, struct inbox_stats *stats);

#endif
