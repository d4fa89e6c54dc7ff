/*
 * managers: commands by mail from a configured manager address.
 *
 * REPORT (the digest so far), LIST WAITING|ACTIVE|MENTORS|PAIRS, MATCH A B,
 * UNMATCH A|PAIR, BLOCK A B, PAUSE MEMBER [WEEKS], RESUME MEMBER, REMOVE
 * MEMBER: each a row of command_table.h naming its handler below.
 *
 * A From: header proves nothing.  Read-only commands are answered at once:
 * the answer goes to the configured manager address, so a forger learns
 * nothing.  A change waits for a reply from that mailbox carrying a
 * single-use token (tokens table, action "manager:<command>"), unless the
 * receiving server we trust ([digest] trusted_authserv) vouches for the
 * sender in its Authentication-Results: a DMARC pass aligned with the
 * manager's exact address (auth.h).  An SPF or DKIM pass for the manager's
 * domain is not enough: another user of that domain has it too.  Members are resolved to "#id" when
 * the request is made, so the token and the log hold no member's address.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "ctl.h"
#include "digest.h"
#include "log.h"
#include "outbox.h"
#include "admin.h"
#include "managers.h"
#include "respond.h"
#include "secret.h"

#define DAY (24 * 60 * 60)
#define WEEK (7 * DAY)
#define ACTION_PREFIX "manager:"

/* The manager's command as the reading found it (command.h's grammar). */
static int
managers_parse(struct respond_ctx *c, struct command_manager *cmd)
{
    if (c->reading == NULL || c->reading->manager.n == 0)
        return 0;
    *cmd = c->reading->manager;
    /* the words point into the reading's buffer: point them into this copy */
    for (size_t i = 0; i < cmd->n; i++)
        cmd->w[i] = cmd->buf + (c->reading->manager.w[i] - c->reading->manager.buf);
    return 1;
}

/* ---- answers ---- */

/* The manager's address as configured: answers go there, never to a Reply-To. */
static const char *
managers_address(const struct config *cfg, const char *from)
{
    for (size_t i = 0; i < cfg->community.n_managers; i++)
        if (strcasecmp(cfg->community.managers[i], from) == 0)
            return cfg->community.managers[i];
    return NULL;
}

static int
managers_send(struct respond_ctx *c, const char *to, const char *tmpl, const struct template_var *v,
              size_t nv, const char *kind, const char *ref)
{
    char err[512];
    struct outbox_mail om = {
        .to_addr = to,
        .template_name = tmpl,
        .vars = v,
        .nvars = nv,
        .in_reply_to = c->m,
        .kind = kind,
        .ref = ref,
    };

    if (outbox_queue(c->cfg, c->st, &om, c->now, err, sizeof(err)) != 0) {
        snprintf(c->detail, c->detail_len, "cannot answer the manager: %s", err);
        log_ctx(LOG_LEVEL_ERROR, c->m->message_id, to, "%s", c->detail);
        return -1;
    }
    return 0;
}

/* The language manager mail is written in ([templates] managers_language). */
static const struct lang *
managers_lang(const struct respond_ctx *c)
{
    return lang_get(c->cfg->templates.dir, outbox_managers_language(c->cfg));
}

/*
 * A sentence of manager mail in the managers' language: phrase key (english
 * when the language lacks it), then pairs of name and value ending with NULL.
 * malloc'd; NULL when out of memory.
 */
static char *
managers_phrase(const struct respond_ctx *c, const char *key, const char *english, ...)
{
    va_list ap;

    va_start(ap, english);
    char *s = lang_phrase_vfill(managers_lang(c), key, english, ap);
    va_end(ap);
    return s;
}

static int
managers_done(struct respond_ctx *c, const char *to, const char *command, const char *result)
{
    struct template_var v[] = {{"command", command}, {"result", result}};
    return managers_send(c, to, "manager-done", v, 2, "reply", NULL);
}

static int
managers_event(struct respond_ctx *c, const char *to, const char *fmt, const char *what)
{
    char detail[512];

    snprintf(detail, sizeof(detail), fmt, what);
    if (store_event_add(c->st, c->now, "manager", to, c->m->message_id, detail) != 0) {
        snprintf(c->detail, c->detail_len, "recording a manager event: %s", store_errmsg(c->st));
        return -1;
    }
    return 0;
}

