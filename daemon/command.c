/*
 * command: what the person asked for.
 *
 * Rules, kept simple so they can be explained to members in the help text:
 *  - the Subject is read first, after removing any run of reply/forward
 *    prefixes ("Re:", "Fwd:", "AW:", "Re[2]:", ...) and leading [tags];
 *  - then the first 3 non-empty lines of the body, stopping at quoted text
 *    ("> ..."), a quote header ("On ... wrote:", "-----Original Message-----")
 *    or a "-- " signature separator;
 *  - the command must be the first word(s) of the subject or line, in any
 *    case, followed by the end, a space or punctuation: "JOIN!", "join: Ann"
 *    and "Join please" match, "I don't want to join" and "joined" do not;
 *  - short answers that are also everyday words ("yes", "no", "back") only
 *    count when they are the whole subject or line; "yes"/"no" moreover only
 *    on the first line of the body, so "No." deep in a message is not a
 *    refusal.
 *
 * Arguments follow the command on the same line:
 *  - pause [for] N [weeks|w|days|months]: number = weeks (days are rounded up
 *    to whole weeks, a month counts as 52/12 weeks, at most 52).  "pause"
 *    alone, "pause forever" or "pause until further notice" give 0, which
 *    means open-ended: anything that is not a number is not a duration;
 *  - capacity[:] N: number = N (0..999), -1 when no number follows;
 *  - confirm TOKEN: token, validated against COMMAND_TOKEN_ALPHABET and
 *    COMMAND_TOKEN_LEN, stored in lower case; "" when absent or malformed (a
 *    "[ref TOKEN]" tag later on the line is taken too).
 */
#include "command.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lang.h"

#define BODY_LINES 3
#define MAX_PAUSE_WEEKS 52
#define MAX_DETAIL 64

/*
 * The one table of commands (command_table.h): each is declared there once,
 * with the proof it needs (gate.c enforces it) and, for a change a claimed
 * mail asks for, the words its confirmation mail names.
 */
