/*
 * store_sentlog: the marks of mails the SMTP server has taken, kept in a small
 * file beside the database between two commits of the outbox.
 *
 * Why: a mail must be marked sent before the next one goes out over the same
 * session, or a crash could repeat more than one mail per session.  Doing
 * that with a SQLite transaction per mail (BEGIN, UPDATE, COMMIT: the row and
 * the index pages appended to the WAL) cost more CPU than sending the mail.
 * A mark here is one write(2) of one line; the outcomes are then written to
 * the outbox together, in one transaction per chunk (or per second), and the
 * file is emptied.  This is how a queue manager marks a recipient done in
 * its queue file: in place, cheaply, durable against a crash of the process
 * (the kernel holds the page), not against a power loss, which can make the
 * mails of the last group go out again - a duplicate, never a loss, the same
 * as the outbox's synchronous = NORMAL commits (smtp.c).
 *
 * One file per sending process, PATH-sent-PID, held with an exclusive
 * flock(2) while it is open: a file whose lock can be taken belongs to a
 * process that is gone, and its marks are applied to the outbox (only to
 * rows still queued with the same Message-ID, so applying twice, or after
 * the row was deleted and its id reused, changes nothing wrong) and the file
 * is removed.  Lines are "ID WHEN MESSAGE-ID REPLY"; a torn last line (a
 * power loss) is ignored, which only repeats that mail.
 */
#include "store.h"
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SENTLOG_SUFFIX "-sent-"
/* The reply kept per mark: the server's line is at most 512 bytes (smtp.c). */
#define SENTLOG_REPLY_MAX 600

struct store_sentlog {
    struct store *st;
    int fd;
    int marks; /* lines written since the file was last emptied */
    char path[PATH_MAX];
};

/* Split the database path into its folder and file name. */
static int
db_place(struct store *st, char *dir, size_t dlen, const char **base)
{
    const char *db = sqlite3_db_filename(st->db, "main");
    if (db == NULL || db[0] == '\0')
        return -1; /* an in-memory database: nothing to keep beside it */
    const char *slash = strrchr(db, '/');
    *base = slash != NULL ? slash + 1 : db;
    int n = slash == NULL ? snprintf(dir, dlen, ".")
            : slash == db ? snprintf(dir, dlen, "/")
                          : snprintf(dir, dlen, "%.*s", (int)(slash - db), db);
    return n > 0 && (size_t)n < dlen ? 0 : -1;
}

/* Apply one line's mark; 0 also when the line is torn or the row is no longer queued. */
static int
apply_line(struct store *st, char *line)
{
    long long id = 0, when = 0;
    int used = 0;
    if (sscanf(line, "%lld %lld %n", &id, &when, &used) != 2 || used == 0)
        return 0;
    char *msgid = line + used, *reply = strchr(msgid, ' ');
    if (reply == NULL)
        return 0;
    *reply++ = '\0';
    int64_t queued = 0;
    int rc = store_i_query_int(st, &queued, "reading a queued mail for its sent mark",
                               "SELECT 1 FROM outbox WHERE id = ?1 AND status = 'queued'"
                               " AND message_id IS ?2",
                               "is", (int64_t)id, strcmp(msgid, "-") == 0 ? NULL : msgid);
    if (rc <= 0)
        return rc;
    return store_outbox_sent(st, (int64_t)id, (time_t)when, reply);
}

/* Apply every complete line of text (len bytes) in one transaction. */
static int
apply_text(struct store *st, char *text, size_t len)
{
    if (store_begin(st) != 0)
        return -1;
    char *line = text, *end = text + len;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == NULL)
            break; /* torn: that mail goes out again */
        *nl = '\0';
        if (apply_line(st, line) != 0) {
            store_rollback(st);
            return -1;
        }
        line = nl + 1;
    }
    return store_commit(st);
}

/* Apply and remove the marks a gone process left in path (locked by us as fd). */
static int
apply_file(struct store *st, const char *path, int fd)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return store_i_set_err(st, "reading sent marks %s: %s", path, strerror(errno));
    size_t len = (size_t)sb.st_size;
    char *text = malloc(len + 1);
    if (text == NULL)
        return store_i_set_err(st, "reading sent marks %s: out of memory", path);
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, text + got, len - got, (off_t)got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    int rc = apply_text(st, text, got);
    free(text);
    if (rc == 0 && unlink(path) != 0 && errno != ENOENT)
        return store_i_set_err(st, "removing sent marks %s: %s", path, strerror(errno));
    return rc;
}

