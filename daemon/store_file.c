/*
 * store_file: the database as a file - private modes, the daemon's lock,
 * online backup and restore.
 *
 * The database holds members' addresses, profiles and mail: it is created
 * 0600 whatever the umask (cron jobs run with 022), and a database found
 * readable by others is made private.  SQLite gives its -wal and -shm files
 * the database's own mode, so they follow.  Backups are written 0600 to a
 * temporary name and renamed, so a half-written backup never has the name.
 *
 * The daemon holds a shared flock(2) on PATH.lock while it runs; restore
 * takes it exclusively, so it refuses to replace a database under a
 * running daemon (several daemons, or mentorctl, may share the lock).
 */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_PRIVATE_MODE 0600

/*
 * A file root creates beside the database (mentorctl run as root before the
 * daemon ever ran) belongs to the folder's owner, or the daemon, running as
 * its own user, could not open it.  SQLite does the same for -wal and -shm.
 */
static void
store_file_owner(int fd, const char *path)
{
    char dir[PATH_MAX];
    struct stat sb;
    const char *slash = strrchr(path, '/');

    if (geteuid() != 0)
        return;
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (stat(dir, &sb) == 0 && sb.st_uid != 0 && fchown(fd, sb.st_uid, sb.st_gid) != 0)
        return; /* best effort: the owner is only a convenience for the daemon */
}

