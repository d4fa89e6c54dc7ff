/*
 * LD_PRELOAD shim for the fault tests: makes libetpan's MIME parser die on one
 * chosen message, the way a parser bug would, so the test can check that a
 * mail which kills mentord is set aside after imap.max_attempts deaths
 * instead of killing every restart.  Any message carrying the header
 * "X-Fault-Crash: abort" aborts the process inside mailmime_parse(), one
 * carrying "X-Fault-Crash: hang" spins there forever (a parser caught in a
 * loop), one carrying "X-Fault-Slow: N" takes N milliseconds more there
 * (deciding a batch takes long enough for a test to kill mentord in the
 * middle of it); every other message goes to the real function.  The tests
 * name these headers Content-X-Fault-...: mail.c gives mailmime_parse only
 * a mail's Content-* fields and its body when it can (mime_fields_only),
 * and the marks are found inside those names.
 *
 * The reading (reading.h: intent, arguments) is covered too: a word
 * "xfaultreadhang" or "xfaultreadabort" in the text a person wrote parses
 * well, then spins or aborts in libstemmer's sb_stemmer_stem() when the
 * words are read.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mailmime;
typedef int parse_fn(const char *, size_t, size_t *, struct mailmime **);

int mailmime_parse(const char *message, size_t length, size_t *indx, struct mailmime **result);

int
mailmime_parse(const char *message, size_t length, size_t *indx, struct mailmime **result)
{
    static const char mark[] = "X-Fault-Crash: abort";
    static const char hang[] = "X-Fault-Crash: hang";

    if (memmem(message, length, mark, sizeof mark - 1) != NULL)
        abort();
    if (memmem(message, length, hang, sizeof hang - 1) != NULL) {
        volatile unsigned long spin = 0;
        for (;;)
            spin++;
    }
    static const char slow[] = "X-Fault-Slow: ";
    const char *at = memmem(message, length, slow, sizeof slow - 1);
    if (at != NULL) {
        /* Slept, not spun: the reader's seccomp filter allows clock_nanosleep. */
        long ms = strtol(at + sizeof slow - 1, NULL, 10);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    parse_fn *real = (parse_fn *)dlsym(RTLD_NEXT, "mailmime_parse");
    if (real == NULL)
        abort();
    return real(message, length, indx, result);
}

struct sb_stemmer;
typedef const unsigned char *stem_fn(struct sb_stemmer *, const unsigned char *, int);

const unsigned char *sb_stemmer_stem(struct sb_stemmer *z, const unsigned char *word, int size);

const unsigned char *
sb_stemmer_stem(struct sb_stemmer *z, const unsigned char *word, int size)
{
    static const char hang[] = "xfaultreadhang";
    static const char mark[] = "xfaultreadabort";

    if (size > 0 && memmem(word, (size_t)size, mark, sizeof mark - 1) != NULL)
        abort();
    if (size > 0 && memmem(word, (size_t)size, hang, sizeof hang - 1) != NULL) {
        volatile unsigned long spin = 0;
        for (;;)
            spin++;
    }
    stem_fn *real = (stem_fn *)dlsym(RTLD_NEXT, "sb_stemmer_stem");
    if (real == NULL)
        abort();
    return real(z, word, size);
}
