/*
 * profile: "Key: value" lines a member writes about themselves.
 *
 * Rules (so the help text can explain them):
 *  - a line is "Key: value" (also "Key：value"), optionally after a bullet
 *    ("- ", "* ", "• "); keys are case-insensitive and spaces, hyphens and
 *    underscores in them do not matter ("Time zone", "timezone", "Time-Zone");
 *  - lines whose key is not a profile key are free text and ignored;
 *  - a profile key with an unusable value becomes a problem with a hint;
 *  - lists are split on , ; / & and the words "and", "und", "et", "y"; items
 *    are trimmed, lower-cased, shortened to 40 bytes at a word boundary, an
 *    English plural is dropped conservatively ("tests" -> "test", but never
 *    "css", "windows", "analytics"), duplicates dropped, at most 20 kept;
 *  - languages become English lower-case names from English names, native
 *    names or ISO 639-1 codes ("Deutsch", "German", "de" -> "german");
 *  - time zones: "UTC+2", "GMT-05:00", "+0530" (stored as "UTC+05:30", zero
 *    as "UTC"), common abbreviations and ~150 cities and single-zone countries
 *    (mapped to the region's IANA zone, so daylight saving is right: "PST" is
 *    America/Los_Angeles), or an IANA name checked against the tz database,
 *    case fixed up ("europe/berlin" -> "Europe/Berlin");
 *  - capacity: a whole number of mentees, 1..20;
 *  - availability: hours per week, 0..80; "2-4 hours" takes the lower bound
 *    (never plan with more time than was offered), "1 hour a day" is 7 a week,
 *    "8 hours a month" is 2 a week;
 *  - at most 20 problems are kept, so a reply stays readable.
 */
#include "buf.h"
#include "lang.h"
#include "profile.h"
#include "skills.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITEMS 20
#define MAX_PROBLEMS 20
#define MAX_PROBLEM_TEXT 200 /* bytes of a problem line quoted back */
#define MAX_PROBLEM_HINT 600 /* bytes of a hint (one naming every unknown item can grow) */
#define MAX_ITEM 40
#define MAX_NAME 100
#define MAX_KEY 40
#define MAX_ZONE 100
#define MAX_CAPACITY 20
#define MAX_HOURS 80
#define ZONEINFO "/usr/share/zoneinfo"

/* The tables: profile keys per language, languages, zones, places, words. */
#include "profile_data.h"

/* ---- strings ------------------------------------------------------------ */

/* Growable string; any failed allocation is remembered and reported once at the end. */

static size_t
space_len(const char *s)
{
    if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\f' || *s == '\v')
        return 1;
    if ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0)
        return 2; /* no-break space, common in HTML mail */
    return 0;
}

/* Trim whitespace from both ends of s[0..*n); returns the new start. */
static const char *
trim(const char *s, size_t *n)
{
    const char *end = s + *n;
    size_t k;
    while (s < end && (k = space_len(s)) > 0 && s + k <= end)
        s += k;
    for (;;) {
        if (end > s && isspace((unsigned char)end[-1]))
            end--;
        else if (end - s >= 2 && (unsigned char)end[-2] == 0xc2 && (unsigned char)end[-1] == 0xa0)
            end -= 2;
        else
            break;
    }
    *n = (size_t)(end - s);
    return s;
}

/*
 * Lower-case copy of s[0..n) into out (n + 1 bytes): ASCII, Latin-1 letters (À-Þ) and basic
 * Cyrillic, which covers the keys and names people write; whitespace runs
 * become one space.  NULL on allocation failure.
 */
static char *
lower_into(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i], d = i + 1 < n ? (unsigned char)s[i + 1] : 0;
        if (c > ' ' && c < 0x80) {
            out[o++] = (char)tolower(c); /* printable ASCII: no space, no other case rule */
            i++;
            continue;
        }
        size_t sp = space_len(s + i);
        if (sp > 0 && i + sp <= n) {
            if (o == 0 || out[o - 1] != ' ')
                out[o++] = ' ';
            i += sp;
        } else if (c == 0xc3 && d >= 0x80 && d <= 0x9e && d != 0x97) {
            out[o++] = (char)c;
            out[o++] = (char)(d + 0x20);
            i += 2;
        } else if (c == 0xd0 && d >= 0x90 && d <= 0x9f) {
            out[o++] = (char)c;
            out[o++] = (char)(d + 0x20);
            i += 2;
        } else if (c == 0xd0 && d >= 0xa0 && d <= 0xaf) {
            out[o++] = (char)0xd1;
            out[o++] = (char)(d - 0x20);
            i += 2;
        } else {
            out[o++] = (char)tolower(c);
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

/* lower_into a malloc'd copy (never longer than s[0..n): no branch writes more than it reads). */
static char *
lower_dup(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    return out != NULL ? lower_into(s, n, out) : NULL;
}

/* Length of the longest prefix of s no longer than max that does not split a UTF-8 character. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

/* ---- problems ----------------------------------------------------------- */

/* At most max bytes of s (not splitting a character), "..." marking a cut. */
static char *
shorten(const char *s, size_t max)
{
    size_t len = strlen(s), n = utf8_cut(s, len, max);
    char *out = malloc(n + 4);
    if (out == NULL)
        return NULL;
    memcpy(out, s, n);
    strcpy(out + n, n < len ? "..." : "");
    return out;
}

/*
 * Record a problem; hint is taken over (NULL means the hint could not be
 * allocated).  Line and hint are quoted in the answer, so both are shortened:
 * a 4 MB "Skills:" line must not come back as a 4 MB mail.
 */
/*
 * A hint from hint() carries its phrase key and values before the English
 * text, each ended by HINT_SEP: they move to the problem, the text stays.
 */
#define HINT_SEP '\x1f'

static const char *hint_key(const char *key);

static int
unpack_hint(struct profile_problem *t, char *hint)
{
    memset(t->args, 0, sizeof(t->args));
    t->key = NULL;
    char *sep = strchr(hint, HINT_SEP);
    if (sep == NULL)
        return 0;
    *sep = '\0';
    t->key = hint_key(hint);
    char *p = sep + 1;
    for (size_t i = 0; i < PROFILE_HINT_ARGS && (sep = strchr(p, HINT_SEP)) != NULL; i++) {
        /* A value is quoted in the answer: shortened as the line is (a 4 MB list). */
        *sep = '\0';
        if ((t->args[i] = shorten(p, MAX_PROBLEM_TEXT)) == NULL)
            return -1;
        p = sep + 1;
    }
    while ((sep = strchr(p, HINT_SEP)) != NULL) /* more values than a phrase takes */
        p = sep + 1;
    memmove(hint, p, strlen(p) + 1);
    return 0;
}

static void
free_hint_args(struct profile_problem *t)
{
    for (size_t i = 0; i < PROFILE_HINT_ARGS; i++)
        free(t->args[i]);
}

static int
add_problem(struct profile *p, int line, const char *text, char *hint)
{
    struct profile_problem one;

    if (hint == NULL)
        return -1;
    if (unpack_hint(&one, hint) != 0) {
        free_hint_args(&one);
        free(hint);
        return -1;
    }
    if (p->n_problems >= MAX_PROBLEMS) {
        free_hint_args(&one);
        free(hint); /* a reply listing hundreds of lines helps nobody */
        return 0;
    }
    size_t hn = strlen(hint);
    if (hn > MAX_PROBLEM_HINT)
        strcpy(hint + utf8_cut(hint, hn, MAX_PROBLEM_HINT - 3), "...");
    struct profile_problem *t = realloc(p->problems, (p->n_problems + 1) * sizeof *t);
    char *copy = shorten(text, MAX_PROBLEM_TEXT);
    if (t == NULL || copy == NULL) {
        if (t != NULL)
            p->problems = t;
        free(copy);
        free_hint_args(&one);
        free(hint);
        return -1;
    }
    p->problems = t;
    t[p->n_problems] = one;
    t[p->n_problems].line = line;
    t[p->n_problems].text = copy;
    t[p->n_problems].hint = hint;
    p->n_problems++;
    return 0;
}

/*
 * The hints' phrase keys (language.data "phrase.problem_..."): a hint is
 * written in the reader's language from its key and values, the English
 * below standing in.
 */
static const char *const hint_keys[] = {
    "problem_list_empty",     "problem_list_long",        "problem_name_long",
    "problem_languages_none", "problem_language_unknown", "problem_languages_unknown",
    "problem_capacity",       "problem_availability",     "problem_time_zone",
    "problem_empty",          "problem_unknown_key",
};

static const char *
hint_key(const char *key)
{
    for (size_t i = 0; i < sizeof(hint_keys) / sizeof(hint_keys[0]); i++)
        if (strcmp(hint_keys[i], key) == 0)
            return hint_keys[i];
    return NULL;
}

/*
 * A hint naming the value as written (shortened), built with printf-style
 * fmt (only %s and %d), packed for add_problem as "key SEP value SEP ... SEP
 * English": each value of fmt is kept, in order, as {1}, {2}, {3}.
 */
static char *__attribute__((format(printf, 2, 3))) hint(const char *key, const char *fmt, ...)
{
    struct buf b = {0};
    char *text = NULL;
    va_list ap;

    buf_printf(&b, "%s%c", key, HINT_SEP);
    va_start(ap, fmt);
    for (const char *f = strchr(fmt, '%'); f; f = strchr(f + 2, '%')) {
        if (f[1] == 's')
            buf_printf(&b, "%s%c", va_arg(ap, const char *), HINT_SEP);
        else if (f[1] == 'd')
            buf_printf(&b, "%d%c", va_arg(ap, int), HINT_SEP);
        else if (f[1] == '\0')
            break;
    }
    va_end(ap);
    va_start(ap, fmt);
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf_free(&b);
        return NULL;
    }
    buf_str(&b, text);
    free(text);
    return buf_take(&b);
}

char *
profile_problem_hint(const struct profile_problem *t, const struct lang *l)
{
    if (t->key == NULL || lang_phrase(l, t->key) == NULL)
        return strdup(t->hint ? t->hint : "");
    return lang_phrase_fill(l, t->key, t->hint, "1", t->args[0], "2", t->args[1], "3", t->args[2],
                            NULL);
}

/* Value shortened for quoting in a hint. */
static void
quote_value(const char *value, char *out, size_t len)
{
    size_t n = utf8_cut(value, strlen(value), len - 4);
    memcpy(out, value, n);
    strcpy(out + n, n < strlen(value) ? "..." : "");
}

/* ---- lists -------------------------------------------------------------- */

static void
free_list(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

static int
in_list(const char *s, char *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], s) == 0)
            return 1;
    return 0;
}

/* Add item (taken over) unless already present or the list is full; -1 on allocation failure. */
static int
list_add(char ***items, size_t *n, char *item, int *overflow)
{
    if (in_list(item, *items, *n)) {
        free(item);
        return 0;
    }
    if (*n >= MAX_ITEMS) {
        *overflow = 1;
        free(item);
        return 0;
    }
    char **t = realloc(*items, (*n + 1) * sizeof *t);
    if (t == NULL) {
        free(item);
        return -1;
    }
    *items = t;
    t[(*n)++] = item;
    return 0;
}

static int
str_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The word lists word_in is asked about, each sorted once (a copy), so that
 * a word is found by binary search among the words of its first byte (strcmp
 * orders by unsigned bytes, so they are together): the sentence readers ask
 * about every word of a mail, a few hundred string comparisons each by
 * scanning.  A list is known by its address: word_in's lists are static arrays.
 */
#define WORD_SETS 16

struct word_set {
    const char *const *list;
    size_t n;
    const char **sorted;
    size_t first[257]; /* words of first byte c: sorted[first[c] .. first[c + 1]) */
};

