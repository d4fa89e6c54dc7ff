/*
 * Languages: the data files (names, plural rules, dates, requests, stop
 * words), recognising the language of a text, the template path with its
 * fallback and per-language override folders, and the programme writing to
 * each person in their language on the real store, parser and templates: a
 * Spanish join, a German volunteer, "please write to me in ...", the
 * managers' language, the greeting by the name given, and an introduction
 * between two people whose first languages differ.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "lifecycle.h"
#include "respond.h"
#include "schedule.h"
#include "lang.h"
#include "mail.h"
#include "profile.h"
#include "programme.h"
#include "reason.h"
#include "store.h"
#include "template.h"
#include "testutil.h"

#define T0 1767258000 /* 2026-01-01 09:00 UTC, a Thursday */
#define HOUR 3600
#define DAY 86400
#define TEMPLATES MENTORD_SRCDIR "/templates"

struct fixture {
    char dir[256];
    char path[300];
    struct config cfg;
    struct store *st;
    char *managers[2];
    int seq;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[256];

    assert_non_null(f);
    assert_int_equal(tu_mkdtemp(f->dir, sizeof(f->dir), "lang"), 0);
    snprintf(f->path, sizeof(f->path), "%s/m.db", f->dir);
    assert_int_equal(store_open(f->path, &f->st, err, sizeof(err)), 0);
    tu_test_config(&f->cfg, f->managers);
    f->cfg.digest.trusted_authserv = "mx.example.test";
    f->cfg.templates.language = "en";
    f->cfg.templates.managers_language = "en";
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->st);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

/* ---- the data and the pure functions ---- */

static void
detect(const char *text, const char *want)
{
    char code[LANG_CODE_MAX] = "";
    int rc = lang_detect(TEMPLATES, text, code);
    if (want == NULL) {
        if (rc == 0)
            fail_msg("'%s' was taken for %s", text, code);
        return;
    }
    if (rc != 0 || strcmp(code, want) != 0)
        fail_msg("'%s': wanted %s, got %s", text, want, rc == 0 ? code : "nothing");
}

static void
test_detects_the_language_of_a_text(void **state)
{
    (void)state;
    detect("Hi, I would like to join and find a mentor for my first steps.", "en");
    detect("Hola, me gustaría unirme al programa. Busco una mentora que me ayude.", "es");
    detect("Hallo, ich möchte gern als Mentorin mitmachen und anderen helfen.", "de");
    detect("Bonjour, je voudrais rejoindre le programme et trouver un mentor.", "fr");
    detect("Olá, eu gostaria de participar e encontrar uma mentoria, obrigado!", "pt");
    detect("Ciao, vorrei partecipare al programma e trovare un mentore.", "it");
    detect("Hallo, ik wil graag meedoen en een mentor vinden voor mijn eerste stappen.", "nl");
    /* Capitals and accents as people type them. */
    detect("HOLA, QUIERO UNIRME. ¿ME AYUDÁIS CON LA MENTORÍA?", "es");
    /* Too little to tell: no guess. */
    detect("join", NULL);
    detect("", NULL);
    detect("Python, C++, 42", NULL);
}

static void
requested(const char *text, const char *want)
{
    char code[LANG_CODE_MAX] = "";
    int rc = lang_requested(TEMPLATES, text, code);
    if (want == NULL) {
        if (rc == 0)
            fail_msg("'%s' was read as asking for %s", text, code);
        return;
    }
    if (rc != 0 || strcmp(code, want) != 0)
        fail_msg("'%s': wanted %s, got %s", text, want, rc == 0 ? code : "nothing");
}

static void
test_reads_a_request_for_a_language(void **state)
{
    (void)state;
    requested("Please write to me in Spanish.", "es");
    requested("Could you write to me in German from now on?", "de");
    requested("Escríbeme en alemán, por favor.", "de");
    requested("Bitte auf Deutsch!", "de");
    requested("Écrivez-moi en français s'il vous plaît", "fr");
    requested("Pode me escrever? Escreva-me em português.", "pt");
    requested("in English please", "en");
    /* Languages named without asking: a profile line, a skill. */
    requested("Languages: English, Spanish", NULL);
    requested("I teach Spanish and German at school.", NULL);
}

