/*
 * template: render dir/name.txt with {{var}}, {{#var}}..{{/var}}, {{^var}}..{{/var}}
 * and "##" comment lines.
 *
 * The file is processed line by line so every error can name FILE:LINE.  The
 * Subject line and the body are rendered separately: a section may not span
 * them, and a value with a line break can never move text between them.
 * Values are appended to the output and never scanned again, so text a member
 * wrote that happens to contain "{{x}}" is inserted literally.
 *
 * The files come through filecache.c: read from disk once, then one stat(2)
 * a use (none for a second use while one mail is handled), so a text
 * edited, broken or removed is seen from its next use (or the next mail)
 * on, as when every use read the file.
 */
#include "buf.h"
#include "filecache.h"
#include "lang.h"
#include "template.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#define MAX_DEPTH 16

struct section {
    char name[64];
    int inverted;
    int was_active; /* whether text was being emitted when the section opened */
};

struct render {
    const char *path;
    const struct lang *lang; /* plural rule and dates; NULL: English rules, dates as given */
    const struct template_var *vars;
    size_t nvars;
    const char *any; /* template_check: the value of every variable, set or not */
    struct buf out;
    struct section stack[MAX_DEPTH];
    int depth;
    int active;
    char *err;
    size_t errlen;
};

enum tag_kind { TAG_VAR, TAG_OPEN, TAG_INVERT, TAG_CLOSE };

#define MAX_FORMS 4

struct tag {
    enum tag_kind kind;
    char name[64];
    char forms[MAX_FORMS][64]; /* {{n|day|days}}: the words after the name; {{d|date}} */
    int nforms;
    size_t len; /* bytes of source the tag occupies, braces included */
};

static int
fail(struct render *r, int line, const char *what, const char *name)
{
    if (name != NULL)
        snprintf(r->err, r->errlen, "%s:%d: %s '%s'", r->path, line, what, name);
    else
        snprintf(r->err, r->errlen, "%s:%d: %s", r->path, line, what);
    return -1;
}

/* The variable's value: NULL when it is unknown or unset. */
static const char *
lookup(const struct render *r, const char *name)
{
    if (r->any != NULL)
        return r->any;
    for (size_t i = 0; i < r->nvars; i++) {
        if (r->vars[i].name != NULL && strcmp(r->vars[i].name, name) == 0)
            return r->vars[i].value;
    }
    return NULL;
}

/* isalnum() in the C locale, without its table look-up call: every byte of every tag's name. */
static int
name_char(char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_' ||
           c == '-' || c == '.';
}

/*
 * Parse the tag starting at s ("{{...}}", end of line at end).  Returns 0, or -1
 * with the error set when it is malformed (unterminated, empty or odd name).
 */
static int
parse_tag(struct render *r, int line, const char *s, const char *end, struct tag *t)
{
    const char *p = s + 2;
    t->kind = TAG_VAR;
    if (p < end && (*p == '#' || *p == '^' || *p == '/')) {
        t->kind = *p == '#' ? TAG_OPEN : *p == '^' ? TAG_INVERT : TAG_CLOSE;
        p++;
    }
    while (p < end && *p == ' ')
        p++;
    const char *name = p;
    while (p < end && name_char(*p))
        p++;
    size_t n = (size_t)(p - name);
    while (p < end && *p == ' ')
        p++;
    t->nforms = 0;
    while (p < end && *p == '|' && t->kind == TAG_VAR) {
        const char *f = ++p;
        while (p < end && *p != '|' && *p != '}')
            p++;
        size_t fl = (size_t)(p - f);
        if (t->nforms == MAX_FORMS || fl == 0 || fl >= sizeof(t->forms[0]))
            return fail(r, line, "bad form in tag", NULL);
        memcpy(t->forms[t->nforms], f, fl);
        t->forms[t->nforms++][fl] = '\0';
    }
    if (end - p < 2 || p[0] != '}' || p[1] != '}')
        return fail(r, line, "unterminated or malformed tag", NULL);
    if (n == 0 || n >= sizeof(t->name))
        return fail(r, line, "bad variable name in tag", NULL);
    memcpy(t->name, name, n);
    t->name[n] = '\0';
    t->len = (size_t)(p + 2 - s);
    return 0;
}

