#!/bin/sh
# Show mentord's mail loop on a private test-bed:
#
#   sh tests/e2e/demo.sh BUILD      (make demo)
#
# Starts Dovecot + Postfix in a temp folder, has four people write in, runs
# `mentord --once` and prints the mail each of them got back.  The test-bed is
# stopped and its folder removed however the demo ends.
set -u

BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
TESTBED="$SRC/tests/e2e/testbed.sh"

# /tmp, not $TMPDIR: the servers' unprivileged users must be able to reach the folder.
TB=$(mktemp -d /tmp/mentord-demo.XXXXXX) || exit 1
trap 'sh "$TESTBED" stop "$TB"; rm -rf "$TB"' EXIT
trap 'exit 130' INT TERM

echo "Starting a private mail test-bed (Dovecot + Postfix on 127.0.0.1)..."
EXTRA_USERS=1 sh "$TESTBED" start "$TB" </dev/null || exit 1 # user1: Uma in the programme

TESTBED_ENV="$TB/testbed.env" MENTORD_BIN="$BUILD/mentord" MENTORCTL_BIN="$BUILD/mentorctl" \
    python3 "$SRC/tests/e2e/demo.py" "$TB/demo"
