/*
 * pairing: from a matching round to a running pair.  A round reads the
 * confirmed, reachable members from the store, lets the matcher (match.h)
 * find the best assignment, and turns each pair into a proposal to the
 * mentor (or, without mentor_accepts, straight into an introduction by
 * lifecycle.c).  Replies act on a pair: ACCEPT and DECLINE of a proposal,
 * DONE and REMATCH of a running pair.  Newcomers left over hear that they
 * are waiting, at most once a week.
 *
 * Privacy: a proposal shows the newcomer's profile and first name, never
 * their address; addresses are only exchanged by the introduction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "gate.h"
#include "lang.h"
#include "log.h"
#include "match.h"
#include "outbox.h"
#include "profile.h"
#include "lifecycle.h"
#include "pairing.h"
#include "quiet.h"
#include "reason.h"
#include "respond.h"

#define DAY (24 * 60 * 60)
#define WEEK (7 * DAY)
/* A waiting newcomer hears from us at most this often. */
#define PAIRING_WAITLIST_EVERY WEEK
/* The expected wait is estimated from the pairs started in this window. */
#define PAIRING_RATE_WINDOW (28 * DAY)
#define PAIRING_DEFAULT_TIMEOUT (3 * DAY)
/* An onboarding buddy helps with the first steps: a short pairing ([matching] buddy_weeks). */
#define PAIRING_BUDDY_PERIOD (4 * WEEK)

/* ---- small helpers ---- */

/* "Ana" from "Ana María López"; NULL when there is no name (the template says "a newcomer"). */
static char *
pairing_first_name(const char *name)
{
    if (name == NULL)
        return NULL;
    name += strspn(name, " \t\"'");
    size_t n = strcspn(name, " \t\"'<@");
    return n > 0 && n < 64 ? strndup(name, n) : NULL;
}

static void
pairing_days(int seconds, char *buf, size_t len)
{
    snprintf(buf, len, "%d", seconds / DAY > 0 ? seconds / DAY : 1);
}

static int
pairing_mode(const struct config *cfg, const char *mode)
{
    return cfg->matching.mode != NULL && strcmp(cfg->matching.mode, mode) == 0;
}

/* How long a pairing made now lasts (0: open-ended). */
static time_t
pairing_length(const struct config *cfg)
{
    time_t length = cfg->lifecycle.length > 0 ? cfg->lifecycle.length : 0;

    time_t buddy = cfg->matching.buddy_weeks > 0 ? (time_t)cfg->matching.buddy_weeks * WEEK
                                                 : PAIRING_BUDDY_PERIOD;

    if (pairing_mode(cfg, "buddies") && (length == 0 || length > buddy))
        return buddy;
    return length;
}

/* ---- the matcher's input, from the store ---- */

struct pairing_round {
    const struct config *cfg;
    struct store *st;
    time_t now;
    /*
     * Ascending id, as people.  Memory: a round (but mode buddies) reads its
     * members without keeping their rows, and reads the addresses and names
     * only once the matcher is done (pairing_addresses): NULL until then.
     */
    struct store_candidate *cand;
    size_t n_cand;
    /*
     * Memory: a round holds every waiting newcomer and every mentor at once,
     * so a profile is parsed once into the matcher's view (interned strings,
     * every person's lists back to back) and then freed; the few profiles
     * mail needs (proposals) are parsed again from the text on first use.
     */
    struct profile **profiles; /* pairing_profile; NULL until then */
    char **strs;               /* interned tags, languages, goals, zone names */
    size_t str_room, n_strs;
    const char **lists; /* every person's tags, languages, goals, back to back */
    size_t n_lists, list_room;
    struct match_person *people;
    size_t *start;      /* where each person's lists begin in lists, until they are final */
    size_t people_room; /* of people and start */
    struct match_weights w;
    char *syn_text; /* storage of the synonym pairs */
    struct match_synonym *syn;
    size_t n_syn;
    struct match_block *blocks;
    size_t n_blocks;
    struct match_input in;
    struct match_result res;
    int solved;
    struct pairing_zone *zones; /* zone name -> offset for this round (open addressing) */
    size_t zone_room, n_zones;
};

/*
 * One time-zone lookup per zone and round: profile_utc_offset reads the
 * zone's file (tzset), which at 100,000 members was a tenth of the round.
 * Keys are interned (pairing_intern).
 */
struct pairing_zone {
    const char *name;
    int offset, ok;
};

static void
pairing_round_free(struct pairing_round *r)
{
    for (size_t i = 0; r->profiles && i < r->n_cand; i++) {
        profile_free(r->profiles[i]);
        free(r->profiles[i]);
    }
    free(r->profiles);
    for (size_t i = 0; i < r->str_room; i++)
        free(r->strs[i]);
    free(r->strs);
    free(r->lists);
    free(r->people);
    free(r->start);
    if (r->cand != NULL)
        store_candidates_free(r->cand, r->n_cand);
    free(r->syn_text);
    free(r->syn);
    free(r->blocks);
    free(r->zones);
    if (r->solved)
        match_result_free(&r->res);
}

