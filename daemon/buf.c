/*
 * buf: a growing string.  One implementation for every module that builds
 * text, so the allocation rule (double, remember a failure) lives in one place.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and the NUL, growing to exactly cap when that is more. */
static int
buf_grow(struct buf *b, size_t n, size_t cap)
{
    if (b->failed)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    if (cap < b->len + n + 1) {
        cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int
buf_reserve(struct buf *b, size_t n)
{
    if (buf_grow(b, n, b->len + n + 1) != 0)
        return -1;
    b->data[b->len] = '\0';
    return 0;
}

int
buf_add(struct buf *b, const char *s, size_t n)
{
    if (buf_grow(b, n, 0) != 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int
buf_str(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
    return buf_add(b, &c, 1);
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return -1;
    }
    if ((size_t)n < sizeof(small))
        return buf_add(b, small, (size_t)n);
    /* Longer than the stack buffer: format again into the buffer's own room. */
    if (buf_add(b, "", 0) != 0 || b->failed)
        return -1;
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        b->failed = 1;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = buf_add(b, big, (size_t)n);
    free(big);
    return rc;
}

char *
buf_take(struct buf *b)
{
    char *s = b->data;

    if (b->failed) {
        free(s);
        s = NULL;
    } else if (s == NULL) {
        s = strdup("");
    }
    memset(b, 0, sizeof(*b));
    return s;
}

void
buf_free(struct buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

/* By hand: an snprintf a byte cost more than hashing a small mail. */
char *
buf_join(const char *first, ...)
{
    va_list ap;
    size_t len = 0;

    va_start(ap, first);
    for (const char *p = first; p != NULL; p = va_arg(ap, const char *)) {
        size_t n = strlen(p);
        if (n > SIZE_MAX - 1 - len) {
            va_end(ap);
            return NULL;
        }
        len += n;
    }
    va_end(ap);
    char *out = malloc(len + 1), *o = out;
    if (out == NULL)
        return NULL;
    va_start(ap, first);
    for (const char *p = first; p != NULL; p = va_arg(ap, const char *)) {
        size_t n = strlen(p);
        memcpy(o, p, n);
        o += n;
    }
    va_end(ap);
    *o = '\0';
    return out;
}

void
buf_hex(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}
