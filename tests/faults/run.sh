#!/bin/sh
# Fault tests against a real Dovecot + Postfix test-bed.
#
#   sh tests/faults/run.sh BUILD            short versions (make check)
#   sh tests/faults/run.sh BUILD --long     long versions (make stress)
#
# Starts a private test-bed with extra users (user1 .. userN, so hundreds of
# distinct members can write in), runs tests/faults/test_faults.py and always
# stops and removes the test-bed.  The last line is
# "faults(BUILD): N passed, N failed, N skipped" ("faults-long(BUILD): ..." with
# --long; see tests/summary.sh) for tests/report.sh.  Needs root for the tmpfs
# mounts of the database tests.
set -u

BUILD=${1:?usage: run.sh BUILD [--long]}
MODE=${2:-}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
TESTBED="$SRC/tests/e2e/testbed.sh"
. "$SRC/tests/summary.sh"
b=$(basename "$BUILD")
label=faults
users=100
timeout=${FAULTS_TIMEOUT:-600}
if [ "$MODE" = "--long" ]; then
    label=faults-long
    users=1000
    timeout=${FAULTS_TIMEOUT:-7200}
fi

# /tmp, not $TMPDIR: the servers' unprivileged users must be able to reach the folder.
TB=$(mktemp -d /tmp/mentord-faults.XXXXXX) || exit 1
out=$TB.out
cleanup() {
    sh "$TESTBED" stop "$TB" || echo "faults: could not stop the test-bed in $TB" >&2
    rm -rf "$TB" "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! EXTRA_USERS=$users sh "$TESTBED" start "$TB" </dev/null; then
    echo "$label($b): the mail test-bed did not start"
    echo "$label($b): 0 passed, 1 failed, 0 skipped"
    exit 1
fi
echo "== mail test-bed with $users extra users up ($TB)"

# The shim that makes one marked mail kill mentord (test_mail_that_kills_the_daemon...).
if cc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$TB/crash_on_mark.so" \
    "$SRC/tests/faults/crash_on_mark.c" -ldl; then
    export CRASH_SHIM="$TB/crash_on_mark.so"
fi
export TESTBED_ENV="$TB/testbed.env"
export MENTORD_BIN="$BUILD/mentord"
export MENTORCTL_BIN="$BUILD/mentorctl"

echo "== fault tests ($(basename "$BUILD")${MODE:+ $MODE})"
timeout "$timeout" python3 -u "$SRC/tests/faults/test_faults.py" $MODE </dev/null >"$out" 2>&1
rc=$?
cat "$out"
# A crash or timeout of the runner itself still shows up in the total.
runner_summary "$label" "$b" "$out" "$rc"
[ "$S_FAILED" -eq 0 ] || exit 1
exit 0
