/*
 * admin: the actions managers and admins take on members and pairs, shared
 * by mentorctl (at the server) and manager commands by mail (managers.c).
 *
 * Actions (match, unmatch, block, pause, resume, remove) run in the caller's
 * transaction and log an event "manager" with who did it and what, naming
 * members by "#id" so the log holds no address that an erasure would have to
 * find.  Members are named by address, by "#ID" or by a bare number (the
 * id).  Results use mentorctl's exit codes (enum ctl_status).
 */
#ifndef MENTORD_ADMIN_H
#define MENTORD_ADMIN_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "store.h"

enum ctl_status {
    CTL_OK = 0,
    CTL_FAIL = 1,      /* a runtime error: store, template */
    CTL_USAGE = 2,     /* the request makes no sense (wrong role, bad argument) */
    CTL_NOT_FOUND = 3, /* no such member or pair */
};

/* Find a member by address, "#ID" or ID: 1 found, 0 not, -1 error. */
int admin_member(struct store *st, const char *who, struct store_member *out);

/*
 * Actions.  by names who acts (a manager's address, "mentorctl:USER").
 * msg receives one sentence for the person (what was done, or why not).
 */
/* A newcomer and a mentor (either order) become an active pair at once and are introduced. */
int admin_match(const struct config *cfg, struct store *st, const char *a, const char *b,
                const char *by, time_t now, char *msg, size_t len);
/* Two members (any roles) are never paired by a matching round; a pair they have stays. */
int admin_block(const struct config *cfg, struct store *st, const char *a, const char *b,
                const char *by, time_t now, char *msg, size_t len);
/* End a pair: by pair id, ref, or a member with exactly one open pair. */
int admin_unmatch(const struct config *cfg, struct store *st, const char *what, const char *by,
                  time_t now, char *msg, size_t len);
/* Pause until a time (0: until resumed). */
int admin_pause(const struct config *cfg, struct store *st, const char *who, time_t until,
                const char *by, time_t now, char *msg, size_t len);
int admin_resume(const struct config *cfg, struct store *st, const char *who, const char *by,
                 time_t now, char *msg, size_t len);
/*
 * End the member's open pairs and erase their personal data
 * (store_member_erase); the caller checkpoints the WAL after the commit.
 */
int admin_remove(const struct config *cfg, struct store *st, const char *who, const char *by,
                 time_t now, char *msg, size_t len);

#endif
