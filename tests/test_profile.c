/* Unit tests for profile: keys in several languages, value forms, problems, round trip, offsets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

/* Parse text that must succeed. */
static struct profile
parse(const char *text)
{
    struct profile p;
    memset(&p, 0x5a, sizeof p); /* garbage: profile_parse must set every field */
    assert_int_equal(profile_parse(text, &p), 0);
    return p;
}

/* Assert list equals the expected items given as one "a|b|c" string. */
static void
assert_list(char **items, size_t n, const char *want)
{
    char buf[2048] = "";
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(buf, "|");
        strcat(buf, items[i]);
    }
    assert_string_equal(buf, want);
}

static void
assert_skills(const char *text, const char *want)
{
    struct profile p = parse(text);
    assert_list(p.skills, p.n_skills, want);
    profile_free(&p);
}

/* The time zone a "Time zone: value" line gives, or "" when it was a problem. */
static void
assert_zone(const char *value, const char *want)
{
    char text[512];
    snprintf(text, sizeof text, "Time zone: %s\n", value);
    struct profile p = parse(text);
    const char *got = p.timezone ? p.timezone : "";
    if (strcmp(got, want) != 0)
        print_error("time zone \"%s\": got \"%s\", want \"%s\"\n", value, got, want);
    assert_string_equal(got, want);
    assert_int_equal(p.n_problems, want[0] == '\0' ? 1 : 0);
    profile_free(&p);
}

static void
assert_langs(const char *value, const char *want)
{
    char text[512];
    snprintf(text, sizeof text, "Languages: %s", value);
    struct profile p = parse(text);
    assert_list(p.languages, p.n_languages, want);
    profile_free(&p);
}

static void
test_keys_english(void **state)
{
    (void)state;
    struct profile p = parse("Name: Ana Silva\nSkills: Rust, documentation\nLanguages: English, "
                             "Spanish\nTime zone: Europe/Madrid\nGoals: first contribution\n"
                             "Capacity: 2\nAvailability: 3 hours per week\n");
    assert_string_equal(p.name, "Ana Silva");
    assert_list(p.skills, p.n_skills, "rust|documentation");
    assert_list(p.languages, p.n_languages, "english|spanish");
    assert_string_equal(p.timezone, "Europe/Madrid");
    assert_list(p.goals, p.n_goals, "first contribution");
    assert_int_equal(p.capacity, 2);
    assert_int_equal(p.availability, 3);
    assert_int_equal(p.n_fields, 7);
    assert_int_equal(p.n_problems, 0);
    profile_free(&p);
}

static void
test_keys_german(void **state)
{
    (void)state;
    struct profile p = parse("Vorname: J\xc3\xb6rg\nF\xc3\xa4higkeiten: Python und Linux\n"
                             "Sprachen: Deutsch, Englisch\nZeitzone: Europe/Berlin\n"
                             "Ziele: Code Review\nKapazit\xc3\xa4t: 3\n"
                             "Verf\xc3\xbc"
                             "gbarkeit: 2 Stunden pro Woche\n");
    assert_string_equal(p.name, "J\xc3\xb6rg");
    assert_list(p.skills, p.n_skills, "python|linux");
    assert_list(p.languages, p.n_languages, "german|english");
    assert_string_equal(p.timezone, "Europe/Berlin");
    assert_list(p.goals, p.n_goals, "code review");
    assert_int_equal(p.capacity, 3);
    assert_int_equal(p.availability, 2);
    assert_int_equal(p.n_fields, 7);
    profile_free(&p);
}

static void
test_keys_french(void **state)
{
    (void)state;
    struct profile p = parse("Nom: Zo\xc3\xa9\nComp\xc3\xa9tences: C et Rust\nLangues: "
                             "fran\xc3\xa7"
                             "ais, anglais\nFuseau horaire: Europe/Paris\nObjectifs: "
                             "documentation\nCapacit\xc3\xa9: 1\nDisponibilit\xc3\xa9: 4h\n");
    assert_string_equal(p.name, "Zo\xc3\xa9");
    assert_list(p.skills, p.n_skills, "c|rust");
    assert_list(p.languages, p.n_languages, "french|english");
    assert_string_equal(p.timezone, "Europe/Paris");
    assert_int_equal(p.capacity, 1);
    assert_int_equal(p.availability, 4);
    assert_int_equal(p.n_fields, 7);
    profile_free(&p);
}