/* ---- the handlers ---- */

/*
 * What a manager command's handler gets.  Each row of command_table.h names
 * its handler, int HANDLER(struct managers_req *r), which is called:
 *   - with the command as mailed (r->line NULL): a read-only command answers
 *     at once; a change names its members by "#id" in a canonical line and
 *     returns managers_change(), which runs that line at once when the mail
 *     is proven and else asks the manager to confirm it.  0 done, -1 error;
 *   - with the canonical line to carry out (r->line, r->cmd its words), once
 *     proven or confirmed: it acts, puts the sentence the manager is told in
 *     r->msg and returns an enum ctl_status (admin.h).
 */
struct managers_req {
    struct respond_ctx *c;
    const char *to;                    /* the manager's address as configured */
    const struct command_manager *cmd; /* the verb, then its words */
    const char *line;                  /* NULL, or the canonical line being carried out */
    struct admin_msg *msg;             /* with line: what the manager is told */
};

/* A line no handler can carry out (a token from an older version, say). */
static int
managers_unreadable(struct managers_req *r)
{
    admin_msg_say(r->msg, "manager_unreadable", "cannot read the request '{line}'", "line", r->line,
                  NULL);
    return CTL_USAGE;
}

/* ---- read-only commands ---- */

static int
managers_report(struct managers_req *r)
{
    struct respond_ctx *c = r->c;
    struct digest d;
    char err[512];

    if (r->line)
        return managers_unreadable(r);
    snprintf(c->detail, c->detail_len, "manager report");
    if (digest_build(c->cfg, c->st, c->now, 1, &d, err, sizeof(err)) != 0) {
        snprintf(c->detail, c->detail_len, "%s", err);
        return -1;
    }
    int rc = digest_queue(c->cfg, c->st, &d, r->to, c->m, c->now, err, sizeof(err));
    digest_free(&d);
    if (rc != 0)
        snprintf(c->detail, c->detail_len, "%s", err);
    return rc != 0 ? -1 : managers_event(c, r->to, "%s", "report");
}

/*
 * A listing's words in the managers' language, where it has them: a role or a
 * state in a cell ("phrase.admin_role_VALUE", "phrase.admin_pair_VALUE" for a
 * listing of pairs, else "phrase.admin_member_VALUE"), then the column names
 * ("phrase.list_NAME").  Addresses, names and ISO dates stay as they are.
 */
static int
managers_list_word(const struct respond_ctx *c, const char *family, char **s)
{
    char key[96];

    snprintf(key, sizeof(key), "%s%s", family, *s);
    const char *word = lang_phrase(managers_lang(c), key);
    if (word == NULL)
        return 0; /* no such phrase: the word stays as it is */
    char *copy = strdup(word);
    if (copy == NULL)
        return -1;
    free(*s);
    *s = copy;
    return 0;
}

static int
managers_list_words(const struct respond_ctx *c, struct ctl_table *t, int pairs)
{
    for (size_t i = 0; i < t->ncols; i++) {
        const char *family = strcmp(t->head[i], "role") == 0    ? "admin_role_"
                             : strcmp(t->head[i], "state") != 0 ? NULL
                             : pairs                            ? "admin_pair_"
                                                                : "admin_member_";
        for (size_t r = 0; family != NULL && r < t->nrows; r++) {
            char **cell = &t->cells[r * t->ncols + i];
            if (*cell != NULL && managers_list_word(c, family, cell) != 0)
                return -1;
        }
    }
    for (size_t i = 0; i < t->ncols; i++)
        if (managers_list_word(c, "list_", &t->head[i]) != 0)
            return -1;
    return 0;
}

