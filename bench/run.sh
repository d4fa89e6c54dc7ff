#!/bin/sh
# make bench: every benchmark in turn, then every target of issue 17 with the
# reference it was measured against in this same run.
#
# Each benchmark prints one line per target it measures:
#   TARGET | name | measured | reference (value) | ratio | target | met
# (or "not met: <the measured floor or the reason>" in the last field).  The
# lines are gathered from this run's output alone, so the summary can never
# show a figure from an earlier run; a benchmark that fails, or that prints no
# target at all, fails `make bench`.
set -u
build=${1:?usage: run.sh BUILD}
out=$build/bench
log=$out/bench.log
mkdir -p "$out"
: >"$log"
status=0

step() {
    echo "== $*" | tee -a "$log"
    before=$(grep -c '^TARGET |' "$log")
    { "$@" 2>&1; echo $? >"$out/.step-rc"; } | tee -a "$log"
    rc=$(cat "$out/.step-rc")
    after=$(grep -c '^TARGET |' "$log")
    if [ "$rc" != 0 ]; then
        echo "bench: '$*' failed (exit $rc)" | tee -a "$log"
        status=1
    elif [ "$after" = "$before" ]; then
        echo "bench: '$*' printed no TARGET line" | tee -a "$log"
        status=1
    fi
}

step make -s -C bench BUILD="$build"
step python3 bench/round.py --build "$build" 10000:1000 100000:10000
step make -s -C bench/mail BUILD="$build"

grep '^TARGET |' "$log" >"$out/targets.txt"
echo
echo "== Targets of issue 17, each beside its reference from this run"
echo "   (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg), full output: $log)"
awk -F' *[|] *' '
    { printf "%-52s %-22s %-40s %-9s %-10s %s\n", $2, $3, $4, $5, $6, $7
      if ($7 ~ /^met/) met++; else missed++ }
    END { printf "%d targets: %d met, %d not met (each miss names its floor)\n",
                 met + missed, met, missed }' "$out/targets.txt"
exit $status
