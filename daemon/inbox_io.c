/*
 * inbox_io: one thread that owns the IMAP connection during an inbox pass
 * (inbox_io.h).  A FIFO of jobs under one mutex: IMAP commands are slow round
 * trips (Dovecot's UID MOVE of 500 mails takes tens of milliseconds), so a
 * lock per job costs nothing next to them, and one thread keeps the commands
 * in the order they were asked for, which inbox.c relies on.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbox_io.h"

struct inbox_io {
    struct imap *im;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t queued; /* a job was queued, or stop was set */
    pthread_cond_t ran;    /* a job has run */
    struct inbox_io_job *head, *tail;
    int stop;
};

/* The next job, or NULL once stopped with nothing left to run. */
static struct inbox_io_job *
inbox_io_next(struct inbox_io *io)
{
    struct inbox_io_job *job;

    pthread_mutex_lock(&io->lock);
    while (io->head == NULL && !io->stop)
        pthread_cond_wait(&io->queued, &io->lock);
    job = io->head;
    if (job != NULL) {
        io->head = job->next;
        if (io->head == NULL)
            io->tail = NULL;
    }
    pthread_mutex_unlock(&io->lock);
    return job;
}

static void *
inbox_io_main(void *arg)
{
    struct inbox_io *io = arg;
    struct inbox_io_job *job;

    while ((job = inbox_io_next(io)) != NULL) {
        int rc = job->fn(io->im, job->arg);
        /* Copied now: the next job may overwrite the connection's error. */
        if (rc != 0)
            snprintf(job->err, sizeof(job->err), "%s", imap_error(io->im));
        pthread_mutex_lock(&io->lock);
        job->rc = rc;
        job->done = 1;
        pthread_cond_broadcast(&io->ran);
        pthread_mutex_unlock(&io->lock);
    }
    return NULL;
}

int
inbox_io_start(struct inbox_io **out, struct imap *im, char *err, size_t errlen)
{
    struct inbox_io *io = calloc(1, sizeof(*io));
    int rc;

    *out = NULL;
    if (io == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    io->im = im;
    pthread_mutex_init(&io->lock, NULL);
    pthread_cond_init(&io->queued, NULL);
    pthread_cond_init(&io->ran, NULL);
    rc = pthread_create(&io->thread, NULL, inbox_io_main, io);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the IMAP thread: %s", strerror(rc));
        pthread_cond_destroy(&io->ran);
        pthread_cond_destroy(&io->queued);
        pthread_mutex_destroy(&io->lock);
        free(io);
        return -1;
    }
    *out = io;
    return 0;
}

void
inbox_io_submit(struct inbox_io *io, struct inbox_io_job *job,
                int (*fn)(struct imap *im, void *arg), void *arg)
{
    job->fn = fn;
    job->arg = arg;
    job->rc = 0;
    job->err[0] = '\0';
    job->done = 0;
    job->next = NULL;
    pthread_mutex_lock(&io->lock);
    if (io->tail != NULL)
        io->tail->next = job;
    else
        io->head = job;
    io->tail = job;
    pthread_cond_signal(&io->queued);
    pthread_mutex_unlock(&io->lock);
}

int
inbox_io_wait(struct inbox_io *io, struct inbox_io_job *job)
{
    pthread_mutex_lock(&io->lock);
    while (!job->done)
        pthread_cond_wait(&io->ran, &io->lock);
    pthread_mutex_unlock(&io->lock);
    return job->rc;
}

void
inbox_io_stop(struct inbox_io *io)
{
    if (io == NULL)
        return;
    pthread_mutex_lock(&io->lock);
    io->stop = 1;
    pthread_cond_signal(&io->queued);
    pthread_mutex_unlock(&io->lock);
    pthread_join(io->thread, NULL);
    pthread_cond_destroy(&io->ran);
    pthread_cond_destroy(&io->queued);
    pthread_mutex_destroy(&io->lock);
    free(io);
}
