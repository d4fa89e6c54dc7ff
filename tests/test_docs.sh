#!/bin/sh
# The documentation and the shipped units stay true: every man page lints
# clean with mandoc -Tlint; both programs print the version debian/changelog
# names; the README blocks the deployment tests run exist; each systemd unit
# rates <= 2.0 in `systemd-analyze security --offline=true` (when
# systemd-analyze is installed: `make deps` does not need it, `make deb` does).
# Prints "docs(BUILD): N passed, N failed, 0 skipped".
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
T=$(mktemp -d /tmp/mentord-docs.XXXXXX)
trap 'rm -rf "$T"' EXIT

if command -v mandoc >/dev/null; then
    for page in man/*.[1-8]; do
        check "mandoc -Tlint $page is clean" "mandoc -Tlint '$page' >'$T/lint' 2>&1 && [ ! -s '$T/lint' ]"
        sed 's/^/    /' "$T/lint"
    done
else
    bad "mandoc is installed (make deps)"
fi
version=$(sed -n 's/^#define MENTORD_VERSION "\(.*\)"$/\1/p' include/version.h)
check "mentord --version prints $version" "'$BUILD/mentord' --version | grep -qx 'mentord $version'"
check "mentorctl --version prints $version" "'$BUILD/mentorctl' --version | grep -qx 'mentorctl $version'"
check "debian/changelog's upstream version is $version" \
    "head -n 1 debian/changelog | grep -q '^mentord ($version-'"
for page in man/mentord.8 man/mentorctl.1; do
    check "$page names version $version" "grep -q '\"mentord $version\"' '$page'"
done
for block in deb-passwords config deb-check install-user; do
    check "README.md has the '$block' block the deployment tests run" \
        "python3 tests/readme_steps.py $block >/dev/null"
done
if command -v systemd-analyze >/dev/null; then
    for u in etc/mentord.service etc/mentord@.service; do
        name=$(basename "$u")
        sed 's|@SBINDIR@|/usr/sbin|g; s|@SYSCONFDIR@|/etc|g' "$u" >"$T/$name"
        score=$(systemd-analyze security --offline=true "$T/$name" 2>&1 |
            sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        check "$name exposure ${score:-?} <= 2.0" \
            "[ -n '$score' ] && awk 'BEGIN { exit !($score <= 2.0) }'"
    done
    check "mentord.service is Type=notify with a watchdog" \
        "grep -qx 'Type=notify' etc/mentord.service && grep -q '^WatchdogSec=' etc/mentord.service"
else
    echo "SKIP systemd-analyze is not installed: unit scores not measured"
    bad "systemd-analyze is installed (make deps)"
fi
echo "docs($(basename "$BUILD")): $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