const struct command_def command_defs[] = {
#define COMMAND_MEMBER(KIND, NUMBER, NAME, USAGE, ARGS, PROOF, HANDLER, HELP, CONFIRMS)            \
    {COMMAND_##KIND, NAME, USAGE, COMMAND_ARGS_##ARGS, PROOF, 0, HELP, CONFIRMS},
#define COMMAND_MANAGER(NAME, USAGE, ARGS, HANDLER, HELP)                                          \
    {COMMAND_NONE,  NAME, USAGE, COMMAND_ARGS_##ARGS,                                              \
     PROOF_MANAGER, 1,    HELP,  COMMAND_CONFIRMS_NOTHING},
#include "command_table.h"
#undef COMMAND_MEMBER
#undef COMMAND_MANAGER
};

const size_t command_n_defs = sizeof command_defs / sizeof command_defs[0];

const struct command_def *
command_def_of(enum command_kind kind)
{
    for (size_t i = 0; i < command_n_defs; i++)
        if (!command_defs[i].manager && command_defs[i].kind == kind && kind != COMMAND_NONE)
            return &command_defs[i];
    return NULL;
}

/* Pad s with spaces to width columns (a UTF-8 character is one column); the columns written. */
static size_t
command_pad(FILE *f, const char *s, size_t width)
{
    size_t cols = 0;

    for (const char *p = s; *p; p++)
        cols += ((unsigned char)*p & 0xC0) != 0x80;
    fputs(s, f);
    for (; cols < width; cols++)
        fputc(' ', f);
    return cols;
}

/* Help lines: the explanations start here and no line passes the end (a mail's 78 columns). */
#define HELP_INDENT 21
#define HELP_WIDTH 78

/* The explanation after its command, broken at spaces with the next lines indented under it. */
static void
command_wrap(FILE *f, size_t col, const char *text)
{
    for (const char *p = text; *p;) {
        p += strspn(p, " ");
        size_t bytes = strcspn(p, " "), cols = 0;
        for (size_t i = 0; i < bytes; i++)
            cols += ((unsigned char)p[i] & 0xC0) != 0x80;
        if (bytes == 0)
            break;
        if (col >= HELP_INDENT && col + 1 + cols > HELP_WIDTH) {
            fprintf(f, "\n%*s", HELP_INDENT, "");
            col = HELP_INDENT;
        } else {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, bytes, f);
        col += cols;
        p += bytes;
    }
    fputc('\n', f);
}

char *
command_help_list(const struct lang *l)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    for (size_t i = 0; i < command_n_defs; i++) {
        const struct command_def *d = &command_defs[i];
        char key[64];
        if (d->manager || d->kind == COMMAND_CONFIRM)
            continue;
        /*
         * The command word stays as the table spells it (every language's
         * reader knows it); its arguments and the explanation are phrases
         * of the reader's language, "usage_NAME" and "help_NAME".
         */
        snprintf(key, sizeof(key), "usage_%s", d->name);
        const char *usage = lang_phrase(l, key);
        snprintf(key, sizeof(key), "help_%s", d->name);
        const char *help = lang_phrase(l, key);
        fputs("  ", f);
        command_wrap(f, 2 + command_pad(f, usage ? usage : d->usage, HELP_INDENT - 3),
                     help ? help : d->help);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    if (len > 0 && buf[len - 1] == '\n')
        buf[len - 1] = '\0'; /* the template puts it on its own line */
    return buf;
}

void
command_doc_man(FILE *out)
{
    for (size_t i = 0; i < command_n_defs; i++)
        if (!command_defs[i].manager)
            fprintf(out, ".TP\n.B %s\n%s.\n", command_defs[i].usage, command_defs[i].help);
}

/* PHRASE_WHOLE: nothing but punctuation may follow.  PHRASE_FIRST: first line only. */
enum { PHRASE_WHOLE = 1, PHRASE_FIRST = 2 };

/*
 * Phrases in lower case with single spaces; a phrase whose words start
 * another phrase comes first ("i want to mentor" before "i want a mentor" is
 * irrelevant, but "no thanks" must precede nothing that would eat "no").
 * Non-ASCII letters match only as written (tolower is ASCII-only here).
 */
static const struct {
    const char *phrase;
    enum command_kind kind;
    unsigned flags;
} phrases[] = {
    {"i want to mentor", COMMAND_MENTOR, 0},
    {"i would like to mentor", COMMAND_MENTOR, 0},
    {"i'd like to mentor", COMMAND_MENTOR, 0},
    {"i\u2019d like to mentor", COMMAND_MENTOR, 0},
    {"i can mentor", COMMAND_MENTOR, 0},
    {"become a mentor", COMMAND_MENTOR, 0},
    {"i want a mentor", COMMAND_JOIN, 0},
    {"i need a mentor", COMMAND_JOIN, 0},
    {"find me a mentor", COMMAND_JOIN, 0},
    {"sign me up", COMMAND_JOIN, 0},
    {"sign up", COMMAND_JOIN, 0},
    {"signup", COMMAND_JOIN, 0},
    {"join", COMMAND_JOIN, 0},
    {"newcomer", COMMAND_JOIN, 0},
    {"subscribe", COMMAND_JOIN, 0},
    {"beitreten", COMMAND_JOIN, 0},
    {"anmelden", COMMAND_JOIN, 0},
    {"rejoindre", COMMAND_JOIN, 0},
    {"unirse", COMMAND_JOIN, 0},
    {"unirme", COMMAND_JOIN, 0},
    {"new mentor", COMMAND_REMATCH, 0},
    {"another mentor", COMMAND_REMATCH, 0},
    {"different mentor", COMMAND_REMATCH, 0},
    {"rematch", COMMAND_REMATCH, 0},
    {"re-match", COMMAND_REMATCH, 0},
    {"mentor", COMMAND_MENTOR, 0},
    {"volunteer", COMMAND_MENTOR, 0},
    {"voluntario", COMMAND_MENTOR, 0},
    {"voluntaria", COMMAND_MENTOR, 0},
    {"bénévole", COMMAND_MENTOR, 0},
    {"help", COMMAND_HELP, 0},
    {"info", COMMAND_HELP, 0},
    {"commands", COMMAND_HELP, 0},
    {"?", COMMAND_HELP, 0},
    {"hilfe", COMMAND_HELP, 0},
    {"aide", COMMAND_HELP, 0},
    {"ayuda", COMMAND_HELP, 0},
    {"aiuto", COMMAND_HELP, 0},
    {"ajuda", COMMAND_HELP, 0},
    {"status", COMMAND_STATUS, 0},
    {"my status", COMMAND_STATUS, 0},
    {"statut", COMMAND_STATUS, 0},
    {"estado", COMMAND_STATUS, 0},
    {"unpause", COMMAND_RESUME, 0},
    {"pause", COMMAND_PAUSE, 0},
    {"pausieren", COMMAND_PAUSE, 0},
    {"pausa", COMMAND_PAUSE, 0},
    {"take a break", COMMAND_PAUSE, 0},
    {"snooze", COMMAND_PAUSE, 0},
    {"resume", COMMAND_RESUME, 0},
    {"i'm back", COMMAND_RESUME, 0},
    {"i\u2019m back", COMMAND_RESUME, 0},
    {"im back", COMMAND_RESUME, 0},
    {"i am back", COMMAND_RESUME, 0},
    {"back", COMMAND_RESUME, PHRASE_WHOLE},
    {"continue", COMMAND_RESUME, 0},
    {"reprendre", COMMAND_RESUME, 0},
    {"reanudar", COMMAND_RESUME, 0},
    {"weitermachen", COMMAND_RESUME, 0},
    {"leave", COMMAND_LEAVE, 0},
    {"stop", COMMAND_LEAVE, 0},
    {"unsubscribe", COMMAND_LEAVE, 0},
    {"remove me", COMMAND_LEAVE, 0},
    {"quit", COMMAND_LEAVE, 0},
    {"opt out", COMMAND_LEAVE, 0},
    {"opt-out", COMMAND_LEAVE, 0},
    {"abmelden", COMMAND_LEAVE, 0},
    {"austreten", COMMAND_LEAVE, 0},
    {"désinscrire", COMMAND_LEAVE, 0},
    {"désinscription", COMMAND_LEAVE, 0},
    {"darme de baja", COMMAND_LEAVE, 0},
    {"baja", COMMAND_LEAVE, 0},
    {"done", COMMAND_DONE, 0},
    {"finished", COMMAND_DONE, 0},
    {"we're done", COMMAND_DONE, 0},
    {"we\u2019re done", COMMAND_DONE, 0},
    {"we are done", COMMAND_DONE, 0},
    {"fertig", COMMAND_DONE, 0},
    {"terminé", COMMAND_DONE, 0},
    {"terminado", COMMAND_DONE, 0},
    {"max mentees", COMMAND_CAPACITY, 0},
    {"capacity", COMMAND_CAPACITY, 0},
    {"kapazität", COMMAND_CAPACITY, 0},
    {"capacité", COMMAND_CAPACITY, 0},
    {"capacidad", COMMAND_CAPACITY, 0},
    {"confirm", COMMAND_CONFIRM, 0},
    {"confirmed", COMMAND_CONFIRM, 0},
    {"bestätigen", COMMAND_CONFIRM, 0},
    {"confirmer", COMMAND_CONFIRM, 0},
    {"confirmar", COMMAND_CONFIRM, 0},
    {"accept", COMMAND_ACCEPT, 0},
    {"i accept", COMMAND_ACCEPT, 0},
    {"accepted", COMMAND_ACCEPT, 0},
    {"annehmen", COMMAND_ACCEPT, 0},
    {"accepter", COMMAND_ACCEPT, 0},
    {"aceptar", COMMAND_ACCEPT, 0},
    {"yes please", COMMAND_ACCEPT, PHRASE_WHOLE | PHRASE_FIRST},
    {"yes", COMMAND_ACCEPT, PHRASE_WHOLE | PHRASE_FIRST},
    {"ja", COMMAND_ACCEPT, PHRASE_WHOLE | PHRASE_FIRST},
    {"oui", COMMAND_ACCEPT, PHRASE_WHOLE | PHRASE_FIRST},
    {"sí", COMMAND_ACCEPT, PHRASE_WHOLE | PHRASE_FIRST},
    {"si", COMMAND_ACCEPT, PHRASE_WHOLE | PHRASE_FIRST},
    {"decline", COMMAND_DECLINE, 0},
    {"i decline", COMMAND_DECLINE, 0},
    {"ablehnen", COMMAND_DECLINE, 0},
    {"refuser", COMMAND_DECLINE, 0},
    {"rechazar", COMMAND_DECLINE, 0},
    {"no thanks", COMMAND_DECLINE, PHRASE_WHOLE | PHRASE_FIRST},
    {"no thank you", COMMAND_DECLINE, PHRASE_WHOLE | PHRASE_FIRST},
    {"no", COMMAND_DECLINE, PHRASE_WHOLE | PHRASE_FIRST},
    {"nein", COMMAND_DECLINE, PHRASE_WHOLE | PHRASE_FIRST},
    {"non", COMMAND_DECLINE, PHRASE_WHOLE | PHRASE_FIRST},
};

/* Reply and forward prefixes in the languages members write in. */
static const char *const prefixes[] = {"re",   "fwd", "fw", "aw",     "wg",  "sv",  "vs",
                                       "antw", "odp", "tr", "réf",    "ref", "rif", "res",
                                       "rv",   "enc", "vb", "doorst", "ynt", "trs"};

/* Words for small numbers, as people write "pause two weeks". */
static const char *const number_words[] = {"zero", "one",    "two",   "three", "four",
                                           "five", "six",    "seven", "eight", "nine",
                                           "ten",  "eleven", "twelve"};

/* Duration units and how many days each is worth (weeks are the default). */
static const struct {
    const char *word;
    int days;
} units[] = {
    {"w", 7},      {"wk", 7},      {"wks", 7},      {"week", 7},   {"weeks", 7},   {"woche", 7},
    {"wochen", 7}, {"semaine", 7}, {"semaines", 7}, {"semana", 7}, {"semanas", 7}, {"d", 1},
    {"day", 1},    {"days", 1},    {"tag", 1},      {"tage", 1},   {"tagen", 1},   {"jour", 1},
    {"jours", 1},  {"dia", 1},     {"dias", 1},     {"día", 1},    {"días", 1},    {"m", 30},
    {"mo", 30},    {"month", 30},  {"months", 30},  {"monat", 30}, {"monate", 30}, {"monaten", 30},
    {"mois", 30},  {"mes", 30},    {"meses", 30},   {"y", 365},    {"year", 365},  {"years", 365},
    {"jahr", 365}, {"an", 365},    {"ans", 365},    {"año", 365},
};

/* Words that may stand between "pause" and its duration. */
static const char *const duration_fillers[] = {"for",     "für", "fur",   "pendant", "por",
                                               "durante", "per", "about", "around"};

const char *
command_name(enum command_kind kind)
{
    const struct command_def *d = command_def_of(kind);
    return d ? d->name : "none";
}

/* Length of a reply/forward prefix at s ("Re:", "AW :", "Re[2]:", "Fwd(3):"), or 0. */
static size_t
prefix_len(const char *s)
{
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncasecmp(s, prefixes[i], n) != 0)
            continue;
        size_t j = n;
        if (s[j] == '[' || s[j] == '(') {
            char close = s[j] == '[' ? ']' : ')';
            size_t d = strspn(s + j + 1, "0123456789");
            if (d == 0 || s[j + 1 + d] != close)
                continue;
            j += d + 2;
        }
        while (s[j] == ' ')
            j++;
        if (s[j] == ':')
            return j + 1;
    }
    return 0;
}

