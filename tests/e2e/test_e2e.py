#!/usr/bin/env python3
"""End-to-end tests of mentord against the real mail test-bed.

Run through tests/e2e/run.sh (which starts the test-bed and sets TESTBED_ENV,
MENTORD_BIN and MENTORCTL_BIN), or by hand with those set:

    python3 tests/e2e/test_e2e.py [test_name ...]

Prints one PASS/FAIL line per test (with the reason of a failure) and ends with
exactly one line "e2e: N passed, N failed".  Exit status 1 when any failed.
Each test empties every mailbox first and uses its own temp folder and database.
"""

import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import unittest
from email.utils import getaddresses, parseaddr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailbed as mb  # noqa: E402

QUIET = 0.5  # seconds to wait when asserting that nothing arrives

# The shared corpus of real-world mail, beside the project's root (may be absent).
CORPUS = os.path.join(os.path.dirname(mb.REPO), "shared", "corpus")
# Plain spam from people's addresses in the bounces folder: nothing automatic about
# it and no spam filter's verdict, so it is answered like any person's mail.
SPAM_FROM_PEOPLE = {"mdbp-spam-bogus-email-in-report.msg", "mdbp-spam-lots-of-bogus-addresses.msg",
                    "mdbp-spam-with-image.msg", "mdbp-spam-with-badly-parsed-email.msg"}


