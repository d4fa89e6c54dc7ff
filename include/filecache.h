/*
 * filecache: the small files mentord reads again and again (the mail
 * texts of templates/), kept in memory per process and read again when
 * they change on disk.
 *
 * A file is read from disk once; every later use costs one stat(2), and
 * the content is used again only when the file's device, inode, size,
 * modification and change times are all as they were when it was read.
 * A file written so shortly before it was read that a second write could
 * keep the same time (timestamps are as coarse as the kernel's tick) is
 * read again at every use until it was written two seconds before.  So a
 * text edited, replaced, made unreadable or removed is seen at its next
 * use, exactly as without the cache.
 *
 * Between filecache_hold(1) and filecache_hold(0) a file checked once is
 * not checked again.  Holds nest and the outermost counts: the inbox holds
 * around a batch of mails (inbox.c), so each text is looked at once a batch
 * and a change is seen from the next batch on; programme.c holds around one
 * mail's handling, for the callers that handle a mail alone.
 *
 * For one thread (the daemon's, or a mentorctl command's): nothing here
 * locks.
 */
#ifndef MENTORD_FILECACHE_H
#define MENTORD_FILECACHE_H

#include <stddef.h>

/* The largest file kept: a mail text is a few kilobytes. */
#define FILECACHE_MAX (1024 * 1024)

/*
 * path's whole content as now on disk: 0 with *text (NUL-terminated, len
 * bytes, owned by the cache and valid until the next filecache call), or
 * -1 with errno set (ENOENT, EACCES, EFBIG above FILECACHE_MAX, ENOMEM, ...).
 */
int filecache_read(const char *path, const char **text, size_t *len);

/*
 * access(2) for F_OK or R_OK, answered from what filecache_read knows
 * (R_OK: the file could be read).  0, or -1 with errno set.
 */
int filecache_access(const char *path, int mode);

/* on 1: each file is checked at most once until the matching filecache_hold(0). */
void filecache_hold(int on);

/* Forget every file (tests; a process that wants its memory back). */
void filecache_clear(void);

#endif
