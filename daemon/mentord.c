/*
 * mentord: the daemon.  Reads the community's mailbox over IMAP, lets the
 * programme decide, and sends what it queued from the durable outbox.
 *
 * Runs in the foreground (systemd style) and logs to stderr.  SIGTERM and
 * SIGINT finish the current message and exit 0; SIGHUP reloads the config.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "alerts.h"
#include "clock.h"
#include "config.h"
#include "digest.h"
#include "imap.h"
#include "inbox.h"
#include "log.h"
#include "oauth.h"
#include "outbox.h"
#include "lifecycle.h"
#include "pairing.h"
#include "programme.h"
#include "schedule.h"
#include "setup.h"
#include "reader.h"
#include "smtp.h"
#include "store.h"
#include "version.h"

#define MENTORD_DEFAULT_CONFIG "/etc/mentord/mentord.ini"
/* RFC 2177: clients should re-issue IDLE at least every 29 minutes; many
 * servers and NAT boxes drop quiet connections sooner, so 9 minutes. */
#define MENTORD_IDLE_MAX 540
#define MENTORD_BACKOFF_MAX 300
/* While the OAuth authorisation is refused: how often the refresh token file is looked at
 * (a stat, no request), so a new `mentorctl oauth authorize` takes effect in seconds. */
#define MENTORD_REFUSED_CHECK 5
/* mentord_imap_login: no access token to log in with (said why already). */
#define MENTORD_NO_TOKEN (-3)

struct mentord_opts {
    const char *config;
    int check_config;
    int once;
    int dry_run;
    int verbose;
};

/* Set by signal handlers; wake interrupts IDLE/poll waits for both. */
static volatile sig_atomic_t mentord_stop;
static volatile sig_atomic_t mentord_reload;
static volatile sig_atomic_t mentord_wake;

static void
mentord_on_signal(int sig)
{
    if (sig == SIGHUP)
        mentord_reload = 1;
    else
        mentord_stop = 1;
    mentord_wake = 1;
}

