/*
 * lang: languages from the data files in the templates folders.
 *
 * DIR/CODE/language.data holds "key: value" lines ("##" starts a comment):
 *   name       the language's own name ("español")
 *   names      comma-separated names people give it, in any language
 *   plural     the values of n that take the singular form ("1", or "0,1")
 *   weekdays   seven names, Sunday first
 *   months     twelve names
 *   date       the form of a date: {weekday} {day} {month} {year}
 *   datetime   the same with {hour} and {minute}
 *   request    comma-separated phrases asking for a language, "*" standing
 *              for its name ("write to me in *", "bitte auf *")
 *   first_day  how the first of a month is written, when not "1" ("1er", "1º")
 *   stopwords  the language's most common words, separated by blanks
 *   phrase.KEY the few phrases mentord builds lines from itself ("mentored by
 *              {name}"), with named values in braces
 * Several lines with the same list key are joined, so long lists can be
 * wrapped.  Nothing here comes from the process locale.
 *
 * The languages of one search path are read together the first time they are
 * needed and kept: there are a handful of them and they never change while
 * the daemon runs (a restart reads new ones, as for templates).
 */
#include "lang.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "filecache.h"

#define LANG_MAX 32     /* languages in one search path */
#define LANG_SETS 4     /* search paths remembered (one in the daemon) */
#define LANG_WORDS 4096 /* words of a text read for detection */
#define LANG_DATA_MAX 65536

struct lang {
    char code[LANG_CODE_MAX];
    char *name;
    char **names; /* normalised ("espanol" and "español" both kept as given, lower case) */
    size_t n_names;
    long one[4]; /* values of n taking the singular form */
    size_t n_one;
    char *weekdays[7];
    char *months[12];
    char *date;
    char *datetime;
    char *first_day; /* how the first of a month is written, when not "1" ("1er") */
    char **requests;
    size_t n_requests;
    char **stopwords; /* sorted, for bsearch */
    size_t n_stopwords;
    char **phrases; /* "key\0value" of the keys starting with "phrase." (without it) */
    size_t n_phrases;
};

struct lang_set {
    char *dirs;
    struct lang langs[LANG_MAX];
    size_t n;
};

static struct lang_set sets[LANG_SETS];

/* ---- words ---- */

/*
 * Lower-case one UTF-8 letter in place: ASCII, and the Latin-1 capitals
 * (U+00C0..U+00DE but U+00D7), which cover the languages shipped.
 */
static void
lang_lower(char *s)
{
    /* ASCII by hand: mentord sets no locale, so tolower() is this, at a call a byte. */
    for (unsigned char *p = (unsigned char *)s; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (unsigned char)(*p + ('a' - 'A'));
        else if (p[0] == 0xC3 && p[1] >= 0x80 && p[1] <= 0x9E && p[1] != 0x97)
            p[1] = (unsigned char)(p[1] + 0x20);
    }
}

/* A byte that belongs to a word: letters, digits, and every non-ASCII byte but punctuation. */
static int
lang_word_byte(const unsigned char *p)
{
    if (*p < 0x80) /* isalnum() in the C locale, without its table look-up call */
        return (*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z');
    /* U+2019 RIGHT SINGLE QUOTATION MARK (e2 80 99) and the like separate words. */
    if (p[0] == 0xE2 && p[1] == 0x80)
        return 0;
    if (p[0] == 0xC2 &&
        (p[1] == 0xA0 || p[1] == 0xAB || p[1] == 0xBB || p[1] == 0xBF || p[1] == 0xA1))
        return 0; /* no-break space, « », ¿ ¡ */
    return 1;
}

/* The next word of *s (lower case) into out; 0 at the end of the text. */
static int
lang_next_word(const char **s, char *out, size_t len)
{
    const unsigned char *p = (const unsigned char *)*s;
    while (*p && !lang_word_byte(p))
        p += (p[0] == 0xE2 || p[0] == 0xC2) && p[1] ? (p[0] == 0xE2 && p[2] ? 3 : 2) : 1;
    if (*p == '\0') {
        *s = (const char *)p;
        return 0;
    }
    size_t n = 0;
    while (*p && lang_word_byte(p)) {
        if (n + 1 < len)
            out[n++] = (char)*p;
        p++;
    }
    /* A word cut in the middle of a UTF-8 sequence loses its partial tail. */
    while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80 && n + 1 >= len)
        n--;
    out[n] = '\0';
    lang_lower(out);
    *s = (const char *)p;
    return 1;
}

