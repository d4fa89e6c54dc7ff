/*
 * mailbench: the C halves of the mail benchmarks (bench/mail/bench.py drives them).
 *
 *   mailbench fetch HOST PORT USER PASSFILE MAILBOX
 *       The plain libetpan reference: IMAPS login, SELECT, then FETCH BODY.PEEK[]
 *       of every message in chunks of 500 (one round trip per chunk), nothing else.
 *   mailbench fetch1 HOST PORT USER PASSFILE MAILBOX [MOVETO]
 *       mentord's IMAP pattern without mentord: UID SEARCH, then per message one
 *       UID FETCH BODY.PEEK[] (and UID MOVE to MOVETO when given): the share of
 *       the ingest time that is round trips, for the README's breakdown.
 *   mailbench fetch50 HOST PORT USER PASSFILE MAILBOX [MOVETO]
 *       The same in batches of 50: UID FETCH (RFC822.SIZE
 *       BODY.PEEK[]<0.8192>) (and UID MOVE) per 50 UIDs, as inbox.c asks.
 *   mailbench fetch500 HOST PORT USER PASSFILE MAILBOX MOVETO
 *       The same per 500 UIDs, inbox.c's batch: mentord's IMAP commands
 *       alone, so Dovecot's CPU for them is measured apart from the pass.
 *   mailbench fetchmove HOST PORT USER PASSFILE MAILBOX MOVETO
 *       The ingest reference (issue 17): plain libetpan, IMAPS login and
 *       SELECT, UID SEARCH ALL, then per chunk of 500 UIDs one UID FETCH
 *       BODY.PEEK[] and one UID MOVE to MOVETO, nothing else.  seconds= and
 *       cpu= cover the SELECT and the loop after it (SEARCH, FETCHes,
 *       MOVEs), the same span as mentord's inbox pass (which logs its own).
 *   mailbench read EMLFILE|DIR N
 *       The reading alone, the floor of mentord's CPU per mail: what the reader
 *       child does for a mail (parse it, classify it, read it: intent,
 *       profile, skills), N readings in this process, with no pipe, no
 *       database and nothing sent.  Of one mail N times, or of every file in
 *       DIR in turn (bench.py gives it the pass's own mails: one mail read
 *       again and again teaches the CPU's branch predictors its every turn,
 *       which distinct mails do not).  cpu= covers the N readings.
 *   mailbench pipe N BYTES
 *       What the reader's isolation costs at the least: N round trips of a
 *       BYTES request and a BYTES answer between this process and a child over
 *       two pipes, each side blocking in read() as the reader does.  cpu=
 *       covers both processes (this one's and the reaped child's).
 *   mailbench replay DB LOG N
 *       The store's floor: the statements a process ran, as sqllog.so wrote
 *       them to LOG (SQL text and bound values, in order), run again on a new
 *       database DB by SQLite alone: each distinct SQL prepared once and
 *       reused, as the store does, with the store's settings.  cpu= covers
 *       the inbox pass's span only (from the first statement on
 *       inbox_inflight to the COMMIT after the last one); N is the mails it
 *       decided, for per_mail=.
 *   mailbench queue CONFIG N TO
 *       Queue N confirmation mails to TO in mentord's outbox (outbox_queue, one
 *       transaction), as the programme would.
 *   mailbench drain CONFIG
 *       mentord's sender: smtp_drain() until the outbox is empty, with the
 *       CONFIG's [smtp] sessions and batch_size (bench.py runs it with 1
 *       session and with the default).
 *   mailbench outbox CONFIG
 *       The store's share of a drain with one session, without SMTP: read the
 *       due rows a chunk of batch_size at a time, write a sent mark for each,
 *       mark them sent in one transaction per chunk (store_outbox_sent_all), empty
 *       the marks - what
 *       smtp_drain does around the libcurl transfers.  Its CPU is the floor
 *       that a durable outbox adds to a plain libcurl loop.
 *   mailbench curl HOST PORT N FROM TO EMLFILE
 *       The plain libcurl reference: one easy handle (so one reused connection),
 *       the same message N times.
 *
 * Each prints one line "RESULT mode=... n=... seconds=... bytes=..." on stdout;
 * drain and curl add cpu=: this process's CPU seconds (user + system, every
 * thread) over the timed loop alone, so neither side's start-up (loading
 * libraries, opening the store) is spread over its mails.
 */