def header_block(raw):
    """The raw header block of a message, unfolded lines as bytes."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    return re.sub(rb"\r?\n[ \t]", b" ", head).split(b"\n")


class E2E(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        # A test that stopped a server and failed half-way must not break the next.
        for cmd in ("start-smtp", "start-imap"):
            if not self._running(cmd):
                mb.testbed(cmd)
        mb.reset()
        self.tmp = tempfile.mkdtemp(prefix="mentord-e2e-")
        self.config = mb.write_config(os.path.join(self.tmp, "mentord.ini"))
        self.db = mb.db_path(self.config)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            mb.stop_mentord(p, signal.SIGKILL, timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)

    @staticmethod
    def _running(cmd):
        pidfile = {"start-smtp": "spool/pid/master.pid", "start-imap": "run/master.pid"}[cmd]
        try:
            with open(os.path.join(mb.env()["TB_DIR"], pidfile)) as f:
                pid = int(f.read().strip())
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except (OSError, ValueError, IndexError):
            return False

    # ---- helpers ----

    def once(self, *args, env=None, expect_rc=0):
        rc, out, err = mb.run_mentord(self.config, "--once", *args, env=env)
        self.no_sanitizer_report(err)
        if expect_rc is not None:
            self.assertEqual(rc, expect_rc, "mentord --once %s exited %d; stderr:\n%s"
                             % (" ".join(args), rc, err[-3000:]))
        return rc, out, err

    def start_daemon(self, env=None):
        proc = mb.start_mentord(self.config, env=env)
        self.procs.append(proc)
        # It logs at debug level before waiting on IDLE; a second is enough otherwise.
        if not mb.wait_log(proc, r"(?i)waiting|idle", timeout=5):
            self.assertIsNone(proc.poll(), "mentord exited early:\n" + mb.daemon_log(proc))
            time.sleep(1)
        return proc

    def no_sanitizer_report(self, text):
        report = mb.sanitizer_report(text)
        self.assertIsNone(report, "sanitizer report from mentord: %s" % report)

    def stop(self, proc, sig=signal.SIGTERM):
        """Stop the daemon; asserts it exits 0 within 5 s without a sanitizer report."""
        t0 = time.monotonic()
        rc = mb.stop_mentord(proc, sig, timeout=5)
        log = mb.daemon_log(proc)
        self.no_sanitizer_report(log)
        self.assertEqual(rc, 0, "%s: exit %r after %.1f s; log:\n%s"
                         % (sig.name, rc, time.monotonic() - t0, log[-3000:]))

    def assert_nothing_for(self, user, folder="INBOX"):
        time.sleep(QUIET)
        got = mb.mailbox(user, folder)
        self.assertEqual(got, [], "%s got mail it should not: %s"
                         % (user, [m["Subject"] for m in got]))

    def one_reply(self, user, timeout=10):
        msgs = mb.wait_for(user, 1, timeout=timeout)
        time.sleep(0.2)  # a duplicate would arrive right behind the first
        msgs = mb.mailbox(user)
        self.assertEqual(len(msgs), 1, "%s has %d mails, wanted exactly 1: %s"
                         % (user, len(msgs), [m["Subject"] for m in msgs]))
        return msgs[0]

    def confirm(self, user, request, client="threaded"):
        """Answer the confirmation request mail as a person would; returns the welcome."""
        subject = str(request["Subject"])
        self.assertRegex(subject, r"\[ref [a-z0-9]{14}\]")
        if client == "threaded":
            # a plain reply: In-Reply-To, References, "Re:" subject, quoted text
            headers = {"In-Reply-To": str(request["Message-ID"]),
                       "References": str(request["Message-ID"])}
            body = "Yes, that was me.\n\n> " + mb.body_text(request).replace("\n", "\n> ")
            mb.send(user, "mentors", "Re: " + subject, body, headers=headers)
        else:
            # a client that drops threading headers and the subject
            token = re.search(r"\[ref ([a-z0-9]{14})\]", subject).group(1)
            mb.send(user, "mentors", "", "confirm " + token)
        before = mb.count(user)
        self.once()
        msgs = mb.wait_for(user, before + 1)
        return msgs[before]

    def state(self, user):
        rows = mb.sqlite(self.db, "SELECT state FROM members WHERE address = ? COLLATE NOCASE",
                         (mb.addr(user),))
        return rows[0][0] if rows else None

    def role(self, user):
        rows = mb.sqlite(self.db, "SELECT role FROM members WHERE address = ? COLLATE NOCASE",
                         (mb.addr(user),))
        return rows[0][0] if rows else None

    def outcomes(self):
        if not os.path.exists(self.db):
            return []
        return [r[0] for r in mb.sqlite(self.db, "SELECT outcome FROM messages")]

    # ---- CLI ----

    def test_check_config(self):
        rc, out, err = mb.run_mentord(self.config, "--check-config")
        self.no_sanitizer_report(err)
        self.assertEqual(rc, 0, err)
        self.assertIn("[imap]", out)
        self.assertIn("********", out)
        self.assertNotIn(mb.env()["TB_PASSWORD"] + "\n", out, "password printed")
        self.assertIn("Example Community", out)

        bad = mb.write_config(os.path.join(self.tmp, "bad.ini"), imap__port="not-a-port")
        with open(bad) as f:
            line = next(i for i, l in enumerate(f, 1) if l.startswith("port = not-a-port"))
        rc, out, err = mb.run_mentord(bad, "--check-config")
        self.no_sanitizer_report(err)
        self.assertEqual(rc, 1, "bad config accepted; stdout:\n" + out)
        self.assertIn("%s:%d:" % (bad, line), err)

    # ---- plain words (what people write, in their own language) ----

    def reply_to(self, user, mail, body):
        """A threaded reply to mentord's mail, as a mail client writes it (quote below)."""
        headers = {"In-Reply-To": str(mail["Message-ID"]), "References": str(mail["Message-ID"])}
        quoted = "\n".join("> " + line for line in mb.body_text(mail).splitlines())
        mb.send(user, "mentors", "Re: " + str(mail["Subject"]), body + "\n\n" + quoted,
                headers=headers)

    def member(self, user, subject="JOIN", body=""):
        """user asks (subject, body) and confirms; returns once they are active."""
        before = mb.count(user)
        mb.send(user, "mentors", subject, body)
        self.once()
        ask = mb.wait_for(user, before + 1)[before]
        self.confirm(user, ask)
        self.assertEqual(self.state(user), "active", user)

    def test_plain_sentence_join(self):
        mb.send("ann", "mentors", "Hello", "Hi there,\n\nI'd like to join the mentoring "
                "programme. I'm learning Python.\n\nThanks,\nAnn")
        self.once()
        r = self.one_reply("ann")
        self.assertIn("Please confirm your Example Community mentoring request", str(r["Subject"]))
        self.assertEqual((self.role("ann"), self.state("ann")), ("newcomer", "pending"))

    def test_plain_sentence_join_spanish_html_only(self):
        html = ("<html><body><p>Hola,</p><p>quiero unirme al programa: me gustar&iacute;a "
                "tener un mentor que me ayude con JavaScript.</p><p>Gracias,<br>Vale</p>"
                "</body></html>")
        raw = ("From: %s\nTo: %s\nSubject: =?utf-8?q?Quiero_participar?=\n"
               "Message-ID: <es-html-1@example.test>\nDate: Mon, 2 Mar 2026 10:00:00 +0100\n"
               "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n"
               "Content-Transfer-Encoding: 8bit\n\n%s\n" % (mb.addr("eve"), mb.addr("mentors"),
                                                               html))
        mb.send("eve", "mentors", raw=raw)
        self.once()
        r = self.one_reply("eve")
        # Answered in her language (the Spanish confirmation of a join).
        self.assertIn("Confirma tu solicitud de mentoría en Example Community", str(r["Subject"]))
        self.assertEqual(self.role("eve"), "newcomer")

    def test_plain_sentence_skills(self):
        # Skills told in a sentence, in Spanish, are kept under their English names with the
        # request, and stay with the member once confirmed.
        mb.send("dan", "mentors", "Hola", "Hola, quiero un mentor. Soy enfermera y me gustaría "
                "aprender Excel y contabilidad para abrir mi consulta.\n\nGracias,\nDana")
        self.once()
        self.confirm("dan", self.one_reply("dan"))
        self.assertEqual((self.role("dan"), self.state("dan")), ("newcomer", "active"))
        profile = self.stored_profile("dan").lower()
        for skill in ("nursing", "excel", "accounting"):
            self.assertIn(skill, profile)

    def test_plain_sentence_leave(self):
        self.member("ann")
        before = mb.count("ann")
        mb.send("ann", "mentors", "hello", "please take me off the list, thank you!")
        self.once()
        r = mb.wait_for("ann", before + 1)[before]
        self.assertIn("Please confirm that you want to leave", str(r["Subject"]))
        self.assertEqual(self.state("ann"), "active", "left before confirming")

    def test_unclear_role_asks_one_question(self):
        mb.send("cat", "mentors", "mentoring", "Hi, I'm interested in the mentoring programme. "
                "How do I join?\n\nSkills: Python, git\nLanguages: English, Tagalog\n\nCat")
        self.once()
        q = self.one_reply("cat")
        self.assertIn("Would you like a mentor, or to be a mentor?", str(q["Subject"]))
        body = mb.body_text(q)
        self.assertIn("Reply 1 or 2", body)
        # An address that confirmed nothing gets no text it wrote back (no relay for
        # strangers), but the profile is kept with the pending request.
        self.assertNotIn("python", body.lower())
        self.assertIn("python", self.stored_profile("cat").lower())
        self.reply_to("cat", q, "2")
        self.once()
        msgs = mb.wait_for("cat", 2)
        r = msgs[1]
        self.assertIn("Please confirm your offer to mentor", str(r["Subject"]))
        self.assertNotIn("python", mb.body_text(r).lower())
        self.assertIn("python", self.stored_profile("cat").lower())
        self.assertEqual(self.role("cat"), "mentor")
        welcome = self.confirm("cat", r)
        self.assertIn("as a mentor for Example Community", mb.body_text(welcome))
        profile = mb.sqlite(self.db, "SELECT profile FROM members WHERE address = ?",
                            (mb.addr("cat"),))[0][0]
        self.assertIn("python", profile.lower())
        self.assertIn("english", profile.lower())

    def stored_profile(self, user):
        rows = mb.sqlite(self.db, "SELECT profile FROM members WHERE address = ?",
                         (mb.addr(user),))
        return (rows[0][0] or "") if rows else ""

    def test_sure_happy_to_starts_the_pair(self):
        # the night is later today: the proposal leaves at once, whatever the hour of the run
        hour = time.gmtime().tm_hour
        self.config = mb.write_config(self.config, lifecycle__quiet_start=str((hour + 3) % 24),
                                      lifecycle__quiet_end=str((hour + 5) % 24))
        self.member("bob", "MENTOR", "Skills: python\nLanguages: English\nTime zone: UTC\n"
                    "Capacity: 2")
        mb.send("ann", "mentors", "JOIN", "Skills: python\nLanguages: English\nTime zone: UTC")
        self.once()
        self.confirm("ann", mb.wait_for("ann", 1)[0])
        # the round runs with the daemon's pass (or now, by hand): bob is asked
        rc, out, err = mb.run_mentorctl(self.config, "match", "--now")
        self.assertEqual(rc, 0, err)
        self.once()
        proposal = None
        for _ in range(50):
            proposal = next((m for m in mb.mailbox("bob")
                             if str(m["Subject"]).startswith("Would you mentor")), None)
            if proposal is not None:
                break
            time.sleep(0.2)
        self.assertIsNotNone(proposal, "no proposal reached bob")
        before = mb.count("bob")
        self.reply_to("bob", proposal, "Sure, happy to!")
        self.once()
        mails = mb.wait_for("bob", before + 1)
        # The introduction answers the ACCEPT (no separate thank-you).  Neither gave a
        # name: they are not called by their addresses.
        self.assertTrue(any("mentoring: an introduction" in str(m["Subject"])
                            for m in mails[before:]),
                        [str(m["Subject"]) for m in mails[before:]])
        intro = next(m for m in mails[before:] if "introduction" in str(m["Subject"]))
        self.assertIn("<%s>" % mb.addr("ann"), mb.body_text(intro))
        self.assertNotRegex(mb.body_text(intro), r"(?i)(meet|hello) \S+@")
        rows = mb.sqlite(self.db, "SELECT state FROM pairs")
        self.assertEqual(rows, [("active",)])

    # ---- the basic loop ----

    def test_join(self):
        mid = mb.send("ann", "mentors", "join", "Hi, I'd like a mentor")
        self.once()
        r = self.one_reply("ann")
        name, address = parseaddr(str(r["From"]))
        self.assertEqual((name, address), ("Example Community", "mentors@example.test"))
        self.assertEqual([a for _, a in getaddresses([str(r["To"])])], ["ann@example.test"])
        self.assertIn("Please confirm your Example Community mentoring request",
                      str(r["Subject"]))
        self.assertIn("reply to this message", mb.body_text(r))
        for h in ("Date", "Message-ID", "MIME-Version"):
            self.assertIsNotNone(r[h], "reply has no %s header" % h)
        self.assertRegex(str(r["Message-ID"]), r"^<[^<>@\s]+@example\.test>$")
        self.assertEqual(r.get_content_type(), "text/plain")
        self.assertEqual((r.get_content_charset() or "").lower(), "utf-8")
        self.assertEqual(str(r["Auto-Submitted"]).strip(), "auto-replied")
        self.assertEqual(str(r["In-Reply-To"]).strip(), mid)
        self.assertIn(mid, str(r["References"]))
        self.assertIsNotNone(r["List-Id"], "no List-Id")
        self.assertIn("mailto:", str(r["List-Unsubscribe"]))
        self.assertEqual(mb.count("mentors"), 0, "original still in INBOX")
        processed = mb.mailbox("mentors", "Processed")
        self.assertEqual([str(m["Message-ID"]) for m in processed], [mid])
        self.assertEqual((self.role("ann"), self.state("ann")), ("newcomer", "pending"))
        welcome = self.confirm("ann", r)
        self.assertIn("Welcome", str(welcome["Subject"]))
        self.assertIn("recorded you as a newcomer", mb.body_text(welcome))
        self.assertEqual((self.role("ann"), self.state("ann")), ("newcomer", "active"))

    def test_join_variants(self):
        mb.send("ann", "mentors", "Re: JOIN", "please")
        mb.send("dan", "mentors", "fwd: Join please", "forwarded from a friend")
        mb.send("eve", "mentors", "hello there", "JOIN\n\nI heard about you at the meetup.")
        self.once()
        for user in ("ann", "dan", "eve"):
            r = self.one_reply(user)
            self.assertIn("Please confirm", str(r["Subject"]), user)
            self.assertEqual(self.role(user), "newcomer", user)
        # eve's client drops the threading headers and the subject
        self.assertIn("Welcome", str(self.confirm("eve", r, client="bare")["Subject"]))
        self.assertEqual(self.state("eve"), "active")
        self.assertEqual(self.state("ann"), "pending")

    def test_volunteer(self):
        mb.send("bob", "mentors", "volunteer", "I'd be glad to help.")
        mb.send("dan", "mentors", "MENTOR", "")
        self.once()
        for user in ("bob", "dan"):
            r = self.one_reply(user)
            self.assertIn("offer to mentor", str(r["Subject"]), user)
            self.assertEqual(self.role(user), "mentor", user)
            welcome = self.confirm(user, r)
            self.assertIn("as a mentor for Example Community", mb.body_text(welcome), user)
            self.assertEqual(self.state(user), "active", user)

    def test_help(self):
        mb.send("cat", "mentors", "what is this?", "I got this address from a friend.")
        self.once()
        body = mb.body_text(self.one_reply("cat"))
        self.assertIn("JOIN", body)
        self.assertIn("MENTOR", body)
        self.assertIsNone(self.role("cat"), "a question made cat a member")

    def test_only_quoted_mail_is_told_so(self):
        # cat answers mentord's help mail without writing anything: a phone's
        # "reply" sends only the quote, which names JOIN and MENTOR.
        mb.send("cat", "mentors", "what is this?", "I got this address from a friend.")
        self.once()
        first = self.one_reply("cat")
        quoted = "\n".join("> " + line for line in mb.body_text(first).splitlines())
        mb.send("cat", "mentors", "Re: " + str(first["Subject"]),
                "On Mon, 2 Mar 2026 at 09:15, Mentors <mentors@example.test> wrote:\n" + quoted,
                headers={"In-Reply-To": str(first["Message-ID"])})
        self.once()
        msgs = mb.wait_for("cat", 2)
        self.assertEqual(len(msgs), 2)
        body = mb.body_text(msgs[1])
        self.assertIn("quoted or forwarded from another message", body)
        self.assertNotIn("quoted or forwarded", mb.body_text(first))
        self.assertIsNone(self.role("cat"), "a quoted JOIN made cat a member")

    def test_second_run_sends_nothing(self):
        mb.send("ann", "mentors", "join", "Hi")
        mb.send("bob", "mentors", "volunteer", "Hi")
        self.once()
        mb.wait_for("ann", 1)
        mb.wait_for("bob", 1)
        rows = mb.sqlite(self.db, "SELECT count(*) FROM outbox")[0][0]
        self.once()
        time.sleep(QUIET)
        self.assertEqual((mb.count("ann"), mb.count("bob")), (1, 1))
        self.assertEqual(mb.sqlite(self.db, "SELECT count(*) FROM outbox")[0][0], rows)
        dups = mb.sqlite(self.db, "SELECT recipient, count(*) FROM outbox "
                         "GROUP BY recipient HAVING count(*) > 1")
        self.assertEqual(dups, [])

    def test_many_batches_each_answered_once_and_moved(self):
        """[imap] batch_size 4 over 30 mails: eight batches, fetched, decided and moved
        overlapped (the next fetched and the last moved while one is decided); every
        mail is recorded once, moved, and its sender answered once."""
        users = ["ann", "bob", "cat", "dan", "eve"] + ["user%d" % i for i in range(1, 26)]
        # Thirty strangers at once: over the default cap on mail to strangers (20 an hour).
        self.config = mb.write_config(self.config, imap__batch_size="4",
                                      limits__stranger_per_hour="1000",
                                      limits__stranger_per_day="1000")
        mids = [mb.send(u, "mentors", "join", "Hi, I'd like a mentor.", wait=False)
                for u in users]
        mb.wait_for("mentors", len(users), timeout=60)
        _, _, err = self.once()
        self.assertIn("inbox: %d processed" % len(users), err)
        self.assertEqual(mb.count("mentors"), 0, "mail left in the INBOX")
        moved = sorted(str(m["Message-ID"]) for m in mb.mailbox("mentors", "Processed"))
        self.assertEqual(moved, sorted(mids))
        rows = mb.sqlite(self.db, "SELECT message_id, count(*), min(outcome) FROM messages "
                         "GROUP BY message_id")
        self.assertEqual(sorted((m, c, o) for m, c, o in rows),
                         sorted((m.strip("<>"), 1, "answered") for m in mids))
        for u in users:
            mb.wait_for(u, 1, timeout=30)
        time.sleep(QUIET)
        self.assertEqual({u: mb.count(u) for u in users if mb.count(u) != 1}, {})

    # ---- automatic mail ----

    def test_automatic_mail_is_recorded_not_answered(self):
        d = mb.env()["TB_DOMAIN"]
        mb.send("ann", "mentors", "join", "Out of office", headers={
            "Auto-Submitted": "auto-replied"})
        mb.send("bob", "mentors", "join", "newsletter", headers={"Precedence": "bulk"})
        mb.send("dan", "mentors", "Out of office: join",
                "I am away until Monday.", headers={"X-Autoreply": "yes"})
        mb.send("mentors", "mentors", "join", "talking to myself")
        mb.send("eve", "mentors", "join", "Win a prize!", headers={
            "X-Spam-Flag": "YES", "X-Spam-Status": "Yes, score=9.3 required=5.0"})
        dsn = (
            "From: Mail Delivery System <MAILER-DAEMON@%(d)s>\r\n"
            "To: mentors@%(d)s\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            "Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
            "Message-ID: <dsn.1@%(d)s>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status;\r\n"
            "\tboundary=\"BOUND\"\r\n"
            "\r\n"
            "--BOUND\r\n"
            "Content-Type: text/plain\r\n\r\n"
            "join\r\nYour message could not be delivered.\r\n"
            "--BOUND\r\n"
            "Content-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.%(d)s\r\n\r\n"
            "Final-Recipient: rfc822; nobody@%(d)s\r\n"
            "Action: failed\r\nStatus: 5.1.1\r\n"
            "--BOUND\r\n"
            "Content-Type: text/rfc822-headers\r\n\r\n"
            "From: mentors@%(d)s\r\nTo: nobody@%(d)s\r\nSubject: Welcome\r\n"
            "--BOUND--\r\n") % {"d": d}
        mb.send("MAILER-DAEMON", "mentors", raw=dsn, envelope_from="")
        mdn = (
            "From: Cat <cat@%(d)s>\r\n"
            "To: mentors@%(d)s\r\n"
            "Subject: Read: Welcome\r\n"
            "Date: Mon, 2 Mar 2026 10:05:00 +0000\r\n"
            "Message-ID: <mdn.1@%(d)s>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=disposition-notification;\r\n"
            "\tboundary=\"MDN\"\r\n"
            "\r\n"
            "--MDN\r\n"
            "Content-Type: text/plain\r\n\r\n"
            "Your message was read on Monday.\r\n"
            "--MDN\r\n"
            "Content-Type: message/disposition-notification\r\n\r\n"
            "Reporting-UA: pc.%(d)s; Outlook\r\n"
            "Final-Recipient: rfc822;cat@%(d)s\r\n"
            "Disposition: automatic-action/MDN-sent-automatically; displayed\r\n"
            "--MDN--\r\n") % {"d": d}
        mb.send("cat", "mentors", raw=mdn)
        self.once()
        time.sleep(QUIET)
        for user in ("ann", "bob", "cat", "dan", "eve", "mentors"):
            self.assertEqual(mb.count(user), 0, "%s was answered" % user)
        self.assertEqual(mb.count("mentors", "Processed"), 7)
        self.assertEqual(self.outcomes(), ["recorded"] * 7)
        self.assertEqual(
            mb.sqlite(self.db, "SELECT count(*) FROM events WHERE kind = 'spam'")[0][0], 1)
        self.assertEqual(mb.sqlite(self.db, "SELECT count(*) FROM outbox")[0][0], 0)

    # ---- headers from strangers ----

    def test_non_ascii_name_and_subject(self):
        mb.send("ann", "mentors", "Join — Grüße aus Köln ✓", "Grüße!",
                headers={"From": "Ánna Müller <ann@example.test>"})
        self.once()
        r = self.one_reply("ann")
        # "Grüße aus Köln": she writes German, so the answer is German (and 8-bit safe).
        self.assertIn("Bitte bestätige", str(r["Subject"]))
        self.assertEqual(str(r["Content-Language"]).strip(), "de")
        for line in header_block(r.raw):
            self.assertTrue(all(b < 128 for b in line), "8-bit header line: %r" % line)
        self.assertEqual(parseaddr(str(r["To"]))[1], "ann@example.test")

    def test_crlf_injection_in_subject(self):
        raw = ("From: Dan <dan@example.test>\r\n"
               "To: mentors@example.test\r\n"
               "Subject: =?UTF-8?Q?join=0D=0ABcc:_eve@example.test?=\r\n"
               "Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
               "Message-ID: <inject.1@example.test>\r\n"
               "MIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=UTF-8\r\n"
               "\r\n"
               "join\r\n")
        mb.send("dan", "mentors", raw=raw)
        self.once()
        r = self.one_reply("dan")
        self.assertIsNone(r["Bcc"], "reply has a Bcc header")
        for line in header_block(r.raw):
            self.assertFalse(line.lower().startswith(b"bcc:"), line)
            self.assertNotIn(b"\r", line.rstrip(b"\r"), "bare CR in header %r" % line)
        self.assert_nothing_for("eve")

    # ---- daemon mode ----

    def test_daemon_idle_and_sigterm(self):
        proc = self.start_daemon()
        t0 = time.monotonic()
        mb.send("ann", "mentors", "join", "Hi")
        r = self.one_reply("ann", timeout=10)
        self.assertIn("Please confirm", str(r["Subject"]))
        self.assertLess(time.monotonic() - t0, 10)
        self.stop(proc, signal.SIGTERM)

    def test_sighup_reloads_config(self):
        proc = self.start_daemon()
        mb.send("ann", "mentors", "join", "Hi")
        r = self.one_reply("ann")
        self.assertEqual(parseaddr(str(r["From"]))[0], "Example Community")
        mb.write_config(self.config, community__name="Renamed Community")
        proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        self.assertIsNone(proc.poll(), "mentord died on SIGHUP:\n" + mb.daemon_log(proc))
        mb.send("bob", "mentors", "join", "Hi")
        r = self.one_reply("bob")
        self.assertEqual(parseaddr(str(r["From"]))[0], "Renamed Community")
        self.stop(proc)

    # ---- failures ----

    def test_mta_down_then_retry(self):
        mb.send("ann", "mentors", "join", "Hi")
        mb.testbed("stop-smtp")
        try:
            self.once(expect_rc=None)
            self.assertEqual(mb.count("mentors"), 0, "inbox mail not moved")
            rows = mb.sqlite(self.db, "SELECT status, attempts, last_error FROM outbox "
                             "WHERE recipient = 'ann@example.test'")
            self.assertEqual(len(rows), 1, rows)
            status, attempts, last_error = rows[0]
            self.assertEqual(status, "queued")
            self.assertGreaterEqual(attempts, 1)
            self.assertTrue(last_error, "last_error not set")
        finally:
            mb.testbed("start-smtp")
        later = {"MENTORD_NOW": str(int(time.time()) + 2 * 3600)}
        self.once(env=later)
        self.one_reply("ann")
        self.assertEqual(mb.sqlite(self.db, "SELECT status FROM outbox"), [("sent",)])
        self.once(env=later)
        time.sleep(QUIET)
        self.assertEqual(mb.count("ann"), 1, "sent again")

    def test_dry_run(self):
        mb.send("ann", "mentors", "join", "Hi")
        rc, out, err = self.once("--dry-run")
        self.assertRegex(out, r"(?m)^To:.*ann@example\.test")
        self.assert_nothing_for("ann")
        self.assertEqual(mb.count("mentors"), 1, "dry run moved the mail")
        self.assertEqual(self.outcomes(), [], "dry run recorded messages")
        self.once()
        self.one_reply("ann")
        self.assertEqual(mb.count("mentors"), 0)

    def test_imap_starttls(self):
        e = mb.env()
        mb.write_config(self.config, imap__security="starttls", imap__port=e["TB_IMAP_PORT"],
                        smtp__security="tls", smtp__port=e["TB_SMTPS_PORT"])
        mb.send("ann", "mentors", "join", "Hi")
        self.once()
        self.assertIn("Please confirm", str(self.one_reply("ann")["Subject"]))

    def test_wrong_ca_is_refused(self):
        other = mb.make_ca(os.path.join(self.tmp, "ca"))
        mb.write_config(self.config, imap__tls_ca_file=other)
        mb.send("ann", "mentors", "join", "Hi")
        rc, out, err = self.once(expect_rc=None)
        self.assertNotEqual(rc, 0, "connected despite an untrusted certificate")
        self.assertRegex(err, r"(?i)certificate")
        self.assertEqual(mb.count("mentors"), 1, "mail was processed")
        self.assert_nothing_for("ann")

    def test_processed_folder_recreated(self):
        mb.send("ann", "mentors", "join", "Hi")
        self.once()
        self.one_reply("ann")
        self.assertTrue(mb.delete_folder("mentors", "Processed"), "no Processed folder")
        mb.send("bob", "mentors", "join", "Hi")
        self.once()
        self.one_reply("bob")
        self.assertEqual(mb.count("mentors"), 0)
        self.assertEqual(mb.count("mentors", "Processed"), 1)

    def test_imap_restart_reconnects(self):
        proc = self.start_daemon()
        mb.testbed("stop-imap")
        try:
            # the daemon notices the lost connection and backs off
            self.assertTrue(mb.wait_log(proc, r"(?i)IMAP: (connection lost|cannot connect)", 15),
                            "no reconnect attempt logged:\n" + mb.daemon_log(proc)[-2000:])
        finally:
            mb.testbed("start-imap")
        mb.send("ann", "mentors", "join", "Hi")
        r = self.one_reply("ann", timeout=30)
        self.assertIn("Please confirm", str(r["Subject"]))
        self.stop(proc)

    def test_missing_template_stops_intake_and_keeps_mail(self):
        # A template missing is the operator's mistake, not the members': no
        # mail is set aside, it all stays in the inbox, the managers are told
        # once, and once the template is back everything is answered.
        tdir = os.path.join(self.tmp, "templates")
        shutil.copytree(os.path.join(mb.REPO, "templates"), tdir)
        os.rename(os.path.join(tdir, "en", "confirm-join.txt"), os.path.join(self.tmp, "saved.txt"))
        mb.write_config(self.config, templates__dir=tdir, imap__max_attempts="3")
        mb.send("ann", "mentors", "join", "Hi")
        mb.send("cat", "mentors", "help", "")
        for _ in range(4):
            rc, out, err = self.once(expect_rc=1)
            self.assertIn("not taking mail", err)
            self.assertIn("confirm-join.txt", err)
            self.assertEqual(mb.count("mentors"), 2)
        self.assertNotIn("failed", self.outcomes())
        self.assertNotIn("retry", self.outcomes())
        notice = self.one_reply("boss")
        self.assertIn("stopped taking mail", str(notice["Subject"]))
        self.assertIn("confirm-join.txt", mb.body_text(notice))
        self.assert_nothing_for("ann")
        os.rename(os.path.join(self.tmp, "saved.txt"), os.path.join(tdir, "en", "confirm-join.txt"))
        self.once()
        self.assertIn("Please confirm", str(self.one_reply("ann")["Subject"]))
        self.assertIn("How", str(self.one_reply("cat")["Subject"]))
        self.assertEqual(mb.count("mentors"), 0)
        self.assertEqual(len(mb.mailbox("boss")), 1, "the managers were told more than once")

    def test_uidvalidity_change_processes_nothing_twice(self):
        mb.write_config(self.config, imap__mailbox="Intake")
        raw = mb.make_message("ann", "mentors", "join", "Hi, I would like a mentor").as_bytes()
        self._append("Intake", raw)
        self.once()
        self.one_reply("ann")
        # The folder is restored from a backup: same mail, new UIDVALIDITY.
        self.assertTrue(mb.delete_folder("mentors", "Intake"))
        self._append("Intake", raw)
        rc, out, err = self.once()
        self.assertRegex(err, r"UIDVALIDITY of Intake changed")
        self.assertEqual(mb.count("mentors", "Intake"), 0, "restored mail not moved")
        time.sleep(QUIET)
        self.assertEqual(mb.count("ann"), 1, "answered twice after a UIDVALIDITY change")
        self.assertEqual(sorted(self.outcomes()), ["answered", "duplicate"])

    def test_too_large_mail_gets_a_short_answer(self):
        mb.write_config(self.config, limits__max_message_size="64k")
        mb.send("ann", "mentors", "join", "Hi\n" + ("x" * 76 + "\n") * 3000)  # about 230 KB
        rc, out, err = self.once()
        r = self.one_reply("ann")
        self.assertIn("too large", str(r["Subject"]))
        self.assertRegex(mb.body_text(r), r"Your message was 2\d\d KB")
        self.assertEqual(self.outcomes(), ["too-large"])
        self.assertIsNone(self.role("ann"), "an unread mail made ann a member")
        self.assertEqual(mb.count("mentors"), 0)

    # ---- the shared corpus of real mail ----

    # ---- languages ----

    def _lang_once(self, minute=0):
        # Mid-morning everywhere the cast lives: scheduled mail is never held for the night.
        self.once(env={"MENTORD_NOW": "2026-03-02T10:%02d:00Z" % minute})

    def _introductions(self, wanted):
        """Run passes until each (user, subject words) of wanted has its introduction;
        Postfix delivers after mentord's pass returns, so each pass waits for the mail
        a few seconds.  Returns {user: message}."""
        intro = {}
        for i in range(4):
            # MENTORD_NOW fixes where each pass's clock starts, and the clock runs on from
            # there: a pair made a second into one pass schedules its introduction for that
            # second, which a pass starting at the same fixed time again would never reach
            # (a slow sanitizer build hit this).  So each pass starts a minute later.
            self._lang_once(minute=i + 1)
            deadline = time.time() + 3 * mb.WAIT_SCALE
            while len(intro) < len(wanted) and time.time() < deadline:
                for user, words in wanted:
                    for m in mb.mailbox(user):
                        if words in str(m["Subject"]):
                            intro[user] = m
                if len(intro) < len(wanted):
                    time.sleep(0.2)
            if len(intro) == len(wanted):
                break
        return intro

    def _reply_to(self, user, request, body):
        headers = {"In-Reply-To": str(request["Message-ID"]),
                   "References": str(request["Message-ID"]),
                   "Content-Type": None}
        msg = mb.make_message(user, "mentors", "Re: " + str(request["Subject"]), body, headers)
        mb.send(user, "mentors", raw=msg.as_bytes())

    def _next_mail(self, user, before):
        msgs = mb.wait_for(user, before + 1)
        return msgs[before]

    def _spanish_html_join(self, user):
        # Gmail in Spanish, HTML only: no text/plain part at all.
        raw = ("From: =?UTF-8?Q?Mar=C3=ADa_Jos=C3=A9_Garc=C3=ADa?= <%s>\r\n"
               "To: %s\r\nSubject: unirme\r\nMessage-ID: <es-join@mail.example.test>\r\n"
               "Date: Mon, 02 Mar 2026 09:58:00 +0000\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/html; charset=\"UTF-8\"\r\n"
               "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
               "<div dir=3D\"ltr\"><div>Hola, me gustar=C3=ADa unirme al programa de "
               "mentor=C3=ADa. Busco a alguien que me ayude con Python.</div>"
               "<div>Skills: python</div><div>Languages: Spanish, English</div>"
               "</div>\r\n") % (mb.addr(user), mb.addr("mentors"))
        mb.send(user, "mentors", raw=raw)

    def test_spanish_html_only_join_is_answered_in_spanish(self):
        self._spanish_html_join("ann")
        self._lang_once()
        r = self.one_reply("ann")
        self.assertEqual(str(r["Content-Language"]).strip(), "es")
        self.assertIn("Confirma tu solicitud de mentoría", str(r["Subject"]))
        body = mb.body_text(r)
        self.assertEqual(body.splitlines()[0], "Hola:")  # a stranger yet: no name
        self.assertIn("basta con que respondas a este mensaje", body)
        self.assertIn("dentro de 3 días", body)
        self._reply_to("ann", r, "Sí, fui yo. ¡Gracias!")
        self._lang_once()
        welcome = self._next_mail("ann", 1)
        self.assertEqual(str(welcome["Content-Language"]).strip(), "es")
        self.assertIn("Te damos la bienvenida", str(welcome["Subject"]))
        self.assertIn("Gracias por confirmar", mb.body_text(welcome))
        self.assertEqual(self.state("ann"), "active")

    def test_german_volunteer_to_introduction_in_a_shared_language(self):
        mb.write_config(self.config, matching__mentor_accepts="no",
                        lifecycle__introduction="together")
        self._spanish_html_join("ann")
        mb.send("dan", "mentors", "Mentor",
                "Hallo, ich möchte gern als Mentor mitmachen und anderen bei Python helfen.\n"
                "Skills: python\nLanguages: Deutsch, Englisch\n",
                headers={"From": "Jürgen Weiß <%s>" % mb.addr("dan")})
        self._lang_once()
        confirm_de = self.one_reply("dan")
        self.assertEqual(str(confirm_de["Content-Language"]).strip(), "de")
        self.assertIn("Bitte bestätige dein Angebot", str(confirm_de["Subject"]))
        self.assertEqual(mb.body_text(confirm_de).splitlines()[0], "Hallo,")  # a stranger yet
        confirm_es = self.one_reply("ann")
        self._reply_to("dan", confirm_de, "Ja, das war ich.")
        self._reply_to("ann", confirm_es, "Sí, fui yo.")
        self._lang_once()
        welcome = self._next_mail("dan", 1)
        self.assertEqual(str(welcome["Content-Language"]).strip(), "de")
        self.assertIn("Danke, dass du bei Example Community andere begleiten möchtest",
                      str(welcome["Subject"]))
        self.assertEqual((self.role("dan"), self.state("dan")), ("mentor", "active"))
        self.assertEqual((self.role("ann"), self.state("ann")), ("newcomer", "active"))
        # The matching round pairs them; the introduction follows in a later pass.
        intro = self._introductions((("ann", "meet"), ("dan", "meet")))
        self.assertEqual(sorted(intro), ["ann", "dan"], "no introduction to both")
        # Until the introduction everything dan got was German.
        for m in mb.mailbox("dan"):
            if m is not intro["dan"] and "meet" not in str(m["Subject"]):
                self.assertEqual(str(m["Content-Language"]).strip(), "de", str(m["Subject"]))
        for user in ("ann", "dan"):
            m = intro[user]
            self.assertEqual(str(m["Content-Language"]).strip(), "en", user)
            body = mb.body_text(m)
            self.assertIn("We are writing in English, the language you both read.", body)
            self.assertIn("Hello María and Jürgen,", body)
            self.assertIn("María, write to Jürgen", body)

    def test_separate_introductions_each_in_their_own_language(self):
        mb.write_config(self.config, matching__mentor_accepts="no",
                        lifecycle__introduction="separate")
        self._spanish_html_join("ann")
        mb.send("dan", "mentors", "Mentor",
                "Hallo, ich möchte gern als Mentor mitmachen und anderen bei Python helfen.\n"
                "Skills: python\nLanguages: Deutsch, Englisch\n",
                headers={"From": "Jürgen Weiß <%s>" % mb.addr("dan")})
        self._lang_once()
        self._reply_to("dan", self.one_reply("dan"), "Ja, das war ich.")
        self._reply_to("ann", self.one_reply("ann"), "Sí, fui yo.")
        self._lang_once()
        intro = self._introductions((("ann", "te presentamos"), ("dan", "Lerne")))
        self.assertEqual(sorted(intro), ["ann", "dan"], "no introduction to each")
        self.assertEqual(str(intro["dan"]["Content-Language"]).strip(), "de")
        self.assertIn("Lerne María kennen", str(intro["dan"]["Subject"]))
        self.assertIn("danke, dass du das übernimmst und María José García <",
                      mb.body_text(intro["dan"]))
        self.assertEqual(str(intro["ann"]["Content-Language"]).strip(), "es")
        self.assertIn("te presentamos a Jürgen", str(intro["ann"]["Subject"]))
        # Everything each of them got was in their own language.
        for user, lang in (("ann", "es"), ("dan", "de")):
            for m in mb.mailbox(user):
                self.assertEqual(str(m["Content-Language"]).strip(), lang, str(m["Subject"]))

    def test_spanish_managers_get_spanish_answers(self):
        """[templates] managers_language = es: the answer to a manager's command by mail -
        a refusal here, sent at once - is Spanish, with no English sentence left."""
        mb.write_config(self.config, templates__managers_language="es")
        mb.send("boss", "mentors", "match %s %s" % (mb.addr("zed"), mb.addr("ann")), "")
        self.once()
        r = self.one_reply("boss")
        self.assertEqual(str(r["Content-Language"]).strip(), "es")
        flat = " ".join(mb.body_text(r).split())
        self.assertIn("No hay ningún miembro %s." % mb.addr("zed"), flat)
        self.assertNotIn("There is no member", flat)

    def test_spanish_managers_get_a_spanish_digest(self):
        """[templates] managers_language = es: the weekly digest - its subject, figures,
        lists and sentences, text and HTML - is Spanish, with no English label left."""
        mb.write_config(self.config, templates__managers_language="es",
                        digest__frequency="weekly", digest__day="monday", digest__hour="9",
                        digest__timezone="UTC")
        self._spanish_html_join("ann")
        self._lang_once()  # Monday 2 March: the first request, before the first whole week
        self._reply_to("ann", self.one_reply("ann"), "Sí, fui yo.")
        self._lang_once()  # she waits for a mentor from then on
        self.once(env={"MENTORD_NOW": "2026-03-16T10:00:00Z"})  # the week of 9-16 March is due
        deadline = time.time() + 10
        digests = []
        while not digests and time.time() < deadline:
            digests = [m for m in mb.mailbox("boss") if str(m["Subject"]).startswith("Semana ")]
            time.sleep(0.2)
        self.assertEqual(len(digests), 1, [str(m["Subject"]) for m in mb.mailbox("boss")])
        d = digests[0]
        self.assertTrue(str(d["Subject"]).startswith("Semana 2026-W11: "), str(d["Subject"]))
        self.assertIn("1 en espera", str(d["Subject"]))
        self.assertEqual(str(d["Content-Language"]).strip(), "es")
        text = mb.body_text(d)
        html = d.get_body(("html",)).get_content()
        self.assertIn("Esta semana  Cambio  Últimas 12 semanas", text)
        flat = " ".join(text.split())  # sentences wrap at 78 columns
        for words in ("Mentoría de Example Community: semana 2026-W11 (lun 9 mar 2026, 09:00",
                      "Requiere tu atención esta semana", "Peticiones de entrada y mentoría",
                      "Esperando mentor, primero quien más tiempo lleva",
                      "13 días María José García <", "Nada que señalar esta semana en:",
                      "es quien más tiempo lleva esperando mentor: 13 días (1 en espera en total)."
                      " Responde MATCH %s MENTOR" % mb.addr("ann")):
            self.assertIn(words, flat)
        self.assertIn("Parejas activas y personas en espera, últimas 12 semanas", html)
        for english in ("Needs a manager", "Active pairs", "Waiting for a mentor", "None this",
                        "Confirmed newcomers", "Change", "Last 12 weeks", " days ", "mentoring:",
                        "Bars start at zero", "An automatic message"):
            self.assertNotIn(english, text)
            self.assertNotIn(english, html)

    # ---- a mentor's check-in about several mentees ----

    def _at(self, day, hour=10):
        """One pass at day days after 2026-03-02, hour:00 UTC (daytime for the cast)."""
        t = 1772445600 + day * 86400 + (hour - 10) * 3600  # 2026-03-02T10:00:00Z
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        self.once(env={"MENTORD_NOW": when})

    def _mail_like(self, user, words, before=0, passes=(), timeout=5):
        """The first mail to user after the first before whose Subject holds words."""
        deadline = time.time() + timeout
        while True:
            for m in mb.mailbox(user)[before:]:
                if words in str(m["Subject"]):
                    return m
            if time.time() > deadline:
                self.fail("%s got no mail with %r: %s" % (
                    user, words, [str(m["Subject"]) for m in mb.mailbox(user)]))
            time.sleep(0.2)

    def _rating_about(self, user):
        rows = mb.sqlite(self.db,
                         "SELECT coalesce(f.rating, 0) FROM feedback f JOIN pairs p"
                         " ON p.id = f.pair JOIN members m ON m.id = p.newcomer"
                         " JOIN members w ON w.id = f.member"
                         " WHERE m.address = ? COLLATE NOCASE AND w.role = 'mentor'"
                         " ORDER BY f.id DESC LIMIT 1", (mb.addr(user),))
        return rows[0][0] if rows else None

    def test_mentor_answers_per_mentee_by_number_and_name(self):
        mb.write_config(self.config, matching__mentor_accepts="no",
                        lifecycle__introduction="together")
        mb.send("dan", "mentors", "Mentor",
                "Hallo, ich möchte gern als Mentor mitmachen und anderen bei Python helfen.\n"
                "Skills: python\nLanguages: Deutsch, Englisch\nCapacity: 2\n",
                headers={"From": "Jürgen Weiß <%s>" % mb.addr("dan")})
        for user, name in (("ann", "Ann Lee"), ("bob", "Bob Marsh")):
            mb.send(user, "mentors", "JOIN", "I'd like a mentor.\nSkills: python\n"
                    "Languages: English, German\n",
                    headers={"From": "%s <%s>" % (name, mb.addr(user))})
        self._at(0)
        for user in ("dan", "ann", "bob"):
            self._reply_to(user, self.one_reply(user),
                           "Ja, das war ich." if user == "dan" else "Yes, that was me.")
        self._at(0, 11)
        self._at(0, 12)
        self._at(0, 13)
        before = mb.count("dan")
        # Day 3: one check-in about both, in German, numbered.
        self._at(3, 12)
        checkin = self._mail_like("dan", "Wie läuft es mit", before)
        body = mb.body_text(checkin)
        numbers = dict((name, n) for n, name in re.findall(r"^  (\d)\. (\w+): ", body, re.M))
        self.assertEqual(sorted(numbers), ["Ann", "Bob"], body)
        self.assertIn("Seit wir euch vorgestellt haben", body)
        first = "ann" if numbers["Ann"] == "1" else "bob"
        second = "bob" if first == "ann" else "ann"
        self._reply_to("dan", checkin,
                       "1: läuft gut, 4 / 2: hat sich noch nicht gemeldet, 2\n\nGruß, Jürgen")
        self._at(3, 13)
        self.assertEqual(self._rating_about(first), 4)
        self.assertEqual(self._rating_about(second), 2)
        # Day 14: "5, 3" cannot be told apart; one easy question back, nothing recorded.
        before = mb.count("dan")
        self._at(14, 12)
        checkin = self._mail_like("dan", "Wie läuft es mit", before)
        before = mb.count("dan")
        self._reply_to("dan", checkin, "5, 3")
        self._at(14, 13)
        question = self._mail_like("dan", "Welche Antwort gehört zu wem", before)
        self.assertIn("1. ", mb.body_text(question))
        self.assertEqual(self._rating_about(first), 4)
        # Names on one line answer it, each rating to its own pair.
        self._reply_to("dan", question, "Bob: 5, Ann: 3")
        self._at(14, 14)
        self.assertEqual(self._rating_about("bob"), 5)
        self.assertEqual(self._rating_about("ann"), 3)
        self.assertEqual(len([m for m in mb.mailbox("dan")
                              if "Welche Antwort" in str(m["Subject"])]), 1)

    def _corpus_files(self):
        for folder in ("bounces", "autoreplies", "mime", "replies"):
            d = os.path.join(CORPUS, folder)
            for name in sorted(os.listdir(d)):
                if not name.startswith("expected") and not name.endswith((".json", ".tsv")):
                    yield folder, name, os.path.join(d, name)

    def test_corpus_through_the_daemon(self):
        """Every mail of the shared corpus, as a server would deliver it, through
        the real daemon: none stalls the inbox or crashes it, and no bounce or
        auto-reply is answered."""
        if not os.path.isdir(CORPUS):
            self.skipTest("corpus %s absent" % CORPUS)
        m = mb._imap("mentors")
        uids, refused = {}, []
        try:
            for folder, name, path in self._corpus_files():
                with open(path, "rb") as f:
                    raw = f.read()
                if raw.startswith(b"From "):  # saved from an mbox: no such line over IMAP
                    raw = raw.split(b"\n", 1)[-1]
                raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                typ, data = m.append("INBOX", None, None, raw)
                got = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"") if typ == "OK" else None
                if got is None:
                    refused.append((name, data))
                    continue
                uids[int(got.group(1))] = (folder, name)
        finally:
            mb._logout(m)
        # Dovecot refuses only mail it cannot store (NUL bytes); the rest is the test.
        self.assertLessEqual(len(refused), 5, refused)
        self.assertGreaterEqual(len(uids), 900)
        for _ in range(5):
            if mb.count("mentors") == 0:
                break
            self.once()
        self.assertEqual(mb.count("mentors"), 0, "the corpus stalled the inbox")
        rows = mb.sqlite(self.db, "SELECT uid, outcome FROM messages")
        outcome = {uid: out for uid, out in rows}
        self.assertEqual(sorted(outcome), sorted(uids), "a message was moved without a record")
        counts = {}
        for out in outcome.values():
            counts[out] = counts.get(out, 0) + 1
        print("    corpus through the daemon: %d messages: %s" % (
            len(uids), ", ".join("%s %d" % kv for kv in sorted(counts.items()))), flush=True)
        self.assertNotIn("failed", counts, "a corpus mail failed to process")
        answered = sorted(name for uid, (folder, name) in uids.items()
                          if folder in ("bounces", "autoreplies") and outcome[uid] == "answered")
        self.assertEqual(answered, sorted(SPAM_FROM_PEOPLE & {n for _, n in uids.values()}),
                         "automatic mail was answered")

    def _append(self, folder, raw):
        m = mb._imap("mentors")
        try:
            m.create(mb._quote(folder))
            typ, data = m.append(mb._quote(folder), None, None, raw)
            self.assertEqual(typ, "OK", data)
        finally:
            mb._logout(m)


