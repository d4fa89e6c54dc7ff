/*
 * reader: untrusted mail is read in a separate process, as OpenSMTPD and
 * Postfix do.  The reader gets the raw bytes over a pipe and gives back the
 * parsed mail; it holds no database handle, no socket and no credentials
 * (it is mentord itself, exec'd afresh with --reader, so nothing of the
 * daemon's memory is in it), runs under a seccomp filter (libseccomp: no
 * open, no socket, no exec) and rlimits on memory, CPU and files, and is
 * given [limits] reader_timeout per mail.  It parses (MIME, HTML,
 * charsets) and then reads the mail (reading.h: classification, reply text,
 * intent, arguments, profile fields), so that a mail that crashes or hangs
 * any of that does so there, not in the daemon.  A reader that crashes or
 * runs out of time is killed and replaced.
 *
 * Why two requests per mail: the reading depends on what mentord knows of
 * the sender (an open proposal makes "yes" an acceptance), which only the
 * daemon can look up in the store, and only from the parsed headers.  So
 * the daemon asks for the parse, looks up the sender's context (plain data,
 * struct reading_context), and asks the same reader, which kept the parsed
 * mail, to read it with that context.  reading_read stays one pure function
 * that runs whole in the reader; `mentorctl inspect` and the unit tests run
 * the same function in-process.
 */
#ifndef MENTORD_READER_H
#define MENTORD_READER_H

#include <signal.h>
#include <stddef.h>

#include "mail.h"

enum reader_status {
    READER_OK = 0,      /* *out is the parsed mail */
    READER_UNPARSEABLE, /* the mail is not a mail (err says why): record it, answer nothing */
    READER_CRASHED,     /* the reader died on it */
    READER_TIMEOUT,     /* the reader ran out of time on it */
    READER_STOPPED,     /* *stop was set (SIGTERM): nothing decided, try it again later */
    READER_ERROR,       /* the reader could not be started or talked to (err says why) */
};

/*
 * Exec this program with --reader for the reader (mentord's main sets
 * /proc/self/exe).  Without one (unit tests), the reader is a fork of the
 * caller, with its descriptors closed and the same limits.
 */
void reader_set_program(const char *path);

/*
 * Parse raw[0..parse_len) (raw_len bytes were fetched; a bounce report is
 * read from all of them) in the reader, waiting at most timeout seconds.
 * On READER_OK *out is the mail (mail_free it).
 */
enum reader_status reader_parse(const char *raw, size_t raw_len, size_t parse_len,
                                const char *own_address, int timeout, struct mail **out, char *err,
                                size_t errlen, volatile sig_atomic_t *stop);

/*
 * Name the mail the next reader_parse will be for (same arguments), before
 * the reader_read of the current one.  When it is small enough, its parse
 * goes to the reader with that reading request: the reader parses it while
 * the daemon stores the current mail, and reader_parse only collects the
 * answer.  raw need only live until reader_read returns (it is copied), and
 * a reader_parse of another mail throws the early answer away.
 */
void reader_parse_next(const char *raw, size_t raw_len, size_t parse_len, const char *own_address,
                       int timeout);

/*
 * Read the mail of the last successful reader_parse (reading_read, in the
 * reader) with what the daemon knows of its sender.  size is the message's
 * real size.  The time limit is the one reader_parse started: parse and
 * reading together.  On READER_OK *out is the reading (reading_free it).
 */
struct reading;
struct reading_context;
struct config;
enum reader_status reader_read(const struct config *cfg, size_t size,
                               const struct reading_context *ctx, struct reading *out, char *err,
                               size_t errlen, volatile sig_atomic_t *stop);

/* Stop the reader (at exit). */
void reader_shutdown(void);

/* The reader's side: serve mails on stdin/stdout until end of input.  For main(). */
int reader_main(void);

const char *reader_status_name(enum reader_status s);

#endif
