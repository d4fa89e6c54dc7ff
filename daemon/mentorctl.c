/*
 * mentorctl: the managers' and admin's command-line tool.  It works on the
 * same database as the daemon and is safe to run beside it: SQLite's busy
 * timeout and short transactions keep the two out of each other's way.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "inspect.h"
#include "programme.h"
#include "programme_int.h"
#include "store.h"

#define MENTORCTL_DEFAULT_CONFIG "/etc/mentord/mentord.ini"

struct mentorctl {
    struct config cfg;
    struct store *st;
    const char *filter;
};

static void
mentorctl_usage(FILE *out)
{
    fprintf(out, "usage: mentorctl [-c FILE] COMMAND [ARGS]\n"
                 "\n"
                 "commands:\n"
                 "  members [ROLE]      list members (ROLE: newcomer, mentor, manager)\n"
                 "  outbox [STATUS]     list outgoing mail (STATUS: queued, sent, failed)\n"
                 "  check-config        print the effective configuration\n"
                 "  inspect [--json] FILE...\n"
                 "                      how mentord reads each message of an .eml or mbox file\n"
                 "  match --dry-run     the pairs the next matching round would make (changes nothing)\n"
                 "  match --instance FILE.csv\n"
                 "                      solve a pool given as CSV, one row a person:\n"
                 "                      role,id,tags,languages,tz,capacity,load,waiting_days,goals\n"
                 "                      (lists ';'-separated; empty capacity 1, load 0)\n"
                 "\n"
                 "  -c, --config FILE   configuration file (default " MENTORCTL_DEFAULT_CONFIG ")\n"
                 "  -h, --help          this help\n");
}

static void
mentorctl_time(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (t <= 0 || gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(buf, len, "-");
}

static int
mentorctl_member_row(const struct store_member *m, void *arg)
{
    const char *role = arg;
    char created[32];

    if (role && strcmp(role, m->role) != 0)
        return 0;
    mentorctl_time(m->created, created, sizeof(created));
    printf("%-36s %-10s %-8s %-16s %s\n", m->address, m->role, m->state, created,
           m->name ? m->name : "");
    return 0;
}

static int
mentorctl_outbox_row(const struct store_outbox *o, void *arg)
{
    char next[32];

    (void)arg;
    mentorctl_time(o->next_attempt, next, sizeof(next));
    printf("%-6lld %-32s %-7s %-8d %-16s %s\n", (long long)o->id, o->recipient, o->status,
           o->attempts, next, o->last_error ? o->last_error : "");
    return 0;
}

static int
mentorctl_members(struct mentorctl *c)
{
    printf("%-36s %-10s %-8s %-16s %s\n", "ADDRESS", "ROLE", "STATE", "JOINED (UTC)", "NAME");
    return store_member_each(c->st, mentorctl_member_row, (void *)c->filter) == 0 ? 0 : 1;
}

static int
mentorctl_outbox(struct mentorctl *c)
{
    printf("%-6s %-32s %-7s %-8s %-16s %s\n", "ID", "RECIPIENT", "STATUS", "ATTEMPTS",
           "NEXT (UTC)", "LAST ERROR");
    return store_outbox_each(c->st, c->filter, mentorctl_outbox_row, NULL) == 0 ? 0 : 1;
}

/* inspect [--json] FILE...: reads files, never the database; 1 when a file is unreadable. */
static int
mentorctl_inspect(const char *config_path, int argc, char **argv)
{
    struct config cfg;
    char err[512];
    int json = 0, i = 0, rc = 0;

    if (i < argc && strcmp(argv[i], "--json") == 0) {
        json = 1;
        i++;
    }
    if (i >= argc) {
        mentorctl_usage(stderr);
        return 2;
    }
    /* The community address decides what is our own mail looping back. */
    if (config_load(config_path, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl: %s\n", err);
        return 1;
    }
    for (; i < argc; i++)
        if (inspect_file(&cfg, argv[i], json, stdout) != 0)
            rc = 1;
    config_free(&cfg);
    return rc;
}

/*
 * match --dry-run: a round on the live database inside a transaction that is
 * rolled back, so nothing changes and no mail is queued.  match --instance
 * FILE.csv: the same solver on a pool from a file, for trying settings.
 */
static int
mentorctl_match(const char *config_path, int argc, char **argv)
{
    struct config cfg;
    struct store *st = NULL;
    char err[512];
    int rc = 1;

    if (argc < 1 || (strcmp(argv[0], "--dry-run") != 0 && strcmp(argv[0], "--instance") != 0) ||
        (strcmp(argv[0], "--instance") == 0 && argc != 2)) {
        mentorctl_usage(stderr);
        return 2;
    }
    if (config_load(config_path, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl: %s\n", err);
        return 1;
    }
    if (strcmp(argv[0], "--instance") == 0) {
        FILE *csv = fopen(argv[1], "r");
        if (csv == NULL)
            fprintf(stderr, "mentorctl: %s: cannot open\n", argv[1]);
        else if (programme_match_instance(&cfg, csv, argv[1], clock_now(), stdout, err,
                                          sizeof(err)) != 0)
            fprintf(stderr, "mentorctl: %s\n", err);
        else
            rc = 0;
        if (csv)
            fclose(csv);
    } else if (store_open(cfg.store.path, &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl: %s: %s\n", cfg.store.path, err);
    } else if (store_begin(st) != 0) {
        fprintf(stderr, "mentorctl: match: %s\n", store_errmsg(st));
    } else {
        rc = programme_match_round(&cfg, st, clock_now(), 1, stdout) < 0 ? 1 : 0;
        if (rc != 0)
            fprintf(stderr, "mentorctl: match: %s\n", store_errmsg(st));
        store_rollback(st);
    }
    store_close(st);
    config_free(&cfg);
    return rc;
}

static int
mentorctl_run(struct mentorctl *c, const char *cmd)
{
    char err[512];
    int rc;

    if (strcmp(cmd, "check-config") == 0) {
        config_print(&c->cfg, stdout);
        return 0;
    }
    if (strcmp(cmd, "members") != 0 && strcmp(cmd, "outbox") != 0) {
        fprintf(stderr, "mentorctl: unknown command '%s' (try --help)\n", cmd);
        return 2;
    }
    if (store_open(c->cfg.store.path, &c->st, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl: %s: %s\n", c->cfg.store.path, err);
        return 1;
    }
    rc = strcmp(cmd, "members") == 0 ? mentorctl_members(c) : mentorctl_outbox(c);
    if (rc != 0)
        fprintf(stderr, "mentorctl: %s: %s\n", cmd, store_errmsg(c->st));
    store_close(c->st);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct mentorctl c;
    const char *path = MENTORCTL_DEFAULT_CONFIG;
    char err[512];
    int ch;

    memset(&c, 0, sizeof(c));
    while ((ch = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
        if (ch == 'c') {
            path = optarg;
        } else if (ch == 'h') {
            mentorctl_usage(stdout);
            return 0;
        } else {
            mentorctl_usage(stderr);
            return 2;
        }
    }
    if (optind < argc && strcmp(argv[optind], "match") == 0)
        return mentorctl_match(path, argc - optind - 1, argv + optind + 1);
    if (optind < argc && strcmp(argv[optind], "inspect") == 0)
        return mentorctl_inspect(path, argc - optind - 1, argv + optind + 1);
    if (optind >= argc || argc - optind > 2) {
        mentorctl_usage(stderr);
        return 2;
    }
    if (config_load(path, &c.cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl: %s\n", err);
        return 1;
    }
    c.filter = argc - optind == 2 ? argv[optind + 1] : NULL;
    int rc = mentorctl_run(&c, argv[optind]);
    config_free(&c.cfg);
    return rc;
}
