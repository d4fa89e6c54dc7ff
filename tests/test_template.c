#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "command.h"
#include "filecache.h"
#include "template.h"
#include "testutil.h"

struct fixture {
    char dir[256];
    char *subject;
    char *body;
    char err[512];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL || tu_mkdtemp(f->dir, sizeof(f->dir), "tpl") != 0)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    tu_rmrf(f->dir);
    free(f->subject);
    free(f->body);
    free(f);
    return 0;
}

static int
render(struct fixture *f, const char *text, const struct template_var *vars, size_t n)
{
    assert_int_equal(tu_write_file(f->dir, "t.txt", text), 0);
    free(f->subject);
    free(f->body);
    f->subject = f->body = NULL;
    f->err[0] = '\0';
    return template_render(f->dir, "t", vars, n, &f->subject, &f->body, f->err, sizeof(f->err));
}

static void
test_variables(void **state)
{
    struct fixture *f = *state;
    struct template_var v[] = {{"name", "Ana"}, {"community_name", "Example"}};
    assert_int_equal(render(f,
                            "Subject: Hi {{name}} from {{ community_name }}\n\n"
                            "Dear {{name}},\nwelcome to {{community_name}}.\n",
                            v, 2),
                     0);
    assert_string_equal(f->subject, "Hi Ana from Example");
    assert_string_equal(f->body, "Dear Ana,\nwelcome to Example.\n");
}

static void
test_sections(void **state)
{
    struct fixture *f = *state;
    const char *tpl = "Subject: S\n\n"
                      "Hello{{#to_name}} {{to_name}}{{/to_name}},\n"
                      "{{#extra}}\n"
                      "Extra: {{extra}}\n"
                      "{{/extra}}\n"
                      "  {{^extra}}  \n"
                      "No extra.\n"
                      "{{/extra}}\n"
                      "End\n";
    struct template_var set[] = {{"to_name", "Bo"}, {"extra", "yes"}};
    assert_int_equal(render(f, tpl, set, 2), 0);
    assert_string_equal(f->body, "Hello Bo,\nExtra: yes\nEnd\n");

    /* Unset and empty both count as "not set"; the variable inside the skipped
     * section need not exist. */
    struct template_var unset[] = {{"to_name", ""}, {"extra", NULL}};
    assert_int_equal(render(f, tpl, unset, 2), 0);
    assert_string_equal(f->body, "Hello,\nNo extra.\nEnd\n");
}

static void
test_nested_sections(void **state)
{
    struct fixture *f = *state;
    struct template_var v[] = {{"a", "1"}, {"b", NULL}};
    assert_int_equal(
        render(f, "Subject: S\n\n{{#a}}A{{^b}}-notb{{/b}}{{#b}}-b{{/b}}{{/a}}.\n", v, 2), 0);
    assert_string_equal(f->body, "A-notb.\n");
}

static void
test_comments(void **state)
{
    struct fixture *f = *state;
    struct template_var v[] = {{"x", "X"}};
    assert_int_equal(render(f,
                            "## leading comment {{nope}}\nSubject: S {{x}}\n\n"
                            "one\n## a comment with {{undefined}}\ntwo\n",
                            v, 1),
                     0);
    assert_string_equal(f->subject, "S X");
    assert_string_equal(f->body, "one\ntwo\n");
}

static void
test_unset_variable_error(void **state)
{
    struct fixture *f = *state;
    struct template_var v[] = {{"known", "k"}, {"nullvar", NULL}};
    assert_int_equal(render(f, "Subject: S\n\nline {{known}}\nsecond {{missing}}\n", v, 2), -1);
    assert_null(f->subject);
    assert_null(f->body);
    assert_non_null(strstr(f->err, "/t.txt:4:"));
    assert_non_null(strstr(f->err, "missing"));

    assert_int_equal(render(f, "Subject: S {{nullvar}}\n\nbody\n", v, 2), -1);
    assert_non_null(strstr(f->err, "t.txt:1:"));
    assert_non_null(strstr(f->err, "nullvar"));
}

