/*
 * reading: plain sentences to intents, with the context that decides
 * between readings; ratings, pause lengths and capacities in words; the
 * README's examples; quoted text never read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "config.h"
#include "intent.h"
#include "mail.h"
#include "reading.h"
#include "corpus.h"

#define T0 1767225600 /* Thursday 2026-01-01 */

enum ctxk { STRANGER, MEMBER, PROPOSAL, CHECKIN, PENDING_ROLE };

static struct reading
read_mail(const char *subject, const char *body, enum ctxk k, int reply)
{
    struct config cfg;
    struct reading_context ctx;
    struct reading r;
    struct mail *m = NULL;
    char *raw = NULL, err[256];

    memset(&cfg, 0, sizeof cfg);
    cfg.community.address = "mentors@example.org";
    cfg.limits.max_message_size = 1 << 20;
    memset(&ctx, 0, sizeof ctx);
    ctx.known = 1;
    ctx.now = T0;
    ctx.member = k != STRANGER && k != PENDING_ROLE;
    ctx.answers_proposal = k == PROPOSAL;
    ctx.open_proposals = k == PROPOSAL;
    ctx.answers_checkin = k == CHECKIN;
    ctx.open_pairs = k == CHECKIN || k == MEMBER;
    ctx.pending_confirm = ctx.pending_role = k == PENDING_ROLE;
    assert_true(asprintf(&raw,
                         "From: Ann <ann@example.test>\r\nTo: mentors@example.org\r\n"
                         "Subject: %s\r\nMessage-ID: <t@example.test>\r\n%s"
                         "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
                         subject, reply ? "In-Reply-To: <ours@example.org>\r\n" : "", body) > 0);
    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof err), 0);
    assert_int_equal(reading_read(&cfg, m, strlen(raw), &ctx, &r), 0);
    mail_free(m);
    free(raw);
    return r;
}

static void
expect(const char *subject, const char *body, enum ctxk k, const char *intent)
{
    struct reading r =
        read_mail(subject, body, k, k == PROPOSAL || k == CHECKIN || k == PENDING_ROLE);
    if (strcmp(reading_intent_name(&r), intent) != 0)
        fail_msg("\"%s\" / \"%s\": wanted %s, read %s (%s)", subject, body, intent,
                 reading_intent_name(&r), r.n_why ? r.why[r.n_why - 1] : "");
    reading_free(&r);
}

static void
test_first_mails(void **state)
{
    (void)state;
    /* the sentences the issue names, and the README's examples */
    expect("Hello", "I'd like to join the mentoring programme", STRANGER, "join");
    expect("", "Can I get a mentor?", STRANGER, "join");
    expect("", "I would like a mentor", STRANGER, "join");
    expect("Quiero unirme", "", STRANGER, "join");
    expect("Volunteering as a mentor", "", STRANGER, "mentor");
    expect("", "I'd be happy to mentor!", STRANGER, "mentor");
    expect("", "I want to volunteer as a mentor", STRANGER, "mentor");
    expect("", "Ich suche eine Mentorin für Python.", STRANGER, "join");
    expect("", "J'aimerais avoir un mentor.", STRANGER, "join");
    expect("", "Me ofrezco como mentor.", STRANGER, "mentor");
    expect("", "Ik wil me aanmelden als mentor.", STRANGER, "mentor");
    expect("", "Mi offro come mentore.", STRANGER, "mentor");
    expect("mentoring", "Hi, I'm interested in the mentoring programme. How do I join?", STRANGER,
           "unclear_role");
    expect("what is this?", "I got this address from a friend.", STRANGER, "question_or_other");
    expect("", "Help me find a mentor please!", STRANGER, "join");
    expect("", "HELP", STRANGER, "question_or_other");
    expect("", "Is the programme free?", STRANGER, "question_or_other");
}

