/*
 * intent: phrases per language, matched on stemmed words.
 *
 * The tables (data/intents/LANG.txt) are compiled in as text by the Makefile
 * (intent_data.h) and read once.  A table line is
 *
 *     KIND VALUE word word ...
 *
 * KIND is an intent name (VALUE: its weight), "none" (a phrase that takes
 * its words away from the other phrases: "don't pause", "not quitting"),
 * "num" (a number word, VALUE its value), "one" (a word that means 1 only
 * before a unit: "a", "un", "een"), "unit" (VALUE days: "week" 7), "month"
 * (VALUE 1-12), "until" (a word before a month: "until", "bis"), "of" (a
 * word between a rating and its scale: "out of", "von"), "skip" (a word
 * after a number that makes it no rating: "times", "weeks"), "rate" (VALUE
 * 1-5: "excellent" 5), "people" (a word after a number of mentees: "mentees",
 * "persons"), "upto" (a word before one: "max", "hasta"), "not" (a word that
 * turns the wish after it around: "I don't need a mentor", "ich will nicht
 * Mentor sein"; a phrase with one of these just before it does not count).  In a phrase, "*"
 * stands for up to three words, "#" for any number, "=word" matches the word
 * only as written (not its other forms: "=mentor" is not "mentored"), and
 * "~text" matches any word containing text (scripts without spaces).
 */
#include "intent.h"

#include <ctype.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <wctype.h>

#include <libstemmer.h>

#include "intent_data.h"
#include "stemcache.h"
#include "wordid.h"

#define MAX_TOKENS 2048
#define MAX_PHRASE 8
#define GAP_MAX 3
#define MAX_WEEKS 52

enum entry_kind {
    E_INTENT,
    E_NONE,
    E_NUM,
    E_ONE,
    E_UNIT,
    E_MONTH,
    E_UNTIL,
    E_OF,
    E_SKIP,
    E_RATE,
    E_PEOPLE,
    E_UPTO,
    E_NOT
};

enum { W_STEM = 0, W_EXACT, W_SUBSTR, W_GAP, W_NUMBER };

struct pword {
    int how;
    char *text;
    char *raw; /* lower case with accents: number words compare so ("très" is not "tres") */
    /*
     * The words' ids (sym_intern): id is what W_STEM (its stem in the
     * entry's language) or W_EXACT (as written) compares; lang_id is text
     * as a stem of the entry's language, raw_id raw as written (number_scan).
     */
    uint32_t id, lang_id, raw_id;
};

struct entry {
    enum entry_kind kind;
    int intent; /* for E_INTENT */
    int value;
    int lang;
    size_t n;
    struct pword w[MAX_PHRASE];
    const char *source; /* the phrase as written, for the "why" */
    /* The id of one word the text must hold for e to match anywhere (entry_key); 0: none. */
    uint32_t key;
};

#define E_KINDS (E_NOT + 1)

struct lang {
    const char *code;
    struct sb_stemmer *stemmer; /* NULL: words are compared as folded */
};

static struct {
    int loaded;
    struct lang langs[INTENT_DATA_N];
    struct entry *e;
    size_t n;
    /*
     * Each kind's entries, in table order (the order decides which phrase
     * takes a word): a lookup scans its kind's few entries, not all of them.
     * numeric: the one-word E_NUM and E_ONE entries, which number_at reads.
     */
    size_t *of_kind[E_KINDS];
    size_t n_of_kind[E_KINDS];
    size_t *numeric;
    size_t n_numeric;
    /* Per word id: 1 when a numeric entry compares it (most words are no number). */
    unsigned char *numeric_id;
    /*
     * The entries score_pass reads in each pass (0: all but answers, 1: the
     * answers), by the id of their key word: those of id x are
     * pass_list[p][pass_start[p][x] .. pass_start[p][x + 1]), in table order;
     * pass_free[p]: those without a key.  A text gathers only the lists of
     * the words it holds, not the whole table.
     */
    size_t *pass_list[2], *pass_start[2], *pass_free[2];
    size_t n_pass_free[2];
    /*
     * Per kind, per word id: 1 when an entry of the kind starts with that
     * word; kind_open: the kind has entries that start otherwise (a number,
     * a gap, a part of a word).  A word that starts none is passed over at once.
     */
    unsigned char *kind_first[E_KINDS];
    int kind_open[E_KINDS];
    locale_t utf8;
} tables;

static const char *const intent_names[INTENT_COUNT] = {
    "none",    "join",    "mentor",   "take_part", "either",       "leave",  "pause",
    "resume",  "status",  "accept",   "decline",   "question",     "help",   "done",
    "rematch", "confirm", "capacity", "rating",    "unclear_role", "manager"};

const char *
intent_name(enum intent_kind k)
{
    return k >= 0 && k < INTENT_COUNT ? intent_names[k] : "none";
}

/* ---- folding ---- */

/* U+00C0..U+017F without their accents, lower case. */
static const char accentless[] = "aaaaaaaceeeeiiiidnooooo?ouuuuytsaaaaaaaceeeeiiiidnooooo?ouuuuyty"
                                 "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkkllllllll"
                                 "llnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

static size_t
utf8_decode(const unsigned char *s, unsigned *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    if (len == 0) {
        *cp = 0xfffd;
        return 1;
    }
    unsigned v = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return i;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    *cp = v;
    return len;
}

static size_t
utf8_encode(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static unsigned
fold_cp(unsigned cp, int keep_accents)
{
    if (cp < 0x80)
        return (unsigned)tolower((int)cp);
    if (cp >= 0x660 && cp <= 0x669)
        return '0' + cp - 0x660; /* Arabic-Indic digits */
    if (cp >= 0x6f0 && cp <= 0x6f9)
        return '0' + cp - 0x6f0;
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x2bc || cp == 0xb4 || cp == 0x60)
        return '\'';
    if (tables.utf8 != (locale_t)0)
        cp = (unsigned)towlower_l((wint_t)cp, tables.utf8);
    if (!keep_accents && cp >= 0xc0 && cp <= 0x17f && accentless[cp - 0xc0] != '?')
        return (unsigned char)accentless[cp - 0xc0];
    return cp;
}

/*
 * text[0..n) folded into out, which has room for 3n + 1 bytes: a byte that is
 * no UTF-8 becomes U+FFFD's three, and a lower case may take one more byte
 * than its capital ("Ⱥ", two bytes, becomes "ⱥ", three); its length.
 * Lower case, other digits as ASCII; accents removed unless keep_accents.
 */
static size_t
fold_into(const char *text, size_t n, int keep_accents, char *out)
{
    if (!tables.loaded && tables.utf8 == (locale_t)0)
        tables.utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)text, *end = s + n;
    while (s < end) {
        unsigned cp;
        if (*s < 0x80) {
            out[o++] = (char)tolower(*s++); /* fold_cp of ASCII, without decoding */
            continue;
        }
        s += utf8_decode(s, &cp);
        if (cp == 0xdf && !keep_accents) {
            out[o++] = 's';
            out[o++] = 's';
            continue;
        }
        o += utf8_encode(fold_cp(cp, keep_accents), out + o);
    }
    out[o] = '\0';
    return o;
}

