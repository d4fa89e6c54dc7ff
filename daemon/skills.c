/*
 * skills: what a person can teach or wants to learn, as named in prose.
 *
 * The tables (data/skills/LANG.txt, see the head of data/skills/en.txt) are
 * read once into a vocabulary of terms and four word lists: cues, clause
 * ends, list separators and leading words.  A text is cut into tokens, each
 * folded (intent_fold) and stemmed with every table language's Snowball
 * stemmer, so a term of the German table is compared with the German stems
 * of the text and an English one (technologies are English everywhere) with
 * the English stems.  Terms claim tokens longest first; what follows a cue is
 * split into items, and an item that no term claimed is kept as written.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libstemmer.h>

#include "intent.h"
#include "skills.h"
#include "stemcache.h"
#include "wordid.h"

#include "skills_data.h"

#define MAX_TERM_WORDS 6  /* words of a term or cue */
#define MAX_TOKENS 2000   /* tokens read of one text: skills are named early */
#define MAX_ITEM_WORDS 3  /* an unknown item longer than this is a clause, not a skill */
#define MAX_ITEM_CHARS 40 /* ... or longer than this */

enum word_flag {
    W_STEM = 0,   /* compared on the stem in the term's language */
    W_PREFIX = 1, /* "tischler*": the folded token starts with it */
    W_EXACT = 2,  /* "Go": the token exactly as written, not opening a sentence */
    W_FOLD = 3,   /* "\"programming\"": the folded token, not stemmed (its stem is "program") */
    W_INSIDE = 4, /* a word of a script written without spaces (Japanese): anywhere in the token */
};

struct tword {
    char *w;
    size_t len; /* strlen(w) */
    int flag;
    uint32_t id; /* W_STEM, W_FOLD, W_EXACT: w's id (tab.ids) where it is compared */
};

struct term {
    const char *name; /* English name, stored as the skill */
    int lang;         /* table index: the stemmer the words were stemmed with */
    size_t n, chars;  /* words, and their length: the longer term wins */
    struct tword w[MAX_TERM_WORDS];
};

/* A word sequence of one of the lists (cue, end, separator, lead), folded, not stemmed. */
struct seq {
    size_t n;
    char *w[MAX_TERM_WORDS];
    uint64_t key0; /* word_key(KEY_FOLD) of w[0]: most sequences are ruled out by it */
};

enum list { L_CUE, L_END, L_SEP, L_LEAD, L_COUNT };

/* A sequence of a list by the key of its first word (tab.seq_by_key). */
struct seq_ref {
    uint64_t key;
    size_t seq;
};

static struct {
    int loaded, failed;
    struct sb_stemmer *stemmer[SKILLS_DATA_N]; /* NULL: words compared folded */
    struct term *t;
    size_t nt;
    struct seq *s[L_COUNT];
    size_t ns[L_COUNT];
    /*
     * The ids of the words the terms compare (wordid.h), by where they are
     * compared: a language's stems (its table index), KEY_FOLD, KEY_EXACT.
     * A token's words are looked up once; terms then compare integers.
     */
    struct wordid_table *ids;
    /*
     * The terms by the id of their first word: those of id x are
     * by_id[by_id_start[x] .. by_id_start[x + 1]), in table order.  A token
     * is compared with the few terms its own ids name, not with every term.
     * The free terms, whose first word has no id (a prefix, a part of a word),
     * are below.
     */
    size_t *by_id;
    size_t *by_id_start;
    size_t n_by_id;
    /*
     * The free terms a token may start, by the first byte of its folded form:
     * a prefix term only under its own first byte ("tischler*" cannot match
     * a token that does not start with "t"), the others under every byte.
     * Each list in table order.  Comparing every prefix with every token was
     * a tenth of a mail's reading.  [1]: the lists for a token of ASCII
     * only, without the parts of words that have other bytes (Japanese ones
     * cannot be inside "python").
     */
    size_t *free_by_byte[2][256];
    size_t n_free_by_byte[2][256];
    size_t n_free_max; /* the longest of those lists */
    /* Each list's sequences by the key of their first word, sorted by key. */
    struct seq_ref *seq_by_key[L_COUNT];
} tab;

/* What follows a token: a space (or "-", "/", "&"), a comma, or the end of a clause. */
enum gap { G_SPACE, G_COMMA, G_STOP };

