/*
 * ctl: what managers and admins can see, shared by mentorctl (at the server)
 * and manager commands by mail (managers.c): listings as tables (printed
 * aligned, as CSV or as JSON), and mentorctl's commands.  The actions both
 * take (match, unmatch, pause, ...) are admin.h's.
 */
#ifndef MENTORD_CTL_H
#define MENTORD_CTL_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "admin.h"
#include "config.h"
#include "store.h"

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
int ctl_cmd_retry(struct ctl_ctx *x, int argc, char **argv); /* retry [all|ID|MESSAGE-ID|SENDER] */
/* export ADDRESS: everything kept about one person, as JSON (an access request). */
int ctl_export_person(struct ctl_ctx *x, const char *who);

#endif