/* Lower case, other digits as ASCII; accents removed unless keep_accents.  malloc'd. */
static char *
fold(const char *text, int keep_accents)
{
    size_t n = strlen(text);
    char *out = malloc(n * 3 + 1);
    if (out == NULL)
        return NULL;
    fold_into(text, n, keep_accents, out);
    return out;
}

/*
 * Fold text for matching: lower case (UTF-8 aware), accents removed, other
 * digits (Arabic-Indic) as ASCII, curly apostrophes straight.  malloc'd;
 * NULL when memory runs out.
 */
char *
intent_fold(const char *text)
{
    return fold(text, 0);
}

size_t
intent_fold_into(const char *text, size_t n, char *out)
{
    return fold_into(text, n, 0, out);
}

/* ---- words ---- */

/* Is cp part of a word?  Punctuation, spaces, symbols and emoji are not. */
static int
word_cp(unsigned cp)
{
    if (cp < 0x80)
        return isalnum((int)cp) || cp == '\'';
    if (cp <= 0xbf || cp == 0xd7 || cp == 0xf7)
        return 0;
    if ((cp >= 0x2000 && cp <= 0x2bff) || (cp >= 0x3000 && cp <= 0x303f) ||
        (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xff01 && cp <= 0xff0f) ||
        (cp >= 0xff1a && cp <= 0xff20) || cp >= 0x1f000 || cp == 0x60c || cp == 0x61f ||
        cp == 0x61b || cp == 0x6d4 || cp == 0xfffd || cp == 0x200d)
        return 0;
    return 1;
}

/* utf8_decode and word_cp with ASCII first: words_split asks for every character of a text. */
static inline size_t
utf8_next(const unsigned char *s, unsigned *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    return utf8_decode(s, cp);
}

static inline int
word_cp_next(unsigned cp)
{
    return cp < 0x80 ? isalnum((int)cp) || cp == '\'' : word_cp(cp);
}

struct words {
    char *buf; /* folded text, cut into words in place */
    char *w[MAX_TOKENS];
    size_t n;
};

/* Cut folded text into words; apostrophes at a word's edges are dropped. */
static void
words_split(char *folded, struct words *ws)
{
    unsigned char *s = (unsigned char *)folded;
    ws->buf = folded;
    ws->n = 0;
    while (*s && ws->n < MAX_TOKENS) {
        unsigned cp;
        size_t len = utf8_next(s, &cp);
        if (!word_cp_next(cp) || cp == '\'') {
            *s = '\0';
            s += len;
            continue;
        }
        char *start = (char *)s;
        while (*s) {
            len = utf8_next(s, &cp);
            if (!word_cp_next(cp) || (cp == '\'' && !word_cp_next(s[1])))
                break;
            s += len;
        }
        ws->w[ws->n++] = start;
        if (*s) {
            size_t l = utf8_next(s, &cp);
            memset(s, 0, l);
            s += l;
        }
    }
}

static void
words_free(struct words *ws)
{
    free(ws->buf);
    ws->buf = NULL;
    ws->n = 0;
}

static int
is_digits(const char *w)
{
    if (*w == '\0')
        return 0;
    for (; *w; w++)
        if (!isdigit((unsigned char)*w))
            return 0;
    return 1;
}

/* The stem of a folded word in language li (malloc'd). */
static char *
stem_word(int li, const char *w)
{
    struct sb_stemmer *st = li >= 0 ? tables.langs[li].stemmer : NULL;
    if (st == NULL || is_digits(w))
        return strdup(w);
    return stemcache_stem(st, w);
}

/* ---- the tables ---- */

static const struct {
    const char *code;
    const char *algorithm;
} stemmers[] = {{"en", "english"},    {"de", "german"},  {"es", "spanish"}, {"fr", "french"},
                {"pt", "portuguese"}, {"it", "italian"}, {"nl", "dutch"},   {"sv", "swedish"}};

static const struct {
    const char *name;
    enum entry_kind kind;
} kinds[] = {{"none", E_NONE},   {"num", E_NUM},       {"one", E_ONE},   {"unit", E_UNIT},
             {"month", E_MONTH}, {"until", E_UNTIL},   {"of", E_OF},     {"skip", E_SKIP},
             {"rate", E_RATE},   {"people", E_PEOPLE}, {"upto", E_UPTO}, {"not", E_NOT}};

static int
entry_kind_of(const char *name, struct entry *e)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(name, kinds[i].name) == 0) {
            e->kind = kinds[i].kind;
            return 0;
        }
    for (int i = 1; i < INTENT_COUNT; i++)
        if (strcmp(name, intent_names[i]) == 0) {
            e->kind = E_INTENT;
            e->intent = i;
            return 0;
        }
    return -1;
}

static int
entry_word(struct entry *e, const char *w)
{
    struct pword *p = &e->w[e->n];
    if (strcmp(w, "*") == 0) {
        p->how = W_GAP;
        p->text = NULL;
    } else if (strcmp(w, "#") == 0) {
        p->how = W_NUMBER;
        p->text = NULL;
    } else if (w[0] == '=' || w[0] == '~') {
        /* "=mentoré" is not "=mentore": a word as written keeps its accents */
        p->how = w[0] == '=' ? W_EXACT : W_SUBSTR;
        p->text = w[0] == '=' ? fold(w + 1, 1) : intent_fold(w + 1);
    } else {
        char *f = intent_fold(w);
        p->how = W_STEM;
        p->text = f ? stem_word(e->lang, f) : NULL;
        p->raw = fold(w, 1);
        free(f);
        if (p->raw == NULL) {
            free(p->text);
            p->text = NULL;
        }
    }
    if (p->how != W_GAP && p->how != W_NUMBER && p->text == NULL)
        return -1;
    e->n++;
    return 0;
}

/* One table line; 1 when it made an entry, 0 for a comment or a bad line, -1 on memory. */
static int
entry_parse(int li, char *line, struct entry *e)
{
    memset(e, 0, sizeof *e);
    e->lang = li;
    char *save = NULL;
    char *kind = strtok_r(line, " \t", &save);
    char *value = kind ? strtok_r(NULL, " \t", &save) : NULL;
    if (kind == NULL || kind[0] == '#' || value == NULL || entry_kind_of(kind, e) != 0)
        return 0;
    e->value = atoi(value);
    /* a hyphen splits words in the text ("removam-me", "check-ins"): so it does here */
    for (char *h = save; h != NULL && *h; h++)
        if (*h == '-')
            *h = ' ';
    char *w;
    while ((w = strtok_r(NULL, " \t", &save)) != NULL && e->n < MAX_PHRASE)
        if (entry_word(e, w) != 0)
            return -1;
    return e->n > 0;
}

