/*
 * lifecycle: the programme over weeks.  Introductions, check-ins and
 * feedback, batched burnout-aware reminders, the end of a pairing, pauses
 * that end by themselves, recognition, leaving.
 *
 * The scheduler (schedule.c) hands this file the due rows of the kinds it
 * runs (lifecycle_run_event); each handler below moves its row to the
 * member's morning when it is night there (quiet.h), or does its work in the
 * caller's transaction, where the row is marked done.  Replies to a pairing
 * (answers to check-ins, mail meant for the partner) are lifecycle_answers.c's.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alerts.h"
#include "lang.h"
#include "log.h"
#include "mentees.h"
#include "outbox.h"
#include "checkin.h"
#include "lifecycle.h"
#include "lifecycle_int.h"
#include "quiet.h"
#include "reason.h"
#include "respond.h"

#define HOUR 3600
#define DAY (24 * HOUR)
#define WEEK (7 * DAY)
#define YEAR (365 * DAY)
/* A reminder waits a day after the check-in that prompted it, to batch the others. */
#define REMINDER_DELAY DAY
/* The mentee is invited to mentor a week after the pairing ended. */
#define INVITE_DELAY WEEK
/* Burnout load levels (see lc_load): softened reminder from, held back from. */
#define LOAD_SOFT 1.5
#define LOAD_HOLD 2.5

/* Strip trailing newlines: templates put a value on its own line. */
static void
lc_chomp(char *s)
{
    size_t n = s ? strlen(s) : 0;

    while (n > 0 && s[n - 1] == '\n')
        s[--n] = '\0';
}

/* The derived fields of a member whose row is in out->m. */
static int
lc_member_fill(struct lifecycle_member *out, time_t now)
{
    struct profile p;
    int ok = 0;

    if (profile_parse(out->m.profile ? out->m.profile : "", &p) != 0) {
        store_member_free(&out->m);
        return -1;
    }
    out->offset = profile_utc_offset(&p, (long long)now, &ok);
    if (!ok)
        out->offset = 0; /* UTC when the zone is unknown */
    out->capacity = p.capacity > 0 ? p.capacity : 1;
    /* The name given in the profile, else the one given when joining: its first part. */
    lang_address_name(p.name && p.name[0] ? p.name : out->m.name, out->first, sizeof(out->first));
    out->describe = p.n_fields > 0 ? profile_describe(&p) : NULL;
    lc_chomp(out->describe);
    profile_free(&p);
    return 1;
}

int
lifecycle_i_member_get(struct store *st, int64_t id, time_t now, struct lifecycle_member *out)
{
    memset(out, 0, sizeof(*out));
    if (id == 0)
        return 0;
    int found = store_pair_member(st, id, &out->m);
    return found <= 0 ? found : lc_member_fill(out, now);
}

/* The sender of the mail being handled. */
int
lifecycle_i_member_get_by_address(struct respond_ctx *c, struct lifecycle_member *out)
{
    memset(out, 0, sizeof(*out));
    int found = store_member_get(c->st, c->m->from_addr, &out->m);
    return found <= 0 ? found : lc_member_fill(out, c->now);
}

void
lifecycle_i_member_free(struct lifecycle_member *mb)
{
    store_member_free(&mb->m);
    free(mb->describe);
    memset(mb, 0, sizeof(*mb));
}

/* A name as given, NULL when none (or only blanks) was. */
static const char *
lc_given(const char *name)
{
    return name && name[strspn(name, " \t")] ? name : NULL;
}

const char *
lifecycle_i_name_or(const struct lifecycle_member *mb, const char *fallback)
{
    return mb->first[0] ? mb->first : fallback;
}