static struct word_set word_sets[WORD_SETS];
static size_t n_word_sets;

/* list sorted; NULL when there is no room or memory for it (then it is scanned). */
static const struct word_set *
word_set(const char *const *list, size_t n)
{
    for (size_t i = 0; i < n_word_sets; i++)
        if (word_sets[i].list == list && word_sets[i].n == n)
            return &word_sets[i];
    if (n_word_sets == WORD_SETS || n == 0)
        return NULL;
    const char **sorted = malloc(n * sizeof(*sorted));
    if (sorted == NULL)
        return NULL;
    memcpy(sorted, list, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), str_order);
    struct word_set *set = &word_sets[n_word_sets++];
    set->list = list;
    set->n = n;
    set->sorted = sorted;
    size_t k = 0;
    for (unsigned c = 0; c < 256; c++) {
        set->first[c] = k;
        while (k < n && (unsigned char)sorted[k][0] == c)
            k++;
    }
    set->first[256] = n;
    return set;
}

static int
word_in(const char *w, const char *const *list, size_t n)
{
    const struct word_set *set = word_set(list, n);
    if (set != NULL) {
        size_t c = (unsigned char)w[0], lo = set->first[c];
        return bsearch(&w, set->sorted + lo, set->first[c + 1] - lo, sizeof(*set->sorted),
                       str_order) != NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, list[i]) == 0)
            return 1;
    return 0;
}

static int
ends(const char *w, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strcmp(w + n - k, suffix) == 0;
}

/*
 * Drop an English plural from the last word of tag, conservatively: only
 * ASCII words longer than 4 letters, never after "ss", "us", "is", "os",
 * "ics" or for known words.  The result never qualifies again, so
 * normalising twice gives the same tag (which the serialise round trip needs).
 */
static void
strip_plural(char *tag)
{
    char *w = strrchr(tag, ' ');
    w = w ? w + 1 : tag;
    size_t n = strlen(w);
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)w[i]))
            return;
    if (n <= 4 || w[n - 1] != 's' || ends(w, n, "ss") || ends(w, n, "us") || ends(w, n, "is") ||
        ends(w, n, "os") || ends(w, n, "ics") ||
        word_in(w, not_plurals, sizeof not_plurals / sizeof not_plurals[0]))
        return;
    if (ends(w, n, "ies") && n > 5)
        strcpy(w + n - 3, "y"); /* libraries, technologies */
    else if (ends(w, n, "sses") || ends(w, n, "xes") || ends(w, n, "shes") || ends(w, n, "tches") ||
             ends(w, n, "rches") || ends(w, n, "nches"))
        w[n - 2] = '\0'; /* classes, boxes, hashes, patches, searches, branches */
    else
        w[n - 1] = '\0';
}

/* Strip characters in lead from the start and in tail from the end of s, in place. */
static void
strip_ends(char *s, const char *lead, const char *tail)
{
    size_t n = strlen(s);
    while (n > 0 && (strchr(tail, s[n - 1]) != NULL))
        s[--n] = '\0';
    size_t k = strspn(s, lead);
    memmove(s, s + k, n - k + 1);
}

/*
 * Normalise one list item in place: trimmed, no leading conjunction or
 * surrounding quotes, at most MAX_ITEM bytes cut at a word boundary.
 */
static void
tidy_item(char *s)
{
    static const char *const conjunctions[] = {"and ", "und ", "et ", "y ", "e ", "or "};
    /* A leading dot stays: ".net". */
    strip_ends(s, " \"'", " .!?\"'");
    for (size_t i = 0; i < sizeof conjunctions / sizeof conjunctions[0]; i++) {
        size_t k = strlen(conjunctions[i]);
        if (strncmp(s, conjunctions[i], k) == 0) {
            memmove(s, s + k, strlen(s + k) + 1);
            i = (size_t)-1; /* "and or x": look again from the first */
        }
    }
    size_t n = strlen(s);
    if (n > MAX_ITEM) {
        size_t cut = utf8_cut(s, n, MAX_ITEM);
        char *sp = memrchr(s, ' ', cut + 1);
        s[sp != NULL && sp > s ? (size_t)(sp - s) : cut] = '\0';
    }
    strip_ends(s, " \"'", " .!?\"'");
}

/* Length of a list separator at s, or 0. */
static size_t
separator_at(const char *s)
{
    /* Called at every character of a list: most start no separator at all. */
    static unsigned char first[256];
    static int ready;
    if (!ready) {
        for (size_t i = 0; i < sizeof separators / sizeof separators[0]; i++)
            first[(unsigned char)separators[i][0]] = 1;
        ready = 1;
    }
    if (!first[(unsigned char)*s])
        return 0;
    for (size_t i = 0; i < sizeof separators / sizeof separators[0]; i++) {
        size_t k = strlen(separators[i]);
        if (strncmp(s, separators[i], k) == 0)
            return separators[i][0] == ' ' ? k - 1 : k; /* leave the space for the next word */
    }
    return 0;
}

typedef int (*item_fn)(const char *item, void *ctx);

/* Split the lower-cased value into items and hand each non-empty one to fn. */
static int
split_list(const char *lower, item_fn fn, void *ctx)
{
    const char *s = lower;
    while (*s) {
        const char *e = s;
        size_t k = 0;
        while (*e && (k = separator_at(e)) == 0)
            e++;
        char *item = strndup(s, (size_t)(e - s));
        if (item == NULL)
            return -1;
        tidy_item(item);
        int r = item[0] != '\0' ? fn(item, ctx) : 0;
        free(item);
        if (r < 0)
            return -1;
        s = *e ? e + k : e;
    }
    return 0;
}

struct tags_ctx {
    char **items;
    size_t n;
    int overflow;
};

static int
add_tag(const char *item, void *ctx)
{
    struct tags_ctx *t = ctx;
    if (strcmp(item, "etc") == 0)
        return 0;
    char *tag = strdup(item);
    if (tag == NULL)
        return -1;
    strip_plural(tag);
    return list_add(&t->items, &t->n, tag, &t->overflow);
}

/* ---- fields ------------------------------------------------------------- */

/* What a field parser says about a value. */
enum verdict { V_OK, V_PROBLEM, V_NOMEM = -1 };

static enum verdict
set_list(const char *value, const char *key, const char *example, char ***items, size_t *n,
         char **why)
{
    char *lower = lower_dup(value, strlen(value));
    struct tags_ctx t = {0};
    if (lower == NULL || split_list(lower, add_tag, &t) != 0) {
        free(lower);
        free_list(t.items, t.n);
        return V_NOMEM;
    }
    free(lower);
    if (t.n == 0) {
        *why = hint("problem_list_empty",
                    "%s: I found nothing I could use. Write short topics separated by commas, like "
                    "%s: %s.",
                    key, key, example);
        return *why ? V_PROBLEM : V_NOMEM;
    }
    free_list(*items, *n);
    *items = t.items;
    *n = t.n;
    if (t.overflow) {
        *why = hint("problem_list_long", "%s: I kept the first %d; please list at most %d.", key,
                    MAX_ITEMS, MAX_ITEMS);
        return *why ? V_PROBLEM : V_NOMEM;
    }
    return V_OK;
}

static enum verdict
field_name(const char *value, struct profile *p, char **why)
{
    if (strlen(value) > MAX_NAME) {
        *why = hint("problem_name_long",
                    "Name: that is longer than %d characters. Write the name you want us to use, "
                    "like Name: Ana Silva.",
                    MAX_NAME);
        return *why ? V_PROBLEM : V_NOMEM;
    }
    char *name = strdup(value);
    if (name == NULL)
        return V_NOMEM;
    free(p->name);
    p->name = name;
    return V_OK;
}

static enum verdict
field_skills(const char *value, struct profile *p, char **why)
{
    return set_list(value, "Skills", "python, documentation, testing", &p->skills, &p->n_skills,
                    why);
}

static enum verdict
field_goals(const char *value, struct profile *p, char **why)
{
    return set_list(value, "Goals", "first contribution, code review", &p->goals, &p->n_goals, why);
}

/* A word and the language (its index in languages[]) it names. */
struct language_word {
    const char *w;
    size_t lang;
};

#define N_LANGUAGES (sizeof languages / sizeof languages[0])

static int
language_word_order(const void *a, const void *b)
{
    const struct language_word *x = a, *y = b;
    int c = strcmp(x->w, y->w);
    return c != 0 ? c : x->lang < y->lang ? -1 : x->lang > y->lang;
}

/*
 * A sorted list of language words, with where each first byte's words start
 * (strcmp orders by unsigned bytes, so they are together): a word is searched
 * for among those of its first byte only (the sentence readers ask about
 * every word of a mail; most first bytes start a few names or none).
 */
struct language_index {
    struct language_word *w;
    size_t n;
    size_t first[257]; /* words of first byte c: w[first[c] .. first[c + 1]) */
};

static void
language_index_sort(struct language_index *x)
{
    qsort(x->w, x->n, sizeof(*x->w), language_word_order);
    size_t k = 0;
    for (unsigned c = 0; c < 256; c++) {
        x->first[c] = k;
        while (k < x->n && (unsigned char)x->w[k].w[0] == c)
            k++;
    }
    x->first[256] = x->n;
}