static char *
pairing_trim(char *s)
{
    s += strspn(s, " \t");
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* [matching] synonyms = "js=javascript, k8s=kubernetes"; entries without '=' are ignored. */
int
pairing_synonyms(const char *text, char **storage, struct match_synonym **syn, size_t *n_syn)
{
    char *save = NULL;
    size_t cap = 0;

    if (text == NULL || text[0] == '\0')
        return 0;
    if ((*storage = strdup(text)) == NULL)
        return -1;
    for (char *item = strtok_r(*storage, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        if (*n_syn == cap) {
            cap = cap ? 2 * cap : 8;
            struct match_synonym *grown = realloc(*syn, cap * sizeof(*grown));
            if (grown == NULL)
                return -1;
            *syn = grown;
        }
        (*syn)[*n_syn].from = pairing_trim(item);
        (*syn)[*n_syn].to = pairing_trim(eq + 1);
        (*n_syn)++;
    }
    return 0;
}

void
pairing_weights(const struct config_matching *m, struct match_weights *w)
{
    match_weights_default(w);
    w->tag = m->tag;
    w->language = m->language;
    w->tz_overlap = m->tz_overlap;
    w->goal = m->goal;
    w->wait_bonus_per_day = m->wait_bonus_per_day;
    w->load_penalty = m->load_penalty;
    w->require_common_language = m->require_common_language;
    /*
     * The configuration's own values (config.c gives the defaults and
     * ranges): top_r = 0 means no per-mentor candidates.  The result is the
     * optimum over every eligible pair whatever these are (match.h); they
     * only decide how much the first solve sees.  An unset top_k or
     * scan_limit (a zeroed struct) keeps the matcher's default.
     */
    if (m->top_k > 0)
        w->top_k = m->top_k;
    w->top_r = m->top_r;
    if (m->scan_limit > 0)
        w->scan_limit = m->scan_limit;
}

static uint64_t
pairing_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t
pairing_str_slot(char *const *strs, size_t room, const char *s)
{
    size_t i = (size_t)pairing_hash(s) & (room - 1);
    while (strs[i] != NULL && strcmp(strs[i], s) != 0)
        i = (i + 1) & (room - 1);
    return i;
}

/* The round's one copy of s (tags repeat across thousands of members); NULL when out of memory. */
static const char *
pairing_intern(struct pairing_round *r, const char *s)
{
    if ((r->n_strs + 1) * 2 > r->str_room) {
        size_t room = r->str_room ? r->str_room * 2 : 256;
        char **grown = calloc(room, sizeof(*grown));
        if (grown == NULL)
            return NULL;
        for (size_t i = 0; i < r->str_room; i++)
            if (r->strs[i] != NULL)
                grown[pairing_str_slot(grown, room, r->strs[i])] = r->strs[i];
        free(r->strs);
        r->strs = grown;
        r->str_room = room;
    }
    size_t i = pairing_str_slot(r->strs, r->str_room, s);
    if (r->strs[i] == NULL) {
        if ((r->strs[i] = strdup(s)) == NULL)
            return NULL;
        r->n_strs++;
    }
    return r->strs[i];
}

/* Append interned copies of items to the round's lists. */
static int
pairing_list_add(struct pairing_round *r, char *const *items, size_t n)
{
    if (r->n_lists + n > r->list_room) {
        size_t room = r->list_room ? r->list_room : 1024;
        while (room < r->n_lists + n)
            room *= 2;
        const char **grown = realloc(r->lists, room * sizeof(*grown));
        if (grown == NULL)
            return -1;
        r->lists = grown;
        r->list_room = room;
    }
    for (size_t k = 0; k < n; k++)
        if ((r->lists[r->n_lists++] = pairing_intern(r, items[k])) == NULL)
            return -1;
    return 0;
}

/*
 * Candidate i's profile, parsed again on first use from its text, which the
 * round let go once the matcher had its view (pairing_load) and the store
 * still has; NULL when out of memory or the store failed.
 */
static struct profile *
pairing_profile(struct pairing_round *r, size_t i)
{
    /* Only rounds that send mail need profiles: the array comes with the first. */
    if (r->profiles == NULL &&
        (r->profiles = calloc(r->n_cand ? r->n_cand : 1, sizeof(*r->profiles))) == NULL)
        return NULL;
    if (r->profiles[i] == NULL) {
        struct store_member m;
        if (store_pair_member(r->st, r->people[i].id, &m) < 0) {
            log_error("matching round: %s", store_errmsg(r->st));
            return NULL;
        }
        struct profile *p = calloc(1, sizeof(*p));
        int rc = p != NULL ? profile_parse(m.profile ? m.profile : "", p) : -1;
        store_member_free(&m);
        if (rc != 0) {
            free(p);
            return NULL;
        }
        r->profiles[i] = p;
    }
    return r->profiles[i];
}

static size_t
pairing_zone_slot(const struct pairing_round *r, const char *name)
{
    size_t i = (size_t)pairing_hash(name) & (r->zone_room - 1);
    while (r->zones[i].name != NULL && strcmp(r->zones[i].name, name) != 0)
        i = (i + 1) & (r->zone_room - 1);
    return i;
}

/* profile_utc_offset, once per distinct zone name of the round. */
static int
pairing_utc_offset(struct pairing_round *r, const struct profile *p, int *ok)
{
    if (p->timezone == NULL)
        return profile_utc_offset(p, (long long)r->now, ok);
    if ((r->n_zones + 1) * 2 > r->zone_room) {
        size_t room = r->zone_room ? r->zone_room * 2 : 64;
        struct pairing_zone *old = r->zones, *grown = calloc(room, sizeof(*grown));
        size_t old_room = r->zone_room;
        if (grown == NULL) /* no cache: still correct, only slower */
            return profile_utc_offset(p, (long long)r->now, ok);
        r->zones = grown;
        r->zone_room = room;
        for (size_t i = 0; i < old_room; i++)
            if (old[i].name != NULL)
                r->zones[pairing_zone_slot(r, old[i].name)] = old[i];
        free(old);
    }
    struct pairing_zone *z = &r->zones[pairing_zone_slot(r, p->timezone)];
    if (z->name == NULL) {
        if ((z->name = pairing_intern(r, p->timezone)) == NULL)
            return profile_utc_offset(p, (long long)r->now, ok);
        z->offset = profile_utc_offset(p, (long long)r->now, &z->ok);
        r->n_zones++;
    }
    *ok = z->ok;
    return z->offset;
}

/*
 * Candidate c (number i) as the matcher sees it, from its parsed profile p;
 * its lists go to the round's lists from *start on (pairing_load points them
 * there once every list is in).
 */
static int
pairing_person(struct pairing_round *r, size_t i, const struct store_candidate *c,
               const struct profile *p, size_t *start)
{
    struct match_person *mp = &r->people[i];
    int ok = 0;

    memset(mp, 0, sizeof(*mp));
    mp->id = c->id;
    /* A buddy (mode buddies) is matched like a mentor. */
    mp->role = strcmp(c->role, "mentor") == 0 || strcmp(c->role, "buddy") == 0 ? MATCH_MENTOR
                                                                               : MATCH_NEWCOMER;
    *start = r->n_lists;
    if (pairing_list_add(r, p->skills, p->n_skills) != 0 ||
        pairing_list_add(r, p->languages, p->n_languages) != 0 ||
        pairing_list_add(r, p->goals, p->n_goals) != 0)
        return -1;
    mp->n_tags = p->n_skills;
    mp->n_languages = p->n_languages;
    mp->n_goals = p->n_goals;
    /* An unknown zone reads as UTC: it only weakens the time-zone term. */
    mp->tz_offset_min = pairing_utc_offset(r, p, &ok);
    mp->capacity = p->capacity >= 0 ? p->capacity : 1;
    mp->active_mentees = c->load;
    mp->unanswered_checkins = c->unanswered;
    mp->low_feedback = c->low_feedback;
    mp->weeks_since_break = c->weeks_since_break;
    mp->waiting_since = c->waiting_since;
    return 0;
}

static int
pairing_by_id(const void *a, const void *b)
{
    const struct store_candidate *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Mode buddies: newcomers who finished a pairing join the mentors as
 * possible buddies.  They are never waiting themselves, so no id repeats;
 * the list is sorted again because pairing_index searches it by id.
 */
static int
pairing_add_buddies(struct pairing_round *r)
{
    struct store_candidate *b = NULL;
    size_t n = 0;

    if (store_pair_buddies(r->st, r->now, &b, &n) != 0)
        return -1;
    if (n == 0) {
        free(b);
        return 0;
    }
    struct store_candidate *all = realloc(r->cand, (r->n_cand + n) * sizeof(*all));
    if (all == NULL) {
        store_candidates_free(b, n);
        log_error("matching round: out of memory adding %zu buddies", n);
        return -1;
    }
    memcpy(all + r->n_cand, b, n * sizeof(*b));
    free(b);
    r->cand = all;
    r->n_cand += n;
    qsort(r->cand, r->n_cand, sizeof(*r->cand), pairing_by_id);
    return 0;
}

/* Candidate c (number i) into the matcher's view, from its profile text; 0 or -1. */
static int
pairing_read_one(struct pairing_round *r, size_t i, const struct store_candidate *c,
                 const char *text)
{
    if (i >= r->people_room) {
        size_t room = r->people_room ? 2 * r->people_room : 1024;
        struct match_person *people = realloc(r->people, room * sizeof(*people));
        if (people != NULL)
            r->people = people;
        size_t *start = people != NULL ? realloc(r->start, room * sizeof(*start)) : NULL;
        if (start == NULL)
            return -1;
        r->start = start;
        r->people_room = room;
    }
    struct profile p;
    memset(&p, 0, sizeof(p));
    int rc = profile_parse(text ? text : "", &p);
    if (rc == 0)
        rc = pairing_person(r, i, c, &p, &r->start[i]);
    profile_free(&p);
    return rc;
}

/* store_pair_candidates_read's reader: each profile is parsed as its row comes. */
static int
pairing_read_row(const struct store_candidate *c, size_t i, void *arg)
{
    return pairing_read_one(arg, i, c, c->profile);
}

/*
 * The round's members in the matcher's view.  Memory: at 100,000 members the
 * profiles' text was the largest part of a round (14 MB), so each is parsed
 * as its row is read and not kept; only mode buddies, which merges and sorts
 * two lists first, holds the text until then.
 */
static int
pairing_load(struct pairing_round *r)
{
    struct store_block *blocks = NULL;
    int buddies = pairing_mode(r->cfg, "buddies");
    int rc = buddies ? store_pair_candidates(r->st, r->now, &r->cand, &r->n_cand)
                     : store_pair_candidates_read(r->st, r->now, pairing_read_row, r, &r->n_cand);

    if (rc != 0 || (buddies && pairing_add_buddies(r) != 0) ||
        store_block_list(r->st, &blocks, &r->n_blocks) != 0) {
        log_error("matching round: %s", store_errmsg(r->st));
        return -1;
    }
    for (size_t i = 0; buddies && i < r->n_cand; i++) {
        if (pairing_read_one(r, i, &r->cand[i], r->cand[i].profile) != 0)
            return -1;
        free(r->cand[i].profile);
        r->cand[i].profile = NULL;
    }
    r->blocks = calloc(r->n_blocks ? r->n_blocks : 1, sizeof(*r->blocks));
    if (r->people == NULL && (r->people = calloc(1, sizeof(*r->people))) == NULL)
        rc = -1;
    if (rc != 0 || r->blocks == NULL) {
        free(blocks);
        return -1;
    }
    for (size_t i = 0; i < r->n_blocks; i++)
        r->blocks[i] = (struct match_block){blocks[i].a, blocks[i].b};
    free(blocks);
    for (size_t i = 0; i < r->n_cand; i++) { /* the lists are final now */
        struct match_person *mp = &r->people[i];
        mp->tags = r->lists + r->start[i];
        mp->languages = mp->tags + mp->n_tags;
        mp->goals = mp->languages + mp->n_languages;
    }
    free(r->start);
    r->start = NULL;
    /* SQLite's page cache is not needed again before the matcher is done: its memory serves it. */
    if (store_release_memory(r->st) != 0)
        log_warn("matching round: could not release the store's cache");
    if (pairing_synonyms(r->cfg->matching.synonyms, &r->syn_text, &r->syn, &r->n_syn) != 0)
        return -1;
    pairing_weights(&r->cfg->matching, &r->w);
    r->in = (struct match_input){
        .people = r->people,
        .n_people = r->n_cand,
        .weights = &r->w,
        .synonyms = r->syn,
        .n_synonyms = r->n_syn,
        .blocked = r->blocks,
        .n_blocked = r->n_blocks,
        .now = (int64_t)r->now,
    };
    return 0;
}

/*
 * The round's members with their addresses and names, read now (see struct
 * pairing_round) for the few steps that write to them or print them.
 */
static int
pairing_addresses(struct pairing_round *r)
{
    if (r->cand != NULL)
        return 0;
    if ((r->cand = calloc(r->n_cand ? r->n_cand : 1, sizeof(*r->cand))) == NULL) {
        log_error("matching round: out of memory for %zu addresses", r->n_cand);
        return -1;
    }
    for (size_t i = 0; i < r->n_cand; i++) {
        const struct match_person *p = &r->people[i];
        r->cand[i] = (struct store_candidate){
            .id = p->id,
            .role = p->role == MATCH_MENTOR ? "mentor" : "newcomer",
            .waiting_since = (time_t)p->waiting_since,
            .load = p->active_mentees,
            .unanswered = p->unanswered_checkins,
            .low_feedback = p->low_feedback,
            .weeks_since_break = p->weeks_since_break,
        };
    }
    if (store_pair_addresses(r->st, r->cand, r->n_cand) != 0) {
        log_error("matching round: %s", store_errmsg(r->st));
        return -1;
    }
    return 0;
}

/* The candidate with this id (people are sorted by id), or -1. */
static ptrdiff_t
pairing_index(const struct pairing_round *r, int64_t id)
{
    size_t lo = 0, hi = r->n_cand;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->people[mid].id == id)
            return (ptrdiff_t)mid;
        if (r->people[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ---- what a round does with its result ---- */

static char *
pairing_reasons_text(const struct match_pair *mp)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    for (int i = 0; i < mp->n_reasons; i++)
        fprintf(f, "%s%s", i ? "\n" : "", mp->reasons[i]);
    if (fclose(f) != 0)
        return NULL;
    return buf;
}

/*
 * A mentor confirmed in this same run, whose welcome still waits in the
 * outbox, is proposed a newcomer: the welcome is withdrawn and the proposal
 * says it (one mail, not two, on their first day).  *echo gets the mentor's
 * own profile lines for it (NULL when none).  1 when merged, 0 when not, -1.
 */
static int
pairing_take_welcome(struct pairing_round *r, size_t mi, char **echo)
{
    struct store_member mem;
    struct profile p;

    *echo = NULL;
    int n = store_outbox_withdraw(r->st, r->cand[mi].address, "mentor");
    if (n <= 0)
        return n;
    int found = store_member_get(r->st, r->cand[mi].address, &mem);
    if (found < 0)
        return -1;
    if (found == 1 && mem.profile && profile_parse(mem.profile, &p) == 0) {
        *echo = p.n_fields > 0 ? profile_describe(&p) : NULL;
        if (*echo && (*echo)[0] && (*echo)[strlen(*echo) - 1] == '\n')
            (*echo)[strlen(*echo) - 1] = '\0';
        profile_free(&p);
    }
    if (found == 1)
        store_member_free(&mem);
    return 1;
}

/* The mentor's proposal: the newcomer's first name and profile, the reasons; no address. */
static int
pairing_send_proposal(struct pairing_round *r, size_t ni, size_t mi, const char *reasons,
                      const char *ref, time_t at)
{
    struct profile none, *p = pairing_profile(r, ni);
    if (p == NULL) { /* out of memory: the proposal goes without the profile */
        memset(&none, 0, sizeof(none));
        p = &none;
    }
    char *first = pairing_first_name(r->cand[ni].name ? r->cand[ni].name : p->name);
    char days[16], err[512], code[LANG_CODE_MAX];
    int rc = -1;

    /* The reasons in the mentor's language, as the proposal is written in it. */
    if (outbox_language(r->cfg, r->st, r->cand[mi].address, NULL, NULL, code) != 0)
        code[0] = '\0';
    char *saved_name = p->name, *profile,
         *lines = reason_lines(lang_get(r->cfg->templates.dir, code), reasons);

    /* The profile's full name stays out of the proposal: the first name is enough. */
    p->name = NULL;
    profile = p->n_fields > 0 ? profile_describe(p) : NULL;
    p->name = saved_name;
    if (profile && profile[0] && profile[strlen(profile) - 1] == '\n')
        profile[strlen(profile) - 1] = '\0';
    pairing_days(r->cfg->matching.proposal_timeout > 0 ? r->cfg->matching.proposal_timeout
                                                       : PAIRING_DEFAULT_TIMEOUT,
                 days, sizeof(days));
    /* Only a proposal that goes now carries the welcome: a welcome never waits for morning. */
    char *echo = NULL;
    int welcome = at <= r->now ? pairing_take_welcome(r, mi, &echo) : 0;
    struct template_var v[] = {{"newcomer", first},
                               {"profile", profile && profile[0] ? profile : NULL},
                               {"reasons", lines && lines[0] ? lines : NULL},
                               {"ref", ref},
                               {"days", days},
                               {"welcome", welcome == 1 ? "yes" : NULL},
                               {"my_profile", echo && echo[0] ? echo : NULL}};
    struct outbox_mail om = {
        .to_addr = r->cand[mi].address,
        .to_name = r->cand[mi].name,
        .template_name = "proposal",
        .vars = v,
        .nvars = sizeof(v) / sizeof(v[0]),
        .kind = "scheduled",
        .ref = ref,
    };
    if (welcome < 0)
        snprintf(err, sizeof(err), "withdrawing the welcome: %s", store_errmsg(r->st));
    else if (lines == NULL && reasons != NULL && reasons[0] != '\0')
        snprintf(err, sizeof(err), "out of memory");
    else if (outbox_queue(r->cfg, r->st, &om, at, err, sizeof(err)) == 0)
        rc = 0;
    if (rc != 0)
        log_ctx(LOG_LEVEL_ERROR, NULL, r->cand[mi].address, "cannot queue the proposal: %s", err);
    free(first);
    free(profile);
    free(lines);
    free(echo);
    return rc;
}

static int
pairing_make(struct pairing_round *r, const struct match_pair *mp)
{
    ptrdiff_t ni = pairing_index(r, mp->newcomer), mi = pairing_index(r, mp->mentor);
    const struct config *cfg = r->cfg;
    char ref[32], *reasons = pairing_reasons_text(mp);
    int64_t id = 0;
    int accepts = cfg->matching.mentor_accepts, rc = -1;
    time_t length = pairing_length(cfg), ends = length > 0 ? r->now + length : 0;
    int timeout = cfg->matching.proposal_timeout > 0 ? cfg->matching.proposal_timeout
                                                     : PAIRING_DEFAULT_TIMEOUT;

    if (ni < 0 || mi < 0 || reasons == NULL)
        goto out;
    if (store_pair_add(r->st, mp->newcomer, mp->mentor, accepts ? "proposed" : "active", mp->score,
                       reasons, r->now, accepts ? 0 : ends, &id, ref, sizeof(ref)) != 0)
        goto store_error;
    if (store_event_add(r->st, r->now, accepts ? "proposed" : "matched", r->cand[mi].address, NULL,
                        ref) != 0)
        goto store_error;
    if (accepts) {
        /* Found at night, a proposal waits for the mentor's morning; the timeout with it. */
        time_t at = quiet_morning(cfg, r->people[mi].tz_offset_min, r->now);
        if (store_pair_schedule(r->st, id, mp->mentor, "proposal-timeout", at + timeout, NULL,
                                r->now) != 0)
            goto store_error;
        rc = pairing_send_proposal(r, (size_t)ni, (size_t)mi, reasons, ref, at);
        goto out;
    }
    /* Final at once: the newcomer no longer waits, lifecycle introduces them. */
    if (store_pair_set_waiting(r->st, mp->newcomer, 0) != 0)
        goto store_error;
    rc = lifecycle_pair_started(cfg, r->st, id, r->now);
    goto out;
store_error:
    log_error("matching round: %s", store_errmsg(r->st));
out:
    free(reasons);
    return rc;
}

/*
 * The expected wait in weeks ("3"; the template words it in the reader's
 * language) from the recent rate of new pairs; "" when there is no rate to go by.
 */
static int
pairing_expected_wait(struct pairing_round *r, size_t position, char *buf, size_t len)
{
    int recent = store_pair_started_since(r->st, r->now - PAIRING_RATE_WINDOW);

    if (recent < 0)
        return -1;
    buf[0] = '\0';
    if (recent == 0)
        return 0;
    /* recent pairs per window of 4 weeks: position / (recent / 4) weeks, rounded up. */
    size_t weeks = (position * 4 + (size_t)recent - 1) / (size_t)recent;
    snprintf(buf, len, "%zu", weeks > 0 ? weeks : 1);
    return 0;
}

static int
pairing_waitlist_note(struct pairing_round *r, int64_t newcomer, size_t position)
{
    ptrdiff_t i = pairing_index(r, newcomer);
    char pos[24], wait[64], err[512];
    time_t last = 0;

    if (i < 0)
        return -1;
    const struct store_candidate *c = &r->cand[i];
    if (store_pair_last_event(r->st, "waitlist", c->address, &last) < 0)
        return -1;
    if (last > 0 && r->now - last < PAIRING_WAITLIST_EVERY)
        return 0; /* told recently: no need to repeat it every round */
    /*
     * The welcome already says a mentor is being looked for: the first note
     * about the list comes only once the wait has lasted a while.
     */
    if (last == 0 && c->waiting_since > 0 && r->now - c->waiting_since < PAIRING_WAITLIST_EVERY)
        return 0;
    /* Not at night in their zone: a later round (hourly) tells them in the morning. */
    if (quiet_morning(r->cfg, r->people[i].tz_offset_min, r->now) != r->now)
        return 0;
    if (pairing_expected_wait(r, position, wait, sizeof(wait)) != 0)
        return -1;
    snprintf(pos, sizeof(pos), "%zu", position);
    struct template_var v[] = {{"position", pos}, {"wait", wait[0] ? wait : NULL}};
    struct outbox_mail om = {
        .to_addr = c->address,
        .to_name = c->name,
        .template_name = "waitlist",
        .vars = v,
        .nvars = 2,
        .kind = "scheduled",
    };
    if (outbox_queue(r->cfg, r->st, &om, r->now, err, sizeof(err)) != 0) {
        log_ctx(LOG_LEVEL_ERROR, NULL, c->address, "cannot queue the waiting-list note: %s", err);
        return -1;
    }
    return store_event_add(r->st, r->now, "waitlist", c->address, NULL, pos);
}

/* ---- circles ---- */

/*
 * The reasons of a circle's pairs.  The first line names the topic in a
 * fixed form ("you all listed <topic>") that lifecycle.c reads back for the
 * circle introduction.
 */
static char *
pairing_circle_reasons(const char *topic, int peer)
{
    char *text = NULL;

    if (asprintf(&text, "you all listed %s%s", topic,
                 peer ? "\na peer circle: you have all waited a while, and learn together" : "") <
        0)
        return NULL;
    return text;
}

/* "  - Ana" and her profile lines indented, for each newcomer of the circle (no address). */
static char *
pairing_cohort_lines(struct pairing_round *r, const struct match_circle *mc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    for (size_t k = 0; k < mc->n_newcomers; k++) {
        ptrdiff_t ni = pairing_index(r, mc->newcomers[k]);
        if (ni < 0)
            continue;
        struct profile none, *p = pairing_profile(r, ni);
        if (p == NULL) { /* out of memory: the newcomer is listed without the profile */
            memset(&none, 0, sizeof(none));
            p = &none;
        }
        char *first = pairing_first_name(r->cand[ni].name ? r->cand[ni].name : p->name);
        char *saved = p->name, *desc;
        /* As in a one-to-one proposal: the first name is enough, the full name stays out. */
        p->name = NULL;
        desc = p->n_fields > 0 ? profile_describe(p) : NULL;
        p->name = saved;
        fprintf(f, "%s  - %s", k ? "\n" : "", first ? first : "a newcomer");
        for (const char *s = desc ? desc : ""; *s;) {
            size_t n = strcspn(s, "\n");
            if (n > 0)
                fprintf(f, "\n      %.*s", (int)n, s);
            s += n + (s[n] == '\n');
        }
        free(first);
        free(desc);
    }
    if (fclose(f) != 0)
        return NULL;
    return buf;
}

static int
pairing_send_circle_proposal(struct pairing_round *r, const struct match_circle *mc, size_t mi,
                             int peer, const char *ref, time_t at)
{
    char *cohort = pairing_cohort_lines(r, mc);
    char days[16], count[16], err[512];
    int rc = -1;

    pairing_days(r->cfg->matching.proposal_timeout > 0 ? r->cfg->matching.proposal_timeout
                                                       : PAIRING_DEFAULT_TIMEOUT,
                 days, sizeof(days));
    snprintf(count, sizeof(count), "%zu", mc->n_newcomers);
    struct template_var v[] = {{"topic", mc->topic},          {"count", count}, {"cohort", cohort},
                               {"peer", peer ? "yes" : NULL}, {"ref", ref},     {"days", days}};
    struct outbox_mail om = {
        .to_addr = r->cand[mi].address,
        .to_name = r->cand[mi].name,
        .template_name = "circle-proposal",
        .vars = v,
        .nvars = sizeof(v) / sizeof(v[0]),
        .kind = "scheduled",
        .ref = ref,
    };
    if (cohort == NULL)
        snprintf(err, sizeof(err), "out of memory");
    else if (outbox_queue(r->cfg, r->st, &om, at, err, sizeof(err)) == 0)
        rc = 0;
    if (rc != 0)
        log_ctx(LOG_LEVEL_ERROR, NULL, r->cand[mi].address, "cannot queue the circle proposal: %s",
                err);
    free(cohort);
    return rc;
}

/*
 * The pairs of one circle, all carrying the first pair's id as circle id.
 * Every pair is created before any is started, so lifecycle.c sees the whole
 * circle when it introduces it.
 */
static int
pairing_circle_pairs(struct pairing_round *r, const struct match_circle *mc, size_t mi,
                     const char *reasons, int64_t *ids, char *first_ref, size_t ref_len)
{
    int accepts = r->cfg->matching.mentor_accepts;
    time_t length = pairing_length(r->cfg), ends = length > 0 ? r->now + length : 0;

    for (size_t k = 0; k < mc->n_newcomers; k++) {
        ptrdiff_t ni = pairing_index(r, mc->newcomers[k]);
        char ref[32];
        if (ni < 0)
            return -1;
        int64_t score = match_score(&r->people[ni], &r->people[mi], &r->in);
        if (store_pair_add(r->st, mc->newcomers[k], mc->mentor, accepts ? "proposed" : "active",
                           score == MATCH_FORBIDDEN ? 0 : score, reasons, r->now,
                           accepts ? 0 : ends, &ids[k], ref, sizeof(ref)) != 0 ||
            store_pair_set_circle(r->st, ids[k], ids[0]) != 0)
            return -1;
        if (k == 0)
            snprintf(first_ref, ref_len, "%s", ref);
    }
    return 0;
}

static int
pairing_make_circle(struct pairing_round *r, const struct match_circle *mc, int peer)
{
    ptrdiff_t mi = pairing_index(r, mc->mentor);
    int accepts = r->cfg->matching.mentor_accepts, rc = -1;
    int timeout = r->cfg->matching.proposal_timeout > 0 ? r->cfg->matching.proposal_timeout
                                                        : PAIRING_DEFAULT_TIMEOUT;
    char *reasons = pairing_circle_reasons(mc->topic, peer);
    int64_t *ids = calloc(mc->n_newcomers ? mc->n_newcomers : 1, sizeof(*ids));
    char ref[32];

    if (mi < 0 || reasons == NULL || ids == NULL)
        goto out;
    if (pairing_circle_pairs(r, mc, (size_t)mi, reasons, ids, ref, sizeof(ref)) != 0 ||
        store_event_add(r->st, r->now, accepts ? "proposed" : "matched", r->cand[mi].address, NULL,
                        ref) != 0)
        goto store_error;
    if (accepts) {
        /* One proposal and one timeout for the whole circle, on its first pair. */
        time_t at = quiet_morning(r->cfg, r->people[mi].tz_offset_min, r->now);
        if (store_pair_schedule(r->st, ids[0], mc->mentor, "proposal-timeout", at + timeout, NULL,
                                r->now) != 0)
            goto store_error;
        rc = pairing_send_circle_proposal(r, mc, (size_t)mi, peer, ref, at);
        goto out;
    }
    for (size_t k = 0; k < mc->n_newcomers; k++)
        if (store_pair_set_waiting(r->st, mc->newcomers[k], 0) != 0)
            goto store_error;
    rc = 0;
    for (size_t k = 0; k < mc->n_newcomers && rc == 0; k++)
        rc = lifecycle_pair_started(r->cfg, r->st, ids[k], r->now);
    goto out;
store_error:
    log_error("matching round: circle of mentor %lld on %s: %s", (long long)mc->mentor, mc->topic,
              store_errmsg(r->st));
out:
    free(reasons);
    free(ids);
    return rc;
}

static void
pairing_print_circles(const struct pairing_round *r, const struct match_circles *mc, int peer,
                      FILE *out)
{
    for (size_t i = 0; i < mc->n_circles; i++) {
        const struct match_circle *c = &mc->circles[i];
        ptrdiff_t mi = pairing_index(r, c->mentor);
        fprintf(out, "%scircle on %s with %s  %.3f:", peer ? "peer " : "", c->topic,
                mi >= 0 ? r->cand[mi].address : "?", (double)c->score / 1000.0);
        for (size_t k = 0; k < c->n_newcomers; k++) {
            ptrdiff_t ni = pairing_index(r, c->newcomers[k]);
            fprintf(out, " %s", ni >= 0 ? r->cand[ni].address : "?");
        }
        fputc('\n', out);
    }
}

/* Mode circles: the whole round is circles around mentors.  The number of newcomers placed. */
static int
pairing_circles_round(struct pairing_round *r, int dry_run, FILE *out)
{
    struct match_circles mc;
    char err[512];
    int placed = 0, rc = -1;

    if (pairing_addresses(r) != 0)
        return -1;
    if (match_circles(&r->in, r->cfg->matching.circle_size, &mc, err, sizeof(err)) != 0) {
        log_error("matching round (circles): %s", err);
        return -1;
    }
    for (size_t i = 0; i < mc.n_circles; i++)
        placed += (int)mc.circles[i].n_newcomers;
    if (dry_run) {
        if (out) {
            pairing_print_circles(r, &mc, 0, out);
            for (size_t i = 0; i < mc.n_waitlist; i++) {
                ptrdiff_t ni = pairing_index(r, mc.waitlist[i]);
                if (ni >= 0)
                    fprintf(out, "waiting: %s (position %zu)\n", r->cand[ni].address, i + 1);
            }
            fprintf(out, "circles: %zu  newcomers: %d\n", mc.n_circles, placed);
        }
        rc = placed;
        goto out;
    }
    for (size_t i = 0; i < mc.n_circles; i++)
        if (pairing_make_circle(r, &mc.circles[i], 0) != 0)
            goto out;
    for (size_t i = 0; i < mc.n_waitlist; i++)
        if (pairing_waitlist_note(r, mc.waitlist[i], i + 1) != 0)
            goto out;
    if (mc.n_circles > 0 || mc.n_waitlist > 0)
        log_info("matching round: %zu circle(s) of %d newcomer(s), %zu waiting", mc.n_circles,
                 placed, mc.n_waitlist);
    rc = placed;
out:
    match_circles_free(&mc);
    return rc;
}

/*
 * Peer circles (any mode but circles): before the one-to-one round,
 * newcomers who have waited at least peer_circle_weeks and share a topic are
 * grouped into circles of 2..circle_size around a mentor who has that topic
 * and a free slot, which the whole circle takes as one mentee.  When slots
 * are scarce, one slot so serves several long-waiting newcomers instead of
 * one.  When no mentor with the topic has a free slot, they keep waiting (a
 * circle without a mentor would have no pairs, and nobody to turn to).
 * People placed in a peer circle are taken out of the one-to-one round.
 */
static int
pairing_peer_circles(struct pairing_round *r, int dry_run, FILE *out)
{
    int weeks = r->cfg->matching.peer_circle_weeks;
    struct match_person *people;
    struct match_circles mc;
    char err[512];
    int placed = 0, rc = -1;

    if (weeks <= 0 || r->n_cand == 0)
        return 0;
    if (pairing_addresses(r) != 0)
        return -1;
    people = malloc(r->n_cand * sizeof(*people));
    if (people == NULL)
        return -1;
    memcpy(people, r->people, r->n_cand * sizeof(*people));
    for (size_t i = 0; i < r->n_cand; i++) {
        int newcomer = people[i].role == MATCH_NEWCOMER;
        int waited = people[i].waiting_since > 0 &&
                     r->now - (time_t)people[i].waiting_since >= (time_t)weeks * WEEK;
        /* Buddies guide one newcomer each; a circle needs a mentor. */
        if ((newcomer && !waited) || strcmp(r->cand[i].role, "buddy") == 0)
            people[i].flags |= MATCH_EXCLUDED;
    }
    struct match_input in = r->in;
    in.people = people;
    if (match_circles(&in, r->cfg->matching.circle_size, &mc, err, sizeof(err)) != 0) {
        log_error("matching round (peer circles): %s", err);
        free(people);
        return -1;
    }
    if (dry_run && out)
        pairing_print_circles(r, &mc, 1, out);
    for (size_t i = 0; i < mc.n_circles; i++) {
        const struct match_circle *c = &mc.circles[i];
        if (!dry_run && pairing_make_circle(r, c, 1) != 0)
            goto out;
        ptrdiff_t mi = pairing_index(r, c->mentor);
        if (mi >= 0)
            r->people[mi].active_mentees++; /* the circle holds one slot */
        for (size_t k = 0; k < c->n_newcomers; k++) {
            ptrdiff_t ni = pairing_index(r, c->newcomers[k]);
            if (ni >= 0)
                r->people[ni].flags |= MATCH_EXCLUDED;
        }
        placed += (int)c->n_newcomers;
    }
    if (mc.n_circles > 0)
        log_info("matching round: %zu peer circle(s) of %d long-waiting newcomer(s)", mc.n_circles,
                 placed);
    rc = placed;
out:
    match_circles_free(&mc);
    free(people);
    return rc;
}

/* CPU seconds of this process, for the steps line below. */
static double
pairing_cpu(void)
{
    return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

/* Peak resident memory so far, kB (VmHWM), or -1. */
static long
pairing_peak_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmHWM: %ld", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb;
}

/*
 * A dry run with MENTORD_MATCH_STEPS set tells on stderr where the round's
 * CPU time and memory went (bench/round.py prints it as the breakdown).
 */
struct pairing_steps {
    int on;
    double t0, t_load, t_solve;
    long kb_load, kb_solve;
};

static void
pairing_steps_print(const struct pairing_steps *s, const struct match_result *res)
{
    double t_end = pairing_cpu();
    fprintf(stderr,
            "steps: load %.3f s (peak %ld kB), candidates %.3f s, solve %.3f s, pricing %.3f s, "
            "rest of match %.3f s (peak %ld kB), print %.3f s (peak %ld kB)\n",
            s->t_load - s->t0, s->kb_load, res->seconds_candidates, res->seconds_solve,
            res->seconds_pricing,
            s->t_solve - s->t_load - res->seconds_candidates - res->seconds_solve -
                res->seconds_pricing,
            s->kb_solve, t_end - s->t_solve, pairing_peak_kb());
}

/* What the result is optimal over: the admin sees it was not a heuristic. */
void
pairing_print_certificate(const struct match_result *res, FILE *out)
{
    if (res->certified)
        fprintf(out,
                "optimal over all %zu x %zu eligible pairs (newcomers x mentors with free places; "
                "%zu pairs solved, %d pricing round%s)\n",
                res->n_newcomers, res->n_mentors, res->n_candidates, res->pricing_rounds,
                res->pricing_rounds == 1 ? "" : "s");
    else
        fprintf(out, "not certified optimal: %s\n",
                res->used_greedy
                    ? "the solver failed and the greedy assignment was used (see the log)"
                    : "greedy assignment");
}

static void
pairing_print(const struct pairing_round *r, FILE *out)
{
    for (size_t i = 0; i < r->res.n_pairs; i++) {
        const struct match_pair *mp = &r->res.pairs[i];
        ptrdiff_t ni = pairing_index(r, mp->newcomer), mi = pairing_index(r, mp->mentor);
        if (ni < 0 || mi < 0)
            continue;
        fprintf(out, "%s \xe2\x86\x92 %s  %.3f  ", r->cand[ni].address, r->cand[mi].address,
                (double)mp->score / 1000.0);
        for (int j = 0; j < mp->n_reasons; j++)
            fprintf(out, "%s%s", j ? "; " : "", mp->reasons[j]);
        fputc('\n', out);
    }
    for (size_t i = 0; i < r->res.n_waitlist; i++) {
        ptrdiff_t ni = pairing_index(r, r->res.waitlist[i]);
        if (ni >= 0)
            fprintf(out, "waiting: %s (position %zu)\n", r->cand[ni].address, i + 1);
    }
    fprintf(out, "pairs: %zu  total: %.3f  load cost: %.3f\n", r->res.n_pairs,
            (double)r->res.total_score / 1000.0, (double)r->res.load_cost / 1000.0);
    pairing_print_certificate(&r->res, out);
}

int
pairing_match_round(const struct config *cfg, struct store *st, time_t now, int dry_run, FILE *out)
{
    struct pairing_round r;
    char err[512];
    int rc = -1;

    struct pairing_steps steps = {.on = dry_run && getenv("MENTORD_MATCH_STEPS") != NULL};
    if (steps.on)
        steps.t0 = pairing_cpu();
    memset(&r, 0, sizeof(r));
    r.cfg = cfg;
    r.st = st;
    r.now = now;
    /*
     * Rotation: a newcomer whose pairing ran its course waits again for
     * someone new (the blocks keep out everyone they were paired with).  A
     * dry run writes nothing, so it does not see them yet.
     */
    if (!dry_run && pairing_mode(cfg, "rotation")) {
        int back = store_pair_requeue_completed(st, now);
        if (back < 0) {
            log_error("matching round: %s", store_errmsg(st));
            goto out;
        }
        if (back > 0)
            log_info("matching round: %d newcomer(s) back on the list for their next pairing",
                     back);
    }
    if (pairing_load(&r) != 0)
        goto out;
    if (steps.on) {
        steps.t_load = pairing_cpu();
        steps.kb_load = pairing_peak_kb();
    }
    if (pairing_mode(cfg, "circles")) {
        rc = pairing_circles_round(&r, dry_run, out);
        goto out;
    }
    int in_circles = pairing_peer_circles(&r, dry_run, out);
    if (in_circles < 0)
        goto out;
    /*
     * A dry run with MENTORD_MATCH_DIMACS set writes the round's final graph
     * there, so a benchmark can hand the very same graph to another solver
     * (bench/round.py: LEMON).
     */
    const char *dimacs = dry_run ? getenv("MENTORD_MATCH_DIMACS") : NULL;
    if (dimacs != NULL && dimacs[0] && (r.in.dimacs = fopen(dimacs, "w")) == NULL)
        log_warn("matching round: cannot write the graph to %s: %s", dimacs, strerror(errno));
    int solved = match_solve(&r.in, &r.res, err, sizeof(err));
    if (r.in.dimacs != NULL && fclose(r.in.dimacs) != 0)
        log_warn("matching round: the graph in %s is incomplete", dimacs);
    r.in.dimacs = NULL;
    if (solved != 0) {
        log_error("matching round: %s", err);
        goto out;
    }
    r.solved = 1;
    if (pairing_addresses(&r) != 0)
        goto out;
    if (steps.on) {
        steps.t_solve = pairing_cpu();
        steps.kb_solve = pairing_peak_kb();
    }
    if (dry_run) {
        /* The admin's terminal: nothing is written, no mail is queued. */
        if (out)
            pairing_print(&r, out);
        if (steps.on)
            pairing_steps_print(&steps, &r.res);
        rc = (int)r.res.n_pairs + in_circles;
        goto out;
    }
    for (size_t i = 0; i < r.res.n_pairs; i++)
        if (pairing_make(&r, &r.res.pairs[i]) != 0)
            goto out;
    for (size_t i = 0; i < r.res.n_waitlist; i++)
        if (pairing_waitlist_note(&r, r.res.waitlist[i], i + 1) != 0)
            goto out;
    if (r.res.n_pairs > 0 || r.res.n_waitlist > 0)
        log_info("matching round: %zu pair(s), %zu waiting", r.res.n_pairs, r.res.n_waitlist);
    rc = (int)r.res.n_pairs + in_circles;
out:
    pairing_round_free(&r);
    return rc;
}

/* ---- mail about a pair ---- */

/* The person on the other side of the pair from member (erased: 0). */
static int64_t
pairing_partner(const struct store_pair *p, int64_t member)
{
    return p->newcomer == member ? p->mentor : p->newcomer;
}

static int
pairing_is_member(const struct store_pair *p, int64_t member)
{
    return member != 0 && (p->newcomer == member || p->mentor == member);
}

/* The newest (or, with oldest, the oldest) pair of member in state where they are on side. */
static int
pairing_pick(struct respond_ctx *c, int64_t member, const char *state, int mentor_side,
             int newcomer_side, struct store_pair *out)
{
    struct store_pair *v = NULL;
    size_t n = 0, found = 0, pick = 0;

    if (store_pair_list(c->st, member, state, &v, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((mentor_side && v[i].mentor == member) || (newcomer_side && v[i].newcomer == member)) {
            /* The list is newest first; the last hit is the oldest, the one expiring first. */
            pick = i;
            found++;
        }
    }
    if (found > 0) {
        *out = v[pick];
        memset(&v[pick], 0, sizeof(v[pick]));
    }
    store_pairs_free(v, n);
    return found == 0 ? 0 : found == 1 ? 1 : 2;
}

/*
 * The pair this mail is about: the one its ref names (only when the sender
 * belongs to it), else for a command the sender's open pair.  1 found, 0
 * none, 2 several (DONE from a mentor with many mentees), -1 error.
 */
static int
pairing_find(struct respond_ctx *c, const struct command *cmd, int64_t me, struct store_pair *out)
{
    if (c->ref[0]) {
        int found = store_pair_by_ref(c->st, c->ref, out);
        if (found < 0)
            return -1;
        if (found && pairing_is_member(out, me))
            return 1;
        if (found) {
            store_pair_free(out);
            return 0; /* somebody else's pair: not for this sender to act on */
        }
    }
    switch (cmd->kind) {
    case COMMAND_ACCEPT:
    case COMMAND_DECLINE: {
        int rc = pairing_pick(c, me, "proposed", 1, 0, out);
        return rc == 2 ? 1 : rc; /* several proposals: the oldest is answered first */
    }
    case COMMAND_DONE:
        return pairing_pick(c, me, "active", 1, 1, out);
    case COMMAND_REMATCH:
        return pairing_pick(c, me, "active", 1, 1, out);
    default:
        /* A check-in answered as a new mail: it belongs to the sender's one open pair. */
        if (c->reading != NULL && c->reading->intent == INTENT_RATING &&
            c->proof != GATE_CLAIMED) /* a rating for someone else's pair takes proof */
            return pairing_pick(c, me, "active", 1, 1, out);
        return 0;
    }
}

/* Names for templates: the partner's first name, or NULL. */
static char *
pairing_member_first_name(struct respond_ctx *c, int64_t id)
{
    struct store_member m;
    char *first = NULL;

    if (id == 0 || store_pair_member(c->st, id, &m) != 1)
        return NULL;
    first = pairing_first_name(m.name);
    store_member_free(&m);
    return first;
}

/* Mail to the other member of a pair (not an answer to their mail). */
static int
pairing_tell(struct respond_ctx *c, int64_t member, const char *template_name,
             const struct template_var *vars, size_t nvars, const char *ref)
{
    struct store_member m;
    char err[512];
    int found = member ? store_pair_member(c->st, member, &m) : 0;

    if (found <= 0)
        return found; /* erased: nobody to tell */
    struct outbox_mail om = {
        .to_addr = m.address,
        .to_name = m.name,
        .template_name = template_name,
        .vars = vars,
        .nvars = nvars,
        .kind = "notice",
        .ref = ref,
    };
    /* Not a reply to them: it waits for the morning in their zone. */
    time_t at = quiet_morning_in(c->cfg, m.profile, c->now);
    int rc = outbox_queue(c->cfg, c->st, &om, at, err, sizeof(err));
    if (rc != 0)
        snprintf(c->detail, c->detail_len, "cannot tell %s: %s", m.address, err);
    store_member_free(&m);
    return rc;
}

static int
pairing_closed(struct respond_ctx *c, const struct store_pair *p, const char *what)
{
    struct template_var v[] = {{"what", what}, {"state", p->state}};

    snprintf(c->detail, c->detail_len, "%s: proposal %s is %s", what, p->ref, p->state);
    return respond_reply(c, "proposal-closed", v, 2, "reply", NULL);
}

/*
 * ACCEPT or DECLINE of a circle's proposal answers for the whole circle: every
 * pair of it still proposed moves to `to`.  The moved pairs are left in
 * *moved (caller frees); *n_moved 0 means the proposal was already closed.
 */
static int
pairing_circle_move(struct respond_ctx *c, const struct store_pair *p, const char *to, time_t ends,
                    const char *why, struct store_pair **moved, size_t *n_moved)
{
    struct store_pair *v = NULL;
    size_t n = 0, kept = 0;

    *moved = NULL;
    *n_moved = 0;
    if (store_pair_circle(c->st, p->circle, &v, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int ok = strcmp(v[i].state, "proposed") == 0
                     ? store_pair_set_state(c->st, v[i].id, "proposed", to, c->now, ends,
                                            strcmp(to, "active") == 0 ? NULL : why)
                     : 0;
        if (ok < 0 || (ok == 1 && store_pair_unschedule(c->st, v[i].id, c->now, why) < 0)) {
            store_pairs_free(v, n);
            return -1;
        }
        if (ok == 1) {
            struct store_pair tmp = v[kept];
            v[kept++] = v[i];
            v[i] = tmp;
        }
    }
    for (size_t i = kept; i < n; i++)
        store_pair_free(&v[i]);
    *moved = v;
    *n_moved = kept;
    return 0;
}

static int
pairing_accept_circle(struct respond_ctx *c, const struct store_pair *p,
                      const struct store_member *me)
{
    time_t length = pairing_length(c->cfg), ends = length > 0 ? c->now + length : 0;
    struct store_pair *v = NULL;
    size_t n = 0;
    int rc = -1;

    if (pairing_circle_move(c, p, "active", ends, "accepted", &v, &n) != 0)
        return -1;
    if (n == 0) {
        free(v);
        return pairing_closed(c, p, "ACCEPT");
    }
    for (size_t i = 0; i < n; i++)
        if (v[i].newcomer && store_pair_set_waiting(c->st, v[i].newcomer, 0) != 0)
            goto out;
    if (store_pair_unanswered(c->st, me->id, -me->unanswered) != 0)
        goto out;
    snprintf(c->detail, c->detail_len, "accepted circle %s (%zu newcomers)", p->ref, n);
    struct template_var var[] = {{"ref", p->ref}, {"circle", "yes"}};
    if (respond_event(c, "accepted", p->ref) != 0 ||
        respond_reply(c, "proposal-accepted", var, 2, "reply", p->ref) != 0)
        goto out;
    /* All pairs are active before the first starts: the introduction names the whole circle. */
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = lifecycle_pair_started(c->cfg, c->st, v[i].id, c->now);
out:
    store_pairs_free(v, n);
    return rc;
}

/* Everyone in a declined circle keeps their place on the waiting list (never cleared). */
static int
pairing_decline_circle(struct respond_ctx *c, const struct store_pair *p,
                       const struct store_member *me)
{
    struct store_pair *v = NULL;
    size_t n = 0;
    int rc = -1;

    if (pairing_circle_move(c, p, "declined", 0, "declined", &v, &n) != 0)
        return -1;
    if (n == 0) {
        free(v);
        return pairing_closed(c, p, "DECLINE");
    }
    for (size_t i = 0; i < n; i++)
        if (v[i].newcomer &&
            store_block_add(c->st, v[i].newcomer, v[i].mentor, "declined", c->now) != 0)
            goto out;
    if (store_pair_unanswered(c->st, me->id, -me->unanswered) != 0)
        goto out;
    snprintf(c->detail, c->detail_len, "declined circle %s (%zu newcomers)", p->ref, n);
    if (respond_event(c, "declined", p->ref) != 0)
        goto out;
    rc = respond_reply(c, "proposal-declined", NULL, 0, "reply", NULL);
out:
    store_pairs_free(v, n);
    return rc;
}

static int
pairing_accept(struct respond_ctx *c, const struct store_pair *p, const struct store_member *me)
{
    if (p->circle != 0)
        return pairing_accept_circle(c, p, me);
    time_t length = pairing_length(c->cfg), ends = length > 0 ? c->now + length : 0;
    int moved = store_pair_set_state(c->st, p->id, "proposed", "active", c->now, ends, NULL);

    if (moved < 0)
        return -1;
    if (moved == 0)
        return pairing_closed(c, p, "ACCEPT");
    /* The timeout is cancelled before lifecycle schedules the pair's own events. */
    if (store_pair_unschedule(c->st, p->id, c->now, "accepted") < 0 ||
        store_pair_unanswered(c->st, me->id, -me->unanswered) != 0 ||
        (p->newcomer && store_pair_set_waiting(c->st, p->newcomer, 0) != 0))
        return -1;
    snprintf(c->detail, c->detail_len, "accepted proposal %s", p->ref);
    if (respond_event(c, "accepted", p->ref) != 0)
        return -1;
    /*
     * No "thank you for accepting" of its own: the introduction, in the
     * proposal's thread, is the answer (one mail fewer on a mentor's first day).
     */
    return lifecycle_pair_started(c->cfg, c->st, p->id, c->now);
}

static int
pairing_decline(struct respond_ctx *c, const struct store_pair *p, const struct store_member *me)
{
    if (p->circle != 0)
        return pairing_decline_circle(c, p, me);
    int moved = store_pair_set_state(c->st, p->id, "proposed", "declined", c->now, 0, "declined");

    if (moved < 0)
        return -1;
    if (moved == 0)
        return pairing_closed(c, p, "DECLINE");
    /*
     * The newcomer's waiting_since was never cleared, so they keep their place
     * at the front; the pairs table keeps the two from being proposed again.
     */
    if (store_pair_unschedule(c->st, p->id, c->now, "declined") < 0 ||
        store_pair_unanswered(c->st, me->id, -me->unanswered) != 0 ||
        (p->newcomer && store_block_add(c->st, p->newcomer, p->mentor, "declined", c->now) != 0))
        return -1;
    snprintf(c->detail, c->detail_len, "declined proposal %s", p->ref);
    if (respond_event(c, "declined", p->ref) != 0)
        return -1;
    return respond_reply(c, "proposal-declined", NULL, 0, "reply", NULL);
}

static int
pairing_done(struct respond_ctx *c, const struct store_pair *p, const struct store_member *me)
{
    int64_t partner = pairing_partner(p, me->id);
    char *partner_name = pairing_member_first_name(c, partner);
    char *my_name = pairing_first_name(me->name);
    int moved = store_pair_set_state(c->st, p->id, "active", "ended", c->now, 0, "done");
    int rc = -1;

    if (moved < 0)
        goto out;
    if (moved == 0) {
        rc = pairing_closed(c, p, "DONE");
        goto out;
    }
    if (store_pair_unschedule(c->st, p->id, c->now, "done") < 0)
        goto out;
    snprintf(c->detail, c->detail_len, "ended pair %s (done)", p->ref);
    if (respond_event(c, "done", p->ref) != 0)
        goto out;
    /* Both are asked for final feedback; answers come back by the pair's ref. */
    struct template_var mine[] = {{"partner", partner_name}, {"asked", "yes"}, {"ref", p->ref}};
    struct template_var theirs[] = {{"partner", my_name}, {"asked", NULL}, {"ref", p->ref}};
    if (respond_reply(c, "pair-done", mine, 3, "reply", p->ref) != 0 ||
        pairing_tell(c, partner, "pair-done", theirs, 3, p->ref) != 0)
        goto out;
    rc = 0;
out:
    free(partner_name);
    free(my_name);
    return rc;
}

/* The newcomer waits again from when they were first paired: a rematch keeps their place. */
static int
pairing_wait_again(struct respond_ctx *c, int64_t newcomer)
{
    struct store_pair *v = NULL;
    size_t n = 0;
    time_t since = c->now;

    if (newcomer == 0)
        return 0;
    if (store_pair_list(c->st, newcomer, NULL, &v, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (v[i].newcomer == newcomer && v[i].created < since)
            since = v[i].created;
    store_pairs_free(v, n);
    return store_pair_set_waiting(c->st, newcomer, since);
}

static int
pairing_rematch(struct respond_ctx *c, const struct store_pair *p, const struct store_member *me)
{
    int by_newcomer = me->id == p->newcomer;
    int64_t partner = pairing_partner(p, me->id);
    int moved = store_pair_set_state(c->st, p->id, "active", "ended", c->now, 0, "rematch");

    if (moved < 0)
        return -1;
    if (moved == 0)
        return pairing_closed(c, p, "REMATCH");
    if (store_pair_unschedule(c->st, p->id, c->now, "rematch") < 0 ||
        (p->newcomer && p->mentor &&
         store_block_add(c->st, p->newcomer, p->mentor, "rematch", c->now) != 0) ||
        pairing_wait_again(c, p->newcomer) != 0)
        return -1;
    snprintf(c->detail, c->detail_len, "ended pair %s (rematch asked by the %s)", p->ref,
             by_newcomer ? "newcomer" : "mentor");
    if (respond_event(c, "rematch", p->ref) != 0)
        return -1;
    struct template_var mine[] = {{"newcomer", by_newcomer ? "yes" : NULL}};
    struct template_var theirs[] = {{"newcomer", by_newcomer ? NULL : "yes"}};
    if (respond_reply(c, "rematch", mine, 1, "reply", NULL) != 0)
        return -1;
    return pairing_tell(c, partner, "rematch-partner", theirs, 1, NULL);
}

/* A reply to a proposal that neither accepts nor declines: ask once more, kindly. */
static int
pairing_ask_again(struct respond_ctx *c, const struct store_pair *p)
{
    char *newcomer = pairing_member_first_name(c, p->newcomer);
    struct template_var v[] = {{"ref", p->ref}, {"newcomer", newcomer}};

    snprintf(c->detail, c->detail_len, "reply to proposal %s without an answer", p->ref);
    int rc = respond_reply(c, "proposal-again", v, 2, "reply", p->ref);
    free(newcomer);
    return rc;
}

static int
pairing_act(struct respond_ctx *c, const struct command *cmd, const struct store_pair *p,
            const struct store_member *me)
{
    int proposed = strcmp(p->state, "proposed") == 0;
    int is_mentor = p->mentor == me->id;

    switch (cmd->kind) {
    case COMMAND_ACCEPT:
    case COMMAND_DECLINE:
        /* "Yes, we met" / "No" in a check-in reply is an answer, not a proposal's. */
        if (!proposed && strcmp(p->state, "expired") != 0 && strcmp(p->state, "declined") != 0)
            return lifecycle_checkin_reply(c, p->id);
        if (!is_mentor)
            return 1;
        if (!proposed)
            return pairing_closed(c, p, command_name(cmd->kind));
        return cmd->kind == COMMAND_ACCEPT ? pairing_accept(c, p, me) : pairing_decline(c, p, me);
    case COMMAND_DONE:
        return pairing_done(c, p, me);
    case COMMAND_REMATCH:
        return pairing_rematch(c, p, me);
    default:
        break;
    }
    if (proposed)
        return is_mentor ? pairing_ask_again(c, p) : 1;
    if (strcmp(p->state, "active") == 0 || strcmp(p->state, "ended") == 0)
        return lifecycle_checkin_reply(c, p->id);
    return 1;
}

static int
pairing_which(struct respond_ctx *c, const struct command *cmd)
{
    struct template_var v[] = {{"what", command_name(cmd->kind)}};

    snprintf(c->detail, c->detail_len, "%s: several pairings, none named", command_name(cmd->kind));
    return respond_reply(c, "pair-which", v, 1, "reply", NULL);
}

int
pairing_mail(struct respond_ctx *c, const struct command *cmd)
{
    struct store_member me;
    struct store_pair p;
    int found = store_member_get(c->st, c->m->from_addr, &me);
    int rc;

    if (found <= 0)
        return found < 0 ? -1 : 1; /* a stranger acts on no pair */
    if (strcmp(me.state, "active") != 0 && strcmp(me.state, "paused") != 0) {
        store_member_free(&me);
        return 1;
    }
    rc = pairing_find(c, cmd, me.id, &p);
    if (rc == 1) {
        rc = pairing_act(c, cmd, &p, &me);
        store_pair_free(&p);
    } else if (rc == 2) {
        store_pair_free(&p);
        rc = pairing_which(c, cmd);
    } else if (rc == 0) {
        rc = 1;
    }
    if (rc < 0 && c->detail[0] == '\0')
        snprintf(c->detail, c->detail_len, "pairing: %s", store_errmsg(c->st));
    store_member_free(&me);
    return rc;
}

/*
 * A circle's proposal expires as a whole: every pair still proposed expires
 * and each newcomer is kept from this mentor, so the next round looks again.
 * 1 when something expired, 0 when it was answered in time, -1 on error.
 */
static int
pairing_expire_circle(struct store *st, int64_t circle, int64_t mentor, time_t now)
{
    struct store_pair *v = NULL;
    size_t n = 0;
    int expired = 0;

    if (store_pair_circle(st, circle, &v, &n) != 0)
        return -1;
    for (size_t i = 0; i < n && expired >= 0; i++) {
        if (strcmp(v[i].state, "proposed") != 0)
            continue;
        int moved = store_pair_set_state(st, v[i].id, "proposed", "expired", now, 0, "no answer");
        if (moved < 0 || (moved == 1 && v[i].newcomer && mentor &&
                          store_block_add(st, v[i].newcomer, mentor, "no answer", now) != 0))
            expired = -1;
        else
            expired += moved;
    }
    store_pairs_free(v, n);
    return expired < 0 ? -1 : expired > 0;
}

int
pairing_proposal_timeout(const struct config *cfg, struct store *st, int64_t pair, time_t now)
{
    struct store_pair p;
    struct store_member mentor;
    int found = store_pair_get(st, pair, &p);
    int rc = -1;

    (void)cfg;
    if (found <= 0)
        return found; /* gone with an erased member: nothing to do */
    int moved = p.circle != 0 ? pairing_expire_circle(st, p.circle, p.mentor, now)
                : strcmp(p.state, "proposed") == 0
                    ? store_pair_set_state(st, pair, "proposed", "expired", now, 0, "no answer")
                    : 0;
    if (moved <= 0) {
        rc = moved; /* answered in time */
        goto out;
    }
    /* Silence counts toward the mentor's load (once, for a circle too). */
    if (p.mentor && store_pair_unanswered(st, p.mentor, 1) != 0)
        goto out;
    if (p.newcomer && p.mentor && store_block_add(st, p.newcomer, p.mentor, "no answer", now) != 0)
        goto out;
    found = p.mentor ? store_pair_member(st, p.mentor, &mentor) : 0;
    if (found < 0)
        goto out;
    rc = store_event_add(st, now, "proposal-expired", found ? mentor.address : NULL, NULL, p.ref);
    if (found)
        store_member_free(&mentor);
    log_ctx(LOG_LEVEL_INFO, NULL, NULL, "proposal %s expired without an answer", p.ref);
out:
    if (rc < 0)
        log_error("proposal timeout of pair %lld: %s", (long long)pair, store_errmsg(st));
    store_pair_free(&p);
    return rc < 0 ? -1 : 0;
}
