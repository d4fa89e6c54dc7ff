/*
 * match: score newcomer-mentor pairs and find the best assignment for the pool.
 *
 * Works on plain in-memory structs so the daemon (members from the store), the
 * tests and the benchmark share one path.  The caller resolves IANA zones to
 * offsets, applies the [matching] configuration to struct match_weights and
 * lists the pairs that must never be made (do-not-match, already paired).
 *
 * Score of a pair, in points (see struct match_weights for the terms):
 *   tag * shared tags + language * (any shared language) + tz_overlap *
 *   overlapping waking hours + goal * shared goal keywords + wait_bonus_per_day
 *   * min(days waited, wait_max_days).
 * Scores are used in milli-points (llround(1000 * points)) so the optimisation
 * is exact integer arithmetic.  A pair with no shared language is forbidden
 * when require_common_language is set; pairs scoring <= 0 are never made.
 *
 * Load: a mentor's strain = active mentees + strain_unanswered * unanswered
 * check-ins + strain_low_feedback * recent low feedback + strain_per_week *
 * weeks beyond break_after_weeks without a break.  Free slots = capacity -
 * active - floor(strain - active); the k-th new mentee (k = 1, 2, ...) costs
 * load_penalty * (2 * (strain + k) - 1) points, the marginal cost of
 * load_penalty * load^2, so each extra mentee costs more than the one before
 * and load spreads over mentors.
 *
 * The assignment maximises total score minus load cost over every eligible
 * pair (an eligible newcomer, a mentor with free slots, a shared language
 * when required, not blocked, score > 0), as a min-cost flow (mcf.h); a
 * newcomer may stay unmatched, so a match is only made when it adds value.
 * The flow is first solved on candidate pairs (top_k mentors per newcomer
 * plus top_r newcomers per mentor).  Then every other eligible pair is priced
 * with the solve's dual prices: a pair scoring more than its newcomer's and
 * its mentor's prices together would improve the assignment, so it joins the
 * graph and the flow is solved again (warm), until no pair is left.  The
 * pricing scores only pairs that a bound from the score's structure (shared
 * tag count, time zone, goal count, waiting bonus) cannot rule out.  The
 * result then carries a certificate (match_result.certified): the prices
 * satisfy every arc's optimality condition on the final graph (mcf_check)
 * and no left-out eligible pair beats them, so by LP duality no assignment
 * over all n_newcomers x n_mentors pairs is better.  top_k, top_r and
 * scan_limit change only the time this takes, not the result.  If a solve
 * fails the error is logged and the greedy result on the candidates is used
 * (not certified).
 *
 * Determinism: people are sorted by id before anything else, so the same set
 * of people gives the same pairs whatever their order in the input.  Among
 * equally good candidates the order is a fixed hash of the pair's positions
 * in id order (so newcomers who rank mentors alike do not all list the same
 * ones), then lower ids; the graph is built in id order (newcomers
 * ascending, each one's candidates best first, then the priced pairs in the
 * order found), and among equally good assignments the one mcf's network
 * simplex reaches on that graph is returned (mcf.h: a fixed arc order,
 * first arc on ties).
 *
 * Candidates: when there are at most scan_limit mentors every mentor is scored
 * for every newcomer (so top_k is exact).  Above that, an inverted index
 * (mentors by tag and by time zone, and all mentors by time zone) is read
 * list segment by list segment from the highest score bound down, until no
 * unread mentor can enter the newcomer's top_k or scan_limit mentors were
 * scored.  Either way pricing then covers every other pair.
 *
 * Modes: match_solve makes one-to-one pairs (also used for rotation and
 * buddies, which differ only in who takes part and for how long).
 * match_circles groups newcomers into circles around mentors by a shared
 * topic (see there); pairing.c uses it for circles mode and for peer circles
 * of long-waiting newcomers ([matching] peer_circle_weeks).
 */
#ifndef MENTORD_MATCH_H
#define MENTORD_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum match_role { MATCH_NEWCOMER = 0, MATCH_MENTOR = 1 };