/* The first language w names in x, or N_LANGUAGES when none. */
static size_t
language_word_find(const struct language_index *x, const char *w)
{
    unsigned char c = (unsigned char)w[0];
    size_t lo = x->first[c], hi = x->first[c + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(x->w[mid].w, w) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->first[c + 1] && strcmp(x->w[lo].w, w) == 0 ? x->w[lo].lang : N_LANGUAGES;
}

/*
 * The English name of a language word; codes count only when allowed (never
 * inside prose).  The first language in the table that has the word wins,
 * as when the table was scanned; the names and the codes are found by binary
 * search (the sentence readers ask about every word of a mail).
 */
static const char *
language_lookup(const char *w, int codes)
{
    static struct language_word name_words[N_LANGUAGES * 6], code_words[N_LANGUAGES];
    static struct language_index names = {name_words, 0, {0}}, code_index = {code_words, 0, {0}};
    static int indexed;
    if (!indexed) {
        for (size_t i = 0; i < N_LANGUAGES; i++) {
            name_words[names.n++] = (struct language_word){languages[i].english, i};
            for (size_t j = 0; j < 5 && languages[i].names[j] != NULL; j++)
                name_words[names.n++] = (struct language_word){languages[i].names[j], i};
            if (languages[i].code != NULL)
                code_words[code_index.n++] = (struct language_word){languages[i].code, i};
        }
        language_index_sort(&names);
        language_index_sort(&code_index);
        indexed = 1;
    }
    size_t i = language_word_find(&names, w);
    if (codes) {
        size_t c = language_word_find(&code_index, w);
        i = c < i ? c : i;
    }
    return i < N_LANGUAGES ? languages[i].english : NULL;
}

/* "english (native)" -> "english", "pt-br" -> pt, "fluent spanish" -> spanish. */
static const char *
language_of(char *item)
{
    char *paren = strchr(item, '(');
    if (paren != NULL) {
        *paren = '\0';
        strip_ends(item, " -", " -");
    }
    const char *name = language_lookup(item, 1);
    if (name != NULL)
        return name;
    if (strlen(item) == 5 && (item[2] == '-' || item[2] == '_')) {
        char code[3] = {item[0], item[1], '\0'};
        if ((name = language_lookup(code, 1)) != NULL)
            return name;
    }
    char *save = NULL;
    for (char *w = strtok_r(item, " -:", &save); w != NULL; w = strtok_r(NULL, " -:", &save))
        if ((name = language_lookup(w, 0)) != NULL)
            return name;
    return NULL;
}

struct languages_ctx {
    struct tags_ctx tags;
    struct buf unknown;
    int n_unknown;
};

static int
add_language(const char *item, void *ctx)
{
    struct languages_ctx *l = ctx;
    char *copy = strdup(item);
    if (copy == NULL)
        return -1;
    const char *name = language_of(copy);
    free(copy);
    if (name == NULL) {
        buf_printf(&l->unknown, "%s'%s'", l->n_unknown++ ? ", " : "", item);
        return l->unknown.failed ? -1 : 0;
    }
    char *dup = strdup(name);
    return dup == NULL ? -1 : list_add(&l->tags.items, &l->tags.n, dup, &l->tags.overflow);
}

static enum verdict
field_languages(const char *value, struct profile *p, char **why)
{
    char *lower = lower_dup(value, strlen(value));
    struct languages_ctx l = {0};
    if (lower == NULL || split_list(lower, add_language, &l) != 0) {
        free(lower);
        free_list(l.tags.items, l.tags.n);
        free(l.unknown.data);
        return V_NOMEM;
    }
    free(lower);
    if (l.tags.n > 0) {
        free_list(p->languages, p->n_languages);
        p->languages = l.tags.items;
        p->n_languages = l.tags.n;
    }
    if (l.n_unknown == 0 && l.tags.n > 0) {
        free(l.unknown.data);
        return V_OK;
    }
    if (l.n_unknown == 0)
        *why = hint("problem_languages_none",
                    "Languages: I found no language there. Write language names separated by "
                    "commas, like Languages: English, Spanish.");
    else
        *why = hint(l.n_unknown > 1 ? "problem_languages_unknown" : "problem_language_unknown",
                    "Languages: %s %s not a language I know. Write language names separated by "
                    "commas, like Languages: English, Spanish.",
                    l.unknown.data, l.n_unknown > 1 ? "are" : "is");
    free(l.unknown.data);
    return *why ? V_PROBLEM : V_NOMEM;
}

/* Whole number at the start of s (digits or a small English word); -1 when none. */
static int
leading_number(const char *s)
{
    while (*s == ' ' || *s == '~')
        s++;
    if (isdigit((unsigned char)*s)) {
        long v = strtol(s, NULL, 10);
        return v > 100000 ? 100000 : (int)v;
    }
    for (size_t i = 0; i < sizeof small_numbers / sizeof small_numbers[0]; i++) {
        size_t k = strlen(small_numbers[i]);
        if (strncmp(s, small_numbers[i], k) == 0 && !isalpha((unsigned char)s[k]))
            return (int)i;
    }
    return -1;
}

static enum verdict
field_capacity(const char *value, struct profile *p, char **why)
{
    char *lower = lower_dup(value, strlen(value));
    if (lower == NULL)
        return V_NOMEM;
    /* "up to 3", "max 2", "maximum: 4" */
    static const char *const lead[] = {"up to ", "max ", "maximum ", "max. ", "bis zu "};
    const char *s = lower;
    for (size_t i = 0; i < sizeof lead / sizeof lead[0]; i++)
        if (strncmp(s, lead[i], strlen(lead[i])) == 0)
            s += strlen(lead[i]);
    int n = leading_number(s);
    free(lower);
    if (n < 1 || n > MAX_CAPACITY) {
        char q[64];
        quote_value(value, q, sizeof q);
        *why = hint("problem_capacity",
                    "Capacity: '%s' is not a number of mentees from 1 to %d. Write it like "
                    "Capacity: 2.",
                    q, MAX_CAPACITY);
        return *why ? V_PROBLEM : V_NOMEM;
    }
    p->capacity = n;
    return V_OK;
}

/* Hours per week from "3", "3h", "2-4 hours", "1.5 hours", "1 hour a day", "8h per month". */
static int
weekly_hours(const char *lower)
{
    const char *d = lower;
    while (*d && !isdigit((unsigned char)*d))
        d++;
    if (*d == '\0' || (d > lower && d[-1] == '-' && (d == lower + 1 || d[-2] == ' ')))
        return -1; /* no number, or a negative one */
    char num[16];
    size_t k = strspn(d, "0123456789.,");
    if (k >= sizeof num)
        return -1;
    memcpy(num, d, k);
    num[k] = '\0';
    for (char *c = num; *c; c++)
        if (*c == ',')
            *c = '.';
    double h = strtod(num, NULL);
    /* Phrases, not bare words: "3 hours on Mondays" is still per week. */
    static const char *const daily[] = {"a day",    "per day", "/day",    "every day", "each day",
                                        "daily",    "/d",      "pro tag", "am tag",    "täglich",
                                        "par jour", "por día", "al día",  "por dia",   "al dia"};
    static const char *const monthly[] = {"a month",  "per month", "/month",
                                          "monthly",  "im monat",  "pro monat",
                                          "par mois", "por mes",   "al mes"};
    const char *rest = d + k;
    for (size_t i = 0; i < sizeof daily / sizeof daily[0]; i++)
        if (strstr(rest, daily[i]) != NULL)
            return h * 7 > MAX_HOURS ? MAX_HOURS + 1 : (int)(h * 7 + 0.5);
    for (size_t i = 0; i < sizeof monthly / sizeof monthly[0]; i++)
        if (strstr(rest, monthly[i]) != NULL)
            h = h * 12 / 52;
    if (h > MAX_HOURS)
        return MAX_HOURS + 1;
    int r = (int)(h + 0.5);
    return r == 0 && h > 0 ? 1 : r;
}

static enum verdict
field_availability(const char *value, struct profile *p, char **why)
{
    char *lower = lower_dup(value, strlen(value));
    if (lower == NULL)
        return V_NOMEM;
    int h = weekly_hours(lower);
    free(lower);
    if (h < 0 || h > MAX_HOURS) {
        char q[64];
        quote_value(value, q, sizeof q);
        *why = hint("problem_availability",
                    "Availability: '%s' is not a number of hours per week (0 to %d). Write it "
                    "like Availability: 3 hours per week.",
                    q, MAX_HOURS);
        return *why ? V_PROBLEM : V_NOMEM;
    }
    p->availability = h;
    return V_OK;
}

/* ---- time zones --------------------------------------------------------- */

/*
 * A fixed offset: "utc+2", "gmt-05:00", "utc+5:30", "+0530", "-3" (already
 * lower case, spaces removed; U+2212 minus accepted).  Minutes east of UTC.
 */
static int
parse_offset(const char *s, int *minutes)
{
    if (strncmp(s, "utc", 3) == 0 || strncmp(s, "gmt", 3) == 0)
        s += 3;
    int sign;
    if (*s == '+')
        sign = 1, s++;
    else if (*s == '-')
        sign = -1, s++;
    else if (strncmp(s, "\xe2\x88\x92", 3) == 0)
        sign = -1, s += 3;
    else
        return 0;
    size_t d = strspn(s, "0123456789");
    int h, m = 0;
    if (d == 1 || d == 2) {
        h = atoi(s);
        s += d;
        if ((*s == ':' || *s == '.' || *s == 'h') && strspn(s + 1, "0123456789") == 2) {
            m = atoi(s + 1);
            s += 3;
        } else if (*s == 'h') {
            s++;
        }
    } else if (d == 3 || d == 4) {
        int v = atoi(s);
        h = v / 100;
        m = v % 100;
        s += d;
    } else {
        return 0;
    }
    if (*s != '\0' || m > 59 || (sign > 0 && h * 60 + m > 14 * 60) ||
        (sign < 0 && h * 60 + m > 12 * 60))
        return 0;
    *minutes = sign * (h * 60 + m);
    return 1;
}

static void
format_offset(int minutes, char *out, size_t len)
{
    if (minutes == 0)
        snprintf(out, len, "UTC");
    else
        snprintf(out, len, "UTC%c%02d:%02d", minutes < 0 ? '-' : '+', abs(minutes) / 60,
                 abs(minutes) % 60);
}

/* Is path a regular file that starts with the TZif magic? */
static int
is_tzif(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char magic[4];
    ssize_t n = read(fd, magic, sizeof magic);
    close(fd);
    return n == 4 && memcmp(magic, "TZif", 4) == 0;
}

/*
 * Could name be an IANA zone name?  Only [A-Za-z0-9_+-] components joined
 * by single slashes: never "..", an absolute path, or the posix/ and right/
 * copies and helper files of the tz database.
 */
static int
zone_name_safe(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MAX_ZONE || name[0] == '/' || name[n - 1] == '/' ||
        strstr(name, "..") != NULL || strstr(name, "//") != NULL)
        return 0;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && strchr("_+-/", *c) == NULL)
            return 0;
    static const char *const hidden[] = {"posix/", "right/"};
    for (size_t i = 0; i < 2; i++)
        if (strncasecmp(name, hidden[i], strlen(hidden[i])) == 0)
            return 0;
    return strcasecmp(name, "localtime") != 0 && strcasecmp(name, "posixrules") != 0 &&
           strcasecmp(name, "factory") != 0 && name[0] != '-' && name[0] != '+';
}

/*
 * The names of the tz database, read once before a sandbox that forbids
 * opening files (profile_zones_preload); NULL: look at the files each time.
 */
static struct {
    char **names;
    char **folded; /* the same names sorted ignoring case, then as names are */
    size_t n, cap;
} zone_index;

static int
zone_index_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
zone_folded_cmp(const void *a, const void *b)
{
    int c = strcasecmp(*(char *const *)a, *(char *const *)b);
    return c != 0 ? c : zone_index_cmp(a, b);
}

/* Add the zones under ZONEINFO/rel (depth levels more at most) to the index. */
static int
zone_index_walk(const char *rel, int depth)
{
    char dir[sizeof ZONEINFO + MAX_ZONE + 2], name[MAX_ZONE + 1];
    snprintf(dir, sizeof dir, "%s%s%s", ZONEINFO, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' ||
            snprintf(name, sizeof name, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) >=
                (int)sizeof name ||
            !zone_name_safe(name))
            continue;
        char path[sizeof ZONEINFO + MAX_ZONE + 2];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", ZONEINFO, name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            rc = depth > 0 ? zone_index_walk(name, depth - 1) : 0;
            continue;
        }
        if (!is_tzif(path))
            continue;
        if (zone_index.n == zone_index.cap) {
            size_t cap = zone_index.cap ? zone_index.cap * 2 : 512;
            char **grown = realloc(zone_index.names, cap * sizeof(*grown));
            if (grown == NULL) {
                rc = -1;
                break;
            }
            zone_index.names = grown;
            zone_index.cap = cap;
        }
        if ((zone_index.names[zone_index.n] = strdup(name)) == NULL)
            rc = -1;
        else
            zone_index.n++;
    }
    closedir(d);
    return rc;
}

int
profile_zones_preload(void)
{
    if (zone_index.names != NULL)
        return 0;
    if (zone_index_walk("", 3) != 0)
        return -1;
    if (zone_index.names == NULL && (zone_index.names = calloc(1, sizeof(char *))) == NULL)
        return -1;
    qsort(zone_index.names, zone_index.n, sizeof(char *), zone_index_cmp);
    zone_index.folded = malloc((zone_index.n ? zone_index.n : 1) * sizeof(char *));
    if (zone_index.folded == NULL)
        return -1;
    memcpy(zone_index.folded, zone_index.names, zone_index.n * sizeof(char *));
    qsort(zone_index.folded, zone_index.n, sizeof(char *), zone_folded_cmp);
    return 0;
}

/*
 * Zones found to exist without the index (the daemon, which has none): each
 * answer to a member in their zone asked again, a stat, an open and a read
 * per mail.  Only "exists" is remembered, for the life of the process: a
 * zone the tz database drops meanwhile then reads as UTC until a restart.
 */
