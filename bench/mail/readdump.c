/*
 * readdump: every reading of a corpus, printed as one hash a line, so that a
 * change meant to make the reading cheaper can be shown to change nothing
 * (issue 17).  Not a benchmark: run it with the old and the new build and
 * compare the outputs byte for byte (cmp).
 *
 *   readdump FILE...     (directories are walked; every regular file is read)
 *
 * For each file: its parse as the reader sends it to the daemon, its class,
 * the bounce report when it is one, its reading under several sender
 * contexts as the reader sends it (reader_int.h's wire format: every field),
 * and, with the file's bytes and the mail's text both read as the person's
 * text, the intent scores, rating, pause, capacity, skills, "Key: value"
 * profile and what prose tells.  Each item is printed as "PATH ITEM SHA-256"
 * (--full prints the bytes instead, for finding what differs).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../daemon/reader_int.h"
#include "bounce.h"
#include "classify.h"
#include "intent.h"
#include "mail.h"
#include "profile.h"
#include "reading.h"
#include "skills.h"

static int full;
static struct config cfg;

/* Print b under item, and free it. */
static void
emit(const char *path, const char *item, struct reader_buf *b)
{
    if (b->failed) {
        printf("%s %s FAILED\n", path, item);
    } else if (full) {
        printf("%s %s %zu\n", path, item, b->len);
        fwrite(b->p, 1, b->len, stdout);
        putchar('\n');
    } else {
        char h[65];
        mail_hash(b->p ? b->p : "", b->len, h);
        printf("%s %s %s\n", path, item, h);
    }
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static void
put_int(struct reader_buf *b, long long v)
{
    reader_put(b, &v, sizeof(v));
}

/* The sender contexts the daemon gives (programme_context), by name. */
struct ctx_case {
    const char *name;
    struct reading_context c;
};

static const struct ctx_case cases[] = {
    {"none", {0}},
    {"stranger", {.known = 1}},
    {"pending", {.known = 1, .pending_confirm = 1}},
    {"confirming", {.known = 1, .pending_confirm = 1, .answers_confirm = 1}},
    {"role", {.known = 1, .pending_confirm = 1, .pending_role = 1, .answers_confirm = 1}},
    {"member", {.known = 1, .member = 1, .open_pairs = 1}},
    {"paused", {.known = 1, .member = 1, .paused = 1}},
    {"checkin", {.known = 1, .member = 1, .answers_checkin = 1, .open_pairs = 1}},
    {"proposal", {.known = 1, .member = 1, .answers_proposal = 1, .open_proposals = 1}},
    {"mentor", {.known = 1, .member = 1, .open_proposals = 2, .open_pairs = 1}},
    {"manager", {.known = 1, .member = 1, .manager = 1}},
};

static void
put_profile_text(struct reader_buf *b, const struct profile *p)
{
    char *s = profile_serialise(p);
    reader_put_str(b, s);
    free(s);
    s = profile_describe(p);
    reader_put_str(b, s);
    free(s);
    put_int(b, (long long)p->n_fields);
    put_int(b, (long long)p->n_problems);
    for (size_t i = 0; i < p->n_problems; i++) {
        put_int(b, p->problems[i].line);
        reader_put_str(b, p->problems[i].text);
        reader_put_str(b, p->problems[i].hint);
        reader_put_str(b, p->problems[i].key);
    }
}

/* What the text readers say of text (the person's words). */
static void
dump_text(const char *path, const char *item, const char *text)
{
    struct reader_buf b = {0};
    struct intent_scores sc;
    const char *how = NULL;

    intent_score(text, &sc);
    reader_put(&b, &sc, sizeof(sc));
    put_int(&b, intent_rating(text, &how));
    reader_put_str(&b, how);
    put_int(&b, intent_pause_weeks(text, 1796000000));
    put_int(&b, intent_capacity(text));
    char **items = NULL;
    size_t n = 0;
    put_int(&b, skills_from_prose(text, NULL, 20, 64, &items, &n));
    for (size_t i = 0; i < n; i++) {
        reader_put_str(&b, items[i]);
        free(items[i]);
    }
    free(items);
    struct profile p;
    put_int(&b, profile_parse(text, &p));
    put_profile_text(&b, &p);
    char *place = NULL;
    put_int(&b, profile_from_sentences(text, &p, &place));
    put_profile_text(&b, &p);
    reader_put_str(&b, place);
    free(place);
    profile_free(&p);
    struct profile q;
    memset(&q, 0, sizeof(q));
    q.capacity = q.availability = -1;
    place = NULL;
    put_int(&b, profile_from_sentences(text, &q, &place));
    put_profile_text(&b, &q);
    reader_put_str(&b, place);
    free(place);
    profile_free(&q);
    emit(path, item, &b);
}

static void
dump_mail(const char *path, const char *raw, size_t len)
{
    struct mail *m = NULL;
    char err[256];
    struct reader_buf b = {0};

    if (mail_parse(raw, len, &m, err, sizeof(err)) != 0) {
        reader_put_str(&b, err);
        emit(path, "parse-error", &b);
        return;
    }
    reader_put_mail(&b, m);
    emit(path, "parse", &b);
    const char *reason = NULL;
    enum classify_kind k = classify_mail(m, cfg.community.address, &reason);
    put_int(&b, k);
    reader_put_str(&b, reason);
    if (k == CLASSIFY_BOUNCE) {
        struct bounce_info bi;
        if (bounce_parse(m, raw, len, &bi) == 0) {
            put_int(&b, bi.severity);
            for (size_t i = 0; i < bi.n_recipients; i++)
                reader_put_str(&b, bi.recipients[i]);
            reader_put_str(&b, bi.status);
            put_int(&b, bi.reply_code);
            reader_put_str(&b, bi.diagnostic);
            reader_put_str(&b, bi.orig_message_id);
            bounce_free(&bi);
        } else {
            put_int(&b, -1);
        }
    }
    emit(path, "class", &b);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct reading_context ctx = cases[i].c;
        ctx.now = 1796000000;
        struct reading r;
        char item[64];
        put_int(&b, reading_read(&cfg, m, len, &ctx, &r));
        reader_put_reading(&b, &r);
        reading_free(&r);
        snprintf(item, sizeof(item), "read-%s", cases[i].name);
        emit(path, item, &b);
    }
    /* Over the size limit: only the headers are read. */
    struct reading_context big = cases[1].c;
    struct reading r;
    big.now = 1796000000;
    put_int(&b, reading_read(&cfg, m, (size_t)cfg.limits.max_message_size + 1, &big, &r));
    reader_put_reading(&b, &r);
    reading_free(&r);
    emit(path, "read-toolarge", &b);
    if (m->text != NULL)
        dump_text(path, "mailtext", m->text);
    mail_free(m);
}