/* Length of a leading "[list tag]", or 0.  Tags are short and unnested. */
static size_t
tag_len(const char *s)
{
    if (*s != '[')
        return 0;
    const char *close = strchr(s, ']');
    if (close == NULL || close - s > 64 || memchr(s + 1, '[', (size_t)(close - s - 1)) != NULL)
        return 0;
    return (size_t)(close - s) + 1;
}

char *
command_strip_prefixes(const char *subject)
{
    if (subject == NULL)
        return strdup("");
    const char *s = subject;
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        size_t n = prefix_len(s);
        if (n == 0)
            n = tag_len(s);
        if (n == 0)
            break;
        s += n;
    }
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

/* Whitespace, including the UTF-8 no-break space HTML mail is full of. */
static size_t
space_len(const char *s, const char *end)
{
    if (s >= end)
        return 0;
    if (*s == ' ' || *s == '\t' || *s == '\r')
        return 1;
    if (end - s >= 2 && (unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0)
        return 2;
    return 0;
}

static const char *
skip_spaces(const char *s, const char *end)
{
    size_t n;
    while ((n = space_len(s, end)) > 0)
        s += n;
    return s;
}

/* Does a word end at s?  A letter, digit or non-ASCII byte would continue it. */
static int
word_ends(const char *s, const char *end)
{
    if (s >= end)
        return 1;
    unsigned char c = (unsigned char)*s;
    return space_len(s, end) > 0 || (c < 0x80 && !isalnum(c) && c != '_' && c != '-' && c != '\'');
}

/*
 * If the line (ending at end) starts with phrase as whole words, return where
 * the phrase ends, else NULL.  Spaces in the phrase match any run of
 * whitespace and commas ("yes, please"); letters match in any case.
 */
static const char *
match_phrase(const char *s, const char *end, const char *phrase)
{
    for (const char *p = phrase; *p; p++) {
        if (s >= end)
            return NULL;
        if (*p == ' ') {
            const char *t = s;
            while (t < end && (*t == ',' || space_len(t, end) > 0))
                t += *t == ',' ? 1 : space_len(t, end);
            if (t == s)
                return NULL;
            s = t;
            continue;
        }
        if (tolower((unsigned char)*s) != (unsigned char)*p)
            return NULL;
        s++;
    }
    return word_ends(s, end) ? s : NULL;
}

/* Only punctuation and spaces between s and end? */
static int
only_punctuation(const char *s, const char *end)
{
    for (; s < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x80 ? space_len(s, end) == 0 : isalnum(c))
            return 0;
        if (c >= 0x80)
            s++; /* the second byte of a no-break space */
    }
    return 1;
}

