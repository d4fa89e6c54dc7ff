#!/usr/bin/env python3
"""SIGKILL during the 16-week programme changes nobody's mail sequence (issue 5).

The story of test_programme_e2e.py (tests/e2e/story.py) is played twice, each
time on a fresh test-bed state (every mailbox emptied, a new database):

  1. normally: each scheduled `mentord --once --now T` runs to completion;
  2. killing: each scheduled run is, with probability KILL_RATE (default 1/3),
     first started and SIGKILLed after a random 0-300 ms, so that the kill
     lands inside the inbox pass, a scheduled event, the matching round, the
     move to Processed or the outbox drain; then it is run again to
     completion with the same --now, as a supervisor restarting it would.

Both plays deliver the mail people write one at a time (story's ordered=True),
so mentord files and answers it in the same order each time.

Then, per person (members and managers), the list of mail kinds
(story.kind_of), in the order of the runs that sent them, must be the same in
both plays (within one run the kinds are compared as a set: see run_order).
The only difference
tolerated is a duplicate: a mail the SMTP server accepted just before the
kill, while its outbox row was still queued, is sent again by the restart
with the same Message-ID.  Both plays read their mailboxes as a client that
hides a Message-ID it has already shown would (so nobody answers one twice);
the hidden copies are counted and must number at most the kills that landed
while mentord was running (the goal is 0), and the normal play must have none.
Also checked on the killing play: PRAGMA integrity_check is ok, every mail
the people wrote is recorded exactly once in the messages table, nothing is
left in the mentors INBOX, and every mentord run that was not killed succeeded.
The output says how many kills landed in each phase of a run, from the killed
process's last log line: start (before the IMAP login), inbox (fetch, decide,
commit, move), after-inbox (scheduled events, matching, or the drain until
its first group commit: the "smtp: N sent" line of a group is logged after
its commit, and a run's few mails are usually one group), drain (after a
group of sent mails), exited (the run was over before the kill).

Run through tests/e2e/run.sh (test-bed with EXTRA_USERS=25; normal build
only), or by hand with TESTBED_ENV and MENTORD_BIN set:

    KILL_SEED=42 python3 tests/e2e/test_programme_kill.py

KILL_SEED makes the kills reproducible (the seed used is always printed);
KILL_RATE=0 plays the second story without kills (a determinism check).
Prints one PASS/FAIL line per check and ends with exactly one line
"e2e-programme-kill: N passed, N failed".  Exit status 1 when any failed.
"""

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailbed as mb  # noqa: E402
import story  # noqa: E402

MAX_DELAY = 0.3  # at most this many seconds between the start of a run and its SIGKILL
ALIGN_AFTER = 0.5  # a run starting later in a wall-clock second waits for the next one


check = mb.check


def fmt(t):
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))


class Kill:
    """One SIGKILL: at which step, after how long, whether mentord was still running, and
    the phase of its work it was in (from its last log line)."""

    def __init__(self, now, delay, landed, phase):
        self.now = now
        self.delay = delay
        self.landed = landed
        self.phase = phase


# The last log line a killed mentord wrote -> the phase the kill interrupted (first match wins).
PHASES = [
    ("exited", re.compile(r" outbox: \d+ sent")),
    ("drain", re.compile(r" smtp: \d+ sent")),
    ("after-inbox", re.compile(r" (inbox: \d+ processed|matching: )")),
    ("inbox", re.compile(r" (IMAP: connected|UID \d+ )")),
]


def phase_of(log, landed):
    if not landed:
        return "exited"
    for line in reversed(log.splitlines()):
        for name, rx in PHASES:
            if rx.search(line):
                return name
    return "start"