/* Reasons a member takes no part in a round (hard constraints). */
enum match_flag {
    MATCH_PAUSED = 1 << 0,
    MATCH_UNDELIVERABLE = 1 << 1,
    MATCH_UNCONFIRMED = 1 << 2,
    MATCH_LEAVING = 1 << 3,
    MATCH_EXCLUDED = 1 << 4, /* any other reason the caller has */
};

struct match_person {
    /*
     * Field order and widths keep this at 80 bytes: a round holds every
     * waiting newcomer and every mentor at once (110,000 at the benchmark's
     * largest size), and their peak memory has a 64 MB target.
     */
    int64_t id;                   /* unique; the store's member id */
    int64_t waiting_since;        /* newcomers: unix time the newcomer started waiting */
    const char *const *tags;      /* skills / interests, as the member wrote them */
    const char *const *languages; /* "Spanish", "English" (compared case-insensitively) */
    const char *const *goals;     /* goal keywords, normalised like tags */
    uint32_t n_tags, n_languages, n_goals;
    int tz_offset_min; /* UTC offset in minutes, e.g. +60 for CET in winter */
    /* Mentors. */
    int capacity;            /* most mentees at once */
    int active_mentees;      /* current mentees */
    int unanswered_checkins; /* check-ins (and proposals) left unanswered */
    int low_feedback;        /* recent low feedback ratings */
    int weeks_since_break;   /* weeks since the mentor last paused */
    uint8_t role;            /* enum match_role */
    uint16_t flags;          /* enum match_flag bits: any bit excludes the person */
};

/* A synonym: tags normalising to `from` count as `to` ("js" -> "javascript"). */
struct match_synonym {
    const char *from;
    const char *to;
};

/* Two members who must not be paired (do-not-match, or already paired once). */
struct match_block {
    int64_t a, b; /* order does not matter */
};

/* [matching] in the configuration; match_weights_default() gives the defaults. */
struct match_weights {
    double tag;                  /* per shared tag (10) */
    double language;             /* at least one shared language (5) */
    double tz_overlap;           /* per hour of shared waking time 08-21 local (1) */
    double goal;                 /* per shared goal keyword (5) */
    double wait_bonus_per_day;   /* per day waited (0.5) */
    int wait_max_days;           /* days counted at most (60) */
    double load_penalty;         /* scale of the convex load cost (1) */
    double strain_unanswered;    /* mentee equivalents per unanswered check-in (0.5) */
    double strain_low_feedback;  /* per recent low feedback (1) */
    int break_after_weeks;       /* weeks without a break before it counts (12) */
    double strain_per_week;      /* per week beyond that (0.1) */
    int require_common_language; /* hard rule (1) */
    int top_k;                   /* candidate mentors per newcomer (10) */
    int top_r;                   /* candidate newcomers per mentor with free slots (5) */
    int scan_limit;              /* mentors scored per newcomer for candidates (250) */
};

struct match_input {
    const struct match_person *people;
    size_t n_people;
    const struct match_weights *weights; /* NULL: defaults */
    const struct match_synonym *synonyms;
    size_t n_synonyms;
    const struct match_block *blocked;
    size_t n_blocked;
    int64_t now;  /* unix time, for waiting days */
    FILE *dimacs; /* when set, the candidate graph is written here (DIMACS "p min") */
};

#define MATCH_MAX_REASONS 3

struct match_pair {
    int64_t newcomer, mentor;
    int64_t score; /* milli-points, without the load cost */
    int n_reasons;
    const char *reasons[MATCH_MAX_REASONS]; /* best first; owned by the result */
};

struct match_result {
    struct match_pair *pairs; /* ascending newcomer id */
    size_t n_pairs;
    int64_t *waitlist; /* unmatched eligible newcomers, longest waiting first */
    size_t n_waitlist;
    int64_t total_score; /* sum of pair scores, milli-points */
    int64_t load_cost;   /* sum of load costs of the new mentees, milli-points */
    int64_t objective;   /* total_score - load_cost: what is maximised */
    size_t n_candidates; /* pairs in the flow graph: candidates plus those priced in */
    int used_greedy;     /* match_solve fell back to greedy (the error was logged) */
    /*
     * certified: the dual prices prove the assignment optimal over every
     * eligible pair of the n_newcomers x n_mentors (see match_solve), not
     * only over the candidates.  0 for match_greedy and after a fallback.
     */
    int certified;
    size_t n_newcomers, n_mentors; /* eligible newcomers; mentors with free places */
    int pricing_rounds;            /* solves after the first (pairs were priced in) */
    size_t n_priced;               /* pairs scored by the pricing (the rest were bounded) */
    size_t n_priced_in;            /* pairs the pricing added to the graph */
    double seconds_candidates, seconds_solve, seconds_pricing; /* CPU seconds, for the benchmark */
    size_t graph_bytes;                       /* memory of the flow graph */
    char *text;                               /* storage of the reasons */
};

