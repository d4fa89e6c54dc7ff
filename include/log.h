/*
 * log: one line per event, to stderr (systemd style) and optionally syslog.
 *
 * Every line names what it is about: pass the Message-ID and member address
 * through log_ctx so an admin can grep one mail's whole story.
 */
#ifndef MENTORD_LOG_H
#define MENTORD_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Set the threshold and whether lines also go to syslog(3) under ident. */
void log_init(enum log_level level, int use_syslog, const char *ident);

/* Parse "error", "warn"/"warning", "info", "debug"; returns -1 when unknown. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

/* Print a line: "LEVEL message" with " msgid=<...> member=..." appended when given. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_ctx(enum log_level level, const char *message_id, const char *member, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Hold info and debug lines (on = 1) while a batch of mail is decided, and
 * write them in blocks of at most PIPE_BUF bytes: when the block is full, when
 * a warning or an error comes (after the held lines), at log_hold(0), at exit
 * and at log_flush() (which the daemon calls when a mail keeps the reader
 * busy for more than 100 ms).  Not with syslog, which takes one line at a time.
 */
void log_hold(int on);
void log_flush(void);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
