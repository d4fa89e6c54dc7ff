/*
 * reply: the text the person wrote (see include/reply.h).
 *
 * Line scanning, no regular expressions: every line is looked at a bounded
 * number of times (attribution windows are at most ATTR_LINES lines and
 * ATTR_BYTES bytes), so a megabyte of quoting or one endless line costs a
 * few passes over the input and nothing more.
 *
 * Two passes, and a third when nothing is the person's own.  The first
 * finds attributions ("On ... wrote:"), which may be wrapped over several
 * lines, so it has to look at lines in context.  The second walks the lines
 * in order, keeping the person's text, dropping quotes and attributions, and
 * stopping at the first thing that starts an unquoted original or a
 * signature.
 *
 * Why an inline reply keeps only the person's lines, not the quoted questions
 * they answer (as some trimmers do): the text is read for commands, profile
 * fields, check-in ratings and manager commands, and an answer to the
 * check-in quotes "a number from 1 (not well) to 5" and "We haven't met yet"
 * right above it.  Why nothing below a first-line attribution or a forward
 * header is read, even when nothing else is there: it is someone else's text
 * (or, from Gmail's "respond inline", the original with the answers mixed in
 * and no quote marks to tell them apart), and a command in it must never be
 * acted on.  When that is all there is, a third pass (walk_sent_along) gives
 * it back marked as sent along, so the answer can tell the person their mail
 * held only quoted text, and inspect can show it.  The corpus cases whose
 * sources expect otherwise are listed with these reasons in
 * tests/data/gen_replies_expected.py.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

/* Longest attribution we accept, in lines and bytes: real ones are short. */
#define ATTR_LINES 5
#define ATTR_BYTES 600

/* Lines scanned for the rest of an Outlook-style header block. */
#define HEADER_SCAN 10

enum line_kind { LINE_TEXT = 0, LINE_ATTRIB };

struct line {
    const char *s; /* into the normalised copy; not NUL-terminated */
    size_t len;    /* without the line end */
    enum line_kind kind;
    unsigned char digit; /* has an ASCII digit: a date, the evidence attributions need */
};

struct out {
    char *data;
    size_t len, cap;
};

/* ---- small text helpers ------------------------------------------------- */

static int
is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim ASCII whitespace and U+00A0 (no-break space, common in HTML-made text). */
static void
trim(const char **s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)*s;
    size_t n = *len;
    for (;;) {
        if (n > 0 && is_ws(p[0])) {
            p++, n--;
        } else if (n > 1 && p[0] == 0xC2 && p[1] == 0xA0) {
            p += 2, n -= 2;
        } else {
            break;
        }
    }
    for (;;) {
        if (n > 0 && is_ws(p[n - 1]))
            n--;
        else if (n > 1 && p[n - 2] == 0xC2 && p[n - 1] == 0xA0)
            n -= 2;
        else
            break;
    }
    *s = (const char *)p;
    *len = n;
}

/* Decode one UTF-8 character of s[0..n) into *cp; an invalid byte stands for itself. */
static size_t
next_cp(const unsigned char *s, size_t n, unsigned *cp)
{
    size_t len = s[0] < 0x80             ? 1
                 : (s[0] & 0xE0) == 0xC0 ? 2
                 : (s[0] & 0xF0) == 0xE0 ? 3
                 : (s[0] & 0xF8) == 0xF0 ? 4
                                         : 0;
    if (len == 0 || len > n) {
        *cp = s[0];
        return 1;
    }
    unsigned c = len == 1 ? s[0] : s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = s[0];
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = c;
    return len;
}

/*
 * Lower case for the scripts the marker and header lists use (Latin, Latin-1,
 * Latin Extended-A, Greek, Cyrillic).  Each pair has the same UTF-8 length,
 * so byte offsets stay valid; enough for matching "Von:" and "ОТ:".
 */
static unsigned
fold(unsigned c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
        (c >= 0x391 && c <= 0x3A9) || (c >= 0x410 && c <= 0x42F))
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    if (c >= 0x100 && c <= 0x17F) {
        int odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if ((c % 2 == 1) == odd_upper)
            return c + 1;
    }
    return c;
}

/*
 * Match prefix (NUL-terminated, valid UTF-8) case-insensitively (see fold())
 * at the start of s[0..len): the number of bytes of s it covers, or
 * (size_t)-1 when it does not match.
 */