struct token {
    const char *at; /* in the text as written */
    size_t len;
    char *fold;
    uint64_t fold_key; /* word_key(KEY_FOLD) of fold */
    /* the ids (tab.ids) of its stem in each table language, of fold, of the token as written */
    uint32_t id[SKILLS_DATA_N + 2];
    enum gap gap;
    int opens;   /* first of its sentence */
    int claimed; /* taken by a term */
};

/* Where a key is compared: SKILLS_DATA_N languages' stems, then these. */
#define KEY_FOLD (SKILLS_DATA_N + 0)
#define KEY_EXACT (SKILLS_DATA_N + 1)

/* FNV-1a of s[0..len), seeded by where it is compared. */
static uint64_t
word_key(size_t where, const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)where;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* ---- tokens ---- */

static size_t
cp_at(const unsigned char *s, unsigned *cp)
{
    size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 1;
    unsigned v = len == 1 ? s[0] : s[0] & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return i;
        }
        v = (v << 6) | (s[i] & 0x3fu);
    }
    *cp = v;
    return len;
}

/* A letter or digit of a word (UTF-8 aware; punctuation, symbols and emoji are not). */
static int
word_cp(unsigned cp)
{
    if (cp < 0x80)
        return isalnum((int)cp);
    if (cp <= 0xbf || cp == 0xd7 || cp == 0xf7 || cp == 0xfffd)
        return 0;
    return !((cp >= 0x2000 && cp <= 0x2bff) || (cp >= 0x3000 && cp <= 0x303f) ||
             (cp >= 0xfe00 && cp <= 0xfe0f) || cp >= 0x1f000);
}

/* Scripts written without spaces between words (kana, CJK ideographs). */
static int
unspaced(unsigned cp)
{
    return cp >= 0x2e80 && cp <= 0x9fff;
}

/*
 * The end of the word at s: letters, digits, "c++", "c#", "node.js".  A word
 * ends where the script changes between spaced and unspaced writing
 * ("Pythonとデータ分析": "Python", then the Japanese run).
 */
static const char *
word_end(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned cp, first;
    cp_at(p, &first);
    for (;;) {
        size_t l = cp_at(p, &cp);
        if (word_cp(cp) && unspaced(cp) == unspaced(first)) {
            p += l;
            continue;
        }
        if (cp == '.' && isalnum(p[1]) && p != (const unsigned char *)s) {
            p++; /* node.js, asp.net */
            continue;
        }
        break;
    }
    while (*p == '+' || *p == '#')
        p++;
    return (const char *)p;
}

/*
 * What lies between two words: the strongest of its marks.  A no-break space
 * is a space; "¿", "¡", "«", "»", "…" end a clause; a dash is a comma.
 */
static enum gap
gap_of(const char *s, const char *e)
{
    enum gap g = G_SPACE;
    for (const unsigned char *p = (const unsigned char *)s; p < (const unsigned char *)e; p++) {
        if (strchr(".;:!?()[]\n", *p) != NULL || (p[0] == 0xc2 && p[1] != 0xa0) ||
            (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xa6))
            return G_STOP;
        if (*p == ',' || (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x93 || p[2] == 0x94)))
            g = G_COMMA;
    }
    return g;
}

/* Does the line at s end the person's text ("-- " signature, "Sent from my ...")? */
static int
text_ends(const char *s)
{
    return strncmp(s, "-- \n", 4) == 0 || strncmp(s, "--\n", 3) == 0 ||
           strncmp(s, "-- \r", 4) == 0 || strncmp(s, "Sent from my ", 13) == 0;
}

/* The tokens and the block that holds their folded forms (tokenise). */
static void
tokens_free(struct token *t, char *folds)
{
    free(t);
    free(folds);
}

static char *
stem(int lang, const char *folded)
{
    struct sb_stemmer *st = tab.stemmer[lang];
    if (st == NULL || isdigit((unsigned char)folded[0]))
        return strdup(folded);
    return stemcache_stem(st, folded);
}

/*
 * The ids of a folded word's stems in every table language and of the word
 * itself, remembered per word: most words recur from mail to mail, and
 * stemming one in every language costs far more than this look.
 * Direct-mapped: a slot taken by another word is replaced.  Emptied when the
 * tables are loaded (ids looked up while they load may have been given after).
 */
