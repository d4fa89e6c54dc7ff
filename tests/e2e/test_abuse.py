#!/usr/bin/env python3
"""Abuse and privacy tests of mentord against the real mail test-bed (issue 7, points 5, 6).

Run through tests/e2e/run.sh (which starts the test-bed with EXTRA_USERS=25 and
sets TESTBED_ENV, MENTORD_BIN and MENTORCTL_BIN), or by hand with those set:

    python3 tests/e2e/test_abuse.py [test_name ...]

Each test feeds mentord one kind of hostile or broken input and asserts the
outcome (refused, capped, answered once, recorded) AND that the daemon keeps
serving others: after the abusive input, a normal JOIN from another person
still gets its confirmation.  Bulky mail is written straight into the
mailbox's Maildir (as a delivery would) instead of going through Postfix.

Prints one PASS/FAIL line per test and ends with exactly one line
"e2e-abuse: N passed, N failed".  Exit status 1 when any failed.
"""

import email
import email.policy
import json
import os
import random
import re
import subprocess
import sys
import time
import unittest
from email.utils import getaddresses

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailbed as mb  # noqa: E402
import test_e2e  # noqa: E402
from test_e2e import header_block  # noqa: E402

SANITIZED = "san" in os.path.basename(os.path.dirname(os.environ.get("MENTORD_BIN", "")))
PEOPLE = ("ann", "bob", "cat", "dan", "eve", "boss")


def maildir(user):
    return os.path.join(mb.env()["TB_DIR"], "mail", user, "Maildir")


def drop(raws, to="mentors"):
    """Put raw mails (bytes) straight into to's INBOX (Maildir new/), as a
    delivery would: thousands per second, any size, any bytes."""
    mb.count(to)  # makes Dovecot create the Maildir
    md = maildir(to)
    uid, gid = os.stat(md).st_uid, os.stat(md).st_gid
    for i, raw in enumerate(raws):
        name = "%d.M%dP%d_%d.abuse" % (int(time.time()), i, os.getpid(), random.getrandbits(32))
        tmp = os.path.join(md, "tmp", name)
        with open(tmp, "wb") as f:
            if isinstance(raw, (bytes, bytearray)):
                f.write(raw)
            else:
                for chunk in raw:  # an iterable of chunks: a 50 MB mail without 50 MB in memory
                    f.write(chunk)
        os.chown(tmp, uid, gid)
        os.rename(tmp, os.path.join(md, "new", name))


_seq = [0]


def extra_users():
    """user1 .. userN as the test-bed made them (EXTRA_USERS)."""
    return [u for u in mb.env()["TB_USERS"].split() if re.fullmatch(r"user\d+", u)]


def raw_mail(from_, subject, body, extra=b"", content_type=b"text/plain; charset=UTF-8"):
    """A raw mail to mentors as bytes (CRLF); from_/subject/body as bytes or str."""
    _seq[0] += 1
    enc = [x.encode("utf-8") if isinstance(x, str) else x for x in (from_, subject, body)]
    return (b"From: " + enc[0] + b"\r\n"
            b"To: mentors@example.test\r\n"
            b"Subject: " + enc[1] + b"\r\n"
            b"Date: " + email.utils.formatdate().encode() + b"\r\n"
            b"Message-ID: <abuse.%d.%d@example.test>\r\n" % (os.getpid(), _seq[0]) +
            extra +
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: " + content_type + b"\r\n"
            b"\r\n" + enc[2])


