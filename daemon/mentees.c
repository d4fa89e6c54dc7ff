/*
 * mentees: a mentor's answer about several mentees, split per mentee (see
 * include/mentees.h).  Works on bytes: names compare ASCII case-blind and
 * otherwise exactly, which is how people retype a name they were just shown.
 */
#include "mentees.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Words that join two clauses ("Ann: 4 and Bob: 2"), in the shipped languages. */
static const char *const mentees_joins[] = {"and", "y", "e", "et", "und", "&", "plus", NULL};

/* Number prefixes: "#2", "Nr. 2", "No. 2", "n° 2", "nº 2", "num. 2". */
static const char *const mentees_prefixes[] = {"#",         "nr.",       "nr",   "no.",
                                               "n\xc2\xb0", "n\xc2\xba", "num.", NULL};

/* One label found in the answer. */
struct mentees_mention {
    size_t clause;  /* where its clause starts (the label's first byte, bullets included) */
    size_t content; /* where what is said about the mentee starts */
    int who;        /* index into who[], or -1 for a number beyond the list */
    int weak;       /* "2." (a number and a full stop): a label only among others */
};

static int
mentees_word_byte(unsigned char ch)
{
    return isalnum(ch) || ch >= 0x80 || ch == '_';
}

/* Whether the word ending just before text+end (after spaces) is a joining word. */
static size_t
mentees_join_before(const char *text, size_t end)
{
    for (size_t i = 0; mentees_joins[i]; i++) {
        size_t n = strlen(mentees_joins[i]);
        if (end < n || strncasecmp(text + end - n, mentees_joins[i], n) != 0)
            continue;
        if (end == n || !mentees_word_byte((unsigned char)text[end - n - 1]))
            return n;
    }
    return 0;
}

/* Whether a clause may start at text+i (a non-blank byte). */
static int
mentees_clause_start(const char *text, size_t i)
{
    size_t j = i;

    if (i == 0)
        return 1;
    while (j > 0 && (text[j - 1] == ' ' || text[j - 1] == '\t'))
        j--;
    if (j == 0 || text[j - 1] == '\n' || text[j - 1] == '\r')
        return 1;
    if (strchr(",;/", text[j - 1]) != NULL)
        return 1;
    if (strchr(".!?", text[j - 1]) != NULL && j < i)
        return 1;
    return j < i && mentees_join_before(text, j) > 0;
}

/* Past list bullets: "- ", "* ", "• ". */
static size_t
mentees_skip_bullets(const char *text, size_t q)
{
    for (;;) {
        if ((text[q] == '-' || text[q] == '*') && (text[q + 1] == ' ' || text[q + 1] == '\t'))
            q += 2;
        else if (strncmp(text + q, "\xe2\x80\xa2", 3) == 0)
            q += 3;
        else if (text[q] == ' ' || text[q] == '\t')
            q++;
        else
            return q;
    }
}

/* Past what separates a label from what is said: ": ", " - ", "= ", ") ". */
static size_t
mentees_skip_separators(const char *text, size_t q)
{
    while (text[q] && strchr(" \t:-=)", text[q]) != NULL)
        q++;
    if (strncmp(text + q, "\xe2\x80\x93", 3) == 0 || strncmp(text + q, "\xe2\x80\x94", 3) == 0)
        return mentees_skip_separators(text, q + 3); /* en and em dashes */
    return q;
}

/*
 * A number label at text+q: 1 (strong: "1:", "2)", "#2", "(2)"), 2 (weak:
 * "2. "), 0 when none.  *k gets the number, *after where the label ends.
 */