def align_second():
    """Start a run early in a wall-clock second (sleeps at most 1 - ALIGN_AFTER s).

    `--now T` only fixes the start of mentord's clock: it reads T plus the
    whole seconds of real time since the process started.  Due times are
    derived from that clock (a reminder is due a day after the *moment* it was
    wanted), so whether an event is run at the step exactly a day later, or
    only at the next one, depends on whether a second boundary fell into one
    run and not into the other - in any two plays, killed or not (seen with
    KILL_RATE=0: one play sent the silent mentor a reminder the other did
    not, most likely run one step later and finding nothing to remind any
    more).  Most runs take
    well under half a second, so starting them early in a second keeps
    mentord's clock at exactly T while it works.
    """
    frac = time.time() % 1.0
    if frac > ALIGN_AFTER:
        time.sleep(1.0 - frac + 0.005)


class KillingRunner:
    """A story runner: sometimes starts mentord and SIGKILLs it, then always runs it to the end.

    With rate 0 it is the runner of the normal play: the same clock alignment, no kills.
    """

    def __init__(self, rng, rate):
        self.rng = rng
        self.rate = rate
        self.kills = []
        self.last = MAX_DELAY  # how long the last complete run took
        self.crossed = 0  # complete runs during which a wall-clock second began

    def __call__(self, config, *args, env=None):
        if self.rate > 0 and self.rng.random() < self.rate:
            self.kill_one(config, args, env)
        align_second()
        t0 = time.time()
        result = mb.run_mentord(config, *args, env=env)
        t1 = time.time()
        self.last = t1 - t0
        self.crossed += int(t1) != int(t0)
        return result

    def kill_one(self, config, args, env):
        cmd = [mb._bin("MENTORD_BIN", "mentord"), "-c", config, *args]
        # A quiet step's run is over in well under 300 ms: aim within about as
        # long as the last run took, so most kills land while mentord works.
        delay = self.rng.uniform(0.0, min(MAX_DELAY, 1.2 * self.last))
        align_second()
        # Its log goes to a file (a pipe nobody reads while it runs could fill up).
        log = os.path.join(os.path.dirname(os.path.abspath(config)), "killed.log")
        with open(log, "wb") as f:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=f, env=mb._env_with(env))
        time.sleep(delay)
        landed = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with open(log, encoding="utf-8", errors="replace") as f:
            phase = phase_of(f.read(), landed)
        now = int(args[args.index("--now") + 1]) if "--now" in args else 0
        self.kills.append(Kill(now, delay, landed, phase))


