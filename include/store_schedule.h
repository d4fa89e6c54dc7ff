/*
 * store_schedule: due events and check-in feedback.
 * Part of the store module's public face (store.h includes it; conventions
 * there); defined in daemon/store_schedule.c.
 */
#ifndef MENTORD_STORE_SCHEDULE_H
#define MENTORD_STORE_SCHEDULE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/*
 * ---- the schedule and feedback (store_schedule.c) ----
 * Due events (each done exactly once) and check-in answers.  Tables:
 * schedule, feedback; members.last_break, unanswered, last_reminder.
 * Declarations for store_schedule.c go here.
 */

/* One scheduled event: kind "checkin", "reminder", "pair-end", "pause-end", ... */
struct store_schedule_event {
    int64_t id;
    time_t due;
    char kind[32];
    int64_t member; /* 0 when none */
    int64_t pair;   /* 0 when none */
    char arg[64];   /* "" when none */
};

int store_schedule_add(struct store *st, time_t due, const char *kind, int64_t member, int64_t pair,
                       const char *arg, time_t now, int64_t *id_out);
/* The oldest event not done with due <= now: 1 and *out filled, 0 when none. */
int store_schedule_next(struct store *st, time_t now, struct store_schedule_event *out);
/* Events of kind for member not done, due at or before before, other than except (malloc'd). */
int store_schedule_pending(struct store *st, const char *kind, int64_t member, time_t before,
                           int64_t except, struct store_schedule_event **out, size_t *n);
int store_schedule_done(struct store *st, int64_t id, time_t now, const char *outcome);
/* Put a pending event off to a new due time (quiet hours, an absence). */
int store_schedule_move(struct store *st, int64_t id, time_t due);
/*
 * Close the pending events of a pair / of a member with outcome, all but the
 * event except (0: none, e.g. the event now running); the number closed.
 */
int store_schedule_cancel_pair(struct store *st, int64_t pair, int64_t except, time_t now,
                               const char *outcome);
int store_schedule_cancel_member(struct store *st, int64_t member, int64_t except, time_t now,
                                 const char *outcome);
/* Earliest due among pending events; 0 when none, (time_t)-1 on error. */
time_t store_schedule_next_due(struct store *st);
/*
 * Events of kind matching member/pair (0: any) and arg (NULL: any): with
 * pending, only those not done.  Returns the count, -1 on error.
 */
int store_schedule_count(struct store *st, const char *kind, int64_t member, int64_t pair,
                         const char *arg, int pending);
/* Done events of kind for member/pair (0: any) with outcome, done at or after since. */
int store_schedule_count_done(struct store *st, const char *kind, int64_t member, int64_t pair,
                              const char *outcome, time_t since);
/* The latest such done event: 1 with *at (when done) and arg (may be NULL) set, 0 when none. */
int store_schedule_last_done(struct store *st, const char *kind, int64_t member, int64_t pair,
                             const char *outcome, time_t *at, char *arg, size_t arglen);
/*
 * Paused members with an end date that has no "pause-end" event for that
 * date yet (a new or changed pause): malloc'd array of {member, until}.
 */
struct store_schedule_pause {
    int64_t member;
    time_t until;
};
int store_schedule_unscheduled_pauses(struct store *st, struct store_schedule_pause **out,
                                      size_t *n);

/* A check-in answer.  rating 0: none given; met -1: not said. */
struct store_feedback {
    int64_t id, pair, member;
    char *role; /* "newcomer" or "mentor" */
    time_t at;
    int rating;
    int met;
    char *comment;
    char *checkin; /* the check-in day answered ("14", "end"), may be NULL */
};

int store_feedback_add(struct store *st, const struct store_feedback *fb, int64_t *id_out);
/* A pair's feedback, oldest first (malloc'd array; free with store_feedback_free). */
int store_feedback_list(struct store *st, int64_t pair, struct store_feedback **out, size_t *n);
void store_feedback_free(struct store_feedback *v, size_t n);
/* When member last gave feedback on pair: 1 and *at set, 0 never. */
int store_feedback_last(struct store *st, int64_t pair, int64_t member, time_t *at);
/* Ratings mentees gave a mentor since a time: count, low (<= 2), high (>= 4), average. */
struct store_feedback_stats {
    int n, low, high;
    double avg;
};
int store_feedback_about_mentor(struct store *st, int64_t mentor, time_t since,
                                struct store_feedback_stats *out);

/* A member's counters: unanswered check-ins in a row, last reminder, last break. */
int store_member_unanswered_add(struct store *st, int64_t member);
int store_member_unanswered_reset(struct store *st, int64_t member);
int store_member_set_last_reminder(struct store *st, int64_t member, time_t at);
int store_member_set_last_break(struct store *st, int64_t member, time_t at);

/* A mentor's pairs: active now, and ever started (active or ended). */
int store_schedule_mentor_counts(struct store *st, int64_t mentor, int *active, int *ever,
                                 time_t *first_started);
/* Pairs in which member was the newcomer and that started (active or ended). */
int store_schedule_mentee_pairs(struct store *st, int64_t member);

/* @@ store_schedule.c declarations @@ */

#endif