static int
literal_count(const struct entry *e)
{
    int n = 0;
    for (size_t i = 0; i < e->n; i++)
        n += e->w[i].how != W_GAP;
    return n;
}

/* Heavier phrases first, then longer ones: they take their words first. */
static int
entry_order(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int wx = x->kind == E_NONE ? 1000 : x->value, wy = y->kind == E_NONE ? 1000 : y->value;
    if (wx != wy)
        return wy - wx;
    return literal_count(y) - literal_count(x);
}

static int
table_load_lang(int li, const char *text, size_t *cap)
{
    char *copy = strdup(text);
    if (copy == NULL)
        return -1;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (tables.n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 512;
            struct entry *ne = realloc(tables.e, ncap * sizeof *ne);
            if (ne == NULL) {
                free(copy);
                return -1;
            }
            tables.e = ne;
            *cap = ncap;
        }
        struct entry *e = &tables.e[tables.n];
        char src[128];
        snprintf(src, sizeof src, "%s", line);
        int rc = entry_parse(li, line, e);
        if (rc < 0) {
            free(copy);
            return -1;
        }
        if (rc == 0)
            continue;
        /* The phrase as written, without its kind and value, for the "why" lines. */
        char *p = src + strspn(src, " \t");
        p += strcspn(p, " \t");
        p += strspn(p, " \t");
        p += strcspn(p, " \t");
        p += strspn(p, " \t");
        e->source = strdup(p);
        tables.n++;
    }
    free(copy);
    return 0;
}

/* Where a word as written ("=word", a number word's accents) is compared; stems by language. */
#define KEY_EXACT 0xff

/*
 * The words the tables compare have ids (wordid.h), by where they are
 * compared (a language's stems, or KEY_EXACT: as written).  A text's words
 * are looked up once, when it is read (a word no phrase has gets 0, which
 * matches nothing); phrases then compare ids.  Comparing strings in the
 * phrases' loops was a fifth of a mail's reading.  Filled while the tables
 * load, read-only after.
 */
static struct wordid_table *syms;

static uint32_t
sym_find(int where, const char *s)
{
    return wordid_find(syms, (unsigned)where, s, strlen(s));
}

/* The id of s, given when new; 0 when memory runs out. */
static uint32_t
sym_intern(int where, const char *s)
{
    if (syms == NULL && (syms = wordid_new()) == NULL)
        return 0;
    return wordid_intern(syms, (unsigned)where, s, strlen(s));
}

/* The ids of a phrase's words; -1 when memory runs out. */
static int
entry_ids(struct entry *e)
{
    for (size_t i = 0; i < e->n; i++) {
        struct pword *p = &e->w[i];
        if (p->text != NULL && (p->lang_id = sym_intern(e->lang, p->text)) == 0)
            return -1;
        if (p->raw != NULL && (p->raw_id = sym_intern(KEY_EXACT, p->raw)) == 0)
            return -1;
        if (p->how == W_STEM)
            p->id = p->lang_id;
        else if (p->how == W_EXACT && (p->id = sym_intern(KEY_EXACT, p->text)) == 0)
            return -1;
    }
    return 0;
}

/*
 * Every literal word of a phrase must be in the text for it to match, so
 * its first one rules out, in one look, most phrases for most mails.
 * Phrases of numbers or parts of words only have no key (0).
 */
static uint32_t
entry_key(const struct entry *e)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->w[i].how == W_STEM || e->w[i].how == W_EXACT)
            return e->w[i].id;
    return 0;
}

static int
index_add(size_t **list, size_t *n, size_t k)
{
    size_t *nl = realloc(*list, (*n + 1) * sizeof(**list));
    if (nl == NULL)
        return -1;
    nl[(*n)++] = k;
    *list = nl;
    return 0;
}

/* The one-word numeric entries' words, in tables.numeric_id. */
static int
index_numeric(size_t n_ids)
{
    tables.numeric_id = calloc(n_ids, 1);
    if (tables.numeric_id == NULL)
        return -1;
    for (size_t k = 0; k < tables.n_numeric; k++) {
        const struct pword *p = &tables.e[tables.numeric[k]].w[0];
        tables.numeric_id[p->raw_id] = tables.numeric_id[p->lang_id] = 1;
    }
    tables.numeric_id[0] = 0; /* no id: not a word of the tables */
    return 0;
}

/* tables.kind_first and kind_open. */
static int
index_kind_first(size_t n_ids)
{
    for (int k = 0; k < E_KINDS; k++)
        if ((tables.kind_first[k] = calloc(n_ids, 1)) == NULL)
            return -1;
    for (size_t i = 0; i < tables.n; i++) {
        const struct entry *e = &tables.e[i];
        if (e->w[0].how == W_STEM || e->w[0].how == W_EXACT)
            tables.kind_first[e->kind][e->w[0].id] = 1;
        else
            tables.kind_open[e->kind] = 1;
    }
    return 0;
}

static int
scored(const struct entry *e)
{
    return e->kind == E_INTENT || e->kind == E_NONE;
}

static int is_answer(const struct entry *e);

/* The pass lists (tables.pass_*) of pass p. */
static int
index_pass(int p, size_t n_ids)
{
    size_t *start = calloc(n_ids + 1, sizeof(*start)), *fill = calloc(n_ids + 1, sizeof(*fill));
    tables.pass_start[p] = start;
    tables.pass_list[p] = calloc(tables.n ? tables.n : 1, sizeof(size_t));
    tables.pass_free[p] = calloc(tables.n ? tables.n : 1, sizeof(size_t));
    if (start == NULL || fill == NULL || tables.pass_list[p] == NULL ||
        tables.pass_free[p] == NULL) {
        free(fill);
        return -1;
    }
    for (size_t k = 0; k < tables.n; k++) {
        const struct entry *e = &tables.e[k];
        if (scored(e) && is_answer(e) == p && e->key != 0)
            start[e->key + 1]++;
    }
    for (size_t x = 1; x <= n_ids; x++)
        start[x] += start[x - 1];
    memcpy(fill, start, (n_ids + 1) * sizeof(*fill));
    for (size_t k = 0; k < tables.n; k++) {
        const struct entry *e = &tables.e[k];
        if (!scored(e) || is_answer(e) != p)
            continue;
        if (e->key != 0)
            tables.pass_list[p][fill[e->key]++] = k;
        else
            tables.pass_free[p][tables.n_pass_free[p]++] = k;
    }
    free(fill);
    return 0;
}

