#!/bin/sh
# make check-deb: the Debian package as an administrator meets it.
#
#   sh tests/check-deb.sh DIR      (DIR holds the .deb and .changes of make deb)
#
# lintian finds no error or warning; the units score <= 2.0 in
# `systemd-analyze security --offline=true`; a "previous build" (the same
# package repacked one version lower) installs with dpkg and, configured as
# README.md says (its marked blocks, run literally), answers a JOIN from the
# mail test-bed as the mentord user; the real build then upgrades it keeping
# configuration, group override and database; purge keeps the databases
# unless debconf was told otherwise, and removes them when it was.
# Changes the host (user mentord, /etc/mentord, /var/lib/mentord): run as root
# on a test machine.  Last line: "check-deb: N passed, N failed".
set -u
DIR=${1:?usage: check-deb.sh DIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
case "$DIR" in /*) ;; *) DIR=$SRC/$DIR ;; esac
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
finish() {
    echo "check-deb(build): $pass passed, $fail failed, 0 skipped"
    [ "$fail" -eq 0 ]
    exit $?
}

if [ "$(id -u)" != 0 ]; then
    bad "check-deb runs as root (it installs the package)"
    finish
fi
DEB=$(ls "$DIR"/mentord_*_*.deb 2>/dev/null | head -n 1)
CHANGES=$(ls "$DIR"/mentord_*.changes 2>/dev/null | head -n 1)
if [ -z "$DEB" ] || [ -z "$CHANGES" ]; then
    bad "make deb left a .deb and a .changes in $DIR"
    finish
fi
W=$(mktemp -d /tmp/mentord-check-deb.XXXXXX)
chmod 755 "$W"
TB=$W/testbed
cleanup() {
    sh "$SRC/tests/e2e/testbed.sh" stop "$TB" >/dev/null 2>&1
    dpkg --purge mentord >/dev/null 2>&1
    rm -f /etc/mentord/imap.password /etc/mentord/smtp.password
    rmdir /etc/mentord 2>/dev/null
    rm -rf "$W" /var/lib/mentord
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the package itself ----
lintian --pedantic --info "$CHANGES" >"$W/lintian.txt" 2>&1
check "lintian: no errors or warnings" "! grep -Eq '^[EW]: ' '$W/lintian.txt'"
grep -E '^[EWI]: ' "$W/lintian.txt" | sed 's/^/    lintian /'
for u in mentord.service mentord@.service; do
    dpkg-deb --fsys-tarfile "$DEB" | tar -xO "./lib/systemd/system/$u" >"$W/$u"
    score=$(systemd-analyze security --offline=true "$W/$u" 2>&1 |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    check "$u exposure ${score:-?} <= 2.0" "[ -n '$score' ] && awk 'BEGIN { exit !($score <= 2.0) }'"
done
check "the package ships no password file (the unit waits for one)" \
    "! dpkg-deb -c '$DEB' | grep -q 'password' && grep -q 'ConditionPathExists=/etc/mentord/imap.password' '$W/mentord.service'"

# ---- the previous build: the same package, one version lower ----
version=$(dpkg-deb -f "$DEB" Version)
dpkg-deb -R "$DEB" "$W/prev"
sed -i "s/^Version: .*/Version: ${version}~previous/" "$W/prev/DEBIAN/control"
dpkg-deb -b --root-owner-group "$W/prev" "$W/prev.deb" >/dev/null
dpkg --purge mentord >/dev/null 2>&1
rm -rf /var/lib/mentord
check "dpkg installs the previous build" "dpkg -i '$W/prev.deb' >'$W/dpkg1.log' 2>&1"
check "postinst created the system user mentord" "getent passwd mentord | grep -q ':/var/lib/mentord:'"
check "the configuration is root:mentord 0640" \
    "[ \"\$(stat -c '%U:%G %a' /etc/mentord/mentord.ini)\" = 'root:mentord 640' ]"
check "the state folder is mentord's, 0750" \
    "[ \"\$(stat -c '%U %a' /var/lib/mentord)\" = 'mentord 750' ]"
check "the configuration is a conffile" "dpkg-query -W -f='\${Conffiles}' mentord | grep -q /etc/mentord/mentord.ini"
check "mentord --version and mentorctl --version name the version" \
    "mentord --version | grep -q '${version%-*}' && mentorctl --version | grep -q '${version%-*}'"

# ---- configured as README.md says ----
if ! EXTRA_USERS=0 sh "$SRC/tests/e2e/testbed.sh" start "$TB" </dev/null >"$W/testbed.log" 2>&1; then
    bad "the mail test-bed starts"
    finish
fi
. "$TB/testbed.env"
export TESTBED_ENV="$TB/testbed.env"
python3 "$SRC/tests/readme_steps.py" deb-passwords >"$W/passwords.sh" &&
    sh -e "$W/passwords.sh" && ok "README: the password files, as written" ||
    bad "README: the password files, as written"
for f in imap smtp; do printf '%s\n' "$TB_PASSWORD" >"/etc/mentord/$f.password"; done
check "the password files are root:mentord 0640" \
    "[ \"\$(stat -c '%U:%G %a' /etc/mentord/imap.password)\" = 'root:mentord 640' ]"
# The README's minimal configuration, with the test-bed's domain and ports.
python3 "$SRC/tests/readme_steps.py" config | sed \
    -e "s/example\.org/$TB_DOMAIN/g" \
    -e "/^\[imap\]/a port = $TB_IMAP_PORT" \
    -e "s/^port = 25$/port = $TB_SMTP_PORT/" >"$W/mentord.ini"
check "README: the configuration block has [community], [imap] and [smtp]" \
    "grep -q '^\[community\]' '$W/mentord.ini' && grep -q '^\[smtp\]' '$W/mentord.ini'"
cat "$W/mentord.ini" >/etc/mentord/mentord.ini # keeps the file's owner and mode
check "README: --check-config as the mentord user" \
    "python3 '$SRC/tests/readme_steps.py' deb-check | sh -e >'$W/check.log' 2>&1"
sed 's/^/    /' "$W/check.log" | tail -n 3

send() { # FROM SUBJECT: a member's mail through the test-bed's Postfix
    python3 -c "import sys; sys.path.insert(0, '$SRC/tests/e2e'); import mailbed as mb
mb.send(sys.argv[1], 'mentors', sys.argv[2], 'Hello, I would like a mentor.')" "$1" "$2"
}
replies() { # USER SUBJECT-WORDS: how many mails in USER's inbox have them in the subject
    python3 -c "import sys, time; sys.path.insert(0, '$SRC/tests/e2e'); import mailbed as mb
end = time.time() + 15
while True:
    n = sum(1 for m in mb.mailbox(sys.argv[1]) if sys.argv[2] in str(m['Subject']))
    if n or time.time() > end: break
    time.sleep(0.2)
print(n)" "$1" "$2"
}
send ann join
check "mentord --once as the mentord user takes the JOIN" \
    "runuser -u mentord -- mentord -c /etc/mentord/mentord.ini --once >'$W/once1.log' 2>&1"
tail -n 3 "$W/once1.log" | sed 's/^/    /'
check "the JOIN is answered" "[ \"\$(replies ann 'Please confirm')\" = 1 ]"
check "the database is mentord's and private (0600)" \
    "[ \"\$(stat -c '%U %a' /var/lib/mentord/mentord.db)\" = 'mentord 600' ]"
check "mentorctl backup writes a private copy" \
    "mentorctl backup '$W/backup.db' >/dev/null && [ \"\$(stat -c %a '$W/backup.db')\" = 600 ]"

# ---- upgrade: the real build over the previous one ----
echo "; edited by the administrator" >>/etc/mentord/mentord.ini
check "dpkg upgrades to the new build" "dpkg -i '$DEB' >'$W/dpkg2.log' 2>&1"
check "the upgraded package is the new version" \
    "[ \"\$(dpkg-query -W -f='\${Version}' mentord)\" = '$version' ]"
check "the edited configuration is kept" "grep -q '^; edited by the administrator' /etc/mentord/mentord.ini"
check "the configuration is still root:mentord 0640" \
    "[ \"\$(stat -c '%U:%G %a' /etc/mentord/mentord.ini)\" = 'root:mentord 640' ]"
check "the database is kept (ann is still a member)" \
    "mentorctl members 2>/dev/null | grep -q 'ann@$TB_DOMAIN'"
send bob join
check "the upgraded mentord answers the next JOIN" \
    "runuser -u mentord -- mentord -c /etc/mentord/mentord.ini --once >'$W/once2.log' 2>&1 && [ \"\$(replies bob 'Please confirm')\" = 1 ]"

# ---- purge ----
check "purge succeeds" "dpkg --purge mentord >'$W/purge1.log' 2>&1"
check "purge removes the configuration" "[ ! -e /etc/mentord/mentord.ini ]"
check "purge keeps the databases unless asked" "[ -f /var/lib/mentord/mentord.db ]"
dpkg -i "$DEB" >/dev/null 2>&1
echo "mentord mentord/purge_data boolean true" | debconf-set-selections
check "purge, told to remove the data, removes it" \
    "DEBIAN_FRONTEND=noninteractive dpkg --purge mentord >'$W/purge2.log' 2>&1 && [ ! -e /var/lib/mentord ]"
finish
