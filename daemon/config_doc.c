/*
 * config_doc: the sample configuration (etc/mentord.ini) and the manual
 * page mentord.ini(5), both written from the key table in config_keys.c.
 *
 * The committed files are this code's output (`make config-docs`), and
 * test_config fails when they differ, so the documentation cannot drift
 * from the keys the loader accepts.  The output depends on nothing but the
 * table: no date, no build path.
 */
#include "config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 78
#define DAY (24 * 60 * 60)
/* The manual page's date: change it when the page's content changes. */
#define MAN_DATE "2026-12-07"

/* ---- the sample file ---- */

static const char ini_preamble[] =
    "; mentord configuration\n"
    ";\n"
    "; Format: [section] headers and \"key = value\" lines.  Lines starting with ';'\n"
    "; or '#' are comments; \" ;\" after a value starts a comment too.  Do not indent\n"
    "; keys: an indented line would be read as the continuation of the value above.\n"
    "; A key may appear only once per section (a second one is an error).\n"
    "; Values are taken literally: do not put them in quotes.\n"
    ";\n"
    "; Booleans: yes/no, true/false, on/off, 1/0.\n"
    "; Durations: seconds, or a number with a suffix s, m, h, d or w (\"90s\", \"10m\", \"5d\", "
    "\"12w\").\n"
    "; Keys shown commented out are optional and show their default.\n"
    "; Check this file with: mentorctl check-config\n"
    "; Every key is described in mentord.ini(5).  This file is generated from\n"
    "; daemon/config_keys.c by `make config-docs`.\n";

/* Write text as "; " comment lines of at most WIDTH columns; "\n" in text forces a break. */
static void
wrap_comment(FILE *out, const char *text)
{
    const size_t avail = WIDTH - 2;

    while (*text != '\0') {
        size_t para = strcspn(text, "\n");
        const char *end = text + para;

        while (text < end) {
            size_t len = (size_t)(end - text), cut = len;

            if (len > avail) {
                cut = avail;
                while (cut > 0 && text[cut] != ' ')
                    cut--;
                if (cut == 0) /* one word longer than the line: break after it */
                    cut = strcspn(text, " ") < len ? strcspn(text, " ") : len;
            }
            size_t shown = cut;
            while (shown > 0 && text[shown - 1] == ' ')
                shown--;
            fprintf(out, "; %.*s\n", (int)shown, text);
            text += cut;
            while (text < end && *text == ' ')
                text++;
        }
        text = *end == '\n' ? end + 1 : end;
    }
}

/* The key's doc, then "Required." or its default in words when the value line cannot show it. */
static void
key_comment(FILE *out, const struct config_key *k, const char *value)
{
    char *text = NULL;
    int n;

    if (k->flags & CKF_REQUIRED)
        n = asprintf(&text, "%s  Required.", k->doc);
    else if (k->defdoc != NULL && (value == NULL || strcmp(k->defdoc, value) != 0))
        n = asprintf(&text, "%s  Default: %s.", k->doc, k->defdoc);
    else
        n = asprintf(&text, "%s", k->doc);
    wrap_comment(out, n < 0 ? k->doc : text);
    free(text);
}

void
config_doc_ini(FILE *out)
{
    const char *section = NULL;

    fputs(ini_preamble, out);
    for (size_t i = 0; i < config_keys_count; i++) {
        const struct config_key *k = &config_keys[i];
        const char *value = k->example != NULL ? k->example : k->def;

        if (section == NULL || strcmp(section, k->section) != 0) {
            fprintf(out, "\n[%s]\n", k->section);
            section = k->section;
        }
        key_comment(out, k, value);
        if (k->flags & (CKF_REQUIRED | CKF_SHOWN))
            fprintf(out, "%s = %s\n", k->name, value != NULL ? value : "");
        else
            fprintf(out, ";%s = %s\n", k->name, value != NULL ? value : "");
    }
}

/* ---- the manual page ---- */

