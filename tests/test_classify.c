/* Unit tests for classify: each kind of evidence, and the corpus. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "mail.h"

#define CORPUS MENTORD_SRCDIR "/../shared/corpus"
#define OWN "mentors@example.org"

/* Classify a message given as text; returns the kind, *reason set. */
static enum classify_kind
kind_of(const char *raw, const char **reason)
{
    struct mail *m = NULL;
    char err[256];
    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof err), 0);
    enum classify_kind k = classify_mail(m, OWN, reason);
    mail_free(m);
    return k;
}

static void
expect_kind(const char *raw, enum classify_kind want, const char *reason_part)
{
    const char *reason = NULL;
    enum classify_kind k = kind_of(raw, &reason);
    if (k != want || reason == NULL || strstr(reason, reason_part) == NULL)
        print_error("got %s (%s), want %s (%s)\n", classify_name(k), reason ? reason : "-",
                    classify_name(want), reason_part);
    assert_int_equal(k, want);
    assert_non_null(strstr(reason, reason_part));
}

static void
test_person(void **state)
{
    (void)state;
    expect_kind("Return-Path: <ann@example.net>\nFrom: Ann <ann@example.net>\n"
                "Subject: join\n\nHi, I'd like a mentor. I'm back from vacation.\n",
                CLASSIFY_PERSON, "no automatic");
    /* Auto-Submitted: no is explicitly a person. */
    expect_kind("From: ann@example.net\nAuto-Submitted: no\nSubject: Re: Out of\n\nx\n",
                CLASSIFY_PERSON, "no automatic");
}

static void
test_loop(void **state)
{
    (void)state;
    expect_kind("From: Mentors <MENTORS@Example.ORG>\nSubject: Welcome\n\nx\n", CLASSIFY_LOOP,
                "own address");
    expect_kind("From: ann@example.net\nX-Loop: mentors@example.org\n\nx\n", CLASSIFY_LOOP,
                "X-Loop");
}

static void
test_dsn_bounce(void **state)
{
    (void)state;
    expect_kind("Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
                "Subject: Undelivered Mail Returned to Sender\n"
                "Auto-Submitted: auto-replied\n"
                "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
                "--B\nContent-Type: text/plain\n\nfailed\n"
                "--B\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--B--\n",
                CLASSIFY_BOUNCE, "delivery-status");
    /* A DSN part inside another multipart is found too. */
    expect_kind("From: someone@example.net\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"
                "--B\nContent-Type: text/plain\n\nx\n"
                "--B\nContent-Type: message/delivery-status\n\nAction: failed\n--B--\n",
                CLASSIFY_BOUNCE, "message/delivery-status part");
}

static void
test_nonstandard_bounce(void **state)
{
    (void)state;
    expect_kind("From: MAILER-DAEMON <>\nSubject: Mail delivery failed\n\nsorry\n", CLASSIFY_BOUNCE,
                "MAILER-DAEMON");
    expect_kind("From: E500_SMTP_Mail_Service@example.net\n"
                "Subject: Returned Mail - Error During Delivery\n\nx\n",
                CLASSIFY_BOUNCE, "bounce Subject");
    expect_kind("From: ann@example.net\nX-Failed-Recipients: bob@example.com\n\nx\n",
                CLASSIFY_BOUNCE, "X-Failed-Recipients");
    /* The same Subject from a person (forwarding a bounce) is not a bounce. */
    expect_kind("From: ann@example.net\nSubject: Fwd: Undeliverable: join\n\nWhat is this?\n",
                CLASSIFY_PERSON, "no automatic");
}

static void
test_arf_is_bounce(void **state)
{
    (void)state;
    expect_kind("From: abuse@isp.example\n"
                "Content-Type: multipart/report; report-type=feedback-report; boundary=B\n\n"
                "--B\nContent-Type: text/plain\n\nabuse\n"
                "--B\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n--B--\n",
                CLASSIFY_BOUNCE, "ARF");
}

static void
test_auto_submitted(void **state)
{
    (void)state;
    expect_kind("From: ann@example.net\nAuto-Submitted: auto-replied\n\nx\n", CLASSIFY_AUTO_REPLY,
                "auto-replied");
    expect_kind("From: ann@example.net\nAuto-Submitted: auto-generated\n\nx\n", CLASSIFY_AUTOMATIC,
                "Auto-Submitted");
}

