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
 *
 * Why ahead of need: waiting for each reading cost the daemon a sleep and a
 * wake-up a mail.  So while mails k and k+1 are stored, the reader already
 * reads mails k+2 and k+3 with the contexts their senders had before k
 * (reader_read_next), and the daemon uses such a reading if the context is
 * still the same when that mail's turn comes; reading_read being pure, the
 * same inputs give the same reading.  Two such readings go at once, every
 * other mail (reader_reads_ahead): the reader, which reads faster than the
 * daemon stores, then sleeps and is woken at most once for two mails.  They
 * skip the next mail, whose reading went a turn before: asked for one mail
 * ahead, it was often not there yet when its turn came, the reader on the
 * other core just woken, and the daemon slept and was woken again (with
 * the reader on its own core, 3,150 polls a 10,000 joins before, 1,122
 * after).
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
 * How many next mails reader_parse_next takes; how many readings go ahead
 * at once (reader_parse_early gives that many a turn), and how many of the
 * next mails they skip (their readings went ahead the turn before).
 */
#define READER_AHEAD 6
#define READER_READS_AHEAD 2
#define READER_READS_SKIP 1

/*
 * Name the mails the next reader_parse calls will be for (same arguments;
 * up to READER_AHEAD, in order), before reader_send_next or the reader_read
 * of the current one.  When they are small enough, their parses go to the
 * reader with what goes ahead (reader_send_next) or that reading request:
 * the reader parses them while the daemon stores the current mail, and
 * reader_parse only collects the answer.  raw need only live until
 * reader_read returns (it is copied); a reader_parse of another mail throws
 * the early answers away.
 */
void reader_parse_next(const char *raw, size_t raw_len, size_t parse_len, const char *own_address,
                       int timeout);

/*
 * After reader_parse of mail k: a next mail's parse (called again in the
 * same turn: the one after it; READER_READS_AHEAD at most), if it was sent ahead
 * and its answer has come (never waits).  1 with *out (the reader's, valid
 * until the next reader_parse, which hands that very mail over); 0 when its
 * answer has not come yet; -1 when it was not sent ahead or is not a mail.
 * With it the caller can look up the next sender's context as it stands
 * before mail k is acted on, and name the reading it expects
 * (reader_read_next).
 */
int reader_parse_early(const char *raw, size_t raw_len, size_t parse_len, const char *own_address,
                       const struct mail **out);

/*
 * Is the reading of a mail after the next (asked for at an earlier turn)
 * with the reader still?  Then nothing goes ahead this turn (reader_read
 * sends nothing more): what goes ahead goes every other mail, two readings
 * at once, and the reader, faster than the daemon, sleeps and is woken at
 * most once every two mails.  The caller then need not look up the next
 * contexts either.
 */
int reader_reads_ahead(void);

/*
 * Ask ahead for the reading of the mail reader_parse_early gave, with ctx:
 * it goes with mail k's reading request, and the reader reads it while the
 * daemon stores mail k.  When that mail's turn comes, reader_read uses the
 * answer only if the context it is given then is the same (mail k may have
 * changed it); otherwise the mail is read again.
 */
struct config;
struct reading_context;
void reader_read_next(const struct config *cfg, size_t size, const struct reading_context *ctx);

/*
 * Send now what goes ahead this turn (the readings named by
 * reader_read_next, the parses named by reader_parse_next), when the
 * current mail's reading was asked for ahead; else it goes with that
 * reading's request, in reader_read.  Sent as soon as the next contexts
 * are known, the reader starts on them while the daemon still looks up
 * and checks the current mail: sent from reader_read, the next mail's
 * reading was often not there yet when asked for (the daemon then slept
 * and was woken by the reader).  A reader that cannot take it is replaced.
 */
void reader_send_next(volatile sig_atomic_t *stop);

/*
 * Read the mail of the last successful reader_parse (reading_read, in the
 * reader) with what the daemon knows of its sender; once a parse.  size is
 * the message's real size.  The time limit is the one its parse started:
 * parse and reading together.  raw, given to reader_parse, must still be
 * valid: should the reader that parsed it be gone, it is parsed again.  On
 * READER_OK *out is the reading (reading_free it).
 */
struct reading;
enum reader_status reader_read(const struct config *cfg, size_t size,
                               const struct reading_context *ctx, struct reading *out, char *err,
                               size_t errlen, volatile sig_atomic_t *stop);

/* How many parses and readings were asked for, and how many of them had been sent ahead. */
struct reader_counts {
    unsigned long parses, parses_ahead;
    unsigned long readings, readings_ahead;
};
void reader_get_counts(struct reader_counts *c);

/* Stop the reader (at exit). */
void reader_shutdown(void);

/* The reader's side: serve mails on stdin/stdout until end of input.  For main(). */
int reader_main(void);

const char *reader_status_name(enum reader_status s);

#endif
