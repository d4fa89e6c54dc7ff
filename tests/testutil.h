#pragma once
/* Small helpers shared by the unit tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh directory under /tmp (static buffer per call site is the caller's). */
static inline int
tu_mkdtemp(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "/tmp/mentord-%s-XXXXXX", tag);
    return mkdtemp(buf) != NULL ? 0 : -1;
}

/* Write text to dir/name; 0 on success. */
static inline int
tu_write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Remove a test directory and everything in it. */
static inline void
tu_rmrf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

#include "config.h"

/*
 * The configuration the programme tests share: every default exactly as
 * config_load sets it, the test-bed's community (managers: boss, and a second
 * one, chief, used where n_managers is raised to 2), the source tree's
 * templates, and a reply budget generous enough that only a test about the
 * budget meets it.
 */
static inline void
tu_test_config(struct config *cfg, char *managers[2])
{
    memset(cfg, 0, sizeof(*cfg));
    config_set_defaults(cfg);
    managers[0] = "boss@example.test";
    managers[1] = "chief@example.test";
    cfg->community.name = "Example Community";
    cfg->community.address = "mentors@example.test";
    cfg->community.managers = managers;
    cfg->community.n_managers = 1;
    cfg->community.list_id = "<mentors.example.test>";
    cfg->smtp.from = "mentors@example.test";
    cfg->templates.dir = MENTORD_SRCDIR "/templates";
    cfg->limits.max_message_size = 1024 * 1024;
    cfg->limits.replies_per_hour = 100;
    cfg->limits.replies_per_day = 1000;
    cfg->limits.stranger_per_hour = 20;
    cfg->limits.stranger_per_day = 100;
    cfg->limits.reader_timeout = 30;
    cfg->matching.mode = "pairs";
    cfg->lifecycle.checkins = "3, 14, 30, 60";
    cfg->lifecycle.introduction = "together";
    cfg->digest.frequency = "weekly";
    cfg->digest.day = "monday";
    cfg->digest.timezone = "UTC";
}
