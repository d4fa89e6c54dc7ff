/*
 * admin: what a manager or admin does to the programme by hand - match,
 * unmatch, block, pause, resume, remove - in the caller's transaction, for
 * mentorctl and for manager commands by mail alike.
 *
 * A hand-made match is final at once (the manager has spoken to both) and
 * goes through the same start as an accepted proposal, so the introduction
 * and the check-ins are lifecycle's as usual.  Every action leaves an event
 * "manager" naming who acted; members appear there as "#id", never by
 * address, so erasing a member later leaves nothing of them in the log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "log.h"
#include "admin.h"
#include "lifecycle.h"

/* A runtime error: English only, for the log and mentorctl. */
static void admin_fail(struct admin_msg *msg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
admin_fail(struct admin_msg *msg, const char *fmt, ...)
{
    va_list ap;

    memset(msg, 0, sizeof(*msg));
    va_start(ap, fmt);
    vsnprintf(msg->text, sizeof(msg->text), fmt, ap);
    va_end(ap);
}

void
admin_msg_say(struct admin_msg *msg, const char *key, const char *english, ...)
{
    va_list ap;
    const char *name;

    memset(msg, 0, sizeof(*msg));
    msg->key = key;
    msg->english = english;
    va_start(ap, english);
    while (msg->n < ADMIN_MSG_VARS && (name = va_arg(ap, const char *)) != NULL) {
        msg->names[msg->n] = name;
        snprintf(msg->values[msg->n], sizeof(msg->values[0]), "%s", va_arg(ap, const char *));
        msg->n++;
    }
    va_end(ap);
    char *s = admin_msg_render(msg, NULL);
    snprintf(msg->text, sizeof(msg->text), "%s", s ? s : english);
    free(s);
}

/*
 * The word of l for a role or a state a value names (a value named "a_role",
 * "state", "pair_state"): phrase admin_role_X, admin_member_X, admin_pair_X;
 * NULL for other values, or when l lacks the word.
 */
static const char *
admin_msg_word(const struct lang *l, const char *name, const char *value)
{
    size_t n = strlen(name);
    const char *kind = NULL;
    char key[96];

    if (n >= 4 && strcmp(name + n - 4, "role") == 0)
        kind = "role";
    else if (strcmp(name, "pair_state") == 0)
        kind = "pair";
    else if (n >= 5 && strcmp(name + n - 5, "state") == 0)
        kind = "member";
    if (kind == NULL || l == NULL)
        return NULL;
    snprintf(key, sizeof(key), "admin_%s_%s", kind, value);
    return lang_phrase(l, key);
}

char *
admin_msg_render(const struct admin_msg *m, const struct lang *l)
{
    const char *v[ADMIN_MSG_VARS] = {0};
    char date[128];

    if (m->key == NULL)
        return strdup(m->text);
    for (size_t i = 0; i < m->n; i++) {
        const char *word = admin_msg_word(l, m->names[i], m->values[i]);
        v[i] = word ? word : m->values[i];
        /* only one date per sentence: one buffer will do */
        if (l != NULL && strcmp(m->names[i], "date") == 0 &&
            lang_format_date(l, m->values[i], date, sizeof(date)) == 0)
            v[i] = date;
    }
    /* the names after the last are NULL: they end the list */
    return lang_phrase_fill(l, m->key, m->english, m->names[0], v[0], m->names[1], v[1],
                            m->names[2], v[2], m->names[3], v[3], m->names[4], v[4], NULL);
}

/* A number as a value of admin_say. */
#define ADMIN_NUM(buf, x) (snprintf(buf, sizeof(buf), "%lld", (long long)(x)), buf)

int
admin_member(struct store *st, const char *who, struct store_member *out)
{
    const char *digits = who[0] == '#' ? who + 1 : who;
    char *end = NULL;
    long long id;

    if (strchr(who, '@') != NULL)
        return store_member_get(st, who, out);
    id = strtoll(digits, &end, 10);
    if (digits[0] == '\0' || *end != '\0' || id <= 0)
        return 0;
    return store_pair_member(st, (int64_t)id, out);
}

/* Resolve who into m; CTL_OK, or CTL_NOT_FOUND / CTL_FAIL with msg set. */
static int
ctl_find(struct store *st, const char *who, struct store_member *m, struct admin_msg *msg)
{
    int found = admin_member(st, who, m);

    if (found < 0) {
        admin_fail(msg, "looking up %s: %s", who, store_errmsg(st));
        return CTL_FAIL;
    }
    if (found == 0 || strcmp(m->state, "left") == 0) {
        if (found)
            store_member_free(m);
        admin_msg_say(msg, "admin_no_member", "no member {member}", "member", who, NULL);
        return CTL_NOT_FOUND;
    }
    return CTL_OK;
}

static int ctl_log(struct store *st, const char *by, time_t now, struct admin_msg *msg,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
ctl_log(struct store *st, const char *by, time_t now, struct admin_msg *msg, const char *fmt, ...)
{
    char detail[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (store_event_add(st, now, "manager", by, NULL, detail) != 0) {
        admin_fail(msg, "recording '%s': %s", detail, store_errmsg(st));
        return CTL_FAIL;
    }
    log_ctx(LOG_LEVEL_INFO, NULL, by, "manager action: %s", detail);
    return CTL_OK;
}

static int
ctl_store_fail(struct store *st, const char *what, struct admin_msg *msg)
{
    admin_fail(msg, "%s: %s", what, store_errmsg(st));
    return CTL_FAIL;
}

/* Close a pair that is still open: active ends, a proposal expires.  1 moved, 0 not open. */
static int
ctl_close_pair(struct store *st, const struct store_pair *p, const char *reason, time_t now)
{
    int moved = 0;

    if (strcmp(p->state, "active") == 0)
        moved = store_pair_set_state(st, p->id, "active", "ended", now, 0, reason);
    else if (strcmp(p->state, "proposed") == 0)
        moved = store_pair_set_state(st, p->id, "proposed", "expired", now, 0, reason);
    if (moved <= 0)
        return moved;
    if (store_pair_unschedule(st, p->id, now, reason) < 0)
        return -1;
    /* The newcomer waits again, from their first pairing: they keep their place. */
    if (p->newcomer != 0 && store_pair_set_waiting(st, p->newcomer, p->created) != 0)
        return -1;
    return 1;
}

/* ---- match ---- */

static int
ctl_match_check(const struct store_member *n, const struct store_member *m, struct admin_msg *msg)
{
    if (strcmp(n->role, "newcomer") != 0 || strcmp(m->role, "mentor") != 0) {
        admin_msg_say(msg, "admin_match_roles",
                      "a match needs a newcomer and a mentor ({a} is a {a_role}, {b} a {b_role})",
                      "a", n->address, "a_role", n->role, "b", m->address, "b_role", m->role, NULL);
        return CTL_USAGE;
    }
    if (strcmp(n->state, "active") != 0 || strcmp(m->state, "active") != 0) {
        admin_msg_say(msg, "admin_match_states",
                      "both must be confirmed and not paused ({a} is {a_state}, {b} is {b_state})",
                      "a", n->address, "a_state", n->state, "b", m->address, "b_state", m->state,
                      NULL);
        return CTL_USAGE;
    }
    return CTL_OK;
}

/* The newcomer's open pairs: an active one refuses the match, proposals give way to it. */
static int
ctl_match_clear(struct store *st, const struct store_member *n, time_t now, struct admin_msg *msg)
{
    struct store_pair *v = NULL;
    size_t k = 0;
    int rc = CTL_OK;

    if (store_pair_list(st, n->id, NULL, &v, &k) != 0)
        return ctl_store_fail(st, "pairs of the newcomer", msg);
    for (size_t i = 0; i < k && rc == CTL_OK; i++) {
        if (v[i].newcomer != n->id)
            continue;
        if (strcmp(v[i].state, "active") == 0) {
            char num[24];
            admin_msg_say(msg, "admin_has_mentor",
                          "{member} already has a mentor (pair {pair}); unmatch first", "member",
                          n->address, "pair", ADMIN_NUM(num, v[i].id), NULL);
            rc = CTL_USAGE;
        } else if (ctl_close_pair(st, &v[i], "superseded", now) < 0) {
            rc = ctl_store_fail(st, "closing a proposal", msg);
        }
    }
    store_pairs_free(v, k);
    return rc;
}

static int
ctl_match_make(const struct config *cfg, struct store *st, const struct store_member *n,
               const struct store_member *m, const char *by, time_t now, struct admin_msg *msg)
{
    char ref[32], reasons[300], num[24];
    int64_t id = 0;
    time_t ends = cfg->lifecycle.length > 0 ? now + cfg->lifecycle.length : 0;
    int rc = ctl_match_clear(st, n, now, msg);

    if (rc != CTL_OK)
        return rc;
    snprintf(reasons, sizeof(reasons), "matched by hand (%s)", by);
    if (store_pair_add(st, n->id, m->id, "active", 0, reasons, now, ends, &id, ref, sizeof(ref)) !=
            0 ||
        store_pair_set_waiting(st, n->id, 0) != 0 ||
        store_event_add(st, now, "matched", m->address, NULL, ref) != 0)
        return ctl_store_fail(st, "making the pair", msg);
    if (lifecycle_pair_started(cfg, st, id, now) != 0) {
        admin_fail(msg, "introducing pair %lld failed (see the log)", (long long)id);
        return CTL_FAIL;
    }
    rc = ctl_log(st, by, now, msg, "match #%lld #%lld: pair %lld", (long long)n->id,
                 (long long)m->id, (long long)id);
    if (rc == CTL_OK)
        admin_msg_say(msg, "admin_matched",
                      "matched {newcomer} with mentor {mentor} (pair {pair}, ref {ref}); both are "
                      "introduced",
                      "newcomer", n->address, "mentor", m->address, "pair", ADMIN_NUM(num, id),
                      "ref", ref, NULL);
    return rc;
}

int
admin_match(const struct config *cfg, struct store *st, const char *a, const char *b,
            const char *by, time_t now, struct admin_msg *msg)
{
    struct store_member x, y;
    int rc = ctl_find(st, a, &x, msg);

    if (rc != CTL_OK)
        return rc;
    if ((rc = ctl_find(st, b, &y, msg)) != CTL_OK) {
        store_member_free(&x);
        return rc;
    }
    /* Either order: the newcomer is whichever is not the mentor. */
    int swap = strcmp(x.role, "mentor") == 0;
    const struct store_member *n = swap ? &y : &x, *m = swap ? &x : &y;
    rc = ctl_match_check(n, m, msg);
    if (rc == CTL_OK)
        rc = ctl_match_make(cfg, st, n, m, by, now, msg);
    store_member_free(&x);
    store_member_free(&y);
    return rc;
}

/* ---- block ---- */

int
admin_block(const struct config *cfg, struct store *st, const char *a, const char *b,
            const char *by, time_t now, struct admin_msg *msg)
{
    struct store_member x, y;
    int rc = ctl_find(st, a, &x, msg);

    (void)cfg;
    if (rc != CTL_OK)
        return rc;
    if ((rc = ctl_find(st, b, &y, msg)) != CTL_OK) {
        store_member_free(&x);
        return rc;
    }
    if (x.id == y.id) {
        admin_msg_say(msg, "admin_same_member", "{a} and {b} are the same member", "a", a, "b", b,
                      NULL);
        rc = CTL_USAGE;
    } else if (store_block_add(st, x.id, y.id, "manager", now) != 0) {
        rc = ctl_store_fail(st, "blocking", msg);
    } else {
        rc = ctl_log(st, by, now, msg, "block #%lld #%lld", (long long)x.id, (long long)y.id);
        if (rc == CTL_OK)
            admin_msg_say(msg, "admin_blocked",
                          "{a} and {b} will never be paired (a pair they have now is not ended: "
                          "unmatch it for that)",
                          "a", x.address, "b", y.address, NULL);
    }
    store_member_free(&x);
    store_member_free(&y);
    return rc;
}

/* ---- unmatch ---- */

/* The one open pair of a member; CTL_USAGE when there are several. */
static int
ctl_open_pair_of(struct store *st, const char *who, struct store_pair *out, struct admin_msg *msg)
{
    struct store_member m;
    struct store_pair *v = NULL;
    size_t k = 0, open = 0;
    int rc = ctl_find(st, who, &m, msg);

    if (rc != CTL_OK)
        return rc;
    if (store_pair_list(st, m.id, NULL, &v, &k) != 0) {
        store_member_free(&m);
        return ctl_store_fail(st, "pairs of the member", msg);
    }
    for (size_t i = 0; i < k; i++)
        if (strcmp(v[i].state, "active") == 0 || strcmp(v[i].state, "proposed") == 0)
            if (open++ == 0)
                rc = store_pair_get(st, v[i].id, out) == 1 ? CTL_OK : CTL_FAIL;
    if (open == 0) {
        admin_msg_say(msg, "admin_no_open_pair", "{member} has no open pair", "member", m.address,
                      NULL);
        rc = CTL_NOT_FOUND;
    } else if (open > 1) {
        if (rc == CTL_OK)
            store_pair_free(out);
        char num[24];
        admin_msg_say(msg, "admin_open_pairs", "{member} has {count} open pairs: give the pair id",
                      "member", m.address, "count", ADMIN_NUM(num, open), NULL);
        rc = CTL_USAGE;
    } else if (rc != CTL_OK) {
        admin_fail(msg, "reading the pair of %s: %s", m.address, store_errmsg(st));
    }
    store_pairs_free(v, k);
    store_member_free(&m);
    return rc;
}

static int
ctl_find_pair(struct store *st, const char *what, struct store_pair *p, struct admin_msg *msg)
{
    char *end = NULL;
    long long id = strtoll(what[0] == '#' ? what + 1 : what, &end, 10);
    int found;

    if (strchr(what, '@') != NULL)
        return ctl_open_pair_of(st, what, p, msg);
    if (what[0] != '\0' && *end == '\0' && id > 0)
        found = store_pair_get(st, (int64_t)id, p);
    else
        found = store_pair_by_ref(st, what, p);
    if (found < 0)
        return ctl_store_fail(st, "looking up the pair", msg);
    if (found == 0) {
        admin_msg_say(msg, "admin_no_pair", "no pair {pair}", "pair", what, NULL);
        return CTL_NOT_FOUND;
    }
    return CTL_OK;
}

int
admin_unmatch(const struct config *cfg, struct store *st, const char *what, const char *by,
              time_t now, struct admin_msg *msg)
{
    struct store_pair p;
    char num[24];
    int rc = ctl_find_pair(st, what, &p, msg);

    (void)cfg;
    if (rc != CTL_OK)
        return rc;
    int moved = ctl_close_pair(st, &p, "unmatched", now);
    if (moved < 0)
        rc = ctl_store_fail(st, "ending the pair", msg);
    else if (moved == 0) {
        admin_msg_say(msg, "admin_pair_closed", "pair {pair} is {pair_state} already", "pair",
                      ADMIN_NUM(num, p.id), "pair_state", p.state, NULL);
        rc = CTL_USAGE;
    } else {
        rc = ctl_log(st, by, now, msg, "unmatch pair %lld", (long long)p.id);
        if (rc == CTL_OK)
            admin_msg_say(msg, "admin_unmatched",
                          "pair {pair} ended; the newcomer is back on the waiting list", "pair",
                          ADMIN_NUM(num, p.id), NULL);
    }
    store_pair_free(&p);
    return rc;
}

/* ---- pause, resume ---- */

int
admin_pause(const struct config *cfg, struct store *st, const char *who, time_t until,
            const char *by, time_t now, struct admin_msg *msg)
{
    struct store_member m;
    int rc = ctl_find(st, who, &m, msg);
    char when[32] = "resumed";

    (void)cfg;
    if (rc != CTL_OK)
        return rc;
    if (until > 0) {
        struct tm tm;
        gmtime_r(&until, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d", &tm);
    }
    if (strcmp(m.state, "active") != 0 && strcmp(m.state, "paused") != 0) {
        admin_msg_say(msg, "admin_not_active", "{member} is {state}, not active", "member",
                      m.address, "state", m.state, NULL);
        rc = CTL_USAGE;
    } else if (store_member_set_state(st, m.address, "paused", until, now) < 0) {
        rc = ctl_store_fail(st, "pausing", msg);
    } else {
        rc = ctl_log(st, by, now, msg, "pause #%lld until %s", (long long)m.id, when);
        if (rc == CTL_OK) {
            if (until > 0)
                admin_msg_say(msg, "admin_paused", "{member} paused until {date}", "member",
                              m.address, "date", when, NULL);
            else
                admin_msg_say(msg, "admin_paused_open", "{member} paused until resumed", "member",
                              m.address, NULL);
        }
    }
    store_member_free(&m);
    return rc;
}

int
admin_resume(const struct config *cfg, struct store *st, const char *who, const char *by,
             time_t now, struct admin_msg *msg)
{
    struct store_member m;
    int rc = ctl_find(st, who, &m, msg);

    (void)cfg;
    if (rc != CTL_OK)
        return rc;
    if (strcmp(m.state, "paused") != 0) {
        admin_msg_say(msg, "admin_not_paused", "{member} is {state}, not paused", "member",
                      m.address, "state", m.state, NULL);
        rc = CTL_USAGE;
    } else if (store_member_set_state(st, m.address, "active", 0, now) < 0 ||
               (strcmp(m.role, "mentor") == 0 && store_member_set_last_break(st, m.id, now) < 0)) {
        rc = ctl_store_fail(st, "resuming", msg);
    } else {
        rc = ctl_log(st, by, now, msg, "resume #%lld", (long long)m.id);
        if (rc == CTL_OK)
            admin_msg_say(msg, "admin_resumed", "{member} is active again", "member", m.address,
                          NULL);
    }
    store_member_free(&m);
    return rc;
}

/* ---- remove ---- */

static int
ctl_close_all(struct store *st, const struct store_member *m, time_t now, int *closed)
{
    struct store_pair *v = NULL;
    size_t k = 0;
    int rc = 0;

    *closed = 0;
    if (store_pair_list(st, m->id, NULL, &v, &k) != 0)
        return -1;
    for (size_t i = 0; i < k && rc >= 0; i++) {
        rc = ctl_close_pair(st, &v[i], "removed", now);
        *closed += rc > 0;
    }
    store_pairs_free(v, k);
    return rc < 0 ? -1 : 0;
}

int
admin_remove(const struct config *cfg, struct store *st, const char *who, const char *by,
             time_t now, struct admin_msg *msg)
{
    struct store_member m;
    int rc = ctl_find(st, who, &m, msg), closed = 0;
    char addr[320], num[24];

    (void)cfg;
    if (rc != CTL_OK)
        return rc;
    snprintf(addr, sizeof(addr), "%s", m.address);
    if (ctl_close_all(st, &m, now, &closed) != 0 ||
        store_event_add(st, now, "left", NULL, NULL, "removed") != 0)
        rc = ctl_store_fail(st, "ending the member's pairs", msg);
    else
        rc = ctl_log(st, by, now, msg, "remove #%lld (%d open pairs ended)", (long long)m.id,
                     closed);
    /* Erasure last: the log lines above must not carry the address. */
    if (rc == CTL_OK && store_member_erase(st, addr) != 0)
        rc = ctl_store_fail(st, "erasing the member", msg);
    if (rc == CTL_OK)
        admin_msg_say(msg, "admin_removed",
                      "{member} removed and erased ({count} open pairs ended)", "member", addr,
                      "count", ADMIN_NUM(num, closed), NULL);
    store_member_free(&m);
    return rc;
}