static int
open_section(struct render *r, int line, const struct tag *t)
{
    if (r->depth == MAX_DEPTH)
        return fail(r, line, "sections nested too deeply at", t->name);
    struct section *sec = &r->stack[r->depth++];
    /* Both names are 64 bytes and t's is shorter (parse_tag): a copy, no format (3 a join). */
    memcpy(sec->name, t->name, strlen(t->name) + 1);
    sec->inverted = t->kind == TAG_INVERT;
    sec->was_active = r->active;
    const char *v = lookup(r, t->name);
    int set = v != NULL && v[0] != '\0';
    r->active = r->active && (sec->inverted ? !set : set);
    return 0;
}

static int
close_section(struct render *r, int line, const struct tag *t)
{
    if (r->depth == 0)
        return fail(r, line, "closing tag without an open section:", t->name);
    struct section *sec = &r->stack[r->depth - 1];
    if (strcmp(sec->name, t->name) != 0)
        return fail(r, line, "closing tag does not match the open section:", t->name);
    r->active = sec->was_active;
    r->depth--;
    return 0;
}

/*
 * {{d|date}}: a "YYYY-MM-DD[ HH:MM]" value in the language's own words;
 * {{n|day|days}}: the number and the form the language's plural rule takes.
 */
static int
apply_forms(struct render *r, int line, const struct tag *t, const char *v)
{
    if (t->nforms == 1 && strcmp(t->forms[0], "date") == 0) {
        char date[256];
        lang_format_date(r->lang, v, date, sizeof(date)); /* not a date: the value as given */
        return buf_str(&r->out, date) != 0 ? fail(r, line, "out of memory", NULL) : 0;
    }
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0')
        return fail(r, line, "not a number for a plural form:", t->name);
    int k = lang_plural(r->lang, n);
    if (k >= t->nforms)
        k = t->nforms - 1;
    /* "v form", appended without a format string: a confirmation renders one each. */
    if (buf_str(&r->out, v) != 0 || buf_add(&r->out, " ", 1) != 0 ||
        buf_str(&r->out, t->forms[k]) != 0)
        return fail(r, line, "out of memory", NULL);
    return 0;
}

static int
apply_tag(struct render *r, int line, const struct tag *t)
{
    switch (t->kind) {
    case TAG_OPEN:
    case TAG_INVERT:
        return open_section(r, line, t);
    case TAG_CLOSE:
        return close_section(r, line, t);
    case TAG_VAR:
        break;
    }
    if (!r->active)
        return 0; /* a variable in a skipped section need not be set */
    const char *v = lookup(r, t->name);
    if (v == NULL)
        return fail(r, line, "unset variable", t->name);
    if (t->nforms > 0)
        /* A check renders every variable with one value: a plural form needs a number. */
        return apply_forms(r, line, t, r->any != NULL ? "1" : v);
    if (buf_add(&r->out, v, strlen(v)) != 0)
        return fail(r, line, "out of memory", NULL);
    return 0;
}

/*
 * A line holding nothing but one section tag (and blanks) disappears entirely,
 * as mustache's standalone tags do, so sections can sit on lines of their own.
 */
static int
standalone_tag(struct render *r, int line, const char *s, const char *end, struct tag *t)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (end - s < 5 || s[0] != '{' || s[1] != '{' || (s[2] != '#' && s[2] != '^' && s[2] != '/'))
        return 0;
    if (parse_tag(r, line, s, end, t) != 0)
        return -1;
    for (s += t->len; s < end; s++) {
        if (*s != ' ' && *s != '\t')
            return 0;
    }
    return 1;
}

/* The first "{{" in [s, end), or NULL: memchr for the brace, as most lines hold none. */
static const char *
find_tag(const char *s, const char *end)
{
    while (s < end) {
        const char *open = memchr(s, '{', (size_t)(end - s));
        if (open == NULL || open + 1 >= end)
            return NULL;
        if (open[1] == '{')
            return open;
        s = open + 1;
    }
    return NULL;
}