static void
test_keys_spanish_italian(void **state)
{
    (void)state;
    struct profile p =
        parse("Nombre: Luc\xc3\xad"
              "a\nIntereses: datos y dise\xc3\xb1o\n"
              "Idiomas: espa\xc3\xb1ol, ingl\xc3\xa9s\nZona horaria: America/Bogota\n"
              "Objetivos: aprender\nCapacidad: 2\nDisponibilidad: 5\n");
    assert_string_equal(p.name, "Luc\xc3\xad"
                                "a");
    assert_list(p.skills, p.n_skills, "datos|dise\xc3\xb1o");
    assert_list(p.languages, p.n_languages, "spanish|english");
    assert_string_equal(p.timezone, "America/Bogota");
    assert_int_equal(p.n_fields, 7);
    profile_free(&p);

    p = parse("Competenze: grafica\nLingue: italiano\nTemas: redes\n");
    /* A later skills line replaces the earlier one. */
    assert_list(p.skills, p.n_skills, "rede");
    assert_list(p.languages, p.n_languages, "italian");
    assert_int_equal(p.n_fields, 2);
    profile_free(&p);
}

static void
test_key_forms(void **state)
{
    (void)state;
    assert_skills("SKILLS: rust", "rust");
    assert_skills("- skills: rust", "rust");
    assert_skills("* Interests: rust", "rust");
    assert_skills("\xe2\x80\xa2 Topics: rust", "rust");
    assert_skills("  My skills :  rust  ", "rust");
    assert_skills("Skills\xef\xbc\x9arust", "rust"); /* full-width colon */
    assert_zone("UTC+1", "UTC+01:00");
    struct profile p = parse("Time-Zone: UTC+1\nTZ: UTC+2\nMax. mentees: 4\nHours per week: 6\n");
    assert_string_equal(p.timezone, "UTC+02:00");
    assert_int_equal(p.capacity, 4);
    assert_int_equal(p.availability, 6);
    profile_free(&p);
}

static void
test_free_text_ignored(void **state)
{
    (void)state;
    struct profile p = parse("Hello! I'm Ann.\nNote: I like Rust.\nhttps://example.org/x\n"
                             "Thanks: everyone\n\nSkills are hard to list.\n");
    assert_int_equal(p.n_fields, 0);
    assert_int_equal(p.n_problems, 0);
    assert_null(p.name);
    assert_int_equal(p.capacity, -1);
    assert_int_equal(p.availability, -1);
    profile_free(&p);
    p = parse(NULL);
    assert_int_equal(p.n_fields, 0);
    profile_free(&p);
    p = parse("");
    assert_int_equal(p.n_fields, 0);
    profile_free(&p);
}

static void
test_list_splitting(void **state)
{
    (void)state;
    assert_skills("Skills: Rust, Python; Go / Java & Perl and Lua und Ruby et Haskell y Elixir",
                  "rust|python|go|java|perl|lua|ruby|haskell|elixir");
    /* Separators inside words do not split; empty items vanish. */
    assert_skills("Skills: android, standards,, ;python,and yaml, etc.",
                  "android|standard|python|yaml");
}

static void
test_tag_normalisation(void **state)
{
    (void)state;
    assert_skills("Skills:   Unit Tests ,  DOCUMENTATION,  code\t  review. ",
                  "unit test|documentation|code review");
    assert_skills("Skills: \"C++\", .NET, node.js, C#", "c++|.net|node.js|c#");
    /* Duplicates collapse, also after plural stripping. */
    assert_skills("Skills: test, tests, Test", "test");
}

static void
test_plural_stripping(void **state)
{
    (void)state;
    assert_skills("Skills: tests, databases, libraries, classes, boxes, patches, caches",
                  "test|database|library|class|box|patch|cache");
    assert_skills("Skills: css, js, windows, kubernetes, analytics, status, analysis, devops",
                  "css|js|windows|kubernetes|analytics|status|analysis|devops");
    assert_skills("Skills: apis, docs, ops, jenkins", "apis|docs|ops|jenkins");
}