static void
test_names_codes_and_plural_forms(void **state)
{
    (void)state;
    char code[LANG_CODE_MAX];
    assert_int_equal(lang_from_name(TEMPLATES, "Spanish", code), 0);
    assert_string_equal(code, "es");
    assert_int_equal(lang_from_name(TEMPLATES, "Deutsch", code), 0);
    assert_string_equal(code, "de");
    assert_int_equal(lang_from_name(TEMPLATES, "pt-BR", code), 0);
    assert_string_equal(code, "pt");
    assert_int_equal(lang_from_name(TEMPLATES, "Klingon", code), -1);

    const struct lang *en = lang_get(TEMPLATES, "en"), *fr = lang_get(TEMPLATES, "fr");
    assert_non_null(en);
    assert_non_null(fr);
    assert_null(lang_get(TEMPLATES, "xx"));
    assert_int_equal(lang_plural(en, 1), 0);
    assert_int_equal(lang_plural(en, 0), 1);
    assert_int_equal(lang_plural(en, 3), 1);
    assert_int_equal(lang_plural(fr, 0), 0); /* « 0 jour » */
    assert_int_equal(lang_plural(fr, 2), 1);
    assert_true(lang_has_templates(TEMPLATES, "es"));
    assert_false(lang_has_templates(TEMPLATES, "it")); /* recognised, not written */
}

static void
date_is(const char *lang, const char *iso, const char *want)
{
    char out[128];
    assert_int_equal(lang_format_date(lang_get(TEMPLATES, lang), iso, out, sizeof(out)), 0);
    assert_string_equal(out, want);
}

static void
test_dates_in_each_language(void **state)
{
    (void)state;
    date_is("en", "2027-01-15", "Friday 15 January 2027");
    date_is("es", "2027-01-15", "viernes 15 de enero de 2027");
    date_is("de", "2027-01-15", "Freitag, 15. Januar 2027");
    date_is("fr", "2027-01-01", "vendredi 1er janvier 2027");
    date_is("pt", "2027-01-15", "sexta-feira, 15 de janeiro de 2027");
    date_is("de", "2026-03-01 09:05", "Sonntag, 1. März 2026, 9:05 Uhr");
    /* Not a date: the value as given, never a half-filled form. */
    char out[64];
    assert_int_equal(lang_format_date(lang_get(TEMPLATES, "es"), "soon", out, sizeof(out)), -1);
    assert_string_equal(out, "soon");
    /* Without language data (a flat folder of texts): English words. */
    assert_int_equal(lang_format_date(NULL, "2026-01-22", out, sizeof(out)), 0);
    assert_string_equal(out, "Thursday 22 January 2026");
}

static void
size_is(const char *lang, size_t bytes, const char *want)
{
    char out[64];
    lang_format_size(lang ? lang_get(TEMPLATES, lang) : NULL, bytes, out, sizeof(out));
    assert_string_equal(out, want);
}

/* The size in the too-large answer: the language's decimal sign and units. */
static void
test_sizes_in_each_language(void **state)
{
    const size_t mb = 1024 * 1024;

    (void)state;
    size_is("en", 23 * mb + 4 * mb / 10 + 1, "23.4 MB");
    size_is("es", 23 * mb + 4 * mb / 10 + 1, "23,4 MB");
    size_is("de", 23 * mb + 4 * mb / 10 + 1, "23,4 MB");
    size_is("fr", 23 * mb + 4 * mb / 10 + 1, "23,4 Mo");
    size_is("pt", 2 * mb, "2,0 MB");
    size_is("fr", 850 * 1024 + 3, "850 Ko");
    size_is(NULL, 2 * mb - 1, "1.9 MB"); /* rounded down: never the limit when over it */
    size_is(NULL, 64 * 1024, "64 KB");
}

static void
addressed(const char *name, const char *want)
{
    char out[64];
    lang_address_name(name, out, sizeof(out));
    assert_string_equal(out, want);
}

static void
test_greeting_uses_the_first_part_of_the_name(void **state)
{
    (void)state;
    addressed("Dániel Ørsted-Ñúñez", "Dániel");
    addressed("Ferreira, Ana", "Ana");
    addressed("  Nina Petrova ", "Nina");
    addressed("\"Rosa Ferreira\"", "Rosa");
    addressed("ann@example.test", "");
    addressed("", "");
    addressed(NULL, "");
}

