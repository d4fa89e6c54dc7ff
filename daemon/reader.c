/*
 * reader: parse untrusted mail in an isolated process (reader.h).
 *
 * Protocol on the pipes (native byte order, both ends are this program;
 * reader_wire.c writes and reads the fields):
 *   daemon -> reader: 'P', u64 raw_len, u64 parse_len, u32 own_len, own
 *                     address, raw bytes: parse this mail (the reader keeps it)
 *                     'R', u64 len, the request (reader_put_request): read the
 *                     mail kept, with what the daemon knows of its sender
 *   reader -> daemon: u64 len, then u8 status (0 done, 1 not), then for 'P'
 *                     the mail's fields or the parse error, for 'R' the
 *                     reading (reader_put_reading) or why there is none
 * The reader serves requests one after another, in order: a reading request
 * may come with the next mail's 'P' in the same write (reader_parse_next), and
 * the reader answers the reading, then parses the next mail while the daemon
 * stores the one it read.  The daemon kills a reader that takes longer than
 * the timeout and starts another for the next mail.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef MENTORD_HAVE_SECCOMP
#include <seccomp.h>
#endif
#include <iconv.h>

#include "clock.h"
#include "bounce.h"
#include "classify.h"
#include "command.h"
#include "log.h"
#include "profile.h"
#include "reader.h"
#include "reader_int.h"
#include "reading.h"
#include "reply.h"

/* Address space of the reader: a 10 MB mail parses in well under this. */
#define READER_MEMORY (1024u << 20)
/*
 * A reader is replaced after this many mails, so that what one mail may have
 * left in its heap does not last, and its lifetime CPU limit stays finite.
 * Starting one costs about 20 ms of CPU (exec, the charsets, the zone names):
 * 2 us a mail at 10,000, where 1,000 cost 20 us (measured at 885905b).
 */
#define READER_MAILS 10000
/* The requests the daemon sends (one byte first). */
#define READER_OP_PARSE 'P'
#define READER_OP_READ 'R'

static const char *reader_program;

static struct {
    pid_t pid;
    int to, from;    /* pipe ends (non-blocking): requests to the reader, answers from it */
    int served;      /* mails it parsed: after READER_MAILS it is replaced */
    double deadline; /* the time limit of the mail being read (parse and reading) */
    int timeout;
    size_t pipe_cap; /* what the request pipe holds: a parse sent ahead must fit */
} reader_proc = {0, -1, -1, 0, 0, 0, 0};

/* The mail to parse next, named by reader_parse_next for the next reader_read. */
static struct {
    int set;
    const char *raw, *own;
    size_t raw_len, parse_len;
    int timeout;
} reader_next;

/* A parse sent ahead with a reading request, whose answer is in the pipe or coming. */
static struct {
    int sent;
    char *raw; /* a copy: the next reader_parse must be of these very bytes to use it */
    size_t raw_len, parse_len;
    char own[320];
    double deadline; /* from when it was sent */
} reader_ahead;

void
reader_set_program(const char *path)
{
    reader_program = path;
}

