/*
 * The store fixture shared by the store's unit suites: a database in a fresh
 * temporary folder, opened before each test and removed after it.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#include "store.h"
#include "testutil.h"

struct fixture {
    char dir[256];
    char path[300];
    struct store *st;
};

static inline int
ts_setup(void **state, const char *tag)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f || tu_mkdtemp(f->dir, sizeof f->dir, tag) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/mentord.db", f->dir);
    char err[512];
    if (store_open(f->path, &f->st, err, sizeof err) != 0) {
        fprintf(stderr, "store_open: %s\n", err);
        tu_rmrf(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int
ts_teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->st);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}