static void
test_literal_insertion(void **state)
{
    struct fixture *f = *state;
    struct template_var v[] = {{"text", "I wrote {{secret}} and {{#x}}"}, {"secret", "LEAK"}};
    assert_int_equal(render(f, "Subject: {{text}}\n\nYou said: {{text}}\n", v, 2), 0);
    assert_string_equal(f->body, "You said: I wrote {{secret}} and {{#x}}\n");
    assert_null(strstr(f->body, "LEAK"));
    assert_string_equal(f->subject, "I wrote {{secret}} and {{#x}}");
}

static void
test_subject_value_newline_flattened(void **state)
{
    struct fixture *f = *state;
    struct template_var v[] = {{"s", "a\r\nBcc: x@example.org"}};
    assert_int_equal(render(f, "Subject: {{s}}\n\nbody\n", v, 1), 0);
    assert_null(strchr(f->subject, '\n'));
    assert_null(strchr(f->subject, '\r'));
    assert_string_equal(f->body, "body\n");
}

static void
test_missing_file(void **state)
{
    struct fixture *f = *state;
    char *s = NULL, *b = NULL;
    assert_int_equal(template_render(f->dir, "nosuch", NULL, 0, &s, &b, f->err, sizeof(f->err)),
                     -1);
    assert_null(s);
    assert_null(b);
    assert_non_null(strstr(f->err, f->dir));
    assert_non_null(strstr(f->err, "nosuch.txt"));
}

/* ---- the file cache (filecache.h): a change is seen at the next use ---- */