/* Render one line (without its line end); newline says whether to end it with \n. */
static int
render_line(struct render *r, int line, const char *s, const char *end, int newline)
{
    struct tag t;
    int st = standalone_tag(r, line, s, end, &t);
    if (st != 0)
        return st < 0 ? -1 : apply_tag(r, line, &t);
    while (s < end) {
        const char *open = find_tag(s, end);
        const char *stop = open != NULL ? open : end;
        if (r->active && buf_add(&r->out, s, (size_t)(stop - s)) != 0)
            return fail(r, line, "out of memory", NULL);
        if (open == NULL)
            break;
        if (parse_tag(r, line, open, end, &t) != 0 || apply_tag(r, line, &t) != 0)
            return -1;
        s = open + t.len;
    }
    if (newline && r->active && buf_add(&r->out, "\n", 1) != 0)
        return fail(r, line, "out of memory", NULL);
    return 0;
}

/* Line [s, *next) of text ending at end, without its \n or \r\n; NULL at the end. */
static const char *
next_line(const char *s, const char *end, const char **line_end, const char **next)
{
    if (s >= end)
        return NULL;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *e = nl != NULL ? nl : end;
    *next = nl != NULL ? nl + 1 : end;
    if (e > s && e[-1] == '\r')
        e--;
    *line_end = e;
    return s;
}

static int
is_comment(const char *s, const char *e)
{
    return e - s >= 2 && s[0] == '#' && s[1] == '#';
}

static int
check_closed(struct render *r, int line)
{
    if (r->depth > 0)
        return fail(r, line, "section not closed:", r->stack[r->depth - 1].name);
    return 0;
}

static char *
take_output(struct render *r)
{
    char *s = r->out.data != NULL ? r->out.data : strdup("");
    r->out = (struct buf){0};
    return s;
}

static int subject_finish(struct render *r, int line, char **subject);

/* The Subject line, rendered on its own, with any line break a value brought in flattened. */
static int
render_subject(struct render *r, int line, const char *s, const char *e, char **subject)
{
    static const char prefix[] = "Subject:";
    size_t plen = sizeof(prefix) - 1;
    if ((size_t)(e - s) < plen || strncasecmp(s, prefix, plen) != 0)
        return fail(r, line, "the template must start with a 'Subject:' line", NULL);
    s += plen;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    if (render_line(r, line, s, e, 0) != 0 || check_closed(r, line) != 0)
        return -1;
    return subject_finish(r, line, subject);
}

/* The Subject as rendered so far, taken, with any line break a value brought in flattened. */
static int
subject_finish(struct render *r, int line, char **subject)
{
    char *subj = take_output(r);
    if (subj == NULL)
        return fail(r, line, "out of memory", NULL);
    for (char *p = subj; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    }
    size_t n = strlen(subj);
    while (n > 0 && subj[n - 1] == ' ')
        subj[--n] = '\0';
    *subject = subj;
    return 0;
}

static int
render_text(struct render *r, const char *text, size_t len, char **subject, char **body)
{
    const char *end = text + len, *s = text, *e, *next;
    int line = 0;
    /* Comments may precede the Subject line. */
    for (;;) {
        if (next_line(s, end, &e, &next) == NULL)
            return fail(r, line, "the template has no 'Subject:' line", NULL);
        line++;
        if (!is_comment(s, e))
            break;
        s = next;
    }
    if (render_subject(r, line, s, e, subject) != 0)
        return -1;
    s = next;
    /* The blank line after the Subject is the documented form; a template
     * that omits it is still read the obvious way rather than refused. */
    if (next_line(s, end, &e, &next) != NULL && e == s) {
        line++;
        s = next;
    }
    /* The body is about as long as the text: one allocation, not a doubling per 128 bytes. */
    if (buf_reserve(&r->out, (size_t)(end - s) + 256) != 0)
        return fail(r, line, "out of memory", NULL);
    for (; next_line(s, end, &e, &next) != NULL; s = next) {
        line++;
        if (!is_comment(s, e) && render_line(r, line, s, e, 1) != 0)
            return -1;
    }
    if (check_closed(r, line) != 0)
        return -1;
    *body = take_output(r);
    if (*body == NULL)
        return fail(r, line, "out of memory", NULL);
    return 0;
}

/*
 * The whole file, NUL-terminated, as filecache.c keeps it (not to be freed);
 * NULL with err set when it cannot be read.
 */
