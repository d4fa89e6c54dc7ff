/*
 * log: one line per event to stderr, or to syslog(3) when asked.
 *
 * Where the lines go, and in which form:
 *   - stderr is the journal (systemd sets JOURNAL_STREAM to its device and
 *     inode): "<N>LEVEL text", the sd-daemon(3) priority prefix journald turns
 *     into the line's priority (so `journalctl -p err` works), and no
 *     timestamp, as the journal keeps its own;
 *   - syslog = yes: syslog(3) only, because journald and syslog daemons both
 *     collect it and a copy on stderr would be logged twice; stderr still gets
 *     the line when it is a terminal (someone is watching);
 *   - otherwise (a terminal, cron, a file): "TIME LEVEL text" on stderr.
 *
 * Log lines carry text that members wrote (subjects, addresses, Message-IDs).
 * Every control character is escaped before output, so a member cannot end
 * our line early and forge a second, official-looking one.
 */
#include "log.h"
#include "buf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/*
 * The logger's settings.  log_msg() is called from everywhere, so its
 * threshold lives here rather than being threaded through every call; it is
 * written only by log_init() at start-up.
 */
static struct {
    enum log_level level;
    int use_syslog;
    int journal;    /* stderr is connected to journald */
    int tty;        /* stderr is a terminal */
    char ident[64]; /* openlog() keeps the pointer, so the text must outlive the call */
} log_state = {LOG_LEVEL_INFO, 0, 0, 0, "mentord"};

/* JOURNAL_STREAM is "DEVICE:INODE" of the journal's socket; it counts only if stderr is it. */
static int
log_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev = 0, ino = 0;
    struct stat sb;

    if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &sb) != 0)
        return 0;
    return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

/*
 * Lines held while a batch of mail is decided (log_hold): written together
 * when they would outgrow one atomic pipe write, when a warning or an error
 * comes (after them, so the order stays), and when the batch ends.  Each
 * write to stderr wakes whatever reads it (journald, a terminal, a test's
 * pipe); two lines a mail cost the daemon more than SQLite's mutexes
 * (measured at 68a91b0).  What a crash loses is at most PIPE_BUF bytes of
 * lines about decisions whose transaction it also lost.
 */
static struct {
    int on;
    size_t len;
    char b[PIPE_BUF];
} log_held;

static void
log_write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere to say it */
        p += w;
        n -= (size_t)w;
    }
}

void
log_flush(void)
{
    if (log_held.len > 0)
        log_write_all(log_held.b, log_held.len);
    log_held.len = 0;
}

void
log_hold(int on)
{
    static int at_exit;

    if (!on)
        log_flush();
    else if (!at_exit)
        at_exit = atexit(log_flush) == 0; /* a process that exits mid-batch says it all */
    log_held.on = on;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const level_tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void
log_init(enum log_level level, int use_syslog, const char *ident)
{
    if (log_state.use_syslog)
        closelog();
    log_state.level = level;
    log_state.use_syslog = use_syslog;
    log_state.journal = log_stderr_is_journal();
    log_state.tty = isatty(STDERR_FILENO);
    snprintf(log_state.ident, sizeof(log_state.ident), "%s",
             ident != NULL && *ident != '\0' ? ident : "mentord");
    if (use_syslog)
        openlog(log_state.ident, LOG_PID, LOG_MAIL);
}

int
log_level_parse(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return LOG_LEVEL_WARN;
    return -1;
}

const char *
log_level_name(enum log_level level)
{
    if ((int)level < 0 || level > LOG_LEVEL_DEBUG)
        return "unknown";
    return level_names[level];
}

static int
syslog_priority(enum log_level level)
{
    switch (level) {
    case LOG_LEVEL_ERROR:
        return LOG_ERR;
    case LOG_LEVEL_WARN:
        return LOG_WARNING;
    case LOG_LEVEL_INFO:
        return LOG_INFO;
    case LOG_LEVEL_DEBUG:
        break;
    }
    return LOG_DEBUG;
}

/*
 * Append text to out with control characters escaped (\n, \r, \t, \xNN).
 * Runs of plain bytes go in at once, into a growing string: a stdio stream
 * per line (open_memstream) cost more than the rest of the line.
 */
static void
put_escaped(struct buf *out, const char *text)
{
    static const char hex[] = "0123456789abcdef";

    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p != 0x7f)
            p++;
        if (p > run)
            buf_add(out, (const char *)run, (size_t)(p - run));
        if (*p == '\0')
            break;
        if (*p == '\n')
            buf_add(out, "\\n", 2);
        else if (*p == '\r')
            buf_add(out, "\\r", 2);
        else if (*p == '\t')
            buf_add(out, "\\t", 2);
        else { /* another control character: the run stopped at it */
            char esc[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
            buf_add(out, esc, 4);
        }
    }
}