/* t.txt written an hour ago, as an installed text is: the cache keeps it and only stats it. */
static void
write_settled(struct fixture *f, const char *text, time_t mtime)
{
    char path[300];
    struct timespec times[2] = {{mtime, 0}, {mtime, 0}};

    assert_int_equal(tu_write_file(f->dir, "t.txt", text), 0);
    snprintf(path, sizeof(path), "%s/t.txt", f->dir);
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static int
render_again(struct fixture *f)
{
    free(f->subject);
    free(f->body);
    f->subject = f->body = NULL;
    f->err[0] = '\0';
    return template_render(f->dir, "t", NULL, 0, &f->subject, &f->body, f->err, sizeof(f->err));
}

/* An edit that keeps the size, and even the modification time, is still seen. */
static void
test_cache_sees_every_edit(void **state)
{
    struct fixture *f = *state;
    time_t old = time(NULL) - 3600;

    assert_int_equal(render(f, "Subject: S\n\none\n", NULL, 0), 0);
    assert_int_equal(render(f, "Subject: S\n\ntwo\n", NULL, 0), 0); /* the same size, at once */
    assert_string_equal(f->body, "two\n");
    write_settled(f, "Subject: S\n\nsix\n", old);
    assert_int_equal(render_again(f), 0);
    assert_string_equal(f->body, "six\n");
    assert_int_equal(render_again(f), 0); /* from the cache */
    assert_string_equal(f->body, "six\n");
    write_settled(f, "Subject: S\n\nten\n", old); /* same size, same mtime: the ctime moved */
    assert_int_equal(render_again(f), 0);
    assert_string_equal(f->body, "ten\n");
}

/*
 * A text removed or broken after it was cached fails at its next use, as
 * if nothing were cached: the mail that needs it stays in the inbox.
 */
static void
test_cache_removed_or_broken_after_use(void **state)
{
    struct fixture *f = *state;
    char path[300];

    write_settled(f, "Subject: S\n\nbody\n", time(NULL) - 3600);
    assert_int_equal(render_again(f), 0);
    snprintf(path, sizeof(path), "%s/t.txt", f->dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(render_again(f), -1);
    assert_non_null(strstr(f->err, "t.txt"));
    assert_null(f->body);
    write_settled(f, "Subject: S\n\nbody {{#open}}\n", time(NULL) - 3600);
    assert_int_equal(render_again(f), -1);
    assert_non_null(strstr(f->err, "section not closed"));
    assert_int_equal(chmod(path, 0), 0);
    if (geteuid() != 0) { /* root reads anything */
        assert_int_equal(render_again(f), -1);
        assert_non_null(strstr(f->err, "Permission denied"));
    }
}

/*
 * A text is parsed once and kept (template.c): rendered again with other
 * values it takes the new ones; more texts than are kept, in turn, still
 * render right; a text that does not parse is rendered line by line, so an
 * unset variable before a malformed tag is still the error reported.
 */
static void
test_parsed_text_reused(void **state)
{
    struct fixture *f = *state;
    const char *text = "## c\nSubject: {{#a}}A={{a}}{{/a}} {{n|one|many}}\n\n"
                       "x {{a}} y\n  {{#b}}  \n{{b}}\n{{/b}}\nend{{a}}";
    struct template_var v1[] = {{"a", "1"}, {"b", "B"}, {"n", "1"}};
    struct template_var v2[] = {{"a", ""}, {"b", NULL}, {"n", "2"}};

    assert_int_equal(render(f, text, v1, 3), 0);
    assert_string_equal(f->subject, "A=1 1 one");
    assert_string_equal(f->body, "x 1 y\nB\nend1\n");
    free(f->subject);
    free(f->body);
    assert_int_equal(
        template_render(f->dir, "t", v2, 3, &f->subject, &f->body, f->err, sizeof(f->err)), 0);
    assert_string_equal(f->subject, " 2 many"); /* the section's value was empty */
    assert_string_equal(f->body, "x  y\nend\n");
    for (int i = 0; i < 6; i++) { /* more names than texts kept, twice over */
        char name[16], file[24], path[300];
        snprintf(name, sizeof(name), "t%d", i % 3 + (i >= 3) * 3);
        snprintf(file, sizeof(file), "%s.txt", name);
        snprintf(path, sizeof(path), "Subject: S%d\n\nbody {{a}}\n", i);
        assert_int_equal(tu_write_file(f->dir, file, path), 0);
        free(f->subject);
        free(f->body);
        assert_int_equal(
            template_render(f->dir, name, v1, 3, &f->subject, &f->body, f->err, sizeof(f->err)), 0);
        snprintf(path, sizeof(path), "S%d", i);
        assert_string_equal(f->subject, path);
        assert_string_equal(f->body, "body 1\n");
    }
    assert_int_equal(render(f, "Subject: S\n\n{{gone}}\n{{bad tag\n", v1, 3), -1);
    assert_non_null(strstr(f->err, "t.txt:3: unset variable 'gone'"));
    assert_int_equal(render(f, "Subject: S\n\n{{a}}\n{{bad tag\n", v1, 3), -1);
    assert_non_null(strstr(f->err, "t.txt:4: unterminated or malformed tag"));
}

/* While one mail is handled (filecache_hold) a text is looked at once; the next mail sees the edit. */
static void
test_cache_hold_one_mail(void **state)
{
    struct fixture *f = *state;

    filecache_hold(1);
    assert_int_equal(render(f, "Subject: S\n\nold\n", NULL, 0), 0);
    assert_int_equal(render(f, "Subject: S\n\nnew\n", NULL, 0), 0);
    assert_string_equal(f->body, "old\n");
    filecache_hold(0);
    assert_int_equal(render_again(f), 0);
    assert_string_equal(f->body, "new\n");
}

/* Holds nest (a batch of the inbox around each mail's own): the outermost decides when an edit is seen. */
static void
test_cache_hold_nested(void **state)
{
    struct fixture *f = *state;

    filecache_hold(1);
    filecache_hold(1);
    assert_int_equal(render(f, "Subject: S\n\nold\n", NULL, 0), 0);
    filecache_hold(0);
    filecache_hold(1);
    assert_int_equal(render(f, "Subject: S\n\nnew\n", NULL, 0), 0);
    assert_string_equal(f->body, "old\n");
    filecache_hold(0);
    assert_int_equal(render_again(f), 0);
    assert_string_equal(f->body, "old\n");
    filecache_hold(0);
    assert_int_equal(render_again(f), 0);
    assert_string_equal(f->body, "new\n");
}

/* A community's own folder first in the search path overrides just the templates it has. */
static void
test_search_path_override(void **state)
{
    struct fixture *f = *state;
    char own[300], path[700], *s = NULL, *b = NULL;

    snprintf(own, sizeof(own), "%s/own", f->dir);
    assert_int_equal(mkdir(own, 0755), 0);
    assert_int_equal(tu_write_file(own, "help.txt", "Subject: Our own help\n\nAsk Ana.\n"), 0);
    snprintf(path, sizeof(path), "%s:%s", own, MENTORD_SRCDIR "/templates/en");
    struct template_var v[] = {{"community_name", "C"},
                               {"community_address", "c@x.org"},
                               {"to_name", NULL},
                               {"not_understood", NULL}};
    assert_int_equal(template_render(path, "help", v, 4, &s, &b, f->err, sizeof(f->err)), 0);
    assert_string_equal(s, "Our own help");
    assert_string_equal(b, "Ask Ana.\n");
    free(s);
    free(b);
    /* a template the community did not copy comes from the installed folder */
    struct template_var r[] = {{"community_name", "C"},
                               {"community_address", "c@x.org"},
                               {"to_name", NULL},
                               {"role", "mentor"}};
    assert_int_equal(template_render(path, "already", r, 4, &s, &b, f->err, sizeof(f->err)), 0);
    assert_non_null(strstr(s, "already part of C"));
    free(s);
    free(b);
    assert_int_equal(template_render(path, "nosuch", r, 4, &s, &b, f->err, sizeof(f->err)), -1);
    assert_non_null(strstr(f->err, "nosuch.txt"));
}

static void
test_structure_errors(void **state)
{
    struct fixture *f = *state;
    struct template_var v[] = {{"a", "1"}};
    assert_int_equal(render(f, "Hello\n\nbody\n", v, 1), -1);
    assert_non_null(strstr(f->err, "Subject"));
    assert_int_equal(render(f, "Subject: S\n\n{{#a}}\nnever closed\n", v, 1), -1);
    assert_non_null(strstr(f->err, "not closed"));
    assert_int_equal(render(f, "Subject: S\n\n{{#a}}x{{/b}}\n", v, 1), -1);
    assert_non_null(strstr(f->err, "t.txt:3:"));
    assert_int_equal(render(f, "Subject: S\n\nbroken {{a\n", v, 1), -1);
    assert_non_null(strstr(f->err, "t.txt:3:"));
    assert_int_equal(render(f, "Subject: S\n\nbad {{/a}}\n", v, 1), -1);
    assert_non_null(strstr(f->err, "t.txt:3:"));
    /* Without the blank line the body simply starts on the next line. */
    assert_int_equal(render(f, "Subject: S\nbody {{a}}\n", v, 1), 0);
    assert_string_equal(f->body, "body 1\n");
}

static void
test_crlf_template_and_shipped_templates(void **state)
{
    struct fixture *f = *state;
    struct template_var v[] = {{"n", "N"}};
    assert_int_equal(render(f, "Subject: S {{n}}\r\n\r\nline {{n}}\r\nlast", v, 1), 0);
    assert_string_equal(f->subject, "S N");
    assert_string_equal(f->body, "line N\nlast\n");

    /* The shipped help template renders with the documented variables. */
    char *commands = command_help_list(NULL);
    assert_non_null(commands);
    struct template_var hv[] = {{"to_name", "Ana"},
                                {"community_name", "Example"},
                                {"community_address", "mentors@example.org"},
                                {"not_understood", "1"},
                                {"commands", commands}};
    char *s = NULL, *b = NULL;
    assert_int_equal(template_render(MENTORD_SRCDIR "/templates/en", "help", hv, 5, &s, &b, f->err,
                                     sizeof(f->err)),
                     0);
    assert_string_equal(s, "How Example mentoring works");
    assert_true(strncmp(b, "Hello Ana,\n\nWe read your message", 32) == 0);
    assert_null(strstr(b, "{{"));
    assert_non_null(strstr(b, "PAUSE [N weeks]"));
    free(commands);
    free(s);
    free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_variables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unset_variable_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literal_insertion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subject_value_newline_flattened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_sees_every_edit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parsed_text_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_removed_or_broken_after_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_hold_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_hold_one_mail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_path_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_structure_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crlf_template_and_shipped_templates, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