static void
test_list_limits(void **state)
{
    (void)state;
    struct profile p = parse("Skills: a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, "
                             "a14, a15, a16, a17, a18, a19, a20, a21, a22\n");
    assert_int_equal(p.n_skills, 20);
    assert_string_equal(p.skills[19], "a20");
    assert_int_equal(p.n_problems, 1);
    assert_non_null(strstr(p.problems[0].hint, "first 20"));
    profile_free(&p);
    /* Items longer than 40 bytes are cut at a word boundary. */
    p = parse("Goals: getting my very first pull request merged into the kernel\n");
    assert_int_equal(p.n_goals, 1);
    assert_string_equal(p.goals[0], "getting my very first pull request");
    assert_true(strlen(p.goals[0]) <= 40);
    profile_free(&p);
    p = parse("Skills: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
    assert_int_equal(strlen(p.skills[0]), 40);
    profile_free(&p);
}

static void
test_languages(void **state)
{
    (void)state;
    assert_langs("Deutsch, German, de", "german");
    assert_langs("espa\xc3\xb1ol, Spanish, es", "spanish");
    assert_langs("fr, English (native), pt-BR", "french|english|portuguese");
    assert_langs(
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e, \xd0\xa0\xd1\x83\xd1\x81\xd1\x81\xd0\xba\xd0"
        "\xb8\xd0\xb9",
        "japanese|russian"); /* 日本語, Русский (capital Р lowered) */
    assert_langs("fluent Italian, some Dutch", "italian|dutch");
    assert_langs("Swahili and Yoruba, Hindi", "swahili|yoruba|hindi");
    assert_langs("ESPA\xc3\x91OL", "spanish"); /* Latin-1 capitals lowered */
}

static void
test_languages_unknown(void **state)
{
    (void)state;
    struct profile p = parse("Hi\nLanguages: English, Klingon, Elvish\n");
    assert_list(p.languages, p.n_languages, "english");
    assert_int_equal(p.n_problems, 1);
    assert_int_equal(p.problems[0].line, 2);
    assert_string_equal(p.problems[0].text, "Languages: English, Klingon, Elvish");
    assert_non_null(strstr(p.problems[0].hint, "'klingon', 'elvish' are not"));
    assert_non_null(strstr(p.problems[0].hint, "Languages: English, Spanish"));
    profile_free(&p);
    /* Codes never match inside prose: "I am" is not Amharic. */
    p = parse("Languages: I am learning\n");
    assert_int_equal(p.n_languages, 0);
    assert_int_equal(p.n_problems, 1);
    profile_free(&p);
}

static void
test_zone_iana(void **state)
{
    (void)state;
    assert_zone("Europe/Berlin", "Europe/Berlin");
    assert_zone("europe/berlin", "Europe/Berlin");
    assert_zone("AMERICA/NEW_YORK", "America/New_York");
    assert_zone("America/New York", "America/New_York");
    assert_zone("america/argentina/buenos_aires", "America/Argentina/Buenos_Aires");
    assert_zone("america/port-au-prince", "America/Port-au-Prince");
    assert_zone("Europe / Berlin", "Europe/Berlin");
    assert_zone("Europe/Berlin (CET)", "Europe/Berlin");
    assert_zone("Etc/GMT+5", "Etc/GMT+5");
}

static void
test_zone_offsets(void **state)
{
    (void)state;
    assert_zone("UTC+2", "UTC+02:00");
    assert_zone("UTC+02:00", "UTC+02:00");
    assert_zone("GMT-5", "UTC-05:00");
    assert_zone("+0530", "UTC+05:30");
    assert_zone("utc + 5:30", "UTC+05:30");
    assert_zone("UTC\xe2\x88\x92"
                "3",
                "UTC-03:00"); /* Unicode minus sign */
    assert_zone("UTC-9:30", "UTC-09:30");
    assert_zone("UTC+0", "UTC");
    assert_zone("UTC", "UTC");
    assert_zone("UTC+15", "");
    assert_zone("UTC-13", "");
    assert_zone("UTC+5:75", "");
    assert_zone("GMT+abc", "");
    assert_zone("+123456", "");
}

static void
test_zone_cities(void **state)
{
    (void)state;
    assert_zone("Berlin", "Europe/Berlin");
    assert_zone("New York", "America/New_York");
    assert_zone("NYC", "America/New_York");
    assert_zone("S\xc3\xa3o Paulo", "America/Sao_Paulo");
    assert_zone("S\xc3\x83O PAULO", "America/Sao_Paulo");
    assert_zone("Sao Paulo", "America/Sao_Paulo");
    assert_zone("Bangalore", "Asia/Kolkata");
    assert_zone("Bengaluru", "Asia/Kolkata");
    assert_zone("Lagos", "Africa/Lagos");
    assert_zone("Tokyo", "Asia/Tokyo");
    assert_zone("Berlin, Germany", "Europe/Berlin");
    assert_zone("Madrid (Spain)", "Europe/Madrid");
    assert_zone("Kyiv", "Europe/Kyiv");
    assert_zone("Germany", "Europe/Berlin");
    assert_zone("Buenos Aires", "America/Argentina/Buenos_Aires");
}

static void
test_zone_abbreviations(void **state)
{
    (void)state;
    assert_zone("PST", "America/Los_Angeles");
    assert_zone("est", "America/New_York");
    assert_zone("CET", "Europe/Berlin");
    assert_zone("IST", "Asia/Kolkata");
    assert_zone("GMT", "UTC");
    /* The file "GMT" would read back as the abbreviation: one canonical form (found by fuzzing). */
    assert_zone("GMT_", "UTC");
}

static void
test_zone_invalid(void **state)
{
    (void)state;
    struct profile p = parse("Time zone: Mars/Olympus\n");
    assert_null(p.timezone);
    assert_int_equal(p.n_problems, 1);
    assert_string_equal(p.problems[0].hint,
                        "Time zone: 'Mars/Olympus' is not a time zone I know. Write it like "
                        "Europe/Berlin, UTC+2 or a city name such as Madrid.");
    profile_free(&p);
    assert_zone("../../etc/passwd", "");
    assert_zone("/etc/passwd", "");
    assert_zone("Europe/../../../etc/passwd", "");
    assert_zone("Europe/../Europe/Berlin", "");
    assert_zone("posix/Europe/Berlin", "");
    assert_zone("right/UTC", "");
    assert_zone("localtime", "");
    assert_zone("posixrules", "");
    assert_zone("zone.tab", "");
    assert_zone("tzdata.zi", "");
    assert_zone("Europe", ""); /* a directory */
    assert_zone("Europe/Berlin; rm -rf /", "");
    assert_zone("Atlantis", "");
    assert_zone("USA", ""); /* several zones: ask for a city */
}

static void
test_capacity(void **state)
{
    (void)state;
    const char *good[][2] = {{"2", "2"},   {"2 mentees", "2"}, {"up to 3", "3"},
                             {"two", "2"}, {"20", "20"},       {"max 1", "1"}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "Capacity: %s", good[i][0]);
        struct profile p = parse(text);
        assert_int_equal(p.capacity, atoi(good[i][1]));
        assert_int_equal(p.n_problems, 0);
        profile_free(&p);
    }
    const char *bad[] = {"0", "21", "lots", "-1", "a few"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "Capacity: %s", bad[i]);
        struct profile p = parse(text);
        assert_int_equal(p.capacity, -1);
        assert_int_equal(p.n_problems, 1);
        assert_non_null(strstr(p.problems[0].hint, "Capacity: 2"));
        profile_free(&p);
    }
}