static int
managers_list(struct managers_req *r)
{
    struct respond_ctx *c = r->c;
    const char *to = r->to;
    const char *what = r->cmd->n > 1 ? r->cmd->w[1] : "waiting";
    const char *name = strcasecmp(what, "waiting") == 0 ? "waitlist" : what;
    const char *filter = NULL;
    struct ctl_table t;
    char msg[256], command[64], *text = NULL;
    size_t len = 0;

    if (r->line)
        return managers_unreadable(r);
    if (strcasecmp(what, "active") == 0) {
        name = "pairs";
        filter = "active";
    }
    snprintf(command, sizeof(command), "list %s", what);
    snprintf(c->detail, c->detail_len, "manager %s", command);
    int rc = ctl_list(c->st, name, filter, c->now, &t, msg, sizeof(msg));
    if (rc == CTL_FAIL) {
        snprintf(c->detail, c->detail_len, "%s", msg);
        return -1;
    }
    if (rc != CTL_OK) {
        char *s =
            managers_phrase(c, "manager_unknown_list",
                            "Unknown list: try LIST WAITING, ACTIVE, MENTORS or PAIRS.", NULL);
        rc = s ? managers_done(c, to, command, s) : -1;
        free(s);
        return rc;
    }
    FILE *f = managers_list_words(c, &t, strcmp(name, "pairs") == 0) == 0
                  ? open_memstream(&text, &len)
                  : NULL;
    if (f == NULL || ctl_table_print(f, &t, CTL_FORMAT_TABLE) != 0 || fclose(f) != 0) {
        ctl_table_free(&t);
        free(text);
        snprintf(c->detail, c->detail_len, "out of memory listing %s", what);
        return -1;
    }
    size_t rows = t.nrows;
    ctl_table_free(&t);
    char *none = rows ? NULL : managers_phrase(c, "manager_list_empty", "(nothing)", NULL);
    rc = managers_done(c, to, command, rows ? text : none ? none : "(nothing)");
    free(none);
    free(text);
    return rc != 0 ? -1 : managers_event(c, to, "%s", command);
}

/* ---- changes: resolve, confirm, execute ---- */

/* "#id" of a member named in a command, or "" with why set. */
static int
managers_ref(struct respond_ctx *c, const char *who, char *out, size_t len, char *addr, size_t alen,
             char *why, size_t wlen)
{
    struct store_member m;
    int found = admin_member(c->st, who, &m);

    if (found < 0)
        return -1;
    if (found == 0 || strcmp(m.state, "left") == 0) {
        char *s = managers_phrase(c, "manager_no_member", "There is no member {member}.", "member",
                                  who, NULL);
        snprintf(why, wlen, "%s", s ? s : who);
        free(s);
        if (found)
            store_member_free(&m);
        return 0;
    }
    snprintf(out, len, "#%lld", (long long)m.id);
    snprintf(addr, alen, "%s", m.address);
    store_member_free(&m);
    return 1;
}

static int managers_execute(struct respond_ctx *c, const char *to, const char *line,
                            struct admin_msg *msg);

static int
managers_run(struct respond_ctx *c, const char *to, const char *line, const char *words)
{
    struct admin_msg msg;
    int rc = managers_execute(c, to, line, &msg);

    snprintf(c->detail, c->detail_len, "manager %s: %s", line, msg.text);
    if (rc == CTL_FAIL) {
        log_ctx(LOG_LEVEL_ERROR, c->m->message_id, to, "%s", c->detail);
        return -1;
    }
    if (rc != CTL_OK && managers_event(c, to, "refused: %s", line) != 0)
        return -1;
    char *said = admin_msg_render(&msg, managers_lang(c));
    if (said == NULL) {
        snprintf(c->detail, c->detail_len, "out of memory answering the manager");
        return -1;
    }
    rc = managers_done(c, to, words, said);
    free(said);
    return rc;
}

static int
managers_ask(struct respond_ctx *c, const char *to, const char *line, const char *words)
{
    char token[COMMAND_TOKEN_LEN + 1], action[600], days[16];
    int expiry = c->cfg->programme.confirm_expiry > 0 ? c->cfg->programme.confirm_expiry : 3 * DAY;

    if (secret_token(token, COMMAND_TOKEN_LEN) != 0) {
        snprintf(c->detail, c->detail_len, "cannot draw a random token");
        return -1;
    }
    snprintf(action, sizeof(action), ACTION_PREFIX "%s", line);
    snprintf(days, sizeof(days), "%d", expiry / DAY > 0 ? expiry / DAY : 1);
    if (store_token_add(c->st, token, to, action, NULL, c->now, c->now + expiry) != 0) {
        snprintf(c->detail, c->detail_len, "storing a manager token: %s", store_errmsg(c->st));
        return -1;
    }
    snprintf(c->detail, c->detail_len, "manager %s: asked to confirm", line);
    struct template_var v[] = {{"command", words}, {"token", token}, {"days", days}};
    if (managers_event(c, to, "asked: %s", line) != 0)
        return -1;
    return managers_send(c, to, "manager-confirm", v, 3, "confirm", token);
}

