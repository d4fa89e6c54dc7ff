/*
 * reader: parse untrusted mail in an isolated process (reader.h).
 *
 * Protocol on the pipes (native byte order, both ends are this program;
 * reader_wire.c writes and reads the fields):
 *   daemon -> reader: 'P', u64 raw_len, u64 parse_len, u32 own_len, own
 *                     address, raw bytes: parse this mail (the reader keeps
 *                     it; the Nth parse of a reader is its mail number N)
 *                     'R', u32 number, u64 len, the request
 *                     (reader_put_request): read mail number N, with what
 *                     the daemon knows of its sender
 *   reader -> daemon: u64 len, then u8 status (0 done, 1 not), then for 'P'
 *                     the mail's fields or the parse error, for 'R' the
 *                     reading (reader_put_reading) or why there is none
 * The reader serves requests one after another, in order, and keeps its last
 * READER_KEPT mails.  Requests go ahead of need (reader_parse_next,
 * reader_read_next): while the daemon reads and stores mails k and k+1, the
 * reader reads mails k+2 and k+3 with the contexts their senders had
 * before k, and parses mails k+5 and k+6; what goes ahead goes every other
 * mail (reader_reads_ahead), as soon as those contexts are known
 * (reader_send_next), so that the reader is woken at most once for two and
 * is mostly still busy when the next requests come.
 * The daemon uses an answer only for the very bytes, and the very context,
 * it was asked for.  It kills a reader that takes longer than the timeout and
 * starts another for the next mail.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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
    int to, from;     /* pipe ends (non-blocking): requests to the reader, answers from it */
    uint32_t parses;  /* parses sent to it: its mails' numbers; after READER_MAILS it is replaced */
    unsigned gen;     /* which reader this is: one more at each start */
    int timeout;
    size_t pipe_cap;  /* what the request pipe holds: what goes ahead must fit */
} reader_proc = {0, -1, -1, 0, 0, 0, 0};

/*
 * The requests sent whose answers are not used yet, in the order sent (the
 * order their answers come in).  Each keeps what it was asked for: a parse
 * its raw bytes, a reading its request; an answer is used only for the very
 * mail and context it was asked for.  One nobody wants any more (its mail
 * was not the one that came, its context changed) is taken when it comes
 * and thrown away.  At mail k's turn: the parses of k+1 to k+4 and the
 * reading of k+1 sent before, the readings of k+2 and k+3 and the parses of
 * k+5 and k+6 sent now, and mail k's own reading when its context changed:
 * ten, and two to spare.
 */
#define READER_SENT_MAX 12

struct reader_sent {
    char op;         /* READER_OP_PARSE or READER_OP_READ */
    uint32_t number; /* the mail, by its parse's number in this reader */
    int wanted;      /* 0: thrown away when it comes */
    int taken;       /* its answer came (answer, unless thrown away) */
    double deadline; /* its mail's time limit: parse and reading together */
    uint64_t max;    /* the longest answer it may have */
    char *key;       /* a parse: the raw bytes; a reading: the request; NULL: none kept */
    size_t key_len, parse_len;
    size_t sent_len; /* the request's bytes on the pipe */
    char own[320];   /* a parse: the community's address it was given */
    char *answer;
    size_t alen;
    struct mail *mail; /* a parse taken early (reader_parse_early): its mail */
};

static struct {
    struct reader_sent q[READER_SENT_MAX];
    int n;
} reader_sent;

static struct reader_counts reader_counts;

void
reader_get_counts(struct reader_counts *c)
{
    *c = reader_counts;
}

/* The mail of the last successful reader_parse, for its one reading. */
static struct {
    int set;
    unsigned gen;    /* the reader that holds it: another one must be given it again */
    uint32_t number;
    double deadline;
    const char *raw; /* the caller's, valid until the reading returns: to parse it again */
    size_t raw_len, parse_len;
    char own[320];
} reader_cur;

/*
 * The mails named by reader_parse_next, in order, for reader_send_next (or
 * the next reader_read) to send ahead.  Six: with what goes ahead sent every
 * other mail, mails k+2 and k+3's parses then went two mails before their
 * readings are asked for ahead, and their answers are there when their
 * contexts are looked up, also when the reader runs a little behind (with
 * five, 9,018 of 10,000 readings went ahead against 9,769 with six, the
 * reader on its own core).
 */
static struct {
    const char *raw, *own;
    size_t raw_len, parse_len;
    int timeout;
} reader_next[READER_AHEAD];
static int reader_nnext;

/*
 * The mails reader_parse_early gave this turn, in order (k+2, k+3), and the
 * readings reader_read_next asked for them.  Two: what goes ahead then goes
 * every other mail, two readings at once (reader_reads_ahead), and the
 * reader, which reads faster than the daemon stores, sleeps and is woken
 * once every two mails instead of at every one.
 */
static struct reader_early {
    int set, spec;
    unsigned gen;
    uint32_t number;
    double deadline;
    size_t size;           /* the mail's real size, for the reading asked for */
    struct reader_buf req; /* that reading's request */
} reader_early[READER_READS_AHEAD];
static int reader_nearly;

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