#define ZONE_SEEN 16
static char zone_seen[ZONE_SEEN][MAX_ZONE + 1];
static unsigned zone_seen_next;

/* Is name (exactly as written) a zone in the tz database? */
static int
zone_exists(const char *name)
{
    char path[sizeof ZONEINFO + MAX_ZONE + 2];
    if (!zone_name_safe(name))
        return 0;
    if (zone_index.names != NULL)
        return bsearch(&name, zone_index.names, zone_index.n, sizeof(char *), zone_index_cmp) !=
               NULL;
    for (unsigned i = 0; i < ZONE_SEEN; i++)
        if (strcmp(zone_seen[i], name) == 0)
            return 1;
    snprintf(path, sizeof path, "%s/%s", ZONEINFO, name);
    if (!is_tzif(path))
        return 0;
    if (strlen(name) <= MAX_ZONE)
        snprintf(zone_seen[zone_seen_next++ % ZONE_SEEN], MAX_ZONE + 1, "%s", name);
    return 1;
}

/* The directory entry of dir that equals comp ignoring case, copied into out. */
static int
find_entry(const char *dir, const char *comp, char *out, size_t len)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.' && strcasecmp(e->d_name, comp) == 0 && strlen(e->d_name) < len) {
            strcpy(out, e->d_name);
            found = 1;
        }
    }
    closedir(d);
    return found;
}

/* Resolve name case-insensitively, one directory level at a time, into out. */
static int
zone_fix_case(const char *name, char *out, size_t len)
{
    if (!zone_name_safe(name) || strlen(name) >= len)
        return 0;
    if (zone_exists(name)) {
        strcpy(out, name);
        return 1;
    }
    if (zone_index.folded != NULL) {
        /* The first of the index, in its order, that equals name ignoring case. */
        size_t lo = 0, hi = zone_index.n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcasecmp(zone_index.folded[mid], name) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == zone_index.n || strcasecmp(zone_index.folded[lo], name) != 0)
            return 0;
        snprintf(out, len, "%s", zone_index.folded[lo]);
        return 1;
    }
    char path[sizeof ZONEINFO + MAX_ZONE + 2];
    char rel[MAX_ZONE + 1] = "";
    char copy[MAX_ZONE + 1];
    strcpy(copy, name);
    char *save = NULL;
    for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
        char entry[256];
        snprintf(path, sizeof path, "%s/%s", ZONEINFO, rel);
        if (!find_entry(path, comp, entry, sizeof entry) ||
            strlen(rel) + strlen(entry) + 2 > sizeof rel)
            return 0;
        if (rel[0] != '\0')
            strcat(rel, "/");
        strcat(rel, entry);
    }
    if (!zone_exists(rel))
        return 0;
    snprintf(out, len, "%s", rel);
    return 1;
}

#define N_ABBREVIATIONS (sizeof abbreviations / sizeof abbreviations[0])
#define N_PLACES (sizeof places / sizeof places[0])

/*
 * The abbreviations and then the places, sorted by word and, for a word
 * written twice, by that order: a lookup is a binary search that finds what
 * the tables read in their order would find first.  Every word of a mail's
 * sentences may be looked up (is it a place?), so no linear scans.
 */
struct place_ref {
    const char *word, *zone;
    size_t order;
};

static struct place_ref place_index[N_ABBREVIATIONS + N_PLACES];
static int place_index_ready;

static int
place_ref_cmp(const void *a, const void *b)
{
    const struct place_ref *x = a, *y = b;
    int c = strcmp(x->word, y->word);
    return c != 0 ? c : x->order < y->order ? -1 : x->order > y->order;
}

static void
place_index_build(void)
{
    for (size_t i = 0; i < N_ABBREVIATIONS; i++)
        place_index[i] = (struct place_ref){abbreviations[i].word, abbreviations[i].zone, i};
    for (size_t i = 0; i < N_PLACES; i++)
        place_index[N_ABBREVIATIONS + i] =
            (struct place_ref){places[i].place, places[i].zone, N_ABBREVIATIONS + i};
    qsort(place_index, N_ABBREVIATIONS + N_PLACES, sizeof(place_index[0]), place_ref_cmp);
    place_index_ready = 1;
}

/* The zone a place or abbreviation stands for, or NULL. */
static const char *
zone_of_place(const char *lower)
{
    size_t lo = 0, hi = N_ABBREVIATIONS + N_PLACES;

    if (!place_index_ready)
        place_index_build();
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(place_index[mid].word, lower) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < N_ABBREVIATIONS + N_PLACES && strcmp(place_index[lo].word, lower) == 0
               ? place_index[lo].zone
               : NULL;
}

/*
 * Canonical zone for a value as written, into out: a fixed offset, a known
 * abbreviation, city or country ("Berlin, Germany" tries "berlin"), or an
 * IANA name.  Returns 1 when understood.
 */
static int
resolve_zone(const char *value, char *out, size_t len)
{
    char *lower = lower_dup(value, strlen(value));
    if (lower == NULL)
        return -1;
    char *paren = strchr(lower, '(');
    if (paren != NULL)
        *paren = '\0'; /* "Europe/Berlin (CET)" */
    strip_ends(lower, " .", " .");
    char compact[MAX_ZONE + 1];
    size_t o = 0;
    for (const char *c = lower; *c && o < sizeof compact - 1; c++)
        if (*c != ' ')
            compact[o++] = *c;
    compact[o] = '\0';
    int minutes, ok = 0;
    const char *zone = NULL;
    char *comma = strchr(lower, ',');
    if (parse_offset(compact, &minutes)) {
        format_offset(minutes, out, len);
        ok = 1;
    } else if ((zone = zone_of_place(lower)) != NULL ||
               (comma != NULL && (*comma = '\0', zone = zone_of_place(lower)) != NULL)) {
        ok = zone_exists(zone) && snprintf(out, len, "%s", zone) < (int)len;
    }
    free(lower);
    if (ok || zone != NULL)
        return ok;
    /* An IANA name as written, with spaces as underscores ("America/New York"). */
    char name[MAX_ZONE + 1];
    size_t n = strlen(value);
    const char *v = trim(value, &n);
    o = 0;
    for (size_t i = 0; i < n && o < sizeof name - 1; i++) {
        if (v[i] == '(')
            break;
        if (v[i] == ' ' && (o == 0 || name[o - 1] == '/' || v[i + 1] == '/' || v[i + 1] == ' '))
            continue;
        name[o++] = v[i] == ' ' ? '_' : v[i];
    }
    while (o > 0 && name[o - 1] == '_')
        o--;
    name[o] = '\0';
    if (!zone_fix_case(name, out, len))
        return 0;
    /* "GMT_" resolves to the file GMT, which reads back as the abbreviation: keep one form. */
    char *again = lower_dup(out, strlen(out));
    if (again == NULL)
        return -1;
    zone = zone_of_place(again);
    free(again);
    if (zone != NULL && zone_exists(zone))
        snprintf(out, len, "%s", zone);
    return 1;
}

/*
 * The last answers of resolve_zone, by the value as written: a matching
 * round parses every member's profile, and resolving a zone name stats and
 * opens the zone's file and walks the tables of places (at 100,000 members
 * about a sixth of the round).  Members write few distinct zones.  An answer
 * is kept ZONE_RESOLVED_TTL seconds, so a tz database updated under a
 * running daemon is seen again soon.
 */
#define ZONE_RESOLVED 64 /* slots, a power of two */
#define ZONE_RESOLVED_TTL 60
static struct {
    char value[MAX_ZONE + 1];
    char zone[MAX_ZONE + 1];
    int ok;
    time_t when;
} zone_resolved[ZONE_RESOLVED];