#define WORD_SLOTS 4096 /* a power of two */
#define WORD_LEN 32     /* longer words are stemmed every time */

struct word_slot {
    char w[WORD_LEN]; /* "": empty (no token is empty) */
    uint32_t id[SKILLS_DATA_N + 1];
};

static struct word_slot *word_slots;

static int
word_ids(const char *fold, size_t len, uint32_t *id)
{
    struct word_slot *slot = NULL;
    if (len < WORD_LEN &&
        (word_slots != NULL || (word_slots = calloc(WORD_SLOTS, sizeof(*word_slots))) != NULL)) {
        uint64_t h = word_key(KEY_FOLD, fold, len);
        slot = &word_slots[(h ^ (h >> 29)) & (WORD_SLOTS - 1)]; /* FNV's low bits alone collide */
        if (strcmp(slot->w, fold) == 0) {
            memcpy(id, slot->id, sizeof(slot->id));
            return 0;
        }
    }
    for (size_t l = 0; l < SKILLS_DATA_N; l++) {
        char *st = stem((int)l, fold);
        if (st == NULL)
            return -1;
        id[l] = wordid_find(tab.ids, (unsigned)l, st, strlen(st));
        free(st);
    }
    id[KEY_FOLD] = wordid_find(tab.ids, KEY_FOLD, fold, len);
    if (slot != NULL) {
        memcpy(slot->w, fold, len + 1);
        memcpy(slot->id, id, sizeof(slot->id));
    }
    return 0;
}

/* Fold one token into *folds (moved past it) and find its words' ids; -1 when memory runs out. */
static int
token_fill(struct token *t, char **folds)
{
    t->fold = *folds;
    size_t len = intent_fold_into(t->at, t->len, t->fold);
    *folds += len + 1;
    t->fold_key = word_key(KEY_FOLD, t->fold, len);
    if (word_ids(t->fold, len, t->id) != 0)
        return -1;
    t->id[KEY_EXACT] = wordid_find(tab.ids, KEY_EXACT, t->at, t->len);
    return 0;
}

/*
 * Cut text into tokens (up to a signature); *out is malloc'd, and so is
 * *folds, one block for every token's folded form (a token of n bytes folds
 * to at most 2n + 1: the block has room for 3 bytes a byte of text), freed
 * with tokens_free.  -1 when memory runs out.
 */
static int
tokenise(const char *text, struct token **out, size_t *n, char **folds)
{
    char *fold_at = *folds = malloc(3 * strlen(text) + 1);
    /*
     * Grown as needed: zeroing MAX_TOKENS tokens per text cost more than
     * reading it.  Not zeroed at all: each token's fields are set below.
     */
    size_t cap = 64;
    struct token *t = malloc(cap * sizeof *t);
    *out = t;
    *n = 0;
    if (t == NULL || fold_at == NULL)
        return -1;
    int opens = 1;
    const char *s = text;
    while (*s && *n < MAX_TOKENS) {
        if ((s == text || s[-1] == '\n') && text_ends(s))
            break;
        unsigned cp;
        size_t l = cp_at((const unsigned char *)s, &cp);
        if (!word_cp(cp)) {
            s += l;
            continue;
        }
        const char *e = word_end(s);
        const char *next = e;
        while (*next) {
            size_t nl = cp_at((const unsigned char *)next, &cp);
            if (word_cp(cp) || ((next[0] == '\n') && text_ends(next + 1)))
                break;
            next += nl;
        }
        if (*n == cap) {
            struct token *g = realloc(t, 2 * cap * sizeof *t);
            if (g == NULL)
                return -1;
            *out = t = g;
            cap *= 2;
        }
        struct token *k = &t[(*n)++];
        k->at = s;
        k->len = (size_t)(e - s);
        k->claimed = 0;
        k->opens = opens;
        k->gap = *next ? gap_of(e, next) : G_STOP;
        if (next > e && next[-1] == '\n' && next - e >= 2 && next[-2] == '\n')
            k->gap = G_STOP;
        opens = 0; /* the next word opens a sentence after ".", "!", "?" or a line break */
        for (const char *c = e; c < next && !opens; c++)
            opens = *c == '.' || *c == '!' || *c == '?' || *c == '\n';
        if (token_fill(k, &fold_at) != 0)
            return -1;
        s = next;
    }
    return 0;
}