class Result(unittest.TestResult):
    """Prints one line per test: PASS name / FAIL name: reason."""

    def __init__(self):
        super().__init__()
        self.passed = 0
        self.t0 = 0.0

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()

    def _name(self, test):
        return test.id().rsplit(".", 1)[-1]

    def addSuccess(self, test):
        self.passed += 1
        print("PASS %s (%.1f s)" % (self._name(test), time.monotonic() - self.t0), flush=True)

    def _fail(self, test, err, kind):
        exc = err[1]
        reason = str(exc).strip().splitlines()
        reason = reason[0] if reason else type(exc).__name__
        print("FAIL %s (%.1f s): %s%s" % (self._name(test), time.monotonic() - self.t0,
                                          kind, reason), flush=True)
        detail = "".join(traceback.format_exception(*err))
        print("    " + detail.rstrip().replace("\n", "\n    "), flush=True)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        print("SKIP %s: %s" % (self._name(test), reason), flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err, "")

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err, "error: ")


def run_suite(case, names, wanted, label):
    """Run the named test methods of case (only those in wanted, when given),
    then print the "LABEL: N passed, N failed" line run.sh counts."""
    if wanted:
        unknown = [w for w in wanted if w not in names]
        if unknown:
            print("unknown test(s): %s" % " ".join(unknown), file=sys.stderr)
            return 2
        names = [n for n in names if n in wanted]
    result = Result()
    for name in names:
        case(name).run(result)
    failed = len(result.failures) + len(result.errors)
    print("%s: %d passed, %d failed" % (label, result.passed, failed), flush=True)
    return 1 if failed else 0


def main(argv):
    return run_suite(E2E, unittest.TestLoader().getTestCaseNames(E2E), argv[1:], "e2e")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
