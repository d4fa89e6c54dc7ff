#!/usr/bin/env python3
"""End-to-end tests of running mentord as an administrator does.

Failed mail keeps its sender and Message-ID and `mentorctl retry` puts it
back; an installation problem found while the daemon runs stops the intake
and tells the managers once; `mentorctl backup` while the daemon runs,
`restore` refused under it and working without; `export ADDRESS`; private
database files under umask 022; sd_notify READY/WATCHDOG/STOPPING; journald's
priority prefixes.  Run through tests/e2e/run.sh, or by hand with
TESTBED_ENV, MENTORD_BIN and MENTORCTL_BIN set:

    python3 tests/e2e/test_ops.py [test_name ...]

Ends with exactly one line "e2e-ops: N passed, N failed".
"""

import json
import os
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailbed as mb  # noqa: E402
from test_e2e import run_suite  # noqa: E402

# A fault only this member's mail meets: the database refuses to add them.
FAULT = ("CREATE TRIGGER refuse_ann BEFORE INSERT ON members"
         " WHEN NEW.address = 'ann@example.test'"
         " BEGIN SELECT RAISE(ABORT, 'injected fault'); END")


class Ops(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        mb.reset()
        self.tmp = tempfile.mkdtemp(prefix="mentord-ops-")
        self.config = mb.write_config(os.path.join(self.tmp, "mentord.ini"))
        self.db = mb.db_path(self.config)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            mb.stop_mentord(p, signal.SIGKILL, timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- helpers ----

    def once(self, expect_rc=0):
        rc, out, err = mb.run_mentord(self.config, "--once")
        self.assertIsNone(mb.sanitizer_report(err), err)
        if expect_rc is not None:
            self.assertEqual(rc, expect_rc, "mentord --once exited %d:\n%s" % (rc, err[-3000:]))
        return err

    def ctl(self, *args, expect_rc=0):
        rc, out, err = mb.run_mentorctl(self.config, *args)
        self.assertIsNone(mb.sanitizer_report(err), err)
        if expect_rc is not None:
            self.assertEqual(rc, expect_rc, "mentorctl %s exited %d:\n%s%s"
                             % (" ".join(args), rc, out, err))
        return out, err

    def start(self, env=None):
        proc = mb.start_mentord(self.config, env=env)
        self.procs.append(proc)
        self.assertTrue(mb.wait_log(proc, r"waiting up to", timeout=15),
                        "mentord did not start:\n" + mb.daemon_log(proc)[-3000:])
        return proc

    def stop(self, proc):
        rc = mb.stop_mentord(proc, signal.SIGTERM, timeout=10)
        log = mb.daemon_log(proc)
        self.assertIsNone(mb.sanitizer_report(log), log)
        self.assertEqual(rc, 0, log[-3000:])

    def assert_no_mail(self, user):
        time.sleep(0.5)
        self.assertEqual(self.subjects(user), [])

    def subjects(self, user):
        return [str(m["Subject"]) for m in mb.mailbox(user)]

    def wait_subject(self, user, words, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(words in s for s in self.subjects(user)):
                return
            time.sleep(0.2)
        self.fail("%s got no mail with '%s': %s" % (user, words, self.subjects(user)))

    # ---- failed mail and retry ----

    def test_failed_mail_keeps_sender_and_message_id_and_retry_puts_it_back(self):
        mb.write_config(self.config, imap__max_attempts="3")
        self.once()  # creates the database
        mb.sqlite(self.db, FAULT)
        mid = mb.send("ann", "mentors", "join", "Hi, I'd like a mentor")
        mb.send("cat", "mentors", "help", "")
        for _ in range(3):
            self.once(expect_rc=None)
        rows = mb.sqlite(self.db, "SELECT id, outcome, sender, message_id, attempts, detail"
                         " FROM messages WHERE outcome IN ('failed', 'retry')")
        self.assertEqual(len(rows), 1, rows)
        rid, outcome, sender, message_id, attempts, detail = rows[0]
        self.assertEqual((outcome, sender, attempts), ("failed", "ann@example.test", 3))
        self.assertEqual(message_id.strip("<>"), mid.strip("<>"))
        self.assertIn("injected fault", detail)
        self.wait_subject("cat", "How")  # the mail behind it was not held up
        self.assertEqual(mb.count("mentors"), 0)
        self.wait_subject("boss", "set a mail aside")
        [notice] = mb.mailbox("boss")
        self.assertIn("ann@example.test", mb.body_text(notice))
        self.assertIn(mid.strip("<>"), mb.body_text(notice))
        self.assertIn("mentorctl retry", mb.body_text(notice))
        out, _ = self.ctl("retry")
        self.assertIn("ann@example.test", out)
        self.assertIn(mid.strip("<>"), out)
        mb.sqlite(self.db, "DROP TRIGGER refuse_ann")
        out, _ = self.ctl("retry", "all")
        self.assertIn("1 message(s) back", out)
        self.assertEqual(mb.count("mentors"), 1)
        self.once()
        self.wait_subject("ann", "Please confirm")
        self.assertEqual(mb.sqlite(self.db, "SELECT outcome FROM messages WHERE id = ?", (rid,)),
                         [("retried",)])
        out, err = self.ctl("retry", "all", expect_rc=3)
        self.assertIn("no failed mail", err)

    def test_retry_when_mail_is_flagged_in_place(self):
        # No processed mailbox: handled mail stays in the inbox, flagged; a
        # message put back keeps its UID and is decided afresh all the same.
        mb.write_config(self.config, imap__max_attempts="2", imap__processed_mailbox="")
        self.once()
        mb.sqlite(self.db, FAULT)
        mb.send("ann", "mentors", "join", "Hi")
        for _ in range(2):
            self.once(expect_rc=None)
        self.assertEqual(mb.sqlite(self.db, "SELECT outcome FROM messages"), [("failed",)])
        self.once()
        self.assert_no_mail("ann")
        mb.sqlite(self.db, "DROP TRIGGER refuse_ann")
        out, _ = self.ctl("retry", "ann@example.test")
        self.assertIn("1 message(s) back", out)
        self.once()
        self.wait_subject("ann", "Please confirm")
        self.assertEqual(mb.count("mentors"), 1)  # still there, flagged done
        self.once()
        self.assertEqual(len(mb.mailbox("ann")), 1, "answered twice")

    def test_template_lost_while_running_stops_intake_managers_told_once(self):
        tdir = os.path.join(self.tmp, "templates")
        shutil.copytree(os.path.join(mb.REPO, "templates"), tdir)
        mb.write_config(self.config, templates__dir=tdir, imap__poll_interval="1")
        proc = self.start()
        os.rename(os.path.join(tdir, "en", "confirm-join.txt"), os.path.join(self.tmp, "saved"))
        mb.send("ann", "mentors", "join", "Hi")
        self.wait_subject("boss", "stopped taking mail")
        time.sleep(3)  # several more checks while it stays broken
        self.assertEqual(mb.count("mentors"), 1, "the mail left the inbox")
        self.assertEqual(len(mb.mailbox("boss")), 1, "the managers were told more than once")
        self.assertEqual(mb.sqlite(self.db, "SELECT count(*) FROM messages"), [(0,)])
        os.rename(os.path.join(self.tmp, "saved"), os.path.join(tdir, "en", "confirm-join.txt"))
        proc.send_signal(signal.SIGHUP)
        self.wait_subject("ann", "Please confirm")
        self.assertTrue(mb.wait_log(proc, r"installation problem fixed", timeout=5))
        self.stop(proc)

    def test_unreadable_templates_folder_is_an_installation_problem(self):
        if os.geteuid() == 0:
            # root reads any folder; a folder that is not there stands in for it.
            tdir = os.path.join(self.tmp, "no-such-folder")
        else:
            tdir = os.path.join(self.tmp, "templates")
            shutil.copytree(os.path.join(mb.REPO, "templates"), tdir)
            os.chmod(tdir, 0)
        mb.write_config(self.config, templates__dir=tdir)
        rc, out, err = mb.run_mentord(self.config, "--check-config")
        self.assertEqual(rc, 1, out)
        self.assertIn("templates folder", err)
        mb.send("ann", "mentors", "join", "Hi")
        err = self.once(expect_rc=1)
        self.assertIn("not taking mail", err)
        self.assertEqual(mb.count("mentors"), 1)

    # ---- backup, restore, export ----

    def test_backup_while_running_restore_when_stopped(self):
        proc = self.start()
        mb.send("ann", "mentors", "join", "Hi")
        self.wait_subject("ann", "Please confirm")
        backup = os.path.join(self.tmp, "backup.db")
        old = os.umask(0o022)
        try:
            out, _ = self.ctl("backup", backup)
        finally:
            os.umask(old)
        self.assertEqual(stat.S_IMODE(os.stat(backup).st_mode), 0o600)
        self.assertEqual(mb.sqlite(backup, "SELECT address FROM members"), [("ann@example.test",)])
        self.assertEqual(mb.sqlite(backup, "PRAGMA integrity_check"), [("ok",)])
        out, err = self.ctl("restore", backup, expect_rc=1)
        self.assertIn("running", err)
        self.stop(proc)
        mb.send("bob", "mentors", "join", "Hi")
        self.once()
        self.assertEqual(len(mb.sqlite(self.db, "SELECT 1 FROM members")), 2)
        out, _ = self.ctl("restore", backup)
        self.assertEqual(mb.sqlite(self.db, "SELECT address FROM members"),
                         [("ann@example.test",)])
        kept = self.db + ".before-restore"
        self.assertEqual(len(mb.sqlite(kept, "SELECT 1 FROM members")), 2)
        self.assertEqual(stat.S_IMODE(os.stat(kept).st_mode), 0o600)
        junk = os.path.join(self.tmp, "junk.db")
        with open(junk, "w") as f:
            f.write("not a database\n")
        out, err = self.ctl("restore", junk, expect_rc=1)
        self.assertEqual(mb.sqlite(self.db, "SELECT address FROM members"),
                         [("ann@example.test",)])

    def test_export_person_as_json(self):
        mid = mb.send("ann", "mentors", "join", "Hi, I'd like a mentor")
        self.once()
        self.wait_subject("ann", "Please confirm")
        out, _ = self.ctl("export", "ann@example.test")
        data = json.loads(out)
        self.assertEqual(data["address"], "ann@example.test")
        self.assertTrue(data["is_member"])
        self.assertEqual(data["member"][0]["address"], "ann@example.test")
        self.assertEqual([m["message_id"].strip("<>") for m in data["mail_received"]],
                         [mid.strip("<>")])
        self.assertEqual(len(data["mail_sent"]), 1)
        self.assertIn("Please confirm", data["mail_sent"][0]["headers"])
        self.assertEqual(len(data["confirmations"]), 1)
        self.assertNotIn("token", data["confirmations"][0])
        out, _ = self.ctl("export", "nobody@example.test")
        data = json.loads(out)
        self.assertFalse(data["is_member"])
        self.assertEqual(data["mail_received"], [])

    def test_two_communities_on_one_host(self):
        # As mentord@rust and mentord@garden run them: one daemon per
        # configuration, each with its own mailbox, managers and database.
        garden_dir = os.path.join(self.tmp, "garden")
        os.mkdir(garden_dir)
        garden = mb.write_config(os.path.join(garden_dir, "garden.ini"),
                                 community__name="Community Garden",
                                 community__address=mb.addr("dan"),
                                 community__managers=mb.addr("eve"),
                                 imap__user=mb.addr("dan"), smtp__user=mb.addr("dan"))
        rust = self.start()
        proc = mb.start_mentord(garden)
        self.procs.append(proc)
        self.assertTrue(mb.wait_log(proc, r"waiting up to", timeout=15), mb.daemon_log(proc))
        mb.send("ann", "mentors", "join", "Hi")
        mb.send("bob", "dan", "join", "Hi")
        self.wait_subject("ann", "Example Community")
        self.wait_subject("bob", "Community Garden")
        self.assertEqual(mb.sqlite(self.db, "SELECT address FROM members"),
                         [("ann@example.test",)])
        self.assertEqual(mb.sqlite(mb.db_path(garden), "SELECT address FROM members"),
                         [("bob@example.test",)])
        for p in (rust, proc):
            self.stop(p)

    # ---- files, systemd, journald ----

    def test_database_private_under_umask_022(self):
        old = os.umask(0o022)
        try:
            mb.send("ann", "mentors", "join", "Hi")
            self.once()
            for suffix in ("", "-wal", "-shm"):
                path = self.db + suffix
                if os.path.exists(path):
                    self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, path)
            # A database an older version left readable by all: others lose access,
            # the group keeps what it had.
            os.chmod(self.db, 0o644)
            self.once()
            self.assertEqual(stat.S_IMODE(os.stat(self.db).st_mode), 0o640)
        finally:
            os.umask(old)

    def test_sd_notify_ready_watchdog_stopping(self):
        path = os.path.join(self.tmp, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(10)
        try:
            proc = self.start(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
            got = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any("WATCHDOG=1" in g for g in got):
                got.append(sock.recv(4096).decode())
            self.assertTrue(any("READY=1" in g for g in got), got)
            self.assertTrue(any("WATCHDOG=1" in g for g in got), got)
            proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any("STOPPING=1" in g for g in got):
                got.append(sock.recv(4096).decode())
            self.assertTrue(any("STOPPING=1" in g for g in got), got)
            self.stop(proc)
        finally:
            sock.close()

    def test_journal_stream_priority_prefixes(self):
        log = os.path.join(self.tmp, "journal.log")
        open(log, "wb").close()
        st = os.stat(log)
        proc = mb.start_mentord(self.config, log=log,
                                env={"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)})
        self.procs.append(proc)
        self.assertTrue(mb.wait_log(proc, r"waiting up to", timeout=15), mb.daemon_log(proc))
        self.stop(proc)
        # "mentord: ..." lines come before the logger exists (the sanitizer build
        # cannot limit malloc arenas, and says so).
        lines = [line for line in mb.daemon_log(proc).splitlines()
                 if line and not line.startswith("mentord: ")]
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[3-7]>(ERROR|WARN|INFO|DEBUG) ")


def main(argv):
    return run_suite(Ops, unittest.TestLoader().getTestCaseNames(Ops), argv[1:], "e2e-ops")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