/* "YYYY-MM-DD" in the reader's zone: the template writes it in their language ({{x|date}}). */
static void
lc_date(time_t t, int offset, char *buf, size_t len)
{
    struct tm tm;
    time_t local = t + (time_t)offset * 60;

    if (gmtime_r(&local, &tm) == NULL || strftime(buf, len, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, len, "soon");
}

/* ---- quiet hours ---- */

/*
 * Night in the member's zone at now?  Then *until is the next quiet_end hour
 * there, in UTC.  The zone's offset is taken at now: a DST change during the
 * night moves the morning by an hour at most, which is still morning.
 */
static int
lc_quiet_until(const struct config *cfg, const struct lifecycle_member *mb, time_t now,
               time_t *until)
{
    *until = quiet_morning(cfg, mb->offset, now);
    return *until != now;
}

/* ---- sending ---- */

/* The days until the first check-in, the first of [lifecycle] checkins ("3, 14, 30"). */
static const char *
lc_first_checkin(const struct config *cfg, char *buf, size_t len)
{
    long days = strtol(cfg->lifecycle.checkins ? cfg->lifecycle.checkins : "", NULL, 10);
    snprintf(buf, len, "%d", days > 0 && days < 1000 ? (int)days : 14);
    return buf;
}

/* Queue om; 0, or -1 (logged). */
static int
lc_queue(const struct config *cfg, struct store *st, const struct outbox_mail *om, time_t now)
{
    char err[512];

    if (outbox_queue(cfg, st, om, now, err, sizeof(err)) != 0) {
        log_ctx(LOG_LEVEL_ERROR, NULL, om->to_addr, "cannot queue %s: %s", om->template_name, err);
        return -1;
    }
    return 0;
}

/* lc_send in a given language (NULL: the reader's own). */
static int
lc_send_in(const struct config *cfg, struct store *st, const struct lifecycle_member *to,
           const char *tmpl, const struct template_var *vars, size_t nvars, const char *kind,
           const char *ref, time_t now, const char *lang)
{
    struct outbox_mail om = {
        .lang = lang,
        .to_addr = to->m.address,
        .to_name = to->m.name,
        .template_name = tmpl,
        .vars = vars,
        .nvars = nvars,
        .kind = kind,
        .ref = ref && ref[0] ? ref : NULL,
    };

    return lc_queue(cfg, st, &om, now);
}

int
lifecycle_i_send(const struct config *cfg, struct store *st, const struct lifecycle_member *to,
                 const char *tmpl, const struct template_var *vars, size_t nvars, const char *kind,
                 const char *ref, time_t now)
{
    return lc_send_in(cfg, st, to, tmpl, vars, nvars, kind, ref, now, NULL);
}

/*
 * The language of the one text both people of a pair receive: their own when
 * they share it, else the first language the newcomer reads that the mentor
 * reads too, else the community's.  *note is the language's own name when the
 * text is in a language both read that is not both people's first (the mail
 * then says so); NULL otherwise.  The
 * same for both, whichever of them it is computed for.
 */
static int
lc_shared_language(const struct config *cfg, struct store *st,
                   const struct lifecycle_member *mentee, const struct lifecycle_member *mentor,
                   char code[LANG_CODE_MAX], const char **note)
{
    char a[8][LANG_CODE_MAX], b[8][LANG_CODE_MAX];
    int na = outbox_languages_read(cfg, st, mentee->m.address, a, 8);
    int nb = outbox_languages_read(cfg, st, mentor->m.address, b, 8);

    if (na < 0 || nb < 0)
        return -1;
    *note = NULL;
    if (na > 0 && nb > 0 && strcmp(a[0], b[0]) == 0) {
        memcpy(code, a[0], LANG_CODE_MAX);
        return 0;
    }
    for (int i = 0; i < na; i++)
        for (int k = 0; k < nb; k++)
            if (strcmp(a[i], b[k]) == 0) {
                const struct lang *l = lang_get(cfg->templates.dir, a[i]);
                memcpy(code, a[i], LANG_CODE_MAX);
                *note = l ? lang_native_name(l) : code;
                return 0;
            }
    /* No language both are known to read: the community's, claiming nothing. */
    snprintf(code, LANG_CODE_MAX, "%s", cfg->templates.language ? cfg->templates.language : "en");
    return 0;
}

/* ---- the load signal ---- */

struct lc_load {
    double score;
    char why[256];
};

/*
 * A mentor's load: active mentees against capacity (1.0 = full), +0.25 per
 * check-in or proposal left unanswered in a row, +0.5 per low rating (<= 2)
 * from a mentee in the last 90 days, +0.5 after 26 weeks without a break.
 * From LOAD_SOFT reminders are softened and suggest a pause; from LOAD_HOLD
 * they are held back (the managers' digest shows who and why).
 */
static int
lc_load(struct store *st, const struct lifecycle_member *mentor, time_t now, struct lc_load *out)
{
    int active = 0, ever = 0;
    struct store_feedback_stats fs;

    if (store_schedule_mentor_counts(st, mentor->m.id, &active, &ever, NULL) != 0 ||
        store_feedback_about_mentor(st, mentor->m.id, now - 90 * DAY, &fs) != 0)
        return -1;
    time_t since = mentor->m.last_break ? mentor->m.last_break : mentor->m.created;
    long weeks = since > 0 && now > since ? (long)((now - since) / WEEK) : 0;
    out->score = (double)active / mentor->capacity + 0.25 * mentor->m.unanswered + 0.5 * fs.low +
                 (weeks >= 26 ? 0.5 : 0.0);
    snprintf(out->why, sizeof(out->why),
             "%d of %d mentees, %d unanswered, %d low ratings in 90 days, %ld weeks since a break",
             active, mentor->capacity, mentor->m.unanswered, fs.low, weeks);
    return 0;
}

/* ---- wanting things to happen later ---- */

/* One pending reminder per mentor at a time: that is the batching. */
int
lifecycle_i_want_reminder(const struct config *cfg, struct store *st,
                          const struct lifecycle_member *mentor, time_t now)
{
    int pending = store_schedule_count(st, "reminder", mentor->m.id, 0, NULL, 1);

    if (pending != 0)
        return pending < 0 ? -1 : 0;
    time_t due = now + REMINDER_DELAY;
    if (mentor->m.last_reminder && mentor->m.last_reminder + cfg->lifecycle.reminder_period > due)
        due = mentor->m.last_reminder + cfg->lifecycle.reminder_period;
    return store_schedule_add(st, due, "reminder", mentor->m.id, 0, NULL, now, NULL);
}

/* Milestones reached and not yet celebrated become "milestone" events. */
int
lifecycle_i_milestones(struct store *st, int64_t mentor, time_t now)
{
    int active = 0, ever = 0;
    time_t first = 0;
    struct store_feedback_stats fs;

    if (mentor == 0)
        return 0;
    if (store_schedule_mentor_counts(st, mentor, &active, &ever, &first) != 0 ||
        store_feedback_about_mentor(st, mentor, now - YEAR, &fs) != 0)
        return -1;
    const struct {
        const char *name;
        int reached;
    } ms[] = {
        {"first-mentee", ever >= 1},
        {"five-mentees", ever >= 5},
        {"one-year", first > 0 && now - first >= YEAR},
        {"high-feedback", fs.n >= 3 && fs.low == 0 && fs.avg >= 4.5},
    };
    for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
        if (!ms[i].reached)
            continue;
        int n = store_schedule_count(st, "milestone", mentor, 0, ms[i].name, 0);
        if (n < 0 || (n == 0 && store_schedule_add(st, now, "milestone", mentor, 0, ms[i].name, now,
                                                   NULL) != 0))
            return -1;
    }
    return 0;
}

/* ---- the event handlers ---- */

/*
 * What a handler did: RUN_DONE (mark done with outcome), RUN_MOVED (due
 * changed), RUN_SKIP (done without mail: the member is paused, left, ...).
 */
enum { RUN_DONE = LIFECYCLE_DONE, RUN_MOVED = LIFECYCLE_MOVED, RUN_SKIP = LIFECYCLE_SKIP };

struct lc_run {
    const struct config *cfg;
    struct store *st;
    const struct store_schedule_event *ev;
    time_t now;
    const char *outcome;
};

static int
lc_move(struct lc_run *r, time_t due, const char *why)
{
    log_ctx(LOG_LEVEL_DEBUG, NULL, NULL, "%s event %lld waits (%s)", r->ev->kind,
            (long long)r->ev->id, why);
    return store_schedule_move(r->st, r->ev->id, due) != 0 ? -1 : RUN_MOVED;
}

/*
 * Can mail go to mb now?  0: yes.  RUN_MOVED: the event was put off (night
 * there, or away).  RUN_SKIP with r->outcome set: not this one (paused,
 * left, undeliverable).  -1 on error.
 */
static int
lc_reachable(struct lc_run *r, const struct lifecycle_member *mb, int respect_pause,
             int respect_away)
{
    time_t until;

    if (strcmp(mb->m.state, "left") == 0 || mb->m.undeliverable) {
        r->outcome = mb->m.undeliverable ? "undeliverable" : "left";
        return RUN_SKIP;
    }
    if (respect_pause && strcmp(mb->m.state, "paused") == 0) {
        r->outcome = "paused";
        return RUN_SKIP;
    }
    if (respect_away && mb->m.away_until > r->now)
        return lc_move(r, mb->m.away_until, "away");
    if (lc_quiet_until(r->cfg, mb, r->now, &until))
        return lc_move(r, until, "night in the member's time zone");
    return 0;
}

/* The pair of the event (must be active unless any_state) and the event's member, both sides. */
struct lc_pair_ctx {
    struct store_pair p;
    struct lifecycle_member to, partner;
    int to_is_mentor;
};

static void
lc_pair_ctx_free(struct lc_pair_ctx *x)
{
    store_pair_free(&x->p);
    lifecycle_i_member_free(&x->to);
    lifecycle_i_member_free(&x->partner);
}