/* Text for a roff text line: backslashes escaped, a leading '.' or '\'' defused. */
static void
man_text(FILE *out, const char *s, size_t len)
{
    if (len > 0 && (s[0] == '.' || s[0] == '\''))
        fputs("\\&", out);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\')
            fputs("\\e", out);
        else if (s[i] == '-')
            fputs("\\-", out);
        else
            fputc(s[i], out);
    }
}

/* Text as roff text lines of at most WIDTH columns, broken between words. */
static void
man_lines(FILE *out, const char *s, size_t len)
{
    while (len > 0) {
        size_t cut = len;

        if (len > WIDTH) {
            cut = WIDTH;
            while (cut > 0 && s[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = len;
        }
        man_text(out, s, cut);
        fputc('\n', out);
        while (cut < len && s[cut] == ' ')
            cut++;
        s += cut;
        len -= cut;
    }
}

/* The doc as text lines, "\n" as a line break, one sentence per line as roff prefers. */
static void
man_doc(FILE *out, const char *text)
{
    while (*text != '\0') {
        size_t len = strcspn(text, "\n");
        const char *end = text + len;

        while (text < end) {
            const char *stop = strstr(text, ".  ");
            size_t n =
                stop != NULL && stop < end ? (size_t)(stop - text) + 1 : (size_t)(end - text);

            man_lines(out, text, n);
            text += n;
            while (text < end && *text == ' ')
                text++;
        }
        if (*end == '\n') {
            fputs(".br\n", out);
            end++;
        }
        text = end;
    }
}

/* Seconds in the largest unit that divides them ("3d"), as a file would say it. */
static void
man_duration(FILE *out, int secs)
{
    static const struct {
        int n;
        char unit;
    } units[] = {{7 * DAY, 'w'}, {DAY, 'd'}, {3600, 'h'}, {60, 'm'}};

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (secs != 0 && secs % units[i].n == 0) {
            fprintf(out, "%d%c", secs / units[i].n, units[i].unit);
            return;
        }
    }
    fprintf(out, "%ds", secs);
}

static void
man_size(FILE *out, int bytes)
{
    if (bytes % (1 << 30) == 0)
        fprintf(out, "%dG", bytes >> 30);
    else if (bytes % (1 << 20) == 0)
        fprintf(out, "%dM", bytes >> 20);
    else if (bytes % 1024 == 0)
        fprintf(out, "%dk", bytes >> 10);
    else
        fprintf(out, "%d", bytes);
}

static const char *
type_word(enum config_key_type t)
{
    switch (t) {
    case CK_STR:
        return "text";
    case CK_ADDR:
        return "address";
    case CK_ADDRLIST:
        return "addresses";
    case CK_HOST:
        return "host";
    case CK_BOOL:
        return "yes|no";
    case CK_INT:
        return "number";
    case CK_DURATION:
        return "duration";
    case CK_SIZE:
        return "size";
    case CK_REAL:
        return "decimal";
    case CK_CHOICE:
        return "word";
    case CK_SECURITY:
        return "tls|starttls|none";
    case CK_LEVEL:
        return "error|warn|info|debug";
    case CK_AUTH:
        return "password|xoauth2|oauthbearer";
    case CK_READABLE:
        break;
    }
    return "file";
}

/* "From 1 to 65535." and the like, for the keys with a range. */
static void
man_range(FILE *out, const struct config_key *k)
{
    switch (k->type) {
    case CK_INT:
    case CK_REAL:
        fprintf(out, "From %d to %d.\n", k->min, k->max);
        return;
    case CK_DURATION:
        fputs("From ", out);
        man_duration(out, k->min);
        fputs(" to ", out);
        man_duration(out, k->max);
        fputs(".\n", out);
        return;
    case CK_SIZE:
        fputs("From ", out);
        man_size(out, k->min);
        fputs(" to ", out);
        man_size(out, k->max);
        fputs(" bytes.\n", out);
        return;
    case CK_CHOICE:
        fputs("One of: ", out);
        for (const char *p = k->choices; *p;) {
            size_t len = strcspn(p, "|");
            fprintf(out, "%s\\fB%.*s\\fR", p == k->choices ? "" : ", ", (int)len, p);
            p += len + (p[len] == '|');
        }
        fputs(".\n", out);
        return;
    default:
        return;
    }
}

static void
man_key(FILE *out, const struct config_key *k)
{
    const char *type = k->type == CK_CHOICE ? NULL : type_word(k->type);

    fputs(".TP\n", out);
    fprintf(out, "\\fB%s\\fR = \\fI", k->name);
    man_text(out, type != NULL ? type : k->choices, strlen(type != NULL ? type : k->choices));
    fputs("\\fR\n", out);
    man_doc(out, k->doc);
    man_range(out, k);
    if (k->flags & CKF_REQUIRED) {
        fputs("Required.\n", out);
    } else if (k->defdoc != NULL || k->def != NULL) {
        const char *d = k->defdoc != NULL ? k->defdoc : k->def;

        fputs("Default: ", out);
        if (k->defdoc == NULL)
            fputs("\\fB", out);
        man_text(out, d, strlen(d));
        fputs(k->defdoc == NULL ? "\\fR.\n" : ".\n", out);
    }
}

static const char man_head[] =
    ".\\\" Generated from daemon/config_keys.c by `make config-docs`; do not edit.\n"
    ".TH MENTORD.INI 5 \"" MAN_DATE "\" \"mentord 0.1.0\" \"File Formats Manual\"\n"
    ".SH NAME\n"
    "mentord.ini \\- configuration file of mentord and mentorctl\n"
    ".SH SYNOPSIS\n"
    ".I /etc/mentord/mentord.ini\n"
    ".SH DESCRIPTION\n"
    ".B mentord\n"
    "and\n"
    ".B mentorctl\n"
    "read an INI file of\n"
    ".B [section]\n"
    "headers and\n"
    ".B key = value\n"
    "lines.\n"
    "Lines starting with\n"
    ".B ;\n"
    "or\n"
    ".B #\n"
    "are comments, and so is the rest of a line after\n"
    ".BR \" ;\" .\n"
    "Keys must not be indented: an indented line would continue the value above,\n"
    "and is refused.\n"
    "A key may appear only once per section, an unknown section or key is an\n"
    "error, and values are taken literally (no quotes).\n"
    "Every error names the file and line.\n"
    ".PP\n"
    "Values:\n"
    ".I yes|no\n"
    "also accepts true/false, on/off and 1/0;\n"
    "a\n"
    ".I duration\n"
    "is seconds or a number with a suffix s, m, h, d or w\n"
    "(\"90s\", \"10m\", \"5d\", \"12w\");\n"
    "a\n"
    ".I size\n"
    "is bytes or a number with a suffix k, M or G (powers of 1024);\n"
    "an\n"
    ".I address\n"
    "is an addr-spec such as mentors@example.org.\n"
    ".PP\n"
    "The effective configuration, defaults included, is printed by\n"
    ".B mentord \\-\\-check\\-config\n"
    "and\n"
    ".BR \"mentorctl check\\-config\" ,\n"
    "with passwords masked.\n"
    "The installed sample file shows every key with its default.\n";

static const char man_tail[] = ".SH FILES\n"
                               ".TP\n"
                               ".I /etc/mentord/mentord.ini\n"
                               "the configuration read by default\n"
                               ".SH SEE ALSO\n"
                               ".BR mentord (8),\n"
                               ".BR mentorctl (1)\n";

void
config_doc_man(FILE *out)
{
    const char *section = NULL;

    fputs(man_head, out);
    for (size_t i = 0; i < config_keys_count; i++) {
        const struct config_key *k = &config_keys[i];

        if (section == NULL || strcmp(section, k->section) != 0) {
            section = k->section;
            if (i == 0)
                fputs(".SH SECTIONS AND KEYS\n", out);
            fprintf(out, ".SS [%s]\n", section);
            for (size_t s = 0; s < config_keys_sections_count; s++)
                if (strcmp(config_keys_sections[s].name, section) == 0)
                    man_doc(out, config_keys_sections[s].doc);
        }
        man_key(out, k);
    }
    fputs(man_tail, out);
}