static unsigned
zone_resolved_slot(const char *value)
{
    uint32_t h = 2166136261u;
    for (const char *c = value; *c; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    return h & (ZONE_RESOLVED - 1);
}

/*
 * resolve_zone, remembered (see above); the same answers.  The sentence
 * readers ask too, for every capitalised word after "in", "from", ...: the
 * same few places in mail after mail.
 */
static int
resolve_zone_memo(const char *value, char *out, size_t len)
{
    if (strlen(value) > MAX_ZONE || len < MAX_ZONE + 1)
        return resolve_zone(value, out, len);
    time_t now = time(NULL);
    unsigned h = zone_resolved_slot(value), i = h;
    /* Four slots from the hash's: names that share a slot do not push each other out. */
    for (unsigned k = 0; k < 4; k++) {
        unsigned j = (h + k) & (ZONE_RESOLVED - 1);
        int fresh = zone_resolved[j].when != 0 && now >= zone_resolved[j].when &&
                    now - zone_resolved[j].when < ZONE_RESOLVED_TTL;
        if (fresh && strcmp(zone_resolved[j].value, value) == 0) {
            strcpy(out, zone_resolved[j].zone);
            return zone_resolved[j].ok;
        }
        if (!fresh && i == h)
            i = j; /* the first free or stale slot takes the answer */
    }
    int r = resolve_zone(value, out, len);
    if (r >= 0 && strlen(out) <= MAX_ZONE) {
        strcpy(zone_resolved[i].value, value);
        strcpy(zone_resolved[i].zone, r ? out : "");
        zone_resolved[i].ok = r;
        zone_resolved[i].when = now;
    }
    return r;
}

static enum verdict
field_timezone(const char *value, struct profile *p, char **why)
{
    char zone[MAX_ZONE + 1];
    int r = resolve_zone_memo(value, zone, sizeof zone);
    if (r < 0)
        return V_NOMEM;
    if (r == 0) {
        char q[64];
        quote_value(value, q, sizeof q);
        *why = hint("problem_time_zone",
                    "Time zone: '%s' is not a time zone I know. Write it like Europe/Berlin, "
                    "UTC+2 or a city name such as Madrid.",
                    q);
        return *why ? V_PROBLEM : V_NOMEM;
    }
    char *dup = strdup(zone);
    if (dup == NULL)
        return V_NOMEM;
    free(p->timezone);
    p->timezone = dup;
    return V_OK;
}

/* ---- lines -------------------------------------------------------------- */

/* "Time-Zone" -> "timezone": the form keys[] is written in. */
static char *
key_normalise(const char *key, size_t n)
{
    char *k = lower_dup(key, n);
    if (k == NULL)
        return NULL;
    size_t o = 0;
    for (const char *c = k; *c; c++)
        if (strchr(" -_.", *c) == NULL)
            k[o++] = *c;
    k[o] = '\0';
    return k;
}

static enum field field_of(const char *key);

/*
 * A key written loosely: "skills/interests", "skills & interests" (the first
 * part known), "main skills", "programming languages" (a known key as its
 * last word).  key is as written, lower-cased; F_NONE when none is known.
 */
static enum field
field_of_loose(const char *written)
{
    char buf[MAX_KEY + 1];
    snprintf(buf, sizeof buf, "%s", written);
    char *save = NULL;
    for (char *part = strtok_r(buf, "/&+", &save); part; part = strtok_r(NULL, "/&+", &save)) {
        char *k = key_normalise(part, strlen(part));
        if (k == NULL)
            return F_NONE;
        enum field f = field_of(k);
        free(k);
        if (f != F_NONE)
            return f;
        /* the last word of the part: "main skills", "spoken languages" */
        char *sp = strrchr(part, ' ');
        while (sp != NULL && sp[1] == '\0') {
            *sp = '\0';
            sp = strrchr(part, ' ');
        }
        if (sp != NULL) {
            k = key_normalise(sp + 1, strlen(sp + 1));
            f = k ? field_of(k) : F_NONE;
            free(k);
            if (f != F_NONE)
                return f;
        }
    }
    return F_NONE;
}

static enum field
field_of(const char *key)
{
    static const struct {
        const char *key;
        enum field field;
    } more[] = {
        {"ispeak", F_LANGUAGES},
        {"speak", F_LANGUAGES},
        {"speaks", F_LANGUAGES},
        {"spoken", F_LANGUAGES},
        {"languagesspoken", F_LANGUAGES},
        {"hablo", F_LANGUAGES},
        {"ichspreche", F_LANGUAGES},
        {"jeparle", F_LANGUAGES},
        {"falo", F_LANGUAGES},
        {"parlo", F_LANGUAGES},
        {"ikspreek", F_LANGUAGES},
        {"canhelpwith", F_SKILLS},
        {"icanhelpwith", F_SKILLS},
        {"helpwith", F_SKILLS},
        {"offer", F_SKILLS},
        {"ioffer", F_SKILLS},
        {"wanttolearn", F_SKILLS},
        {"iwanttolearn", F_SKILLS},
        {"learn", F_SKILLS},
        {"areas", F_SKILLS},
        {"fields", F_SKILLS},
        {"focus", F_SKILLS},
        {"aims", F_GOALS},
        {"aim", F_GOALS},
        {"mentees", F_CAPACITY},
        {"maxmentees", F_CAPACITY},
        {"location", F_TIMEZONE},
        {"city", F_TIMEZONE},
        {"basedin", F_TIMEZONE},
        {"ort", F_TIMEZONE},
        {"wohnort", F_TIMEZONE},
        {"stadt", F_TIMEZONE},
        {"ville", F_TIMEZONE},
        {"ciudad", F_TIMEZONE},
        {"cidade", F_TIMEZONE},
        {"città", F_TIMEZONE},
        {"stad", F_TIMEZONE},
        {"zone", F_TIMEZONE},
        {"hours", F_AVAILABILITY},
        {"time", F_AVAILABILITY},
        {"naam", F_NAME},
    };
    /* The first letter first: a round parses 100,000 profiles, each line against both tables. */
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        if (key[0] == more[i].key[0] && strcmp(key, more[i].key) == 0)
            return more[i].field;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (key[0] == keys[i].key[0] && strcmp(key, keys[i].key) == 0)
            return keys[i].field;
    /* "My skills:", "Your time zone:" (people copy the question) */
    if (strncmp(key, "my", 2) == 0 && key[2] != '\0')
        return field_of(key + 2);
    if (strncmp(key, "your", 4) == 0 && key[4] != '\0')
        return field_of(key + 4);
    return F_NONE;
}

static const char *
field_label(enum field f)
{
    static const char *const labels[] = {"",          "Name",  "Skills",   "Languages",
                                         "Time zone", "Goals", "Capacity", "Availability"};
    return labels[f];
}

static const char *
field_example(enum field f)
{
    static const char *const examples[] = {"",
                                           "Ana Silva",
                                           "python, documentation, testing",
                                           "English, Spanish",
                                           "Europe/Berlin",
                                           "first contribution, code review",
                                           "2",
                                           "3 hours per week"};
    return examples[f];
}

static enum verdict
parse_value(enum field f, const char *value, struct profile *p, char **why)
{
    if (value[0] == '\0') {
        *why = hint("problem_empty", "%s: there is nothing after the colon. Write it like %s: %s.",
                    field_label(f), field_label(f), field_example(f));
        return *why ? V_PROBLEM : V_NOMEM;
    }
    switch (f) {
    case F_NAME:
        return field_name(value, p, why);
    case F_SKILLS:
        return field_skills(value, p, why);
    case F_LANGUAGES:
        return field_languages(value, p, why);
    case F_TIMEZONE:
        return field_timezone(value, p, why);
    case F_GOALS:
        return field_goals(value, p, why);
    case F_CAPACITY:
        return field_capacity(value, p, why);
    case F_AVAILABILITY:
        return field_availability(value, p, why);
    case F_NONE:
        break;
    }
    return V_OK;
}

/* Where the key ends: an ASCII or full-width colon; *sep gets the colon's length. */
static const char *
find_colon(const char *s, size_t n, size_t *sep)
{
    for (size_t i = 0; i < n && i <= MAX_KEY; i++) {
        if (s[i] == ':') {
            *sep = 1;
            return s + i;
        }
        if ((unsigned char)s[i] == 0xef && i + 2 < n && strncmp(s + i, "\xef\xbc\x9a", 3) == 0) {
            *sep = 3;
            return s + i;
        }
    }
    return NULL;
}

/*
 * "Key - value", "Key = value", "Key – value": a key of one or two words before it.
 * Every dash starts with a space, so only a space is tried (a strlen and a
 * strncmp per dash at every character were 12k instructions of a join's reading).
 */
static const char *
find_dash(const char *s, size_t n, size_t *sep)
{
    static const char *const dashes[] = {" - ", " = ", " \xe2\x80\x93 ", " \xe2\x80\x94 "};
    for (size_t i = 0; i < n && i <= MAX_KEY; i++)
        for (size_t d = 0; s[i] == ' ' && d < sizeof dashes / sizeof dashes[0]; d++) {
            size_t l = strlen(dashes[d]);
            if (i + l <= n && strncmp(s + i, dashes[d], l) == 0) {
                size_t spaces = 0;
                for (size_t k = 0; k < i; k++)
                    spaces += s[k] == ' ';
                if (spaces > 2)
                    return NULL;
                *sep = l - 1;
                return s + i + 1;
            }
        }
    return NULL;
}

/* Skip a list bullet ("- ", "* ", "• ") before the key. */
static const char *
skip_bullet(const char *s, size_t *n)
{
    if (*n >= 2 && (s[0] == '-' || s[0] == '*') && s[1] == ' ')
        s += 2, *n -= 2;
    else if (*n >= 4 && strncmp(s, "\xe2\x80\xa2 ", 4) == 0)
        s += 4, *n -= 4;
    return trim(s, n);
}

/*
 * A "Key: value" line whose key is none of ours ("Hobbies: knitting"): 2
 * when it looks like a profile line (a key of one or two words, something
 * after it), so that, in a mail that has profile lines, it is listed back
 * with the keys we know; 0 for the usual non-profile keys ("PS:", "Tel:").
 */
static int
unknown_key(const char *key, size_t kn, const char *value, size_t vn)
{
    static const char *const usual[] = {
        "ps",    "pps",    "re",   "fw",       "fwd",     "subject", "from",   "to",
        "sent",  "date",   "cc",   "tel",      "phone",   "mob",     "mobile", "cell",
        "email", "e-mail", "mail", "web",      "website", "www",     "http",   "https",
        "note",  "nb",     "fax",  "linkedin", "github",  "twitter", "edit",   "update",
        "p.s",   "btw",    "ref",  "ticket",   "id"};
    size_t spaces = 0;
    for (size_t i = 0; i < kn; i++) {
        if (isdigit((unsigned char)key[i]) || key[i] == '<' || key[i] == '@')
            return 0;
        spaces += key[i] == ' ';
    }
    if (kn == 0 || kn > 30 || spaces > 1 || trim(value, &vn) == NULL || vn == 0)
        return 0;
    char *lower = lower_dup(key, kn);
    if (lower == NULL)
        return -1;
    strip_ends(lower, " ", " ");
    int usual_key = word_in(lower, usual, sizeof usual / sizeof usual[0]);
    free(lower);
    return usual_key ? 0 : 2;
}

static int
parse_line(const char *line, size_t n, int lineno, struct profile *p)
{
    const char *s = trim(line, &n);
    size_t text_len = n;
    const char *text = s;
    s = skip_bullet(s, &n);
    size_t sep = 0;
    const char *colon = find_colon(s, n, &sep);
    if (colon == NULL)
        colon = find_dash(s, n, &sep); /* "goals - ship my first app" */
    if (colon == NULL)
        return 0;
    char *key = key_normalise(s, (size_t)(colon - s));
    if (key == NULL)
        return -1;
    enum field f = field_of(key);
    free(key);
    if (f == F_NONE && (size_t)(colon - s) <= MAX_KEY) {
        char *written = lower_dup(s, (size_t)(colon - s));
        if (written == NULL)
            return -1;
        f = field_of_loose(written);
        free(written);
    }
    if (f == F_NONE)
        return unknown_key(s, (size_t)(colon - s), colon + sep, n - (size_t)(colon + sep - s));
    size_t vn = n - (size_t)(colon + sep - s);
    const char *v = trim(colon + sep, &vn);
    char *value = strndup(v, vn);
    char *written = strndup(text, text_len);
    char *why = NULL;
    enum verdict r = value && written ? parse_value(f, value, p, &why) : V_NOMEM;
    int rc = r == V_NOMEM ? -1 : 0;
    if (r == V_PROBLEM)
        rc = add_problem(p, lineno, written, why);
    free(value);
    free(written);
    return rc;
}

static void
profile_init(struct profile *p)
{
    memset(p, 0, sizeof *p);
    p->capacity = -1;
    p->availability = -1;
}

static size_t
count_fields(const struct profile *p)
{
    return (p->name != NULL) + (p->n_skills > 0) + (p->n_languages > 0) + (p->timezone != NULL) +
           (p->n_goals > 0) + (p->capacity >= 0) + (p->availability >= 0);
}

static int
list_unknown(const char *text, const int *lines, size_t n, struct profile *p)
{
    size_t k = 0;
    int lineno = 1;
    for (const char *s = text; *s && k < n; lineno++) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (lineno == lines[k]) {
            size_t tl = len;
            const char *t = trim(s, &tl);
            char *written = strndup(t, tl);
            char *why = hint("problem_unknown_key",
                             "We keep only these details: Name, Skills, Languages, Time zone, "
                             "Goals, Capacity, Availability. Write it like Skills: python, git.");
            if (written == NULL || why == NULL) {
                free(written);
                free(why);
                return -1;
            }
            if (add_problem(p, lineno, written, why) != 0) {
                free(written);
                return -1;
            }
            free(written);
            k++;
        }
        s += len + (nl != NULL);
    }
    return 0;
}

int
profile_parse(const char *text, struct profile *out)
{
    profile_init(out);
    if (text == NULL)
        return 0;
    int lineno = 1;
    int unknown[MAX_PROBLEMS];
    size_t n_unknown = 0;
    for (const char *s = text; *s; lineno++) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        int rc = parse_line(s, n, lineno, out);
        if (rc < 0) {
            profile_free(out);
            return -1;
        }
        if (rc == 2 && n_unknown < MAX_PROBLEMS)
            unknown[n_unknown++] = lineno;
        s += n + (nl != NULL);
    }
    out->n_fields = count_fields(out);
    /* Among profile lines, a line with a key we do not keep is said back, not dropped. */
    if (out->n_fields > 0 && list_unknown(text, unknown, n_unknown, out) != 0) {
        profile_free(out);
        return -1;
    }
    return 0;
}

void
profile_free(struct profile *p)
{
    if (p == NULL)
        return;
    free(p->name);
    free_list(p->skills, p->n_skills);
    free_list(p->languages, p->n_languages);
    free(p->timezone);
    free_list(p->goals, p->n_goals);
    for (size_t i = 0; i < p->n_problems; i++) {
        free(p->problems[i].text);
        free(p->problems[i].hint);
        free_hint_args(&p->problems[i]);
    }
    free(p->problems);
    profile_init(p);
}

/* ---- merge, serialise, describe ----------------------------------------- */

static char **
copy_list(char *const *items, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if ((out[i] = strdup(items[i])) == NULL) {
            free_list(out, i);
            return NULL;
        }
    return out;
}

/* Replace *dst with a copy of src; on allocation failure *dst is kept. */
static void
merge_string(char **dst, const char *src)
{
    char *copy;
    if (src != NULL && (copy = strdup(src)) != NULL) {
        free(*dst);
        *dst = copy;
    }
}