/* {{n|day|days}} and {{d|date}} in a template, rendered in a language. */
static void
test_template_plural_and_date_forms(void **state)
{
    struct fixture *f = *state;
    char *s = NULL, *b = NULL, err[256];
    assert_int_equal(
        tu_write_file(f->dir, "t.txt", "Subject: {{n|day|days}}\n\n{{n|día|días}} {{d|date}}\n"),
        0);
    struct template_var one[] = {{"n", "1"}, {"d", "2026-01-22"}};
    assert_int_equal(template_render_lang(f->dir, "t", lang_get(TEMPLATES, "es"), one, 2, &s, &b,
                                          err, sizeof(err)),
                     0);
    assert_string_equal(s, "1 day");
    assert_string_equal(b, "1 día jueves 22 de enero de 2026\n");
    free(s);
    free(b);
    struct template_var three[] = {{"n", "3"}, {"d", "2026-01-22"}};
    assert_int_equal(template_render_lang(f->dir, "t", NULL, three, 2, &s, &b, err, sizeof(err)),
                     0);
    assert_string_equal(s, "3 days");
    free(s);
    free(b);
    /* A count that is not a number is a template error, not a guess. */
    struct template_var bad[] = {{"n", "some"}, {"d", "x"}};
    assert_int_equal(template_render_lang(f->dir, "t", NULL, bad, 2, &s, &b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a number"));
}

/*
 * The path: the language in every folder, then the default language, then
 * the folders themselves; a community's folder overrides per language.
 */
static void
test_template_path_and_overrides(void **state)
{
    struct fixture *f = *state;
    char path[1024], own[300], es[320], *s = NULL, *b = NULL, err[256];

    assert_int_equal(lang_template_path("/a:/b", "es", "en", path, sizeof(path)), 0);
    assert_string_equal(path, "/a/es:/b/es:/a/en:/b/en:/a:/b");
    assert_int_equal(lang_template_path("/a", "en", "en", path, sizeof(path)), 0);
    assert_string_equal(path, "/a/en:/a");
    /* A code that is none is left out; the path fits exactly, or is refused. */
    assert_int_equal(lang_template_path("/a:/b", "E!", "en", path, sizeof(path)), 0);
    assert_string_equal(path, "/a/en:/b/en:/a:/b");
    assert_int_equal(lang_template_path("/a", "es", "en", path, 18), 0);
    assert_string_equal(path, "/a/es:/a/en:/a");
    assert_int_equal(lang_template_path("/a", "es", "en", path, 15), 0);
    assert_int_equal(lang_template_path("/a", "es", "en", path, 14), -1);

    snprintf(own, sizeof(own), "%s/own", f->dir);
    snprintf(es, sizeof(es), "%s/es", own);
    assert_int_equal(mkdir(own, 0755), 0);
    assert_int_equal(mkdir(es, 0755), 0);
    assert_int_equal(tu_write_file(es, "help.txt", "Subject: Nuestra ayuda\n\nPregunta a Ana.\n"),
                     0);
    char dirs[700];
    snprintf(dirs, sizeof(dirs), "%s:%s", own, TEMPLATES);
    assert_int_equal(lang_template_path(dirs, "es", "en", path, sizeof(path)), 0);
    struct template_var v[] = {{"community_name", "C"},
                               {"community_address", "c@x.org"},
                               {"to_name", NULL},
                               {"role", "mentor"},
                               {"is_mentor", "yes"}};
    /* The community's Spanish help wins... */
    assert_int_equal(template_render(path, "help", v, 5, &s, &b, err, sizeof(err)), 0);
    assert_string_equal(s, "Nuestra ayuda");
    free(s);
    free(b);
    /* ...and the other Spanish texts still come from the shipped folder. */
    assert_int_equal(template_render(path, "already", v, 5, &s, &b, err, sizeof(err)), 0);
    assert_non_null(strstr(s, "Ya formas parte"));
    free(s);
    free(b);
    /* A language with data only falls back to the default language text by text. */
    assert_int_equal(lang_template_path(TEMPLATES, "it", "en", path, sizeof(path)), 0);
    assert_int_equal(template_render(path, "already", v, 5, &s, &b, err, sizeof(err)), 0);
    assert_non_null(strstr(s, "already part of C"));
    free(s);
    free(b);
}

/* ---- the programme, in languages ---- */

static char *
mail(struct fixture *f, const char *from, const char *subject, const char *extra, const char *body)
{
    char *raw = NULL;

    f->seq++;
    assert_true(
        asprintf(&raw,
                 "From: %s\r\nTo: mentors@example.test\r\nSubject: %s\r\n"
                 "Message-ID: <l%d@client.test>\r\nDate: Thu, 01 Jan 2026 10:00:00 +0000\r\n"
                 "%s\r\n%s",
                 from, subject, f->seq, extra ? extra : "", body) > 0);
    return raw;
}

static void
deliver(struct fixture *f, char *raw)
{
    struct mail *m = NULL;
    struct programme_result res;
    char err[256];

    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof(err)), 0);
    assert_int_equal(store_begin(f->st), 0);
    int rc = programme_handle_mail(&f->cfg, f->st, m, raw, strlen(raw), strlen(raw), T0, &res);
    if (rc != 0)
        fail_msg("programme_handle_mail returned %d (%s)", rc, res.detail);
    assert_int_equal(store_commit(f->st), 0);
    mail_free(m);
    free(raw);
}

