/*
 * reader: the isolated reader reads every corpus mail exactly as reading_read
 * does in the daemon's own process, with the same context.
 *
 * Each message under ../shared/corpus is parsed in the reader (reader_parse)
 * and read there (reader_read) with a few contexts (nothing known; a member
 * with one open pair; a mentor with an open proposal; a manager), and the
 * reading that comes back over the pipe is compared, field by field, with
 * reading_read run here on the same parsed mail; also when the next mails'
 * parses and readings were asked for ahead, with a right or a wrong guess
 * of the context.  Also: time zones are still
 * recognised in the reader's sandbox, and a request without a parsed mail is
 * refused, not guessed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

#include "../daemon/reader_int.h"
#include "config.h"
#include "log.h"
#include "mail.h"
#include "reader.h"
#include "reading.h"
#include "corpus.h"
#include "testutil.h"

#define CORPUS MENTORD_SRCDIR "/../shared/corpus"
#define T0 1767225600 /* 2026-01-01 */

struct fixture {
    struct config cfg;
    char *managers[2];
    int compared;
};

static int
same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (!same_str(a[i], b[i]))
            return 0;
    return 1;
}

static void
same_profile(const char *name, const struct profile *a, const struct profile *b)
{
    if (!same_str(a->name, b->name) || !same_str(a->timezone, b->timezone) ||
        !same_list(a->skills, a->n_skills, b->skills, b->n_skills) ||
        !same_list(a->languages, a->n_languages, b->languages, b->n_languages) ||
        !same_list(a->goals, a->n_goals, b->goals, b->n_goals) || a->capacity != b->capacity ||
        a->availability != b->availability || a->n_fields != b->n_fields ||
        a->n_problems != b->n_problems)
        fail_msg("%s: the reader's profile differs (name %s/%s, zone %s/%s, fields %zu/%zu)", name,
                 a->name ? a->name : "-", b->name ? b->name : "-", a->timezone ? a->timezone : "-",
                 b->timezone ? b->timezone : "-", a->n_fields, b->n_fields);
    for (size_t i = 0; i < a->n_problems; i++)
        if (a->problems[i].line != b->problems[i].line ||
            !same_str(a->problems[i].text, b->problems[i].text) ||
            !same_str(a->problems[i].hint, b->problems[i].hint))
            fail_msg("%s: the reader's profile problem %zu differs", name, i);
}

static void
same_reading(const char *name, const struct reading *a, const struct reading *b)
{
    if (a->kind != b->kind || a->classified != b->classified || a->intent != b->intent ||
        a->confidence != b->confidence || a->ask != b->ask || a->rating != b->rating ||
        a->pause_weeks != b->pause_weeks || a->capacity != b->capacity ||
        a->refuses_confirm != b->refuses_confirm || a->role_answer != b->role_answer ||
        a->n_why != b->n_why)
        fail_msg("%s: the reader reads %s (%d%%), here %s (%d%%)", name, reading_intent_name(a),
                 a->confidence, reading_intent_name(b), b->confidence);
    if (a->cmd.kind != b->cmd.kind || a->cmd.number != b->cmd.number ||
        a->cmd.from_subject != b->cmd.from_subject || a->cmd.from_address != b->cmd.from_address ||
        strcmp(a->cmd.token, b->cmd.token) != 0)
        fail_msg("%s: the reader's command differs", name);
    if (!same_str(a->class_reason, b->class_reason) || !same_str(a->rating_how, b->rating_how) ||
        !same_str(a->address_header, b->address_header))
        fail_msg("%s: the reader's reasons differ", name);
    if (!same_str(a->text, b->text) || !same_str(a->prose, b->prose) ||
        !same_str(a->sent_along, b->sent_along) || !same_str(a->place, b->place))
        fail_msg("%s: the reader's text differs", name);
    if (a->manager.n != b->manager.n)
        fail_msg("%s: the reader's manager command differs", name);
    for (size_t i = 0; i < a->manager.n; i++)
        if (strcmp(a->manager.w[i], b->manager.w[i]) != 0)
            fail_msg("%s: the reader's manager word %zu differs", name, i);
    for (size_t i = 0; i < a->n_why; i++)
        if (strcmp(a->why[i], b->why[i]) != 0)
            fail_msg("%s: why %zu: \"%s\" / \"%s\"", name, i, a->why[i], b->why[i]);
    same_profile(name, &a->profile, &b->profile);
    same_profile(name, &a->told, &b->told);
}

