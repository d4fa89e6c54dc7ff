#!/bin/sh
# make install / uninstall honour PREFIX and DESTDIR: every file lands under
# DESTDIR/PREFIX (the config and unit under DESTDIR), an existing config is
# never overwritten, and uninstall removes what install put there but the config.
# Then a real install under another PREFIX than the build's, without DESTDIR
# and without rebuilding: the installed mentord, with no [templates] dir in its
# configuration, finds its templates and answers a JOIN from the mail test-bed.
# Prints "install(BUILD): N passed, N failed, 0 skipped".
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
         opt/mt/share/man/man5/mentord.ini.5 \
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
    "[ ! -e '$D/opt/mt/share/mentord' ] && [ ! -e '$D/opt/mt/share/man/man8/mentord.8' ] && [ ! -e '$D/opt/mt/share/man/man5/mentord.ini.5' ]"
check "uninstall keeps the config" "[ -f '$D/etc/mentord/mentord.ini' ]"
for u in mentord.service mentord@.service; do
    check "uninstall removes $u" "[ ! -e '$D/lib/systemd/system/$u' ]"
done
rm -rf "$D" "$D.log"

# ---- make && make install PREFIX=elsewhere: the installed binary works ----
P=$(mktemp -d /tmp/mentord-prefix.XXXXXX)
chmod 755 "$P"
TB=$P/testbed
cleanup() { sh tests/e2e/testbed.sh stop "$TB" >/dev/null 2>&1; rm -rf "$P"; }
trap cleanup EXIT
before=$(stat -c %Y "$BUILD/mentord")
make -s install BUILD="$BUILD" PREFIX="$P/opt" SYSCONFDIR="$P/etc" UNITDIR="$P/unit" \
    >"$P/install.log" 2>&1
check "make install PREFIX=$P/opt (no DESTDIR) exits 0" "[ \$? -eq 0 ]"
check "install did not rebuild the programs" "[ \$(stat -c %Y '$BUILD/mentord') = '$before' ]"
check "the binary was built for another data folder" \
    "strings '$BUILD/mentord' | grep -q '/usr/local/share/mentord'"
if EXTRA_USERS=0 sh tests/e2e/testbed.sh start "$TB" </dev/null >"$P/testbed.log" 2>&1; then
    . "$TB/testbed.env"
    export TESTBED_ENV="$TB/testbed.env"
    # README.md's minimal configuration, with the test-bed's domain, ports and
    # password file, and the database in the temp folder.
    python3 tests/readme_steps.py config | sed \
        -e "s/example\.org/$TB_DOMAIN/g" \
        -e "/^\[imap\]/a port = $TB_IMAP_PORT" \
        -e "s/^port = 25$/port = $TB_SMTP_PORT/" \
        -e "s|/etc/mentord/imap.password|$TB_PASSFILE|" >"$P/mentord.ini"
    printf '\n[store]\npath = %s/mentord.db\n' "$P" >>"$P/mentord.ini"
    chmod 600 "$P/mentord.ini"
    "$P/opt/sbin/mentord" -c "$P/mentord.ini" --check-config >"$P/check.log" 2>&1
    check "the installed mentord --check-config finds the installed templates" \
        "[ \$? -eq 0 ] && grep -q 'templates: $P/opt/share/mentord/templates readable' '$P/check.log' && grep -q 'templates (en): .* found, each rendered once' '$P/check.log'"
    python3 -c "import sys; sys.path.insert(0, 'tests/e2e'); import mailbed as mb
mb.send('ann', 'mentors', 'join', 'Hello, I would like a mentor.')"
    (umask 022 && "$P/opt/sbin/mentord" -c "$P/mentord.ini" --once >"$P/once.log" 2>&1)
    check "the installed mentord --once exits 0" "[ \$? -eq 0 ]"
    check "the JOIN is answered" "python3 -c \"import sys; sys.path.insert(0, 'tests/e2e')
import mailbed as mb; mb.wait_for('ann', 1, timeout=15)
sys.exit(0 if any('Please confirm' in str(m['Subject']) for m in mb.mailbox('ann')) else 1)\""
    check "the database is 0600 under umask 022" "[ \$(stat -c %a '$P/mentord.db') = 600 ]"
    check "the installed mentorctl lists the newcomer" \
        "'$P/opt/bin/mentorctl' -c '$P/mentord.ini' members | grep -q 'ann@$TB_DOMAIN'"
    # --check-config fails on a missing template, naming it.
    mv "$P/opt/share/mentord/templates/en/help.txt" "$P/help.txt"
    "$P/opt/sbin/mentord" -c "$P/mentord.ini" --check-config >/dev/null 2>"$P/check2.log"
    check "--check-config fails on a missing template, naming it" \
        "[ \$? -eq 1 ] && grep -q 'help.txt' '$P/check2.log'"
    sed 's/^/    /' "$P/check2.log"
else
    bad "the mail test-bed starts"
fi
echo "install($(basename "$BUILD")): $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
