/*
 * reply_extract: hand-written cases for each client style and language, the
 * "a command in a quote is never read" premise, pathological inputs, and the
 * accuracy over ../shared/corpus/replies (tests/data/replies_expected.tsv,
 * generated from the corpus's expected.json by tests/data/gen_replies_expected.py).
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
#include <time.h>

#include "mail.h"
#include "reply.h"
#include "testutil.h"

#define CORPUS MENTORD_SRCDIR "/../shared/corpus/replies"
#define EXPECTED MENTORD_SRCDIR "/tests/data/replies_expected.tsv"

/* ---- helpers ------------------------------------------------------------ */

/* 1 when the extracted text of text contains needle (case-sensitive). */
static int
extract_contains(const char *text, const char *needle)
{
    char *got = reply_extract(text);
    assert_non_null(got);
    int found = strstr(got, needle) != NULL;
    free(got);
    return found;
}

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *p = realloc(buf, cap * 2 + 1);
            if (p == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * The body text of a corpus file as the daemon would see it: .eml files go
 * through mail_parse, HTML bodies through mail_parse as a text/html message
 * (so mail.c's gumbo converter makes the text), the rest is the body itself.
 */
static char *
corpus_text(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", CORPUS, name);
    size_t len;
    char *raw = read_file(path, &len);
    if (raw == NULL)
        return NULL;
    if (!ends_with(name, ".eml") && !ends_with(name, ".html"))
        return raw;
    char *msg = raw;
    if (ends_with(name, ".html")) {
        const char *hdr = "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n";
        size_t hlen = strlen(hdr);
        msg = malloc(hlen + len + 1);
        if (msg == NULL) {
            free(raw);
            return NULL;
        }
        memcpy(msg, hdr, hlen);
        memcpy(msg + hlen, raw, len + 1);
        len += hlen;
        free(raw);
    }
    struct mail *m = NULL;
    char err[256];
    char *text = NULL;
    if (mail_parse(msg, len, &m, err, sizeof(err)) == 0) {
        text = strdup(m->text ? m->text : "");
        mail_free(m);
    } else {
        fprintf(stderr, "reply corpus: %s: mail_parse: %s\n", name, err);
    }
    free(msg);
    return text;
}

static void
unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r == '\\' && r[1] != '\0') {
            r++;
            *w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* Copy of s with leading and trailing whitespace removed. */
static char *
stripped(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

/* Copy of s with every whitespace character removed. */
static char *
squeezed(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    if (out == NULL)
        return NULL;
    size_t k = 0;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            out[k++] = *s;
    out[k] = '\0';
    return out;
}

/* Length of s without the whitespace at its very end. */
static size_t
content_len(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return n;
}

/*
 * The corpus's compare modes.  "exact" is byte for byte except for whitespace
 * at the very end: the last line's line end is not content (include/reply.h
 * drops it), and the sources disagree on it (crisp's exact assertions keep
 * "\n\n" after the last line, erp's and wd's keep nothing).  Leading and
 * inner whitespace still count.
 */
static int
texts_match(const char *got, const char *want, const char *mode)
{
    if (strcmp(mode, "exact") == 0) {
        size_t n = content_len(got);
        return n == content_len(want) && memcmp(got, want, n) == 0;
    }
    char *a = strcmp(mode, "strip") == 0 ? stripped(got) : squeezed(got);
    char *b = strcmp(mode, "strip") == 0 ? stripped(want) : squeezed(want);
    assert_non_null(a);
    assert_non_null(b);
    int same = strcmp(a, b) == 0;
    free(a);
    free(b);
    return same;
}

/* Split a TSV line into at most n fields in place; returns the count. */
static int
split_tabs(char *line, char **fields, int n)
{
    int k = 0;
    fields[k++] = line;
    for (char *p = line; *p && k < n; p++) {
        if (*p == '\t') {
            *p = '\0';
            fields[k++] = p + 1;
        }
    }
    line[strcspn(line, "\n")] = '\0';
    for (int i = 0; i < k; i++)
        fields[i][strcspn(fields[i], "\n")] = '\0';
    return k;
}

static int
corpus_present(void)
{
    DIR *d = opendir(CORPUS);
    if (d == NULL)
        return 0;
    closedir(d);
    return 1;
}

/* ---- hand-written cases: one per client style and language ---------------- */

struct reply_case {
    const char *name;
    const char *in;
    const char *want;
};

static void
check_all(const struct reply_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *got = reply_extract(cases[i].in);
        assert_non_null(got);
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "case %s\n--- want:\n%s\n--- got:\n%s\n---\n", cases[i].name,
                    cases[i].want, got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

#define CHECK_ALL(cases) check_all(cases, sizeof(cases) / sizeof(cases[0]))

static void
test_gmail_attributions(void **state)
{
    (void)state;
    static const struct reply_case cases[] = {
        {"gmail one line",
         "Yes, Tuesday works.\n\nOn Mon, Mar 2, 2026 at 9:15 AM Ann Lee <ann@example.org> "
         "wrote:\n\n> Does Tuesday work for you?\n> Ann\n",
         "Yes, Tuesday works."},
        {"gmail wrapped after <",
         "Sounds good.\n\nOn Mon, Mar 2, 2026 at 9:15 AM The Mentoring Programme <\n"
         "mentors@example.org> wrote:\n\n> Your mentor is Ann.\n",
         "Sounds good."},
        {"gmail wrapped before wrote",
         "Thanks!\n\nOn Wed, May 18, 2016 at 11:10 PM Steven Scott <s@example.com>\nwrote:\n\n"
         "> Hello\n",
         "Thanks!"},
        {"gmail date first",
         "Fine by me.\n\n2016-10-24 15:36 GMT+02:00 Foo Bar <\nfoo@example.com>:\n\n> Hi\n",
         "Fine by me."},
        {"verb-less address form",
         "Ok.\n\n26.06.2014, 14:41, \"Alexander L\" <abc@example.com>:\n> Hello! How are you?\n",
         "Ok."},
        {"no date, address only",
         "Agreed.\n\nSome One <one@example.com> wrote:\n\nThe original, not quoted.\n", "Agreed."},
        {"attribution without quote marks below: the rest is the original",
         "My reply.\n\nOn Nov 26, 2013 you wrote:\n\nThis is my quote.", "My reply."},
        {"three-line attribution (Apple)",
         "New reply.\n\nOn Nov 21, 2014,\nat 10:18,\nJohn Doe <john@doe123.com> wrote:\n\n> Ok.\n",
         "New reply."},
        {"greeting with a comma stays",
         "Hi,\nOn Tue, 2011-03-01 at 18:02 +0530, Ann wrote:\n> Q\n\nA.\n", "Hi,\nA."},
        {"truncated On line above a quote",
         "On Monday, December 15, 2024, at 3:45:32 PM EST, John Smith <john@exam\n> JOIN\n", ""},
    };
    CHECK_ALL(cases);
}

static void
test_localised_attributions(void **state)
{
    (void)state;
    static const struct reply_case cases[] = {
        {"de",
         "Gerne!\n\nAm 03.02.2026 um 15:35 schrieb Max Mustermann <max@example.de>:\n\n> Hallo\n",
         "Gerne!"},
        {"de wrapped (Google)",
         "Okay.\n\nMax Mustermann <max@example.de> schrieb am Fr., 28.\nApr. 2017 um 11:53 "
         "Uhr:\n\n> Hallo\n",
         "Okay."},
        {"fr",
         "Merci !\n\nLe 4 janv. 2016 19:03, \"Neil Lalonde\"\n<neil@example.fr>\na écrit :\n\n"
         "> Bonjour\n",
         "Merci !"},
        {"es", "Claro.\n\nEl jueves, 21 de noviembre de 2013, Ana escribió:\n\n> Hola\n", "Claro."},
        {"it",
         "Va bene.\n\nIl giorno 8 dic 2016, alle ore 10:05, Dino <dino@example.it> ha "
         "scritto:\n\n> Ciao\n",
         "Va bene."},
        {"nl",
         "Prima.\n\nOp 12 december 2016 19:05 schreef Jeroen <\njeroen@example.nl>:\n\n> Hoi\n",
         "Prima."},
        {"nl long",
         "Top.\n\nOp 16 aug. 2014 05:13 schreef \"Jan\" <jan@example.nl> het\nvolgende "
         "geschreven:\n\n> Hoi\n",
         "Top."},
        {"pl",
         "Dzięki.\n\nW dniu 2017-01-09 11:59:39 użytkownik Ola <ola@example.pl> pisze:\n\n"
         "> Cześć\n",
         "Dzięki."},
        {"pl napisał(a)",
         "Ok.\n\nDnia 14 lip 2015 o godz. 00:25 Michał <m@example.pl> napisał(a):\n\n> Hej\n",
         "Ok."},
        {"ru",
         "Да.\n\n20 окт. 2016 г. 19:37 пользователь \"Rafael\" <\nr@example.ru> написал:\n\n"
         "> Привет\n",
         "Да."},
        {"ru написал(а)",
         "Спасибо.\n\n6 октября 2014 г., 10:00 пользователь Лена "
         "<l@example.ru> написал(а):\n\n> Привет\n",
         "Спасибо."},
        {"da/no skrev",
         "Fint.\n\nDen 15. jun. 2016 kl. 20.42 skrev Jeff <jeff@example.no>:\n\n> Hei\n", "Fint."},
        {"fi",
         "Kiitos!\n\npe 20. lokakuuta 2017 klo 17.50 John Coe\n<john@example.fi> "
         "kirjoitti:\n\n> Moi\n",
         "Kiitos!"},
        {"pt",
         "Olá.\n\nEm 2 de fevereiro de 2015 10:58, discourse <\ninfo@example.org> "
         "escreveu:\n\n> Bom dia\n",
         "Olá."},
        {"zh", "好的。\n\n在 2016年12月12日，下午8:45，Erlend <e@example.com> 写道：\n\n> 你好\n",
         "好的。"},
        {"ja",
         "了解です。\n\n2024年1月15日(月) 10:00 Taro Yamada <taro@example.jp>:\n\n> こんにちは\n",
         "了解です。"},
        {"uk", "Дякую.\n\n30 серп. 2016 р. 20:45 \"Arpit\" <a@example.com> пише:\n\n> Привіт\n",
         "Дякую."},
    };
    CHECK_ALL(cases);
}

static void
test_outlook_blocks(void **state)
{
    (void)state;
    static const struct reply_case cases[] = {
        {"original message",
         "Yes.\n\n-----Original Message-----\nFrom: Ann <ann@example.org>\n"
         "Sent: Monday, March 2, 2026 9:15 AM\nTo: Bob\nSubject: Hi\n\nHello\n",
         "Yes."},
        {"headers without separator",
         "Yes.\n\nFrom: Ann [mailto:ann@example.org]\nSent: Monday, March 2, 2026 9:15 AM\nTo: "
         "Bob\nSubject: Hi\n\nHello\n",
         "Yes."},
        {"underscore rule",
         "Yes.\n________________________________\nFrom: Ann <ann@example.org>\n"
         "Sent: Monday\nTo: Bob\nSubject: Hi\n\nHello\n",
         "Yes."},
        {"bold headers",
         "Yes.\n\n*From:* Ann [mailto:ann@example.org]\n*Sent:* Monday\n*To:* "
         "bob@example.org\n*Subject:* Hi\n\nHello\n",
         "Yes."},
        {"de",
         "Ja.\n\n-----Ursprüngliche Nachricht-----\nVon: Ann <ann@example.de>\nGesendet: "
         "Montag\nAn: Bob\nBetreff: Hallo\n\nHallo\n",
         "Ja."},
        {"de without separator",
         "Ja.\n\nVon: Ann <ann@example.de>\nGesendet: Montag, 2. März "
         "2026 09:15\nAn: Bob\nBetreff: Hallo\n\nHallo\n",
         "Ja."},
        {"fr",
         "Oui.\n\nDe : Ann <ann@example.fr>\nEnvoyé : lundi 2 mars 2026 09:15\nÀ : Bob\n"
         "Objet : Bonjour\n\nBonjour\n",
         "Oui."},
        {"es",
         "Sí.\n\n-----Mensaje original-----\nDe: Ana\nEnviado: lunes\nPara: Bob\nAsunto: "
         "Hola\n\nHola\n",
         "Sí."},
        {"ru capitals",
         "Да.\n\nОт: Анна\nОтправлено: 2 марта 2026\nКому: Боб\nТема: Привет\n\n"
         "Привет\n",
         "Да."},
        {"zh",
         "好。\n\n发件人: Ann <ann@example.com>\n发送时间: 2017年8月2日 15:37\n收件人: Bob\n"
         "主题: Hi\n\nHello\n",
         "好。"},
        {"forwarded (gmail)",
         "See below.\n\n---------- Forwarded message ---------\nFrom: Ann "
         "<ann@example.org>\nDate: Mon, Mar 2, 2026\n\nJOIN\n",
         "See below."},
        {"apple forward",
         "FYI\n\nBegin forwarded message:\n\nFrom: Ann <ann@example.org>\n"
         "Subject: Hi\n\nJOIN\n",
         "FYI"},
        {"zoho",
         "Sure.\n\n---- On Wed, 24 Feb 2021 14:02:50 +0530 john@example.com wrote "
         "----\n\nJava\n",
         "Sure."},
    };
    CHECK_ALL(cases);
}

static void
test_apple_and_thunderbird(void **state)
{
    (void)state;
    static const struct reply_case cases[] = {
        {"apple mail quoted attribution",
         "Hello\n> On 22 Aug 2015, at 19:21, Adam <adam@example.com> wrote:\n>\n> Hi there!\n",
         "Hello"},
        {"apple mail", "Hello\n\nOn Apr 3, 2012, at 4:19 PM, bob wrote:\n\n> Hi\n", "Hello"},
        {"thunderbird bottom post", "On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\nHello\n",
         "Hello"},
        {"supercite quote", "Before.\n\nRichard> quoted text\nRichard> more\n", "Before."},
    };
    CHECK_ALL(cases);
}

static void
test_footers_and_signatures(void **state)
{
    (void)state;
    static const struct reply_case cases[] = {
        {"iphone", "Here is my answer\n\nSent from my iPhone\n", "Here is my answer"},
        {"android", "Ok\n\nSent from my Android phone\n", "Ok"},
        {"samsung", "Ok\n\nSent from my Samsung Galaxy smartphone.\n", "Ok"},
        {"outlook ios", "Ok\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n", "Ok"},
        {"fr iphone", "D'accord\n\nEnvoyé de mon iPhone\n", "D'accord"},
        {"de iphone", "Gut\n\nVon meinem iPhone gesendet\n", "Gut"},
        {"es iphone", "Vale\n\nEnviado desde mi iPhone\n", "Vale"},
        {"no ipad", "Takk\n\nSendt fra min iPad\n", "Takk"},
        {"footer ends the text",
         "Yes\n\nSent from my iPhone\n\nOn Mon, Mar 2, 2026, Ann <a@b.org> "
         "wrote:\nJOIN\n",
         "Yes"},
        {"unknown device, short line", "Ok\n\nSent from my Wiko RIDGE FAB 4G\n\nOld text\n", "Ok"},
        {"not a footer",
         "Here is another email\n\nSent from my desk, is much easier then my "
         "mobile phone.\n",
         "Here is another email\n\nSent from my desk, is much easier then my mobile phone."},
        {"not a footer mid-sentence", "The notice was sent from my iPhone app to all users.\n",
         "The notice was sent from my iPhone app to all users."},
        {"rfc 3676 signature", "Thanks\n\n-- \nAnn Lee\nExample Org\n", "Thanks"},
        {"trimmed signature", "Thanks\n--\nAnn\n", "Thanks"},
        {"dashes in text are kept", "Points:\n-- first\n-- second\n",
         "Points:\n-- first\n-- second"},
        {"sign-off kept", "I can help.\n\nBest regards,\nAnn\n",
         "I can help.\n\nBest regards,\nAnn"},
        {"em dash sign-off kept", "Great!\n\n—Ryan\n", "Great!\n\n—Ryan"},
    };
    CHECK_ALL(cases);
}

static void
test_inline_replies(void **state)
{
    (void)state;
    static const struct reply_case cases[] = {
        {"inline answers kept, quotes dropped",
         "On Dec 15, 2024, at 2:00 PM, Jane <jane@example.com> wrote:\n> Option A?\n\nA is "
         "great.\n\n> Option B?\n\nB has drawbacks.\n",
         "A is great.\n\nB has drawbacks."},
        {"greeting, attribution, quote, answer, quote",
         "Hi,\nOn Tue, 2011-03-01 at 18:02 +0530, Abhishek wrote:\n> Question?\n\nAnswer.\n\n"
         "> -Abhishek\n",
         "Hi,\nAnswer."},
        {"quote without attribution", "I wanted to respond:\n\n> a quote\n\nMy response.\n",
         "I wanted to respond:\n\nMy response."},
        {"wrapped quote line dropped",
         "Yes.\n\n> Lorem ipsum dolor sit amet, consectetur adipiscing elit. Nullam pharetra d\n"
         "ignissim odio?\n> end\n",
         "Yes."},
        {"one-line inline answer kept", "> Can you do Tuesday?\nYes, Tuesday.\n> And Friday?\n",
         "Yes, Tuesday."},
    };
    CHECK_ALL(cases);
}

/*
 * An inline answer to mentord's check-in: the quoted questions are not kept as
 * context (as discourse's trimmer would), because the check-in's own words
 * ("1 (not well)", "We haven't met yet") would then be read as the answer.
 */
static void
test_checkin_inline_answer(void **state)
{
    (void)state;
    static const char in[] =
        "On Mon, Mar 2, 2026 at 9:15 AM Mentoring <mentors@example.org> wrote:\n"
        "> It has been 14 days since we introduced you to Ann.\n"
        "> Have you met yet?\n\n"
        "Yes, twice.\n\n"
        "> Just reply to this mail with a number from 1 (not well) to 5 (very\n"
        "> well) and, if you like, a few words. \"We haven't met yet\" is a fine\n"
        "> answer too: we will help.\n\n"
        "4, a good start.\n\n"
        "> Thank you,\n> The mentoring team\n";
    char *got = reply_extract(in);
    assert_non_null(got);
    assert_string_equal(got, "Yes, twice.\n\n4, a good start.");
    assert_null(strstr(got, "not well"));
    assert_null(strstr(got, "haven't met"));
    free(got);
}

/*
 * Someone else's text is never the sender's, also when nothing else is there:
 * a forward with nothing written above it, and Gmail's "respond inline" shape
 * (an attribution on the first line, the original below it without quote
 * marks).  Text written above a forward is kept.
 */
static void
test_forwards_and_unmarked_originals(void **state)
{
    (void)state;
    static const struct reply_case cases[] = {
        {"forward with nothing above",
         "---------- Forwarded message ----------\nFrom: Ann <ann@example.org>\n"
         "Date: Thu, Jan 28, 2016 at 4:00 PM\nSubject: A question that\nspans two lines\n"
         "To: bob@example.org\n\n\nCould someone mentor me in Rust?\n",
         ""},
        {"forward below the sender's line",
         "Ann asked me to pass this on.\n\n---------- Forwarded message ---------\n"
         "From: Ann <ann@example.org>\nDate: Tue, Jan 1, 2019 at 12:00 PM\n"
         "Subject: Rust\nTo: <bob@example.org>\n\n\nCould someone mentor me in Rust?\n",
         "Ann asked me to pass this on."},
        {"apple forward quoted",
         "Passing this on.\n\n> Begin forwarded message:\n>\n> From: Ann <ann@example.org>\n"
         "> Subject: Rust\n>\n> Could someone mentor me?\n",
         "Passing this on."},
        {"first-line attribution, unmarked original below",
         "On 8 May 2017 17:34, \"Ann Lee\" <ann@example.org> wrote:\n\n"
         "    Reply JOIN to join the programme.\n\nIt should be:\n\n    JOIN now\n",
         ""},
    };
    CHECK_ALL(cases);
}

/* The premise: a command in quoted text is never acted on, so it must never survive. */
static void
test_quoted_command_never_survives(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "> JOIN\n",
        ">JOIN\n>\n",
        "\n\n> > JOIN\n",
        "Thanks!\n\nOn Mon, Mar 2, 2026 at 9:15 AM Mentors <mentors@example.org> wrote:\n\n"
        "> To join, reply JOIN\n",
        "Thanks!\n\n-----Original Message-----\nFrom: Mentors\nSent: Monday\nTo: Ann\nSubject: "
        "Hi\n\nJOIN\n",
        "Thanks!\n\nFrom: Mentors <mentors@example.org>\nSent: Monday\nTo: Ann\nSubject: Hi\n\n"
        "JOIN\n",
        "Thanks!\n\nOn Mon, Mar 2, 2026, Mentors <mentors@example.org> wrote:\n\nJOIN\n",
        "Thanks!\n________________________________\nJOIN\n",
        "---------- Forwarded message ---------\nFrom: Mentors\n\nJOIN\n",
        "-----Original Message-----\n\nJOIN\n",
        "Am 2.3.2026 um 09:15 schrieb Mentors <mentors@example.org>:\nJOIN\n",
        "Ok\n\n> Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
        "eiusmod\njoin\n>\n",
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        char *got = reply_extract(inputs[i]);
        assert_non_null(got);
        if (strcasestr(got, "join") != NULL)
            fprintf(stderr, "quoted JOIN survived in case %zu:\n%s\n", i, got);
        assert_null(strcasestr(got, "join"));
        free(got);
    }
    /* The person's own JOIN above the quote is kept. */
    assert_true(
        extract_contains("JOIN\n\nOn Mon, Mar 2, 2026, Ann <a@b.org> wrote:\n> JOIN\n", "JOIN"));
}

/* reply_read: with nothing of the person's own, the text they sent along, marked as such. */
static void
test_sent_along(void **state)
{
    (void)state;
    static const struct {
        const char *name, *in, *want;
        enum reply_origin origin;
    } cases[] = {
        {"own text wins", "Yes\n\n> Can you meet on Monday?\n", "Yes", REPLY_OWN},
        {"quote only", "> Email with only quote.\n", "> Email with only quote.", REPLY_SENT_ALONG},
        {"quote, empty quote lines at the edges", ">\n> Line one\n>\n> Line two\n>\n",
         "> Line one\n>\n> Line two", REPLY_SENT_ALONG},
        {"forward without a word",
         "---------- Forwarded message ---------\nFrom: Ann <a@b.org>\nDate: Mon, 2 Mar 2026\n"
         "Subject: A subject wrapped\nover two lines\nTo: x@y.org\n\n\nPlease sign me up.\n",
         "Please sign me up.", REPLY_SENT_ALONG},
        {"Outlook original without a word",
         "From: Mentors <m@x.org>\nSent: Monday\nTo: Ann\nSubject: Hi\n\nReply JOIN to join.\n",
         "Reply JOIN to join.", REPLY_SENT_ALONG},
        {"original pasted under an attribution",
         "On Mon, Mar 2, 2026 at 9:15 AM Ann <a@b.org> wrote:\n\nThe original.\n\n"
         "On Sun, Mar 1, 2026, Bo <b@c.org> wrote:\n\n> Older.\n",
         "The original.\n\n\n> Older.", REPLY_SENT_ALONG},
        {"the sender's signature ends it", "> quoted\n\n-- \nAnn\n", "> quoted", REPLY_SENT_ALONG},
        {"nothing but nested attributions",
         "> On Mon, Mar 2, 2026, Ann <a@b.org> wrote:\n>\n>> On Sun, Mar 1, 2026, Bo <b@c.org> "
         "wrote:\n>>\n",
         "", REPLY_NONE},
        {"signature only", "-- \nAnn\n", "", REPLY_NONE},
        {"footer only", "Sent from my iPhone\n", "", REPLY_NONE},
        {"empty", "", "", REPLY_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Start from a wrong answer, so the call must set it. */
        enum reply_origin origin = cases[i].origin == REPLY_OWN ? REPLY_NONE : REPLY_OWN;
        char *got = reply_read(cases[i].in, &origin);
        assert_non_null(got);
        if (strcmp(got, cases[i].want) != 0 || origin != cases[i].origin)
            fprintf(stderr, "sent along, case '%s': origin %d, got:\n%s\n", cases[i].name,
                    (int)origin, got);
        assert_string_equal(got, cases[i].want);
        assert_int_equal(origin, cases[i].origin);
        free(got);
        /* What commands are read from: only the person's own text. */
        got = reply_extract(cases[i].in);
        assert_non_null(got);
        if (cases[i].origin == REPLY_OWN)
            assert_string_equal(got, cases[i].want);
        else
            assert_string_equal(got, "");
        free(got);
    }
}

static void
test_no_false_positives(void **state)
{
    (void)state;
    static const struct reply_case cases[] = {
        {"On at line start",
         "On the surface, this looks fine.\n\nOn the other hand, careful.\n"
         "On average, it works.\n",
         "On the surface, this looks fine.\n\nOn the other hand, careful.\nOn average, it works."},
        {"On ... : in text", "On your remote host you can run:\n\n    telnet 127.0.0.1 52698\n",
         "On your remote host you can run:\n\n    telnet 127.0.0.1 52698"},
        {"wrote in a sentence", "I wrote to them on 5 May about it.\nThey answered quickly.\n",
         "I wrote to them on 5 May about it.\nThey answered quickly."},
        {"profile lines",
         "Name: Ann Lee\nSkills: C, SQL\nLanguages: en, de\nTime zone: "
         "Europe/Berlin\nGoals: learn Rust\n",
         "Name: Ann Lee\nSkills: C, SQL\nLanguages: en, de\nTime zone: Europe/Berlin\nGoals: "
         "learn Rust"},
        {"two header-like lines are text", "From: Berlin\nTo: learn Rust\n",
         "From: Berlin\nTo: learn Rust"},
        {"timestamps in text", "Times:\n\n2024-01-15 14:30:25\n2024/01/15 14:30:25\n",
         "Times:\n\n2024-01-15 14:30:25\n2024/01/15 14:30:25"},
        {"markdown rule kept", "Notes\n----\n\n1. fast\n", "Notes\n----\n\n1. fast"},
        {"url with wrote", "See https://example.com/on-date-someone-wrote:\nok\n",
         "See https://example.com/on-date-someone-wrote:\nok"},
    };
    CHECK_ALL(cases);
}

static void
test_whitespace_and_edges(void **state)
{
    (void)state;
    static const struct reply_case cases[] = {
        {"empty", "", ""},
        {"blank only", "\n \n\t\n", ""},
        {"quote only", "> Email with only quote.\n", ""},
        {"crlf", "Email with\r\nwindows\r\nline\r\nendings\r\n",
         "Email with\nwindows\nline\nendings"},
        {"lone cr", "one\rtwo\r", "one\ntwo"},
        {"trailing spaces and blank lines", "\n\n  indented first   \nsecond \n\n\n",
         "  indented first\nsecond"},
        {"trailing rule and invisible mark", "Text\n\n\xe1\x90\xa7\n--\nsig\n", "Text"},
        {"emoji only", "\xf0\x9f\x8e\x89\n", "\xf0\x9f\x8e\x89"},
        {"inner blank lines kept", "a\n\n\nb\n", "a\n\n\nb"},
    };
    CHECK_ALL(cases);
    char *got = reply_extract(NULL);
    assert_non_null(got);
    assert_string_equal(got, "");
    free(got);
}

/* Build a string of n copies of unit followed by tail. */
static char *
repeat(const char *unit, size_t n, const char *tail)
{
    size_t u = strlen(unit), t = strlen(tail);
    char *s = malloc(u * n + t + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    memcpy(s + u * n, tail, t + 1);
    return s;
}

/* Inputs built to make a backtracking or quadratic scanner blow up: each must take < 1 s. */
static void
test_pathological_inputs_fast(void **state)
{
    (void)state;
    struct {
        const char *unit;
        size_t n;
        const char *tail;
        const char *want_prefix;
    } cases[] = {
        {"a", 8u << 20, "\n", "aaaa"},                           /* one 8 MB line */
        {"> quoted line\n", 400000, "", ""},                     /* 5 MB of quote */
        {">", 4u << 20, "\n", ""},                               /* one line of '>' */
        {"On Mon, 2 Mar 2026 at 9:15 ", 200000, "wrote:\n", ""}, /* endless attribution */
        {"On 2 Mar 2026\n", 300000, "x\n", "On 2 Mar"},          /* many window starts */
        {"From: a\n", 300000, "", ""},                           /* endless header block */
        {"x <\n", 300000, "a@b wrote:\n> q\n", "x <"},           /* many wrapped openers */
        {"Sent from my ", 300000, "\n", ""},                     /* a long footer-like line */
        {"-", 4u << 20, "\n", ""},                               /* a long rule */
        {"word:\n", 300000, "", "word:"},                        /* many colon line ends */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *in = repeat(cases[i].unit, cases[i].n, cases[i].tail);
        double t0 = now_seconds();
        char *got = reply_extract(in);
        double dt = now_seconds() - t0;
        assert_non_null(got);
        if (dt >= 0.1)
            printf("reply: pathological case %zu took %.2f s\n", i, dt);
        assert_true(dt < 1.0);
        assert_memory_equal(got, cases[i].want_prefix, strlen(cases[i].want_prefix));
        free(got);
        /* The text sent along is read when nothing is the person's own: as fast. */
        enum reply_origin origin;
        t0 = now_seconds();
        got = reply_read(in, &origin);
        dt = now_seconds() - t0;
        assert_non_null(got);
        if (dt >= 0.1)
            printf("reply: pathological case %zu (reply_read) took %.2f s\n", i, dt);
        assert_true(dt < 1.0);
        free(got);
        free(in);
    }
}

/* ---- the corpus --------------------------------------------------------- */

struct tally {
    int cases, ok;               /* every case with an expected reply text */
    int policy_cases, policy_ok; /* those without a documented policy conflict */
    int conflict_failed;         /* failures the TSV explains */
    int checks, checks_ok;       /* secondary contains / not_contains facts */
    int sent_along;              /* files with nothing of the person's own */
};

static void
run_row(char **f, struct tally *t)
{
    char *text = corpus_text(f[0]);
    if (text == NULL) {
        fprintf(stderr, "reply corpus: cannot read %s\n", f[0]);
        t->cases += strcmp(f[1], "reply") == 0;
        return;
    }
    /* The reply's text as mentord reads and shows it (own text, or what was sent along). */
    enum reply_origin origin;
    char *got = reply_read(text, &origin);
    assert_non_null(got);
    t->sent_along += origin == REPLY_SENT_ALONG;
    unescape(f[3]);
    unescape(f[4]);
    if (strcmp(f[1], "reply") == 0) {
        int ok = texts_match(got, f[3], f[2]);
        int conflict = f[4][0] != '\0';
        t->cases++;
        t->ok += ok;
        t->policy_cases += !conflict;
        t->policy_ok += !conflict && ok;
        t->conflict_failed += conflict && !ok;
        if (!ok && !conflict)
            printf("reply: FAIL %s (%s)\n--- want:\n%s\n--- got:\n%s\n---\n", f[0], f[2], f[3],
                   got);
        else if (!ok)
            printf("reply: differs %s: the source %s\n", f[0], f[4]);
    } else {
        int has = strstr(got, f[3]) != NULL;
        int ok = strcmp(f[1], "contains") == 0 ? has : !has;
        t->checks++;
        t->checks_ok += ok;
        if (!ok)
            printf("reply: FAIL %s: extracted text should %s \"%s\"; got:\n%s\n---\n", f[0],
                   strcmp(f[1], "contains") == 0 ? "contain" : "not contain", f[3], got);
    }
    free(got);
    free(text);
}

static void
test_corpus_accuracy(void **state)
{
    (void)state;
    if (!corpus_present()) {
        printf("reply: corpus %s absent, skipped\n", CORPUS);
        skip();
    }
    FILE *tsv = fopen(EXPECTED, "r");
    assert_non_null(tsv);
    struct tally t = {0};
    char *line = NULL;
    size_t cap = 0;
    int first = 1;
    while (getline(&line, &cap, tsv) > 0) {
        char *f[5];
        if (first) {
            first = 0; /* header row */
            continue;
        }
        if (split_tabs(line, f, 5) != 5)
            continue;
        run_row(f, &t);
    }
    free(line);
    fclose(tsv);
    printf("reply: %d/%d exact-match cases (%.1f%%)\n", t.ok, t.cases,
           t.cases ? 100.0 * t.ok / t.cases : 0.0);
    printf("reply: %d/%d cases where the source agrees with mentord's policy (%.1f%%); "
           "%d differ by documented policy\n",
           t.policy_ok, t.policy_cases, t.policy_cases ? 100.0 * t.policy_ok / t.policy_cases : 0.0,
           t.conflict_failed);
    printf("reply: %d/%d secondary contains/not-contains facts\n", t.checks_ok, t.checks);
    printf("reply: %d cases with nothing of the person's own: their text is what was sent along "
           "(quoted or forwarded), shown but never read for commands\n",
           t.sent_along);
    assert_true(t.cases >= 149);
    /* Issue 3's target, on the raw count. */
    assert_true(100.0 * t.ok / t.cases >= 95.0);
    /* Every failure must be one the TSV explains; the rest must all pass. */
    assert_int_equal(t.policy_ok, t.policy_cases);
    assert_int_equal(t.ok + t.conflict_failed, t.cases);
    assert_int_equal(t.checks_ok, t.checks);
}

/* The figure depends on the compare modes: pin down what each one forgives. */
static void
test_corpus_compare_modes(void **state)
{
    (void)state;
    /* exact: only whitespace at the very end is not content. */
    assert_true(texts_match("Hi\n\nBye", "Hi\n\nBye\n\n", "exact"));
    assert_true(texts_match("Hi\n", "Hi", "exact"));
    assert_false(texts_match("Hi\nBye", "Hi\n\nBye", "exact"));
    assert_false(texts_match("Hi", " Hi", "exact"));
    assert_false(texts_match("Hi", "Hi there", "exact"));
    assert_false(texts_match("", "x", "exact"));
    /* strip: both ends. */
    assert_true(texts_match("Hi", "\n  Hi \n", "strip"));
    assert_false(texts_match("Hi\nBye", "Hi\n\nBye", "strip"));
    /* ignore_whitespace: all of it. */
    assert_true(texts_match("Hi\nBye", "Hi \n\n Bye", "ignore_whitespace"));
    assert_false(texts_match("Hi\nBye", "HiBye!", "ignore_whitespace"));
}

/* Every corpus file, including those without expected text, within 1 s each. */
static void
test_corpus_every_file_fast(void **state)
{
    (void)state;
    if (!corpus_present())
        skip();
    DIR *d = opendir(CORPUS);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    double worst = 0;
    char worst_name[256] = "";
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || ends_with(e->d_name, ".json"))
            continue;
        char *text = corpus_text(e->d_name);
        assert_non_null(text);
        double t0 = now_seconds();
        char *got = reply_extract(text);
        double dt = now_seconds() - t0;
        assert_non_null(got);
        if (dt > worst) {
            worst = dt;
            snprintf(worst_name, sizeof(worst_name), "%s", e->d_name);
        }
        assert_true(dt < 1.0);
        free(got);
        free(text);
        files++;
    }
    closedir(d);
    printf("reply: %d corpus files extracted, slowest %s in %.3f s\n", files, worst_name, worst);
    assert_true(files >= 200);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gmail_attributions),
        cmocka_unit_test(test_localised_attributions),
        cmocka_unit_test(test_outlook_blocks),
        cmocka_unit_test(test_apple_and_thunderbird),
        cmocka_unit_test(test_footers_and_signatures),
        cmocka_unit_test(test_inline_replies),
        cmocka_unit_test(test_checkin_inline_answer),
        cmocka_unit_test(test_forwards_and_unmarked_originals),
        cmocka_unit_test(test_quoted_command_never_survives),
        cmocka_unit_test(test_sent_along),
        cmocka_unit_test(test_no_false_positives),
        cmocka_unit_test(test_whitespace_and_edges),
        cmocka_unit_test(test_pathological_inputs_fast),
        cmocka_unit_test(test_corpus_compare_modes),
        cmocka_unit_test(test_corpus_accuracy),
        cmocka_unit_test(test_corpus_every_file_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