static int
lang_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- reading a language.data file ---- */

static char *
lang_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Append the items of value, split at sep, to *list; -1 when out of memory. */
static int
lang_split_case(const char *value, char sep, char ***list, size_t *n, int lower)
{
    char *copy = strdup(value);
    if (copy == NULL)
        return -1;
    char *save = NULL, seps[4] = {sep, sep == ' ' ? '\t' : '\0', '\0', '\0'};
    for (char *t = strtok_r(copy, seps, &save); t; t = strtok_r(NULL, seps, &save)) {
        t = lang_trim(t);
        if (*t == '\0')
            continue;
        char **grown = realloc(*list, (*n + 1) * sizeof(**list));
        if (grown == NULL || (grown[*n] = strdup(t)) == NULL) {
            if (grown)
                *list = grown;
            free(copy);
            return -1;
        }
        *list = grown;
        if (lower)
            lang_lower(grown[*n]);
        (*n)++;
    }
    free(copy);
    return 0;
}

/* The same, lower case: words compared with what people write. */
static int
lang_split(const char *value, char sep, char ***list, size_t *n)
{
    return lang_split_case(value, sep, list, n, 1);
}

static int
lang_fixed(const char *value, char **out, size_t want)
{
    char **list = NULL;
    size_t n = 0;
    int rc = lang_split_case(value, ',', &list, &n, 0); /* "Freitag" keeps its capital */
    if (rc == 0 && n == want) {
        for (size_t i = 0; i < want; i++) {
            free(out[i]);
            out[i] = list[i];
        }
        free(list);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
    return -1;
}

static int
lang_set_string(char **field, const char *value)
{
    char *s = strdup(value);
    if (s == NULL)
        return -1;
    free(*field);
    *field = s;
    return 0;
}

static int
lang_field(struct lang *l, const char *key, const char *value)
{
    if (strcmp(key, "name") == 0)
        return lang_set_string(&l->name, value);
    if (strcmp(key, "names") == 0)
        return lang_split(value, ',', &l->names, &l->n_names);
    if (strcmp(key, "request") == 0)
        return lang_split(value, ',', &l->requests, &l->n_requests);
    if (strcmp(key, "stopwords") == 0)
        return lang_split(value, ' ', &l->stopwords, &l->n_stopwords);
    if (strcmp(key, "weekdays") == 0)
        return lang_fixed(value, l->weekdays, 7);
    if (strcmp(key, "months") == 0)
        return lang_fixed(value, l->months, 12);
    if (strcmp(key, "date") == 0)
        return lang_set_string(&l->date, value);
    if (strcmp(key, "datetime") == 0)
        return lang_set_string(&l->datetime, value);
    if (strcmp(key, "first_day") == 0)
        return lang_set_string(&l->first_day, value);
    if (strcmp(key, "plural") == 0) {
        l->n_one = 0;
        for (const char *p = value; *p && l->n_one < 4;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p)
                break;
            l->one[l->n_one++] = v;
            p = end + strspn(end, ", ");
        }
        return 0;
    }
    if (strncmp(key, "phrase.", 7) == 0) {
        char **grown = realloc(l->phrases, (l->n_phrases + 1) * sizeof(*l->phrases));
        size_t kl = strlen(key + 7), vl = strlen(value);
        if (grown == NULL)
            return -1;
        l->phrases = grown;
        if ((grown[l->n_phrases] = malloc(kl + vl + 2)) == NULL)
            return -1;
        memcpy(grown[l->n_phrases], key + 7, kl + 1);
        memcpy(grown[l->n_phrases] + kl + 1, value, vl + 1);
        l->n_phrases++;
        return 0;
    }
    return 0; /* unknown keys are for later versions */
}

