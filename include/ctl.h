/*
 * ctl: what managers and admins can see and do, shared by mentorctl (at the
 * server) and manager commands by mail (managers.c).
 *
 * Listings come back as tables (printed aligned, as CSV or as JSON); actions
 * (match, unmatch, pause, resume, remove) run in the caller's transaction
 * and log an event "manager" with who did it and what, naming members by
 * "#id" so the log holds no address that an erasure would have to find.
 *
 * Members are named by address, by "#ID" or by a bare number (the id).
 * Results use mentorctl's exit codes.
 */
#ifndef MENTORD_CTL_H
#define MENTORD_CTL_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "store.h"

enum ctl_status {
    CTL_OK = 0,
    CTL_FAIL = 1,      /* a runtime error: store, template */
    CTL_USAGE = 2,     /* the request makes no sense (wrong role, bad argument) */
    CTL_NOT_FOUND = 3, /* no such member or pair */
};

enum ctl_format { CTL_FORMAT_TABLE = 0, CTL_FORMAT_CSV, CTL_FORMAT_JSON };

struct ctl_table {
    size_t ncols, nrows;
    char **head;  /* ncols column names */
    char **cells; /* nrows * ncols, row-major; NULL for an empty cell */
    char *isnum;  /* per cell: 1 when the value is an integer (unquoted in JSON) */
};

/* Rows of a read-only query (types/args as store_int.h: 's' string, 'i' int64_t). */
int ctl_table_query(struct store *st, struct ctl_table *t, const char *what, const char *sql,
                    const char *types, ...);
/* Append a row of ncols strings (copied; NULL allowed). */
int ctl_table_add(struct ctl_table *t, const char *const *row);
void ctl_table_free(struct ctl_table *t);
/* Aligned columns (by characters, not bytes), RFC 4180 CSV, or a JSON array of objects. */
int ctl_table_print(FILE *out, const struct ctl_table *t, enum ctl_format fmt);

/*
 * A named listing: "members" [ROLE or STATE], "pairs" [STATE], "waitlist",
 * "mentors", "outbox" [STATUS].  CTL_USAGE for an unknown name or filter.
 */
int ctl_list(struct store *st, const char *name, const char *filter, time_t now,
             struct ctl_table *t, char *msg, size_t len);

/* Find a member by address, "#ID" or ID: 1 found, 0 not, -1 error. */
int ctl_member(struct store *st, const char *who, struct store_member *out);

/*
 * Actions.  by names who acts (a manager's address, "mentorctl:USER").
 * msg receives one sentence for the person (what was done, or why not).
 */
/* A newcomer and a mentor (either order) become an active pair at once and are introduced. */
int ctl_match(const struct config *cfg, struct store *st, const char *a, const char *b,
              const char *by, time_t now, char *msg, size_t len);
/* End a pair: by pair id, ref, or a member with exactly one open pair. */
/* Two members (any roles) are never paired by a matching round; a pair they have stays. */
int ctl_block(const struct config *cfg, struct store *st, const char *a, const char *b,
              const char *by, time_t now, char *msg, size_t len);
int ctl_unmatch(const struct config *cfg, struct store *st, const char *what, const char *by,
                time_t now, char *msg, size_t len);
/* Pause until a time (0: until resumed). */
int ctl_pause(const struct config *cfg, struct store *st, const char *who, time_t until,
              const char *by, time_t now, char *msg, size_t len);
int ctl_resume(const struct config *cfg, struct store *st, const char *who, const char *by,
               time_t now, char *msg, size_t len);
/*
 * End the member's open pairs and erase their personal data
 * (store_member_erase); the caller checkpoints the WAL after the commit.
 */
int ctl_remove(const struct config *cfg, struct store *st, const char *who, const char *by,
               time_t now, char *msg, size_t len);

/*
 * ---- mentorctl commands (ctl_cmds.c, ctl_import.c) ----
 * Each parses its own arguments (options anywhere: --help, --csv, --json and
 * its own), prints to stdout, reports errors on stderr as "mentorctl CMD:
 * ..." and returns an exit code (enum ctl_status).  With --help they return
 * CTL_OK at once: mentorctl prints the command's help.
 */
struct ctl_ctx {
    const char *command; /* as typed: "members", "pairs", ... */
    const struct config *cfg;
    struct store *st; /* opened on demand; the caller closes it */
    enum ctl_format fmt;
    time_t now;
    const char *by; /* "mentorctl:USER", for the event log */
};

int ctl_cmd_list(struct ctl_ctx *x, int argc, char **argv); /* members|pairs|waitlist|... */
/* The outbox listing's "waiting" column in words ("quiet hours: until 07:00 Europe/Berlin"). */
int ctl_outbox_why(const struct config *cfg, struct store *st, struct ctl_table *t);
/* A line per mail queued since since that waits past now for the recipient's morning. */
int ctl_outbox_waiting(const struct config *cfg, struct store *st, time_t since, time_t now,
                       FILE *out);
int ctl_cmd_show(struct ctl_ctx *x, int argc, char **argv);
int ctl_cmd_match(struct ctl_ctx *x, int argc, char **argv); /* match A B */
int ctl_cmd_block(struct ctl_ctx *x, int argc, char **argv); /* block A B */
int ctl_cmd_unmatch(struct ctl_ctx *x, int argc, char **argv);
int ctl_cmd_pause(struct ctl_ctx *x, int argc, char **argv);
int ctl_cmd_resume(struct ctl_ctx *x, int argc, char **argv);
int ctl_cmd_remove(struct ctl_ctx *x, int argc, char **argv);
int ctl_cmd_import(struct ctl_ctx *x, int argc, char **argv);
int ctl_cmd_export(struct ctl_ctx *x, int argc, char **argv);
int ctl_cmd_stats(struct ctl_ctx *x, int argc, char **argv);
int ctl_cmd_digest(struct ctl_ctx *x, int argc, char **argv);
int ctl_cmd_render(struct ctl_ctx *x, int argc, char **argv);
int ctl_cmd_check_config(struct ctl_ctx *x, int argc, char **argv);
/* ctl_data.c: the database as a whole, one person's data, failed mail. */
int ctl_cmd_backup(struct ctl_ctx *x, int argc, char **argv);  /* backup FILE */
int ctl_cmd_restore(struct ctl_ctx *x, int argc, char **argv); /* restore FILE (daemon stopped) */
int ctl_cmd_retry(struct ctl_ctx *x, int argc, char **argv);   /* retry [all|ID|MESSAGE-ID|SENDER] */
/* export ADDRESS: everything kept about one person, as JSON (an access request). */
int ctl_export_person(struct ctl_ctx *x, const char *who);

#endif
