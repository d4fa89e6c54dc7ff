/*
 * Deliverability: every template in every shipped language (templates/LANG/),
 * rendered with realistic data (non-ASCII names, long profile text, dates and
 * counts written the language's way) and composed by mentord's own composer,
 * must parse without a defect under a strict RFC 5322/2045/2047 parser, carry
 * the headers mail providers look for, and score at most 0.0 in SpamAssassin.
 * Every language ships every template of the English set, using the same
 * variables (a translation that drops or invents one fails here).
 *
 * The C side renders and composes (the code that really runs); the checks
 * live in tests/deliver/ (check.py with Python's email package, spamcheck.pl
 * with the Mail::SpamAssassin API) because those are the independent judges.
 * Set DELIVER_KEEP=DIR to keep the .eml files for inspection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "compose.h"
#include "digest.h"
#include "lang.h"
#include "store.h"
#include "template.h"
#include "testutil.h"

#define DELIVER_TEMPLATES MENTORD_SRCDIR "/templates"
#define DELIVER_REFERENCE "en" /* the set every language must match */
#define DELIVER_MAX_VARS 48
#define DELIVER_NAME_LEN 64

/* What mentord's outbox passes for the community (see daemon/outbox.c). */
#define COMMUNITY_NAME "Open Source Café Zürich"
#define COMMUNITY_ADDR "mentors@example.test"
#define MEMBER_ADDR "daniel.orsted@example.test"
/* The member's message being answered, as a reply carries it. */
#define ANSWERED_ID "CAF=3x9+Q2sK_1mR@mail.example.test"
#define ANSWERED_REFS "20250601.1234@lists.example.test CAF=3x9+Q2sK_1mR@mail.example.test"

struct deliver_state {
    char dir[256];
    int keep;
    int count;        /* .eml files written */
    struct store *st; /* a small programme, for the digest's figures and lists */
    char *managers[2];
};

/* A realistic value for each variable a template documents or uses. */
static const struct {
    const char *name;
    const char *value;
} deliver_values[] = {
    {"to_name", "Dániel"}, /* the outbox greets by the first part of the name given */
    {"community_name", COMMUNITY_NAME},
    {"community_address", COMMUNITY_ADDR},
    {"to_address", MEMBER_ADDR},
    {"role", "mentor"},
    {"token", "K7QM2XD9RT"},
    {"days", "7"},
    {"profile",
     "Name: Dániel Ørsted-Ñúñez\n"
     "Skills: rust, c, postgresql, technical writing, accessibility reviews, "
     "continuous integration, release engineering\n"
     "Languages: Hungarian, Danish, Spanish, English\n"
     "Time zone: Europe/Budapest (UTC+01:00)\n"
     "About: I maintain a small library that parses calendar files and would like to learn "
     "how to review other people's code with patience and kindness. Weekday evenings suit me "
     "best; I am happy to write in Spanish or Danish as well. ¡Gracias! Mange tak!"},
    {"problems", "Time zone: \"Mars/Olympus\" is not a time zone I know. Write a city, like "
                 "Time zone: Europe/Madrid, or an offset, like Time zone: UTC+2."},
    {"what", "rematch"},
    {"capacity", "3"},
    {"not_mentor", "yes"},
    {"until", "2025-07-14"},
    {"ends", "2026-03-01"},
    {"waiting_since", "2025-12-01"},
    {"weeks", "12"},
    {"day", "14"},
    {"count", "4"},
    {"checkins", "3"},
    {"position", "2"},
    {"wait", "3"},
    {"language", "español"},
    {"shared_language", "English"},
    {"mentor_name", "Ágnes Kovács"},
    {"mentor_first", "Ágnes"},
    {"newcomer_name", "Dániel Ørsted-Ñúñez"},
    {"newcomer_first", "Dániel"},
    {"partner_name", "Ágnes"},
    {"topic", "documentation"},
    {"mentor_address", "agnes.kovacs@example.test"},
    {"newcomer_address", MEMBER_ADDR},
    {"partner_address", "agnes.kovacs@example.test"},
    {"reasons", "  - you both listed Rust and technical writing\n  - your time zones overlap "
                "by 7 hours"},
    {"pairings", "  mentoring Ana, since Monday 5 January 2026, until Monday 6 April 2026"},
    {"members", "  - Ana Lima <ana@example.test>\n  - Jörg Weiß <joerg@example.test>"},
    {"rating", "4"},
    {"state", "active"},
    {"paused", "yes"},
    {"pending", NULL},
    {"was_paused", "yes"},
    {"size", "23.4 MB"},
    {"limit", "10 MB"},
    {"member", MEMBER_ADDR},
    {"status", "5.1.1"},
    {"diagnostic", "smtp; 550 5.1.1 <" MEMBER_ADDR ">: Recipient address rejected: User "
                   "unknown in virtual mailbox table"},
    {"not_understood", "yes"},
};