const char *
reader_status_name(enum reader_status s)
{
    static const char *const names[] = {"ok",      "unparseable", "crashed",
                                        "timeout", "stopped",     "error"};
    return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* ---- plain reads and writes (the reader's side blocks) ---- */

/*
 * Bytes read ahead of what was asked for, kept for the next ask: a request
 * (an answer) arrives as one write, and reading it field by field cost a
 * system call per field.  Both sides read through one.
 */
struct reader_block {
    char *b;
    size_t cap, at, end;
};

/* Take what the block holds of the n bytes wanted at *d; 0 when it held none. */
static int
reader_block_take(struct reader_block *k, char **d, size_t *n)
{
    size_t c = k->end - k->at;
    if (c == 0)
        return 0;
    if (c > *n)
        c = *n;
    memcpy(*d, k->b + k->at, c);
    k->at += c;
    *d += c;
    *n -= c;
    return 1;
}

/* A read for the n bytes wanted at d: big ones go straight there, small ones via the block. */
static ssize_t
reader_block_read(struct reader_block *k, int fd, char **d, size_t *n)
{
    int direct = *n >= k->cap;
    ssize_t r = read(fd, direct ? *d : k->b, direct ? *n : k->cap);
    if (r > 0 && direct) {
        *d += r;
        *n -= (size_t)r;
    } else if (r > 0) {
        k->at = 0;
        k->end = (size_t)r;
    }
    return r;
}

static char reader_input_b[64 * 1024];
static struct reader_block reader_input = {reader_input_b, sizeof(reader_input_b), 0, 0};

/* The daemon's side: the answers, where one read may take the start of the next (a parse sent
 * ahead). */
static char reader_answers_b[16 * 1024];
static struct reader_block reader_answers = {reader_answers_b, sizeof(reader_answers_b), 0, 0};

/* The reader's side: n bytes of the request, blocking. */
static int
reader_read_all(int fd, void *p, size_t n)
{
    char *d = p;
    while (n > 0) {
        if (reader_block_take(&reader_input, &d, &n))
            continue;
        ssize_t r = reader_block_read(&reader_input, fd, &d, &n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
    }
    return 0;
}

/* ---- the reader's side ---- */

/*
 * Charset converters are loaded from files on first use; the sandbox forbids
 * opening files, so the common ones are loaded before it closes.  A mail in a
 * charset not on this list is read as far as it decodes without one.
 */
static void
reader_warm_charsets(void)
{
    static const char *const sets[] = {
        "ISO-8859-1",   "ISO-8859-2",   "ISO-8859-3",   "ISO-8859-4",   "ISO-8859-5",
        "ISO-8859-6",   "ISO-8859-7",   "ISO-8859-8",   "ISO-8859-9",   "ISO-8859-10",
        "ISO-8859-13",  "ISO-8859-14",  "ISO-8859-15",  "ISO-8859-16",  "WINDOWS-1250",
        "WINDOWS-1251", "WINDOWS-1252", "WINDOWS-1253", "WINDOWS-1254", "WINDOWS-1255",
        "WINDOWS-1256", "WINDOWS-1257", "WINDOWS-1258", "KOI8-R",       "KOI8-U",
        "SHIFT_JIS",    "CP932",        "EUC-JP",       "ISO-2022-JP",  "GB2312",
        "GBK",          "GB18030",      "BIG5",         "BIG5-HKSCS",   "EUC-KR",
        "ISO-2022-KR",  "UTF-16",       "UTF-16LE",     "UTF-16BE",     "UTF-7",
        "UTF-32",       "CP850",        "CP437",        "CP866",        "MACINTOSH",
        "TIS-620",      "ASCII",        "US-ASCII",     "UTF-8",
    };
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        /* Kept open for the reader's life: closing could unload the module again. */
        iconv_t cd = iconv_open("UTF-8", sets[i]);
        (void)cd;
    }
}

static int
reader_sandbox(void)
{
#ifdef MENTORD_HAVE_SECCOMP
    /* Anything not listed fails with EPERM: no open, no socket, no exec, no fork. */
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    static const int allowed[] = {
        SCMP_SYS(read),
        SCMP_SYS(write),
        SCMP_SYS(writev),
        SCMP_SYS(close),
        SCMP_SYS(exit),
        SCMP_SYS(exit_group),
        SCMP_SYS(brk),
        SCMP_SYS(mmap),
        SCMP_SYS(munmap),
        SCMP_SYS(mremap),
        SCMP_SYS(madvise),
        SCMP_SYS(mprotect),
        SCMP_SYS(futex),
        SCMP_SYS(rt_sigreturn),
        SCMP_SYS(rt_sigprocmask),
        SCMP_SYS(rt_sigaction),
        SCMP_SYS(sigaltstack),
        SCMP_SYS(getpid),
        SCMP_SYS(gettid),
        SCMP_SYS(clock_gettime),
        SCMP_SYS(gettimeofday),
        SCMP_SYS(time),
        SCMP_SYS(fstat),
        SCMP_SYS(newfstatat),
        SCMP_SYS(lseek),
        SCMP_SYS(getrandom),
        SCMP_SYS(getrusage),
        SCMP_SYS(prlimit64),
        SCMP_SYS(setrlimit),
        SCMP_SYS(getrlimit),
        SCMP_SYS(sched_yield),
        SCMP_SYS(tgkill),
        SCMP_SYS(restart_syscall),
        SCMP_SYS(clock_nanosleep),
    };
    int rc = ctx == NULL ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
    if (rc == 0)
        rc = seccomp_load(ctx);
    if (ctx)
        seccomp_release(ctx);
    return rc == 0 ? 0 : -1;
#else
    return 0;
#endif
}

/* The reader's lifetime CPU limit (reader_limits), read once at its start. */
static rlim_t reader_cpu_max = RLIM_INFINITY;

/*
 * The CPU this mail may take, its parse and its reading together: what is
 * used so far plus the timeout.  Set at the parse only.
 */
static void
reader_cpu_budget(int timeout)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return;
    rlim_t used = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec);
    struct rlimit rl = {used + (rlim_t)timeout + 1, reader_cpu_max};
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
        rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_CPU, &rl);
}

