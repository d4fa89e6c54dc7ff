#!/bin/sh
# End-to-end tests against a real Dovecot + Postfix test-bed.
#
#   sh tests/e2e/run.sh BUILD
#
# Starts the test-bed in a temp folder (always stopped and removed on exit),
# runs tests/e2e/test_e2e.py (its last line: "e2e: N passed, N failed") and
# tests/e2e/test_programme_e2e.py ("e2e-programme: N passed, N failed"),
# tests/e2e/test_programme_kill.py ("e2e-programme-kill: ...", not for build-san), then
# every C test binary in BUILD/tests that skips (exit 77) without TESTBED_ENV,
# this time with the test-bed, ending with "e2e-c(BUILD): N passed, N failed".
# tests/report.sh adds those lines up.  Exit status 1 when anything failed.
set -u

BUILD=${1:?usage: run.sh BUILD}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
TESTBED="$SRC/tests/e2e/testbed.sh"
TIMEOUT=${E2E_TIMEOUT:-600}
label=$(basename "$BUILD")

# /tmp, not $TMPDIR: the servers' unprivileged users must be able to reach the folder.
TB=$(mktemp -d /tmp/mentord-testbed.XXXXXX) || exit 1
out=$TB.out
cleanup() {
    sh "$TESTBED" stop "$TB" || echo "e2e: could not stop the test-bed in $TB" >&2
    rm -rf "$TB" "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s.%N)
# user1 .. user25: the cast of the 16-week programme (test_programme_e2e.py).
if ! EXTRA_USERS=25 sh "$TESTBED" start "$TB" </dev/null; then
    echo "e2e($label): the mail test-bed did not start"
    echo "e2e($label): 0 passed, 1 failed"
    exit 1
fi
echo "== mail test-bed up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s ($TB)"

export TESTBED_ENV="$TB/testbed.env"
export MENTORD_BIN="$BUILD/mentord"
export MENTORCTL_BIN="$BUILD/mentorctl"
rc=0

echo "== e2e tests ($label)"
timeout "$TIMEOUT" python3 -u "$SRC/tests/e2e/test_e2e.py" </dev/null >"$out" 2>&1
prc=$?
cat "$out"
if [ $prc -ne 0 ]; then
    rc=1
    # A crash or timeout of the runner itself still has to show up in the total.
    if ! tail -n 1 "$out" | grep -Eq '^e2e: [0-9]+ passed, [0-9]+ failed$'; then
        echo "e2e runner exited with status $prc"
        echo "e2e-runner($label): 0 passed, 1 failed"
    fi
fi

echo "== the 16-week programme ($label)"
timeout "$TIMEOUT" python3 -u "$SRC/tests/e2e/test_programme_e2e.py" </dev/null >"$out" 2>&1
prc=$?
cat "$out"
if [ $prc -ne 0 ]; then
    rc=1
    if ! tail -n 1 "$out" | grep -Eq '^e2e-programme: [0-9]+ passed, [0-9]+ failed$'; then
        echo "programme runner exited with status $prc"
        echo "e2e-programme-runner($label): 0 passed, 1 failed"
    fi
fi

echo "== abuse and privacy ($label)"; timeout "$TIMEOUT" python3 -u "$SRC/tests/e2e/test_abuse.py" </dev/null >"$out" 2>&1 || rc=1; cat "$out"; tail -n 1 "$out" | grep -Eq '^e2e-abuse: [0-9]+ passed, [0-9]+ failed$' || echo "e2e-abuse-runner($label): 0 passed, 1 failed"

echo "== running it as an administrator ($label)"; timeout "$TIMEOUT" python3 -u "$SRC/tests/e2e/test_ops.py" </dev/null >"$out" 2>&1 || rc=1; cat "$out"; tail -n 1 "$out" | grep -Eq '^e2e-ops: [0-9]+ passed, [0-9]+ failed$' || echo "e2e-ops-runner($label): 0 passed, 1 failed"

# SIGKILLs during the same story (normal build only: the sanitizer build is too slow for
# kills timed in milliseconds).  Its last line: "e2e-programme-kill: N passed, N failed".
case "$label" in
build-san) echo "== the 16-week programme under SIGKILL: skipped for $label" ;;
*)
    echo "== the 16-week programme under SIGKILL ($label)"
    kill_test="$SRC/tests/e2e/test_programme_kill.py"
    timeout "$TIMEOUT" python3 -u "$kill_test" </dev/null >"$out" 2>&1 || rc=1
    cat "$out"
    tail -n 1 "$out" | grep -Eq '^e2e-programme-kill: [0-9]+ passed, [0-9]+ failed$' ||
        echo "e2e-programme-kill-runner($label): 0 passed, 1 failed"
    ;;
esac

cmocka_count() {
    sed -n "s/^\[  $1  \] \([0-9][0-9]*\) test.*/\1/p" "$2" | awk '{ n += $1 } END { print n + 0 }'
}

passed=0
failed=0
ran=0
for t in "$BUILD"/tests/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    # Only binaries that know about the test-bed, and skip without it.
    grep -q TESTBED_ENV "$t" 2>/dev/null || continue
    env -u TESTBED_ENV timeout 60 "$t" >/dev/null 2>&1 </dev/null
    [ $? -eq 77 ] || continue
    ran=1
    name=$(basename "$t")
    echo "== $name (with the test-bed)"
    CMOCKA_MESSAGE_OUTPUT=stdout timeout "$TIMEOUT" "$t" </dev/null >"$out" 2>&1
    trc=$?
    cat "$out"
    p=$(cmocka_count PASSED "$out")
    f=$(cmocka_count FAILED "$out")
    if [ $trc -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "$name: exit status $trc"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -eq 0 ]; then
        echo "$name: PASS ($p tests)"
    else
        echo "$name: FAIL ($f of $((p + f)) tests)"
    fi
done
if [ $ran -eq 1 ]; then
    echo "e2e-c($label): $passed passed, $failed failed"
    [ $failed -eq 0 ] || rc=1
fi
exit $rc