/* The lists of each kind and every entry's ids and key, once the table is in its order. */
static int
tables_index(void)
{
    for (size_t k = 0; k < tables.n; k++) {
        struct entry *e = &tables.e[k];
        if (entry_ids(e) != 0)
            return -1;
        e->key = entry_key(e);
        if (index_add(&tables.of_kind[e->kind], &tables.n_of_kind[e->kind], k) != 0)
            return -1;
        if ((e->kind == E_NUM || e->kind == E_ONE) && e->n == 1 &&
            index_add(&tables.numeric, &tables.n_numeric, k) != 0)
            return -1;
    }
    size_t n_ids = (size_t)wordid_count(syms) + 1;
    if (index_numeric(n_ids) != 0 || index_pass(0, n_ids) != 0 || index_pass(1, n_ids) != 0 ||
        index_kind_first(n_ids) != 0)
        return -1;
    return 0;
}

static int
tables_load(void)
{
    size_t cap = 0;

    if (tables.loaded)
        return tables.loaded > 0 ? 0 : -1;
    if (tables.utf8 == (locale_t)0)
        tables.utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    for (int i = 0; i < INTENT_DATA_N; i++) {
        tables.langs[i].code = intent_data[i].lang;
        for (size_t k = 0; k < sizeof stemmers / sizeof stemmers[0]; k++)
            if (strcmp(stemmers[k].code, intent_data[i].lang) == 0)
                tables.langs[i].stemmer = sb_stemmer_new(stemmers[k].algorithm, "UTF_8");
    }
    for (int i = 0; i < INTENT_DATA_N; i++)
        if (table_load_lang(i, intent_data[i].text, &cap) != 0) {
            tables.loaded = -1;
            return -1;
        }
    qsort(tables.e, tables.n, sizeof *tables.e, entry_order);
    if (tables_index() != 0) {
        tables.loaded = -1;
        return -1;
    }
    tables.loaded = 1;
    return 0;
}

/* ---- matching ---- */

/* Where a text word's id as written is kept, after its stems' ids per language. */
#define ID_EXACT INTENT_DATA_N

/* A text's words, folded, and their ids (sym_find) stemmed in each language and as written. */
struct text {
    struct words ws;
    struct words raw; /* the same words with their accents (for "=word") */
    uint32_t ids[MAX_TOKENS][INTENT_DATA_N + 1];
    unsigned char used[MAX_TOKENS];
    unsigned char clause[MAX_TOKENS]; /* punctuation between word i - 1 and word i */
    unsigned char joined[MAX_TOKENS]; /* word i - 1 and word i make one ("non-profit") */
    uint32_t gen;                     /* sym_seen[id] == gen: the text holds that word */
    /* the next word after word i with the same id in column l (ids[][l]), NO_WORD: none */
    uint16_t next[MAX_TOKENS][INTENT_DATA_N + 1];
};

#define NO_WORD UINT16_MAX

/*
 * Per id, the last text (its gen) that held the word: whether a text can hold
 * a phrase is one look.  Sized once the tables are loaded.
 */
static uint32_t *sym_seen;
static uint32_t seen_gen;
/* Per id the text holds (sym_seen): the first and the last word that has it. */
static uint16_t *sym_first, *sym_last;

static void
text_release(struct text *t)
{
    words_free(&t->ws);
    words_free(&t->raw);
}

/* Can the text hold e at all (does it have e's key word)? */
static int
text_may_hold(const struct text *t, const struct entry *e)
{
    return e->key == 0 || sym_seen[e->key] == t->gen;
}

/*
 * The ids of a folded word's stems in every language, remembered per word:
 * most words recur from mail to mail, and stemming one in every language
 * costs far more than this look.  Direct-mapped: a slot taken by another word
 * is replaced.  Valid for good, since the ids never change once loaded.
 */
#define WORD_SLOTS 4096 /* a power of two */
#define WORD_LEN 32     /* longer words are stemmed every time */

struct word_slot {
    char w[WORD_LEN]; /* "": empty (no word is empty) */
    uint32_t id[INTENT_DATA_N];
};

static struct word_slot *word_slots;

static int
word_stem_ids(const char *w, uint32_t *id)
{
    size_t len = strlen(w);
    struct word_slot *slot = NULL;
    if (len < WORD_LEN &&
        (word_slots != NULL || (word_slots = calloc(WORD_SLOTS, sizeof(*word_slots))) != NULL)) {
        uint64_t h = wordid_key(0, w, len);                     /* the word cache's slot */
        slot = &word_slots[(h ^ (h >> 29)) & (WORD_SLOTS - 1)]; /* FNV's low bits alone collide */
        if (strcmp(slot->w, w) == 0) {
            memcpy(id, slot->id, sizeof(slot->id));
            return 0;
        }
    }
    for (int l = 0; l < INTENT_DATA_N; l++) {
        char *st = stem_word(l, w);
        if (st == NULL)
            return -1;
        id[l] = sym_find(l, st);
        free(st);
    }
    if (slot != NULL) {
        memcpy(slot->w, w, len + 1);
        memcpy(slot->id, id, sizeof(slot->id));
    }
    return 0;
}

/* Word i's id as written, in the column ID_EXACT: with its accents when every word has them. */
static uint32_t
text_exact_id(const struct text *t, size_t i)
{
    return sym_find(KEY_EXACT, t->raw.n == t->ws.n ? t->raw.w[i] : t->ws.w[i]);
}

/* The text's mark on each of its words' ids in sym_seen, and the chains of words by id. */
static int
text_chain(struct text *t)
{
    size_t n_ids = (size_t)wordid_count(syms) + 1;
    if (sym_seen == NULL && ((sym_seen = calloc(n_ids, sizeof(*sym_seen))) == NULL ||
                             (sym_first = calloc(n_ids, sizeof(*sym_first))) == NULL ||
                             (sym_last = calloc(n_ids, sizeof(*sym_last))) == NULL)) {
        free(sym_seen);
        free(sym_first);
        sym_seen = NULL;
        sym_first = NULL;
        return -1;
    }
    if (++seen_gen == 0) {
        /* after 2^32 texts: the old marks must not look like this text's */
        memset(sym_seen, 0, n_ids * sizeof(*sym_seen));
        seen_gen = 1;
    }
    t->gen = seen_gen;
    for (size_t i = 0; i < t->ws.n; i++) {
        for (int l = 0; l <= ID_EXACT; l++) {
            uint32_t x = t->ids[i][l];
            t->next[i][l] = NO_WORD;
            if (x == 0)
                continue; /* no word of the tables */
            if (sym_seen[x] != t->gen) {
                sym_seen[x] = t->gen;
                sym_first[x] = (uint16_t)i;
            } else {
                t->next[sym_last[x]][l] = (uint16_t)i; /* an id is only ever in its column */
            }
            sym_last[x] = (uint16_t)i;
        }
    }
    return 0;
}

/* Every word's ids: its stems' in each language, and as written. */
static int
text_ids(struct text *t)
{
    for (size_t i = 0; i < t->ws.n; i++) {
        if (word_stem_ids(t->ws.w[i], t->ids[i]) != 0)
            return -1;
        t->ids[i][ID_EXACT] = text_exact_id(t, i);
    }
    return 0;
}