/* The message and its context as one escaped string (malloc'd), or NULL when out of memory. */
static char *
format_body(const char *message_id, const char *member, const char *fmt, va_list ap)
{
    char small[512], *text = small;
    struct buf out = {0};
    va_list copy;

    /* Most lines fit on the stack: one vsnprintf, no vasprintf's second pass. */
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof(small), fmt, copy);
    va_end(copy);
    if (n < 0 || ((size_t)n >= sizeof(small) && vasprintf(&text, fmt, ap) < 0))
        return NULL;
    /* Room for the usual line at once, not a realloc at each piece; out of memory, it fails as
     * buf_add would. */
    (void)buf_reserve(&out, (size_t)n + 160);
    put_escaped(&out, text);
    if (message_id != NULL && *message_id != '\0') {
        buf_add(&out, " msgid=<", 8);
        put_escaped(&out, message_id);
        buf_addc(&out, '>');
    }
    if (member != NULL && *member != '\0') {
        buf_add(&out, " member=", 8);
        put_escaped(&out, member);
    }
    if (text != small)
        free(text);
    return buf_take(&out);
}

/*
 * The line as it goes to stderr: journald takes the priority, a file or
 * terminal the time.  Put together by hand, as snprintf would ("<P>TAG BODY"
 * or "STAMP TAG BODY", then a newline): cut to cap - 1 bytes and
 * NUL-terminated, and the whole length returned.  snprintf parsed its format
 * at every line, a third of a line's cost at two lines a mail.
 */
static int
log_format(char *out, size_t cap, int journal, const char *stamp, enum log_level level,
           const char *body)
{
    char prio[4] = {'<', (char)('0' + syslog_priority(level)), '>', '\0'};
    const char *parts[] = {
        journal ? prio : stamp, journal ? "" : " ", level_tags[level], " ", body, "\n"};
    size_t len = 0;

    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t k = strlen(parts[i]);
        if (len < cap)
            memcpy(out + len, parts[i], len + k < cap ? k : cap - len);
        len += k;
    }
    if (cap > 0)
        out[len < cap ? len : cap - 1] = '\0';
    return len > INT_MAX ? -1 : (int)len;
}

/* The time stamp of a line, "2026-12-08T01:00:00Z": made once a second, not once a line. */
static const char *
log_stamp(time_t now)
{
    static _Thread_local time_t at = (time_t)-1;
    static _Thread_local char stamp[32];
    struct tm tm;

    if (now != at) {
        if (gmtime_r(&now, &tm) == NULL ||
            strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
        at = now;
    }
    return stamp;
}

static void
log_emit(enum log_level level, const char *message_id, const char *member, const char *fmt,
         va_list ap)
{
    char *body;

    if ((int)level < 0 || level > LOG_LEVEL_DEBUG)
        level = LOG_LEVEL_ERROR; /* a bad level is a bug; better seen than lost */
    if (level > log_state.level)
        return;
    const char *stamp = log_stamp(time(NULL));
    body = format_body(message_id, member, fmt, ap);
    if (body == NULL) {
        log_flush();
        fprintf(stderr, "%s %s (log message lost: out of memory)\n", stamp, level_tags[level]);
        return;
    }
    /*
     * One write per line (or per block of held lines, at most PIPE_BUF), so
     * lines from concurrent processes sharing stderr do not interleave.
     */
    char small[PIPE_BUF], *line = small;
    int n = -1, journal = log_state.journal && !log_state.use_syslog;
    if (journal || !log_state.use_syslog || (log_state.tty && !log_state.journal)) {
        n = log_format(small, sizeof(small), journal, stamp, level, body);
        if (n >= (int)sizeof(small)) {
            char *big = malloc((size_t)n + 1);
            if (big != NULL && log_format(big, (size_t)n + 1, journal, stamp, level, body) == n) {
                line = big;
            } else {
                free(big);
                n = (int)sizeof(small) - 1; /* cut: better than lost */
            }
        }
    }
    if (n > 0) {
        int hold = log_held.on && level > LOG_LEVEL_WARN && line == small;
        if (!hold || log_held.len + (size_t)n > sizeof(log_held.b))
            log_flush();
        if (hold) {
            memcpy(log_held.b + log_held.len, line, (size_t)n);
            log_held.len += (size_t)n;
        } else {
            log_write_all(line, (size_t)n);
        }
    }
    if (line != small)
        free(line);
    if (log_state.use_syslog)
        syslog(syslog_priority(level), "%s", body);
    free(body);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emit(level, NULL, NULL, fmt, ap);
    va_end(ap);
}

void
log_ctx(enum log_level level, const char *message_id, const char *member, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emit(level, message_id, member, fmt, ap);
    va_end(ap);
}