/* Quoted-printable decoded in place (soft line breaks joined). */
static void
qp_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
            p += 2;
        } else if (p[0] == '=' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

struct sent {
    char rcpt[128], msgid[128], headers[4096], body[16384];
};

/*
 * The newest outbox mail to rcpt (any when NULL) about the conversation ref
 * (any when NULL), body decoded; 0 when there is none.
 */
static int
last_about(struct fixture *f, const char *rcpt, const char *ref, struct sent *s)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    int found = 0;

    memset(s, 0, sizeof(*s));
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT recipient, message_id, headers, body FROM outbox"
                                        " WHERE (?1 IS NULL OR recipient = ?1)"
                                        " AND (?2 IS NULL OR ref = ?2)"
                                        " ORDER BY id DESC LIMIT 1",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, rcpt, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, ref, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        snprintf(s->rcpt, sizeof(s->rcpt), "%s", sqlite3_column_text(stmt, 0));
        snprintf(s->msgid, sizeof(s->msgid), "%s", sqlite3_column_text(stmt, 1));
        snprintf(s->headers, sizeof(s->headers), "%s", sqlite3_column_text(stmt, 2));
        snprintf(s->body, sizeof(s->body), "%s", sqlite3_column_text(stmt, 3));
        qp_decode(s->body);
        found = 1;
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return found;
}

static int
last_to(struct fixture *f, const char *rcpt, struct sent *s)
{
    return last_about(f, rcpt, NULL, s);
}

static void
assert_in(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("'%s' not found in:\n%s", needle, hay);
}

static void
confirm(struct fixture *f, const char *from)
{
    struct sent s;
    char extra[256];
    assert_true(last_to(f, NULL, &s));
    snprintf(extra, sizeof(extra), "In-Reply-To: <%s>\r\n", s.msgid);
    deliver(f, mail(f, from, "Re: confirm", extra, "\r\n"));
}

/* Gmail's HTML-only mail: the Spanish text is in the HTML part alone. */
static void
test_spanish_html_only_join_is_answered_in_spanish(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    deliver(f, mail(f, "=?UTF-8?Q?Mar=C3=ADa_Jos=C3=A9_Garc=C3=ADa?= <maria@example.test>",
                    "unirme", "MIME-Version: 1.0\r\nContent-Type: text/html; charset=UTF-8\r\n",
                    "<div dir=\"ltr\">Hola, me gustar&iacute;a unirme al programa de "
                    "mentor&iacute;a. Busco a alguien que me ayude con Python.</div>\r\n"));
    assert_true(last_to(f, "maria@example.test", &s));
    assert_in(s.headers, "Content-Language: es");
    /* To an address that confirmed nothing: no name a stranger could have written. */
    assert_in(s.body, "Hola:");
    assert_in(s.body, "Para confirmarlo");
    confirm(f, "Maria <maria@example.test>"); /* a bare reply, another display name */
    assert_true(last_to(f, "maria@example.test", &s));
    assert_in(s.headers, "Content-Language: es");
    assert_in(s.body, "Gracias por confirmar");
    /* The name she gave stays: "Maria" from the reply's From: did not replace it. */
    assert_in(s.body, "Hola Mar\xc3\xad"
                      "a:");
    struct store_member m;
    assert_int_equal(store_member_get(f->st, "maria@example.test", &m), 1);
    assert_string_equal(m.name, "Mar\xc3\xad"
                                "a Jos\xc3\xa9 Garc\xc3\xad"
                                "a");
    assert_string_equal(m.language_seen, "es");
    store_member_free(&m);
}