/* Read raw in the reader with ctx and here; both readings must be the same. */
static void
compare(struct fixture *f, const char *name, const char *raw, size_t len,
        const struct reading_context *ctx)
{
    struct mail *m = NULL;
    char err[256];
    struct reading there, here;
    size_t plen = mail_parse_limit(raw, len, (size_t)f->cfg.limits.max_message_size);

    enum reader_status s =
        reader_parse(raw, len, plen, f->cfg.community.address, 30, &m, err, sizeof err, NULL);
    if (s == READER_UNPARSEABLE)
        return;
    if (s != READER_OK)
        fail_msg("%s: reader_parse: %s (%s)", name, reader_status_name(s), err);
    s = reader_read(&f->cfg, len, ctx, &there, err, sizeof err, NULL);
    if (s != READER_OK)
        fail_msg("%s: reader_read: %s (%s)", name, reader_status_name(s), err);
    assert_int_equal(reading_read(&f->cfg, m, len, ctx, &here), 0);
    same_reading(name, &there, &here);
    f->compared++;
    reading_free(&there);
    reading_free(&here);
    mail_free(m);
}

static void
compare_contexts(struct fixture *f, const char *name, const char *raw, size_t len)
{
    struct reading_context ctx;

    memset(&ctx, 0, sizeof ctx);
    ctx.known = 1;
    ctx.now = T0;
    compare(f, name, raw, len, &ctx);
    ctx.member = 1;
    ctx.open_pairs = 1;
    ctx.answers_checkin = 1;
    compare(f, name, raw, len, &ctx);
    ctx.answers_checkin = 0;
    ctx.open_proposals = 1;
    ctx.answers_proposal = 1;
    ctx.pending_confirm = 1;
    compare(f, name, raw, len, &ctx);
}

static void
reader_each(void *arg, const char *path, const char *raw, size_t len)
{
    compare_contexts(arg, path, raw, len);
}

static void
test_reader_reads_the_corpus_as_the_daemon(void **state)
{
    struct fixture *f = *state;

    tu_corpus_walk(CORPUS, reader_each, f);
    printf("# the reader and the daemon agree on %d readings\n", f->compared);
    assert_true(f->compared > 1000);
}

/* The corpus, kept in memory for a walk in the daemon's own order. */
struct kept {
    char **path, **raw;
    size_t *len;
    size_t n, cap;
};

static void
keep_each(void *arg, const char *path, const char *raw, size_t len)
{
    struct kept *k = arg;

    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 256;
        k->path = realloc(k->path, k->cap * sizeof *k->path);
        k->raw = realloc(k->raw, k->cap * sizeof *k->raw);
        k->len = realloc(k->len, k->cap * sizeof *k->len);
        assert_true(k->path && k->raw && k->len);
    }
    k->path[k->n] = strdup(path);
    k->raw[k->n] = malloc(len ? len : 1);
    assert_true(k->path[k->n] && k->raw[k->n]);
    memcpy(k->raw[k->n], raw, len);
    k->len[k->n++] = len;
}

static void
kept_free(struct kept *k)
{
    for (size_t j = 0; j < k->n; j++) {
        free(k->path[j]);
        free(k->raw[j]);
    }
    free(k->path);
    free(k->raw);
    free(k->len);
}

/* Mail i (m, parsed in the reader) read there with ctx: the reading reading_read gives here. */
static void
read_and_compare(struct fixture *f, const struct kept *k, size_t i, struct mail *m,
                 const struct reading_context *ctx)
{
    struct reading there, here;
    char err[256];
    enum reader_status s = reader_read(&f->cfg, k->len[i], ctx, &there, err, sizeof err, NULL);

    if (s != READER_OK)
        fail_msg("%s: reader_read: %s (%s)", k->path[i], reader_status_name(s), err);
    assert_int_equal(reading_read(&f->cfg, m, k->len[i], ctx, &here), 0);
    same_reading(k->path[i], &there, &here);
    reading_free(&there);
    reading_free(&here);
    mail_free(m);
}

