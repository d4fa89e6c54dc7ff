#!/usr/bin/env python3
"""Mail benchmarks for mentord (issue 7, points 10-13); run by `make -C bench/mail`.

Every figure is a ratio against a reference measured in the same run, on the
same machine, against the same servers (a private test-bed from
tests/e2e/testbed.sh):

  ingest   N join mails in Dovecot: mentord --once (fetch, parse, commit, move)
           vs a plain libetpan fetch of the same mailbox vs fetchmail (mda cat)
  send     an outbox of N mails to Postfix's smtp-sink and to the real Postfix:
           mentord's smtp_drain with [smtp] sessions = 1 (the default) and 4
           vs a plain libcurl loop over one connection vs smtp-source with 1
           and with 4 sessions
  latency  the daemon with IDLE: JOIN submitted over SMTP -> confirmation in the
           member's Maildir, p50/p99 over 100; reference: plain delivery latency
  memory   VmRSS of the idle daemon: empty store, 100,000 members, after N mails

Each timed figure is repeated --repeat times and the median is reported.
Output: a Markdown table on stdout (and in BUILD/bench/mail-results.md).
"""

import argparse
import email.utils
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TESTBED = os.path.join(REPO, "tests", "e2e", "testbed.sh")
LAT_USERS = 100


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                env[k] = v.strip('"')
    return env