static void
test_german_volunteer_and_a_change_of_language(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    deliver(f, mail(f, "Jürgen Weiß <juergen@example.test>", "Mentor",
                    "Content-Type: text/plain; charset=UTF-8\r\n",
                    "Hallo, ich möchte gern als Mentor mitmachen und anderen bei Rust "
                    "helfen.\r\n"));
    assert_true(last_to(f, "juergen@example.test", &s));
    assert_in(s.headers, "Content-Language: de");
    assert_in(s.body, "Hallo,"); /* a stranger yet: no name */
    confirm(f, "juergen@example.test");
    assert_true(last_to(f, "juergen@example.test", &s));
    assert_in(s.headers, "Content-Language: de");
    assert_in(s.body, "danke f\xc3\xbcr deine Best\xc3\xa4tigung");
    /* STATUS in English words: he still reads German (his language is kept). */
    deliver(f, mail(f, "juergen@example.test", "status", NULL, "\r\n"));
    assert_true(last_to(f, "juergen@example.test", &s));
    assert_in(s.headers, "Content-Language: de");
    /*
     * He asks for Spanish in words, in a new mail that proves nothing: the
     * change waits for his reply to a short mail, already in Spanish.
     */
    deliver(f, mail(f, "juergen@example.test", "Sprache",
                    "Content-Type: text/plain; charset=UTF-8\r\n",
                    "Bitte schreib mir auf Spanisch.\r\n"));
    assert_true(last_to(f, "juergen@example.test", &s));
    assert_in(s.headers, "Content-Language: es");
    assert_in(s.body, "escribirte en espa\xc3\xb1ol a partir de ahora");
    char ask[256];
    snprintf(ask, sizeof(ask), "In-Reply-To: <%s>\r\n", s.msgid);
    deliver(f, mail(f, "juergen@example.test", "status", NULL, "\r\n"));
    assert_true(last_to(f, "juergen@example.test", &s));
    assert_in(s.headers, "Content-Language: de"); /* nothing changed yet */
    deliver(f, mail(f, "juergen@example.test", "Re: confirm", ask, "\r\n"));
    assert_true(last_to(f, "juergen@example.test", &s));
    assert_in(s.headers, "Content-Language: es");
    assert_in(s.body, "A partir de ahora te escribiremos en espa\xc3\xb1ol");
    deliver(f, mail(f, "juergen@example.test", "status", NULL, "\r\n"));
    assert_true(last_to(f, "juergen@example.test", &s));
    assert_in(s.headers, "Content-Language: es");
    /*
     * A profile line chooses too; the latest choice holds, the answer already in it.
     * A profile change acts at once on proof (here our own server's DMARC pass).
     */
    deliver(f, mail(f, "juergen@example.test", "profile",
                    "Authentication-Results: mx.example.test; dmarc=pass "
                    "header.from=example.test\r\n",
                    "Language: French\r\n"));
    assert_true(last_to(f, "juergen@example.test", &s));
    assert_in(s.headers, "Content-Language: fr");
    deliver(f, mail(f, "juergen@example.test", "status", NULL, "\r\n"));
    assert_true(last_to(f, "juergen@example.test", &s));
    assert_in(s.headers, "Content-Language: fr");
    /* The same line in a new mail that proves nothing waits for the reply, then chooses. */
    deliver(f, mail(f, "juergen@example.test", "profile", NULL, "Language: Portuguese\r\n"));
    assert_true(last_to(f, "juergen@example.test", &s));
    assert_in(s.headers, "Content-Language: fr");
    assert_in(s.body, "CONFIRM "); /* the confirmation, not the change */
    confirm(f, "juergen@example.test");
    deliver(f, mail(f, "juergen@example.test", "status", NULL, "\r\n"));
    assert_true(last_to(f, "juergen@example.test", &s));
    assert_in(s.headers, "Content-Language: pt");
}

