/*
 * stmtcount: an LD_PRELOAD shim that counts SQLite statements by their SQL
 * and prints the counts to stderr at exit, most run first; for bench/mail's
 * "statements per mail" (bench/mail/README.md):
 *
 *   LD_PRELOAD=build/bench/stmtcount.so mentord -c CONFIG --once
 *
 * Counts sqlite3_step calls that start a statement (the first step after a
 * reset, or of a new statement): a SELECT of many rows is one statement.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096

static struct {
    const char *sql;
    unsigned long runs, steps;
} seen[SLOTS];
static size_t nseen;
static unsigned long total_runs;

static int (*real_step)(sqlite3_stmt *);
static int (*real_reset)(sqlite3_stmt *);

static size_t
slot_of(const char *sql)
{
    for (size_t i = 0; i < nseen; i++)
        if (strcmp(seen[i].sql, sql) == 0)
            return i;
    if (nseen == SLOTS)
        return SLOTS - 1;
    seen[nseen].sql = strdup(sql);
    return nseen++;
}

int
sqlite3_step(sqlite3_stmt *st)
{
    if (real_step == NULL)
        real_step = (int (*)(sqlite3_stmt *))dlsym(RTLD_NEXT, "sqlite3_step");
    const char *sql = sqlite3_sql(st);
    if (sql != NULL) {
        size_t i = slot_of(sql);
        seen[i].steps++;
        /* A statement that has not stepped since its reset starts a new run. */
        if (!sqlite3_stmt_busy(st)) {
            seen[i].runs++;
            total_runs++;
        }
    }
    return real_step(st);
}

int
sqlite3_reset(sqlite3_stmt *st)
{
    if (real_reset == NULL)
        real_reset = (int (*)(sqlite3_stmt *))dlsym(RTLD_NEXT, "sqlite3_reset");
    return real_reset(st);
}

static int
by_runs(const void *a, const void *b)
{
    const typeof(seen[0]) *x = a, *y = b;
    return x->runs < y->runs ? 1 : x->runs > y->runs ? -1 : 0;
}

__attribute__((destructor)) static void
report(void)
{
    if (nseen == 0)
        return;
    qsort(seen, nseen, sizeof(seen[0]), by_runs);
    fprintf(stderr, "stmtcount: %lu statements run, %zu distinct\n", total_runs, nseen);
    for (size_t i = 0; i < nseen; i++)
        fprintf(stderr, "stmtcount: %8lu %.*s\n", seen[i].runs, 160, seen[i].sql);
}
