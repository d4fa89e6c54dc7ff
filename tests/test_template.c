#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "command.h"
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
        cmocka_unit_test_setup_teardown(test_search_path_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_structure_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crlf_template_and_shipped_templates, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