/* 1 loaded, 0 stale (r->outcome set), -1 error. */
static int
lc_pair_ctx(struct lc_run *r, int any_state, struct lc_pair_ctx *x)
{
    memset(x, 0, sizeof(*x));
    int found = store_pair_get(r->st, r->ev->pair, &x->p);
    if (found <= 0) {
        r->outcome = "stale: no such pair";
        return found;
    }
    if (!any_state && strcmp(x->p.state, "active") != 0) {
        r->outcome = "stale: pair not active";
        lc_pair_ctx_free(x);
        return 0;
    }
    x->to_is_mentor = r->ev->member == x->p.mentor;
    int64_t partner = x->to_is_mentor ? x->p.newcomer : x->p.mentor;
    int a = lifecycle_i_member_get(r->st, r->ev->member, r->now, &x->to);
    int b = a == 1 ? lifecycle_i_member_get(r->st, partner, r->now, &x->partner) : 0;
    if (a == 1 && b == 1)
        return 1;
    r->outcome = "stale: member gone";
    lc_pair_ctx_free(x);
    return a < 0 || b < 0 ? -1 : 0;
}

/*
 * The circle's topic, read back from the first reason line pairing.c writes
 * for a circle's pairs ("you all listed <topic>"); "" when it is not there.
 */
static void
lc_circle_topic(const char *reasons, char *out, size_t len)
{
    static const char prefix[] = "you all listed ";

    out[0] = '\0';
    if (reasons && strncmp(reasons, prefix, sizeof(prefix) - 1) == 0)
        snprintf(out, len, "%.*s", (int)strcspn(reasons + sizeof(prefix) - 1, "\n"),
                 reasons + sizeof(prefix) - 1);
}

/* "  - Ana <ana@example.org>" for each newcomer of the circle's running pairs. */
static int
lc_circle_members(struct lc_run *r, int64_t circle, char **lines, int *count)
{
    struct store_pair *v = NULL;
    size_t n = 0, len = 0;
    FILE *f;

    *lines = NULL;
    *count = 0;
    if (store_pair_circle(r->st, circle, &v, &n) != 0)
        return -1;
    if ((f = open_memstream(lines, &len)) == NULL) {
        store_pairs_free(v, n);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct lifecycle_member mb;
        if (strcmp(v[i].state, "active") != 0)
            continue;
        int found = lifecycle_i_member_get(r->st, v[i].newcomer, r->now, &mb);
        if (found < 0)
            rc = -1;
        if (found <= 0)
            continue;
        fprintf(f, "%s  - %s <%s>", *count ? "\n" : "", lifecycle_i_name_or(&mb, "a newcomer"),
                mb.m.address);
        (*count)++;
        lifecycle_i_member_free(&mb);
    }
    store_pairs_free(v, n);
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

/*
 * A circle's introduction: one mail per member of the circle (each newcomer
 * by their own pair's event, the mentor by the first pair's), naming all of
 * them.  It lists the pairs active when it goes out, so a late start or an
 * early DONE shows as it is.
 */
/* A short phrase in the language to->m is written to (english when it has none). */
static void
lc_phrase_for(struct lc_run *r, const struct lifecycle_member *to, const char *key,
              const char *english, char *out, size_t len)
{
    char code[LANG_CODE_MAX];
    const char *phrase = NULL;
    if (outbox_language(r->cfg, r->st, to->m.address, NULL, NULL, code) == 0)
        phrase = lang_phrase(lang_get(r->cfg->templates.dir, code), key);
    snprintf(out, len, "%s", phrase ? phrase : english);
}

static int
lc_circle_introduction(struct lc_run *r)
{
    struct lc_pair_ctx x;
    int rc = lc_pair_ctx(r, 0, &x);

    if (rc <= 0)
        return rc;
    rc = lc_reachable(r, &x.to, 0, 0);
    if (rc == 0) {
        const struct lifecycle_member *mentor = x.to_is_mentor ? &x.to : &x.partner;
        char *members = NULL, weeks[16], end[64], count[16], topic[64], first_checkin[16];
        int n = 0;
        rc = lc_circle_members(r, x.p.circle, &members, &n);
        snprintf(weeks, sizeof(weeks), "%ld", (long)((x.p.ends - x.p.started) / WEEK));
        snprintf(count, sizeof(count), "%d", n);
        lc_date(x.p.ends, x.to.offset, end, sizeof(end));
        lc_circle_topic(x.p.reasons, topic, sizeof(topic));
        if (topic[0] == '\0')
            lc_phrase_for(r, &x.to, "shared_topic", "a shared topic", topic, sizeof(topic));
        struct template_var v[] = {
            {"is_mentor", x.to_is_mentor ? "yes" : NULL},
            {"is_newcomer", x.to_is_mentor ? NULL : "yes"},
            {"mentor_name", lifecycle_i_name_or(mentor, mentor->m.address)},
            {"mentor_address", mentor->m.address},
            {"members", members},
            {"count", count},
            {"topic", topic},
            {"weeks", weeks},
            {"ends", end},
            {"checkins", lc_first_checkin(r->cfg, first_checkin, sizeof(first_checkin))},
            {"ref", x.p.ref},
        };
        if (rc == 0)
            rc = lifecycle_i_send(r->cfg, r->st, &x.to, "circle-introduction", v,
                                  sizeof(v) / sizeof(v[0]), "scheduled", x.p.ref, r->now);
        free(members);
        r->outcome = "sent";
    }
    lc_pair_ctx_free(&x);
    return rc;
}

/* Whether p is its mentor's first pair ever to start (the earliest, then the lowest id). */
static int
lc_first_pair(struct store *st, const struct store_pair *p)
{
    struct store_pair *v = NULL;
    size_t n = 0;
    int64_t first = 0;
    time_t when = 0;

    if (store_pair_list(st, p->mentor, NULL, &v, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i].mentor != p->mentor || v[i].started == 0)
            continue;
        if (first == 0 || v[i].started < when || (v[i].started == when && v[i].id < first)) {
            first = v[i].id;
            when = v[i].started;
        }
    }
    store_pairs_free(v, n);
    return first == p->id;
}

