/*
 * schedule: time turned into actions.  Everything time-driven is a row in
 * the schedule table, addressed to one member, so quiet hours can be
 * honoured in that member's own time zone: a row that would go out at night
 * is moved to the morning (same row, new due time) rather than copied, and a
 * row is marked done in the same transaction as its effects, so it runs
 * exactly once.
 *
 * The due-event table below says which module runs each kind of row; the
 * handlers (lifecycle.c, pairing.c) never call each other through it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "log.h"
#include "pairing.h"
#include "schedule.h"

/* A proposal's time is up: the mentor did not answer (pairing.c). */
static int
schedule_proposal_timeout(const struct config *cfg, struct store *st,
                          const struct store_schedule_event *ev, time_t now, const char **outcome)
{
    *outcome = "ran";
    return pairing_proposal_timeout(cfg, st, ev->pair, now) < 0 ? -1 : LIFECYCLE_DONE;
}

/*
 * The due-event table: a row's kind and who runs it.  Kinds not named here
 * are lifecycle's (lifecycle_run_event knows its own: introduction, checkin,
 * reminder, rematch-offer, pair-end, closing, invite, pause-notice,
 * pause-end, milestone).
 */
static const struct {
    const char *kind;
    int (*run)(const struct config *, struct store *, const struct store_schedule_event *, time_t,
               const char **);
} schedule_handlers[] = {
    {"proposal-timeout", schedule_proposal_timeout},
};

static int
schedule_run(const struct config *cfg, struct store *st, const struct store_schedule_event *ev,
             time_t now, const char **outcome)
{
    for (size_t i = 0; i < sizeof(schedule_handlers) / sizeof(schedule_handlers[0]); i++)
        if (strcmp(ev->kind, schedule_handlers[i].kind) == 0)
            return schedule_handlers[i].run(cfg, st, ev, now, outcome);
    int rc = lifecycle_run_event(cfg, st, ev, now, outcome);
    return rc == LIFECYCLE_UNKNOWN ? LIFECYCLE_DONE : rc; /* marked done, "unknown kind" */
}

/* A new or changed pause with an end date gets its notice and its end scheduled. */
static int
schedule_pauses(const struct config *cfg, struct store *st, time_t now)
{
    struct store_schedule_pause *v = NULL;
    size_t n = 0;
    int rc = 0;

    if (store_schedule_unscheduled_pauses(st, &v, &n) != 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char arg[32];
        time_t notice = v[i].until - cfg->lifecycle.pause_notice;
        snprintf(arg, sizeof(arg), "%lld", (long long)v[i].until);
        if (cfg->lifecycle.pause_notice > 0 &&
            store_schedule_add(st, notice > now ? notice : now, "pause-notice", v[i].member, 0, arg,
                               now, NULL) != 0)
            rc = -1;
        if (rc == 0 &&
            store_schedule_add(st, v[i].until, "pause-end", v[i].member, 0, arg, now, NULL) != 0)
            rc = -1;
    }
    free(v);
    return rc;
}

int
schedule_run_due(const struct config *cfg, struct store *st, time_t now)
{
    struct store_schedule_event ev;
    const char *outcome = "unknown kind";
    int rc;

    if (schedule_pauses(cfg, st, now) != 0)
        goto fail;
    rc = store_schedule_next(st, now, &ev);
    if (rc <= 0) {
        if (rc < 0)
            goto fail;
        return 0;
    }
    rc = schedule_run(cfg, st, &ev, now, &outcome);
    if (rc < 0)
        goto fail;
    if (rc == LIFECYCLE_SKIP)
        rc = LIFECYCLE_DONE;
    if (rc == LIFECYCLE_DONE && store_schedule_done(st, ev.id, now, outcome) != 0)
        goto fail;
    log_ctx(LOG_LEVEL_DEBUG, NULL, NULL, "scheduled %s %lld: %s", ev.kind, (long long)ev.id,
            rc == LIFECYCLE_DONE ? outcome : "moved");
    return 1;
fail:
    log_ctx(LOG_LEVEL_ERROR, NULL, NULL, "running scheduled events: %s", store_errmsg(st));
    return -1;
}

time_t
schedule_next_due(const struct config *cfg, struct store *st)
{
    struct store_schedule_pause *v = NULL;
    size_t n = 0;

    (void)cfg;
    /* A pause not scheduled yet needs a run now (any past time means "at once"). */
    if (store_schedule_unscheduled_pauses(st, &v, &n) != 0)
        return 0;
    free(v);
    return n > 0 ? 1 : store_schedule_next_due(st);
}