static int
token_char_ok(char c)
{
    c = (char)tolower((unsigned char)c);
    return c != '\0' && strchr(COMMAND_TOKEN_ALPHABET, c) != NULL;
}

/* Is s[0..n) a token mentord could have handed out?  Copies it in lower case. */
static int
take_token(const char *s, size_t n, char out[COMMAND_TOKEN_LEN + 1])
{
    if (n != COMMAND_TOKEN_LEN && n != COMMAND_TOKEN_LEN_OLD)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!token_char_ok(s[i]))
            return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[n] = '\0';
    return 1;
}

static size_t
alnum_run(const char *s, const char *end)
{
    const char *t = s;
    while (t < end && isalnum((unsigned char)*t))
        t++;
    return (size_t)(t - s);
}

/* The "[ref TOKEN]" tag at s (s points at '['), within end; 1 and out set when valid. */
static int
ref_at(const char *s, const char *end, char out[COMMAND_TOKEN_LEN + 1])
{
    const char *p = skip_spaces(s + 1, end);
    if (end - p < 3 || strncasecmp(p, "ref", 3) != 0)
        return 0;
    p += 3;
    if (p < end && isalnum((unsigned char)*p))
        return 0; /* "[refund ...]" */
    p = skip_spaces(p, end);
    if (p < end && (*p == ':' || *p == '#'))
        p = skip_spaces(p + 1, end);
    size_t n = alnum_run(p, end);
    const char *close = skip_spaces(p + n, end);
    if (close >= end || *close != ']')
        return 0;
    return take_token(p, n, out);
}