/* Up to word n (inclusive, within the arrays): what a text's arrays are read up to. */
static size_t
text_span(size_t n)
{
    return n < MAX_TOKENS ? n + 1 : MAX_TOKENS;
}

/* 1 when every byte of s is ASCII. */
static int
text_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* The words of text, folded, and their ids, without the marks that text_chain adds. */
static int
text_words(const char *text, struct text *t)
{
    /* Not the whole struct: its word arrays are 40 KB, more than reading a short mail. */
    t->ws.buf = t->raw.buf = NULL;
    t->ws.n = t->raw.n = 0;
    if (tables_load() != 0)
        return -1;
    char *f = intent_fold(text ? text : "");
    char *marks = f ? strdup(f) : NULL;
    if (marks == NULL) {
        free(f);
        return -1;
    }
    words_split(f, &t->ws);
    memset(t->clause, 0, text_span(t->ws.n));
    memset(t->joined, 0, text_span(t->ws.n));
    for (size_t i = 1; i < t->ws.n; i++) {
        size_t a = (size_t)(t->ws.w[i - 1] - f) + strlen(t->ws.w[i - 1]);
        size_t b = (size_t)(t->ws.w[i] - f);
        for (size_t k = a; k < b && !t->clause[i]; k++)
            t->clause[i] = strchr(",.;:!?\n", marks[k]) != NULL && marks[k] != '\0';
        t->joined[i] = b == a + 1 && marks[a] == '-';
    }
    free(marks);
    if (text_ascii(text ? text : "")) {
        /*
         * Folded with or without accents, ASCII is the same bytes, so the
         * same words: the raw words are the folded ones (no buffer of their
         * own), where a second fold and split was 4k instructions of a join.
         */
        memcpy(t->raw.w, t->ws.w, t->ws.n * sizeof(t->ws.w[0]));
        t->raw.n = t->ws.n;
    } else {
        char *r = fold(text ? text : "", 1);
        if (r == NULL) {
            text_release(t);
            return -1;
        }
        words_split(r, &t->raw);
    }
    if (text_ids(t) != 0) {
        text_release(t);
        return -1;
    }
    return 0;
}

/* text_words, then the text's marks (text_chain): a text ready to be matched. */
static int
text_build(const char *text, struct text *t)
{
    if (text_words(text, t) != 0)
        return -1;
    if (text_chain(t) != 0) {
        text_release(t);
        return -1;
    }
    return 0;
}

/*
 * The last text read, kept: a mail's words are read three times over (its
 * intent, a rating, a capacity), and folding, cutting and stemming them in
 * every language was a fifth of the reader's work.  Not thread-safe, like
 * the stemmers: the reader, or a program's one thread.
 */
static struct text text_cache;
static char *text_cache_src;
static void number_memo_clear(size_t n);

/* The text read, the cache's (valid until the next call), its words unused; NULL on failure. */
static struct text *
text_read(const char *text)
{
    const char *src = text ? text : "";
    if (text_cache_src == NULL || strcmp(text_cache_src, src) != 0) {
        char *copy = strdup(src);
        text_release(&text_cache);
        free(text_cache_src);
        text_cache_src = NULL;
        if (copy == NULL || text_build(src, &text_cache) != 0) {
            free(copy);
            return NULL;
        }
        number_memo_clear(text_cache.ws.n);
        text_cache_src = copy;
    } else if (text_cache.gen != seen_gen && text_chain(&text_cache) != 0) {
        return NULL; /* another text (intent_score_parts') was marked since */
    }
    memset(text_cache.used, 0, text_span(text_cache.ws.n));
    return &text_cache;
}

/* Value of a number word or digits at word i (any language); -1 when none. */
static int
number_scan(const struct text *t, size_t i, int with_one)
{
    const char *w = t->ws.w[i];
    if (is_digits(w))
        return strlen(w) > 6 ? -1 : atoi(w);
    int numeric = 0;
    for (int l = 0; l <= ID_EXACT; l++)
        numeric |= tables.numeric_id[t->ids[i][l]];
    if (!numeric)
        return -1; /* no number word compares any of its forms */
    for (size_t k = 0; k < tables.n_numeric; k++) {
        const struct entry *e = &tables.e[tables.numeric[k]];
        if ((e->kind == E_NUM || (with_one && e->kind == E_ONE)) &&
            (t->raw.n == t->ws.n && e->w[0].raw != NULL
                 ? e->w[0].raw_id == t->ids[i][ID_EXACT]
                 : e->w[0].lang_id != 0 && e->w[0].lang_id == t->ids[i][e->lang]))
            return e->value; /* "a" 1, "couple" 2, "few" 3 */
    }
    return -1;
}

/*
 * number_scan, remembered per word of the text kept by text_read (the only
 * text there is): the phrases, ratings and capacities ask for the same words
 * again and again.  number_memo_clear forgets when the kept text changes.
 */
static int number_memo[2][MAX_TOKENS];
static unsigned char number_known[2][MAX_TOKENS];

/* Forgets the words [0, n] (a text's words: no other is asked for). */
static void
number_memo_clear(size_t n)
{
    memset(number_known[0], 0, text_span(n));
    memset(number_known[1], 0, text_span(n));
}

static int
number_at(const struct text *t, size_t i, int with_one)
{
    int o = with_one != 0;
    if (!number_known[o][i]) {
        number_memo[o][i] = number_scan(t, i, with_one);
        number_known[o][i] = 1;
    }
    return number_memo[o][i];
}

static int
word_matches(const struct text *t, const struct entry *e, size_t pi, size_t i)
{
    const struct pword *p = &e->w[pi];
    switch (p->how) {
    case W_EXACT:
        return t->ids[i][ID_EXACT] == p->id;
    case W_SUBSTR:
        return strstr(t->ws.w[i], p->text) != NULL;
    case W_NUMBER:
        return number_at(t, i, 0) >= 0;
    default:
        return t->ids[i][e->lang] == p->id;
    }
}

/*
 * Does e's first word rule out word i, as match_from would at once?  Only
 * what is cheap to tell: a literal first word on a used or another word.
 */
static int
first_word_fails(const struct text *t, const struct entry *e, size_t i)
{
    const struct pword *p = &e->w[0];
    if (p->how == W_STEM)
        return t->used[i] || t->ids[i][e->lang] != p->id;
    if (p->how == W_EXACT)
        return t->used[i] || t->ids[i][ID_EXACT] != p->id;
    return 0;
}