/*
 * The daemon names the batch's next mail before each reading, so that its
 * parse goes with the reading request (reader_parse_next).  Walk the corpus
 * that way: every reading must still be the one reading_read gives here,
 * also when the mail parsed is not the one named (every fifth time: the
 * early answer is thrown away), and when the named mail is too big to go
 * along.
 */
static void
test_reader_parse_ahead(void **state)
{
    struct fixture *f = *state;
    struct kept k = {0};
    struct reading_context ctx = {.known = 1, .now = T0, .member = 1, .open_pairs = 1};
    int compared = 0, switched = 0;

    tu_corpus_walk(CORPUS, keep_each, &k);
    assert_true(k.n > 100);
    size_t i = 0;
    while (i < k.n) {
        struct mail *m = NULL;
        char err[256];
        size_t plen = mail_parse_limit(k.raw[i], k.len[i], (size_t)f->cfg.limits.max_message_size);
        enum reader_status s = reader_parse(k.raw[i], k.len[i], plen, f->cfg.community.address, 30,
                                            &m, err, sizeof err, NULL);
        size_t next = i + 1;
        if (s == READER_OK) {
            if (next < k.n) {
                size_t nplen = mail_parse_limit(k.raw[next], k.len[next],
                                                (size_t)f->cfg.limits.max_message_size);
                reader_parse_next(k.raw[next], k.len[next], nplen, f->cfg.community.address, 30);
            }
            read_and_compare(f, &k, i, m, &ctx);
            compared++;
        } else if (s != READER_UNPARSEABLE) {
            fail_msg("%s: reader_parse: %s (%s)", k.path[i], reader_status_name(s), err);
        }
        if (i % 5 == 4 && next + 1 < k.n) {
            next++; /* not the one named */
            switched++;
        }
        i = next;
    }
    /* A mail bigger than the pipe, named and then parsed: it went the usual way. */
    size_t big = 256 * 1024;
    char *raw = malloc(big + 1);
    assert_non_null(raw);
    int hd = snprintf(raw, big, "From: Ana <ana@example.test>\r\nSubject: join\r\n\r\n");
    for (size_t j = (size_t)hd; j < big; j++)
        raw[j] = (j - (size_t)hd) % 60 == 59 ? '\n' : 'a' + (char)(j % 26);
    struct mail *m = NULL;
    struct reading r;
    char err[256];
    const char *small = "From: Kai <kai@example.test>\r\nSubject: hello\r\n\r\nHello\r\n";
    assert_int_equal(
        reader_parse(small, strlen(small), strlen(small), NULL, 30, &m, err, sizeof err, NULL),
        READER_OK);
    mail_free(m);
    reader_parse_next(raw, big, big, NULL, 30);
    assert_int_equal(reader_read(&f->cfg, strlen(small), &ctx, &r, err, sizeof err, NULL),
                     READER_OK);
    reading_free(&r);
    /* The small mail again, read twice: the second reading is refused, not the next mail's. */
    assert_int_equal(
        reader_parse(small, strlen(small), strlen(small), NULL, 30, &m, err, sizeof err, NULL),
        READER_OK);
    mail_free(m);
    reader_parse_next(small, strlen(small), strlen(small), NULL, 30);
    assert_int_equal(reader_read(&f->cfg, strlen(small), &ctx, &r, err, sizeof err, NULL),
                     READER_OK);
    reading_free(&r);
    assert_int_equal(reader_read(&f->cfg, strlen(small), &ctx, &r, err, sizeof err, NULL),
                     READER_ERROR);
    assert_int_equal(reader_parse(raw, big, big, NULL, 30, &m, err, sizeof err, NULL), READER_OK);
    assert_string_equal(m->from_addr, "ana@example.test");
    mail_free(m);
    free(raw);
    printf("# %d readings with the next mail parsed ahead, %d times another mail came\n", compared,
           switched);
    assert_true(compared > 100 && switched > 10);
    kept_free(&k);
}

/* The mail's context in the walk below: three kinds of sender, by its place. */
static void
walk_ctx(size_t i, struct reading_context *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->known = 1;
    ctx->now = T0;
    ctx->member = i % 3 != 0;
    ctx->open_proposals = i % 3 == 2;
    ctx->answers_proposal = i % 3 == 2;
    ctx->open_pairs = i % 3 == 1;
}

