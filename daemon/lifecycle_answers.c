/*
 * lifecycle_answers: mail that answers a pairing (a reply by the pair's ref
 * that is not a command).  An answer to a check-in is recorded, worrying
 * ones are told to the managers and nudge the mentor; a mentor answers for
 * several mentees at once (mentees.c reads which); mail meant for the
 * partner gets a kind pointer to their address.  The text of answers is
 * read by checkin.c; the scheduled side of the programme is lifecycle.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alerts.h"
#include "checkin.h"
#include "lang.h"
#include "lifecycle.h"
#include "lifecycle_int.h"
#include "log.h"
#include "mentees.h"
#include "outbox.h"
#include "respond.h"

/* ---- answers to check-ins ---- */

/* A worrying answer: managers hear of it; from the mentee, the mentor is nudged first. */
static int
lc_worry(struct respond_ctx *c, const struct store_pair *p, const struct lifecycle_member *from,
         int from_mentor, const struct checkin_answer *a, const char *comment)
{
    struct lifecycle_member mentor, mentee;
    char rating[8];
    int rc = 0;

    int f1 = lifecycle_i_member_get(c->st, p->mentor, c->now, &mentor);
    int f2 = lifecycle_i_member_get(c->st, p->newcomer, c->now, &mentee);
    if (f1 < 0 || f2 < 0) {
        rc = -1;
        goto out;
    }
    snprintf(rating, sizeof(rating), "%d", a->rating);
    struct template_var v[] = {{"silent", NULL},
                               {"mentor", f1 ? mentor.m.address : "(erased)"},
                               {"newcomer", f2 ? mentee.m.address : "(erased)"},
                               {"rating", a->rating ? rating : NULL},
                               {"not_met", a->met == 0 ? "yes" : NULL},
                               {"comment", comment},
                               {"from", from->m.address}};
    rc = alerts_raise(c->cfg, c->st, v, 7, c->now);
    if (rc == 0)
        rc = store_event_add(c->st, c->now, "low-feedback", from->m.address, c->m->message_id,
                             a->met == 0 ? "not met" : rating);
    if (rc == 0 && !from_mentor && f1) {
        int pending = store_schedule_count(c->st, "rematch-offer", 0, p->id, NULL, 1);
        rc = pending < 0 ? -1 : lifecycle_i_want_reminder(c->cfg, c->st, &mentor, c->now);
        if (rc == 0 && pending == 0)
            rc = store_schedule_add(c->st, c->now + REMATCH_DELAY, "rematch-offer", p->newcomer,
                                    p->id, "feedback", c->now, NULL);
    }
out:
    if (f1 == 1)
        lifecycle_i_member_free(&mentor);
    if (f2 == 1)
        lifecycle_i_member_free(&mentee);
    return rc;
}

/* ---- mail meant for the partner ---- */

/*
 * The template of our mail that m answers: by In-Reply-To, else the newest of
 * References, else our newest mail to the sender with the conversation's ref.
 */
static int
lc_answered_template(struct respond_ctx *c, char *tmpl, size_t len)
{
    const struct mail *m = c->m;
    const char *last = m->references ? strrchr(m->references, ' ') : NULL;
    const char *id = m->in_reply_to ? m->in_reply_to : last ? last + 1 : m->references;

    tmpl[0] = '\0';
    if (id)
        return store_outbox_template_of(c->st, id, tmpl, len);
    /* A client that drops the threading headers: the Subject's [ref] tag and the sender. */
    return c->ref[0] ? store_outbox_template_by_ref(c->st, m->from_addr, c->ref, tmpl, len) : 0;
}

/* Whether m answers one of our introductions. */
static int
lc_answers_introduction(struct respond_ctx *c)
{
    char tmpl[64];
    int rc = lc_answered_template(c, tmpl, sizeof(tmpl));

    if (rc < 0)
        return -1;
    return rc == 1 && strstr(tmpl, "introduction") != NULL;
}

/*
 * Whether text greets another active mentee of the mentor of p by name: 1
 * (and *partner becomes that mentee), 0, or -1.
 */
