/*
 * store_sentlog: the marks of mails the SMTP server has taken, between two
 * commits of the outbox.  Part of the store module's public face (store.h
 * includes it; conventions there); defined in daemon/store_sentlog.c.
 *
 * Between two commits of the outbox, the mails the SMTP server has taken are
 * marked in a file beside the database, one write(2) each, so the next mail
 * can go out at once and a crash of the process still repeats none of them.
 * store_sentlog_open first applies the marks a gone process left (to rows
 * still queued with the same Message-ID) and removes its file.
 * store_sentlog_mark appends one mark; after the caller has committed every
 * marked mail's outcome, store_sentlog_settled empties the file.
 * store_sentlog_close removes it when settled, else leaves it for the next
 * open.  All return 0, or -1 with the store's error set.
 */
#ifndef MENTORD_STORE_SENTLOG_H
#define MENTORD_STORE_SENTLOG_H

#include <time.h>

struct store;
struct store_outbox;
struct store_sentlog;

int store_sentlog_open(struct store *st, struct store_sentlog **out);
int store_sentlog_mark(struct store_sentlog *sl, const struct store_outbox *it, time_t when,
                       const char *reply);
int store_sentlog_settled(struct store_sentlog *sl);
void store_sentlog_close(struct store_sentlog *sl);

#endif