static void
test_auto_reply_headers_and_subjects(void **state)
{
    (void)state;
    expect_kind("From: ann@example.net\nX-Autoreply: yes\n\nx\n", CLASSIFY_AUTO_REPLY,
                "X-Autoreply");
    expect_kind("From: ann@example.net\nX-Auto-Response-Suppress: OOF, AutoReply\n\nx\n",
                CLASSIFY_AUTO_REPLY, "X-Auto-Response-Suppress");
    expect_kind("From: ann@example.net\nSubject: Automatic reply: join\n\nx\n", CLASSIFY_AUTO_REPLY,
                "out-of-office Subject");
    expect_kind("From: ann@example.net\nSubject: Out of Office: join\n\nx\n", CLASSIFY_AUTO_REPLY,
                "out-of-office Subject");
    expect_kind("From: ann@example.net\nSubject: Auto: join\n\nx\n", CLASSIFY_AUTO_REPLY,
                "out-of-office Subject");
    expect_kind("From: a@example.de\nSubject: =?ISO-8859-1?Q?Abwesenheitsnotiz:_join?=\n\nx\n",
                CLASSIFY_AUTO_REPLY, "out-of-office Subject");
    expect_kind("From: a@example.fr\nSubject: =?UTF-8?Q?R=C3=A9ponse_automatique?=\n\nx\n",
                CLASSIFY_AUTO_REPLY, "out-of-office Subject");
    expect_kind("From: a@example.lv\nSubject: =?ISO-8859-13?Q?Atvalin=E2jums_Re:_x?=\n\nx\n",
                CLASSIFY_AUTO_REPLY, "out-of-office Subject");
}

/* Auto-Submitted: auto-generated on an answer ("Re:") is an automatic reply (Discourse's case). */
static void
test_auto_generated_answer(void **state)
{
    (void)state;
    expect_kind("From: jake@example.net\nAuto-Submitted: auto-generated\n"
                "Subject: re: [Meta] eviltrout posted in 'x'\n\nTest reply\n",
                CLASSIFY_AUTO_REPLY, "auto-generated answer");
    expect_kind("From: jo@example.de\nAuto-Submitted: auto-generated\nSubject: AW: Termin\n\nx\n",
                CLASSIFY_AUTO_REPLY, "auto-generated answer");
    /* Not an answer: a notification stays automatic (no nudges are paused for it). */
    expect_kind("From: jake@example.net\nAuto-Submitted: auto-generated\n"
                "Subject: Your weekly summary (re-sent)\n\nx\n",
                CLASSIFY_AUTOMATIC, "Auto-Submitted");
}

/*
 * Challenge-response systems hold our mail until the sender confirms: an
 * automatic reply (never answered, never scored), even when sent as a DSN.
 */
static void
test_challenge_response(void **state)
{
    (void)state;
    expect_kind("Return-Path: <noreply@cr.example>\nFrom: noreply@cr.example\n"
                "Subject: Re: welcome\n"
                "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
                "--B\nContent-Type: text/plain\n\nHello,\nYour message about \"welcome\" has "
                "been waitlisted.\nPlease add yourself to my Guest List.\n"
                "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; cr.example\n\n"
                "Final-Recipient: rfc822; ann@example.net\nAction: failed\nStatus: 4.7.0\n"
                "Diagnostic-Code: X-Notice; Sender not pre-approved.\n--B--\n",
                CLASSIFY_AUTO_REPLY, "challenge-response notice");
    /* A server's "confirm this mail server" page, in a Postfix DSN. */
    expect_kind("Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\n"
                "Subject: Undelivered Mail Returned to Sender\n\n"
                "<ann@example.com>: host mx.example.com said: 550 Your server requires\n"
                "    confirmation. Visit http://mx.example.com/w?IP=192.0.2.1 to confirm this\n"
                "    mail server. (in reply to RCPT TO command)\n",
                CLASSIFY_AUTO_REPLY, "challenge-response notice");
    expect_kind("From: ann@example.net\nX-Delivery-Agent: TMDA/1.1.12 (Macallan)\n"
                "Subject: Please confirm your message\n\nx\n",
                CLASSIFY_AUTO_REPLY, "challenge-response header");
    /* A policy rejection asks nothing of the sender: still a bounce. */
    expect_kind("Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\n"
                "Subject: Undelivered Mail Returned to Sender\n\n"
                "<ann@example.com>: host mx.example.com said: 550 5.7.1 Message blocked as spam\n",
                CLASSIFY_BOUNCE, "MAILER-DAEMON");
    expect_kind("Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\n"
                "Subject: Undelivered Mail Returned to Sender\n\n"
                "<ann@example.com>: host mx.example.com said: 550 5.7.1 Sender is not on the\n"
                "    approved senders list\n",
                CLASSIFY_BOUNCE, "MAILER-DAEMON");
    /* A person using the same words is a person. */
    expect_kind("Return-Path: <ann@example.net>\nFrom: ann@example.net\nSubject: meetup\n\n"
                "Please add yourself to the guest list for Friday.\n",
                CLASSIFY_PERSON, "no automatic");
}