static int
find_ref_in(const char *s, const char *end, char out[COMMAND_TOKEN_LEN + 1])
{
    for (; s < end; s++)
        if (*s == '[' && ref_at(s, end, out))
            return 1;
    return 0;
}

int
command_find_ref(const char *text, char out[COMMAND_TOKEN_LEN + 1])
{
    if (text == NULL)
        return 0;
    return find_ref_in(text, text + strlen(text), out);
}

/* Read a lower-cased word (ASCII letters and UTF-8 bytes) into buf; returns its end. */
static const char *
read_word(const char *s, const char *end, char *buf, size_t len)
{
    size_t n = 0;
    while (s < end && (isalpha((unsigned char)*s) || (unsigned char)*s >= 0x80) &&
           space_len(s, end) == 0) {
        if (n + 1 < len)
            buf[n++] = (char)tolower((unsigned char)*s);
        s++;
    }
    buf[n] = '\0';
    return s;
}

/* A count at s: digits or an English number word; -1 when there is none. */
static int
read_count(const char **sp, const char *end)
{
    const char *s = *sp;
    if (s < end && isdigit((unsigned char)*s)) {
        long v = 0;
        while (s < end && isdigit((unsigned char)*s)) {
            if (v < 100000)
                v = v * 10 + (*s - '0');
            s++;
        }
        *sp = s;
        return v > 99999 ? 99999 : (int)v;
    }
    char word[16];
    const char *after = read_word(s, end, word, sizeof word);
    for (size_t i = 0; i < sizeof number_words / sizeof number_words[0]; i++)
        if (strcmp(word, number_words[i]) == 0) {
            *sp = after;
            return (int)i;
        }
    if (strcmp(word, "a") == 0 || strcmp(word, "an") == 0) {
        *sp = after;
        return 1;
    }
    return -1;
}

