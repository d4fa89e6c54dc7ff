/*
 * reader's private header: the wire format between the daemon and its
 * isolated reader (reader.c runs the processes, reader_wire.c writes and
 * reads what crosses the pipes).  Not part of any other module's world.
 *
 * Both ends are this program, so numbers go in native byte order; strings
 * are a u32 length and the bytes (READER_NULL for NULL).  Whatever the
 * daemon reads is checked as it is read: a reader that was taken over by a
 * crafted mail can send anything, and gets at most a failed read.
 */
#ifndef MENTORD_READER_INT_H
#define MENTORD_READER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mail.h"
#include "reading.h"

#define READER_NULL 0xffffffffu

struct reader_buf {
    char *p;
    size_t len, cap;
    int failed;
};

struct reader_in {
    const char *p;
    size_t len, off;
    int failed;
};

void reader_put(struct reader_buf *b, const void *p, size_t n);
void reader_put_str(struct reader_buf *b, const char *s);
void reader_get(struct reader_in *in, void *out, size_t n);
char *reader_get_str(struct reader_in *in); /* malloc'd; NULL for NULL or on failure */

void reader_put_mail(struct reader_buf *b, const struct mail *m);
struct mail *reader_get_mail(struct reader_in *in); /* NULL on failure */

/*
 * What the reading needs to know besides the mail: the context (plain data
 * the daemon found in the store), the message's real size and the few
 * settings reading_read looks at (limits, the community's address, plus
 * addressing, the managers).  The reader rebuilds a config of those alone.
 */
void reader_put_request(struct reader_buf *b, const struct config *cfg, size_t size,
                        const struct reading_context *ctx);
/* 0 with *cfg (reader_config_free it), *size and *ctx filled, -1 on a bad request. */
int reader_get_request(struct reader_in *in, struct config *cfg, size_t *size,
                       struct reading_context *ctx);
void reader_config_free(struct config *cfg);

void reader_put_reading(struct reader_buf *b, const struct reading *r);
/* 0 with *r filled (reading_free it), -1 on failure (*r then freed). */
int reader_get_reading(struct reader_in *in, struct reading *r);

#endif
