# Sourced by the test runners: turn one suite's output into its summary line
#
#   SUITE(BUILD): N passed, N failed, N skipped
#
# the only kind of line tests/report.sh adds up.  N counts test cases.  A
# suite that ends without its own summary (crashed, killed, timed out) gets
# one failure for that, on top of what it reported before dying.
# Sets S_PASSED, S_FAILED and S_SKIPPED for the caller's own totals.

# cmocka_summary SUITE BUILD OUTFILE EXIT: a cmocka binary's output.
cmocka_summary() {
    _n=$1 _b=$2 _out=$3 _rc=$4
    S_PASSED=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$_out" | awk '{ n += $1 } END { print n + 0 }')
    S_FAILED=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s), listed below:.*/\1/p' "$_out" | awk '{ n += $1 } END { print n + 0 }')
    S_SKIPPED=$(sed -n 's/^\[  SKIPPED \] \([0-9][0-9]*\) test(s), listed below:.*/\1/p' "$_out" | awk '{ n += $1 } END { print n + 0 }')
    if ! grep -q '^\[==========\] [0-9][0-9]* test(s) run\.' "$_out"; then
        # The cases that finished before it died still count.
        S_PASSED=$(grep -c '^\[       OK \] ' "$_out")
        S_SKIPPED=$(grep -c '^\[  SKIPPED \] [^0-9]' "$_out")
        echo "$_n($_b): died before its summary (exit status $_rc)"
        S_FAILED=$(($(grep -c '^\[  FAILED  \] [^0-9]' "$_out") + 1))
    elif [ "$_rc" -ne 0 ] && [ "$S_FAILED" -eq 0 ]; then
        echo "$_n($_b): exit status $_rc after its summary"
        S_FAILED=1
    fi
    grep '^\[  SKIPPED \] [^0-9]' "$_out" | sort -u | sed "s/^\[  SKIPPED \] /$_n($_b): skipped /"
    echo "$_n($_b): $S_PASSED passed, $S_FAILED failed, $S_SKIPPED skipped"
}

# runner_summary SUITE BUILD OUTFILE EXIT: a runner that prints "PASS name",
# "FAIL name: why", "SKIP name: why" per case and ends "SUITE: N passed, N failed".
runner_summary() {
    _n=$1 _b=$2 _out=$3 _rc=$4
    S_SKIPPED=$(grep -c '^SKIP ' "$_out")
    _last=$(tail -n 1 "$_out")
    if printf '%s\n' "$_last" | grep -Eq "^$_n: [0-9]+ passed, [0-9]+ failed$"; then
        S_PASSED=$(printf '%s\n' "$_last" | sed 's/.*: \([0-9]*\) passed.*/\1/')
        S_FAILED=$(printf '%s\n' "$_last" | sed 's/.* \([0-9]*\) failed$/\1/')
        if [ "$_rc" -ne 0 ] && [ "$S_FAILED" -eq 0 ]; then
            echo "$_n($_b): exit status $_rc after its summary"
            S_FAILED=1
        fi
    else
        S_PASSED=$(grep -c '^PASS ' "$_out")
        S_FAILED=$(($(grep -c '^FAIL ' "$_out") + 1))
        echo "$_n($_b): died before its summary (exit status $_rc)"
    fi
    echo "$_n($_b): $S_PASSED passed, $S_FAILED failed, $S_SKIPPED skipped"
}
