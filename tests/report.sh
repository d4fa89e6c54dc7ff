#!/bin/sh
# The total of a test run.
#
#   sh tests/report.sh FILE [SUITES BUILD...]
#
# FILE holds the output of the runners (tests/run-unit.sh, fuzz/replay.sh,
# tests/install.sh, tests/test_mentorctl.sh, tests/e2e/run.sh,
# tests/faults/run.sh).  Only their summary lines count:
#
#   SUITE(BUILD): N passed, N failed, N skipped
#
# where N counts test cases.  Figures that are not test cases (fuzz inputs
# replayed, lines a checker printed inside a case) are shown apart and not
# added.  With SUITES (tests/suites.list) and the BUILDs the run covered,
# every suite listed for a build must have reported exactly once: a missing
# suite, or one that died before its summary, is a failure, and so is a
# suite that is not listed.  Under CI=true a skipped case is a failure too
# (a corpus that is missing must not pass in continuous integration).
#
# The last line is "N passed, N failed, N skipped".  Exit 1 when anything
# failed or when nothing ran at all.
set -u

FILE=${1:?usage: report.sh FILE [SUITES BUILD...]}
LIST=${2:-}
[ $# -gt 2 ] && shift 2 || shift $#
BUILDS="$*"
if [ ! -r "$FILE" ]; then
    echo "report: $FILE not found"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi
if [ -n "$LIST" ] && [ ! -r "$LIST" ]; then
    echo "report: $LIST not found"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi

awk -v list="$LIST" -v builds="$BUILDS" -v ci="${CI:-}" '
    BEGIN {
        nb = split(builds, b, " ")
        for (i = 1; i <= nb; i++) covered[b[i]] = 1
        if (list != "") {
            while ((getline line < list) > 0) {
                sub(/#.*/, "", line)
                nwords = split(line, w, /[ \t]+/)
                if (nwords == 0 || w[1] == "") continue
                listed[w[1]] = 1
                for (i = 2; i <= nwords; i++)
                    if (w[i] in covered) { want[w[1] "(" w[i] ")"] = 1; order[++nw] = w[1] "(" w[i] ")" }
            }
        }
    }
    /^[A-Za-z0-9_.-]+\([A-Za-z0-9_.-]+\): [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ {
        name = $0; sub(/:.*/, "", name)
        suite = name; sub(/\(.*/, "", suite)
        split($0, w, /: /); split(w[2], cnt, /[ ,]+/)
        p += cnt[1]; f += cnt[3]; s += cnt[5]
        seen[name]++
        lines[++nl] = "  " $0
        if (list != "" && !(suite in listed)) notlisted[++nn] = name
        next
    }
    /^fuzz inputs\(/ || /^checks\(/ { figures[++nf] = "  " $0 }
    END {
        for (i = 1; i <= nl; i++) print lines[i]
        if (nf > 0) {
            print "figures (not test cases):"
            for (i = 1; i <= nf; i++) print figures[i]
        }
        for (i = 1; i <= nw; i++) {
            if (!(order[i] in seen)) { print "report: suite " order[i] " did not report (missing, or died before its summary)"; f++ }
            else if (seen[order[i]] > 1) { print "report: suite " order[i] " reported " seen[order[i]] " times"; f++ }
        }
        for (i = 1; i <= nn; i++) { print "report: suite " notlisted[i] " is not in " list; f++ }
        if (ci == "true" && s > 0) { print "report: " s " skipped case(s) count as failures under CI=true"; f += s }
        if (p + f + s == 0) { print "report: no test ran"; f = 1 }
        printf "%d passed, %d failed, %d skipped\n", p, f, s
        exit f > 0 ? 1 : 0
    }' "$FILE"