/* Does e match from word i on?  *end is set past its last word. */
static int
match_from(const struct text *t, const struct entry *e, size_t pi, size_t i, size_t *end)
{
    if (pi == e->n) {
        *end = i;
        return 1;
    }
    if (e->w[pi].how == W_GAP) {
        for (size_t g = 0; g <= GAP_MAX && i + g <= t->ws.n; g++) {
            int free_words = 1;
            for (size_t k = i; k < i + g; k++)
                free_words &= !t->used[k];
            if (free_words && match_from(t, e, pi + 1, i + g, end))
                return 1;
        }
        return 0;
    }
    if (i >= t->ws.n || t->used[i] || !word_matches(t, e, pi, i))
        return 0;
    return match_from(t, e, pi + 1, i + 1, end);
}

/* The first place e matches in unused words; 1 with [*start, *end) set. */
static int
find_entry(const struct text *t, const struct entry *e, size_t *start, size_t *end)
{
    const struct pword *p = &e->w[0];
    if (p->how == W_STEM || p->how == W_EXACT) {
        /* only where the text has its first word, in order */
        int col = p->how == W_STEM ? e->lang : ID_EXACT;
        if (sym_seen[p->id] != t->gen)
            return 0;
        for (size_t i = sym_first[p->id]; i != NO_WORD; i = t->next[i][col])
            if (!t->used[i] && match_from(t, e, 0, i, end)) {
                *start = i;
                return 1;
            }
        return 0;
    }
    for (size_t i = 0; i < t->ws.n; i++)
        if (!first_word_fails(t, e, i) && match_from(t, e, 0, i, end)) {
            *start = i;
            return 1;
        }
    return 0;
}

static int
has_question(const char *text)
{
    return strchr(text, '?') != NULL || strstr(text, "\xef\xbc\x9f") != NULL ||
           strstr(text, "\xd8\x9f") != NULL;
}

/* An answer to a proposal: read on its own, so "gerne" or "sure" takes no words from the rest. */
static int
is_answer(const struct entry *e)
{
    return e->kind == E_INTENT && (e->intent == INTENT_ACCEPT || e->intent == INTENT_DECLINE);
}

/* Words before a phrase that a negation turns around ("I don't want to leave"). */
#define NEGATION_REACH 3

/*
 * The wishes a negation turns around.  Not leaving: its phrases carry their
 * own negation ("no longer", "ne ... plus", "nicht mehr"), and "I don't want
 * to leave" has phrases of its own; nor an answer, whose "no" is its own.
 */
static int
negatable(const struct entry *e)
{
    switch (e->intent) {
    case INTENT_JOIN:
    case INTENT_MENTOR:
    case INTENT_TAKE_PART:
    case INTENT_PAUSE:
    case INTENT_RESUME:
        return 1;
    default:
        return 0;
    }
}

/* Is there a "not" word among the NEGATION_REACH words before word s, in its clause? */
static int
negated(const struct text *t, size_t s)
{
    for (size_t i = s; i > 0 && s - i < NEGATION_REACH && !t->clause[i]; i--)
        for (size_t k = 0; k < tables.n_of_kind[E_NOT]; k++) {
            size_t end;
            const struct entry *e = &tables.e[tables.of_kind[E_NOT][k]];
            if (!first_word_fails(t, e, i - 1) && match_from(t, e, 0, i - 1, &end) && end <= s &&
                !t->joined[end])
                return 1; /* "non-profit", "non-technical" are no negation */
        }
    return 0;
}

static void
score_entry(struct text *t, const struct entry *e, struct intent_scores *out)
{
    size_t s, end;
    if (!find_entry(t, e, &s, &end))
        return;
    memset(t->used + s, 1, end - s);
    if (e->kind == E_NONE || (negatable(e) && negated(t, s)))
        return;
    if (out->score[e->intent] == 0)
        snprintf(out->evidence[e->intent], sizeof out->evidence[0], "%s", e->source);
    out->score[e->intent] += e->value;
}

/*
 * Put c[0..n) (entries, each once) in table order: through a bit per entry,
 * which costs less than qsort's calls (and its buffer) for a few dozen.
 */
static int
table_order(size_t *c, size_t n)
{
    static uint64_t *bits;
    size_t words = tables.n / 64 + 1;
    if (bits == NULL && (bits = calloc(words, sizeof(*bits))) == NULL)
        return -1;
    for (size_t j = 0; j < n; j++)
        bits[c[j] / 64] |= 1ull << (c[j] % 64);
    size_t o = 0;
    for (size_t w = 0; w < words && o < n; w++) {
        for (uint64_t b = bits[w]; b != 0; b &= b - 1)
            c[o++] = w * 64 + (size_t)__builtin_ctzll(b);
        bits[w] = 0;
    }
    return 0;
}

/* Room in *c for want entries; -1 when memory runs out. */
static int
list_room(size_t **c, size_t *cap, size_t want)
{
    if (want <= *cap)
        return 0;
    size_t *g = realloc(*c, 2 * want * sizeof(**c));
    if (g == NULL)
        return -1;
    *c = g;
    *cap = 2 * want;
    return 0;
}

/*
 * The entries of pass p the text may hold, in table order: the lists of its
 * words' ids (each once) and those without a key.  *c is grown as needed; -1
 * when memory runs out.
 */
static int
pass_candidates(const struct text *t, int p, size_t **c, size_t *cap, size_t *nc)
{
    static uint32_t *took, took_gen;
    size_t n_ids = (size_t)wordid_count(syms) + 1;
    if (took == NULL && (took = calloc(n_ids, sizeof(*took))) == NULL)
        return -1;
    if (++took_gen == 0) {
        memset(took, 0, n_ids * sizeof(*took));
        took_gen = 1;
    }
    const size_t *start = tables.pass_start[p];
    *nc = 0;
    for (size_t i = 0; i < t->ws.n; i++)
        for (int l = 0; l <= ID_EXACT; l++) {
            uint32_t x = t->ids[i][l];
            if (x == 0 || took[x] == took_gen)
                continue;
            took[x] = took_gen;
            size_t nl = start[x + 1] - start[x];
            if (nl == 0)
                continue;
            if (list_room(c, cap, *nc + nl) != 0)
                return -1;
            memcpy(*c + *nc, tables.pass_list[p] + start[x], nl * sizeof(**c));
            *nc += nl;
        }
    if (list_room(c, cap, *nc + tables.n_pass_free[p] + 1) != 0)
        return -1;
    memcpy(*c + *nc, tables.pass_free[p], tables.n_pass_free[p] * sizeof(**c));
    *nc += tables.n_pass_free[p];
    return table_order(*c, *nc);
}

static void
score_pass(struct text *t, int answers, struct intent_scores *out)
{
    static size_t *c, cap;
    size_t nc;
    if (pass_candidates(t, answers, &c, &cap, &nc) == 0) {
        for (size_t j = 0; j < nc; j++)
            score_entry(t, &tables.e[c[j]], out);
        return;
    }
    /* no memory for the list: every entry of the pass, as it was read before */
    for (size_t k = 0; k < tables.n; k++) {
        const struct entry *e = &tables.e[k];
        if (scored(e) && is_answer(e) == answers && text_may_hold(t, e))
            score_entry(t, e, out);
    }
}