#include <curl/curl.h>
#include <libetpan/libetpan.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "imap.h"
#include "config.h"
#include "mail.h"
#include "outbox.h"
#include "profile.h"
#include "reading.h"
#include "smtp.h"
#include "store.h"

#define FETCH_CHUNK 500

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds so far of who (RUSAGE_SELF: this process, all threads; or its reaped children). */
static double
cpu_of(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double
cpu_s(void)
{
    return cpu_of(RUSAGE_SELF);
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (cap - n < 65536) {
            cap = cap * 2 + 65536;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Bytes of BODY[] in one FETCH response list. */
static size_t
fetched_bytes(clist *result, size_t *count)
{
    size_t bytes = 0;
    for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
        struct mailimap_msg_att *att = clist_content(it);
        for (clistiter *j = clist_begin(att->att_list); j; j = clist_next(j)) {
            struct mailimap_msg_att_item *item = clist_content(j);
            if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
                item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_BODY_SECTION) {
                bytes += item->att_data.att_static->att_data.att_body_section->sec_length;
                (*count)++;
            }
        }
    }
    return bytes;
}

/* Connect and log in; NULL on failure (reported). */
static mailimap *
imap_login(char **argv)
{
    size_t plen = 0;
    char *pass = slurp(argv[3], &plen);
    if (pass == NULL) {
        fprintf(stderr, "fetch: cannot read %s\n", argv[3]);
        return NULL;
    }
    pass[strcspn(pass, "\r\n")] = '\0';
    mailimap *im = mailimap_new(0, NULL);
    int r = mailimap_ssl_connect(im, argv[0], (uint16_t)atoi(argv[1]));
    if (r == MAILIMAP_NO_ERROR_AUTHENTICATED || r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
        r = mailimap_login(im, argv[2], pass);
    free(pass);
    if (r != MAILIMAP_NO_ERROR) {
        fprintf(stderr, "fetch: connect/login failed (%d)\n", r);
        mailimap_free(im);
        return NULL;
    }
    return im;
}

/* SELECT argv[4] after imap_login; NULL (im freed) when it fails. */
static mailimap *
imap_select_box(mailimap *im, char **argv)
{
    int r = mailimap_select(im, argv[4]);
    if (r != MAILIMAP_NO_ERROR) {
        fprintf(stderr, "fetch: SELECT %s failed (%d)\n", argv[4], r);
        mailimap_free(im);
        return NULL;
    }
    return im;
}

/* Connect, log in and SELECT: the clients whose span is after all three. */
static mailimap *
imap_open(char **argv)
{
    mailimap *im = imap_login(argv);
    return im != NULL ? imap_select_box(im, argv) : NULL;
}

/* UID FETCH set att; adds the BODY[] bytes and count; a libetpan code. */
static int
fetch_set(mailimap *im, struct mailimap_set *set, struct mailimap_fetch_att *att, size_t *bytes,
          size_t *count)
{
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att(att);
    clist *result = NULL;
    int r = mailimap_uid_fetch(im, set, ft, &result);
    mailimap_fetch_type_free(ft);
    if (r == MAILIMAP_NO_ERROR) {
        *bytes += fetched_bytes(result, count);
        mailimap_fetch_list_free(result);
    }
    return r;
}

/*
 * What inbox.c asks for a batch (imap_fetch_sizes_heads): every message's
 * RFC822.SIZE and its first IMAP_SMALL_HEAD bytes in one UID FETCH.  The
 * bench's joins are all shorter, so mentord sends no second FETCH for them.
 */
static int
fetch_sizes_heads(mailimap *im, struct mailimap_set *set, size_t *bytes, size_t *count)
{
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
    struct mailimap_section *section = mailimap_section_new(NULL);
    clist *result = NULL;
    int r = MAILIMAP_ERROR_MEMORY;

    if (ft != NULL && section != NULL &&
        mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size()) ==
            MAILIMAP_NO_ERROR &&
        mailimap_fetch_type_new_fetch_att_list_add(
            ft, mailimap_fetch_att_new_body_peek_section_partial(section, 0, IMAP_SMALL_HEAD)) ==
            MAILIMAP_NO_ERROR)
        r = mailimap_uid_fetch(im, set, ft, &result);
    if (ft != NULL)
        mailimap_fetch_type_free(ft);
    if (r == MAILIMAP_NO_ERROR) {
        *bytes += fetched_bytes(result, count);
        mailimap_fetch_list_free(result);
    }
    return r;
}

/*
 * mentord's IMAP pattern without mentord: per chunk of UIDs (1: the old
 * per-message pattern, one UID FETCH BODY.PEEK[]; 50 and 500: the batches of
 * inbox.c, one UID FETCH (RFC822.SIZE BODY.PEEK[]<0.8192>), the very command
 * mentord sends for mails that size) and, with moveto, one UID MOVE.
 */
static int
cmd_fetch_chunks(char **argv, const char *moveto, size_t chunk, const char *mode)
{
    mailimap *im = imap_login(argv);
    if (im == NULL)
        return 1;
    if (moveto != NULL)
        (void)mailimap_create(im, moveto); /* as fetchmove: an existing one answers NO */
    /* From the SELECT on, as fetchmove and mentord's pass count. */
    double t0 = now_s(), c0 = cpu_s();
    if (imap_select_box(im, argv) == NULL)
        return 1;
    struct mailimap_search_key *key = mailimap_search_key_new_all();
    clist *uids = NULL;
    int r = mailimap_uid_search(im, NULL, key, &uids);
    mailimap_search_key_free(key);
    if (r != MAILIMAP_NO_ERROR) {
        fprintf(stderr, "%s: UID SEARCH failed (%d)\n", mode, r);
        return 1;
    }
    size_t bytes = 0, count = 0;
    clistiter *it = clist_begin(uids);
    while (it && r == MAILIMAP_NO_ERROR) {
        struct mailimap_set *set = mailimap_set_new_empty();
        for (size_t k = 0; it && k < chunk; k++, it = clist_next(it))
            mailimap_set_add_single(set, *(uint32_t *)clist_content(it));
        if (chunk > 1)
            r = fetch_sizes_heads(im, set, &bytes, &count);
        else
            r = fetch_set(im, set,
                          mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)),
                          &bytes, &count);
        if (r == MAILIMAP_NO_ERROR && moveto)
            r = mailimap_uid_move(im, set, moveto);
        mailimap_set_free(set);
    }
    mailimap_search_result_free(uids);
    if (r != MAILIMAP_NO_ERROR) {
        fprintf(stderr, "%s: FETCH/MOVE failed (%d)\n", mode, r);
        return 1;
    }
    double t = now_s() - t0, cpu = cpu_s() - c0;
    mailimap_logout(im);
    mailimap_free(im);
    printf("RESULT mode=%s%s n=%zu seconds=%.3f cpu=%.4f bytes=%zu\n", mode, moveto ? "+move" : "",
           count, t, cpu, bytes);
    return 0;
}

