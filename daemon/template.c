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
    int rc = render_text(&r, text, len, subject, body);
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
