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
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "secret.h"

/*
 * Random bytes are drawn from the kernel a pool at a time, per thread: a
 * getrandom(2) for every token and every Message-ID was two system calls a
 * mail.  Each byte is handed out once and wiped as it goes (no token is ever
 * made twice from the same bytes), and a forked child starts with an empty
 * pool (secret_forked), so it never hands out what its parent will.
 */
#define SECRET_POOL 512

struct secret_pool {
    unsigned char b[SECRET_POOL];
    size_t left; /* the unused bytes are the last left of b */
};

static _Thread_local struct secret_pool pool;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static int no_pool; /* forks could not be watched: every draw goes to the kernel */

/* In a forked child, only the thread that forked goes on: its pool is the parent's. */
static void
secret_forked(void)
{
    memset(&pool, 0, sizeof(pool));
}

static void
secret_watch_forks(void)
{
    /* Unwatched, a fork child would hand out its parent's bytes: then no pool at all. */
    if (pthread_atfork(NULL, NULL, secret_forked) != 0)
        no_pool = 1;
}

/* Fill p with n random bytes from getrandom(2), retrying short reads.  0, or -1. */
static int
secret_kernel(void *p, size_t n)
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
secret_random(void *p, size_t n)
{
    unsigned char *out = p;

    if (pthread_once(&fork_once, secret_watch_forks) != 0 || no_pool || n > SECRET_POOL)
        return secret_kernel(p, n); /* no pool: straight from the kernel */
    if (pool.left < n) {
        if (secret_kernel(pool.b, SECRET_POOL) != 0)
            return -1;
        pool.left = SECRET_POOL;
    }
    unsigned char *from = pool.b + SECRET_POOL - pool.left;
    memcpy(out, from, n);
    memset(from, 0, n); /* handed out once: no copy of it stays behind */
    pool.left -= n;
    return 0;
}

int
secret_token(char *out, size_t len)
{
    static const char alphabet[] = SECRET_ALPHABET;
    const unsigned size = sizeof(alphabet) - 1;
    const unsigned limit = 256 - 256 % size; /* 248: the largest multiple of 31 */
    unsigned char draw[64];
    size_t have = 0, used = 0, n = 0;

    while (n < len) {
        if (used == have) {
            /* What is left to make and a few more: 8 in 256 bytes are thrown away. */
            have = len - n + 4 < sizeof(draw) ? len - n + 4 : sizeof(draw);
            if (secret_random(draw, have) != 0)
                return -1;
            used = 0;
        }
        unsigned b = draw[used++];
        if (b < limit)
            out[n++] = alphabet[b % size];
    }
    out[len] = '\0';
    memset(draw, 0, sizeof(draw)); /* no leftover randomness lingers on the stack */
    return 0;
}

double
secret_bits(size_t len)
{
    return (double)len * log2((double)(sizeof(SECRET_ALPHABET) - 1));
}
