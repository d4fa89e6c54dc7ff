/*
 * store's private header: the connection and the statement helpers (defined
 * in store.c, the core) shared by the files of the store module, one per
 * table family (store_members.c, store_outbox.c, store_pairs.c, ...).
 * Nothing outside the store module includes it.
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

/*
 * Prepared statements are kept for reuse (a profile of a mail batch showed
 * SQLite's parser and planner taking more time than the queries): the cache
 * is an open-addressing table keyed by the caller's SQL pointer (callers pass
 * string literals; the text is compared too, so a reused buffer is safe),
 * at most half full so a probe always ends at a free slot.  A statement is
 * lent to one caller at a time; asking for SQL whose statement is out (a
 * nested query in an _each callback) gets a fresh one that is finalized when
 * it comes back.  The lease list says which is which.
 */
#define STORE_CACHE_SLOTS 512
#define STORE_CACHE_MAX (STORE_CACHE_SLOTS / 2)
/* Statements out at once: nested iterations go a few levels deep, never this far. */
#define STORE_LEASES_MAX 64

struct store_cached {
    const char *sql; /* the caller's pointer; the slot is free while stmt is NULL */
    sqlite3_stmt *stmt;
    int in_use;
};

struct store_lease {
    sqlite3_stmt *stmt;
    struct store_cached *entry; /* NULL: not cached, finalized when finished */
};

/* The address hash's buckets of store_stamp: a write to another address spoils 1 in this many. */
#define STORE_STAMP_BUCKETS 256

struct store {
    sqlite3 *db;
    unsigned long long rows_any; /* store_stamp: every write of members or tokens but ... */
    unsigned long long rows_own[STORE_STAMP_BUCKETS]; /* ... those of one address, by its hash */
    int rows_scope;  /* while store_i_run_own runs: its address's bucket + 1, else 0 */
    int64_t session; /* random, per open: whose in-flight marks are whose */
    char err[512];
    int errcode; /* SQLite's primary result code of the last database error, 0 for others */
    struct store_cached cache[STORE_CACHE_SLOTS];
    size_t cached;
    struct store_lease leases[STORE_LEASES_MAX];
    size_t nleases;
};

int store_i_set_err(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int store_i_db_err(struct store *st, const char *what);
int store_i_bind_args(struct store *st, sqlite3_stmt *stmt, const char *what, const char *types,
                      va_list ap);
sqlite3_stmt *store_i_prepare_v(struct store *st, const char *what, const char *sql,
                                const char *types, va_list ap);
sqlite3_stmt *store_i_prepare(struct store *st, const char *what, const char *sql,
                              const char *types, ...);
/*
 * The "what" of a store function: its strings, up to a NULL, joined into out
 * (len bytes, cut short as snprintf would; the caller writes a string that
 * may be NULL as snprintf's "%s" did, "(null)").  It is
 * written on every call and read only on an error, so without snprintf's
 * format parsing: about 1k instructions a call before.
 */
void store_i_what(char *out, size_t len, ...);
/* v (unsigned) in decimal into out (11 bytes at least): a number for store_i_what. */
const char *store_i_uint(char out[11], unsigned v);
/* One step: 1 for a row, 0 when done, -1 on error. */
int store_i_step(struct store *st, sqlite3_stmt *stmt, const char *what);
/* Give a statement back: reset for the next caller (cached) or finalized (not). */
void store_i_finish(struct store *st, sqlite3_stmt *stmt);
/* A statement without rows: the number of changed rows, or -1. */
int store_i_run(struct store *st, const char *what, const char *sql, const char *types, ...);
int store_i_run_v(struct store *st, const char *what, const char *sql, const char *types,
                  va_list ap);
/*
 * store_i_run for a statement that writes members or tokens rows of address
 * alone (triggers and conflict resolution included: never an OR REPLACE that
 * could delete another address's row), so that it leaves the stamps of
 * other addresses as they are (store_stamp).
 */
int store_i_run_own(struct store *st, const char *address, const char *what, const char *sql,
                    const char *types, ...);
/* First column of the first row: 1 and *out set, 0 when no row, -1 on error. */
int store_i_query_int(struct store *st, int64_t *out, const char *what, const char *sql,
                      const char *types, ...);
/* The first two columns of the first row: two counts in one statement. */
int store_i_query_int2(struct store *st, int64_t *a, int64_t *b, const char *what, const char *sql,
                       const char *types, ...);
/*
 * The first column of the first row as text into out (len bytes, "" for
 * NULL): 1 found, 0 no row, -1 on error.  The text twin of store_i_query_int.
 */
int store_i_query_text(struct store *st, char *out, size_t len, const char *what, const char *sql,
                       const char *types, ...);
int store_i_query_count(struct store *st, const char *what, const char *sql, const char *types,
                        const char *a, const char *b);
/* Copy a text column (NULL stays NULL); -1 only when memory runs out. */
int store_i_col_str(sqlite3_stmt *stmt, int col, char **out);
int store_i_run_script(struct store *st, const char *what, const char *sql);

/* A growing array of rows read from a statement: v holds n elements, room for cap. */
struct store_i_vec {
    void *v;
    size_t n, cap;
};
/*
 * Room for one more element of esize bytes at the end of vec: its address,
 * zeroed and already counted in vec->n (so a partly filled element is freed
 * with the rest), or NULL with the error set when memory runs out.
 */
void *store_i_push(struct store *st, const char *what, struct store_i_vec *vec, size_t esize);

#endif
