#!/bin/sh
# End-to-end tests against a real Dovecot + Postfix test-bed.
#
#   sh tests/e2e/run.sh BUILD
#
# Starts the test-bed in a temp folder (always stopped and removed on exit),
# runs tests/e2e/test_e2e.py, test_programme_e2e.py, test_abuse.py, test_oauth.py (with its own
# OAuth 2.0 test-bed) and test_programme_kill.py (not for build-san: its kills are timed for the normal
# build), then every C test binary in BUILD/tests that skips (exit 77) without
# TESTBED_ENV, this time with the test-bed.  Each suite ends with its summary
# line, "SUITE(BUILD): N passed, N failed, N skipped" (tests/summary.sh), which
# tests/report.sh adds up.  Exit status 1 when anything failed.
set -u

BUILD=${1:?usage: run.sh BUILD}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
TESTBED="$SRC/tests/e2e/testbed.sh"
TIMEOUT=${E2E_TIMEOUT:-600}
label=$(basename "$BUILD")
. "$SRC/tests/summary.sh"

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
    echo "e2e($label): 0 passed, 1 failed, 0 skipped"
    exit 1
fi
echo "== mail test-bed up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s ($TB)"

export TESTBED_ENV="$TB/testbed.env"
export MENTORD_BIN="$BUILD/mentord"
export MENTORCTL_BIN="$BUILD/mentorctl"
rc=0

# run_py SUITE SCRIPT: one Python runner, summarised; a crash still counts.
run_py() {
    timeout "$TIMEOUT" python3 -u "$2" </dev/null >"$out" 2>&1
    prc=$?
    cat "$out"
    runner_summary "$1" "$label" "$out" "$prc"
    [ "$S_FAILED" -eq 0 ] || rc=1
}

echo "== e2e tests ($label)"
run_py e2e "$SRC/tests/e2e/test_e2e.py"
echo "== the 16-week programme ($label)"
run_py e2e-programme "$SRC/tests/e2e/test_programme_e2e.py"
echo "== abuse and privacy ($label)"
run_py e2e-abuse "$SRC/tests/e2e/test_abuse.py"

# OAuth 2.0 logins (XOAUTH2, OAUTHBEARER, refresh, rotation, revocation, device and code
# flows) against a test-bed of their own: an authorization-server stand-in, Dovecot with its
# oauth2 passdb and Postfix submission through Dovecot SASL.  Last line: "e2e-oauth: ...".
echo "== OAuth 2.0 logins ($label)"
run_py e2e-oauth "$SRC/tests/e2e/test_oauth.py"

echo "== running it as an administrator ($label)"
run_py e2e-ops "$SRC/tests/e2e/test_ops.py"

# SIGKILLs during the same story (normal build only: the sanitizer build is too slow for
# kills timed in milliseconds; tests/suites.list expects it for build alone).
case "$label" in
build-san) echo "== the 16-week programme under SIGKILL: not run for $label" ;;
*)
    echo "== the 16-week programme under SIGKILL ($label)"
    run_py e2e-programme-kill "$SRC/tests/e2e/test_programme_kill.py"
    ;;
esac

for t in "$BUILD"/tests/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    # Only binaries that know about the test-bed, and skip without it.
    grep -q TESTBED_ENV "$t" 2>/dev/null || continue
    env -u TESTBED_ENV timeout 60 "$t" >/dev/null 2>&1 </dev/null
    [ $? -eq 77 ] || continue
    name=$(basename "$t")
    echo "== $name (with the test-bed)"
    CMOCKA_MESSAGE_OUTPUT=stdout timeout "$TIMEOUT" "$t" </dev/null >"$out" 2>&1
    trc=$?
    cat "$out"
    cmocka_summary "$name" "$label" "$out" "$trc"
    [ "$S_FAILED" -eq 0 ] || rc=1
done
exit $rc
