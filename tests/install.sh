#!/bin/sh
# make install / uninstall honour PREFIX and DESTDIR: every file lands under
# DESTDIR/PREFIX (the config and unit under DESTDIR), an existing config is
# never overwritten, and uninstall removes what install put there but the config.
# Prints "install: N passed, N failed".
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
D=$(mktemp -d /tmp/mentord-install.XXXXXX)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

make -s install BUILD="$BUILD" DESTDIR="$D" PREFIX=/opt/mt >"$D.log" 2>&1
rc=$?
check "install exits 0" '[ $rc -eq 0 ]'
for f in opt/mt/sbin/mentord opt/mt/bin/mentorctl opt/mt/share/mentord/templates/en/join.txt opt/mt/share/mentord/templates/es/join.txt \
         opt/mt/share/man/man8/mentord.8 opt/mt/share/man/man1/mentorctl.1 \
         etc/mentord/mentord.ini lib/systemd/system/mentord.service; do
    check "installed $f" "[ -f '$D/$f' ]"
done
check "binaries are executable" "[ -x '$D/opt/mt/sbin/mentord' ] && [ -x '$D/opt/mt/bin/mentorctl' ]"
check "unit names the installed paths" \
    "grep -q 'ExecStart=/opt/mt/sbin/mentord -c /etc/mentord/mentord.ini' '$D/lib/systemd/system/mentord.service'"
check "config is not world-readable" "[ \$(stat -c %a '$D/etc/mentord/mentord.ini') = 640 ]"
check "nothing outside DESTDIR" "! grep -q 'Permission denied' '$D.log'"
echo "; local edit" >>"$D/etc/mentord/mentord.ini"
make -s install BUILD="$BUILD" DESTDIR="$D" PREFIX=/opt/mt >/dev/null 2>&1
check "reinstall keeps the edited config" "grep -q '; local edit' '$D/etc/mentord/mentord.ini'"
make -s uninstall DESTDIR="$D" PREFIX=/opt/mt >/dev/null 2>&1
check "uninstall removes the binaries" "[ ! -e '$D/opt/mt/sbin/mentord' ] && [ ! -e '$D/opt/mt/bin/mentorctl' ]"
check "uninstall removes templates and man pages" \
    "[ ! -e '$D/opt/mt/share/mentord' ] && [ ! -e '$D/opt/mt/share/man/man8/mentord.8' ]"
check "uninstall keeps the config" "[ -f '$D/etc/mentord/mentord.ini' ]"
rm -rf "$D" "$D.log"
echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