static void
merge_list(char ***dst, size_t *dn, char *const *src, size_t sn)
{
    char **copy;
    if (sn > 0 && (copy = copy_list(src, sn)) != NULL) {
        free_list(*dst, *dn);
        *dst = copy;
        *dn = sn;
    }
}

void
profile_merge(struct profile *base, const struct profile *update)
{
    merge_string(&base->name, update->name);
    merge_list(&base->skills, &base->n_skills, update->skills, update->n_skills);
    merge_list(&base->languages, &base->n_languages, update->languages, update->n_languages);
    merge_string(&base->timezone, update->timezone);
    merge_list(&base->goals, &base->n_goals, update->goals, update->n_goals);
    if (update->capacity >= 0)
        base->capacity = update->capacity;
    if (update->availability >= 0)
        base->availability = update->availability;
    base->n_fields = count_fields(base);
}

static void
buf_list(struct buf *b, char *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            buf_str(b, ", ");
        buf_str(b, items[i]);
    }
}

/* One "label: value" line per field set; prefix and labels differ for storage and replies. */
static char *
write_fields(const struct profile *p, const char *prefix, const char *const labels[7], int human)
{
    struct buf b = {0};
    if (p->name != NULL)
        buf_printf(&b, "%s%s: %s\n", prefix, labels[0], p->name);
    if (p->n_skills > 0) {
        buf_printf(&b, "%s%s: ", prefix, labels[1]);
        buf_list(&b, p->skills, p->n_skills);
        buf_str(&b, "\n");
    }
    if (p->n_languages > 0) {
        buf_printf(&b, "%s%s: ", prefix, labels[2]);
        buf_list(&b, p->languages, p->n_languages);
        buf_str(&b, "\n");
    }
    if (p->timezone != NULL)
        buf_printf(&b, "%s%s: %s\n", prefix, labels[3], p->timezone);
    if (p->n_goals > 0) {
        buf_printf(&b, "%s%s: ", prefix, labels[4]);
        buf_list(&b, p->goals, p->n_goals);
        buf_str(&b, "\n");
    }
    if (p->capacity >= 0)
        buf_printf(&b, "%s%s: %d%s\n", prefix, labels[5], p->capacity,
                   !human             ? ""
                   : p->capacity == 1 ? " mentee at a time"
                                      : " mentees at a time");
    if (p->availability >= 0)
        buf_printf(&b, "%s%s: %d%s\n", prefix, labels[6], p->availability,
                   !human                 ? ""
                   : p->availability == 1 ? " hour per week"
                                          : " hours per week");
    return buf_take(&b);
}

char *
profile_serialise(const struct profile *p)
{
    static const char *const labels[] = {"name",  "skills",   "languages",   "time zone",
                                         "goals", "capacity", "availability"};
    return write_fields(p, "", labels, 0);
}

char *
profile_describe(const struct profile *p)
{
    static const char *const labels[] = {"Name",  "Skills",   "Languages",   "Time zone",
                                         "Goals", "Capacity", "Availability"};
    return write_fields(p, "  ", labels, 1);
}

/* ---- offsets ------------------------------------------------------------ */

/*
 * The last answers of zone_offset, by zone and instant: a batch of mail is
 * decided at one "now", and each answer to a member asked for the zone's
 * offset, which set TZ and made glibc read the zone file again (3.7% of an
 * inbox pass).  An exact instant as the key: no claim about when zones
 * change their offsets.
 */
#define ZONE_MEMO 16
static struct {
    char zone[MAX_ZONE + 1];
    time_t t;
    int minutes;
} zone_memo[ZONE_MEMO];
static unsigned zone_memo_next;

static int zone_offset_read(const char *zone, time_t t, int *minutes);

/* Offset of an IANA zone at t (see zone_offset_read), remembered for the same zone and t. */
static int
zone_offset(const char *zone, time_t t, int *minutes)
{
    for (unsigned i = 0; i < ZONE_MEMO; i++)
        if (zone_memo[i].t == t && zone_memo[i].zone[0] && strcmp(zone_memo[i].zone, zone) == 0) {
            *minutes = zone_memo[i].minutes;
            return 0;
        }
    if (zone_offset_read(zone, t, minutes) != 0)
        return -1;
    unsigned i = zone_memo_next++ % ZONE_MEMO;
    snprintf(zone_memo[i].zone, sizeof zone_memo[i].zone, "%s", zone);
    zone_memo[i].t = t;
    zone_memo[i].minutes = *minutes;
    return 0;
}

/*
 * Offset of an IANA zone at t.  glibc reads zones only through the TZ
 * variable, so TZ is set, read and restored: process-global and not
 * thread-safe, which is fine because mentord is single-threaded.
 */
static int
zone_offset_read(const char *zone, time_t t, int *minutes)
{
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    if (old != NULL && saved == NULL)
        return -1;
    int rc = -1;
    struct tm tm;
    char tz[MAX_ZONE + 2];
    snprintf(tz, sizeof tz, ":%s", zone); /* ":" makes glibc read the file, never a POSIX rule */
    if (setenv("TZ", tz, 1) == 0) {
        tzset();
        if (localtime_r(&t, &tm) != NULL) {
            *minutes = (int)(tm.tm_gmtoff / 60);
            rc = 0;
        }
    }
    if (saved != NULL)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
    return rc;
}

int
profile_utc_offset(const struct profile *p, long long t, int *ok)
{
    int minutes = 0, good = 0;
    char lower[MAX_ZONE + 1];
    if (p != NULL && p->timezone != NULL && strlen(p->timezone) <= MAX_ZONE) {
        size_t i = 0;
        for (; p->timezone[i]; i++)
            lower[i] = (char)tolower((unsigned char)p->timezone[i]);
        lower[i] = '\0';
        if (strcmp(lower, "utc") == 0)
            good = 1;
        else if (strncmp(lower, "utc", 3) == 0 && (lower[3] == '+' || lower[3] == '-'))
            good = parse_offset(lower, &minutes);
        else if (zone_exists(p->timezone))
            good = zone_offset(p->timezone, (time_t)t, &minutes) == 0;
    }
    if (ok != NULL)
        *ok = good;
    return good ? minutes : 0;
}

/* ---- profiles told in sentences ----------------------------------------- */

/*
 * People rarely write "Key: value" lines: they write "I'm Kayla from Denver,
 * I speak English and Tagalog" and sign their name.  These readers take
 * what such sentences say for sure and leave the rest: a name from an
 * introduction or the line under a sign-off, languages named after a verb of
 * speaking (or two or more named together), a time zone or a place whose
 * zone is known.  They never overwrite a field written as "Key: value".
 */

static int
is_upper_start(const char *s)
{
    unsigned char c = (unsigned char)s[0];
    if (c >= 'A' && c <= 'Z')
        return 1;
    /* Latin capitals with accents (À..Þ, Ā..Ž even code points) and other scripts' letters */
    return c == 0xc3 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9e;
}

/* The length of a name at s: one to three capitalised words ("Ana", "Li Wei", "R."). */
static size_t
name_len(const char *s, size_t n)
{
    size_t i = 0, words = 0, end = 0;
    while (i < n && words < 3) {
        if (!is_upper_start(s + i))
            break;
        size_t w = i;
        while (w < n && s[w] != ' ' && s[w] != ',' && s[w] != '!' && s[w] != '(' && s[w] != ';' &&
               !(s[w] == '.' && w > i + 1))
            w++;
        if (w < n && s[w] == '.' && w == i + 1)
            w++; /* an initial: "R." */
        words++;
        end = w;
        if (w >= n || s[w] != ' ')
            break;
        i = w + 1;
    }
    return end;
}

/*
 * is_signoff is asked of every line at a mail's end and of each prefix of such
 * a line up to a comma or a space (22 times a bench join), mostly of words that
 * are no sign-off.  What the table's sign-offs have in common is found once,
 * so that most are answered without a search: the longest, and for each first
 * byte the lengths of those it starts (bit l for l bytes).
 */
#define SIGNOFF_LENS 32

static struct {
    int ready;
    size_t max;
    uint32_t lens[256];
    unsigned char loose[256], solid[256]; /* signoff_loose_byte, signoff_solid_byte of each */
} signoff_shape;

/* The bit of a length in signoff_shape.lens; every bit for a length past them. */
static uint32_t
signoff_len_bit(size_t l)
{
    return l < SIGNOFF_LENS ? (uint32_t)1 << l : UINT32_MAX;
}

/* A byte that lower_into makes a space or that strip_ends takes from a sign-off's ends. */
static int
signoff_loose_byte(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' || c == ',' ||
           c == '.' || c == '!' || c == '-';
}

/*
 * A byte that stays in is_signoff's lowered, stripped copy, whatever surrounds
 * it: lower_into writes one byte for each byte that is no space, and
 * strip_ends takes only loose ones.  The bytes of a no-break space do not count.
 */
static size_t
signoff_solid_byte(unsigned char c)
{
    return !signoff_loose_byte(c) && c != 0xc2 && c != 0xa0;
}

static void
signoff_shape_init(void)
{
    for (size_t i = 0; i < sizeof signoffs / sizeof signoffs[0]; i++) {
        size_t l = strlen(signoffs[i]);
        if (l > signoff_shape.max)
            signoff_shape.max = l;
        signoff_shape.lens[(unsigned char)signoffs[i][0]] |= signoff_len_bit(l);
    }
    /* Tables: the tests are asked of every byte of the words (ten comparisons each). */
    for (unsigned c = 0; c < 256; c++) {
        signoff_shape.loose[c] = (unsigned char)signoff_loose_byte((unsigned char)c);
        signoff_shape.solid[c] = (unsigned char)signoff_solid_byte((unsigned char)c);
    }
    signoff_shape.ready = 1;
}

/* How many bytes of s[0..n) are solid, counted up to max + 1: a floor of the copy's length. */
static size_t
signoff_solid(const char *s, size_t n, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k <= max; i++)
        k += signoff_shape.solid[(unsigned char)s[i]];
    return k;
}

/*
 * s[0..*n) less the loose bytes and no-break spaces at its ends.  lower_into
 * reads no byte across them (only 0xc3 and 0xd0 look at the next byte, never
 * one below 0x80 or 0xc2), so the core lowered alone is exactly what lowering
 * the whole and stripping its ends gives.
 */
static const char *
signoff_core(const char *s, size_t *n)
{
    const char *end = s + *n;
    for (;;) {
        if (s < end && signoff_shape.loose[(unsigned char)*s])
            s++;
        else if (end - s >= 2 && (unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0)
            s += 2;
        else
            break;
    }
    for (;;) {
        if (end > s && signoff_shape.loose[(unsigned char)end[-1]])
            end--;
        else if (end - s >= 2 && (unsigned char)end[-2] == 0xc2 && (unsigned char)end[-1] == 0xa0)
            end -= 2;
        else
            break;
    }
    *n = (size_t)(end - s);
    return s;
}

/* The first byte lower_into writes for s[0..n), n > 0. */
static unsigned char
lower_first(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0], d = n > 1 ? (unsigned char)s[1] : 0;
    if (c < 0x80)
        return (unsigned char)tolower(c);
    return c == 0xd0 && d >= 0xa0 && d <= 0xaf ? 0xd1 : c;
}

