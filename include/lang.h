/*
 * lang: the languages mentord writes and recognises, from data files.
 *
 * Each language is a folder of the templates directory named by its code
 * ("es"), holding the mail texts (NAME.txt) and a file "language.data" with
 * the language's own words: its names, plural rule, day and month names, the
 * form of a date, the phrases of "please write to me in ..." and its most
 * common words (stop words) by which a text is recognised.  A language may
 * ship only its data (it is then recognised, and written in the community's
 * default language).  Nothing here depends on the process locale.
 *
 * The directory may be a search path "A:B" as for templates: a community's
 * own folder adds languages or overrides single texts per language.
 */
#ifndef MENTORD_LANG_H
#define MENTORD_LANG_H

#include <stdarg.h>
#include <stddef.h>

#define LANG_CODE_MAX 16

struct lang;

/*
 * The data of language code (e.g. "es"; "es-ES" finds "es") from the first
 * folder of dirs that has dirs/CODE/language.data; NULL when unknown.  Read
 * once and kept for the life of the process.
 */
const struct lang *lang_get(const char *dirs, const char *code);

const char *lang_native_name(const struct lang *l); /* "español" */

/* 1 when some folder of dirs holds templates (help.txt) for code. */
int lang_has_templates(const char *dirs, const char *code);
/* 1 when some folder of dirs holds CODE/name.txt. */
int lang_has_template(const char *dirs, const char *code, const char *name);

/*
 * A language's name in any shipped language, or its code, as a person writes
 * it ("Spanish", "español", "Spanisch", "es", "pt-BR") to the code; 0 and
 * code set, or -1 when no language goes by that name.
 */
int lang_from_name(const char *dirs, const char *name, char code[LANG_CODE_MAX]);

/*
 * The language text is written in, by its most common words; 0 with code
 * set, or -1 when the text is too short or too mixed to tell.
 */
int lang_detect(const char *dirs, const char *text, char code[LANG_CODE_MAX]);

/*
 * "please write to me in Spanish", "escríbeme en alemán", "bitte auf
 * Deutsch": 0 with code set when text asks for a language, else -1.
 */
int lang_requested(const char *dirs, const char *text, char code[LANG_CODE_MAX]);

/*
 * A short phrase of the language, from a "phrase.KEY: text" line, for the
 * few lines mentord builds itself (a member's list of pairings); NULL when
 * the language has no such phrase.
 */
const char *lang_phrase(const struct lang *l, const char *key);

/*
 * The phrase key of l (english when l lacks it) with each "{name}" replaced
 * by its value: the arguments are pairs of const char * name and value,
 * ending with NULL.  malloc'd; NULL when out of memory.
 */
char *lang_phrase_fill(const struct lang *l, const char *key, const char *english, ...);
/* The same with the pairs in a va_list (a caller's own "..."). */
char *lang_phrase_vfill(const struct lang *l, const char *key, const char *english, va_list args);
/* lang_phrase_fill into buf (len bytes, cut to fit): 0, or -1 when memory runs out. */
int lang_phrase_into(char *buf, size_t len, const struct lang *l, const char *key,
                     const char *english, ...);

/*
 * A number written with '.' ("3.5") in the language's way ("3,5": the sign of
 * "phrase.digest_decimal"); a number without '.' is copied.
 */
void lang_decimal(const struct lang *l, const char *number, char *out, size_t len);
/*
 * A size of mail as a reader sees it: "850 KB" below a megabyte, else
 * "23.4 MB" with the language's decimal sign and units ("23,4 Mo").
 */
void lang_format_size(const struct lang *l, size_t bytes, char *out, size_t len);

/* Index of the plural form for n: 0 for "one", 1 for "other" (languages' own rules). */
int lang_plural(const struct lang *l, long n);

/*
 * A date given as "YYYY-MM-DD" or "YYYY-MM-DD HH:MM" (already in the
 * reader's time zone) written the language's way ("viernes 15 de enero de
 * 2027").  0, or -1 when iso is not such a date (out is then a copy of iso).
 */
int lang_format_date(const struct lang *l, const char *iso, char *out, size_t len);
/*
 * The same in a form of the caller's ("{day2} {month3}" for a chart's axis):
 * {weekday} {month} {day} {year} {hour} {hour2} {minute} as in language.data,
 * and {weekday3} {month3} (the first three letters of the name), {day2}
 * {month2} (two digits).  form NULL: the language's own.
 */
int lang_format_date_as(const struct lang *l, const char *iso, const char *form, char *out,
                        size_t len);

/*
 * How a person is addressed in a greeting: the first part of the name they
 * gave ("Dániel" of "Dániel Ørsted-Ñúñez", "Ana" of "Ferreira, Ana").  out is
 * "" when name is empty or looks like an address.
 */
void lang_address_name(const char *name, char *out, size_t len);

/*
 * The template search path for code: each folder of dirs in code, then in
 * fallback (the community's default), then the folders themselves (a flat
 * folder of texts in the default language, as before languages).
 */
int lang_template_path(const char *dirs, const char *code, const char *fallback, char *out,
                       size_t len);

#endif