static void
test_availability(void **state)
{
    (void)state;
    const struct {
        const char *value;
        int hours;
    } cases[] = {
        {"3", 3},
        {"3h", 3},
        {"3 hours per week", 3},
        {"2-4 hours", 2}, /* the lower bound */
        {"2 \xe2\x80\x93 4 hours", 2},
        {"1.5 hours", 2},
        {"1,5 Stunden", 2},
        {"about 5 hours a week", 5},
        {"1 hour a day", 7},
        {"8 hours per month", 2},
        {"0", 0},
        {"2 hours on Mondays", 2},
        {"a few", -1},
        {"200 hours", -1},
        {"-3", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "Availability: %s", cases[i].value);
        struct profile p = parse(text);
        if (p.availability != cases[i].hours)
            print_error("availability \"%s\": got %d\n", cases[i].value, p.availability);
        assert_int_equal(p.availability, cases[i].hours);
        assert_int_equal(p.n_problems, cases[i].hours < 0 ? 1 : 0);
        profile_free(&p);
    }
}

static void
test_problems(void **state)
{
    (void)state;
    struct profile p = parse("Hello,\n\nSkills:\nTime zone: Narnia\nCapacity: many\nName: Ann\n");
    assert_string_equal(p.name, "Ann");
    assert_int_equal(p.n_fields, 1);
    assert_int_equal(p.n_problems, 3);
    assert_int_equal(p.problems[0].line, 3);
    assert_string_equal(p.problems[0].text, "Skills:");
    assert_string_equal(p.problems[0].hint, "Skills: there is nothing after the colon. Write it "
                                            "like Skills: python, documentation, testing.");
    assert_int_equal(p.problems[1].line, 4);
    assert_string_equal(p.problems[1].text, "Time zone: Narnia");
    assert_non_null(strstr(p.problems[1].hint, "'Narnia'"));
    assert_int_equal(p.problems[2].line, 5);
    profile_free(&p);

    char longname[200];
    memset(longname, 'x', sizeof longname);
    memcpy(longname, "Name: ", 6);
    longname[sizeof longname - 1] = '\0';
    p = parse(longname);
    assert_null(p.name);
    assert_int_equal(p.n_problems, 1);
    profile_free(&p);

    /* At most 20 problems are kept. */
    char many[2000] = "";
    for (int i = 0; i < 30; i++)
        strcat(many, "Capacity: lots\n");
    p = parse(many);
    assert_int_equal(p.n_problems, 20);
    assert_int_equal(p.problems[19].line, 20);
    profile_free(&p);
}