static void
test_members(void **state)
{
    (void)state;
    expect("", "Please take me off the programme", MEMBER, "leave");
    expect("", "Please remove me from the list", MEMBER, "leave");
    expect("", "please take me off the list", MEMBER, "leave");
    expect("", "Bitte meldet mich ab.", MEMBER, "leave");
    expect("", "Por favor denme de baja.", MEMBER, "leave");
    expect("", "Any news?", MEMBER, "status");
    expect("", "Do I have a mentor yet?", MEMBER, "status");
    expect("", "Bin ich noch auf der Warteliste?", MEMBER, "status");
    expect("", "Can I take a break until January?", MEMBER, "pause");
    expect("", "Please don't pause me, I want out completely.", MEMBER, "leave");
    expect("", "I'm back!", MEMBER, "resume");
    expect("", "Ya he vuelto de vacaciones.", MEMBER, "resume");
    expect("", "We're done, thank you!", MEMBER, "done");
    expect("", "Could I have another mentor?", MEMBER, "rematch");
}

static void
test_context_decides(void **state)
{
    (void)state;
    expect("Re: Would you mentor Ana?", "Yes I accept", PROPOSAL, "accept");
    expect("Re: Would you mentor Ana?", "Sure, happy to!", PROPOSAL, "accept");
    expect("Re: Would you mentor Ana?", "Yes, happy to take Ana on.", PROPOSAL, "accept");
    expect("Re: Would you mentor Ana?", "Oui, avec plaisir", PROPOSAL, "accept");
    expect("Re: Would you mentor Ana?", "Not this one, sorry", PROPOSAL, "decline");
    expect("Re: Would you mentor Ana?", "Gracias pero no", PROPOSAL, "decline");
    expect("Re: Would you mentor Ana?", "I can take her on", PROPOSAL, "accept");
    expect("Re: Would you mentor Ana?", "Sounds good, let's do it", PROPOSAL, "accept");
    /* a new mail (no reply headers) from a mentor with a proposal open answers it */
    static const char *const yes_new[] = {"Yes, I would be happy to mentor her!",
                                          "Of course, I can mentor her", "Happy to mentor Ana."};
    for (size_t i = 0; i < sizeof yes_new / sizeof yes_new[0]; i++) {
        struct reading r = read_mail("Ana", yes_new[i], PROPOSAL, 0);
        if (strcmp(reading_intent_name(&r), "accept") != 0)
            fail_msg("new mail \"%s\" with a proposal open: read %s", yes_new[i],
                     reading_intent_name(&r));
        reading_free(&r);
    }
    struct reading no_new =
        read_mail("Ana", "Sorry, I'm too busy to mentor right now", PROPOSAL, 0);
    assert_string_equal(reading_intent_name(&no_new), "decline");
    reading_free(&no_new);
    expect("Re: Would you mentor Ana?", "Please put me on hold for a few months", PROPOSAL,
           "pause");
    expect("Re: How is it going?", "It went well, I'd say 4.", CHECKIN, "rating");
    expect("Re: How is it going?", "Please take me off the programme", CHECKIN, "leave");
    /* a check-in answered as a new mail: the sender's one open pair */
    expect("", "It went well, I'd say 4.", MEMBER, "rating");
    /* the answer to "Reply 1 or 2" */
    expect("Re: Would you like a mentor, or to be a mentor?", "2", PENDING_ROLE, "mentor");
    expect("Re: Would you like a mentor, or to be a mentor?", "1", PENDING_ROLE, "join");
    expect("Re: Would you like a mentor, or to be a mentor?", "Option 2, please", PENDING_ROLE,
           "mentor");
    expect("Re: Would you like a mentor, or to be a mentor?", "I'd like a mentor, thanks!",
           PENDING_ROLE, "join");

    struct reading r =
        read_mail("Re: Would you mentor Ana?", "Tell me more about them?", PROPOSAL, 1);
    assert_int_equal(r.ask, READING_ASK_PROPOSAL);
    reading_free(&r);
    r = read_mail("mentoring", "Hi, I'm interested. How do I join?", STRANGER, 0);
    assert_int_equal(r.ask, READING_ASK_ROLE);
    reading_free(&r);
}

