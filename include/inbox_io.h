/*
 * inbox_io: the IMAP connection of an inbox pass, driven from a thread of its
 * own, so that the next batch is fetched and the last committed one moved
 * while the daemon's thread decides the current one (inbox.c says in which
 * order, and why a crash stays harmless).
 *
 * While the thread runs it alone touches the connection: every IMAP command
 * of the pass is a job, run in the order submitted.  The submitter keeps the
 * job (and what its argument points to) alive until inbox_io_wait returned.
 */
#ifndef MENTORD_INBOX_IO_H
#define MENTORD_INBOX_IO_H

#include "imap.h"

struct inbox_io;

struct inbox_io_job {
    int (*fn)(struct imap *im, void *arg); /* runs on the IMAP thread: 0 or -1 */
    void *arg;
    /* Set by the IMAP thread; read them only after inbox_io_wait. */
    int rc;
    char err[256]; /* imap_error() right after fn failed, before another job can change it */
    /* The queue's own. */
    int done;
    struct inbox_io_job *next;
};

/* Start the thread that owns im until inbox_io_stop.  -1 (err filled) when it cannot. */
int inbox_io_start(struct inbox_io **io, struct imap *im, char *err, size_t errlen);
/* Queue job: fn(im, arg) runs after every job submitted before it. */
void inbox_io_submit(struct inbox_io *io, struct inbox_io_job *job,
                     int (*fn)(struct imap *im, void *arg), void *arg);
/* Wait for job to have run; its rc (job->err says why when -1). */
int inbox_io_wait(struct inbox_io *io, struct inbox_io_job *job);
/* Run what is queued, stop the thread; the connection is the caller's again. */
void inbox_io_stop(struct inbox_io *io);

#endif