static size_t
match_ci(const char *s, size_t len, const char *prefix)
{
    const unsigned char *a = (const unsigned char *)s, *b = (const unsigned char *)prefix;
    size_t i = 0, j = 0;
    while (b[j] != '\0') {
        if (i >= len)
            return (size_t)-1;
        if (a[i] < 0x80 && b[j] < 0x80) { /* the common case, without decoding */
            if (fold(a[i]) != fold(b[j]))
                return (size_t)-1;
            i++, j++;
            continue;
        }
        unsigned ca, cb;
        i += next_cp(a + i, len - i, &ca);
        j += next_cp(b + j, 4, &cb);
        if (fold(ca) != fold(cb))
            return (size_t)-1;
    }
    return i;
}

/* U+FF1A, the colon of Chinese and Japanese text. */
static int
is_fullwidth_colon(const char *s, size_t n)
{
    return n >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBC &&
           (unsigned char)s[2] == 0x9A;
}

/* Lower-case ASCII byte; other bytes unchanged. */
static unsigned char
lower_ascii(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static int
starts_ci(const char *s, size_t len, const char *prefix)
{
    return match_ci(s, len, prefix) != (size_t)-1;
}

static int
ends_ci(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return n <= len && starts_ci(s + len - n, n, suffix);
}

/* Case-insensitive substring search within s[0..len). */
static int
contains_ci(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (starts_ci(s + i, len - i, needle))
            return 1;
    return 0;
}

static int
has_digit(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (isdigit((unsigned char)s[i]))
            return 1;
    return 0;
}

/*
 * A digit outside any address: the date or time an attribution carries.
 * "John Doe <john@doe123.com> wrote:" has none.
 */
static int
has_date_digit(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        int digit = 0, at = 0;
        while (j < len && !strchr(" \t<>()\",", s[j])) {
            digit |= isdigit((unsigned char)s[j]) != 0;
            at |= s[j] == '@';
            j++;
        }
        if (digit && !at)
            return 1;
        i = j + 1;
    }
    return 0;
}

static int
has_byte(const char *s, size_t len, char c)
{
    return memchr(s, c, len) != NULL;
}

static int
is_blank(const struct line *l)
{
    const char *s = l->s;
    size_t n = l->len;
    trim(&s, &n);
    return n == 0;
}

/* ---- quotes ------------------------------------------------------------- */

/* "> text", or Supercite's "Name> text" / "C>" (a short word before the '>'). */
static int
is_quote(const struct line *l)
{
    size_t i = 0;
    while (i < l->len && (l->s[i] == ' ' || l->s[i] == '\t'))
        i++;
    if (i < l->len && l->s[i] == '>')
        return 1;
    size_t j = i;
    while (j < l->len && j - i < 10 && isalnum((unsigned char)l->s[j]))
        j++;
    return j > i && j < l->len && l->s[j] == '>' &&
           (j + 1 == l->len || l->s[j + 1] == ' ' || l->s[j + 1] == '\t');
}

/*
 * The line without its quote markers, for reading an attribution that is
 * itself quoted or wrapped onto a "> wrote:" line.  A '>' is a marker only
 * when a space, another '>' or the line end follows: ">:" ends a wrapped
 * "<address\n>:" and must stay.
 */
static void
unquoted_part(const struct line *l, const char **s, size_t *len)
{
    const char *p = l->s;
    size_t n = l->len;
    trim(&p, &n);
    while (n > 0 && p[0] == '>' && (n == 1 || p[1] == ' ' || p[1] == '>')) {
        p++, n--;
        trim(&p, &n);
    }
    *s = p;
    *len = n;
}

/*
 * A quoted line the sender's client wrapped without re-quoting the rest:
 * "> ... Nullam pharetra d" / "ignissim odio?" / ">".  A lower-case start
 * between a long quoted line and another quoted line; a person's one-line
 * inline answer starts a sentence.
 */
static int
is_wrapped_quote(const struct line *lines, size_t n, size_t i)
{
    if (i == 0 || i + 1 >= n || !is_quote(&lines[i - 1]) || !is_quote(&lines[i + 1]))
        return 0;
    if (lines[i - 1].len < 60)
        return 0;
    const char *s = lines[i].s;
    size_t len = lines[i].len;
    trim(&s, &len);
    return len > 0 && islower((unsigned char)s[0]);
}

/* ---- attributions ------------------------------------------------------- */

/*
 * Words that end an attribution, in the languages the common clients write.
 * Compared at the end of the (joined) line, after its colon.
 */
static const char *const attr_markers[] = {
    "wrote",      "writes",       "schrieb", "a écrit",    "escribió", "escribio",  "ha scritto",
    "schreef",    "geschreven",   "pisze",   "napisał(a)", "napisał",  "napisała",  "написал(а)",
    "написал",    "написала",     "написав", "пише",       "skrev",    "kirjoitti", "escreveu",
    "napsal",     "napísal",      "yazdı",   "írta",       "έγραψε",   "写道",      "寫道",
    "書きました", "のメッセージ", "작성",    "kirjutas",   "rašė",     "rakstīja",
};

