/*
 * alerts: what the managers should look at now (a silent mentor, a worrying
 * answer to a check-in), kept in the store as it is raised and mailed to
 * each manager in one mail at the end of a run of the daemon.
 */
#ifndef MENTORD_ALERTS_H
#define MENTORD_ALERTS_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "store.h"
#include "template.h"

/*
 * One alert: the template manager-alert-item rendered with vars, in the
 * managers' language, added to the pending alerts in the caller's
 * transaction.  Nothing when no manager is configured.  0, or -1 on error
 * (logged).
 */
int alerts_raise(const struct config *cfg, struct store *st, const struct template_var *vars,
                 size_t nvars, time_t now);

/*
 * The alerts raised since the last call (silent mentors, worrying answers)
 * in one mail to each manager, in the caller's transaction.  Returns 1 when
 * one was queued, 0 when there was nothing, -1 on error.
 */
int alerts_flush(const struct config *cfg, struct store *st, time_t now);

#endif