class DedupStory(story.Story):
    """The story, read as a client that shows a Message-ID only once.

    A copy of a mail already received (the same outbox row sent again after a
    kill) is kept aside in self.duplicates instead of self.mail, so nobody
    answers it a second time and the rest of the story is not disturbed by it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicates = []  # (user, Received)

    def fetch(self, user, now):
        before = len(self.mail[user])
        super().fetch(user, now)
        seen = {r.message_id for r in self.mail[user][:before]}
        kept = []
        for r in self.mail[user][before:]:
            if r.message_id and r.message_id in seen:
                self.duplicates.append((user, r))
                continue
            seen.add(r.message_id)
            kept.append(r)
        self.mail[user][before:] = kept


def play(workdir, runner=None):
    """One 16-week play on emptied mailboxes and a new database; returns the story."""
    os.makedirs(workdir)
    mb.reset()
    t0 = time.monotonic()
    s = DedupStory(story.full_cast(), workdir, weeks=16, runner=runner, ordered=True)
    s.play()
    s.elapsed = time.monotonic() - t0
    return s


def run_order(s, user):
    """user's mail kinds in the order of the runs that sent them, sorted by kind within a run.

    Within one run mentord answers the incoming mail in the order the IMAP
    server filed it, and Postfix delivers the mail people wrote at one step in
    parallel: that order differs between any two plays, killed or not (seen
    with KILL_RATE=0).  Runs are hours apart and last seconds, so the hour a
    mail was sent (its Date) names its run.
    """
    return [k for _, k in sorted((r.at // 3600, r.kind) for r in s.mail[user])]


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


class Comparison:
    """The checks, each a method check_*; self.base is the normal play, self.kill the other."""

    def __init__(self, base, kill, plain, runner):
        self.base = base
        self.kill = kill
        self.plain = plain
        self.runner = runner

    def check_normal_play_succeeded(self):
        s = self.base
        check(not s.errors, "%d failed runs in the normal play; first at %s (rc %s): %s"
              % ((len(s.errors), fmt(s.errors[0][0])) + s.errors[0][1:]) if s.errors else "")
        check(not s.duplicates, "the normal play delivered %d duplicates: %s"
              % (len(s.duplicates), [(u, r.kind) for u, r in s.duplicates[:5]]))

    def check_restarts_succeeded(self):
        s = self.kill
        check(s.runs == self.base.runs, "%d runs against %d" % (s.runs, self.base.runs))
        check(not s.errors, "%d restarts failed; first at %s (rc %s): %s"
              % ((len(s.errors), fmt(s.errors[0][0])) + s.errors[0][1:]) if s.errors else "")
        landed = [k for k in self.runner.kills if k.landed]
        if self.runner.rate > 0:
            check(len(landed) >= 10, "only %d kills landed while mentord ran" % len(landed))

    def check_same_sequences(self):
        bad = []
        for u in self.base.readers:
            a, b = run_order(self.base, u), run_order(self.kill, u)
            if a != b:
                i = first_difference(a, b)
                when = sorted(r.at for r in (self.kill if i < len(b) else self.base).mail[u])[i]
                bad.append("%s differs at mail %d (%s): normal ...%s, killed ...%s"
                           % (u, i + 1, fmt(when), " ".join(a[max(0, i - 2):i + 4]),
                              " ".join(b[max(0, i - 2):i + 4])))
        crossed = self.plain.crossed + self.runner.crossed
        note = ("\n      (%d runs crossed a wall-clock second: see align_second)" % crossed
                if crossed else "")
        check(not bad, "%d of %d people got a different sequence:\n      %s%s"
              % (len(bad), len(self.base.readers), "\n      ".join(bad), note))

    def check_duplicates_within_kills(self):
        landed = [k for k in self.runner.kills if k.landed]
        dups = self.kill.duplicates
        check(len(dups) <= len(landed), "%d duplicates for %d kills: %s"
              % (len(dups), len(landed), [(u, r.kind, fmt(r.at)) for u, r in dups[:10]]))
        # A duplicate comes from a kill in the same step (or is read one step later).
        steps = {k.now for k in landed}
        stray = [(u, r.kind, fmt(r.seen_at)) for u, r in dups
                 if not any(0 <= r.seen_at - t <= story.DAY for t in steps)]
        check(not stray, "duplicates with no kill before them: %s" % stray[:5])

    def check_database_intact(self):
        rows = mb.sqlite(self.kill.db, "PRAGMA integrity_check")
        check(rows == [("ok",)], "PRAGMA integrity_check: %s" % rows[:5])

    def check_every_mail_processed_once(self):
        """Each mail in Processed (all the people wrote) is in the messages table exactly once."""
        s = self.kill
        rows = mb.sqlite(s.db, "SELECT message_id, count(*) FROM messages GROUP BY message_id")
        twice = [(m, n) for m, n in rows if m is not None and n != 1]
        check(not twice, "Message-IDs recorded more than once: %s" % twice[:5])
        # The leaver's own last mail is recorded without its Message-ID (erasure).
        anonymous = sum(n for m, n in rows if m is None)
        total = sum(n for _, n in rows)
        check(total == len(s.sent), "%d mails written, %d recorded in messages"
              % (len(s.sent), total))
        left = mb.count("mentors")
        check(left == 0, "%d mails left in the mentors INBOX" % left)
        processed = [str(m["Message-ID"]).strip().strip("<>")
                     for m in mb.mailbox("mentors", "Processed")]
        check(len(processed) == len(s.sent), "%d mails in Processed, %d written"
              % (len(processed), len(s.sent)))
        recorded = {m for m, _ in rows if m is not None}
        missing = [m for m in processed if m not in recorded]
        check(len(missing) <= anonymous, "%d mails in Processed never recorded: %s"
              % (len(missing), missing[:5]))
        uids = mb.sqlite(s.db, "SELECT count(*), count(DISTINCT mailbox || ':' || uidvalidity "
                         "|| ':' || uid) FROM messages")[0]
        check(uids[0] == uids[1], "%d messages rows for %d distinct UIDs" % uids)
        sql = "SELECT outcome, count(*) FROM messages GROUP BY outcome ORDER BY outcome"
        base, got = mb.sqlite(self.base.db, sql), mb.sqlite(s.db, sql)
        check(got == base, "outcomes %s, normal play %s" % (got, base))

    def check_same_outbox(self):
        sql = "SELECT kind, status, count(*) FROM outbox GROUP BY kind, status ORDER BY 1, 2"
        a, b = mb.sqlite(self.base.db, sql), mb.sqlite(self.kill.db, sql)
        check(a == b, "outbox differs: normal %s, killed %s" % (a, b))


def main(argv):
    seed = os.environ.get("KILL_SEED") or str(random.SystemRandom().randrange(1 << 32))
    rate = float(os.environ.get("KILL_RATE", "0.3333"))
    runner = KillingRunner(random.Random(seed), rate)
    tmp = tempfile.mkdtemp(prefix="mentord-programme-kill-")
    try:
        need = ["user%d" % i for i in range(1, 26)]
        missing = [u for u in need if u not in mb.env()["TB_USERS"].split()]
        if missing:
            raise RuntimeError("the test-bed lacks %s: start it with EXTRA_USERS=25" % missing[0])
        plain = KillingRunner(None, 0)
        base = play(os.path.join(tmp, "normal"), runner=plain)
        print("== normal play: %d runs (%d crossed a second), %d mails received, %d written, "
              "%.1f s" % (base.runs, plain.crossed, sum(len(v) for v in base.mail.values()),
                          len(base.sent), base.elapsed), flush=True)
        # The mentors' mailbox of the first play must not be read by the second.
        kill = play(os.path.join(tmp, "killed"), runner=runner)
        landed = sum(1 for k in runner.kills if k.landed)
        print("== killing play (KILL_SEED=%s, rate %.2f): %d runs (%d crossed a second), "
              "%d SIGKILLs (%d while running), %d duplicates, %d mails received, %.1f s"
              % (seed, rate, kill.runs, runner.crossed, len(runner.kills), landed,
                 len(kill.duplicates), sum(len(v) for v in kill.mail.values()), kill.elapsed),
              flush=True)
        phases = {}
        for k in runner.kills:
            phases[k.phase] = phases.get(k.phase, 0) + 1
        print("   kills by phase: %s" % ", ".join(
            "%s %d" % (name, phases.get(name, 0))
            for name in ("start", "inbox", "after-inbox", "drain", "exited")), flush=True)
        for u, r in kill.duplicates:
            print("   duplicate: %s got %s (%s) twice, sent %s"
                  % (u, r.kind, r.message_id, fmt(r.at)), flush=True)
    except Exception:
        print("FAIL programme-kill: the story could not be played (KILL_SEED=%s)" % seed,
              flush=True)
        print("    " + traceback.format_exc().rstrip().replace("\n", "\n    "), flush=True)
        print("e2e-programme-kill: 0 passed, 1 failed", flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
        return 1
    passed, failed = mb.run_checks(Comparison(base, kill, plain, runner), argv[1:])
    if failed:
        print("(reproduce with KILL_SEED=%s)" % seed, flush=True)
    if failed and os.environ.get("PROGRAMME_KEEP"):
        print("kept %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("e2e-programme-kill: %d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
