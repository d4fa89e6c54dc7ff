/*
 * checkin: reading the text of an answer to a check-in.  The rating (1-5, in
 * the many ways people write one), whether the pair has met, the comment as
 * stored, and whether a mentor's note greets or names one of their mentees.
 * Pure: text in, values out; lifecycle.c acts on them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checkin.h"

static int
checkin_digit_at(const char *p)
{
    return *p >= '1' && *p <= '5' && !isdigit((unsigned char)p[1]) ? *p - '0' : 0;
}

/* "4/5", "4 / 5", "4 out of 5", "4 of 5" anywhere. */
static int
checkin_rating_of_five(const char *t)
{
    for (const char *p = t; *p; p++) {
        if (!checkin_digit_at(p) || (p > t && isdigit((unsigned char)p[-1])))
            continue;
        const char *q = p + 1;
        while (*q == ' ')
            q++;
        if (*q == '/' || strncasecmp(q, "out of", 6) == 0 || strncasecmp(q, "of", 2) == 0) {
            q += *q == '/' ? 1 : strncasecmp(q, "out of", 6) == 0 ? 6 : 2;
            while (*q == ' ')
                q++;
            if (*q == '5' && !isdigit((unsigned char)q[1]))
                return *p - '0';
        }
    }
    return 0;
}

/* "rating: 4", "score 4", "I'd rate it 4". */
static int
checkin_rating_keyword(const char *t)
{
    static const char *const keys[] = {"rating", "rate", "score", "note", "bewertung"};

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        for (const char *p = strcasestr(t, keys[i]); p; p = strcasestr(p + 1, keys[i])) {
            const char *q = p + strlen(keys[i]);
            q += strspn(q, " :=-it");
            if (checkin_digit_at(q))
                return *q - '0';
        }
    }
    return 0;
}

/* A line that starts with the number: "4", "4 - great", "4. we met twice". */
static int
checkin_rating_leading(const char *t)
{
    for (const char *line = t; line && *line;) {
        const char *p = line + strspn(line, " \t>*");
        int d = checkin_digit_at(p);
        if (d && (p[1] == '\0' || strchr(" \t\r\n.,!:;)-", p[1]) || (p[1] & 0x80)))
            return d;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return 0;
}

/* A short first line with a number standing alone: "Gut, 4", "so far 4 :)". */
static int
checkin_rating_short_line(const char *t)
{
    const char *p = t + strspn(t, " \t\r\n");
    size_t n = strcspn(p, "\r\n");

    if (n > 30)
        return 0; /* a sentence: "we met 3 times" is no rating */
    for (size_t i = 0; i < n; i++) {
        int before = i == 0 || !isalnum((unsigned char)p[i - 1]);
        int after = i + 1 >= n || (!isalnum((unsigned char)p[i + 1]) && p[i + 1] != '.');
        if (before && after && p[i] >= '1' && p[i] <= '5')
            return p[i] - '0';
    }
    return 0;
}

/* "★★★★☆": the filled stars. */
static int
checkin_rating_stars(const char *t)
{
    int n = 0;

    for (const char *p = strstr(t, "\xe2\x98\x85"); p; p = strstr(p + 3, "\xe2\x98\x85"))
        n++;
    return n >= 1 && n <= 5 ? n : 0;
}

/* A one-word answer: "great", "ok", "bad". */
static int
checkin_rating_word(const char *t)
{
    static const struct {
        const char *word;
        int rating;
    } words[] = {{"excellent", 5}, {"great", 5}, {"amazing", 5},  {"good", 4},
                 {"fine", 3},      {"ok", 3},    {"okay", 3},     {"meh", 2},
                 {"bad", 2},       {"poor", 2},  {"terrible", 1}, {"awful", 1}};
    char w[32];
    size_t n = 0;
    const char *p = t + strspn(t, " \t\r\n");

    while (n + 1 < sizeof(w) && isalpha((unsigned char)p[n])) {
        w[n] = (char)tolower((unsigned char)p[n]);
        n++;
    }
    w[n] = '\0';
    p += n;
    p += strspn(p, " \t!.");
    if (*p != '\0' && *p != '\r' && *p != '\n')
        return 0; /* more than one word on the line: a sentence, not a rating */
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(w, words[i].word) == 0)
            return words[i].rating;
    return 0;
}

static int
checkin_not_met(const char *t)
{
    static const char *const phrases[] = {
        "haven't met", "havent met",    "have not met",
        "not met",     "didn't meet",   "did not meet",
        "not yet",     "never met",     "haven't been able to meet",
        "no meeting",  "haven't heard", "no answer",
        "no reply",    "not heard"};
    const char *p = t + strspn(t, " \t\r\n");

    for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
        if (strcasestr(t, phrases[i]))
            return 1;
    /* A bare "no" as the first word answers "have you met?". */
    return strncasecmp(p, "no", 2) == 0 && !isalpha((unsigned char)p[2]);
}

