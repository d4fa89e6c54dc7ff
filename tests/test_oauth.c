/* Tests for oauth: form encoding, token syntax, id_token accounts, the refresh token
 * file, and the refusal that waits for a new authorisation (no server needed). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "oauth.h"
#include "testutil.h"

static void
test_form_encoding(void **state)
{
    (void)state;
    char *f = oauth_form("grant_type", "refresh_token", "skip", (char *)NULL, "scope",
                         "https://mail.google.com/ openid", "x", "a&b=c\xc3\xa9", (char *)NULL);

    assert_non_null(f);
    assert_string_equal(f, "grant_type=refresh_token&scope=https%3A%2F%2Fmail.google.com%2F%20"
                           "openid&x=a%26b%3Dc%C3%A9");
    free(f);
}

static void
test_token_syntax(void **state)
{
    (void)state;
    assert_true(oauth_token_ok("ya29.a0AfB_byC-x~y+z/w=="));
    assert_false(oauth_token_ok(""));
    assert_false(oauth_token_ok(NULL));
    assert_false(oauth_token_ok("two words"));
    assert_false(oauth_token_ok("line\nbreak"));
    assert_false(oauth_token_ok("\x01"));
}

static void
test_id_token_account(void **state)
{
    (void)state;
    /* {"alg":"none"} . {"email":"ann@example.org","sub":"1"} . (no signature) */
    char *a = oauth_id_token_account(
        "eyJhbGciOiJub25lIn0.eyJlbWFpbCI6ImFubkBleGFtcGxlLm9yZyIsInN1YiI6IjEifQ.");
    assert_non_null(a);
    assert_string_equal(a, "ann@example.org");
    free(a);
    /* {"preferred_username":"bob@contoso.com"}: base64url with '_' and no padding */
    a = oauth_id_token_account("x.eyJwcmVmZXJyZWRfdXNlcm5hbWUiOiJib2JAY29udG9zby5jb20ifQ.y");
    assert_non_null(a);
    assert_string_equal(a, "bob@contoso.com");
    free(a);
    assert_null(oauth_id_token_account("not a jwt"));
    assert_null(oauth_id_token_account("a.!!!!.b"));
    assert_null(oauth_id_token_account(NULL));
}

static void
test_save_is_private_and_atomic(void **state)
{
    (void)state;
    char dir[64], path[128], err[256], buf[160] = "";
    struct stat before, after;

    assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "oauth"), 0);
    snprintf(path, sizeof(path), "%s/token", dir);
    assert_int_equal(tu_write_file(dir, "token", "old\n"), 0);
    assert_int_equal(stat(path, &before), 0);
    assert_int_equal(oauth_save_refresh_token(path, "rt-new", err, sizeof(err)), 0);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_mode & 07777, 0600);
    assert_int_not_equal(before.st_ino, after.st_ino); /* replaced by rename, not rewritten */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "rt-new\n");
    snprintf(buf, sizeof(buf), "%s/token.new", dir);
    assert_int_not_equal(access(buf, F_OK), 0); /* no temp file left */
    /* A folder that does not exist: an error naming the file, not a crash. */
    assert_int_equal(oauth_save_refresh_token("/nonexistent/dir/token", "x", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/dir/token"));
    tu_rmrf(dir);
}

/*
 * No refresh token yet: refused with what to run; asked again, refused without a
 * request; once a file appears, the endpoint is asked (here: nobody listens, so
 * a transient error), and no error text holds the token.
 */
static void
test_refused_until_the_file_changes(void **state)
{
    (void)state;
    struct config cfg;
    char dir[64], path[128], err[1024];
    const char *token = NULL;

    assert_int_equal(tu_mkdtemp(dir, sizeof(dir), "oauth"), 0);
    snprintf(path, sizeof(path), "%s/refresh-token", dir);
    memset(&cfg, 0, sizeof(cfg));
    config_set_defaults(&cfg);
    cfg.path = "/etc/mentord/test.ini";
    cfg.oauth2.used = 1;
    cfg.oauth2.token_url = "http://127.0.0.1:1/token";
    cfg.oauth2.client_id = "mentord";
    cfg.oauth2.refresh_token_file = path;
    struct oauth *o = oauth_open(&cfg);
    assert_non_null(o);

    assert_int_equal(oauth_token(o, 1000, &token, err, sizeof(err)), OAUTH_REFUSED);
    assert_null(token);
    assert_non_null(strstr(err, "mentorctl -c /etc/mentord/test.ini oauth authorize"));
    assert_int_equal(oauth_token(o, 1001, &token, err, sizeof(err)), OAUTH_REFUSED);

    assert_int_equal(tu_write_file(dir, "refresh-token", "rt-very-secret-42\n"), 0);
    assert_int_equal(oauth_token(o, 1002, &token, err, sizeof(err)), OAUTH_TRANSIENT);
    assert_null(strstr(err, "rt-very-secret-42"));
    assert_non_null(strstr(err, "127.0.0.1"));
    assert_int_equal(oauth_refresh_count(o), 0);
    assert_int_equal(oauth_expiry(o), 0);
    oauth_close(o);
    tu_rmrf(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_encoding),
        cmocka_unit_test(test_token_syntax),
        cmocka_unit_test(test_id_token_account),
        cmocka_unit_test(test_save_is_private_and_atomic),
        cmocka_unit_test(test_refused_until_the_file_changes),
    };

    log_init(LOG_LEVEL_ERROR, 0, "test_oauth");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
