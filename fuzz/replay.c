/*
 * replay: a plain driver for the fuzz targets, without libFuzzer.
 *
 *   fuzz_replay_NAME [-v] LABEL DIR|FILE...
 *
 * Calls the target's LLVMFuzzerTestOneInput once on every file (directories
 * are read one level deep, in name order, so a failure is reproducible) and
 * prints "LABEL: N replayed, N unreadable" (a figure, not a count of tests:
 * replay.sh turns the whole replay into one test case).  A crash or sanitizer
 * report ends the process; replay.sh counts that as a failure.  -v names each
 * file on stderr before it runs, so the last name is the culprit of a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

struct replay {
    int verbose;
    size_t replayed;
    size_t unreadable;
};

/* Returns 0, or -1 when the file cannot be read (counted as a failure, not a crash). */
static int
replay_file(struct replay *r, const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL) {
                fprintf(stderr, "replay: %s: out of memory\n", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: %s: read error\n", path);
        free(buf);
        return -1;
    }
    if (r->verbose)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* Exactly len bytes, as libFuzzer passes them, so overreads are caught by ASan. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL) {
        free(buf);
        return -1;
    }
    if (len > 0)
        memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    r->replayed++;
    return 0;
}

static int
replay_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
replay_dir(struct replay *r, const char *dir)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;

    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            char **nn = realloc(names, cap * sizeof(*names));
            if (nn == NULL) {
                rc = -1;
                break;
            }
            names = nn;
        }
        if ((names[n] = strdup(e->d_name)) == NULL) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), replay_name_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) && replay_file(r, path) != 0)
            r->unreadable++;
        free(names[i]);
    }
    free(names);
    return rc;
}

int
main(int argc, char **argv)
{
    struct replay r = {0, 0, 0};
    int i = 1;
    struct stat st;

    if (i < argc && strcmp(argv[i], "-v") == 0) {
        r.verbose = 1;
        i++;
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: %s [-v] LABEL DIR|FILE...\n", argv[0]);
        return 2;
    }
    const char *label = argv[i++];
    for (; i < argc; i++) {
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            r.unreadable++;
        } else if (S_ISDIR(st.st_mode) ? replay_dir(&r, argv[i]) != 0
                                       : replay_file(&r, argv[i]) != 0) {
            r.unreadable++;
        }
    }
    printf("%s: %zu replayed, %zu unreadable\n", label, r.replayed, r.unreadable);
    /* LeakSanitizer reports at exit and ends the process without flushing stdio. */
    fflush(stdout);
    return r.unreadable == 0 ? 0 : 1;
}
