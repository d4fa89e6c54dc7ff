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
#include "lang.h"
#include "store.h"

enum ctl_status {
    CTL_OK = 0,
    CTL_FAIL = 1,      /* a runtime error: store, template */
    CTL_USAGE = 2,     /* the request makes no sense (wrong role, bad argument) */
    CTL_NOT_FOUND = 3, /* no such member or pair */
};

/*
 * What an action tells the person who asked: the English sentence mentorctl
 * prints (text), and the same as a phrase of language.data (key, with the
 * English form and its {name} values) for a manager who reads another
 * language.  A value named "date" is a "YYYY-MM-DD" written the reader's
 * way; one named "..role", "..state" or "pair_state" is a word of the
 * reader's language (phrase admin_role_X, admin_member_X, admin_pair_X).
 * key is NULL for a runtime error: text only, for the log.
 */
#define ADMIN_MSG_VARS 5
struct admin_msg {
    char text[512];
    const char *key;
    const char *english;
    size_t n;
    const char *names[ADMIN_MSG_VARS];
    char values[ADMIN_MSG_VARS][320];
};

/*
 * Set m to what the person is told: the phrase key of language.data, its
 * English form, then pairs of const char * name and value ending with NULL
 * (at most ADMIN_MSG_VARS); m->text is the English sentence.
 */
void admin_msg_say(struct admin_msg *m, const char *key, const char *english, ...);
/* The sentence in language l (English when l is NULL or lacks the phrase); malloc'd, NULL: OOM. */
char *admin_msg_render(const struct admin_msg *m, const struct lang *l);

/* Find a member by address, "#ID" or ID: 1 found, 0 not, -1 error. */
int admin_member(struct store *st, const char *who, struct store_member *out);

/*
 * Actions.  by names who acts (a manager's address, "mentorctl:USER").
 * msg receives what the person is told (what was done, or why not).
 */
/* A newcomer and a mentor (either order) become an active pair at once and are introduced. */
int admin_match(const struct config *cfg, struct store *st, const char *a, const char *b,
                const char *by, time_t now, struct admin_msg *msg);
/* Two members (any roles) are never paired by a matching round; a pair they have stays. */
int admin_block(const struct config *cfg, struct store *st, const char *a, const char *b,
                const char *by, time_t now, struct admin_msg *msg);
/* End a pair: by pair id, ref, or a member with exactly one open pair. */
int admin_unmatch(const struct config *cfg, struct store *st, const char *what, const char *by,
                  time_t now, struct admin_msg *msg);
/* Pause until a time (0: until resumed). */
int admin_pause(const struct config *cfg, struct store *st, const char *who, time_t until,
                const char *by, time_t now, struct admin_msg *msg);
int admin_resume(const struct config *cfg, struct store *st, const char *who, const char *by,
                 time_t now, struct admin_msg *msg);
/*
 * End the member's open pairs and erase their personal data
 * (store_member_erase); the caller checkpoints the WAL after the commit.
 */
int admin_remove(const struct config *cfg, struct store *st, const char *who, const char *by,
                 time_t now, struct admin_msg *msg);

#endif
