#!/bin/sh
# The OAuth 2.0 mail test-bed: an authorization-server stand-in (oauth_standin.py),
# Dovecot with its oauth2 passdb against the stand-in's RFC 7662 introspection, and
# Postfix submission authenticating through Dovecot SASL (XOAUTH2 and OAUTHBEARER),
# all on 127.0.0.1 and from one folder.
#
#   oauthbed.sh start DIR    pick free ports, start the three, write DIR/oauthbed.env
#   oauthbed.sh stop DIR     stop them (by pid file) and wait until they are gone
#
# Mailboxes mentors@, ann@ and boss@example.org; mentors@ has the refresh token
# rt-mentors (client id mentord).  Mail from outside comes in on OB_MX_PORT
# (no AUTH); submission on OB_SMTP_PORT offers XOAUTH2 and OAUTHBEARER,
# OB_SMTP_X_PORT only XOAUTH2.  No TLS: loopback only.  Dovecot's auth_debug
# stays off (it would log the tokens).  Needs root (the servers drop privileges).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
USERS="mentors ann boss"

die() {
    echo "oauthbed: $*" >&2
    exit 1
}

alive() {
    [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    case "$st" in Z | X | x | "") return 1 ;; esac
    return 0
}

free_ports() {
    python3 -c '
import socket
socks = []
for _ in range(5):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))'
}

port_open() {
    python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1', $1)))"
}

render() {
    sed -e "s|@D@|$D|g" -e "s|@IMAP_PORT@|$IMAP_PORT|g" -e "s|@SMTP_PORT@|$SMTP_PORT|g" \
        -e "s|@SMTP_X_PORT@|$SMTP_X_PORT|g" -e "s|@MX_PORT@|$MX_PORT|g" \
        -e "s|@OAUTH_PORT@|$OAUTH_PORT|g" -e "s|@MAIL_UID@|$MU|g" -e "s|@MAIL_GID@|$MG|g" \
        -e "s|@AUTH_DEBUG@|no|g" "$HERE/$1"
}

start() {
    [ "$(id -u)" = 0 ] || die "run as root"
    MU=$(id -u mail)
    MG=$(id -g mail)
    # shellcheck disable=SC2046
    set -- $(free_ports)
    IMAP_PORT=$1 SMTP_PORT=$2 SMTP_X_PORT=$3 MX_PORT=$4 OAUTH_PORT=$5
    mkdir -p "$D/dovecot" "$D/postfix" "$D/run" "$D/state" "$D/log" "$D/mail"
    chmod 755 "$D" "$D/run" "$D/state" "$D/log"
    render dovecot.conf.in >"$D/dovecot/dovecot.conf"
    render dovecot-oauth2.conf.ext.in >"$D/dovecot/dovecot-oauth2.conf.ext"
    render main.cf.in >"$D/postfix/main.cf"
    render master.cf.in >"$D/postfix/master.cf"
    : >"$D/dovecot/users"
    : >"$D/postfix/vmailbox"
    chown "$MU:$MG" "$D/mail"
    install -d -o "$MU" -g "$MG" "$D/mail/example.org"
    for u in $USERS; do
        echo "$u@example.org:::::::" >>"$D/dovecot/users"
        echo "$u@example.org OK" >>"$D/postfix/vmailbox"
        install -d -o "$MU" -g "$MG" "$D/mail/example.org/$u"
    done
    chmod 644 "$D"/postfix/*
    touch -d '-1 minute' "$D"/postfix/* # Postfix waits for files younger than a few seconds
    install -d -m 755 "$D/spool" "$D/spool/postfix"
    install -d -o postfix -g postfix -m 700 "$D/state/postfix"
    python3 "$HERE/oauth_standin.py" --port "$OAUTH_PORT" --ttl 3600 --client-id mentord \
        --user mentors@example.org --refresh-token rt-mentors --pidfile "$D/run/oauth.pid" \
        </dev/null >/dev/null 2>>"$D/log/oauth.log" &
    /usr/sbin/dovecot -c "$D/dovecot/dovecot.conf" </dev/null >/dev/null 2>>"$D/log/dovecot.stderr" ||
        die "dovecot did not start: $(cat "$D/log/dovecot.stderr")"
    /usr/sbin/postfix -c "$D/postfix" start </dev/null >"$D/log/postfix-start.log" 2>&1 ||
        die "postfix did not start: $(tail -5 "$D/log/postfix.log" 2>/dev/null)"
    i=0
    for p in $IMAP_PORT $SMTP_PORT $SMTP_X_PORT $MX_PORT $OAUTH_PORT; do
        until port_open "$p"; do
            i=$((i + 1))
            [ $i -lt 200 ] || die "127.0.0.1:$p did not open (logs in $D/log)"
            sleep 0.05
        done
    done
    cat >"$D/oauthbed.env" <<EOT
OB_DIR=$D
OB_IMAP_PORT=$IMAP_PORT
OB_SMTP_PORT=$SMTP_PORT
OB_SMTP_X_PORT=$SMTP_X_PORT
OB_MX_PORT=$MX_PORT
OB_OAUTH_URL=http://127.0.0.1:$OAUTH_PORT
OB_REFRESH_TOKEN=rt-mentors
OB_CLIENT_ID=mentord
OB_DOVECOT_CONF=$D/dovecot/dovecot.conf
EOT
}

stop() {
    [ -d "$D" ] || return 0
    /usr/sbin/postfix -c "$D/postfix" stop >/dev/null 2>&1 || true
    pids=""
    for pf in "$D/run/dovecot/master.pid" "$D/run/oauth.pid" "$D/spool/postfix/pid/master.pid"; do
        [ -f "$pf" ] || continue
        p=$(tr -dc 0-9 <"$pf")
        [ -n "$p" ] || continue
        kill "$p" 2>/dev/null || true
        pids="$pids $p"
    done
    i=0
    while [ $i -lt 100 ]; do
        left=""
        for p in $pids; do alive "$p" && left="$left $p"; done
        [ -z "$left" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "oauthbed: still running after 10 s:$left" >&2
    return 1
}

[ $# -eq 2 ] || die "usage: oauthbed.sh start|stop DIR"
D=$2
case "$1" in
start) start ;;
stop) stop ;;
*) die "usage: oauthbed.sh start|stop DIR" ;;
esac