/* w ends with a marker word (after an optional colon); *colon says whether it had one. */
static int
ends_with_marker(const char *w, size_t n, int *colon)
{
    trim(&w, &n);
    *colon = 0;
    if (n > 0 && w[n - 1] == ':') {
        n--, *colon = 1;
    } else if (n >= 3 && is_fullwidth_colon(w + n - 3, 3)) {
        n -= 3, *colon = 1;
    }
    trim(&w, &n);
    if (n == 0)
        return 0;
    unsigned char last = (unsigned char)w[n - 1];
    for (size_t i = 0; i < sizeof(attr_markers) / sizeof(attr_markers[0]); i++) {
        size_t m = strlen(attr_markers[i]);
        unsigned char mlast = (unsigned char)attr_markers[i][m - 1];
        /* Cheap first test on the last byte (markers end in a lower-case letter or ')'). */
        if (mlast != last && !(last < 0x80 && mlast == (unsigned char)tolower(last)))
            continue;
        if (!ends_ci(w, n, attr_markers[i]))
            continue;
        /* A whole word: "rewrote:" is not "wrote:" (non-ASCII markers need no boundary). */
        if (m < n && isalpha((unsigned char)w[n - m - 1]))
            continue;
        return 1;
    }
    return 0;
}

/* "Name <a@b>:" after a date: Gmail's and many webmails' form without a verb. */
static int
ends_with_address_colon(const char *w, size_t n)
{
    trim(&w, &n);
    return ends_ci(w, n, ">:") || ends_ci(w, n, ">\xEF\xBC\x9A");
}

/* "2016-03-03 17:21 GMT+01:00 Some One" or "2013/7/20 Name <a@b>": Gmail's old style. */
static int
is_date_first(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && i < 4 && isdigit((unsigned char)s[i]))
        i++;
    if (i != 4 || i >= n || (s[i] != '-' && s[i] != '/'))
        return 0;
    char sep = s[i++];
    size_t d = 0;
    while (i < n && d < 3 && isdigit((unsigned char)s[i]))
        i++, d++;
    if (d == 0 || d > 2 || i >= n || s[i] != sep)
        return 0;
    i++;
    d = 0;
    while (i < n && d < 3 && isdigit((unsigned char)s[i]))
        i++, d++;
    if (d == 0 || d > 2 || n > 200)
        return 0;
    return contains_ci(s + i, n - i, " GMT") || (has_byte(s, n, '@') && has_byte(s, n, '<'));
}

/*
 * Join lines first..last (quote markers removed, single spaces) into w.
 * Returns the length, or 0 when the window is too long to be an attribution.
 */
static size_t
join_window(const struct line *lines, size_t first, size_t last, char *w, size_t cap)
{
    size_t n = 0;
    for (size_t i = first; i <= last; i++) {
        const char *p;
        size_t len;
        unquoted_part(&lines[i], &p, &len);
        if (len == 0)
            continue;
        if (n + len + 1 >= cap)
            return 0;
        if (n > 0)
            w[n++] = ' ';
        memcpy(w + n, p, len);
        n += len;
    }
    return n;
}

/* Enough evidence for a multi-line or verb-less attribution: a date and a closing form. */
static int
attr_strict(const char *w, size_t n)
{
    int colon;
    if (!has_date_digit(w, n))
        return 0;
    if (ends_with_marker(w, n, &colon))
        return colon || has_byte(w, n, '@');
    if (ends_with_address_colon(w, n))
        return 1;
    /* German Google Inbox: "Name <a@b> schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:" */
    return w[n - 1] == ':' && memmem(w, n, "chrieb am ", 10) != NULL;
}

/* "Some One <a@b> wrote:" without a date: the address is the evidence. */
static int
attr_by_address(const char *w, size_t n)
{
    int colon;
    return has_byte(w, n, '@') && ends_with_marker(w, n, &colon);
}

/* A line that may continue onto the next one as part of an attribution. */
static int
may_continue(const struct line *l)
{
    const char *s;
    size_t n;
    unquoted_part(l, &s, &n);
    if (n == 0)
        return 0;
    char c = s[n - 1];
    /* A sentence ends here, unless it is a date's "28." */
    if ((c == '.' || c == '!' || c == '?') && !(n > 1 && isdigit((unsigned char)s[n - 2])))
        return 0;
    return 1;
}

