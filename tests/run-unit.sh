#!/bin/sh
# Run every unit-test binary in BUILD/tests and summarise.
#
#   sh tests/run-unit.sh BUILD
#
# Prints cmocka's own output, one verdict line per suite ("test_x: PASS (n tests)",
# "FAIL", "SKIP (needs test-bed)") and a final "unit(BUILD): N passed, N failed"
# line that tests/report.sh adds up.  A binary that exits 77 needs the mail
# test-bed and is run by tests/e2e/run.sh instead.  A crash (signal, sanitizer
# abort) or a non-zero exit without cmocka's failure count counts as 1 failure.
# Exit status 1 when anything failed.
set -u

BUILD=${1:?usage: run-unit.sh BUILD}
TIMEOUT=${UNIT_TIMEOUT:-300}
passed=0
failed=0
out=$(mktemp "${TMPDIR:-/tmp}/mentord-unit.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT INT TERM

# Sum of the numbers in cmocka's "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" lines.
cmocka_count() {
    sed -n "s/^\[  $1  \] \([0-9][0-9]*\) test.*/\1/p" "$2" | awk '{ n += $1 } END { print n + 0 }'
}

found=0
for t in "$BUILD"/tests/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    found=1
    name=$(basename "$t")
    echo "== $name"
    # cmocka writes to stdout; no TESTBED_ENV so test-bed suites skip with 77.
    env -u TESTBED_ENV CMOCKA_MESSAGE_OUTPUT=stdout timeout "$TIMEOUT" "$t" >"$out" 2>&1
    rc=$?
    cat "$out"
    if [ $rc -eq 77 ]; then
        echo "$name: SKIP (needs test-bed)"
        continue
    fi
    p=$(cmocka_count PASSED "$out")
    f=$(cmocka_count FAILED "$out")
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        # Crashed, timed out (124) or failed without cmocka's summary.
        f=1
        echo "$name: exit status $rc"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -eq 0 ]; then
        echo "$name: PASS ($p tests)"
    else
        echo "$name: FAIL ($f of $((p + f)) tests)"
    fi
done
[ $found -eq 1 ] || echo "no test binaries in $BUILD/tests"

echo "unit($BUILD): $passed passed, $failed failed"
[ $failed -eq 0 ]