/* Vacation programs without RFC 3834 headers: a bulk marker plus an auto-reply's words. */
static void
test_unmarked_auto_reply(void **state)
{
    (void)state;
    expect_kind("Return-Path: <>\nFrom: John Smith <john@example.net>\n"
                "Subject: Thank you for your e-mail\nPrecedence: bulk\n\n"
                "Thank you for you e-mail.\nI will endeavour to reply as soon as possible.\n",
                CLASSIFY_AUTO_REPLY, "auto-reply's Subject or text");
    expect_kind("From: jo@example.de\nPrecedence: junk\nSubject: Re: Ihre Nachricht\n\n"
                "Ich bin bis zum 3. M\xc3\xa4rz nicht im B\xc3\xbcro.\n",
                CLASSIFY_AUTO_REPLY, "auto-reply's Subject or text");
    expect_kind("Return-Path: <>\nFrom: ana@example.es\nSubject: Re: hola\n\n"
                "Estoy fuera de la oficina hasta el lunes.\n",
                CLASSIFY_AUTO_REPLY, "auto-reply's Subject or text");
    /* The same words from a person, without a bulk marker, are the person's. */
    expect_kind("Return-Path: <ann@example.net>\nFrom: ann@example.net\n"
                "Subject: Thank you for your email\n\nI am on vacation next week; I will reply "
                "as soon as I am back.\n",
                CLASSIFY_PERSON, "no automatic");
    /* Bulk mail without those words stays bulk; list traffic stays list mail. */
    expect_kind("From: news@shop.example\nPrecedence: bulk\nSubject: Offers\n\nSale!\n",
                CLASSIFY_BULK, "Precedence");
    expect_kind("From: ann@example.net\nPrecedence: list\nSubject: Re: plans\n\n"
                "I am out of the office until Monday, then let's meet.\n",
                CLASSIFY_BULK, "Precedence");
}

/* A mailing-list manager's refusal of our post is a bounce (a policy one), not list mail. */
static void
test_list_refusal(void **state)
{
    (void)state;
    expect_kind("From: neko-admin@lists.example.org\nX-MLServer: fml [fml 4.0.3]\n"
                "Subject: You mentors@example.org are not member (neko ML)\n\n"
                "You are not a member of this mailing list.\n",
                CLASSIFY_BOUNCE, "mailing-list manager refused");
    expect_kind("From: owner@lists.example.org\nList-Id: <neko.lists.example.org>\n"
                "Subject: Loop Alert: Duplicated Message-ID (neko ML)\n\nx\n",
                CLASSIFY_BOUNCE, "mailing-list manager refused");
}

/* MDaemon's user-unknown report: a "Warning:" title, Precedence: bulk, a daemon sender. */
static void
test_mdaemon_bounce(void **state)
{
    (void)state;
    expect_kind("Return-Path: <MDaemon@mx.example.py>\nFrom: MDaemon@mx.example.py\n"
                "Precedence: bulk\nSubject: Warning: kim@mx.example.py - User unknown!\n\n"
                "kim@mx.example.py - no such user here.\n",
                CLASSIFY_BOUNCE, "failure report text");
}

