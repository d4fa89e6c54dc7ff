/*
 * setup: the operator's part of a working installation, checked.
 *
 * A template that is missing or broken, or a folder mentord cannot read or
 * write, is the operator's mistake, never the member's: `--check-config`
 * reports it before start, and the daemon checks again before each inbox
 * pass (and after any message that failed) so that such a mistake found at
 * run time stops the intake instead of failing member mail.  Mail then stays
 * in the inbox and the managers are told once (setup_fault).
 */
#ifndef MENTORD_SETUP_H
#define MENTORD_SETUP_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "store.h"

/* Every template the programme may send, by name (without ".txt"). */
extern const char *const setup_templates[];
extern const size_t setup_ntemplates;

/*
 * Check every path of cfg and render every template once (template_check).
 * 0 when all is well; -1 with the first problem in err.  With report, one
 * line per thing checked is printed there.
 */
int setup_check(const struct config *cfg, FILE *report, char *err, size_t errlen);

/*
 * Record the operator error (in its own transaction) and, the first time
 * only, queue a plain notice to every manager; built without templates, as
 * they may be the very thing missing.  0, or -1 on a store error.
 */
int setup_fault(const struct config *cfg, struct store *st, const char *problem, time_t now);

/* The error is gone: closes the state (in its own transaction); 1 when it was open. */
int setup_ok(struct store *st, time_t now);

#endif
