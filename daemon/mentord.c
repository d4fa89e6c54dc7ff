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
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "digest.h"
#include "imap.h"
#include "inbox.h"
#include "log.h"
#include "programme.h"
#include "smtp.h"
#include "store.h"

#define MENTORD_VERSION "0.1.0"
#define MENTORD_DEFAULT_CONFIG "/etc/mentord/mentord.ini"
/* RFC 2177: clients should re-issue IDLE at least every 29 minutes; many
 * servers and NAT boxes drop quiet connections sooner, so 9 minutes. */
#define MENTORD_IDLE_MAX 540
#define MENTORD_BACKOFF_MAX 300

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

/* Connect, log in and make sure the processed mailbox exists. */
static struct imap *
mentord_connect(const struct config *cfg)
{
    struct imap *im = NULL;
    char err[512];

    if (imap_connect(&cfg->imap, &im, err, sizeof(err)) != 0) {
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

static int
mentord_drain(const struct config *cfg, struct store *st, const struct mentord_opts *o)
{
    struct smtp_result res = {0, 0, 0};

    if (smtp_drain(cfg, st, clock_now(), o->dry_run, stdout, &res) != 0) {
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
        rc = programme_run_due(cfg, st, clock_now());
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
    if (programme_alerts_flush(cfg, st, now) < 0 || store_commit(st) != 0)
        goto fail;
    if (*last_round == 0 || now - *last_round >= cfg->matching.interval) {
        if (store_begin(st) != 0)
            goto fail;
        int pairs = programme_match_round(cfg, st, now, 0, NULL);
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

/* --once: one inbox pass and one outbox drain; 1 when either failed. */
static int
mentord_once(const struct config *cfg, struct store *st, const struct mentord_opts *o)
{
    struct inbox_stats stats;
    int rc = mentord_housekeeping(cfg, st, o) != 0;
    struct imap *im = mentord_connect(cfg);

    if (im == NULL) {
        rc = 1;
    } else {
        if (inbox_pass(cfg, st, im, o->dry_run, stdout, &mentord_stop, &stats) != 0)
            rc = 1;
        imap_close(im);
        log_info("inbox: %d processed, %d duplicates, %d failed", stats.processed, stats.skipped,
                 stats.failed);
    }
    time_t last_round = 0;
    if (mentord_programme(cfg, st, o, &last_round) != 0)
        rc = 1;
    /* In a dry run this prints what was already queued before; the inbox pass
     * printed what it would have queued itself. */
    if (mentord_drain(cfg, st, o) != 0)
        rc = 1;
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

static void
mentord_sleep(int seconds)
{
    for (int i = 0; i < seconds && !mentord_wake; i++)
        sleep(1);
}

/* How long to wait for mail: until the next outbox retry, within limits. */
static int
mentord_wait_time(const struct config *cfg, struct store *st, int idle)
{
    int wait = idle ? MENTORD_IDLE_MAX : cfg->imap.poll_interval;
    time_t dues[3] = {store_outbox_next_due(st), programme_next_due(cfg, st),
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
    return wait;
}

static void
mentord_reload_config(struct config *cfg, const struct mentord_opts *o, struct imap **im)
{
    struct config fresh;
    char err[512];

    mentord_reload = 0;
    if (config_load(o->config, &fresh, err, sizeof(err)) != 0) {
        log_error("reload: keeping the running configuration: %s", err);
        return;
    }
    if (strcmp(fresh.store.path, cfg->store.path) != 0)
        log_warn("reload: store path changed; it takes effect at the next restart");
    config_free(cfg);
    *cfg = fresh;
    mentord_log_init(cfg, o);
    imap_close(*im);
    *im = NULL;
    log_info("reload: configuration reloaded from %s", o->config);
}

static int
mentord_loop(struct config *cfg, struct store *st, const struct mentord_opts *o)
{
    struct imap *im = NULL;
    struct inbox_stats stats;
    int failures = 0;
    time_t last_round = 0;

    log_info("mentord %s started for %s", MENTORD_VERSION, cfg->community.address);
    while (!mentord_stop) {
        mentord_wake = 0;
        if (mentord_reload)
            mentord_reload_config(cfg, o, &im);
        mentord_housekeeping(cfg, st, o);
        if (im == NULL && (im = mentord_connect(cfg)) == NULL) {
            int wait = mentord_backoff(++failures);
            log_info("IMAP: retrying in %d s", wait);
            mentord_drain(cfg, st, o);
            mentord_sleep(wait);
            continue;
        }
        if (inbox_pass(cfg, st, im, o->dry_run, stdout, &mentord_stop, &stats) != 0) {
            imap_close(im);
            im = NULL;
            mentord_sleep(mentord_backoff(++failures));
            continue;
        }
        failures = 0;
        mentord_programme(cfg, st, o, &last_round);
        if (mentord_drain(cfg, st, o) != 0 || mentord_stop || mentord_reload)
            continue;
        int idle = cfg->imap.idle && imap_has_idle(im);
        int wait = mentord_wait_time(cfg, st, idle);
        log_debug("waiting up to %d s for new mail (%s)", wait, idle ? "IDLE" : "polling");
        if (imap_wait(im, wait, idle, &mentord_wake) < 0) {
            log_warn("IMAP: connection lost while waiting: %s", imap_error(im));
            imap_close(im);
            im = NULL;
        }
    }
    imap_close(im);
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
        config_print(&cfg, stdout);
        config_free(&cfg);
        return 0;
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
    /* A dry run in a loop would print the same mail forever: one pass only. */
    rc = o.once || o.dry_run ? mentord_once(&cfg, st, &o) : mentord_loop(&cfg, st, &o);
    store_close(st);
    curl_global_cleanup();
    config_free(&cfg);
    return rc;
}