/* Both sides' clock: deadlines, and when the reader's CPU limit was set (no system call). */
static double
reader_clock(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
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

/* Set once the seccomp filter is in place. */
static int reader_sandboxed;

#if defined(__SANITIZE_ADDRESS__)
/*
 * LeakSanitizer looks for leaks at exit by tracing the process (ptrace),
 * which the sandbox forbids: in the sandboxed reader of a sanitizer build it
 * could only fail ("LeakSanitizer has encountered a fatal error").  This hook
 * of the sanitizer's runtime turns that check off there, and only there: the
 * daemon and the tests keep it.
 */
int __lsan_is_turned_off(void);
int
__lsan_is_turned_off(void)
{
    return reader_sandboxed;
}
#endif

/* The reader's lifetime CPU limit (reader_limits), read once at its start. */
static rlim_t reader_cpu_max = RLIM_INFINITY;

/*
 * The CPU limit is set ahead by this much more than a mail needs, and
 * set again only once this much wall time has passed: a getrusage and a
 * setrlimit at every mail were a tenth of the reader's system calls.
 */
#define READER_CPU_SLACK 1

/* When the CPU limit was last set (reader_clock), 0 before the first. */
static double reader_cpu_set_at;

/*
 * The CPU this mail may take, its parse and its reading together: at least
 * the timeout.  Set at the parse only.  The limit is set to what was used
 * plus the timeout plus READER_CPU_SLACK, and kept while less wall time than
 * READER_CPU_SLACK has passed since: the reader is one thread, so it cannot
 * have used more CPU than that since, and at least the timeout is still left
 * (a second more, as the limit counts whole seconds).  A mail that spins is
 * still stopped, after at most timeout + READER_CPU_SLACK + 1 seconds of CPU
 * (the daemon kills it at its timeout anyway; this is for a reader whose
 * daemon is gone).
 */
static void
reader_cpu_budget(int timeout)
{
    struct rusage ru;
    double now = reader_clock();

    if (reader_cpu_set_at > 0 && now - reader_cpu_set_at < READER_CPU_SLACK)
        return;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        reader_cpu_set_at = 0; /* tried again at the next mail */
        return;
    }
    rlim_t used = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec);
    struct rlimit rl = {used + (rlim_t)timeout + 1 + READER_CPU_SLACK, reader_cpu_max};
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
        rl.rlim_cur = rl.rlim_max;
    reader_cpu_set_at = setrlimit(RLIMIT_CPU, &rl) == 0 ? now : 0;
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

/*
 * The mails of the last READER_KEPT parses, by number, for the readings that
 * name them: with requests sent ahead, mail k may still be read (its context
 * turned out other than the one guessed) after mails k+1 to k+6 were
 * parsed (reader_put_ahead, parses six ahead, sent every other mail); one
 * more to spare.
 */
#define READER_KEPT 8
static struct {
    uint32_t number;
    struct mail *m; /* NULL: that parse failed */
} reader_kept[READER_KEPT];
static uint32_t reader_parses;

/* The kept mail number n, or NULL. */
static struct mail *
reader_kept_mail(uint32_t n)
{
    return n != 0 && reader_kept[n % READER_KEPT].number == n ? reader_kept[n % READER_KEPT].m
                                                              : NULL;
}

static void
reader_kept_free(void)
{
    for (size_t i = 0; i < READER_KEPT; i++) {
        mail_free(reader_kept[i].m);
        reader_kept[i].m = NULL;
    }
}

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

/*
 * The answer being put together: kept from one answer to the next, as a
 * buffer freed and grown again at every answer was a tenth of what the
 * reader did around a parse (malloc tidying its heap for the 4 KiB).  One a
 * long mail grew is given back.
 */
#define READER_OUT_KEEP (256u << 10)
static struct reader_buf reader_out;

/* The answer's length, then the answer; reader_out is then empty again. */
static int
reader_answer(void)
{
    struct reader_buf *out = &reader_out;
    uint64_t n = out->len;
    struct iovec iov[2] = {{&n, sizeof(n)}, {out->p, out->len}};
    int rc = out->failed ? -1 : reader_writev_all(1, iov, 2);

    out->len = 0;
    out->failed = 0;
    if (out->cap > READER_OUT_KEEP) {
        free(out->p);
        out->p = NULL;
        out->cap = 0;
    }
    return rc;
}

/* 'R': the reading of a kept mail, with the context the daemon sent. */
static int
reader_serve_reading(void)
{
    uint32_t number;
    uint64_t len;
    struct reader_buf *out = &reader_out;
    uint8_t status = 1;

    if (reader_read_all(0, &number, sizeof(number)) != 0 ||
        reader_read_all(0, &len, sizeof(len)) != 0 || len > (1u << 20))
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
    struct mail *held = reader_kept_mail(number);
    if (held != NULL && reading_read(&cfg, held, size, &ctx, &r) == 0) {
        status = 0;
        reader_put(out, &status, 1);
        reader_put_reading(out, &r);
        reading_free(&r);
    } else {
        reader_put(out, &status, 1);
        reader_put_str(out, held ? "out of memory reading the mail" : "no mail to read");
    }
    reader_config_free(&cfg);
    return reader_answer();
}