/* The previous line was cut mid-address ("Name <" / "Name (") by the sender's client. */
static int
ends_open(const struct line *l)
{
    const char *s;
    size_t n;
    unquoted_part(l, &s, &n);
    return n > 0 && (s[n - 1] == '<' || s[n - 1] == '(');
}

/* Could line e be the last line of an attribution?  A cheap filter before joining. */
static int
may_end_attrib(const struct line *l)
{
    const char *s;
    size_t n;
    unquoted_part(l, &s, &n);
    if (n == 0)
        return 0;
    return s[n - 1] == ':' || (n >= 3 && is_fullwidth_colon(s + n - 3, 3)) ||
           ends_ci(s, n, "wrote");
}

/* A line that ends in a comma after a date part: "On Nov 21, 2014," / "at 10:18,". */
static int
is_dated_clause(const struct line *l)
{
    const char *s;
    size_t n;
    unquoted_part(l, &s, &n);
    return n > 0 && n <= ATTR_BYTES && s[n - 1] == ',' && has_date_digit(s, n);
}

/*
 * Mark lines s..e as one attribution, with the dated clauses the sender's
 * client wrapped above it ("On Nov 21, 2014,\nat 10:18,\nJohn <j@d> wrote:").
 */
static void
mark_attrib(struct line *lines, size_t s, size_t e)
{
    while (s > 0 && e - s + 1 < ATTR_LINES && is_dated_clause(&lines[s - 1]))
        s--;
    for (size_t i = s; i <= e; i++)
        lines[i].kind = LINE_ATTRIB;
}

/* The smallest window of lines s..e (s < e) that reads as one wrapped attribution; 0 when none. */
static int
extend_attrib(struct line *lines, size_t e)
{
    char w[ATTR_BYTES + 8];
    int digit = lines[e].digit;
    for (size_t back = 1; back < ATTR_LINES && back <= e; back++) {
        size_t s = e - back;
        digit |= lines[s].digit;
        if (is_blank(&lines[s]))
            continue; /* a window neither starts nor ends on a blank line */
        if (!may_continue(&lines[s]))
            return 0; /* never across a finished sentence */
        if (!digit)
            continue; /* attr_strict needs a date somewhere */
        size_t n = join_window(lines, s, e, w, sizeof(w));
        if (n == 0)
            return 0;
        if (attr_strict(w, n)) {
            mark_attrib(lines, s, e);
            return 1;
        }
    }
    return 0;
}

/*
 * Find the attribution ending at line e, if any, and mark it.  When the line
 * above was cut mid-address ("Name <"), the attribution began there, so the
 * wrapped reading is tried first; otherwise the line alone is preferred, so a
 * sentence of the person's above it is never swallowed.
 */
static void
find_attrib_ending_at(struct line *lines, size_t e)
{
    char w[ATTR_BYTES + 8];
    const char *own;
    size_t own_len;
    unquoted_part(&lines[e], &own, &own_len);
    int wrapped = own[0] == '<' || (e > 0 && ends_open(&lines[e - 1]));
    if (wrapped && extend_attrib(lines, e))
        return;
    if (!lines[e].digit && !has_byte(own, own_len, '@')) {
        if (!wrapped)
            extend_attrib(lines, e);
        return; /* alone it is neither dated nor addressed */
    }
    size_t n = join_window(lines, e, e, w, sizeof(w));
    if (n == 0)
        return;
    if (attr_strict(w, n) || (!wrapped && attr_by_address(w, n))) {
        mark_attrib(lines, e, e);
        return;
    }
    if (!wrapped && extend_attrib(lines, e))
        return;
    if (attr_by_address(w, n))
        mark_attrib(lines, e, e);
}

static size_t
next_nonblank(const struct line *lines, size_t n, size_t i)
{
    while (i < n && is_blank(&lines[i]))
        i++;
    return i;
}

/*
 * "On Monday, December 15, 2024, at 3:45 PM, John <john@exam" cut off by the
 * sender's client, directly above the quote it introduces.
 */
static int
is_truncated_on_line(const struct line *lines, size_t n, size_t i)
{
    const struct line *l = &lines[i];
    if (is_quote(l) || l->len > ATTR_BYTES || !starts_ci(l->s, l->len, "On "))
        return 0;
    if (!has_digit(l->s, l->len) || !(has_byte(l->s, l->len, '@') || has_byte(l->s, l->len, '<')))
        return 0;
    size_t j = next_nonblank(lines, n, i + 1);
    return j < n && is_quote(&lines[j]);
}

