/*
 * mentorctl: the managers' and admin's command-line tool.  It works on the
 * same database as the daemon and is safe to run beside it: SQLite's busy
 * timeout and short transactions keep the two out of each other's way.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "ctl.h"
#include "ctl_oauth.h"
#include "inspect.h"
#include "programme.h"
#include "pairing.h"
#include "pairing_csv.h"
#include "store.h"
#include "version.h"

#define MENTORCTL_DEFAULT_CONFIG "/etc/mentord/mentord.ini"

static void mentorctl_usage(FILE *out);
static int mentorctl_db(const char *config_path, const char *name,
                        int (*fn)(struct ctl_ctx *, int, char **), int argc, char **argv);

/*
 * inspect [--json] FILE...: reads files, and the database when there is one
 * (read only: the sender's proof and what the daemon would do); 1 when a
 * file is unreadable.
 */
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
    /* Opened only when it exists: inspecting never creates a database. */
    struct store *st = NULL;
    if (cfg.store.path != NULL && access(cfg.store.path, F_OK) == 0 &&
        store_open(cfg.store.path, &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl: inspect: %s; reading without the database\n", err);
        st = NULL;
    }
    for (; i < argc; i++)
        if (inspect_file(&cfg, st, argv[i], json, stdout) != 0)
            rc = 1;
    if (st != NULL)
        store_close(st);
    config_free(&cfg);
    return rc;
}

/*
 * match --dry-run: a round on the live database inside a transaction that is
 * rolled back, so nothing changes and no mail is queued.  match --now: a real
 * round at once (its proposals and introductions wait in the outbox for the
 * daemon to send).  match --instance FILE.csv: the same solver on a pool from
 * a file, for trying settings.
 */
static int
mentorctl_match(const char *config_path, int argc, char **argv)
{
    struct config cfg;
    struct store *st = NULL;
    char err[512];
    int rc = 1;

    if (argc >= 1 && argv[0][0] != '-')
        return mentorctl_db(config_path, "match", ctl_cmd_match, argc, argv); /* match A B */
    int now = argc >= 1 && strcmp(argv[0], "--now") == 0;
    if (argc < 1 ||
        (strcmp(argv[0], "--dry-run") != 0 && strcmp(argv[0], "--instance") != 0 && !now) ||
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
        else if (pairing_csv_solve(&cfg, csv, argv[1], clock_now(), stdout, err, sizeof(err)) != 0)
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
        time_t t0 = clock_now();
        int pairs = pairing_match_round(&cfg, st, t0, !now, stdout);
        rc = pairs < 0 ? 1 : 0;
        if (rc != 0)
            fprintf(stderr, "mentorctl: match: %s\n", store_errmsg(st));
        if (rc == 0 && now && store_commit(st) != 0) {
            fprintf(stderr, "mentorctl: match: %s\n", store_errmsg(st));
            rc = 1;
        } else if (rc == 0 && now) {
            printf("%d new pairing(s) proposed or started; the daemon sends the mail\n", pairs);
            /* At night the mail waits for the morning: say so, or it looks like nothing happened.
             */
            if (ctl_outbox_waiting(&cfg, st, t0, t0, stdout) != 0)
                fprintf(stderr, "mentorctl: match: %s\n", store_errmsg(st));
        }
        if (rc != 0 || !now)
            store_rollback(st);
    }
    store_close(st);
    config_free(&cfg);
    return rc;
}

/* ---- dispatch: one line per command ---- */

struct mentorctl_cmd {
    const char *name;
    const char *synopsis;
    const char *help;
    int (*db)(struct ctl_ctx *, int, char **);         /* loads the config, then this */
    int (*raw)(const char *config_path, int, char **); /* does its own loading */
};