static int
lang_parse(struct lang *l, char *text)
{
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *colon = strchr(line, ':');
        if (colon == NULL)
            continue;
        *colon = '\0';
        char *key = lang_trim(line), *value = lang_trim(colon + 1);
        lang_lower(key);
        if (lang_field(l, key, value) != 0)
            return -1;
    }
    if (l->n_stopwords > 0)
        qsort(l->stopwords, l->n_stopwords, sizeof(*l->stopwords), lang_cmp_str);
    if (l->n_one == 0) {
        l->one[0] = 1;
        l->n_one = 1;
    }
    return 0;
}

static char *
lang_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < LANG_DATA_MAX)
        buf_add(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b);
}

static int
lang_known(const struct lang_set *set, const char *code)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->langs[i].code, code) == 0)
            return 1;
    return 0;
}

static int
lang_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n >= LANG_CODE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return 0;
    return 1;
}

/* Every language of one folder not already known from an earlier folder. */
static void
lang_load_dir(struct lang_set *set, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL && set->n < LANG_MAX;) {
        if (!lang_code_ok(e->d_name) || lang_known(set, e->d_name))
            continue;
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s/language.data", dir, e->d_name) >=
            (int)sizeof(path))
            continue;
        char *text = lang_slurp(path);
        if (text == NULL)
            continue;
        struct lang *l = &set->langs[set->n];
        memset(l, 0, sizeof(*l));
        memcpy(l->code, e->d_name, strlen(e->d_name) + 1); /* lang_code_ok: it fits */
        if (lang_parse(l, text) == 0)
            set->n++;
        free(text);
    }
    closedir(d);
}

static const struct lang_set *
lang_set_for(const char *dirs)
{
    if (dirs == NULL)
        return NULL;
    for (size_t i = 0; i < LANG_SETS; i++)
        if (sets[i].dirs != NULL && strcmp(sets[i].dirs, dirs) == 0)
            return &sets[i];
    size_t slot = 0;
    while (slot < LANG_SETS && sets[slot].dirs != NULL)
        slot++;
    if (slot == LANG_SETS)
        return NULL; /* more search paths than a process uses: tests only */
    struct lang_set *set = &sets[slot];
    if ((set->dirs = strdup(dirs)) == NULL)
        return NULL;
    for (const char *p = dirs;;) {
        size_t n = strcspn(p, ":");
        char one[4096];
        if (n < sizeof(one)) {
            memcpy(one, p, n);
            one[n] = '\0';
            lang_load_dir(set, one);
        }
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    return set;
}

/* ---- public ---- */

const struct lang *
lang_get(const char *dirs, const char *code)
{
    const struct lang_set *set = lang_set_for(dirs);
    if (set == NULL || code == NULL)
        return NULL;
    char want[LANG_CODE_MAX];
    size_t n = strcspn(code, "-_");
    if (n == 0 || n >= sizeof(want))
        return NULL;
    for (size_t i = 0; i < n; i++)
        want[i] = (char)tolower((unsigned char)code[i]);
    want[n] = '\0';
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->langs[i].code, want) == 0)
            return &set->langs[i];
    return NULL;
}

const char *
lang_native_name(const struct lang *l)
{
    return l->name ? l->name : l->code;
}

int
lang_has_templates(const char *dirs, const char *code)
{
    return lang_has_template(dirs, code, "help");
}

