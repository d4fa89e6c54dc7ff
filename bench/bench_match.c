/*
 * bench_match: the matcher on synthetic communities, against greedy and LEMON.
 *
 *   bench_match LEMON_REF WORKDIR NEWCOMERS:MENTORS...
 *
 * For each size: generate a community, run match_solve (writing the candidate
 * graph as DIMACS to WORKDIR), run match_greedy on the same candidates, then
 * run LEMON_REF (NetworkSimplex) on the DIMACS file in a child process, and
 * print one table row.  Each size runs in its own child process so peak
 * memory (ru_maxrss) is per size.
 */
#include "gen.h"
#include "match.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

struct lemon {
    long long cost;
    double seconds;
    long maxrss_kb;
};

static int
run_lemon(const char *prog, const char *file, struct lemon *l)
{
    char cmd[8300];
    snprintf(cmd, sizeof(cmd), "'%s' '%s'", prog, file);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    int ok =
        fscanf(p, "cost=%lld seconds=%lf maxrss_kb=%ld", &l->cost, &l->seconds, &l->maxrss_kb) == 3;
    return (pclose(p) == 0 && ok) ? 0 : -1;
}

static int
is_repeat(const struct community *c, int64_t a, int64_t b)
{
    for (size_t i = 0; i < c->n_history; i++)
        if (c->history[i].a == a && c->history[i].b == b)
            return 1;
    return 0;
}

/* Load after the round as a share of capacity, over mentors with free places. */
static void
load_spread(const struct community *c, const struct match_result *r, double *mean, double *sd,
            int *max_new)
{
    size_t nm = c->n_mentors, n0 = c->n_newcomers;
    int *added = calloc(nm, sizeof(*added));
    if (added == NULL)
        return;
    for (size_t i = 0; i < r->n_pairs; i++)
        added[r->pairs[i].mentor - 1 - (int64_t)n0]++;
    double sum = 0, sq = 0;
    size_t k = 0;
    *max_new = 0;
    for (size_t m = 0; m < nm; m++) {
        const struct match_person *p = &c->people[n0 + m];
        if (p->flags != 0 || p->capacity <= p->active_mentees)
            continue;
        double share = (double)(p->active_mentees + added[m]) / p->capacity;
        sum += share;
        sq += share * share;
        k++;
        if (added[m] > *max_new)
            *max_new = added[m];
    }
    *mean = k ? sum / k : 0;
    *sd = k ? sqrt(sq / k - *mean * *mean) : 0;
    free(added);
}

static int
bench_size(const char *lemon_prog, const char *dir, size_t nn, size_t nm)
{
    struct community c;
    if (gen_community(&c, nn, nm, 42) != 0)
        return fprintf(stderr, "bench: out of memory\n"), -1;
    char file[4096], err[256];
    snprintf(file, sizeof(file), "%s/match_%zu_%zu.dimacs", dir, nn, nm);
    FILE *f = fopen(file, "w");
    if (f == NULL)
        return perror(file), -1;
    struct match_input in = {.people = c.people,
                             .n_people = nn + nm,
                             .blocked = c.history,
                             .n_blocked = c.n_history,
                             .now = c.now,
                             .dimacs = f};
    struct match_result r, g;
    if (match_solve(&in, &r, err, sizeof(err)) != 0)
        return fprintf(stderr, "bench: %s\n", err), -1;
    fclose(f);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long rss_kb = ru.ru_maxrss;
    in.dimacs = NULL;
    if (match_greedy(&in, &g, err, sizeof(err)) != 0)
        return fprintf(stderr, "bench: %s\n", err), -1;
    struct lemon l;
    if (run_lemon(lemon_prog, file, &l) != 0)
        return fprintf(stderr, "bench: %s failed on %s\n", lemon_prog, file), -1;
    size_t repeats = 0, eligible = r.n_pairs + r.n_waitlist;
    for (size_t i = 0; i < r.n_pairs; i++)
        repeats += is_repeat(&c, r.pairs[i].newcomer, r.pairs[i].mentor);
    double mean = 0, sd = 0;
    int max_new = 0;
    load_spread(&c, &r, &mean, &sd, &max_new);
    double opt = -(double)l.cost;
    printf("| %zu x %zu | %zu | %.2f | %.2f | %.2f | %.2fx | %ld | %ld | %.1f | %.6f | %.4f | "
           "%.1f%% | %.2f±%.2f, max +%d | %zu | %.1f%% |\n",
           nn, nm, r.n_candidates, r.seconds_candidates, r.seconds_solve, l.seconds,
           l.seconds > 0 ? r.seconds_solve / l.seconds : 0.0, rss_kb / 1024, l.maxrss_kb / 1024,
           r.graph_bytes / 1048576.0, opt != 0 ? (double)r.objective / opt : 1.0,
           opt != 0 ? (double)g.objective / opt : 1.0,
           eligible ? 100.0 * r.n_pairs / eligible : 0.0, mean, sd, max_new, repeats,
           eligible ? 100.0 * g.n_pairs / eligible : 0.0);
    fprintf(stderr, "pricing %zu x %zu: certified %d, rounds %d, priced in %zu, scored %zu, %.2f s\n",
            r.n_newcomers, r.n_mentors, r.certified, r.pricing_rounds, r.n_priced_in, r.n_priced,
            r.seconds_pricing);
    fflush(stdout);
    int rc = (r.used_greedy || repeats != 0 || (double)r.objective != opt) ? 1 : 0;
    if (rc != 0)
        fprintf(stderr, "bench: %zu x %zu: objective %" PRId64 " vs LEMON %.0f, repeats %zu\n", nn,
                nm, r.objective, opt, repeats);
    match_result_free(&r);
    match_result_free(&g);
    gen_free(&c);
    if (getenv("BENCH_KEEP") == NULL)
        unlink(file);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_match LEMON_REF WORKDIR NEWCOMERS:MENTORS...\n");
        return 2;
    }
    printf("| newcomers x mentors | candidates | candidates s | mcf solve s | LEMON s | "
           "time vs LEMON | peak MB | LEMON peak MB | graph MB | score / optimum | "
           "greedy / optimum | coverage | load (share of capacity) | repeats | greedy coverage |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);
    int failed = 0;
    for (int i = 3; i < argc; i++) {
        size_t nn, nm;
        if (sscanf(argv[i], "%zu:%zu", &nn, &nm) != 2 || nn == 0 || nm == 0) {
            fprintf(stderr, "bench: bad size %s\n", argv[i]);
            return 2;
        }
        pid_t pid = fork(); /* a process per size: ru_maxrss is a high-water mark */
        if (pid == 0)
            _exit(bench_size(argv[1], argv[2], nn, nm) == 0 ? 0 : 1);
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed = 1;
    }
    return failed;
}