/* ---- the tables ---- */

static int
seq_parse(const char *line, struct seq *q)
{
    char *f = intent_fold(line);
    if (f == NULL)
        return -1;
    struct token *t = NULL;
    char *folds = NULL;
    size_t n = 0;
    int rc = tokenise(f, &t, &n, &folds);
    free(f);
    q->n = 0;
    for (size_t i = 0; rc == 0 && i < n && q->n < MAX_TERM_WORDS; i++)
        if ((q->w[q->n++] = strdup(t[i].fold)) == NULL)
            rc = -1;
    if (rc == 0 && q->n > 0)
        q->key0 = word_key(KEY_FOLD, q->w[0], strlen(q->w[0]));
    tokens_free(t, folds);
    return rc;
}

static int
seq_add(enum list l, const char *line)
{
    struct seq *s = realloc(tab.s[l], (tab.ns[l] + 1) * sizeof *s);
    if (s == NULL)
        return -1;
    tab.s[l] = s;
    memset(&s[tab.ns[l]], 0, sizeof *s);
    if (seq_parse(line, &s[tab.ns[l]]) != 0)
        return -1;
    if (s[tab.ns[l]].n > 0)
        tab.ns[l]++;
    return 0;
}

/* One way of writing a term: its words, stemmed in lang (or marked prefix/exact). */
static int
term_add(const char *name, int lang, const char *way)
{
    struct term *t = realloc(tab.t, (tab.nt + 1) * sizeof *t);
    if (t == NULL)
        return -1;
    tab.t = t;
    struct term *e = &t[tab.nt];
    memset(e, 0, sizeof *e);
    e->name = name;
    e->lang = lang;
    const char *s = way;
    while (*s && e->n < MAX_TERM_WORDS) {
        unsigned cp;
        size_t l = cp_at((const unsigned char *)s, &cp);
        if (!word_cp(cp)) {
            s += l;
            continue;
        }
        const char *end = word_end(s);
        struct tword *w = &e->w[e->n];
        char *raw = strndup(s, (size_t)(end - s));
        if (raw == NULL)
            return -1;
        int capital = 0;
        for (const char *c = raw; *c; c++)
            capital |= isupper((unsigned char)*c);
        unsigned first;
        cp_at((const unsigned char *)s, &first);
        if (unspaced(first)) {
            w->flag = W_INSIDE;
            w->w = raw;
        } else if (capital) {
            w->flag = W_EXACT;
            w->w = raw;
        } else {
            char *f = intent_fold(raw);
            free(raw);
            if (f == NULL)
                return -1;
            w->flag = *end == '*' ? W_PREFIX : s > way && s[-1] == '"' ? W_FOLD : W_STEM;
            w->w = w->flag != W_STEM ? f : stem(lang, f);
            if (w->flag == W_STEM)
                free(f);
            if (w->w == NULL)
                return -1;
        }
        w->len = strlen(w->w);
        unsigned where = w->flag == W_STEM   ? (unsigned)lang
                         : w->flag == W_FOLD ? KEY_FOLD
                                             : KEY_EXACT;
        if (w->flag != W_PREFIX && w->flag != W_INSIDE &&
            (w->id = wordid_intern(tab.ids, where, w->w, w->len)) == 0)
            return -1;
        e->chars += w->len;
        e->n++;
        s = *end == '*' ? end + 1 : end;
    }
    if (e->n > 0)
        tab.nt++;
    return 0;
}

/*
 * "= NAME | WAY | WAY": every way is a term named NAME.  In the English table
 * NAME is a way too, unless a way writes it otherwise: with capitals ("= go |
 * Go") or quoted, unstemmed ("= testing | \"testing\"", not "test"); in the
 * other tables NAME is the English name only.
 */