/*
 * A change as mailed, in its canonical line ("match #3 #5", "pause #3 2")
 * and in words for the manager: carried out at once when the receiving
 * server we trust vouches for the manager's address (auth.h), else the
 * manager is asked to confirm it.
 */
static int
managers_change(struct managers_req *r, const char *line, const char *words)
{
    if (auth_dmarc(r->c->m, r->c->cfg->digest.trusted_authserv, r->to) == AUTH_PASS)
        return managers_run(r->c, r->to, line, words);
    return managers_ask(r->c, r->to, line, words);
}

/* A change refused before it is asked for: the manager is told why. */
static int
managers_refuse(struct managers_req *r, const char *why)
{
    snprintf(r->c->detail, r->c->detail_len, "manager %s: %s", r->cmd->w[0], why);
    return managers_done(r->c, r->to, r->cmd->w[0], why);
}

/*
 * A phrase of manager mail: its key in language.data and its English form.
 * What a change as mailed that lacks words needs ("{verb} needs ..."); the
 * words a change is told back in ("{verb} {a} with {b}").
 */
struct managers_form {
    const char *key, *english;
};
static const struct managers_form managers_words_one = {"manager_words_one", "{verb} {a}"};
static const struct managers_form managers_words_match = {"manager_words_match",
                                                          "{verb} {a} with {b}"};
static const struct managers_form managers_words_block = {
    "manager_words_block", "{verb} {a} from ever being paired with {b}"};
static const struct managers_form managers_words_weeks[2] = {
    {"manager_words_pause_one", "{verb} {a} for {weeks} week"},
    {"manager_words_pause_other", "{verb} {a} for {weeks} weeks"}};
static const struct managers_form managers_words_end_pair = {"manager_words_end_pair",
                                                             "end pair {pair}"};
static const struct managers_form managers_needs_member = {"manager_needs_member",
                                                           "{verb} needs a member."};
static const struct managers_form managers_needs_pair = {"manager_needs_pair",
                                                         "{verb} needs a newcomer and a mentor."};
static const struct managers_form managers_needs_two = {"manager_needs_two",
                                                        "{verb} needs two members."};

/* A change as mailed lacks words: 1 when the manager was told what it needs. */
static int
managers_short(struct managers_req *r, size_t want, const struct managers_form *needs)
{
    if (r->cmd->n >= want)
        return 0;
    char *why = managers_phrase(r->c, needs->key, needs->english, "verb", r->cmd->w[0], NULL);
    int rc = why ? managers_refuse(r, why) : -1;
    free(why);
    return rc != 0 ? -1 : 1;
}

/*
 * A change as mailed that names n members (1 or 2: w[1], w[2]): the line
 * "VERB #a [#b] [WEEKS]" and the words of form ({verb} {a} {b} {weeks}),
 * then managers_change().  needs: what a shorter command lacks.
 */
static int
managers_members(struct managers_req *r, size_t n, const struct managers_form *needs,
                 const struct managers_form *form, int weeks)
{
    const char *verb = r->cmd->w[0];
    char a[32] = "", b[32] = "", aa[320] = "", ba[320] = "", why[400];
    char line[128], wk[16] = "";
    int rc = managers_short(r, n + 1, needs);

    if (rc != 0)
        return rc < 0 ? -1 : 0;
    rc = managers_ref(r->c, r->cmd->w[1], a, sizeof(a), aa, sizeof(aa), why, sizeof(why));
    if (rc == 1 && n == 2)
        rc = managers_ref(r->c, r->cmd->w[2], b, sizeof(b), ba, sizeof(ba), why, sizeof(why));
    if (rc < 0) {
        snprintf(r->c->detail, r->c->detail_len, "manager command: %s", store_errmsg(r->c->st));
        return -1;
    }
    if (rc == 0)
        return managers_refuse(r, why);
    if (weeks > 0)
        snprintf(wk, sizeof(wk), "%d", weeks);
    snprintf(line, sizeof(line), "%s %s%s%s%s%s", verb, a, n == 2 ? " " : "", b, wk[0] ? " " : "",
             wk);
    char *words = managers_phrase(r->c, form->key, form->english, "verb", verb, "a", aa, "b", ba,
                                  "weeks", wk, NULL);
    if (words == NULL) {
        snprintf(r->c->detail, r->c->detail_len, "out of memory reading a manager command");
        return -1;
    }
    rc = managers_change(r, line, words);
    free(words);
    return rc;
}

