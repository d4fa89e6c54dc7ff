#!/bin/sh
# mentorctl as an admin uses it: every command, its --help, bad arguments and
# exit codes (0 ok, 1 error, 2 usage, 3 not found), table/CSV/JSON output,
# and a write while another connection holds the database's write lock.
#
#   sh tests/test_mentorctl.sh BUILD      (BUILD: build or build-san)
#
# Prints "mentorctl(BUILD): N passed, N failed, 0 skipped"; exit status 1 when anything failed.
set -u

BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
M="$SRC/$BUILD/mentorctl"
passed=0
failed=0
dir=$(mktemp -d /tmp/mentord-ctl.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT INT TERM

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# expect CODE DESCRIPTION -- ARGS...: run mentorctl, check the exit status;
# stdout in $dir/out, stderr in $dir/err.
expect() {
    code=$1; what=$2; shift 3
    "$M" -c "$dir/m.ini" "$@" >"$dir/out" 2>"$dir/err"
    rc=$?
    if [ "$rc" -eq "$code" ]; then ok; else bad "$what: exit $rc, wanted $code ($(head -c 300 "$dir/err"))"; fi
}
# has FILE TEXT DESCRIPTION: the file contains the fixed string.
has() { if grep -qF -- "$2" "$dir/$1"; then ok; else bad "$3: no '$2' in $1: $(head -c 400 "$dir/$1")"; fi; }
hasnt() { if grep -qF -- "$2" "$dir/$1"; then bad "$3: '$2' in $1"; else ok; fi; }
sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print("\n".join("|".join(str(v) for v in row) for row in r))' "$dir/m.db" "$1"; }
same() { if [ "$1" = "$2" ]; then ok; else bad "$3: got '$1', wanted '$2'"; fi; }

b=$(basename "$BUILD")
[ -x "$M" ] || { echo "mentorctl: $M not built"; echo "mentorctl($b): 0 passed, 1 failed, 0 skipped"; exit 1; }
printf 'secret\n' >"$dir/pw"
chmod 600 "$dir/pw"
cat >"$dir/m.ini" <<EOF
[community]
name = Example
address = mentors@example.test
managers = boss@example.test
[imap]
host = 127.0.0.1
user = u
password_file = $dir/pw
[store]
path = $dir/m.db
[templates]
dir = $SRC/templates
EOF
export MENTORD_NOW=2026-03-02T10:00:00Z

# ---- usage ----
expect 0 "--help" -- --help
has out "import FILE.csv" "usage lists import"
expect 2 "no command" --
expect 2 "unknown command" -- frobnicate
has err "unknown command 'frobnicate'" "unknown command named"
for c in members pairs waitlist mentors outbox show match unmatch pause resume remove import \
    export stats digest render check-config inspect; do
    expect 0 "$c --help" -- "$c" --help
    has out "usage: mentorctl [-c FILE] $c" "$c --help synopsis"
done
"$M" -c "$dir/missing.ini" members >/dev/null 2>&1
same "$?" 1 "missing config is a runtime error"

# ---- import ----
cat >"$dir/in.csv" <<'EOF'
address,name,role,skills,languages,timezone,capacity
ana@x.test,"Ana, the first",newcomer,python;git,english,Europe/Berlin,
mo@x.test,Mo,mentor,python,english;spanish,UTC,2
ben@x.test,Ben,newcomer,rust,english,,
bad-address,X,mentor,,,,
zed@x.test,Zed,boss,,,,
tz@x.test,T,mentor,,english,Mars/Olympus,
EOF
expect 1 "import --dry-run with bad rows" -- import "$dir/in.csv" --dry-run
has out "3 added, 0 updated, 3 rejected (dry run" "dry run summary"
has err "in.csv:5: not an address: bad-address" "bad address named with its line"
has err "in.csv:6: role must be newcomer or mentor" "bad role named"
has err "Mars/Olympus" "bad time zone named"
same "$(sql 'SELECT count(*) FROM members')" 0 "dry run changed nothing"
expect 1 "import with bad rows" -- import "$dir/in.csv"
same "$(sql "SELECT role || ' ' || state FROM members WHERE address = 'mo@x.test'")" "mentor active" "imported mentor"
same "$(sql "SELECT waiting_since IS NOT NULL FROM members WHERE address = 'ana@x.test'")" 1 "imported newcomer waits"
printf 'address,name\nana@x.test,"Ana B, jr"\nkai@x.test,Kai\n' >"$dir/more.csv"
expect 0 "import --role" -- import "$dir/more.csv" --role mentor
has out "1 added, 1 updated, 0 rejected" "update and add counted"
expect 2 "import bad --role" -- import "$dir/more.csv" --role boss
expect 3 "import missing file" -- import "$dir/nope.csv"
printf 'name,role\nX,mentor\n' >"$dir/nohead.csv"
expect 2 "import without address column" -- import "$dir/nohead.csv"
expect 2 "import without file" -- import

# ---- listings ----
expect 0 "members" -- members
has out "ana@x.test" "members lists ana"
head -1 "$dir/out" | grep -q '^id  *address  *name  *role  *state' && ok || bad "members header aligned"
expect 0 "members mentor" -- members mentor
hasnt out "ben@x.test" "role filter"
expect 2 "members bad filter" -- members wizard
expect 0 "members --csv" -- members --csv
has out '1,ana@x.test,"Ana B, jr",newcomer' "csv quoting"
expect 0 "members --json" -- members --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["id"]==1 and d[0]["address"]=="ana@x.test"' "$dir/out" && ok || bad "members --json parses"
expect 2 "--csv with --json" -- members --csv --json
expect 0 "waitlist" -- waitlist
has out "ana@x.test" "waitlist has ana"
expect 0 "mentors" -- mentors
has out "mo@x.test" "mentors has mo"
expect 0 "pairs (empty)" -- pairs
expect 0 "outbox" -- outbox
expect 2 "outbox bad status" -- outbox lost
# A mail timed for the recipient's morning says so, in their zone (ana: Europe/Berlin).
sql "INSERT INTO outbox (recipient, message_id, headers, body, created, next_attempt, kind, template) VALUES ('ana@x.test', 'w1@x.test', 'Subject: x', 'x', 1, 4102466400, 'scheduled', 'checkin')" >/dev/null
expect 0 "outbox says why mail waits" -- outbox queued
has out "quiet hours: until 07:00 Europe/Berlin" "outbox: waiting for the morning in the recipient's zone"
has out "checkin" "outbox names the template"
sql "DELETE FROM outbox WHERE message_id = 'w1@x.test'" >/dev/null
expect 0 "stats" -- stats
has out "members newcomer active" "stats counts members"
expect 0 "stats --json" -- stats --json
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$dir/out" && ok || bad "stats --json parses"
expect 2 "stats with an argument" -- stats extra

# ---- a matching round: optimal over every eligible pair, not only the candidates ----
expect 0 "match --dry-run" -- match --dry-run
has out "optimal over all" "dry run says what the result is optimal over"
# Everyone ranks everyone the same: the candidates alone (20 mentors per newcomer,
# 5 newcomers per mentor, all the lowest ids) leave newcomers beside free mentors.
{
    echo "role,id,tags,languages,tz,capacity,load,waiting_days,goals"
    i=1
    while [ $i -le 30 ]; do
        echo "newcomer,$i,python;git;docs,English,Europe/Berlin,1,0,3,"
        echo "mentor,$((100 + i)),python;git;docs,English,Europe/Berlin,1,0,0,"
        i=$((i + 1))
    done
} >"$dir/same.csv"
expect 0 "match --instance, everyone alike" -- match --instance "$dir/same.csv"
has out "pairs: 30 " "every newcomer of 30 x 30 alike is paired"
has out "optimal over all 30 x 30 eligible pairs" "the certificate covers every pair"

# ---- match / unmatch / show ----
expect 0 "match" -- match ana@x.test mo@x.test
has out "matched ana@x.test with mentor mo@x.test" "match message"
same "$(sql "SELECT count(*) FROM pairs WHERE state = 'active'")" 1 "pair made"
expect 2 "match again" -- match ana@x.test mo@x.test
has err "already has a mentor" "second match refused"
expect 2 "match two newcomers" -- match ben@x.test ana@x.test
expect 3 "match unknown" -- match nobody@x.test mo@x.test
expect 2 "match one argument" -- match ana@x.test
expect 0 "pairs" -- pairs active
has out "ana@x.test" "pairs lists the pair"
expect 0 "show" -- show ana@x.test
has out "== pairs" "show has pairs"
has out "mo@x.test" "show names the partner"
has out "python, git" "show has the profile"
expect 0 "show --json" -- show '#2' --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["member"][0]["address"]=="mo@x.test" and d["load"][0]["active_as_mentor"]==1' "$dir/out" && ok || bad "show --json parses with load"
expect 3 "show unknown" -- show nobody@x.test
expect 2 "show without member" -- show
expect 0 "unmatch by member" -- unmatch ana@x.test
same "$(sql "SELECT state || ' ' || end_reason FROM pairs")" "ended unmatched" "pair ended"
expect 2 "unmatch ended pair" -- unmatch 1
expect 3 "unmatch unknown pair" -- unmatch 99
expect 3 "unmatch member without pair" -- unmatch ben@x.test
# ---- block: two people never paired ----
expect 0 "block" -- block ben@x.test mo@x.test
has out "will never be paired" "block says what it did"
same "$(sql "SELECT count(*) FROM blocks b JOIN members x ON x.id = b.a JOIN members y ON y.id = b.b WHERE b.reason = 'manager' AND ((x.address = 'ben@x.test' AND y.address = 'mo@x.test') OR (x.address = 'mo@x.test' AND y.address = 'ben@x.test'))")" 1 "block stored"
expect 0 "block again, either order" -- block mo@x.test ben@x.test
same "$(sql "SELECT count(*) FROM blocks WHERE reason = 'manager'")" 1 "one block per two people"
expect 2 "block needs two" -- block ben@x.test
expect 2 "block oneself" -- block ben@x.test ben@x.test
expect 3 "block a stranger" -- block ben@x.test nobody@x.test
expect 0 "match --dry-run after block" -- match --dry-run
has out "waiting: ben@x.test" "blocked pair not proposed: ben still waits"

# ---- pause / resume ----
expect 0 "pause --weeks" -- pause mo@x.test --weeks 2
same "$(sql "SELECT state, date(pause_until, 'unixepoch') FROM members WHERE address = 'mo@x.test'")" "paused|2026-03-16" "paused for two weeks"
expect 2 "pause bad weeks" -- pause mo@x.test --weeks soon
expect 2 "pause past date" -- pause mo@x.test --until 2020-01-01
expect 0 "resume" -- resume mo@x.test
expect 2 "resume when active" -- resume mo@x.test
expect 3 "pause unknown" -- pause nobody@x.test

# ---- a write while the daemon holds the write lock ----
python3 - "$dir/m.db" <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("UPDATE members SET updated = updated WHERE id = 1")
open(sys.argv[1] + ".locked", "w").close()
time.sleep(1.5)
c.execute("COMMIT")
EOF
holder=$!
i=0
while [ ! -e "$dir/m.db.locked" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
start=$(date +%s%N)
expect 0 "pause while another writer holds the lock" -- pause ben@x.test
end=$(date +%s%N)
wait $holder
[ $(((end - start) / 1000000)) -ge 500 ] && ok || bad "pause did not wait for the lock"
expect 0 "members while locked (reads never wait)" -- members

# ---- export ----
expect 0 "export" -- export
head -1 "$dir/out" | grep -q '^address,name,role,skills,languages,timezone,capacity,state,joined' && ok || bad "export header"
has out 'mo@x.test,Mo,mentor,python,english;spanish,UTC,2,active' "export row round-trips import columns"
cp "$dir/out" "$dir/export.csv"
expect 0 "re-import the export" -- import "$dir/export.csv" --dry-run
has out "0 added, 4 updated, 0 rejected" "export reads back"
expect 0 "export pairs" -- export pairs
has out "unmatched" "export pairs"
expect 2 "export unknown" -- export nonsense

# ---- digest, render, check-config ----
expect 0 "digest --preview" -- digest --preview
has out "Waiting for a mentor" "digest text"
expect 0 "digest --preview --html" -- digest --preview --html
has out 'id="chart"' "digest html chart"
hasnt out "<svg" "no SVG in the digest"
expect 1 "digest --preview last before any digest was sent" -- digest --preview last
has err "no digest has been sent yet" "preview last says none was sent"
# As sent: what the store kept, not a new computation.
sql "INSERT INTO digests (key, sent, subject, text, html) VALUES ('2026-W01', 1, 'Week 2026-W01: 0 active pairs, 0 waiting', 'the text as sent', '<p>as sent</p>')" >/dev/null
expect 0 "digest --preview last" -- digest --preview last
same "$(cat "$dir/out")" "$(printf 'Subject: Week 2026-W01: 0 active pairs, 0 waiting\n\nthe text as sent')" "preview last is the digest as sent"
expect 0 "digest --preview --html last" -- digest --preview --html last
same "$(cat "$dir/out")" "<p>as sent</p>" "HTML preview last is the HTML as sent"
expect 2 "digest without --preview" -- digest
expect 0 "render" -- render undeliverable
has out "Subject: Example mentoring: mail to someone@example.org keeps failing" "render fills documented variables"
expect 0 "render --var" -- render undeliverable --var status=5.1.1 --unset diagnostic
has out "The last failure: 5.1.1" "render --var"
expect 3 "render unknown" -- render nope
expect 2 "render path" -- render ../etc/passwd
expect 0 "check-config" -- check-config
has out "[community]" "check-config prints the config"

# ---- remove (last: erasure) ----
expect 0 "remove" -- remove ana@x.test
same "$(sql "SELECT count(*) FROM members WHERE address = 'ana@x.test'")" 0 "member erased"
same "$(sql "SELECT count(*) FROM events WHERE detail LIKE '%ana@%' OR member LIKE '%ana@%'")" 0 "no address left in events"
same "$(sql "SELECT count(*) FROM events WHERE kind = 'manager' AND member LIKE 'mentorctl:%'")" 10 "actions logged with who (2 imports, 8 actions)"
expect 3 "remove again" -- remove ana@x.test

echo "mentorctl($b): $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