static int
term_line(char *line, int lang, int english)
{
    char *save = NULL;
    char *name = strtok_r(line, "|", &save);
    while (*name == ' ')
        name++;
    name[strcspn(name, "|")] = '\0';
    for (size_t l = strlen(name); l > 0 && name[l - 1] == ' ';)
        name[--l] = '\0';
    int name_too = english;
    char *ways[64];
    size_t nw = 0;
    for (char *w = strtok_r(NULL, "|", &save); w && nw < 64; w = strtok_r(NULL, "|", &save)) {
        while (*w == ' ')
            w++;
        for (size_t l = strlen(w); l > 0 && w[l - 1] == ' ';)
            w[--l] = '\0';
        /* "= go | Go", "= testing | \"testing\"": the way given replaces the name */
        size_t wl = strlen(w);
        int quoted = wl > 2 && w[0] == '"' && w[wl - 1] == '"';
        if ((strcasecmp(w, name) == 0 && strcmp(w, name) != 0) ||
            (quoted && wl - 2 == strlen(name) && strncmp(w + 1, name, wl - 2) == 0))
            name_too = 0;
        ways[nw++] = w;
    }
    if (name_too && term_add(name, lang, name) != 0)
        return -1;
    for (size_t i = 0; i < nw; i++)
        if (term_add(name, lang, ways[i]) != 0)
            return -1;
    return 0;
}

/* The Snowball stemmer of a table's language; NULL for one Snowball has none for (Polish). */
static struct sb_stemmer *
stemmer_of(const char *code)
{
    static const char *const algorithm[][2] = {
        {"en", "english"}, {"de", "german"},     {"es", "spanish"},
        {"fr", "french"},  {"pt", "portuguese"}, {"it", "italian"},
        {"nl", "dutch"},   {"sv", "swedish"},    {"ar", "arabic"}};
    for (size_t i = 0; i < sizeof algorithm / sizeof algorithm[0]; i++)
        if (strcmp(code, algorithm[i][0]) == 0)
            return sb_stemmer_new(algorithm[i][1], "UTF_8");
    return NULL;
}