class Abuse(test_e2e.E2E):
    """Reuses test_e2e's set-up and helpers (once, confirm, one_reply, state...);
    main() runs only the tests defined here."""

    # ---- helpers ----

    def member(self, user, name=None, subject="join"):
        """user joins and confirms; returns the welcome mail."""
        before = mb.count(user)
        wish = "Hi, I'd like to mentor" if subject == "mentor" else "Hi, I'd like a mentor"
        if name:  # raw, so that an encoded word reaches mentord as written
            mb.send(user, "mentors", raw=raw_mail("%s <%s>" % (name, mb.addr(user)), subject,
                                                  wish + "\r\n"))
        else:
            mb.send(user, "mentors", subject, wish)
        self.once()
        request = mb.wait_for(user, before + 1)[before]
        welcome = self.confirm(user, request)
        self.assertEqual(self.state(user), "active", "%s not active after confirming" % user)
        return welcome

    def still_serves(self, user="cat"):
        """A normal JOIN from another person still gets exactly its confirmation."""
        before = mb.count(user)
        mb.send(user, "mentors", "join", "Hi, I'd like a mentor")
        self.once()
        msgs = mb.wait_for(user, before + 1)
        time.sleep(0.2)
        msgs = mb.mailbox(user)
        self.assertEqual(len(msgs), before + 1, "%s: %d new mails after a join, wanted 1"
                         % (user, len(msgs) - before))
        self.assertIn("Please confirm", str(msgs[-1]["Subject"]))
        self.assertEqual(self.state(user), "pending")

    def integrity(self):
        self.assertEqual(mb.sqlite(self.db, "PRAGMA integrity_check"), [("ok",)])

    def events(self, kind):
        return mb.sqlite(self.db, "SELECT count(*) FROM events WHERE kind = ?", (kind,))[0][0]

    def outbox_recipients(self):
        return [r[0].lower() for r in mb.sqlite(self.db, "SELECT recipient FROM outbox")]

    def assert_clean_mail(self, msgs, owner=None):
        """Every mail mentord sent parses without defects, has exactly one
        recipient (owner's address when given), no Cc/Bcc, no bare CR/LF or
        8-bit bytes in a header line."""
        for m in msgs:
            strict = email.message_from_bytes(m.raw, policy=email.policy.strict)
            self.assertEqual(strict.defects, [], "defects in %r" % m["Subject"])
            for h in ("Bcc", "Cc", "Resent-To", "Resent-Cc", "Resent-Bcc"):
                self.assertIsNone(m[h], "mail %r has a %s header" % (m["Subject"], h))
            to = [a for _, a in getaddresses([str(x) for x in m.get_all("To", [])])]
            self.assertEqual(len(to), 1, "To: %r" % to)
            if owner:
                self.assertEqual(to[0].lower(), mb.addr(owner))
            for line in header_block(m.raw):
                line = line.rstrip(b"\r")
                self.assertNotIn(b"\r", line, "bare CR in header %r" % line)
                self.assertTrue(all(b < 128 for b in line), "8-bit header line %r" % line)
                self.assertFalse(line.lower().startswith(b"bcc:"), line)

    # ---- forged From: ----

    def test_forged_from_member_leave(self):
        self.member("ann")
        before = mb.count("ann")
        # eve's server, eve's envelope, ann's From:, eve's Reply-To: and Sender:
        mb.send("eve", "mentors", "leave", "leave",
                headers={"From": "Ann <ann@example.test>", "Reply-To": "eve@example.test",
                         "Sender": "eve@example.test"})
        self.once()
        msgs = mb.wait_for("ann", before + 1)
        time.sleep(0.3)
        msgs = mb.mailbox("ann")
        self.assertEqual(len(msgs), before + 1, "ann: wanted exactly one confirmation request")
        self.assertRegex(str(msgs[-1]["Subject"]), r"\[ref [a-z0-9]{14}\]")
        self.assert_nothing_for("eve")
        # ann never answers: she stays a member, however often mentord runs
        self.once()
        self.assertEqual(self.state("ann"), "active")
        self.assertEqual(mb.count("ann"), before + 1)
        self.still_serves()

    def test_forged_from_manager_remove(self):
        self.member("ann")
        mb.send("eve", "mentors", "remove", "remove ann@example.test",
                headers={"From": "The Boss <boss@example.test>", "Reply-To": "eve@example.test"})
        self.once()
        [req] = mb.wait_for("boss", 1)
        time.sleep(0.3)
        self.assertEqual(mb.count("boss"), 1, "boss: wanted exactly the confirmation request")
        self.assertEqual([a for _, a in getaddresses([str(req["To"])])], ["boss@example.test"])
        self.assert_nothing_for("eve")
        self.once()
        self.assertEqual(self.state("ann"), "active", "a forged REMOVE removed ann")
        self.assertEqual(mb.count("boss"), 1)
        self.still_serves()

    # ---- trust: who wrote this mail (issue 13) ----
    #
    # Each attack is written as its outcome (state unchanged, what each mailbox
    # received), beside its legitimate twin that still works.

    OURS = "mx.example.test"  # the authserv-id of the community's own server

    def trust(self, **overrides):
        """Rewrite the config for the trust tests: no quiet hours (notices go at once),
        the community's own server named as the trusted authserv-id."""
        hour = time.gmtime().tm_hour  # a one-hour night far from now
        keys = {"lifecycle__quiet_start": (hour + 12) % 24,
                "lifecycle__quiet_end": (hour + 13) % 24,
                "digest__trusted_authserv": self.OURS}
        keys.update(overrides)
        mb.write_config(self.config, **keys)

    def new_mail(self, user, before):
        """The mails user received since before (waits for at least one)."""
        mb.wait_for(user, before + 1)
        time.sleep(0.3)
        return mb.mailbox(user)[before:]

    def forged(self, victim, subject, body, extra=b""):
        """A mail with victim's From: written by somebody else (no DKIM, not a reply)."""
        drop([raw_mail("%s <%s>" % (victim.title(), mb.addr(victim)), subject, body,
                       extra=extra)])

    def reply(self, user, to_msg, body, subject=None):
        """user answers to_msg as a mail client would (In-Reply-To, References)."""
        mid = str(to_msg["Message-ID"])
        drop([raw_mail("%s <%s>" % (user.title(), mb.addr(user)),
                       subject or "Re: " + str(to_msg["Subject"]), body,
                       extra=("In-Reply-To: %s\r\nReferences: %s\r\n" % (mid, mid)).encode())])

    def pair(self, newcomer="ann", mentor="bob"):
        """newcomer and mentor confirmed and matched; returns their introductions."""
        self.member(newcomer)
        self.member(mentor, subject="mentor")
        nb, mbefore, boss = mb.count(newcomer), mb.count(mentor), mb.count("boss")
        rc, out, err = mb.run_mentorctl(self.config, "match", mb.addr(newcomer), mb.addr(mentor))
        self.assertEqual(rc, 0, out + err)
        self.once()
        intro_n = self.new_mail(newcomer, nb)[-1]
        intro_m = self.new_mail(mentor, mbefore)[-1]
        time.sleep(0.3)
        self.boss_before = mb.count("boss")
        return intro_n, intro_m

    def profile(self, user):
        rows = mb.sqlite(self.db, "SELECT profile FROM members WHERE address = ?",
                         (mb.addr(user),))
        return (rows[0][0] or "") if rows else ""

    def pair_state(self):
        return [r[0] for r in mb.sqlite(self.db, "SELECT state FROM pairs ORDER BY id")]

    def test_forged_changes_wait_for_a_confirming_reply(self):
        """A forged From: (no DKIM, not a reply) asking PAUSE, CAPACITY 20, profile lines
        with a phone number and a link, DONE and REMATCH changes nothing: the member gets
        one short "Reply to this mail to confirm" each, the partner nothing, the forger
        nothing.  Twin: the member's reply to one of them acts; a reply to mentord's own
        mail acts at once."""
        self.trust(limits__replies_per_hour=50, limits__replies_per_day=100)
        self.pair()
        ann_before, bob_before = mb.count("ann"), mb.count("bob")
        profile_before = self.profile("bob")
        attacks = [("pause 2 weeks", "pause for 2 weeks"), ("capacity 20", "set your capacity to 20"),
                   ("about me", "update your profile"), ("done", "end your current pairing"),
                   ("rematch", "be matched again")]
        for subject, _ in attacks:
            body = ("Phone: +1 555 0100\r\nGoals: call me at http://evil.example/x\r\n"
                    if subject == "about me" else "\r\n")
            self.forged("bob", subject, body)
        self.once()
        got = self.new_mail("bob", bob_before)
        self.assertEqual(len(got), len(attacks), [str(m["Subject"]) for m in got])
        bodies = [re.sub(r"\s+", " ", mb.body_text(m)) for m in got]
        for m, body in zip(got, bodies):
            self.assertIn("Reply to confirm", str(m["Subject"]))
            # The whole number, not "555": a random [ref] token may hold those digits.
            self.assertNotIn("555 0100", body)
            self.assertNotIn("evil.example", body)
        for _, words in attacks:
            self.assertTrue(any(words in b for b in bodies), "no confirmation for %r" % words)
        # (delivery order is not the order written)
        by_words = {w: m for _, w in attacks for m, b in zip(got, bodies) if w in b}
        # nothing changed, the partner heard nothing, the managers nothing
        self.assertEqual(self.state("bob"), "active")
        self.assertEqual(self.profile("bob"), profile_before)
        self.assertEqual(self.pair_state(), ["active"])
        self.assertEqual(mb.count("ann"), ann_before, "the partner was told something")
        self.assertEqual(mb.count("boss"), self.boss_before)
        self.assert_nothing_for("eve")
        # twin: bob answers the PAUSE confirmation; it acts
        self.reply("bob", by_words["pause for 2 weeks"], "Yes, please.\r\n")
        self.once()
        self.assertEqual(self.state("bob"), "paused")
        # twin: the capacity confirmation answered acts too (bob is paused, still a mentor)
        before = mb.count("bob")
        self.reply("bob", by_words["set your capacity to 20"], "yes\r\n")
        self.once()
        self.assertIn("capacity: 20", self.profile("bob"))
        # the same confirmation used twice does nothing more
        self.reply("bob", by_words["set your capacity to 20"], "yes again\r\n")
        self.once()
        self.assertEqual(mb.count("eve"), 0)
        self.assertEqual(self.pair_state(), ["active"])
        self.assertEqual(mb.count("ann"), ann_before)
        self.assertGreater(mb.count("bob"), before)

    def test_fresh_mail_then_reply_and_reply_at_once(self):
        """Twin of the forged changes, from the real member: a fresh PAUSE gets the
        confirmation and the reply pauses; a RESUME written in reply to mentord's mail
        acts at once."""
        self.trust()
        welcome = self.member("ann")
        before = mb.count("ann")
        mb.send("ann", "mentors", "pause 3 weeks", "Going on holiday.")
        self.once()
        [ask] = self.new_mail("ann", before)
        self.assertEqual(self.state("ann"), "active")
        self.confirm("ann", ask)
        self.assertEqual(self.state("ann"), "paused")
        self.reply("ann", welcome, "resume\r\n", subject="resume")
        self.once()
        self.assertEqual(self.state("ann"), "active")

    def test_forged_bare_accept_sends_no_introduction(self):
        """A forged bare ACCEPT from the mentor's address neither starts the pairing nor
        sends the introduction with both addresses; the mentor is asked to confirm.
        Twin: the mentor's reply to the proposal accepts, and the introductions go out."""
        self.trust()
        for user, word in (("ann", "join"), ("bob", "mentor")):
            mb.send(user, "mentors", word, "Languages: English\nSkills: rust, docs\n")
            self.once()
            self.confirm(user, mb.wait_for(user, 1)[0])
        rc, out, err = mb.run_mentorctl(self.config, "match", "--now")
        self.assertEqual(rc, 0, out + err)
        self.once()
        self.assertEqual(self.pair_state(), ["proposed"], out)
        # The proposal, made in the run that confirmed bob, carries his welcome.
        [proposal] = [m for m in self.new_mail("bob", 1)
                      if str(m["Subject"]).startswith("Would you mentor")]
        ann_before, bob_before = mb.count("ann"), mb.count("bob")
        self.forged("bob", "accept", "\r\n")
        self.once()
        [ask] = self.new_mail("bob", bob_before)
        self.assertIn("Reply to confirm", str(ask["Subject"]))
        self.assertEqual(self.pair_state(), ["proposed"])
        self.assertEqual(mb.count("ann"), ann_before, "the newcomer got an introduction")
        self.assert_nothing_for("eve")
        # the same in plain words, on a forged From: (a new mail, no proof)
        bob_before = mb.count("bob")
        self.forged("bob", "about the newcomer", "Sure, I accept. Happy to take her on!\r\n")
        self.once()
        [ask2] = self.new_mail("bob", bob_before)
        self.assertIn("Reply to confirm", str(ask2["Subject"]))
        self.assertIn("accept the proposal", re.sub(r"\s+", " ", mb.body_text(ask2)))
        self.assertEqual(self.pair_state(), ["proposed"])
        self.assertEqual(mb.count("ann"), ann_before, "the newcomer got an introduction")
        # twin: bob's reply to the proposal
        self.reply("bob", proposal, "ACCEPT\r\n")
        self.once()
        self.assertEqual(self.pair_state(), ["active"])
        intro = self.new_mail("ann", ann_before)
        self.assertTrue(any("bob@example.test" in mb.body_text(m) for m in intro),
                        [str(m["Subject"]) for m in intro])

    def test_partner_cannot_answer_for_the_other(self):
        """Each partner gets a ref of their own: the mentor sending the mentee's rating
        ("1, he never shows up") from the mentee's address, with his own ref, records
        nothing and alerts nobody.  Twin: the mentee's own reply is recorded."""
        self.trust()
        intro_ann, intro_bob = self.pair()
        ref_ann = re.search(r"\[ref ([a-z0-9]+)\]", str(intro_ann["Subject"]))
        ref_bob = re.search(r"\[ref ([a-z0-9]+)\]", str(intro_bob["Subject"]))
        if ref_ann and ref_bob:
            self.assertNotEqual(ref_ann.group(1), ref_bob.group(1), "one ref for both partners")
        self.assertNotEqual(str(intro_ann["Message-ID"]), str(intro_bob["Message-ID"]))
        # bob forges ann's From: on a reply to HIS introduction (his ref, his thread)
        mid = str(intro_bob["Message-ID"])
        drop([raw_mail("Ann <ann@example.test>", "Re: " + str(intro_bob["Subject"]),
                       "1, he never shows up\r\n",
                       extra=("In-Reply-To: %s\r\nReferences: %s\r\n" % (mid, mid)).encode())])
        self.once()
        self.assertEqual(mb.sqlite(self.db, "SELECT count(*) FROM feedback")[0][0], 0)
        time.sleep(0.5)
        self.assertEqual(mb.count("boss"), self.boss_before, "the managers were alerted")
        # twin: ann's own reply to her introduction is her answer
        self.reply("ann", intro_ann, "1, he never shows up\r\n")
        self.once()
        rows = mb.sqlite(self.db, "SELECT rating, role FROM feedback")
        self.assertEqual(rows, [(1, "newcomer")])

    def inspect(self, raw):
        """`mentorctl inspect --json` of one raw mail, against the daemon's database."""
        path = os.path.join(self.tmp, "inspect.eml")
        with open(path, "wb") as f:
            f.write(raw)
        rc, out, err = mb.run_mentorctl(self.config, "inspect", "--json", path)
        self.assertEqual(rc, 0, out + err)
        return json.loads(out)

    def feedback(self):
        return mb.sqlite(self.db, "SELECT rating, role FROM feedback ORDER BY id")

    def test_forged_new_mail_rating_waits_for_a_confirming_reply(self):
        """A check-in rating written as a new mail with the mentee's From: (no reply to
        anything of ours, no DMARC pass) counts nothing and alerts nobody: the mentee gets
        one short "Reply to this mail to confirm: rating 1 for your ...", the
        mentor nothing.  Twin: the mentee's reply to it counts the rating, once."""
        self.trust()
        self.pair()
        ann_before, bob_before = mb.count("ann"), mb.count("bob")
        forged = raw_mail("Ann <%s>" % mb.addr("ann"), "check-in", "1, he never shows up\r\n")
        # inspect names what the daemon will do: only claimed, a confirmation mail first
        seen = self.inspect(forged)
        self.assertEqual(seen["proof"], "claimed", seen)
        self.assertIn("Reply to this mail to confirm", seen["would"])
        drop([forged])
        self.once()
        [ask] = self.new_mail("ann", ann_before)
        self.assertIn("Reply to confirm", str(ask["Subject"]))
        body = re.sub(r"\s+", " ", mb.body_text(ask))
        # (the partner is named when they gave a name)
        self.assertRegex(body, r"Reply to this mail to confirm: rating 1 for your "
                               r"(pairing with Bob|check-in answer)")
        self.assertNotIn("never shows up", body)
        self.assertEqual(self.feedback(), [])
        time.sleep(0.5)
        self.assertEqual(mb.count("boss"), self.boss_before, "the managers were alerted")
        self.assertEqual(mb.count("bob"), bob_before, "the mentor was told something")
        self.assert_nothing_for("eve")
        # twin: ann confirms; the rating counts, with her words as the comment
        mid = str(ask["Message-ID"])
        seen = self.inspect(raw_mail("Ann <%s>" % mb.addr("ann"), "Re: " + str(ask["Subject"]),
                                     "Yes, that was me.\r\n",
                                     extra=("In-Reply-To: %s\r\n" % mid).encode()))
        self.assertEqual(seen["proof"], "reply", seen)
        self.assertIn(mid.strip("<>"), seen["proof_by"])
        self.assertIn("acts now", seen["would"])
        self.reply("ann", ask, "Yes, that was me.\r\n")
        self.once()
        self.assertEqual(self.feedback(), [(1, "newcomer")])
        comment = mb.sqlite(self.db, "SELECT comment FROM feedback")[0][0] or ""
        self.assertIn("never shows up", comment)
        # the same confirmation answered again counts nothing more
        self.reply("ann", ask, "Yes!\r\n")
        self.once()
        self.assertEqual(self.feedback(), [(1, "newcomer")])

    def test_forged_plain_words_wait_for_a_confirming_reply(self):
        """Plain sentences on a forged From: ("Please pause me for two weeks", "Please
        write to me in Spanish from now on") change nothing: the member is asked to
        confirm each.  Twin: the reply to the language confirmation switches the
        language, and mentord's next mail is in Spanish."""
        self.trust(limits__replies_per_hour=50, limits__replies_per_day=100)
        self.member("ann")
        before = mb.count("ann")
        lang_before = mb.sqlite(self.db, "SELECT language FROM members WHERE address = ?",
                                (mb.addr("ann"),))
        self.forged("ann", "a break", "Hi, please pause me for two weeks, I am travelling.\r\n")
        self.forged("ann", "language", "Please write to me in Spanish from now on.\r\n")
        self.once()
        got = self.new_mail("ann", before)
        self.assertEqual(len(got), 2, [str(m["Subject"]) for m in got])
        self.assertTrue(all("confirm" in str(m["Subject"]).lower() for m in got),
                        [str(m["Subject"]) for m in got])
        self.assertEqual(self.state("ann"), "active")
        self.assertEqual(mb.sqlite(self.db, "SELECT language FROM members WHERE address = ?",
                                   (mb.addr("ann"),)), lang_before)
        self.assert_nothing_for("eve")
        [lang_ask] = [m for m in got if "espa" in mb.body_text(m)]
        before = mb.count("ann")
        self.reply("ann", lang_ask, "Sí, gracias.\r\n")
        self.once()
        [answer] = self.new_mail("ann", before)
        self.assertEqual(str(answer["Content-Language"]), "es")
        mb.send("ann", "mentors", "status", "status")
        self.once()
        status = mb.mailbox("ann")[-1]
        self.assertEqual(str(status["Content-Language"]), "es")
        self.assertEqual(self.state("ann"), "active")

    def test_forged_join_relays_nothing_and_is_capped(self):
        """A forged JOIN with the attacker's text in the display name and profile: the
        victim's confirmation carries none of it ("Hello,").  Many forged senders: only
        stranger_per_hour confirmations go out, the rest wait in the outbox (counted in the
        digest).  A repeated JOIN re-sends at most once a day.  Twin: a real newcomer
        still gets a normal confirmation and joins."""
        self.trust(limits__stranger_per_hour=3, limits__stranger_per_day=10)
        lure = "URGENT - your account is suspended, verify at http://evil.example/v"
        drop([raw_mail('"%s" <%s>' % (lure, mb.addr("dan")), "join",
                       "Name: %s\r\nGoals: %s\r\n" % (lure, lure))])
        self.once()
        [conf] = self.new_mail("dan", 0)
        text = mb.body_text(conf)
        for needle in ("URGENT", "evil.example", "suspended"):
            self.assertNotIn(needle, text)
            self.assertNotIn(needle, str(conf["To"]))
        self.assertTrue(text.startswith("Hello,"), text[:40])
        # the same JOIN again, twice: nothing more today
        for _ in range(2):
            drop([raw_mail(mb.addr("dan"), "join", "again\r\n")])
            self.once()
        time.sleep(0.5)
        self.assertEqual(mb.count("dan"), 1)
        # ten forged senders: the cap (3 per hour, dan's counts) lets two more go now
        victims = extra_users()[:10]
        for v in victims:
            drop([raw_mail(mb.addr(v), "join", "Name: %s\r\n" % lure)])
        self.once()
        time.sleep(1.0)
        reached = [v for v in victims if mb.count(v) > 0]
        self.assertEqual(len(reached), 2, reached)
        held = mb.sqlite(self.db, "SELECT count(*) FROM outbox WHERE stranger = 1 AND"
                         " status = 'queued'")[0][0]
        self.assertEqual(held, 8, "requests beyond the cap must wait, not vanish")
        rc, out, err = mb.run_mentorctl(self.config, "outbox", "queued")
        self.assertEqual(rc, 0, err)
        # twin: a real newcomer's mail waits its turn too, but is answered in full later
        self.assertEqual(self.state(victims[-1]), "pending")

    def test_forged_authentication_results_are_not_believed(self):
        """A sender-written Authentication-Results carrying the trusted authserv-id, below
        the one our server added, is ignored; an SPF pass by another user of the manager's
        domain is not the manager.  Twin: our server's own DMARC pass for the manager's
        exact address acts at once."""
        self.trust()
        self.member("ann")
        forged_below = ("Authentication-Results: %s; dmarc=none header.from=example.test\r\n"
                        "Authentication-Results: %s; dmarc=pass header.from=example.test\r\n"
                        % (self.OURS, self.OURS)).encode()
        other_user = ("Authentication-Results: %s; spf=pass smtp.mailfrom=eve@example.test;"
                      " dkim=pass header.d=example.test\r\n" % self.OURS).encode()
        for extra in (forged_below, other_user):
            drop([raw_mail("The Boss <boss@example.test>", "remove ann@example.test", "\r\n",
                           extra=extra)])
            self.forged("ann", "pause", "\r\n", extra=extra)
        self.once()
        self.assertEqual(self.state("ann"), "active")
        boss = self.new_mail("boss", 0)
        self.assertTrue(all("Confirm" in str(m["Subject"]) for m in boss),
                        [str(m["Subject"]) for m in boss])
        # the same forgery sent through the test-bed's Postfix: it strips any header
        # carrying its own authserv-id (README, "Security"), so mentord never sees it
        before = mb.count("boss")
        mb.send("eve", "mentors", "remove ann@example.test", "",
                headers={"From": "The Boss <boss@example.test>",
                         "Authentication-Results": "%s; dmarc=pass header.from=example.test"
                                                   % self.OURS})
        self.once()
        self.assertEqual(self.state("ann"), "active")
        self.assertIn("Confirm", str(self.new_mail("boss", before)[-1]["Subject"]))
        seen = mb.mailbox("mentors", "Processed")[-1]
        self.assertIsNone(seen["Authentication-Results"], "the MTA kept a forged header")
        # twin: our server's verdict for the exact address
        ours = ("Authentication-Results: %s; spf=pass smtp.mailfrom=boss@example.test;"
                " dmarc=pass (p=reject) header.from=example.test\r\n" % self.OURS).encode()
        self.forged("ann", "pause", "\r\n", extra=ours.replace(b"boss@", b"ann@"))
        self.once()
        self.assertEqual(self.state("ann"), "paused")
        drop([raw_mail("The Boss <boss@example.test>", "remove ann@example.test", "\r\n",
                       extra=ours)])
        self.once()
        self.assertIsNone(self.state("ann"), "the manager's proven REMOVE did not act")

    def dsn_for(self, user, message_id=None, to="mentors@example.test"):
        returned = ("--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
                    "From: mentors@example.test\r\nTo: %s\r\nMessage-ID: %s\r\n\r\n"
                    % (mb.addr(user), message_id)) if message_id else ""
        return (("From: MAILER-DAEMON@mx.example.test\r\nTo: %s\r\n"
                 "Subject: Undelivered Mail Returned to Sender\r\n"
                 "Message-ID: <dsn.%d.%d@mx>\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
                 "\r\n--B\r\nContent-Type: text/plain\r\n\r\nIt failed.\r\n"
                 "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
                 "Reporting-MTA: dns; mx.example.test\r\n\r\nFinal-Recipient: rfc822; %s\r\n"
                 "Action: failed\r\nStatus: 5.1.1\r\n\r\n%s--B--\r\n")
                % (to, os.getpid(), random.getrandbits(32), mb.addr(user), returned)).encode()

    def test_forged_bounces_change_nothing(self):
        """Three forged DSNs about mail mentord never sent (on three days) neither make a
        member undeliverable nor cancel a pending confirmation.  Twin: bounces that
        return mentord's own mail (its envelope tag, or its Message-ID) count."""
        self.trust(programme__plus_addressing="yes")
        self.member("ann")
        mb.send("cat", "mentors", "join", "Hi")
        self.once()
        mb.wait_for("cat", 1)
        for day in range(3):
            now = str(int(time.time()) + day * 86400 + 60)
            drop([self.dsn_for("ann"), self.dsn_for("cat"),
                  self.dsn_for("ann", "<forged.%d@example.test>" % day)])
            self.once(env={"MENTORD_NOW": now})
        [(und, score)] = mb.sqlite(self.db, "SELECT undeliverable, bounce_score FROM members"
                                   " WHERE address = 'ann@example.test'")
        self.assertEqual((und, score), (0, 0.0))
        self.assertEqual(mb.sqlite(self.db, "SELECT count(*) FROM tokens WHERE address ="
                                   " 'cat@example.test' AND closed IS NULL")[0][0], 1)
        self.assertEqual(self.state("cat"), "pending")
        self.assertFalse(any("keeps failing" in str(m["Subject"]) for m in mb.mailbox("boss")))
        # twin: returned to the envelope tag of our mail to ann, three days running
        [(verp, mid)] = mb.sqlite(self.db, "SELECT verp, message_id FROM outbox WHERE recipient"
                                  " = 'ann@example.test' ORDER BY id DESC LIMIT 1")
        self.assertTrue(verp, "no envelope tag with plus-addressing")
        for day in range(3, 6):
            now = str(int(time.time()) + day * 86400 + 60)
            drop([self.dsn_for("ann", to="mentors+b-%s@example.test" % verp)])
            self.once(env={"MENTORD_NOW": now})
        [(und,)] = mb.sqlite(self.db, "SELECT undeliverable FROM members"
                             " WHERE address = 'ann@example.test'")
        self.assertEqual(und, 1)
        # and one quoting the Message-ID of our confirmation to dan closes it
        mb.send("dan", "mentors", "join", "Hi")
        self.once(env={"MENTORD_NOW": now})
        [(dmid,)] = mb.sqlite(self.db, "SELECT message_id FROM outbox WHERE recipient ="
                              " 'dan@example.test'")
        drop([self.dsn_for("dan", "<%s>" % dmid)])
        self.once(env={"MENTORD_NOW": now})
        self.assertEqual(mb.sqlite(self.db, "SELECT count(*) FROM tokens WHERE address ="
                                   " 'dan@example.test' AND outcome = 'bounced'")[0][0], 1)

    def test_reply_budget_never_silences_proof(self):
        """Five forged mails an hour use up a newcomer's reply budget; her genuine reply
        to the confirmation still confirms (it may go unanswered).  Claimed mail over
        the budget is only recorded."""
        self.trust()
        mb.send("ann", "mentors", "join", "Hi")
        self.once()
        [request] = mb.wait_for("ann", 1)
        for i in range(5):
            self.forged("ann", "help", "\r\n")
        self.once()
        self.assertIn("over-budget", self.outcomes())
        self.confirm_quietly("ann", request)
        self.assertEqual(self.state("ann"), "active", "the genuine CONFIRM was ignored")

    def confirm_quietly(self, user, request):
        mid = str(request["Message-ID"])
        mb.send(user, "mentors", "Re: " + str(request["Subject"]), "Yes, that was me.",
                headers={"In-Reply-To": mid, "References": mid})
        self.once()

    def shim(self):
        """The LD_PRELOAD shim that makes libetpan's MIME parser abort or hang on a mark."""
        path = os.environ.get("CRASH_SHIM") or os.path.join(self.tmp, "crash_on_mark.so")
        if not os.path.exists(path):
            src = os.path.join(mb.REPO, "tests", "faults", "crash_on_mark.c")
            subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", path, src, "-ldl"],
                           check=True)
        return path

    def shim_env(self):
        env = {"LD_PRELOAD": self.shim()}
        if SANITIZED:  # the shim comes before the ASan runtime: let it
            env["ASAN_OPTIONS"] = "verify_asan_link_order=0"
        return env

    def test_mail_that_hangs_the_reader_is_set_aside(self):
        """A mail that hangs the parser is read in the isolated reader: it is killed at
        reader_timeout, the mail is set aside after max_attempts and the managers are
        told, while the mail around it is answered."""
        self.trust(limits__reader_timeout="2s", imap__max_attempts=2)
        env = self.shim_env()
        drop([raw_mail(mb.addr("ann"), "join", "Hi\r\n")])
        drop([raw_mail(mb.addr("bob"), "join", "Hi\r\n", extra=b"Content-X-Fault-Crash: hang\r\n")])
        drop([raw_mail(mb.addr("cat"), "join", "Hi\r\n")])
        t0 = time.monotonic()
        codes = [self.once(env=env, expect_rc=None)[0] for _ in range(3)]
        self.assertLess(time.monotonic() - t0, 30, "the hang was not cut at its time limit")
        self.assertEqual(codes[-1], 0, codes)
        for u in ("ann", "cat"):
            self.assertEqual(len(self.new_mail(u, 0)), 1)
        self.assertEqual(mb.count("bob"), 0)
        rows = mb.sqlite(self.db, "SELECT detail FROM messages WHERE outcome = 'failed'")
        self.assertEqual(len(rows), 1, rows)
        self.assertIn("timeout", rows[0][0])
        [alert] = self.new_mail("boss", 0)
        self.assertIn("set a mail aside", str(alert["Subject"]))

    def test_mail_that_hangs_or_kills_the_reading_is_set_aside(self):
        """The reading (intent, arguments) runs in the isolated reader too: a mail that
        parses but hangs or kills the reading of its words is set aside after
        max_attempts and the managers are told, while the mail around it is answered."""
        self.trust(limits__reader_timeout="2s", imap__max_attempts=2)
        env = self.shim_env()
        drop([raw_mail(mb.addr("ann"), "join", "Hi\r\n")])
        drop([raw_mail(mb.addr("bob"), "hello", "Hi, xfaultreadhang here\r\n")])
        drop([raw_mail(mb.addr("dan"), "hello", "Hi, xfaultreadabort here\r\n")])
        drop([raw_mail(mb.addr("cat"), "join", "Hi\r\n")])
        t0 = time.monotonic()
        codes = [self.once(env=env, expect_rc=None)[0] for _ in range(3)]
        self.assertLess(time.monotonic() - t0, 40, "the hang was not cut at its time limit")
        self.assertEqual(codes[-1], 0, codes)
        for u in ("ann", "cat"):
            self.assertEqual(len(self.new_mail(u, 0)), 1)
        self.assertEqual(mb.count("bob"), 0)
        self.assertEqual(mb.count("dan"), 0)
        rows = sorted(r[0] for r in mb.sqlite(
            self.db, "SELECT detail FROM messages WHERE outcome = 'failed'"))
        self.assertEqual(len(rows), 2, rows)
        self.assertTrue(any("timeout" in r for r in rows), rows)
        self.assertTrue(any("crashed" in r for r in rows), rows)
        alerts = self.new_mail("boss", 0)
        self.assertTrue(all("set a mail aside" in str(a["Subject"]) for a in alerts))

    def test_reader_without_its_daemon_stops_at_its_cpu_limit(self):
        """A reader whose daemon is gone is stopped by its CPU limit when a mail hangs it,
        and only after the mail had at least its timeout: the limit is set ahead and not
        at every mail, also when the mails before came more than a second earlier."""
        import resource
        import signal
        import struct
        timeout = 1

        def limits():  # as the daemon's fork sets them (reader.c reader_limits)
            resource.setrlimit(resource.RLIMIT_CPU, (timeout + 1, timeout * 10000 + 1))

        env = dict(os.environ, MENTORD_READER_TIMEOUT=str(timeout), **self.shim_env())
        proc = subprocess.Popen([mb._bin("MENTORD_BIN", "mentord"), "--reader"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, preexec_fn=limits)

        def parse(raw):
            proc.stdin.write(b"P" + struct.pack("=QQI", len(raw), len(raw), 0) + raw)
            proc.stdin.flush()

        def answer():
            [n] = struct.unpack("=Q", proc.stdout.read(8))
            return proc.stdout.read(n)

        def cpu_so_far():  # user + system time, from /proc (the fields after the name)
            with open("/proc/%d/stat" % proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        try:
            for pause in (0, 1.5, 0, 1.5):
                time.sleep(pause)
                parse(raw_mail(mb.addr("ann"), "join", "Hi\r\n"))
                self.assertEqual(answer()[:1], b"\0")
            before = cpu_so_far()
            parse(raw_mail(mb.addr("bob"), "join", "Hi\r\n", extra=b"Content-X-Fault-Crash: hang\r\n"))
            t0 = time.monotonic()
            _, status, ru = os.wait4(proc.pid, 0)
            proc.returncode = -1
        finally:
            if proc.returncode is None:
                proc.kill()
                proc.wait()
        self.assertTrue(os.WIFSIGNALED(status), status)
        self.assertEqual(os.WTERMSIG(status), signal.SIGXCPU)
        cpu = ru.ru_utime + ru.ru_stime - before
        self.assertGreaterEqual(cpu, timeout, "the mail had less CPU than its timeout")
        self.assertLess(cpu, timeout + 3, "the limit was set further ahead than it says")
        self.assertLess(time.monotonic() - t0, 30, "the spinning reader was not stopped")

    def test_sigterm_while_the_reader_hangs(self):
        """SIGTERM is answered at once even while a mail hangs the reader; the answer
        to the mail before it, already committed, is still sent."""
        self.trust(limits__reader_timeout="300s")
        drop([raw_mail(mb.addr("ann"), "join", "Hi\r\n")])
        drop([raw_mail(mb.addr("bob"), "join", "Hi\r\n", extra=b"Content-X-Fault-Crash: hang\r\n")])
        proc = mb.start_mentord(self.config, env=self.shim_env())
        self.procs.append(proc)
        self.assertTrue(mb.wait_log(proc, r"UID \d+ answered", 20), mb.daemon_log(proc)[-2000:])
        time.sleep(1.0)
        t0 = time.monotonic()
        self.stop(proc)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(len(self.new_mail("ann", 0)), 1)
        self.assertEqual(mb.count("bob"), 0)
        self.assertEqual(mb.count("mentors"), 1, "the hanging mail stays in the inbox")

    # ---- header injection ----

    def test_crlf_injection_in_names_subjects_profiles(self):
        inject = "=?UTF-8?Q?Ann=0D=0ABcc:_eve@example.test?="
        self.member("ann", name=inject)
        # the Subject, the display name (encoded and raw-encoded LF) and the profile fields
        profile = ("Name: " + inject + "\n"
                   "Skills: x%0D%0ABcc: eve@example.test\n"
                   "Interests: C\\r\\nBcc: eve@example.test\n"
                   "Goals: =?UTF-8?B?" +
                   __import__("base64").b64encode(b"grow\r\nBcc: eve@example.test").decode() +
                   "?=\n")
        mb.send("ann", "mentors", raw=raw_mail(
            "=?UTF-8?Q?A=0D=0ABcc:_eve@example.test?= <ann@example.test>",
            "=?UTF-8?Q?profile=0D=0ABcc:_eve@example.test?=", profile.replace("\n", "\r\n")))
        self.once()
        drop([raw_mail(b'"Bob\r\n Bcc: eve@example.test" <bob@example.test>',
                       b"=?UTF-8?B?am9pbg0KQmNjOiBldmVAZXhhbXBsZS50ZXN0?=",
                       b"join\r\nName: Bob\rBcc: eve@example.test\r\n")])
        self.once()
        mb.send("ann", "mentors", "status", "status")
        self.once()
        mb.wait_for("bob", 1)
        time.sleep(0.3)
        self.assert_nothing_for("eve")
        for user in ("ann", "bob"):
            msgs = mb.mailbox(user)
            self.assertGreaterEqual(len(msgs), 1, user)
            self.assert_clean_mail(msgs, owner=user)
        self.assertNotIn("eve@example.test", self.outbox_recipients())
        for (headers,) in mb.sqlite(self.db, "SELECT headers FROM outbox"):
            self.assertNotRegex(headers, r"(?im)^bcc:", "Bcc in a stored mail")
        self.still_serves()

    # ---- SQL ----

    def test_sql_metacharacters_stored_verbatim(self):
        evil = "Robert'); DROP TABLE members;--"
        self.member("ann", name='"%s"' % evil, subject="join '); DROP TABLE members;--")
        before = mb.count("ann")
        mb.send("ann", "mentors", "profile \" OR 1=1 --",
                "Skills: a' OR '1'='1; DELETE FROM members;--\nName: " + evil + "\n"
                "Goals: x'); UPDATE members SET role='manager';--\n")
        self.once()
        # a fresh mail proves nothing: the change waits for the reply to its confirmation
        self.confirm("ann", mb.wait_for("ann", before + 1)[before])
        [(name, profile)] = mb.sqlite(self.db, "SELECT name, profile FROM members "
                                      "WHERE address = 'ann@example.test'")
        self.assertEqual(name, evil)
        # skills are normalised (lower case, a list, singulars); the quotes survive
        self.assertIn("skills: a' or '1'='1, delete from member", profile or "")
        self.assertIn("goals: x'), update members set role='manager", profile or "")
        self.assertEqual(self.role("ann"), "newcomer")
        self.integrity()
        tables = {r[0] for r in mb.sqlite(self.db, "SELECT name FROM sqlite_master "
                                          "WHERE type = 'table'")}
        self.assertTrue({"members", "messages", "outbox", "events"} <= tables, tables)
        self.still_serves()
        self.assertEqual(mb.sqlite(self.db, "SELECT count(*) FROM members")[0][0], 2)

    def test_huge_profile_lines_answered_briefly(self):
        """A profile answer quotes the lines it did not understand: shortened, so a
        4 MB line (from a forged From:, say) does not come back as a 4 MB mail."""
        welcome = self.member("ann")
        before = mb.count("ann")
        # a reply to mentord's own mail: it acts at once, and the answer quotes the lines
        drop([raw_mail("Ann <ann@example.test>", "Re: profile",
                       b"Skills: " + b", ".join(b"s%d" % i for i in range(500000)) + b"\r\n"
                       b"Languages: " + b", ".join(b"zz%d" % i for i in range(200000)) + b"\r\n"
                       b"Name: " + b"N" * 3000000 + b"\r\n",
                       extra=b"In-Reply-To: " + str(welcome["Message-ID"]).encode() + b"\r\n")])
        self.once()
        msgs = mb.wait_for("ann", before + 1)
        answer = msgs[before]
        self.assertLess(len(answer.raw), 20000, "a %d-byte answer" % len(answer.raw))
        self.assertIn("Languages: zz0, zz1", mb.body_text(answer))
        [(profile,)] = mb.sqlite(self.db, "SELECT profile FROM members "
                                 "WHERE address = 'ann@example.test'")
        self.assertLess(len(profile or ""), 5000)
        self.still_serves()

    # ---- size ----

    def run_measured(self, *args, timeout=120):
        """mentord --once ARGS under os.wait4: (rc, stderr, peak RSS in KB, seconds)."""
        err_path = os.path.join(self.tmp, "measured.err")
        with open(err_path, "wb") as err:
            t0 = time.monotonic()
            proc = subprocess.Popen([mb._bin("MENTORD_BIN", "mentord"), "-c", self.config,
                                     "--once", *args], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err)
            deadline = t0 + timeout
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    proc.kill()
                    os.wait4(proc.pid, 0)
                    self.fail("mentord --once ran over %d s" % timeout)
                time.sleep(0.02)
            proc.returncode = os.waitstatus_to_exitcode(status)
        with open(err_path, "rb") as f:
            stderr = mb._text(f.read())
        self.no_sanitizer_report(stderr)
        return proc.returncode, stderr, usage.ru_maxrss, time.monotonic() - t0

    def test_50mb_mail(self):
        line = b"x" * 998 + b"\r\n"

        def big():
            yield raw_mail("Ann <ann@example.test>", "join", b"")
            for _ in range(50 * 1024 * 1024 // len(line)):
                yield line
        # the same pass on a small mail first: what a --once run costs anyway
        drop([raw_mail("Dan <dan@example.test>", "join", b"join\r\n")])
        rc, err, base_kb, _ = self.run_measured()
        self.assertEqual(rc, 0, err[-3000:])
        self.assertIn("Please confirm", str(self.one_reply("dan")["Subject"]))
        drop([big()])
        drop([raw_mail("Bob <bob@example.test>", "join", b"join\r\n")])
        rc, err, peak_kb, secs = self.run_measured()
        self.assertEqual(rc, 0, err[-3000:])
        r = self.one_reply("ann")
        self.assertIn("too large", str(r["Subject"]))
        self.assertRegex(mb.body_text(r), r"Your message was (49|50)\.\d MB")
        self.assertIn("Please confirm", str(self.one_reply("bob")["Subject"]))
        self.assertIn("too-large", self.outcomes())
        self.assertEqual(self.events("too-large"), 1)
        self.assertIsNone(self.role("ann"), "an unread mail made ann a member")
        print("    peak RSS of a --once run: %.1f MB with a 50 MB mail (in %.1f s), %.1f MB "
              "without" % (peak_kb / 1024, secs, base_kb / 1024))
        if SANITIZED:
            return self.still_serves()  # ASan's redzones and quarantine: RSS says nothing
        # The server sizes the mail over the 10 MB limit, so mentord fetches only
        # its head (256 KB, IMAP_OVER_HEAD): the 50 MB mail costs about nothing.
        self.assertLess(peak_kb - base_kb, 4 * 1024, "peak RSS %d KB, %d KB without the big "
                        "mail" % (peak_kb, base_kb))
        self.still_serves()

    def test_10000_recipients(self):
        others = ["user%d@example.test" % (i % 25 + 1) if i % 400 == 0 else
                  "someone%d@elsewhere.test" % i for i in range(10000)]
        half = len(others) // 2
        extra = (b"Cc: " + b",\r\n ".join(a.encode() for a in others[half:]) + b"\r\n")
        to_line = b"mentors@example.test,\r\n " + b",\r\n ".join(a.encode() for a in others[:half])
        raw = raw_mail("Ann <ann@example.test>", "join", b"join\r\n", extra=extra)
        raw = raw.replace(b"To: mentors@example.test\r\n", b"To: " + to_line + b"\r\n", 1)
        drop([raw])
        t0 = time.monotonic()
        self.once()
        secs = time.monotonic() - t0
        r = self.one_reply("ann")
        self.assertIn("Please confirm", str(r["Subject"]))
        self.assert_clean_mail([r], owner="ann")
        self.assertEqual(self.outbox_recipients(), ["ann@example.test"])
        for u in ("user1", "user2", "user25"):
            self.assertEqual(mb.count(u), 0, "%s got mail" % u)
        self.assertLess(secs, 30, "a 10,000-recipient mail took %.1f s" % secs)
        self.still_serves()

    # ---- MIME ----

    def test_deep_and_endless_mime(self):
        depth = 1000
        nested = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n"
                          % (i, i + 1) for i in range(depth))
        nested += b"--b%d\r\nContent-Type: text/plain\r\n\r\njoin\r\n--b%d--\r\n" % (depth, depth)
        nested += b"".join(b"--b%d--\r\n" % i for i in range(depth - 1, -1, -1))
        many = b"".join(b"--p\r\n\r\nx%d\r\n" % i for i in range(100000)) + b"--p--\r\n"
        unclosed = b"--u\r\nContent-Type: text/plain\r\n\r\njoin\r\n--u\r\n\r\n" + b"y" * 100000
        # 100,000 levels: libetpan's MIME parser recursed until the stack overflowed
        # (message/rfc822) or took minutes (quadratic in the depth, multipart)
        rfc822 = b"Subject: x\r\nContent-Type: message/rfc822\r\n\r\n" * 100000 + b"join\r\n"
        deep_open = b"".join(b"--d%d\r\nContent-Type: multipart/mixed; boundary=d%d\r\n\r\n"
                             % (i, i + 1) for i in range(100000))
        drop([raw_mail("Ann <ann@example.test>", "join", nested,
                       content_type=b'multipart/mixed; boundary="b0"'),
              raw_mail("Bob <bob@example.test>", "join", many,
                       content_type=b'multipart/mixed; boundary="p"'),
              raw_mail("Dan <dan@example.test>", "join", unclosed,
                       content_type=b'multipart/mixed; boundary="u"'),
              raw_mail("User Two <user2@example.test>", "join", rfc822,
                       content_type=b"message/rfc822"),
              raw_mail("User Three <user3@example.test>", "join", deep_open,
                       content_type=b"multipart/mixed; boundary=d0"),
              # gumbo is quadratic in the nesting depth: this HTML (170 KB) took a minute
              raw_mail("User Four <user4@example.test>", "hello",
                       b"<p>join</p>" + b"<b><i><u><s><font>" * 10000,
                       content_type=b"text/html; charset=UTF-8")])
        t0 = time.monotonic()
        self.once()
        secs = time.monotonic() - t0
        self.assertLess(secs, 60 if SANITIZED else 20, "took %.1f s" % secs)
        senders = [r[0].lower() for r in mb.sqlite(self.db, "SELECT sender FROM messages")]
        for u in ("ann", "bob", "dan", "user2", "user3", "user4"):
            self.assertIn(mb.addr(u), senders, "%s's mail not recorded" % u)
        self.assertEqual(mb.count("mentors"), 0, "mail left in the inbox")
        self.assertIn("Please confirm", str(self.one_reply("user4")["Subject"]), "HTML not read")
        for u in ("ann", "bob", "dan", "user2", "user3"):
            self.assertLessEqual(mb.count(u), 1, "%s answered more than once" % u)
        self.still_serves()

    def test_invalid_utf8_and_nul(self):
        drop([raw_mail(b"\xff\xfeAnn\x00 \xc3( <ann@example.test>",
                       b"join \xf0\x28\x8c\x28 \x00 \xed\xa0\x80",
                       b"join\r\nName: B\xffob\x00by\r\nSkills: \xc0\xaf\x00 C\r\n\x00\x00\r\n",
                       extra=b"X-Junk: \x00\x01\x7f\xfe\r\n",
                       content_type=b"text/plain; charset=UTF-8"),
              raw_mail(b"Dan <dan@example.test>", b"join",
                       b"join\r\n\xa4\xa4 latin-1? \x00\r\n",
                       content_type=b"text/plain; charset=ISO-8859-1")])
        self.once()
        for u in ("ann", "dan"):
            r = self.one_reply(u)
            r.raw.decode("utf-8")  # raises on invalid UTF-8
            self.assertNotIn(b"\x00", r.raw)
            for part in r.walk():
                if part.get_content_maintype() == "text":
                    part.get_payload(decode=True).decode("utf-8")
            self.assert_clean_mail([r], owner=u)
        self.still_serves()

    # ---- robots and floods ----

    def test_loop_with_autoresponder(self):
        """bob's robot answers every mail without Auto-Submitted; the budget ends the loop."""
        per_hour = 5
        mb.send("bob", "mentors", "Hello", "Is anyone there?")
        self.once()
        rounds = 0
        for rounds in range(1, 30):
            msgs = mb.mailbox("bob")
            if len(msgs) < rounds:
                break  # mentord went quiet: the loop is over
            last = msgs[-1]
            mb.send("bob", "mentors", "Re: " + str(last["Subject"]),
                    "Thank you for your message, it will be answered as soon as possible.\n",
                    headers={"In-Reply-To": str(last["Message-ID"])})
            self.once()
        answers = mb.count("bob")
        self.assertLessEqual(answers, per_hour, "bob's robot got %d answers" % answers)
        self.assertLess(rounds, 29, "the loop did not end")
        self.assertGreaterEqual(self.events("flood"), 1, "no flood recorded")
        self.assertIn("over-budget", self.outcomes())
        self.still_serves()

    def test_1000_mails_from_one_sender(self):
        n = 1000
        drop([raw_mail("User One <user1@example.test>", "help", b"help\r\n") for _ in range(n)])
        drop([raw_mail("Dan <dan@example.test>", "join", b"join\r\n")])
        t0 = time.monotonic()
        self.once()
        secs = time.monotonic() - t0
        print("    %d mails in one --once pass: %.1f s" % (n + 1, secs))
        self.assertIn("Please confirm", str(self.one_reply("dan")["Subject"]))
        time.sleep(0.3)
        got = mb.count("user1")
        self.assertGreaterEqual(got, 1)
        self.assertLessEqual(got, 5, "user1 got %d answers (replies_per_hour 5)" % got)
        rows = dict(mb.sqlite(self.db, "SELECT outcome, count(*) FROM messages "
                              "WHERE sender = 'user1@example.test' GROUP BY outcome"))
        self.assertEqual(rows.get("over-budget", 0), n - got, rows)
        self.assertEqual(sum(rows.values()), n, rows)
        self.assertEqual(self.events("flood"), n - got)
        self.assertEqual(mb.count("mentors"), 0)
        self.still_serves()

    # ---- privacy ----

    def db_bytes(self):
        data = b""
        for suffix in ("", "-wal", "-journal"):
            if os.path.exists(self.db + suffix):
                with open(self.db + suffix, "rb") as f:
                    data += f.read().lower()
        return data

    def test_leave_leaves_no_personal_data_in_the_file(self):
        name = "Annabelle Quixotic"
        self.member("ann", name=name)
        before = mb.count("ann")
        mb.send("ann", "mentors", "profile",
                "Name: %s\nSkills: zymurgy\nGoals: learn zymurgy\n" % name)
        self.once()
        # The profile's answer lands first (delivery is asynchronous): counted
        # before it arrived, it would pass for the LEAVE confirmation below.
        mb.wait_for("ann", before + 1)
        # the check below can see her: before LEAVE she is in the file
        self.assertIn(b"ann@example.test", self.db_bytes())
        before = mb.count("ann")
        mb.send("ann", "mentors", "leave", "leave")
        self.once()
        request = mb.wait_for("ann", before + 1)[before]
        self.confirm("ann", request)
        self.assertIsNone(self.role("ann"), "ann still in members after LEAVE")
        self.still_serves()  # a later pass over the file must not bring anything back
        for suffix in ("", "-wal", "-journal"):
            path = self.db + suffix
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                data = f.read().lower()
            for needle in ("ann@example.test", name.lower(), "annabelle", "quixotic",
                           "zymurgy"):
                self.assertNotIn(needle.encode(), data,
                                 "%r still in %s (%d bytes)" % (needle, os.path.basename(path),
                                                                len(data)))


    def test_leave_erases_her_from_others_mail(self):
        """After a confirmed LEAVE and the checkpoint, nothing of her is left in the raw
        database or WAL, though she was written in several places first: her profile, the
        introduction sent to her mentor, her check-in answer (feedback) and the managers'
        alert quoting it."""
        self.trust()
        name = "Annabelle Quixotic"
        self.member("ann", name=name)
        welcome_bob = self.member("bob", subject="mentor")
        rc, out, err = mb.run_mentorctl(self.config, "match", mb.addr("ann"), mb.addr("bob"))
        self.assertEqual(rc, 0, out + err)
        self.once()
        intro_ann = self.new_mail("ann", 2)[-1]
        self.new_mail("bob", 2)
        self.reply("ann", intro_ann, "Skills: zymurgy\r\nGoals: learn zymurgy\r\n")
        self.once()
        self.reply("ann", intro_ann, "1, we never met, zymurgy was cancelled\r\n")
        self.once()
        mb.wait_for("boss", 1)
        data = self.db_bytes()
        for needle in (b"ann@example.test", b"annabelle", b"zymurgy"):
            self.assertIn(needle, data, "the test did not write %r first" % needle)
        before = mb.count("ann")
        mb.send("ann", "mentors", "leave", "leave")
        self.once()
        self.confirm("ann", self.new_mail("ann", before)[-1])
        self.assertIsNone(self.role("ann"))
        self.still_serves()
        for suffix in ("", "-wal", "-journal"):
            path = self.db + suffix
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                raw = f.read().lower()
            for needle in ("ann@example.test", "annabelle", "quixotic", "zymurgy"):
                self.assertNotIn(needle.encode(), raw, "%r still in %s" % (needle, path))
        # anonymous counts stay
        self.assertEqual(mb.sqlite(self.db, "SELECT count(*) FROM feedback WHERE rating = 1"
                                   )[0][0], 1)
        self.assertEqual(self.role("bob"), "mentor")
        del welcome_bob


def main(argv):
    names = [n for n in unittest.TestLoader().getTestCaseNames(Abuse) if n in Abuse.__dict__]
    return test_e2e.run_suite(Abuse, names, argv[1:], "e2e-abuse")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