static int
mentees_number_at(const char *text, size_t q, int *k, size_t *after)
{
    int marked = 0, paren = 0;

    for (size_t i = 0; mentees_prefixes[i]; i++) {
        size_t n = strlen(mentees_prefixes[i]);
        if (strncasecmp(text + q, mentees_prefixes[i], n) == 0) {
            q += n;
            q += strspn(text + q, " \t");
            marked = 1;
            break;
        }
    }
    if (!marked && text[q] == '(') {
        paren = 1;
        q++;
    }
    if (!isdigit((unsigned char)text[q]))
        return 0;
    int v = text[q++] - '0';
    if (isdigit((unsigned char)text[q]))
        v = v * 10 + (text[q++] - '0');
    if (isdigit((unsigned char)text[q]))
        return 0;
    char sep = text[q];
    *k = v;
    *after = q + (sep != '\0');
    if (paren)
        return sep == ')' ? 1 : 0;
    if (sep == ':' || sep == ')' || sep == '=')
        return isdigit((unsigned char)text[q + 1]) ? 0 : 1; /* "1:30" is a time */
    if (marked)
        return sep == '\0' || strchr(" \t.-", sep) != NULL ? 1 : 0;
    if (sep == '.' && (text[q + 1] == ' ' || text[q + 1] == '\t'))
        return 2;
    return 0;
}

/* Whether s (len n) stands at text+q as a whole word. */
static int
mentees_word_at(const char *text, size_t q, const char *s, size_t n)
{
    if (n < 2 || strncasecmp(text + q, s, n) != 0)
        return 0;
    return !mentees_word_byte((unsigned char)text[q + n]) && text[q + n] != '@';
}

/* Whether who[i]'s name is shared with another mentee (then only numbers tell them apart). */
static int
mentees_name_shared(const struct mentees_who *who, size_t n, size_t i)
{
    for (size_t j = 0; j < n; j++)
        if (j != i && who[j].name && strcasecmp(who[j].name, who[i].name) == 0)
            return 1;
    return 0;
}