/* tests/data/sentences.tsv: sentences written for these tests, in seven languages. */
static void
test_sentences(void **state)
{
    (void)state;
    FILE *f = fopen(MENTORD_SRCDIR "/tests/data/sentences.tsv", "r");
    char line[4096];
    int n = 0, ok = 0;

    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *save = NULL;
        char *ctx = strtok_r(line, "\t", &save);
        char *want = strtok_r(NULL, "\t", &save);
        char *text = strtok_r(NULL, "", &save);
        assert_non_null(text);
        for (char *q; (q = strstr(text, "\\n")) != NULL;) {
            *q = '\n';
            memmove(q + 1, q + 2, strlen(q + 2) + 1);
        }
        enum ctxk k = ctx[0] == 'p'   ? PROPOSAL
                      : ctx[0] == 'c' ? CHECKIN
                      : ctx[0] == 'm' ? MEMBER
                                      : STRANGER;
        struct reading r = read_mail("", text, k, k == PROPOSAL || k == CHECKIN);
        n++;
        if (strcmp(reading_intent_name(&r), want) == 0)
            ok++;
        else
            printf("# sentence miss: want %s, read %s: %s\n", want, reading_intent_name(&r), text);
        reading_free(&r);
    }
    fclose(f);
    printf("# sentences written for the tests: %d/%d\n", ok, n);
    assert_int_equal(ok, n);
}

static void
test_ratings(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rating;
    } cases[] = {
        {"4", 4},
        {"It went well, I'd say 4.", 4},
        {"4/5 thanks", 4},
        {"★★★★☆ getting there!", 4},
        {"A solid seven out of ten, I'd say.", 4},
        {"a solid eight out of ten", 4},
        {"Een dikke 8 op 10!", 4},
        {"ten out of ten would recommend", 5},
        {"Cinco estrellas, sin duda.", 5},
        {"Direi un bel quattro.", 4},
        {"So-so. Two out of five.", 2},
        {"Rating: 3/5. Useful but slow.", 3},
        {"Excellent, very helpful, thank you!", 5},
        {"We met 3 times, it was great", 5},
        {"Hard to say yet, we've only met once.", 0},
        {"Not so good, we haven't met yet.", 2},
        {"Très bien, 4 étoiles.", 4},
        {"Ganz okay, würde 3 sagen.", 3},
        {"Goed, 4 van de 5.", 4},
        {"Ottimo, 5 su 5.", 5},
        {"Brilliant, 10/10.", 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = intent_rating(cases[i].text, NULL);
        if (got != cases[i].rating)
            fail_msg("\"%s\": wanted %d, read %d", cases[i].text, cases[i].rating, got);
    }
}

static void
test_durations_and_capacity(void **state)
{
    (void)state;
    assert_int_equal(intent_pause_weeks("Please pause me for two weeks", T0), 2);
    assert_int_equal(intent_pause_weeks("I need a break for a month", T0), 5);
    assert_int_equal(intent_pause_weeks("just need a couple of months", T0), 9);
    assert_int_equal(intent_pause_weeks("Vou ficar sem tempo nas próximas 4 semanas", T0), 4);
    assert_int_equal(intent_pause_weeks("Can I take a break until March?", T0), 9);
    assert_int_equal(intent_pause_weeks("Please pause me", T0), 0);
    assert_int_equal(intent_capacity("I could take on two mentees at a time."), 2);
    assert_int_equal(intent_capacity("Happy to take on one or two people."), 2);
    assert_int_equal(intent_capacity("Max 2 persons."), 2);
    assert_int_equal(intent_capacity("Como mucho una persona."), 1);
    assert_int_equal(intent_capacity("I've been a mentee for about half a year."), -1);

    struct reading r = read_mail("", "Please pause me for two weeks", MEMBER, 0);
    assert_int_equal(r.cmd.kind, COMMAND_PAUSE);
    assert_int_equal(r.cmd.number, 2);
    reading_free(&r);
}

static void
test_quoted_text_is_never_read(void **state)
{
    (void)state;
    struct reading r = read_mail("Re: news",
                                 "Thanks!\n\nOn Mon, 2 Mar 2026, Mentors wrote:\n"
                                 "> Reply LEAVE to stop, PAUSE to take a break.\n",
                                 MEMBER, 1);
    assert_string_not_equal(reading_intent_name(&r), "leave");
    assert_string_not_equal(reading_intent_name(&r), "pause");
    reading_free(&r);
}

