#!/bin/sh
# Replay the committed fuzz regression corpus (fuzz/regress/NAME) through
# each fuzz target, built with the normal compiler against BUILD/libmentord.a
# (no libFuzzer, no clang needed), and print one line per target:
#
#   fuzz-replay(BUILD) NAME: N passed, N failed
#
# which tests/report.sh adds up.  N is the number of inputs replayed.  BUILD
# named *-san gets -fsanitize=address,undefined, like `make SAN=1`.  A crash
# or sanitizer report counts as a failure and the input is named.
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
failed_total=0

if [ ! -f "$BUILD/libmentord.a" ]; then
    echo "fuzz-replay: $BUILD/libmentord.a missing (run make first)"
    echo "fuzz-replay($BUILD): 0 passed, 1 failed"
    exit 1
fi
mkdir -p "$BUILD/tests" || exit 1

for t in $TARGETS; do
    bin="$BUILD/tests/fuzz_replay_$t"
    label="fuzz-replay($BUILD) $t"
    # shellcheck disable=SC2046,SC2086
    if ! $CC $CPPFLAGS $CFLAGS $SAN $(pkg-config --cflags $PKGS) -o "$bin" \
        "fuzz/fuzz_$t.c" fuzz/replay.c fuzz/scratch.c "$BUILD/libmentord.a" \
        $(pkg-config --libs $PKGS) -letpan -lm; then
        echo "$label: build failed"
        echo "$label: 0 passed, 1 failed"
        failed_total=$((failed_total + 1))
        continue
    fi
    dir="fuzz/regress/$t"
    if [ ! -d "$dir" ]; then
        echo "$label: 0 passed, 0 failed (no $dir)"
        continue
    fi
    out=$(ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
        LSAN_OPTIONS=suppressions=fuzz/lsan.supp UBSAN_OPTIONS=print_stacktrace=1 \
        "$bin" "$label" "$dir" 2>&1)
    rc=$?
    line=$(printf '%s\n' "$out" | grep -E "^fuzz-replay.*: [0-9]+ passed, [0-9]+ failed$")
    if [ $rc -eq 0 ] && [ -n "$line" ]; then
        echo "$line"
        continue
    fi
    # Crashed: show the report, find the input that did it, count one failure.
    printf '%s\n' "$out" | tail -n 40
    last=$("$bin" -v "$label" "$dir" 2>&1 | sed -n 's/^replay: \(.*\) ([0-9]* bytes)$/\1/p' | tail -n 1)
    echo "$label: crashed (exit $rc) on ${last:-an unknown input}"
    n=$(find "$dir" -type f | wc -l)
    echo "$label: $((n - 1)) passed, 1 failed"
    failed_total=$((failed_total + 1))
done
[ $failed_total -eq 0 ]