/* 1 when s has no byte outside ASCII. */
static int
ascii_only(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* Term k in the free lists of the bytes its first word can start a token with. */
static int
index_free_term(size_t k)
{
    const struct tword *w = &tab.t[k].w[0];
    for (int ascii = 0; ascii < 2; ascii++)
        for (unsigned b = 0; b < 256; b++) {
            if ((w->flag == W_PREFIX && (unsigned char)w->w[0] != b) ||
                (ascii && w->flag == W_INSIDE && !ascii_only(w->w)))
                continue;
            size_t *n = &tab.n_free_by_byte[ascii][b];
            size_t *g = realloc(tab.free_by_byte[ascii][b], (*n + 1) * sizeof(*g));
            if (g == NULL)
                return -1;
            tab.free_by_byte[ascii][b] = g;
            g[(*n)++] = k;
            if (*n > tab.n_free_max)
                tab.n_free_max = *n;
        }
    return 0;
}

static int
seq_ref_order(const void *a, const void *b)
{
    const struct seq_ref *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int
index_seqs(void)
{
    for (int l = 0; l < L_COUNT; l++) {
        tab.seq_by_key[l] = calloc(tab.ns[l] ? tab.ns[l] : 1, sizeof(*tab.seq_by_key[l]));
        if (tab.seq_by_key[l] == NULL)
            return -1;
        for (size_t k = 0; k < tab.ns[l]; k++)
            tab.seq_by_key[l][k] = (struct seq_ref){tab.s[l][k].key0, k};
        qsort(tab.seq_by_key[l], tab.ns[l], sizeof(*tab.seq_by_key[l]), seq_ref_order);
    }
    return 0;
}

static int
index_terms(void)
{
    size_t n_ids = (size_t)wordid_count(tab.ids) + 1;
    tab.by_id = calloc(tab.nt ? tab.nt : 1, sizeof(*tab.by_id));
    tab.by_id_start = calloc(n_ids + 1, sizeof(*tab.by_id_start));
    size_t *fill = calloc(n_ids + 1, sizeof(*fill));
    if (tab.by_id == NULL || tab.by_id_start == NULL || fill == NULL) {
        free(fill);
        return -1;
    }
    /* counted per id, then placed: each id's terms in table order */
    for (size_t k = 0; k < tab.nt; k++)
        if (tab.t[k].w[0].id != 0)
            tab.by_id_start[tab.t[k].w[0].id + 1]++;
    for (size_t x = 1; x <= n_ids; x++)
        tab.by_id_start[x] += tab.by_id_start[x - 1];
    memcpy(fill, tab.by_id_start, (n_ids + 1) * sizeof(*fill));
    for (size_t k = 0; k < tab.nt; k++) {
        uint32_t x = tab.t[k].w[0].id;
        if (x != 0)
            tab.by_id[fill[x]++] = k;
        else if (index_free_term(k) != 0) {
            free(fill);
            return -1;
        }
    }
    free(fill);
    tab.n_by_id = tab.by_id_start[n_ids];
    return index_seqs();
}

/* Read the tables once; the lines' storage (names) lives as long as the process. */
static int
load(void)
{
    if (tab.loaded)
        return tab.failed ? -1 : 0;
    tab.loaded = 1;
    if ((tab.ids = wordid_new()) == NULL)
        return tab.failed = -1;
    for (size_t i = 0; i < SKILLS_DATA_N; i++) {
        tab.stemmer[i] = stemmer_of(skills_data[i].lang);
        char *copy = strdup(skills_data[i].text);
        if (copy == NULL)
            return tab.failed = -1;
        char *save = NULL;
        int english = strcmp(skills_data[i].lang, "en") == 0;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            static const char marks[L_COUNT] = {'>', '<', '+', '-'};
            int rc = 0;
            if (line[0] == '=' && line[1] == ' ')
                rc = term_line(line + 2, (int)i, english);
            for (int l = 0; l < L_COUNT; l++)
                if (line[0] == marks[l] && line[1] == ' ')
                    rc = seq_add((enum list)l, line + 2);
            if (rc != 0)
                return tab.failed = -1; /* copy stays: terms point into it */
        }
        /* copy is not freed: the terms' names point into it */
    }
    if (index_terms() != 0)
        return tab.failed = -1;
    if (word_slots != NULL) /* filled while the cues were read, before all ids were given */
        memset(word_slots, 0, WORD_SLOTS * sizeof(*word_slots));
    return 0;
}

/* ---- reading ---- */

static int
word_matches(const struct tword *w, int lang, const struct token *k)
{
    switch (w->flag) {
    case W_EXACT:
        return !k->opens && k->id[KEY_EXACT] == w->id;
    case W_PREFIX:
        /*
         * Two bytes first (a prefix term is tried at every token of its first
         * byte): most differ there, and strncmp's call cost more than the test.
         */
        return w->len == 0 || (k->fold[0] == w->w[0] && (w->len == 1 || k->fold[1] == w->w[1]) &&
                               strncmp(k->fold, w->w, w->len) == 0);
    case W_FOLD:
        return k->id[KEY_FOLD] == w->id;
    case W_INSIDE:
        return strstr(k->fold, w->w) != NULL;
    default:
        return k->id[lang] == w->id;
    }
}

/* Does term e match the tokens from i on (words of a term run without a comma or stop)? */
static int
term_at(const struct term *e, const struct token *t, size_t n, size_t i)
{
    if (i + e->n > n)
        return 0;
    for (size_t k = 0; k < e->n; k++) {
        if (k > 0 && t[i + k - 1].gap != G_SPACE)
            return 0;
        if (!word_matches(&e->w[k], e->lang, &t[i + k]))
            return 0;
    }
    return 1;
}

/* Does sequence q match the folded tokens from i on? */
static int
seq_at(const struct seq *q, const struct token *t, size_t n, size_t i)
{
    if (i + q->n > n || q->key0 != t[i].fold_key)
        return 0;
    for (size_t k = 0; k < q->n; k++)
        if ((k > 0 && t[i + k - 1].gap != G_SPACE) || strcmp(t[i + k].fold, q->w[k]) != 0)
            return 0;
    return 1;
}

/* The longest sequence of list l at token i: its length in tokens, 0 when none. */
static size_t
list_at(enum list l, const struct token *t, size_t n, size_t i)
{
    const struct seq_ref *r = tab.seq_by_key[l];
    size_t lo = 0, hi = tab.ns[l], best = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].key < t[i].fold_key)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < tab.ns[l] && r[lo].key == t[i].fold_key; lo++) {
        const struct seq *q = &tab.s[l][r[lo].seq];
        if (q->n > best && seq_at(q, t, n, i))
            best = q->n;
    }
    return best;
}