class Bed:
    """The test-bed, smtp-sink, and helpers to fill and read Maildirs."""

    def __init__(self, build):
        self.build = build
        self.dir = tempfile.mkdtemp(prefix="mentord-bench.", dir="/tmp")
        os.chmod(self.dir, 0o755)
        env = dict(os.environ, EXTRA_USERS=str(LAT_USERS))
        subprocess.run(["sh", TESTBED, "start", self.dir], check=True, env=env,
                       stdin=subprocess.DEVNULL)
        self.env = read_env(os.path.join(self.dir, "testbed.env"))
        self.sink_port = free_port()
        # smtp-sink: accepts everything, stores nothing (-u: it refuses to run as root).
        self.sink = subprocess.Popen(["smtp-sink", "-u", "postfix", "127.0.0.1:%d"
                                      % self.sink_port, "256"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.mail_uid = int(subprocess.check_output(["id", "-u", "mail"]))
        self.mail_gid = int(subprocess.check_output(["id", "-g", "mail"]))
        self.wait_port(self.sink_port)
        self.work = os.path.join(self.dir, "work")
        os.makedirs(self.work)

    def wait_port(self, port):
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("port %d never answered" % port)

    def stop(self):
        self.sink.terminate()
        self.sink.wait()
        subprocess.run(["sh", TESTBED, "stop", self.dir], stdin=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def maildir(self, user, folder=None):
        base = os.path.join(self.dir, "mail", user, "Maildir")
        return base if folder is None else os.path.join(base, "." + folder)

    def reset(self):
        subprocess.run(["sh", TESTBED, "reset", self.dir], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL)

    def fill(self, n):
        """n join mails from n distinct senders straight into mentors' Maildir/new:
        the fastest honest delivery (Dovecot indexes them on the next SELECT)."""
        md = self.maildir("mentors")
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        now = time.time()
        for i in range(n):
            date = email.utils.formatdate(now - n + i, localtime=False)
            msg = ("Return-Path: <newcomer%d@example.org>\r\n"
                   "From: Newcomer %d <newcomer%d@example.org>\r\n"
                   "To: mentors@example.test\r\n"
                   "Subject: join\r\n"
                   "Date: %s\r\n"
                   "Message-ID: <bench.%d.%d@example.org>\r\n"
                   "MIME-Version: 1.0\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                   "Hello, I would like a mentor please.\r\n\r\n"
                   "Skills: python, documentation\r\nLanguages: English, Spanish\r\n"
                   "Time zone: Europe/Madrid\r\n\r\nThanks,\r\nNewcomer %d\r\n"
                   % (i, i, i, date, int(now), i, i))
            path = os.path.join(md, "new", "%d.M%dP%d.bench" % (int(now), i, os.getpid()))
            with open(path, "w") as f:
                f.write(msg)
            os.chown(path, self.mail_uid, self.mail_gid)
        subprocess.run(["chown", "-R", "%d:%d" % (self.mail_uid, self.mail_gid),
                        self.maildir("mentors")], check=True)
        # Index once, untimed, so no reader below pays Dovecot's first scan.
        subprocess.run(["doveadm", "-c", self.env["TB_DOVECOT_CONF"], "mailbox", "status", "-u",
                        "mentors@example.test", "messages", "INBOX"], check=True,
                       stdout=subprocess.DEVNULL)

    def inbox_count(self, user="mentors"):
        md = self.maildir(user)
        return sum(len(os.listdir(os.path.join(md, d))) for d in ("new", "cur")
                   if os.path.isdir(os.path.join(md, d)))

    def config(self, name, smtp_port, imap_idle="yes"):
        path = os.path.join(self.work, name + ".ini")
        db = os.path.join(self.work, name + ".db")
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        e = self.env
        with open(path, "w") as f:
            f.write("""[community]
name = Bench Community
address = mentors@example.test
managers = boss@example.test
[imap]
host = 127.0.0.1
port = %s
security = tls
tls_ca_file = %s
user = mentors@example.test
password_file = %s
mailbox = INBOX
processed_mailbox = Processed
poll_interval = 1
idle = %s
[smtp]
host = 127.0.0.1
port = %d
security = none
[limits]
replies_per_hour = 10000
replies_per_day = 10000
stranger_per_hour = 1000000
stranger_per_day = 1000000
[store]
path = %s
[templates]
dir = %s
[log]
level = info
""" % (e["TB_IMAPS_PORT"], e["TB_CA"], e["TB_PASSFILE"], imap_idle, smtp_port, db,
            os.path.join(REPO, "templates")))
        os.chmod(path, 0o600)
        return path, db

    def bin(self, name):
        return os.path.join(self.build, name)


def run_timed(cmd, **kw):
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    t = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
    return t, r.stdout


def result(out):
    m = re.search(r"^RESULT (.*)$", out, re.M)
    return dict(kv.split("=", 1) for kv in m.group(1).split())


# ---- ingest ----

def mentord_once(bed, cfg, n):
    """Seconds until mentord --once logs the end of its inbox pass (the outbox drain
    that follows is excluded), and the number it processed."""
    t0 = time.monotonic()
    p = subprocess.Popen([bed.bin("mentord"), "-c", cfg, "--once"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    t_inbox = None
    processed = 0
    lines = []
    for line in p.stderr:
        lines.append(line)
        m = re.search(r"inbox: (\d+) processed", line)
        if m and t_inbox is None:
            t_inbox = time.monotonic() - t0
            processed = int(m.group(1))
    p.wait()
    if t_inbox is None:
        raise RuntimeError("mentord --once never finished its inbox pass (exit %d): %s"
                           % (p.returncode, "".join(lines[-10:])))
    return t_inbox, processed


def fetchmail_run(bed):
    rc = os.path.join(bed.work, "fetchmailrc")
    with open(rc, "w") as f:
        f.write('set no syslog\nset idfile "%s/fetchids"\n'
                'poll 127.0.0.1 service %s protocol IMAP\n'
                '  user "mentors@example.test" password "%s" is root here\n'
                '  folder INBOX ssl sslcertck sslcommonname localhost sslcertfile "%s"\n'
                '  keep fetchall mda "cat >/dev/null"\n'
                % (bed.work, bed.env["TB_IMAPS_PORT"], bed.env["TB_PASSWORD"], bed.env["TB_CA"]))
    os.chmod(rc, 0o600)
    t0 = time.monotonic()
    r = subprocess.run(["fetchmail", "-f", rc, "-N", "--nosyslog", "-s"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t = time.monotonic() - t0
    # 0: mail retrieved; anything else means the figure is not comparable.
    if r.returncode != 0:
        raise RuntimeError("fetchmail failed (%d): %s" % (r.returncode, r.stderr[-1000:]))
    return t


def bench_ingest(bed, n, repeat):
    rows = {"fetch": [], "fetchmail": [], "mentord": []}
    e = bed.env
    for rep in range(repeat):
        bed.reset()
        bed.fill(n)
        log("ingest %d/%d: %d mails in INBOX" % (rep + 1, repeat, bed.inbox_count()))
        t, out = run_timed([bed.bin("bench/mailbench"), "fetch", "127.0.0.1", e["TB_IMAPS_PORT"],
                            "mentors@example.test", e["TB_PASSFILE"], "INBOX"])
        assert int(result(out)["n"]) == n, out
        rows["fetch"].append(n / float(result(out)["seconds"]))
        rows["fetchmail"].append(n / fetchmail_run(bed))
        cfg, _ = bed.config("ingest", bed.sink_port)
        t, processed = mentord_once(bed, cfg, n)
        if processed != n:
            raise RuntimeError("mentord processed %d of %d" % (processed, n))
        rows["mentord"].append(n / t)
        log("ingest: fetch %.0f/s, fetchmail %.0f/s, mentord %.0f/s"
            % (rows["fetch"][-1], rows["fetchmail"][-1], rows["mentord"][-1]))
    return {k: statistics.median(v) for k, v in rows.items()}


def bench_breakdown(bed, n):
    """Where mentord's ingest time goes: IMAP patterns without mentord (one
    UID FETCH per message, then also one UID MOVE per message: the first
    inbox.c; the same per batch of 50 with RFC822.SIZE first: the second;
    per batch of 500: the current one), and mentord with its database on
    tmpfs (so fsync costs nothing)."""
    e = bed.env
    out = {}
    args = ["127.0.0.1", e["TB_IMAPS_PORT"], "mentors@example.test", e["TB_PASSFILE"], "INBOX"]
    subprocess.run(["doveadm", "-c", e["TB_DOVECOT_CONF"], "mailbox", "create", "-u",
                    "mentors@example.test", "Processed"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # exists already after a mentord run: fine
    for mode, label, extra in (("fetch1", "fetch1", []), ("fetch1", "fetch1+move", ["Processed"]),
                               ("fetch50", "fetch50", []),
                               ("fetch50", "fetch50+move", ["Processed"]),
                               ("fetch500", "fetch500+move", ["Processed"])):
        bed.reset()
        bed.fill(n)
        _, o = run_timed([bed.bin("bench/mailbench"), mode] + args + extra)
        out[label] = float(result(o)["seconds"])
    for label, dbdir in (("mentord", None), ("mentord-tmpfs", "/dev/shm")):
        bed.reset()
        bed.fill(n)
        cfg, db = bed.config("breakdown", bed.sink_port)
        if dbdir:
            tmp = os.path.join(dbdir, "mentord-bench-%d.db" % os.getpid())
            with open(cfg) as f:
                text = f.read().replace("path = " + db, "path = " + tmp)
            with open(cfg, "w") as f:
                f.write(text)
        out[label] = mentord_once(bed, cfg, n)[0]
        if dbdir:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(tmp + suffix):
                    os.unlink(tmp + suffix)
    for k, v in out.items():
        log("breakdown: %-14s %.2f s for %d mails (%.2f ms each)" % (k, v, n, 1000 * v / n))
    return out


# ---- send ----

def outbox_message(db):
    con = sqlite3.connect(db)
    try:
        h, b = con.execute("SELECT headers, body FROM outbox ORDER BY id LIMIT 1").fetchone()
    finally:
        con.close()
    return h + "\r\n" + b


def with_sessions(cfg, sessions):
    """The config with [smtp] sessions set (None: left at mentord's default)."""
    if sessions is None:
        return cfg
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace("[smtp]\n", "[smtp]\nsessions = %d\n" % sessions, 1))
    return cfg


def mentord_drain(bed, label, port, rcpt, n, sessions):
    """Queue n mails, then time smtp_drain until the outbox is empty; (rate, config, db)."""
    cfg, db = bed.config("send-" + label, port)
    with_sessions(cfg, sessions)
    run_timed([bed.bin("bench/mailbench"), "queue", cfg, str(n), rcpt])
    _, out = run_timed([bed.bin("bench/mailbench"), "drain", cfg])
    r = result(out)
    if int(r["n"]) != n:
        raise RuntimeError("mentord sent %s of %d: %s" % (r["n"], n, out))
    return n / float(r["seconds"]), db


def bench_send_to(bed, label, port, rcpt, n, repeat):
    """mentord with one session (its default) and with 4, against one libcurl
    connection and smtp-source with 1 and 4 sessions, interleaved per repeat."""
    rows = {"mentord": [], "mentord1": [], "curl": [], "source1": [], "source4": []}
    eml = os.path.join(bed.work, "send.eml")
    for rep in range(repeat):
        rate, db = mentord_drain(bed, label, port, rcpt, n, 4)
        rows["mentord"].append(rate)
        with open(eml, "w", newline="") as f:
            f.write(outbox_message(db))
        size = os.path.getsize(eml)
        if label == "postfix":
            wait_postfix_queue(bed)
        rows["mentord1"].append(mentord_drain(bed, label, port, rcpt, n, 1)[0])
        if label == "postfix":
            wait_postfix_queue(bed)
        t, out = run_timed([bed.bin("bench/mailbench"), "curl", "127.0.0.1", str(port), str(n),
                            "mentors@example.test", rcpt, eml])
        rows["curl"].append(n / float(result(out)["seconds"]))
        if label == "postfix":
            wait_postfix_queue(bed)
        for sessions in (1, 4):
            t, _ = run_timed(["smtp-source", "-s", str(sessions), "-m", str(n), "-l", str(size),
                              "-f", "mentors@example.test", "-t", rcpt,
                              "127.0.0.1:%d" % port])
            rows["source%d" % sessions].append(n / t)
            if label == "postfix":
                wait_postfix_queue(bed)
        log("send %s %d/%d: mentord (4 sessions) %.0f/s, (1 session) %.0f/s, curl %.0f/s, "
            "smtp-source 1: %.0f/s, 4: %.0f/s"
            % (label, rep + 1, repeat, rows["mentord"][-1], rows["mentord1"][-1],
               rows["curl"][-1], rows["source1"][-1], rows["source4"][-1]))
        if label == "postfix":
            wait_postfix_queue(bed)
    return {k: statistics.median(v) for k, v in rows.items()}


def wait_postfix_queue(bed, timeout=600):
    """Let Postfix deliver what it accepted, so the next run meets an idle server."""
    spool = os.path.join(bed.dir, "spool")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = sum(len(files) for q in ("incoming", "active", "deferred")
                   for _, _, files in os.walk(os.path.join(spool, q)))
        if left == 0:
            return
        time.sleep(1)
    log("postfix queue not empty after %d s" % timeout)


# ---- latency ----

def maildir_files(path):
    out = set()
    for d in ("new", "cur"):
        try:
            out.update(os.listdir(os.path.join(path, d)))
        except FileNotFoundError:
            pass
    return out


def submit(bed, sender, rcpt, subject, body):
    msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n\r\n%s\r\n"
           % (sender, rcpt, subject, email.utils.formatdate(localtime=True),
              email.utils.make_msgid(domain="example.test"), body))
    import smtplib
    with smtplib.SMTP("127.0.0.1", int(bed.env["TB_SMTP_PORT"]), timeout=30) as s:
        s.sendmail(sender, [rcpt], msg.encode())


def wait_new(path, before, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = maildir_files(path)
        if now - before:
            return time.monotonic()
        time.sleep(0.002)
    return None


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def bench_latency(bed, count):
    bed.reset()
    cfg, _ = bed.config("latency", int(bed.env["TB_SMTP_PORT"]))
    # Reference: the same submission path into a mailbox, with nothing answering.
    ref = []
    ann = bed.maildir("ann")
    for i in range(count):
        before = maildir_files(ann)
        t0 = time.monotonic()
        submit(bed, "boss@example.test", "ann@example.test", "hello %d" % i, "ping")
        t1 = wait_new(ann, before)
        if t1 is not None:
            ref.append(t1 - t0)
    daemon = subprocess.Popen([bed.bin("mentord"), "-c", cfg], stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(bed.work, "latency.log"), "w"))
    time.sleep(2)  # connected and idling
    lat, lost = [], 0
    try:
        for i in range(1, count + 1):
            user = "user%d" % i
            md = bed.maildir(user)
            before = maildir_files(md)
            t0 = time.monotonic()
            submit(bed, "%s@example.test" % user, "mentors@example.test", "join",
                   "Hello, I would like a mentor.")
            t1 = wait_new(md, before)
            if t1 is None:
                lost += 1
            else:
                lat.append(t1 - t0)
    finally:
        daemon.terminate()
        daemon.wait()
    return {"p50": percentile(lat, 50), "p99": percentile(lat, 99), "lost": lost,
            "ref_p50": percentile(ref, 50), "ref_p99": percentile(ref, 99)}


# ---- memory ----

def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        text = f.read()
    rss = int(re.search(r"VmRSS:\s+(\d+)", text).group(1))
    hwm = int(re.search(r"VmHWM:\s+(\d+)", text).group(1))
    return rss, hwm


def idle_rss(bed, cfg, settle=3):
    p = subprocess.Popen([bed.bin("mentord"), "-c", cfg], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(settle)
    try:
        return rss_kb(p.pid)
    finally:
        p.terminate()
        p.wait()


def add_members(db, n):
    con = sqlite3.connect(db)
    now = int(time.time())
    with con:
        con.executemany(
            "INSERT INTO members (address, name, role, state, profile, created, updated) "
            "VALUES (?, ?, ?, 'active', ?, ?, ?)",
            (("member%d@example.org" % i, "Member %d" % i, "mentor" if i % 5 == 0 else "newcomer",
              "Skills: python, c\nLanguages: English\nTime zone: Europe/Madrid", now, now)
             for i in range(n)))
    con.close()


def queued(db):
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM outbox WHERE status = 'queued'").fetchone()[0]
    finally:
        con.close()


def bench_memory(bed, n, members):
    out = {}
    bed.reset()
    cfg, db = bed.config("memory", bed.sink_port)
    out["empty"] = idle_rss(bed, cfg)
    add_members(db, members)
    out["members"] = idle_rss(bed, cfg)
    bed.fill(n)
    p = subprocess.Popen([bed.bin("mentord"), "-c", cfg], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    peak = 0
    try:
        deadline = time.monotonic() + 1800
        # Idle means: the INBOX processed and the replies sent (the drain of N
        # replies still runs for a few seconds after the INBOX is empty).
        while ((bed.inbox_count() > 0 or queued(db) > 0)
               and time.monotonic() < deadline):
            peak = max(peak, rss_kb(p.pid)[0])
            time.sleep(0.5)
        time.sleep(3)
        out["after"] = rss_kb(p.pid)
        out["peak_sampled"] = peak
    finally:
        p.terminate()
        p.wait()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--members", type=int, default=100000)
    ap.add_argument("--mem-n", type=int, default=0, help="mails for the memory figure (default --n)")
    ap.add_argument("--only", default="ingest,send,latency,memory")
    a = ap.parse_args()
    only = a.only.split(",")
    bed = Bed(a.build)
    res = {}
    try:
        if "ingest" in only:
            res["ingest"] = bench_ingest(bed, a.n, a.repeat)
        if "breakdown" in only:
            res["breakdown"] = bench_breakdown(bed, a.n)
        if "send" in only:
            res["sink"] = bench_send_to(bed, "sink", bed.sink_port, "somebody@example.org", a.n,
                                        a.repeat)
            res["postfix"] = bench_send_to(bed, "postfix", int(bed.env["TB_SMTP_PORT"]),
                                           "ann@example.test", a.n, a.repeat)
        if "latency" in only:
            res["latency"] = bench_latency(bed, LAT_USERS)
        if "memory" in only:
            res["memory"] = bench_memory(bed, a.mem_n or a.n, a.members)
    finally:
        bed.stop()
    report(res, a)


def report(res, a):
    lines = ["| figure | mentord | reference | ratio | target | met |",
             "|---|---|---|---|---|---|"]

    def row(fig, m, ref, target, ok, unit="/s"):
        lines.append("| %s | %.0f%s | %s | %s | %s | %s |"
                     % (fig, m, unit, ref, "%.3f" % (m / float(ref.split()[0].rstrip("/s")))
                        if ref[0].isdigit() else "-", target, "yes" if ok else "**no**"))

    if "ingest" in res:
        r = res["ingest"]
        row("ingest (N=%d)" % a.n, r["mentord"], "%.0f/s plain libetpan fetch" % r["fetch"],
            ">= 0.7", r["mentord"] >= 0.7 * r["fetch"])
        row("ingest (N=%d)" % a.n, r["mentord"], "%.0f/s fetchmail" % r["fetchmail"],
            "> 1", r["mentord"] > r["fetchmail"])
    for label in ("sink", "postfix"):
        if label in res:
            r = res[label]
            name = "smtp-sink" if label == "sink" else "Postfix"
            row("send to %s, 1 session (default)" % name, r["mentord1"],
                "%.0f/s libcurl, 1 connection" % r["curl"], ">= 0.8",
                r["mentord1"] >= 0.8 * r["curl"])
            row("send to %s, 4 sessions" % name, r["mentord"],
                "%.0f/s libcurl, 1 connection" % r["curl"], ">= 0.8",
                r["mentord"] >= 0.8 * r["curl"])
            row("send to %s, 4 sessions" % name, r["mentord"],
                "%.0f/s smtp-source -s 1" % r["source1"], ">= 1 (with parallel sessions)",
                r["mentord"] >= r["source1"])
            row("send to %s, 4 sessions" % name, r["mentord"],
                "%.0f/s smtp-source -s 4" % r["source4"], "(information)", True)
    if "latency" in res:
        r = res["latency"]
        lines.append("| latency p50 | %.3f s | %.3f s plain delivery p50 | - | < 0.8 s | %s |"
                     % (r["p50"], r["ref_p50"], "yes" if r["p50"] < 0.8 else "**no**"))
        lines.append("| latency p99 | %.3f s | %.3f s plain delivery p99 | - | < 2 s | %s |"
                     % (r["p99"], r["ref_p99"], "yes" if r["p99"] < 2 else "**no**"))
        if r["lost"]:
            lines.append("| latency: confirmations not seen within 20 s | %d | | | 0 | **no** |"
                         % r["lost"])
    if "memory" in res:
        r = res["memory"]
        for key, what in (("empty", "idle, empty store"),
                          ("members", "idle, %d members" % a.members),
                          ("after", "idle after %d processed mails" % (a.mem_n or a.n))):
            rss, hwm = r[key]
            lines.append("| RSS %s | %.1f MB (peak %.1f MB) | - | - | < 16 MB | %s |"
                         % (what, rss / 1024.0, hwm / 1024.0, "yes" if rss < 16384 else "**no**"))
    if "breakdown" in res:
        lines.append("")
        lines.append("| ingest breakdown (N=%d) | seconds | ms per mail |" % a.n)
        lines.append("|---|---|---|")
        for k, v in res["breakdown"].items():
            lines.append("| %s | %.2f | %.2f |" % (k, v, 1000 * v / a.n))
    text = "\n".join(lines)
    print(text)
    out = os.path.join(a.build, "bench", "mail-results.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
