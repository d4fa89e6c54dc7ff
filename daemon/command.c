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
 *    and "Join please" match, "I don't want to join" and "joined" do not.
 */
#include "command.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_LINES 3

/* Phrases in lower case with single spaces; longer phrases before their prefixes. */
static const struct {
    const char *phrase;
    enum command_kind kind;
} phrases[] = {
    {"i want to mentor", COMMAND_MENTOR},
    {"become a mentor", COMMAND_MENTOR},
    {"i want a mentor", COMMAND_JOIN},
    {"find me a mentor", COMMAND_JOIN},
    {"sign me up", COMMAND_JOIN},
    {"join", COMMAND_JOIN},
    {"newcomer", COMMAND_JOIN},
    {"mentor", COMMAND_MENTOR},
    {"volunteer", COMMAND_MENTOR},
    {"help", COMMAND_HELP},
    {"info", COMMAND_HELP},
    {"?", COMMAND_HELP},
};

/* Reply and forward prefixes in the languages members write in. */
static const char *const prefixes[] = {"re",   "fwd", "fw", "aw",     "wg",  "sv",  "vs",
                                       "antw", "odp", "tr", "réf",    "ref", "rif", "res",
                                       "rv",   "enc", "vb", "doorst", "ynt", "trs"};

const char *
command_name(enum command_kind kind)
{
    switch (kind) {
    case COMMAND_JOIN:
        return "join";
    case COMMAND_MENTOR:
        return "mentor";
    case COMMAND_HELP:
        return "help";
    case COMMAND_STATUS:
        return "status";
    case COMMAND_PAUSE:
        return "pause";
    case COMMAND_RESUME:
        return "resume";
    case COMMAND_LEAVE:
        return "leave";
    case COMMAND_DONE:
        return "done";
    case COMMAND_REMATCH:
        return "rematch";
    case COMMAND_CAPACITY:
        return "capacity";
    case COMMAND_CONFIRM:
        return "confirm";
    case COMMAND_ACCEPT:
        return "accept";
    case COMMAND_DECLINE:
        return "decline";
    case COMMAND_NONE:
        break;
    }
    return "none";
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
space_len(const char *s)
{
    if (*s == ' ' || *s == '\t' || *s == '\r')
        return 1;
    if ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0)
        return 2;
    return 0;
}

/*
 * Does the line (ending at end) start with phrase, as whole words?  Spaces in
 * the phrase match any run of whitespace; letters match in any case.
 */
static int
starts_with_phrase(const char *s, const char *end, const char *phrase)
{
    for (const char *p = phrase; *p; p++) {
        if (s >= end)
            return 0;
        if (*p == ' ') {
            size_t n = space_len(s);
            if (n == 0)
                return 0;
            while (s < end && (n = space_len(s)) > 0)
                s += n;
            continue;
        }
        if (tolower((unsigned char)*s) != *p)
            return 0;
        s++;
    }
    /* The next character must end the word: a letter, digit or non-ASCII byte continues it. */
    if (s >= end)
        return 1;
    unsigned char c = (unsigned char)*s;
    return space_len(s) > 0 || (c < 0x80 && !isalnum(c) && c != '_' && c != '-' && c != '\'');
}

static enum command_kind
match_line(const char *s, const char *end)
{
    size_t n;
    while (s < end && (n = space_len(s)) > 0)
        s += n;
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (starts_with_phrase(s, end, phrases[i].phrase))
            return phrases[i].kind;
    return COMMAND_NONE;
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

static enum command_kind
parse_body(const char *body)
{
    int seen = 0;
    const char *s = body;
    while (*s && seen < BODY_LINES) {
        const char *nl = strchr(s, '\n');
        const char *end = nl ? nl : s + strlen(s);
        if (end > s && end[-1] == '\r')
            end--;
        if (is_quote_boundary(s, end, nl ? nl + 1 : NULL))
            break;
        if (!is_blank(s, end)) {
            enum command_kind k = match_line(s, end);
            if (k != COMMAND_NONE)
                return k;
            seen++;
        }
        s = nl ? nl + 1 : end;
    }
    return COMMAND_NONE;
}

void
command_parse(const char *subject, const char *body, struct command *out)
{
    out->kind = COMMAND_NONE;
    out->from_subject = 0;
    if (subject != NULL) {
        char *clean = command_strip_prefixes(subject);
        if (clean != NULL) {
            out->kind = match_line(clean, clean + strlen(clean));
            free(clean);
        }
        if (out->kind != COMMAND_NONE) {
            out->from_subject = 1;
            return;
        }
    }
    if (body != NULL)
        out->kind = parse_body(body);
}