/* A name or address label at text+q: the mentee's index, or -1; *after its end. */
static int
mentees_name_at(const char *text, size_t q, const struct mentees_who *who, size_t n, size_t *after)
{
    for (size_t i = 0; i < n; i++) {
        const char *a = who[i].address;
        if (a && *a && mentees_word_at(text, q, a, strlen(a))) {
            *after = q + strlen(a);
            return (int)i;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = who[i].name;
        if (name && mentees_word_at(text, q, name, strlen(name)) &&
            !mentees_name_shared(who, n, i)) {
            *after = q + strlen(name);
            return (int)i;
        }
    }
    return -1;
}

/* The mentee numbered k, or -1. */
static int
mentees_numbered(const struct mentees_who *who, size_t n, int k)
{
    for (size_t i = 0; i < n; i++)
        if (who[i].number == k && k > 0)
            return (int)i;
    return -1;
}

/* The label at clause start i, if any, into *m; 1 when found. */
static int
mentees_label(const char *text, size_t i, const struct mentees_who *who, size_t n,
              struct mentees_mention *m)
{
    size_t q = mentees_skip_bullets(text, i), after = 0;
    int k = 0;
    int kind = mentees_number_at(text, q, &k, &after);

    m->clause = i;
    m->weak = kind == 2;
    if (kind) {
        m->who = mentees_numbered(who, n, k);
        if (m->who < 0 && m->weak)
            return 0; /* "4. we met twice": a rating, not a label */
    } else {
        m->who = mentees_name_at(text, q, who, n, &after);
        if (m->who < 0)
            return 0;
    }
    m->content = mentees_skip_separators(text, after);
    return 1;
}

/* Trims [start, *end) of blanks, separators and a last joining word. */
static void
mentees_trim(const char *text, size_t start, size_t *end)
{
    size_t e = *end;

    for (int again = 1; again;) {
        again = 0;
        while (e > start && strchr(" \t\r\n,;/", text[e - 1]) != NULL)
            e--;
        size_t j = e > start ? mentees_join_before(text, e) : 0;
        if (j > 0 && e - j >= start && (e - j == start || !mentees_word_byte(text[e - j - 1]))) {
            e -= j;
            again = 1;
        }
    }
    *end = e;
}

/* Every label of text, in order, into m[] (at most max); how many. */
static size_t
mentees_find(const char *text, const struct mentees_who *who, size_t n, struct mentees_mention *m,
             size_t max)
{
    size_t found = 0;

    for (size_t i = 0; text[i] && found < max; i++) {
        if (isspace((unsigned char)text[i]) || !mentees_clause_start(text, i))
            continue;
        if (mentees_label(text, i, who, n, &m[found])) {
            found++;
            i = m[found - 1].content > i ? m[found - 1].content - 1 : i;
        }
    }
    /* "2." labels only in company: alone, "2. we met" is a rating. */
    size_t numbered = 0;
    for (size_t j = 0; j < found; j++)
        numbered += m[j].weak;
    if (numbered >= 2)
        return found;
    size_t keep = 0;
    for (size_t j = 0; j < found; j++)
        if (!m[j].weak)
            m[keep++] = m[j];
    return keep;
}

/*
 * Whether a piece of an answer can be a rating of its own: a number at its
 * start or end ("4 - we met twice", "going well, 4") or a word or two
 * ("good"), not a sentence with a number inside ("we met at 1:30 today").
 */
static int
mentees_rating_piece(const char *s, size_t n)
{
    size_t words = 0;

    if (n == 0)
        return 0;
    if (isdigit((unsigned char)s[0]) && (n == 1 || !isdigit((unsigned char)s[1])))
        return 1;
    if (isdigit((unsigned char)s[n - 1]) && (n == 1 || !isdigit((unsigned char)s[n - 2])))
        return 1;
    for (size_t i = 0; i < n; i++)
        words += !isspace((unsigned char)s[i]) && (i == 0 || isspace((unsigned char)s[i - 1]));
    return words <= 2;
}

/* Whether a label-less answer holds several different ratings ("4, 2", "4 and 5"). */
static int
mentees_several_ratings(const char *text, mentees_rating_fn rating)
{
    int seen = 0;

    for (size_t i = 0, start = 0;; i++) {
        size_t join = 0;
        if (text[i] == ' ')
            for (size_t w = 0; mentees_joins[w] && !join; w++) {
                size_t l = strlen(mentees_joins[w]);
                if (strncasecmp(text + i + 1, mentees_joins[w], l) == 0 && text[i + 1 + l] == ' ')
                    join = l + 2;
            }
        int cut = text[i] == '\0' || strchr("\n;,", text[i]) != NULL || join ||
                  (text[i] == '/' && i > 0 && text[i - 1] == ' ');
        if (!cut)
            continue;
        size_t end = i;
        while (start < end && strchr(" \t\r", text[start]) != NULL)
            start++;
        mentees_trim(text, start, &end);
        int r =
            mentees_rating_piece(text + start, end - start) ? rating(text + start, end - start) : 0;
        if (r > 0 && seen > 0 && r != seen)
            return 1;
        if (r > 0)
            seen = r;
        if (text[i] == '\0')
            return 0;
        start = i + (join ? join : 1);
        i = start - 1;
    }
}

enum mentees_kind
mentees_split(const char *text, const struct mentees_who *who, size_t n, mentees_rating_fn rating,
              struct mentees_part *parts)
{
    struct mentees_mention m[2 * MENTEES_MAX];
    const char *t = text ? text : "";

    if (n > MENTEES_MAX)
        n = MENTEES_MAX;
    memset(parts, 0, n * sizeof(*parts));
    size_t found = mentees_find(t, who, n, m, sizeof(m) / sizeof(m[0]));
    if (found == 0)
        return rating && mentees_several_ratings(t, rating) ? MENTEES_UNCLEAR : MENTEES_ALL;
    for (size_t j = 0; j < found; j++)
        if (m[j].who < 0)
            return MENTEES_UNCLEAR; /* a number beyond the list */
    /* From the last: each label's part runs to the next label; "Ann and Bob: 4" shares. */
    const char *next = NULL;
    size_t next_len = 0;
    for (size_t j = found; j-- > 0;) {
        size_t end = j + 1 < found ? m[j + 1].clause : strlen(t);
        if (end < m[j].content)
            end = m[j].content;
        mentees_trim(t, m[j].content, &end);
        const char *s = t + m[j].content;
        size_t len = end - m[j].content;
        if (len == 0 && next != NULL) {
            s = next;
            len = next_len;
        }
        struct mentees_part *p = &parts[m[j].who];
        if (len > 0) {
            /* The first label of a mentee wins; a later one in the same answer is a comment. */
            p->text = s;
            p->len = len;
            p->given = 1;
        }
        next = s;
        next_len = len;
    }
    for (size_t i = 0; i < n; i++)
        if (parts[i].given)
            return MENTEES_SPLIT;
    return MENTEES_UNCLEAR; /* labels with nothing said: "1:" */
}
