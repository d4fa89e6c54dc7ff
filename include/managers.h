/*
 * managers: mail from a configured manager: a manager command (REPORT,
 * LIST, MATCH, UNMATCH, PAUSE, RESUME, REMOVE, BLOCK) or the confirmation
 * of one.
 */
#ifndef MENTORD_MANAGERS_H
#define MENTORD_MANAGERS_H

#include "respond.h"

/*
 * Returns 1 when the mail is neither a manager command nor a confirmation of
 * one, so the caller reads it another way; 0 when handled; -1 on error.
 */
int managers_mail(struct respond_ctx *c);

#endif