static int
cmd_fetch1_only(char **argv)
{
    return cmd_fetch_chunks(argv, NULL, 1, "fetch1");
}

static int
cmd_fetch1_move(char **argv)
{
    return cmd_fetch_chunks(argv, argv[5], 1, "fetch1");
}

static int
cmd_fetch50_only(char **argv)
{
    return cmd_fetch_chunks(argv, NULL, 50, "fetch50");
}

static int
cmd_fetch50_move(char **argv)
{
    return cmd_fetch_chunks(argv, argv[5], 50, "fetch50");
}

static int
cmd_fetch500_move(char **argv)
{
    return cmd_fetch_chunks(argv, argv[5], 500, "fetch500");
}

static int
cmd_fetch(char **argv)
{
    double t0 = now_s();
    mailimap *im = imap_open(argv);
    if (im == NULL)
        return 1;
    int r;
    uint32_t exists = im->imap_selection_info->sel_exists;
    size_t bytes = 0, count = 0;
    for (uint32_t first = 1; first <= exists; first += FETCH_CHUNK) {
        uint32_t last = first + FETCH_CHUNK - 1 > exists ? exists : first + FETCH_CHUNK - 1;
        struct mailimap_set *set = mailimap_set_new_interval(first, last);
        struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
        mailimap_fetch_type_new_fetch_att_list_add(
            ft, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
        mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
        clist *result = NULL;
        r = mailimap_fetch(im, set, ft, &result);
        mailimap_fetch_type_free(ft);
        mailimap_set_free(set);
        if (r != MAILIMAP_NO_ERROR) {
            fprintf(stderr, "fetch: FETCH %u:%u failed (%d)\n", first, last, r);
            return 1;
        }
        bytes += fetched_bytes(result, &count);
        mailimap_fetch_list_free(result);
    }
    mailimap_logout(im);
    mailimap_free(im);
    double t = now_s() - t0;
    printf("RESULT mode=fetch n=%zu seconds=%.3f bytes=%zu\n", count, t, bytes);
    return count == exists ? 0 : 1;
}

/* UID SEARCH ALL, then per chunk of FETCH_CHUNK one UID FETCH BODY.PEEK[] and one UID MOVE. */
static int
fetchmove_loop(mailimap *im, const char *moveto, size_t *bytes, size_t *count)
{
    struct mailimap_search_key *key = mailimap_search_key_new_all();
    clist *uids = NULL;
    int r = mailimap_uid_search(im, NULL, key, &uids);
    mailimap_search_key_free(key);
    if (r != MAILIMAP_NO_ERROR) {
        fprintf(stderr, "fetchmove: UID SEARCH failed (%d)\n", r);
        return r;
    }
    clistiter *it = clist_begin(uids);
    while (it && r == MAILIMAP_NO_ERROR) {
        struct mailimap_set *set = mailimap_set_new_empty();
        for (size_t k = 0; it && k < FETCH_CHUNK; k++, it = clist_next(it))
            mailimap_set_add_single(set, *(uint32_t *)clist_content(it));
        r = fetch_set(im, set, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)),
                      bytes, count);
        if (r == MAILIMAP_NO_ERROR)
            r = mailimap_uid_move(im, set, moveto);
        mailimap_set_free(set);
    }
    mailimap_search_result_free(uids);
    if (r != MAILIMAP_NO_ERROR)
        fprintf(stderr, "fetchmove: FETCH/MOVE failed (%d)\n", r);
    return r;
}