/*
 * A newcomer's first mail asks for a language other than the one its
 * profile lists first: the languages are recorded with the member row
 * (membership.c), so the confirmation is already in the one asked for, as
 * it is for a sender whose row existed before.
 */
static void
test_join_asking_a_language_is_confirmed_in_it(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    struct store_member m;

    deliver(f, mail(f, "Ana <ana@example.test>", "join", NULL,
                    "Hi, I would like a mentor. Please write to me in Spanish.\r\n"
                    "Languages: English, Spanish\r\n"));
    assert_true(last_to(f, "ana@example.test", &s));
    assert_in(s.headers, "Content-Language: es");
    assert_in(s.body, "Para confirmarlo");
    assert_int_equal(store_member_get(f->st, "ana@example.test", &m), 1);
    assert_string_equal(m.language, "es");
    assert_string_equal(m.language_seen, "es");
    store_member_free(&m);
}

static void
test_profile_language_and_content_language_header(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    /* The first listed language with texts, though the mail is in English. */
    deliver(f, mail(f, "Ana <ana@example.test>", "join", NULL,
                    "Hi, I would like a mentor.\r\nLanguages: Italian, Portuguese, English\r\n"));
    assert_true(last_to(f, "ana@example.test", &s));
    assert_in(s.headers, "Content-Language: pt");
    /* Nothing to go by but the header: it decides. */
    deliver(f, mail(f, "luc@example.test", "join", "Content-Language: fr-CA\r\n", "join\r\n"));
    assert_true(last_to(f, "luc@example.test", &s));
    assert_in(s.headers, "Content-Language: fr");
    /* Nothing at all: the community's language. */
    f->cfg.templates.language = "de";
    deliver(f, mail(f, "kim@example.test", "join", NULL, "join\r\n"));
    assert_true(last_to(f, "kim@example.test", &s));
    assert_in(s.headers, "Content-Language: de");
}

static void
test_managers_get_their_language(void **state)
{
    struct fixture *f = *state;
    struct sent s;

    f->cfg.templates.managers_language = "fr";
    deliver(f, mail(f, "boss@example.test", "list waiting", NULL, "\r\n"));
    assert_true(last_to(f, "boss@example.test", &s));
    assert_in(s.headers, "Content-Language: fr");
    assert_in(s.body, "Commandes de coordination");
}

/* ---- the introduction: one text to both, in a language both read ---- */

static int64_t
add_member(struct fixture *f, const char *addr, const char *name, const char *role,
           const char *profile)
{
    int64_t id = 0;
    assert_int_equal(store_member_upsert(f->st, addr, name, role, "active", profile, T0 - DAY, &id),
                     0);
    return id;
}

/* Pair them and run what falls due; ref gets the pair's conversation ref. */
static void
introduce(struct fixture *f, int64_t newcomer, int64_t mentor, char ref[32])
{
    int64_t id = 0;
    assert_int_equal(store_begin(f->st), 0);
    assert_int_equal(store_pair_add(f->st, newcomer, mentor, "active", 100, NULL, T0,
                                    T0 + f->cfg.lifecycle.length, &id, ref, 32),
                     0);
    assert_int_equal(lifecycle_pair_started(&f->cfg, f->st, id, T0), 0);
    assert_int_equal(store_commit(f->st), 0);
    for (int rc = 1; rc == 1;) {
        assert_int_equal(store_begin(f->st), 0);
        rc = schedule_run_due(&f->cfg, f->st, T0 + HOUR);
        assert_true(rc >= 0);
        assert_int_equal(store_commit(f->st), 0);
    }
}