static int
lc_greets_a_mentee(struct respond_ctx *c, const struct store_pair *p,
                   struct lifecycle_member *partner)
{
    struct store_pair *v = NULL;
    size_t n = 0;
    int rc = 0;

    if (store_pair_list(c->st, p->mentor, "active", &v, &n) != 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct lifecycle_member other;
        char first[64];
        if (v[i].mentor != p->mentor || v[i].id == p->id)
            continue;
        int found = lifecycle_i_member_get(c->st, v[i].newcomer, c->now, &other);
        if (found < 0) {
            rc = -1;
            break;
        }
        if (found == 0)
            continue;
        lang_address_name(other.m.name, first, sizeof(first));
        if (checkin_greets(c->text, first)) {
            lifecycle_i_member_free(partner);
            *partner = other;
            rc = 1;
        } else {
            lifecycle_i_member_free(&other);
        }
    }
    store_pairs_free(v, n);
    return rc;
}

/*
 * Mail a partner meant for the other but sent to us (a reply to the
 * introduction, or "Hi Bob, ..." in a pairing's thread) is no check-in answer:
 * it is answered with where to send it, and neither kept nor passed on (a
 * From: header proves nothing, so mentord relays no one's words).
 * 1 when so (answered), 0 when not, -1 on error.
 */
static int
lc_partner_mail(struct respond_ctx *c, const struct store_pair *p, int from_mentor)
{
    struct lifecycle_member partner;
    char first[64];
    int intro = lc_answers_introduction(c);

    if (intro < 0)
        return -1;
    int found =
        lifecycle_i_member_get(c->st, from_mentor ? p->newcomer : p->mentor, c->now, &partner);
    if (found <= 0)
        return found < 0 ? -1 : 0;
    lang_address_name(partner.m.name, first, sizeof(first));
    struct checkin_answer a;
    checkin_parse_answer(c->text, &a);
    /*
     * A rating is an answer to us wherever it was sent ("1, he never shows
     * up" in reply to the introduction); a greeting to the partner ("Hi Bob,",
     * "Hallo Bob", "Bonjour Bob") without one, or any other reply to the
     * introduction, was meant for them.  A number that is a time ("5 pm on
     * Thursday works", "um 17:30", "à 17h") is no rating.
     */
    int rated = (a.rating > 0 || (c->reading != NULL && c->reading->rating > 0)) &&
                !checkin_mentions_time(c->text);
    int greets = checkin_greets(c->text, first);
    if (!intro && !greets && from_mentor) {
        /* A mentor with several mentees may greet any of them in a thread about one. */
        int other = lc_greets_a_mentee(c, p, &partner);
        if (other < 0) {
            lifecycle_i_member_free(&partner);
            return -1;
        }
        greets = other;
    }
    int meant = !rated && (intro || greets);
    int rc = 0;
    if (meant) {
        struct template_var v[] = {
            {"partner_name", lifecycle_i_name_or(&partner, partner.m.address)},
            {"partner_address", partner.m.address},
            {"intro", intro ? "yes" : NULL}};
        snprintf(c->detail, c->detail_len, "meant for the partner in pair %lld; pointed there",
                 (long long)p->id);
        rc = respond_reply(c, "partner-pointer", v, 3, "reply", p->ref) != 0 ? -1 : 1;
    }
    lifecycle_i_member_free(&partner);
    return rc;
}

/* What one answer said about one pair. */
struct lc_said {
    struct checkin_answer a;
    int worry;
};

/*
 * Record text as from's answer about pair p: feedback, the unanswered count
 * reset, the event, help when it worries (managers, a reminder, later a new
 * mentor), milestones.  0 or -1.
 */