static int
managers_match(struct managers_req *r)
{
    const struct command_manager *cmd = r->cmd;

    if (r->line == NULL)
        return managers_members(r, 2, &managers_needs_pair, &managers_words_match, 0);
    if (cmd->n != 3)
        return managers_unreadable(r);
    return admin_match(r->c->cfg, r->c->st, cmd->w[1], cmd->w[2], r->to, r->c->now, r->msg);
}

static int
managers_block(struct managers_req *r)
{
    const struct command_manager *cmd = r->cmd;

    if (r->line == NULL)
        return managers_members(r, 2, &managers_needs_two, &managers_words_block, 0);
    if (cmd->n != 3)
        return managers_unreadable(r);
    return admin_block(r->c->cfg, r->c->st, cmd->w[1], cmd->w[2], r->to, r->c->now, r->msg);
}

static int
managers_unmatch(struct managers_req *r)
{
    const struct command_manager *cmd = r->cmd;

    if (r->line == NULL) {
        char line[128];
        int rc = managers_short(r, 2, &managers_needs_member);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        if (strchr(cmd->w[1], '@') != NULL)
            return managers_members(r, 1, &managers_needs_member, &managers_words_one, 0);
        /* A pair id or ref stays as written: it names no person. */
        snprintf(line, sizeof(line), "unmatch %s", cmd->w[1]);
        char *words = managers_phrase(r->c, managers_words_end_pair.key,
                                      managers_words_end_pair.english, "pair", cmd->w[1], NULL);
        if (words == NULL)
            return -1;
        rc = managers_change(r, line, words);
        free(words);
        return rc;
    }
    if (cmd->n != 2)
        return managers_unreadable(r);
    return admin_unmatch(r->c->cfg, r->c->st, cmd->w[1], r->to, r->c->now, r->msg);
}

/* PAUSE MEMBER [WEEKS]: open-ended without a number of weeks. */
static int
managers_pause(struct managers_req *r)
{
    const struct command_manager *cmd = r->cmd;
    int weeks = cmd->n > 2 ? atoi(cmd->w[2]) : 0;

    if (r->line == NULL) {
        const struct managers_form *form =
            weeks > 0 ? &managers_words_weeks[lang_plural(managers_lang(r->c), weeks)]
                      : &managers_words_one;
        return managers_members(r, 1, &managers_needs_member, form, weeks);
    }
    if (cmd->n < 2)
        return managers_unreadable(r);
    return admin_pause(r->c->cfg, r->c->st, cmd->w[1], weeks > 0 ? r->c->now + weeks * WEEK : 0,
                       r->to, r->c->now, r->msg);
}

static int
managers_resume(struct managers_req *r)
{
    const struct command_manager *cmd = r->cmd;

    if (r->line == NULL)
        return managers_members(r, 1, &managers_needs_member, &managers_words_one, 0);
    if (cmd->n != 2)
        return managers_unreadable(r);
    return admin_resume(r->c->cfg, r->c->st, cmd->w[1], r->to, r->c->now, r->msg);
}

static int
managers_remove(struct managers_req *r)
{
    const struct command_manager *cmd = r->cmd;

    if (r->line == NULL)
        return managers_members(r, 1, &managers_needs_member, &managers_words_one, 0);
    if (cmd->n != 2)
        return managers_unreadable(r);
    /* A member is erased: the caller checkpoints the database after the commit (respond.h). */
    r->c->erase_checkpoint = 1;
    return admin_remove(r->c->cfg, r->c->st, cmd->w[1], r->to, r->c->now, r->msg);
}

/* Each manager command's handler, bound by its row of command_table.h. */
static const struct managers_row {
    const char *name;
    int (*handler)(struct managers_req *r);
} managers_rows[] = {
#define COMMAND_MEMBER(...)
#define COMMAND_MANAGER(NAME, USAGE, ARGS, HANDLER, HELP) {NAME, HANDLER},
#include "command_table.h"
#undef COMMAND_MEMBER
#undef COMMAND_MANAGER
};

