/*
 * secret: the one generator of everything mentord hands out that must not be
 * guessed: confirmation tokens, per-recipient [ref] tags, VERP tags.
 *
 * Characters are drawn from getrandom(2) by rejection sampling, so each of the
 * alphabet's 31 characters is exactly equally likely (a plain byte % 31 would
 * favour the first eight).  SECRET_TOKEN_LEN characters carry about 69 bits.
 */
#ifndef MENTORD_SECRET_H
#define MENTORD_SECRET_H

#include <stddef.h>

/* Lower-case letters and digits without look-alikes (0/o, 1/l/i). */
#define SECRET_ALPHABET "23456789abcdefghjkmnpqrstuvwxyz"
/* 14 characters of a 31-letter alphabet: 14 * log2(31) = 69.4 bits. */
#define SECRET_TOKEN_LEN 14

/*
 * Fill out with len characters of SECRET_ALPHABET and a NUL (out holds len + 1).
 * Returns 0, or -1 when the kernel's generator fails (errno set).
 */
int secret_token(char *out, size_t len);
/*
 * n random bytes (a Message-ID, a MIME boundary), from a pool per thread
 * filled by getrandom(2); each byte is handed out once, and a forked child
 * starts with an empty pool.  0, or -1 when the kernel's generator fails.
 */
int secret_random(void *p, size_t n);


/* Bits of entropy in a token of len characters (for tests and the README). */
double secret_bits(size_t len);

#endif