static int
cmd_fetchmove(char **argv)
{
    mailimap *im = imap_login(argv);
    if (im == NULL)
        return 1;
    size_t bytes = 0, count = 0;
    /* The folder may not exist yet (mentord creates its own); an existing one answers NO. */
    (void)mailimap_create(im, argv[5]);
    /*
     * From the SELECT on, as mentord's inbox pass counts (inbox_pass selects
     * the mailbox): on a mailbox of new mail the SELECT is where the server
     * takes the mails from new/ into cur/.
     */
    double t0 = now_s(), c0 = cpu_s();
    if (imap_select_box(im, argv) == NULL)
        return 1;
    int r = fetchmove_loop(im, argv[5], &bytes, &count);
    double t = now_s() - t0, cpu = cpu_s() - c0;
    mailimap_logout(im);
    mailimap_free(im);
    if (r != MAILIMAP_NO_ERROR)
        return 1;
    printf("RESULT mode=fetchmove n=%zu seconds=%.3f cpu=%.4f bytes=%zu\n", count, t, cpu, bytes);
    return 0;
}

static int
load(const char *path, struct config *cfg, struct store **st)
{
    char err[512];
    if (config_load(path, cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "config %s: %s\n", path, err);
        return -1;
    }
    if (store_open(cfg->store.path, st, err, sizeof(err)) != 0) {
        fprintf(stderr, "store %s: %s\n", cfg->store.path, err);
        config_free(cfg);
        return -1;
    }
    return 0;
}

static int
cmd_queue(char **argv)
{
    struct config cfg;
    struct store *st = NULL;
    if (load(argv[0], &cfg, &st) != 0)
        return 1;
    int n = atoi(argv[1]);
    char err[512];
    struct template_var vars[] = {{"token", "K7QM2XD9RT"},
                                  {"days", "3"},
                                  {"profile", "Skills: rust, c\nLanguages: English, Danish"},
                                  {"problems", NULL}};
    struct outbox_mail om = {.to_addr = argv[2],
                             .to_name = "Dániel Ørsted-Ñúñez",
                             .template_name = "confirm-join",
                             .vars = vars,
                             .nvars = sizeof(vars) / sizeof(vars[0]),
                             .kind = "confirm"};
    time_t now = time(NULL) - 60; /* due at once */
    int rc = store_begin(st);
    for (int i = 0; rc == 0 && i < n; i++)
        if (outbox_queue(&cfg, st, &om, now, err, sizeof(err)) != 0) {
            fprintf(stderr, "queue: %s\n", err);
            rc = -1;
        }
    if (rc == 0)
        rc = store_commit(st);
    else
        store_rollback(st);
    printf("RESULT mode=queue n=%d ok=%d\n", n, rc == 0);
    store_close(st);
    config_free(&cfg);
    return rc == 0 ? 0 : 1;
}