static void
dump_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        printf("%s cannot-open\n", path);
        return;
    }
    size_t cap = 1 << 16, len = 0, got;
    char *raw = malloc(cap + 1);
    while (raw != NULL && (got = fread(raw + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *g = realloc(raw, cap * 2 + 1);
            if (g == NULL)
                free(raw);
            raw = g;
            cap *= 2;
        }
    }
    fclose(f);
    if (raw == NULL)
        return;
    raw[len] = '\0';
    dump_text(path, "filetext", raw);
    dump_mail(path, raw, len);
    free(raw);
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void
walk(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        if (S_ISREG(st.st_mode))
            dump_file(path);
        return;
    }
    struct dirent **v;
    int n = scandir(path, &v, NULL, by_name);
    for (int i = 0; i < n; i++) {
        if (v[i]->d_name[0] != '.') {
            char sub[4096];
            snprintf(sub, sizeof(sub), "%s/%s", path, v[i]->d_name);
            walk(sub);
        }
        free(v[i]);
    }
    free(n >= 0 ? v : NULL);
}

int
main(int argc, char **argv)
{
    static char *managers[] = {"boss@example.test"};
    config_set_defaults(&cfg);
    cfg.community.address = "mentors@example.test";
    cfg.community.managers = managers;
    cfg.community.n_managers = 1;
    cfg.programme.plus_addressing = 1;
    if (profile_zones_preload() != 0)
        fprintf(stderr, "readdump: cannot list the time zones\n");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--full") == 0)
            full = 1;
        else
            walk(argv[i]);
    }
    return 0;
}