static void
test_bulk(void **state)
{
    (void)state;
    expect_kind("From: ann@example.net\nPrecedence: bulk\n\nx\n", CLASSIFY_BULK, "Precedence");
    expect_kind("From: ann@example.net\nPrecedence: list\n\nx\n", CLASSIFY_BULK, "Precedence");
    expect_kind("From: ann@example.net\nList-Id: <talk.lists.example.net>\n\nx\n", CLASSIFY_BULK,
                "mailing-list header");
    expect_kind("Return-Path: <talk-bounces+ann=example.net@lists.example.net>\n"
                "From: ann@example.net\n\nx\n",
                CLASSIFY_BULK, "Return-Path");
}

static void
test_automatic_senders(void **state)
{
    (void)state;
    expect_kind("From: Shop <no-reply@shop.example>\n\nx\n", CLASSIFY_AUTOMATIC, "no-reply");
    expect_kind("From: donotreply@bank.example\n\nx\n", CLASSIFY_AUTOMATIC, "no-reply");
    expect_kind("Return-Path: <>\nFrom: ann@example.net\nSubject: hello\n\nx\n", CLASSIFY_AUTOMATIC,
                "null Return-Path");
}

/* A read receipt is automatic: answered, each answer would bring the next one. */
static void
test_read_receipt(void **state)
{
    (void)state;
    expect_kind("From: Ann <ann@example.net>\nSubject: Read: Welcome\nMIME-Version: 1.0\n"
                "Content-Type: multipart/report; report-type=disposition-notification;\n"
                " boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nYour message was read.\n"
                "--b\nContent-Type: message/disposition-notification\n\n"
                "Reporting-UA: pc.example.net; Outlook\nFinal-Recipient: rfc822;ann@example.net\n"
                "Disposition: automatic-action/MDN-sent-automatically; displayed\n--b--\n",
                CLASSIFY_AUTOMATIC, "read receipt");
    /* The part alone, under another multipart type, is enough. */
    expect_kind("From: Ann <ann@example.net>\nSubject: Gelesen: Willkommen\nMIME-Version: 1.0\n"
                "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
                "Content-Type: text/plain\n\nGelesen.\n--b\n"
                "Content-Type: message/disposition-notification\n\n"
                "Disposition: manual-action/MDN-sent-manually; displayed\n--b--\n",
                CLASSIFY_AUTOMATIC, "read receipt");
    /* A person's mail that only says "Read:" is still a person's. */
    expect_kind("From: ann@example.net\nSubject: Read: the guide\n\nJOIN\n", CLASSIFY_PERSON,
                "no automatic");
}

/* The receiving server's spam filter said so: never answered (no backscatter). */
static void
test_spam_verdict(void **state)
{
    (void)state;
    expect_kind("From: ann@example.net\nX-Spam-Flag: YES\n\nx\n", CLASSIFY_SPAM, "X-Spam-Flag");
    expect_kind("From: ann@example.net\nX-Spam-Status: Yes, score=9.1 required=5.0\n\nx\n",
                CLASSIFY_SPAM, "X-Spam-Status");
    expect_kind("From: ann@example.net\nX-Spam-Status: Yes\n\nx\n", CLASSIFY_SPAM, "X-Spam-Status");
    expect_kind("From: ann@example.net\nX-Spam: yes\n\nx\n", CLASSIFY_SPAM, "X-Spam:");
    /* "No" verdicts, bare scores and look-alikes are a person's mail. */
    expect_kind("From: ann@example.net\nX-Spam-Flag: NO\n\nx\n", CLASSIFY_PERSON, "no automatic");
    expect_kind("From: ann@example.net\nX-Spam-Status: No, score=1.2 required=5.0\n\nx\n",
                CLASSIFY_PERSON, "no automatic");
    expect_kind("From: ann@example.net\nX-Spam-Score: 12.5\nX-Spam-Level: ************\n\nx\n",
                CLASSIFY_PERSON, "no automatic");
    expect_kind("From: ann@example.net\nX-Spam-Status: Yesterday\n\nx\n", CLASSIFY_PERSON,
                "no automatic");
    /* A bounce stays a bounce, and an auto-reply an auto-reply, whatever the filter said. */
    expect_kind("From: MAILER-DAEMON@mx.example.net\nX-Spam-Flag: YES\n"
                "Subject: Undelivered Mail Returned to Sender\n"
                "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
                "--b\nContent-Type: text/plain\n\nfailed\n--b\n"
                "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
                "Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n--b--\n",
                CLASSIFY_BOUNCE, "");
    expect_kind("From: ann@example.net\nAuto-Submitted: auto-replied\nX-Spam-Flag: YES\n\nx\n",
                CLASSIFY_AUTO_REPLY, "");
}