static const struct mentorctl_cmd mentorctl_cmds[] = {
    {"members", "members [ROLE|STATE]", "list members (newcomer, mentor, manager; active, ...)",
     ctl_cmd_list, NULL},
    {"pairs", "pairs [STATE]", "list pairs (proposed, active, declined, expired, ended)",
     ctl_cmd_list, NULL},
    {"waitlist", "waitlist", "newcomers waiting for a mentor, longest wait first", ctl_cmd_list,
     NULL},
    {"mentors", "mentors", "mentors with their load, capacity and recent rating", ctl_cmd_list,
     NULL},
    {"outbox", "outbox [STATUS]", "outgoing mail (queued, sent, failed)", ctl_cmd_list, NULL},
    {"show", "show MEMBER", "a member: profile, load, pairs, feedback and history", ctl_cmd_show,
     NULL},
    {"match", "match NEWCOMER MENTOR | match --dry-run | match --now | match --instance FILE.csv",
     "pair two members at once; preview the next round; run a round now;\n"
     "                      or solve a pool from CSV\n"
     "                      (role,id,tags,languages,tz,capacity,load,waiting_days,goals)",
     NULL, mentorctl_match},
    {"unmatch", "unmatch PAIR|MEMBER", "end a pair (id, ref, or a member's one open pair)",
     ctl_cmd_unmatch, NULL},
    {"block", "block MEMBER MEMBER", "never pair these two (a known conflict)", ctl_cmd_block,
     NULL},
    {"pause", "pause MEMBER [--weeks N | --until DATE]", "pause a member (open-ended by default)",
     ctl_cmd_pause, NULL},
    {"resume", "resume MEMBER", "end a member's pause", ctl_cmd_resume, NULL},
    {"remove", "remove MEMBER", "end the member's pairs and erase their personal data",
     ctl_cmd_remove, NULL},
    {"import", "import FILE.csv [--role ROLE] [--dry-run]",
     "add or update members from CSV: address,name,role,skills,languages,timezone,capacity",
     ctl_cmd_import, NULL},
    {"export", "export [members|pairs|waitlist|mentors|outbox] | export ADDRESS",
     "CSV for spreadsheets (members: the import columns, state, joined);\n"
     "                      or everything kept about one person, as JSON (an access request)",
     ctl_cmd_export, NULL},
    {"backup", "backup FILE",
     "a consistent copy of the database (0600), safe while mentord runs", ctl_cmd_backup, NULL},
    {"restore", "restore FILE",
     "replace the database with a backup (mentord stopped); the old one is kept", ctl_cmd_restore,
     NULL},
    {"retry", "retry [all|ID|MESSAGE-ID|SENDER]",
     "list mail set aside as failed; with an argument, put it back in the inbox", ctl_cmd_retry,
     NULL},
    {"stats", "stats", "counts of members, pairs, mail and feedback", ctl_cmd_stats, NULL},
    {"digest", "digest --preview [--html] [last]",
     "print the managers' digest (the period so far, or the last one sent)", ctl_cmd_digest, NULL},
    {"render", "render [LANG/]TEMPLATE [--var NAME=VALUE] [--unset NAME]",
     "a template with sample values for its documented variables", ctl_cmd_render, NULL},
    {"check-config", "check-config", "print the effective configuration and check it",
     ctl_cmd_check_config, NULL},
    {"inspect", "inspect [--json] FILE...", "how mentord reads each message of an .eml or mbox",
     NULL, mentorctl_inspect},
    {"oauth", "oauth authorize [--device|--code] [--port N] | oauth status",
     "authorise mentord for a hosted mailbox (OAuth 2.0); show the account,\n"
     "                      scopes and expiry (never a token)",
     NULL, ctl_oauth},
};

#define N_CMDS (sizeof(mentorctl_cmds) / sizeof(mentorctl_cmds[0]))

static void
mentorctl_usage(FILE *out)
{
    fprintf(out, "usage: mentorctl [-c FILE] COMMAND [ARGS] [--csv|--json]\n\ncommands:\n");
    for (size_t i = 0; i < N_CMDS; i++)
        fprintf(out, "  %s\n                      %s\n", mentorctl_cmds[i].synopsis,
                mentorctl_cmds[i].help);
    fprintf(out, "\n"
                 "  -c, --config FILE   configuration file (default " MENTORCTL_DEFAULT_CONFIG ")\n"
                 "  -h, --help          this help; COMMAND --help for one command\n"
                 "  -V, --version       print the version\n"
                 "\n"
                 "Listings print aligned tables; --csv or --json for machines.  Members are named\n"
                 "by address or #ID.  Exit status: 0 ok, 1 error, 2 usage, 3 not found.\n");
}

static int
mentorctl_help(const struct mentorctl_cmd *cmd)
{
    printf("usage: mentorctl [-c FILE] %s\n\n  %s\n\nOptions: --csv, --json (listings), --help.\n"
           "Exit status: 0 ok, 1 error, 2 usage, 3 not found.\n",
           cmd->synopsis, cmd->help);
    return 0;
}

static int
mentorctl_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

/* Load the configuration, run a database command, close what it opened. */
static int
mentorctl_db(const char *config_path, const char *name, int (*fn)(struct ctl_ctx *, int, char **),
             int argc, char **argv)
{
    struct config cfg;
    struct ctl_ctx x;
    char err[512], by[96];
    const struct passwd *pw = getpwuid(getuid());
    /* sudo keeps the admin's own name: the log should say who, not "root". */
    const char *user = getenv("SUDO_USER") ? getenv("SUDO_USER") : pw ? pw->pw_name : NULL;

    if (config_load(config_path, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "mentorctl: %s\n", err);
        return 1;
    }
    snprintf(by, sizeof(by), "mentorctl:%s", user ? user : "?");
    memset(&x, 0, sizeof(x));
    x.command = name;
    x.cfg = &cfg;
    x.now = clock_now();
    x.by = by;
    int rc = fn(&x, argc, argv);
    store_close(x.st);
    config_free(&cfg);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *path = MENTORCTL_DEFAULT_CONFIG;
    int ch;

    while ((ch = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
        if (ch == 'V') {
            printf("mentorctl %s\n", MENTORD_VERSION);
            return 0;
        } else if (ch == 'c') {
            path = optarg;
        } else if (ch == 'h') {
            mentorctl_usage(stdout);
            return 0;
        } else {
            mentorctl_usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        mentorctl_usage(stderr);
        return 2;
    }
    for (size_t i = 0; i < N_CMDS; i++) {
        const struct mentorctl_cmd *cmd = &mentorctl_cmds[i];
        int n = argc - optind - 1;
        char **args = argv + optind + 1;
        if (strcmp(argv[optind], cmd->name) != 0)
            continue;
        if (mentorctl_wants_help(n, args))
            return mentorctl_help(cmd);
        return cmd->db ? mentorctl_db(path, cmd->name, cmd->db, n, args) : cmd->raw(path, n, args);
    }
    fprintf(stderr, "mentorctl: unknown command '%s' (try mentorctl --help)\n", argv[optind]);
    return 2;
}
