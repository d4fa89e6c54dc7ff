#!/bin/sh
# Run every unit-test binary in BUILD/tests and summarise.
#
#   sh tests/run-unit.sh BUILD
#
# Prints cmocka's own output and one summary line per suite,
# "test_x(BUILD): N passed, N failed, N skipped" (tests/summary.sh), which
# tests/report.sh adds up.  A binary that exits 77 needs the mail test-bed:
# it is run, and summarised, by tests/e2e/run.sh instead.  A crash (signal,
# sanitizer abort), a timeout or an exit before cmocka's summary counts as a
# failure.  Exit status 1 when anything failed, or when anything was skipped
# under CI=true.
set -u

BUILD=${1:?usage: run-unit.sh BUILD}
TIMEOUT=${UNIT_TIMEOUT:-300}
. "$(dirname "$0")/summary.sh"
b=$(basename "$BUILD")
failed=0
skipped=0
out=$(mktemp "${TMPDIR:-/tmp}/mentord-unit.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT INT TERM

found=0
for t in "$BUILD"/tests/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    found=1
    name=$(basename "$t")
    echo "== $name ($b)"
    # cmocka writes to stdout; no TESTBED_ENV so test-bed suites skip with 77.
    env -u TESTBED_ENV CMOCKA_MESSAGE_OUTPUT=stdout timeout "$TIMEOUT" "$t" >"$out" 2>&1
    rc=$?
    # A checker's figures inside a case ("checks NAME: ...") get the build's name too.
    sed "s/^checks /checks($b) /" "$out"
    if [ $rc -eq 77 ]; then
        echo "$name($b): needs the mail test-bed; run by tests/e2e/run.sh"
        continue
    fi
    cmocka_summary "$name" "$b" "$out" "$rc"
    failed=$((failed + S_FAILED))
    skipped=$((skipped + S_SKIPPED))
done
if [ $found -eq 0 ]; then
    echo "no test binaries in $BUILD/tests"
    echo "unit($b): 0 passed, 1 failed, 0 skipped"
    exit 1
fi
[ $failed -eq 0 ] || exit 1
[ "${CI:-}" != true ] || [ $skipped -eq 0 ]