static void
find_attributions(struct line *lines, size_t n)
{
    for (size_t e = 0; e < n; e++) {
        const char *s;
        size_t len;
        unquoted_part(&lines[e], &s, &len);
        if (len == 0 || len > ATTR_BYTES)
            continue;
        if (is_date_first(s, len) || is_truncated_on_line(lines, n, e))
            mark_attrib(lines, e, e);
        else if (may_end_attrib(&lines[e]))
            find_attrib_ending_at(lines, e);
    }
}

/* ---- things that start an unquoted original or a signature --------------- */

/* "-- " (RFC 3676 signature separator) or the "--" that clients trim it to. */
static int
is_sig_separator(const char *s, size_t n)
{
    return n == 2 && s[0] == '-' && s[1] == '-';
}

/* "______": Outlook's rule above the original, and mailing-list footers. */
static int
is_underscore_rule(const char *s, size_t n)
{
    if (n < 2)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            return 0;
    return 1;
}

/*
 * "-----Original Message-----", "---------- Forwarded message ---------",
 * "*-------- Original Message --------*", "---- On ... wrote ----": dashes on
 * both sides of some text.
 */
static int
is_dash_wrapped(const char *s, size_t n)
{
    while (n > 0 && (s[0] == '*' || s[0] == ' '))
        s++, n--;
    while (n > 0 && (s[n - 1] == '*' || s[n - 1] == ' '))
        n--;
    size_t lead = 0, trail = 0;
    while (lead < n && s[lead] == '-')
        lead++;
    while (trail < n - lead && s[n - 1 - trail] == '-')
        trail++;
    if (lead < 3 || trail < 3)
        return 0;
    for (size_t i = lead; i < n - trail; i++)
        if (isalpha((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)
            return 1;
    return 0;
}

/*
 * A list's entries by the class of their first byte (lead_class): list_has
 * tries only the entries that may start the key, where a first-byte test
 * on every entry of a list (the 91 header names for each line with a colon,
 * the 32 footer phrases for each line) was 6k instructions of a join's
 * reading.  Scanning every line against the lists must stay fast on
 * megabytes of input.  Built at first use; the lists never change.
 */
#define REPLY_LIST_MAX 128

struct list_index {
    const char *const *list;
    size_t count;
    int ready;
    uint16_t first[257]; /* entries of lead class c: at[first[c] .. first[c + 1]) */
    uint16_t at[REPLY_LIST_MAX];
};

/*
 * The class of a key's (lower-cased) first byte c and of a lower-case entry's
 * first byte: an entry may start the key only when the classes are equal.
 * Upper and lower case Cyrillic (D0/D1) and Greek (CE/CF) may differ in the
 * lead byte, so each pair is one class.
 */
static unsigned char
lead_class(unsigned char c)
{
    return ((c & 0xFE) == 0xD0 || (c & 0xFE) == 0xCE) ? (unsigned char)(c & 0xFE) : c;
}

static void
list_index_build(struct list_index *x)
{
    uint16_t count[257] = {0};
    for (size_t i = 0; i < x->count; i++)
        count[lead_class((unsigned char)x->list[i][0]) + 1]++;
    for (size_t c = 0; c < 256; c++)
        count[c + 1] += count[c];
    memcpy(x->first, count, sizeof x->first);
    for (size_t i = 0; i < x->count; i++)
        x->at[count[lead_class((unsigned char)x->list[i][0])]++] = (uint16_t)i;
    x->ready = 1;
}

/* 1 when an entry of x is key[0..n) (whole) or starts it (case-insensitive). */
static int
list_has(struct list_index *x, const char *key, size_t n, int whole)
{
    if (!x->ready)
        list_index_build(x);
    unsigned char c = lead_class(lower_ascii((unsigned char)key[0]));
    for (size_t j = x->first[c]; j < x->first[c + 1]; j++) {
        size_t m = match_ci(key, n, x->list[x->at[j]]);
        if (whole ? m == n : m != (size_t)-1)
            return 1;
    }
    return 0;
}

#define LIST_COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define LIST_INDEX(a) {a, LIST_COUNT(a), 0, {0}, {0}}


static const char *const forward_intros[] = {
    "begin forwarded message",        "anfang der weitergeleiteten nachricht",
    "début du message réexpédié",     "debut du message reexpedie",
    "inizio messaggio inoltrato",     "begin doorgestuurd bericht",
    "comienzo del mensaje reenviado", "início da mensagem reencaminhada",
    "inicio del mensaje reenviado",
};

_Static_assert(LIST_COUNT(forward_intros) <= REPLY_LIST_MAX, "forward_intros outgrew its index");
static struct list_index forward_index = LIST_INDEX(forward_intros);

static int
is_forward_intro(const char *s, size_t n)
{
    return n > 0 && list_has(&forward_index, s, n, 0);
}

/* Phone and app footers: the phrase that starts them ... */
static const char *const footer_starts[] = {
    "sent from ",
    "sent with ",
    "sent via ",
    "sent by ",
    "sent using ",
    "get outlook for ",
    "from my ",
    "envoyé de ",
    "envoyé depuis ",
    "envoyé à partir de ",
    "envoyé avec ",
    "gesendet von ",
    "gesendet mit ",
    "von meinem ",
    "diese nachricht wurde von meinem ",
    "sendt fra ",
    "skickat från ",
    "verzonden met ",
    "verzonden vanaf ",
    "verstuurd vanaf ",
    "enviado desde ",
    "enviado do ",
    "enviado de ",
    "inviato da ",
    "wysłane z ",
    "отправлено с ",
    "отправлено из ",
    "lähetetty ",
    "從我的",
    "发自我的",
    "来自我的",
    "iphoneから送信",
};

/* ... and the device or app it names ("Sent from my desk, ..." is a sentence, not a footer). */
static const char *const footer_devices[] = {
    "iphone", "ipad",   "ipod",    "android", "blackberry", "mobil",     "phone",  "cell",
    "device", "galaxy", "samsung", "htc",     "nokia",      "huawei",    "pixel",  "outlook",
    "mail",   "yahoo",  "airmail", "typeapp", "sparrow",    "k-9",       "tablet", "handy",
    "ios",    "xiaomi", "windows", "pc",      "motorola",   "fairphone",
};

_Static_assert(LIST_COUNT(footer_starts) <= REPLY_LIST_MAX, "footer_starts outgrew its index");
static struct list_index footer_index = LIST_INDEX(footer_starts);

static int
is_footer(const char *s, size_t n)
{
    while (n > 0 && (s[0] == '(' || s[0] == '<' || s[0] == '['))
        s++, n--;
    if (n == 0)
        return 0;
    if (!list_has(&footer_index, s, n, 0) || n > 200)
        return 0;
    /* The device is named before the first comma, full stop, link or bracket. */
    size_t seg = 0;
    while (seg < n && s[seg] != ',' && s[seg] != '<' && s[seg] != '(' && s[seg] != '[' &&
           !(s[seg] == '.' && (seg + 1 == n || s[seg + 1] == ' ')))
        seg++;
    for (size_t i = 0; i < sizeof(footer_devices) / sizeof(footer_devices[0]); i++)
        if (contains_ci(s, seg, footer_devices[i]))
            return 1;
    /* "Sent from my Wiko RIDGE FAB 4G": a short line that is only the phrase and a name. */
    return seg == n && n <= 60;
}

/* Header names of quoted-original blocks: the sender's ... */
static const char *const header_from[] = {
    "from",   "von",    "de",         "da",       "van",       "från",     "fra",
    "od",     "от",     "від",        "发件人",   "寄件者",    "差出人",   "lähettäjä",
    "feladó", "kimden", "message du", "afzender", "remitente", "mittente", "nadawca",
};

/* ... and the others. */
static const char *const header_other[] = {
    "sent",      "date",          "to",       "cc",        "bcc",
    "subject",   "reply-to",      "gesendet", "datum",     "an",
    "betreff",   "kopie",         "envoyé",   "envoyé le", "à",
    "a",         "objet",         "copie à",  "sujet",     "inviato",
    "data",      "oggetto",       "risposta", "verzonden", "aan",
    "onderwerp", "skickat",       "till",     "ämne",      "sendt",
    "til",       "emne",          "dato",     "enviado",   "enviado el",
    "para",      "asunto",        "fecha",    "wysłano",   "do",
    "temat",     "отправлено",    "дата",     "кому",      "тема",
    "копия",     "发送时间",      "收件人",   "主题",      "日期",
    "抄送",      "送信日時",      "宛先",     "件名",      "日付",
    "lähetetty", "vastaanottaja", "aihe",     "elküldve",  "címzett",
    "tárgy",     "gönderildi",    "kime",     "konu",      "tarih",
    "assunto",   "enviada em",    "cc/bcc",   "aan/to",    "sent/date",
};

_Static_assert(LIST_COUNT(header_from) <= REPLY_LIST_MAX && LIST_COUNT(header_other) <= REPLY_LIST_MAX,
               "a header list outgrew its index");
static struct list_index from_index = LIST_INDEX(header_from);
static struct list_index other_index = LIST_INDEX(header_other);

/* 2 for a sender header line ("From:", "*Von:*"), 1 for another header name, 0 otherwise. */
static int
header_key(const struct line *l)
{
    const char *s = l->s;
    size_t n = l->len;
    trim(&s, &n);
    while (n > 0 && s[0] == '*')
        s++, n--;
    size_t k = 0;
    while (k < n && k < 32 && s[k] != ':' && !is_fullwidth_colon(s + k, n - k))
        k++;
    if (k == n || k == 32 || k == 0)
        return 0;
    while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '*'))
        k--;
    if (list_has(&from_index, s, k, 1))
        return 2;
    return list_has(&other_index, s, k, 1) ? 1 : 0;
}