static int
lc_record_answer(struct respond_ctx *c, const struct store_pair *p,
                 const struct lifecycle_member *from, int from_mentor, const char *text,
                 int unrated, struct lc_said *said)
{
    char day[64] = "", rating[8];
    time_t sent = 0;
    char *comment = checkin_comment(text);
    int rc = -1;

    if (text == c->text)
        checkin_parse_answer(text, &said->a);
    else
        checkin_parse_part(text, &said->a);
    /*
     * The one reading ("4.", "8 op 10", "a solid seven") when the answer is the
     * whole mail; a mentor's line about one of several mentees is read here.
     */
    if (c->reading != NULL && text == c->text && c->reading->rating > 0)
        said->a.rating = c->reading->rating;
    if (unrated) { /* words kept for the managers, but whose rating is whose is not known */
        said->a.rating = 0;
        said->a.met = -1;
    }
    const struct checkin_answer *a = &said->a;
    int had = store_schedule_last_done(c->st, "checkin", from->m.id, p->id, "sent", &sent, day,
                                       sizeof(day));
    struct store_feedback fb = {
        .pair = p->id,
        .member = from->m.id,
        .role = from_mentor ? "mentor" : "newcomer",
        .at = c->now,
        .rating = a->rating,
        .met = a->met,
        .comment = comment,
        .checkin = strcmp(p->state, "active") != 0 ? "end"
                   : had == 1                      ? day
                                                   : NULL,
    };
    snprintf(rating, sizeof(rating), "%d", a->rating);
    said->worry = a->met == 0 || (a->rating > 0 && a->rating <= 2);
    if (had < 0 || store_feedback_add(c->st, &fb, NULL) != 0 ||
        store_member_unanswered_reset(c->st, from->m.id) < 0 ||
        respond_event(c, "feedback",
                      a->rating     ? rating
                      : a->met == 0 ? "not met"
                                    : NULL) != 0)
        goto out;
    if (said->worry && lc_worry(c, p, from, from_mentor, a, comment) != 0)
        goto out;
    if (!from_mentor && a->rating > 0 && lifecycle_i_milestones(c->st, p->mentor, c->now) != 0)
        goto out;
    rc = 0;
out:
    free(comment);
    return rc;
}

/* The rating a piece of an answer gives: how mentees.c tells "4, 2" from "going well, 4". */
static int
lc_rating_in(const char *text, size_t len)
{
    char *s = strndup(text, len);
    struct checkin_answer a;

    if (s == NULL)
        return 0;
    checkin_parse_part(s, &a);
    free(s);
    return a.rating;
}

/* When the last check-in about pair was sent to member (0 when none, -1 on error). */
static time_t
lc_checkin_sent(struct respond_ctx *c, int64_t member, int64_t pair)
{
    time_t asked = 0;
    int had = store_schedule_last_done(c->st, "checkin", member, pair, "sent", &asked, NULL, 0);

    return had < 0 ? -1 : had == 1 ? asked : 0;
}

/*
 * The pairs a mentor's answer is about: p, and the mentor's other active
 * pairs whose last check-in they have not answered.  The ones asked about in
 * p's check-in mail come first, in pairing order (the mail's numbers 1, 2,
 * ...; *numbered of them), then older unanswered ones.  Returns how many of
 * the *n in *v, or -1; the caller frees all *n.
 */
static int
lc_answer_pairs(struct respond_ctx *c, const struct store_pair *p,
                const struct lifecycle_member *from, struct store_pair **v, size_t *n,
                size_t *numbered)
{
    time_t batch = lc_checkin_sent(c, from->m.id, p->id), asked[MENTEES_MAX];
    size_t keep = 0;

    *numbered = 0;
    if (batch < 0 || store_pair_list(c->st, from->m.id, "active", v, n) != 0)
        return -1;
    for (size_t i = 0; i < *n && keep < MENTEES_MAX; i++) {
        time_t answered = 0, at = lc_checkin_sent(c, from->m.id, (*v)[i].id);
        int gave = at > 0 ? store_feedback_last(c->st, (*v)[i].id, from->m.id, &answered) : 0;
        if (at < 0 || gave < 0)
            return -1;
        int outstanding = (*v)[i].mentor == from->m.id && at > 0 && !(gave == 1 && answered >= at);
        if ((*v)[i].id == p->id || outstanding) {
            struct store_pair t = (*v)[keep];
            (*v)[keep] = (*v)[i];
            (*v)[i] = t;
            asked[keep++] = at;
        }
    }
    /* In the mail first, then by pairing (store_pair_list's order may be any). */
    for (size_t i = 1; i < keep; i++)
        for (size_t j = i; j > 0; j--) {
            int a = batch > 0 && asked[j - 1] == batch, b = batch > 0 && asked[j] == batch;
            if (a > b || (a == b && (*v)[j - 1].id < (*v)[j].id))
                break;
            struct store_pair t = (*v)[j];
            time_t ta = asked[j];
            (*v)[j] = (*v)[j - 1];
            asked[j] = asked[j - 1];
            (*v)[j - 1] = t;
            asked[j - 1] = ta;
        }
    for (size_t i = 0; i < keep; i++)
        *numbered += batch > 0 && asked[i] == batch;
    return (int)keep;
}