static int
in_list(const char *word, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(word, list[i]) == 0)
            return 1;
    return 0;
}

/* Weeks asked for after "pause"; 0 (open-ended) when no duration is given. */
static int
parse_weeks(const char *s, const char *end)
{
    char word[32];
    s = skip_spaces(s, end);
    if (s < end && *s == ':')
        s = skip_spaces(s + 1, end);
    const char *after = read_word(s, end, word, sizeof word);
    if (in_list(word, duration_fillers, sizeof duration_fillers / sizeof duration_fillers[0]))
        s = skip_spaces(after, end);
    int n = read_count(&s, end);
    if (n <= 0)
        return 0;
    read_word(skip_spaces(s, end), end, word, sizeof word);
    int days = 7;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(word, units[i].word) == 0)
            days = units[i].days;
    long weeks = ((long)n * days + 6) / 7;
    return weeks > MAX_PAUSE_WEEKS ? MAX_PAUSE_WEEKS : (int)weeks;
}

/* The number after "capacity" ("capacity 3", "capacity: 2", "capacity = 2"); -1 when none. */
static int
parse_capacity(const char *s, const char *end)
{
    s = skip_spaces(s, end);
    if (s < end && (*s == ':' || *s == '='))
        s = skip_spaces(s + 1, end);
    if (s >= end || !isdigit((unsigned char)*s))
        return -1;
    int n = read_count(&s, end);
    return n > 999 ? -1 : n;
}

/* The token after "confirm", or a "[ref TOKEN]" later on the line; "" when neither. */
static void
parse_token(const char *s, const char *end, char out[COMMAND_TOKEN_LEN + 1])
{
    out[0] = '\0';
    s = skip_spaces(s, end);
    if (s < end && (*s == ':' || *s == '#'))
        s = skip_spaces(s + 1, end);
    if (take_token(s, alnum_run(s, end), out))
        return;
    if (!find_ref_in(s, end, out))
        out[0] = '\0';
}

