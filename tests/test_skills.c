/*
 * skills: skills named in prose, through the vocabulary and the cues of
 * data/skills, in several languages; what must not be read as a skill.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skills.h"

/* The skills read in text, as "a; b; c". */
static char *
read_skills(const char *text)
{
    char **items = NULL;
    size_t n = 0;
    static char out[1024];
    assert_int_equal(skills_from_prose(text, NULL, 20, 40, &items, &n), 0);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "; " : "", items[i]);
        free(items[i]);
    }
    free(items);
    return out;
}

static void
expect(const char *text, const char *want)
{
    const char *got = read_skills(text);
    if (strcmp(got, want) != 0)
        printf("# %s\n#   want \"%s\", read \"%s\"\n", text, want, got);
    assert_string_equal(got, want);
}

static void
test_vocabulary(void **state)
{
    (void)state;
    expect("I'm a nurse in Manila", "nursing");
    expect("Soy enfermera y quiero ayudar.", "nursing");
    expect("Ich bin Krankenpfleger.", "nursing");
    expect("Ich möchte Python und Datenanalyse lernen.", "python; data analysis");
    expect("Tengo experiencia en carpintería.", "carpentry");
    expect("Je travaille en comptabilité.", "accounting");
    expect("Trabalho com desenvolvimento web.", "web development");
    expect("Ik ben verpleegkundige.", "nursing");
    expect("Pythonとデータ分析の分野で", "python; data analysis");
    /* longest first: "machine learning" is not also "learning" */
    expect("I'd like to get into machine learning.", "machine learning");
    expect("I work with Node.js, C++ and C#.", "node.js; c++; c#");
}

static void
test_cues(void **state)
{
    (void)state;
    /* a skill the vocabulary lacks, after a cue, as written; lists split */
    expect("I'd like to learn beekeeping.", "beekeeping");
    expect("I have experience in woodturning and glassblowing, and I'd like to help",
           "woodturning; glassblowing");
    expect("I'm good at python, git and docker", "python; git; docker");
    expect("Ich arbeite als Goldschmiedin.", "goldschmiedin");
    /* fillers after a cue are no skill */
    expect("I want to learn a lot", "");
}

static void
test_not_skills(void **state)
{
    (void)state;
    /* common words that share a stem with a skill */
    expect("Please remove me from the programme.", "");
    expect("Saludos cordiales", "");
    expect("Quite good, I'd say 4.", "");
    expect("Thanks for the code of conduct.", "");
    /* "Go" and "R" as names of languages only where written so, never opening a sentence */
    expect("Go ahead and match me.", "");
    expect("I mostly write Go these days.", "go");
    expect("I use R for statistics.", "r; statistics");
    /* a signature is not read */
    expect("Hi, I'd like a mentor.\n-- \nAnn Lee, Python trainer", "");
    expect("", "");
}

static void
test_hostile(void **state)
{
    (void)state;
    /* invalid UTF-8, long runs, punctuation only: no crash, nothing odd */
    char big[40000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    read_skills(big);
    read_skills("\xff\xfe\xc3 learn \xe2\x80 python \xf0\x9f");
    read_skills("learn ,,,,;;;; and and and or or");
    for (size_t i = 0; i + 6 < sizeof big; i += 6)
        memcpy(big + i, "learn ", 6);
    read_skills(big);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vocabulary),
        cmocka_unit_test(test_cues),
        cmocka_unit_test(test_not_skills),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
