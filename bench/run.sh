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
# Read now: the tree may change while the benchmarks run (an hour or more).
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

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
{
    echo
    echo "Targets of issue 17, each beside its reference from this run: \`make bench\`"
    echo "at commit $commit, started $started, load average $load_before before and"
    echo "$(cut -d' ' -f1-3 /proc/loadavg) after; the full output is in $log."
    echo
    echo "| target | measured | reference | ratio | target | met |"
    echo "|---|---|---|---|---|---|"
    sed 's/^TARGET | /| /; s/$/ |/' "$out/targets.txt"
    echo
    awk -F' [|] ' '{ if ($7 ~ /^met/) met++; else missed++ }
        END { printf "%d targets: %d met, %d not met (each miss names its floor or reason)\n",
                     met + missed, met, missed }' "$out/targets.txt"
} | tee "$out/targets.md"
exit $status