int
lang_has_template(const char *dirs, const char *code, const char *name)
{
    if (dirs == NULL || code == NULL || !lang_code_ok(code) || strchr(name, '/') != NULL)
        return 0;
    size_t lc = strlen(code), ln = strlen(name);
    for (const char *p = dirs;;) {
        size_t n = strcspn(p, ":");
        char path[4096];
        /* DIR/CODE/NAME.txt, put together by hand: asked three times for every answer. */
        if (n + lc + ln + 7 <= sizeof(path)) {
            char *q = path;
            memcpy(q, p, n);
            q += n;
            *q++ = '/';
            memcpy(q, code, lc);
            q += lc;
            *q++ = '/';
            memcpy(q, name, ln);
            memcpy(q + ln, ".txt", 5);
            if (filecache_access(path, R_OK) == 0) /* the text is read next: one look for both */
                return 1;
        }
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

static const struct lang *
lang_by_word(const struct lang_set *set, const char *word)
{
    for (size_t i = 0; i < set->n; i++) {
        const struct lang *l = &set->langs[i];
        if (strcmp(l->code, word) == 0)
            return l;
        for (size_t k = 0; k < l->n_names; k++)
            if (strcmp(l->names[k], word) == 0)
                return l;
    }
    return NULL;
}

int
lang_from_name(const char *dirs, const char *name, char code[LANG_CODE_MAX])
{
    const struct lang_set *set = lang_set_for(dirs);
    if (set == NULL || name == NULL)
        return -1;
    char word[64];
    const char *s = name;
    if (!lang_next_word(&s, word, sizeof(word)))
        return -1;
    /* "pt-BR", "es_ES": the code before the region. */
    const struct lang *l = lang_by_word(set, word);
    if (l == NULL)
        return -1;
    snprintf(code, LANG_CODE_MAX, "%s", l->code);
    return 0;
}

static int
lang_is_stopword(const struct lang *l, const char *word)
{
    const char *key = word;
    return l->n_stopwords > 0 &&
           bsearch(&key, l->stopwords, l->n_stopwords, sizeof(*l->stopwords), lang_cmp_str) != NULL;
}

int
lang_detect(const char *dirs, const char *text, char code[LANG_CODE_MAX])
{
    const struct lang_set *set = lang_set_for(dirs);
    if (set == NULL || text == NULL || set->n == 0)
        return -1;
    int score[LANG_MAX] = {0};
    char word[64];
    size_t words = 0;
    for (const char *s = text; words < LANG_WORDS && lang_next_word(&s, word, sizeof(word));
         words++) {
        for (size_t i = 0; i < set->n; i++)
            score[i] += lang_is_stopword(&set->langs[i], word);
    }
    size_t best = 0;
    int second = 0;
    for (size_t i = 1; i < set->n; i++) {
        if (score[i] > score[best]) {
            second = score[best];
            best = i;
        } else if (score[i] > second) {
            second = score[i];
        }
    }
    /*
     * Two common words at least, and clearly more than any other language:
     * Spanish and Portuguese share many short words, and a mail that mixes
     * languages is better answered in the member's usual one.
     */
    if (score[best] < 2 || score[best] * 2 < second * 3)
        return -1;
    snprintf(code, LANG_CODE_MAX, "%s", set->langs[best].code);
    return 0;
}

/* The words of text, lower case, at most max of them; the count. */
static size_t
lang_words(const char *text, char (*out)[64], size_t max)
{
    size_t n = 0;
    for (const char *s = text; n < max && lang_next_word(&s, out[n], sizeof(out[n]));)
        n++;
    return n;
}

/*
 * Does pattern (its words, "*" standing for a language's name) match the
 * text's words from i on?  The language named, or NULL.
 */
static const struct lang *
lang_match_at(const struct lang_set *set, const char *pattern, char (*w)[64], size_t nw, size_t i)
{
    char copy[256], pw[64], *save = NULL;
    const struct lang *found = NULL;

    snprintf(copy, sizeof(copy), "%s", pattern);
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (strcmp(tok, "*") == 0) {
            if (i >= nw || (found = lang_by_word(set, w[i])) == NULL)
                return NULL;
            i++;
            continue;
        }
        for (const char *p = tok; lang_next_word(&p, pw, sizeof(pw)); i++)
            if (i >= nw || strcmp(pw, w[i]) != 0)
                return NULL;
    }
    return found;
}

/* A request pattern read into its words once, not once per word of every text. */
#define LANG_PAT_WORDS 16

struct lang_pat {
    const char *source; /* as written: matched the slow way when it has too many words */
    size_t n;
    char w[LANG_PAT_WORDS][64]; /* "" stands for "*", a language's name */
    int lit0;                   /* its first word is a word, not "*": h0 is that word's hash */
    uint32_t h0;
};

/* FNV-1a of a word: most patterns are ruled out at a text's word by this alone. */
static uint32_t
lang_word_hash(const char *w)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *q = (const unsigned char *)w; *q; q++)
        h = (h ^ *q) * 16777619u;
    return h;
}

