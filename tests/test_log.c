/* Tests for log: line format, context, threshold, and that member text cannot forge lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* Run fn with stderr redirected to a temp file; return what it wrote (malloc'd). */
static char *
capture(void (*fn)(void))
{
    char path[] = "/tmp/mentord-log-XXXXXX";
    int fd = mkstemp(path), saved;
    char *text = calloc(1, 8192);
    ssize_t n;

    assert_true(fd >= 0);
    assert_non_null(text);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    fn();
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    n = read(fd, text, 8191);
    assert_true(n >= 0);
    close(fd);
    unlink(path);
    return text;
}

/* "YYYY-MM-DDTHH:MM:SSZ " at the start of line. */
static int
has_timestamp(const char *line)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ ";

    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)line[i]) : line[i] != shape[i])
            return 0;
    }
    return 1;
}

/* Bytes written to fd so far. */
static long
written(int fd)
{
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    return (long)sb.st_size;
}

/*
 * Held lines (a batch of mail being decided) wait for a warning, a full
 * block or the end of the hold, and come out whole and in order.
 */
static void
test_held_lines(void **state)
{
    char path[] = "/tmp/mentord-log-XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDERR_FILENO);
    char *text = calloc(1, 65536);

    (void)state;
    assert_true(fd >= 0 && saved >= 0 && text != NULL);
    fflush(stderr);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    log_init(LOG_LEVEL_INFO, 0, NULL);
    log_hold(1);
    log_info("h1");
    log_info("h2");
    long held = written(fd);
    log_warn("w1");
    long after_warn = written(fd);
    log_info("h3");
    long before_end = written(fd);
    for (int i = 0; i < 200; i++)
        log_info("line %03d of a long batch of mail", i);
    long during = written(fd);
    log_hold(0);
    log_info("not held");
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    assert_int_equal(held, 0);
    assert_true(after_warn > 0);
    assert_int_equal(before_end, after_warn);
    assert_true(during > after_warn); /* a full block went out without waiting */
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_true(read(fd, text, 65535) > 0);
    close(fd);
    unlink(path);
    char *h1 = strstr(text, "INFO h1\n"), *h2 = strstr(text, "INFO h2\n");
    char *w1 = strstr(text, "WARN w1\n"), *h3 = strstr(text, "INFO h3\n");
    char *last = strstr(text, "INFO line 199 of a long batch of mail\n");
    char *free_line = strstr(text, "INFO not held\n");
    assert_true(h1 && h2 && w1 && h3 && last && free_line);
    assert_true(h1 < h2 && h2 < w1 && w1 < h3 && h3 < last && last < free_line);
    for (int i = 0; i < 200; i++) {
        char want[64];
        snprintf(want, sizeof want, "INFO line %03d of a long batch of mail\n", i);
        assert_non_null(strstr(text, want));
    }
    free(text);
}

static void
emit_plain(void)
{
    log_init(LOG_LEVEL_INFO, 0, "mentord-test");
    log_info("hello %d", 42);
}

static void
test_line_format(void **state)
{
    char *out = capture(emit_plain);

    (void)state;
    assert_true(has_timestamp(out));
    assert_string_equal(out + 21, "INFO hello 42\n");
    free(out);
}

static void
emit_long(void)
{
    static char text[6001];

    memset(text, 'x', sizeof(text) - 1);
    log_init(LOG_LEVEL_INFO, 0, NULL);
    log_info("long %s end", text);
    log_info("short");
}

/* A line longer than a pipe's atomic write is written whole, not cut, and the next one follows. */
static void
test_long_line_whole(void **state)
{
    char *out = capture(emit_long);

    (void)state;
    assert_true(has_timestamp(out));
    assert_int_equal(strlen(out), 21 + strlen("INFO long ") + 6000 + strlen(" end\n") + 21 +
                                      strlen("INFO short\n"));
    assert_memory_equal(out + 21, "INFO long xxx", 13);
    char *second = strstr(out, " end\n");
    assert_non_null(second);
    assert_true(has_timestamp(second + 5));
    assert_string_equal(second + 5 + 21, "INFO short\n");
    free(out);
}

static void
emit_ctx(void)
{
    log_init(LOG_LEVEL_INFO, 0, NULL);
    log_ctx(LOG_LEVEL_WARN, "abc@example.org", "ann@example.org", "queued %s", "join");
    log_ctx(LOG_LEVEL_ERROR, NULL, "bob@example.org", "failed");
}

static void
test_context_appended(void **state)
{
    char *out = capture(emit_ctx);
    char *second;

    (void)state;
    assert_true(has_timestamp(out));
    second = strchr(out, '\n');
    assert_non_null(second);
    *second++ = '\0';
    assert_string_equal(out + 21,
                        "WARN queued join msgid=<abc@example.org> member=ann@example.org");
    assert_true(has_timestamp(second));
    assert_string_equal(second + 21, "ERROR failed member=bob@example.org\n");
    free(out);
}