struct found {
    char **items;
    size_t n, max, max_len;
    size_t *pos; /* token where each item starts: the result is in the order written */
};

static int
found_add(struct found *f, const char *item, size_t len, size_t pos)
{
    if (f->n >= f->max || len == 0 || len > f->max_len)
        return 0;
    for (size_t i = 0; i < f->n; i++)
        if (strlen(f->items[i]) == len && strncmp(f->items[i], item, len) == 0)
            return 0;
    char **items = realloc(f->items, (f->n + 1) * sizeof *items);
    if (items == NULL)
        return -1;
    f->items = items;
    size_t *p = realloc(f->pos, (f->n + 1) * sizeof *p);
    if (p == NULL)
        return -1;
    f->pos = p;
    if ((f->items[f->n] = strndup(item, len)) == NULL)
        return -1;
    f->pos[f->n++] = pos;
    return 0;
}

struct hit {
    size_t at, n, chars;
    const struct term *e;
};

static int
hit_order(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    if (x->chars != y->chars)
        return x->chars > y->chars ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* Add to c[*nc] the terms whose first word has id x (in table order). */
static void
terms_of_id(uint32_t x, size_t *c, size_t *nc)
{
    for (size_t k = tab.by_id_start[x]; k < tab.by_id_start[x + 1]; k++)
        c[(*nc)++] = tab.by_id[k];
}

static int
size_order(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * The terms that may start at token k, in table order, without repeats: those
 * its stems, its folded form or its form as written name, and the free ones.
 * *c is grown as needed.
 */
static int
candidates(const struct token *k, size_t **c, size_t *cap, size_t *nc)
{
    const size_t nk = SKILLS_DATA_N + 2;
    int ascii = ascii_only(k->fold);
    const size_t *free_terms = tab.free_by_byte[ascii][(unsigned char)k->fold[0]];
    size_t n_free = tab.n_free_by_byte[ascii][(unsigned char)k->fold[0]];
    *nc = 0;
    for (size_t i = 0; i < nk; i++) {
        /* Before each key's terms are added, room for all that key could bring. */
        if (*nc + tab.n_by_id + tab.n_free_max > *cap) {
            size_t want = 2 * (*nc + tab.n_by_id + tab.n_free_max);
            size_t *g = realloc(*c, want * sizeof(**c));
            if (g == NULL)
                return -1;
            *c = g;
            *cap = want;
        }
        if (k->id[i] != 0)
            terms_of_id(k->id[i], *c, nc);
    }
    qsort(*c, *nc, sizeof(**c), size_order);
    /* Merged with the free terms (in table order already), without repeats, after them. */
    size_t keyed = *nc, a = 0, b = 0, w = keyed;
    if (2 * keyed + n_free > *cap) {
        size_t *g = realloc(*c, (2 * keyed + n_free) * sizeof(**c));
        if (g == NULL)
            return -1;
        *c = g;
        *cap = 2 * keyed + n_free;
    }
    while (a < keyed || b < n_free) {
        size_t next =
            b == n_free || (a < keyed && (*c)[a] < free_terms[b]) ? (*c)[a++] : free_terms[b++];
        if (w == keyed || (*c)[w - 1] != next)
            (*c)[w++] = next;
    }
    memmove(*c, *c + keyed, (w - keyed) * sizeof(**c));
    *nc = w - keyed;
    return 0;
}

/* The vocabulary: every term found, longest first, each token claimed once. */
static int
vocabulary(struct token *t, size_t n, struct found *f)
{
    struct hit *h = NULL;
    size_t nh = 0, *c = NULL, cap = 0, nc = 0;
    for (size_t i = 0; i < n; i++) {
        if (candidates(&t[i], &c, &cap, &nc) != 0) {
            free(h);
            free(c);
            return -1;
        }
        for (size_t j = 0; j < nc; j++) {
            size_t k = c[j];
            if (!term_at(&tab.t[k], t, n, i))
                continue;
            struct hit *g = realloc(h, (nh + 1) * sizeof *g);
            if (g == NULL) {
                free(h);
                free(c);
                return -1;
            }
            h = g;
            h[nh++] = (struct hit){i, tab.t[k].n, tab.t[k].chars, &tab.t[k]};
        }
    }
    free(c);
    if (nh > 1)
        qsort(h, nh, sizeof *h, hit_order);
    int rc = 0;
    for (size_t j = 0; j < nh && rc == 0; j++) {
        int free_run = 1;
        for (size_t k = 0; k < h[j].n; k++)
            free_run &= !t[h[j].at + k].claimed;
        if (!free_run)
            continue;
        for (size_t k = 0; k < h[j].n; k++)
            t[h[j].at + k].claimed = 1;
        rc = found_add(f, h[j].e->name, strlen(h[j].e->name), h[j].at);
    }
    free(h);
    return rc;
}

/* One item of a cue's list, tokens [a, b): kept as written when no term claimed it. */
static int
cue_item(const struct token *t, size_t n, size_t a, size_t b, skills_reject_fn reject,
         struct found *f)
{
    for (size_t l; a < b && (l = list_at(L_LEAD, t, n, a)) > 0 && a + l <= b;)
        a += l;
    if (a >= b || b - a > MAX_ITEM_WORDS)
        return 0;
    for (size_t k = a; k < b; k++)
        if (t[k].claimed || isdigit((unsigned char)t[k].fold[0]))
            return 0;
    size_t len = (size_t)(t[b - 1].at + t[b - 1].len - t[a].at);
    if (len > MAX_ITEM_CHARS)
        return 0;
    char *item = strndup(t[a].at, len);
    if (item == NULL)
        return -1;
    for (char *c = item; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    int rc = reject != NULL && reject(item) ? 0 : found_add(f, item, len, a);
    free(item);
    return rc;
}

/* What follows each cue, up to the end of its clause, split into items. */
static int
cues(const struct token *t, size_t n, skills_reject_fn reject, struct found *f)
{
    for (size_t i = 0; i < n; i++) {
        size_t l = list_at(L_CUE, t, n, i);
        if (l == 0 || t[i + l - 1].gap == G_STOP)
            continue;
        size_t a = i + l, k = a;
        int open = 1;
        for (; k < n && open; k++) {
            size_t cut = list_at(L_END, t, n, k);
            if (cut > 0) {
                open = 0; /* "... and I would", "... because": the clause goes on elsewhere */
            } else if ((cut = list_at(L_SEP, t, n, k)) > 0) {
                if (cue_item(t, n, a, k, reject, f) != 0)
                    return -1;
                a = k + cut;
                k = a - 1;
                continue;
            } else if (t[k].gap == G_SPACE) {
                continue;
            }
            if (cue_item(t, n, a, cut > 0 ? k : k + 1, reject, f) != 0)
                return -1;
            a = k + 1;
            open = open && t[k].gap != G_STOP;
        }
        if (open && a < n && cue_item(t, n, a, n, reject, f) != 0)
            return -1;
        i = k > i ? k - 1 : i;
    }
    return 0;
}

static void
found_free(struct found *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->items[i]);
    free(f->items);
    free(f->pos);
}

/* Put the items in the order they were written (insertion sort: few items). */
static void
found_sort(struct found *f)
{
    for (size_t i = 1; i < f->n; i++)
        for (size_t j = i; j > 0 && f->pos[j - 1] > f->pos[j]; j--) {
            size_t p = f->pos[j];
            f->pos[j] = f->pos[j - 1];
            f->pos[j - 1] = p;
            char *s = f->items[j];
            f->items[j] = f->items[j - 1];
            f->items[j - 1] = s;
        }
}

int
skills_from_prose(const char *text, skills_reject_fn reject, size_t max, size_t max_len,
                  char ***items, size_t *n)
{
    *items = NULL;
    *n = 0;
    if (text == NULL || *text == '\0' || max == 0)
        return 0;
    if (load() != 0)
        return -1;
    struct token *t = NULL;
    char *folds = NULL;
    size_t nt = 0;
    struct found f = {NULL, 0, max, max_len, NULL};
    int rc = tokenise(text, &t, &nt, &folds);
    if (rc == 0)
        rc = vocabulary(t, nt, &f);
    if (rc == 0)
        rc = cues(t, nt, reject, &f);
    tokens_free(t, folds);
    if (rc != 0) {
        found_free(&f);
        return -1;
    }
    found_sort(&f);
    free(f.pos);
    *items = f.items;
    *n = f.n;
    return 0;
}