static void
lang_pat_read(const char *pattern, struct lang_pat *p)
{
    char copy[256], *save = NULL;

    p->source = pattern;
    p->n = 0;
    snprintf(copy, sizeof(copy), "%s", pattern);
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (strcmp(tok, "*") == 0) {
            if (p->n == LANG_PAT_WORDS)
                goto slow;
            p->w[p->n++][0] = '\0';
            continue;
        }
        char pw[64];
        for (const char *q = tok; lang_next_word(&q, pw, sizeof(pw));) {
            if (p->n == LANG_PAT_WORDS)
                goto slow;
            memcpy(p->w[p->n++], pw, sizeof(pw));
        }
    }
    p->lit0 = p->n > 0 && p->w[0][0] != '\0';
    p->h0 = p->lit0 ? lang_word_hash(p->w[0]) : 0;
    return;
slow:
    p->lit0 = 0;
    p->n = SIZE_MAX;
}

/* lang_match_at for a pattern read by lang_pat_read: the same answer. */
static const struct lang *
lang_pat_at(const struct lang_set *set, const struct lang_pat *p, char (*w)[64], size_t nw,
            size_t i)
{
    const struct lang *found = NULL;

    if (p->n == SIZE_MAX)
        return lang_match_at(set, p->source, w, nw, i);
    for (size_t k = 0; k < p->n; k++, i++) {
        if (i >= nw)
            return NULL;
        if (p->w[k][0] == '\0') {
            if ((found = lang_by_word(set, w[i])) == NULL)
                return NULL;
        } else if (strcmp(p->w[k], w[i]) != 0) {
            return NULL;
        }
    }
    return found;
}

/*
 * Each set's request patterns, read once (sets live as long as the process),
 * and an index of them by their first word: at each word of a text only the
 * patterns that start with that word (by hash) or with "*" are tried, in
 * their order, so the answer is the one trying every pattern gave.  The scan
 * of all 68 patterns at every word of every mail cost about 18k instructions
 * a join.
 */
struct lang_pats {
    struct lang_pat *pat;
    size_t n;
    uint64_t *by_word; /* h0 << 32 | k of every pattern starting with a word, sorted */
    size_t n_by_word;
    uint32_t *any; /* k of the others ("*" first, or read the slow way), ascending */
    size_t n_any;
};
static struct lang_pats set_pats[LANG_SETS];

static int
lang_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The index of ps->pat; 0, or -1 out of memory. */
static int
lang_pats_index(struct lang_pats *ps)
{
    ps->by_word = malloc((ps->n ? ps->n : 1) * sizeof(*ps->by_word));
    ps->any = malloc((ps->n ? ps->n : 1) * sizeof(*ps->any));
    if (ps->by_word == NULL || ps->any == NULL)
        return -1;
    for (size_t k = 0; k < ps->n; k++) {
        if (ps->pat[k].lit0)
            ps->by_word[ps->n_by_word++] = (uint64_t)ps->pat[k].h0 << 32 | (uint32_t)k;
        else
            ps->any[ps->n_any++] = (uint32_t)k;
    }
    qsort(ps->by_word, ps->n_by_word, sizeof(*ps->by_word), lang_cmp_u64);
    return 0;
}