static const char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    const char *text;

    if (filecache_read(path, &text, len) == 0)
        return text;
    if (errno == EFBIG || errno == ENOMEM)
        snprintf(err, errlen, "template %s: too large or out of memory", path);
    else
        snprintf(err, errlen, "template %s: %s", path, strerror(errno));
    return NULL;
}

/* ---- a text parsed once: its lines' literal pieces and tags ---- */

/*
 * A confirmation's text was parsed again for every mail (its lines found,
 * each tag's name read, the standalone section lines told apart): its
 * rendering took 14k instructions, 8.8k with the text kept parsed.  A text
 * that parses cleanly is kept parsed (TPL_SLOTS of them; a confirmation's
 * kept form, a 1 KiB copy, its pieces and 15 tags of 336 bytes, is about
 * 8 KiB); it is used only when the file's content, as filecache.c gives it
 * now, is byte for byte that copy, so an edited text is parsed again at its
 * first use, as before.  A text that does not parse is never kept: the
 * line-by-line path below renders it and reports its error, at its line,
 * exactly as before.  Rendering the parsed form calls the same apply_tag, in
 * the same order, so unset variables, sections and plural forms fail or
 * succeed alike.
 */
#define TPL_SLOTS 4

struct tpl_item {
    size_t lit, lit_len; /* literal text before the tag (offsets into the copy) */
    long tag;            /* its index in tags, -1: none (the line's last piece) */
};

struct tpl_line {
    int line;       /* its number in the file, for errors */
    int standalone; /* a section tag alone on its line: items[first]'s, no line end */
    int own_nl;     /* its "\n" is added apart (the literal does not end with the file's) */
    size_t first, n;
};

struct tpl {
    char *path, *text; /* the file and a copy of its content when parsed */
    size_t len;
    struct tpl_line subject; /* the Subject line's value */
    size_t reserve;          /* what render_text reserves for the body */
    int last_line;           /* the number of the file's last line */
    struct tpl_line *lines;
    size_t nlines;
    struct tpl_item *items;
    size_t nitems;
    struct tag *tags; /* apart from the items: most pieces have none, and a tag is 336 bytes */
    size_t ntags, cap_tags;
};

static struct tpl tpl_cache[TPL_SLOTS];
static size_t tpl_next; /* the slot a new text takes: the oldest */

static void
tpl_free(struct tpl *t)
{
    free(t->path);
    free(t->text);
    free(t->lines);
    free(t->items);
    free(t->tags);
    memset(t, 0, sizeof(*t));
}