static int
lc_introduction(struct lc_run *r)
{
    if (strcmp(r->ev->arg, "circle") == 0)
        return lc_circle_introduction(r);

    struct lc_pair_ctx x;
    int rc = lc_pair_ctx(r, 0, &x);

    if (rc <= 0)
        return rc;
    rc = lc_reachable(r, &x.to, 0, 0);
    if (rc == 0) {
        const struct lifecycle_member *mentor = x.to_is_mentor ? &x.to : &x.partner;
        const struct lifecycle_member *mentee = x.to_is_mentor ? &x.partner : &x.to;
        const int together = strcmp(r->ev->arg, "separate") != 0;
        char lang[LANG_CODE_MAX] = "";
        const char *shared = NULL;
        if (together && lc_shared_language(r->cfg, r->st, mentee, mentor, lang, &shared) != 0) {
            lc_pair_ctx_free(&x);
            return -1;
        }
        /* The reasons in the language of the mail: the shared one, or the reader's. */
        char code[LANG_CODE_MAX] = "";
        if (!together && outbox_language(r->cfg, r->st, x.to.m.address, NULL, NULL, code) != 0) {
            lc_pair_ctx_free(&x);
            return -1;
        }
        char *reasons =
            reason_lines(lang_get(r->cfg->templates.dir, together ? lang : code), x.p.reasons);
        char weeks[16], end[64], mentor_first[64], mentee_first[64], first_checkin[16];
        snprintf(weeks, sizeof(weeks), "%ld", (long)((x.p.ends - x.p.started) / WEEK));
        lc_date(x.p.ends, x.to.offset, end, sizeof(end));
        lang_address_name(mentor->m.name, mentor_first, sizeof(mentor_first));
        lang_address_name(mentee->m.name, mentee_first, sizeof(mentee_first));
        int first_mentee = x.to_is_mentor ? lc_first_pair(r->st, &x.p) : 0;
        if (first_mentee < 0)
            rc = -1;
        /* An introduction is the one mail that carries both addresses, to both people. */
        struct template_var v[] = {
            {"is_mentor", x.to_is_mentor ? "yes" : NULL},
            {"is_newcomer", x.to_is_mentor ? NULL : "yes"},
            /*
             * A person who gave no name is not called by their address ("meet
             * ann@example.test"): the names stay unset and the text says "your
             * mentor"; the address is given only as the way to reach them.
             */
            {"mentor_name", lc_given(mentor->m.name)},
            {"mentor_address", mentor->m.address},
            {"newcomer_name", lc_given(mentee->m.name)},
            {"newcomer_address", mentee->m.address},
            {"mentor_first", mentor_first[0] ? mentor_first : NULL},
            {"newcomer_first", mentee_first[0] ? mentee_first : NULL},
            {"both_named", mentor_first[0] && mentee_first[0] ? "yes" : NULL},
            {"partner_name", lifecycle_i_name_or(&x.partner, NULL)},
            {"partner_address", x.partner.m.address},
            {"partner_profile", x.partner.describe},
            {"reasons", reasons},
            {"weeks", weeks},
            {"ends", end},
            {"checkins", lc_first_checkin(r->cfg, first_checkin, sizeof(first_checkin))},
            {"ref", x.p.ref},
            {"shared_language", shared},
            {"first_mentee", first_mentee == 1 ? "yes" : NULL},
        };
        int separate = !together;

        /*
         * Reply-To both partners: a reply (or reply-all) reaches the other
         * person, not mentord.  In the thread of the person's welcome and of
         * the proposal they accepted, so it is not a conversation on its own.
         */
        struct compose_mailbox both[] = {{mentee->m.name, mentee->m.address},
                                         {mentor->m.name, mentor->m.address}};
        static const char *const earlier[] = {"join", "mentor", "proposal", NULL};
        char *thread = NULL;
        if (rc != 0 || store_outbox_thread(r->st, x.to.m.address, earlier, &thread) != 0) {
            rc = -1;
        } else {
            struct outbox_mail om = {
                .to_addr = x.to.m.address,
                .to_name = x.to.m.name,
                .template_name = separate ? "introduction-one" : "introduction",
                .vars = v,
                .nvars = sizeof(v) / sizeof(v[0]),
                .kind = "scheduled",
                .ref = x.p.ref,
                .lang = together ? lang : NULL,
                .reply_to = separate ? &both[x.to_is_mentor ? 0 : 1] : both,
                .n_reply_to = separate ? 1 : 2,
                .thread = thread,
            };
            rc = lc_queue(r->cfg, r->st, &om, r->now);
        }
        free(thread);
        free(reasons);
        r->outcome = "sent";
    }
    lc_pair_ctx_free(&x);
    return rc;
}

/*
 * Before a check-in goes out: was the previous one to this member about this
 * pair answered?  If not, count it; a mentor silent through silent_checkins
 * check-ins gets the mentee offered a new mentor, and a reminder is wanted.
 */
static int
lc_checkin_unanswered(struct lc_run *r, struct lc_pair_ctx *x)
{
    time_t prev = 0, answered = 0;
    int had =
        store_schedule_last_done(r->st, "checkin", x->to.m.id, x->p.id, "sent", &prev, NULL, 0);
    int gave = had == 1 ? store_feedback_last(r->st, x->p.id, x->to.m.id, &answered) : 0;

    if (had < 0 || gave < 0)
        return -1;
    if (had == 0 || (gave == 1 && answered >= prev))
        return 0;
    if (store_member_unanswered_add(r->st, x->to.m.id) < 0)
        return -1;
    x->to.m.unanswered++;
    if (!x->to_is_mentor)
        return 0;
    if (lifecycle_i_want_reminder(r->cfg, r->st, &x->to, r->now) != 0)
        return -1;
    int silent = store_schedule_count_done(r->st, "checkin", x->to.m.id, x->p.id, "sent",
                                           gave == 1 ? answered + 1 : 0);
    int offered = store_schedule_count(r->st, "rematch-offer", 0, x->p.id, "silent", 0);
    if (silent < 0 || offered < 0)
        return -1;
    if (silent < r->cfg->lifecycle.silent_checkins || offered > 0)
        return 0;
    log_ctx(LOG_LEVEL_INFO, NULL, x->to.m.address, "mentor silent through %d check-ins (pair %lld)",
            silent, (long long)x->p.id);
    return store_schedule_add(r->st, r->now, "rematch-offer", x->p.newcomer, x->p.id, "silent",
                              r->now, NULL);
}

/* Check-ins due to the same mentor within this long of one another go out as one mail. */
#define CHECKIN_BATCH_WINDOW DAY

/* Whether day is the first of [lifecycle] checkins ("Have you met yet?"). */
static int
lc_is_first_checkin(const struct config *cfg, const char *day)
{
    return strtol(day, NULL, 10) == strtol(cfg->lifecycle.checkins, NULL, 10) ||
           strchr(cfg->lifecycle.checkins, ',') == NULL;
}

/* A mentor's check-in about several mentees: one line per mentee, numbered by pairing. */
struct lc_batch {
    const struct lang *l; /* the mentor's language */
    size_t n;
    struct {
        int64_t pair; /* first: lc_batch_cmp sorts by it */
        char *line;   /* "Ann: It has been 3 days ... Have you met yet?" */
        char name[64];
    } v[MENTEES_MAX];
};

static void
lc_batch_free(struct lc_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->v[i].line);
}

/* One mentee's line, in the mentor's language; 0 or -1. */
static int
lc_checkin_line(struct lc_batch *b, const struct config *cfg, const struct lc_pair_ctx *x,
                const char *day)
{
    const char *who = lifecycle_i_name_or(&x->partner, x->partner.m.address);
    int first = lc_is_first_checkin(cfg, day);

    if (b->n >= MENTEES_MAX)
        return 0; /* more than any capacity: the rest are still marked sent and answered by name */
    char *line = lang_phrase_fill(
        b->l, first ? "checkin_first" : "checkin_later",
        first ? "{name}: It has been {day} days since we introduced you. Have you met yet?"
              : "{name}: It has been {day} days since we introduced you. How is it going?",
        "name", who, "day", day, NULL);
    if (line == NULL)
        return -1;
    b->v[b->n].pair = x->p.id;
    snprintf(b->v[b->n].name, sizeof(b->v[b->n].name), "%s", who);
    b->v[b->n++].line = line;
    return 0;
}