/* 'P': parse one mail and keep it, as the next number. */
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
    uint32_t number = ++reader_parses;
    size_t slot = number % READER_KEPT;
    mail_free(reader_kept[slot].m);
    reader_kept[slot].m = NULL;
    reader_kept[slot].number = number;
    struct mail *m = NULL;
    struct reader_buf *out = &reader_out;
    uint8_t status = 0;
    if (mail_parse(raw, parse_len, &m, err, sizeof(err)) != 0) {
        status = 1;
        reader_put(out, &status, 1);
        reader_put_str(out, err);
    } else {
        reader_kept[slot].m = m;
        reader_trial(m, raw, raw_len, own[0] ? own : NULL);
        reader_put(out, &status, 1);
        reader_put_mail(out, m);
    }
    free(raw);
    return reader_answer();
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
    else
        reader_sandboxed = 1;
    for (;;) {
        /* The daemon replaces it after READER_MAILS mails by closing its input. */
        int rc = reader_serve_one(timeout > 0 ? timeout : 30);
        if (rc != 0) {
            reader_kept_free();
            free(reader_out.p);
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
reader_sent_free(struct reader_sent *e)
{
    free(e->key);
    free(e->answer);
    mail_free(e->mail);
    memset(e, 0, sizeof(*e));
}

/*
 * The bytes of the requests whose answers did not come: at most what the
 * request pipe holds now (the reader takes a request whole before it
 * answers it).  0: the reader is idle.
 */
static size_t
reader_sent_busy(void)
{
    size_t n = 0;

    for (int i = 0; i < reader_sent.n; i++)
        if (!reader_sent.q[i].taken)
            n += reader_sent.q[i].sent_len;
    return n;
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
         * A reader still busy with something sent ahead may be stuck in it
         * (the mail that hangs a parser): nobody will read that answer, so
         * it is killed rather than waited for.
         */
        if (kill_it || reader_sent_busy())
            kill(reader_proc.pid, SIGKILL);
        while (waitpid(reader_proc.pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    reader_proc.pid = 0;
    reader_proc.parses = 0;
    reader_answers.at = reader_answers.end = 0;
    for (int i = 0; i < reader_sent.n; i++)
        reader_sent_free(&reader_sent.q[i]);
    reader_sent.n = 0;
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
    reader_proc.gen++;
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

/*
 * Set when a send found the reader gone (EPIPE): it died before it took
 * the request whole, so what it was asked is not to blame, and is asked
 * once more of a new reader.
 */
static int reader_refused;

/* Send iov[0..n) whole before the deadline (one writev when the pipe has room). */
static enum reader_status
reader_send(struct iovec *iov, int n, double deadline, volatile sig_atomic_t *stop)
{
    reader_refused = 0;
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
        if (w <= 0) {
            reader_refused = w < 0 && errno == EPIPE;
            return READER_CRASHED; /* the reader is gone */
        }
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

/* The most a reading answer may be, for a message of size bytes. */
static uint64_t
reader_read_max(size_t size)
{
    return (uint64_t)size * 8 + (4u << 20);
}

/* ---- the daemon's side: requests sent, answers taken ---- */

/* A new entry at the end of reader_sent (NULL when it is full: nothing is sent then). */
static struct reader_sent *
reader_sent_add(char op, uint32_t number, double deadline, uint64_t max)
{
    if (reader_sent.n == READER_SENT_MAX)
        return NULL;
    struct reader_sent *e = &reader_sent.q[reader_sent.n++];
    memset(e, 0, sizeof(*e));
    e->op = op;
    e->number = number;
    e->wanted = 1;
    e->deadline = deadline;
    e->max = max;
    return e;
}

/* Forget the entries whose answers came and are not wanted (or were used). */
static void
reader_sent_gc(void)
{
    int w = 0;

    for (int i = 0; i < reader_sent.n; i++) {
        struct reader_sent *e = &reader_sent.q[i];
        if (e->taken && !e->wanted) {
            reader_sent_free(e);
            continue;
        }
        if (w != i)
            reader_sent.q[w] = *e; /* e, past the end now, is cleared when used again */
        w++;
    }
    reader_sent.n = w;
}

/* The wanted parse sent of these very bytes, or -1. */
static int
reader_sent_parse(const char *raw, size_t raw_len, size_t parse_len, const char *own)
{
    for (int i = 0; i < reader_sent.n; i++) {
        const struct reader_sent *e = &reader_sent.q[i];
        if (e->op == READER_OP_PARSE && e->wanted && e->key != NULL && e->key_len == raw_len &&
            e->parse_len == parse_len && strcmp(e->own, own) == 0 &&
            memcmp(e->key, raw, raw_len) == 0)
            return i;
    }
    return -1;
}

/*
 * The wanted reading sent of mail number n with this very request, or -1;
 * the other readings of that mail are not wanted any more.
 */
static int
reader_sent_reading(uint32_t n, const struct reader_buf *req)
{
    int found = -1;

    for (int i = 0; i < reader_sent.n; i++) {
        struct reader_sent *e = &reader_sent.q[i];
        if (e->op != READER_OP_READ || e->number != n || !e->wanted)
            continue;
        if (found < 0 && e->key_len == req->len && memcmp(e->key, req->p, req->len) == 0)
            found = i;
        else
            e->wanted = 0;
    }
    return found;
}

/* Does the block hold a whole answer (its length, then that many bytes)? */
static int
reader_block_whole(const struct reader_block *k)
{
    uint64_t n;

    if (k->end - k->at < sizeof(n))
        return 0;
    memcpy(&n, k->b + k->at, sizeof(n));
    return k->end - k->at - sizeof(n) >= n;
}

/*
 * Is a whole answer waiting (in the block, or in the pipe), so that taking
 * it cannot wait?  Also 1 when the reader is gone, so that taking it says so.
 * An answer is mostly one write shorter than the block, which one read takes
 * whole: the pipe is asked what it holds (FIONREAD) only when the block is
 * full and the answer longer.
 */
static int
reader_answer_ready(void)
{
    struct reader_block *k = &reader_answers;
    uint64_t n;
    int avail = 0;

    if (reader_block_whole(k))
        return 1;
    memmove(k->b, k->b + k->at, k->end - k->at);
    k->end -= k->at;
    k->at = 0;
    if (k->end < k->cap) {
        ssize_t r = read(reader_proc.from, k->b + k->end, k->cap - k->end);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
            return 1;
        if (r > 0)
            k->end += (size_t)r;
        if (reader_block_whole(k))
            return 1;
        if (k->end < k->cap)
            return 0; /* the pipe held no more */
    }
    memcpy(&n, k->b, sizeof(n));
    if (ioctl(reader_proc.from, FIONREAD, &avail) != 0)
        return 0;
    return k->end - sizeof(n) + (size_t)avail >= n;
}

/* Take the answer of e (the first not taken): wait for it within its mail's time. */
static enum reader_status
reader_take_one(struct reader_sent *e, volatile sig_atomic_t *stop)
{
    enum reader_status s = reader_receive(e->max, e->deadline, stop, &e->answer, &e->alen);
    if (s != READER_OK)
        return s;
    e->taken = 1;
    if (!e->wanted) {
        free(e->answer);
        e->answer = NULL;
    }
    return READER_OK;
}

/*
 * Take the answers of entries [0, upto] that did not come yet, in order,
 * waiting for each.  On a failure, *at is the entry it was with.
 */
static enum reader_status
reader_take(int upto, volatile sig_atomic_t *stop, int *at)
{
    for (*at = 0; *at <= upto && *at < reader_sent.n; (*at)++) {
        struct reader_sent *e = &reader_sent.q[*at];
        if (e->taken)
            continue;
        enum reader_status s = reader_take_one(e, stop);
        if (s != READER_OK)
            return s;
    }
    return READER_OK;
}

/* reader_take without waiting: 1 all taken, 0 one is not all there yet, -1 one failed. */
static int
reader_take_ready(int upto)
{
    for (int i = 0; i <= upto && i < reader_sent.n; i++) {
        struct reader_sent *e = &reader_sent.q[i];
        if (e->taken)
            continue;
        if (!reader_answer_ready())
            return 0;
        if (reader_take_one(e, NULL) != READER_OK)
            return -1;
    }
    return 1;
}

/*
 * The bytes a request takes in the request pipe, as reader_put_parse and
 * reader_send_reading write it: a parse (op, two lengths, the community's
 * address, the mail) and a reading (op, the mail's number, a length, the
 * request).
 */
static size_t
reader_parse_wire_len(size_t own_len, size_t raw_len)
{
    return 1 + sizeof(uint64_t) + sizeof(uint64_t) + sizeof(uint32_t) + own_len + raw_len;
}

static size_t
reader_reading_wire_len(size_t req_len)
{
    return 1 + sizeof(uint32_t) + sizeof(uint64_t) + req_len;
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
 * Put a parse of raw in b and keep it as sent; with keep, a copy of raw is
 * kept to know the mail again (a parse sent ahead) and raw goes in b too,
 * else the caller sends raw after b.  NULL when it cannot be kept.
 */
static struct reader_sent *
reader_send_parse(struct reader_buf *b, const char *raw, size_t raw_len, size_t parse_len,
                  const char *own, double deadline, int keep)
{
    size_t own_len = strlen(own);
    char *copy = NULL;

    if (own_len >= sizeof(reader_sent.q[0].own))
        return NULL;
    if (keep && (copy = malloc(raw_len ? raw_len : 1)) == NULL)
        return NULL;
    struct reader_sent *e =
        reader_sent_add(READER_OP_PARSE, ++reader_proc.parses, deadline, reader_parse_max(raw_len));
    if (e == NULL) {
        reader_proc.parses--;
        free(copy);
        return NULL;
    }
    reader_put_parse(b, raw_len, parse_len, own);
    if (keep) {
        memcpy(copy, raw, raw_len);
        reader_put(b, raw, raw_len);
    }
    e->key = copy;
    e->key_len = raw_len;
    e->parse_len = parse_len;
    e->sent_len = reader_parse_wire_len(own_len, raw_len);
    memcpy(e->own, own, own_len + 1);
    return e;
}

/* Put the reading of mail number n with request req in b and keep it as sent. */
static struct reader_sent *
reader_send_reading(struct reader_buf *b, uint32_t n, const struct reader_buf *req,
                    double deadline, uint64_t max)
{
    uint8_t op = READER_OP_READ;
    uint64_t len = req->len;
    char *copy = malloc(req->len ? req->len : 1);

    if (copy == NULL)
        return NULL;
    struct reader_sent *e = reader_sent_add(READER_OP_READ, n, deadline, max);
    if (e == NULL) {
        free(copy);
        return NULL;
    }
    memcpy(copy, req->p, req->len);
    e->key = copy;
    e->key_len = req->len;
    e->sent_len = reader_reading_wire_len(req->len);
    reader_put(b, &op, 1);
    reader_put(b, &n, sizeof(n));
    reader_put(b, &len, sizeof(len));
    reader_put(b, req->p, req->len);
    return e;
}

/* The index of entry e in reader_sent (entries move only in reader_sent_gc). */
static int
reader_sent_index(const struct reader_sent *e)
{
    return (int)(e - reader_sent.q);
}

/* ---- the daemon's side: the calls ---- */

/*
 * Did a request fail (s) because the reader was gone before it took it
 * (reader_refused)?  Then it is replaced, and 1 says: ask the new one once.
 */
static int
reader_gone_before(enum reader_status s, const char *what)
{
    if (s != READER_CRASHED || !reader_refused)
        return 0;
    log_debug("reader: gone before it took %s; asking a new one", what);
    reader_stop_proc(1);
    return 1;
}

/* What was named for one mail is forgotten when the next mail comes. */
static void
reader_forget_named(void)
{
    reader_cur.set = 0;
    reader_nnext = 0;
    for (int j = 0; j < READER_READS_AHEAD; j++)
        free(reader_early[j].req.p);
    memset(reader_early, 0, sizeof(reader_early));
    reader_nearly = 0;
}

/*
 * Wait for every answer still to come, thrown away unless wanted; when one
 * fails it was another mail's (a parse sent ahead, a reading whose context
 * changed), which meets it again in its own turn: the reader is replaced.
 */
static void
reader_drain(volatile sig_atomic_t *stop)
{
    int at;
    enum reader_status s = reader_take(reader_sent.n - 1, stop, &at);

    if (s != READER_OK) {
        log_debug("reader: an answer asked for ahead failed (%s); the reader is replaced",
                  reader_status_name(s));
        reader_stop_proc(1);
    }
    reader_sent_gc();
}

/* The parse answer of entry e, taken: READER_OK with *out, or why not. */
static enum reader_status
reader_parse_answer(struct reader_sent *e, struct mail **out, char *err, size_t errlen)
{
    char *answer = e->answer;
    size_t alen = e->alen;

    *out = e->mail;
    e->mail = NULL;
    e->wanted = 0;
    if (*out != NULL)
        return READER_OK; /* read from the answer early (reader_parse_early) */
    struct reader_in in = {answer, alen, 1, 0};
    if (answer[0] == 1) {
        char *why = reader_get_str(&in);
        snprintf(err, errlen, "%s", why ? why : "unparseable");
        free(why);
        return READER_UNPARSEABLE;
    }
    *out = answer[0] == 0 ? reader_get_mail(&in) : NULL;
    if (*out == NULL) {
        reader_stop_proc(1);
        snprintf(err, errlen, "the reader's answer was not a mail");
        return READER_CRASHED;
    }
    return READER_OK;
}

/* Ask an idle reader (a new one if none) for the parse of raw, and take it: *at is its entry. */
static enum reader_status
reader_parse_now(const char *raw, size_t raw_len, size_t parse_len, const char *own,
                 volatile sig_atomic_t *stop, char *err, size_t errlen, int *at)
{
    struct reader_buf head = {0};
    enum reader_status s;
    int failed_at;

    *at = -1;
    if (reader_proc.pid <= 0 && reader_start(reader_proc.timeout, err, errlen) != 0)
        return READER_ERROR;
    struct reader_sent *e = reader_send_parse(&head, raw, raw_len, parse_len, own,
                                              reader_clock() + reader_proc.timeout, 0);
    struct iovec iov[2] = {{head.p, head.len}, {(void *)raw, raw_len}};
    s = e == NULL || head.failed ? READER_ERROR : reader_send(iov, 2, e->deadline, stop);
    free(head.p);
    if (e == NULL)
        return s;
    *at = reader_sent_index(e);
    return s == READER_OK ? reader_take(*at, stop, &failed_at) : s;
}

enum reader_status
reader_parse(const char *raw, size_t raw_len, size_t parse_len, const char *own_address,
             int timeout, struct mail **out, char *err, size_t errlen, volatile sig_atomic_t *stop)
{
    const char *own = own_address ? own_address : "";
    enum reader_status s;
    int at;

    *out = NULL;
    err[0] = '\0';
    reader_forget_named();
    reader_proc.timeout = timeout > 0 ? timeout : 30;
    reader_sent_gc();
    int i = reader_sent_parse(raw, raw_len, parse_len, own);
    if (i >= 0) {
        /* Sent ahead: what came before it is earlier mails', not wanted now. */
        for (int j = 0; j < i; j++)
            reader_sent.q[j].wanted = 0;
        s = reader_take(i, stop, &at);
        if (s != READER_OK && at < i) {
            log_debug("reader: an answer asked for ahead failed (%s); the reader is replaced",
                      reader_status_name(s));
            reader_stop_proc(1);
        } else if (s != READER_OK) {
            return reader_failed(s, stop, err, errlen);
        } else {
            reader_counts.parses_ahead++;
        }
    }
    if (i < 0 || reader_proc.pid <= 0) {
        /* Not sent ahead (or lost with its reader): ask for it now, to an idle reader. */
        for (int j = 0; j < reader_sent.n; j++)
            reader_sent.q[j].wanted = 0;
        reader_drain(stop);
        if (reader_proc.pid > 0 && reader_proc.parses >= READER_MAILS)
            reader_stop_proc(0); /* it ends at the end of its input; this mail gets a fresh one */
        s = reader_parse_now(raw, raw_len, parse_len, own, stop, err, errlen, &i);
        if (reader_gone_before(s, "the mail"))
            s = reader_parse_now(raw, raw_len, parse_len, own, stop, err, errlen, &i);
        if (s != READER_OK)
            return err[0] && s == READER_ERROR ? s : reader_failed(s, stop, err, errlen);
    }
    reader_counts.parses++;
    struct reader_sent *e = &reader_sent.q[i];
    uint32_t number = e->number;
    double deadline = e->deadline;
    s = reader_parse_answer(e, out, err, errlen);
    reader_sent_gc();
    if (s != READER_OK)
        return s;
    reader_cur.set = 1;
    reader_cur.gen = reader_proc.gen;
    reader_cur.number = number;
    reader_cur.deadline = deadline;
    reader_cur.raw = raw;
    reader_cur.raw_len = raw_len;
    reader_cur.parse_len = parse_len;
    snprintf(reader_cur.own, sizeof(reader_cur.own), "%s", own);
    return READER_OK;
}

int
reader_reads_ahead(void)
{
    if (reader_proc.pid <= 0 || reader_cur.gen != reader_proc.gen)
        return 0;
    for (int i = 0; i < reader_sent.n; i++) {
        const struct reader_sent *e = &reader_sent.q[i];
        if (e->op == READER_OP_READ && e->wanted && !e->taken &&
            e->number > reader_cur.number + READER_READS_SKIP)
            return 1;
    }
    return 0;
}

int
reader_parse_early(const char *raw, size_t raw_len, size_t parse_len, const char *own_address,
                   const struct mail **out)
{
    const char *own = own_address ? own_address : "";

    *out = NULL;
    if (reader_nearly == READER_READS_AHEAD)
        return -1;
    struct reader_early *x = &reader_early[reader_nearly];
    free(x->req.p);
    memset(x, 0, sizeof(*x));
    int i = reader_proc.pid > 0 ? reader_sent_parse(raw, raw_len, parse_len, own) : -1;
    if (i < 0)
        return -1;
    int ready = reader_take_ready(i);
    if (ready < 0) {
        /* Not this mail's to answer for: the current one is parsed again, in a new reader. */
        log_debug("reader: an answer asked for ahead failed; the reader is replaced");
        reader_stop_proc(1);
        return -1;
    }
    if (ready == 0)
        return 0;
    struct reader_sent *e = &reader_sent.q[i];
    if (e->answer[0] != 0)
        return -1; /* not a mail: its own turn says so */
    if (e->mail == NULL) {
        struct reader_in in = {e->answer, e->alen, 1, 0};
        if ((e->mail = reader_get_mail(&in)) == NULL)
            return -1;
    }
    x->set = 1;
    x->gen = reader_proc.gen;
    x->number = e->number;
    x->deadline = e->deadline;
    reader_nearly++;
    *out = e->mail;
    return 1;
}

void
reader_read_next(const struct config *cfg, size_t size, const struct reading_context *ctx)
{
    if (reader_nearly == 0)
        return;
    struct reader_early *x = &reader_early[reader_nearly - 1];
    free(x->req.p);
    memset(&x->req, 0, sizeof(x->req));
    x->spec = 0;
    if (!x->set || x->gen != reader_proc.gen)
        return;
    reader_put_request(&x->req, cfg, size, ctx);
    x->spec = !x->req.failed;
    x->size = size;
}

void
reader_parse_next(const char *raw, size_t raw_len, size_t parse_len, const char *own_address,
                  int timeout)
{
    if (reader_nnext == READER_AHEAD)
        return;
    reader_next[reader_nnext].raw = raw;
    reader_next[reader_nnext].raw_len = raw_len;
    reader_next[reader_nnext].parse_len = parse_len;
    reader_next[reader_nnext].own = own_address ? own_address : "";
    reader_next[reader_nnext].timeout = timeout > 0 ? timeout : 30;
    reader_nnext++;
}

/*
 * Put in b what goes ahead of need, when all of b (and also, the bytes sent
 * with it) fits in the request pipe at once beside what may still be in it
 * (reader_sent_busy): the write then cannot wait on the reader, which may be
 * writing a long answer back meanwhile.  The reading asked for by
 * reader_read_next first, then the parses of the mails named by
 * reader_parse_next.
 */
static void
reader_put_ahead(struct reader_buf *b, size_t also)
{
    also += reader_sent_busy();
    for (int j = 0; j < reader_nearly; j++) {
        struct reader_early *x = &reader_early[j];
        if (!x->spec || x->gen != reader_proc.gen ||
            b->len + also + x->req.len + 16 > reader_proc.pipe_cap)
            break; /* in order: k+2's reading never goes without k+1's */
        if (reader_sent_reading(x->number, &x->req) < 0)
            (void)reader_send_reading(b, x->number, &x->req, x->deadline,
                                      reader_read_max(x->size));
    }
    for (int i = 0; i < reader_nnext; i++) {
        const char *own = reader_next[i].own;
        size_t len = reader_parse_wire_len(strlen(own), reader_next[i].raw_len);
        if (reader_proc.parses >= READER_MAILS || b->len + also + len > reader_proc.pipe_cap)
            break;
        if (reader_sent_parse(reader_next[i].raw, reader_next[i].raw_len,
                              reader_next[i].parse_len, own) >= 0)
            continue; /* sent already */
        if (reader_send_parse(b, reader_next[i].raw, reader_next[i].raw_len,
                              reader_next[i].parse_len, own,
                              reader_clock() + reader_next[i].timeout, 1) == NULL)
            break;
    }
}

/* The reading answer of entry e, taken: READER_OK with *out, or why not. */
static enum reader_status
reader_reading_answer(struct reader_sent *e, struct reading *out, char *err, size_t errlen)
{
    struct reader_in in = {e->answer, e->alen, 1, 0};

    e->wanted = 0;
    if (e->answer[0] == 1) {
        char *why = reader_get_str(&in);
        snprintf(err, errlen, "%s", why ? why : "no reading");
        free(why);
        return READER_ERROR;
    }
    if (e->answer[0] != 0 || reader_get_reading(&in, out) != 0) {
        reader_stop_proc(1);
        snprintf(err, errlen, "the reader's answer was not a reading");
        return READER_CRASHED;
    }
    return READER_OK;
}

/*
 * Send the reading of the current mail (req) to an idle reader, with what
 * goes ahead; when the reader that parsed the mail is gone, the mail is
 * parsed again first.  *at: the reading's entry.
 */
static enum reader_status
reader_ask(const struct reader_buf *req, size_t size, volatile sig_atomic_t *stop, char *err,
           size_t errlen, int *at)
{
    struct reader_buf head = {0}, tail = {0};
    struct reader_sent *p = NULL, *e;
    enum reader_status s = READER_OK;
    int again = reader_proc.pid <= 0 || reader_cur.gen != reader_proc.gen;

    if (again) {
        if (reader_proc.pid <= 0 && reader_start(reader_proc.timeout, err, errlen) != 0)
            return READER_ERROR;
        reader_cur.deadline = reader_clock() + reader_proc.timeout;
        p = reader_send_parse(&head, reader_cur.raw, reader_cur.raw_len, reader_cur.parse_len,
                              reader_cur.own, reader_cur.deadline, 0);
        if (p != NULL)
            p->wanted = 0; /* parsed before: only the reading that follows is wanted */
        reader_cur.number = reader_proc.parses;
        reader_cur.gen = reader_proc.gen;
    }
    e = reader_send_reading(&tail, reader_cur.number, req, reader_cur.deadline,
                            reader_read_max(size));
    if ((again && p == NULL) || e == NULL)
        s = READER_ERROR;
    else
        reader_put_ahead(&tail, head.len + (again ? reader_cur.raw_len : 0));
    struct iovec iov[3] = {{head.p, head.len}, {(void *)reader_cur.raw, reader_cur.raw_len},
                           {tail.p, tail.len}};
    if (s == READER_OK && (head.failed || tail.failed))
        s = READER_ERROR;
    if (s == READER_OK)
        s = again ? reader_send(iov, 3, reader_cur.deadline, stop)
                  : reader_send(iov + 2, 1, reader_cur.deadline, stop);
    *at = e != NULL ? reader_sent_index(e) : -1;
    free(head.p);
    free(tail.p);
    return s;
}

/*
 * Send what goes ahead (reader_put_ahead) beside a reading already asked
 * for.  That is other mails' business: when the reader cannot take it (it
 * died), *lost is set and this mail's answer is still taken, if it came;
 * only a stop is this mail's.
 */
static enum reader_status
reader_send_ahead(double deadline, volatile sig_atomic_t *stop, int *lost)
{
    struct reader_buf b = {0};
    enum reader_status s = READER_OK;

    reader_put_ahead(&b, 0);
    struct iovec iov = {b.p, b.len};
    if (b.len > 0 && !b.failed)
        s = reader_send(&iov, 1, deadline, stop);
    else if (b.failed)
        s = READER_ERROR; /* part of it may be in the list of what was sent */
    free(b.p);
    if (s == READER_STOPPED)
        return s;
    *lost = s != READER_OK;
    return READER_OK;
}

/* The wanted reading of the current mail asked for ahead (with any context), or -1. */
static int
reader_sent_current(void)
{
    for (int i = 0; i < reader_sent.n; i++) {
        const struct reader_sent *e = &reader_sent.q[i];
        if (e->op == READER_OP_READ && e->wanted && e->number == reader_cur.number)
            return i;
    }
    return -1;
}

void
reader_send_next(volatile sig_atomic_t *stop)
{
    int lost = 0;

    if (reader_proc.pid <= 0 || !reader_cur.set || reader_cur.gen != reader_proc.gen ||
        reader_reads_ahead())
        return;
    int i = reader_sent_current();
    if (i < 0)
        return; /* it goes with this mail's reading request (reader_ask) */
    if (reader_send_ahead(reader_sent.q[i].deadline, stop, &lost) != READER_OK || lost)
        reader_stop_proc(1); /* this mail is asked again of a new reader (reader_read) */
}

/*
 * May the reading of the current mail (req) go to a reader that is still
 * busy with what was sent ahead?  When the reader that parsed the mail is
 * there, the request fits in the request pipe beside whatever may still be
 * in it (reader_sent_busy: the write cannot wait on the reader) and there
 * is room to keep it as sent.  Its answer then comes after those still to
 * come, which are taken (thrown away unless wanted) while waiting for it.
 * Waiting for the reader to go idle first cost a sleep of the daemon and a
 * wake-up of each side for nothing: 502-528 such waits of 10,000 joins
 * (about one mail in twenty is not read ahead), 20 after, measured at
 * 27520f0 with the reader's counts.
 */
static int
reader_ask_busy(const struct reader_buf *req)
{
    return reader_proc.pid > 0 && reader_cur.gen == reader_proc.gen &&
           reader_sent.n < READER_SENT_MAX &&
           reader_sent_busy() + reader_reading_wire_len(req->len) <= reader_proc.pipe_cap;
}

/*
 * reader_ask, once the reader is idle (the answers still to come taken,
 * and thrown away unless wanted) unless it may be asked while busy
 * (reader_ask_busy); a reader found gone before it took the request is
 * replaced and asked once more.
 */
static enum reader_status
reader_ask_now(const struct reader_buf *req, size_t size, volatile sig_atomic_t *stop, char *err,
               size_t errlen, int *at)
{
    if (!reader_ask_busy(req))
        reader_drain(stop);
    if (stop && *stop)
        return READER_STOPPED;
    enum reader_status s = reader_ask(req, size, stop, err, errlen, at);
    if (reader_gone_before(s, "the reading"))
        s = reader_ask(req, size, stop, err, errlen, at);
    return s;
}

enum reader_status
reader_read(const struct config *cfg, size_t size, const struct reading_context *ctx,
            struct reading *out, char *err, size_t errlen, volatile sig_atomic_t *stop)
{
    struct reader_buf req = {0};
    enum reader_status s = READER_OK;
    int at, i, lost = 0;

    err[0] = '\0';
    memset(out, 0, sizeof(*out));
    if (!reader_cur.set) {
        /* No parse, a failed one, or this mail was read already. */
        reader_forget_named();
        snprintf(err, errlen, "no mail was parsed to read");
        return READER_ERROR;
    }
    reader_cur.set = 0; /* one reading a parse */
    reader_put_request(&req, cfg, size, ctx);
    reader_sent_gc();
    i = reader_proc.pid > 0 && reader_cur.gen == reader_proc.gen
            ? reader_sent_reading(reader_cur.number, &req)
            : -1;
    reader_counts.readings++;
    reader_counts.readings_ahead += i >= 0;
    if (req.failed) {
        s = READER_ERROR;
        snprintf(err, errlen, "out of memory asking for the reading");
    } else if (i >= 0 && !reader_reads_ahead()) {
        /* Asked for ahead with this very context: send what goes ahead now, then take it. */
        s = reader_send_ahead(reader_sent.q[i].deadline, stop, &lost);
    } else if (i >= 0) {
        /* The reader has the next mail's reading to work on: what goes ahead waits a turn. */
        s = READER_OK;
    } else {
        /* Not asked for (or with another context): ask now, once the reader is idle. */
        s = reader_ask_now(&req, size, stop, err, errlen, &i);
    }
    if (s == READER_OK) {
        s = reader_take(i, stop, &at);
        if (s != READER_OK && at < i && !(stop && *stop)) {
            /* Another mail's answer failed before this one's: a new reader, this mail again. */
            reader_stop_proc(1);
            lost = 0;
            s = reader_ask(&req, size, stop, err, errlen, &i);
            if (s == READER_OK)
                s = reader_take(i, stop, &at);
        }
    }
    free(req.p);
    reader_nnext = 0;
    for (int j = 0; j < READER_READS_AHEAD; j++)
        reader_early[j].set = reader_early[j].spec = 0;
    reader_nearly = 0;
    if (s != READER_OK)
        return err[0] && s == READER_ERROR ? s : reader_failed(s, stop, err, errlen);
    s = reader_reading_answer(&reader_sent.q[i], out, err, errlen);
    if (lost)
        reader_stop_proc(1); /* what went ahead never reached it: a new one for the next mail */
    else
        reader_sent_gc();
    return s;
}