void match_weights_default(struct match_weights *w);

/*
 * The optimal assignment.  0 on success (out filled, free with
 * match_result_free); -1 with err on bad input (duplicate id, negative
 * capacity, bad weights) or when out of memory.
 */
int match_solve(const struct match_input *in, struct match_result *out, char *err, size_t errlen);

/*
 * Greedy baseline on the same candidate pairs: best pair first (score, then
 * lower newcomer id, then lower mentor id), taken while it still adds value.
 */
int match_greedy(const struct match_input *in, struct match_result *out, char *err, size_t errlen);

void match_result_free(struct match_result *r);

/*
 * Score of one pair in milli-points, or MATCH_FORBIDDEN when a hard rule
 * (flags, no shared language, blocked, role, no free slot) rules it out.
 * Same arithmetic as match_solve; for previews, explanations and tests.
 */
#define MATCH_FORBIDDEN INT64_MIN
int64_t match_score(const struct match_person *newcomer, const struct match_person *mentor,
                    const struct match_input *in);

/* Free slots of a mentor after load (0 for anyone excluded). */
int match_free_slots(const struct match_person *mentor, const struct match_weights *w);

/* Load cost of the k-th new mentee (k >= 1) of a mentor, milli-points. */
int64_t match_slot_cost(const struct match_person *mentor, int k, const struct match_weights *w);

/* Minutes of 08:00-21:00 local time that two UTC offsets share (0..780). */
int match_tz_overlap_minutes(int offset_a_min, int offset_b_min);

/*
 * Normalise a tag or keyword into out: trimmed, ASCII lower-case, runs of
 * spaces, '-' and '_' as one space, a simple English plural on the last word
 * removed ("libraries" -> "library", "docs" -> "doc"), then the synonym table
 * applied (its entries normalised the same way).  Returns the length, or -1
 * when it is empty or does not fit.
 */
int match_normalise(const char *in, const struct match_synonym *syn, size_t n_syn, char *out,
                    size_t outlen);

/* ---- circles ---- */

#define MATCH_TOPIC_LEN 64

struct match_circle {
    int64_t mentor;
    char topic[MATCH_TOPIC_LEN]; /* the normalised tag everyone in the circle shares */
    int64_t *newcomers;          /* best score first */
    size_t n_newcomers;          /* 2..circle_size */
    int64_t score;               /* sum of the newcomers' scores with the mentor, milli-points */
};

struct match_circles {
    struct match_circle *circles; /* in the order they were formed, best first */
    size_t n_circles;
    int64_t *waitlist; /* eligible newcomers in no circle, longest waiting first */
    size_t n_waitlist;
};

/*
 * Circles: a mentor's free slots (match_free_slots: capacity and load count
 * circles here, not mentees) each take one circle of 2..circle_size
 * newcomers who all have one topic (a normalised tag) that the mentor has
 * too, and whom match_score allows with that mentor (language, blocks,
 * flags).  Greedy, not an exact optimum: the (mentor, topic) circle with the
 * highest total score is formed first (the best circle_size newcomers by
 * score, lower id on ties; on equal totals the lower mentor id, then the
 * topic first in byte order), again until no circle of two is left.
 * O(circles * mentors * tags * people): for community-sized pools.  0 on
 * success (free with match_circles_free); -1 with err on bad input (circle
 * size below 2, duplicate id) or when out of memory.
 */
int match_circles(const struct match_input *in, int circle_size, struct match_circles *out,
                  char *err, size_t errlen);
void match_circles_free(struct match_circles *c);

#endif