static void
test_introduction_in_the_language_both_read(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    int64_t rosa = add_member(f, "rosa@example.test", "Rosa Ferreira", "newcomer",
                              "Languages: Spanish, English\n");
    int64_t nina = add_member(f, "nina@example.test", "Nina Petrova", "mentor",
                              "Languages: German, English\n");
    char ref[32];
    introduce(f, rosa, nina, ref);
    for (int i = 0; i < 2; i++) {
        const char *who = i == 0 ? "rosa@example.test" : "nina@example.test";
        assert_true(last_about(f, who, ref, &s));
        assert_in(s.headers, "Content-Language: en");
        assert_in(s.body, "We are writing in English, the language you both read.");
        assert_in(s.body, "Hello Rosa and Nina,");
        assert_in(s.body, "Rosa, write to Nina"); /* first names, as people address each other */
    }
}

static void
test_introduction_in_a_shared_first_language(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    int64_t a =
        add_member(f, "lia@example.test", "Lía Gómez", "newcomer", "Languages: Spanish, English\n");
    int64_t b = add_member(f, "teo@example.test", "Teo Ruiz", "mentor", "Languages: Spanish\n");
    char ref[32];
    introduce(f, a, b, ref);
    assert_true(last_about(f, "teo@example.test", ref, &s));
    assert_in(s.headers, "Content-Language: es");
    assert_in(s.body, "Hola, L\xc3\xad"
                      "a y Teo:");
    assert_null(strstr(s.body, "el idioma que"));
}

/* Nothing in common on record: the community's language, and no claim that both read it. */
static void
test_introduction_without_a_known_shared_language(void **state)
{
    struct fixture *f = *state;
    struct sent s;
    int64_t a = add_member(f, "ines@example.test", "Inés Mora", "newcomer", "Languages: Spanish\n");
    int64_t b = add_member(f, "uwe@example.test", "Uwe Brandt", "mentor", "Languages: German\n");
    char ref[32];
    introduce(f, a, b, ref);
    assert_true(last_about(f, "ines@example.test", ref, &s));
    assert_in(s.headers, "Content-Language: en");
    assert_null(strstr(s.body, "you both read"));
}

/*
 * Why two people were paired: every form match.c writes, written again in
 * each language with the listed words as spelt; English gives back the
 * stored text; a reason of another form stays as it is.
 */
