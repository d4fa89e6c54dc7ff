/*
 * buf: a growing, always NUL-terminated string, for the modules that build
 * text (mail decoding, composing, profiles, templates).
 *
 * An allocation failure is remembered in failed; later additions are then
 * ignored and buf_take() returns NULL, so a caller checks once at the end.
 */
#ifndef MENTORD_BUF_H
#define MENTORD_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* NULL until something is added */
    size_t len;
    size_t cap;
    int failed; /* an allocation failed: the content is incomplete */
};

/* Append n bytes; 0, or -1 when memory ran out (then and ever after). */
int buf_add(struct buf *b, const char *s, size_t n);
int buf_str(struct buf *b, const char *s);
/*
 * Room for n more bytes at once, when the caller knows about how much it will
 * add (a mail text, a body): the doublings from 128 bytes each copied it all.
 * 0, or -1 when memory ran out (as buf_add).
 */
int buf_reserve(struct buf *b, size_t n);
int buf_addc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The string (malloc'd, "" when empty) handed to the caller, or NULL after a failure. */
char *buf_take(struct buf *b);

/* Release the content without taking it. */
void buf_free(struct buf *b);

/*
 * The strings given, up to a NULL, joined in one allocation of just their
 * length (malloc'd), or NULL when memory ran out: for a short text put
 * together on a hot path, where a buf's growth or a printf's format cost
 * more than the copy.
 */
char *buf_join(const char *first, ...) __attribute__((sentinel));

/* The n bytes at in as 2n lowercase hex digits and a NUL in out (2n + 1 bytes). */
void buf_hex(char *out, const unsigned char *in, size_t n);

#endif
