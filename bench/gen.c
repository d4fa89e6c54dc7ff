/* gen: synthetic communities with Zipf-like tag, language and zone distributions. */
#include "gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_TAGS 600
#define N_GOALS 40

static const char *const languages[] = {"English",    "Spanish", "German",   "French",
                                        "Portuguese", "Hindi",   "Japanese", "Russian"};
static const int zones[] = {0,    60,  60,  60,  120,  -300, -300, -360,
                            -480, 330, 480, 540, -180, 600,  180};

static char tag_names[N_TAGS][16];
static char goal_names[N_GOALS][16];

/* A small xorshift generator: rand() is not reproducible across libcs. */
static uint32_t
next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

static double
uniform(uint64_t *s)
{
    return next(s) / 4294967296.0;
}

/* Zipf(1) over n items by inverse transform on the harmonic cumulative sums. */
static int
zipf(uint64_t *s, const double *cdf, int n)
{
    double u = uniform(s) * cdf[n - 1];
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
fill(const char **out, uint32_t *count, int n, uint64_t *s, const double *cdf, int range,
     char (*names)[16])
{
    *count = 0;
    for (int i = 0; i < n; i++)
        out[(*count)++] = names[zipf(s, cdf, range)];
}

int
gen_community(struct community *c, size_t n_newcomers, size_t n_mentors, unsigned seed)
{
    memset(c, 0, sizeof(*c));
    uint64_t s = 0x9e3779b97f4a7c15ULL ^ seed;
    double tag_cdf[N_TAGS], goal_cdf[N_GOALS];
    for (int i = 0; i < N_TAGS; i++) {
        snprintf(tag_names[i], sizeof(tag_names[i]), "Topic%03ds", i); /* plurals normalise */
        tag_cdf[i] = (i > 0 ? tag_cdf[i - 1] : 0) + 1.0 / (i + 1);
    }
    for (int i = 0; i < N_GOALS; i++) {
        snprintf(goal_names[i], sizeof(goal_names[i]), "goal %d", i);
        goal_cdf[i] = (i > 0 ? goal_cdf[i - 1] : 0) + 1.0 / (i + 1);
    }
    size_t n = n_newcomers + n_mentors, per = 8 + 2 + 2; /* tags, languages, goals */
    c->people = calloc(n, sizeof(*c->people));
    c->strings = malloc(n * per * sizeof(*c->strings));
    c->n_history = n_mentors * 2;
    c->history = malloc((c->n_history + 1) * sizeof(*c->history));
    if (c->people == NULL || c->strings == NULL || c->history == NULL)
        return gen_free(c), -1;
    c->n_newcomers = n_newcomers;
    c->n_mentors = n_mentors;
    c->now = 1770000000;
    /* Lists are packed one after another: the array is sized for the most a
     * person can have, but only the pages written become resident. */
    const char **str = c->strings;
    for (size_t i = 0; i < n; i++) {
        struct match_person *p = &c->people[i];
        int mentor = i >= n_newcomers;
        p->id = (int64_t)i + 1;
        p->role = mentor ? MATCH_MENTOR : MATCH_NEWCOMER;
        p->tags = str;
        fill(str, &p->n_tags, mentor ? 4 + (int)(next(&s) % 5) : 2 + (int)(next(&s) % 4), &s,
             tag_cdf, N_TAGS, tag_names);
        str += p->n_tags;
        p->goals = str;
        fill(str, &p->n_goals, 1 + (int)(next(&s) % 2), &s, goal_cdf, N_GOALS, goal_names);
        str += p->n_goals;
        const char **lang = str;
        p->languages = lang;
        p->n_languages = 0;
        if (uniform(&s) < 0.85)
            lang[p->n_languages++] = languages[0];
        if (p->n_languages == 0 || uniform(&s) < 0.3)
            lang[p->n_languages++] = languages[1 + next(&s) % 7];
        str += p->n_languages;
        p->tz_offset_min = zones[next(&s) % (sizeof(zones) / sizeof(*zones))];
        if (mentor) {
            p->capacity = 2 + (int)(next(&s) % 5);
            p->active_mentees = (int)(next(&s) % 2);
            p->unanswered_checkins = uniform(&s) < 0.1 ? 1 + (int)(next(&s) % 3) : 0;
            p->low_feedback = uniform(&s) < 0.05;
            p->weeks_since_break = (int)(next(&s) % 40);
            p->flags = uniform(&s) < 0.03 ? MATCH_PAUSED : 0;
        } else {
            p->waiting_since = c->now - (int64_t)(next(&s) % (120 * 86400));
            p->flags = uniform(&s) < 0.02 ? MATCH_UNCONFIRMED : 0;
        }
    }
    for (size_t i = 0; i < c->n_history; i++) { /* earlier pairs of these people */
        c->history[i].a = (int64_t)(next(&s) % n_newcomers) + 1;
        c->history[i].b = (int64_t)(n_newcomers + next(&s) % n_mentors) + 1;
    }
    return 0;
}

void
gen_free(struct community *c)
{
    free(c->people);
    free(c->strings);
    free(c->history);
    memset(c, 0, sizeof(*c));
}

/* Everyone alike (see gen.h): the pool that defeats any fixed candidate list. */
int
gen_uniform(struct community *c, size_t n_newcomers, size_t n_mentors)
{
    static const char *const tags[] = {"python", "git", "docs"};
    static const char *const english[] = {"English"};
    memset(c, 0, sizeof(*c));
    size_t n = n_newcomers + n_mentors;
    c->people = calloc(n, sizeof(*c->people));
    c->history = malloc(sizeof(*c->history));
    if (c->people == NULL || c->history == NULL)
        return gen_free(c), -1;
    c->n_newcomers = n_newcomers;
    c->n_mentors = n_mentors;
    c->now = 1770000000;
    for (size_t i = 0; i < n; i++) {
        struct match_person *p = &c->people[i];
        p->id = (int64_t)i + 1;
        p->role = i >= n_newcomers ? MATCH_MENTOR : MATCH_NEWCOMER;
        p->tags = tags;
        p->n_tags = 3;
        p->languages = english;
        p->n_languages = 1;
        p->tz_offset_min = 60;
        p->capacity = p->role == MATCH_MENTOR ? 1 : 0;
        p->waiting_since = p->role == MATCH_NEWCOMER ? c->now - 3 * 86400 : 0;
    }
    return 0;
}
