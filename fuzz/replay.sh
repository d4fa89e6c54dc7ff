#!/bin/sh
# Replay the committed fuzz regression corpus (fuzz/regress/NAME) through
# each fuzz target, built with the normal compiler against BUILD/libmentord.a
# (no libFuzzer, no clang needed).  The replay of one target is one test
# case; per target it prints a figure and a summary line:
#
#   fuzz inputs(BUILD) NAME: N replayed, 0 crashed
#   fuzz-NAME(BUILD): 1 passed, 0 failed, 0 skipped
#
# tests/report.sh adds up the summary lines and shows the figures apart.
# BUILD named *-san gets -fsanitize=address,undefined, like `make SAN=1`.  A
# crash or sanitizer report fails the case and names the input; the inputs
# counted are those replayed before it, never the ones after.  Leaks are
# reported by LeakSanitizer at the end, without suppressions: a leak fails
# the case unless its whole stack is one of fuzz/known-leaks.txt.  A target
# without a regression corpus is skipped (a failure under CI=true, see
# report.sh).
#
#   sh fuzz/replay.sh BUILD        (from the repository root, after `make`)
set -u

BUILD=${1:?usage: replay.sh BUILD}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
CC=${CC:-cc}
TARGETS="mail reply config template"
PKGS="libcurl sqlite3 inih gnutls gumbo"
CFLAGS="-std=c11 -O1 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
CPPFLAGS="-D_GNU_SOURCE -DMENTORD_HAVE_GUMBO -Iinclude -Ifuzz"
SAN=""
case $(basename "$BUILD") in
*-san) SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" ;;
esac
b=$(basename "$BUILD")
failed_total=0

if [ ! -f "$BUILD/libmentord.a" ]; then
    echo "fuzz-replay: $BUILD/libmentord.a missing (run make first)"
    for t in $TARGETS; do echo "fuzz-$t($b): 0 passed, 1 failed, 0 skipped"; done
    exit 1
fi
mkdir -p "$BUILD/tests" || exit 1
out=$(mktemp "${TMPDIR:-/tmp}/mentord-replay.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT INT TERM

for t in $TARGETS; do
    bin="$BUILD/tests/fuzz_replay_$t"
    label="fuzz-$t($b)"
    # shellcheck disable=SC2046,SC2086
    if ! $CC $CPPFLAGS $CFLAGS $SAN $(pkg-config --cflags $PKGS) -o "$bin" \
        "fuzz/fuzz_$t.c" fuzz/replay.c fuzz/scratch.c "$BUILD/libmentord.a" \
        $(pkg-config --libs $PKGS) -letpan -lstemmer -lm; then
        echo "$label: build failed"
        echo "$label: 0 passed, 1 failed, 0 skipped"
        failed_total=$((failed_total + 1))
        continue
    fi
    dir="fuzz/regress/$t"
    if [ ! -d "$dir" ]; then
        echo "fuzz inputs($b) $t: none ($dir missing)"
        echo "$label: 0 passed, 0 failed, 1 skipped"
        continue
    fi
    # -v names each input on stderr before it runs: the last name is the one that crashed.
    ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
        LSAN_OPTIONS=exitcode=23 UBSAN_OPTIONS=print_stacktrace=1 \
        "$bin" -v "fuzz inputs($b) $t" "$dir" >"$out" 2>&1
    rc=$?
    known=""
    # Exit 23: LeakSanitizer found leaks after the last input; all of them known is a pass.
    if [ $rc -eq 23 ] && grep -q ' leak of ' "$out" &&
        leaks=$(awk -v known=fuzz/known-leaks.txt -f fuzz/known-leaks.awk "$out"); then
        known=" ($(printf '%s\n' "$leaks" | tail -n 1 | sed 's/known-leaks: \([0-9]*\) known.*/\1/') known libetpan leak(s) ignored)"
        rc=0
    fi
    started=$(grep -c '^replay: .* ([0-9]* bytes)$' "$out")
    line=$(grep -E "^fuzz inputs\($b\) $t: [0-9]+ replayed, [0-9]+ unreadable$" "$out")
    if [ $rc -eq 0 ] && [ -n "$line" ]; then
        echo "fuzz inputs($b) $t: $(echo "$line" | sed 's/.*: \([0-9]*\) replayed.*/\1/') replayed, 0 crashed$known"
        echo "$label: 1 passed, 0 failed, 0 skipped"
        continue
    fi
    failed_total=$((failed_total + 1))
    if [ $rc -eq 1 ] && [ -n "$line" ]; then
        # Finished, but some input could not be read.
        grep -v '^replay: .* ([0-9]* bytes)$' "$out" | tail -n 20
        echo "fuzz inputs($b) $t: ${line#*: }"
        echo "$label: 0 passed, 1 failed, 0 skipped"
        continue
    fi
    if [ $rc -eq 23 ] && [ -n "$line" ]; then
        # Every input ran; LeakSanitizer found a leak that is not a known one.
        awk -v known=fuzz/known-leaks.txt -f fuzz/known-leaks.awk "$out"
        echo "fuzz inputs($b) $t: ${line#*: }, then an unknown leak"
        echo "$label: 0 passed, 1 failed, 0 skipped"
        continue
    fi
    # Crashed: show the report and name the input; count only the inputs before it.
    grep -v '^replay: .* ([0-9]* bytes)$' "$out" | tail -n 40
    last=$(sed -n 's/^replay: \(.*\) ([0-9]* bytes)$/\1/p' "$out" | tail -n 1)
    before=$((started > 0 ? started - 1 : 0))
    echo "fuzz inputs($b) $t: $before replayed, then a crash (exit $rc) on ${last:-an unknown input}"
    echo "$label: 0 passed, 1 failed, 0 skipped"
done
[ $failed_total -eq 0 ]