/* The mentees of v[0..n) as mentees.c reads them; names and addresses copied into names[]. */
struct lc_mentees {
    struct mentees_who who[MENTEES_MAX];
    char first[MENTEES_MAX][64];
    char address[MENTEES_MAX][256];
};

static int
lc_mentees_load(struct respond_ctx *c, const struct store_pair *v, size_t n, size_t numbered,
                struct lc_mentees *w)
{
    for (size_t i = 0; i < n; i++) {
        struct lifecycle_member mentee;
        int got = lifecycle_i_member_get(c->st, v[i].newcomer, c->now, &mentee);
        if (got < 0)
            return -1;
        w->first[i][0] = w->address[i][0] = '\0';
        if (got == 1) {
            snprintf(w->first[i], sizeof(w->first[i]), "%s", mentee.first);
            snprintf(w->address[i], sizeof(w->address[i]), "%s", mentee.m.address);
            lifecycle_i_member_free(&mentee);
        }
        w->who[i].name = w->first[i];
        w->who[i].address = w->address[i];
        w->who[i].number = i < numbered ? (int)i + 1 : 0;
    }
    return 0;
}

/*
 * An answer about several mentees that cannot be told apart ("4, 2"): one
 * easy question back, the mentees numbered as in the check-in.  Nothing is
 * recorded yet; the answer to this question is read the same way.
 */
static int
lc_ask_which(struct respond_ctx *c, const struct store_pair *p, const struct lc_mentees *w,
             size_t n)
{
    char *list = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&list, &size);

    if (f == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s  %zu. %s", i ? "\n" : "", i + 1,
                w->first[i][0] ? w->first[i] : w->address[i]);
    if (fclose(f) != 0) {
        free(list);
        return -1;
    }
    struct template_var v[] = {
        {"mentees", list}, {"example", w->first[0][0] ? w->first[0] : NULL}, {"ref", p->ref}};
    snprintf(c->detail, c->detail_len, "an answer about %zu mentees, unclear which is whose; asked",
             n);
    int rc = respond_event(c, "checkin-unclear", NULL);
    if (rc == 0)
        rc = respond_reply(c, "checkin-unclear", v, 3, "reply", p->ref);
    free(list);
    return rc;
}

/*
 * A mentor's answer about the n mentees of v: split per mentee (mentees.c)
 * and each part recorded for its pair; *first gets what was said about p (or
 * the first part).  1 when the answer was unclear and a question went back,
 * 0 when recorded, -1 on error.  n == 0 records nothing.
 */
