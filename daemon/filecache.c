/*
 * filecache: small files read again and again (the mail texts), kept in
 * memory and read again when they change (filecache.h says when).
 *
 * Why: every answer used to look for its text (access) in each folder of
 * the search path, then open, stat and read it three times over, and the
 * language choice looked for help.txt two or three more times: about a
 * dozen system calls a mail, for files that change once a year.
 */
#include "filecache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Paths remembered; when full, all are forgotten (a community has a few hundred texts at most). */
#define FILECACHE_SLOTS 1024
/* A file changed less than this before it was read may change again with the same times. */
#define FILECACHE_SETTLE_S 2

struct filecache_entry {
    char *path;
    uint64_t hash;
    unsigned epoch;   /* the hold during which it was last checked */
    int stat_err;     /* errno of the last stat, 0: the file exists */
    int read_err;     /* errno of the last read, 0: text holds the content */
    int settled;      /* the content may be used again when the stat is unchanged */
    struct stat st;   /* as it was when text was read */
    char *text;
    size_t len;
};

static struct filecache_entry *entries[FILECACHE_SLOTS];
static size_t n_entries;
static unsigned epoch = 1; /* 0 is never current: an entry starts checked in no hold */
static int held; /* depth of filecache_hold(1) calls not yet closed */

static uint64_t
filecache_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void
filecache_drop_text(struct filecache_entry *e)
{
    free(e->text);
    e->text = NULL;
    e->len = 0;
    e->settled = 0;
}

void
filecache_clear(void)
{
    for (size_t i = 0; i < n_entries; i++) {
        filecache_drop_text(entries[i]);
        free(entries[i]->path);
        free(entries[i]);
        entries[i] = NULL;
    }
    n_entries = 0;
}

/*
 * Holds nest: a batch of the inbox holds around each mail's own hold, and a
 * file is checked once for the outermost.  A new epoch starts when the
 * outermost opens and when it closes, so nothing checked in one hold counts
 * as checked after it.
 */
void
filecache_hold(int on)
{
    if (on)
        held++;
    else if (held > 0)
        held--;
    if (held > 1 || (on == 0 && held > 0))
        return;
    if (++epoch == 0)
        epoch = 1;
}

static struct filecache_entry *
filecache_entry(const char *path)
{
    uint64_t h = filecache_hash(path);

    for (size_t i = 0; i < n_entries; i++)
        if (entries[i]->hash == h && strcmp(entries[i]->path, path) == 0)
            return entries[i];
    if (n_entries == FILECACHE_SLOTS)
        filecache_clear();
    struct filecache_entry *e = calloc(1, sizeof(*e));
    if (e == NULL || (e->path = strdup(path)) == NULL) {
        free(e);
        return NULL;
    }
    e->hash = h;
    e->stat_err = e->read_err = ENOENT;
    entries[n_entries++] = e;
    return e;
}

static int
filecache_same_time(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* The file is the one whose content text holds. */
static int
filecache_unchanged(const struct filecache_entry *e, const struct stat *st)
{
    return e->text != NULL && e->settled && e->st.st_dev == st->st_dev &&
           e->st.st_ino == st->st_ino && e->st.st_size == st->st_size &&
           filecache_same_time(&e->st.st_mtim, &st->st_mtim) &&
           filecache_same_time(&e->st.st_ctim, &st->st_ctim);
}

/* Whole of fd into e->text; 0 or an errno. */
static int
filecache_slurp(struct filecache_entry *e, int fd)
{
    if (fstat(fd, &e->st) != 0)
        return errno;
    if (!S_ISREG(e->st.st_mode))
        return EISDIR;
    size_t cap = (size_t)e->st.st_size + 1, len = 0;
    char *text = malloc(cap + 1);
    if (text == NULL)
        return ENOMEM;
    for (;;) {
        if (len == cap) {
            /* It grew while being read: take what it holds now, up to the limit. */
            char *more = cap > FILECACHE_MAX ? NULL : realloc(text, 2 * cap + 1);
            if (more == NULL) {
                free(text);
                return cap > FILECACHE_MAX ? EFBIG : ENOMEM;
            }
            text = more;
            cap *= 2;
        }
        ssize_t n = read(fd, text + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            free(text);
            return err;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > FILECACHE_MAX) {
        free(text);
        return EFBIG;
    }
    text[len] = '\0';
    e->text = text;
    e->len = len;
    return 0;
}

/*
 * The file was last written well before it was read, so a later write
 * cannot leave its modification time as it was (a write in the same tick
 * could).  Its change time is compared too, but need not be old: anything
 * that sets it (chmod, a modification time set back) sets it to now.
 */
static int
filecache_settled(const struct stat *st)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return 0;
    time_t before = now.tv_sec - FILECACHE_SETTLE_S;
    return st->st_mtim.tv_sec < before;
}

static void
filecache_load(struct filecache_entry *e)
{
    filecache_drop_text(e);
    int fd = open(e->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e->read_err = errno;
        return;
    }
    e->read_err = filecache_slurp(e, fd);
    close(fd);
    if (e->read_err == 0)
        e->settled = filecache_settled(&e->st);
}

/* Bring e up to date with the disk (once per hold). */
static void
filecache_check(struct filecache_entry *e)
{
    struct stat st;

    if (held && e->epoch == epoch)
        return;
    e->epoch = epoch;
    if (stat(e->path, &st) != 0) {
        e->stat_err = e->read_err = errno;
        filecache_drop_text(e);
        return;
    }
    e->stat_err = 0;
    if (!filecache_unchanged(e, &st))
        filecache_load(e);
}

int
filecache_read(const char *path, const char **text, size_t *len)
{
    struct filecache_entry *e = filecache_entry(path);

    if (e == NULL) {
        errno = ENOMEM;
        return -1;
    }
    filecache_check(e);
    if (e->read_err != 0) {
        errno = e->read_err;
        return -1;
    }
    *text = e->text;
    *len = e->len;
    return 0;
}

int
filecache_access(const char *path, int mode)
{
    struct filecache_entry *e = filecache_entry(path);

    if (e == NULL) {
        errno = ENOMEM;
        return -1;
    }
    filecache_check(e);
    int err = mode == F_OK ? e->stat_err : e->read_err;
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}