/*
 * The bounce report is read by the daemon (programme.c) from the raw bytes:
 * it is read here first, so that a report that crashes or hangs a reader
 * does so here.  The results are thrown away.
 */
static void
reader_trial(const struct mail *m, const char *raw, size_t raw_len, const char *own)
{
    const char *reason = NULL;

    if (classify_mail(m, own, &reason) == CLASSIFY_BOUNCE) {
        struct bounce_info b;
        if (bounce_parse(m, raw, raw_len, &b) == 0)
            bounce_free(&b);
    }
}

/* The mail of the last 'P', kept for the 'R' that follows. */
static struct mail *reader_held;

/* Step *iov past the w bytes a writev took; the parts left to write. */
static int
reader_iov_skip(struct iovec **iov, int n, size_t w)
{
    for (; n > 0 && w >= (*iov)->iov_len; (*iov)++, n--)
        w -= (*iov)->iov_len;
    if (n > 0) {
        (*iov)->iov_base = (char *)(*iov)->iov_base + w;
        (*iov)->iov_len -= w;
    }
    return n;
}

/* Write iov[0..n) whole, in one system call when the pipe takes it (blocking fd). */
static int
reader_writev_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        n = reader_iov_skip(&iov, n, (size_t)w);
    }
    return 0;
}

/* The answer's length, then the answer. */
static int
reader_answer(struct reader_buf *out)
{
    uint64_t n = out->len;
    struct iovec iov[2] = {{&n, sizeof(n)}, {out->p, out->len}};
    int rc = out->failed ? -1 : reader_writev_all(1, iov, 2);

    free(out->p);
    return rc;
}

/* 'R': the reading of the kept mail, with the context the daemon sent. */
static int
reader_serve_reading(void)
{
    uint64_t len;
    struct reader_buf out = {0};
    uint8_t status = 1;

    if (reader_read_all(0, &len, sizeof(len)) != 0 || len > (1u << 20))
        return -1;
    char *req = malloc(len ? len : 1);
    if (req == NULL || reader_read_all(0, req, len) != 0) {
        free(req);
        return -1;
    }
    struct reader_in in = {req, len, 0, 0};
    struct config cfg;
    struct reading_context ctx;
    struct reading r;
    size_t size = 0;
    int got = reader_get_request(&in, &cfg, &size, &ctx);
    free(req);
    if (got != 0)
        return -1;
    if (reader_held != NULL && reading_read(&cfg, reader_held, size, &ctx, &r) == 0) {
        status = 0;
        reader_put(&out, &status, 1);
        reader_put_reading(&out, &r);
        reading_free(&r);
    } else {
        reader_put(&out, &status, 1);
        reader_put_str(&out, reader_held ? "out of memory reading the mail" : "no mail to read");
    }
    reader_config_free(&cfg);
    return reader_answer(&out);
}