static const struct managers_row *
managers_row(const char *verb)
{
    for (size_t i = 0; i < sizeof managers_rows / sizeof managers_rows[0]; i++)
        if (strcmp(managers_rows[i].name, verb) == 0)
            return &managers_rows[i];
    return NULL;
}

/* Carry out a canonical line by its verb's handler; the result sentence goes to msg. */
static int
managers_execute(struct respond_ctx *c, const char *to, const char *line, struct admin_msg *msg)
{
    struct command_manager cmd;

    command_manager_split(line, &cmd);
    const struct managers_row *row = managers_row(cmd.n ? cmd.w[0] : "");
    struct managers_req r = {.c = c, .to = to, .cmd = &cmd, .line = line, .msg = msg};
    return row ? row->handler(&r) : managers_unreadable(&r);
}

/* ---- confirmations ---- */

/* 1 when token is not a manager's (the caller reads the mail another way). */
static int
managers_confirm(struct respond_ctx *c, const char *to, const char *token)
{
    struct store_token t;
    int found = token[0] ? store_token_get(c->st, token, &t) : 0;
    const char *why = NULL, *why_key = NULL;
    int rc;

    if (found <= 0)
        return found < 0 ? -1 : 1;
    if (strncmp(t.action, ACTION_PREFIX, strlen(ACTION_PREFIX)) != 0) {
        store_token_free(&t);
        return 1;
    }
    const char *line = t.action + strlen(ACTION_PREFIX);
    if (strcasecmp(t.address, to) != 0) {
        why_key = "manager_confirm_other";
        why = "Nothing was done: it was sent to another manager.";
    } else if (t.closed != 0) {
        why_key = "manager_confirm_used";
        why = "Nothing was done: it was used already.";
    } else if (t.expires <= c->now) {
        why_key = "manager_confirm_expired";
        why = "Nothing was done: it has expired; send the command again.";
    }
    if (why) {
        char *msg = managers_phrase(c, why_key, why, NULL);
        snprintf(c->detail, c->detail_len, "manager confirmation refused: %s", why);
        rc = msg ? managers_event(c, to, "refused confirmation: %s", line) : -1;
        if (rc == 0)
            rc = managers_done(c, to, line, msg);
        free(msg);
    } else if (store_token_close(c->st, t.token, c->now, "confirmed") < 0) {
        rc = -1;
    } else {
        rc = managers_run(c, to, line, line);
    }
    store_token_free(&t);
    return rc;
}

/* "confirm TOKEN" in the Subject or on the first line written: 1 and token set. */
static int
managers_confirm_token(struct respond_ctx *c, char token[COMMAND_TOKEN_LEN + 1])
{
    struct command_manager cmd;
    char *subject = c->m->subject ? command_strip_prefixes(c->m->subject) : NULL;
    const char *text = c->text ? c->text + strspn(c->text, " \t\r\n") : "";

    for (int i = 0; i < 2; i++) {
        command_manager_split(i == 0 ? (subject ? subject : "") : text, &cmd);
        if (cmd.n >= 2 && strcmp(cmd.w[0], "confirm") == 0 &&
            strlen(cmd.w[1]) <= COMMAND_TOKEN_LEN) {
            snprintf(token, COMMAND_TOKEN_LEN + 1, "%s", cmd.w[1]);
            for (char *p = token; *p; p++)
                *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
            free(subject);
            return 1;
        }
    }
    free(subject);
    return 0;
}

int
managers_mail(struct respond_ctx *c)
{
    const char *to = managers_address(c->cfg, c->m->from_addr);
    struct command_manager cmd;
    char token[COMMAND_TOKEN_LEN + 1];
    int rc;

    if (to == NULL)
        return 1;
    /* A reply to our confirmation mail first: by its ref, or "confirm TOKEN". */
    if (c->ref[0] && (rc = managers_confirm(c, to, c->ref)) != 1)
        return rc;
    if (!managers_parse(c, &cmd))
        return managers_confirm_token(c, token) ? managers_confirm(c, to, token) : 1;
    log_ctx(LOG_LEVEL_INFO, c->m->message_id, to, "manager command %s", cmd.w[0]);
    const struct managers_row *row = managers_row(cmd.w[0]);
    if (row == NULL) /* the reading knows the verbs of the same table */
        return 1;
    struct managers_req r = {.c = c, .to = to, .cmd = &cmd};
    return row->handler(&r);
}
