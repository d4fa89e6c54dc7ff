/*
 * membership: what a person asks for about themselves: JOIN, MENTOR and
 * LEAVE (each confirmed by a reply carrying a token), STATUS, PAUSE, RESUME,
 * CAPACITY, profile lines, and the answers when a mail is about no pairing or
 * the role is unclear.  Each handler answers through respond.h, in the
 * caller's transaction: 0, or -1 on a system error (c->detail says what).
 */
#ifndef MENTORD_MEMBERSHIP_H
#define MENTORD_MEMBERSHIP_H

#include "command.h"
#include "respond.h"

/*
 * The member commands' handlers (command_table.h binds them): JOIN, MENTOR
 * and LEAVE send a confirmation mail; STATUS, PAUSE [N weeks], RESUME,
 * CAPACITY N act (the gate has let them through).
 */
int membership_join(struct respond_ctx *c, const struct command *cmd);
int membership_mentor(struct respond_ctx *c, const struct command *cmd);
int membership_leave(struct respond_ctx *c, const struct command *cmd);
int membership_status(struct respond_ctx *c, const struct command *cmd);
int membership_pause(struct respond_ctx *c, const struct command *cmd);
int membership_resume(struct respond_ctx *c, const struct command *cmd);
int membership_capacity(struct respond_ctx *c, const struct command *cmd);
/* A reply carrying a confirmation token; 1 when token confirms nothing. */
int membership_confirm(struct respond_ctx *c, const char *token);
/* "Key: value" lines of c->profile; 1 when there was nothing to update. */
int membership_profile_update(struct respond_ctx *c);
/* ACCEPT, DONE, ... from someone with no pairing that command could be about. */
int membership_no_pairing(struct respond_ctx *c, const char *what);
/* The role is not clear: "Would you like a mentor, or to be a mentor? Reply 1 or 2". */
int membership_ask_role(struct respond_ctx *c);

#endif
