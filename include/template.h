/*
 * template: the text of every mail a person receives, from files in the
 * templates directory.
 *
 * A template file starts with "Subject: ...", a blank line, then the body.
 * {{name}} is replaced by a variable's value; a name with no value is an
 * error (a template must never go out with a hole in it).  {{#name}}...{{/name}}
 * keeps its content only when name is set and non-empty; {{^name}}...{{/name}}
 * only when it is not.  Lines starting with "##" are comments.
 * {{n|day|days}} writes the number n and the form of the word that the
 * language's plural rule takes for it ("1 day", "3 days"); {{d|date}} writes
 * a "YYYY-MM-DD" or "YYYY-MM-DD HH:MM" value in the language's own words.
 */
#ifndef MENTORD_TEMPLATE_H
#define MENTORD_TEMPLATE_H

#include <stddef.h>

struct lang;

struct template_var {
    const char *name;
    const char *value; /* UTF-8; NULL means unset */
};

/*
 * Render name.txt from dir, a directory or a search path "A:B" (the first
 * directory holding the file wins: a community overrides single templates).  On success *subject
 * and *body are malloc'd UTF-8 (body lines end in \n) and 0 is returned; -1 with err set otherwise.
 */
int template_render(const char *dir, const char *name, const struct template_var *vars,
                    size_t nvars, char **subject, char **body, char *err, size_t errlen);

/*
 * Render name once with every variable set (sections open), as a check that
 * the file is found, readable and well-formed: 0, or -1 with err set.
 */
int template_check(const char *dir, const char *name, char *err, size_t errlen);

/* The same in a language: its plural rule and its way of writing dates (lang may be NULL). */
int template_render_lang(const char *dir, const char *name, const struct lang *lang,
                         const struct template_var *vars, size_t nvars, char **subject, char **body,
                         char *err, size_t errlen);

#endif
