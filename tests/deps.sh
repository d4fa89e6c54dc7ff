#!/bin/sh
# Install every build and test dependency of mentord from Debian's archive.
# Idempotent and fast when everything is present: apt is only called for
# packages that dpkg does not already list as installed.
set -eu

PKGS="build-essential pkg-config libetpan-dev libcurl4-gnutls-dev libgnutls28-dev
libsqlite3-dev sqlite3 libinih-dev libcmocka-dev libgumbo-dev libstemmer-dev libjansson-dev
libsystemd-dev libseccomp-dev
dovecot-imapd dovecot-lmtpd postfix swaks openssl python3 python3-cryptography procps spamassassin
mandoc systemd chromium"

# Extra groups for targets outside make check: "fuzz" (libFuzzer), "bench",
# "deb" (make deb, make check-deb; systemd only for systemd-analyze).
for group in "$@"; do
    case "$group" in
    fuzz) PKGS="$PKGS clang libclang-rt-14-dev" ;;
    bench) PKGS="$PKGS g++ liblemon-dev fetchmail" ;;
    deb) PKGS="$PKGS debhelper po-debconf lintian mandoc fakeroot git systemd" ;;
    *) echo "deps: unknown group '$group' (fuzz, bench, deb)" >&2; exit 2 ;;
    esac
done

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
    exit 1
fi
echo "deps: installing$missing"
# Postfix must not write a system-wide main.cf nor start: the test-bed runs
# its own instance from a temp folder.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
