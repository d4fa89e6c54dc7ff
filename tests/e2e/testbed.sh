#!/bin/sh
# A private mail test-bed for mentord: Dovecot (IMAP, IMAPS, LMTP, SASL auth)
# and Postfix (SMTP, submission, SMTPS) running from one temp folder, listening
# only on 127.0.0.1, accepting mail only for example.test.
#
#   testbed.sh start DIR        generate cert + configs, start both, write DIR/testbed.env
#   testbed.sh stop DIR         stop both and wait until every process is gone
#   testbed.sh stop-smtp DIR    stop / start Postfix only
#   testbed.sh start-smtp DIR
#   testbed.sh stop-imap DIR    stop / start Dovecot only
#   testbed.sh start-imap DIR
#   testbed.sh reset DIR        empty every user's folders (no restart)
#   testbed.sh status DIR       exit 0 when both servers are running
#
# POSIX sh, so callers may run it as `sh testbed.sh` or directly.  Needs
# dovecot-imapd, dovecot-lmtpd, postfix, openssl and python3 (for port picking
# and readiness probes); see /work/shared/notes/mail-testbed.md for the why of
# the less obvious settings.
set -eu

TB_DOMAIN=example.test
TB_PASSWORD=secret
TB_USERS="mentors ann bob cat dan eve boss"
# EXTRA_USERS=N (optional) adds user1 .. userN, for tests that need many senders.
if [ "${EXTRA_USERS:-0}" -gt 0 ] 2>/dev/null; then
    TB_USERS="$TB_USERS $(seq -f 'user%g' 1 "$EXTRA_USERS" | tr '\n' ' ')"
fi
MAIL_USER=mail # Dovecot refuses to deliver as root; Debian's 'mail' is uid 8

die() {
    echo "testbed: $*" >&2
    exit 1
}

usage() {
    echo "usage: testbed.sh start|stop|start-smtp|stop-smtp|start-imap|stop-imap|reset|status DIR" >&2
    exit 2
}

# ---- processes ----

# 1 when PID is alive: exited children may be reaped late here, so a zombie
# (or dead) entry in /proc counts as gone.
alive() {
    [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    case "$st" in Z | X | x | "") return 1 ;; esac
    return 0
}

# All descendants of PID (children, grandchildren, ...), one per line.
descendants() {
    ps -e -o pid= -o ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END {
            want[root] = 1; changed = 1
            while (changed) {
                changed = 0
                for (p in parent) if (!(p in want) && (parent[p] in want)) { want[p] = 1; changed = 1 }
            }
            for (p in want) if (p != root) print p
        }'
}