static int
is_signoff(const char *s, size_t n)
{
    if (!signoff_shape.ready)
        signoff_shape_init();
    s = signoff_core(s, &n);
    if (n == 0)
        return 0;
    uint32_t lens = signoff_shape.lens[lower_first(s, n)];
    /* The lowered core is no longer than the core and no shorter than its solid bytes. */
    size_t solid = signoff_solid(s, n, signoff_shape.max);
    if (lens == 0 || solid > signoff_shape.max ||
        (n < SIGNOFF_LENS - 1 && (lens & (((uint32_t)2 << n) - ((uint32_t)1 << solid))) == 0))
        return 0;
    /* Asked of every line and of each prefix ending in a space: no malloc for short ones. */
    char buf[80];
    char *lower = n < sizeof buf ? lower_into(s, n, buf) : lower_dup(s, n);
    if (lower == NULL)
        return 0;
    size_t l = strlen(lower);
    int hit = l <= signoff_shape.max &&
              (signoff_shape.lens[(unsigned char)lower[0]] & signoff_len_bit(l)) != 0 &&
              word_in(lower, signoffs, sizeof signoffs / sizeof signoffs[0]);
    if (lower != buf)
        free(lower);
    return hit;
}

/* Words that start a line but are no name. */
static int
not_a_name(const char *s, size_t n)
{
    static const char *const words[] = {"Hi",  "Hello", "Dear", "Hey",     "Thanks", "Thank",
                                        "The", "I",     "Mob",  "Tel",     "Phone",  "Sent",
                                        "PS",  "P.S.",  "Best", "Regards", "Cheers", "Mrs.",
                                        "Mr.", "Engr.", "Avv.", "Dr."};
    char w[32];
    size_t l = strcspn(s, " ,");
    if (l >= sizeof w || l > n)
        return 0;
    memcpy(w, s, l);
    w[l] = '\0';
    return word_in(w, words, sizeof words / sizeof words[0]);
}

static int
set_name(struct profile *p, const char *s, size_t n)
{
    if (p->name != NULL || n == 0 || n > MAX_NAME || not_a_name(s, n))
        return 0;
    p->name = strndup(s, n);
    return p->name == NULL ? -1 : 0;
}

/* A name in a script without capitals (Arabic, CJK): the whole short line. */
static size_t
other_script_name_len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    if (!(c >= 0xd8 && c <= 0xdb) && !(c >= 0xe3 && c <= 0xe9))
        return 0;
    size_t words = 1;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x80 && s[i] != ' ')
            return 0;
        words += s[i] == ' ';
    }
    return words <= 3 && n <= 40 ? n : 0;
}

/* A line holding only a name (after the sign-off): "Kayla", "Ramesh Kumar Iyer", "- Jess", "/Elin".
 */
static int
name_line(struct profile *p, const char *s, size_t n)
{
    static const char *const titles[] = {"Mrs. ", "Mr. ",   "Ms. ",  "Dr. ",   "Engr. ",
                                         "Avv. ", "Prof. ", "Ing. ", "Dott. ", "Dra. "};
    s = trim(s, &n);
    while (n > 0 && (*s == '-' || *s == '/' || *s == ' '))
        s++, n--;
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (n > strlen(titles[i]) && strncmp(s, titles[i], strlen(titles[i])) == 0)
            s += strlen(titles[i]), n -= strlen(titles[i]);
    size_t other = other_script_name_len(s, n);
    if (other > 0)
        return set_name(p, s, other);
    /* "Gruß Thomas", "LG Kathi": the sign-off first */
    size_t first = strcspn(s, " ,");
    if (first < n && is_signoff(s, first)) {
        s += first + 1;
        n -= first + 1;
        s = trim(s, &n);
    }
    size_t l = name_len(s, n);
    size_t rest = n - l;
    const char *r = trim(s + l, &rest);
    if (l == 0 || (rest > 0 && !(rest <= 3 && strspn(r, " .!x") == rest)))
        return 0;
    /* "Jorge Paredes M.": a trailing initial is not part of how they are called */
    if (l > 4 && s[l - 1] == '.' && s[l - 3] == ' ' && memchr(s, ' ', l - 3) != NULL)
        l -= 3;
    /* "Norwich", "Pune": a place signed under the name is no name */
    char zone[MAX_ZONE + 1];
    char *cand = strndup(s, l);
    if (cand == NULL)
        return -1;
    int place = resolve_zone_memo(cand, zone, sizeof zone) == 1;
    free(cand);
    if (place)
        return 0;
    return set_name(p, s, l);
}

/* "Gruß Thomas", "LG Kathi", "Cheers, Ollie", "...till I'm back. Cheers, Ollie": a sign-off and a
 * name. */
static int
signoff_then_name(struct profile *p, const char *line, size_t n)
{
    if (!signoff_shape.ready)
        signoff_shape_init();
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !(line[i - 1] == ' ' && i >= 2 && strchr(".!", line[i - 2]) != NULL))
            continue;
        size_t solid = 0; /* of line[i..k) */
        for (size_t k = i; k < n; k++) {
            if (k > i)
                solid += signoff_shape.solid[(unsigned char)line[k - 1]];
            if (line[k] != ',' && line[k] != ' ')
                continue;
            /* A longer prefix has at least as many solid bytes: none further on is a sign-off. */
            if (solid > signoff_shape.max)
                break;
            if (!is_signoff(line + i, k - i))
                continue;
            size_t j = k + (line[k] == ',');
            while (j < n && line[j] == ' ')
                j++;
            if (j < n && name_line(p, line + j, n - j) == 0 && p->name != NULL)
                return 1;
        }
    }
    return 0;
}

/* The name under the last sign-off, or after "Thanks, " on the same line. */
static int
name_from_signature(const char *text, struct profile *p)
{
    const char *lines[256];
    size_t lens[256], n = 0;
    for (const char *s = text; *s && n < 256;) {
        size_t l = strcspn(s, "\n");
        size_t tl = l;
        const char *t = trim(s, &tl);
        if (tl > 0) {
            lines[n] = t;
            lens[n++] = tl;
        }
        s += l + (s[l] == '\n');
    }
    if (n > 1 && (name_line(p, lines[n - 1], lens[n - 1]) != 0 || p->name != NULL))
        return p->name != NULL ? 0 : -1;
    for (size_t i = n; i-- > 0;) {
        if (is_signoff(lines[i], lens[i])) {
            if (i + 1 < n && name_line(p, lines[i + 1], lens[i + 1]) != 0)
                return -1;
            if (p->name != NULL)
                return 0;
            continue;
        }
        if (signoff_then_name(p, lines[i], lens[i]))
            return 0;
    }
    /* One line: "... -Dan" */
    if (n == 1) {
        const char *dash = NULL;
        for (const char *q = lines[0]; q + 1 < lines[0] + lens[0]; q++)
            if (q[0] == ' ' && q[1] == '-')
                dash = q + 1;
        if (dash != NULL)
            return name_line(p, dash, lens[0] - (size_t)(dash - lines[0]));
    }
    return 0;
}

/* Case-insensitive search for needle (ASCII case) in s. */
static const char *
find_word(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    /* The first letter first: a call of strncasecmp at every byte was 6% of a reading. */
    int first = tolower((unsigned char)needle[0]);
    if (n > 0 && first < 0x80) {
        /* ... found by strpbrk among the bytes whose lower case it is (ASCII: both cases) */
        char set[3] = {(char)first, (char)toupper(first), '\0'};
        for (const char *p = strpbrk(s, set); p; p = strpbrk(p + 1, set))
            if (strncasecmp(p, needle, n) == 0 && (p == s || !isalpha((unsigned char)p[-1])))
                return p;
        return NULL;
    }
    for (const char *p = s; *p; p++)
        if ((n == 0 || tolower((unsigned char)*p) == first) && strncasecmp(p, needle, n) == 0 &&
            (p == s || !isalpha((unsigned char)p[-1])))
            return p;
    return NULL;
}

/* The name after introduction i at a place where it starts, else 0 with nothing set. */
static int
introduction_at(const char *at, size_t i, struct profile *p, int *done)
{
    const char *s = at + strlen(introductions[i]);
    size_t l = name_len(s, strcspn(s, "\n"));
    /* "I'm Maricel from Cebu" yes; "I'm a nurse" no (no capital); "I'm UX..." no (all caps) */
    if (l == 0 || (l >= 2 && isupper((unsigned char)s[1])))
        return 0;
    *done = 1;
    return set_name(p, s, l);
}

/*
 * Where an introduction may start (find_word's rule: not after a letter),
 * by lower-case ASCII first byte, each group in the order written: each
 * introduction then looks only where its first letter is, instead of
 * searching the whole text once for each of them (a thirtieth of a join's
 * reading).  No introduction can match again one byte after a match (its
 * bytes would all be the same letter), so find_word's "p == s" on the next
 * search never applied.
 */
struct intro_starts {
    const char **at;
    size_t first[129]; /* group c: at[first[c] .. first[c + 1]) */
};

static int
intro_start(const char *text, size_t i)
{
    return (unsigned char)text[i] < 0x80 && (i == 0 || !isalpha((unsigned char)text[i - 1]));
}

static int
intro_starts_of(const char *text, struct intro_starts *st)
{
    size_t len = strlen(text), count[129] = {0};
    for (size_t i = 0; i < len; i++)
        if (intro_start(text, i))
            count[tolower((unsigned char)text[i])]++;
    st->first[0] = 0;
    for (size_t c = 0; c < 128; c++)
        st->first[c + 1] = st->first[c] + count[c];
    st->at = malloc((st->first[128] ? st->first[128] : 1) * sizeof(*st->at));
    if (st->at == NULL)
        return -1;
    memcpy(count, st->first, sizeof(count));
    for (size_t i = 0; i < len; i++)
        if (intro_start(text, i))
            st->at[count[tolower((unsigned char)text[i])]++] = text + i;
    return 0;
}

static int
name_from_introduction(const char *text, struct profile *p)
{
    struct intro_starts st;
    if (intro_starts_of(text, &st) != 0)
        return -1;
    int rc = 0, done = 0;
    for (size_t i = 0;
         i < sizeof introductions / sizeof introductions[0] && !done && p->name == NULL; i++) {
        const char *intro = introductions[i];
        unsigned char c = (unsigned char)tolower((unsigned char)intro[0]);
        size_t n = strlen(intro);
        if (c >= 0x80) { /* none yet: the search as it was */
            for (const char *at = find_word(text, intro); at && !done;
                 at = find_word(at + 1, intro))
                rc = introduction_at(at, i, p, &done);
            continue;
        }
        for (size_t k = st.first[c]; k < st.first[c + 1] && !done; k++)
            if (strncasecmp(st.at[k], intro, n) == 0)
                rc = introduction_at(st.at[k], i, p, &done);
    }
    free(st.at);
    return rc;
}

/*
 * Whether the sentence s[0..n) has a verb of speaking (lower-cased as
 * languages_from_sentences reads it): 1, 0, or -1 when memory runs out.
 * Asked only of a sentence that names one language, the one case where the
 * answer counts, not of every sentence (20 strstr each, a twentieth of a
 * join's reading of sentences).
 */
static int
speaks(const char *s, size_t n)
{
    char *sent = lower_dup(s, n);
    if (sent == NULL)
        return -1;
    int trigger = 0;
    for (size_t i = 0; i < sizeof speaking / sizeof speaking[0] && !trigger; i++)
        trigger = strstr(sent, speaking[i]) != NULL;
    free(sent);
    return trigger;
}

