/*
 * The one fixture of the unit suites that need a database: a store in a
 * fresh temporary folder, opened before each test and removed after it, a
 * second connection for looking at the tables behind the store's back, and
 * the programme's test configuration (tu_test_config).  A suite that needs
 * more (seed rows, other settings) calls ts_setup first and adds to it.
 */
#pragma once

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "store.h"
#include "testutil.h"

struct fixture {
    char dir[256];
    char path[300];
    struct store *st;
    sqlite3 *db; /* a second connection, for looking */
    struct config cfg;
    char *managers[2];
    int seq; /* for Message-IDs and the like */
};

static inline int
ts_setup(void **state, const char *tag)
{
    struct fixture *f = calloc(1, sizeof *f);
    char err[512];

    if (!f || tu_mkdtemp(f->dir, sizeof f->dir, tag) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/mentord.db", f->dir);
    if (store_open(f->path, &f->st, err, sizeof err) != 0) {
        fprintf(stderr, "store_open: %s\n", err);
        tu_rmrf(f->dir);
        free(f);
        return -1;
    }
    if (sqlite3_open(f->path, &f->db) != SQLITE_OK) {
        fprintf(stderr, "sqlite3_open %s: %s\n", f->path, sqlite3_errmsg(f->db));
        sqlite3_close(f->db);
        store_close(f->st);
        tu_rmrf(f->dir);
        free(f);
        return -1;
    }
    sqlite3_busy_timeout(f->db, 5000);
    tu_test_config(&f->cfg, f->managers);
    *state = f;
    return 0;
}

static inline int
ts_teardown(void **state)
{
    struct fixture *f = *state;

    sqlite3_close(f->db);
    store_close(f->st);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}
