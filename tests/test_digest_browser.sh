#!/bin/sh
# The digest's HTML part in a real browser: test_digest renders three digests
# (seeded figures, a steady series with a long list, an empty programme) and
# tests/e2e/digest_browser.py lays each out in headless Chromium, reads the
# DOM, takes a screenshot and checks the charts, every figure and the
# sentences on what needs a manager against the text part, and (for the
# seeded one) that a client's dark mode keeps bars and text readable.
#
#   sh tests/test_digest_browser.sh BUILD [SCREENSHOT-DIR]
#
# Last line: "digest-browser(BUILD): N passed, N failed, 0 skipped".
set -u

BUILD=${1:?usage: test_digest_browser.sh BUILD [SCREENSHOT-DIR]}
SRC=$(cd "$(dirname "$0")/.." && pwd)
label=$(basename "$BUILD")
case "$BUILD" in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
SHOTS=${2:-}
[ -n "$SHOTS" ] && mkdir -p "$SHOTS"
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
passed=0
failed=0

if ! TEST_DIGEST_OUT=$dir "$BUILD/tests/test_digest" >"$dir/unit.out" 2>&1; then
    cat "$dir/unit.out"
    echo "digest-browser($label): 0 passed, 1 failed, 0 skipped"
    exit 1
fi
for name in seeded steady empty; do
    shot=""
    [ -n "$SHOTS" ] && shot="$SHOTS/digest-$name.png"
    dark=""
    [ "$name" = seeded ] && dark=--dark
    if python3 "$SRC/tests/e2e/digest_browser.py" "$dir/$name.txt" "$dir/$name.html" $shot $dark; then
        echo "ok   digest $name in Chromium"
        passed=$((passed + 1))
    else
        echo "FAIL digest $name in Chromium"
        failed=$((failed + 1))
    fi
done
echo "digest-browser($label): $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