/* The arguments, read as the command's row says (command_table.h). */
static void
parse_arguments(const char *rest, const char *end, struct command *out)
{
    const struct command_def *d = command_def_of(out->kind);

    switch (d ? d->args : COMMAND_ARGS_NONE) {
    case COMMAND_ARGS_WEEKS:
        out->number = parse_weeks(rest, end);
        break;
    case COMMAND_ARGS_COUNT:
        out->number = parse_capacity(rest, end);
        break;
    case COMMAND_ARGS_TOKEN:
        parse_token(rest, end, out->token);
        break;
    case COMMAND_ARGS_NONE:
    case COMMAND_ARGS_WORDS:
        break;
    }
}

/* Which phrase the line starts with, if any; sets *rest to what follows it. */
static enum command_kind
match_line(const char *s, const char *end, unsigned allowed, const char **rest)
{
    s = skip_spaces(s, end);
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++) {
        if ((phrases[i].flags & PHRASE_FIRST) && !(allowed & PHRASE_FIRST))
            continue;
        const char *r = match_phrase(s, end, phrases[i].phrase);
        if (r == NULL)
            continue;
        if ((phrases[i].flags & PHRASE_WHOLE) && !only_punctuation(r, end))
            continue;
        *rest = r;
        return phrases[i].kind;
    }
    /* A command with no phrases of its own above is still known by its name. */
    for (size_t i = 0; i < command_n_defs; i++) {
        const char *r = command_defs[i].manager ? NULL : match_phrase(s, end, command_defs[i].name);
        if (r != NULL) {
            *rest = r;
            return command_defs[i].kind;
        }
    }
    return COMMAND_NONE;
}

/* Try one line (the subject or a body line); fills out and returns 1 on a command. */
static int
try_line(const char *s, const char *end, unsigned allowed, struct command *out)
{
    const char *rest = NULL;
    enum command_kind k = match_line(s, end, allowed, &rest);
    if (k == COMMAND_NONE)
        return 0;
    out->kind = k;
    parse_arguments(rest, end, out);
    return 1;
}