/* 'P': parse one mail and keep it. */
static int
reader_serve_parse(int timeout)
{
    uint64_t raw_len, parse_len;
    uint32_t own_len;
    char own[320], err[256];

    if (reader_read_all(0, &raw_len, sizeof(raw_len)) != 0 ||
        reader_read_all(0, &parse_len, sizeof(parse_len)) != 0 ||
        reader_read_all(0, &own_len, sizeof(own_len)) != 0 || own_len >= sizeof(own) ||
        parse_len > raw_len || reader_read_all(0, own, own_len) != 0)
        return -1;
    own[own_len] = '\0';
    char *raw = malloc(raw_len ? raw_len : 1);
    if (raw == NULL || reader_read_all(0, raw, raw_len) != 0) {
        free(raw);
        return -1;
    }
    reader_cpu_budget(timeout);
    mail_free(reader_held);
    reader_held = NULL;
    struct reader_buf out = {0};
    uint8_t status = 0;
    if (mail_parse(raw, parse_len, &reader_held, err, sizeof(err)) != 0) {
        reader_held = NULL;
        status = 1;
        reader_put(&out, &status, 1);
        reader_put_str(&out, err);
    } else {
        reader_trial(reader_held, raw, raw_len, own[0] ? own : NULL);
        reader_put(&out, &status, 1);
        reader_put_mail(&out, reader_held);
    }
    free(raw);
    return reader_answer(&out);
}

static int
reader_serve_one(int timeout)
{
    uint8_t op;

    if (reader_read_all(0, &op, 1) != 0)
        return 1; /* the daemon closed the pipe: done */
    if (op == READER_OP_PARSE)
        return reader_serve_parse(timeout);
    if (op == READER_OP_READ)
        return reader_serve_reading(); /* within the parse's CPU budget */
    return -1;
}

int
reader_main(void)
{
    const char *t = getenv("MENTORD_READER_TIMEOUT");
    int timeout = t ? atoi(t) : 30;

    signal(SIGPIPE, SIG_IGN);
    struct rlimit cpu;
    if (getrlimit(RLIMIT_CPU, &cpu) == 0)
        reader_cpu_max = cpu.rlim_max;
    reader_warm_charsets();
    /* Time zones are files too: their names are read before the sandbox closes. */
    if (profile_zones_preload() != 0)
        log_warn("reader: cannot list the time zones; zone names will not be recognised");
    if (reader_sandbox() != 0)
        log_warn("reader: cannot install the seccomp filter; reading without it");
    for (;;) {
        /* The daemon replaces it after READER_MAILS mails by closing its input. */
        int rc = reader_serve_one(timeout > 0 ? timeout : 30);
        if (rc != 0) {
            mail_free(reader_held);
            return rc > 0 ? 0 : 1;
        }
    }
}

/* ---- the daemon's side ---- */

static void
reader_limits(int timeout)
{
    struct rlimit none = {0, 0};
    struct rlimit files = {64, 64};
    struct rlimit cpu = {(rlim_t)timeout + 1, (rlim_t)timeout * READER_MAILS + 1};

    setrlimit(RLIMIT_FSIZE, &none);
    setrlimit(RLIMIT_CORE, &none);
    setrlimit(RLIMIT_NOFILE, &files);
    setrlimit(RLIMIT_CPU, &cpu);
#if !defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer reserves terabytes of address space: no limit under it. */
    struct rlimit mem = {READER_MEMORY, READER_MEMORY};
    setrlimit(RLIMIT_AS, &mem);
#endif
}