void
checkin_parse_answer(const char *text, struct checkin_answer *a)
{
    const char *t = text ? text : "";

    a->rating = checkin_rating_of_five(t);
    if (!a->rating)
        a->rating = checkin_rating_keyword(t);
    if (!a->rating)
        a->rating = checkin_rating_leading(t);
    if (!a->rating)
        a->rating = checkin_rating_short_line(t);
    if (!a->rating)
        a->rating = checkin_rating_stars(t);
    if (!a->rating)
        a->rating = checkin_rating_word(t);
    a->met = checkin_not_met(t) ? 0 : -1;
    if (a->met == -1 && (a->rating > 0 || strcasestr(t, "we met") || strcasestr(t, "have met") ||
                         strncasecmp(t + strspn(t, " \t\r\n"), "yes", 3) == 0))
        a->met = 1;
}

/*
 * A part of a mentor's answer about one of several mentees ends with its
 * rating more often than not: "hat sich noch nicht gemeldet, 2", "doing
 * great (5)".  Only for such parts: a whole mail ending "... on March 5" is
 * no rating.
 */
static int
checkin_rating_trailing(const char *t)
{
    /* Each line's end, the first line first: a greeting or a name may follow. */
    for (const char *line = t; line && *line;) {
        size_t n = strcspn(line, "\n");
        const char *next = line[n] ? line + n + 1 : NULL;
        while (n > 0 && strchr(" \t\r.!)", line[n - 1]) != NULL)
            n--;
        if (n > 0 && line[n - 1] >= '1' && line[n - 1] <= '5' &&
            (n == 1 || strchr(" \t,(-:=", line[n - 2]) != NULL))
            return line[n - 1] - '0';
        line = next;
    }
    return 0;
}

/* An answer's part about one mentee: the whole-answer reading, then a rating at its end. */
void
checkin_parse_part(const char *text, struct checkin_answer *a)
{
    checkin_parse_answer(text, a);
    if (a->rating == 0 && (a->rating = checkin_rating_trailing(text ? text : "")) > 0 &&
        a->met == -1)
        a->met = 1;
}

/* The comment as stored: the person's own words, trimmed and capped. */
char *
checkin_comment(const char *text)
{
    const char *p = text ? text + strspn(text, " \t\r\n") : "";
    size_t n = strlen(p);

    while (n > 0 && isspace((unsigned char)p[n - 1]))
        n--;
    if (n > 2000) {
        n = 2000;
        while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
            n--; /* never cut a UTF-8 sequence in half */
    }
    return n ? strndup(p, n) : NULL;
}

/* Whether text opens by greeting first ("Hi Bob," "Hallo, Bob"): a note to that person. */
int
checkin_greets(const char *text, const char *first)
{
    /* Per language; longer greetings before the short ones they start with. */
    static const char *const hello[] = {
        "good morning|good afternoon|good evening|hi|hello|hey|dear",
        "guten morgen|guten tag|guten abend|hallo|lieber|liebe|moin|servus",
        "buenos días|buenos dias|buenas tardes|buenas|hola|querido|querida|estimado|estimada",
        "bonjour|bonsoir|salut|coucou|chère|cher",
        "bom dia|boa tarde|boa noite|olá|ola|oi|prezado|prezada|caro|cara",
        "ciao|hej",
    };
    size_t flen = strlen(first);

    if (text == NULL || flen == 0)
        return 0;
    text += strspn(text, " \t\r\n");
    for (size_t i = 0; i < sizeof(hello) / sizeof(hello[0]); i++) {
        for (const char *w = hello[i]; *w; w += strcspn(w, "|") + (w[strcspn(w, "|")] == '|')) {
            size_t n = strcspn(w, "|");
            if (strncasecmp(text, w, n) != 0 || strchr(" \t,", text[n]) == NULL || text[n] == '\0')
                continue;
            const char *name = text + n + strspn(text + n, " \t,");
            unsigned char after = (unsigned char)name[flen];
            return strncasecmp(name, first, flen) == 0 &&
                   (after == '\0' || after == ',' || after == '!' || after == ' ' ||
                    after == '\n' || after == '\r' || after == ':' || after == '.');
        }
    }
    return 0;
}

/*
 * Whether text speaks of a time of day: "5 pm", "5pm", "17:30", "17h",
 * "17 Uhr", "at 5", "um 5", "a las 5", "às 5", "à 5": a note arranging a
 * meeting, whose numbers are no rating.
 */
int
checkin_mentions_time(const char *text)
{
    static const char *const before[] = {"at ",       "um ",   "a las ", "as ",    "\xc3\xa0s ",
                                         "\xc3\xa0 ", "vers ", "ab ",    "gegen ", "by "};
    static const char *const after[] = {"pm", "am", "p.m", "a.m", "h", "uhr", "o'clock", "hs"};

    for (const char *p = text ? text : ""; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > text && isalnum((unsigned char)p[-1])))
            continue;
        const char *q = p + strspn(p, "0123456789");
        if (*q == ':' && isdigit((unsigned char)q[1]))
            return 1; /* 17:30 */
        const char *u = q + strspn(q, " ");
        for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
            size_t n = strlen(after[i]);
            if (strncasecmp(u, after[i], n) == 0 && !isalpha((unsigned char)u[n]))
                return 1;
        }
        for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
            size_t n = strlen(before[i]);
            if ((size_t)(p - text) >= n && strncasecmp(p - n, before[i], n) == 0 &&
                (p - n == text || !isalpha((unsigned char)p[-(ptrdiff_t)n - 1])))
                return 1;
        }
        p = q - 1;
    }
    return 0;
}