/* The marks of every process that is gone, applied; 0 or -1 (st's error). */
static int
apply_leftovers(struct store *st, const char *dir, const char *base)
{
    char prefix[NAME_MAX + 1];
    snprintf(prefix, sizeof prefix, "%s" SENTLOG_SUFFIX, base);
    size_t plen = strlen(prefix);
    DIR *d = opendir(dir);
    if (d == NULL)
        return store_i_set_err(st, "reading folder %s for sent marks: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, plen) != 0)
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            continue;                          /* removed by another process meanwhile */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) /* its writer is gone */
            rc = apply_file(st, path, fd);
        close(fd);
    }
    closedir(d);
    return rc;
}

int
store_sentlog_open(struct store *st, struct store_sentlog **out)
{
    char dir[PATH_MAX];
    const char *base = NULL;
    *out = NULL;
    if (db_place(st, dir, sizeof dir, &base) != 0)
        return store_i_set_err(st, "sent marks: the database has no folder");
    if (apply_leftovers(st, dir, base) != 0)
        return -1;
    struct store_sentlog *sl = calloc(1, sizeof *sl);
    if (sl == NULL)
        return store_i_set_err(st, "sent marks: out of memory");
    sl->st = st;
    if (snprintf(sl->path, sizeof sl->path, "%s/%s" SENTLOG_SUFFIX "%ld", dir, base,
                 (long)getpid()) >= (int)sizeof sl->path) {
        free(sl);
        return store_i_set_err(st, "sent marks: the database's path is too long");
    }
    sl->fd = open(sl->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (sl->fd < 0 || flock(sl->fd, LOCK_EX | LOCK_NB) != 0) {
        store_i_set_err(st, "sent marks %s: %s", sl->path, strerror(errno));
        if (sl->fd >= 0)
            close(sl->fd);
        free(sl);
        return -1;
    }
    *out = sl;
    return 0;
}

int
store_sentlog_mark(struct store_sentlog *sl, const struct store_outbox *it, time_t when,
                   const char *reply)
{
    char line[SENTLOG_REPLY_MAX + 400];
    const char *msgid = it->message_id != NULL && it->message_id[0] ? it->message_id : "-";
    int n = snprintf(line, sizeof line, "%" PRId64 " %lld %.300s ", it->id, (long long)when, msgid);
    if (n < 0 || strchr(msgid, ' ') != NULL || strchr(msgid, '\n') != NULL)
        return store_i_set_err(sl->st, "sent mark of mail %" PRId64 ": odd Message-ID", it->id);
    /* The reply ends the line: its own line breaks become spaces. */
    for (const char *r = reply; *r && (size_t)n < sizeof line - 2 && n < SENTLOG_REPLY_MAX + 300;
         r++)
        line[n++] = *r == '\n' || *r == '\r' ? ' ' : *r;
    line[n++] = '\n';
    /* One write of one line: O_APPEND makes it whole or nothing for a crash of the process. */
    ssize_t w = write(sl->fd, line, (size_t)n);
    if (w != (ssize_t)n)
        return store_i_set_err(sl->st, "writing sent mark %s: %s", sl->path,
                               w < 0 ? strerror(errno) : "short write");
    sl->marks++;
    return 0;
}

int
store_sentlog_settled(struct store_sentlog *sl)
{
    if (sl->marks == 0)
        return 0;
    if (ftruncate(sl->fd, 0) != 0)
        return store_i_set_err(sl->st, "emptying sent marks %s: %s", sl->path, strerror(errno));
    sl->marks = 0;
    return 0;
}

void
store_sentlog_close(struct store_sentlog *sl)
{
    if (sl == NULL)
        return;
    /* Marks not yet in the outbox stay for the next drain (of this or another process). */
    if (sl->marks == 0)
        (void)unlink(sl->path);
    close(sl->fd);
    free(sl);
}
