/*
 * store's private header: the connection and the statement helpers shared by
 * the files of the store module (store.c: schema, members, mail; store_pairs.c:
 * pairings and blocks; store_schedule.c: due events and feedback).  Nothing
 * outside the store module includes it.
 *
 * Conventions: functions return 0 (or a row count) on success and -1 on error
 * with the message, including the "what" context, kept in st->err.  Binding
 * types are a string of 's' (const char *, NULL binds NULL) and 'i' (int64_t:
 * cast integers, they travel through varargs).
 */
#ifndef MENTORD_STORE_INT_H
#define MENTORD_STORE_INT_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>

#include "store.h"

struct store {
    sqlite3 *db;
    int64_t session; /* random, per open: whose in-flight marks are whose */
    char err[512];
};

int store_i_set_err(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int store_i_db_err(struct store *st, const char *what);
int store_i_bind_args(struct store *st, sqlite3_stmt *stmt, const char *what, const char *types,
                      va_list ap);
sqlite3_stmt *store_i_prepare_v(struct store *st, const char *what, const char *sql,
                                const char *types, va_list ap);
sqlite3_stmt *store_i_prepare(struct store *st, const char *what, const char *sql,
                              const char *types, ...);
/* One step: 1 for a row, 0 when done, -1 on error. */
int store_i_step(struct store *st, sqlite3_stmt *stmt, const char *what);
void store_i_finish(sqlite3_stmt *stmt);
/* A statement without rows: the number of changed rows, or -1. */
int store_i_run(struct store *st, const char *what, const char *sql, const char *types, ...);
/* First column of the first row: 1 and *out set, 0 when no row, -1 on error. */
int store_i_query_int(struct store *st, int64_t *out, const char *what, const char *sql,
                      const char *types, ...);
int store_i_query_count(struct store *st, const char *what, const char *sql, const char *types,
                        const char *a, const char *b);
/* Copy a text column (NULL stays NULL); -1 only when memory runs out. */
int store_i_col_str(sqlite3_stmt *stmt, int col, char **out);
int store_i_run_script(struct store *st, const char *what, const char *sql);

#endif