/* The same people with plain ASCII names, and dates in a language that writes them in ASCII. */
static const struct {
    const char *name;
    const char *value;
} deliver_ascii[] = {
    {"to_name", "Ana"},
    {"mentor_name", "Maria Lopez"},
    {"mentor_first", "Maria"},
    {"newcomer_name", "Ana Lima"},
    {"newcomer_first", "Ana"},
    {"partner_name", "Maria"},
    {"community_name", "Example Community"},
};

/* The names a person may not have given (and the flag saying both did). */
static const char *const deliver_unnamed[] = {"to_name",       "mentor_name",    "mentor_first",
                                              "newcomer_name", "newcomer_first", "partner_name",
                                              "both_named"};

/*
 * Whether shown (Subject line, then the body) uses a member's address as a
 * name: every member address it shows is in angle brackets (the way to reach
 * them), and the Subject shows none.
 */
static void
check_no_address_as_name(const char *lang, const char *name, const char *shown)
{
    static const char *const addresses[] = {"agnes.kovacs@example.test", MEMBER_ADDR, NULL};
    const char *body = strchr(shown, '\n');

    assert_non_null(body);
    if (memchr(shown, '@', (size_t)(body - shown)) != NULL)
        fail_msg("templates/%s/%s.txt: the Subject names someone by address: %.*s", lang, name,
                 (int)(body - shown), shown);
    for (size_t i = 0; addresses[i]; i++)
        for (const char *p = strstr(body, addresses[i]); p; p = strstr(p + 1, addresses[i]))
            if (p[-1] != '<')
                fail_msg("templates/%s/%s.txt names someone by address: ...%.40s", lang, name,
                         p > body + 30 ? p - 30 : body);
}

struct deliver_vars {
    char names[DELIVER_MAX_VARS][DELIVER_NAME_LEN];
    size_t n;
};

static void
vars_add(struct deliver_vars *v, const char *name, size_t len)
{
    if (len == 0 || len >= DELIVER_NAME_LEN)
        return;
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->names[i]) == len && strncmp(v->names[i], name, len) == 0)
            return;
    assert_true(v->n < DELIVER_MAX_VARS);
    memcpy(v->names[v->n], name, len);
    v->names[v->n][len] = '\0';
    v->n++;
}

static int
vars_has(const struct deliver_vars *v, const char *name)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->names[i], name) == 0)
            return 1;
    return 0;
}

static char *
read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, len = 0, got;
    do {
        if (cap - len < 4096) {
            cap = cap * 2 + 4096;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
    } while (got > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/*
 * The variables listed after "Variables:" in the "##" comment lines.  Words in
 * parentheses are explanations, not names, so they are skipped.
 */
static void
documented_vars(const char *text, struct deliver_vars *doc)
{
    char comment[4096] = "";
    size_t clen = 0;

    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len >= 2 && line[0] == '#' && line[1] == '#' && clen + len + 1 < sizeof(comment)) {
            memcpy(comment + clen, line + 2, len - 2);
            clen += len - 2;
            comment[clen++] = ' ';
            comment[clen] = '\0';
        }
        line = eol ? eol + 1 : line + len;
    }
    const char *p = strstr(comment, "Variables:");
    if (p == NULL)
        return;
    p += strlen("Variables:");
    int depth = 0;
    for (; *p; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        else if (depth == 0 && *p == '.' && (p[1] == ' ' || p[1] == '\0'))
            break;
        else if (depth == 0 && (islower((unsigned char)*p) || *p == '_')) {
            size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyz_0123456789");
            if (!(len == 3 && strncmp(p, "and", 3) == 0))
                vars_add(doc, p, len);
            p += len - 1;
        }
    }
}

/* The names in {{name}}, {{#name}}, {{^name}} outside comment lines. */
static void
used_vars(const char *text, struct deliver_vars *used)
{
    for (const char *p = strstr(text, "{{"); p; p = strstr(p + 2, "{{")) {
        const char *line = p;
        while (line > text && line[-1] != '\n')
            line--;
        if (line[0] == '#' && line[1] == '#')
            continue;
        const char *n = p + 2;
        if (*n == '#' || *n == '^' || *n == '/')
            n++;
        vars_add(used, n, strspn(n, "abcdefghijklmnopqrstuvwxyz_0123456789"));
    }
}