/*
 * The mentor's other check-ins due within CHECKIN_BATCH_WINDOW join this one:
 * each is accounted for (unanswered counts, silence) and marked sent, and its
 * line goes to b.  Returns how many joined, or -1.
 */
static int
lc_checkin_others(struct lc_run *r, const struct lc_pair_ctx *x, struct lc_batch *b)
{
    struct store_schedule_event *ev = NULL;
    size_t n = 0;
    int joined = 0, rc = 0;

    if (store_schedule_pending(r->st, "checkin", x->to.m.id, r->now + CHECKIN_BATCH_WINDOW,
                               r->ev->id, &ev, &n) != 0)
        return -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct lc_run one = *r;
        struct lc_pair_ctx y;
        one.ev = &ev[i];
        one.outcome = "sent with another check-in";
        int found = lc_pair_ctx(&one, 0, &y);
        if (found < 0) {
            rc = -1;
        } else if (found == 0) {
            rc = store_schedule_done(r->st, ev[i].id, r->now, one.outcome);
        } else {
            rc = lc_checkin_unanswered(&one, &y);
            if (rc == 0)
                rc = lc_checkin_line(b, r->cfg, &y, ev[i].arg);
            if (rc == 0)
                rc = store_schedule_done(r->st, ev[i].id, r->now, "sent");
            joined += rc == 0;
            lc_pair_ctx_free(&y);
        }
    }
    free(ev);
    return rc < 0 ? -1 : joined;
}

static int
lc_batch_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/*
 * The mentees' lines numbered in the order of their pairings (the order an
 * answer's "1:", "2:" is read back in, lc_answer_pairs), into *lines; the
 * names for the subject ("Ann, Bob and Cy") into names.  0 or -1.
 */