static void
reader_stop_proc(int kill_it)
{
    if (reader_proc.to >= 0)
        close(reader_proc.to);
    if (reader_proc.from >= 0)
        close(reader_proc.from);
    reader_proc.to = reader_proc.from = -1;
    if (reader_proc.pid > 0) {
        /*
         * A reader still parsing a mail sent ahead may be stuck in it (the
         * mail that hangs a parser): nobody will read that answer, so it is
         * killed rather than waited for.
         */
        if (kill_it || reader_ahead.sent)
            kill(reader_proc.pid, SIGKILL);
        while (waitpid(reader_proc.pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    reader_proc.pid = 0;
    reader_proc.served = 0;
    reader_answers.at = reader_answers.end = 0;
    free(reader_ahead.raw);
    memset(&reader_ahead, 0, sizeof(reader_ahead));
}

void
reader_shutdown(void)
{
    reader_stop_proc(0);
}

static int
reader_start(int timeout, char *err, size_t errlen)
{
    int req[2], ans[2];

    if (pipe2(req, O_CLOEXEC) != 0)
        goto fail;
    if (pipe2(ans, O_CLOEXEC) != 0) {
        close(req[0]);
        close(req[1]);
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(req[0]);
        close(req[1]);
        close(ans[0]);
        close(ans[1]);
        goto fail;
    }
    if (pid == 0) {
        /* The reader: the two pipes as stdin and stdout, stderr for its log, nothing else. */
        if (dup2(req[0], 0) < 0 || dup2(ans[1], 1) < 0)
            _exit(127);
        close_range(3, ~0U, 0);
        /*
         * A stop of the service signals the whole group: the daemon ends the
         * reader itself, so a mail is never blamed for a SIGTERM.  A reader
         * whose daemon is gone sees the end of its input, or its CPU limit.
         */
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        reader_limits(timeout);
        char t[16];
        snprintf(t, sizeof(t), "%d", timeout);
        setenv("MENTORD_READER_TIMEOUT", t, 1);
        if (reader_program) {
            execl(reader_program, "mentord", "--reader", (char *)NULL);
            /* Cannot exec (the binary moved?): read in this fork, descriptors closed. */
            log_warn("reader: cannot exec %s (%s); reading in a fork of the daemon", reader_program,
                     strerror(errno));
        }
        _exit(reader_main());
    }
    close(req[0]);
    close(ans[1]);
    reader_proc.pid = pid;
    reader_proc.to = req[1];
    reader_proc.from = ans[0];
    /*
     * Our ends only (the reader's are other open files): a write is tried
     * first and polled for only when the pipe is full, within the deadline.
     */
    if (fcntl(req[1], F_SETFL, O_NONBLOCK) != 0 || fcntl(ans[0], F_SETFL, O_NONBLOCK) != 0) {
        reader_stop_proc(1);
        goto fail;
    }
    int cap = fcntl(req[1], F_GETPIPE_SZ);
    reader_proc.pipe_cap = cap > 0 ? (size_t)cap : 0;
    return 0;
fail:
    snprintf(err, errlen, "cannot start the reader: %s", strerror(errno));
    return -1;
}

static double
reader_clock(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

/*
 * After this long waiting for the reader, the log lines held for the batch
 * (log_hold) are written: a mail that keeps the reader busy does not hide
 * what was decided before it.
 */
#define READER_SLOW_MS 100

/* Wait until fd is ready for ev, before the deadline and unless stopped. */
static enum reader_status
reader_wait(int fd, short ev, double deadline, volatile sig_atomic_t *stop)
{
    int slow = 0;

    for (;;) {
        if (stop && *stop)
            return READER_STOPPED;
        double left = deadline - reader_clock();
        if (left <= 0)
            return READER_TIMEOUT;
        struct pollfd pfd = {fd, ev, 0};
        int ms = (int)(left * 1000) + 1;
        int pr = poll(&pfd, 1, !slow && ms > READER_SLOW_MS ? READER_SLOW_MS : ms);
        if (pr > 0)
            return READER_OK;
        if (pr == 0 && !slow) {
            slow = 1;
            log_flush();
        }
        if (pr < 0 && errno != EINTR)
            return READER_ERROR;
    }
}

/* Send iov[0..n) whole before the deadline (one writev when the pipe has room). */
static enum reader_status
reader_send(struct iovec *iov, int n, double deadline, volatile sig_atomic_t *stop)
{
    if (stop && *stop)
        return READER_STOPPED;
    while (n > 0) {
        ssize_t w = writev(reader_proc.to, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            enum reader_status s = reader_wait(reader_proc.to, POLLOUT, deadline, stop);
            if (s != READER_OK)
                return s;
            continue;
        }
        if (w <= 0)
            return READER_CRASHED; /* the reader is gone */
        n = reader_iov_skip(&iov, n, (size_t)w);
    }
    return READER_OK;
}

/* Take n bytes of the answers before the deadline. */
static enum reader_status
reader_recv(void *p, size_t n, double deadline, volatile sig_atomic_t *stop)
{
    char *d = p;

    while (n > 0) {
        if (reader_block_take(&reader_answers, &d, &n))
            continue;
        ssize_t r = reader_block_read(&reader_answers, reader_proc.from, &d, &n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN) {
            enum reader_status s = reader_wait(reader_proc.from, POLLIN, deadline, stop);
            if (s != READER_OK)
                return s;
            continue;
        }
        if (r <= 0)
            return READER_CRASHED; /* the reader is gone */
    }
    return READER_OK;
}

/* One answer (its length, then it) before the deadline; longer than max is not one a reader gives.
 */
static enum reader_status
reader_receive(uint64_t max, double deadline, volatile sig_atomic_t *stop, char **answer,
               size_t *answer_len)
{
    uint64_t n = 0;
    enum reader_status s;

    *answer = NULL;
    if ((s = reader_recv(&n, sizeof(n), deadline, stop)) != READER_OK)
        return s;
    if (n == 0 || n > max)
        return READER_CRASHED;
    if ((*answer = malloc((size_t)n)) == NULL)
        return READER_ERROR;
    if ((s = reader_recv(*answer, (size_t)n, deadline, stop)) != READER_OK) {
        free(*answer);
        *answer = NULL;
        return s;
    }
    *answer_len = (size_t)n;
    return READER_OK;
}

/* One request (head, then body) and its answer, before the deadline. */
static enum reader_status
reader_exchange(const struct reader_buf *head, const char *body, size_t body_len, uint64_t max,
                double deadline, volatile sig_atomic_t *stop, char **answer, size_t *answer_len)
{
    struct iovec iov[2] = {{head->p, head->len}, {(void *)body, body_len}};
    enum reader_status s;

    *answer = NULL;
    if (head->failed)
        return READER_ERROR;
    if ((s = reader_send(iov, body_len ? 2 : 1, deadline, stop)) != READER_OK)
        return s;
    return reader_receive(max, deadline, stop, answer, answer_len);
}

/* A failed exchange: the reader is never talked to again; err says why. */
static enum reader_status
reader_failed(enum reader_status s, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    /* Killed, crashed or interrupted mid-mail: never talk to that reader again. */
    reader_stop_proc(1);
    if (stop && *stop)
        s = READER_STOPPED; /* whatever happened, it happened while stopping */
    if (s == READER_CRASHED)
        snprintf(err, errlen, "the reader died reading it");
    else if (s == READER_TIMEOUT)
        snprintf(err, errlen, "the reader took longer than %d s", reader_proc.timeout);
    else if (s == READER_STOPPED)
        snprintf(err, errlen, "stopped while reading it");
    else if (err[0] == '\0')
        snprintf(err, errlen, "cannot talk to the reader: %s", strerror(errno));
    return s;
}

/* The most a parse answer may be: the mail's fields cannot outgrow its bytes by more. */
static uint64_t
reader_parse_max(size_t raw_len)
{
    return (uint64_t)raw_len * 4 + (1u << 20);
}

/* The head of a parse request: 'P', the lengths, the community's own address. */
static void
reader_put_parse(struct reader_buf *b, size_t raw_len, size_t parse_len, const char *own)
{
    uint8_t op = READER_OP_PARSE;
    uint64_t rl = raw_len, pl = parse_len;
    uint32_t ol = (uint32_t)strlen(own);

    reader_put(b, &op, 1);
    reader_put(b, &rl, sizeof(rl));
    reader_put(b, &pl, sizeof(pl));
    reader_put(b, &ol, sizeof(ol));
    reader_put(b, own, ol);
}

/*
 * The answer to a parse sent ahead, if it is of this mail; else it is taken
 * and thrown away (or its reader replaced), and 1 says "ask for the parse".
 */
static int
reader_ahead_take(const char *raw, size_t raw_len, size_t parse_len, const char *own,
                  volatile sig_atomic_t *stop, enum reader_status *s, char **answer, size_t *alen)
{
    int same = reader_ahead.raw_len == raw_len && reader_ahead.parse_len == parse_len &&
               strcmp(reader_ahead.own, own) == 0 && memcmp(reader_ahead.raw, raw, raw_len) == 0;
    double deadline = reader_ahead.deadline;

    free(reader_ahead.raw);
    reader_ahead.raw = NULL;
    reader_ahead.sent = 0;
    *s = reader_receive(reader_parse_max(raw_len), deadline, stop, answer, alen);
    if (same) {
        reader_proc.deadline = deadline;
        return 0;
    }
    free(*answer);
    *answer = NULL;
    if (*s != READER_OK) {
        /* Whatever went wrong was the other mail's: it meets it again in its turn. */
        log_debug("reader: the parse sent ahead was not used and failed (%s); replaced",
                  reader_status_name(*s));
        reader_stop_proc(1);
    } else {
        reader_proc.served++;
    }
    return 1;
}

enum reader_status
reader_parse(const char *raw, size_t raw_len, size_t parse_len, const char *own_address,
             int timeout, struct mail **out, char *err, size_t errlen, volatile sig_atomic_t *stop)
{
    char *answer = NULL;
    size_t alen = 0;
    const char *own = own_address ? own_address : "";
    struct reader_buf head = {0};
    enum reader_status s;

    *out = NULL;
    err[0] = '\0';
    reader_next.set = 0; /* named for a reading that did not come */
    if (timeout <= 0)
        timeout = 30;
    reader_proc.timeout = timeout;
    if (reader_ahead.sent &&
        reader_ahead_take(raw, raw_len, parse_len, own, stop, &s, &answer, &alen) == 0)
        goto answered;
    if (reader_proc.pid > 0 && reader_proc.served >= READER_MAILS)
        reader_stop_proc(0); /* it ends at the end of its input; this mail gets a fresh one */
    if (reader_proc.pid <= 0 && reader_start(timeout, err, errlen) != 0)
        return READER_ERROR;
    reader_proc.deadline = reader_clock() + timeout;
    reader_put_parse(&head, raw_len, parse_len, own);
    s = reader_exchange(&head, raw, raw_len, reader_parse_max(raw_len), reader_proc.deadline, stop,
                        &answer, &alen);
    free(head.p);
answered:
    if (s != READER_OK)
        return reader_failed(s, stop, err, errlen);
    reader_proc.served++;
    struct reader_in in = {answer, alen, 1, 0};
    if (answer[0] == 1) {
        char *why = reader_get_str(&in);
        snprintf(err, errlen, "%s", why ? why : "unparseable");
        free(why);
        free(answer);
        return READER_UNPARSEABLE;
    }
    *out = answer[0] == 0 ? reader_get_mail(&in) : NULL;
    free(answer);
    if (*out == NULL) {
        reader_stop_proc(1);
        snprintf(err, errlen, "the reader's answer was not a mail");
        return READER_CRASHED;
    }
    return READER_OK;
}

void
reader_parse_next(const char *raw, size_t raw_len, size_t parse_len, const char *own_address,
                  int timeout)
{
    reader_next.set = 1;
    reader_next.raw = raw;
    reader_next.raw_len = raw_len;
    reader_next.parse_len = parse_len;
    reader_next.own = own_address ? own_address : "";
    reader_next.timeout = timeout > 0 ? timeout : 30;
}

/*
 * Put the parse named by reader_parse_next after the reading request in b,
 * when the two fit in the request pipe at once: the pipe is empty here (the
 * reader took the whole parse before it answered), so the write cannot wait
 * on the reader, which may be writing a long reading back meanwhile.  The
 * reader then parses the next mail while the daemon stores this one, and is
 * woken once a mail instead of twice.
 */
static void
reader_put_ahead(struct reader_buf *b)
{
    size_t own_len = strlen(reader_next.own);
    size_t len = 1 + 8 + 8 + 4 + own_len + reader_next.raw_len;

    reader_next.set = 0;
    if (reader_proc.served >= READER_MAILS || own_len >= sizeof(reader_ahead.own) ||
        b->len + len > reader_proc.pipe_cap)
        return;
    char *copy = malloc(reader_next.raw_len ? reader_next.raw_len : 1);
    if (copy == NULL)
        return;
    memcpy(copy, reader_next.raw, reader_next.raw_len);
    reader_put_parse(b, reader_next.raw_len, reader_next.parse_len, reader_next.own);
    reader_put(b, reader_next.raw, reader_next.raw_len);
    reader_ahead.raw = copy;
    reader_ahead.raw_len = reader_next.raw_len;
    reader_ahead.parse_len = reader_next.parse_len;
    memcpy(reader_ahead.own, reader_next.own, own_len + 1);
    reader_ahead.deadline = reader_clock() + reader_next.timeout;
}

enum reader_status
reader_read(const struct config *cfg, size_t size, const struct reading_context *ctx,
            struct reading *out, char *err, size_t errlen, volatile sig_atomic_t *stop)
{
    char *answer = NULL;
    size_t alen = 0;
    uint8_t op = READER_OP_READ;
    struct reader_buf req = {0}, head = {0};

    err[0] = '\0';
    memset(out, 0, sizeof(*out));
    if (reader_proc.pid <= 0 || reader_ahead.sent) {
        /* After a parse sent ahead, the reader holds the next mail, not this one. */
        reader_next.set = 0;
        snprintf(err, errlen, "no mail was parsed to read");
        return READER_ERROR;
    }
    reader_put_request(&req, cfg, size, ctx);
    uint64_t len = req.len;
    reader_put(&head, &op, 1);
    reader_put(&head, &len, sizeof(len));
    reader_put(&head, req.p, req.len);
    head.failed |= req.failed;
    free(req.p);
    if (reader_next.set)
        reader_put_ahead(&head);
    /* The same time limit as its parse: the two together are one mail's reading. */
    enum reader_status s = reader_exchange(&head, NULL, 0, (uint64_t)size * 8 + (4u << 20),
                                           reader_proc.deadline, stop, &answer, &alen);
    free(head.p);
    /* Sent (a failure stopped the reader, and with it what was sent ahead). */
    reader_ahead.sent = reader_ahead.raw != NULL && s == READER_OK;
    if (s != READER_OK)
        return reader_failed(s, stop, err, errlen);
    struct reader_in in = {answer, alen, 1, 0};
    if (answer[0] == 1) {
        char *why = reader_get_str(&in);
        snprintf(err, errlen, "%s", why ? why : "no reading");
        free(why);
        free(answer);
        return READER_ERROR;
    }
    int rc = answer[0] == 0 ? reader_get_reading(&in, out) : -1;
    free(answer);
    if (rc != 0) {
        reader_stop_proc(1);
        snprintf(err, errlen, "the reader's answer was not a reading");
        return READER_CRASHED;
    }
    return READER_OK;
}