static int
tpl_push_item(struct tpl *t, size_t *cap, size_t lit, size_t lit_len, const struct tag *tag)
{
    if (t->nitems == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct tpl_item *grown = realloc(t->items, ncap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        t->items = grown;
        *cap = ncap;
    }
    if (tag != NULL && t->ntags == t->cap_tags) {
        size_t ncap = t->cap_tags ? t->cap_tags * 2 : 16;
        struct tag *grown = realloc(t->tags, ncap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        t->tags = grown;
        t->cap_tags = ncap;
    }
    struct tpl_item *it = &t->items[t->nitems++];
    it->lit = lit;
    it->lit_len = lit_len;
    it->tag = -1;
    if (tag != NULL) {
        t->tags[t->ntags] = *tag;
        it->tag = (long)t->ntags++;
    }
    return 0;
}

/* Parse line [s, e) into items as render_line reads it; 0, or -1 when it does not parse. */
static int
tpl_parse_line(struct render *r, struct tpl *t, size_t *cap, int line, const char *s, const char *e,
               struct tpl_line *out)
{
    struct tag tag;
    memset(out, 0, sizeof(*out));
    out->line = line;
    out->first = t->nitems;
    int st = standalone_tag(r, line, s, e, &tag);
    if (st != 0) {
        out->standalone = 1;
        out->n = 1;
        return st < 0 ? -1 : tpl_push_item(t, cap, 0, 0, &tag);
    }
    for (;;) {
        const char *open = find_tag(s, e);
        const char *stop = open != NULL ? open : e;
        if (open != NULL && parse_tag(r, line, open, e, &tag) != 0)
            return -1;
        if (tpl_push_item(t, cap, (size_t)(s - t->text), (size_t)(stop - s),
                          open != NULL ? &tag : NULL) != 0)
            return -1;
        if (open == NULL)
            break;
        s = open + tag.len;
    }
    out->n = t->nitems - out->first;
    /* The file's own "\n" right after the line: appended with its last literal. */
    struct tpl_item *last = &t->items[t->nitems - 1];
    if (e < t->text + t->len && *e == '\n' && last->lit + last->lit_len == (size_t)(e - t->text))
        last->lit_len++;
    else
        out->own_nl = 1;
    return 0;
}

static int
tpl_add_line(struct tpl *t, size_t *cap_lines, const struct tpl_line *l)
{
    if (t->nlines == *cap_lines) {
        size_t ncap = *cap_lines ? *cap_lines * 2 : 32;
        struct tpl_line *grown = realloc(t->lines, ncap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        t->lines = grown;
        *cap_lines = ncap;
    }
    t->lines[t->nlines++] = *l;
    return 0;
}

/* Parse t->text (t->len bytes) as render_text reads it; 0, or -1 (any error: not kept). */
static int
tpl_parse(struct tpl *t)
{
    char scratch[512];
    struct render r = {.path = t->path, .err = scratch, .errlen = sizeof(scratch)};
    const char *end = t->text + t->len, *s = t->text, *e, *next;
    size_t cap_items = 0, cap_lines = 0;
    int line = 0;
    static const char prefix[] = "Subject:";

    for (;;) {
        if (next_line(s, end, &e, &next) == NULL)
            return -1;
        line++;
        if (!is_comment(s, e))
            break;
        s = next;
    }
    if ((size_t)(e - s) < sizeof(prefix) - 1 || strncasecmp(s, prefix, sizeof(prefix) - 1) != 0)
        return -1;
    s += sizeof(prefix) - 1;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    if (tpl_parse_line(&r, t, &cap_items, line, s, e, &t->subject) != 0)
        return -1;
    s = next;
    if (next_line(s, end, &e, &next) != NULL && e == s) {
        line++;
        s = next;
    }
    t->reserve = (size_t)(end - s) + 256;
    for (; next_line(s, end, &e, &next) != NULL; s = next) {
        struct tpl_line l;
        line++;
        if (!is_comment(s, e) && (tpl_parse_line(&r, t, &cap_items, line, s, e, &l) != 0 ||
                                  tpl_add_line(t, &cap_lines, &l) != 0))
            return -1;
    }
    t->last_line = line;
    return 0;
}

/* The parsed form of path's content text (len bytes), parsed now if not kept; NULL: it does not
 * parse. */
static const struct tpl *
tpl_get(const char *path, const char *text, size_t len)
{
    for (size_t i = 0; i < TPL_SLOTS; i++) {
        const struct tpl *t = &tpl_cache[i];
        if (t->path != NULL && t->len == len && strcmp(t->path, path) == 0 &&
            memcmp(t->text, text, len) == 0)
            return t;
    }
    struct tpl *t = &tpl_cache[tpl_next];
    tpl_free(t);
    t->path = strdup(path);
    t->text = malloc(len + 1);
    if (t->path == NULL || t->text == NULL) {
        tpl_free(t);
        return NULL;
    }
    memcpy(t->text, text, len + 1);
    t->len = len;
    if (tpl_parse(t) != 0) {
        tpl_free(t);
        return NULL;
    }
    tpl_next = (tpl_next + 1) % TPL_SLOTS;
    return t;
}

/* Render one parsed line as render_line does; newline: end it with "\n". */
static int
tpl_render_line(struct render *r, const struct tpl *t, const struct tpl_line *l, int newline)
{
    const struct tpl_item *it = &t->items[l->first];
    if (l->standalone)
        return apply_tag(r, l->line, &t->tags[it->tag]);
    for (size_t i = 0; i < l->n; i++, it++) {
        /* The last literal holds the line's "\n" unless own_nl: not wanted without newline. */
        size_t n = it->lit_len - (!newline && !l->own_nl && i + 1 == l->n);
        if (r->active && buf_add(&r->out, t->text + it->lit, n) != 0)
            return fail(r, l->line, "out of memory", NULL);
        if (it->tag >= 0 && apply_tag(r, l->line, &t->tags[it->tag]) != 0)
            return -1;
    }
    if (newline && l->own_nl && r->active && buf_add(&r->out, "\n", 1) != 0)
        return fail(r, l->line, "out of memory", NULL);
    return 0;
}

/* render_text over the parsed form. */
static int
tpl_render(struct render *r, const struct tpl *t, char **subject, char **body)
{
    int line = t->subject.line;
    if (tpl_render_line(r, t, &t->subject, 0) != 0 || check_closed(r, line) != 0 ||
        subject_finish(r, line, subject) != 0)
        return -1;
    if (buf_reserve(&r->out, t->reserve) != 0)
        return fail(r, line, "out of memory", NULL);
    for (size_t i = 0; i < t->nlines; i++)
        if (tpl_render_line(r, t, &t->lines[i], 1) != 0)
            return -1;
    if (check_closed(r, t->last_line) != 0)
        return -1;
    *body = take_output(r);
    if (*body == NULL)
        return fail(r, t->last_line, "out of memory", NULL);
    return 0;
}

/*
 * dir is a search path, "A:B": the first directory holding name.txt wins, so
 * a community's own folder overrides only the templates it has.  path gets
 * the file found, or the last candidate (for the error) when there is none.
 */
static int
template_find(const char *dir, const char *name, char *path, size_t len)
{
    const char *p = dir;

    size_t ln = strlen(name);

    for (;;) {
        size_t n = strcspn(p, ":");
        /* DIR/NAME.txt put together by hand, as lang_has_template does: one a mail. */
        if (n + ln + 6 > len)
            return -1;
        memcpy(path, p, n);
        path[n] = '/';
        memcpy(path + n + 1, name, ln);
        memcpy(path + n + 1 + ln, ".txt", 5);
        if (p[n] == '\0' || filecache_access(path, F_OK) == 0)
            return 0;
        p += n + 1;
    }
}

/* Render name in lang (may be NULL); any, when set, is the value of every variable (a check). */
static int
template_render_full(const char *dir, const char *name, const struct lang *lang,
                     const struct template_var *vars, size_t nvars, const char *any,
                     char **subject, char **body, char *err, size_t errlen)
{
    *subject = NULL;
    *body = NULL;
    if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL) {
        snprintf(err, errlen, "template name '%s' is not a plain file name",
                 name != NULL ? name : "");
        return -1;
    }
    char path[4096];
    if (template_find(dir, name, path, sizeof(path)) != 0) {
        snprintf(err, errlen, "template path too long for '%s'", name);
        return -1;
    }
    size_t len = 0;
    const char *text = read_file(path, &len, err, errlen);
    if (text == NULL)
        return -1;
    struct render r = {
        .path = path,
        .lang = lang,
        .vars = vars,
        .nvars = nvars,
        .any = any,
        .active = 1,
        .err = err,
        .errlen = errlen,
    };
    const struct tpl *t = tpl_get(path, text, len);
    int rc =
        t != NULL ? tpl_render(&r, t, subject, body) : render_text(&r, text, len, subject, body);
    free(r.out.data);
    if (rc != 0) {
        free(*subject);
        *subject = NULL;
        free(*body);
        *body = NULL;
    }
    return rc;
}

int
template_render_lang(const char *dir, const char *name, const struct lang *lang,
                     const struct template_var *vars, size_t nvars, char **subject, char **body,
                     char *err, size_t errlen)
{
    return template_render_full(dir, name, lang, vars, nvars, NULL, subject, body, err, errlen);
}

int
template_render(const char *dir, const char *name, const struct template_var *vars, size_t nvars,
                char **subject, char **body, char *err, size_t errlen)
{
    return template_render_full(dir, name, NULL, vars, nvars, NULL, subject, body, err, errlen);
}

int
template_check(const char *dir, const char *name, char *err, size_t errlen)
{
    char *subject = NULL, *body = NULL;
    int rc = template_render_full(dir, name, NULL, NULL, 0, "x", &subject, &body, err, errlen);

    free(subject);
    free(body);
    return rc;
}
