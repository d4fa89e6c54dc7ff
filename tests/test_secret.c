/* Unit tests for secret: alphabet, length, no modulo bias. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/*
 * The pool (secret.c) is per process: a forked child draws bytes of its own,
 * never the ones its parent draws next.  Without the fork handler both would
 * take the same 64 bytes from the pool they share.
 */
static void
test_fork_child_draws_its_own(void **state)
{
    (void)state;
    unsigned char parent[64], child[64], first[8];
    int fd[2];

    assert_int_equal(secret_random(first, sizeof(first)), 0); /* the pool is filled */
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        int ok = secret_random(child, sizeof(child)) == 0 &&
                 write(fd[1], child, sizeof(child)) == (ssize_t)sizeof(child);
        _exit(ok ? 0 : 1);
    }
    close(fd[1]);
    assert_int_equal(secret_random(parent, sizeof(parent)), 0);
    assert_int_equal(read(fd[0], child, sizeof(child)), (ssize_t)sizeof(child));
    close(fd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_memory_not_equal(parent, child, sizeof(parent));
}

/* Bytes are handed out once: draws that follow each other share nothing. */
static void
test_random_never_repeats(void **state)
{
    (void)state;
    unsigned char a[16], b[16];

    for (int i = 0; i < 200; i++) { /* across several refills of the pool */
        assert_int_equal(secret_random(a, sizeof(a)), 0);
        assert_int_equal(secret_random(b, sizeof(b)), 0);
        assert_memory_not_equal(a, b, sizeof(a));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_shape),
        cmocka_unit_test(test_no_bias),
        cmocka_unit_test(test_distinct),
        cmocka_unit_test(test_fork_child_draws_its_own),
        cmocka_unit_test(test_random_never_repeats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