static const struct lang_pats *
lang_set_patterns(const struct lang_set *set)
{
    struct lang_pats *ps = &set_pats[(size_t)(set - sets)];
    if (ps->pat == NULL) {
        size_t np = 0;
        for (size_t k = 0; k < set->n; k++)
            np += set->langs[k].n_requests;
        struct lang_pat *pat = malloc((np ? np : 1) * sizeof(*pat));
        if (pat == NULL)
            return NULL;
        np = 0;
        for (size_t k = 0; k < set->n; k++)
            for (size_t r = 0; r < set->langs[k].n_requests; r++)
                lang_pat_read(set->langs[k].requests[r], &pat[np++]);
        struct lang_pats built = {.pat = pat, .n = np};
        if (lang_pats_index(&built) != 0) {
            free(built.by_word);
            free(built.any);
            free(pat);
            return NULL;
        }
        *ps = built;
    }
    return ps;
}

/* The first entry of ps->by_word for the words hashing to h (n_by_word when none). */
static size_t
lang_pats_first(const struct lang_pats *ps, uint32_t h)
{
    size_t lo = 0, hi = ps->n_by_word;
    uint64_t key = (uint64_t)h << 32;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ps->by_word[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The language the patterns that may start at word i ask for, tried in their order, or NULL. */
static const struct lang *
lang_requested_at(const struct lang_set *set, const struct lang_pats *ps, char (*w)[64], size_t nw,
                  size_t i)
{
    uint32_t h = lang_word_hash(w[i]);
    size_t a = lang_pats_first(ps, h), b = 0;

    for (;;) {
        int word = a < ps->n_by_word && (uint32_t)(ps->by_word[a] >> 32) == h;
        if (!word && b == ps->n_any)
            return NULL;
        size_t k;
        if (word && (b == ps->n_any || (uint32_t)ps->by_word[a] < ps->any[b]))
            k = (uint32_t)ps->by_word[a++];
        else
            k = ps->any[b++];
        const struct lang *l = lang_pat_at(set, &ps->pat[k], w, nw, i);
        if (l != NULL)
            return l;
    }
}

int
lang_requested(const char *dirs, const char *text, char code[LANG_CODE_MAX])
{
    const struct lang_set *set = lang_set_for(dirs);
    if (set == NULL || text == NULL)
        return -1;
    const struct lang_pats *ps = lang_set_patterns(set);
    if (ps == NULL)
        return -1;
    char w[256][64];
    size_t nw = lang_words(text, w, 256);
    for (size_t i = 0; i < nw; i++) {
        const struct lang *l = lang_requested_at(set, ps, w, nw, i);
        if (l != NULL) {
            snprintf(code, LANG_CODE_MAX, "%s", l->code);
            return 0;
        }
    }
    return -1;
}

const char *
lang_phrase(const struct lang *l, const char *key)
{
    for (size_t i = 0; l != NULL && i < l->n_phrases; i++)
        if (strcmp(l->phrases[i], key) == 0)
            return l->phrases[i] + strlen(key) + 1;
    return NULL;
}

char *
lang_phrase_vfill(const struct lang *l, const char *key, const char *english, va_list args)
{
    const char *form = lang_phrase(l, key);
    struct buf b = {0};

    if (form == NULL)
        form = english;
    for (const char *p = form; *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (close == NULL) {
            buf_addc(&b, *p++);
            continue;
        }
        const char *value = NULL;
        va_list ap;
        va_copy(ap, args);
        for (const char *name; value == NULL && (name = va_arg(ap, const char *)) != NULL;) {
            const char *v = va_arg(ap, const char *);
            if (strlen(name) == (size_t)(close - p - 1) && strncmp(name, p + 1, close - p - 1) == 0)
                value = v ? v : "";
        }
        va_end(ap);
        if (value == NULL)
            buf_add(&b, p, (size_t)(close - p + 1)); /* not ours: left as written */
        else
            buf_str(&b, value);
        p = close + 1;
    }
    return buf_take(&b);
}

char *
lang_phrase_fill(const struct lang *l, const char *key, const char *english, ...)
{
    va_list ap;

    va_start(ap, english);
    char *s = lang_phrase_vfill(l, key, english, ap);
    va_end(ap);
    return s;
}

int
lang_phrase_into(char *buf, size_t len, const struct lang *l, const char *key, const char *english,
                 ...)
{
    va_list ap;

    va_start(ap, english);
    char *s = lang_phrase_vfill(l, key, english, ap);
    va_end(ap);
    if (s == NULL)
        return -1;
    snprintf(buf, len, "%s", s);
    free(s);
    return 0;
}

void
lang_decimal(const struct lang *l, const char *number, char *out, size_t len)
{
    const char *sign = lang_phrase(l, "digest_decimal");
    const char *dot = strchr(number, '.');

    if (dot == NULL)
        snprintf(out, len, "%s", number);
    else
        snprintf(out, len, "%.*s%s%s", (int)(dot - number), number, sign ? sign : ".", dot + 1);
}

void
lang_format_size(const struct lang *l, size_t bytes, char *out, size_t len)
{
    const size_t mb = 1024 * 1024;
    char n[64], shown[64];
    char *s;

    if (bytes < mb) {
        snprintf(n, sizeof(n), "%zu", bytes / 1024);
        s = lang_phrase_fill(l, "size_kb", "{n} KB", "n", n, NULL);
    } else {
        /* tenths, rounded down: a mail just over the limit never reads as the limit */
        size_t tenths = bytes / mb * 10 + bytes % mb * 10 / mb;
        snprintf(n, sizeof(n), "%zu.%zu", tenths / 10, tenths % 10);
        lang_decimal(l, n, shown, sizeof(shown));
        s = lang_phrase_fill(l, "size_mb", "{n} MB", "n", shown, NULL);
    }
    snprintf(out, len, "%s", s ? s : n);
    free(s);
}

int
lang_plural(const struct lang *l, long n)
{
    if (l == NULL)
        return n == 1 ? 0 : 1;
    for (size_t i = 0; i < l->n_one; i++)
        if (l->one[i] == n)
            return 0;
    return 1;
}

/* Day of the week, 0 = Sunday, of a proleptic Gregorian date (Sakamoto's method). */
static int
lang_weekday(int y, int m, int d)
{
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    if (m < 3)
        y -= 1;
    return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

/*
 * The English forms, for a templates folder without language data (a flat
 * folder of texts from before languages): dates still read as words.
 */
static const struct lang lang_builtin_english = {
    .code = "en",
    .one = {1},
    .n_one = 1,
    .weekdays = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
    .months = {"January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"},
    .date = "{weekday} {day} {month} {year}",
    .datetime = "{weekday} {day} {month} {year}, {hour2}:{minute}",
};

/* The first n characters (not bytes) of a UTF-8 name: "Nov" of "November". */
static void
lang_add_prefix(struct buf *b, const char *s, size_t n)
{
    size_t bytes = 0;

    for (size_t chars = 0; s[bytes] && chars <= n; bytes++)
        if (((unsigned char)s[bytes] & 0xC0) != 0x80 && ++chars > n)
            break;
    buf_add(b, s, bytes);
}

int
lang_format_date(const struct lang *l, const char *iso, char *out, size_t len)
{
    return lang_format_date_as(l, iso, NULL, out, len);
}

int
lang_format_date_as(const struct lang *l, const char *iso, const char *form, char *out, size_t len)
{
    if (l == NULL)
        l = &lang_builtin_english;
    int y, mo, d, h = -1, mi = -1, used = 0;
    snprintf(out, len, "%s", iso ? iso : "");
    if (iso == NULL || (sscanf(iso, "%4d-%2d-%2d %2d:%2d%n", &y, &mo, &d, &h, &mi, &used) != 5 &&
                        sscanf(iso, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3))
        return -1;
    if (iso[used] != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1900)
        return -1;
    if (form == NULL)
        form = h >= 0 && l->datetime ? l->datetime : l->date;
    if (form == NULL || l->weekdays[0] == NULL || l->months[0] == NULL)
        return -1;
    struct buf b = {0};
    for (const char *p = form; *p;) {
        if (*p != '{') {
            buf_addc(&b, *p++);
            continue;
        }
        size_t n = strcspn(p, "}");
        if (p[n] != '}') {
            buf_str(&b, p);
            break;
        }
#define IS(k) (n == sizeof(k) - 1 && strncmp(p, k, n) == 0)
        if (IS("{weekday"))
            buf_str(&b, l->weekdays[lang_weekday(y, mo, d)]);
        else if (IS("{weekday3"))
            lang_add_prefix(&b, l->weekdays[lang_weekday(y, mo, d)], 3);
        else if (IS("{day") && d == 1 && l->first_day != NULL)
            buf_str(&b, l->first_day);
        else if (IS("{day"))
            buf_printf(&b, "%d", d);
        else if (IS("{day2"))
            buf_printf(&b, "%02d", d);
        else if (IS("{month"))
            buf_str(&b, l->months[mo - 1]);
        else if (IS("{month3"))
            lang_add_prefix(&b, l->months[mo - 1], 3);
        else if (IS("{month2"))
            buf_printf(&b, "%02d", mo);
        else if (IS("{year"))
            buf_printf(&b, "%d", y);
        else if (IS("{hour"))
            buf_printf(&b, "%d", h < 0 ? 0 : h);
        else if (IS("{hour2"))
            buf_printf(&b, "%02d", h < 0 ? 0 : h);
        else if (IS("{minute"))
            buf_printf(&b, "%02d", mi < 0 ? 0 : mi);
        else
            buf_add(&b, p, n + 1);
#undef IS
        p += n + 1;
    }
    char *s = buf_take(&b);
    if (s == NULL)
        return -1;
    snprintf(out, len, "%s", s);
    free(s);
    return 0;
}

void
lang_address_name(const char *name, char *out, size_t len)
{
    out[0] = '\0';
    if (name == NULL || strchr(name, '@') != NULL || len == 0)
        return;
    /* "Ferreira, Ana": the given name follows the comma. */
    const char *s = name, *comma = strchr(name, ',');
    if (comma != NULL && comma[1 + strspn(comma + 1, " \t\"")] != '\0')
        s = comma + 1;
    s += strspn(s, " \t\"");
    size_t n = strcspn(s, " \t,\"");
    if (n == 0 || n >= len)
        return;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* Append n bytes of s at *at in out (len bytes in all, one kept for the NUL); -1 when full. */
static int
lang_path_add(char *out, size_t len, size_t *at, const char *s, size_t n)
{
    if (n >= len - *at)
        return -1;
    memcpy(out + *at, s, n);
    *at += n;
    return 0;
}

/*
 * Put together with memcpy into out: asked for every answer, where two
 * buf_printf calls, a copy and an snprintf cost about 3k instructions a join.
 */
int
lang_template_path(const char *dirs, const char *code, const char *fallback, char *out, size_t len)
{
    const char *order[2] = {code, fallback};
    size_t at = 0;

    if (len == 0)
        return -1;
    for (size_t k = 0; k < 2; k++) {
        if (order[k] == NULL || !lang_code_ok(order[k]) ||
            (k == 1 && code != NULL && strcmp(order[0], order[1]) == 0))
            continue;
        size_t lc = strlen(order[k]);
        for (const char *p = dirs;;) {
            size_t n = strcspn(p, ":");
            if ((at > 0 && lang_path_add(out, len, &at, ":", 1) != 0) ||
                lang_path_add(out, len, &at, p, n) != 0 ||
                lang_path_add(out, len, &at, "/", 1) != 0 ||
                lang_path_add(out, len, &at, order[k], lc) != 0)
                return -1;
            if (p[n] == '\0')
                break;
            p += n + 1;
        }
    }
    if ((at > 0 && lang_path_add(out, len, &at, ":", 1) != 0) ||
        lang_path_add(out, len, &at, dirs, strlen(dirs)) != 0)
        return -1;
    out[at] = '\0';
    return 0;
}