/* Languages named in a sentence that speaks of speaking, or two or more named together. */
static int
languages_from_sentences(const char *text, struct profile *p)
{
    if (p->n_languages > 0)
        return 0;
    const char *s = text;
    while (*s) {
        size_t n = strcspn(s, ".!?\n");
        char *sent = lower_dup(s, n);
        if (sent == NULL)
            return -1;
        char *found[MAX_ITEMS];
        size_t nf = 0;
        char *save = NULL;
        const char *prev = "";
        for (char *w = strtok_r(sent, " ,;/()&:", &save); w && nf < MAX_ITEMS;
             prev = w, w = strtok_r(NULL, " ,;/()&:", &save)) {
            /* "my English is poor", "mejorar mi inglés": a language learnt, not spoken */
            if (word_in(prev, learnt, sizeof learnt / sizeof learnt[0]))
                continue;
            /* "日本語と英語で": no spaces between words, every name in the run counts
             * (those names have no ASCII byte: an ASCII word holds none of them) */
            int ascii = 1;
            for (const char *c = w; *c && ascii; c++)
                ascii = (unsigned char)*c < 0x80;
            for (size_t k = 0; !ascii && k < sizeof unspaced / sizeof unspaced[0] && nf < MAX_ITEMS;
                 k++)
                if (strstr(w, unspaced[k].w) != NULL && !in_list(unspaced[k].english, found, nf))
                    found[nf++] = (char *)unspaced[k].english;
            const char *name = language_lookup(w, 0);
            if (name == NULL) {
                /* "somaliska", "angielsku", "kiingereza": a few other languages' forms */
                static const struct {
                    const char *w, *english;
                } forms[] = {
                    {"somaliska", "somali"},    {"arabiska", "arabic"},    {"svenska", "swedish"},
                    {"engelska", "english"},    {"polsku", "polish"},      {"angielsku", "english"},
                    {"niemiecku", "german"},    {"kiingereza", "english"}, {"kiswahili", "swahili"},
                    {"englisch", "english"},    {"engels", "english"},     {"inglese", "english"},
                    {"inglés", "english"},      {"inglês", "english"},     {"espanhol", "spanish"},
                    {"kirundi", "kirundi"},     {"somali", "somali"},      {"bisaya", "cebuano"},
                    {"kannada", "kannada"},     {"marathi", "marathi"},    {"hindi", "hindi"},
                    {"português", "portuguese"}};
                for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++)
                    if (w[0] == forms[k].w[0] && strcmp(w, forms[k].w) == 0)
                        name = forms[k].english;
            }
            if (name != NULL && !in_list(name, found, nf))
                found[nf++] = (char *)name;
        }
        int told = nf >= 2;
        if (nf == 1 && (told = speaks(s, n)) < 0) {
            free(sent);
            return -1;
        }
        if (told) {
            for (size_t i = 0; i < nf; i++) {
                char *dup = strdup(found[i]);
                int overflow = 0;
                if (dup == NULL || list_add(&p->languages, &p->n_languages, dup, &overflow) != 0) {
                    free(sent);
                    return -1;
                }
            }
            free(sent);
            return 0;
        }
        free(sent);
        s += n;
        if (*s)
            s++;
    }
    return 0;
}

/* A time zone written in prose: "UTC-3", "GMT+4", "IST", "CET", "Mountain time". */
static int
zone_from_sentences(const char *text, struct profile *p, char **place)
{
    char zone[MAX_ZONE + 1];
    for (const char *s = text; *s; s++) {
        if (s > text && isalnum((unsigned char)s[-1]))
            continue;
        size_t n = 0;
        while (isalnum((unsigned char)s[n]) ||
               ((s[n] == '+' || s[n] == '-') && n > 0 && isdigit((unsigned char)s[n + 1])) ||
               (s[n] == ':' && n > 0 && isdigit((unsigned char)s[n + 1])))
            n++;
        if (n < 2 || n > 10)
            continue;
        int caps = 1;
        for (size_t i = 0; i < n; i++)
            caps &= !islower((unsigned char)s[i]);
        char word[16];
        snprintf(word, sizeof word, "%.*s", (int)n, s);
        /* Abbreviations only in capitals: "IST", not "ist"; offsets as "UTC+1" */
        if (!caps && strncasecmp(s, "mountain time", 13) != 0 &&
            strncasecmp(s, "central time", 12) != 0 && strncasecmp(s, "eastern time", 12) != 0 &&
            strncasecmp(s, "pacific time", 12) != 0)
            continue;
        if (!caps)
            snprintf(word, sizeof word, "%.*s", (int)strcspn(s, " "), s);
        int r = resolve_zone_memo(word, zone, sizeof zone);
        if (r < 0)
            return -1;
        if (r == 1) {
            p->timezone = strdup(zone);
            if (place != NULL && *place == NULL)
                *place = strndup(s, caps ? n : strcspn(s, " ") + 5);
            return p->timezone == NULL ? -1 : 1;
        }
    }
    return 0;
}

/* Capitalised words after "in" that are no place: languages, months, days, tools. */
static int
not_a_place(const char *cand)
{
    static const char *const words[] = {
        "january",    "february",  "march",   "april",    "may",       "june",       "july",
        "august",     "september", "october", "november", "december",  "monday",     "tuesday",
        "wednesday",  "thursday",  "friday",  "saturday", "sunday",    "python",     "java",
        "javascript", "react",     "excel",   "linux",    "rust",      "go",         "sql",
        "unity",      "figma",     "english", "spanish",  "i",         "the",        "a",
        "my",         "our",       "your",    "ux",       "ui",        "it",         "march",
        "summer",     "winter",    "spring",  "autumn",   "mentoring", "mentorship", "node",
        "kotlin",     "swift",     "c",       "r",        "php",       "wordpress",  "sam",
        "ana",        "anna"};
    char *lower = lower_dup(cand, strlen(cand));
    if (lower == NULL)
        return 1;
    char *sp = strchr(lower, ' ');
    if (sp != NULL)
        *sp = '\0';
    int hit =
        word_in(lower, words, sizeof words / sizeof words[0]) || language_lookup(lower, 0) != NULL;
    free(lower);
    return hit;
}

/* A known place named anywhere ("London.", "Dublin based", "Tucson, AZ"). */
static int
known_place_anywhere(const char *text, struct profile *p, char **place)
{
    char zone[MAX_ZONE + 1];
    for (const char *s = text; *s; s++) {
        if ((s > text && isalnum((unsigned char)s[-1])) || !is_upper_start(s))
            continue;
        size_t l = name_len(s, strcspn(s, "\n"));
        /* the longest run first: "Ho Chi Minh City", then its first words */
        while (l > 0) {
            char *cand = strndup(s, l);
            if (cand == NULL)
                return -1;
            int r = resolve_zone_memo(cand, zone, sizeof zone);
            if (r == 1 && strchr(zone, '/') != NULL && !not_a_place(cand)) {
                if (p->timezone == NULL && (p->timezone = strdup(zone)) == NULL) {
                    free(cand);
                    return -1;
                }
                if (place != NULL) {
                    free(*place);
                    *place = cand;
                } else {
                    free(cand);
                }
                return 1;
            }
            free(cand);
            const char *sp = memrchr(s, ' ', l);
            l = sp ? (size_t)(sp - s) : 0;
        }
    }
    return 0;
}

/* A place after "in"/"from"/"aus"/...: capitalised words; its zone when the place is known. */
static int
place_from_sentences(const char *text, struct profile *p, char **place)
{
    /* The bytes a place word may start with, either case, found once: most words start none. */
    static unsigned char starts[256];
    static int starts_ready;
    if (!starts_ready) {
        for (unsigned b = 0; b < 256; b++)
            for (size_t i = 0; i < sizeof place_words / sizeof place_words[0]; i++)
                starts[b] |= tolower((int)b) == tolower((unsigned char)place_words[i][0]);
        starts_ready = 1;
    }
    char zone[MAX_ZONE + 1];
    for (const char *s = text; *s; s++) {
        if ((s > text && s[-1] != ' ' && s[-1] != '\n' && s[-1] != '(') || !starts[(unsigned char)*s])
            continue;
        for (size_t i = 0; i < sizeof place_words / sizeof place_words[0]; i++) {
            /* the first letter first: this runs at every word of the text */
            if (tolower((unsigned char)*s) != tolower((unsigned char)place_words[i][0]))
                continue;
            size_t wl = strlen(place_words[i]);
            if (strncasecmp(s, place_words[i], wl) != 0)
                continue;
            const char *c = s + wl;
            size_t l = name_len(c, strcspn(c, "\n"));
            if (l == 0 || l > 40 ||
                (l >= 2 && isupper((unsigned char)c[1]) && l <= 3 && !(c[0] == 'N' && c[1] == 'Y')))
                continue;
            char *cand = strndup(c, l);
            if (cand == NULL)
                return -1;
            int r = resolve_zone_memo(cand, zone, sizeof zone);
            if (r < 0) {
                free(cand);
                return -1;
            }
            if (r == 0 && place != NULL && *place == NULL && !not_a_place(cand)) {
                *place = cand; /* a place whose zone we do not know: kept as written */
                continue;
            }
            if (r == 1 && strchr(zone, '/') != NULL) {
                if (p->timezone == NULL && (p->timezone = strdup(zone)) == NULL) {
                    free(cand);
                    return -1;
                }
                if (place != NULL && *place == NULL)
                    *place = cand;
                else
                    free(cand);
                return 1;
            }
            free(cand);
        }
    }
    return 0;
}

/* No skill: a language, a place or zone, a number, a filler ("also", "would be happy"). */
static int
skill_unlikely(const char *item)
{
    static const char *const fillers[] = {"also",  "moving", "programme", "program", "time",
                                          "would", "then",   "maybe",     "more",    "it",
                                          "them",  "this",   "that",      "things",  "stuff",
                                          "poco",  "e",      "vooral",    "może",    "sometimes"};
    char zone[MAX_ZONE + 1];
    char first[32];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(item, " "), item);
    if (strpbrk(item, "0123456789") != NULL || language_lookup(item, 0) != NULL ||
        word_in(first, fillers, sizeof fillers / sizeof fillers[0]) ||
        strstr(item, " time") != NULL)
        return 1;
    return resolve_zone_memo(item, zone, sizeof zone) == 1;
}

/*
 * Skills named in prose (skills.h: a vocabulary per language, and what
 * follows "experience in", "I'd like to learn", ...); "Skills:" lines win.
 */
static int
skills_from_sentences(const char *text, struct profile *p)
{
    if (p->n_skills > 0)
        return 0;
    return skills_from_prose(text, skill_unlikely, MAX_ITEMS, MAX_ITEM, &p->skills, &p->n_skills);
}

/*
 * The name: as they sign ("Deb Harlow" under "My name is Deborah"), unless
 * the signature is a short form of the name they introduced themselves with
 * ("Vale" for "Me llamo Valentina").
 */
static int
name_from_told(const char *text, struct profile *out)
{
    struct profile intro;
    profile_init(&intro);
    if (name_from_signature(text, out) != 0 || name_from_introduction(text, &intro) != 0) {
        profile_free(&intro);
        return -1;
    }
    if (intro.name != NULL &&
        (out->name == NULL ||
         (strchr(out->name, ' ') == NULL &&
          strncasecmp(intro.name, out->name, strlen(out->name)) == 0) ||
         (strchr(intro.name, ' ') != NULL && strchr(out->name, ' ') == NULL))) {
        free(out->name);
        out->name = intro.name;
        intro.name = NULL;
    }
    profile_free(&intro);
    return 0;
}

int
profile_from_sentences(const char *text, struct profile *out, char **place)
{
    if (place != NULL)
        *place = NULL;
    if (text == NULL || text[0] == '\0')
        return 0;
    if (out->name == NULL && name_from_told(text, out) != 0)
        return -1;
    if (languages_from_sentences(text, out) != 0 || skills_from_sentences(text, out) != 0)
        return -1;
    if (out->timezone == NULL) {
        int r = place_from_sentences(text, out, place);
        if (r == 0)
            r = known_place_anywhere(text, out, place);
        if (r == 0)
            r = zone_from_sentences(text, out, place);
        if (r < 0)
            return -1;
    }
    out->n_fields = count_fields(out);
    return 0;
}