/* One file: created 0600 when missing; "others" bits dropped when present. */
static int
store_file_private_one(const char *path, int create, char *err, size_t errlen)
{
    struct stat sb;

    if (stat(path, &sb) != 0) {
        if (errno != ENOENT || !create)
            return errno == ENOENT ? 0 : -1;
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, STORE_PRIVATE_MODE);
        if (fd < 0 && errno != EEXIST) {
            snprintf(err, errlen, "creating %s: %s", path, strerror(errno));
            return -1;
        }
        if (fd >= 0)
            store_file_owner(fd, path);
        /* The umask can only take bits away; fchmod says exactly 0600. */
        if (fd >= 0 && (fchmod(fd, STORE_PRIVATE_MODE) != 0 || close(fd) != 0)) {
            snprintf(err, errlen, "creating %s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if ((sb.st_mode & 007) != 0 && chmod(path, sb.st_mode & 0770) != 0) {
        snprintf(err, errlen, "%s is readable by anyone and cannot be made private: %s", path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int
store_file_private(const char *path, char *err, size_t errlen)
{
    static const char *const sidecars[] = {"-wal", "-shm", "-journal"};
    char side[PATH_MAX];

    /* ":memory:" and "file:" URIs are not paths on disk. */
    if (path[0] == '\0' || strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
        return 0;
    if (store_file_private_one(path, 1, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(sidecars) / sizeof(sidecars[0]); i++) {
        if (snprintf(side, sizeof(side), "%s%s", path, sidecars[i]) >= (int)sizeof(side))
            continue;
        if (store_file_private_one(side, 0, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* PATH.lock, opened (created 0600) and flocked; the fd, or -1 (errno EWOULDBLOCK when held). */
static int
store_file_lock(const char *path, int how, char *err, size_t errlen)
{
    char lock[PATH_MAX];

    if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, STORE_PRIVATE_MODE);
    if (fd < 0) {
        snprintf(err, errlen, "opening %s: %s", lock, strerror(errno));
        return -1;
    }
    store_file_owner(fd, path);
    if (flock(fd, how | LOCK_NB) != 0) {
        int e = errno;
        const char *held = how == LOCK_EX ? "mentord is running on this database; stop it first"
                                          : "a restore (mentorctl restore) is replacing the database";
        snprintf(err, errlen, "%s: %s", lock, e == EWOULDBLOCK ? held : strerror(e));
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int
store_daemon_lock(const char *path, char *err, size_t errlen)
{
    if (strcmp(path, ":memory:") == 0)
        return INT_MAX; /* nothing to share; never closed */
    return store_file_lock(path, LOCK_SH, err, errlen);
}

/* Copy every page of src into dst (both open), in one step: one consistent snapshot. */
static int
store_file_copy(sqlite3 *dst, sqlite3 *src, char *err, size_t errlen)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");

    if (b == NULL) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(dst));
        return -1;
    }
    /* -1: all pages under one read transaction; WAL readers never block the daemon's writes. */
    int rc = sqlite3_backup_step(b, -1);
    int fin = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE || fin != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errstr(rc != SQLITE_DONE ? rc : fin));
        return -1;
    }
    return 0;
}

/* A backup into a 0600 temporary beside dest, synced, then renamed to dest. */
static int
store_file_backup_db(sqlite3 *src, const char *dest, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    sqlite3 *dst = NULL;

    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", dest) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "%s: path too long", dest);
        return -1;
    }
    int fd = mkstemp(tmp); /* 0600 */
    if (fd < 0) {
        snprintf(err, errlen, "creating %s: %s", tmp, strerror(errno));
        return -1;
    }
    close(fd);
    int rc = -1;
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        snprintf(err, errlen, "opening %s: %s", tmp, dst ? sqlite3_errmsg(dst) : "out of memory");
    else if (store_file_copy(dst, src, err, errlen) == 0)
        rc = 0;
    if (sqlite3_close(dst) != SQLITE_OK && rc == 0) {
        snprintf(err, errlen, "closing %s", tmp);
        rc = -1;
    }
    fd = rc == 0 ? open(tmp, O_RDONLY | O_CLOEXEC) : -1;
    if (rc == 0 && (fd < 0 || fsync(fd) != 0 || rename(tmp, dest) != 0)) {
        snprintf(err, errlen, "writing %s: %s", dest, strerror(errno));
        rc = -1;
    }
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int
store_backup(struct store *st, const char *dest, char *err, size_t errlen)
{
    return store_file_backup_db(st->db, dest, err, errlen);
}

/* The file to restore is a mentord database this program can read and upgrade. */
static int
store_file_check_source(sqlite3 *src, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int ok = 0;

    if (sqlite3_prepare_v2(src, "PRAGMA quick_check", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(stmt, 0);
        ok = t != NULL && strcmp((const char *)t, "ok") == 0;
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (!ok) {
        snprintf(err, errlen, "%s is not a readable SQLite database (quick_check failed)", path);
        return -1;
    }
    int v = -1;
    if (sqlite3_prepare_v2(src, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    if (v < 1 || v > STORE_SCHEMA_VERSION) {
        snprintf(err, errlen, "%s is not a mentord database this version can use (schema %d)", path,
                 v);
        return -1;
    }
    return 0;
}

int
store_restore(const char *path, const char *from, char *err, size_t errlen)
{
    sqlite3 *src = NULL, *dst = NULL;
    char saved[PATH_MAX], why[256];
    int rc = -1;
    int lock = store_file_lock(path, LOCK_EX, err, errlen);

    if (lock < 0)
        return -1;
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "opening %s: %s", from, src ? sqlite3_errmsg(src) : "out of memory");
        goto out;
    }
    if (store_file_check_source(src, from, err, errlen) != 0)
        goto out;
    if (store_file_private(path, err, errlen) != 0)
        goto out;
    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "opening %s: %s", path, dst ? sqlite3_errmsg(dst) : "out of memory");
        goto out;
    }
    /* The database being replaced is kept, in case the wrong file was restored. */
    if (snprintf(saved, sizeof(saved), "%s.before-restore", path) >= (int)sizeof(saved) ||
        store_file_backup_db(dst, saved, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "keeping a copy of %s first: %s", path, why);
        goto out;
    }
    if (store_file_copy(dst, src, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "restoring %s into %s: %s", from, path, why);
        goto out;
    }
    rc = 0;
out:
    sqlite3_close(src);
    if (sqlite3_close(dst) != SQLITE_OK && rc == 0) {
        snprintf(err, errlen, "closing %s", path);
        rc = -1;
    }
    close(lock);
    return rc;
}