# Wait (bounded) until every PID given is gone; 1 on timeout.
wait_gone() {
    i=0
    while [ $i -lt 100 ]; do
        left=""
        for p in "$@"; do
            alive "$p" && left="$left $p"
        done
        [ -z "$left" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "testbed: still running after 10 s:$left" >&2
    return 1
}

pidfile_pid() {
    [ -s "$1" ] || return 1
    tr -dc '0-9' <"$1"
}

# ---- configuration ----

load_env() {
    [ -f "$DIR/testbed.env" ] || die "$DIR/testbed.env missing: run 'testbed.sh start $DIR' first"
    # shellcheck disable=SC1091
    . "$DIR/testbed.env"
}

# Free random high ports on 127.0.0.1: bind them all at once (port 0) so they
# are distinct, then release them for the servers.
pick_ports() {
    python3 -c '
import socket
socks = []
for _ in range(5):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
'
}

make_cert() {
    cat >"$DIR/ssl/openssl.cnf" <<EOF
[req]
distinguished_name = dn
x509_extensions = ext
prompt = no
[dn]
CN = localhost
O = mentord test-bed
[ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost, IP:127.0.0.1
EOF
    openssl req -x509 -config "$DIR/ssl/openssl.cnf" -newkey ec \
        -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
        -keyout "$DIR/ssl/key.pem" -out "$DIR/ssl/cert.pem" >"$DIR/ssl/openssl.log" 2>&1 ||
        {
            cat "$DIR/ssl/openssl.log" >&2
            die "openssl could not make the test certificate"
        }
    chmod 0644 "$DIR/ssl/cert.pem"
    chmod 0600 "$DIR/ssl/key.pem"
}

write_users() {
    uid=$(id -u "$MAIL_USER") || die "user $MAIL_USER missing"
    gid=$(id -g "$MAIL_USER")
    : >"$DIR/users"
    : >"$DIR/postfix/vmailbox"
    for u in $TB_USERS; do
        echo "$u@$TB_DOMAIN:{PLAIN}$TB_PASSWORD:$uid:$gid::$DIR/mail/$u::" >>"$DIR/users"
        echo "$u@$TB_DOMAIN OK" >>"$DIR/postfix/vmailbox"
        mkdir -p "$DIR/mail/$u"
    done
    chown -R "$uid:$gid" "$DIR/mail"
    chmod 0640 "$DIR/users"
    chgrp dovecot "$DIR/users" 2>/dev/null || true
    umask 077
    printf '%s\n' "$TB_PASSWORD" >"$DIR/password"
    umask 022
    chmod 0600 "$DIR/password"
}

write_dovecot_conf() {
    cat >"$DIR/dovecot.conf" <<EOF
# mentord test-bed: everything under $DIR, listening on 127.0.0.1 only.
protocols = imap lmtp
listen = 127.0.0.1
base_dir = $DIR/run
state_dir = $DIR/state
instance_name = mentord-testbed-$TB_IMAP_PORT
log_path = $DIR/dovecot.log
info_log_path = $DIR/dovecot.log
log_timestamp = "%Y-%m-%d %H:%M:%S "
verbose_proctitle = yes

ssl = yes
ssl_cert = <$DIR/ssl/cert.pem
ssl_key = <$DIR/ssl/key.pem
ssl_min_protocol = TLSv1.2

# Tests of wrong passwords must not wait 2 s; plaintext LOGIN is allowed so
# security=none can be tested too (all connections are loopback anyway).
auth_failure_delay = 0
disable_plaintext_auth = no
auth_mechanisms = plain login

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $DIR/users
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $DIR/users
}

mail_location = maildir:~/Maildir
mail_uid = $MAIL_UID
mail_gid = $MAIL_GID
first_valid_uid = $MAIL_UID
last_valid_uid = $MAIL_UID
first_valid_gid = $MAIL_GID
namespace inbox {
  inbox = yes
  separator = /
}

protocol imap {
  mail_max_userip_connections = 100
}

# Pre-forked, reused processes: a fresh imap process per login costs ~14 ms.
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $TB_IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $TB_IMAPS_PORT
    ssl = yes
  }
  process_min_avail = 2
  service_count = 0
}
service imap {
  process_min_avail = 2
  service_count = 0
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
# Sized for the process limits above (Dovecot warns otherwise).
service auth {
  client_limit = 2000
  unix_listener auth-postfix {
    mode = 0666
  }
}
EOF
}