static int
lc_record_several(struct respond_ctx *c, const struct store_pair *p,
                  const struct lifecycle_member *from, const struct store_pair *v, size_t n,
                  size_t numbered, const char *tmpl, struct lc_said *first, int *worry)
{
    struct lc_mentees w = {0};
    struct mentees_part parts[MENTEES_MAX];
    int again = strcmp(tmpl, "checkin-unclear") == 0;
    int asked = again || strcmp(tmpl, "checkin-batch") == 0;

    if (lc_mentees_load(c, v, n, again ? n : asked ? numbered : 0, &w) != 0)
        return -1;
    enum mentees_kind kind = mentees_split(c->text, w.who, n, lc_rating_in, parts);
    /* Only an answer to a check-in about several, or one naming them, is about several. */
    if (!asked && kind != MENTEES_SPLIT)
        return 2;
    if (kind == MENTEES_UNCLEAR && !again)
        return lc_ask_which(c, p, &w, n) != 0 ? -1 : 1;
    for (size_t i = 0; i < n; i++) {
        struct lc_said said = {0};
        if (kind == MENTEES_SPLIT && !parts[i].given)
            continue; /* the answer names others, not this one */
        char *part = kind == MENTEES_SPLIT ? strndup(parts[i].text, parts[i].len) : NULL;
        if (kind == MENTEES_SPLIT && part == NULL)
            return -1;
        /* Asked once already and still unclear: the words are kept, no rating guessed. */
        int rc = lc_record_answer(c, &v[i], from, 1, part ? part : c->text, kind == MENTEES_UNCLEAR,
                                  &said);
        free(part);
        if (rc != 0)
            return -1;
        *worry |= said.worry;
        if (v[i].id == p->id || first->a.rating == 0)
            *first = said;
    }
    return 0;
}

int
lifecycle_checkin_reply(struct respond_ctx *c, int64_t pair)
{
    struct store_pair p, *v = NULL;
    struct lifecycle_member from;
    struct lc_said first = {0};
    size_t all = 0, numbered = 0;
    int rc = -1, worry = 0;

    int found = store_pair_get(c->st, pair, &p);
    if (found <= 0)
        return found < 0 ? -1 : 1;
    int mfound = lifecycle_i_member_get_by_address(c, &from);
    if (mfound <= 0 || (from.m.id != p.mentor && from.m.id != p.newcomer)) {
        if (mfound == 1)
            lifecycle_i_member_free(&from);
        store_pair_free(&p);
        return mfound < 0 ? -1 : 1; /* not one of the pair: not about this pairing */
    }
    int from_mentor = from.m.id == p.mentor;
    int meant = lc_partner_mail(c, &p, from_mentor);
    if (meant != 0) {
        lifecycle_i_member_free(&from);
        store_pair_free(&p);
        return meant < 0 ? -1 : 0;
    }
    /*
     * A mentor answers for every mentee their check-in asked about, by number
     * or by name; an answer that names none of them is about all of them.
     */
    int several = from_mentor && strcmp(p.state, "active") == 0
                      ? lc_answer_pairs(c, &p, &from, &v, &all, &numbered)
                      : 0;
    if (several < 0)
        goto out;
    char tmpl[64] = "";
    if (several > 1 && lc_answered_template(c, tmpl, sizeof(tmpl)) < 0)
        goto out;
    int split = several > 1 ? lc_record_several(c, &p, &from, v, (size_t)several, numbered, tmpl,
                                                &first, &worry)
                            : 2;
    if (split < 0)
        goto out;
    if (split == 1) {
        rc = 0; /* unclear: asked which is whose */
        goto out;
    }
    if (split == 2) {
        if (lc_record_answer(c, &p, &from, from_mentor, c->text, 0, &first) != 0)
            goto out;
        worry = first.worry;
    }
    char rating[8];
    snprintf(rating, sizeof(rating), "%d", first.a.rating);
    struct template_var tv[] = {{"rating", first.a.rating ? rating : NULL},
                                {"not_met", first.a.met == 0 ? "yes" : NULL},
                                {"worry", worry ? "yes" : NULL},
                                {"is_mentor", from_mentor ? "yes" : NULL},
                                {"ref", p.ref}};
    snprintf(c->detail, c->detail_len, "feedback on pair %lld%s: %s%s", (long long)p.id,
             split == 0 ? " and the mentor's other mentees" : "",
             first.a.rating ? rating : "no rating", first.a.met == 0 ? ", not met" : "");
    /* A thank-you that tells nothing new is one more mail to read: only on request. */
    const char *thanks = c->cfg->lifecycle.thanks;
    if (!worry && !(thanks && strcmp(thanks, "always") == 0))
        rc = 0;
    else
        rc = respond_reply(c, "feedback-thanks", tv, 5, "reply", p.ref);
out:
    if (v)
        store_pairs_free(v, all);
    lifecycle_i_member_free(&from);
    store_pair_free(&p);
    return rc;
}
