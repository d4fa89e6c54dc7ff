// LEMON reference: read a DIMACS min-cost-flow file, solve it with
// NetworkSimplex, print the optimum, the solve time (CPU seconds of run(),
// like mentord's figure, and wall seconds) and peak memory.
//   lemon_ref FILE.dimacs
#include <lemon/dimacs.h>
#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sys/resource.h>
#include <time.h>

static double cpu_seconds()
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

using Graph = lemon::SmartDigraph;

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: lemon_ref FILE.dimacs\n");
        return 2;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::fprintf(stderr, "lemon_ref: cannot open %s\n", argv[1]);
        return 1;
    }
    Graph g;
    Graph::ArcMap<long long> lower(g), cap(g), cost(g);
    Graph::NodeMap<long long> supply(g);
    lemon::readDimacsMin(in, g, lower, cap, cost, supply);

    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_seconds();
    lemon::NetworkSimplex<Graph, long long, long long> ns(g);
    ns.lowerMap(lower).upperMap(cap).costMap(cost).supplyMap(supply);
    auto status = ns.run();
    double c1 = cpu_seconds();
    auto t1 = std::chrono::steady_clock::now();
    if (status != lemon::NetworkSimplex<Graph, long long, long long>::OPTIMAL) {
        std::fprintf(stderr, "lemon_ref: no optimal solution (status %d)\n", (int)status);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    std::printf("cost=%lld seconds=%.3f maxrss_kb=%ld nodes=%d arcs=%d wall=%.3f\n",
                (long long)ns.totalCost(), c1 - c0, ru.ru_maxrss, countNodes(g), countArcs(g),
                std::chrono::duration<double>(t1 - t0).count());
    return 0;
}