write_postfix_conf() {
    pf=$DIR/postfix
    cat >"$pf/main.cf" <<EOF
# mentord test-bed: a private Postfix instance under $DIR.
compatibility_level = 3.6
queue_directory = $DIR/spool
data_directory = $DIR/pfdata
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = $DIR
maillog_file = $DIR/postfix.log

myhostname = mx.$TB_DOMAIN
mydomain = $TB_DOMAIN
myorigin = $TB_DOMAIN
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no

# Only example.test exists; nothing is relayed, other domains are refused at RCPT.
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
local_transport = error:5.1.1 no local delivery in the test-bed
default_transport = error:5.7.1 the test-bed delivers to $TB_DOMAIN only
relay_transport = error:5.7.1 the test-bed delivers to $TB_DOMAIN only
virtual_mailbox_domains = $TB_DOMAIN
# mentors+b-TAG@ (mentord's per-message envelope sender) reaches mentors' mailbox.
recipient_delimiter = +
# As the README asks of the community's server: an Authentication-Results header
# carrying this server's authserv-id that arrives with the mail is the sender's
# forgery, and is removed (a milter's own header would be added after this).
header_checks = regexp:$pf/strip_authres
virtual_mailbox_maps = texthash:$pf/vmailbox
virtual_transport = lmtp:unix:$DIR/run/lmtp
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient

smtpd_tls_cert_file = $DIR/ssl/cert.pem
smtpd_tls_key_file = $DIR/ssl/key.pem
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DIR/run/auth-postfix
smtpd_sasl_auth_enable = no
lmtp_tls_security_level = none

# Fast tests: no throttling, quick retries after the IMAP side was stopped.
in_flow_delay = 0
smtpd_error_sleep_time = 0
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 10s
biff = no
append_dot_mydomain = no
EOF
    cat >"$pf/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$TB_SMTP_PORT inet n - n - - smtpd
127.0.0.1:$TB_SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_recipient_restrictions=reject_unlisted_recipient,permit_sasl_authenticated,reject
127.0.0.1:$TB_SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=reject_unlisted_recipient,permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    # Forged Authentication-Results with this server's id (header_checks above).
    printf '/^Authentication-Results:[[:space:]]*mx\\.%s([[:space:];]|$)/ IGNORE\n' \
        "$(printf '%s' "$TB_DOMAIN" | sed 's/\./\\./g')" >"$pf/strip_authres"
    # Postfix distrusts files younger than ~2 s and waits for them to age.
    touch -d '-10 seconds' "$pf/main.cf" "$pf/master.cf" "$pf/vmailbox" "$pf/strip_authres"
}

write_env() {
    cat >"$DIR/testbed.env" <<EOF
TB_DIR=$DIR
TB_HOST=127.0.0.1
TB_IMAP_PORT=$TB_IMAP_PORT
TB_IMAPS_PORT=$TB_IMAPS_PORT
TB_SMTP_PORT=$TB_SMTP_PORT
TB_SUBMISSION_PORT=$TB_SUBMISSION_PORT
TB_SMTPS_PORT=$TB_SMTPS_PORT
TB_CA=$DIR/ssl/cert.pem
TB_DOMAIN=$TB_DOMAIN
TB_PASSWORD=$TB_PASSWORD
TB_PASSFILE=$DIR/password
TB_USERS="$TB_USERS"
TB_DOVECOT_CONF=$DIR/dovecot.conf
TB_POSTFIX_DIR=$DIR/postfix
TB_DOVECOT_LOG=$DIR/dovecot.log
TB_POSTFIX_LOG=$DIR/postfix.log
EOF
}

# ---- readiness ----

# Wait (bounded, ~10 s) until each "port:banner-prefix" answers with its banner.
wait_banners() {
    python3 - "$@" <<'EOF'
import socket, sys, time
deadline = time.monotonic() + 10
for spec in sys.argv[1:]:
    port, want = spec.split(":", 1)
    last = "no answer"
    while True:
        try:
            with socket.create_connection(("127.0.0.1", int(port)), timeout=2) as s:
                s.settimeout(2)
                banner = s.recv(512).decode("ascii", "replace")
                if banner.startswith(want):
                    break
                last = "banner %r" % banner
        except OSError as e:
            last = str(e)
        if time.monotonic() > deadline:
            sys.exit("port %s: %s" % (port, last))
        time.sleep(0.05)
EOF
}

show_logs() {
    for f in "$DIR/dovecot.log" "$DIR/postfix.log" "$DIR/postfix-start.log"; do
        [ -s "$f" ] || continue
        echo "==== $f" >&2
        tail -n 40 "$f" >&2
    done
}

# ---- the servers ----

start_imap() {
    dovecot -c "$DIR/dovecot.conf" </dev/null >/dev/null 2>>"$DIR/dovecot.log" || {
        show_logs
        echo "testbed: dovecot failed to start" >&2
        return 1
    }
}