static void
emit_levels(void)
{
    log_init(LOG_LEVEL_WARN, 0, NULL);
    log_debug("d1");
    log_info("i1");
    log_warn("w1");
    log_error("e1");
    log_init(LOG_LEVEL_DEBUG, 0, NULL);
    log_debug("d2");
    log_init(LOG_LEVEL_INFO, 0, NULL);
}

static void
test_threshold(void **state)
{
    char *out = capture(emit_levels);

    (void)state;
    assert_null(strstr(out, "d1"));
    assert_null(strstr(out, "i1"));
    assert_non_null(strstr(out, "WARN w1\n"));
    assert_non_null(strstr(out, "ERROR e1\n"));
    assert_non_null(strstr(out, "DEBUG d2\n"));
    free(out);
}

static void
emit_forgery(void)
{
    log_init(LOG_LEVEL_INFO, 0, NULL);
    log_ctx(LOG_LEVEL_INFO, "x\r\n2026-01-01T00:00:00Z ERROR fake",
            "eve@example.org\n2026-01-01T00:00:00Z INFO fake", "subject %s",
            "hi\n2026-01-01T00:00:00Z ERROR store corrupted\x1b[2J\tend");
}

static void
test_member_text_cannot_forge_lines(void **state)
{
    char *out = capture(emit_forgery);
    size_t newlines = 0;

    (void)state;
    for (const char *p = out; *p; p++) {
        if (*p == '\n')
            newlines++;
        else
            assert_false((unsigned char)*p < 0x20 || *p == 0x7f);
    }
    assert_int_equal(newlines, 1);
    assert_non_null(strstr(out, "INFO subject hi\\n2026-01-01T00:00:00Z ERROR store "
                                "corrupted\\x1b[2J\\tend msgid=<x\\r\\n2026"));
    assert_non_null(strstr(out, " member=eve@example.org\\n2026-01-01T00:00:00Z INFO fake\n"));
    free(out);
}

static void
test_level_names(void **state)
{
    (void)state;
    assert_int_equal(log_level_parse("error"), LOG_LEVEL_ERROR);
    assert_int_equal(log_level_parse("WARN"), LOG_LEVEL_WARN);
    assert_int_equal(log_level_parse("warning"), LOG_LEVEL_WARN);
    assert_int_equal(log_level_parse("Info"), LOG_LEVEL_INFO);
    assert_int_equal(log_level_parse("debug"), LOG_LEVEL_DEBUG);
    assert_int_equal(log_level_parse("verbose"), -1);
    assert_int_equal(log_level_parse(NULL), -1);
    assert_string_equal(log_level_name(LOG_LEVEL_ERROR), "error");
    assert_string_equal(log_level_name(LOG_LEVEL_WARN), "warn");
    assert_string_equal(log_level_name(LOG_LEVEL_INFO), "info");
    assert_string_equal(log_level_name(LOG_LEVEL_DEBUG), "debug");
}

/* stderr is the journal: JOURNAL_STREAM names the device and inode stderr points at. */
static void
emit_journal(void)
{
    struct stat sb;
    char js[64];

    assert_int_equal(fstat(STDERR_FILENO, &sb), 0);
    snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)sb.st_dev,
             (unsigned long long)sb.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    log_init(LOG_LEVEL_DEBUG, 0, NULL);
    log_error("disk full");
    log_warn("slow");
    log_info("started");
    log_debug("detail");
    unsetenv("JOURNAL_STREAM");
}

static void
test_journal_priority_prefix_without_timestamp(void **state)
{
    char *out = capture(emit_journal);

    (void)state;
    assert_string_equal(out, "<3>ERROR disk full\n<4>WARN slow\n<6>INFO started\n"
                             "<7>DEBUG detail\n");
    free(out);
}

/* A JOURNAL_STREAM inherited from elsewhere (stderr redirected since) changes nothing. */
static void
emit_stale_journal(void)
{
    setenv("JOURNAL_STREAM", "1:1", 1);
    log_init(LOG_LEVEL_INFO, 0, NULL);
    log_info("plain");
    unsetenv("JOURNAL_STREAM");
}

static void
test_stale_journal_stream_ignored(void **state)
{
    char *out = capture(emit_stale_journal);

    (void)state;
    assert_true(has_timestamp(out));
    free(out);
}

/* syslog = yes: the line goes to syslog only, not a second time through stderr. */
static void
emit_syslog(void)
{
    log_init(LOG_LEVEL_INFO, 1, "mentord-test");
    log_info("once");
    log_init(LOG_LEVEL_INFO, 0, NULL);
}

static void
test_syslog_not_duplicated_on_stderr(void **state)
{
    char *out = capture(emit_syslog);

    (void)state;
    assert_string_equal(out, "");
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_format),
        cmocka_unit_test(test_long_line_whole),
        cmocka_unit_test(test_context_appended),
        cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_member_text_cannot_forge_lines),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_held_lines),
        cmocka_unit_test(test_journal_priority_prefix_without_timestamp),
        cmocka_unit_test(test_stale_journal_stream_ignored),
        cmocka_unit_test(test_syslog_not_duplicated_on_stderr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