/* "From:/Sent:/To:/Subject:" (in some language) starting at line i: at least three names. */
static int
is_header_block(const struct line *lines, size_t n, size_t i)
{
    if (header_key(&lines[i]) == 0)
        return 0;
    int count = 0, sender = 0;
    for (size_t j = i; j < n && j < i + HEADER_SCAN; j++) {
        if (is_blank(&lines[j]))
            break;
        int k = header_key(&lines[j]);
        count += k != 0;
        sender |= k == 2;
    }
    return count >= 3 && sender;
}

/* Does an unquoted original or a signature start at line i? */
static int
starts_rest(const struct line *lines, size_t n, size_t i)
{
    const char *s = lines[i].s;
    size_t len = lines[i].len;
    trim(&s, &len);
    return is_sig_separator(s, len) || is_underscore_rule(s, len) || is_dash_wrapped(s, len) ||
           is_forward_intro(s, len) || is_footer(s, len) || is_header_block(lines, n, i);
}

/* ---- output ------------------------------------------------------------- */

static int
out_add(struct out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (o->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(o->data, cap);
        if (p == NULL)
            return -1;
        o->data = p;
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = '\0';
    return 0;
}

/* Append a kept line without its trailing spaces. */
static int
out_line(struct out *o, const struct line *l)
{
    size_t n = l->len;
    while (n > 0 && is_ws((unsigned char)l->s[n - 1]))
        n--;
    if (out_add(o, l->s, n) < 0)
        return -1;
    return out_add(o, "\n", 1);
}

/*
 * A line left over at the end that says nothing: blank, a rule of dashes or
 * stars, or invisible characters (Gmail's U+1427 tracking mark, zero-width
 * spaces, BOM).
 */
static int
is_filler(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        const unsigned char *p = (const unsigned char *)s + i;
        if (strchr(" \t-_=*#~+.>", p[0]) != NULL) {
            i++;
        } else if (n - i >= 3 && ((p[0] == 0xE1 && p[1] == 0x90 && p[2] == 0xA7) ||
                                  (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0x8B && p[2] <= 0x8D) ||
                                  (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF))) {
            i += 3;
        } else if (n - i >= 2 && p[0] == 0xC2 && p[1] == 0xA0) {
            i += 2;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Drop filler lines at the end and blank lines at the start; the result is malloc'd. */
static char *
finish(struct out *o)
{
    if (o->data == NULL)
        return strdup("");
    size_t end = o->len;
    for (;;) {
        while (end > 0 && o->data[end - 1] == '\n')
            end--;
        size_t start = end;
        while (start > 0 && o->data[start - 1] != '\n')
            start--;
        if (end == 0 || !is_filler(o->data + start, end - start))
            break;
        end = start;
    }
    size_t begin = 0;
    while (begin < end) {
        size_t e = begin;
        while (e < end && o->data[e] != '\n')
            e++;
        const char *p = o->data + begin;
        size_t m = e - begin;
        trim(&p, &m);
        if (m != 0)
            break;
        begin = e < end ? e + 1 : e;
    }
    memmove(o->data, o->data + begin, end - begin);
    o->data[end - begin] = '\0';
    return o->data;
}

/* ---- the walk ----------------------------------------------------------- */

/*
 * Keep the person's lines, in order.  Quotes and the attributions that
 * introduce them are dropped (and the blank lines right after them, so an
 * inline reply reads as one text); the first unquoted original, signature or
 * footer ends the person's text.
 */
static int
walk(const struct line *lines, size_t n, struct out *o)
{
    int after_drop = 0;
    for (size_t i = 0; i < n; i++) {
        const struct line *l = &lines[i];
        if (l->kind == LINE_ATTRIB) {
            size_t j = i;
            while (j + 1 < n && lines[j + 1].kind == LINE_ATTRIB)
                j++;
            size_t next = next_nonblank(lines, n, j + 1);
            /* A quoted attribution is part of its quote; an unquoted one must introduce one. */
            if (!is_quote(l) && (next == n || !is_quote(&lines[next])))
                return 0;
            after_drop = 1;
            i = j;
            continue;
        }
        if (is_blank(l)) {
            if (!after_drop && out_add(o, "\n", 1) < 0)
                return -1;
            continue;
        }
        if (is_quote(l) || is_wrapped_quote(lines, n, i)) {
            after_drop = 1;
            continue;
        }
        if (starts_rest(lines, n, i))
            return 0;
        after_drop = 0;
        if (out_line(o, l) < 0)
            return -1;
    }
    return 0;
}

/* A line of quote markers and spaces only (">", "> >"): an empty line of a quote. */
static int
is_empty_quote(const struct line *l)
{
    size_t k = 0;
    while (k < l->len && (l->s[k] == '>' || is_ws((unsigned char)l->s[k])))
        k++;
    return k == l->len;
}

/*
 * The end of a header block of a forwarded or pasted original starting at
 * line i ("From: ...", "Date: ...", "Subject: ..." and its wrapped
 * continuation, "To: ..."): the first blank line, as in a message.  Bounded,
 * so text that only looks like headers is not swallowed whole.
 */
static size_t
skip_header_block(const struct line *lines, size_t n, size_t i)
{
    if (i >= n || header_key(&lines[i]) == 0)
        return i;
    size_t j = i;
    while (j < n && j < i + 2 * HEADER_SCAN && !is_blank(&lines[j]))
        j++;
    return j;
}

/*
 * When the person wrote nothing of their own, what they sent along: a quote
 * with its marks, a forwarded message without its separator and header
 * block, an original pasted under an attribution.  Attributions are left out
 * and a signature or footer of the sender's ends it.  This is shown back to
 * the person and to the admin ("only quoted text"); it is never read for
 * commands, profile fields or ratings.
 */
static int
walk_sent_along(const struct line *lines, size_t n, struct out *o)
{
    int started = 0;
    for (size_t i = 0; i < n; i++) {
        const struct line *l = &lines[i];
        const char *s = l->s;
        size_t len = l->len;
        trim(&s, &len);
        if (l->kind == LINE_ATTRIB || (!started && is_empty_quote(l)))
            continue;
        if (is_dash_wrapped(s, len) || is_forward_intro(s, len) || is_underscore_rule(s, len)) {
            i = skip_header_block(lines, n, i + 1) - 1;
            continue;
        }
        if (is_header_block(lines, n, i)) {
            i = skip_header_block(lines, n, i) - 1;
            continue;
        }
        if (is_sig_separator(s, len) || is_footer(s, len))
            break;
        started = 1;
        if (out_line(o, l) < 0)
            return -1;
    }
    return 0;
}

/* Copy text with CRLF and lone CR turned into LF; NULL is "". */
static char *
normalise(const char *text, size_t *len)
{
    if (text == NULL)
        text = "";
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    if (copy == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\r') {
            if (i + 1 < n && text[i + 1] == '\n')
                continue;
            copy[k++] = '\n';
        } else {
            copy[k++] = text[i];
        }
    }
    copy[k] = '\0';
    *len = k;
    return copy;
}

static struct line *
split_lines(const char *text, size_t len, size_t *count)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    struct line *lines = calloc(n, sizeof(*lines));
    if (lines == NULL)
        return NULL;
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            lines[k].s = text + start;
            lines[k].len = i - start;
            lines[k].digit = (unsigned char)has_digit(lines[k].s, lines[k].len);
            k++;
            start = i + 1;
        }
    }
    *count = k;
    return lines;
}

char *
reply_read(const char *text, enum reply_origin *origin)
{
    size_t len, n;
    char *copy = normalise(text, &len);
    if (copy == NULL)
        return NULL;
    struct line *lines = split_lines(copy, len, &n);
    if (lines == NULL) {
        free(copy);
        return NULL;
    }
    find_attributions(lines, n);
    struct out o = {0};
    int rc = walk(lines, n, &o);
    char *own = rc < 0 ? NULL : finish(&o);
    enum reply_origin from = REPLY_OWN;
    if (own != NULL && own[0] == '\0') {
        free(own);
        memset(&o, 0, sizeof(o));
        rc = walk_sent_along(lines, n, &o);
        own = rc < 0 ? NULL : finish(&o);
        from = own != NULL && own[0] != '\0' ? REPLY_SENT_ALONG : REPLY_NONE;
    }
    free(lines);
    free(copy);
    if (own == NULL) {
        free(o.data);
        return NULL;
    }
    if (origin != NULL)
        *origin = from;
    return own;
}

char *
reply_extract(const char *text)
{
    enum reply_origin origin;
    char *r = reply_read(text, &origin);
    if (r != NULL && origin != REPLY_OWN)
        r[0] = '\0';
    return r;
}