static int
cmd_drain(char **argv)
{
    struct config cfg;
    struct store *st = NULL;
    if (load(argv[0], &cfg, &st) != 0)
        return 1;
    int sent = 0, deferred = 0, failed = 0, rc = 0;
    double c0 = cpu_s(), t0 = now_s();
    for (;;) {
        struct smtp_result res = {0, 0, 0};
        if (smtp_drain(&cfg, st, time(NULL), 0, NULL, &res) != 0) {
            fprintf(stderr, "drain: %s\n", store_errmsg(st));
            rc = 1;
            break;
        }
        sent += res.sent;
        deferred += res.deferred;
        failed += res.failed;
        if (res.sent + res.deferred + res.failed == 0 || res.deferred || res.failed)
            break;
    }
    double t = now_s() - t0, cpu = cpu_s() - c0;
    printf("RESULT mode=drain n=%d seconds=%.3f cpu=%.4f deferred=%d failed=%d\n", sent, t, cpu,
           deferred, failed);
    store_close(st);
    config_free(&cfg);
    return rc || deferred || failed;
}

/* One chunk of the outbox work: marks, then one transaction; the number done, or -1. */
static int
outbox_chunk(struct store *st, struct store_sentlog *sl, int limit)
{
    struct store_outbox *items = NULL;
    size_t n = 0;
    time_t now = time(NULL);
    if (store_outbox_due(st, now, limit, &items, &n) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = store_sentlog_mark(sl, &items[i], now, "250 2.0.0 Ok: queued as BENCH");
    struct store_outbox_mark *marks = calloc(n > 0 ? n : 1, sizeof(*marks));
    for (size_t i = 0; marks != NULL && i < n; i++)
        marks[i] = (struct store_outbox_mark){items[i].id, "250 2.0.0 Ok: queued as BENCH"};
    if (marks == NULL)
        rc = -1;
    if (rc == 0)
        rc = store_begin(st);
    if (rc == 0 && store_outbox_sent_all(st, marks, n, now) != 0) {
        store_rollback(st);
        rc = -1;
    }
    if (rc == 0)
        rc = store_commit(st);
    free(marks);
    if (rc == 0)
        rc = store_sentlog_settled(sl);
    store_outbox_free(items, n);
    return rc == 0 ? (int)n : -1;
}

static int
cmd_outbox(char **argv)
{
    struct config cfg;
    struct store *st = NULL;
    struct store_sentlog *sl = NULL;
    if (load(argv[0], &cfg, &st) != 0)
        return 1;
    int limit = cfg.smtp.batch_size > 0 ? cfg.smtp.batch_size : 100, done = 0, n = 0;
    double c0 = cpu_s(), t0 = now_s();
    if (store_set_durable(st, 0) != 0 || store_sentlog_open(st, &sl) != 0)
        n = -1;
    while (n >= 0 && (n = outbox_chunk(st, sl, limit)) > 0)
        done += n;
    store_sentlog_close(sl);
    double t = now_s() - t0, cpu = cpu_s() - c0;
    if (n < 0)
        fprintf(stderr, "outbox: %s\n", store_errmsg(st));
    printf("RESULT mode=outbox n=%d seconds=%.3f cpu=%.4f\n", done, t, cpu);
    store_close(st);
    config_free(&cfg);
    return n < 0;
}

struct upload {
    const char *data;
    size_t len, off;
};

static size_t
upload_read(char *buf, size_t size, size_t nmemb, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nmemb;
    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}

static int
cmd_curl(char **argv)
{
    int n = atoi(argv[2]);
    size_t len = 0;
    char *msg = slurp(argv[5], &len);
    if (msg == NULL) {
        fprintf(stderr, "curl: cannot read %s\n", argv[5]);
        return 1;
    }
    char url[256], from[256];
    snprintf(url, sizeof(url), "smtp://%s:%s/bench.example.test", argv[0], argv[1]);
    snprintf(from, sizeof(from), "<%s>", argv[3]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = curl_slist_append(NULL, argv[4]);
    struct upload up = {msg, len, 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    int ok = 0;
    double c0 = cpu_s(), t0 = now_s();
    for (int i = 0; i < n; i++) {
        up.off = 0;
        CURLcode rc = curl_easy_perform(c);
        if (rc != CURLE_OK) {
            fprintf(stderr, "curl: message %d: %s\n", i, curl_easy_strerror(rc));
            break;
        }
        ok++;
    }
    double t = now_s() - t0, cpu = cpu_s() - c0;
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    printf("RESULT mode=curl n=%d seconds=%.3f cpu=%.4f bytes=%zu\n", ok, t, cpu, len);
    free(msg);
    return ok == n ? 0 : 1;
}

/* One reading of raw[0..len) as the reader child does it; -1 when it fails. */
static int
read_once(const struct config *cfg, const char *raw, size_t len)
{
    struct mail *m = NULL;
    char err[256];
    if (mail_parse(raw, len, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "read: cannot parse: %s\n", err);
        return -1;
    }
    const char *reason = NULL;
    (void)classify_mail(m, cfg->community.address, &reason);
    /*
     * What the pass gives a bench join (programme_context): the store was
     * asked and knows nothing of a first mail's sender (no member row, no
     * open token, not a manager), so only known is set.
     */
    struct reading_context ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.known = 1;
    ctx.now = time(NULL);
    struct reading r;
    int rc = reading_read(cfg, m, len, &ctx, &r);
    if (rc == 0)
        reading_free(&r);
    mail_free(m);
    return rc;
}

/* A directory's files, not its dot entries. */
static int
mail_file(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/*
 * The mails to read: PATH itself, or every file in the directory PATH in
 * version order (a Maildir's new/ as bench.py filled it: the pass's own
 * mails, in the order it takes them).  *n is how many; -1 when none.
 */
static int
read_inputs(const char *path, char ***raws, size_t **lens, size_t *n)
{
    struct stat st;
    struct dirent **names = NULL;
    int k = 1;

    if (stat(path, &st) != 0)
        return -1;
    if (S_ISDIR(st.st_mode) && (k = scandir(path, &names, mail_file, versionsort)) <= 0)
        return -1;
    *raws = calloc((size_t)k, sizeof(**raws));
    *lens = calloc((size_t)k, sizeof(**lens));
    *n = 0;
    int rc = *raws != NULL && *lens != NULL ? 0 : -1;
    for (int i = 0; i < k; i++) {
        char file[4096];
        if (names != NULL) {
            snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
            free(names[i]);
        } else {
            snprintf(file, sizeof(file), "%s", path);
        }
        if (rc == 0 && ((*raws)[i] = slurp(file, &(*lens)[i])) == NULL)
            rc = -1;
        *n += rc == 0;
    }
    free(names);
    return rc;
}

static void
read_inputs_free(char **raws, size_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(raws[i]);
    free(raws);
    free(lens);
}

static int
cmd_read(char **argv)
{
    char **raws = NULL;
    size_t *lens = NULL, count = 0;
    int n = atoi(argv[1]);
    if (read_inputs(argv[0], &raws, &lens, &count) != 0 || n <= 0) {
        fprintf(stderr, "read: cannot read %s, or N is not a count\n", argv[0]);
        read_inputs_free(raws, lens, count);
        return 1;
    }
    struct config cfg;
    memset(&cfg, 0, sizeof(cfg));
    config_set_defaults(&cfg);
    /* The settings the reader is sent (reader_put_request), as bench.py's config has them. */
    static char *managers[] = {"boss@example.test"};
    cfg.community.address = "mentors@example.test";
    cfg.community.managers = managers;
    cfg.community.n_managers = 1;
    /* The reader loads the zone names before its sandbox; so does this. */
    if (profile_zones_preload() != 0)
        fprintf(stderr, "read: cannot list the time zones\n");
    /* The first reading loads the tables: outside the timed loop, like the reader's start. */
    int rc = read_once(&cfg, raws[0], lens[0]);
    double t0 = now_s(), c0 = cpu_s();
    size_t bytes = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        rc = read_once(&cfg, raws[i % count], lens[i % count]);
        bytes += lens[i % count];
    }
    double t = now_s() - t0, cpu = cpu_s() - c0;
    if (rc == 0)
        printf("RESULT mode=read n=%d mails=%zu seconds=%.3f cpu=%.4f bytes=%zu\n", n, count, t,
               cpu, bytes);
    read_inputs_free(raws, lens, count);
    return rc == 0 ? 0 : 1;
}

/* Exactly n bytes to or from fd (blocking), or -1. */
static int
pipe_move(int fd, char *b, size_t n, int out)
{
    while (n > 0) {
        ssize_t r = out ? write(fd, b, n) : read(fd, b, n);
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static int
cmd_pipe(char **argv)
{
    int n = atoi(argv[0]), size = atoi(argv[1]), req[2], ans[2];
    char *b = calloc(1, size > 0 ? (size_t)size : 1);
    if (n <= 0 || size <= 0 || b == NULL || pipe(req) != 0 || pipe(ans) != 0) {
        fprintf(stderr, "pipe: N and BYTES must be counts\n");
        free(b);
        return 1;
    }
    double t0 = now_s(), c0 = cpu_s() + cpu_of(RUSAGE_CHILDREN);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < n; i++)
            if (pipe_move(req[0], b, (size_t)size, 0) != 0 ||
                pipe_move(ans[1], b, (size_t)size, 1) != 0)
                _exit(1);
        _exit(0);
    }
    int rc = pid < 0;
    for (int i = 0; !rc && i < n; i++)
        rc = pipe_move(req[1], b, (size_t)size, 1) != 0 ||
             pipe_move(ans[0], b, (size_t)size, 0) != 0;
    int status = 1;
    if (pid > 0)
        waitpid(pid, &status, 0);
    double t = now_s() - t0, cpu = cpu_s() + cpu_of(RUSAGE_CHILDREN) - c0;
    free(b);
    if (rc || status != 0) {
        fprintf(stderr, "pipe: a round trip failed\n");
        return 1;
    }
    printf("RESULT mode=pipe n=%d seconds=%.3f cpu=%.4f bytes=%d\n", n, t, cpu, size);
    return 0;
}

/* ---- replay (sqllog.c's format) ---- */

struct replay_rec {
    const char *sql; /* points into the log; not NUL-terminated: sql_len */
    uint32_t sql_len, nparams;
    const char *params; /* the parameters' encoding */
};

struct replay_cache {
    char *sql;
    sqlite3_stmt *stmt;
};

#define REPLAY_CACHE 2048

static int
replay_u32(const char **p, const char *end, uint32_t *x)
{
    if ((size_t)(end - *p) < sizeof(*x))
        return -1;
    memcpy(x, *p, sizeof(*x));
    *p += sizeof(*x);
    return 0;
}

/* Step over one record's parameters; -1 if the log is cut. */
static int
replay_skip_params(const char **p, const char *end, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (*p >= end)
            return -1;
        char t = *(*p)++;
        uint32_t len = 8;
        if (t == 's' && replay_u32(p, end, &len) != 0)
            return -1;
        if (t == 'n')
            len = 0;
        if ((size_t)(end - *p) < len)
            return -1;
        *p += len;
    }
    return 0;
}

static sqlite3_stmt *
replay_stmt(sqlite3 *db, struct replay_cache *cache, const struct replay_rec *r)
{
    size_t h = 5381;
    for (uint32_t i = 0; i < r->sql_len; i++)
        h = h * 33 + (unsigned char)r->sql[i];
    for (size_t k = 0; k < REPLAY_CACHE; k++) {
        struct replay_cache *c = &cache[(h + k) % REPLAY_CACHE];
        if (c->sql == NULL) {
            c->sql = strndup(r->sql, r->sql_len);
            if (c->sql == NULL || sqlite3_prepare_v3(db, c->sql, -1, SQLITE_PREPARE_PERSISTENT,
                                                     &c->stmt, NULL) != SQLITE_OK)
                return NULL;
            return c->stmt;
        }
        if (strlen(c->sql) == r->sql_len && memcmp(c->sql, r->sql, r->sql_len) == 0)
            return c->stmt;
    }
    return NULL;
}

/* Run one record; 1 if SQLite refused it (as it may have the first time), -1 on a bad log. */
static int
replay_one(sqlite3 *db, struct replay_cache *cache, const struct replay_rec *r)
{
    sqlite3_stmt *st = replay_stmt(db, cache, r);
    if (st == NULL)
        return 1;
    const char *p = r->params, *end = r->params + (1u << 30);
    for (uint32_t i = 0; i < r->nparams; i++) {
        char t = *p++;
        int64_t x;
        double d;
        uint32_t len;
        if (t == 'i') {
            memcpy(&x, p, sizeof(x));
            p += sizeof(x);
            sqlite3_bind_int64(st, (int)i + 1, x);
        } else if (t == 'd') {
            memcpy(&d, p, sizeof(d));
            p += sizeof(d);
            sqlite3_bind_double(st, (int)i + 1, d);
        } else if (t == 's') {
            if (replay_u32(&p, end, &len) != 0)
                return -1;
            sqlite3_bind_text(st, (int)i + 1, p, (int)len, SQLITE_STATIC);
            p += len;
        } else {
            sqlite3_bind_null(st, (int)i + 1);
        }
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : 1;
}

static int
replay_has(const struct replay_rec *r, const char *what)
{
    return memmem(r->sql, r->sql_len, what, strlen(what)) != NULL;
}

static int
cmd_replay(char **argv)
{
    size_t len = 0, nrec = 0, cap = 0;
    char *log = slurp(argv[1], &len);
    int n = atoi(argv[2]);
    struct replay_rec *recs = NULL;
    const char *p = log, *end = log + len;

    while (log && p < end) {
        struct replay_rec r;
        if (replay_u32(&p, end, &r.sql_len) != 0 || (size_t)(end - p) < r.sql_len)
            break;
        r.sql = p;
        p += r.sql_len;
        if (replay_u32(&p, end, &r.nparams) != 0)
            break;
        r.params = p;
        if (replay_skip_params(&p, end, r.nparams) != 0)
            break;
        if (nrec == cap) {
            cap = cap ? 2 * cap : 4096;
            struct replay_rec *g = realloc(recs, cap * sizeof(*recs));
            if (g == NULL)
                break;
            recs = g;
        }
        recs[nrec++] = r;
    }
    /* The pass: from the first in-flight mark to the COMMIT after the last one dropped. */
    size_t from = nrec, to = nrec;
    for (size_t i = 0; i < nrec; i++)
        if (replay_has(&recs[i], "inbox_inflight")) {
            if (from == nrec)
                from = i;
            if (replay_has(&recs[i], "DELETE FROM inbox_inflight"))
                to = i;
        }
    while (to < nrec && !(recs[to].sql_len == 6 && memcmp(recs[to].sql, "COMMIT", 6) == 0))
        to++;
    if (n <= 0 || from == nrec || to == nrec) {
        fprintf(stderr, "replay: %s holds no inbox pass (%zu statements)\n", argv[1], nrec);
        free(recs);
        free(log);
        return 1;
    }
    /* The store's own settings (store.c): the statement journal in memory, no statistics. */
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3 *db = NULL;
    struct replay_cache *cache = calloc(REPLAY_CACHE, sizeof(*cache));
    int refused = 0, rc = 0;
    double t0 = 0, c0 = 0, t = 0, cpu = 0;
    if (cache == NULL ||
        sqlite3_open_v2(argv[0], &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        rc = 1;
    for (size_t i = 0; rc == 0 && i <= to; i++) {
        if (i == from) {
            t0 = now_s();
            c0 = cpu_s();
        }
        int r = replay_one(db, cache, &recs[i]);
        if (r < 0)
            rc = 1;
        refused += r > 0 && i >= from;
    }
    t = now_s() - t0;
    cpu = cpu_s() - c0;
    for (size_t k = 0; cache && k < REPLAY_CACHE; k++) {
        sqlite3_finalize(cache[k].stmt);
        free(cache[k].sql);
    }
    free(cache);
    sqlite3_close(db);
    if (rc == 0)
        printf("RESULT mode=replay n=%d seconds=%.3f cpu=%.4f statements=%zu refused=%d "
               "per_mail=%.1f\n",
               n, t, cpu, to + 1 - from, refused, 1e6 * cpu / n);
    free(recs);
    free(log);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int args;
        int (*fn)(char **);
    } modes[] = {{"fetch", 5, cmd_fetch},
                 {"fetch1", 5, cmd_fetch1_only},
                 {"fetch1", 6, cmd_fetch1_move},
                 {"fetch50", 5, cmd_fetch50_only},
                 {"fetch50", 6, cmd_fetch50_move},
                 {"fetch500", 6, cmd_fetch500_move},
                 {"fetchmove", 6, cmd_fetchmove},
                 {"read", 2, cmd_read},
                 {"pipe", 2, cmd_pipe},
                 {"replay", 3, cmd_replay},
                 {"queue", 3, cmd_queue},
                 {"drain", 1, cmd_drain},
                 {"outbox", 1, cmd_outbox},
                 {"curl", 6, cmd_curl}};
    for (size_t i = 0; argc >= 2 && i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(argv[1], modes[i].name) == 0 && argc - 2 == modes[i].args)
            return modes[i].fn(argv + 2);
    fprintf(stderr,
            "usage: mailbench fetch|queue|drain|outbox|curl ... (see the comment at the top)\n");
    return 2;
}