static int
mentord_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = mentord_on_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART: a signal must not turn a half-read IMAP response into an error. */
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
        sigaction(SIGHUP, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

static void
mentord_usage(FILE *out)
{
    fprintf(out,
            "usage: mentord [-c FILE] [--check-config] [--once] [--dry-run] [--now TIME] [-v]\n"
            "\n"
            "  -c, --config FILE   configuration file (default " MENTORD_DEFAULT_CONFIG ")\n"
            "      --check-config  print the effective configuration and exit\n"
            "      --once          process the inbox and the outbox once, then exit\n"
            "      --dry-run       print the mail that would be sent; send and mark nothing\n"
            "      --now TIME      pretend the time is TIME (epoch or YYYY-MM-DDTHH:MM:SSZ)\n"
            "  -v, --verbose       log at debug level\n"
            "  -V, --version       print the version\n");
}

static int
mentord_args(int argc, char **argv, struct mentord_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'C'},
        {"once", no_argument, NULL, '1'},
        {"dry-run", no_argument, NULL, 'n'},
        {"now", required_argument, NULL, 'N'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    o->config = MENTORD_DEFAULT_CONFIG;
    while ((ch = getopt_long(argc, argv, "c:vVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case 'C':
            o->check_config = 1;
            break;
        case '1':
            o->once = 1;
            break;
        case 'n':
            o->dry_run = 1;
            break;
        case 'N':
            if (clock_parse(optarg) < 0) {
                fprintf(stderr, "mentord: --now: cannot read time '%s'\n", optarg);
                return 2;
            }
            if (setenv("MENTORD_NOW", optarg, 1) != 0)
                return 1;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'V':
            printf("mentord %s\n", MENTORD_VERSION);
            exit(0);
        case 'h':
            mentord_usage(stdout);
            exit(0);
        default:
            mentord_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        mentord_usage(stderr);
        return 2;
    }
    return 0;
}

static void
mentord_log_init(const struct config *cfg, const struct mentord_opts *o)
{
    log_init(o->verbose ? LOG_LEVEL_DEBUG : (enum log_level)cfg->log.level, cfg->log.syslog,
             cfg->log.ident);
}

/*
 * OAuth 2.0: the daemon's token and whether the last attempt was refused.
 * A refusal (revoked or expired refresh token, a refused client) is logged as
 * an error once, and the managers are told once per refusal: an event in the
 * store remembers it across restarts.  Mail waits in the mailbox and in the
 * outbox meanwhile; the token file is watched, so a new authorisation takes
 * effect without a restart.
 */
struct mentord_auth {
    struct oauth *oa; /* NULL when both [imap] and [smtp] use passwords */
    int refused;      /* the refusal has been reported */
    int unreachable;  /* a transient failure has been reported */
    int confirmed;    /* a token was issued since the start, or the refusal */
    int smtp_blocked; /* the last drain had no token: the outbox does not set the wait */
};

static int
mentord_auth_open(struct mentord_auth *a, const struct config *cfg)
{
    memset(a, 0, sizeof(*a));
    if (!cfg->oauth2.used)
        return 0;
    a->oa = oauth_open(cfg);
    if (a->oa == NULL) {
        log_error("oauth: out of memory");
        return -1;
    }
    return 0;
}

static void
mentord_auth_close(struct mentord_auth *a)
{
    oauth_close(a->oa);
    memset(a, 0, sizeof(*a));
}

/* 1 when the managers were already told of a refusal that still stands, 0 when not. */
static int
mentord_told_already(const struct config *cfg, struct store *st)
{
    time_t refused = 0, ok = 0;

    if (store_pair_last_event(st, "oauth-refused", cfg->community.address, &refused) < 0 ||
        store_pair_last_event(st, "oauth-ok", cfg->community.address, &ok) < 0)
        return 1; /* a store error: better no mail than one per attempt */
    return refused > 0 && refused >= ok;
}

static void
mentord_tell_managers(const struct config *cfg, struct store *st, const char *why)
{
    char err[512];
    time_t now = clock_now();
    const struct template_var vars[] = {{"error", why}, {"config", cfg->path}};

    if (store_begin(st) != 0)
        goto fail;
    for (size_t i = 0; i < cfg->community.n_managers; i++) {
        struct outbox_mail om = {.to_addr = cfg->community.managers[i],
                                 .template_name = "oauth-refused",
                                 .vars = vars,
                                 .nvars = sizeof(vars) / sizeof(vars[0]),
                                 .kind = "notice"};
        if (outbox_queue(cfg, st, &om, now, err, sizeof(err)) != 0) {
            log_error("oauth: cannot tell the managers: %s", err);
            store_rollback(st);
            return;
        }
    }
    if (store_event_add(st, now, "oauth-refused", cfg->community.address, NULL, NULL) != 0 ||
        store_commit(st) != 0)
        goto fail;
    return;
fail:
    log_error("oauth: cannot tell the managers: %s", store_errmsg(st));
    store_rollback(st);
}

static void
mentord_auth_refused(struct mentord_auth *a, const struct config *cfg, struct store *st,
                     const struct mentord_opts *o, const char *why)
{
    if (a->refused) {
        log_debug("oauth: still refused: %s", why);
        return;
    }
    a->refused = 1;
    a->confirmed = 0;
    log_error("oauth: %s", why);
    if (!o->dry_run && !mentord_told_already(cfg, st))
        mentord_tell_managers(cfg, st, why);
}

static void
mentord_auth_ok(struct mentord_auth *a, const struct config *cfg, struct store *st,
                const struct mentord_opts *o)
{
    if (a->refused)
        log_info("oauth: the mailbox is authorised again; mail flows again");
    if (!a->confirmed && !o->dry_run && mentord_told_already(cfg, st) &&
        store_event_add(st, clock_now(), "oauth-ok", cfg->community.address, NULL, NULL) != 0)
        log_warn("oauth: %s", store_errmsg(st));
    if (a->unreachable)
        log_info("oauth: the token endpoint answers again");
    a->refused = 0;
    a->unreachable = 0;
    a->confirmed = 1;
}

/* The access token to log in with: 0 and *token, or -1 (logged). */
static int
mentord_token(struct mentord_auth *a, const struct config *cfg, struct store *st,
              const struct mentord_opts *o, const char **token)
{
    char err[1024];
    /* Real time, not clock_now(): --now may move the programme's clock, not the token's. */
    int rc = oauth_token(a->oa, time(NULL), token, err, sizeof(err));

    if (rc == OAUTH_OK) {
        mentord_auth_ok(a, cfg, st, o);
        return 0;
    }
    if (rc == OAUTH_REFUSED) {
        mentord_auth_refused(a, cfg, st, o, err);
    } else if (!a->unreachable) {
        a->unreachable = 1; /* once per outage; the oauth module spaces out its requests */
        log_warn("oauth: cannot fetch an access token now (mail waits; retrying): %s", err);
    } else {
        log_debug("oauth: still no access token: %s", err);
    }
    return -1;
}

/* Log in with a password, or with a token and, when it is refused, once more with a new one. */
static int
mentord_imap_login(struct mentord_auth *a, const struct config *cfg, struct store *st,
                   const struct mentord_opts *o, struct imap **im, char *err, size_t errlen)
{
    const char *token = NULL;
    int rc;

    if (cfg->imap.auth == CONFIG_AUTH_PASSWORD)
        return imap_connect(&cfg->imap, im, err, errlen);
    if (mentord_token(a, cfg, st, o, &token) != 0)
        return MENTORD_NO_TOKEN;
    rc = imap_connect_auth(&cfg->imap, token, im, err, errlen);
    if (rc != IMAP_AUTH_REFUSED)
        return rc;
    log_warn("IMAP: the server refused the access token (%s); fetching a new one", err);
    oauth_invalidate(a->oa);
    if (mentord_token(a, cfg, st, o, &token) != 0)
        return MENTORD_NO_TOKEN;
    rc = imap_connect_auth(&cfg->imap, token, im, err, errlen);
    if (rc == IMAP_AUTH_REFUSED) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n,
                 "; a freshly issued token was refused too: check that [imap] user is a mailbox "
                 "the authorised account may open and that [oauth2] scope covers IMAP");
    }
    return rc;
}

/* Connect, log in and make sure the processed mailbox exists. */
static struct imap *
mentord_connect(const struct config *cfg, struct store *st, struct mentord_auth *a,
                const struct mentord_opts *o)
{
    struct imap *im = NULL;
    char err[1536];
    int rc = mentord_imap_login(a, cfg, st, o, &im, err, sizeof(err));

    if (rc == MENTORD_NO_TOKEN)
        return NULL; /* the reason is in the log already, once */
    if (rc != 0) {
        log_error("IMAP: cannot connect to %s:%d as %s: %s", cfg->imap.host, cfg->imap.port,
                  cfg->imap.user, err);
        return NULL;
    }
    if (cfg->imap.processed_mailbox && cfg->imap.processed_mailbox[0] &&
        imap_ensure_mailbox(im, cfg->imap.processed_mailbox) != 0) {
        log_error("IMAP: cannot create mailbox %s: %s", cfg->imap.processed_mailbox,
                  imap_error(im));
        imap_close(im);
        return NULL;
    }
    log_info("IMAP: connected to %s:%d as %s (IDLE %s)", cfg->imap.host, cfg->imap.port,
             cfg->imap.user, imap_has_idle(im) ? "available" : "not offered");
    return im;
}

/* 1 when the outbox holds mail due now (so a token is worth fetching). */
static int
mentord_outbox_due(struct store *st)
{
    time_t due = store_outbox_next_due(st);

    return due != 0 && due <= clock_now();
}

/*
 * Drain with a token: a refused one is not held against the mail; a new
 * token is fetched and the drain runs once more.
 */
static int
mentord_drain_oauth(struct mentord_auth *a, const struct config *cfg, struct store *st,
                    const struct mentord_opts *o, struct smtp_result *res)
{
    struct smtp_auth sa = {NULL, 1, 0};
    struct smtp_result again;

    a->smtp_blocked = 0;
    if (!o->dry_run && mentord_outbox_due(st) && mentord_token(a, cfg, st, o, &sa.token) != 0) {
        sa.token = NULL; /* said why; smtp leaves the outbox as it is */
        a->smtp_blocked = 1;
    }
    if (smtp_drain_auth(cfg, st, clock_now(), o->dry_run, stdout, &sa, res) != 0)
        return -1;
    if (!sa.refused)
        return 0;
    log_warn("smtp: the server refused the access token; fetching a new one and sending again");
    oauth_invalidate(a->oa);
    if (mentord_token(a, cfg, st, o, &sa.token) != 0)
        return 0;
    sa.hold_refused = 0;
    if (smtp_drain_auth(cfg, st, clock_now(), o->dry_run, stdout, &sa, &again) != 0)
        return -1;
    res->sent += again.sent;
    res->deferred += again.deferred;
    res->failed += again.failed;
    return 0;
}

static int
mentord_drain(const struct config *cfg, struct store *st, struct mentord_auth *a,
              const struct mentord_opts *o)
{
    struct smtp_result res = {0, 0, 0};
    int rc = cfg->smtp.user != NULL && cfg->smtp.auth != CONFIG_AUTH_PASSWORD
                 ? mentord_drain_oauth(a, cfg, st, o, &res)
                 : smtp_drain(cfg, st, clock_now(), o->dry_run, stdout, &res);

    if (rc != 0) {
        log_error("outbox: %s", store_errmsg(st));
        return -1;
    }
    if (res.sent || res.deferred || res.failed)
        log_info("outbox: %d sent, %d deferred, %d failed", res.sent, res.deferred, res.failed);
    return 0;
}

/* Time-driven upkeep (expired confirmations, ended pauses) in its own transaction. */
static int
mentord_housekeeping(const struct config *cfg, struct store *st, const struct mentord_opts *o)
{
    if (o->dry_run)
        return 0;
    if (store_begin(st) != 0)
        goto fail;
    int n = programme_housekeeping(cfg, st, clock_now());
    if (n < 0 || store_commit(st) != 0)
        goto fail;
    if (n > 0)
        log_debug("housekeeping: %d changes", n);
    return 0;
fail:
    log_error("housekeeping: %s", store_errmsg(st));
    store_rollback(st);
    return -1;
}

/*
 * The programme's clockwork: every due scheduled event, each in its own
 * transaction (a crash neither skips nor repeats one), then a matching round
 * when one is due.  Bounded per call so the inbox is never starved.
 */
static int
mentord_programme(const struct config *cfg, struct store *st, const struct mentord_opts *o,
                  time_t *last_round)
{
    int n = 0, rc = 1;

    if (o->dry_run)
        return 0;
    while (rc == 1 && n < 1000) {
        if (store_begin(st) != 0)
            goto fail;
        rc = schedule_run_due(cfg, st, clock_now());
        if (rc < 0 || store_commit(st) != 0)
            goto fail;
        n += rc;
    }
    time_t now = clock_now();
    /* The managers' digest, when its period is over; sent once per period. */
    if (store_begin(st) != 0)
        goto fail;
    if (digest_due(cfg, st, now) < 0 || store_commit(st) != 0)
        goto fail;
    /* Every alert of this run (mail handled, events run) in one mail to each manager. */
    if (store_begin(st) != 0)
        goto fail;
    if (alerts_flush(cfg, st, now) < 0 || store_commit(st) != 0)
        goto fail;
    if (*last_round == 0 || now - *last_round >= cfg->matching.interval) {
        if (store_begin(st) != 0)
            goto fail;
        int pairs = pairing_match_round(cfg, st, now, 0, NULL);
        if (pairs < 0 || store_commit(st) != 0)
            goto fail;
        *last_round = now;
        if (pairs > 0)
            log_info("matching: %d new pairs", pairs);
    }
    return 0;
fail:
    log_error("programme: %s", store_errmsg(st));
    store_rollback(st);
    return -1;
}

/*
 * The installation, checked before mail is taken: a missing template or an
 * unreadable folder is the operator's error, so the intake stops (mail stays
 * in the inbox), the error is logged and the managers are told once.  0 when
 * mail may be taken, -1 when not.
 */
static int
mentord_setup(const struct config *cfg, struct store *st, const struct mentord_opts *o, int *fault)
{
    /* The stored state is closed once per process and after each fault, not every pass. */
    static int closed;
    char problem[512];

    if (setup_check(cfg, NULL, problem, sizeof(problem)) != 0) {
        if (!*fault)
            log_error("not taking mail until this is fixed: %s", problem);
        *fault = 1;
        closed = 0;
        if (!o->dry_run)
            setup_fault(cfg, st, problem, clock_now());
        return -1;
    }
    if (*fault)
        log_info("installation problem fixed: taking mail again");
    *fault = 0;
    if (!o->dry_run && !closed) {
        if (setup_ok(st, clock_now()) < 0)
            return -1;
        closed = 1;
    }
    return 0;
}

/* An inbox pass that stopped on an installation problem: report it like the check does. */
static void
mentord_pass_setup(const struct config *cfg, struct store *st, const struct mentord_opts *o,
                   const struct inbox_stats *stats, int *fault)
{
    if (!stats->setup)
        return;
    log_error("not taking mail until this is fixed: %s", stats->problem);
    *fault = 1;
    if (!o->dry_run)
        setup_fault(cfg, st, stats->problem, clock_now());
}

/* CPU seconds (user + system) of one getrusage who. */
static double
mentord_cpu_of(int who)
{
    struct rusage ru;

    if (getrusage(who, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Seconds of a monotonic clock, for the length of a pass. */
static double
mentord_now_s(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

/*
 * --once's inbox pass with what it cost, logged for bench/mail/bench.py: the
 * pass's wall time and the CPU of mentord (every thread, RUSAGE_SELF) plus
 * that of its reader children (RUSAGE_CHILDREN: the reader is stopped and
 * reaped at the end of the pass so that its CPU is counted; --once starts
 * another if it needs one).  Login and the outbox drain are outside it.
 */
static int
mentord_once_pass(const struct config *cfg, struct store *st, struct imap *im,
                  const struct mentord_opts *o, struct inbox_stats *stats)
{
    struct reader_counts c0, c1;
    reader_get_counts(&c0);
    double t0 = mentord_now_s();
    double self0 = mentord_cpu_of(RUSAGE_SELF), kids0 = mentord_cpu_of(RUSAGE_CHILDREN);
    int rc = inbox_pass(cfg, st, im, o->dry_run, stdout, &mentord_stop, stats);

    reader_shutdown();
    double self = mentord_cpu_of(RUSAGE_SELF) - self0,
           kids = mentord_cpu_of(RUSAGE_CHILDREN) - kids0;
    reader_get_counts(&c1);
    log_info("inbox pass: %d processed in %.3f s, CPU %.3f s (mentord %.3f s, its reader %.3f s); "
             "sent ahead: %lu of %lu parses, %lu of %lu readings",
             stats->processed, mentord_now_s() - t0, self + kids, self, kids,
             c1.parses_ahead - c0.parses_ahead, c1.parses - c0.parses,
             c1.readings_ahead - c0.readings_ahead, c1.readings - c0.readings);
    return rc;
}

/* --once: one inbox pass and one outbox drain; 1 when either failed. */
static int
mentord_once(const struct config *cfg, struct store *st, const struct mentord_opts *o)
{
    struct inbox_stats stats;
    struct mentord_auth a;
    int fault = 0, rc = 0;

    if (mentord_auth_open(&a, cfg) != 0)
        return 1;

    /* Housekeeping may send mail too: it waits with the inbox. */
    if (mentord_setup(cfg, st, o, &fault) != 0) {
        rc = 1;
    } else {
        rc = mentord_housekeeping(cfg, st, o) != 0;
        struct imap *im = mentord_connect(cfg, st, &a, o);
        if (im == NULL) {
            rc = 1;
        } else {
            if (mentord_once_pass(cfg, st, im, o, &stats) != 0)
                rc = 1;
            imap_close(im);
            mentord_pass_setup(cfg, st, o, &stats, &fault);
            log_info("inbox: %d processed, %d duplicates, %d failed", stats.processed,
                     stats.skipped, stats.failed);
        }
    }
    time_t last_round = 0;
    /* Scheduled mail needs the templates too: it waits with the inbox. */
    if (!fault && mentord_programme(cfg, st, o, &last_round) != 0)
        rc = 1;
    /* In a dry run this prints what was already queued before; the inbox pass
     * printed what it would have queued itself. */
    if (mentord_drain(cfg, st, &a, o) != 0 || a.refused)
        rc = 1;
    mentord_auth_close(&a);
    return rc;
}

/* Exponential backoff with jitter: 1, 2, 4 ... 300 s, each +-20%. */
static int
mentord_backoff(int failures)
{
    unsigned int r = 0;
    int base = 1;

    for (int i = 1; i < failures && base < MENTORD_BACKOFF_MAX; i++)
        base *= 2;
    if (base > MENTORD_BACKOFF_MAX)
        base = MENTORD_BACKOFF_MAX;
    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = (unsigned int)getpid();
    int jitter = base / 5 > 0 ? (int)(r % (unsigned int)(2 * (base / 5) + 1)) - base / 5 : 0;
    return base + jitter;
}

/*
 * systemd's watchdog: WATCHDOG=1 at least twice per WatchdogSec, from the
 * loop and from every wait (which is capped to half the interval).
 */
static uint64_t mentord_watchdog_usec;

static void
mentord_notify_init(void)
{
    if (sd_watchdog_enabled(0, &mentord_watchdog_usec) <= 0)
        mentord_watchdog_usec = 0;
}

static void
mentord_alive(void)
{
    if (mentord_watchdog_usec > 0)
        (void)sd_notify(0, "WATCHDOG=1");
}

/* The longest wait that keeps the watchdog fed, in seconds (at least 1). */
static int
mentord_wait_cap(int wait)
{
    if (mentord_watchdog_usec == 0)
        return wait;
    int cap = (int)(mentord_watchdog_usec / 2000000u);
    cap = cap < 1 ? 1 : cap;
    return wait < cap ? wait : cap;
}

static void
mentord_sleep(int seconds)
{
    for (int i = 0; i < seconds && !mentord_wake; i++) {
        mentord_alive();
        sleep(1);
    }
}

/* How long to wait for mail: until the next outbox retry, within limits. */
static int
mentord_wait_time(const struct config *cfg, struct store *st, int idle, int outbox_blocked)
{
    int wait = idle ? MENTORD_IDLE_MAX : cfg->imap.poll_interval;
    /* Mail that cannot go out for want of a token would wake us every second. */
    time_t dues[3] = {outbox_blocked ? 0 : store_outbox_next_due(st), schedule_next_due(cfg, st),
                      cfg->matching.interval > 0 ? clock_now() + cfg->matching.interval : 0};

    for (size_t i = 0; i < 3; i++) {
        if (dues[i] <= 0)
            continue;
        time_t left = dues[i] - clock_now();
        if (left < 1)
            left = 1;
        if (left < wait)
            wait = (int)left;
    }
    return mentord_wait_cap(wait);
}

static void
mentord_reload_config(struct config *cfg, const struct mentord_opts *o, struct imap **im,
                      struct mentord_auth *a)
{
    struct config fresh;
    char err[512];

    mentord_reload = 0;
    (void)sd_notify(0, "RELOADING=1");
    if (config_load(o->config, &fresh, err, sizeof(err)) != 0) {
        log_error("reload: keeping the running configuration: %s", err);
        (void)sd_notify(0, "READY=1");
        return;
    }
    if (strcmp(fresh.store.path, cfg->store.path) != 0)
        log_warn("reload: store path changed; it takes effect at the next restart");
    /* The token holder points into the configuration: a new one (a new client, maybe). */
    mentord_auth_close(a);
    config_free(cfg);
    *cfg = fresh;
    mentord_log_init(cfg, o);
    if (mentord_auth_open(a, cfg) != 0)
        log_error("reload: OAuth 2.0 logins are off until the next reload");
    imap_close(*im);
    *im = NULL;
    log_info("reload: configuration reloaded from %s", o->config);
    (void)sd_notify(0, "READY=1");
}

/* One round with the inbox connected: take mail, run the programme, send. 0, or -1 to reconnect. */
static int
mentord_round(struct config *cfg, struct store *st, struct mentord_auth *a,
              const struct mentord_opts *o, struct imap *im, time_t *last_round, int *fault)
{
    struct inbox_stats stats;

    if (inbox_pass(cfg, st, im, o->dry_run, stdout, &mentord_stop, &stats) != 0) {
        mentord_pass_setup(cfg, st, o, &stats, fault);
        return -1;
    }
    mentord_programme(cfg, st, o, last_round);
    mentord_drain(cfg, st, a, o);
    return 0;
}

/* Stopped by an installation problem: send what is queued, wait, look again. */
static void
mentord_stopped(const struct config *cfg, struct store *st, struct mentord_auth *a,
                const struct mentord_opts *o)
{
    (void)sd_notify(0, "STATUS=Not taking mail: installation problem (see the log)");
    mentord_drain(cfg, st, a, o);
    mentord_sleep(mentord_wait_cap(cfg->imap.poll_interval));
}

static int
mentord_loop(struct config *cfg, struct store *st, const struct mentord_opts *o)
{
    struct imap *im = NULL;
    struct mentord_auth a;
    int failures = 0, fault = 0;
    time_t last_round = 0;

    if (mentord_auth_open(&a, cfg) != 0)
        return 1;
    log_info("mentord %s started for %s", MENTORD_VERSION, cfg->community.address);
    (void)sd_notify(0, "READY=1\nSTATUS=Taking mail");
    while (!mentord_stop) {
        mentord_wake = 0;
        mentord_alive();
        if (mentord_reload)
            mentord_reload_config(cfg, o, &im, &a);
        if (mentord_setup(cfg, st, o, &fault) != 0) {
            mentord_stopped(cfg, st, &a, o);
            continue;
        }
        mentord_housekeeping(cfg, st, o);
        if (im == NULL && (im = mentord_connect(cfg, st, &a, o)) == NULL) {
            int wait = a.refused ? MENTORD_REFUSED_CHECK : mentord_backoff(++failures);
            if (!a.refused)
                log_info("IMAP: retrying in %d s", wait);
            mentord_drain(cfg, st, &a, o);
            mentord_sleep(wait);
            continue;
        }
        if (mentord_round(cfg, st, &a, o, im, &last_round, &fault) != 0) {
            imap_close(im);
            im = NULL;
            mentord_sleep(fault ? 0 : mentord_backoff(++failures));
            continue;
        }
        failures = 0;
        if (mentord_stop || mentord_reload)
            continue;
        int idle = cfg->imap.idle && imap_has_idle(im);
        int wait = mentord_wait_time(cfg, st, idle, a.smtp_blocked);
        log_debug("waiting up to %d s for new mail (%s)", wait, idle ? "IDLE" : "polling");
        if (imap_wait(im, wait, idle, &mentord_wake) < 0) {
            log_warn("IMAP: connection lost while waiting: %s", imap_error(im));
            imap_close(im);
            im = NULL;
        }
    }
    (void)sd_notify(0, "STOPPING=1");
    imap_close(im);
    /* Whatever was committed before the stop still goes out (bounded by the SMTP timeout). */
    mentord_drain(cfg, st, &a, o);
    mentord_auth_close(&a);
    log_info("mentord stopping");
    return 0;
}

int
main(int argc, char **argv)
{
    struct mentord_opts o = {0};
    struct config cfg;
    struct store *st = NULL;
    char err[512];

    /* The isolated mail reader (reader.h): exec'd by the daemon, nothing else of it runs. */
    if (argc == 2 && strcmp(argv[1], "--reader") == 0)
        return reader_main();
    int rc = mentord_args(argc, argv, &o);

    if (rc != 0)
        return rc;
    /*
     * One malloc arena for every thread: the SMTP session threads would each
     * get an arena of their own, whose pages stay resident after the drain
     * (measured: 0.4 MB of the idle daemon's 16 MB budget).  They allocate
     * little and briefly, so sharing the main arena costs nothing measurable.
     */
    if (mallopt(M_ARENA_MAX, 1) != 1)
        fprintf(stderr, "mentord: cannot limit malloc arenas; continuing\n");
    /* First, so a SIGTERM arriving during a slow start still ends the process cleanly. */
    if (mentord_signals() != 0) {
        fprintf(stderr, "mentord: cannot install signal handlers: %s\n", strerror(errno));
        return 1;
    }
    if (config_load(o.config, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentord: %s\n", err);
        return 1;
    }
    if (o.check_config) {
        /* The file parsed; now every path it names, and every template rendered once. */
        config_print(&cfg, stdout);
        printf("\n");
        rc = setup_check(&cfg, stdout, err, sizeof(err)) != 0;
        if (rc != 0)
            fprintf(stderr, "mentord: %s\n", err);
        config_free(&cfg);
        return rc;
    }
    mentord_log_init(&cfg, &o);
    /* Before any thread or handle exists, as libcurl requires. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("cannot initialise libcurl");
        config_free(&cfg);
        return 1;
    }
    if (store_open(cfg.store.path, &st, err, sizeof(err)) != 0) {
        log_error("store %s: %s", cfg.store.path, err);
        curl_global_cleanup();
        config_free(&cfg);
        return 1;
    }
    /* Shared: `mentorctl restore` takes it exclusively and so never runs under a daemon. */
    if (store_daemon_lock(cfg.store.path, err, sizeof(err)) < 0) {
        log_error("store: %s", err);
        store_close(st);
        curl_global_cleanup();
        config_free(&cfg);
        return 1;
    }
    mentord_notify_init();
    /*
     * Mail is read by this same program, exec'd afresh: none of this process's
     * memory.  argv[0] when it names a file (under valgrind /proc/self/exe is
     * valgrind's tool), else the running binary.
     */
    reader_set_program(strchr(argv[0], '/') != NULL ? argv[0] : "/proc/self/exe");
    /* A dry run in a loop would print the same mail forever: one pass only. */
    rc = o.once || o.dry_run ? mentord_once(&cfg, st, &o) : mentord_loop(&cfg, st, &o);
    reader_shutdown();
    store_close(st);
    curl_global_cleanup();
    config_free(&cfg);
    return rc;
}