static const char *
value_for(const char *name)
{
    for (size_t i = 0; i < sizeof(deliver_values) / sizeof(deliver_values[0]); i++)
        if (strcmp(deliver_values[i].name, name) == 0)
            return deliver_values[i].value;
    return "yes"; /* an undocumented flag: set, so its section is rendered too */
}

static int
write_eml(const char *dir, const char *file, const char *headers, const char *body)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    int ok = fputs(headers, f) >= 0 && fputs("\r\n", f) >= 0 && fputs(body, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The text of a composed body: quoted-printable decoded (soft breaks joined), malloc'd. */
static char *
decoded_body(const char *headers, const char *text)
{
    int qp = strstr(headers, "quoted-printable") != NULL;
    char *out = malloc(strlen(text) + 1), *o = out;

    assert_non_null(out);
    for (const char *p = text; *p;) {
        if (qp && p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
            p += 3;
        } else if (qp && p[0] == '=' && isxdigit((unsigned char)p[1]) &&
                   isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            p += 3;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static size_t
occurrences(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = strstr(hay, needle); len && p; p = strstr(p + len, needle))
        n++;
    return n;
}

/*
 * A line break never splits a date, a name or an address: each such value the
 * mail shows (a date as the language writes it) is whole on one line, as often
 * as it appears at all once the lines are joined.
 */
static void
check_unsplit(const char *lang, const char *name, const struct lang *l, const char *headers,
              const char *text, const struct template_var *vars, size_t nvars)
{
    static const char *const kinds[] = {"mentor_name",    "newcomer_name",     "to_name",
                                        "mentor_address", "newcomer_address",  "partner_address",
                                        "community_name", "community_address", "ends",
                                        "until",          "waiting_since",     NULL};
    char *body = decoded_body(headers, text);
    char *flat = strdup(body);

    assert_non_null(flat);
    for (char *p = flat; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    for (size_t k = 0; kinds[k]; k++)
        for (size_t i = 0; i < nvars; i++) {
            if (strcmp(vars[i].name, kinds[k]) != 0 || vars[i].value == NULL)
                continue;
            char shown[256];
            if (lang_format_date(l, vars[i].value, shown, sizeof(shown)) != 0)
                snprintf(shown, sizeof(shown), "%s", vars[i].value);
            if (occurrences(flat, shown) != occurrences(body, shown))
                fail_msg("templates/%s/%s.txt: a line break splits \"%s\"", lang, name, shown);
        }
    free(flat);
    free(body);
}

static void compose_check(struct deliver_state *s, const char *lang, const char *name,
                          const struct template_var *vars, size_t nvars, int reply,
                          const char *html, char **body_out);

/* Render LANG/name with vars and compose it, as a reply or as a new message. */
static void
compose_one(struct deliver_state *s, const char *lang, const char *name,
            const struct template_var *vars, size_t nvars, int reply, const char *html)
{
    compose_check(s, lang, name, vars, nvars, reply, html, NULL);
}

/* Render LANG/name with vars and compose it; s NULL: only checked, not written for the judges. */
static void
compose_check(struct deliver_state *s, const char *lang, const char *name,
              const struct template_var *vars, size_t nvars, int reply, const char *html,
              char **body_out)
{
    char err[512] = "", *subject = NULL, *body = NULL, *headers = NULL, *text = NULL, *msgid = NULL;
    char tdir[512];

    snprintf(tdir, sizeof(tdir), "%s/%s", DELIVER_TEMPLATES, lang);
    const struct lang *l = lang_get(DELIVER_TEMPLATES, lang);
    if (l == NULL)
        fail_msg("templates/%s has no usable language.data", lang);
    if (template_render_lang(tdir, name, l, vars, nvars, &subject, &body, err, sizeof(err)) != 0)
        fail_msg("template %s/%s does not render: %s", lang, name, err);
    /* No placeholder or date form may reach a reader. */
    if (strstr(body, "{{") != NULL || strstr(body, "{weekday}") != NULL)
        fail_msg("template %s/%s leaves a placeholder in its text", lang, name);
    /* Managers' notices go to a manager, everything else to the member. */
    int notice = strcmp(name, "undeliverable") == 0;
    struct compose_msg msg = {
        .from_name = COMMUNITY_NAME,
        .from_addr = COMMUNITY_ADDR,
        .to_name = notice ? "Ágnes Kovács" : "Dániel Ørsted-Ñúñez",
        .to_addr = notice ? "boss@example.test" : MEMBER_ADDR,
        .subject = subject,
        .body = body,
        .html = html,
        .in_reply_to = reply ? ANSWERED_ID : NULL,
        .references = reply ? ANSWERED_REFS : NULL,
        .auto_submitted = reply ? "auto-replied" : "auto-generated",
        .list_id = "<mentors.example.test>",
        .list_unsubscribe = "mailto:" COMMUNITY_ADDR "?subject=leave",
        .msgid_domain = "example.test",
        .date = time(NULL),
    };
    if (compose_message(&msg, &headers, &text, &msgid, err, sizeof(err)) != 0)
        fail_msg("template %s/%s does not compose: %s", lang, name, err);
    check_unsplit(lang, name, l, headers, text, vars, nvars);
    if (body_out != NULL) {
        *body_out = NULL;
        assert_true(asprintf(body_out, "Subject: %s\n%s", subject, body) > 0);
    }
    if (s == NULL) {
        free(subject);
        free(body);
        free(headers);
        free(text);
        free(msgid);
        return;
    }
    char file[256];
    snprintf(file, sizeof(file), "%s-%s-%s.eml", reply ? "reply" : "new", lang, name);
    assert_int_equal(write_eml(s->dir, file, headers, text), 0);
    /* The subject as rendered, so check.py can verify the RFC 2047 round trip. */
    snprintf(file, sizeof(file), "%s-%s-%s.subject", reply ? "reply" : "new", lang, name);
    assert_int_equal(tu_write_file(s->dir, file, subject), 0);
    s->count++;
    free(subject);
    free(body);
    free(headers);
    free(text);
    free(msgid);
}

/* The variables used by templates/LANG/name.txt; NULL text when the file is missing. */
static char *
template_text(const char *lang, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/%s.txt", DELIVER_TEMPLATES, lang, name);
    return read_all(path);
}

static void
same_vars(const char *lang, const char *name, const struct deliver_vars *ref,
          const struct deliver_vars *used)
{
    for (size_t i = 0; i < ref->n; i++)
        if (!vars_has(used, ref->names[i]))
            fail_msg("templates/%s/%s.txt does not use {{%s}}, which the English text uses", lang,
                     name, ref->names[i]);
    for (size_t i = 0; i < used->n; i++)
        if (!vars_has(ref, used->names[i]))
            fail_msg("templates/%s/%s.txt uses {{%s}}, which the English text does not", lang, name,
                     used->names[i]);
}

/* The digest of the small programme in render_all, written in lang for its managers. */
static void
render_digest(struct deliver_state *s, const char *lang, char **text, char **html, char **subject)
{
    struct config cfg;
    struct digest d;
    char err[256];

    tu_test_config(&cfg, s->managers);
    cfg.community.name = COMMUNITY_NAME;
    cfg.templates.dir = DELIVER_TEMPLATES;
    cfg.templates.managers_language = (char *)lang;
    if (digest_build(&cfg, s->st, time(NULL), 1, &d, err, sizeof(err)) != 0)
        fail_msg("the %s digest does not build: %s", lang, err);
    *text = digest_text(&cfg, &d);
    *html = digest_html(&cfg, &d);
    *subject = strdup(d.subject);
    assert_non_null(*text);
    assert_non_null(*html);
    assert_non_null(*subject);
    digest_free(&d);
}

static void
render_template(struct deliver_state *s, const char *lang, const char *name)
{
    char *text = template_text(lang, name);
    if (text == NULL)
        fail_msg("templates/%s/%s.txt is missing (every language ships every text)", lang, name);
    char *ref_text = template_text(DELIVER_REFERENCE, name);
    assert_non_null(ref_text);

    struct deliver_vars doc = {.n = 0}, used = {.n = 0}, ref = {.n = 0};
    documented_vars(text, &doc);
    used_vars(text, &used);
    used_vars(ref_text, &ref);
    /* A template whose comment does not list what it uses misleads whoever calls it. */
    for (size_t i = 0; i < used.n; i++)
        if (!vars_has(&doc, used.names[i]))
            fail_msg("templates/%s/%s.txt uses {{%s}} but its ## comment does not document it",
                     lang, name, used.names[i]);
    same_vars(lang, name, &ref, &used);

    /*
     * What mentord writes itself goes in as it would: the help mail's list of
     * commands and the managers' digest (text and HTML), in the language.
     */
    char *commands = command_help_list(lang_get(DELIVER_TEMPLATES, lang)), *digest = NULL,
         *html = NULL, *subject = NULL;
    assert_non_null(commands);
    if (strcmp(name, "digest") == 0)
        render_digest(s, lang, &digest, &html, &subject);
    struct template_var vars[DELIVER_MAX_VARS];
    for (size_t i = 0; i < doc.n; i++) {
        const char *v = value_for(doc.names[i]);
        if (strcmp(doc.names[i], "commands") == 0)
            v = commands;
        else if (strcmp(doc.names[i], "digest") == 0 && digest != NULL)
            v = digest;
        else if (strcmp(doc.names[i], "subject") == 0 && subject != NULL)
            v = subject; /* the HTML part's title is the subject */
        vars[i] = (struct template_var){doc.names[i], v};
    }
    /* As an answer (threaded) and as mail that starts a conversation (scheduled, notices). */
    compose_one(s, lang, name, vars, doc.n, 1, html);
    compose_one(s, lang, name, vars, doc.n, 0, html);
    /* Plain ASCII names: the text may go 7bit and be wrapped, never inside a date or a name. */
    for (size_t i = 0; i < doc.n; i++)
        for (size_t k = 0; k < sizeof(deliver_ascii) / sizeof(deliver_ascii[0]); k++)
            if (strcmp(vars[i].name, deliver_ascii[k].name) == 0)
                vars[i].value = deliver_ascii[k].value;
    compose_check(NULL, lang, name, vars, doc.n, 0, html, NULL);
    /* People who gave no name: an introduction never calls them by their address. */
    if (strncmp(name, "introduction", 12) == 0) {
        for (size_t i = 0; i < doc.n; i++)
            for (size_t k = 0; k < sizeof(deliver_unnamed) / sizeof(deliver_unnamed[0]); k++)
                if (strcmp(vars[i].name, deliver_unnamed[k]) == 0)
                    vars[i].value = NULL;
        char *shown = NULL;
        compose_check(NULL, lang, name, vars, doc.n, 0, html, &shown);
        check_no_address_as_name(lang, name, shown);
        free(shown);
    }
    free(commands);
    free(digest);
    free(html);
    free(subject);
    free(text);
    free(ref_text);
}

/* The template names (without .txt) of one language folder. */
static size_t
template_names(const char *lang, char (*names)[DELIVER_NAME_LEN], size_t max)
{
    char dir[512];
    size_t n = 0;
    snprintf(dir, sizeof(dir), "%s/%s", DELIVER_TEMPLATES, lang);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len <= 4 || strcmp(e->d_name + len - 4, ".txt") != 0)
            continue;
        assert_true(len - 4 < DELIVER_NAME_LEN && n < max);
        memcpy(names[n], e->d_name, len - 4);
        names[n++][len - 4] = '\0';
    }
    closedir(d);
    return n;
}

/*
 * A small programme for the digest: newcomers with non-ASCII names waiting,
 * one of them long enough to be named on top.  The store lives in the
 * folder of the .eml files, which is removed (or kept) with them.
 */
static int
seed_programme(struct deliver_state *s)
{
    static const struct {
        const char *address, *name;
        int days;
    } waiting[] = {{"zoe@example.test", "Zoë Ñúñez", 12}, {"joerg@example.test", "Jörg Weiß", 3}};
    char path[400], err[256];
    time_t now = time(NULL);

    snprintf(path, sizeof(path), "%s/digest.db", s->dir);
    if (store_open(path, &s->st, err, sizeof(err)) != 0) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    for (size_t i = 0; i < sizeof(waiting) / sizeof(waiting[0]); i++) {
        time_t since = now - waiting[i].days * 86400;
        if (store_member_upsert(s->st, waiting[i].address, waiting[i].name, "newcomer", "active",
                                NULL, since, NULL) != 0 ||
            store_member_set_waiting(s->st, waiting[i].address, since) != 1)
            return -1;
    }
    return 0;
}

static int
render_all(void **state)
{
    struct deliver_state *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    const char *keep = getenv("DELIVER_KEEP");
    if (keep != NULL && *keep) {
        snprintf(s->dir, sizeof(s->dir), "%s", keep);
        s->keep = 1;
        if (mkdir(s->dir, 0755) != 0 && access(s->dir, W_OK) != 0) {
            free(s);
            return -1;
        }
    } else if (tu_mkdtemp(s->dir, sizeof(s->dir), "deliver") != 0) {
        free(s);
        return -1;
    }
    *state = s;
    return seed_programme(s);
}

static int
cleanup_all(void **state)
{
    struct deliver_state *s = *state;
    store_close(s->st);
    if (!s->keep)
        tu_rmrf(s->dir);
    free(s);
    return 0;
}

static void
test_every_template_renders_and_composes(void **state)
{
    struct deliver_state *s = *state;
    static char ref[128][DELIVER_NAME_LEN], names[128][DELIVER_NAME_LEN];
    size_t nref = template_names(DELIVER_REFERENCE, ref, 128), languages = 0;
    /* The project ships well over a dozen templates; none may be skipped. */
    assert_true(nref >= 15);

    DIR *d = opendir(DELIVER_TEMPLATES);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char help[512];
        snprintf(help, sizeof(help), "%s/%s/help.txt", DELIVER_TEMPLATES, e->d_name);
        if (e->d_name[0] == '.' || access(help, R_OK) != 0)
            continue; /* a language with data only (recognised, not written) */
        languages++;
        for (size_t i = 0; i < nref; i++)
            render_template(s, e->d_name, ref[i]);
        /* ... and nothing the English set lacks (a text nobody would send). */
        size_t n = template_names(e->d_name, names, 128);
        for (size_t i = 0; i < n; i++) {
            int known = 0;
            for (size_t k = 0; k < nref && !known; k++)
                known = strcmp(names[i], ref[k]) == 0;
            if (!known)
                fail_msg("templates/%s/%s.txt has no English counterpart", e->d_name, names[i]);
        }
    }
    closedir(d);
    /* English, Spanish, German, French and Portuguese at least. */
    assert_true(languages >= 5);
    assert_true(s->count == (int)(2 * nref * languages));
}

/* Run a checker script on the folder; its exit status is the verdict. */
static int
run_checker(const char *interp, const char *script, const char *dir, int quiet)
{
    char cmd[1024];
    /* quiet: a deliberate failure's figures must not reach tests/report.sh's output. */
    snprintf(cmd, sizeof(cmd), "%s '%s/tests/deliver/%s' '%s'%s", interp, MENTORD_SRCDIR, script,
             dir, quiet ? " >/dev/null" : "");
    fflush(stdout);
    int rc = system(cmd);
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static void
test_strict_parse_and_headers(void **state)
{
    struct deliver_state *s = *state;
    assert_true(s->count > 0);
    assert_int_equal(run_checker("python3", "check.py", s->dir, 0), 0);
}

static void
test_spamassassin_score(void **state)
{
    struct deliver_state *s = *state;
    assert_true(s->count > 0);
    if (system("perl -MMail::SpamAssassin -e 1 2>/dev/null") != 0) {
        print_message("SpamAssassin (Debian package spamassassin) is not installed\n");
        skip();
    }
    assert_int_equal(run_checker("perl", "spamcheck.pl", s->dir, 0), 0);
}

/*
 * The judges themselves: a message with the classic faults (no Date, no
 * Message-ID, raw 8-bit header, shouting subject) must fail both, or a green
 * run above would prove nothing.
 */
static void
test_judges_refuse_a_broken_message(void **state)
{
    (void)state;
    char dir[256];
    assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "deliver-bad"), 0);
    assert_int_equal(tu_write_file(dir, "new-bad.eml",
                                   "From: Open Source Caf\xc3\xa9 <" COMMUNITY_ADDR ">\r\n"
                                   "To: " MEMBER_ADDR "\r\n"
                                   "Subject: FREE MENTORING ACT NOW\r\n"
                                   "\r\n"
                                   "Hello, click here.\r\n"),
                     0);
    assert_int_equal(tu_write_file(dir, "new-bad.subject", "FREE MENTORING ACT NOW"), 0);
    assert_int_equal(run_checker("python3", "check.py", dir, 1), 1);
    if (system("perl -MMail::SpamAssassin -e 1 2>/dev/null") == 0)
        assert_int_equal(run_checker("perl", "spamcheck.pl", dir, 1), 1);
    tu_rmrf(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_template_renders_and_composes),
        cmocka_unit_test(test_strict_parse_and_headers),
        cmocka_unit_test(test_spamassassin_score),
        cmocka_unit_test(test_judges_refuse_a_broken_message),
    };
    return cmocka_run_group_tests(tests, render_all, cleanup_all);
}