static void
test_profile_from_prose(void **state)
{
    (void)state;
    struct reading r = read_mail("",
                                 "Hi! I'm a nurse in Manila, I speak Tagalog and English. "
                                 "I'd like a mentor for Python.\n\nThanks,\nMaria",
                                 STRANGER, 0);
    assert_string_equal(reading_intent_name(&r), "join");
    assert_string_equal(r.profile.name, "Maria");
    assert_string_equal(r.profile.timezone, "Asia/Manila");
    assert_int_equal(r.profile.n_languages, 2);
    reading_free(&r);
}

static void
test_command_table(void **state)
{
    (void)state;
    /* each member command once, with a proof and a help line; the README and man page list them */
    FILE *f = fopen(MENTORD_SRCDIR "/README.md", "r");
    FILE *man = fopen(MENTORD_SRCDIR "/man/mentord.8", "r");
    FILE *ctl = fopen(MENTORD_SRCDIR "/man/mentorctl.1", "r");
    static char readme[1 << 18], page[1 << 17], ctlpage[1 << 17];
    assert_non_null(f);
    assert_non_null(man);
    assert_non_null(ctl);
    readme[fread(readme, 1, sizeof readme - 1, f)] = '\0';
    page[fread(page, 1, sizeof page - 1, man)] = '\0';
    ctlpage[fread(ctlpage, 1, sizeof ctlpage - 1, ctl)] = '\0';
    fclose(f);
    fclose(man);
    fclose(ctl);
    char *help = command_help_list(NULL);
    assert_non_null(help);
    for (size_t i = 0; i < command_n_defs; i++) {
        const struct command_def *d = &command_defs[i];
        char upper[32], cell[64];
        snprintf(upper, sizeof upper, "%s", d->name);
        for (char *p = upper; *p; p++)
            *p = (char)(*p - 'a' + 'A');
        assert_non_null(d->help);
        if (d->manager) {
            assert_int_equal(d->proof, PROOF_MANAGER);
            if (strstr(ctlpage, upper) == NULL)
                fail_msg("man/mentorctl.1 does not name the manager command %s", upper);
            continue;
        }
        assert_ptr_equal(command_def_of(d->kind), d);
        assert_string_equal(command_name(d->kind), d->name);
        snprintf(cell, sizeof cell, "`%s`", upper);
        if (strstr(readme, cell) == NULL && strstr(readme, d->usage) == NULL)
            fail_msg("README's command table does not list %s", d->usage);
        if (strstr(page, upper) == NULL)
            fail_msg("man/mentord.8 does not name %s", upper);
        if (d->kind != COMMAND_CONFIRM && strstr(help, d->usage) == NULL)
            fail_msg("the help mail does not list %s", d->usage);
        int free_to_ask =
            d->kind == COMMAND_STATUS || d->kind == COMMAND_HELP || d->kind == COMMAND_CONFIRM;
        int own_confirm =
            d->kind == COMMAND_JOIN || d->kind == COMMAND_MENTOR || d->kind == COMMAND_LEAVE;
        int changes = d->kind == COMMAND_PAUSE || d->kind == COMMAND_RESUME ||
                      d->kind == COMMAND_CAPACITY || d->kind == COMMAND_ACCEPT ||
                      d->kind == COMMAND_DECLINE || d->kind == COMMAND_DONE ||
                      d->kind == COMMAND_REMATCH;
        if (free_to_ask || own_confirm || changes)
            assert_int_equal(d->proof, free_to_ask   ? PROOF_NONE
                                       : own_confirm ? PROOF_OWN_CONFIRM
                                                     : PROOF_REQUIRED);
        else
            assert_int_not_equal(d->proof, PROOF_MANAGER); /* a command added since */
        /* A change a claimed mail asks for is named in its confirmation mail. */
        if (d->proof == PROOF_REQUIRED)
            assert_non_null(d->confirm.words);
    }
    free(help);
    /* mentord(8)'s list is the table's, as `make config-docs` writes it. */
    char *list = NULL;
    size_t list_len = 0;
    FILE *mf = open_memstream(&list, &list_len);
    assert_non_null(mf);
    command_doc_man(mf);
    assert_int_equal(fclose(mf), 0);
    const char *begin = strstr(page, "commands: made by");
    assert_non_null(begin);
    begin = strchr(begin, '\n') + 1;
    const char *end = strstr(begin, ".\\\" commands end");
    if (end == NULL || (size_t)(end - begin) != list_len || strncmp(begin, list, list_len) != 0)
        fail_msg(
            "man/mentord.8's list of commands is not the command table's; run `make config-docs`");
    free(list);
}