start_smtp() {
    # Postfix prints fatal errors only to a terminal, so its start-up chatter is
    # kept in a file and shown on failure; the daemons get their own stdio.
    postfix -c "$DIR/postfix" start </dev/null >>"$DIR/postfix-start.log" 2>&1 || {
        show_logs
        echo "testbed: postfix failed to start" >&2
        return 1
    }
}

stop_imap() {
    pid=$(pidfile_pid "$DIR/run/master.pid") || return 0
    alive "$pid" || return 0
    kids=$(descendants "$pid")
    # The master alone waits ~1 s for its children; telling them too is faster.
    # shellcheck disable=SC2086
    kill "$pid" $kids 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_gone "$pid" $kids || die "dovecot did not stop"
}

stop_smtp() {
    pid=$(pidfile_pid "$DIR/spool/pid/master.pid") || return 0
    alive "$pid" || return 0
    kids=$(descendants "$pid")
    postfix -c "$DIR/postfix" stop </dev/null >>"$DIR/postfix-start.log" 2>&1 ||
        kill "$pid" 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_gone "$pid" $kids || die "postfix did not stop"
}

cmd_start() {
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    # The servers' unprivileged users must reach their sockets and mail below DIR.
    chmod 0755 "$DIR"
    mkdir -p "$DIR/ssl" "$DIR/postfix" "$DIR/spool" "$DIR/pfdata" "$DIR/state" "$DIR/mail"
    chown postfix "$DIR/pfdata"
    MAIL_UID=$(id -u "$MAIL_USER")
    MAIL_GID=$(id -g "$MAIL_USER")
    # shellcheck disable=SC2046 # five numbers, split on purpose
    set -- $(pick_ports)
    TB_IMAP_PORT=$1 TB_IMAPS_PORT=$2 TB_SMTP_PORT=$3 TB_SUBMISSION_PORT=$4 TB_SMTPS_PORT=$5
    make_cert
    write_users
    write_dovecot_conf
    write_postfix_conf
    write_env
    # A half-started test-bed is stopped again: nothing may be left running.
    start_imap || exit 1
    start_smtp || {
        stop_imap
        exit 1
    }
    wait_banners "$TB_IMAP_PORT:* OK" "$TB_SMTP_PORT:220" || {
        show_logs
        cmd_stop || true
        die "servers did not answer in time"
    }
}

cmd_stop() {
    rc=0
    stop_smtp || rc=1
    stop_imap || rc=1
    return $rc
}

# Empty every folder of every user without a restart.  doveadm goes through
# Dovecot's own indexes, so running sessions (if any) stay consistent.
cmd_reset() {
    load_env
    doveadm -c "$TB_DOVECOT_CONF" expunge -A mailbox '*' all ||
        die "doveadm expunge failed (see $DIR/dovecot.log)"
}

[ $# -eq 2 ] || usage
CMD=$1
DIR=$2
case "$CMD" in
start) cmd_start ;;
stop)
    [ -d "$DIR" ] || exit 0
    DIR=$(cd "$DIR" && pwd)
    cmd_stop
    ;;
stop-smtp)
    DIR=$(cd "$DIR" && pwd)
    stop_smtp
    ;;
start-smtp)
    DIR=$(cd "$DIR" && pwd)
    load_env
    start_smtp || exit 1
    wait_banners "$TB_SMTP_PORT:220" || {
        show_logs
        die "postfix did not answer in time"
    }
    ;;
stop-imap)
    DIR=$(cd "$DIR" && pwd)
    stop_imap
    ;;
start-imap)
    DIR=$(cd "$DIR" && pwd)
    load_env
    start_imap || exit 1
    wait_banners "$TB_IMAP_PORT:* OK" || {
        show_logs
        die "dovecot did not answer in time"
    }
    ;;
reset)
    DIR=$(cd "$DIR" && pwd)
    cmd_reset
    ;;
status)
    DIR=$(cd "$DIR" && pwd)
    p1=$(pidfile_pid "$DIR/run/master.pid") && alive "$p1" || exit 1
    p2=$(pidfile_pid "$DIR/spool/pid/master.pid") && alive "$p2" || exit 1
    ;;
*) usage ;;
esac