static void
test_round_trip(void **state)
{
    (void)state;
    struct profile a = parse("name: Zo\xc3\xa9 O'Neil\nSkills: Unit Tests, CI/CD, R and D\n"
                             "Idiomas: espa\xc3\xb1ol, en\nTZ: +0530\nGoals: getting my very first "
                             "pull request merged into the kernel, Reviews\nCapacity: up to 3\n"
                             "Availability: 1 hour a day\n");
    char *s = profile_serialise(&a);
    assert_non_null(s);
    struct profile b = parse(s);
    char *s2 = profile_serialise(&b);
    assert_string_equal(s, s2);
    assert_string_equal(a.name, b.name);
    assert_list(b.skills, b.n_skills, "unit test|ci|cd|r|d");
    assert_int_equal(a.n_skills, b.n_skills);
    for (size_t i = 0; i < a.n_skills; i++)
        assert_string_equal(a.skills[i], b.skills[i]);
    assert_int_equal(a.n_goals, b.n_goals);
    for (size_t i = 0; i < a.n_goals; i++)
        assert_string_equal(a.goals[i], b.goals[i]);
    assert_int_equal(a.n_languages, b.n_languages);
    assert_string_equal(a.timezone, b.timezone);
    assert_int_equal(a.capacity, b.capacity);
    assert_int_equal(a.availability, b.availability);
    assert_int_equal(a.n_fields, b.n_fields);
    assert_int_equal(b.n_problems, 0);
    free(s);
    free(s2);
    profile_free(&a);
    profile_free(&b);
}