static int
is_blank(const char *s, const char *end)
{
    for (; s < end; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

static int
ends_with(const char *s, const char *end, const char *suffix)
{
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    size_t n = strlen(suffix);
    return (size_t)(end - s) >= n && strncasecmp(end - n, suffix, n) == 0;
}

/* Does the line starting at s (if any) end with "wrote:"? */
static int
line_ends_wrote(const char *s)
{
    if (s == NULL)
        return 0;
    const char *nl = strchr(s, '\n');
    return ends_with(s, nl ? nl : s + strlen(s), "wrote:");
}

/*
 * Where the person's own text ends: quotes, quote headers, signatures.
 * next is the following line (NULL at the end): clients wrap long
 * "On <date>, <name> wrote:" headers onto two lines.
 */
static int
is_quote_boundary(const char *s, const char *end, const char *next)
{
    const char *t = s;
    while (t < end && (*t == ' ' || *t == '\t'))
        t++;
    if (t < end && *t == '>')
        return 1;
    if ((end - s == 3 && strncmp(s, "-- ", 3) == 0) || (end - s == 2 && strncmp(s, "--", 2) == 0))
        return 1;
    if (end - t >= 5 && strncmp(t, "-----", 5) == 0)
        return 1; /* "-----Original Message-----", "----- Forwarded message -----" */
    if (ends_with(s, end, "wrote:"))
        return 1;
    return strncasecmp(t, "On ", 3) == 0 && line_ends_wrote(next);
}

static void
parse_body(const char *body, struct command *out)
{
    int seen = 0;
    const char *s = body;
    while (*s && seen < BODY_LINES) {
        const char *nl = strchr(s, '\n');
        const char *end = nl ? nl : s + strlen(s);
        const char *next = nl ? nl + 1 : end; /* before trimming: a last line "\r" must end */
        if (end > s && end[-1] == '\r')
            end--;
        if (is_quote_boundary(s, end, nl ? nl + 1 : NULL))
            break;
        if (!is_blank(s, end)) {
            if (try_line(s, end, seen == 0 ? PHRASE_FIRST : 0, out))
                return;
            seen++;
        }
        s = next;
    }
}

static void
command_init(struct command *out)
{
    memset(out, 0, sizeof *out);
    out->kind = COMMAND_NONE;
    out->number = -1;
}

/* PAUSE without a duration is open-ended: 0 weeks, as command.h documents. */
static void
default_number(struct command *out)
{
    if (out->kind == COMMAND_PAUSE && out->number < 0)
        out->number = 0;
}

void
command_parse(const char *subject, const char *body, struct command *out)
{
    command_init(out);
    if (subject != NULL) {
        char *clean = command_strip_prefixes(subject);
        int found = clean != NULL && try_line(clean, clean + strlen(clean), PHRASE_FIRST, out);
        free(clean);
        if (found) {
            out->from_subject = 1;
            default_number(out);
            return;
        }
    }
    if (body != NULL)
        parse_body(body, out);
    default_number(out);
}

int
command_from_detail(const char *detail, struct command *out)
{
    command_init(out);
    if (detail == NULL || detail[0] == '\0' || strlen(detail) > MAX_DETAIL)
        return 0;
    /* mentors+sign-me-up@, mentors+pause_2w@, mentors+confirm.k7q2m9xpab@ */
    char buf[MAX_DETAIL + 1];
    size_t n = strlen(detail);
    for (size_t i = 0; i < n; i++)
        buf[i] = strchr("-_.+", detail[i]) != NULL ? ' ' : detail[i];
    buf[n] = '\0';
    const char *rest = NULL;
    enum command_kind k = match_line(buf, buf + n, 0, &rest);
    if (k == COMMAND_NONE)
        return 0;
    /* The detail is all there is, so anything after a plain command is a different word. */
    out->kind = k;
    if (k != COMMAND_PAUSE && k != COMMAND_CAPACITY && k != COMMAND_CONFIRM &&
        !is_blank(rest, buf + n)) {
        command_init(out);
        return 0;
    }
    parse_arguments(rest, buf + n, out);
    default_number(out);
    out->from_address = 1;
    return 1;
}

/* ---- managers' commands ---- */

static void
manager_trim_arg(char *s)
{
    size_t n;

    if (s[0] == '<')
        memmove(s, s + 1, strlen(s));
    n = strlen(s);
    while (n > 0 && strchr(">,.;:", s[n - 1]) != NULL)
        s[--n] = '\0';
}

void
command_manager_split(const char *line, struct command_manager *cmd)
{
    char *save = NULL;

    memset(cmd, 0, sizeof(*cmd));
    snprintf(cmd->buf, sizeof(cmd->buf), "%.*s", (int)strcspn(line, "\r\n"), line);
    for (char *t = strtok_r(cmd->buf, " \t", &save); t && cmd->n < COMMAND_MANAGER_WORDS;
         t = strtok_r(NULL, " \t", &save)) {
        manager_trim_arg(t);
        if (t[0] != '\0')
            cmd->w[cmd->n++] = t;
    }
    for (char *p = cmd->n ? cmd->w[0] : NULL; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

static int
manager_is_verb(const char *w)
{
    for (size_t i = 0; i < command_n_defs; i++)
        if (command_defs[i].manager && w && strcmp(w, command_defs[i].name) == 0)
            return 1;
    return 0;
}

int
command_manager_parse(const char *subject, const char *text, struct command_manager *out)
{
    char *clean = subject ? command_strip_prefixes(subject) : NULL;
    const char *t = text ? text : "";
    int in_subject = 0;

    memset(out, 0, sizeof(*out));
    if (clean) {
        command_manager_split(clean, out);
        free(clean);
        in_subject = out->n && manager_is_verb(out->w[0]);
        if (in_subject && out->n > 1)
            return 1;
    }
    struct command_manager body;
    t += strspn(t, " \t\r\n");
    command_manager_split(t, &body);
    if (body.n && manager_is_verb(body.w[0]) && (!in_subject || body.n > 1)) {
        /* body's words point into body.buf: copy the whole struct and re-point them */
        *out = body;
        for (size_t i = 0; i < out->n; i++)
            out->w[i] = out->buf + (body.w[i] - body.buf);
        return 1;
    }
    if (!in_subject)
        out->n = 0;
    return in_subject;
}