/*
 * intent_score_parts(S, P) scores exactly as intent_score("S\nP"), with
 * Subjects that have no words, words at the line break ("non-", "it's'"),
 * accents, broken UTF-8, numbers, and more words than a text keeps; and the
 * rating, capacity and pause of P read after it are what they were before.
 */
#define PARTS_CORPUS MENTORD_SRCDIR "/../shared/corpus"

struct parts_run {
    char *long_subject;
    int files, compared;
};

static void
parts_check(void *arg, const char *path, const char *raw, size_t len)
{
    struct parts_run *run = arg;
    const char *subjects[] = {
        "join",        "",       "!!! ...",      "Re: mentor?",     "non-",      "it's'",
        "café - été",  "ß Ünï",  "\xc3",       "2 or 3 mentees",  "4/5 ★★",   "\xd8\x9f",
        "don't leave", "pause",  "I don't",     "not",             run->long_subject,
    };
    const char *how1, *how2;

    size_t ns = sizeof subjects / sizeof subjects[0];

    (void)len;
    /* each file with "join", and two of the others in turn: every pairing over the corpus */
    for (size_t k = 0; k < 3; k++) {
        size_t i = k == 0 ? 0 : 1 + (size_t)(run->files * 2 + k - 1) % (ns - 1);
        struct intent_scores a, b, kept, fresh;
        char *whole = NULL, *alone = NULL;
        int r1 = intent_rating(raw, &how1), c1 = intent_capacity(raw);
        int w1 = intent_pause_weeks(raw, T0);
        intent_score_parts(subjects[i], raw, &a);
        intent_score(raw, &kept); /* the text kept, read again after the joined one */
        int r2 = intent_rating(raw, &how2), c2 = intent_capacity(raw);
        int w2 = intent_pause_weeks(raw, T0);
        assert_true(asprintf(&whole, "%s\n%s", subjects[i], raw) >= 0);
        assert_true(asprintf(&alone, "\n%s", raw) >= 0); /* read anew: no word before the text */
        intent_score(whole, &b);
        intent_score(alone, &fresh);
        free(whole);
        free(alone);
        if (memcmp(&a, &b, sizeof a) != 0 || memcmp(&kept, &fresh, sizeof kept) != 0 ||
            r1 != r2 || how1 != how2 || c1 != c2 || w1 != w2)
            fail_msg("%s with the Subject \"%.40s\": not as the whole text", path, subjects[i]);
        run->compared++;
    }
    run->files++;
}

static void
test_phrase_text_in_parts(void **state)
{
    struct parts_run run = {0};
    size_t n = 2100 * 4;

    (void)state;
    run.long_subject = malloc(n + 1);
    assert_non_null(run.long_subject);
    for (size_t i = 0; i < n; i += 4)
        memcpy(run.long_subject + i, i % 8 ? "two " : "yes ", 4);
    run.long_subject[n] = '\0';
    tu_corpus_walk(PARTS_CORPUS, parts_check, &run);
    /* the words just after the line break, with every Subject: a negation reaches no further */
    static const char *const proses[] = {"join as a mentor", "I want to mentor", "-join",
                                         "pause for 2 weeks", "", "yes"};
    for (size_t i = 0; i < sizeof proses / sizeof proses[0]; i++)
        for (int k = 0; k < 12; k++)
            parts_check(&run, proses[i], proses[i], strlen(proses[i]));
    parts_check(&run, "(a long text)", run.long_subject, n);
    free(run.long_subject);
    assert_true(run.compared > 1000 * 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_mails),
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_context_decides),
        cmocka_unit_test(test_sentences),
        cmocka_unit_test(test_ratings),
        cmocka_unit_test(test_durations_and_capacity),
        cmocka_unit_test(test_quoted_text_is_never_read),
        cmocka_unit_test(test_profile_from_prose),
        cmocka_unit_test(test_command_table),
        cmocka_unit_test(test_phrase_text_in_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