static void
test_serialise_and_describe(void **state)
{
    (void)state;
    struct profile p = parse("Skills: rust, documentation\nLanguages: English, Spanish\n"
                             "Time zone: Madrid\nCapacity: 1\nAvailability: 3\n");
    char *s = profile_serialise(&p);
    assert_string_equal(s, "skills: rust, documentation\nlanguages: english, spanish\n"
                           "time zone: Europe/Madrid\ncapacity: 1\navailability: 3\n");
    free(s);
    s = profile_describe(&p);
    assert_string_equal(s, "  Skills: rust, documentation\n  Languages: english, spanish\n"
                           "  Time zone: Europe/Madrid\n  Capacity: 1 mentee at a time\n"
                           "  Availability: 3 hours per week\n");
    free(s);
    profile_free(&p);
    p = parse("nothing here");
    s = profile_serialise(&p);
    assert_string_equal(s, "");
    free(s);
    s = profile_describe(&p);
    assert_string_equal(s, "");
    free(s);
    profile_free(&p);
}

static void
test_merge(void **state)
{
    (void)state;
    struct profile base = parse("Name: Ann\nSkills: rust, go\nCapacity: 2\nTime zone: Berlin\n");
    struct profile upd = parse("Skills: python\nCapacity: 4\nAvailability: 5\n");
    profile_merge(&base, &upd);
    assert_string_equal(base.name, "Ann");
    assert_list(base.skills, base.n_skills, "python"); /* replaced, not merged */
    assert_int_equal(base.capacity, 4);
    assert_int_equal(base.availability, 5);
    assert_string_equal(base.timezone, "Europe/Berlin");
    assert_int_equal(base.n_fields, 5);
    profile_free(&upd);
    /* The merged copy is independent of update. */
    assert_string_equal(base.skills[0], "python");
    profile_free(&base);
}

static void
offset_is(const char *zone_line, long long t, int want)
{
    struct profile p = parse(zone_line);
    int ok = 0;
    int got = profile_utc_offset(&p, t, &ok);
    assert_int_equal(ok, 1);
    assert_int_equal(got, want);
    profile_free(&p);
}

static void
test_utc_offset(void **state)
{
    (void)state;
    const long long winter = 1704110400; /* 2024-01-01 12:00 UTC */
    const long long summer = 1719835200; /* 2024-07-01 12:00 UTC */
    setenv("TZ", "Asia/Tokyo", 1);
    offset_is("Time zone: Europe/Berlin", winter, 60);
    offset_is("Time zone: Europe/Berlin", summer, 120);
    offset_is("Time zone: America/New_York", winter, -300);
    offset_is("Time zone: America/New_York", summer, -240);
    offset_is("Time zone: UTC+05:30", winter, 330);
    offset_is("Time zone: GMT-5", summer, -300);
    offset_is("Time zone: UTC", summer, 0);
    offset_is("Time zone: Kathmandu", winter, 345);
    /* The caller's TZ is restored. */
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");
    unsetenv("TZ");

    struct profile p = parse("nothing");
    int ok = 7;
    assert_int_equal(profile_utc_offset(&p, winter, &ok), 0);
    assert_int_equal(ok, 0);
    /* A zone that did not come through profile_parse is checked again. */
    p.timezone = strdup("../../etc/passwd");
    assert_int_equal(profile_utc_offset(&p, winter, &ok), 0);
    assert_int_equal(ok, 0);
    profile_free(&p);
}

/* Problems are quoted in the answer: a 1 MB line comes back shortened, not as a 1 MB mail. */
static void
test_huge_lines_shortened(void **state)
{
    (void)state;
    const size_t items = 100000;
    size_t cap = 32 + items * 9;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n = (size_t)sprintf(text, "Languages: ");
    for (size_t i = 0; i < items; i++)
        n += (size_t)sprintf(text + n, "zz%zu, ", i);
    strcpy(text + n, "\n");
    struct profile p;
    assert_int_equal(profile_parse(text, &p), 0);
    assert_int_equal(p.n_problems, 1);
    assert_true(strlen(p.problems[0].text) <= 203);
    assert_true(strncmp(p.problems[0].text, "Languages: zz0, zz1", 19) == 0);
    assert_true(strlen(p.problems[0].hint) <= 600);
    assert_non_null(strstr(p.problems[0].hint, "'zz0'"));
    profile_free(&p);
    free(text);
}

