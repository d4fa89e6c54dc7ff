/*
 * secret: unguessable tokens from getrandom(2), without modulo bias.
 *
 * A byte is uniform over 0..255; 256 is not a multiple of 31, so byte % 31
 * would make the first 8 characters 9/8 as likely as the others.  Bytes at or
 * above the largest multiple of 31 (248) are thrown away and drawn again:
 * every accepted byte is uniform over 0..247 and its remainder over 0..30.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/random.h>

#include "secret.h"

/* Fill p with n random bytes from getrandom(2), retrying short reads.  0, or -1. */
static int
secret_bytes(void *p, size_t n)
{
    unsigned char *b = p;

    while (n > 0) {
        ssize_t got = getrandom(b, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += got;
        n -= (size_t)got;
    }
    return 0;
}

int
secret_token(char *out, size_t len)
{
    static const char alphabet[] = SECRET_ALPHABET;
    const unsigned size = sizeof(alphabet) - 1;
    const unsigned limit = 256 - 256 % size; /* 248: the largest multiple of 31 */
    unsigned char pool[64];
    size_t have = 0, used = 0, n = 0;

    while (n < len) {
        if (used == have) {
            if (secret_bytes(pool, sizeof(pool)) != 0)
                return -1;
            have = sizeof(pool);
            used = 0;
        }
        unsigned b = pool[used++];
        if (b < limit)
            out[n++] = alphabet[b % size];
    }
    out[len] = '\0';
    memset(pool, 0, sizeof(pool)); /* no leftover randomness lingers on the stack */
    return 0;
}

double
secret_bits(size_t len)
{
    return (double)len * log2((double)(sizeof(SECRET_ALPHABET) - 1));
}