void
intent_score(const char *text, struct intent_scores *out)
{
    struct text *t;

    memset(out, 0, sizeof *out);
    if ((t = text_read(text)) == NULL)
        return;
    out->question = has_question(text ? text : "");
    score_pass(t, 0, out);
    memset(t->used, 0, text_span(t->ws.n));
    score_pass(t, 1, out);
}

/*
 * The phrase text "subject\nprose" of intent_score_parts, put together from
 * the subject's words and the prose's (text_read's, kept from the rating and
 * the capacity): text_build of the whole gives the same words, flags and ids,
 * since no word runs over the line break, which also starts a clause, and
 * the words past MAX_TOKENS are the prose's last.  The prose is then folded
 * and stemmed once a reading, not twice.
 */
static struct text subject_text, joined_text;

/* Append word w of ws to out's list, copied to *at (room made by the caller). */
static void
words_append(struct words *out, const struct words *ws, size_t w, char **at)
{
    size_t len = strlen(ws->w[w]) + 1;
    memcpy(*at, ws->w[w], len);
    out->w[out->n++] = *at;
    *at += len;
}

/* Room for the words of a and the first of b that fit: a buffer as words_split's. */
static char *
words_join(struct words *out, const struct words *a, const struct words *b)
{
    size_t room = 1;
    for (size_t i = 0; i < a->n; i++)
        room += strlen(a->w[i]) + 1;
    for (size_t i = 0; i < b->n && a->n + i < MAX_TOKENS; i++)
        room += strlen(b->w[i]) + 1;
    out->n = 0;
    out->buf = malloc(room);
    if (out->buf == NULL)
        return NULL;
    char *at = out->buf;
    for (size_t i = 0; i < a->n; i++)
        words_append(out, a, i, &at);
    for (size_t i = 0; i < b->n && out->n < MAX_TOKENS; i++)
        words_append(out, b, i, &at);
    return out->buf;
}

/* Word i of out (the joined text) as written, from part t's word j when it is the same word. */
static uint32_t
text_exact_from(const struct text *out, size_t i, const struct text *t, size_t j)
{
    const char *want = out->raw.n == out->ws.n ? out->raw.w[i] : out->ws.w[i];
    const char *had = t->raw.n == t->ws.n ? t->raw.w[j] : t->ws.w[j];
    return strcmp(want, had) == 0 ? t->ids[j][ID_EXACT] : text_exact_id(out, i);
}

/* out = the text of "subject\nprose" from the subject's words (s) and the prose's (p). */
static int
text_join(const struct text *s, const struct text *p, struct text *out)
{
    size_t ns = s->ws.n;

    out->raw.buf = NULL;
    if (words_join(&out->ws, &s->ws, &p->ws) == NULL ||
        words_join(&out->raw, &s->raw, &p->raw) == NULL) {
        text_release(out);
        return -1;
    }
    for (size_t i = 0; i < out->ws.n; i++) {
        const struct text *t = i < ns ? s : p;
        size_t j = i < ns ? i : i - ns;
        memcpy(out->ids[i], t->ids[j], sizeof(out->ids[i][0]) * ID_EXACT);
        out->ids[i][ID_EXACT] = text_exact_from(out, i, t, j);
        /* the line break before the prose is a clause's end (text_build's first word has none) */
        out->clause[i] = i < ns || j > 0 ? t->clause[j] : ns > 0;
        out->joined[i] = t->joined[j];
    }
    return 0;
}

void
intent_score_parts(const char *subject, const char *text, struct intent_scores *out)
{
    struct text *p;

    memset(out, 0, sizeof *out);
    if ((p = text_read(text)) == NULL || text_words(subject, &subject_text) != 0)
        return;
    out->question = has_question(subject) || has_question(text);
    struct text *t = p;
    if (subject_text.ws.n > 0 || subject_text.raw.n > 0) {
        /* the subject has words: the joined text, marked in place of the prose's */
        if (text_join(&subject_text, p, &joined_text) != 0 || text_chain(&joined_text) != 0) {
            text_release(&subject_text);
            text_release(&joined_text);
            memset(out, 0, sizeof *out);
            return;
        }
        t = &joined_text;
        number_memo_clear(t->ws.n);
        memset(t->used, 0, text_span(t->ws.n));
    }
    score_pass(t, 0, out);
    memset(t->used, 0, text_span(t->ws.n));
    score_pass(t, 1, out);
    if (t != p) {
        number_memo_clear(t->ws.n); /* the memo is the kept text's again: what it holds is unknown */
        text_release(&joined_text);
    }
    text_release(&subject_text);
}

/* ---- numbers in sentences ---- */

/* Is word i an entry of kind k (a one-word entry, or the first word of a longer one)? */
static const struct entry *
kind_at(const struct text *t, enum entry_kind k, size_t i, size_t *end)
{
    if (i < t->ws.n && !tables.kind_open[k]) {
        int starts = 0;
        for (int l = 0; l <= ID_EXACT; l++)
            starts |= tables.kind_first[k][t->ids[i][l]];
        if (!starts)
            return NULL; /* no entry of the kind starts with this word */
    }
    for (size_t n = 0; n < tables.n_of_kind[k]; n++) {
        const struct entry *e = &tables.e[tables.of_kind[k][n]];
        if (i < t->ws.n && first_word_fails(t, e, i))
            continue;
        if (match_from(t, e, 0, i, end))
            return e;
    }
    return NULL;
}

/* "4 out of 5", "8 op 10", "ten out of ten": the rating on a scale of 5; 0 when none. */
static int
rating_scaled(const struct text *t)
{
    for (size_t i = 0; i + 2 < t->ws.n; i++) {
        int a = number_at(t, i, 0);
        size_t end;
        if (a < 0 || kind_at(t, E_OF, i + 1, &end) == NULL || end >= t->ws.n)
            continue;
        int b = number_at(t, end, 0);
        if (b < 3 || b > 100 || a > b)
            continue;
        int r = (a * 5 * 2 + b) / (2 * b); /* rounded */
        return r < 1 ? 1 : r > 5 ? 5 : r;
    }
    return 0;
}

/* "4/5", "8/10" in the folded text. */
static int
rating_slash(const char *f)
{
    for (const char *p = strchr(f, '/'); p; p = strchr(p + 1, '/')) {
        const char *a = p;
        while (a > f && a[-1] == ' ')
            a--;
        const char *as = a;
        while (as > f && isdigit((unsigned char)as[-1]))
            as--;
        const char *b = p + 1;
        while (*b == ' ')
            b++;
        if (as == a || !isdigit((unsigned char)*b) || (as > f && isalnum((unsigned char)as[-1])))
            continue;
        int x = atoi(as), y = atoi(b);
        if (y < 3 || y > 100 || x > y)
            continue;
        int r = (x * 5 * 2 + y) / (2 * y);
        return r < 1 ? 1 : r > 5 ? 5 : r;
    }
    return 0;
}

