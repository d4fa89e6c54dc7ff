/*
 * noseccomp.so: for counting the reader's instructions with callgrind only.
 * The reader's seccomp filter also binds valgrind, which then may not write
 * its output; preloaded, this makes seccomp_load fail, and the reader reads
 * without its filter (it logs so).  Never for a real run.
 *
 *   python3 bench/mail/readerfeed.py 1500 feed
 *   LD_PRELOAD=build/bench/noseccomp.so valgrind --tool=callgrind build/mentord --reader \
 *       < feed > /dev/null
 */
int seccomp_load(void *ctx);

int
seccomp_load(void *ctx)
{
    (void)ctx;
    return -1;
}
