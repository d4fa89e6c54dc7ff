/*
 * reply_extract: hand-written cases for each client style and language, the
 * "a command in a quote is never read" premise, pathological inputs, and the
 * accuracy over ../shared/corpus/replies (tests/data/replies_expected.tsv,
 * generated from the corpus's expected.json by tests/data/gen_replies_expected.py).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail.h"
#include "reply.h"
#include "testutil.h"

#define CORPUS MENTORD_SRCDIR "/../shared/corpus/replies"
#define EXPECTED MENTORD_SRCDIR "/tests/data/replies_expected.tsv"

/* ---- helpers ------------------------------------------------------------ */

/* Extract and compare with the expected text exactly. */
static void
check(const char *text, const char *want)
{
    char *got = reply_extract(text);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "input:\n%s\n--- want:\n%s\n--- got:\n%s\n---\n", text, want, got);
    assert_string_equal(got, want);
    free(got);
}

/* 1 when the extracted text of text contains needle (case-sensitive). */
static int
extract_contains(const char *text, const char *needle)
{
    char *got = reply_extract(text);
    assert_non_null(got);
    int found = strstr(got, needle) != NULL;
    free(got);
    return found;
}

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *p = realloc(buf, cap * 2 + 1);
            if (p == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * The body text of a corpus file as the daemon would see it: .eml files go
 * through mail_parse, HTML bodies through mail_parse as a text/html message
 * (so mail.c's gumbo converter makes the text), the rest is the body itself.
 */
static char *
corpus_text(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", CORPUS, name);
    size_t len;
    char *raw = read_file(path, &len);
    if (raw == NULL)
        return NULL;
    if (!ends_with(name, ".eml") && !ends_with(name, ".html"))
        return raw;
    char *msg = raw;
    if (ends_with(name, ".html")) {
        const char *hdr = "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n";
        size_t hlen = strlen(hdr);
        msg = malloc(hlen + len + 1);
        if (msg == NULL) {
            free(raw);
            return NULL;
        }
        memcpy(msg, hdr, hlen);
        memcpy(msg + hlen, raw, len + 1);
        len += hlen;
        free(raw);
    }
    struct mail *m = NULL;
    char err[256];
    char *text = NULL;
    if (mail_parse(msg, len, &m, err, sizeof(err)) == 0) {
        text = strdup(m->text ? m->text : "");
        mail_free(m);
    } else {
        fprintf(stderr, "reply corpus: %s: mail_parse: %s\n", name, err);
    }
    free(msg);
    return text;
}

static void
unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r == '\\' && r[1] != '\0') {
            r++;
            *w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* Copy of s with leading and trailing whitespace removed. */
static char *
stripped(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

/* Copy of s with every whitespace character removed. */
static char *
squeezed(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    if (out == NULL)
        return NULL;
    size_t k = 0;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            out[k++] = *s;
    out[k] = '\0';
    return out;
}

static int
texts_match(const char *got, const char *want, const char *mode)
{
    if (strcmp(mode, "exact") == 0)
        return strcmp(got, want) == 0;
    char *a = strcmp(mode, "strip") == 0 ? stripped(got) : squeezed(got);
    char *b = strcmp(mode, "strip") == 0 ? stripped(want) : squeezed(want);
    assert_non_null(a);
    assert_non_null(b);
    int same = strcmp(a, b) == 0;
    free(a);
    free(b);
    return same;
}

/* Split a TSV line into at most n fields in place; returns the count. */
static int
split_tabs(char *line, char **fields, int n)
{
    int k = 0;
    fields[k++] = line;
    for (char *p = line; *p && k < n; p++) {
        if (*p == '\t') {
            *p = '\0';
            fields[k++] = p + 1;
        }
    }
    line[strcspn(line, "\n")] = '\0';
    for (int i = 0; i < k; i++)
        fields[i][strcspn(fields[i], "\n")] = '\0';
    return k;
}

static int
corpus_present(void)
{
    DIR *d = opendir(CORPUS);
    if (d == NULL)
        return 0;
    closedir(d);
    return 1;
}

/* ---- the corpus --------------------------------------------------------- */

struct tally {
    int cases, ok;               /* every case with an expected reply text */
    int policy_cases, policy_ok; /* those without a documented policy conflict */
    int conflict_failed;         /* failures the TSV explains */
    int checks, checks_ok;       /* secondary contains / not_contains facts */
};

static void
run_row(char **f, struct tally *t)
{
    char *text = corpus_text(f[0]);
    if (text == NULL) {
        fprintf(stderr, "reply corpus: cannot read %s\n", f[0]);
        t->cases += strcmp(f[1], "reply") == 0;
        return;
    }
    char *got = reply_extract(text);
    assert_non_null(got);
    unescape(f[3]);
    unescape(f[4]);
    if (strcmp(f[1], "reply") == 0) {
        int ok = texts_match(got, f[3], f[2]);
        int conflict = f[4][0] != '\0';
        t->cases++;
        t->ok += ok;
        t->policy_cases += !conflict;
        t->policy_ok += !conflict && ok;
        t->conflict_failed += conflict && !ok;
        if (!ok && !conflict)
            printf("reply: FAIL %s (%s)\n--- want:\n%s\n--- got:\n%s\n---\n", f[0], f[2], f[3],
                   got);
        else if (!ok)
            printf("reply: differs %s: the source %s\n", f[0], f[4]);
    } else {
        int has = strstr(got, f[3]) != NULL;
        int ok = strcmp(f[1], "contains") == 0 ? has : !has;
        t->checks++;
        t->checks_ok += ok;
        if (!ok)
            printf("reply: FAIL %s: extracted text should %s \"%s\"; got:\n%s\n---\n", f[0],
                   strcmp(f[1], "contains") == 0 ? "contain" : "not contain", f[3], got);
    }
    free(got);
    free(text);
}

static void
test_corpus_accuracy(void **state)
{
    (void)state;
    if (!corpus_present()) {
        printf("reply: corpus %s absent, skipped\n", CORPUS);
        skip();
    }
    FILE *tsv = fopen(EXPECTED, "r");
    assert_non_null(tsv);
    struct tally t = {0};
    char *line = NULL;
    size_t cap = 0;
    int first = 1;
    while (getline(&line, &cap, tsv) > 0) {
        char *f[5];
        if (first) {
            first = 0; /* header row */
            continue;
        }
        if (split_tabs(line, f, 5) != 5)
            continue;
        run_row(f, &t);
    }
    free(line);
    fclose(tsv);
    printf("reply: %d/%d exact-match cases (%.1f%%)\n", t.ok, t.cases,
           t.cases ? 100.0 * t.ok / t.cases : 0.0);
    printf("reply: %d/%d cases where the source agrees with mentord's policy (%.1f%%); "
           "%d differ by documented policy\n",
           t.policy_ok, t.policy_cases, t.policy_cases ? 100.0 * t.policy_ok / t.policy_cases : 0.0,
           t.conflict_failed);
    printf("reply: %d/%d secondary contains/not-contains facts\n", t.checks_ok, t.checks);
    assert_true(t.cases >= 149);
    /* Every failure must be one the TSV explains; the rest must all pass. */
    assert_int_equal(t.policy_ok, t.policy_cases);
    assert_int_equal(t.ok + t.conflict_failed, t.cases);
    assert_int_equal(t.checks_ok, t.checks);
}

/* Every corpus file, including those without expected text, within 1 s each. */
static void
test_corpus_every_file_fast(void **state)
{
    (void)state;
    if (!corpus_present())
        skip();
    DIR *d = opendir(CORPUS);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    double worst = 0;
    char worst_name[256] = "";
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || ends_with(e->d_name, ".json"))
            continue;
        char *text = corpus_text(e->d_name);
        assert_non_null(text);
        double t0 = now_seconds();
        char *got = reply_extract(text);
        double dt = now_seconds() - t0;
        assert_non_null(got);
        if (dt > worst) {
            worst = dt;
            snprintf(worst_name, sizeof(worst_name), "%s", e->d_name);
        }
        assert_true(dt < 1.0);
        free(got);
        free(text);
        files++;
    }
    closedir(d);
    printf("reply: %d corpus files extracted, slowest %s in %.3f s\n", files, worst_name, worst);
    assert_true(files >= 200);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_accuracy),
        cmocka_unit_test(test_corpus_every_file_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