static int
count_str(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + strlen(what), what))
        n++;
    return n;
}

/* One digit 1-5 inside a word of a script without spaces ("星4つ"); 0 when not. */
static int
digit_in_word(const char *w)
{
    int v = 0, digits = 0, ascii_letters = 0;
    for (; *w; w++) {
        if (isdigit((unsigned char)*w))
            v = *w - '0', digits++;
        else if ((unsigned char)*w < 0x80)
            ascii_letters++;
    }
    return digits == 1 && ascii_letters == 0 && v >= 1 && v <= 5 ? v : 0;
}

/* A number 1-5 standing alone: not "3 times", "2 weeks", a date or a year. */
static int
rating_alone(const struct text *t)
{
    for (size_t i = 0; i < t->ws.n; i++) {
        int v = number_at(t, i, 0);
        if (v < 0)
            v = digit_in_word(t->ws.w[i]);
        size_t end;
        if (v < 1 || v > 5)
            continue;
        if (i + 1 < t->ws.n && kind_at(t, E_SKIP, i + 1, &end) != NULL)
            continue;
        if (i + 1 < t->ws.n &&
            (kind_at(t, E_UNIT, i + 1, &end) || kind_at(t, E_PEOPLE, i + 1, &end)))
            continue;
        return v;
    }
    return 0;
}

/* Is the first lone number 1-5 written in digits? */
static int
rating_alone_digits(const struct text *t)
{
    for (size_t i = 0; i < t->ws.n; i++)
        if (is_digits(t->ws.w[i]) || digit_in_word(t->ws.w[i]))
            return 1;
    return 0;
}

/* A rating word ("excellent"), the first in the text. */
static int
rating_word(const struct text *t)
{
    for (size_t i = 0; i < t->ws.n; i++) {
        size_t end;
        const struct entry *e = kind_at(t, E_RATE, i, &end);
        if (e != NULL)
            return e->value;
    }
    return 0;
}

int
intent_rating(const char *text, const char **how)
{
    struct text *t;
    const char *why = NULL;
    int r = 0;

    if ((t = text_read(text)) == NULL)
        return 0;
    int stars = count_str(text, "\xe2\x98\x85") + count_str(text, "\xe2\xad\x90");
    /* folding makes no '/' and takes none away: without one there is no "4/5" to fold for */
    char *f = strchr(text, '/') != NULL ? intent_fold(text) : NULL;
    r = f ? rating_slash(f) : 0;
    free(f);
    if (r == 0)
        r = rating_scaled(t);
    if (r)
        why = "a number on a scale";
    else if (stars >= 1 && stars <= 5)
        r = stars, why = "stars";
    else if ((r = rating_alone(t)) != 0)
        why = rating_alone_digits(t) ? "a number from 1 to 5" : "a number word";
    else if ((r = rating_word(t)) != 0)
        why = "a word that rates";
    if (how)
        *how = why;
    return r;
}

/* ---- durations and capacities ---- */

/* Weeks from now until the start (or, after "end of", the end) of month m (1-12). */
static int
weeks_until_month(int m, int end_of, time_t now)
{
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL)
        return 0;
    int months = (m - 1 - tm.tm_mon + 12) % 12;
    if (months == 0)
        months = end_of ? 0 : 12;
    int days = months * 30 - tm.tm_mday + 1 + (end_of ? 30 : 0);
    int weeks = (days + 6) / 7;
    return weeks < 1 ? 1 : weeks > MAX_WEEKS ? MAX_WEEKS : weeks;
}

int
intent_pause_weeks(const char *text, time_t now)
{
    struct text *t;
    int weeks = 0;

    if ((t = text_read(text)) == NULL)
        return 0;
    for (size_t i = 0; i < t->ws.n && weeks == 0; i++) {
        size_t end;
        const struct entry *u = NULL;
        int n = number_at(t, i, 1);
        if (n > 0) {
            /* "two weeks", "a couple of months": the unit within two words */
            for (size_t j = i + 1; j < t->ws.n && j <= i + 2 && u == NULL; j++)
                u = kind_at(t, E_UNIT, j, &end);
            if (u != NULL) {
                long w = ((long)n * u->value + 6) / 7;
                weeks = w > MAX_WEEKS ? MAX_WEEKS : (int)w;
            }
            continue;
        }
        if (kind_at(t, E_UNTIL, i, &end) == NULL)
            continue;
        /* "until January", "bis Ende Januar", "till mid March" */
        for (size_t j = end; j < t->ws.n && j <= end + 3; j++) {
            const struct entry *m = kind_at(t, E_MONTH, j, &end);
            if (m != NULL) {
                weeks = weeks_until_month(m->value, j > i + 1, now);
                break;
            }
        }
    }
    if (weeks == 0) {
        /* "for a month", "einen Monat": a unit alone counts once */
        for (size_t i = 0; i < t->ws.n && weeks == 0; i++) {
            size_t end;
            const struct entry *u = kind_at(t, E_UNIT, i, &end);
            if (u != NULL && i > 0 && number_at(t, i - 1, 1) == 1)
                weeks = (u->value + 6) / 7;
        }
    }
    return weeks;
}

int
intent_capacity(const char *text)
{
    struct text *t;
    int cap = -1;

    if ((t = text_read(text)) == NULL)
        return -1;
    for (size_t i = 0; i < t->ws.n && cap < 0; i++) {
        size_t end;
        if (kind_at(t, E_PEOPLE, i, &end) != NULL) {
            /* "1 or 2 mentees", "two people": the largest number just before */
            for (size_t k = i > 3 ? i - 3 : 0; k < i; k++) {
                /* "una persona", "une personne" say one; "a mentee for half a year" does not */
                int one = k + 1 == i && strcmp(t->ws.w[i], "mentee") != 0;
                int v = number_at(t, k, one);
                if (v > 0 && v <= 20 && v > cap)
                    cap = v;
            }
            /* "watu wawili": the number after the noun */
            if (cap < 0 && i + 1 < t->ws.n) {
                int v = number_at(t, i + 1, 0);
                if (v > 0 && v <= 20)
                    cap = v;
            }
        } else if (kind_at(t, E_UPTO, i, &end) != NULL) {
            for (size_t k = end; k < t->ws.n && k <= end + 1; k++) {
                int v = number_at(t, k, 0);
                if (v > 0 && v <= 20) {
                    cap = v;
                    /* "up to 2 or 3" */
                    if (k + 2 < t->ws.n && number_at(t, k + 2, 0) > v &&
                        number_at(t, k + 2, 0) <= 20)
                        cap = number_at(t, k + 2, 0);
                    break;
                }
            }
        }
    }
    return cap;
}
