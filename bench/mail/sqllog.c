/*
 * sqllog: an LD_PRELOAD shim that writes every SQLite statement a process
 * runs, with the values bound to it, to the file named by $SQLLOG; for the
 * store's floor in bench/mail ("mailbench replay" runs the same statements,
 * in the same order, on a fresh database, with SQLite alone):
 *
 *   SQLLOG=/tmp/x.log LD_PRELOAD=build/bench/sqllog.so mentord -c CONFIG --once
 *
 * A statement is logged when it starts (its first step after a reset, as
 * stmtcount.c counts them).  Record format, native byte order: u32 length
 * and the SQL text, u32 parameter count, then per parameter a type byte
 * ('i' i64, 'd' double, 's' u32 length and bytes, 'n' NULL).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 64
#define SLOTS 4096

struct value {
    char type; /* 0 unbound (logged as NULL), 'i', 'd', 's', 'n' */
    int64_t i;
    double d;
    char *s;
    uint32_t len;
};

/* The values bound to each live statement, found by its pointer. */
static struct {
    sqlite3_stmt *stmt;
    struct value v[MAX_PARAMS];
} slots[SLOTS];

static FILE *out;

static void *
real(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

#define GONE ((sqlite3_stmt *)(uintptr_t)1) /* a finalized statement's slot, reusable */

/* The slot of st's values (created if asked), or -1. */
static long
slot_of(sqlite3_stmt *st, int create)
{
    size_t h = ((uintptr_t)st >> 4) % SLOTS;
    long gone = -1;
    for (size_t k = 0; k < SLOTS; k++, h = (h + 1) % SLOTS) {
        if (slots[h].stmt == st)
            return (long)h;
        if (slots[h].stmt == GONE && gone < 0)
            gone = (long)h;
        if (slots[h].stmt == NULL)
            break;
    }
    if (!create)
        return -1;
    if (gone < 0 && slots[h].stmt != NULL)
        return -1; /* full */
    h = gone >= 0 ? (size_t)gone : h;
    slots[h].stmt = st;
    return (long)h;
}

static struct value *
values_of(sqlite3_stmt *st, int create)
{
    long h = slot_of(st, create);
    return h < 0 ? NULL : slots[h].v;
}

static struct value *
param(sqlite3_stmt *st, int i)
{
    struct value *v = values_of(st, 1);
    if (v == NULL || i < 1 || i > MAX_PARAMS)
        return NULL;
    free(v[i - 1].s);
    memset(&v[i - 1], 0, sizeof(v[i - 1]));
    return &v[i - 1];
}

int
sqlite3_bind_int64(sqlite3_stmt *st, int i, sqlite3_int64 x)
{
    struct value *v = param(st, i);
    if (v) {
        v->type = 'i';
        v->i = x;
    }
    return ((int (*)(sqlite3_stmt *, int, sqlite3_int64))real("sqlite3_bind_int64"))(st, i, x);
}

int
sqlite3_bind_int(sqlite3_stmt *st, int i, int x)
{
    struct value *v = param(st, i);
    if (v) {
        v->type = 'i';
        v->i = x;
    }
    return ((int (*)(sqlite3_stmt *, int, int))real("sqlite3_bind_int"))(st, i, x);
}

int
sqlite3_bind_double(sqlite3_stmt *st, int i, double x)
{
    struct value *v = param(st, i);
    if (v) {
        v->type = 'd';
        v->d = x;
    }
    return ((int (*)(sqlite3_stmt *, int, double))real("sqlite3_bind_double"))(st, i, x);
}

int
sqlite3_bind_null(sqlite3_stmt *st, int i)
{
    struct value *v = param(st, i);
    if (v)
        v->type = 'n';
    return ((int (*)(sqlite3_stmt *, int))real("sqlite3_bind_null"))(st, i);
}

int
sqlite3_bind_text(sqlite3_stmt *st, int i, const char *s, int n, void (*d)(void *))
{
    struct value *v = param(st, i);
    if (v && s) {
        size_t len = n < 0 ? strlen(s) : (size_t)n;
        v->s = malloc(len ? len : 1);
        if (v->s) {
            memcpy(v->s, s, len);
            v->len = (uint32_t)len;
            v->type = 's';
        }
    } else if (v) {
        v->type = 'n';
    }
    return ((int (*)(sqlite3_stmt *, int, const char *, int, void (*)(void *)))real(
        "sqlite3_bind_text"))(st, i, s, n, d);
}

int
sqlite3_finalize(sqlite3_stmt *st)
{
    long h = slot_of(st, 0);
    if (h >= 0) {
        for (int i = 0; i < MAX_PARAMS; i++)
            free(slots[h].v[i].s);
        memset(slots[h].v, 0, sizeof(slots[h].v));
        slots[h].stmt = GONE; /* keeps the probe chains through it whole */
    }
    return ((int (*)(sqlite3_stmt *))real("sqlite3_finalize"))(st);
}

static void
put_u32(uint32_t x)
{
    fwrite(&x, sizeof(x), 1, out);
}

static void
log_statement(sqlite3_stmt *st)
{
    const char *sql = sqlite3_sql(st);
    if (sql == NULL)
        return;
    if (out == NULL) {
        const char *path = getenv("SQLLOG");
        if (path == NULL || (out = fopen(path, "w")) == NULL)
            return;
    }
    int n = sqlite3_bind_parameter_count(st);
    if (n > MAX_PARAMS)
        n = MAX_PARAMS;
    struct value *v = values_of(st, 0);
    put_u32((uint32_t)strlen(sql));
    fwrite(sql, 1, strlen(sql), out);
    put_u32((uint32_t)n);
    for (int i = 0; i < n; i++) {
        char t = v && v[i].type ? v[i].type : 'n';
        fputc(t, out);
        if (t == 'i')
            fwrite(&v[i].i, sizeof(v[i].i), 1, out);
        else if (t == 'd')
            fwrite(&v[i].d, sizeof(v[i].d), 1, out);
        else if (t == 's') {
            put_u32(v[i].len);
            fwrite(v[i].s, 1, v[i].len, out);
        }
    }
}

int
sqlite3_step(sqlite3_stmt *st)
{
    if (!sqlite3_stmt_busy(st))
        log_statement(st);
    return ((int (*)(sqlite3_stmt *))real("sqlite3_step"))(st);
}

__attribute__((destructor)) static void
done(void)
{
    if (out)
        fclose(out);
}