static void
test_reasons_in_each_language(void **state)
{
    (void)state;
    static const char *const stored = "you both listed Rust, C and Documentation\n"
                                      "both speak Spanish and English\n"
                                      "you share the goal open source\n"
                                      "you share the goals talks and reviews\n"
                                      "same time zone\n"
                                      "one hour apart\n"
                                      "three hours apart\n"
                                      "30 minutes apart\n"
                                      "5 h 30 min apart\n"
                                      "matched by hand (boss@example.test)\n"
                                      "an older reason";
    static const struct {
        const char *code, *want;
    } cases[] = {
        {"en", "  - you both listed Rust, C and Documentation\n"
               "  - both speak Spanish and English\n"
               "  - you share the goal open source\n"
               "  - you share the goals talks and reviews\n"
               "  - same time zone\n"
               "  - one hour apart\n"
               "  - 3 hours apart\n"
               "  - 30 minutes apart\n"
               "  - 5 h 30 min apart\n"
               "  - matched by hand (boss@example.test)\n"
               "  - an older reason"},
        {"es", "  - intereses en común: Rust, C y Documentation\n"
               "  - idiomas en común: Spanish y English\n"
               "  - objetivo en común: open source\n"
               "  - objetivos en común: talks y reviews\n"
               "  - la misma zona horaria\n"
               "  - una hora de diferencia\n"
               "  - 3 horas de diferencia\n"
               "  - 30 minutos de diferencia\n"
               "  - 5 h 30 min de diferencia\n"
               "  - pareja formada a mano (boss@example.test)\n"
               "  - an older reason"},
        {"de", NULL},
        {"fr", NULL},
        {"pt", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = reason_lines(lang_get(TEMPLATES, cases[i].code), stored);
        assert_non_null(got);
        if (cases[i].want != NULL)
            assert_string_equal(got, cases[i].want);
        /* Only the listed words and the unknown reason stay English. */
        if (strcmp(cases[i].code, "en") != 0) {
            assert_null(strstr(got, "listed"));
            assert_null(strstr(got, "apart"));
            assert_null(strstr(got, "share"));
            assert_null(strstr(got, "time zone"));
            assert_null(strstr(got, "by hand"));
            assert_non_null(strstr(got, "  - an older reason"));
        }
        free(got);
    }
    assert_null(reason_lines(NULL, ""));
    assert_null(reason_lines(NULL, NULL));
}

/* A profile line that could not be read is explained in the reader's language. */
static void
test_profile_hints_in_each_language(void **state)
{
    (void)state;
    struct profile p;
    assert_int_equal(
        profile_parse(
            "Skills: python\nTime zone: Mars/Olympus\nCapacity: lots\nLanguages: Klingon, "
            "Quenya\nFavourite colour: blue\n",
            &p),
        0);
    assert_int_equal(p.n_problems, 4);
    static const struct {
        const char *code, *tz, *capacity, *languages, *unknown;
    } want[] = {
        {"en", "Time zone: 'Mars/Olympus' is not a time zone I know.",
         "Capacity: 'lots' is not a number of mentees from 1 to 20.",
         "Languages: 'klingon', 'quenya' are not languages I know.", "We keep only these details:"},
        {"es", "Time zone: no conocemos la zona horaria «Mars/Olympus».",
         "Capacity: «lots» no es un número de personas entre 1 y 20.",
         "Languages: no conocemos los idiomas 'klingon', 'quenya'.", "Solo guardamos estos datos:"},
        {"de", "Die Zeitzone „Mars/Olympus“ kennen wir nicht.", "„lots“ ist keine Zahl",
         "Die Sprachen 'klingon', 'quenya' kennen wir nicht.", "Wir speichern nur diese Angaben:"},
        {"fr", "nous ne connaissons pas le fuseau horaire « Mars/Olympus ».",
         "« lots » n'est pas un nombre", "nous ne connaissons pas les langues 'klingon', 'quenya'.",
         "Nous ne gardons que ces informations"},
        {"pt", "não conhecemos o fuso horário \"Mars/Olympus\".", "\"lots\" não é um número",
         "não conhecemos os idiomas 'klingon', 'quenya'.", "Guardamos só estes dados:"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct lang *l = lang_get(TEMPLATES, want[i].code);
        const char *parts[4] = {want[i].tz, want[i].capacity, want[i].languages, want[i].unknown};
        for (size_t k = 0; k < 4; k++) {
            char *h = profile_problem_hint(&p.problems[k], l);
            assert_non_null(h);
            if (strstr(h, parts[k]) == NULL)
                fail_msg("%s problem %zu: \"%s\" lacks \"%s\"", want[i].code, k, h, parts[k]);
            free(h);
        }
    }
    /* A huge line comes back short in every language: its values are cut as the line is. */
    size_t big = 1 << 20;
    char *huge = malloc(big + 32);
    assert_non_null(huge);
    strcpy(huge, "Skills: c\nLanguages: ");
    for (size_t k = strlen(huge); k < big; k += 2)
        memcpy(huge + k, "x,", 3);
    struct profile q;
    assert_int_equal(profile_parse(huge, &q), 0);
    free(huge);
    assert_true(q.n_problems >= 1);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char *hq = profile_problem_hint(&q.problems[0], lang_get(TEMPLATES, want[i].code));
        assert_non_null(hq);
        assert_true(strlen(hq) < 1200);
        free(hq);
    }
    profile_free(&q);
    /* Without language data the English hint is given as it was written. */
    char *h = profile_problem_hint(&p.problems[0], NULL);
    assert_string_equal(h, p.problems[0].hint);
    free(h);
    profile_free(&p);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_detects_the_language_of_a_text),
        T(test_reads_a_request_for_a_language),
        T(test_names_codes_and_plural_forms),
        T(test_dates_in_each_language),
        T(test_sizes_in_each_language),
        T(test_greeting_uses_the_first_part_of_the_name),
        T(test_reasons_in_each_language),
        T(test_profile_hints_in_each_language),
        T(test_template_plural_and_date_forms),
        T(test_template_path_and_overrides),
        T(test_spanish_html_only_join_is_answered_in_spanish),
        T(test_german_volunteer_and_a_change_of_language),
        T(test_join_asking_a_language_is_confirmed_in_it),
        T(test_profile_language_and_content_language_header),
        T(test_managers_get_their_language),
        T(test_introduction_in_the_language_both_read),
        T(test_introduction_in_a_shared_first_language),
        T(test_introduction_without_a_known_shared_language),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
