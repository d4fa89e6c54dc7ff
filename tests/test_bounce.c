/* Unit tests for bounce: DSN fields, ARF, non-standard formats, and the corpus figures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce.h"
#include "classify.h"
#include "mail.h"

#define CORPUS MENTORD_SRCDIR "/../shared/corpus"
#define OWN "mentors@example.org"

/* Parse raw as a mail and as a bounce; the mail is freed. */
static void
parse(const char *raw, struct bounce_info *b)
{
    struct mail *m = NULL;
    char err[256];
    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof err), 0);
    assert_int_equal(bounce_parse(m, raw, strlen(raw), b), 0);
    mail_free(m);
}

static int
has_rcpt(const struct bounce_info *b, const char *addr)
{
    for (size_t i = 0; i < b->n_recipients; i++)
        if (strcmp(b->recipients[i], addr) == 0)
            return 1;
    return 0;
}

#define DSN_HEAD                                                                                   \
    "Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"                 \
    "To: mentors@example.org\nSubject: Undelivered Mail Returned to Sender\n"                      \
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"              \
    "--B\nContent-Type: text/plain\n\nI'm sorry to have to inform you...\n\n"                      \
    "--B\nContent-Type: message/delivery-status\n\n"                                               \
    "Reporting-MTA: dns; mx.example.net\nArrival-Date: Mon, 1 Jan 2024 10:00:00 +0000\n\n"

#define DSN_TAIL                                                                                   \
    "--B\nContent-Type: text/rfc822-headers\n\n"                                                   \
    "From: mentors@example.org\nTo: ann@example.com\nMessage-ID: <abc.123@example.org>\n"          \
    "Subject: welcome\n\n--B--\n"

static void
test_dsn_permanent(void **state)
{
    (void)state;
    struct bounce_info b;
    parse(DSN_HEAD "Final-Recipient: rfc822; Ann@Example.COM\nAction: failed\nStatus: 5.1.1\n"
                   "Diagnostic-Code: smtp; 550 5.1.1 <ann@example.com>: Recipient address\n"
                   " rejected: User unknown\n\n" DSN_TAIL,
          &b);
    assert_int_equal(b.severity, BOUNCE_PERMANENT);
    assert_int_equal(b.n_recipients, 1);
    assert_string_equal(b.recipients[0], "ann@example.com");
    assert_string_equal(b.status, "5.1.1");
    assert_int_equal(b.reply_code, 550);
    /* The folded Diagnostic-Code is one line. */
    assert_string_equal(b.diagnostic,
                        "550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown");
    assert_string_equal(b.orig_message_id, "abc.123@example.org");
    bounce_free(&b);
    assert_null(b.recipients);
    bounce_free(&b); /* twice is harmless */
}

