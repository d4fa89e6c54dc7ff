/*
 * Unit tests for auth: which Authentication-Results header counts, and what
 * in it proves the exact From: address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "mail.h"

#define OURS "mx.example.org"

static enum auth_verdict
verdict(const char *from, const char *headers, const char *address)
{
    char raw[4096], err[256];
    struct mail *m = NULL;

    snprintf(raw, sizeof(raw), "%sFrom: %s\r\nTo: mentors@example.org\r\nSubject: x\r\n\r\nhi\r\n",
             headers, from);
    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof(err)), 0);
    enum auth_verdict v = auth_dmarc(m, OURS, address);
    mail_free(m);
    return v;
}

static void
test_aligned_pass(void **state)
{
    (void)state;
    assert_int_equal(verdict("Ann <ann@example.org>",
                             "Authentication-Results: mx.example.org 1; (comment; with ;)\r\n"
                             " dkim=pass header.d=example.org; dmarc=pass (p=reject)"
                             " header.from=example.org\r\n",
                             "ann@example.org"),
                     AUTH_PASS);
    /* addresses compare without case */
    assert_int_equal(verdict("ANN@Example.org",
                             "Authentication-Results: MX.example.org; dmarc=pass"
                             " header.from=EXAMPLE.org\r\n",
                             "ann@example.org"),
                     AUTH_PASS);
}

static void
test_what_does_not_prove(void **state)
{
    (void)state;
    static const char *const headers[] = {
        "", /* nothing */
        "Authentication-Results: evil.example; dmarc=pass header.from=example.org\r\n",
        "Authentication-Results: mx.example.org; dmarc=fail header.from=example.org\r\n",
        "Authentication-Results: mx.example.org; dmarc=pass header.from=evil.org\r\n",
        "Authentication-Results: mx.example.org; dmarc=passed header.from=example.org\r\n",
        "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=ann@example.org\r\n",
        "Authentication-Results: mx.example.org; dkim=pass header.d=example.org\r\n",
        /* ours says none; a forged pass with our id below it is the sender's word */
        "Authentication-Results: mx.example.org; dmarc=none header.from=example.org\r\n"
        "Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\r\n",
        /* a pass with another domain's header.from plus one for ours: any other result fails */
        "Authentication-Results: mx.example.org; dmarc=fail header.from=example.org;"
        " dmarc=pass header.from=example.org\r\n",
    };
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
        if (verdict("ann@example.org", headers[i], "ann@example.org") == AUTH_PASS)
            fail_msg("header %zu proved the sender: %s", i, headers[i]);
}

static void
test_exact_address(void **state)
{
    (void)state;
    const char *pass =
        "Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\r\n";
    /* the domain's pass proves the From: address, not another user of the domain */
    assert_int_equal(verdict("eve@example.org", pass, "boss@example.org"), AUTH_FAIL);
    /* two mailboxes in From: prove nothing */
    assert_int_equal(verdict("ann@example.org, boss@example.org", pass, "ann@example.org"),
                     AUTH_FAIL);
    /* another server's pass above ours is skipped; ours decides */
    assert_int_equal(verdict("ann@example.org",
                             "Authentication-Results: relay.example.net; dmarc=fail\r\n"
                             "Authentication-Results: mx.example.org; dmarc=pass"
                             " header.from=example.org\r\n",
                             "ann@example.org"),
                     AUTH_PASS);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aligned_pass),
        cmocka_unit_test(test_what_does_not_prove),
        cmocka_unit_test(test_exact_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