static int
lc_batch_render(struct lc_batch *b, char **lines, char *names, size_t len)
{
    size_t size = 0, used = 0;
    FILE *f = open_memstream(lines, &size);

    if (f == NULL)
        return -1;
    /* v[i] starts with its pair id: sort the records by it. */
    qsort(b->v, b->n, sizeof(b->v[0]), lc_batch_cmp);
    const char *and = lang_phrase(b->l, "and") ? lang_phrase(b->l, "and") : "and";
    names[0] = '\0';
    for (size_t i = 0; i < b->n; i++) {
        fprintf(f, "%s  %zu. %s", i ? "\n" : "", i + 1, b->v[i].line);
        const char *sep = i == 0 ? "" : i + 1 == b->n ? " " : ", ";
        if (used < len)
            used += (size_t)snprintf(names + used, len - used, "%s%s%s%s", sep,
                                     i > 0 && i + 1 == b->n ? and : "",
                                     i > 0 && i + 1 == b->n ? " " : "", b->v[i].name);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* A mentor with several mentees due a check-in gets one mail about all of them. */
static int
lc_checkin_batch(struct lc_run *r, const struct lc_pair_ctx *x, int *sent)
{
    char *lines = NULL, names[512], count[16], code[LANG_CODE_MAX];
    struct lc_batch b = {0};

    *sent = 0;
    if (outbox_language(r->cfg, r->st, x->to.m.address, NULL, NULL, code) != 0)
        return -1;
    b.l = lang_get(r->cfg->templates.dir, code);
    int joined = lc_checkin_line(&b, r->cfg, x, r->ev->arg) == 0 ? lc_checkin_others(r, x, &b) : -1;
    int rc = joined < 0 ? -1 : 0;
    if (joined > 0 && lc_batch_render(&b, &lines, names, sizeof(names)) != 0)
        rc = -1;
    if (joined > 0 && rc == 0) {
        /* The example is number 1's name: "1:" and that name are the same mentee. */
        snprintf(count, sizeof(count), "%zu", b.n);
        struct template_var v[] = {{"names", names},
                                   {"mentees", lines},
                                   {"count", count},
                                   {"example", b.v[0].name},
                                   {"ref", x->p.ref}};
        rc = lifecycle_i_send(r->cfg, r->st, &x->to, "checkin-batch", v, 5, "scheduled", x->p.ref,
                              r->now);
        *sent = 1;
    }
    free(lines);
    lc_batch_free(&b);
    return rc;
}

static int
lc_checkin(struct lc_run *r)
{
    struct lc_pair_ctx x;
    int rc = lc_pair_ctx(r, 0, &x), batched = 0;

    if (rc <= 0)
        return rc;
    rc = lc_reachable(r, &x.to, 1, 1);
    if (rc == 0)
        rc = lc_checkin_unanswered(r, &x);
    if (rc == 0 && x.to_is_mentor)
        rc = lc_checkin_batch(r, &x, &batched);
    if (rc == 0 && !batched) {
        struct template_var v[] = {
            {"day", r->ev->arg},
            {"first", lc_is_first_checkin(r->cfg, r->ev->arg) ? "yes" : NULL},
            {"is_mentor", x.to_is_mentor ? "yes" : NULL},
            {"partner_name",
             lifecycle_i_name_or(&x.partner, x.to_is_mentor ? "your mentee" : "your mentor")},
            {"ref", x.p.ref},
        };
        rc = lifecycle_i_send(r->cfg, r->st, &x.to, "checkin", v, sizeof(v) / sizeof(v[0]),
                              "scheduled", x.p.ref, r->now);
    }
    if (rc == 0)
        r->outcome = "sent";
    lc_pair_ctx_free(&x);
    return rc;
}

/* What a mentor is reminded of about one mentee: "" when nothing. */
/* "  - " and one phrase of the mentor's language, with the mentee's name and the check-in day. */
static void
lc_reminder_line(FILE *out, const struct lang *l, const char *key, const char *english,
                 const char *name, const char *day)
{
    char *text = lang_phrase_fill(l, key, english, "name", name, "day", day, NULL);
    if (text != NULL)
        fprintf(out, "  - %s\n", text);
    free(text);
}

static int
lc_reminder_item(struct lc_run *r, const struct lifecycle_member *mentor,
                 const struct store_pair *p, FILE *out, int *items)
{
    struct store_feedback *fb = NULL;
    size_t n = 0;
    time_t sent = 0, answered = 0;
    char day[64] = "";
    struct lifecycle_member mentee;
    int had = store_schedule_last_done(r->st, "checkin", mentor->m.id, p->id, "sent", &sent, day,
                                       sizeof(day));
    int gave = had == 1 ? store_feedback_last(r->st, p->id, mentor->m.id, &answered) : 0;
    int found = lifecycle_i_member_get(r->st, p->newcomer, r->now, &mentee);

    if (had < 0 || gave < 0 || found < 0 || store_feedback_list(r->st, p->id, &fb, &n) != 0) {
        if (found == 1)
            lifecycle_i_member_free(&mentee);
        return -1;
    }
    char code[LANG_CODE_MAX];
    if (outbox_language(r->cfg, r->st, mentor->m.address, NULL, NULL, code) != 0) {
        store_feedback_free(fb, n);
        if (found == 1)
            lifecycle_i_member_free(&mentee);
        return -1;
    }
    /* The lines are the mentor's to read: in the mentor's language. */
    const struct lang *l = lang_get(r->cfg->templates.dir, code);
    const char *yours =
        lang_phrase(l, "your_mentee") ? lang_phrase(l, "your_mentee") : "your mentee";
    const char *name = found == 1 ? lifecycle_i_name_or(&mentee, yours) : yours;
    int unanswered = had == 1 && !(gave == 1 && answered >= sent);
    int worry = 0;
    time_t since = mentor->m.last_reminder > p->started ? mentor->m.last_reminder : p->started;
    for (size_t i = 0; i < n; i++)
        if (fb[i].member == p->newcomer && fb[i].at >= since &&
            (fb[i].met == 0 || (fb[i].rating > 0 && fb[i].rating <= 2)))
            worry = fb[i].met == 0 ? 1 : 2;
    if (unanswered)
        lc_reminder_line(out, l, "reminder_unanswered",
                         "{name}: the day {day} check-in is still waiting for your answer", name,
                         day);
    if (worry == 1)
        lc_reminder_line(out, l, "reminder_not_met",
                         "{name}: says you have not met yet; a short note to fix a time helps",
                         name, day);
    else if (worry == 2)
        lc_reminder_line(out, l, "reminder_low",
                         "{name}: it is not going so well; perhaps ask what would help", name, day);
    *items += unanswered + (worry > 0);
    store_feedback_free(fb, n);
    if (found == 1)
        lifecycle_i_member_free(&mentee);
    return 0;
}

/* The reminder's list: every active mentee with something to say; *items counts lines. */
static char *
lc_reminder_list(struct lc_run *r, const struct lifecycle_member *mentor, int *items)
{
    struct store_pair *pairs = NULL;
    size_t n = 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    int rc = 0;

    *items = 0;
    if (store_pair_list(r->st, mentor->m.id, "active", &pairs, &n) != 0)
        return NULL;
    if ((f = open_memstream(&buf, &len)) == NULL) {
        store_pairs_free(pairs, n);
        return NULL;
    }
    for (size_t i = n; i-- > 0 && rc == 0;) /* newest first in the list: oldest first here */
        if (pairs[i].mentor == mentor->m.id)
            rc = lc_reminder_item(r, mentor, &pairs[i], f, items);
    store_pairs_free(pairs, n);
    if (fclose(f) != 0 || rc != 0) {
        free(buf);
        return NULL;
    }
    lc_chomp(buf);
    return buf;
}

/* The member an event is for: 1 and *mb held, 0 (outcome "stale: member
 * gone") when they are no longer there, -1 on error. */
static int
lc_event_member(struct lc_run *r, struct lifecycle_member *mb)
{
    int rc = lifecycle_i_member_get(r->st, r->ev->member, r->now, mb);

    if (rc == 0)
        r->outcome = "stale: member gone";
    return rc;
}

static int
lc_reminder(struct lc_run *r)
{
    struct lifecycle_member mentor;
    struct lc_load load;
    int items = 0;
    int rc = lc_event_member(r, &mentor);

    if (rc <= 0)
        return rc;
    rc = lc_reachable(r, &mentor, 1, 1);
    if (rc == 0 && mentor.m.last_reminder &&
        mentor.m.last_reminder + r->cfg->lifecycle.reminder_period > r->now)
        rc = lc_move(r, mentor.m.last_reminder + r->cfg->lifecycle.reminder_period, "period");
    if (rc != 0) {
        lifecycle_i_member_free(&mentor);
        return rc;
    }
    char *list = lc_reminder_list(r, &mentor, &items);
    if (list == NULL || lc_load(r->st, &mentor, r->now, &load) != 0) {
        rc = -1;
    } else if (items == 0) {
        r->outcome = "nothing to remind";
    } else if (load.score >= LOAD_HOLD) {
        /* An overloaded mentor is not pushed: the managers see why in the digest. */
        log_ctx(LOG_LEVEL_INFO, NULL, mentor.m.address, "reminder held back: %s", load.why);
        rc = store_event_add(r->st, r->now, "burnout", mentor.m.address, NULL, load.why);
        r->outcome = "held";
    } else {
        int soft = load.score >= LOAD_SOFT;
        struct template_var v[] = {{"mentees", list}, {"soft", soft ? "yes" : NULL}};
        rc = lifecycle_i_send(r->cfg, r->st, &mentor, "reminder", v, 2, "scheduled", NULL, r->now);
        if (rc == 0 && store_member_set_last_reminder(r->st, mentor.m.id, r->now) < 0)
            rc = -1;
        if (rc == 0 && soft)
            rc = store_event_add(r->st, r->now, "burnout", mentor.m.address, NULL, load.why);
        r->outcome = soft ? "sent softened" : "sent";
    }
    free(list);
    lifecycle_i_member_free(&mentor);
    return rc < 0 ? -1 : RUN_DONE;
}

/* The mentee is offered a new mentor: the mentor was silent, or a worry was not resolved. */
static int
lc_rematch_offer(struct lc_run *r)
{
    struct lc_pair_ctx x;
    int rc = lc_pair_ctx(r, 0, &x);
    int silent = strcmp(r->ev->arg, "silent") == 0;

    if (rc <= 0)
        return rc;
    if (!silent) {
        /* After a worrying answer: a better answer since then means it sorted itself out. */
        struct store_feedback *fb = NULL;
        size_t n = 0;
        if (store_feedback_list(r->st, x.p.id, &fb, &n) != 0) {
            lc_pair_ctx_free(&x);
            return -1;
        }
        int fine = 0;
        for (size_t i = 0; i < n; i++)
            if (fb[i].member == x.to.m.id && fb[i].at > r->ev->due - REMATCH_DELAY)
                fine = fb[i].rating >= 3 || fb[i].met == 1;
        store_feedback_free(fb, n);
        if (fine) {
            r->outcome = "resolved";
            lc_pair_ctx_free(&x);
            return RUN_DONE;
        }
    }
    rc = lc_reachable(r, &x.to, 1, 0);
    if (rc == 0) {
        struct template_var v[] = {{"silent", silent ? "yes" : NULL},
                                   {"partner_name", lifecycle_i_name_or(&x.partner, "your mentor")},
                                   {"ref", x.p.ref}};
        rc = lifecycle_i_send(r->cfg, r->st, &x.to, "rematch-offer", v, 3, "scheduled", x.p.ref,
                              r->now);
        r->outcome = "sent";
    }
    if (rc == 0 && silent) {
        struct template_var m[] = {{"silent", "yes"},
                                   {"mentor", x.partner.m.address},
                                   {"newcomer", x.to.m.address},
                                   {"rating", NULL},
                                   {"not_met", NULL},
                                   {"comment", NULL}};
        rc = alerts_raise(r->cfg, r->st, m, 6, r->now);
        if (rc == 0)
            rc = store_event_add(r->st, r->now, "silent", x.partner.m.address, NULL, x.p.ref);
    }
    lc_pair_ctx_free(&x);
    return rc;
}

/* The pairing's time is up: end it, then closing mails and, later, the invitation. */
static int
lc_pair_end(struct lc_run *r)
{
    struct store_pair p;
    int found = store_pair_get(r->st, r->ev->pair, &p);

    if (found <= 0) {
        r->outcome = "stale: no such pair";
        return found;
    }
    int moved = store_pair_set_state(r->st, p.id, "active", "ended", r->now, 0, "completed");
    int rc = moved < 0 ? -1 : 0;
    if (moved == 1) {
        r->outcome = "ended";
        if (store_schedule_cancel_pair(r->st, p.id, r->ev->id, r->now, "pair ended") < 0 ||
            (p.mentor && store_schedule_add(r->st, r->now, "closing", p.mentor, p.id, "mentor",
                                            r->now, NULL) != 0) ||
            (p.newcomer && store_schedule_add(r->st, r->now, "closing", p.newcomer, p.id,
                                              "newcomer", r->now, NULL) != 0) ||
            (p.newcomer && store_schedule_add(r->st, r->now + INVITE_DELAY, "invite", p.newcomer,
                                              p.id, NULL, r->now, NULL) != 0) ||
            lifecycle_i_milestones(r->st, p.mentor, r->now) != 0)
            rc = -1;
    } else if (moved == 0) {
        r->outcome = "stale: pair not active";
    }
    store_pair_free(&p);
    return rc;
}

static int
lc_closing(struct lc_run *r)
{
    struct lc_pair_ctx x;
    int rc = lc_pair_ctx(r, 1, &x);

    if (rc <= 0)
        return rc;
    rc = lc_reachable(r, &x.to, 1, 0);
    if (rc == 0) {
        struct template_var v[] = {
            {"is_mentor", x.to_is_mentor ? "yes" : NULL},
            {"is_newcomer", x.to_is_mentor ? NULL : "yes"},
            {"partner_name", lifecycle_i_name_or(&x.partner, "your partner")},
            {"ref", x.p.ref}};
        rc = lifecycle_i_send(r->cfg, r->st, &x.to, "closing", v, 4, "scheduled", x.p.ref, r->now);
        r->outcome = "sent";
    }
    lc_pair_ctx_free(&x);
    return rc;
}

static int
lc_invite(struct lc_run *r)
{
    struct lifecycle_member mb;
    int rc = lc_event_member(r, &mb);

    if (rc <= 0)
        return rc;
    if (strcmp(mb.m.role, "newcomer") != 0) {
        r->outcome = "already a mentor";
        lifecycle_i_member_free(&mb);
        return RUN_DONE;
    }
    rc = lc_reachable(r, &mb, 1, 1);
    if (rc == 0) {
        rc = lifecycle_i_send(r->cfg, r->st, &mb, "invite-mentor", NULL, 0, "scheduled", NULL,
                              r->now);
        if (rc == 0)
            rc = store_event_add(r->st, r->now, "invite-mentor", mb.m.address, NULL, NULL);
        r->outcome = "sent";
    }
    lifecycle_i_member_free(&mb);
    return rc;
}

/* Pause events carry the pause_until they were made for: a changed pause makes them stale. */
static int
lc_pause_current(struct lc_run *r, const struct lifecycle_member *mb)
{
    char until[32];

    snprintf(until, sizeof(until), "%lld", (long long)mb->m.pause_until);
    if (strcmp(mb->m.state, "paused") == 0 && strcmp(until, r->ev->arg) == 0)
        return 1;
    r->outcome = "stale: pause changed";
    return 0;
}

/* The member a pause event is for, still paused as it was made for: 1 and
 * *mb held; otherwise 0 with *rc the event's result (done, or -1). */
static int
lc_paused_member(struct lc_run *r, struct lifecycle_member *mb, int *rc)
{
    int got = lc_event_member(r, mb);

    if (got == 1 && lc_pause_current(r, mb))
        return 1;
    if (got == 1)
        lifecycle_i_member_free(mb);
    *rc = got < 0 ? -1 : RUN_DONE;
    return 0;
}

static int
lc_pause_notice(struct lc_run *r)
{
    struct lifecycle_member mb;
    int rc;

    if (!lc_paused_member(r, &mb, &rc))
        return rc;
    rc = lc_reachable(r, &mb, 0, 0);
    if (rc == 0) {
        char until[64];
        lc_date(mb.m.pause_until, mb.offset, until, sizeof(until));
        struct template_var v[] = {{"until", until}};
        rc = lifecycle_i_send(r->cfg, r->st, &mb, "pause-ending", v, 1, "scheduled", NULL, r->now);
        r->outcome = "sent";
    }
    lifecycle_i_member_free(&mb);
    return rc;
}

static int
lc_pause_end(struct lc_run *r)
{
    struct lifecycle_member mb;
    int rc;

    if (!lc_paused_member(r, &mb, &rc))
        return rc;
    if (store_member_set_state(r->st, mb.m.address, "active", 0, r->now) < 0 ||
        store_member_set_last_break(r->st, mb.m.id, r->now) < 0 ||
        store_event_add(r->st, r->now, "resume", mb.m.address, NULL, "pause ended") != 0)
        rc = -1;
    else
        rc = RUN_DONE;
    log_ctx(LOG_LEVEL_INFO, NULL, mb.m.address, "pause ended; active again");
    r->outcome = "resumed";
    lifecycle_i_member_free(&mb);
    return rc;
}

static int
lc_milestone(struct lc_run *r)
{
    struct lifecycle_member mb;
    int rc = lc_event_member(r, &mb);

    if (rc <= 0)
        return rc;
    rc = lc_reachable(r, &mb, 1, 0);
    if (rc == 0 && strcmp(r->ev->arg, "first-mentee") == 0) {
        /* The thanks for a first mentee is in the introduction: no mail of its own. */
        rc = store_event_add(r->st, r->now, "milestone", mb.m.address, NULL, r->ev->arg);
        r->outcome = "in the introduction";
    } else if (rc == RUN_SKIP) {
        /* Not written to (paused, ...), but the managers' digest still mentions it. */
        rc = store_event_add(r->st, r->now, "milestone", mb.m.address, NULL, r->ev->arg);
    } else if (rc == 0) {
        const char *a = r->ev->arg;
        struct template_var v[] = {
            {"first_mentee", strcmp(a, "first-mentee") == 0 ? "yes" : NULL},
            {"five_mentees", strcmp(a, "five-mentees") == 0 ? "yes" : NULL},
            {"one_year", strcmp(a, "one-year") == 0 ? "yes" : NULL},
            {"high_feedback", strcmp(a, "high-feedback") == 0 ? "yes" : NULL},
        };
        rc = lifecycle_i_send(r->cfg, r->st, &mb, "milestone", v, 4, "scheduled", NULL, r->now);
        if (rc == 0)
            rc = store_event_add(r->st, r->now, "milestone", mb.m.address, NULL, a);
        r->outcome = "sent";
    }
    lifecycle_i_member_free(&mb);
    return rc;
}

static const struct {
    const char *kind;
    int (*run)(struct lc_run *);
} lc_handlers[] = {
    {"introduction", lc_introduction},
    {"checkin", lc_checkin},
    {"reminder", lc_reminder},
    {"rematch-offer", lc_rematch_offer},
    {"pair-end", lc_pair_end},
    {"closing", lc_closing},
    {"invite", lc_invite},
    {"pause-notice", lc_pause_notice},
    {"pause-end", lc_pause_end},
    {"milestone", lc_milestone},
};

int
lifecycle_run_event(const struct config *cfg, struct store *st,
                    const struct store_schedule_event *ev, time_t now, const char **outcome)
{
    struct lc_run r = {.cfg = cfg, .st = st, .ev = ev, .now = now, .outcome = NULL};

    for (size_t i = 0; i < sizeof(lc_handlers) / sizeof(lc_handlers[0]); i++) {
        if (strcmp(ev->kind, lc_handlers[i].kind) == 0) {
            int rc = lc_handlers[i].run(&r);
            if (r.outcome)
                *outcome = r.outcome;
            return rc;
        }
    }
    return LIFECYCLE_UNKNOWN;
}

/* ---- a pairing starts ---- */

int
lifecycle_pair_started(const struct config *cfg, struct store *st, int64_t pair, time_t now)
{
    struct store_pair p;
    int found = store_pair_get(st, pair, &p);
    int rc = 0;

    if (found <= 0) {
        if (found == 0)
            log_ctx(LOG_LEVEL_ERROR, NULL, NULL, "starting pair %lld: no such pair",
                    (long long)pair);
        return -1;
    }
    int done = store_schedule_count(st, "introduction", 0, pair, NULL, 0);
    if (done != 0 || strcmp(p.state, "active") != 0) {
        store_pair_free(&p);
        return done < 0 ? -1 : 0; /* already started, or not a running pair */
    }
    time_t start = p.started ? p.started : now;
    time_t end = p.ends ? p.ends : start + cfg->lifecycle.length;
    const char *how =
        strcmp(cfg->lifecycle.introduction, "separate") == 0 ? "separate" : "together";
    if (p.circle)
        how = "circle"; /* one circle introduction naming everyone, whatever the setting */
    int64_t side[2] = {p.mentor, p.newcomer};
    /* A circle's mentor is introduced once, by the circle's first pair (whose id it carries). */
    for (int i = (p.circle && p.circle != pair) ? 1 : 0; i < 2 && rc == 0; i++)
        rc = store_schedule_add(st, now, "introduction", side[i], pair, how, now, NULL);
    for (const char *s = cfg->lifecycle.checkins; s && *s && rc == 0;) {
        char *e;
        long day = strtol(s, &e, 10);
        if (e == s)
            break;
        char arg[16];
        snprintf(arg, sizeof(arg), "%ld", day);
        time_t due = start + (time_t)day * DAY;
        for (int i = 0; i < 2 && rc == 0 && due < end; i++)
            rc = store_schedule_add(st, due, "checkin", side[i], pair, arg, now, NULL);
        s = e + strspn(e, ", \t");
    }
    if (rc == 0)
        rc = store_schedule_add(st, end, "pair-end", 0, pair, NULL, now, NULL);
    if (rc == 0)
        rc = lifecycle_i_milestones(st, p.mentor, now);
    store_pair_free(&p);
    return rc;
}

/* ---- leaving, and coming back as a mentor ---- */

/* One pairing of a member who leaves: end it and tell the partner, who knows only a first name. */
static int
lc_leave_pair(struct respond_ctx *c, const struct lifecycle_member *leaver,
              const struct store_pair *p)
{
    int was_active = strcmp(p->state, "active") == 0;
    int64_t partner_id = p->mentor == leaver->m.id ? p->newcomer : p->mentor;
    struct lifecycle_member partner;

    if (store_pair_set_state(c->st, p->id, p->state, "ended", c->now, 0, "left") < 0 ||
        store_schedule_cancel_pair(c->st, p->id, 0, c->now, "member left") < 0)
        return -1;
    int found = lifecycle_i_member_get(c->st, partner_id, c->now, &partner);
    if (found <= 0)
        return found;
    int rc = 0;
    int partner_is_newcomer = partner_id == p->newcomer;
    if (partner_is_newcomer) {
        /* Back on the waiting list, keeping their place when they had one. */
        time_t since = partner.m.waiting_since ? partner.m.waiting_since : c->now;
        rc = store_pair_set_waiting(c->st, partner.m.id, since) < 0 ? -1 : 0;
    }
    /* A proposal the newcomer never saw is withdrawn silently. */
    if (rc == 0 && (was_active || !partner_is_newcomer)) {
        struct template_var v[] = {{"leaver_name", leaver->first[0] ? leaver->first : NULL},
                                   {"is_newcomer", partner_is_newcomer ? "yes" : NULL},
                                   {"was_proposal", was_active ? NULL : "yes"}};
        /* Not a reply to the partner: it waits for the morning in their zone. */
        time_t at = quiet_morning(c->cfg, partner.offset, c->now);
        rc = lifecycle_i_send(c->cfg, c->st, &partner, "partner-left", v, 3, "notice", NULL, at);
    }
    lifecycle_i_member_free(&partner);
    return rc;
}

int
lifecycle_member_leaving(struct respond_ctx *c, int64_t member_id)
{
    struct lifecycle_member leaver;
    struct store_pair *pairs = NULL;
    size_t n = 0;
    int rc = 0;

    int found = lifecycle_i_member_get(c->st, member_id, c->now, &leaver);
    if (found <= 0)
        return found;
    if (store_pair_list(c->st, member_id, NULL, &pairs, &n) != 0)
        rc = -1;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (strcmp(pairs[i].state, "active") == 0 || strcmp(pairs[i].state, "proposed") == 0)
            rc = lc_leave_pair(c, &leaver, &pairs[i]);
    if (rc == 0 && store_schedule_cancel_member(c->st, member_id, 0, c->now, "member left") < 0)
        rc = -1;
    if (rc != 0)
        snprintf(c->detail, c->detail_len, "ending the pairings of a member who left: %s",
                 store_errmsg(c->st));
    store_pairs_free(pairs, n);
    lifecycle_i_member_free(&leaver);
    return rc;
}

int
lifecycle_note_conversion(struct store *st, const char *address, time_t now)
{
    struct store_member m;
    int found = store_member_get(st, address, &m);

    if (found <= 0)
        return found;
    int n = store_schedule_mentee_pairs(st, m.id);
    store_member_free(&m);
    if (n <= 0)
        return n;
    log_ctx(LOG_LEVEL_INFO, NULL, address, "a former mentee volunteers as a mentor");
    return store_event_add(st, now, "conversion", address, NULL, NULL) != 0 ? -1 : 1;
}