static void
test_dsn_delayed_and_delivered(void **state)
{
    (void)state;
    struct bounce_info b;
    /* A delay is a warning, not a bounce: the server is still trying. */
    parse(DSN_HEAD "Final-Recipient: rfc822; bob@example.com\nAction: delayed\nStatus: 4.4.7\n\n"
                   "--B--\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_DELAYED);
    assert_string_equal(b.status, "4.4.7");
    assert_true(has_rcpt(&b, "bob@example.com"));
    bounce_free(&b);
    /* Greylisting's 4.7.x delay is still a delay, not a policy refusal. */
    parse(DSN_HEAD "Final-Recipient: rfc822; bob@example.com\nAction: delayed\nStatus: 4.7.1\n"
                   "Diagnostic-Code: smtp; 450 4.7.1 Greylisted, try again later\n\n--B--\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_DELAYED);
    bounce_free(&b);
    /* The server gave up on a 4.x.x failure: a soft bounce. */
    parse(DSN_HEAD "Final-Recipient: rfc822; bob@example.com\nAction: failed\nStatus: 4.2.2\n"
                   "Diagnostic-Code: smtp; 452 4.2.2 Mailbox full\n\n--B--\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_TEMPORARY);
    bounce_free(&b);
    /* Without an Action a 4.x.x record may be either: the status decides (soft bounce). */
    parse(DSN_HEAD "Final-Recipient: rfc822; bob@example.com\nStatus: 4.4.7\n\n--B--\n", &b);
    assert_int_equal(b.severity, BOUNCE_TEMPORARY);
    bounce_free(&b);
    /* A success notice names nobody as failed. */
    parse(DSN_HEAD "Final-Recipient: rfc822; bob@example.com\nAction: delivered\nStatus: 2.0.0\n\n"
                   "--B--\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_NONE);
    assert_int_equal(b.n_recipients, 0);
    bounce_free(&b);
}

static void
test_dsn_policy(void **state)
{
    (void)state;
    struct bounce_info b;
    parse(DSN_HEAD "Final-Recipient: rfc822; cy@example.com\nAction: failed\nStatus: 5.7.1\n"
                   "Diagnostic-Code: smtp; 550 5.7.1 Message rejected as spam\n\n--B--\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_POLICY);
    assert_string_equal(b.status, "5.7.1");
    bounce_free(&b);
    /* Some servers say 5.7.1 for a mailbox that does not exist: that is about the address. */
    parse(DSN_HEAD "Final-Recipient: rfc822; cy@example.com\nAction: failed\nStatus: 5.7.1\n"
                   "Diagnostic-Code: smtp; 550 5.7.1 No such user\n\n--B--\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_PERMANENT);
    bounce_free(&b);
    /* A challenge-response system's 4.7.0 is about us, not the address. */
    parse(DSN_HEAD "Final-Recipient: rfc822; cy@example.com\nAction: failed\nStatus: 4.7.0\n"
                   "Diagnostic-Code: X-Boxbe; Sender not pre-approved.\n\n--B--\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_POLICY);
    bounce_free(&b);
    /* A telephone number in a notice is not an SMTP reply. */
    parse("From: MAILER-DAEMON@mx.example.net\nTo: mentors@example.org\nSubject: failure notice\n\n"
          "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
          "<jo@example.net>:\nMailbox quota exceeded. Call (480) 624-2500.\n",
          &b);
    assert_int_equal(b.reply_code, 0);
    assert_true(has_rcpt(&b, "jo@example.net"));
    assert_int_equal(b.severity, BOUNCE_PERMANENT);
    bounce_free(&b);
}

static void
test_dsn_records(void **state)
{
    (void)state;
    struct bounce_info b;
    /* No blank line between records, Original-Recipient preferred, a vague status refined. */
    parse(DSN_HEAD "Original-Recipient: rfc822;member@example.org\n"
                   "Final-Recipient: rfc822;forward@elsewhere.example\nAction: failed\n"
                   "Status: 5.0.0\nDiagnostic-Code: smtp; 550 5.2.1 mailbox disabled\n"
                   "Final-Recipient: RFC822; <dan@example.net>\nAction: failed\nStatus: 5.1.1\n"
                   "\n--B--\n",
          &b);
    assert_int_equal(b.n_recipients, 2);
    assert_string_equal(b.recipients[0], "member@example.org");
    assert_string_equal(b.recipients[1], "dan@example.net");
    assert_string_equal(b.status, "5.2.1");
    assert_int_equal(b.severity, BOUNCE_PERMANENT);
    bounce_free(&b);
    /* A failure outranks a delay in the same report. */
    parse(DSN_HEAD "Final-Recipient: rfc822; d1@example.net\nAction: delayed\nStatus: 4.2.2\n\n"
                   "Final-Recipient: rfc822; f1@example.net\nAction: failed\nStatus: 5.1.1\n\n"
                   "--B--\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_PERMANENT);
    assert_int_equal(b.n_recipients, 1);
    assert_string_equal(b.recipients[0], "f1@example.net");
    assert_string_equal(b.status, "5.1.1");
    bounce_free(&b);
}

static void
test_dsn_base64(void **state)
{
    (void)state;
    struct bounce_info b;
    /* "Final-Recipient: rfc822; eve@example.com\nAction: failed\nStatus: 5.2.2\n" */
    parse("From: MAILER-DAEMON@mx.example.net\nTo: mentors@example.org\n"
          "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
          "--B\nContent-Type: text/plain\n\nfailed\n"
          "--B\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
          "RmluYWwtUmVjaXBpZW50OiByZmM4MjI7IGV2ZUBleGFtcGxlLmNvbQpBY3Rpb246IGZhaWxlZApT\n"
          "dGF0dXM6IDUuMi4yCg==\n--B--\n",
          &b);
    assert_true(has_rcpt(&b, "eve@example.com"));
    assert_string_equal(b.status, "5.2.2");
    bounce_free(&b);
}

static void
test_arf(void **state)
{
    (void)state;
    struct bounce_info b;
    parse("From: fbl@isp.example\nTo: mentors@example.org\nSubject: complaint\n"
          "Content-Type: multipart/report; report-type=feedback-report; boundary=B\n\n"
          "--B\nContent-Type: text/plain\n\nThis is an abuse report\n"
          "--B\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
          "User-Agent: x/1.0\nVersion: 1\n\n"
          "--B\nContent-Type: message/rfc822\n\nFrom: mentors@example.org\n"
          "To: Fay <fay@isp.example>\nMessage-ID: <n1@example.org>\nSubject: hi\n\nhello\n--B--\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_COMPLAINT);
    assert_int_equal(b.n_recipients, 1);
    assert_string_equal(b.recipients[0], "fay@isp.example");
    assert_string_equal(b.diagnostic, "feedback-type: abuse");
    assert_string_equal(b.orig_message_id, "n1@example.org");
    bounce_free(&b);
}

static void
test_qmail(void **state)
{
    (void)state;
    struct bounce_info b;
    parse("From: MAILER-DAEMON@mx.example.net\nTo: mentors@example.org\n"
          "Subject: failure notice\n\nHi. This is the qmail-send program at mx.example.net.\n"
          "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
          "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
          "<gus@example.net>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
          "--- Below this line is a copy of the message.\n\n"
          "From: mentors@example.org\nTo: other@example.net\nMessage-ID: <q1@example.org>\n\nhi\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_PERMANENT);
    assert_int_equal(b.n_recipients, 1); /* not us, not the copy's To */
    assert_string_equal(b.recipients[0], "gus@example.net");
    assert_string_equal(b.status, "5.1.1");
    assert_string_equal(b.orig_message_id, "q1@example.org");
    bounce_free(&b);
}

static void
test_exim_and_warning(void **state)
{
    (void)state;
    struct bounce_info b;
    parse("From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: mentors@example.org\n"
          "X-Failed-Recipients: hal@example.com\nSubject: Mail delivery failed\n\n"
          "This message was created automatically by mail delivery software.\n\n"
          "A message that you sent could not be delivered to one or more of its\n"
          "recipients. This is a permanent error. The following address(es) failed:\n\n"
          "  hal@example.com\n    SMTP error from remote mail server after RCPT "
          "TO:<hal@example.com>:\n"
          "    550 5.1.1 User unknown\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_PERMANENT);
    assert_int_equal(b.n_recipients, 1);
    assert_string_equal(b.recipients[0], "hal@example.com");
    assert_string_equal(b.status, "5.1.1");
    assert_int_equal(b.reply_code, 550);
    bounce_free(&b);
    parse("From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: mentors@example.org\n"
          "Subject: Warning: message 1abc delayed 24 hours\n\n"
          "This message was created automatically by mail delivery software.\n\n"
          "A message that you sent has not yet been delivered to one or more of its\n"
          "recipients after more than 24 hours on the queue on mx.example.net.\n\n"
          "The address to which the message has not yet been delivered is:\n\n"
          "  ivy@example.com\n\nNo action is required on your part. Delivery attempts will\n"
          "continue for some time, and this warning may be repeated.\n",
          &b);
    assert_int_equal(b.severity, BOUNCE_DELAYED);
    assert_true(has_rcpt(&b, "ivy@example.com"));
    assert_false(has_rcpt(&b, "mentors@example.org"));
    bounce_free(&b);
}

/* Classify and parse raw in one go; the kind is returned. */
static enum classify_kind
classify_and_parse(const char *raw, struct bounce_info *b)
{
    struct mail *m = NULL;
    char err[256];
    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof err), 0);
    enum classify_kind k = classify_mail(m, OWN, NULL);
    assert_int_equal(bounce_parse(m, raw, strlen(raw), b), 0);
    mail_free(m);
    return k;
}

/* MDaemon titles a user-unknown bounce "Warning:" and sends it with Precedence: bulk. */
static void
test_mdaemon_user_unknown(void **state)
{
    (void)state;
    struct bounce_info b;
    enum classify_kind k = classify_and_parse(
        "Return-Path: <MDaemon@mx.example.py>\nFrom: MDaemon@mx.example.py\n"
        "Precedence: bulk\nTo: mentors@example.org\n"
        "Subject: Warning: kim@mx.example.py - User unknown!\n\n"
        "kim@mx.example.py - no such user here.\n\nThere is no user by that name at this server.\n",
        &b);
    assert_int_equal(k, CLASSIFY_BOUNCE); /* not list mail */
    assert_int_equal(b.severity, BOUNCE_PERMANENT);
    assert_true(has_rcpt(&b, "kim@mx.example.py"));
    bounce_free(&b);
    /* A real warning with the same title word stays a delay. */
    k = classify_and_parse("Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\n"
                           "Subject: Warning: could not send message for past 4 hours\n\n"
                           "The following addresses had transient non-fatal errors\n"
                           "<kim@example.net>\n\nWill keep trying until the message is 5 days "
                           "old\n",
                           &b);
    assert_int_equal(k, CLASSIFY_BOUNCE);
    assert_int_equal(b.severity, BOUNCE_DELAYED);
    assert_true(has_rcpt(&b, "kim@example.net"));
    bounce_free(&b);
}

/*
 * A Postfix bounce whose boundary parameter does not match its parts: the
 * raw body is read, and Postfix's sentence about "the attached returned
 * message" is not where the copy starts.
 */
static void
test_broken_boundary(void **state)
{
    (void)state;
    struct bounce_info b;
    enum classify_kind k = classify_and_parse(
        "Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.jp (Mail Delivery System)\n"
        "Subject: Undelivered Mail Returned to Sender\nTo: mentors@example.org\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"AAA.1\"\n\n"
        "This is a MIME-encapsulated message.\n\n--AAA.2\nContent-Type: text/plain\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        "If you do so, please include this problem report. You can\n"
        "delete your own text from the attached returned message.\n\n"
        "<neko@example.org>: host mx.example.org said: 550 5.1.1 No such user\n\n"
        "--AAA.2\nContent-Type: message/rfc822\n\nReceived: by mx.example.jp\n"
        "From: mentors@example.org\nTo: other@example.org\n\nhi\n--AAA.2--\n",
        &b);
    assert_int_equal(k, CLASSIFY_BOUNCE);
    assert_int_equal(b.severity, BOUNCE_PERMANENT);
    assert_int_equal(b.n_recipients, 1);
    assert_string_equal(b.recipients[0], "neko@example.org");
    assert_string_equal(b.status, "5.1.1");
    bounce_free(&b);
}

/* Sendmail's "<<< No Message Collected >>>": a failure report that names nobody. */
static void
test_returned_mail_without_text(void **state)
{
    (void)state;
    struct bounce_info b;
    enum classify_kind k = classify_and_parse(
        "Return-Path: <>\nFrom: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\n"
        "To: mentors@example.org\nSubject: Returned mail: see transcript for details\n"
        "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"x/y\"\n\n"
        "<<< No Message Collected >>>\n",
        &b);
    assert_int_equal(k, CLASSIFY_BOUNCE);
    assert_int_equal(b.severity, BOUNCE_PERMANENT);
    assert_int_equal(b.n_recipients, 0); /* so nobody is scored */
    bounce_free(&b);
}

/* A mailing-list manager's refusal (fml) is a bounce about us, never scored. */
static void
test_list_refusal(void **state)
{
    (void)state;
    static const char head[] =
        "Return-Path: <neko-admin@lists.example.org>\n"
        "From: neko-admin@lists.example.org\nTo: mentors@example.org\n"
        "X-MLServer: fml [fml 4.0.3 release (20011202/4.0.3)]\n"
        "List-Subscribe: <mailto:neko-ctl@lists.example.org?body=subscribe>\n";
    char raw[1024];
    struct bounce_info b;
    snprintf(raw, sizeof raw,
             "%sSubject: You mentors@example.org are not member (neko ML)\n\n"
             "You are not a member of this mailing list <neko@lists.example.org>.\n",
             head);
    assert_int_equal(classify_and_parse(raw, &b), CLASSIFY_BOUNCE);
    assert_int_equal(b.severity, BOUNCE_POLICY);
    assert_int_equal(b.n_recipients, 0);
    bounce_free(&b);
    snprintf(raw, sizeof raw, "%sSubject: Loop Alert: Duplicated Message-ID (neko ML)\n\nx\n",
             head);
    assert_int_equal(classify_and_parse(raw, &b), CLASSIFY_BOUNCE);
    assert_int_equal(b.severity, BOUNCE_POLICY);
    bounce_free(&b);
    /* The same list's ordinary post is list mail. */
    snprintf(raw, sizeof raw, "%sSubject: Re: meeting notes\n\nSee you.\n", head);
    assert_int_equal(classify_and_parse(raw, &b), CLASSIFY_BULK);
    bounce_free(&b);
    /* The title alone, from a person without list headers, is no refusal. */
    struct mail *m = NULL;
    char err[64];
    const char *person = "From: ann@example.net\nSubject: you are not member yet?\n\nx\n";
    assert_int_equal(mail_parse(person, strlen(person), &m, err, sizeof err), 0);
    assert_int_equal(bounce_is_list_refusal(m), 0);
    assert_int_equal(classify_mail(m, OWN, NULL), CLASSIFY_PERSON);
    mail_free(m);
    assert_int_equal(bounce_is_list_refusal(NULL), 0);
}

static void
test_not_a_bounce_and_garbage(void **state)
{
    (void)state;
    struct bounce_info b;
    parse(
        "From: ann@example.net\nTo: mentors@example.org\nSubject: hello\n\nThanks for the match!\n",
        &b);
    assert_int_equal(b.severity, BOUNCE_NONE);
    assert_int_equal(b.n_recipients, 0);
    assert_null(b.diagnostic);
    bounce_free(&b);
    /* A broken report part, no mail: no crash, nothing invented. */
    const char *raw = "Content-Type: multipart/report; boundary=X\n\n--X\n"
                      "Content-Type: message/delivery-status\n\n:\n::\nFinal-Recipient:\n"
                      "Action\n Status: 9.9\n";
    assert_int_equal(bounce_parse(NULL, raw, strlen(raw), &b), 0);
    assert_int_equal(b.n_recipients, 0);
    bounce_free(&b);
    assert_int_equal(bounce_parse(NULL, NULL, 0, &b), 0);
    assert_int_equal(b.severity, BOUNCE_NONE);
    bounce_free(&b);
}

/* 100,000 nested message/rfc822 parts overflowed libetpan's recursive MIME parser. */
static void
test_hostile_nesting(void **state)
{
    (void)state;
    static const char level[] = "Subject: x\nContent-Type: message/rfc822\n\n";
    static const char head[] = "From: MAILER-DAEMON@example.test\n"
                               "Content-Type: multipart/report; boundary=X\n\n--X\n"
                               "Content-Type: message/rfc822\n\n";
    const size_t depth = 100000, ll = sizeof(level) - 1, hl = sizeof(head) - 1;
    size_t len = hl + depth * ll;
    char *raw = malloc(len);
    assert_non_null(raw);
    memcpy(raw, head, hl);
    for (size_t i = 0; i < depth; i++)
        memcpy(raw + hl + i * ll, level, ll);
    struct bounce_info b;
    assert_int_equal(bounce_parse(NULL, raw, len, &b), 0);
    assert_int_equal(b.n_recipients, 0);
    bounce_free(&b);
    free(raw);
}

static void
test_names(void **state)
{
    (void)state;
    assert_string_equal(bounce_severity_name(BOUNCE_NONE), "none");
    assert_string_equal(bounce_severity_name(BOUNCE_TEMPORARY), "temporary");
    assert_string_equal(bounce_severity_name(BOUNCE_PERMANENT), "permanent");
    assert_string_equal(bounce_severity_name(BOUNCE_POLICY), "policy");
    assert_string_equal(bounce_severity_name(BOUNCE_COMPLAINT), "complaint");
    assert_string_equal(bounce_severity_name(BOUNCE_DELAYED), "delayed");
}

/* ---- corpus ------------------------------------------------------------------ */

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

/* Columns of bounces/expected.tsv that the figures use. */
enum {
    C_FILE,
    C_SOURCE,
    C_INDEX,
    C_IS_BOUNCE,
    C_RCPTS,
    C_STATUS,
    C_CODE,
    C_REASON,
    C_HARD,
    C_TEMP,
    C_ACTION,
    C_FEEDBACK,
    C_DIAG,
    C_MSGID,
    C_NCOLS
};

/* Split a TSV line in place into cols; returns the number of columns. */
static int
split_tsv(char *line, char **cols, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < max; n++) {
        cols[n] = p;
        char *tab = strchr(p, '\t');
        if (tab == NULL)
            return n + 1;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

/*
 * Expectations that contradict other sources' or the source's own test.
 * They are left as they are: counted as disagreements and named with the
 * reason next to the figure, so a new disagreement stands out.
 */
struct contradiction {
    const char *file, *why;
};

#define SPAM_WHY                                                                                   \
    "plain spam from a person's address, no robot evidence: mdbp's is_bounce starts at 1 for "     \
    "any input, and its test calls this 'a non-bounce spam message' and asserts only that no "     \
    "report is found (none is)"
static const struct contradiction bounce_contradictions[] = {
    {"mdbp-spam-bogus-email-in-report.msg", SPAM_WHY},
    {"mdbp-spam-lots-of-bogus-addresses.msg", SPAM_WHY},
    {"mdbp-spam-with-image.msg", SPAM_WHY},
    {"bemail-bounce-auto-respond.txt",
     "an ARF abuse report: bemail counts it as bounced, sisimai-arf-* and flanker-complaints-* "
     "(5 rows) say a complaint is not a bounce; we read it as a complaint: never answered, not "
     "scored"},
};

static const struct contradiction autoreply_contradictions[] = {
    {"bemail-tt_1234241664.txt",
     "is_autoreply is the corpus compiler's reading; the source asserts only 'not a bounce', "
     "which holds: the text is a system's apology for a test mailing ('please ignore this "
     "e-mail') from a VERP list address, not an answer to anything, so it is list mail: never "
     "answered, nobody's reminders paused"},
};

static const char *
contradiction(const struct contradiction *list, size_t n, const char *file)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].file, file) == 0)
            return list[i].why;
    return NULL;
}

struct figures {
    int files, rows;
    int documented;                 /* is_bounce disagreements that are listed contradictions */
    int robot, robot_total;         /* classify: not a person */
    int is_bounce, is_bounce_total; /* bounce or not, where the source says */
    int rcpt, rcpt_total, rcpt_extra;
    int status, status_total, pseudo;
    int temp, temp_total;
    int hard, hard_total;
    int msgid, msgid_total;
};

struct parsed {
    char file[256];
    enum classify_kind kind;
    struct bounce_info b;
};

static int
verbose(void)
{
    return getenv("BOUNCE_VERBOSE") != NULL;
}

static void
parse_file(const char *dir, const char *file, struct parsed *p)
{
    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s/%s", CORPUS, dir, file);
    char *raw = read_all(path, &len);
    assert_non_null(raw);
    struct mail *m = NULL;
    char err[256];
    /* Some samples were saved from mbox files; an IMAP message has no "From " line. */
    char *msg = raw;
    if (strncmp(msg, "From ", 5) == 0 && strchr(msg, '\n') != NULL) {
        msg = strchr(msg, '\n') + 1;
        len -= (size_t)(msg - raw);
    }
    snprintf(p->file, sizeof p->file, "%s", file);
    memset(&p->b, 0, sizeof p->b);
    p->kind = CLASSIFY_PERSON;
    if (mail_parse(msg, len, &m, err, sizeof err) == 0) {
        p->kind = classify_mail(m, OWN, NULL);
        assert_int_equal(bounce_parse(m, msg, len, &p->b), 0);
        mail_free(m);
    }
    free(raw);
}

/* A final failure report: a delay warning is not a bounce yet (mdbp, mikel/mail). */
static int
said_bounce(const struct parsed *p)
{
    return p->kind == CLASSIFY_BOUNCE &&
           (p->b.severity == BOUNCE_PERMANENT || p->b.severity == BOUNCE_POLICY ||
            p->b.severity == BOUNCE_TEMPORARY);
}

/* Reported as a temporary failure: a delay warning or a 4.x.x soft bounce. */
static int
said_temporary(const struct parsed *p)
{
    return p->b.severity == BOUNCE_TEMPORARY || p->b.severity == BOUNCE_DELAYED;
}

static void
score_recipients(struct figures *f, const struct parsed *p, char *want)
{
    int found = 0, total = 0;
    for (char *tok = strtok(want, " "); tok != NULL; tok = strtok(NULL, " ")) {
        for (char *c = tok; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        total++;
        found += has_rcpt(&p->b, tok);
        if (!has_rcpt(&p->b, tok) && verbose())
            printf("bounce: MISSED recipient %s in %s\n", tok, p->file);
    }
    f->rcpt += found;
    f->rcpt_total += total;
    if (p->b.n_recipients > (size_t)found) {
        f->rcpt_extra += (int)p->b.n_recipients - found;
        if (verbose())
            for (size_t i = 0; i < p->b.n_recipients; i++)
                printf("bounce: got %s in %s\n", p->b.recipients[i], p->file);
    }
}

/*
 * sisimai's x.0.9xx codes are its own: it makes them up from the reason
 * when the mail gives no status at all.  No RFC 3463 reader can match them.
 */
static int
is_pseudo_status(const char *s)
{
    return strlen(s) == 7 && (s[0] == '4' || s[0] == '5') && strncmp(s + 1, ".0.9", 4) == 0;
}

static void
score_row(struct figures *f, const struct parsed *p, char **c)
{
    const struct bounce_info *b = &p->b;
    if (*c[C_IS_BOUNCE]) {
        /*
         * A delay warning is a temporary failure report.  Sources label it
         * differently: flufl reports its addresses as temporary failures
         * (temporary = 1, and is_bounce 1 only for that, corpus README);
         * sisimai reports it as a soft bounce (its asserted hard_bounce 0 with a
         * 4.x.x status; the corpus derives is_bounce 1 from the reason, it is not
         * asserted); mdbp and mikel/mail say it is not a (final) bounce
         * (is_bounce 0).  mentord reads it as what all of them describe: a
         * bounce whose severity is delayed or temporary, never scored as a
         * final failure.  That agrees with each source's own label.
         */
        int soft = c[C_TEMP][0] == '1' || (strncmp(c[C_SOURCE], "sisimai", 7) == 0 &&
                                           c[C_HARD][0] == '0' && c[C_STATUS][0] == '4');
        int reported =
            c[C_IS_BOUNCE][0] == '1' && soft && p->kind == CLASSIFY_BOUNCE && said_temporary(p);
        int ok = (c[C_IS_BOUNCE][0] == '1') == (said_bounce(p) || reported);
        f->is_bounce += ok;
        f->is_bounce_total++;
        const char *why =
            ok ? NULL
               : contradiction(bounce_contradictions,
                               sizeof bounce_contradictions / sizeof bounce_contradictions[0],
                               p->file);
        f->documented += why != NULL;
        if (!ok)
            printf("bounce: is_bounce disagrees for %s: source %s, ours %s/%s%s%s\n", p->file,
                   c[C_IS_BOUNCE], classify_name(p->kind), bounce_severity_name(b->severity),
                   why ? "; documented contradiction: " : "", why ? why : "");
    }
    if (*c[C_RCPTS])
        score_recipients(f, p, c[C_RCPTS]);
    if (is_pseudo_status(c[C_STATUS])) {
        f->pseudo++;
    } else if (*c[C_STATUS] && strcmp(c[C_STATUS], "unknown") != 0) {
        int ok = strcmp(c[C_STATUS], b->status) == 0;
        f->status += ok;
        f->status_total++;
        if (!ok && verbose())
            printf("bounce: status %s, want %s: %s\n", b->status, c[C_STATUS], p->file);
    }
    if (*c[C_TEMP]) {
        int ok = (c[C_TEMP][0] == '1') == said_temporary(p);
        f->temp += ok;
        f->temp_total++;
        if (!ok && verbose())
            printf("bounce: temporary %s, ours %s: %s\n", c[C_TEMP],
                   bounce_severity_name(b->severity), p->file);
    }
    if (c[C_HARD][0] == '1') {
        f->hard += b->severity == BOUNCE_PERMANENT;
        f->hard_total++;
        if (b->severity != BOUNCE_PERMANENT && verbose())
            printf("bounce: hard bounce read as %s (%s %s): %s\n",
                   bounce_severity_name(b->severity), b->status, c[C_REASON], p->file);
    }
    if (*c[C_MSGID]) {
        char want[256];
        snprintf(want, sizeof want, "%.*s", (int)strcspn(c[C_MSGID] + 1, ">"), c[C_MSGID] + 1);
        f->msgid += b->orig_message_id != NULL && strcmp(b->orig_message_id, want) == 0;
        f->msgid_total++;
    }
}

static double
pct(int a, int b)
{
    return b ? 100.0 * a / b : 100.0;
}

static void
test_corpus_bounces(void **state)
{
    (void)state;
    FILE *tsv = fopen(CORPUS "/bounces/expected.tsv", "r");
    if (tsv == NULL) {
        printf("bounce: %s/bounces absent, corpus figures skipped\n", CORPUS);
        skip();
    }
    struct figures f = {0};
    struct parsed p = {.file = ""};
    char line[16384], *c[C_NCOLS + 4];
    assert_non_null(fgets(line, sizeof line, tsv)); /* header row */
    while (fgets(line, sizeof line, tsv) != NULL) {
        if (split_tsv(line, c, C_NCOLS + 4) < C_NCOLS)
            continue;
        if (strcmp(p.file, c[C_FILE]) != 0) { /* rows of one file are adjacent */
            bounce_free(&p.b);
            parse_file("bounces", c[C_FILE], &p);
            f.files++;
            f.robot += p.kind != CLASSIFY_PERSON;
            f.robot_total++;
            if (p.kind == CLASSIFY_PERSON)
                printf("bounce: read as a person's mail (so answered): %s\n", p.file);
        }
        f.rows++;
        score_row(&f, &p, c);
    }
    bounce_free(&p.b);
    fclose(tsv);
    printf("bounce: is_bounce %d/%d (%.1f%%), recipients %d/%d (%.1f%%, %d others named), "
           "status %d/%d (%.1f%%; %d sisimai pseudo-codes not counted), temporary %d/%d (%.1f%%), "
           "hard %d/%d (%.1f%%), "
           "orig_message_id %d/%d\n",
           f.is_bounce, f.is_bounce_total, pct(f.is_bounce, f.is_bounce_total), f.rcpt,
           f.rcpt_total, pct(f.rcpt, f.rcpt_total), f.rcpt_extra, f.status, f.status_total,
           pct(f.status, f.status_total), f.pseudo, f.temp, f.temp_total, pct(f.temp, f.temp_total),
           f.hard, f.hard_total, pct(f.hard, f.hard_total), f.msgid, f.msgid_total);
    int undocumented = f.is_bounce_total - f.is_bounce - f.documented;
    printf("bounce: is_bounce disagreements %d: %d documented contradictions (above), %d others; "
           "on the %d rows without a contradiction %d/%d (%.1f%%)\n",
           f.is_bounce_total - f.is_bounce, f.documented, undocumented,
           f.is_bounce_total - f.documented, f.is_bounce, f.is_bounce_total - f.documented,
           pct(f.is_bounce, f.is_bounce_total - f.documented));
    printf("bounce: %d files, %d rows; not answered (classify not person) %d/%d (%.1f%%)\n",
           f.files, f.rows, f.robot, f.robot_total, pct(f.robot, f.robot_total));
    assert_true(f.files >= 400);
    /* The four mdbp spam-* samples are plain spam from a person's address (see test_classify). */
    assert_true(f.robot >= f.robot_total - 4);
    assert_true(pct(f.robot, f.robot_total) >= 99.0);
    /* Floors at the figures reached (see the report); a regression fails here. */
    assert_int_equal(undocumented, 0);
    assert_true(pct(f.is_bounce, f.is_bounce_total) >= 99.0); /* issue 3's target */
    assert_true(pct(f.rcpt, f.rcpt_total) >= 94.5);
    assert_true(f.rcpt_extra <= 7);
    assert_true(pct(f.status, f.status_total) >= 93.0);
    assert_true(pct(f.temp, f.temp_total) >= 97.0);
    assert_int_equal(f.hard, f.hard_total);
    assert_int_equal(f.msgid, f.msgid_total);
}

/* Auto-replies are never answered, and never scored as a member's failed delivery. */
static void
test_corpus_autoreplies(void **state)
{
    (void)state;
    FILE *tsv = fopen(CORPUS "/autoreplies/expected.tsv", "r");
    if (tsv == NULL) {
        printf("bounce: %s/autoreplies absent, figures skipped\n", CORPUS);
        skip();
    }
    char line[16384], *c[12];
    int total = 0, auto_reply = 0, robot = 0, no_failure = 0, documented = 0, automatic = 0;
    assert_non_null(fgets(line, sizeof line, tsv));
    while (fgets(line, sizeof line, tsv) != NULL) {
        if (split_tsv(line, c, 12) < 4 || c[2][0] != '1')
            continue;
        struct parsed p;
        parse_file("autoreplies", c[0], &p);
        total++;
        auto_reply += p.kind == CLASSIFY_AUTO_REPLY;
        robot += p.kind != CLASSIFY_PERSON;
        /* Automatic mail that is not a bounce: what every source asserts of these. */
        automatic += p.kind == CLASSIFY_AUTO_REPLY || p.kind == CLASSIFY_AUTOMATIC ||
                     p.kind == CLASSIFY_BULK;
        no_failure +=
            p.b.n_recipients == 0 || p.b.severity == BOUNCE_NONE || p.b.severity == BOUNCE_POLICY;
        const char *why = contradiction(
            autoreply_contradictions,
            sizeof autoreply_contradictions / sizeof autoreply_contradictions[0], p.file);
        if (p.kind != CLASSIFY_AUTO_REPLY) {
            documented += why != NULL;
            printf("bounce: autoreply %s read as %s%s%s\n", p.file, classify_name(p.kind),
                   why ? "; documented contradiction: " : "", why ? why : "");
        }
        bounce_free(&p.b);
    }
    fclose(tsv);
    printf("autoreplies: automatic and not a bounce %d/%d (%.1f%%), not answered %d/%d, not "
           "scored as a bounce %d/%d; read as an auto-reply (out-of-office, vacation, "
           "challenge-response) %d/%d (%.1f%%)\n",
           automatic, total, pct(automatic, total), robot, total, no_failure, total, auto_reply,
           total, pct(auto_reply, total));
    printf("autoreplies: %d documented contradiction(s) (above); on the %d without one, "
           "auto-reply %d/%d (%.1f%%)\n",
           documented, total - documented, auto_reply, total - documented,
           pct(auto_reply, total - documented));
    assert_true(total >= 17);
    assert_int_equal(robot, total);
    assert_int_equal(automatic, total);
    assert_int_equal(auto_reply + documented, total);
    assert_int_equal(no_failure, total);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dsn_permanent),
        cmocka_unit_test(test_dsn_delayed_and_delivered),
        cmocka_unit_test(test_dsn_policy),
        cmocka_unit_test(test_dsn_records),
        cmocka_unit_test(test_dsn_base64),
        cmocka_unit_test(test_arf),
        cmocka_unit_test(test_qmail),
        cmocka_unit_test(test_exim_and_warning),
        cmocka_unit_test(test_mdaemon_user_unknown),
        cmocka_unit_test(test_broken_boundary),
        cmocka_unit_test(test_returned_mail_without_text),
        cmocka_unit_test(test_list_refusal),
        cmocka_unit_test(test_not_a_bounce_and_garbage),
        cmocka_unit_test(test_hostile_nesting),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_corpus_bounces),
        cmocka_unit_test(test_corpus_autoreplies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