static void
test_names(void **state)
{
    (void)state;
    assert_string_equal(classify_name(CLASSIFY_PERSON), "person");
    assert_string_equal(classify_name(CLASSIFY_BOUNCE), "bounce");
    assert_string_equal(classify_name(CLASSIFY_AUTO_REPLY), "auto-reply");
    assert_string_equal(classify_name(CLASSIFY_BULK), "bulk");
    assert_string_equal(classify_name(CLASSIFY_AUTOMATIC), "automatic");
    assert_string_equal(classify_name(CLASSIFY_LOOP), "loop");
    assert_string_equal(classify_name(CLASSIFY_SPAM), "spam");
    /* reason is optional. */
    struct mail *m = NULL;
    char err[64];
    assert_int_equal(mail_parse("From: a@b.example\n\nx\n", 20, &m, err, sizeof err), 0);
    assert_int_equal(classify_mail(m, OWN, NULL), CLASSIFY_PERSON);
    mail_free(m);
}

/* ---- corpus -------------------------------------------------------------- */

static char *
read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, n = 0, r;
    char *b = malloc(cap);
    while (b != NULL && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *p = realloc(b, cap *= 2);
            if (p == NULL)
                free(b);
            b = p;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

static int
name_in(const char *name, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

/*
 * mdbp's spam-* samples sit among the bounces, but they are plain spam
 * (the source asserts that no bounce report is found in them): nothing in
 * their headers says robot, so they classify as person by design.
 */
static const char *const spam_in_bounces[] = {
    "mdbp-spam-bogus-email-in-report.msg",
    "mdbp-spam-lots-of-bogus-addresses.msg",
    "mdbp-spam-with-badly-parsed-email.msg",
    "mdbp-spam-with-image.msg",
};

/* mime/ samples that really are automatic (checked by hand): DSNs, list mail, no-reply. */
static const char *const automatic_in_mime[] = {
    "cpy-msg_05.txt",                         /* multipart/report delivery-status */
    "cpy-msg_16.txt",                         /* "Delivery has failed" with a DSN part */
    "cpy-msg_25.txt",                         /* Returned mail: too many hops */
    "cpy-msg_32.txt",                         /* Precedence: bulk (mailing list) */
    "cpy-msg_33.txt",                         /* Precedence: bulk (mailing list) */
    "cpy-msg_43.txt",                         /* virus scanner DSN */
    "flanker-apache-message-news-mime.eml",   /* Precedence: bulk */
    "flanker-from-encoding.eml",              /* Precedence: bulk */
    "flanker-long-links.eml",                 /* From: postmaster@ */
    "flanker-message-external-body.eml",      /* Precedence: bulk */
    "mail-error_emails-bad_date_header.eml",  /* spam with Precedence: bulk */
    "mail-error_emails-bad_date_header2.eml", /* newsletter, VERP Return-Path */
    "mail-error_emails-content_transfer_encoding_x_uuencode.eml", /* owner-list Return-Path */
    "mail-error_emails-empty_in_reply_to.eml",                    /* List-Id */
    "mail-error_emails-encoding_madness.eml",                     /* eBay no-reply */
    "mail-mime_emails-raw_email_with_mimepart_without_content_type.eml", /* DSN */
    "mail-plain_emails-raw_email_trailing_dot.eml",                      /* noreply@rubyforge */
    "rt-multipart-report.eml",                                           /* DSN */
    "mail-plain_emails-raw_email_bad_time.eml", /* spam: X-Spam-Status: Yes (MailScanner) */
    "mail-error_emails-empty_group_lists.eml",  /* spam: X-Spam-Status: Yes (MailScanner) */
    "flanker-disposition-notification.eml",     /* read receipt (RFC 8098 MDN) */
};

struct tally {
    int total, person, wrong, kinds[CLASSIFY_SPAM + 1];
};

/* Classify every message file in dir whose name starts with prefix ("" for all). */
static void
classify_dir(const char *dir, const char *prefix, const char *suffix, struct tally *t,
             const char *const *expected_other, size_t n_other, int want_person)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", CORPUS, dir);
    DIR *d = opendir(path);
    if (d == NULL)
        skip();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name), sl = strlen(suffix);
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0 || nl < sl ||
            strcmp(e->d_name + nl - sl, suffix) != 0 || strstr(e->d_name, "expected"))
            continue;
        snprintf(path, sizeof path, "%s/%s/%s", CORPUS, dir, e->d_name);
        size_t len = 0;
        char *raw = read_all(path, &len);
        assert_non_null(raw);
        struct mail *m = NULL;
        char err[256];
        if (mail_parse(raw, len, &m, err, sizeof err) != 0) {
            printf("classify: %s/%s does not parse: %s\n", dir, e->d_name, err);
            free(raw);
            continue; /* a message we cannot read is never answered either */
        }
        const char *why;
        enum classify_kind k = classify_mail(m, OWN, &why);
        t->total++;
        t->kinds[k]++;
        t->person += k == CLASSIFY_PERSON;
        int exception = name_in(e->d_name, expected_other, n_other);
        int want = exception ? !want_person : want_person;
        if ((k == CLASSIFY_PERSON) != want && ++t->wrong)
            printf("classify: MISCLASSIFIED %s/%s as %s (%s)\n", dir, e->d_name, classify_name(k),
                   why);
        mail_free(m);
        free(raw);
    }
    closedir(d);
}