/* The name under a sign-off, with the sign-off written as people do. */
static char *
signed_name(const char *signoff)
{
    char text[256];
    snprintf(text, sizeof text, "I would like a mentor.\n\n%s\nKayla\nSent from my phone\n", signoff);
    struct profile p;
    memset(&p, 0, sizeof p);
    assert_int_equal(profile_from_sentences(text, &p, NULL), 0);
    char *name = p.name != NULL ? strdup(p.name) : NULL;
    profile_free(&p);
    return name;
}

static void
test_signoff_forms(void **state)
{
    (void)state;
    /* Loose ends, capitals, runs of white space and no-break spaces inside, Latin-1 capitals */
    static const char *const yes[] = {
        "Thanks,",       "THANKS A MILLION!!", "-- Cheers --",      "Kind  regards,",
        "Mit freundlichen\tGrüßen", "Viele\xc2\xa0Grüße", "BIEN \xc3\x80 VOUS", "...Best.",
    };
    static const char *const no[] = {
        "Thanks for everything", "Thanksgiving,", "Bestow,", "Bien vous,", "X",
        "Mit freundlichen Grüßen und so weiter und so fort,", "\xc2\xa0,",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        char *name = signed_name(yes[i]);
        if (name == NULL || strcmp(name, "Kayla") != 0)
            fail_msg("'%s' is no sign-off (name %s)", yes[i], name ? name : "none");
        free(name);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        char *name = signed_name(no[i]);
        if (name != NULL)
            fail_msg("'%s' taken for a sign-off (name %s)", no[i], name);
    }
    /* A sign-off and the name on one line, after a sentence */
    struct profile p;
    memset(&p, 0, sizeof p);
    assert_int_equal(profile_from_sentences("I would like a mentor.\n\nAway till May.  CHEERS,\xc2\xa0Ollie\n"
                                            "Sent from my phone\n",
                                            &p, NULL),
                     0);
    assert_non_null(p.name);
    assert_string_equal(p.name, "Ollie");
    profile_free(&p);
}

/* The languages of a sentence: one language counts only after a verb of speaking, two always. */
static size_t
told_languages(const char *text, const char **first)
{
    struct profile p;
    memset(&p, 0, sizeof p);
    assert_int_equal(profile_from_sentences(text, &p, NULL), 0);
    size_t n = p.n_languages;
    static char name[32];
    snprintf(name, sizeof name, "%s", n > 0 ? p.languages[0] : "");
    *first = name;
    profile_free(&p);
    return n;
}

static void
test_languages_told(void **state)
{
    (void)state;
    const char *first;
    assert_int_equal(told_languages("Spanish food is great. I cook a lot.", &first), 0);
    assert_int_equal(told_languages("Spanish food is great. I SPEAK Spanish!", &first), 1);
    assert_string_equal(first, "spanish");
    assert_int_equal(told_languages("Hola. Hablo inglés.", &first), 1);
    assert_string_equal(first, "english");
    assert_int_equal(told_languages("I'd love to improve my Spanish.", &first), 0);
    assert_int_equal(told_languages("Happy to mentor in English or German", &first), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_english),
        cmocka_unit_test(test_keys_german),
        cmocka_unit_test(test_keys_french),
        cmocka_unit_test(test_keys_spanish_italian),
        cmocka_unit_test(test_key_forms),
        cmocka_unit_test(test_free_text_ignored),
        cmocka_unit_test(test_list_splitting),
        cmocka_unit_test(test_tag_normalisation),
        cmocka_unit_test(test_plural_stripping),
        cmocka_unit_test(test_list_limits),
        cmocka_unit_test(test_languages),
        cmocka_unit_test(test_languages_unknown),
        cmocka_unit_test(test_zone_iana),
        cmocka_unit_test(test_zone_offsets),
        cmocka_unit_test(test_zone_cities),
        cmocka_unit_test(test_zone_abbreviations),
        cmocka_unit_test(test_zone_invalid),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_availability),
        cmocka_unit_test(test_problems),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_serialise_and_describe),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_utc_offset),
        cmocka_unit_test(test_huge_lines_shortened),
        cmocka_unit_test(test_signoff_forms),
        cmocka_unit_test(test_languages_told),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