/*
 * The next mail's parse, once it came back (reader_parse_early never
 * waits): the walk below gives the reader a moment, as the daemon's store
 * of the current mail does.
 */
static const struct mail *
early_of(const struct kept *k, size_t j, size_t max)
{
    const struct mail *e = NULL;
    size_t plen = mail_parse_limit(k->raw[j], k->len[j], max);

    for (int t = 0; t < 200; t++) {
        int got = reader_parse_early(k->raw[j], k->len[j], plen, "mentors@example.test", &e);
        if (got != 0)
            return got == 1 ? e : NULL;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return NULL;
}

/*
 * The daemon's way with readings asked for ahead: mail i+1's reading is
 * asked for with a guess of its context before mail i is read.  Walk the
 * corpus that way, guessing right two times in three and wrong the third,
 * and every seventh time parsing another mail than the one named: every
 * reading must be the one reading_read gives here with the real context,
 * and the right guesses must have been used.
 */
static void
test_reader_reads_ahead(void **state)
{
    struct fixture *f = *state;
    struct kept k = {0};
    struct reader_counts c0, c1;
    size_t max = (size_t)f->cfg.limits.max_message_size;
    int compared = 0, guessed = 0, early = 0;

    tu_corpus_walk(CORPUS, keep_each, &k);
    assert_true(k.n > 100);
    reader_get_counts(&c0);
    for (size_t i = 0; i < k.n;) {
        struct mail *m = NULL;
        struct reading_context ctx, guess;
        char err[256];
        size_t plen = mail_parse_limit(k.raw[i], k.len[i], max);
        enum reader_status s = reader_parse(k.raw[i], k.len[i], plen, "mentors@example.test",
                                            30, &m, err, sizeof err, NULL);
        size_t next = i % 7 == 6 && i + 2 < k.n ? i + 2 : i + 1;
        if (s == READER_UNPARSEABLE) {
            i = next;
            continue;
        }
        if (s != READER_OK)
            fail_msg("%s: reader_parse: %s (%s)", k.path[i], reader_status_name(s), err);
        const struct mail *e = i + 1 < k.n ? early_of(&k, i + 1, max) : NULL;
        if (e != NULL) {
            early++;
            walk_ctx(i % 3 == 1 ? i + 2 : i + 1, &guess); /* wrong one time in three */
            guessed += i % 3 != 1;
            reader_read_next(&f->cfg, k.len[i + 1], &guess);
        }
        for (size_t j = i + 1; j < i + 4 && j < k.n; j++)
            reader_parse_next(k.raw[j], k.len[j], mail_parse_limit(k.raw[j], k.len[j], max),
                              "mentors@example.test", 30);
        walk_ctx(i, &ctx);
        read_and_compare(f, &k, i, m, &ctx);
        compared++;
        i = next;
    }
    reader_get_counts(&c1);
    unsigned long used = c1.readings_ahead - c0.readings_ahead;
    printf("# %d readings, %d next mails parsed in time, %d guessed right, %lu used\n", compared,
           early, guessed, used);
    assert_true(compared > 100 && early > compared / 2);
    /* A right guess is used unless its mail was not the next (every seventh) or unparseable. */
    assert_true(used > 0 && used <= (unsigned long)guessed);
    assert_true(used >= (unsigned long)guessed * 2 / 3);
    kept_free(&k);
}

/*
 * Ask ahead as the daemon does (inbox_ahead): the readings of the two mails
 * after the next (READER_READS_SKIP) at once, with guesses of their contexts
 * (the second's wrong one time in three), sent at once (reader_send_next),
 * and nothing more while the reader has a later mail's reading
 * (reader_reads_ahead); parses READER_AHEAD ahead.  Every reading must be
 * the one reading_read gives here, and right guesses must have been used.
 */
static void
test_reader_reads_two_ahead(void **state)
{
    struct fixture *f = *state;
    struct kept k = {0};
    struct reader_counts c0, c1;
    size_t max = (size_t)f->cfg.limits.max_message_size;
    int compared = 0, asked = 0, held = 0;

    tu_corpus_walk(CORPUS, keep_each, &k);
    assert_true(k.n > 100);
    reader_get_counts(&c0);
    for (size_t i = 0; i < k.n; i++) {
        struct mail *m = NULL;
        struct reading_context ctx, guess;
        char err[256];
        size_t plen = mail_parse_limit(k.raw[i], k.len[i], max);
        enum reader_status s = reader_parse(k.raw[i], k.len[i], plen, "mentors@example.test",
                                            30, &m, err, sizeof err, NULL);
        if (s == READER_UNPARSEABLE)
            continue;
        if (s != READER_OK)
            fail_msg("%s: reader_parse: %s (%s)", k.path[i], reader_status_name(s), err);
        held += reader_reads_ahead();
        size_t first = i + 1 + READER_READS_SKIP;
        for (size_t j = first; !reader_reads_ahead() && j < first + READER_READS_AHEAD && j < k.n;
             j++) {
            if (early_of(&k, j, max) == NULL)
                break;
            walk_ctx(j == first + 1 && i % 3 == 0 ? j + 1 : j, &guess);
            reader_read_next(&f->cfg, k.len[j], &guess);
            asked++;
        }
        for (size_t j = i + 1; j < i + 1 + READER_AHEAD && j < k.n; j++)
            reader_parse_next(k.raw[j], k.len[j], mail_parse_limit(k.raw[j], k.len[j], max),
                              "mentors@example.test", 30);
        reader_send_next(NULL);
        walk_ctx(i, &ctx);
        read_and_compare(f, &k, i, m, &ctx);
        compared++;
    }
    reader_get_counts(&c1);
    unsigned long used = c1.readings_ahead - c0.readings_ahead;
    printf("# %d readings, %d asked ahead, %d turns held, %lu used\n", compared, asked, held,
           used);
    assert_true(compared > 100 && asked > compared / 2 && held > compared / 4);
    assert_true(used > (unsigned long)asked / 2 && used <= (unsigned long)asked);
    kept_free(&k);
}

/* The reader (a fork of this test: a child of its main thread), or 0. */
static pid_t
reader_child(void)
{
    char path[64];
    long pid = 0;

    snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    if (fscanf(fp, "%ld", &pid) != 1)
        pid = 0;
    fclose(fp);
    return (pid_t)pid;
}

/*
 * Mail i failed (s, err): one mail after each kill of the reader
 * (may_blame) may be blamed, the one whose request the reader had not
 * answered when it died (it may have died before it even read it, since a
 * kill takes a moment); parsed and read again, its reading is right (or
 * the parser refuses it again).  1.
 */
static int
blamed_right(struct fixture *f, const struct kept *k, size_t i, int may_blame,
             enum reader_status s, const char *err, const struct reading_context *ctx)
{
    struct mail *m = NULL;
    char again[256];
    size_t plen = mail_parse_limit(k->raw[i], k->len[i], (size_t)f->cfg.limits.max_message_size);

    if (s != READER_CRASHED || !may_blame)
        fail_msg("%s: %s (%s), and the reader was not killed since the last one blamed",
                 k->path[i], reader_status_name(s), err);
    s = reader_parse(k->raw[i], k->len[i], plen, "mentors@example.test", 30, &m, again,
                     sizeof again, NULL);
    if (s == READER_OK)
        read_and_compare(f, k, i, m, ctx);
    else if (s != READER_UNPARSEABLE) /* a mail the parser refuses stays refused */
        fail_msg("%s: parsed again: %s (%s)", k->path[i], reader_status_name(s), again);
    return 1;
}

/*
 * The reader killed while it works ahead (the next mail's reading, the
 * parses after it), as a crash of any of those mails would: at most one
 * mail is blamed for each kill (and read again, it is read right), and
 * every other reading is the one reading_read gives here.
 */
static void
killed_while_working_ahead(void **state, int two)
{
    struct fixture *f = *state;
    struct kept k = {0};
    size_t max = (size_t)f->cfg.limits.max_message_size;
    int kills = 0, blamed = 0, compared = 0, may_blame = 0;

    tu_corpus_walk(CORPUS, keep_each, &k);
    assert_true(k.n > 100);
    for (size_t i = 0; i < k.n && i < 400; i++) {
        struct mail *m = NULL;
        struct reading_context ctx;
        char err[256];
        size_t plen = mail_parse_limit(k.raw[i], k.len[i], max);
        enum reader_status s = reader_parse(k.raw[i], k.len[i], plen, "mentors@example.test",
                                            30, &m, err, sizeof err, NULL);
        if (s == READER_UNPARSEABLE)
            continue;
        walk_ctx(i, &ctx);
        if (s != READER_OK) {
            /* Its parse was under way at the kill: blamed, and parsed again, it is read right. */
            blamed += blamed_right(f, &k, i, may_blame, s, err, &ctx);
            may_blame = 0;
            continue;
        }
        /* Two: as the daemon asks (inbox_ahead), the readings sent at once (reader_send_next). */
        size_t first = two ? i + 1 + READER_READS_SKIP : i + 1;
        size_t reads = two ? READER_READS_AHEAD : 1;
        for (size_t j = first; j < first + reads && j < k.n && !(two && reader_reads_ahead());
             j++) {
            struct reading_context next;
            if (early_of(&k, j, max) == NULL)
                break;
            walk_ctx(j, &next);
            reader_read_next(&f->cfg, k.len[j], &next);
        }
        for (size_t j = i + 1; j < i + 1 + (two ? READER_AHEAD : 3) && j < k.n; j++)
            reader_parse_next(k.raw[j], k.len[j], mail_parse_limit(k.raw[j], k.len[j], max),
                              "mentors@example.test", 30);
        if (two)
            reader_send_next(NULL);
        struct reading there;
        s = reader_read(&f->cfg, k.len[i], &ctx, &there, err, sizeof err, NULL);
        if (s == READER_OK) {
            struct reading here;
            assert_int_equal(reading_read(&f->cfg, m, k.len[i], &ctx, &here), 0);
            same_reading(k.path[i], &there, &here);
            reading_free(&there);
            reading_free(&here);
            mail_free(m);
            compared++;
        } else {
            /* Its reading was under way at the kill. */
            mail_free(m);
            blamed += blamed_right(f, &k, i, may_blame, s, err, &ctx);
            may_blame = 0;
        }
        if (i % 9 == 4) {
            pid_t pid = reader_child();
            if (pid > 0 && kill(pid, SIGKILL) == 0) {
                kills++;
                may_blame = 1;
            }
        }
    }
    printf("# %d readings, %d kills while working ahead (%s), %d mails blamed\n", compared,
           kills, two ? "two readings ahead" : "one", blamed);
    assert_true(compared > 100 && kills > 10 && blamed <= kills);
    kept_free(&k);
}

static void
test_reader_killed_while_working_ahead(void **state)
{
    killed_while_working_ahead(state, 0);
}

/* The same, with two readings asked for ahead at once, as the daemon asks (inbox_ahead). */
static void
test_reader_killed_while_working_two_ahead(void **state)
{
    killed_while_working_ahead(state, 1);
}

/* A profile, a time zone in a line and one in a sentence, and a manager's command. */
static void
test_reader_zones_and_managers(void **state)
{
    struct fixture *f = *state;
    struct reading_context ctx = {.known = 1, .now = T0};
    static const char *const mails[] = {
        "From: Ana <ana@example.test>\r\nSubject: join\r\n\r\nHi, I'd like a mentor.\r\n"
        "Time zone: europe/berlin\r\nLanguages: Spanish, English\r\n",
        "From: Kai <kai@example.test>\r\nSubject: hello\r\n\r\nI'm Kai from Denver and "
        "I would like to mentor people in Rust.\r\n",
        "From: Boss <boss@example.test>\r\nSubject: Remove\r\n\r\nremove nina@example.test\r\n",
    };

    for (size_t i = 0; i < sizeof mails / sizeof mails[0]; i++)
        compare(f, mails[i], mails[i], strlen(mails[i]), &ctx);
    struct mail *m = NULL;
    struct reading r;
    char err[256];
    assert_int_equal(reader_parse(mails[0], strlen(mails[0]), strlen(mails[0]),
                                  f->cfg.community.address, 30, &m, err, sizeof err, NULL),
                     READER_OK);
    assert_int_equal(reader_read(&f->cfg, strlen(mails[0]), &ctx, &r, err, sizeof err, NULL),
                     READER_OK);
    assert_string_equal(r.profile.timezone, "Europe/Berlin"); /* read in the sandbox */
    reading_free(&r);
    mail_free(m);
}

/* After a mail that does not parse, there is nothing to read: refused, not guessed. */
static void
test_reader_read_without_a_parse(void **state)
{
    struct fixture *f = *state;
    struct reading_context ctx = {.known = 1, .now = T0};
    struct mail *m = NULL;
    struct reading r;
    char err[256];
    const char *bad = "no headers at all, not a mail";

    enum reader_status s =
        reader_parse(bad, strlen(bad), strlen(bad), NULL, 30, &m, err, sizeof err, NULL);
    if (s == READER_OK) {
        mail_free(m);
        skip(); /* the parser took it after all: nothing to check here */
    }
    assert_int_equal(s, READER_UNPARSEABLE);
    assert_int_equal(reader_read(&f->cfg, strlen(bad), &ctx, &r, err, sizeof err, NULL),
                     READER_ERROR);
}

/*
 * What comes back from a reader is checked as it is read: a reader taken
 * over by a crafted mail may send anything.  Every cut of a real answer and
 * random bytes are refused or read, never a crash (the sanitizer build).
 */
static void
test_reader_answers_are_checked(void **state)
{
    struct fixture *f = *state;
    struct reading_context ctx = {.known = 1, .now = T0, .open_pairs = 1, .member = 1};
    const char *raw = "From: Ana <ana@example.test>\r\nSubject: hello\r\n\r\nRating: 4\r\n"
                      "Skills: rust, go\r\nTime zone: utc+2\r\nGoals: x\r\nCapacity: lots\r\n";
    struct mail *m = NULL;
    struct reading r, back;
    char err[256];
    struct reader_buf b = {0};

    assert_int_equal(mail_parse(raw, strlen(raw), &m, err, sizeof err), 0);
    assert_int_equal(reading_read(&f->cfg, m, strlen(raw), &ctx, &r), 0);
    reader_put_reading(&b, &r);
    assert_false(b.failed);
    struct reader_in in = {b.p, b.len, 0, 0};
    assert_int_equal(reader_get_reading(&in, &back), 0);
    same_reading("round trip", &back, &r);
    reading_free(&back);
    for (size_t cut = 0; cut < b.len; cut++) {
        struct reader_in part = {b.p, cut, 0, 0};
        if (reader_get_reading(&part, &back) == 0)
            reading_free(&back);
    }
    srand(13);
    for (int i = 0; i < 20000; i++) {
        char junk[512];
        size_t n = (size_t)(rand() % (int)sizeof junk);
        for (size_t k = 0; k < n; k++)
            junk[k] = (char)(rand() % 4 == 0 ? 0 : rand());
        struct reader_in in2 = {junk, n, 0, 0};
        if (reader_get_reading(&in2, &back) == 0)
            reading_free(&back);
        struct reader_in in3 = {junk, n, 0, 0};
        mail_free(reader_get_mail(&in3));
        /* and a real answer with bytes flipped */
        char *copy = malloc(b.len);
        assert_non_null(copy);
        memcpy(copy, b.p, b.len);
        copy[(size_t)rand() % b.len] ^= (char)(1 + rand() % 255);
        struct reader_in in4 = {copy, b.len, 0, 0};
        if (reader_get_reading(&in4, &back) == 0)
            reading_free(&back);
        free(copy);
    }
    free(b.p);
    reading_free(&r);
    mail_free(m);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    assert_non_null(f);
    tu_test_config(&f->cfg, f->managers);
    f->cfg.programme.plus_addressing = 1;
    log_init(LOG_LEVEL_ERROR, 0, "test_reader");
    signal(SIGPIPE, SIG_IGN); /* as mentord does: a dead reader is an EPIPE, not a signal */
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    reader_shutdown();
    free(*state);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_zones_and_managers),
        cmocka_unit_test(test_reader_read_without_a_parse),
        cmocka_unit_test(test_reader_answers_are_checked),
        cmocka_unit_test(test_reader_parse_ahead),
        cmocka_unit_test(test_reader_reads_ahead),
        cmocka_unit_test(test_reader_reads_two_ahead),
        cmocka_unit_test(test_reader_killed_while_working_ahead),
        cmocka_unit_test(test_reader_killed_while_working_two_ahead),
        cmocka_unit_test(test_reader_reads_the_corpus_as_the_daemon),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
