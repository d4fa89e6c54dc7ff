/* Unit tests for secret: alphabet, length, no modulo bias. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "command.h"
#include "secret.h"

static void
test_token_shape(void **state)
{
    (void)state;
    char t[SECRET_TOKEN_LEN + 1];

    for (int i = 0; i < 1000; i++) {
        assert_int_equal(secret_token(t, SECRET_TOKEN_LEN), 0);
        assert_int_equal(strlen(t), SECRET_TOKEN_LEN);
        assert_int_equal(strspn(t, SECRET_ALPHABET), SECRET_TOKEN_LEN);
    }
    /* The promise of the issue: at least 64 bits. */
    assert_true(secret_bits(SECRET_TOKEN_LEN) >= 64.0);
    assert_int_equal(SECRET_TOKEN_LEN, COMMAND_TOKEN_LEN);
    assert_string_equal(SECRET_ALPHABET, COMMAND_TOKEN_ALPHABET);
}

/*
 * 310,000 characters: each of the 31 is expected 10,000 times.  With byte % 31
 * the first 8 would come about 11,100 times; a chi-square over 30 degrees of
 * freedom above 80 happens by chance with probability below 1e-5.
 */
static void
test_no_bias(void **state)
{
    (void)state;
    static char buf[310000 + 1];
    size_t counts[31] = {0};

    assert_int_equal(secret_token(buf, 310000), 0);
    for (size_t i = 0; i < 310000; i++) {
        const char *p = strchr(SECRET_ALPHABET, buf[i]);
        assert_non_null(p);
        counts[p - SECRET_ALPHABET]++;
    }
    double chi = 0;
    for (size_t k = 0; k < 31; k++)
        chi += ((double)counts[k] - 10000.0) * ((double)counts[k] - 10000.0) / 10000.0;
    assert_true(chi < 80.0);
    for (size_t k = 0; k < 8; k++)
        assert_true(counts[k] < 10600); /* the biased generator gives ~11,100 */
}

static void
test_distinct(void **state)
{
    (void)state;
    char a[SECRET_TOKEN_LEN + 1], b[SECRET_TOKEN_LEN + 1];

    assert_int_equal(secret_token(a, SECRET_TOKEN_LEN), 0);
    assert_int_equal(secret_token(b, SECRET_TOKEN_LEN), 0);
    assert_string_not_equal(a, b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_shape),
        cmocka_unit_test(test_no_bias),
        cmocka_unit_test(test_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
