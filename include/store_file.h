/*
 * store_file: the database as a file: private permissions, the daemon's lock,
 * backup and restore.
 * Part of the store module's public face (store.h includes it; conventions
 * there); defined in daemon/store_file.c.
 */
#ifndef MENTORD_STORE_FILE_H
#define MENTORD_STORE_FILE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/*
 * Files (store_file.c).  The database and its -wal/-shm are private: created
 * 0600 whatever the umask, and a database readable by others is made private
 * (store_open does this; store_file_private is the same for one path).
 */
int store_file_private(const char *path, char *err, size_t errlen);
/*
 * The daemon's shared lock on PATH.lock, held until exit: the fd, or -1 with
 * err.  store_restore takes it exclusively, so it never runs under a daemon.
 */
int store_daemon_lock(const char *path, char *err, size_t errlen);
/* A consistent copy of the open database into dest (0600), taken while others write. */
int store_backup(struct store *st, const char *dest, char *err, size_t errlen);
/*
 * Replace the database at path with the backup at from (checked to be a
 * mentord database first); the replaced one is kept as PATH.before-restore.
 * Refused while a daemon holds the lock.  Open path with store_open after,
 * which upgrades an older backup's schema.
 */
int store_restore(const char *path, const char *from, char *err, size_t errlen);

#endif
