/*
 * reading: one mail to one reading, without side effects.
 *
 * The steps: classify (automatic mail is only recorded), the sender, the
 * size cap, the person's own text (reply.h: quotes and forwards removed),
 * profile lines, then what they want: a command word where the grammar of
 * command.h finds one, else the phrases of intent.h, weighed with what is
 * known of the sender (a reply to a proposal, to a check-in, a stranger).
 */
#include "reading.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose.h"
#include "reply.h"
#include "skills.h"

/* Weights of a command word found by the strict grammar (command.h). */
#define W_COMMAND_BODY 10
#define W_COMMAND_SUBJECT 4
/* An intent needs this much to be acted on. */
#define W_ENOUGH 2
/* Leaving or pausing in a reply to a proposal or check-in needs this much. */
#define W_STRONG 6
/* Only so much of a person's text is read for sentences: what people write is short. */
#define PROSE_MAX (32 * 1024)

static void reading_why(struct reading *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reading_why(struct reading *r, const char *fmt, ...)
{
    va_list ap;

    if (r->n_why >= READING_MAX_WHY)
        return;
    va_start(ap, fmt);
    vsnprintf(r->why[r->n_why++], sizeof r->why[0], fmt, ap);
    va_end(ap);
}

const char *
reading_intent_name(const struct reading *r)
{
    switch (r->intent) {
    case INTENT_NONE:
    case INTENT_QUESTION:
    case INTENT_HELP:
        return "question_or_other";
    default:
        return intent_name(r->intent);
    }
}

/* ---- plus-addresses ---- */

/*
 * Does the address at p (inside a header value that starts at v) read
 * LOCAL+DETAIL@DOMAIN for the community address?  Copies DETAIL when it does.
 */
int
reading_plus_detail(const char *addr, const char *v, const char *p, char *detail, size_t len)
{
    const char *at = strchr(addr, '@');
    size_t local = at ? (size_t)(at - addr) : 0;
    size_t n = strcspn(p + 1, "@ \t<>,;\"");

    if (at == NULL || (size_t)(p - v) < local || strncasecmp(p - local, addr, local) != 0)
        return 0;
    if (p - local > v && strchr(" \t<,:\"", p[-(ptrdiff_t)local - 1]) == NULL)
        return 0; /* "xmentors+join@" is somebody else */
    if (n == 0 || n >= len || p[1 + n] != '@' ||
        strncasecmp(p + 2 + n, at + 1, strlen(at + 1)) != 0)
        return 0;
    memcpy(detail, p + 1, n);
    detail[n] = '\0';
    return 1;
}

/*
 * The command named by a plus-address (mentors+join@...), when [programme]
 * plus_addressing is on: looks at Delivered-To, X-Original-To, To and Cc.
 * Returns 1 with cmd, *header (which header said it) and detail filled.
 */
static int
reading_address_command(const struct config *cfg, const struct mail *m, struct command *cmd,
                        const char **header, char *detail, size_t detail_len)
{
    static const char *const headers[] = {"Delivered-To", "X-Original-To", "To", "Cc"};

    if (!cfg->programme.plus_addressing || cfg->community.address == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        const char *v = mail_header(m, headers[i]);
        for (const char *p = v ? strchr(v, '+') : NULL; p; p = strchr(p + 1, '+'))
            if (reading_plus_detail(cfg->community.address, v, p, detail, detail_len) &&
                command_from_detail(detail, cmd)) {
                if (header)
                    *header = headers[i];
                return 1;
            }
    }
    return 0;
}

/* ---- intents ---- */

/*
 * A command and the intent of the same name (the intent tables name their
 * sections as command_table.h names commands); NONE when there is none.
 */
static enum intent_kind
intent_of_command(enum command_kind k)
{
    for (int i = INTENT_NONE + 1; k != COMMAND_NONE && i < INTENT_COUNT; i++)
        if (strcmp(intent_name((enum intent_kind)i), command_name(k)) == 0)
            return (enum intent_kind)i;
    return INTENT_NONE;
}

static enum command_kind
command_of_intent(enum intent_kind k)
{
    for (size_t i = 0; k != INTENT_NONE && i < command_n_defs; i++)
        if (!command_defs[i].manager && strcmp(command_defs[i].name, intent_name(k)) == 0)
            return command_defs[i].kind;
    return COMMAND_NONE;
}

/* The role a wish to take part names: join, mentor, or unclear; its strength. */
static enum intent_kind
reading_role(const struct intent_scores *s, int *strength)
{
    int j = s->score[INTENT_JOIN], m = s->score[INTENT_MENTOR];
    int e = s->score[INTENT_EITHER], p = s->score[INTENT_TAKE_PART];

    *strength = j > m ? j : m;
    if (e >= 5) {
        *strength = e;
        return INTENT_UNCLEAR_ROLE;
    }
    if (j >= W_ENOUGH && m >= W_ENOUGH) {
        if (j >= m + 2)
            return INTENT_JOIN;
        if (m >= j + 2)
            return INTENT_MENTOR;
        return INTENT_UNCLEAR_ROLE;
    }
    if (j >= W_ENOUGH && j >= p)
        return INTENT_JOIN;
    if (m >= W_ENOUGH && m >= p)
        return INTENT_MENTOR;
    if (j + m + p >= W_ENOUGH) {
        *strength = j + m + p;
        return INTENT_UNCLEAR_ROLE;
    }
    *strength = 0;
    return INTENT_NONE;
}

/* The strongest of the intents that act on one's membership. */
static enum intent_kind
reading_strongest(const struct intent_scores *s, int *best)
{
    static const enum intent_kind order[] = {INTENT_LEAVE,  INTENT_PAUSE, INTENT_RESUME,
                                             INTENT_STATUS, INTENT_DONE,  INTENT_REMATCH,
                                             INTENT_HELP};
    enum intent_kind k = INTENT_NONE;

    *best = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (s->score[order[i]] > *best) {
            *best = s->score[order[i]];
            k = order[i];
        }
    return k;
}

/* A reply to a proposal: yes, no, or (strongly said) a break or leaving. */
static void
reading_proposal(struct reading *r, const struct intent_scores *s)
{
    int a = s->score[INTENT_ACCEPT], d = s->score[INTENT_DECLINE], best;
    enum intent_kind k = reading_strongest(s, &best);

    /* an explicit wish to leave or pause wins; it also answers the proposal */
    if ((k == INTENT_LEAVE || k == INTENT_PAUSE) && best >= W_STRONG &&
        ((best >= a && best >= d) || best >= W_STRONG + 1)) {
        r->intent = k;
        reading_why(r, "a reply to a proposal, but it asks to %s (\"%s\")", intent_name(k),
                    s->evidence[k]);
        return;
    }
    if (a == 0 && d == 0) {
        r->intent = INTENT_NONE;
        r->ask = READING_ASK_PROPOSAL;
        reading_why(r, "a reply to a proposal without a yes or a no: ask again, plainly");
        return;
    }
    r->intent = a > d ? INTENT_ACCEPT : INTENT_DECLINE;
    r->confidence = (a > d ? a - d : d - a) >= 4 ? 90 : 60;
    reading_why(r, "a reply to a proposal: %s (\"%s\"; yes %d, no %d)", intent_name(r->intent),
                s->evidence[r->intent], a, d);
}

/* A reply to a check-in: a rating, unless it strongly asks for something else. */
static void
reading_checkin(struct reading *r, const struct intent_scores *s)
{
    int best;
    enum intent_kind k = reading_strongest(s, &best);

    if ((k == INTENT_LEAVE || k == INTENT_PAUSE || k == INTENT_RESUME || k == INTENT_REMATCH ||
         k == INTENT_DONE) &&
        best >= W_STRONG) {
        r->intent = k;
        reading_why(r, "a reply to a check-in that asks to %s (\"%s\")", intent_name(k),
                    s->evidence[k]);
        return;
    }
    r->intent = INTENT_RATING;
    r->confidence = r->rating ? 90 : 50;
    if (r->rating)
        reading_why(r, "a reply to a check-in: rating %d", r->rating);
    else
        reading_why(r, "a reply to a check-in without a rating: kept as a comment");
}

/* Everything else: a new mail, or a reply to something that asks no answer. */
static void
reading_open(struct reading *r, const struct intent_scores *s, const struct reading_context *ctx)
{
    int best, role_strength;
    enum intent_kind k = reading_strongest(s, &best);
    enum intent_kind role = reading_role(s, &role_strength);
    int stranger = !ctx->member;

    if (role == INTENT_JOIN && ctx->member && s->question && best < role_strength &&
        strstr(s->evidence[INTENT_JOIN], "mentor") != NULL) {
        /* a member asking for a mentor ("When will I get a mentor?") asks where things stand */
        r->intent = INTENT_STATUS;
        r->confidence = 60;
        reading_why(r, "a member asks about a mentor: where things stand (\"%s\")",
                    s->evidence[INTENT_JOIN]);
        return;
    }
    if ((role == INTENT_MENTOR || role == INTENT_JOIN) && ctx->member &&
        (ctx->paused || (s->score[INTENT_RESUME] > 0 && !r->cmd.from_subject)) &&
        k != INTENT_LEAVE && k != INTENT_PAUSE) {
        /* a member who can mentor "again", or a paused one who wants to take part, comes back */
        r->intent = INTENT_RESUME;
        r->confidence = 60;
        reading_why(r, "a member who wants to take part again: resume");
        return;
    }
    if (ctx->open_proposals > 0 && (role == INTENT_MENTOR || role == INTENT_JOIN) &&
        (s->score[INTENT_ACCEPT] > 0 || s->score[INTENT_DECLINE] > 0)) {
        /* A mentor with a proposal open who writes a new mail "Yes, I'd be happy to mentor
         * her!" answers that proposal: they already are a mentor, so it is no new request. */
        reading_proposal(r, s);
        return;
    }
    if (role != INTENT_NONE && role_strength > best && !(s->question && role_strength < 4)) {
        r->intent = role;
        r->confidence = role == INTENT_UNCLEAR_ROLE ? 50 : role_strength >= 6 ? 90 : 70;
        if (role == INTENT_UNCLEAR_ROLE)
            r->ask = READING_ASK_ROLE;
        reading_why(r, "wants to take part: %s (mentee %d \"%s\", mentor %d \"%s\")",
                    intent_name(role), s->score[INTENT_JOIN], s->evidence[INTENT_JOIN],
                    s->score[INTENT_MENTOR], s->evidence[INTENT_MENTOR]);
        return;
    }
    if (k != INTENT_NONE && best >= W_ENOUGH) {
        r->intent = k;
        r->confidence = best >= 6 ? 90 : 60;
        reading_why(r, "%s (\"%s\")", intent_name(k), s->evidence[k]);
        return;
    }
    if (ctx->open_proposals > 0 && (s->score[INTENT_ACCEPT] > 0 || s->score[INTENT_DECLINE] > 0)) {
        reading_proposal(r, s);
        return;
    }
    /* a new mail is a rating only when written as one: digits, "4/5", stars */
    if (ctx->open_pairs == 1 && r->rating > 0 && r->rating_how != NULL &&
        strcmp(r->rating_how, "a number word") != 0 &&
        strcmp(r->rating_how, "a word that rates") != 0) {
        r->intent = INTENT_RATING;
        r->confidence = 70;
        reading_why(r,
                    "a rating (%d) sent as a new mail: it belongs to the sender's one open "
                    "pair",
                    r->rating);
        return;
    }
    if (stranger && !ctx->pending_confirm && r->profile.n_fields > 0 && best < W_ENOUGH) {
        /* A stranger who writes about themselves wants to take part: keep it, ask the role. */
        r->intent = INTENT_UNCLEAR_ROLE;
        r->ask = READING_ASK_ROLE;
        r->confidence = 40;
        reading_why(r, "a stranger's profile lines without a request: kept, and the role asked");
        return;
    }
    if (stranger && !s->question && s->score[INTENT_QUESTION] == 0 &&
        s->score[INTENT_TAKE_PART] > 0) {
        r->intent = INTENT_UNCLEAR_ROLE;
        r->ask = READING_ASK_ROLE;
        r->confidence = 40;
        reading_why(r, "a first mail about the programme that names no role: ask which");
        return;
    }
    r->intent = s->question ? INTENT_QUESTION : INTENT_NONE;
    reading_why(r, "%s", s->question ? "a question for a person" : "no wish recognised");
}

/*
 * The answer to "Reply 1 or 2": the text starts with "1" or "2", perhaps
 * after "option", "number", "#" ("Option 2", "#1", "2 - a mentor please").
 */
static char
reading_role_answer(const char *text)
{
    static const char *const leads[] = {"option",  "opción", "opcion", "opção",  "opcao",
                                        "opzione", "optie",  "number", "nummer", "número",
                                        "numero",  "nr",     "no.",    "#"};
    const char *p = text + strspn(text, " \t\r\n\"'*");
    for (size_t i = 0; i < sizeof leads / sizeof leads[0]; i++) {
        size_t l = strlen(leads[i]);
        if (strncasecmp(p, leads[i], l) == 0) {
            p += l;
            p += strspn(p, " :.");
            break;
        }
    }
    if ((p[0] == '1' || p[0] == '2') && (p[1] == '\0' || strchr(" \t\r\n.,!):-", p[1])))
        return p[0];
    return 0;
}

/*
 * The Subject the phrases are read in, before the text, when it is the
 * person's own: "" for a reply.  malloc'd; NULL when there is none.
 */
static char *
reading_phrase_subject(const struct mail *m)
{
    char ref[COMMAND_TOKEN_LEN + 1];
    /* a reply, or our own Subject with its [ref] tag, says our words, not theirs */
    int reply = m->in_reply_to != NULL || m->references != NULL ||
                (m->subject != NULL && command_find_ref(m->subject, ref));
    char *subject = command_strip_prefixes(m->subject);

    if (subject != NULL && reply)
        subject[0] = '\0'; /* a reply's "Re: ..." is our own Subject coming back */
    return subject;
}

static void
reading_command(const struct config *cfg, const struct mail *m, struct reading *r)
{
    char detail[32];

    if (reading_address_command(cfg, m, &r->cmd, &r->address_header, detail, sizeof detail))
        return;
    command_parse(m->subject, r->text, &r->cmd);
    if (r->cmd.kind == COMMAND_CONFIRM && r->cmd.token[0] == '\0' && r->cmd.from_subject) {
        /* "Subject: confirm" with "confirm TOKEN" in the body: take the token. */
        struct command body;
        command_parse(NULL, r->text, &body);
        if (body.kind == COMMAND_CONFIRM)
            memcpy(r->cmd.token, body.token, sizeof r->cmd.token);
    }
}

/* A command word that settles the matter on its own (address, body, or an exact one). */
static int
reading_command_decides(const struct reading *r, const struct reading_context *ctx)
{
    const struct command *c = &r->cmd;

    if (c->kind == COMMAND_NONE)
        return 0;
    /* A command no plain words ask for (no intent of its name) is its word alone. */
    if (c->from_address || c->kind == COMMAND_CONFIRM || intent_of_command(c->kind) == INTENT_NONE)
        return 1;
    /* "Capacity: 2" from a stranger is a profile line beside their wish, not a command */
    if (c->kind == COMMAND_CAPACITY)
        return ctx->member;
    if ((c->kind == COMMAND_ACCEPT || c->kind == COMMAND_DECLINE) && !ctx->answers_proposal &&
        ctx->open_proposals == 0)
        return 1; /* "yes"/"no" alone: the pairing code reads it as before */
    /* "Help me find a mentor" asks for a mentor: HELP is weighed with the rest */
    return !c->from_subject && c->kind != COMMAND_MENTOR && c->kind != COMMAND_JOIN &&
           c->kind != COMMAND_HELP;
}

/*
 * How much a command word found by the strict grammar counts.  In the text
 * it is a command; in the Subject it may be a topic ("Subject: Mentor" over
 * "I need a mentor"), so it counts a little, more when it is the whole
 * Subject ("STATUS"), and the noun "mentor" least of all.
 */
static int
reading_command_weight(const struct mail *m, const struct command *c)
{
    if (!c->from_subject)
        return c->kind == COMMAND_HELP ? 3 : W_COMMAND_BODY;
    char *s = command_strip_prefixes(m->subject);
    int whole = s != NULL && strchr(s, ' ') == NULL;
    free(s);
    if (c->kind == COMMAND_MENTOR)
        return whole ? 2 : 1; /* "mentor" is as often the topic as the wish */
    if (c->kind == COMMAND_JOIN)
        return 3;
    return whole ? W_COMMAND_SUBJECT : 2;
}

static void
reading_intent(const struct config *cfg, const struct mail *m, const struct reading_context *ctx,
               struct reading *r)
{
    struct intent_scores s;

    reading_command(cfg, m, r);
    r->rating = intent_rating(r->prose, &r->rating_how);
    r->capacity = intent_capacity(r->prose);
    if (reading_command_decides(r, ctx)) {
        r->intent = intent_of_command(r->cmd.kind);
        r->confidence = 100;
        reading_why(r, "the command \"%s\" (in the %s)", command_name(r->cmd.kind),
                    r->cmd.from_address   ? "address"
                    : r->cmd.from_subject ? "subject"
                                          : "text");
        return;
    }
    /* the phrases in "Subject\ntext"; the text's words are read once for them and the rating */
    char *subject = reading_phrase_subject(m);
    if (subject != NULL)
        intent_score_parts(subject, r->prose, &s);
    else
        intent_score(r->prose, &s);
    free(subject);
    if (r->cmd.kind != COMMAND_NONE) {
        enum intent_kind k = intent_of_command(r->cmd.kind);
        s.score[k] += reading_command_weight(m, &r->cmd);
        if (s.evidence[k][0] == '\0')
            snprintf(s.evidence[k], sizeof s.evidence[k], "%s", command_name(r->cmd.kind));
    }
    if (ctx->answers_confirm && !ctx->pending_role) {
        int best;
        enum intent_kind k = reading_strongest(&s, &best);
        if (s.score[INTENT_DECLINE] >= 4 && s.score[INTENT_ACCEPT] < s.score[INTENT_DECLINE]) {
            /* "No, I never signed up": nothing is confirmed; the request expires by itself */
            r->intent = INTENT_NONE;
            r->confidence = 60;
            r->refuses_confirm = 1;
            reading_why(r, "a no to the open confirmation mail (\"%s\"): nothing is confirmed",
                        s.evidence[INTENT_DECLINE]);
            return;
        }
        if (!(k == INTENT_LEAVE && best >= W_STRONG)) {
            /* A plain reply to the confirmation mail confirms: that is what it asks for. */
            r->intent = INTENT_CONFIRM;
            r->confidence = 90;
            reading_why(r, "a reply to the open confirmation mail: it confirms");
            return;
        }
    }
    if (ctx->answers_proposal)
        reading_proposal(r, &s);
    else if (ctx->answers_checkin)
        reading_checkin(r, &s);
    else
        reading_open(r, &s, ctx);
    if (r->confidence == 0)
        r->confidence = 30;
}

/* The command the daemon acts on, from the intent (arguments read from the text). */
static void
reading_settle(struct reading *r, const struct reading_context *ctx)
{
    enum command_kind k = command_of_intent(r->intent);

    if (r->intent == INTENT_NONE && intent_of_command(r->cmd.kind) == INTENT_NONE)
        k = r->cmd.kind; /* decided by its word (reading_command_decides) */
    if (r->cmd.kind != k) {
        int from_subject = r->cmd.from_subject;
        memset(&r->cmd, 0, sizeof r->cmd);
        r->cmd.kind = k;
        r->cmd.number = -1;
        r->cmd.from_subject = from_subject && k != COMMAND_NONE;
    }
    if (r->intent == INTENT_PAUSE) {
        if (r->cmd.number <= 0)
            r->cmd.number = intent_pause_weeks(r->prose ? r->prose : "", ctx->now);
        r->pause_weeks = r->cmd.number > 0 ? r->cmd.number : 0;
    }
}

/*
 * A wish to take part keeps what the prose told (the confirmation shows it,
 * so a wrong guess is seen and corrected); "Key: value" lines win over it,
 * and a mentor's "two mentees at a time" is their capacity.
 */
static int
reading_take_told(struct reading *r)
{
    struct profile merged;

    if (profile_parse("", &merged) != 0)
        return -1;
    profile_merge(&merged, &r->told);
    profile_merge(&merged, &r->profile);
    if (r->intent == INTENT_MENTOR && merged.capacity < 0 && r->capacity > 0 && r->capacity <= 20)
        merged.capacity = r->capacity;
    merged.n_fields = (merged.name != NULL) + (merged.n_skills > 0) + (merged.n_languages > 0) +
                      (merged.timezone != NULL) + (merged.n_goals > 0) + (merged.capacity >= 0) +
                      (merged.availability >= 0);
    /* the lines not understood stay with the reading's profile: move them over */
    merged.problems = r->profile.problems;
    merged.n_problems = r->profile.n_problems;
    r->profile.problems = NULL;
    r->profile.n_problems = 0;
    profile_free(&r->profile);
    r->profile = merged;
    return 0;
}

/*
 * A first mail's Subject may be where the skill is named ("A mentor for
 * learning Linux please", with an empty body): read for skills when the text
 * named none.  A reply's Subject is the one mentord wrote, never read.
 */
static int
reading_subject_skills(const struct mail *m, struct reading *r)
{
    if (r->told.n_skills > 0 || r->profile.n_skills > 0 || m->subject == NULL ||
        m->in_reply_to != NULL || m->references != NULL)
        return 0;
    return skills_from_prose(m->subject, NULL, 20, 40, &r->told.skills, &r->told.n_skills);
}

static int
reading_person(const struct config *cfg, const struct mail *m, size_t size,
               const struct reading_context *ctx, struct reading *r)
{
    enum reply_origin origin = REPLY_OWN;

    if (m->from_addr == NULL || !compose_address_ok(m->from_addr)) {
        r->kind = READING_NO_SENDER;
        reading_why(r, "From: %s is not a usable address; recorded, not answered",
                    m->from_addr ? m->from_addr : "(missing)");
        return 0;
    }
    if (size > (size_t)cfg->limits.max_message_size) {
        r->kind = READING_TOO_LARGE;
        reading_why(r, "%zu bytes is over [limits] max_message_size (%d): not read", size,
                    cfg->limits.max_message_size);
        return 0;
    }
    char *text = reply_read(m->text, &origin);
    if (text == NULL)
        return -1;
    if (origin == REPLY_SENT_ALONG) {
        /* Someone else's words: shown, never read. */
        r->sent_along = text;
        text = strdup("");
        if (text == NULL)
            return -1;
    }
    r->text = text;
    if (profile_parse(text, &r->profile) != 0 || profile_parse("", &r->told) != 0)
        return -1;
    size_t len = strlen(text);
    if (len > PROSE_MAX) {
        /* a crafted mail must not make the sentence readers slow: read its start only */
        len = PROSE_MAX;
        while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
            len--;
    }
    r->prose = strndup(text, len);
    if (r->prose == NULL || profile_from_sentences(r->prose, &r->told, &r->place) != 0 ||
        reading_subject_skills(m, r) != 0)
        return -1;
    r->role_answer = ctx->pending_role ? reading_role_answer(text) : 0;
    if (config_is_manager(cfg, m->from_addr) &&
        command_manager_parse(m->subject, text, &r->manager)) {
        r->intent = INTENT_MANAGER;
        r->confidence = 100;
        reading_why(r, "a manager's command \"%s\" (managers.c checks who sent it)",
                    r->manager.w[0]);
    } else if (r->role_answer) {
        r->intent = r->role_answer == '1' ? INTENT_JOIN : INTENT_MENTOR;
        r->confidence = 90;
        reading_why(r, "\"%c\" answers the question which role: %s", r->role_answer,
                    intent_name(r->intent));
    } else {
        reading_intent(cfg, m, ctx, r);
    }
    reading_settle(r, ctx);
    if ((r->intent == INTENT_JOIN || r->intent == INTENT_MENTOR ||
         r->intent == INTENT_UNCLEAR_ROLE) &&
        reading_take_told(r) != 0)
        return -1;
    return 0;
}

int
reading_read(const struct config *cfg, const struct mail *m, size_t size,
             const struct reading_context *ctx, struct reading *out)
{
    struct reading_context none;

    memset(out, 0, sizeof *out);
    out->cmd.number = -1;
    out->capacity = -1;
    if (ctx == NULL) {
        memset(&none, 0, sizeof none);
        ctx = &none;
    }
    out->classified = classify_mail(m, cfg->community.address, &out->class_reason);
    if (out->classified != CLASSIFY_PERSON) {
        out->kind = READING_AUTOMATIC;
        return 0;
    }
    if (reading_person(cfg, m, size, ctx, out) != 0) {
        reading_free(out);
        return -1;
    }
    return 0;
}

void
reading_free(struct reading *r)
{
    profile_free(&r->profile);
    profile_free(&r->told);
    free(r->place);
    free(r->prose);
    r->place = NULL;
    r->prose = NULL;
    free(r->text);
    free(r->sent_along);
    r->text = NULL;
    r->sent_along = NULL;
    free(r->strings);
    r->strings = NULL;
}