static void
print_tally(const char *what, const struct tally *t)
{
    printf("classify: %s %d/%d person;", what, t->person, t->total);
    for (int k = CLASSIFY_BOUNCE; k <= CLASSIFY_SPAM; k++)
        printf(" %s %d", classify_name(k), t->kinds[k]);
    printf("\n");
}

static void
test_corpus_robots(void **state)
{
    (void)state;
    struct tally b = {0}, a = {0};
    size_t n_spam = sizeof spam_in_bounces / sizeof spam_in_bounces[0];
    classify_dir("bounces", "", "", &b, spam_in_bounces, n_spam, 0);
    classify_dir("autoreplies", "", "", &a, NULL, 0, 0);
    print_tally("bounces", &b);
    print_tally("autoreplies", &a);
    printf("classify: bounces %d/%d not person (%zu known spam samples excepted)\n",
           b.total - b.person, b.total, n_spam);
    printf("classify: autoreplies %d/%d not person\n", a.total - a.person, a.total);
    assert_true(b.total >= 400);
    assert_true(a.total >= 17);
    assert_int_equal(b.wrong, 0);
    assert_int_equal(b.person, (int)n_spam);
    assert_int_equal(a.person, 0);
}

static void
test_corpus_people(void **state)
{
    (void)state;
    struct tally r = {0}, m = {0};
    size_t n_auto = sizeof automatic_in_mime / sizeof automatic_in_mime[0];
    classify_dir("replies", "talon-", ".eml", &r, NULL, 0, 1);
    classify_dir("mime", "", "", &m, automatic_in_mime, n_auto, 1);
    print_tally("replies/talon-*.eml", &r);
    print_tally("mime", &m);
    int ordinary = m.total - (int)n_auto;
    printf("classify: mime ordinary mail %d/%d person (%zu automatic samples listed)\n", m.person,
           ordinary, n_auto);
    assert_true(r.total >= 10);
    assert_int_equal(r.person, r.total);
    assert_true(m.total >= 280);
    /* Every ordinary mime sample is a person and every listed one is not. */
    assert_int_equal(m.wrong, 0);
    assert_int_equal(m.person, ordinary);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_person),
        cmocka_unit_test(test_loop),
        cmocka_unit_test(test_dsn_bounce),
        cmocka_unit_test(test_nonstandard_bounce),
        cmocka_unit_test(test_arf_is_bounce),
        cmocka_unit_test(test_auto_submitted),
        cmocka_unit_test(test_auto_reply_headers_and_subjects),
        cmocka_unit_test(test_auto_generated_answer),
        cmocka_unit_test(test_challenge_response),
        cmocka_unit_test(test_unmarked_auto_reply),
        cmocka_unit_test(test_list_refusal),
        cmocka_unit_test(test_mdaemon_bounce),
        cmocka_unit_test(test_bulk),
        cmocka_unit_test(test_automatic_senders),
        cmocka_unit_test(test_read_receipt),
        cmocka_unit_test(test_spam_verdict),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_corpus_robots),
        cmocka_unit_test(test_corpus_people),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
